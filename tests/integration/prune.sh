#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# envdrift prune (issue 17, part 3): what it keeps (each host's latest complete
# snapshot, --keep-days, --keep-last, the snapshots of recorded runs, recent
# failures, the base of a kept delta), what it removes (the rest, old failed
# and abandoned snapshots, kept content no item refers to), a dry run that
# changes nothing, deltas rebased when their base goes and reading exactly
# as before, space given back, 'serve' answering throughout, and kill -9 at
# random moments leaving every complete snapshot as it was.
#
# PRUNE_KILLS (default 12) and PRUNE_SEED (default: random) tune the crash part.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KILLS=${PRUNE_KILLS:-12}
SEED=${PRUNE_SEED:-$RANDOM}
diag "seed $SEED (rerun with PRUNE_SEED=$SEED), $KILLS kills"
DB=$TMP/store.db
init_store "$DB"

# tree H N: host H's tree at night N (a few files change each night, some stay kept text).
tree() {
	local r=$TMP/root-$1 i
	mkdir -p "$r/etc/app" "$r/srv/data"
	[ -e "$r/srv/data/f200" ] || for i in $(seq 1 200); do printf 'file %s of %s\n' "$i" "$1" >"$r/srv/data/f$i"; done
	printf 'night = %s\nhost = %s\n' "$2" "$1" >"$r/etc/app/app.conf"
	printf 'changes %s\n' "$2" >"$r/srv/data/f$(($2 % 40 + 10))"
	[ $(($2 % 3)) = 0 ] && rm -f "$r/srv/data/f7"
	[ $(($2 % 3)) = 1 ] && printf 'new %s\n' "$2" >"$r/srv/data/n$2"
	true
}
# night N H...: every host collects (incremental: deltas on a base), backdated N days before today.
night() {
	local n=$1 h
	shift
	for h in "$@"; do
		tree "$h" "$n"
		ed --db "$DB" collect --env "${h%%-*}" --host "$h" --root "$TMP/root-$h" --path /etc --path /srv \
			--packages none
		[ "$RC" = 0 ] || fail "collect $h night $n: $ERR"
	done
}
backdate() { # ID DAYS: the snapshot started and finished DAYS ago
	sqlite3 "$DB" "UPDATE snapshots SET started_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-$2 days'),
		finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-$2 days', '+1 minute') WHERE id = $1"
}
# digests: one line per complete snapshot, "ID SHA1" of every items_v column, in key order.
digests() {
	python3 - "$DB" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
ids = [r[0] for r in db.execute("SELECT id FROM snapshots WHERE status = 'complete' ORDER BY id")]
for i in ids:
    h = hashlib.sha1()
    for row in db.execute("SELECT kind, key, fingerprint, value, ftype, mode, owner, grp, target, size, "
                          "mtime_ns, ctime_ns, ino, dev, error, attrs FROM items_v WHERE snapshot_id = ? "
                          "ORDER BY kind, key", (i,)):
        h.update(repr(row).encode())
    print(i, h.hexdigest())
PY
}
ids() { sqlite3 "$DB" "SELECT group_concat(id, ' ') FROM (SELECT id FROM snapshots ORDER BY id)"; }

HOSTS=(production-web1 production-web2 staging-web1)
for n in 1 2 3 4 5 6; do night "$n" "${HOSTS[@]}"; done
# night 1 is 6 days old ... night 6 today
for id in $(sqlite3 "$DB" "SELECT id FROM snapshots"); do
	n=$(( (id - 1) / 3 + 1 ))
	backdate "$id" $((6 - n))
done
is "$(sqlite3 "$DB" "SELECT count(*) FROM snapshots WHERE base_id IS NOT NULL")" 15 \
	"fixture: 18 snapshots of 3 hosts, 15 of them deltas on each host's first"
