#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# collect --ssh --remote (agent mode) against a real sshd on 127.0.0.1 whose
# sessions find this build's envdrift on their PATH: the items equal an SFTP
# collection of the same tree, column by column; the store's key travels on
# the channel's standard input only (never in the far process's argv or
# environment, never on the far side's disk); an unchanged re-collection
# reads no file on the far side (its --state); always fails clearly without
# a usable envdrift, auto falls back to SFTP saying so once; a far side that
# fails mid-stream, or sends another host's document, stores nothing; the
# inventory collects in agent mode with its summary table.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=sshd_conf.sh
. "$(dirname "$0")/sshd_conf.sh"

SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ] || ! command -v ssh-keygen >/dev/null || ! mkdir -p /run/sshd 2>/dev/null; then
	echo "1..0 # SKIP sshd, ssh-keygen or /run/sshd not available"
	T_DONE=1
	exit 0
fi
ME=$(id -un)
S=$TMP/ssh
FAR=$TMP/far    # what the far side may write: its state folder and its TMPDIR
BIN=$TMP/bin    # the far side's wrappers around envdrift
mkdir -p "$S" "$FAR/state" "$FAR/tmp" "$BIN"
ssh-keygen -q -t ed25519 -N '' -f "$S/host"
ssh-keygen -q -t ed25519 -N '' -f "$S/user"
cp "$S/user.pub" "$S/authorized_keys"
: >"$S/known_hosts"
# The far side's envdrift is this build's binary, found on the session's PATH.
EDDIR=$(dirname "$ENVDRIFT")
[ "$(basename "$ENVDRIFT")" = envdrift ] || ln -s "$ENVDRIFT" "$BIN/envdrift"
start_sshd() { # NAME [LINE...]; sets PORT
	local port name=$1
	shift
	port=$(free_port)
	sshd_conf "$port" "$S" "$name" "$@" >"$S/$name.conf"
	t_spawn "$SSHD" -D -e -f "$S/$name.conf" >>"$S/$name.log" 2>&1
	wait_listen "$port" || { echo "Bail out! sshd $name did not start"; exit 2; }
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$S/host.pub")" >>"$S/known_hosts"
	PORT=$port
}
# SHLVL=1: bash started by sshd then skips the user's ~/.bashrc (it reads it only at
# level 1), whatever this machine's user keeps there (a pyenv init costs a second a command).
FARENV="SetEnv PATH=$BIN:$EDDIR:/usr/bin:/bin ENVDRIFT_STATE_DIR=$FAR/state TMPDIR=$FAR/tmp SHLVL=1"
start_sshd a "$FARENV"
PA=$PORT
DEST=$ME@127.0.0.1:$PA
SSH=(--ssh "$DEST" --known-hosts "$S/known_hosts" --identity "$S/user")

# The tree: a config with a secret key, one with a secret value, links, a FIFO, hostile names.
T=$TMP/tree
mkdir -p "$T/etc/app" "$T/srv/deep/er" "$T/names"
printf 'listen 8080\npassword = hunter2-canary\n' >"$T/etc/app/app.conf"
printf '{"db": {"url": "postgres://u:pw-canary@db1/shop"}, "pool": 5}\n' >"$T/etc/app/config.json"
printf 'name: web\nworkers: 4\n' >"$T/etc/app/site.yaml"
head -c 300000 /dev/urandom >"$T/srv/big.bin"
for i in 1 2 3 4 5 6 7 8; do printf 'file %s\n' "$i" >"$T/srv/deep/er/f$i.txt"; done
ln -s app.conf "$T/etc/app/current"
ln -s /etc/shadow "$T/etc/app/shadow-link"
mkfifo "$T/srv/fifo"
printf x >"$T/names/\$(touch pwned)"
printf x >"$T/names/quote'name"
chmod 600 "$T/etc/app/app.conf"

# Two stores with one key: the secrets' keyed fingerprints must agree too.
SFTP_DB=$TMP/sftp.db
AGENT_DB=$TMP/agent.db
init_store "$SFTP_DB"
init_store "$AGENT_DB"
cp "$SFTP_DB.key" "$AGENT_DB.key"
KEYHEX=$(od -An -tx1 "$AGENT_DB.key" | tr -d ' \n')

