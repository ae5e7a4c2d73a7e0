/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL schema collector: runs one catalog query through psql on the
 * host, parses the JSON document it returns and emits one schema item per
 * object, each fingerprinted by its definition with whitespace collapsed.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed/collect.h"
#include "ed/hash.h"
#include "ed/pgschema.h"
#include "ed/snapdoc.h"
#include "sql_lex.h"

/*
 * Settings for the one transaction psql runs (-1): read only; names printed
 * schema-qualified whatever the user's search_path (pg_get_viewdef and
 * format_type qualify what the path does not show), so both environments
 * print alike; UTF-8 for jansson; the server gives up before we kill psql.
 */
static const char pg_settings[] =
	"SET TRANSACTION READ ONLY; SET LOCAL search_path = pg_catalog; "
	"SET LOCAL client_encoding = 'UTF8'; SET LOCAL statement_timeout = '110s'";

/*
 * The catalog query (PostgreSQL 12 or later): one JSON document. Objects that
 * belong to an extension (pg_depend deptype 'e') are left out, and with them
 * everything in a schema an extension created; the extension itself is an item.
 */
static const char pg_query[] =
	"WITH ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),\n"
	"nsp AS (SELECT n.oid, n.nspname FROM pg_namespace n\n"
	"  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')\n"
	"  AND left(n.nspname, 8) <> 'pg_toast' AND left(n.nspname, 7) <> 'pg_temp'\n"
	"  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_namespace'::regclass\n"
	"    AND ext.objid = n.oid)),\n"
	"rel AS (SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relispartition,\n"
	"    c.reloptions, c.relrowsecurity, c.relforcerowsecurity, n.nspname\n"
	"  FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace\n"
	"  WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass\n"
	"    AND ext.objid = c.oid)),\n"
	"fn AS (SELECT p.*, n.nspname FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace\n"
	"  WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass\n"
	"    AND ext.objid = p.oid)),\n"
	"typ AS (SELECT t.oid, t.typname, n.nspname FROM pg_type t\n"
	"  JOIN nsp n ON n.oid = t.typnamespace WHERE t.typtype = 'e'\n"
	"  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass\n"
	"    AND ext.objid = t.oid))\n"
	"SELECT json_build_object(\n"
	"'format', '" ED_PG_CATALOG_FORMAT "',\n"
	"'server_version_num', current_setting('server_version_num'),\n"
	"'schemas', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'name', nspname, 'ident', quote_ident(nspname)) ORDER BY nspname), '[]') FROM nsp),\n"
	"'tables', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'name', c.relname,\n"
	"  'ident', format('%I.%I', c.nspname, c.relname),\n"
	"  'kind', c.relkind, 'persistence', c.relpersistence,\n"
	"  'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,\n"
	"  'partition_of', CASE WHEN c.relispartition THEN (SELECT i.inhparent::regclass::text\n"
	"    FROM pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1) END,\n"
	"  'partition_bound', CASE WHEN c.relispartition THEN\n"
	"    (SELECT pg_get_expr(x.relpartbound, x.oid) FROM pg_class x WHERE x.oid = c.oid) END,\n"
	"  'inherits', CASE WHEN NOT c.relispartition THEN (SELECT\n"
	"    json_agg(i.inhparent::regclass::text ORDER BY i.inhseqno)\n"
	"    FROM pg_inherits i WHERE i.inhrelid = c.oid) END,\n"
	"  'server', (SELECT quote_ident(s.srvname) FROM pg_foreign_table ft\n"
	"    JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = c.oid),\n"
	"  'options', c.reloptions,\n"
	"  'row_security', c.relrowsecurity, 'force_row_security', c.relforcerowsecurity)\n"
	"  ORDER BY c.nspname, c.relname), '[]') FROM rel c WHERE c.relkind IN ('r', 'p', 'f')),\n"
	"'columns', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'table', c.relname, 'name', a.attname,\n"
	"  'type', format_type(a.atttypid, a.atttypmod),\n"
	"  'collation', CASE WHEN a.attcollation <> t.typcollation THEN\n"
	"    (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co\n"
	"     JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,\n"
	"  'not_null', a.attnotnull, 'default', pg_get_expr(d.adbin, d.adrelid),\n"
	"  'generated', a.attgenerated, 'identity', a.attidentity)\n"
	"  ORDER BY c.nspname, c.relname, a.attname), '[]')\n"
	"  FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid\n"
	"  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum\n"
	"  WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped),\n"
	"'constraints', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'table', c.relname, 'name', k.conname, 'type', k.contype,\n"
	"  'definition', pg_get_constraintdef(k.oid))\n"
	"  ORDER BY c.nspname, c.relname, k.conname), '[]')\n"
	"  FROM rel c JOIN pg_constraint k ON k.conrelid = c.oid\n"
	"  WHERE k.contype IN ('p', 'f', 'u', 'c', 'x')),\n"
	"'indexes', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'name', c.relname,\n"
	"  'definition', pg_get_indexdef(c.oid), 'valid', x.indisvalid)\n"
	"  ORDER BY c.nspname, c.relname), '[]')\n"
	"  FROM rel c JOIN pg_index x ON x.indexrelid = c.oid JOIN rel tc ON tc.oid = x.indrelid),\n"
	"'views', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'name', c.relname,\n"
	"  'ident', format('%I.%I', c.nspname, c.relname),\n"
	"  'materialized', c.relkind = 'm', 'options', c.reloptions,\n"
	"  'definition', pg_get_viewdef(c.oid))\n"
	"  ORDER BY c.nspname, c.relname), '[]') FROM rel c WHERE c.relkind IN ('v', 'm')),\n"
	"'sequences', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'name', c.relname,\n"
	"  'ident', format('%I.%I', c.nspname, c.relname),\n"
	"  'type', format_type(s.seqtypid, NULL), 'start', s.seqstart::text,\n"
	"  'increment', s.seqincrement::text, 'min', s.seqmin::text, 'max', s.seqmax::text,\n"
	"  'cache', s.seqcache::text, 'cycle', s.seqcycle)\n"
	"  ORDER BY c.nspname, c.relname), '[]')\n"
	"  FROM rel c JOIN pg_sequence s ON s.seqrelid = c.oid WHERE c.relkind = 'S'),\n"
	"'functions', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', p.nspname, 'name', p.proname,\n"
	"  'ident', format('%I.%I', p.nspname, p.proname),\n"
	"  'identity_arguments', pg_get_function_identity_arguments(p.oid),\n"
	"  'arguments', pg_get_function_arguments(p.oid),\n"
	"  'result', pg_get_function_result(p.oid), 'kind', p.prokind,\n"
	"  'language', (SELECT quote_ident(l.lanname) FROM pg_language l WHERE l.oid = p.prolang),\n"
	"  'volatility', p.provolatile, 'strict', p.proisstrict,\n"
	"  'security_definer', p.prosecdef, 'leakproof', p.proleakproof,\n"
	"  'parallel', p.proparallel, 'config', p.proconfig,\n"
	/* An SQL-standard body (BEGIN ATOMIC, RETURN) leaves prosrc empty. */
	"  'body', CASE WHEN p.prosrc <> '' OR p.prokind = 'a' THEN p.prosrc\n"
	"    ELSE pg_get_functiondef(p.oid) END,\n"
	"  'binary', p.probin)\n"
	"  ORDER BY p.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), '[]')\n"
	"  FROM fn p),\n"
	"'triggers', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', c.nspname, 'table', c.relname, 'name', g.tgname,\n"
	"  'definition', pg_get_triggerdef(g.oid), 'enabled', g.tgenabled)\n"
	"  ORDER BY c.nspname, c.relname, g.tgname), '[]')\n"
	"  FROM rel c JOIN pg_trigger g ON g.tgrelid = c.oid WHERE NOT g.tgisinternal),\n"
	"'enums', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', t.nspname, 'name', t.typname,\n"
	"  'ident', format('%I.%I', t.nspname, t.typname),\n"
	"  'labels', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]')\n"
	"    FROM pg_enum e WHERE e.enumtypid = t.oid))\n"
	"  ORDER BY t.nspname, t.typname), '[]') FROM typ t),\n"
	"'extensions', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'name', e.extname, 'ident', quote_ident(e.extname), 'version', e.extversion,\n"
	"  'schema', quote_ident(n.nspname)) ORDER BY e.extname), '[]')\n"
	"  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace))";

