// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// What the core benchmarks run against: users with stable ids, a typical event, managers with a
/// population connected on a `CountingTransport`, a check of what calls delivered, and the send
/// benchmark core_bench.cpp and history_bench.cpp both run.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <switchboard/connection_manager.hpp>
#include <switchboard/events.hpp>
#include <switchboard/user_id.hpp>

#include "counting_transport.hpp"

namespace switchboard::bench {

inline constexpr std::uint64_t population_seed = 1;
inline constexpr std::uint64_t newcomer_seed = 2;
inline constexpr std::uint64_t event_seed = 3;
inline constexpr std::size_t users_for_sends = 10'000;

/// Switchboard as configured by default: presence goes to everyone connected.
using Switchboard = ConnectionManager<CountingTransport>;

/// Switchboard with `PresenceMode::scoped` and no watchers: presence goes to no one, so
/// connecting N users costs O(N) instead of O(N²) deliveries. Delivery itself does not involve
/// presence; the delivery benchmarks use this one so that their setup takes a second, not minutes.
class ScopedSwitchboard : public Switchboard {
public:
    explicit ScopedSwitchboard(CountingTransport& transport, ManagerOptions options = {})
        : Switchboard(transport, {}, scoped(std::move(options))) {}

private:
    static ManagerOptions scoped(ManagerOptions options) {
        options.presence.mode = PresenceMode::scoped;
        return options;
    }
};

/// Whether a manager's frames carry a stream offset (`Manager::streams = true`), so differ in size.
template <class Manager, class = void>
struct streams : std::false_type {};
template <class Manager>
struct streams<Manager, std::enable_if_t<Manager::streams>> : std::true_type {};

/// Random-looking version-4 UUIDs, the same in every run (and so in the same shards).
inline std::vector<UserId> make_user_ids(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::vector<UserId> ids;
    ids.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        UserId::Bytes bytes;
        for (std::uint8_t& byte : bytes) byte = static_cast<std::uint8_t>(engine());
        bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);
        bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
        ids.emplace_back(bytes);
    }
    return ids;
}

/// A typical event: a chat message, 183 bytes on the wire.
inline Event sample_event() {
    const std::vector<UserId> people = make_user_ids(2, event_seed);
    return MessageSent{"msg-0001", people[0], {people[1]}, "See you at the station at eight?"};
}

/// A manager on its own transport, with `users` users connected by `devices` connections each.
template <class Manager>
class Population {
public:
    using handle_type = CountingTransport::handle_type;

    Population(std::size_t users, std::size_t devices) : users_(make_user_ids(users, population_seed)) {
        // Everyone's first connection before anyone's second: presence goes out on first
        // connections only, to those already connected, so this order sends the fewest frames.
        for (std::size_t device = 0; device < devices; ++device)
            for (const UserId& user : users_) manager_.register_connection(user, new_handle());
    }

    Manager& manager() noexcept { return manager_; }
    const std::vector<UserId>& users() const noexcept { return users_; }
    handle_type new_handle() noexcept { return next_handle_++; }

private:
    CountingTransport transport_;
    Manager manager_{transport_};
    std::vector<UserId> users_;
    handle_type next_handle_ = 0;
};

/// Built once per shape and kept: Google Benchmark calls a benchmark once per repetition (and
/// more to pick an iteration count), and the threads of one run share it.
template <class Manager>
Population<Manager>& shared_population(std::size_t users, std::size_t devices) {
    static std::mutex mutex;
    static std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Population<Manager>>> populations;
    std::lock_guard lock(mutex);
    auto& population = populations[{users, devices}];
    if (!population) population = std::make_unique<Population<Manager>>(users, devices);
    return *population;
}

/// What one thread's calls delivered, checked against what the transport saw.
class Deliveries {
public:
    /// `frame_size` 0: frames differ in size (stream events carry their offset), only count them.
    Deliveries(std::size_t frame_size, std::size_t per_call)
        : frame_size_(frame_size), per_call_(per_call), bytes_before_(CountingTransport::bytes_sent_by_this_thread()) {}
    Deliveries(const Event& event, std::size_t per_call) : Deliveries(event.to_frame().size(), per_call) {}

    void add(std::size_t reached) noexcept { delivered_ += reached; }
    std::uint64_t delivered() const noexcept { return delivered_; }

    /// Reports the bytes sent; fails the run unless every call reached `per_call` connections.
    void check(benchmark::State& state) const {
        const std::uint64_t bytes = CountingTransport::bytes_sent_by_this_thread() - bytes_before_;
        state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
        const std::uint64_t expected = static_cast<std::uint64_t>(state.iterations()) * per_call_;
        if (delivered_ != expected || (frame_size_ != 0 && bytes != expected * frame_size_))
            state.SkipWithError("a call did not reach every connection it should have");
    }

private:
    std::uint64_t frame_size_;
    std::uint64_t per_call_;
    std::uint64_t bytes_before_;
    std::uint64_t delivered_ = 0;
};

/// Sends to each of 10,000 users in turn, every user connected by `devices` connections. With
/// several threads, each sends to its own users: thread t to users t, t + threads, ...
template <class Manager>
void send_to_user(benchmark::State& state, std::size_t devices) {
    Population<Manager>& population = shared_population<Manager>(users_for_sends, devices);
    const std::vector<UserId>& users = population.users();
    const Event event = sample_event();
    Deliveries deliveries(streams<Manager>::value ? 0 : event.to_frame().size(), devices);
    std::size_t next = static_cast<std::size_t>(state.thread_index());
    const auto stride = static_cast<std::size_t>(state.threads());
    for (auto _ : state) {
        deliveries.add(population.manager().send_to_user(users[next], event));
        next += stride;
        if (next >= users.size()) next -= users.size();
    }
    deliveries.check(state);
    state.SetItemsProcessed(state.iterations());
}

} // namespace switchboard::bench
