// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// The manager with a history that publishes its appends itself (as RedisHistory does for a
// cluster): what the backplane brings from other nodes and what this node appends go out to each
// device in offset order, once each, and the manager publishes no stream event of its own.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "history_fixtures.hpp"

using namespace test_fixtures;
using switchboard::StreamPosition;

namespace {

/// A MemoryHistory standing for a store shared by several nodes, whose appends publish themselves.
class PublishingHistory final : public switchboard::History {
public:
    switchboard::StreamTop append(const switchboard::UserId& user, const switchboard::StoredEvent& event) override {
        if (!keeps) {
            switchboard::StreamTop unkept;
            unkept.stored = false;
            return unkept;
        }
        return store.append(user, event);
    }
    switchboard::StreamTop open(const switchboard::UserId& user) override { return store.open(user); }
    std::optional<std::vector<switchboard::StoredEvent>> read(const switchboard::UserId& user,
                                                             const StreamPosition& after,
                                                             std::uint64_t upto) override {
        ++reads;
        return store.read(user, after, upto);
    }
    switchboard::HistoryMetrics metrics() const override { return store.metrics(); }
    bool publishes_appends() const noexcept override { return true; }

    switchboard::MemoryHistory store;
    int reads = 0;
    bool keeps = true; ///< false: appends fail, as RedisHistory's while Redis is away
};

struct SilentBackplane final : switchboard::Backplane {
    switchboard::BackplaneSink* sink = nullptr;
    int published_to_users = 0; ///< presence goes to all, counted nowhere
    void attach(switchboard::BackplaneSink* s) override { sink = s; }
    void publish_to_users(const std::vector<switchboard::UserId>&, const switchboard::Frame&) override {
        ++published_to_users;
    }
    void publish_to_all(const switchboard::Frame&) override {}
    void user_joined(const switchboard::UserId&) override {}
    void user_left(const switchboard::UserId&) override {}
    switchboard::BackplaneMetrics metrics() const override { return {}; }
};

struct SequencedNode {
    SequencedNode()
        : history(std::make_shared<PublishingHistory>()), backplane(std::make_shared<SilentBackplane>()),
          manager(transport, HistoryFixture::authenticator(), options()) {}

    switchboard::ManagerOptions options() {
        switchboard::ManagerOptions options = HistoryFixture::options(history, 1000);
        options.backplane = backplane;
        return options;
    }

    /// A device of alice's, registered without resuming.
    Handle connect() {
        const Handle handle = transport.open();
        manager.register_connection(alice, handle);
        return handle;
    }

    /// What another node appended: in the store, and (if `heard`) brought by the backplane.
    StreamPosition append_elsewhere(int n, bool heard) {
        const switchboard::StoredEvent event(message(n));
        const StreamPosition at = history->store.append(alice, event).position;
        if (heard) hear(at, event);
        return at;
    }
    void hear(const StreamPosition& at, const switchboard::StoredEvent& event) {
        backplane->sink->deliver_from_stream(alice, at, event.text());
    }

    std::vector<std::uint64_t> offsets(Handle handle) const {
        std::vector<std::uint64_t> found;
        for (const switchboard::Frame& frame : transport.frames(handle)) {
            const Received received = read_frame(frame);
            if (received.offset) {
                CHECK(received.data["n"] == *received.offset); // event n is at offset n
                found.push_back(*received.offset);
            }
        }
        return found;
    }

    switchboard::MockTransport transport;
    std::shared_ptr<PublishingHistory> history;
    std::shared_ptr<SilentBackplane> backplane;
    Manager manager;
};

using Offsets = std::vector<std::uint64_t>;

/// How many frames of event `n` the device got live, without an offset.
int count_without_offset(const switchboard::MockTransport& transport, Handle handle, int n) {
    int found = 0;
    for (const switchboard::Frame& frame : transport.frames(handle)) {
        const Received received = read_frame(frame);
        if (received.type == "MessageSent" && !received.offset && received.data["n"] == n) ++found;
    }
    return found;
}

} // namespace

TEST_CASE("other nodes' events, late, twice or lost, and this node's reach each device once in offset order",
          "[manager][history][sequence]") {
    SequencedNode node;
    const Handle phone = node.connect();
    const Handle laptop = node.connect();

    const StreamPosition first = node.append_elsewhere(1, true);
    const StreamPosition lost = node.append_elsewhere(2, false); // pub/sub lost it
    node.append_elsewhere(3, false);                             // still on its way
    CHECK(node.manager.send_to_user(alice, message(4)) == 2);    // this node's: 2 and 3 filled first
    node.hear(lost, switchboard::StoredEvent(message(2)));       // arrives late: dropped
    node.hear(first, switchboard::StoredEvent(message(1)));      // twice: dropped
    node.append_elsewhere(5, true);

    CHECK(node.offsets(phone) == Offsets{1, 2, 3, 4, 5});
    CHECK(node.offsets(laptop) == Offsets{1, 2, 3, 4, 5});
    CHECK(node.history->reads == 1);
    CHECK(node.backplane->published_to_users == 0); // the history published its appends itself
}

