#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Push mode (issue 5, RELIABILITY FS-6, DB-1, DB-5, S-1): collect --out writes an
# envdrift.snapshot/1 document without a store, ingest stores it once, export
# writes a stored snapshot in the same format. Hostile names round-trip byte for
# byte; malformed documents are refused with the JSON path of the problem and
# leave the store as it was.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
DB2=$TMP/second.db
R=$TMP/root
KEY=$TMP/agent.key

# --- a fixture with hostile names ---
mkdir -p "$R/etc/app" "$R/etc/"$'dir\xff' "$R/var/lib/dpkg"
echo pushhost >"$R/etc/hostname"
printf 'port 1\n' >"$R/etc/app/plain.conf"
printf 'x\n' >"$R/etc/app/"$'bad\xffname'
printf 'y\n' >"$R/etc/app/"$'nl\nname'
printf 'z\n' >"$R/etc/app/"$'ctl\x01\x1b\x7fname'
printf 'w\n' >"$R/etc/app/"$'tab\tand space'
printf 'b\n' >"$R/etc/app/back\\slash\"quote"
printf 'i\n' >"$R/etc/"$'dir\xff'"/inner"
ln -s $'t\xfe' "$R/etc/app/link"
mkfifo "$R/etc/app/fifo"
printf '{"db": {"host": "db1", "password": "Canary-Push-81"}, "pool": 5}\n' >"$R/etc/app/config.json"
printf 'port 6379\nrequirepass Canary-Push-82\n' >"$R/etc/app/redis.conf"
printf 'name = caf\xe9\n' >"$R/etc/app/"$'latin\xe9.conf'
printf 'a\0b binary\n' >"$R/etc/app/binary.conf"
printf '{"unclosed": \n' >"$R/etc/app/"$'broken\xff.json'
dpkg_slice 3 >"$R/var/lib/dpkg/status"
cat >"$TMP/profile.ini" <<'INI'
[collect]
path = /etc
packages = dpkg

