#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SSH source against a real OpenSSH server on 127.0.0.1 (RELIABILITY
# SSH-1..SSH-4): a tree collected over SSH gives byte-identical items to a
# local collection; unknown, changed, revoked and other-type host keys are
# refused before any authentication; accept-new adds a key once; wrong user
# keys, the agent and default identities; a silent listener, a stopped and a
# killed server fail the collection within their timeouts (exit 2, nothing
# stored as complete); hostile names and arguments are never run by a shell.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=sshd_conf.sh
. "$(dirname "$0")/sshd_conf.sh"

SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ]; then
	echo "1..0 # SKIP sshd not installed (Debian: openssh-server)"
	T_DONE=1
	exit 0
fi
for p in ssh-keygen ssh-agent ssh-add; do
	if ! command -v "$p" >/dev/null; then
		echo "1..0 # SKIP $p not installed (Debian: openssh-client)"
		T_DONE=1
		exit 0
	fi
done
ME=$(id -un)
MYHOME=$(getent passwd "$ME" | cut -d: -f6)
# As root, sshd wants its privilege separation folder.
if [ "$(id -u)" = 0 ] && ! mkdir -p /run/sshd 2>/dev/null; then
	echo "1..0 # SKIP cannot create /run/sshd"
	T_DONE=1
	exit 0
fi

S=$TMP/ssh
DB=$TMP/store.db
mkdir -p "$S"
SILENT_PID=""
AGENT_PID=""

# The sshd we started and every process it forked (each connection's sshd
# calls setsid(), so a process group would miss them): by pid, nothing else.
sshd_tree() {
	python3 - "$1" <<'EOF'
import os, sys
root = int(sys.argv[1])
parent = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            stat = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        parent[int(d)] = int(stat[stat.rindex(")") + 2:].split()[1])
found, todo = [], [root] if root in parent else []
while todo:
    p = todo.pop()
    found.append(p)
    todo += [c for c, pp in parent.items() if pp == p]
print("\n".join(map(str, found)))
EOF
}
sshd_signal() {
	local sig=$1 pids
	[ -n "${SSHD_PID:-}" ] || return 0
	pids=$(sshd_tree "$SSHD_PID" | tr '\n' ' ')
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && kill "-$sig" $pids 2>/dev/null
	return 0
}
# shellcheck disable=SC2317 # runs from the EXIT trap
ssh_cleanup() {
	local rc=$?
	sshd_signal CONT
	sshd_signal KILL
	[ -n "$SILENT_PID" ] && kill -9 "$SILENT_PID" 2>/dev/null
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
	(exit "$rc")
	t_cleanup
}
trap ssh_cleanup EXIT


T0=$(ms)
for k in host user other impostor; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$S/$k"
done
ssh-keygen -q -t ecdsa -N '' -C ecdsa-host -f "$S/ecdsa_host"
cp "$S/user.pub" "$S/authorized_keys"
PORT=$(free_port)
sshd_conf "$PORT" "$S" sshd 'KbdInteractiveAuthentication no' 'LogLevel VERBOSE' >"$S/sshd_config"

start_sshd() {
	setsid "$SSHD" -D -e -f "$S/sshd_config" >>"$S/sshd.log" 2>&1 </dev/null &
	SSHD_PID=$!
	disown "$SSHD_PID" # killed by pid, without a job notice on stderr
	if ! wait_listen "$PORT"; then
		echo "Bail out! sshd did not start: $(tail -5 "$S/sshd.log")"
		exit 2
	fi
}
start_sshd
diag "sshd on 127.0.0.1:$PORT as $ME, keys made in $(($(ms) - T0)) ms"

HOSTKEY=$(cut -d' ' -f1,2 "$S/host.pub")
FP=$(ssh-keygen -lf "$S/host.pub" | awk '{print $2}')
KH=$S/known_hosts
echo "[127.0.0.1]:$PORT $HOSTKEY" >"$KH"
DEST=$ME@127.0.0.1:$PORT
init_store "$DB"

# log_since N: the sshd log after its first N bytes.
log_size() { stat -c %s "$S/sshd.log"; }
log_since() { tail -c +"$(($1 + 1))" "$S/sshd.log"; }

