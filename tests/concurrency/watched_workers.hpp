// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

/// Runs `work(worker)` for workers 0 .. `worker_count - 1`, each on its own thread, while one more
/// thread calls `watch()` over and over until every worker is done.
template <class Work, class Watch>
void run_watched_workers(int worker_count, Work work, Watch watch) {
    std::atomic<bool> workers_done{false};
    std::thread watcher([&] {
        while (!workers_done.load()) {
            watch();
            std::this_thread::yield();
        }
    });
    std::vector<std::thread> workers;
    for (int worker = 0; worker < worker_count; ++worker) workers.emplace_back(work, worker);
    for (std::thread& worker : workers) worker.join();
    workers_done = true;
    watcher.join();
}
