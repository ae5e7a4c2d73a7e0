/* SPDX-License-Identifier: MIT */
/* The text report: counts first, then the drift grouped by kind, one line per item. */
#include <string.h>

#include "ed/diff.h"
#include "report_common.h"

const char *ed_change_name(enum ed_change c)
{
	switch (c) {
	case ED_ADDED: return "added";
	case ED_REMOVED: return "removed";
	case ED_CHANGED: return "changed";
	}
	return "?";
}

/* Appends text made safe for a terminal: control bytes become \xHH. */
static int add_visible(struct ed_buf *out, const char *s, size_t max)
{
	/*
	 * Safe for a terminal: control bytes, bidirectional overrides and invalid
	 * UTF-8 become \xHH (ed_buf_add_shown). Cut after max bytes, never inside
	 * a UTF-8 sequence.
	 */
	size_t len = strlen(s);
	if (len <= max)
		return ed_buf_add_shown(out, s, len, false);
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	if (ed_buf_add_shown(out, s, max, false))
		return -1;
	return ed_buf_adds(out, "...");
}

static int add_pair(struct ed_buf *out, const char *name, const char *a, const char *b)
{
	if (out->len && ed_buf_adds(out, ", "))
		return -1;
	if (ed_buf_adds(out, name) || ed_buf_addc(out, ' ') || add_visible(out, a ? a : "(none)", 80) ||
	    ed_buf_adds(out, " -> ") || add_visible(out, b ? b : "(none)", 80))
		return -1;
	return 0;
}

static int add_mode_pair(struct ed_buf *out, uint32_t a, uint32_t b)
{
	char x[16], y[16];
	snprintf(x, sizeof(x), "%04o", a);
	snprintf(y, sizeof(y), "%04o", b);
	return add_pair(out, "mode", x, y);
}

int ed_drift_describe(const struct ed_drift_entry *e, struct ed_buf *out)
{
	const struct ed_side *r = &e->ref, *c = &e->cand;
	size_t start = out->len;
	struct ed_buf tmp = ED_BUF_INIT;
	int rc = 0;
	if (e->change != ED_CHANGED) {
		const struct ed_side *s = e->change == ED_ADDED ? c : r;
		/* A shape or a sample on one side only: what could not be compared. */
		if (strcmp(e->kind, ED_KIND_DATA) == 0)
			rc = ed_data_describe(e, &tmp);
		else if (strcmp(e->kind, ED_KIND_ROWS) == 0)
			rc = ed_rows_describe(e, &tmp);
		else if (ed_side_secret(s))
			rc = ed_buf_adds(&tmp, "(secret)");
		else if (s->value && strcmp(e->kind, ED_KIND_FILE) != 0)
			rc = add_visible(&tmp, s->value, 80);
		else if (s->ftype != ED_FT_NONE)
			rc = ed_buf_adds(&tmp, ed_ftype_name(s->ftype));
		goto out;
	}
	if (!e->fields) {
		/* Equal where the policy demands a difference: say so, never what they hold. */
		rc = ed_buf_adds(&tmp, ed_side_secret(r) || ed_side_secret(c) ? "the same secret on both sides"
								    : "the same value on both sides");
		goto out;
	}
	if (strcmp(e->kind, ED_KIND_DATA) == 0) {
		rc = ed_data_describe(e, &tmp);
		goto out;
	}
	if (strcmp(e->kind, ED_KIND_ROWS) == 0) {
		rc = ed_rows_describe(e, &tmp);
		goto out;
	}
	for (unsigned bit = 1; bit && bit <= ED_F_ERROR && !rc; bit <<= 1) {
		if (!(e->fields & bit))
			continue;
		switch (bit) {
		case ED_F_MODE:
			rc = add_mode_pair(&tmp, r->mode, c->mode);
			break;
		case ED_F_TYPE:
			rc = add_pair(&tmp, "type", ed_ftype_name(r->ftype), ed_ftype_name(c->ftype));
			break;
		case ED_F_OWNER:
			rc = add_pair(&tmp, "owner", r->owner, c->owner);
			break;
		case ED_F_GROUP:
			rc = add_pair(&tmp, "group", r->group, c->group);
			break;
		case ED_F_TARGET:
			rc = add_pair(&tmp, "target", r->target, c->target);
			break;
		case ED_F_ERROR:
			rc = add_pair(&tmp, "error", r->error, c->error);
			break;
		case ED_F_VALUE:
			if (ed_side_secret(r) || ed_side_secret(c))
				rc = ed_buf_adds(&tmp, tmp.len ? ", secret value differs"
							       : "secret value differs");
			else
				rc = add_pair(&tmp, "value", r->value, c->value);
			break;
		case ED_F_VERSION:
			rc = add_pair(&tmp, "version", r->value, c->value);
			if (!rc && e->direction)
				rc = ed_buf_addf(&tmp, " (%s)", ed_direction_name(e->direction));
			break;
		default: /* content, definition: too long for one line */
			rc = (tmp.len && ed_buf_adds(&tmp, ", ")) ||
			     ed_buf_adds(&tmp, ed_field_name(bit)) || ed_buf_adds(&tmp, " differs");
			break;
		}
	}
out:
	if (!rc && tmp.len)
		rc = ed_buf_add(out, tmp.p, tmp.len);
	ed_buf_release(&tmp);
	if (rc) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	return rc;
}

