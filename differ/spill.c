/* SPDX-License-Identifier: MIT */
/*
 * A drift's entries written out to a temporary file once there are many, so
 * that a diff's memory does not grow with its drift, and the reader that
 * gives entries one at a time wherever they are, with their kept texts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ed/atomic.h"
#include "ed/diff.h"

/* Records are written in blocks of about this size, and read in windows of it. */
#define SPILL_BLOCK (256u << 10)
/* A NULL string in a record. */
#define NO_STR UINT32_MAX

/* One file of records. */
struct sfile {
	int fd;           /* an unlinked file, -1 none */
	uint64_t end;     /* bytes in the file */
	unsigned char *w; /* records written but not yet in the file */
	size_t wlen, wcap;
};

struct ed_drift_spill {
	struct sfile f;    /* the entries' records */
	struct sfile next; /* their rewrite, while one is under way (ed_drift_spill_put()) */
	uint64_t *off;     /* where each entry's record starts in f */
	uint64_t *noff;    /* in next, while a rewrite is under way */
	size_t n, cap;
	unsigned gen;      /* how many rewrites replaced f: a reader's window of an older f is stale */
	char dir[256];     /* the folder of the files, for messages */
};

size_t ed_drift_spilled(const struct ed_drift *d)
{
	return d->spill ? d->spill->n : 0;
}

void ed_drift_entry_release(struct ed_drift_entry *e)
{
	free(e->kind);
	free(e->key);
	free(e->rule);
	free(e->reason);
	free(e->role);
	ed_side_release(&e->ref);
	ed_side_release(&e->cand);
	ed_kept_free(e->kept);
	memset(e, 0, sizeof(*e));
}

static enum ed_code spill_fail(const struct ed_drift_spill *s, struct ed_err *err)
{
	if (errno == ENOMEM)
		return ed_err_set(err, ED_NOMEM, "out of memory writing drift out");
	return ed_err_set(err, ED_IO, "%s: a temporary file of drift entries: %s", s->dir,
			  strerror(errno));
}

