#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# collect --push (issue 13, section 3; RELIABILITY H-4, H-6, libcurl): agents
# that push their snapshot to a real 'envdrift serve' on a free loopback port.
# Stored (201) and replayed (200, same id, one snapshot), a wrong token (401),
# a token of another environment (403), a token file others may read, a server
# that is down (retries, then exit 2) or comes back during the backoff, 5xx and
# 4xx answers (push_stub.py counts the attempts), TLS with a private CA made
# here (with --cacert, without it, under another host name), and the token in
# no output and no server log.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; T_DONE=1; exit 0; }

DB=$TMP/store.db
LOG=$TMP/serve.log
KEY=$TMP/agent.key
STUB=$SRCDIR/tests/integration/push_stub.py
SPID=""
PORT=""
# Retries in tests: 4 attempts, 0.2 s then 0.4 s then 0.8 s (the default waits 1, 2, 4 s).
export ENVDRIFT_PUSH_TRIES=4 ENVDRIFT_PUSH_BACKOFF_MS=200
unset ENVDRIFT_TOKEN_FILE
# The agent's temporary files go here, where the test can see that none is left.
export TMPDIR=$TMP

stop_server() {
	if [ -n "$SPID" ]; then
		kill -TERM "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		SPID=""
	fi
}

# start_server [--port N] ARGS...: serve $DB on 127.0.0.1 (any free port, or
# N), registered with t_spawn; sets SPID, PORT, U. The log is appended to.
start_server() {
	local want=0
	if [ "${1:-}" = --port ]; then
		want=$2
		shift 2
	fi
	local mark
	touch "$LOG"
	mark=$(wc -l <"$LOG")
	t_spawn "$ENVDRIFT" --db "$DB" serve --listen "127.0.0.1:$want" "$@" 2>>"$LOG"
	SPID=$T_PID
	serve_port "$LOG" "$SPID" "$mark"
}

# start_stub MODE [UPSTREAM]: push_stub.py on a free port; sets STUB_PID, SU, and STUB_LOG.
start_stub() {
	STUB_LOG=$TMP/stub-$1.log
	rm -f "$TMP/stub.port"
	: >"$STUB_LOG"
	t_spawn python3 "$STUB" "$TMP/stub.port" "$STUB_LOG" "$@"
	STUB_PID=$T_PID
	for _ in $(seq 200); do
		[ -s "$TMP/stub.port" ] && break
		sleep 0.05
	done
	[ -s "$TMP/stub.port" ] || { echo "Bail out! push_stub.py did not start"; exit 2; }
	SU=http://127.0.0.1:$(cat "$TMP/stub.port")
}
stop_stub() { kill -TERM "$STUB_PID" 2>/dev/null; wait "$STUB_PID" 2>/dev/null; }

# agent ENV HOST ARGS...: collect the fixture root as ENV/HOST, keyed, with ARGS (--push ...).
agent() {
	local env=$1 host=$2
	shift 2
	ed collect --env "$env" --host "$host" --root "$TMP/host" --packages none --path /etc/app \
		--key "$KEY" "$@"
	printf '%s\n%s\n' "$OUT" "$ERR" >>"$TMP/all-output"
}
complete_snaps() { q "$DB" "select count(*) from snapshots where status = 'complete'"; }

# --- a host, a store, its key copied to the agent, tokens ---
mkdir -p "$TMP/host/etc/app"
printf 'port = 8080\nworkers = 4\n' >"$TMP/host/etc/app/app.conf"
printf 'password = hunter2-canary\n' >"$TMP/host/etc/app/secret.conf"
init_store "$DB"
install -m 600 "$DB.key" "$KEY"
ed --db "$DB" token add stage-agent --role push --env staging
exits 0 "token add stage-agent --role push --env staging"
TOKEN=$OUT
install -m 600 /dev/null "$TMP/token"
printf '  %s  \n# anything below the first line is ignored\n' "$TOKEN" >"$TMP/token"
ed --db "$DB" token add prod-agent --role push --env production
PROD_TOKEN=$OUT
install -m 600 /dev/null "$TMP/prod-token"
printf '%s\n' "$PROD_TOKEN" >"$TMP/prod-token"
install -m 600 /dev/null "$TMP/wrong-token"
printf 'edt_%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 43)" >"$TMP/wrong-token"

# --- the command line ---
ed collect --help
exits 0 "collect --help"
for flag in --push --token-file --cacert --state --key; do
	contains "$OUT" "$flag" "  documents $flag"
