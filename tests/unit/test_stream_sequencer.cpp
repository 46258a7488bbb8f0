// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// detail::StreamSequencer: a user's deliveries on one node put in offset order, once each, with
// gaps filled from the history, and starts that bring the started connections up to their top.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/detail/stream_sequencer.hpp>

using switchboard::Epoch;
using switchboard::Event;
using switchboard::StoredEvent;
using switchboard::StreamPosition;
using switchboard::UserId;
using Sequencer = switchboard::detail::StreamSequencer;
using Outcome = Sequencer::Outcome;

namespace {

const UserId sequenced_user = UserId::parse("11111111-1111-4111-8111-111111111111");

StoredEvent note(std::uint64_t n) { return StoredEvent(Event("Note", nlohmann::json{{"n", n}})); }

/// One user's stream as the store holds it (event n at offset n), what was read of it, and what
/// the sequencer sent, by offset.
struct Stream {
    Epoch epoch = Epoch::random();
    std::uint64_t top = 0;
    bool readable = true;
    std::vector<std::uint64_t> sent;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reads; ///< (after, upto)

    StreamPosition at(std::uint64_t offset) const { return {epoch, offset}; }

    std::optional<std::vector<StoredEvent>> read(const StreamPosition& after, std::uint64_t upto) {
        reads.emplace_back(after.offset, upto);
        if (!readable || after.epoch != epoch || upto > top) return std::nullopt;
        std::vector<StoredEvent> events;
        for (std::uint64_t n = after.offset + 1; n <= upto; ++n) events.push_back(note(n));
        return events;
    }

    void send(const StoredEvent& event, std::uint64_t offset) {
        CHECK(nlohmann::json::parse(event.text())["data"]["n"] == offset); // each event at its own offset
        sent.push_back(offset);
    }

    auto reader() {
        return [this](const StreamPosition& after, std::uint64_t upto) { return read(after, upto); };
    }
    auto sender() {
        return [this](const StoredEvent& event, std::uint64_t offset) { send(event, offset); };
    }

    Outcome deliver(Sequencer& sequencer, std::uint64_t offset) {
        top = std::max(top, offset); // the store holds what is published
        return sequencer.deliver(sequenced_user, at(offset), note(offset), reader(), sender());
    }
    Outcome start(Sequencer& sequencer, std::uint64_t at_top, bool others_started) {
        return sequencer.start(sequenced_user, at(at_top), others_started, reader(), sender());
    }
    Outcome catch_up(Sequencer& sequencer, std::uint64_t store_top) {
        return sequencer.catch_up(sequenced_user, at(store_top), reader(), sender());
    }

};

using Offsets = std::vector<std::uint64_t>;

} // namespace

TEST_CASE("events in offset order go out as they come; duplicates and older ones are dropped", "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    REQUIRE(stream.start(sequencer, 0, false) == Outcome::sent);
    CHECK(stream.deliver(sequencer, 1) == Outcome::sent);
    CHECK(stream.deliver(sequencer, 2) == Outcome::sent);
    CHECK(stream.deliver(sequencer, 2) == Outcome::dropped);
    CHECK(stream.deliver(sequencer, 1) == Outcome::dropped);
    CHECK(stream.deliver(sequencer, 3) == Outcome::sent);
    CHECK(stream.sent == Offsets{1, 2, 3});
    CHECK(stream.reads.empty());
}

TEST_CASE("a gap is filled from the history first; the late copies are then dropped", "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    stream.top = 2;
    REQUIRE(stream.start(sequencer, 2, false) == Outcome::sent); // replayed up to 2 elsewhere
    // 3 and 4 from another node are delayed (or lost); this node's own append of 5 comes first.
    CHECK(stream.deliver(sequencer, 5) == Outcome::sent);
    CHECK(stream.reads == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2, 4}});
    CHECK(stream.deliver(sequencer, 3) == Outcome::dropped);
    CHECK(stream.deliver(sequencer, 4) == Outcome::dropped);
    CHECK(stream.deliver(sequencer, 6) == Outcome::sent);
    CHECK(stream.sent == Offsets{3, 4, 5, 6});
}

