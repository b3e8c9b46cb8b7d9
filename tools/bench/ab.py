#!/usr/bin/env python3
"""A/B comparison of two chatd binaries on the standard scenario (python3, standard library;
reuses bench.py's node and load-run machinery).

  python3 tools/bench/ab.py --a build/tools/chatd --b other/chatd [--rates 5000,10000]
      [--runs 3] [--warmup 5] [--duration 20] [--wait-quiet 120] [--out FILE]
      [--proto-a native|sio] [--proto-b native|sio]

The sides may also differ by the clients' protocol: --a and --b the same binary with
--proto-a native --proto-b sio compares the native protocol with Socket.IO.

Runs are interleaved (rate by rate, A then B, the order flipped every other round) so that
load from other processes spreads over both sides; every run is on a fresh node with the
repository's caf-application.conf, after waiting (up to --wait-quiet seconds) for other
processes to use less than --quiet-pct of a core, as bench.py does. Prints one markdown table per run and a summary of node
CPU ms per 1,000 deliveries (mean and median per binary and rate).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def wait_quiet(o, label):
    """Up to o.wait_quiet seconds for three seconds in a row below o.quiet_pct busy."""
    deadline = time.monotonic() + o.wait_quiet
    quiet_s = 0
    while quiet_s < 3 and time.monotonic() < deadline:
        a = bench.system_busy_ms()
        time.sleep(1.0)
        quiet_s = quiet_s + 1 if (bench.system_busy_ms() - a) / 10.0 < o.quiet_pct else 0
    if quiet_s < 3:
        bench.log("%s: machine still busy after %d s, running anyway" % (label, o.wait_quiet))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="chatd binary A")
    ap.add_argument("--b", required=True, help="chatd binary B")
    ap.add_argument("--loadgen", default=os.path.join(bench.REPO, "build", "tools", "chat-loadgen"))
    ap.add_argument("--config", default=os.path.join(bench.REPO, "caf-application.conf"))
    ap.add_argument("--rates", default="5000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--drain", type=float, default=2)
    ap.add_argument("--wait-quiet", type=int, default=120, metavar="SECONDS")
    ap.add_argument("--quiet-pct", type=float, default=25.0)
    ap.add_argument("--out", help="also write the markdown to FILE")
    for side in ("a", "b"):
        ap.add_argument("--proto-" + side, choices=["native", "sio"], default="native",
                        help="client protocol of side %s's load generator" % side.upper())
    o = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="chat-ab-")
    bins = {}
    for side in ("a", "b"):
        bins[side] = os.path.join(workdir, "chatd-" + side)
        shutil.copy2(getattr(o, side), bins[side])
    loadgen = os.path.join(workdir, "chat-loadgen")
    shutil.copy2(o.loadgen, loadgen)
    rates = [int(r) for r in o.rates.split(",")]
    rows, per = [], {}
    try:
        for round_no in range(1, o.runs + 1):
            for rate in rates:
                order = ("a", "b") if round_no % 2 else ("b", "a")
                for side in order:
                    label = "%s-%d-r%d" % (side.upper(), rate, round_no)
                    wait_quiet(o, label)
                    node = bench.Node(bins[side], o.config, (), workdir, label)
                    try:
                        args = bench.loadgen_args(node.ws_port, bench.STD["conns"],
                                                  bench.STD["rooms"], bench.STD["senders"], rate,
                                                  o.warmup, o.duration, o.drain, 1,
                                                  proto=getattr(o, "proto_" + side))
                        run = bench.LoadRun(loadgen, args, node, warmup=o.warmup,
                                            duration=o.duration)
                    finally:
                        node.stop()
                    r, w = run.result or {}, run.window() or {}
                    row = (label, rate, w.get("cpu_ms_per_1k"), w.get("node_cpu_pct"),
                           (r.get("latency_ms") or {}).get("p99"), r.get("delivered_ratio"),
                           w.get("other_cpu_pct"))
                    rows.append(row)
                    if row[2] is not None:
                        per.setdefault((side, rate), []).append(row[2])
                    bench.log("%s: %s" % (label, row))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def f(x, fmt):
        return "-" if x is None else fmt % x

    out = ["| run | msg/s | node CPU ms / 1k deliveries | node CPU % | p99 ms | delivered ratio "
           "| other CPU % |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, rate, cpu, pct, p99, ratio, other in rows:
        out.append("| %s | %d | %s | %s | %s | %s | %s |" % (
            label, rate, f(cpu, "%.2f"), f(pct, "%.0f"), f(p99, "%.2f"), f(ratio, "%.5f"),
            f(other, "%.0f")))
    out += ["", "| binary | msg/s | runs | CPU ms / 1k: mean | median | min | max |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for rate in rates:
        for side in ("a", "b"):
            v = per.get((side, rate), [])
            if v:
                out.append("| %s (%s) | %d | %d | %.2f | %.2f | %.2f | %.2f |" % (
                    side.upper(), getattr(o, "proto_" + side), rate, len(v), statistics.mean(v), statistics.median(v),
                    min(v), max(v)))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if o.out:
        with open(o.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
