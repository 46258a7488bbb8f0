// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include <websocketpp/common/connection_hdl.hpp>

#include <switchboard/detail/spin_lock.hpp>

namespace switchboard::websocketpp_internals {

/// Connections whose write storage grew past what a connection keeps, waiting for their endpoint's
/// next tick, which releases it on their strands (`release_write_storage`). So a burst's storage
/// goes within a tick of its last write, and a connection that stays busy regrows it at most once
/// a tick: releasing it after every write would cost a dozen allocations per write at fan-out
/// saturation, where each connection's writes take 16 to 63 messages.
///
/// One per endpoint. Its I/O threads add, each finding the list as `current()`; the ticker takes.
class GrownWriteStorage {
public:
    void add(websocketpp::connection_hdl connection) {
        std::lock_guard lock(lock_);
        connections_.push_back(std::move(connection));
    }

    std::vector<websocketpp::connection_hdl> take() {
        std::lock_guard lock(lock_);
        return std::exchange(connections_, {});
    }

    /// The list of the endpoint whose I/O thread this is; null on other threads (a host's).
    static GrownWriteStorage*& current() {
        thread_local GrownWriteStorage* list = nullptr;
        return list;
    }

private:
    detail::SpinLock lock_;
    std::vector<websocketpp::connection_hdl> connections_;
};

} // namespace switchboard::websocketpp_internals
