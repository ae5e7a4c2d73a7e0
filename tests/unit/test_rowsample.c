/* SPDX-License-Identifier: MIT */
/*
 * Keyed row fingerprints (issue 15, section 2): the sample is a function of
 * the rows and the key only, NULL is a value of its own, the sample stays
 * bounded, and the overlap estimate finds a 5% copy inside its interval and
 * none where there is none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/rowsample.h"
#include "tap.h"

static uint8_t key[ED_KEY_LEN], other_key[ED_KEY_LEN];

/* Adds the row ("user<i>@example.com", phone or NULL). */
static void add_row(struct ed_rowsample *s, const uint8_t *k, const char *prefix, int i, bool null)
{
	char email[64], phone[32];
	snprintf(email, sizeof(email), "%s%d@example.com", prefix, i);
	snprintf(phone, sizeof(phone), "+1555%07d", i);
	struct ed_rowval v[2] = {{email, strlen(email)}, {null ? NULL : phone, null ? 0 : strlen(phone)}};
	struct ed_err err;
	if (ed_rowsample_add(s, k, v, 2, &err)) {
		printf("Bail out! %s\n", err.msg);
		exit(2);
	}
}

static void test_deterministic(void)
{
	struct ed_rowsample a, b, c;
	ed_rowsample_init(&a, 0, 0);
	ed_rowsample_init(&b, 0, 0);
	ed_rowsample_init(&c, 0, 0);
	for (int i = 0; i < 20000; i++)
		add_row(&a, key, "user", i, false);
	for (int i = 19999; i >= 0; i--) /* another order */
		add_row(&b, key, "user", i, false);
	for (int i = 0; i < 20000; i++)
		add_row(&c, other_key, "user", i, false);
	ed_rowsample_finish(&a);
	ed_rowsample_finish(&b);
	ed_rowsample_finish(&c);
	is_int(a.rows, 20000, "rows counted");
	ok(a.n > 20000 / 16 * 8 / 10 && a.n < 20000 / 16 * 12 / 10,
	   "about 1/16 of the rows sampled (%zu of 20000)", a.n);
	ok(a.n == b.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0,
	   "the same rows in another order: the same sample");
	struct ed_overlap o;
	ed_rowsample_overlap(a.v, a.n, a.threshold, c.v, c.n, c.threshold, &o);
	is_int(o.matched, 0, "another key: no fingerprint in common (nothing to test a guess against)");
	ed_rowsample_release(&a);
	ed_rowsample_release(&b);
	ed_rowsample_release(&c);
}

static void test_null(void)
{
	struct ed_rowsample a;
	/* Threshold: everything, to see every fingerprint. */
	ed_rowsample_init(&a, UINT64_MAX, 0);
	struct ed_err err;
	struct ed_rowval null1[2] = {{"x", 1}, {NULL, 0}}, empty[2] = {{"x", 1}, {"", 0}};
	struct ed_rowval split1[2] = {{"ab", 2}, {"c", 1}}, split2[2] = {{"a", 1}, {"bc", 2}};
	ok(!ed_rowsample_add(&a, key, null1, 2, &err) && !ed_rowsample_add(&a, key, empty, 2, &err) &&
		   !ed_rowsample_add(&a, key, split1, 2, &err) &&
		   !ed_rowsample_add(&a, key, split2, 2, &err),
	   "rows added");
	is_int(a.n, 4, "NULLs are fingerprinted, never skipped");
	ok(a.v[0] != a.v[1], "NULL and the empty string differ");
	ok(a.v[2] != a.v[3], "('ab','c') and ('a','bc') differ");
	/* The documented encoding: HMAC of 0x01 "\0\0\0\1" "x" 0x00, its first 8 bytes. */
	struct ed_fp fp;
	ed_fp_keyed(key, "\x01\0\0\0\x01x\0", 7, &fp, &err);
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | fp.b[i];
	ok(h == a.v[0], "a row's fingerprint: HMAC-SHA256 of its canonical encoding");
	ed_rowsample_release(&a);
}

static void test_bounded(void)
{
	struct ed_rowsample a, b;
	ed_rowsample_init(&a, 0, 500);
	ed_rowsample_init(&b, 0, 0);
	for (int i = 0; i < 40000; i++) {
		add_row(&a, key, "user", i, false);
		add_row(&b, key, "user", i, false);
	}
	ed_rowsample_finish(&a);
	ed_rowsample_finish(&b);
	ok(a.n <= 500 && a.n > 100, "at most max fingerprints (%zu)", a.n);
	ok(a.threshold < ED_ROWS_THRESHOLD_DEFAULT, "the threshold was lowered");
	struct ed_overlap o;
	ed_rowsample_overlap(b.v, b.n, b.threshold, a.v, a.n, a.threshold, &o);
	ok(o.sample == a.n && o.matched == a.n,
	   "two thresholds: compared below the lower, the same rows match (%zu of %zu)", o.matched,
	   o.sample);
	ed_rowsample_release(&a);
	ed_rowsample_release(&b);
}

static void test_overlap(void)
{
	/* Production: 20,000 customers. Staging A: 2,000 synthetic. Staging B: 5% copied. */
	struct ed_rowsample p, sa, sb;
	ed_rowsample_init(&p, 0, 0);
	ed_rowsample_init(&sa, 0, 0);
	ed_rowsample_init(&sb, 0, 0);
	for (int i = 0; i < 20000; i++)
		add_row(&p, key, "user", i, i % 50 == 0);
	for (int i = 0; i < 2000; i++)
		add_row(&sa, key, "synthetic", i, false);
	for (int i = 0; i < 20000; i++) {
		if (i % 20 == 0)
			add_row(&sb, key, "user", i, i % 50 == 0); /* verbatim */
		else
			add_row(&sb, key, "anon", i, false);
	}
	ed_rowsample_finish(&p);
	ed_rowsample_finish(&sa);
	ed_rowsample_finish(&sb);
	struct ed_overlap o;
	ed_rowsample_overlap(p.v, p.n, p.threshold, sa.v, sa.n, sa.threshold, &o);
	ok(o.matched == 0 && o.share == 0 && o.lo == 0 && o.hi < 0.05,
	   "staging A: 0%% (interval 0-%.1f%%)", 100 * o.hi);
	ed_rowsample_overlap(p.v, p.n, p.threshold, sb.v, sb.n, sb.threshold, &o);
	ok(o.lo <= 0.05 && 0.05 <= o.hi, "staging B: %.1f%% (%.1f-%.1f%%) holds the true 5%%",
	   100 * o.share, 100 * o.lo, 100 * o.hi);
	ok(o.lo > 0.005, "staging B: above 0.5%% even at the interval's low end");
	ed_rowsample_overlap(p.v, p.n, p.threshold, p.v, p.n, p.threshold, &o);
	ok(o.share == 1 && o.matched == p.n, "a table against itself: 100%%");
	ed_rowsample_overlap(p.v, p.n, p.threshold, NULL, 0, p.threshold, &o);
	ok(o.sample == 0 && o.share == 0 && o.hi == 1, "an empty candidate: nothing known");
	ed_rowsample_release(&p);
	ed_rowsample_release(&sa);
	ed_rowsample_release(&sb);
}

int main(void)
{
	for (size_t i = 0; i < ED_KEY_LEN; i++) {
		key[i] = (uint8_t)(i * 7 + 1);
		other_key[i] = (uint8_t)(i * 7 + 2);
	}
	test_deterministic();
	test_null();
	test_bounded();
	test_overlap();
	return tap_done();
}
