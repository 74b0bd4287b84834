#!/usr/bin/env python3
"""Prints the ratios of the last criterion run as a Markdown table.

Usage: python3 benches/ratios.py [criterion-dir]   (default: $CARGO_TARGET_DIR/criterion or
target/criterion). Reads each benchmark's `new/estimates.json` (mean) and `new/benchmark.json`
(throughput), and divides every contender in a group by the group's floor (`floor_memchr`,
or `memchr_scan` for the framers) and, for the response decoder, by atat.
"""

import json
import os
import sys

FLOORS = ("floor_memchr", "memchr_scan")
ATAT = "atat_ingress_1k"


def load(bench_dir):
    new = os.path.join(bench_dir, "new")
    with open(os.path.join(new, "estimates.json")) as f:
        mean_ns = json.load(f)["mean"]["point_estimate"]
    with open(os.path.join(new, "benchmark.json")) as f:
        meta = json.load(f)
    throughput = meta.get("throughput") or {}
    nbytes = throughput.get("Bytes") or throughput.get("BytesDecimal")
    return meta["group_id"], meta.get("value_str") or meta.get("function_id"), mean_ns, nbytes


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
    groups = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) == "new" and "benchmark.json" in filenames:
            group, name, mean_ns, nbytes = load(os.path.dirname(dirpath))
            groups.setdefault(group, {})[name] = (mean_ns, nbytes)
    if not groups:
        sys.exit(f"no criterion results under {root}")
    print("| group | contender | MB/s | × floor | × atat |")
    print("| --- | --- | ---: | ---: | ---: |")
    for group in sorted(groups):
        rows = groups[group]
        floor = next((rows[f] for f in FLOORS if f in rows), None)
        atat = rows.get(ATAT)

        def mbps(row):
            mean_ns, nbytes = row
            return nbytes / mean_ns * 1e3 if nbytes else None

        for name in sorted(rows, key=lambda n: (n not in FLOORS, n != ATAT, n)):
            speed = mbps(rows[name])
            if speed is None:
                print(f"| {group} | {name} | ({rows[name][0] / 1e6:.2f} ms/iter) | | |")
                continue
            x_floor = f"{speed / mbps(floor):.2f}" if floor and mbps(floor) else ""
            x_atat = f"{speed / mbps(atat):.2f}" if atat and name != ATAT else ""
            print(f"| {group} | {name} | {speed:,.0f} | {x_floor} | {x_atat} |")


if __name__ == "__main__":
    main()
