#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts meson test results and prints the closing line CI reads.

usage: count-tests.py [--label WORD] LOGFILE...

Each LOGFILE is a meson-logs/testlog.json: one JSON object per line with "name"
and "result". OK and EXPECTEDFAIL pass; SKIP is counted apart; FAIL, TIMEOUT,
ERROR, UNEXPECTEDPASS (and anything unknown) fail. A missing or unreadable log,
a line that is not a test record, or a log with no test in it counts as one
failure, with a message on stderr. Prints "N passed, N failed" (", N skipped"
when some were skipped) and exits 1 when anything failed.
"""

import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def count(path, totals):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        print(f"count-tests: {path}: {e.strerror}: no test results (did the build fail?)",
              file=sys.stderr)
        totals["failed"] += 1
        return
    seen = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            name, result = rec["name"], rec["result"]
        except (ValueError, KeyError, TypeError):
            print(f"count-tests: {path}:{lineno}: not a meson test record", file=sys.stderr)
            totals["failed"] += 1
            continue
        seen += 1
        if result in PASS:
            totals["passed"] += 1
        elif result in SKIP:
            totals["skipped"] += 1
        else:
            totals["failed"] += 1
            print(f"count-tests: {path}: {name}: {result}", file=sys.stderr)
    if seen == 0:
        print(f"count-tests: {path}: no test ran", file=sys.stderr)
        totals["failed"] += 1


def main(argv):
    label = ""
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--label":
        label = args[1].rstrip(":") + ": "
        args = args[2:]
    if not args or args[0].startswith("-"):
        print("usage: count-tests.py [--label WORD] LOGFILE...", file=sys.stderr)
        return 2
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for path in args:
        count(path, totals)
    line = f"{label}{totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    sys.stdout.flush()
    print(line, flush=True)
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