/* --- whitespace --------------------------------------------------------- */

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A byte that can continue an identifier (bytes >= 0x80 are letters to PostgreSQL). */
static bool is_ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

/* Index past the block comment at s[i] ("/ *", nesting as PostgreSQL nests them). */
static size_t skip_block_comment(const char *s, size_t n, size_t i)
{
	size_t depth = 0;
	for (size_t j = i; j + 1 < n; j++) {
		if (s[j] == '/' && s[j + 1] == '*') {
			depth++;
			j++;
		} else if (s[j] == '*' && s[j + 1] == '/') {
			j++;
			if (--depth == 0)
				return j + 1;
		}
	}
	return n;
}

/*
 * Appends s[0..n) to out with each run of whitespace outside quotes, dollar
 * quotes and comments made one space, none at either end. A run that ends a
 * "--" comment becomes a newline: the next line is not part of the comment.
 * Returns 0 or -1 when memory runs out (out then holds a prefix).
 */
static int collapse(const char *s, size_t n, struct ed_buf *out)
{
	size_t start = out->len;
	bool gap = false, after_line_comment = false;
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (is_ws(c)) {
			gap = true;
			i++;
			continue;
		}
		if (out->len > start && (gap || after_line_comment) &&
		    ed_buf_addc(out, after_line_comment ? '\n' : ' '))
			return -1;
		gap = after_line_comment = false;
		size_t end = i + 1, keep = 0;
		if (c == '-' && i + 1 < n && s[i + 1] == '-') {
			end = i + 2;
			while (end < n && s[end] != '\n')
				end++;
			/* Without its trailing blanks: "-- x\r\n" and "-- x\n" are one comment. */
			keep = end;
			while (keep > i + 2 && is_ws((unsigned char)s[keep - 1]))
				keep--;
			after_line_comment = true;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			end = skip_block_comment(s, n, i);
		} else if (c == '\'') {
			/* E'...' takes backslash escapes; "ME'" is no E-string. */
			bool bs = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
				  (i < 2 || !is_ident_char((unsigned char)s[i - 2]));
			end = ed_sql_quoted_end(s, n, i, '\'', bs);
		} else if (c == '"') {
			end = ed_sql_quoted_end(s, n, i, '"', false);
		} else if (c == '$') {
			size_t tag, close, d = ed_sql_dollar_end(s, n, i, &tag, &close);
			if (d)
				end = d;
		}
		if (end > n)
			end = n;
		if (!keep)
			keep = end;
		if (ed_buf_add(out, s + i, keep - i))
			return -1;
		i = end;
	}
	return 0;
}

/* --- the catalog document ------------------------------------------------ */

/* One item waiting to be emitted; all of them are sorted by key first. */
struct def {
	char *key;       /* "postgres:LABEL/TYPE/OBJECT", malloc'd */
	char *value;     /* the definition, secret literals masked, malloc'd */
	struct ed_fp fp; /* XXH3 of value; keyed, of the unmasked definition, when masked */
	bool masked;     /* a literal of value was masked */
};

struct parse {
	const char *label;
	const struct ed_secrets *sec; /* the key and the secret patterns */
	struct ed_err *err;
	enum ed_code rc;      /* the first error; ED_OK while all is well */
	const char *section;  /* "tables", for messages */
	size_t index;         /* the entry within section */
	struct def *v;
	size_t n, cap;
	struct ed_buf key;    /* the item being built */
	struct ed_buf val;
	struct ed_buf tmp;
	struct ed_buf masked; /* val with its secret literals masked */
};

static enum ed_code oom(struct parse *p)
{
	if (p->rc == ED_OK)
		p->rc = ed_err_set(p->err, ED_NOMEM, "postgres:%s: out of memory", p->label);
	return p->rc;
}

static enum ed_code bad(struct parse *p, const char *member, const char *problem)
{
	if (p->rc == ED_OK)
		p->rc = ed_err_set(p->err, ED_PARSE, "postgres:%s: catalog document: %s[%zu]: '%s' %s",
				   p->label, p->section, p->index, member, problem);
	return p->rc;
}

/* A string member: NULL (and an error) when it is missing, null, another type, or empty and !empty_ok. */
static const char *req_str(struct parse *p, json_t *o, const char *m, bool empty_ok)
{
	json_t *j = json_object_get(o, m);
	if (!json_is_string(j)) {
		bad(p, m, "is missing or not a string");
		return NULL;
	}
	const char *s = json_string_value(j);
	if (!empty_ok && !*s) {
		bad(p, m, "is empty");
		return NULL;
	}
	return s;
}

/* A string member that may be null or missing (NULL then, *okp untouched). */
static const char *opt_str(struct parse *p, json_t *o, const char *m, bool *okp)
{
	json_t *j = json_object_get(o, m);
	if (!j || json_is_null(j))
		return NULL;
	if (!json_is_string(j)) {
		bad(p, m, "is not a string");
		*okp = false;
		return NULL;
	}
	return json_string_value(j);
}

/* A boolean member; false (and an error) when it is not one. */
static bool req_bool(struct parse *p, json_t *o, const char *m, bool *okp)
{
	json_t *j = json_object_get(o, m);
	if (!json_is_boolean(j)) {
		bad(p, m, "is missing or not a boolean");
		*okp = false;
		return false;
	}
	return json_is_true(j);
}

/* An array of strings, or null/missing (NULL then); anything else is an error. */
static json_t *opt_strings(struct parse *p, json_t *o, const char *m, bool *okp)
{
	json_t *j = json_object_get(o, m);
	if (!j || json_is_null(j))
		return NULL;
	size_t i;
	json_t *e;
	if (!json_is_array(j))
		goto bad;
	json_array_foreach(j, i, e)
		if (!json_is_string(e))
			goto bad;
	return j;
bad:
	bad(p, m, "is not an array of strings");
	*okp = false;
	return NULL;
}

/* Starts the key "postgres:LABEL/TYPE/" in p->key and empties p->val. */
static int key_start(struct parse *p, const char *type)
{
	ed_buf_reset(&p->key);
	ed_buf_reset(&p->val);
	return ed_buf_addf(&p->key, "postgres:%s/%s/", p->label, type);
}

