// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// permessage-deflate through the real transport (issue 16): negotiated in the 101 with a client that
// offers it (and never with compression off), broadcasts and a user's frames deflated once and sent
// compressed (RSV1) to the connections that negotiated it and plain to the others, small messages
// plain, compressed client messages read, and a decompression bomb (1009), corrupt deflate data and
// compressed text that is not UTF-8 (1007) closing the connection. Raw-socket clients, so that each
// frame's RSV1 bit and payload are seen as sent.

#include <string>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "http_client.hpp"
#include "raw_socket.hpp"
#include "transport/websocketpp/deflate.hpp"
#include "transport/websocketpp/inflate.hpp"

using namespace integration;

namespace {

constexpr std::string_view negotiated = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                                        "client_no_context_takeover\r\n";

/// A Note event of about `size` bytes of JSON, as compressible as chat text.
switchboard::Event note_of(std::size_t size) {
    std::string text;
    while (text.size() < size) text += "the quick brown fox " + std::to_string(text.size()) + " ";
    return switchboard::Event("Note", {{"text", text}});
}

/// A Note, or any compressed text (the tests' other events are all under the threshold).
bool is_note(const WsFrame& frame) {
    return frame.opcode == opcode::text && (frame.rsv1 || frame.payload.find("\"Note\"") != std::string::npos);
}

/// The event's data, as every recipient's text ends (a user's frame has its history offset before it).
std::string data_of(const switchboard::Event& event) {
    const std::string text = event.to_text();
    return text.substr(text.find("\"data\""));
}

/// The message a frame carries: inflated if it is compressed.
std::string text_of(const WsFrame& frame) {
    if (!frame.rsv1) return frame.payload;
    std::string text;
    REQUIRE(switchboard::detail::inflate_message(frame.payload, 1 << 20, text) ==
            switchboard::detail::InflateResult::ok);
    return text;
}

/// A client frame of a message compressed as a client with permessage-deflate would (RSV1, deflated).
std::string compressed_frame(std::uint8_t type, std::string_view message) {
    std::string payload;
    REQUIRE(switchboard::detail::deflate_message(message, 15, 0, payload));
    constexpr std::uint8_t rsv1 = 0x40;
    return client_frame(static_cast<std::uint8_t>(type | rsv1), payload, /*fin=*/true, 0x12345678);
}

switchboard::WebsocketppTransport::Metrics metrics_of(TestServer& server) {
    return server.manager().transport().metrics();
}

} // namespace

TEST_CASE("A broadcast is deflated once: compressed to deflate clients, plain to the others, small ones plain",
          "[integration][compression]") {
    TestServer server;
    auto deflating = connect_raw_user(server, UserId::random(), offering_deflate());
    auto also_deflating = connect_raw_user(server, UserId::random(), offering_deflate());
    auto plain = connect_raw_user(server, UserId::random());
    CHECK(deflating->handshake().find(negotiated) != std::string::npos);
    CHECK(plain->handshake().find("Sec-WebSocket-Extensions") == std::string::npos);

    const auto before = metrics_of(server);
    const switchboard::Event event = note_of(1024);
    server.manager().broadcast(event);
    const std::string sent = event.to_text();
    for (RawWebSocket* client : {deflating.get(), also_deflating.get()}) {
        const auto frame = client->read_until(is_note);
        REQUIRE(frame);
        CHECK(frame->rsv1);
        CHECK(frame->payload.size() < sent.size() / 2);
        CHECK(text_of(*frame) == sent);
    }
    const auto frame = plain->read_until(is_note);
    REQUIRE(frame);
    CHECK_FALSE(frame->rsv1);
    CHECK(frame->payload == sent);

    const auto after = metrics_of(server);
    CHECK(after.deflations - before.deflations == 1);
    CHECK(after.compressed_out.messages - before.compressed_out.messages == 2);
    CHECK(after.compressed_out.message_bytes - before.compressed_out.message_bytes == 2 * sent.size());
    CHECK(after.compressed_out.wire_bytes - before.compressed_out.wire_bytes < sent.size());
    const HttpReply scrape =
        http_request(server.port(), {"GET", "/metrics", bearer(token_for(UserId::random(), /*admin=*/true)), ""});
    CHECK(scrape.body.find("switchboard_compressed_message_bytes_total{direction=\"out\",form=\"uncompressed\"} " +
                           std::to_string(after.compressed_out.message_bytes) + "\n") != std::string::npos);
    CHECK(scrape.body.find("switchboard_deflations_total " + std::to_string(after.deflations) + "\n") !=
          std::string::npos);

    server.manager().broadcast(note_of(100)); // under the threshold of 256 bytes
    const auto small = deflating->read_until(is_note);
    REQUIRE(small);
    CHECK_FALSE(small->rsv1);
    CHECK(small->payload == note_of(100).to_text());
}

