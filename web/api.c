/* SPDX-License-Identifier: MIT */
/*
 * The JSON API under /api/v1/ and GET /metrics: each answers from a read-only
 * connection of the pool, through the store's and the differ's named
 * functions (the same ones the CLI calls).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/base64.h"
#include "ed/browse.h"
#include "ed/buf.h"
#include "ed/diff.h"
#include "ed/gate.h"
#include "ed/isotime.h"
#include "ed/policy.h"
#include "web_int.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

bool ed_web_parse_num(const char *s, long long lo, long long hi, long long *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Seconds of 90s, 30m, 24h, 7d or a bare number; -1 when malformed. */
static long long parse_duration(const char *s)
{
	size_t n = strlen(s);
	long long mult = 1;
	char num[32];
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': mult = 1; num[--n] = '\0'; break;
	case 'm': mult = 60; num[--n] = '\0'; break;
	case 'h': mult = 3600; num[--n] = '\0'; break;
	case 'd': mult = 86400; num[--n] = '\0'; break;
	default: break;
	}
	long long v;
	if (!ed_web_parse_num(num, 0, 100LL * 365 * 86400, &v))
		return -1;
	return v * mult;
}

/* --- snapshots --- */

static json_t *snapshot_json(const struct ed_browse_snapshot *s)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = json_object_set_new(o, "id", json_integer(s->r.id));
	bad |= json_object_set_new(o, "env", ed_web_string(s->r.env, strlen(s->r.env)));
	bad |= json_object_set_new(o, "host", ed_web_string(s->r.host, strlen(s->r.host)));
	bad |= json_object_set_new(o, "role", ed_web_string(s->role, s->role ? strlen(s->role) : 0));
	bad |= json_object_set_new(o, "status", json_string(s->r.status ? s->r.status : ""));
	bad |= json_object_set_new(o, "started_at", json_string(s->r.started_at ? s->r.started_at : ""));
	bad |= json_object_set_new(o, "finished_at",
				   s->r.finished_at ? json_string(s->r.finished_at) : json_null());
	bad |= json_object_set_new(o, "items", json_integer(s->r.items));
	bad |= json_object_set_new(o, "warnings", json_integer(s->r.warnings));
	bad |= json_object_set_new(o, "document", s->uuid ? json_string(s->uuid) : json_null());
	bad |= json_object_set_new(o, "base", s->base ? json_integer(s->base) : json_null());
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct collect {
	json_t *list;
	int64_t last;
	size_t n;
};

static enum ed_code collect_snapshot(void *ctx, const struct ed_browse_snapshot *s,
				     struct ed_err *err)
{
	struct collect *k = ctx;
	json_t *o = snapshot_json(s);
	if (!o || json_array_append_new(k->list, o))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	k->last = s->r.id;
	k->n++;
	return ED_OK;
}

static enum MHD_Result get_snapshots(struct MHD_Connection *c, struct ed_req *r,
				     struct ed_store *st)
{
	struct ed_err err = {0};
	long long limit = PAGE_DEFAULT, after = 0;
	const char *ls = arg(c, "limit"), *as = arg(c, "after");
	if (ls && !ed_web_parse_num(ls, 1, PAGE_MAX, &limit))
		return ed_web_error(c, r, 400, "limit: expected a number from 1 to %d", PAGE_MAX);
	if (as && !ed_web_parse_num(as, 0, INT64_MAX, &after))
		return ed_web_error(c, r, 400, "after: expected a snapshot id");
	struct ed_snapshot_filter f = {.env = arg(c, "env"), .host = arg(c, "host"),
				       .after = after, .limit = (size_t)limit + 1};
	struct collect k = {.list = json_array()};
	if (!k.list)
		return ed_web_error(c, r, 500, "out of memory");
	if (ed_store_browse_snapshots(st, &f, collect_snapshot, &k, &err)) {
		json_decref(k.list);
		return ed_web_fail(c, r, &err);
	}
	json_t *next = json_null();
	if (k.n > (size_t)limit) {
		json_array_remove(k.list, k.n - 1);
		json_t *last = json_array_get(k.list, k.n - 2);
		json_decref(next);
		next = json_copy(json_object_get(last, "id"));
	}
	return ed_web_json(c, r, 200, json_pack("{s:o, s:o}", "snapshots", k.list, "next", next));
}

