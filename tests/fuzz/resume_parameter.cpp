// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Fuzz target: the upgrade's `resume=<epoch>:<offset>` parameter (`parse_resume`) and the position parser under it
/// (`StreamPosition::parse`).
///
/// Input: a raw query string. Invariants:
/// - neither function throws;
/// - `parse_resume` answers exactly one of: nothing (there is no `resume` in the query), a position, or a 400 whose
///   reason is "malformed resume parameter: " and the fixed sentence for what is wrong (never the client's text);
/// - a position is what the first `resume` value percent-decodes to, in its one spelling: formatting it gives that
///   decoded text back, and `resume` appears once;
/// - `StreamPosition::parse` on the decoded value agrees with `parse_resume`, and whatever it accepts formats back to
///   the same text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <switchboard/detail/text.hpp>
#include <switchboard/history.hpp>

#include "fuzz_check.hpp"

namespace {

using namespace switchboard;

bool is_short_printable(std::string_view text) {
    if (text.size() > 200) return false;
    for (const char c : text)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

void check_position_parser(std::string_view text) {
    const ParsedPosition parsed = StreamPosition::parse(text);
    FUZZ_CHECK(parsed.position.has_value() == parsed.error.empty(), std::string(text));
    if (parsed) FUZZ_CHECK(parsed.position->to_string() == text, std::string(text));
    else FUZZ_CHECK(is_short_printable(parsed.error), std::string(parsed.error));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view query(reinterpret_cast<const char*>(data), size);
    check_position_parser(query);

    const ResumeParameter resume = parse_resume(query);
    const auto raw = detail::find_query_value(query, "resume");
    FUZZ_CHECK(!(resume.position && resume.failure), std::string(query));
    if (!raw) {
        FUZZ_CHECK(!resume.position && !resume.failure, std::string(query));
        return 0;
    }
    FUZZ_CHECK(resume.position || resume.failure, std::string(query));
    const auto decoded = detail::percent_decode(*raw);
    if (decoded) check_position_parser(*decoded);
    if (resume.position) {
        FUZZ_CHECK(decoded && resume.position->to_string() == *decoded, std::string(query));
        const std::string_view rest = query.substr(static_cast<std::size_t>(raw->data() + raw->size() - query.data()));
        FUZZ_CHECK(!detail::find_query_value(rest, "resume"), std::string(query));
        return 0;
    }
    const AuthFailure& failure = *resume.failure;
    FUZZ_CHECK(failure.status == 400, std::string(query));
    FUZZ_CHECK(is_short_printable(failure.reason), failure.reason);
    // The reason is a fixed sentence, never the client's text.
    const std::string why = !decoded                          ? "bad percent-encoding"
                            : StreamPosition::parse(*decoded) ? "given more than once"
                                                              : std::string(StreamPosition::parse(*decoded).error);
    FUZZ_CHECK(failure.reason == "malformed resume parameter: " + why, failure.reason);
    return 0;
}
