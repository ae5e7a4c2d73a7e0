/* SPDX-License-Identifier: MIT */
/*
 * envdrift prune: retention. Host by host, in one write transaction each
 * (so a crash leaves every complete snapshot as it was, and collections or
 * pushes of other hosts wait for one host at most), it decides what to keep
 * into temp.keep, rebases the kept deltas whose base goes, and deletes the
 * rest: their items, warnings and tombstones go with them (ON DELETE
 * CASCADE). Kept content no item refers to any more goes last.
 *
 * A base another host's delta uses (a base shared within a role, issue 17)
 * stays, whatever this host keeps, and so do this host's deltas on it: it
 * goes, with the last delta on it, when the hosts that use it are pruned.
 *
 * Rebasing (a base is a full snapshot, never a delta): when a base of this
 * host that only its own deltas use goes, the oldest kept delta on it, N,
 * takes the base's rows it does not override and drops its tombstones, so it
 * becomes a full snapshot; every other kept delta D on the old base is
 * resolved whole into temp.resolved and rewritten as the rows that differ
 * from N (every column compared) plus tombstones for N's keys it lacks.
 * Both read exactly as before through items_v and the store's cursors.
 *
 * A dry run does all of it and rolls each host back: what it says is what a
 * real run would do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/isotime.h"
#include "store_int.h"

/* Every column but the key compared with IS between n (the new base) and r. */
#define SAME_AS_N                                                                          \
	"n.state IS r.state AND n.fingerprint IS r.fingerprint AND n.value IS r.value AND "  \
	"n.ftype IS r.ftype AND n.mode IS r.mode AND n.owner IS r.owner AND n.grp IS r.grp " \
	"AND n.target IS r.target AND n.size IS r.size AND n.mtime_ns IS r.mtime_ns AND "    \
	"n.ctime_ns IS r.ctime_ns AND n.ino IS r.ino AND n.dev IS r.dev AND n.error IS "     \
	"r.error AND n.attrs IS r.attrs"

struct pruner {
	struct ed_store *st;
	sqlite3 *db;
	const struct ed_prune_opts *o;
	char cutoff[ED_ISOTIME_SIZE];     /* complete snapshots finished since are kept */
	char day_ago[ED_ISOTIME_SIZE];    /* failed and abandoned ones started since are kept */
	int64_t runs_seen;                /* temp.runref holds the snapshots of runs up to this id */
};

