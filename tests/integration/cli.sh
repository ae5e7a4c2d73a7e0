#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line: help and version, the store's default location, clean
# output to pipes, collect's one-line stdout, and deterministic collections.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# --- help and version ---
ed --help
exits 0 "envdrift --help exits 0"
for w in --db --help --version init collect snapshots diff gate; do
	contains "$OUT" "$w" "  top-level help mentions $w"
done
is "$ERR" "" "  help goes to stdout, nothing on stderr"

declare -A OPTS=(
	[init]="--db"
	[collect]="--env --host --root --path --packages --schema"
	[snapshots]="--env --format"
	[diff]="REFERENCE CANDIDATE --format @ID"
	[gate]="--production --staging"
)
for cmd in init collect snapshots diff gate; do
	# No store exists: help must not need one.
	ed --db "$TMP/none.db" "$cmd" --help
	exits 0 "envdrift $cmd --help exits 0 (without a store)"
	like "$OUT" "^usage: envdrift .*$cmd" "  it starts with a usage line"
	for o in ${OPTS[$cmd]}; do
		contains "$OUT" "$o" "  $cmd --help mentions $o"
	done
	ok "  $cmd --help did not create a store" test ! -e "$TMP/none.db"
done

ed --version
exits 0 "envdrift --version exits 0"
VERSION=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$SRCDIR/meson.build" | head -1)
is "$(head -1 <<<"$OUT")" "envdrift ${VERSION:-?}" "  its first line is 'envdrift VERSION' with meson.build's version"
is "$(sed -n 2p <<<"$OUT")" "formats: envdrift.snapshot/1 envdrift.diff/1" "  its second line names the document formats it speaks"
ed --bogus-flag
exits 2 "an unknown global option: exit 2"
like "$ERR" "bogus-flag" "  the message names it"

# --- the store's location: --db, else $ENVDRIFT_DB, else ./envdrift.db ---
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && "$ENVDRIFT" init >/dev/null 2>&1)
ok "without --db, init creates ./envdrift.db" test -f "$TMP/cwd/envdrift.db"
ENVDRIFT_DB=$TMP/fromenv.db run "$ENVDRIFT" init
exits 0 "ENVDRIFT_DB=PATH init exits 0"
ok "  and creates PATH" test -f "$TMP/fromenv.db"
ENVDRIFT_DB=$TMP/fromenv.db run "$ENVDRIFT" --db "$TMP/flag.db" init
ok "--db wins over ENVDRIFT_DB" test -f "$TMP/flag.db"

# --- fixture ---
DB=$TMP/store.db
R=$TMP/root
mkdir -p "$R/etc/app/conf.d" "$R/var/lib/dpkg" "$R/var/lib/app"
echo web-1 >"$R/etc/hostname"
printf 'a = 1\n' >"$R/etc/app/conf.d/10-a.conf"
printf 'b = 2\n' >"$R/etc/app/conf.d/20-b.conf"
printf '{"z": 1, "a": {"list": [1, 2, {"deep": null}], "s": "x"}, "t~/k": true}\n' >"$R/etc/app/config.json"
ln -s conf.d/10-a.conf "$R/etc/app/current.conf"
mkfifo "$R/etc/app/pipe"
chmod 640 "$R/etc/app/conf.d/20-b.conf"
dpkg_slice 6 >"$R/var/lib/dpkg/status"
sqlite3 "$R/var/lib/app/app.db" 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE); CREATE INDEX t_name ON t (name); CREATE VIEW v AS SELECT name FROM t;'
init_store "$DB"

