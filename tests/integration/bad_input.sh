#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input (RELIABILITY DB-5, FS-1, FS-2, FS-5, CLI-1): each case exits with
# the right code and a message on stderr that names the input.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
R=$TMP/root
mkdir -p "$R/etc/app" "$R/var/lib/dpkg"
echo fixture-host >"$R/etc/hostname"
echo 'marker = fixture' >"$R/etc/app/marker.conf"
dpkg_slice 3 >"$R/var/lib/dpkg/status"
init_store "$DB"
ed --db "$DB" collect --env production --host p1 --root "$R"
exits 0 "a first collection of the fixture"


# --- the store ---
MISSING=$TMP/no/such/dir/store.db
ed --db "$MISSING" collect --env e --root "$R"
exits 2 "collect into a missing store: exit 2"
contains "$ERR" "$MISSING" "  the message names the missing store"
like "$ERR" "envdrift init" "  and suggests 'envdrift init'"
MISSING2=$TMP/absent.db
ed --db "$MISSING2" diff production staging
exits 2 "diff against a missing store: exit 2"
contains "$ERR" "$MISSING2" "  the message names the missing store"
like "$ERR" "init" "  and suggests init"
ok "  diff did not create the store" test ! -e "$MISSING2"
ed --db "$MISSING2" snapshots
exits 2 "snapshots of a missing store: exit 2"
ok "  snapshots did not create the store" test ! -e "$MISSING2"

head -c 16384 /dev/urandom >"$TMP/random.db"
printf 'host = web-1\nThis is a text file, not a database.\n' >"$TMP/text.db"
sqlite3 "$TMP/foreign.db" 'create table t(a)'
for f in random text; do
	for cmd in "snapshots" "diff production staging" "collect --env e --root $R" "init"; do
		# shellcheck disable=SC2086
		ed --db "$TMP/$f.db" $cmd
		exits 2 "$f bytes as the store, ${cmd%% *}: exit 2"
		like "$ERR" "$TMP/$f.db.*not an SQLite database" "  'not an SQLite database', naming the file"
	done
done
for cmd in "snapshots" "diff production staging" "collect --env e --root $R" "init"; do
	# shellcheck disable=SC2086
	ed --db "$TMP/foreign.db" $cmd
	exits 2 "a foreign SQLite database as the store, ${cmd%% *}: exit 2"
	like "$ERR" "$TMP/foreign.db.*not an envdrift store" "  the message names it and says it is not an envdrift store"
done
is "$(sqlite3 "$TMP/foreign.db" 'select group_concat(name) from sqlite_schema')" "t" "the foreign database was left untouched"

NEWER=$TMP/newer.db
init_store "$NEWER"
sqlite3 "$NEWER" 'PRAGMA user_version=99'
for cmd in "snapshots" "diff production staging" "collect --env e --root $R" "init"; do
	# shellcheck disable=SC2086
	ed --db "$NEWER" $cmd
	exits 2 "a store newer than the binary, ${cmd%% *}: exit 2"
	like "$ERR" "$NEWER.*newer" "  the message names the store and says it is newer"
done
is "$(sqlite3 "$NEWER" 'PRAGMA user_version')" "99" "the newer store keeps its version"

# DB-5: a store cut short at several offsets, and one with flipped bytes: exit 2
# with a message naming it (or, when the damage is not reached, a normal
# answer), never a crash.
ed --db "$DB" collect --env staging --host s1 --root "$R"
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
SIZE=$(stat -c %s "$DB")
bad=""
for off in 50 100 1000 4096 5000 $((SIZE / 3)) $((SIZE / 2)) $((SIZE - 4096)) $((SIZE - 100)) $((SIZE - 1)); do
	cp "$DB" "$TMP/cut.db"
	cp -p "$DB.key" "$TMP/cut.db.key"
	truncate -s "$off" "$TMP/cut.db"
	for cmd in "snapshots" "diff production staging" "collect --env x --root $R"; do
		# shellcheck disable=SC2086
		ed --db "$TMP/cut.db" $cmd
		case "$RC" in
		0 | 1) ;;
		2) printf '%s' "$ERR" | grep -qF "$TMP/cut.db" || bad="$bad [cut at $off, $cmd: exit 2 without naming the store: $ERR]" ;;
		*) bad="$bad [cut at $off, $cmd: exit $RC: $ERR]" ;;
		esac
	done
	rm -f "$TMP/cut.db"*
