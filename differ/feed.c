/* SPDX-License-Identifier: MIT */
/*
 * Feeds: a snapshot's items in key order, copied out of SQLite a batch at a
 * time. Stepping a cursor and decoding its columns is most of what a diff
 * costs, so each side's cursor runs on a thread of its own with its own
 * read-only connection, a few batches ahead of the merge; the merge then
 * only compares plain memory.
 *
 * Each feed's SELECT is one read transaction of its own. The items of a
 * complete snapshot never change and envdrift never deletes one, so
 * separate transactions see the same rows.
 */
#include "feed.h"

#include "ed/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define BATCH_ROWS 2048
#define BATCH_BYTES (512u << 10) /* a batch ends at the row that passes this */
#define NBATCH 3                 /* per threaded feed: the merge reads one, the thread fills two */

enum { S_KIND, S_KEY, NSTR };
static const char feed_sql[] = "SELECT kind, key, state FROM items WHERE snapshot_id = ? "
			       "ORDER BY kind, key";
/*
 * A delta snapshot: its own rows and its base's, merged by SQLite in key
 * order, its own first. fill() drops a base row its own row replaces or
 * removes (a tombstone) and the tombstone itself.
 */
static const char delta_sql[] = "SELECT kind, key, state, 1 AS own FROM items WHERE snapshot_id = ?1 "
				"UNION ALL "
				"SELECT kind, key, state, 0 FROM items WHERE snapshot_id = ?2 "
				"ORDER BY 1, 2, 4 DESC";

struct slot {
	struct ed_row r;
	size_t off[NSTR]; /* into the arena while filling */
};

struct batch {
	struct slot *s;
	size_t n;
	char *arena;
	size_t used, cap;
	bool end; /* no row follows this batch's */
	struct ed_err err;
	enum ed_code rc;
};

#define REQ_BLOCK 1024
struct req_block {
	struct req_block *next;
	struct ed_detail v[REQ_BLOCK];
};

struct ed_feed {
	sqlite3 *db; /* a connection of its own, or the store's */
	bool own_db;
	sqlite3_stmt *q;
	sqlite3_stmt *cols; /* ED_FEED_COLS_SQL, for requests */
	int64_t snap;
	int64_t base;  /* of a delta snapshot, else 0 */
	char *own;     /* a delta's last own row: kind "\0" key */
	size_t own_len, own_cap;
	char *path; /* of the store, for messages */
	bool threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t filled; /* the merge waits on it: a batch filled, or the thread done */
	pthread_cond_t wake;   /* the thread waits on it: a batch freed, a request, a drain */
	bool stop, draining, done, scan_end, sleeping;
	struct batch b[NBATCH];
	size_t head;  /* the batch the merge reads */
	size_t nfull; /* batches filled and not yet given back, head's included */
	bool holding; /* the merge holds b[head] */
	size_t pos;   /* row of b[head] */
	const struct ed_row *row;
	struct ed_detail *reqs, **req_tail; /* every request, in order */
	struct ed_detail *unserved;         /* the first not yet read */
	struct req_block *blocks;           /* where requests live, the newest first */
	size_t nfree;                       /* unused requests of blocks */
	enum ed_code req_rc;                /* the first failed request's */
	struct ed_err req_err;
};

static enum ed_code feed_fail(struct ed_feed *f, struct ed_err *err)
{
	return ed_err_set(err, ED_STORE, "store %s: reading items: %s", f->path,
			  sqlite3_errmsg(f->db));
}

static bool arena_fit(struct batch *b, size_t need)
{
	if (b->used + need <= b->cap)
		return true;
	size_t ncap = b->cap ? b->cap : BATCH_BYTES;
	while (ncap < b->used + need)
		ncap *= 2;
	char *a = realloc(b->arena, ncap);
	if (!a)
		return false;
	b->arena = a;
	b->cap = ncap;
	return true;
}

/*
 * Whether the current row of a delta's cursor is an item: 1 yes, 0 no (a
 * tombstone, or a base row that an own row replaces), -1 out of memory.
 */
