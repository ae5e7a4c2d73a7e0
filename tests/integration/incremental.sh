#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Incremental collection: unchanged files reuse their fingerprints and give
# items identical to a full collection; a changed file is read again; a file
# rewritten while it is collected is never stored with a torn fingerprint.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

R=$TMP/root
DB=$TMP/store.db
mkdir -p "$R/etc/app/conf.d" "$R/srv/data"
for i in $(seq 1 200); do printf 'setting_%d = %d\n' "$i" "$i" >"$R/etc/app/conf.d/$i.conf"; done
printf '{"db": {"host": "db1", "pool": 5, "password": "pw-canary-1"}}' >"$R/etc/app/config.json"
head -c 3000000 /dev/urandom >"$R/srv/data/blob.bin"
ln -s conf.d/1.conf "$R/etc/app/first"
init_store "$DB"

collect() { ed --db "$DB" collect --env inc --host h1 --root "$R" --path /etc --path /srv --packages none "$@"; }
# items ID: everything a report compares, in key order (not mtime or inode).
items() { q "$DB" "SELECT kind, key, upper(fingerprint), value, ftype, mode, owner, grp, target, error, attrs FROM items_v WHERE snapshot_id = $1 ORDER BY kind, key"; }

collect
exits 0 "first collection"
first=$OUT
like "$ERR" "no previous snapshot" "the first collection says it had nothing to reuse"

collect
exits 0 "second collection"
second=$OUT
like "$ERR" "0 files hashed .* 202 unchanged" "the second reads no unchanged file"
is "$(items "$second")" "$(items "$first")" "incremental items are identical to the full collection's"

collect --full
exits 0 "a --full collection"
full=$OUT
like "$ERR" "202 files hashed" "--full reads every file"
is "$(items "$full")" "$(items "$first")" "--full gives the same items"

# Same size, same mtime, new content: ctime still moves, so the file is read again.
mt=$(stat -c %y "$R/etc/app/conf.d/7.conf")
printf 'setting_7 = X\n' >"$R/etc/app/conf.d/7.conf"
touch -d "$mt" "$R/etc/app/conf.d/7.conf"
printf '{"db": {"host": "db2", "pool": 5, "password": "pw-canary-1"}}' >"$R/etc/app/config.json"
collect
exits 0 "a collection after two changes"
third=$OUT
like "$ERR" "2 files hashed .* 200 unchanged" "exactly the two changed files are read"
changed=$(q "$DB" "SELECT a.key FROM items_v a JOIN items_v b ON a.kind = b.kind AND a.key = b.key
	WHERE a.snapshot_id = $full AND b.snapshot_id = $third AND a.fingerprint <> b.fingerprint ORDER BY 1")
is "$changed" "/etc/app/conf.d/7.conf
/etc/app/config.json
/etc/app/config.json#/db/host" "the changed file, the changed config value and nothing else differ"
collect --full
is "$(items "$OUT")" "$(items "$third")" "after changes, incremental still equals full"

# A config that does not parse: an unchanged one is not read again, yet says so each time.
printf '{"db": ' >"$R/etc/app/broken.json"
collect
exits 0 "a collection with a broken config"
warned=$OUT
like "$ERR" "broken.json:" "  warns about it"
collect
exits 0 "the next collection, with nothing changed"
like "$ERR" "0 files hashed" "  reads no file"
warnings() { q "$DB" "SELECT message FROM warnings WHERE snapshot_id = $1 ORDER BY seq"; }
like "$(warnings "$warned")" "broken.json:1:" "  the warning is stored"
is "$(warnings "$OUT")" "$(warnings "$warned")" "  and stored again, though the file was not read"
is "$(q "$DB" "SELECT warning_count FROM snapshots WHERE id = $OUT")" \
	"$(q "$DB" "SELECT warning_count FROM snapshots WHERE id = $warned")" "  with the same count"
rm "$R/etc/app/broken.json"
# A warning about another file whose name starts the same ("a.json:1.json") is not this one's.
printf '{"ok": 1}' >"$R/etc/app/a.json"
printf '{"db": ' >"$R/etc/app/a.json:1.json"
collect
exits 0 "a.json and a broken a.json:1.json"
like "$(warnings "$OUT")" "a.json:1.json:1:" "  the broken one is warned about"
rm "$R/etc/app/a.json:1.json"
collect
collect
exits 0 "after a.json:1.json is removed, twice"
is "$(warnings "$OUT")" "" "  no warning is left, though a.json was not read again"
rm "$R/etc/app/a.json"

# --- torn reads: writers change files while collections run ---
# A fingerprint is right when it is the hash of a state the file really had at
# one moment. Two writers make those states known:
#  - grow.bin only ever grows (appends): each state is a prefix of the final
#    file, so the stored fingerprint must be the hash of its first SIZE bytes,
#    SIZE being the size recorded with it;
#  - flip.bin is rewritten in place, block 0 to 255, alternately all A and all
#    B: each state is "first k blocks new, the rest old", 514 states in all.
# A read torn by a write matches neither (or is recorded as unstable).
python3 - "$TMP/states" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d)
a, b = b"A" * 4096, b"B" * 4096
for k in range(257):
    for new, old, tag in ((b, a, "ab"), (a, b, "ba")):
        with open(f"{d}/{tag}{k:03d}", "wb") as f:
            f.write(new * k + old * (256 - k))
