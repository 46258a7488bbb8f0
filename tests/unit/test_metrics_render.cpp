// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The manager's figures as it records them, and their Prometheus text (render.hpp, process.hpp,
// transport/websocketpp_metrics.hpp).

#include "mock_fixtures.hpp"

#include <catch2/catch.hpp>


using namespace switchboard;
using namespace test_fixtures;

namespace {

} // namespace

TEST_CASE("Manager metrics: a send records its duration, the bytes and sizes out once per recipient",
          "[metrics][manager]") {
    MockTransport transport;
    Manager manager{transport};
    manager.register_connection(alice, transport.open());
    manager.register_connection(alice, transport.open());
    const ManagerMetrics before = manager.metrics();

    const Event event("Note", {{"text", "hello"}});
    REQUIRE(manager.send_to_user(alice, event) == 2);
    const ManagerMetrics after = manager.metrics();
    const std::size_t size = event.to_frame().size();
    CHECK(after.send_duration.count() == before.send_duration.count() + 1);
    CHECK(after.bytes_out - before.bytes_out == 2 * size);
    CHECK(after.outbound_frame_size.count() - before.outbound_frame_size.count() == 2);
    CHECK(after.outbound_frame_size.sum - before.outbound_frame_size.sum == 2 * size);
    CHECK(after.broadcast_duration.count() == 0);

    manager.broadcast(event);
    CHECK(manager.metrics().broadcast_duration.count() == 1);
}

TEST_CASE("Manager metrics: inbound messages count their bytes and sizes; upgrades their admission time",
          "[metrics][manager]") {
    MockTransport transport;
    Manager manager{transport};
    const ConnectionId connection = manager.register_connection(alice, transport.open());
    const std::string payload = R"({"type":"Unknown","data":{}})";
    manager.handle_message(connection, payload);
    const ManagerMetrics metrics = manager.metrics();
    CHECK(metrics.bytes_in == payload.size());
    CHECK(metrics.inbound_frame_size.count() == 1);
    CHECK(metrics.inbound_frame_size.sum == payload.size());

    CHECK_FALSE(transport.upgrade(UpgradeRequest{})); // no token: refused, and timed all the same
    CHECK(manager.metrics().upgrade_duration.count() == 1);
}
