# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared helpers for the integration tests: TAP output, a temporary folder
# removed on exit, and running the envdrift binary with its output captured.
#
# Source it first thing:  . "$(dirname "$0")/lib.sh"
# Environment: ENVDRIFT (the binary; meson sets it), SRCDIR (the repository).
# Run by hand:  ENVDRIFT=$PWD/build/envdrift SRCDIR=$PWD bash tests/integration/e2e.sh

set -u
export LC_ALL=C

: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${ENVDRIFT:=$SRCDIR/build/envdrift}"
export SRCDIR ENVDRIFT
# Sanitizer builds: a report must end the process with a signal, never with
# exit 1 (which would read as "drift").
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
unset ENVDRIFT_DB NO_COLOR

# python3 for JSON and fixtures: the system one if there is one (a pyenv shim
# costs 0.2 s a call).
T_PY=$(command -v /usr/bin/python3 || command -v python3)
python3() { "$T_PY" "$@"; }

T_N=0       # tests run so far
T_FAIL=0    # of which failed
T_SAN=""    # sanitizer reports seen in any captured stderr
T_DONE=0

# Under the suite, TMPDIR is a folder of the run's own (tests/meson.build), made here the first time.
[ -z "${TMPDIR:-}" ] || mkdir -p "$TMPDIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/envdrift-it.XXXXXX") || { echo "Bail out! mktemp -d failed"; exit 2; }
chmod 755 "$TMP"

T_PIDS=()   # process groups started by t_spawn, stopped by t_cleanup

# t_spawn CMD...: starts CMD in the background in a session of its own (so it
# survives nothing: a signal to this test does not reach it by accident) and
# registers it in THIS shell, never inside $(...), where the registration
# would be lost. t_cleanup stops it and all it started, also when the test
# fails or is killed (meson's timeout sends TERM). Redirect as for any
# command: t_spawn sshd -D -f CONF >log 2>&1. Sets T_PID.
t_spawn() {
	setsid "$@" </dev/null &
	T_PID=$!
	T_PIDS+=("$T_PID")
}

# t_stop_spawned: TERM to every registered group at once (meson kills this
# shell 0.5 s after its TERM), a short grace, then KILL to what is left.
t_stop_spawned() {
	local p i jobs_left
	# Background jobs of this shell started with a plain '&' (writers, holders): TERM too.
	jobs_left=$(jobs -p)
	# shellcheck disable=SC2086 # one pid per word
	[ -z "$jobs_left" ] || kill -TERM $jobs_left 2>/dev/null
	[ ${#T_PIDS[@]} -gt 0 ] || return 0
	for p in "${T_PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		for p in "${T_PIDS[@]}"; do kill -0 -- "-$p" 2>/dev/null && break; p=; done
		[ -z "$p" ] && break
		sleep 0.05
	done
	for p in "${T_PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
	T_PIDS=()
}

t_cleanup() {
	local rc=$?
	t_stop_spawned
	# A test that ended early (set -e, a bail out) must not look like a pass.
	if [ "$T_DONE" != 1 ] && [ "$rc" = 0 ]; then
		echo "# test script ended before done_testing"
		rc=2
	fi
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "# kept $TMP"
	else
		chmod -R u+rwX "$TMP" 2>/dev/null
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap t_cleanup EXIT
# Killed (meson's timeout, ^C): still clean up, through the EXIT trap.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

if [ ! -x "$ENVDRIFT" ]; then
	echo "Bail out! no envdrift binary at $ENVDRIFT (build it with 'ninja -C build' or set ENVDRIFT)"
	exit 2
fi

diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }

# pass/fail DESC: the bare TAP lines.
pass() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
fail() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $1"
	shift
	local l
	for l in "$@"; do diag "$l"; done
}
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP ${2:-}"; }

# ok DESC CMD...: passes when CMD exits 0.
ok() {
	local desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; fi
}

# nok DESC CMD...: passes when CMD exits non-zero.
nok() {
	local desc=$1; shift
	if "$@"; then fail "$desc" "command succeeded: $*"; else pass "$desc"; fi
}

# is GOT EXPECTED DESC
is() {
	if [ "$1" == "$2" ]; then pass "$3"; else
		fail "$3" "got:      $(printf '%s' "$1" | head -c 3000)" "expected: $(printf '%s' "$2" | head -c 3000)"
	fi
}

# isnt GOT UNEXPECTED DESC
isnt() {
	if [ "$1" != "$2" ]; then pass "$3"; else fail "$3" "got the unwanted: $1"; fi
}

# like GOT ERE DESC / unlike GOT ERE DESC
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then pass "$3"; else
		fail "$3" "got:      $(printf '%s' "$1" | head -c 3000)" "expected to match: $2"
	fi
}
unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		fail "$3" "got:      $(printf '%s' "$1" | head -c 3000)" "expected not to match: $2"
	else pass "$3"; fi
}

