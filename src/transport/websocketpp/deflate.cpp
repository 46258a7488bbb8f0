// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "deflate.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

#include <zlib.h>

#include "zlib_memory.hpp"

namespace switchboard::detail {
namespace {

constexpr std::array<char, 4> flush_tail = {0x00, 0x00, '\xff', '\xff'};

// The stream takes 2^(window_bits + 2) + 2^(memory_level + 9) bytes: 136 KiB at 15 bits, once per
// thread. deflateReset clears a hash table of 2^(memory_level + 8) bytes before every message: at
// zlib's default level 8 (64 KiB) that made a 1 KiB JSON event cost 175,000 instructions under
// callgrind, at 4 (4 KiB) 116,000, for the same 274 bytes out.
constexpr int memory_level = 4;

// One raw deflate stream, reset before each message.
class DeflateStream {
public:
    explicit DeflateStream(int window_bits)
    {
        if (deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, memory_level,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            throw std::bad_alloc();
    }
    ~DeflateStream() { deflateEnd(&stream_); }
    DeflateStream(DeflateStream const&) = delete;
    DeflateStream& operator=(DeflateStream const&) = delete;

    // Appends the message, deflated and flushed (tail included), to `out`, and returns true; or,
    // once the output would reach `limit` bytes, restores `out` and returns false.
    bool deflate(std::string_view message, std::size_t limit, std::string& out)
    {
        if (message.size() > UINT_MAX) return false; // zlib counts in 32 bits; never a WebSocket message here
        deflateReset(&stream_);
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
        stream_.avail_in = static_cast<uInt>(message.size());

        const std::size_t start = out.size();
        std::size_t room = std::min<std::size_t>(limit, deflateBound(&stream_, stream_.avail_in) + 8);
        std::size_t produced = 0;
        while (true) {
            out.resize(start + room);
            stream_.next_out = reinterpret_cast<Bytef*>(&out[start + produced]);
            stream_.avail_out = static_cast<uInt>(std::min<std::size_t>(room - produced, UINT_MAX));
            const uInt before = stream_.avail_out;
            ::deflate(&stream_, Z_SYNC_FLUSH); // cannot fail on a valid stream with room to write
            produced += before - stream_.avail_out;
            // The flush is complete once deflate returns with output room to spare.
            if (stream_.avail_in == 0 && stream_.avail_out != 0) break;
            if (room == limit) {
                out.resize(start);
                return false;
            }
            room = std::min(limit, room * 2);
        }
        out.resize(start + produced);
        return true;
    }

private:
    z_stream stream_ = cpp_allocated_stream();
};

std::size_t window_index(int window_bits)
{
    if (window_bits < min_window_bits || window_bits > max_window_bits)
        throw std::invalid_argument("permessage-deflate window bits must be 9 to 15");
    return static_cast<std::size_t>(window_bits - min_window_bits);
}

DeflateStream& thread_stream(int window_bits)
{
    thread_local std::array<std::unique_ptr<DeflateStream>, max_window_bits - min_window_bits + 1> streams;
    std::unique_ptr<DeflateStream>& stream = streams[window_index(window_bits)];
    if (!stream) stream = std::make_unique<DeflateStream>(window_bits);
    return *stream;
}

bool ends_with_tail(std::string const& out, std::size_t start)
{
    return out.size() - start >= flush_tail.size() &&
           std::memcmp(out.data() + out.size() - flush_tail.size(), flush_tail.data(), flush_tail.size()) == 0;
}

} // namespace

bool deflate_message(std::string_view message, int window_bits, std::size_t threshold, std::string& out)
{
    if (message.empty() || message.size() < threshold) return false;
    const std::size_t start = out.size();
    // With the tail, shorter than the message plus the tail, or it did not shrink.
    if (!thread_stream(window_bits).deflate(message, message.size() + flush_tail.size(), out)) return false;
    if (!ends_with_tail(out, start)) { // not what Z_SYNC_FLUSH writes: send it plain rather than guess
        out.resize(start);
        return false;
    }
    out.resize(out.size() - flush_tail.size());
    return true;
}

void deflate_message_with_tail(std::string_view message, int window_bits, std::string& out)
{
    if (!thread_stream(window_bits).deflate(message, SIZE_MAX, out))
        throw std::length_error("message too long to deflate");
}

std::string const* SharedDeflate::payload_for(int window_bits)
{
    const std::size_t wanted = window_index(window_bits);
    // A message that did not shrink with one window goes out plain to everyone.
    for (Variant const& variant : variants_)
        if (variant.tried && !variant.compressed) return nullptr;
    // The largest window already deflated that this connection can read.
    for (std::size_t index = wanted + 1; index-- > 0;)
        if (variants_[index].compressed) return &variants_[index].payload;
    Variant& variant = variants_[wanted];
    variant.tried = true;
    ++deflations_;
    variant.compressed = deflate_message(message_, window_bits, threshold_, variant.payload);
    return variant.compressed ? &variant.payload : nullptr;
}

} // namespace switchboard::detail