static enum MHD_Result get_snapshot(struct MHD_Connection *c, struct ed_req *r,
				    struct ed_store *st, int64_t id)
{
	struct ed_err err = {0};
	struct ed_snapshot_filter f = {.id = id, .limit = 1};
	struct collect k = {.list = json_array()};
	if (!k.list)
		return ed_web_error(c, r, 500, "out of memory");
	if (ed_store_browse_snapshots(st, &f, collect_snapshot, &k, &err)) {
		json_decref(k.list);
		return ed_web_fail(c, r, &err);
	}
	if (!k.n) {
		json_decref(k.list);
		return ed_web_error(c, r, 404, "no snapshot @%lld", (long long)id);
	}
	json_t *o = json_incref(json_array_get(k.list, 0));
	json_decref(k.list);
	return ed_web_json(c, r, 200, o);
}

/* --- items --- */

struct item_page {
	json_t *list;
	size_t n, limit;
	struct ed_buf last_kind, last_key;
};

static enum ed_code collect_item(void *ctx, const struct ed_browse_item *it, struct ed_err *err)
{
	struct item_page *p = ctx;
	if (p->n++ == p->limit) /* the one past the page: there is a next page */
		return ED_OK;
	char fp[2 * 32 + 1] = "";
	for (size_t i = 0; it->fp && i < it->fp_len && i < 32; i++)
		snprintf(fp + 2 * i, 3, "%02x", it->fp[i]);
	json_t *o = json_object();
	int bad = !o;
	if (o) {
		bad |= json_object_set_new(o, "kind", json_string(it->kind ? it->kind : ""));
		bad |= json_object_set_new(o, "key", ed_web_string(it->key, it->key_len));
		bad |= json_object_set_new(o, "fingerprint", json_string(fp));
		if (it->value)
			bad |= json_object_set_new(o, "value", ed_web_string(it->value, it->value_len));
		if (it->ftype)
			bad |= json_object_set_new(o, "type", json_string(it->ftype));
		if (it->mode >= 0) {
			char m[24];
			snprintf(m, sizeof(m), "%04llo", it->mode);
			bad |= json_object_set_new(o, "mode", json_string(m));
		}
		if (it->owner)
			bad |= json_object_set_new(o, "owner", ed_web_string(it->owner, strlen(it->owner)));
		if (it->group)
			bad |= json_object_set_new(o, "group", ed_web_string(it->group, strlen(it->group)));
		if (it->target)
			bad |= json_object_set_new(o, "target",
						   ed_web_string(it->target, strlen(it->target)));
		if (it->size >= 0)
			bad |= json_object_set_new(o, "size", json_integer(it->size));
		if (it->error)
			bad |= json_object_set_new(o, "error", ed_web_string(it->error, strlen(it->error)));
	}
	if (bad || json_array_append_new(p->list, o))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	ed_buf_reset(&p->last_kind);
	ed_buf_reset(&p->last_key);
	if (ed_buf_adds(&p->last_kind, it->kind ? it->kind : "") ||
	    ed_buf_add(&p->last_key, it->key ? it->key : "", it->key_len))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}

char *ed_web_cursor_encode(const struct ed_buf *kind, const struct ed_buf *key)
{
	struct ed_buf raw = ED_BUF_INIT, b = ED_BUF_INIT;
	char *out = NULL;
	if (ed_buf_add(&raw, ed_buf_str(kind), kind->len) || ed_buf_addc(&raw, '\0') ||
	    ed_buf_add(&raw, ed_buf_str(key), key->len) || ed_base64_add(&b, raw.p, raw.len))
		goto out;
	size_t n = b.len;
	while (n && b.p[n - 1] == '=')
		n--;
	b.p[n] = '\0';
	for (size_t i = 0; i < n; i++)
		b.p[i] = b.p[i] == '+' ? '-' : b.p[i] == '/' ? '_' : b.p[i];
	out = ed_buf_detach(&b);
out:
	ed_buf_release(&raw);
	ed_buf_release(&b);
	return out;
}

