#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, "done means": a realistic production root (this machine's own /etc and
# dpkg status, copied) and a staging clone with a fixed list of intended changes.
# With the default profile and policy the diff lists exactly the intended changes
# (and what they touch) plus the shared SSH host keys, which rightly block; the
# same host collected twice lists nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

P=$TMP/prod
S=$TMP/stage
mkdir -p "$P/var/lib/dpkg"
cp -a /etc "$P/" 2>/dev/null || true
cp /var/lib/dpkg/status "$P/var/lib/dpkg/status"
printf 'web-1\n' >"$P/etc/hostname"
mkdir -p "$P/etc/app" "$P/etc/cron.d" "$P/etc/ssh"
printf '{"pool": 5, "host": "db1"}\n' >"$P/etc/app/app.json"
printf '17 3 * * * root /usr/local/bin/backup\n' >"$P/etc/cron.d/app-backup"
printf '\nPermitRootLogin yes\nMaxAuthTries 6\n' >>"$P/etc/ssh/sshd_config"
cp -a "$P" "$S"

# The intended changes, in staging only.
printf '{"pool": 10, "host": "db1"}\n' >"$S/etc/app/app.json"
rm "$S/etc/cron.d/app-backup"
sed -i 's/^PermitRootLogin yes$/PermitRootLogin no/; s/^MaxAuthTries 6$/MaxAuthTries 3/' "$S/etc/ssh/sshd_config"
printf 'deploy:x:1001:1001::/home/deploy:/bin/bash\n' >>"$S/etc/passwd"
printf 'deploy:x:1001:\n' >>"$S/etc/group"
printf 'deploy:!:19000:0:99999:7:::\n' >>"$S/etc/shadow"
printf 'deploy:!::\n' >>"$S/etc/gshadow"
# A package bump and a downgrade: two installed packages whose version starts with 1-9.
mapfile -t pk < <(awk 'BEGIN { RS = ""; FS = "\n" }
	/Status: install ok installed/ {
		n = ""; v = ""; a = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^Package: /) n = substr($i, 10)
			if ($i ~ /^Version: [1-9]/) v = substr($i, 10)
			if ($i ~ /^Architecture: /) a = substr($i, 15)
		}
		if (n != "" && v != "" && a != "") print n ":" a ":" v
	}' "$P/var/lib/dpkg/status" | head -2)
up=${pk[0]%%:*} down=${pk[1]%%:*}
python3 - "$S/var/lib/dpkg/status" "$up" "$down" <<'PY'
import sys
path, up, down = sys.argv[1:]
out = []
for st in open(path, encoding="utf-8", errors="surrogateescape").read().split("\n\n"):
    lines = st.split("\n")
    name = next((l[9:] for l in lines if l.startswith("Package: ")), None)
    if name in (up, down):
        lines = [("Version: " + (l[9:] + "+b9" if name == up else "0.1")) if l.startswith("Version: ") else l for l in lines]
    out.append("\n".join(lines))
open(path, "w", encoding="utf-8", errors="surrogateescape").write("\n\n".join(out))
PY

DB=$TMP/store.db
init_store "$DB"
ed --db "$DB" collect --env production --root "$P"
exits 0 "production: this machine's /etc and dpkg status"
A=$OUT
ed --db "$DB" collect --env production --root "$P" --full
exits 0 "production again, every file read"
B=$OUT
ed --db "$DB" diff "@$A" "@$B"
exits 0 "the same host collected twice: exit 0"
contains "$OUT" "no drift" "  and no drift"
ed --db "$DB" collect --env staging --root "$S"
exits 0 "staging: the clone with the intended changes"

ed --db "$DB" diff production staging --format json
exits 1 "diff production staging: drift"
keys=$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for e in d["drift"]:
    print(e["kind"], e["key"], e["change"], e.get("severity"))' | sort)
hostkeys=$(cd "$P" && for k in etc/ssh/ssh_host_*_key; do [ -f "$k" ] && printf 'file /%s changed block\n' "$k"; done)
expected=$(sort <<EXP
account group/deploy added warn
account user/deploy added warn
config /etc/app/app.json#/pool changed warn
config /etc/ssh/sshd_config#/MaxAuthTries changed warn
config /etc/ssh/sshd_config#/PermitRootLogin changed warn
file /etc/app/app.json changed warn
file /etc/cron.d/app-backup removed warn
file /etc/group changed warn
file /etc/gshadow changed warn
file /etc/passwd changed warn
file /etc/shadow changed warn
file /etc/ssh/sshd_config changed warn
package dpkg:$up:${pk[0]#*:} changed info
package dpkg:$down:${pk[1]#*:} changed block
$hostkeys
EXP
)
expected=$(printf '%s\n' "$expected" | sed '/^$/d' | sed -E 's/^(package dpkg:[^:]+:[^:]+):[^ ]* /\1 /' | sort)
is "$keys" "$expected" "exactly the intended changes and what they touch, plus the shared SSH host keys"
diag "staging drift: $(printf '%s\n' "$keys" | wc -l) entries; blocking: $(printf '%s\n' "$keys" | grep -c ' block$')"
ed --db "$DB" gate --production production --staging staging
exits 1 "gate blocks (the downgrade and the shared host keys)"

# Issue 18: on this machine's real /etc, what is secret, and why. Printed for the
# note; pinned as rules, since each machine's /etc differs: every secret file is a
# true secret (a private key by path or content, a shadow file, a file that holds
# a credential), and no public key, certificate, PAM file or script is among them.
secrets=$(q "$DB" "select key || '  ' || json_extract(attrs, '$.because') || case when attrs like '%\"masked\":true%' then ' (masked)' else '' end
	from items_v where snapshot_id = $A and kind = 'file' and attrs like '%\"secret\":true%' order by key")
diag "files classified secret on this machine's /etc (production @$A):"
diag "$secrets"
false_secret=$(printf '%s\n' "$secrets" | grep -v '^$' | grep -Ev \
	'  path /etc/(g?shadow-?|ssh/ssh_host_\*_key|ssl/private/\*)( |$)|  PEM private key|  (secret text|config with a secret value|masked text)|  name (\*\.key|\*\.p12|\*\.pfx|\*\.jks|\*\.keytab|id_(rsa|dsa|ecdsa|ed25519))$|  name like key ')
is "$false_secret" "" "every secret file is one by path, private key, credential-bearing content or a secret name"
unlike "$secrets" '\.pub  |/pam\.d/|/ssl/certs/|update\.d/jks-keystore' \
	"no public key, CA certificate, PAM file or keystore script is secret"

done_testing
