// Switchboard's permessage-deflate extension inside websocketpp's own hybi13 processor: a websocketpp
// server on its iostream transport reads a client's bytes and writes its answers into a string, with
// no socket and no thread. Client frames are built and server frames read here, with zlib directly.
#include "deflate_fixtures.hpp"
#include "transport/websocketpp/deflate_access.hpp"
#include "transport/websocketpp/deflate_extension.hpp"

#include <sstream>
#include <vector>

#include <websocketpp/config/core.hpp>
#include <websocketpp/server.hpp>

#include <catch2/catch.hpp>

using namespace switchboard::detail;
using namespace deflate_fixtures;

namespace {

struct deflate_config : websocketpp::config::core {
    using type = deflate_config;
    static constexpr std::size_t max_message_size = 64 * 1024; // also the default inflated-size limit
    using permessage_deflate_type = DeflateExtension<deflate_config>;
};
// The transport's way: websocketpp leaves the header alone, the validate handler negotiates.
struct transport_config : deflate_config {
    using type = transport_config;
    static const bool enable_extensions = false;
    using permessage_deflate_type = DeflateExtension<transport_config>;
};

} // namespace

SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(transport_config)

namespace {

struct ServerFrame {
    bool compressed;
    int opcode;
    std::string payload;
};

// A masked client frame.
std::string client_frame(std::string_view payload, bool compressed, int opcode = 1, bool fin = true)
{
    std::string frame(1, static_cast<char>((fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode));
    const std::size_t size = payload.size();
    if (size < 126) {
        frame += static_cast<char>(0x80 | size);
    } else {
        const int length_bytes = size < 65536 ? 2 : 8;
        frame += static_cast<char>(0x80 | (length_bytes == 2 ? 126 : 127));
        for (int i = length_bytes - 1; i >= 0; --i) frame += static_cast<char>((size >> (8 * i)) & 0xff);
    }
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(key, 4);
    for (std::size_t i = 0; i < size; ++i) frame += static_cast<char>(payload[i] ^ key[i % 4]);
    return frame;
}

// One connection of a websocketpp server, fed bytes by the test. With `transport_config`, its
// validate handler negotiates as the transport will, and limits inflated messages to `limit`.
template <class Config>
class BasicSession {
public:
    using Server = websocketpp::server<Config>;

    explicit BasicSession(std::string_view extensions, [[maybe_unused]] std::size_t limit = Config::max_message_size)
    {
        server_.clear_access_channels(websocketpp::log::alevel::all);
        server_.clear_error_channels(websocketpp::log::elevel::all);
        server_.set_message_handler([this](websocketpp::connection_hdl, typename Server::message_ptr message) {
            received.push_back(message->get_payload());
            invalid_text.push_back(is_invalid_compressed_text(message));
        });
        if constexpr (!Config::enable_extensions) {
            server_.set_validate_handler([this, limit](websocketpp::connection_hdl) {
                const std::string header = connection_->get_request_header("Sec-WebSocket-Extensions");
                if (std::optional<DeflateAgreement> agreement = negotiate_deflate(header)) {
                    switchboard::websocketpp_internals::deflate_extension_of(*connection_)->enable(*agreement, limit);
                    connection_->replace_header("Sec-WebSocket-Extensions", deflate_response(*agreement));
                }
                return true;
            });
        }
        connection_ = server_.get_connection();
        connection_->register_ostream(&output_);
        connection_->start();
        std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        if (!extensions.empty()) request += "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
        feed(request + "\r\n");
        const std::string answer = output_.str();
        const std::size_t end = answer.find("\r\n\r\n");
        REQUIRE(end != std::string::npos);
        handshake_ = answer.substr(0, end + 2);
        read_ = end + 4;
    }

    /// The answer's Sec-WebSocket-Extensions value, or "" if it has none.
    std::string extensions_answer() const
    {
        const std::string name = "Sec-WebSocket-Extensions: ";
        const std::size_t start = handshake_.find(name);
        if (start == std::string::npos) return "";
        return handshake_.substr(start + name.size(), handshake_.find("\r\n", start) - start - name.size());
    }

    /// Hands the bytes to websocketpp `piece` bytes at a time, as separate reads.
    void feed(std::string_view bytes, std::size_t piece = SIZE_MAX)
    {
        for (std::size_t at = 0; at < bytes.size(); at += piece) {
            std::string_view part = bytes.substr(at, piece);
            connection_->read_some(part.data(), part.size());
        }
    }

    /// The frames the server wrote since the last call.
    std::vector<ServerFrame> frames()
    {
        const std::string bytes = output_.str();
        std::vector<ServerFrame> result;
        while (read_ + 2 <= bytes.size()) {
            const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[read_ + i]); };
            std::size_t size = byte(1) & 0x7f, header = 2;
            if (size >= 126) {
                const std::size_t length_bytes = size == 126 ? 2 : 8;
                size = 0;
                for (std::size_t i = 0; i < length_bytes; ++i) size = size << 8 | byte(2 + i);
                header += length_bytes;
            }
            result.push_back({(byte(0) & 0x40) != 0, byte(0) & 0x0f, bytes.substr(read_ + header, size)});
            read_ += header + size;
        }
        return result;
    }

