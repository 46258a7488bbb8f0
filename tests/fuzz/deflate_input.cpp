// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Fuzz target: permessage-deflate's handling of what a client sends (src/transport/websocketpp/deflate_*.hpp,
/// inflate.hpp), and the deflate of what the server sends.
///
/// Input: a mode byte, then its bytes. Invariants:
/// - `h` + a Sec-WebSocket-Extensions header: nothing throws; negotiate_deflate() agrees with accept_deflate_offer()
///   on the first acceptable parsed offer; an agreement's window is 9 to 15 and its answer is the fixed one, naming
///   server_max_window_bits exactly when the offer did;
/// - `i` + a compressed payload, inflated with a limit of 64 KiB after a prefix already in the output: `ok` leaves the
///   prefix and at most the limit; a failure leaves the output as it was; `ok` again with a limit of exactly what it
///   inflated to, and `too_big` with one byte less;
/// - any other byte picks a window (9 to 15) for the rest: deflate_message() either declines and leaves its output
///   alone, or gives something shorter that inflates back to the rest.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "deflate.hpp"
#include "deflate_negotiation.hpp"
#include "fuzz_check.hpp"
#include "inflate.hpp"

namespace {

using namespace switchboard::detail;

constexpr std::size_t inflate_limit = 64 * 1024;
const std::string plain_answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

void check_negotiation(std::string_view header) {
    const std::optional<DeflateAgreement> agreement = negotiate_deflate(header);
    std::optional<DeflateAgreement> first;
    if (const auto offers = parse_extension_offers(header))
        for (const ExtensionOffer& offer : *offers)
            if ((first = accept_deflate_offer(offer))) break;
    FUZZ_CHECK(agreement.has_value() == first.has_value(), std::string(header));
    if (!agreement) return;
    FUZZ_CHECK(agreement->server_window_bits == first->server_window_bits, std::string(header));
    FUZZ_CHECK(agreement->server_window_bits >= min_window_bits && agreement->server_window_bits <= max_window_bits,
               std::string(header));
    const std::string expected = agreement->server_window_bits_requested
        ? plain_answer + "; server_max_window_bits=" + std::to_string(agreement->server_window_bits)
        : plain_answer;
    FUZZ_CHECK(deflate_response(*agreement) == expected, std::string(header));
}

void check_inflate(std::string_view payload) {
    const std::string prefix = "prefix";
    std::string out = prefix;
    const InflateResult result = inflate_message(payload, prefix.size() + inflate_limit, out);
    if (result != InflateResult::ok) {
        FUZZ_CHECK(out == prefix, "a failed inflate changed its output");
        return;
    }
    FUZZ_CHECK(out.compare(0, prefix.size(), prefix) == 0, "the prefix was overwritten");
    FUZZ_CHECK(out.size() <= prefix.size() + inflate_limit, "inflated past the limit");
    const std::size_t inflated = out.size() - prefix.size();
    std::string again;
    FUZZ_CHECK(inflate_message(payload, inflated, again) == InflateResult::ok && again == out.substr(prefix.size()),
               "not the same at a limit of exactly its size");
    if (inflated > 0) {
        std::string less;
        FUZZ_CHECK(inflate_message(payload, inflated - 1, less) == InflateResult::too_big, "one byte less fit");
    }
}

void check_deflate(std::uint8_t selector, std::string_view message) {
    const int window_bits = min_window_bits + selector % (max_window_bits - min_window_bits + 1);
    std::string out = "kept";
    if (!deflate_message(message, window_bits, 0, out)) {
        FUZZ_CHECK(out == "kept", "a declined deflate changed its output");
        return;
    }
    const std::string_view payload = std::string_view(out).substr(4);
    FUZZ_CHECK(payload.size() < message.size(), "a deflate that did not shrink was kept");
    std::string inflated;
    FUZZ_CHECK(inflate_message(payload, message.size(), inflated) == InflateResult::ok && inflated == message,
               "a deflated message did not inflate back");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] == 'h')
        check_negotiation(rest);
    else if (data[0] == 'i')
        check_inflate(rest);
    else
        check_deflate(data[0], rest);
    return 0;
}
