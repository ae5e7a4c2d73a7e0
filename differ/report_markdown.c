/* SPDX-License-Identifier: MIT */
/*
 * The Markdown report, sized for a pull-request comment (GitHub, GitLab): the
 * summary table first, then each kind's drift folded in <details>.
 * GitHub refuses comments over 65536 characters: past ED_MD_BUDGET bytes the
 * remaining rows are counted, not listed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "report_common.h"

#define ED_MD_BUDGET 60000

/* --- shown text: the same rules in every report file --- */

static int add_shown(struct ed_buf *b, const char *s, size_t len)
{
	return ed_buf_add_shown(b, s, len, false);
}

/* --- Markdown --- */

struct ctx {
	const struct ed_drift *d;
	const struct ed_render_opts *opts;
	struct ed_drift_reader rows;  /* d's entries, for the tables */
	struct ed_drift_reader diffs; /* d's entries with their kept texts */
	struct ed_buf t; /* scratch */
	bool oom;
};

static void put(struct ctx *c, struct ed_buf *o, const char *s)
{
	if (ed_buf_adds(o, s))
		c->oom = true;
}

/*
 * Appends shown text made inert in a table cell: '|' cannot end the cell,
 * HTML is text, and Markdown punctuation (emphasis, code, links, math,
 * strike-through) is backslash-escaped.
 */
static void put_md(struct ctx *c, struct ed_buf *o, const char *s)
{
	int rc = 0;
	for (; *s && !rc; s++) {
		switch (*s) {
		case '&': rc = ed_buf_adds(o, "&amp;"); break;
		case '<': rc = ed_buf_adds(o, "&lt;"); break;
		case '>': rc = ed_buf_adds(o, "&gt;"); break;
		case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '~':
		case '$':
			rc = ed_buf_addc(o, '\\') || ed_buf_addc(o, *s);
			break;
		default: rc = ed_buf_addc(o, *s); break;
		}
	}
	if (rc)
		c->oom = true;
}

/*
 * Appends raw bytes shown and HTML-escaped, for a line that starts with an
 * HTML tag: Markdown reads such a line as raw HTML, so backslashes would stay.
 */
static void put_html(struct ctx *c, struct ed_buf *o, const char *s)
{
	int rc = 0;
	ed_buf_reset(&c->t);
	if (add_shown(&c->t, s, strlen(s)))
		c->oom = true;
	for (const char *p = ed_buf_str(&c->t); *p && !rc; p++) {
		switch (*p) {
		case '&': rc = ed_buf_adds(o, "&amp;"); break;
		case '<': rc = ed_buf_adds(o, "&lt;"); break;
		case '>': rc = ed_buf_adds(o, "&gt;"); break;
		default: rc = ed_buf_addc(o, *p); break;
		}
	}
	if (rc)
		c->oom = true;
}

/* Appends raw bytes (a key, a value), shown and escaped. */
static void put_raw(struct ctx *c, struct ed_buf *o, const char *s, size_t len)
{
	ed_buf_reset(&c->t);
	if (add_shown(&c->t, s, len))
		c->oom = true;
	put_md(c, o, ed_buf_str(&c->t));
}

static void put_raw_s(struct ctx *c, struct ed_buf *o, const char *s)
{
	put_raw(c, o, s ? s : "", s ? strlen(s) : 0);
}

/* In <code>: GitHub turns neither @name into a mention nor #12 into a link there. */
static void put_code(struct ctx *c, struct ed_buf *o, const char *s, size_t len)
{
	put(c, o, "<code>");
	put_raw(c, o, s, len);
	put(c, o, "</code>");
}

static void put_code_s(struct ctx *c, struct ed_buf *o, const char *s)
{
	put_code(c, o, s ? s : "", s ? strlen(s) : 0);
}

/* "production @1 web1 (2024-05-01T10:00:00Z)", one per snapshot of the side. */
/* ed_side_roles() into a Markdown buffer: names escaped. */
struct md_put {
	struct ctx *c;
	struct ed_buf *o;
};