static enum ed_code run(struct pruner *p, const char *sql, const char *what, struct ed_err *err)
{
	if (sqlite3_exec(p->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(p->st, what, err);
	return ED_OK;
}

/* A figure the store reports about itself (its sizes, its vacuum mode); 0 when it cannot. */
static int64_t pragma(struct ed_store *st, const char *sql)
{
	int64_t v = 0;
	struct ed_err ignored = {0};
	if (ed_store_query_int(st, sql, &v, "reading the store's size", &ignored))
		return 0;
	return v;
}

/* Prepares sql; binds ?1 env, ?2 host when given, and the int64s that follow as ?3, ?4 ... */
static sqlite3_stmt *prep(struct pruner *p, const char *sql, const char *env, const char *host,
			  int n, const int64_t *v)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(p->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	if (env)
		sqlite3_bind_text(s, 1, env, -1, SQLITE_TRANSIENT);
	if (host)
		sqlite3_bind_text(s, 2, host, -1, SQLITE_TRANSIENT);
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(s, 3 + i, v[i]);
	return s;
}

/* Runs a prepared statement that returns no row (and finalizes it). */
static enum ed_code step_done(struct pruner *p, sqlite3_stmt *s, const char *what,
			      struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	if (!s || sqlite3_step(s) != SQLITE_DONE)
		rc = ed_store_fail(p->st, what, err);
	sqlite3_finalize(s);
	return rc;
}

/* Adds the snapshots of runs recorded since the last look to temp.runref. */
static enum ed_code add_run_refs(struct pruner *p, struct ed_err *err)
{
	int64_t v[1] = {p->runs_seen};
	sqlite3_stmt *s = prep(p,
			       "INSERT OR IGNORE INTO temp.runref (id) "
			       "SELECT j.value FROM runs AS r, json_each(r.reference_snapshots) AS j "
			       "WHERE r.id > ?3 UNION "
			       "SELECT j.value FROM runs AS r, json_each(r.candidate_snapshots) AS j "
			       "WHERE r.id > ?3",
			       NULL, NULL, 1, v);
	enum ed_code rc = ED_OK;
	if ((rc = step_done(p, s, "reading the recorded runs", err)))
		return rc;
	sqlite3_stmt *m = prep(p, "SELECT coalesce(max(id), 0) FROM runs", NULL, NULL, 0, NULL);
	if (!m || sqlite3_step(m) != SQLITE_ROW)
		rc = ed_store_fail(p->st, "reading the recorded runs", err);
	else
		p->runs_seen = sqlite3_column_int64(m, 0);
	sqlite3_finalize(m);
	return rc;
}

/* Fills temp.keep with what the host keeps (inside its transaction). */
static enum ed_code decide(struct pruner *p, const char *env, const char *host,
			   struct ed_err *err)
{
	enum ed_code rc;
	if ((rc = run(p, "DELETE FROM temp.keep", "deciding what to keep", err)) ||
	    (rc = add_run_refs(p, err)))
		return rc;
	int64_t last[1] = {p->o->keep_last};
	sqlite3_stmt *s = prep(p,
			       "INSERT OR IGNORE INTO temp.keep (id) SELECT id FROM ("
			       "SELECT id, finished_at, row_number() OVER (ORDER BY id DESC) AS rn "
			       "FROM snapshots WHERE env = ?1 AND host = ?2 AND status = 'complete') "
			       "WHERE rn = 1 OR rn <= ?3 OR finished_at >= ?4",
			       env, host, 1, last);
	if (s)
		sqlite3_bind_text(s, 4, p->cutoff, -1, SQLITE_STATIC);
	if ((rc = step_done(p, s, "deciding what to keep", err)))
		return rc;
	s = prep(p,
		 "INSERT OR IGNORE INTO temp.keep (id) SELECT id FROM snapshots "
		 "WHERE env = ?1 AND host = ?2 AND (status = 'running' OR (status <> 'complete' "
		 "AND started_at >= ?3) OR id IN (SELECT id FROM temp.runref))",
		 env, host, 0, NULL);
	if (s)
		sqlite3_bind_text(s, 3, p->day_ago, -1, SQLITE_STATIC);
	return step_done(p, s, "deciding what to keep", err);
}

/* Makes delta n a full snapshot: its base's rows it does not override become its own. */
static enum ed_code materialise(struct pruner *p, int64_t n, int64_t base, struct ed_err *err)
{
	int64_t v[2] = {n, base};
	enum ed_code rc;
	if ((rc = step_done(p,
			    prep(p,
				 "INSERT INTO items (snapshot_id, " ITEM_COLS ") SELECT ?3, " ITEM_COLS
				 " FROM items AS b WHERE b.snapshot_id = ?4 AND NOT EXISTS (SELECT 1 "
				 "FROM items AS d WHERE d.snapshot_id = ?3 AND d.kind = b.kind AND "
				 "d.key = b.key)",
				 NULL, NULL, 2, v),
			    "making a delta a full snapshot", err)))
		return rc;
	if ((rc = step_done(p,
			    prep(p,
				 "DELETE FROM items WHERE snapshot_id = ?3 AND state IS "
				 ED_TOMBSTONE_SQL,
				 NULL, NULL, 1, v),
			    "making a delta a full snapshot", err)))
		return rc;
	return step_done(p, prep(p, "UPDATE snapshots SET base_id = NULL WHERE id = ?3", NULL, NULL,
				 1, v),
			 "making a delta a full snapshot", err);
}

/* Rewrites delta d (on old) onto n, a full snapshot: it reads the same after. */
static enum ed_code rebase(struct pruner *p, int64_t d, int64_t old, int64_t n,
			   struct ed_err *err)
{
	int64_t v[3] = {d, old, n};
	static const char *const sql[] = {
		"DELETE FROM temp.resolved",
		/* d whole: its own rows, then its base's that it neither overrides nor removes */
		"INSERT INTO temp.resolved (" ITEM_COLS ") SELECT " ITEM_COLS " FROM items "
		"WHERE snapshot_id = ?3 AND state IS NOT " ED_TOMBSTONE_SQL " UNION ALL SELECT "
		ITEM_COLS " FROM items AS b WHERE b.snapshot_id = ?4 AND NOT EXISTS (SELECT 1 "
		"FROM items AS x WHERE x.snapshot_id = ?3 AND x.kind = b.kind AND x.key = b.key)",
		"DELETE FROM items WHERE snapshot_id = ?3",
		/* what differs from n */
		"INSERT INTO items (snapshot_id, " ITEM_COLS ") SELECT ?3, " ITEM_COLS
		" FROM temp.resolved AS r WHERE NOT EXISTS (SELECT 1 FROM items AS n WHERE "
		"n.snapshot_id = ?5 AND n.kind = r.kind AND n.key = r.key AND " SAME_AS_N ")",
		/* and a tombstone for each of n's keys that d lacks */
		"INSERT INTO items (snapshot_id, kind, key, state, fingerprint) SELECT ?3, n.kind, "
		"n.key, " ED_TOMBSTONE_SQL ", X'' FROM items AS n WHERE n.snapshot_id = ?5 AND "
		"NOT EXISTS (SELECT 1 FROM temp.resolved AS r WHERE r.kind = n.kind AND "
		"r.key = n.key)",
		"UPDATE snapshots SET base_id = ?5 WHERE id = ?3",
	};
	enum ed_code rc = ED_OK;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && !rc; i++)
		rc = step_done(p, prep(p, sql[i], NULL, NULL, 3, v), "rebasing a delta snapshot",
			       err);
	return rc;
}

/* The host's bases that go while kept deltas use them: each gets a new base. */
static enum ed_code rebase_host(struct pruner *p, const char *env, const char *host,
				struct ed_prune_result *res, struct ed_err *err)
{
	sqlite3_stmt *s = prep(p,
			       "SELECT b.id, (SELECT min(d.id) FROM snapshots AS d WHERE "
			       "d.base_id = b.id AND d.id IN (SELECT id FROM temp.keep)) FROM "
			       "snapshots AS b WHERE b.env = ?1 AND b.host = ?2 AND b.base_id IS NULL "
			       "AND b.id NOT IN (SELECT id FROM temp.keep) AND EXISTS (SELECT 1 FROM "
			       "snapshots AS d WHERE d.base_id = b.id AND d.id IN (SELECT id FROM "
			       "temp.keep)) AND NOT EXISTS (SELECT 1 FROM snapshots AS o WHERE "
			       "o.base_id = b.id AND (o.env <> ?1 OR o.host <> ?2))",
			       env, host, 0, NULL);
	int64_t (*todo)[2] = NULL;
	size_t n = 0, cap = 0;
	enum ed_code rc = ED_OK;
	int r;
	while (s && (r = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			void *nv = realloc(todo, ncap * sizeof(*todo));
			if (!nv) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				break;
			}
			todo = nv;
			cap = ncap;
		}
		todo[n][0] = sqlite3_column_int64(s, 0);
		todo[n][1] = sqlite3_column_int64(s, 1);
		n++;
	}
	if (!rc && (!s || r != SQLITE_DONE))
		rc = ed_store_fail(p->st, "looking for bases to replace", err);
	sqlite3_finalize(s);
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t old = todo[i][0], nb = todo[i][1];
		res->rebased++;
		if ((rc = materialise(p, nb, old, err)))
			break;
		int64_t v[2] = {old, nb};
		sqlite3_stmt *q = prep(p,
				       "SELECT id FROM snapshots WHERE base_id = ?3 AND id <> ?4 AND "
				       "id IN (SELECT id FROM temp.keep) ORDER BY id",
				       NULL, NULL, 2, v);
		while (q && !rc && (r = sqlite3_step(q)) == SQLITE_ROW) {
			rc = rebase(p, sqlite3_column_int64(q, 0), old, nb, err);
		}
		if (!rc && (!q || r != SQLITE_DONE))
			rc = ed_store_fail(p->st, "rebasing delta snapshots", err);
		sqlite3_finalize(q);
	}
	free(todo);
	return rc;
}

