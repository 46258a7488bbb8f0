// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// The manager's inbound messages, authentication, sweep, backplane, hooks and shutdown.
#include "manager_fixture.hpp"

#include <algorithm>
#include <stdexcept>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

struct InboundFixture : Fixture {
    Device sender = connect(alice);
    Device bystander = connect(bob);
    std::vector<std::string> handled;

    InboundFixture() {
        manager.on<TypingStarted>([this](const Inbound& inbound, const TypingStarted& typing) {
            handled.push_back(inbound.sender.user.to_string() + " typing in " + typing.conversation_id);
        });
        manager.on("Forbidden", [](const Inbound&) { throw ProtocolError(errc::forbidden, "admins only"); });
        manager.on("Crash", [](const Inbound&) { throw std::runtime_error("secret internals"); });
        manager.on("NeedsField", [](const Inbound& inbound) { (void)inbound.event.data().at("field").get<int>(); });
    }

    Error error_after(std::string_view payload, MessageKind kind = MessageKind::text) {
        const std::size_t before = received_of_type(sender, "Error").size();
        CHECK(manager.handle_message(sender.id, payload, kind));
        const auto errors = received_of_type(sender, "Error");
        REQUIRE(errors.size() == before + 1);
        return event_cast<Error>(errors.back());
    }
};

} // namespace

TEST_CASE_METHOD(InboundFixture, "inbound messages reach the handler of their type with the sender", "[manager][inbound]") {
    const auto payload = Event(TypingStarted{"c1", alice}).to_frame();
    CHECK(manager.handle_message(sender.id, payload.text()));
    CHECK(handled == std::vector<std::string>{alice.to_string() + " typing in c1"});
    CHECK(received_of_type(sender, "Error").empty());
}

TEST_CASE_METHOD(InboundFixture, "bad inbound messages get an Error back, to that connection only", "[manager][inbound]") {
    CHECK(error_after("{not json").code == errc::invalid_json);
    CHECK(error_after("[]").code == errc::invalid_envelope);
    CHECK(error_after(R"({"type":"Nope","data":{}})").code == errc::unknown_type);
    CHECK(error_after(R"({"type":"TypingStarted","data":{"conversation_id":1}})").code == errc::bad_payload);
    CHECK(error_after(R"({"type":"TypingStarted","data":{"conversation_id":"c","user_id":"x"}})").code ==
          errc::bad_payload);
    CHECK(error_after(R"({"type":"NeedsField","data":{}})").code == errc::bad_payload);
    CHECK(error_after(R"({"type":"NeedsField","data":{"field":"text"}})").code == errc::bad_payload);
    CHECK(error_after(R"({"type":"Forbidden"})").message == "admins only");
    const Error crash = error_after(R"({"type":"Crash"})");
    CHECK(crash.code == errc::internal_error);
    CHECK(crash.message.find("secret") == std::string::npos);
    CHECK(error_after("\x01\x02", MessageKind::binary).code == errc::binary_unsupported);

    CHECK(handled.empty());
    CHECK(types_of(transport.events(bystander.handle)) == std::vector<std::string>{"UserOnline"}); // its own only
    CHECK(manager.is_user_online(alice));
    CHECK(manager.metrics().inbound_errors == 10);
}

TEST_CASE_METHOD(InboundFixture, "the connection stays usable after an error", "[manager][inbound]") {
    error_after("garbage");
    CHECK(manager.handle_message(sender.id, Event(TypingStarted{"c2", alice}).to_frame().text()));
    CHECK(handled.size() == 1);
}

TEST_CASE_METHOD(InboundFixture, "messages from unregistered connections are ignored", "[manager][inbound]") {
    manager.unregister_connection(sender.id);
    CHECK_FALSE(manager.handle_message(sender.id, Event(TypingStarted{"c1", alice}).to_frame().text()));
    CHECK(handled.empty());
}

// --- The whole lifecycle through a transport's listener ------------------------------------------