static int delta_row(struct ed_feed *f, const unsigned char *kind, size_t kind_len,
		     const unsigned char *key, size_t key_len)
{
	sqlite3_stmt *q = f->q;
	size_t n = kind_len + 1 + key_len;
	if (sqlite3_column_int(q, 3) == 0)
		return !(f->own_len == n && memcmp(f->own, kind, kind_len) == 0 &&
			 f->own[kind_len] == '\0' && memcmp(f->own + kind_len + 1, key, key_len) == 0);
	if (n > f->own_cap) {
		char *o = realloc(f->own, n);
		if (!o)
			return -1;
		f->own = o;
		f->own_cap = n;
	}
	memcpy(f->own, kind, kind_len);
	f->own[kind_len] = '\0';
	memcpy(f->own + kind_len + 1, key, key_len);
	f->own_len = n;
	return !ed_state_is_tombstone(sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2));
}

/* Copies the next rows of f's cursor into b; the strings point into b's arena after. */
static enum ed_code fill(struct ed_feed *f, struct batch *b)
{
	sqlite3_stmt *q = f->q;
	b->n = b->used = 0;
	b->end = false;
	b->rc = ED_OK;
	while (b->n < BATCH_ROWS && b->used < BATCH_BYTES) {
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE) {
			b->end = true;
			break;
		}
		if (r != SQLITE_ROW) {
			b->end = true;
			return b->rc = feed_fail(f, &b->err);
		}
		struct slot *s = &b->s[b->n];
		const unsigned char *t[NSTR];
		size_t len[NSTR];
		for (int i = 0; i < NSTR; i++) {
			t[i] = sqlite3_column_text(q, i);
			len[i] = t[i] ? (size_t)sqlite3_column_bytes(q, i) : 0;
		}
		if (f->base && t[S_KIND] && t[S_KEY]) {
			int keep = delta_row(f, t[S_KIND], len[S_KIND], t[S_KEY], len[S_KEY]);
			if (keep < 0) {
				b->end = true;
				return b->rc = ed_err_set(&b->err, ED_NOMEM, "out of memory reading items");
			}
			if (!keep)
				continue;
		}
		if (!t[S_KIND] || !t[S_KEY]) {
			b->end = true;
			if (sqlite3_errcode(f->db) == SQLITE_NOMEM)
				return b->rc = ed_err_set(&b->err, ED_NOMEM,
							  "out of memory reading items");
			return b->rc = ed_err_set(&b->err, ED_STORE,
						  "store %s: an item without kind or key", f->path);
		}
		if (!arena_fit(b, len[S_KIND] + len[S_KEY] + 2)) {
			b->end = true;
			return b->rc = ed_err_set(&b->err, ED_NOMEM, "out of memory reading items");
		}
		for (int i = 0; i < NSTR; i++) {
			memcpy(b->arena + b->used, t[i], len[i]);
			b->arena[b->used + len[i]] = '\0';
			s->off[i] = b->used;
			b->used += len[i] + 1;
		}
		s->r.key_len = len[S_KEY];
		s->r.kindkey_len = len[S_KIND] + 1 + len[S_KEY];
		s->r.has_state = sqlite3_column_bytes(q, 2) == ED_STATE_LEN;
		if (s->r.has_state)
			memcpy(s->r.state, sqlite3_column_blob(q, 2), ED_STATE_LEN);
		b->n++;
	}
	for (size_t j = 0; j < b->n; j++) {
		struct slot *s = &b->s[j];
		s->r.kind = b->arena + s->off[S_KIND];
		s->r.key = b->arena + s->off[S_KEY];
	}
	return ED_OK;
}

/* Reads one request's columns; the first failure is kept for ed_feed_drain(). */
static void serve(struct ed_feed *f, struct ed_detail *d)
{
	struct ed_row r = {.kind = d->kind, .key = d->key, .key_len = d->key_len};
	struct ed_err e;
	enum ed_code rc = ed_feed_read_cols(f->cols, f->snap, f->base, &r, &d->side, &d->flags, &e);
	if (rc && !f->req_rc) {
		f->req_rc = rc;
		f->req_err = e;
	}
}