# --- fixtures: every kind of entry, hostile names, a secret, dpkg's status ---
TREE=$TMP/tree
python3 - "$TREE" <<'EOF'
import os, socket, sys
root = os.fsencode(sys.argv[1])
def p(*parts): return os.path.join(root, *[x if isinstance(x, bytes) else x.encode() for x in parts])
for d in ("etc/app", "srv/data/deep/er", "var/lib/dpkg", "names", "modes/sticky"):
    os.makedirs(p(d), exist_ok=True)
open(p("etc/app/app.conf"), "w").write("listen 8080\nworkers 4\n")
open(p("etc/app/config.json"), "w").write('{"db": {"host": "db1", "password": "hunter2-canary"}, "pool": 5}\n')
open(p("etc/app/empty"), "w").close()
with open(p("srv/data/big.bin"), "wb") as f:   # several read requests in flight
    f.write(os.urandom(3 * 1024 * 1024 + 12345))
with open(p("srv/data/zeros"), "wb") as f:
    f.write(b"\0" * 70000)
for i in range(40):
    open(p("srv/data/deep/er/f%02d.txt" % i), "w").write("file %d\n" % i * (i + 1))
os.chmod(p("etc/app/app.conf"), 0o600)
open(p("modes/suid"), "w").write("#!/bin/sh\n")
os.chmod(p("modes/suid"), 0o4755)
os.chmod(p("modes/sticky"), 0o1777)
open(p("modes/none"), "w").write("unreadable to others\n")
os.chmod(p("modes/none"), 0o000)
os.symlink("app.conf", p("etc/app/current"))
os.symlink("/etc/shadow", p("etc/app/shadow-link"))
os.symlink("missing/target", p("etc/app/dangling"))
os.symlink("b", p("etc/app/a"))
os.symlink("a", p("etc/app/b"))
os.symlink("..", p("srv/data/up"))
os.mkfifo(p("srv/data/fifo"))
s = socket.socket(socket.AF_UNIX); s.bind(p("srv/data/sock")); s.close()
# Hostile names: shell syntax, control bytes, invalid UTF-8, the longest name.
for n in [b"$(touch pwned-name)", b"`touch pwned-tick`", b"a;b", b"with\nnewline",
          b"quote'name", b'dq"name', b"-rf", b" lead space", b"tab\there", b"\xff\xfe-bytes",
          b"back\\slash", b"x" * 255]:
    open(p(b"names", n), "w").write("name file\n")
EOF
dpkg_slice 30 >"$TREE/var/lib/dpkg/status"

# The items of snapshot N, every compared column (fingerprints and names in hex).
items_of() {
	q "$DB" "select kind, hex(key), hex(fingerprint), value, ftype, mode, owner, grp, target, size,
	         error, attrs from items where snapshot_id = $1 order by kind, key"
}

# --- 1. equivalence: the same tree locally and over SSH ---
T0=$(ms)
ed --db "$DB" collect --env local --host h --root / --path "$TREE" --packages dpkg
exits 0 "local collection of the fixture tree"
LOCAL=$OUT
T_LOCAL=$(($(ms) - T0))
T0=$(ms)
ed --db "$DB" collect --env remote --host h --path "$TREE" --packages dpkg --ssh "$DEST" \
	--known-hosts "$KH" --identity "$S/user"
exits 0 "the same tree collected over SSH"
REMOTE=$OUT
diag "local ${T_LOCAL} ms, over SSH $(($(ms) - T0)) ms"
L_ITEMS=$(items_of "${LOCAL:-0}")
R_ITEMS=$(items_of "${REMOTE:-0}")
N_FILES=$(q "$DB" "select count(*) from items where snapshot_id = ${LOCAL:-0} and kind = 'file'")
N_PKGS=$(q "$DB" "select count(*) from items where snapshot_id = ${LOCAL:-0} and kind = 'package'")
N_SYS=$(q "$DB" "select count(*) from items where snapshot_id = ${LOCAL:-0} and kind = 'system'")
if [ "$N_FILES" -ge 70 ] && [ "$N_PKGS" -ge 10 ] && [ "$N_SYS" -ge 5 ]; then
	pass "  the local snapshot holds $N_FILES files, $N_PKGS packages, $N_SYS system facts"
else
	fail "  the local snapshot holds files, packages and system facts" "$N_FILES files, $N_PKGS packages, $N_SYS facts"
fi
if [ "$L_ITEMS" == "$R_ITEMS" ]; then
	pass "  every item is byte-identical over SSH (kind, key, fingerprint, value, type, mode, owner, target, size, error, attrs)"
