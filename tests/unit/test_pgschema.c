/* SPDX-License-Identifier: MIT */
/*
 * Tests for the PostgreSQL schema collector: the catalog parser on a document
 * captured from a real PostgreSQL 15 (tests/data/pg-catalog.json, made from
 * tests/data/pg-catalog.sql), malformed documents, connection strings, and
 * the psql run through a scripted source.
 * Usage: test_pgschema [DATA-DIR]   (default: tests/data next to this file)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/collect.h"
#include "ed/pgschema.h"
#include "sink_mem.h"
#include "tap.h"

static const char *data_dir;
static uint8_t test_key[ED_KEY_LEN]; /* bytes 7, 8, 9...: fixed, so keyed values can be pinned */
static const struct ed_secrets test_sec = {.key = test_key};
static struct ed_buf doc = ED_BUF_INIT; /* the captured document */

static char *slurp(const char *name, size_t *len)
{
	struct ed_buf path = ED_BUF_INIT, b = ED_BUF_INIT;
	char chunk[65536];
	size_t got;
	if (ed_buf_addf(&path, "%s/%s", data_dir, name))
		return NULL;
	FILE *f = fopen(path.p, "rb");
	ed_buf_release(&path);
	if (!f)
		return NULL;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ed_buf_add(&b, chunk, got))
			break;
	fclose(f);
	*len = b.len;
	return ed_buf_detach(&b);
}

static enum ed_code parse(struct mem_sink *ms, const char *json, size_t len, struct ed_err *err)
{
	mem_sink_init(ms);
	memset(err, 0, sizeof(*err));
	return ed_pg_catalog_parse(ed_str_of(json, len), "shop", &test_sec, &ms->sink, err);
}

static enum ed_code parse_s(struct mem_sink *ms, const char *json, struct ed_err *err)
{
	return parse(ms, json, strlen(json), err);
}

/* The value of the item with key, or NULL. */
static const char *value_of(const struct mem_sink *ms, const char *key)
{
	const struct mem_item *it = mem_sink_find(ms, key);
	return it ? it->value : NULL;
}

/* "key\tvalue\n" for every item, in emitted order. */
static char *listing(const struct mem_sink *ms)
{
	struct ed_buf b = ED_BUF_INIT;
	for (size_t i = 0; i < ms->n; i++)
		ed_buf_addf(&b, "%s\t%s\n", ms->items[i].key, ms->items[i].value);
	return ed_buf_detach(&b);
}

static void test_captured(void)
{
	struct mem_sink ms;
	struct ed_err err;
	size_t glen = 0;
	char *golden = slurp("pg-catalog.items", &glen);

	enum ed_code rc = parse(&ms, doc.p, doc.len, &err);
	is_int(rc, ED_OK, "captured document parses (%s)", err.msg);
	is_int(ms.n, 89, "89 items from the captured document");
	char *got = listing(&ms);
	ok(golden && got && strcmp(got, golden) == 0,
	   "every key and value equals tests/data/pg-catalog.items");
	if (golden && got && strcmp(got, golden) != 0) {
		/* Show the first line that differs. */
		const char *g = got, *w = golden;
		while (*g && *g == *w)
			g++, w++;
		while (g > got && g[-1] != '\n')
			g--, w--;
		printf("#   got:  %.*s\n#   want: %.*s\n", (int)strcspn(g, "\n"), g,
		       (int)strcspn(w, "\n"), w);
	}
	free(got);
	free(golden);

	bool sorted = true, all_schema = true, fp_ok = true;
	for (size_t i = 0; i < ms.n; i++) {
		if (i && strcmp(ms.items[i - 1].key, ms.items[i].key) >= 0)
			sorted = false;
		if (strcmp(ms.items[i].kind, "schema") != 0 || ms.items[i].ftype != ED_FT_NONE)
			all_schema = false;
		struct ed_fp fp;
		ed_fp_of(ms.items[i].value, strlen(ms.items[i].value), &fp);
		if (memcmp(&fp, &ms.items[i].fp, sizeof(fp)) != 0)
			fp_ok = false;
	}
	ok(sorted, "items come strictly sorted by key");
	ok(all_schema, "every item is of kind schema, with no file type");
	ok(fp_ok, "every fingerprint is XXH3-128 of the value");

	/* One of each type, spelled out. */
	is_str(value_of(&ms, "postgres:shop/schema/billing"), "CREATE SCHEMA billing", "schema");
	is_str(value_of(&ms, "postgres:shop/table/public.orders"), "CREATE TABLE public.orders",
	       "a table leaves its columns out");
	is_str(value_of(&ms, "postgres:shop/table/public.Order Lines"),
	       "CREATE TABLE public.\"Order Lines\"", "key holds the raw name, value the quoted one");
	is_str(value_of(&ms, "postgres:shop/table/public.audit_orders"),
	       "CREATE TABLE public.audit_orders INHERITS (public.audit_base) "
	       "ENABLE ROW LEVEL SECURITY FORCE ROW LEVEL SECURITY",
	       "inheritance and row level security");
	is_str(value_of(&ms, "postgres:shop/table/public.events_2024"),
	       "CREATE TABLE public.events_2024 PARTITION OF public.events "
	       "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')", "partition");
	is_str(value_of(&ms, "postgres:shop/column/public.customers.name"),
	       "text COLLATE pg_catalog.\"C\"", "column with a collation");
	is_str(value_of(&ms, "postgres:shop/column/public.orders.status"),
	       "public.order_status NOT NULL DEFAULT 'new'::public.order_status",
	       "column: type NOT NULL DEFAULT");
	is_str(value_of(&ms, "postgres:shop/column/public.orders.total_cents"),
	       "bigint GENERATED ALWAYS AS (((total * (100)::numeric))::bigint) STORED",
	       "generated column");
	is_str(value_of(&ms, "postgres:shop/column/public.bookings.id"),
	       "integer NOT NULL GENERATED BY DEFAULT AS IDENTITY", "identity column");
	is_str(value_of(&ms, "postgres:shop/column/public.Order Lines.café"), "text",
	       "UTF-8 column name");
	is_str(value_of(&ms, "postgres:shop/constraint/public.bookings.bookings_during_excl"),
	       "EXCLUDE USING gist (during WITH &&)", "exclusion constraint");
	is_str(value_of(&ms, "postgres:shop/constraint/public.orders.orders_total_check"),
	       "CHECK ((total >= (0)::numeric))", "check constraint");
	is_str(value_of(&ms, "postgres:shop/index/public.dupes_v_key"),
	       "CREATE UNIQUE INDEX dupes_v_key ON public.dupes USING btree (v) INVALID",
	       "an invalid index says so");
	is_str(value_of(&ms, "postgres:shop/view/public.big_orders"),
	       "CREATE VIEW public.big_orders AS SELECT orders.id, orders.total FROM public.orders "
	       "WHERE (orders.total > (100)::numeric)", "view: whitespace collapsed, no ';'");
	is_str(value_of(&ms, "postgres:shop/view/public.secure_orders"),
	       "CREATE VIEW public.secure_orders WITH (security_barrier=true) AS SELECT orders.id, "
	       "orders.note FROM public.orders WHERE (((orders.note)::text ~~ 'x%'::text) AND "
	       "(orders.tags @> ARRAY['a'::text]))", "view with options; operators kept");
	is_str(value_of(&ms, "postgres:shop/sequence/billing.invoice_no"),
	       "CREATE SEQUENCE billing.invoice_no AS bigint INCREMENT BY 1 MINVALUE 1 "
	       "MAXVALUE 9223372036854775807 START WITH 1000 CACHE 1 NO CYCLE", "sequence");
	is_str(value_of(&ms, "postgres:shop/function/public.safe_add(a integer, b integer)"),
	       "CREATE FUNCTION public.safe_add(a integer, b integer DEFAULT 1) RETURNS integer "
	       "LANGUAGE sql IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE SET search_path=pg_catalog "
	       "BODY hmac:8c4f3132996974f4be47c4c6fc1860af",
	       "function: identity arguments in the key, defaults and attributes in the value");
	is_str(value_of(&ms, "postgres:shop/function/public.trgm_sim(text, text)"),
	       "CREATE FUNCTION public.trgm_sim(text, text) RETURNS real LANGUAGE c IMMUTABLE "
	       "STRICT AS '$libdir/pg_trgm', 'similarity'", "C function: library and symbol");
	is_str(value_of(&ms, "postgres:shop/function/public.purge_cache()"),
	       "CREATE PROCEDURE public.purge_cache() LANGUAGE sql "
	       "BODY hmac:2387ef97858b15069033dbea09393c7d", "procedure with an SQL-standard body");
	is_str(value_of(&ms, "postgres:shop/trigger/public.orders.orders_audit"),
	       "CREATE TRIGGER orders_audit AFTER INSERT ON public.orders FOR EACH ROW "
	       "EXECUTE FUNCTION public.touch() ENABLE ALWAYS", "trigger with its firing state");
	is_str(value_of(&ms, "postgres:shop/enum/public.order_status"),
	       "CREATE TYPE public.order_status AS ENUM ('new', 'paid', 'shipped')", "enum");
	is_str(value_of(&ms, "postgres:shop/extension/pg_trgm"),
	       "CREATE EXTENSION pg_trgm SCHEMA public VERSION '1.6'", "extension");
	ok(!mem_sink_find(&ms, "postgres:shop/function/public.similarity(text, text)"),
	   "functions of an extension are not items");

	/* "a.b"+"c" and "a"+"b.c" share a key: the same one is kept whatever the order. */
	is_int(ms.nwarnings, 1, "one warning");
	ok(mem_sink_warned(&ms, "postgres:shop: two objects share the key "
			   "postgres:shop/column/public.a.b.c"), "the warning names label and key");
	mem_sink_release(&ms);
}

