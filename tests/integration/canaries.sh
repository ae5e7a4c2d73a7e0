#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Secret canaries by class (RELIABILITY S-1..S-3, issue 11 A.1-A.4, A.6): one
# random secret per class, planted in production and staging with the default
# profile, must never reach the store, its -wal/-shm, a dump, any diff format,
# gate, report, export or stderr, neither plain nor as an unkeyed XXH3-128 or
# SHA-256; every file holding one has a keyed fingerprint; the non-secret rest
# (URL host, path) stays visible.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
P=$TMP/prod
S=$TMP/stag

# plant DIR ENVNAME: writes the fixtures for one environment; the canaries of
# production and staging differ, so every secret line drifts.
python3 - "$TMP/canaries.json" <<'EOF'
import json, secrets, string, sys
alnum = string.ascii_letters + string.digits
def r(n, alpha=alnum): return "".join(secrets.choice(alpha) for _ in range(n))
def pin(n):
    while True:
        v = str(secrets.randbelow(10 ** n - 10 ** (n - 1)) + 10 ** (n - 1))
        if "6379" not in v and not v.startswith(("19", "20")):
            return v
c = {}
for env in ("prod", "stag"):
    c[env] = {
        "redis": pin(6),                       # A.1 requirepass in kept text
        "badjson": r(9),                       # A.1 "password" in a malformed .json
        "secretfile": "h-" + r(10),            # A.2 db_host in secrets.yaml
        "keyjson": "h-" + r(10),               # A.2 db_host in server.key.json
        "urlenv": r(10),                       # A.4 DATABASE_URL in a .env
        "urltext": r(10),                      # A.4 DATABASE_URL in kept /etc/default text
        "jdbc": r(10),                         # A.4 &password= in a .properties
        "urlini": r(10),                       # A.4 url=https://u:PW@h in an .ini
        "bindpw": r(8),                        # A.4 bindpw in kept text
        "rootpw": r(8),                        # A.4 rootpw in kept text
        "ghp": "ghp_" + r(36),                 # A.4 token shapes under plain keys
        "ghpat": "github_pat_" + r(40, alnum + "_"),
        "glpat": "glpat-" + r(20),
        "slack": "xoxb-" + r(12, string.digits) + "-" + r(24),
        "aws": "AKIA" + r(16, string.ascii_uppercase + string.digits),
        "stripe": "sk_live_" + r(24),
        "jwt": "eyJ" + r(30) + ".eyJ" + r(40) + "." + r(43, alnum + "_-"),
        "pem": "\n".join(r(64, alnum + "+/") for _ in range(3)),  # A.3 PEM in kept text
        "ovpnkey": "\n".join(r(64, alnum + "+/") for _ in range(2)),
        "tlscrypt": "\n".join(r(32, "0123456789abcdef") for _ in range(2)),
        "putty": r(64, alnum + "+/"),
        "multiline": r(12),                    # A.3 continuation lines of a secret value
        "yamlalias": r(12),                    # A.6 anchored under a plain key, aliased under my_token
        "yamlcomment": r(12),                  # A.6 "# old password: X"
    }
c["ctl"] = "ctl-" + secrets.token_hex(8)
json.dump(c, open(sys.argv[1], "w"))
EOF

plant() { # DIR ENV
	python3 - "$TMP/canaries.json" "$1" "$2" <<'EOF'
import json, os, sys
allc, root, env = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
c = allc[env]
def w(path, text):
    p = root + path
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w").write(text)
w("/etc/redis/redis.conf", "bind 127.0.0.1\nport 6379\nrequirepass %s\n" % c["redis"])
w("/etc/app/bad.json", '{"a": 1, "a": 2, "password": "%s"}\n' % c["badjson"])
w("/etc/app/secrets.yaml", "db_host: %s\nport: 5432\n" % c["secretfile"])
w("/etc/app/server.key.json", '{"db_host": "%s"}\n' % c["keyjson"])
w("/etc/app/app.env", "DATABASE_URL=postgres://shop:%s@dbhost-env.internal:5432/shopdb\nLABEL=%s\n"
  % (c["urlenv"], allc["ctl"]))
w("/etc/default/shop", "DATABASE_URL=postgres://shop:%s@dbhost-text.internal/shopdb\n" % c["urltext"])
w("/etc/app.properties", "jdbc.url=jdbc:postgresql://dbhost-jdbc.internal/shop?user=shop&password=%s&ssl=true\n"
  % c["jdbc"])
w("/etc/app/remote.ini", "[remote]\nurl = https://deploy:%s@git-ini.internal/repo.git\n" % c["urlini"])
w("/etc/nslcd.conf", "uri ldap://ldap.internal/\nbindpw %s\n" % c["bindpw"])
w("/etc/openldap/slapd.conf", "suffix dc=example\nrootpw %s\n" % c["rootpw"])
w("/etc/app/ci.yaml", "\n".join("%s: %s" % (k, c[k]) for k in
  ("ghp", "ghpat", "glpat", "slack", "aws", "stripe", "jwt")) + "\nhost: ci.internal\n")
w("/etc/app/bundle.conf", "-----BEGIN CERTIFICATE-----\nMIIBpublicpart\n-----END CERTIFICATE-----\n"
  "-----BEGIN EC PRIVATE KEY-----\n%s\n-----END EC PRIVATE KEY-----\n" % c["pem"])
w("/etc/openvpn/client.conf", "client\nremote vpn.internal 1194\n<key>\n%s\n</key>\n<tls-crypt>\n%s\n</tls-crypt>\n"
  % (c["ovpnkey"], c["tlscrypt"]))
w("/etc/app/putty.conf", "PuTTY-User-Key-File-3: ssh-ed25519\nPublic-Lines: 1\nAAAApublic\nPrivate-Lines: 1\n%s\nPrivate-MAC: 00ff\n"
  % c["putty"])
w("/etc/app/multi.conf", "name = shop\nsecret_data =\n    %s\n    more-%s\nafter = 1\n" % (c["multiline"], c["multiline"]))
w("/etc/app/alias.yaml", "# old password: %s\nbase: &tok %s\nmy_token: *tok\nhost: yaml.internal\n"
  % (c["yamlcomment"], c["yamlalias"]))
EOF
}
plant "$P" prod
plant "$S" stag

