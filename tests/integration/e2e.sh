#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End to end: two fixture hosts with known drift of every kind, collected
# into one store; the exact drift set, the report formats, gate, identical
# roots, @ID references and the snapshot list.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

P=$TMP/prod
S=$TMP/stag
DB=$TMP/store.db

# --- production ---
mkdir -p "$P/etc/app" "$P/etc/nginx" "$P/var/lib/dpkg" "$P/var/lib/app"
echo p1 >"$P/etc/hostname"
printf 'listen 8080;\nworkers 4;\n' >"$P/etc/app/app.conf"
printf 'obsolete = yes\n' >"$P/etc/app/removed.conf"
printf 'log_level = info\n' >"$P/etc/app/mode.conf"
chmod 644 "$P/etc/app/mode.conf"
printf 'user www-data;\nworker_processes auto;\n' >"$P/etc/nginx/nginx.conf"
ln -s releases/v1 "$P/etc/app/current"
cat >"$P/etc/app/config.json" <<'EOF'
{
  "name": "shop",
  "db": {"host": "db1.internal", "pool": 5, "timeout_ms": 2500},
  "features": ["search", "cart"],
  "a/b~c": true
}
EOF

# The real dpkg status file of this machine, cut into stanzas (blank-line
# records): production gets the first 8 installed ones, staging the same with
# one version changed, one package gone and one more added.
dpkg_slice 40 >"$TMP/status.slice"
python3 - "$TMP/status.slice" "$P/var/lib/dpkg/status" "$S.status" "$TMP/pkg.expected" <<'EOF'
import sys
src, prod, stag, expected = sys.argv[1:]
recs = [r for r in open(src, encoding="utf-8").read().split("\n\n") if r.strip()]
def fields(r):
    f = {}
    for line in r.split("\n"):
        if line[:1] not in (" ", "\t") and ":" in line:
            k, v = line.split(":", 1)
            f[k] = v.strip()
    return f
inst = [r for r in recs if fields(r).get("Status") == "install ok installed"
        and "Version" in fields(r) and "Architecture" in fields(r)]
if len(inst) < 9:
    sys.exit("fewer than 9 installed packages in the slice")
base = inst[:8]
key = lambda r: "dpkg:%s:%s" % (fields(r)["Package"], fields(r)["Architecture"])
changed, removed, added = base[2], base[4], inst[8]
def bump(r):
    out = []
    for line in r.split("\n"):
        if line.startswith("Version:"):
            line = line + "+staging1"
        out.append(line)
    return "\n".join(out)
stag_recs = [bump(r) if r is changed else r for r in base if r is not removed] + [added]
open(prod, "w", encoding="utf-8").write("\n\n".join(base) + "\n")
open(stag, "w", encoding="utf-8").write("\n\n".join(stag_recs) + "\n")
with open(expected, "w") as f:
    f.write("package\t%s\tchanged\tversion\n" % key(changed))
    f.write("package\t%s\tremoved\t\n" % key(removed))
    f.write("package\t%s\tadded\t\n" % key(added))
    f.write("%s\t%s\t%s\n" % (key(changed), fields(changed)["Version"],
                              fields(changed)["Version"] + "+staging1"))
EOF
[ -s "$TMP/pkg.expected" ] || { echo "Bail out! cannot build the dpkg fixtures"; exit 2; }

sqlite3 "$P/var/lib/app/app.db" <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), total REAL);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX orders_user ON orders (user_id);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END;
INSERT INTO users (email) VALUES ('a@example.com');
EOF

# --- staging: a copy, then one drift of each kind ---
cp -a "$P" "$S"
mv "$S.status" "$S/var/lib/dpkg/status"
printf 'listen 8081;\nworkers 4;\n' >"$S/etc/app/app.conf"        # changed file
rm "$S/etc/app/removed.conf"                                       # removed file
printf 'new = 1\n' >"$S/etc/app/added.conf"                        # added file
chmod 600 "$S/etc/app/mode.conf"                                   # mode change
ln -sfn releases/v2 "$S/etc/app/current"                          # link target
sed -i 's/"pool": 5/"pool": 10/' "$S/etc/app/config.json"          # JSON value
touch -d '2001-02-03 04:05:06' "$S/etc/nginx/nginx.conf"           # mtime only: no drift
sqlite3 "$S/var/lib/app/app.db" 'ALTER TABLE users ADD COLUMN phone TEXT; DROP INDEX orders_user;'

