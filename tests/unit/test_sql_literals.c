/* SPDX-License-Identifier: MIT */
/* The masker of secret string literals in SQL definitions (collector/sql_literals.c). */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "tap.h"

#define PG ED_SQL_POSTGRES
#define LITE ED_SQL_SQLITE

/* A GitHub token shape the detectors know (ghp_ + 36). */
#define GHP "ghp_0123456789abcdefghijklmnopqrstuvwxyz"

/* Masks sql with the default patterns; checks the text and how many literals were masked. */
static void is_masked(enum ed_sql_dialect d, const char *subject, const char *sql,
		      const char *want, size_t nwant, const char *what)
{
	struct ed_buf out = ED_BUF_INIT;
	size_t n = 99;
	int r = ed_sql_mask_literals(NULL, d, subject, sql, strlen(sql), &out, &n);
	is_str(r == 0 ? ed_buf_str(&out) : NULL, want, "%s", what);
	is_int(n, nwant, "  %zu literal(s) masked", nwant);
	/* Masking what was masked changes nothing more. */
	struct ed_buf again = ED_BUF_INIT;
	r = ed_sql_mask_literals(NULL, d, subject, out.p ? out.p : "", out.len, &again, NULL);
	ok(r == 0 && strcmp(ed_buf_str(&again), ed_buf_str(&out)) == 0, "  masking again is a no-op");
	ed_buf_release(&again);
	ed_buf_release(&out);
}

static void same(enum ed_sql_dialect d, const char *subject, const char *sql, const char *what)
{
	is_masked(d, subject, sql, sql, 0, what);
}