# Every column of items_v. SFTP (version 3) carries mtimes in whole seconds
# and no ctime, inode or device: those are compared as SFTP can give them.
items_of() {
	q "$1" "select snapshot_id, env, host, kind, hex(key), fingerprint, value, ftype, mode, owner,
	               grp, target, size, mtime_ns / 1000000000, error, attrs
	        from items_v where snapshot_id = $2 order by kind, key"
}

ed --db "$SFTP_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none --remote never
exits 0 "--remote never: collected over SFTP"
SFTP_ID=$OUT
unlike "$ERR" "on $DEST" "  nothing ran envdrift on the host"

# argv.log: how every far-side envdrift was started (its argv, its parents', its environment).
cat >"$BIN/envdrift-spy" <<SPY
#!/bin/sh
{ echo "--- \$*"; tr '\\0' '\\n' </proc/\$\$/cmdline; tr '\\0' '\\n' </proc/\$PPID/cmdline; tr '\\0' '\\n' </proc/\$\$/environ; } >>"$TMP/argv.log"
exec envdrift "\$@"
SPY
chmod +x "$BIN/envdrift-spy"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote always --remote-command envdrift-spy
exits 0 "--remote always: collected by envdrift on the host"
AGENT_ID=$OUT
like "$ERR" "stored snapshot @$AGENT_ID of prod/web: .* collected on the host by envdrift" \
	"  the closing line says the host's envdrift collected it"
like "$ERR" "on $DEST: wrote snapshot document .* [1-9][0-9]* files hashed" \
	"  the far side's own closing line is relayed: it read the files"
is "$(grep -c '^--- collect ' "$TMP/argv.log")" "1" "  one envdrift collect ran on the host"
like "$(cat "$TMP/argv.log")" "--- --version" "  after 'envdrift --version'"
like "$(cat "$TMP/argv.log")" "--key"$'\n'"-" "  with --key - (the key on standard input)"
S_ITEMS=$(items_of "$SFTP_DB" "${SFTP_ID:-0}")
A_ITEMS=$(items_of "$AGENT_DB" "${AGENT_ID:-0}")
N=$(wc -l <<<"$A_ITEMS")
if [ "$N" -gt 20 ] && [ "$S_ITEMS" == "$A_ITEMS" ]; then
	pass "  its $N items equal the SFTP collection's in every items_v column"
else
	fail "  its items equal the SFTP collection's in every items_v column" \
		"$N items; $(diff <(echo "$S_ITEMS") <(echo "$A_ITEMS") | head -20)"
fi
is "$(q "$AGENT_DB" "select count(*) from items_v where ino != 0 and kind = 'file'")" \
	"$(q "$AGENT_DB" "select count(*) from items_v where kind = 'file'")" \
	"  and it keeps what SFTP cannot carry: every file's inode"
is "$(q "$AGENT_DB" "select count(*) from items_v where fingerprint = (select fingerprint from items_v where key = '$T/etc/app/app.conf' and snapshot_id = ${SFTP_ID:-0}) and key = '$T/etc/app/app.conf'")" \
	"1" "  the secret file's keyed fingerprint is the store key's (it reached the far side)"
unlike "$(sqlite3 "$AGENT_DB" .dump)" "canary" "  no secret value is in the store"

# The key: never in an argv or an environment of the far side, nor on its disk.
unlike "$(cat "$TMP/argv.log")" "$KEYHEX" "  the key is in no argv nor environment of the far side's processes"
KEYHEX_UP=$(tr 'a-f' 'A-F' <<<"$KEYHEX")
found=""
while IFS= read -r -d '' f; do
	if grep -qF -e "$KEYHEX" -e "$KEYHEX_UP" "$f" || { zcat -f "$f" 2>/dev/null | grep -qF "$KEYHEX"; } ||
		grep -qF -f <(head -c 32 "$AGENT_DB.key") "$f" 2>/dev/null; then
		found="$found $f"
	fi
