// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <atomic>
#include <cstdint>

namespace switchboard::websocketpp_internals {

/// How many writes since the endpoint's last tick gave back storage they had grown past one
/// message (`release_write_storage`, right after each write). The tick reads it to
/// tell a burst (`detail::HeapTrim`): ticks that saw such writes, then one that saw none.
///
/// Storage is given back at once rather than at the next tick: kept till then, a burst's write
/// storage lay among the connections opened meanwhile and, freed, left holes that only its own
/// size fits (`--presence all`, 3,000 idle connections: ~1.5 KB a connection of free heap that
/// stayed resident). The price is the growth of a write's vectors again at the next write.
///
/// One per endpoint. Its I/O threads count, each finding it as `current()`; the ticker takes.
class GrownWriteStorage {
public:
    void count() { released_.fetch_add(1, std::memory_order_relaxed); }

    /// Writes counted since the last call.
    std::uint64_t take() { return released_.exchange(0, std::memory_order_relaxed); }

    /// The counter of the endpoint whose I/O thread this is; null on other threads (a host's).
    static GrownWriteStorage*& current() {
        thread_local GrownWriteStorage* counter = nullptr;
        return counter;
    }

private:
    std::atomic<std::uint64_t> released_{0};
};

} // namespace switchboard::websocketpp_internals
