// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Reconnection, subscriptions and liveness against a real redis-server that the tests kill, restart and pause.
#include <catch2/catch.hpp>

#include <algorithm>

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_client.hpp"

using namespace redis_test;
using switchboard::redis::Errc;

TEST_CASE("the server killed and restarted: the connection comes back and on_connected runs again", "[redis]") {
    auto server = std::make_unique<RedisServer>();
    const std::uint16_t port = server->port();
    IoThread io;
    TestClient client(io, options_for(*server));
    REQUIRE(eventually([&] { return client.connected == 1; }));

    server->kill();
    REQUIRE(eventually([&] { return client.disconnect_reasons().size() == 1; }));
    CHECK(client.disconnect_reasons()[0] == Errc::connection_lost);
    CHECK(client.call({"PING"}).error == Errc::not_connected);
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // several refused attempts, backing off

    server = std::make_unique<RedisServer>(port);
    REQUIRE(eventually([&] { return client.connected == 2; }, std::chrono::seconds(2)));
    CHECK(client.call({"PING"}).reply.text == "PONG");
}

TEST_CASE("attempts to reconnect back off exponentially, each delay drawn in [ceiling/2, ceiling]", "[redis]") {
    RedisServer server;
    IoThread io;
    auto options = options_for(server); // 20 ms doubled up to 200 ms
    std::mutex mutex;
    std::vector<std::chrono::milliseconds> delays;
    std::vector<std::error_code> reasons;
    options.on_backoff = [&](std::error_code why, std::chrono::milliseconds delay) {
        std::lock_guard lock(mutex);
        reasons.push_back(why);
        delays.push_back(delay);
    };
    TestClient client(io, options);
    REQUIRE(eventually([&] { return client.connected == 1; }));
    server.kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));

    std::lock_guard lock(mutex);
    REQUIRE(delays.size() >= 6);
    CHECK(reasons[0] == Errc::connection_lost); // the connection that was up, then each refused attempt
    CHECK(std::all_of(reasons.begin() + 1, reasons.end(), [](auto why) { return why == Errc::connect_failed; }));
    bool jittered = false;
    for (std::size_t attempt = 0; attempt < delays.size(); ++attempt) {
        const auto ceiling = std::min(std::chrono::milliseconds(20 << std::min<std::size_t>(attempt, 10)),
                                      std::chrono::milliseconds(200));
        CHECK(delays[attempt] <= ceiling);
        CHECK(delays[attempt] >= ceiling / 2);
        jittered = jittered || delays[attempt] != ceiling;
    }
    CHECK(jittered);
}

namespace {
/// A loopback listener whose accept queue is full, so that the kernel drops further SYNs: a connect
/// there hangs (the kernel would retry the SYN only after 1 s, then 3 s).
class FullListener {
public:
    explicit FullListener(std::uint16_t port) : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
        const int on = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        const sockaddr_in address = loopback(port);
        REQUIRE(::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(listener_, 0) == 0);
        for (int& filler : fillers_) {
            filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            ::connect(filler, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the handshakes complete
    }
    ~FullListener() { close(); }
    void close() {
        for (int& fd : fillers_) fd = fd >= 0 ? (::close(fd), -1) : -1;
        listener_ = listener_ >= 0 ? (::close(listener_), -1) : -1;
    }

private:
    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return address;
    }
    int listener_;
    int fillers_[3] = {-1, -1, -1};
};
} // namespace

TEST_CASE("a connect that hangs is given up after connect_timeout and tried again", "[redis]") {
    const std::uint16_t port = RedisServer().port(); // free, and redis-server can bind it
    auto listener = std::make_unique<FullListener>(port);
    IoThread io;
    switchboard::redis::ConnectionOptions options;
    options.port = port;
    options.connect_timeout = std::chrono::milliseconds(100);
    options.backoff_initial = options.backoff_max = std::chrono::milliseconds(50);
    TestClient client(io, options);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200)); // past the kernel's first SYN retry
    CHECK(client.connected == 0);

    listener.reset();
    RedisServer server(port);
    const auto up = std::chrono::steady_clock::now();
    // Without the timeout the hung attempt would wait for the kernel's next SYN retry, at 3 s.
    REQUIRE(eventually([&] { return client.connected == 1; }, std::chrono::seconds(3)));
    CHECK(std::chrono::steady_clock::now() - up < std::chrono::milliseconds(700));
}

