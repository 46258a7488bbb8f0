// permessage-deflate negotiation over the Sec-WebSocket-Extensions header (RFC 7692, 7.1).
#include "transport/websocketpp/deflate_negotiation.hpp"

#include <catch2/catch.hpp>

using namespace switchboard::detail;

namespace {

// The answer to a header, or "" for no compression.
std::string answer(std::string_view header)
{
    std::optional<DeflateAgreement> agreement = negotiate_deflate(header);
    return agreement ? deflate_response(*agreement) : "";
}

const std::string plain_answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

} // namespace

TEST_CASE("The parser reads offers, parameters and quoted values, lower-casing names", "[deflate]") {
    std::optional<std::vector<ExtensionOffer>> offers = parse_extension_offers(
        " Permessage-Deflate ; Client_Max_Window_Bits ;server_max_window_bits=\"1\\2\" ,, x-foo;a=b,");
    REQUIRE(offers);
    REQUIRE(offers->size() == 2);
    CHECK((*offers)[0].name == "permessage-deflate");
    REQUIRE((*offers)[0].parameters.size() == 2);
    CHECK((*offers)[0].parameters[0].name == "client_max_window_bits");
    CHECK(!(*offers)[0].parameters[0].value);
    CHECK((*offers)[0].parameters[1].name == "server_max_window_bits");
    CHECK((*offers)[0].parameters[1].value == "12");
    CHECK((*offers)[1].name == "x-foo");
    CHECK((*offers)[1].parameters[0].value == "b");
    CHECK(parse_extension_offers("")->empty());
}

TEST_CASE("A header that is not well-formed means no compression, never an exception", "[deflate]") {
    for (std::string_view header : {"permessage-deflate; server_max_window_bits=\"10", "permessage-deflate;",
                                    "permessage-deflate; =10", "permessage-deflate client_max_window_bits",
                                    "permessage-deflate; a=", "permessage-deflate; a=b=c", "\"permessage-deflate\"",
                                    "permessage-deflate; a=\"\\", "permessage-deflate; a=@"}) {
        INFO(header);
        CHECK(!parse_extension_offers(header));
        CHECK(answer(header).empty());
    }
}

TEST_CASE("The server always takes no context takeover both ways", "[deflate]") {
    CHECK(answer("permessage-deflate") == plain_answer);
    CHECK(answer("PERMESSAGE-DEFLATE; SERVER_NO_CONTEXT_TAKEOVER") == plain_answer);
    CHECK(answer("permessage-deflate; client_no_context_takeover; server_no_context_takeover") == plain_answer);
    CHECK(answer("x-webkit-deflate-frame").empty());
    CHECK(answer("").empty());
}

TEST_CASE("client_max_window_bits is accepted with or without a value and not answered", "[deflate]") {
    CHECK(answer("permessage-deflate; client_max_window_bits") == plain_answer); // Chromium's offer
    CHECK(answer("permessage-deflate; client_max_window_bits=8") == plain_answer);
    CHECK(answer("permessage-deflate; client_max_window_bits=\"15\"") == plain_answer);
    CHECK(answer("permessage-deflate; client_max_window_bits=16").empty());
    CHECK(answer("permessage-deflate; client_max_window_bits=010").empty());
}

TEST_CASE("server_max_window_bits is honoured from 9 to 15 and declined below", "[deflate]") {
    for (int bits = 9; bits <= 15; ++bits) {
        std::optional<DeflateAgreement> agreement =
            negotiate_deflate("permessage-deflate; server_max_window_bits=" + std::to_string(bits));
        REQUIRE(agreement);
        CHECK(agreement->server_window_bits == bits);
        CHECK(deflate_response(*agreement) == plain_answer + "; server_max_window_bits=" + std::to_string(bits));
    }
    for (std::string_view value : {"8", "7", "16", "0", "09", "ten", "", "+9", "9.0"}) {
        INFO(value);
        CHECK(answer("permessage-deflate; server_max_window_bits=" + std::string(value)).empty());
    }
    CHECK(answer("permessage-deflate; server_max_window_bits").empty()); // a value is required
    CHECK(negotiate_deflate("permessage-deflate")->server_window_bits == 15);
}

TEST_CASE("An unacceptable offer is skipped for the next one", "[deflate]") {
    // Repeated, unknown, valued flags and declined windows each make their own offer unacceptable.
    CHECK(answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate; "
                 "server_max_window_bits=10") == plain_answer + "; server_max_window_bits=10");
    CHECK(answer("permessage-deflate; client_max_window_bits; client_max_window_bits=10, permessage-deflate") ==
          plain_answer);
    CHECK(answer("permessage-deflate; x-unknown, permessage-deflate; server_max_window_bits=8, "
                 "permessage-deflate; server_max_window_bits=12, permessage-deflate") ==
          plain_answer + "; server_max_window_bits=12");
    CHECK(answer("permessage-deflate; client_no_context_takeover=1, x-other, "
                 "permessage-deflate; client_max_window_bits") == plain_answer);
    CHECK(answer("permessage-deflate; server_max_window_bits=8").empty());
}