/* Reports, then deletes, what the host does not keep. */
static enum ed_code drop_host(struct pruner *p, const char *env, const char *host,
			      void (*each)(void *, const struct ed_pruned *), void *ctx,
			      struct ed_prune_result *res, struct ed_err *err)
{
	static const char victims[] =
		"FROM snapshots WHERE env = ?1 AND host = ?2 AND id NOT IN (SELECT id FROM "
		"temp.keep) AND id NOT IN (SELECT base_id FROM snapshots WHERE base_id IS NOT NULL "
		"AND (id IN (SELECT id FROM temp.keep) OR env <> ?1 OR host <> ?2))";
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT id, status, coalesce(finished_at, started_at), item_count %s ORDER BY id",
		 victims);
	sqlite3_stmt *s = prep(p, sql, env, host, 0, NULL);
	enum ed_code rc = ED_OK;
	int r;
	while (s && (r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(s, 1);
		struct ed_pruned v = {
			.id = sqlite3_column_int64(s, 0),
			.env = env,
			.host = host,
			.status = status ? status : "?",
			.at = (const char *)sqlite3_column_text(s, 2),
			.items = sqlite3_column_int64(s, 3),
		};
		res->snapshots++;
		res->incomplete += strcmp(v.status, "complete") != 0;
		if (each)
			each(ctx, &v);
	}
	if (!s || r != SQLITE_DONE)
		rc = ed_store_fail(p->st, "listing the snapshots to prune", err);
	sqlite3_finalize(s);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql), "DELETE %s", victims);
	return step_done(p, prep(p, sql, env, host, 0, NULL), "deleting snapshots", err);
}

