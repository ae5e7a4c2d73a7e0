/* SPDX-License-Identifier: MIT */
/*
 * Reading a snapshot's items: a cursor in primary-key order (what the
 * differ's feeds consume, the hot path of a diff), the other columns of one
 * item by key, and the items that could not be collected.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/cursor.h"
#include "store_int.h"

static const char feed_sql[] = "SELECT kind, key, state FROM items WHERE snapshot_id = ? "
			       "ORDER BY kind, key";
/*
 * A delta snapshot: its own rows and its base's, merged by SQLite in key
 * order, its own first. ed_store_cursor_next() drops a base row its own row
 * replaces or removes (a tombstone) and the tombstone itself.
 */
static const char delta_sql[] = "SELECT kind, key, state, 1 AS own FROM items WHERE snapshot_id = ?1 "
				"UNION ALL "
				"SELECT kind, key, state, 0 FROM items WHERE snapshot_id = ?2 "
				"ORDER BY 1, 2, 4 DESC";

/*
 * The other columns of an item: what a report shows of it. ?1 is the
 * snapshot, ?4 its base (NULL for a full snapshot): its own row comes first.
 * Two lookups by primary key, the own one first, and no ORDER BY: sorting
 * one row put a temporary b-tree (allocated, filled, freed) on every read,
 * the largest cost of a diff's drift.
 */
#define COLS_OF "SELECT fingerprint, ftype, mode, owner, grp, target, error, value, size, attrs " \
		"FROM items WHERE snapshot_id = "
static const char cols_sql[] = COLS_OF "?1 AND kind = ?2 AND key = ?3 UNION ALL "
			       COLS_OF "?4 AND kind = ?2 AND key = ?3 LIMIT 1";
#undef COLS_OF

struct ed_store_cols {
	sqlite3_stmt *q; /* cols_sql */
};

struct ed_store_cursor {
	sqlite3 *db; /* a connection of its own, or the store's */
	bool own_db;
	bool done;   /* past the last row, or failed: never step again (it would restart) */
	sqlite3_stmt *q;
	struct ed_store_cols cols;
	int64_t snap;
	int64_t base; /* of a delta snapshot, else 0 */
	char *own;    /* a delta's last own row: kind "\0" key */
	size_t own_len, own_cap;
	char *path;   /* of the store, for messages */
};

void ed_side_release(struct ed_side *s)
{
	free(s->value);
	free(s->attrs);
	free(s->error);
	free(s->owner);
	free(s->group);
	free(s->target);
	memset(s, 0, sizeof(*s));
}

static enum ed_code cursor_fail(struct ed_store_cursor *c, struct ed_err *err)
{
	return ed_err_set(err, ED_STORE, "store %s: reading items: %s", c->path,
			  sqlite3_errmsg(c->db));
}

/*
 * Whether the current row of a delta's cursor is an item: 1 yes, 0 no (a
 * tombstone, or a base row that an own row replaces), -1 out of memory.
 */
static int delta_row(struct ed_store_cursor *c, const unsigned char *kind, size_t kind_len,
		     const unsigned char *key, size_t key_len)
{
	sqlite3_stmt *q = c->q;
	size_t n = kind_len + 1 + key_len;
	if (sqlite3_column_int(q, 3) == 0)
		return !(c->own_len == n && memcmp(c->own, kind, kind_len) == 0 &&
			 c->own[kind_len] == '\0' && memcmp(c->own + kind_len + 1, key, key_len) == 0);
	if (n > c->own_cap) {
		char *o = realloc(c->own, n);
		if (!o)
			return -1;
		c->own = o;
		c->own_cap = n;
	}
	memcpy(c->own, kind, kind_len);
	c->own[kind_len] = '\0';
	memcpy(c->own + kind_len + 1, key, key_len);
	c->own_len = n;
	return !ed_state_is_tombstone(sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2));
}