static int spill_flush(struct sfile *s)
{
	size_t done = 0;
	while (done < s->wlen) {
		ssize_t k = pwrite(s->fd, s->w + done, s->wlen - done, (off_t)(s->end + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)k;
	}
	s->end += s->wlen;
	s->wlen = 0;
	return 0;
}

static enum ed_code spill_open(struct ed_drift *d, struct ed_err *err)
{
	if (d->spill)
		return ED_OK;
	struct ed_drift_spill *s = calloc(1, sizeof(*s));
	if (!s)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	const char *dir = getenv("TMPDIR");
	snprintf(s->dir, sizeof(s->dir), "%s", dir && *dir ? dir : "/tmp");
	s->next.fd = -1;
	if ((s->f.fd = ed_tmpfile_open(s->dir)) < 0) {
		enum ed_code rc = spill_fail(s, err);
		free(s);
		return rc;
	}
	d->spill = s;
	return ED_OK;
}

void ed_drift_spill_free(struct ed_drift *d)
{
	struct ed_drift_spill *s = d->spill;
	if (!s)
		return;
	ed_drift_spill_rewrite_end(d, false, NULL);
	close(s->f.fd);
	free(s->off);
	free(s->f.w);
	free(s);
	d->spill = NULL;
}

/* The record being built: appended to s->w, its length patched in at the end. */
struct rec {
	struct sfile *s;
	bool oom;
};

static void put_bytes(struct rec *r, const void *p, size_t n)
{
	struct sfile *s = r->s;
	if (r->oom)
		return;
	if (s->wlen + n > s->wcap) {
		size_t ncap = s->wcap ? s->wcap : SPILL_BLOCK;
		while (ncap < s->wlen + n)
			ncap *= 2;
		unsigned char *w = realloc(s->w, ncap);
		if (!w) {
			r->oom = true;
			return;
		}
		s->w = w;
		s->wcap = ncap;
	}
	memcpy(s->w + s->wlen, p, n);
	s->wlen += n;
}

static void put_u32(struct rec *r, uint32_t v)
{
	put_bytes(r, &v, sizeof(v));
}

static void put_strn(struct rec *r, const char *p, size_t n)
{
	if (!p) {
		put_u32(r, NO_STR);
		return;
	}
	put_u32(r, (uint32_t)n);
	put_bytes(r, p, n);
}

static void put_str(struct rec *r, const char *p)
{
	put_strn(r, p, p ? strlen(p) : 0);
}

static void put_side(struct rec *r, const struct ed_side *sd)
{
	unsigned char head[2] = {sd->present, (unsigned char)sd->ftype};
	put_bytes(r, head, sizeof(head));
	put_u32(r, sd->mode);
	put_bytes(r, &sd->size, sizeof(sd->size));
	put_bytes(r, sd->fp.b, ED_FP_LEN);
	put_str(r, sd->value);
	put_str(r, sd->attrs);
	put_str(r, sd->error);
	put_str(r, sd->owner);
	put_str(r, sd->group);
	put_str(r, sd->target);
}

/* Appends e's record to s; its offset in the file is *at. */
static enum ed_code put_entry(const struct ed_drift_spill *sp, struct sfile *s,
			      const struct ed_drift_entry *e, uint64_t *at, struct ed_err *err)
{
	if (s->wlen >= SPILL_BLOCK && spill_flush(s))
		return spill_fail(sp, err);
	struct rec r = {.s = s};
	size_t start = s->wlen;
	*at = s->end + start;
	put_u32(&r, 0);
	unsigned char head[3] = {(unsigned char)e->change, e->ignored, (unsigned char)e->direction};
	put_bytes(&r, head, sizeof(head));
	put_u32(&r, e->fields);
	put_bytes(&r, e->expires, sizeof(e->expires));
	put_str(&r, e->kind);
	put_strn(&r, e->key, e->key_len);
	put_str(&r, e->severity);
	put_str(&r, e->rule);
	put_str(&r, e->reason);
	put_str(&r, e->role);
	put_side(&r, &e->ref);
	put_side(&r, &e->cand);
	if (r.oom) {
		s->wlen = start;
		return ed_err_set(err, ED_NOMEM, "out of memory writing drift out");
	}
	uint32_t len = (uint32_t)(s->wlen - start - sizeof(uint32_t));
	memcpy(s->w + start, &len, sizeof(len));
	return ED_OK;
}

static enum ed_code grow_off(struct ed_drift_spill *s, size_t n, struct ed_err *err)
{
	if (n <= s->cap)
		return ED_OK;
	size_t ncap = s->cap ? s->cap : 4096;
	while (ncap < n)
		ncap *= 2;
	uint64_t *o = realloc(s->off, ncap * sizeof(*o));
	if (!o)
		return ed_err_set(err, ED_NOMEM, "out of memory writing drift out");
	s->off = o;
	s->cap = ncap;
	return ED_OK;
}

enum ed_code ed_drift_spill_entries(struct ed_drift *d, struct ed_err *err)
{
	size_t spilled = ed_drift_spilled(d), nv = d->n - spilled;
	enum ed_code rc = spill_open(d, err);
	if (!rc)
		rc = grow_off(d->spill, spilled + nv, err);
	if (rc)
		return rc;
	struct ed_drift_spill *s = d->spill;
	for (size_t i = 0; i < nv; i++)
		if ((rc = put_entry(s, &s->f, &d->v[i], &s->off[spilled + i], err)))
			return rc; /* nothing counted yet: the entries are still v's */
	for (size_t i = 0; i < nv; i++)
		ed_drift_entry_release(&d->v[i]);
	s->n = spilled + nv;
	return ED_OK;
}

enum ed_code ed_drift_spill_rewrite_begin(struct ed_drift *d, struct ed_err *err)
{
	struct ed_drift_spill *s = d->spill;
	if (spill_flush(&s->f))
		return spill_fail(s, err);
	if (!(s->noff = malloc((s->n ? s->n : 1) * sizeof(*s->noff))))
		return ed_err_set(err, ED_NOMEM, "out of memory writing drift out");
	if ((s->next.fd = ed_tmpfile_open(s->dir)) < 0) {
		enum ed_code rc = spill_fail(s, err);
		free(s->noff);
		s->noff = NULL;
		return rc;
	}
	return ED_OK;
}

enum ed_code ed_drift_spill_put(struct ed_drift *d, size_t i, const struct ed_drift_entry *e,
				struct ed_err *err)
{
	struct ed_drift_spill *s = d->spill;
	return put_entry(s, &s->next, e, &s->noff[i], err);
}

enum ed_code ed_drift_spill_rewrite_end(struct ed_drift *d, bool keep, struct ed_err *err)
{
	struct ed_drift_spill *s = d->spill;
	if (s->next.fd < 0)
		return ED_OK;
	enum ed_code rc = ED_OK;
	if (keep && spill_flush(&s->next)) {
		rc = spill_fail(s, err);
		keep = false;
	}
	struct sfile gone = keep ? s->f : s->next;
	if (keep) {
		s->f = s->next;
		free(s->off);
		s->off = s->noff;
		s->cap = s->n ? s->n : 1;
		s->gen++;
	} else {
		free(s->noff);
	}
	close(gone.fd);
	free(gone.w);
	s->next = (struct sfile){.fd = -1};
	s->noff = NULL;
	return rc;
}

enum ed_code ed_drift_spill_reorder(struct ed_drift *d, const size_t *order, struct ed_err *err)
{
	struct ed_drift_spill *s = d->spill;
	/* Place i takes the offset at order[i]: cycle by cycle, with a mark of what moved. */
	unsigned char *done = calloc(s->n / 8 + 1, 1);
	if (!done)
		return ed_err_set(err, ED_NOMEM, "out of memory ordering drift");
	for (size_t i = 0; i < s->n; i++) {
		if (((done[i / 8] >> (i % 8)) & 1) || order[i] == i)
			continue;
		uint64_t first = s->off[i];
		for (size_t j = i;;) {
			done[j / 8] |= (unsigned char)(1u << (j % 8));
			size_t k = order[j];
			if (k == i) {
				s->off[j] = first;
				break;
			}
			s->off[j] = s->off[k];
			j = k;
		}
	}
	free(done);
	return ED_OK;
}

/* --- reading --- */

static const struct ed_drift_entry empty_entry = {
	.kind = (char *)"", .key = (char *)"", .severity = "block", .rule = (char *)""};

static const struct ed_drift_entry *reader_fail(struct ed_drift_reader *r, enum ed_code rc,
						const char *what)
{
	if (!r->rc) {
		r->rc = rc;
		if (rc == ED_NOMEM)
			ed_err_set(&r->err, rc, "out of memory reading drift");
		else
			ed_err_set(&r->err, rc, "%s: a temporary file of drift entries: %s",
				   r->d->spill->dir, what);
	}
	r->at = SIZE_MAX;
	r->cur = &empty_entry;
	return r->cur;
}

void ed_drift_reader_init(struct ed_drift_reader *r, const struct ed_drift *d, bool kept)
{
	memset(r, 0, sizeof(*r));
	r->d = d;
	r->kept = kept && d->kept_from;
	r->at = SIZE_MAX;
}

void ed_drift_reader_release(struct ed_drift_reader *r)
{
	ed_kept_free(r->k);
	free(r->str);
	free(r->win);
	memset(r, 0, sizeof(*r));
	r->at = SIZE_MAX;
}

enum ed_code ed_drift_reader_failed(const struct ed_drift_reader *r, struct ed_err *err)
{
	if (r->rc && err)
		*err = r->err;
	return r->rc;
}

/* The bytes [off, off + n) of the spill file, from the window; NULL on failure. */
static const unsigned char *window(struct ed_drift_reader *r, uint64_t off, size_t n)
{
	struct sfile *s = &r->d->spill->f;
	if (r->gen != r->d->spill->gen) { /* the file was rewritten: the window is of the old one */
		r->gen = r->d->spill->gen;
		r->win_len = 0;
	}
	if (off >= r->win_off && off + n <= r->win_off + r->win_len)
		return r->win + (off - r->win_off);
	if (off + n > s->end && spill_flush(s))
		return NULL;
	size_t want = n > SPILL_BLOCK ? n : SPILL_BLOCK;
	if (want > r->win_cap) {
		unsigned char *w = realloc(r->win, want);
		if (!w) {
			errno = ENOMEM; /* as the caller tells it from a failed read */
			return NULL;
		}
		r->win = w;
		r->win_cap = want;
	}
	r->win_off = off;
	r->win_len = 0;
	while (r->win_len < want && off + r->win_len < s->end) {
		ssize_t k = pread(s->fd, r->win + r->win_len, want - r->win_len,
				  (off_t)(off + r->win_len));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return NULL;
		}
		r->win_len += (size_t)k;
	}
	if (r->win_len < n) {
		errno = EIO;
		return NULL;
	}
	return r->win;
}

