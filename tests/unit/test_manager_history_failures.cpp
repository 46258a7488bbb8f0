// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// ConnectionManager with a store that cannot keep an event (a shared store away): the event goes
// out live without an offset, the connections stay, and the failure is counted.
#include "history_fixtures.hpp"

#include <atomic>

#include <catch2/catch.hpp>

#include <switchboard/metrics/render.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

/// A MemoryHistory whose appends fail (`stored` false) while `failing` is set.
class FlakyHistory final : public History {
public:
    StreamTop append(const UserId& user, const StoredEvent& event) override {
        if (failing) return StreamTop{{Epoch::random(), 0}, /*created=*/true, /*stored=*/false};
        return kept.append(user, event);
    }
    StreamTop open(const UserId& user) override { return kept.open(user); }
    std::optional<std::vector<StoredEvent>> read(const UserId& user, const StreamPosition& after,
                                                std::uint64_t upto) override {
        return kept.read(user, after, upto);
    }
    HistoryMetrics metrics() const override { return kept.metrics(); }

    std::atomic<bool> failing{false};
    MemoryHistory kept;
};

} // namespace

TEST_CASE("an event the store could not keep reaches the user's connections live, without an offset",
          "[manager][history]") {
    auto store = std::make_shared<FlakyHistory>();
    HistoryFixture fixture(store);
    const auto phone = fixture.connect("alice");
    const auto laptop = fixture.connect("alice");
    fixture.manager.send_to_user(alice, message(1));
    store->failing = true;
    fixture.manager.send_to_users({alice, bob}, message(2));
    fixture.manager.send_to_user(alice, message(3), phone.id); // not to the sender's own connection
    store->failing = false;
    fixture.manager.send_to_user(alice, message(4));

    for (const auto& device : {phone, laptop}) {
        std::vector<std::pair<int, std::optional<std::uint64_t>>> got;
        for (const Received& frame : fixture.received(device))
            if (frame.type == "MessageSent") got.emplace_back(frame.data.at("n").get<int>(), frame.offset);
        const std::vector<std::pair<int, std::optional<std::uint64_t>>> expected =
            device.id == phone.id ? decltype(got){{1, 1}, {2, std::nullopt}, {4, 2}}
                                  : decltype(got){{1, 1}, {2, std::nullopt}, {3, std::nullopt}, {4, 2}};
        CHECK(got == expected);
        CHECK(fixture.transport.is_open(device.handle));
    }
    const ManagerMetrics metrics = fixture.manager.metrics();
    CHECK(metrics.history_append_failures == 3); // alice twice, bob once
    CHECK(metrics.closed_stream_reset == 0);
    PrometheusText out;
    write_metrics(out, metrics);
    CHECK(std::move(out).str().find("switchboard_history_append_failures_total 3\n") != std::string::npos);
}
