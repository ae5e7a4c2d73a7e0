#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delta snapshots: an incremental collection stores only what differs from a
# full snapshot (its base), yet read whole (items_v, diff, export) it is
# exactly what a --full collection of the same tree gives, after every kind of
# change to files, folders, links, structured configs and system facts; deltas
# chain on one base, fall back to a full snapshot when they carry too much or
# the profile changed, and the differ sees a delta's changes as they happened.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

R=$TMP/root
DB=$TMP/store.db
PROFILE=()   # --profile FILE, once the profile changes

# --- the tree: nested folders, structured configs, links, a FIFO, plain files ---
mkdir -p "$R/etc/app/conf.d/sub" "$R/etc/default" "$R/srv/plain" "$R/srv/tree/a/b" "$R/srv/data" \
	"$R/srv/dir2file/inner" "$R/srv/sib/x/in" "$R/srv/sib/x.z" "$R/srv/hash"
cat >"$R/etc/app/config.json" <<'EOF'
{"db": {"host": "db1", "port": 5432, "replicas": ["r1", "r2", {"zone": "z1"}]},
 "features": {"search": true, "deep": {"level": {"k": "v"}}}}
EOF
printf '{"other": {"a": 1, "b": [true, false]}}\n' >"$R/etc/app/other.json"
printf 'server:\n  port: 8080\n  names:\n    - a\n    - b\n' >"$R/etc/app/app.yaml"
printf '[main]\nworkers = 4\n[log]\nlevel = info\n' >"$R/etc/app/app.ini"
printf 'USER=app\npassword=s3cret-1\n' >"$R/etc/app/.env"
printf 'hello\n' >"$R/etc/app/readme.txt"
printf 'deep = 1\n' >"$R/etc/app/conf.d/sub/deep.conf"
ln -s conf.d "$R/etc/app/current"
ln -s nowhere "$R/etc/app/dangling"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n' >"$R/etc/os-release"
printf 'Europe/Paris\n' >"$R/etc/timezone"
printf 'LANG=C.UTF-8\n' >"$R/etc/default/locale"
mkfifo "$R/srv/data/pipe"
for i in $(seq -w 1 80); do printf 'plain file %s\n' "$i" >"$R/srv/plain/f$i"; done
printf '{"t": {"x": 1, "y": [1, 2]}}\n' >"$R/srv/tree/a/b/t.json"
printf 'x\n' >"$R/srv/tree/a/x.txt"
printf '[s]\nk = v\n' >"$R/srv/dir2file/inner/c.ini"
printf '{"c": {"d": [3, 4]}}\n' >"$R/srv/conf2dir.json"
# Siblings whose names sort between a folder and what lies below it ('-' and
# '.' come before '/'), and names with '#', the separator of config keys.
printf 'in\n' >"$R/srv/sib/x/in/f"
printf 'dash\n' >"$R/srv/sib/x-y"
printf '{"z": 1}\n' >"$R/srv/sib/x.z/z.json"
printf '{"k": 1}\n' >"$R/srv/hash/c.json"
printf '{"s": 2}\n' >"$R/srv/hash/c.json#2.json"
printf 'plain\n' >"$R/srv/hash/a"
printf '{"t": 3}\n' >"$R/srv/hash/a#b.json"
# Every difference blocks; the two sides are the same host, so they share its secrets.
strict_policy "$TMP/strict.ini"
printf '\n[must-differ]\nsecrets = no\n' >>"$TMP/strict.ini"
init_store "$DB"

