/* SPDX-License-Identifier: MIT */
/*
 * Keyed row fingerprints and their deterministic sample (issue 15, section 2:
 * production rows present in staging). Each row of the named columns becomes
 * HMAC-SHA256(store key, canonical values), of which the first 8 bytes are
 * kept, and only when they fall below a threshold: a row present on both
 * sides is then sampled on both sides, and the overlap of the two samples
 * estimates the overlap of the tables. No value is kept: the caller hands a
 * row's values in and drops them at once.
 *
 * The collectors (collector/rows.c, collector/data_sqlite.c) build samples
 * and store them as items of kind "rows"; the differ compares them.
 */
#ifndef ED_ROWSAMPLE_H
#define ED_ROWSAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/hash.h"

/* Most fingerprints a sample keeps, and the default threshold (1/16 of the hash space). */
#define ED_ROWS_SAMPLE_MAX 65536
#define ED_ROWS_THRESHOLD_DEFAULT (UINT64_MAX / 16 + 1)

/* One column value of a row: NULL (a distinct value, never skipped) or bytes. */
struct ed_rowval {
	const void *p; /* NULL: SQL NULL */
	size_t len;
};

/*
 * A sample being built. threshold halves whenever more than max
 * fingerprints fall below it (those above the new threshold are dropped), so
 * the sample stays bounded and is still the same function of the rows.
 */
struct ed_rowsample {
	uint64_t *v;        /* fingerprints below threshold; sorted after ed_rowsample_finish() */
	size_t n, cap;
	size_t max;         /* ED_ROWS_SAMPLE_MAX unless set */
	uint64_t threshold; /* keep fingerprints < threshold */
	uint64_t rows;      /* rows seen */
	struct ed_mac *mac; /* HMAC-SHA256 under mac_key, started again for each row */
	const uint8_t *mac_key;
};

/* An empty sample with threshold and max (0: the defaults). */
void ed_rowsample_init(struct ed_rowsample *s, uint64_t threshold, size_t max);
void ed_rowsample_release(struct ed_rowsample *s);

/*
 * Adds one row of ncols values: its keyed fingerprint (the first 8 bytes,
 * big-endian, of HMAC-SHA256(key, for each value: 0x00 for NULL, or 0x01, a
 * 4-byte big-endian length and the bytes)) joins the sample when below the
 * threshold. The values are hashed where they are, never copied. key must
 * stay alive while the sample is built. ED_NOMEM, ED_IO (libcrypto).
 */
enum ed_code ed_rowsample_add(struct ed_rowsample *s, const uint8_t key[ED_KEY_LEN],
			      const struct ed_rowval *vals, size_t ncols, struct ed_err *err);

/* Sorts the sample (duplicates kept: rows may repeat). */
void ed_rowsample_finish(struct ed_rowsample *s);

/* The estimated share of candidate rows that equal reference rows. */
struct ed_overlap {
	size_t sample;   /* candidate fingerprints compared (below both thresholds) */
	size_t matched;  /* of which the reference sample holds one */
	double share;    /* matched / sample; 0 when sample is 0 */
	double lo, hi;   /* its 95% Wilson score interval */
};

/*
 * Compares two finished samples (each sorted, with its threshold): only
 * fingerprints below the lower of the two thresholds count, so both sides
 * are sampled alike. Each candidate fingerprint matches at most one equal
 * reference fingerprint.
 */
void ed_rowsample_overlap(const uint64_t *ref, size_t nref, uint64_t ref_threshold,
			  const uint64_t *cand, size_t ncand, uint64_t cand_threshold,
			  struct ed_overlap *out);

/*
 * The value of a "rows" item: a JSON object
 * {"rows":N,"sample":n,"threshold":T,"fingerprints":"BASE64"}, where
 * fingerprints is the sorted sample, 8 bytes big-endian each, and T the
 * threshold they are below. Appends it to out; 0, or -1 out of memory.
 */
int ed_rows_value_format(const struct ed_rowsample *s, struct ed_buf *out);

/* A "rows" item's value, read back. */
struct ed_rows_value {
	uint64_t rows;      /* rows read */
	uint64_t threshold; /* fingerprints are below it */
	uint64_t *fp;       /* the sample, sorted (malloc'd) */
	size_t n;           /* its size */
};
/*
 * Reads value into out: 1, 0 when it is not such a value (out empty), -1
 * out of memory. Release with ed_rows_value_release().
 */
int ed_rows_value_parse(const char *value, struct ed_rows_value *out);
void ed_rows_value_release(struct ed_rows_value *v);

/*
 * The OBJECT of a rows key "ENGINE:NAME/rows/OBJECT" (a pointer into key:
 * "public.customer(email)"), or NULL when key is not one.
 */
const char *ed_rows_key_object(const char *key);

#endif
