#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A verdict teams can trust (issue 12): with the default profile and policy,
# every blocking line is a real problem, and every real problem is there.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# --- 1. must-differ only between two environments ---
# The rule stops staging from reusing production's secrets; between two
# snapshots of one environment an equal secret is the expected case.
DB=$TMP/md.db
R=$TMP/md
mkdir -p "$R/etc/app"
printf 'password = hunter2\nhost = db1\n' >"$R/etc/app/db.conf"
printf 'not really a key\n' >"$R/etc/app/server.key"
printf '{"api_token": "t0k3n", "pool": 5}\n' >"$R/etc/app/app.json"
init_store "$DB"
for env in production production staging; do
	ed --db "$DB" collect --env "$env" --root "$R" --packages none
	exits 0 "collect $env"
done
ed --db "$DB" diff @1 @2
exits 0 "diff of two snapshots of one unchanged host: no drift"
contains "$OUT" "no drift" "  and it says so"
unlike "$OUT" "same secret" "  no must-differ line"
for fmt in json junit markdown html sarif; do
	ed --db "$DB" diff @1 @2 --format "$fmt"
	exits 0 "  --format $fmt: exit 0 too"
done
ed --db "$DB" gate --production production --staging production
exits 0 "gate of an environment against itself passes"
ed --db "$DB" diff production staging
exits 1 "production against staging: the shared secrets still block"
contains "$OUT" "changed [block] /etc/app/db.conf  the same secret on both sides" "  the file holding a password"
contains "$OUT" "changed [block] /etc/app/server.key  the same secret on both sides" "  the file secret by name"
contains "$OUT" "/etc/app/app.json#/api_token" "  the config leaf"
ed --db "$DB" gate --production production --staging staging
exits 1 "gate production against staging blocks"
# A line naming where a key file lies (nginx's ssl_certificate_key) holds no secret:
# the file is not keyed, and identical on both sides it is no shared secret.
for env in production staging; do
	mkdir -p "$TMP/ng-$env/etc/nginx"
	printf 'server {\n  ssl_certificate_key /etc/ssl/private/site.key;\n  listen 443 ssl;\n}\n' \
		>"$TMP/ng-$env/etc/nginx/nginx.conf"
	ed --db "$TMP/ng.db" init
	ed --db "$TMP/ng.db" collect --env "$env" --root "$TMP/ng-$env" --packages none
done
is "$(q "$TMP/ng.db" "select coalesce(attrs, 'none') from items_v where key = '/etc/nginx/nginx.conf' limit 1")" "none" \
	"nginx.conf naming its key file's path is not a secret file"
ed --db "$TMP/ng.db" diff production staging
exits 0 "  identical on both sides: no must-differ block"
# report's history section compares each environment with itself.
ed --db "$DB" collect --env staging --root "$R" --packages none
ed --db "$DB" report --since 1h
history=$(printf '%s\n' "$OUT" | sed -n '/^== staging: what changed/,/^== /p')
contains "$history" "no drift" "report: staging's two snapshots in the window are compared: no drift"
unlike "$history" "same secret" "  its own history holds no must-differ line"

# --- 4. tool backups are not collected by default ---
B=$TMP/backups
mkdir -p "$B/etc/ssh"
for f in passwd group shadow gshadow; do
	printf 'root:x:0:0\n' >"$B/etc/$f"
	printf 'root:x:0:0\n' >"$B/etc/$f-"
done
printf 'a\n' >"$B/etc/app.conf~"
printf 'Port 22\n' >"$B/etc/ssh/sshd_config"
printf 'Port 2222\n' >"$B/etc/ssh/sshd_config.ucf-dist"
printf 'x\n' >"$B/etc/ssh/sshd_config.dpkg-old"
printf 'x\n' >"$B/etc/app-1.conf"
DB2=$TMP/backups.db
init_store "$DB2"
ed --db "$DB2" collect --env production --root "$B" --packages none
exits 0 "collect a tree with tool backups"
is "$(q "$DB2" "select group_concat(key, ' ') from (select key from items_v where kind = 'file' and key like '/etc/%' order by key)")" \
	"/etc/app-1.conf /etc/group /etc/gshadow /etc/passwd /etc/shadow /etc/ssh /etc/ssh/sshd_config" \
	"  passwd-, *~, *.ucf-dist, *.dpkg-old are left out; app-1.conf is not a backup"
