// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Hostile input after and around the upgrade (issue 5, "Hostile input"): messages a client library would
// never send (deep nesting, wrong types, 10,000 recipients), frames it would never write (fragments, invalid
// UTF-8), and HTTP that is not a proper upgrade (no key, no upgrade, no handshake at all). Each gets its
// documented answer, and a bystander's connection is never disturbed.

#include <optional>
#include <utility>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "http_client.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

constexpr int invalid_payload_data = 1007; // RFC 6455: e.g. a text frame that is not UTF-8

/// `depth` arrays nested inside one another.
std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::vector<std::string> random_users(std::size_t count) {
    std::vector<std::string> users;
    users.reserve(count);
    for (std::size_t i = 0; i < count; ++i) users.push_back(UserId::random().to_string());
    return users;
}

/// Sends one message and returns the code of the `Error` answering it ("" if the server answered none).
std::string error_code_for(TestClient& client, const std::string& message) {
    const std::size_t errors_before = errors_of(client).size();
    REQUIRE(client.send_text(message));
    round_trip(client); // the server answers in order: any Error for `message` came before this one's
    const std::vector<json> errors = errors_of(client);
    REQUIRE(errors.size() <= errors_before + 1);
    return errors.size() == errors_before ? "" : errors.back()["data"].value("code", "");
}

/// The bystander is still connected, served, and has seen no error.
void check_undisturbed(TestServer& server, TestClient& bystander, const UserId& user) {
    round_trip(bystander);
    CHECK(bystander.is_open());
    CHECK(errors_of(bystander).empty());
    CHECK(server.manager().connection_count(user) == 1);
}

/// A text frame whose JSON is an event of this type.
std::function<bool(const WsFrame&)> text_of_type(std::string_view type) {
    return [type = std::string(type)](const WsFrame& frame) {
        if (frame.opcode != opcode::text) return false;
        const json event = json::parse(frame.payload, nullptr, /*allow_exceptions=*/false);
        return event.is_object() && event.value("type", "") == type;
    };
}

/// A server that takes messages big enough for 10,000 recipients (about 390 KB of UUIDs).
social::ServerOptions large_message_options() {
    social::ServerOptions options = server_options();
    options.transport.max_message_size = 1024 * 1024;
    return options;
}

} // namespace

TEST_CASE("Deeply nested JSON gets an invalid_json Error and the connection stays usable",
          "[integration][messages][hostile]") {
    TestServer server;
    const UserId user = UserId::random();
    const UserId bystander_user = UserId::random();
    auto client = connect_user(server, user);
    auto bystander = connect_user(server, bystander_user);

    // 33 levels in all, one over the default limit of 32; then deep enough to overflow a recursive parser's
    // stack, yet under the 64 KiB message cap.
    for (const std::size_t depth : {std::size_t{31}, std::size_t{1000}, std::size_t{30000}}) {
        INFO("depth " << depth);
        const std::string message = R"({"type":"SendMessage","data":{"x":)" + nested_arrays(depth) + "}}";
        CHECK(error_code_for(*client, message) == "invalid_json");
    }
    CHECK(error_code_for(*client, nested_arrays(30000)) == "invalid_json"); // checked before the envelope
    CHECK(client->is_open());
    check_undisturbed(server, *bystander, bystander_user);
}