    /// The close code of the server's close frame, 0 if it sent none.
    int close_code()
    {
        for (ServerFrame const& frame : frames())
            if (frame.opcode == 8 && frame.payload.size() >= 2)
                return static_cast<unsigned char>(frame.payload[0]) << 8 | static_cast<unsigned char>(frame.payload[1]);
        return 0;
    }

    typename Server::connection_ptr const& connection() const { return connection_; }

    /// The answer's status line.
    std::string status() const { return handshake_.substr(0, handshake_.find("\r\n")); }

    std::vector<std::string> received;
    std::vector<bool> invalid_text; ///< is_invalid_compressed_text() of each message received

private:
    Server server_;
    typename Server::connection_ptr connection_;
    std::ostringstream output_;
    std::string handshake_;
    std::size_t read_ = 0;
};

using Session = BasicSession<deflate_config>;
using TransportSession = BasicSession<transport_config>;

const std::string agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

} // namespace

TEST_CASE("websocketpp answers the first acceptable offer through the extension", "[deflate]") {
    CHECK(Session("permessage-deflate; client_max_window_bits").extensions_answer() == agreed);
    CHECK(Session("").extensions_answer().empty());
    CHECK(Session("permessage-deflate; server_max_window_bits=8").extensions_answer().empty());
    CHECK(Session("permessage-deflate; x-unknown, permessage-deflate; server_max_window_bits=10").extensions_answer() ==
          agreed + "; server_max_window_bits=10");
}

TEST_CASE("A compressed client message reaches the handler, whatever the pieces it comes in", "[deflate]") {
    const std::string message = json_message(5000);
    const std::string frame = client_frame(client_deflate(message), true);
    for (std::size_t piece : {std::size_t(1), std::size_t(4), std::size_t(7), std::size_t(100), frame.size()}) {
        INFO("pieces of " << piece);
        Session session("permessage-deflate");
        session.feed(frame, piece);
        session.feed(frame, piece); // and a second message after it
        CHECK(session.received == std::vector<std::string>{message, message});
        CHECK(session.close_code() == 0);
    }
}

TEST_CASE("A compressed message in several frames, and a plain one, on a deflate connection", "[deflate]") {
    const std::string message = json_message(3000);
    const std::string payload = client_deflate(message);
    Session session("permessage-deflate");
    session.feed(client_frame(payload.substr(0, 10), true, 1, false) +
                 client_frame(payload.substr(10, 300), false, 0, false) +
                 client_frame(payload.substr(310), false, 0, true));
    session.feed(client_frame("plain text", false));
    CHECK(session.received == std::vector<std::string>{message, "plain text"});
}

TEST_CASE("Outgoing messages leave compressed, in the negotiated window", "[deflate]") {
    const std::string message = json_message(4000);
    // A copy 2 KiB back: a 9-bit window (512 bytes) cannot refer to it, a client with 9 bits could not follow.
    const std::string block = random_bytes(2048);
    Session session("permessage-deflate; server_max_window_bits=9");
    session.connection()->send(message);
    session.connection()->send(block + block, websocketpp::frame::opcode::binary);
    std::vector<ServerFrame> frames = session.frames();
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].compressed);
    CHECK(frames[0].payload.size() < message.size());
    CHECK(client_inflate(frames[0].payload, 9) == message);
    CHECK(frames[1].payload.size() > block.size() * 2);
    CHECK(client_inflate(frames[1].payload, 9) == block + block);
}

TEST_CASE("A frame prepared once goes to a deflate connection compressed", "[deflate]") {
    const std::string message = json_message(1024);
    SharedDeflate shared(message, 256);
    std::string const* payload = shared.payload_for(15);
    REQUIRE(payload);
    Session session("permessage-deflate");
    auto prepared = std::make_shared<deflate_config::message_type>(nullptr, websocketpp::frame::opcode::text);
    prepare_server_frame(prepared, websocketpp::frame::opcode::text, *payload, true);
    session.connection()->send(prepared);
    session.connection()->send(prepared);
    std::vector<ServerFrame> frames = session.frames();
    REQUIRE(frames.size() == 2);
    for (ServerFrame const& frame : frames) {
        CHECK(frame.compressed);
        CHECK(frame.payload == *payload);
        CHECK(client_inflate(frame.payload) == message);
    }
}

