// After a thread's first message, deflating and inflating allocate nothing but the caller's output:
// counted by replacing the global operator new for this test program.
#include "deflate_fixtures.hpp"
#include "transport/websocketpp/deflate.hpp"
#include "transport/websocketpp/inflate.hpp"

#include <cstdlib>
#include <new>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

namespace {
thread_local bool counting = false;
thread_local int allocations = 0;

void* allocate(std::size_t size)
{
    if (counting) ++allocations;
    if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
    throw std::bad_alloc();
}

// The allocations `work` makes on this thread.
template <class Work>
int allocations_of(Work&& work)
{
    allocations = 0;
    counting = true;
    work();
    counting = false;
    return allocations;
}
} // namespace

// Every form that allocates with malloc, so that AddressSanitizer's new never meets this free.
void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, std::nothrow_t const&) noexcept
{
    try {
        return allocate(size);
    } catch (std::bad_alloc const&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, std::nothrow_t const& nothrow) noexcept { return operator new(size, nothrow); }
void operator delete(void* memory, std::nothrow_t const&) noexcept { std::free(memory); }
void operator delete[](void* memory, std::nothrow_t const&) noexcept { std::free(memory); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }

using namespace switchboard::detail;
using namespace deflate_fixtures;

// Runs `message_once` on a new thread: its first call makes the thread's stream, the next 100 must
// allocate nothing. Returns {allocations of the first, of the next 100}.
template <class Work>
std::pair<int, int> first_and_next(Work message_once)
{
    std::pair<int, int> counts;
    std::thread([&] {
        counts.first = allocations_of(message_once);
        counts.second = allocations_of([&] {
            for (int i = 0; i < 100; ++i) message_once();
        });
    }).join();
    return counts;
}

TEST_CASE("Deflating allocates nothing per message after the thread's first", "[deflate]") {
    const std::string message = json_message(1024);
    std::string out;
    out.reserve(2048);
    const auto [first, next] = first_and_next([&] {
        out.clear();
        REQUIRE(deflate_message(message, 15, 256, out));
    });
    CHECK(first >= 1); // the thread's stream: the count sees it
    CHECK(next == 0);
}

TEST_CASE("Inflating allocates nothing per message after the thread's first", "[deflate]") {
    const std::string message = json_message(1024);
    const std::string payload = client_deflate(message);
    std::string out;
    out.reserve(4096);
    const auto [first, next] = first_and_next([&] {
        out.clear();
        REQUIRE(inflate_message(payload, 1 << 20, out) == InflateResult::ok);
    });
    CHECK(first >= 1);
    CHECK(next == 0);
    CHECK(out == message);
}