# The exact drift expected, sorted: kind, key, change, fields (comma-separated).
{
	printf 'config\t/etc/app/config.json#/db/pool\tchanged\tvalue\n'
	printf 'file\t/etc/app/added.conf\tadded\t\n'
	printf 'file\t/etc/app/app.conf\tchanged\tcontent\n'
	printf 'file\t/etc/app/config.json\tchanged\tcontent\n'
	printf 'file\t/etc/app/current\tchanged\ttarget\n'
	printf 'file\t/etc/app/mode.conf\tchanged\tmode\n'
	printf 'file\t/etc/app/removed.conf\tremoved\t\n'
	head -3 "$TMP/pkg.expected"
	printf 'schema\tsqlite:app/column/users.phone\tadded\t\n'
	printf 'schema\tsqlite:app/index/orders_user\tremoved\t\n'
} | sort >"$TMP/expected"
N_EXPECTED=$(wc -l <"$TMP/expected")
read -r CHANGED_PKG OLD_VER NEW_VER < <(sed -n 4p "$TMP/pkg.expected")
# Under the default policy staging ahead of production is info, behind is block.
if dpkg --compare-versions "$NEW_VER" gt "$OLD_VER"; then
	DEFAULT_PKG_DIR=ahead DEFAULT_PKG_SEV=info
else
	DEFAULT_PKG_DIR=behind DEFAULT_PKG_SEV=block
fi
N_ADDED=$(cut -f3 "$TMP/expected" | grep -c '^added$')
N_REMOVED=$(cut -f3 "$TMP/expected" | grep -c '^removed$')
N_CHANGED=$(cut -f3 "$TMP/expected" | grep -c '^changed$')

collect() { # ENV HOST ROOT
	ed --db "$DB" collect --env "$1" --host "$2" --root "$3" --path /etc \
		--schema app=sqlite:/var/lib/app/app.db
}

init_store "$DB"
collect production p1 "$P"
exits 0 "collect production exits 0"
like "$OUT" '^[0-9]+$' "collect production prints its id"
PID_=$OUT
collect staging s1 "$S"
exits 0 "collect staging exits 0"
SID=$OUT
isnt "$SID" "$PID_" "the two snapshots have different ids"

# --- the exact drift set, from JSON ---
# A strict policy (everything blocks, no default expectations) pins the exact
# set; the default policy's severities are checked further down.
strict_policy "$TMP/strict.ini"
ed --db "$DB" diff production staging --format json --policy "$TMP/strict.ini"
exits 1 "diff production staging exits 1 (drift)"
printf '%s' "$OUT" >"$TMP/diff.json"
python3 - "$TMP/diff.json" >"$TMP/got" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for e in sorted(d["drift"], key=lambda e: (e["kind"], e["key"])):
    print("%s\t%s\t%s\t%s" % (e["kind"], e["key"], e["change"], ",".join(e.get("fields", []))))
EOF
is "$(cat "$TMP/got")" "$(cat "$TMP/expected")" "the drift set is exactly the expected $N_EXPECTED items"

jq_() { json_get "$1" <"$TMP/diff.json"; }
is "$(jq_ 'd["format"]')" "envdrift.diff/1" "format is envdrift.diff/1"
is "$(jq_ '[d["reference"]["env"], d["reference"]["snapshots"], d["candidate"]["env"], d["candidate"]["snapshots"]]')" \
	"[\"production\", [$PID_], \"staging\", [$SID]]" "reference and candidate name env and snapshot"
is "$(jq_ '[d["summary"][k] for k in ("added","removed","changed","ignored","blocking")]')" \
	"[$N_ADDED, $N_REMOVED, $N_CHANGED, 0, $N_EXPECTED]" "summary counts: $N_ADDED added, $N_REMOVED removed, $N_CHANGED changed, 0 ignored, $N_EXPECTED blocking"
is "$(jq_ 'sum(1 for e in d["drift"] if e["change"]=="added") + 100*sum(1 for e in d["drift"] if e["change"]=="removed") + 10000*sum(1 for e in d["drift"] if e["change"]=="changed")')" \
	"$((N_ADDED + 100 * N_REMOVED + 10000 * N_CHANGED))" "summary counts agree with the drift list"
