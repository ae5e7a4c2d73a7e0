#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gate: exit 2 when it cannot vouch for staging (stale snapshot, a host of the
# previous run gone), reports through --format/--out, runs recorded with
# --record so drift_v answers "since when has this drifted?".
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
init_store "$DB"
# Config file drift only warns under the default policy; this test is about
# the gate's mechanics, so every difference blocks here.
strict_policy "$TMP/strict.ini"
gate() { ed --db "$DB" gate --policy "$TMP/strict.ini" "$@"; }
for h in p1 p2 s1 s2; do
	mkdir -p "$TMP/$h/etc"
	printf 'a = 1\n' >"$TMP/$h/etc/app.conf"
done
printf 'a = 2\n' >"$TMP/s1/etc/app.conf"
printf 'a = 2\n' >"$TMP/s2/etc/app.conf"
collect() { ed --db "$DB" collect --env "$1" --host "$2" --root "$TMP/$2" --path /etc --packages none; }
collect production p1; collect production p2; collect staging s1; collect staging s2

gate --record
exits 1 "gate with drift: exit 1"
like "$ERR" "block: changed file /etc/app.conf" "one line per blocking item"
like "$(printf '%s' "$ERR" | tail -n 1)" "^gate: FAIL" "the summary comes last"
is "$(q "$DB" "SELECT count(*) FROM runs_v WHERE command = 'gate'")" "1" "--record stores the run"
first=$(q "$DB" "SELECT since FROM drift_v WHERE key = '/etc/app.conf'")
sleep 1.1
gate --record
is "$(q "$DB" "SELECT count(DISTINCT since) || ' ' || count(*) FROM drift_v WHERE key = '/etc/app.conf'")" "1 2" \
	"drift_v: the second run carries the first run's 'since' ($first)"

gate --format json --out "$TMP/report.json"
exits 1 "gate --format json --out: still the gate's exit"
is "$(json_get 'd["format"], d["summary"]["blocking"]' <"$TMP/report.json")" '["envdrift.diff/1", 1]' \
	"the report is written to --out"
ok "  and no temporary file is left" bash -c "! compgen -G \"$TMP/report.json.tmp*\" >/dev/null"

# A stale snapshot: make staging's s2 two days old.
q_rw() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
q_rw "UPDATE snapshots SET finished_at = '2000-01-01T00:00:00Z' WHERE host = 's2'"
gate
exits 2 "a snapshot older than --max-age: exit 2"
like "$ERR" "cannot vouch for staging: snapshot @[0-9]+ of staging/s2 finished at 2000-01-01" \
	"  the message names the snapshot and its age"
gate --max-age 0
exits 1 "--max-age 0 accepts any age"
gate --max-age 7x
exits 2 "a malformed --max-age is refused"

# A host of the previous recorded run gone: s2's snapshots no longer complete.
q_rw "UPDATE snapshots SET status = 'failed' WHERE host = 's2'"
gate --max-age 0
exits 2 "a host of the previous run without a snapshot now: exit 2"
like "$ERR" "host s2 of staging was in the previous recorded run" "  the message names the host"

# A collection error on an item whose drift blocks: the gate cannot vouch.
q_rw "UPDATE snapshots SET status = 'complete' WHERE host = 's2'"
q_rw "UPDATE items SET error = '/etc/app.conf: cannot open: Permission denied'
	WHERE key = '/etc/app.conf' AND snapshot_id = (SELECT max(id) FROM snapshots WHERE host = 's1')"
gate --max-age 0
exits 2 "a blocking item that could not be collected: exit 2"
like "$ERR" "could not be collected and would block, first file /etc/app.conf on staging/s1" \
	"  the message names the item, the host and the error"
ed --db "$DB" gate --max-age 0
isnt "$RC" 2 "under the default policy file drift only warns: a file error does not stop the gate"

printf '[production]\np1 = host=10.0.0.1\np2 = host=10.0.0.2\n[staging]\ns1 = host=10.1.0.1\ns3 = host=10.1.0.3\n' >"$TMP/inv.ini"
gate --max-age 0 --inventory "$TMP/inv.ini"
exits 2 "a host of the inventory without a snapshot: exit 2"
like "$ERR" "host s3 of staging is in the inventory" "  the message names the host"

gate --staging nosuch
exits 2 "an environment without snapshots: exit 2"
like "$ERR" "'nosuch'" "  naming it"

done_testing
