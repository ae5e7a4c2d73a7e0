#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of fleet collection over SSH (issue 5), run on demand:
#   bash bench/fleet.sh [HOSTS] [TREE]
# Starts HOSTS (default 16) sshd instances on 127.0.0.1, each serving its own
# copy of TREE (default /usr/share/doc, copied once under $BENCH_DIR), and
# prints:
#   - a full fleet collection with -j 8 against the ideal: 16 single-host
#     collections one after the other, divided by 8 (goal: within 1.3x);
#   - an unchanged re-collection (incremental) against the full one (goal:
#     at most 20% of its time);
#   - bytes per host that crossed the loopback interface in each run (both
#     directions, SSH framing included; from /proc/net/dev);
#   - the floor the machine's cores allow: the CPU time one host's collection
#     takes (envdrift and sshd, from /proc/stat) times the hosts, over the
#     cores. When that is above the ideal, the goal cannot be met here.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/integration/sshd_conf.sh
. "$here/tests/integration/sshd_conf.sh"
ed=${ENVDRIFT:-$here/build/envdrift}
n=${1:-16}
tree=${2:-/usr/share/doc}
dir=${BENCH_DIR:-/var/tmp/envdrift-bench-fleet}
mkdir -p "$dir" /run/sshd
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do pkill -KILL -s "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Each copy is made under a temporary name and renamed when complete, with a
# stamp naming its source tree: a copy interrupted half-way, or made from
# another TREE by an earlier run, is made again rather than measured.
for i in $(seq 1 "$n"); do
	if [ "$(cat "$dir/host$i.tree" 2>/dev/null)" != "$tree" ] || [ ! -d "$dir/host$i" ]; then
		rm -rf "$dir/host$i" "$dir/host$i.tmp" "$dir/host$i.tree"
		cp -a "$tree" "$dir/host$i.tmp"
		mv "$dir/host$i.tmp" "$dir/host$i"
		echo "$tree" >"$dir/host$i.tree"
	fi
done
ssh-keygen -q -t ed25519 -N '' -f "$work/host"
ssh-keygen -q -t ed25519 -N '' -f "$work/user"
cp "$work/user.pub" "$work/authorized_keys"
: >"$work/known_hosts"
{
	echo "[bench]"
	echo "user = $(id -un)"
	echo "identity = $work/user"
	echo "known_hosts = $work/known_hosts"
} >"$work/inventory.ini"
for i in $(seq 1 "$n"); do
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sshd_conf "$port" "$work" "sshd$i" 'MaxSessions 50' >"$work/sshd$i.conf"
	setsid /usr/sbin/sshd -D -e -f "$work/sshd$i.conf" >>"$work/sshd.log" 2>&1 </dev/null &
	pids+=($!)
	disown $!
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host.pub")" >>"$work/known_hosts"
	printf '[collect]\npath = %s\npackages = none\n' "$dir/host$i" >"$work/p$i.ini"
	echo "host$i = host=127.0.0.1 port=$port profile=$work/p$i.ini" >>"$work/inventory.ini"
done
sleep 1

# Bytes that crossed the loopback interface (both directions of every
# connection, SSH framing included): the machine runs nothing else meanwhile.
lo_bytes() { awk '$1 == "lo:" {print $2}' /proc/net/dev; }
secs() { python3 -c 'import time; print(time.monotonic())'; }
span() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

db=$work/fleet.db
"$ed" --db "$db" init 2>/dev/null
l0=$(lo_bytes)
t0=$(secs)
"$ed" --db "$db" collect --inventory "$work/inventory.ini" -j 8 --full >"$work/full.txt" 2>&1 || true
t1=$(secs)
l1=$(lo_bytes)
"$ed" --db "$db" collect --inventory "$work/inventory.ini" -j 8 >"$work/inc.txt" 2>&1 || true
t2=$(secs)
l2=$(lo_bytes)
single_db=$work/single.db
"$ed" --db "$single_db" init 2>/dev/null
head -4 "$work/inventory.ini" >"$work/one.ini"
grep '^host1 ' "$work/inventory.ini" >>"$work/one.ini"
# CPU time the whole machine spent (envdrift and sshd alike), in seconds.
busy() { awk '/^cpu /{printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / 100}' /proc/stat; }
b3=$(busy)
t3=$(secs)
"$ed" --db "$single_db" collect --inventory "$work/one.ini" -j 1 --full >/dev/null 2>&1 || true
t4=$(secs)
b4=$(busy)
full=$(span "$t0" "$t1")
inc=$(span "$t1" "$t2")
one=$(span "$t3" "$t4")
ok=$(grep -c ' ok ' "$work/full.txt" || true)
python3 - "$n" "$full" "$inc" "$one" "$ok" "$(nproc)" "$b3" "$b4" "$l0" "$l1" "$l2" <<'PY'
import sys
n, full, inc, one, ok = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5])
cores, cpu_one = int(sys.argv[6]), float(sys.argv[8]) - float(sys.argv[7])
l0, l1, l2 = map(int, sys.argv[9:12])
ideal = n * one / 8
# What the machine allows: no schedule finishes before its CPU work is done.
floor = max(ideal, n * cpu_one / cores)
print(f"fleet of {n} hosts over SSH on 127.0.0.1, -j 8 ({ok} stored in the full run)")
print(f"  full collection              {full:7.2f} s   ideal {n} x {one:.2f} s / 8 = {ideal:.2f} s   ratio {full / ideal:.2f} (goal <= 1.3)")
print(f"  one host used {cpu_one:.2f} CPU-seconds (envdrift and sshd) in {one:.2f} s; on {cores} cores "
      f"{n} hosts need at least {floor:.2f} s: ratio to that floor {full / floor:.2f}")
print(f"  unchanged re-collection      {inc:7.2f} s   {100 * inc / full:.0f}% of the full run (goal <= 20%)")
print(f"  bytes over loopback per host: full {(l1 - l0) / n / 2**20:.1f} MiB, "
      f"unchanged {(l2 - l1) / n / 2**20:.2f} MiB")
PY