/* Appends "A.B.C" to the key; NULL parts end the list. */
static int key_parts(struct parse *p, const char *a, const char *b, const char *c)
{
	int r = ed_buf_adds(&p->key, a);
	if (b)
		r |= ed_buf_addc(&p->key, '.') | ed_buf_adds(&p->key, b);
	if (c)
		r |= ed_buf_addc(&p->key, '.') | ed_buf_adds(&p->key, c);
	return r ? -1 : 0;
}

/* Appends s to p->val with whitespace collapsed. */
static int val_def(struct parse *p, const char *s)
{
	return collapse(s, strlen(s), &p->val);
}

/* Appends 'text' as an SQL literal (quotes doubled). */
static int val_literal(struct parse *p, const char *s)
{
	if (ed_buf_addc(&p->val, '\''))
		return -1;
	for (; *s; s++)
		if ((*s == '\'' && ed_buf_addc(&p->val, '\'')) || ed_buf_addc(&p->val, *s))
			return -1;
	return ed_buf_addc(&p->val, '\'');
}

/*
 * Appends a function's setting "name=value" (proconfig). A value that may be
 * a secret (its name's last part matches the secret patterns, or a detector
 * finds one in it) is written 'quoted', so that the masker sees it as the
 * literal a secret name is given.
 */
static int val_setting(struct parse *p, const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq)
		return val_def(p, s);
	const char *last = eq;
	while (last > s && last[-1] != '.')
		last--;
	const char *v = eq + 1;
	if (!ed_secret_name_matches(p->sec, last, (size_t)(eq - last)) &&
	    !ed_secret_scan(p->sec, v, strlen(v), NULL, NULL))
		return val_def(p, s);
	return ed_buf_add(&p->val, s, (size_t)(eq + 1 - s)) || val_literal(p, v) ? -1 : 0;
}

/* Appends " WITH (a=1, b=2)" for a reloptions array (nothing when NULL or empty). */
static int val_options(struct parse *p, json_t *opts)
{
	size_t i;
	json_t *e;
	if (!opts || json_array_size(opts) == 0)
		return 0;
	if (ed_buf_adds(&p->val, " WITH ("))
		return -1;
	json_array_foreach(opts, i, e)
		if ((i && ed_buf_adds(&p->val, ", ")) || val_def(p, json_string_value(e)))
			return -1;
	return ed_buf_addc(&p->val, ')');
}

/*
 * Moves the key and value built in p into the list, secret literals masked;
 * subject (a column's name, or NULL) is what a DEFAULT at the top is the value of.
 */
static enum ed_code push_as(struct parse *p, const char *subject)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct def *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return oom(p);
		p->v = v;
		p->cap = cap;
	}
	size_t nmasked = 0;
	struct ed_fp fp;
	ed_buf_reset(&p->masked);
	/* Adding nothing still allocates: an empty value is "", never NULL. */
	if (ed_buf_add(&p->val, "", 0) ||
	    ed_sql_mask_literals(p->sec, ED_SQL_POSTGRES, subject, p->val.p, p->val.len,
				 &p->masked, &nmasked) ||
	    ed_buf_add(&p->masked, "", 0))
		return oom(p);
	if (nmasked) {
		/* Never the secret, nor its plain hash: the keyed fingerprint of the definition. */
		if ((p->rc = ed_fp_keyed(p->sec->key, p->val.p, p->val.len, &fp, p->err)))
			return p->rc;
	} else {
		ed_fp_of(p->masked.p, p->masked.len, &fp);
	}
	char *key = ed_buf_detach(&p->key), *value = ed_buf_detach(&p->masked);
	if (!key || !value) {
		free(key);
		free(value);
		return oom(p);
	}
	p->v[p->n].key = key;
	p->v[p->n].value = value;
	p->v[p->n].fp = fp;
	p->v[p->n].masked = nmasked > 0;
	p->n++;
	ed_buf_reset(&p->val);
	return ED_OK;
}

static enum ed_code push(struct parse *p)
{
	return push_as(p, NULL);
}

/* --- one function per section; each entry is validated before use ------- */

static enum ed_code do_schema(struct parse *p, json_t *o)
{
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	if (!name || !ident)
		return p->rc;
	if (key_start(p, "schema") || key_parts(p, name, NULL, NULL) ||
	    ed_buf_adds(&p->val, "CREATE SCHEMA ") || val_def(p, ident))
		return oom(p);
	return push(p);
}

static enum ed_code do_table(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	const char *kind = req_str(p, o, "kind", false);
	const char *persist = req_str(p, o, "persistence", true);
	const char *pkey = opt_str(p, o, "partition_key", &ok);
	const char *parent = opt_str(p, o, "partition_of", &ok);
	const char *bound = opt_str(p, o, "partition_bound", &ok);
	const char *server = opt_str(p, o, "server", &ok);
	json_t *inherits = opt_strings(p, o, "inherits", &ok);
	json_t *options = opt_strings(p, o, "options", &ok);
	bool rls = req_bool(p, o, "row_security", &ok);
	bool force = req_bool(p, o, "force_row_security", &ok);
	if (!schema || !name || !ident || !kind || !persist || !ok)
		return p->rc;

	int r = key_start(p, "table") | key_parts(p, schema, name, NULL);
	r |= ed_buf_adds(&p->val, "CREATE ");
	if (strcmp(persist, "u") == 0)
		r |= ed_buf_adds(&p->val, "UNLOGGED ");
	else if (strcmp(persist, "t") == 0)
		r |= ed_buf_adds(&p->val, "TEMPORARY ");
	else if (strcmp(persist, "p") != 0)
		r |= ed_buf_addf(&p->val, "(persistence %s) ", persist);
	if (strcmp(kind, "f") == 0)
		r |= ed_buf_adds(&p->val, "FOREIGN ");
	r |= ed_buf_adds(&p->val, "TABLE ") | val_def(p, ident);
	if (strcmp(kind, "r") != 0 && strcmp(kind, "p") != 0 && strcmp(kind, "f") != 0)
		r |= ed_buf_addf(&p->val, " (kind %s)", kind);
	if (parent) {
		r |= ed_buf_adds(&p->val, " PARTITION OF ") | val_def(p, parent);
		if (bound)
			r |= ed_buf_addc(&p->val, ' ') | val_def(p, bound);
	}
	if (inherits && json_array_size(inherits)) {
		size_t i;
		json_t *e;
		r |= ed_buf_adds(&p->val, " INHERITS (");
		json_array_foreach(inherits, i, e)
			r |= (i ? ed_buf_adds(&p->val, ", ") : 0) | val_def(p, json_string_value(e));
		r |= ed_buf_addc(&p->val, ')');
	}
	if (pkey)
		r |= ed_buf_adds(&p->val, " PARTITION BY ") | val_def(p, pkey);
	if (server)
		r |= ed_buf_adds(&p->val, " SERVER ") | val_def(p, server);
	r |= val_options(p, options);
	if (rls)
		r |= ed_buf_adds(&p->val, " ENABLE ROW LEVEL SECURITY");
	if (force)
		r |= ed_buf_adds(&p->val, " FORCE ROW LEVEL SECURITY");
	if (r)
		return oom(p);
	return push(p);
}

