#include "mock_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

std::size_t count_of(const MockTransport& transport, Handle handle, std::string_view type) {
    return events_of_type(transport, handle, type).size();
}

/// The mock without `try_send`: the manager checks `queued_bytes`, then calls `send`.
class MockWithoutTrySend : public MockTransport {
public:
    void try_send() = delete; // hides MockTransport::try_send
};
static_assert(detail::has_try_send<MockTransport, Frame>::value);
static_assert(!detail::has_try_send<MockWithoutTrySend, Frame>::value);

/// A manager with these limits, which accepts upgrades with the token "alice".
template <class Transport = MockTransport>
struct Limited {
    Transport transport;
    std::unique_ptr<ConnectionManager<Transport>> manager;

    explicit Limited(LimitOptions limits) {
        StaticTokenAuthenticator auth;
        auth.add("alice", alice);
        ManagerOptions options;
        options.limits = limits;
        manager = std::make_unique<ConnectionManager<Transport>>(transport, auth, options);
    }

    MockTransport::Upgrade upgrade_alice() { return transport.upgrade(alice_request()); }
    MockTransport::Upgrade connect_alice() { return transport.connect(alice_request()); }

    static UpgradeRequest alice_request() {
        UpgradeRequest request;
        request.query = "token=alice";
        return request;
    }
};

LimitOptions per_user_limit(std::size_t connections) {
    LimitOptions limits;
    limits.max_connections_per_user = connections;
    return limits;
}

LimitOptions backlog_cap(SlowConsumerPolicy policy, std::size_t hard_cap = LimitOptions{}.max_queued_bytes_hard) {
    LimitOptions limits;
    limits.max_queued_bytes = 1000;
    limits.slow_consumer = policy;
    limits.max_queued_bytes_hard = hard_cap;
    return limits;
}

} // namespace

TEMPLATE_TEST_CASE("a slow consumer is closed with 1013 and others keep receiving",
                   "[limits]", MockTransport, MockWithoutTrySend) {
    Limited<TestType> fixture(backlog_cap(SlowConsumerPolicy::close));
    auto& [transport, manager] = fixture;
    const Handle slow = transport.open();
    const Handle fast = transport.open();
    manager->register_connection(alice, slow);
    manager->register_connection(bob, fast);
    transport.set_queued_bytes(slow, 1000); // at the cap: still fine
    CHECK(manager->broadcast(Event("Tick")) == 2);

    transport.set_queued_bytes(slow, 1001);
    CHECK(manager->broadcast(Event("Tick")) == 1);
    REQUIRE(transport.close_record(slow));
    CHECK(transport.close_record(slow)->code == CloseCode::try_again_later);
    CHECK(transport.close_record(slow)->reason == "slow consumer");
    CHECK_FALSE(manager->is_user_online(alice));
    CHECK(count_of(transport, fast, "Tick") == 2);
    CHECK(manager->metrics().closed_slow == 1);
}

TEMPLATE_TEST_CASE("drop_ephemeral spares a slow consumer typing and presence but not messages",
                   "[limits]", MockTransport, MockWithoutTrySend) {
    Limited<TestType> fixture(backlog_cap(SlowConsumerPolicy::drop_ephemeral));
    auto& [transport, manager] = fixture;
    const Handle slow = transport.open();
    manager->register_connection(alice, slow);
    transport.set_queued_bytes(slow, 5000);

    CHECK(manager->send_to_user(alice, TypingStarted{"c", bob}) == 0);
    CHECK(manager->send_to_user(alice, MessageSent{"m", bob, {alice}, "hi"}) == 1);
    manager->register_connection(bob, transport.open()); // UserOnline is ephemeral too
    CHECK(count_of(transport, slow, "TypingStarted") == 0);
    CHECK(count_of(transport, slow, "MessageSent") == 1);
    CHECK(count_of(transport, slow, "UserOnline") == 1); // its own, sent before the backlog
    CHECK(manager->is_user_online(alice));
    CHECK(manager->metrics().dropped_ephemeral == 2);
}

