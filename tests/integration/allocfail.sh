#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Out of memory at any allocation (RELIABILITY DB-2): an LD_PRELOAD shim
# (allocfail_shim.c) fails the Nth allocation of the whole process (envdrift,
# SQLite, jansson, libc) once, for N = 1.. over collect, diff in every format
# and ingest. Each run exits with its normal status and its normal output, or
# with 2 and a message; never a signal, never a wrong answer. The store passes
# PRAGMA integrity_check and holds the old snapshots or the new one whole.
#
# A first run of each command counts its allocations (N_total). The test then
# fails about 80 of them: N = 1..ALLOCFAIL_FIRST (default 20), the last
# ALLOCFAIL_LAST (default 40: rendering, COMMIT), every Nth in between, and
# N_total + 1 (a run that completes); every 5th point once more with every
# allocation from the Nth on failing (ED_FAIL_ALLOC_PERSIST: memory that stays
# exhausted, so ROLLBACK and cleanup fail too). ALLOCFAIL_SCALE=K fails K
# times as many; ALLOCFAIL_ALL=1 every one (hours); ALLOCFAIL_ONLY=ERE drives
# only the commands it matches. The diff formats share what comes before the
# rendering: the text format covers it, the others fail 60 points from where
# text's rendering starts (with half as many first and last). Allocations of
# threads interleave, so a number may name another allocation from one run to
# the next.
#
# The sanitizer build runs the same shim in front of ASan's allocator
# (ASAN_OPTIONS=verify_asan_link_order=0), so a use after free or a leak on an
# error path is a sanitizer report; it fails a third as many points.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

SHIM=${ALLOCFAIL_SHIM:-$(dirname "$ENVDRIFT")/tests/liballocfail_shim.so}
if [ ! -f "$SHIM" ]; then
	echo "Bail out! no allocation shim at $SHIM (set ALLOCFAIL_SHIM)"
	exit 2
fi
SAN_DIV=1 # the sanitizer build runs a third of the points: each run is 3-5 times slower
if ldd "$ENVDRIFT" 2>/dev/null | grep -q libasan; then
	# ASan checks that its runtime comes first; the shim must, to be called at all.
	export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
	SAN_DIV=3
	diag "sanitizer build: the shim runs in front of ASan's allocator, on a third of the points"
fi

DB=$TMP/base.db
W=$TMP/work.db
P=$TMP/prod
S=$TMP/stag

# --- fixtures: two small hosts with drift of every kind ---
mkdir -p "$P/etc/app" "$P/var/lib/dpkg" "$P/var/lib/app"
echo p1 >"$P/etc/hostname"
printf 'listen 8080;\nworkers 4;\n' >"$P/etc/app/app.conf"
printf 'obsolete = yes\n' >"$P/etc/app/removed.conf"
printf '[db]\nhost = db1\npassword = Canary-Alloc-1\n' >"$P/etc/app/db.ini"
printf 'name: shop\nreplicas: 3\nlabels: [a, b]\n' >"$P/etc/app/deploy.yaml"
printf '{"db": {"host": "db1", "pool": 5}, "features": ["search", "cart"]}\n' >"$P/etc/app/config.json"
ln -s releases/v1 "$P/etc/app/current"
dpkg_slice 6 >"$P/var/lib/dpkg/status"
sqlite3 "$P/var/lib/app/app.db" 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
	CREATE INDEX users_email ON users (email);'
cat >"$TMP/profile.ini" <<'INI'
[collect]
path = /etc
packages = dpkg
schema = app=sqlite:/var/lib/app/app.db

