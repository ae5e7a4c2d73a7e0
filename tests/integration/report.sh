#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# report: the current drift of each pair, each environment's own history
# since the previous report, the trend per day; every run recorded.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
init_store "$DB"
for h in p1 s1; do
	mkdir -p "$TMP/$h/etc/app" "$TMP/$h/var/lib/dpkg"
	printf 'a = 1\n' >"$TMP/$h/etc/app/app.conf"
	printf 'Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n' >"$TMP/$h/var/lib/dpkg/status"
done
sed -i 's/1.0/0.9/' "$TMP/s1/var/lib/dpkg/status"
collect() { ed --db "$DB" collect --env "$1" --host "$2" --root "$TMP/$2" --path /etc; }
collect production p1; collect staging s1

ed --db "$DB" report --out "$TMP/r1.txt"
exits 0 "report exits 0 even with drift"
r1=$(cat "$TMP/r1.txt")
contains "$r1" "== staging against production: current drift ==" "the current drift of the default pair"
contains "$r1" "dpkg:tool:amd64  version 1.0 -> 0.9 (behind)" "  judged by the default policy (behind)"
contains "$r1" "one complete snapshot of staging since then: nothing to compare" "no history yet: said so"
like "$r1" "$(date -u +%Y-%m-%d) +1 +0 +0 +1 +0" "the trend has today's counts"
is "$(q "$DB" "SELECT count(*) FROM runs_v WHERE command = 'report'")" "1" "the run is recorded"

printf 'a = 2\n' >"$TMP/s1/etc/app/app.conf"
collect staging s1
ed --db "$DB" report --format markdown
exits 0 "a second report, in Markdown"
contains "$OUT" "## staging: what changed since the previous report" "staging's own history since the previous report"
contains "$OUT" "/etc/app/app.conf" "  shows the file changed in staging"
contains "$OUT" "| day | blocking | added | removed | changed | ignored |" "the trend as a Markdown table"
is "$(q "$DB" "SELECT count(*) FROM runs_v WHERE command = 'report'")" "2" "both runs recorded"
# Issue 12.7: an environment's own history is not "staging differs from staging", and
# nothing in it is judged ("all drift blocks" was wrong twice over).
history=$(printf '%s\n' "$OUT" | sed -n '/^## staging: what changed/,/^## trend/p')
contains "$history" "### envdrift: what changed in staging" "  the history's title names one environment"
unlike "$history" "differs from staging" "  not \"staging differs from staging\""
contains "$history" "Policy: none: no policy applies to an environment's own history" "  says no policy applies"
unlike "$OUT" "all drift blocks" "  nowhere says all drift blocks"
contains "$history" "**1 difference** (no policy applies" "  \"1 difference\", no blocking count"
contains "$history" '| - | changed | <code>/etc/app/app.conf</code>' "  no severity without a policy"
contains "$history" $'```diff\n--- staging /etc/app/app.conf\n+++ staging /etc/app/app.conf\n@@ -1 +1 @@\n-a = 1\n+a = 2\n```' \
	"  the unified diff of the kept content, folded"
printf 'a = 3\n' >"$TMP/s1/etc/app/app.conf"
collect staging s1
ed --db "$DB" report
exits 0 "a third report, in text"
history=$(printf '%s\n' "$OUT" | sed -n '/^== staging: what changed/,/^== trend/p')
contains "$history" "1 difference: 0 added, 0 removed, 1 changed (no policy applies to an environment's own history)" \
	"  text history: \"1 difference\", no policy"
contains "$history" "  changed /etc/app/app.conf  content differs" "  its lines carry no verdict"
unlike "$OUT" "1 differences" "  never \"1 differences\""
contains "$OUT" "changed [block] dpkg:tool:amd64" "  the current drift's lines carry theirs"
unlike "$history" "^ +[-+]a = " "  without --diff, text shows no content diff"
printf 'a = 4\n' >"$TMP/s1/etc/app/app.conf"
collect staging s1
ed --db "$DB" report --diff
exits 0 "report --diff"
history=$(printf '%s\n' "$OUT" | sed -n '/^== staging: what changed/,/^== trend/p')
contains "$history" $'      @@ -1 +1 @@\n      -a = 3\n      +a = 4' "  the text history shows the unified diff of kept texts"
ed --db "$DB" report --pair production
exits 2 "a malformed --pair is refused"

# An environment the store never saw: the rest is reported, the exit says so.
RUNS=$(q "$DB" "SELECT count(*) FROM runs_v WHERE command = 'report'")
ed --db "$DB" report --pair production:staging --pair production:qa --out "$TMP/r2.txt"
exits 2 "report with an environment that has no snapshot exits 2"
like "$ERR" "^envdrift report: environment 'qa' has no complete snapshot in store .*; known environments: production, staging" \
	"  and says which, naming the known ones"
r2=$(cat "$TMP/r2.txt" 2>/dev/null)
contains "$r2" "== qa against production: current drift ==
cannot compare: environment 'qa' has no complete snapshot" "  the report is written all the same, saying so under that pair"
contains "$r2" "dpkg:tool:amd64  version 1.0 -> 0.9 (behind)" "  with the other pair's drift"
contains "$r2" "== qa: what changed since" "  qa's history section says there is nothing"
contains "$r2" "no complete snapshot of qa in this store" "    in words"
is "$(q "$DB" "SELECT count(*) FROM runs_v WHERE command = 'report'")" "$((RUNS + 1))" \
	"  only the pair that was compared is recorded"

done_testing
