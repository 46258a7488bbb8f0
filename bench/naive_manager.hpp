// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `NaiveManager`: the baseline, what a developer writes by hand. One mutex around a map from
/// user to handles, held while sending; the event is serialized once per recipient (with the
/// library's own serializer, so the comparison is about structure, not JSON code). No presence.
/// It offers the subset of `ConnectionManager`'s interface the benchmarks use.

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include <switchboard/event.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::bench {

template <class Transport>
class NaiveManager {
public:
    using handle_type = typename Transport::handle_type;

    /// What `unregister_connection` needs to find a connection again.
    struct Connection {
        UserId user;
        handle_type handle;
    };

    explicit NaiveManager(Transport& transport) : transport_(transport) {}

    Connection register_connection(const UserId& user, handle_type handle) {
        std::lock_guard lock(mutex_);
        handles_[user].push_back(handle);
        return Connection{user, handle};
    }

    bool unregister_connection(const Connection& connection) {
        std::lock_guard lock(mutex_);
        const auto found = handles_.find(connection.user);
        if (found == handles_.end()) return false;
        auto& handles = found->second;
        handles.erase(std::remove(handles.begin(), handles.end(), connection.handle), handles.end());
        if (handles.empty()) handles_.erase(found);
        return true;
    }

    std::size_t send_to_user(const UserId& user, const Event& event) {
        std::lock_guard lock(mutex_);
        const auto found = handles_.find(user);
        return found == handles_.end() ? 0 : send_each(found->second, event);
    }

    std::size_t broadcast(const Event& event) {
        std::lock_guard lock(mutex_);
        std::size_t reached = 0;
        for (const auto& entry : handles_) reached += send_each(entry.second, event);
        return reached;
    }

private:
    std::size_t send_each(const std::vector<handle_type>& handles, const Event& event) {
        std::size_t reached = 0;
        for (const handle_type& handle : handles)
            if (transport_.send(handle, event.to_frame())) ++reached;
        return reached;
    }

    Transport& transport_;
    std::mutex mutex_;
    std::map<UserId, std::vector<handle_type>> handles_;
};

} // namespace switchboard::bench
