#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of a store that holds a fleet's nights (issue 17), run on demand:
#   bash bench/fleet-store.sh [NIGHTS [HOSTS]]      (default 30 nights of 100 hosts)
#   CHURN=random|hot bash bench/fleet-store.sh       (default random; see below)
#
# One real collection of this machine (/etc, /usr/share/doc and the dpkg
# packages) is the template. From it, each night, a document per host is
# generated: hosts 0..HOSTS/2-1 in production, the rest in staging, all of
# role "web"; one host in 20 is a snowflake (5% of its items differ from
# the template, and it has 50 files of its own). Each night 0.5% of each
# host's items change (a new fingerprint and mtime), and stay changed:
#   CHURN=random  the items that change are drawn from all the items (the
#                 issue's reading: a host drifts further from its first
#                 night every night);
#   CHURN=hot     they are drawn from a hot set of 2% of the items, the same
#                 on every host (logs, state and generated files: what does
#                 change on a real host night after night).
# Each night's documents are dated that night (night NIGHTS is today) and
# ingested with one 'envdrift ingest'; from night 15 on, 'prune --keep-days 14'
# runs after it. prune counts days from this machine's clock, not the night's:
# the nights before NIGHTS-13 go at night 15 (but each host's latest and the
# bases in use), so the store of nights 15..NIGHTS-1 is smaller than a real
# fleet's would be that night; from night NIGHTS on it holds what a real
# fleet's store holds: the last 14 days. Printed, per night: ingest seconds, items/s, rows written,
# store size. At the end: the store's size against one night's documents
# stored in full (a store of night 1 alone, every host full, as before issue
# 17), an unchanged night (every host's last document again, new ids) ingested
# in items/s, and 'diff production staging' on the last night against the
# first (best of 3 each).
# Goals (the issue's): store after 30 nights (14 kept) < 30 MB; an unchanged
# host's document ingests at >= 1,000,000 items/s; diff on the last night
# within 1.2x of the first.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ed=${ENVDRIFT:-$here/build/envdrift}
nights=${1:-30}
hosts=${2:-100}
churn=${CHURN:-random}
work=$(mktemp -d "${TMPDIR:-/tmp}/envdrift-bench-fleet-store.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fleet-store: $nights nights of $hosts hosts, churn $churn, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

db=$work/store.db
"$ed" --db "$db" init >/dev/null 2>&1
"$ed" collect --out "$work/template.json" --key "$db.key" --env production --host template \
	--role web --path /etc --path /usr/share/doc --packages dpkg --full >/dev/null 2>"$work/collect.err" ||
	{ "$ed" collect --out "$work/template.json" --key "$db.key" --env production --host template \
		--role web --path /etc --path /usr/share/doc --packages dpkg --full 2>&1 | tail -3; exit 1; }

# gen NIGHT: writes night NIGHT's documents into $work/night/ (state kept in $work/state.json)
gen() {
	python3 - "$work" "$1" "$nights" "$hosts" "$churn" <<'PY'
import json, os, random, sys, uuid, datetime
work, night, nights, hosts, churn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
t = json.load(open(f"{work}/template.json"))
t["contents"] = []  # kept content names files by fingerprint; the bench keeps none
items = t["items"]
fps = [i for i, it in enumerate(items) if isinstance(it.get("fingerprint"), str) and len(it["fingerprint"]) == 32]
state_path = f"{work}/state.json"
state = json.load(open(state_path)) if os.path.exists(state_path) else {}
rng = random.Random(night)
hot = random.Random(0).sample(fps, max(1, len(fps) // 50))
pool = hot if churn == "hot" else fps
n_change = max(1, len(items) // 200)
day = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=nights - night, minutes=5)
os.makedirs(f"{work}/night", exist_ok=True)
for h in range(hosts):
    env = "production" if h < hosts // 2 else "staging"
    name = "web-%03d" % h
    mods = state.setdefault(name, {})
    if not mods and h % 20 == 7:  # a snowflake: 5% of its items differ from the start
        for i in random.Random(h).sample(fps, len(fps) // 20):
            mods[str(i)] = "%032x" % random.Random(h * 7919 + i).getrandbits(128)
    for i in rng.sample(pool, n_change):
        mods[str(i)] = "%032x" % rng.getrandbits(128)
    out = []
    for i, it in enumerate(items):
        m = mods.get(str(i))
        if m:
            it = dict(it, fingerprint=m)
            if "mtime_ns" in it:
                it["mtime_ns"] = int(day.timestamp()) * 10**9
        out.append(it)
    if h % 20 == 7:
        out += [{"kind": "file", "key": "/srv/%s/f%02d" % (name, k), "fingerprint": "%032x" % (h * 100 + k),
                 "ftype": "file", "mode": 420, "owner": "root", "group": "root", "size": 10,
                 "mtime_ns": 0, "ctime_ns": 0, "ino": k + 1, "dev": 1} for k in range(50)]
    d = dict(t, id=str(uuid.uuid4()), env=env, host=name, role="web", items=out,
             started_at=day.strftime("%Y-%m-%dT%H:%M:%SZ"),
             finished_at=(day + datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    with open(f"{work}/night/{name}.json", "w") as f:
        json.dump(d, f, separators=(",", ":"))
json.dump(state, open(state_path, "w"))
PY
}

secs() { python3 -c 'import time; print(time.monotonic())'; }
size_mb() { python3 -c "import os; print(f'{sum(os.path.getsize(p) for p in [\"$1\", \"$1-wal\"] if os.path.exists(p)) / 1e6:.1f}')"; }
best_diff() {
	python3 - "$ed" "$db" <<'PY'
import subprocess, sys, time
best = None
for _ in range(3):
    t = time.monotonic()
    subprocess.run([sys.argv[1], "--db", sys.argv[2], "diff", "production", "staging"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = time.monotonic() - t
    best = d if best is None or d < best else best
print(f"{best:.3f}")
PY
}
rows() { sqlite3 "$db" "SELECT count(*) FROM items"; }

printf '%-6s %9s %12s %12s %10s\n' night seconds items/s "rows added" "store MB"
diff1=
for n in $(seq 1 "$nights"); do
	gen "$n"
	items=$(python3 -c "import json,glob; print(sum(len(json.load(open(p))['items']) for p in glob.glob('$work/night/*.json')))")
	r0=$(rows)
	t0=$(secs)
	"$ed" --db "$db" ingest "$work"/night/*.json >/dev/null 2>"$work/ingest.err" || { cat "$work/ingest.err" >&2; exit 1; }
	t1=$(secs)
	r1=$(rows)
	if [ "$n" -ge 15 ]; then
		"$ed" --db "$db" prune --keep-days 14 >/dev/null 2>"$work/prune.err" || { cat "$work/prune.err" >&2; exit 1; }
	fi
	python3 -c "t=$t1-$t0; print(f'{$n:<6} {t:9.2f} {$items/t:12,.0f} {$r1-$r0:12,} {\"$(size_mb "$db")\":>10}')"
	if [ "$n" = 1 ]; then
		diff1=$(best_diff)
		# night 1 stored as before issue 17: every host in full, in a store of its own
		full=$work/full.db
		"$ed" --db "$full" init >/dev/null 2>&1
		cp "$db.key" "$full.key"
		mkdir -p "$work/alone"
		python3 - "$work" <<'PY' # a role of its own per host: nothing is shared, each is stored full
import glob, json, os, sys
for p in glob.glob(f"{sys.argv[1]}/night/*.json"):
    d = json.load(open(p))
    d["role"] = d["host"]
    json.dump(d, open(f"{sys.argv[1]}/alone/" + os.path.basename(p), "w"), separators=(",", ":"))
PY
		"$ed" --db "$full" ingest "$work"/alone/*.json >/dev/null 2>&1
		rm -rf "$work/alone"
		sqlite3 "$full" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
		fullmb=$(size_mb "$full")
		rm -f "$full" "$full"-*
	fi
done
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
total=$(size_mb "$db")
difflast=$(best_diff)

# an unchanged night: every host's last document again, with a new id and time
python3 - "$work" <<'PY'
import glob, json, uuid
for p in glob.glob(f"{__import__('sys').argv[1]}/night/*.json"):
    d = json.load(open(p))
    d["id"] = str(uuid.uuid4())
    json.dump(d, open(p, "w"), separators=(",", ":"))
PY
r0=$(rows)
t0=$(secs)
"$ed" --db "$db" ingest "$work"/night/*.json >/dev/null 2>"$work/ingest.err" || { cat "$work/ingest.err" >&2; exit 1; }
t1=$(secs)
r1=$(rows)
python3 - <<PY
total, fullmb, d1, dl = $total, $fullmb, $diff1, $difflast
t = $t1 - $t0
print(f"store after $nights nights: {total:.1f} MB (goal < 30 MB); one night stored in full: {fullmb:.1f} MB")
print(f"unchanged night: {$items} items in {t:.2f} s = {$items / t:,.0f} items/s (goal >= 1,000,000), {$r1 - $r0} rows written")
print(f"diff production staging: night 1 {d1:.3f} s, night $nights {dl:.3f} s: ratio {dl / d1:.2f} (goal <= 1.2)")
PY