/* Reverses every array in the document: catalog order must make no difference. */
static void test_order_independent(void)
{
	json_error_t jerr;
	json_t *root = json_loadb(doc.p, doc.len, 0, &jerr);
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v) {
		if (!json_is_array(v))
			continue;
		json_t *rev = json_array();
		for (size_t i = json_array_size(v); i > 0; i--)
			json_array_append(rev, json_array_get(v, i - 1));
		json_object_set_new(root, k, rev);
	}
	char *text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	struct mem_sink a, b;
	struct ed_err err;
	parse(&a, doc.p, doc.len, &err);
	enum ed_code rc = parse_s(&b, text, &err);
	char *la = listing(&a), *lb = listing(&b);
	ok(rc == ED_OK && la && lb && strcmp(la, lb) == 0,
	   "every array reversed and re-indented: the same items, values and order");
	ok(b.nwarnings == 1, "and the same duplicate warning");
	free(la);
	free(lb);
	free(text);
	mem_sink_release(&a);
	mem_sink_release(&b);
}

/* A document with every section empty, then objects put into it by the tests. */
#define EMPTY_SECTIONS                                                                        \
	"\"schemas\": [], \"tables\": [], \"columns\": [], \"constraints\": [], \"indexes\": [], " \
	"\"views\": [], \"sequences\": [], \"functions\": [], \"triggers\": [], \"enums\": [], "  \
	"\"extensions\": []"
#define DOC(...) "{\"format\": \"envdrift.pg_catalog/1\", " __VA_ARGS__ "}"

/* Parses DOC(EMPTY_SECTIONS) with the entries (a JSON array's text) put into section. */
static enum ed_code parse_entries(struct mem_sink *ms, const char *section, const char *entries,
				  struct ed_err *err)
{
	json_t *root = json_loads(DOC(EMPTY_SECTIONS), 0, NULL);
	json_t *e = json_loads(entries, JSON_DECODE_ANY, NULL);
	if (!e)
		printf("# bad test entries: %s\n", entries);
	json_object_set_new(root, section, e);
	char *text = json_dumps(root, 0);
	enum ed_code rc = parse_s(ms, text, err);
	free(text);
	json_decref(root);
	return rc;
}

/* The same with one entry. */
static enum ed_code parse_one(struct mem_sink *ms, const char *section, const char *entry,
			      struct ed_err *err)
{
	struct ed_buf b = ED_BUF_INIT;
	ed_buf_addf(&b, "[%s]", entry);
	enum ed_code rc = parse_entries(ms, section, b.p, err);
	ed_buf_release(&b);
	return rc;
}

/* The value of the one item made from entry, or NULL. */
static char *one_value(const char *section, const char *entry)
{
	struct mem_sink ms;
	struct ed_err err;
	char *v = NULL;
	if (parse_one(&ms, section, entry, &err) == ED_OK && ms.n == 1)
		v = strdup(ms.items[0].value);
	else
		printf("# %s: %s\n", section, err.msg);
	mem_sink_release(&ms);
	return v;
}

static void is_one(const char *section, const char *entry, const char *want, const char *what)
{
	char *got = one_value(section, entry);
	is_str(got, want, "%s", what);
	free(got);
}

#define FN(body)                                                                                \
	"{\"schema\": \"s\", \"name\": \"f\", \"ident\": \"s.f\", \"identity_arguments\": \"\", "   \
	"\"arguments\": \"\", \"result\": \"integer\", \"kind\": \"f\", \"language\": \"plpgsql\", " \
	"\"volatility\": \"v\", \"strict\": false, \"security_definer\": false, "                  \
	"\"leakproof\": false, \"parallel\": \"u\", \"config\": null, \"body\": " body ", "        \
	"\"binary\": null}"

static void same_body(const char *a, const char *b, bool same, const char *what)
{
	char *x = one_value("functions", a), *y = one_value("functions", b);
	ok(x && y && (strcmp(x, y) == 0) == same, "%s", what);
	if (!(x && y && (strcmp(x, y) == 0) == same))
		printf("#   a: %s\n#   b: %s\n", x ? x : "(null)", y ? y : "(null)");
	free(x);
	free(y);
}

static void test_whitespace(void)
{
	is_one("views",
	       "{\"schema\": \"s\", \"name\": \"v\", \"ident\": \"s.v\", \"materialized\": true,"
	       " \"options\": null, \"definition\": \" SELECT a,\\n\\t b\\r\\n  FROM t"
	       " WHERE (x = 'a  b\\n c') AND (\\\"Col  X\\\" = 1)\\n;\"}",
	       "CREATE MATERIALIZED VIEW s.v AS SELECT a, b FROM t WHERE (x = 'a  b\n c') AND "
	       "(\"Col  X\" = 1)",
	       "whitespace collapsed outside quotes, kept inside; the ';' dropped");
	is_one("constraints",
	       "{\"schema\": \"s\", \"table\": \"t\", \"name\": \"c\", \"type\": \"c\","
	       " \"definition\": \"CHECK ((note <> 'it''s  x'))\"}",
	       "CHECK ((note <> 'it''s  x'))", "doubled quotes inside a literal");
	is_one("enums",
	       "{\"schema\": \"s\", \"name\": \"e\", \"ident\": \"s.e\", \"labels\":"
	       " [\"a  b\", \"it's\", \" \"]}",
	       "CREATE TYPE s.e AS ENUM ('a  b', 'it''s', ' ')", "enum labels quoted, kept as they are");

	same_body(FN("\"BEGIN\\n\\tRETURN 1;\\nEND\""), FN("\"  BEGIN RETURN 1; END  \""), true,
		  "bodies differing only in whitespace have one fingerprint");
	same_body(FN("\"BEGIN RETURN 'a b'; END\""), FN("\"BEGIN RETURN 'a  b'; END\""), false,
		  "whitespace inside a string literal is a difference");
	same_body(FN("\"BEGIN RETURN $x$a b$x$; END\""), FN("\"BEGIN RETURN $x$a  b$x$; END\""),
		  false, "whitespace inside a dollar-quoted string is a difference");
	same_body(FN("\"BEGIN RETURN E'\\\\' a  b'; END\""), FN("\"BEGIN RETURN E'\\\\' a b'; END\""),
		  false, "E'...' with an escaped quote is one literal");
	same_body(FN("\"x := 1; -- note\\ny := 2;\""), FN("\"x := 1; -- note y := 2;\""), false,
		  "a line break that ends a -- comment is a difference");
	same_body(FN("\"x := 1; -- note\\n   y := 2;\""), FN("\"x := 1; -- note\\ny := 2;\""), true,
		  "indentation after a -- comment is not");
	same_body(FN("\"x := 1; -- note \\r\\n\\ty := 2;\\r\\n\""), FN("\"x := 1; -- note\\ny := 2;\""),
		  true, "CRLF line ends, also after a -- comment, are not");
	same_body(FN("\"/* a /* nested */  b */ x\""), FN("\"/* a /* nested */ b */ x\""), false,
		  "nested block comments are kept whole");
	same_body(FN("\"SELECT $1  +  $2\""), FN("\"SELECT $1 + $2\""), true,
		  "$1 is a parameter, not a dollar quote");
	same_body(FN("\"BEGIN RETURN 1; END\""), FN("\"BEGIN RETURN 2; END\""), false,
		  "a changed body changes the fingerprint");
	char *v = one_value("functions", FN("\"BEGIN RETURN 'hunter2'; END\""));
	ok(v && !strstr(v, "hunter2") && strstr(v, " BODY hmac:"),
	   "the body itself is not in the value, only its keyed fingerprint");
	free(v);
	is_one("functions", FN("null"),
	       "CREATE FUNCTION s.f() RETURNS integer LANGUAGE plpgsql", "a function without a body");
}