[content]
keep = /etc/app/*.conf
INI

# Two collections of one host compare equal, secrets included: the default
# policy's [must-differ] would call that blocking drift between environments.
printf '[must-differ]\nsecrets = no\n' >"$TMP/same.ini"

init_store "$DB"
install -m 600 "$DB.key" "$KEY"
snaps() { q "$1" "select count(*) from snapshots"; }

# Every column of an item, bytes as hex: two snapshots' items compared exactly.
COLS="kind, hex(key), hex(fingerprint), hex(value), ftype, mode, hex(owner), hex(grp), hex(target),
      size, mtime_ns, ctime_ns, ino, dev, hex(error), hex(attrs)"
items_of() { q "$1" "select $COLS from items where snapshot_id = $2 order by kind, key"; }

# --- collect --out: flags ---
DOC=$TMP/push.json
ed --db "$TMP/absent.db" collect --env push --root "$R" --profile "$TMP/profile.ini" --out "$DOC"
exits 2 "collect --out without --key: exit 2"
contains "$ERR" "--out needs --key" "  the message says --key is needed"
ok "  no document was written" test ! -e "$DOC"
ed collect --env push --root "$R" --key "$KEY"
exits 2 "--key without --out: exit 2"
install -m 644 "$DB.key" "$TMP/open.key"
ed collect --env push --root "$R" --out "$DOC" --key "$TMP/open.key"
exits 2 "a key file readable by others: exit 2"
contains "$ERR" "chmod 600" "  the message gives the fix"
head -c 31 "$DB.key" >"$TMP/short.key"; chmod 600 "$TMP/short.key"
ed collect --env push --root "$R" --out "$DOC" --key "$TMP/short.key"
exits 2 "a key file of 31 bytes: exit 2"
ok "  no document was written" test ! -e "$DOC"
ed collect --env push --root "$R" --out "$TMP/no/such/dir/doc.json" --key "$KEY"
exits 2 "--out into a missing folder: exit 2"
contains "$ERR" "$TMP/no/such/dir/doc.json" "  the message names the file"

# --- collect --out ---
ed --db "$TMP/absent.db" collect --env push --role web --root "$R" --profile "$TMP/profile.ini" \
	--out "$DOC" --key "$KEY"
exits 0 "collect --out writes a document"
DOCID=$OUT
like "$DOCID" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
	"  and prints its id, a random UUID"
ok "  without touching any store" test ! -e "$TMP/absent.db"
ok "  leaving no temporary file" test -z "$(find "$TMP" -maxdepth 1 -name 'push.json.tmp.*')"
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); print(d["format"], d["id"], d["env"], d["host"], d["role"])' "$DOC")" \
	"envdrift.snapshot/1 $DOCID push pushhost web" "  strict UTF-8 JSON with format, id, env, host and role"
is "$(grep -c . "$DOC")" "$(($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["items"]) + len(d["warnings"]) + len(d["contents"]))' "$DOC") + 4))" \
	"  one line per item, warning and content"
ok "  no plain secret in the document" test -z "$(grep -a 'Canary-Push' "$DOC")"
contains "$(cat "$DOC")" '"key_b64":' "  names that are not UTF-8 are written as key_b64"
contains "$(cat "$DOC")" '"encoding":"none"' "  a binary file's content is recorded as not kept"
contains "$(cat "$DOC")" '{"b64":' "  a warning that is not UTF-8 is written as {\"b64\": ...}"

ed --db "$DB" collect --env push --root "$R" --out - --key "$KEY" --packages none --path /etc/app
exits 0 "collect --out - writes the document to stdout"
is "$(printf '%s' "$OUT" | json_get 'd["format"]')" "envdrift.snapshot/1" "  and nothing else"

# A FIFO (like /dev/null or /dev/stdout, no regular file) is written to, never replaced.
FIFO=$TMP/doc.fifo
mkfifo "$FIFO"
python3 -c 'import sys; print(len(open(sys.argv[1], "rb").read()))' "$FIFO" >"$TMP/fifo.len" &
reader=$!
ed collect --env push --root "$R" --out "$FIFO" --key "$KEY" --packages none --path /etc/app
exits 0 "collect --out FIFO exits 0"
wait "$reader"
ok "  the FIFO is still a FIFO" test -p "$FIFO"
ok "  its reader got the document" test "$(cat "$TMP/fifo.len")" -gt 100
ok "  leaving no temporary file" test -z "$(find "$TMP" -maxdepth 1 -name 'doc.fifo.tmp.*')"

# --- ingest ---
N0=$(snaps "$DB")
ed --db "$DB" ingest "$DOC"
exits 0 "ingest stores the document"
A=$OUT
like "$A" '^[0-9]+$' "  and prints the snapshot id"
like "$ERR" "stored snapshot @$A of push/pushhost" "  names it on stderr"
is "$(snaps "$DB")" "$((N0 + 1))" "  one snapshot more"
is "$(q "$DB" "select status, env, host, role, uuid, root from snapshots where id = $A")" \
	"complete|push|pushhost|web|$DOCID|$R" "  complete, with the document's env, host, role, id and root"
is "$(q "$DB" "select started_at || ' ' || finished_at from snapshots where id = $A")" \
	"$(json_get 'd["started_at"] + " " + d["finished_at"]' <"$DOC")" "  and its collection times"
is "$(q "$DB" "select count(*) from items where snapshot_id = $A")" \
	"$(json_get 'len(d["items"])' <"$DOC")" "  every item"
is "$(q "$DB" "select count(*) from warnings where snapshot_id = $A")" \
	"$(json_get 'len(d["warnings"])' <"$DOC")" "  every warning"
is "$(q "$DB" "select count(*) from items where snapshot_id = $A and hex(key) in
	('2F6574632F6170702F626164FF6E616D65', '2F6574632F6170702F6E6C0A6E616D65',
	 '2F6574632F6170702F63746C011B7F6E616D65', '2F6574632F646972FF2F696E6E6572')")" 4 \
	"  names with 0xff, a newline and control bytes are stored byte for byte"
is "$(q "$DB" "select hex(target) from items where snapshot_id = $A and key = '/etc/app/link'")" \
	"74FE" "  so is a link target that is not UTF-8"
is "$(q "$DB" "select count(*) from warnings where snapshot_id = $A and hex(message) like '%62726F6B656EFF%'")" \
	1 "  and a warning naming a file that is not UTF-8"

# A direct collection of the same root into the same store: the same items.
ed --db "$DB" collect --env direct --root "$R" --profile "$TMP/profile.ini"
exits 0 "a direct collection of the same root"
B=$OUT
ed --db "$DB" diff "@$B" "@$A" --policy "$TMP/same.ini"
exits 0 "diff direct vs pushed: no drift"
contains "$OUT" "no drift" "  says so"
ed --db "$DB" diff "@$B" "@$A"
contains "$OUT" "changed [block] /etc/app/config.json#/db/password  the same secret on both sides" \
	"  the default policy sees the same secret: --key gave the store's keyed fingerprint"
is "$(items_of "$DB" "$A")" "$(items_of "$DB" "$B")" \
	"  every column of every item is identical (mtimes, inodes, attrs, errors)"
is "$(q "$DB" "select count(*) from items i join contents c on c.fingerprint = i.fingerprint
	where i.snapshot_id = $A and c.encoding = 'zlib'")" \
	"$(q "$DB" "select count(*) from items i join contents c on c.fingerprint = i.fingerprint
	where i.snapshot_id = $B and c.encoding = 'zlib'")" "  the same kept contents"
is "$(q "$DB" "select count(*) from items i join contents c on c.fingerprint = i.fingerprint
	where i.snapshot_id = $A and c.encoding = 'none'")" 1 "  and the binary file recorded as not kept"

# --- idempotency ---
ed --db "$DB" ingest "$DOC"
exits 0 "ingesting the same document again: exit 0"
is "$OUT" "$A" "  prints the snapshot it is already stored as"
contains "$ERR" "$DOC: snapshot $DOCID already stored as @$A" "  and says so"
is "$(snaps "$DB")" "$((N0 + 2))" "  no new snapshot (only the direct one)"
# shellcheck disable=SC2094 # ed writes to $TMP/.out, not to $DOC
ed --db "$DB" ingest "$DOC" "$DOC" - <"$DOC"
exits 0 "the same document three times in one run: exit 0"
is "$(printf '%s' "$OUT" | tr '\n' ' ')" "$A $A $A" "  the same id each time"

# --- export ---
ed --db "$DB" export "@$A"
exits 0 "export @ID writes the snapshot to stdout"
cp "$TMP/.out" "$TMP/exportA.json"
is "$(json_get 'd["id"]' <"$TMP/exportA.json")" "$DOCID" "  with the document's id"
ed --db "$DB" export "@$A" --out "$TMP/exportA2.json"
exits 0 "export --out FILE"
ok "  writes the same bytes" cmp -s "$TMP/exportA.json" "$TMP/exportA2.json"
ed --db "$DB" export "@$A" --out "$TMP/no/such/dir/x.json"
exits 2 "export into a missing folder: exit 2"
ed --db "$DB" export "@99999"
exits 2 "export of a missing snapshot: exit 2"
contains "$ERR" "@99999" "  naming it"

init_store "$DB2"
ed --db "$DB2" ingest - <"$TMP/exportA.json"
exits 0 "export | ingest into a second store"
A2=$OUT
ed --db "$DB2" export "@$A2"
ok "  exporting it there gives the same document, byte for byte" cmp -s "$TMP/.out" "$TMP/exportA.json"
is "$(items_of "$DB2" "$A2")" "$(items_of "$DB" "$A")" "  every column of every item is identical"

# The direct snapshot: its first export records an id; both move to the second store.
ed --db "$DB" export "@$B" --out "$TMP/exportB.json"
exits 0 "export of a directly collected snapshot"
BID=$(q "$DB" "select uuid from snapshots where id = $B")
like "$BID" '^[0-9a-f-]{36}$' "  records a document id for it"
is "$(json_get 'd["id"]' <"$TMP/exportB.json")" "$BID" "  which the document carries"
ed --db "$DB" export "@$B"
is "$(printf '%s' "$OUT" | json_get 'd["id"]')" "$BID" "  and every later export too"
ed --db "$DB" ingest "$TMP/exportB.json"
exits 0 "ingesting it back into its own store"
contains "$ERR" "already stored as @$B" "  is recognised as a repeat"
ed --db "$DB2" ingest "$TMP/exportB.json"
exits 0 "ingesting it into the second store"
B2=$OUT
ed --db "$DB2" diff "@$B2" "@$A2" --policy "$TMP/same.ini"
exits 0 "diff in the second store between the two: no drift, as in the first"

# --- the times of a pushed snapshot are those of its collection ---
python3 - "$DOC" "$TMP/old.json" <<'PY'
import json, sys, uuid
d = json.load(open(sys.argv[1]))
d["id"] = str(uuid.uuid4())
d["started_at"], d["finished_at"] = "2020-01-02T03:04:05Z", "2020-01-02T03:04:59Z"
json.dump(d, open(sys.argv[2], "w"))
PY
ed --db "$DB" ingest "$TMP/old.json"
exits 0 "a document collected in 2020"
OLD=$OUT
is "$(q "$DB" "select started_at || ' ' || finished_at from snapshots where id = $OLD")" \
	"2020-01-02T03:04:05Z 2020-01-02T03:04:59Z" "  keeps its start and finish times"
ed --db "$DB" gate --production direct --staging push --max-age 1d
exits 2 "  so gate --max-age sees how old it is"
contains "$ERR" "2020-01-02T03:04:59Z" "  and names its finish time"

# --- malformed documents: exit 2, the JSON path, nothing stored ---
python3 - "$DOC" "$TMP/bad" <<'PY'
import json, os, sys, uuid
src, out = sys.argv[1], sys.argv[2]
os.mkdir(out)
text = open(src, encoding="utf-8").read()
d = json.loads(text)
def put(name, doc):
    doc = dict(doc)
    doc["id"] = str(uuid.uuid4())  # never "already stored"
    with open(f"{out}/{name}.json", "w", encoding="utf-8") as f:
        json.dump(doc, f)
def items(name, fn):
    doc = json.loads(json.dumps(d))
    fn(doc["items"])
    put(name, doc)
with open(f"{out}/truncated.json", "w", encoding="utf-8") as f:
    f.write(text[: len(text) // 2])
put("format", {**d, "format": "envdrift.snapshot/2"})
put("noformat", {k: v for k, v in d.items() if k != "format"})
put("noitems", {k: v for k, v in d.items() if k != "items"})
items("fingerprint", lambda it: it[3].__setitem__("fingerprint", "0123456789abcdef"))
items("type", lambda it: it[2].__setitem__("mode", "0644"))
items("kind", lambda it: it[1].__setitem__("kind", "kernel"))
items("dupitem", lambda it: it.append(dict(it[0])))
items("b64", lambda it: (it[0].pop("key"), it[0].__setitem__("key_b64", "not base64")))
items("nul", lambda it: it[0].__setitem__("key", "/etc/a\u0000b"))
items("range", lambda it: it[0].__setitem__("mode", 70000))
put("badtime", {**d, "finished_at": "yesterday"})
put("toplevel", {**d, "colour": "red"})
# duplicate keys inside one JSON object, written by hand
doc = dict(d); doc["id"] = str(uuid.uuid4())
t = json.dumps(doc)
with open(f"{out}/dupkey.json", "w", encoding="utf-8") as f:
    f.write(t.replace('"kind": "file"', '"kind": "file", "kind": "config"', 1))
with open(f"{out}/rawbytes.json", "wb") as f:
    f.write(json.dumps(doc).replace('"host": "pushhost"', '"host": "push\udcffhost"', 1)
            .encode("utf-8", "surrogateescape"))
with open(f"{out}/array.json", "w") as f:
    f.write("[]")
open(f"{out}/empty.json", "w").close()
PY
N1=$(snaps "$DB")
# name|expected message after "FILE: "
while IFS='|' read -r name want; do
	f=$TMP/bad/$name.json
	ed --db "$DB" ingest "$f"
	exits 2 "malformed ($name): exit 2"
	contains "$ERR" "$f: $want" "  $want"
done <<'CASES'
truncated|$.
format|$.format: expected "envdrift.snapshot/1", got "envdrift.snapshot/2"
noformat|$: missing field "format"
noitems|$: missing field "items"
fingerprint|$.items[3].fingerprint: expected 32 hex digits, got "0123456789abcdef"
type|$.items[2].mode: expected an integer, got "0644"
kind|$.items[1].kind: unknown kind "kernel"
dupitem|$.items[
b64|$.items[0].key_b64: not valid base64
nul|$.items[0].key: not valid JSON
range|$.items[0].mode: 70000 is out of range (0 to 4095)
badtime|$.finished_at: expected a UTC time as YYYY-MM-DDTHH:MM:SSZ, got "yesterday"
toplevel|$.colour: unknown field
dupkey|$.items[0].kind: not valid JSON: duplicate object key
rawbytes|$.host: not valid JSON: unable to decode byte 0xff
array|$: expected an object, got an array
empty|$: not valid JSON
CASES
ed --db "$DB" ingest "$TMP/bad/dupitem.json"
like "$ERR" "\\\$\\.items\\[[0-9]+\\]: the same \\(kind, key\\) as \\\$\\.items\\[0\\]" \
	"  the duplicate (kind, key) names both items"
ed --db "$DB" ingest "$TMP/bad"
exits 2 "a folder: exit 2"
ed --db "$DB" ingest "$TMP/bad/none.json"
exits 2 "a missing file: exit 2"
contains "$ERR" "$TMP/bad/none.json" "  naming it"
is "$(snaps "$DB")" "$N1" "no malformed document added a snapshot, not even a failed one"
is "$(q "$DB" "pragma integrity_check")" "ok" "the store passes integrity_check"

# Several files: the valid ones are stored, the exit status reports the others.
python3 - "$DOC" "$TMP/good2.json" <<'PY'
import json, sys, uuid
d = json.load(open(sys.argv[1])); d["id"] = str(uuid.uuid4()); d["env"] = "push2"
json.dump(d, open(sys.argv[2], "w"))
PY
ed --db "$DB" ingest "$TMP/bad/kind.json" "$TMP/good2.json"
exits 2 "a bad and a good document: exit 2"
is "$(q "$DB" "select count(*) from snapshots where env = 'push2' and status = 'complete'")" 1 \
	"  the good one is stored"

# --check: no store needed.
ed --db "$TMP/absent.db" ingest --check "$DOC"
exits 0 "ingest --check of a valid document: exit 0"
ed --db "$TMP/absent.db" ingest --check "$TMP/bad/kind.json"
exits 2 "ingest --check of a malformed one: exit 2"
ok "  no store was created" test ! -e "$TMP/absent.db"

# Non-UTF-8 in env and host survives too (encoded as env_b64 / host_b64).
mkdir -p "$TMP/r2/etc"; echo a >"$TMP/r2/etc/a"
ed collect --env $'st\xffage' --host $'h\xfe' --root "$TMP/r2" --packages none --out "$TMP/env.json" --key "$KEY"
exits 0 "collect --out with an environment and host that are not UTF-8"
ed --db "$DB" ingest "$TMP/env.json"
exits 0 "  ingests"
is "$(q "$DB" "select hex(env) || ' ' || hex(host) from snapshots where id = $OUT")" \
	"7374FF616765 68FE" "  env and host are stored byte for byte"

# --- concurrent ingests of one document: one snapshot ---
python3 - "$DOC" "$TMP/conc.json" <<'PY'
import json, sys, uuid
d = json.load(open(sys.argv[1])); d["id"] = str(uuid.uuid4()); d["env"] = "conc"
json.dump(d, open(sys.argv[2], "w"))
PY
pids=""
for i in 1 2 3 4; do
	"$ENVDRIFT" --db "$DB" ingest "$TMP/conc.json" >"$TMP/conc.$i.out" 2>"$TMP/conc.$i.err" &
	pids="$pids $!"
done
crc=0
for p in $pids; do wait "$p" || crc=$?; done
is "$crc" 0 "four concurrent ingests of one document all exit 0"
is "$(q "$DB" "select count(*) from snapshots where env = 'conc' and status = 'complete'")" 1 \
	"  one complete snapshot"
is "$(sort -u "$TMP"/conc.*.out | wc -l)" 1 "  all four print its id"
is "$(q "$DB" "select count(*) from snapshots where env = 'conc' and status != 'complete'")" 0 \
	"  and the ones that lost the race leave no row behind"
san_check "$(cat "$TMP"/conc.*.err)" "concurrent ingest"

# --- DB-1: kill -9 during an ingest: never a partial snapshot, and a retry stores it ---
python3 - "$TMP/big.json" <<'PY'
import json, sys, uuid
items = [{"kind": "file", "key": f"/srv/data/{i:07d}", "fingerprint": f"{i:032x}", "ftype": "file", "mode": 0o644,
          "owner": "0", "group": "0", "size": i, "mtime_ns": i, "ctime_ns": i, "ino": i, "dev": 1,
          "value": f"file 0644 0:0 {i}"} for i in range(150000)]
d = {"format": "envdrift.snapshot/1", "id": str(uuid.uuid4()), "env": "big", "host": "b1",
     "started_at": "2024-01-01T00:00:00Z", "finished_at": "2024-01-01T00:01:00Z",
     "collector": {"version": "test"}, "warnings": [], "items": items, "contents": []}
with open(sys.argv[1], "w") as f:
    json.dump(d, f)
PY
bad=""
for i in 1 2 3 4 5 6 7 8; do
	"$ENVDRIFT" --db "$DB" ingest "$TMP/big.json" >/dev/null 2>&1 &
	pid=$!
	sleep "$(python3 -c 'import random; print(random.uniform(0.05, 1.8))')"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# items_v: an ingested document may be a delta on its host's previous snapshot
	r=$(q "$DB" "select count(*) from snapshots s where status = 'complete' and item_count !=
		(select count(*) from items_v where snapshot_id = s.id)")
	[ "$r" = 0 ] || bad="$bad kill $i: $r complete snapshots with missing items;"
	[ "$(q "$DB" "pragma integrity_check")" = ok ] || bad="$bad kill $i: integrity_check;"
done
is "$bad" "" "8 kills during an ingest of 150000 items: no partial snapshot, integrity_check ok"
ed --db "$DB" ingest "$TMP/big.json"
exits 0 "a retry after the kills succeeds"
is "$(q "$DB" "select count(*) || ' ' || max(item_count) from snapshots where env = 'big' and status = 'complete'")" \
	"1 150000" "  one complete snapshot with every item"

done_testing
