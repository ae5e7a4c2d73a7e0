/* SPDX-License-Identifier: MIT */
/*
 * The data shape of a SQLite database: exact row counts and, per column, a
 * shape computed over a bounded, deterministic rowid-stride sample. Values
 * pass through memory only; what is kept are counts and fractions.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "data_impl.h"
#include "ed/datashape.h"
#include "ed/profile.h"
#include "ed/rowsample.h"
#include <xxhash.h>

/* A set of 64-bit value digests, to count distinct values; 0 marks a free slot. */
struct set {
	uint64_t *v;
	size_t cap, n; /* cap a power of two */
};

static bool set_add(struct set *s, uint64_t h)
{
	if (!h)
		h = 1;
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *nv = calloc(ncap, sizeof(*nv));
		if (!nv)
			return false;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i])
				continue;
			size_t j = s->v[i] & (ncap - 1);
			while (nv[j])
				j = (j + 1) & (ncap - 1);
			nv[j] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	size_t j = h & (s->cap - 1);
	while (s->v[j]) {
		if (s->v[j] == h)
			return true;
		j = (j + 1) & (s->cap - 1);
	}
	s->v[j] = h;
	s->n++;
	return true;
}

/* What is counted of one column over the sample. */
struct colstat {
	char *name;
	struct set distinct;
	uint64_t nulls, nonnull;
	double bytes;
	bool numeric;                     /* every non-NULL value so far is a number */
	double sx, sy, sxx, syy, sxy;     /* for the correlation of position and value */
};

static void colstats_release(struct colstat *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].name);
		free(c[i].distinct.v);
	}
	free(c);
}

/* Reads one integer answer of sql; false when it fails (a message in db). */
static bool one_int(sqlite3 *db, const char *sql, const char *bind, double *out)
{
	sqlite3_stmt *st = NULL;
	bool good = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
		    (!bind || sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC) == SQLITE_OK) &&
		    sqlite3_step(st) == SQLITE_ROW;
	if (good)
		*out = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return good;
}

/* The shapes of one table: a table item and one per column. */
static enum ed_code one_table(sqlite3 *db, const char *path, const char *label, const char *table,
			      bool rowid, uint64_t sample_rows, struct ed_sink *sink,
			      struct ed_err *err)
{
	struct colstat *cols = NULL;
	size_t ncols = 0;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	struct ed_buf b = ED_BUF_INIT, obj = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	struct ed_data_shape ts;
	ed_data_shape_init(&ts, true);

	if (!(sql = sqlite3_mprintf("SELECT count(*) FROM main.\"%w\"", table)))
		goto nomem;
	if (!one_int(db, sql, NULL, &ts.rows)) {
		ed_sink_warn(sink, "%s: table %s: cannot be counted: %s", path, table,
			     sqlite3_errmsg(db));
		goto out;
	}
	/* dbstat (when SQLite has it): the pages of the table and its indexes. */
	double bytes;
	if (one_int(db, "SELECT sum(pgsize) FROM dbstat('main') WHERE name IN (SELECT name FROM "
		    "main.sqlite_schema WHERE tbl_name = ?1)", table, &bytes))
		ts.bytes = bytes;