TEMPLATE_TEST_CASE("drop_ephemeral still closes a consumer past the hard cap: durable events are not dropped",
                   "[limits]", MockTransport, MockWithoutTrySend) {
    Limited<TestType> fixture(backlog_cap(SlowConsumerPolicy::drop_ephemeral, 4000));
    auto& [transport, manager] = fixture;
    const Handle slow = transport.open();
    manager->register_connection(alice, slow);
    transport.set_queued_bytes(slow, 4000); // at the hard cap: durable events still go
    CHECK(manager->send_to_user(alice, MessageSent{"m1", bob, {alice}, "hi"}) == 1);
    CHECK_FALSE(transport.close_record(slow));

    transport.set_queued_bytes(slow, 4001);
    CHECK(manager->send_to_user(alice, MessageSent{"m2", bob, {alice}, "hi"}) == 0);
    REQUIRE(transport.close_record(slow));
    CHECK(transport.close_record(slow)->code == CloseCode::try_again_later);
    CHECK_FALSE(manager->is_user_online(alice));
    CHECK(manager->metrics().closed_slow == 1);
}

TEMPLATE_TEST_CASE("drop_ephemeral closes a consumer past the hard cap on ephemeral events too", "[limits]",
                   MockTransport, MockWithoutTrySend) {
    Limited<TestType> fixture(backlog_cap(SlowConsumerPolicy::drop_ephemeral, 4000));
    auto& [transport, manager] = fixture;
    const Handle slow = transport.open();
    manager->register_connection(alice, slow);
    transport.set_queued_bytes(slow, 4001);
    CHECK(manager->send_to_user(alice, TypingStarted{"c", bob}) == 0);
    REQUIRE(transport.close_record(slow));
    CHECK(transport.close_record(slow)->code == CloseCode::try_again_later);
    CHECK(manager->metrics().closed_slow == 1);
    CHECK(manager->metrics().dropped_ephemeral == 0);
}

TEMPLATE_TEST_CASE("no max_queued_bytes: no backlog limit, the hard cap included", "[limits]", MockTransport,
                   MockWithoutTrySend) {
    LimitOptions limits = backlog_cap(SlowConsumerPolicy::drop_ephemeral, 4000);
    limits.max_queued_bytes = 0;
    Limited<TestType> fixture(limits);
    auto& [transport, manager] = fixture;
    const Handle slow = transport.open();
    manager->register_connection(alice, slow);
    transport.set_queued_bytes(slow, 1'000'000);
    CHECK(manager->send_to_user(alice, TypingStarted{"c", bob}) == 1);
    CHECK(manager->send_to_user(alice, MessageSent{"m", bob, {alice}, "hi"}) == 1);
    CHECK_FALSE(transport.close_record(slow));
}

TEST_CASE("inbound messages past the token bucket are refused and sustained abuse closes with 1008", "[limits]") {
    LimitOptions limits;
    limits.inbound_rate = 0.001; // effectively no refill while the test runs
    limits.inbound_burst = 3;
    limits.max_rate_limit_strikes = 2;
    Limited<> fixture(limits);
    auto& [transport, manager] = fixture;
    int handled = 0;
    manager->on("Poke", [&](const Inbound&) { ++handled; });
    const Handle handle = transport.open();
    const ConnectionId id = manager->register_connection(alice, handle);

    for (int i = 0; i < 5; ++i) manager->handle_message(id, R"({"type":"Poke"})");
    CHECK(handled == 3);
    CHECK(count_of(transport, handle, "Error") == 2);
    CHECK(event_cast<Error>(transport.events(handle).back()).code == errc::rate_limited);
    CHECK_FALSE(transport.close_record(handle));

    manager->handle_message(id, R"({"type":"Poke"})");
    REQUIRE(transport.close_record(handle));
    CHECK(transport.close_record(handle)->code == CloseCode::policy_violation);
    CHECK_FALSE(manager->is_user_online(alice));
    CHECK(manager->metrics().rate_limited == 2);
    CHECK(manager->metrics().closed_for_abuse == 1);
}

TEST_CASE("the token bucket refills with time", "[limits]") {
    using Bucket = detail::TokenBucket;
    const auto start = Bucket::Clock::now();
    const Bucket::Settings settings{10, 2, 100};
    Bucket bucket(settings, start);
    const auto take_at = [&](auto offset) { return bucket.take(settings, start + offset); };
    using std::chrono::milliseconds, std::chrono::seconds;
    CHECK(take_at(seconds(0)) == Bucket::Verdict::allowed);
    CHECK(take_at(seconds(0)) == Bucket::Verdict::allowed);
    CHECK(take_at(seconds(0)) == Bucket::Verdict::limited);
    CHECK(take_at(milliseconds(100)) == Bucket::Verdict::allowed);
    CHECK(take_at(seconds(10)) == Bucket::Verdict::allowed);
    CHECK(take_at(seconds(10)) == Bucket::Verdict::allowed);
    CHECK(take_at(seconds(10)) == Bucket::Verdict::limited); // burst caps savings
}

