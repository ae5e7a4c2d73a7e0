#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The dashboard in a real browser (issue 13): headless Debian chromium driven
# by playwright-core (tests/browser/dashboard.mjs) over the hostile store of
# dashboard_fixture.sh: overview, into the pair, filter by kind, search a key,
# a unified diff, history, a host; the counts against 'diff --format json', no
# console error, no dialog, no injected element, no request away from
# 127.0.0.1. Screenshots: BUILD/meson-logs/dashboard-screenshots/.
# Needs node and tests/browser/node_modules (scripts/setup.sh runs npm ci there).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=dashboard_fixture.sh
. "$(dirname "$0")/dashboard_fixture.sh"

BROWSER_DIR=$SRCDIR/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
skip_all() { echo "1..0 # SKIP $1"; T_DONE=1; exit 0; }
[ -x "$CHROMIUM" ] || skip_all "no chromium at $CHROMIUM (scripts/setup.sh installs it)"
command -v node >/dev/null || skip_all "node is not installed (scripts/setup.sh installs nodejs)"
[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ] ||
	skip_all "tests/browser/node_modules is missing: run scripts/setup.sh, or 'npm ci' in tests/browser"
# Playwright's and chromium's temporary files: a short folder of their own (chromium's
# SingletonSocket path must fit a Unix socket's 108 bytes, which $TMP's may not), removed on exit.
NTMP=$(mktemp -d "${TMPDIR:-$TMP}/eb.XXXXXX") || { echo "Bail out! mktemp -d failed"; exit 2; }
trap 'rc=$?; stop_server; rm -rf "$NTMP"; (exit $rc); t_cleanup' EXIT

make_fixture
start_server --policy "$POLICY"

SHOTS=${ENVDRIFT_TEST_RUN:-$SRCDIR/build}/meson-logs/dashboard-screenshots
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png "$SHOTS"/requests.txt

# What the pages must show: the CLI's counts.
ed --db "$DB" diff production staging --format json --policy "$POLICY"
printf '%s' "$OUT" >"$TMP/cli.json"
python3 - "$TMP/cli.json" "$H_STAGING" >"$TMP/expect.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
listed = [e for e in d["drift"] if not e.get("ignored")]
print(json.dumps({
    "drift": s["added"] + s["removed"] + s["changed"], "blocking": s["blocking"],
    "warn": s["warn"], "info": s["info"], "ignored": s["ignored"],
    "n_all": len(listed),
    "n_file": len([e for e in listed if e["kind"] == "file"]),
    "n_aconf": len([e for e in listed if "a.conf" in e["key"].lower()]),
    "days": 3,
    "host_staging": sys.argv[2],
}))
PY

# The browser runs under node in a session of its own, registered here: the
# EXIT trap stops node and chromium whatever happens.
mkdir -p "$TMP/profile"
t_spawn env TMPDIR="$NTMP" timeout -k 5 240 node "$BROWSER_DIR/dashboard.mjs" "$U" "$SHOTS" "$TMP/profile" \
	"$TMP/expect.json" >"$TMP/browser.out" 2>"$TMP/browser.err"
wait "$T_PID"
brc=$?
while IFS= read -r line; do
	case $line in
	PASS\ *) pass "${line#PASS }" ;;
	FAIL\ *) fail "${line#FAIL }" ;;
	esac
done <"$TMP/browser.out"
is "$brc" 0 "the browser session exits 0"
[ "$brc" = 0 ] || diag "node said: $(tail -20 "$TMP/browser.err")"
for f in overview pair unified-diff history host; do
	size=$(stat -c %s "$SHOTS/$f.png" 2>/dev/null || echo 0)
	ok "screenshot $f.png ($size bytes) in $SHOTS" test "$size" -gt 10000
done

stop_server
server_clean "the browser's server"
done_testing
