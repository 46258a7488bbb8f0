#include <switchboard/transport.hpp>
#include <switchboard/transport/mock.hpp>

#include <catch2/catch.hpp>

using namespace switchboard;

namespace {

struct MinimalTransport {
    using handle_type = int;
    bool send(const handle_type&, const Frame&) { return true; }
    void close(const handle_type&, CloseCode, std::string_view) {}
    bool is_open(const handle_type&) const { return true; }
    std::size_t queued_bytes(const handle_type&) const { return 0; }
};

struct PreparingTransport : MinimalTransport {
    using MinimalTransport::send;
    struct prepared_type {};
    prepared_type prepare(const Frame&) { return {}; }
    bool send(const handle_type&, const prepared_type&) { return true; }
};

struct NoQueuedBytes {
    using handle_type = int;
    bool send(const handle_type&, const Frame&) { return true; }
    void close(const handle_type&, CloseCode, std::string_view) {}
    bool is_open(const handle_type&) const { return true; }
};

struct WrongSendResult {
    using handle_type = int;
    void send(const handle_type&, const Frame&) {}
    void close(const handle_type&, CloseCode, std::string_view) {}
    bool is_open(const handle_type&) const { return true; }
    std::size_t queued_bytes(const handle_type&) const { return 0; }
};

} // namespace

TEST_CASE("The transport check accepts complete policies and refuses incomplete ones", "[transport]") {
    STATIC_REQUIRE(is_transport_v<MockTransport>);
    STATIC_REQUIRE(is_transport_v<MinimalTransport>);
    STATIC_REQUIRE(is_transport_v<PreparingTransport>);
    STATIC_REQUIRE_FALSE(is_transport_v<NoQueuedBytes>);
    STATIC_REQUIRE_FALSE(is_transport_v<WrongSendResult>);
    STATIC_REQUIRE_FALSE(is_transport_v<int>);
}

TEST_CASE("Optional transport capabilities are detected", "[transport]") {
    STATIC_REQUIRE(detail::has_prepare<PreparingTransport>::value);
    STATIC_REQUIRE_FALSE(detail::has_prepare<MinimalTransport>::value);
    STATIC_REQUIRE(detail::has_try_send<MockTransport, Frame>::value);
    STATIC_REQUIRE_FALSE(detail::has_try_send<MinimalTransport, Frame>::value);
    STATIC_REQUIRE(detail::has_set_listener<MockTransport>::value);
    STATIC_REQUIRE_FALSE(detail::has_set_listener<MinimalTransport>::value);
}

TEST_CASE("Close codes are the RFC 6455 numbers", "[transport]") {
    CHECK(static_cast<int>(CloseCode::going_away) == 1001);
    CHECK(static_cast<int>(CloseCode::policy_violation) == 1008);
    CHECK(static_cast<int>(CloseCode::message_too_big) == 1009);
    CHECK(static_cast<int>(CloseCode::internal_error) == 1011);
    CHECK(static_cast<int>(CloseCode::try_again_later) == 1013);
}
