#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark (issue 15): the data shape of a PostgreSQL database of N tables
# (default 200, 8 columns and 2,000 rows each, ANALYZEd) against the schema
# collection alone: `collect --schema` with and without --data-shape, best of
# 3 wall times (BENCH_RUNS=N for more) and the ratio (goal: <= 1.5x), with
# the CPU time of each, the server's share included, and the load average.
# Also the issue's full-size dataset for the data-shape drift: 200,000 customers and 1,000,000 orders
# (the default suite's tests/integration/data.sh runs a tenth of it), with
# the time of its data-shape collection. Starts its own server as
# tests/integration/data.sh does (needs PostgreSQL installed; as root it runs
# the server as the postgres user).
# Row fingerprinting (issue 15, section 2): a sensitive entry over a 2-column,
# 2,000,000-row table (ROWS), collected with `[data] sensitive`, against
# `psql -c "COPY (SELECT ...) TO STDOUT" > /dev/null` of the same columns in
# the same run: rows/s, the ratio (goal <= 1.3x: the HMAC is the only added
# work) and the collector's peak memory (goal < 32 MiB, /usr/bin/time -v).
# The collection also reads the catalog (the schema items): its time alone is
# printed, and the ratio given with and without it.
# Run on demand: bash bench/data.sh [N] [ROWS]; BENCH_PART=rows runs only the
# row fingerprinting, BENCH_PART=shape only the data shapes.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export ENVDRIFT=${ENVDRIFT:-$here/build/envdrift} SRCDIR=$here
n=${1:-200}
nrows=${2:-2000000}
part=${BENCH_PART:-all}
# lib.sh and pg_server.sh: the temporary folder, the server, its cleanup.
# shellcheck source=../tests/integration/lib.sh
. "$here/tests/integration/lib.sh"
# shellcheck source=../tests/integration/pg_server.sh
. "$here/tests/integration/pg_server.sh"
ps() { "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$CI dbname=$1" -c "$2"; }

runs=${BENCH_RUNS:-3}
# Wall clock in ms from bash itself: lib.sh's ms starts python, whose start-up
# would count inside every measure.
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((t / 1000)); }
# CPU ticks of the processes PID has waited for (its cutime + cstime).
reaped_ticks() { local f; read -r -a f <"/proc/$1/stat"; echo $((f[15] + f[16])); }
best() { # prints the best of $runs wall times (ms) of the command
	local b=999999 t0 t
	for ((i = 0; i < runs; i++)); do
		t0=$(now_ms)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
		t=$(($(now_ms) - t0))
		[ "$t" -lt "$b" ] && b=$t
	done
	echo "$b"
}
# best, then the mean CPU time (ms) of one run: the command and its children
# (psql), and the server's backends, which its postmaster reaps (an
# autovacuum worker that ends meanwhile counts too). Wall time moves with the
# load of a shared machine; CPU time much less.
best_cpu() {
	local me=$BASHPID pm c0 s0 b
	pm=$(head -1 "$PGDATA/postmaster.pid")
	c0=$(reaped_ticks "$me")
	s0=$(reaped_ticks "$pm")
	b=$(best "$@") || return 1
	echo "$b $(( ($(reaped_ticks "$me") - c0 + $(reaped_ticks "$pm") - s0) * 1000 / $(getconf CLK_TCK) / runs ))"
}
db=$TMP/bench.db
"$ENVDRIFT" --db "$db" init >/dev/null 2>&1
mkdir -p "$TMP/root/etc"

if [ "$part" = all ] || [ "$part" = rows ]; then
	ps postgres "CREATE DATABASE rows_bench" >/dev/null
	t0=$(ms)
	ps rows_bench "CREATE TABLE customer (id integer, email text, phone text);
