/* SPDX-License-Identifier: MIT */
/*
 * Sensitive rows of PostgreSQL (kind "rows"): COPY's text output streamed
 * through psql, decoded row by row, fingerprinted and wiped at once. See
 * ed_rows_postgres_collect() in ed/pgschema.h.
 */
#include <stdlib.h>
#include <string.h>

#include "data_impl.h"
#include "ed/pgschema.h"
#include "ed/profile.h"
#include "ed/rowsample.h"

/* The longest row accepted (PostgreSQL's own limit for a field is 1 GB). */
#define ED_COPY_LINE_MAX (64u * 1024 * 1024)

enum ed_code ed_copy_init(struct ed_copy_reader *r, size_t ncols,
			  enum ed_code (*row)(void *ctx, const struct ed_rowval *vals, size_t n,
					      struct ed_err *err),
			  void *ctx, struct ed_err *err)
{
	*r = (struct ed_copy_reader){.ncols = ncols, .row = row, .ctx = ctx, .line = ED_BUF_INIT};
	r->line.max = ED_COPY_LINE_MAX;
	if (!ncols || !(r->vals = calloc(ncols, sizeof(*r->vals))))
		return ed_err_set(err, ncols ? ED_NOMEM : ED_USAGE,
				  ncols ? "out of memory" : "COPY: no columns");
	return ED_OK;
}

static void wipe_line(struct ed_buf *b)
{
	if (b->p && b->len)
		explicit_bzero(b->p, b->len);
	b->len = 0;
}

void ed_copy_release(struct ed_copy_reader *r)
{
	if (r->line.p && r->line.cap)
		explicit_bzero(r->line.p, r->line.cap);
	ed_buf_release(&r->line);
	free(r->vals);
	*r = (struct ed_copy_reader){0};
}

/* Decodes the field p[0..n) in place; returns its decoded length. */
static size_t unescape(char *p, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c != '\\' || i + 1 == n) {
			p[w++] = c;
			continue;
		}
		c = p[++i];
		switch (c) {
		case 'b': p[w++] = '\b'; break;
		case 'f': p[w++] = '\f'; break;
		case 'n': p[w++] = '\n'; break;
		case 'r': p[w++] = '\r'; break;
		case 't': p[w++] = '\t'; break;
		case 'v': p[w++] = '\v'; break;
		case 'x':
			if (i + 1 < n && ed_hex_value(p[i + 1]) >= 0) {
				int v = ed_hex_value(p[++i]);
				if (i + 1 < n && ed_hex_value(p[i + 1]) >= 0)
					v = v * 16 + ed_hex_value(p[++i]);
				p[w++] = (char)v;
			} else {
				p[w++] = 'x';
			}
			break;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';
				for (int k = 0; k < 2 && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7'; k++)
					v = v * 8 + (p[++i] - '0');
				p[w++] = (char)v;
			} else {
				p[w++] = c; /* any other escaped byte stands for itself */
			}
		}
	}
	return w;
}

/* One whole row (without its newline) in r->line: split, decode, hand over, wipe. */
static enum ed_code one_row(struct ed_copy_reader *r, struct ed_err *err)
{
	char *p = r->line.p ? r->line.p : (char *)"", *end = p + r->line.len;
	size_t nf = 0;
	for (char *f = p;;) {
		char *tab = memchr(f, '\t', (size_t)(end - f));
		char *stop = tab ? tab : end;
		if (nf == r->ncols) {
			wipe_line(&r->line);
			return ed_err_set(err, ED_PARSE, "COPY row %llu has more than %zu fields",
					  (unsigned long long)r->rows + 1, r->ncols);
		}
		size_t n = (size_t)(stop - f);
		if (n == 2 && f[0] == '\\' && f[1] == 'N')
			r->vals[nf] = (struct ed_rowval){NULL, 0};
		else
			r->vals[nf] = (struct ed_rowval){f, unescape(f, n)};
		nf++;
		if (!tab)
			break;
		f = tab + 1;
	}
	if (nf != r->ncols) {
		wipe_line(&r->line);
		return ed_err_set(err, ED_PARSE, "COPY row %llu has %zu fields, not %zu",
				  (unsigned long long)r->rows + 1, nf, r->ncols);
	}
	enum ed_code rc = r->row(r->ctx, r->vals, nf, err);
	wipe_line(&r->line);
	r->rows++;
	return rc;
}

/*
 * Appends n bytes to the row being read. Grown by hand, not by realloc():
 * the old block held values, and is wiped before it goes back to malloc.
 */
static int line_add(struct ed_buf *b, const char *data, size_t n)
{
	if (n > b->max - b->len)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = malloc(cap);
		if (!p)
			return -1;
		if (b->len)
			memcpy(p, b->p, b->len);
		if (b->p) {
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

enum ed_code ed_copy_feed(struct ed_copy_reader *r, const char *data, size_t len,
			  struct ed_err *err)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		if (line_add(&r->line, data, n)) {
			bool big = n > r->line.max - r->line.len;
			wipe_line(&r->line);
			return big ? ed_err_set(err, ED_TOOBIG, "COPY row %llu is longer than %u bytes",
						(unsigned long long)r->rows + 1, ED_COPY_LINE_MAX)
				   : ed_err_set(err, ED_NOMEM, "out of memory");
		}
		if (!nl)
			return ED_OK;
		enum ed_code rc = one_row(r, err);
		if (rc)
			return rc;
		data = nl + 1;
		len -= n + 1;
	}
	return ED_OK;
}