TEST_CASE("Fields of the wrong type get a bad_payload Error", "[integration][messages][hostile]") {
    TestServer server;
    const UserId user = UserId::random();
    const std::string someone = UserId::random().to_string();
    auto client = connect_user(server, user);
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"to a string", envelope("SendMessage", {{"to", someone}})},
        {"to a number", envelope("SendMessage", {{"to", 42}})},
        {"to an object", envelope("SendMessage", {{"to", {{"user", someone}}}})},
        {"to numbers", envelope("SendMessage", {{"to", {1, 2, 3}}})},
        {"to null", envelope("SendMessage", {{"to", nullptr}})},
        {"to empty", envelope("SendMessage", {{"to", json::array()}})},
        {"data an array", envelope("SendMessage", json::array({someone}))},
        {"data null", R"({"type":"SendMessage","data":null})"},
        {"MarkRead to a list", envelope("MarkRead", {{"to", {someone}}, {"message_id", "m-1"}})},
        {"MarkRead message_id a number", envelope("MarkRead", {{"to", someone}, {"message_id", 42}})},
        {"TypingStarted conversation_id an object",
         envelope("TypingStarted", {{"to", {someone}}, {"conversation_id", {{"id", 1}}}})},
        {"TypingStopped to true", envelope("TypingStopped", {{"to", true}, {"conversation_id", "c"}})},
    };
    for (const auto& [name, message] : cases) {
        INFO(name);
        CHECK(error_code_for(*client, message) == "bad_payload");
    }
    // A type that is not a string is no envelope.
    CHECK(error_code_for(*client, R"({"type":42,"data":{}})") == "invalid_envelope");
    CHECK(client->is_open());
}

TEST_CASE("10,000 recipients in one to list get too_many_recipients and 100 are fine",
          "[integration][messages][hostile]") {
    TestServer server(large_message_options());
    const UserId sender_user = UserId::random();
    const UserId receiver_user = UserId::random();
    auto sender = connect_user(server, sender_user);
    auto receiver = connect_user(server, receiver_user);

    std::vector<std::string> many = random_users(10000);
    many.push_back(receiver_user.to_string());
    CHECK(error_code_for(*sender, envelope("SendMessage", {{"to", many}, {"content", "spam"}})) ==
          "too_many_recipients");
    CHECK(error_code_for(*sender, envelope("TypingStarted", {{"to", many}, {"conversation_id", "c"}})) ==
          "too_many_recipients");
    round_trip(*receiver);
    CHECK(events_of(*receiver, "MessageSent").empty());

    std::vector<std::string> hundred = random_users(99);
    hundred.push_back(receiver_user.to_string());
    CHECK(error_code_for(*sender, envelope("SendMessage", {{"to", hundred}, {"content", "ok"}})).empty());
    CHECK(wait_for_event(*receiver, "MessageSent"));
    hundred.push_back(UserId::random().to_string());
    CHECK(error_code_for(*sender, envelope("SendMessage", {{"to", hundred}})) == "too_many_recipients");
}

TEST_CASE("A message sent as continuation frames is reassembled and handled", "[integration][frames][hostile]") {
    TestServer server;
    const UserId sender_user = UserId::random();
    const UserId receiver_user = UserId::random();
    auto receiver = connect_user(server, receiver_user);
    auto sender = connect_raw_user(server, sender_user);

    const std::string message =
        envelope("SendMessage", {{"to", {receiver_user.to_string()}}, {"content", "in three pieces"}});
    const std::size_t third = message.size() / 3;
    REQUIRE(sender->send_frame(opcode::text, message.substr(0, third), /*fin=*/false));
    // RFC 6455 allows control frames between the fragments of a message: the ping must be answered at once.
    REQUIRE(sender->send_frame(opcode::ping, "between fragments"));
    const auto pong = sender->read_until([](const WsFrame& frame) { return frame.opcode == opcode::pong; });
    REQUIRE(pong);
    CHECK(pong->payload == "between fragments");
    REQUIRE(sender->send_frame(opcode::continuation, message.substr(third, third), /*fin=*/false));
    REQUIRE(sender->send_frame(opcode::continuation, message.substr(2 * third), /*fin=*/true));

    REQUIRE(wait_for_event(*receiver, "MessageSent"));
    const json sent = events_of(*receiver, "MessageSent").front()["data"];
    CHECK(sent.value("content", "") == "in three pieces");
    CHECK(sent.value("from", "") == sender_user.to_string());

    // One byte per frame, and the answer comes back on the same connection.
    const std::string unknown = envelope("Fragmented", json::object());
    for (std::size_t i = 0; i < unknown.size(); ++i)
        REQUIRE(sender->send_frame(i == 0 ? opcode::text : opcode::continuation, unknown.substr(i, 1),
                                   /*fin=*/i + 1 == unknown.size()));
    const auto error = sender->read_until(text_of_type("Error"));
    REQUIRE(error);
    CHECK(json::parse(error->payload)["data"].value("code", "") == "unknown_type");
    CHECK(server.manager().connection_count(sender_user) == 1);
}