done
is "$bad" "" "a store truncated at 10 offsets: exit 2 naming it, or a normal answer; no crash"
bad=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	cp "$DB" "$TMP/flip.db"
	cp -p "$DB.key" "$TMP/flip.db.key"
	python3 - "$TMP/flip.db" "$i" <<'EOF'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
b = bytearray(open(path, "rb").read())
for _ in range(20):
    b[rnd.randrange(100, len(b))] ^= 1 << rnd.randrange(8)
open(path, "wb").write(b)
EOF
	for cmd in "snapshots" "diff production staging" "collect --env x --root $R"; do
		# shellcheck disable=SC2086
		ed --db "$TMP/flip.db" $cmd
		case "$RC" in
		0 | 1) ;;
		2) printf '%s' "$ERR" | grep -qF "$TMP/flip.db" || bad="$bad [flip seed $i, $cmd: exit 2 without naming the store: $ERR]" ;;
		*) bad="$bad [flip seed $i, $cmd: exit $RC: $ERR]" ;;
		esac
	done
	rm -f "$TMP/flip.db"*
done
is "$bad" "" "a store with flipped bytes (10 seeds): exit 2 naming it, or a normal answer; no crash"

# --- names that do not resolve ---
ed --db "$DB" diff production nosuchenv
exits 2 "diff against an unknown environment: exit 2"
contains "$ERR" "nosuchenv" "  the message names 'nosuchenv'"
ed --db "$DB" diff nosuchref staging
exits 2 "an unknown reference environment: exit 2"
contains "$ERR" "nosuchref" "  the message names 'nosuchref'"
ed --db "$DB" gate --staging nosuchenv
exits 2 "gate with an unknown staging environment: exit 2"
contains "$ERR" "nosuchenv" "  the message names 'nosuchenv'"
ed --db "$DB" diff production @999999
exits 2 "an @ID that does not exist: exit 2"
contains "$ERR" "@999999" "  the message names @999999"
ed --db "$DB" diff production @abc
exits 2 "a malformed @ID: exit 2"
contains "$ERR" "@abc" "  the message names @abc"

# --- command line ---
ed --db "$DB" collect --env e --root "$TMP/no-such-root"
exits 2 "--root that does not exist: exit 2"
contains "$ERR" "$TMP/no-such-root" "  the message names the root"
ed --db "$DB" collect --env e --root "$R/etc/hostname"
exits 2 "--root that is a file: exit 2"
contains "$ERR" "$R/etc/hostname" "  the message names it"
for spec in bogus sqlite: nosuchengine:/x.db sqlite:relative.db '=sqlite:/x.db' 'a/b=sqlite:/x.db'; do
	ed --db "$DB" collect --env e --root "$R" --schema "$spec"
	exits 2 "--schema '$spec': exit 2"
	contains "$ERR" "$spec" "  the message quotes the spec"
done
ed --db "$DB" collect --env e --root "$R" --schema app=sqlite:/var/lib/app/missing.db
exits 2 "--schema naming a missing database: exit 2"
contains "$ERR" "/var/lib/app/missing.db" "  the message names the database"
mkdir -p "$R/var/lib/app"
printf 'CREATE TABLE looks(like sql);\n' >"$R/var/lib/app/text.db"
ed --db "$DB" collect --env e --root "$R" --schema app=sqlite:/var/lib/app/text.db
exits 2 "--schema naming a text file: exit 2"
like "$ERR" "/var/lib/app/text.db.*not an SQLite database" "  'not an SQLite database', naming it"
rm -f "$R/var/lib/app/text.db"
ed --db "$DB" collect --env e --root "$R" --packages rpmx
exits 2 "--packages with an unknown value: exit 2"
contains "$ERR" "rpmx" "  the message names the value"
ed --db "$DB" collect --root "$R"
exits 2 "collect without --env: exit 2"
contains "$ERR" "--env" "  the message names --env"
ed --db "$DB" collect --env e --root "$R" --path etc
exits 2 "a relative --path: exit 2"
contains "$ERR" "etc" "  the message names it"
ed --db "$DB" collect --env e --root "$R" --path /no/such/tree
exits 2 "a --path that does not exist: exit 2"
contains "$ERR" "/no/such/tree" "  the message names it"
ed --db "$DB" collect --env e --root "$R" --no-such-flag
exits 2 "an unknown collect option: exit 2"
ed --db "$DB" diff production
exits 2 "diff with one argument: exit 2"
like "$ERR" "." "  with a message"
ed --db "$DB" diff
exits 2 "diff with no argument: exit 2"
ed --db "$DB" diff production staging extra
exits 2 "diff with three arguments: exit 2"
ed --db "$DB" diff production staging --format yaml
exits 2 "diff --format yaml: exit 2"
contains "$ERR" "yaml" "  the message names the format"
ed --db "$DB" frobnicate
exits 2 "an unknown command: exit 2"
contains "$ERR" "frobnicate" "  the message names it"
ed
exits 2 "no command at all: exit 2"
is "$(q "$DB" "select count(*) from snapshots where status='complete'")" "2" "none of the failed runs left a complete snapshot"
is "$(q "$DB" "select count(*) from snapshots where status='running'")" "0" "none left a 'running' row either"