static enum ed_code prune_host(struct pruner *p, const char *env, const char *host,
			       void (*each)(void *, const struct ed_pruned *), void *ctx,
			       struct ed_prune_result *res, struct ed_err *err)
{
	enum ed_code rc;
	if ((rc = run(p, "BEGIN IMMEDIATE", "starting to prune a host", err)))
		return rc;
	struct ed_prune_result before = *res;
	if (!(rc = decide(p, env, host, err)) && !(rc = rebase_host(p, env, host, res, err)) &&
	    !(rc = drop_host(p, env, host, each, ctx, res, err)) && !p->o->dry_run &&
	    !(rc = run(p, "COMMIT", "committing a host's pruning", err)))
		return ED_OK;
	sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
	p->runs_seen = 0; /* the rollback emptied temp.runref too */
	if (!rc && p->o->dry_run)
		return ED_OK; /* a dry run counts what it would do and keeps the counts */
	*res = before;
	return rc;
}

static void iso_of(long long t, char out[ED_ISOTIME_SIZE])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, ED_ISOTIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum ed_code ed_store_prune(struct ed_store *st, const struct ed_prune_opts *o,
			    void (*each)(void *ctx, const struct ed_pruned *p), void *ctx,
			    struct ed_prune_result *res, struct ed_err *err)
{
	struct pruner p = {.st = st, .db = ed_store_db(st), .o = o};
	memset(res, 0, sizeof(*res));
	/* keep_days 0: no snapshot is kept for its age (the latest of each host still is) */
	if (o->keep_days > 0)
		iso_of(o->now - o->keep_days * 86400, p.cutoff);
	else
		snprintf(p.cutoff, sizeof(p.cutoff), "9999-12-31T23:59:59Z");
	iso_of(o->now - 86400, p.day_ago);
	enum ed_code rc = run(&p,
			      "CREATE TEMP TABLE IF NOT EXISTS keep (id INTEGER PRIMARY KEY);"
			      "CREATE TEMP TABLE IF NOT EXISTS runref (id INTEGER PRIMARY KEY);"
			      "CREATE TEMP TABLE IF NOT EXISTS resolved (kind TEXT NOT NULL, key "
			      "TEXT NOT NULL, state BLOB, fingerprint BLOB NOT NULL, value TEXT, "
			      "ftype TEXT, mode INTEGER, owner TEXT, grp TEXT, target TEXT, size "
			      "INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER, dev "
			      "INTEGER, error TEXT, attrs TEXT, PRIMARY KEY (kind, key)) WITHOUT "
			      "ROWID",
			      "preparing to prune", err);
	/* The hosts, read once: a host that arrives meanwhile has nothing old to prune. */
	sqlite3_stmt *h = rc ? NULL : prep(&p, "SELECT DISTINCT env, host FROM snapshots ORDER BY "
					       "env, host", NULL, NULL, 0, NULL);
	char **hosts = NULL;
	size_t n = 0, cap = 0;
	int r = SQLITE_DONE;
	while (h && !rc && (r = sqlite3_step(h)) == SQLITE_ROW) {
		if (n + 2 > cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char **nv = realloc(hosts, ncap * sizeof(*hosts));
			if (!nv) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				break;
			}
			hosts = nv;
			cap = ncap;
		}
		const char *e = (const char *)sqlite3_column_text(h, 0);
		const char *ho = (const char *)sqlite3_column_text(h, 1);
		if (!(hosts[n] = strdup(e ? e : "")) || !(hosts[n + 1] = strdup(ho ? ho : ""))) {
			free(hosts[n]);
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		n += 2;
	}
	if (!rc && r != SQLITE_DONE)
		rc = ed_store_fail(st, "listing the hosts", err);
	sqlite3_finalize(h);
	for (size_t i = 0; i < n && !rc; i += 2) {
		rc = prune_host(&p, hosts[i], hosts[i + 1], each, ctx, res, err);
		res->hosts++;
	}
	for (size_t i = 0; i < n; i++)
		free(hosts[i]);
	free(hosts);
	/* Kept content whose last item went: its own transaction, after every host. */
	if (!rc && !o->dry_run)
		rc = run(&p,
			 "DELETE FROM contents WHERE fingerprint NOT IN (SELECT fingerprint FROM "
			 "items)",
			 "deleting kept content no item refers to", err);
	if (!rc) {
		res->free_pages = pragma(st, "PRAGMA freelist_count");
		res->page_size = pragma(st, "PRAGMA page_size");
	}
	return rc;
}

static int64_t file_bytes(struct ed_store *st)
{
	return pragma(st, "PRAGMA page_count") * pragma(st, "PRAGMA page_size");
}

enum ed_code ed_store_vacuum(struct ed_store *st, bool full, int64_t *before, int64_t *after,
			     struct ed_err *err)
{
	struct pruner p = {.st = st, .db = ed_store_db(st)};
	*before = file_bytes(st);
	int64_t mode = pragma(st, "PRAGMA auto_vacuum");
	enum ed_code rc = ED_OK;
	if (mode == 2) /* incremental */
		rc = run(&p, "PRAGMA incremental_vacuum", "giving free pages back", err);
	else if (full)
		rc = run(&p, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM", "vacuuming the store", err);
	/* The WAL holds the moved pages until a checkpoint writes them home. */
	if (!rc)
		rc = run(&p, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpointing the store", err);
	*after = file_bytes(st);
	return rc;
}