enum ed_code ed_store_cursor_next(struct ed_store_cursor *c, struct ed_cursor_row *row,
				  struct ed_err *err)
{
	sqlite3_stmt *q = c->q;
	row->kind = NULL;
	while (!c->done) {
		int r = sqlite3_step(q);
		if (r != SQLITE_ROW) {
			c->done = true;
			return r == SQLITE_DONE ? ED_OK : cursor_fail(c, err);
		}
		const unsigned char *kind = sqlite3_column_text(q, 0);
		size_t kind_len = kind ? (size_t)sqlite3_column_bytes(q, 0) : 0;
		const unsigned char *key = sqlite3_column_text(q, 1);
		size_t key_len = key ? (size_t)sqlite3_column_bytes(q, 1) : 0;
		if (c->base && kind && key) {
			int keep = delta_row(c, kind, kind_len, key, key_len);
			if (keep < 0) {
				c->done = true;
				return ed_err_set(err, ED_NOMEM, "out of memory reading items");
			}
			if (!keep)
				continue;
		}
		if (!kind || !key) {
			c->done = true;
			if (sqlite3_errcode(c->db) == SQLITE_NOMEM)
				return ed_err_set(err, ED_NOMEM, "out of memory reading items");
			return ed_err_set(err, ED_STORE, "store %s: an item without kind or key",
					  c->path);
		}
		row->kind = (const char *)kind;
		row->kind_len = kind_len;
		row->key = (const char *)key;
		row->key_len = key_len;
		row->state = sqlite3_column_bytes(q, 2) == ED_STATE_LEN ? sqlite3_column_blob(q, 2)
									 : NULL;
		return ED_OK;
	}
	return ED_OK;
}

/* A read-only connection of the cursor's own; false when none can be made. */
static bool open_own(struct ed_store_cursor *c)
{
	if (!(c->db = ed_store_open_reader(c->path)))
		return false;
	/* Enough to hold the pages of the batches read ahead, where column reads look. */
	sqlite3_exec(c->db, "PRAGMA cache_size = -1024", NULL, NULL, NULL);
	c->own_db = true;
	return true;
}

enum ed_code ed_store_cursor_open(struct ed_store *st, int64_t id, int64_t base, bool own,
				  struct ed_store_cursor **out, struct ed_err *err)
{
	struct ed_store_cursor *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c || !(c->path = strdup(ed_store_path(st)))) {
		free(c);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	if (!own || !open_own(c))
		c->db = ed_store_db(st);
	c->snap = id;
	c->base = base;
	if (sqlite3_prepare_v2(c->db, base ? delta_sql : feed_sql, -1, &c->q, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(c->q, 1, id) != SQLITE_OK ||
	    (base && sqlite3_bind_int64(c->q, 2, base) != SQLITE_OK) ||
	    sqlite3_prepare_v2(c->db, cols_sql, -1, &c->cols.q, NULL) != SQLITE_OK) {
		enum ed_code rc = cursor_fail(c, err);
		ed_store_cursor_close(c);
		return rc;
	}
	*out = c;
	return ED_OK;
}

bool ed_store_cursor_owns(const struct ed_store_cursor *c)
{
	return c->own_db;
}

enum ed_code ed_store_cursor_cols(struct ed_store_cursor *c, const char *kind, const char *key,
				  size_t key_len, struct ed_side *out, uint8_t *flags,
				  struct ed_err *err)
{
	return ed_store_cols_read(&c->cols, c->snap, c->base, kind, key, key_len, out, flags, err);
}

void ed_store_cursor_close(struct ed_store_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->q);
	sqlite3_finalize(c->cols.q);
	if (c->own_db)
		sqlite3_close(c->db);
	free(c->own);
	free(c->path);
	free(c);
}

enum ed_code ed_store_cols_open(struct ed_store *st, struct ed_store_cols **out,
				struct ed_err *err)
{
	struct ed_store_cols *q = calloc(1, sizeof(*q));
	*out = NULL;
	if (!q)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(ed_store_db(st), cols_sql, -1, &q->q, NULL) != SQLITE_OK) {
		free(q);
		return ed_store_fail(st, "reading items", err);
	}
	*out = q;
	return ED_OK;
}

