// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/detail/heap_trim.hpp>

#include <catch2/catch.hpp>

using switchboard::detail::HeapTrim;

TEST_CASE("HeapTrim trims once a burst is over, never while it goes on or when nothing grew", "[heap_trim]") {
    int trims = 0;
    HeapTrim heap_trim([&] { ++trims; });
    heap_trim.tick(false);
    heap_trim.tick(false);
    CHECK(trims == 0); // quiet from the start: nothing to give back

    for (int tick = 0; tick < 5; ++tick) heap_trim.tick(true);
    CHECK(trims == 0); // a burst still going on
    heap_trim.tick(false);
    CHECK(trims == 1); // its first quiet tick
    heap_trim.tick(false);
    heap_trim.tick(false);
    CHECK(trims == 1); // once a burst

    heap_trim.tick(true);
    heap_trim.tick(false);
    CHECK(trims == 2);
    CHECK(heap_trim.trims() == 2);
}