static void test_by_name(void)
{
	is_masked(PG, "password", "text DEFAULT 'hunter2'::text", "text DEFAULT '<secret>'::text", 1,
		  "pg column default of a secret-named column");
	is_masked(LITE, "password", "TEXT NOT NULL DEFAULT 'hunter2'",
		  "TEXT NOT NULL DEFAULT '<secret>'", 1, "sqlite column default");
	is_masked(LITE, "api_token", "TEXT DEFAULT ('hun''ter2' || 'x')",
		  "TEXT DEFAULT ('<secret>' || '<secret>')", 2,
		  "a parenthesised default expression, '' inside");
	is_masked(PG, "db_pwd", "character varying(20) DEFAULT 'hunter2'::character varying",
		  "character varying(20) DEFAULT '<secret>'::character varying", 1,
		  "multi-word type and cast");
	same(PG, "status", "text DEFAULT 'active'::text", "an ordinary column keeps its default");
	same(PG, NULL, "text DEFAULT 'hunter2'::text", "no subject, no name: kept");
	is_masked(LITE, NULL,
		  "CREATE TABLE t(id INTEGER, api_token TEXT DEFAULT 'abc', status TEXT DEFAULT "
		  "'active')",
		  "CREATE TABLE t(id INTEGER, api_token TEXT DEFAULT '<secret>', status TEXT DEFAULT "
		  "'active')",
		  1, "a whole CREATE TABLE: the default of its secret-named column only");
	is_masked(PG, NULL, "CHECK ((secret_key <> 'x'::text))", "CHECK ((secret_key <> '<secret>'::text))",
		  1, "check constraint comparing a secret-named column");
	is_masked(PG, NULL, "CHECK (((api_token)::text = 'abc'::text))",
		  "CHECK (((api_token)::text = '<secret>'::text))", 1, "a cast column compared");
	same(PG, NULL, "CHECK ((password <> ''::text))", "an empty literal says nothing: kept");
	same(PG, NULL, "CHECK ((length(password) >= 8))", "a number is no string literal");
	is_masked(PG, NULL, "CREATE VIEW public.v AS SELECT 'opensesame'::text AS token",
		  "CREATE VIEW public.v AS SELECT '<secret>'::text AS token", 1,
		  "a view selecting a literal as a secret-named column");
	is_masked(LITE, NULL, "CREATE VIEW v AS SELECT 'opensesame' AS \"Api_Key\", 'x' AS label",
		  "CREATE VIEW v AS SELECT '<secret>' AS \"Api_Key\", 'x' AS label", 1,
		  "a quoted alias; other aliases kept");
	is_masked(LITE, NULL, "SELECT coalesce(x, 'fallback') AS token FROM t",
		  "SELECT coalesce(x, '<secret>') AS token FROM t", 1,
		  "the last literal of an aliased call");
	is_masked(LITE, NULL,
		  "CREATE TRIGGER tr AFTER INSERT ON u WHEN new.api_key = 'abc' AND new.status = "
		  "'active' BEGIN UPDATE u SET password = 'x', status = 'y'; END",
		  "CREATE TRIGGER tr AFTER INSERT ON u WHEN new.api_key = '<secret>' AND new.status = "
		  "'active' BEGIN UPDATE u SET password = '<secret>', status = 'y'; END",
		  2, "trigger: a qualified name compared, a SET assignment");
	is_masked(LITE, NULL, "CREATE INDEX i ON u(id) WHERE 'abc' <> secret",
		  "CREATE INDEX i ON u(id) WHERE '<secret>' <> secret", 1,
		  "partial index, the literal first");
	is_masked(LITE, NULL, "SELECT 1 WHERE api_key IN ('a', 'b') AND kind IN ('c')",
		  "SELECT 1 WHERE api_key IN ('<secret>', '<secret>') AND kind IN ('c')", 2, "IN lists");
	is_masked(PG, NULL, "(api_key = ANY (ARRAY['a'::text, 'b'::text]))",
		  "(api_key = ANY (ARRAY['<secret>'::text, '<secret>'::text]))", 2,
		  "= ANY (ARRAY[...]) as PostgreSQL prints IN");
	is_masked(PG, NULL, "(password IS NOT DISTINCT FROM 'x'::text)",
		  "(password IS NOT DISTINCT FROM '<secret>'::text)", 1, "IS NOT DISTINCT FROM");
	is_masked(PG, NULL, "((note)::text ~~ 'x%'::text) AND (passwd ~~ 'y%'::text)",
		  "((note)::text ~~ 'x%'::text) AND (passwd ~~ '<secret>'::text)", 1,
		  "LIKE printed as ~~: only the secret-named side");
	is_masked(PG, NULL,
		  "CREATE FUNCTION public.f(token text DEFAULT 'abc'::text, OUT api_key text, n "
		  "integer DEFAULT 1, label text DEFAULT 'x'::text)",
		  "CREATE FUNCTION public.f(token text DEFAULT '<secret>'::text, OUT api_key text, n "
		  "integer DEFAULT 1, label text DEFAULT 'x'::text)",
		  1, "function argument defaults");
	is_masked(PG, "api_key", "text GENERATED ALWAYS AS (('k-'::text || id)) STORED",
		  "text GENERATED ALWAYS AS (('<secret>'::text || id)) STORED", 1,
		  "a generated column's expression");
	is_masked(LITE, NULL, "SELECT 1 WHERE [password] = 'x' OR `secret` = 'y'",
		  "SELECT 1 WHERE [password] = '<secret>' OR `secret` = '<secret>'", 2,
		  "SQLite's [] and `` identifiers");
	is_masked(PG, NULL, "CHECK ((password <> lower('Abc'::text)) AND (kind <> 'x'::text))",
		  "CHECK ((password <> lower('<secret>'::text)) AND (kind <> 'x'::text))", 1,
		  "a call on the value side");
	is_masked(PG, "password", "text DEFAULT 'abc", "text DEFAULT '<secret>'", 1,
		  "an unterminated literal is masked whole");
}