# --- the tree: unreadable file and folder (FS-5) ---
NB=$TMP/nobody
mkdir -p "$NB/root/etc/app" "$NB/store"
echo readable >"$NB/root/etc/app/ok.conf"
echo 'secret stuff' >"$NB/root/etc/app/locked.conf"
mkdir "$NB/root/etc/app/locked.d"
echo inner >"$NB/root/etc/app/locked.d/inner.conf"
chmod 000 "$NB/root/etc/app/locked.conf" "$NB/root/etc/app/locked.d"
AS=()
if [ "$(id -u)" != 0 ]; then
	AS=(env)
elif command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
	AS=(runuser -u nobody --)
elif command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	AS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
fi
[ "$(id -u)" = 0 ] && [ ${#AS[@]} != 0 ] && chown -R nobody "$NB/store"
if [ ${#AS[@]} = 0 ]; then
	skip "collection as an unprivileged user" "neither runuser nor setpriv, or no user nobody"
elif ! "${AS[@]}" test -w "$NB/store" -a -x "$NB/root/etc/app"; then
	skip "collection as an unprivileged user" "the temporary folder $TMP is not reachable by that user"
else
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" init
	exits 0 "init a store as an unprivileged user"
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" collect --env e --host h --root "$NB/root" --path /etc
	exits 0 "a tree with an unreadable file and folder: collection exits 0"
	contains "$ERR" "/etc/app/locked.conf" "  a warning names the unreadable file"
	contains "$ERR" "/etc/app/locked.d" "  a warning names the unreadable folder"
	like "$OUT" '^[0-9]+$' "  and the snapshot id is printed"
	NID=$OUT
	is "$(q "$NB/store/s.db" "select status from snapshots where id=${NID:-0}")" "complete" "  the snapshot is complete"
	like "$(q "$NB/store/s.db" "select error from items where snapshot_id=${NID:-0} and key='/etc/app/locked.conf'")" \
		'.' "  the unreadable file's item carries an error"
	like "$(q "$NB/store/s.db" "select error from items where snapshot_id=${NID:-0} and key='/etc/app/locked.d'")" \
		'.' "  the unlistable folder's item carries an error"
	is "$(q "$NB/store/s.db" "select count(*) from items where snapshot_id=${NID:-0} and key='/etc/app/ok.conf' and error is null")" \
		"1" "  the readable file next to it was collected normally"
	like "$(q "$NB/store/s.db" "select group_concat(message, '|') from warnings where snapshot_id=${NID:-0}")" \
		'locked\.conf' "  the warning is kept with the snapshot"
	contains "$ERR" "items (2 with an error)" "  the closing line counts the items with an error"
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" collect --env e --host h --root "$NB/root" --path /etc --strict
	exits 2 "--strict: the same collection fails"
	like "$ERR" "--strict: 2 items could not be read \(the first: /etc/app/locked" "  saying how many and the first"
	is "$(q "$NB/store/s.db" "select count(*) from snapshots where status = 'complete'")" "1" "  and nothing is stored"
	# An unreadable file on one side is drift, not a silent match.
	chmod 644 "$NB/root/etc/app/locked.conf"
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" collect --env f --host h --root "$NB/root" --path /etc
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" diff e f --format json
	exits 1 "the file readable on one side only is drift"
	is "$(printf '%s' "$OUT" | json_get '[e["change"] for e in d["drift"] if e["key"]=="/etc/app/locked.conf"]')" '["changed"]' \
		"  reported as changed"
	# A folder that can be listed but not searched: its entries cannot be
	# stat'ed. In a delta they are items with an error, as in a full collection.
	mkdir -p "$NB/root/etc/app/ro.d"
	echo one >"$NB/root/etc/app/ro.d/one.conf"
	echo two >"$NB/root/etc/app/ro.d/two.conf"
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" collect --env g --host h --root "$NB/root" --path /etc
	chmod 644 "$NB/root/etc/app/ro.d"
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" collect --env g --host h --root "$NB/root" --path /etc
	exits 0 "entries that cannot be stat'ed: an incremental collection exits 0"
	GID=$OUT
	like "$ERR" 'a delta on' "  stored as a delta"
	run "${AS[@]}" "$ENVDRIFT" --db "$NB/store/s.db" collect --env g2 --host h --root "$NB/root" --path /etc --full
	FID2=$OUT
	ro_items() { q "$NB/store/s.db" "select key || ' ' || ftype || ' ' || (error is not null) from items_v
		where snapshot_id=${1:-0} and key like '/etc/app/ro.d%' order by key"; }
	is "$(ro_items "$GID")" "$(ro_items "$FID2")" "  they are the items a full collection stores"
	is "$(q "$NB/store/s.db" "select count(*) from items_v where snapshot_id=${GID:-0} and key like '/etc/app/ro.d/%' and error is not null")" \
		"2" "  two items, each with its error"
	chmod 755 "$NB/root/etc/app/ro.d"
fi

# --- symlink loops and links out of the root (FS-1) ---
L=$TMP/links
mkdir -p "$L/etc/d" "$L/up"
ln -s b "$L/etc/a"
ln -s a "$L/etc/b"
ln -s .. "$L/etc/d/loop"
ln -s . "$L/etc/d/self"
ln -s /etc/shadow "$L/etc/x"
ln -s ../../../../../../../../etc/passwd "$L/etc/y"
ln -s /etc "$L/hostetc"
echo 'fixture hostname' >"$L/etc/hostname"
ED_TIMEOUT=20 ed --db "$DB" collect --env links --host h --root "$L" --path /etc --packages none
exits 0 "symlink loops and links out of the root: exit 0 within 20 s"
LID=$OUT
is "$(q "$DB" "select key||' '||ftype||' '||target from items where snapshot_id=${LID:-0} and ftype='symlink' order by key")" \
	"/etc/a symlink b
/etc/b symlink a
/etc/d/loop symlink ..
/etc/d/self symlink .
/etc/x symlink /etc/shadow
/etc/y symlink ../../../../../../../../etc/passwd" "  every link recorded as a symlink with its target"
is "$(q "$DB" "select lower(hex(fingerprint)) from items where snapshot_id=${LID:-0} and key='/etc/x'")" \
	"$(printf '%s' /etc/shadow | xxh128sum | cut -d' ' -f1)" "  a link's fingerprint is its target's text, not the linked file"
is "$(q "$DB" "select count(*) from items where snapshot_id=${LID:-0} and (key like '/etc/d/loop/%' or key like '/etc/d/self/%' or key like '/etc/x/%')")" \
	"0" "  links are not followed"
is "$(q "$DB" "select count(*) from items where snapshot_id=${LID:-0} and key in ('/etc/shadow', '/etc/passwd')")" \
	"0" "  the host's /etc/shadow and /etc/passwd are not collected"
# A --path through a link resolves inside the root: /hostetc -> /etc is ROOT/etc.
ed --db "$DB" collect --env links2 --host h --root "$L" --path /hostetc/hostname --packages none
exits 0 "--path through an absolute link: exit 0"
is "$(q "$DB" "select lower(hex(fingerprint)) from items where snapshot_id=${OUT:-0} and key='/hostetc/hostname'")" \
	"$(xxh128sum <"$L/etc/hostname" | cut -d' ' -f1)" "  the file read is ROOT/etc/hostname, not the host's"
ed --db "$DB" collect --env links3 --host h --root "$L" --path /etc/x --packages none
exits 0 "--path naming a link out of the root: exit 0"
is "$(q "$DB" "select ftype||' '||target from items where snapshot_id=${OUT:-0}")" "symlink /etc/shadow" \
	"  the link itself is the only item"
ed --db "$DB" collect --env links4 --host h --root "$L" --path /etc/x/ --packages none
case "$RC" in
0) is "$(q "$DB" "select group_concat(key) from items where snapshot_id=${OUT:-0} and kind = 'file'")" "/etc/x" "--path /etc/x/: the link only, never the host's shadow" ;;
*) exits 2 "--path /etc/x/: exit 0 or 2" ;;
esac

# --- '..' in --path stays inside the root ---
ed --db "$DB" collect --env dots --host h --root "$R" --path /../../etc --packages none
exits 0 "--path /../../etc under a root: exit 0"
DID=$OUT
is "$(q "$DB" "select count(*) from items where snapshot_id=${DID:-0} and kind = 'file' and key not like '/etc%'")" "0" "  every file item is keyed /etc/..."
is "$(q "$DB" "select lower(hex(fingerprint)) from items where snapshot_id=${DID:-0} and key='/etc/app/marker.conf'")" \
	"$(xxh128sum <"$R/etc/app/marker.conf" | cut -d' ' -f1)" "  contents are those of ROOT/etc"
is "$(q "$DB" "select count(*) from items where snapshot_id=${DID:-0} and key in ('/etc/passwd', '/etc/shadow', '/etc/os-release')")" \
	"0" "  nothing of the host's /etc"
is "$(q "$DB" "select count(*) from items where snapshot_id=${DID:-0} and kind = 'file'")" "$(find "$R/etc" | wc -l)" "  exactly the entries of ROOT/etc"

# --- FIFO, socket, device in the tree (FS-2) ---
F=$TMP/fifo
mkdir -p "$F/etc/run" "$F/var/lib/dpkg"
echo 'plain' >"$F/etc/plain.conf"
mkfifo "$F/etc/run/trap.fifo"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$F/etc/run/ctl.sock"
HAVE_DEV=0
if [ "$(id -u)" = 0 ] && mknod "$F/etc/run/null.dev" c 1 3 2>/dev/null; then HAVE_DEV=1; fi
dpkg_slice 2 >"$F/var/lib/dpkg/status"
ED_TIMEOUT=20 ed --db "$DB" collect --env fifo --host h --root "$F" --path /etc
exits 0 "a FIFO and a socket in the tree: exit 0 within 20 s (a hang fails)"
FID=$OUT
is "$(q "$DB" "select ftype from items where snapshot_id=${FID:-0} and key='/etc/run/trap.fifo'")" "fifo" "  the FIFO is an item of type fifo"
is "$(q "$DB" "select ftype from items where snapshot_id=${FID:-0} and key='/etc/run/ctl.sock'")" "socket" "  the socket is an item of type socket"
if [ "$HAVE_DEV" = 1 ]; then
	is "$(q "$DB" "select ftype from items where snapshot_id=${FID:-0} and key='/etc/run/null.dev'")" "char" "  the device is an item of type char"
else
	skip "  the device is an item of type char" "mknod not permitted"
fi
# Special files in the places collect reads by name: /etc/hostname (no --host),
# /etc/passwd and /etc/group (owner names).
mkfifo "$F/etc/hostname" "$F/etc/passwd" "$F/etc/group"
ED_TIMEOUT=20 ed --db "$DB" collect --env fifo2 --root "$F" --path /etc --packages none
exits 0 "FIFOs as /etc/hostname, /etc/passwd and /etc/group: exit 0 within 20 s"
if ! command -v strace >/dev/null; then
	skip "the FIFO is never opened (strace)" "strace is not installed"
	skip "special files read by name are never opened (strace)" "strace is not installed"
elif ! strace -f -o /dev/null true 2>/dev/null; then
	skip "the FIFO is never opened (strace)" "strace cannot trace here"
	skip "special files read by name are never opened (strace)" "strace cannot trace here"
else
	# LeakSanitizer does not run under ptrace.
	ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" ED_TIMEOUT=20 run strace -f -qq -e trace=open,openat,openat2 \
		-o "$TMP/strace.log" "$ENVDRIFT" --db "$DB" collect --env fifo3 --host h --root "$F" --path /etc/run --path /etc/plain.conf --packages none
	exits 0 "collection under strace: exit 0"
	ok "  strace saw the regular file opened (the trace works)" grep -q 'plain\.conf' "$TMP/strace.log"
	is "$(grep -E 'trap\.fifo|ctl\.sock|null\.dev' "$TMP/strace.log")" "" "  the FIFO, socket and device were never opened"
	ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" ED_TIMEOUT=20 run strace -f -qq -e trace=open,openat,openat2 \
		-o "$TMP/strace2.log" "$ENVDRIFT" --db "$DB" collect --env fifo4 --root "$F" --path /etc/run --packages none
	is "$(grep -E '"(hostname|passwd|group)"' "$TMP/strace2.log" | grep -v ENOENT)" "" \
		"  FIFOs named /etc/hostname, /etc/passwd, /etc/group were never opened"
fi
rm -f "$F/etc/hostname" "$F/etc/passwd" "$F/etc/group"

# --- empty folders ---
E=$TMP/empty
mkdir -p "$E/etc/empty.d" "$E/etc/app/also-empty"
ed --db "$DB" collect --env empty --host h --root "$E" --path /etc --packages none
exits 0 "a tree with empty folders: exit 0"
is "$(q "$DB" "select key || ' ' || ftype from items where snapshot_id=${OUT:-0} order by key")" \
	"/etc dir
/etc/app dir
/etc/app/also-empty dir
/etc/empty.d dir" "  each folder is an item of type dir"

# --- a truncated dpkg status file ---
T=$TMP/trunc
mkdir -p "$T/var/lib/dpkg"
dpkg_slice 12 >"$TMP/status12"
python3 - "$TMP/status12" "$T" <<'EOF'
import os, sys
src, root = sys.argv[1:]
recs = [r for r in open(src, encoding="utf-8").read().split("\n\n") if r.strip()]
def fields(r):
    f = {}
    for line in r.split("\n"):
        if line[:1] not in (" ", "\t") and ":" in line:
            k, v = line.split(":", 1)
            f[k] = v.strip()
    return f
def installed(r):
    f = fields(r)
    return f.get("Status") == "install ok installed" and "Version" in f and "Architecture" in f
# The first stanza past the 5th whose Version and Architecture come after its third line.
for cut in range(5, len(recs)):
    lines = recs[cut].split("\n")
    stop = next(i for i, l in enumerate(lines) if l.startswith(("Version:", "Architecture:")) or i == len(lines) - 1)
    if stop >= 3 and installed(recs[cut]):
        break
else:
    sys.exit("no stanza to cut")
head = "\n\n".join(recs[:cut]) + "\n\n"
keep = [("dpkg:%s:%s" % (fields(r)["Package"], fields(r)["Architecture"])) for r in recs[:cut] if installed(r)]
# mid: cut in the middle of the line before Version/Architecture; eol: cut at a line end.
mid = head + "\n".join(lines[:stop - 1]) + "\n" + lines[stop - 1][: max(1, len(lines[stop - 1]) // 2)]
eol = head + "\n".join(lines[:stop]) + "\n"
for name, text in (("mid", mid), ("eol", eol)):
    os.makedirs(os.path.join(root, name, "var/lib/dpkg"), exist_ok=True)
    open(os.path.join(root, name, "var/lib/dpkg/status"), "w", encoding="utf-8").write(text)
open(os.path.join(root, "expected"), "w").write("\n".join(sorted(keep)) + "\n")
EOF
for how in mid eol; do
	mkdir -p "$T/$how/etc"
	echo "trunc-$how" >"$T/$how/etc/hostname"
	ed --db "$DB" collect --env "trunc-$how" --host h --root "$T/$how" --path /etc --packages dpkg
	exits 0 "a status file cut short ($how-line): exit 0"
	like "$ERR" '/var/lib/dpkg/status:[0-9]+' "  a warning names the status file and a line"
	is "$(q "$DB" "select key from items where snapshot_id=${OUT:-0} and kind='package' order by key")" \
		"$(cat "$T/expected")" "  the complete packages before the cut are all collected, and only they"
done

done_testing
