# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
"""Turns the raw lines of bench/load/run.sh into the side-by-side tables (medians of the
repetitions, ratios switchboard/baseline), a verdict per target of issues 4, 12, 13 and 16, and the data
file of the latency plot.

usage: report.py RAW MACHINE RESULTS_TXT LATENCY_DAT   (standard library only)
"""

import statistics
import sys
from collections import defaultdict

SERVERS = ["switchboard", "websocketpp", "websocketpp-frame-once", "node-ws"]
BASELINES = SERVERS[1:]
HEADERS = ["switchboard", "websocketpp", "wspp-frame-once", "node-ws", "sb/wspp", "sb/wspp-fo", "sb/node"]


def read_raw(path):
    """{(case, server): [ {key: value}, ... one per repetition ]}"""
    runs = defaultdict(list)
    with open(path) as raw:
        for line in raw:
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            if "case" in fields and "server" in fields:
                runs[(fields["case"], fields["server"])].append(fields)
    return runs


class Figures:
    def __init__(self, runs):
        self.runs = runs
        self.storm_timeout = 60.0

    def values(self, case, server, key):
        found = []
        for run in self.runs.get((case, server), []):
            try:
                found.append(float(run[key]))
            except (KeyError, ValueError):
                pass
        return found

    def median(self, case, server, key):
        values = self.values(case, server, key)
        return statistics.median(values) if values else None

    def count(self, case, server):
        return len(self.runs.get((case, server), []))


def number(value, decimals=0):
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def ratio(ours, theirs):
    if ours is None or theirs is None or theirs == 0:
        return "-"
    return f"{ours / theirs:.2f}x"


def table(title, rows, notes=()):
    """rows: (label, [value per server as text], [ratio texts])"""
    width = max([len(row[0]) for row in rows] + [30])
    lines = [title, "-" * len(title)]
    lines.append(f"{'':<{width}}  " + "  ".join(f"{h:>15}" for h in HEADERS))
    for label, cells, ratios in rows:
        lines.append(f"{label:<{width}}  " + "  ".join(f"{c:>15}" for c in cells + ratios))
    lines.extend(notes)
    return "\n".join(lines) + "\n"


def metric_row(figures, label, case, key, decimals=0, servers=SERVERS):
    medians = {s: figures.median(case, s, key) if s in servers else None for s in SERVERS}
    cells = [number(medians[s], decimals) if s in servers else "n/a" for s in SERVERS]
    ratios = [ratio(medians["switchboard"], medians[b]) for b in BASELINES]
    return label, cells, ratios


def storm_cell(figures, case, server):
    settled = figures.median(case, server, "settled_s")
    timeout = figures.median(case, server, "timeout_s")
    if settled is None:
        return None, "-" if timeout is None else "-"
    if settled < 0:
        return float("inf"), f"> {timeout:.0f} s"
    return settled, f"{settled:.2f} s"


def storm_ratio(ours, theirs, timeout):
    """Ratio of two settle times, where infinity stands for "gave up after `timeout`"."""
    if ours is None or theirs is None:
        return "-"
    if theirs == float("inf") and ours == float("inf"):
        return "both >"
    if theirs == float("inf"):
        return "< " + ratio(ours, timeout)
    if ours == float("inf"):
        return "> " + ratio(timeout, theirs)
    return ratio(ours, theirs)


def idle_table(figures):
    steps = ["1000", "5000", "10000", "19000"]
    present = [s for s in steps if figures.median("idle", "switchboard", f"bytes_per_conn_{s}") is not None]
    if not present:
        present = sorted({k.split("_")[-1] for run in figures.runs.get(("idle", "switchboard"), [])
                          for k in run if k.startswith("bytes_per_conn_")}, key=int)
    servers = ["switchboard", "websocketpp", "node-ws"]
    rows = []
    for previous, size in zip(["0"] + present, present):
        rows.append(metric_row(figures, f"bytes/connection at {int(size):,}", "idle", f"bytes_per_conn_{size}",
                               servers=servers))
        rows.append(metric_row(figures, f"  each added from {int(previous):,}", "idle", f"step_bytes_per_conn_{size}",
                               servers=servers))
    rows.append(metric_row(figures, "slope, bytes/connection", "idle", "slope_bytes_per_conn", servers=servers))
    rows.append(metric_row(figures, f"server RSS KiB at {int(present[-1]):,}" if present else "server RSS",
                           "idle", f"rss_kib_{present[-1]}" if present else "-", servers=servers))
    projected = {}
    for server in servers:
        base = figures.median("idle", server, "rss_base_kib")
        slope = figures.median("idle", server, "slope_bytes_per_conn")
        projected[server] = None if base is None or slope is None else (base * 1024 + slope * 100_000) / 2**20
    cells = [number(projected.get(s), 0) if s in servers else "n/a" for s in SERVERS]
    rows.append(("projected MiB for 100,000 (base + slope)", cells,
                 [ratio(projected["switchboard"], projected.get(b)) for b in BASELINES]))
    return table("Idle connections: server memory (switchboard --presence scoped, baselines without presence)", rows,
                 ["(after a warm-up of 10 connections; wspp-frame-once is the same program as websocketpp here: not run)"])


