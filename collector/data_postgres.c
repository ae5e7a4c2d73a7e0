/* SPDX-License-Identifier: MIT */
/*
 * The data shape of a PostgreSQL database: one query through psql over the
 * planner's statistics (pg_class, pg_stat_user_tables, pg_stats), never a
 * value. See ed_schema_postgres_collect_shape() in ed/pgschema.h.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ed/datashape.h"
#include "ed/pgschema.h"
#include "ed/snapdoc.h"

#define PG_DATASHAPE_FORMAT "envdrift.pg_datashape/1"

/*
 * The tables (as the schema collector lists them) and the pg_stats columns
 * that describe a shape. pg_stats' most_common_vals, most_common_freqs,
 * histogram_bounds and the element statistics hold values: never named here.
 * Between the parts: whether tables are counted, and the count (or NULL).
 *
 * Cost, in a backend whose caches are cold (psql connects for each
 * collection): pg_stats checks has_column_privilege() on every column of the
 * database (8,000 for 200 small tables, each a catalog lookup) before any
 * join can narrow it, so it is read per table (OFFSET 0 keeps the planner from
 * flattening the LATERAL subquery back into that scan), through the index on
 * pg_class's name: only the tables' own columns are checked. The counters of
 * pg_stat_user_tables come from the functions that view calls, without its
 * join and grouping over pg_index. Measured in bench/data.sh.
 */
static const char query_head[] =
	"WITH ext AS (SELECT objid FROM pg_depend WHERE deptype = 'e'\n"
	"  AND classid = 'pg_class'::regclass),\n"
	"rel AS (SELECT c.oid, c.relname, c.relkind, c.reltuples, n.nspname FROM pg_class c\n"
	"  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')\n"
	"  AND n.nspname NOT IN ('pg_catalog', 'information_schema')\n"
	"  AND left(n.nspname, 8) <> 'pg_toast' AND left(n.nspname, 7) <> 'pg_temp'\n"
	"  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = c.oid))\n"
	"SELECT chr(30) || json_build_object('format', '" PG_DATASHAPE_FORMAT "', 'exact_count', ";
static const char query_tables[] =
	",\n'tables', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', r.nspname, 'name', r.relname, 'reltuples', r.reltuples,\n"
	"  'live', pg_stat_get_live_tuples(r.oid), 'bytes', pg_total_relation_size(r.oid),\n"
	"  'analyzed', pg_stat_get_last_analyze_time(r.oid) IS NOT NULL\n"
	"    OR pg_stat_get_last_autoanalyze_time(r.oid) IS NOT NULL\n"
	"    OR EXISTS (SELECT 1 FROM pg_stats st WHERE st.schemaname = r.nspname\n"
	"    AND st.tablename = r.relname),\n"
	"  'readable', has_table_privilege(r.oid, 'SELECT'),\n"
	"  'count', ";
static const char query_count[] =
	"CASE WHEN has_table_privilege(r.oid, 'SELECT') THEN (xpath('/row/c/text()',\n"
	"    query_to_xml(format('SELECT count(*) AS c FROM %I.%I', r.nspname, r.relname),\n"
	"    false, true, '')))[1]::text::bigint END";
static const char query_tail[] =
	")\n  ORDER BY r.nspname, r.relname), '[]')\n"
	"  FROM rel r),\n"
	"'columns', (SELECT coalesce(json_agg(json_build_object(\n"
	"  'schema', st.schemaname, 'table', st.tablename, 'name', st.attname,\n"
	"  'null_frac', st.null_frac, 'n_distinct', st.n_distinct, 'width', st.avg_width,\n"
	"  'correlation', st.correlation)\n"
	"  ORDER BY st.schemaname, st.tablename, st.attname), '[]')\n"
	"  FROM rel r, LATERAL (SELECT st.schemaname, st.tablename, st.attname, st.null_frac,\n"
	"    st.n_distinct, st.avg_width, st.correlation FROM pg_stats st\n"
	"    WHERE st.schemaname = r.nspname AND st.tablename = r.relname\n"
	"    AND st.inherited = (r.relkind = 'p') OFFSET 0) st))";

/* One shape waiting to be emitted: they are sorted by key first. */
struct entry {
	char *object; /* "S.T" or "S.T.C", malloc'd */
	struct ed_data_shape shape;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	/* Keys are ".../column/..." then ".../table/...": columns first. */
	if (x->shape.table != y->shape.table)
		return x->shape.table ? 1 : -1;
	return strcmp(x->object, y->object);
}

static bool entries_add(struct entries *e, const char *a, const char *b, const char *c,
			const struct ed_data_shape *s)
{
	if (e->n == e->cap) {
		size_t ncap = e->cap ? 2 * e->cap : 64;
		struct entry *v = realloc(e->v, ncap * sizeof(*v));
		if (!v)
			return false;
		e->v = v;
		e->cap = ncap;
	}
	struct ed_buf o = ED_BUF_INIT;
	if (ed_buf_addf(&o, c ? "%s.%s.%s" : "%s.%s", a, b, c)) {
		ed_buf_release(&o);
		return false;
	}
	e->v[e->n].object = ed_buf_detach(&o);
	if (!e->v[e->n].object)
		return false;
	e->v[e->n++].shape = *s;
	return true;
}

static void entries_release(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].object);
	free(e->v);
}

