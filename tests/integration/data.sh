#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Data shapes (issue 15, kind "data") against a real PostgreSQL and SQLite
# files. Generated data, scaled down from the issue's 200,000 customers and
# 1,000,000 orders to 20,000 and 100,000 so that the default suite stays
# cheap (bench/data.sh runs the full size): production, and staging A with
# 1/100 of the rows and a phone column that is 97% NULL instead of 2%.
# Asserts: the exact shape drift (two row-count bands, one null-fraction
# column) in every format; tolerances, overrides and severities of the
# policy; a table never ANALYZEd recorded as missing with a warning naming
# it, and still not analysed afterwards (envdrift never writes); a table the
# user may not read is a warning, the rest collected; bytea, array and jsonb
# columns; canaries (a sensitive value, a most-common value and a histogram
# bound of production, checked to be in pg_stats) found nowhere: store, WAL,
# every report format, export, stderr; a side collected without --data-shape
# is one finding for its database, not silence, and a table on one side only
# is its schema item's finding; SQLite: exact counts, the bounded
# rowid-stride sample, the same drift, and the same values when collected again.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=pg_server.sh
. "$(dirname "$0")/pg_server.sh"

psql_c postgres 'CREATE DATABASE shop_prod' 'CREATE DATABASE shop_stg' >/dev/null ||
	{ echo "Bail out! cannot create the databases"; exit 2; }

CANARY_EMAIL='canary.q7v3x9@prod-only.example'
CANARY_MCV='MCVCANARY-5w8k2'
CANARY_HIST='zzHISTCANARY-3j6p1'

# make_db DB CUSTOMERS ORDERS PHONE_NULL_EVERY: the same schema, other data.
# Every phone is NULL when id % 100 < PHONE_NULL_PCT.
make_db() {
	local db=$1 nc=$2 no=$3 pct=$4 mcv=$5
	psql_c "$db" "
CREATE TABLE customer (
	id integer PRIMARY KEY, email text NOT NULL, phone text, status text NOT NULL,
	code text NOT NULL, photo bytea, tags text[], doc jsonb);
INSERT INTO customer SELECT i, 'user' || i || '@example.com',
	CASE WHEN i % 100 < $pct THEN NULL ELSE '+1555' || lpad(i::text, 7, '0') END,
	CASE WHEN i % 10 < 8 THEN '$mcv' WHEN i % 10 = 8 THEN 'closed' ELSE 'new' END,
	'code-' || lpad(i::text, 6, '0'), decode(md5(i::text), 'hex'),
	ARRAY['t' || (i % 3)], jsonb_build_object('n', i)
	FROM generate_series(1, $nc) i;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL,
	total numeric(10,2) NOT NULL, state text NOT NULL);
INSERT INTO orders SELECT i, 1 + i % $nc, (i % 5) * 10, (ARRAY['open','paid','sent'])[1 + i % 3]
	FROM generate_series(1, $no) i;
CREATE TABLE fresh (id integer, v text) WITH (autovacuum_enabled = false);
INSERT INTO fresh SELECT i, 'v' || i FROM generate_series(1, 50) i;
ALTER TABLE customer SET (autovacuum_enabled = false);
ALTER TABLE orders SET (autovacuum_enabled = false);
ANALYZE customer; ANALYZE orders;" >/dev/null
}
T0=$(ms)
make_db shop_prod 20000 100000 2 "$CANARY_MCV" || { echo "Bail out! production data"; exit 2; }
make_db shop_stg 200 1000 97 active || { echo "Bail out! staging data"; exit 2; }
# The canaries: an email only production holds, the histogram's upper bound.
psql_c shop_prod "UPDATE customer SET email = '$CANARY_EMAIL' WHERE id = 4242;
UPDATE customer SET code = '$CANARY_HIST' WHERE id = 777; ANALYZE customer;" >/dev/null
diag "data generated in $(($(ms) - T0)) ms"

# The premise of the canary checks: pg_stats does hold them.
contains "$(psql_c shop_prod "SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'customer' AND attname = 'status'")" \
	"$CANARY_MCV" "premise: the most-common value canary is in pg_stats.most_common_vals"
contains "$(psql_c shop_prod "SELECT histogram_bounds::text FROM pg_stats WHERE tablename = 'customer' AND attname = 'code'")" \
	"$CANARY_HIST" "premise: the histogram canary is in pg_stats.histogram_bounds"

DB=$TMP/store.db
init_store "$DB"
mkdir -p "$TMP/root/etc"
ed --db "$DB" collect --env production --root "$TMP/root" --path /etc --packages none \
	--schema "shop=postgres:$CI dbname=shop_prod" --data-shape
