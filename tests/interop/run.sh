#!/bin/bash
# permessage-deflate interop: Python websockets (with its default compression, and offering nothing), Node ws
# and Chromium against the echo server (deflate_echo_server.cpp) on a free loopback port.
#   tests/interop/run.sh BUILD_DIR     (BUILD_DIR has the target switchboard_deflate_echo_server built)
# Needs /usr/bin/python3 with python3-websockets, and `npm ci` in tests/interop (ws, playwright-core; run.sh does
# it when node_modules is missing, with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1: Debian's chromium is used).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server="$1/tests/switchboard_deflate_echo_server"
[ -x "$server" ] || { echo "build the target switchboard_deflate_echo_server in $1 first" >&2; exit 2; }
[ -d "$here/node_modules" ] || (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" "$port" $((1 << 20)) > "${TMPDIR:-/tmp}/deflate_echo_server.$port.log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    grep -q listening "${TMPDIR:-/tmp}/deflate_echo_server.$port.log" && break
    sleep 0.1
done

url="ws://127.0.0.1:$port/"
timeout 60 /usr/bin/python3 "$here/deflate_client.py" "$url"
timeout 60 /usr/bin/python3 "$here/deflate_client.py" "$url" --no-compression
(cd "$here" && timeout 60 node deflate_client.mjs "$url")
(cd "$here" && timeout 90 node deflate_chromium.mjs "$url")
echo "interop: all clients ok"
