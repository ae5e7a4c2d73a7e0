/* SPDX-License-Identifier: MIT */
/* Tests for the SQL normaliser and the SQLite schema collector, on real databases. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/collect.h"
#include "ed/source.h"
#include "sink_mem.h"
#include "tap.h"

/* Normalises a NUL-terminated string; returns a malloc'd result or NULL on error. */
static char *norm(const char *sql)
{
	struct ed_buf out = ED_BUF_INIT;
	struct ed_err err = {ED_OK, ""};
	if (ed_sql_normalize(ed_str_of(sql, strlen(sql)), &out, &err)) {
		ed_buf_release(&out);
		return NULL;
	}
	if (!out.p)
		return strdup("");
	return ed_buf_detach(&out);
}

static void is_norm(const char *sql, const char *want, const char *what)
{
	char *got = norm(sql);
	is_str(got, want, "normalise: %s", what);
	free(got);
}

static void same_norm(const char *a, const char *b, const char *what)
{
	char *x = norm(a), *y = norm(b);
	ok(x && y && strcmp(x, y) == 0, "normalise equal: %s", what);
	if (!(x && y && strcmp(x, y) == 0))
		printf("#   a: '%s'\n#   b: '%s'\n", x ? x : "(error)", y ? y : "(error)");
	free(x);
	free(y);
}

static void differ_norm(const char *a, const char *b, const char *what)
{
	char *x = norm(a), *y = norm(b);
	ok(x && y && strcmp(x, y) != 0, "normalise different: %s", what);
	free(x);
	free(y);
}

static void parse_error(const char *sql, const char *needle, const char *what)
{
	struct ed_buf out = ED_BUF_INIT;
	struct ed_err err = {ED_OK, ""};
	ed_buf_adds(&out, "keep");
	enum ed_code rc = ed_sql_normalize(ed_str_of(sql, strlen(sql)), &out, &err);
	ok(rc == ED_PARSE && strstr(err.msg, needle) && strcmp(ed_buf_str(&out), "keep") == 0,
	   "unterminated %s is ED_PARSE, output untouched", what);
	if (rc != ED_PARSE)
		printf("#   rc %d msg '%s' out '%s'\n", rc, err.msg, ed_buf_str(&out));
	ed_buf_release(&out);
}