	/* The columns, in table order. */
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, 'main')", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK) {
		ed_sink_warn(sink, "%s: table %s: cannot list its columns: %s", path, table,
			     sqlite3_errmsg(db));
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct colstat *nc = realloc(cols, (ncols + 1) * sizeof(*nc));
		if (!nc)
			goto nomem;
		cols = nc;
		memset(&cols[ncols], 0, sizeof(cols[ncols]));
		cols[ncols].numeric = true;
		if (!(cols[ncols++].name = strdup((const char *)sqlite3_column_text(st, 0))))
			goto nomem;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (r != SQLITE_DONE || !ncols)
		goto emit;

	/* The sample: every stride-th rowid, at most sample_rows rows. */
	uint64_t total = ts.rows > 0 ? (uint64_t)ts.rows : 0;
	uint64_t stride = total > sample_rows ? (total + sample_rows - 1) / sample_rows : 1;
	int bad = ed_buf_adds(&b, "SELECT ");
	for (size_t i = 0; i < ncols && !bad; i++) {
		char *q = sqlite3_mprintf("%s\"%w\"", i ? ", " : "", cols[i].name);
		bad = !q || ed_buf_adds(&b, q);
		sqlite3_free(q);
	}
	char *from = sqlite3_mprintf(" FROM main.\"%w\"", table);
	bad |= !from || ed_buf_adds(&b, from);
	sqlite3_free(from);
	if (rowid && stride > 1)
		bad |= ed_buf_addf(&b, " WHERE rowid %% %llu = 0", (unsigned long long)stride);
	bad |= ed_buf_addf(&b, " LIMIT %llu", (unsigned long long)sample_rows);
	if (bad)
		goto nomem;
	if (sqlite3_prepare_v2(db, b.p, -1, &st, NULL) != SQLITE_OK) {
		ed_sink_warn(sink, "%s: table %s: cannot be sampled: %s", path, table,
			     sqlite3_errmsg(db));
		goto emit_table;
	}
	uint64_t n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < ncols; i++) {
			struct colstat *c = &cols[i];
			int type = sqlite3_column_type(st, (int)i);
			if (type == SQLITE_NULL) {
				c->nulls++;
				continue;
			}
			c->nonnull++;
			uint8_t tag = (uint8_t)type;
			uint64_t h;
			if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
				/* Numbers compare by value, as SQLite's DISTINCT does. */
				double v = sqlite3_column_double(st, (int)i);
				if (v == 0)
					v = 0; /* -0.0 and 0.0 are one value */
				h = XXH3_64bits(&v, sizeof(v)) ^ 0x9e3779b97f4a7c15ULL;
				c->bytes += 8;
				double x = (double)n;
				c->sx += x, c->sy += v, c->sxx += x * x, c->syy += v * v,
					c->sxy += x * v;
			} else {
				const void *p = type == SQLITE_BLOB ? sqlite3_column_blob(st, (int)i)
								    : sqlite3_column_text(st, (int)i);
				int len = sqlite3_column_bytes(st, (int)i);
				h = XXH3_64bits(p, (size_t)len) + tag;
				c->bytes += len;
				c->numeric = false;
			}
			if (!set_add(&c->distinct, h))
				goto nomem;
		}
		n++;
	}
	if (r != SQLITE_DONE) {
		ed_sink_warn(sink, "%s: table %s: the sample could not be read: %s", path, table,
			     sqlite3_errmsg(db));
		goto emit_table;
	}
	ts.sampled = (double)n;
emit:
	for (size_t i = 0; i < ncols && !rc; i++) {
		struct colstat *c = &cols[i];
		struct ed_data_shape s;
		ed_data_shape_init(&s, false);
		uint64_t rows = c->nulls + c->nonnull;
		if (rows) {
			s.null_frac = (double)c->nulls / (double)rows;
			double d = (double)c->distinct.n;
			s.distinct = d / (double)rows;
			/* As PostgreSQL's ANALYZE: few values, a count that does not grow. */
			if (s.distinct <= 0.1)
				s.distinct_values = d;
		}
		if (c->nonnull) {
			s.width = round(c->bytes / (double)c->nonnull);
			double k = (double)c->nonnull;
			double vx = k * c->sxx - c->sx * c->sx, vy = k * c->syy - c->sy * c->sy;
			/* Position against value, numbers only and only when there is no NULL. */
			if (c->numeric && !c->nulls && k > 1 && vx > 0 && vy > 0)
				s.correlation = (k * c->sxy - c->sx * c->sy) / sqrt(vx * vy);
		}
		ed_buf_reset(&obj);
		if (ed_buf_addf(&obj, "main.%s.%s", table, c->name))
			goto nomem;
		rc = ed_data_emit(sink, "sqlite", label, obj.p, &s, err);
	}
emit_table:
	if (!rc) {
		ed_buf_reset(&obj);
		if (ed_buf_addf(&obj, "main.%s", table))
			goto nomem;
		rc = ed_data_emit(sink, "sqlite", label, obj.p, &ts, err);
	}
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	colstats_release(cols, ncols);
	ed_buf_release(&b);
	ed_buf_release(&obj);
	return rc;
}