done
agent staging web1 --push ftp://127.0.0.1:1 --token-file "$TMP/token"
exits 2 "--push ftp://...: exit 2"
contains "$ERR" "the scheme must be https or http" "  the scheme is named"
agent staging web1 --push "http://agent:$TOKEN@127.0.0.1:1"
exits 2 "--push with a password in the URL: exit 2"
contains "$ERR" "give the push token with --token-file" "  says where a token goes"
unlike "$ERR" "$TOKEN" "  and does not repeat it"
ed collect --env staging --root "$TMP/host" --push http://127.0.0.1:1
exits 2 "--push without --key: exit 2"
contains "$ERR" "--push needs --key KEYFILE" "  says --key is needed"
ed collect --env staging --root "$TMP/host" --token-file "$TMP/token"
exits 2 "--token-file without --push: exit 2"
agent staging web1 --push http://127.0.0.1:1 --out -
exits 2 "--push with --out -: exit 2"

# --- the token file must be the agent's alone ---
install -m 644 "$TMP/token" "$TMP/open-token"
agent staging web1 --push http://127.0.0.1:1 --token-file "$TMP/open-token"
exits 2 "a token file of mode 0644: refused, exit 2"
contains "$ERR" "token file $TMP/open-token: readable or writable by group or others (mode 0644)" \
	"  the message names the file and its mode"
contains "$ERR" "chmod 600" "  and the fix"
unlike "$ERR" "collected snapshot" "  before anything is collected"
chmod 640 "$TMP/open-token"
agent staging web1 --push http://127.0.0.1:1 --token-file "$TMP/open-token"
exits 2 "a token file of mode 0640: refused too"
ENVDRIFT_TOKEN_FILE=$TMP/open-token agent staging web1 --push http://127.0.0.1:1
exits 2 "ENVDRIFT_TOKEN_FILE names the token file when --token-file is not given"
contains "$ERR" "token file $TMP/open-token" "  (its mode refused, as the flag's)"
agent staging web1 --push http://127.0.0.1:1 --token-file "$TMP/nosuch"
exits 2 "a missing token file: exit 2"
contains "$ERR" "token file $TMP/nosuch: No such file" "  named"
install -m 600 /dev/null "$TMP/empty-token"
agent staging web1 --push http://127.0.0.1:1 --token-file "$TMP/empty-token"
exits 2 "an empty token file: exit 2"
contains "$ERR" "holds no token" "  says so"

# --- a real server ---
start_server
agent staging web1 --push "$U" --token-file "$TMP/token" --out "$TMP/kept.json"
exits 0 "collect --push: exit 0"
ID=$(q "$DB" "select max(id) from snapshots")
NITEMS=$(q "$DB" "select item_count from snapshots where id = $ID")
contains "$ERR" "pushed snapshot @$ID of staging/web1 to $U ($NITEMS items)" \
	"  says which snapshot it became, where, and its items ($NITEMS)"
is "$OUT" "$ID" "  prints the server's snapshot id on stdout"
is "$(complete_snaps)" 1 "  one snapshot in the server's store"
is "$(q "$DB" "select env || '/' || host || ' ' || uuid from snapshots where id = $ID")" \
	"staging/web1 $(json_get 'd["id"]' <"$TMP/kept.json")" "  it is the document kept with --out"
contains "$(cat "$LOG")" "POST /api/v1/snapshots 201" "  the server answered 201"
is "$(q "$DB" "select count(*) from items where snapshot_id = $ID and kind = 'file' and key = '/etc/app/secret.conf'")" 1 \
	"  the items arrived (secret.conf among them)"
is "$(find "$TMP" -maxdepth 1 \( -name 'envdrift-push.*' -o -name 'envdrift-collect.*' \) | wc -l)" 0 "  no temporary file or folder is left"

# The same document again: the agent's answer was lost after the server stored it
# (push_stub.py forwards the push, then drops the first answer); the retry is a replay.
start_stub drop-first "$U"
agent staging web2 --push "$SU" --token-file "$TMP/token"
exits 0 "a push whose answer is lost: exit 0 after a retry"
is "$(grep -c . "$STUB_LOG")" 2 "  two attempts reached the server"
contains "$ERR" "trying again" "  the first failure is reported as a retry"
ID2=$(q "$DB" "select max(id) from snapshots")
contains "$ERR" "pushed snapshot @$ID2 of staging/web2" "  the retry gets the stored snapshot's id"
contains "$ERR" "already held this document (a replay)" "  and says it was a replay (200)"
is "$(q "$DB" "select count(*) from snapshots where host = 'web2'")" 1 "  stored once"
contains "$(cat "$LOG")" "POST /api/v1/snapshots 200" "  the server answered the replay with 200"
stop_stub

