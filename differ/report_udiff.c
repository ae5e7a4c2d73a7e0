/* SPDX-License-Identifier: MIT */
/*
 * Unified diffs of the kept texts attached to a drift entry (report_common.h):
 * Myers' line diff, hunks with three lines of context, and the note that says
 * why there is no diff. Every report format that shows diffs writes these lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_common.h"

/* Files longer than this are not diffed; nor are files with more changed lines than ED_DIFF_MAX_D. */
#define ED_DIFF_MAX_LINES 5000
#define ED_DIFF_MAX_D 1000
#define ED_DIFF_CONTEXT 3

/* The lines of a text: pointers into it, '\n' not included. */
struct lines {
	const char *text;
	size_t n;
	size_t *start; /* n + 1 offsets; line i is [start[i], start[i+1] - 1) */
	uint64_t *hash;
	bool no_eol;   /* the last line has no '\n' */
};

static size_t line_len(const struct lines *l, size_t i)
{
	size_t end = l->start[i + 1];
	/* Every line but an unterminated last one ends in '\n'. */
	return end - l->start[i] - (i + 1 == l->n && l->no_eol ? 0 : 1);
}

/* Frees what lines_split() allocated; safe to call again. */
static void lines_release(struct lines *l)
{
	free(l->start);
	free(l->hash);
	l->start = NULL;
	l->hash = NULL;
	l->n = 0;
}

/* Splits text into lines; -1 when out of memory. */
static int lines_split(const char *text, size_t len, struct lines *l)
{
	memset(l, 0, sizeof(*l));
	l->text = text;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	l->no_eol = len && text[len - 1] != '\n';
	n += l->no_eol;
	l->start = malloc((n + 1) * sizeof(*l->start));
	l->hash = malloc((n ? n : 1) * sizeof(*l->hash));
	if (!l->start || !l->hash) {
		lines_release(l);
		return -1;
	}
	size_t k = 0;
	l->start[0] = 0;
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			l->hash[k] = h;
			l->start[++k] = i + 1;
			h = 1469598103934665603u;
		} else {
			h = (h ^ (unsigned char)text[i]) * 1099511628211u;
		}
	}
	if (l->no_eol) {
		l->hash[k] = h ^ 1; /* an unterminated last line differs from a terminated one */
		l->start[++k] = len;
	}
	l->n = n;
	return 0;
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	size_t la = line_len(a, i), lb = line_len(b, j);
	bool ea = i + 1 == a->n && a->no_eol, eb = j + 1 == b->n && b->no_eol;
	return a->hash[i] == b->hash[j] && la == lb && ea == eb &&
	       memcmp(a->text + a->start[i], b->text + b->start[j], la) == 0;
}

enum op_type { OP_EQ, OP_DEL, OP_INS };

/* One line of the edit script; ai and bi are positions in a and b before the op. */
struct op {
	enum op_type t;
	size_t ai, bi;
};

enum diff_result { DIFF_OK, DIFF_NOMEM, DIFF_TOO_DIFFERENT };

/*
 * Myers' O((N+M)D) greedy diff. Keeps each round's frontier for the way back,
 * 2d+3 entries for round d, so memory grows with D squared: D is capped at
 * ED_DIFF_MAX_D (about 8 MB). *ops (n + m entries at most) is the edit script.
 */