static const char *color_of(enum ed_change c)
{
	switch (c) {
	case ED_ADDED: return "\033[32m";
	case ED_REMOVED: return "\033[31m";
	case ED_CHANGED: return "\033[33m";
	}
	return "";
}

/* ed_side_roles() onto a terminal: names through ed_term_printf(). */
struct text_put {
	FILE *out;
	int bad;
};

static void text_put(void *ctx, const char *s, bool foreign)
{
	struct text_put *t = ctx;
	if (foreign)
		t->bad |= ed_term_printf(t->out, "%s", s);
	else
		fputs(s, t->out);
}

/*
 * A side: one host's snapshot, or how many hosts per role (every host, one
 * a line, with hosts). Foreign names through ed_term_printf(); -1 when that
 * failed (out of memory).
 */
static int side_label(FILE *out, const struct ed_snapref *v, size_t n, bool hosts)
{
	if (n <= 1)
		return ed_term_printf(out, "%s (@%lld %s, %s)", v->env, (long long)v->id, v->host,
				      v->started_at);
	struct text_put t = {.out = out};
	t.bad |= ed_term_printf(out, "%s (", v->env);
	t.bad |= ed_side_roles(v, n, text_put, &t);
	fputc(')', out);
	for (size_t i = 0; hosts && i < n; i++) {
		fputs("\n  ", out);
		t.bad |= ed_term_printf(out, "%s%s%s @%lld", *v[i].role ? v[i].role : "",
					*v[i].role ? "/" : "", v[i].host, (long long)v[i].id);
	}
	return t.bad;
}

/* Where a diff's lines go: under the entry, indented, coloured on a terminal. */
struct udiff_out {
	FILE *out;
	bool color;
	struct ed_buf *line; /* scratch */
};

static int put_udiff_line(void *arg, enum ed_udiff_kind kind, const char *s, size_t len)
{
	struct udiff_out *u = arg;
	const char *sign = "", *color = "";
	switch (kind) {
	case ED_UDIFF_BEGIN:
	case ED_UDIFF_END:
		return 0;
	case ED_UDIFF_NOTE: sign = "("; break;
	case ED_UDIFF_HEAD: color = "\033[1m"; break;
	case ED_UDIFF_HUNK: color = "\033[36m"; break;
	case ED_UDIFF_CTX: sign = " "; break;
	case ED_UDIFF_DEL: sign = "-", color = "\033[31m"; break;
	case ED_UDIFF_ADD: sign = "+", color = "\033[32m"; break;
	case ED_UDIFF_NOEOL: break;
	}
	ed_buf_reset(u->line);
	if (ed_buf_adds(u->line, sign) || ed_buf_add_shown(u->line, s, len, true) ||
	    (kind == ED_UDIFF_NOTE && ed_buf_addc(u->line, ')')))
		return -1;
	bool paint = u->color && *color;
	fprintf(u->out, "      %s%s%s\n", paint ? color : "", ed_buf_str(u->line), paint ? "\033[0m" : "");
	return 0;
}