def saturation_table(figures, sizes):
    rows = []
    for size in sizes:
        case = f"saturation_{size}"
        rows.append(metric_row(figures, f"deliveries/s, {int(size):,} subscribers", case, "deliveries_per_s"))
        rows.append(metric_row(figures, "  p50 ms", case, "p50_ms", 1))
        rows.append(metric_row(figures, "  p99 ms", case, "p99_ms", 1))
        rows.append(metric_row(figures, "  p99.9 ms", case, "p999_ms", 1))
        rows.append(metric_row(figures, "  undelivered after 5 s of drain", case, "lost"))
        rows.extend(cost_rows(figures, case))
    return table("Fan-out at saturation, many senders (admin Broadcast to every subscriber from up to 400 "
                 "senders; at most 32 broadcasts outstanding)",
                 rows, ["(latency here is mostly queueing behind the 32 outstanding broadcasts)"]
                 + nagle_notes(figures, sizes))


def cost_rows(figures, case):
    """What a fan-out case cost the server: system calls (perf) and CPU."""
    return [metric_row(figures, "  deliveries per server CPU second", case, "deliveries_per_cpu_s"),
            metric_row(figures, "  deliveries per send call", case, "deliveries_per_send", 1),
            metric_row(figures, "  client messages per receive call", case, "messages_per_recv", 2),
            metric_row(figures, "  server CPU (cores)", case, "server_cpu", 2),
            metric_row(figures, "  load generator CPU (cores)", case, "client_cpu", 2),
            metric_row(figures, "  other processes' CPU (cores)", case, "others_cpu", 2)]


def publish_cases(runs):
    """{(via, window, subscribers)} of the one-publisher cases: publish_<via>_<window>_<subscribers>."""
    cases = set()
    for case, _ in runs:
        parts = case.split("_")
        if len(parts) == 4 and parts[0] == "publish" and parts[2].isdigit() and parts[3].isdigit():
            cases.add((parts[1], int(parts[2]), int(parts[3])))
    return sorted(cases, key=lambda c: (c[0] != "ws", c[2], c[1]))


def publish_case(via, window, size):
    return f"publish_{via}_{window}_{size}"


def publish_table(figures, cases):
    rows = []
    for via, window, size in cases:
        case = publish_case(via, window, size)
        way = "WebSocket" if via == "ws" else "POST /api/publish"
        rows.append(metric_row(figures, f"deliveries/s, {way}, K={window}, {size:,} subscribers", case,
                               "deliveries_per_s"))
        rows.append(metric_row(figures, "  p99 ms", case, "p99_ms", 1))
        rows.append(metric_row(figures, "  undelivered after 5 s of drain", case, "lost"))
        rows.extend(cost_rows(figures, case))
    return table("Fan-out at saturation, one publisher (K broadcasts outstanding, each done when its copy reached "
                 "connection 0: the publisher itself over WebSocket, a subscriber over HTTP; no rate cap)", rows,
                 ["(over HTTP each request takes a connection of its own: websocketpp, under switchboard and both "
                  "websocketpp baselines, closes every HTTP connection after its response; the baselines' "
                  "POST /api/publish serves the broadcast form only)",
                  "(receive calls over HTTP include the accepts' first reads; send calls include the responses)"])


