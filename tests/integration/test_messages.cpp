// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The example's inbound protocol over real connections: every message type, and bad input.
//
// "X does not receive Y" is checked after a `round_trip` on the connection that caused Y (so the
// handler that would have sent it has finished) and then on X (so whatever was sent to X arrived).

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace integration;

namespace {

/// Four users online: alice and bob with two devices each, carol with one, and an admin.
struct Chat {
    TestServer server;
    UserId alice = UserId::random();
    UserId bob = UserId::random();
    UserId carol = UserId::random();
    UserId admin = UserId::random();
    std::unique_ptr<TestClient> alice_phone = connect_user(server, alice);
    std::unique_ptr<TestClient> alice_laptop = connect_user(server, alice);
    std::unique_ptr<TestClient> bob_phone = connect_user(server, bob);
    std::unique_ptr<TestClient> bob_laptop = connect_user(server, bob);
    std::unique_ptr<TestClient> carol_phone = connect_user(server, carol);
    std::unique_ptr<TestClient> admin_console = connect_user(server, admin, ConnectOptions{true, {}});

    std::vector<TestClient*> everyone() const {
        return {alice_phone.get(), alice_laptop.get(), bob_phone.get(), bob_laptop.get(), carol_phone.get(),
                admin_console.get()};
    }

    /// After `sender`'s earlier messages were handled: none of `others` received an event of `type`.
    void check_not_received(TestClient& sender, const std::vector<TestClient*>& others, std::string_view type) {
        round_trip(sender);
        for (TestClient* other : others) {
            round_trip(*other);
            CHECK(events_of(*other, type).empty());
        }
    }
};

/// The single event of `type` a client received (fails the test unless there is exactly one).
json only_event(const TestClient& client, std::string_view type) {
    REQUIRE(wait_for_event(client, type));
    const std::vector<json> events = events_of(client, type);
    REQUIRE(events.size() == 1);
    return events.front();
}

json without(json object, std::initializer_list<const char*> keys) {
    for (const char* key : keys) object.erase(key);
    return object;
}

} // namespace

TEST_CASE_METHOD(Chat, "SendMessage reaches every recipient device and the sender's other devices",
                 "[integration][messages]") {
    const UserId offline_user = UserId::random();
    const json sent = {{"to", {bob.to_string(), offline_user.to_string()}},
                       {"content", "hello"},
                       {"from", carol.to_string()}, // forged: the server must overwrite it
                       {"attachments", {{{"kind", "image"}, {"size", 1234}}}}};
    REQUIRE(alice_phone->send_text(envelope("SendMessage", sent)));

    std::string message_id;
    for (TestClient* receiver : {bob_phone.get(), bob_laptop.get(), alice_laptop.get()}) {
        const json data = only_event(*receiver, "MessageSent")["data"];
        CHECK(data.value("from", "") == alice.to_string());
        CHECK(without(data, {"from", "message_id"}) == without(sent, {"from"}));
        REQUIRE(data["message_id"].is_string());
        if (message_id.empty()) message_id = data["message_id"].get<std::string>();
        CHECK(data["message_id"] == message_id); // one message, one id
    }
    CHECK_FALSE(message_id.empty());
    // Not the sending connection, nobody outside the conversation, and no error for the offline recipient.
    check_not_received(*alice_phone, {alice_phone.get(), carol_phone.get(), admin_console.get()}, "MessageSent");
    CHECK(errors_of(*alice_phone).empty());
}

TEST_CASE_METHOD(Chat, "MarkRead tells every device of the author who read what", "[integration][messages]") {
    REQUIRE(bob_phone->send_text(envelope("MarkRead", {{"to", alice.to_string()}, {"message_id", "m-42"}})));
    const json expected = {{"type", "MessageRead"}, {"data", {{"message_id", "m-42"}, {"reader", bob.to_string()}}}};
    CHECK(only_event(*alice_phone, "MessageRead") == expected);
    CHECK(only_event(*alice_laptop, "MessageRead") == expected);
    check_not_received(*bob_phone, {bob_phone.get(), bob_laptop.get(), carol_phone.get()}, "MessageRead");
    CHECK(errors_of(*bob_phone).empty());
}

TEST_CASE_METHOD(Chat, "TypingStarted and TypingStopped reach the recipients with the sender as user_id",
                 "[integration][messages]") {
    for (const char* type : {"TypingStarted", "TypingStopped"}) {
        INFO(type);
        REQUIRE(alice_phone->send_text(envelope(type, {{"conversation_id", "c-7"}, {"to", {bob.to_string()}}})));
        const json expected = {{"type", type}, {"data", {{"conversation_id", "c-7"}, {"user_id", alice.to_string()}}}};
        CHECK(only_event(*bob_phone, type) == expected);
        CHECK(only_event(*bob_laptop, type) == expected);
        check_not_received(*alice_phone, {alice_laptop.get(), carol_phone.get()}, type);
    }
    CHECK(errors_of(*alice_phone).empty());
}

