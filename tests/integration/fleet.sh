#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fleets: environments of several hosts compare role by role; within a role
# the majority value is compared and the hosts that disagree with it are
# reported as snowflakes; a role on one side only is drift of its own.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
init_store "$DB"

# host NAME: a fixture root with the common web configuration.
host() {
	mkdir -p "$TMP/$1/etc/app"
	printf 'workers = 4\n' >"$TMP/$1/etc/app/app.conf"
	printf 'listen 80;\n' >"$TMP/$1/etc/app/nginx.conf"
}
collect() { # ENV HOST ROLE
	ed --db "$DB" collect --env "$1" --host "$2" --role "$3" --root "$TMP/$2" --path /etc --packages none
	exits 0 "collect $1/$3/$2"
}

for h in web-1 web-2 web-3 db-1 web-a web-b cache-1; do host "$h"; done
printf 'workers = 8\n' >"$TMP/web-2/etc/app/app.conf"       # a production snowflake
printf 'debug\n' >"$TMP/web-2/etc/app/extra.conf"           # only on the snowflake
printf 'listen 8080;\n' >"$TMP/web-a/etc/app/nginx.conf"     # staging web drifts...
printf 'listen 8080;\n' >"$TMP/web-b/etc/app/nginx.conf"     # ...on both hosts
printf 'workers = 2\n' >"$TMP/web-b/etc/app/app.conf"       # 1 against 1: web-a (first) wins
collect production web-1 web
collect production web-2 web
collect production web-3 web
collect production db-1 db
collect staging web-a web
collect staging web-b web
collect staging cache-1 cache

ed --db "$DB" diff production staging --format json
exits 1 "diff of two fleets: drift"
json=$OUT
is "$(printf '%s' "$json" | json_get '"\n".join(sorted("%s %s %s %s" % (e.get("role","-"), e["kind"], e["key"], e["change"]) for e in d["drift"]))')" \
"cache role cache added
db role db removed
web file /etc/app/nginx.conf changed" "role by role: the majority values differ only in nginx.conf; db and cache are roles of one side"
# fp TEXT: the first 12 hex digits of XXH3-128 of TEXT, as snowflake values show them.
fp() { printf "$1" | xxh128sum 2>/dev/null | cut -c1-12; }
is "$(printf '%s' "$json" | json_get '"\n".join(sorted("%s %s %s %s" % (f["env"], f["host"], f["key"], f["value"]) for f in d["snowflakes"]))')" \
"production web-2 /etc/app/app.conf file 0644 0:0 12 content $(fp 'workers = 8\n')
production web-2 /etc/app/extra.conf file 0644 0:0 6 content $(fp 'debug\n')
staging web-b /etc/app/app.conf file 0644 0:0 12 content $(fp 'workers = 2\n')" "snowflakes: the host, the item and its own value"
is "$(printf '%s' "$json" | json_get '"\n".join(sorted(str(f["majority"]) for f in d["snowflakes"]))')" \
"None
file 0644 0:0 12 content $(fp 'workers = 4\n')
file 0644 0:0 12 content $(fp 'workers = 4\n')" "and the majority value (None where the majority lacks the item)"
is "$(printf '%s' "$json" | json_get 'len(d["reference"]["hosts"]), len(d["candidate"]["hosts"])')" "[4, 3]" \
	"every host of both environments was compared"

ed --db "$DB" diff production staging
contains "$OUT" "snowflakes (3)" "the text report lists the snowflakes"
contains "$OUT" "role web" "and names the role of each group"
like "$(head -2 <<<"$OUT")" "^reference: production \\(4 hosts in 2 roles: web 3, db 1\\)" \
	"the header counts a side's hosts per role (one line, whatever the fleet's size)"
unlike "$(head -2 <<<"$OUT")" "web-1" "  without naming each host"
ed --db "$DB" diff production staging --hosts
is "$(sed -n '2,5p' <<<"$OUT" | sed 's/ @[0-9]*$//' | sort | tr '\n' ' ')" "  db/db-1   web/web-1   web/web-2   web/web-3 " \
	"--hosts: every host of the reference, one a line with its role"
ed --db "$DB" diff production staging --format markdown
contains "$OUT" "**production** 4 hosts in 2 roles: web 3, db 1" "markdown: the same summary"

# The same fleet twice: only its own snowflake remains, no drift.
for h in web-1 web-2 web-3 db-1; do
	ed --db "$DB" collect --env mirror --host "$h" --role "$([ "$h" = db-1 ] && echo db || echo web)" --root "$TMP/$h" --path /etc --packages none
done
ed --db "$DB" diff production mirror --format json
exits 0 "a fleet against its copy: no drift"
is "$(printf '%s' "$OUT" | json_get 'len(d["snowflakes"])')" "4" "  each side still reports web-2's two snowflakes"
ed --db "$DB" gate --staging mirror
exits 0 "gate passes for the copy"

# A bigger fleet: with more than 8 hosts in a role the differ reads every host
# on its own connection (no reading thread per host); the result is the same.
for i in 1 2 3 4 5; do
	host "big-p$i"
	host "big-s$i"
	printf 'listen 8080;\n' >"$TMP/big-s$i/etc/app/nginx.conf"
done
printf 'workers = 8\n' >"$TMP/big-p3/etc/app/app.conf"
for i in 1 2 3 4 5; do
	ed --db "$DB" collect --env bigprod --host "big-p$i" --role web --root "$TMP/big-p$i" --path /etc --packages none
	ed --db "$DB" collect --env bigstage --host "big-s$i" --role web --root "$TMP/big-s$i" --path /etc --packages none
done
ed --db "$DB" diff bigprod bigstage --format json
exits 1 "two fleets of 5 hosts in one role: drift"
is "$(printf '%s' "$OUT" | json_get '"\n".join(sorted("%s %s %s %s" % (e.get("role","-"), e["kind"], e["key"], e["change"]) for e in d["drift"]))')" \
	"web file /etc/app/nginx.conf changed" "  the majorities differ in nginx.conf only"
is "$(printf '%s' "$OUT" | json_get '[(f["host"], f["key"]) for f in d["snowflakes"]]')" \
	'[["big-p3", "/etc/app/app.conf"]]' "  and big-p3 is the one snowflake"
is "$(printf '%s' "$OUT" | json_get '[e["reference"]["content"] != e["candidate"]["content"] for e in d["drift"]]')" \
	"[true]" "  with both sides' content fingerprints"

done_testing