# collect h1 ARGS: host h1 of env delta, the host under test; collect full
# ARGS: the same tree as host full of env ref, always --full, the reference.
collect() {
	local env=delta
	[ "$1" = full ] && env=ref
	ed --db "$DB" collect --env "$env" --host "$1" --root "$R" --path /etc --path /srv --packages none \
		"${PROFILE[@]}" "${@:2}"
}
# items ID: the snapshot read whole, every column, in key order.
items() {
	q "$DB" "SELECT kind, key, fingerprint, value, ftype, mode, owner, grp, target, size, mtime_ns,
		ctime_ns, ino, dev, error, attrs FROM items_v WHERE snapshot_id = $1 ORDER BY kind, key"
}
base_of() { q "$DB" "SELECT coalesce(base_id, 'NULL') FROM snapshots WHERE id = $1"; }
own_rows() { q "$DB" "SELECT count(*) FROM items WHERE snapshot_id = $1"; }
item_count() { q "$DB" "SELECT items FROM snapshots_v WHERE id = $1"; }
# own_items ID / changed_items ID: a delta's own rows that are items, and the
# keys whose item differs from its base's (every column): the same, when the
# delta stores only what differs.
own_items() { q "$DB" "SELECT kind, key FROM items WHERE snapshot_id = $1 AND state IS NOT X'FF' ORDER BY kind, key"; }
changed_items() {
	q "$DB" "SELECT d.kind, d.key FROM items_v AS d WHERE d.snapshot_id = $1 AND NOT EXISTS (
		SELECT 1 FROM items AS b JOIN snapshots AS s ON s.id = $1 AND b.snapshot_id = s.base_id
		WHERE b.kind = d.kind AND b.key = d.key AND lower(hex(b.fingerprint)) = d.fingerprint
		AND b.value IS d.value AND b.ftype IS d.ftype AND b.mode IS d.mode AND b.owner IS d.owner
		AND b.grp IS d.grp AND b.target IS d.target AND b.size IS d.size AND b.mtime_ns IS d.mtime_ns
		AND b.ctime_ns IS d.ctime_ns AND b.ino IS d.ino AND b.dev IS d.dev AND b.error IS d.error
		AND b.attrs IS d.attrs) ORDER BY d.kind, d.key"
}
# diff_json OLD NEW: the strict diff as JSON, snapshot ids left out.
diff_json() {
	ed --db "$DB" diff "@$1" "@$2" --format json --policy "$TMP/strict.ini"
	printf '%s' "$OUT" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(json.dumps([d["summary"], d["drift"]], sort_keys=True))'
}
# drift OLD NEW: the strict diff's entries as "kind key change fields", one a line.
drift() {
	ed --db "$DB" diff "@$1" "@$2" --format json --policy "$TMP/strict.ini"
	printf '%s' "$OUT" | python3 -c 'import json, sys
d = json.load(sys.stdin)
for e in sorted(d["drift"], key=lambda e: (e["kind"], e["key"])):
    print(e["kind"], e["key"], e["change"], ",".join(e.get("fields", [])))'
}
# export_parts FILE: the items array, then the kept contents by fingerprint.
export_parts() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(d["items"], sort_keys=True))
print(json.dumps(sorted(d["contents"], key=lambda c: c["fingerprint"]), sort_keys=True))
PY
}

