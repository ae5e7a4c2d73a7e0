/* SPDX-License-Identifier: MIT */
/*
 * rpm: its database is not public text, so the host's own rpm prints one line
 * per installed header (`rpm -qa --queryformat`), run through the source
 * without a shell; a separate parser turns those bytes into items keyed
 * "rpm:NAME.ARCH", one per NAME.ARCH even when several versions are installed.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/pkg.h"
#include "pkg_common.h"

#define RPM_MAX_WARNINGS 100
#define RPM_SHOW_MAX 200
#define RPM_NONE "(none)"

enum col { C_NAME, C_EPOCH, C_VERSION, C_RELEASE, C_ARCH, C_COUNT };

static const char *const col_names[C_COUNT] = {
	[C_NAME] = "NAME",
	[C_EPOCH] = "EPOCH",
	[C_VERSION] = "VERSION",
	[C_RELEASE] = "RELEASE",
	[C_ARCH] = "ARCH",
};

/*
 * One installed header. key and value live in the parser's text buffer:
 * offsets while it grows, pointers once parsing is done.
 */
struct rec {
	size_t key_off, key_len; /* "NAME.ARCH" or "NAME" (without "rpm:") */
	size_t val_off, val_len; /* "[EPOCH:]VERSION-RELEASE" */
	const char *key;
	const char *val;
	struct ed_str arch; /* slice of the input */
	size_t line;
};

struct parser {
	const char *origin;
	struct ed_sink *sink;
	size_t nwarnings;
	struct ed_buf text; /* keys and values of every record, back to back */
	struct rec *recs;
	size_t n, cap;
};

static void warn_at(struct parser *ps, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_at(struct parser *ps, size_t line, const char *fmt, ...)
{
	va_list ap;
	char where[4200];
	snprintf(where, sizeof(where), "%s:%zu", ps->origin, line);
	va_start(ap, fmt);
	ed_sink_vwarn_capped(ps->sink, &ps->nwarnings, RPM_MAX_WARNINGS, where, true, fmt, ap);
	va_end(ap);
}

static int show_len(const char *p, size_t len)
{
	size_t n = len;
	if (n > RPM_SHOW_MAX) {
		n = RPM_SHOW_MAX;
		while (n && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

static bool is(struct ed_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.p, lit, n) == 0;
}

/* Checks one column; warns and returns false when it cannot be part of a key or value. */
static bool col_ok(struct parser *ps, size_t line, enum col c, struct ed_str v)
{
	if (!v.len) {
		warn_at(ps, line, "column %s is empty", col_names[c]);
		return false;
	}
	if (!ed_utf8_valid(v.p, v.len)) {
		warn_at(ps, line, "column %s is not valid UTF-8", col_names[c]);
		return false;
	}
	if ((c == C_EPOCH || c == C_ARCH) && is(v, RPM_NONE))
		return true;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];
		bool bad = ch <= 0x20 || ch == 0x7f;
		if (c == C_EPOCH)
			bad = ch < '0' || ch > '9';
		else if (c == C_NAME)
			bad = bad || ch == ':';
		else if (c == C_ARCH)
			bad = bad || ch == ':' || ch == '.';
		if (bad) {
			warn_at(ps, line, "column %s holds a character not allowed there",
				col_names[c]);
			return false;
		}
	}
	return true;
}

/* Reads one output line into a record; a bad line is a warning and is skipped. */
static enum ed_code read_line(struct parser *ps, const char *s, size_t len, size_t line,
			      struct ed_err *err)
{
	struct ed_str c[C_COUNT];
	size_t nc = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '\t')
			continue;
		if (nc == C_COUNT) {
			nc++;
			break;
		}
		c[nc++] = ed_str_of(s + start, i - start);
		start = i + 1;
	}
	if (nc != C_COUNT) {
		warn_at(ps, line,
			"line is not NAME, EPOCH, VERSION, RELEASE and ARCH separated by tabs");
		return ED_OK;
	}
	for (enum col k = C_NAME; k < C_COUNT; k++)
		if (!col_ok(ps, line, k, c[k]))
			return ED_OK;

	bool noarch_key = is(c[C_ARCH], RPM_NONE);
	if (ps->n == ps->cap) {
		size_t ncap = ps->cap ? ps->cap * 2 : 512;
		struct rec *v = ncap <= SIZE_MAX / sizeof(*v) ? realloc(ps->recs, ncap * sizeof(*v))
							      : NULL;
		if (!v)
			return ed_err_set(err, ED_NOMEM, "%s: out of memory", ps->origin);
		ps->recs = v;
		ps->cap = ncap;
	}
	struct rec *r = &ps->recs[ps->n];
	size_t mark = ps->text.len;
	r->key_off = ps->text.len;
	if (ed_buf_add(&ps->text, c[C_NAME].p, c[C_NAME].len) ||
	    (!noarch_key && (ed_buf_addc(&ps->text, '.') ||
			     ed_buf_add(&ps->text, c[C_ARCH].p, c[C_ARCH].len))))
		goto nomem;
	r->key_len = ps->text.len - r->key_off;
	r->val_off = ps->text.len;
	if (!is(c[C_EPOCH], RPM_NONE) &&
	    (ed_buf_add(&ps->text, c[C_EPOCH].p, c[C_EPOCH].len) || ed_buf_addc(&ps->text, ':')))
		goto nomem;
	if (ed_buf_add(&ps->text, c[C_VERSION].p, c[C_VERSION].len) ||
	    ed_buf_addc(&ps->text, '-') ||
	    ed_buf_add(&ps->text, c[C_RELEASE].p, c[C_RELEASE].len))
		goto nomem;
	r->val_len = ps->text.len - r->val_off;
	r->arch = c[C_ARCH];
	r->line = line;
	ps->n++;
	return ED_OK;