printf '[collect]\nexclude =\n' >"$TMP/all.ini"
ed --db "$DB2" collect --env production --root "$B" --packages none --profile "$TMP/all.ini"
exits 0 "a profile's empty exclude collects them"
is "$(q "$DB2" "select count(*) from items_v where snapshot_id = $OUT and kind = 'file' and key like '/etc/passwd-'")" "1" "  /etc/passwd- among them"

# --- 8. files on disk: the store and what is written from it are private ---
P=$TMP/perm
mkdir -p "$P"
mode() { stat -c %a "$1"; }
(
	umask 022
	"$ENVDRIFT" --db "$P/s.db" init 2>/dev/null
	"$ENVDRIFT" --db "$P/s.db" collect --env production --root "$R" --packages none >/dev/null 2>&1
	"$ENVDRIFT" --db "$P/s.db" diff @1 @1 --out "$P/r.txt" >/dev/null 2>&1
	"$ENVDRIFT" --db "$P/s.db" report --pair production:production --out "$P/report.txt" >/dev/null 2>&1
	"$ENVDRIFT" --db "$P/s.db" export @1 --out "$P/doc.json" >/dev/null 2>&1
	"$ENVDRIFT" collect --env production --root "$R" --packages none --out "$P/c.json" --key "$P/s.db.key" >/dev/null 2>&1
	sqlite3 "$P/s.db" 'PRAGMA journal_mode' >/dev/null
)
for f in s.db s.db.key r.txt report.txt doc.json c.json; do
	is "$(mode "$P/$f")" "600" "umask 022: $f is 0600"
done
for f in s.db-wal s.db-shm; do
	[ -e "$P/$f" ] && is "$(mode "$P/$f")" "600" "umask 022: $f is 0600"
done
grp=$(id -gn)
ed --db "$P/g.db" init --group "$grp"
exits 0 "init --group $grp"
is "$(stat -c '%a %G' "$P/g.db")" "640 $grp" "  the store is 0640, group $grp"
is "$(mode "$P/g.db.key")" "600" "  its key stays 0600"
ed --db "$P/g.db" collect --env production --root "$R" --packages none
ed --db "$P/g.db" diff @1 @1 --out "$P/g.txt"
exits 0 "a report written from the shared store"
is "$(stat -c '%a %G' "$P/g.txt")" "640 $grp" "  is 0640, group $grp"
ed --db "$P/n.db" init --group no-such-group-here
exits 2 "init --group with an unknown group fails"
contains "$ERR" "--group no-such-group-here: no such group" "  naming it"
nok "  and leaves no store behind" test -e "$P/n.db"

# --- 4. a fact a side could not observe is unknown, not removed ---
U=$TMP/image
mkdir -p "$U/etc"
cp /etc/os-release "$U/etc/os-release" 2>/dev/null || cp /usr/lib/os-release "$U/etc/os-release"
[ -L /etc/localtime ] && cp -P /etc/localtime "$U/etc/localtime"
[ -f /etc/timezone ] && cp /etc/timezone "$U/etc/timezone"
for f in /etc/default/locale /etc/locale.conf /usr/lib/os-release; do
	[ -f "$f" ] && mkdir -p "$U$(dirname "$f")" && cp "$f" "$U$f"
done
DB3=$TMP/unknown.db
init_store "$DB3"
ed --db "$DB3" collect --env production --root / --path /etc/os-release --packages none
exits 0 "production: the running machine (its /proc)"
ed --db "$DB3" collect --env staging --root "$U" --path /etc/os-release --packages none
exits 0 "staging: an image under --root, no /proc"
is "$(q "$DB3" "select group_concat(key, ' ') from (select key from items_v where snapshot_id = $OUT and kind = 'system' and attrs like '%\"unknown\":true%' order by key)")" \
	"arch kernel/release sysctl/fs.file-max sysctl/kernel.pid_max sysctl/net.core.somaxconn sysctl/net.ipv4.ip_local_port_range sysctl/vm.overcommit_memory sysctl/vm.swappiness" \
	"  the eight facts it cannot observe are recorded as unknown"
ed --db "$DB3" diff production staging --format json
is "$(printf '%s' "$OUT" | json_get '[e["key"] for e in d["drift"] if e["kind"] == "system"]')" "[]" \
	"  and none of them is drift"

# --- 4. a Python distribution installed by dpkg is dpkg's, not pypi's too ---
Y=$TMP/py
mkdir -p "$Y/var/lib/dpkg" "$Y/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info" \
	"$Y/usr/local/lib/python3.11/dist-packages/requests-2.31.0.dist-info"
