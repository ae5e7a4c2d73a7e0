#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Migrations: a store at version 1, made from schema/001-store.sql, is refused
# until 'envdrift init' migrates it to the current version; its data survives, the views
# show it, and a migration that fails leaves the store as it was.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# The version this binary writes: one migration file per version.
CURRENT=$(find "$SRCDIR/schema" -name '[0-9][0-9][0-9]-*.sql' | wc -l)

OLD=$TMP/old.db
make_v1() { # DB
	sqlite3 "$1" <"$SRCDIR/schema/001-store.sql" && sqlite3 "$1" 'PRAGMA user_version=1'
}
ok "a version 1 store made from schema/001-store.sql" make_v1 "$OLD"
FP_PKG=00112233445566778899aabbccddeeff
FP_FILE=$(printf 'hello\n' | xxh128sum | cut -d' ' -f1)
sqlite3 "$OLD" <<EOF
INSERT INTO snapshots (id, env, host, started_at, finished_at, status, item_count, root, collector_host, collector_pid)
  VALUES (7, 'production', 'web-1', '2024-01-02T03:04:05Z', '2024-01-02T03:04:09Z', 'complete', 2, '/srv/img', 'ci', 1);
INSERT INTO items (snapshot_id, kind, key, fingerprint, value)
  VALUES (7, 'package', 'dpkg:openssl:amd64', X'$FP_PKG', '3.0.11-1~deb12u2');
INSERT INTO items (snapshot_id, kind, key, fingerprint, value, ftype, mode, owner, grp, size, mtime_ns)
  VALUES (7, 'file', '/etc/motd', X'$FP_FILE', 'file 0644 root:root 6', 'file', 420, 'root', 'root', 6, 0);
EOF
is "$(sqlite3 "$OLD" 'PRAGMA user_version')" "1" "the old store is at version 1"

for cmd in "snapshots" "diff production staging" "diff @7 @7" "gate" "collect --env e --root $TMP"; do
	# shellcheck disable=SC2086
	ed --db "$OLD" $cmd
	exits 2 "version 1 store, ${cmd%% *}: refused with exit 2"
	like "$ERR" "$OLD.*init" "  the message names the store and says to run init"
done
is "$(sqlite3 "$OLD" 'PRAGMA user_version')" "1" "refusing left the store at version 1"

ed --db "$OLD" init
exits 0 "init on the version 1 store exits 0"
like "$ERR" "migrated .*from (version )?1 to $CURRENT" "  it says it migrated from 1 to $CURRENT"
is "$(sqlite3 "$OLD" 'PRAGMA user_version')" "$CURRENT" "user_version is now $CURRENT"
is "$(sqlite3 "$OLD" 'PRAGMA application_id')" "1162105393" "the application id is kept"
is "$(sqlite3 "$OLD" 'PRAGMA integrity_check')" "ok" "the migrated store passes integrity_check"
key_mode=$(stat -c %a "$OLD.key" 2>/dev/null)
is "$key_mode" "600" "init created the key file, mode 600"

is "$(q "$OLD" "select id, env, host, started_at, finished_at, status, items from snapshots_v")" \
	"7|production|web-1|2024-01-02T03:04:05Z|2024-01-02T03:04:09Z|complete|2" "the old snapshot is visible through snapshots_v"
is "$(q "$OLD" "select env, host, snapshot_id from latest_v")" "production|web-1|7" "latest_v names it"
is "$(q "$OLD" "select snapshot_id, env, host, kind, key, fingerprint, value from items_v order by kind, key")" \
	"7|production|web-1|file|/etc/motd|$FP_FILE|file 0644 root:root 6
7|production|web-1|package|dpkg:openssl:amd64|$FP_PKG|3.0.11-1~deb12u2" "the old items are visible through items_v, fingerprints as lower-case hex"
is "$(q "$OLD" "select warning_count from snapshots where id=7")" "0" "the new column has its default on old rows"
is "$(q "$OLD" "select count(*) from warnings")" "0" "the warnings table exists"

ed --db "$OLD" snapshots --format json
exits 0 "snapshots works on the migrated store"
is "$(printf '%s' "$OUT" | json_get '[[s["id"], s["env"], s["status"], s["items"]] for s in d["snapshots"]]')" \
	'[[7, "production", "complete", 2]]' "  and lists the old snapshot"
ed --db "$OLD" diff @7 @7
exits 0 "an old snapshot diffs against itself with exit 0"

