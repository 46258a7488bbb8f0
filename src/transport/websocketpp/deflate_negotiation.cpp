// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "deflate_negotiation.hpp"

#include <algorithm>
#include <array>

#include <switchboard/detail/text.hpp>

namespace switchboard::detail {
namespace {

bool is_token_char(char c)
{
    static constexpr std::string_view separators = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           separators.find(c) != std::string_view::npos;
}

// A cursor over the header that reads RFC 7230's pieces; each read returns nullopt (and leaves
// the cursor where it was) when the text there is not that piece.
class HeaderReader {
public:
    explicit HeaderReader(std::string_view text) : text_(text) {}

    bool done() const { return position_ == text_.size(); }

    void skip_whitespace()
    {
        while (!done() && (text_[position_] == ' ' || text_[position_] == '\t')) ++position_;
    }

    bool consume(char c)
    {
        skip_whitespace();
        if (done() || text_[position_] != c) return false;
        ++position_;
        return true;
    }

    bool at(char c)
    {
        skip_whitespace();
        return !done() && text_[position_] == c;
    }

    std::optional<std::string> token()
    {
        skip_whitespace();
        std::size_t end = position_;
        while (end < text_.size() && is_token_char(text_[end])) ++end;
        if (end == position_) return std::nullopt;
        std::string result(text_.substr(position_, end - position_));
        position_ = end;
        return result;
    }

    std::optional<std::string> quoted_string()
    {
        skip_whitespace();
        if (done() || text_[position_] != '"') return std::nullopt;
        std::string result;
        for (std::size_t i = position_ + 1; i < text_.size(); ++i) {
            char c = text_[i];
            if (c == '"') {
                position_ = i + 1;
                return result;
            }
            if (c == '\\' && ++i == text_.size()) break;
            result += text_[i];
        }
        return std::nullopt; // unterminated
    }

private:
    std::string_view text_;
    std::size_t position_ = 0;
};

std::optional<ExtensionParameter> read_parameter(HeaderReader& reader)
{
    std::optional<std::string> name = reader.token();
    if (!name) return std::nullopt;
    ExtensionParameter parameter{ascii_lowered(std::move(*name)), std::nullopt};
    if (reader.consume('=')) {
        parameter.value = reader.at('"') ? reader.quoted_string() : reader.token();
        if (!parameter.value) return std::nullopt;
    }
    return parameter;
}

std::optional<ExtensionOffer> read_offer(HeaderReader& reader)
{
    std::optional<std::string> name = reader.token();
    if (!name) return std::nullopt;
    ExtensionOffer offer{ascii_lowered(std::move(*name)), {}};
    while (reader.consume(';')) {
        std::optional<ExtensionParameter> parameter = read_parameter(reader);
        if (!parameter) return std::nullopt;
        offer.parameters.push_back(std::move(*parameter));
    }
    return offer;
}

// RFC 7692, 7.1.2: "a decimal integer value without leading zeros between 8 and 15".
std::optional<int> window_bits(std::string_view value)
{
    static constexpr std::array<std::string_view, 8> allowed = {"8", "9", "10", "11", "12", "13", "14", "15"};
    for (std::size_t i = 0; i < allowed.size(); ++i)
        if (value == allowed[i]) return static_cast<int>(8 + i);
    return std::nullopt;
}

} // namespace

std::optional<std::vector<ExtensionOffer>> parse_extension_offers(std::string_view header)
{
    HeaderReader reader(header);
    std::vector<ExtensionOffer> offers;
    while (true) {
        while (reader.consume(',')) {} // empty list elements
        reader.skip_whitespace();
        if (reader.done()) return offers;
        std::optional<ExtensionOffer> offer = read_offer(reader);
        if (!offer) return std::nullopt;
        offers.push_back(std::move(*offer));
        if (!reader.at(',')) {
            reader.skip_whitespace();
            if (!reader.done()) return std::nullopt;
        }
    }
}

std::optional<DeflateAgreement> accept_deflate_offer(ExtensionOffer const& offer)
{
    if (offer.name != "permessage-deflate") return std::nullopt;
    DeflateAgreement agreement;
    std::vector<std::string_view> seen;
    for (ExtensionParameter const& parameter : offer.parameters) {
        if (std::find(seen.begin(), seen.end(), parameter.name) != seen.end()) return std::nullopt;
        seen.push_back(parameter.name);

        if (parameter.name == "server_no_context_takeover" || parameter.name == "client_no_context_takeover") {
            if (parameter.value) return std::nullopt;
        } else if (parameter.name == "client_max_window_bits") {
            if (parameter.value && !window_bits(*parameter.value)) return std::nullopt;
        } else if (parameter.name == "server_max_window_bits") {
            std::optional<int> bits = parameter.value ? window_bits(*parameter.value) : std::nullopt;
            if (!bits || *bits < min_window_bits) return std::nullopt;
            agreement.server_window_bits = *bits;
            agreement.server_window_bits_requested = true;
        } else {
            return std::nullopt;
        }
    }
    return agreement;
}

std::optional<DeflateAgreement> negotiate_deflate(std::string_view header)
{
    std::optional<std::vector<ExtensionOffer>> offers = parse_extension_offers(header);
    if (!offers) return std::nullopt;
    for (ExtensionOffer const& offer : *offers)
        if (std::optional<DeflateAgreement> agreement = accept_deflate_offer(offer)) return agreement;
    return std::nullopt;
}

std::string deflate_response(DeflateAgreement const& agreement)
{
    std::string response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    if (agreement.server_window_bits_requested)
        response += "; server_max_window_bits=" + std::to_string(agreement.server_window_bits);
    return response;
}

} // namespace switchboard::detail