printf 'Package: python3-yaml\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.0-3+b2\n\n' >"$Y/var/lib/dpkg/status"
printf 'Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n\n' >"$Y/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA"
printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\n' >"$Y/usr/local/lib/python3.11/dist-packages/requests-2.31.0.dist-info/METADATA"
DB4=$TMP/py.db
init_store "$DB4"
ed --db "$DB4" collect --env production --root "$Y" --path /var/lib/dpkg --packages dpkg,pypi
exits 0 "collect dpkg and pypi"
is "$(q "$DB4" "select group_concat(key, ' ') from (select key from items_v where kind = 'package' order by key)")" \
	"dpkg:python3-yaml:amd64 pypi:requests" "  PyYAML under /usr/lib/python3 is dpkg's python3-yaml only; pip's requests is pypi's"
printf '[collect]\npath = /var/lib/dpkg\n[python]\nsite_packages = /usr/lib/python3/dist-packages\n' >"$TMP/py.ini"
ed --db "$DB4" collect --env production --root "$Y" --path /var/lib/dpkg --packages pypi --profile "$TMP/py.ini"
exits 0 "a profile that names /usr/lib/python3/dist-packages"
is "$(q "$DB4" "select group_concat(key, ' ') from items_v where snapshot_id = $OUT and kind = 'package'")" "pypi:pyyaml" "  reads it anyway"

# --- 3. profile edits reach unchanged files; diff says when settings differ ---
PR=$TMP/prof
mkdir -p "$PR/etc"
printf 'hunter2\n' >"$PR/etc/db.passwd"
printf 'UUID=x / ext4 defaults 0 1\n' >"$PR/etc/fstab"
DB5=$TMP/prof.db
init_store "$DB5"
ed --db "$DB5" collect --env production --root "$PR" --packages none
first=$OUT
is "$(q "$DB5" "select attrs from items_v where snapshot_id = $first and key = '/etc/db.passwd'")" '{"secret":true,"because":"name like key *passwd*"}' \
	"/etc/db.passwd is secret by the default *passwd* pattern"
printf '[secrets]\nkeys = *password* *secret* *token*\n' >"$TMP/nopasswd.ini"
ed --db "$DB5" collect --env production --root "$PR" --packages none --profile "$TMP/nopasswd.ini"
exits 0 "collect again without *passwd* in [secrets] keys, nothing changed on disk"
second=$OUT
contains "$ERR" "(settings changed since @$first: every file read)" "  the closing line says every file was read again"
is "$(q "$DB5" "select coalesce(attrs, 'none') from items_v where snapshot_id = $second and key = '/etc/db.passwd'")" "none" \
	"  /etc/db.passwd is no longer secret (no stat-cache reuse across settings)"
ed --db "$DB5" diff "@$first" "@$second"
contains "$ERR" "warning: @$first (production/" "diff of snapshots taken with different settings warns"
contains "$ERR" "and @$second (production/" "  naming both snapshots"
is "$(printf '%s\n' "$ERR" | grep -c 'different rules')" "1" "  once"
ed --db "$DB5" collect --env production --root "$PR" --packages none --profile "$TMP/nopasswd.ini"
third=$OUT
like "$ERR" "0 files hashed .* 2 unchanged, 0 read key by key; a delta on @$second" "the same settings again: unchanged files reused, a delta"
ed --db "$DB5" diff "@$second" "@$third"
unlike "$ERR" "different rules" "  and diff does not warn"

# --- 6. where configuration lives ---
C=$TMP/trees
mkdir -p "$C/etc/app/node_modules/lib" "$C/usr/share/botocore/data" "$C/usr/local/etc" "$C/srv/shop/conf" \
	"$C/usr/share/man/man1"
printf '{"pool": 5}\n' >"$C/etc/app/app.json"
printf '{"name": "lib", "version": "1.0"}\n' >"$C/etc/app/node_modules/lib/package.json"
printf '{"operations": {"A": 1, "B": 2}}\n' >"$C/usr/share/botocore/data/service-2.json"
printf 'port: 8080\n' >"$C/usr/local/etc/app.yaml"
printf 'workers: 4\n' >"$C/srv/shop/conf/shop.yaml"
printf 'passwd(1) manual\n' >"$C/usr/share/man/man1/passwd.1.gz"
python3 -c 'import json; print(json.dumps({"k%d" % i: i for i in range(6000)}))' >"$C/etc/app/big.json"
DB6=$TMP/trees.db
init_store "$DB6"
ed --db "$DB6" collect --env production --root "$C" --path /etc --path /usr --path /srv --packages none
exits 0 "collect /etc, /usr and /srv"
cfg=$(q "$DB6" "select group_concat(key, ' ') from (select key from items_v where snapshot_id = $OUT and kind = 'config' order by key)")
is "$cfg" "/etc/app/app.json#/pool /srv/shop/conf/shop.yaml#/workers /usr/local/etc/app.yaml#/port" \
	"  configs are read key by key in /etc, /usr/local/etc and a --path tree only"