/* Reads records' fields in order; bad set past the end. */
struct cur {
	const unsigned char *p, *end;
	char *str; /* where the next string goes */
	bool bad;
};

static void get_bytes(struct cur *c, void *out, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p, n);
	c->p += n;
}

static char *get_str(struct cur *c, size_t *len)
{
	uint32_t n;
	get_bytes(c, &n, sizeof(n));
	if (c->bad || n == NO_STR)
		return NULL;
	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		return NULL;
	}
	char *s = c->str;
	memcpy(s, c->p, n);
	s[n] = '\0';
	c->p += n;
	c->str += n + 1;
	if (len)
		*len = n;
	return s;
}

static void get_side(struct cur *c, struct ed_side *sd)
{
	unsigned char head[2];
	get_bytes(c, head, sizeof(head));
	sd->present = head[0];
	sd->ftype = (enum ed_ftype)head[1];
	get_bytes(c, &sd->mode, sizeof(sd->mode));
	get_bytes(c, &sd->size, sizeof(sd->size));
	get_bytes(c, sd->fp.b, ED_FP_LEN);
	sd->value = get_str(c, NULL);
	sd->attrs = get_str(c, NULL);
	sd->error = get_str(c, NULL);
	sd->owner = get_str(c, NULL);
	sd->group = get_str(c, NULL);
	sd->target = get_str(c, NULL);
}

