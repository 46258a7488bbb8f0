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
# before rebuilding the other). The arguments go to both servers, after `--presence scoped`.
# Environment: RUNS (each; 5), SUBSCRIBERS (1000), SECONDS_EACH (3).

set -euo pipefail

build=$(realpath -m "${1:?usage: bench/load/ab.sh BUILD_DIR SERVER_A SERVER_B [SERVER ARGUMENTS...]}")
binaries=("$(realpath "${2:?SERVER_A missing}")" "$(realpath "${3:?SERVER_B missing}")")
shift 3
runs=${RUNS:-5} subscribers=${SUBSCRIBERS:-1000} seconds=${SECONDS_EACH:-3}
# shellcheck source=server_control.sh
. "$(dirname "${BASH_SOURCE[0]}")/server_control.sh"

# saturation BINARY [SERVER ARGUMENTS...]: deliveries/s of one run against a fresh server.
saturation() {
    local binary=$1 line
    shift
    port=$((port + 1))
    "${server_cpu[@]}" "$binary" --port "$port" --threads 1 --jwt-secret "$secret" --presence scoped "$@" \
        > /dev/null 2>&1 &
    server_pid=$!
    wait_for_port
    line=$("${client_cpu[@]}" timeout 120 "$build/bench/load/loadgen" --workload saturation --clients "$subscribers" \
        --seconds "$seconds" --port "$port" --secret "$secret" --server-pid "$server_pid") || line=""
    stop_server
    grep -o 'deliveries_per_s=[0-9]*' <<< "$line" | cut -d= -f2 || echo 0
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

a=() b=()
for run in $(seq "$runs"); do
    a+=("$(saturation "${binaries[0]}" "$@")")
    b+=("$(saturation "${binaries[1]}" "$@")")
    echo "run $run: A ${a[-1]}  B ${b[-1]}"
done
median_a=$(median "${a[@]}") median_b=$(median "${b[@]}")
echo "fan-out saturation, $subscribers subscribers, deliveries/s, medians of $runs:" \
    "A $median_a  B $median_b  B/A $(awk -v a="$median_a" -v b="$median_b" 'BEGIN { printf "%.2fx", a ? b / a : 0 }')"
