# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
"""The cluster cases of bench/load/cluster.sh (issue 14): one table (medians of the repetitions)
and a verdict per target. report.py appends the same section to the full run's results.

usage: cluster_report.py RAW MACHINE RESULTS_TXT   (standard library only)
"""

import statistics
import sys

from report import Figures, number, ratio, read_raw, sizes_of, verdict

CLUSTER = "switchboard-cluster"
SINGLE = "switchboard-no-history"
COLUMNS = ["two nodes", "one node", "two / one"]


def cluster_row(figures, label, case, key, decimals=0, single=False):
    two = figures.median(case, CLUSTER, key)
    one = figures.median(case, SINGLE, key) if single else None
    return label, [number(two, decimals), number(one, decimals) if single else "n/a",
                   ratio(two, one) if single else ""]


def settled_median(figures, case):
    """The median settle time, a storm that never settled (-1) counted as slower than any."""
    values = [float("inf") if v < 0 else v for v in figures.values(case, CLUSTER, "settled_s")]
    return statistics.median(values) if values else None


def settled_text(settled):
    return "-" if settled is None else "not settled" if settled == float("inf") else f"{settled:.2f} s"


def cpu_rows(figures, case):
    """What each process used over a cluster case's whole loadgen run (connecting included)."""
    return [cluster_row(figures, f"  CPU s over the run: {who}", case, key, 2)
            for who, key in [("node A", "node_a_cpu_s"), ("node B", "node_b_cpu_s"), ("Redis", "redis_cpu_s")]]


def cluster_table(figures, users, broadcast, storm):
    direct, direct_history = f"cluster_direct_{users}", f"cluster_direct_redis_history_{users}"
    rows = [cluster_row(figures, label, direct, key, decimals) for label, key, decimals in [
        ("direct: offered messages/s", "offered_per_s", 0), ("  delivered/s", "delivered_per_s", 0),
        ("  p50 ms", "p50_ms", 2), ("  p99 ms", "p99_ms", 2), ("  p99.9 ms", "p999_ms", 2), ("  lost", "lost", 0),
        ("  both nodes' and Redis' CPU (cores)", "server_cpu", 2), ("  other processes' CPU (cores)", "others_cpu", 2)]]
    rows += cpu_rows(figures, direct)
    for label, case in [("direct, --history redis: p50 ms", direct_history),
                        ("direct at 10,000/s, --history redis: p50 ms", f"cluster_half_rate_redis_history_{users}")]:
        rows += [cluster_row(figures, label, case, "p50_ms", 2), cluster_row(figures, "  p99 ms", case, "p99_ms", 2),
                 cluster_row(figures, "  lost", case, "lost", 0),
                 cluster_row(figures, "  refused (Error overloaded)", case, "refused", 0),
                 cluster_row(figures, "  closed by the server", case, "closed_by_server", 0)]
        rows += cpu_rows(figures, case)
    case = f"cluster_broadcast_{broadcast}"
    rows += [cluster_row(figures, label, case, key, decimals, single=True) for label, key, decimals in [
        (f"broadcast, {int(broadcast):,} connections: deliveries/s", "deliveries_per_s", 0),
        ("  p99 ms", "p99_ms", 1), ("  undelivered after 5 s of drain", "lost", 0),
        ("  deliveries per server CPU second", "deliveries_per_cpu_s", 0),
        ("  server CPU (cores): both nodes and Redis, or the one node", "server_cpu", 2),
        ("  other processes' CPU (cores)", "others_cpu", 2)]]
    rows += cpu_rows(figures, case)
    case = f"cluster_storm_{storm}"
    settled = settled_text(settled_median(figures, case))
    rows += [(f"storm, {int(storm):,} users, coalesced: settled", [settled, "n/a", ""]),
             cluster_row(figures, "  all upgraded s (-1: not all)", case, "handshakes_s", 2),
             cluster_row(figures, "  presence events", case, "presence_events", 0),
             cluster_row(figures, "  failed upgrades", case, "failed", 0)]
    rows += cpu_rows(figures, case)
    shards = int(figures.median(direct, CLUSTER, "shards") or 1)  # SHARDS=N; runs from before it had one
    redis = "one redis-server" if shards == 1 else f"{shards} redis-servers (users sharded, Redis CPU summed)"
    title = (f"Clustering over Redis (issue 14): two social_server nodes on {redis}, loadgen --ports A,B; "
             "nodes --history off unless named")
    width = max(len(row[0]) for row in rows)
    lines = [title, "-" * len(title), f"{'':<{width}}  " + "  ".join(f"{c:>15}" for c in COLUMNS)]
    lines += [f"{label:<{width}}  " + "  ".join(f"{c:>15}" for c in cells) for label, cells in rows]
    lines += [f"(direct: {int(users):,} users, the first half on node A sending to the second half on node B at 20,000/s;",
              " broadcast: admin Broadcasts at saturation from up to 400 senders on node A, subscribers split in "
              "halves; one node: the same connections on one node without Redis;",
              " storm: users alternate between the nodes; settled = every upgrade done and no presence for 1 s;",
              " everything server-side (both nodes and Redis, or the one node) shares CPU 0)"]
    return "\n".join(lines) + "\n"


