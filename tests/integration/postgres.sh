#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PostgreSQL schemas against a real server: initdb into a temporary folder, a
# server on a private socket (no TCP), two databases with known schema drift,
# then `collect --schema NAME=postgres:CONNINFO` and the exact drift set;
# identical schemas (other OIDs, other column order, other whitespace) give
# none; secret literals in definitions are masked and keyed, found nowhere in
# the store or a report, and still drift; a failing psql fails the collection
# with a message that names the database and never shows the password.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=pg_server.sh
. "$(dirname "$0")/pg_server.sh"

sql() { # DB SQL-FILE
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$CI dbname=$1" -f "$2" >/dev/null
}
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$CI dbname=postgres" \
	-c 'CREATE DATABASE shop_prod' -c 'CREATE DATABASE shop_stg' \
	-c 'CREATE DATABASE shop_mirror' -c 'CREATE DATABASE shop_empty' >/dev/null ||
	{ echo "Bail out! cannot create the databases"; exit 2; }
HAVE_TRGM=0
[ -f "$("$PGBIN/pg_config" --sharedir 2>/dev/null)/extension/pg_trgm.control" ] && HAVE_TRGM=1

# --- the schemas: production, and staging with one drift of each sort ---
# Each file is built from variables so the two differ exactly where meant.
schema_sql() { # OUT, then the variable parts below
	local out=$1
	cat >"$out" <<EOF
CREATE SCHEMA billing;
CREATE TYPE order_status AS ENUM ($ENUM_LABELS);
CREATE TABLE customers (
	id serial PRIMARY KEY,
	email text NOT NULL UNIQUE,
	name text COLLATE "C",
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer_id integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	status order_status NOT NULL DEFAULT 'new',
	total numeric(10,2) NOT NULL CONSTRAINT orders_total_check CHECK ($TOTAL_CHECK),
	note $NOTE_TYPE,$EXTRA_COLUMN
	tags text[] DEFAULT '{}',
	total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED,
	updated_at timestamptz
);
$CUSTOMER_INDEX
CREATE INDEX orders_open_idx ON orders (status) WHERE status <> 'shipped';
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > $BIG;
$PRODUCTS
$ORDER_TOTALS
CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT $INVOICE_STEP;
CREATE TABLE billing.invoices (
	no bigint PRIMARY KEY DEFAULT nextval('billing.invoice_no'),
	order_id bigint REFERENCES orders (id)
);
CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v jsonb) WITH (fillfactor = 70);
$ORDER_TOTAL_FN
CREATE PROCEDURE purge_cache() LANGUAGE sql BEGIN ATOMIC DELETE FROM cache; END;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	NEW.updated_at := $TOUCH_NOW;
	RETURN NEW;
END
\$\$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
$TRIGGER_STATE
$EXTENSION
EOF
}

# production
ENUM_LABELS="'new', 'paid', 'shipped'"
TOTAL_CHECK="total >= 0"
NOTE_TYPE="varchar(200)"
EXTRA_COLUMN=""
CUSTOMER_INDEX="CREATE INDEX orders_customer_idx ON orders (customer_id);"
BIG=100
PRODUCTS="CREATE TABLE products (id integer PRIMARY KEY, sku text NOT NULL, price numeric(10,2) DEFAULT 0, name text);"
ORDER_TOTALS="CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;"
INVOICE_STEP=1
ORDER_TOTAL_FN='CREATE FUNCTION order_total(cid integer) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(total), 0) FROM orders WHERE customer_id = cid $$;'
TOUCH_NOW="now()"
TRIGGER_STATE=""
EXTENSION=""
[ "$HAVE_TRGM" = 1 ] && EXTENSION="CREATE EXTENSION pg_trgm;"
schema_sql "$TMP/prod.sql"