# What goes over the wire (push_stub.py answers 400 and records the request).
start_stub 400
agent staging web1 --push "$SU/" --token-file "$TMP/token"
exits 2 "an answer 400: exit 2"
contains "$ERR" "push to $SU/ refused: HTTP 400: stub says 400" "  with the status and the server's error text"
is "$(grep -c . "$STUB_LOG")" 1 "  a 4xx is not tried again"
is "$(json_get '[d["path"], d["encoding"], d["auth"], d["format"]]' <"$STUB_LOG")" \
	'["/api/v1/snapshots", "gzip", true, "envdrift.snapshot/1"]' \
	"  POST /api/v1/snapshots (one slash), gzip, a bearer token, a snapshot document"
contains "$ERR" "the snapshot was not pushed" "  and says the snapshot was not pushed"
stop_stub

# --- refused pushes: exit 2 with the status and the server's text ---
agent staging web1 --push "$U" --token-file "$TMP/wrong-token"
exits 2 "a wrong token: exit 2"
contains "$ERR" "refused: HTTP 401" "  names the status (401)"
like "$ERR" 'HTTP 401: [a-z]' "  and the server's error text"
agent staging web1 --push "$U"
exits 2 "no token at all: exit 2 (pushes always need one)"
contains "$ERR" "HTTP 401" "  401"
agent production web1 --push "$U" --token-file "$TMP/token"
exits 2 "a staging token pushing a production snapshot: exit 2"
contains "$ERR" "refused: HTTP 403" "  names the status (403)"
contains "$ERR" "production" "  and the environment the server refused"
agent production web1 --push "$U" --token-file "$TMP/prod-token"
exits 0 "the production agent's own token: exit 0"
is "$(complete_snaps)" 3 "  three snapshots now: nothing was stored by the refused pushes"

# --- --state: the agent's own baseline, without a store ---
mkdir -p "$TMP/h2/etc/app/conf.d" "$TMP/h2/etc/app/empty"
printf '{"db": {"host": "db1", "password": "s3cret-canary"}, "workers": 4}\n' >"$TMP/h2/etc/app/app.json"
printf '[main]\nport = 80\n' >"$TMP/h2/etc/app/conf.d/main.ini"
printf '{"broken": \n' >"$TMP/h2/etc/app/broken.json"
printf 'motd\n' >"$TMP/h2/etc/app/motd"
ln -s motd "$TMP/h2/etc/app/link"
# stateful HOST ARGS...: collect h2 as staging/HOST with --state $TMP/state, pushed.
stateful() {
	local host=$1 tf=()
	shift
	[[ " $* " != *" --push "* ]] || tf=(--token-file "$TMP/token")
	ed collect --env staging --host "$host" --root "$TMP/h2" --packages none --path /etc/app \
		--key "$KEY" "${tf[@]}" --state "$TMP/state" "$@"
	printf '%s\n%s\n' "$OUT" "$ERR" >>"$TMP/all-output"
}
COLS2="kind, hex(key), hex(fingerprint), hex(value), ftype, mode, hex(owner), hex(grp), hex(target), hex(attrs), hex(error), size"
same_items() { # ID1 ID2: the rows that differ between two snapshots, both ways
	q "$DB" "select (select count(*) from (select $COLS2 from items_v where snapshot_id = $1 except select $COLS2 from items_v where snapshot_id = $2))
		 + (select count(*) from (select $COLS2 from items_v where snapshot_id = $2 except select $COLS2 from items_v where snapshot_id = $1))"
}
ed collect --env staging --root "$TMP/h2" --key "$KEY" --state "$TMP/state"
exits 2 "--state without --push or --out: exit 2"
stateful st1 --push "$U"
exits 0 "collect --push --state: the first push (no state yet)"
like "$ERR" ' [1-9][0-9]* files hashed .*, 0 unchanged' "  every file is read"
nok "  and no note about the state" grep -q -- '--state' <<<"$ERR"
A=$OUT
is "$(stat -c %a "$TMP/state")" 600 "  the state file is written, mode 0600"
ok "  gzip-compressed" sh -c 'gzip -dc "$1" | head -1 | grep -qx envdrift.state/1' sh "$TMP/state"
nok "  and holds no secret in the clear" sh -c 'gzip -dc "$1" | grep -q s3cret-canary' sh "$TMP/state"
HASHED=$(sed -n 's/.* \([0-9]*\) files hashed.*/\1/p' <<<"$ERR")
stateful st1 --push "$U"
exits 0 "the second push with the same state"
contains "$ERR" " 0 files hashed (0.0 MiB), $HASHED unchanged" "  reads 0 files: all $HASHED unchanged"
B=$OUT
isnt "$B" "$A" "  a new snapshot"
is "$(same_items "$A" "$B")" 0 "  with items identical to the first one's (configs of unchanged files included)"
is "$(q "$DB" "select count(*) from items_v where snapshot_id = $B and kind = 'config' and key like '/etc/app/app.json#%'")" \
	"$(q "$DB" "select count(*) from items_v where snapshot_id = $A and kind = 'config' and key like '/etc/app/app.json#%'")" \
	"  (app.json's config items among them)"
