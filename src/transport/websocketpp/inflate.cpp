// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "inflate.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <new>

#include <zlib.h>

#include "zlib_memory.hpp"

namespace switchboard::detail {
namespace {

constexpr std::array<Bytef, 4> flush_tail = {0x00, 0x00, 0xff, 0xff};

// The first output room for a message: deflate rarely shrinks JSON more than fourfold.
constexpr std::size_t expected_ratio = 4;
constexpr std::size_t least_room = 256;

// One raw inflate stream, reset before each message.
class InflateStream {
public:
    InflateStream()
    {
        if (inflateInit2(&stream_, -15) != Z_OK) throw std::bad_alloc();
    }
    ~InflateStream() { inflateEnd(&stream_); }
    InflateStream(InflateStream const&) = delete;
    InflateStream& operator=(InflateStream const&) = delete;

    InflateResult inflate(std::string_view payload, std::size_t max_size, std::string& out)
    {
        if (payload.empty()) return InflateResult::ok; // some clients' empty message (RFC 7692 says 0x00)
        if (payload.size() > UINT_MAX) return InflateResult::too_big;
        inflateReset(&stream_);
        start_ = out.size();
        // One byte over proves it too big (and SIZE_MAX stays unlimited rather than wrapping to 0).
        limit_ = max_size < start_ ? 0 : std::min<std::size_t>(max_size - start_, SIZE_MAX - 1) + 1;
        room_ = std::min(limit_, std::max(least_room, payload.size() * expected_ratio));
        produced_ = 0;
        out.resize(start_ + room_);

        Step step = feed(reinterpret_cast<Bytef const*>(payload.data()), payload.size(), out);
        if (step == Step::ended && stream_.avail_in != 0) step = Step::corrupt; // bytes after the final block
        if (step == Step::consumed) step = feed(flush_tail.data(), flush_tail.size(), out);
        // After the tail's empty stored block, a whole message leaves zlib waiting for a block header
        // (data_type's 128); a truncated one leaves it inside a block.
        if (step == Step::consumed && (stream_.data_type & 128) == 0) step = Step::corrupt;
        const bool ok = step == Step::consumed || step == Step::ended;
        out.resize(ok ? start_ + produced_ : start_);
        return ok ? InflateResult::ok : step == Step::too_big ? InflateResult::too_big : InflateResult::corrupt;
    }

private:
    enum class Step : std::uint8_t { consumed, ended, too_big, corrupt };

    // Runs the input through inflate, growing `out` as needed up to the limit.
    Step feed(Bytef const* data, std::size_t size, std::string& out)
    {
        stream_.next_in = const_cast<Bytef*>(data);
        stream_.avail_in = static_cast<uInt>(size);
        while (true) {
            if (produced_ == room_) { // room_ < limit_ here: reaching the limit returns below
                room_ = std::min(limit_, room_ * 2);
                out.resize(start_ + room_);
            }
            stream_.next_out = reinterpret_cast<Bytef*>(&out[start_ + produced_]);
            stream_.avail_out = static_cast<uInt>(std::min<std::size_t>(room_ - produced_, UINT_MAX));
            const uInt before = stream_.avail_out;
            const int status = ::inflate(&stream_, Z_SYNC_FLUSH);
            produced_ += before - stream_.avail_out;
            if (produced_ == limit_) return Step::too_big; // even if this call also ended the stream
            if (status == Z_STREAM_END) return Step::ended; // the client ended with a final block
            if (status != Z_OK && status != Z_BUF_ERROR) return Step::corrupt;
            if (stream_.avail_in == 0 && stream_.avail_out != 0) return Step::consumed;
        }
    }

    z_stream stream_ = cpp_allocated_stream();
    std::size_t start_ = 0, limit_ = 0, room_ = 0, produced_ = 0;
};

} // namespace

InflateResult inflate_message(std::string_view payload, std::size_t max_size, std::string& out)
{
    thread_local InflateStream stream;
    return stream.inflate(payload, max_size, out);
}

} // namespace switchboard::detail
