#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile input (issue 11 B.7, B.10, B.11; RELIABILITY T-1, DOC-1, FS-4):
# foreign bytes never reach a terminal raw, documents cannot lie about time
# or identity, and every input is bounded.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
ESC=$'\033'
BEL=$'\007'
# Sets the terminal title, clears the screen, and forges a closing line.
EVIL=$'\033]0;pwned\007\033[2J\nenvdrift collect: stored snapshot @99 of x:y'

# raw_free DESC: the last run's stdout and stderr hold no ESC, BEL or forged line.
raw_free() {
	local all
	all=$(cat "$TMP/.out" "$TMP/.err")
	if printf '%s' "$all" | grep -q "[$ESC$BEL]"; then
		fail "$1: no raw ESC or BEL" "$(printf '%s' "$all" | od -c | head -20)"
	else pass "$1: no raw ESC or BEL"; fi
	unlike "$all" '^envdrift collect: stored snapshot @99' "$1: no forged line"
}

mk_root() {
	mkdir -p "$1/etc/app"
	printf 'port 1\n' >"$1/etc/app/plain.conf"
	printf 'x\n' >"$1/etc/app/file$EVIL"
	printf '{"unclosed": \n' >"$1/etc/app/broken$EVIL.json"
}

# --- B.7: names with control characters are refused, naming the field ---
init_store "$DB"
R=$TMP/root
mk_root "$R"
printf 'host%s\n' $'\033]0;t\007' >"$R/etc/hostname"
ed --db "$DB" collect --env prod --root "$R" --packages none
exits 2 "collect: a host name from etc/hostname with ESC/BEL is refused"
contains "$ERR" "host name" "  the message names the field"
contains "$ERR" "/etc/hostname" "  and where it was read"
contains "$ERR" "--host" "  and what to do"
raw_free "collect with a hostile etc/hostname"
for f in env host role; do
	args=(--env prod --host h1)
	case $f in
	env) args=(--env $'pr\033[2Jod' --host h1) ;;
	host) args=(--env prod --host $'h\nenvdrift: x') ;;
	role) args=(--env prod --host h1 --role $'web\a') ;;
	esac
	ed --db "$DB" collect "${args[@]}" --root "$R" --packages none
	exits 2 "collect --$f with a control character: exit 2"
	contains "$ERR" "--$f:" "  the message names --$f"
	raw_free "collect --$f"
done
is "$(q "$DB" "select count(*) from snapshots")" "0" "nothing was stored"

# --- B.7: hostile file names: collect, snapshots, diff, gate, report ---
echo prodhost >"$R/etc/hostname"
R2=$TMP/root2
mk_root "$R2"
printf 'port 2\n' >"$R2/etc/app/plain.conf"
printf 'y\n' >"$R2/etc/app/other$EVIL"
ed --db "$DB" collect --env prod --root "$R" --packages none
exits 0 "collect of a tree with hostile file names"
raw_free "collect"
contains "$ERR" 'warning: /etc/app/broken\x1b]0;pwned\x07\x1b[2J\x0aenvdrift' "  the warning quotes the file name escaped"
ed --db "$DB" collect --env stage --host stagehost --root "$R2" --packages none
exits 0 "collect of the second tree"
raw_free "collect (second)"
# A store written by hand (or by an older envdrift) may hold anything: every
# reader escapes what it prints.
sqlite3 "$DB" "update snapshots set host = 'h' || char(27) || ']0;t' || char(7) || char(10) || 'envdrift collect: stored snapshot @99' where env = 'stage';
               insert into warnings (snapshot_id, message) select id, 'w' || char(27) || '[2J' from snapshots where env = 'stage'" 2>/dev/null ||
	sqlite3 "$DB" "update snapshots set host = 'h' || char(27) || ']0;t' || char(7) || char(10) || 'envdrift collect: stored snapshot @99' where env = 'stage'"
ed --db "$DB" snapshots
exits 0 "snapshots"
raw_free "snapshots"
contains "$OUT" 'h\x1b]0;t\x07\x0aenvdrift' "  the host name is shown escaped"
ed --db "$DB" diff prod stage
exits 1 "diff (text)"
raw_free "diff (text)"
contains "$OUT" 'other\x1b]0;pwned\x07\x1b[2J\x0aenvdrift' "  the file name is shown escaped"
strict_policy "$TMP/strict.ini"
ed --db "$DB" gate --production prod --staging stage --policy "$TMP/strict.ini"
exits 1 "gate"
raw_free "gate"
contains "$ERR" 'block: added file /etc/app/other\x1b]0;pwned\x07\x1b[2J\x0aenvdrift' "  block: lines show the file name escaped"
ed --db "$DB" report --pair prod:stage --policy "$TMP/strict.ini"
exits 0 "report"
raw_free "report"
contains "$OUT" 'other\x1b]0;pwned' "  the report shows the file name escaped"

