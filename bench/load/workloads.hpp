// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The workloads: each connects its own users, runs for a bounded time and reports.
///
/// - idle: hold connections, at each of `steps`; server RSS per connection and its slope.
/// - idle-after-storm: the same, each step's connections connecting at once (a storm, settled as
///   in `storm`, within `timeout` per step).
/// - saturation: admins Broadcast to `clients` subscribers, as fast as the server keeps up (up to
///   400 senders at 15/s each, at most 32 broadcasts' deliveries outstanding); deliveries/s,
///   latency, lost.
/// - publish: one admin publishes Broadcasts, over WebSocket or `POST /api/publish` (`via`), with
///   no rate cap, keeping `window` (64) outstanding, each counted done when its copy reaches
///   connection 0 (the publisher itself over WebSocket); deliveries/s, latency, lost.
/// Both fan-out shapes also report the server's send and receive system calls (perf, if present)
/// over one more second, after the rates.
/// - rate: Broadcast at `rate` per second to `clients` subscribers; deliveries/s, latency, lost.
/// - direct: SendMessage from each user in turn to a random other user, `rate` per second in all.
/// - storm: `clients` users connect at once; time until all upgrades finished and presence went quiet.
/// With two nodes (`--ports A,B`): saturation's and publish's senders (the first connections) are
/// on node A and the subscribers split in halves over both; direct's senders are the first half
/// (node A) and its recipients the second (node B); storm's users alternate between the nodes.
/// - resume: a device offline while 1,000 messages are sent to it resumes from its last offset
///   (a server with history); the time from its reconnect to the last of them, over 5 rounds.

#include "session.hpp"

namespace loadgen {

Report run_idle(const Settings& settings);
Report run_idle_after_storm(const Settings& settings);
Report run_saturation(const Settings& settings);
Report run_publish(const Settings& settings);
Report run_rate(const Settings& settings);
Report run_direct(const Settings& settings);
Report run_storm(const Settings& settings);
Report run_resume(const Settings& settings);

} // namespace loadgen