enum ed_code ed_data_sqlite_collect(struct sqlite3 *db, const char *path, const char *label,
				    uint64_t sample_rows, struct ed_sink *sink,
				    struct ed_err *err)
{
	sqlite3_stmt *st = NULL;
	enum ed_code rc = ED_OK;
	char **names = NULL;
	bool *rowid = NULL;
	size_t n = 0;
	int r;
	if (!sample_rows)
		sample_rows = 1;
	/* Listed first, so that no statement is open while the tables are read. */
	if (sqlite3_prepare_v2(db,
			       "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND "
			       "type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
			       "ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		ed_sink_warn(sink, "%s: cannot list the tables for their data shape: %s", path,
			     sqlite3_errmsg(db));
		return ED_OK;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (nn)
			names = nn;
		bool *nr = nn ? realloc(rowid, (n + 1) * sizeof(*nr)) : NULL;
		if (nr)
			rowid = nr;
		if (!nn || !nr || !(names[n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto out;
		}
		rowid[n++] = sqlite3_column_int(st, 1) == 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (r != SQLITE_DONE)
		ed_sink_warn(sink, "%s: cannot list the tables for their data shape: %s", path,
			     sqlite3_errmsg(db));
	for (size_t i = 0; i < n && !rc; i++)
		rc = one_table(db, path, label, names[i], rowid[i], sample_rows, sink, err);
out:
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(rowid);
	return rc;
}

/* What the SELECT of one SQLite database needs. */
struct sqlite_rows {
	sqlite3 *db;
	const char *path;
	const uint8_t *key;
	struct ed_sink *sink;
};

/* One sensitive entry: its rows fingerprinted into s (a warning when unreadable). */
static enum ed_code rows_of(void *ctx, const char *entry, const struct ed_sensitive *sv,
			    struct ed_rowsample *s, bool *read, struct ed_err *err)
{
	struct sqlite_rows *sr = ctx;
	struct ed_buf q = ED_BUF_INIT;
	struct ed_rowval vals[ED_SENSITIVE_MAX_COLS];
	sqlite3_stmt *st = NULL;
	enum ed_code rc = ED_OK;
	/* Schema main only: another names a schema of another engine. */
	if (strcmp(sv->schema, "main") != 0)
		return ED_OK;
	int bad = ed_buf_adds(&q, "SELECT ");
	for (size_t c = 0; c < sv->ncols; c++)
		bad |= ed_buf_addf(&q, "%s\"%s\"", c ? ", " : "", sv->cols[c]);
	bad |= ed_buf_addf(&q, " FROM \"main\".\"%s\"", sv->table);
	if (bad) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	int r = sqlite3_prepare_v2(sr->db, q.p, -1, &st, NULL);
	if (r == SQLITE_NOMEM) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if (r != SQLITE_OK) {
		ed_sink_warn(sr->sink, "%s: sensitive %s not fingerprinted: %s", sr->path, entry,
			     sqlite3_errmsg(sr->db));
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < (int)sv->ncols; c++) {
			int t = sqlite3_column_type(st, c);
			if (t == SQLITE_NULL) {
				vals[c] = (struct ed_rowval){NULL, 0};
				continue;
			}
			/* Blobs as bytes, anything else as its text (5, 5.0, 'x'). */
			const void *p = t == SQLITE_BLOB ? sqlite3_column_blob(st, c)
							 : (const void *)sqlite3_column_text(st, c);
			size_t n = (size_t)sqlite3_column_bytes(st, c);
			if (!p && n) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				goto out;
			}
			vals[c] = (struct ed_rowval){p ? p : "", n};
		}
		if ((rc = ed_rowsample_add(s, sr->key, vals, sv->ncols, err)))
			goto out;
	}
	if (r != SQLITE_DONE) {
		ed_sink_warn(sr->sink, "%s: sensitive %s not fingerprinted: %s", sr->path, entry,
			     sqlite3_errmsg(sr->db));
		goto out;
	}
	*read = true;
out:
	sqlite3_finalize(st);
	ed_buf_release(&q);
	return rc;
}

enum ed_code ed_rows_sqlite_collect(struct sqlite3 *db, const char *path, const char *label,
				    const char *const *entries, size_t nentries,
				    const uint8_t *key, struct ed_sink *sink, struct ed_err *err)
{
	struct sqlite_rows sr = {db, path, key, sink};
	return ed_rows_each("sqlite", label, entries, nentries, key, rows_of, &sr, sink, err);
}
