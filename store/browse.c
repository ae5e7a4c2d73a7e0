/* SPDX-License-Identifier: MIT */
/* Browsing snapshots and items a page at a time (ed/browse.h), for the JSON API. */
#include <stdlib.h>
#include <string.h>

#include "ed/browse.h"
#include "store_int.h"

enum ed_code ed_store_browse_snapshots(struct ed_store *st, const struct ed_snapshot_filter *f,
				       enum ed_code (*each)(void *ctx,
							    const struct ed_browse_snapshot *s,
							    struct ed_err *err),
				       void *ctx, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT v.id, v.env, v.host, v.started_at, v.finished_at, v.status, "
			       "v.items, s.warning_count, v.role, v.uuid, s.base_id "
			       "FROM snapshots_v AS v JOIN snapshots AS s ON s.id = v.id "
			       "WHERE (?1 IS NULL OR v.env = ?1) AND (?2 IS NULL OR v.host = ?2) "
			       "AND v.id > ?3 AND (?4 = 0 OR v.id = ?4) "
			       "AND (?5 = 0 OR v.id IN (SELECT snapshot_id FROM latest_v)) "
			       "ORDER BY CASE WHEN ?5 THEN v.env END, CASE WHEN ?5 THEN v.host END, "
			       "v.id LIMIT ?6",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "listing snapshots", err);
	if (f->env)
		sqlite3_bind_text(s, 1, f->env, -1, SQLITE_STATIC);
	if (f->host)
		sqlite3_bind_text(s, 2, f->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, f->after);
	sqlite3_bind_int64(s, 4, f->id);
	sqlite3_bind_int(s, 5, f->latest);
	sqlite3_bind_int64(s, 6, f->limit ? (sqlite3_int64)f->limit : -1);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_browse_snapshot b = {
			.r = {
				.id = sqlite3_column_int64(s, 0),
				.env = (const char *)sqlite3_column_text(s, 1),
				.host = (const char *)sqlite3_column_text(s, 2),
				.started_at = (const char *)sqlite3_column_text(s, 3),
				.finished_at = (const char *)sqlite3_column_text(s, 4),
				.status = (const char *)sqlite3_column_text(s, 5),
				.items = sqlite3_column_int64(s, 6),
				.warnings = sqlite3_column_int64(s, 7),
			},
			.role = (const char *)sqlite3_column_text(s, 8),
			.uuid = (const char *)sqlite3_column_text(s, 9),
			.base = sqlite3_column_int64(s, 10),
		};
		if ((rc = each(ctx, &b, err)))
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "listing snapshots", err);
out:
	sqlite3_finalize(s);
	return rc;
}

/*
 * The smallest byte string above every string that starts with p[0..len):
 * trailing 0xff bytes dropped, the last one left incremented. False (no
 * such bound) when p is empty or all 0xff. out has room for len bytes.
 */
static bool prefix_upper(const char *p, size_t len, char *out, size_t *out_len)
{
	while (len && (unsigned char)p[len - 1] == 0xff)
		len--;
	if (!len)
		return false;
	memcpy(out, p, len);
	out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
	*out_len = len;
	return true;
}

enum ed_code ed_store_browse_items(struct ed_store *st, int64_t id, const struct ed_item_filter *f,
				   enum ed_code (*each)(void *ctx, const struct ed_browse_item *it,
							struct ed_err *err),
				   void *ctx, struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *q = NULL, *s = NULL;
	enum ed_code rc = ED_OK;
	char *upper = NULL;
	size_t upper_len = 0;
	int64_t base = 0;
	bool found = false;

	if (sqlite3_prepare_v2(db,
			       "SELECT base_id FROM snapshots WHERE id = ?1 AND status = 'complete'",
			       -1, &q, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading a snapshot", err);
	sqlite3_bind_int64(q, 1, id);
	int r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		found = true;
		base = sqlite3_column_int64(q, 0);
	} else if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "reading a snapshot", err);
	}
	sqlite3_finalize(q);
	if (rc)
		return rc;
	if (!found)
		return ed_err_set(err, ED_NOTFOUND, "no complete snapshot @%lld", (long long)id);

	if (f->prefix && f->prefix_len) {
		if (!(upper = malloc(f->prefix_len)))
			return ed_err_set(err, ED_NOMEM, "out of memory");
		if (!prefix_upper(f->prefix, f->prefix_len, upper, &upper_len)) {
			free(upper);
			upper = NULL;
		}
	}
	if (ed_items_prepare(db, NULL,
			     "kind, key, fingerprint, value, ftype, mode, owner, grp, target, size, "
			     "error",
			     "(?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR key >= ?4) "
			     "AND (?5 IS NULL OR key < ?5) "
			     "AND (?6 IS NULL OR kind > ?6 OR (kind = ?6 AND key > ?7))",
			     " LIMIT ?8", id, base, &s) != SQLITE_OK) {
		rc = ed_store_fail(st, "reading items", err);
		goto out;
	}
	if (f->kind)
		sqlite3_bind_text(s, 3, f->kind, -1, SQLITE_STATIC);
	if (f->prefix && f->prefix_len)
		sqlite3_bind_text(s, 4, f->prefix, (int)f->prefix_len, SQLITE_STATIC);
	if (upper)
		sqlite3_bind_text(s, 5, upper, (int)upper_len, SQLITE_STATIC);
	if (f->after_kind) {
		sqlite3_bind_text(s, 6, f->after_kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, f->after_key ? f->after_key : "", (int)f->after_key_len,
				  SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 8, f->limit ? (sqlite3_int64)f->limit : -1);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_browse_item it = {
			.kind = (const char *)sqlite3_column_text(s, 0),
			.key = (const char *)sqlite3_column_text(s, 1),
			.key_len = (size_t)sqlite3_column_bytes(s, 1),
			.fp = sqlite3_column_blob(s, 2),
			.fp_len = (size_t)sqlite3_column_bytes(s, 2),
			.value = (const char *)sqlite3_column_text(s, 3),
			.value_len = (size_t)sqlite3_column_bytes(s, 3),
			.ftype = (const char *)sqlite3_column_text(s, 4),
			.mode = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1
									 : sqlite3_column_int64(s, 5),
			.owner = (const char *)sqlite3_column_text(s, 6),
			.group = (const char *)sqlite3_column_text(s, 7),
			.target = (const char *)sqlite3_column_text(s, 8),
			.size = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1
									 : sqlite3_column_int64(s, 9),
			.error = (const char *)sqlite3_column_text(s, 10),
		};
		if ((rc = each(ctx, &it, err)))
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "reading items", err);
out:
	sqlite3_finalize(s);
	free(upper);
	return rc;
}