PREV=""      # h1's previous snapshot
DELTA=""     # h1's snapshot of this round
FULL=""      # the --full collection of this round's tree (env ref, host full)
PREV_FULL="" # and of the previous round's
# round NAME EXPECT: collects h1 incrementally, stored as EXPECT says (delta:
# a small delta; big: a delta carrying more than half the items; full: a full
# snapshot), then the same tree --full as host full of env ref, and checks
# that the two read the same everywhere: items_v, the snapshot's item count,
# diff, gate, the diff from the previous snapshot, and export.
round() {
	local name=$1 expect=$2 own n
	PREV=$DELTA PREV_FULL=$FULL
	collect h1
	exits 0 "$name: incremental collection of h1"
	DELTA=${OUT:-0}
	own=$(own_rows "$DELTA") n=$(item_count "$DELTA")
	case $expect in
	delta)
		isnt "$(base_of "$DELTA")" NULL "$name: stored as a delta (base_id set)"
		ok "$name: the delta's rows ($own) are at most half its items ($n)" test $((2 * own)) -le "$n"
		;;
	big)
		isnt "$(base_of "$DELTA")" NULL "$name: stored as a delta (base_id set)"
		ok "$name: the delta's rows ($own) are more than half its items ($n)" test $((2 * own)) -gt "$n"
		;;
	full)
		is "$(base_of "$DELTA")" NULL "$name: stored as a full snapshot (base_id NULL)"
		;;
	esac
	if [ "$expect" != full ]; then
		is "$(own_items "$DELTA")" "$(changed_items "$DELTA")" \
			"$name: the delta's own items are exactly those that differ from its base"
	fi
	collect full --full
	exits 0 "$name: --full collection of the same tree"
	FULL=${OUT:-0}
	is "$(items "$DELTA")" "$(items "$FULL")" "$name: items_v of h1 equals the full collection's, every column"
	is "$n" "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA")" \
		"$name: snapshots_v.items is the resolved item count"
	is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND fingerprint = ''")" 0 \
		"$name: no tombstone shows through items_v"
	ed --db "$DB" diff "@$FULL" "@$DELTA" --policy "$TMP/strict.ini"
	exits 0 "$name: diff full vs h1 exits 0"
	like "$OUT" 'no drift' "$name: diff full vs h1 says no drift"
	ed --db "$DB" gate --production ref --staging delta --policy "$TMP/strict.ini"
	exits 0 "$name: gate with the full collection as production and h1 as staging passes"
	if [ -n "$PREV_FULL" ]; then
		is "$(diff_json "$PREV" "$DELTA")" "$(diff_json "$PREV_FULL" "$FULL")" \
			"$name: h1's diff from its previous snapshot is the full collections' diff"
	fi
	ed --db "$DB" export "@$DELTA" --out "$TMP/delta.json"
	local rc1=$RC
	ed --db "$DB" export "@$FULL" --out "$TMP/full.json"
	if [ "$rc1" = 0 ] && [ "$RC" = 0 ]; then
		export_parts "$TMP/delta.json" >"$TMP/delta.parts"
		export_parts "$TMP/full.json" >"$TMP/full.parts"
		is "$(sed -n 1p "$TMP/delta.parts")" "$(sed -n 1p "$TMP/full.parts")" \
			"$name: export of h1 has the full collection's items array"
		is "$(sed -n 2p "$TMP/delta.parts")" "$(sed -n 2p "$TMP/full.parts")" \
			"$name: export of h1 has the full collection's kept contents"
	else
		fail "$name: export of h1 and of the full collection" "export exited $rc1 and $RC: $ERR"
	fi
}

# --- the first collection is full; one with nothing changed stores nothing ---
collect h1
exits 0 "first collection of h1"
DELTA=${OUT:-0}
FIRST=$DELTA
is "$(base_of "$FIRST")" NULL "the first collection is a full snapshot"
collect full --full
FULL=${OUT:-0}
is "$(items "$FIRST")" "$(items "$FULL")" "the first collection equals a --full one"
N0=$(item_count "$FIRST")
ok "the tree gives a fair number of items ($N0)" test "$N0" -gt 120

round "unchanged" delta
BASE=$(base_of "$DELTA")
is "$BASE" "$FIRST" "unchanged: the delta's base is the first snapshot"
is "$(own_rows "$DELTA")" 0 "unchanged: a delta of an unchanged tree has no rows of its own"

# --- round 1: content, mode, mtime only, removal, a file deep below untouched folders ---
printf 'plain file 01, now longer\n' >"$R/srv/plain/f01"
chmod 600 "$R/srv/plain/f02"
touch -d '2001-02-03 04:05:06' "$R/srv/plain/f03"
rm "$R/srv/plain/f04"
expected="file /etc/app/conf.d/sub/deep.conf changed content
file /srv/plain/f01 changed content
file /srv/plain/f02 changed mode
file /srv/plain/f04 removed "
# Owner and group change only as root.
if [ "$(id -u)" = 0 ] && chown 4321:4321 "$R/srv/plain/f06"; then
	expected="$expected
file /srv/plain/f06 changed owner,group"
fi
dirs_mt() { stat -c '%y %z' "$R/etc/app/conf.d/sub" "$R/etc/app/conf.d" "$R/etc/app"; }
before=$(dirs_mt)
printf 'deep = 2\n' >"$R/etc/app/conf.d/sub/deep.conf"   # same size, in place
is "$(dirs_mt)" "$before" "round 1: rewriting deep.conf in place leaves its folders' times alone"
round "round 1" delta
is "$(base_of "$DELTA")" "$BASE" "round 1: delta on the same base"
is "$(q "$DB" "SELECT key FROM items WHERE snapshot_id = $DELTA AND state = X'FF'")" "/srv/plain/f04" \
	"round 1: the removed file is the delta's one tombstone"
is "$(drift "$PREV" "$DELTA")" "$expected" \
	"round 1: diff against the previous snapshot of h1 is exactly the round's changes"
