# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# Sourced by bench/load/run.sh: the cluster cases of issue 14. A redis-server of its own on a free
# loopback port (no persistence), two social_server nodes on it (`--redis`, a key prefix unique to
# the case), and the load generator driving both (`loadgen --ports A,B`):
#   - cross-node direct messages at 20,000/s (senders on node A, recipients on node B): p50/p99;
#   - cross-node broadcast at saturation to N connections split over both nodes (the senders on
#     A), against one node alone (no Redis) holding the same N: deliveries/s and their ratio;
#   - a connect storm of N users alternating between the nodes, `--presence coalesced`: time until
#     every upgrade finished and presence went quiet for 1 s;
#   - Redis' own ceiling for the cross-node publish pattern (redis-benchmark: PUBLISH to one of
#     10,000 user channels, each with one subscriber, as a node subscribes them), for the README's
#     sizing.
# SHARDS=N (default 1) runs N redis-servers and gives the nodes all of them (`--redis A,B,...`):
# users' channels, history and presence spread over them; broadcasts stay on the first. Redis' CPU
# is then the sum of the instances'. The PUBLISH ceiling always runs on one instance.
# Nodes run `--history off` (delivery alone, without the default --history redis's append to
# Redis on each durable send); --history redis runs as two more direct cases, at 20,000/s (the
# target) and at 10,000/s. Nodes, Redis and the single node run on CPU 0 (one core shared by everything
# server-side), the load generator and redis-benchmark's client on CPU 1.
# Uses run.sh's switchboard_command, run_loadgen, wait_for_quiet, and server_control.sh's
# wait_for_port (on `port`) and pinning.

redis_pids=()
node_pids=()
trap 'stop_cluster; stop_server' EXIT
trap 'stop_cluster; stop_server; exit 130' INT TERM

# cpu_seconds PID...: the user and system time each process used so far, in seconds, on one line.
cpu_seconds() {
    local pid hz
    hz=$(getconf CLK_TCK)
    for pid in "$@"; do awk -v hz="$hz" '{printf "%.2f ", ($14 + $15) / hz}' "/proc/$pid/stat"; done
}

# difference BEFORE AFTER: AFTER - BEFORE, two decimals.
difference() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

# next_free_port: sets `port` to the next one nothing listens on.
next_free_port() {
    port=$((port + 1))
    while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
}

# start_redis [COUNT]: COUNT instances (default SHARDS); sets redis_port (the first's), redis_pids
# and redis_list (`127.0.0.1:P,127.0.0.1:Q...`, for --redis).
start_redis() {
    local count=${1:-$shards} instance endpoints=()
    for instance in $(seq "$count"); do
        next_free_port
        if [ "$instance" = 1 ]; then redis_port=$port; fi
        "${server_cpu[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            > "$logs/redis-$instance.log" 2>&1 &
        redis_pids+=($!)
        server_pid=$! wait_for_port "$logs"
        endpoints+=("127.0.0.1:$port")
    done
    redis_list=$(IFS=,; echo "${endpoints[*]}")
}

stop_redis() {
    local pid
    for pid in "${redis_pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
    for pid in "${redis_pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    redis_pids=()
}

# redis_cpu_seconds: the user and system time every instance used so far, summed.
redis_cpu_seconds() {
    awk '{for (i = 1; i <= NF; i++) sum += $i} END {printf "%.2f", sum}' <<< "$(cpu_seconds "${redis_pids[@]}")"
}

# start_nodes PRESENCE HISTORY PREFIX: two nodes on the case's Redis; sets node_ports "A,B".
start_nodes() {
    local presence=$1 history=$2 prefix=$3 ports=() node command
    for node in a b; do
        next_free_port
        switchboard_command "$port" "$presence"
        "${server_cpu[@]}" "${command[@]}" --history "$history" --redis "$redis_list" \
            --redis-prefix "$prefix" > "$logs/cluster-node-$node.log" 2>&1 &
        node_pids+=($!)
        server_pid=$! wait_for_port "$logs"
        ports+=("$port")
    done
    node_ports=$(IFS=,; echo "${ports[*]}")
}

stop_nodes() {
    local pid
    for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
    for pid in "${node_pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    node_pids=()
}

stop_cluster() {
    stop_nodes
    stop_redis
}

