#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# collect --inventory: a fleet over SSH, several hosts at once, one snapshot
# per host; a dead host fails alone; the items equal a local collection of
# the same trees; a wrong inventory line names the file and the line.
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
mkdir -p "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host"
ssh-keygen -q -t ed25519 -N '' -f "$S/user"
cp "$S/user.pub" "$S/authorized_keys"
: >"$S/known_hosts"
# Two servers stand for two machines of the fleet. start_sshd runs in this
# shell, not in a $(...) subshell, so that t_spawn's registration reaches the
# EXIT trap (a subshell's was lost, and both daemons outlived every run).
start_sshd() { # NAME; sets PORT
	local port
	port=$(free_port)
	sshd_conf "$port" "$S" "$1" >"$S/$1.conf"
	t_spawn "$SSHD" -D -e -f "$S/$1.conf" >>"$S/$1.log" 2>&1
	wait_listen "$port" || { echo "Bail out! sshd $1 did not start"; exit 2; }
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$S/host.pub")" >>"$S/known_hosts"
	PORT=$port
}
start_sshd a
PA=$PORT
start_sshd b
PB=$PORT
DEAD=$(free_port)

# One tree per host (the servers share this machine's file system).
for h in web-1 web-2 web-s dead; do
	mkdir -p "$TMP/trees/$h/etc"
	printf 'workers = 4\nname = %s\n' "$h" >"$TMP/trees/$h/etc/app.conf"
	printf '[collect]\npath = %s\npackages = none\n' "$TMP/trees/$h" >"$TMP/$h.ini"
done
printf 'extra\n' >"$TMP/trees/web-s/etc/extra.conf"
cat >"$TMP/inventory.ini" <<INV
; the fleet
[production]
user = $ME
identity = $S/user
known_hosts = $S/known_hosts
web-1 = host=127.0.0.1 port=$PA role=web profile=$TMP/web-1.ini
web-2 = host=127.0.0.1 port=$PB role=web profile=$TMP/web-2.ini
dead = host=127.0.0.1 port=$DEAD role=web profile=$TMP/dead.ini

[staging]
user = $ME
identity = $S/user
known_hosts = $S/known_hosts
web-s = host=127.0.0.1 port=$PA role=web profile=$TMP/web-s.ini
INV

DB=$TMP/store.db
init_store "$DB"
t0=$(ms)
ed --db "$DB" collect --inventory "$TMP/inventory.ini" -j 4
t1=$(ms)
exits 2 "a fleet with one dead host: exit 2"
like "$OUT" "production +web-1 +ok" "the summary lists web-1 as ok"
like "$OUT" "staging +web-s +ok" "  and web-s"
like "$OUT" "production +dead +failed .*(refused|connect)" "  and the dead host as failed, with the reason"
diag "fleet of 4 (one dead) collected in $((t1 - t0)) ms"
is "$(q "$DB" "SELECT group_concat(host, ' ') FROM (SELECT host FROM snapshots_v WHERE status = 'complete' ORDER BY host)")" \
	"web-1 web-2 web-s" "one complete snapshot per reachable host, none for the dead one"
is "$(q "$DB" "SELECT count(*) FROM snapshots_v WHERE status = 'running'")" "0" "nothing left running"

# The items equal a local collection of the same tree.
ed --db "$DB" collect --env local --host web-1 --profile "$TMP/web-1.ini"
items() { q "$DB" "SELECT kind, key, hex(fingerprint), value, mode, owner, grp, error FROM items_v WHERE snapshot_id = $1 AND kind = 'file' ORDER BY key"; }
ssh_id=$(q "$DB" "SELECT snapshot_id FROM latest_v WHERE env = 'production' AND host = 'web-1'")
is "$(items "$ssh_id")" "$(items "$OUT")" "over SSH, the same file items as a local collection"

