// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Offline redelivery over real connections (the example server with its memory history): the
// Session frame, offsets, resume, the sender's devices, the seam under a host thread's sends,
// a full replay, and what a restart of the program does to a position (its history in memory, or
// on Redis, the default with --redis).

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "../redis/redis_server.hpp"
#include "child_process.hpp"
#include "harness.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

social::ServerOptions with_history(switchboard::MemoryHistoryOptions bounds = {}) {
    social::ServerOptions options = server_options();
    options.history = bounds;
    return options;
}

/// Every message a client received, parsed.
std::vector<json> frames_of(const TestClient& client) {
    std::vector<json> frames;
    for (const std::string& message : client.messages()) frames.push_back(json::parse(message));
    return frames;
}

/// The first frame, which must be a Session.
json session_of(const TestClient& client) {
    REQUIRE(client.wait_until([](const ClientState& state) { return !state.messages.empty(); }));
    const json first = frames_of(client).front();
    REQUIRE(first.value("type", "") == "Session");
    return first["data"];
}

std::vector<std::uint64_t> offsets_of(const TestClient& client) {
    std::vector<std::uint64_t> offsets;
    for (const json& frame : frames_of(client))
        if (frame.contains("offset")) offsets.push_back(frame["offset"].get<std::uint64_t>());
    return offsets;
}

/// `<epoch>:<offset>` after what the client received.
std::string position_of(const TestClient& client) {
    const json session = session_of(client);
    const std::vector<std::uint64_t> offsets = offsets_of(client);
    const std::uint64_t last = offsets.empty() ? session["offset"].get<std::uint64_t>() : offsets.back();
    return session["epoch"].get<std::string>() + ":" + std::to_string(last);
}

std::unique_ptr<TestClient> resume_user(TestServer& server, const UserId& user, const std::string& position) {
    return connect_user(server, user, {}, "resume=" + position);
}

std::string message_to(const UserId& user, const std::string& content) {
    return envelope("SendMessage", {{"to", {user.to_string()}}, {"content", content}});
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> numbers;
    for (std::uint64_t n = first; n <= last; ++n) numbers.push_back(n);
    return numbers;
}

/// The example server with its memory history, and two users.
struct Conversation {
    TestServer server{with_history()};
    UserId alice = UserId::random();
    UserId bob = UserId::random();
};

} // namespace

TEST_CASE_METHOD(Conversation, "a user offline meanwhile gets what was sent on resume, in order and once, then live",
                 "[integration][history]") {
    auto bob_phone = connect_user(server, bob);
    auto alice_phone = connect_user(server, alice);
    const json first_session = session_of(*alice_phone);
    CHECK(first_session["recovery"] == "none");
    CHECK(first_session["offset"] == 0);

    REQUIRE(bob_phone->send_text(message_to(alice, "one")));
    REQUIRE(wait_for_event(*alice_phone, "MessageSent"));
    CHECK(offsets_of(*alice_phone) == std::vector<std::uint64_t>{1});
    const std::string left_at = position_of(*alice_phone);
    disconnect_user(server, *alice_phone, alice);

    REQUIRE(bob_phone->send_text(message_to(alice, "two")));
    REQUIRE(bob_phone->send_text(message_to(alice, "three")));
    round_trip(*bob_phone); // both handled
    auto alice_again = resume_user(server, alice, left_at);
    REQUIRE(wait_for_events(*alice_again, "MessageSent", 2));
    const json session = session_of(*alice_again);
    CHECK(session["recovery"] == "complete");
    CHECK(session["offset"] == 1);
    CHECK(session["replayed"] == 2);
    CHECK(session["epoch"] == first_session["epoch"]);
    const std::vector<json> replayed = events_of(*alice_again, "MessageSent");
    CHECK(replayed[0]["data"]["content"] == "two");
    CHECK(replayed[1]["data"]["content"] == "three");

    REQUIRE(bob_phone->send_text(message_to(alice, "four")));
    REQUIRE(wait_for_events(*alice_again, "MessageSent", 3));
    CHECK(offsets_of(*alice_again) == range(2, 4));
    CHECK(frames_of(*alice_again)[1].value("type", "") == "MessageSent"); // Session, then the replay
}