static enum ed_code do_column(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *table = req_str(p, o, "table", false);
	const char *name = req_str(p, o, "name", false);
	const char *type = req_str(p, o, "type", false);
	const char *coll = opt_str(p, o, "collation", &ok);
	bool not_null = req_bool(p, o, "not_null", &ok);
	const char *dflt = opt_str(p, o, "default", &ok);
	const char *gen = opt_str(p, o, "generated", &ok);
	const char *ident = opt_str(p, o, "identity", &ok);
	if (!schema || !table || !name || !type || !ok)
		return p->rc;

	int r = key_start(p, "column") | key_parts(p, schema, table, name) | val_def(p, type);
	if (coll)
		r |= ed_buf_adds(&p->val, " COLLATE ") | val_def(p, coll);
	if (not_null)
		r |= ed_buf_adds(&p->val, " NOT NULL");
	if (dflt && gen && strcmp(gen, "s") == 0)
		r |= ed_buf_adds(&p->val, " GENERATED ALWAYS AS (") | val_def(p, dflt) |
		     ed_buf_adds(&p->val, ") STORED");
	else if (dflt)
		r |= ed_buf_adds(&p->val, " DEFAULT ") | val_def(p, dflt);
	if (ident && strcmp(ident, "a") == 0)
		r |= ed_buf_adds(&p->val, " GENERATED ALWAYS AS IDENTITY");
	else if (ident && strcmp(ident, "d") == 0)
		r |= ed_buf_adds(&p->val, " GENERATED BY DEFAULT AS IDENTITY");
	if (r)
		return oom(p);
	return push_as(p, name);
}

static enum ed_code do_constraint(struct parse *p, json_t *o)
{
	const char *schema = req_str(p, o, "schema", false);
	const char *table = req_str(p, o, "table", false);
	const char *name = req_str(p, o, "name", false);
	const char *def = req_str(p, o, "definition", false);
	if (!schema || !table || !name || !def)
		return p->rc;
	if (key_start(p, "constraint") || key_parts(p, schema, table, name) || val_def(p, def))
		return oom(p);
	return push(p);
}

static enum ed_code do_index(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *name = req_str(p, o, "name", false);
	const char *def = req_str(p, o, "definition", false);
	bool valid = req_bool(p, o, "valid", &ok);
	if (!schema || !name || !def || !ok)
		return p->rc;
	/* A failed CREATE INDEX CONCURRENTLY leaves an index that is never used. */
	if (key_start(p, "index") || key_parts(p, schema, name, NULL) || val_def(p, def) ||
	    (!valid && ed_buf_adds(&p->val, " INVALID")))
		return oom(p);
	return push(p);
}

static enum ed_code do_view(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	const char *def = req_str(p, o, "definition", true);
	bool mat = req_bool(p, o, "materialized", &ok);
	json_t *options = opt_strings(p, o, "options", &ok);
	if (!schema || !name || !ident || !def || !ok)
		return p->rc;
	int r = key_start(p, "view") | key_parts(p, schema, name, NULL);
	r |= ed_buf_adds(&p->val, mat ? "CREATE MATERIALIZED VIEW " : "CREATE VIEW ");
	r |= val_def(p, ident) | val_options(p, options) | ed_buf_adds(&p->val, " AS ");
	size_t at = p->val.len;
	r |= val_def(p, def);
	if (r)
		return oom(p);
	/* pg_get_viewdef ends the query with ';'. */
	if (p->val.len > at && p->val.p[p->val.len - 1] == ';') {
		p->val.p[--p->val.len] = '\0';
		while (p->val.len > at && p->val.p[p->val.len - 1] == ' ')
			p->val.p[--p->val.len] = '\0';
	}
	return push(p);
}

static enum ed_code do_sequence(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	const char *type = req_str(p, o, "type", false);
	const char *start = req_str(p, o, "start", false);
	const char *inc = req_str(p, o, "increment", false);
	const char *min = req_str(p, o, "min", false);
	const char *max = req_str(p, o, "max", false);
	const char *cache = req_str(p, o, "cache", false);
	bool cycle = req_bool(p, o, "cycle", &ok);
	if (!schema || !name || !ident || !type || !start || !inc || !min || !max || !cache || !ok)
		return p->rc;
	int r = key_start(p, "sequence") | key_parts(p, schema, name, NULL);
	r |= ed_buf_adds(&p->val, "CREATE SEQUENCE ") | val_def(p, ident);
	r |= ed_buf_adds(&p->val, " AS ") | val_def(p, type);
	r |= ed_buf_adds(&p->val, " INCREMENT BY ") | val_def(p, inc);
	r |= ed_buf_adds(&p->val, " MINVALUE ") | val_def(p, min);
	r |= ed_buf_adds(&p->val, " MAXVALUE ") | val_def(p, max);
	r |= ed_buf_adds(&p->val, " START WITH ") | val_def(p, start);
	r |= ed_buf_adds(&p->val, " CACHE ") | val_def(p, cache);
	r |= ed_buf_adds(&p->val, cycle ? " CYCLE" : " NO CYCLE");
	if (r)
		return oom(p);
	return push(p);
}