TEST_CASE("Invalid UTF-8 in a text frame closes that connection with 1007 and no other",
          "[integration][frames][hostile]") {
    TestServer server;
    const UserId sender_user = UserId::random();
    const UserId bystander_user = UserId::random();
    auto bystander = connect_user(server, bystander_user);

    SECTION("in one frame") {
        auto sender = connect_raw_user(server, sender_user);
        REQUIRE(sender->send_text("{\"type\":\"SendMessage\",\"data\":{\"content\":\"\xC3\x28\xFF\"}}"));
        const auto close = sender->read_close();
        REQUIRE(close);
        CHECK(close->close_code() == invalid_payload_data);
    }
    SECTION("split across fragments") {
        auto sender = connect_raw_user(server, sender_user);
        // A valid two-byte sequence split between frames must pass; the overlong NUL after it must not.
        REQUIRE(sender->send_frame(opcode::text, "\"caf\xC3", /*fin=*/false));
        REQUIRE(sender->send_frame(opcode::continuation, "\xA9\xC0\x80\"", /*fin=*/true));
        const auto close = sender->read_close();
        REQUIRE(close);
        CHECK(close->close_code() == invalid_payload_data);
    }
    CHECK(eventually([&] { return server.manager().connection_count(sender_user) == 0; }));
    CHECK(wait_for_event(*bystander, "UserOffline", about_user(sender_user)));
    check_undisturbed(server, *bystander, bystander_user);
}

namespace {

constexpr int protocol_error = 1002;
constexpr int message_too_big = 1009;
constexpr std::uint32_t some_mask = 0x5A17C0DE;

struct Violation {
    const char* name;
    std::string bytes; ///< what the client sends after its handshake
    int close_code;    ///< the server's answer
};

std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
    return client_frame(opcode, payload, fin, some_mask);
}

std::vector<Violation> protocol_violations(std::size_t max_message_size) {
    const std::string half(max_message_size / 2 + 1, 'x');
    return {
        {"unmasked frame", client_frame(opcode::text, "{}", true, std::nullopt), protocol_error},
        {"RSV1 without an extension", frame(opcode::text | 0x40, "{}"), protocol_error},
        {"reserved opcode 0x3", frame(0x3, "{}"), protocol_error},
        {"ping of 126 bytes", frame(opcode::ping, std::string(126, 'p')), protocol_error},
        {"fragmented ping", frame(opcode::ping, "p", /*fin=*/false), protocol_error},
        {"continuation without a start", frame(opcode::continuation, "{}"), protocol_error},
        {"new message inside a fragmented one", frame(opcode::text, "{", false) + frame(opcode::text, "}"),
         protocol_error},
        {"fragments over max_message_size", frame(opcode::text, half, false) + frame(opcode::continuation, half),
         message_too_big},
    };
}

} // namespace

TEST_CASE("Frames that break RFC 6455 close that connection with 1002 or 1009 and no other",
          "[integration][frames][hostile]") {
    TestServer server;
    const UserId bystander_user = UserId::random();
    auto bystander = connect_user(server, bystander_user);
    for (const Violation& violation : protocol_violations(switchboard::WebsocketppOptions{}.max_message_size)) {
        INFO(violation.name);
        const UserId user = UserId::random();
        auto client = connect_raw_user(server, user);
        REQUIRE(client->send_raw(violation.bytes));
        const auto close = client->read_close();
        REQUIRE(close);
        CHECK(close->close_code() == violation.close_code);
        CHECK(eventually([&] { return !server.manager().is_user_online(user); }));
    }
    check_undisturbed(server, *bystander, bystander_user);
}