# --- B.7: an inventory is foreign input too ---
printf '[prod%s]\nweb ansible_host=127.0.0.1 ansible_port=1\n' $'\033]0;t\007' >"$TMP/inv1.ini"
printf '[prod]\nweb ansible_host=127.0.0.1 ansible_port=1 role=a%sb\n' $'\033[2J' >"$TMP/inv2.ini"
for inv in inv1 inv2; do
	ed --db "$DB" inventory "$TMP/$inv.ini"
	exits 2 "inventory $inv: a name with a control character is refused"
	like "$ERR" "$inv.ini:[12]: control character 0x1b in column [0-9]+" "  naming the file, line and column"
	raw_free "inventory $inv"
done

# --- B.7: ingest refuses hostile names in a document ---
ed --db "$DB" export prod --out "$TMP/stage.json"
for f in env host role; do
	python3 - "$TMP/stage.json" "$TMP/bad-$f.json" "$f" <<'PY'
import json, sys, uuid
d = json.load(open(sys.argv[1]))
d.pop("host_b64", None); d.pop("env_b64", None); d.pop("role_b64", None)
d["host"] = d.get("host") or "h"
d[sys.argv[3]] = "x\u001b]0;t\u0007\nenvdrift collect: stored snapshot @99"
d["id"] = str(uuid.uuid4())
json.dump(d, open(sys.argv[2], "w"))
PY
	ed --db "$DB" ingest "$TMP/bad-$f.json"
	exits 2 "ingest: a document whose $f has control characters is refused"
	contains "$ERR" "\$.$f: " "  the message names \$.$f"
	raw_free "ingest of a hostile $f"
done

# --- B.10: documents cannot lie about time or identity ---
DB3=$TMP/docs.db
init_store "$DB3"
ed --db "$DB3" collect --env push --host agent1 --root "$R" --packages none --out "$TMP/doc.json" --key "$DB3.key"
exits 0 "collect --out writes a document"
UUID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/doc.json")
# edit SRC DST PYTHON: a copy of document SRC changed by the statements PYTHON (on d).
edit() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}
edit "$TMP/doc.json" "$TMP/future.json" 'd["finished_at"] = "2099-01-01T00:00:00Z"'
ed --db "$DB3" ingest "$TMP/future.json"
exits 2 "ingest: a document finished in 2099 is refused"
contains "$ERR" '$.finished_at: 2099-01-01T00:00:00Z is ' "  the message names the field and the time"
contains "$ERR" "ahead of this machine's clock" "  and says why"
ed --db "$DB3" ingest --check "$TMP/future.json"
exits 2 "ingest --check refuses it too"
edit "$TMP/doc.json" "$TMP/future2.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["started_at"] = d["finished_at"] = "2099-01-01T00:00:00Z"'
ed --db "$DB3" ingest "$TMP/future2.json"
exits 2 "ingest: a document started in 2099 is refused"
contains "$ERR" '$.started_at: 2099' "  naming started_at"
ed --db "$DB3" ingest --max-skew 36500d "$TMP/future2.json"
exits 0 "--max-skew allows more"
is "$(q "$DB3" "select count(*) from snapshots where started_at like '2099%'")" "1" "  and it is stored"
ed --db "$DB3" gate --production push --staging push --max-age 1h
exits 2 "gate --max-age: a snapshot dated in the future cannot vouch"
contains "$ERR" "in the future" "  the message says so"

ed --db "$DB3" ingest "$TMP/doc.json"
exits 0 "ingest stores the document"
ID=$OUT
ed --db "$DB3" ingest "$TMP/doc.json"
exits 0 "an identical replay: exit 0"
contains "$ERR" "already stored as @$ID" "  already stored"
edit "$TMP/doc.json" "$TMP/shuffled.json" 'd["items"].reverse()'
ed --db "$DB3" ingest "$TMP/shuffled.json"
exits 0 "the same content with items in another order: already stored"
ed --db "$DB3" export "@$ID" --out "$TMP/export.json"
ed --db "$DB3" ingest "$TMP/export.json"
exits 0 "its own export: already stored"
contains "$ERR" "already stored as @$ID" "  as @$ID"
for change in 'd["env"] = "production"' 'd["host"] = "other"' 'd["started_at"] = "2020-01-01T00:00:00Z"' \
	'd["items"][0]["mode"] = 0o777' 'd["items"] = d["items"][1:]' 'd["warnings"].append("forged")' \
	'next(i for i in d["items"] if i["key"] == "/etc/hostname")["fingerprint"] = "1" * 32'; do
	edit "$TMP/doc.json" "$TMP/replay.json" "$change"
	ed --db "$DB3" ingest "$TMP/replay.json"
	exits 2 "a replayed id with other content ($change): exit 2"
	contains "$ERR" "document UUID $UUID was stored as @$ID with different content" "  the message names the id and the snapshot"
