// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Fuzz target: where a token comes from. `UpgradeRequest::query_param`, `bearer_token` and `token` on fuzzed query
/// strings and headers, and `JwtAuthenticator::authenticate` (HS256) on the whole request; and the websocketpp
/// transport's check of the upgrade's form (src/transport/websocketpp/upgrade_check.hpp) on its headers.
///
/// Input: lines. The first is the query string (without '?'), each further line a header `Name: value`.
/// Invariants:
/// - `header` finds the first header of that name, whatever its case;
/// - `bearer_token` is what follows a case-insensitive "Bearer " in the first Authorization header, never empty;
/// - `query_param` percent-decodes the first value of that name: a value it returns, percent-encoded again, reads
///   back the same; it refuses only values with a '%' in them, and decoding never lengthens;
/// - `token` follows its contract: the header's or the query's; missing when neither is there, ambiguous when both
///   are there and differ;
/// - `authenticate` gives the verdict `verify` gives for `token()` (the `TokenResult`'s refusal without one), and
///   its refusals pass `check_refusal` for every credential in the request;
/// - `upgrade_fault` finds a GET over HTTP/1.1 with these headers well-formed exactly when Upgrade and Connection
///   list `websocket` and `upgrade`, Sec-WebSocket-Version is 13 and OpenSSL decodes Sec-WebSocket-Key to 16 bytes
///   that encode back to it; never a POST; and each fault's refusal is a 4xx with a reason and the headers its
///   status requires.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/evp.h>

#include <switchboard/auth.hpp>
#include <switchboard/auth/jwt.hpp>

#include "auth_support.hpp"
#include "upgrade_check.hpp"

namespace {

using namespace switchboard;

/// Parses the input: first line the query, then `Name: value` headers (HTTP's optional whitespace trimmed).
UpgradeRequest request_from(std::string_view input) {
    UpgradeRequest request;
    request.path = "/ws";
    request.remote_address = "192.0.2.1";
    const std::size_t first_newline = input.find('\n');
    request.query = std::string(input.substr(0, first_newline));
    std::string_view rest =
        first_newline == std::string_view::npos ? std::string_view{} : input.substr(first_newline + 1);
    while (!rest.empty()) {
        const std::size_t newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        const std::size_t colon = line.find(':');
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return request;
}

std::string ascii_lower(std::string_view text) {
    std::string lower(text);
    for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return lower;
}

std::string percent_encode(std::string_view text) {
    constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        encoded += '%';
        encoded += hex[byte >> 4];
        encoded += hex[byte & 0xf];
    }
    return encoded;
}

/// The raw value of the first `name=` pair of a query, split here apart from the library's `find_query_value`: a
/// pair without '=' has an empty value, and a final '&' starts no pair.
std::optional<std::string_view> first_raw_value(std::string_view query, std::string_view name) {
    for (std::size_t start = 0; start < query.size();) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string_view pair = query.substr(start, end - start);
        const std::size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        start = end + 1;
    }
    return std::nullopt;
}

/// The names of the query's pairs, at most a few: each gets the `query_param` checks.
std::vector<std::string> query_names(std::string_view query) {
    constexpr std::size_t max_names = 8;
    std::vector<std::string> names{"token"};
    for (std::size_t start = 0; start < query.size() && names.size() < max_names;) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string_view pair = query.substr(start, end - start);
        names.emplace_back(pair.substr(0, pair.find('=')));
        start = end + 1;
    }
    return names;
}

void check_headers(const UpgradeRequest& request) {
    for (const auto& [name, value] : request.headers) {
        const auto found = request.header(name);
        FUZZ_CHECK(found.has_value(), "header() misses " + name);
        for (const auto& [other_name, other_value] : request.headers) {
            if (ascii_lower(other_name) != ascii_lower(name)) continue;
            FUZZ_CHECK(*found == other_value, "header() is not the first of that name: " + name);
            break;
        }
    }

    constexpr std::string_view scheme = "bearer ";
    const auto authorization = request.header("Authorization");
    std::optional<std::string_view> expected;
    if (authorization && authorization->size() > scheme.size() &&
        ascii_lower(authorization->substr(0, scheme.size())) == scheme)
        expected = authorization->substr(scheme.size());
    FUZZ_CHECK(request.bearer_token() == expected, "bearer_token() disagrees with the Authorization header");
}

void check_query_param(const UpgradeRequest& request, const std::string& name) {
    const std::optional<std::string> value = request.query_param(name);
    const std::optional<std::string_view> raw = first_raw_value(request.query, name);
    if (!raw) {
        FUZZ_CHECK(!value, "query_param(" + name + ") found a value that is not there");
        return;
    }
    if (!value) {
        FUZZ_CHECK(raw->find('%') != std::string_view::npos, "query_param(" + name + ") refused a value without '%'");
        return;
    }
    FUZZ_CHECK(value->size() <= raw->size(), "decoding lengthened " + name);
    UpgradeRequest again;
    again.query = name + '=' + percent_encode(*value);
    FUZZ_CHECK(again.query_param(name) == value, "query_param(" + name + ") does not read back its encoding");
}

