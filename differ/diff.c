/* SPDX-License-Identifier: MIT */
/*
 * The comparison: both snapshots' items are read in primary-key order
 * (snapshot_id, kind, key) by two cursors and merged in one pass. No join,
 * no sort, memory proportional to the drift only.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/diff.h"

static const char *const field_names[] = {
	"content", "type", "mode", "owner", "group", "target", "value", "version", "definition", "error",
};

const char *ed_field_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (bit == 1u << i)
			return field_names[i];
	return "?";
}

/*
 * The merge reads only what decides equality; what a report shows besides
 * (value, size, attrs) is looked up by primary key for drifted items only.
 */
#define COLS "kind, key, fingerprint, ftype, mode, owner, grp, target, error"
#define DETAIL "SELECT value, size, attrs FROM items WHERE snapshot_id = ? AND kind = ? AND key = ?"

/* A cursor over one snapshot's items, in key order. */
struct cursor {
	sqlite3_stmt *st;
	bool row; /* positioned on a row */
};

static enum ed_code cursor_next(struct ed_store *store, struct cursor *c, struct ed_err *err)
{
	int r = sqlite3_step(c->st);
	if (r == SQLITE_ROW) {
		c->row = true;
		return ED_OK;
	}
	c->row = false;
	if (r != SQLITE_DONE)
		return ed_store_fail(store, "reading items", err);
	return ED_OK;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Compares the (kind, key) of two rows exactly as SQLite's BINARY collation orders them. */
static int cmp_bytes(const void *a, int na, const void *b, int nb)
{
	int n = na < nb ? na : nb;
	int c = n ? memcmp(a, b, (size_t)n) : 0;
	return c ? c : (na > nb) - (na < nb);
}

static int cmp_rows(sqlite3_stmt *a, sqlite3_stmt *b)
{
	const void *ka = sqlite3_column_text(a, 0), *kb = sqlite3_column_text(b, 0);
	int c = cmp_bytes(ka, sqlite3_column_bytes(a, 0), kb, sqlite3_column_bytes(b, 0));
	if (c)
		return c;
	const void *pa = sqlite3_column_text(a, 1), *pb = sqlite3_column_text(b, 1);
	return cmp_bytes(pa, sqlite3_column_bytes(a, 1), pb, sqlite3_column_bytes(b, 1));
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static const void *fp_of(sqlite3_stmt *s)
{
	static const unsigned char zero[ED_FP_LEN];
	return sqlite3_column_bytes(s, 2) == ED_FP_LEN ? sqlite3_column_blob(s, 2) : zero;
}

/* What differs between two rows with the same (kind, key); 0 when nothing does. */
static unsigned compare_rows(sqlite3_stmt *a, sqlite3_stmt *b)
{
	const char *kind = col_text(a, 0);
	unsigned f = 0;
	bool fp_differs = memcmp(fp_of(a), fp_of(b), ED_FP_LEN) != 0;
	const char *ea = col_text(a, 8), *eb = col_text(b, 8);
	if (ea || eb) {
		/* One side could not be read: its fingerprint means nothing. */
		if (!str_eq(ea, eb))
			f |= ED_F_ERROR;
		fp_differs = false;
	}
	if (strcmp(kind, ED_KIND_FILE) == 0) {
		enum ed_ftype ta = ed_ftype_parse(col_text(a, 3)), tb = ed_ftype_parse(col_text(b, 3));
		if (ta != tb)
			f |= ED_F_TYPE;
		if (sqlite3_column_int(a, 4) != sqlite3_column_int(b, 4))
			f |= ED_F_MODE;
		if (!str_eq(col_text(a, 5), col_text(b, 5)))
			f |= ED_F_OWNER;
		if (!str_eq(col_text(a, 6), col_text(b, 6)))
			f |= ED_F_GROUP;
		if (!str_eq(col_text(a, 7), col_text(b, 7)))
			f |= ED_F_TARGET;
		/* A link's fingerprint is its target's: report the target, not "content". */
		if (fp_differs && ta == tb && ta != ED_FT_LINK)
			f |= ED_F_CONTENT;
		if (ta != tb)
			f &= ~(unsigned)ED_F_CONTENT;
	} else if (fp_differs) {
		if (strcmp(kind, ED_KIND_CONFIG) == 0 || strcmp(kind, ED_KIND_SYSTEM) == 0)
			f |= ED_F_VALUE;
		else if (strcmp(kind, ED_KIND_PACKAGE) == 0)
			f |= ED_F_VERSION;
		else if (strcmp(kind, ED_KIND_SCHEMA) == 0)
			f |= ED_F_DEFINITION;
		else
			f |= ED_F_CONTENT;
	}
	return f;
}

static char *dup_col(sqlite3_stmt *s, int i, bool *oom)
{
	const char *v = col_text(s, i);
	if (!v)
		return NULL;
	char *d = ed_strndup(v, (size_t)sqlite3_column_bytes(s, i));
	if (!d)
		*oom = true;
	return d;
}

/* Copies one side from the merge row s and its details row d (value, size, attrs). */
static bool side_fill(struct ed_side *side, sqlite3_stmt *s, sqlite3_stmt *d)
{
	bool oom = false;
	side->present = true;
	memcpy(side->fp.b, fp_of(s), ED_FP_LEN);
	side->ftype = ed_ftype_parse(col_text(s, 3));
	side->mode = (uint32_t)sqlite3_column_int(s, 4);
	side->owner = dup_col(s, 5, &oom);
	side->group = dup_col(s, 6, &oom);
	side->target = dup_col(s, 7, &oom);
	side->error = dup_col(s, 8, &oom);
	side->value = dup_col(d, 0, &oom);
	side->size = sqlite3_column_int64(d, 1);
	side->attrs = dup_col(d, 2, &oom);
	return !oom;
}

/* Positions d on the details of the merge row s of snapshot id. */
static enum ed_code details(struct ed_store *st, sqlite3_stmt *d, int64_t id, sqlite3_stmt *s,
			    struct ed_err *err)
{
	sqlite3_reset(d);
	if (sqlite3_bind_int64(d, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text(d, 2, col_text(s, 0), sqlite3_column_bytes(s, 0), SQLITE_TRANSIENT) ||
	    sqlite3_bind_text(d, 3, col_text(s, 1), sqlite3_column_bytes(s, 1), SQLITE_TRANSIENT))
		return ed_store_fail(st, "reading item details", err);
	if (sqlite3_step(d) != SQLITE_ROW)
		return ed_store_fail(st, "reading item details", err);
	return ED_OK;
}

static void side_release(struct ed_side *s)
{
	free(s->value);
	free(s->attrs);
	free(s->error);
	free(s->owner);
	free(s->group);
	free(s->target);
}

/* Appends an entry for the current row(s); ref or cand may be NULL. */
struct merge {
	struct ed_store *st;
	struct ed_drift *d;
	sqlite3_stmt *dref; /* details statements, one per side */
	sqlite3_stmt *dcand;
};

static enum ed_code add_entry(struct merge *m, enum ed_change change, unsigned fields,
			      sqlite3_stmt *ref, sqlite3_stmt *cand, struct ed_err *err)
{
	struct ed_drift *d = m->d;
	enum ed_code rc;
	if ((ref && (rc = details(m->st, m->dref, d->ref.id, ref, err))) ||
	    (cand && (rc = details(m->st, m->dcand, d->cand.id, cand, err))))
		return rc;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct ed_drift_entry *v = realloc(d->v, ncap * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
		d->v = v;
		d->cap = ncap;
	}
	sqlite3_stmt *any = ref ? ref : cand;
	struct ed_drift_entry *e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	d->n++; /* counted now so that release frees a half-filled entry */
	bool oom = false;
	e->kind = dup_col(any, 0, &oom);
	e->key_len = (size_t)sqlite3_column_bytes(any, 1);
	e->key = dup_col(any, 1, &oom);
	e->change = change;
	e->fields = fields;
	/* Without a policy every difference blocks. */
	e->severity = "block";
	e->rule = strdup("no policy: all drift blocks");
	if (oom || !e->kind || !e->key || !e->rule || (ref && !side_fill(&e->ref, ref, m->dref)) ||
	    (cand && !side_fill(&e->cand, cand, m->dcand)))
		return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	switch (change) {
	case ED_ADDED: d->added++; break;
	case ED_REMOVED: d->removed++; break;
	case ED_CHANGED: d->changed++; break;
	}
	d->blocking++;
	return ED_OK;
}

enum ed_code ed_diff_snapshots(struct ed_store *st, const struct ed_snapref *ref,
			       const struct ed_snapref *cand, struct ed_drift *out,
			       struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	struct cursor a = {0}, b = {0};
	struct merge m = {.st = st, .d = out};
	enum ed_code rc = ED_OK;
	static const char sql[] = "SELECT " COLS " FROM items WHERE snapshot_id = ? "
				  "ORDER BY kind, key";

	memset(out, 0, sizeof(*out));
	out->ref = *ref;
	out->cand = *cand;
	/* Both cursors read inside one transaction: one consistent view of the store. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "starting to read", err);
	if (sqlite3_prepare_v2(db, sql, -1, &a.st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &b.st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, DETAIL, -1, &m.dref, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, DETAIL, -1, &m.dcand, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "reading items", err);
		goto out;
	}
	sqlite3_bind_int64(a.st, 1, ref->id);
	sqlite3_bind_int64(b.st, 1, cand->id);
	if ((rc = cursor_next(st, &a, err)) || (rc = cursor_next(st, &b, err)))
		goto out;
	while (a.row || b.row) {
		int c = !a.row ? 1 : !b.row ? -1 : cmp_rows(a.st, b.st);
		out->compared++;
		if (c < 0) {
			rc = add_entry(&m, ED_REMOVED, 0, a.st, NULL, err);
			if (!rc)
				rc = cursor_next(st, &a, err);
		} else if (c > 0) {
			rc = add_entry(&m, ED_ADDED, 0, NULL, b.st, err);
			if (!rc)
				rc = cursor_next(st, &b, err);
		} else {
			unsigned f = compare_rows(a.st, b.st);
			if (f)
				rc = add_entry(&m, ED_CHANGED, f, a.st, b.st, err);
			if (!rc)
				rc = cursor_next(st, &a, err);
			if (!rc)
				rc = cursor_next(st, &b, err);
		}
		if (rc)
			goto out;
	}
out:
	sqlite3_finalize(a.st);
	sqlite3_finalize(b.st);
	sqlite3_finalize(m.dref);
	sqlite3_finalize(m.dcand);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

void ed_drift_release(struct ed_drift *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].kind);
		free(d->v[i].key);
		free(d->v[i].rule);
		free(d->v[i].reason);
		free(d->v[i].role);
		side_release(&d->v[i].ref);
		side_release(&d->v[i].cand);
	}
	free(d->v);
	for (size_t i = 0; i < d->nexpired; i++) {
		free(d->expired[i].text);
		free(d->expired[i].expires);
		free(d->expired[i].reason);
	}
	free(d->expired);
	for (size_t i = 0; i < d->nsnowflakes; i++) {
		struct ed_snowflake *f = &d->snowflakes[i];
		free(f->env);
		free(f->role);
		free(f->host);
		free(f->kind);
		free(f->key);
		free(f->value);
		free(f->majority_value);
	}
	free(d->snowflakes);
	free(d->refs);
	free(d->cands);
	memset(d, 0, sizeof(*d));
}

const char *ed_direction_name(enum ed_direction dir)
{
	switch (dir) {
	case ED_DIR_AHEAD: return "ahead";
	case ED_DIR_BEHIND: return "behind";
	case ED_DIR_REBUILD: return "rebuild";
	case ED_DIR_NONE: break;
	}
	return NULL;
}

static const struct ed_report_ops *const reports[] = {&ed_report_text, &ed_report_json};

const struct ed_report_ops *ed_report_find(const char *name)
{
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (strcmp(reports[i]->name, name) == 0)
			return reports[i];
	return NULL;
}

const char *ed_report_names(void)
{
	return "text, json";
}
