/* SPDX-License-Identifier: MIT */
/*
 * The store's side of snapshot documents (ed/snapdoc_store.h): ingest stores
 * a validated document as one snapshot (all or nothing, idempotent by its
 * id); export writes a stored snapshot as a document.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/buf.h"
#include "ed/snapdoc_store.h"
#include "delta.h"
#include "store_int.h"

static enum ed_code export_items(struct ed_store *st, const struct ed_snapref *ref,
				 struct ed_sink *sink, struct ed_err *err);
static enum ed_code export_warnings(struct ed_store *st, const struct ed_snapref *ref,
				    struct ed_sink *sink, struct ed_err *err);

/* ------------------------------------------------------------------ */
/* ingest                                                               */

/* The snapshot holding document id, if any. */
static enum ed_code find_doc(struct ed_store *st, const char *id, int64_t *snap, bool *found,
			     struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	*found = false;
	if (sqlite3_prepare_v2(ed_store_db(st), "SELECT id FROM snapshots WHERE uuid = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return ed_store_fail(st, "looking up a document id", err);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		*snap = sqlite3_column_int64(s, 0);
		*found = true;
	} else if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "looking up a document id", err);
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * ed_snapshot_commit() sets finished_at to the time of the commit; a pushed
 * snapshot keeps the time its collection finished. This trigger, private to
 * this connection, puts that time back within the commit's own transaction,
 * for the snapshots listed in the temporary table.
 */
static const char finish_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS ed_ingest_times ("
	" snapshot_id INTEGER PRIMARY KEY, finished_at TEXT NOT NULL);"
	"CREATE TEMP TRIGGER IF NOT EXISTS ed_ingest_finished"
	" AFTER UPDATE OF status ON main.snapshots"
	" WHEN new.status = 'complete'"
	" AND new.id IN (SELECT snapshot_id FROM temp.ed_ingest_times)"
	" BEGIN"
	" UPDATE snapshots SET finished_at = (SELECT finished_at FROM temp.ed_ingest_times"
	" WHERE snapshot_id = new.id) WHERE id = new.id;"
	" END;";

/*
 * What a document says, as a digest both sides compute the same way: the
 * document through ed_snapdoc_replay(), the stored snapshot through export's
 * readers. Each item and each warning (with its position) is one element,
 * HMAC-SHA256/128 under a fixed key (a collision-resistant hash, not a
 * secret) of its fields, each length-prefixed; the elements are sorted, since
 * a document's items come in the order they were collected and the store's
 * in key order; the digest covers env, host, role, the two times and the
 * sorted elements. Kept contents are left out: each is named by the
 * fingerprint of a file item, which is covered.
 */
static const uint8_t digest_key[ED_KEY_LEN] = "envdrift.snapshot/1 content";

struct digest {
	struct ed_fp *v; /* one per element */
	size_t n, cap;
	size_t nwarn;
	struct ed_buf b; /* scratch: one element's bytes */
	enum ed_code rc; /* first failure (the sink's warn() cannot return one) */
	struct ed_err err;
};

static void field(struct ed_buf *b, const char *s, size_t len, bool *ok)
{
	if (!s)
		*ok = *ok && ed_buf_adds(b, "-;") == 0;
	else
		*ok = *ok && ed_buf_addf(b, "%zu:", len) == 0 && ed_buf_add(b, s, len) == 0;
}

static enum ed_code digest_add(struct digest *g)
{
	if (g->n == g->cap) {
		size_t ncap = g->cap ? 2 * g->cap : 1024;
		struct ed_fp *nv = realloc(g->v, ncap * sizeof(*nv));
		if (!nv)
			return ed_err_set(&g->err, ED_NOMEM, "out of memory");
		g->v = nv;
		g->cap = ncap;
	}
	return ed_fp_keyed(digest_key, g->b.p, g->b.len, &g->v[g->n++], &g->err);
}

static enum ed_code digest_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct digest *g = sink->ctx;
	bool ok = true;
	const char *ft = ed_ftype_name(it->ftype);
	ed_buf_reset(&g->b);
	ok = ed_buf_addc(&g->b, 'i') == 0;
	field(&g->b, it->kind, strlen(it->kind), &ok);
	field(&g->b, it->key, it->key_len, &ok);
	field(&g->b, (const char *)it->fp.b, ED_FP_LEN, &ok);
	field(&g->b, it->value, it->value ? strlen(it->value) : 0, &ok);
	field(&g->b, it->attrs, it->attrs ? strlen(it->attrs) : 0, &ok);
	field(&g->b, it->error, it->error ? strlen(it->error) : 0, &ok);
	field(&g->b, ft, ft ? strlen(ft) : 0, &ok);
	if (it->ftype != ED_FT_NONE) {
		field(&g->b, it->owner, it->owner ? strlen(it->owner) : 0, &ok);
		field(&g->b, it->group, it->group ? strlen(it->group) : 0, &ok);
		field(&g->b, it->target, it->target ? strlen(it->target) : 0, &ok);
		ok = ok && ed_buf_addf(&g->b, "%lu;%lld;%lld;%lld;%llu;%llu;", (unsigned long)it->mode,
				       (long long)it->size, (long long)it->mtime_ns,
				       (long long)it->ctime_ns, (unsigned long long)it->ino,
				       (unsigned long long)it->dev) == 0;
	}
	if (!ok)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (digest_add(g)) {
		*err = g->err;
		return err->code;
	}
	return ED_OK;
}

static void digest_warn(struct ed_sink *sink, const char *msg)
{
	struct digest *g = sink->ctx;
	bool ok = true;
	if (g->rc)
		return;
	ed_buf_reset(&g->b);
	ok = ed_buf_addf(&g->b, "w%zu;", g->nwarn++) == 0;
	field(&g->b, msg, strlen(msg), &ok);
	if (!ok)
		g->rc = ed_err_set(&g->err, ED_NOMEM, "out of memory");
	else
		g->rc = digest_add(g);
}

static int cmp_fp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ed_fp));
}