static void md_put(void *ctx, const char *s, bool foreign)
{
	struct md_put *m = ctx;
	if (foreign)
		put_raw_s(m->c, m->o, s);
	else
		put(m->c, m->o, s);
}

static void put_side(struct ctx *c, struct ed_buf *o, const struct ed_snapref *one,
		     const struct ed_snapref *v, size_t n, bool hosts)
{
	if (!n) {
		v = one;
		n = 1;
	}
	put(c, o, "**");
	put_raw_s(c, o, v[0].env);
	put(c, o, "**");
	if (n > 1 && !hosts) {
		struct md_put m = {c, o};
		put(c, o, " ");
		if (ed_side_roles(v, n, md_put, &m))
			c->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ed_buf_addf(o, "%s @%lld ", i ? "," : "", (long long)v[i].id))
			c->oom = true;
		put_raw_s(c, o, v[i].host);
		put(c, o, " (");
		put_raw_s(c, o, v[i].started_at);
		put(c, o, ")");
	}
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* One table row for e; role: whether the table has a role column. */
static void row(struct ctx *c, struct ed_buf *o, const struct ed_drift_entry *e, bool role)
{
	struct ed_buf what = ED_BUF_INIT;
	if (ed_drift_describe(e, &what))
		c->oom = true;
	put(c, o, "| ");
	put(c, o, !c->d->policy ? "-" : e->ignored ? "ignored" : e->severity ? e->severity : "block");
	put(c, o, " | ");
	if (role) {
		put_raw_s(c, o, e->role && *e->role ? e->role : "-");
		put(c, o, " | ");
	}
	put(c, o, ed_change_name(e->change));
	put(c, o, " | ");
	put_code(c, o, e->key, e->key_len);
	put(c, o, " | ");
	if (what.len)
		put_code(c, o, what.p, what.len);
	if (e->ignored) {
		put(c, o, what.len ? " — ignored: " : "ignored: ");
		put_raw_s(c, o, e->reason ? e->reason : "expected difference");
	}
	put(c, o, " |\n");
	ed_buf_release(&what);
}

/* Where a diff's lines go: a fenced "diff" block, whose fence no line can close. */
struct udiff_md {
	struct ctx *c;
	struct ed_buf *o;
	const struct ed_drift_entry *e;
	size_t fence; /* backticks in the fence */
};

/* The longest run of backticks in the kept texts, so a fence can be longer. */
static size_t longest_backticks(const struct ed_kept *k)
{
	size_t best = 0;
	const char *t[2] = {k->ref, k->cand};
	size_t n[2] = {k->ref_len, k->cand_len};
	for (int s = 0; s < 2; s++)
		for (size_t i = 0, run = 0; t[s] && i < n[s]; i++) {
			run = t[s][i] == '`' ? run + 1 : 0;
			if (run > best)
				best = run;
		}
	return best;
}

static int put_udiff_line(void *arg, enum ed_udiff_kind kind, const char *s, size_t len)
{
	struct udiff_md *u = arg;
	struct ctx *c = u->c;
	struct ed_buf *o = u->o;
	const char *sign = "";
	switch (kind) {
	case ED_UDIFF_NOTE:
		put(c, o, "\n");
		put_code(c, o, u->e->key, u->e->key_len);
		put(c, o, ": ");
		put_raw(c, o, s, len);
		put(c, o, "\n");
		return c->oom;
	case ED_UDIFF_BEGIN:
		put(c, o, "\n<details><summary>diff of ");
		put_code(c, o, u->e->key, u->e->key_len);
		if (ed_buf_addf(o, " (%zu %s)</summary>\n\n", len, plural(len, "line", "lines")))
			c->oom = true;
		for (size_t i = 0; i < u->fence; i++)
			put(c, o, "`");
		put(c, o, "diff\n");
		return c->oom;
	case ED_UDIFF_END:
		for (size_t i = 0; i < u->fence; i++)
			put(c, o, "`");
		put(c, o, "\n\n</details>\n");
		return c->oom;
	case ED_UDIFF_CTX: sign = " "; break;
	case ED_UDIFF_DEL: sign = "-"; break;
	case ED_UDIFF_ADD: sign = "+"; break;
	case ED_UDIFF_HEAD:
	case ED_UDIFF_HUNK:
	case ED_UDIFF_NOEOL: break;
	}
	/* In a fenced block text is literal: shown, nothing else escaped. */
	put(c, o, sign);
	if (ed_buf_add_shown(o, s, len, true))
		c->oom = true;
	put(c, o, "\n");
	return c->oom;
}