static void test_by_value(void)
{
	is_masked(PG, "note", "text DEFAULT '" GHP "'::text", "text DEFAULT '<secret>'::text", 1,
		  "a token shape in an ordinary column's default");
	is_masked(LITE, NULL, "CREATE VIEW v AS SELECT '" GHP "' AS t",
		  "CREATE VIEW v AS SELECT '<secret>' AS t", 1, "a token selected by a view");
	is_masked(PG, NULL, "CREATE VIEW v AS SELECT 'postgres://app:pw12345@db1/shop'::text AS dsn",
		  "CREATE VIEW v AS SELECT 'postgres://app:<secret>@db1/shop'::text AS dsn", 1,
		  "a credential URL: only the password, host and path stay");
	is_masked(LITE, NULL, "SELECT 'postgres://app:p''w1234@db1/shop' AS dsn",
		  "SELECT 'postgres://app:<secret>@db1/shop' AS dsn", 1,
		  "a quote inside the password is part of it");
	is_masked(LITE, NULL, "SELECT 'say ''" GHP "''' AS x",
		  "SELECT 'say ''<secret>''' AS x", 1, "a token between doubled quotes");
	is_masked(PG, NULL, "SELECT E'" GHP "\\n' AS x", "SELECT '<secret>' AS x", 1,
		  "an E'...' string with a token is masked whole");
	is_masked(PG, NULL, "SELECT E'it\\'s " GHP "' AS x", "SELECT '<secret>' AS x", 1,
		  "an E'...' string with an escaped quote");
	is_masked(PG, NULL, "SELECT $x$" GHP "$x$ AS x", "SELECT $x$<secret>$x$ AS x", 1,
		  "a dollar-quoted string");
	same(LITE, NULL, "SELECT $x$" GHP "$x$ AS x",
	     "SQLite has no dollar quotes: no literal there");
}

static void test_untouched(void)
{
	same(PG, NULL,
	     "CREATE VIEW public.secure_orders WITH (security_barrier=true) AS SELECT orders.id, "
	     "orders.note FROM public.orders WHERE (((orders.note)::text ~~ 'x%'::text) AND "
	     "(orders.tags @> ARRAY['a'::text]))",
	     "an ordinary view");
	same(PG, NULL, "CHECK ((note <> 'it''s  x'::text))", "doubled quotes inside a literal");
	same(LITE, NULL, "SELECT 'a ''password = ''x''' AS q",
	     "SQL inside a literal is text, not SQL");
	same(LITE, NULL, "SELECT \"it's\" FROM t WHERE \"we\"\"ird\" = 'x'",
	     "quotes inside quoted identifiers");
	same(LITE, NULL, "SELECT x FROM t -- password = 'x'\nWHERE y = 1",
	     "a comment is copied as it is");
	same(PG, NULL, "SELECT /* a /* nested */ 'x' */ 1", "nested block comments (PostgreSQL)");
	same(LITE, "status", "TEXT DEFAULT 'active' CHECK (status IN ('active', 'gone'))",
	     "DEFAULT 'active' of an ordinary column");
	same(PG, NULL, "CREATE TYPE public.order_status AS ENUM ('new', 'paid', 'shipped')",
	     "enum labels");
	same(PG, NULL, "PRIMARY KEY (id)", "no literal at all");
	same(LITE, NULL, "", "empty text");
	is_masked(LITE, NULL, "SELECT 'x' AS password, 'y' AS monkey_business",
		  "SELECT '<secret>' AS password, '<secret>' AS monkey_business", 2,
		  "the default patterns are globs: *key* matches monkey_business");
}

/* Custom patterns and token prefixes from the profile. */
static void test_profile_rules(void)
{
	static const char *const pats[] = {"*pin*"};
	static const char *const vals[] = {"acme_live_"};
	struct ed_secrets sec = {.patterns = pats, .npatterns = 1, .values = vals, .nvalues = 1};
	struct ed_buf out = ED_BUF_INIT;
	size_t n = 0;
	const char *sql = "SELECT 'x' AS pin_code, 'y' AS password, 'acme_live_abcdefgh12' AS k";
	int r = ed_sql_mask_literals(&sec, ED_SQL_SQLITE, NULL, sql, strlen(sql), &out, &n);
	is_str(r == 0 ? ed_buf_str(&out) : NULL,
	       "SELECT '<secret>' AS pin_code, 'y' AS password, '<secret>' AS k",
	       "the profile's key patterns and value prefixes apply");
	is_int(n, 2, "  two masked");
	ed_buf_release(&out);
}

int main(void)
{
	test_by_name();
	test_by_value();
	test_untouched();
	test_profile_rules();
	return tap_done();
}
