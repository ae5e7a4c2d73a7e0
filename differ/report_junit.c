/* SPDX-License-Identifier: MIT */
/*
 * The JUnit XML report, for Jenkins and GitLab: one <testsuite> per kind, one
 * testcase per listed drift entry; blocking entries fail, the others pass.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "report_common.h"

/* --- shown text: the same rules in every report file --- */

static int add_shown(struct ed_buf *b, const char *s, size_t len)
{
	return ed_buf_add_shown(b, s, len, false);
}

static int add_shown_s(struct ed_buf *b, const char *s)
{
	return add_shown(b, s ? s : "", s ? strlen(s) : 0);
}

/* --- XML --- */

/* Writes shown text (valid UTF-8; \n only where the report put it) escaped for XML. */
static void put_xml(FILE *out, const char *s, bool attr)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs(attr ? "&quot;" : "\"", out); break;
		case '\n': fputs(attr ? "&#10;" : "\n", out); break;
		case '\t': fputs(attr ? "&#9;" : "\t", out); break;
		default: fputc(*s, out); break;
		}
	}
}

struct ctx {
	FILE *out;
	const struct ed_drift *d;
	const struct ed_render_opts *opts;
	struct ed_drift_reader r;     /* d's entries, with their kept texts */
	struct ed_drift_reader plain; /* d's entries */
	struct ed_buf a; /* scratch */
	struct ed_buf b;
	struct ed_buf w; /* what differs, for one testcase */
	bool oom;
};

/* Writes raw bytes (a key, a value) as an escaped XML attribute value or text. */
static void put_raw(struct ctx *c, const char *s, size_t len, bool attr)
{
	ed_buf_reset(&c->a);
	if (add_shown(&c->a, s, len)) {
		c->oom = true;
		return;
	}
	put_xml(c->out, ed_buf_str(&c->a), attr);
}

static void put_raw_s(struct ctx *c, const char *s, bool attr)
{
	put_raw(c, s ? s : "", s ? strlen(s) : 0, attr);
}

static bool listed(const struct ctx *c, const struct ed_drift_entry *e)
{
	return !e->ignored || c->opts->show_ignored;
}

/* What differs, shown: "version 1 -> 2 (behind)" (ed_drift_describe() names the direction). */
static int add_what(struct ed_buf *b, const struct ed_drift_entry *e)
{
	struct ed_buf t = ED_BUF_INIT;
	int rc = ed_drift_describe(e, &t) || add_shown(b, ed_buf_str(&t), t.len);
	ed_buf_release(&t);
	return rc;
}

static void property(struct ctx *c, const char *name, const char *value)
{
	fputs("      <property name=\"", c->out);
	put_xml(c->out, name, true);
	fputs("\" value=\"", c->out);
	put_raw_s(c, value, true);
	fputs("\"/>\n", c->out);
}

/* The snapshots of one side: "1,3" and their hosts "web1,web2". */
static void side_properties(struct ctx *c, const char *prefix, const struct ed_snapref *one,
			    const struct ed_snapref *v, size_t n)
{
	char name[64];
	if (!n) {
		v = one;
		n = 1;
	}
	ed_buf_reset(&c->b);
	for (size_t i = 0; i < n; i++)
		if (ed_buf_addf(&c->b, "%s%lld", i ? "," : "", (long long)v[i].id))
			c->oom = true;
	snprintf(name, sizeof(name), "%s.env", prefix);
	property(c, name, v[0].env);
	snprintf(name, sizeof(name), "%s.snapshots", prefix);
	property(c, name, ed_buf_str(&c->b));
	ed_buf_reset(&c->b);
	for (size_t i = 0; i < n; i++)
		if ((i && ed_buf_addc(&c->b, ',')) || ed_buf_adds(&c->b, v[i].host))
			c->oom = true;
	snprintf(name, sizeof(name), "%s.hosts", prefix);
	property(c, name, ed_buf_str(&c->b));
	ed_buf_reset(&c->b);
	for (size_t i = 0; i < n; i++)
		if ((i && ed_buf_addc(&c->b, ',')) || ed_buf_adds(&c->b, v[i].started_at))
			c->oom = true;
	snprintf(name, sizeof(name), "%s.started_at", prefix);
	property(c, name, ed_buf_str(&c->b));
}