# staging: the drift
ENUM_LABELS="'new', 'paid', 'shipped', 'cancelled'"        # added enum label
TOTAL_CHECK="total > 0"                                    # changed check constraint
NOTE_TYPE="text"                                           # changed column type
EXTRA_COLUMN=$'\n\tcoupon text,'                           # added column
CUSTOMER_INDEX=""                                          # dropped index
BIG=1000                                                   # changed view
INVOICE_STEP=10                                            # changed sequence
TOUCH_NOW="clock_timestamp()"                              # changed function body
TRIGGER_STATE="ALTER TABLE orders DISABLE TRIGGER orders_touch;"  # disabled trigger
EXTENSION=""                                               # extension only in production
# ... and what must not drift: column order, whitespace and keyword case.
PRODUCTS="CREATE TABLE products (name text, price numeric(10,2) DEFAULT 0, id integer PRIMARY KEY, sku text NOT NULL);"
ORDER_TOTALS=$'create materialized view order_totals as\n  select customer_id,   SUM(total) as total\n  from orders\n  group by customer_id;'
ORDER_TOTAL_FN=$'CREATE FUNCTION order_total(cid integer) RETURNS numeric LANGUAGE sql STABLE AS $$\n\tSELECT coalesce(sum(total), 0)\n\tFROM orders\n\tWHERE customer_id = cid\n$$;'
schema_sql "$TMP/stg.sql"

sql shop_prod "$TMP/prod.sql" || { echo "Bail out! cannot load the production schema"; exit 2; }
sql shop_stg "$TMP/stg.sql" || { echo "Bail out! cannot load the staging schema"; exit 2; }
# The mirror: production's script again, in a database of its own (other OIDs).
sql shop_mirror "$TMP/prod.sql" || { echo "Bail out! cannot load the mirror schema"; exit 2; }

# The exact drift expected, sorted: kind, key, change, fields.
{
	printf 'schema\tpostgres:shop/column/public.orders.coupon\tadded\t\n'
	printf 'schema\tpostgres:shop/column/public.orders.note\tchanged\tdefinition\n'
	printf 'schema\tpostgres:shop/constraint/public.orders.orders_total_check\tchanged\tdefinition\n'
	printf 'schema\tpostgres:shop/enum/public.order_status\tchanged\tdefinition\n'
	[ "$HAVE_TRGM" = 1 ] && printf 'schema\tpostgres:shop/extension/pg_trgm\tremoved\t\n'
	printf 'schema\tpostgres:shop/function/public.touch()\tchanged\tdefinition\n'
	printf 'schema\tpostgres:shop/index/public.orders_customer_idx\tremoved\t\n'
	printf 'schema\tpostgres:shop/sequence/billing.invoice_no\tchanged\tdefinition\n'
	printf 'schema\tpostgres:shop/trigger/public.orders.orders_touch\tchanged\tdefinition\n'
	printf 'schema\tpostgres:shop/view/public.big_orders\tchanged\tdefinition\n'
} | sort >"$TMP/expected"
N_EXPECTED=$(wc -l <"$TMP/expected")
[ "$HAVE_TRGM" = 1 ] || diag "pg_trgm is not installed: no extension drift expected"

DB=$TMP/store.db
EMPTY=$TMP/empty
mkdir -p "$EMPTY"
collect() { # ENV HOST SCHEMA-ARG
	ed --db "$DB" collect --env "$1" --host "$2" --root / --packages none --path "$EMPTY" \
		--schema "$3"
}

init_store "$DB"
T0=$(ms)
collect production p "shop=postgres:$CI dbname=shop_prod"
exits 0 "collect production (shop=postgres:... dbname=shop_prod) exits 0"
PID_=$OUT
T_COLLECT=$(($(ms) - T0))
collect staging s "shop=postgres:$CI dbname=shop_stg"
exits 0 "collect staging (shop=postgres:... dbname=shop_stg) exits 0"
SID=$OUT
unlike "$ERR" 'warning:' "no warnings collecting a database without a password in the conninfo"
diag "one collection: $T_COLLECT ms"