is "$(q "$DB" "SELECT mtime_ns / 1000000000 FROM items_v WHERE snapshot_id = $DELTA AND key = '/srv/plain/f03'")" \
	"$(stat -c %Y "$R/srv/plain/f03")" "round 1: the touched file's new mtime is in the delta"

# --- round 2: folder trees with configs removed, folder -> file, config file -> folder ---
rm -r "$R/srv/tree" "$R/srv/sib/x"
rm -r "$R/srv/dir2file"
printf 'now a file\n' >"$R/srv/dir2file"
rm "$R/srv/conf2dir.json"
mkdir -p "$R/srv/conf2dir.json/sub"
printf '{"n": {"v": 1}}\n' >"$R/srv/conf2dir.json/n.json"
printf 'below\n' >"$R/srv/conf2dir.json/sub/b.txt"
round "round 2" delta
is "$(base_of "$DELTA")" "$BASE" "round 2: delta on delta, still on the same base"
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA
	AND (key LIKE '/srv/tree%' OR key LIKE '/srv/dir2file/%' OR key LIKE '/srv/conf2dir.json#%'
	OR key LIKE '/srv/sib/x/%' OR key = '/srv/sib/x')")" 0 \
	"round 2: nothing of the removed trees, the old folder's files or the old file's configs remains"
is "$(q "$DB" "SELECT group_concat(key, ' ') FROM (SELECT key FROM items_v WHERE snapshot_id = $DELTA
	AND key LIKE '/srv/sib/%' ORDER BY key)")" \
	"/srv/sib/x-y /srv/sib/x.z /srv/sib/x.z/z.json /srv/sib/x.z/z.json#/z" \
	"round 2: the removed folder's siblings that sort inside its range stay"
d=$(drift "$PREV" "$DELTA")
like "$d" '^config /srv/tree/a/b/t.json#/t/y/1 removed' "round 2: diff shows a config of the removed tree removed"
like "$d" '^file /srv/dir2file changed (.*,)?type(,|$)' "round 2: diff shows the folder that became a file changed type"
like "$d" '^file /srv/dir2file/inner/c.ini removed' "round 2: diff shows the old folder's file removed"
like "$d" '^config /srv/conf2dir.json#/c/d/0 removed' "round 2: diff shows the config file's items removed when it became a folder"
like "$d" '^config /srv/conf2dir.json/n.json#/n/v added' "round 2: diff shows the config in the new folder added"

# --- round 3: a JSON config becomes a symlink, a rename, a removed name comes back, a new tree ---
rm "$R/etc/app/other.json"
ln -s config.json "$R/etc/app/other.json"
mv "$R/srv/plain/f05" "$R/srv/plain/f05.renamed"
mkdir "$R/srv/plain/f04"                       # removed in round 1: a tombstone in the deltas
printf '{"back": true}\n' >"$R/srv/plain/f04/back.json"
mkdir -p "$R/srv/new/x/y"
printf 'new:\n  list: [1, 2]\n' >"$R/srv/new/x/y/n.yaml"
mv "$R/srv/data" "$R/srv/data2"                # a folder renamed, with its FIFO
ln -sfn conf.d/sub "$R/etc/app/current"        # a symlink retargeted
round "round 3" delta
is "$(base_of "$DELTA")" "$BASE" "round 3: a third delta in a row, still on the same base"
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND key LIKE '/etc/app/other.json#%'")" 0 \
	"round 3: the config items of the JSON file now a symlink are gone"
d=$(drift "$PREV" "$DELTA")
like "$d" '^config /etc/app/other.json#/other/b/0 removed' "round 3: diff shows other.json's configs removed"
like "$d" '^file /etc/app/other.json changed (.*,)?type(,|$)' "round 3: diff shows other.json changed type"
like "$d" '^file /srv/plain/f05 removed' "round 3: diff shows the old name removed"
like "$d" '^file /srv/plain/f05.renamed added' "round 3: diff shows the new name added"
like "$d" '^config /srv/plain/f04/back.json#/back added' "round 3: diff shows the config below the name that came back"
like "$d" '^config /srv/new/x/y/n.yaml#/new/list/1 added' "round 3: diff shows the new tree's config added"
like "$d" '^file /srv/data/pipe removed' "round 3: diff shows the FIFO of the renamed folder removed"
like "$d" '^file /srv/data2/pipe added' "round 3: diff shows the FIFO under the new name added"
like "$d" '^file /etc/app/current changed target$' "round 3: diff shows the symlink's new target"