is "$(jq_ 'sorted(set(e["severity"] for e in d["drift"]))')" '["block"]' "under the strict policy every item has severity block"
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([[e.get("reference",{}).get("version"), e.get("candidate",{}).get("version")] for e in d["drift"] if e["key"]==sys.argv[2]]))' "$TMP/diff.json" "$CHANGED_PKG")" \
	"[[\"$OLD_VER\", \"$NEW_VER\"]]" "changed package shows both versions"
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([[e.get("reference",{}).get("mode"), e.get("candidate",{}).get("mode")] for e in d["drift"] if e["key"]=="/etc/app/mode.conf"]))' "$TMP/diff.json")" \
	'[["0644", "0600"]]' "mode change shows 0644 -> 0600"
unlike "$(cat "$TMP/got")" $'\t/etc/app\t|/etc/nginx/nginx.conf|/etc/hostname' "no drift for the folder whose listing changed, nor for an mtime-only change"
unlike "$(jq_ '[e["key"] for e in d["drift"] if "reference" not in e and e["change"] != "added"]')" '/' "every changed or removed entry has a reference side"

# --- the default policy: packages and schemas block, files and configs warn ---
ed --db "$DB" diff production staging --format json
exits 1 "diff under the default policy still exits 1 (drift)"
is "$(printf '%s' "$OUT" | json_get 'sorted(set((e["kind"], e["severity"]) for e in d["drift"] if e["kind"] in ("file", "config", "schema")))')" \
	'[["config", "warn"], ["file", "warn"], ["schema", "block"]]' "default severities: files and configs warn, schemas block"
is "$(printf '%s' "$OUT" | json_get 'sorted(set((e["change"], e["severity"], e.get("direction")) for e in d["drift"] if e["kind"] == "package"))')" \
	"$(python3 -c 'import json,sys; print(json.dumps(sorted([["added","block",None],["removed","block",None],["changed",sys.argv[1],sys.argv[2]]])))' "$DEFAULT_PKG_SEV" "$DEFAULT_PKG_DIR")" \
	"packages: added and removed block; the changed one is $DEFAULT_PKG_DIR of production"

# --- text ---
ed --db "$DB" diff production staging --policy "$TMP/strict.ini"
exits 1 "text diff exits 1"
like "$OUT" "^$N_EXPECTED differences: $N_ADDED added, $N_REMOVED removed, $N_CHANGED changed" "text shows the counts line"
COUNTS_LINE=$(printf '%s\n' "$OUT" | grep -n 'differences:' | head -1 | cut -d: -f1)
FIRST_GROUP=$(printf '%s\n' "$OUT" | grep -nE '^(file|config|package|schema) \(' | head -1 | cut -d: -f1)
ok "counts come before the groups" test "${COUNTS_LINE:-99}" -lt "${FIRST_GROUP:-0}"
for g in 'file (6)' 'config (1)' 'package (3)' 'schema (2)'; do
	contains "$OUT" "$g" "text has the group '$g'"
done
contains "$OUT" "$CHANGED_PKG" "text names the changed package"
contains "$OUT" "sqlite:app/index/orders_user" "text names the dropped index"
is "$(grep -c $'\033' "$TMP/.out")" "0" "text to a pipe has no escape bytes"

# --- gate ---
ed --db "$DB" gate --policy "$TMP/strict.ini"
exits 1 "gate exits 1 on drift"
is "$OUT" "" "gate prints nothing on stdout"
is "$(printf '%s\n' "$ERR" | grep -c '^block:')" "$N_EXPECTED" "gate prints one 'block:' line per drift item"
LAST=$(printf '%s\n' "$ERR" | tail -1)
unlike "$LAST" '^block:' "gate's last stderr line is the summary"
like "$LAST" "(^|[^0-9])$N_EXPECTED blocking" "the summary counts the $N_EXPECTED blocking items"
for k in /etc/app/app.conf /etc/app/removed.conf "$CHANGED_PKG" sqlite:app/column/users.phone; do
	like "$(printf '%s\n' "$ERR" | grep '^block:')" "^block:.* $k(:| |$)" "gate blocks on $k"
done
ed --db "$DB" gate --production production --staging staging
exits 1 "gate with explicit envs and the default policy exits 1 (packages and schemas block)"