nomem:
	ps->text.len = mark;
	if (ps->text.p)
		ps->text.p[mark] = '\0';
	return ed_err_set(err, ED_NOMEM, "%s: out of memory", ps->origin);
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Key, then architecture, then value; the line keeps the order total. */
static int cmp_rec(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	int c = cmp_bytes(a->key, a->key_len, b->key, b->key_len);
	if (!c)
		c = cmp_bytes(a->arch.p, a->arch.len, b->arch.p, b->arch.len);
	if (!c)
		c = cmp_bytes(a->val, a->val_len, b->val, b->val_len);
	if (!c)
		c = a->line < b->line ? -1 : a->line > b->line;
	return c;
}

/* Emits the item for recs[0..n): one key and architecture, values sorted. */
static enum ed_code emit_group(struct parser *ps, const struct rec *g, size_t n,
			       struct ed_buf *key, struct ed_buf *val, struct ed_buf *fpin,
			       struct ed_err *err)
{
	ed_buf_reset(key);
	ed_buf_reset(val);
	ed_buf_reset(fpin);
	if (ed_buf_adds(key, "rpm:") || ed_buf_add(key, g[0].key, g[0].key_len))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (i && cmp_bytes(g[i].val, g[i].val_len, g[i - 1].val, g[i - 1].val_len) == 0)
			continue; /* the same version twice: one is enough */
		if ((val->len && ed_buf_adds(val, ", ")) || ed_buf_add(val, g[i].val, g[i].val_len))
			goto nomem;
	}
	if (ed_buf_add(fpin, val->p, val->len) || ed_buf_addc(fpin, '\n') ||
	    ed_buf_add(fpin, g[0].arch.p, g[0].arch.len))
		goto nomem;
	return ed_pkg_emit(ps->sink, ps->origin, key->p, key->len, val->p, fpin->p, fpin->len,
			   json_pack("{s:s, s:s%}", "manager", "rpm", "arch", g[0].arch.p,
				     g[0].arch.len),
			   err);
nomem:
	return ed_err_set(err, ED_NOMEM, "%s: out of memory", ps->origin);
}

static enum ed_code emit_all(struct parser *ps, struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT, val = ED_BUF_INIT, fpin = ED_BUF_INIT;
	enum ed_code rc = ED_OK;

	for (size_t i = 0; i < ps->n; i++) {
		ps->recs[i].key = ps->text.p + ps->recs[i].key_off;
		ps->recs[i].val = ps->text.p + ps->recs[i].val_off;
	}
	if (ps->n > 1)
		qsort(ps->recs, ps->n, sizeof(*ps->recs), cmp_rec);

	size_t i = 0;
	while (i < ps->n) {
		const struct rec *g = &ps->recs[i];
		size_t j = i + 1;
		while (j < ps->n && cmp_bytes(ps->recs[j].key, ps->recs[j].key_len, g->key,
					      g->key_len) == 0) {
			const struct rec *r = &ps->recs[j];
			if (cmp_bytes(r->arch.p, r->arch.len, g->arch.p, g->arch.len) != 0)
				break;
			j++;
		}
		/* Same key, other architecture: only "NAME.ARCH" (none) vs NAME + ARCH. */
		size_t k = j;
		while (k < ps->n && cmp_bytes(ps->recs[k].key, ps->recs[k].key_len, g->key,
					      g->key_len) == 0) {
			const struct rec *r = &ps->recs[k];
			warn_at(ps, r->line, "package '%.*s' (arch '%.*s') has the same key as "
				"line %zu; skipped", show_len(r->key, r->key_len), r->key,
				show_len(r->arch.p, r->arch.len), r->arch.p, g->line);
			k++;
		}
		rc = emit_group(ps, g, j - i, &key, &val, &fpin, err);
		if (rc != ED_OK)
			break;
		i = k;
	}
	ed_buf_release(&key);
	ed_buf_release(&val);
	ed_buf_release(&fpin);
	return rc;
}