else
	fail "  every item is byte-identical over SSH" "$(diff <(echo "$L_ITEMS") <(echo "$R_ITEMS") | head -20)"
fi
is "$(q "$DB" "select value from items where snapshot_id = ${REMOTE:-0} and key = 'arch'")" \
	"$(uname -m)" "  the architecture came from 'uname -m' run on the host"
is "$(q "$DB" "select ftype || ' ' || target from items where snapshot_id = ${REMOTE:-0} and key = '$TREE/etc/app/shadow-link'")" \
	"symlink /etc/shadow" "  a link out of the tree is recorded, never followed"
is "$(q "$DB" "select ftype || ' ' || hex(fingerprint) from items where snapshot_id = ${REMOTE:-0} and key = '$TREE/srv/data/fifo'")" \
	"fifo 00000000000000000000000000000000" "  a FIFO is recorded, never opened"
is "$(q "$DB" "select printf('%o', mode) from items where snapshot_id = ${REMOTE:-0} and key = '$TREE/modes/suid'")" \
	"4755" "  setuid and other mode bits survive SFTP"
R_DUMP=$(sqlite3 "$DB" .dump)
unlike "$R_DUMP" "hunter2-canary" "  the secret in config.json is in no row of the store"

# Push mode over SSH: the document, once ingested, holds the same items.
install -m 600 "$DB.key" "$TMP/agent.key"
ed --db "$TMP/absent.db" collect --env pushed --host h --path "$TREE" --packages dpkg --ssh "$DEST" \
	--known-hosts "$KH" --identity "$S/user" --out "$TMP/push.json" --key "$TMP/agent.key"
exits 0 "collect --ssh --out writes a snapshot document"
ed --db "$DB" ingest "$TMP/push.json"
exits 0 "  which ingests"
if [ "$(items_of "${OUT:-0}")" == "$L_ITEMS" ]; then
	pass "  with the items of the local collection"
else
	fail "  with the items of the local collection" "$(diff <(echo "$L_ITEMS") <(items_of "${OUT:-0}") | head -20)"
fi