# --- round 4: JSON keys added and removed, YAML unparseable, the secret, system facts ---
cat >"$R/etc/app/config.json" <<'EOF'
{"db": {"host": "db2", "replicas": ["r1"], "timeout": 30},
 "features": {"search": true, "deep": {"level": {"k": "v", "k2": "w"}}}}
EOF
printf 'server: [unclosed\n  : : bad\n' >"$R/etc/app/app.yaml"
printf 'USER=app\npassword=s3cret-2\n' >"$R/etc/app/.env"
printf 'ID=debian\nPRETTY_NAME="Debian 12 (changed)"\n' >"$R/etc/os-release"
rm "$R/etc/default/locale"                     # leaves /etc/default empty
round "round 4" delta
is "$(base_of "$DELTA")" "$BASE" "round 4: a fourth delta in a row, still on the same base"
d=$(drift "$PREV" "$DELTA")
is "$(printf '%s\n' "$d" | grep '^config /etc/app/config.json#')" \
"config /etc/app/config.json#/db/host changed value
config /etc/app/config.json#/db/port removed 
config /etc/app/config.json#/db/replicas/1 removed 
config /etc/app/config.json#/db/replicas/2/zone removed 
config /etc/app/config.json#/db/timeout added 
config /etc/app/config.json#/features/deep/level/k2 added " \
	"round 4: diff shows exactly the JSON keys changed, removed and added"
like "$d" '^config /etc/app/.env#/password changed' "round 4: diff shows the secret changed"
like "$d" '^config /etc/app/app.yaml#/server/port removed' "round 4: diff shows the unparseable YAML's keys gone"
is "$(printf '%s\n' "$d" | grep '^system ')" "system locale/LANG removed 
system os/PRETTY_NAME changed value
system os/VERSION_ID removed " "round 4: diff shows exactly the system facts changed and removed"
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND value LIKE '%s3cret%'")" 0 \
	"round 4: the secret's value is stored nowhere"

# --- --full on h1: a full snapshot ---
collect h1 --full
exits 0 "--full collection of h1"
DELTA=${OUT:-0}
is "$(base_of "$DELTA")" NULL "--full on h1 gives a full snapshot"
is "$(items "$DELTA")" "$(items "$FULL")" "--full on h1 equals the last full collection (nothing changed)"
BASE=$DELTA

# --- fallback: a delta carrying more than half the items makes the next one full ---
for f in "$R"/srv/plain/f*; do [ -f "$f" ] && printf 'rewritten %s\n' "${f##*/}" >>"$f"; done
round "rewrite all" big
printf 'once more\n' >>"$R/srv/plain/f10"
printf 'server:\n  port: 8081\n' >"$R/etc/app/app.yaml"   # parses again
round "after the big delta" full
BASE=$DELTA
printf 'and again\n' >>"$R/srv/plain/f11"
round "after the fallback" delta
is "$(base_of "$DELTA")" "$BASE" "after the fallback: the next delta is on the fallback's full snapshot"

# --- a changed profile: full, and it excludes what it says ---
printf 'scratch\n' >"$R/srv/plain/scratch.tmp"
printf 'scratch\n' >"$R/etc/app/conf.d/sub/x.tmp"
round "with .tmp files" delta
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND key LIKE '%.tmp'")" 2 \
	"without a profile the .tmp files are collected"
printf '[collect]\nexclude = *.tmp\n' >"$TMP/profile.ini"
PROFILE=(--profile "$TMP/profile.ini")
round "new profile" full
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND key LIKE '%.tmp'")" 0 \
	"new profile: the excluded .tmp files are not items"
printf 'more scratch\n' >"$R/srv/plain/other.tmp"
printf 'plain file 12 changed\n' >"$R/srv/plain/f12"
round "same profile again" delta
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND key LIKE '%.tmp'")" 0 \
	"same profile again: a new excluded file is no item of the delta"

