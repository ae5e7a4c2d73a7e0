/* SPDX-License-Identifier: MIT */
/*
 * Users and groups as items of their own (kind "account"), read from
 * /etc/passwd and /etc/group, so that a new user is one line
 * "added user/deploy  uid=1001 gid=1001 home=/home/deploy shell=/bin/bash"
 * rather than "/etc/passwd content differs". Neither file holds a secret
 * (passwords live in /etc/shadow, which stays a secret file and is never read
 * here); the GECOS field (a person's name) and the password placeholder are
 * not recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/account.h"
#include "ed/buf.h"

/* Largest /etc/passwd or /etc/group read: far above any real one. */
#define ACCOUNTS_MAX (16u << 20)

struct account {
	char *key;   /* "user/NAME", "group/NAME" */
	char *value; /* "uid=0 gid=0 home=/root shell=/bin/bash", "gid=27 members=a,b" */
	size_t order; /* as read: the first of a name given twice wins */
};

struct accounts {
	struct account *v;
	size_t n, cap;
};

static void accounts_release(struct accounts *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].key);
		free(a->v[i].value);
	}
	free(a->v);
}

static int add(struct accounts *a, struct ed_buf *key, struct ed_buf *value)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct account *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n].order = a->n;
	a->v[a->n].key = ed_buf_detach(key);
	a->v[a->n].value = ed_buf_detach(value);
	if (!a->v[a->n].key || !a->v[a->n].value) {
		free(a->v[a->n].key);
		free(a->v[a->n].value);
		return -1;
	}
	a->n++;
	return 0;
}

/* Splits line [p, e) at ':' into at most max fields; returns how many. */
static size_t split(const char *p, const char *e, struct ed_str *f, size_t max)
{
	size_t n = 0;
	while (n < max) {
		const char *c = memchr(p, ':', (size_t)(e - p));
		f[n++] = ed_str_of(p, (size_t)((c ? c : e) - p));
		if (!c)
			break;
		p = c + 1;
	}
	return n;
}

static bool digits(struct ed_str s)
{
	if (!s.len || s.len > 10)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static int cmp_str(const void *x, const void *y)
{
	const struct ed_str *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->p, b->p, n);
	return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* "members=a,b": the members sorted, so that their order is no drift. */
static int add_members(struct ed_buf *v, struct ed_str list)
{
	struct ed_str m[256];
	size_t n = 0;
	const char *p = list.p, *e = list.p + list.len;
	while (p < e && n < sizeof(m) / sizeof(m[0])) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		const char *end = c ? c : e;
		if (end > p)
			m[n++] = ed_str_of(p, (size_t)(end - p));
		p = c ? c + 1 : e;
	}
	qsort(m, n, sizeof(m[0]), cmp_str);
	int bad = ed_buf_adds(v, " members=");
	for (size_t i = 0; i < n && !bad; i++)
		bad = (i && ed_buf_addc(v, ',')) || ed_buf_add(v, m[i].p, m[i].len);
	/* More than 256 members: the rest as written, still recorded. */
	if (!bad && p < e)
		bad = ed_buf_addc(v, ',') || ed_buf_add(v, p, (size_t)(e - p));
	return bad;
}

/*
 * One file: users (7 fields) or groups (4 fields). A line that is not an
 * entry (NIS "+" lines, blanks, comments) is skipped; a malformed one is a
 * warning naming the line, never quoting it.
 */
static enum ed_code read_file(struct ed_source *src, struct ed_sink *sink, const char *path,
			      bool users, struct accounts *out, struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT, key = ED_BUF_INIT, value = ED_BUF_INIT;
	struct ed_err e = {0};
	enum ed_code rc = ed_source_read_all(src, path, ACCOUNTS_MAX, &text, &e);
	if (rc == ED_NOTFOUND) {
		rc = ED_OK;
		goto out;
	}
	if (rc == ED_NOMEM)
		goto nomem;
	if (rc) {
		ed_sink_warn(sink, "%s", e.msg);
		rc = ED_OK;
		goto out;
	}
	const char *p = text.p ? text.p : "", *end = p + text.len;
	size_t lineno = 0, bad = 0, bad_line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *line = p;
		p = nl ? nl + 1 : end;
		if (le > line && le[-1] == '\r')
			le--;
		if (le == line || *line == '#' || *line == '+' || *line == '-')
			continue;
		struct ed_str f[7];
		size_t n = split(line, le, f, 7);
		bool ok = users ? n == 7 && digits(f[2]) && digits(f[3]) : n == 4 && digits(f[2]);
		for (size_t i = 0; ok && i < n; i++)
			ok = !memchr(f[i].p, '\0', f[i].len) && ed_utf8_valid(f[i].p, f[i].len);
		ok = ok && f[0].len > 0 && !memchr(f[0].p, '/', f[0].len);
		if (!ok) {
			if (!bad++)
				bad_line = lineno;
			continue;
		}
		ed_buf_reset(&key);
		ed_buf_reset(&value);
		int fail = ed_buf_adds(&key, users ? "user/" : "group/") ||
			   ed_buf_add(&key, f[0].p, f[0].len);
		if (users)
			fail = fail || ed_buf_addf(&value, "uid=%.*s gid=%.*s home=%.*s shell=%.*s",
						   (int)f[2].len, f[2].p, (int)f[3].len, f[3].p,
						   (int)f[5].len, f[5].p, (int)f[6].len, f[6].p);
		else
			fail = fail || ed_buf_addf(&value, "gid=%.*s", (int)f[2].len, f[2].p) ||
			       add_members(&value, f[3]);
		if (fail || add(out, &key, &value))
			goto nomem;
	}
	if (bad)
		ed_sink_warn(sink, "%s:%zu: %zu line%s not read (not NAME:...:%s)", path, bad_line,
			     bad, bad == 1 ? "" : "s",
			     users ? "UID:GID:GECOS:HOME:SHELL" : "GID:MEMBERS");
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
out:
	ed_buf_release(&text);
	ed_buf_release(&key);
	ed_buf_release(&value);
	return rc;
}

static int cmp_account(const void *x, const void *y)
{
	const struct account *a = x, *b = y;
	int r = strcmp(a->key, b->key);
	return r ? r : (a->order > b->order) - (a->order < b->order);
}

enum ed_code ed_accounts_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err)
{
	struct accounts a = {0};
	enum ed_code rc = read_file(src, sink, "/etc/passwd", true, &a, err);
	if (!rc)
		rc = read_file(src, sink, "/etc/group", false, &a, err);
	if (a.n > 1)
		qsort(a.v, a.n, sizeof(a.v[0]), cmp_account);
	for (size_t i = 0; !rc && i < a.n; i++) {
		/* A name given twice: the first entry is the one the system uses. */
		if (i && strcmp(a.v[i].key, a.v[i - 1].key) == 0)
			continue;
		struct ed_item it = {0};
		it.kind = ED_KIND_ACCOUNT;
		it.key = a.v[i].key;
		it.key_len = strlen(it.key);
		it.ftype = ED_FT_NONE;
		it.value = a.v[i].value;
		ed_fp_of(it.value, strlen(it.value), &it.fp);
		rc = sink->emit(sink, &it, err);
	}
	accounts_release(&a);
	return rc;
}