done
is "$(q "$DB3" "select count(*) from snapshots where uuid = '$UUID'")" "1" "nothing else was stored"

# --- B.11: bounded memory and time for every input ---
# Strings of a document past their limits are refused with the JSON path,
# an element too large before it is parsed.
edit "$TMP/doc.json" "$TMP/bigwarn.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["warnings"] = ["w" * (60 * 1024)]'
ed --db "$DB3" ingest "$TMP/bigwarn.json"
exits 0 "a warning of 60 KiB (under the limit) is stored"
is "$(q "$DB3" "select max(length(message)) from warnings")" "61440" "  whole"
is "$(awk '{ if (length($0) > m) m = length($0) } END { print (m < 4300) }' "$TMP/.err")" "1" \
	"  but echoed on stderr cut to a line of about 4 KiB"
contains "$ERR" " bytes cut ... " "  marked as cut"
edit "$TMP/doc.json" "$TMP/hugewarn.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["warnings"] = ["w" * (64 << 20)]'
start=$(ms)
ed --db "$DB3" ingest "$TMP/hugewarn.json"
exits 2 "a warning of 64 MiB is refused"
contains "$ERR" '$.warnings[0]: 67108866 bytes of JSON, more than the 1048576 allowed' "  before it is parsed, naming it"
ok "  within 5 s" test $(($(ms) - start)) -lt 5000
ok "  with a short message" test ${#ERR} -lt 1000
edit "$TMP/doc.json" "$TMP/bigwarn2.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["warnings"] = ["w" * (65 * 1024)]'
ed --db "$DB3" ingest "$TMP/bigwarn2.json"
exits 2 "a warning of 65 KiB (over the limit of 64 KiB) is refused"
contains "$ERR" '$.warnings[0]: 66560 bytes, more than the 65536 allowed' "  naming it"
edit "$TMP/doc.json" "$TMP/bigvalue.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["items"][0]["value"] = "v" * (2 << 20)'
ed --db "$DB3" ingest "$TMP/bigvalue.json"
exits 2 "a value of 2 MiB is refused"
contains "$ERR" '$.items[0].value: 2097152 bytes, more than the 1048576 allowed' "  naming it"
edit "$TMP/doc.json" "$TMP/bigkey.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["items"][0]["key"] = "/" + "k" * (20 << 20)'
ed --db "$DB3" ingest "$TMP/bigkey.json"
exits 2 "an item of 20 MiB is refused"
contains "$ERR" 'more than the 16777216 allowed for one element' "  before it is parsed"
edit "$TMP/doc.json" "$TMP/bigkey2.json" 'import uuid; d["id"] = str(uuid.uuid4()); d["items"][0]["key"] = "/" + "k" * (65 * 1024)'
ed --db "$DB3" ingest "$TMP/bigkey2.json"
exits 2 "a key of 65 KiB is refused"
contains "$ERR" '$.items[0].key: 66561 bytes, more than the 65536 allowed' "  naming it"

# A folder nest 10,000 deep: the warning keeps its reason (the path is cut in the middle).
NEST=$TMP/nest
mkdir -p "$NEST/etc"
python3 -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(10000):
    os.mkdir("d"); os.chdir("d")
' "$NEST/etc"
DB4=$TMP/nest.db
init_store "$DB4"
ED_TIMEOUT=60 ed --db "$DB4" collect --env nest --host n --root "$NEST" --packages none
exits 0 "a folder nest 10,000 deep is collected"
like "$ERR" 'warning: /etc/d/d/.* \.\.\. .*/d/d: cannot open folder: File name too long' "  the warning keeps its reason, the path cut in the middle"
like "$(q "$DB4" "select message from warnings")" 'cannot open folder: File name too long$' "  so does the stored warning"
rm -rf "$NEST"

# A package manager's database that yields junk: most packages silently gone.
PK=$TMP/pk
mkdir -p "$PK/etc" "$PK/var/lib/dpkg"
echo a >"$PK/etc/a"
dpkg_slice 20 >"$PK/var/lib/dpkg/status"
DB5=$TMP/pk.db
init_store "$DB5"
ed --db "$DB5" collect --env pk --host p --root "$PK" --packages dpkg
exits 0 "a host with 20 dpkg packages"
npk=$(q "$DB5" "select count(*) from items where kind = 'package'")
{ dpkg_slice 2; printf 'Package: junk\xff\nStatus: install ok installed\nVersion: 1\n\n%s\n\n' 'garbage line without a colon'; } >"$PK/var/lib/dpkg/status"
ed --db "$DB5" collect --env pk --host p --root "$PK" --packages dpkg
exits 2 "junk that parses into 2 of $npk packages, with warnings: the collection fails"
contains "$ERR" "dpkg: 2 packages read with" "  the message says how many"
contains "$ERR" "fewer than half of the previous snapshot's $npk" "  against how many"
contains "$ERR" "--accept-package-loss" "  and how to store it anyway"
is "$(q "$DB5" "select count(*) from snapshots where status = 'complete'")" "1" "  nothing is stored"
ed --db "$DB5" collect --env pk --host p --root "$PK" --packages dpkg --accept-package-loss
exits 0 "--accept-package-loss stores it"
is "$(q "$DB5" "select count(*) from items_v where snapshot_id = $OUT and kind = 'package'")" "2" "  with its 2 packages"
dpkg_slice 3 >"$PK/var/lib/dpkg/status"
ed --db "$DB5" collect --env pk --host p --root "$PK" --packages dpkg
exits 0 "fewer packages without warnings (packages removed) are stored"

# Huge and sparse files: past [limits] max_file_size (default 1 GiB) a file is
# fingerprinted from its size with an info note; holes are never read.
SP=$TMP/sparse
mkdir -p "$SP/etc/big"
truncate -s $(((1 << 30) + 1)) "$SP/etc/big/huge.img"
printf 'head' >"$SP/etc/big/sparse.img"
truncate -s 64M "$SP/etc/big/sparse.img"
printf 'middle' | dd of="$SP/etc/big/sparse.img" bs=1 seek=$((40 << 20)) conv=notrunc status=none
printf 'tail' | dd of="$SP/etc/big/sparse.img" bs=1 seek=$(((64 << 20) - 4)) conv=notrunc status=none
DB6=$TMP/sparse.db
init_store "$DB6"
# LeakSanitizer cannot run under ptrace: off for this run of a sanitizer build.
run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=read -o "$TMP/strace.log" "$ENVDRIFT" --db "$DB6" collect --env sp --host s --root "$SP" --packages none
exits 0 "a 1 GiB file and a sparse 64 MiB file are collected"
contains "$ERR" "envdrift collect: info: /etc/big/huge.img: 1.0 GiB is larger than [limits] max_file_size (1 GiB): fingerprinted from its size, not read" "  the huge file has an info note"
is "$(q "$DB6" "select lower(hex(fingerprint)) from items where key = '/etc/big/huge.img'")" \
	"$(printf 'size:%d' $(((1 << 30) + 1)) | xxh128sum | cut -d' ' -f1)" "  its fingerprint is that of its size"
is "$(q "$DB6" "select lower(hex(fingerprint)) from items where key = '/etc/big/sparse.img'")" \
	"$(xxh128sum "$SP/etc/big/sparse.img" | cut -d' ' -f1)" "  the sparse file's fingerprint is XXH3-128 of all its bytes, holes as zeros"
read_bytes=$(awk '/ read\(/ { n = $NF; if (n ~ /^[0-9]+$/) s += n } END { print s + 0 }' "$TMP/strace.log")
if [ "$read_bytes" -lt $((8 << 20)) ]; then pass "  read() returned $read_bytes bytes in all: neither the holes nor the huge file were read"
else fail "  holes and huge files are not read" "read() returned $read_bytes bytes"; fi
printf '[limits]\nmax_file_size = 1K\n' >"$TMP/limits.ini"
ed --db "$DB6" collect --env sp --host s --root "$SP" --packages none --profile "$TMP/limits.ini"
exits 0 "a profile's [limits] max_file_size = 1K"
contains "$ERR" "envdrift collect: info: /etc/big/sparse.img: 64 MiB is larger than [limits] max_file_size (1 KiB)" "  applies to the 64 MiB file"
printf '[limits]\nmax_file_size = 1Q\n' >"$TMP/limits.ini"
ed --db "$DB6" collect --env sp --host s --root "$SP" --packages none --profile "$TMP/limits.ini"
exits 2 "max_file_size = 1Q is refused"
contains "$ERR" "'max_file_size': '1Q' is not a size in bytes" "  naming the key and the value"

done_testing