# --- the items themselves ---
items() { q "$DB" "select key || char(9) || value from items_v where snapshot_id=$1 and kind='schema' and key like 'postgres:shop/$2' order by key"; }
N_PROD=$(q "$DB" "select count(*) from items_v where snapshot_id=$PID_ and kind='schema'")
ok "production has schema items ($N_PROD)" test "$N_PROD" -gt 40
is "$(q "$DB" "select count(*) from items_v where snapshot_id=$PID_ and kind='schema' and key not like 'postgres:shop/%'")" \
	0 "every schema item is keyed postgres:shop/..."
is "$(q "$DB" "select count(*) from items where snapshot_id=$PID_ and kind='schema' and length(fingerprint) != 16")" \
	0 "every schema item has a 16-byte fingerprint"
is "$(items "$PID_" 'table/public.orders')" \
	"postgres:shop/table/public.orders	CREATE TABLE public.orders" "a table's definition leaves its columns out"
is "$(items "$PID_" 'column/public.orders.%')" \
	"postgres:shop/column/public.orders.customer_id	integer NOT NULL
postgres:shop/column/public.orders.id	bigint NOT NULL GENERATED ALWAYS AS IDENTITY
postgres:shop/column/public.orders.note	character varying(200)
postgres:shop/column/public.orders.status	public.order_status NOT NULL DEFAULT 'new'::public.order_status
postgres:shop/column/public.orders.tags	text[] DEFAULT '{}'::text[]
postgres:shop/column/public.orders.total	numeric(10,2) NOT NULL
postgres:shop/column/public.orders.total_cents	bigint GENERATED ALWAYS AS (((total * (100)::numeric))::bigint) STORED
postgres:shop/column/public.orders.updated_at	timestamp with time zone" \
	"columns: type, NOT NULL, DEFAULT, identity and generated expressions"
is "$(items "$PID_" 'table/public.events%')" \
	"postgres:shop/table/public.events	CREATE TABLE public.events PARTITION BY RANGE (at)
postgres:shop/table/public.events_2024	CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')" \
	"partitioned table and partition"
is "$(items "$PID_" 'table/public.cache')" \
	"postgres:shop/table/public.cache	CREATE UNLOGGED TABLE public.cache WITH (fillfactor=70)" "unlogged table with its options"
is "$(items "$PID_" 'constraint/public.orders.%')" \
	"postgres:shop/constraint/public.orders.orders_customer_id_fkey	FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE CASCADE
postgres:shop/constraint/public.orders.orders_pkey	PRIMARY KEY (id)
postgres:shop/constraint/public.orders.orders_total_check	CHECK ((total >= (0)::numeric))" "constraints of orders"
is "$(items "$PID_" 'index/public.orders_%')" \
	"postgres:shop/index/public.orders_customer_idx	CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id)
postgres:shop/index/public.orders_open_idx	CREATE INDEX orders_open_idx ON public.orders USING btree (status) WHERE (status <> 'shipped'::public.order_status)
postgres:shop/index/public.orders_pkey	CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)" "indexes of orders"
is "$(items "$PID_" 'view/%')" \
	"postgres:shop/view/public.big_orders	CREATE VIEW public.big_orders AS SELECT orders.id, orders.total FROM public.orders WHERE (orders.total > (100)::numeric)
postgres:shop/view/public.order_totals	CREATE MATERIALIZED VIEW public.order_totals AS SELECT orders.customer_id, sum(orders.total) AS total FROM public.orders GROUP BY orders.customer_id" \
	"views and materialized views, whitespace collapsed"
is "$(items "$PID_" 'sequence/billing.%')" \
	"postgres:shop/sequence/billing.invoice_no	CREATE SEQUENCE billing.invoice_no AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1000 CACHE 1 NO CYCLE" \
	"sequence: type, increment, bounds, start, cache, cycle"