TEST_CASE("A decompression bomb closes with 1009, corrupt data with 1007", "[deflate]") {
    {
        Session session("permessage-deflate");
        const std::string bomb = client_deflate(std::string(1u << 20, 'a')); // about 1 KiB
        REQUIRE(bomb.size() < deflate_config::max_message_size);
        session.feed(client_frame(bomb, true));
        CHECK(session.received.empty());
        CHECK(session.close_code() == 1009);
    }
    {
        Session session("permessage-deflate");
        session.feed(client_frame(random_bytes(300), true));
        CHECK(session.received.empty());
        CHECK(session.close_code() == 1007);
    }
}

TEST_CASE("The extension alone: negotiation, the transport's limit and decline", "[deflate]") {
    // What each connection's processor holds, negotiated or not: a flag, the window, the limit and an
    // empty string (websocketpp's own extension holds two zlib streams once negotiated).
    CHECK(sizeof(DeflateExtension<deflate_config>) <= 48);
    DeflateExtension<deflate_config> extension;
    CHECK(extension.is_implemented());
    CHECK(!extension.is_enabled());
    CHECK(extension.negotiate({{"server_max_window_bits", "8"}}).first);
    CHECK(!extension.is_enabled());
    CHECK(extension.negotiate({{"Server_Max_Window_Bits", "11"}, {"client_max_window_bits", ""}}).second ==
          agreed + "; server_max_window_bits=11");
    CHECK(extension.is_enabled());
    CHECK(extension.window_bits() == 11);
    CHECK(!extension.init(true));
    CHECK(extension.init(false)); // server only

    const std::string message = json_message(2000);
    std::string compressed;
    REQUIRE(!extension.compress(message, compressed));
    compressed.resize(compressed.size() - 4); // what the processor strips
    const auto* bytes = reinterpret_cast<std::uint8_t const*>(compressed.data());
    const std::uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};

    std::string out;
    REQUIRE(!extension.decompress(bytes, 5, out));
    REQUIRE(!extension.decompress(bytes + 5, compressed.size() - 5, out));
    CHECK(out.empty()); // nothing before the message is complete
    REQUIRE(!extension.decompress(tail, 4, out));
    CHECK(out == message);

    extension.limit_inflated_size(message.size() - 1);
    out.clear();
    REQUIRE(!extension.decompress(bytes, compressed.size(), out));
    CHECK(extension.decompress(tail, 4, out) == websocketpp::processor::error::make_error_code(
                                                   websocketpp::processor::error::message_too_big));

    extension.decline();
    CHECK(!extension.is_enabled());
}

TEST_CASE("Negotiated by the transport: a bad header means no compression, not a refusal", "[deflate]") {
    // websocketpp's own negotiation refuses what it cannot parse, and misses a repeated parameter.
    CHECK(Session("permessage-deflate; a=\"open").status() == "HTTP/1.1 400 Bad Request");
    CHECK(Session("permessage-deflate; client_no_context_takeover; client_no_context_takeover").extensions_answer() ==
          agreed);

    TransportSession bad("permessage-deflate; a=\"open");
    CHECK(bad.status() == "HTTP/1.1 101 Switching Protocols");
    CHECK(bad.extensions_answer().empty());
    CHECK(TransportSession("permessage-deflate; client_no_context_takeover; client_no_context_takeover")
              .extensions_answer()
              .empty());
    CHECK(TransportSession("").extensions_answer().empty());

    TransportSession chromium("permessage-deflate; client_max_window_bits");
    CHECK(chromium.extensions_answer() == agreed);
    const std::string message = json_message(2000);
    chromium.feed(client_frame(client_deflate(message), true));
    CHECK(chromium.received == std::vector<std::string>{message});
    chromium.connection()->send(message);
    std::vector<ServerFrame> frames = chromium.frames();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].compressed);
    CHECK(client_inflate(frames[0].payload) == message);
}

TEST_CASE("Negotiated by the transport: its limit caps what a message inflates to", "[deflate]") {
    const std::string message = json_message(2000);
    TransportSession session("permessage-deflate", message.size() - 1);
    session.feed(client_frame(client_deflate(message), true));
    CHECK(session.received.empty());
    CHECK(session.close_code() == 1009);
}

TEST_CASE("Compressed text that is not UTF-8 is the transport's to catch", "[deflate]") {
    Session session("permessage-deflate");
    session.feed(client_frame(client_deflate("caf\xc3\xa9 " + json_message(300)), true));
    session.feed(client_frame(client_deflate("\xff\xfe not UTF-8 " + json_message(300)), true));
    session.feed(client_frame(client_deflate("\xff\xfe binary " + json_message(300)), true, 2));
    session.feed(client_frame("\xff plain", false)); // websocketpp itself refuses this one: 1007
    REQUIRE(session.received.size() == 3);
    CHECK(session.invalid_text == std::vector<bool>{false, true, false});
    CHECK(session.close_code() == 1007);
}