# a failed snapshot 3 days old, and one from an hour ago
sqlite3 "$DB" "INSERT INTO snapshots (env, host, started_at, status) VALUES
	('production', 'production-web1', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3 days'), 'failed'),
	('production', 'production-web1', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 hours'), 'abandoned')"
FAILED_OLD=$(sqlite3 "$DB" "SELECT min(id) FROM snapshots WHERE status = 'failed'")
ABANDONED_NEW=$(sqlite3 "$DB" "SELECT max(id) FROM snapshots WHERE status = 'abandoned'")
# a recorded run that compared night 2's snapshots (ids 4, 5, 6)
sqlite3 "$DB" "INSERT INTO runs (at, command, reference_env, candidate_env, reference_snapshots,
	candidate_snapshots, added, removed, changed, ignored, blocking)
	VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-5 days'), 'gate', 'production', 'staging', '[4,5]', '[6]', 0, 0, 0, 0, 0)"
BEFORE=$(digests)
IDS_BEFORE=$(ids)
CONTENTS_BEFORE=$(sqlite3 "$DB" "SELECT count(*) FROM contents")

# --- usage ---
ed --db "$DB" prune
is "$RC" 2 "prune without --keep-days or --keep-last: exit 2"
like "$ERR" "keep-days" "  the message says what to give"
ed --db "$DB" prune --keep-days 0
is "$RC" 2 "--keep-days 0: exit 2"
ed --db "$DB" prune --keep-last 1 --dry-run --vacuum
is "$RC" 2 "--dry-run with --vacuum: exit 2"
ed --db "$DB" prune --help
is "$RC" 0 "prune --help: exit 0"
like "$OUT" "--keep-days N" "  it lists --keep-days"
like "$OUT" "Exit status" "  and the exit status"

# --- a dry run ---
ed --db "$DB" prune --keep-days 2 --dry-run
is "$RC" 0 "prune --keep-days 2 --dry-run: exit 0"
like "$OUT" "would prune @1 " "  it says what would go (night 1)"
like "$OUT" "would prune @$FAILED_OLD .*failed" "  including the failed snapshot of 3 days ago"
unlike "$OUT" "@4 |@5 |@6 " "  not the snapshots of the recorded run"
like "$ERR" "would prune 7 snapshots of 3 hosts \\(1 failed or abandoned\\); 3 bases replaced" \
	"  the summary counts them (night 1 and night 3, the old failure; night 1's 3 bases)"
is "$(ids)" "$IDS_BEFORE" "  nothing removed"
is "$(digests)" "$BEFORE" "  every snapshot reads as before"

# --- serve answers while prune runs ---
SLOG=$TMP/serve.log
t_spawn "$ENVDRIFT" --db "$DB" serve --listen 127.0.0.1:0 2>"$SLOG"
serve_port "$SLOG" "$T_PID"
(
	codes=""
	for _ in $(seq 1 200); do
		codes+="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$U/api/v1/snapshots?limit=5") "
		[ -e "$TMP/pruned" ] && break
	done
	printf '%s\n' "$codes" >"$TMP/codes"
) &
READER=$!

# --- prune for real ---
ed --db "$DB" prune --keep-days 2
is "$RC" 0 "prune --keep-days 2: exit 0"
touch "$TMP/pruned"
wait "$READER"
codes=$(tr ' ' '\n' <"$TMP/codes" | grep -c .)
is "$(tr ' ' '\n' <"$TMP/codes" | grep . | grep -vc '^2')" 0 "serve answered every request with 2xx while pruning ($codes requests)"
like "$ERR" "pruned 7 snapshots of 3 hosts \\(1 failed or abandoned\\); 3 bases replaced" "  the summary"
like "$ERR" "store: [0-9.]+ MiB before, [0-9.]+ MiB after" "  the store's size before and after"
AFTER_IDS=$(ids)
for keep in 4 5 6 16 17 18 "$ABANDONED_NEW"; do
	like " $AFTER_IDS " " $keep " "  @$keep kept"
done
for gone in 1 2 3 7 8 9 "$FAILED_OLD"; do
	unlike " $AFTER_IDS " " $gone " "  @$gone removed"
done
# every snapshot still there reads exactly as before
want=$(grep -E "^($(sqlite3 "$DB" "SELECT group_concat(id, '|') FROM snapshots WHERE status = 'complete'")) " <<<"$BEFORE")
is "$(digests)" "$want" "every complete snapshot left reads as before, every items_v column (rebased deltas too)"
is "$(sqlite3 "$DB" "SELECT count(*) FROM snapshots AS d JOIN snapshots AS b ON b.id = d.base_id
	WHERE b.base_id IS NOT NULL OR b.env <> d.env OR b.host <> d.host")" 0 \
	"  every base is a full snapshot of the same host"
is "$(sqlite3 "$DB" "SELECT group_concat(id || ':' || coalesce(base_id, 'full'), ' ') FROM snapshots WHERE id IN (4, 10, 13, 16)")" \
	"4:full 10:4 13:4 16:4" "  the oldest kept delta (@4, the run's) became its host's full base; the later ones are deltas on it"
is "$(sqlite3 "$DB" "SELECT count(*) FROM snapshots WHERE base_id IS NOT NULL AND base_id NOT IN (SELECT id FROM snapshots)")" 0 \
	"  no delta refers to a removed base"
is "$(sqlite3 "$DB" "SELECT count(*) FROM contents WHERE fingerprint NOT IN (SELECT fingerprint FROM items)")" 0 \
	"  no kept content without an item"
ok "  kept content was removed with its items (was $CONTENTS_BEFORE)" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM contents")" -lt "$CONTENTS_BEFORE"
is "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok "  integrity_check ok"
is "$(sqlite3 "$DB" "PRAGMA foreign_key_check")" "" "  foreign_key_check empty"
ed --db "$DB" diff production staging --format json
is "$RC" 1 "diff production staging after pruning: exit 1 (the hosts differ)"
ed --db "$DB" diff @4 @16 --format json
is "$RC" 1 "  a kept run snapshot against today's compares"
ed --db "$DB" prune --keep-days 2
like "$ERR" "pruned 0 snapshots" "pruning again: nothing more to do"
is "$(sqlite3 "$DB" "PRAGMA auto_vacuum")" 2 "a store made by init gives pages back (auto_vacuum incremental)"
is "$(sqlite3 "$DB" "PRAGMA freelist_count")" 0 "  no free page left after a prune"

