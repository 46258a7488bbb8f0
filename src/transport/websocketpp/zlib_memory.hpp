// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// zlib's memory through the C++ allocator rather than malloc, so that what counts or replaces
// operator new (a host's allocator, the tests' allocation counter) sees the streams' memory too.

#include <cstddef>
#include <new>

#include <zlib.h>

namespace switchboard::detail {

inline voidpf zlib_allocate(voidpf, uInt items, uInt size)
{
    return ::operator new(static_cast<std::size_t>(items) * size, std::nothrow); // zlib takes nullptr as Z_MEM_ERROR
}

inline void zlib_free(voidpf, voidpf memory) { ::operator delete(memory); }

/// A z_stream that allocates with zlib_allocate, ready for deflateInit2 or inflateInit2.
inline z_stream cpp_allocated_stream()
{
    z_stream stream{};
    stream.zalloc = zlib_allocate;
    stream.zfree = zlib_free;
    return stream;
}

} // namespace switchboard::detail