#define SCOL(name, dflt)                                                                      \
	"{\"schema\": \"s\", \"table\": \"t\", \"name\": \"" name "\", \"type\": \"text\", "   \
	"\"collation\": null, \"not_null\": false, \"default\": \"" dflt "\", "                 \
	"\"generated\": \"\", \"identity\": \"\"}"

/* The one item parsed from entry with key, copied into *it; false when there is not exactly one. */
static bool one_item(const char *section, const char *entry, const uint8_t *key,
		     struct mem_item *it, char **value)
{
	struct mem_sink ms;
	struct ed_err err;
	const struct ed_secrets sec = {.key = key};
	struct ed_buf b = ED_BUF_INIT;
	ed_buf_addf(&b, "[%s]", entry);
	json_t *root = json_loads(DOC(EMPTY_SECTIONS), 0, NULL);
	json_object_set_new(root, section, json_loads(b.p, 0, NULL));
	char *text = json_dumps(root, 0);
	mem_sink_init(&ms);
	memset(&err, 0, sizeof(err));
	bool one = ed_pg_catalog_parse(ed_str_of(text, strlen(text)), "shop", &sec, &ms.sink,
				       &err) == ED_OK && ms.n == 1;
	if (one) {
		*it = ms.items[0];
		*value = strdup(ms.items[0].value ? ms.items[0].value : "");
		it->attrs = it->attrs ? strdup(it->attrs) : NULL;
	} else {
		printf("# %s: %s\n", section, err.msg);
	}
	free(text);
	json_decref(root);
	ed_buf_release(&b);
	mem_sink_release(&ms);
	return one;
}

static bool fp_keyed_of(const struct mem_item *it, const uint8_t *key, const char *text)
{
	struct ed_fp fp;
	struct ed_err err;
	return ed_fp_keyed(key, text, strlen(text), &fp, &err) == ED_OK &&
	       memcmp(fp.b, it->fp.b, ED_FP_LEN) == 0;
}

static bool fp_plain_of(const struct mem_item *it, const char *text)
{
	struct ed_fp fp;
	ed_fp_of(text, strlen(text), &fp);
	return memcmp(fp.b, it->fp.b, ED_FP_LEN) == 0;
}

/* A.5: secret literals in definitions are masked, their fingerprint keyed; bodies keyed. */
static void test_secret_literals(void)
{
	struct mem_item a, b, c;
	char *va = NULL, *vb = NULL, *vc = NULL;
	uint8_t other_key[ED_KEY_LEN] = {42};

	ok(one_item("columns", SCOL("password", "'hunter2'::text"), test_key, &a, &va),
	   "a column whose default is a password");
	is_str(va, "text DEFAULT '<secret>'::text", "  the default is masked, the rest kept");
	is_str(a.attrs, ED_ATTRS_MASKED, "  attrs masked");
	ok(fp_keyed_of(&a, test_key, "text DEFAULT 'hunter2'::text"),
	   "  fingerprint: keyed, of the unmasked definition");
	ok(!fp_plain_of(&a, "text DEFAULT 'hunter2'::text") && !fp_plain_of(&a, va),
	   "  and no plain XXH3 of either text");
	ok(one_item("columns", SCOL("password", "'hunter3'::text"), test_key, &b, &vb),
	   "the same column with another password");
	ok(va && vb && strcmp(va, vb) == 0 && memcmp(a.fp.b, b.fp.b, ED_FP_LEN) != 0,
	   "  the same shown value, another fingerprint: the change is drift");
	free(va);
	free(vb);
	free(a.attrs);
	free(b.attrs);

	ok(one_item("columns", SCOL("status", "'active'::text"), test_key, &a, &va),
	   "an ordinary default");
	ok(va && strcmp(va, "text DEFAULT 'active'::text") == 0 && !a.attrs && fp_plain_of(&a, va),
	   "  kept, no attrs, plain fingerprint of the value");
	free(va);
	free(a.attrs);

	ok(one_item("views",
		    "{\"schema\": \"s\", \"name\": \"v\", \"ident\": \"s.v\", \"materialized\": "
		    "false, \"options\": null, \"definition\": \" SELECT 'ghp_0123456789abcdefghij"
		    "klmnopqrstuvwxyz'::text AS t, 'x'::text AS api_key;\"}",
		    test_key, &a, &va),
	   "a view selecting a token and a secret-named literal");
	is_str(va, "CREATE VIEW s.v AS SELECT '<secret>'::text AS t, '<secret>'::text AS api_key",
	       "  both masked");
	is_str(a.attrs, ED_ATTRS_MASKED, "  attrs masked");
	free(va);
	free(a.attrs);

	ok(one_item("constraints",
		    "{\"schema\": \"s\", \"table\": \"t\", \"name\": \"c\", \"type\": \"c\", "
		    "\"definition\": \"CHECK ((secret_key <> 'x1'::text))\"}",
		    test_key, &a, &va),
	   "a check constraint on a secret-named column");
	is_str(va, "CHECK ((secret_key <> '<secret>'::text))", "  masked");
	free(va);
	free(a.attrs);

	const char *fn = "{\"schema\": \"s\", \"name\": \"f\", \"ident\": \"s.f\", "
			 "\"identity_arguments\": \"token text\", \"arguments\": \"token text "
			 "DEFAULT 'tk1'::text\", \"result\": \"text\", \"kind\": \"f\", \"language\": "
			 "\"sql\", \"volatility\": \"v\", \"strict\": false, \"security_definer\": "
			 "false, \"leakproof\": false, \"parallel\": \"u\", \"config\": null, "
			 "\"body\": \"SELECT 'pw'\", \"binary\": null}";
	ok(one_item("functions", fn, test_key, &a, &va) &&
	   one_item("functions", fn, other_key, &b, &vb),
	   "a function with a secret argument default, under two store keys");
	struct ed_fp body, plain;
	struct ed_err err;
	char hex[2 * ED_FP_LEN + 1], want[160];
	ed_fp_keyed(test_key, "SELECT 'pw'", 11, &body, &err);
	ed_fp_hex(&body, hex);
	snprintf(want, sizeof(want), "CREATE FUNCTION s.f(token text DEFAULT '<secret>'::text) "
		 "RETURNS text LANGUAGE sql BODY hmac:%s", hex);
	is_str(va, want, "  the default masked, the body as its keyed fingerprint");
	ed_fp_of("SELECT 'pw'", 11, &plain);
	ed_fp_hex(&plain, hex);
	ok(va && !strstr(va, hex) && !strstr(va, "xxh3:"), "  no plain XXH3 of the body");
	ok(va && vb && strcmp(va, vb) != 0, "  another store key, another body fingerprint");
	ok(one_item("functions", fn, test_key, &c, &vc) && va && vc && strcmp(va, vc) == 0 &&
	   memcmp(a.fp.b, c.fp.b, ED_FP_LEN) == 0, "  the same key, the same value and fingerprint");
	free(va);
	free(vb);
	free(vc);
	free(a.attrs);
	free(b.attrs);
	free(c.attrs);

	const char *set = "{\"schema\": \"s\", \"name\": \"g\", \"ident\": \"s.g\", "
			  "\"identity_arguments\": \"\", \"arguments\": \"\", \"result\": \"text\", "
			  "\"kind\": \"f\", \"language\": \"sql\", \"volatility\": \"v\", "
			  "\"strict\": false, \"security_definer\": false, \"leakproof\": false, "
			  "\"parallel\": \"u\", \"config\": [\"search_path=pg_catalog\", "
			  "\"app.api_key=k3y-1\", \"app.dsn=postgres://u:pw-2@db/x\"], "
			  "\"body\": null, \"binary\": null}";
	ok(one_item("functions", set, test_key, &a, &va), "a function with secret settings");
	is_str(va, "CREATE FUNCTION s.g() RETURNS text LANGUAGE sql SET search_path=pg_catalog "
		   "SET app.api_key='<secret>' SET app.dsn='postgres://u:<secret>@db/x'",
	       "  a setting named like a secret, a credential URL: masked; the others as they were");
	is_str(a.attrs, ED_ATTRS_MASKED, "  attrs masked");
	free(va);
	free(a.attrs);

	struct mem_sink ms;
	mem_sink_init(&ms);
	memset(&err, 0, sizeof(err));
	ok(ed_pg_catalog_parse(ed_str_of(doc.p, doc.len), "shop", NULL, &ms.sink, &err) == ED_USAGE &&
	   ms.n == 0, "no store key: ED_USAGE, nothing emitted");
	mem_sink_release(&ms);
}