static enum ed_code render_text(FILE *out, const struct ed_drift *d,
				const struct ed_render_opts *opts, struct ed_err *err)
{
	struct ed_buf line = ED_BUF_INIT, group = ED_BUF_INIT;
	struct ed_drift_reader r, look; /* the entries listed (with kept texts), and counted */
	enum ed_code rc = ED_OK;
	int bad = 0;
	ed_drift_reader_init(&r, d, opts->diffs);
	ed_drift_reader_init(&look, d, false);
	fputs("reference: ", out);
	bad |= side_label(out, d->nrefs ? d->refs : &d->ref, d->nrefs ? d->nrefs : 1, opts->hosts);
	fputs("\ncandidate: ", out);
	bad |= side_label(out, d->ncands ? d->cands : &d->cand, d->ncands ? d->ncands : 1,
			  opts->hosts);
	fputc('\n', out);
	bool all = opts->show_ignored;
	size_t shown = d->n - (all ? 0 : d->ignored);
	if (d->n == d->ignored) {
		if (ed_drift_same_env(d))
			bad |= ed_term_printf(out, "no drift: nothing changed in %s (%lld items compared",
				d->cand.env, (long long)d->compared);
		else
			bad |= ed_term_printf(out, "no drift: %s mirrors %s (%lld items compared",
				d->cand.env, d->ref.env, (long long)d->compared);
		if (d->ignored)
			fprintf(out, ", %zu expected %s ignored", d->ignored,
				d->ignored == 1 ? "difference" : "differences");
		fputs(")\n", out);
	} else {
		size_t n = d->n - d->ignored;
		fprintf(out, "%zu %s: %zu added, %zu removed, %zu changed (", n,
			n == 1 ? "difference" : "differences", d->added, d->removed, d->changed);
		if (!d->policy)
			fputs(ED_NO_POLICY, out);
		else
			fprintf(out, "%zu blocking", d->blocking);
		if (d->policy && (d->warnings || d->infos))
			fprintf(out, ", %zu warn, %zu info", d->warnings, d->infos);
		fprintf(out, d->ignored ? "; %zu ignored)\n" : ")\n", d->ignored);
	}
	for (size_t k = 0; k < d->nexpired; k++)
		bad |= ed_term_printf(out, "expired rule: %s (expired %s: %s): it no longer applies\n",
			d->expired[k].text, d->expired[k].expires, d->expired[k].reason);
	for (size_t i = 0; i < d->n && shown && !look.rc;) {
		const struct ed_drift_entry *g = ed_drift_at(&look, i);
		if (g->ignored && !all) {
			i++;
			continue;
		}
		/* The group's kind, then its role, each NUL-terminated. */
		ed_buf_reset(&group);
		if (ed_buf_add(&group, g->kind, strlen(g->kind) + 1) ||
		    ed_buf_adds(&group, g->role ? g->role : "")) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
			goto out;
		}
		const char *kind = group.p, *role = group.p + strlen(group.p) + 1;
		size_t j = i, count = 0;
		for (; j < d->n; j++) {
			const struct ed_drift_entry *x = ed_drift_at(&look, j);
			if (strcmp(x->kind, kind) != 0 || strcmp(x->role ? x->role : "", role) != 0 ||
			    look.rc)
				break;
			count += all || !x->ignored;
		}
		fprintf(out, "\n%s", opts->color ? "\033[1m" : "");
		bad |= ed_term_printf(out, "%s (%zu)%s%s", kind, count, *role ? ", role " : "", role);
		fprintf(out, "%s\n", opts->color ? "\033[0m" : "");
		for (; i < j; i++) {
			const struct ed_drift_entry *e = ed_drift_at(&r, i);
			if (e->ignored && !all)
				continue;
			ed_buf_reset(&line);
			size_t keylen;
			if (add_visible(&line, e->key, 4096) || ed_buf_adds(&line, "  ") ||
			    ((keylen = line.len), ed_drift_describe(e, &line))) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
				goto out;
			}
			if (line.len == keylen) /* nothing to describe: no trailing blanks */
				line.p[line.len -= 2] = '\0';
			/*
			 * Every line says its verdict; an ignored one, the policy's
			 * reason. Without a policy (a history) nothing was judged.
			 */
			const char *sev = !d->policy ? NULL : e->ignored ? "ignored"
							 : e->severity ? e->severity : "block";
			if (e->ignored && (ed_buf_adds(&line, "  (ignored: ") ||
					   add_visible(&line, e->reason ? e->reason : "expected difference", 4096) ||
					   ed_buf_addc(&line, ')'))) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
				goto out;
			}
			fprintf(out, "  %s%-7s%s %s%s%s%s\n", opts->color ? color_of(e->change) : "",
				ed_change_name(e->change), opts->color ? "\033[0m" : "", sev ? "[" : "",
				sev ? sev : "", sev ? "] " : "", line.p);
			if (opts->diffs && ed_kept_udiff(d, e, put_udiff_line,
							 &(struct udiff_out){out, opts->color, &line})) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
				goto out;
			}
		}
	}
	if (d->nsnowflakes) {
		fprintf(out, "\n%ssnowflakes (%zu): hosts that disagree with the majority of their role%s\n",
			opts->color ? "\033[1m" : "", d->nsnowflakes, opts->color ? "\033[0m" : "");
		for (size_t k = 0; k < d->nsnowflakes && k < ED_REPORT_MAX_SNOWFLAKES; k++) {
			const struct ed_snowflake *f = &d->snowflakes[k];
			const char *frole = *f->role ? f->role : "(no role)";
			ed_buf_reset(&line);
			if (ed_term_add(&line, f->env, strlen(f->env)) || ed_buf_addc(&line, '/') ||
			    ed_term_add(&line, frole, strlen(frole)) || ed_buf_addc(&line, ' ') ||
			    ed_term_add(&line, f->host, strlen(f->host)) || ed_buf_addc(&line, ' ') ||
			    ed_term_add(&line, f->kind, strlen(f->kind)) || ed_buf_addc(&line, ' ') ||
			    add_visible(&line, f->key, 4096) || ed_buf_adds(&line, ": ") ||
			    add_visible(&line, f->value ? f->value : "(absent or secret)", 80) ||
			    ed_buf_adds(&line, " (majority: ") ||
			    add_visible(&line, f->majority_value ? f->majority_value : "absent or secret", 80) ||
			    ed_buf_addc(&line, ')')) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
				goto out;
			}
			fprintf(out, "  %s\n", line.p);
		}
		if (d->nsnowflakes > ED_REPORT_MAX_SNOWFLAKES)
			fprintf(out, "  ... and %zu more (--format json lists every one)\n",
				d->nsnowflakes - ED_REPORT_MAX_SNOWFLAKES);
	}
out:
	if (rc == ED_OK)
		rc = ed_drift_reader_failed(&look, err);
	if (rc == ED_OK)
		rc = ed_drift_reader_failed(&r, err);
	ed_drift_reader_release(&r);
	ed_drift_reader_release(&look);
	ed_buf_release(&line);
	ed_buf_release(&group);
	if (rc == ED_OK && ferror(out))
		rc = ed_err_set(err, ED_IO, "cannot write the report");
	else if (rc == ED_OK && bad)
		rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
	return rc;
}

const struct ed_report_ops ed_report_text = {.name = "text", .render = render_text};
