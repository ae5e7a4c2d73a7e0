#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Secret canaries (RELIABILITY S-1): random secrets planted in a JSON config
# never reach the store, its WAL, the logs or any report, neither as plain
# text nor as an unkeyed XXH3-128 or SHA-256; they get keyed fingerprints
# that compare equal across environments of one store.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
P=$TMP/prod
S=$TMP/stag
mkdir -p "$P/etc/app" "$S/etc/app"

# Canaries: a 4-digit PIN (not a year, a mode or a page size, so that a hit
# means a leak), a short password, a JWT-like token, a PEM-looking key.
python3 - "$TMP/canaries.json" <<'EOF'
import base64, json, secrets, string, sys
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
while True:
    pin = str(secrets.randbelow(9000) + 1000)
    if not (1900 <= int(pin) <= 2100 or pin in ("4096", "8192") or "0" in pin[:1]):
        break
alpha = string.ascii_letters + string.digits
pw = "".join(secrets.choice(alpha) for _ in range(7)) + "!"
jwt = ".".join([b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
                b64u(json.dumps({"sub": secrets.token_hex(6), "iat": 1700000000}).encode()),
                b64u(secrets.token_bytes(32))])
body = base64.b64encode(secrets.token_bytes(144)).decode()
pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + \
      "\n-----END PRIVATE KEY-----\n"
jwt2 = ".".join(jwt.split(".")[:2] + [b64u(secrets.token_bytes(32))])
filepw = "".join(secrets.choice(alpha) for _ in range(9))
ctl = "ctl-" + secrets.token_hex(8)
json.dump({"ctl": ctl, "pin": pin, "pw": pw, "jwt": jwt, "jwt2": jwt2, "pem": pem, "filepw": filepw},
          open(sys.argv[1], "w"))
EOF
canary() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]], end="")' "$TMP/canaries.json" "$1"; }
JWT=$(canary jwt)
JWT2=$(canary jwt2)
FILEPW=$(canary filepw)

# config.json for one environment: TOKEN is the db_token (differs by env).
write_config() { # DIR TOKEN
	python3 - "$TMP/canaries.json" "$1/etc/app/config.json" "$2" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
doc = {
    "service": {"name": "shop", "workers": 4, "label": c["ctl"]},
    "db": {"host": "db1.internal", "password": c["pw"], "db_token": sys.argv[3], "pool": 5},
    "apiKey": int(c["pin"]),
    "oauth": {"clients": [{"id": "web", "client_secret": c["pem"]}]},
}
open(sys.argv[2], "w").write(json.dumps(doc, indent=2) + "\n")
EOF
}
write_config "$P" "$JWT"
write_config "$S" "$JWT2"
# A file named like a secret, holding a short password.
printf '%s\n' "$FILEPW" >"$P/etc/app/db.password"
cp "$P/etc/app/db.password" "$S/etc/app/db.password"
echo 'plain = 1' >"$P/etc/app/plain.conf"
cp "$P/etc/app/plain.conf" "$S/etc/app/plain.conf"

init_store "$DB"
ok "the key file $DB.key exists" test -f "$DB.key"
is "$(stat -c %a "$DB.key")" "600" "the key file has mode 600"
LOG=$TMP/log
: >"$LOG"
logrun() { ed "$@"; printf '%s\n%s\n' "$OUT" "$ERR" >>"$LOG"; }
# A second connection keeps the WAL from being checkpointed away when envdrift
# closes the store, so the WAL itself can be searched too.
"$T_PY" -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute("select count(*) from snapshots").fetchall()
open(sys.argv[2], "w").close(); time.sleep(120)' "$DB" "$TMP/holder.ready" &
HOLDER=$!
# Connected before the first collection, however slowly Python starts.
for _ in $(seq 1 200); do [ -e "$TMP/holder.ready" ] && break; sleep 0.05; done
logrun --db "$DB" collect --env production --host p1 --root "$P" --path /etc --packages none
exits 0 "collect production"
PID_=$OUT
logrun --db "$DB" collect --env staging --host s1 --root "$S" --path /etc --packages none
exits 0 "collect staging"
SID=$OUT
logrun --db "$DB" diff production staging
exits 1 "diff (text) shows drift: the token differs"
logrun --db "$DB" diff production staging --format json
exits 1 "diff (json) exits 1"
printf '%s' "$OUT" >"$TMP/diff.json"
logrun --db "$DB" diff staging production --format json
logrun --db "$DB" diff "@$PID_" "@$SID"
logrun --db "$DB" gate
exits 1 "gate exits 1"
logrun --db "$DB" snapshots --format json
logrun --db "$DB" snapshots