/* The digest of the elements gathered in g and of the snapshot's names and times. */
static enum ed_code digest_final(struct digest *g, const char *env, const char *host,
				 const char *role, const char *started, const char *finished,
				 struct ed_fp *out, struct ed_err *err)
{
	bool ok = true;
	if (g->rc) {
		*err = g->err;
		return g->rc;
	}
	qsort(g->v, g->n, sizeof(*g->v), cmp_fp);
	ed_buf_reset(&g->b);
	ok = ed_buf_addc(&g->b, 'm') == 0;
	field(&g->b, env, strlen(env), &ok);
	field(&g->b, host, strlen(host), &ok);
	field(&g->b, role ? role : "", role ? strlen(role) : 0, &ok);
	field(&g->b, started, strlen(started), &ok);
	field(&g->b, finished, strlen(finished), &ok);
	for (size_t i = 0; i < g->n && ok; i++)
		ok = ed_buf_add(&g->b, g->v[i].b, ED_FP_LEN) == 0;
	if (!ok)
		return ed_err_set(err, ED_NOMEM, "out of memory comparing a document with the store");
	return ed_fp_keyed(digest_key, g->b.p, g->b.len, out, err);
}

static void digest_release(struct digest *g)
{
	free(g->v);
	ed_buf_release(&g->b);
}

/*
 * Is the stored snapshot sid what document d says? The field that differs
 * (or "items or warnings") into what. Both read whole: only a replayed id
 * pays for it.
 */
