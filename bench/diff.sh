#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: envdrift diff (merge of two key-ordered cursors) against
# `LC_ALL=C comm -3` on the two sorted manifests, SQLite's FULL OUTER JOIN and
# sqldiff, on two snapshots of N items (default 1,000,000; 1% changed, 0.5%
# added, 0.5% removed). Run on demand: bash bench/diff.sh [N]. Prints, for
# every report format, its best-of-3 wall time, its ratio to the text format's
# and its peak memory; the ratios of the text format to comm and sqldiff
# measured in the same run; the core count, and the load average beside each
# figure. The store is built by the bench itself (init, ingest) the first time,
# in $BENCH_DIR. Needs build/envdrift, sqlite3 and sqldiff (Debian's
# sqlite3-tools).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ed=${ENVDRIFT:-$here/build/envdrift}
n=${1:-1000000}
# CHANGE_EVERY=2 changes every second item of the candidate (500,000 drifted
# entries of a 1M pair, for the drift's memory); the default, every 100th.
every=${CHANGE_EVERY:-100}
tag=$n
[ "$every" = 100 ] || tag=$n-c$every
work=${BENCH_DIR:-/tmp/envdrift-bench-diff}
mkdir -p "$work"
db=$work/store-$tag.db

if [ ! -f "$db" ]; then
	echo "building a store with two snapshots of $n items in $db ..."
	rm -f "$db" "$db.key"
	"$ed" --db "$db" init 2>/dev/null
	# Two snapshot documents (push mode), stored with ingest: the store holds
	# exactly what a collection would. Reference: every item. Candidate: 1%
	# changed (CHANGE_EVERY), 0.5% removed, 0.5% added.
	python3 - "$n" "$work" "$every" <<'PY'
import sys, uuid
n, work, every = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for side, env in ((1, "production"), (2, "staging")):
    with open(f"{work}/doc{side}.json", "w") as f:
        f.write('{"format":"envdrift.snapshot/1","id":"%s","env":"%s","host":"%s1",'
                '"started_at":"2026-01-01T00:00:00Z","collector":{"version":"bench","host":"b",'
                '"root":"/"},"items":[\n' % (uuid.uuid4(), env, env[0]))
        first = True
        for i in range(n):
            if side == 2 and i % 200 == 1:
                continue
            key = "/usr/share/d%04d/f%07d%s" % (i // 1000, i, "x" if side == 2 and i % 200 == 2 else "")
            fp = "%032x" % ((n + i) if side == 2 and i % every == 0 else i)
            f.write(('' if first else ',\n') +
                    '{"kind":"file","key":"%s","fingerprint":"%s","value":"file 0644 root:root 100",'
                    '"ftype":"file","mode":420,"owner":"root","group":"root","size":100,'
                    '"mtime_ns":0,"ctime_ns":0,"ino":%d,"dev":1}' % (key, fp, i + 1))
            first = False
        f.write('\n],"warnings":[],"contents":[],"finished_at":"2026-01-01T00:00:01Z"}\n')
PY
	"$ed" --db "$db" ingest "$work/doc1.json" "$work/doc2.json" >/dev/null
	rm -f "$work/doc1.json" "$work/doc2.json"
	# The same two item sets (every column a report shows) as two plain
	# databases, for sqldiff and the JOIN.
	for s in 1 2; do
		rm -f "$work/side$s-$tag.db"
		sqlite3 "$work/side$s-$tag.db" "ATTACH '$db' AS st;
			CREATE TABLE items (kind TEXT, key TEXT, fingerprint BLOB, value TEXT,
			  ftype TEXT, mode INTEGER, owner TEXT, grp TEXT, target TEXT, size INTEGER,
			  error TEXT, attrs TEXT, PRIMARY KEY (kind, key)) WITHOUT ROWID;
			INSERT INTO items SELECT kind, key, fingerprint, value, ftype, mode, owner, grp,
			  target, size, error, attrs FROM st.items WHERE snapshot_id = $s ORDER BY kind, key;"
	done
fi

best() { # best-of-3 wall time in seconds of "$@", output discarded
	python3 - "$@" <<'PY'
import subprocess, sys, time
best = min(
    (lambda t0: (subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL), time.perf_counter() - t0)[1])(
        time.perf_counter())
    for _ in range(3))
print(f"{best:.3f}")
PY
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}')" "$1" "$2"; }