/* Two objects with one key and different definitions: the kept one must not depend on order. */
static void test_duplicate_keys(void)
{
#define COL(t, c, type)                                                                     \
	"{\"schema\": \"s\", \"table\": \"" t "\", \"name\": \"" c "\", \"type\": \"" type "\"," \
	" \"not_null\": false}"
	static const char *const entries[] = {
		"[" COL("a.b", "c", "integer") ", " COL("a", "b.c", "text") "]",
		"[" COL("a", "b.c", "text") ", " COL("a.b", "c", "integer") "]",
	};
#undef COL
	char *kept[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++) {
		struct mem_sink ms;
		struct ed_err err;
		if (parse_entries(&ms, "columns", entries[i], &err) == ED_OK && ms.n == 1 &&
		    ms.nwarnings == 1)
			kept[i] = strdup(ms.items[0].value);
		else
			printf("# %s\n", err.msg);
		mem_sink_release(&ms);
	}
	ok(kept[0] && kept[1] && strcmp(kept[0], kept[1]) == 0,
	   "a key shared by two objects keeps the same one whatever the catalog order (%s)",
	   kept[0] ? kept[0] : "none");
	free(kept[0]);
	free(kept[1]);
}

static void parse_fails(const char *json, const char *needle, const char *what)
{
	struct mem_sink ms;
	struct ed_err err;
	enum ed_code rc = parse_s(&ms, json, &err);
	ok(rc == ED_PARSE && ms.n == 0 && strstr(err.msg, needle) &&
		   strstr(err.msg, "postgres:shop"),
	   "%s: ED_PARSE naming the label, nothing emitted", what);
	if (!(rc == ED_PARSE && ms.n == 0 && strstr(err.msg, needle)))
		printf("#   rc %d, %zu items, message: %s\n", rc, ms.n, err.msg);
	mem_sink_release(&ms);
}

static void entry_fails(const char *section, const char *entry, const char *needle,
			const char *what)
{
	struct mem_sink ms;
	struct ed_err err;
	enum ed_code rc = parse_one(&ms, section, entry, &err);
	ok(rc == ED_PARSE && ms.n == 0 && strstr(err.msg, needle), "%s", what);
	if (!(rc == ED_PARSE && ms.n == 0 && strstr(err.msg, needle)))
		printf("#   rc %d, %zu items, message: %s\n", rc, ms.n, err.msg);
	mem_sink_release(&ms);
}

static void test_malformed(void)
{
	parse_fails("", "printed no catalog document", "empty output");
	parse_fails("\n \n", "printed no catalog document", "only whitespace");
	parse_fails("psql: warning: extra command-line argument\n", "not JSON", "not JSON");
	parse_fails("[]", "not a catalog document", "an array");
	parse_fails("{\"format\": \"envdrift.pg_catalog/2\"}", "not a catalog document",
		    "another format");
	parse_fails(DOC("\"schemas\": []"), "'tables' is missing", "a missing section");
	parse_fails(DOC("\"schemas\": {}, \"tables\": []"), "'schemas' is missing or not an array",
		    "a section that is not an array");
	parse_fails(DOC(EMPTY_SECTIONS ", \"tables\": []"), "duplicate", "a duplicate member");
	parse_fails(DOC(EMPTY_SECTIONS) " {}", "not JSON", "text after the document");
	parse_fails("{\"format\": \"envdrift.pg_catalog/1\", \"schemas\": [{\"name\": \"s3cr3t",
		    "not JSON", "a truncated document");
	{
		struct mem_sink ms;
		struct ed_err err;
		parse_s(&ms, "{\"format\": \"envdrift.pg_catalog/1\", \"x\": s3cr3tvalue}", &err);
		ok(!strstr(err.msg, "s3cr3tvalue"), "the message does not quote the input");
		mem_sink_release(&ms);
	}
	/* Half of the real document. */
	{
		struct mem_sink ms;
		struct ed_err err;
		enum ed_code rc = parse(&ms, doc.p, doc.len / 2, &err);
		ok(rc == ED_PARSE && ms.n == 0, "the captured document cut in half: ED_PARSE, no items");
		mem_sink_release(&ms);
	}
	{
		struct mem_sink ms;
		struct ed_err err;
		enum ed_code rc = parse_s(&ms, DOC(EMPTY_SECTIONS) "\n", &err);
		ok(rc == ED_OK && ms.n == 0 && ms.nwarnings == 0, "every section empty: no items");
		mem_sink_release(&ms);
	}
	entry_fails("tables", "42", "tables[0] is not an object", "an entry that is not an object");
	entry_fails("schemas", "{\"ident\": \"x\"}", "schemas[0]: 'name' is missing or not a string",
		    "a missing name");
	entry_fails("schemas", "{\"name\": \"\", \"ident\": \"x\"}", "schemas[0]: 'name' is empty",
		    "an empty name");
	entry_fails("indexes",
		    "{\"schema\": \"s\", \"name\": \"i\", \"definition\": \"CREATE INDEX\","
		    " \"valid\": \"yes\"}",
		    "indexes[0]: 'valid' is missing or not a boolean", "a boolean that is a string");
	entry_fails("columns",
		    "{\"schema\": \"s\", \"table\": \"t\", \"name\": \"c\", \"type\": \"int\","
		    " \"not_null\": false, \"default\": 7}",
		    "columns[0]: 'default' is not a string", "a default that is a number");
	entry_fails("tables",
		    "{\"schema\": \"s\", \"name\": \"t\", \"ident\": \"s.t\", \"kind\": \"r\","
		    " \"persistence\": \"p\", \"options\": [\"a=1\", 2], \"row_security\": false,"
		    " \"force_row_security\": false}",
		    "tables[0]: 'options' is not an array of strings", "options with a number");
	entry_fails("enums", "{\"schema\": \"s\", \"name\": \"e\", \"ident\": \"s.e\"}",
		    "enums[0]: 'labels' is missing", "an enum without labels");
	is_one("tables",
	       "{\"schema\": \"s\", \"name\": \"t\", \"ident\": \"s.t\", \"kind\": \"Z\","
	       " \"persistence\": \"q\", \"row_security\": false, \"force_row_security\": false}",
	       "CREATE (persistence q) TABLE s.t (kind Z)", "unknown codes are shown, not dropped");
}

