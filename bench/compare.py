#!/usr/bin/env python3
"""Compares a wsclosesniffer CSV report with the generator's FILE.expected.csv.

Sessions are matched by (capture_file, client ip:port, server ip:port); every column of the expected file is
compared. Prints PASS or FAIL (with the first differences) and exits 0 or 1.
usage: compare.py EXPECTED.csv [EXPECTED2.csv ...] ACTUAL.csv
"""
import csv
import ipaddress
import sys


def key(row):
    return (row["capture_file"], str(ipaddress.ip_address(row["client_ip"])), row["client_port"],
            str(ipaddress.ip_address(row["server_ip"])), row["server_port"])


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    expected = {}
    columns = None
    for path in argv[1:-1]:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = columns or reader.fieldnames
            for row in reader:
                expected[key(row)] = row
    with open(argv[-1], newline="", encoding="utf-8") as f:
        actual_rows = list(csv.DictReader(f))
    # A directory run names files relative to the directory; the generator names them by file name.
    actual = {}
    for row in actual_rows:
        row["capture_file"] = row["capture_file"].rsplit("/", 1)[-1]
        actual[key(row)] = row

    problems = []
    missing = [k for k in expected if k not in actual]
    extra = [k for k in actual if k not in expected]
    for k in missing[:5]:
        problems.append(f"missing session {k}")
    for k in extra[:5]:
        problems.append(f"unexpected session {k}")
    differing = 0
    for k, want in expected.items():
        got = actual.get(k)
        if got is None:
            continue
        diffs = [(c, want[c], got.get(c)) for c in columns if c != "capture_file"
                 and normalize(c, want[c]) != normalize(c, got.get(c))]
        if diffs:
            differing += 1
            if differing <= 10:
                problems.append(f"{k}: " + "; ".join(f"{c}: expected {w!r}, got {g!r}" for c, w, g in diffs))
    ok = not missing and not extra and differing == 0
    print(f"{'PASS' if ok else 'FAIL'}: {len(expected)} expected sessions, {len(actual)} reported, "
          f"{len(missing)} missing, {len(extra)} unexpected, {differing} with differing columns")
    for p in problems:
        print("  " + p)
    return 0 if ok else 1


def normalize(column, value):
    if value is None:
        return None
    if column.endswith("_ip") and value:
        return str(ipaddress.ip_address(value))
    return value


if __name__ == "__main__":
    sys.exit(main(sys.argv))
