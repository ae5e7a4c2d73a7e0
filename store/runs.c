/* SPDX-License-Identifier: MIT */
/*
 * Recording drift runs (gate --record, report) and reading their history:
 * the trend of a pair, the hosts of its last run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/buf.h"
#include "store_int.h"

static int ids_json(struct ed_buf *b, const struct ed_snapref *v, size_t n)
{
	int bad = ed_buf_addc(b, '[');
	for (size_t i = 0; i < n && !bad; i++)
		bad = ed_buf_addf(b, "%s%lld", i ? "," : "", (long long)v[i].id);
	return bad || ed_buf_addc(b, ']');
}

enum ed_code ed_store_record_run(struct ed_store *st, const struct ed_run *run, int64_t *run_id,
				 struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *ins = NULL, *prev = NULL, *row = NULL, *since = NULL;
	struct ed_buf refs = ED_BUF_INIT, cands = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	int64_t prev_id = 0;

	if (ids_json(&refs, run->refs, run->nrefs) || ids_json(&cands, run->cands, run->ncands))
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
	sqlite3_bind_text(prev, 1, run->reference_env, -1, SQLITE_STATIC);
	sqlite3_bind_text(prev, 2, run->candidate_env, -1, SQLITE_STATIC);
	if (sqlite3_step(prev) == SQLITE_ROW)
		prev_id = sqlite3_column_int64(prev, 0);
	sqlite3_bind_text(ins, 1, run->at, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, run->command, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, run->reference_env, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, run->candidate_env, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, refs.p, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, cands.p, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 7, (sqlite3_int64)run->added);
	sqlite3_bind_int64(ins, 8, (sqlite3_int64)run->removed);
	sqlite3_bind_int64(ins, 9, (sqlite3_int64)run->changed);
	sqlite3_bind_int64(ins, 10, (sqlite3_int64)run->ignored);
	sqlite3_bind_int64(ins, 11, (sqlite3_int64)run->blocking);
	if (run->policy)
		sqlite3_bind_text(ins, 12, run->policy, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		rc = ed_store_fail(st, "recording the run", err);
		goto rollback;
	}
	int64_t id = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; i < run->nrows; i++) {
		struct ed_run_row one;
		const struct ed_run_row *e = &one;
		if (run->rows)
			e = &run->rows[i];
		else if ((rc = run->row_at(run->row_ctx, i, &one, err)))
			goto rollback;
		const char *role = e->role ? e->role : "";
		/* Carried over from the previous run of this pair when it was drift there too. */
		const char *from = run->at;
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
		sqlite3_bind_text(row, 5, e->change, -1, SQLITE_STATIC);
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

static void trend_row(void *row, sqlite3_stmt *s)
{
	struct ed_trend_day *t = row;
	const unsigned char *day = sqlite3_column_text(s, 0);
	snprintf(t->day, sizeof(t->day), "%s", day ? (const char *)day : "");
	t->blocking = sqlite3_column_int64(s, 1);
	t->added = sqlite3_column_int64(s, 2);
	t->removed = sqlite3_column_int64(s, 3);
	t->changed = sqlite3_column_int64(s, 4);
	t->ignored = sqlite3_column_int64(s, 5);
}

enum ed_code ed_store_trend(struct ed_store *st, const char *ref_env, const char *cand_env,
			    struct ed_trend_day **out, size_t *n, struct ed_err *err)
{
	static const char sql[] =
		"SELECT substr(at, 1, 10) AS day, blocking, added, removed, changed, ignored "
		"FROM runs WHERE id IN (SELECT max(id) FROM runs WHERE reference_env = ?1 "
		"AND candidate_env = ?2 GROUP BY substr(at, 1, 10)) ORDER BY day DESC LIMIT 30";
	void *v = NULL;
	enum ed_code rc = ed_store_query_rows(st, sql, ref_env, cand_env, sizeof(**out), trend_row,
					      "reading the trend", &v, n, err);
	*out = v;
	return rc;
}

static void run_host_row(void *row, sqlite3_stmt *s)
{
	struct ed_run_host *h = row;
	const unsigned char *env = sqlite3_column_text(s, 0);
	const unsigned char *host = sqlite3_column_text(s, 1);
	snprintf(h->env, sizeof(h->env), "%s", env ? (const char *)env : "");
	snprintf(h->host, sizeof(h->host), "%s", host ? (const char *)host : "");
	h->run_id = sqlite3_column_int64(s, 2);
}

enum ed_code ed_store_last_run_hosts(struct ed_store *st, const char *ref_env, const char *cand_env,
				     struct ed_run_host **out, size_t *n, struct ed_err *err)
{
	static const char sql[] =
		"SELECT DISTINCT sn.env, sn.host, r.id FROM runs AS r, "
		"json_each(r.reference_snapshots) AS j1, snapshots AS sn "
		"WHERE r.id = (SELECT max(id) FROM runs WHERE reference_env = ?1 AND candidate_env = ?2) "
		"AND sn.id = j1.value "
		"UNION "
		"SELECT DISTINCT sn.env, sn.host, r.id FROM runs AS r, "
		"json_each(r.candidate_snapshots) AS j2, snapshots AS sn "
		"WHERE r.id = (SELECT max(id) FROM runs WHERE reference_env = ?1 AND candidate_env = ?2) "
		"AND sn.id = j2.value";
	void *v = NULL;
	enum ed_code rc = ed_store_query_rows(st, sql, ref_env, cand_env, sizeof(**out),
					      run_host_row, "reading the last run", &v, n, err);
	*out = v;
	return rc;
}