contains "$ERR" "3 read key by key" "  the closing line says how many files were read key by key"
contains "$ERR" "envdrift collect: info: /etc/app/big.json: 6000 keys, more than [formats] max_keys (5000): fingerprinted whole" \
	"  a file of 6000 keys is fingerprinted whole, with a note"
is "$(q "$DB6" "select coalesce(attrs, 'none') from items_v where snapshot_id = $OUT and key = '/usr/share/man/man1/passwd.1.gz'")" "none" \
	"  passwd.1.gz under /usr/share is not a secret"
printf '[formats]\nconfig_trees = /etc /usr/share/botocore\nmax_keys = 10000\n' >"$TMP/trees.ini"
ed --db "$DB6" collect --env production --root "$C" --path /etc --path /usr --profile "$TMP/trees.ini" --packages none
exits 0 "a profile's config_trees and max_keys"
is "$(q "$DB6" "select count(*) from items_v where snapshot_id = $OUT and kind = 'config' and key like '/usr/share/botocore/%'")" "2" \
	"  a config_trees glob reads a tree under /usr"
is "$(q "$DB6" "select count(*) from items_v where snapshot_id = $OUT and kind = 'config' and key like '/etc/app/big.json#%'")" "6000" \
	"  max_keys = 10000 reads the 6000-key file"

# --- 5. users, groups and sshd settings are items of their own ---
for side in prod stage; do
	mkdir -p "$TMP/$side/etc/ssh/sshd_config.d"
	printf 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n' >"$TMP/$side/etc/passwd"
	printf 'root:x:0:\nsudo:x:27:\n' >"$TMP/$side/etc/group"
	printf 'root:$6$salt$hash:19000:0:99999:7:::\n' >"$TMP/$side/etc/shadow"
	printf '#MaxAuthTries 6\n# PasswordAuthentication yes\nPort 22\nPermitRootLogin yes\nPasswordAuthentication yes\nPubkeyAuthentication yes\nHostKey /etc/ssh/ssh_host_rsa_key\nHostKey /etc/ssh/ssh_host_ed25519_key\nMatch User backup\n  AllowTcpForwarding yes\n' >"$TMP/$side/etc/ssh/sshd_config"
done
printf 'deploy:x:1001:1001:Deploy Person,,,:/home/deploy:/bin/bash\n' >>"$TMP/stage/etc/passwd"
printf 'deploy:x:1001:\n' >>"$TMP/stage/etc/group"
sed -i 's/^sudo:x:27:$/sudo:x:27:deploy/' "$TMP/stage/etc/group"
sed -i 's/^PermitRootLogin yes/PermitRootLogin no/; s/^  AllowTcpForwarding yes/  AllowTcpForwarding no/' "$TMP/stage/etc/ssh/sshd_config"
DB7=$TMP/accounts.db
init_store "$DB7"
ed --db "$DB7" collect --env production --root "$TMP/prod" --packages none
ed --db "$DB7" collect --env staging --root "$TMP/stage" --packages none
is "$(q "$DB7" "select value from items_v where env = 'staging' and kind = 'account' and key = 'user/deploy'")" \
	"uid=1001 gid=1001 home=/home/deploy shell=/bin/bash" "a user is an account item: uid, gid, home, shell"
unlike "$(q "$DB7" "select group_concat(coalesce(value, ''), ' ') from items_v where kind = 'account'")" "Deploy Person" \
	"  the GECOS field (a person's name) is not recorded"
is "$(q "$DB7" "select count(*) from items_v where kind = 'account' and key like '%shadow%' or (kind = 'account' and value like '%\$6\$%')")" "0" \
	"  nothing is read from /etc/shadow"