static enum ed_code same_content(struct ed_store *st, const struct ed_snapdoc *d, int64_t sid,
				 bool *same, char *what, size_t cap, struct ed_err *err)
{
	const struct ed_snapdoc_info *info = ed_snapdoc_info(d);
	struct ed_snapref ref;
	struct digest gd = {0}, gs = {0};
	struct ed_sink sd = {.emit = digest_emit, .warn = digest_warn, .ctx = &gd};
	struct ed_sink ss = {.emit = digest_emit, .warn = digest_warn, .ctx = &gs};
	struct ed_fp a, b;
	char spec[32];
	enum ed_code rc;
	*same = false;
	snprintf(spec, sizeof(spec), "@%lld", (long long)sid);
	if ((rc = ed_store_resolve(st, spec, &ref, err)))
		return rc;
	const struct {
		const char *name, *doc, *stored;
	} meta[] = {{"env", info->env, ref.env},
		    {"host", info->host, ref.host},
		    {"role", info->role ? info->role : "", ref.role},
		    {"started_at", info->started_at, ref.started_at},
		    {"finished_at", info->finished_at, ref.finished_at}};
	for (size_t k = 0; k < sizeof(meta) / sizeof(meta[0]); k++)
		if (strcmp(meta[k].doc, meta[k].stored) != 0) {
			snprintf(what, cap, "%s", meta[k].name);
			return ED_OK;
		}
	/* One read transaction: the stored snapshot as of one moment. */
	if (sqlite3_exec(ed_store_db(st), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading a snapshot", err);
	rc = ed_snapdoc_replay(d, &sd, err);
	if (!rc)
		rc = export_items(st, &ref, &ss, err);
	if (!rc)
		rc = export_warnings(st, &ref, &ss, err);
	sqlite3_exec(ed_store_db(st), "COMMIT", NULL, NULL, NULL);
	if (!rc)
		rc = digest_final(&gd, info->env, info->host, info->role, info->started_at,
				  info->finished_at, &a, err);
	if (!rc)
		rc = digest_final(&gs, ref.env, ref.host, ref.role, ref.started_at, ref.finished_at,
				  &b, err);
	if (!rc) {
		*same = memcmp(&a, &b, sizeof(a)) == 0;
		snprintf(what, cap, "%s", gd.n != gs.n ? "number of items or warnings"
						       : "items or warnings");
	}
	digest_release(&gd);
	digest_release(&gs);
	return rc;
}

/* The store holds document d as snapshot sid: the same content, or refused. */
static enum ed_code replayed(struct ed_store *st, const struct ed_snapdoc *d, int64_t sid,
			     bool *already, struct ed_err *err)
{
	char what[64] = "";
	bool same = false;
	enum ed_code rc = same_content(st, d, sid, &same, what, sizeof(what), err);
	if (rc)
		return rc;
	if (!same)
		return ed_err_set(err, ED_PARSE,
				  "document UUID %s was stored as @%lld with different content "
				  "(%s differ); a document id names one collection: give a new one "
				  "a new id",
				  ed_snapdoc_info(d)->id, (long long)sid, what);
	*already = true;
	return ED_OK;
}

/*
 * A host's first document may be stored as a delta on another host's full
 * snapshot of the same environment and role (issue 17, part 2), when that
 * is smaller. Which it is, a systematic sample of about SAMPLE_ITEMS of the
 * document's items tells: each compared with the candidate as the delta
 * writer compares (ed_delta_item(), nothing written). The rows the delta
 * would hold are estimated as the items that differ plus the candidate's
 * keys the document lacks (tombstones); below half the document's items,
 * the rule a delta on a delta follows too, it is a delta. The sample stops
 * early, after a quarter of it, when the estimate is already far from half
 * (below a quarter or above three quarters): a host of a role is most often
 * clearly alike or clearly not, and the rest of the document is not parsed.
 * Its first part can mislead (documents come in key order); that costs
 * space, never correctness, and a delta that grows past half its items is
 * followed by a full snapshot.
 */
enum { SAMPLE_ITEMS = 1024 };

struct sample {
	struct ed_delta_writer *d;
	size_t n, stride, i, seen, differ, found;
	int64_t cand_items;
	bool decided; /* stopped early */
};

/* The rows a delta on the candidate would hold, as the sample so far says. */
static double sample_rows(const struct sample *sm)
{
	double k = sm->seen ? (double)sm->seen : 1.0;
	double rows = (double)sm->differ / k * (double)sm->n;
	double gone = (double)sm->cand_items - (double)sm->found / k * (double)sm->n;
	return gone > 0 ? rows + gone : rows;
}

static enum ed_code sample_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct sample *sm = sink->ctx;
	if (sm->i++ % sm->stride)
		return ED_OK;
	uint8_t state[ED_STATE_LEN];
	bool write, added;
	ed_item_state_of(it, state);
	enum ed_code rc = ed_delta_item(sm->d, it, state, &write, &added, err);
	if (rc)
		return rc;
	sm->seen++;
	sm->differ += write;
	sm->found += !added;
	double rows = sm->seen >= SAMPLE_ITEMS / 4 ? sample_rows(sm) : (double)sm->n / 2;
	if (4 * rows < (double)sm->n || 4 * rows > 3 * (double)sm->n) {
		sm->decided = true; /* not an error: ends the replay */
		return ed_err_set(err, ED_NOTFOUND, "sample decided");
	}
	return ED_OK;
}

static void sample_warn(struct ed_sink *sink, const char *msg)
{
	(void)sink;
	(void)msg;
}

static enum ed_code plan_document(struct ed_store *st, const struct ed_snapdoc *d,
				  struct ed_snapwriter *w, bool *delta, struct ed_err *err)
{
	size_t n = ed_snapdoc_info(d)->nitems;
	int64_t cand = 0, cand_items = 0;
	enum ed_code rc = ed_snapshot_role_base(w, &cand, &cand_items, err);
	if (rc)
		return rc;
	if (!cand || !n)
		return ed_snapshot_plan_listing(w, delta, err);
	struct sample sm = {.n = n, .stride = n / SAMPLE_ITEMS + 1, .cand_items = cand_items};
	if ((rc = ed_delta_open(ed_store_db(st), ed_store_path(st), ed_snapshot_id(w), cand, 0, true,
				&sm.d, err)))
		return rc;
	struct ed_sink sink = {.emit = sample_emit, .warn = sample_warn, .ctx = &sm};
	rc = ed_snapdoc_replay(d, &sink, err);
	ed_delta_close(sm.d);
	if (rc && !sm.decided)
		return rc;
	*err = (struct ed_err){0};
	if (sm.seen && 2.0 * sample_rows(&sm) < (double)n)
		return ed_snapshot_plan_listing_on(w, cand, delta, err);
	return ed_snapshot_plan_listing(w, delta, err);
}

enum ed_code ed_snapdoc_ingest(struct ed_store *st, const struct ed_snapdoc *d, long long max_skew,
			       int64_t *id, bool *already, int64_t *items, int64_t *warnings,
			       struct ed_err *err)
{
	const struct ed_snapdoc_info *info = ed_snapdoc_info(d);
	sqlite3 *db = ed_store_db(st);
	struct ed_snapwriter *w = NULL;
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	bool found = false;
	*already = false;
	if ((rc = ed_snapdoc_check_clock(d, time(NULL), max_skew, err)) ||
	    (rc = find_doc(st, info->id, id, &found, err)))
		return rc;
	if (found)
		return replayed(st, d, *id, already, err);
	if (sqlite3_exec(db, finish_sql, NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "preparing to ingest", err);
	if ((rc = ed_snapshot_begin(st, info->env, info->host, info->role ? info->role : "",
				    info->collector_root, &w, err)))
		return rc;
	int64_t sid = ed_snapshot_id(w);

	/* In the snapshot's own transaction: all of it becomes visible at commit, or none. */
	if (sqlite3_prepare_v2(db,
			       "UPDATE snapshots SET uuid = ?1, started_at = ?2,"
			       " collector_host = coalesce(?3, collector_host), doc_digest = ?5"
			       " WHERE id = ?4",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "storing the document id", err);
		goto fail;
	}
	sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, info->started_at, -1, SQLITE_STATIC);
	if (info->collector_host)
		sqlite3_bind_text(s, 3, info->collector_host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sid);
	sqlite3_bind_blob(s, 5, info->digest->b, sizeof(info->digest->b), SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT) {
			/*
			 * Another ingest of the same document won the race. Ours is
			 * a duplicate, not a failed collection: its row (without
			 * items, rolled back) goes, so the store shows no trace.
			 */
			sqlite3_finalize(s);
			s = NULL;
			ed_snapshot_abort(w);
			w = NULL;
			if (sqlite3_prepare_v2(db,
					       "DELETE FROM snapshots WHERE id = ? AND status = 'failed'",
					       -1, &s, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(s, 1, sid);
				sqlite3_step(s); /* best effort: a 'failed' row is harmless */
			}
			sqlite3_finalize(s);
			s = NULL;
			if ((rc = find_doc(st, info->id, id, &found, err)))
				return rc;
			return found ? replayed(st, d, *id, already, err)
				     : ed_err_set(err, ED_STORE, "store %s: document id %s: conflict",
						  ed_store_path(st), info->id);
		}
		rc = ed_store_fail(st, "storing the document id", err);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO temp.ed_ingest_times (snapshot_id, finished_at)"
			       " VALUES (?, ?)",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "storing the finish time", err);
		goto fail;
	}
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_text(s, 2, info->finished_at, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = ed_store_fail(st, "storing the finish time", err);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;

	/*
	 * Only what changed since the host's previous snapshot is written, or,
	 * for its first, since another host's of its role (issue 17); a
	 * document the previous one was ingested from, item for item, is not
	 * even read again.
	 */
	bool delta = false, unchanged = false;
	if ((rc = ed_snapshot_copy_unchanged(w, info->digest, &unchanged, err)) ||
	    (!unchanged && ((rc = plan_document(st, d, w, &delta, err)) ||
			    (rc = ed_snapdoc_replay(d, ed_snapshot_sink(w), err)))))
		goto fail;
	rc = ed_snapshot_commit(w, items, warnings, err);
	w = NULL;
	if (rc)
		return rc;
	*id = sid;
	/* Tidy up; the row could do no harm (its snapshot is no longer 'running'). */
	sqlite3_exec(db, "DELETE FROM temp.ed_ingest_times", NULL, NULL, NULL);
	return ED_OK;
fail:
	sqlite3_finalize(s);
	ed_snapshot_abort(w);
	return rc;
}

enum ed_code ed_snapdoc_id_of(struct ed_store *st, int64_t snap_id,
			      char out[ED_SNAPDOC_ID_LEN + 1], struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL, *u = NULL;
	enum ed_code rc = ED_OK;
	char fresh[ED_SNAPDOC_ID_LEN + 1];
	if (sqlite3_prepare_v2(db, "SELECT uuid FROM snapshots WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return ed_store_fail(st, "reading a document id", err);
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, snap_id);
		int r = sqlite3_step(s);
		if (r == SQLITE_DONE) {
			rc = ed_err_set(err, ED_NOTFOUND, "store %s has no snapshot @%lld",
					ed_store_path(st), (long long)snap_id);
			goto out;
		}
		if (r != SQLITE_ROW) {
			rc = ed_store_fail(st, "reading a document id", err);
			goto out;
		}
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (t) {
			if (!ed_snapdoc_id_parse(t, (size_t)sqlite3_column_bytes(s, 0), out))
				rc = ed_err_set(err, ED_STORE,
						"store %s: snapshot @%lld has a malformed document id",
						ed_store_path(st), (long long)snap_id);
			goto out;
		}
		if (pass)
			break;
		sqlite3_reset(s);
		if (sqlite3_db_readonly(db, "main") == 1) {
			rc = ed_err_set(err, ED_STORE,
					"store %s: snapshot @%lld has no document id yet, and the "
					"store is open read-only",
					ed_store_path(st), (long long)snap_id);
			goto out;
		}
		/* Recorded first, so every later export of this snapshot carries the same id. */
		if ((rc = ed_snapdoc_id_new(fresh, err)))
			goto out;
		if (sqlite3_prepare_v2(db,
				       "UPDATE snapshots SET uuid = ? WHERE id = ? AND uuid IS NULL",
				       -1, &u, NULL) != SQLITE_OK) {
			rc = ed_store_fail(st, "recording a document id", err);
			goto out;
		}
		sqlite3_bind_text(u, 1, fresh, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, snap_id);
		if (sqlite3_step(u) != SQLITE_DONE) {
			rc = ed_store_fail(st, "recording a document id", err);
			goto out;
		}
	}
	rc = ed_err_set(err, ED_STORE, "store %s: snapshot @%lld: the document id did not stick",
			ed_store_path(st), (long long)snap_id);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

/* ------------------------------------------------------------------ */
/* export                                                               */

/* Copies a nullable text column; false when out of memory. */
static bool col_dup(sqlite3_stmt *s, int col, char **out)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	*out = NULL;
	return !t || (*out = ed_strndup(t, (size_t)sqlite3_column_bytes(s, col)));
}

static enum ed_code export_items(struct ed_store *st, const struct ed_snapref *ref,
				 struct ed_sink *sink, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	struct ed_buf k = ED_BUF_INIT;
	int r = ed_items_prepare(ed_store_db(st), NULL,
				 "kind, key, fingerprint, value, ftype, mode, owner, grp, target,"
				 " size, mtime_ns, ctime_ns, ino, dev, error, attrs",
				 NULL, NULL, ref->id, ref->base, &s);
	if (r == SQLITE_NOMEM)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (r != SQLITE_OK)
		return ed_store_fail(st, "reading items", err);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_item it = {0};
		const char *ft = (const char *)sqlite3_column_text(s, 4);
		it.kind = (const char *)sqlite3_column_text(s, 0);
		it.key = (const char *)sqlite3_column_text(s, 1);
		it.key_len = (size_t)sqlite3_column_bytes(s, 1);
		const void *fp = sqlite3_column_blob(s, 2);
		int fplen = sqlite3_column_bytes(s, 2);
		it.ftype = ed_ftype_parse(ft);
		if (!it.kind || !it.key || fplen != ED_FP_LEN || (ft && it.ftype == ED_FT_NONE)) {
			ed_buf_reset(&k);
			ed_buf_add_utf8_escaped(&k, it.key ? it.key : "", it.key ? it.key_len : 0);
			rc = ed_err_set(err, ED_STORE,
					"store %s: snapshot @%lld: item %s %s is malformed "
					"(fingerprint of %d bytes, file type '%s')",
					ed_store_path(st), (long long)ref->id,
					it.kind ? it.kind : "?", ed_buf_str(&k), fplen, ft ? ft : "");
			goto out;
		}
		memcpy(it.fp.b, fp, ED_FP_LEN);
		it.value = (const char *)sqlite3_column_text(s, 3);
		it.mode = (uint32_t)sqlite3_column_int64(s, 5);
		it.owner = (const char *)sqlite3_column_text(s, 6);
		it.group = (const char *)sqlite3_column_text(s, 7);
		it.target = (const char *)sqlite3_column_text(s, 8);
		it.size = sqlite3_column_int64(s, 9);
		it.mtime_ns = sqlite3_column_int64(s, 10);
		it.ctime_ns = sqlite3_column_int64(s, 11);
		it.ino = (uint64_t)sqlite3_column_int64(s, 12);
		it.dev = (uint64_t)sqlite3_column_int64(s, 13);
		it.error = (const char *)sqlite3_column_text(s, 14);
		it.attrs = (const char *)sqlite3_column_text(s, 15);
		if ((rc = sink->emit(sink, &it, err)))
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "reading items", err);
out:
	sqlite3_finalize(s);
	ed_buf_release(&k);
	return rc;
}

