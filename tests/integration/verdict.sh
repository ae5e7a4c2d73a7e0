#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A verdict teams can trust (issue 12): with the default profile and policy,
# every blocking line is a real problem, and every real problem is there.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# --- 1. must-differ only between two environments ---
# The rule stops staging from reusing production's secrets; between two
# snapshots of one environment an equal secret is the expected case.
DB=$TMP/md.db
R=$TMP/md
mkdir -p "$R/etc/app"
printf 'password = hunter2\nhost = db1\n' >"$R/etc/app/db.conf"
printf 'not really a key\n' >"$R/etc/app/server.key"
printf '{"api_token": "t0k3n", "pool": 5}\n' >"$R/etc/app/app.json"
init_store "$DB"
for env in production production staging; do
	ed --db "$DB" collect --env "$env" --root "$R" --packages none
	exits 0 "collect $env"
done
ed --db "$DB" diff @1 @2
exits 0 "diff of two snapshots of one unchanged host: no drift"
contains "$OUT" "no drift" "  and it says so"
unlike "$OUT" "same secret" "  no must-differ line"
for fmt in json junit markdown html sarif; do
	ed --db "$DB" diff @1 @2 --format "$fmt"
	exits 0 "  --format $fmt: exit 0 too"
done
ed --db "$DB" gate --production production --staging production
exits 0 "gate of an environment against itself passes"
ed --db "$DB" diff production staging
exits 1 "production against staging: the shared secrets still block"
contains "$OUT" "changed /etc/app/db.conf  the same secret on both sides" "  the file holding a password"
contains "$OUT" "changed /etc/app/server.key  the same secret on both sides" "  the file secret by name"
contains "$OUT" "/etc/app/app.json#/api_token" "  the config leaf"
ed --db "$DB" gate --production production --staging staging
exits 1 "gate production against staging blocks"
# report's history section compares each environment with itself.
ed --db "$DB" collect --env staging --root "$R" --packages none
ed --db "$DB" report --since 1h
history=$(printf '%s\n' "$OUT" | sed -n '/^== staging: what changed/,/^== /p')
contains "$history" "no drift" "report: staging's two snapshots in the window are compared: no drift"
unlike "$history" "same secret" "  its own history holds no must-differ line"

done_testing
