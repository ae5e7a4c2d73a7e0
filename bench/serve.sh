#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: envdrift serve (issue 13). Run on demand:
#   bash bench/serve.sh [HOSTS [ITEMS]]     (default 200 pushed documents of 20,000 items)
# Prints, each measured in this run:
#   - idle RSS of the server, and its peak RSS after everything below;
#   - wrk -t2 -c64 -d10s against the overview (/, when the build serves it),
#     /api/v1/envs and /api/v1/health: requests/s and p99;
#   - /api/v1/diff?format=json of a 10,000-item pair, one request at a time,
#     against the CLI's `diff --format json` of the same pair (best of 5 each): the ratio;
#   - push throughput: HOSTS documents of ITEMS items (different hosts), 10 agents
#     pushing at once with curl: items stored per second, end to end; then the
#     same hosts' next nights: 0.5% of items changed (deltas), and unchanged.
# Goals (the issue's): overview >= 2,000 req/s with p99 < 50 ms; API diff within 1.3x of
# the CLI; push >= 250,000 items/s with server RSS < 128 MiB; idle RSS < 16 MiB.
# Needs build/envdrift, curl, python3, and wrk (installed with apt-get when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ed=${ENVDRIFT:-$here/build/envdrift}
hosts=${1:-200}
items=${2:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/envdrift-bench-serve.XXXXXX")
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
	echo "bench: installing wrk (apt-get)"
	apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "bench: wrk is not installed and cannot be" >&2; exit 2; }
fi

