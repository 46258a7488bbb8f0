#!/bin/bash
# permessage-deflate interop: Python websockets (with its default compression, and offering nothing), Node ws and
# Chromium against the social_server program on a free loopback port (ctest's label "interop").
#   tests/interop/run.sh SOCIAL_SERVER     (the program's path)
# Needs /usr/bin/python3 with python3-websockets, and `npm ci` in tests/interop (ws, playwright-core; run.sh does
# it when node_modules is missing, with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1: Debian's chromium is used).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server="$1"
[ -x "$server" ] || { echo "usage: $0 SOCIAL_SERVER (the built program)" >&2; exit 2; }
[ -d "$here/node_modules" ] || (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)

secret=interop-secret-0123456789abcdef0123456789
log=$(mktemp "${TMPDIR:-/tmp}/social_server.interop.XXXXXX")
# 1 MiB messages: the clients' largest is 200 KB, and their bomb inflates to 4 MiB.
"$server" --port 0 --jwt-secret "$secret" --max-message-size $((1 << 20)) > "$log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; rm -f "$log"' EXIT
port=
for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on ws://127.0.0.1:\([0-9]*\)/ws.*|\1|p' "$log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "social_server did not start:" >&2; cat "$log" >&2; exit 1; }
token=$("$server" token "$(cat /proc/sys/kernel/random/uuid)" --jwt-secret "$secret")

url="ws://127.0.0.1:$port/ws?token=$token"
timeout 60 /usr/bin/python3 "$here/deflate_client.py" "$url"
timeout 60 /usr/bin/python3 "$here/deflate_client.py" "$url" --no-compression
(cd "$here" && timeout 60 node deflate_client.mjs "$url")
(cd "$here" && timeout 90 node deflate_chromium.mjs "$url")
echo "interop: all clients ok"