static enum ed_code do_function(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	const char *idargs = req_str(p, o, "identity_arguments", true);
	const char *args = req_str(p, o, "arguments", true);
	const char *result = opt_str(p, o, "result", &ok);
	const char *kind = req_str(p, o, "kind", false);
	const char *lang = req_str(p, o, "language", false);
	const char *vol = req_str(p, o, "volatility", false);
	bool strict = req_bool(p, o, "strict", &ok);
	bool secdef = req_bool(p, o, "security_definer", &ok);
	bool leak = req_bool(p, o, "leakproof", &ok);
	const char *par = req_str(p, o, "parallel", false);
	json_t *config = opt_strings(p, o, "config", &ok);
	const char *body = opt_str(p, o, "body", &ok);
	const char *bin = opt_str(p, o, "binary", &ok);
	if (!schema || !name || !ident || !idargs || !args || !kind || !lang || !vol || !par || !ok)
		return p->rc;

	const char *word = strcmp(kind, "p") == 0 ? "PROCEDURE" :
			   strcmp(kind, "a") == 0 ? "AGGREGATE" : "FUNCTION";
	int r = key_start(p, "function") | key_parts(p, schema, name, NULL);
	r |= ed_buf_addc(&p->key, '(') | ed_buf_adds(&p->key, idargs) | ed_buf_addc(&p->key, ')');
	r |= ed_buf_addf(&p->val, "CREATE %s ", word) | val_def(p, ident);
	r |= ed_buf_addc(&p->val, '(') | val_def(p, args) | ed_buf_addc(&p->val, ')');
	if (result)
		r |= ed_buf_adds(&p->val, " RETURNS ") | val_def(p, result);
	if (strcmp(kind, "w") == 0)
		r |= ed_buf_adds(&p->val, " WINDOW");
	else if (strcmp(kind, "f") != 0 && strcmp(kind, "p") != 0 && strcmp(kind, "a") != 0)
		r |= ed_buf_addf(&p->val, " (kind %s)", kind);
	r |= ed_buf_adds(&p->val, " LANGUAGE ") | val_def(p, lang);
	/* Attributes as pg_get_functiondef prints them: only those that differ from the default. */
	if (strcmp(vol, "i") == 0)
		r |= ed_buf_adds(&p->val, " IMMUTABLE");
	else if (strcmp(vol, "s") == 0)
		r |= ed_buf_adds(&p->val, " STABLE");
	else if (strcmp(vol, "v") != 0)
		r |= ed_buf_addf(&p->val, " (volatility %s)", vol);
	if (strict)
		r |= ed_buf_adds(&p->val, " STRICT");
	if (secdef)
		r |= ed_buf_adds(&p->val, " SECURITY DEFINER");
	if (leak)
		r |= ed_buf_adds(&p->val, " LEAKPROOF");
	if (strcmp(par, "s") == 0)
		r |= ed_buf_adds(&p->val, " PARALLEL SAFE");
	else if (strcmp(par, "r") == 0)
		r |= ed_buf_adds(&p->val, " PARALLEL RESTRICTED");
	else if (strcmp(par, "u") != 0)
		r |= ed_buf_addf(&p->val, " (parallel %s)", par);
	if (config) {
		size_t i;
		json_t *e;
		json_array_foreach(config, i, e)
			r |= ed_buf_adds(&p->val, " SET ") | val_setting(p, json_string_value(e));
	}
	if (bin) {
		/* C functions: the library and the symbol say it all. */
		r |= ed_buf_adds(&p->val, " AS ") | val_literal(p, bin);
		if (body)
			r |= ed_buf_adds(&p->val, ", ") | val_literal(p, body);
	} else if (body && strcmp(kind, "a") != 0) {
		/*
		 * The body is long and may hold secrets: keep only its keyed
		 * fingerprint (a plain hash of a short body could be guessed).
		 */
		struct ed_fp fp;
		char hex[2 * ED_FP_LEN + 1];
		ed_buf_reset(&p->tmp);
		if (collapse(body, strlen(body), &p->tmp))
			return oom(p);
		if ((p->rc = ed_fp_keyed(p->sec->key, p->tmp.p ? p->tmp.p : "", p->tmp.len, &fp,
					 p->err)))
			return p->rc;
		ed_fp_hex(&fp, hex);
		r |= ed_buf_addf(&p->val, " BODY hmac:%s", hex);
	}
	if (r)
		return oom(p);
	return push(p);
}

static enum ed_code do_trigger(struct parse *p, json_t *o)
{
	const char *schema = req_str(p, o, "schema", false);
	const char *table = req_str(p, o, "table", false);
	const char *name = req_str(p, o, "name", false);
	const char *def = req_str(p, o, "definition", false);
	const char *en = req_str(p, o, "enabled", false);
	if (!schema || !table || !name || !def || !en)
		return p->rc;
	int r = key_start(p, "trigger") | key_parts(p, schema, table, name) | val_def(p, def);
	/* pg_trigger.tgenabled: O fires (the default), D disabled, R replica only, A always. */
	if (strcmp(en, "D") == 0)
		r |= ed_buf_adds(&p->val, " DISABLED");
	else if (strcmp(en, "R") == 0)
		r |= ed_buf_adds(&p->val, " ENABLE REPLICA");
	else if (strcmp(en, "A") == 0)
		r |= ed_buf_adds(&p->val, " ENABLE ALWAYS");
	else if (strcmp(en, "O") != 0)
		r |= ed_buf_addf(&p->val, " (enabled %s)", en);
	if (r)
		return oom(p);
	return push(p);
}

static enum ed_code do_enum(struct parse *p, json_t *o)
{
	bool ok = true;
	const char *schema = req_str(p, o, "schema", false);
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	json_t *labels = opt_strings(p, o, "labels", &ok);
	if (ok && !labels)
		bad(p, "labels", "is missing");
	if (!schema || !name || !ident || !labels)
		return p->rc;
	int r = key_start(p, "enum") | key_parts(p, schema, name, NULL);
	r |= ed_buf_adds(&p->val, "CREATE TYPE ") | val_def(p, ident) |
	     ed_buf_adds(&p->val, " AS ENUM (");
	size_t i;
	json_t *e;
	/* Labels are values: kept byte for byte, whitespace included. */
	json_array_foreach(labels, i, e)
		r |= (i ? ed_buf_adds(&p->val, ", ") : 0) | val_literal(p, json_string_value(e));
	r |= ed_buf_addc(&p->val, ')');
	if (r)
		return oom(p);
	return push(p);
}

static enum ed_code do_extension(struct parse *p, json_t *o)
{
	const char *name = req_str(p, o, "name", false);
	const char *ident = req_str(p, o, "ident", false);
	const char *version = req_str(p, o, "version", true);
	const char *schema = req_str(p, o, "schema", false);
	if (!name || !ident || !version || !schema)
		return p->rc;
	int r = key_start(p, "extension") | key_parts(p, name, NULL, NULL);
	r |= ed_buf_adds(&p->val, "CREATE EXTENSION ") | val_def(p, ident);
	r |= ed_buf_adds(&p->val, " SCHEMA ") | val_def(p, schema);
	r |= ed_buf_adds(&p->val, " VERSION ") | val_literal(p, version);
	if (r)
		return oom(p);
	return push(p);
}

static const struct section {
	const char *name;
	enum ed_code (*fn)(struct parse *p, json_t *o);
} sections[] = {
	{"schemas", do_schema},         {"tables", do_table},   {"columns", do_column},
	{"constraints", do_constraint}, {"indexes", do_index},  {"views", do_view},
	{"sequences", do_sequence},     {"functions", do_function},
	{"triggers", do_trigger},       {"enums", do_enum},     {"extensions", do_extension},
};

