// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The example's HTTP API next to the WebSocket: publishing events (admin only), presence, health.

#include <map>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "http_client.hpp"

using namespace integration;

namespace {

/// alice online with two devices, bob with one; an admin token for the API (its user is not connected).
struct Backend {
    TestServer server;
    UserId alice = UserId::random();
    UserId bob = UserId::random();
    std::unique_ptr<TestClient> alice_phone = connect_user(server, alice);
    std::unique_ptr<TestClient> alice_laptop = connect_user(server, alice);
    std::unique_ptr<TestClient> bob_phone = connect_user(server, bob);
    std::string admin_token = token_for(UserId::random(), /*admin=*/true);

    HttpReply publish(const std::string& body, const Headers& headers) const {
        return http_request(server.port(), {"POST", "/api/publish", headers, body});
    }
    HttpReply publish(const json& body) const { return publish(body.dump(), bearer(admin_token)); }
    HttpReply get(const std::string& target, const Headers& headers = {}) const {
        return http_request(server.port(), {"GET", target, headers, ""});
    }
};

void check_error(const HttpReply& reply, int status, std::string_view error) {
    CHECK(reply.status == status);
    CHECK(reply.header("Content-Type") == "application/json");
    CHECK(reply.json().value("error", "") == error);
}

} // namespace

TEST_CASE_METHOD(Backend, "POST /api/publish with to delivers to every device of the listed users",
                 "[integration][http]") {
    const json payment = {
        {"payment_id", "p-1"}, {"from", bob.to_string()}, {"amount_minor", 1250}, {"currency", "EUR"}};
    const json event = {{"type", "PaymentReceived"}, {"data", payment}};
    const HttpReply reply = publish({{"to", {alice.to_string()}}, {"event", event}});
    CHECK(reply.status == 200);
    CHECK(reply.json() == json{{"delivered", 2}});
    const auto is_payment = [&](const json& data) { return data == payment; };
    CHECK(wait_for_event(*alice_phone, "PaymentReceived", is_payment));
    CHECK(wait_for_event(*alice_laptop, "PaymentReceived", is_payment));
    round_trip(*bob_phone);
    CHECK(events_of(*bob_phone, "PaymentReceived").empty());
}

TEST_CASE_METHOD(Backend, "POST /api/publish with broadcast delivers to everyone", "[integration][http]") {
    const json like = {{"post_id", "post-9"}, {"liked_by", bob.to_string()}};
    const HttpReply reply = publish({{"broadcast", true}, {"event", {{"type", "PostLiked"}, {"data", like}}}});
    CHECK(reply.status == 200);
    CHECK(reply.json() == json{{"delivered", 3}});
    for (TestClient* client : {alice_phone.get(), alice_laptop.get(), bob_phone.get()})
        CHECK(wait_for_event(*client, "PostLiked", [&](const json& data) { return data == like; }));
}

TEST_CASE_METHOD(Backend, "POST /api/publish refuses bad callers and bad bodies", "[integration][http]") {
    const std::string good_body =
        json{{"to", {alice.to_string()}}, {"event", {{"type", "PostLiked"}, {"data", json::object()}}}}.dump();

    const HttpReply anonymous = publish(good_body, {});
    check_error(anonymous, 401, "unauthorized");
    CHECK(anonymous.header("WWW-Authenticate") == "Bearer");
    check_error(publish(good_body, bearer("not-a-token")), 401, "unauthorized");
    check_error(publish(good_body, bearer(token_for(bob))), 403, "forbidden");

    check_error(publish("{not json", bearer(admin_token)), 400, "invalid_json");
    check_error(publish(json{{"to", {alice.to_string()}}}), 400, "bad_request");             // no event
    check_error(publish(json{{"event", {{"type", "PostLiked"}}}}), 400, "bad_request");       // no audience
    check_error(publish(json{{"to", {"alice"}}, {"event", {{"type", "PostLiked"}}}}), 400, "bad_payload");
    check_error(publish(json{{"to", {alice.to_string()}}, {"broadcast", true}, {"event", {{"type", "PostLiked"}}}}),
                400, "bad_request");

    const HttpReply wrong_method = get("/api/publish", bearer(admin_token));
    check_error(wrong_method, 405, "method_not_allowed");
    CHECK(wrong_method.header("Allow") == "POST");

    // Nothing was delivered by any of these.
    round_trip(*alice_phone);
    CHECK(events_of(*alice_phone, "PostLiked").empty());
}

TEST_CASE_METHOD(Backend, "GET /api/presence lists online users and their connection counts", "[integration][http]") {
    check_error(get("/api/presence"), 401, "unauthorized");
    const HttpReply reply = get("/api/presence", bearer(admin_token));
    REQUIRE(reply.status == 200);
    const json body = reply.json();
    CHECK(body.value("users_online", 0) == 2);
    CHECK(body.value("connections", 0) == 3);
    std::map<std::string, int> counts;
    for (const json& entry : body["online"]) counts[entry.value("user_id", "")] = entry.value("connections", 0);
    CHECK(counts == std::map<std::string, int>{{alice.to_string(), 2}, {bob.to_string(), 1}});
}

TEST_CASE_METHOD(Backend, "GET /healthz answers 200 and unknown paths 404", "[integration][http]") {
    const HttpReply health = get("/healthz");
    CHECK(health.status == 200);
    CHECK(health.json() == json{{"status", "ok"}});
    check_error(get("/api/nothing-here"), 404, "not_found");
}