done < <(find "$FAR" -type f -print0)
is "$found" "" "  the key is in no file the far side wrote (state, temporary files)"
is "$(find "$FAR/state" -type f -name '*.state' | wc -l)" "1" "  the far side kept one --state file, under ENVDRIFT_STATE_DIR"

# The key while the far side runs: a far envdrift that waits, seen through /proc.
cat >"$BIN/envdrift-slow" <<'SLOW'
#!/bin/sh
[ "$1" = --version ] && exec envdrift --version
sleep 1
exec envdrift "$@"
SLOW
chmod +x "$BIN/envdrift-slow"
ed_bg_log=$TMP/slow.err
"$ENVDRIFT" --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote always --remote-command envdrift-slow >/dev/null 2>"$ed_bg_log" &
BGPID=$!
seen=$(python3 - <<'PY'
import os, time
end = time.monotonic() + 60
while time.monotonic() < end:
    for d in os.listdir("/proc"):
        try:
            c = open("/proc/%s/cmdline" % d, "rb").read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if "envdrift-slow" in c and " --key - " in c and "python3" not in c:
            print(c)
            raise SystemExit
    time.sleep(0.02)
PY
)
wait "$BGPID"
BGRC=$?
like "$seen" "envdrift-slow.*collect" "  the far-side process was seen running (/proc/*/cmdline)"
unlike "$seen" "$KEYHEX" "  its command line holds no key"
is "$BGRC" "0" "  and that collection succeeded"

# Unchanged: the far side reuses its state and reads no file.
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none --remote always
exits 0 "an unchanged re-collection in agent mode"
like "$ERR" "on $DEST: wrote snapshot document .*; 0 files hashed .*, [1-9][0-9]* unchanged" \
	"  the far side read 0 files: its state file said they were unchanged"
A2=$(items_of "$AGENT_DB" "${OUT:-0}" | cut -d'|' -f2-)
is "$A2" "$(cut -d'|' -f2- <<<"$A_ITEMS")" "  and the items are the same"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none --remote always --full
exits 0 "--full in agent mode"
like "$ERR" "on $DEST: wrote snapshot document .*; [1-9][0-9]* files hashed .*, 0 unchanged" "  reads every file on the far side"

# --out FILE: the document, validated, for ingest elsewhere.
ed collect --env prod --host web "${SSH[@]}" --path "$T" --packages none --remote always \
	--out "$TMP/doc.json" --key "$AGENT_DB.key"
exits 0 "--out FILE in agent mode"
like "$OUT" '^[0-9a-f-]{36}$' "  prints the document's id"
ed ingest --check "$TMP/doc.json"
exits 0 "  the document is a valid one"

# --- no usable envdrift on the host ---
COUNT0=$(q "$AGENT_DB" "select count(*) from snapshots_v")
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote always --remote-command envdrift-missing
exits 2 "--remote always and no envdrift on the host: exit 2"
like "$ERR" "envdrift collect: $DEST: --remote always: no usable envdrift on the host: envdrift-missing: cannot run on 127.0.0.1:$PA: not found" \
	"  the message names the host and why"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote-command envdrift-missing
exits 0 "--remote auto and no envdrift on the host: collected over SFTP"
is "$(grep -c "collecting over SFTP" <<<"$ERR")" "1" "  saying so once"
like "$ERR" "info: $DEST: no usable envdrift on the host .*not found.*: collecting over SFTP" "  with why"
is "$(items_of "$AGENT_DB" "${OUT:-0}" | cut -d'|' -f2-)" "$(cut -d'|' -f2- <<<"$S_ITEMS")" \
	"  its items are the SFTP collection's"