/* By key, then value: which of two objects sharing a key is kept must not depend on qsort. */
static int def_cmp(const void *a, const void *b)
{
	const struct def *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

/* Same as jansson's json_loadb, telling a malformed document from a failed allocation. */
static json_t *load(const char *s, size_t len, json_error_t *e, bool *nomem)
{
	json_error_t again;
	memset(e, 0, sizeof(*e));
	memset(&again, 0, sizeof(again));
	*nomem = false;
	json_t *root = ed_json_loadb(s, len, JSON_REJECT_DUPLICATES, e);
	if (root)
		return root;
	if (json_error_code(e) == json_error_out_of_memory) {
		*nomem = true;
		return NULL;
	}
	/*
	 * jansson 2.14 reports some allocation failures as syntax errors: a
	 * malformed document fails a second time in just the same way.
	 */
	root = ed_json_loadb(s, len, JSON_REJECT_DUPLICATES, &again);
	if (!root)
		*nomem = e->text[0] == '\0' || json_error_code(&again) == json_error_out_of_memory ||
			 e->line != again.line || e->column != again.column ||
			 strcmp(e->text, again.text) != 0;
	return root;
}

enum ed_code ed_pg_catalog_parse(struct ed_str json, const char *label,
				 const struct ed_secrets *sec, struct ed_sink *sink,
				 struct ed_err *err)
{
	struct parse p = {.label = label, .sec = sec, .err = err, .key = ED_BUF_INIT,
			  .val = ED_BUF_INIT, .tmp = ED_BUF_INIT, .masked = ED_BUF_INIT};
	json_t *root = NULL;
	json_error_t jerr;
	bool nomem;
	const char *s = json.p ? json.p : "";
	size_t len = json.p ? json.len : 0;

	if (!label || !sink)
		return ed_err_set(err, ED_USAGE, "postgres catalog: missing label or sink");
	if (!sec || !sec->key)
		return ed_err_set(err, ED_USAGE, "postgres:%s: no secret key to fingerprint function "
				  "bodies and secret literals", label);
	while (len && is_ws((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		p.rc = ed_err_set(err, ED_PARSE, "postgres:%s: psql printed no catalog document",
				  label);
		goto out;
	}
	root = load(s, len, &jerr, &nomem);
	if (!root && nomem) {
		oom(&p);
		goto out;
	}
	if (!root) {
		/* jansson quotes the input after "near": function bodies may hold anything. */
		char *near = strstr(jerr.text, " near '");
		if (near)
			*near = '\0';
		p.rc = ed_err_set(err, ED_PARSE,
				  "postgres:%s: psql's output is not JSON: line %d, column %d: %s",
				  label, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	const char *format = json_string_value(json_object_get(root, "format"));
	if (!json_is_object(root) || !format || strcmp(format, ED_PG_CATALOG_FORMAT) != 0) {
		p.rc = ed_err_set(err, ED_PARSE, "postgres:%s: psql's output is not a catalog "
				  "document (no \"format\": \"%s\")", label, ED_PG_CATALOG_FORMAT);
		goto out;
	}
	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		json_t *arr = json_object_get(root, sections[k].name), *o;
		p.section = sections[k].name;
		if (!json_is_array(arr)) {
			p.rc = ed_err_set(err, ED_PARSE, "postgres:%s: catalog document: '%s' is "
					  "missing or not an array", label, sections[k].name);
			goto out;
		}
		json_array_foreach(arr, p.index, o) {
			if (!json_is_object(o)) {
				p.rc = ed_err_set(err, ED_PARSE, "postgres:%s: catalog document: "
						  "%s[%zu] is not an object", label, p.section, p.index);
				goto out;
			}
			if (sections[k].fn(&p, o))
				goto out;
		}
	}
	json_decref(root);
	root = NULL;

	if (p.n)
		qsort(p.v, p.n, sizeof(*p.v), def_cmp);
	for (size_t i = 0; i < p.n; i++) {
		if (i > 0 && strcmp(p.v[i].key, p.v[i - 1].key) == 0) {
			/* Only possible with dots in names: "a.b"+"c" and "a"+"b.c". */
			ed_sink_warn(sink, "postgres:%s: two objects share the key %s; the second is "
				     "skipped", label, p.v[i].key);
			continue;
		}
		struct ed_item it;
		memset(&it, 0, sizeof(it));
		it.kind = ED_KIND_SCHEMA;
		it.key = p.v[i].key;
		it.key_len = strlen(p.v[i].key);
		it.value = p.v[i].value;
		it.fp = p.v[i].fp;
		it.attrs = p.v[i].masked ? ED_ATTRS_MASKED : NULL;
		it.ftype = ED_FT_NONE;
		if ((p.rc = sink->emit(sink, &it, err)))
			goto out;
	}
out:
	json_decref(root);
	for (size_t i = 0; i < p.n; i++) {
		free(p.v[i].key);
		free(p.v[i].value);
	}
	free(p.v);
	ed_buf_release(&p.key);
	ed_buf_release(&p.val);
	ed_buf_release(&p.tmp);
	ed_buf_release(&p.masked);
	return p.rc;
}

/* --- connection strings --------------------------------------------------- */

/* Passwords found while redacting, to scrub from psql's messages. */
struct secrets {
	char *v[32]; /* more passwords than this in one string are not scrubbed */
	size_t n;
};

static void secrets_release(struct secrets *sec)
{
	for (size_t i = 0; i < sec->n; i++)
		free(sec->v[i]);
	sec->n = 0;
}

static int secret_add(struct secrets *sec, const char *s, size_t len)
{
	if (!sec || len == 0 || sec->n == sizeof(sec->v) / sizeof(sec->v[0]))
		return 0;
	char *d = ed_strndup(s, len);
	if (!d)
		return -1;
	sec->v[sec->n++] = d;
	return 0;
}

static bool is_secret_key(const char *k, size_t n)
{
	return (n == 8 && strncasecmp(k, "password", 8) == 0) ||
	       (n == 11 && strncasecmp(k, "sslpassword", 11) == 0);
}

static bool is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* libpq reads "x=y" or a URI as a connection string, anything else as a database name. */
static bool is_conninfo(const char *s)
{
	return is_uri(s) || strchr(s, '=') != NULL;
}

/* One "key = value" of a key=value connection string. */
struct kv {
	const char *key;
	size_t key_len;
	const char *raw; /* the whole pair as written */
	size_t raw_len;
};

/*
 * Reads the next pair at *cur as libpq does (value unquoted up to whitespace,
 * or '...'; backslash escapes the next byte in both), its unescaped value
 * into val. Returns 1 for a pair, 0 at the end, -1 when the text does not
 * parse, -2 when memory runs out.
 */
static int kv_next(const char **cur, struct kv *kv, struct ed_buf *val)
{
	const char *s = *cur;
	while (is_ws((unsigned char)*s))
		s++;
	if (!*s) {
		*cur = s;
		return 0;
	}
	kv->raw = kv->key = s;
	while (*s && *s != '=' && !is_ws((unsigned char)*s))
		s++;
	kv->key_len = (size_t)(s - kv->key);
	while (is_ws((unsigned char)*s))
		s++;
	if (*s != '=' || kv->key_len == 0)
		return -1;
	s++;
	while (is_ws((unsigned char)*s))
		s++;
	ed_buf_reset(val);
	if (*s == '\'') {
		for (s++;; s++) {
			if (!*s)
				return -1;
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '\'')
				break;
			if (ed_buf_addc(val, *s))
				return -2;
		}
		s++;
	} else {
		for (; *s && !is_ws((unsigned char)*s); s++) {
			if (*s == '\\' && s[1])
				s++;
			if (ed_buf_addc(val, *s))
				return -2;
		}
	}
	kv->raw_len = (size_t)(s - kv->raw);
	*cur = s;
	return 1;
}

/* Appends s[0..n) percent-decoded; -1 when memory runs out. */
static int pct_decode(const char *s, size_t n, struct ed_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = ed_hex_value(s[i + 1])) >= 0 &&
		    (lo = ed_hex_value(s[i + 2])) >= 0) {
			if (ed_buf_addc(out, (char)(hi * 16 + lo)))
				return -1;
			i += 2;
		} else if (ed_buf_addc(out, s[i])) {
			return -1;
		}
	}
	return 0;
}

static int redact(const char *s, struct ed_buf *out, struct secrets *sec, int depth);

/* Appends a redacted copy of a dbname value that is itself a connection string, quoted. */
static int redact_nested(const char *v, struct ed_buf *out, struct secrets *sec, int depth)
{
	struct ed_buf inner = ED_BUF_INIT;
	int r = redact(v, &inner, sec, depth + 1);
	if (!r)
		r = ed_buf_addc(out, '\'');
	for (size_t i = 0; !r && i < inner.len; i++) {
		if (inner.p[i] == '\'' || inner.p[i] == '\\')
			r = ed_buf_addc(out, '\\');
		if (!r)
			r = ed_buf_addc(out, inner.p[i]);
	}
	if (!r)
		r = ed_buf_addc(out, '\'');
	ed_buf_release(&inner);
	return r;
}