is "$(q "$DB" "select group_concat(message, '|') from (select message from warnings where snapshot_id = $B order by message)")" \
	"$(q "$DB" "select group_concat(message, '|') from (select message from warnings where snapshot_id = $A order by message)")" \
	"  and the same warnings (broken.json's, though it was not read again)"
contains "$ERR" "broken.json" "  the unread broken file is still warned about"
printf '{"db": {"host": "db2", "password": "s3cret-canary"}, "workers": 4}\n' >"$TMP/h2/etc/app/app.json"
stateful st1 --push "$U"
exits 0 "a file changes"
contains "$ERR" " 1 files hashed" "  only it is read"
C=$OUT
is "$(q "$DB" "select count(*) from items_v where snapshot_id = $C and kind = 'config' and key = '/etc/app/app.json#/db/host' and value = '\"db2\"'")" 1 \
	"  and its new value is pushed"
printf 'hello\n' >"$TMP/h2/etc/app/new.conf"
rm "$TMP/h2/etc/app/motd"
stateful st1 --push "$U"
D=$OUT
is "$(q "$DB" "select group_concat(key, ' ') from (select key from items_v where snapshot_id = $D and kind = 'file' except select key from items_v where snapshot_id = $C and kind = 'file')")" \
	"/etc/app/new.conf" "  a file added is pushed"
is "$(q "$DB" "select group_concat(key, ' ') from (select key from items_v where snapshot_id = $C and kind = 'file' except select key from items_v where snapshot_id = $D and kind = 'file')")" \
	"/etc/app/motd" "  a file removed is gone"
ed collect --env staging --host st1 --root "$TMP/h2" --packages none --path /etc/app --key "$KEY" \
	--out "$TMP/full.json" --full
FULLITEMS=$(json_get 'json.dumps(sorted((i["kind"], i["key"], i.get("fingerprint"), i.get("value")) for i in d["items"]))' <"$TMP/full.json")
stateful st1 --out "$TMP/inc.json"
exits 0 "--state with --out alone"
contains "$ERR" " 0 files hashed" "  reads nothing"
is "$(json_get 'json.dumps(sorted((i["kind"], i["key"], i.get("fingerprint"), i.get("value")) for i in d["items"]))' <"$TMP/inc.json")" \
	"$FULLITEMS" "  and writes the items a --full collection writes"
cp "$TMP/state" "$TMP/state.before"
ENVDRIFT_PUSH_TRIES=1 stateful st1 --push "http://127.0.0.1:1"
exits 2 "a push that fails"
ok "  leaves the state as it was" cmp -s "$TMP/state" "$TMP/state.before"
stateful st2 --push "$U"
exits 0 "another host name with the same state file"
contains "$ERR" "--state $TMP/state is of staging/st1, not this collection: every file is read" \
	"  says the state is another host's"
contains "$ERR" " 0 unchanged" "  reads every file"
stateful st2 --push "$U" --profile /dev/null
contains "$ERR" "was collected with other settings" "another profile: the state is not trusted"
head -c 100 "$TMP/state.before" >"$TMP/state"
stateful st1 --push "$U"
exits 0 "a damaged state file: the collection goes on"
contains "$ERR" "is damaged" "  and says so"
contains "$ERR" " 0 unchanged" "  reading every file"
printf 'not gzip at all\n' >"$TMP/state"
stateful st1 --push "$U"
exits 0 "a state file that is no state file: the collection goes on"
contains "$ERR" "not an envdrift state file" "  and says so"

