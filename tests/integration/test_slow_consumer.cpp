// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// A slow consumer (issue 5, "Limits and policies"): a client that completes its handshake and then never
// reads, while an admin broadcasts large messages to everyone. The server must close it (1013) instead of
// queueing for it, keep serving the admin at full speed, and keep its own memory bounded.

#include <algorithm>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "resources.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

constexpr int try_again_later = 1013;
constexpr std::size_t message_size = 16 * 1024;
/// The transport reads websocketpp's backlog figure every 64 KiB sent and adds what was sent since, so between
/// readings it errs high by up to 64 KiB: a cap of twice that never mistakes a client that keeps up for a slow one.
constexpr std::size_t max_queued_bytes = 128 * 1024;

social::ServerOptions slow_consumer_options(
    switchboard::SlowConsumerPolicy policy = switchboard::SlowConsumerPolicy::close) {
    social::ServerOptions options = server_options();
    options.limits.max_queued_bytes = max_queued_bytes;
    options.limits.slow_consumer = policy;
    options.limits.inbound_rate = 0; // the admin publishes as fast as it is served
    // No presence events: the admin then receives its broadcasts and nothing else, which makes them countable.
    options.presence = switchboard::PresenceMode::scoped;
    return options;
}

/// A Broadcast of about `message_size` bytes, numbered.
std::string numbered_broadcast(std::size_t seq) {
    static const std::string padding(message_size - 64, '.');
    return envelope("Broadcast", {{"seq", seq}, {"padding", padding}});
}

/// Reads what the slow client had been sent, up to the server's close frame (returns its code, after answering
/// it) or the end of the connection (0: the server gave up on the close handshake and dropped it).
int drain_to_close(RawWebSocket& client) {
    if (const std::optional<WsFrame> close = client.read_close(10s)) {
        client.send_close(close->close_code());
        return close->close_code();
    }
    REQUIRE(client.socket().wait_for_close(1s)); // ended without a close frame, not still open
    return 0;
}

struct Push {
    std::size_t messages = 0;    ///< broadcasts sent, each received back by the admin
    std::size_t when_closed = 0; ///< broadcasts sent when the slow client had been closed (0: never)
    std::size_t rss_before = 0;
    std::size_t rss_peak = 0;
};

/// 40 MiB of broadcasts from the admin (less under sanitizers), more than twice the memory bound the tests
/// check: had the server queued them for the slow client, it would have grown by almost all of it. With
/// `until_closed`, more if the slow client has not been closed yet (up to 64 MiB). Each waits for the admin's copy
/// before the next, so the admin reads at full speed and its own backlog never builds up.
Push push_broadcasts(TestServer& server, TestClient& admin, bool until_closed) {
    const std::size_t planned = scaled(40 * mebibytes) / message_size;
    const std::size_t at_most = until_closed ? 64 * mebibytes / message_size : planned;
    Push push;
    push.rss_before = push.rss_peak = resident_bytes();
    for (; push.messages < planned || (!push.when_closed && push.messages < at_most); ++push.messages) {
        const std::size_t seq = push.messages;
        INFO("broadcast " << seq);
        REQUIRE(admin.send_text(numbered_broadcast(seq)));
        REQUIRE(admin.wait_until([&](const ClientState& state) { return state.received > seq; }));
        if (!push.when_closed && server.manager().metrics().closed_slow > 0) push.when_closed = seq + 1;
        if (seq % 256 == 0) push.rss_peak = std::max(push.rss_peak, resident_bytes());
    }
    push.rss_peak = std::max(push.rss_peak, resident_bytes());
    return push;
}

} // namespace

TEST_CASE("A client that never reads is closed as a slow consumer while another receives every broadcast",
          "[integration][limits][slow]") {
    TestServer server(slow_consumer_options());
    const UserId admin_user = UserId::random();
    const UserId slow_user = UserId::random();
    ConnectOptions admin_options{/*admin=*/true, {}};
    admin_options.client.keep_messages = false; // tens of MB: count them only
    auto admin = connect_user(server, admin_user, admin_options);
    // A small receive window, so that the server's queue for it grows soon after the kernel buffers fill.
    auto slow = connect_raw_user(server, slow_user, RawSocketOptions{"", 4096});

    const Push push = push_broadcasts(server, *admin, /*until_closed=*/true);

    // The admin got every broadcast, exactly once, and is still connected.
    CHECK(admin->state().received == push.messages);
    CHECK(admin->is_open());
    // The slow client was closed once its backlog passed the cap: after the kernel's socket buffers filled (a
    // few MB on loopback at most), not after everything.
    CHECK(server.manager().metrics().closed_slow == 1);
    CHECK(push.when_closed > 0);
    CHECK(push.when_closed * message_size < 12 * mebibytes);
    CHECK_FALSE(server.manager().is_user_online(slow_user));
    CHECK(server.manager().connection_count() == 1);
    INFO("RSS before " << push.rss_before / mebibytes << " MiB, peak " << push.rss_peak / mebibytes << " MiB");
    if (rss_reflects_frees) CHECK(push.rss_peak < push.rss_before + 16 * mebibytes);

    const int close_code = drain_to_close(*slow);
    CHECK((close_code == try_again_later || close_code == 0));
    CHECK(eventually([&] { return server.manager().transport().connection_count() == 1; }));
}

TEST_CASE("Under drop_ephemeral a client that never reads is closed at the hard cap, not queued for without bound",
          "[integration][limits][slow]") {
    social::ServerOptions options = slow_consumer_options(switchboard::SlowConsumerPolicy::drop_ephemeral);
    options.limits.max_queued_bytes_hard = 4 * max_queued_bytes;
    TestServer server(options);
    const UserId admin_user = UserId::random();
    const UserId slow_user = UserId::random();
    ConnectOptions admin_options{/*admin=*/true, {}};
    admin_options.client.keep_messages = false;
    auto admin = connect_user(server, admin_user, admin_options);
    auto slow = connect_raw_user(server, slow_user, RawSocketOptions{"", 4096});

    const Push push = push_broadcasts(server, *admin, /*until_closed=*/true);

    CHECK(admin->state().received == push.messages);
    CHECK(admin->is_open());
    // Broadcasts are durable: the slow client got them past max_queued_bytes, until the hard cap closed it.
    CHECK(server.manager().metrics().closed_slow == 1);
    CHECK(push.when_closed > 0);
    CHECK(push.when_closed * message_size < 12 * mebibytes);
    CHECK_FALSE(server.manager().is_user_online(slow_user));
    INFO("RSS before " << push.rss_before / mebibytes << " MiB, peak " << push.rss_peak / mebibytes << " MiB");
    if (rss_reflects_frees) CHECK(push.rss_peak < push.rss_before + 16 * mebibytes);

    const int close_code = drain_to_close(*slow);
    CHECK((close_code == try_again_later || close_code == 0));
}
