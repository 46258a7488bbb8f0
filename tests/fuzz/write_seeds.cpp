// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Writes the seed corpus of every fuzz target: `write_fuzz_seeds tests/fuzz/corpus` (from the source root, after
/// `make fuzz` built it in build-fuzz/tests/fuzz/). The output is deterministic, so rewriting the committed corpus
/// changes nothing unless this file changed. Files named regression-* are left alone: they are minimized crashes.
///
/// Seeds are small and each shows the fuzzer one path: valid envelopes of every event type, broken and deeply
/// nested JSON, valid, expired and forged tokens (signed with the fuzzers' secret), and the places a token hides in
/// an upgrade request.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/auth/jwt.hpp>
#include <switchboard/event.hpp>
#include <switchboard/events.hpp>

#include "auth_support.hpp"
#include "deflate.hpp"

namespace {

using namespace switchboard;
using nlohmann::json;
namespace fs = std::filesystem;

using Seeds = std::vector<std::pair<std::string, std::string>>; // file name, content

const UserId alice = UserId::parse(fuzz::seed_user);
const UserId bob = UserId::parse("0b8e6a1d-2c3f-4e5a-8b7c-9d0e1f2a3b4c");

std::string frame_of(const Event& event) { return std::string(event.to_frame().text()); }

/// JSON nested `levels` deep inside an envelope's data (the envelope adds one level).
std::string nested_envelope(std::size_t levels) {
    return R"({"type":"TypingStarted","data":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

/// Inbound frames: what a client may send, well-formed or not. Shared by the parse and inbound targets.
Seeds envelope_seeds() {
    return {
        {"message-sent", frame_of(MessageSent{"m-1", alice, {bob}, "hi"})},
        {"message-read", frame_of(MessageRead{"m-1", bob})},
        {"typing-started", frame_of(TypingStarted{"c-1", alice})},
        {"typing-stopped", frame_of(TypingStopped{"c-1", alice})},
        {"payment-received", frame_of(PaymentReceived{"p-1", alice, 1250, "EUR"})},
        {"post-liked", frame_of(PostLiked{"post-9", alice})},
        {"user-online", frame_of(UserOnline{alice})},
        {"user-offline", frame_of(UserOffline{alice})},
        {"presence-diff", frame_of(PresenceDiff{{alice}, {bob}})},
        {"error", frame_of(Error{"bad_payload", "no"})},
        {"send-message", frame_of(Event("SendMessage", {{"to", {bob.to_string()}}, {"content", "hi"}}))},
        {"broadcast", frame_of(Event("Broadcast", {{"text", "maintenance"}}))},
        {"explode", frame_of(Event("Explode"))},
        {"typing-bad-uuid", R"({"type":"TypingStarted","data":{"conversation_id":"c","user_id":"nope"}})"},
        {"no-data", R"({"type":"TypingStarted"})"},
        {"type-not-string", R"({"type":42,"data":{}})"},
        {"empty-type", R"({"type":"","data":{}})"},
        {"array", R"([{"type":"TypingStarted"}])"},
        {"truncated", R"({"type":"SendMessage","data":{"to":[)"},
        {"not-json", "hello"},
        {"brackets-in-strings", R"({"type":"[[[[","data":"\"{{{{\\"})"},
        {"invalid-utf8", "{\"type\":\"x\xff\",\"data\":{}}"},
        {"nested-at-limit", nested_envelope(Event::default_max_depth - 1)},
        {"nested-too-deep", nested_envelope(Event::default_max_depth + 8)},
    };
}

/// The inbound target's form: a kind byte ('T' text, 'B' binary), then the payload.
Seeds inbound_seeds() {
    Seeds seeds;
    for (auto& [name, text] : envelope_seeds()) seeds.emplace_back(name, "T" + text);
    seeds.emplace_back("binary", "B" + frame_of(TypingStarted{"c-1", alice}));
    seeds.emplace_back("ping", R"(T{"type":"Ping","data":{"sent":1700000000123,"list":[1,"x",null]}})");
    return seeds;
}

json claims(std::uint64_t exp) { return {{"sub", alice.to_string()}, {"exp", exp}}; }

json checked_claims() {
    json checked = claims(fuzz::future_exp);
    checked["iss"] = fuzz::issuer;
    checked["aud"] = {"other", fuzz::audience};
    return checked;
}

const std::string plain_header = R"({"alg":"HS256","typ":"JWT"})";

/// A payload whose exp is written as is: JSON numbers nlohmann would not produce (negative, fractional).
std::string with_exp(std::string_view exp) {
    return R"({"sub":")" + alice.to_string() + R"(","exp":)" + std::string(exp) + "}";
}

std::string valid_token() { return sign_hs256(fuzz::hs256_secret, claims(fuzz::future_exp)); }

/// The JWT target's two forms: a token as is, or 's' + header + '\n' + payload for the target to sign.
Seeds jwt_seeds() {
    const std::string payload = claims(fuzz::future_exp).dump();
    json with_nbf = claims(fuzz::future_exp);
    with_nbf["nbf"] = 5; // a valid nbf within the leeway of the epoch
    json bad_sub = claims(fuzz::future_exp);
    bad_sub["sub"] = "not-a-uuid";
    return {
        {"valid", valid_token()},
        {"valid-iss-aud", sign_hs256(fuzz::hs256_secret, checked_claims())},
        {"expired", sign_hs256(fuzz::hs256_secret, claims(fuzz::past_exp))},
        {"bad-sub", sign_hs256(fuzz::hs256_secret, bad_sub)},
        {"alg-none", fuzz::base64url(R"({"alg":"none","typ":"JWT"})") + '.' + fuzz::base64url(payload) + '.'},
        {"alg-hs512", fuzz::hs256_token(fuzz::hs256_secret, R"({"alg":"HS512","typ":"JWT"})", payload)},
        {"garbage", "not.a.token"},
        {"signed-valid", "s" + plain_header + "\n" + checked_claims().dump()},
        {"signed-rs256-header", "s" + std::string(R"({"alg":"RS256","typ":"JWT"})") + "\n" + payload},
        {"signed-lower-case-alg", "s" + std::string(R"({"alg":"hs256","typ":"JWT"})") + "\n" + payload},
        {"signed-payload-only", "s" + payload},
        {"signed-negative-exp", "s" + plain_header + "\n" + with_exp("-1")},
        {"signed-float-exp", "s" + plain_header + "\n" + with_exp("4102444800.5")},
        {"signed-nbf", "s" + plain_header + "\n" + with_nbf.dump()},
        {"signed-array", "s" + plain_header + "\n[1,2,3]"},
        {"signed-broken-json", "s" + plain_header + "\n" + R"({"sub":"x","exp":)"},
    };
}

/// The upgrade target's form: the query string, then one `Name: value` header a line.
Seeds upgrade_seeds() {
    const std::string token = valid_token();
    const std::string expired = sign_hs256(fuzz::hs256_secret, claims(fuzz::past_exp));
    std::string encoded; // the token percent-encoded, one escape per byte
    for (const char c : token) {
        constexpr char hex[] = "0123456789ABCDEF";
        encoded += {'%', hex[static_cast<unsigned char>(c) >> 4], hex[c & 0xf]};
    }
    return {
        {"query", "token=" + token},
        {"header", "\nAuthorization: Bearer " + token},
        {"both-agree", "token=" + token + "\nAuthorization: Bearer " + token},
        {"both-differ", "token=" + token + "\nAuthorization: Bearer " + expired},
        {"percent-encoded", "x=1&token=" + encoded},
        {"malformed-escape", "token=%zz"},
        {"plus-and-repeat", "token=a+b&token=second"},
        {"lower-case-header", "\nauthorization: bearer " + token},
        {"basic-scheme", "\nAuthorization: Basic dXNlcjpwYXNz"},
        {"empty-bearer", "\nAuthorization: Bearer "},
        {"odd-pairs", "a&&=&token"},
        {"expired", "token=" + expired + "\nX-Forwarded-For: 198.51.100.7"},
        {"upgrade", "\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nAuthorization: Bearer " + token},
        {"upgrade-token-lists", "\nUpgrade: h2c, WebSocket\nConnection: keep-alive, upgrade\n"
                                "Sec-WebSocket-Version: 13\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=="},
        {"upgrade-no-version", "\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="},
        {"upgrade-bad-key", "\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR=="},
    };
}

/// The resume target's form: a raw query string.
Seeds resume_seeds() {
    const std::string epoch = "0123456789abcdef0123456789abcdef";
    return {
        {"position", "resume=" + epoch + ":17"},
        {"with-token", "token=abc&resume=" + epoch + ":0"},
        {"percent-encoded", "resume=" + epoch + "%3A42"},
        {"largest-offset", "resume=" + epoch + ":18446744073709551615"},
        {"overflow", "resume=" + epoch + ":18446744073709551616"},
        {"leading-zero", "resume=" + epoch + ":007"},
        {"upper-case-epoch", "resume=0123456789ABCDEF0123456789ABCDEF:1"},
        {"short-epoch", "resume=0123:1"},
        {"no-colon", "resume=" + epoch},
        {"no-value", "resume"},
        {"twice", "resume=" + epoch + ":1&resume=" + epoch + ":2"},
        {"malformed-escape", "resume=%zz"},
    };
}

/// The deflate target's form: `h` + an extensions header, `i` + a compressed payload, else a window selector and a
/// message to deflate.
Seeds deflate_seeds() {
    const std::string event = R"({"type":"message.sent","data":{"content":"hello hello hello hello hello hello"}})";
    std::string compressed;
    switchboard::detail::deflate_message(event + event + event, 15, 0, compressed);
    return {
        {"chromium-offer", "hpermessage-deflate; client_max_window_bits"},
        {"two-offers", "hpermessage-deflate; server_max_window_bits=10; client_no_context_takeover, permessage-deflate"},
        {"quoted", "hpermessage-deflate; client_max_window_bits=\"12\", x-webkit-deflate-frame"},
        {"repeated", "hpermessage-deflate; server_no_context_takeover; server_no_context_takeover"},
        {"compressed-event", "i" + compressed},
        {"final-block", std::string("i\x03\x00", 3)},
        {"empty-block", std::string("i\x00", 2)},
        {"event-to-deflate", "\x06" + event + event},
    };
}

/// Only valid seeds reach the claim checks; a seed the authenticator refuses would be a silent waste.
bool seeds_are_valid() {
    const JwtAuthenticator plain(fuzz::hs256_options());
    const JwtAuthenticator checked(fuzz::hs256_options(/*checked_claims=*/true));
    return plain.verify(valid_token()) && checked.verify(sign_hs256(fuzz::hs256_secret, checked_claims()));
}

bool write(const fs::path& directory, const Seeds& seeds) {
    fs::create_directories(directory);
    for (const auto& [name, content] : seeds) {
        const fs::path path = directory / ("seed-" + name);
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file << content;
        if (!file.flush()) {
            std::fprintf(stderr, "cannot write %s\n", path.c_str());
            return false;
        }
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus directory, e.g. tests/fuzz/corpus>\n", argv[0]);
        return 2;
    }
    if (!seeds_are_valid()) {
        std::fprintf(stderr, "the valid token seeds do not verify: check auth_support.hpp against the authenticator\n");
        return 1;
    }
    const fs::path corpus = argv[1];
    const bool written =
        write(corpus / "event_parse", envelope_seeds()) && write(corpus / "inbound_message", inbound_seeds()) &&
        write(corpus / "jwt_verify", jwt_seeds()) && write(corpus / "upgrade_request", upgrade_seeds()) &&
        write(corpus / "resume_parameter", resume_seeds()) && write(corpus / "deflate_input", deflate_seeds());
    return written ? 0 : 1;
}
