// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "session.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include <switchboard/auth/jwt.hpp>
#include <switchboard/user_id.hpp>

namespace loadgen {
namespace {

std::string find_after(std::string_view payload, std::string_view key, std::size_t max_length) {
    const void* found = memmem(payload.data(), payload.size(), key.data(), key.size());
    if (!found) return {};
    const std::size_t start = static_cast<std::size_t>(static_cast<const char*>(found) - payload.data()) + key.size();
    return std::string(payload.substr(start, max_length));
}

/// Entries of the `"joins":[...]` list of a PresenceDiff: user ids are strings, so two quotes each.
std::uint64_t joins_of(std::string_view payload) {
    const std::string list = find_after(payload, "\"joins\":[", std::string::npos);
    std::uint64_t quotes = 0;
    for (const char c : list) {
        if (c == ']') break;
        quotes += c == '"';
    }
    return quotes / 2;
}

/// Valid for an hour.
std::string signed_token(const std::string& secret, const std::string& user, bool admin) {
    nlohmann::json claims{{"sub", user}, {"exp", static_cast<long>(std::time(nullptr)) + 3600}};
    if (admin) claims["admin"] = true;
    return switchboard::sign_hs256(secret, claims);
}

} // namespace

std::string for_report(std::string_view text) {
    std::string clean(text.substr(0, 100));
    for (char& c : clean)
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = '_';
    return clean;
}

std::string_view event_type(std::string_view payload) {
    constexpr std::string_view key = "\"type\":\"";
    const void* found = memmem(payload.data(), payload.size(), key.data(), key.size());
    if (!found) return {};
    const std::size_t start = static_cast<std::size_t>(static_cast<const char*>(found) - payload.data()) + key.size();
    const std::size_t end = payload.find('"', start);
    return end == std::string_view::npos ? std::string_view{} : payload.substr(start, end - start);
}

std::int64_t timestamp_of(std::string_view payload) { return number_after(payload, "\"ts\":"); }

std::int64_t number_after(std::string_view payload, std::string_view key) {
    const void* found = memmem(payload.data(), payload.size(), key.data(), key.size());
    if (!found) return -1;
    std::size_t at = static_cast<std::size_t>(static_cast<const char*>(found) - payload.data()) + key.size();
    std::int64_t value = 0;
    bool any = false;
    for (; at < payload.size() && payload[at] >= '0' && payload[at] <= '9'; ++at, any = true)
        value = value * 10 + (payload[at] - '0');
    return any ? value : -1;
}

Session::Session(const Settings& settings, std::size_t users, bool admin, Spread spread)
    : secret_(settings.secret), nodes_(std::max<std::size_t>(settings.nodes.size(), 1)) {
    users_.reserve(users);
    targets_.reserve(users);
    for (std::size_t i = 0; i < users; ++i) {
        users_.push_back(switchboard::UserId::random().to_string());
        targets_.push_back("/ws?token=" + signed_token(secret_, users_.back(), admin));
    }
    clients_ = std::make_unique<WsClients>(settings.nodes.empty() ? std::vector<ServerAddress>{settings.server}
                                                                  : settings.nodes,
                                           targets_, *this);
    const std::size_t half = (users + nodes_ - 1) / nodes_;
    for (std::size_t i = 0; i < users; ++i)
        clients_->assign_server(static_cast<std::uint32_t>(i),
                                static_cast<std::uint8_t>(spread == Spread::halves ? i / half : i % nodes_));
    clients_->set_quick_ack(settings.quick_ack);
    clients_->set_offer_deflate(settings.deflate, settings.inflate_every);
}

std::string Session::admin_token() const {
    return signed_token(secret_, switchboard::UserId::random().to_string(), /*admin=*/true);
}

bool Session::connect_range(std::size_t from, std::size_t to, std::size_t max_in_flight, std::int64_t deadline_ns) {
    const std::uint64_t done_before = counters.opened + counters.failed;
    const std::uint64_t wanted = done_before + (to - from);
    std::size_t next = from;
    const std::uint64_t failed_before = counters.failed;
    while (counters.opened + counters.failed < wanted && now_ns() < deadline_ns) {
        while (next < to && clients_->handshakes_in_flight() < max_in_flight)
            clients_->connect(static_cast<std::uint32_t>(next++));
        clients_->poll(std::chrono::milliseconds(1));
    }
    return counters.opened + counters.failed >= wanted && counters.failed == failed_before;
}

void Session::report_health(Report& report) const {
    report.emplace_back("opened", std::to_string(counters.opened));
    report.emplace_back("failed", std::to_string(counters.failed));
    report.emplace_back("closed_by_server", std::to_string(counters.closed));
    std::string codes;
    for (const auto& [code, count] : counters.close_codes)
        codes += (codes.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(count);
    report.emplace_back("close_codes", codes.empty() ? "-" : codes);
    report.emplace_back("errors", std::to_string(counters.errors));
    report.emplace_back("first_error", counters.first_error.empty() ? "-" : counters.first_error);
}

void Session::on_open(std::uint32_t) {
    ++counters.opened;
    counters.last_open_ns = now_ns();
}

void Session::on_failed(std::uint32_t, std::string_view why) {
    ++counters.failed;
    note_error(why);
}

void Session::on_text(std::uint32_t index, std::string_view payload) {
    const std::string_view type = event_type(payload);
    if (type == "Broadcast") {
        ++counters.broadcasts;
        counters.first_broadcasts += index == 0;
        record_timestamp(payload);
    } else if (type == "MessageSent") {
        ++counters.messages;
        record_timestamp(payload);
        record_offset(payload);
    } else if (type == "Session") {
        ++counters.sessions;
        counters.sessions_complete += payload.find("\"recovery\":\"complete\"") != std::string_view::npos;
        counters.epoch = find_after(payload, "\"epoch\":\"", 32);
        record_offset(payload);
    } else if (type == "UserOnline" || type == "UserOffline") {
        ++counters.presence;
        counters.presence_joins += type == "UserOnline";
        counters.last_presence_ns = now_ns();
    } else if (type == "PresenceDiff") {
        ++counters.presence;
        counters.presence_joins += joins_of(payload);
        counters.last_presence_ns = now_ns();
    } else if (type == "Error") {
        ++counters.errors;
        counters.refused += payload.find("\"code\":\"overloaded\"") != std::string_view::npos;
        note_error(payload);
    } else {
        ++counters.other;
    }
}

void Session::on_compressed_unread(std::uint32_t index) {
    ++counters.broadcasts;
    counters.first_broadcasts += index == 0;
}

void Session::on_closed(std::uint32_t, int code) {
    ++counters.closed;
    ++counters.close_codes[code];
}

void Session::note_error(std::string_view text) {
    if (counters.first_error.empty()) counters.first_error = for_report(text);
}

void Session::record_offset(std::string_view payload) {
    const std::int64_t offset = number_after(payload, "\"offset\":");
    if (offset > 0) counters.last_offset = std::max(counters.last_offset, static_cast<std::uint64_t>(offset));
}

void Session::record_timestamp(std::string_view payload) {
    if (!record_latency) return;
    const std::int64_t sent = timestamp_of(payload);
    if (sent >= 0) latency.record_ns(now_ns() - sent);
}

} // namespace loadgen
