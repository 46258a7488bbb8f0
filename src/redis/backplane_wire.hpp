// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What RedisBackplane nodes say to each other: channel names, and the envelope of a message,
// `<origin node id>\n<d|e><frame text>` (`d` durable, `e` ephemeral), or, for an event of a
// user's stream that RedisHistory's append script publishes itself,
// `<origin node id>\ns<epoch>:<offset>\n<event text>` (the text without its offset). Nodes of one
// cluster run one version of it.

#include <optional>
#include <string>
#include <string_view>

#include <switchboard/event.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::redis::detail {

class Channels {
public:
    explicit Channels(const std::string& prefix, const std::string& node_id)
        : user_prefix_(user_prefix_of(prefix)), broadcast_(prefix + ".broadcast"), node_(prefix + ".node." + node_id),
          presence_(prefix + ".presence") {}

    /// What the channels of users start with, their id following.
    static std::string user_prefix_of(const std::string& prefix) { return prefix + ".user."; }
    std::string user(const UserId& user) const { return user_prefix_ + user.to_string(); }
    const std::string& broadcast() const { return broadcast_; }
    const std::string& node() const { return node_; }
    /// Presence as Redis decides it (presence_scripts.hpp): `1<user id>` online, `0<user id>` offline.
    const std::string& presence() const { return presence_; }
    /// The user whose channel this is, if it is a user's channel.
    std::optional<UserId> user_of(std::string_view channel) const {
        if (channel.substr(0, user_prefix_.size()) != user_prefix_) return std::nullopt;
        return UserId::try_parse(channel.substr(user_prefix_.size()));
    }

private:
    std::string user_prefix_;
    std::string broadcast_;
    std::string node_;
    std::string presence_;
};

struct PresenceChange {
    UserId user;
    bool online;
};

/// None for a payload that is not a presence change.
inline std::optional<PresenceChange> parse_presence(std::string_view payload) {
    if (payload.empty() || (payload[0] != '0' && payload[0] != '1')) return std::nullopt;
    const auto user = UserId::try_parse(payload.substr(1));
    if (!user) return std::nullopt;
    return PresenceChange{*user, payload[0] == '1'};
}

struct Envelope {
    std::string_view origin;
    Durability durability;
    std::string_view text;
    std::optional<StreamPosition> position; ///< an event of a stream, `text` without its offset
};

/// The kind of a stream event's envelope, after the origin's newline.
constexpr char stream_kind = 's';

/// What a stream event's envelope starts with; the append script (history_scripts.hpp) adds
/// `<epoch>:<offset>\n<event text>` to it.
inline std::string stream_envelope_head(std::string_view origin) {
    return std::string(origin).append(1, '\n').append(1, stream_kind);
}

inline std::string seal(std::string_view origin, const Frame& frame) {
    std::string payload;
    payload.reserve(origin.size() + 2 + frame.size());
    payload.append(origin).append(1, '\n');
    payload.append(1, frame.durability() == Durability::durable ? 'd' : 'e').append(frame.text());
    return payload;
}

/// `<epoch>:<offset>\n<event text>`, after a stream envelope's head.
inline std::optional<Envelope> unseal_stream_event(std::string_view origin, std::string_view rest) {
    const std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos || newline + 1 >= rest.size()) return std::nullopt;
    const ParsedPosition parsed = StreamPosition::parse(rest.substr(0, newline));
    if (!parsed) return std::nullopt;
    return Envelope{origin, Durability::durable, rest.substr(newline + 1), parsed.position};
}

/// None for a payload that is not an envelope.
inline std::optional<Envelope> unseal(std::string_view payload) {
    const std::size_t newline = payload.find('\n');
    if (newline == std::string_view::npos || newline == 0 || newline + 1 >= payload.size()) return std::nullopt;
    const char kind = payload[newline + 1];
    if (kind == stream_kind) return unseal_stream_event(payload.substr(0, newline), payload.substr(newline + 2));
    if (kind != 'd' && kind != 'e') return std::nullopt;
    return Envelope{payload.substr(0, newline), kind == 'd' ? Durability::durable : Durability::ephemeral,
                    payload.substr(newline + 2), std::nullopt};
}

} // namespace switchboard::redis::detail