# New collections go on from there.
R=$TMP/root
mkdir -p "$R/etc"
printf 'hello\n' >"$R/etc/motd"
ed --db "$OLD" collect --env staging --host web-2 --root "$R" --path /etc/motd --packages none
exits 0 "a collection into the migrated store"
NEW=$OUT
ok "  gets an id after the old one" test "${NEW:-0}" -gt 7
ed --db "$OLD" diff production staging --format json
exits 1 "diff old production against new staging: exit 1"
is "$(printf '%s' "$OUT" | json_get 'sorted([e["kind"], e["key"], e["change"]] for e in d["drift"])')" \
	'[["file", "/etc/motd", "changed"], ["package", "dpkg:openssl:amd64", "removed"]]' \
	"  the old items compare with the new ones"

ed --db "$OLD" init
exits 0 "init again exits 0"
like "$ERR" "up to date" "  and says the store is up to date"
is "$(sqlite3 "$OLD" 'PRAGMA user_version')" "$CURRENT" "  still version $CURRENT"

# A migration that fails is rolled back as a whole.
BAD=$TMP/bad.db
make_v1 "$BAD"
sqlite3 "$BAD" "CREATE TABLE warnings (x); INSERT INTO snapshots (env, host, started_at, status) VALUES ('e', 'h', '2024-01-01T00:00:00Z', 'complete');"
cp "$BAD" "$TMP/bad.before"
ed --db "$BAD" init
exits 2 "a migration that cannot apply: exit 2"
contains "$ERR" "$BAD" "  the message names the store"
is "$(sqlite3 "$BAD" 'PRAGMA user_version')" "1" "  the store stays at version 1"
is "$(sqlite3 "$BAD" "select count(*) from pragma_table_info('snapshots') where name='warning_count'")" "0" \
	"  the migration's first statement was rolled back too"
is "$(sqlite3 "$BAD" .dump)" "$(sqlite3 "$TMP/bad.before" .dump)" "  the content is unchanged"

# Version 7 computes items.state for the rows already stored: exactly what the
# collector writes for the same item (files of every type, a secret, an error).
S=$TMP/state-root
mkdir -p "$S/etc/app" "$S/etc/empty-dir"
printf 'a=1\npassword=hunter2\n' >"$S/etc/app/app.env"
printf '{"db": {"password": "x", "pool": 5}}\n' >"$S/etc/app/config.json"
: >"$S/etc/app/empty"
ln -s app.env "$S/etc/app/link"
mkfifo "$S/etc/app/fifo"
printf 'x' >"$S/etc/app/unreadable" && chmod 000 "$S/etc/app/unreadable"
NEW7=$TMP/new7.db
ed --db "$NEW7" init
ed --db "$NEW7" collect --env e --host h --root "$S" --path /etc --packages none
exits 0 "a collection into a version $CURRENT store"
V6=$TMP/v6.db
for f in "$SRCDIR"/schema/00[1-6]-*.sql; do sqlite3 "$V6" <"$f"; done
sqlite3 "$V6" "PRAGMA user_version = 6; ATTACH '$NEW7' AS n;
	INSERT INTO snapshots (id, env, host, started_at, finished_at, status, item_count, root,
	  collector_host, collector_pid, warning_count, role, uuid)
	  SELECT id, env, host, started_at, finished_at, status, item_count, root, collector_host,
	    collector_pid, warning_count, role, uuid FROM n.snapshots;
	INSERT INTO items (snapshot_id, kind, key, fingerprint, value, ftype, mode, owner, grp, target,
	  size, mtime_ns, ctime_ns, ino, dev, error, attrs)
	  SELECT snapshot_id, kind, key, fingerprint, value, ftype, mode, owner, grp, target, size,
	    mtime_ns, ctime_ns, ino, dev, error, attrs FROM n.items;"
cp "$NEW7.key" "$V6.key"
ed --db "$V6" init
exits 0 "the same items in a version 6 store migrate"
states() { q "$1" "select kind, key, hex(state) from items order by kind, key"; }
is "$(states "$V6")" "$(states "$NEW7")" "  their states equal those the collector wrote"
ok "  a few dozen items, each with a state" test "$(q "$V6" "select count(*) from items where length(state) = 16")" -gt 10
is "$(q "$V6" "select count(*) from items where state is null")" "0" "  none without"
is "$(q "$V6" "select count(distinct substr(state, 1, 1)) > 2 from items")" "1" \
	"  with flags of several kinds (secret, holds a value, error)"

# A store at version 0 that is an empty file is initialised, not refused.
: >"$TMP/empty.db"
ed --db "$TMP/empty.db" snapshots
exits 2 "an empty file as the store: snapshots says to init (exit 2)"
like "$ERR" "init" "  the message says to run init"
ed --db "$TMP/empty.db" init
exits 0 "init turns an empty file into a store"
is "$(sqlite3 "$TMP/empty.db" 'PRAGMA user_version')" "$CURRENT" "  at version $CURRENT"

done_testing