namespace {

/// `request` with its `name` header line left out.
std::string without_header(std::string request, std::string_view name) {
    const std::size_t line = request.find("\r\n" + std::string(name) + ": ");
    REQUIRE(line != std::string::npos);
    request.erase(line, request.find("\r\n", line + 2) - line);
    return request;
}

/// `request` with its `name` header saying `value` instead (the first header line if it had none).
std::string with_header(std::string request, std::string_view name, std::string_view value) {
    if (request.find("\r\n" + std::string(name) + ": ") != std::string::npos) request = without_header(request, name);
    const std::size_t first_header = request.find("\r\n") + 2;
    return request.insert(first_header, std::string(name) + ": " + std::string(value) + "\r\n");
}

/// `request` with another request line, e.g. "POST /ws HTTP/1.1".
std::string with_request_line(std::string request, std::string_view line) {
    return request.replace(0, request.find("\r\n"), line);
}

struct MalformedUpgrade {
    std::string name;
    std::string request;
    int status;
    std::string reason;
    std::optional<std::pair<std::string, std::string>> header; ///< that the answer must carry
};

std::vector<MalformedUpgrade> malformed_upgrades(std::uint16_t port, const std::string& token) {
    const std::string good = upgrade_request(port, "/ws", bearer(token));
    const std::pair<std::string, std::string> version_13{"Sec-WebSocket-Version", "13"};
    const std::pair<std::string, std::string> upgrade_offer{"Upgrade", "websocket"};
    const std::pair<std::string, std::string> allow_get{"Allow", "GET"};
    const std::string version_reason = "only WebSocket version 13 is supported";
    const std::string key_reason = "Sec-WebSocket-Key is not base64 of 16 bytes";
    const std::string upgrade_reason = "expected a WebSocket upgrade (Upgrade: websocket)";
    const std::string connection_reason = "the Connection header lacks the upgrade token";
    const std::string method_reason = "a WebSocket upgrade must be a GET request";
    return {
        {"no Sec-WebSocket-Version", without_header(good, "Sec-WebSocket-Version"), 426, version_reason, version_13},
        {"Sec-WebSocket-Version 0 (hybi-00)", with_header(good, "Sec-WebSocket-Version", "0"), 426, version_reason,
         version_13},
        {"Sec-WebSocket-Version 8", with_header(good, "Sec-WebSocket-Version", "8"), 426, version_reason, version_13},
        {"Sec-WebSocket-Version 12", with_header(good, "Sec-WebSocket-Version", "12"), 426, version_reason, version_13},
        {"Sec-WebSocket-Version not a number", with_header(good, "Sec-WebSocket-Version", "thirteen"), 426,
         version_reason, version_13},
        {"no Sec-WebSocket-Key", without_header(good, "Sec-WebSocket-Key"), 400, "missing Sec-WebSocket-Key", {}},
        {"key not base64", with_header(good, "Sec-WebSocket-Key", "not base64, not at all"), 400, key_reason, {}},
        {"key without its padding", with_header(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"), 400,
         key_reason, {}},
        {"key of 3 bytes", with_header(good, "Sec-WebSocket-Key", "AAAA"), 400, key_reason, {}},
        {"key of 17 bytes", with_header(good, "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA="), 400, key_reason, {}},
        {"key with bits past its 16 bytes", with_header(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZR=="), 400,
         key_reason, {}},
        {"no Upgrade", without_header(good, "Upgrade"), 426, upgrade_reason, upgrade_offer},
        {"Upgrade: h2c", with_header(good, "Upgrade", "h2c"), 426, upgrade_reason, upgrade_offer},
        {"Upgrade: websocketx (websocket only as a substring)", with_header(good, "Upgrade", "websocketx"), 426,
         upgrade_reason, upgrade_offer},
        {"no Connection", without_header(good, "Connection"), 400, connection_reason, {}},
        {"Connection: keep-alive", with_header(good, "Connection", "keep-alive"), 400, connection_reason, {}},
        {"Connection: upgraded (upgrade only as a substring)", with_header(good, "Connection", "upgraded"), 400,
         connection_reason, {}},
        {"POST", with_request_line(good, "POST /ws HTTP/1.1"), 405, method_reason, allow_get},
        {"PUT", with_request_line(good, "PUT /ws HTTP/1.1"), 405, method_reason, allow_get},
        {"HTTP/1.0", with_request_line(good, "GET /ws HTTP/1.0"), 400, "a WebSocket upgrade must be HTTP/1.1", {}},
        {"POST without a version", with_request_line(without_header(good, "Sec-WebSocket-Version"), "POST /ws HTTP/1.1"),
         405, method_reason, allow_get},
    };
}

} // namespace

TEST_CASE("Malformed upgrades get a 4xx with a reason, never a 5xx, and the server stays up",
          "[integration][http][hostile]") {
    TestServer server;
    const UserId user = UserId::random();
    for (const MalformedUpgrade& upgrade : malformed_upgrades(server.port(), token_for(user))) {
        INFO(upgrade.name);
        const HttpReply reply = raw_http_exchange(server.port(), upgrade.request);
        CHECK(reply.status == upgrade.status);
        CHECK(reply.header("Content-Type") == "application/json");
        CHECK(reply.json() == json{{"error", "refused"}, {"reason", upgrade.reason}});
        if (upgrade.header) CHECK(reply.header(upgrade.header->first) == upgrade.header->second);
    }
    // Plain HTTP to the WebSocket endpoint, without any upgrade headers.
    for (const char* method : {"GET", "POST"}) {
        INFO(method);
        const HttpReply reply = http_request(server.port(), {method, "/ws", bearer(token_for(user)), ""});
        CHECK(reply.status == 426);
        CHECK(reply.header("Upgrade") == "websocket");
        CHECK(reply.json().value("reason", "") == "expected a WebSocket upgrade (Upgrade: websocket)");
    }
    CHECK(server.manager().metrics().connections_registered == 0);
    auto client = connect_user(server, user);
    round_trip(*client);
}

TEST_CASE("Upgrades are read as RFC 6455 asks: token lists, any case, any valid key",
          "[integration][http][hostile]") {
    TestServer server;
    const UserId user = UserId::random();
    const std::string good = upgrade_request(server.port(), "/ws", bearer(token_for(user)));
    const std::vector<std::pair<const char*, std::string>> upgrades = {
        {"Upgrade: WebSocket", with_header(good, "Upgrade", "WebSocket")},
        {"Upgrade: a list", with_header(good, "Upgrade", "h2c, websocket")},
        {"Connection: keep-alive, Upgrade", with_header(good, "Connection", "keep-alive, Upgrade")},
        {"Connection: UPGRADE", with_header(good, "Connection", "UPGRADE")},
        {"another key", with_header(good, "Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")},
        {"a key of zeros", with_header(good, "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")},
    };
    for (const auto& [name, request] : upgrades) {
        INFO(name);
        RawSocket socket(server.port());
        REQUIRE(socket.send_all(request));
        CHECK(read_http_head(socket).status == 101);
    }
}

TEST_CASE("A TCP connection that never completes its handshake is closed after handshake_timeout",
          "[integration][http][hostile]") {
    constexpr auto handshake_timeout = 300ms;
    social::ServerOptions options = server_options();
    options.transport.handshake_timeout = handshake_timeout;
    TestServer server(std::move(options));
    const UserId user = UserId::random();

    for (const std::string_view sent : {std::string_view(), std::string_view("GET /ws HTTP/1.1\r\nHost: 127")}) {
        INFO("sent before going quiet: \"" << sent << "\"");
        const auto start = std::chrono::steady_clock::now();
        RawSocket socket(server.port());
        REQUIRE(socket.send_all(sent));
        // Generous upper bound for sanitized builds; the lower one shows it was the timeout that closed it.
        REQUIRE(socket.wait_for_close(handshake_timeout + 5s));
        const auto waited = std::chrono::steady_clock::now() - start;
        CHECK(waited >= handshake_timeout * 0.8);
    }
    CHECK(server.manager().metrics().connections_registered == 0);
    auto client = connect_user(server, user);
    round_trip(*client);
}