static void properties(struct ctx *c, size_t ignored)
{
	char num[32];
	fputs("    <properties>\n", c->out);
	side_properties(c, "reference", &c->d->ref, c->d->refs, c->d->nrefs);
	side_properties(c, "candidate", &c->d->cand, c->d->cands, c->d->ncands);
	property(c, "policy", c->d->policy ? c->d->policy : "(none: " ED_NO_POLICY ")");
	snprintf(num, sizeof(num), "%zu", ignored);
	property(c, "ignored", num);
	snprintf(num, sizeof(num), "%zu", c->d->ignored);
	property(c, "ignored.total", num);
	fputs("    </properties>\n", c->out);
}

/* Appends one line of a kept-text diff to a testcase's body, shown (tabs kept). */
static int add_udiff_line(void *arg, enum ed_udiff_kind kind, const char *s, size_t len)
{
	struct ed_buf *b = arg;
	const char *sign = kind == ED_UDIFF_CTX ? " " : kind == ED_UDIFF_DEL ? "-"
						      : kind == ED_UDIFF_ADD ? "+" : "";
	switch (kind) {
	case ED_UDIFF_BEGIN:
	case ED_UDIFF_END:
		return 0;
	case ED_UDIFF_NOTE:
		return ed_buf_adds(b, "\ndiff: ") || add_shown(b, s, len);
	default:
		if (kind == ED_UDIFF_HEAD && s[0] == '-' && ed_buf_adds(b, "\ndiff:"))
			return -1;
		return ed_buf_addc(b, '\n') || ed_buf_adds(b, sign) ||
		       ed_buf_add_shown(b, s, len, true);
	}
}

/* One testcase for a drift entry. */
static void testcase(struct ctx *c, const struct ed_drift_entry *e)
{
	const char *sev = e->severity ? e->severity : "block";
	fputs("    <testcase classname=\"envdrift.", c->out);
	put_raw_s(c, e->kind, true);
	fputs("\" name=\"", c->out);
	put_raw(c, e->key, e->key_len, true);
	if (e->role && *e->role) {
		fputs(" [role ", c->out);
		put_raw_s(c, e->role, true);
		fputc(']', c->out);
	}
	fputs("\" time=\"0\">\n", c->out);

	/* The body: one "label: value" line each, shown text only. */
	struct ed_buf *b = &c->b;
	ed_buf_reset(b);
	ed_buf_reset(&c->w);
	if (add_what(&c->w, e))
		c->oom = true;
	const char *what = c->w.len ? ed_buf_str(&c->w) : "-";
	if (ed_buf_addf(b, "%s %s ", ed_change_name(e->change), e->kind) ||
	    add_shown(b, e->key, e->key_len) || ed_buf_addf(b, "\nwhat differs: %s", what))
		c->oom = true;
	if (e->change == ED_CHANGED) {
		bool first = true;
		if (ed_buf_adds(b, "\nfields:"))
			c->oom = true;
		for (unsigned bit = 1; bit && bit <= ED_F_LAST; bit <<= 1)
			if (e->fields & bit) {
				if (ed_buf_addf(b, "%s%s", first ? " " : ", ", ed_field_name(bit)))
					c->oom = true;
				first = false;
			}
	}
	if (ed_buf_addf(b, "\nseverity: %s", sev) || ed_buf_adds(b, "\nrule: ") ||
	    add_shown_s(b, e->rule))
		c->oom = true;
	if (e->role && *e->role && (ed_buf_adds(b, "\nrole: ") || add_shown_s(b, e->role)))
		c->oom = true;
	if (e->ignored && (ed_buf_adds(b, "\nignored: ") ||
			   add_shown_s(b, e->reason ? e->reason : "expected difference")))
		c->oom = true;
	if (ed_kept_udiff(c->d, e, add_udiff_line, b))
		c->oom = true;
	if (ed_buf_addc(b, '\n'))
		c->oom = true;

	if (e->ignored) {
		fputs("      <skipped message=\"ignored: ", c->out);
		put_raw_s(c, e->reason ? e->reason : "expected difference", true);
		fputs("\"/>\n      <system-out>", c->out);
		put_xml(c->out, ed_buf_str(b), false);
		fputs("</system-out>\n", c->out);
	} else if (strcmp(sev, "block") == 0) {
		fprintf(c->out, "      <failure type=\"block\" message=\"%s: ",
			ed_change_name(e->change));
		put_xml(c->out, what, true);
		fputs("\">", c->out);
		put_xml(c->out, ed_buf_str(b), false);
		fputs("</failure>\n", c->out);
	} else {
		fputs("      <system-out>", c->out);
		put_xml(c->out, ed_buf_str(b), false);
		fputs("</system-out>\n", c->out);
	}
	fputs("    </testcase>\n", c->out);
}

