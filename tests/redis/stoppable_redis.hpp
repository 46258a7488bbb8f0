// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A redis-server that a test stops (SIGKILL) and starts again on the same port, its data lost or
// kept, and the RedisHistoryOptions for it (short timeouts, a prefix of the test's own).

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <switchboard/redis/history.hpp>

#include "test_client.hpp"

namespace redis_test {

/// A directory of the test's own, removed with it.
struct DataDir {
    DataDir() {
        char name[] = "/tmp/switchboard-redis-XXXXXX";
        REQUIRE(::mkdtemp(name));
        path = name;
    }
    ~DataDir() { std::filesystem::remove_all(path); }
    std::string path;
};

/// Its data lost at a stop, or kept (saved just before the kill, loaded at the start).
struct StoppableRedis {
    explicit StoppableRedis(bool keeps_data) {
        if (keeps_data) dir.emplace();
        start();
        port = server->port();
    }
    void start() { server = std::make_unique<RedisServer>(port, dir ? dir->path : ""); }
    void stop() {
        if (dir) {
            IoThread io;
            TestClient client{io, options_for(*server)};
            REQUIRE(eventually([&] { return client.connected == 1; }));
            REQUIRE(client.call({"SAVE"}).reply.text == "OK");
        }
        server->kill();
    }
    switchboard::redis::RedisHistoryOptions history_options() const {
        switchboard::redis::RedisHistoryOptions options;
        options.port = port;
        options.prefix = prefix;
        options.connect_timeout = options.command_timeout = std::chrono::milliseconds(200);
        options.retry_interval = std::chrono::milliseconds(100);
        return options;
    }

    std::optional<DataDir> dir;
    std::uint16_t port = 0;
    std::unique_ptr<RedisServer> server;
    std::string prefix = unique_prefix() + "sb";
};

} // namespace redis_test