CFG=/etc/app/config.json
K_PW="$CFG#/db/password"
K_TOK="$CFG#/db/db_token"
K_PIN="$CFG#/apiKey"
K_PEM="$CFG#/oauth/clients/0/client_secret"
for k in "$K_PW" "$K_TOK" "$K_PIN" "$K_PEM"; do
	is "$(q "$DB" "select count(*) || ' ' || count(value) from items where kind='config' and key='$k'")" "2 0" \
		"config item $k: in both snapshots, value NULL"
done
is "$(q "$DB" "select value from items where snapshot_id=$PID_ and key='$CFG#/db/host'")" '"db1.internal"' \
	"a non-secret value next to them is stored"
fp() { q "$DB" "select fingerprint from items_v where snapshot_id=$1 and key='$2'"; }
is "$(fp "$PID_" "$K_PW")" "$(fp "$SID" "$K_PW")" "the same password in both environments: equal fingerprints"
is "$(fp "$PID_" "$K_PEM")" "$(fp "$SID" "$K_PEM")" "the same PEM key in both environments: equal fingerprints"
isnt "$(fp "$PID_" "$K_TOK")" "$(fp "$SID" "$K_TOK")" "different tokens: different fingerprints"
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([[e["change"], e.get("fields")] for e in d["drift"] if e["key"]==sys.argv[2]]))' "$TMP/diff.json" "$K_TOK")" \
	'[["changed", ["value"]]]' "the token shows as changed in the diff"
like "$(fp "$PID_" "$K_PW")" '^[0-9a-f]{32}$' "a secret's fingerprint is 16 bytes"

# A second store has its own key: the same secret fingerprints differently there.
DB2=$TMP/other.db
init_store "$DB2"
ed --db "$DB2" collect --env production --host p1 --root "$P" --path /etc --packages none
OID=$OUT
isnt "$(q "$DB2" "select fingerprint from items_v where snapshot_id=$OID and key='$K_PW'")" "$(fp "$PID_" "$K_PW")" \
	"another store (another key): another fingerprint for the same secret"
is "$(q "$DB2" "select fingerprint from items_v where snapshot_id=$OID and key='$CFG#/db/host'")" "$(fp "$PID_" "$CFG#/db/host")" \
	"  while plain values fingerprint the same in both stores"
cmp -s "$DB.key" "$DB2.key"
isnt "$?" "0" "  the two key files differ"

# --- searching for the canaries ---
[ -e "$DB-wal" ] && cp "$DB-wal" "$TMP/store.db-wal.copy"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
sqlite3 "$DB" .dump >"$TMP/dump.sql"
ARTIFACTS=("$DB" "$TMP/dump.sql" "$LOG")
[ -e "$TMP/store.db-wal.copy" ] && ARTIFACTS+=("$TMP/store.db-wal.copy")
for f in "$DB-wal" "$DB-journal" "$DB-shm"; do [ -e "$f" ] && ARTIFACTS+=("$f"); done
diag "searching: ${ARTIFACTS[*]#"$TMP/"}"
ok "the WAL was kept for the search (a second connection held the store)" test -s "$TMP/store.db-wal.copy"
ok "(control) the search finds a non-secret value in the WAL" grep -a -q -F db1.internal "$TMP/store.db-wal.copy"