INSERT INTO customer SELECT i, 'user' || i || '@example.com',
	CASE WHEN i % 50 = 0 THEN NULL ELSE '+1555' || lpad(i::text, 7, '0') END
	FROM generate_series(1, $nrows) i;" >/dev/null || { echo "cannot build the rows table"; exit 2; }
	echo "rows: $nrows customers generated in $(($(ms) - t0)) ms"
	printf '[data]\nsensitive = public.customer(email,phone)\n' >"$TMP/rows.ini"
	rbase=(--db "$db" collect --env r --root "$TMP/root" --path /etc --packages none
		--schema "rb=postgres:$CI dbname=rows_bench")
	c=$(best "$PGBIN/psql" -X -q -d "$CI dbname=rows_bench" \
		-c "COPY (SELECT email, phone FROM public.customer) TO STDOUT")
	sc=$(best "$ENVDRIFT" "${rbase[@]}")
	r=$(best "$ENVDRIFT" "${rbase[@]}" --profile "$TMP/rows.ini")
	/usr/bin/time -v "$ENVDRIFT" "${rbase[@]}" --profile "$TMP/rows.ini" >/dev/null 2>"$TMP/time.txt"
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time.txt")
	/usr/bin/time -v "$ENVDRIFT" "${rbase[@]}" >/dev/null 2>"$TMP/time0.txt"
	rss0=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time0.txt")
	echo "rows: COPY of 2 columns to /dev/null ${c} ms ($(python3 -c "print(round($nrows / $c * 1000))") rows/s)"
	echo "rows: collect with the sensitive entry ${r} ms ($(python3 -c "print(round($nrows / $r * 1000))") rows/s), the same collection without it ${sc} ms"
	echo "rows: ratio to the COPY $(python3 -c "print(round($r / $c, 2))"), without the catalog's $(python3 -c "print(round(($r - $sc) / $c, 2))") (goal <= 1.3)"
	echo "rows: peak memory $(python3 -c "print(round($rss / 1024, 1))") MiB, without the entry $(python3 -c "print(round($rss0 / 1024, 1))") MiB (goal < 32 MiB)"
	echo "rows: sample $(q "$db" "SELECT value FROM items_v WHERE kind = 'rows' AND env = 'r' ORDER BY snapshot_id DESC LIMIT 1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rows"], "rows,", d["sample"], "kept, threshold 2^%d" % (d["threshold"].bit_length() - 1))')"
fi
[ "$part" = rows ] && { T_DONE=1; exit 0; }

ps postgres "CREATE DATABASE many" >/dev/null
ps many "DO \$\$ BEGIN FOR t IN 1..$n LOOP
  EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, a text, b text, c integer, d numeric, e date, f boolean, g text)', t);
  EXECUTE format('INSERT INTO t%s SELECT i, md5(i::text), CASE WHEN i %% 7 = 0 THEN NULL ELSE ''x'' || i %% 50 END, i %% 13, i * 1.5, date ''2020-01-01'' + i %% 900, i %% 2 = 0, ''g'' FROM generate_series(1, 2000) i', t);
END LOOP; END \$\$; ANALYZE;" >/dev/null || { echo "cannot build the database"; exit 2; }

base=(--db "$db" collect --env e --root "$TMP/root" --path /etc --packages none --schema "many=postgres:$CI dbname=many")
read -r s sc <<<"$(best_cpu "$ENVDRIFT" "${base[@]}")"
read -r d dc <<<"$(best_cpu "$ENVDRIFT" "${base[@]}" --data-shape)"
echo "$n tables: schema alone ${s} ms, schema + data shape ${d} ms: ratio $(python3 -c "print(round($d / $s, 2))") (goal <= 1.5), best of $runs"
echo "$n tables: CPU time (envdrift, psql and the server's backend, mean of $runs): schema alone ${sc} ms, schema + data shape ${dc} ms: ratio $(python3 -c "print(round($dc / max($sc, 1), 2))")"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data items: $(q "$db" "SELECT count(*) FROM items_v WHERE kind = 'data' AND snapshot_id = (SELECT max(id) FROM snapshots_v)")"

ps postgres "CREATE DATABASE full_size" >/dev/null
t0=$(ms)
ps full_size "CREATE TABLE customer (id integer PRIMARY KEY, email text, phone text, status text);
INSERT INTO customer SELECT i, 'user' || i || '@example.com', CASE WHEN i % 100 < 2 THEN NULL ELSE '+1555' || i END, (ARRAY['a','b','c'])[1 + i % 3] FROM generate_series(1, 200000) i;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer, total numeric);
INSERT INTO orders SELECT i, 1 + i % 200000, i % 500 FROM generate_series(1, 1000000) i; ANALYZE;" >/dev/null
echo "full size (200,000 customers, 1,000,000 orders) generated in $(($(ms) - t0)) ms"
f=$(best "$ENVDRIFT" --db "$db" collect --env f --root "$TMP/root" --path /etc --packages none \
	--schema "shop=postgres:$CI dbname=full_size" --data-shape)
echo "full size: schema + data shape collected in ${f} ms (statistics only: no row is read)"
T_DONE=1 # the EXIT trap stops the server and removes the folder