TEST_CASE("A user's event is deflated once for all of that user's devices that negotiated it",
          "[integration][compression]") {
    TestServer server;
    const UserId user = UserId::random();
    auto phone = connect_raw_user(server, user, offering_deflate());
    auto laptop = connect_raw_user(server, user, offering_deflate());
    auto old_browser = connect_raw_user(server, user);

    const auto before = metrics_of(server);
    const switchboard::Event event = note_of(2048);
    server.manager().send_to_user(user, event);
    for (RawWebSocket* device : {phone.get(), laptop.get(), old_browser.get()}) {
        const auto frame = device->read_until(is_note);
        REQUIRE(frame);
        CHECK(frame->rsv1 == (device != old_browser.get()));
        CHECK(text_of(*frame).find(data_of(event)) != std::string::npos);
    }
    CHECK(metrics_of(server).deflations - before.deflations == 1);
}

TEST_CASE("A compressed client message is read, and its large answer goes back compressed",
          "[integration][compression]") {
    TestServer server;
    auto client = connect_raw_user(server, UserId::random(), offering_deflate());
    const std::string data = R"({"n":")" + std::string(600, 'p') + "\"}";
    const std::string ping = R"({"type":"Ping","data":)" + data + "}";
    REQUIRE(client->send_raw(compressed_frame(opcode::text, ping)));
    const auto pong = client->read_until([](const WsFrame& frame) { return frame.rsv1; });
    REQUIRE(pong);
    CHECK(text_of(*pong) == R"({"type":"Pong","data":)" + data + "}");
    const auto metrics = metrics_of(server);
    CHECK(metrics.compressed_in.messages == 1);
    CHECK(metrics.compressed_in.message_bytes == ping.size());
    CHECK(metrics.compressed_in.wire_bytes < 100);
}

TEST_CASE("A decompression bomb closes with 1009, corrupt or invalid compressed text with 1007",
          "[integration][compression][hostile]") {
    TestServer server; // max_message_size 64 KiB
    const auto close_code_after = [&](const std::string& frame) {
        auto client = connect_raw_user(server, UserId::random(), offering_deflate());
        REQUIRE(client->send_raw(frame));
        const auto close = client->read_close();
        REQUIRE(close);
        return close->close_code();
    };
    CHECK(close_code_after(compressed_frame(opcode::text, std::string(4 << 20, ' '))) == 1009);
    CHECK(close_code_after(client_frame(0x40 | opcode::text, "\xff\xfe not deflate", true, 0x01020304)) == 1007);
    // The client drops the socket as soon as it has the close, without echoing it: the code the
    // server sent is what is counted, however that race with websocketpp's read ends.
    constexpr int invalid_texts = 20;
    for (int i = 0; i < invalid_texts; ++i)
        CHECK(close_code_after(compressed_frame(opcode::text, std::string(300, '\xff'))) == 1007);
    const auto closed_with = [&](int code) { return metrics_of(server).closes[static_cast<std::size_t>(code - 1000)]; };
    const auto closed = [&] { return closed_with(1009) + closed_with(1007) + closed_with(1006); };
    eventually([&] { return closed() == 2 + invalid_texts; }); // counted once each is gone
    CHECK(closed_with(1009) == 1);
    CHECK(closed_with(1007) == 1 + invalid_texts);
    CHECK(closed_with(1006) == 0);
}

TEST_CASE("With compression off the 101 names no extension and every frame goes plain",
          "[integration][compression]") {
    social::ServerOptions options = server_options();
    options.transport.compression.enabled = false;
    TestServer server(options);
    auto client = connect_raw_user(server, UserId::random(), offering_deflate());
    CHECK(client->handshake().find("Sec-WebSocket-Extensions") == std::string::npos);
    server.manager().broadcast(note_of(1024));
    const auto frame = client->read_until(is_note);
    REQUIRE(frame);
    CHECK_FALSE(frame->rsv1);
    CHECK(metrics_of(server).deflations == 0);
}
