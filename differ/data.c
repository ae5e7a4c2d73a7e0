/* SPDX-License-Identifier: MIT */
/*
 * Data shapes (kind "data") compared with the policy's tolerances, and
 * described as a person would say it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ed/datashape.h"
#include "ed/diff.h"
#include "ed/policy.h"

static bool known(double v)
{
	return !isnan(v) && !isinf(v);
}

/* Relative difference of two non-negative numbers: |a - b| / max(a, b). */
static double rel_diff(double a, double b)
{
	double m = a > b ? a : b;
	return m > 0 ? fabs(a - b) / m : 0;
}

/*
 * The distinct ratio among non-NULL values: pg_stats' n_distinct counts rows
 * with NULLs, so that a change of the null fraction alone would show twice.
 */
static double nn_distinct(const struct ed_data_shape *s)
{
	if (!known(s->distinct))
		return NAN;
	if (known(s->null_frac) && s->null_frac < 1) {
		double d = s->distinct / (1 - s->null_frac);
		return d > 1 ? 1 : d;
	}
	return s->distinct;
}

/* Whether the distinct counts are what to compare (both fixed), not the ratios. */
static bool by_values(const struct ed_data_shape *a, const struct ed_data_shape *b)
{
	return known(a->distinct_values) && known(b->distinct_values);
}

unsigned ed_data_compare(const struct ed_policy *p, const char *key, const char *ref_value,
			 const char *cand_value)
{
	bool table;
	const char *object = ed_data_key_object(key, &table);
	struct ed_data_shape a, b;
	if (!object || !ed_data_shape_parse(ref_value, table, &a) ||
	    !ed_data_shape_parse(cand_value, table, &b))
		return 0;
	unsigned f = 0;
	if (a.stats_missing != b.stats_missing)
		f |= ED_F_STATS;
	const struct ed_policy_tolerance *t;
	if (table) {
		t = ed_policy_tolerance_for(p, ED_DATA_ROWS, object);
		if (!t->ignore && known(a.rows) && known(b.rows)) {
			if (a.rows <= 0 ? b.rows > 0 : (b.rows / a.rows < t->lo || b.rows / a.rows > t->hi))
				f |= ED_F_ROWS;
		}
		return f;
	}
	t = ed_policy_tolerance_for(p, ED_DATA_NULL_FRAC, object);
	if (!t->ignore && known(a.null_frac) && known(b.null_frac) &&
	    fabs(a.null_frac - b.null_frac) > t->hi + 1e-9)
		f |= ED_F_NULL_FRAC;
	t = ed_policy_tolerance_for(p, ED_DATA_DISTINCT, object);
	if (!t->ignore) {
		double d = -1;
		if (by_values(&a, &b))
			d = rel_diff(a.distinct_values, b.distinct_values);
		else if (known(nn_distinct(&a)) && known(nn_distinct(&b)))
			d = rel_diff(nn_distinct(&a), nn_distinct(&b));
		if (d > t->hi + 1e-9)
			f |= ED_F_DISTINCT;
	}
	return f;
}

/* "41,000,000": a count with thousands separators. */
static int add_count(struct ed_buf *out, double v)
{
	char digits[64];
	int n = snprintf(digits, sizeof(digits), "%.0f", v < 0 ? 0 : v);
	if (n < 0 || (size_t)n >= sizeof(digits))
		return -1;
	int bad = 0;
	for (int i = 0; i < n && !bad; i++) {
		bad = ed_buf_addc(out, digits[i]);
		if (!bad && i < n - 1 && (n - 1 - i) % 3 == 0)
			bad = ed_buf_addc(out, ',');
	}
	return bad;
}

/* "0.02": a fraction as read, at most four significant digits. */
static int add_frac(struct ed_buf *out, double v)
{
	return known(v) ? ed_buf_addf(out, "%.4g", v) : ed_buf_adds(out, "?");
}

