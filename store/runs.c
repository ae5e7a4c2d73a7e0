/* SPDX-License-Identifier: MIT */
/* Recording drift runs (gate --record, report) and reading their history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/buf.h"
#include "ed/diff.h"
#include "ed/store.h"

/* The store's spelling of a change (kept here: the store does not link the differ). */
static const char *change_text(enum ed_change c)
{
	return c == ED_ADDED ? "added" : c == ED_REMOVED ? "removed" : "changed";
}

static int ids_json(struct ed_buf *b, const struct ed_snapref *v, size_t n)
{
	int bad = ed_buf_addc(b, '[');
	for (size_t i = 0; i < n && !bad; i++)
		bad = ed_buf_addf(b, "%s%lld", i ? "," : "", (long long)v[i].id);
	return bad || ed_buf_addc(b, ']');
}

enum ed_code ed_store_record_run(struct ed_store *st, const char *command, const char *at,
				 const struct ed_drift *d, int64_t *run_id, struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *ins = NULL, *prev = NULL, *row = NULL, *since = NULL;
	struct ed_buf refs = ED_BUF_INIT, cands = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	int64_t prev_id = 0;

	if (ids_json(&refs, d->nrefs ? d->refs : &d->ref, d->nrefs ? d->nrefs : 1) ||
	    ids_json(&cands, d->ncands ? d->cands : &d->cand, d->ncands ? d->ncands : 1))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "recording the run", err);
		goto out;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT max(id) FROM runs WHERE reference_env = ? AND candidate_env = ?",
			       -1, &prev, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO runs (at, command, reference_env, candidate_env, "
			       "reference_snapshots, candidate_snapshots, added, removed, changed, "
			       "ignored, blocking, policy) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT since FROM run_drift WHERE run_id = ? AND role = ? AND kind = ? "
			       "AND key = ?",
			       -1, &since, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO run_drift (run_id, role, kind, key, change, "
			       "severity, ignored, since) VALUES (?,?,?,?,?,?,?,?)",
			       -1, &row, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "recording the run", err);
		goto rollback;
	}
	sqlite3_bind_text(prev, 1, d->ref.env, -1, SQLITE_STATIC);
	sqlite3_bind_text(prev, 2, d->cand.env, -1, SQLITE_STATIC);
	if (sqlite3_step(prev) == SQLITE_ROW)
		prev_id = sqlite3_column_int64(prev, 0);
	sqlite3_bind_text(ins, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, command, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, d->ref.env, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, d->cand.env, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, refs.p, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, cands.p, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 7, (sqlite3_int64)d->added);
	sqlite3_bind_int64(ins, 8, (sqlite3_int64)d->removed);
	sqlite3_bind_int64(ins, 9, (sqlite3_int64)d->changed);
	sqlite3_bind_int64(ins, 10, (sqlite3_int64)d->ignored);
	sqlite3_bind_int64(ins, 11, (sqlite3_int64)d->blocking);
	if (d->policy)
		sqlite3_bind_text(ins, 12, d->policy, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		rc = ed_store_fail(st, "recording the run", err);
		goto rollback;
	}
	int64_t id = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; i < d->n; i++) {
		const struct ed_drift_entry *e = &d->v[i];
		const char *role = e->role ? e->role : "";
		/* Carried over from the previous run of this pair when it was drift there too. */
		const char *from = at;
		char carried[40] = "";
		sqlite3_reset(since);
		sqlite3_bind_int64(since, 1, prev_id);
		sqlite3_bind_text(since, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(since, 3, e->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(since, 4, e->key, (int)e->key_len, SQLITE_STATIC);
		if (prev_id && sqlite3_step(since) == SQLITE_ROW) {
			snprintf(carried, sizeof(carried), "%s", (const char *)sqlite3_column_text(since, 0));
			from = carried;
		}
		sqlite3_reset(row);
		sqlite3_bind_int64(row, 1, id);
		sqlite3_bind_text(row, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(row, 3, e->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(row, 4, e->key, (int)e->key_len, SQLITE_STATIC);
		sqlite3_bind_text(row, 5, change_text(e->change), -1, SQLITE_STATIC);
		sqlite3_bind_text(row, 6, e->severity, -1, SQLITE_STATIC);
		sqlite3_bind_int(row, 7, e->ignored);
		sqlite3_bind_text(row, 8, from, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(row) != SQLITE_DONE) {
			rc = ed_store_fail(st, "recording the run", err);
			goto rollback;
		}
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "recording the run", err);
		goto rollback;
	}
	if (run_id)
		*run_id = id;
	goto out;
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(prev);
	sqlite3_finalize(row);
	sqlite3_finalize(since);
	ed_buf_release(&refs);
	ed_buf_release(&cands);
	return rc;
}