# --- a next night collects on the rebased deltas ---
night 7 "${HOSTS[@]}"
ed --db "$DB" collect --env production --host production-web1 --root "$TMP/root-production-web1" \
	--path /etc --path /srv --packages none --full
last2=$(sqlite3 "$DB" "SELECT group_concat(id, ' ') FROM (SELECT id FROM snapshots WHERE host = 'production-web1'
	AND status = 'complete' ORDER BY id DESC LIMIT 2)")
is "$(sqlite3 "$DB" "SELECT base_id IS NOT NULL FROM snapshots WHERE id = ${last2#* }")" 1 "night 7 is a delta on the rebased chain"
ed --db "$DB" diff "@${last2#* }" "@${last2% *}"
is "$RC" 0 "a delta collected on a rebased chain equals a --full collection of the same tree"
[ "$RC" = 0 ] || diag "$OUT"

# --- --vacuum on a store made before auto_vacuum ---
OLD=$TMP/old.db
sqlite3 "$DB" ".backup '$OLD'"
cp "$DB.key" "$OLD.key"
sqlite3 "$OLD" "PRAGMA auto_vacuum = NONE; VACUUM"
is "$(sqlite3 "$OLD" "PRAGMA auto_vacuum")" 0 "an older store: auto_vacuum none"
ed --db "$OLD" prune --keep-last 1
like "$ERR" "reused by later snapshots" "  prune says its freed pages are reused, and how to give them back"
ed --db "$OLD" prune --keep-last 1 --vacuum
is "$RC" 0 "  prune --vacuum: exit 0"
is "$(sqlite3 "$OLD" "PRAGMA auto_vacuum")" 2 "  the store gives pages back from now on"
is "$(sqlite3 "$OLD" "PRAGMA freelist_count")" 0 "  no free page left"

# --- kill -9 at random moments ---
# A store of 4 hosts x 5 nights: a prune of 4 transactions to interrupt.
CR=$TMP/crash.db
rm -f "$DB" "$DB"-* "$DB.key"
init_store "$DB"
CHOSTS=()
for i in 1 2 3 4; do CHOSTS+=("production-c$i"); done
for n in 1 2 3 4 5; do night "$n" "${CHOSTS[@]}"; done
for id in $(sqlite3 "$DB" "SELECT id FROM snapshots"); do backdate "$id" $((5 - (id - 1) / 4)); done # night 5: 1 day ago
BEFORE=$(digests)
cp "$DB" "$TMP/pristine.db"
cp "$DB.key" "$TMP/pristine.db.key"
RANDOM=$SEED
bad=""
mid=0
for k in $(seq 1 "$KILLS"); do
	cp "$TMP/pristine.db" "$CR"
	cp "$TMP/pristine.db.key" "$CR.key"
	rm -f "$CR-wal" "$CR-shm"
	"$ENVDRIFT" --db "$CR" prune --keep-days 3 >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$(sqlite3 "$CR" "PRAGMA integrity_check")" = ok ] || bad+="kill $k: integrity; "
	n=$(sqlite3 "$CR" "SELECT count(*) FROM snapshots")
	[ "$n" -gt 12 ] && [ "$n" -lt 20 ] && mid=$((mid + 1))
	left=$(sqlite3 "$CR" "SELECT group_concat(id, '|') FROM snapshots WHERE status = 'complete'")
	want=$(grep -E "^($left) " <<<"$BEFORE")
	got=$(DB=$CR digests)
	[ "$got" = "$want" ] || bad+="kill $k: a snapshot reads differently; "
	for h in "${CHOSTS[@]}"; do
		[ "$(sqlite3 "$CR" "SELECT count(*) FROM snapshots WHERE host = '$h' AND status = 'complete'")" -ge 1 ] ||
			bad+="kill $k: $h lost its snapshots; "
	done
	# and prune finishes the job afterwards
	"$ENVDRIFT" --db "$CR" prune --keep-days 3 >/dev/null 2>"$TMP/prune.err" || bad+="kill $k: prune again failed: $(cat "$TMP/prune.err"); "
done
diag "$mid of $KILLS kills landed between two hosts' transactions (the others before the first or after the last)"
is "$bad" "" "$KILLS kills of prune at random moments: integrity ok, every complete snapshot left reads as before, each host keeps one, a new prune finishes"
left=$(sqlite3 "$CR" "SELECT group_concat(id, '|') FROM snapshots WHERE status = 'complete'")
is "$(DB=$CR digests)" "$(grep -E "^($left) " <<<"$BEFORE")" "  after the last one, the store reads as an uninterrupted prune leaves it"
is "$(sqlite3 "$CR" "SELECT count(*) FROM snapshots")" 12 "  4 hosts x the 3 nights of the last 3 days"

t_stop_spawned
done_testing