/* The kinds that always get a testsuite. */
static const char *const kinds[] = {ED_KIND_ACCOUNT, ED_KIND_CONFIG, ED_KIND_FILE, ED_KIND_PACKAGE,
				    ED_KIND_SCHEMA, ED_KIND_SYSTEM};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* A testsuite's counts. */
struct suite_count {
	const char *kind;
	size_t tests, failures, skipped, ignored;
	char *owned; /* kind, when not one of kinds[] */
};

static int cmp_suite(const void *a, const void *b)
{
	return strcmp(((const struct suite_count *)a)->kind, ((const struct suite_count *)b)->kind);
}

static void free_suites(struct suite_count *s, size_t n)
{
	for (size_t k = 0; s && k < n; k++)
		free(s[k].owned);
	free(s);
}

/*
 * Makes *out (*nout suites) one suite per kind: the fixed kinds and any other
 * present, by name. Entries need not be grouped by kind (a fleet's are
 * ordered by role first). false when out of memory.
 */
static bool count_suites(struct ctx *c, struct suite_count **out, size_t *nout)
{
	const struct ed_drift *d = c->d;
	size_t n = 0, cap = NKINDS + 4;
	struct suite_count *s = calloc(cap, sizeof(*s));
	if (!s)
		return false;
	for (size_t i = 0; i < NKINDS + d->n; i++) {
		const struct ed_drift_entry *e = i < NKINDS ? NULL : ed_drift_at(&c->plain, i - NKINDS);
		const char *kind = e ? e->kind : kinds[i];
		size_t k = 0;
		while (k < n && strcmp(s[k].kind, kind) != 0)
			k++;
		if (k == n) {
			if (n == cap) {
				struct suite_count *v = realloc(s, 2 * cap * sizeof(*s));
				if (!v) {
					free_suites(s, n);
					return false;
				}
				s = v;
				cap *= 2;
			}
			memset(&s[n], 0, sizeof(s[n]));
			if (e && !(s[n].owned = strdup(kind))) {
				free_suites(s, n);
				return false;
			}
			s[n].kind = e ? s[n].owned : kind;
			n++;
		}
		if (!e)
			continue;
		s[k].ignored += e->ignored;
		if (!listed(c, e))
			continue;
		s[k].tests++;
		if (e->ignored)
			s[k].skipped++;
		else if (!e->severity || strcmp(e->severity, "block") == 0)
			s[k].failures++;
	}
	qsort(s, n, sizeof(*s), cmp_suite);
	*out = s;
	*nout = n;
	return true;
}

/* Writes the testsuite of one kind: its listed entries, or one passing "no drift". */
static void suite(struct ctx *c, const struct suite_count *s)
{
	fputs("  <testsuite name=\"", c->out);
	put_raw_s(c, s->kind, true);
	fprintf(c->out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\">\n",
		s->tests ? s->tests : 1, s->failures, s->skipped);
	properties(c, s->ignored);
	for (size_t k = 0; k < c->d->n; k++) {
		const struct ed_drift_entry *e = ed_drift_at(&c->plain, k);
		/* Only an entry listed reads its kept texts. */
		if (listed(c, e) && strcmp(e->kind, s->kind) == 0)
			testcase(c, ed_drift_at(&c->r, k));
	}
	if (!s->tests) {
		fputs("    <testcase classname=\"envdrift.", c->out);
		put_raw_s(c, s->kind, true);
		fputs("\" name=\"no drift\" time=\"0\"", c->out);
		if (s->ignored)
			fprintf(c->out, ">\n      <system-out>%zu ignored difference%s (listed with "
					"--show-ignored)</system-out>\n    </testcase>\n",
				s->ignored, s->ignored == 1 ? "" : "s");
		else
			fputs("/>\n", c->out);
	}
	fputs("  </testsuite>\n", c->out);
}