static void test_normalize(void)
{
	same_norm("create  table \"Users\" (\n id integer primary key, -- c\n email text)",
		  "CREATE TABLE Users(id INTEGER PRIMARY KEY,email TEXT)",
		  "whitespace, comments, keyword case, quoting");
	is_norm("create  table \"Users\" (\n id integer primary key, -- c\n email text)",
		"CREATE TABLE Users(id INTEGER PRIMARY KEY, email TEXT)", "canonical text");
	is_norm("select /* a\n comment */ 1 ;", "SELECT 1", "block comment, trailing ';'");
	is_norm("SELECT 1 -- trailing comment", "SELECT 1", "line comment at the end");
	is_norm("insert into t values ( 'Hello  World', 'It''s' )",
		"INSERT INTO t VALUES('Hello  World', 'It''s')", "strings keep case and spaces");
	is_norm("select [my col], `my col`, \"my col\" from t",
		"SELECT \"my col\", \"my col\", \"my col\" FROM t", "quoted identifiers");
	is_norm("select [select], \"a\"\"b\", `x``y`, \"plain_1\", [Café]",
		"SELECT \"select\", \"a\"\"b\", \"x`y\", plain_1, \"Café\"",
		"keywords and odd names stay quoted");
	is_norm("select a<=b, a>=b, a<>b, a!=b, a==b, a||b, a<<b, a>>b, a->b, a->>b",
		"SELECT a <= b, a >= b, a <> b, a != b, a == b, a || b, a << b, a >> b, a -> b, "
		"a ->> b", "multi-character operators");
	is_norm("select main . t . c , x'aBc1', 1.5e-3, 0x1F, .5, ?1, :name from main.t",
		"SELECT main.t.c, X'ABC1', 1.5e-3, 0x1F, .5, ?1, :name FROM main.t",
		"dots, blobs, numbers, variables");
	is_norm("create table kv(k text primary key, v blob) without rowid",
		"CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID", "WITHOUT ROWID");
	is_norm("create table t(x varchar ( 20 ), y unsigned big int, z double precision not null,"
		" w text collate nocase, unique (x, y))",
		"CREATE TABLE t(x VARCHAR(20), y UNSIGNED BIG INT, "
		"z DOUBLE PRECISION NOT NULL, w TEXT COLLATE NOCASE, UNIQUE(x, y))",
		"type names upper case");
	is_norm("CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = 1 ;\nEND",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END",
		"trigger body keeps inner ';'");
	is_norm("", "", "empty input");
	is_norm(" ;; -- nothing\n", "", "only semicolons and comments");

	/* The input is ptr+len: bytes past len are never read. */
	{
		const char text[] = "select 1 'unterminated";
		struct ed_buf out = ED_BUF_INIT;
		struct ed_err err = {ED_OK, ""};
		enum ed_code rc = ed_sql_normalize(ed_str_of(text, 8), &out, &err);
		ok(rc == ED_OK && strcmp(ed_buf_str(&out), "SELECT 1") == 0,
		   "only len bytes are read");
		ed_buf_release(&out);
	}
	/* Appends rather than overwriting. */
	{
		struct ed_buf out = ED_BUF_INIT;
		struct ed_err err = {ED_OK, ""};
		ed_buf_adds(&out, "> ");
		enum ed_code rc = ed_sql_normalize(ed_str_of("select 2", 8), &out, &err);
		is_str(rc == ED_OK ? ed_buf_str(&out) : NULL, "> SELECT 2", "appends to out");
		ed_buf_release(&out);
	}

	differ_norm("CREATE TABLE t(a INTEGER)", "CREATE TABLE t(a TEXT)", "another type");
	differ_norm("SELECT 'abc'", "SELECT 'ABC'", "string case matters");
	differ_norm("SELECT 'a b'", "SELECT 'a  b'", "string spacing matters");
	differ_norm("CREATE INDEX i ON t(a)", "CREATE INDEX i ON t(a, b)", "another column list");
	differ_norm("CREATE INDEX i ON t(a)", "CREATE UNIQUE INDEX i ON t(a)", "UNIQUE index");
	differ_norm("SELECT Users", "SELECT users", "identifier case is kept");
	differ_norm("SELECT \"my col\"", "SELECT my_col", "quoted name with a space");

	parse_error("select 'abc", "string", "string");
	parse_error("select 1 /* never closed", "comment", "comment");
	parse_error("select \"abc", "identifier", "\"identifier");
	parse_error("select [abc", "identifier", "[identifier");
	parse_error("select `abc", "identifier", "`identifier");
	parse_error("select x'ab", "blob", "blob");
	parse_error("select 'it''", "string", "string ending in an escaped quote");

	/* Random bytes: never a crash, only ED_OK or ED_PARSE, and the output reads back the same. */
	{
		static const char alphabet[] = "  \n\t'\"`[]()-/*,.;x0123456789eE+<>=!|:?@$#abcSELCT_\x80\xff";
		static const char *const tokens[] = {
			" ", "\n", "(", ")", ",", ".", ";", "create", "TABLE", "table", "t", "Users",
			"\"a b\"", "[x]", "`y`", "\"key\"", "'s''t'", "x'0a'", "1.5", ".5", "1e3", "-",
			"--c\n", "/*c*/", "<=", "||", "->>", "text", "integer", "primary", "key",
			"unique", "check", "constraint", "without", "rowid", "strict", "collate",
			"nocase", "as", "temp", "?1", ":v", "@w", "$z", "0x1f", "*", "/", "=", "!=",
		};
		unsigned seed = 12345;
		int bad = 0, okc = 0, unstable = 0;
		char buf[96];
		for (int round = 0; round < 10000; round++) {
			size_t len = (size_t)(rand_r(&seed) % (int)sizeof(buf));
			for (size_t i = 0; i < len; i++) {
				int r = rand_r(&seed);
				/* Raw bytes, SQL-ish characters, or whole SQL-ish tokens. */
				if (round % 3 == 0) {
					buf[i] = (char)(r & 0xff);
				} else if (round % 3 == 1) {
					buf[i] = alphabet[(size_t)r % (sizeof(alphabet) - 1)];
				} else {
					const char *t = tokens[(size_t)r % (sizeof(tokens) / sizeof(tokens[0]))];
					size_t tl = strlen(t);
					if (i + tl > len)
						tl = len - i;
					memcpy(buf + i, t, tl);
					i += tl - 1;
				}
			}
			struct ed_buf out = ED_BUF_INIT, again = ED_BUF_INIT;
			struct ed_err err = {ED_OK, ""};
			enum ed_code rc = ed_sql_normalize(ed_str_of(buf, len), &out, &err);
			if (rc == ED_OK) {
				okc++;
				if (ed_sql_normalize(ed_str_of(out.p, out.len), &again, &err) != ED_OK ||
				    out.len != again.len ||
				    (out.len && memcmp(out.p, again.p, out.len) != 0)) {
					if (!unstable)
						printf("#   unstable: '%.*s' -> '%s' -> '%s'\n", (int)len, buf,
						       ed_buf_str(&out), ed_buf_str(&again));
					unstable++;
				}
			} else if (rc != ED_PARSE) {
				bad++;
			}
			ed_buf_release(&out);
			ed_buf_release(&again);
		}
		ok(bad == 0, "10000 random buffers: only ED_OK or ED_PARSE (%d normalised)", okc);
		ok(unstable == 0, "normalising normalised output changes nothing (%d unstable)",
		   unstable);
	}
}