# --- names with '#', the separator of config keys (PATH#/pointer) ---
# c.json is read again and a is removed: the configs of c.json#2.json and
# a#b.json, files of their own and unchanged, must stay.
printf '{"k": 5}\n' >"$R/srv/hash/c.json"
rm "$R/srv/hash/a"
round "'#' names, delta" delta
# An incremental collection that is not a delta (the profile changed again)
# on a full one: unchanged c.json is not read again, and of the previous
# snapshot's configs it carries over its own only, not those of the removed
# c.json#2.json.
collect h1 --full
exits 0 "--full collection of h1 before the next profile"
DELTA=${OUT:-0}
rm "$R/srv/hash/c.json#2.json"
printf '[collect]\nexclude = *.tmp *.bak\n' >"$TMP/profile.ini"
round "'#' names, new profile" full
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = $DELTA AND key LIKE '/srv/hash/c.json#2.json%'")" 0 \
	"'#' names, new profile: nothing of the removed c.json#2.json remains"

# --- trees given other ways: a config file as the tree, the whole root "/" ---
# mini NAME ROOT ARGS...: host m1 of env mini collected incrementally (it must
# be a delta) and host mf of env minif with --full, from the same tree.
mini() {
	local name=$1 root=$2 d
	shift 2
	ed --db "$DB" collect --env mini --host m1 --root "$root" --packages none "$@"
	exits 0 "$name: incremental collection"
	d=${OUT:-0}
	isnt "$(base_of "$d")" NULL "$name: stored as a delta"
	ed --db "$DB" collect --env minif --host mf --root "$root" --packages none --full "$@"
	exits 0 "$name: --full collection"
	is "$(items "$d")" "$(items "${OUT:-0}")" "$name: the delta equals the full collection"
}
M=$TMP/mini
mkdir -p "$M/etc/d" "$M/srv/keep"
printf '{"a": 1, "b": {"c": 2}}\n' >"$M/etc/top.json"
for i in $(seq 1 20); do printf '%s\n' "$i" >"$M/srv/keep/f$i"; done
printf 'x\n' >"$M/top.txt"
printf 'y\n' >"$M/etc/d/y"
# A tree that is one config file: its items are never tombstoned by its own top.
ed --db "$DB" collect --env mini --host m1 --root "$M" --packages none --path /etc/top.json
exits 0 "a config file as the tree: first collection"
mini "a config file as the tree, unchanged" "$M" --path /etc/top.json
printf '{"a": 1, "b": {"c": 3}, "d": 4}\n' >"$M/etc/top.json"
mini "a config file as the tree, edited" "$M" --path /etc/top.json
# The root "/" as the tree: entries gone right below it are gone from the delta.
ed --db "$DB" collect --env mini --host m1 --root "$M" --packages none --path /
exits 0 "--path /: first collection"
rm "$M/top.txt"
rm -r "$M/etc/d"
mini "--path /, entries removed below the root" "$M" --path /
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = (SELECT max(id) FROM snapshots WHERE host = 'm1')
	AND key IN ('/top.txt', '/etc/d', '/etc/d/y')")" 0 "--path /: the removed entries are no items"

# --- a file X beside a folder "X#": config keys X#/y.json#/k read both ways ---
H=$TMP/hashdir
mkdir -p "$H/srv/h/c.json#" "$H/srv/k/c.json#"
for i in $(seq 1 20); do printf '%s\n' "$i" >"$H/srv/h/f$i"; done
printf '{"o": {"l": 1}}\n' >"$H/srv/h/c.json"
printf '{"x": 1}\n' >"$H/srv/h/c.json#/y.json"
printf '{"o": {"l": 1}}\n' >"$H/srv/k/c.json"
printf '{"x": 1}\n' >"$H/srv/k/c.json#/y.json"
ed --db "$DB" collect --env mini --host m1 --root "$H" --packages none --path /srv
exits 0 "a file X beside a folder X#: first collection"
printf '{"o": {"l": 2}}\n' >"$H/srv/h/c.json"
mini "X edited, X#/y.json unchanged" "$H" --path /srv
rm "$H/srv/h/c.json"
mini "X removed, X#/y.json unchanged" "$H" --path /srv
rm -r "$H/srv/k/c.json#"
mini "X# removed, X unchanged" "$H" --path /srv
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE snapshot_id = (SELECT max(id) FROM snapshots WHERE host = 'm1')
	AND key IN ('/srv/h/c.json#/y.json#/x', '/srv/k/c.json#/o/l')")" 2 "  both files' configs are there"

done_testing
