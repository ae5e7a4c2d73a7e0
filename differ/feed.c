/* SPDX-License-Identifier: MIT */
/*
 * Feeds: a snapshot's items in key order, copied out of a store cursor a
 * batch at a time. Stepping the cursor and decoding its columns is most of
 * what a diff costs, so each side's cursor runs on a thread of its own with
 * its own read-only connection, a few batches ahead of the merge; the merge
 * then only compares plain memory.
 *
 * Each cursor's SELECT is one read transaction of its own. The items of a
 * complete snapshot never change and envdrift never deletes one, so
 * separate transactions see the same rows.
 */
#include "feed.h"

#include "ed/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_ROWS 2048
#define BATCH_BYTES (512u << 10) /* a batch ends at the row that passes this */
#define NBATCH 3                 /* per threaded feed: the merge reads one, the thread fills two */

enum { S_KIND, S_KEY, NSTR };

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
	struct ed_store_cursor *cur; /* on a connection of its own, or the store's */
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
	size_t nreq, nserved;               /* requests made, and read */
	enum ed_code req_rc;                /* the first failed request's */
	struct ed_err req_err;
};

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
	b->n = b->used = 0;
	b->end = false;
	b->rc = ED_OK;
	while (b->n < BATCH_ROWS && b->used < BATCH_BYTES) {
		struct ed_cursor_row cr;
		if ((b->rc = ed_store_cursor_next(f->cur, &cr, &b->err))) {
			b->end = true;
			return b->rc;
		}
		if (!cr.kind) {
			b->end = true;
			break;
		}
		struct slot *s = &b->s[b->n];
		const char *t[NSTR] = {cr.kind, cr.key};
		size_t len[NSTR] = {cr.kind_len, cr.key_len};
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
		s->r.has_state = cr.state != NULL;
		if (s->r.has_state)
			memcpy(s->r.state, cr.state, ED_STATE_LEN);
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
	struct ed_err e;
	enum ed_code rc = ed_store_cursor_cols(f->cur, d->kind, d->key, d->key_len, &d->side,
					       &d->flags, &e);
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
			if (++f->nserved == f->nreq)
				pthread_cond_signal(&f->filled); /* ed_feed_settle() may wait */
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

enum ed_code ed_feed_open(struct ed_store *st, int64_t id, int64_t base, bool threaded,
			  struct ed_feed **out, struct ed_err *err)
{
	struct ed_feed *f = calloc(1, sizeof(*f));
	*out = NULL;
	if (!f)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	enum ed_code rc = ED_OK;
	size_t nb = threaded ? NBATCH : 1;
	for (size_t i = 0; i < nb; i++)
		if (!(f->b[i].s = malloc(BATCH_ROWS * sizeof(*f->b[i].s)))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto fail;
		}
	f->req_tail = &f->reqs;
	if ((rc = ed_store_cursor_open(st, id, base, threaded, &f->cur, err)))
		goto fail;
	if (ed_store_cursor_owns(f->cur)) {
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
		f->nreq++;
		f->nserved++;
		return ED_OK;
	}
	pthread_mutex_lock(&f->mu);
	f->nreq++;
	*f->req_tail = d;
	f->req_tail = &d->next;
	if (!f->unserved)
		f->unserved = d;
	if (f->sleeping)
		pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->mu);
	return ED_OK;
}

/* Frees every request and the blocks they live in. */
static void free_requests(struct ed_feed *f)
{
	for (struct ed_detail *d = f->reqs; d; d = d->next)
		ed_side_release(&d->side);
	for (struct req_block *b = f->blocks, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	f->reqs = f->unserved = NULL;
	f->req_tail = &f->reqs;
	f->blocks = NULL;
	f->nfree = 0;
}

enum ed_code ed_feed_settle(struct ed_feed *f, struct ed_err *err)
{
	if (f->threaded) {
		pthread_mutex_lock(&f->mu);
		while (f->nserved != f->nreq && !f->done)
			pthread_cond_wait(&f->filled, &f->mu);
		pthread_mutex_unlock(&f->mu);
	}
	if (f->req_rc)
		return ed_err_set(err, f->req_rc, "%s", f->req_err.msg);
	if (f->nserved != f->nreq)
		return ed_err_set(err, ED_STORE, "reading items: a feed stopped before its requests");
	return ED_OK;
}

void ed_feed_forget(struct ed_feed *f)
{
	free_requests(f);
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
	ed_store_cursor_close(f->cur);
	for (size_t i = 0; i < NBATCH; i++) {
		free(f->b[i].s);
		free(f->b[i].arena);
	}
	free_requests(f);
	free(f);
}
