// Many threads upgrade one user at once through the mock, each taking as many slots as the
// per-user limit lets it, opening some and abandoning the others: the limit must hold at every
// moment, and every slot must come back. Bounded in operations, not time.
#include <switchboard/connection_manager.hpp>
#include <switchboard/transport/mock.hpp>

#include <atomic>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "watched_workers.hpp"

using namespace switchboard;
using Manager = ConnectionManager<MockTransport>;

namespace {

constexpr std::size_t limit = 2;
constexpr int admission_workers = 4;
constexpr int rounds_per_admission_worker = 1500;

/// What the workers saw; checked once they are done (Catch2 assertions are not thread-safe).
struct Tally {
    std::atomic<std::size_t> held{0}; ///< slots workers hold: counted after taking, before giving back
    std::atomic<std::size_t> most_held{0};
    std::atomic<std::size_t> rounds_refused{0};
    std::atomic<std::size_t> opened{0};
    std::atomic<std::size_t> abandoned{0};
    std::atomic<std::size_t> over_limit{0}; ///< sightings of more connections or upgrades than the limit

    void take() {
        const std::size_t now = held.fetch_add(1) + 1;
        std::size_t most = most_held.load();
        while (now > most && !most_held.compare_exchange_weak(most, now)) {
        }
    }
    void give_back() { held.fetch_sub(1); }
};

} // namespace

TEST_CASE("concurrent upgrades of one user never pass the per-user limit and give back every slot",
          "[stress][limits]") {
    const UserId user = UserId::random();
    StaticTokenAuthenticator auth;
    auth.add("token", user);
    ManagerOptions options;
    options.limits.max_connections_per_user = limit;
    MockTransport transport;
    Manager manager(transport, auth, options);
    UpgradeRequest request;
    request.query = "token=token";

    Tally tally;
    const auto within_limit = [&] {
        return manager.connection_count(user) <= limit && manager.metrics().upgrades_pending <= limit;
    };

    // A round: upgrade until refused (never more than `limit` in a row can succeed), opening
    // about half of those accepted at once; then close the open ones and abandon the rest.
    auto work = [&](int worker) {
        std::mt19937 random(static_cast<unsigned>(worker) + 1);
        for (int round = 0; round < rounds_per_admission_worker; ++round) {
            std::vector<MockTransport::Handle> open;
            std::vector<MockTransport::Handle> upgrading;
            while (open.size() + upgrading.size() <= limit) {
                const MockTransport::Upgrade upgrade = transport.upgrade(request);
                if (!upgrade) break;
                tally.take();
                if (random() % 2 == 0) {
                    transport.complete(*upgrade.handle);
                    open.push_back(*upgrade.handle);
                } else {
                    upgrading.push_back(*upgrade.handle);
                }
                if (!within_limit()) tally.over_limit.fetch_add(1);
            }
            if (open.size() + upgrading.size() <= limit) tally.rounds_refused.fetch_add(1);
            for (const MockTransport::Handle& handle : open) {
                tally.give_back();
                transport.close_by_client(handle);
            }
            for (const MockTransport::Handle& handle : upgrading) {
                tally.give_back();
                transport.abandon(handle);
            }
            tally.opened.fetch_add(open.size());
            tally.abandoned.fetch_add(upgrading.size());
        }
    };
    run_watched_workers(admission_workers, work, [&] {
        if (!within_limit()) tally.over_limit.fetch_add(1);
    });

    CHECK(tally.over_limit == 0);
    CHECK(tally.most_held <= limit);
    CHECK(tally.rounds_refused == admission_workers * rounds_per_admission_worker); // every round ended in a 429

    const ManagerMetrics metrics = manager.metrics();
    CHECK(metrics.upgrades_pending == 0);
    CHECK(metrics.connections == 0);
    CHECK(metrics.connections_registered == tally.opened);
    CHECK(metrics.connections_unregistered == tally.opened);
    CHECK(metrics.upgrades_abandoned == tally.abandoned);
    CHECK(metrics.refused_user_limit == tally.rounds_refused);

    // Every slot came back: the user may connect up to the limit again.
    for (std::size_t i = 0; i < limit; ++i) CHECK(transport.connect(request));
    CHECK_FALSE(transport.connect(request));
}