ed --db "$DB7" diff production staging
contains "$OUT" "added   [warn] user/deploy  uid=1001 gid=1001 home=/home/deploy shell=/bin/bash" "diff: the new user is one account line"
contains "$OUT" "group/sudo" "  the group that gained a member"
contains "$OUT" '/etc/ssh/sshd_config#/PermitRootLogin  value "yes" -> "no"' "  PermitRootLogin yes -> no is one config line"
contains "$OUT" '/etc/ssh/sshd_config#/Match User backup/AllowTcpForwarding' "  a Match block is a level of the key"
unlike "$OUT" "PasswordAuthentication\|PubkeyAuthentication" "  unchanged settings named like secrets are no drift"
is "$(q "$DB7" "select value from items_v where env = 'staging' and key = '/etc/ssh/sshd_config#/PasswordAuthentication'")" '"yes"' \
	"  PasswordAuthentication is a visible value, not a secret"
is "$(q "$DB7" "select value from items_v where env = 'staging' and key = '/etc/ssh/sshd_config#/HostKey'")" \
	'["/etc/ssh/ssh_host_rsa_key","/etc/ssh/ssh_host_ed25519_key"]' "  a repeated keyword is one leaf, its values in order"
is "$(q "$DB7" "select coalesce(attrs, 'none') from items_v where env = 'staging' and key = '/etc/passwd'")" "none" \
	"/etc/passwd (world-readable, read as accounts) is not a secret file"
is "$(q "$DB7" "select attrs from items_v where env = 'staging' and key = '/etc/shadow'")" '{"secret":true,"because":"path /etc/shadow"}' "/etc/shadow is"
kept_ssh=$(python3 - "$DB7" <<'PY'
import sqlite3, sys, zlib
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
row = c.execute("""SELECT c.data FROM items_v i JOIN contents c ON lower(hex(c.fingerprint)) = i.fingerprint
                   WHERE i.env = 'staging' AND i.key = '/etc/ssh/sshd_config' AND c.encoding = 'zlib'""").fetchone()
sys.stdout.write(zlib.decompress(row[0]).decode() if row else "(none)")
PY
)
contains "$kept_ssh" "#MaxAuthTries 6" "kept sshd_config: a comment naming no secret is kept as written"
contains "$kept_ssh" "# PasswordAuthentication yes" "  and so is one naming a setting of this file"

# --- 7. reading the verdict ---
# Every text line says its verdict and blocking lines come first within their kind, in
# every format; kept content's diffs show in text (--diff), Markdown and JUnit as in HTML;
# an ignored line says the policy's reason.
V=$TMP/verdict
for env in production staging; do
	mkdir -p "$V/$env/etc/app" "$V/$env/etc/nginx"
	printf 'worker_processes 4;\nuser www;\n' >"$V/$env/etc/nginx/nginx.conf"
	printf 'mode = a\n' >"$V/$env/etc/app/a.conf"
	printf 'locale = en\n' >"$V/$env/etc/app/z.conf"