/* The URI form: postgresql://[user[:password]@][hosts][/dbname][?k=v&...]. */
static int redact_uri(const char *s, struct ed_buf *out, struct secrets *sec)
{
	const char *p = strstr(s, "://") + 3;
	struct ed_buf dec = ED_BUF_INIT;
	int r = ed_buf_add(out, s, (size_t)(p - s));
	const char *at = p;
	while (*at && *at != '@' && *at != '/')
		at++;
	if (!r && *at == '@') {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *uend = colon ? colon : at;
		r = ed_buf_add(out, p, (size_t)(uend - p)) || ed_buf_addc(out, '@');
		if (!r && colon) {
			r = secret_add(sec, colon + 1, (size_t)(at - colon - 1)) ||
			    pct_decode(colon + 1, (size_t)(at - colon - 1), &dec) ||
			    secret_add(sec, dec.p ? dec.p : "", dec.len);
			ed_buf_reset(&dec);
		}
		p = at + 1;
	}
	const char *q = strchr(p, '?');
	if (!r)
		r = ed_buf_add(out, p, q ? (size_t)(q - p) : strlen(p));
	if (!r && q) {
		bool first = true;
		for (const char *k = q + 1; !r && *k;) {
			const char *amp = strchr(k, '&');
			size_t n = amp ? (size_t)(amp - k) : strlen(k);
			const char *eq = memchr(k, '=', n);
			size_t klen = eq ? (size_t)(eq - k) : n;
			ed_buf_reset(&dec);
			if (pct_decode(k, klen, &dec)) {
				r = -1;
				break;
			}
			if (is_secret_key(ed_buf_str(&dec), dec.len)) {
				if (eq) {
					size_t vlen = n - klen - 1;
					ed_buf_reset(&dec);
					r = secret_add(sec, eq + 1, vlen) ||
					    pct_decode(eq + 1, vlen, &dec) ||
					    secret_add(sec, dec.p ? dec.p : "", dec.len);
				}
			} else {
				r = ed_buf_addc(out, first ? '?' : '&') || ed_buf_add(out, k, n);
				first = false;
			}
			k += n;
			if (*k == '&')
				k++;
		}
	}
	ed_buf_release(&dec);
	return r ? -1 : 0;
}

static int redact(const char *s, struct ed_buf *out, struct secrets *sec, int depth)
{
	if (is_uri(s))
		return redact_uri(s, out, sec);
	if (!strchr(s, '='))
		return ed_buf_adds(out, s); /* a bare database name */
	struct ed_buf val = ED_BUF_INIT;
	const char *cur = s;
	struct kv kv;
	bool first = true;
	int r = 0, got;
	while ((got = kv_next(&cur, &kv, &val)) == 1) {
		if (is_secret_key(kv.key, kv.key_len)) {
			if (secret_add(sec, ed_buf_str(&val), val.len)) {
				r = -1;
				break;
			}
			continue;
		}
		if (!first && ed_buf_addc(out, ' ')) {
			r = -1;
			break;
		}
		first = false;
		const char *v = ed_buf_str(&val);
		if (kv.key_len == 6 && strncmp(kv.key, "dbname", 6) == 0 && depth == 0 &&
		    is_conninfo(v)) {
			r = ed_buf_adds(out, "dbname=") || redact_nested(v, out, sec, depth);
		} else {
			r = ed_buf_add(out, kv.raw, kv.raw_len);
		}
		if (r)
			break;
	}
	if (got == -2)
		r = -1;
	if (!r && got == -1)
		r = ed_buf_adds(out, first ? "..." : " ...");
	ed_buf_release(&val);
	return r ? -1 : 0;
}

int ed_pg_conninfo_redact(const char *conninfo, struct ed_buf *out)
{
	struct ed_buf tmp = ED_BUF_INIT;
	int r = redact(conninfo ? conninfo : "", &tmp, NULL, 0);
	if (!r && tmp.len)
		r = ed_buf_add(out, tmp.p, tmp.len);
	ed_buf_release(&tmp);
	return r;
}

enum ed_code ed_pg_conninfo_dbname(const char *conninfo, struct ed_buf *out,
				   struct ed_err *err)
{
	struct ed_buf val = ED_BUF_INIT, found = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	bool have = false;
	const char *s = conninfo ? conninfo : "";

	if (is_uri(s)) {
		const char *p = strstr(s, "://") + 3;
		const char *slash = p + strcspn(p, "/?");
		if (*slash == '/') {
			size_t n = strcspn(slash + 1, "?");
			if (n) {
				if (pct_decode(slash + 1, n, &found))
					goto nomem;
				have = true;
			}
		}
		const char *q = strchr(p, '?');
		for (const char *k = q ? q + 1 : NULL; k && *k;) {
			size_t n = strcspn(k, "&");
			if (n > 7 && strncmp(k, "dbname=", 7) == 0) {
				ed_buf_reset(&found);
				if (pct_decode(k + 7, n - 7, &found))
					goto nomem;
				have = true;
			}
			k += n;
			if (*k == '&')
				k++;
		}
	} else if (!strchr(s, '=')) {
		if (*s) {
			if (ed_buf_adds(&found, s))
				goto nomem;
			have = true;
		}
	} else {
		const char *cur = s;
		struct kv kv;
		int got;
		/* The last dbname wins, as in libpq. */
		while ((got = kv_next(&cur, &kv, &val)) == 1) {
			if (kv.key_len == 6 && strncmp(kv.key, "dbname", 6) == 0) {
				ed_buf_reset(&found);
				if (val.len && ed_buf_add(&found, val.p, val.len))
					goto nomem;
				have = val.len > 0;
			}
		}
		if (got == -2)
			goto nomem;
		if (got == -1) {
			struct ed_buf red = ED_BUF_INIT;
			const char *shown = ed_pg_conninfo_redact(s, &red) ? "(conninfo)" : ed_buf_str(&red);
			rc = ed_err_set(err, ED_PARSE, "%s: not a connection string (expected "
					"key=value pairs)", shown);
			ed_buf_release(&red);
			goto out;
		}
		if (have && is_conninfo(ed_buf_str(&found))) {
			/* dbname='host=... dbname=x': libpq expands it; so do we, once. */
			struct ed_buf inner = ED_BUF_INIT;
			char *copy = ed_buf_detach(&found);
			rc = copy ? ed_pg_conninfo_dbname(copy, &inner, err) : ED_NOMEM;
			free(copy);
			if (rc == ED_OK && ed_buf_add(out, inner.p, inner.len))
				rc = ED_NOMEM;
			ed_buf_release(&inner);
			if (rc == ED_NOMEM)
				goto nomem;
			goto out;
		}
	}
	if (!have) {
		rc = ed_err_set(err, ED_NOTFOUND, "the connection string names no database (dbname)");
		goto out;
	}
	if (ed_buf_add(out, found.p, found.len))
		goto nomem;
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	ed_buf_release(&val);
	ed_buf_release(&found);
	return rc;
}

/* --- collection ----------------------------------------------------------- */

