// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Cross-node live delivery with offsets: RedisHistory publishes each append with its epoch and
// offset in the append's script, and every device of a user, on any node, gets the user's stream
// in offset order, once each, live and across a resume on another node.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/history/memory.hpp>
#include <switchboard/redis/history.hpp>

#include "../../src/redis/backplane_wire.hpp"
#include "backplane_node.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::StreamPosition;
using switchboard::redis::RedisHistory;
using switchboard::redis::RedisHistoryOptions;

namespace {

using Offsets = std::vector<std::uint64_t>;

RedisHistoryOptions publishing_history(const RedisServer& server, const std::string& prefix,
                                       const std::string& node_id) {
    RedisHistoryOptions options;
    options.port = server.port();
    options.prefix = prefix;
    options.backplane_prefix = prefix;
    options.node_id = node_id;
    return options;
}

/// Two nodes on one Redis, each with a RedisBackplane and a RedisHistory that publishes its
/// appends, answering synchronously or (`asynchronous`) on the node's Redis executor.
struct TwoNodes {
    explicit TwoNodes(bool asynchronous) : asynchronous(asynchronous) {}
    bool asynchronous;
    RedisServer server;
    std::string prefix = unique_prefix() + "sb";
    HistoryOfNode history = [this](const std::string& node_id, asio::any_io_executor executor) {
        const RedisHistoryOptions options = publishing_history(server, prefix, node_id);
        return asynchronous ? std::make_shared<RedisHistory>(std::move(executor), options)
                            : std::make_shared<RedisHistory>(options);
    };
    Node a{backplane_options(server, prefix, "node-a"), Node::scoped_presence(), history};
    Node b{backplane_options(server, prefix, "node-b"), Node::scoped_presence(), history};
    IoThread io;
    TestClient redis{io, options_for(server)};

    /// Both nodes hold `user`'s channel (a node hears another's appends once it listens).
    void await_listeners(const switchboard::UserId& user, long long nodes) {
        REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, user)) == nodes; }));
    }
};

/// The offsets of a device's stream frames, in order; every frame but its `Session` has one.
Offsets offsets_of(const Node& node, const Node::Device& device) {
    Offsets offsets;
    for (const switchboard::Frame& frame : node.transport.frames(device.handle)) {
        const nlohmann::json json = nlohmann::json::parse(frame.text());
        if (json["type"] == "Session") continue;
        REQUIRE(json.contains("offset"));
        offsets.push_back(json["offset"].get<std::uint64_t>());
    }
    return offsets;
}

Offsets from_to(std::uint64_t first, std::uint64_t last) {
    Offsets offsets;
    for (std::uint64_t offset = first; offset <= last; ++offset) offsets.push_back(offset);
    return offsets;
}

/// `threads` senders, half on each node, `each` events apiece, all at once.
void send_from_both(TwoNodes& nodes, int threads, int each) {
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t)
        senders.emplace_back([&nodes, t, each] {
            Manager& manager = *(t % 2 == 0 ? nodes.a : nodes.b).manager;
            for (int i = 0; i < each; ++i) manager.send_to_user(alice, Event("Note", nlohmann::json{{"t", t}, {"i", i}}));
        });
    for (std::thread& sender : senders) sender.join();
}

/// What a device received after its `Session` (if any), in order: each event's type, with
/// `@offset` when it came from a stream.
std::vector<std::string> received(const Node& node, const Node::Device& device) {
    std::vector<std::string> events;
    for (const switchboard::Frame& frame : node.transport.frames(device.handle)) {
        const nlohmann::json json = nlohmann::json::parse(frame.text());
        if (json["type"] == "Session") continue;
        std::string event = json["type"].get<std::string>();
        if (json.contains("offset")) event += "@" + std::to_string(json["offset"].get<std::uint64_t>());
        events.push_back(std::move(event));
    }
    return events;
}

/// `count` events to alice from `node`, one after another.
void send_notes(Node& node, int count) {
    for (int i = 0; i < count; ++i) node.manager->send_to_user(alice, Event("Note", nlohmann::json{{"i", i}}));
}

} // namespace

