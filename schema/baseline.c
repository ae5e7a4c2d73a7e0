/* SPDX-License-Identifier: MIT */
/*
 * The baseline of an incremental collection: the previous complete snapshot
 * of the same environment and host, read by each hashing thread through its
 * own read-only connection.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/collect.h"
#include "ed/store.h"

struct baseline_ctx {
	char *path;  /* the store */
	int64_t id;  /* the previous snapshot */
};

struct ed_baseline_reader {
	sqlite3 *db;
	sqlite3_stmt *file;
	sqlite3_stmt *configs;
	sqlite3_stmt *content;
	int64_t id;
};

static void reader_close(struct ed_baseline_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->file);
	sqlite3_finalize(r->configs);
	sqlite3_finalize(r->content);
	sqlite3_close_v2(r->db);
	free(r);
}

static struct ed_baseline_reader *reader_open(const struct ed_baseline *b)
{
	const struct baseline_ctx *c = b->ctx;
	struct ed_baseline_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->id = c->id;
	if (!(r->db = ed_store_open_reader(c->path)) ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT fingerprint, size, mtime_ns, ctime_ns, ino, dev, error, attrs "
			       "FROM items WHERE snapshot_id = ? AND kind = 'file' AND key = ?",
			       -1, &r->file, NULL) ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT key, fingerprint, value, attrs, error FROM items "
			       "WHERE snapshot_id = ?1 AND kind = 'config' "
			       "AND key >= ?2 || '#' AND key < ?2 || '$' ORDER BY key",
			       -1, &r->configs, NULL) ||
	    sqlite3_prepare_v2(r->db, "SELECT 1 FROM contents WHERE fingerprint = ?", -1,
			       &r->content, NULL)) {
		reader_close(r);
		return NULL;
	}
	return r;
}

static bool reader_lookup(struct ed_baseline_reader *r, const char *path, struct ed_prev_file *out)
{
	sqlite3_stmt *s = r->file;
	bool found = false;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	/* An item recorded with an error has no fingerprint worth reusing. */
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == ED_FP_LEN &&
	    sqlite3_column_type(s, 6) == SQLITE_NULL) {
		memcpy(out->fp.b, sqlite3_column_blob(s, 0), ED_FP_LEN);
		out->size = sqlite3_column_int64(s, 1);
		out->mtime_ns = sqlite3_column_int64(s, 2);
		out->ctime_ns = sqlite3_column_int64(s, 3);
		out->ino = (uint64_t)sqlite3_column_int64(s, 4);
		out->dev = (uint64_t)sqlite3_column_int64(s, 5);
		const char *attrs = (const char *)sqlite3_column_text(s, 7);
		out->secret = ed_attrs_secret(attrs);
		found = true;
	}
	sqlite3_reset(s);
	if (found) {
		sqlite3_stmt *c = r->content;
		sqlite3_reset(c);
		sqlite3_bind_blob(c, 1, out->fp.b, ED_FP_LEN, SQLITE_STATIC);
		out->has_content = sqlite3_step(c) == SQLITE_ROW;
		sqlite3_reset(c);
	}
	return found;
}

static enum ed_code reader_configs(struct ed_baseline_reader *r, const char *path,
				   struct ed_sink *sink, struct ed_err *err)
{
	sqlite3_stmt *s = r->configs;
	enum ed_code rc = ED_OK;
	int step;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_item it = {0};
		it.kind = ED_KIND_CONFIG;
		it.key = (const char *)sqlite3_column_text(s, 0);
		it.key_len = (size_t)sqlite3_column_bytes(s, 0);
		if (sqlite3_column_bytes(s, 1) == ED_FP_LEN)
			memcpy(it.fp.b, sqlite3_column_blob(s, 1), ED_FP_LEN);
		it.value = (const char *)sqlite3_column_text(s, 2);
		it.attrs = (const char *)sqlite3_column_text(s, 3);
		it.error = (const char *)sqlite3_column_text(s, 4);
		if ((rc = sink->emit(sink, &it, err)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = ed_err_set(err, ED_STORE, "reading the previous snapshot's configs of %s: %s",
				path, sqlite3_errmsg(r->db));
	sqlite3_reset(s);
	return rc;
}

enum ed_code ed_store_baseline(struct ed_store *st, const char *env, const char *host,
			       struct ed_baseline *out, int64_t *prev_id, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	memset(out, 0, sizeof(*out));
	*prev_id = 0;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT snapshot_id FROM latest_v WHERE env = ? AND host = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return ed_store_fail(st, "finding the previous snapshot", err);
	sqlite3_bind_text(s, 1, env, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, host, -1, SQLITE_STATIC);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*prev_id = sqlite3_column_int64(s, 0);
	else if (step != SQLITE_DONE)
		rc = ed_store_fail(st, "finding the previous snapshot", err);
	sqlite3_finalize(s);
	if (rc || !*prev_id)
		return rc;
	struct baseline_ctx *c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(ed_store_path(st)))) {
		free(c);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	c->id = *prev_id;
	out->open = reader_open;
	out->lookup = reader_lookup;
	out->configs = reader_configs;
	out->close = reader_close;
	out->ctx = c;
	return ED_OK;
}

void ed_store_baseline_release(struct ed_baseline *b)
{
	struct baseline_ctx *c = b->ctx;
	if (c)
		free(c->path);
	free(c);
	memset(b, 0, sizeof(*b));
}