ed --db "$DB" collect --inventory "$TMP/inventory.ini" --env staging
exits 0 "--env staging: only its host, all stored: exit 0"
is "$(q "$DB" "SELECT count(*) FROM snapshots_v WHERE host = 'web-s' AND status = 'complete'")" "2" "  a second snapshot of web-s"
# The profile's byte-rate cap: 3 MiB at 1 MiB/s cannot take less than about 2 s.
mkdir -p "$TMP/trees/slow"
head -c 3145728 /dev/urandom >"$TMP/trees/slow/blob"
printf '[collect]\npath = %s\npackages = none\nmax_rate = 1M\n' "$TMP/trees/slow" >"$TMP/slow.ini"
t0=$(ms)
ed --db "$DB" collect --env capped --host slow --ssh "$ME@127.0.0.1:$PA" --known-hosts "$S/known_hosts" \
	--identity "$S/user" --profile "$TMP/slow.ini"
t1=$(ms)
exits 0 "a collection with max_rate = 1M"
ok "  reading 3 MiB took at least 2 s ($((t1 - t0)) ms): the cap holds" test $((t1 - t0)) -ge 2000
printf '[collect]\nmax_rate = fast\n' >"$TMP/badrate.ini"
ed --db "$DB" collect --env capped --host slow --ssh "$ME@127.0.0.1:$PA" --known-hosts "$S/known_hosts" \
	--identity "$S/user" --profile "$TMP/badrate.ini"
like "$ERR" "badrate.ini:2: 'max_rate': 'fast' is not a rate" "a wrong max_rate names the file and line"

# An SQLite schema over SSH: the database (and its WAL) is copied, then read.
mkdir -p "$TMP/trees/dbhost"
sqlite3 "$TMP/trees/dbhost/app.db" "PRAGMA journal_mode = WAL; CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
	CREATE INDEX users_email ON users (email); CREATE VIEW v AS SELECT email FROM users;" >/dev/null
printf '[collect]\npath = %s\npackages = none\n' "$TMP/trees/dbhost" >"$TMP/dbhost.ini"
ed --db "$DB" collect --env dbssh --host dbhost --ssh "$ME@127.0.0.1:$PA" --known-hosts "$S/known_hosts" \
	--identity "$S/user" --profile "$TMP/dbhost.ini" --schema "app=sqlite:$TMP/trees/dbhost/app.db"
exits 0 "an SQLite schema collected over SSH"
ssh_db=$OUT
ed --db "$DB" collect --env dblocal --host dbhost --profile "$TMP/dbhost.ini" --schema "app=sqlite:$TMP/trees/dbhost/app.db"
schema_items() { q "$DB" "SELECT key, hex(fingerprint), value FROM items WHERE snapshot_id = $1 AND kind = 'schema' ORDER BY key"; }
is "$(schema_items "$ssh_db")" "$(schema_items "$OUT")" "  the same schema items as a local collection"
like "$(schema_items "$ssh_db")" "sqlite:app/index/users_email" "  (the index included)"
ok "  and no copy is left behind" test -z "$(find /tmp -maxdepth 1 -name 'envdrift-db-*' -newer "$TMP/dbhost.ini" 2>/dev/null)"

printf '[production]\nweb-9 = host=127.0.0.1 colour=blue\n' >"$TMP/bad.ini"
ed --db "$DB" collect --inventory "$TMP/bad.ini"
exits 2 "a wrong inventory line: exit 2"
like "$ERR" "bad.ini:2: unknown host setting 'colour'" "  naming the file, the line and the problem"
printf '[production]\nweb-9 = port=22\n' >"$TMP/bad2.ini"
ed --db "$DB" collect --inventory "$TMP/bad2.ini"
like "$ERR" "bad2.ini:2: host 'web-9' has no host=ADDRESS" "a host without an address is refused"
ed --db "$DB" collect --inventory "$TMP/inventory.ini" --env nosuch
exits 2 "an environment the inventory lacks: exit 2"

done_testing