like "$(items "$PID_" 'function/%')" \
	"^postgres:shop/function/public.order_total\(cid integer\)	CREATE FUNCTION public.order_total\(cid integer\) RETURNS numeric LANGUAGE sql STABLE BODY hmac:[0-9a-f]{32}
postgres:shop/function/public.purge_cache\(\)	CREATE PROCEDURE public.purge_cache\(\) LANGUAGE sql BODY hmac:[0-9a-f]{32}
postgres:shop/function/public.touch\(\)	CREATE FUNCTION public.touch\(\) RETURNS trigger LANGUAGE plpgsql BODY hmac:[0-9a-f]{32}$" \
	"functions and procedures: signature, attributes, keyed body fingerprint; nothing from extensions"
unlike "$(q "$DB" "select value from items_v where snapshot_id=$PID_ and key like 'postgres:shop/function/%'")" \
	'updated_at|coalesce' "function bodies are not stored, only their fingerprint"
is "$(items "$PID_" 'trigger/%')" \
	"postgres:shop/trigger/public.orders.orders_touch	CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()" \
	"trigger definition"
is "$(items "$PID_" 'enum/%')" \
	"postgres:shop/enum/public.order_status	CREATE TYPE public.order_status AS ENUM ('new', 'paid', 'shipped')" "enum labels in sort order"
is "$(items "$PID_" 'schema/%')" \
	"postgres:shop/schema/billing	CREATE SCHEMA billing
postgres:shop/schema/public	CREATE SCHEMA public" "schemas, without pg_catalog, information_schema or pg_toast"
if [ "$HAVE_TRGM" = 1 ]; then
	like "$(items "$PID_" 'extension/%')" \
		"^postgres:shop/extension/pg_trgm	CREATE EXTENSION pg_trgm SCHEMA public VERSION '[0-9.]+'
postgres:shop/extension/plpgsql	CREATE EXTENSION plpgsql SCHEMA pg_catalog VERSION '[0-9.]+'$" "extensions with schema and version"
	is "$(q "$DB" "select count(*) from items_v where snapshot_id=$PID_ and (key like '%trgm%' or key like '%similarity%') and key != 'postgres:shop/extension/pg_trgm'")" \
		0 "nothing that belongs to pg_trgm is an item of its own"
else
	skip "extensions with schema and version" "pg_trgm not installed"
	skip "nothing that belongs to pg_trgm is an item of its own" "pg_trgm not installed"
fi

# --- the exact drift set, from JSON ---
ed --db "$DB" diff production staging --format json
exits 1 "diff production staging exits 1 (drift)"
printf '%s' "$OUT" >"$TMP/diff.json"
python3 - "$TMP/diff.json" >"$TMP/got" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for e in sorted(d["drift"], key=lambda e: (e["kind"], e["key"])):
    print("%s\t%s\t%s\t%s" % (e["kind"], e["key"], e["change"], ",".join(e.get("fields", []))))
EOF
is "$(cat "$TMP/got")" "$(cat "$TMP/expected")" "the drift set is exactly the expected $N_EXPECTED items"
is "$(json_get '[d["reference"]["snapshots"], d["candidate"]["snapshots"]]' <"$TMP/diff.json")" \
	"[[$PID_], [$SID]]" "the diff is between the two snapshots just taken"
unlike "$(cat "$TMP/got")" 'products|order_totals|order_total\(' \
	"no drift from column order, whitespace or keyword case"
defs() { # KEY: "reference -> candidate" definitions
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print("%s -> %s" % (e.get("reference",{}).get("definition"), e.get("candidate",{}).get("definition"))) for e in d["drift"] if e["key"]==sys.argv[2]]' "$TMP/diff.json" "$1"
}
is "$(defs postgres:shop/column/public.orders.note)" "character varying(200) -> text" "changed column type shows both types"
is "$(defs postgres:shop/column/public.orders.coupon)" "None -> text" "added column shows its definition"
is "$(defs postgres:shop/constraint/public.orders.orders_total_check)" \
	"CHECK ((total >= (0)::numeric)) -> CHECK ((total > (0)::numeric))" "changed check shows both conditions"
