#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Kept content: text files a profile names are stored once per fingerprint,
# compressed, with every secret replaced by a marker; secret files, binary
# files and files over the size cap are never kept.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

R=$TMP/root
DB=$TMP/store.db
mkdir -p "$R/etc/app" "$R/etc/ssl/private"
printf 'port 6379\nrequirepass Canary-Redis-71\nmaxmemory 2gb\n' >"$R/etc/redis.conf"
printf 'network={\n  ssid="office"\n  psk="Canary-Wifi-72"\n}\n' >"$R/etc/wpa.conf"
printf '{"db": {"host": "db1", "password": "Canary-Json-73"}, "pool": 5}\n' >"$R/etc/app/config.json"
printf 'db:\n  host: db1\n  api_token: Canary-Yaml-74\n' >"$R/etc/app/app.yaml"
printf 'secret material Canary-Key-75\n' >"$R/etc/ssl/private/server.conf"
printf 'a\0b binary\n' >"$R/etc/app/binary.conf"
python3 -c 'print("x = 1\n" * 100000)' >"$R/etc/app/big.conf"
cat >"$TMP/profile.ini" <<'INI'
[collect]
path = /etc
packages = none

[secrets]
files = /etc/ssl/private/*

[content]
keep = /etc/*.conf /etc/app/*.json /etc/app/*.yaml
max_size = 64K
INI
init_store "$DB"
ed --db "$DB" collect --env c --host h --root "$R" --profile "$TMP/profile.ini"
exits 0 "collect with a profile that keeps content"
snap=$OUT

# kept PATH: the kept text of PATH in snapshot $snap, or "(none)".
kept() {
	python3 - "$DB" "$snap" "$1" <<'PY'
import sqlite3, sys, zlib
db, snap, path = sys.argv[1:]
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
row = c.execute("""SELECT c.data FROM items i JOIN contents c ON c.fingerprint = i.fingerprint
                   WHERE i.snapshot_id = ? AND i.kind = 'file' AND i.key = ?
                   AND c.encoding = 'zlib'""", (snap, path)).fetchone()
sys.stdout.write(zlib.decompress(row[0]).decode() if row else "(none)")
PY
}

is "$(kept /etc/redis.conf)" "port 6379
requirepass <secret>
maxmemory 2gb" "a plain config is kept with the secret after its key replaced"
like "$(kept /etc/wpa.conf)" 'psk=<secret>' "free-form text: psk is masked"
contains "$(kept /etc/wpa.conf)" 'ssid="office"' "  and the rest is kept as it was"
kj=$(kept /etc/app/config.json)
contains "$kj" '"host": "db1"' "a JSON config is kept byte for byte apart from the secret"
unlike "$kj" 'Canary' "  without its secret"
ky=$(kept /etc/app/app.yaml)
contains "$ky" 'host: db1' "a YAML config is kept"
unlike "$ky" 'Canary' "  without its secret"
is "$(kept /etc/ssl/private/server.conf)" "(none)" "a secret file is never kept"
is "$(kept /etc/app/binary.conf)" "(none)" "a binary file is not kept"
is "$(kept /etc/app/big.conf)" "(none)" "a file over max_size is not kept"

# No canary anywhere in the store, its WAL, or what collect printed.
leaks=$(cat "$DB" "$DB-wal" "$TMP/.out" "$TMP/.err" 2>/dev/null | grep -a -o 'Canary-[A-Za-z]*-[0-9]*' | sort -u | tr '\n' ' ')
is "$leaks" "" "no secret appears in the store file, its WAL or the output"

rows=$(q "$DB" "SELECT count(*) FROM contents")
ed --db "$DB" collect --env c --host h --root "$R" --profile "$TMP/profile.ini"
exits 0 "collect again"
is "$(q "$DB" "SELECT count(*) FROM contents")" "$rows" "unchanged content is stored once"
like "$ERR" " 0 files hashed" "  and the unchanged files are not read again"

# A profile's own key globs mask free text too, whatever their shape: a capital
# letter, two letters, a run inside a longer word.
R2=$TMP/root2
mkdir -p "$R2/etc"
printf 'MyOpenSesameWord value1\nzq value2\nold_lockbox_x value3\nharmless zz value4\n' >"$R2/etc/custom.conf"
cat >"$TMP/profile2.ini" <<'INI'
[collect]
path = /etc
packages = none

[secrets]
keys = *OpenSesame* zq *lockbox*

[content]
keep = /etc/*.conf
INI
ed --db "$DB" collect --env c2 --host h --root "$R2" --profile "$TMP/profile2.ini"
exits 0 "collect with a profile's own secret key globs"
snap=$OUT
kc=$(kept /etc/custom.conf)
for v in value1 value2 value3; do
	unlike "$kc" "$v" "  free text after a word a profile glob matches is masked ($v)"
done
contains "$kc" "harmless zz value4" "  a line with no such word is kept"

done_testing
