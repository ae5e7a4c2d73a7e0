#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's "query the store yourself" questions, run as written by the
# sqlite3 shell against a fleet store built here, with their answers checked.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
init_store "$DB"
stanza() { printf 'Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n' "$1" "$2"; }
host() { # NAME OPENSSL POOL
	mkdir -p "$TMP/$1/etc/app" "$TMP/$1/var/lib/dpkg"
	{ stanza openssl "$2"; stanza curl 7.88.1-10; } >"$TMP/$1/var/lib/dpkg/status"
	printf '{"db": {"pool": %s}}\n' "$3" >"$TMP/$1/etc/app/config.json"
}
host web-1 3.0.15-1 10; host web-2 3.0.15-1 10; host db-1 3.0.15-1 10
host web-a 3.0.15-1 5; host web-b 3.0.11-1 5
printf 'extra\n' >"$TMP/web-2/etc/app/extra.conf"
collect() { ed --db "$DB" collect --env "$1" --host "$2" --role "$3" --root "$TMP/$2" --path /etc; }
collect production web-1 web; collect production web-2 web; collect production db-1 db
collect staging web-a web; collect staging web-b web
printf '{"db": {"pool": 6}}\n' >"$TMP/web-a/etc/app/config.json"
collect staging web-a web
ed --db "$DB" gate --record
ed --db "$DB" gate --record
sqlite3 "$DB" "UPDATE snapshots SET finished_at = '2001-02-03T04:05:06Z' WHERE host = 'db-1'"

# sql N: the SQL of README's question N.
sql() {
	python3 - "$SRCDIR/README.md" "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- q:%s -->\n```sql\n(.*?)```" % sys.argv[2], text, re.S)
sys.stdout.write(m.group(1) if m else "")
PY
}
ask() { sqlite3 -readonly -cmd '.timeout 5000' -separator ' ' "$DB" "$(sql "$1")" 2>&1; }

for n in 1 2 3 4 5 6; do ok "README question $n is there" test -n "$(sql $n)"; done
is "$(ask 1)" "staging web-b 3.0.11-1" "1: the host with a different openssl"
is "$(ask 2)" "staging /etc/app/config.json#/db/pool" "2: the config key that drifted this week"
is "$(ask 3)" "production web file /etc/app/extra.conf 1 1
staging web config /etc/app/config.json#/db/pool 2 2
staging web file /etc/app/config.json 2 2
staging web package dpkg:openssl:amd64 2 2" "3: snowflakes per role"
like "$(ask 4 | cut -d' ' -f1-4 | sort)" "^staging config /etc/app/config.json#/db/pool warn" "4: the latest run's drift with its (default policy) severity"
is "$(ask 4 | awk '{print $5}' | sort -u | wc -l)" "1" "4: every item carries the first run's 'since'"
is "$(ask 5)" "changed config /etc/app/config.json#/db/pool
changed file /etc/app/config.json" "5: what changed on web-a between its two snapshots"
is "$(ask 6)" "production db-1 2001-02-03T04:05:06Z" "6: the host not collected for a day"

done_testing