TEST_CASE("the append script publishes the event with its epoch and offset as the backplane reads it",
          "[redis][stream-offsets]") {
    RedisServer server;
    const std::string prefix = unique_prefix() + "sb";
    IoThread io;
    TestClient listener{io, options_for(server), {user_channel(prefix, alice)}};
    TestClient redis{io, options_for(server)};
    REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, alice)) == 1; }));
    RedisHistory history(publishing_history(server, prefix, "node-a"));
    const switchboard::StoredEvent event(Event("Note", nlohmann::json{{"n", 1}}));
    const switchboard::StreamTop top = history.append(alice, event);

    REQUIRE(eventually([&] { return listener.messages().size() == 1; }));
    const auto [channel, payload] = listener.messages().front();
    CHECK(channel == user_channel(prefix, alice));
    const auto envelope = switchboard::redis::detail::unseal(payload);
    REQUIRE(envelope);
    CHECK(envelope->origin == "node-a");
    REQUIRE(envelope->position);
    CHECK(*envelope->position == top.position);
    CHECK(envelope->text == event.text());
    // A stream envelope without a valid position, or without text, is none.
    CHECK_FALSE(switchboard::redis::detail::unseal("node-a\nsnot-a-position\n{}"));
    CHECK_FALSE(switchboard::redis::detail::unseal("node-a\ns" + top.position.to_string() + "\n"));
}

TEST_CASE("devices of one user on two nodes get every offset once, in order, while both nodes send at once",
          "[redis][stream-offsets]") {
    TwoNodes nodes(GENERATE(false, true));
    CAPTURE(nodes.asynchronous);
    const Node::Device phone = nodes.a.connect(alice);
    const Node::Device tablet = nodes.a.connect(alice);
    const Node::Device laptop = nodes.b.connect(alice);
    nodes.await_listeners(alice, 2);

    constexpr int threads = 4, each = 50;
    send_from_both(nodes, threads, each);

    const Offsets all = from_to(1, threads * each);
    for (const auto& [node, device] : {std::pair{&nodes.a, phone}, {&nodes.a, tablet}, {&nodes.b, laptop}}) {
        CHECK(eventually([&, node = node, device = device] { return offsets_of(*node, device).size() >= all.size(); }));
        CHECK(offsets_of(*node, device) == all);
    }
    CHECK(nodes.a.backplane->metrics().published == 0); // the history published, not the manager
}

TEST_CASE("a device that leaves node A resumes on node B with exactly what it missed, then live, no seam",
          "[redis][stream-offsets]") {
    TwoNodes nodes(GENERATE(false, true));
    CAPTURE(nodes.asynchronous);
    const Node::Device phone = nodes.a.connect(alice);
    const Node::Device laptop = nodes.b.connect(alice); // keeps node B listening
    nodes.await_listeners(alice, 2);
    send_from_both(nodes, 2, 5);
    REQUIRE(eventually([&] { return offsets_of(nodes.a, phone).size() == 10; }));
    const auto session = nlohmann::json::parse(nodes.a.transport.frames(phone.handle).front().text())["data"];
    const auto epoch = switchboard::Epoch::try_parse(session["epoch"].template get<std::string>());
    REQUIRE(epoch);
    nodes.a.disconnect(phone);

    std::atomic<bool> sending{true};
    std::atomic<int> sent{10};
    std::thread sender([&] {
        for (int i = 0; sending.load() || i < 20; ++i) {
            (i % 2 == 0 ? nodes.a : nodes.b).manager->send_to_user(alice, Event("Note", nlohmann::json{{"i", i}}));
            sent.fetch_add(1);
        }
    });
    REQUIRE(eventually([&] { return sent.load() >= 20; })); // missed while away
    switchboard::Identity identity(alice);
    identity.resume = StreamPosition{*epoch, 10};
    const Handle handle = nodes.b.transport.open();
    const Node::Device resumed{handle, nodes.b.manager->register_connection(identity, handle)};
    REQUIRE(eventually([&] { return sent.load() >= 60; })); // live after the seam
    sending.store(false);
    sender.join();

    const auto last = static_cast<std::uint64_t>(sent.load());
    REQUIRE(eventually([&] { return offsets_of(nodes.b, resumed).size() >= last - 10; }));
    const auto frames = nodes.b.transport.frames(handle);
    const auto first = nlohmann::json::parse(frames.front().text());
    CHECK(first["type"] == "Session");
    CHECK(first["data"]["recovery"] == "complete");
    CHECK(first["data"]["offset"] == 10);
    CHECK(first["data"]["replayed"].get<std::uint64_t>() >= 10);
    CHECK(offsets_of(nodes.b, resumed) == from_to(11, last));
    REQUIRE(eventually([&] { return offsets_of(nodes.b, laptop).size() >= last; }));
    CHECK(offsets_of(nodes.b, laptop) == from_to(1, last));
}