# --- a server that is down ---
stop_server
agent staging web3 --push "$U" --token-file "$TMP/token"
exits 2 "the server is down: exit 2"
is "$(grep -c 'trying again' <<<"$ERR")" 3 "  after 4 attempts (3 retries)"
contains "$ERR" "push to $U failed after 4 attempts" "  the message names the URL and the attempts"
contains "$ERR" "the snapshot was not pushed" "  and that nothing was pushed"
ENVDRIFT_PUSH_TRIES=1 agent staging web3 --push "$U" --token-file "$TMP/token"
is "$(grep -c 'trying again' <<<"$ERR")" 0 "ENVDRIFT_PUSH_TRIES=1: one attempt, no retry"

# The server comes back during the backoff: the push lands, once.
ENVDRIFT_PUSH_TRIES=8 ENVDRIFT_PUSH_BACKOFF_MS=300 \
	"$ENVDRIFT" collect --env staging --host web4 --root "$TMP/host" --packages none --path /etc/app \
	--key "$KEY" --push "$U" --token-file "$TMP/token" >"$TMP/late.out" 2>"$TMP/late.err" &
LATE=$!
for _ in $(seq 400); do
	grep -q 'trying again' "$TMP/late.err" 2>/dev/null && break
	sleep 0.02
done
contains "$(cat "$TMP/late.err")" "trying again" "an agent finds the server down and waits"
start_server --port "$PORT"
wait "$LATE"
LATE_RC=$?
san_check "$(cat "$TMP/late.err")" "collect --push (late server)"
cat "$TMP/late.out" "$TMP/late.err" >>"$TMP/all-output"
is "$LATE_RC" 0 "  the server comes back during the backoff: exit 0"
contains "$(cat "$TMP/late.err")" "pushed snapshot @" "  pushed"
is "$(q "$DB" "select count(*) from snapshots where host = 'web4'")" 1 "  stored once"

# 5xx answers are tried again, then fail.
start_stub 503
agent staging web1 --push "$SU" --token-file "$TMP/token"
exits 2 "503 at every attempt: exit 2"
is "$(grep -c . "$STUB_LOG")" 4 "  4 attempts"
contains "$ERR" "failed after 4 attempts: HTTP 503: stub says 503" "  the last status and text are named"
stop_stub
stop_server

# --- TLS with a private CA made here ---
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=envdrift test CA" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" >/dev/null 2>&1 &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/srv.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/san.ext" &&
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
		-days 2 -extfile "$TMP/san.ext" -out "$TMP/cert.pem" >/dev/null 2>&1; then
	start_server --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
	U=https://127.0.0.1:$PORT
	agent staging tls1 --push "$U" --token-file "$TMP/token" --cacert "$TMP/ca.pem"
	exits 0 "collect --push https://... --cacert ca.pem: exit 0"
	contains "$ERR" "pushed snapshot @" "  pushed over TLS"
	is "$(q "$DB" "select count(*) from snapshots where host = 'tls1' and status = 'complete'")" 1 "  stored"
	agent staging tls2 --push "$U" --token-file "$TMP/token"
	exits 2 "without --cacert: exit 2"
	contains "$ERR" "certificate does not verify" "  a certificate error"
	contains "$ERR" "--cacert" "  that points at --cacert"
	nok "  not tried again" grep -q 'trying again' <<<"$ERR"
	agent staging tls3 --push "https://localhost:$PORT" --token-file "$TMP/token" --cacert "$TMP/ca.pem"
	exits 2 "the right CA but another host name (localhost, the certificate is for 127.0.0.1): exit 2"
	contains "$ERR" "certificate does not verify" "  the host name is verified too"
	agent staging tls4 --push "http://127.0.0.1:$PORT" --token-file "$TMP/token"
	exits 2 "plain HTTP to the TLS port: exit 2"
	is "$(q "$DB" "select count(*) from snapshots where host in ('tls2', 'tls3', 'tls4')")" 0 \
		"  none of the failed pushes stored anything"
	stop_server
else
	skip "collect --push over TLS" "openssl cannot make a certificate here"
fi

# --- the token is nowhere ---
contains "$(cat "$LOG")" "POST /api/v1/snapshots" "the server logged the pushes"
for t in staging:"$TOKEN" production:"$PROD_TOKEN"; do
	nok "the ${t%%:*} agent's token is in no output of collect" grep -qF "${t#*:}" "$TMP/all-output"
	nok "  nor in the server's log" grep -qF "${t#*:}" "$LOG"
done
nok "the wrong token is in no output either" grep -qF "$(head -1 "$TMP/wrong-token")" "$TMP/all-output" "$LOG"
san_check "$(cat "$LOG")" "serve"

done_testing
