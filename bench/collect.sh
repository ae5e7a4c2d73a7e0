#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: collecting a real tree (default /usr/share of this machine) with a
# warm page cache, against a pipeline that only hashes:
#   find TREE -type f -print0 | xargs -0 -P$(nproc) -n 4000 xxh128sum
# Run on demand: bash bench/collect.sh [TREE]. Prints best-of-3 times, items
# per second, and the ratio envdrift / pipeline (lower is better).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ed=${ENVDRIFT:-$here/build/envdrift}
tree=${1:-/usr/share}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ed" --db "$work/b.db" init 2>/dev/null

timeit() { # best-of-3 seconds of the shell command "$1"
	python3 - "$1" <<'PY'
import subprocess, sys, time
best = None
for _ in range(3):
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", sys.argv[1]], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t0
    best = t if best is None else min(best, t)
print(f"{best:.3f}")
PY
}

# Warm the page cache, and count what a collection stores.
find "$tree" -xdev -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true
"$ed" --db "$work/b.db" collect --env bench --path "$tree" --packages none >/dev/null 2>&1
items=$(sqlite3 "$work/b.db" "SELECT item_count FROM snapshots ORDER BY id DESC LIMIT 1")
files=$(find "$tree" -xdev -type f | wc -l)
bytes=$(du -sb --apparent-size "$tree" 2>/dev/null | cut -f1)

t_ed=$(timeit "'$ed' --db '$work/b.db' collect --env bench --path '$tree' --packages none")
t_xx=$(timeit "find '$tree' -type f -print0 | xargs -0 -P$(nproc) -n 4000 xxh128sum")
python3 - "$tree" "$items" "$files" "$bytes" "$t_ed" "$t_xx" <<'PY'
import sys
tree, items, files, size, t_ed, t_xx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
print(f"collect {tree}: {items} items ({files} regular files, {size / 2**30:.2f} GiB), warm cache, best of 3")
print(f"  envdrift collect (1 thread)       {t_ed:7.3f} s   {items / t_ed:9.0f} items/s")
print(f"  find | xargs -P xxh128sum         {t_xx:7.3f} s   ratio envdrift/pipeline {t_ed / t_xx:.2f}")
PY