def nagle_notes(figures, sizes):
    """Each side with the other's socket settings: Switchboard with Nagle's algorithm (--tcp-nodelay off),
    as the websocketpp baselines run, and the frame-once baseline with TCP_NODELAY, as Switchboard runs."""
    variants = [("switchboard-nagle", "switchboard --tcp-nodelay off (Nagle, as the websocketpp baselines)",
                 ["switchboard"] + BASELINES),
                ("websocketpp-frame-once-nodelay", "wspp-frame-once --tcp-nodelay (as switchboard)",
                 ["websocketpp-frame-once"])]
    notes = []
    for size in sizes:
        case = f"saturation_{size}"
        for server, label, others in variants:
            figure = figures.median(case, server, "deliveries_per_s")
            if figure is None:
                continue
            ratios = ", ".join(f"{ratio(figure, figures.median(case, b, 'deliveries_per_s'))} {b}" for b in others)
            ours = figures.median(case, "switchboard", "deliveries_per_s")
            same_settings = "" if server == "switchboard-nagle" else f"; switchboard / it = {ratio(ours, figure)}"
            notes.append(f"{label}, {int(size):,} subscribers: {number(figure)} deliveries/s = {ratios}{same_settings}")
    return notes


def rate_table(figures, sizes):
    rows = []
    large = sizes[-1]
    case = f"rate_{large}"
    rows.append(metric_row(figures, f"offered deliveries/s ({int(large):,} x 20/s)", case, "offered_per_s"))
    rows.append(metric_row(figures, "delivered/s while sending", case, "deliveries_per_s"))
    rows.append(metric_row(figures, "behind when sending stopped", case, "behind_at_end"))
    rows.append(metric_row(figures, "p50 ms", case, "p50_ms", 1))
    rows.append(metric_row(figures, "p99 ms", case, "p99_ms", 1))
    rows.append(metric_row(figures, "p99.9 ms", case, "p999_ms", 1))
    rows.append(metric_row(figures, "undelivered after 10 s of drain", case, "lost"))
    rows.append(metric_row(figures, "server CPU (cores)", case, "server_cpu", 2))
    rows.append(metric_row(figures, "other processes' CPU (cores)", case, "others_cpu", 2))
    for size in sizes[:-1]:
        rows.append(metric_row(figures, f"p50 / p99 ms at {int(size):,} subscribers: p50", f"rate_{size}", "p50_ms", 1))
        rows.append(metric_row(figures, "  p99", f"rate_{size}", "p99_ms", 1))
    return table("Fan-out at a fixed rate: 20 broadcasts/s", rows)


def direct_table(figures):
    servers = ["switchboard", "websocketpp", "node-ws"]
    rows = [metric_row(figures, label, "direct", key, decimals, servers=servers) for label, key, decimals in [
        ("offered messages/s", "offered_per_s", 0), ("delivered/s", "delivered_per_s", 0), ("p50 ms", "p50_ms", 2),
        ("p99 ms", "p99_ms", 2), ("p99.9 ms", "p999_ms", 2), ("lost", "lost", 0), ("server CPU (cores)", "server_cpu", 2),
        ("other processes' CPU (cores)", "others_cpu", 2)]]
    return table("Direct messages: SendMessage between random users (2,000 users, 20,000/s)", rows,
                 ["(wspp-frame-once sends direct messages exactly like websocketpp: not run)"])


def storm_table(figures, sizes):
    rows = []
    for presence in ["all", "coalesced", "scoped"]:
        for size in sizes:
            case = f"storm_{presence}_{size}"
            cells, values = [], {}
            for server in SERVERS:
                source_case = f"storm_all_{size}" if server != "switchboard" else case
                values[server], text = storm_cell(figures, source_case, server)
                cells.append(text)
            ratios = [storm_ratio(values["switchboard"], values[b], figures.storm_timeout) for b in BASELINES]
            rows.append((f"{int(size):,} users, switchboard --presence {presence}", cells, ratios))
    return table("Connect storm: N users at once, time until all upgraded and presence went quiet for 1 s", rows,
                 ["(baselines have global presence only: their column repeats their 'all' figure on every row)"])


