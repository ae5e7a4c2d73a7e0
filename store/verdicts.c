/* SPDX-License-Identifier: MIT */
/* The service's verdict cache (schema/010-verdict-cache.sql) and the last run of a pair. */
#include <stdio.h>
#include <string.h>

#include "ed/isotime.h"
#include "store_int.h"

enum ed_code ed_store_last_run_id(struct ed_store *st, const char *ref_env, const char *cand_env,
				  int64_t *id, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	*id = 0;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT coalesce(max(id), 0) FROM runs "
			       "WHERE reference_env = ?1 AND candidate_env = ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading the last run", err);
	sqlite3_bind_text(s, 1, ref_env, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cand_env, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	else
		rc = ed_store_fail(st, "reading the last run", err);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_store_verdict_get(struct ed_store *st, const char *ref, const char *cand,
				  const char *basis, struct ed_cached_verdict *v, bool *found,
				  struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	*found = false;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT state, reason, compared, drift, blocking, warnings, infos, "
			       "ignored FROM verdict_cache WHERE ref = ?1 AND cand = ?2 AND basis = ?3",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading the verdict cache", err);
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cand, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, basis, -1, SQLITE_STATIC);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 0);
		const char *reason = (const char *)sqlite3_column_text(s, 1);
		snprintf(v->state, sizeof(v->state), "%s", state ? state : "");
		snprintf(v->reason, sizeof(v->reason), "%s", reason ? reason : "");
		v->compared = sqlite3_column_int(s, 2) != 0;
		v->drift = sqlite3_column_int64(s, 3);
		v->blocking = sqlite3_column_int64(s, 4);
		v->warnings = sqlite3_column_int64(s, 5);
		v->infos = sqlite3_column_int64(s, 6);
		v->ignored = sqlite3_column_int64(s, 7);
		*found = true;
	} else if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "reading the verdict cache", err);
	}
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_store_verdict_put(struct ed_store *st, const char *ref, const char *cand,
				  const char *basis, const struct ed_cached_verdict *v, int keep,
				  struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL;
	char now[ED_ISOTIME_SIZE];
	ed_isotime_now(now);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "writing the verdict cache", err);
	bool ok = sqlite3_prepare_v2(db,
				     "INSERT OR REPLACE INTO verdict_cache (ref, cand, basis, state, "
				     "reason, compared, drift, blocking, warnings, infos, ignored, "
				     "computed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
				     "?11, ?12)",
				     -1, &s, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, cand, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, basis, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, v->state, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, v->reason, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, v->compared);
		sqlite3_bind_int64(s, 7, v->drift);
		sqlite3_bind_int64(s, 8, v->blocking);
		sqlite3_bind_int64(s, 9, v->warnings);
		sqlite3_bind_int64(s, 10, v->infos);
		sqlite3_bind_int64(s, 11, v->ignored);
		sqlite3_bind_text(s, 12, now, -1, SQLITE_STATIC);
		ok = sqlite3_step(s) == SQLITE_DONE;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* This one and the newest keep - 1 others of the pair stay (basis breaks ties of a second). */
	if (ok)
		ok = sqlite3_prepare_v2(db,
					"DELETE FROM verdict_cache WHERE ref = ?1 AND cand = ?2 AND "
					"basis <> ?4 AND basis NOT IN (SELECT basis FROM verdict_cache WHERE ref = ?1 "
					"AND cand = ?2 AND basis <> ?4 ORDER BY computed_at DESC, basis DESC LIMIT ?3 - 1)",
					-1, &s, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, cand, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, keep > 0 ? keep : 1);
		sqlite3_bind_text(s, 4, basis, -1, SQLITE_STATIC);
		ok = sqlite3_step(s) == SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return ED_OK;
	enum ed_code rc = ed_store_fail(st, "writing the verdict cache", err);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
