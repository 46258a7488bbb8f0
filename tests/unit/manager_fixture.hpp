// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The manager tests' fixture: a manager on a mock transport, with devices connected directly.

#include <string>
#include <string_view>
#include <vector>

#include "mock_fixtures.hpp"

namespace test_fixtures {

inline std::vector<std::string> types_of(const std::vector<switchboard::Event>& events) {
    std::vector<std::string> types;
    for (const switchboard::Event& event : events) types.push_back(event.type());
    return types;
}

/// A manager on a mock transport, with helpers to connect devices directly.
struct Fixture {
    switchboard::MockTransport transport;
    Manager manager{transport};

    struct Device {
        Handle handle;
        switchboard::ConnectionId id;
    };

    Device connect(const switchboard::UserId& user) {
        const Handle handle = transport.open();
        return Device{handle, manager.register_connection(user, handle)};
    }

    std::vector<std::string> received(const Device& device) const { return types_of(transport.events(device.handle)); }

    std::vector<switchboard::Event> received_of_type(const Device& device, std::string_view type) const {
        return events_of_type(transport, device.handle, type);
    }
};

} // namespace test_fixtures
