#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the store of one golden case: build-case.sh ENVDRIFT CASE_DIR WORK_DIR
#
# CASE_DIR may hold:
#   production/, staging/  the two hosts' trees, copied to WORK_DIR/production and
#                          WORK_DIR/staging; files get mode 0644 and folders 0755
#                          whatever git or the umask gave them
#   setup.sh               run as `bash setup.sh PRODUCTION_ROOT STAGING_ROOT WORK_DIR`
#                          after the copy: what git cannot hold (modes, symlinks,
#                          odd names, SQLite databases), or fleet hosts' trees
#   hosts                  a fleet instead of one host a side: lines "ENV HOST ROLE",
#                          each collected from WORK_DIR/hosts/HOST with --role ROLE
#   profile.ini            given to both collections (default: packages none, /etc)
#   policy.ini             copied to WORK_DIR/policy.ini (golden.sh passes it to diff)
# The store is WORK_DIR/store.db, with a fixed key (WORK_DIR/store.db.key), so
# secrets have the same keyed fingerprints in every run. Production is
# collected first (snapshot @1, host production-1), then staging (@2, staging-1);
# with a hosts file, in its order.
# Prints nothing on success; on failure, what failed, on stderr, and exits 2.
set -u
# Files setup.sh creates get 0644 and folders 0755, whatever the caller's umask.
umask 022
ENVDRIFT=$1 CASE=$2 W=$3
fail() { echo "build-case: $CASE: $*" >&2; exit 2; }

mkdir -p "$W" || fail "cannot create $W"
for side in production staging; do
	rm -rf "${W:?}/$side"
	mkdir -p "$W/$side"
	if [ -d "$CASE/$side" ]; then
		cp -R "$CASE/$side/." "$W/$side/" || fail "cannot copy $side"
	fi
	find "$W/$side" -type d -exec chmod 755 {} + &&
		find "$W/$side" -type f -exec chmod 644 {} + || fail "cannot set modes in $side"
done
if [ -f "$CASE/setup.sh" ]; then
	bash "$CASE/setup.sh" "$W/production" "$W/staging" "$W" || fail "setup.sh failed"
fi

DB=$W/store.db
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.key"
# 32 fixed bytes: keyed fingerprints of secrets are the same in every run.
printf 'envdrift-golden-fixed-key-32byte' >"$DB.key" && chmod 600 "$DB.key" || fail "cannot write the key"
"$ENVDRIFT" --db "$DB" init >/dev/null 2>"$W/init.err" || fail "init: $(cat "$W/init.err")"

rm -f "$W/policy.ini"
if [ -f "$CASE/policy.ini" ]; then
	cp "$CASE/policy.ini" "$W/policy.ini" || fail "cannot copy policy.ini"
fi

PROFILE=$W/profile.ini
if [ -f "$CASE/profile.ini" ]; then
	cp "$CASE/profile.ini" "$PROFILE"
else
	printf '[collect]\npath = /etc\npackages = none\nthreads = 1\n' >"$PROFILE"
fi
if [ -f "$CASE/hosts" ]; then
	while read -r env host role; do
		case $env in '' | '#'*) continue ;; esac
		"$ENVDRIFT" --db "$DB" collect --env "$env" --host "$host" --role "$role" \
			--root "$W/hosts/$host" --profile "$PROFILE" >/dev/null 2>"$W/collect-$host.err" ||
			fail "collect $env/$host: $(cat "$W/collect-$host.err")"
	done <"$CASE/hosts"
else
	for side in production staging; do
		"$ENVDRIFT" --db "$DB" collect --env "$side" --host "$side-1" --root "$W/$side" \
			--profile "$PROFILE" >/dev/null 2>"$W/collect-$side.err" ||
			fail "collect $side: $(cat "$W/collect-$side.err")"
	done
fi