def targets(figures, fan_sizes):
    lines = ["Targets of issue 4", "------------------"]
    small = f"saturation_{fan_sizes[0]}"
    ours = figures.median(small, "switchboard", "deliveries_per_s")
    for baseline, wanted in [("websocketpp", 2.0), ("websocketpp-frame-once", 0.9), ("node-ws", 8.0)]:
        theirs = figures.median(small, baseline, "deliveries_per_s")
        if ours and theirs:
            lines.append(f"{verdict(ours / theirs >= wanted)} fan-out saturation ({int(fan_sizes[0]):,} subscribers) "
                         f">= {wanted}x {baseline}: {ours / theirs:.2f}x ({ours:,.0f} vs {theirs:,.0f} deliveries/s)")
    large = f"rate_{fan_sizes[-1]}"
    offered = figures.median(large, "switchboard", "offered_per_s")
    delivered = figures.median(large, "switchboard", "deliveries_per_s")
    p99 = figures.median(large, "switchboard", "p99_ms")
    lost = figures.median(large, "switchboard", "lost")
    if offered and delivered is not None and p99 is not None:
        ok = delivered >= 0.97 * offered and p99 < 300 and not lost
        lines.append(f"{verdict(ok)} {int(fan_sizes[-1]):,} subscribers x 20/s: keep up with p99 < 300 ms: "
                     f"{delivered:,.0f} of {offered:,.0f} deliveries/s, p99 {p99:.1f} ms, lost {lost:,.0f}")
    p99 = figures.median("direct", "switchboard", "p99_ms")
    delivered = figures.median("direct", "switchboard", "delivered_per_s")
    if p99 is not None:
        lines.append(f"{verdict(p99 < 10)} direct 20k/s among 2,000 users, p99 < 10 ms: p99 {p99:.2f} ms, "
                     f"{delivered:,.0f} delivered/s")
    per_connection = [figures.median("idle", "switchboard", f"bytes_per_conn_{s}") for s in ["1000", "5000", "10000", "19000"]]
    per_connection = [v for v in per_connection if v is not None]
    slope = figures.median("idle", "switchboard", "slope_bytes_per_conn")
    if per_connection and slope is not None:
        flat = max(per_connection) <= 1.25 * min(per_connection)
        ok = max(per_connection) < 6144 and slope < 6144 and flat
        lines.append(f"{verdict(ok)} idle < 6 KiB/connection, flat 1,000..19,000: "
                     + ", ".join(f"{v:,.0f}" for v in per_connection) + f" bytes; slope {slope:,.0f} bytes")
    for presence in ["coalesced", "scoped"]:
        settled, text = storm_cell(figures, f"storm_{presence}_{fan_sizes[-1]}", "switchboard")
        if settled is not None:
            lines.append(f"{verdict(settled <= 10)} storm of {int(fan_sizes[-1]):,} users settled within 10 s "
                         f"(--presence {presence}): {text}")
    return "\n".join(lines) + "\n"


def verdict(ok):
    return "MET   " if ok else "MISSED"


def targets_issue_12(figures, fan_sizes, cases):
    """Both fan-out shapes, at every subscriber count: >= 1.5x the frame-once baseline and >= 3x plain
    websocketpp, medians of this run."""
    title = ("Targets of issue 12 (fan-out: >= 1.5x websocketpp frame-once and >= 3x plain websocketpp, medians; "
             "idle memory in every presence mode)")
    lines = [title, "-" * len(title)]
    shapes = [(f"saturation_{size}", f"many senders, {int(size):,} subscribers") for size in fan_sizes]
    shapes += [(publish_case(via, window, size),
                f"one publisher {'over WebSocket' if via == 'ws' else 'over HTTP'}, K={window}, {size:,} subscribers")
               for via, window, size in cases]
    for case, label in shapes:
        ours = figures.median(case, "switchboard", "deliveries_per_s")
        once = figures.median(case, "websocketpp-frame-once", "deliveries_per_s")
        plain = figures.median(case, "websocketpp", "deliveries_per_s")
        if not ours or not once or not plain:
            continue
        ok = ours >= 1.5 * once and ours >= 3 * plain
        lines.append(f"{verdict(ok)} {label}: {ours / once:.2f}x frame-once, {ours / plain:.2f}x plain "
                     f"({ours:,.0f} vs {once:,.0f} and {plain:,.0f} deliveries/s)")
    lines += presence_memory_target(figures)
    return "\n".join(lines) + "\n"


PRESENCE_MODES = ["scoped", "coalesced", "all"]


def presence_memory_case(presence, storm):
    """The idle case of one presence mode; run.sh's plain idle case is switchboard's scoped one."""
    if storm:
        return f"idle_storm_{presence}"
    return "idle" if presence == "scoped" else f"idle_{presence}"


def presence_memory_sizes(figures):
    """The steps of the storm cases, which run.sh runs in every mode with the same steps."""
    keys = {k for presence in PRESENCE_MODES
            for run in figures.runs.get((presence_memory_case(presence, True), "switchboard"), []) for k in run}
    return sorted({k.split("_")[-1] for k in keys if k.startswith("bytes_per_conn_")}, key=int)


MEMORY_TARGET = 6144


