// The per-thread deflate and inflate of permessage-deflate messages (RFC 7692, 7.2), checked against
// zlib used directly (deflate_fixtures.hpp).
#include "deflate_fixtures.hpp"
#include "transport/websocketpp/deflate.hpp"
#include "transport/websocketpp/inflate.hpp"

#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace switchboard::detail;
using namespace deflate_fixtures;

TEST_CASE("A message is deflated alone, flushed, and without its 00 00 ff ff tail", "[deflate]") {
    const std::string message = json_message(1024);
    std::string out = "header:";
    REQUIRE(deflate_message(message, 15, 256, out));
    CHECK(out.compare(0, 7, "header:") == 0);
    const std::string payload = out.substr(7);
    CHECK(payload.size() < message.size() / 2);
    CHECK(payload.substr(payload.size() - 4) != std::string("\x00\x00\xff\xff", 4));
    CHECK(client_inflate(payload) == message);

    // Alone: the same message deflates to the same bytes again (nothing kept from the last one).
    std::string again;
    REQUIRE(deflate_message(message, 15, 256, again));
    CHECK(again == payload);
}

TEST_CASE("Short, empty and incompressible messages go out plain", "[deflate]") {
    std::string out = "kept";
    CHECK(!deflate_message(json_message(255), 15, 256, out));
    CHECK(!deflate_message("", 15, 0, out));
    CHECK(!deflate_message(random_bytes(4096), 15, 256, out));
    CHECK(!deflate_message("ab", 15, 0, out)); // 2 bytes never shrink
    CHECK(out == "kept");
    CHECK(deflate_message(json_message(256), 15, 256, out));
}

TEST_CASE("The negotiated window bounds how far back the deflate refers", "[deflate]") {
    // A block repeated 2 KiB apart: a 15-bit window refers back to it, a 9-bit (512 B) cannot.
    const std::string block = random_bytes(2048, 7);
    const std::string message = block + block;
    for (int bits = min_window_bits; bits <= max_window_bits; ++bits) {
        INFO(bits);
        std::string payload;
        const bool shrank = deflate_message(message, bits, 0, payload);
        CHECK(shrank == (bits >= 12)); // 2^12 = 4 KiB reaches the copy
        if (shrank) CHECK(client_inflate(payload, bits) == message);
    }
    // Readable by a client with the window it allowed, and a deflate with fewer bits by any.
    const std::string text = json_message(8192);
    std::string nine;
    REQUIRE(deflate_message(text, 9, 0, nine));
    CHECK(client_inflate(nine, 9) == text);
    CHECK(client_inflate(nine, 15) == text);
    std::string out;
    CHECK_THROWS_AS(deflate_message(text, 8, 0, out), std::invalid_argument);
}

TEST_CASE("The websocketpp form keeps the tail and deflates whatever the size", "[deflate]") {
    for (std::string_view message : {std::string_view(""), std::string_view("a"), std::string_view("hello hello")}) {
        std::string out;
        deflate_message_with_tail(message, 15, out);
        REQUIRE(out.size() >= 4);
        CHECK(out.substr(out.size() - 4) == std::string("\x00\x00\xff\xff", 4));
        CHECK(client_inflate(out.substr(0, out.size() - 4)) == message);
    }
}

TEST_CASE("Threads deflate at once, each with its own stream", "[deflate]") {
    const std::string message = json_message(4096);
    std::string expected;
    REQUIRE(deflate_message(message, 15, 0, expected));
    std::vector<std::string> results(4);
    std::vector<std::thread> threads;
    for (std::string& result : results)
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                result.clear();
                deflate_message(message, 15, 0, result);
                std::string inflated;
                if (inflate_message(result, 1 << 20, inflated) != InflateResult::ok || inflated != message) return;
            }
        });
    for (std::thread& thread : threads) thread.join();
    for (std::string const& result : results) CHECK(result == expected);
}

