/* SPDX-License-Identifier: MIT */
/*
 * Data shapes (kind "data"): their JSON text, the tolerances of the [data]
 * policy section, the comparison and how a report words it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/datashape.h"
#include "ed/diff.h"
#include "ed/policy.h"
#include "ed/rowsample.h"
#include "tap.h"

static char *fmt(const struct ed_data_shape *s)
{
	struct ed_buf b = ED_BUF_INIT;
	if (ed_data_shape_format(s, &b))
		abort();
	return ed_buf_detach(&b);
}

static void test_format(void)
{
	struct ed_data_shape s, r;
	ed_data_shape_init(&s, true);
	char *t = fmt(&s);
	is_str(t, "{}", "format: nothing known, nothing written");
	free(t);
	s.rows = 41000000.4;
	s.estimated = true;
	s.bytes = 8192;
	t = fmt(&s);
	is_str(t, "{\"rows\":41000000,\"estimated\":true,\"bytes\":8192}", "format: a table");
	ok(ed_data_shape_parse(t, true, &r), "parse: a table");
	ok(r.rows == 41000000 && r.estimated && r.bytes == 8192 && isnan(r.null_frac),
	   "parse: a table's numbers back");
	free(t);
	ed_data_shape_init(&s, true);
	s.stats_missing = true;
	t = fmt(&s);
	is_str(t, "{\"stats\":\"missing\"}", "format: statistics missing");
	ok(ed_data_shape_parse(t, true, &r) && r.stats_missing, "parse: statistics missing");
	free(t);
	ed_data_shape_init(&s, false);
	s.null_frac = 0.019999;
	s.distinct = 1.0 / 3;
	s.distinct_values = 3;
	s.width = 11.6;
	s.correlation = -0.0;
	t = fmt(&s);
	is_str(t,
	       "{\"null_frac\":0.02,\"distinct\":0.3333,\"distinct_values\":3,\"width\":12,"
	       "\"correlation\":0}",
	       "format: a column, four significant digits, no -0");
	free(t);
	ok(!ed_data_shape_parse("[1]", false, &r), "parse: not an object");
	ok(!ed_data_shape_parse("{", false, &r), "parse: not JSON");
	ok(!ed_data_shape_parse(NULL, false, &r), "parse: NULL");
	bool table = false;
	is_str(ed_data_key_object("postgres:shop/table/public.orders", &table), "public.orders",
	       "key: a table's object");
	ok(table, "key: a table");
	is_str(ed_data_key_object("sqlite:app/column/main.t.c", &table), "main.t.c",
	       "key: a column's object");
	ok(!table, "key: a column");
	ok(!ed_data_key_object("postgres:shop/index/x", &table), "key: not a data key");
}

static unsigned cmp(const struct ed_policy *p, const char *key, const char *a, const char *b)
{
	return ed_data_compare(p, key, a, b);
}

#define T "postgres:shop/table/public.orders"
#define C "postgres:shop/column/public.customer.phone"

static void test_compare_default(void)
{
	/* NULL policy: the built-in tolerances. */
	is_int(cmp(NULL, T, "{\"rows\":1000}", "{\"rows\":100}"), 0, "rows: 1/10 is inside 0.1..10");
	is_int(cmp(NULL, T, "{\"rows\":1000}", "{\"rows\":99}"), ED_F_ROWS, "rows: below the band");
	is_int(cmp(NULL, T, "{\"rows\":1000}", "{\"rows\":10001}"), ED_F_ROWS,
	       "rows: above the band");
	is_int(cmp(NULL, T, "{\"rows\":0}", "{\"rows\":0}"), 0, "rows: none on both sides");
	is_int(cmp(NULL, T, "{\"rows\":0}", "{\"rows\":3}"), ED_F_ROWS,
	       "rows: some where the reference has none");
	is_int(cmp(NULL, T, "{\"rows\":1000}", "{\"stats\":\"missing\"}"), ED_F_STATS,
	       "stats: missing on one side; rows unknown there");
	is_int(cmp(NULL, T, "{\"stats\":\"missing\"}", "{\"stats\":\"missing\"}"), 0,
	       "stats: missing on both sides");
	is_int(cmp(NULL, C, "{\"null_frac\":0.02}", "{\"null_frac\":0.22}"), 0,
	       "null_frac: a difference of 0.2 is inside");
	is_int(cmp(NULL, C, "{\"null_frac\":0.02}", "{\"null_frac\":0.97}"), ED_F_NULL_FRAC,
	       "null_frac: 0.02 -> 0.97");
	is_int(cmp(NULL, C, "{\"null_frac\":0,\"distinct\":1}", "{\"null_frac\":0,\"distinct\":0.4}"),
	       ED_F_DISTINCT, "distinct: 1 -> 0.4");
	is_int(cmp(NULL, C, "{\"null_frac\":0,\"distinct\":1}",
		   "{\"null_frac\":0.5,\"distinct\":0.5}"),
	       ED_F_NULL_FRAC, "distinct: among non-NULL values, NULLs do not count twice");
	is_int(cmp(NULL, C, "{\"distinct\":0.0000001,\"distinct_values\":5}",
		   "{\"distinct\":0.006,\"distinct_values\":5}"),
	       0, "distinct: a fixed number of values compares as a number");
	is_int(cmp(NULL, C, "{\"distinct_values\":5}", "{\"distinct_values\":50}"), ED_F_DISTINCT,
	       "distinct: 5 values -> 50");
	is_int(cmp(NULL, C, "{}", "{\"null_frac\":1}"), 0, "unknown on one side: not compared");
	is_int(cmp(NULL, "postgres:shop/index/x", "{\"rows\":1}", "{\"rows\":100}"), 0,
	       "not a data key: nothing");
}

