#include <switchboard/event.hpp>

#include <catch2/catch.hpp>

using switchboard::Event;
using switchboard::ProtocolError;
namespace errc = switchboard::errc;

namespace {

std::string error_code_of(std::string_view text) {
    try {
        Event::parse(text);
    } catch (const ProtocolError& error) {
        return error.code();
    }
    return "none";
}

} // namespace

TEST_CASE("Event serializes to the wire envelope, type first", "[event]") {
    const Event event("MessageSent", {{"content", "hi"}, {"n", 1}});
    CHECK(event.to_frame().text() == R"({"type":"MessageSent","data":{"content":"hi","n":1}})");
    CHECK(Event("Ping").to_frame().text() == R"({"type":"Ping","data":{}})");
}

TEST_CASE("Event escapes its type name", "[event]") {
    const Event event("Odd\"Type", nullptr);
    CHECK(event.to_frame().text() == R"({"type":"Odd\"Type","data":null})");
    CHECK(Event::parse(event.to_frame().text()).type() == "Odd\"Type");
}

TEST_CASE("A frame is one shared buffer", "[event]") {
    const switchboard::Frame frame = Event("A").to_frame();
    const switchboard::Frame copy = frame;
    CHECK(copy.buffer_id() == frame.buffer_id());
    CHECK(copy.size() == frame.text().size());
    CHECK(Event("A").to_frame().buffer_id() != frame.buffer_id());
}

TEST_CASE("Event::parse reads an envelope back", "[event]") {
    const Event event = Event::parse(R"({"data":{"x":[1,2]},"type":"T"})");
    CHECK(event.type() == "T");
    CHECK(event.data() == nlohmann::json{{"x", {1, 2}}});
    CHECK(Event::parse(R"({"type":"T"})").data() == nlohmann::json::object());
}

TEST_CASE("Event::parse refuses what is not an envelope", "[event]") {
    CHECK(error_code_of("") == errc::invalid_json);
    CHECK(error_code_of("{") == errc::invalid_json);
    CHECK(error_code_of("{\"type\":\"T\"} trailing") == errc::invalid_json);
    CHECK(error_code_of("[1,2]") == errc::invalid_envelope);
    CHECK(error_code_of("\"MessageSent\"") == errc::invalid_envelope);
    CHECK(error_code_of("{}") == errc::invalid_envelope);
    CHECK(error_code_of(R"({"type":7})") == errc::invalid_envelope);
    CHECK(error_code_of(R"({"type":""})") == errc::invalid_envelope);
    CHECK(error_code_of(R"({"type":null,"data":{}})") == errc::invalid_envelope);
}

TEST_CASE("Event replaces invalid UTF-8 instead of failing to serialize", "[event]") {
    const Event event("Note", {{"text", std::string("ok \xff\xfe end")}});
    const std::string text(event.to_frame().text());
    CHECK(text == "{\"type\":\"Note\",\"data\":{\"text\":\"ok \xEF\xBF\xBD\xEF\xBF\xBD end\"}}");
}

TEST_CASE("JSON nesting is measured outside strings", "[event]") {
    using switchboard::detail::json_nesting_exceeds;
    CHECK_FALSE(json_nesting_exceeds(R"({"a":[[1]]})", 3));
    CHECK(json_nesting_exceeds(R"({"a":[[1]]})", 2));
    CHECK_FALSE(json_nesting_exceeds(R"({"a":"[[[[[[\"[[["})", 1));
    CHECK_FALSE(json_nesting_exceeds("[][][][]", 1));
    CHECK_THROWS_AS(Event::parse("[[[[1]]]]", 3), ProtocolError);
}

TEST_CASE("events and their frames carry their durability", "[event]") {
    CHECK(Event("Custom").durability() == switchboard::Durability::durable);
    CHECK(Event("Custom", {}, switchboard::Durability::ephemeral).to_frame().durability() ==
          switchboard::Durability::ephemeral);
}

TEST_CASE("Event::parse refuses a NUL byte instead of ignoring what follows it", "[event]") {
    CHECK(error_code_of(std::string_view("{\"type\":\"x\"}\0garbage", 20)) == errc::invalid_json);
}