TEST_CASE("a malformed resume is refused with 400 and a reason, and nothing is registered", "[integration][history]") {
    TestServer server(with_history());
    const UserId user = UserId::random();
    TestClient client;
    CHECK_FALSE(client.connect(server.url("resume=0123456789abcdef0123456789abcdef:01"), bearer(token_for(user))));
    const HandshakeResponse response = client.response();
    CHECK(response.status == 400);
    const json body = json::parse(response.body, nullptr, false);
    CHECK_THAT(body.value("reason", ""), Catch::StartsWith("malformed resume parameter: the offset"));
    CHECK(server.manager().connection_count(user) == 0);
    CHECK(server.manager().metrics().history.streams == 0);
}

TEST_CASE_METHOD(Conversation, "a message reaches the sender's other devices live, and the sending one when it resumes",
                 "[integration][history]") {
    auto phone = connect_user(server, alice);
    auto laptop = connect_user(server, alice);
    auto bob_phone = connect_user(server, bob);
    REQUIRE(phone->send_text(message_to(bob, "from the phone")));
    REQUIRE(wait_for_event(*laptop, "MessageSent"));
    REQUIRE(wait_for_event(*bob_phone, "MessageSent"));
    CHECK(offsets_of(*laptop) == std::vector<std::uint64_t>{1});
    round_trip(*phone);
    CHECK(events_of(*phone, "MessageSent").empty());

    const std::string phone_at = position_of(*phone);
    disconnect_user(server, *phone, alice);
    auto phone_again = resume_user(server, alice, phone_at);
    REQUIRE(wait_for_event(*phone_again, "MessageSent"));
    CHECK(events_of(*phone_again, "MessageSent")[0]["data"]["content"] == "from the phone");
}

