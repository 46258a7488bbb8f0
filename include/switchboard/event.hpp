// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `Event`, the unit of delivery, and `Frame`, its serialized wire form.
///
/// On the wire every event is one text frame `{"type":"<Type>","data":<JSON>}`, in both
/// directions. A typed event is any struct with `static constexpr std::string_view type_name`
/// and nlohmann `to_json`/`from_json` functions; see `events.hpp` for the built-in vocabulary.

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include <switchboard/detail/text.hpp>

namespace switchboard {

/// Error codes carried by `Error` events that the library itself sends.
namespace errc {
inline constexpr std::string_view invalid_json = "invalid_json";         ///< not JSON at all
inline constexpr std::string_view invalid_envelope = "invalid_envelope"; ///< not {"type":string,"data":...}
inline constexpr std::string_view unknown_type = "unknown_type";         ///< no handler for that type
inline constexpr std::string_view bad_payload = "bad_payload";           ///< data does not fit the type
inline constexpr std::string_view binary_unsupported = "binary_unsupported"; ///< a binary frame arrived
inline constexpr std::string_view forbidden = "forbidden";               ///< sender may not do that
inline constexpr std::string_view rate_limited = "rate_limited";         ///< too many messages; slow down
inline constexpr std::string_view internal_error = "internal_error";     ///< a handler failed unexpectedly
inline constexpr std::string_view overloaded = "overloaded";             ///< history behind: nothing sent; retry later
} // namespace errc

/// Thrown by inbound handlers (and the library) to answer the sending connection with
/// `Error {"code": code(), "message": what()}`. Nothing else happens to the connection.
class ProtocolError : public std::runtime_error {
public:
    ProtocolError(std::string_view code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

/// Whether an event matters once its moment has passed. Durable events (messages, payments)
/// are never dropped for a slow consumer and are what an event history keeps; ephemeral ones
/// (typing, presence) may be dropped under pressure. A typed event says so with
/// `static constexpr Durability durability = Durability::ephemeral;` (durable if it says nothing).
enum class Durability { durable, ephemeral };

/// An immutable, shared, serialized event: the bytes of one text frame (valid UTF-8). Copying a
/// `Frame` copies a pointer, so one serialization serves any number of recipients.
class Frame {
public:
    explicit Frame(std::string text, Durability durability = Durability::durable)
        : text_(std::make_shared<const std::string>(std::move(text))), durability_(durability) {}

    std::string_view text() const noexcept { return *text_; }
    Durability durability() const noexcept { return durability_; }
    std::size_t size() const noexcept { return text_->size(); }
    /// Identity of the underlying buffer: equal for copies of one serialization.
    const void* buffer_id() const noexcept { return text_.get(); }

private:
    std::shared_ptr<const std::string> text_;
    Durability durability_;
};

template <class T, class = void>
struct durability_of : std::integral_constant<Durability, Durability::durable> {};
template <class T>
struct durability_of<T, std::void_t<decltype(T::durability)>> : std::integral_constant<Durability, T::durability> {};

template <class T, class = void>
struct is_event_type : std::false_type {};

/// True for typed events: `T::type_name` plus JSON conversions.
template <class T>
struct is_event_type<T, std::void_t<decltype(std::string_view{T::type_name}),
                                    decltype(nlohmann::json(std::declval<const T&>()))>>
    : std::true_type {};

template <class T>
inline constexpr bool is_event_type_v = is_event_type<T>::value;

/// A type name plus a JSON payload.
class Event {
public:
    Event(std::string type, nlohmann::json data = nlohmann::json::object(),
          Durability durability = Durability::durable)
        : type_(std::move(type)), data_(std::move(data)), durability_(durability) {}

    /// Any typed event converts implicitly, so every API taking an `Event` takes typed events.
    template <class T, std::enable_if_t<is_event_type_v<T>, int> = 0>
    Event(const T& typed)
        : Event(std::string(T::type_name), nlohmann::json(typed), durability_of<T>::value) {}

    const std::string& type() const noexcept { return type_; }
    const nlohmann::json& data() const noexcept { return data_; }
    Durability durability() const noexcept { return durability_; }

    /// Serializes to `{"type":...,"data":...}` (type first, for readers of raw traffic). Invalid
    /// UTF-8 in strings becomes U+FFFD: a text frame must be valid UTF-8, and one bad string must
    /// not make an event undeliverable.
    Frame to_frame() const { return Frame(to_text(), durability_); }

    /// The text of `to_frame`.
    std::string to_text() const {
        constexpr auto replace = nlohmann::json::error_handler_t::replace;
        std::string text = R"({"type":)";
        text += nlohmann::json(type_).dump(-1, ' ', false, replace);
        text += R"(,"data":)";
        text += data_.dump(-1, ' ', false, replace);
        text += '}';
        return text;
    }

    /// Parses one inbound frame. Throws `ProtocolError` with `errc::invalid_json` (also for
    /// nesting deeper than `max_depth`) or `errc::invalid_envelope`. A missing `data` is an
    /// empty object.
    static Event parse(std::string_view text, std::size_t max_depth = default_max_depth) {
        // nlohmann reads a NUL as the end of input: whatever follows would be ignored unseen.
        if (text.find('\0') != std::string_view::npos)
            throw ProtocolError(errc::invalid_json, "message contains a NUL byte");
        if (detail::json_nesting_exceeds(text, max_depth))
            throw ProtocolError(errc::invalid_json, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
        nlohmann::json envelope = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (envelope.is_discarded())
            throw ProtocolError(errc::invalid_json, "message is not valid JSON");
        const auto type = envelope.is_object() ? envelope.find("type") : envelope.end();
        if (type == envelope.end() || !type->is_string() || type->get_ref<const std::string&>().empty())
            throw ProtocolError(errc::invalid_envelope, R"(expected {"type":"<EventType>","data":{...}})");
        const auto data = envelope.find("data");
        return Event(type->get<std::string>(),
                     data == envelope.end() ? nlohmann::json::object() : std::move(*data));
    }

    static constexpr std::size_t default_max_depth = 32;

private:
    std::string type_;
    nlohmann::json data_;
    Durability durability_;
};

/// Reads a typed event out of `event`. Throws `ProtocolError` with `errc::bad_payload` when the
/// type differs or the data does not fit `T` (missing field, wrong JSON type, bad UUID).
template <class T>
T event_cast(const Event& event) {
    static_assert(is_event_type_v<T>, "event_cast<T>: T needs a type_name and to_json/from_json");
    if (event.type() != T::type_name)
        throw ProtocolError(errc::bad_payload,
                            "expected a " + std::string(T::type_name) + " event, got " + event.type());
    try {
        return event.data().template get<T>();
    } catch (const std::exception& e) {
        throw ProtocolError(errc::bad_payload, std::string(T::type_name) + ": " + e.what());
    }
}

} // namespace switchboard