/* --- the collector --- */

static uint8_t test_key[ED_KEY_LEN]; /* zeros: fine for a test */
static const struct ed_secrets test_sec = {.key = test_key};

static char tmpdir[256];

static char *tmp_path(const char *name)
{
	size_t n = strlen(tmpdir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", tmpdir, name);
	return p;
}

/* Creates database name in the temp folder from sql; returns 0 on success. */
static int make_db(const char *name, const char *sql)
{
	char *p = tmp_path(name);
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc = -1;
	if (!p)
		return -1;
	unlink(p);
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		printf("# sqlite: %s\n", msg ? msg : "?");
		goto out;
	}
	rc = 0;
out:
	sqlite3_free(msg);
	sqlite3_close(db);
	free(p);
	return rc;
}

static const char app_sql[] =
	"CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT 'x',"
	" name text, created_at INTEGER, UNIQUE(email, name));"
	"CREATE INDEX users_name ON users(name);"
	"CREATE INDEX users_created ON users(created_at);"
	"CREATE VIEW active AS SELECT id, email FROM users WHERE created_at > 0;"
	"CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN"
	" UPDATE users SET created_at = 1 WHERE id = new.id; END;"
	"CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;"
	"INSERT INTO users(email, name) VALUES ('a@example.com', 'a');";

/* The same schema written differently, plus a column, minus an index; in WAL mode. */
static const char staging_sql[] =
	"pragma journal_mode = wal;\n"
	"create table \"users\" (\n"
	"  id integer primary key,   -- the key\n"
	"  [email] text not null default 'x',\n"
	"  `name` TEXT,\n"
	"  created_at integer,\n"
	"  unique ( email , name )\n"
	");\n"
	"create index users_name on users ( name );\n"
	"create index users_created on users(created_at);\n"
	"create view active as select id, email from users where created_at>0;\n"
	"create trigger users_ai after insert on users begin\n"
	"  update users set created_at=1 where id=new.id;\n"
	"end;\n"
	"create table kv (k text primary key, v blob) without rowid;\n"
	"alter table users add column phone text;\n"
	"drop index users_created;\n";

