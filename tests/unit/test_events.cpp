#include <switchboard/events.hpp>

#include <catch2/catch.hpp>

using namespace switchboard;

namespace {

const UserId alice = UserId::parse("11111111-1111-4111-8111-111111111111");
const UserId bob = UserId::parse("22222222-2222-4222-8222-222222222222");

/// Typed -> Event -> wire text -> Event -> typed.
template <class T>
T round_trip(const T& typed) {
    const Frame frame = Event(typed).to_frame();
    const Event parsed = Event::parse(frame.text());
    CHECK(parsed.type() == T::type_name);
    return event_cast<T>(parsed);
}

std::string cast_error(const Event& event) {
    try {
        event_cast<MessageRead>(event);
    } catch (const ProtocolError& error) {
        CHECK(error.code() == errc::bad_payload);
        return error.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("Every built-in event survives a JSON round trip", "[events]") {
    const MessageSent sent = round_trip(MessageSent{"m1", alice, {bob, alice}, "hello"});
    CHECK(sent.message_id == "m1");
    CHECK(sent.from == alice);
    CHECK(sent.to == std::vector<UserId>{bob, alice});
    CHECK(sent.content == "hello");

    const MessageRead read = round_trip(MessageRead{"m1", bob});
    CHECK(read.message_id == "m1");
    CHECK(read.reader == bob);

    const TypingStarted started = round_trip(TypingStarted{"c9", alice});
    CHECK(started.conversation_id == "c9");
    CHECK(started.user_id == alice);

    const TypingStopped stopped = round_trip(TypingStopped{"c9", bob});
    CHECK(stopped.conversation_id == "c9");
    CHECK(stopped.user_id == bob);

    const PaymentReceived paid = round_trip(PaymentReceived{"p7", alice, 1999, "EUR"});
    CHECK(paid.payment_id == "p7");
    CHECK(paid.from == alice);
    CHECK(paid.amount_minor == 1999);
    CHECK(paid.currency == "EUR");

    const PostLiked liked = round_trip(PostLiked{"post-3", bob});
    CHECK(liked.post_id == "post-3");
    CHECK(liked.liked_by == bob);

    CHECK(round_trip(UserOnline{alice}).user_id == alice);
    CHECK(round_trip(UserOffline{bob}).user_id == bob);

    const Error error = round_trip(Error{"forbidden", "admins only"});
    CHECK(error.code == "forbidden");
    CHECK(error.message == "admins only");
}

TEST_CASE("Built-in events have the documented wire form", "[events]") {
    CHECK(Event(UserOnline{alice}).to_frame().text() ==
          R"({"type":"UserOnline","data":{"user_id":"11111111-1111-4111-8111-111111111111"}})");
    CHECK(Event(Error{"bad_payload", "x"}).to_frame().text() ==
          R"({"type":"Error","data":{"code":"bad_payload","message":"x"}})");
}

TEST_CASE("event_cast refuses payloads that do not fit", "[events]") {
    CHECK_THAT(cast_error(Event("MessageRead", {{"message_id", "m"}})), Catch::Contains("reader"));
    CHECK_THAT(cast_error(Event("MessageRead", {{"message_id", 5}, {"reader", bob}})),
               Catch::Contains("MessageRead"));
    CHECK_THAT(cast_error(Event("MessageRead", {{"message_id", "m"}, {"reader", "bob"}})),
               Catch::Contains("invalid user id"));
    CHECK_THAT(cast_error(Event("MessageRead", nlohmann::json::array())), Catch::Contains("MessageRead"));
    CHECK_THAT(cast_error(Event("PostLiked", {{"message_id", "m"}, {"reader", bob}})),
               Catch::Contains("expected a MessageRead event, got PostLiked"));
}

namespace host {
struct OrderShipped {
    static constexpr std::string_view type_name = "OrderShipped";
    std::string order_id;
    int parcels = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(OrderShipped, order_id, parcels)
} // namespace host

TEST_CASE("A host's own event type works like a built-in one", "[events]") {
    static_assert(is_event_type_v<host::OrderShipped>);
    static_assert(!is_event_type_v<int>);
    const host::OrderShipped shipped = round_trip(host::OrderShipped{"o-17", 2});
    CHECK(shipped.order_id == "o-17");
    CHECK(shipped.parcels == 2);
}

TEST_CASE("typing, presence and errors are ephemeral; messages, payments and likes durable", "[events]") {
    CHECK(Event(TypingStarted{"c", alice}).durability() == Durability::ephemeral);
    CHECK(Event(TypingStopped{"c", alice}).durability() == Durability::ephemeral);
    CHECK(Event(UserOnline{alice}).durability() == Durability::ephemeral);
    CHECK(Event(UserOffline{alice}).durability() == Durability::ephemeral);
    CHECK(Event(PresenceDiff{{alice}, {}}).durability() == Durability::ephemeral);
    CHECK(Event(Error{"x", "y"}).durability() == Durability::ephemeral);
    CHECK(Event(MessageSent{"m", alice, {bob}, "hi"}).durability() == Durability::durable);
    CHECK(Event(MessageRead{"m", bob}).durability() == Durability::durable);
    CHECK(Event(PaymentReceived{"p", alice, 1, "EUR"}).durability() == Durability::durable);
    CHECK(Event(PostLiked{"p", bob}).durability() == Durability::durable);
}