/* A member that must be a string; NULL otherwise. */
static const char *str_of(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* A number, or NAN for null, absence or anything else. */
static double num_of(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

enum ed_code ed_pg_datashape_parse(struct ed_str json, const char *label, struct ed_sink *sink,
				   struct ed_err *err)
{
	struct entries e = {0};
	enum ed_code rc = ED_OK;
	json_error_t je;
	json_t *doc = ed_json_loadb(json.p ? json.p : "", json.len, JSON_REJECT_DUPLICATES, &je);
	json_t *tables = json_object_get(doc, "tables"), *columns = json_object_get(doc, "columns");
	const char *fmt = str_of(doc, "format");
	if (!doc || !fmt || strcmp(fmt, PG_DATASHAPE_FORMAT) != 0 || !json_is_array(tables) ||
	    !json_is_array(columns)) {
		rc = ed_err_set(err, ED_PARSE, "postgres:%s: the data-shape query's answer is not "
				"an %s document%s%s", label, PG_DATASHAPE_FORMAT,
				doc ? "" : ": ", doc ? "" : je.text);
		goto out;
	}
	bool counted = json_is_true(json_object_get(doc, "exact_count"));
	size_t i;
	json_t *t;
	json_array_foreach(tables, i, t) {
		const char *sn = str_of(t, "schema"), *tn = str_of(t, "name");
		if (!sn || !tn) {
			rc = ed_err_set(err, ED_PARSE, "postgres:%s: tables[%zu] has no schema or name",
					label, i);
			goto out;
		}
		struct ed_data_shape s;
		ed_data_shape_init(&s, true);
		s.bytes = num_of(t, "bytes");
		double count = num_of(t, "count"), reltuples = num_of(t, "reltuples");
		bool analyzed = json_is_true(json_object_get(t, "analyzed"));
		if (!isnan(count)) {
			s.rows = count;
		} else if (analyzed && reltuples >= 0) {
			s.rows = round(reltuples);
			s.estimated = true;
		}
		if (!analyzed) {
			s.stats_missing = true;
			ed_sink_warn(sink, "postgres:%s: table %s.%s has no statistics (never "
				     "ANALYZEd): its data shape is recorded as missing; envdrift "
				     "never runs ANALYZE itself", label, sn, tn);
		}
		/* count is null when no count was asked, and when the table may not be read. */
		if (json_is_false(json_object_get(t, "readable")) && json_object_get(t, "count") &&
		    json_is_null(json_object_get(t, "count")) && counted)
			ed_sink_warn(sink, "postgres:%s: table %s.%s: permission denied: its rows "
				     "were not counted%s", label, sn, tn,
				     isnan(s.rows) ? "" : " (the planner's estimate is recorded)");
		if (!entries_add(&e, sn, tn, NULL, &s))
			goto nomem;
	}
	/* Row estimates, to turn a fixed number of distinct values into a ratio. */
	json_array_foreach(columns, i, t) {
		const char *sn = str_of(t, "schema"), *tn = str_of(t, "table"),
			   *cn = str_of(t, "name");
		if (!sn || !tn || !cn) {
			rc = ed_err_set(err, ED_PARSE,
					"postgres:%s: columns[%zu] has no schema, table or name", label,
					i);
			goto out;
		}
		double rows = NAN;
		for (size_t k = 0; k < e.n; k++) {
			const char *o = e.v[k].object;
			size_t sl = strlen(sn), tl = strlen(tn);
			if (e.v[k].shape.table && strncmp(o, sn, sl) == 0 && o[sl] == '.' &&
			    strcmp(o + sl + 1, tn) == 0 && tl) {
				rows = e.v[k].shape.rows;
				break;
			}
		}
		struct ed_data_shape s;
		ed_data_shape_init(&s, false);
		s.null_frac = num_of(t, "null_frac");
		s.width = num_of(t, "width");
		s.correlation = num_of(t, "correlation");
		double nd = num_of(t, "n_distinct");
		/* pg_stats: negative, minus a fraction of the rows; positive, a count. */
		if (nd < 0) {
			s.distinct = -nd;
		} else if (nd > 0) {
			s.distinct_values = nd;
			if (rows > 0)
				s.distinct = nd / rows > 1 ? 1 : nd / rows;
		}
		if (!entries_add(&e, sn, tn, cn, &s))
			goto nomem;
	}
	if (e.n)
		qsort(e.v, e.n, sizeof(*e.v), entry_cmp);
	for (i = 0; i < e.n && !rc; i++) {
		if (i && e.v[i].shape.table == e.v[i - 1].shape.table &&
		    strcmp(e.v[i].object, e.v[i - 1].object) == 0) {
			ed_sink_warn(sink, "postgres:%s: two objects share the data key %s; the second "
				     "is skipped", label, e.v[i].object);
			continue;
		}
		rc = ed_data_emit(sink, "postgres", label, e.v[i].object, &e.v[i].shape, err);
	}
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	json_decref(doc);
	entries_release(&e);
	return rc;
}

enum ed_code ed_pg_datashape_query(bool exact_count, struct ed_buf *q, struct ed_err *err)
{
	if (ed_buf_adds(q, query_head) || ed_buf_adds(q, exact_count ? "true" : "false") ||
	    ed_buf_adds(q, query_tables) || ed_buf_adds(q, exact_count ? query_count : "NULL") ||
	    ed_buf_adds(q, query_tail))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}