# --- identical roots ---
ed --db "$DB" collect --env mirror --host p1 --root "$P" --path /etc --schema app=sqlite:/var/lib/app/app.db
exits 0 "collect production's root again as env mirror"
MID=$OUT
ed --db "$DB" diff production mirror
exits 0 "diff production mirror exits 0"
like "$OUT" 'no drift' "text says no drift"
ed --db "$DB" diff production mirror --format json
exits 0 "json diff production mirror exits 0"
is "$(printf '%s' "$OUT" | json_get '[len(d["drift"]), d["summary"]["added"], d["summary"]["removed"], d["summary"]["changed"], d["summary"]["blocking"]]')" \
	"[0, 0, 0, 0, 0]" "json: empty drift, zero counts"
ed --db "$DB" gate --staging mirror
exits 0 "gate --staging mirror exits 0"
unlike "$ERR" '^block:' "gate --staging mirror blocks nothing"
ed --db "$DB" diff staging staging
exits 0 "an environment against itself: exit 0"

# --- @ID ---
ed --db "$DB" diff "@$PID_" "@$SID" --format json
exits 1 "diff @$PID_ @$SID exits 1"
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); [print("%s\t%s\t%s\t%s" % (e["kind"], e["key"], e["change"], ",".join(e.get("fields", [])))) for e in sorted(d["drift"], key=lambda e: (e["kind"], e["key"]))]')" \
	"$(cat "$TMP/expected")" "diff by @ID gives the same drift set"
is "$(printf '%s' "$OUT" | json_get '[d["reference"]["snapshots"], d["candidate"]["snapshots"]]')" "[[$PID_], [$SID]]" "@ID: the snapshots named"
ed --db "$DB" diff "@$PID_" "@$MID"
exits 0 "diff @production @mirror exits 0"
ed --db "$DB" diff "@$SID" production --format json
exits 1 "diff mixing @ID and an env name exits 1"
is "$(printf '%s' "$OUT" | json_get '[d["summary"]["added"], d["summary"]["removed"], d["summary"]["changed"]]')" \
	"[$N_REMOVED, $N_ADDED, $N_CHANGED]" "reversed diff swaps added and removed"

# --- snapshots ---
ed --db "$DB" snapshots --format json
exits 0 "snapshots --format json exits 0"
printf '%s' "$OUT" >"$TMP/snaps.json"
for id in "$PID_" "$SID" "$MID"; do
	n=$(q "$DB" "select count(*) from items where snapshot_id=$id")
	is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([[s["status"], s["items"]] for s in d["snapshots"] if s["id"]==int(sys.argv[2])]))' "$TMP/snaps.json" "$id")" \
		"[[\"complete\", $n]]" "snapshots lists @$id as complete with its $n items"
done
is "$(json_get '[s["env"] for s in d["snapshots"]]' <"$TMP/snaps.json")" '["production", "staging", "mirror"]' "snapshots oldest first, with their envs"
is "$(json_get 'd["format"]' <"$TMP/snaps.json")" "envdrift.snapshots/1" "snapshots format name"
ed --db "$DB" snapshots --env staging --format json
is "$(printf '%s' "$OUT" | json_get '[s["id"] for s in d["snapshots"]]')" "[$SID]" "snapshots --env staging lists only staging"
ed --db "$DB" snapshots
exits 0 "snapshots (text) exits 0"
like "$OUT" "production" "text lists production"
like "$OUT" "complete" "text shows the status"

# --- the store views agree ---
is "$(q "$DB" "select snapshot_id from latest_v where env='staging'")" "$SID" "latest_v points at staging's snapshot"
is "$(q "$DB" "select value from items_v where snapshot_id=$SID and key='$CHANGED_PKG'")" "$NEW_VER" "items_v shows the staging version"
is "$(q "$DB" "select count(*) from items_v where snapshot_id=$PID_ and kind='package'")" "8" "production has 8 package items"
is "$(q "$DB" "select count(*) from items where snapshot_id=$PID_ and kind='file' and key like '/etc/app/%' and length(fingerprint)=16")" \
	"$(find "$P/etc/app" -mindepth 1 | wc -l)" "one file item per entry under etc/app, each with a 16-byte fingerprint"
is "$(q "$DB" "select ftype||' '||target from items where snapshot_id=$SID and key='/etc/app/current'")" "symlink releases/v2" "the link is recorded with its target"

done_testing