static enum ed_code parse(struct ed_policy *p, const char *text, struct ed_err *err)
{
	return ed_policy_parse(ed_str_of(text, strlen(text)), "p.ini", p, err);
}

static void expect_error(const char *text, const char *msg)
{
	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	is_int(parse(&p, text, &err), ED_PARSE, "refused: %s", msg);
	is_str(err.msg, msg, "message: %s", msg);
	ed_policy_release(&p);
}

static void test_policy(void)
{
	struct ed_policy p = {0}, q = {0};
	struct ed_err err = {0};
	is_int(ed_policy_default(&p, &err), ED_OK, "policy: the default");
	is_int(p.data[ED_DATA_ROWS].where.line > 0, 1, "policy: the default states rows");
	ok(p.data[ED_DATA_ROWS].lo == 0.1 && p.data[ED_DATA_ROWS].hi == 10, "policy: rows 0.1..10");
	is_int(parse(&p,
		     "[data]\nrows = 0.5..2 ; tighter\nnull_frac = 0.05\ndistinct = ignore\n"
		     "rows[public.audit_*] = ignore\nnull_frac[public.customer.*] = 0.5\n"
		     "null_frac[public.customer.phone] = 0.01\nseverity = block\n",
		     &err),
	       ED_OK, "policy: a [data] section");
	is_int(cmp(&p, T, "{\"rows\":1000}", "{\"rows\":400}"), ED_F_ROWS, "policy: the tighter band");
	is_int(cmp(&p, "postgres:shop/table/public.audit_log", "{\"rows\":1000}", "{\"rows\":1}"), 0,
	       "policy: rows[public.audit_*] = ignore");
	is_int(cmp(&p, "postgres:shop/column/public.customer.email", "{\"null_frac\":0}",
		   "{\"null_frac\":0.4}"),
	       0, "policy: null_frac[public.customer.*] = 0.5");
	is_int(cmp(&p, C, "{\"null_frac\":0}", "{\"null_frac\":0.02}"), ED_F_NULL_FRAC,
	       "policy: the last matching glob wins");
	is_int(cmp(&p, "postgres:shop/column/public.orders.total", "{\"null_frac\":0}",
		   "{\"null_frac\":0.1}"),
	       ED_F_NULL_FRAC, "policy: the section's null_frac elsewhere");
	is_int(cmp(&p, C, "{\"distinct\":1}", "{\"distinct\":0.01}"), 0, "policy: distinct = ignore");
	is_int(ed_policy_copy(&q, &p, &err), ED_OK, "policy: copied");
	is_int(cmp(&q, "postgres:shop/table/public.audit_x", "{\"rows\":1000}", "{\"rows\":1}"), 0,
	       "policy: the copy keeps the overrides");

	/* Severity: [data] severity is [severity] data. */
	struct ed_drift d = {0};
	struct ed_drift_entry e = {0};
	e.kind = strdup("data");
	e.key = strdup(T);
	e.key_len = strlen(T);
	e.change = ED_CHANGED;
	e.fields = ED_F_ROWS;
	e.severity = "block";
	e.rule = strdup("x");
	d.v = &e;
	d.n = d.cap = 1;
	is_int(ed_policy_apply(&p, "2026-01-01", &d, &err), ED_OK, "policy: applied");
	is_str(e.severity, "block", "policy: [data] severity = block");
	is_str(e.rule, "p.ini:8: severity data = block", "policy: the rule names the line");
	ed_policy_release(&q);
	ed_policy_default(&q, &err);
	e.severity = "block";
	is_int(ed_policy_apply(&q, "2026-01-01", &d, &err), ED_OK, "policy: the default applied");
	is_str(e.severity, "warn", "policy: data drift warns by default");
	free(e.kind);
	free(e.key);
	free(e.rule);
	free(e.reason);
	free(d.expired);
	ed_policy_release(&p);
	ed_policy_release(&q);

	expect_error("[data]\nrows = 10..1\n",
		     "p.ini:2: 'rows': '10..1' is not a band of ratios LO..HI (e.g. 0.1..10, LO <= HI) "
		     "nor 'ignore'");
	expect_error("[data]\nnull_frac = lots\n", "p.ini:2: 'null_frac': 'lots' is not a number >= 0 "
		     "nor 'ignore'");
	expect_error("[data]\nrow = 1..2\n",
		     "p.ini:2: unknown key 'row' in [data] (rows, null_frac, distinct, overlap, "
		     "severity, or MEASURE[GLOB] for some tables, columns or sensitive entries)");
	expect_error("[data]\nrows[x = 1..2\n", "p.ini:2: 'rows[x': write rows[GLOB], e.g. "
		     "rows[public.audit_*]");
	expect_error("[data]\nnull_frac = 0.1\nnull_frac = 0.2\n",
		     "p.ini:3: 'null_frac' is already set on line 2");
	expect_error("[data]\nrows[a.*] = ignore\nrows[a.*] = 1..2\n",
		     "p.ini:3: 'rows[a.*]' is already given on line 2");
	expect_error("[data]\nseverity = fatal\n", "p.ini:2: unknown severity 'fatal' (block, warn, info)");
}

