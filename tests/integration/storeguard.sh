#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The store is data, not code, and is never extended when damaged (RELIABILITY DB-5, DB-6,
# DB-7): a store holding objects envdrift did not create is refused by every command before
# anything runs; a corrupt store takes no new snapshot; a reader never needs to write.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

R=$TMP/root
mkdir -p "$R/etc/app" "$R/var/lib/dpkg"
echo guard-host >"$R/etc/hostname"
echo 'marker = one' >"$R/etc/app/marker.conf"
dpkg_slice 3 >"$R/var/lib/dpkg/status"
CLEAN=$TMP/clean.db
init_store "$CLEAN"
ed --db "$CLEAN" collect --env production --host p1 --root "$R"
exits 0 "a first collection"
ed --db "$CLEAN" collect --env staging --host s1 --root "$R"
exits 0 "a second collection"
ITEMS=$(q "$CLEAN" "select count(*) from items where key = '/etc/app/marker.conf'")

# --- B.8: foreign objects ---
# Each stray object, added with sqlite3, and what it would do if it ran.
stray_trigger="CREATE TRIGGER x AFTER INSERT ON snapshots BEGIN DELETE FROM items WHERE key = '/etc/app/marker.conf'; END"
stray_trigger2="CREATE TRIGGER y BEFORE UPDATE ON snapshots BEGIN DELETE FROM items; END"
stray_view="CREATE VIEW sneaky_v AS SELECT 1"
stray_index="CREATE INDEX items_by_value ON items (value)"
stray_table="CREATE TABLE extra (a)"
changed_view="DROP VIEW latest_v; CREATE VIEW latest_v AS SELECT env, host, 1 AS snapshot_id, role FROM snapshots"
dropped_index="DROP INDEX runs_by_pair"
n=0
for case in stray_trigger:trigger:x stray_trigger2:trigger:y stray_view:view:sneaky_v \
	stray_index:index:items_by_value stray_table:table:extra changed_view:view:latest_v \
	dropped_index:index:runs_by_pair; do
	var=${case%%:*}
	rest=${case#*:}
	type=${rest%%:*}
	name=${rest#*:}
	n=$((n + 1))
	DB=$TMP/foreign$n.db
	cp "$CLEAN" "$DB"
	cp "$CLEAN.key" "$DB.key"
	sqlite3 "$DB" "${!var}"
	before=$(sqlite3 "$DB" .dump | md5sum)
	case $var in
	stray_*) what="unexpected $type '$name' (not created by envdrift): refusing to use this store" ;;
	changed_*) what="$type '$name' differs from the one envdrift creates: refusing to use this store" ;;
	dropped_*) what="$type '$name' is missing: refusing to use this store" ;;
	esac
	for cmd in "collect --env production --host p1 --root $R" "snapshots" "diff production staging" \
		"gate" "export @1" "report --pair production:staging" "init"; do
		# shellcheck disable=SC2086
		ed --db "$DB" $cmd
		exits 2 "$var, ${cmd%% *}: exit 2"
		contains "$ERR" "store $DB: $what" "  the message names the $type"
	done
	is "$(sqlite3 "$DB" .dump | md5sum)" "$before" "$var: the store is unchanged"
	is "$(q "$DB" "select count(*) from items where key = '/etc/app/marker.conf'")" "$ITEMS" \
		"  the item the trigger would delete is still there"
done

# The connection itself: defensive, trusted_schema off, no extensions (checked by the unit test);
# ANALYZE's statistics are data and do not count as foreign.
DB=$TMP/analyzed.db
cp "$CLEAN" "$DB"
cp "$CLEAN.key" "$DB.key"
sqlite3 "$DB" "ANALYZE"
ed --db "$DB" snapshots
exits 0 "a store someone ran ANALYZE on still opens"

# --- B.9: a damaged store takes no new snapshot ---
# The same collection again would be a delta on the damaged base.
sqlite3 "$CLEAN" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
SIZE=$(stat -c %s "$CLEAN")
PAGE=$(sqlite3 "$CLEAN" 'PRAGMA page_size')
for cut in 248 1 $((PAGE)) $((PAGE + 100)) $((SIZE / 2)) $((SIZE - 2 * PAGE)); do
	DB=$TMP/cut$cut.db
	cp "$CLEAN" "$DB"
	cp "$CLEAN.key" "$DB.key"
	truncate -s "-$cut" "$DB"
	before=$(md5sum <"$DB")
	ed --db "$DB" collect --env production --host p1 --root "$R"
	exits 2 "a store cut by $cut bytes: collect exits 2"
	like "$ERR" "store $DB: .*(corrupt|malformed)" "  the message names the store and says it is corrupt"
	contains "$ERR" "Restore the store from a backup, or save what is readable with 'sqlite3 $DB .recover" "  and what to do"
	is "$(md5sum <"$DB")" "$before" "  the store file is unchanged"
	ok "  nothing waits in its journal" test ! -s "$DB-wal"