TEST_CASE("upgrades are authenticated; refused ones leave no state", "[manager][auth]") {
    MockTransport transport;
    StaticTokenAuthenticator auth;
    auth.add("alice-token", Identity(alice, {{"admin", true}}));
    Manager manager(transport, auth);
    bool admin_seen = false;
    manager.on("Hello", [&](const Inbound& inbound) { admin_seen = inbound.sender.claims.value("admin", false); });

    UpgradeRequest request;
    request.path = "/ws";
    request.query = "token=mallory";
    const auto refused = transport.connect(request);
    REQUIRE_FALSE(refused);
    CHECK(refused.failure->status == 401);
    CHECK(manager.connection_count() == 0);
    CHECK(manager.metrics().upgrades_refused == 1);

    request.query.clear();
    request.headers = {{"Authorization", "Bearer alice-token"}};
    const auto accepted = transport.connect(request);
    REQUIRE(accepted);
    CHECK(manager.is_user_online(alice));
    transport.receive(*accepted.handle, R"({"type":"Hello"})");
    CHECK(admin_seen);

    transport.close_by_client(*accepted.handle);
    CHECK_FALSE(manager.is_user_online(alice));
    CHECK(manager.metrics().connections_unregistered == 1);
}

// --- Periodic sweep -----------------------------------------------------------------------------

TEST_CASE("the periodic sweep unregisters dead connections until stopped", "[manager][sweep]") {
    MockTransport transport;
    ManagerOptions options;
    options.stale_sweep_interval = std::chrono::milliseconds(5);
    Manager manager(transport, {}, options);
    asio::io_context io;
    manager.start_stale_sweep(io.get_executor());

    const Handle first = transport.open();
    manager.register_connection(alice, first);
    transport.vanish(first);
    for (int i = 0; i < 200 && manager.connection_count() > 0; ++i) io.run_for(std::chrono::milliseconds(5));
    CHECK(manager.connection_count() == 0);

    manager.stop_stale_sweep();
    const Handle second = transport.open();
    manager.register_connection(bob, second);
    transport.vanish(second);
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
    CHECK(manager.connection_count() == 1);
}

TEST_CASE("the default sweep interval is 60 seconds", "[manager][sweep]") {
    CHECK(ManagerOptions{}.stale_sweep_interval == std::chrono::seconds(60));
}

// --- Backplane hook -----------------------------------------------------------------------------

namespace {

struct RecordingBackplane final : Backplane {
    BackplaneSink* sink = nullptr;
    std::vector<std::string> published;

    void attach(BackplaneSink* s) override { sink = s; }
    void publish_to_users(const std::vector<UserId>& users, const Frame& frame) override {
        published.push_back(std::to_string(users.size()) + " users: " + std::string(frame.text()));
    }
    void publish_to_all(const Frame& frame) override { published.push_back("all: " + std::string(frame.text())); }
    void user_joined(const UserId& user) override { local_users.push_back("+" + user.to_string()); }
    void user_left(const UserId& user) override { local_users.push_back("-" + user.to_string()); }
    BackplaneMetrics metrics() const override { return {true, 3, 0, 0, 0}; }

    std::vector<std::string> local_users; ///< "+user" joined, "-user" left, in call order
};

ManagerOptions options_with(std::shared_ptr<Backplane> backplane) {
    ManagerOptions options;
    options.backplane = std::move(backplane);
    return options;
}

} // namespace

TEST_CASE("a backplane sees every delivery and presence change, and delivers remote frames locally",
          "[manager][backplane]") {
    MockTransport transport;
    auto backplane = std::make_shared<RecordingBackplane>();
    {
        Manager manager(transport, {}, options_with(backplane));
        REQUIRE(backplane->sink != nullptr);
        const Handle handle = transport.open();
        manager.register_connection(alice, handle);
        manager.send_to_user(bob, Event("Remote"));
        manager.broadcast(Event("Everyone"));

        REQUIRE(backplane->published.size() == 3);
        CHECK(backplane->published[0] == "all: " + std::string(Event(UserOnline{alice}).to_frame().text()));
        CHECK(backplane->published[1] == R"(1 users: {"type":"Remote","data":{}})");
        CHECK(backplane->published[2] == R"(all: {"type":"Everyone","data":{}})");

        backplane->sink->deliver_to_users({alice, carol}, Event("FromNodeB").to_frame());
        backplane->sink->deliver_to_all(Event("AllFromNodeB").to_frame());
        CHECK(types_of(transport.events(handle)) ==
              std::vector<std::string>{"UserOnline", "Everyone", "FromNodeB", "AllFromNodeB"});
        CHECK(backplane->published.size() == 3); // remote frames are never re-published
    }
    CHECK(backplane->sink == nullptr);
}