TEST_CASE("a gap the history cannot fill, or another epoch, resets the user and forgets them", "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    REQUIRE(stream.start(sequencer, 0, false) == Outcome::sent);
    SECTION("gap unreadable") {
        stream.readable = false;
        CHECK(stream.deliver(sequencer, 3) == Outcome::reset);
    }
    SECTION("another epoch") {
        const Epoch old = stream.epoch;
        stream.epoch = Epoch::random();
        CHECK(stream.deliver(sequencer, 1) == Outcome::reset);
        stream.epoch = old;
    }
    CHECK(sequencer.size() == 0);
    CHECK(stream.sent.empty());
    CHECK(stream.deliver(sequencer, 1) == Outcome::reset); // nothing held: no start came since
}

TEST_CASE("a start brings the connections started already up to its top first", "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    REQUIRE(stream.start(sequencer, 0, false) == Outcome::sent);
    REQUIRE(stream.deliver(sequencer, 1) == Outcome::sent);
    stream.top = 4; // 2..4 appended elsewhere, not heard yet
    CHECK(stream.start(sequencer, 4, true) == Outcome::sent);
    CHECK(stream.sent == Offsets{1, 2, 3, 4});
    CHECK(stream.deliver(sequencer, 3) == Outcome::dropped); // the late copies
    CHECK(stream.deliver(sequencer, 4) == Outcome::dropped);
    CHECK(stream.deliver(sequencer, 5) == Outcome::sent);
    CHECK(stream.sent == Offsets{1, 2, 3, 4, 5});
}

TEST_CASE("a start with no connection started reads nothing; one in another epoch resets the others",
          "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    stream.top = 7;
    REQUIRE(stream.start(sequencer, 2, false) == Outcome::sent);
    CHECK(stream.start(sequencer, 7, false) == Outcome::sent);
    CHECK(stream.reads.empty());
    CHECK(stream.deliver(sequencer, 8) == Outcome::sent);
    stream.epoch = Epoch::random();
    CHECK(stream.start(sequencer, 0, true) == Outcome::reset);
    CHECK(stream.deliver(sequencer, 1) == Outcome::sent); // held: the new start's epoch and top
    CHECK(stream.sent == Offsets{8, 1});
}

TEST_CASE("a user forgotten holds no memory; the next start begins afresh", "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    REQUIRE(stream.start(sequencer, 0, false) == Outcome::sent);
    CHECK(sequencer.size() == 1);
    sequencer.forget(sequenced_user);
    CHECK(sequencer.size() == 0);
    stream.top = 3;
    REQUIRE(stream.start(sequencer, 3, false) == Outcome::sent);
    CHECK(stream.deliver(sequencer, 4) == Outcome::sent);
    CHECK(stream.sent == Offsets{4});
}

TEST_CASE("a catch-up sends what lies between the position held and the store's top, once", "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    REQUIRE(stream.start(sequencer, 0, false) == Outcome::sent);
    REQUIRE(stream.deliver(sequencer, 1) == Outcome::sent);
    stream.top = 4; // 2..4 published while the subscriber was away: never heard
    CHECK(stream.catch_up(sequencer, 4) == Outcome::sent);
    CHECK(stream.reads == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 4}});
    CHECK(stream.catch_up(sequencer, 4) == Outcome::dropped); // twice: nothing more
    CHECK(stream.catch_up(sequencer, 3) == Outcome::dropped); // a top read before a later event
    CHECK(stream.deliver(sequencer, 4) == Outcome::dropped);
    CHECK(stream.deliver(sequencer, 5) == Outcome::sent);
    CHECK(stream.sent == Offsets{1, 2, 3, 4, 5});
    CHECK(stream.reads.size() == 1);
}

TEST_CASE("a catch-up for a user without a position reads nothing; another epoch or an unreadable gap resets",
          "[sequencer]") {
    Sequencer sequencer;
    Stream stream;
    stream.top = 3;
    CHECK(stream.catch_up(sequencer, 3) == Outcome::dropped);
    CHECK(sequencer.size() == 0);
    REQUIRE(stream.start(sequencer, 1, false) == Outcome::sent);
    SECTION("gap unreadable") {
        stream.readable = false;
        CHECK(stream.catch_up(sequencer, 3) == Outcome::reset);
    }
    SECTION("another epoch") {
        stream.epoch = Epoch::random();
        CHECK(stream.catch_up(sequencer, 3) == Outcome::reset);
    }
    CHECK(sequencer.size() == 0);
    CHECK(stream.sent.empty());
}