is "$(defs postgres:shop/enum/public.order_status)" \
	"CREATE TYPE public.order_status AS ENUM ('new', 'paid', 'shipped') -> CREATE TYPE public.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled')" \
	"added enum label"
like "$(defs postgres:shop/view/public.big_orders)" '\(100\)::numeric\) -> .*\(1000\)::numeric\)$' "changed view shows both queries"
like "$(defs postgres:shop/trigger/public.orders.orders_touch)" 'touch\(\) -> .*touch\(\) DISABLED$' "a disabled trigger is drift"
like "$(defs 'postgres:shop/function/public.touch()')" \
	'^CREATE FUNCTION public.touch\(\) RETURNS trigger LANGUAGE plpgsql BODY hmac:([0-9a-f]{32}) -> CREATE FUNCTION public.touch\(\) RETURNS trigger LANGUAGE plpgsql BODY hmac:[0-9a-f]{32}$' \
	"changed function body: only the body fingerprint differs"
is "$(defs postgres:shop/sequence/billing.invoice_no | grep -o 'INCREMENT BY [0-9]*' | tr '\n' ' ')" \
	"INCREMENT BY 1 INCREMENT BY 10 " "changed sequence increment"
is "$(json_get '[d["summary"][k] for k in ("added","removed","changed")]' <"$TMP/diff.json")" \
	"[1, $((1 + HAVE_TRGM)), $((N_EXPECTED - 2 - HAVE_TRGM))]" "summary: 1 added, $((1 + HAVE_TRGM)) removed, $((N_EXPECTED - 2 - HAVE_TRGM)) changed"

ed --db "$DB" gate
exits 1 "gate exits 1 on schema drift"
like "$(printf '%s\n' "$ERR" | grep '^block:')" 'postgres:shop/index/public.orders_customer_idx' "gate names the dropped index"

# --- identical schemas: no drift ---
collect mirror m "shop=postgres:$CI dbname=shop_mirror"
exits 0 "collect the mirror (production's script in another database)"
ed --db "$DB" diff production mirror --format json
exits 0 "diff production mirror exits 0"
is "$(printf '%s' "$OUT" | json_get '[len(d["drift"]), d["summary"]["added"], d["summary"]["removed"], d["summary"]["changed"]]')" \
	"[0, 0, 0, 0]" "identical schemas in two databases: no drift"
ed --db "$DB" diff production production
exits 0 "production against itself: exit 0"

# --- the default label is the dbname; labels keep databases apart ---
collect labels l "postgres:$CI dbname=shop_empty"
exits 0 "collect --schema postgres:CONNINFO without NAME= exits 0"
LID=$OUT
is "$(items "$LID" '%')" "" "nothing is keyed postgres:shop/ when the label is the dbname"
is "$(q "$DB" "select key from items_v where snapshot_id=$LID and kind='schema' order by key")" \
	"postgres:shop_empty/extension/plpgsql
postgres:shop_empty/schema/public" "an empty database: its public schema and plpgsql, labelled by its dbname"