enum ed_code ed_copy_finish(struct ed_copy_reader *r, struct ed_err *err)
{
	if (r->line.len) {
		wipe_line(&r->line);
		return ed_err_set(err, ED_PARSE, "COPY output ends inside row %llu",
				  (unsigned long long)r->rows + 1);
	}
	return ED_OK;
}

/* What one entry's COPY feeds. */
struct entry_run {
	struct ed_copy_reader copy;
	struct ed_rowsample sample;
	const uint8_t *key;
};

static enum ed_code add_row(void *ctx, const struct ed_rowval *vals, size_t n, struct ed_err *err)
{
	struct entry_run *e = ctx;
	return ed_rowsample_add(&e->sample, e->key, vals, n, err);
}

static enum ed_code feed(void *ctx, const char *data, size_t len, struct ed_err *err)
{
	struct entry_run *e = ctx;
	return ed_copy_feed(&e->copy, data, len, err);
}

/* Sorts the entries (their items then go out in key order: their keys share a prefix). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static enum ed_code rows_emit(struct ed_sink *sink, const char *engine, const char *label,
			  const char *entry, const struct ed_rowsample *s, struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT, value = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (ed_buf_addf(&key, "%s:%s/rows/%s", engine, label, entry) ||
	    ed_rows_value_format(s, &value)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	struct ed_item it = {.kind = ED_KIND_ROWS, .key = key.p, .key_len = key.len,
			     .value = value.p};
	ed_fp_of(value.p, value.len, &it.fp);
	rc = sink->emit(sink, &it, err);
out:
	ed_buf_release(&key);
	ed_buf_release(&value);
	return rc;
}

enum ed_code ed_rows_each(const char *engine, const char *label, const char *const *entries,
			  size_t nentries, const uint8_t *key, ed_rows_fill_fn fill, void *ctx,
			  struct ed_sink *sink, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	if (!nentries)
		return ED_OK;
	if (!key)
		return ed_err_set(err, ED_USAGE, "%s:%s: no store key to fingerprint rows", engine,
				  label);
	const char **order = malloc(nentries * sizeof(*order));
	if (!order)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	memcpy(order, entries, nentries * sizeof(*order));
	qsort(order, nentries, sizeof(*order), cmp_str);
	for (size_t i = 0; i < nentries && !rc; i++) {
		struct ed_sensitive sv;
		struct ed_err perr = {ED_OK, ""};
		if (ed_sensitive_parse(order[i], &sv, &perr)) {
			rc = ed_err_set(err, ED_USAGE, "sensitive '%s': %s", order[i], perr.msg);
			break;
		}
		struct ed_rowsample s;
		bool read = false;
		ed_rowsample_init(&s, 0, 0);
		rc = fill(ctx, order[i], &sv, &s, &read, err);
		if (!rc && read) {
			ed_rowsample_finish(&s);
			rc = rows_emit(sink, engine, label, order[i], &s, err);
		}
		ed_rowsample_release(&s);
	}
	free(order);
	return rc;
}

/* What the COPY of one PostgreSQL database needs. */
struct pg_rows {
	struct ed_source *src;
	const char *label, *conninfo;
	const uint8_t *key;
	struct ed_sink *sink;
};

static enum ed_code pg_fill(void *ctx, const char *entry, const struct ed_sensitive *sv,
			    struct ed_rowsample *s, bool *read, struct ed_err *err)
{
	struct pg_rows *pg = ctx;
	struct ed_buf q = ED_BUF_INIT;
	int bad = ed_buf_adds(&q, "COPY (SELECT ");
	for (size_t c = 0; c < sv->ncols; c++)
		bad |= ed_buf_addf(&q, "%s\"%s\"", c ? ", " : "", sv->cols[c]);
	bad |= ed_buf_addf(&q, " FROM \"%s\".\"%s\") TO STDOUT", sv->schema, sv->table);
	if (bad) {
		ed_buf_release(&q);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	struct entry_run e = {.key = pg->key};
	int status = 0;
	struct ed_err rerr = {ED_OK, ""};
	e.sample = *s;
	enum ed_code rc = ed_copy_init(&e.copy, sv->ncols, add_row, &e, err);
	if (!rc && (rc = ed_pg_stream(pg->src, pg->label, pg->conninfo, ed_buf_str(&q), pg->sink,
				      feed, &e, &status, &rerr)))
		ed_err_set(err, rc, "%s (sensitive %s)", rerr.msg, entry);
	if (!rc && status)
		/* A table that is missing or may not be read: the others still count. */
		ed_sink_warn(pg->sink, "sensitive %s not fingerprinted: %s", entry, rerr.msg);
	else if (!rc)
		*read = !(rc = ed_copy_finish(&e.copy, err));
	*s = e.sample;
	ed_copy_release(&e.copy);
	ed_buf_release(&q);
	return rc;
}

enum ed_code ed_rows_postgres_collect(struct ed_source *src, const char *label,
				      const char *conninfo, const char *const *entries,
				      size_t nentries, const uint8_t *key, struct ed_sink *sink,
				      struct ed_err *err)
{
	struct pg_rows pg = {src, label, conninfo, key, sink};
	return ed_rows_each("postgres", label, entries, nentries, key, pg_fill, &pg, sink, err);
}