enum ed_code ed_store_cols_read(struct ed_store_cols *cq, int64_t snap, int64_t base,
				const char *kind, const char *key, size_t key_len,
				struct ed_side *out, uint8_t *flags, struct ed_err *err)
{
	static const int str_col[] = {1, 3, 4, 5, 6, 7, 9};
	char **dst[] = {NULL, &out->owner, &out->group, &out->target, &out->error, &out->value,
			&out->attrs};
	sqlite3_stmt *q = cq->q;
	sqlite3_reset(q);
	if (sqlite3_bind_int64(q, 1, snap) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 3, key, (int)key_len, SQLITE_STATIC) != SQLITE_OK ||
	    (base ? sqlite3_bind_int64(q, 4, base) : sqlite3_bind_null(q, 4)) != SQLITE_OK)
		goto fail;
	int st = sqlite3_step(q);
	if (st == SQLITE_DONE)
		return ed_err_set(err, ED_STORE, "store %s: item %s %s of snapshot @%lld vanished",
				  sqlite3_db_filename(sqlite3_db_handle(q), "main"), kind, key,
				  (long long)snap);
	if (st != SQLITE_ROW)
		goto fail;
	memset(out, 0, sizeof(*out));
	out->present = true;
	const char *ftype = (const char *)sqlite3_column_text(q, 1);
	out->ftype = ed_ftype_parse(ftype);
	for (size_t i = 1; i < sizeof(str_col) / sizeof(str_col[0]); i++) {
		const char *t = (const char *)sqlite3_column_text(q, str_col[i]);
		if (t && !(*dst[i] = ed_strndup(t, (size_t)sqlite3_column_bytes(q, str_col[i])))) {
			ed_side_release(out);
			return ed_err_set(err, ED_NOMEM, "out of memory reading item details");
		}
	}
	if (sqlite3_column_bytes(q, 0) == ED_FP_LEN)
		memcpy(out->fp.b, sqlite3_column_blob(q, 0), ED_FP_LEN);
	out->mode = (uint32_t)sqlite3_column_int(q, 2);
	out->size = sqlite3_column_int64(q, 8);
	struct ed_state_cols sc = {.ftype = ftype, .attrs = out->attrs, .error = out->error,
				   .has_size = sqlite3_column_type(q, 8) != SQLITE_NULL,
				   .size = out->size};
	*flags = ed_item_flags(&sc);
	sqlite3_reset(q);
	return ED_OK;
fail:
	return ed_err_set(err, ED_STORE, "store %s: reading item details: %s",
			  sqlite3_db_filename(sqlite3_db_handle(q), "main"),
			  sqlite3_errmsg(sqlite3_db_handle(q)));
}

void ed_store_cols_close(struct ed_store_cols *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->q);
	free(q);
}

enum ed_code ed_store_item_errors(struct ed_store *st, const struct ed_snapref *ref, size_t limit,
				  enum ed_code (*each)(void *ctx, const struct ed_item_error *e,
						       struct ed_err *err),
				  void *ctx, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	int r = ed_items_prepare(ed_store_db(st), NULL, "kind, key, error", "error IS NOT NULL",
				 " LIMIT ?3", ref->id, ref->base, &s);
	if (r != SQLITE_OK)
		return r == SQLITE_NOMEM ? ed_err_set(err, ED_NOMEM, "out of memory")
					 : ed_store_fail(st, "reading items", err);
	sqlite3_bind_int64(s, 3, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_item_error e = {
			.kind = (const char *)sqlite3_column_text(s, 0),
			.key = (const char *)sqlite3_column_text(s, 1),
			.key_len = (size_t)sqlite3_column_bytes(s, 1),
			.error = (const char *)sqlite3_column_text(s, 2),
		};
		if (!e.kind || !e.key || !e.error) {
			rc = ed_store_fail(st, "reading items", err);
			goto out;
		}
		if ((rc = each(ctx, &e, err)))
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "reading items", err);
out:
	sqlite3_finalize(s);
	return rc;
}
