// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the manager's unit tests share: three users and a look at what a mock connection received.

#include <string_view>
#include <vector>

#include <switchboard/connection_manager.hpp>
#include <switchboard/transport/mock.hpp>

namespace test_fixtures {

using Handle = switchboard::MockTransport::Handle;
using Manager = switchboard::ConnectionManager<switchboard::MockTransport>;

inline const switchboard::UserId alice = switchboard::UserId::parse("11111111-1111-4111-8111-111111111111");
inline const switchboard::UserId bob = switchboard::UserId::parse("22222222-2222-4222-8222-222222222222");
inline const switchboard::UserId carol = switchboard::UserId::parse("33333333-3333-4333-8333-333333333333");

/// The events of one type a mock connection received, in order.
inline std::vector<switchboard::Event> events_of_type(const switchboard::MockTransport& transport, Handle handle,
                                                      std::string_view type) {
    std::vector<switchboard::Event> matching;
    for (switchboard::Event& event : transport.events(handle))
        if (event.type() == type) matching.push_back(std::move(event));
    return matching;
}

} // namespace test_fixtures