init_store "$DB"
LOG=$TMP/log
: >"$LOG"
logrun() { ed "$@"; printf '%s\n%s\n' "$OUT" "$ERR" >>"$LOG"; }
# A second connection keeps the WAL (and -shm) alive for the search.
"$T_PY" -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute("select count(*) from snapshots").fetchall()
open(sys.argv[2], "w").close(); time.sleep(120)' "$DB" "$TMP/holder.ready" &
HOLDER=$!
for _ in $(seq 1 200); do [ -e "$TMP/holder.ready" ] && break; sleep 0.05; done
logrun --db "$DB" collect --env production --host p1 --root "$P" --path /etc --packages none
exits 0 "collect production"
PID_=$OUT
logrun --db "$DB" collect --env staging --host s1 --root "$S" --path /etc --packages none
exits 0 "collect staging"
SID=$OUT
REPORTS=()
for f in text json junit sarif markdown html; do
	logrun --db "$DB" diff production staging --format "$f" --out "$TMP/diff.$f"
	exits 1 "diff --format $f: drift (every secret differs)"
	REPORTS+=("$TMP/diff.$f")
done
logrun --db "$DB" gate
logrun --db "$DB" report
logrun --db "$DB" export production --out "$TMP/export.json"
exits 0 "export"
REPORTS+=("$TMP/export.json")

# --- what each class stores ---
fpx() { q "$DB" "select lower(hex(fingerprint)) from items where snapshot_id=$PID_ and key='$1'"; }
attrs() { q "$DB" "select attrs from items where snapshot_id=$PID_ and key='$1'"; }
val() { q "$DB" "select value from items where snapshot_id=$PID_ and key='$1'"; }
for f in /etc/redis/redis.conf /etc/app/bad.json /etc/app/secrets.yaml /etc/app/server.key.json \
	/etc/app/app.env /etc/default/shop /etc/app.properties /etc/app/remote.ini /etc/nslcd.conf \
	/etc/openldap/slapd.conf /etc/app/ci.yaml /etc/app/bundle.conf /etc/openvpn/client.conf \
	/etc/app/putty.conf /etc/app/multi.conf /etc/app/alias.yaml; do
	h=$(xxh128sum <"$P$f" | cut -d' ' -f1)
	isnt "$(fpx "$f")" "$h" "$f: its fingerprint is not the XXH3-128 of its bytes"
	like "$(attrs "$f")" '"secret":true' "$f: marked secret (keyed)"
done
H_CTL=$(printf 'plain = 1\n' | tee "$P/etc/app/plain.conf" | xxh128sum | cut -d' ' -f1)
is "$(val /etc/app/secrets.yaml#/port)" "" "A.2 secrets.yaml: even port has no value"
like "$(attrs /etc/app/secrets.yaml#/db_host)" '"secret":true' "A.2 secrets.yaml#/db_host is secret"
like "$(attrs /etc/app/server.key.json#/db_host)" '"secret":true' "A.2 server.key.json#/db_host is secret"
is "$(val /etc/app/app.env#/DATABASE_URL)" '"postgres://shop:<secret>@dbhost-env.internal:5432/shopdb"' \
	"A.4 a credential URL keeps scheme, user, host, port and database; the password is masked"
like "$(attrs /etc/app/app.env#/DATABASE_URL)" '"masked":true' "  attrs say masked"
is "$(val '/etc/app.properties#/jdbc.url')" \
	'"jdbc:postgresql://dbhost-jdbc.internal/shop?user=shop&password=<secret>&ssl=true"' \
	"A.4 a JDBC URL keeps everything but the password parameter"