static void test_describe(void)
{
	struct ed_drift_entry e = {0};
	struct ed_buf b = ED_BUF_INIT;
	e.kind = "data";
	e.key = T;
	e.change = ED_CHANGED;
	e.fields = ED_F_ROWS;
	e.ref = (struct ed_side){.present = true, .value = "{\"rows\":41000000,\"estimated\":true}"};
	e.cand = (struct ed_side){.present = true, .value = "{\"rows\":820,\"estimated\":true}"};
	is_int(ed_drift_describe(&e, &b), 0, "describe: rows");
	is_str(b.p, "rows ~41,000,000 -> ~820 (1/50,000 of the reference)", "describe: rows, as said");
	ed_buf_reset(&b);
	e.cand.value = "{\"rows\":82000000}";
	ed_drift_describe(&e, &b);
	is_str(b.p, "rows ~41,000,000 -> 82,000,000 (2 times the reference)",
	       "describe: more rows, counted");
	ed_buf_reset(&b);
	e.key = C;
	e.fields = ED_F_NULL_FRAC | ED_F_DISTINCT;
	e.ref.value = "{\"null_frac\":0.02,\"distinct\":0.98}";
	e.cand.value = "{\"null_frac\":0.97,\"distinct\":0.0015}";
	ed_drift_describe(&e, &b);
	is_str(b.p, "null fraction 0.02 -> 0.97, distinct ratio of non-NULL values 1 -> 0.05",
	       "describe: a column");
	ed_buf_reset(&b);
	e.key = T;
	e.fields = ED_F_STATS;
	e.ref.value = "{\"rows\":5}";
	e.cand.value = "{\"stats\":\"missing\"}";
	ed_drift_describe(&e, &b);
	is_str(b.p, "statistics missing in the candidate (never ANALYZEd)", "describe: stats");
	ed_buf_release(&b);
}

/*
 * A "rows" value of n synthetic customers: those below copied take the
 * reference's emails ("c%d@prod"), the others their own (prefix).
 */