/*
 * The diffs of a kind's changed files with kept texts, each folded in
 * <details>; it stops past ED_MD_BUDGET bytes, when they would be left out
 * anyway.
 */
static void put_diffs(struct ctx *c, struct ed_buf *o, const char *kind)
{
	const struct ed_drift *d = c->d;
	for (size_t i = 0; i < d->n && !c->oom && o->len <= ED_MD_BUDGET; i++) {
		const struct ed_drift_entry *e = ed_drift_at(&c->diffs, i);
		if ((e->ignored && !c->opts->show_ignored) || !e->kept || strcmp(e->kind, kind) != 0)
			continue;
		size_t fence = longest_backticks(e->kept) + 1;
		struct udiff_md u = {c, o, e, fence < 3 ? 3 : fence};
		if (ed_kept_udiff(d, e, put_udiff_line, &u))
			c->oom = true;
	}
}

static enum ed_code render_markdown(FILE *out, const struct ed_drift *d,
				    const struct ed_render_opts *opts, struct ed_err *err)
{
	struct ctx c = {.d = d, .opts = opts, .t = ED_BUF_INIT};
	struct ed_buf o = ED_BUF_INIT, r = ED_BUF_INIT;
	struct ed_kstat *ks = NULL;
	size_t nk = 0;
	ed_drift_reader_init(&c.rows, d, false);
	ed_drift_reader_init(&c.diffs, d, true);
	enum ed_code rc = ed_kind_stats(d, opts->show_ignored, &ks, &nk, err);
	if (rc)
		goto out;
	struct ed_kstat tot = ed_kind_total(d, ks, nk);
	bool role = false;
	for (size_t i = 0; i < d->n && !role; i++) {
		const struct ed_drift_entry *e = ed_drift_at(&c.rows, i);
		if ((!e->ignored || opts->show_ignored) && e->role && *e->role)
			role = true;
	}
	size_t drift = tot.added + tot.removed + tot.changed;

	put(&c, &o, "### envdrift: ");
	if (ed_drift_same_env(d)) {
		put(&c, &o, drift ? "what changed in " : "nothing changed in ");
		put_raw_s(&c, &o, d->cand.env);
	} else {
		put_raw_s(&c, &o, d->cand.env);
		put(&c, &o, drift ? " differs from " : " mirrors ");
		put_raw_s(&c, &o, d->ref.env);
	}
	put(&c, &o, "\n\n| kind | added | removed | changed | blocking | ignored |\n"
		    "|:-----|------:|--------:|--------:|---------:|--------:|\n");
	/* Without a policy nothing was judged: no blocking counts, no severities. */
	char num[32];
	for (size_t k = 0; k <= nk; k++) {
		const struct ed_kstat *row_k = k < nk ? &ks[k] : &tot;
		const char *b = k < nk ? "" : "**";
		snprintf(num, sizeof(num), "%s%zu%s", b, row_k->blocking, b);
		put(&c, &o, "| ");
		if (k < nk)
			put_raw_s(&c, &o, row_k->kind);
		else
			put(&c, &o, "**total**");
		if (ed_buf_addf(&o, " | %s%zu%s | %s%zu%s | %s%zu%s | %s | %s%zu%s |\n", b, row_k->added, b,
				b, row_k->removed, b, b, row_k->changed, b, d->policy ? num : "-", b,
				row_k->ignored, b))
			c.oom = true;
	}
	put(&c, &o, "\n");

	if (drift && !d->policy) {
		if (ed_buf_addf(&o, "**%zu %s** (%s", drift, plural(drift, "difference", "differences"),
				ED_NO_POLICY))
			c.oom = true;
	} else if (drift) {
		if (ed_buf_addf(&o, "**%zu %s: %zu blocking**, %zu %s, %zu %s; %zu ignored by the policy",
				drift, plural(drift, "difference", "differences"), tot.blocking,
				tot.warnings, plural(tot.warnings, "warning", "warnings"), tot.infos,
				plural(tot.infos, "note", "notes"), tot.ignored))
			c.oom = true;
	} else {
		if (ed_buf_addf(&o, "**No drift** in %lld %s compared; %zu ignored by the policy",
				(long long)d->compared, plural((size_t)d->compared, "item", "items"),
				tot.ignored))
			c.oom = true;
	}
	put(&c, &o, drift && !d->policy ? ").\n\n"
		    : tot.ignored && !opts->show_ignored ? " (listed with `--show-ignored`).\n\n"
							 : ".\n\n");
	put(&c, &o, "Reference: ");
	put_side(&c, &o, &d->ref, d->refs, d->nrefs, opts->hosts);
	put(&c, &o, "  \nCandidate: ");
	put_side(&c, &o, &d->cand, d->cands, d->ncands, opts->hosts);
	put(&c, &o, "  \nPolicy: ");
	if (d->policy)
		put_code_s(&c, &o, d->policy);
	else
		put(&c, &o, "none: " ED_NO_POLICY);
	put(&c, &o, "\n");

	if (d->nexpired) {
		if (ed_buf_addf(&o, "\n**%zu policy %s expired** and no longer %s:\n\n"
				    "| rule | expired | reason |\n|---|---|---|\n",
				d->nexpired, plural(d->nexpired, "rule has", "rules have"),
				plural(d->nexpired, "applies", "apply")))
			c.oom = true;
		for (size_t i = 0; i < d->nexpired; i++) {
			put(&c, &o, "| ");
			put_code_s(&c, &o, d->expired[i].text);
			put(&c, &o, " | ");
			put_raw_s(&c, &o, d->expired[i].expires);
			put(&c, &o, " | ");
			put_raw_s(&c, &o, d->expired[i].reason ? d->expired[i].reason : "-");
			put(&c, &o, " |\n");
		}
	}

	/* Rows go in while the comment stays under the budget; what closes it fits the reserve. */
	const size_t reserve = 4000 + 200 * nk;
	size_t unlisted = 0;
	for (size_t k = 0; k < nk; k++) {
		const struct ed_kstat *s = &ks[k];
		if (!s->listed)
			continue;
		put(&c, &o, "\n<details><summary>");
		put_html(&c, &o, s->kind);
		if (ed_buf_addf(&o, ": %zu %s", s->listed, plural(s->listed, "difference", "differences")))
			c.oom = true;
		if (d->policy && s->blocking && ed_buf_addf(&o, ", %zu blocking", s->blocking))
			c.oom = true;
		if (s->ignored && opts->show_ignored && ed_buf_addf(&o, ", %zu ignored", s->ignored))
			c.oom = true;
		put(&c, &o, role ? "</summary>\n\n| severity | role | change | key | what differs |\n"
				   "|---|---|---|---|---|\n"
				 : "</summary>\n\n| severity | change | key | what differs |\n"
				   "|---|---|---|---|\n");
		size_t here = 0;
		for (size_t i = 0; i < d->n; i++) {
			const struct ed_drift_entry *e = ed_drift_at(&c.rows, i);
			if ((e->ignored && !opts->show_ignored) || strcmp(e->kind, s->kind) != 0)
				continue;
			ed_buf_reset(&r);
			row(&c, &r, e, role);
			if (unlisted || o.len + r.len + reserve > ED_MD_BUDGET) {
				unlisted++;
				here++;
				continue;
			}
			if (ed_buf_add(&o, r.p, r.len))
				c.oom = true;
		}
		if (here && ed_buf_addf(&o, "\n*%zu more not listed here: the comment would be "
					    "too long.*\n", here))
			c.oom = true;
		/* The diffs go in whole while they fit the budget; past it they are left out. */
		size_t before = o.len;
		ed_buf_reset(&r);
		put_diffs(&c, &r, s->kind);
		if (r.len && !unlisted && before + r.len + reserve <= ED_MD_BUDGET)
			put(&c, &o, ed_buf_str(&r));
		else if (r.len)
			put(&c, &o, "\n*The diffs of kept content are not listed here: the comment would "
				    "be too long.*\n");
		put(&c, &o, "\n</details>\n");
	}

	if (d->nsnowflakes) {
		if (ed_buf_addf(&o, "\n<details><summary>snowflakes: %zu %s that %s with %s role"
				    "</summary>\n\n| environment | role | host | kind | key | its value | "
				    "majority value |\n"
				    "|---|---|---|---|---|---|---|\n",
				d->nsnowflakes, plural(d->nsnowflakes, "host item", "host items"),
				plural(d->nsnowflakes, "disagrees", "disagree"),
				plural(d->nsnowflakes, "its", "their")))
			c.oom = true;
		size_t here = 0;
		for (size_t i = 0; i < d->nsnowflakes; i++) {
			const struct ed_snowflake *f = &d->snowflakes[i];
			ed_buf_reset(&r);
			put(&c, &r, "| ");
			put_raw_s(&c, &r, f->env);
			put(&c, &r, " | ");
			put_raw_s(&c, &r, f->role && *f->role ? f->role : "-");
			put(&c, &r, " | ");
			put_raw_s(&c, &r, f->host);
			put(&c, &r, " | ");
			put_raw_s(&c, &r, f->kind);
			put(&c, &r, " | ");
			put_code_s(&c, &r, f->key);
			put(&c, &r, " | ");
			if (f->value)
				put_code_s(&c, &r, f->value);
			else
				put(&c, &r, "(absent or secret)");
			put(&c, &r, " | ");
			if (f->majority_value)
				put_code_s(&c, &r, f->majority_value);
			else
				put(&c, &r, "(absent or secret)");
			put(&c, &r, " |\n");
			if (unlisted || o.len + r.len + reserve > ED_MD_BUDGET) {
				unlisted++;
				here++;
				continue;
			}
			if (ed_buf_add(&o, r.p, r.len))
				c.oom = true;
		}
		if (here && ed_buf_addf(&o, "\n*%zu more not listed here: the comment would be "
					    "too long.*\n", here))
			c.oom = true;
		put(&c, &o, "\n</details>\n");
	}
	if (unlisted && ed_buf_addf(&o, "\n%zu %s not listed to keep this comment under GitHub's "
					"65536 characters: `envdrift diff --format html` shows all.\n",
				    unlisted, plural(unlisted, "row is", "rows are")))
		c.oom = true;

	if ((rc = ed_drift_reader_failed(&c.rows, err)) ||
	    (rc = ed_drift_reader_failed(&c.diffs, err)))
		goto out;
	if (c.oom) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
		goto out;
	}
	if (fwrite(o.p, 1, o.len, out) != o.len || ferror(out))
		rc = ed_err_set(err, ED_IO, "cannot write the report");
out:
	ed_drift_reader_release(&c.rows);
	ed_drift_reader_release(&c.diffs);
	ed_kind_stats_free(ks, nk);
	ed_buf_release(&o);
	ed_buf_release(&r);
	ed_buf_release(&c.t);
	return rc;
}

const struct ed_report_ops ed_report_markdown = {.name = "markdown", .render = render_markdown,
						 .kept_content = true};