static enum diff_result myers(const struct lines *a, const struct lines *b, struct op **ops,
			      size_t *nops)
{
	const long n = (long)a->n, m = (long)b->n;
	const long maxd = n + m < ED_DIFF_MAX_D ? n + m : ED_DIFF_MAX_D;
	const long off = maxd + 1;
	long *v = calloc((size_t)(2 * maxd + 3), sizeof(*v));
	long *trace = NULL;
	struct op *o = NULL;
	size_t ntrace = 0;
	long found = -1;
	enum diff_result res = DIFF_NOMEM;
	if (!v)
		goto out;
	trace = malloc((size_t)((maxd + 1) * (maxd + 1) + 2 * (maxd + 1)) * sizeof(*trace));
	o = malloc((size_t)(n + m + 1) * sizeof(*o));
	if (!trace || !o)
		goto out;
	for (long d = 0; d <= maxd && found < 0; d++) {
		/* Round d reads v[-d-1 .. d+1]: keep that slice for the way back. */
		memcpy(trace + ntrace, v + off - d - 1, (size_t)(2 * d + 3) * sizeof(*v));
		ntrace += (size_t)(2 * d + 3);
		for (long k = -d; k <= d; k += 2) {
			long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
					 ? v[off + k + 1]
					 : v[off + k - 1] + 1;
			long y = x - k;
			while (x < n && y < m && line_eq(a, (size_t)x, b, (size_t)y))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0) {
		res = DIFF_TOO_DIFFERENT;
		goto out;
	}
	/* Back from (n, m): the script comes out reversed. */
	size_t k_ops = 0;
	long x = n, y = m;
	for (long d = found; d >= 0; d--) {
		const long *vd = trace + (size_t)(d * d + 2 * d) + 1 + d; /* vd[k] for k in -d-1..d+1 */
		long k = x - y;
		long pk = (k == -d || (k != d && vd[k - 1] < vd[k + 1])) ? k + 1 : k - 1;
		long px = vd[pk], py = px - pk;
		while (x > px && y > py) {
			x--, y--;
			o[k_ops++] = (struct op){OP_EQ, (size_t)x, (size_t)y};
		}
		if (d > 0) {
			if (x == px)
				o[k_ops++] = (struct op){OP_INS, (size_t)x, (size_t)--y};
			else
				o[k_ops++] = (struct op){OP_DEL, (size_t)--x, (size_t)y};
		}
		x = px;
		y = py;
	}
	for (size_t i = 0; i < k_ops / 2; i++) {
		struct op t = o[i];
		o[i] = o[k_ops - 1 - i];
		o[k_ops - 1 - i] = t;
	}
	*ops = o;
	*nops = k_ops;
	o = NULL;
	res = DIFF_OK;
out:
	free(v);
	free(trace);
	free(o);
	return res;
}

/* "@@ -1,7 +1,8 @@" ranges: a count of 0 names the line before, a count of 1 only the line. */
static int add_range(struct ed_buf *b, char sign, size_t start, size_t count)
{
	if (count == 1)
		return ed_buf_addf(b, "%c%zu", sign, start + 1);
	return ed_buf_addf(b, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

/* Calls fn for line i of l, then for its missing newline if it is the unterminated last one. */
static int emit_line(ed_udiff_fn fn, void *arg, enum ed_udiff_kind k, const struct lines *l,
		     size_t i)
{
	static const char noeol[] = "\\ No newline at end of file";
	int rc = fn(arg, k, l->text + l->start[i], line_len(l, i));
	if (!rc && i + 1 == l->n && l->no_eol)
		rc = fn(arg, ED_UDIFF_NOEOL, noeol, sizeof(noeol) - 1);
	return rc;
}

/* The hunks of the edit script, with ED_DIFF_CONTEXT lines of context. */
static int emit_hunks(ed_udiff_fn fn, void *arg, const struct lines *a, const struct lines *b,
		      const struct op *o, size_t nops)
{
	const size_t ctxl = ED_DIFF_CONTEXT;
	struct ed_buf h = ED_BUF_INIT;
	int rc = 0;
	size_t i = 0;
	while (i < nops && !rc) {
		if (o[i].t == OP_EQ) {
			i++;
			continue;
		}
		size_t start = i > ctxl ? i - ctxl : 0;
		size_t last = i, j = i;
		for (; j < nops; j++) {
			if (o[j].t != OP_EQ)
				last = j;
			else if (j - last > 2 * ctxl)
				break;
		}
		size_t end = last + 1 + ctxl < nops ? last + 1 + ctxl : nops;
		size_t na = 0, nb = 0;
		for (size_t k = start; k < end; k++) {
			na += o[k].t != OP_INS;
			nb += o[k].t != OP_DEL;
		}
		ed_buf_reset(&h);
		if (ed_buf_adds(&h, "@@ ") || add_range(&h, '-', o[start].ai, na) ||
		    ed_buf_addc(&h, ' ') || add_range(&h, '+', o[start].bi, nb) ||
		    ed_buf_adds(&h, " @@")) {
			rc = -1;
			break;
		}
		rc = fn(arg, ED_UDIFF_HUNK, h.p, h.len);
		for (size_t k = start; k < end && !rc; k++) {
			if (o[k].t == OP_EQ)
				rc = emit_line(fn, arg, ED_UDIFF_CTX, a, o[k].ai);
			else if (o[k].t == OP_DEL)
				rc = emit_line(fn, arg, ED_UDIFF_DEL, a, o[k].ai);
			else
				rc = emit_line(fn, arg, ED_UDIFF_ADD, b, o[k].bi);
		}
		i = end;
	}
	ed_buf_release(&h);
	return rc;
}

/* "--- production /etc/x": a head line of the diff. */
static int emit_head(ed_udiff_fn fn, void *arg, struct ed_buf *t, const char *sign,
		     const char *env, const struct ed_drift_entry *e)
{
	ed_buf_reset(t);
	if (ed_buf_adds(t, sign) || ed_buf_adds(t, env ? env : "") || ed_buf_addc(t, ' ') ||
	    ed_buf_add(t, e->key, e->key_len))
		return -1;
	return fn(arg, ED_UDIFF_HEAD, t->p, t->len);
}

int ed_kept_udiff(const struct ed_drift *d, const struct ed_drift_entry *e, ed_udiff_fn fn,
		  void *arg)
{
	const struct ed_kept *k = e->kept;
	struct lines a = {0}, b = {0};
	struct op *ops = NULL;
	size_t nops = 0;
	struct ed_buf t = ED_BUF_INIT;
	int rc = 0;
	if (!k)
		return 0;
	enum ed_kept_state ka = k->ref_state, kb = k->cand_state;
	if (ka == ED_KEPT_UNREADABLE || kb == ED_KEPT_UNREADABLE) {
		rc = ed_buf_adds(&t, "no diff: the kept content could not be read");
	} else if (ka == ED_KEPT_NONE && kb == ED_KEPT_NONE) {
		rc = ed_buf_adds(&t, "no diff: neither side's content was kept");
	} else if (ka == ED_KEPT_NONE || kb == ED_KEPT_NONE) {
		const char *env = ka == ED_KEPT_NONE ? d->ref.env : d->cand.env;
		rc = ed_buf_adds(&t, "no diff: the content of ") || ed_buf_adds(&t, env ? env : "") ||
		     ed_buf_adds(&t, " was not kept");
	} else if (lines_split(k->ref, k->ref_len, &a) || lines_split(k->cand, k->cand_len, &b)) {
		rc = -1;
		goto out;
	} else if (a.n > ED_DIFF_MAX_LINES || b.n > ED_DIFF_MAX_LINES) {
		rc = ed_buf_addf(&t, "too large to diff (%zu and %zu lines; the limit is %d)", a.n,
				 b.n, ED_DIFF_MAX_LINES);
	} else {
		enum diff_result r = myers(&a, &b, &ops, &nops);
		if (r == DIFF_NOMEM) {
			rc = -1;
			goto out;
		}
		if (r == DIFF_TOO_DIFFERENT)
			rc = ed_buf_addf(&t, "too large to diff (more than %d lines differ)",
					 ED_DIFF_MAX_D);
	}
	if (rc || t.len) {
		if (!rc)
			rc = fn(arg, ED_UDIFF_NOTE, t.p, t.len);
		goto out;
	}
	size_t changes = 0;
	for (size_t i = 0; i < nops; i++)
		changes += ops[i].t != OP_EQ;
	if (!changes) {
		static const char eq[] = "the kept texts are equal: what differs was masked as a secret";
		rc = fn(arg, ED_UDIFF_NOTE, eq, sizeof(eq) - 1);
		goto out;
	}
	rc = fn(arg, ED_UDIFF_BEGIN, NULL, changes);
	if (!rc)
		rc = emit_head(fn, arg, &t, "--- ", d->ref.env, e);
	if (!rc)
		rc = emit_head(fn, arg, &t, "+++ ", d->cand.env, e);
	if (!rc)
		rc = emit_hunks(fn, arg, &a, &b, ops, nops);
	if (!rc)
		rc = fn(arg, ED_UDIFF_END, NULL, 0);
out:
	free(ops);
	lines_release(&a);
	lines_release(&b);
	ed_buf_release(&t);
	return rc;
}