"$ed" --db "$db" init 2>/dev/null # migrates a store built by an older envdrift
cat "$db" "$work"/side*-"$tag".db >/dev/null # warm the page cache
# The two manifests as sorted text (key, fingerprint, compared attributes), for comm.
for s in 1 2; do
	[ -f "$work/manifest$s-$tag.txt" ] || sqlite3 -separator ' ' "$work/side$s-$tag.db" \
		"SELECT kind, key, hex(fingerprint), ftype, mode, owner, grp, target, error FROM items ORDER BY kind, key" |
		LC_ALL=C sort >"$work/manifest$s-$tag.txt"
done
cat "$work"/manifest*-"$tag".txt >/dev/null
load() { cut -d' ' -f1 /proc/loadavg; }
peak_mib() { # peak resident memory of "$@" in MiB, output discarded
	local kb
	kb=$( (/usr/bin/time -f "%M" "$@" 2>&1 >/dev/null || true) | tail -n 1)
	echo $((kb / 1024))
}

# Every format, each best of 3, with its peak memory; the load average beside
# each figure: other work on the machine slows every row.
formats="text json sarif junit markdown html"
declare -A t_fmt mem_fmt load_fmt
for f in $formats; do
	load_fmt[$f]=$(load)
	t_fmt[$f]=$(best "$ed" --db "$db" diff @1 @2 --format "$f")
	mem_fmt[$f]=$(peak_mib "$ed" --db "$db" diff @1 @2 --format "$f")
done
t_edt=${t_fmt[text]}
l_comm=$(load)
t_comm=$(best env LC_ALL=C comm -3 "$work/manifest1-$tag.txt" "$work/manifest2-$tag.txt")
l_join=$(load)
t_join=$(best sqlite3 "$work/side1-$tag.db" "ATTACH '$work/side2-$tag.db' AS b;
	SELECT a.kind, a.key, b.kind, b.key FROM main.items AS a FULL JOIN b.items AS b
	  ON a.kind = b.kind AND a.key = b.key
	WHERE a.key IS NULL OR b.key IS NULL OR a.fingerprint IS NOT b.fingerprint
	   OR a.ftype IS NOT b.ftype OR a.mode IS NOT b.mode OR a.owner IS NOT b.owner
	   OR a.grp IS NOT b.grp OR a.target IS NOT b.target OR a.error IS NOT b.error;")
l_sqldiff=$(load)
t_sqldiff=$(best sqldiff "$work/side1-$tag.db" "$work/side2-$tag.db")
drift=$("$ed" --db "$db" diff @1 @2 --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["drift"]))' || true)

echo "diff of two snapshots of $n items, $drift drifted (best of 3, warm cache; $(nproc) cores)"
printf '  %-34s %8s   %-22s %9s  %s\n' "" "time" "ratio to text" "peak RSS" "load"
for f in $formats; do
	printf '  %-34s %6s s   %-22s %5s MiB  %s\n' "envdrift diff --format $f" "${t_fmt[$f]}" \
		"$(ratio "${t_fmt[$f]}" "$t_edt") (goal <= 1.5)" "${mem_fmt[$f]}" "${load_fmt[$f]}"
done
printf '  %-34s %6s s   envdrift text / comm = %s (goal <= 1.5)  load %s\n' \
	"LC_ALL=C comm -3 (sorted manifests)" "$t_comm" "$(ratio "$t_edt" "$t_comm")" "$l_comm"
printf '  %-34s %6s s   ratio %sx  load %s\n' "sqlite3 FULL OUTER JOIN" "$t_join" \
	"$(ratio "$t_join" "$t_edt")" "$l_join"
printf '  %-34s %6s s   ratio %sx (goal >= 3)  load %s\n' "sqldiff" "$t_sqldiff" \
	"$(ratio "$t_sqldiff" "$t_edt")" "$l_sqldiff"
echo "ratio = reference time / envdrift text time; peak RSS goals: text under 32 MiB, every format under 64 MiB"
