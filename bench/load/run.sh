#!/usr/bin/env bash
# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# The side-by-side WebSocket benchmark (issues 4 and 12): the same workloads, driven by bench/load's
# own load generator, against the example server (switchboard) and three baselines built here: bare
# websocketpp sending with send(hdl, text), the same framing each broadcast once, and Node.js `ws`.
# Fan-out runs in two shapes at saturation: many senders (up to 400, 15/s each), and one publisher
# keeping K broadcasts outstanding (counted by its own copy), over WebSocket and through
# `POST /api/publish`; perf counts the servers' system calls there, when it can. Fan-out also runs
# switchboard with --tcp-nodelay off, to show what TCP_NODELAY costs. Prints one table per workload
# with ratios switchboard/baseline and writes bench/results/ (results.txt, raw.txt, latency.png).
# permessage-deflate (issue 16): 1 KiB JSON broadcasts at saturation to 1,000 clients that negotiated
# it, against as many plain clients of the same server (compression on), alternating.
# Idle memory runs in every presence mode, quiet and after a connect storm (switchboard only).
# switchboard runs with its default --history memory; the direct workload runs again with
# --history off (switchboard-no-history), and a resume of 1,000 missed messages is timed.
# Clustering (issue 14, cluster.sh): two nodes on a Redis of their own, cross-node direct, broadcast
# and a connect storm, and Redis' PUBLISH ceiling.
#
#   bench/load/run.sh BUILD_DIR        (`make bench` passes build-bench)
#
# Environment: REPS (repetitions of the throughput and latency workloads, median reported; 3),
# QUICK=1 (small sizes, one repetition: a smoke test that leaves bench/results alone),
# ONLY=deflate (the permessage-deflate case alone, REPS times; leaves bench/results alone too),
# ONLY=cluster (issue 14's cluster cases alone, cluster.sh, REPS times; bench/results left alone too),
# SHARDS=N (the cluster cases on N redis-servers, users sharded over them; 1),
# ONLY=memory (idle memory in every presence mode alone, at MEMORY_SIZES: 1000,10000; likewise),
# STORM_TIMEOUT (seconds before a connect storm is given up; 60).
#
# Servers run on CPU 0, the load generator on CPU 1 (when there are two). Every server is started
# fresh for each case and stopped after it; everything started here is stopped on exit.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:?usage: bench/load/run.sh BUILD_DIR}")
reps=${REPS:-3}
quick=${QUICK:-0}
storm_timeout=${STORM_TIMEOUT:-60}
work=$build/load-bench
raw=$work/raw.txt
logs=$work/logs
# shellcheck source=server_control.sh
. "$here/server_control.sh"
# shellcheck source=cluster.sh
. "$here/cluster.sh"

build_programs() {
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_BUILD_TESTS=OFF > "$build.configure.log"
    fi
    cmake --build "$build" -j"$(nproc)" --target social_server loadgen wspp_baseline
    social_server=$(locate_program "$build/examples/social_server/social_server")
    loadgen=$(locate_program "$build/bench/load/loadgen")
    wspp=$(locate_program "$build/bench/load/wspp_baseline")
}

# The program at its usual place in the build tree, or wherever a differently laid-out tree put it.
locate_program() {
    if [ -x "$1" ]; then echo "$1"; return; fi
    find "$build" -type f -name "$(basename "$1")" -perm -u+x | head -1 | grep . || { echo "no $1" >&2; return 1; }
}

# Node's `ws`, pinned by package-lock.json. Debian's npm conflicts with NodeSource's nodejs (which
# brings its own npm), so npm is installed only when there is none.
install_node_baseline() {
    if ! command -v npm > /dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
    fi
    if [ ! -f "$here/node/node_modules/ws/package.json" ]; then
        (cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# switchboard_command PORT PRESENCE: sets `command` to the example server's, as every case runs it.
# Presence "quiet" is scoped (nobody watches anybody). No inbound rate limit, as in the baselines:
# one publisher sends more than 20 messages/s.
switchboard_command() {
    local presence=$2
    [ "$presence" = quiet ] && presence=scoped
    command=("$social_server" --port "$1" --threads 1 --jwt-secret "$secret" --presence "$presence" --rate 0)
}

# start_server NAME PRESENCE: presence "quiet" means none for the baselines and scoped for
# switchboard: the workloads that measure something else do not pay for N^2 presence while connecting.
start_server() {
    local name=$1 presence=$2 command
    port=$((port + 1))
    local baseline_presence=$presence
    [ "$presence" = quiet ] && baseline_presence=none
    case $name in
    switchboard | switchboard-nagle | switchboard-no-history)
        switchboard_command "$port" "$presence"
        [ "$name" = switchboard-nagle ] && command+=(--tcp-nodelay off)
        [ "$name" = switchboard-no-history ] && command+=(--history off) ;;
    websocketpp) command=("$wspp" --port "$port" --jwt-secret "$secret" --presence "$baseline_presence") ;;
    websocketpp-frame-once | websocketpp-frame-once-nodelay)
        command=("$wspp" --port "$port" --jwt-secret "$secret" --presence "$baseline_presence" --frame-once)
        [ "$name" = websocketpp-frame-once-nodelay ] && command+=(--tcp-nodelay) ;;
    node-ws) command=(node "$here/node/server.js" --port "$port" --jwt-secret "$secret" --presence "$baseline_presence") ;;
    esac
    "${server_cpu[@]}" "${command[@]}" > "$logs/$name.log" 2>&1 &
    server_pid=$!
    wait_for_port "$logs"
}

