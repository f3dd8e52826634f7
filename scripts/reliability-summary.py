#!/usr/bin/env python3
"""Prints the summary table of `make test-reliability` from the results files its suites wrote.

    scripts/reliability-summary.py DIR

One row per suite (load held, faults survived, inputs tried, lost, corrupted), then each suite's notes. A suite
that wrote no file (it failed before the end, or was not run) is named as such.
"""
import json
import os
import sys

# The suites in the order of the table; each may write several results (bad-input-imports, bad-input-http...).
SUITES = ["chaos", "held-snapshot", "soak", "bad-input", "security"]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else ".ciclo/reliability"
    names = sorted(n for n in os.listdir(folder) if n.endswith(".json")) if os.path.isdir(folder) else []
    results = {}
    for name in names:
        with open(os.path.join(folder, name)) as f:
            results[name[:-5]] = json.load(f)
    header = ["suite", "load held", "faults survived", "inputs tried", "lost", "corrupted"]
    rows = []
    order = []
    for suite in SUITES:
        mine = [n for n in sorted(results) if n == suite or n.startswith(suite + "-")]
        if not mine:
            rows.append([suite.replace("-", " "), "(no result: failed early or not run)", "", "", "", ""])
        for n in mine:
            r = results[n]
            order.append(n)
            rows.append([r["suite"], r["load"], str(r["faults"]), str(r["inputs"]), str(r["lost"]),
                         str(r["corrupted"])])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    line = lambda row: "  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row))
    print()
    print("RELIABILITY SUMMARY")
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    total_lost = sum(r["lost"] for r in results.values())
    total_corrupted = sum(r["corrupted"] for r in results.values())
    print(f"total lost: {total_lost}, corrupted: {total_corrupted}")
    for n in order:
        r = results[n]
        if r["notes"]:
            print()
            print(r["suite"] + ":")
            for note in r["notes"]:
                print("  " + note)


if __name__ == "__main__":
    main()