exits 0 "collect production with --data-shape"
PROD_ERR=$ERR
contains "$ERR" "postgres:shop: table public.fresh has no statistics (never ANALYZEd)" \
	"a table never ANALYZEd: a warning naming it"
ed --db "$DB" collect --env staging --root "$TMP/root" --path /etc --packages none \
	--schema "shop=postgres:$CI dbname=shop_stg" --data-shape
exits 0 "collect staging with --data-shape"
STG_ERR=$ERR

item() { q "$DB" "SELECT value FROM items_v WHERE env = '$1' AND kind = 'data' AND key = '$2' ORDER BY snapshot_id DESC LIMIT 1"; }
is "$(item production postgres:shop/table/public.orders | json_get 'd["rows"], d["estimated"]')" \
	"[100000, true]" "orders: reltuples, marked estimated"
is "$(item production postgres:shop/table/public.fresh)" '{"stats":"missing","bytes":'"$(item production postgres:shop/table/public.fresh | json_get 'd["bytes"]')"'}' \
	"fresh: stats missing, its size only"
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE kind = 'data' AND key LIKE 'postgres:shop/column/public.fresh.%'")" \
	"0" "fresh: no column shapes without statistics"
is "$(item production postgres:shop/column/public.customer.phone | json_get 'd["null_frac"]')" \
	"0.02" "customer.phone: null fraction from pg_stats"
is "$(item production postgres:shop/column/public.customer.status | json_get 'd["distinct_values"]')" \
	"3" "customer.status: a fixed number of distinct values"
is "$(item production postgres:shop/column/public.customer.email | json_get 'd["distinct"]')" \
	"1" "customer.email: unique (n_distinct -1)"
for c in photo tags doc; do
	is "$(item production "postgres:shop/column/public.customer.$c" | json_get '[k for k in ("null_frac", "distinct", "width") if k in d]')" \
		'["null_frac", "distinct", "width"]' \
		"customer.$c ($(psql_c shop_prod "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'customer'::regclass AND attname = '$c'")): its shape, no value"
done
is "$(q "$DB" "SELECT count(*) FROM items_v WHERE kind = 'schema'")" \
	"$(($(q "$DB" "SELECT count(*) FROM items_v WHERE kind = 'schema' AND env = 'production'") * 2))" \
	"the schema items are still collected"

# --- the drift ---
ed --db "$DB" diff production staging --format json
exits 1 "diff: drift"
echo "$OUT" >"$TMP/diff.json"
is "$(json_get '"\n".join(sorted(e["key"] + " " + ",".join(e["fields"]) + " " + e["severity"] for e in d["drift"] if e["kind"] == "data"))' <"$TMP/diff.json")" \
	"postgres:shop/column/public.customer.phone null_frac warn
postgres:shop/table/public.customer rows warn
postgres:shop/table/public.orders rows warn" "diff: exactly the two row-count bands and the null-fraction column"
is "$(json_get '[e for e in d["drift"] if e["key"].endswith("table/public.orders")][0]["reference"]["rows"], [e for e in d["drift"] if e["key"].endswith("table/public.orders")][0]["candidate"]["rows"]' <"$TMP/diff.json")" \
	"[100000, 1000]" "diff json: reference and candidate shape objects"
is "$(json_get '[e["kind"] for e in d["drift"] if e["kind"] != "data"]' <"$TMP/diff.json")" "[]" \
	"diff: nothing else differs (same schema)"
ed --db "$DB" diff production staging
like "$OUT" "changed \[warn\] postgres:shop/table/public.orders  rows ~100,000 -> ~1,000 \(1/100 of the reference\)" \
	"text: the row count as a person says it"
like "$OUT" "postgres:shop/column/public.customer.phone  null fraction 0.02 -> 0.97" \
	"text: the null fraction"
for fmt in markdown html junit sarif; do
	ed --db "$DB" diff production staging --format "$fmt"
	arrow='-&gt;' tilde='~'
	[ "$fmt" = sarif ] && arrow='->'
	[ "$fmt" = markdown ] && tilde='\~' # GitHub would strike through text between two ~
	contains "$OUT" "null fraction 0.02 $arrow 0.97" "$fmt: shows the null fraction"
	contains "$OUT" "rows ${tilde}100,000 $arrow ${tilde}1,000 (1/100 of the reference)" \
		"$fmt: shows the row count"
done

