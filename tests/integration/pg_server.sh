# SPDX-License-Identifier: MIT
# Sourced by the tests that need a real PostgreSQL (after lib.sh): initdb into
# $TMP/pg, a server on a private socket folder (no TCP listener), stopped by
# the EXIT trap. Skips the whole test when no server is installed. Sets PGBIN,
# SOCK, PORT, PGDATA, AS (runuser when root) and CI, the connection string
# without a database ("host=SOCK port=PORT user=postgres"); psql from PGBIN
# comes first in PATH, which is where envdrift finds it; psql_c runs SQL in a database.
# The newest server installed (Debian: /usr/lib/postgresql/VERSION/bin), unless PGBIN says.
if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -1)
fi
for p in initdb pg_ctl pg_isready postgres psql; do
	if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/$p" ]; then
		echo "1..0 # SKIP postgres not installed (no ${PGBIN:-/usr/lib/postgresql/*/bin}/$p)"
		T_DONE=1
		exit 0
	fi
done
# initdb refuses to run as root: then the server runs as the postgres user.
AS=()
if [ "$(id -u)" = 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		echo "1..0 # SKIP postgres not installed (running as root and there is no postgres user)"
		T_DONE=1
		exit 0
	fi
	AS=(runuser -u postgres --)
fi
# envdrift runs `psql` from PATH: take the one beside the server.
export PATH="$PGBIN:$PATH"
unset PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS

PGROOT=$TMP/pg
PGDATA=$PGROOT/data
# A socket path must fit in 107 bytes: a short folder of its own when TMP is deep.
if [ ${#TMP} -gt 60 ]; then SOCK=$(mktemp -d /tmp/edpg.XXXXXX); else SOCK=$PGROOT/sock; fi
PORT=54329 # names the socket file only: there is no TCP listener, so no clash
mkdir -p "$PGROOT" "$SOCK"
chmod 755 "$PGROOT"
[ ${#AS[@]} -gt 0 ] && chown postgres: "$PGROOT" "$SOCK"

# shellcheck disable=SC2317 # both run from the EXIT trap
pg_stop() {
	[ -f "$PGDATA/postmaster.pid" ] || return 0
	"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 20 stop >/dev/null 2>&1
	# Still there: kill our own postmaster by the pid it wrote, nothing else.
	if [ -f "$PGDATA/postmaster.pid" ]; then
		local pid
		pid=$(head -1 "$PGDATA/postmaster.pid")
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	fi
}
# shellcheck disable=SC2317
pg_cleanup() {
	local rc=$?
	pg_stop
	[ "$SOCK" != "$PGROOT/sock" ] && rm -rf "$SOCK"
	(exit "$rc")
	t_cleanup
}
trap pg_cleanup EXIT

T0=$(ms)
if ! "${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C --no-sync \
	>"$PGROOT/initdb.log" 2>&1; then
	echo "Bail out! initdb failed: $(tail -5 "$PGROOT/initdb.log")"
	exit 2
fi
if ! "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGROOT/server.log" -w -t 30 \
	-o "-k $SOCK -c listen_addresses= -p $PORT -c fsync=off -c full_page_writes=off" \
	start >/dev/null 2>&1; then
	echo "Bail out! the test server did not start: $(tail -5 "$PGROOT/server.log")"
	exit 2
fi
if ! "$PGBIN/pg_isready" -q -h "$SOCK" -p "$PORT" -t 10; then
	echo "Bail out! the test server is not ready: $(tail -5 "$PGROOT/server.log")"
	exit 2
fi
diag "server ready in $(($(ms) - T0)) ms ($PGBIN)"

CI="host=$SOCK port=$PORT user=postgres"

# psql_c DB SQL...: each SQL run by psql in DB as postgres, unaligned, tuples only.
psql_c() { # DB SQL...
	local db=$1
	shift
	local a=()
	for s in "$@"; do a+=(-c "$s"); done
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$CI dbname=$db" "${a[@]}"
}