# A far side that speaks another snapshot format, or names none.
cat >"$BIN/envdrift-v2" <<'V2'
#!/bin/sh
[ "$1" = --version ] && { echo "envdrift 9.0.0"; echo "formats: envdrift.snapshot/2 envdrift.diff/2"; exit 0; }
echo "must not run" >&2; exit 3
V2
cat >"$BIN/envdrift-old" <<'OLD'
#!/bin/sh
[ "$1" = --version ] && { echo "envdrift 0.0.1"; exit 0; }
echo "must not run" >&2; exit 3
OLD
chmod +x "$BIN/envdrift-v2" "$BIN/envdrift-old"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote always --remote-command envdrift-v2
exits 2 "--remote always, a host envdrift of another snapshot format: exit 2"
like "$ERR" "$DEST: --remote always: no usable envdrift on the host: envdrift 9.0.0 does not speak envdrift.snapshot/1 \(it speaks: envdrift.snapshot/2" \
	"  the message names both formats"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote-command envdrift-v2
exits 0 "--remote auto, another format: collected over SFTP"
like "$ERR" "does not speak envdrift.snapshot/1.*collecting over SFTP" "  saying why"
unlike "$ERR" "must not run" "  the host's envdrift was not asked to collect"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote always --remote-command envdrift-old
exits 2 "--remote always, a host envdrift that names no formats: exit 2"
like "$ERR" "envdrift 0.0.1 names no document formats" "  the message says so"

# A profile that caps the rate: the host's envdrift would not, so SFTP.
printf '[collect]\npath = %s\npackages = none\nmax_rate = 50M\n' "$T" >"$TMP/rate.ini"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --profile "$TMP/rate.ini"
exits 0 "a profile with max_rate: collected"
like "$ERR" "max_rate.*collecting over SFTP" "  over SFTP, saying why"
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --profile "$TMP/rate.ini" --remote always
exits 2 "  --remote always with max_rate: exit 2"
COUNT1=$(q "$AGENT_DB" "select count(*) from snapshots_v")
is "$COUNT1" "$((COUNT0 + 3))" "only the three successful collections added snapshots"

# --- a far side that fails mid-stream, or lies ---
cat >"$BIN/envdrift-cut" <<'CUT'
#!/bin/sh
[ "$1" = --version ] && exec envdrift --version
envdrift "$@" | head -c 3000
exit 0
CUT
cat >"$BIN/envdrift-dies" <<'DIES'
#!/bin/sh
[ "$1" = --version ] && exec envdrift --version
envdrift "$@" | head -c 3000
echo "envdrift collect: disk on fire" >&2
exit 3
DIES
cat >"$BIN/envdrift-liar" <<'LIAR'
#!/bin/sh
[ "$1" = --version ] && exec envdrift --version
exec envdrift "$@" --host other # a second --host: the last one wins
LIAR
chmod +x "$BIN/envdrift-cut" "$BIN/envdrift-dies" "$BIN/envdrift-liar"
for w in cut dies liar; do
	ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
		--remote always --remote-command "envdrift-$w"
	case $w in
	cut) what="cuts its document short" ;;
	dies) what="dies mid-stream" ;;
	*) what="sends another host's document" ;;
	esac
	exits 2 "a far side that $what: exit 2"
	case $w in
	cut) like "$ERR" "$DEST: the document sent by envdrift on the host is refused" "  the document is refused" ;;
	dies) like "$ERR" "$DEST: envdrift .* on the host failed \(exit status 3\): disk on fire" "  the message gives its status and last words" ;;
	liar) like "$ERR" "sent a document of prod/other .*, not of prod/web .*: refused" "  the document is refused" ;;
	esac
	is "$(q "$AGENT_DB" "select count(*) from snapshots_v")" "$COUNT1" "  no snapshot is visible"
done
# A far side that goes silent: the collection fails within --io-timeout, never hangs.
cat >"$BIN/envdrift-stall" <<STALL
#!/bin/sh
[ "\$1" = --version ] && exec envdrift --version
echo \$\$ >"$TMP/stall.pid"
exec sleep 30
STALL
chmod +x "$BIN/envdrift-stall"
t0=$(ms)
ed --db "$AGENT_DB" collect --env prod --host web "${SSH[@]}" --path "$T" --packages none \
	--remote always --remote-command envdrift-stall --io-timeout 1
