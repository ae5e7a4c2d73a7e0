#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs last (tests/meson.build: lowest priority, alone): the suite left
# nothing behind. No process that any test started is still alive (every one
# inherits the run's marker, ENVDRIFT_TEST_RUN, in its environment, even a
# daemon that detached and outlived its folder), and the run's temporary
# folder (TMPDIR) is empty. Each leftover is named, then stopped or removed so
# that the next run starts clean (issue 19).
RUN=${ENVDRIFT_TEST_RUN:-}
SUITE_TMP=${TMPDIR:-}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ -z "$RUN" ] || [ -z "$SUITE_TMP" ] || [ "$SUITE_TMP" = /tmp ]; then
	echo "1..0 # SKIP not run by the suite (no ENVDRIFT_TEST_RUN and TMPDIR of its own)"
	T_DONE=1
	exit 0
fi

# Processes carrying the marker, other than this test and its own children.
procs=$(python3 - "$RUN" "$$" <<'PY'
import os, sys
marker = ("ENVDRIFT_TEST_RUN=" + sys.argv[1]).encode()
me = {os.getpid(), int(sys.argv[2])}
# This test's ancestors and everything it started (its own pipeline) are not leftovers.
def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0
for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
    if pid in me:
        continue
    chain, p = set(), pid
    while p > 1 and p not in chain:
        chain.add(p)
        p = ppid(p)
    if chain & me:
        continue
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").strip().decode(errors="replace")
    except OSError:
        continue
    if marker in env:
        print(f"{pid} {cmd[:200]}")
PY
)
if [ -z "$procs" ]; then
	pass "no process started by a test is still running"
else
	fail "no process started by a test is still running" "still running (pid, command):" "$procs"
	while read -r pid _; do kill -9 "$pid" 2>/dev/null; done <<<"$procs"
fi

# The run's folder: only this test's own TMP may be in it.
left=$(find "$SUITE_TMP" -mindepth 1 -maxdepth 1 ! -path "$TMP" 2>/dev/null | sort)
if [ -z "$left" ]; then
	pass "nothing left in the run's temporary folder $SUITE_TMP"
else
	fail "nothing left in the run's temporary folder $SUITE_TMP" "left behind:" "$left"
	while read -r f; do chmod -R u+rwX "$f" 2>/dev/null; rm -rf "$f"; done <<<"$left"
fi

# Nor did any test write under /tmp itself: every temporary path of the tests
# comes from TMPDIR (a fallback for deep socket paths excepted, which its test removes).
hard=$(grep -n '"/tmp/\|[( ]/tmp/[a-z]' "$SRCDIR"/tests/unit/*.c "$SRCDIR"/tests/integration/*.sh \
	"$SRCDIR"/tests/golden/*.c 2>/dev/null | grep -v 'leftovers.sh\|edpg\.\|\*/tmp/\*\|^\S*:[0-9]*:\s*#\|^\S*:[0-9]*:\s*/\?\*')
is "$hard" "" "no test hard-codes a path under /tmp"

# Leave no empty folder behind either: this test's TMP goes first, then the run's folder.
# shellcheck disable=SC2317 # runs from the EXIT trap
leftovers_cleanup() {
	local rc=$?
	(exit "$rc")
	(t_cleanup)
	rc=$?
	rmdir "$SUITE_TMP" 2>/dev/null
	exit "$rc"
}
trap leftovers_cleanup EXIT
done_testing
