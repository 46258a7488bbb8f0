// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/redis/errors.hpp>

#include <string>

namespace switchboard::redis {

namespace {
class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "switchboard.redis"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
        case Errc::not_connected: return "not connected to Redis";
        case Errc::timed_out: return "no reply from Redis within the command timeout";
        case Errc::connection_lost: return "the connection to Redis ended before the reply";
        case Errc::connect_failed: return "could not connect to Redis";
        case Errc::liveness_lost: return "nothing heard from Redis within the liveness interval";
        }
        return "unknown Redis connection error";
    }
};
} // namespace

const std::error_category& error_category() noexcept {
    static const Category category;
    return category;
}

} // namespace switchboard::redis