/*
 * The size bytes of one kept content row (encoding enc, zlen bytes at z)
 * into *plain (malloc'd, with room for a NUL; the caller frees it). ED_STORE
 * when the row cannot be read, ED_NOMEM. Export's own zlib decoder, kept
 * apart so that it can give way to the store's reader of kept content.
 */
static enum ed_code export_warnings(struct ed_store *st, const struct ed_snapref *ref,
				    struct ed_sink *sink, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	int r;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT message FROM warnings WHERE snapshot_id = ? ORDER BY seq", -1, &s,
			       NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading warnings", err);
	sqlite3_bind_int64(s, 1, ref->id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		sink->warn(sink, m ? m : "");
	}
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? ED_OK : ed_store_fail(st, "reading warnings", err);
}

static enum ed_code export_rest(struct ed_store *st, const struct ed_snapref *ref,
				struct ed_sink *sink, struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL;
	char *plain = NULL;
	int r;
	enum ed_code rc = export_warnings(st, ref, sink, err);
	if (rc)
		return rc;

	/* Contents are kept once per fingerprint for the whole store: this snapshot's files'. */
	r = ed_items_prepare(db,
			     "SELECT fingerprint, size, encoding, data FROM contents"
			     " WHERE fingerprint IN (SELECT fingerprint FROM (",
			     "kind, key, fingerprint", "kind = 'file'", ")) ORDER BY fingerprint",
			     ref->id, ref->base, &s);
	if (r != SQLITE_OK) {
		rc = r == SQLITE_NOMEM ? ed_err_set(err, ED_NOMEM, "out of memory")
				       : ed_store_fail(st, "reading kept content", err);
		goto out;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_fp fp;
		const char *enc = (const char *)sqlite3_column_text(s, 2);
		sqlite3_int64 size = sqlite3_column_int64(s, 1);
		if (sqlite3_column_bytes(s, 0) != ED_FP_LEN || !enc) {
			rc = ed_err_set(err, ED_STORE, "store %s: a malformed kept content row",
					ed_store_path(st));
			goto out;
		}
		memcpy(fp.b, sqlite3_column_blob(s, 0), ED_FP_LEN);
		if (strcmp(enc, "none") == 0) {
			rc = sink->content(sink, &fp, NULL, 0, err);
		} else {
			/* blob before bytes, as SQLite asks */
			const void *z = sqlite3_column_blob(s, 3);
			size_t zlen = (size_t)sqlite3_column_bytes(s, 3);
			free(plain);
			plain = NULL;
			enum ed_code zrc = strcmp(enc, "zlib") != 0
						   ? ED_STORE
						   : ed_store_inflate(z, zlen, size, ED_SNAPDOC_CONTENT_MAX,
								      &plain);
			if (zrc) {
				char hex[2 * ED_FP_LEN + 1];
				ed_fp_hex(&fp, hex);
				rc = ed_err_set(err, zrc,
						"store %s: kept content %s cannot be read (%s, %lld bytes)",
						ed_store_path(st), hex, enc, (long long)size);
				goto out;
			}
			rc = sink->content(sink, &fp, plain, (size_t)size, err);
		}
		if (rc)
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "reading kept content", err);
out:
	free(plain);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_snapdoc_export(struct ed_store *st, const struct ed_snapref *ref, const char *id,
			       const char *path, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	struct ed_snapdoc_writer *w = NULL;
	char *root = NULL, *chost = NULL;
	enum ed_code rc = ED_OK;
	/* One read transaction: the snapshot, its warnings and its contents as of one moment. */
	if (sqlite3_exec(ed_store_db(st), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading a snapshot", err);
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT root, collector_host FROM snapshots WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "reading a snapshot", err);
		goto out;
	}
	sqlite3_bind_int64(s, 1, ref->id);
	int r = sqlite3_step(s);
	if (r != SQLITE_ROW) {
		rc = r == SQLITE_DONE ? ed_err_set(err, ED_NOTFOUND, "store %s has no snapshot @%lld",
						   ed_store_path(st), (long long)ref->id)
				      : ed_store_fail(st, "reading a snapshot", err);
		goto out;
	}
	if (!col_dup(s, 0, &root) || !col_dup(s, 1, &chost)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	struct ed_snapdoc_meta meta = {
		.id = id,
		.env = ref->env,
		.host = ref->host,
		.role = ref->role,
		.started_at = ref->started_at,
		.collector_host = chost ? chost : "",
		.collector_root = root,
		.quiet = true,
	};
	if ((rc = ed_snapdoc_begin(path, &meta, &w, err)) ||
	    (rc = export_items(st, ref, ed_snapdoc_sink(w), err)) ||
	    (rc = export_rest(st, ref, ed_snapdoc_sink(w), err)))
		goto out;
	rc = ed_snapdoc_commit(w, ref->finished_at[0] ? ref->finished_at : NULL, NULL, NULL, err);
	w = NULL;
out:
	ed_snapdoc_abort(w);
	sqlite3_finalize(s);
	sqlite3_exec(ed_store_db(st), "COMMIT", NULL, NULL, NULL);
	free(root);
	free(chost);
	return rc;
}