static int add_rows(struct ed_buf *out, const struct ed_data_shape *s)
{
	if (!known(s->rows))
		return ed_buf_adds(out, "?");
	return (s->estimated ? ed_buf_addc(out, '~') : 0) | add_count(out, s->rows);
}

/*
 * A database's shape on one side only (differ/diff.c data_one_side(): key
 * "ENGINE:NAME", the present side's value {"tables":N,"columns":M}).
 */
static int describe_one_side(const struct ed_drift_entry *e, struct ed_buf *out)
{
	bool in_ref = e->change == ED_REMOVED;
	const char *v = in_ref ? e->ref.value : e->cand.value;
	unsigned long long t = 0, c = 0;
	if (!v || sscanf(v, "{\"tables\":%llu,\"columns\":%llu}", &t, &c) != 2)
		t = c = 0;
	return ed_buf_addf(out, "%sdata shape not compared: the %s was collected without "
			   "--data-shape (", out->len ? ", " : "", in_ref ? "candidate" : "reference") |
	       add_count(out, (double)t) | ed_buf_adds(out, t == 1 ? " table, " : " tables, ") |
	       add_count(out, (double)c) |
	       ed_buf_addf(out, " column%s shaped in the %s)", c == 1 ? "" : "s",
			   in_ref ? "reference" : "candidate")
		       ? -1
		       : 0;
}

int ed_data_describe(const struct ed_drift_entry *e, struct ed_buf *out)
{
	if (e->change != ED_CHANGED)
		return describe_one_side(e, out);
	bool table;
	const char *object = ed_data_key_object(e->key, &table);
	struct ed_data_shape a, b;
	if (!object)
		return 0;
	/* A value that is no shape shows as "?"; out of memory is an error, not a report. */
	if (ed_data_shape_read(e->ref.value, table, &a) < 0 ||
	    ed_data_shape_read(e->cand.value, table, &b) < 0)
		return -1;
	int bad = 0;
	const char *sep = out->len ? ", " : "";
	if (e->fields & ED_F_ROWS) {
		bad |= ed_buf_addf(out, "%srows ", sep) | add_rows(out, &a) |
		       ed_buf_adds(out, " -> ") | add_rows(out, &b);
		if (known(a.rows) && known(b.rows)) {
			if (a.rows <= 0)
				bad |= ed_buf_adds(out, " (the reference has none)");
			else if (b.rows <= 0)
				bad |= ed_buf_adds(out, " (none)");
			else if (b.rows < a.rows)
				bad |= ed_buf_adds(out, " (1/") | add_count(out, round(a.rows / b.rows)) |
				       ed_buf_adds(out, " of the reference)");
			else
				bad |= ed_buf_adds(out, " (") | add_count(out, round(b.rows / a.rows)) |
				       ed_buf_adds(out, " times the reference)");
		}
		sep = ", ";
	}
	if (e->fields & ED_F_NULL_FRAC) {
		bad |= ed_buf_addf(out, "%snull fraction ", sep) | add_frac(out, a.null_frac) |
		       ed_buf_adds(out, " -> ") | add_frac(out, b.null_frac);
		sep = ", ";
	}
	if (e->fields & ED_F_DISTINCT) {
		if (by_values(&a, &b))
			bad |= ed_buf_addf(out, "%sdistinct values ", sep) |
			       add_count(out, a.distinct_values) | ed_buf_adds(out, " -> ") |
			       add_count(out, b.distinct_values);
		else
			bad |= ed_buf_addf(out, "%sdistinct ratio of non-NULL values ", sep) |
			       add_frac(out, nn_distinct(&a)) | ed_buf_adds(out, " -> ") |
			       add_frac(out, nn_distinct(&b));
		sep = ", ";
	}
	if (e->fields & ED_F_STATS)
		bad |= ed_buf_addf(out, "%sstatistics missing in the %s (never ANALYZEd)", sep,
				   a.stats_missing ? "reference" : "candidate");
	return bad ? -1 : 0;
}