static void test_sink_failure(void)
{
	struct mem_sink ms;
	struct ed_err err;
	mem_sink_init(&ms);
	ms.fail_after = 5;
	memset(&err, 0, sizeof(err));
	enum ed_code rc = ed_pg_catalog_parse(ed_str_of(doc.p, doc.len), "shop", &test_sec, &ms.sink,
					      &err);
	ok(rc == ED_STORE && ms.n == 4, "a sink error stops the parse and is returned (%s)", err.msg);
	mem_sink_release(&ms);
}

static void is_redacted(const char *ci, const char *want, const char *what)
{
	struct ed_buf b = ED_BUF_INIT;
	ed_buf_adds(&b, "kept ");
	int r = ed_pg_conninfo_redact(ci, &b);
	bool good = r == 0 && strncmp(ed_buf_str(&b), "kept ", 5) == 0 &&
		    strcmp(ed_buf_str(&b) + 5, want) == 0;
	ok(good, "redact %s", what);
	if (!good)
		printf("#   got:  %d '%s'\n#   want: 0 'kept %s'\n", r, ed_buf_str(&b), want);
	ed_buf_release(&b);
}

static void is_dbname(const char *ci, enum ed_code want_rc, const char *want, const char *what)
{
	struct ed_buf b = ED_BUF_INIT;
	struct ed_err err = {ED_OK, ""};
	enum ed_code rc = ed_pg_conninfo_dbname(ci, &b, &err);
	ok(rc == want_rc && strcmp(ed_buf_str(&b), want) == 0, "dbname of %s", what);
	if (!(rc == want_rc && strcmp(ed_buf_str(&b), want) == 0))
		printf("#   rc %d, '%s', %s\n", rc, ed_buf_str(&b), err.msg);
	ed_buf_release(&b);
}

static void test_conninfo(void)
{
	is_redacted("host=/run/pg port=5432 dbname=shop user=app password=s3cret",
		    "host=/run/pg port=5432 dbname=shop user=app", "key=value");
	is_redacted("password = 's3 cr\\'et' host=db dbname=shop",
		    "host=db dbname=shop", "a quoted password first, with spaces around '='");
	is_redacted("host=db sslpassword=keypass dbname=shop", "host=db dbname=shop",
		    "sslpassword");
	is_redacted("postgresql://app:s3cret@db.internal:5432/shop?sslmode=require",
		    "postgresql://app@db.internal:5432/shop?sslmode=require", "URI user:password@");
	is_redacted("postgres://db/shop?user=app&password=s3cret&sslmode=require",
		    "postgres://db/shop?user=app&sslmode=require", "URI password parameter");
	is_redacted("postgresql://db/shop?password=s3cret", "postgresql://db/shop",
		    "URI with only a password parameter");
	is_redacted("shop", "shop", "a bare database name");
	is_redacted("dbname='host=db password=s3cret dbname=shop' user=app",
		    "dbname='host=db dbname=shop' user=app", "a dbname that is a connection string");
	is_redacted("host=db dbname=shop password", "host=db dbname=shop ...",
		    "text that does not parse ends in ...");
	is_redacted("password='unterminated host=db", "...", "an unterminated quote");

	is_dbname("host=db dbname=shop_prod user=app", ED_OK, "shop_prod", "key=value");
	is_dbname("dbname = 'my shop' dbname=last", ED_OK, "last", "the last dbname");
	is_dbname("shop", ED_OK, "shop", "a bare name");
	is_dbname("postgresql://app:pw@db:5432/shop%20prod?sslmode=require", ED_OK, "shop prod",
		  "a URI path, percent-decoded");
	is_dbname("postgresql://db/ignored?dbname=shop", ED_OK, "shop", "a URI dbname parameter");
	is_dbname("dbname='host=x dbname=inner'", ED_OK, "inner", "a nested connection string");
	is_dbname("host=db user=app", ED_NOTFOUND, "", "key=value without dbname");
	is_dbname("postgresql://db:5432", ED_NOTFOUND, "", "a URI without a database");
	is_dbname("host=db dbname", ED_PARSE, "", "text that does not parse");
}

/* --- the psql run, through a scripted source --- */

struct fake {
	struct ed_source src; /* first: the collector sees a struct ed_source */
	const char *out;      /* what "psql" prints */
	int status;           /* its exit status */
	enum ed_code rc;      /* what run() itself returns */
	const char *errmsg;   /* run()'s message */
	char argv[64][128];   /* the argv it got (each cut at 127 bytes) */
	size_t argc;
	size_t max;
	int timeout_ms;
};

static enum ed_code fake_run(struct ed_source *src, const char *const *argv, size_t max,
			     int timeout_ms, struct ed_buf *out, int *exit_status, struct ed_err *err)
{
	struct fake *f = (struct fake *)src;
	for (f->argc = 0; argv[f->argc] && f->argc < 64; f->argc++)
		snprintf(f->argv[f->argc], sizeof(f->argv[0]), "%s", argv[f->argc]);
	f->max = max;
	f->timeout_ms = timeout_ms;
	if (f->rc)
		return ed_err_set(err, f->rc, "%s", f->errmsg);
	*exit_status = f->status;
	if (f->status)
		ed_err_set(err, ED_OK, "%s", f->errmsg);
	if (f->out)
		ed_buf_adds(out, f->out);
	return ED_OK;
}

static const struct ed_source_ops fake_ops = {.name = "fake", .run = fake_run};