done
printf 'worker_processes 2;\nuser www;\n' >"$V/staging/etc/nginx/nginx.conf"
printf 'mode = b\n' >"$V/staging/etc/app/a.conf"
printf 'locale = C\n' >"$V/staging/etc/app/z.conf"
cat >"$V/policy.ini" <<'INI'
[expect "file /etc/app/z.conf"]
reason = staging runs with the C locale
[severity]
file /etc/nginx/* = block
INI
DB8=$V/store.db
init_store "$DB8"
for env in production staging; do
	ed --db "$DB8" collect --env "$env" --root "$V/$env" --packages none
	exits 0 "collect $env for the verdict"
done
cd "$V" || exit 1
ed --db "$DB8" diff production staging --policy policy.ini --show-ignored
exits 1 "diff --show-ignored"
files=$(printf '%s\n' "$OUT" | grep -E '^  (changed|added|removed) ' | grep -E ' /etc/(app|nginx)/')
is "$(printf '%s\n' "$files" | head -1)" "  changed [block] /etc/nginx/nginx.conf  content differs" \
	"  the blocking line is tagged and listed first, before the warnings in key order"
contains "$files" "  changed [warn] /etc/app/a.conf  content differs" "  a warning keeps its tag"
contains "$files" "  changed [ignored] /etc/app/z.conf  content differs  (ignored: staging runs with the C locale)" \
	"  an ignored line gives the policy's reason"
unlike "$OUT" "@@ " "  no unified diff without --diff"
ed --db "$DB8" diff production staging --policy policy.ini --diff
exits 1 "diff --diff"
contains "$OUT" $'  changed [block] /etc/nginx/nginx.conf  content differs\n      --- production /etc/nginx/nginx.conf\n      +++ staging /etc/nginx/nginx.conf\n      @@ -1,2 +1,2 @@\n      -worker_processes 4;\n      +worker_processes 2;\n       user www;\n' \
	"  --diff: the unified diff under its line"
ed --db "$DB8" diff production staging --policy policy.ini --format json
is "$(json_get 'd["drift"][0]["key"] + " " + d["drift"][0]["severity"]' <<<"$OUT")" "/etc/nginx/nginx.conf block" \
	"  json lists the blocking entry first too"
ed --db "$DB8" diff production staging --policy policy.ini --format markdown
contains "$OUT" $'<details><summary>diff of <code>/etc/nginx/nginx.conf</code> (2 lines)</summary>\n\n```diff\n--- production /etc/nginx/nginx.conf' \
	"  markdown: the diff folded in <details>"
ed --db "$DB8" diff production staging --policy policy.ini --format junit
contains "$OUT" $'diff:\n--- production /etc/nginx/nginx.conf\n+++ staging /etc/nginx/nginx.conf\n@@ -1,2 +1,2 @@\n-worker_processes 4;\n+worker_processes 2;\n user www;\n</failure>' \
	"  junit: the diff in the failure's body"
ed --db "$DB8" diff production staging --policy policy.ini --format sarif
is "$(json_get 'd["runs"][0]["tool"]["driver"]["version"]' <<<"$OUT")" "$("$ENVDRIFT" --version | head -1 | cut -d' ' -f2)" \
	"  sarif: the driver names its version"
unlike "$OUT" "all drift blocks" "  sarif: no rule help says all drift blocks"
ed --db "$DB8" diff @1 @1
contains "$OUT" "no drift: nothing changed in production" "a snapshot against itself: not \"production mirrors production\""
cd - >/dev/null || exit 1

# --- 2. what the package shipped is no secret of this environment ---
for env in production staging; do
	V2=$TMP/vendor-$env
	mkdir -p "$V2/etc/exim4" "$V2/etc/chromium.d" "$V2/var/lib/dpkg"
	printf '# password file used when the local exim is authenticating to a remote host\n# target.mail.server.example:login:password\n' >"$V2/etc/exim4/passwd.client"
	printf '# public API keys of the Debian build\nexport GOOGLE_API_KEY="AIzaSyCkfPOPZXDKNn8hhgu3JrA62wIgC93d44k"\n' >"$V2/etc/chromium.d/apikeys"
	printf 'hunter2\n' >"$V2/etc/exim4/local.passwd"
	{
		printf 'Package: exim4-config\nStatus: install ok installed\nArchitecture: all\nVersion: 4.96-15\nConffiles:\n'
		printf ' /etc/exim4/passwd.client %s\n' "$(md5sum <"$TMP/vendor-production/etc/exim4/passwd.client" | cut -d' ' -f1)"
		printf ' /etc/exim4/local.passwd %s obsolete\n' "$(md5sum <"$V2/etc/exim4/local.passwd" | cut -d' ' -f1)"
		printf '\nPackage: chromium\nStatus: install ok installed\nArchitecture: amd64\nVersion: 120.0-1\nConffiles:\n'
		printf ' /etc/chromium.d/apikeys %s\n' "$(md5sum <"$V2/etc/chromium.d/apikeys" | cut -d' ' -f1)"
		printf '\nPackage: gone\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 1\nConffiles:\n'
		printf ' /etc/exim4/local.passwd %s\n\n' "$(md5sum <"$V2/etc/exim4/local.passwd" | cut -d' ' -f1)"
	} >"$V2/var/lib/dpkg/status"
done
DB9=$TMP/vendor.db
init_store "$DB9"
ed --db "$DB9" collect --env production --root "$TMP/vendor-production" --packages dpkg
ed --db "$DB9" collect --env staging --root "$TMP/vendor-staging" --packages dpkg
is "$(q "$DB9" "select group_concat(key || '=' || coalesce(attrs, 'none'), ' ') from (select key, attrs from items_v where env = 'staging' and kind = 'file' and key in ('/etc/exim4/passwd.client', '/etc/chromium.d/apikeys', '/etc/exim4/local.passwd') order by key)")" \
	'/etc/chromium.d/apikeys={"vendor":true} /etc/exim4/local.passwd={"secret":true,"because":"name like key *passwd*"} /etc/exim4/passwd.client={"vendor":true}' \
	"conffiles as dpkg shipped them are vendor files; an obsolete or uninstalled package's are not"
is "$(q "$DB9" "select fingerprint from items_v where env = 'staging' and key = '/etc/exim4/passwd.client'")" \
	"$(xxh128sum <"$TMP/vendor-staging/etc/exim4/passwd.client" | cut -d' ' -f1)" "  a vendor file's fingerprint is its plain XXH3-128"
ed --db "$DB9" diff production staging
contains "$OUT" "changed [block] /etc/exim4/local.passwd  the same secret on both sides" "  a real shared secret still blocks"
unlike "$OUT" "passwd.client\|apikeys" "  the shipped files are no drift and no shared secret"
printf 'mail.example:login:s3cr3t\n' >>"$TMP/vendor-staging/etc/exim4/passwd.client"
ed --db "$DB9" collect --env staging --root "$TMP/vendor-staging" --packages dpkg
is "$(q "$DB9" "select attrs from items_v where snapshot_id = $OUT and key = '/etc/exim4/passwd.client'")" '{"secret":true,"because":"name like key *passwd*"}' \
	"  once edited (not as shipped), passwd.client is a secret file again"

# --- 2. the same for rpm: config files as the package shipped them (rpm -V's digests) ---
if command -v rpmbuild >/dev/null && command -v rpm >/dev/null; then
	R=$TMP/rpm
	mkdir -p "$R/SPECS"
	cat >"$R/SPECS/shipped.spec" <<'SPEC'
Name: shipped
Version: 1.0
Release: 1
Summary: config files named like secrets, as shipped
License: MIT
BuildArch: noarch
%description
A test package.
%install
mkdir -p %{buildroot}/etc/app
printf '# credentials of the app go here, one per line\n# user:password\n' >%{buildroot}/etc/app/passwd.conf
printf 'changeme-0123456789abcdef\n' >%{buildroot}/etc/app/secret.key
%files
%config(noreplace) /etc/app/passwd.conf
%config(noreplace) /etc/app/secret.key
SPEC
	run rpmbuild -bb --define "_topdir $R" --define "_rpmdir $R/out" --define "_tmppath $R/tmp" "$R/SPECS/shipped.spec"
	exits 0 "rpmbuild: a package with two config files named like secrets"
	for env in production staging; do
		mkdir -p "$TMP/rpm-$env/var/lib/rpm"
		rpm --root "$TMP/rpm-$env" --dbpath /var/lib/rpm --initdb
		run rpm --root "$TMP/rpm-$env" --dbpath /var/lib/rpm -i --nodeps --nosignature "$R"/out/noarch/shipped-1.0-1.noarch.rpm
	done
	exits 0 "  installed into a production and a staging root"
	DB10=$TMP/rpmvendor.db
	init_store "$DB10"
	ed --db "$DB10" collect --env production --root "$TMP/rpm-production" --path /etc --packages rpm
	ed --db "$DB10" collect --env staging --root "$TMP/rpm-staging" --path /etc --packages rpm
	exits 0 "  both collected"
	is "$(q "$DB10" "select group_concat(key || '=' || coalesce(attrs, 'none'), ' ') from (select key, attrs from items_v where env = 'staging' and kind = 'file' and key like '/etc/app/%' order by key)")" \
		'/etc/app/passwd.conf={"vendor":true} /etc/app/secret.key={"vendor":true}' \
		"config files as rpm shipped them are vendor files"
	ed --db "$DB10" gate --production production --staging staging
	exits 0 "  and the gate passes: no shared secret"
	printf 'p4ssw0rd-of-staging\n' >"$TMP/rpm-staging/etc/app/secret.key"
	ed --db "$DB10" collect --env staging --root "$TMP/rpm-staging" --path /etc --packages rpm
	is "$(q "$DB10" "select attrs from items_v where snapshot_id = $OUT and key = '/etc/app/secret.key'")" '{"secret":true,"because":"name *.key"}' \
		"  once edited, secret.key is a secret file"
	ed --db "$DB10" diff production staging
	contains "$OUT" "/etc/app/secret.key" "  and its change is drift"
else
	skip "rpm vendor files" "rpmbuild not installed"
fi

# --- issue 18: public is not secret: decided by what a file holds where its name is ambiguous ---
for env in production staging; do
	P=$TMP/pub-$env
	mkdir -p "$P/etc/ssh" "$P/etc/ssl/certs" "$P/etc/pam.d" "$P/etc/ca-certificates/update.d" "$P/etc/app"
	printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0pub0000000000000000000000000000000000000 root@host\n' >"$P/etc/ssh/ssh_host_ed25519_key.pub"
	printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-shared-host-key\n-----END OPENSSH PRIVATE KEY-----\n' >"$P/etc/ssh/ssh_host_ed25519_key"
	printf -- '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUshared-ca\n-----END CERTIFICATE-----\n' >"$P/etc/ssl/certs/corp-ca.pem"
	printf -- '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-%s\n-----END PRIVATE KEY-----\n' "$env" >"$P/etc/app/tls.pem"
	printf 'password\trequisite\t\t\tpam_pwquality.so retry=3\n' >"$P/etc/pam.d/common-password"
	printf '#!/bin/sh\n# rebuilds the java keystore\nexec update-java-keystore "$@"\n' >"$P/etc/ca-certificates/update.d/jks-keystore"
	chmod 755 "$P/etc/ca-certificates/update.d/jks-keystore"
done
DB11=$TMP/public.db
init_store "$DB11"
ed --db "$DB11" collect --env production --root "$TMP/pub-production" --packages none
ed --db "$DB11" collect --env staging --root "$TMP/pub-staging" --packages none
exits 0 "a host with public keys, a CA certificate, PAM and a keystore script"
is "$(q "$DB11" "select group_concat(key || '=' || coalesce(attrs, 'none'), ' ') from (select key, attrs from items_v where env = 'staging' and kind = 'file' and ftype = 'file' order by key)")" \
	'/etc/app/tls.pem={"secret":true,"because":"PEM private key"} /etc/ca-certificates/update.d/jks-keystore={"because":"executable or script: not secret by its name"} /etc/pam.d/common-password=none /etc/ssh/ssh_host_ed25519_key={"secret":true,"because":"path /etc/ssh/ssh_host_*_key"} /etc/ssh/ssh_host_ed25519_key.pub=none /etc/ssl/certs/corp-ca.pem={"because":"PEM: certificates and public keys only"}' \
	"secret only what is: a private key by content or path; a .pub, PAM, a script and a CA certificate are public, each saying why"
is "$(q "$DB11" "select fingerprint from items_v where env = 'staging' and key = '/etc/ssl/certs/corp-ca.pem'")" \
	"$(xxh128sum <"$TMP/pub-staging/etc/ssl/certs/corp-ca.pem" | cut -d' ' -f1)" "  a public certificate's fingerprint is its plain XXH3-128"
ed --db "$DB11" diff production staging
is "$(printf '%s\n' "$OUT" | grep -c '\[block\]')" 1 "  sharing them blocks once: the private host key, not the CA, the .pub, PAM or the script"
contains "$OUT" "changed [block] /etc/ssh/ssh_host_ed25519_key  the same secret on both sides" "    the private host key blocks"
contains "$OUT" "changed [warn] /etc/app/tls.pem" "    a private key that differs is drift, not a shared secret"
ed --db "$DB11" collect --env staging --root "$TMP/pub-staging" --packages none
like "$ERR" ' 0 files hashed' "  an unchanged public-by-content file is not read again"
is "$(q "$DB11" "select attrs from items_v where snapshot_id = $OUT and key = '/etc/ssl/certs/corp-ca.pem'")" \
	'{"because":"PEM: certificates and public keys only"}' "  and keeps its because"
printf -- '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAadded\n-----END RSA PRIVATE KEY-----\n' >>"$TMP/pub-staging/etc/ssl/certs/corp-ca.pem"
ed --db "$DB11" collect --env staging --root "$TMP/pub-staging" --packages none
is "$(q "$DB11" "select attrs from items_v where snapshot_id = $OUT and key = '/etc/ssl/certs/corp-ca.pem'")" \
	'{"secret":true,"because":"PEM private key"}' "  a private key appended to a certificate file makes it secret"
printf '[secrets]\npublic = *.pub\n' >"$TMP/nopam.ini"
ed --db "$DB11" collect --env staging --root "$TMP/pub-staging" --packages none --profile "$TMP/nopam.ini"
is "$(q "$DB11" "select attrs from items_v where snapshot_id = $OUT and key = '/etc/pam.d/common-password'")" \
	'{"secret":true,"because":"name like key *password*"}' "  the public list is the profile's: without /etc/pam.d/*, common-password is secret by name"

done_testing
