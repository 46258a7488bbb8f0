// permessage-deflate's cost per message: bytes and time to deflate a 1 KiB JSON event with the
// calling thread's stream, and to inflate it back. A plain program rather than a Google Benchmark,
// so that it also runs under valgrind for counts that other builds on the machine do not disturb:
//   deflate_bench [deflate|inflate|both] [messages]
// prints the sizes and the median time per message of 5 runs; under `valgrind` (heap summary) or
// `valgrind --tool=callgrind`, compare two message counts for the allocations and instructions each
// message adds, and 0 against 1 message for the memory of the thread's stream.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "deflate_fixtures.hpp"
#include "transport/websocketpp/deflate.hpp"
#include "transport/websocketpp/inflate.hpp"

using namespace switchboard::detail;

namespace {

constexpr int runs = 5;

template <class Work>
double median_ns_per_message(long messages, Work work)
{
    std::vector<double> results;
    for (int run = 0; run < runs; ++run) {
        const auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < messages; ++i) work();
        const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
        results.push_back(elapsed.count() / static_cast<double>(messages));
    }
    std::sort(results.begin(), results.end());
    return results[runs / 2];
}

} // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "both";
    const long messages = argc > 2 ? std::atol(argv[2]) : 20000;
    const std::string message = deflate_fixtures::json_message(1024);
    std::string payload;
    if (!deflate_message(message, max_window_bits, 256, payload)) return 1;
    std::printf("1 KiB JSON event: %zu bytes, deflated %zu (%.1f%% of it; window %d bits)\n", message.size(),
                payload.size(), 100.0 * static_cast<double>(payload.size()) / static_cast<double>(message.size()),
                max_window_bits);
    if (messages == 0) return 0;

    std::string out;
    out.reserve(2 * message.size());
    if (mode != "inflate") {
        const double ns = median_ns_per_message(messages, [&] {
            out.clear();
            deflate_message(message, max_window_bits, 256, out);
        });
        std::printf("deflate: %.0f ns per message (median of %d runs of %ld)\n", ns, runs, messages);
    }
    if (mode != "deflate") {
        const double ns = median_ns_per_message(messages, [&] {
            out.clear();
            inflate_message(payload, 1 << 20, out);
        });
        std::printf("inflate: %.0f ns per message (median of %d runs of %ld)\n", ns, runs, messages);
    }
    return out.empty() ? 1 : 0;
}
