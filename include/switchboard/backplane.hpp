// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The backplane hook: how several nodes (processes, machines) share delivery.
///
/// A `ConnectionManager` with a backplane delivers every event to its own connections first,
/// then publishes the frame so that the other nodes deliver it to theirs; presence events are
/// published as broadcasts. What other nodes publish comes back through `BackplaneSink`, which
/// delivers to local connections only (never re-publishes). A Redis pub/sub backplane plugs in
/// here; with none, the manager serves one node.

#include <vector>

#include <switchboard/event.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

/// Local delivery, as offered to a backplane by the manager it serves. Thread-safe.
class BackplaneSink {
public:
    virtual void deliver_to_users(const std::vector<UserId>& users, const Frame& frame) = 0;
    virtual void deliver_to_all(const Frame& frame) = 0;

protected:
    ~BackplaneSink() = default;
};

class Backplane {
public:
    virtual ~Backplane() = default;
    /// Called by the manager with itself at construction and with nullptr at destruction;
    /// after `attach(nullptr)` returns, the sink must not be called any more.
    virtual void attach(BackplaneSink* sink) = 0;
    /// Publishes to the other nodes. Called from any thread, after local delivery; must not block long.
    virtual void publish_to_users(const std::vector<UserId>& users, const Frame& frame) = 0;
    virtual void publish_to_all(const Frame& frame) = 0;
};

} // namespace switchboard