/* Reads spilled entry i into r->e; false on failure (r failed). */
static bool read_spilled(struct ed_drift_reader *r, size_t i)
{
	struct ed_drift_spill *s = r->d->spill;
	uint64_t off = s->off[i];
	const unsigned char *p = window(r, off, sizeof(uint32_t));
	uint32_t len;
	if (!p) {
		reader_fail(r, errno == ENOMEM ? ED_NOMEM : ED_IO, strerror(errno));
		return false;
	}
	memcpy(&len, p, sizeof(len));
	if (!(p = window(r, off + sizeof(len), len))) {
		reader_fail(r, errno == ENOMEM ? ED_NOMEM : ED_IO, strerror(errno));
		return false;
	}
	/* Every string of the record, each with its NUL: 16 at most. */
	size_t need = (size_t)len + 32;
	if (need > r->str_cap) {
		char *str = realloc(r->str, need);
		if (!str) {
			reader_fail(r, ED_NOMEM, NULL);
			return false;
		}
		r->str = str;
		r->str_cap = need;
	}
	struct cur c = {.p = p, .end = p + len, .str = r->str};
	struct ed_drift_entry *e = &r->e;
	memset(e, 0, sizeof(*e));
	unsigned char head[3];
	get_bytes(&c, head, sizeof(head));
	e->change = (enum ed_change)head[0];
	e->ignored = head[1];
	e->direction = (enum ed_direction)head[2];
	get_bytes(&c, &e->fields, sizeof(e->fields));
	get_bytes(&c, e->expires, sizeof(e->expires));
	e->kind = get_str(&c, NULL);
	e->key = get_str(&c, &e->key_len);
	e->severity = get_str(&c, NULL);
	e->rule = get_str(&c, NULL);
	e->reason = get_str(&c, NULL);
	e->role = get_str(&c, NULL);
	get_side(&c, &e->ref);
	get_side(&c, &e->cand);
	if (c.bad || !e->kind || !e->key) {
		reader_fail(r, ED_IO, "a record is damaged");
		return false;
	}
	return true;
}

const struct ed_drift_entry *ed_drift_at(struct ed_drift_reader *r, size_t i)
{
	const struct ed_drift *d = r->d;
	if (r->rc)
		return &empty_entry;
	if (i == r->at)
		return r->cur;
	ed_kept_free(r->k);
	r->k = NULL;
	size_t spilled = ed_drift_spilled(d);
	const struct ed_drift_entry *e;
	if (i < spilled) {
		if (!read_spilled(r, i))
			return r->cur;
		e = &r->e;
	} else {
		e = &d->v[i - spilled];
	}
	r->at = i;
	r->cur = e;
	if (r->kept && !e->kept && (!e->ignored || d->kept_ignored)) {
		struct ed_err err;
		if (ed_drift_kept_fetch(d->kept_from, e, &r->k, &err))
			return reader_fail(r, ED_NOMEM, NULL);
		if (r->k) {
			if (e != &r->e)
				r->e = *e; /* a shallow copy: its strings stay the drift's */
			r->e.kept = r->k;
			r->cur = &r->e;
		}
	}
	return r->cur;
}
