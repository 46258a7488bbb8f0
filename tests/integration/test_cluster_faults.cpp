// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Three `social_server` processes on one redis-server, black-box, one of them stopped: killed
// (SIGKILL), its users go offline once the others take it for dead; shut down (SIGTERM), at once.
// Either way a user also connected to another node stays online.

#include <signal.h>

#include <thread>

#include <catch2/catch.hpp>

#include "cluster.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

/// RedisBackplaneOptions' defaults, which social_server has no flags for: a node beats every 2 s
/// and is dead after 10 s of silence, so its users go offline within 12 s.
constexpr auto heartbeat_interval = 2s;
constexpr auto dead_node_bound = 10s + heartbeat_interval;

/// Node A is stopped with `signal`: carol, only on A, goes offline for a watcher on C once, within
/// `bound`; dave, on A and B, stays online. Returns how long carol's offline took.
Clock::duration stop_node_a(int signal, Clock::duration bound) {
    Cluster cluster;
    const UserId watcher_user = UserId::random();
    const UserId carol = UserId::random();
    const UserId dave = UserId::random();
    const auto watcher = connect_to(cluster, 2, watcher_user);
    await_presence_reachable(cluster, 0, *watcher, UserId::random());
    const auto carol_a = connect_to(cluster, 0, carol);
    const auto dave_a = connect_to(cluster, 0, dave);
    const auto dave_b = connect_to(cluster, 1, dave);
    REQUIRE(wait_for_presence(*watcher, carol, /*online=*/true));
    REQUIRE(wait_for_presence(*watcher, dave, /*online=*/true));

    const auto stopped_at = Clock::now();
    cluster.process(0).send_signal(signal);
    const bool carol_offline = wait_for_presence(*watcher, carol, /*online=*/false,
                                                 std::chrono::duration_cast<std::chrono::milliseconds>(bound + 3s));
    const auto took = Clock::now() - stopped_at;
    CHECK(carol_offline);
    CHECK(took < bound);
    // Another survivor must not say it again at its next beat.
    std::this_thread::sleep_for(heartbeat_interval + quiet_period);
    CHECK(presence_count(watcher->state(), carol, false) == 1);
    CHECK(presence_count(watcher->state(), dave, false) == 0);
    CHECK(dave_b->is_open());
    CHECK(cluster.lists_online(2, dave));
    CHECK(!cluster.lists_online(2, carol));
    CHECK(cluster.process(0).wait_for_exit(process_wait) == (signal == SIGKILL ? 128 + SIGKILL : 0));
    return took;
}

} // namespace

TEST_CASE("Three social_server processes: a node killed with SIGKILL takes its users offline within the "
          "dead-node bound, once, and users also on another node stay online",
          "[integration][program][redis]") {
    const Clock::duration took = stop_node_a(SIGKILL, dead_node_bound + 1s);
    // A dead node is noticed by the others' beats, not at once.
    CHECK(took > 10s - heartbeat_interval);
}

TEST_CASE("Three social_server processes: a node shut down with SIGTERM takes its users offline at once, and users "
          "also on another node stay online",
          "[integration][program][redis]") {
    stop_node_a(SIGTERM, 2s);
}