# Documents: a 10,000-item production/staging pair for the diff, then the pushed fleet.
python3 - "$work" "$hosts" "$items" <<'PY'
import os, sys, uuid
work, hosts, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def doc(path, env, host, n, salt):
    with open(path, "w") as f:
        f.write('{"format":"envdrift.snapshot/1","id":"%s","env":"%s","host":"%s",'
                '"started_at":"2026-01-01T00:00:00Z","collector":{"version":"bench","host":"b",'
                '"root":"/"},"items":[\n' % (uuid.uuid4(), env, host))
        for i in range(n):
            fp = "%032x" % ((i + salt) if i % 100 == 0 else i)
            f.write(('' if i == 0 else ',\n') +
                    '{"kind":"file","key":"/etc/d%03d/f%06d.conf","fingerprint":"%s",'
                    '"ftype":"file","mode":420,"owner":"root","group":"root","size":100,'
                    '"mtime_ns":0,"ctime_ns":0,"ino":%d,"dev":1}' % (i // 1000, i, fp, i + 1))
        f.write('\n],"warnings":[],"contents":[],"finished_at":"2026-01-01T00:00:01Z"}\n')
doc(f"{work}/prod.json", "production", "web-1", 10000, 0)
doc(f"{work}/stage.json", "staging", "web-s1", 10000, 7)
os.makedirs(f"{work}/fleet")
for h in range(hosts):
    doc(f"{work}/fleet/h{h:04d}.json", "fleet", "host-%04d" % h, items, h)
PY
db=$work/store.db
"$ed" --db "$db" init >/dev/null 2>&1
"$ed" --db "$db" ingest "$work/prod.json" "$work/stage.json" >/dev/null 2>&1
token=$("$ed" --db "$db" token add bench-agent --role push 2>/dev/null | tail -1)
printf '%s\n' "$token" >"$work/token"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ed" --db "$db" serve --listen "127.0.0.1:$port" --max-body 1G 2>"$work/serve.log" &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.05; done
# Idle: once the verdict worker has computed the pair's verdict, which it does at start.
for _ in $(seq 200); do
	curl -s "http://127.0.0.1:$port/metrics" | grep -q '^envdrift_verdicts_computed_total{by="worker"} [1-9]' && break
	sleep 0.05
done
# Idle means no request for a while: the worker gives freed memory back after a quiet second.
sleep 2.5
rss() { awk -v k="$2" '$1 == k":" { printf "%.1f MiB", $2 / 1024 }' "/proc/$1/status"; }
echo "serve: idle RSS $(rss "$server" VmRSS) (goal < 16 MiB; after the worker's first verdict and 2.5 s without a request, peak so far $(rss "$server" VmHWM))"

u=http://127.0.0.1:$port
for path in / /api/v1/envs /api/v1/health; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$u$path")
	if [ "$code" != 200 ]; then
		echo "wrk $path: skipped (HTTP $code in this build)"
		continue
	fi
	out=$(wrk -t2 -c64 -d10s --latency "$u$path" 2>&1)
	rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ { print $2 }')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" { print $2 }')
	echo "wrk -t2 -c64 -d10s $path: $rps req/s, p99 $p99"
done

best() { # best-of-5 wall seconds of "$@"
	python3 - "$@" <<'PY'
import subprocess, sys, time
best = None
for _ in range(5):
    t = time.monotonic()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = time.monotonic() - t
    best = d if best is None or d < best else best
print(f"{best:.4f}")
PY
}
cli=$(best "$ed" --db "$db" diff production staging --format json)
api=$(best curl -s -o /dev/null "$u/api/v1/diff?ref=production&cand=staging&format=json")
cmp <("$ed" --db "$db" diff production staging --format json 2>/dev/null) \
	<(curl -s "$u/api/v1/diff?ref=production&cand=staging&format=json") >/dev/null &&
	same="same bytes" || same="DIFFERENT bytes"
echo "diff of a 10,000-item pair: CLI ${cli}s, API ${api}s: ratio $(python3 -c "print(f'{$api/$cli:.2f}')") (goal <= 1.3; $same)"

n=$(ls "$work"/fleet | wc -l)
push_night() { # LABEL [MORE]: push every document of $work/fleet, 10 at a time; print the rate
	local t0 t1
	t0=$(python3 -c 'import time; print(time.monotonic())')
	# shellcheck disable=SC2016 # expanded by the sh that xargs starts
	ls "$work"/fleet/*.json | xargs -P 10 -n 1 sh -c \
		'curl -sf -o /dev/null -H "Authorization: Bearer $(cat "$1")" -H "Content-Type: application/json" \
			--data-binary "@$3" "$2/api/v1/snapshots" || echo "push failed: $3" >&2' _ "$work/token" "$u" 2>&1 |
		sed 's/^/  /' || true
	t1=$(python3 -c 'import time; print(time.monotonic())')
	python3 -c "
n, items, dt = $n, $items, $t1 - $t0
print(f'push, $1: {n} documents of {items} items, 10 agents: {dt:.1f} s, {n * items / dt:,.0f} items/s${2:-}')"
}
push_night "night 1" " (goal >= 250,000)"
echo "  stored $(sqlite3 -readonly "$db" "SELECT count(*) FROM snapshots WHERE env = 'fleet' AND status = 'complete'") of $n"
# The nights after: every host again, a new document id, 0.5% of its items changed (stored
# as deltas on each host's first night), then unchanged (stored without an item compared).
renew() { # CHANGE: a new id for every document; CHANGE 1 changes 0.5% of the items
	python3 - "$work" "$1" <<'PY'
import glob, re, sys, uuid
work, change = sys.argv[1], sys.argv[2] == "1"
for p in glob.glob(f"{work}/fleet/*.json"):
    s = open(p).read()
    s = re.sub(r'"id":"[0-9a-f-]{36}"', '"id":"%s"' % uuid.uuid4(), s, count=1)
    if change:
        lines = s.split("\n")
        for i in range(1, len(lines) - 2, 200):
            lines[i] = re.sub(r'"fingerprint":"([0-9a-f]{32})"', lambda m: '"fingerprint":"%032x"' % (int(m.group(1), 16) ^ 0xbeef), lines[i])
        s = "\n".join(lines)
    open(p, "w").write(s)
PY
}
rows0=$(sqlite3 -readonly "$db" "SELECT count(*) FROM items")
renew 1
push_night "night 2 (0.5% of items changed)"
rows1=$(sqlite3 -readonly "$db" "SELECT count(*) FROM items")
renew 0
push_night "night 3 (unchanged)"
rows2=$(sqlite3 -readonly "$db" "SELECT count(*) FROM items")
echo "  rows written: night 2 $((rows1 - rows0)), night 3 $((rows2 - rows1))"
echo "serve: peak RSS $(rss "$server" VmHWM) (goal < 128 MiB), now $(rss "$server" VmRSS)"
sleep 2.5
echo "serve: idle again after the pushes (2.5 s without a request): RSS $(rss "$server" VmRSS)"
echo "store: $(du -h "$db" | cut -f1) for $((n * items + 20000)) items"