namespace {
/// Publishes until the subscriber has `count` messages (a SUBSCRIBE sent is not yet in effect).
bool published_until(TestClient& publisher, TestClient& subscriber, const std::string& channel, std::size_t count) {
    return eventually([&] {
        publisher.call({"PUBLISH", channel, "hello"});
        return subscriber.messages().size() >= count;
    });
}
} // namespace

TEST_CASE("SUBSCRIBE and PUBLISH: messages reach on_message, binary-safe, again after CLIENT KILL", "[redis]") {
    RedisServer server;
    IoThread io;
    const std::string channel = unique_prefix() + "node";
    auto subscriber = std::make_unique<TestClient>(io, options_for(server), std::vector{channel});
    TestClient publisher(io, options_for(server));
    REQUIRE(eventually([&] { return subscriber->connected == 1 && publisher.connected == 1; }));

    REQUIRE(published_until(publisher, *subscriber, channel, 1));
    const std::string payload("a\0b\r\n", 5);
    REQUIRE(publisher.call({"PUBLISH", channel, payload}).reply.integer == 1);
    REQUIRE(eventually([&] { return subscriber->messages().back().second == payload; }));
    CHECK(subscriber->messages().back().first == channel);

    REQUIRE(publisher.call({"CLIENT", "KILL", "TYPE", "pubsub"}).reply.integer == 1);
    REQUIRE(eventually([&] { return subscriber->connected == 2; }));
    CHECK(subscriber->disconnect_reasons() == std::vector<std::error_code>{Errc::connection_lost});
    const std::size_t before = subscriber->messages().size();
    CHECK(published_until(publisher, *subscriber, channel, before + 1));
}

TEST_CASE("liveness: a subscriber probed through its own channel stays up, and is torn down when Redis goes silent",
          "[redis]") {
    RedisServer server;
    IoThread io;
    const std::string channel = unique_prefix() + "node";
    TestClient publisher(io, options_for(server));
    auto options = options_for(server);
    options.liveness_interval = std::chrono::milliseconds(150);
    std::atomic<int> probes{0};
    options.liveness_probe = [&] {
        ++probes;
        publisher.connection().command({"PUBLISH", channel, "probe"}, [](std::error_code, switchboard::redis::Reply) {});
    };
    auto subscriber = std::make_unique<TestClient>(io, options, std::vector{channel});
    REQUIRE(eventually([&] { return subscriber->connected == 1 && publisher.connected == 1; }));

    std::this_thread::sleep_for(std::chrono::milliseconds(1000)); // ~6 intervals, each answered by its echo
    CHECK(probes >= 4);
    CHECK(subscriber->disconnect_reasons().empty());

    // CLIENT PAUSE holds the probe's PUBLISH: nothing reaches the subscriber, though its socket stays open.
    TestClient pauser(io, options_for(server));
    REQUIRE(eventually([&] { return pauser.connected == 1; }));
    REQUIRE(pauser.call({"CLIENT", "PAUSE", "1000", "ALL"}).reply.text == "OK");
    REQUIRE(eventually([&] { return !subscriber->disconnect_reasons().empty(); }, std::chrono::milliseconds(800)));
    CHECK(subscriber->disconnect_reasons()[0] == Errc::liveness_lost);
    REQUIRE(eventually([&] { return subscriber->connected >= 2; }));
}

namespace {
std::size_t open_descriptors() {
    std::size_t count = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    while (::readdir(dir)) ++count;
    ::closedir(dir);
    return count;
}
} // namespace

TEST_CASE("connecting and disconnecting a thousand times leaks no descriptor", "[redis]") {
    RedisServer server;
    IoThread io;
    // Asio's reactor opens its epoll, eventfd and timerfd with the first I/O object: open them first.
    TestClient(io, options_for(server)).call({"PING"});
    const std::size_t before = open_descriptors();
    for (int i = 0; i < 1000; ++i) {
        // Every other one is stopped while its connect may still be under way.
        auto client = std::make_unique<TestClient>(io, options_for(server));
        if (i % 2 == 0) REQUIRE(eventually([&] { return client->connected == 1; }));
        if (i % 4 == 0) REQUIRE(client->call({"PING"}).reply.text == "PONG");
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("the descriptor hiredis closed is never closed again by the adapter", "[redis]") {
    RedisServer server;
    int reused = -1;
    {
        IoThread io;
        {
            TestClient client(io, options_for(server));
            REQUIRE(eventually([&] { return client.connected == 1; }));
        } // hiredis closes its socket: the lowest free number, which the next open takes again
        reused = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        REQUIRE(reused >= 0);
    } // the io_context goes, and with it every descriptor object still registered there
    CHECK(::fcntl(reused, F_GETFD) != -1);
    ::close(reused);
}