static char *rows_value(size_t n, size_t copied, const char *prefix)
{
	static const uint8_t key[ED_KEY_LEN] = {7, 1, 2};
	struct ed_rowsample s;
	struct ed_buf v = ED_BUF_INIT;
	struct ed_err err = {0};
	ed_rowsample_init(&s, 0, 0);
	for (size_t i = 0; i < n; i++) {
		char email[64];
		int len = snprintf(email, sizeof(email), i < copied ? "c%zu@prod" : "c%zu@%s", i,
				   prefix);
		struct ed_rowval val = {email, (size_t)len};
		ed_rowsample_add(&s, key, &val, 1, &err);
	}
	ed_rowsample_finish(&s);
	ed_rows_value_format(&s, &v);
	ed_rowsample_release(&s);
	return ed_buf_detach(&v);
}

#define R "postgres:shop/rows/public.customer(email)"

static void test_rows(void)
{
	char *prod = rows_value(20000, 20000, "prod"), *copy5 = rows_value(20000, 1000, "stg"),
	     *none = rows_value(2000, 0, "stg");
	struct ed_rows_value v;
	is_int(ed_rows_value_parse(prod, &v), 1, "rows value: reads back");
	is_int(v.rows, 20000, "rows value: the row count");
	ok(v.n > 1000 && v.n < 1500, "rows value: about 1/16 of the rows sampled (%zu)", v.n);
	ed_rows_value_release(&v);
	is_int(ed_rows_value_parse("{\"rows\":5}", &v), 0, "rows value: no sample, no value");
	is_int(ed_rows_compare(NULL, R, prod, none), 0, "rows: no common row, no finding");
	is_int(ed_rows_compare(NULL, R, prod, copy5), ED_F_OVERLAP,
	       "rows: 5%% copied is over the default 0.5%%");
	is_int(ed_rows_compare(NULL, R, prod, prod), ED_F_OVERLAP, "rows: a full copy too");
	is_int(ed_rows_compare(NULL, "postgres:shop/table/x", prod, prod), 0, "rows: not a rows key");

	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	ok(fabs(p.data[ED_DATA_OVERLAP].hi - 0.005) < 1e-12, "policy: overlap 0.005 by default");
	is_int(parse(&p, "[data]\noverlap = 0.1\noverlap[public.audit(*)] = ignore\n", &err),
	       ED_OK, "policy: overlap and an override");
	is_int(ed_rows_compare(&p, R, prod, copy5), 0, "rows: 5%% is within overlap = 0.1");
	is_int(ed_rows_compare(&p, "postgres:shop/rows/public.audit(who)", prod, prod), 0,
	       "rows: an ignored entry");
	ed_policy_release(&p);
	ed_policy_default(&p, &err);
	is_int(parse(&p, "[data]\noverlap[public.customer(*)] = 0.5\n", &err), ED_OK,
	       "policy: a per-entry overlap");
	is_int(ed_rows_compare(&p, R, prod, copy5), 0, "rows: within its own entry's overlap");
	ed_policy_release(&p);
	expect_error("[data]\noverlap = some\n",
		     "p.ini:2: 'overlap': 'some' is not a number >= 0 nor 'ignore'");

	struct ed_drift_entry e = {0};
	struct ed_buf b = ED_BUF_INIT;
	struct ed_overlap o;
	e.kind = "rows";
	e.key = R;
	e.change = ED_CHANGED;
	e.fields = ED_F_OVERLAP;
	e.ref = (struct ed_side){.present = true, .value = prod};
	e.cand = (struct ed_side){.present = true, .value = copy5};
	is_int(ed_rows_overlap_of(&e, &o), 1, "overlap of an entry");
	ok(o.lo <= 0.05 && 0.05 <= o.hi && o.lo > 0.02 && o.hi < 0.09,
	   "overlap: 5%% inside its interval (%.4f..%.4f)", o.lo, o.hi);
	is_int(ed_drift_describe(&e, &b), 0, "describe: rows");
	/* The key is fixed: so are the samples, and the words. */
	is_str(b.p, "about 4.6% (3.6\xe2\x80\x93" "5.9%) of candidate rows equal reference rows, "
		    "56 of 1,219 sampled", "describe: as said");
	ed_buf_reset(&b);
	e.cand.value = prod;
	ed_drift_describe(&e, &b);
	is_str(b.p, "about 100.0% (99.7\xe2\x80\x93" "100.0%) of candidate rows equal reference "
		    "rows, 1,313 of 1,313 sampled", "describe: a full copy");
	ed_buf_release(&b);
	free(prod);
	free(copy5);
	free(none);
}

int main(void)
{
	test_rows();
	test_format();
	test_compare_default();
	test_policy();
	test_describe();
	return tap_done();
}
