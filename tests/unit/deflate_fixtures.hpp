// zlib used directly, apart from the code under test, and the messages the deflate tests send.
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include <zlib.h>

namespace deflate_fixtures {

/// A JSON event of about `size` bytes, like the manager's frames (repetitive keys, varied values).
inline std::string json_message(std::size_t size, unsigned seed = 1)
{
    std::mt19937 random(seed);
    std::string text = R"({"type":"message.sent","data":{"items":[)";
    while (text.size() + 120 < size)
        text += R"({"id":"m)" + std::to_string(random() % 100000) + R"(","from":"11111111-1111-4111-8111-)" +
                std::to_string(100000000000ULL + random() % 900000000000ULL) + R"(","content":"hello )" +
                std::to_string(random() % 1000) + R"("},)";
    text += R"({"id":"last"}]}})";
    text.append(size > text.size() ? size - text.size() : 0, ' ');
    return text;
}

/// Bytes that do not compress.
inline std::string random_bytes(std::size_t size, unsigned seed = 2)
{
    std::mt19937 random(seed);
    std::string bytes(size, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random());
    return bytes;
}

/// A client's payload: raw deflate with `window_bits`, ended either RFC 7692's usual way (sync flush,
/// 00 00 ff ff stripped) or with a final block (`finish`).
inline std::string client_deflate(std::string_view text, int window_bits = 15, bool finish = false)
{
    z_stream stream{};
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string out(deflateBound(&stream, static_cast<uLong>(text.size())) + 16, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, finish ? Z_FINISH : Z_SYNC_FLUSH);
    out.resize(out.size() - stream.avail_out);
    deflateEnd(&stream);
    if (!finish) out.resize(out.size() - 4);
    return out;
}

/// What a client reads from a server's payload: raw inflate with `window_bits` after appending
/// 00 00 ff ff; throws if zlib finds it corrupt.
inline std::string client_inflate(std::string_view payload, int window_bits = 15)
{
    std::string input(payload);
    input += std::string("\x00\x00\xff\xff", 4);
    z_stream stream{};
    if (inflateInit2(&stream, -window_bits) != Z_OK) throw std::runtime_error("inflateInit2");
    stream.next_in = reinterpret_cast<Bytef*>(input.data());
    stream.avail_in = static_cast<uInt>(input.size());
    std::string out;
    char chunk[4096];
    int status = Z_OK;
    while (status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)) {
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        status = inflate(&stream, Z_SYNC_FLUSH);
        out.append(chunk, sizeof chunk - stream.avail_out);
    }
    inflateEnd(&stream);
    if (status != Z_OK && status != Z_BUF_ERROR && status != Z_STREAM_END) throw std::runtime_error("corrupt");
    return out;
}

} // namespace deflate_fixtures