PY
(cd "$TMP/states" && xxh128sum -- * 2>/dev/null) | cut -d' ' -f1 | sort -u >"$TMP/flip.fps"
head -c 1048576 /dev/zero | tr '\0' A >"$R/srv/data/flip.bin"
: >"$R/srv/data/grow.bin"
python3 - "$R/srv/data" "$TMP/writer.stop" <<'PY' &
import os, sys, time
d, stop = sys.argv[1:]
flip = os.open(f"{d}/flip.bin", os.O_WRONLY)
grow = os.open(f"{d}/grow.bin", os.O_WRONLY | os.O_APPEND)
blocks = [b"B" * 4096, b"A" * 4096]
deadline = time.monotonic() + 120
i = 0
while not os.path.exists(stop) and time.monotonic() < deadline:
    for off in range(0, 1 << 20, 4096):
        os.pwrite(flip, blocks[i & 1], off)
        if off % 65536 == 0 and os.fstat(grow).st_size < (8 << 20):
            os.write(grow, bytes([65 + i % 26]) * 1000)
    i += 1
PY
writer=$!
torn=0 unstable=0 clean=0
for n in $(seq 1 15); do
	collect --full
	[ "$RC" = 0 ] || { torn=$((torn + 1)); diag "collection $n exited $RC: $ERR"; continue; }
	for f in flip grow; do
		row=$(q "$DB" "SELECT lower(hex(fingerprint)) || '|' || size || '|' || coalesce(error, '')
			FROM items WHERE snapshot_id = $OUT AND key = '/srv/data/$f.bin'")
		IFS='|' read -r fp size err <<<"$row"
		if [ -n "$err" ]; then
			unstable=$((unstable + 1))
			case $err in *unstable*|*changed*) ;; *) torn=$((torn + 1)); diag "unexpected error: $err" ;; esac
		elif [ "$f" = flip ] && grep -qx "$fp" "$TMP/flip.fps"; then
			clean=$((clean + 1))
		elif [ "$f" = grow ] && [ "$(head -c "$size" "$R/srv/data/grow.bin" | xxh128sum 2>/dev/null | cut -d' ' -f1)" = "$fp" ]; then
			clean=$((clean + 1))
		else
			torn=$((torn + 1))
			diag "$f.bin: fingerprint $fp (size $size) is no state the file had"
		fi
	done
done
touch "$TMP/writer.stop"
wait "$writer"
diag "files changing during 15 collections: $clean stored with a state they had, $unstable reported unstable, $torn torn"
is "$torn" 0 "a file written during collection is never stored with a torn fingerprint"
ok "the fingerprinted states were checked at least once" test "$clean" -gt 0

done_testing