/*
 * Replaces every occurrence of each secret in msg (cap bytes), and a start of
 * one at its very end, by "***", cutting what then does not fit.
 */
static void scrub(char *msg, size_t cap, const struct secrets *sec)
{
	char out[sizeof(((struct ed_err *)0)->msg)];
	size_t n = 0, room = cap < sizeof(out) ? cap : sizeof(out);
	if (!sec->n || room == 0)
		return;
	for (const char *p = msg; *p && n + 1 < room;) {
		size_t hit = 0;
		size_t rest = strlen(p);
		for (size_t k = 0; k < sec->n && !hit; k++) {
			size_t sl = strlen(sec->v[k]);
			/* A message cut short may end in the first bytes of a secret. */
			if (sl && strncmp(p, sec->v[k], sl < rest ? sl : rest) == 0)
				hit = sl < rest ? sl : rest;
		}
		if (hit) {
			for (int i = 0; i < 3 && n + 1 < room; i++)
				out[n++] = '*';
			p += hit;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	memcpy(msg, out, n + 1);
}

/*
 * Runs query, then query2 when set, through psql (after settings, in one
 * transaction): its output appended to out, or handed to fn chunk by chunk
 * when fn is set. *status: psql's exit status, when not NULL; then a non-zero
 * status is ED_OK with psql's words in err (ED_OK), not an error.
 */
static enum ed_code pg_exec(struct ed_source *src, const char *label, const char *conninfo,
			    const char *settings, const char *query, const char *query2,
			    bool warn_password,
			    struct ed_sink *sink, struct ed_buf *out, ed_source_out_fn fn,
			    void *ctx, int timeout_ms, int *status_out, struct ed_err *err)
{
	struct ed_buf shown = ED_BUF_INIT;
	struct secrets pw = {{NULL}, 0}; /* passwords in conninfo, to scrub */
	struct ed_err rerr = {ED_OK, ""};
	enum ed_code rc;
	int status = 0;

	if (!src || !label || !*label || !conninfo || !*conninfo || !sink || !query)
		return ed_err_set(err, ED_USAGE,
				  "postgres: missing source, label, connection string, query or sink");
	if (redact(conninfo, &shown, &pw, 0)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if (pw.n && warn_password)
		ed_sink_warn(sink, "postgres:%s (%s): the connection string holds a password, which "
			     "other users of the host can read in the process list while psql runs; "
			     "prefer ~/.pgpass or PGPASSFILE", label, ed_buf_str(&shown));

	const char *const argv[] = {
		"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-1",
		"-d", conninfo, "-c", settings, "-c", query, query2 ? "-c" : NULL, query2, NULL,
	};
	if (fn && !src->ops->stream)
		rc = ed_err_set(&rerr, ED_UNSUPPORTED, "this source cannot stream a program's output");
	else if (fn)
		rc = src->ops->stream(src, argv, timeout_ms, fn, ctx, &status, &rerr);
	else
		rc = src->ops->run(src, argv, ED_PG_OUTPUT_MAX, timeout_ms, out, &status, &rerr);
	if (rc == ED_OK && status != 0 && !status_out)
		rc = ED_IO;
	if (rc == ED_NOTFOUND) {
		rc = ed_err_set(err, ED_NOTFOUND, "postgres:%s (%s): psql is not installed on the "
				"host (Debian: postgresql-client)", label, ed_buf_str(&shown));
		goto out;
	}
	if (rc || status) {
		scrub(rerr.msg, sizeof(rerr.msg), &pw);
		ed_err_set(err, rc, "postgres:%s (%s): %s", label, ed_buf_str(&shown),
			   rerr.msg[0] ? rerr.msg : "psql failed");
	}
	if (status_out)
		*status_out = status;
out:
	secrets_release(&pw);
	ed_buf_release(&shown);
	return rc;
}

enum ed_code ed_pg_run(struct ed_source *src, const char *label, const char *conninfo,
		       const char *query, bool warn_password, struct ed_sink *sink,
		       struct ed_buf *out, struct ed_err *err)
{
	return pg_exec(src, label, conninfo, pg_settings, query, NULL, warn_password, sink, out,
		       NULL, NULL, ED_PG_TIMEOUT_MS, NULL, err);
}

/*
 * A COPY of sensitive rows: read-only, and no statement timeout (a large
 * table takes what it takes; the source's idle timeout still applies). The
 * settings that decide how a value is printed are pinned, so that one value
 * prints, and is fingerprinted, alike whatever each server or user sets:
 * bytea as hex (not escape), dates ISO, timestamptz in UTC, intervals and
 * floats as PostgreSQL prints them by default, money without a locale.
 */
static const char pg_stream_settings[] =
	"SET TRANSACTION READ ONLY; SET LOCAL client_encoding = 'UTF8'; "
	"SET LOCAL statement_timeout = 0; SET LOCAL bytea_output = 'hex'; "
	"SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; "
	"SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 1; "
	"SET LOCAL lc_monetary = 'C'";

enum ed_code ed_pg_stream(struct ed_source *src, const char *label, const char *conninfo,
			  const char *query, struct ed_sink *sink, ed_source_out_fn fn, void *ctx,
			  int *status, struct ed_err *err)
{
	return pg_exec(src, label, conninfo, pg_stream_settings, query, NULL, false, sink, NULL, fn,
		       ctx, ED_PG_TIMEOUT_MS, status, err);
}

enum ed_code ed_schema_postgres_collect(struct ed_source *src, const char *label,
					const char *conninfo, const struct ed_secrets *sec,
					struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf out = ED_BUF_INIT;
	enum ed_code rc = ed_pg_run(src, label, conninfo, pg_query, true, sink, &out, err);
	if (!rc)
		rc = ed_pg_catalog_parse(ed_str_of(out.p, out.len), label, sec, sink, err);
	ed_buf_release(&out);
	return rc;
}

enum ed_code ed_schema_postgres_collect_shape(struct ed_source *src, const char *label,
					      const char *conninfo, const struct ed_secrets *sec,
					      bool exact_count, struct ed_sink *sink,
					      struct ed_err *err)
{
	struct ed_buf q = ED_BUF_INIT, out = ED_BUF_INIT;
	enum ed_code rc = ed_pg_datashape_query(exact_count, &q, err);
	/* Each statement has its statement_timeout: the two together, twice the time. */
	if (!rc)
		rc = pg_exec(src, label, conninfo, pg_settings, pg_query, q.p, true, sink, &out, NULL,
			     NULL, 2 * ED_PG_TIMEOUT_MS, NULL, err);
	if (rc)
		goto out;
	/* The shape's document starts with RS (0x1e), which JSON text never holds raw. */
	const char *rs = out.p ? memchr(out.p, 0x1e, out.len) : NULL;
	if (!rs) {
		rc = ed_err_set(err, ED_PARSE, "postgres:%s: psql printed no data-shape document",
				label);
		goto out;
	}
	size_t at = (size_t)(rs - out.p);
	rc = ed_pg_catalog_parse(ed_str_of(out.p, at), label, sec, sink, err);
	if (!rc)
		rc = ed_pg_datashape_parse(ed_str_of(rs + 1, out.len - at - 1), label, sink, err);
out:
	ed_buf_release(&q);
	ed_buf_release(&out);
	return rc;
}