is "$(val /etc/app/remote.ini#/remote/url)" '"https://deploy:<secret>@git-ini.internal/repo.git"' \
	"A.4 an https URL in an INI keeps its host"
is "$(val /etc/app/ci.yaml#/host)" '"ci.internal"' "(control) a plain YAML value is stored"
is "$(val /etc/app/ci.yaml#/ghp)" '"<secret>"' "A.4 a GitHub token under a plain key is masked"
is "$(val /etc/app/alias.yaml#/base)" "" "A.6 a value aliased under my_token has no value under its anchor's key"
is "$(val /etc/app/alias.yaml#/host)" '"yaml.internal"' "(control) the rest of alias.yaml is stored"
is "$(val /etc/app/app.env#/LABEL)" "\"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ctl"])' "$TMP/canaries.json")\"" \
	"(control) a plain .env value is stored"

# --- searching ---
[ -e "$DB-wal" ] && cp "$DB-wal" "$TMP/store.db-wal.copy"
[ -e "$DB-shm" ] && cp "$DB-shm" "$TMP/store.db-shm.copy"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
sqlite3 "$DB" .dump >"$TMP/dump.sql"
# Kept content is zlib-compressed in the store: search it decompressed too.
"$T_PY" -c 'import sqlite3, sys, zlib
out = open(sys.argv[2], "wb")
for enc, d in sqlite3.connect(sys.argv[1]).execute("select encoding, data from contents"):
    out.write((zlib.decompress(d) if enc == "zlib" else d) + b"\n=====\n")' "$DB" "$TMP/contents.txt"
ARTIFACTS=("$DB" "$TMP/dump.sql" "$TMP/contents.txt" "$LOG" "${REPORTS[@]}")
for f in "$TMP/store.db-wal.copy" "$TMP/store.db-shm.copy" "$DB-wal" "$DB-shm"; do
	[ -e "$f" ] && ARTIFACTS+=("$f")
done
ok "the WAL was kept for the search" test -s "$TMP/store.db-wal.copy"
for host in dbhost-env.internal dbhost-text.internal dbhost-jdbc.internal git-ini.internal; do
	ok "the non-secret rest stays visible: $host in the store or its kept content" \
		grep -a -q -F "$host" "$TMP/dump.sql" "$TMP/contents.txt"
done
ok "kept redis.conf says requirepass <secret>" grep -q -F 'requirepass <secret>' "$TMP/contents.txt"
ok "kept client.conf keeps its remote line" grep -q -F 'remote vpn.internal 1194' "$TMP/contents.txt"

scan() { # NAME: every form of the canary NAME of both environments, in every artifact
	python3 - "$TMP/canaries.json" "$1" "${ARTIFACTS[@]}" <<'EOF'
import hashlib, json, re, subprocess, sys
allc, name, files = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3:]
def xxh128(b):
    r = subprocess.run(["xxh128sum"], input=b, stdout=subprocess.PIPE, check=True)
    return bytes.fromhex(r.stdout.split()[0].decode())
needles = {}
for env in ("prod", "stag"):
    v = allc[env][name]
    parts = [v] + [l for l in v.split("\n") if len(l) >= 8] if "\n" in v else [v]
    for i, p in enumerate(parts):
        b = p.encode()
        needles["%s.%s[%d]" % (env, name, i)] = [b]
        for form, fb in (("plain", b), ("json", json.dumps(p).encode())):
            for hn, h in (("xxh3-128", xxh128(fb)), ("sha256", hashlib.sha256(fb).digest())):
                needles["%s(%s %s.%s[%d])" % (hn, form, env, name, i)] = [h, h.hex().encode(), h.hex().upper().encode()]
def found(b, data):
    if b.isdigit() and len(b) < 8:
        return re.search(rb"(?<![0-9A-Za-z])" + b + rb"(?![0-9A-Za-z])", data) is not None
    return b in data
hits = []
for f in files:
    data = open(f, "rb").read()
    for n, bs in needles.items():
        if any(found(b, data) for b in bs):
            hits.append("%s in %s" % (n, f.rsplit("/", 1)[-1]))
print("\n".join(hits))
EOF
}
ctl=$(python3 - "$TMP/canaries.json" "$DB" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))["ctl"]
print("found" if v.encode() in open(sys.argv[2], "rb").read() else "missing")
EOF
)
is "$ctl" "found" "(control) the search finds a plain value in the store file"
for name in redis badjson secretfile keyjson urlenv urltext jdbc urlini bindpw rootpw ghp ghpat glpat \
	slack aws stripe jwt pem ovpnkey tlscrypt putty multiline yamlalias yamlcomment; do
	is "$(scan "$name")" "" "canary $name: not in store, WAL, SHM, dump, kept content, 6 diff formats, export, logs"
done
done_testing