static void test_collect(void)
{
	struct fake f;
	struct mem_sink ms;
	struct ed_err err;
	const char *ci = "host=db dbname=shop_prod user=app password=pw-Zq8";

	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.out = doc.p;
	mem_sink_init(&ms);
	enum ed_code rc = ed_schema_postgres_collect(&f.src, "shop", ci, &test_sec, &ms.sink, &err);
	is_int(rc, ED_OK, "collect through the source's run: ED_OK");
	is_int(ms.n, 89, "the same 89 items as parsing the document");
	static const char *const want[] = {"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
					   "-1", "-d", NULL, "-c", NULL, "-c", NULL};
	bool argv_ok = f.argc == 14;
	for (size_t i = 0; argv_ok && i < 14; i++)
		argv_ok = !want[i] || strcmp(f.argv[i], want[i]) == 0;
	ok(argv_ok && strcmp(f.argv[9], ci) == 0,
	   "argv: psql -X -q -A -t -v ON_ERROR_STOP=1 -1 -d CONNINFO -c SETTINGS -c QUERY");
	ok(strstr(f.argv[11], "SET TRANSACTION READ ONLY") &&
		   strstr(f.argv[11], "search_path = pg_catalog"),
	   "settings: a read-only transaction, search_path pg_catalog");
	ok(strncmp(f.argv[13], "WITH ext AS", 11) == 0, "one catalog query");
	is_int(f.max, 256u * 1024 * 1024, "output capped at 256 MiB");
	is_int(f.timeout_ms, 120000, "deadline 120 s");
	ok(ms.nwarnings == 2 && mem_sink_warned(&ms, "holds a password") &&
		   !mem_sink_warned(&ms, "pw-Zq8"),
	   "a password in the connection string is a warning that does not show it");
	mem_sink_release(&ms);

	/* psql fails: its words, the label, the redacted conninfo, never the password. */
	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.status = 2;
	f.errmsg = "psql exited with status 2: psql: error: missing \"=\" after \"pw-Zq8\"";
	mem_sink_init(&ms);
	memset(&err, 0, sizeof(err));
	rc = ed_schema_postgres_collect(&f.src, "shop", ci, &test_sec, &ms.sink, &err);
	is_int(rc, ED_IO, "psql exits 2: ED_IO");
	is_str(err.msg,
	       "postgres:shop (host=db dbname=shop_prod user=app): psql exited with status 2: "
	       "psql: error: missing \"=\" after \"***\"",
	       "the message names label and conninfo, and psql's words without the password");
	ok(ms.n == 0, "nothing emitted");
	mem_sink_release(&ms);

	/* A message cut off in the middle of the password. */
	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.status = 1;
	f.errmsg = "psql exited with status 1: pw-Zq8pw-Zq8 pw-Z";
	mem_sink_init(&ms);
	rc = ed_schema_postgres_collect(&f.src, "shop", ci, &test_sec, &ms.sink, &err);
	ok(rc == ED_IO && strstr(err.msg, "status 1: ****** ***") && !strstr(err.msg, "pw-"),
	   "every occurrence is scrubbed, and a start of the password at the end (%s)", err.msg);
	mem_sink_release(&ms);

	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.rc = ED_NOTFOUND;
	f.errmsg = "psql: cannot run: No such file or directory";
	mem_sink_init(&ms);
	rc = ed_schema_postgres_collect(&f.src, "shop", "postgresql://app:pw-Zq8@db/shop", &test_sec,
					&ms.sink, &err);
	is_int(rc, ED_NOTFOUND, "no psql: ED_NOTFOUND");
	is_str(err.msg,
	       "postgres:shop (postgresql://app@db/shop): psql is not installed on the host "
	       "(Debian: postgresql-client)", "the message says psql is missing");
	mem_sink_release(&ms);

	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.rc = ED_TOOBIG;
	f.errmsg = "psql: printed more than 268435456 bytes; stopped";
	mem_sink_init(&ms);
	rc = ed_schema_postgres_collect(&f.src, "shop", "dbname=shop", &test_sec, &ms.sink, &err);
	ok(rc == ED_TOOBIG && strstr(err.msg, "postgres:shop (dbname=shop): psql: printed more"),
	   "too much output: ED_TOOBIG naming the database");
	mem_sink_release(&ms);

	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.out = "";
	mem_sink_init(&ms);
	rc = ed_schema_postgres_collect(&f.src, "shop", "dbname=shop", &test_sec, &ms.sink, &err);
	ok(rc == ED_PARSE && strstr(err.msg, "printed no catalog document"),
	   "psql prints nothing: ED_PARSE");
	mem_sink_release(&ms);

	mem_sink_init(&ms);
	rc = ed_schema_postgres_collect(&f.src, "", "dbname=shop", &test_sec, &ms.sink, &err);
	is_int(rc, ED_USAGE, "an empty label: ED_USAGE");
	mem_sink_release(&ms);
}

/* The catalog and the data shape by one psql: the shape's document after an RS byte. */
static void test_collect_shape(void)
{
	static const char shape[] =
		"{\"format\":\"envdrift.pg_datashape/1\",\"exact_count\":false,\"tables\":["
		"{\"schema\":\"public\",\"name\":\"orders\",\"reltuples\":820,\"live\":820,"
		"\"bytes\":8192,\"analyzed\":true,\"readable\":true,\"count\":null}],"
		"\"columns\":[{\"schema\":\"public\",\"table\":\"orders\",\"name\":\"note\","
		"\"null_frac\":0.5,\"n_distinct\":-0.5,\"width\":8,\"correlation\":1}]}";
	struct ed_buf out = ED_BUF_INIT, q = ED_BUF_INIT;
	struct fake f;
	struct mem_sink ms, cat, sh;
	struct ed_err err = {0};

	ed_buf_add(&out, doc.p, doc.len);
	ed_buf_adds(&out, "\n\x1e");
	ed_buf_adds(&out, shape);
	ed_buf_adds(&out, "\n");
	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.out = out.p;
	mem_sink_init(&ms);
	enum ed_code rc = ed_schema_postgres_collect_shape(&f.src, "shop", "dbname=shop", &test_sec,
							   false, &ms.sink, &err);
	is_int(rc, ED_OK, "shape: catalog and shape by one psql: ED_OK (%s)", err.msg);
	parse(&cat, doc.p, doc.len, &err);
	mem_sink_init(&sh);
	ed_pg_datashape_parse(ed_str_of(shape, strlen(shape)), "shop", &sh.sink, &err);
	char *got = listing(&ms), *want_cat = listing(&cat), *want_sh = listing(&sh);
	struct ed_buf want = ED_BUF_INIT;
	ed_buf_adds(&want, want_cat);
	ed_buf_adds(&want, want_sh);
	ok(ms.n == 89 + 2 && got && strcmp(got, ed_buf_str(&want)) == 0,
	   "shape: the catalog's 89 items, then the shape's 2, as the two parses emit them");
	ok(f.argc == 16 && strcmp(f.argv[10], "-c") == 0 && strcmp(f.argv[12], "-c") == 0 &&
		   strcmp(f.argv[14], "-c") == 0 && strncmp(f.argv[13], "WITH ext AS", 11) == 0 &&
		   strncmp(f.argv[15], "WITH ext AS", 11) == 0,
	   "shape: one psql, -c SETTINGS -c CATALOG -c SHAPE (one transaction, -1)");
	is_int(f.timeout_ms, 2 * 120000, "shape: deadline twice 120 s (each statement has 110 s)");
	free(got);
	free(want_cat);
	free(want_sh);
	ed_buf_release(&want);
	mem_sink_release(&ms);
	mem_sink_release(&cat);
	mem_sink_release(&sh);

	/* No RS: the shape's document is missing, whatever came before. */
	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	f.out = doc.p;
	mem_sink_init(&ms);
	rc = ed_schema_postgres_collect_shape(&f.src, "shop", "dbname=shop", &test_sec, true,
					      &ms.sink, &err);
	ok(rc == ED_PARSE && strcmp(err.msg, "postgres:shop: psql printed no data-shape "
				    "document") == 0 && ms.n == 0,
	   "shape: no RS in psql's output: ED_PARSE naming the database, nothing emitted");
	mem_sink_release(&ms);

	/* The query: RS first, and never a column of values. */
	ok(ed_pg_datashape_query(false, &q, &err) == ED_OK && strstr(q.p, "SELECT chr(30) || ") &&
		   !strstr(q.p, "most_common") && !strstr(q.p, "histogram") &&
		   !strstr(q.p, "count(*)") && !strstr(q.p, "st.*"),
	   "shape query: framed by RS; names no most_common_*, histogram_bounds, count(*), st.*");
	ed_buf_reset(&q);
	ok(ed_pg_datashape_query(true, &q, &err) == ED_OK && strstr(q.p, "count(*)") &&
		   strstr(q.p, "'exact_count', true"),
	   "shape query with exact counts: count(*) per readable table");
	ed_buf_release(&q);
	ed_buf_release(&out);
}

/* --- jansson allocation failures --- */

static long nalloc, fail_at;