/*
 * The thread: fills batches ahead of the merge and serves requests between
 * them, until the merge closes the feed, or drains it once done with it.
 */
static void *feed_main(void *arg)
{
	struct ed_feed *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		if (f->stop)
			break;
		struct ed_detail *d = f->unserved;
		if (d) {
			f->unserved = d->next;
			pthread_mutex_unlock(&f->mu);
			serve(f, d);
			pthread_mutex_lock(&f->mu);
			continue;
		}
		if (f->draining)
			break;
		if (f->scan_end || f->nfull == NBATCH) {
			f->sleeping = true;
			pthread_cond_wait(&f->wake, &f->mu);
			f->sleeping = false;
			continue;
		}
		struct batch *b = &f->b[(f->head + f->nfull) % NBATCH];
		pthread_mutex_unlock(&f->mu);
		fill(f, b);
		pthread_mutex_lock(&f->mu);
		f->nfull++;
		f->scan_end = b->end;
		pthread_cond_signal(&f->filled);
	}
	f->done = true;
	pthread_cond_signal(&f->filled);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Gives back the batch the merge read (if any) and takes the next one. */
static enum ed_code take_batch(struct ed_feed *f, struct ed_err *err)
{
	struct batch *b;
	if (!f->threaded) {
		b = &f->b[0];
		if (fill(f, b))
			return ed_err_set(err, b->rc, "%s", b->err.msg);
	} else {
		pthread_mutex_lock(&f->mu);
		if (f->holding) {
			f->head = (f->head + 1) % NBATCH;
			f->nfull--;
			if (f->sleeping)
				pthread_cond_signal(&f->wake);
		}
		while (f->nfull == 0)
			pthread_cond_wait(&f->filled, &f->mu);
		f->holding = true;
		b = &f->b[f->head];
		pthread_mutex_unlock(&f->mu);
		if (b->rc)
			return ed_err_set(err, b->rc, "%s", b->err.msg);
	}
	f->pos = 0;
	f->row = b->n ? &b->s[0].r : NULL;
	return ED_OK;
}

enum ed_code ed_feed_next(struct ed_feed *f, struct ed_err *err)
{
	if (!f->row)
		return ED_OK;
	struct batch *b = &f->b[f->threaded ? f->head : 0];
	if (++f->pos < b->n) {
		f->row = &b->s[f->pos].r;
		return ED_OK;
	}
	f->row = NULL;
	return b->end ? ED_OK : take_batch(f, err);
}

const struct ed_row *ed_feed_row(const struct ed_feed *f)
{
	return f->row;
}

/* A read-only connection of the feed's own; false when none can be made. */
static bool open_own(struct ed_feed *f)
{
	if (!(f->db = ed_store_open_reader(f->path)))
		return false;
	/* Enough to hold the pages of the batches read ahead, where requests look. */
	sqlite3_exec(f->db, "PRAGMA cache_size = -1024", NULL, NULL, NULL);
	f->own_db = true;
	return true;
}