TEST_CASE("while a host thread sends, a device that resumes again and again gets every offset once, in order",
          "[integration][history]") {
    TestServer server(with_history());
    const UserId alice = UserId::random();
    constexpr int messages = 600;
    std::string position;
    {
        auto first = connect_user(server, alice); // at offset 0, before anything is sent
        position = position_of(*first);
        disconnect_user(server, *first, alice);
    }
    std::atomic<bool> sending{true};
    std::atomic<int> sessions{0};
    std::thread host([&] {
        // Paced by the resumes (each quarter waits, boundedly, for one more session), so that
        // sessions overlap the sending however slow the build (ThreadSanitizer) makes them.
        constexpr int quarter = messages / 4;
        for (int n = 1; n <= messages; ++n) {
            server.manager().send_to_user(alice, switchboard::Event("MessageSent", {{"n", n}}));
            if (n % 8 == 0) std::this_thread::sleep_for(1ms);
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (n % quarter == 0 && sessions < n / quarter && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(1ms);
        }
        sending = false;
    });
    std::vector<std::uint64_t> got;
    const auto one_session = [&] {
        auto device = resume_user(server, alice, position);
        std::this_thread::sleep_for(5ms);
        round_trip(*device); // what was sent before this has arrived
        const json session = session_of(*device);
        CHECK(session["recovery"] == "complete");
        std::uint64_t at = session["offset"].get<std::uint64_t>();
        for (const std::uint64_t offset : offsets_of(*device)) {
            REQUIRE(offset == at + 1);
            at = offset;
            got.push_back(offset);
        }
        position = session["epoch"].get<std::string>() + ":" + std::to_string(at);
        disconnect_user(server, *device, alice);
        ++sessions;
    };
    while (sending) one_session();
    host.join();
    one_session(); // the tail
    CHECK(sessions >= 3);
    CHECK(got == range(1, messages));
}

TEST_CASE("a full replay and the live events right after it all arrive", "[integration][history]") {
    TestServer server(with_history());
    const UserId alice = UserId::random();
    auto device = connect_user(server, alice);
    const std::string at = position_of(*device);
    disconnect_user(server, *device, alice);
    const std::string text(300, 'x'); // 1,000 events, within a replay's 512 KiB
    for (int n = 1; n <= 1000; ++n)
        server.manager().send_to_user(alice, switchboard::Event("MessageSent", {{"n", n}, {"text", text}}));
    REQUIRE(server.manager().metrics().history.events == 1000);

    auto back = resume_user(server, alice, at);
    for (int n = 1001; n <= 1010; ++n)
        server.manager().send_to_user(alice, switchboard::Event("MessageSent", {{"n", n}, {"text", text}}));
    // Up to 30 s: a third of a megabyte through two instrumented ends takes a while under ThreadSanitizer.
    // The wait looks for the type by text: parsing every message at each poll, under the client's
    // lock, slowed its receiving past the 30 s there.
    const auto all_arrived = [](const ClientState& state) {
        return std::count_if(state.messages.begin(), state.messages.end(), [](const std::string& message) {
                   return message.rfind(R"({"type":"MessageSent")", 0) == 0;
               }) >= 1010;
    };
    REQUIRE(back->wait_until(all_arrived, 30s));
    CHECK(session_of(*back)["replayed"] == 1000);
    CHECK(offsets_of(*back) == range(1, 1010));
    CHECK(back->is_open());
}

namespace {

struct Resumed {
    std::string before; ///< alice's position when she left
    json session;       ///< her Session on the program run again
    std::vector<json> frames;
};

/// Runs the program with `flags`: alice gets a message, leaves, misses a second one; the program
/// stops (SIGTERM) and runs again with the same flags, and alice resumes from where she left.
Resumed resume_after_restart(std::vector<std::string> flags) {
    const UserId alice = UserId::random();
    const UserId bob = UserId::random();
    flags.insert(flags.begin(), {SOCIAL_SERVER_PATH, "--port", "0", "--jwt-secret", std::string(test_secret)});
    const auto start_server = [&] {
        auto server = std::make_unique<ChildProcess>(flags);
        const std::optional<std::string> url = read_listening_url(*server, 15s);
        REQUIRE(url);
        return std::make_pair(std::move(server), *url);
    };
    const auto connect_to = [&](const std::string& url, const UserId& user, const std::string& query) {
        auto client = std::make_unique<TestClient>();
        REQUIRE(client->connect(url + (query.empty() ? "" : "?" + query), bearer(token_for(user))));
        session_of(*client);
        return client;
    };

    auto [first, first_url] = start_server();
    auto alice_phone = connect_to(first_url, alice, "");
    auto alice_laptop = connect_to(first_url, alice, ""); // stays: it sees when the second is kept
    auto bob_phone = connect_to(first_url, bob, "");
    REQUIRE(bob_phone->send_text(message_to(alice, "before she left")));
    REQUIRE(wait_for_event(*alice_phone, "MessageSent"));
    Resumed resumed{position_of(*alice_phone), {}, {}};
    alice_phone->close();
    REQUIRE(alice_phone->wait_closed(15s));
    REQUIRE(bob_phone->send_text(message_to(alice, "while she was away")));
    const auto both = [](const ClientState& state) { return events_of(state, "MessageSent").size() == 2; };
    REQUIRE(alice_laptop->wait_until(both));
    first->send_signal(SIGTERM);
    REQUIRE(first->wait_for_exit(15s) == 0);

    auto [second, second_url] = start_server();
    auto alice_again = connect_to(second_url, alice, "resume=" + resumed.before);
    resumed.session = session_of(*alice_again);
    if (resumed.session["recovery"] == "complete")
        REQUIRE(alice_again->wait_until([](const ClientState& state) { return state.messages.size() >= 2; }));
    resumed.frames = frames_of(*alice_again);
    return resumed;
}

} // namespace

TEST_CASE("after the program restarts, a position from before is unavailable, never complete",
          "[integration][history][program]") {
    const Resumed resumed = resume_after_restart({});
    CHECK(resumed.session["recovery"] == "unavailable");
    CHECK(resumed.session["epoch"] != json(resumed.before.substr(0, 32)));
    CHECK(resumed.session["offset"] == 0);
    CHECK(resumed.session["replayed"] == 0);
}

TEST_CASE("with --redis and --history memory the history stays in memory: unavailable after a restart",
          "[integration][history][program][redis]") {
    redis_test::RedisServer redis;
    const Resumed resumed =
        resume_after_restart({"--redis", "127.0.0.1:" + std::to_string(redis.port()), "--redis-prefix",
                              redis_test::unique_prefix() + "sb", "--history", "memory"});
    CHECK(resumed.session["recovery"] == "unavailable");
}

TEST_CASE("with only --redis the history is on Redis: a device resumes on the program run again, complete",
          "[integration][history][program][redis]") {
    redis_test::RedisServer redis;
    const Resumed resumed = resume_after_restart({"--redis", "127.0.0.1:" + std::to_string(redis.port()),
                                                  "--redis-prefix", redis_test::unique_prefix() + "sb"});
    CHECK(resumed.session["recovery"] == "complete");
    CHECK(resumed.session["epoch"] == json(resumed.before.substr(0, 32)));
    CHECK(resumed.session["replayed"] == 1);
    REQUIRE(resumed.frames.size() >= 2);
    CHECK(resumed.frames[1]["data"]["content"] == "while she was away");
}