/* The data-shape document: tables, pg_stats columns, statistics missing, errors. */
static void test_datashape(void)
{
	static const char doc_text[] =
		"{\"format\":\"envdrift.pg_datashape/1\",\"tables\":["
		"{\"schema\":\"public\",\"name\":\"orders\",\"reltuples\":4.1e+07,\"live\":40999000,"
		"\"bytes\":8192000,\"analyzed\":true,\"readable\":true,\"count\":null},"
		"{\"schema\":\"public\",\"name\":\"fresh\",\"reltuples\":-1,\"live\":50,"
		"\"bytes\":16384,\"analyzed\":false,\"readable\":true,\"count\":null},"
		"{\"schema\":\"public\",\"name\":\"locked\",\"reltuples\":10,\"live\":10,"
		"\"bytes\":8192,\"analyzed\":true,\"readable\":false,\"count\":null}],"
		"\"columns\":["
		"{\"schema\":\"public\",\"table\":\"orders\",\"name\":\"state\",\"null_frac\":0,"
		"\"n_distinct\":3,\"width\":5,\"correlation\":0.33},"
		"{\"schema\":\"public\",\"table\":\"orders\",\"name\":\"note\",\"null_frac\":0.97,"
		"\"n_distinct\":-0.02,\"width\":40,\"correlation\":null}]}";
	struct mem_sink ms;
	struct ed_err err = {0};
	mem_sink_init(&ms);
	is_int(ed_pg_datashape_parse(ed_str_of(doc_text, strlen(doc_text)), "shop", &ms.sink, &err),
	       ED_OK, "datashape: parsed");
	is_int(ms.n, 5, "datashape: three tables, two columns");
	const struct mem_item *it = mem_sink_find(&ms, "postgres:shop/table/public.orders");
	is_str(it ? it->value : NULL, "{\"rows\":41000000,\"estimated\":true,\"bytes\":8192000}",
	       "datashape: a table, reltuples estimated");
	is_str(it ? it->kind : NULL, "data", "datashape: kind data");
	it = mem_sink_find(&ms, "postgres:shop/table/public.fresh");
	is_str(it ? it->value : NULL, "{\"stats\":\"missing\",\"bytes\":16384}",
	       "datashape: never analysed: stats missing, no rows");
	ok(mem_sink_warned(&ms, "postgres:shop: table public.fresh has no statistics"),
	   "datashape: a warning names the table without statistics");
	ok(!mem_sink_warned(&ms, "public.locked: permission denied"),
	   "datashape: no count asked, no permission warning");
	it = mem_sink_find(&ms, "postgres:shop/column/public.orders.state");
	is_str(it ? it->value : NULL,
	       "{\"null_frac\":0,\"distinct\":7.317e-08,\"distinct_values\":3,\"width\":5,"
	       "\"correlation\":0.33}",
	       "datashape: a positive n_distinct is a number of values, and a ratio of the rows");
	it = mem_sink_find(&ms, "postgres:shop/column/public.orders.note");
	is_str(it ? it->value : NULL, "{\"null_frac\":0.97,\"distinct\":0.02,\"width\":40}",
	       "datashape: a negative n_distinct is a ratio; a NULL correlation left out");
	ok(strcmp(ms.items[0].key, "postgres:shop/column/public.orders.note") == 0 &&
		   strcmp(ms.items[4].key, "postgres:shop/table/public.orders") == 0,
	   "datashape: emitted in key order");
	mem_sink_release(&ms);

	static const char counted[] =
		"{\"format\":\"envdrift.pg_datashape/1\",\"exact_count\":true,\"tables\":["
		"{\"schema\":\"public\",\"name\":\"locked\",\"reltuples\":10,\"bytes\":8192,"
		"\"analyzed\":true,\"readable\":false,\"count\":null},"
		"{\"schema\":\"public\",\"name\":\"t\",\"reltuples\":10,\"bytes\":8192,"
		"\"analyzed\":true,\"readable\":true,\"count\":12}],\"columns\":[]}";
	mem_sink_init(&ms);
	is_int(ed_pg_datashape_parse(ed_str_of(counted, strlen(counted)), "shop", &ms.sink, &err),
	       ED_OK, "datashape: exact counts parsed");
	ok(mem_sink_warned(&ms, "postgres:shop: table public.locked: permission denied"),
	   "datashape: a table the user may not count: a warning naming it");
	it = mem_sink_find(&ms, "postgres:shop/table/public.t");
	is_str(it ? it->value : NULL, "{\"rows\":12,\"bytes\":8192}", "datashape: count(*), not estimated");
	mem_sink_release(&ms);

	static const char *const bad[] = {
		"", "[]", "{\"format\":\"x\",\"tables\":[],\"columns\":[]}",
		"{\"format\":\"envdrift.pg_datashape/1\",\"tables\":{},\"columns\":[]}",
		"{\"format\":\"envdrift.pg_datashape/1\",\"tables\":[{\"name\":\"t\"}],\"columns\":[]}",
		"{\"format\":\"envdrift.pg_datashape/1\",\"tables\":[],\"columns\":[{\"schema\":1}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mem_sink_init(&ms);
		is_int(ed_pg_datashape_parse(ed_str_of(bad[i], strlen(bad[i])), "shop", &ms.sink, &err),
		       ED_PARSE, "datashape: bad document %zu refused", i);
		ok(strncmp(err.msg, "postgres:shop: ", 15) == 0, "datashape: bad document %zu: the "
		   "message names the database", i);
		mem_sink_release(&ms);
	}
}

static void *test_malloc(size_t n)
{
	if (fail_at && ++nalloc >= fail_at)
		return NULL;
	return malloc(n);
}

static void test_alloc_failures(void)
{
	struct mem_sink base, ms;
	struct ed_err err;
	enum ed_code base_rc = parse(&base, doc.p, doc.len, &err);
	char *want = listing(&base);
	long n, nomem = 0;
	bool good = true;
	for (n = 1; n < 1000000; n++) {
		nalloc = 0;
		fail_at = n;
		enum ed_code rc = parse(&ms, doc.p, doc.len, &err);
		bool hit = nalloc >= n;
		fail_at = 0;
		char *got = listing(&ms);
		if (rc == ED_NOMEM) {
			nomem++;
			if (ms.n)
				good = false;
		} else if (rc != base_rc || !got || !want || strcmp(got, want) != 0) {
			printf("# failing allocation %ld: rc %d, %zu items: %s\n", n, rc, ms.n,
			       err.msg);
			good = false;
		}
		free(got);
		mem_sink_release(&ms);
		if (!hit)
			break;
	}
	ok(good && nomem > 0,
	   "failing each of %ld jansson allocations: ED_NOMEM and nothing emitted (%ld), or the "
	   "same items", n - 1, nomem);
	free(want);
	mem_sink_release(&base);
}

/* --- COPY's text format, and sensitive rows through a streaming source --- */

struct rows_seen {
	char text[4096]; /* each row as "[v1|v2]", NULL as "~", bytes below 0x20 as \xx */
	size_t n;
};

static enum ed_code keep_row(void *ctx, const struct ed_rowval *v, size_t n, struct ed_err *err)
{
	(void)err;
	struct rows_seen *r = ctx;
	size_t at = strlen(r->text);
	at += (size_t)snprintf(r->text + at, sizeof(r->text) - at, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			at += (size_t)snprintf(r->text + at, sizeof(r->text) - at, "|");
		if (!v[i].p) {
			at += (size_t)snprintf(r->text + at, sizeof(r->text) - at, "~");
			continue;
		}
		for (size_t k = 0; k < v[i].len; k++) {
			unsigned char c = ((const unsigned char *)v[i].p)[k];
			at += (size_t)snprintf(r->text + at, sizeof(r->text) - at,
					       c < 0x20 ? "\\%02x" : "%c", c);
		}
	}
	snprintf(r->text + at, sizeof(r->text) - at, "]");
	r->n++;
	return ED_OK;
}

/* Feeds text to a fresh reader of ncols in chunks of step bytes (0: whole). */
static enum ed_code copy_run(const char *text, size_t ncols, size_t step, struct rows_seen *seen,
			     struct ed_err *err)
{
	struct ed_copy_reader r;
	memset(seen, 0, sizeof(*seen));
	enum ed_code rc = ed_copy_init(&r, ncols, keep_row, seen, err);
	size_t len = strlen(text);
	for (size_t at = 0; !rc && at < len; at += step ? step : len)
		rc = ed_copy_feed(&r, text + at, step && len - at > step ? step : len - at, err);
	if (!rc)
		rc = ed_copy_finish(&r, err);
	ed_copy_release(&r);
	return rc;
}

