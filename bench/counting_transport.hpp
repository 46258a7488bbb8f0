// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `CountingTransport`: the leanest transport that still does the work a send must do (look at
/// the frame), so a benchmark measures the manager and not the transport. Unlike `MockTransport`
/// it records nothing: at 100,000 connections, storing frames would dominate time and memory.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <benchmark/benchmark.h>

#include <switchboard/event.hpp>
#include <switchboard/transport.hpp>

namespace switchboard::bench {

class CountingTransport {
public:
    using handle_type = std::uint32_t;

    /// Always succeeds; adds the frame's size to the calling thread's count. Reads the handle as
    /// a real send must, so that the compiler cannot fold a loop of sends into one addition.
    bool send(const handle_type& handle, const Frame& frame) noexcept {
        benchmark::DoNotOptimize(handle);
        bytes_sent_ += frame.size();
        return true;
    }
    void close(const handle_type&, CloseCode, std::string_view) noexcept {}
    bool is_open(const handle_type&) const noexcept { return true; }
    std::size_t queued_bytes(const handle_type&) const noexcept { return 0; }

    /// Bytes sent so far by the calling thread, through any instance. Counting per thread keeps
    /// concurrent senders off a shared cache line, as sends to different sockets would be.
    static std::uint64_t bytes_sent_by_this_thread() noexcept { return bytes_sent_; }

private:
    static inline thread_local std::uint64_t bytes_sent_ = 0;
};

static_assert(is_transport_v<CountingTransport>);

} // namespace switchboard::bench
