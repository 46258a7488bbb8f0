// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Fuzz target: `Event::parse` and the nesting pre-check `detail::json_nesting_exceeds` it relies on.
///
/// Input: the text of one inbound frame, parsed with several depth limits. Invariants:
/// - `Event::parse` succeeds or throws `ProtocolError` (`invalid_json` or `invalid_envelope`), nothing else, and
///   succeeds only on JSON text;
/// - the pre-check agrees with a real JSON parser: on valid JSON it reports "too deep" exactly when the parsed text
///   nests deeper than the limit, and whatever parses is within the limit;
/// - text too deep is `invalid_json`, valid JSON that is no envelope is `invalid_envelope`;
/// - a parsed event survives `to_frame` and a second parse unchanged.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <switchboard/detail/text.hpp>
#include <switchboard/event.hpp>

#include "fuzz_check.hpp"

namespace {

using namespace switchboard;
using nlohmann::json;

/// Whether text is JSON and how deep it nests, by nlohmann's SAX parser: it keeps its own stack, so hostile depth
/// costs no recursion, and it builds no tree.
class DepthProbe final : public json::json_sax_t {
public:
    /// The deepest nesting of `text`, or none when it is not JSON.
    static std::optional<std::size_t> depth_of(std::string_view text) {
        DepthProbe probe;
        if (!json::sax_parse(text.begin(), text.end(), &probe)) return std::nullopt;
        return probe.deepest_;
    }

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return open(); }
    bool key(string_t&) override { return true; }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    bool open() {
        deepest_ = std::max(deepest_, ++depth_);
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }

    std::size_t depth_ = 0;
    std::size_t deepest_ = 0;
};

/// Limits around the interesting edges: the envelope alone, a shallow payload, the default.
constexpr std::size_t depth_limits[] = {1, 4, Event::default_max_depth};

void check_round_trip(const Event& event, std::size_t max_depth) {
    // An envelope without data gains `"data":{}`, one level deeper than `{"type":"x"}`.
    const std::size_t frame_depth = std::max<std::size_t>(max_depth, 2);
    const Frame frame = event.to_frame();
    try {
        const Event again = Event::parse(frame.text(), frame_depth);
        FUZZ_CHECK(again.type() == event.type(), "the type changed in a round trip: " + std::string(frame.text()));
        FUZZ_CHECK(again.data() == event.data(), "the data changed in a round trip: " + std::string(frame.text()));
    } catch (const std::exception& error) {
        FUZZ_CHECK(false, "a serialized event does not parse: " + std::string(error.what()));
    }
}

/// `depth`: what `DepthProbe` found. nlohmann's lexer takes a NUL byte for the end of its input, so the probe (like
/// `Event::parse`'s own parser) reads `{...}\0anything` as JSON; a raw NUL is never valid JSON text (RFC 8259), so
/// such text counts as not JSON here.
void check_parse(std::string_view text, std::size_t max_depth, const std::optional<std::size_t>& depth) {
    const bool is_json = depth && text.find('\0') == std::string_view::npos;
    const bool too_deep = detail::json_nesting_exceeds(text, max_depth);
    const std::string limit = " (limit " + std::to_string(max_depth) + ")";
    if (is_json) FUZZ_CHECK(too_deep == (*depth > max_depth), "pre-check disagrees with the parser on depth" + limit);
    try {
        const Event event = Event::parse(text, max_depth);
        FUZZ_CHECK(!too_deep, "parsed text the pre-check found too deep" + limit);
        FUZZ_CHECK(is_json, "parsed text that is not JSON" + limit);
        FUZZ_CHECK(*depth <= max_depth, "parsed text nested deeper than the limit" + limit);
        FUZZ_CHECK(!event.type().empty(), "parsed an envelope with an empty type");
        check_round_trip(event, max_depth);
    } catch (const ProtocolError& error) {
        const std::string& code = error.code();
        FUZZ_CHECK(code == errc::invalid_json || code == errc::invalid_envelope, "code " + code);
        if (too_deep || !is_json) FUZZ_CHECK(code == errc::invalid_json, "code " + code + " for bad JSON" + limit);
        else FUZZ_CHECK(code == errc::invalid_envelope, "code " + code + " for valid JSON" + limit);
    } catch (const std::exception& error) {
        FUZZ_CHECK(false, std::string("Event::parse threw something other than ProtocolError: ") + error.what());
    } catch (...) {
        FUZZ_CHECK(false, "Event::parse threw a non-std exception");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::optional<std::size_t> depth = DepthProbe::depth_of(text);
    for (const std::size_t max_depth : depth_limits) check_parse(text, max_depth, depth);
    return 0;
}