[content]
keep = /etc/app/*.conf
INI
cp -a "$P" "$S"
echo s1 >"$S/etc/hostname"
printf 'listen 8081;\nworkers 4;\n' >"$S/etc/app/app.conf"
rm "$S/etc/app/removed.conf"
printf 'new = 1\n' >"$S/etc/app/added.conf"
sed -i 's/"pool": 5/"pool": 10/' "$S/etc/app/config.json"
ln -sfn releases/v2 "$S/etc/app/current"
dpkg_slice 3 >"$S/var/lib/dpkg/status"
sqlite3 "$S/var/lib/app/app.db" 'ALTER TABLE users ADD COLUMN phone TEXT'

init_store "$DB"
for side in production:p1:$P staging:s1:$S; do
	IFS=: read -r env host root <<<"$side"
	ed --db "$DB" collect --env "$env" --host "$host" --root "$root" --profile "$TMP/profile.ini"
	[ "$RC" = 0 ] || { echo "Bail out! collect $env failed ($RC): $ERR"; exit 2; }
done
# The host changes again: the collection under test stores a delta on the last one.
printf 'listen 8082;\nworkers 8;\n' >"$S/etc/app/app.conf"
printf 'later = 1\n' >"$S/etc/app/later.conf"
# A document for ingest: a third host, signed with the store's key.
cp -a "$S" "$TMP/push"
echo s2 >"$TMP/push/etc/hostname"
DOC=$TMP/push.json
ed collect --env staging --root "$TMP/push" --profile "$TMP/profile.ini" --out "$DOC" --key "$DB.key"
[ "$RC" = 0 ] || { echo "Bail out! collect --out failed ($RC): $ERR"; exit 2; }
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$DB" "$TMP/pristine.db"

# Fresh copy of the store for a run that writes (its key never changes).
cp "$DB.key" "$W.key"
fresh() {
	[ -e "$W-wal" ] || [ -e "$W-shm" ] || [ -e "$W-journal" ] && rm -f "$W-wal" "$W-shm" "$W-journal"
	cp "$DB" "$W"
}

# What a store holds that a torn write would break, after its integrity check:
# the complete snapshots, every item of each (through items_v, deltas
# resolved), items of unfinished snapshots, and what latest_v points at.
state() {
	sqlite3 -cmd '.timeout 5000' "$1" "PRAGMA integrity_check;
		select s.id, s.env, s.host, s.status, s.item_count,
		(select count(*) from items_v v where v.snapshot_id = s.id),
		(select count(*) from warnings w where w.snapshot_id = s.id)
		from snapshots s where s.status = 'complete' order by s.id;
		select kind, key, fingerprint, quote(value), ftype, mode, target, size, error
		from items_v where snapshot_id in (select id from snapshots where status = 'complete')
		order by snapshot_id, kind, key;
		select 'unfinished with items', count(*) from items where snapshot_id in
		(select id from snapshots where status != 'complete');
		select 'latest', env, host, snapshot_id from latest_v order by env, host" 2>&1
}

# points TOTAL RUNS: the allocation numbers to fail, about RUNS of them,
# from FROM (default 1): the first ALLOCFAIL_FIRST and the last ALLOCFAIL_LAST
# (where a report is rendered and a transaction committed) all, at a stride in
# between, and one past the end (a run that completes).
FIRST=${ALLOCFAIL_FIRST:-$((20 / SAN_DIV))}
LAST=${ALLOCFAIL_LAST:-$((40 / SAN_DIV))}
points() {
	local total=$1 runs=$2 from=${FROM:-1} stride=1 n
	local mid=$((runs - FIRST - LAST))
	[ "$from" -ge 1 ] || from=1
	if [ -z "${ALLOCFAIL_ALL:-}" ] && [ "$((total - from))" -gt "$runs" ]; then
		stride=$(((total - from + 1 - FIRST - LAST + mid - 1) / (mid > 0 ? mid : 1)))
	fi
	for ((n = from; n <= total + 1; n++)); do
		if [ "$n" -lt "$((from + FIRST))" ] || [ "$n" -gt "$((total - LAST))" ] ||
			[ $(((n - from - FIRST) % stride)) = 0 ]; then
			echo "$n"
		fi
	done
}

# drive NAME RUNS KIND OKRC ARGS...: counts the allocations of 'envdrift ARGS'
# (KIND write: on a fresh copy of the store, else on the store itself), then
# fails about RUNS of them in turn, one a run, and checks every run.
drive() {
	if [ -n "${ALLOCFAIL_ONLY:-}" ] && [[ ! "$1" =~ $ALLOCFAIL_ONLY ]]; then
		echo "0 0 $1" >>"$TMP/covered"
		skip "$1" "not in ALLOCFAIL_ONLY=$ALLOCFAIL_ONLY"
		return
	fi
	local name=$1 nruns=$(($2 * ${ALLOCFAIL_SCALE:-1} / SAN_DIV)) kind=$3 okrc=$4
	shift 4
	local db=$DB
	[ "$kind" = write ] && { fresh; db=$W; }
	# env after timeout: the shim goes into envdrift alone.
	run env ED_FAIL_ALLOC_REPORT="$TMP/report" LD_PRELOAD="$SHIM" "$ENVDRIFT" --db "$db" "$@"
	local total ref_out=$OUT ref_state="" old_state=""
	read -r total _ <"$TMP/report"
	if [ "$RC" != "$okrc" ] || [ -z "$total" ]; then
		fail "$name: a run under the shim without a failure exits $okrc" "exit $RC, stderr: $ERR"
		return
	fi
	IFS= read -r -d '' ref_out <"$TMP/.out"
	if [ "$kind" = write ]; then
		ref_state=$(state "$db")
		old_state=$(state "$DB")
	fi

	local n rc hit covered=0 runs=0 bad_rc="" bad_msg="" bad_out="" bad_ic="" bad_torn="" t0 out st
	t0=$(ms)
	touch "$TMP/pristine.mark"
	# N fails once; every 5th point also as N+ (every allocation from the Nth on).
	local at persist npersist=0 i=0
	for at in $(points "$total" "$nruns" | while read -r n; do
		echo "$n"
		[ $((i++ % 5)) = 4 ] && echo "$n+"
	done); do
		[ "$kind" = write ] && fresh
		n=${at%+}
		persist=0
		[ "$at" != "$n" ] && persist=1 && npersist=$((npersist + 1))
		runs=$((runs + 1))
		echo "0 0" >"$TMP/report"
		timeout -k 5 60 env ED_FAIL_ALLOC_AT="$n" ED_FAIL_ALLOC_PERSIST=$persist ED_FAIL_ALLOC_REPORT="$TMP/report" \
			LD_PRELOAD="$SHIM" "$ENVDRIFT" --db "$db" "$@" >"$TMP/.out" 2>"$TMP/.err"
		rc=$?
		read -r _ hit <"$TMP/report"
		[ "$hit" = 1 ] && [ "$persist" = 0 ] && covered=$((covered + 1))
		grep -Eq 'Sanitizer|runtime error' "$TMP/.err" && san_check "$(cat "$TMP/.err")" "$name, allocation $at"
		out=""
		IFS= read -r -d '' out <"$TMP/.out"
		if [ "$rc" != "$okrc" ] && [ "$rc" != 2 ]; then
			bad_rc="$bad_rc [#$at: exit $rc: $(head -c 300 "$TMP/.err")]"
		elif [ "$rc" = 2 ] && [ ! -s "$TMP/.err" ]; then
			bad_msg="$bad_msg [#$at]"
		elif [ "$rc" = "$okrc" ] && [ "$out" != "$ref_out" ]; then
			bad_out="$bad_out [#$at: $(head -c 200 "$TMP/.out") | $(head -c 200 "$TMP/.err")]"
		fi
		if [ "$kind" = write ]; then
			st=$(state "$db")
			if [ "${st%%$'\n'*}" != ok ]; then
				bad_ic="$bad_ic [#$at: $(printf '%s' "$st" | head -3)]"
			elif { [ "$rc" = "$okrc" ] && [ "$st" != "$ref_state" ]; } ||
				{ [ "$rc" != "$okrc" ] && [ "$st" != "$old_state" ]; }; then
				bad_torn="$bad_torn [#$at: exit $rc]"
			fi
		elif [ "$db" -nt "$TMP/pristine.mark" ]; then
			bad_ic="$bad_ic [#$at: the store changed]"
			cp "$TMP/pristine.db" "$db"
			touch "$TMP/pristine.mark"
		fi
	done
	diag "$name: $runs runs: failed $((runs - npersist)) allocation points once ($covered of them reached), $npersist from there on, of $total allocations (in $(($(ms) - t0)) ms)"
	echo "$covered $total $name" >>"$TMP/covered"
	is "$bad_rc" "" "$name: every run exits $okrc or 2, never a signal"
	is "$bad_msg" "" "$name:   exit 2 always comes with a message"
	is "$bad_out" "" "$name:   exit $okrc always comes with the full, right output"
	if [ "$kind" = write ]; then
		is "$bad_ic" "" "$name:   PRAGMA integrity_check says ok after every run"
		is "$bad_torn" "" "$name:   the store holds the old snapshots, or the new one whole"
	else
		is "$bad_ic" "" "$name:   the store is never written"
	fi
}

drive collect 80 write 0 collect --env staging --host s1 --root "$S" --profile "$TMP/profile.ini" --threads 2
drive "diff --format text" 80 read 1 diff production staging --format text
env ED_FAIL_ALLOC_REPORT="$TMP/report" LD_PRELOAD="$SHIM" "$ENVDRIFT" --db "$DB" diff production staging >/dev/null 2>&1
read -r text_total _ <"$TMP/report"
for fmt in json junit sarif markdown html; do
	FROM=$((${text_total:-0} - 100)) FIRST=$((FIRST / 2)) LAST=$((LAST / 2)) \
		drive "diff --format $fmt" 60 read 1 diff production staging --format "$fmt"
done
drive ingest 80 write 0 ingest "$DOC"

while read -r covered total name; do
	diag "allocation points covered: $name $covered of $total"
done <"$TMP/covered"
diag "allocation points covered in all: $(awk '{ c += $1 } END { print c }' "$TMP/covered")"
done_testing