# --- 8. hostile names and arguments: nothing reaches a shell ---
H=$(printf '%s' "$TREE/names/" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
is "$(q "$DB" "select count(*) from items where snapshot_id = ${REMOTE:-0} and hex(key) like '$H%'")" \
	"12" "every hostile name is an item of the SSH snapshot"
is "$(q "$DB" "select count(*) from items where snapshot_id = ${REMOTE:-0} and key = '$TREE/names/with' || char(10) || 'newline'")" \
	"1" "  a name with a newline round-trips byte-exact"
PWNED=$(find "$TREE" "$TMP" "$MYHOME" /tmp -maxdepth 1 -name 'pwned*' 2>/dev/null)
is "$PWNED" "" "  no name was run as a command (no pwned-* file anywhere)"
# run() quotes every argument: psql gets this conninfo as one argument, shell syntax and all.
INJ="dbname=x'\$(touch $TMP/pwned-run1)'\`touch $TMP/pwned-run2\`;touch $TMP/pwned-run3 \"|touch $TMP/pwned-run4"
ed --db "$DB" collect --env inj --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$KH" --identity "$S/user" --schema "inj=postgres:$INJ"
exits 2 "a postgres conninfo full of shell syntax fails the collection"
is "$(find "$TMP" -maxdepth 1 -name 'pwned*' | wc -l)" "0" "  and nothing in it ran on the host"
unlike "$ERR" "sh: |syntax error" "  the remote shell never parsed it"

# --- 2. unknown host key: refused, with the fingerprint and how to accept it ---
: >"$S/empty_known_hosts"
L0=$(log_size)
ed --db "$DB" collect --env strict --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/empty_known_hosts" --identity "$S/user"
exits 2 "an unknown host key is refused"
contains "$ERR" "$FP" "  the message shows the key's SHA256 fingerprint ($FP)"
contains "$ERR" "ED25519" "  and its type"
like "$ERR" "ssh-keyscan -p $PORT -t ed25519 127.0.0.1 >> .*--accept-new-host-keys" "  and how to accept it"
sleep 0.2
unlike "$(log_since "$L0")" "publickey|Accepted|Failed|Postponed" "  no authentication was attempted"
is "$(q "$DB" "select count(*) from snapshots where env = 'strict'")" "0" "  and no snapshot was begun"
is "$(wc -c <"$S/empty_known_hosts")" "0" "  the known hosts file is left alone"

# --- 3. changed host key: refused always, even with --accept-new-host-keys ---
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/impostor.pub")" >"$S/changed_known_hosts"
cp "$S/changed_known_hosts" "$S/changed.orig"
L0=$(log_size)
for flag in "" --accept-new-host-keys; do
	# shellcheck disable=SC2086 # flag may be empty
	ed --db "$DB" collect --env changed --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
		--known-hosts "$S/changed_known_hosts" --identity "$S/user" $flag
	exits 2 "a changed host key is refused${flag:+ with $flag}"
	contains "$ERR" "HOST KEY CHANGED" "  the message says the key changed"
	contains "$ERR" "$FP" "  and shows the new fingerprint"
done
ok "  the known hosts file is unchanged" cmp -s "$S/changed_known_hosts" "$S/changed.orig"
sleep 0.2
unlike "$(log_since "$L0")" "publickey|Accepted|Failed|Postponed" "  no authentication was attempted"
# The same as a hashed entry (ssh-keygen -H, as HashKnownHosts writes).
cp "$S/changed.orig" "$S/changed_hashed"
ssh-keygen -q -H -f "$S/changed_hashed" >/dev/null 2>&1
rm -f "$S/changed_hashed.old"
like "$(cat "$S/changed_hashed")" '^\|1\|' "  (the hashed file holds no plain host name)"
ed --db "$DB" collect --env changed --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/changed_hashed" --identity "$S/user" --accept-new-host-keys
exits 2 "a changed key under a hashed entry is refused too"
contains "$ERR" "HOST KEY CHANGED" "  as changed"
# Known only by a key of another type: the same refusal, never a silent addition.
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/ecdsa_host.pub")" >"$S/other_type"
cp "$S/other_type" "$S/other_type.orig"
ed --db "$DB" collect --env changed --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/other_type" --identity "$S/user" --accept-new-host-keys
exits 2 "a host known only by a key of another type is refused with --accept-new-host-keys"
contains "$ERR" "only keys of other types" "  the message says so"
ok "  and nothing was added" cmp -s "$S/other_type" "$S/other_type.orig"
# @revoked beats a matching entry.
{ echo "@revoked * $HOSTKEY"; echo "[127.0.0.1]:$PORT $HOSTKEY"; } >"$S/revoked"
ed --db "$DB" collect --env changed --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/revoked" --identity "$S/user"
exits 2 "a key marked @revoked is refused though another line trusts it"
contains "$ERR" "@revoked" "  the message says so"
is "$(q "$DB" "select count(*) from snapshots where env = 'changed'")" "0" "no refused connection began a snapshot"

# --- hashed and messy known_hosts files are read like OpenSSH reads them ---
{
	echo "# a comment, then lines libssh2 cannot parse, which must not hide later ones"
	echo "@cert-authority *.example.com $(cut -d' ' -f1,2 "$S/other.pub")"
	echo "garbage"
	echo "other.example.com sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA=="
	echo "[127.0.0.1]:$PORT $HOSTKEY"
} >"$S/messy"
ssh-keygen -q -H -f "$S/messy" >/dev/null 2>&1
rm -f "$S/messy.old"
ed --db "$DB" collect --env hashed --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/messy" --identity "$S/user"
exits 0 "a hashed entry after unparseable lines is honoured"
# A plain host:22 entry does not vouch for another port (libssh2's checkp would let it).
echo "127.0.0.1 $HOSTKEY" >"$S/port22"
ed --db "$DB" collect --env p22 --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/port22" --identity "$S/user"
exits 2 "an entry for port 22 does not vouch for port $PORT"
contains "$ERR" "unknown host key" "  the host is unknown there"

# --- 4. accept-new: adds an unknown key once, then verifies it ---
NEWKH=$TMP/newdir/known_hosts
ed --db "$DB" collect --env acc --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$NEWKH" --identity "$S/user" --accept-new-host-keys
exits 0 "--accept-new-host-keys accepts an unknown host"
contains "$ERR" "added ED25519 key $FP" "  and says which key it added"
is "$(cat "$NEWKH" 2>/dev/null)" "[127.0.0.1]:$PORT $HOSTKEY" "  known_hosts holds exactly that key, in OpenSSH's form"
is "$(ssh-keygen -F "[127.0.0.1]:$PORT" -f "$NEWKH" | grep -vc '^#')" "1" "  which ssh-keygen -F finds"
ed --db "$DB" collect --env acc --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$NEWKH" --identity "$S/user" --accept-new-host-keys
exits 0 "  a second run with --accept-new-host-keys verifies it"
ed --db "$DB" collect --env acc --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$NEWKH" --identity "$S/user"
exits 0 "  and so does a strict run"
is "$(wc -l <"$NEWKH")" "1" "  the key was added once"
# A file without a final newline gets the key on a line of its own.
printf '# no newline at the end' >"$S/nonl"
ed --db "$DB" collect --env acc --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$S/nonl" --identity "$S/user" --accept-new-host-keys
exits 0 "accept-new appends to a file that lacks a final newline"
is "$(tail -1 "$S/nonl")" "[127.0.0.1]:$PORT $HOSTKEY" "  on a line of its own"

# --- 5. user keys: a wrong one, a missing one, the agent, the default files ---
L0=$(log_size)
ed --db "$DB" collect --env auth --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$KH" --identity "$S/other"
exits 2 "a user key the server does not authorise is refused"
like "$ERR" "authentication as $ME refused \(tried: $S/other: refused\)" "  the message names the user and the key"
ed --db "$DB" collect --env auth --host h --path "$TREE/etc" --packages none --ssh "$DEST" \
	--known-hosts "$KH" --identity "$S/nonexistent"
exits 2 "a missing identity file is an error"
contains "$ERR" "identity $S/nonexistent: No such file or directory" "  naming the file"
is "$(q "$DB" "select count(*) from snapshots where env = 'auth'")" "0" "  neither began a snapshot"
# ssh-agent, with a home without keys: the only way in.
mkdir -p "$TMP/home/.ssh"
eval "$(ssh-agent -s -a "$TMP/agent.sock")" >/dev/null
AGENT_PID=$SSH_AGENT_PID
ssh-add -q "$S/other" 2>/dev/null # refused first: the next key must still be tried
ssh-add -q "$S/user" 2>/dev/null
HOME=$TMP/home ed --db "$DB" collect --env auth --host h --path "$TREE/etc" --packages none \
	--ssh "$DEST" --known-hosts "$KH"
exits 0 "without --identity, ssh-agent's keys are tried in turn"
kill "$AGENT_PID" 2>/dev/null
AGENT_PID=""
unset SSH_AUTH_SOCK SSH_AGENT_PID
# No agent: ~/.ssh/id_ed25519 and ~/.ssh/known_hosts by default.
cp "$S/user" "$TMP/home/.ssh/id_ed25519"
cp "$KH" "$TMP/home/.ssh/known_hosts"
HOME=$TMP/home ed --db "$DB" collect --env auth --host h --path "$TREE/etc" --packages none \
	--ssh "$DEST"
exits 0 "without an agent, ~/.ssh/id_ed25519 and ~/.ssh/known_hosts serve by default"
rm -f "$TMP/home/.ssh/id_ed25519"
HOME=$TMP/home ed --db "$DB" collect --env auth --host h --path "$TREE/etc" --packages none \
	--ssh "$DEST"
exits 2 "no key at all is refused"
contains "$ERR" "no key" "  saying no key was found"

# --- usage ---
ed --db "$DB" collect --env u --ssh "$DEST" --root /
exits 2 "--ssh and --root exclude each other"
ed --db "$DB" collect --env u --identity "$S/user"
exits 2 "SSH options without --ssh are refused"
ed --db "$DB" collect --env u --ssh "bad host@"
exits 2 "a malformed destination is refused"
contains "$ERR" "USER@HOST[:PORT]" "  with the expected form"

# --- 7. a listener that accepts and never answers: the connect timeout ---
SILENT_PORT=$(free_port)
"$T_PY" - "$SILENT_PORT" >/dev/null 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)   # accepted, never a byte in return
EOF
SILENT_PID=$!
disown "$SILENT_PID"
wait_listen "$SILENT_PORT"
T0=$(ms)
ED_TIMEOUT=20 ed --db "$DB" collect --env silent --host h --path /etc --packages none \
	--ssh "$ME@127.0.0.1:$SILENT_PORT" --known-hosts "$KH" --identity "$S/user" --connect-timeout 1
