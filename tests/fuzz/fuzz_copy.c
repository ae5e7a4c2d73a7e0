/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the decoder of COPY's text format (sensitive rows,
 * collector/rows.c). The first byte picks the number of columns (1 to 8),
 * the second the chunk size; the rest is psql's output. Fed whole and in
 * chunks, the same rows come out; a decoded field is never longer than its
 * text.
 */
#include <stdint.h>
#include <string.h>

#include "ed/pgschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint64_t rows, hash;
	size_t text; /* bytes of input: no decoded row is longer */
};

static enum ed_code on_row(void *ctx, const struct ed_rowval *v, size_t n, struct ed_err *err)
{
	(void)err;
	struct seen *s = ctx;
	size_t total = 0;
	s->rows++;
	for (size_t i = 0; i < n; i++) {
		s->hash = s->hash * 1099511628211u + (v[i].p ? v[i].len + 1 : 0);
		for (size_t k = 0; v[i].p && k < v[i].len; k++)
			s->hash = s->hash * 31 + ((const uint8_t *)v[i].p)[k];
		total += v[i].len;
	}
	if (total > s->text)
		__builtin_trap();
	return ED_OK;
}

static enum ed_code decode(const char *p, size_t len, size_t ncols, size_t step, struct seen *s)
{
	struct ed_copy_reader r;
	struct ed_err err;
	*s = (struct seen){.text = len};
	enum ed_code rc = ed_copy_init(&r, ncols, on_row, s, &err);
	for (size_t at = 0; !rc && at < len; at += step)
		rc = ed_copy_feed(&r, p + at, len - at > step ? step : len - at, &err);
	if (!rc)
		rc = ed_copy_finish(&r, &err);
	ed_copy_release(&r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t ncols = (size_t)(data[0] % 8) + 1, step = (size_t)(data[1] % 17) + 1;
	const char *p = (const char *)data + 2;
	size_t len = size - 2;
	struct seen whole, chunked;
	enum ed_code a = decode(p, len, ncols, len ? len : 1, &whole);
	enum ed_code b = decode(p, len, ncols, step, &chunked);
	if (a != b || (a == ED_OK && (whole.rows != chunked.rows || whole.hash != chunked.hash)))
		__builtin_trap();
	return 0;
}