t1=$(ms)
exits 2 "a far side silent past --io-timeout 1: exit 2"
like "$ERR" "envdrift-stall: no answer within 1000 ms; stopped" "  the message says it stopped waiting"
ok "  within its timeout, not a hang ($((t1 - t0)) ms for 1 s; the far side sleeps 30 s)" [ $((t1 - t0)) -lt 20000 ]
for _ in $(seq 1 100); do [ -s "$TMP/stall.pid" ] && break; sleep 0.1; done
kill "$(cat "$TMP/stall.pid" 2>/dev/null)" 2>/dev/null
is "$(q "$AGENT_DB" "select count(*) from snapshots_v")" "$COUNT1" "  no snapshot is visible"
is "$(find "$TMP" -maxdepth 1 -name 'envdrift-remote.*' | wc -l)" "0" "no spooled document is left behind"

# --- the far side's standard input, read directly ---
printf '%s\n' "$(printf 'z%.0s' $(seq 64))" >"$TMP/in"
ed collect --env e --host h --root "$T" --path / --out - --key - <"$TMP/in"
exits 2 "--key - with a bad key line: exit 2"
like "$ERR" "--key -: the first line of standard input is not 64 hex digits" "  the message says what is wrong"
{ printf '%s\n' "$KEYHEX"; printf '[collect]\npath = /etc\npackages = none\nbogus = 1\n'; } >"$TMP/in"
ed collect --env e --host h --root "$T" --out - --key - --profile - <"$TMP/in"
exits 2 "--profile - with a bad profile: exit 2"
like "$ERR" "standard input:4: " "  the message names standard input and the line"
ed collect --env e --host h "${SSH[@]}" --key - --out -
exits 2 "--key - with --ssh: a usage error"

# --- the inventory, in agent mode ---
start_sshd b "$FARENV"
PB=$PORT
mkdir -p "$TMP/t2/etc"
printf 'workers = 8\n' >"$TMP/t2/etc/app.conf"
printf '[collect]\npath = %s\npackages = none\n[formats]\nconfig_trees = /etc %s\n' "$T" "$T" >"$TMP/p1.ini"
printf '[collect]\npath = %s\npackages = none\n' "$TMP/t2" >"$TMP/p2.ini"
cat >"$TMP/inventory.ini" <<INV
[prod]
user = $ME
identity = $S/user
known_hosts = $S/known_hosts
web = host=127.0.0.1 port=$PA profile=$TMP/p1.ini remote=always remote_command=envdrift-spy
api = host=127.0.0.1 port=$PB profile=$TMP/p2.ini
sftp = host=127.0.0.1 port=$PB profile=$TMP/p2.ini remote=never
INV
: >"$TMP/argv.log"
INV_DB=$TMP/inv.db
init_store "$INV_DB"
cp "$SFTP_DB.key" "$INV_DB.key"
ed --db "$INV_DB" inventory "$TMP/inventory.ini" -j 3
exits 0 "an inventory in agent mode: exit 0"
like "$OUT" "prod +web +ok" "  the summary table lists web as ok"
like "$OUT" "prod +api +ok" "  and api"
is "$(grep -c '^--- collect ' "$TMP/argv.log")" "1" "  web's remote_command ran on its host"
WEB_ID=$(q "$INV_DB" "select snapshot_id from latest_v where host = 'web'")
is "$(items_of "$INV_DB" "${WEB_ID:-0}" | cut -d'|' -f4-)" "$(cut -d'|' -f4- <<<"$S_ITEMS")" \
	"  web's items equal the SFTP collection of its tree"
is "$(q "$INV_DB" "select count(*) from items_v where host = 'api' and ino != 0")" \
	"$(q "$INV_DB" "select count(*) from items_v where host = 'api' and kind = 'file'")" "  api was collected in agent mode (inodes known)"
is "$(q "$INV_DB" "select count(*) from items_v where host = 'sftp' and ino != 0")" "0" "  sftp (remote=never) over SFTP"
printf '[prod]\nweb = host=127.0.0.1 remote=sometimes\n' >"$TMP/bad.ini"
ed --db "$INV_DB" inventory "$TMP/bad.ini"
exits 2 "an inventory with remote=sometimes: exit 2"
like "$ERR" "bad.ini:2: remote 'sometimes': expected auto, never or always" "  naming the line"

done_testing
