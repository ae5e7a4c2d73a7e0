#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A diff of thousands of drifted entries (issue 14): more than the merge
# settles at once (4,096 pending entries), so sides arrive over several
# settlements, and against a delta snapshot, whose unchanged items come from
# its base. Every entry must carry the sides of its own item.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
init_store "$DB"
N=12000
# Three documents: production p1; staging s1 with every 2nd item changed,
# every 7th gone and every 11th key new; s1 again with every 5th item
# changed once more (stored as a delta on the first).
python3 - "$N" "$TMP" <<'PY'
import json, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
def fp(i, night):
    return "%032x" % (i + (0 if night == 0 else n if night == 1 or i % 5 else 2 * n))
def items(night):
    out = []
    for i in range(n):
        if night and i % 7 == 3:
            continue
        key = "/srv/d%02d/f%05d%s" % (i // 1000, i, "n" if night and i % 11 == 4 else "")
        out.append({"kind": "file", "key": key,
                    "fingerprint": fp(i, night) if night == 0 or i % 2 == 0 else fp(i, 0),
                    "value": "file 0644 root:root 10", "ftype": "file", "mode": 420,
                    "owner": "root", "group": "root", "size": 10, "mtime_ns": 0, "ctime_ns": 0,
                    "ino": i + 1, "dev": 1})
    out.sort(key=lambda x: x["key"])
    return out
for night, (env, host) in enumerate((("production", "p1"), ("staging", "s1"), ("staging", "s1"))):
    doc = {"format": "envdrift.snapshot/1", "id": "00000000-0000-4000-8000-00000000000%d" % night,
           "env": env, "host": host, "started_at": "2026-01-0%dT00:00:00Z" % (night + 1),
           "collector": {"version": "test", "host": "t", "root": "/"}, "items": items(night),
           "warnings": [], "contents": [], "finished_at": "2026-01-0%dT00:00:01Z" % (night + 1)}
    with open("%s/doc%d.json" % (tmp, night), "w") as f:
        json.dump(doc, f)
PY
ed --db "$DB" ingest "$TMP/doc0.json" "$TMP/doc1.json" "$TMP/doc2.json"
exits 0 "three documents ingested"
is "$(q "$DB" "SELECT base_id FROM snapshots WHERE id = 3")" "2" "  the third is a delta on the second"

# The drift python expects: key -> (change, reference content, candidate content).
expect() {
	python3 - "$N" "$1" <<'PY'
import json, sys
n, night = int(sys.argv[1]), int(sys.argv[2])
def fp(i, nt):
    return "%032x" % (i + (0 if nt == 0 else n if nt == 1 or i % 5 else 2 * n))
want = {}
for i in range(n):
    ref = "/srv/d%02d/f%05d" % (i // 1000, i)
    cand = ref + ("n" if i % 11 == 4 else "")
    gone = i % 7 == 3
    cfp = fp(i, night) if i % 2 == 0 else fp(i, 0)
    if gone or cand != ref:
        want[ref] = ["removed", fp(i, 0), None]
    if not gone and cand != ref:
        want[cand] = ["added", None, cfp]
    if not gone and cand == ref and cfp != fp(i, 0):
        want[ref] = ["changed", fp(i, 0), cfp]
json.dump(want, sys.stdout, sort_keys=True)
PY
}
# The drift envdrift reports, in the same shape; and whether its entries run in key order.
got() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
keys = [e["key"] for e in d["drift"]]
print("ordered" if keys == sorted(keys) else "not ordered")
g = {e["key"]: [e["change"], (e.get("reference") or {}).get("content"),
                (e.get("candidate") or {}).get("content")] for e in d["drift"]}
print(json.dumps(g, sort_keys=True))'
}

# Then again with the entries written out to a spill file past 1,000 of them
# (ENVDRIFT_SPILL_AT; 16,384 by default): some in memory, some spilled, as
# the merge goes, all spilled at its end.
for spill in "" 1000; do
	export ENVDRIFT_SPILL_AT=$spill
	how=${spill:+, spilled past $spill}
	for cand in 2 3; do
		ed --db "$DB" diff @1 "@$cand" --format json
		exits 1 "diff @1 @$cand$how: drift, exit 1"
		res=$(printf '%s\n' "$OUT" | got)
		want=$(expect $((cand - 1)))
		n=$(printf '%s' "$want" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
		ok "  more entries ($n) than the merge settles at once" [ "$n" -gt 4096 ]
		is "$(printf '%s\n' "$res" | head -n 1)" "ordered" "  entries in key order (one kind, one verdict)"
		is "$(printf '%s\n' "$res" | tail -n 1)" "$want" "  every entry, with the sides of its own item"
		ed --db "$DB" diff @1 "@$cand"
		like "$OUT" "^$n differences: " "  the text report counts the same"
	done
done
unset ENVDRIFT_SPILL_AT
done_testing