TEST_CASE_METHOD(Chat, "Broadcast from an admin reaches everyone including the sender", "[integration][messages]") {
    const json data = {{"text", "maintenance at 02:00 UTC"}, {"severity", 2}};
    REQUIRE(admin_console->send_text(envelope("Broadcast", data)));
    const json expected = {{"type", "Broadcast"}, {"data", data}};
    for (TestClient* client : everyone()) CHECK(only_event(*client, "Broadcast") == expected);
    CHECK(errors_of(*admin_console).empty());
}

TEST_CASE_METHOD(Chat, "Broadcast from a non-admin is refused with a forbidden Error", "[integration][messages]") {
    REQUIRE(carol_phone->send_text(envelope("Broadcast", {{"text", "free crypto"}})));
    REQUIRE(wait_for_event(*carol_phone, "Error"));
    const std::vector<json> errors = errors_of(*carol_phone);
    REQUIRE(errors.size() == 1);
    CHECK(errors.front()["data"].value("code", "") == "forbidden");
    check_not_received(*carol_phone, everyone(), "Broadcast");
}

namespace {

struct BadInput {
    const char* name;
    std::string payload;
    bool binary;
    const char* code;
};

std::vector<BadInput> bad_inputs(const UserId& someone) {
    const std::string user = someone.to_string();
    return {
        {"invalid JSON", "{\"type\": \"SendMessage\", ", false, "invalid_json"},
        {"not an envelope", "[1, 2, 3]", false, "invalid_envelope"},
        {"unknown type", envelope("LaunchRockets", json::object()), false, "unknown_type"},
        {"SendMessage without to", envelope("SendMessage", {{"content", "hi"}}), false, "bad_payload"},
        {"SendMessage to a non-UUID", envelope("SendMessage", {{"to", {"bob"}}}), false, "bad_payload"},
        {"SendMessage with non-object data", envelope("SendMessage", "hi"), false, "bad_payload"},
        {"MarkRead without message_id", envelope("MarkRead", {{"to", user}}), false, "bad_payload"},
        {"TypingStarted without conversation_id", envelope("TypingStarted", {{"to", {user}}}), false, "bad_payload"},
        {"binary frame", std::string("\x00\x01\xff", 3), true, "binary_unsupported"},
    };
}

} // namespace

TEST_CASE_METHOD(Chat, "Bad input gets an Error on that connection only and the connection stays usable",
                 "[integration][messages]") {
    const std::vector<BadInput> inputs = bad_inputs(bob);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        INFO(inputs[i].name);
        const bool queued = inputs[i].binary ? alice_phone->send_binary(inputs[i].payload)
                                             : alice_phone->send_text(inputs[i].payload);
        REQUIRE(queued);
        REQUIRE(alice_phone->wait_until([&](const ClientState& state) { return errors_of(state).size() > i; }));
        CHECK(errors_of(*alice_phone).at(i)["data"].value("code", "") == inputs[i].code);
    }
    CHECK(errors_of(*alice_phone).size() == inputs.size());

    // Still open and served: a valid message goes through.
    REQUIRE(alice_phone->is_open());
    REQUIRE(alice_phone->send_text(envelope("TypingStarted", {{"conversation_id", "c-1"}, {"to", {bob.to_string()}}})));
    CHECK(wait_for_event(*bob_phone, "TypingStarted", about_user(alice)));
    CHECK(server.manager().connection_count(alice) == 2);
    for (TestClient* other : {alice_laptop.get(), bob_phone.get(), bob_laptop.get(), carol_phone.get()}) {
        round_trip(*other);
        CHECK(errors_of(*other).empty());
    }
}

TEST_CASE_METHOD(Chat, "Ping is answered with a Pong carrying the same data, to that connection only",
                 "[integration][messages][ping]") {
    const json data = {{"sent", 1700000000123}, {"note", "héllo"}, {"list", {1, nullptr, true}}};
    REQUIRE(alice_phone->send_text(envelope("Ping", data)));
    REQUIRE(wait_for_event(*alice_phone, "Pong"));
    CHECK(only_event(*alice_phone, "Pong")["data"] == data);
    CHECK(errors_of(*alice_phone).empty());
    check_not_received(*alice_phone, {alice_laptop.get(), bob_phone.get()}, "Pong");
    check_not_received(*alice_phone, {alice_laptop.get(), bob_phone.get()}, "Ping");
}