enum ed_code ed_feed_open(struct ed_store *st, int64_t id, int64_t base, bool threaded,
			  struct ed_feed **out, struct ed_err *err)
{
	struct ed_feed *f = calloc(1, sizeof(*f));
	*out = NULL;
	if (!f || !(f->path = strdup(ed_store_path(st)))) {
		free(f);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	enum ed_code rc = ED_OK;
	size_t nb = threaded ? NBATCH : 1;
	for (size_t i = 0; i < nb; i++)
		if (!(f->b[i].s = malloc(BATCH_ROWS * sizeof(*f->b[i].s)))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto fail;
		}
	if (!threaded || !open_own(f))
		f->db = ed_store_db(st);
	f->snap = id;
	f->base = base;
	f->req_tail = &f->reqs;
	if (sqlite3_prepare_v2(f->db, base ? delta_sql : feed_sql, -1, &f->q, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(f->q, 1, id) != SQLITE_OK ||
	    (base && sqlite3_bind_int64(f->q, 2, base) != SQLITE_OK) ||
	    sqlite3_prepare_v2(f->db, ED_FEED_COLS_SQL, -1, &f->cols, NULL) != SQLITE_OK) {
		rc = feed_fail(f, err);
		goto fail;
	}
	if (f->own_db) {
		pthread_mutex_init(&f->mu, NULL);
		pthread_cond_init(&f->filled, NULL);
		pthread_cond_init(&f->wake, NULL);
		f->threaded = pthread_create(&f->thread, NULL, feed_main, f) == 0;
		if (!f->threaded) {
			pthread_mutex_destroy(&f->mu);
			pthread_cond_destroy(&f->filled);
			pthread_cond_destroy(&f->wake);
		}
	}
	if ((rc = take_batch(f, err)))
		goto fail;
	*out = f;
	return ED_OK;
fail:
	ed_feed_close(f);
	return rc;
}

enum ed_code ed_feed_read_cols(sqlite3_stmt *q, int64_t snap, int64_t base, const struct ed_row *r,
			       struct ed_side *out, uint8_t *flags, struct ed_err *err)
{
	static const int str_col[] = {1, 3, 4, 5, 6, 7, 9};
	char **dst[] = {NULL, &out->owner, &out->group, &out->target, &out->error, &out->value,
			&out->attrs};
	sqlite3_reset(q);
	if (sqlite3_bind_int64(q, 1, snap) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, r->kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 3, r->key, (int)r->key_len, SQLITE_STATIC) != SQLITE_OK ||
	    (base ? sqlite3_bind_int64(q, 4, base) : sqlite3_bind_null(q, 4)) != SQLITE_OK)
		goto fail;
	int st = sqlite3_step(q);
	if (st == SQLITE_DONE)
		return ed_err_set(err, ED_STORE, "store %s: item %s %s of snapshot @%lld vanished",
				  sqlite3_db_filename(sqlite3_db_handle(q), "main"), r->kind, r->key,
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

enum ed_code ed_feed_request(struct ed_feed *f, const char *kind, const char *key,
			     size_t key_len, struct ed_detail **out, struct ed_err *err)
{
	/* Requests come in blocks: one allocation per REQ_BLOCK of them. */
	if (f->nfree == 0) {
		struct req_block *b = calloc(1, sizeof(*b));
		if (!b)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		b->next = f->blocks;
		f->blocks = b;
		f->nfree = REQ_BLOCK;
	}
	struct ed_detail *d = &f->blocks->v[REQ_BLOCK - f->nfree--];
	d->kind = kind;
	d->key = key;
	d->key_len = key_len;
	*out = d;
	if (!f->threaded) {
		*f->req_tail = d;
		f->req_tail = &d->next;
		serve(f, d);
		return ED_OK;
	}
	pthread_mutex_lock(&f->mu);
	*f->req_tail = d;
	f->req_tail = &d->next;
	if (!f->unserved)
		f->unserved = d;
	if (f->sleeping)
		pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->mu);
	return ED_OK;
}

enum ed_code ed_feed_drain(struct ed_feed *f, struct ed_err *err)
{
	if (f->threaded) {
		pthread_mutex_lock(&f->mu);
		f->draining = true;
		pthread_cond_signal(&f->wake);
		while (!f->done)
			pthread_cond_wait(&f->filled, &f->mu);
		pthread_mutex_unlock(&f->mu);
	}
	if (f->req_rc)
		return ed_err_set(err, f->req_rc, "%s", f->req_err.msg);
	return ED_OK;
}

void ed_feed_close(struct ed_feed *f)
{
	if (!f)
		return;
	if (f->threaded) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->thread, NULL);
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->filled);
		pthread_cond_destroy(&f->wake);
	}
	sqlite3_finalize(f->q);
	sqlite3_finalize(f->cols);
	if (f->own_db)
		sqlite3_close(f->db);
	for (size_t i = 0; i < NBATCH; i++) {
		free(f->b[i].s);
		free(f->b[i].arena);
	}
	for (struct ed_detail *d = f->reqs; d; d = d->next)
		ed_side_release(&d->side);
	for (struct req_block *b = f->blocks, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(f->own);
	free(f->path);
	free(f);
}
