// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// How the transport batches, seen from clients. A client's messages that arrive together, as a
// publisher's burst does in one TCP segment, are each handled and answered in order, with either
// threading model. Single-threaded, the transport reads them all before the writes they cause go
// out (what batches fan-out from one publisher), but no more than 16 KiB of one connection before
// other work runs; and a round of writes waits while the I/O thread's queue brings it more.

#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/post.hpp>
#include <catch2/catch.hpp>

#include <switchboard/event.hpp>

#include "harness.hpp"

using namespace integration;

namespace {

/// `count` client frames of `type` events with "seq" from `first` on, each with `padding` bytes of
/// text, in one buffer: sent with one write, they arrive together.
std::string burst(std::string_view type, int first, int count, std::size_t padding) {
    constexpr std::uint32_t mask = 0x5eed1234;
    std::string frames;
    for (int seq = first; seq < first + count; ++seq)
        frames += client_frame(opcode::text, envelope(type, {{"seq", seq}, {"text", std::string(padding, 'x')}}),
                               /*fin=*/true, mask);
    return frames;
}

/// Reads `count` events of `type`, other frames skipped, and checks that their "seq" runs from `first` in order.
void check_answers_in_order(RawWebSocket& client, std::string_view type, int first, int count) {
    for (int seq = first; seq < first + count; ++seq) {
        INFO(type << " " << seq);
        const std::optional<WsFrame> frame = client.read_until([&](const WsFrame& frame) {
            return frame.opcode == opcode::text && json::parse(frame.payload).value("type", "") == type;
        });
        REQUIRE(frame);
        CHECK(json::parse(frame->payload)["data"]["seq"] == seq);
    }
}

/// The example server's options without its inbound rate limit, which a burst would exceed.
social::ServerOptions unlimited_rate() {
    social::ServerOptions options = server_options();
    options.limits.inbound_rate = 0;
    return options;
}

} // namespace

TEST_CASE("An admin's burst of broadcasts in one write reaches everyone whole and in order",
          "[integration][transport]") {
    constexpr int broadcasts = 400; // ~60 KB: several turns of reading ahead
    TestServer server(unlimited_rate());
    auto subscriber = connect_user(server, UserId::random());
    auto publisher = connect_raw_user(server, UserId::random(), {}, /*admin=*/true);

    REQUIRE(publisher->send_raw(burst("Broadcast", 0, broadcasts, 100)));
    check_answers_in_order(*publisher, "Broadcast", 0, broadcasts);
    REQUIRE(wait_for_events(*subscriber, "Broadcast", broadcasts));
    check_in_order(subscriber->state(), "Broadcast", broadcasts);
}

TEST_CASE("Single-threaded, messages that arrived together are handled before the writes they cause, "
          "16 KiB at a time",
          "[integration][transport]") {
    // Each Probe is answered and posts a marker to the I/O thread. The markers run when the
    // transport stops reading and returns to asio's queue, as the writes it batches do: no Probe
    // of a small burst sees one, while a burst larger than a turn's 16 KiB lets them run midway.
    struct Seen {
        std::mutex mutex;
        int markers_run = 0;
        std::vector<int> markers_before; ///< markers run before each Probe was handled
    } seen; // outlives the server, whose I/O thread uses it
    social::ServerOptions options = unlimited_rate();
    options.transport.threads = 1;
    TestServer server(std::move(options), [&seen](social::Manager& manager) {
        manager.on("Probe", [&seen, &manager](const switchboard::Inbound& inbound) {
            {
                const std::lock_guard lock(seen.mutex);
                seen.markers_before.push_back(seen.markers_run);
            }
            asio::post(manager.transport().executor(), [&seen] {
                const std::lock_guard lock(seen.mutex);
                ++seen.markers_run;
            });
            manager.send_to_connection(inbound.connection,
                                       switchboard::Event("ProbeSeen", {{"seq", inbound.event.data()["seq"]}}));
        });
    });
    auto client = connect_raw_user(server, UserId::random());
    const auto markers_before = [&seen] {
        const std::lock_guard lock(seen.mutex);
        return std::exchange(seen.markers_before, {});
    };

    constexpr int small = 40; // ~4 KB
    REQUIRE(client->send_raw(burst("Probe", 0, small, 60)));
    check_answers_in_order(*client, "ProbeSeen", 0, small);
    CHECK(markers_before() == std::vector<int>(small, 0));

    constexpr int large = 400; // ~40 KB
    REQUIRE(client->send_raw(burst("Probe", small, large, 60)));
    check_answers_in_order(*client, "ProbeSeen", small, large);
    const std::vector<int> before = markers_before();
    REQUIRE(before.size() == static_cast<std::size_t>(large));
    CHECK(before.front() == small); // the small burst's markers all ran, none of this one's
    CHECK(before.back() > small);   // some of this one's ran before its last Probe was handled
}

TEST_CASE("Single-threaded, a round of writes waits for the work queued behind it that joins it",
          "[integration][transport]") {
    // One handler sends two notes: the second joins the round of writes the first started. So the
    // round lets the handler queued behind it run first; that one reads the client's socket, which
    // a write would have reached at once (loopback delivers within the send). Scoped presence: no
    // one sends the client anything else.
    social::ServerOptions options = server_options();
    options.transport.threads = 1;
    options.presence = switchboard::PresenceMode::scoped;
    TestServer server(std::move(options));
    const UserId user = UserId::random();
    auto client = connect_raw_user(server, user);
    const auto note = [&](int seq) { server.manager().send_to_user(user, switchboard::Event("Note", {{"seq", seq}})); };

    std::promise<RawSocket::Read> behind;
    const auto io = server.manager().transport().executor();
    asio::post(io, [&] {
        note(0);
        note(1);
        asio::post(io, [&] { behind.set_value(client->socket().read_some(std::chrono::milliseconds(0))); });
    });
    CHECK(behind.get_future().get() == RawSocket::Read::timeout); // nothing written yet
    check_answers_in_order(*client, "Note", 0, 2);
}