# --- secret literals in definitions (issue 11, A.5) ---
# A password as a column default, in a check, a view, an index predicate, a
# function's argument default and body: masked in what is stored, keyed in
# what is fingerprinted, and a changed secret is still drift.
LIT=Zq7-lit-canary-41
LIT2=Zq7-lit-canary-42
TOK=ghp_Zq7litcanary0123456789abcdefghijklmn
lit_sql() { # OUT CANARY
	cat >"$1" <<EOF
CREATE TABLE accounts (
	id integer PRIMARY KEY,
	password text DEFAULT '$2',
	api_token text CONSTRAINT token_check CHECK (api_token <> '$2'),
	status text DEFAULT 'active'
);
CREATE VIEW leaked AS SELECT '$2'::text AS secret, '$TOK'::text AS t, status FROM accounts;
CREATE INDEX live_accounts ON accounts (id) WHERE api_token = '$2';
CREATE FUNCTION login(token text DEFAULT '$2') RETURNS text LANGUAGE sql AS \$\$ SELECT token \$\$;
CREATE FUNCTION check_pw(p text) RETURNS boolean LANGUAGE sql AS \$\$ SELECT p = '$2' \$\$;
CREATE FUNCTION configured() RETURNS integer LANGUAGE sql SET app.api_key = '$2' AS \$\$ SELECT 1 \$\$;
EOF
}
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$CI dbname=postgres" \
	-c 'CREATE DATABASE lit_prod' -c 'CREATE DATABASE lit_stg' -c 'CREATE DATABASE lit_mirror' \
	>/dev/null || { echo "Bail out! cannot create the literal databases"; exit 2; }
lit_sql "$TMP/lit1.sql" "$LIT"
lit_sql "$TMP/lit2.sql" "$LIT2"
for db in lit_prod:lit1 lit_mirror:lit1 lit_stg:lit2; do
	sql "${db%%:*}" "$TMP/${db#*:}.sql" || { echo "Bail out! cannot load ${db#*:}.sql into ${db%%:*}"; exit 2; }
done
LDB=$TMP/lit.db
init_store "$LDB"
lcollect() { # ENV DBNAME
	ed --db "$LDB" collect --env "$1" --host h --root / --packages none --path "$EMPTY" \
		--schema "lit=postgres:$CI dbname=$2"
}
lcollect production lit_prod
exits 0 "collect a database with secret literals"
LPID=$OUT
lcollect staging lit_stg
exits 0 "collect it with another secret"
lcollect mirror lit_mirror
exits 0 "collect it with the same secret, in another database"
litems() { q "$LDB" "select key || char(9) || value || char(9) || coalesce(attrs, '') from items where snapshot_id=$LPID and key like 'postgres:lit/$1' order by key"; }
is "$(litems 'column/public.accounts.%')" \
	"postgres:lit/column/public.accounts.api_token	text	
