// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/detail/dispatch_queue.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <catch2/catch.hpp>

using switchboard::detail::DispatchQueue;

namespace {

/// Runs `start` on `io`'s thread (this one), then everything it leads to.
template <class Start>
void run_from_handler(asio::io_context& io, Start&& start) {
    asio::post(io, std::forward<Start>(start));
    io.run();
}

} // namespace

TEST_CASE("DispatchQueue runs a round in order and takes a waiting write once", "[dispatch_queue]") {
    asio::io_context io;
    DispatchQueue queue(io);
    std::vector<std::string> ran;
    bool write_waiting = false;
    run_from_handler(io, [&] {
        queue.add([&] { ran.push_back(write_waiting ? "write, flag still set" : "write"); }, &write_waiting);
        CHECK(write_waiting);
        queue.add([&] { ran.push_back("second write"); }, &write_waiting); // the first sends what it would
        queue.add([&] { ran.push_back("other work"); });
        CHECK(queue.waiting());
    });
    CHECK(ran == std::vector<std::string>{"write", "other work"});
    CHECK_FALSE(write_waiting);
    CHECK_FALSE(queue.waiting());
}

TEST_CASE("DispatchQueue: a round that nothing joined runs at its turn", "[dispatch_queue]") {
    asio::io_context io;
    DispatchQueue queue(io);
    std::vector<std::string> ran;
    run_from_handler(io, [&] {
        queue.add([&] { ran.push_back("round"); });
        asio::post(io, [&] { ran.push_back("posted after"); });
    });
    CHECK(ran == std::vector<std::string>{"round", "posted after"});
}

TEST_CASE("DispatchQueue: a round waits behind what is queued while each turn brings it more, "
          "at most max_deferrals turns",
          "[dispatch_queue]") {
    // Each link of a chain posted behind the round adds to it and posts the next link: every turn
    // of the round finds it joined, so it waits, until it has waited max_deferrals turns.
    asio::io_context io;
    DispatchQueue queue(io);
    constexpr int links = 2 * DispatchQueue::max_deferrals;
    int links_run = 0;
    int links_before_round = -1;
    int works_run = 0;
    std::function<void()> link = [&] {
        ++links_run;
        queue.add([&] { ++works_run; });
        if (links_run < links) asio::post(io, link);
    };
    run_from_handler(io, [&] {
        queue.add([&] { links_before_round = links_run; });
        queue.add([&] { ++works_run; });
        asio::post(io, link);
    });
    CHECK(links_before_round == DispatchQueue::max_deferrals);
    CHECK(links_run == links);
    CHECK(works_run == 1 + links); // the links after the round joined later rounds
}

TEST_CASE("DispatchQueue::trim gives back what a burst's round grew to, once later rounds are small",
          "[dispatch_queue]") {
    asio::io_context io;
    DispatchQueue queue(io);
    const auto round_of = [&](int works) {
        run_from_handler(io, [&] {
            for (int i = 0; i < works; ++i) queue.add([] {});
        });
        io.restart();
    };
    round_of(100000);
    queue.trim(); // the burst's round is the largest since: its storage stays for one more tick
    CHECK(queue.capacity() >= 100000);
    round_of(10);
    queue.trim();
    CHECK(queue.capacity() <= 2 * 10 * 2);
    round_of(10); // and it still works
    CHECK_FALSE(queue.waiting());
}
