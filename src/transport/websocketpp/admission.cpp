// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "admission.hpp"

#include <algorithm>

#include <sys/resource.h>

namespace switchboard::websocketpp_transport {
namespace {

std::size_t default_max_connections() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return 1'000'000;
    return files.rlim_cur > 128 ? static_cast<std::size_t>(files.rlim_cur) - 64 : 64;
}

/// The IP of websocketpp's "ip:port" or "[ipv6]:port".
std::string address_of(const std::string& endpoint) {
    const std::size_t colon = endpoint.rfind(':');
    std::string address = endpoint.substr(0, colon);
    if (address.size() >= 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
    return address;
}

detail::UpgradeRefusal counted(std::atomic<std::uint64_t>& counter, int status, std::string_view reason) {
    counter.fetch_add(1, std::memory_order_relaxed);
    return {status, reason, {}};
}

} // namespace

Admission::Admission(const WebsocketppOptions& options)
    : max_connections_(options.max_connections ? options.max_connections : default_max_connections()),
      max_connections_per_address_(options.max_connections_per_address),
      allowed_origins_(options.allowed_origins),
      websocket_path_(options.websocket_path) {}

std::optional<detail::UpgradeRefusal> Admission::admit(const UpgradeRequest& request, bool accepting, Slot& slot) {
    if (request.path != websocket_path_) return counted(refused_.path, 404, "no WebSocket endpoint here");
    if (!origin_allowed(request.header("Origin"))) return counted(refused_.origin, 403, "origin not allowed");
    const auto at_capacity = [this] { return counted(refused_.capacity, 503, "server is not accepting connections"); };
    if (!accepting) return at_capacity();
    switch (take_slot(address_of(request.remote_address), slot)) {
    case SlotVerdict::taken: return std::nullopt;
    case SlotVerdict::at_capacity: return at_capacity();
    case SlotVerdict::address_full: return counted(refused_.address, 429, "too many connections from this address");
    }
    return std::nullopt;
}

std::optional<detail::UpgradeRefusal> Admission::refuse_malformed(detail::UpgradeFault fault, std::string_view path) {
    const bool no_upgrade_elsewhere = fault == detail::UpgradeFault::not_websocket && path != websocket_path_;
    const std::optional<detail::UpgradeRefusal> refusal = detail::refusal_for(fault);
    if (!refusal || no_upgrade_elsewhere) return std::nullopt;
    auto& counter = fault == detail::UpgradeFault::unsupported_version ? refused_.version : refused_.malformed;
    counter.fetch_add(1, std::memory_order_relaxed);
    return refusal;
}

bool Admission::origin_allowed(std::optional<std::string_view> origin) const {
    const auto& allowed = allowed_origins_;
    return allowed.empty() || !origin || std::find(allowed.begin(), allowed.end(), *origin) != allowed.end();
}

/// Checks the global and per-address limits and, under them, takes a slot of each, in one
/// critical section: two upgrades cannot both see the last slot free.
Admission::SlotVerdict Admission::take_slot(std::string address, Slot& slot) {
    std::lock_guard lock(mutex_);
    if (slots_taken_ >= max_connections_) return SlotVerdict::at_capacity;
    auto& from_address = *per_address_.try_emplace(std::move(address)).first;
    if (max_connections_per_address_ != 0 && from_address.second >= max_connections_per_address_)
        return SlotVerdict::address_full;
    ++slots_taken_;
    ++from_address.second;
    slot = &from_address;
    return SlotVerdict::taken;
}

void Admission::opened() {
    std::lock_guard lock(mutex_);
    ++open_count_;
}

void Admission::release(Slot& slot, bool was_open) {
    std::lock_guard lock(mutex_);
    if (was_open) --open_count_;
    if (!slot) return;
    if (--slot->second == 0) per_address_.erase(slot->first);
    slot = nullptr;
    if (--slots_taken_ == 0) all_released_.notify_all();
}

void Admission::wait_until_all_released(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    all_released_.wait_until(lock, deadline, [this] { return slots_taken_ == 0; });
}

std::size_t Admission::open_count() const {
    std::lock_guard lock(mutex_);
    return open_count_;
}

void Admission::report(WebsocketppTransport::Metrics& metrics) const {
    constexpr auto relaxed = std::memory_order_relaxed;
    metrics.refused_version = refused_.version.load(relaxed);
    metrics.refused_malformed = refused_.malformed.load(relaxed);
    metrics.refused_path = refused_.path.load(relaxed);
    metrics.refused_origin = refused_.origin.load(relaxed);
    metrics.refused_capacity = refused_.capacity.load(relaxed);
    metrics.refused_address = refused_.address.load(relaxed);
    std::lock_guard lock(mutex_);
    metrics.upgrades_pending = slots_taken_ - open_count_;
}

} // namespace switchboard::websocketpp_transport
