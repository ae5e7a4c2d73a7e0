#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of ingest (issue 14), run on demand: bash bench/ingest.sh
#
# Collects the bench corpus of collect.sh (a copy of /usr/share and /usr/lib
# under $BENCH_DIR, default /var/tmp/envdrift-bench, built when missing) with
# fingerprints only, exports that snapshot as a document (about 147,000 items),
# generates a 1,000,000-item document from it (the same items under eight
# prefixes, cut at a million), and prints for each document, in the same run:
#   envdrift ingest: seconds, items/s, peak memory (maximum resident set)
#     (goals: >= 300,000 items/s, < 64 MiB whatever the document's size)
#   the collector's own store path: items/s of the store during the
#     collection, from collect's closing line ("... rows written in S s")
#   the ratio of the two (ingest's rate over the store path's)
# Each ingest goes into a new store; the page cache is warm (the document is
# read once just before).
set -euo pipefail
. "$(dirname "$0")/corpus.sh"

# measure CMD...: run once, print "SECONDS MAXRSS_KB"; stderr in $dir/err.out.
measure() {
	/usr/bin/time -f '%e %M' -o "$dir/time.out" "$@" >/dev/null 2>"$dir/err.out" || {
		echo "failed: $*" >&2
		cat "$dir/err.out" >&2
		exit 1
	}
	cat "$dir/time.out"
}

db=$dir/ingest-src.db
rm -f "$db" "$db".*
"$ed" --db "$db" init 2>/dev/null
printf '[formats]\n* = none\n' >"$dir/fponly.ini"
find "$corpus" -type f -print0 | xargs -0 -P"$cores" -n 2000 cat >/dev/null 2>&1 || true
measure "$ed" --db "$db" collect --env b --host fp --profile "$dir/fponly.ini" --path "$corpus" --packages none --full >/dev/null
store_s=$(sed -n 's/.* rows written in \([0-9.]*\) s$/\1/p' "$dir/err.out" | tail -1)
items=$(sqlite3 "$db" "SELECT item_count FROM snapshots ORDER BY id DESC LIMIT 1")
id=$(sqlite3 "$db" "SELECT max(id) FROM snapshots")
"$ed" --db "$db" export "@$id" --out "$dir/ingest-146k.json" 2>/dev/null

# A million items: the document's items again under /copy1 ... /copy7, in key
# order (the order export writes), cut at 1,000,000; a new id.
python3 - "$dir/ingest-146k.json" "$dir/ingest-1m.json" <<'PY'
import json, sys, uuid
src, dst = sys.argv[1], sys.argv[2]
head, _, rest = open(src).read().partition('"items":[\n')
body, _, tail = rest.partition('\n],"warnings":')
lines = body.split(',\n')
head = head.replace(json.loads(head + '"x":0}')["id"], str(uuid.uuid4()))
with open(dst, "w") as out:
    out.write(head + '"items":[\n')
    n = 0
    for copy in range(8):
        for line in lines:
            if n == 1000000:
                break
            if copy:
                item = json.loads(line)
                if item["kind"] not in ("file", "config"):
                    continue
                item["key"] = "/copy%d%s" % (copy, item["key"])
                line = json.dumps(item, separators=(",", ":"))
            out.write((",\n" if n else "") + line)
            n += 1
    out.write('\n],"warnings":' + tail)
PY

echo "$cores cores; warm page cache; the store path: $items items written in $store_s s during the collection"
for doc in ingest-146k ingest-1m; do
	f=$dir/$doc.json
	n=$("$ed" ingest --check "$f" 2>&1 | sed -n 's/.*, \([0-9]*\) items)$/\1/p')
	rm -f "$dir/ingest.db" "$dir/ingest.db".*
	"$ed" --db "$dir/ingest.db" init 2>/dev/null
	cp "$db.key" "$dir/ingest.db.key"
	cat "$f" >/dev/null
	read -r t m < <(measure "$ed" --db "$dir/ingest.db" ingest "$f")
	python3 -c "
n, t, m, items, s = $n, $t, $m, $items, $store_s
print(f'  envdrift ingest, {n:>9,} items ({$(stat -c %s "$f") / 2**20:.0f} MiB): {t:6.2f} s, {n / t:9,.0f} items/s, {m / 1024:4.0f} MiB peak;'
      f' the store path {items / s:9,.0f} items/s, ratio {n / t / (items / s):.2f} (goals: >= 300,000 items/s, < 64 MiB)')"
done

# The floor: SQLite alone copying the last document's rows into another snapshot of the
# same store (INSERT ... SELECT: no parsing, no binding, the same rows, indexes and WAL),
# with the pragmas envdrift writes with. Ingest cannot beat this on one core.
last=$(sqlite3 "$dir/ingest.db" "SELECT max(id) FROM snapshots")
rows=$(sqlite3 "$dir/ingest.db" "SELECT count(*) FROM items WHERE snapshot_id = $last")
t=$(python3 - "$dir/ingest.db" "$last" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL"); db.execute("PRAGMA synchronous = FULL")
db.execute("INSERT INTO snapshots (env, host, started_at, status) VALUES ('floor', 'floor', '2026-01-01T00:00:00Z', 'running')")
sid = db.execute("SELECT max(id) FROM snapshots").fetchone()[0]
t = time.monotonic()
db.execute("BEGIN")
db.execute("INSERT INTO items SELECT ?, kind, key, state, fingerprint, value, ftype, mode, owner, grp, "
           "target, size, mtime_ns, ctime_ns, ino, dev, error, attrs FROM items WHERE snapshot_id = ?",
           (sid, int(sys.argv[2])))
db.execute("COMMIT")
print(f"{time.monotonic() - t:.3f}")
PY
)
python3 -c "print(f'  the floor: SQLite copying those {$rows:,} rows (INSERT ... SELECT in the store): {$t:.2f} s, {$rows / $t:,.0f} rows/s')"