static const char *const app_keys[] = {
	"sqlite:app/column/kv.k",
	"sqlite:app/column/kv.v",
	"sqlite:app/column/users.created_at",
	"sqlite:app/column/users.email",
	"sqlite:app/column/users.id",
	"sqlite:app/column/users.name",
	"sqlite:app/index/users_created",
	"sqlite:app/index/users_name",
	"sqlite:app/table/kv",
	"sqlite:app/table/users",
	"sqlite:app/trigger/users_ai",
	"sqlite:app/view/active",
};

static const char *value_of(const struct mem_sink *ms, const char *key)
{
	const struct mem_item *it = mem_sink_find(ms, key);
	return it ? it->value : NULL;
}

static void test_collect(struct ed_source *src)
{
	struct mem_sink prod, stg;
	struct ed_err err = {ED_OK, ""};
	mem_sink_init(&prod);
	mem_sink_init(&stg);

	ok(make_db("app.db", app_sql) == 0, "created app.db");
	ok(make_db("staging.db", staging_sql) == 0, "created staging.db");

	enum ed_code rc =
		ed_schema_sqlite_collect(src, "app", "/app.db", &test_sec, &prod.sink, &err);
	is_int(rc, ED_OK, "collect app.db (%s)", err.msg);
	size_t nkeys = sizeof(app_keys) / sizeof(app_keys[0]);
	is_int(prod.n, nkeys, "app.db: %zu items", nkeys);
	int same = prod.n == nkeys;
	for (size_t i = 0; same && i < nkeys; i++)
		same = strcmp(prod.items[i].key, app_keys[i]) == 0;
	ok(same, "app.db: exactly the expected keys, in key order");
	for (size_t i = 0; !same && i < prod.n; i++)
		printf("#   %s\n", prod.items[i].key);
	int kinds = 1, fps = 1;
	for (size_t i = 0; i < prod.n; i++) {
		struct ed_fp fp;
		kinds &= strcmp(prod.items[i].kind, ED_KIND_SCHEMA) == 0 && !prod.items[i].attrs;
		ed_fp_of(prod.items[i].value, strlen(prod.items[i].value), &fp);
		fps &= memcmp(&fp, &prod.items[i].fp, sizeof(fp)) == 0;
	}
	ok(kinds, "every item is a schema item without attributes");
	ok(fps, "every fingerprint is XXH3-128 of the definition");
	is_str(value_of(&prod, "sqlite:app/table/users"), "CREATE TABLE users(UNIQUE(email, name))",
	       "table item keeps only table constraints");
	is_str(value_of(&prod, "sqlite:app/table/kv"), "CREATE TABLE kv() WITHOUT ROWID",
	       "table item keeps its options");
	is_str(value_of(&prod, "sqlite:app/column/users.email"), "TEXT NOT NULL DEFAULT 'x'",
	       "column definition");
	is_str(value_of(&prod, "sqlite:app/column/users.name"), "TEXT", "column type upper case");
	is_str(value_of(&prod, "sqlite:app/column/kv.k"), "TEXT PRIMARY KEY", "key column");
	is_str(value_of(&prod, "sqlite:app/index/users_name"), "CREATE INDEX users_name ON users(name)",
	       "index definition");
	is_str(value_of(&prod, "sqlite:app/view/active"),
	       "CREATE VIEW active AS SELECT id, email FROM users WHERE created_at > 0",
	       "view definition");
	is_str(value_of(&prod, "sqlite:app/trigger/users_ai"),
	       "CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN UPDATE users SET created_at = 1"
	       " WHERE id = new.id; END",
	       "trigger definition");
	is_int(prod.nwarnings, 0, "no warnings");

	rc = ed_schema_sqlite_collect(src, "app", "/staging.db", &test_sec, &stg.sink, &err);
	is_int(rc, ED_OK, "collect staging.db (%s)", err.msg);
	size_t added = 0, missing = 0, changed = 0;
	const char *added_key = NULL, *missing_key = NULL;
	for (size_t i = 0; i < stg.n; i++) {
		const struct mem_item *p = mem_sink_find(&prod, stg.items[i].key);
		if (!p) {
			added++;
			added_key = stg.items[i].key;
		} else if (memcmp(&p->fp, &stg.items[i].fp, sizeof(p->fp)) != 0) {
			changed++;
			printf("#   changed %s: '%s' vs '%s'\n", p->key, p->value, stg.items[i].value);
		}
	}
	for (size_t i = 0; i < prod.n; i++) {
		if (!mem_sink_find(&stg, prod.items[i].key)) {
			missing++;
			missing_key = prod.items[i].key;
		}
	}
	is_int(added, 1, "staging: one item added");
	is_str(added_key, "sqlite:app/column/users.phone", "the added column");
	is_str(value_of(&stg, "sqlite:app/column/users.phone"), "TEXT", "added column definition");
	is_int(missing, 1, "staging: one item missing");
	is_str(missing_key, "sqlite:app/index/users_created", "the dropped index");
	is_int(changed, 0, "every other item has the same fingerprint despite other formatting");

	mem_sink_release(&prod);
	mem_sink_release(&stg);
}