/// What `UpgradeRequest::token` must find: a token, or why there is none.
TokenResult expected_token(const UpgradeRequest& request) {
    const auto from_header = request.bearer_token();
    const auto from_query = request.query_param("token");
    if (from_header && from_query)
        return *from_header == *from_query ? TokenResult(*from_query) : TokenResult::Problem::ambiguous;
    if (from_header) return std::string(*from_header);
    if (from_query) return *from_query;
    return TokenResult::Problem::missing;
}

void check_token(const UpgradeRequest& request) {
    const TokenResult token = request.token();
    const TokenResult expected = expected_token(request);
    FUZZ_CHECK(token.found() == expected.found(), "token() breaks its contract");
    if (token) FUZZ_CHECK(token.value() == expected.value(), "token() breaks its contract");
    else FUZZ_CHECK(token.problem() == expected.problem(), "token() breaks its contract");
}

void check_authenticate(const UpgradeRequest& request) {
    static const JwtAuthenticator authenticator(fuzz::hs256_options());
    const AuthResult result = authenticator.authenticate(request);
    const TokenResult token = request.token();
    if (!token) {
        FUZZ_CHECK(!result && result.failure().reason == token.failure().reason,
                   "authenticate without a token: " + (result ? std::string("accepted") : result.failure().reason));
    } else {
        const AuthResult direct = authenticator.verify(token.value());
        FUZZ_CHECK(bool(result) == bool(direct), "authenticate and verify disagree");
        if (result) FUZZ_CHECK(result.identity().user == direct.identity().user, "authenticate and verify disagree");
        else FUZZ_CHECK(result.failure().reason == direct.failure().reason, "authenticate and verify disagree");
    }
    if (result) return;
    fuzz::check_refusal(result.failure(), token ? token.value() : std::string());
    if (const auto from_header = request.bearer_token()) fuzz::check_refusal(result.failure(), *from_header);
    if (const auto from_query = request.query_param("token")) fuzz::check_refusal(result.failure(), *from_query);
}

/// Whether a comma-separated list holds `token`, ignoring case and the whitespace around items.
bool lists(std::string_view list, std::string_view token) {
    std::string item;
    for (std::size_t i = 0; i <= list.size(); ++i) {
        if (i < list.size() && list[i] != ',') {
            item += list[i];
            continue;
        }
        const std::size_t first = item.find_first_not_of(" \t");
        const std::size_t last = item.find_last_not_of(" \t");
        if (first != std::string::npos && ascii_lower(item.substr(first, last - first + 1)) == ascii_lower(token))
            return true;
        item.clear();
    }
    return false;
}

/// The base64 of 16 bytes, told by OpenSSL: it decodes to them (EVP_DecodeBlock counts the padding), and they
/// encode back to the same text.
bool encodes_16_bytes(std::string_view key) {
    if (key.size() != 24) return false;
    unsigned char bytes[18] = {};
    if (EVP_DecodeBlock(bytes, reinterpret_cast<const unsigned char*>(key.data()), 24) != 18) return false;
    unsigned char text[25] = {};
    EVP_EncodeBlock(text, bytes, 16);
    return key == reinterpret_cast<const char*>(text);
}

void check_upgrade_form(const UpgradeRequest& request) {
    using detail::UpgradeFault;
    const auto value = [&](std::string_view name) { return request.header(name).value_or(std::string_view{}); };
    detail::UpgradeHead head{"GET", "HTTP/1.1", value("Upgrade"), value("Connection"),
                             value("Sec-WebSocket-Version"), value("Sec-WebSocket-Key")};
    const UpgradeFault fault = detail::upgrade_fault(head);
    const bool well_formed = lists(head.upgrade, "websocket") && lists(head.connection, "upgrade") &&
                             head.websocket_version == "13" && encodes_16_bytes(head.websocket_key);
    FUZZ_CHECK((fault == UpgradeFault::none) == well_formed, "upgrade_fault disagrees on a GET");
    head.method = "POST";
    FUZZ_CHECK(detail::upgrade_fault(head) != UpgradeFault::none, "upgrade_fault took a POST");

    const auto refusal = detail::refusal_for(fault);
    FUZZ_CHECK(refusal.has_value() == (fault != UpgradeFault::none), "refusal_for answers none, or not a fault");
    if (!refusal) return;
    FUZZ_CHECK(refusal->status >= 400 && refusal->status < 500 && !refusal->reason.empty(), "a refusal without 4xx");
    const auto carries = [&](std::string_view name) {
        return std::any_of(refusal->headers.begin(), refusal->headers.end(),
                           [&](const detail::HeaderField& field) { return field.name == name && !field.value.empty(); });
    };
    const bool about_version = fault == UpgradeFault::unsupported_version;
    if (refusal->status == 426)
        FUZZ_CHECK(carries(about_version ? "Sec-WebSocket-Version" : "Upgrade"), "a 426 without what to upgrade to");
    if (refusal->status == 405) FUZZ_CHECK(carries("Allow"), "a 405 without Allow");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const UpgradeRequest request = request_from(std::string_view(reinterpret_cast<const char*>(data), size));
    check_headers(request);
    for (const std::string& name : query_names(request.query)) check_query_param(request, name);
    check_token(request);
    check_authenticate(request);
    check_upgrade_form(request);
    return 0;
}
