// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "inflater.hpp"

#include <algorithm>
#include <stdexcept>

namespace loadgen {
namespace {

constexpr int raw_deflate_max_window = -15; ///< negative: raw deflate, no zlib header
constexpr unsigned char message_tail[] = {0x00, 0x00, 0xff, 0xff};

} // namespace

Inflater::Inflater() {
    if (inflateInit2(&stream_, raw_deflate_max_window) != Z_OK) throw std::runtime_error("inflateInit2 failed");
}

Inflater::~Inflater() { inflateEnd(&stream_); }

bool Inflater::inflate(std::string_view compressed, std::size_t max_size, std::string& out) {
    inflateReset(&stream_);
    out.clear();
    bool ended = false; // a final deflate block: what follows it (the tail) is not read
    // Inflates all of `data` into `out`, growing it (up to one byte past max_size: too large).
    const auto feed = [&](const void* data, std::size_t size) {
        stream_.next_in = static_cast<Bytef*>(const_cast<void*>(data));
        stream_.avail_in = static_cast<uInt>(size);
        while (!ended && stream_.avail_in > 0 && out.size() <= max_size) {
            const std::size_t used = out.size();
            out.resize(std::min(std::max<std::size_t>(2 * used, 4096), max_size + 1));
            stream_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            stream_.avail_out = static_cast<uInt>(out.size() - used);
            const int status = ::inflate(&stream_, Z_SYNC_FLUSH);
            const bool stuck = status == Z_BUF_ERROR && stream_.avail_out > 0; // no progress with room to write
            out.resize(out.size() - stream_.avail_out);
            if ((status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) || stuck) return false;
            ended = status == Z_STREAM_END;
        }
        return ended || stream_.avail_in == 0;
    };
    return feed(compressed.data(), compressed.size()) && feed(message_tail, sizeof message_tail) &&
           out.size() <= max_size;
}

} // namespace loadgen
