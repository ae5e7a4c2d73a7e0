/* SPDX-License-Identifier: MIT */
/* The JSON report, format envdrift.diff/1 (docs: DESIGN.md "Diff JSON"). */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "ed/datashape.h"
#include "ed/diff.h"
#include "ed/rowsample.h"
#include "report_common.h"

static json_t *jstr(const char *s)
{
	bool esc;
	return s ? ed_json_bytes(s, strlen(s), &esc) : json_null();
}


/*
 * The only reals are data shapes' fractions, stored with four significant
 * digits: printed as stored (0.98, not 0.97999999999999998).
 */
#define ED_JSON_REAL_FLAGS JSON_REAL_PRECISION(10)

/* A share to four decimals, as reports print it: 0.0512, not 0.051199999. */
static double round4(double v)
{
	return round(v * 10000) / 10000;
}

static json_t *side_json(const struct ed_drift_entry *e, const struct ed_side *s)
{
	json_t *o = json_object();
	char hex[2 * ED_FP_LEN + 1];
	if (!o)
		return NULL;
	/* Extra attributes first (arch, secret, ...); the columns below take precedence. */
	if (s->attrs) {
		bool oom;
		json_t *a = ed_json_load(s->attrs, JSON_REJECT_DUPLICATES, &oom);
		/* Out of memory is a failure; text that is not an object is no attributes. */
		bool bad = !a ? oom : json_is_object(a) && json_object_update(o, a) != 0;
		json_decref(a);
		if (bad) {
			json_decref(o);
			return NULL;
		}
	}
	bool secret = json_is_true(json_object_get(o, "secret"));
	int r = 0;
	if (strcmp(e->kind, ED_KIND_FILE) == 0) {
		char mode[16];
		snprintf(mode, sizeof(mode), "%04o", s->mode);
		r |= json_object_set_new(o, "type", jstr(ed_ftype_name(s->ftype)));
		r |= json_object_set_new(o, "mode", json_string(mode));
		r |= json_object_set_new(o, "owner", jstr(s->owner));
		r |= json_object_set_new(o, "group", jstr(s->group));
		if (s->ftype == ED_FT_REG) {
			r |= json_object_set_new(o, "size", json_integer(s->size));
			if (!s->error) {
				ed_fp_hex(&s->fp, hex);
				r |= json_object_set_new(o, "content", json_string(hex));
			}
		}
		if (s->target)
			r |= json_object_set_new(o, "target", jstr(s->target));
	} else if (strcmp(e->kind, ED_KIND_CONFIG) == 0) {
		if (!secret && s->value) {
			bool oom;
			json_t *v = ed_json_load(s->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &oom);
			if (oom)
				r = -1; /* not "a value that is not JSON": shown as a string */
			else
				r |= json_object_set_new(o, "value", v ? v : jstr(s->value));
		}
	} else if (strcmp(e->kind, ED_KIND_PACKAGE) == 0) {
		r |= json_object_set_new(o, "version", jstr(s->value));
	} else if (strcmp(e->kind, ED_KIND_SCHEMA) == 0) {
		r |= json_object_set_new(o, "definition", jstr(s->value));
	} else if (strcmp(e->kind, ED_KIND_ROWS) == 0 && s->value) {
		/* What was read and sampled; the sample itself (keyed fingerprints) is not shown. */
		struct ed_rows_value v;
		int p = ed_rows_value_parse(s->value, &v);
		if (p < 0)
			r = -1;
		else if (p > 0)
			r |= json_object_set_new(o, "rows", json_integer((json_int_t)v.rows)) |
			     json_object_set_new(o, "sample", json_integer((json_int_t)v.n));
		ed_rows_value_release(&v);
	} else if (strcmp(e->kind, ED_KIND_DATA) == 0 && s->value) {
		/* The shape's own members: counts and fractions, never a value. */
		bool oom;
		json_t *v = ed_json_load(s->value, JSON_REJECT_DUPLICATES, &oom);
		if (oom)
			r = -1;
		else if (json_is_object(v))
			r |= json_object_update(o, v);
		else
			r |= json_object_set_new(o, "value", jstr(s->value));
		json_decref(v);
	} else if (s->value && !secret) {
		r |= json_object_set_new(o, "value", jstr(s->value));
	}
	if (s->error)
		r |= json_object_set_new(o, "error", jstr(s->error));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One side: the environment, and every snapshot and host compared (fleets). */
static json_t *side_head(const struct ed_snapref *v, size_t n)
{
	json_t *snaps = json_array(), *hosts = json_array();
	int r = !snaps || !hosts;
	for (size_t i = 0; i < n && !r; i++) {
		r |= json_array_append_new(snaps, json_integer(v[i].id));
		r |= json_array_append_new(hosts, jstr(v[i].host));
	}
	if (r) {
		json_decref(snaps);
		json_decref(hosts);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o}", "env", jstr(v[0].env), "snapshots", snaps, "hosts",
			 hosts);
}

