// ConnectionManager with a history that answers asynchronously (a store across the network), on
// the mock transport: nothing goes out before the store's answer, a user's stream still goes out
// in offset order whatever order the answers come in, a Session still comes first, and an answer
// that comes after the manager is gone is dropped.
#include "answering_later.hpp"
#include "history_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

struct AsyncHistoryFixture : HistoryFixture {
    AsyncHistoryFixture() : HistoryFixture(std::make_shared<AnsweringLater>()) {}
    AnsweringLater& store() { return static_cast<AnsweringLater&>(*history); }

    Device connect_answered(const std::string& token, std::optional<StreamPosition> resume = std::nullopt) {
        const Device device = connect(token, resume);
        store().answer_all();
        return device;
    }
};

} // namespace

TEST_CASE_METHOD(AsyncHistoryFixture, "a connection's Session waits for the store to open its stream",
                 "[manager][history][async]") {
    const Device phone = connect("alice");
    CHECK(received(phone).empty());
    CHECK(store().unanswered() == 1);
    manager.broadcast(Event("Tick", {}, Durability::ephemeral)); // held while the start waits

    store().answer();
    const std::vector<Received> frames = received(phone);
    REQUIRE(frames.size() == 3);
    CHECK(frames[0].type == "Session");
    CHECK(frames[1].type == "UserOnline");
    CHECK(frames[2].type == "Tick");
}

TEST_CASE_METHOD(AsyncHistoryFixture, "a durable send returns at once and goes out when the store answers",
                 "[manager][history][async]") {
    const Device phone = connect_answered("alice");
    const Device laptop = connect_answered("alice");
    const std::size_t before = received(phone).size();

    CHECK(manager.send_to_user(alice, message(1)) == 2); // queued for both devices
    CHECK(manager.send_to_user(alice, message(2), laptop.id) == 1);
    CHECK(received(phone).size() == before); // nothing out before the answer
    CHECK(store().unanswered() == 2);

    store().answer(1); // the second answered first: it waits behind the first
    CHECK(received(phone).size() == before);
    store().answer();
    CHECK(offsets(phone) == std::vector<std::uint64_t>{1, 2});
    CHECK(offsets(laptop) == std::vector<std::uint64_t>{1});
    CHECK(manager.metrics().frames_delivered >= 3);
}

TEST_CASE_METHOD(AsyncHistoryFixture, "a durable send counts the started connections it is queued for, not a "
                 "starting one, which still gets it after its Session", "[manager][history][async]") {
    const Device phone = connect_answered("alice");
    const Device laptop = connect("alice"); // its open unanswered: still starting
    CHECK(manager.send_to_user(alice, message(1)) == 1);
    CHECK(manager.send_to_user(alice, message(2), phone.id) == 0);
    store().answer_all();
    CHECK(offsets(phone) == std::vector<std::uint64_t>{1});
    CHECK(offsets(laptop) == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE_METHOD(AsyncHistoryFixture, "a resume waits for the store and replays what was missed",
                 "[manager][history][async]") {
    const Device phone = connect_answered("alice");
    manager.send_to_users({alice, bob}, message(1));
    store().answer_all();
    const StreamPosition left_at = position(phone);
    leave(phone);
    manager.send_to_user(alice, message(2));
    manager.send_to_user(alice, message(3));

    const Device back = connect("alice", left_at); // queued behind the two appends
    store().answer(2);                             // its open, first: still behind them
    CHECK(received(back).empty());
    store().answer_all();
    const std::vector<Received> frames = received(back);
    REQUIRE_FALSE(frames.empty());
    const Session session = session_of(frames.front());
    CHECK(session.recovery == Recovery::complete);
    CHECK(session.replayed == 2);
    CHECK(offsets(back) == std::vector<std::uint64_t>{2, 3});
}

TEST_CASE_METHOD(AsyncHistoryFixture, "an append the store could not keep goes out live without an offset",
                 "[manager][history][async]") {
    const Device phone = connect_answered("alice");
    store().fail_appends(true);
    manager.send_to_user(alice, message(1));
    store().answer_all();
    const std::vector<Received> frames = received(phone);
    REQUIRE(frames.back().type == "MessageSent");
    CHECK_FALSE(frames.back().offset);
    CHECK(manager.metrics().history_append_failures == 1);
}

TEST_CASE_METHOD(AsyncHistoryFixture, "a store that is behind gets a durable send refused whole",
                 "[manager][history][async]") {
    const Device phone = connect_answered("alice");
    const Device laptop = connect_answered("alice");
    manager.on("SendMessage",
               [&](const Inbound& inbound) { manager.send_to_users({alice, bob}, message(9), inbound.connection); });
    const std::size_t before = received(phone).size();

    store().admit(false);
    CHECK_THROWS_AS(manager.send_to_users({alice, bob}, message(1)), HistoryOverloaded);
    transport.receive(laptop.handle, R"({"type":"SendMessage","data":{}})");
    CHECK(store().unanswered() == 0); // nothing queued: no offset taken, nothing to reset
    CHECK(received(phone).size() == before);
    const std::vector<Received> answer = received(laptop);
    REQUIRE(answer.back().type == "Error");
    CHECK(answer.back().data.at("code") == "overloaded");
    CHECK(manager.metrics().history_refused_sends == 2);

    store().admit(true);
    manager.send_to_user(alice, message(2));
    store().answer_all();
    CHECK(offsets(phone) == std::vector<std::uint64_t>{1}); // the refused ones took none
    CHECK(manager.metrics().history_append_failures == 0);
    CHECK(manager.metrics().closed_stream_reset == 0);
}

TEST_CASE("an answer that comes after the manager is gone is dropped", "[manager][history][async]") {
    const auto store = std::make_shared<AnsweringLater>();
    {
        HistoryFixture fixture(store);
        fixture.connect("alice");
        fixture.manager.send_to_user(alice, message(1));
        CHECK(store->unanswered() == 2);
    }
    store->answer_all(); // under ASan, a use of the manager would be caught here
    CHECK(store->unanswered() == 0);
}
