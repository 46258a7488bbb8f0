// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the history tests share: a manager with a MemoryHistory (or a store of the test's) on the
// mock transport, devices that connect (and resume) through the listener, and a look at the
// frames they received.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <switchboard/auth/static_token.hpp>
#include <switchboard/connection_manager.hpp>
#include <switchboard/history/memory.hpp>
#include <switchboard/transport/mock.hpp>

#include "mock_fixtures.hpp"

namespace test_fixtures {

/// One frame as a client reads it: its type, its offset if it came from a stream, its data.
struct Received {
    std::string type;
    std::optional<std::uint64_t> offset;
    nlohmann::json data;
};

inline Received read_frame(const switchboard::Frame& frame) {
    const nlohmann::json json = nlohmann::json::parse(frame.text());
    Received received{json.at("type").get<std::string>(), std::nullopt, json.at("data")};
    if (json.contains("offset")) received.offset = json.at("offset").get<std::uint64_t>();
    return received;
}

inline switchboard::Session session_of(const Received& received) {
    return received.data.get<switchboard::Session>();
}

/// A manager with history whose authenticator knows the tokens "alice", "bob" and "carol".
struct HistoryFixture {
    explicit HistoryFixture(switchboard::MemoryHistoryOptions store = {}, std::size_t max_replay = 1000,
                            switchboard::LimitOptions limits = {})
        : history(std::make_shared<switchboard::MemoryHistory>(std::move(store))),
          manager(transport, authenticator(), options(history, max_replay, limits)) {}
    explicit HistoryFixture(std::shared_ptr<switchboard::History> store, switchboard::LimitOptions limits = {},
                            std::size_t max_replay = 1000)
        : history(std::move(store)), manager(transport, authenticator(), options(history, max_replay, limits)) {}

    struct Device {
        Handle handle;
        switchboard::ConnectionId id;
    };

    static switchboard::StaticTokenAuthenticator authenticator() {
        switchboard::StaticTokenAuthenticator auth;
        auth.add("alice", alice);
        auth.add("bob", bob);
        auth.add("carol", carol);
        return auth;
    }

    static switchboard::ManagerOptions options(std::shared_ptr<switchboard::History> history, std::size_t max_replay,
                                               switchboard::LimitOptions limits = {}) {
        switchboard::ManagerOptions options;
        options.history = std::move(history);
        options.max_replay = max_replay;
        options.limits = limits;
        return options;
    }

    switchboard::UpgradeRequest request(const std::string& token, const std::string& extra_query = "") const {
        switchboard::UpgradeRequest request;
        request.path = "/ws";
        request.query = "token=" + token + extra_query;
        return request;
    }

    /// Connects through the listener, resuming from `resume` if given. Requires acceptance.
    Device connect(const std::string& token, std::optional<switchboard::StreamPosition> resume = std::nullopt) {
        const auto upgraded = transport.connect(request(token, resume ? "&resume=" + resume->to_string() : ""));
        REQUIRE(upgraded);
        return Device{*upgraded.handle, upgraded.connection};
    }

    void leave(const Device& device) { transport.close_by_client(device.handle); }

    std::vector<Received> received(const Device& device) const {
        std::vector<Received> frames;
        for (const switchboard::Frame& frame : transport.frames(device.handle)) frames.push_back(read_frame(frame));
        return frames;
    }

    /// The offsets of the stream events a device received, in order.
    std::vector<std::uint64_t> offsets(const Device& device) const {
        std::vector<std::uint64_t> numbers;
        for (const Received& frame : received(device))
            if (frame.offset) numbers.push_back(*frame.offset);
        return numbers;
    }

    /// Where a device is after what it received: its Session's epoch, its last offset.
    switchboard::StreamPosition position(const Device& device) const {
        const std::vector<Received> frames = received(device);
        REQUIRE(!frames.empty());
        const switchboard::Session session = session_of(frames.front());
        switchboard::StreamPosition at{session.epoch, session.offset};
        for (const Received& frame : frames)
            if (frame.offset) at.offset = *frame.offset;
        return at;
    }

    switchboard::MockTransport transport;
    std::shared_ptr<switchboard::History> history;
    switchboard::ConnectionManager<switchboard::MockTransport> manager;
};

inline switchboard::Event message(int n) { return switchboard::Event("MessageSent", {{"n", n}}); }

} // namespace test_fixtures
