#!/usr/bin/env bash
# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# A/B of two example-server binaries at fan-out saturation: runs alternate A, B, A, B ... so that
# the machine's drift hits both alike, and the medians are compared. For a change whose effect is
# smaller than the spread of one `make bench` case (up to 30% here).
#
#   bench/load/ab.sh BUILD_DIR SERVER_A SERVER_B [SERVER ARGUMENTS...]
#
# BUILD_DIR provides the loadgen; SERVER_A and SERVER_B are social_server binaries (copy one aside
# before rebuilding the other). The arguments go to both servers, after `--presence scoped --rate 0`.
# Environment: RUNS (each; 5), SUBSCRIBERS (1000), SECONDS_EACH (3), WORKLOAD (the loadgen's
# workload and its options; "--workload saturation", the many-senders shape; e.g. "--workload
# publish --window 64" for one publisher).
# Besides deliveries/s it prints the medians of deliveries per send call and per CPU second of the
# server (the latter steadier than deliveries/s on a machine others use too).

set -euo pipefail

build=$(realpath -m "${1:?usage: bench/load/ab.sh BUILD_DIR SERVER_A SERVER_B [SERVER ARGUMENTS...]}")
binaries=("$(realpath "${2:?SERVER_A missing}")" "$(realpath "${3:?SERVER_B missing}")")
shift 3
runs=${RUNS:-5} subscribers=${SUBSCRIBERS:-1000} seconds=${SECONDS_EACH:-3}
read -r -a workload <<< "${WORKLOAD:---workload saturation}"
# shellcheck source=server_control.sh
. "$(dirname "${BASH_SOURCE[0]}")/server_control.sh"

# saturation BINARY [SERVER ARGUMENTS...]: "deliveries/s per-send per-cpu-second" of one run against a fresh server.
saturation() {
    local binary=$1 line
    shift
    port=$((port + 1))
    "${server_cpu[@]}" "$binary" --port "$port" --threads 1 --jwt-secret "$secret" --presence scoped --rate 0 "$@" \
        > /dev/null 2>&1 &
    server_pid=$!
    wait_for_port
    line=$("${client_cpu[@]}" timeout 120 "$build/bench/load/loadgen" "${workload[@]}" --clients "$subscribers" \
        --seconds "$seconds" --port "$port" --secret "$secret" --server-pid "$server_pid" 2> /dev/null) || line=""
    stop_server
    awk '{ for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] } }
         END { printf "%d %.2f %d\n", v["deliveries_per_s"], v["deliveries_per_send"], v["deliveries_per_cpu_s"] }' \
        <<< "$line"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a ? b / a : 0 }'; }

declare -a rate_a rate_b send_a send_b cpu_a cpu_b
for run in $(seq "$runs"); do
    read -r r s c <<< "$(saturation "${binaries[0]}" "$@")"
    rate_a+=("$r") send_a+=("$s") cpu_a+=("$c")
    read -r r s c <<< "$(saturation "${binaries[1]}" "$@")"
    rate_b+=("$r") send_b+=("$s") cpu_b+=("$c")
    echo "run $run: A ${rate_a[-1]} (${send_a[-1]}/send)  B ${rate_b[-1]} (${send_b[-1]}/send)"
done
for figure in rate send cpu; do
    declare -n of_a="${figure}_a" of_b="${figure}_b"
    median_a=$(median "${of_a[@]}") median_b=$(median "${of_b[@]}")
    case $figure in
    rate) label="deliveries/s" ;;
    send) label="deliveries per send call" ;;
    cpu) label="deliveries per server CPU second" ;;
    esac
    echo "${workload[*]}, $subscribers subscribers, $label, medians of $runs:" \
        "A $median_a  B $median_b  B/A $(ratio "$median_a" "$median_b")"
done