TEST_CASE("the token bucket counts refusals in a row as strikes", "[limits]") {
    using Bucket = detail::TokenBucket;
    const auto start = Bucket::Clock::now();
    const Bucket::Settings settings{1, 1, 2};
    Bucket bucket(settings, start);
    CHECK(bucket.take(settings, start) == Bucket::Verdict::allowed);
    CHECK(bucket.take(settings, start) == Bucket::Verdict::limited);
    CHECK(bucket.take(settings, start) == Bucket::Verdict::limited);
    CHECK(bucket.take(settings, start) == Bucket::Verdict::abusive);
    CHECK(bucket.take(settings, start + std::chrono::seconds(5)) == Bucket::Verdict::allowed); // strikes reset
    CHECK(bucket.take(settings, start + std::chrono::seconds(5)) == Bucket::Verdict::limited);
}

TEST_CASE("a user's connections past the limit are refused at the upgrade with 429", "[limits]") {
    Limited<> fixture(per_user_limit(2));
    auto& manager = fixture.manager;
    CHECK(fixture.connect_alice());
    CHECK(fixture.connect_alice());
    const auto third = fixture.connect_alice();
    REQUIRE_FALSE(third);
    CHECK(third.failure->status == 429);
    CHECK(manager->connection_count(alice) == 2);
    CHECK(manager->metrics().refused_user_limit == 1);
    CHECK(manager->metrics().upgrades_refused == 1);
}

TEST_CASE("an accepted upgrade holds one of its user's slots until it opens or is abandoned", "[limits]") {
    Limited<> fixture(per_user_limit(2));
    auto& [transport, manager] = fixture;
    const auto first = fixture.upgrade_alice();
    const auto second = fixture.upgrade_alice();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(manager->connection_count(alice) == 0);
    CHECK(manager->metrics().upgrades_pending == 2);
    CHECK(fixture.upgrade_alice().failure->status == 429); // nothing is open, yet both slots are held

    transport.abandon(*first.handle);
    CHECK(manager->metrics().upgrades_pending == 1);
    CHECK(manager->metrics().upgrades_abandoned == 1);
    CHECK_FALSE(manager->is_user_online(alice));
    const auto third = fixture.upgrade_alice();
    REQUIRE(third);

    transport.complete(*second.handle); // the slot becomes the connection: still full
    CHECK(manager->connection_count(alice) == 1);
    CHECK(manager->metrics().upgrades_pending == 1);
    CHECK_FALSE(fixture.upgrade_alice());
    transport.complete(*third.handle);
    CHECK(manager->connection_count(alice) == 2);
    CHECK(manager->metrics().upgrades_pending == 0);
    CHECK(manager->metrics().refused_user_limit == 2);
}

TEST_CASE("connections a host registers itself count against the per-user limit but are never refused",
          "[limits]") {
    Limited<> fixture(per_user_limit(1));
    auto& [transport, manager] = fixture;
    manager->register_connection(alice, transport.open());
    manager->register_connection(alice, transport.open());
    CHECK(manager->connection_count(alice) == 2);
    CHECK(manager->metrics().upgrades_pending == 0);
    CHECK(fixture.upgrade_alice().failure->status == 429);
}

TEST_CASE("without a per-user limit, upgrades still hold their slots until opened or abandoned", "[limits]") {
    Limited<> fixture(per_user_limit(0));
    auto& [transport, manager] = fixture;
    for (int i = 0; i < 20; ++i) REQUIRE(fixture.upgrade_alice());
    REQUIRE(fixture.connect_alice());
    CHECK(manager->metrics().upgrades_pending == 20);
    transport.shutdown(); // abandons the upgrades in flight
    CHECK(manager->metrics().upgrades_pending == 0);
    CHECK(manager->metrics().upgrades_abandoned == 20);
    CHECK(manager->connection_count() == 0);
}

TEST_CASE("deeply nested inbound JSON is refused before parsing", "[limits]") {
    Limited<> fixture(LimitOptions{});
    auto& [transport, manager] = fixture;
    manager->on("Deep", [](const Inbound&) {});
    const Handle handle = transport.open();
    const ConnectionId id = manager->register_connection(alice, handle);
    const auto nested = [](int depth) {
        return R"({"type":"Deep","data":)" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
    };
    manager->handle_message(id, nested(32));
    CHECK(count_of(transport, handle, "Error") == 0);
    manager->handle_message(id, nested(33));
    REQUIRE(count_of(transport, handle, "Error") == 1);
    CHECK(event_cast<Error>(transport.events(handle).back()).code == errc::invalid_json);
}