static void expired_suite(struct ctx *c)
{
	const struct ed_drift *d = c->d;
	fprintf(c->out, "  <testsuite name=\"expired-rules\" tests=\"%zu\" failures=\"0\" errors=\"0\" "
			"skipped=\"0\" time=\"0\">\n", d->nexpired);
	properties(c, 0);
	for (size_t i = 0; i < d->nexpired; i++) {
		const struct ed_expired_rule *r = &d->expired[i];
		fputs("    <testcase classname=\"envdrift.policy\" name=\"", c->out);
		put_raw_s(c, r->text, true);
		fputs("\" time=\"0\">\n      <system-out>expired on ", c->out);
		put_raw_s(c, r->expires, false);
		fputs(", so it no longer applies: ", c->out);
		put_raw_s(c, r->reason ? r->reason : "(no reason given)", false);
		fputs("\n</system-out>\n    </testcase>\n", c->out);
	}
	fputs("  </testsuite>\n", c->out);
}

static void snowflake_suite(struct ctx *c)
{
	const struct ed_drift *d = c->d;
	fprintf(c->out, "  <testsuite name=\"snowflakes\" tests=\"%zu\" failures=\"0\" errors=\"0\" "
			"skipped=\"0\" time=\"0\">\n", d->nsnowflakes);
	properties(c, 0);
	for (size_t i = 0; i < d->nsnowflakes; i++) {
		const struct ed_snowflake *f = &d->snowflakes[i];
		fputs("    <testcase classname=\"envdrift.snowflakes\" name=\"", c->out);
		put_raw_s(c, f->host, true);
		fputc(' ', c->out);
		put_raw_s(c, f->kind, true);
		fputc(' ', c->out);
		put_raw_s(c, f->key, true);
		fputs("\" time=\"0\">\n      <system-out>host ", c->out);
		put_raw_s(c, f->host, false);
		fputs(" of ", c->out);
		put_raw_s(c, f->env, false);
		fputs(" (role ", c->out);
		put_raw_s(c, f->role && *f->role ? f->role : "(none)", false);
		fputs(") disagrees with the majority of its role\nits value: ", c->out);
		put_raw_s(c, f->value ? f->value : "(absent or secret)", false);
		fputs("\nmajority value: ", c->out);
		put_raw_s(c, f->majority_value ? f->majority_value : "(absent or secret)", false);
		fputs("\n</system-out>\n    </testcase>\n", c->out);
	}
	fputs("  </testsuite>\n", c->out);
}

static enum ed_code render_junit(FILE *out, const struct ed_drift *d,
				 const struct ed_render_opts *opts, struct ed_err *err)
{
	struct ctx c = {.out = out, .d = d, .opts = opts, .a = ED_BUF_INIT, .b = ED_BUF_INIT,
		       .w = ED_BUF_INIT};
	size_t tests = 0, failures = 0, skipped = 0;
	enum ed_code rc = ED_OK;

	struct suite_count *suites = NULL;
	size_t nsuites = 0;
	ed_drift_reader_init(&c.r, d, true);
	ed_drift_reader_init(&c.plain, d, false);
	if (!count_suites(&c, &suites, &nsuites)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
		goto out;
	}
	/* Totals first: the root element carries them. */
	for (size_t k = 0; k < nsuites; k++) {
		tests += suites[k].tests ? suites[k].tests : 1;
		failures += suites[k].failures;
		skipped += suites[k].skipped;
	}
	tests += d->nexpired + d->nsnowflakes;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fputs("<testsuites name=\"envdrift ", out);
	put_raw_s(&c, d->cand.env, true);
	fputs(" vs ", out);
	put_raw_s(&c, d->ref.env, true);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\">\n",
		tests, failures, skipped);

	for (size_t k = 0; k < nsuites; k++)
		suite(&c, &suites[k]);
	if (d->nexpired)
		expired_suite(&c);
	if (d->nsnowflakes)
		snowflake_suite(&c);
	fputs("</testsuites>\n", out);

	if ((rc = ed_drift_reader_failed(&c.plain, err)) || (rc = ed_drift_reader_failed(&c.r, err)))
		; /* its message says what failed */
	else if (c.oom)
		rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
	else if (ferror(out))
		rc = ed_err_set(err, ED_IO, "cannot write the report");
out:
	ed_drift_reader_release(&c.r);
	ed_drift_reader_release(&c.plain);
	free_suites(suites, nsuites);
	ed_buf_release(&c.a);
	ed_buf_release(&c.b);
	ed_buf_release(&c.w);
	return rc;
}

const struct ed_report_ops ed_report_junit = {.name = "junit", .render = render_junit,
					      .kept_content = true};
