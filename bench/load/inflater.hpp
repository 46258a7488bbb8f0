// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The load generator's side of permessage-deflate (RFC 7692): inflates one compressed message
/// at a time. Servers under test answer with `server_no_context_takeover`, so every message is
/// inflated on its own from a reset stream. Threads: one, the client loop's.

#include <string>
#include <string_view>

#include <zlib.h>

namespace loadgen {

class Inflater {
public:
    Inflater();
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    /// The message whose compressed payload is `compressed` (RFC 7692 7.2.2: raw deflate with the
    /// final 00 00 ff ff left off), in `out`; false if it is corrupt or inflates beyond `max_size`.
    bool inflate(std::string_view compressed, std::size_t max_size, std::string& out);

private:
    z_stream stream_{};
};

} // namespace loadgen