T_SILENT=$(($(ms) - T0))
exits 2 "a server that accepts and never speaks fails the collection"
contains "$ERR" "no answer within 1000 ms" "  with the timeout in the message"
if [ "$T_SILENT" -lt 4000 ]; then pass "  within the connect timeout ($T_SILENT ms for 1 s)"; else
	fail "  within the connect timeout" "took $T_SILENT ms"
fi
kill -9 "$SILENT_PID" 2>/dev/null
SILENT_PID=""

# --- 6. a server stopped, then one killed, in the middle of a collection ---
BIG=$TMP/big
python3 - "$BIG" <<'EOF'
import os, sys
for d in range(60):
    p = os.path.join(sys.argv[1], "d%02d" % d)
    os.makedirs(p)
    for f in range(50):
        with open(os.path.join(p, "f%02d" % f), "w") as fh:
            fh.write("dir %d file %d\n" % (d, f) * 50)
EOF
# collect_big ENV ARGS...: starts a collection of the big tree in the background.
collect_big() {
	local env=$1
	shift
	BIG_LOG=$(log_size)
	timeout -k 5 60 "$ENVDRIFT" --db "$DB" collect --env "$env" --host h --path "$BIG" \
		--packages none --ssh "$DEST" --known-hosts "$KH" --identity "$S/user" --threads 4 \
		"$@" >"$TMP/big.out" 2>"$TMP/big.err" &
	BIG_PID=$!
}
# Waits (at most 10 s) until the collection is walking the tree: its 5 connections (the
# walk's and 4 hashing threads') are in, then 100 ms more.
wait_busy() {
	local _
	for _ in $(seq 1 200); do
		if [ "$(log_since "$BIG_LOG" | grep -c 'Accepted publickey')" -ge 5 ]; then
			sleep 0.1
			return 0
		fi
		sleep 0.05
	done
	diag "the collection did not open its 5 connections within 10 s"
	return 1
}
T0=$(ms)
collect_big full
wait "$BIG_PID"
RC=$?
is "$RC" "0" "the big tree ($(find "$BIG" | wc -l) entries) collects over SSH"
T_FULL=$(($(ms) - T0))
diag "one full collection of the big tree over SSH: $T_FULL ms"