done
# The message says what to do.
ed --db "$TMP/cut248.db" collect --env production --host p1 --root "$R"
like "$ERR" "no snapshot was written.*[Rr]estore" "a store cut by 248 bytes: the message says nothing was written and how to recover"
# ingest writes snapshots the same way.
ed --db "$CLEAN" export @1 --out "$TMP/doc1.json"
exits 0 "a document exported from the clean store"
before=$(md5sum <"$TMP/cut248.db")
ed --db "$TMP/cut248.db" ingest "$TMP/doc1.json"
exits 2 "ingest into the store cut by 248 bytes: exit 2"
like "$ERR" "corrupt" "  the message says it is corrupt"
is "$(md5sum <"$TMP/cut248.db")" "$before" "  the store file is unchanged"
# --- B.12: read-only is read-only ---
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
	RO=$TMP/ro
	mkdir -p "$RO"
	cp "$CLEAN" "$RO/store.db"
	cp "$CLEAN.key" "$RO/store.db.key"
	chmod 0444 "$RO/store.db"
	chmod 0555 "$RO"
	ro_before=$(ls -la --time-style=full-iso "$RO")
	as_nobody() { run runuser -u nobody -- "$ENVDRIFT" "$@"; }
	for cmd in "snapshots:0" "diff production staging:0" "gate:0" "export @1:0"; do
		c=${cmd%:*}
		# shellcheck disable=SC2086
		as_nobody --db "$RO/store.db" $c
		exits "${cmd##*:}" "a user who may only read, 0444 store in a 0555 folder: ${c%% *} works"
	done
	like "$OUT" '"format"' "  export wrote the document"
	is "$(ls -la --time-style=full-iso "$RO")" "$ro_before" "  nothing was created or changed beside the store"
else
	skip "a user who may only read" "needs root and runuser"
fi
# A reader whose folder is writable still opens read-only: nothing is written.
WR=$TMP/wr
mkdir -p "$WR"
cp "$CLEAN" "$WR/store.db"
cp "$CLEAN.key" "$WR/store.db.key"
before=$(md5sum <"$WR/store.db")
ed --db "$WR/store.db" diff production staging
exits 0 "diff of a copied store"
is "$(md5sum <"$WR/store.db")" "$before" "  the store file is unchanged"

# A WAL database under --root is read without making -wal or -shm in the inspected tree.
W=$TMP/walroot
mkdir -p "$W/var/lib/app"
sqlite3 "$W/var/lib/app/clean.db" 'PRAGMA journal_mode=WAL; CREATE TABLE t (a);' >/dev/null
python3 - "$W/var/lib/app/live.db" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE only_in_wal (a)")
c.commit()
os._exit(0)  # no checkpoint: the table lives only in live.db-wal
PY
ls -la --time-style=full-iso "$W/var/lib/app" | md5sum >"$TMP/walroot.before"
listing=$(ls "$W/var/lib/app" | tr '\n' ' ')
DB=$TMP/wal-store.db
init_store "$DB"
ed --db "$DB" collect --env e --host h --root "$W" --path /var/lib/app --packages none \
	--schema clean=sqlite:/var/lib/app/clean.db --schema live=sqlite:/var/lib/app/live.db
exits 0 "collect of two WAL databases under --root"
is "$(ls "$W/var/lib/app" | tr '\n' ' ')" "$listing" "  no -wal or -shm file was made in the inspected tree"
is "$(ls -la --time-style=full-iso "$W/var/lib/app" | md5sum)" "$(cat "$TMP/walroot.before")" \
	"  nothing in it changed"
is "$(q "$DB" "select count(*) from items where key like 'sqlite:live/table/only_in_wal%'")" "1" \
	"  the table only in the WAL was read (from a private copy)"

# Past 'ulimit -f' a collection fails with a message, not a signal.
F=$TMP/fsize
mkdir -p "$F/etc/many"
for i in $(seq 1 400); do printf 'k%d = %d\n' "$i" "$i" >"$F/etc/many/f$i.conf"; done
DB=$TMP/fsize.db
init_store "$DB"
LIMIT=$(($(stat -c %s "$DB") / 1024 + 8))
run bash -c "ulimit -f $LIMIT; exec \"\$0\" --db \"\$1\" collect --env e --host h --root \"\$2\" --packages none" \
	"$ENVDRIFT" "$DB" "$F"
exits 2 "a collection past 'ulimit -f': exit 2, no SIGXFSZ"
like "$ERR" "store $DB: .*file size limit reached" "  the message names the store and the limit"
done_testing
