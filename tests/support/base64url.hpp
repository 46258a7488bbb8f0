// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// base64url without padding (RFC 7515) for the tests' hand-made tokens, written apart from the
// library's encoder (by way of OpenSSL's plain base64), so that a token does not depend on the
// code it tests. Shared by the unit, integration and fuzz tests.

#include <algorithm>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace test_support {

inline std::string base64url(std::string_view bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(size));
    text.erase(text.find_last_not_of('=') + 1);
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    return text;
}

} // namespace test_support
