# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# Sourced by the load-benchmark scripts: the shared secret, CPU pinning, and starting/stopping one
# server at a time. The sourcing script sets `port` and `server_pid` (the server it started), and
# may set `signal_pid` (the process to signal when a wrapper such as heaptrack runs the server),
# `stop_wait` and `listen_wait` (tenths of a second to wait; 100 each by default).

secret="switchboard-load-benchmark-secret-0123456789abcdef"
port=$((20000 + RANDOM % 20000))
server_pid=""
signal_pid=""

# Servers on CPU 0, the load generator on CPU 1 (when there are two).
if [ "$(nproc)" -ge 2 ]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); else server_cpu=(); client_cpu=(); fi

stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "${signal_pid:-$server_pid}" 2> /dev/null || true
    for _ in $(seq "${stop_wait:-100}"); do kill -0 "$server_pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" ${signal_pid:+"$signal_pid"} 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=""
    signal_pid=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# wait_for_port [WHERE-THE-LOGS-ARE]
wait_for_port() {
    for _ in $(seq "${listen_wait:-100}"); do
        if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then return 0; fi
        kill -0 "$server_pid" 2> /dev/null || { echo "server died${1:+, see $1}" >&2; return 1; }
        sleep 0.1
    done
    echo "server did not listen on $port" >&2
    return 1
}
