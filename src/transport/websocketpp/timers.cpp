// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "timers.hpp"

#include <algorithm>
#include <utility>

#include <asio/post.hpp>

namespace switchboard::websocketpp_transport {

Clock::duration HeartbeatPeriods::tick() const {
    Clock::duration shortest = std::chrono::milliseconds(250) * 8;
    for (const std::chrono::milliseconds period : {ping_interval, pong_timeout})
        if (period.count() > 0) shortest = std::min<Clock::duration>(shortest, period);
    return std::max<Clock::duration>(shortest / 8, std::chrono::milliseconds(1));
}

Heartbeat::Duty Heartbeat::duty(Clock::time_point now) const {
    if (now >= expires) return Duty::expire;
    if (awaiting_pong && now >= pong_deadline) return Duty::pong_timeout;
    if (now >= next_ping) return Duty::ping;
    return Duty::none;
}

void Heartbeat::pinged(Clock::time_point now, bool sent, const HeartbeatPeriods& periods) {
    if (!awaiting_pong) {
        awaiting_pong = sent;
        pong_deadline = periods.pong_timeout.count() > 0 ? now + periods.pong_timeout : never;
    }
    next_ping = now + periods.ping_interval;
}

Clock::time_point Heartbeat::due() const {
    const Clock::time_point due = std::min(next_ping, expires);
    return awaiting_pong ? std::min(due, pong_deadline) : due;
}

std::uint32_t DueTable::enter(Handle connection, Clock::time_point due) {
    std::lock_guard lock(mutex_);
    if (free_.empty()) {
        entries_.push_back(Entry{std::move(connection), due});
        return static_cast<std::uint32_t>(entries_.size() - 1);
    }
    const std::uint32_t entry = free_.back();
    free_.pop_back();
    entries_[entry] = Entry{std::move(connection), due};
    return entry;
}

void DueTable::set_due(std::uint32_t entry, Clock::time_point due) {
    std::lock_guard lock(mutex_);
    entries_[entry].due = due;
}

bool DueTable::leave(std::uint32_t& entry) {
    if (entry == no_entry) return false;
    std::lock_guard lock(mutex_);
    entries_[entry] = Entry{};
    free_.push_back(entry);
    entry = no_entry;
    return true;
}

std::vector<DueTable::Handle> DueTable::take_due(Clock::time_point now) {
    std::vector<Handle> due;
    std::lock_guard lock(mutex_);
    for (Entry& entry : entries_)
        if (entry.due <= now) {
            due.push_back(entry.connection);
            entry.due = never;
        }
    return due;
}

std::vector<DueTable::Handle> DueTable::connections() const {
    std::vector<Handle> open;
    std::lock_guard lock(mutex_);
    for (const Entry& entry : entries_)
        if (!entry.connection.expired()) open.push_back(entry.connection);
    return open;
}

Ticker::State::State(asio::io_context& io, Clock::duration period, std::function<void()> on_tick)
    : strand(asio::make_strand(io)), timer(strand), period(period), on_tick(std::move(on_tick)) {}

Ticker::Ticker(asio::io_context& io, Clock::duration period, std::function<void()> on_tick)
    : state_(std::make_shared<State>(io, period, std::move(on_tick))) {}

void Ticker::start() {
    asio::post(state_->strand, [state = state_] { arm(state); });
}

void Ticker::stop() {
    state_->stopped = true;
    state_->timer.cancel();
}

/// On the ticker's strand.
void Ticker::arm(const std::shared_ptr<State>& state) {
    if (state->stopped) return;
    state->timer.expires_after(state->period);
    state->timer.async_wait([state](const std::error_code& error) {
        if (error || state->stopped) return;
        state->on_tick();
        arm(state);
    });
}

} // namespace switchboard::websocketpp_transport