TEST_CASE("a device that starts brings the user's started devices up to its top first",
          "[manager][history][sequence]") {
    SequencedNode node;
    const Handle phone = node.connect();
    node.append_elsewhere(1, true);
    node.append_elsewhere(2, false); // not heard before the laptop's start reads top 2

    const Handle laptop = node.transport.open();
    switchboard::Identity identity(alice);
    identity.resume = StreamPosition{node.history->store.open(alice).position.epoch, 0};
    node.manager.register_connection(identity, laptop);
    node.append_elsewhere(3, true);

    CHECK(node.offsets(phone) == Offsets{1, 2, 3});
    CHECK(node.offsets(laptop) == Offsets{1, 2, 3});
}

TEST_CASE("when the backplane listens again, what it lost meanwhile reaches the user's devices, no later event needed",
          "[manager][history][sequence]") {
    SequencedNode node;
    const Handle phone = node.connect();
    const Handle laptop = node.connect();
    node.append_elsewhere(1, true);
    const StreamPosition lost = node.append_elsewhere(2, false); // published while the link was down
    node.append_elsewhere(3, false);

    node.backplane->sink->resubscribed({alice, bob}); // bob has no device here
    CHECK(node.offsets(phone) == Offsets{1, 2, 3});
    CHECK(node.offsets(laptop) == Offsets{1, 2, 3});
    CHECK(node.history->reads == 1);

    node.backplane->sink->resubscribed({alice});           // nothing missed since
    node.hear(lost, switchboard::StoredEvent(message(2))); // a late copy after all
    node.append_elsewhere(4, true);
    CHECK(node.offsets(phone) == Offsets{1, 2, 3, 4});
    CHECK(node.offsets(laptop) == Offsets{1, 2, 3, 4});
    CHECK(node.history->reads == 1);
    CHECK(node.transport.is_open(phone));
}

TEST_CASE("an event heard in another epoch closes the user's devices for reset", "[manager][history][sequence]") {
    SequencedNode node;
    const Handle phone = node.connect();
    node.backplane->sink->deliver_from_stream(alice, {switchboard::Epoch::random(), 1},
                                              switchboard::StoredEvent(message(1)).text());
    CHECK(node.offsets(phone).empty());
    CHECK_FALSE(node.transport.is_open(phone));
    CHECK(node.manager.metrics().closed_stream_reset == 1);
}

TEST_CASE("an event the shared store could not keep goes out live without an offset, and to the other nodes plain",
          "[manager][history][sequence]") {
    SequencedNode node;
    const Handle phone = node.connect();
    node.append_elsewhere(1, true);
    node.history->keeps = false;
    CHECK(node.manager.send_to_user(alice, message(7)) == 1);
    node.history->keeps = true;
    node.append_elsewhere(2, true); // the stream goes on past the event it never held

    CHECK(node.offsets(phone) == Offsets{1, 2});
    CHECK(count_without_offset(node.transport, phone, 7) == 1);
    CHECK(node.transport.is_open(phone));
    CHECK(node.backplane->published_to_users == 1); // the store published nothing of it
    CHECK(node.manager.metrics().history_append_failures == 1);
}

TEST_CASE("a node whose history does not publish its appends delivers the other nodes' stream events live, "
          "without an offset", "[manager][history][sequence]") {
    const bool with_history = GENERATE(true, false); // --history memory, --history off
    const auto backplane = std::make_shared<SilentBackplane>();
    switchboard::ManagerOptions options =
        with_history ? HistoryFixture::options(std::make_shared<switchboard::MemoryHistory>(), 1000)
                     : switchboard::ManagerOptions{};
    options.backplane = backplane;
    switchboard::MockTransport transport;
    Manager manager(transport, HistoryFixture::authenticator(), options);
    const Handle phone = transport.open();
    manager.register_connection(alice, phone);

    // What a node with --history redis appended at its offset 3, as its store published it.
    backplane->sink->deliver_from_stream(alice, {switchboard::Epoch::random(), 3},
                                         switchboard::StoredEvent(message(3)).text());
    CHECK(count_without_offset(transport, phone, 3) == 1);
    CHECK(transport.is_open(phone));
    CHECK(backplane->published_to_users == 0); // delivered here only, never published again

    // A text that is not an event's does not reach the device.
    const std::size_t received = transport.frames(phone).size();
    backplane->sink->deliver_from_stream(alice, {switchboard::Epoch::random(), 4}, "{\"type\":");
    CHECK(transport.frames(phone).size() == received);
}