def memory_cell(value):
    """Bytes per connection with the 6 KiB target's verdict beside it."""
    return "-" if value is None else f"{number(value)} {'ok' if value < MEMORY_TARGET else 'OVER'}"


def presence_memory_table(figures):
    """switchboard's bytes per idle connection in each presence mode, quiet and after a storm."""
    sizes = presence_memory_sizes(figures)
    if not sizes:
        return ""
    title = "Idle connections in every presence mode: switchboard's bytes/connection (one I/O thread)"
    columns = [f"{mode}{' storm' if storm else ''}" for mode in PRESENCE_MODES for storm in (False, True)]
    lines = [title, "-" * len(title), f"{'':<32}" + "".join(f"{c:>17}" for c in columns)]
    for size in sizes:
        cells = [memory_cell(figures.median(presence_memory_case(mode, storm), "switchboard", f"bytes_per_conn_{size}"))
                 for mode in PRESENCE_MODES for storm in (False, True)]
        lines.append(f"{f'at {int(size):,} connections':<32}" + "".join(f"{c:>17}" for c in cells))
    lines.append(f"(target: under 6 KiB = {MEMORY_TARGET:,} bytes a connection, ok / OVER beside each figure; storm: "
                 "each step's new connections connect at once, loadgen --workload idle-after-storm)")
    return "\n".join(lines) + "\n"


def presence_memory_target(figures):
    """Issue 12: every presence mode under 6 KiB per connection, idle and after a connect storm."""
    sizes = presence_memory_sizes(figures)
    if not sizes:
        return []
    size = sizes[-1]
    figures_by_case = {(mode, storm): figures.median(presence_memory_case(mode, storm), "switchboard",
                                                     f"bytes_per_conn_{size}")
                       for mode in PRESENCE_MODES for storm in (False, True)}
    measured = {case: value for case, value in figures_by_case.items() if value is not None}
    if not measured:
        return []
    ok = len(measured) == len(figures_by_case) and max(measured.values()) < MEMORY_TARGET
    cells = ", ".join(f"{mode} {number(figures_by_case[(mode, False)])} / {number(figures_by_case[(mode, True)])}"
                      for mode in PRESENCE_MODES)
    return [f"{verdict(ok)} every presence mode < 6 KiB/connection at {int(size):,}, idle / after a connect storm: "
            f"{cells} bytes"]


def history_targets(figures):
    lines = ["Targets of issue 13 (switchboard runs with its default --history memory)",
             "-----------------------------------------------------------------------"]
    p99 = figures.median("direct", "switchboard", "p99_ms")
    without = figures.median("direct", "switchboard-no-history", "p99_ms")
    if p99 is not None:
        compared = f" (--history off: {without:.2f} ms)" if without is not None else ""
        lines.append(f"{verdict(p99 < 10)} direct 20k/s with history, p99 < 10 ms: "
                     f"p99 {p99:.2f} ms{compared}")
    resume = figures.median("resume", "switchboard", "resume_ms_median")
    if resume is not None:
        worst = figures.median("resume", "switchboard", "resume_ms_max")
        lines.append(f"       resume of 1,000 missed messages, reconnect to the last one: median {resume:.1f} ms, "
                     f"slowest of its rounds {worst:.1f} ms")
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


DEFLATE_CASES = [("deflate_plain_1k", "plain clients"), ("deflate_1k", "permessage-deflate clients")]


