// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the cluster-presence tests ask: what a device heard of a user's presence, presence options
// whose watcher is carol, a fast heartbeat, and which nodes Redis says hold a user.

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "backplane_node.hpp"

namespace redis_test {

/// What `device` heard of `user`'s presence, in order: '+' online, '-' offline (from UserOnline,
/// UserOffline and PresenceDiff alike).
inline std::string presence_heard(const Node& node, const Node::Device& device, const switchboard::UserId& user) {
    const std::string id = user.to_string();
    std::string heard;
    const auto lists = [&](const switchboard::Event& event, const char* field) {
        for (const auto& listed : event.data().at(field))
            if (listed.get<std::string>() == id) return true;
        return false;
    };
    for (const switchboard::Event& event : node.transport.events(device.handle)) {
        if (event.type() == "UserOnline" && event.data().at("user_id") == id) heard += '+';
        if (event.type() == "UserOffline" && event.data().at("user_id") == id) heard += '-';
        if (event.type() == "PresenceDiff" && lists(event, "joins")) heard += '+';
        if (event.type() == "PresenceDiff" && lists(event, "leaves")) heard += '-';
    }
    return heard;
}

inline switchboard::PresenceOptions presence_options(switchboard::PresenceMode mode) {
    switchboard::PresenceOptions presence;
    presence.mode = mode;
    presence.coalesce_interval = std::chrono::milliseconds(20);
    // scoped: carol hears of all
    presence.watchers = [](const switchboard::UserId&) { return std::vector<switchboard::UserId>{carol}; };
    return presence;
}

inline switchboard::redis::RedisBackplaneOptions fast_heartbeat(switchboard::redis::RedisBackplaneOptions options,
                                                                std::chrono::milliseconds dead_after) {
    options.heartbeat_interval = std::chrono::milliseconds(100);
    options.dead_after = dead_after;
    return options;
}

/// Which nodes Redis says hold `user`.
inline std::vector<std::string> holders(TestClient& redis, const std::string& prefix, const switchboard::UserId& user) {
    std::vector<std::string> nodes;
    for (const auto& field : redis.call({"HKEYS", prefix + ".presence.user." + user.to_string()}).reply.elements)
        nodes.push_back(field.text);
    std::sort(nodes.begin(), nodes.end());
    return nodes;
}

} // namespace redis_test
