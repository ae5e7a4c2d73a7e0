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

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define BATCH_ROWS 1024
#define BATCH_BYTES (256u << 10) /* a batch ends at the row that passes this */
#define NBATCH 3                 /* per threaded feed: the merge reads one, the thread fills two */
#define BUSY_MS 10000

enum { S_KIND, S_KEY, NSTR };
static const char feed_sql[] = "SELECT kind, key, state FROM items WHERE snapshot_id = ? "
			       "ORDER BY kind, key";

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

struct ed_feed {
	sqlite3 *db; /* a connection of its own, or the store's */
	bool own_db;
	sqlite3_stmt *q;
	char *path; /* of the store, for messages */
	bool threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t filled, freed;
	bool stop;
	struct batch b[NBATCH];
	size_t head;  /* the batch the merge reads */
	size_t nfull; /* batches filled and not yet given back, head's included */
	bool holding; /* the merge holds b[head] */
	size_t pos;   /* row of b[head] */
	const struct ed_row *row;
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

static void *feed_main(void *arg)
{
	struct ed_feed *f = arg;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		while (f->nfull == NBATCH && !f->stop)
			pthread_cond_wait(&f->freed, &f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		struct batch *b = &f->b[(f->head + f->nfull) % NBATCH];
		pthread_mutex_unlock(&f->mu);
		fill(f, b);
		pthread_mutex_lock(&f->mu);
		f->nfull++;
		pthread_cond_signal(&f->filled);
		pthread_mutex_unlock(&f->mu);
		if (b->end)
			return NULL;
	}
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
			pthread_cond_signal(&f->freed);
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
	if (sqlite3_open_v2(f->path, &f->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(f->db);
		f->db = NULL;
		return false;
	}
	sqlite3_extended_result_codes(f->db, 1);
	sqlite3_busy_timeout(f->db, BUSY_MS);
	f->own_db = true;
	return true;
}

enum ed_code ed_feed_open(struct ed_store *st, int64_t id, bool threaded, struct ed_feed **out,
			  struct ed_err *err)
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
	if (sqlite3_prepare_v2(f->db, feed_sql, -1, &f->q, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(f->q, 1, id) != SQLITE_OK) {
		rc = feed_fail(f, err);
		goto fail;
	}
	if (f->own_db) {
		pthread_mutex_init(&f->mu, NULL);
		pthread_cond_init(&f->filled, NULL);
		pthread_cond_init(&f->freed, NULL);
		f->threaded = pthread_create(&f->thread, NULL, feed_main, f) == 0;
		if (!f->threaded) {
			pthread_mutex_destroy(&f->mu);
			pthread_cond_destroy(&f->filled);
			pthread_cond_destroy(&f->freed);
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

void ed_feed_close(struct ed_feed *f)
{
	if (!f)
		return;
	if (f->threaded) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		pthread_cond_signal(&f->freed);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->thread, NULL);
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->filled);
		pthread_cond_destroy(&f->freed);
	}
	sqlite3_finalize(f->q);
	if (f->own_db)
		sqlite3_close(f->db);
	for (size_t i = 0; i < NBATCH; i++) {
		free(f->b[i].s);
		free(f->b[i].arena);
	}
	free(f->path);
	free(f);
}
