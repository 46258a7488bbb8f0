// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// permessage-deflate at the transport's own interface (issue 16), without a connection manager: a
// listener that accepts every upgrade and keeps each handle, so that a test can call
// `send(handle, Frame)` and `prepare(Frame)` itself. A direct send to a connection that negotiated
// the extension goes compressed; frames are prepared with compressed variants only while such a
// connection is open.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <switchboard/transport/websocketpp.hpp>

#include "harness.hpp"
#include "raw_socket.hpp"
#include "transport/websocketpp/inflate.hpp"

using namespace integration;
using switchboard::WebsocketppTransport;

namespace {

using Handle = WebsocketppTransport::handle_type;

/// Accepts every upgrade; keeps the handles of the connections opened and counts those gone.
class AcceptingListener final : public switchboard::TransportListener<Handle> {
public:
    switchboard::AuthResult on_upgrade(const switchboard::UpgradeRequest&) override {
        return switchboard::Identity(UserId::random());
    }
    switchboard::ConnectionId on_open(const Handle& handle, switchboard::Identity) override {
        const std::lock_guard<std::mutex> lock(mutex_);
        handles_.push_back(handle);
        return switchboard::ConnectionId::next();
    }
    void on_abandon(const switchboard::Identity&) override {}
    void on_message(switchboard::ConnectionId, std::string_view, switchboard::MessageKind) override {}
    void on_close(switchboard::ConnectionId) override {
        const std::lock_guard<std::mutex> lock(mutex_);
        ++closed_;
    }
    void on_shutdown() override {}

    /// The handle of the `index`th connection opened.
    Handle handle(std::size_t index) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return handles_.at(index);
    }
    std::size_t opened() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return handles_.size();
    }
    std::size_t closed() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return closed_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Handle> handles_;
    std::size_t closed_ = 0;
};

/// A transport on a free loopback port, compression on (the default), served by its own thread.
struct BareTransport {
    BareTransport() : transport(options()) {
        transport.set_listener(&listener);
        transport.start();
    }
    ~BareTransport() { transport.shutdown(); }

    static switchboard::WebsocketppOptions options() {
        switchboard::WebsocketppOptions options;
        options.port = 0;
        return options;
    }

    /// A client upgraded (offering what `options` offer) and seen opened by the listener.
    std::unique_ptr<RawWebSocket> connect(const RawSocketOptions& options) {
        const std::size_t before = listener.opened();
        auto client = std::make_unique<RawWebSocket>(transport.port(), "any-token", options);
        REQUIRE(client->status() == 101);
        REQUIRE(eventually([&] { return listener.opened() == before + 1; }));
        return client;
    }

    AcceptingListener listener;
    WebsocketppTransport transport;
};

/// About `size` bytes of JSON text, as compressible as chat.
switchboard::Frame note_frame(std::size_t size) {
    std::string text = R"({"type":"Note","data":{"text":")";
    while (text.size() < size) text += "the quick brown fox " + std::to_string(text.size()) + " ";
    return switchboard::Frame(text + "\"}}");
}

bool has_compressed_variants(WebsocketppTransport& transport) {
    return transport.prepare(note_frame(1024)).compressed_variants() != nullptr;
}

} // namespace

TEST_CASE("A direct send of a frame to a connection that negotiated permessage-deflate arrives compressed",
          "[integration][compression]") {
    BareTransport server;
    auto deflating = server.connect(offering_deflate());
    auto plain = server.connect({});
    const switchboard::Frame frame = note_frame(1024);

    REQUIRE(server.transport.send(server.listener.handle(0), frame));
    const auto compressed = deflating->read_frame();
    REQUIRE(compressed);
    CHECK(compressed->rsv1);
    CHECK(compressed->payload.size() < frame.size() / 2);
    std::string inflated;
    REQUIRE(switchboard::detail::inflate_message(compressed->payload, 1 << 20, inflated) ==
            switchboard::detail::InflateResult::ok);
    CHECK(inflated == frame.text());

    REQUIRE(server.transport.send(server.listener.handle(1), frame));
    const auto uncompressed = plain->read_frame();
    REQUIRE(uncompressed);
    CHECK_FALSE(uncompressed->rsv1);
    CHECK(uncompressed->payload == frame.text());
    CHECK(server.transport.metrics().deflations == 1);
}

TEST_CASE("Frames get compressed variants only while a connection that negotiated permessage-deflate is open",
          "[integration][compression]") {
    BareTransport server;
    auto plain = server.connect({});
    CHECK_FALSE(has_compressed_variants(server.transport));

    auto deflating = server.connect(offering_deflate());
    auto also_deflating = server.connect(offering_deflate());
    CHECK(has_compressed_variants(server.transport));

    deflating->socket().reset();
    REQUIRE(eventually([&] { return server.listener.closed() == 1; }));
    CHECK(has_compressed_variants(server.transport)); // one is left
    also_deflating->socket().reset();
    REQUIRE(eventually([&] { return server.listener.closed() == 2; }));
    CHECK_FALSE(has_compressed_variants(server.transport));
}