# run_cluster_case CASE PRESENCE HISTORY REP LOADGEN-ARGS...: a fresh Redis and two fresh nodes.
# loadgen's server CPU is both nodes' and Redis' over the measured interval; the raw line also gets
# what each of them used over the whole loadgen run (connecting included).
run_cluster_case() {
    local case_name=$1 presence=$2 history=$3 rep=$4 before after
    shift 4
    wait_for_quiet
    start_redis
    start_nodes "$presence" "$history" "bench-$case_name-$rep-$$"
    read -ra before <<< "$(cpu_seconds "${node_pids[@]}") $(redis_cpu_seconds)"
    run_loadgen "$case_name" "switchboard-cluster" "$presence" "$rep" --ports "$node_ports" \
        --server-pid "${node_pids[0]}" --cpu-pids "$(IFS=,; echo "${node_pids[*]},${redis_pids[*]}")" "$@"
    read -ra after <<< "$(cpu_seconds "${node_pids[@]}") $(redis_cpu_seconds)"
    sed -i "\$ s/\$/ node_a_cpu_s=$(difference "${before[0]}" "${after[0]}") node_b_cpu_s=$(difference \
        "${before[1]}" "${after[1]}") redis_cpu_s=$(difference "${before[2]}" "${after[2]}") shards=$shards/" "$raw"
    stop_cluster
}

# redis_publish_ceiling REP: PUBLISH to random ones of 10,000 channels, each subscribed once (one
# redis-cli subscriber holds them all, as a node's subscriber link does), 50 clients pipelining 16;
# also per second of Redis' own CPU, steadier on a shared machine.
redis_publish_ceiling() {
    local channels subscriber line before after redis_pid
    start_redis 1
    redis_pid=${redis_pids[0]}
    channels=$(seq -f 'bench.user.%012g' 0 9999 | tr '\n' ' ')
    # shellcheck disable=SC2086 # one argument per channel
    "${client_cpu[@]}" redis-cli -p "$redis_port" subscribe $channels > /dev/null &
    subscriber=$!
    sleep 1
    before=$(cpu_seconds "$redis_pid")
    line=$("${client_cpu[@]}" redis-benchmark -p "$redis_port" -q -c 50 -P 16 -n "$redis_requests" -r 10000 \
        publish bench.user.__rand_int__ "$(printf '%0150d' 0)" 2> /dev/null | tr '\r' '\n' |
        grep -a 'requests per second' | tail -1)
    after=$(cpu_seconds "$redis_pid")
    # Still subscribed: Redis drops a subscriber that falls 32 MB behind, and PUBLISH gets cheaper.
    line="publish_per_s=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "requests") print $i}' <<< "$line")"
    line+=" redis_cpu_s=$(difference "$before" "$after")"
    line+=" requests=$redis_requests subscribed=$(redis-cli -p "$redis_port" pubsub numsub bench.user.000000000001 | tail -1)"
    kill "$subscriber" 2> /dev/null || true
    wait "$subscriber" 2> /dev/null || true
    stop_redis
    echo "case=cluster_redis_publish server=redis presence=- rep=$1 $line" >> "$raw"
    printf '  %-20s %-30s rep %s: %s\n' cluster_redis_publish redis "$1" "$line"
}

run_cluster() {
    local clients=10000 users=2000 seconds=8 redis_requests=1000000 shards=${SHARDS:-1}
    if [ "$quick" = 1 ]; then
        reps=1 clients=2000 users=400 seconds=2 redis_requests=200000
    fi
    if ! command -v redis-server > /dev/null || ! command -v redis-benchmark > /dev/null; then
        echo "cluster cases skipped: no redis-server or redis-benchmark (Debian: redis-server, redis-tools)" >&2
        return 0
    fi
    echo "cluster (issue 14): two nodes and $shards Redis instance(s) on CPU 0, loadgen on CPU 1; nodes --history off unless named"
    for rep in $(seq "$reps"); do
        echo "cluster, repetition $rep of $reps"
        run_cluster_case "cluster_direct_$users" quiet off "$rep" --workload direct --clients "$users" --rate 20000 \
            --seconds "$seconds"
        run_cluster_case "cluster_direct_redis_history_$users" quiet redis "$rep" --workload direct --clients "$users" \
            --rate 20000 --seconds "$seconds"
        run_cluster_case "cluster_half_rate_redis_history_$users" quiet redis "$rep" --workload direct \
            --clients "$users" --rate 10000 --seconds "$seconds"
        run_case "cluster_broadcast_$clients" switchboard-no-history quiet "$rep" --workload saturation \
            --clients "$clients" --seconds 3
        run_cluster_case "cluster_broadcast_$clients" quiet off "$rep" --workload saturation --clients "$clients" \
            --seconds 3
        run_cluster_case "cluster_storm_$clients" coalesced off "$rep" --workload storm --clients "$clients" \
            --timeout "$storm_timeout"
        redis_publish_ceiling "$rep"
    done
}
