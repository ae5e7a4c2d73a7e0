#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: installs packages, builds envdrift, lays out a sample production and staging host
# under demo-out/ from the files in demo/, collects both into demo-out/envdrift.db and shows
# how staging drifts from production; then runs 'envdrift serve' on the demo store for a moment
# (--serve: until ^C) and asks its API for the gate's verdict.
set -euo pipefail

keep_serving=""
[ "${1:-}" = --serve ] && keep_serving=1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bin=build/envdrift
out=demo-out
store=$out/envdrift.db

bash scripts/setup.sh
bash scripts/build.sh build

# Echoes a command the way a reader would type it from the repository root, then runs it.
show() {
	printf '\n$ %s\n' "$*"
	"$@"
}

# --- the two sample hosts -------------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
for env in production staging; do
	cp -R "demo/$env/root" "$out/$env"
	# git keeps neither owners nor most modes: set them as a real host would have them.
	find "$out/$env" -type d -exec chmod 0755 {} +
	find "$out/$env" -type f -exec chmod 0644 {} +
	chmod 0600 "$out/$env/etc/app/session.key"
	mkdir -p "$out/$env/var/lib/app"
	sqlite3 -bail "$out/$env/var/lib/app/app.db" <"demo/$env/app.sql"
done
# The drift git cannot carry: production's start script is executable, staging's lost its x bit.
chmod 0755 "$out/production/opt/app/bin/run.sh"
chmod 0644 "$out/staging/opt/app/bin/run.sh"
echo "demo: sample hosts laid out in $out/production and $out/staging"

# --- collect both into one store ------------------------------------------------------------
show "$bin" --db "$store" init
show "$bin" --db "$store" collect --env production --host web-prod-1 --root "$out/production" \
	--path /etc --path /opt/app --schema app=sqlite:/var/lib/app/app.db
show "$bin" --db "$store" collect --env staging --host web-stg-1 --root "$out/staging" \
	--path /etc --path /opt/app --schema app=sqlite:/var/lib/app/app.db
show "$bin" --db "$store" snapshots

# --- the drift -------------------------------------------------------------------------------
rc=0
show "$bin" --db "$store" diff production staging || rc=$?
case $rc in
	0) echo; echo "demo: diff exited 0: no drift (unexpected: the demo ships with drift)" ;;
	1) echo; echo "demo: diff exited 1: staging drifts from production, as the demo intends" ;;
	*) echo "demo: diff failed (exit $rc)" >&2; exit "$rc" ;;
esac

gate_err=$(mktemp)
trap 'rm -f "$gate_err"' EXIT
rc=0
"$bin" --db "$store" gate >/dev/null 2>"$gate_err" || rc=$?
case $rc in
	0) echo "demo: \`envdrift gate\` exits 0: staging mirrors production, a release pipeline would proceed" ;;
	1) echo "demo: \`envdrift gate\` exits 1: blocking drift remains, a release pipeline would stop here" ;;
	*) cat "$gate_err" >&2; echo "demo: envdrift gate failed (exit $rc)" >&2; exit "$rc" ;;
esac

# --- the service ----------------------------------------------------------------------------
if command -v curl >/dev/null; then
	serve_log=$(mktemp)
	"$bin" --db "$store" serve --listen 127.0.0.1:0 2>"$serve_log" &
	serve_pid=$!
	trap 'kill -TERM "$serve_pid" 2>/dev/null || true; rm -f "$gate_err" "$serve_log"' EXIT
	url=""
	for _ in $(seq 100); do
		url=$(sed -n 's|.*serving .* on \(http://[0-9.:]*\) .*|\1|p' "$serve_log")
		[ -n "$url" ] && break
		sleep 0.05
	done
	if [ -n "$url" ]; then
		echo
		echo "demo: envdrift serve answers on $url (JSON API under /api/v1/, /metrics: docs/api.md)"
		show curl -s "$url/api/v1/gate?ref=production&cand=staging"
		if [ -n "$keep_serving" ]; then
			echo "demo: serving until ^C"
			wait "$serve_pid" || true
		fi
	else
		echo "demo: envdrift serve did not start: $(cat "$serve_log")" >&2
	fi
	kill -TERM "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" 2>/dev/null || true
	trap 'rm -f "$gate_err" "$serve_log"' EXIT
	echo "demo: envdrift serve stopped"
fi

prod_id=$(sqlite3 -readonly "$store" "SELECT snapshot_id FROM latest_v WHERE env = 'production'" 2>/dev/null || true)
stg_id=$(sqlite3 -readonly "$store" "SELECT snapshot_id FROM latest_v WHERE env = 'staging'" 2>/dev/null || true)

cat <<HINTS

Try next (from $root):
  $bin --db $store diff production staging --format json
  $bin --db $store diff @${prod_id:-1} @${stg_id:-2}          # the same two snapshots, by id
  $bin --db $store diff production staging --format html --out demo-out/drift.html
  $bin --db $store diff production staging --show-ignored     # with what the default policy expects
  $bin --db $store report --format markdown                   # the nightly report
  sqlite3 -readonly $store 'SELECT env, host, kind, key, value FROM items_v LIMIT 5'
  sqlite3 -readonly $store 'SELECT * FROM snapshots_v'
HINTS
