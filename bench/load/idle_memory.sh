#!/usr/bin/env bash
# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# The idle-memory case of the side-by-side benchmark alone (issue 4), without the 20-minute
# `make bench`: the example server (--presence scoped) and the bare websocketpp baseline, each
# started fresh, each holding 1,000 .. 19,000 idle connections from bench/load's loadgen.
# Prints bytes of server RSS per connection at each size and the least-squares slope.
#
#   bench/load/idle_memory.sh BUILD_DIR [SERVER...]      (SERVER: switchboard websocketpp; both by default)
#
# Environment: SIZES (1000,5000,10000,19000), HOLD (seconds the connections stay open after the
# last size; 0), WRAP (a command the server runs under, e.g. "heaptrack -o /tmp/sb"), SERVER_ARGS
# (more arguments for the example server), PRESENCE (the example server's --presence: scoped),
# STORM=1 (each size's new connections connect at once, a connect storm, settled before measuring:
# loadgen's idle-after-storm workload; STORM_TIMEOUT seconds per size, 120).
# The build needs the targets social_server, loadgen and wspp_baseline.

set -euo pipefail

build=$(realpath -m "${1:?usage: bench/load/idle_memory.sh BUILD_DIR [SERVER...]}")
shift
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(switchboard websocketpp)
sizes=${SIZES:-1000,5000,10000,19000}
hold=${HOLD:-0}
presence=${PRESENCE:-scoped}
workload=(--workload idle)
[ "${STORM:-0}" = 1 ] && workload=(--workload idle-after-storm --timeout "${STORM_TIMEOUT:-120}")
read -r -a wrap <<< "${WRAP:-}"
read -r -a server_args <<< "${SERVER_ARGS:-}"
# The measured server may run under a wrapper (WRAP): it is the one signalled, and heaptrack needs
# time to write its data when it stops.
stop_wait=300 listen_wait=300
# shellcheck source=server_control.sh
. "$(dirname "${BASH_SOURCE[0]}")/server_control.sh"

# The pid whose RSS counts: the server itself, not a wrapper (heaptrack runs it as a descendant).
measured_pid() {
    local name=$1 pids next
    for _ in $(seq 100); do
        pids=$server_pid
        while [ -n "$pids" ]; do
            for p in $pids; do
                [ "$(cat "/proc/$p/comm" 2> /dev/null)" = "$name" ] && { echo "$p"; return; }
            done
            next=""
            for p in $pids; do next="$next $(cat /proc/"$p"/task/*/children 2> /dev/null)"; done
            pids=$(echo $next)
        done
        sleep 0.1
    done
    echo "no $name process under $server_pid" >&2
    return 1
}

for server in "${servers[@]}"; do
    port=$((port + 1))
    case $server in
    switchboard)
        program=$build/examples/social_server/social_server
        command=("$program" --port "$port" --threads 1 --jwt-secret "$secret" --presence "$presence" "${server_args[@]}") ;;
    websocketpp)
        program=$build/bench/load/wspp_baseline
        command=("$program" --port "$port" --jwt-secret "$secret" --presence none) ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
    esac
    "${server_cpu[@]}" "${wrap[@]}" "${command[@]}" > "$build/idle-$server.log" 2>&1 &
    server_pid=$!
    wait_for_port
    signal_pid=$(measured_pid "$(basename "$program" | cut -c1-15)")
    line=$("${client_cpu[@]}" timeout 600 "$build/bench/load/loadgen" "${workload[@]}" --port "$port" --secret "$secret" \
        --server-pid "$signal_pid" --steps "$sizes" --hold "$hold" 2>> "$build/idle-loadgen.log") || line="error=loadgen_failed"
    stop_server
    echo "$server $line"
done
