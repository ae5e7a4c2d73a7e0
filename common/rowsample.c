/* SPDX-License-Identifier: MIT */
/* Keyed row fingerprints, their threshold sample, and the overlap estimate. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ed/base64.h"
#include "ed/datashape.h"
#include "ed/rowsample.h"

void ed_rowsample_init(struct ed_rowsample *s, uint64_t threshold, size_t max)
{
	*s = (struct ed_rowsample){.max = max ? max : ED_ROWS_SAMPLE_MAX,
				   .threshold = threshold ? threshold : ED_ROWS_THRESHOLD_DEFAULT};
}

void ed_rowsample_release(struct ed_rowsample *s)
{
	ed_mac_free(s->mac);
	free(s->v);
	*s = (struct ed_rowsample){0};
}

/* Keeps the fingerprints below the threshold, halved until they fit in max. */
static void shrink(struct ed_rowsample *s)
{
	while (s->n > s->max && s->threshold > 1) {
		s->threshold /= 2;
		size_t w = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i] < s->threshold)
				s->v[w++] = s->v[i];
		s->n = w;
	}
}

enum ed_code ed_rowsample_add(struct ed_rowsample *s, const uint8_t key[ED_KEY_LEN],
			      const struct ed_rowval *vals, size_t ncols, struct ed_err *err)
{
	if (s->mac && s->mac_key == key) {
		if (!ed_mac_reset(s->mac))
			return ed_err_set(err, ED_IO, "HMAC-SHA256 failed in libcrypto");
	} else {
		ed_mac_free(s->mac);
		s->mac_key = key;
		if (!(s->mac = ed_mac_new(key)))
			return ed_err_set(err, ED_IO, "HMAC-SHA256 failed in libcrypto");
	}
	/* The canonical encoding, fed piece by piece: 0x00 for NULL, else 0x01, length, bytes. */
	for (size_t i = 0; i < ncols; i++) {
		uint8_t hdr[5] = {vals[i].p ? 1 : 0, (uint8_t)(vals[i].len >> 24),
				  (uint8_t)(vals[i].len >> 16), (uint8_t)(vals[i].len >> 8),
				  (uint8_t)vals[i].len};
		ed_mac_update(s->mac, hdr, vals[i].p ? sizeof(hdr) : 1);
		if (vals[i].p && vals[i].len)
			ed_mac_update(s->mac, vals[i].p, vals[i].len);
	}
	struct ed_fp fp;
	enum ed_code rc = ed_mac_final(s->mac, &fp, err);
	if (rc)
		return rc;
	s->rows++;
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | fp.b[i];
	if (h >= s->threshold)
		return ED_OK;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 1024;
		uint64_t *nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = h;
	shrink(s);
	return ED_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void ed_rowsample_finish(struct ed_rowsample *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
}

void ed_rowsample_overlap(const uint64_t *ref, size_t nref, uint64_t ref_threshold,
			  const uint64_t *cand, size_t ncand, uint64_t cand_threshold,
			  struct ed_overlap *out)
{
	uint64_t t = ref_threshold < cand_threshold ? ref_threshold : cand_threshold;
	size_t i = 0, j = 0, sample = 0, matched = 0;
	/* One merge pass over both sorted samples. */
	while (j < ncand && cand[j] < t) {
		while (i < nref && ref[i] < cand[j])
			i++;
		sample++;
		if (i < nref && ref[i] == cand[j]) {
			matched++;
			i++;
		}
		j++;
	}
	*out = (struct ed_overlap){.sample = sample, .matched = matched};
	if (!sample) {
		out->hi = 1;
		return;
	}
	/* The Wilson score interval, z = 1.96: sound also near 0% and for small samples. */
	double n = (double)sample, p = (double)matched / n, z = 1.96, z2 = z * z;
	double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
	double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
	out->share = p;
	out->lo = centre - half < 0 ? 0 : centre - half;
	out->hi = centre + half > 1 ? 1 : centre + half;
}

int ed_rows_value_format(const struct ed_rowsample *s, struct ed_buf *out)
{
	struct ed_buf raw = ED_BUF_INIT;
	int bad = 0;
	for (size_t i = 0; i < s->n && !bad; i++) {
		uint8_t b[8];
		for (int k = 0; k < 8; k++)
			b[k] = (uint8_t)(s->v[i] >> (56 - 8 * k));
		bad = ed_buf_add(&raw, b, sizeof(b));
	}
	if (!bad)
		bad = ed_buf_addf(out, "{\"rows\":%llu,\"sample\":%zu,\"threshold\":%llu,"
				  "\"fingerprints\":\"",
				  (unsigned long long)s->rows, s->n,
				  (unsigned long long)s->threshold) ||
		      ed_base64_add(out, raw.p ? raw.p : "", raw.len) || ed_buf_adds(out, "\"}");
	ed_buf_release(&raw);
	return bad ? -1 : 0;
}

void ed_rows_value_release(struct ed_rows_value *v)
{
	free(v->fp);
	*v = (struct ed_rows_value){0};
}

static int parse_once(const char *value, struct ed_rows_value *out)
{
	*out = (struct ed_rows_value){0};
	bool oom;
	json_t *j = ed_json_load(value, JSON_REJECT_DUPLICATES, &oom);
	if (!j)
		return oom ? -1 : 0;
	json_t *rows = json_object_get(j, "rows"), *thr = json_object_get(j, "threshold"),
	       *fps = json_object_get(j, "fingerprints");
	int r = 0;
	struct ed_buf raw = ED_BUF_INIT;
	if (!json_is_integer(rows) || !json_is_integer(thr) || !json_is_string(fps) ||
	    json_integer_value(rows) < 0 || json_integer_value(thr) <= 0)
		goto out;
	enum ed_code rc = ed_base64_decode(&raw, json_string_value(fps), json_string_length(fps));
	if (rc) {
		r = rc == ED_NOMEM ? -1 : 0;
		goto out;
	}
	if (raw.len % 8)
		goto out;
	size_t n = raw.len / 8;
	if (n && !(out->fp = malloc(n * sizeof(*out->fp)))) {
		r = -1;
		goto out;
	}
	const uint8_t *b = (const uint8_t *)raw.p;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = 0;
		for (int k = 0; k < 8; k++)
			h = h << 8 | b[8 * i + (size_t)k];
		out->fp[i] = h;
	}
	out->n = n;
	out->rows = (uint64_t)json_integer_value(rows);
	out->threshold = (uint64_t)json_integer_value(thr);
	r = 1;
out:
	ed_buf_release(&raw);
	json_decref(j);
	if (r != 1)
		ed_rows_value_release(out);
	return r;
}

int ed_rows_value_parse(const char *value, struct ed_rows_value *out)
{
	*out = (struct ed_rows_value){0};
	if (!value)
		return 0;
	/*
	 * Once more when it is no sample: an allocation that fails in jansson's
	 * lexer can leave a string short (and the base64 broken) without an error.
	 */
	int r = parse_once(value, out);
	return r ? r : parse_once(value, out);
}

const char *ed_rows_key_object(const char *key)
{
	const char *slash = key ? strchr(key, '/') : NULL;
	if (!slash || strncmp(slash, "/rows/", 6) != 0 || !slash[6])
		return NULL;
	return slash + 6;
}