TEST_CASE("A broadcast deflates once per distinct window it needs", "[deflate]") {
    const std::string message = json_message(1024);
    SharedDeflate shared(message, 256);
    std::string const* fifteen = shared.payload_for(15);
    REQUIRE(fifteen);
    for (int i = 0; i < 1000; ++i) CHECK(shared.payload_for(15) == fifteen);
    CHECK(shared.deflations() == 1);
    CHECK(client_inflate(*fifteen) == message);

    // A client that allows only 10 bits needs its own; a later 12-bit one can read the 10-bit one.
    std::string const* ten = shared.payload_for(10);
    REQUIRE(ten);
    CHECK(ten != fifteen);
    CHECK(client_inflate(*ten, 10) == message);
    CHECK(shared.payload_for(12) == ten);
    CHECK(shared.payload_for(15) == fifteen);
    CHECK(shared.deflations() == 2);
    CHECK_THROWS_AS(shared.payload_for(16), std::invalid_argument);
    CHECK_THROWS_AS(shared.payload_for(8), std::invalid_argument);

    SharedDeflate short_message("{\"type\":\"pong\"}", 256);
    CHECK(short_message.payload_for(15) == nullptr);
    CHECK(short_message.payload_for(9) == nullptr);
    CHECK(short_message.deflations() == 1);
}

TEST_CASE("A client's message inflates, however it was deflated", "[deflate]") {
    const std::string message = json_message(3000);
    for (int bits = 9; bits <= 15; ++bits) // zlib cannot deflate raw with 8
        for (bool finish : {false, true}) {
            INFO(bits << (finish ? " final block" : " sync flush"));
            std::string out = "before:";
            REQUIRE(inflate_message(client_deflate(message, bits, finish), 1 << 20, out) == InflateResult::ok);
            CHECK(out == "before:" + message);
        }
    std::string empty;
    CHECK(inflate_message("", 10, empty) == InflateResult::ok); // an empty message's payload
    CHECK(inflate_message(std::string(1, '\0'), 10, empty) == InflateResult::ok);
    CHECK(empty.empty());
}

TEST_CASE("The inflated size is capped: a bomb stops at the limit", "[deflate]") {
    const std::string message = json_message(3000);
    const std::string payload = client_deflate(message);
    std::string out;
    CHECK(inflate_message(payload, message.size(), out) == InflateResult::ok);
    out = "abc"; // what is already in out counts
    CHECK(inflate_message(payload, message.size() + 2, out) == InflateResult::too_big);
    CHECK(out == "abc");
    // A message that ends with a final block, whose last inflate both fills the room and ends the stream.
    const std::string final_block = client_deflate(message, 15, true);
    out.clear();
    CHECK(inflate_message(final_block, message.size() - 1, out) == InflateResult::too_big);
    CHECK(inflate_message(final_block, message.size(), out) == InflateResult::ok);

    // 64 MiB of zeros deflate to about 64 KiB; capped at 1 MiB it stops early, out untouched.
    const std::string bomb = client_deflate(std::string(64u << 20, '\0'));
    CHECK(bomb.size() < 100'000);
    out.clear();
    CHECK(inflate_message(bomb, 1u << 20, out) == InflateResult::too_big);
    CHECK(out.empty());
    CHECK(out.capacity() <= 2 * ((1u << 20) + 1)); // std::string at most doubles what it was asked for

    // No limit at all is SIZE_MAX.
    out.clear();
    CHECK(inflate_message(payload, SIZE_MAX, out) == InflateResult::ok);
    CHECK(out == message);
}

TEST_CASE("Corrupt data is told apart from a message too big", "[deflate]") {
    const std::string message = json_message(3000);
    std::string out;
    CHECK(inflate_message(random_bytes(500), 1 << 20, out) == InflateResult::corrupt);
    CHECK(inflate_message("\xff\xff\xff\xff", 1 << 20, out) == InflateResult::corrupt); // reserved block type
    CHECK(inflate_message(client_deflate(message, 15, true) + "trailing", 1 << 20, out) == InflateResult::corrupt);
    const std::string whole = client_deflate(message);
    for (std::size_t cut : {1, 5, 50}) { // cut short inside its last block
        INFO("cut " << cut);
        CHECK(inflate_message(std::string_view(whole).substr(0, whole.size() - cut), 1 << 20, out) ==
              InflateResult::corrupt);
    }
    CHECK(out.empty());
    // The stream is reset before the next message: a good one inflates after a corrupt one.
    CHECK(inflate_message(client_deflate(message), 1 << 20, out) == InflateResult::ok);
    CHECK(out == message);
}