static void test_copy(void)
{
	const char *text = "a@x\t555\n"
			   "\\N\t\\N\n"                 /* NULL, NULL */
			   "\t\n"                         /* two empty strings */
			   "tab\\there\tnl\\nx\\\\y\n"   /* \t, \n and \\ escaped */
			   "\\101\\x42\\q\t\\b\\f\\r\\v\n"; /* octal, hex, any other byte */
	const char *want = "[a@x|555][~|~][|][tab\\09here|nl\\0ax\\y][ABq|\\08\\0c\\0d\\0b]";
	struct rows_seen seen;
	struct ed_err err = {0};
	is_int(copy_run(text, 2, 0, &seen, &err), ED_OK, "COPY text: whole");
	is_str(seen.text, want, "COPY text: NULLs distinct from empty, escapes decoded");
	is_int(seen.n, 5, "COPY text: five rows");
	for (size_t step = 1; step <= 7; step += 3) {
		is_int(copy_run(text, 2, step, &seen, &err), ED_OK, "COPY text: %zu-byte chunks", step);
		is_str(seen.text, want, "COPY text: the same rows from %zu-byte chunks", step);
	}
	is_int(copy_run("a\tb\tc\n", 2, 0, &seen, &err), ED_PARSE, "COPY: a field too many");
	is_str(err.msg, "COPY row 1 has more than 2 fields", "COPY: its message");
	is_int(copy_run("a\nb\tc\n", 2, 0, &seen, &err), ED_PARSE, "COPY: a field too few");
	is_str(err.msg, "COPY row 1 has 1 fields, not 2", "COPY: its message");
	is_int(copy_run("a\tb\nc\td", 2, 0, &seen, &err), ED_PARSE, "COPY: an unfinished row");
	is_str(err.msg, "COPY output ends inside row 2", "COPY: its message");
}

static enum ed_code fake_stream(struct ed_source *src, const char *const *argv, int timeout_ms,
				ed_source_out_fn out, void *ctx, int *exit_status,
				struct ed_err *err)
{
	struct fake *f = (struct fake *)src;
	for (f->argc = 0; argv[f->argc] && f->argc < 64; f->argc++)
		snprintf(f->argv[f->argc], sizeof(f->argv[0]), "%s", argv[f->argc]);
	f->timeout_ms = timeout_ms;
	*exit_status = f->status;
	if (f->status)
		return ed_err_set(err, ED_OK, "%s", f->errmsg), ED_OK;
	/* In 3-byte chunks: rows arrive split anywhere. */
	size_t len = f->out ? strlen(f->out) : 0;
	for (size_t at = 0; at < len; at += 3) {
		enum ed_code rc = out(ctx, f->out + at, len - at > 3 ? 3 : len - at, err);
		if (rc)
			return rc;
	}
	return ED_OK;
}

static const struct ed_source_ops stream_ops = {.name = "fake", .run = fake_run,
						.stream = fake_stream};

static void test_rows_collect(void)
{
	struct fake f;
	struct mem_sink ms;
	struct ed_err err = {0};
	const char *entries[] = {"public.customer(email,phone)"};
	struct ed_rows_value v;

	memset(&f, 0, sizeof(f));
	f.src.ops = &stream_ops;
	f.out = "a@x\t555\nb@x\t\\N\nc@x\t557\n";
	mem_sink_init(&ms);
	enum ed_code rc = ed_rows_postgres_collect(&f.src, "shop", "dbname=shop", entries, 1,
						   test_key, &ms.sink, &err);
	is_int(rc, ED_OK, "rows: collected through the source's stream");
	is_str(f.argv[f.argc - 1], "COPY (SELECT \"email\", \"phone\" FROM \"public\".\"customer\") TO STDOUT",
	       "rows: the COPY names the columns, quoted");
	const struct mem_item *it = mem_sink_find(&ms, "postgres:shop/rows/public.customer(email,phone)");
	ok(it && strcmp(it->kind, ED_KIND_ROWS) == 0, "rows: one item of kind rows, keyed by entry");
	is_int(it ? ed_rows_value_parse(it->value, &v) : 0, 1, "rows: its value reads back");
	is_int(v.rows, 3, "rows: three rows read");
	ok(v.n <= 3 && v.threshold == ED_ROWS_THRESHOLD_DEFAULT, "rows: the default threshold");
	ok(it && !strstr(it->value, "a@x") && !strstr(it->value, "555"), "rows: no value stored");
	ed_rows_value_release(&v);
	mem_sink_release(&ms);

	/* Over a table that psql cannot read: a warning, nothing emitted. */
	memset(&f, 0, sizeof(f));
	f.src.ops = &stream_ops;
	f.status = 1;
	f.errmsg = "psql exited with status 1: ERROR:  relation \"public.customer\" does not exist";
	mem_sink_init(&ms);
	rc = ed_rows_postgres_collect(&f.src, "shop", "dbname=shop", entries, 1, test_key,
				      &ms.sink, &err);
	is_int(rc, ED_OK, "rows: a missing table is no error");
	is_int(ms.n, 0, "rows: ... and no item");
	ok(mem_sink_warned(&ms, "sensitive public.customer(email,phone) not fingerprinted: "
				"postgres:shop (dbname=shop): psql exited with status 1: ERROR:  "
				"relation \"public.customer\" does not exist"),
	   "rows: a warning naming the entry and psql's words");
	mem_sink_release(&ms);

	/* Output that is not the entry's columns: an error naming the entry. */
	memset(&f, 0, sizeof(f));
	f.src.ops = &stream_ops;
	f.out = "a@x\n";
	mem_sink_init(&ms);
	rc = ed_rows_postgres_collect(&f.src, "shop", "dbname=shop", entries, 1, test_key,
				      &ms.sink, &err);
	is_int(rc, ED_PARSE, "rows: a row of the wrong shape is ED_PARSE");
	is_str(err.msg, "postgres:shop (dbname=shop): COPY row 1 has 1 fields, not 2 (sensitive "
			"public.customer(email,phone))", "rows: its message names the entry");
	mem_sink_release(&ms);

	/* A source that cannot stream. */
	memset(&f, 0, sizeof(f));
	f.src.ops = &fake_ops;
	mem_sink_init(&ms);
	rc = ed_rows_postgres_collect(&f.src, "shop", "dbname=shop", entries, 1, test_key,
				      &ms.sink, &err);
	is_int(rc, ED_UNSUPPORTED, "rows: a source without stream is ED_UNSUPPORTED");
	mem_sink_release(&ms);
}

int main(int argc, char **argv)
{
	static char dir[4096];
	if (argc > 1) {
		data_dir = argv[1];
	} else if (getenv("ED_TEST_DATA")) {
		data_dir = getenv("ED_TEST_DATA");
	} else {
		/* __FILE__ is tests/unit/test_pgschema.c, relative to where the compiler ran. */
		const char *slash = strrchr(__FILE__, '/');
		int len = slash ? (int)(slash - __FILE__) : 1;
		snprintf(dir, sizeof(dir), "%.*s/../data", len, slash ? __FILE__ : ".");
		data_dir = dir;
	}
	size_t len = 0;
	char *d = slurp("pg-catalog.json", &len);
	if (!d) {
		printf("Bail out! cannot read %s/pg-catalog.json\n", data_dir);
		return 2;
	}
	ed_buf_add(&doc, d, len);
	free(d);
	json_set_alloc_funcs(test_malloc, free);
	for (size_t i = 0; i < ED_KEY_LEN; i++)
		test_key[i] = (uint8_t)(i + 7);

	test_captured();
	test_order_independent();
	test_duplicate_keys();
	test_whitespace();
	test_secret_literals();
	test_malformed();
	test_sink_failure();
	test_conninfo();
	test_collect();
	test_collect_shape();
	test_alloc_failures();
	test_datashape();
	test_copy();
	test_rows_collect();
	ed_buf_release(&doc);
	return tap_done();
}