# contains GOT FIXED DESC: GOT holds the fixed string.
contains() {
	if printf '%s' "$1" | grep -Fq -- "$2"; then pass "$3"; else
		fail "$3" "got:      $(printf '%s' "$1" | head -c 3000)" "expected to contain: $2"
	fi
}

# Captures a command: sets RC, OUT, ERR (files $TMP/.out, $TMP/.err keep the bytes).
# ED_TIMEOUT (default 120 s) bounds every run; a timeout gives RC 124.
run() {
	timeout -k 5 "${ED_TIMEOUT:-120}" "$@" >"$TMP/.out" 2>"$TMP/.err"
	RC=$?
	OUT=$(cat "$TMP/.out")
	ERR=$(cat "$TMP/.err")
	san_check "$ERR" "$*"
	return 0
}

# ed ARGS...: run envdrift (captured as with run).
ed() { run "$ENVDRIFT" "$@"; }

# Records sanitizer reports found in TEXT (reported by done_testing).
san_check() {
	if printf '%s' "$1" | grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer'; then
		T_SAN="$T_SAN
$2:
$(printf '%s' "$1" | grep -E 'Sanitizer|runtime error' | head -5)"
	fi
}

# exits CODE DESC: the last run exited with CODE.
exits() {
	if [ "$RC" = "$1" ]; then pass "$2"; else
		fail "$2" "exit status $RC, expected $1" "stdout: $(printf '%s' "$OUT" | head -c 1500)" \
			"stderr: $(printf '%s' "$ERR" | head -c 1500)"
	fi
}

# json_get EXPR: evaluates the Python expression EXPR over d = the JSON document on stdin.
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if isinstance(r,str) else json.dumps(r, sort_keys=True))' "$1"; }

# q DB SQL: one sqlite3 query (read-only, waiting for writers).
q() { sqlite3 -readonly -cmd '.timeout 5000' "$1" "$2"; }

# ms: a monotonic clock in milliseconds.
ms() { python3 -c 'import time; print(int(time.monotonic()*1000))'; }

# Ends the test: a check that no run hit a sanitizer, the plan, the exit status.
done_testing() {
	if [ -z "$T_SAN" ]; then pass "no sanitizer reports in any envdrift run"; else
		fail "no sanitizer reports in any envdrift run" "$T_SAN"
	fi
	echo "1..$T_N"
	T_DONE=1
	[ "$T_FAIL" = 0 ]
	exit $?
}

# --- servers on loopback ---

# free_port: a TCP port free on 127.0.0.1 now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_listen PORT: waits until something accepts connections on 127.0.0.1:PORT (at most 5 s).
wait_listen() {
	python3 - "$1" <<'PY'
import socket, sys, time
end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(1)
PY
}