# --- the policy ---
ed --db "$DB" gate --production production --staging staging
exits 0 "gate: data drift warns by default"
cat >"$TMP/strict.ini" <<'INI'
[data]
severity = block
rows[public.ord*] = ignore
null_frac[public.customer.phone] = 0.96
INI
ed --db "$DB" diff production staging --format json --policy "$TMP/strict.ini"
is "$(printf '%s' "$OUT" | json_get '"\n".join(sorted(e["key"] + " " + e["severity"] for e in d["drift"]))')" \
	"postgres:shop/table/public.customer block" "policy: an ignored band, a wider null fraction, severity block"
ed --db "$DB" gate --production production --staging staging --policy "$TMP/strict.ini"
exits 1 "gate: [data] severity = block fails it"

# --- a side collected without --data-shape: said once per database, never silent ---
ed --db "$DB" collect --env stgnoshape --root "$TMP/root" --path /etc --packages none \
	--schema "shop=postgres:$CI dbname=shop_stg"
exits 0 "collect staging without --data-shape"
NT=$(q "$DB" "SELECT count(*) FROM items_v WHERE env = 'production' AND kind = 'data' AND key LIKE 'postgres:shop/table/%'")
NC=$(q "$DB" "SELECT count(*) FROM items_v WHERE env = 'production' AND kind = 'data' AND key LIKE 'postgres:shop/column/%'")
ed --db "$DB" diff production stgnoshape --format json
exits 1 "diff against a staging without shapes: drift"
is "$(printf '%s' "$OUT" | json_get '[(e["key"], e["change"], e["severity"], e["not_checked"], e["reference"]["tables"], e["reference"]["columns"], "candidate" in e) for e in d["drift"] if e["kind"] == "data"]')" \
	"[[\"postgres:shop\", \"removed\", \"warn\", \"candidate\", $NT, $NC, false]]" \
	"json: one entry for the database, removed, warn, not checked in the candidate, the reference's $NT tables and $NC columns"
# The entry grows as the database's items go by: spilling every entry must not cut it in pieces.
WHOLE=$OUT
ENVDRIFT_SPILL_AT=1 ed --db "$DB" diff production stgnoshape --format json
is "$OUT" "$WHOLE" "  the same report with every entry spilled to its temporary file as it comes"
ed --db "$DB" diff production stgnoshape
like "$OUT" "removed \[warn\] postgres:shop  data shape not compared: the candidate was collected without --data-shape \($NT tables, $NC columns shaped in the reference\)" \
	"text: the shape that was not compared, as a person says it"
ed --db "$DB" diff stgnoshape production --format json
is "$(printf '%s' "$OUT" | json_get '[(e["key"], e["change"], e["not_checked"]) for e in d["drift"] if e["kind"] == "data"]')" \
	'[["postgres:shop", "added", "reference"]]' "the reverse: added, not checked in the reference"
ed --db "$DB" gate --production production --staging stgnoshape
exits 0 "gate: a shape not compared warns (as data drift does by default)"
printf '[severity]\ndata = block\n' >"$TMP/shape-block.ini"
ed --db "$DB" gate --production production --staging stgnoshape --policy "$TMP/shape-block.ini"
exits 1 "gate: [severity] data = block makes it blocking"
# A table on one side only, both sides shaped: its schema item says it, no data entry.
psql_c shop_stg "CREATE TABLE extra (id integer); INSERT INTO extra SELECT generate_series(1, 10); ANALYZE extra;" >/dev/null
ed --db "$DB" collect --env stgextra --root "$TMP/root" --path /etc --packages none \
	--schema "shop=postgres:$CI dbname=shop_stg" --data-shape
exits 0 "collect staging with a table production lacks"
ed --db "$DB" diff production stgextra --format json
is "$(printf '%s' "$OUT" | json_get '[e["kind"] + " " + e["key"] for e in d["drift"] if "extra" in e["key"]]')" \
	'["schema postgres:shop/column/public.extra.id", "schema postgres:shop/table/public.extra"]' \
	"a table on one side only: its schema items, not its shapes"
is "$(printf '%s' "$OUT" | json_get '[e["key"] for e in d["drift"] if e["kind"] == "data"]')" \
	'["postgres:shop/column/public.customer.phone", "postgres:shop/table/public.customer", "postgres:shop/table/public.orders"]' \
	"... and the shapes found as before"

# --- a user who may not read one table; an exact count ---
psql_c shop_prod "CREATE ROLE reader LOGIN; GRANT SELECT ON customer, orders TO reader;" >/dev/null
cat >"$TMP/exact.ini" <<'INI'
[data]
shape = yes
exact_count = yes
INI
ed --db "$DB" collect --env prodreader --root "$TMP/root" --path /etc --packages none \
	--profile "$TMP/exact.ini" --schema "shop=postgres:host=$SOCK port=$PORT user=reader dbname=shop_prod"
