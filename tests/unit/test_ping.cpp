// The manager's own heartbeat answer: an inbound Ping gets a Pong with the same data, to that
// connection only, without reaching any handler, counted by the rate limit and never stored.
#include "history_fixtures.hpp"
#include "mock_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

struct PingFixture {
    MockTransport transport;
    std::unique_ptr<Manager> manager;
    Handle handle;
    ConnectionId id;
    Handle bystander;
    int handled = 0;

    explicit PingFixture(LimitOptions limits = {}) {
        ManagerOptions options;
        options.limits = limits;
        manager = std::make_unique<Manager>(transport, StaticTokenAuthenticator{}, options);
        manager->on("Ping", [this](const Inbound&) { ++handled; });
        handle = transport.open();
        id = manager->register_connection(alice, handle);
        bystander = transport.open();
        manager->register_connection(bob, bystander);
    }

    std::vector<Event> pongs() const { return events_of_type(transport, handle, "Pong"); }
};

} // namespace

TEST_CASE("a Ping is answered with a Pong carrying the same data, to the sender only", "[manager][ping]") {
    PingFixture fixture;
    const std::vector<std::string> payloads = {
        R"({"type":"Ping","data":{}})",
        R"({"type":"Ping","data":{"sent":1700000000123,"nested":{"list":[1,"two",null,true]}}})",
        R"({"type":"Ping","data":"a string"})",
        R"({"type":"Ping","data":42})",
        R"({"type":"Ping","data":null})",
    };
    for (const std::string& payload : payloads) CHECK(fixture.manager->handle_message(fixture.id, payload));

    const std::vector<Event> pongs = fixture.pongs();
    REQUIRE(pongs.size() == payloads.size());
    for (std::size_t i = 0; i < payloads.size(); ++i)
        CHECK(pongs[i].data() == Event::parse(payloads[i]).data());
    CHECK(events_of_type(fixture.transport, fixture.handle, "Error").empty());
    CHECK(fixture.handled == 0); // the host's handler of that name never runs
    CHECK(events_of_type(fixture.transport, fixture.bystander, "Pong").empty());
}

TEST_CASE("a Ping without data is answered with an empty object", "[manager][ping]") {
    PingFixture fixture;
    fixture.manager->handle_message(fixture.id, R"({"type":"Ping"})");
    const std::vector<Event> pongs = fixture.pongs();
    REQUIRE(pongs.size() == 1);
    CHECK(pongs[0].data() == nlohmann::json::object());
}

TEST_CASE("a Ping too deep for the limits gets an Error, not a Pong", "[manager][ping]") {
    LimitOptions limits;
    limits.max_json_depth = 4;
    PingFixture fixture(limits);
    fixture.manager->handle_message(fixture.id, R"({"type":"Ping","data":{"a":{"b":{"c":{"d":{}}}}}})");
    CHECK(fixture.pongs().empty());
    const std::vector<Event> errors = events_of_type(fixture.transport, fixture.handle, "Error");
    REQUIRE(errors.size() == 1);
    CHECK(event_cast<Error>(errors[0]).code == errc::invalid_json);
}

TEST_CASE("Pings count against the inbound rate limit like any message", "[manager][ping][limits]") {
    LimitOptions limits;
    limits.inbound_rate = 0.001; // effectively no refill while the test runs
    limits.inbound_burst = 3;
    limits.max_rate_limit_strikes = 2;
    PingFixture fixture(limits);
    for (int i = 0; i < 5; ++i) fixture.manager->handle_message(fixture.id, R"({"type":"Ping","data":{}})");
    CHECK(fixture.pongs().size() == 3);
    CHECK(events_of_type(fixture.transport, fixture.handle, "Error").size() == 2);
    fixture.manager->handle_message(fixture.id, R"({"type":"Ping","data":{}})");
    REQUIRE(fixture.transport.close_record(fixture.handle));
    CHECK(fixture.transport.close_record(fixture.handle)->code == CloseCode::policy_violation);
}

TEST_CASE_METHOD(HistoryFixture, "with history a Pong has no offset and is never stored", "[manager][ping][history]") {
    const Device phone = connect("alice");
    CHECK(manager.handle_message(phone.id, R"({"type":"Ping","data":{"n":1}})"));
    const std::vector<Received> frames = received(phone);
    REQUIRE(frames.back().type == "Pong");
    CHECK_FALSE(frames.back().offset);
    CHECK(frames.back().data == nlohmann::json{{"n", 1}});
    const Device laptop = connect("alice");
    CHECK(session_of(received(laptop).front()).offset == 0); // nothing entered alice's stream
}