postgres:lit/column/public.accounts.id	integer NOT NULL	
postgres:lit/column/public.accounts.password	text DEFAULT '<secret>'::text	{\"masked\":true}
postgres:lit/column/public.accounts.status	text DEFAULT 'active'::text	" \
	"column default masked and marked; an ordinary default kept"
is "$(litems 'constraint/public.accounts.token_check')" \
	"postgres:lit/constraint/public.accounts.token_check	CHECK ((api_token <> '<secret>'::text))	{\"masked\":true}" \
	"check constraint masked"
is "$(litems 'view/%')" \
	"postgres:lit/view/public.leaked	CREATE VIEW public.leaked AS SELECT '<secret>'::text AS secret, '<secret>'::text AS t, accounts.status FROM public.accounts	{\"masked\":true}" \
	"view: the secret-named literal and the token masked"
is "$(litems 'index/public.live_accounts')" \
	"postgres:lit/index/public.live_accounts	CREATE INDEX live_accounts ON public.accounts USING btree (id) WHERE (api_token = '<secret>'::text)	{\"masked\":true}" \
	"index predicate masked"
like "$(litems 'function/%')" \
	"^postgres:lit/function/public.check_pw\(p text\)	CREATE FUNCTION public.check_pw\(p text\) RETURNS boolean LANGUAGE sql BODY hmac:[0-9a-f]{32}	
postgres:lit/function/public.configured\(\)	CREATE FUNCTION public.configured\(\) RETURNS integer LANGUAGE sql SET app.api_key='<secret>' BODY hmac:[0-9a-f]{32}	\{\"masked\":true\}
postgres:lit/function/public.login\(token text\)	CREATE FUNCTION public.login\(token text DEFAULT '<secret>'::text\) RETURNS text LANGUAGE sql BODY hmac:[0-9a-f]{32}	\{\"masked\":true\}$" \
	"functions: an argument default and a setting masked, bodies as keyed fingerprints"

# The drift: every item that held the secret changed, shown masked on both sides.
ed --db "$LDB" diff production staging --format json
exits 1 "another secret literal is drift"
printf '%s' "$OUT" >"$TMP/lit-diff.json"
is "$(drift_shown "$TMP/lit-diff.json")" "postgres:lit/column/public.accounts.password changed definition same-shown
postgres:lit/constraint/public.accounts.token_check changed definition same-shown
postgres:lit/function/public.check_pw(p text) changed definition shown-differs
postgres:lit/function/public.configured() changed definition same-shown
postgres:lit/function/public.login(token text) changed definition same-shown
postgres:lit/index/public.live_accounts changed definition same-shown
postgres:lit/view/public.leaked changed definition same-shown" \
	"each item holding the secret changed; only the body's keyed fingerprint shows a difference"
ed --db "$LDB" diff production mirror
exits 0 "the same secret in another database: no drift (keyed fingerprints are equal)"

# Nowhere: not in the store, its WAL or a dump, nor in any report format.
LART=()
leak_artifacts "$LDB" production staging "$TMP/lit-report" LART
is "$(leaks "$LIT" "$LIT2" "$TOK" "text DEFAULT '$LIT'::text" "CHECK ((api_token <> '$LIT'::text))" \
	"SELECT p = '$LIT'" -- "${LART[@]}")" "" \
	"the secrets, and the unkeyed XXH3 of them, of their definitions and of the body: in no store, dump or diff format"
like "$(leaks "text DEFAULT 'active'::text" -- "$LDB")" "xxh3-128.* in $LDB" \
	"(control) the search finds an ordinary definition's XXH3 in the store"

# --- failures: exit 2, the database named, the password never shown ---
PW=Zq8-canary-pw
collect broken b "shop=postgres:$CI dbname=no_such_db password=$PW"
exits 2 "a database that does not exist: exit 2"
contains "$ERR" "postgres:shop" "the message names the label"
contains "$ERR" "no_such_db" "the message names the database"
like "$ERR" 'does not exist' "the message carries psql's reason"
unlike "$ERR$OUT" "$PW" "the password appears nowhere in the output"
is "$(q "$DB" "select count(*) from snapshots_v where env='broken' and status='complete'")" 0 \
	"the failed collection left no complete snapshot"
collect broken b "shop=postgres:postgresql://postgres:$PW@/no_such_db?host=$SOCK&port=$PORT"
exits 2 "the same through a URI with a password: exit 2"
like "$ERR" 'postgres:shop \(postgresql://postgres@/no_such_db\?host=' "the URI is shown without its password"
unlike "$ERR$OUT" "$PW" "the URI's password appears nowhere in the output"
collect broken b "shop=postgres:host=$SOCK port=1 user=postgres dbname=shop_prod"
exits 2 "no server on that socket: exit 2"
like "$ERR" 'postgres:shop .*(No such file|could not connect|connection to server)' "the message says psql could not connect"
run env PATH=/nonexistent "$ENVDRIFT" --db "$DB" collect --env broken --host b --root / \
	--packages none --path "$EMPTY" --schema "shop=postgres:$CI dbname=shop_prod"
exits 2 "no psql on the host: exit 2"
contains "$ERR" "psql is not installed" "the message says psql is missing"
ed --db "$DB" collect --env broken --host b --root / --packages none --path "$EMPTY" --schema "postgres:host=$SOCK"
exits 2 "postgres:CONNINFO without a dbname and without NAME=: exit 2"
like "$ERR" 'NAME=' "the message asks for NAME="

diag "whole test: $(($(ms) - T0)) ms after the server started"
done_testing