# CPU cores busy over one second (user + nice + system, all CPUs), from /proc/stat.
busy_cores() {
    local before after
    before=$(awk '/^cpu /{print $2 + $3 + $4}' /proc/stat)
    sleep 1
    after=$(awk '/^cpu /{print $2 + $3 + $4}' /proc/stat)
    awk -v a="$before" -v b="$after" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b - a) / hz}'
}

# On a shared machine, waits (a few seconds at most) until others leave at least ~1.75 cores idle,
# so that fewer cases run beside someone's build. Each case also reports others_cpu during its
# measurement, and the tables show it.
wait_for_quiet() {
    local busy
    [ "$quick" = 1 ] && return 0
    for _ in $(seq 4); do
        busy=$(busy_cores)
        awk -v b="$busy" 'BEGIN{exit !(b < 0.25)}' && return 0
        sleep 1
    done
    echo "  (machine still busy: $busy cores used by others)" >&2
}

# run_loadgen CASE SERVER PRESENCE REP LOADGEN-ARGS...: one loadgen run against what runs, one raw line.
run_loadgen() {
    local case_name=$1 server=$2 presence=$3 rep=$4 line
    shift 4
    line=$("${client_cpu[@]}" timeout 300 "$loadgen" --secret "$secret" "$@" 2>> "$logs/loadgen.log") ||
        line="error=loadgen_failed"
    echo "case=$case_name server=$server presence=$presence rep=$rep $line" >> "$raw"
    printf '  %-20s %-30s rep %s: %s\n' "$case_name" "$server" "$rep" "$(cut -c1-110 <<< "$line")"
}

# run_case CASE SERVER PRESENCE REP LOADGEN-ARGS...: one fresh server, one loadgen run, one raw line.
run_case() {
    local case_name=$1 server=$2 presence=$3 rep=$4
    shift 4
    wait_for_quiet
    start_server "$server" "$presence"
    run_loadgen "$case_name" "$server" "$presence" "$rep" --port "$port" --server-pid "$server_pid" "$@"
    stop_server
}

servers=(switchboard websocketpp websocketpp-frame-once node-ws)

# run_saturation SERVER REP: fan-out at saturation to run_all's small and large subscriber counts.
run_saturation() {
    local n
    for n in $fan_small $fan_large; do
        run_case "saturation_$n" "$1" quiet "$2" --workload saturation --clients "$n" --seconds 3
    done
}

# run_publish SERVER REP: one publisher at saturation, with each window over WebSocket and with
# one through HTTP, to the small and large subscriber counts.
run_publish() {
    local n window
    for n in $fan_small $fan_large; do
        for window in $publish_windows; do
            run_case "publish_ws_${window}_$n" "$1" quiet "$2" --workload publish --via ws --window "$window" \
                --clients "$n" --seconds 3
        done
        run_case "publish_http_${http_window}_$n" "$1" quiet "$2" --workload publish --via http \
            --window "$http_window" --clients "$n" --seconds 3
    done
}

# run_deflate REP: the same fan-out to plain clients, then to clients that negotiated permessage-deflate
# (inflating one message in 16: the load generator's one core could not inflate them all).
run_deflate() {
    local fanout=(--workload saturation --clients 1000 --seconds 3 --broadcast-bytes 1024)
    run_case deflate_plain_1k switchboard quiet "$1" "${fanout[@]}"
    run_case deflate_1k switchboard quiet "$1" "${fanout[@]}" --deflate 1 --inflate-every 16
}

run_only_deflate() {
    for rep in $(seq "$reps"); do
        echo "permessage-deflate, repetition $rep of $reps"
        run_deflate "$rep"
    done
}

# run_presence_memory SIZES: switchboard's memory in every presence mode: connected a few at a
# time (scoped is run_all's idle case), and each step's connections connecting at once, as a
# connect storm.
run_presence_memory() {
    local presence
    for presence in coalesced all; do
        run_case "idle_$presence" switchboard "$presence" 1 --workload idle --steps "$1"
    done
    for presence in scoped coalesced all; do
        run_case "idle_storm_$presence" switchboard "$presence" 1 --workload idle-after-storm --steps "$1" \
            --timeout "$storm_timeout"
    done
}

# ONLY=memory: the idle cases of every presence mode alone, at MEMORY_SIZES (1000,10000).
run_only_memory() {
    local sizes=${MEMORY_SIZES:-1000,10000}
    echo "idle connections in every presence mode"
    run_case idle switchboard quiet 1 --workload idle --steps "$sizes"
    run_presence_memory "$sizes"
}

