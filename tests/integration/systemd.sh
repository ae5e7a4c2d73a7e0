#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The nightly setups of contrib/systemd, run for real: agents on two hosts
# collect and push their documents to a collector box's inbox; the box stores
# them, collects its inventory, writes the report and mails it. The units are
# checked by systemd-analyze (syntax, hardening) and their commands are run by
# unitrun.py as systemd would (this machine has no systemd running). mail(1)
# is the one stand-in: a script that keeps what it was given, as the local
# mail system would.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

U=$SRCDIR/contrib/systemd
RUN=$SRCDIR/tests/integration/unitrun.py
BIN=$TMP/bin
mkdir -p "$BIN"

# --- the units as files: systemd-analyze verify, and the hardening score ---
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TMP/units"
	for f in "$U"/envdrift-*; do
		sed "s#/usr/local/bin/envdrift#$ENVDRIFT#g" "$f" >"$TMP/units/$(basename "$f")"
	done
	# --man=no: the man pages of Documentation= exist once installed (install.sh checks them there).
	run systemd-analyze verify --man=no "$TMP"/units/envdrift-*.service "$TMP"/units/envdrift-*.timer
	exits 0 "systemd-analyze verify: every unit and timer"
	is "$ERR" "" "  and says nothing about them"
	for s in envdrift-agent envdrift-collector; do
		run systemd-analyze security --offline=true "$TMP/units/$s.service"
		level=$(printf '%s\n' "$OUT" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		diag "$s.service: exposure $level (systemd-analyze security)"
		ok "$s.service: exposure ${level:-?} is at most 3.0 of 10" \
			python3 -c "import sys; sys.exit(0 if 0 <= float(sys.argv[1] or 99) <= 3.0 else 1)" "$level"
	done
else
	skip "systemd-analyze verify" "systemd-analyze not installed"
fi
unlike "$(grep -h '^ExecStart' "$U"/*.service | grep -o '/usr/[a-z/]*envdrift\b' | sort -u)" \
	'^/usr/(s?bin|local/sbin)/envdrift$' "the units run /usr/local/bin/envdrift, the README's install path"

# A host's root, a mail(1) that keeps what it is given.
cat >"$BIN/mail" <<'SH'
#!/bin/sh
# mail -s SUBJECT TO: keeps the subject, the recipient and the body.
[ "$1" = -s ] || { echo "mail: expected -s SUBJECT TO" >&2; exit 64; }
{ printf 'subject: %s\nto: %s\n\n' "$2" "$3"; cat; } >"$MAILBOX"
SH
chmod +x "$BIN/mail"
export PATH="$BIN:$PATH" MAILBOX=$TMP/mailbox

mkhost() { # NAME WORKERS
	mkdir -p "$TMP/$1/etc/app"
	printf 'workers = %s\nlisten = 0.0.0.0:8080\n' "$2" >"$TMP/$1/etc/app/app.conf"
	printf '[collect]\npath = /etc/app\npackages = none\n' >"$TMP/$1.ini"
}
mkhost prod 8
mkhost stage 4

# unit NAME BOX|HOST [INSTANCE]: run contrib/systemd/NAME with the paths of
# machine $2 (its /etc/default/envdrift, /etc/envdrift, /var/lib/envdrift).
unit() {
	local m=$TMP/m-$2
	mkdir -p "$m/etc-envdrift"
	run python3 "$RUN" "$U/$1" ${3:+--instance "$3"} --keep-env MAILBOX \
		--map "/usr/local/bin/envdrift=$ENVDRIFT" --map "/etc/default/envdrift=$m/default" \
		--map "/etc/envdrift=$m/etc-envdrift" --map "/var/lib/envdrift=$m/state"
}

# --- the collector box: its store and key, given to the agents ---
BOX=$TMP/m-box
mkdir -p "$BOX/state" "$BOX/etc-envdrift"
ed --db "$BOX/state/envdrift.db" init
exits 0 "the box's store is created (as the admin does, to hand out its key)"
for h in prod stage; do
	mkdir -p "$TMP/m-$h/etc-envdrift"
	cp "$BOX/state/envdrift.db.key" "$TMP/m-$h/etc-envdrift/store.key"
	chmod 600 "$TMP/m-$h/etc-envdrift/store.key"
done
# shellcheck disable=SC2016 # "$1" is for the push command's sh
cat >"$TMP/m-prod/default" <<CONF
ENVDRIFT_ENV=production
ENVDRIFT_ROLE=web
ENVDRIFT_PROFILE=$TMP/prod.ini
ENVDRIFT_HOST=web-1
ENVDRIFT_COLLECT_ARGS=--root $TMP/prod
ENVDRIFT_PUSH_COMMAND='cp "\$1" $BOX/state/inbox/'
CONF
sed -e 's/=production/=staging/' -e "s#$TMP/prod#$TMP/stage#g" -e 's/web-1/web-s1/' \
	"$TMP/m-prod/default" >"$TMP/m-stage/default"
printf 'ENVDRIFT_MAILTO=ops@example.com\nENVDRIFT_INVENTORY=%s\n' "$TMP/none.ini" >"$BOX/default"

# --- agents ---
mkdir -p "$BOX/state/inbox"
unit envdrift-agent.service prod
exits 0 "agent (production): collects and pushes"
unit envdrift-agent.service stage
exits 0 "agent (staging): collects and pushes"
is "$(cd "$BOX/state/inbox" && ls)" "web-1.json
web-s1.json" "  both pushed a document named after the host"
is "$(stat -c %a "$TMP/m-prod/state/outbox/web-1.json")" 600 "  the agent's document is 0600 (UMask=0077)"

# --- the box: store, report, mail ---
unit envdrift-collector.service box
exits 0 "collector box: stores both documents and writes the report"
is "$(cd "$BOX/state/inbox" && ls)" "" "  the inbox is emptied of what was stored"
is "$(q "$BOX/state/envdrift.db" "select env||'/'||host from snapshots where status='complete' order by env")" \
	"production/web-1
staging/web-s1" "  one snapshot per host"
R=$(cat "$BOX/state/report.md" 2>/dev/null)
contains "$R" "## staging against production: current drift" "  the report has the pair"
contains "$R" "$(printf -- '-workers = 8\n+workers = 4')" "  and the drift, with its diff: workers 8 -> 4"
is "$(stat -c %a "$BOX/state/report.md")" 600 "  the report is 0600"
unit envdrift-mail@.service box ok
exits 0 "mail@ok: mails the report"
M=$(cat "$MAILBOX" 2>/dev/null)
like "$M" '^subject: envdrift report [0-9]{4}-[0-9]{2}-[0-9]{2} \(ok\)' "  subject has the day and the outcome"
contains "$M" "to: ops@example.com" "  to ENVDRIFT_MAILTO"
contains "$M" "## staging against production: current drift" "  the body is the report"

# --- a box whose store never saw production, a refused document, a dead host ---
rm -f "$MAILBOX"
BOX2=$TMP/m-box2
mkdir -p "$BOX2/state/inbox"
ed --db "$BOX2/state/envdrift.db" init
cp "$BOX/state/envdrift.db.key" "$BOX2/state/envdrift.db.key"
unit envdrift-agent.service stage
mv "$BOX/state/inbox/web-s1.json" "$BOX2/state/inbox/"
printf '{"format": "envdrift.snapshot/1", "truncated' >"$BOX2/state/inbox/broken.json"
PORT=$(free_port)
cat >"$TMP/inv.ini" <<INV
[staging]
user = nobody
known_hosts = $TMP/known_hosts
db-s1 = host=127.0.0.1 port=$PORT
INV
: >"$TMP/known_hosts"
printf 'ENVDRIFT_MAILTO=ops@example.com\nENVDRIFT_INVENTORY=%s\n' "$TMP/inv.ini" >"$BOX2/default"
unit envdrift-collector.service box2
exits 2 "collector box without production, a broken document and a dead host: fails (exit 2)"
R=$(cat "$BOX2/state/report.md" 2>/dev/null)
like "$R" "cannot compare: environment 'production' has no complete snapshot" \
	"  but the report is written and says why the pair was not compared"
contains "$R" "## staging: what changed since" "  and still reports staging's own history"
is "$(q "$BOX2/state/envdrift.db" "select host from snapshots where status='complete'")" "web-s1" \
	"  the good document is stored"
is "$(cd "$BOX2/state/inbox" && ls)" "broken.json.rejected" "  the broken one is set aside, not retried forever"
C=$(cat "$BOX2/state/collect.txt" 2>/dev/null)
like "$C" 'broken\.json' "  what ingest said about it is kept for the mail"
like "$C" 'db-s1 +failed' "  so is the inventory's table with the dead host"
unit envdrift-mail@.service box2 failed
exits 0 "mail@failed: mails what there is"
M=$(cat "$MAILBOX" 2>/dev/null)
like "$M" '^subject: envdrift report .*\(failed\)' "  the subject says it failed"
contains "$M" "cannot compare" "  the body has the report"
contains "$M" "## collection" "  and the collection's messages"

# --- an agent that pushes over HTTP to a real 'envdrift serve' (collect --push) ---
BOX3=$TMP/m-box3
mkdir -p "$BOX3/state"
DB3=$BOX3/state/envdrift.db
ed --db "$DB3" init
cp "$BOX/state/envdrift.db.key" "$DB3.key"
ed --db "$DB3" token add web-s1 --role push --env staging
exits 0 "the server's admin adds a push token for the staging agent"
install -m 600 /dev/null "$TMP/m-stage/etc-envdrift/push.token"
printf '%s\n' "$OUT" >"$TMP/m-stage/etc-envdrift/push.token"
SLOG=$TMP/serve3.log
: >"$SLOG"
t_spawn "$ENVDRIFT" --db "$DB3" serve --listen 127.0.0.1:0 2>"$SLOG"
SPORT=""
for _ in $(seq 200); do
	SPORT=$(sed -n 's|.*serving .* on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$SLOG")
	[ -n "$SPORT" ] && break
	sleep 0.05
done
[ -n "$SPORT" ] || { echo "Bail out! envdrift serve did not start: $(cat "$SLOG")"; exit 2; }
# ENVDRIFT_PUSH_COMMAND stays set: a push URL takes its place.
cp "$TMP/m-stage/default" "$TMP/m-stage/default.inbox"
printf 'ENVDRIFT_PUSH_URL=http://127.0.0.1:%s\n' "$SPORT" >>"$TMP/m-stage/default"
rm -f "$BOX/state/inbox/"*
unit envdrift-agent.service stage
exits 0 "agent (staging) with ENVDRIFT_PUSH_URL: collects and pushes to envdrift serve"
contains "$ERR" "pushed snapshot @1 of staging/web-s1 to http://127.0.0.1:$SPORT" "  says it pushed"
is "$(q "$DB3" "select env||'/'||host||' '||status from snapshots")" "staging/web-s1 complete" \
	"  the snapshot landed in the server's store"
contains "$(cat "$SLOG")" "POST /api/v1/snapshots 201" "  the server stored it (201)"
is "$(cd "$BOX/state/inbox" && ls)" "" "  ENVDRIFT_PUSH_COMMAND was not run"
is "$(stat -c %a "$TMP/m-stage/state/outbox/web-s1.json")" 600 "  the document is kept in the outbox, 0600"
is "$(stat -c %a "$TMP/m-stage/state/push.state")" 600 "  the push state is kept, 0600"
unit envdrift-agent.service stage
exits 0 "agent (staging) again: pushes"
contains "$ERR" " 0 files hashed" "  reading no unchanged file (--state)"
is "$(q "$DB3" "select count(*) from snapshots where status = 'complete'")" 2 "  a second snapshot in the server's store"
nok "  the token is in no output" grep -qF "$(cat "$TMP/m-stage/etc-envdrift/push.token")" \
	"$TMP/.out" "$TMP/.err" "$SLOG"
chmod 644 "$TMP/m-stage/etc-envdrift/push.token"
unit envdrift-agent.service stage
exits 2 "a token file others may read: the agent fails (exit 2)"
contains "$ERR" "push.token: readable or writable by group or others" "  and says why"
chmod 600 "$TMP/m-stage/etc-envdrift/push.token"
mv "$TMP/m-stage/default.inbox" "$TMP/m-stage/default"

# --- settings that are missing ---
rm -f "$MAILBOX"
printf 'ENVDRIFT_INVENTORY=%s\n' "$TMP/none.ini" >"$BOX2/default"
unit envdrift-mail@.service box2 ok
exits 0 "mail without ENVDRIFT_MAILTO: does nothing"
nok "  and mails nothing" test -e "$MAILBOX"
printf 'ENVDRIFT_PROFILE=%s\n' "$TMP/prod.ini" >"$TMP/m-prod/default"
unit envdrift-agent.service prod
isnt "$RC" 0 "agent without ENVDRIFT_ENV: fails"
contains "$ERR" "ENVDRIFT_ENV: set ENVDRIFT_ENV in $TMP/m-prod/default" \
	"  and says what to set where (/etc/default/envdrift, mapped here)"

done_testing