enum ed_code ed_rpm_parse(struct ed_str text, const char *origin, struct ed_sink *sink,
			  struct ed_err *err)
{
	struct parser ps = {
		.origin = origin ? origin : "(rpm -qa)",
		.sink = sink,
		.text = ED_BUF_INIT,
	};
	enum ed_code rc = ED_OK;
	size_t pos = 0, line = 0;

	const char *s;
	size_t len;
	while (ed_next_line(text.p, text.len, &pos, &s, &len)) {
		line++;
		if (memchr(s, '\0', len)) {
			warn_at(&ps, line, "line holds a NUL byte");
			continue;
		}
		rc = read_line(&ps, s, len, line, err);
		if (rc != ED_OK)
			goto out;
	}
	rc = emit_all(&ps, err);
out:
	ed_buf_release(&ps.text);
	free(ps.recs);
	return rc;
}

/* Folders where distributions keep the rpm database, newest layout last. */
static const char *const db_dirs[] = {"/var/lib/rpm", "/usr/lib/sysimage/rpm"};
/* Files that make a folder a database (sqlite, Berkeley DB, ndb backends). */
static const char *const db_files[] = {"rpmdb.sqlite", "Packages", "Packages.db"};

/* The first real folder holding a database; ED_NOTFOUND (message naming both) when none. */
static enum ed_code find_db(struct ed_source *src, const char **dbdir, struct ed_err *err)
{
	struct ed_buf p = ED_BUF_INIT;
	enum ed_code rc = ED_OK;

	for (size_t i = 0; i < sizeof(db_dirs) / sizeof(db_dirs[0]); i++) {
		struct ed_stat st;
		struct ed_err e = {0};
		if (src->ops->stat(src, db_dirs[i], &st, &e) != ED_OK || st.type != ED_FT_DIR)
			continue;
		for (size_t j = 0; j < sizeof(db_files) / sizeof(db_files[0]); j++) {
			ed_buf_reset(&p);
			if (ed_buf_addf(&p, "%s/%s", db_dirs[i], db_files[j])) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", db_dirs[i]);
				goto out;
			}
			if (src->ops->stat(src, p.p, &st, &e) == ED_OK && st.type == ED_FT_REG) {
				*dbdir = db_dirs[i];
				goto out;
			}
		}
	}
	rc = ed_err_set(err, ED_NOTFOUND, "no rpm database in %s or %s", db_dirs[0], db_dirs[1]);
out:
	ed_buf_release(&p);
	return rc;
}

enum ed_code ed_rpm_query(struct ed_source *src, const char *queryformat, struct ed_buf *out,
			  struct ed_buf *origin, struct ed_err *err)
{
	struct ed_buf root = ED_BUF_INIT;
	struct ed_err e = {0};
	const char *dbdir = NULL;
	const char *argv[10];
	size_t argc = 0;
	int status = 0;
	enum ed_code rc;

	rc = find_db(src, &dbdir, err);
	if (rc != ED_OK)
		goto out;
	rc = src->ops->root_dir(src, &root, &e);
	if (rc == ED_UNSUPPORTED) {
		ed_buf_reset(&root); /* a remote host: rpm runs there, on its own "/" */
	} else if (rc != ED_OK) {
		rc = ed_err_set(err, rc, "%s", e.msg);
		goto out;
	}
	argv[argc++] = "rpm";
	if (root.len && strcmp(root.p, "/") != 0) {
		argv[argc++] = "--root";
		argv[argc++] = root.p;
	}
	argv[argc++] = "--dbpath";
	argv[argc++] = dbdir;
	argv[argc++] = "-qa";
	argv[argc++] = "--queryformat";
	argv[argc++] = queryformat;
	argv[argc] = NULL;

	if (ed_buf_addf(origin, "rpm -qa (%s%s)", root.len && strcmp(root.p, "/") ? root.p : "",
			dbdir)) {
		rc = ed_err_set(err, ED_NOMEM, "rpm: out of memory");
		goto out;
	}
	rc = src->ops->run(src, argv, ED_RPM_OUTPUT_MAX, ED_RPM_TIMEOUT_MS, out, &status, &e);
	if (rc == ED_NOTFOUND)
		rc = ed_err_set(err, ED_UNSUPPORTED,
				"%s: an rpm database is there but no rpm program to read it: %s",
				origin->p, e.msg);
	else if (rc != ED_OK)
		rc = ed_err_set(err, rc, "%s: %s", origin->p, e.msg);
	else if (status != 0)
		rc = ed_err_set(err, ED_IO, "%s: %s", origin->p, e.msg);
out:
	ed_buf_release(&root);
	return rc;
}

enum ed_code ed_rpm_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf out = ED_BUF_INIT, origin = ED_BUF_INIT;
	enum ed_code rc = ed_rpm_query(src, ED_RPM_QUERYFORMAT, &out, &origin, err);
	if (rc == ED_OK)
		rc = ed_rpm_parse(ed_str_of(ed_buf_str(&out), out.len), origin.p, sink, err);
	ed_buf_release(&out);
	ed_buf_release(&origin);
	return rc;
}