# serve_port LOG PID [FROM]: waits for `envdrift serve` (PID) to say in LOG, after
# line FROM, where it listens; sets PORT and U. Bails out when it stops or never says.
serve_port() {
	local log=$1 pid=$2 from=${3:-0}
	PORT=""
	for _ in $(seq 200); do
		PORT=$(tail -n +"$((from + 1))" "$log" |
			sed -n 's|.*serving .* on https*://127\.0\.0\.1:\([0-9]*\) .*|\1|p')
		[ -n "$PORT" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$PORT" ]; then
		echo "Bail out! envdrift serve did not start: $(cat "$log")"
		exit 2
	fi
	U=http://127.0.0.1:$PORT
}

# --- fixtures ---

# dpkg_slice N: the first N stanzas of this machine's dpkg status file (blank-line records).
DPKG_STATUS=${DPKG_STATUS:-/var/lib/dpkg/status}
dpkg_slice() { awk -v n="$1" 'BEGIN { RS = ""; ORS = "\n\n" } NR <= n' "$DPKG_STATUS"; }

# init_store DB: envdrift init, bail out if that fails.
init_store() {
	ed --db "$1" init
	if [ "$RC" != 0 ]; then
		echo "Bail out! envdrift --db $1 init failed ($RC): $ERR"
		exit 2
	fi
}

# strict_policy FILE: a policy under which every difference blocks (no default
# expectations, every kind and package direction at block), for tests that
# assert the exact drift set whatever its kind.
strict_policy() {
	cat >"$1" <<'INI'
[policy]
defaults = no

[severity]
file = block
config = block
package = block
schema = block
system = block
role = block

[packages]
ahead = block
behind = block
rebuild = block
INI
}

# leaks TEXT... -- FILE...: one line "WHAT in FILE" for each TEXT found in a
# FILE as it is, or as its unkeyed XXH3-128 (raw bytes, hex in either case):
# what a store, a dump or a report must never hold of a secret. Needs xxh128sum.
leaks() {
	python3 - "$@" <<'PY'
import subprocess, sys
args = sys.argv[1:]
sep = args.index("--")
texts, files = args[:sep], args[sep + 1:]
needles = []
for t in texts:
    b = t.encode()
    r = subprocess.run(["xxh128sum"], input=b, stdout=subprocess.PIPE, check=True)
    h = bytes.fromhex(r.stdout.split()[0].decode())
    needles += [(repr(t), b), ("xxh3-128(%r)" % t, h), ("xxh3-128(%r) hex" % t, h.hex().encode()),
                ("xxh3-128(%r) HEX" % t, h.hex().upper().encode())]
for f in files:
    data = open(f, "rb").read()
    for what, b in needles:
        if b in data:
            print("%s in %s" % (what, f))
PY
}

# drift_shown DIFF-JSON: one line per drift entry, by key: "KEY CHANGE FIELDS
# same-shown|shown-differs", whether the two definitions (or values) shown are equal.
drift_shown() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for e in sorted(d["drift"], key=lambda e: e["key"]):
    r, c = e.get("reference", {}), e.get("candidate", {})
    shown = lambda s: s.get("definition", s.get("value"))
    print(e["key"], e["change"], ",".join(e.get("fields", [])),
          "same-shown" if shown(r) == shown(c) else "shown-differs")
PY
}

# leak_artifacts DB REF CAND PREFIX ARRAY: adds to the array named ARRAY every
# file a secret of the store DB must not be found in: the store, its WAL and
# journal, a dump (PREFIX.dump) and `diff REF CAND` in every report format
# (PREFIX.FORMAT, stdout and stderr).
leak_artifacts() {
	local fmt f
	local -n files_=$5
	files_+=("$1")
	for f in "$1-wal" "$1-journal"; do [ -e "$f" ] && files_+=("$f"); done
	sqlite3 "$1" .dump >"$4.dump"
	files_+=("$4.dump")
	for fmt in text json junit sarif markdown html; do
		ed --db "$1" diff "$2" "$3" --format "$fmt"
		printf '%s\n%s' "$OUT" "$ERR" >"$4.$fmt"
		files_+=("$4.$fmt")
	done
}