static json_t *snowflakes_json(const struct ed_drift *d)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < d->nsnowflakes; i++) {
		const struct ed_snowflake *f = &d->snowflakes[i];
		bool esc;
		json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "env", jstr(f->env),
				      "role", jstr(f->role), "host", jstr(f->host), "kind",
				      jstr(f->kind), "key", ed_json_bytes(f->key, strlen(f->key), &esc),
				      "value", jstr(f->value), "majority", jstr(f->majority_value));
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *entry_json(const struct ed_drift_entry *e)
{
	bool escaped;
	json_t *o = json_pack("{s:o, s:o, s:s}", "kind", jstr(e->kind), "key",
			      ed_json_bytes(e->key, e->key_len, &escaped), "change",
			      ed_change_name(e->change));
	if (!o)
		return NULL;
	int r = 0;
	if (escaped)
		r |= json_object_set_new(o, "key_escaped", json_true());
	if (e->role)
		r |= json_object_set_new(o, "role", jstr(e->role));
	if (e->direction)
		r |= json_object_set_new(o, "direction", json_string(ed_direction_name(e->direction)));
	if (e->ignored) {
		r |= json_object_set_new(o, "ignored", json_true());
		r |= json_object_set_new(o, "reason", jstr(e->reason));
	}
	if (e->ref.present)
		r |= json_object_set_new(o, "reference", side_json(e, &e->ref));
	if (e->cand.present)
		r |= json_object_set_new(o, "candidate", side_json(e, &e->cand));
	if (e->change == ED_CHANGED) {
		json_t *f = json_array();
		for (unsigned bit = 1; bit && bit <= ED_F_LAST; bit <<= 1)
			if (e->fields & bit)
				r |= json_array_append_new(f, json_string(ed_field_name(bit)));
		r |= json_object_set_new(o, "fields", f);
	}
	/* A sample or a database's shape on one side only: the side that has none. */
	if ((strcmp(e->kind, ED_KIND_ROWS) == 0 || strcmp(e->kind, ED_KIND_DATA) == 0) &&
	    e->change != ED_CHANGED)
		r |= json_object_set_new(o, "not_checked", json_string(e->change == ED_REMOVED
									? "candidate"
									: "reference"));
	if (strcmp(e->kind, ED_KIND_ROWS) == 0 && e->change == ED_CHANGED) {
		/* The estimate: the share of candidate rows equal to reference rows, 95% interval. */
		struct ed_overlap ov;
		int p = ed_rows_overlap_of(e, &ov);
		if (p < 0)
			r = -1;
		else if (p > 0)
			r |= json_object_set_new(o, "overlap",
						 json_pack("{s:f, s:f, s:f, s:I, s:I}", "share",
							   round4(ov.share), "low", round4(ov.lo),
							   "high", round4(ov.hi),
							   "sample", (json_int_t)ov.sample,
							   "matched", (json_int_t)ov.matched));
	}
	r |= json_object_set_new(o, "severity", json_string(e->severity));
	r |= json_object_set_new(o, "rule", json_string(e->rule));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Writes "  NAME": VALUE (compact) and steals value; false on failure. */
static bool put_member(FILE *out, const char *name, json_t *value, bool last)
{
	if (!value)
		return false;
	fprintf(out, "  \"%s\": ", name);
	int r = json_dumpf(value, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
					   ED_JSON_REAL_FLAGS);
	json_decref(value);
	fputs(last ? "\n" : ",\n", out);
	return r == 0;
}

/* Writes j compact with one fwrite, through *buf (grown as needed); false on failure. */
static bool dump_line(FILE *out, const json_t *j, char **buf, size_t *cap)
{
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | ED_JSON_REAL_FLAGS;
	size_t n = json_dumpb(j, *buf, *cap, flags);
	if (n > *cap) {
		char *p = realloc(*buf, 2 * n);
		if (!p)
			return false;
		*buf = p;
		*cap = 2 * n;
		n = json_dumpb(j, *buf, *cap, flags);
	}
	return n > 0 && n <= *cap && fwrite(*buf, 1, n, out) == n;
}

/*
 * Streams the document: the drift list is written one entry (one line) at a
 * time, so memory does not grow with the report.
 */
static enum ed_code render_json(FILE *out, const struct ed_drift *d,
				const struct ed_render_opts *opts, struct ed_err *err)
{
	bool show_ignored = opts && opts->show_ignored;
	bool ok = true;
	fputs("{\n  \"format\": \"envdrift.diff/1\",\n", out);
	ok &= put_member(out, "reference",
			 d->nrefs ? side_head(d->refs, d->nrefs) : side_head(&d->ref, 1), false);
	ok &= put_member(out, "candidate",
			 d->ncands ? side_head(d->cands, d->ncands) : side_head(&d->cand, 1), false);
	ok &= put_member(out, "summary",
			 json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "added",
				   (json_int_t)d->added, "removed", (json_int_t)d->removed, "changed",
				   (json_int_t)d->changed, "ignored", (json_int_t)d->ignored,
				   "blocking", (json_int_t)d->blocking, "warn", (json_int_t)d->warnings,
				   "info", (json_int_t)d->infos),
			 false);
	if (d->policy)
		ok &= put_member(out, "policy", json_string(d->policy), false);
	if (d->nexpired) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < d->nexpired; i++)
			if (json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "rule",
							       jstr(d->expired[i].text), "expired",
							       jstr(d->expired[i].expires), "reason",
							       jstr(d->expired[i].reason)))) {
				json_decref(a);
				a = NULL;
			}
		ok &= put_member(out, "expired_rules", a, false);
	}
	if (d->nsnowflakes)
		ok &= put_member(out, "snowflakes", snowflakes_json(d), false);
	fputs("  \"drift\": [", out);
	bool first = true;
	char *line = NULL;
	size_t cap = 0;
	struct ed_drift_reader r;
	ed_drift_reader_init(&r, d, false);
	for (size_t i = 0; i < d->n && ok; i++) {
		const struct ed_drift_entry *de = ed_drift_at(&r, i);
		if (de->ignored && !show_ignored)
			continue;
		json_t *e = entry_json(de);
		if (!e) {
			ok = false;
			break;
		}
		fputs(first ? "\n    " : ",\n    ", out);
		first = false;
		ok &= dump_line(out, e, &line, &cap);
		json_decref(e);
	}
	free(line);
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
	enum ed_code rc = ed_drift_reader_failed(&r, err);
	ed_drift_reader_release(&r);
	if (rc)
		return rc;
	if (!ok)
		return ed_err_set(err, ED_NOMEM, "out of memory writing the report");
	if (ferror(out))
		return ed_err_set(err, ED_IO, "cannot write the report");
	return ED_OK;
}

const struct ed_report_ops ed_report_json = {.name = "json", .render = render_json};