static void test_oddities(struct ed_source *src)
{
	struct mem_sink ms;
	struct ed_err err = {ED_OK, ""};
	enum ed_code rc;

	/* A file name with URI syntax in it. */
	mem_sink_init(&ms);
	ok(make_db("we?ird#name%20.db",
		   "CREATE TABLE t(a, key text); CREATE VIRTUAL TABLE r USING rtree(id, x0, x1);") == 0,
	   "created a database with '?', '#' and '%%' in its name");
	rc = ed_schema_sqlite_collect(src, "w", "/we?ird#name%20.db", &test_sec, &ms.sink, &err);
	is_int(rc, ED_OK, "collect it (%s)", err.msg);
	is_str(value_of(&ms, "sqlite:w/table/t"), "CREATE TABLE t()", "table without constraints");
	is_str(value_of(&ms, "sqlite:w/column/t.a"), "", "column without a type");
	is_str(value_of(&ms, "sqlite:w/column/t.key"), "TEXT", "bare keyword as a column name");
	is_str(value_of(&ms, "sqlite:w/table/r"), "CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)",
	       "virtual table keeps its whole sql");
	ok(!mem_sink_find(&ms, "sqlite:w/column/r.id"), "virtual tables have no column items");
	ok(mem_sink_find(&ms, "sqlite:w/table/r_node") != NULL,
	   "its shadow tables are ordinary tables");
	mem_sink_release(&ms);

	/* Column names that are keywords or need quotes, generated and STRICT. */
	mem_sink_init(&ms);
	ok(make_db("odd.db",
		   "CREATE TABLE \"Odd Table\"(\"key\" text, [my col] int not null, \"select\" any,"
		   " g integer generated always as (length(\"key\")) virtual,"
		   " constraint pk primary key (\"key\")) strict, without rowid;") == 0,
	   "created odd.db");
	rc = ed_schema_sqlite_collect(src, "odd", "/odd.db", &test_sec, &ms.sink, &err);
	is_int(rc, ED_OK, "collect odd.db (%s)", err.msg);
	is_str(value_of(&ms, "sqlite:odd/column/Odd Table.key"), "TEXT", "keyword column name");
	is_str(value_of(&ms, "sqlite:odd/column/Odd Table.my col"), "INT NOT NULL",
	       "bracketed column name");
	is_str(value_of(&ms, "sqlite:odd/column/Odd Table.select"), "ANY", "quoted keyword column");
	is_str(value_of(&ms, "sqlite:odd/column/Odd Table.g"),
	       "INTEGER GENERATED ALWAYS AS(length(\"key\")) VIRTUAL", "generated column");
	const char *t = value_of(&ms, "sqlite:odd/table/Odd Table");
	is_str(t, "CREATE TABLE \"Odd Table\"(CONSTRAINT pk PRIMARY KEY(\"key\")) STRICT, WITHOUT ROWID",
	       "quoted table name, named constraint, options");
	is_int(ms.n, 5, "odd.db: one table and four columns");
	mem_sink_release(&ms);

	/* A sink that refuses an item stops the collection with its error. */
	mem_sink_init(&ms);
	ms.fail_after = 2;
	rc = ed_schema_sqlite_collect(src, "app", "/app.db", &test_sec, &ms.sink, &err);
	is_int(rc, ED_STORE, "a failing sink stops the collection");
	mem_sink_release(&ms);

	/* Not a database. */
	{
		char *p = tmp_path("notadb.txt");
		FILE *f = p ? fopen(p, "w") : NULL;
		int wrote = f && fputs("this is a text file, not a database\n", f) >= 0;
		wrote = f && fclose(f) == 0 && wrote;
		ok(wrote, "wrote notadb.txt");
		free(p);
	}
	mem_sink_init(&ms);
	err.msg[0] = '\0';
	rc = ed_schema_sqlite_collect(src, "x", "/notadb.txt", &test_sec, &ms.sink, &err);
	ok(rc != ED_OK && strstr(err.msg, "/notadb.txt") &&
		   strstr(err.msg, "not an SQLite database"),
	   "a text file: error naming the path (%s)", err.msg);
	is_int(ms.n, 0, "nothing emitted for it");
	mem_sink_release(&ms);

	/* Missing. */
	mem_sink_init(&ms);
	err.msg[0] = '\0';
	rc = ed_schema_sqlite_collect(src, "x", "/missing.db", &test_sec, &ms.sink, &err);
	ok(rc != ED_OK && strstr(err.msg, "/missing.db"), "a missing file: error naming it (%s)",
	   err.msg);
	mem_sink_release(&ms);

	/* A folder. */
	mem_sink_init(&ms);
	{
		char *p = tmp_path("dir.db");
		ok(p && mkdir(p, 0700) == 0, "made a folder named dir.db");
		free(p);
	}
	err.msg[0] = '\0';
	rc = ed_schema_sqlite_collect(src, "x", "/dir.db", &test_sec, &ms.sink, &err);
	ok(rc != ED_OK && strstr(err.msg, "/dir.db"), "a folder: error naming it (%s)", err.msg);
	mem_sink_release(&ms);
}