# SIGSTOP: the connections stay open and silent.
collect_big stopped --io-timeout 1.5 --connect-timeout 1.5
wait_busy
sshd_signal STOP
T0=$(ms)
wait "$BIG_PID"
RC=$?
T_STOP=$(($(ms) - T0))
san_check "$(cat "$TMP/big.err")" "collect (stopped server)"
is "$RC" "2" "a server that stops answering mid-collection fails it (exit 2)"
contains "$(cat "$TMP/big.err")" "no answer within 1500 ms" "  with the I/O timeout in the message"
if [ "$T_STOP" -lt 8000 ]; then pass "  within its timeouts, not a hang ($T_STOP ms for 1.5 s each)"; else
	fail "  within the timeout" "took $T_STOP ms after the stop"
fi
is "$(q "$DB" "select count(*) from snapshots where env = 'stopped' and status = 'complete'")" "0" \
	"  no snapshot of it is complete"
sshd_signal CONT
sshd_signal KILL
start_sshd

# SIGKILL: the connections drop.
collect_big killed
wait_busy
sshd_signal KILL
T0=$(ms)
wait "$BIG_PID"
RC=$?
T_KILL=$(($(ms) - T0))
san_check "$(cat "$TMP/big.err")" "collect (killed server)"
is "$RC" "2" "a server killed mid-collection fails it (exit 2)"
like "$(cat "$TMP/big.err")" "connection (lost|failed)|no answer" "  saying the connection was lost"
if [ "$T_KILL" -lt 5000 ]; then pass "  at once ($T_KILL ms)"; else fail "  at once" "took $T_KILL ms"; fi
is "$(q "$DB" "select count(*) from snapshots where env = 'killed' and status = 'complete'")" "0" \
	"  no snapshot of it is complete"
is "$(q "$DB" "select count(*) from items i join snapshots s on s.id = i.snapshot_id where s.env in ('killed', 'stopped')")" \
	"0" "  and no items of either failed collection are stored"
is "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok" "  the store passes PRAGMA integrity_check"

done_testing
