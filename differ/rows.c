/* SPDX-License-Identifier: MIT */
/*
 * Sensitive rows (kind "rows"): the overlap of two environments' keyed row
 * samples, judged by the policy's [data] overlap, and worded for reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "ed/policy.h"
#include "ed/rowsample.h"

/* The overlap of two values; 1, 0 when either is no sample, -1 out of memory. */
static int overlap(const char *ref_value, const char *cand_value, struct ed_overlap *out)
{
	struct ed_rows_value a, b;
	memset(out, 0, sizeof(*out));
	int r = ed_rows_value_parse(ref_value, &a);
	if (r != 1)
		return r;
	r = ed_rows_value_parse(cand_value, &b);
	if (r == 1)
		ed_rowsample_overlap(a.fp, a.n, a.threshold, b.fp, b.n, b.threshold, out);
	ed_rows_value_release(&a);
	ed_rows_value_release(&b);
	return r;
}

unsigned ed_rows_compare(const struct ed_policy *p, const char *key, const char *ref_value,
			 const char *cand_value)
{
	const char *object = ed_rows_key_object(key);
	struct ed_overlap o;
	if (!object)
		return 0;
	const struct ed_policy_tolerance *t = ed_policy_tolerance_for(p, ED_DATA_OVERLAP, object);
	/* Out of memory finds nothing here; the report, which reads them again, fails. */
	if (t->ignore || overlap(ref_value, cand_value, &o) != 1)
		return 0;
	return o.sample && o.share > t->hi + 1e-12 ? ED_F_OVERLAP : 0;
}

bool ed_rows_checked(const struct ed_policy *p, const char *key, size_t key_len)
{
	char *k = ed_strndup(key, key_len);
	const char *object = k ? ed_rows_key_object(k) : NULL;
	/* Out of memory, or a key that names no entry: checked, so reported. */
	bool checked = !object || !ed_policy_tolerance_for(p, ED_DATA_OVERLAP, object)->ignore;
	free(k);
	return checked;
}

int ed_rows_overlap_of(const struct ed_drift_entry *e, struct ed_overlap *out)
{
	return overlap(e->ref.value, e->cand.value, out);
}

/* A share as a percentage, with decimals digits after the point: "37%", "5.1%". */
static int add_pct(struct ed_buf *out, double v, int decimals)
{
	return ed_buf_addf(out, "%.*f%%", decimals, 100 * v);
}

/* "1,250": a count with thousands separators. */
static int add_count(struct ed_buf *out, size_t v)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%zu", v);
	int bad = n < 0 || (size_t)n >= sizeof(digits);
	for (int i = 0; i < n && !bad; i++) {
		bad = ed_buf_addc(out, digits[i]);
		if (!bad && i < n - 1 && (n - 1 - i) % 3 == 0)
			bad = ed_buf_addc(out, ',');
	}
	return bad;
}

/* A sample on one side only: the check could not run, and why it may be. */
static int describe_one_side(const struct ed_drift_entry *e, struct ed_buf *out)
{
	bool in_ref = e->change == ED_REMOVED;
	struct ed_rows_value v;
	int r = ed_rows_value_parse(in_ref ? e->ref.value : e->cand.value, &v);
	if (r < 0)
		return -1;
	int bad = ed_buf_addf(out, "%snot checked: the %s has no sample of these rows (collected "
			      "without [data] sensitive naming them, or the table could not be "
			      "read)", out->len ? ", " : "", in_ref ? "candidate" : "reference");
	if (r > 0)
		bad |= ed_buf_adds(out, "; ") | add_count(out, v.n) | ed_buf_adds(out, " of ") |
		       add_count(out, (size_t)v.rows) |
		       ed_buf_addf(out, " %s rows sampled", in_ref ? "reference" : "candidate");
	ed_rows_value_release(&v);
	return bad ? -1 : 0;
}

int ed_rows_describe(const struct ed_drift_entry *e, struct ed_buf *out)
{
	if (e->change != ED_CHANGED)
		return describe_one_side(e, out);
	struct ed_overlap o;
	int r = ed_rows_overlap_of(e, &o);
	if (r < 0)
		return -1;
	const char *sep = out->len ? ", " : "";
	if (r == 0)
		return ed_buf_addf(out, "%sno sample of rows to compare", sep);
	/* One decimal when the interval is narrow, as an estimate is read: "5.1% (4.0–6.4%)". */
	int d = o.hi - o.lo < 0.05 ? 1 : 0;
	int bad = ed_buf_addf(out, "%sabout ", sep) | add_pct(out, o.share, d) |
		  ed_buf_adds(out, " (") | add_pct(out, o.lo, d);
	if (!bad && out->len && out->p[out->len - 1] == '%')
		out->p[--out->len] = '\0';
	bad |= ed_buf_adds(out, "\xe2\x80\x93") | add_pct(out, o.hi, d) |
	       ed_buf_adds(out, ") of candidate rows equal reference rows, ") |
	       add_count(out, o.matched) | ed_buf_adds(out, " of ") | add_count(out, o.sample) |
	       ed_buf_adds(out, " sampled");
	return bad ? -1 : 0;
}