def deflate_target(figures):
    """Issue 16: 1 KiB JSON broadcasts to 1,000 clients that negotiated permessage-deflate at >= 0.8x
    the deliveries/s of as many plain clients of the same server, with the bytes on the wire."""
    medians = {case: {key: figures.median(case, "switchboard", key)
                      for key in ["deliveries_per_s", "wire_bytes_per_delivery", "deliveries_per_cpu_s"]}
               for case, _ in DEFLATE_CASES}
    plain, deflate = (medians[case] for case, _ in DEFLATE_CASES)
    if not plain["deliveries_per_s"] or not deflate["deliveries_per_s"]:
        return ""
    title = ("Target of issue 16 (permessage-deflate at fan-out saturation: 1 KiB JSON broadcasts, 1,000 "
             f"clients, medians of {figures.count('deflate_1k', 'switchboard')})")
    lines = [title, "-" * len(title)]
    for case, label in DEFLATE_CASES:
        figure = medians[case]
        lines.append(f"       {label:<27} {number(figure['deliveries_per_s']):>11} deliveries/s, "
                     f"{number(figure['wire_bytes_per_delivery']):>6} bytes on the wire per delivery, "
                     f"{number(figure['deliveries_per_cpu_s']):>11} deliveries per server CPU second")
    bytes_ratio = ratio(deflate["wire_bytes_per_delivery"], plain["wire_bytes_per_delivery"])
    rate_ratio = deflate["deliveries_per_s"] / plain["deliveries_per_s"]
    agreed = figures.median("deflate_1k", "switchboard", "deflate_agreed") or 0
    compressed = figures.median("deflate_1k", "switchboard", "compressed") or 0
    received = figures.median("deflate_1k", "switchboard", "received") or 0
    ok = rate_ratio >= 0.8 and agreed == 1000 and compressed == received
    lines.append(f"{verdict(ok)} deflate clients >= 0.8x plain clients: {rate_ratio:.2f}x deliveries/s "
                 f"({ratio(deflate['deliveries_per_cpu_s'], plain['deliveries_per_cpu_s'])} per server CPU second), "
                 f"{bytes_ratio} the bytes on the wire; {agreed:,.0f} of 1,000 negotiated, {compressed:,.0f} of "
                 f"{received:,.0f} messages received compressed")
    lines.append("(bytes on the wire: the WebSocket bytes the clients read, frame headers and payloads; the deflate "
                 "clients inflate one message in 16, counted by its event type as the plain ones are)")
    return "\n".join(lines) + "\n"


def latency_data(figures, sizes):
    lines = ["# subscribers " + " ".join(f"{s}_p50 {s}_p99" for s in SERVERS)]
    for size in sizes:
        cells = []
        for server in SERVERS:
            for key in ["p50_ms", "p99_ms"]:
                value = figures.median(f"rate_{size}", server, key)
                cells.append("NaN" if value is None else f"{value:.3f}")
        lines.append(f"{size} " + " ".join(cells))
    return "\n".join(lines) + "\n"


def sizes_of(runs, prefix):
    return sorted({case[len(prefix):] for case, _ in runs if case.startswith(prefix) and case[len(prefix):].isdigit()},
                  key=int)


def main(raw_path, machine_path, results_path, latency_path):
    from cluster_report import cluster_sections  # it imports this module's helpers
    runs = read_raw(raw_path)
    figures = Figures(runs)
    timeouts = [v for (case, server) in runs for v in figures.values(case, server, "timeout_s")]
    figures.storm_timeout = max(timeouts) if timeouts else 60.0
    reps = max([figures.count(f"rate_{s}", "switchboard") for s in sizes_of(runs, "rate_")]
               + [figures.count("deflate_1k", "switchboard"), 1])
    fan_sizes = sizes_of(runs, "saturation_")
    cases = publish_cases(runs)
    rate_sizes = sizes_of(runs, "rate_")
    storm_sizes = sorted({case.split("_")[-1] for case, _ in runs if case.startswith("storm_")}, key=int)
    with open(machine_path) as machine:
        header = machine.read()
    others = [v for (case, server) in runs for v in figures.values(case, server, "others_cpu")]
    if others and statistics.median(others) > 0.25:
        header += (f"WARNING: other processes used {statistics.median(others):.2f} cores (median over the measured "
                   "cases) while this ran: every server got less than its core, so absolute figures are low; "
                   "ratios within this run suffer less\n")
    sections = [
        "Switchboard side-by-side WebSocket benchmark (bench/load/run.sh; make bench)\n" + header
        + f"figures: medians of {reps} repetitions for both fan-out shapes and direct, one run for idle, storms "
          "and the smaller fixed-rate sizes\nratios: switchboard / baseline (above 1 is better for rates, below 1 "
          "for latencies, memory and times)\n",
        saturation_table(figures, fan_sizes) if fan_sizes else "",
        publish_table(figures, cases) if cases else "",
        rate_table(figures, rate_sizes) if rate_sizes else "",
        direct_table(figures),
        idle_table(figures),
        presence_memory_table(figures),
        storm_table(figures, storm_sizes) if storm_sizes else "",
        targets(figures, fan_sizes or ["1000"]),
        targets_issue_12(figures, fan_sizes, cases),
        history_targets(figures),
        deflate_target(figures),
    ] + cluster_sections(figures)
    with open(results_path, "w") as results:
        results.write("\n".join(s for s in sections if s))
    with open(latency_path, "w") as latency:
        latency.write(latency_data(figures, rate_sizes))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