COLLECT=(--db "$DB" collect --env production --root "$R" --path /etc --schema app=sqlite:/var/lib/app/app.db)
ed "${COLLECT[@]}"
exits 0 "collect exits 0"
is "$(printf '%s\n' "$OUT" | wc -l)" "1" "collect prints exactly one line on stdout"
like "$OUT" '^[1-9][0-9]*$' "  and that line is the snapshot id"
is "$(wc -c <"$TMP/.out")" "$((${#OUT} + 1))" "  nothing else: the id and a newline"
A=$OUT
unlike "$ERR" $'\r' "  no progress carriage returns on stderr when it is not a terminal"
is "$(q "$DB" "select host from snapshots where id=$A")" "web-1" "  --host defaults to ROOT/etc/hostname"
ed "${COLLECT[@]}"
B=$OUT
ITEMS="select kind, key, upper(fingerprint), value, ftype, mode, owner, grp, target, size, error, attrs from items_v where snapshot_id=%s order by 1, 2"
# shellcheck disable=SC2059
QA=$(q "$DB" "$(printf "$ITEMS" "$A")")
# shellcheck disable=SC2059
QB=$(q "$DB" "$(printf "$ITEMS" "$B")")
is "$QB" "$QA" "two collections of the same tree give identical items"
is "$(q "$DB" "select group_concat(kind, ' ') from (select distinct kind from items_v where snapshot_id=$A order by kind)")" "config file package schema system" \
	"  (items of all five kinds: file, config, package, schema, and the system facts a root without /proc records as unknown)"
is "$(q "$DB" "select items from snapshots_v where id=$A")" "$(q "$DB" "select count(*) from items_v where snapshot_id=$A")" \
	"  snapshots_v counts the items stored"
is "$(q "$DB" "select key from items_v where snapshot_id=$A and kind='config' order by key")" \
	'/etc/app/config.json#/a/list/0
/etc/app/config.json#/a/list/1
/etc/app/config.json#/a/list/2/deep
/etc/app/config.json#/a/s
/etc/app/config.json#/t~0~1k
/etc/app/config.json#/z' "config keys are RFC 6901 pointers, one per leaf"
ed --db "$DB" diff "@$A" "@$B"
exits 0 "the two collections diff with exit 0"

# --- nothing but plain text on pipes ---
printf 'a = 9\n' >"$R/etc/app/conf.d/10-a.conf"
ed --db "$DB" collect --env staging --root "$R" --path /etc --schema app=sqlite:/var/lib/app/app.db
S=$OUT
ESC=$'\033'
for args in "diff production staging" "diff production staging --format json" "snapshots" "snapshots --format json" "gate" "diff @$A @$B" "collect --env x --root $R"; do
	# shellcheck disable=SC2086
	ed --db "$DB" $args
	is "$(cat "$TMP/.out" "$TMP/.err" | grep -c "$ESC")" "0" "'$args' to a pipe: no escape bytes on stdout or stderr"
done
ed --db "$DB" diff production staging --format json
exits 1 "diff --format json exits 1 on drift"
ok "  stdout is one JSON document and nothing else" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/.out"
ed --db "$DB" snapshots --format json
ok "snapshots --format json is one JSON document" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/.out"
is "$(printf '%s' "$OUT" | json_get '[s["id"] for s in d["snapshots"]]')" "[$A, $B, $S, $((S + 1))]" "  listing every snapshot, oldest first"
ed --db "$DB" snapshots
exits 0 "snapshots (text) exits 0"
is "$(printf '%s\n' "$OUT" | awk '$1 ~ /^@?[0-9]+$/ { sub("@", "", $1); printf "%s %s %s|", $1, $2, $NF }')" \
	"$A production $(q "$DB" "select items from snapshots_v where id=$A")|$B production $(q "$DB" "select items from snapshots_v where id=$B")|$S staging $(q "$DB" "select items from snapshots_v where id=$S")|$((S + 1)) x $(q "$DB" "select items from snapshots_v where id=$((S + 1))")|" \
	"  one line per snapshot: id, env, ..., item count"

# --- exit codes as diff(1) (CLI-1) ---
ed --db "$DB" diff production production
exits 0 "equal: exit 0"
ed --db "$DB" diff production staging
exits 1 "drift: exit 1"
is "$ERR" "" "  a diff with drift writes nothing on stderr"
ed --db "$DB" diff production nosuch
exits 2 "error: exit 2"
is "$OUT" "" "  and nothing on stdout"

done_testing
