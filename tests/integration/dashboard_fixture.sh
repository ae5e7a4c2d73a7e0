# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The store the dashboard tests (dashboard.sh, browser.sh) serve: production,
# staging and qa, one host each, whose host names, file names and config
# values are hostile (<script>, "onerror=, </textarea>, U+202E), a policy
# with an expected difference, two recorded gate runs today and backdated
# ones of two earlier days; and start_server/stop_server/get to drive
# 'envdrift serve' on a free loopback port. Source it after lib.sh.

DB=$TMP/store.db
LOG=$TMP/serve.log
POLICY=$TMP/policy.ini
SPID=""
PORT=""
RTL=$(printf '\342\200\256')                            # U+202E RIGHT-TO-LEFT OVERRIDE
H_STAGING='web<script>alert(4)</script>"onerror=alert(5)'
H_QA="qa</textarea><img src=x onerror=alert(6)>"   # (collect refuses controls in host names)
F_HOSTILE='<img src=x onerror=alert(3)>.conf'
F_RTL="${RTL}fdp.exe"

# The server runs in this shell, so the EXIT trap can stop it whatever happens.
# Sets SRC, the server's exit status.
stop_server() {
	SRC=""
	if [ -n "$SPID" ]; then
		kill -TERM "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		SRC=$?
		SPID=""
	fi
}

# server_clean DESC: the server stopped with 0 and its log holds no sanitizer report.
server_clean() {
	is "$SRC" 0 "$1: the server exits 0 on SIGTERM"
	unlike "$(cat "$LOG")" 'Sanitizer|runtime error:' "$1: no sanitizer report in the server's log"
}

# start_server ARGS...: serve $DB on 127.0.0.1, any free port; sets SPID, PORT, U.
start_server() {
	: >"$LOG"
	"$ENVDRIFT" --db "$DB" serve --listen 127.0.0.1:0 "$@" 2>"$LOG" &
	SPID=$!
	serve_port "$LOG" "$SPID"
}

# get PATH [CURL ARGS...]: sets CODE, BODY ($TMP/.body) and HEAD ($TMP/.head).
get() {
	local path=$1
	shift
	CODE=$(curl -sS -D "$TMP/.head" -o "$TMP/.body" -w '%{http_code}' --max-time 60 "$@" "$U$path")
	BODY=$(cat "$TMP/.body")
	HEAD=$(tr -d '\r' <"$TMP/.head")
}

make_fixture() {
	local p=$TMP/root-p s=$TMP/root-s qa=$TMP/root-qa d
	for d in "$p" "$s" "$qa"; do
		mkdir -p "$d/etc/app"
		printf 'same\n' >"$d/etc/app/same.conf"
		printf 'x\n' >"$d/etc/hostname"
	done
	printf 'port = 1\nname = <b>plain</b>\n' >"$p/etc/app/a.conf"
	printf 'port = 2\nname = <script>alert(1)</script>"onerror=alert(2) </textarea>%s\n' "$RTL" \
		>"$s/etc/app/a.conf"
	printf 'port = 3\n' >"$qa/etc/app/a.conf"
	printf 'one\n' >"$p/etc/app/$F_HOSTILE"
	printf 'two <svg onload=alert(7)>\n' >"$s/etc/app/$F_HOSTILE"
	printf 'new\n' >"$s/etc/app/$F_RTL"
	printf 'web-p\n' >"$p/etc/hostname"
	printf 'web-s\n' >"$s/etc/hostname"
	init_store "$DB"
	ed --db "$DB" collect --env production --host web1 --root "$p" --packages none
	[ "$RC" = 0 ] || { echo "Bail out! collect production: $ERR"; exit 2; }
	ed --db "$DB" collect --env staging --host "$H_STAGING" --root "$s" --packages none
	[ "$RC" = 0 ] || { echo "Bail out! collect staging: $ERR"; exit 2; }
	ed --db "$DB" collect --env qa --host "$H_QA" --root "$qa" --packages none
	[ "$RC" = 0 ] || { echo "Bail out! collect qa: $ERR"; exit 2; }
	# a policy under which the hostname differs as expected (listed with show=ignored)
	cat >"$POLICY" <<'INI'
[expect "file /etc/hostname"]
reason = each host <b>names</b> itself
expires = 2099-12-31
field = content
INI
	ed --db "$DB" gate --policy "$POLICY" --record
	ed --db "$DB" gate --policy "$POLICY" --record
	# two earlier days of history
	q "$DB" "select 1" >/dev/null
	sqlite3 "$DB" "INSERT INTO runs (at, command, reference_env, candidate_env,
		reference_snapshots, candidate_snapshots, added, removed, changed, ignored,
		blocking, policy) VALUES
		('2026-01-01T10:00:00Z','gate','production','staging','[1]','[2]',5,1,2,1,3,NULL),
		('2026-01-02T10:00:00Z','gate','production','staging','[1]','[2]',2,0,1,1,1,NULL)"
}