TEST_CASE("a backplane hears of each user's first local connection and last, in order, and reports its figures",
          "[manager][backplane]") {
    MockTransport transport;
    auto backplane = std::make_shared<RecordingBackplane>();
    Manager manager(transport, {}, options_with(backplane));
    const ConnectionId phone = manager.register_connection(alice, transport.open());
    const ConnectionId laptop = manager.register_connection(alice, transport.open());
    const ConnectionId bobs = manager.register_connection(bob, transport.open());
    manager.unregister_connection(phone);
    manager.unregister_connection(laptop); // alice's last
    manager.register_connection(alice, transport.open());
    manager.unregister_connection(bobs);

    const std::string a = alice.to_string(), b = bob.to_string();
    CHECK(backplane->local_users == std::vector<std::string>{"+" + a, "+" + b, "-" + a, "+" + a, "-" + b});
    const ManagerMetrics metrics = manager.metrics();
    CHECK(metrics.with_backplane);
    CHECK(metrics.backplane.connected);
    CHECK(metrics.backplane.subscriptions == 3);
}


TEST_CASE("lifecycle hooks observe connects, disconnects and refused upgrades", "[manager][hooks]") {
    MockTransport transport;
    StaticTokenAuthenticator auth;
    auth.add("alice-token", alice);
    std::vector<std::string> seen;
    ManagerOptions options;
    options.hooks.connected = [&](ConnectionId id, const Identity& identity) {
        seen.push_back("connected " + id.to_string() + " " + identity.user.to_string());
    };
    options.hooks.disconnected = [&](ConnectionId id, const UserId& user) {
        seen.push_back("disconnected " + id.to_string() + " " + user.to_string());
    };
    options.hooks.refused = [&](const UpgradeRequest& request, const AuthFailure& failure) {
        seen.push_back("refused " + request.remote_address + " " + std::to_string(failure.status));
    };
    Manager manager(transport, auth, options);

    UpgradeRequest request;
    request.remote_address = "10.0.0.1:5000";
    transport.connect(request);
    request.query = "token=alice-token";
    const auto upgrade = transport.connect(request);
    REQUIRE(upgrade);
    transport.close_by_client(*upgrade.handle);
    manager.unregister_connection(upgrade.connection); // a second removal is not a second disconnect

    const std::string id = upgrade.connection.to_string();
    CHECK(seen == std::vector<std::string>{"refused 10.0.0.1:5000 401", "connected " + id + " " + alice.to_string(),
                                           "disconnected " + id + " " + alice.to_string()});
}

TEST_CASE("a transport shutdown closes everyone without a presence storm", "[manager][lifecycle]") {
    MockTransport transport;
    StaticTokenAuthenticator auth;
    constexpr int users = 50;
    for (int i = 0; i < users; ++i) auth.add("token-" + std::to_string(i), UserId::random());
    Manager manager(transport, auth);
    std::vector<Handle> handles;
    for (int i = 0; i < users; ++i) {
        UpgradeRequest request;
        request.query = "token=token-" + std::to_string(i);
        handles.push_back(*transport.connect(request).handle);
    }
    const std::size_t frames_before = transport.frames_sent();

    transport.shutdown();
    CHECK(manager.connection_count() == 0);
    CHECK(manager.metrics().connections_unregistered == users);
    CHECK(transport.frames_sent() == frames_before); // no UserOffline to connections that are closing
    for (const Handle& handle : handles) CHECK(transport.close_record(handle)->code == CloseCode::going_away);
}