run_all() {
    local sizes_idle="1000,5000,10000,19000" fan_small=1000 fan_large=10000 users=2000 rate_seconds=8
    local publish_windows="16 64 256" http_window=64
    local storm_small=1000 storm_large=10000 sizes_presence="1000,10000"
    if [ "$quick" = 1 ]; then
        reps=1 sizes_idle="500,1000" fan_large=2000 users=2000 rate_seconds=3 storm_large=2000 sizes_presence="1000,2000"
    fi
    echo "idle connections"
    for server in switchboard websocketpp node-ws; do
        run_case idle "$server" quiet 1 --workload idle --steps "$sizes_idle"
    done
    run_presence_memory "$sizes_presence"
    for rep in $(seq "$reps"); do
        echo "fan-out (both shapes) and direct, repetition $rep of $reps"
        for server in "${servers[@]}"; do
            run_saturation "$server" "$rep"
            run_publish "$server" "$rep"
            run_case "rate_$fan_large" "$server" quiet "$rep" --workload rate --clients "$fan_large" --rate 20 \
                --seconds "$rate_seconds"
        done
        for server in switchboard switchboard-no-history websocketpp node-ws; do
            run_case direct "$server" quiet "$rep" --workload direct --clients "$users" --rate 20000 \
                --seconds "$rate_seconds"
        done
        run_case resume switchboard quiet "$rep" --workload resume
        run_deflate "$rep"
        # What TCP_NODELAY (ours and Node's; the websocketpp baselines keep Nagle's algorithm) costs:
        # each side run with the other's socket settings.
        run_saturation switchboard-nagle "$rep"
        run_saturation websocketpp-frame-once-nodelay "$rep"
    done
    echo "latency against subscriber count (20 broadcasts/s)"
    for subscribers in $fan_small 5000; do
        [ "$subscribers" -lt "$fan_large" ] || continue
        for server in "${servers[@]}"; do
            run_case "rate_$subscribers" "$server" quiet 1 --workload rate --clients "$subscribers" --rate 20 \
                --seconds "$rate_seconds"
        done
    done
    echo "connect storms (given up after $storm_timeout s)"
    for presence in all coalesced scoped; do
        for n in $storm_small $storm_large; do
            run_case "storm_${presence}_$n" switchboard "$presence" 1 --workload storm --clients "$n" --timeout "$storm_timeout"
        done
    done
    # Global presence only: the baselines have no other policy. frame-once changes nothing here
    # but the framing of presence events, so it runs the small storm only.
    for server in websocketpp websocketpp-frame-once node-ws; do
        for n in $storm_small $storm_large; do
            [ "$server" = websocketpp-frame-once ] && [ "$n" = "$storm_large" ] && continue
            run_case "storm_all_$n" "$server" all 1 --workload storm --clients "$n" --timeout "$storm_timeout"
        done
    done
}

describe_machine() {
    echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB, Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "toolchain: $(c++ --version | head -1); node $(node --version); ws $(node -p "require('$here/node/node_modules/ws/package.json').version" 2> /dev/null || echo 'not installed'); websocketpp $(dpkg-query -W -f='${Version}' libwebsocketpp-dev 2>/dev/null || echo '?')"
    echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "pinning: servers on CPU 0, load generator on CPU 1; every server --threads 1 / one io thread"
    echo "cluster: both nodes and redis-server $(redis-server --version 2> /dev/null | grep -o 'v=[^ ]*' || echo '(none)') on CPU 0 (one core for all three), load generator and redis-benchmark on CPU 1"
    echo "system calls: $(perf --version 2> /dev/null || echo 'no perf: not counted') (syscalls:sys_enter_* over each measured interval)"
}

main() {
    mkdir -p "$work" "$logs"
    : > "$raw"
    build_programs
    [ -n "${ONLY:-}" ] || install_node_baseline
    local started=$SECONDS
    describe_machine > "$work/machine.txt"
    cat "$work/machine.txt"
    case ${ONLY:-} in
    deflate) run_only_deflate ;;
    memory) run_only_memory ;;
    cluster) run_cluster ;;
    *) run_all; run_cluster ;;
    esac
    echo "ran in $((SECONDS - started)) s" >> "$work/machine.txt"
    if [ "${ONLY:-}" = cluster ]; then
        /usr/bin/python3 "$here/cluster_report.py" "$raw" "$work/machine.txt" "$work/results.txt"
    else
        /usr/bin/python3 "$here/report.py" "$raw" "$work/machine.txt" "$work/results.txt" "$work/latency.dat"
    fi
    cat "$work/results.txt"
    if [ "$quick" = 1 ] || [ -n "${ONLY:-}" ]; then
        echo "QUICK or ONLY run: bench/results left as it was; this run's tables are in $work/results.txt"
        return
    fi
    mkdir -p "$root/bench/results"
    cp "$work/results.txt" "$raw" "$root/bench/results/"
    if command -v gnuplot > /dev/null; then
        gnuplot -e "data='$work/latency.dat'; output='$root/bench/results/latency.png'" "$here/plot.gp"
    else
        echo "gnuplot not found (Debian: gnuplot-nox): no latency.png" >&2
    fi
}

main