def redis_lines(figures):
    rate = figures.median("cluster_redis_publish", "redis", "publish_per_s")
    cpu = figures.median("cluster_redis_publish", "redis", "redis_cpu_s")
    requests = figures.median("cluster_redis_publish", "redis", "requests")
    if rate is None:
        return []
    per_cpu = f", {requests / cpu:,.0f} per Redis CPU second" if cpu and requests else ""
    return [f"       Redis' ceiling, PUBLISH of 150 bytes to one of 10,000 subscribed user channels "
            f"(redis-benchmark -c 50 -P 16): {rate:,.0f}/s{per_cpu}"]


def cluster_targets(figures, users, broadcast, storm):
    title = "Targets of issue 14 (clustering; medians)"
    lines = [title, "-" * len(title)]
    for direct, what in [(f"cluster_direct_{users}", "--history off"),
                         (f"cluster_direct_redis_history_{users}", "--history redis (the default with --redis)")]:
        p99 = figures.median(direct, CLUSTER, "p99_ms")
        if p99 is None:
            continue
        delivered = figures.median(direct, CLUSTER, "delivered_per_s") or 0
        lost = figures.median(direct, CLUSTER, "lost") or 0
        refused = figures.median(direct, CLUSTER, "refused") or 0
        lines.append(f"{verdict(p99 < 10 and not lost and not refused)} cross-node direct at 20,000/s, {what}, "
                     f"p99 < 10 ms: p99 {p99:.2f} ms, p50 {figures.median(direct, CLUSTER, 'p50_ms'):.2f} ms, "
                     f"{delivered:,.0f} delivered/s, lost {lost:,.0f}, refused {refused:,.0f}")
    case = f"cluster_broadcast_{broadcast}"
    two, one = (figures.median(case, server, "deliveries_per_s") for server in (CLUSTER, SINGLE))
    if two and one:
        lines.append(f"{verdict(two >= 0.7 * one)} cross-node broadcast to {int(broadcast):,} connections split over "
                     f"two nodes >= 0.7x one node alone: {two / one:.2f}x ({two:,.0f} vs {one:,.0f} deliveries/s)")
    settled = settled_median(figures, f"cluster_storm_{storm}")
    if settled is not None:
        lines.append(f"{verdict(settled < 10)} storm of {int(storm):,} users over two nodes, --presence coalesced, "
                     f"settled under 10 s: {settled_text(settled)} (a storm that did not settle counts as the slowest)")
    lines += redis_lines(figures)
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


def cluster_sections(figures):
    """The cluster table and targets, or nothing when the run had no cluster case."""
    sizes = [sizes_of(figures.runs, f"cluster_{kind}_") for kind in ("direct", "broadcast", "storm")]
    if not all(sizes):
        return []
    users, broadcast, storm = (found[-1] for found in sizes)
    return [cluster_table(figures, users, broadcast, storm), cluster_targets(figures, users, broadcast, storm)]


def main(raw_path, machine_path, results_path):
    figures = Figures(read_raw(raw_path))
    reps = max([figures.count(case, server) for case, server in figures.runs] + [1])
    with open(machine_path) as machine:
        header = machine.read()
    sections = [f"Switchboard cluster benchmark (ONLY=cluster bench/load/run.sh)\n{header}"
                f"figures: medians of {reps} repetitions\n"] + cluster_sections(figures)
    with open(results_path, "w") as results:
        results.write("\n".join(sections))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
