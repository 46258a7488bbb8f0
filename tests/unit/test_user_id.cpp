#include <switchboard/user_id.hpp>

#include <set>
#include <unordered_set>

#include <catch2/catch.hpp>

using switchboard::InvalidUserId;
using switchboard::UserId;

TEST_CASE("UserId parses canonical text and formats it back in lower case", "[user_id]") {
    const UserId id = UserId::parse("123E4567-e89b-12d3-A456-426614174000");
    CHECK(id.to_string() == "123e4567-e89b-12d3-a456-426614174000");
    CHECK(id.bytes()[0] == 0x12);
    CHECK(id.bytes()[15] == 0x00);
    CHECK(UserId::parse(id.to_string()) == id);
    CHECK_FALSE(id.is_nil());
    CHECK(UserId().is_nil());
    CHECK(UserId().to_string() == "00000000-0000-0000-0000-000000000000");
}

TEST_CASE("UserId rejects malformed text with a clear error", "[user_id]") {
    const char* malformed[] = {
        "",
        "123e4567",
        "123e4567e89b12d3a456426614174000",       // no dashes
        "{123e4567-e89b-12d3-a456-426614174000}", // braces
        "123e4567-e89b-12d3-a456-42661417400g",   // not hex
        "123e4567-e89b-12d3-a456_426614174000",   // wrong separator
        "123e456-7e89b-12d3-a456-426614174000",   // dash misplaced
        "123e4567-e89b-12d3-a456-4266141740000",  // too long
        " 23e4567-e89b-12d3-a456-426614174000",
    };
    for (const char* text : malformed) {
        INFO(text);
        CHECK_FALSE(UserId::try_parse(text));
        CHECK_THROWS_AS(UserId::parse(text), InvalidUserId);
    }
    CHECK_THROWS_WITH(UserId::parse("bob"), Catch::Contains("invalid user id") && Catch::Contains("\"bob\""));
}

TEST_CASE("UserId error messages truncate huge input", "[user_id]") {
    const std::string huge(10'000, 'a');
    try {
        UserId::parse(huge);
        FAIL("parse accepted garbage");
    } catch (const InvalidUserId& error) {
        CHECK(std::string(error.what()).size() < 200);
    }
}

TEST_CASE("UserId compares, orders and hashes by value", "[user_id]") {
    const UserId a = UserId::parse("00000000-0000-0000-0000-000000000001");
    const UserId b = UserId::parse("00000000-0000-0000-0000-000000000002");
    CHECK(a < b);
    CHECK(b > a);
    CHECK(a <= a);
    CHECK(a != b);
    CHECK(a == UserId::parse("00000000-0000-0000-0000-000000000001"));
    std::unordered_set<UserId> hashed{a, b, a};
    std::set<UserId> ordered{b, a, b};
    CHECK(hashed.size() == 2);
    CHECK(*ordered.begin() == a);
}

TEST_CASE("UserId orders as its canonical text and compares every byte", "[user_id]") {
    for (int i = 0; i < 1000; ++i) {
        const UserId a = UserId::random();
        const UserId b = UserId::random();
        CHECK((a < b) == (a.to_string() < b.to_string()));
        CHECK((a == b) == (a.to_string() == b.to_string()));
    }
    for (std::size_t byte = 0; byte < 16; ++byte) {
        UserId::Bytes bytes{};
        bytes[byte] = 1;
        const UserId differing(bytes);
        CHECK(differing != UserId());
        CHECK(UserId() < differing);
        CHECK_FALSE(differing < UserId());
    }
}

TEST_CASE("UserId::random makes distinct version-4 UUIDs", "[user_id]") {
    std::unordered_set<UserId> seen;
    for (int i = 0; i < 1000; ++i) {
        const UserId id = UserId::random();
        CHECK(id.to_string()[14] == '4');
        CHECK((id.bytes()[8] & 0xC0) == 0x80);
        seen.insert(id);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("UserId converts to and from JSON as its canonical string", "[user_id]") {
    const UserId id = UserId::random();
    const nlohmann::json j = id;
    CHECK(j == id.to_string());
    CHECK(j.get<UserId>() == id);
    CHECK_THROWS_AS(nlohmann::json("nope").get<UserId>(), InvalidUserId);
    CHECK_THROWS_AS(nlohmann::json(42).get<UserId>(), nlohmann::json::type_error);
}