bool ed_web_cursor_decode(const char *s, struct ed_buf *raw, size_t *kind_len)
{
	struct ed_buf b = ED_BUF_INIT;
	size_t n = strlen(s);
	bool ok = n > 0 && n < 200000;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
		ok = ed_buf_addc(&b, ch) == 0;
	}
	while (ok && b.len % 4)
		ok = ed_buf_addc(&b, '=') == 0;
	raw->max = 200000;
	ok = ok && ed_base64_decode(raw, ed_buf_str(&b), b.len) == ED_OK;
	ed_buf_release(&b);
	const char *nul = ok ? memchr(raw->p, '\0', raw->len) : NULL;
	if (!nul)
		return false;
	*kind_len = (size_t)(nul - raw->p);
	return true;
}

static enum MHD_Result get_items(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st,
				 int64_t id)
{
	struct ed_err err = {0};
	struct ed_buf raw = ED_BUF_INIT;
	long long limit = PAGE_DEFAULT;
	const char *ls = arg(c, "limit"), *as = arg(c, "after"), *prefix = arg(c, "prefix");
	enum MHD_Result ret;
	if (ls && !ed_web_parse_num(ls, 1, PAGE_MAX, &limit))
		return ed_web_error(c, r, 400, "limit: expected a number from 1 to %d", PAGE_MAX);
	struct ed_item_filter f = {.kind = arg(c, "kind"), .prefix = prefix,
				   .prefix_len = prefix ? strlen(prefix) : 0,
				   .limit = (size_t)limit + 1};
	size_t kind_len = 0;
	if (as) {
		if (!ed_web_cursor_decode(as, &raw, &kind_len)) {
			ed_buf_release(&raw);
			return ed_web_error(c, r, 400, "after: not a cursor this API returned as next");
		}
		f.after_kind = raw.p;
		f.after_key = raw.p + kind_len + 1;
		f.after_key_len = raw.len - kind_len - 1;
	}
	struct item_page p = {.list = json_array(), .limit = (size_t)limit,
			      .last_kind = ED_BUF_INIT, .last_key = ED_BUF_INIT};
	if (!p.list) {
		ret = ed_web_error(c, r, 500, "out of memory");
		goto out;
	}
	if (ed_store_browse_items(st, id, &f, collect_item, &p, &err)) {
		ret = ed_web_fail(c, r, &err);
		goto out;
	}
	json_t *next = json_null();
	if (p.n > p.limit) {
		char *cur = ed_web_cursor_encode(&p.last_kind, &p.last_key);
		json_decref(next);
		next = cur ? json_string(cur) : NULL;
		free(cur);
	}
	ret = ed_web_json(c, r, 200,
			  json_pack("{s:I, s:O, s:o}", "snapshot", (json_int_t)id, "items", p.list,
				    "next", next));
out:
	json_decref(p.list);
	ed_buf_release(&p.last_kind);
	ed_buf_release(&p.last_key);
	ed_buf_release(&raw);
	return ret;
}

/* --- environments --- */

struct envs {
	json_t *list;
	json_t *cur; /* the hosts array of the last environment */
	struct ed_buf env;
};

