#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lib.sh's process registry holds on every way a test can end (issue 19): a
# daemon started with t_spawn is stopped, and the test's folder removed, when
# the test passes, fails, bails out, or is killed as meson kills a test that
# runs out of time (TERM to its process group, while it waits on a command).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# A test that starts a "daemon" (a detached sleep in a session of its own) and
# a plain background job, says where things are, then ends as told.
cat >"$TMP/child.sh" <<'SH'
. "$SRCDIR/tests/integration/lib.sh"
t_spawn sleep 300
sleep 301 &
printf '%s %s %s\n' "$T_PID" "$TMP" "$!" >"$1.tmp" && mv "$1.tmp" "$1"
[ "$2" = wait ] || while [ ! -e "$1.go" ]; do sleep 0.05; done
case $2 in
pass) pass "fine"; done_testing ;;
fail) fail "broken"; done_testing ;;
bail) echo "Bail out! gave up"; exit 2 ;;
wait) sleep 300 ;;
esac
SH
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
for how in pass fail bail term; do
	info=$TMP/info-$how
	arg=$how
	[ "$how" = term ] && arg=wait
	setsid bash "$TMP/child.sh" "$info" "$arg" >"$TMP/out-$how" 2>&1 &
	child=$!
	for _ in $(seq 100); do [ -s "$info" ] && break; sleep 0.05; done
	read -r daemon dir job <"$info"
	ok "$how: the daemon is running while the test runs" alive "$daemon"
	if [ "$how" = term ]; then
		kill -TERM -- "-$child" # as meson does at a timeout
	else
		: >"$info.go"
	fi
	wait "$child"
	rc=$?
	case $how in
	pass) is "$rc" 0 "$how: the test exits 0" ;;
	term) is "$rc" 143 "$how: the test exits 143 (TERM)" ;;
	*) isnt "$rc" 0 "$how: the test exits non-zero" ;;
	esac
	for _ in $(seq 40); do alive "$daemon" || break; sleep 0.05; done
	nok "$how: its daemon is stopped" alive "$daemon"
	nok "$how: its plain background job is stopped" alive "$job"
	nok "$how: its folder is removed" test -e "$dir"
done

# The last check itself: a leaked daemon and a left file of a (fake) run are named.
FAKE_RUN=$TMP/fake-run
FAKE_TMP=$TMP/fake-tmp
mkdir -p "$FAKE_TMP/envdrift-it.leaked"
ENVDRIFT_TEST_RUN=$FAKE_RUN setsid sleep 300 </dev/null >/dev/null 2>&1 &
leaked=$!
disown "$leaked"
T_PIDS+=("$leaked") # stopped by this test's cleanup should the check miss it
run env ENVDRIFT_TEST_RUN="$FAKE_RUN" TMPDIR="$FAKE_TMP" bash "$SRCDIR/tests/integration/leftovers.sh"
isnt "$RC" 0 "leftovers.sh fails when a run left something"
like "$OUT" "not ok [0-9]+ - no process started by a test is still running" "  a process"
like "$OUT" "# $leaked sleep 300" "  named with its pid and command"
like "$OUT" "# .*/fake-tmp/envdrift-it.leaked" "  and the folder left behind"
for _ in $(seq 40); do alive "$leaked" || break; sleep 0.05; done
nok "  and it stops the process it names" alive "$leaked"
nok "  and removes the folder" test -e "$FAKE_TMP/envdrift-it.leaked"

done_testing