exits 0 "collect as a user who may not read public.fresh: still collected"
contains "$ERR" "postgres:shop: table public.fresh: permission denied: its rows were not counted" \
	"permission denied: a warning naming the table"
is "$(item prodreader postgres:shop/table/public.orders | json_get 'd["rows"], "estimated" in d')" \
	"[100000, false]" "exact_count: count(*), not the estimate"

# --- never a write ---
is "$(psql_c shop_prod "SELECT coalesce(last_analyze::text, 'never') || ' ' || coalesce(last_autoanalyze::text, 'never') || ' ' || (SELECT count(*) FROM pg_stats WHERE tablename = 'fresh') FROM pg_stat_user_tables WHERE relname = 'fresh'")" \
	"never never 0" "public.fresh is still never analysed: envdrift runs no ANALYZE"

# --- canaries: nowhere ---
ARTS=()
leak_artifacts "$DB" production staging "$TMP/leak" ARTS
ed --db "$DB" export production --out "$TMP/export.json"
exits 0 "export"
ARTS+=("$TMP/export.json")
printf '%s\n%s\n' "$PROD_ERR" "$STG_ERR" >"$TMP/collect.stderr"
ARTS+=("$TMP/collect.stderr")
is "$(leaks "$CANARY_EMAIL" "$CANARY_MCV" "$CANARY_HIST" -- "${ARTS[@]}")" "" \
	"canaries (a sensitive value, a most-common value, a histogram bound): in none of ${#ARTS[@]} files"

# --- SQLite: exact counts, a bounded deterministic sample ---
python3 - "$TMP/root/prod.db" "$TMP/root/stg.db" <<'PY'
import sqlite3, sys
for path, n, pct in ((sys.argv[1], 20000, 2), (sys.argv[2], 200, 97)):
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, status TEXT)")
    c.executemany("INSERT INTO customer VALUES (?, ?, ?, ?)",
                  [(i, "u%d@example.com" % i, None if i % 100 < pct else "+1555%07d" % i,
                    ("a", "b", "c")[i % 3]) for i in range(1, n + 1)])
    c.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID")
    c.executemany("INSERT INTO kv VALUES (?, ?)", [(str(i), i) for i in range(50)])
    c.commit()
PY
cat >"$TMP/sqlite.ini" <<'INI'
[data]
shape = yes
sample_rows = 1000
INI
for env in production staging; do
	f=prod
	[ "$env" = staging ] && f=stg
	ed --db "$DB" collect --env "sq$env" --root "$TMP/root" --path /etc --packages none \
		--profile "$TMP/sqlite.ini" --schema "app=sqlite:/$f.db"
	exits 0 "sqlite: collect $env with [data] shape = yes"
done
is "$(item sqproduction sqlite:app/table/main.customer)" "$(item sqproduction sqlite:app/table/main.customer | json_get '{"rows": d["rows"], "sampled": d["sampled"]} and "{\"rows\":20000,\"bytes\":" + str(d["bytes"]) + ",\"sampled\":1000}"')" \
	"sqlite: the exact count, and a sample of sample_rows rows"
is "$(item sqproduction sqlite:app/table/main.kv | json_get 'd["rows"], d["sampled"]')" "[50, 50]" \
	"sqlite: a WITHOUT ROWID table"
ed --db "$DB" diff sqproduction sqstaging --format json
is "$(printf '%s' "$OUT" | json_get '"\n".join(sorted(e["key"] + " " + ",".join(e["fields"]) for e in d["drift"]))')" \
	"sqlite:app/column/main.customer.phone null_frac
sqlite:app/table/main.customer rows" "sqlite: exactly the row-count band and the null-fraction column"
BEFORE=$(q "$DB" "SELECT group_concat(key || '=' || value, ' ') FROM (SELECT key, value FROM items_v WHERE env = 'sqproduction' AND kind = 'data' ORDER BY key)")
ed --db "$DB" collect --env sqproduction --root "$TMP/root" --path /etc --packages none \
	--profile "$TMP/sqlite.ini" --schema "app=sqlite:/prod.db"
AFTER=$(q "$DB" "SELECT group_concat(key || '=' || value, ' ') FROM (SELECT key, value FROM items_v WHERE snapshot_id = (SELECT max(id) FROM snapshots_v) AND kind = 'data' ORDER BY key)")
is "$AFTER" "$BEFORE" "sqlite: collected again, the same sample and the same shapes"

done_testing