static enum ed_code collect_latest(void *ctx, const struct ed_browse_snapshot *s,
				   struct ed_err *err)
{
	struct envs *e = ctx;
	if (!e->cur || strcmp(ed_buf_str(&e->env), s->r.env) != 0) {
		json_t *o = json_object();
		e->cur = json_array();
		if (!o || !e->cur ||
		    json_object_set_new(o, "env", ed_web_string(s->r.env, strlen(s->r.env))) ||
		    json_object_set_new(o, "hosts", e->cur) || json_array_append_new(e->list, o))
			return ed_err_set(err, ED_NOMEM, "out of memory");
		ed_buf_reset(&e->env);
		if (ed_buf_adds(&e->env, s->r.env))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	json_t *h = json_object();
	if (!h || json_object_set_new(h, "host", ed_web_string(s->r.host, strlen(s->r.host))) ||
	    json_object_set_new(h, "role", ed_web_string(s->role, s->role ? strlen(s->role) : 0)) ||
	    json_object_set_new(h, "snapshot", json_integer(s->r.id)) ||
	    json_object_set_new(h, "finished_at",
				s->r.finished_at ? json_string(s->r.finished_at) : json_null()) ||
	    json_object_set_new(h, "items", json_integer(s->r.items)) ||
	    json_array_append_new(e->cur, h))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}

static enum MHD_Result get_envs(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	struct ed_err err = {0};
	struct ed_snapshot_filter f = {.latest = true};
	struct envs e = {.list = json_array(), .env = ED_BUF_INIT};
	if (!e.list)
		return ed_web_error(c, r, 500, "out of memory");
	enum ed_code rc = ed_store_browse_snapshots(st, &f, collect_latest, &e, &err);
	ed_buf_release(&e.env);
	if (rc) {
		json_decref(e.list);
		return ed_web_fail(c, r, &err);
	}
	return ed_web_json(c, r, 200, json_pack("{s:o}", "envs", e.list));
}

/* --- diff and gate --- */

/* The content type of a report format the API serves; NULL for the others. */
static const char *report_ctype(const char *format)
{
	static const char *const v[][2] = {
		{"json", "application/json"},
		{"junit", "application/xml"},
		{"sarif", "application/sarif+json"},
		{"markdown", "text/markdown; charset=utf-8"},
		{"text", "text/plain; charset=utf-8"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(format, v[i][0]) == 0)
			return v[i][1];
	return NULL;
}

static enum MHD_Result get_diff(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	const char *ref = arg(c, "ref"), *cand = arg(c, "cand"), *format = arg(c, "format");
	if (!ref || !*ref || !cand || !*cand)
		return ed_web_error(c, r, 400, "ref and cand are required: an environment or @ID");
	if (!format)
		format = "json";
	const char *ctype = report_ctype(format);
	const struct ed_report_ops *report = ed_report_find(format);
	if (!ctype || !report)
		return ed_web_error(c, r, 400, "format %s: expected json, junit, sarif, markdown "
					       "or text", format);
	struct ed_err err = {0};
	struct ed_policy pol = {0};
	struct ed_drift d = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = NULL;
	enum MHD_Result ret;
	struct ed_render_opts ropts = {0};
	if (ed_policy_load(r->w->o->policy, &pol, &err) ||
	    ed_diff_compare(st, ref, cand, &pol, &d, &err)) {
		ret = ed_web_fail(c, r, &err);
		goto out;
	}
	d.policy = r->w->o->policy ? r->w->o->policy : "built-in default";
	if (!(out = open_memstream(&buf, &len))) {
		ret = ed_web_error(c, r, 500, "out of memory");
		goto out;
	}
	enum ed_code rc = ed_diff_render(out, st, report, &d, &ropts, &err);
	if (fclose(out) != 0 && !rc)
		rc = ed_err_set(&err, ED_NOMEM, "out of memory rendering the report");
	out = NULL;
	if (rc) {
		ret = ed_web_fail(c, r, &err);
		goto out;
	}
	ret = ed_web_reply(c, r, 200, ctype, buf, len);
	buf = NULL;
out:
	free(buf);
	ed_drift_release(&d);
	ed_policy_release(&pol);
	return ret;
}

static enum MHD_Result get_gate(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	const char *ref = arg(c, "ref"), *cand = arg(c, "cand"), *age = arg(c, "max-age");
	long long max_age = 24 * 3600;
	if (!ref || !*ref)
		ref = "production";
	if (!cand || !*cand)
		cand = "staging";
	if (age && (max_age = parse_duration(age)) < 0)
		return ed_web_error(c, r, 400, "max-age %s: expected 90s, 30m, 24h, 7d or seconds",
				    age);
	struct ed_err err = {0};
	struct ed_policy pol = {0};
	struct ed_drift d = {0};
	struct ed_drift_reader dr;
	struct ed_buf line = ED_BUF_INIT;
	json_t *reasons = json_array();
	const char *verdict = "pass";
	ed_drift_reader_init(&dr, &d, false);
	enum MHD_Result ret;
	if (!reasons) {
		ret = ed_web_error(c, r, 500, "out of memory");
		goto out;
	}
	if (ed_policy_load(r->w->o->policy, &pol, &err)) {
		ret = ed_web_fail(c, r, &err);
		goto out;
	}
	if (ed_gate_vouch(st, ref, cand, &pol, max_age, (long long)time(NULL), NULL, NULL, &d,
			  &err)) {
		verdict = "cannot-vouch";
		char m[1024];
		ed_web_scrub(r->w, err.msg[0] ? err.msg : ed_code_str(err.code), m, sizeof(m));
		json_array_append_new(reasons, ed_web_string(m, strlen(m)));
	} else if (d.blocking) {
		verdict = "fail";
		for (size_t i = 0; i < d.n; i++) {
			const struct ed_drift_entry *e = ed_drift_at(&dr, i);
			if (e->ignored || strcmp(e->severity, "block") != 0)
				continue;
			ed_buf_reset(&line);
			if (ed_buf_addf(&line, "%s %s%s%s ", ed_change_name(e->change), e->kind,
					e->role && *e->role ? " role " : "",
					e->role && *e->role ? e->role : "") ||
			    ed_buf_add(&line, e->key, e->key_len) || ed_buf_adds(&line, ": ") ||
			    ed_drift_describe(e, &line)) {
				ret = ed_web_error(c, r, 500, "out of memory");
				goto out;
			}
			if (line.len >= 2 && line.p[line.len - 2] == ':')
				line.p[line.len -= 2] = '\0';
			json_array_append_new(reasons, ed_web_string(line.p, line.len));
		}
		if (ed_drift_reader_failed(&dr, &err)) {
			ret = ed_web_fail(c, r, &err);
			goto out;
		}
	}
	ret = ed_web_json(c, r, 200,
			  json_pack("{s:s, s:O, s:s, s:s, s:I}", "verdict", verdict, "reasons",
				    reasons, "reference", ref, "candidate", cand, "blocking",
				    (json_int_t)d.blocking));
out:
	json_decref(reasons);
	ed_buf_release(&line);
	ed_drift_reader_release(&dr);
	ed_drift_release(&d);
	ed_policy_release(&pol);
	return ret;
}

/* --- metrics --- */

/* A Prometheus label value: valid UTF-8, with \\, \" and \n escaped. */
static int label(struct ed_buf *b, const char *s)
{
	struct ed_buf u = ED_BUF_INIT;
	int bad = ed_buf_add_utf8_escaped(&u, s, strlen(s));
	for (size_t i = 0; !bad && i < u.len; i++) {
		char ch = u.p[i];
		bad = ch == '\\' ? ed_buf_adds(b, "\\\\")
		      : ch == '"' ? ed_buf_adds(b, "\\\"")
		      : ch == '\n' ? ed_buf_adds(b, "\\n")
				   : ed_buf_addc(b, ch);
	}
	ed_buf_release(&u);
	return bad;
}

struct ages {
	struct ed_buf *b;
	time_t now;
	int bad;
};

static enum ed_code host_age(void *ctx, const struct ed_browse_snapshot *s, struct ed_err *err)
{
	(void)err;
	struct ages *a = ctx;
	const char *at = s->r.finished_at ? s->r.finished_at : s->r.started_at;
	time_t t;
	if (!at || !ed_isotime_parse(at, strlen(at), &t))
		return ED_OK;
	a->bad |= ed_buf_adds(a->b, "envdrift_snapshot_age_seconds{env=\"") ||
		  label(a->b, s->r.env) || ed_buf_adds(a->b, "\",host=\"") ||
		  label(a->b, s->r.host) ||
		  ed_buf_addf(a->b, "\"} %lld\n", (long long)(a->now - t));
	return ED_OK;
}

/* One pair's series: comparable, the verdict as the gate's exit code, entries by severity. */
static int pair_metrics(struct ed_buf *b, const char *ref, const char *cand,
			const struct ed_web_verdict *v)
{
	static const char *const sev[] = {"block", "warn", "info", "ignored"};
	size_t n[] = {v->blocking, v->warnings, v->infos, v->ignored};
	int code = v->state == ED_VERDICT_PASS ? 0 : v->state == ED_VERDICT_BLOCK ? 1 : 2;
	int bad = ed_buf_adds(b, "envdrift_pair_comparable{reference=\"") || label(b, ref) ||
		  ed_buf_adds(b, "\",candidate=\"") || label(b, cand) ||
		  ed_buf_addf(b, "\"} %d\n", v->compared) ||
		  ed_buf_adds(b, "envdrift_pair_verdict{reference=\"") || label(b, ref) ||
		  ed_buf_adds(b, "\",candidate=\"") || label(b, cand) ||
		  ed_buf_addf(b, "\"} %d\n", code);
	for (size_t i = 0; v->compared && i < sizeof(sev) / sizeof(sev[0]); i++)
		bad |= ed_buf_adds(b, "envdrift_drift_entries{reference=\"") || label(b, ref) ||
		       ed_buf_adds(b, "\",candidate=\"") || label(b, cand) ||
		       ed_buf_addf(b, "\",severity=\"%s\"} %zu\n", sev[i], n[i]);
	return bad;
}

static enum MHD_Result get_metrics(struct MHD_Connection *c, struct ed_req *r,
				   struct ed_store *st)
{
	struct ed_web *w = r->w;
	struct ed_buf b = ED_BUF_INIT;
	struct ed_err err = {0};
	int bad = 0;

	/*
	 * Per pair of the dashboard (serve --pair, default production:staging),
	 * from the verdicts the overview caches: a scrape runs no diff while no
	 * snapshot or policy changed.
	 */
	bad |= ed_buf_adds(&b, "# HELP envdrift_pair_comparable 1 when both environments of the "
			       "pair have complete snapshots to compare.\n"
			       "# TYPE envdrift_pair_comparable gauge\n"
			       "# HELP envdrift_pair_verdict The gate's verdict as its exit status: 0 "
			       "pass, 1 blocking drift, 2 cannot vouch.\n"
			       "# TYPE envdrift_pair_verdict gauge\n"
			       "# HELP envdrift_drift_entries Drift entries of the candidate against "
			       "the reference, by severity (ignored: expected differences).\n"
			       "# TYPE envdrift_drift_entries gauge\n");
	for (size_t i = 0; i < ed_web_npairs(w) && !bad; i++) {
		char ref[256], cand[256];
		struct ed_web_verdict v;
		bool cached = false;
		if (!ed_web_pair(w, i, ref, cand, sizeof(ref)))
			continue; /* serve checked them */
		if (ed_web_verdict(w, st, ref, cand, &v, &cached, &err)) {
			ed_buf_release(&b);
			return ed_web_fail(c, r, &err);
		}
		bad |= pair_metrics(&b, ref, cand, &v);
	}
	bad |= ed_buf_adds(&b, "# HELP envdrift_snapshot_age_seconds Seconds since each host's "
			       "last complete snapshot finished.\n"
			       "# TYPE envdrift_snapshot_age_seconds gauge\n");
	struct ages a = {.b = &b, .now = time(NULL)};
	struct ed_snapshot_filter f = {.latest = true};
	if (ed_store_browse_snapshots(st, &f, host_age, &a, &err)) {
		ed_buf_release(&b);
		return ed_web_fail(c, r, &err);
	}
	bad |= a.bad;
	bad |= ed_buf_adds(&b, "# HELP envdrift_http_requests_total Requests answered, by status "
			       "class.\n# TYPE envdrift_http_requests_total counter\n");
	for (int k = 1; k <= 5; k++)
		bad |= ed_buf_addf(&b, "envdrift_http_requests_total{code=\"%dxx\"} %lu\n", k,
				   atomic_load(&w->by_class[k]));
	bad |= ed_buf_addf(&b,
			   "# HELP envdrift_pushes_total Pushed snapshots, by outcome.\n"
			   "# TYPE envdrift_pushes_total counter\n"
			   "envdrift_pushes_total{result=\"stored\"} %lu\n"
			   "envdrift_pushes_total{result=\"replayed\"} %lu\n"
			   "envdrift_pushes_total{result=\"refused\"} %lu\n",
			   atomic_load(&w->pushes_stored), atomic_load(&w->pushes_replayed),
			   atomic_load(&w->pushes_refused));
	bad |= ed_buf_addf(&b,
			   "# HELP envdrift_verdicts_computed_total Verdicts computed (a diff run), "
			   "by who asked first: the worker after a change, or a request.\n"
			   "# TYPE envdrift_verdicts_computed_total counter\n"
			   "envdrift_verdicts_computed_total{by=\"worker\"} %lu\n"
			   "envdrift_verdicts_computed_total{by=\"request\"} %lu\n",
			   atomic_load(&w->verdicts_by_worker), atomic_load(&w->verdicts_by_request));
	if (bad) {
		ed_buf_release(&b);
		return ed_web_error(c, r, 500, "out of memory");
	}
	size_t len = b.len;
	return ed_web_reply(c, r, 200, "text/plain; version=0.0.4; charset=utf-8",
			    ed_buf_detach(&b), len);
}

/* --- routing --- */

/* "/api/v1/snapshots/ID[/items]": the id and whether items are asked for; false otherwise. */
static bool snapshot_route(const char *url, int64_t *id, bool *items, bool *bad_id)
{
	static const char pre[] = "/api/v1/snapshots/";
	if (strncmp(url, pre, sizeof(pre) - 1) != 0)
		return false;
	const char *p = url + sizeof(pre) - 1;
	size_t n = strcspn(p, "/");
	const char *rest = p + n;
	if (*rest && strcmp(rest, "/items") != 0)
		return false;
	*items = *rest != '\0';
	char num[24];
	long long v = 0;
	if (*p == '@') {
		p++;
		n--;
	}
	*bad_id = n == 0 || n >= sizeof(num);
	if (!*bad_id) {
		memcpy(num, p, n);
		num[n] = '\0';
		*bad_id = !ed_web_parse_num(num, 1, INT64_MAX, &v);
	}
	*id = v;
	return true;
}

enum MHD_Result ed_web_api(struct MHD_Connection *c, struct ed_req *r, const char *url)
{
	struct ed_web *w = r->w;
	struct ed_err err = {0};
	int64_t id = 0;
	bool items = false, bad_id = false;
	enum { HEALTH, ENVS, SNAPSHOTS, SNAPSHOT, DIFF, GATE, METRICS, NONE } route = NONE;
	if (strcmp(url, "/api/v1/health") == 0)
		route = HEALTH;
	else if (strcmp(url, "/api/v1/envs") == 0)
		route = ENVS;
	else if (strcmp(url, "/api/v1/snapshots") == 0)
		route = SNAPSHOTS;
	else if (snapshot_route(url, &id, &items, &bad_id))
		route = SNAPSHOT;
	else if (strcmp(url, "/api/v1/diff") == 0)
		route = DIFF;
	else if (strcmp(url, "/api/v1/gate") == 0)
		route = GATE;
	else if (strcmp(url, "/metrics") == 0)
		route = METRICS;
	if (route == NONE && strncmp(url, "/api/", 5) != 0)
		return ed_web_pages(c, r, url);
	if (route == NONE)
		return ed_web_error(c, r, 404, "no such endpoint (see docs/api.md)");
	if (route == HEALTH)
		return ed_web_json(c, r, 200,
				   json_pack("{s:s, s:s, s:i}", "status", "ok", "version",
					     ENVDRIFT_VERSION, "store_version",
					     ed_store_schema_version()));
	struct ed_store *st = ed_web_reader(w, &err);
	if (!st)
		return ed_web_fail(c, r, &err);
	enum MHD_Result ret;
	unsigned status = ed_web_auth(w, st, c, ED_WEB_READ, NULL, NULL);
	if (status == 401)
		ret = ed_web_error(c, r, 401, "this needs 'Authorization: Bearer TOKEN' with a "
					      "valid read token");
	else if (status == 403)
		ret = ed_web_error(c, r, 403, "this token may not read");
	else if (status)
		ret = ed_web_error(c, r, status, "cannot check the token");
	else if (route == ENVS)
		ret = get_envs(c, r, st);
	else if (route == SNAPSHOTS)
		ret = get_snapshots(c, r, st);
	else if (route == SNAPSHOT && bad_id)
		ret = ed_web_error(c, r, 400, "expected a snapshot id: /api/v1/snapshots/ID");
	else if (route == SNAPSHOT && items)
		ret = get_items(c, r, st, id);
	else if (route == SNAPSHOT)
		ret = get_snapshot(c, r, st, id);
	else if (route == DIFF)
		ret = get_diff(c, r, st);
	else if (route == GATE)
		ret = get_gate(c, r, st);
	else
		ret = get_metrics(c, r, st);
	ed_web_reader_put(w, st);
	return ret;
}