/* A.5: secret literals in defaults, views, triggers and index predicates are masked. */
static void test_secret_literals(struct ed_source *src)
{
	struct mem_sink ms, ms2;
	struct ed_err err = {ED_OK, ""};
	const char *canary = "hunter2-Kq9";
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "CREATE TABLE users(id INTEGER PRIMARY KEY, password TEXT DEFAULT '%s',"
		 " status TEXT DEFAULT 'active', api_token TEXT, CHECK (api_token <> '%s'));"
		 "CREATE VIEW v AS SELECT '%s' AS secret, 'ghp_0123456789abcdefghijklmnopqrstuvwxyz'"
		 " AS t, status FROM users;"
		 "CREATE TRIGGER tr AFTER INSERT ON users BEGIN"
		 " UPDATE users SET password = '%s' WHERE id = new.id; END;"
		 "CREATE INDEX live ON users(id) WHERE api_token = '%s' AND status = 'active';",
		 canary, canary, canary, canary, canary);
	ok(make_db("secrets.db", sql) == 0, "created secrets.db");
	mem_sink_init(&ms);
	enum ed_code rc = ed_schema_sqlite_collect(src, "s", "/secrets.db", &test_sec, &ms.sink, &err);
	is_int(rc, ED_OK, "collect secrets.db (%s)", err.msg);
	bool leaked = false;
	for (size_t i = 0; i < ms.n; i++)
		if (ms.items[i].value && strstr(ms.items[i].value, canary))
			leaked = true;
	ok(!leaked, "the secret is in no stored definition");
	const struct mem_item *it = mem_sink_find(&ms, "sqlite:s/column/users.password");
	is_str(it ? it->value : NULL, "TEXT DEFAULT '<secret>'", "column default masked");
	is_str(it ? it->attrs : NULL, ED_ATTRS_MASKED, "  attrs masked");
	is_str(value_of(&ms, "sqlite:s/column/users.status"), "TEXT DEFAULT 'active'",
	       "an ordinary default is kept");
	it = mem_sink_find(&ms, "sqlite:s/column/users.status");
	ok(it && !it->attrs, "  and has no attrs");
	is_str(value_of(&ms, "sqlite:s/table/users"),
	       "CREATE TABLE users(CHECK(api_token <> '<secret>'))", "table check constraint");
	is_str(value_of(&ms, "sqlite:s/view/v"),
	       "CREATE VIEW v AS SELECT '<secret>' AS secret, '<secret>' AS t, status FROM users",
	       "view: a secret-named literal and a token");
	is_str(value_of(&ms, "sqlite:s/trigger/tr"),
	       "CREATE TRIGGER tr AFTER INSERT ON users BEGIN UPDATE users SET password = '<secret>' "
	       "WHERE id = new.id; END",
	       "trigger assignment");
	is_str(value_of(&ms, "sqlite:s/index/live"),
	       "CREATE INDEX live ON users(id) WHERE api_token = '<secret>' AND status = 'active'",
	       "partial index predicate");

	/* Another password: the same shown definitions, other (keyed) fingerprints. */
	for (char *p = strstr(sql, canary); p; p = strstr(p + 1, canary))
		p[strlen(canary) - 1] = '8';
	ok(make_db("secrets.db", sql) == 0, "re-created secrets.db with another password");
	mem_sink_init(&ms2);
	rc = ed_schema_sqlite_collect(src, "s", "/secrets.db", &test_sec, &ms2.sink, &err);
	is_int(rc, ED_OK, "collect it again (%s)", err.msg);
	static const char *const masked[] = {"sqlite:s/column/users.password", "sqlite:s/table/users",
					     "sqlite:s/view/v", "sqlite:s/trigger/tr",
					     "sqlite:s/index/live"};
	bool drift = true;
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		const struct mem_item *x = mem_sink_find(&ms, masked[i]);
		const struct mem_item *y = mem_sink_find(&ms2, masked[i]);
		if (!x || !y || strcmp(x->value, y->value) != 0 ||
		    memcmp(x->fp.b, y->fp.b, ED_FP_LEN) == 0) {
			printf("#   %s: no drift shown\n", masked[i]);
			drift = false;
		}
	}
	ok(drift, "every masked item: the same value, another fingerprint");
	const struct mem_item *x = mem_sink_find(&ms, "sqlite:s/column/users.status");
	const struct mem_item *y = mem_sink_find(&ms2, "sqlite:s/column/users.status");
	ok(x && y && memcmp(x->fp.b, y->fp.b, ED_FP_LEN) == 0, "an unmasked item is unchanged");
	mem_sink_release(&ms);
	mem_sink_release(&ms2);

	/* Without the store's key there is no keyed fingerprint: refused. */
	mem_sink_init(&ms);
	rc = ed_schema_sqlite_collect(src, "s", "/secrets.db", NULL, &ms.sink, &err);
	ok(rc == ED_USAGE && ms.n == 0, "no secrets given: ED_USAGE");
	mem_sink_release(&ms);
}

static void cleanup(void)
{
	/* A read-only reader of a WAL database leaves -wal and -shm behind. */
	static const char *const names[] = {"app.db",     "staging.db", "staging.db-wal",
					    "staging.db-shm", "we?ird#name%20.db", "odd.db",
					    "notadb.txt", "secrets.db"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = tmp_path(names[i]);
		if (p)
			unlink(p);
		free(p);
	}
	char *d = tmp_path("dir.db");
	if (d)
		rmdir(d);
	free(d);
	rmdir(tmpdir);
}

int main(void)
{
	struct ed_source *src = NULL;
	struct ed_err err = {ED_OK, ""};

	test_normalize();

	if (!tap_tmpdir(tmpdir, sizeof(tmpdir), "ed_schema")) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	enum ed_code rc = ed_source_local_new(tmpdir, &src, &err);
	is_int(rc, ED_OK, "local source on %s (%s)", tmpdir, err.msg);
	if (rc == ED_OK) {
		test_collect(src);
		test_oddities(src);
		test_secret_literals(src);
		ed_source_free(src);
	}
	cleanup();
	return tap_done();
}