TEST_CASE("what node B's subscriber lost while its link was down reaches B's device once it resubscribes, "
          "with no further event", "[redis][stream-offsets]") {
    TwoNodes nodes(GENERATE(false, true));
    CAPTURE(nodes.asynchronous);
    const Node::Device laptop = nodes.b.connect(alice);
    nodes.await_listeners(alice, 1);
    send_notes(nodes.a, 2);
    REQUIRE(eventually([&] { return offsets_of(nodes.b, laptop).size() == 2; }));
    {
        const HeldExecutor held(nodes.b);
        // Node B's subscriber among them (it listens to alice); node A's too, if it is up yet.
        REQUIRE(nodes.redis.call({"CLIENT", "KILL", "TYPE", "pubsub"}).reply.integer >= 1);
        send_notes(nodes.a, 5); // published to no one on node B
    }
    REQUIRE(eventually([&] { return nodes.b.metrics().resubscribes >= 1; }));
    CHECK(eventually([&] { return offsets_of(nodes.b, laptop).size() >= 7; }));
    CHECK(nodes.b.manager->metrics().stream_catch_ups >= 1); // alice, read after the resubscribe
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // time for a duplicate to show
    CHECK(offsets_of(nodes.b, laptop) == from_to(1, 7));
    CHECK(nodes.b.transport.is_open(laptop.handle));
}

TEST_CASE("a catch-up after a resubscribe meets the events sent meanwhile without gap or duplicate",
          "[redis][stream-offsets]") {
    const int threads = GENERATE(1, 4); // one sender, on node A; or four, over both nodes
    TwoNodes nodes(GENERATE(false, true));
    CAPTURE(nodes.asynchronous);
    const Node::Device phone = nodes.a.connect(alice);
    const Node::Device laptop = nodes.b.connect(alice);
    nodes.await_listeners(alice, 2);
    {
        const HeldExecutor held(nodes.b);
        REQUIRE(nodes.redis.call({"CLIENT", "KILL", "TYPE", "pubsub"}).reply.integer == 2);
        send_notes(nodes.a, 10);
    }
    send_from_both(nodes, threads, 40 / threads); // while B resubscribes and catches up

    const auto last = static_cast<std::uint64_t>(10 + threads * (40 / threads));
    REQUIRE(eventually([&] { return nodes.b.metrics().resubscribes >= 1; }));
    for (const auto& [node, device] : {std::pair{&nodes.a, phone}, {&nodes.b, laptop}}) {
        CHECK(eventually([&, node = node, device = device] { return offsets_of(*node, device).size() >= last; }));
        CHECK(offsets_of(*node, device) == from_to(1, last));
    }
}

TEST_CASE("a cluster of mixed histories: each node delivers the others' events once, live, without an offset",
          "[redis][stream-offsets]") {
    RedisServer server;
    const std::string prefix = unique_prefix() + "sb";
    // A's RedisHistory publishes its appends (answering asynchronously, as the example's); B
    // keeps a MemoryHistory of its own; C has none.
    Node a{backplane_options(server, prefix, "node-a"), Node::scoped_presence(),
           [&](const std::string& node_id, asio::any_io_executor executor) {
               return std::make_shared<RedisHistory>(std::move(executor), publishing_history(server, prefix, node_id));
           }};
    Node b{backplane_options(server, prefix, "node-b"), Node::scoped_presence(),
           [](const std::string&, asio::any_io_executor) { return std::make_shared<switchboard::MemoryHistory>(); }};
    Node c{backplane_options(server, prefix, "node-c")};
    const Node::Device on_a = a.connect(alice);
    const Node::Device on_b = b.connect(alice);
    const Node::Device on_c = c.connect(alice);
    IoThread io;
    TestClient redis{io, options_for(server)};
    REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, alice)) == 3; }));

    a.manager->send_to_user(alice, Event("FromA"));
    REQUIRE(eventually([&] { return received(b, on_b).size() == 1 && received(c, on_c).size() == 1; }));
    b.manager->send_to_user(alice, Event("FromB"));
    REQUIRE(eventually([&] { return received(a, on_a).size() == 2 && received(c, on_c).size() == 2; }));
    c.manager->send_to_user(alice, Event("FromC"));
    REQUIRE(eventually([&] { return received(a, on_a).size() == 3 && received(b, on_b).size() == 3; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // room for a duplicate, if one would come

    // Each store numbers only what its own node appended.
    CHECK(received(a, on_a) == std::vector<std::string>{"FromA@1", "FromB", "FromC"});
    CHECK(received(b, on_b) == std::vector<std::string>{"FromA", "FromB@1", "FromC"});
    CHECK(received(c, on_c) == std::vector<std::string>{"FromA", "FromB", "FromC"});
}