# scan NAME: one test per canary; needles are the value in every encoding a
# leak could take, and its unkeyed hashes (hex lower and upper, raw bytes).
scan() {
	local out
	out=$(python3 - "$TMP/canaries.json" "$1" "${ARTIFACTS[@]}" <<'EOF'
import hashlib, json, subprocess, sys
canaries, name, files = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3:]
v = canaries[name]
forms = {"plain": v.encode(), "json": json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode(),
         "json-inner": json.dumps(v, ensure_ascii=False)[1:-1].encode()}
if name == "pem":  # each line of the key body on its own
    for i, line in enumerate(v.split("\n")):
        if len(line) >= 16 and "-----" not in line:
            forms["pem line %d" % i] = line.encode()
if name == "filepw":
    forms["file"] = (v + "\n").encode()
def xxh128(b):
    r = subprocess.run(["xxh128sum"], input=b, stdout=subprocess.PIPE, check=True)
    return bytes.fromhex(r.stdout.split()[0].decode())
needles = {}
for fname, b in list(forms.items()):
    if not fname.startswith("pem line"):
        for hname, h in (("xxh3-128", xxh128(b)), ("sha256", hashlib.sha256(b).digest()),
                         ("sha256/128", hashlib.sha256(b).digest()[:16])):
            needles["%s(%s)" % (hname, fname)] = [h, h.hex().encode(), h.hex().upper().encode()]
    needles[fname] = [b]
import re
def found(b, data):
    # A short all-digit value (the PIN) counts only when it stands alone: hex
    # strings in reports and dumps contain digit runs by chance. The dump shows
    # every stored value delimited, so a leak is still caught there.
    if b.isdigit() and len(b) < 8:
        return re.search(rb"(?<![0-9A-Za-z])" + b + rb"(?![0-9A-Za-z])", data) is not None
    return b in data
hits = []
for f in files:
    data = open(f, "rb").read()
    for n, bs in needles.items():
        if any(found(b, data) for b in bs):
            hits.append("%s in %s" % (n, f))
print("\n".join(hits))
EOF
	)
	if [ "$1" = ctl ]; then
		like "$out" 'xxh3-128\(json\) in .*dump' "(control) the search finds a plain value's XXH3 in the dump"
		like "$out" '^plain in .*store\.db' "(control) the search finds a plain value in the store file"
		return
	fi
	is "$out" "" "canary '$1' ($2): no plain value, no unkeyed XXH3-128 or SHA-256 in store, WAL, dump, logs or reports"
}
scan ctl "a value under a key that is not secret"
scan pin "4-digit PIN under apiKey"
scan pw "short password under db.password"
scan jwt "JWT under db.db_token"
scan jwt2 "staging's JWT"
scan pem "PEM key under oauth.clients[0].client_secret"

# Files that hold secrets are not fingerprinted by an unkeyed hash either: a
# short secret in a file of known shape falls to a brute force of its XXH3.
H_NAMED=$(xxh128sum <"$P/etc/app/db.password" | cut -d' ' -f1)
H_CFG=$(xxh128sum <"$P/etc/app/config.json" | cut -d' ' -f1)
H_PLAIN=$(xxh128sum <"$P/etc/app/plain.conf" | cut -d' ' -f1)
is "$(q "$DB" "select lower(hex(fingerprint)) from items where snapshot_id=$PID_ and key='/etc/app/plain.conf'")" "$H_PLAIN" \
	"(control) a plain file's fingerprint is the XXH3-128 of its bytes"
is "$(grep -i -F "$H_NAMED" "$TMP/dump.sql" | cut -c1-160)" "" \
	"a file named like a secret (db.password) has no unkeyed XXH3 of its content in the store"
is "$(grep -i -F "$H_CFG" "$TMP/dump.sql" | cut -c1-160)" "" \
	"a JSON file holding secrets has no unkeyed XXH3 of its content in the store"
is "$(q "$DB" "select count(*) from items where key='/etc/app/db.password' and length(fingerprint)=16")" "2" \
	"  the secret-named file is still an item in both snapshots"
is "$(fp "$PID_" /etc/app/db.password)" "$(fp "$SID" /etc/app/db.password)" "  with equal fingerprints for equal content"

done_testing
