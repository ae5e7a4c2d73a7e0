#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Secret literals in SQLite schemas (issue 11, A.5): a password as a column
# default, in a check, a view, a trigger and a partial index is masked in what
# is stored, keyed in what is fingerprinted, and found nowhere (store, WAL,
# dump, any report format), not even as an unkeyed XXH3; a changed secret is
# still drift, the same secret elsewhere is none. PostgreSQL: postgres.sh.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LIT=Zq7-sqlite-canary-41
LIT2=Zq7-sqlite-canary-42
TOK=ghp_Zq7sqlitecanary0123456789abcdefghijk
DB=$TMP/store.db

# make_root ROOT CANARY: a host whose application database holds the canary.
make_root() {
	mkdir -p "$1/etc" "$1/var/lib/app"
	sqlite3 "$1/var/lib/app/app.db" "
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	password TEXT NOT NULL DEFAULT '$2',
	api_token TEXT,
	status TEXT DEFAULT 'active',
	CHECK (api_token <> '$2')
);
CREATE VIEW leaked AS SELECT '$2' AS secret, '$TOK' AS t, status FROM users;
CREATE TRIGGER reset AFTER INSERT ON users BEGIN
	UPDATE users SET password = '$2' WHERE id = new.id;
END;
CREATE INDEX live ON users (id) WHERE api_token = '$2' AND status = 'active';"
}
make_root "$TMP/prod" "$LIT"
make_root "$TMP/stg" "$LIT2"
make_root "$TMP/mirror" "$LIT"

init_store "$DB"
collect() { # ENV ROOT
	ed --db "$DB" collect --env "$1" --host h --root "$2" --path /etc --packages none \
		--schema app=sqlite:/var/lib/app/app.db
}
collect production "$TMP/prod"
exits 0 "collect a database with secret literals"
PID_=$OUT
collect staging "$TMP/stg"
exits 0 "collect it with another secret"
collect mirror "$TMP/mirror"
exits 0 "collect it with the same secret, on another host"

items() { q "$DB" "select key || char(9) || value || char(9) || coalesce(attrs, '') from items where snapshot_id=$PID_ and key like 'sqlite:app/$1' order by key"; }
is "$(items 'column/users.%')" \
	"sqlite:app/column/users.api_token	TEXT	
sqlite:app/column/users.id	INTEGER PRIMARY KEY	
sqlite:app/column/users.password	TEXT NOT NULL DEFAULT '<secret>'	{\"masked\":true}
sqlite:app/column/users.status	TEXT DEFAULT 'active'	" \
	"column default masked and marked; an ordinary default kept"
is "$(items 'table/users')" \
	"sqlite:app/table/users	CREATE TABLE users(CHECK(api_token <> '<secret>'))	{\"masked\":true}" \
	"check constraint masked"
is "$(items 'view/%')" \
	"sqlite:app/view/leaked	CREATE VIEW leaked AS SELECT '<secret>' AS secret, '<secret>' AS t, status FROM users	{\"masked\":true}" \
	"view: the secret-named literal and the token masked"
is "$(items 'trigger/%')" \
	"sqlite:app/trigger/reset	CREATE TRIGGER reset AFTER INSERT ON users BEGIN UPDATE users SET password = '<secret>' WHERE id = new.id; END	{\"masked\":true}" \
	"trigger assignment masked"
is "$(items 'index/%')" \
	"sqlite:app/index/live	CREATE INDEX live ON users(id) WHERE api_token = '<secret>' AND status = 'active'	{\"masked\":true}" \
	"partial index predicate masked, the ordinary literal kept"

ed --db "$DB" diff production staging --format json
exits 1 "another secret literal is drift"
printf '%s' "$OUT" >"$TMP/diff.json"
is "$(drift_shown "$TMP/diff.json")" "sqlite:app/column/users.password changed definition same-shown
sqlite:app/index/live changed definition same-shown
sqlite:app/table/users changed definition same-shown
sqlite:app/trigger/reset changed definition same-shown
sqlite:app/view/leaked changed definition same-shown" \
	"each item holding the secret changed, shown masked on both sides"
ed --db "$DB" diff production mirror
exits 0 "the same secret on another host: no drift (keyed fingerprints are equal)"

ART=()
leak_artifacts "$DB" production staging "$TMP/report" ART
is "$(leaks "$LIT" "$LIT2" "$TOK" "TEXT NOT NULL DEFAULT '$LIT'" "TEXT NOT NULL DEFAULT '$LIT2'" \
	-- "${ART[@]}")" "" \
	"the secrets, and the unkeyed XXH3 of them and of a definition: in no store, dump or diff format"
like "$(leaks "TEXT DEFAULT 'active'" -- "$DB")" "xxh3-128.* in $DB" \
	"(control) the search finds an ordinary definition's XXH3 in the store"
like "$(leaks "$LIT" -- "$TMP/prod/var/lib/app/app.db")" "'$LIT' in " \
	"(control) the search finds the canary in the inspected database"

done_testing
