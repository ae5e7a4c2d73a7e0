/* SPDX-License-Identifier: MIT */
/*
 * Policies: the built-in default and policies/default.ini agree, every
 * construct parses, every error with its exact message and line, the refusal
 * of lines libinih would truncate, expiry, severity precedence, package
 * direction, the must-differ hook, the judgement of a drift, and every
 * allocation failure of the parser and of the judgement.
 *
 * Usage: test_policy [SRCDIR]: the source tree holding policies/; without
 * it, $SRCDIR, else the tree derived from this file's name (__FILE__).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/diff.h"
#include "ed/policy.h"
#include "tap.h"

#define ORIGIN "p.ini"

/* ---- a counting allocator: fails the Nth allocation (glibc; not under ASan) ---- */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_FAILING_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define HAVE_FAILING_MALLOC 0
#endif
#endif
#if !defined(HAVE_FAILING_MALLOC) && defined(__GLIBC__)
#define HAVE_FAILING_MALLOC 1
#endif
#ifndef HAVE_FAILING_MALLOC
#define HAVE_FAILING_MALLOC 0
#endif

static long alloc_countdown; /* 0: off; N: the Nth allocation from now fails */
static bool alloc_failed;
static long alloc_live;      /* blocks allocated and not yet freed, to find leaks */

#if HAVE_FAILING_MALLOC
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static bool should_fail(void)
{
	if (alloc_countdown > 0 && --alloc_countdown == 0) {
		alloc_failed = true;
		return true;
	}
	return false;
}

void *malloc(size_t n)
{
	void *r = should_fail() ? NULL : __libc_malloc(n);
	alloc_live += r != NULL;
	return r;
}

void *calloc(size_t n, size_t size)
{
	void *r = should_fail() ? NULL : __libc_calloc(n, size);
	alloc_live += r != NULL;
	return r;
}

void *realloc(void *p, size_t n)
{
	if (p && n == 0) {
		alloc_live--;
		return __libc_realloc(p, n);
	}
	void *r = should_fail() ? NULL : __libc_realloc(p, n);
	alloc_live += !p && r;
	return r;
}

void free(void *p)
{
	alloc_live -= p != NULL;
	__libc_free(p);
}
#endif

/* ---- helpers ---- */

static bool str_eq(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool where_eq(const struct ed_policy_where *a, const struct ed_policy_where *b)
{
	return str_eq(a->origin, b->origin) && a->line == b->line;
}

static bool setting_eq(const struct ed_policy_setting *a, const struct ed_policy_setting *b)
{
	return a->value == b->value && where_eq(&a->where, &b->where);
}

/* Prints the first difference as a TAP comment; true when equal. */
static bool policies_equal(const struct ed_policy *a, const struct ed_policy *b)
{
	if (a->nexpects != b->nexpects || a->nseverities != b->nseverities ||
	    a->ndiffers != b->ndiffers) {
		printf("# counts %zu/%zu/%zu vs %zu/%zu/%zu\n", a->nexpects, a->nseverities,
		       a->ndiffers, b->nexpects, b->nseverities, b->ndiffers);
		return false;
	}
	for (size_t i = 0; i < a->nexpects; i++) {
		const struct ed_policy_expect *x = &a->expects[i], *y = &b->expects[i];
		if (!str_eq(x->kind, y->kind) || !str_eq(x->glob, y->glob) ||
		    !str_eq(x->reason, y->reason) || strcmp(x->expires, y->expires) != 0 ||
		    x->fields != y->fields || x->changes != y->changes || !where_eq(&x->where, &y->where)) {
			printf("# expect %zu: %s %s vs %s %s\n", i, x->kind, x->glob, y->kind, y->glob);
			return false;
		}
	}
	for (size_t i = 0; i < a->nseverities; i++) {
		const struct ed_policy_severity *x = &a->severities[i], *y = &b->severities[i];
		if (!str_eq(x->kind, y->kind) || !str_eq(x->glob, y->glob) || x->level != y->level ||
		    !where_eq(&x->where, &y->where)) {
			printf("# severity %zu differs\n", i);
			return false;
		}
	}
	for (size_t i = 0; i < a->ndiffers; i++) {
		const struct ed_policy_differ *x = &a->differs[i], *y = &b->differs[i];
		if (!str_eq(x->kind, y->kind) || !str_eq(x->glob, y->glob) || x->must != y->must ||
		    !where_eq(&x->where, &y->where)) {
			printf("# must-differ %zu differs\n", i);
			return false;
		}
	}
	if (!setting_eq(&a->secrets, &b->secrets) || !setting_eq(&a->ahead, &b->ahead) ||
	    !setting_eq(&a->behind, &b->behind) || !setting_eq(&a->rebuild, &b->rebuild)) {
		printf("# settings differ\n");
		return false;
	}
	return true;
}

static enum ed_code parse_on(struct ed_policy *p, const char *text, struct ed_err *err)
{
	return ed_policy_parse(ed_str_of(text, strlen(text)), ORIGIN, p, err);
}

/* Parses text on top of the default; expects ED_PARSE with exactly msg, p unchanged. */
static void expect_error(const char *text, const char *msg, const char *what)
{
	struct ed_policy p = {0}, before = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	ed_policy_copy(&before, &p, &err);
	enum ed_code rc = parse_on(&p, text, &err);
	is_int(rc, ED_PARSE, "%s: ED_PARSE", what);
	is_str(err.msg, msg, "%s: message", what);
	ok(policies_equal(&p, &before), "%s: policy unchanged", what);
	ed_policy_release(&p);
	ed_policy_release(&before);
}

/* Parses text on top of the default and expects success. */
static bool parse_ok(struct ed_policy *p, const char *text, const char *what)
{
	struct ed_err err = {0};
	ed_policy_default(p, &err);
	enum ed_code rc = parse_on(p, text, &err);
	is_int(rc, ED_OK, "%s: parses", what);
	if (rc)
		printf("# %s\n", err.msg);
	return rc == ED_OK;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- drift entries built by hand ---- */

static const char secret_attrs[] = "{\"secret\":true}";

static void side(struct ed_side *s, const char *value, bool secret)
{
	s->present = true;
	s->value = value ? strdup(value) : NULL;
	s->attrs = secret ? strdup(secret_attrs) : NULL;
}

/* Appends an entry as the merge makes it (severity block, no policy). */
static struct ed_drift_entry *add(struct ed_drift *d, const char *kind, const char *key,
				  enum ed_change change, unsigned fields, const char *refv,
				  const char *candv)
{
	struct ed_drift_entry *v = realloc(d->v, (d->n + 1) * sizeof(*v));
	if (!v)
		abort();
	d->v = v;
	struct ed_drift_entry *e = &v[d->n++];
	memset(e, 0, sizeof(*e));
	e->kind = strdup(kind);
	e->key = strdup(key);
	e->key_len = strlen(key);
	e->change = change;
	e->fields = fields;
	e->severity = "block";
	e->rule = strdup("no policy: all drift blocks");
	if (change != ED_ADDED)
		side(&e->ref, refv, false);
	if (change != ED_REMOVED)
		side(&e->cand, candv, false);
	return e;
}

static struct ed_drift_entry *add_file(struct ed_drift *d, const char *path, enum ed_change change,
				       unsigned fields)
{
	return add(d, "file", path, change, fields, NULL, NULL);
}

/* The must-differ entry the merge appends for an equal pair. */
static struct ed_drift_entry *add_same(struct ed_drift *d, const char *kind, const char *key,
				       bool secret)
{
	struct ed_drift_entry *e = add(d, kind, key, ED_CHANGED, 0, NULL, NULL);
	if (secret) {
		e->ref.attrs = strdup(secret_attrs);
		e->cand.attrs = strdup(secret_attrs);
	}
	return e;
}

/* Applies p as of today to a single entry and checks severity, rule, ignored and reason. */
static void judge_one(const struct ed_policy *p, const char *today, struct ed_drift_entry proto,
		      const char *sev, const char *rule, const char *reason, const char *what)
{
	struct ed_drift d = {0};
	struct ed_drift_entry *e = add(&d, proto.kind, proto.key, proto.change, proto.fields,
				       proto.ref.value, proto.cand.value);
	struct ed_err err = {0};
	is_int(ed_policy_apply(p, today, &d, &err), ED_OK, "%s: applies", what);
	is_str(e->severity, sev, "%s: severity", what);
	is_str(e->rule, rule, "%s: rule", what);
	ok(e->ignored == (reason != NULL), "%s: %s", what, reason ? "ignored" : "not ignored");
	is_str(e->reason, reason, "%s: reason", what);
	ed_drift_release(&d);
}

static struct ed_drift_entry E(const char *kind, const char *key, enum ed_change change,
			       unsigned fields)
{
	struct ed_drift_entry e = {0};
	e.kind = (char *)kind;
	e.key = (char *)key;
	e.change = change;
	e.fields = fields;
	return e;
}

static struct ed_drift_entry PKG(const char *key, const char *refv, const char *candv)
{
	struct ed_drift_entry e = E("package", key, ED_CHANGED, ED_F_VERSION);
	e.ref.value = (char *)refv;
	e.cand.value = (char *)candv;
	return e;
}

/* ---- the tests ---- */

static void test_default(void)
{
	struct ed_policy p = {0};
	struct ed_err err = {0};
	is_int(ed_policy_default(&p, &err), ED_OK, "default: builds");
	is_int(p.nexpects, 13, "default: 13 expected differences");
	is_int(p.nseverities, 6, "default: a severity line per kind");
	is_int(p.ndiffers, 13, "default: 13 must-differ exemptions");
	is_int(p.secrets.value, 1, "default: secrets must differ");
	is_int(p.ahead.value, ED_LEVEL_INFO, "default: ahead info");
	is_int(p.behind.value, ED_LEVEL_BLOCK, "default: behind block");
	is_int(p.rebuild.value, ED_LEVEL_WARN, "default: rebuild warn");
	bool builtin = true;
	for (size_t i = 0; i < p.nexpects; i++)
		builtin = builtin && !p.expects[i].where.origin && p.expects[i].where.line > 0 &&
			  p.expects[i].reason && *p.expects[i].reason;
	ok(builtin, "default: rules have no origin, a line and a reason");
	is_str(p.expects[0].glob, "/etc/hostname", "default: first rule /etc/hostname");
	is_int(p.expects[0].fields, ED_F_CONTENT, "default: /etc/hostname content only");
	is_str(p.expects[3].reason,
	       "each host has its own SSH host keys; a host holding production's keys is still "
	       "caught by [must-differ]",
	       "default: a reason keeps ';' and joins its continuation line");

	is_int(ed_policy_default(&p, &err), ED_OK, "default: again on a filled policy");
	is_int(p.nexpects, 13, "default: not doubled");
	ed_policy_release(&p);
	is_int(p.nexpects + p.nseverities + p.ndiffers, 0, "release zeroes");
	ed_policy_release(&p);
	ed_policy_release(NULL);
	ok(1, "release twice and on NULL is harmless");

	struct ed_policy init = {0};
	ed_policy_init(&init);
	is_int(init.nexpects + init.nseverities + init.ndiffers, 0, "init: no rules");
	ok(init.secrets.value == 1 && init.ahead.value == ED_LEVEL_INFO &&
		   init.behind.value == ED_LEVEL_BLOCK && init.rebuild.value == ED_LEVEL_WARN,
	   "init: the fallbacks");
	ed_policy_release(&init);
}

/* docs/policy.md shows the file in full: check it is there byte for byte. */
static void in_docs(const char *root, const char *text, const char *what)
{
	char path[4200];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/docs/policy.md", root);
	char *doc = read_file(path, &len);
	ok(doc && strstr(doc, text), "docs/policy.md shows %s verbatim", what);
	free(doc);
}

static bool lines_fit(const char *text, size_t len)
{
	for (const char *s = text; s < text + len;) {
		const char *nl = memchr(s, '\n', (size_t)(text + len - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(text + len - s);
		if (n > ED_POLICY_MAX_LINE)
			return false;
		s += n + 1;
	}
	return true;
}

static void test_default_ini(const char *root)
{
	char path[4200];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/policies/default.ini", root);
	char *text = read_file(path, &len);
	ok(text != NULL, "policies/default.ini readable at %s", path);
	if (!text)
		return;
	is_str(ed_policy_default_text(), text, "default.ini == the built-in default's text");

	struct ed_policy fromfile = {0}, def = {0}, twice = {0};
	struct ed_err err = {0};
	ed_policy_init(&fromfile);
	is_int(ed_policy_parse(ed_str_of(text, len), NULL, &fromfile, &err), ED_OK,
	       "default.ini parses on the fallbacks");
	ed_policy_default(&def, &err);
	ok(policies_equal(&fromfile, &def), "default.ini == ed_policy_default()");

	ed_policy_default(&twice, &err);
	is_int(ed_policy_parse(ed_str_of(text, len), NULL, &twice, &err), ED_OK,
	       "default.ini parses on the default");
	ok(policies_equal(&twice, &def), "default.ini on the default == the default (replaced)");
	ok(lines_fit(text, len), "default.ini: no line longer than %d bytes", ED_POLICY_MAX_LINE);
	in_docs(root, text, "default.ini");
	ed_policy_release(&fromfile);
	ed_policy_release(&def);
	ed_policy_release(&twice);
	free(text);

	snprintf(path, sizeof(path), "%s/policies/example.ini", root);
	text = read_file(path, &len);
	ok(text != NULL, "policies/example.ini readable");
	if (!text)
		return;
	struct ed_policy p = {0};
	is_int(ed_policy_load(path, &p, &err), ED_OK, "example.ini loads on the default");
	if (err.code)
		printf("# %s\n", err.msg);
	is_int(p.nexpects, 18, "example.ini: 5 expected differences added");
	ok(lines_fit(text, len), "example.ini: no line longer than %d bytes", ED_POLICY_MAX_LINE);
	in_docs(root, text, "example.ini");
	ed_policy_release(&p);
	free(text);

	is_int(ed_policy_load("/nonexistent/policy.ini", &p, &err), ED_NOTFOUND,
	       "load: a missing file");
	is_str(err.msg, "policy /nonexistent/policy.ini: No such file or directory",
	       "load: the message names the file");
	is_int(p.nexpects, 13, "load: the default remains after an error");
	is_int(ed_policy_load(NULL, &p, &err), ED_OK, "load: NULL gives the default");
	ed_policy_release(&p);
}

static void test_constructs(void)
{
	struct ed_policy p = {0};
	const char *text =
		"\xef\xbb\xbf; a policy using every construct\r\n"
		"[expect \"file /etc/motd\"] ; the banner\r\n"
		"reason = the banner names the environment; and that is fine = really\r\n"
		"\tand goes on\r\n"
		"\r\n"
		"  ; a comment between continuation lines\r\n"
		"    here\r\n"
		"expires = 2027-02-28 ; a comment\r\n"
		"field = content,mode ; commas or blanks\r\n"
		"   owner\r\n"
		"change = changed\r\n"
		"[expect \"package dpkg:shop-*\"]\r\n"
		"reason = ours\r\n"
		"change = added removed\r\n"
		"[severity]\r\n"
		"file = info\r\n"
		"file /etc/nginx/* = block ; nginx matters\r\n"
		"config /etc/a b.json#/x=y = warn\r\n"
		"package dpkg:openssl:* = block\r\n"
		"[packages]\r\n"
		"ahead = warn\r\n"
		"behind = info\r\n"
		"rebuild = block\r\n"
		"[must-differ]\r\n"
		"secrets = no\r\n"
		"config /etc/app.json#/db/host = yes\r\n"
		"[policy]\r\n"
		"defaults = yes\r\n"
		"[severity]\r\n"
		"schema sqlite:app/* = info\r\n";
	if (!parse_ok(&p, text, "every construct"))
		return;
	is_int(p.nexpects, 15, "two [expect] rules added");
	const struct ed_policy_expect *r = &p.expects[13];
	is_str(r->kind, "file", "expect: kind");
	is_str(r->glob, "/etc/motd", "expect: glob");
	is_str(r->reason, "the banner names the environment; and that is fine = really and goes on here",
	       "expect: reason runs to the end of the line and joins continuation lines");
	is_str(r->expires, "2027-02-28", "expect: expires");
	is_int(r->fields, ED_F_CONTENT | ED_F_MODE | ED_F_OWNER, "expect: field list");
	is_int(r->changes, 1u << ED_CHANGED, "expect: change");
	is_str(r->where.origin, ORIGIN, "expect: origin");
	is_int(r->where.line, 2, "expect: the header's line");
	r = &p.expects[14];
	is_int(r->changes, (1u << ED_ADDED) | (1u << ED_REMOVED), "expect: change list");
	is_int(r->fields, 0, "expect: any field");
	is_str(r->expires, "", "expect: never expires");

	is_int(p.nseverities, 10, "severity: 4 lines added, 'file' replaced");
	const struct ed_policy_severity *s = &p.severities[p.nseverities - 5];
	is_str(s->kind, "file", "severity: kind line");
	ok(s->glob == NULL, "severity: kind line has no glob");
	is_int(s->level, ED_LEVEL_INFO, "severity: info");
	is_int(s->where.line, 16, "severity: line");
	s++;
	is_str(s->glob, "/etc/nginx/*", "severity: glob, comment stripped");
	s++;
	is_str(s->glob, "/etc/a b.json#/x=y", "severity: a glob with a blank and '=' splits at the last '='");
	is_int(s->level, ED_LEVEL_WARN, "severity: warn");
	s++;
	is_str(s->glob, "dpkg:openssl:*", "severity: package glob with ':'");
	s++;
	is_str(s->kind, "schema", "severity: a section given twice continues");
	is_int(p.ahead.value, ED_LEVEL_WARN, "packages: ahead");
	is_int(p.behind.value, ED_LEVEL_INFO, "packages: behind");
	is_int(p.rebuild.value, ED_LEVEL_BLOCK, "packages: rebuild");
	is_int(p.behind.where.line, 22, "packages: line");
	is_int(p.secrets.value, 0, "must-differ: secrets = no");
	is_int(p.ndiffers, 14, "must-differ: a line added");
	is_str(p.differs[13].glob, "/etc/app.json#/db/host", "must-differ: glob");
	ok(p.differs[13].must, "must-differ: yes");
	ed_policy_release(&p);

	/* defaults = no: only this file's rules and the fallbacks. */
	if (parse_ok(&p, "; own rules only\n[policy]\ndefaults = no\n[severity]\nfile = block\n",
		     "defaults = no")) {
		is_int(p.nexpects + p.ndiffers, 0, "defaults = no: no default rules");
		is_int(p.nseverities, 1, "defaults = no: only this file's severity line");
		is_int(p.secrets.value, 1, "defaults = no: fallback secrets = yes");
		ok(p.secrets.where.origin == NULL && p.secrets.where.line == 0,
		   "defaults = no: a fallback has no line");
	}
	ed_policy_release(&p);

	/* A rule for the same KIND GLOB as the default's replaces it. */
	if (parse_ok(&p, "[expect \"file /etc/hostname\"]\nreason = ours\n[must-differ]\n"
			 "file /etc/passwd = yes\n",
		     "replace a default rule")) {
		is_int(p.nexpects, 13, "replace: still 13 rules");
		is_str(p.expects[12].glob, "/etc/hostname", "replace: moved to the end");
		is_str(p.expects[12].reason, "ours", "replace: the new reason");
		is_int(p.expects[12].fields, 0, "replace: nothing of the old rule remains");
		is_int(p.ndiffers, 13, "replace: must-differ line replaced");
		ok(ed_policy_must_differ(&p, "file", "/etc/passwd", 11, true),
		   "replace: /etc/passwd must differ now");
	}
	ed_policy_release(&p);

	/* An empty text and comments only change nothing. */
	struct ed_policy def = {0};
	struct ed_err err = {0};
	ed_policy_default(&def, &err);
	if (parse_ok(&p, "", "empty text"))
		ok(policies_equal(&p, &def), "empty text: the default");
	ed_policy_release(&p);
	if (parse_ok(&p, "; nothing\n# at all\n\n[severity]\n", "comments only"))
		ok(policies_equal(&p, &def), "comments only: the default");
	ed_policy_release(&p);
	ed_policy_default(&p, &err);
	is_int(ed_policy_parse(ed_str_of(NULL, 0), ORIGIN, &p, &err), ED_OK, "NULL text: nothing");
	ed_policy_release(&p);
	ed_policy_release(&def);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"[sev]\n", "p.ini:1: unknown section [sev] (known: policy, expect \"KIND GLOB\", severity, packages, must-differ, data)"},
		{"x = 1\n", "p.ini:1: 'x' is outside any section: put it under [expect \"KIND GLOB\"], [severity], [packages], [must-differ], [data] or [policy]"},
		{"[severity\n", "p.ini:1: section header without ']'"},
		{" [severity]\n", "p.ini:1: a section header must start at the beginning of the line"},
		{"[severity] x\n", "p.ini:1: unexpected text after the section header"},
		{"[severity \"file /x\"]\n", "p.ini:1: unexpected text in [severity]: only [expect \"KIND GLOB\"] takes a rule"},
		{"[expect]\n", "p.ini:1: [expect] needs its rule in quotes: [expect \"KIND GLOB\"], e.g. [expect \"file /etc/motd\"]"},
		{"[expect \"file /x]\n", "p.ini:1: the rule in [expect \"...\"] has no closing quote"},
		{"[expect \"file /x\" ]\n", "p.ini:1: expected ']' right after the closing quote"},
		{"[expect \"file /x\"] junk\nreason = r\n", "p.ini:1: unexpected text after the section header"},
		{"[expect \"\"]\n", "p.ini:1: [expect \"\"] is empty: write [expect \"KIND GLOB\"], e.g. [expect \"file /etc/motd\"]"},
		{"[expect \"files /x\"]\n", "p.ini:1: unknown kind 'files' (file, config, package, schema, system, account, data, rows, role)"},
		{"[expect \"file\"]\n", "p.ini:1: 'file' needs a key glob after it, as in 'file /etc/motd'"},
		{"[expect \"package\"]\n", "p.ini:1: 'package' needs a key glob after it, as in 'package dpkg:openssl:*'"},
		{"[expect \"file etc/motd\"]\n", "p.ini:1: glob 'etc/motd' has a '/', so it matches whole paths: start it with '/' or '*'"},
		{"[expect \"config /etc/app.json\"]\n", "p.ini:1: config keys are PATH#/POINTER, so '/etc/app.json' never matches (every key of the file: '/etc/app.json#*')"},
		{"[expect \"schema users\"]\n", "p.ini:1: schema keys are ENGINE:NAME/TYPE/OBJECT, so 'users' never matches (e.g. 'sqlite:app/table/users')"},
		{"[severity]\npackage openssl = block\n", "p.ini:2: package keys are MANAGER:NAME[:ARCH], so 'openssl' never matches (e.g. 'dpkg:openssl:*')"},
		{"[expect \"file /x\"]\n[severity]\n", "p.ini:1: [expect \"file /x\"] has no 'reason': say why this difference is expected"},
		{"[expect \"file /x\"]\nfield = content\n", "p.ini:1: [expect \"file /x\"] has no 'reason': say why this difference is expected"},
		{"[expect \"file /x\"]\n[bogus]\n", "p.ini:1: [expect \"file /x\"] has no 'reason': say why this difference is expected"},
		{"[expect \"file /x\"]\nreason =\n", "p.ini:2: 'reason' needs a value: say why this difference is expected"},
		{"[expect \"file /x\"]\nreason = a\nreason = b\n", "p.ini:3: 'reason' is already set on line 2"},
		{"[expect \"file /x\"]\nreasons = a\n", "p.ini:2: unknown key 'reasons' in [expect \"file /x\"] (reason, expires, field, change)"},
		{"[expect \"file /x\"]\n= a\n", "p.ini:2: a line starts with '=': the key is missing"},
		{"[expect \"file /x\"]\nreason = r\nexpires = 2025-02-30\n", "p.ini:3: 'expires': '2025-02-30' is not a date YYYY-MM-DD"},
		{"[expect \"file /x\"]\nreason = r\nexpires = 2025-1-1\n", "p.ini:3: 'expires': '2025-1-1' is not a date YYYY-MM-DD"},
		{"[expect \"file /x\"]\nreason = r\nexpires = 2025-01-01\n  2025-02-02\n", "p.ini:4: 'expires' takes one date, but this indented line continues it"},
		{"[expect \"file /x\"]\nreason = r\nexpires =\n", "p.ini:3: 'expires' needs a value"},
		{"[expect \"file /x\"]\nreason = r\nfield = contents\n", "p.ini:3: 'field': unknown field 'contents' (content, type, mode, owner, group, target, value, version, definition, error, rows, null_frac, distinct, stats, overlap)"},
		{"[expect \"file /x\"]\nreason = r\nfield = value\n", "p.ini:3: 'field': 'value' never differs for file items (content, type, mode, owner, group, target, error)"},
		{"[expect \"package dpkg:*\"]\nreason = r\nfield = version\n  content\n", "p.ini:4: 'field': 'content' never differs for package items (version, error)"},
		{"[expect \"role worker\"]\nreason = r\nfield = content\n", "p.ini:3: 'field': role items have no fields: they are added or removed"},
		{"[severity]\nrole =\n", "p.ini:2: 'role' needs a severity (block, warn, info)"},
		{"[expect \"file /x\"]\nreason = r\nchange = modified\n", "p.ini:3: 'change': unknown change 'modified' (added, removed, changed)"},
		{"[expect \"file /x\"]\nreason = r\nfield = mode\nchange = added\n", "p.ini:4: 'field' applies to changed items only, but 'change' leaves out 'changed'"},
		{"[expect \"file /x\"]\nreason = r\n  expires = 2030-01-01\n", "p.ini:3: this indented line continues 'reason': start the line in column 1 to set another key"},
		{"[expect \"file /x\"]\nreason = r\n[expect \"file /x\"]\nreason = s\n", "p.ini:3: [expect \"file /x\"] is already given on line 1"},
		{"[severity]\n  file = warn\n", "p.ini:2: this line is indented, but there is no key above it to continue: start it in column 1"},
		{"[severity]\nfile = warn\n  config = warn\n", "p.ini:3: this line is indented, so it would continue the line above, but [severity] lines stand alone: start it in column 1"},
		{"[severity]\nfile: warn\n", "p.ini:2: expected '[section]', 'key = value' or a comment (a policy separates with '=', not ':')"},
		{"[severity]\nfile warn\n", "p.ini:2: expected '[section]', 'key = value' or a comment"},
		{"[severity]\nfile /a ;b = warn\n", "p.ini:2: expected '[section]', 'key = value' or a comment"},
		{"[severity]\n= warn\n", "p.ini:2: a line starts with '=': the kind is missing"},
		{"[severity]\nfiles = warn\n", "p.ini:2: unknown kind 'files' (file, config, package, schema, system, account, data, rows, role)"},
		{"[severity]\nfile = critical\n", "p.ini:2: unknown severity 'critical' (block, warn, info)"},
		{"[severity]\nfile /x =\n", "p.ini:2: 'file /x' needs a severity (block, warn, info)"},
		{"[severity]\nfile = warn\nfile = info\n", "p.ini:3: the severity of 'file' is already set on line 2"},
		{"[severity]\nfile /x = warn\n[severity]\nfile /x = info\n", "p.ini:4: the severity of 'file /x' is already set on line 2"},
		{"[packages]\nahead = info\nahead = warn\n", "p.ini:3: 'ahead' is already set on line 2"},
		{"[packages]\nnewer = info\n", "p.ini:2: unknown key 'newer' in [packages] (ahead, behind, rebuild)"},
		{"[packages]\nbehind = fatal\n", "p.ini:2: unknown severity 'fatal' (block, warn, info)"},
		{"[packages]\nbehind =\n", "p.ini:2: 'behind' needs a severity (block, warn, info)"},
		{"[must-differ]\nsecrets = maybe\n", "p.ini:2: 'secrets': 'maybe' is not yes or no"},
		{"[must-differ]\nsecrets = yes\nsecrets = no\n", "p.ini:3: 'secrets' is already set on line 2"},
		{"[must-differ]\nfile = yes\n", "p.ini:2: 'file' needs a key glob after it, as in 'file /etc/motd'"},
		{"[must-differ]\nconfig /a.json#/x = true\n", "p.ini:2: 'config /a.json#/x': 'true' is not yes or no"},
		{"[must-differ]\nconfig /a.json#/x =\n", "p.ini:2: 'config /a.json#/x' needs a value: yes or no"},
		{"[must-differ]\nfile /x = yes\nfile /x = no\n", "p.ini:3: 'file /x' is already given on line 2"},
		{"[policy]\ndefaults = maybe\n", "p.ini:2: 'defaults': 'maybe' is not yes or no"},
		{"[policy]\ninherit = no\n", "p.ini:2: unknown key 'inherit' in [policy] (defaults)"},
		{"[severity]\nfile = warn\n[policy]\ndefaults = no\n", "p.ini:4: 'defaults = no' must come before the file's first rule (line 2)"},
		{"[policy]\ndefaults = yes\ndefaults = yes\n", "p.ini:3: 'defaults' is already set on line 2"},
		{"[severity]\nfile = w\x01rn\n", "p.ini:2: control character 0x01 in column 9"},
		{"[severity]\nfile = \xff\n", "p.ini:2: invalid UTF-8"},
		{"; ok\n[severity]\r\nfile = warn\r\r\n", "p.ini:3: control character 0x0d in column 12"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "error %zu", i + 1);
		expect_error(cases[i].text, cases[i].msg, what);
	}
	/* A NUL byte: strlen() would stop at it, so give the length. */
	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	static const char nul[] = "[severity]\nfile = warn\0\n";
	is_int(ed_policy_parse(ed_str_of(nul, sizeof(nul) - 1), ORIGIN, &p, &err), ED_PARSE,
	       "NUL byte refused");
	is_str(err.msg, "p.ini:2: NUL byte", "NUL byte: message");
	ed_policy_release(&p);
}

static void test_long_lines(void)
{
	char text[600];
	/* "[severity]\nfile /" + glob + " = warn" = exactly n bytes on line 2. */
	for (int n = ED_POLICY_MAX_LINE - 1; n <= ED_POLICY_MAX_LINE + 1; n++) {
		int glob = n - (int)strlen("file / = warn");
		snprintf(text, sizeof(text), "[severity]\nfile /%.*s = warn\n", glob,
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		struct ed_policy p = {0};
		struct ed_err err = {0};
		ed_policy_default(&p, &err);
		enum ed_code rc = parse_on(&p, text, &err);
		if (n <= ED_POLICY_MAX_LINE) {
			is_int(rc, ED_OK, "a %d-byte line is accepted", n);
			is_int(strlen(p.severities[p.nseverities - 1].glob), glob + 1,
			       "a %d-byte line: the glob is whole", n);
		} else {
			is_int(rc, ED_PARSE, "a %d-byte line is refused", n);
			is_str(err.msg,
			       "p.ini:2: line is 198 bytes long; libinih reads at most 197: split the "
			       "value over indented continuation lines",
			       "a %d-byte line: message", n);
		}
		ed_policy_release(&p);
	}
	/* A 197-byte line with "\r\n" is fine; the "\r" does not count. */
	snprintf(text, sizeof(text), "[severity]\r\nfile /%.*s = warn\r\n", 184,
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	is_int(parse_on(&p, text, &err), ED_OK, "a 197-byte line ending in \\r\\n is accepted");
	ed_policy_release(&p);

	/* A long reason is written over continuation lines. */
	char reason[1200] = "[expect \"file /x\"]\nreason = start\n";
	for (int i = 0; i < 10; i++)
		strcat(reason, "\tninety bytes of explanation, ninety bytes of explanation, ninety bytes of "
			       "explanation\n");
	ed_policy_default(&p, &err);
	is_int(parse_on(&p, reason, &err), ED_OK, "a long reason over continuation lines");
	is_int(strlen(p.expects[p.nexpects - 1].reason), 5 + 10 * 86, "the reason is whole");
	ed_policy_release(&p);
}

/* Builds a text of n numbered lines made by fmt (with one %d) after header. */
static char *numbered(const char *header, const char *fmt, int n)
{
	struct ed_buf b = ED_BUF_INIT;
	if (ed_buf_adds(&b, header))
		abort();
	for (int i = 1; i <= n; i++)
		if (ed_buf_addf(&b, fmt, i))
			abort();
	return ed_buf_detach(&b);
}

static void expect_limit(const char *text, const char *msg, const char *what)
{
	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	is_int(parse_on(&p, text, &err), ED_PARSE, "%s: refused", what);
	is_str(err.msg, msg, "%s: message", what);
	ed_policy_release(&p);
}

static void test_limits(void)
{
	/* The default holds 13 [expect] rules, 5 severity lines, 13 must-differ lines. */
	char *t = numbered("", "[expect \"file /r%d\"]\nreason = r\n", ED_POLICY_MAX_RULES - 13);
	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	is_int(parse_on(&p, t, &err), ED_OK, "limits: %d [expect] rules in all", ED_POLICY_MAX_RULES);
	ed_policy_release(&p);
	free(t);
	t = numbered("", "[expect \"file /r%d\"]\nreason = r\n", ED_POLICY_MAX_RULES - 12);
	expect_limit(t, "p.ini:8167: more than 4096 [expect] rules", "limits: [expect]");
	free(t);
	t = numbered("[severity]\n", "file /s%d = info\n", ED_POLICY_MAX_RULES - 5);
	expect_limit(t, "p.ini:4092: more than 4096 severity lines", "limits: severity");
	free(t);
	t = numbered("[must-differ]\n", "file /m%d = yes\n", ED_POLICY_MAX_RULES - 12);
	expect_limit(t, "p.ini:4085: more than 4096 must-differ lines", "limits: must-differ");
	free(t);
	/* A rule replacing one of the default's still fits when the list is full. */
	t = numbered("", "[expect \"file /r%d\"]\nreason = r\n", ED_POLICY_MAX_RULES - 13);
	struct ed_buf b = ED_BUF_INIT;
	if (ed_buf_adds(&b, t) || ed_buf_adds(&b, "[expect \"file /etc/hostname\"]\nreason = mine\n"))
		abort();
	ed_policy_default(&p, &err);
	is_int(parse_on(&p, b.p, &err), ED_OK, "limits: a replacing rule fits in a full list");
	is_int(p.nexpects, ED_POLICY_MAX_RULES, "limits: the list is full");
	ed_policy_release(&p);
	ed_buf_release(&b);
	free(t);
}

static void test_dates(void)
{
	ok(ed_policy_date_valid("2024-02-29"), "date: leap day 2024");
	ok(!ed_policy_date_valid("2023-02-29"), "date: no leap day 2023");
	ok(!ed_policy_date_valid("1900-02-29"), "date: no leap day 1900");
	ok(ed_policy_date_valid("2000-02-29"), "date: leap day 2000");
	ok(!ed_policy_date_valid("2025-04-31"), "date: April has 30 days");
	ok(!ed_policy_date_valid("2025-00-10") && !ed_policy_date_valid("2025-13-10"), "date: months");
	ok(!ed_policy_date_valid("0000-01-01"), "date: year 0");
	ok(!ed_policy_date_valid("2025-01-01 ") && !ed_policy_date_valid("2025/01/01") &&
		   !ed_policy_date_valid("") && !ed_policy_date_valid(NULL) &&
		   !ed_policy_date_valid("20a5-01-01"),
	   "date: shape");
	char d[11];
	ed_policy_today(0, d);
	is_str(d, "1970-01-01", "today: the epoch");
	ed_policy_today(1709164800, d); /* 2024-02-29T00:00:00Z */
	is_str(d, "2024-02-29", "today: a leap day, UTC");
	ed_policy_today(1709164799, d);
	is_str(d, "2024-02-28", "today: one second before");
}

static void test_expiry(void)
{
	struct ed_policy p = {0};
	if (!parse_ok(&p, "[expect \"file /etc/motd\"]\nreason = banner\nexpires = 2026-06-30\n",
		      "expiry"))
		return;
	struct ed_drift_entry motd = E("file", "/etc/motd", ED_CHANGED, ED_F_CONTENT);
	judge_one(&p, "2026-06-29", motd, "warn", "p.ini:1: expect \"file /etc/motd\"", "banner",
		  "the day before");
	judge_one(&p, "2026-06-30", motd, "warn", "p.ini:1: expect \"file /etc/motd\"", "banner",
		  "the day itself");
	judge_one(&p, "2026-07-01", motd, "warn",
		  "severity file = warn (default); expired: expect \"file /etc/motd\" until "
		  "2026-06-30 (p.ini:1)",
		  NULL, "the day after");

	struct ed_drift d = {0};
	struct ed_err err = {0};
	add_file(&d, "/etc/motd", ED_CHANGED, ED_F_CONTENT);
	is_int(ed_policy_apply(&p, "2026-07-01", &d, &err), ED_OK, "expired: applies");
	is_int(d.nexpired, 1, "expired: one rule listed");
	if (d.nexpired) {
		is_str(d.expired[0].text, "file /etc/motd", "expired: text");
		is_str(d.expired[0].expires, "2026-06-30", "expired: date");
		is_str(d.expired[0].reason, "banner", "expired: reason");
	}
	is_int(d.warnings, 1, "expired: counted as a warning");
	is_int(d.ignored, 0, "expired: not ignored");
	is_int(ed_policy_apply(&p, "2026-06-01", &d, &err), ED_OK, "again, earlier");
	is_int(d.nexpired, 0, "again: the expired list is rebuilt");
	is_int(d.ignored, 1, "again: ignored");
	is_int(d.warnings, 0, "again: no warning");
	is_int(ed_policy_apply(&p, "2026-6-1", &d, &err), ED_USAGE, "a bad today");
	is_str(err.msg, "today's date '2026-6-1' is not YYYY-MM-DD", "a bad today: message");
	is_int(ed_policy_apply(&p, NULL, &d, &err), ED_OK, "today NULL: the current date");
	ed_drift_release(&d);

	/* Expired rules are listed whether or not they match anything. */
	add_file(&d, "/etc/other", ED_ADDED, 0);
	is_int(ed_policy_apply(&p, "2030-01-01", &d, &err), ED_OK, "unmatched expired rule");
	is_int(d.nexpired, 1, "unmatched expired rule: listed");
	ed_drift_release(&d);

	/* An expired rule does not hide an active one. */
	ed_policy_release(&p);
	if (parse_ok(&p,
		     "[expect \"file /etc/*\"]\nreason = all of /etc\n"
		     "[expect \"file /etc/motd\"]\nreason = old\nexpires = 2020-01-01\n",
		     "expired and active"))
		judge_one(&p, "2026-01-01", motd, "warn", "p.ini:1: expect \"file /etc/*\"",
			  "all of /etc", "the active rule applies");
	ed_policy_release(&p);
}

static void test_severity(void)
{
	struct ed_policy p = {0};
	struct ed_policy def = {0};
	struct ed_err err = {0};
	ed_policy_default(&def, &err);
	judge_one(&def, "2026-01-01", E("file", "/etc/app.conf", ED_CHANGED, ED_F_CONTENT), "warn",
		  "severity file = warn (default)", NULL, "default file");
	judge_one(&def, "2026-01-01", E("config", "/etc/a.json#/x", ED_CHANGED, ED_F_VALUE), "warn",
		  "severity config = warn (default)", NULL, "default config");
	judge_one(&def, "2026-01-01", E("package", "dpkg:curl:amd64", ED_ADDED, 0), "block",
		  "severity package = block (default)", NULL, "default package");
	judge_one(&def, "2026-01-01", E("schema", "sqlite:app/table/t", ED_REMOVED, 0), "block",
		  "severity schema = block (default)", NULL, "default schema");
	judge_one(&def, "2026-01-01", E("system", "kernel/release", ED_CHANGED, ED_F_VALUE), "warn",
		  "severity system = warn (default)", NULL, "default system");
	judge_one(&def, "2026-01-01", E("role", "web", ED_REMOVED, 0), "block",
		  "severity role = block (default)", NULL, "a role on one side only blocks");
	judge_one(&def, "2026-01-01", E("host", "x", ED_REMOVED, 0), "block",
		  "severity host = block (default)", NULL, "an unknown kind blocks");
	judge_one(&def, "2026-01-01", E("file", "/etc/hostname", ED_CHANGED, ED_F_CONTENT), "warn",
		  "expect \"file /etc/hostname\" (default)", "each host has its own name",
		  "default: /etc/hostname ignored");
	judge_one(&def, "2026-01-01",
		  E("file", "/etc/hostname", ED_CHANGED, ED_F_CONTENT | ED_F_MODE), "warn",
		  "severity file = warn (default)", NULL,
		  "default: /etc/hostname with a changed mode is drift");
	judge_one(&def, "2026-01-01", E("file", "/etc/hostname", ED_REMOVED, 0), "warn",
		  "severity file = warn (default)", NULL, "default: a missing /etc/hostname is drift");
	judge_one(&def, "2026-01-01",
		  E("file", "/etc/ssh/ssh_host_ed25519_key.pub", ED_CHANGED, ED_F_CONTENT), "warn",
		  "expect \"file /etc/ssh/ssh_host_*\" (default)",
		  "each host has its own SSH host keys; a host holding production's keys is still "
		  "caught by [must-differ]",
		  "default: SSH host keys");
	judge_one(&def, "2026-01-01", E("file", "/etc/lvm/archive/vg0_00012.vg", ED_ADDED, 0),
		  "warn", "expect \"file /etc/lvm/archive/*\" (default)",
		  "LVM's history of metadata changes, per host", "default: LVM archive");

	const char *text = "[severity]\n"
			   "file /etc/nginx/* = block\n"   /* line 2 */
			   "file /etc/nginx/mime.types = info\n" /* line 3: later and narrower */
			   "file /etc/* = warn\n"          /* line 4: later and broader: wins */
			   "file = info\n"                 /* line 5 */
			   "file *.swp = info\n"           /* line 6: base name */
			   "package dpkg:openssl:* = warn\n" /* line 7 */
			   "config *#/db/* = block\n";     /* line 8 */
	if (!parse_ok(&p, text, "precedence"))
		return;
	judge_one(&p, "2026-01-01", E("file", "/etc/nginx/nginx.conf", ED_CHANGED, ED_F_CONTENT),
		  "warn", "p.ini:4: severity file /etc/* = warn", NULL,
		  "the last matching glob line wins");
	judge_one(&p, "2026-01-01", E("file", "/srv/app/x", ED_CHANGED, ED_F_CONTENT), "info",
		  "p.ini:5: severity file = info", NULL, "a later kind line beats the default's");
	judge_one(&p, "2026-01-01", E("file", "/srv/app/.x.swp", ED_ADDED, 0), "info",
		  "p.ini:6: severity file *.swp = info", NULL, "a glob without '/' matches the base name");
	judge_one(&p, "2026-01-01", E("config", "/etc/app.json#/db/host", ED_CHANGED, ED_F_VALUE),
		  "block", "p.ini:8: severity config *#/db/* = block", NULL,
		  "a config glob: '*' crosses '/'");
	judge_one(&p, "2026-01-01", E("config", "/etc/app.json#/log", ED_CHANGED, ED_F_VALUE), "warn",
		  "severity config = warn (default)", NULL, "no config glob matches");
	judge_one(&p, "2026-01-01", PKG("dpkg:openssl:amd64", "3.0.15", "3.0.11"), "warn",
		  "p.ini:7: severity package dpkg:openssl:* = warn", NULL,
		  "a package glob line beats the direction");
	ed_policy_release(&p);

	/* Kind lines never beat glob lines, even when later. */
	if (parse_ok(&p, "[severity]\nfile /etc/* = block\nfile = info\n", "glob over kind"))
		judge_one(&p, "2026-01-01", E("file", "/etc/x", ED_CHANGED, ED_F_MODE), "block",
			  "p.ini:2: severity file /etc/* = block", NULL, "glob over a later kind line");
	ed_policy_release(&p);

	/* Without defaults, the fallbacks decide. */
	if (parse_ok(&p, "[policy]\ndefaults = no\n", "fallbacks")) {
		judge_one(&p, "2026-01-01", E("file", "/etc/hostname", ED_CHANGED, ED_F_CONTENT),
			  "warn", "severity file = warn (default)", NULL, "fallback: no rules");
		judge_one(&p, "2026-01-01", PKG("dpkg:curl:amd64", "2.0", "1.0"), "block",
			  "packages behind = block (default)", NULL, "fallback: behind");
	}
	ed_policy_release(&p);
	ed_policy_release(&def);
}

static void test_direction(void)
{
	struct ed_policy def = {0};
	struct ed_err err = {0};
	ed_policy_default(&def, &err);
	judge_one(&def, "2026-01-01", PKG("dpkg:curl:amd64", "7.88.1", "7.88.2"), "info",
		  "packages ahead = info (default)", NULL, "ahead");
	judge_one(&def, "2026-01-01", PKG("dpkg:curl:amd64", "7.88.2", "7.88.1"), "block",
		  "packages behind = block (default)", NULL, "behind");
	judge_one(&def, "2026-01-01", PKG("dpkg:curl:amd64", "7.88.1", "7.88.1"), "warn",
		  "packages rebuild = warn (default)", NULL, "rebuild: equal versions");
	judge_one(&def, "2026-01-01", PKG("curl", "1", "2"), "block",
		  "severity package = block (default)", NULL, "no manager in the key: no direction");
	judge_one(&def, "2026-01-01", PKG("dpkg:curl:amd64", NULL, "2"), "block",
		  "severity package = block (default)", NULL, "a missing version: no direction");

	struct ed_drift d = {0};
	add(&d, "package", "dpkg:a:amd64", ED_CHANGED, ED_F_VERSION, "1.0", "2.0");
	add(&d, "package", "dpkg:b:amd64", ED_CHANGED, ED_F_VERSION, "2.0", "1.0");
	add(&d, "package", "dpkg:c:amd64", ED_CHANGED, ED_F_VERSION, "1.0", "1.0");
	add(&d, "package", "dpkg:d:amd64", ED_ADDED, 0, NULL, "1.0");
	add(&d, "package", "pypi:e", ED_CHANGED, ED_F_VERSION | ED_F_ERROR, "1.0", NULL);
	add(&d, "file", "/etc/x", ED_CHANGED, ED_F_CONTENT, NULL, NULL);
	is_int(ed_policy_apply(&def, "2026-01-01", &d, &err), ED_OK, "directions: applies");
	/* Within a kind, blocking entries first, then warn, then info, each in key order. */
	is_str(d.v[0].key, "dpkg:b:amd64", "order: blocking first (behind)");
	is_str(d.v[1].key, "dpkg:d:amd64", "order: ... then blocking (added)");
	is_str(d.v[2].key, "pypi:e", "order: ... then blocking (unreadable)");
	is_str(d.v[3].key, "dpkg:c:amd64", "order: then warn (rebuild)");
	is_str(d.v[4].key, "dpkg:a:amd64", "order: then info (ahead)");
	is_str(d.v[5].key, "/etc/x", "order: kinds keep their order");
	is_int(d.v[4].direction, ED_DIR_AHEAD, "direction: ahead");
	is_int(d.v[0].direction, ED_DIR_BEHIND, "direction: behind");
	is_int(d.v[3].direction, ED_DIR_REBUILD, "direction: rebuild");
	is_int(d.v[1].direction, ED_DIR_NONE, "direction: none for an added package");
	is_int(d.v[2].direction, ED_DIR_NONE, "direction: none when a side could not be read");
	is_int(d.v[5].direction, ED_DIR_NONE, "direction: none for a file");
	is_int(d.blocking, 3, "counts: blocking (behind, added, unreadable)");
	is_int(d.warnings, 2, "counts: warnings (rebuild, file)");
	is_int(d.infos, 1, "counts: infos (ahead)");
	is_int(d.ignored, 0, "counts: none ignored");
	ed_drift_release(&d);

	struct ed_policy p = {0};
	if (parse_ok(&p, "[packages]\nahead = block\nbehind = warn\nrebuild = info\n"
			 "[severity]\npackage = info\n",
		     "direction severities")) {
		judge_one(&p, "2026-01-01", PKG("dpkg:curl:amd64", "1", "2"), "block",
			  "p.ini:2: packages ahead = block", NULL, "ahead = block");
		judge_one(&p, "2026-01-01", PKG("dpkg:curl:amd64", "2", "1"), "warn",
			  "p.ini:3: packages behind = warn", NULL, "behind = warn");
		judge_one(&p, "2026-01-01", PKG("dpkg:curl:amd64", "2", "2"), "info",
			  "p.ini:4: packages rebuild = info", NULL, "rebuild = info");
		judge_one(&p, "2026-01-01", E("package", "dpkg:x:amd64", ED_REMOVED, 0), "info",
			  "p.ini:6: severity package = info", NULL,
			  "the kind line decides what has no direction");
	}
	ed_policy_release(&p);
	ed_policy_release(&def);
}

static void test_must_differ(void)
{
	struct ed_policy def = {0}, p = {0};
	struct ed_err err = {0};
	ed_policy_default(&def, &err);
#define MD(pol, kind, key, secret) ed_policy_must_differ((pol), (kind), (key), strlen(key), (secret))
	ok(MD(&def, "config", "/etc/app.json#/db/password", true), "a secret config value must differ");
	ok(!MD(&def, "config", "/etc/app.json#/db/host", false), "a plain value need not");
	ok(MD(&def, "file", "/etc/ssl/private/site.key", true), "a secret file must differ");
	ok(MD(&def, "file", "/etc/ssh/ssh_host_ed25519_key", true), "an SSH host key must differ");
	ok(MD(&def, "file", "/etc/shadow", true), "/etc/shadow must differ");
	ok(!MD(&def, "file", "/etc/passwd", true), "/etc/passwd is exempt");
	ok(!MD(&def, "file", "/etc/ssh/ssh_host_ed25519_key.pub", true), "public keys are exempt");
	ok(!MD(&def, "file", "/etc/ssl/certs/ca.pem", true), "CA certificates are exempt");
	ok(!MD(&def, "file", "/etc/pam.d/common-password", true), "PAM config is exempt");
	ok(!ed_policy_must_differ(NULL, "config", "/a#/b", 5, true), "no policy: never");
	ok(!ed_policy_must_differ(&def, "config", "/a#/bc", 5, true), "key_len must end the key");
	ok(!ed_policy_must_differ_plain(&def), "default: only secrets");
	ok(!ed_policy_must_differ_plain(NULL), "no policy: no plain must-differ");

	if (parse_ok(&p,
		     "[must-differ]\n"
		     "config /etc/app.json#/db/* = yes\n"
		     "config /etc/app.json#/db/port = no\n"
		     "config /etc/app.json#/api/key = no\n"
		     "file /etc/passwd = yes\n"
		     "secrets = no\n",
		     "must-differ lines")) {
		ok(MD(&p, "config", "/etc/app.json#/db/host", false), "a plain value named yes");
		ok(!MD(&p, "config", "/etc/app.json#/db/port", false), "the last matching line wins");
		ok(!MD(&p, "config", "/etc/app.json#/api/key", true), "a secret exempted");
		ok(!MD(&p, "config", "/etc/other.json#/token", true), "secrets = no");
		ok(MD(&p, "file", "/etc/passwd", false), "a default exemption overridden");
		ok(!MD(&p, "file", "/etc/app.json#/db/host", false), "the kind must match");
		ok(ed_policy_must_differ_plain(&p), "plain must-differ lines exist");
	}
	ed_policy_release(&p);

	/* The merge's entries for equal pairs: always blocking, never ignored, no value shown. */
	struct ed_drift d = {0};
	add_same(&d, "file", "/etc/ssh/ssh_host_ed25519_key", true);
	add_same(&d, "config", "/etc/app.json#/db/password", true);
	add_same(&d, "file", "/etc/passwd", true);
	add_file(&d, "/etc/hostname", ED_CHANGED, ED_F_CONTENT);
	is_int(ed_policy_apply(&def, "2026-01-01", &d, &err), ED_OK, "must-differ entries: applies");
	is_str(d.v[0].severity, "block", "must differ: block");
	is_str(d.v[0].rule, "must differ: staging uses production's secret (default)",
	       "must differ: rule");
	ok(!d.v[0].ignored && !d.v[0].reason,
	   "must differ: an [expect] rule for the path does not hide it");
	is_str(d.v[1].severity, "block", "must differ: a config secret blocks");
	ok(d.v[2].ignored, "an entry this policy does not demand is ignored");
	is_str(d.v[2].rule, "must-differ file /etc/passwd = no (default)", "... with the line");
	is_str(d.v[2].reason, "equal, which this policy allows", "... and a reason");
	ok(d.v[3].ignored, "the host name's drift is ignored");
	is_int(d.blocking, 2, "must differ: 2 blocking");
	is_int(d.ignored, 2, "must differ: 2 ignored");
	ed_drift_release(&d);

	if (parse_ok(&p, "[must-differ]\nconfig /etc/app.json#/db/host = yes\n", "plain entry")) {
		add_same(&d, "config", "/etc/app.json#/db/host", false);
		is_int(ed_policy_apply(&p, "2026-01-01", &d, &err), ED_OK, "plain: applies");
		is_str(d.v[0].rule, "p.ini:2: must differ: staging uses production's value",
		       "plain: the rule names the line");
		is_int(d.blocking, 1, "plain: blocking");
		ed_drift_release(&d);
	}
	ed_policy_release(&p);
	ed_policy_release(&def);
#undef MD
}

static void test_expect_matching(void)
{
	struct ed_policy p = {0};
	const char *text = "[policy]\ndefaults = no\n"
			   "[expect \"file /srv/*\"]\nreason = r1\nfield = content mode\n"
			   "[expect \"package dpkg:dbg-*\"]\nreason = r2\nchange = added\n"
			   "[expect \"config *#/build/*\"]\nreason = r3\n"
			   "[expect \"file *.bak\"]\nreason = r4\nchange = added removed\n";
	if (!parse_ok(&p, text, "matching"))
		return;
	judge_one(&p, "2026-01-01", E("file", "/srv/a", ED_CHANGED, ED_F_CONTENT), "warn",
		  "p.ini:3: expect \"file /srv/*\"", "r1", "fields within the list");
	judge_one(&p, "2026-01-01", E("file", "/srv/a", ED_CHANGED, ED_F_CONTENT | ED_F_MODE), "warn",
		  "p.ini:3: expect \"file /srv/*\"", "r1", "every listed field");
	judge_one(&p, "2026-01-01", E("file", "/srv/a", ED_CHANGED, ED_F_CONTENT | ED_F_OWNER),
		  "warn", "severity file = warn (default)", NULL, "a field outside the list");
	judge_one(&p, "2026-01-01", E("file", "/srv/a", ED_ADDED, 0), "warn",
		  "severity file = warn (default)", NULL, "field implies changed");
	judge_one(&p, "2026-01-01", E("package", "dpkg:dbg-tools:amd64", ED_ADDED, 0), "block",
		  "p.ini:6: expect \"package dpkg:dbg-*\"", "r2", "change added");
	judge_one(&p, "2026-01-01", E("package", "dpkg:dbg-tools:amd64", ED_REMOVED, 0), "block",
		  "severity package = block (default)", NULL, "change removed not listed");
	judge_one(&p, "2026-01-01", E("config", "/etc/a.json#/build/sha", ED_CHANGED, ED_F_VALUE),
		  "warn", "p.ini:9: expect \"config *#/build/*\"", "r3", "any change, any field");
	judge_one(&p, "2026-01-01", E("file", "/etc/x.bak", ED_REMOVED, 0), "warn",
		  "p.ini:11: expect \"file *.bak\"", "r4", "base-name glob");
	judge_one(&p, "2026-01-01", E("config", "/srv/a", ED_CHANGED, ED_F_VALUE), "warn",
		  "severity config = warn (default)", NULL, "the kind must match");
	ed_policy_release(&p);

	/* Counts: ignored entries are not blocking. */
	struct ed_drift d = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	add_file(&d, "/etc/hostname", ED_CHANGED, ED_F_CONTENT);
	add_file(&d, "/etc/machine-id", ED_CHANGED, ED_F_CONTENT);
	add(&d, "schema", "sqlite:app/table/t", ED_CHANGED, ED_F_DEFINITION, "a", "b");
	d.blocking = 3;
	is_int(ed_policy_apply(&p, "2026-01-01", &d, &err), ED_OK, "counts: applies");
	is_int(d.ignored, 2, "counts: 2 ignored");
	is_int(d.blocking, 1, "counts: 1 blocking");
	is_int(d.warnings + d.infos, 0, "counts: ignored warnings are not warnings");
	is_str(d.v[0].severity, "warn", "an ignored entry keeps its severity");
	/* Applying twice gives the same result (old rules and reasons are freed). */
	is_int(ed_policy_apply(&p, "2026-01-01", &d, &err), ED_OK, "applies twice");
	is_int(d.ignored + d.blocking, 3, "twice: same counts");
	ed_drift_release(&d);
	ed_policy_release(&p);
}

static void test_copy(void)
{
	struct ed_policy p = {0}, c = {0};
	struct ed_err err = {0};
	if (!parse_ok(&p, "[expect \"file /x\"]\nreason = r\nexpires = 2030-01-01\n[packages]\nahead = block\n",
		      "copy"))
		return;
	is_int(ed_policy_copy(&c, &p, &err), ED_OK, "copy");
	ok(policies_equal(&c, &p), "copy equals");
	ok(c.expects[13].glob != p.expects[13].glob && c.ahead.where.origin != p.ahead.where.origin,
	   "copy is deep");
	ed_policy_release(&c);
	ed_policy_release(&p);
	ok(ed_policy_key_matches("file", "/etc/*", "/etc/a/b"), "key: '*' crosses '/'");
	ok(ed_policy_key_matches("file", ".*", "/etc/.hidden"), "key: base name, leading dot");
	ok(!ed_policy_key_matches("package", "curl", "dpkg:curl"), "key: whole key for packages");
	ok(ed_policy_key_matches("package", "npm:*", "npm:/srv/node_modules/x"),
	   "key: a package glob without '/' still matches the whole key");
	ok(!ed_policy_key_matches("file", "/ETC/*", "/etc/x"), "key: case-sensitive");
	is_str(ed_policy_level_name(ED_LEVEL_WARN), "warn", "level name");
	is_str(ed_policy_level_name((enum ed_policy_level)7), "?", "level name out of range");
}

/* Every allocation of parse and apply fails in turn: no crash, no leak (under valgrind/ASan runs), p unchanged. */
/*
 * ed_policy_apply() of p on a small drift (spilled first with spill) with
 * each allocation failing in turn until it succeeds; counts in *bad the
 * failures that are not ED_NOMEM or leave an entry without a severity, in
 * *leaks the runs that leak. Returns the number of failed runs.
 */
static int apply_failing(const struct ed_policy *p, bool spill, int *bad, int *leaks)
{
	struct ed_err err = {0};
	int fails = 0;
	for (int n = 1; n < 10000; n++) {
		long live = alloc_live;
		struct ed_drift d = {0};
		add_file(&d, "/etc/motd", ED_CHANGED, ED_F_CONTENT);
		add_file(&d, "/etc/hostname", ED_CHANGED, ED_F_CONTENT);
		add_same(&d, "file", "/x", false);
		add(&d, "package", "dpkg:a:amd64", ED_CHANGED, ED_F_VERSION, "1", "2");
		*bad += spill && ed_drift_spill_entries(&d, &err) != ED_OK;
		alloc_failed = false;
		alloc_countdown = n;
		enum ed_code rc = ed_policy_apply(p, "2026-01-01", &d, &err);
		alloc_countdown = 0;
		if (rc) {
			fails++;
			*bad += rc != ED_NOMEM;
			for (size_t i = 0; !spill && i < d.n; i++)
				*bad += d.v[i].severity == NULL;
		}
		ed_drift_release(&d);
		*leaks += alloc_live != live;
		if (!alloc_failed)
			break;
	}
	return fails;
}

static void test_alloc_failures(void)
{
	/* Valgrind replaces our malloc too: then allocations cannot be made to fail. */
	alloc_countdown = 1;
	void *(*volatile alloc)(size_t) = malloc; /* so the compiler keeps the call */
	void *probe = alloc(1);
	alloc_countdown = 0;
	free(probe);
	if (!HAVE_FAILING_MALLOC || probe) {
		ok(1, "# SKIP allocation failures: needs glibc's malloc, without a sanitizer or valgrind");
		return;
	}
	const char *text = "[expect \"file /etc/motd\"]\nreason = a\n\tb\nfield = content\n"
			   "expires = 2020-01-01\n[severity]\nfile /etc/* = block\n"
			   "[must-differ]\nfile /x = yes\nsecrets = no\n[packages]\nahead = warn\n";
	int n, parse_fails = 0, bad = 0, leaks = 0;
	for (n = 1; n < 10000; n++) {
		long live = alloc_live;
		struct ed_policy p = {0}, before = {0};
		struct ed_err err = {0};
		ed_policy_default(&p, &err);
		ed_policy_copy(&before, &p, &err);
		alloc_failed = false;
		alloc_countdown = n;
		enum ed_code rc = parse_on(&p, text, &err);
		alloc_countdown = 0;
		if (rc) {
			parse_fails++;
			if (rc != ED_NOMEM || !policies_equal(&p, &before))
				bad++;
		}
		ed_policy_release(&p);
		ed_policy_release(&before);
		leaks += alloc_live != live;
		if (!alloc_failed)
			break;
	}
	ok(bad == 0 && parse_fails > 10, "parse: %d allocation failures, each ED_NOMEM, policy unchanged",
	   parse_fails);
	is_int(leaks, 0, "parse: no allocation failure leaks");

	int def_fails = 0;
	for (n = 1; n < 10000; n++) {
		long live = alloc_live;
		struct ed_policy p = {0};
		struct ed_err err = {0};
		alloc_failed = false;
		alloc_countdown = n;
		enum ed_code rc = ed_policy_default(&p, &err);
		alloc_countdown = 0;
		if (rc)
			def_fails++;
		bad += rc && (rc != ED_NOMEM || p.nexpects);
		ed_policy_release(&p);
		leaks += alloc_live != live;
		if (!alloc_failed)
			break;
	}
	ok(bad == 0 && def_fails > 10, "default: %d allocation failures, each ED_NOMEM", def_fails);

	struct ed_policy p = {0};
	struct ed_err err = {0};
	ed_policy_default(&p, &err);
	parse_on(&p, text, &err);
	int apply_fails = apply_failing(&p, false, &bad, &leaks);
	is_int(leaks, 0, "default and apply: no allocation failure leaks");
	ok(bad == 0 && apply_fails > 3, "apply: %d allocation failures, each ED_NOMEM, drift releasable",
	   apply_fails);

	/* A spilled drift is judged in its file: the same verdicts, in the same order. */
	struct ed_drift mem = {0}, sp = {0};
	struct ed_drift *both[2] = {&mem, &sp};
	for (int k = 0; k < 2; k++) {
		add_file(both[k], "/etc/motd", ED_CHANGED, ED_F_CONTENT);
		add_file(both[k], "/etc/hostname", ED_CHANGED, ED_F_CONTENT);
		add_same(both[k], "file", "/x", false);
		add(both[k], "package", "dpkg:a:amd64", ED_CHANGED, ED_F_VERSION, "1", "2");
		add(both[k], "package", "dpkg:b:amd64", ED_CHANGED, ED_F_VERSION, "2", "1");
	}
	is_int(ed_drift_spill_entries(&sp, &err), ED_OK, "spilled: the entries written out");
	is_int(ed_policy_apply(&p, "2026-01-01", &mem, &err), ED_OK, "spilled: in memory, applies");
	is_int(ed_policy_apply(&p, "2026-01-01", &sp, &err), ED_OK, "spilled: spilled, applies");
	struct ed_drift_reader rd;
	ed_drift_reader_init(&rd, &sp, false);
	int differ = 0;
	for (size_t i = 0; i < mem.n; i++) {
		const struct ed_drift_entry *a = &mem.v[i], *b = ed_drift_at(&rd, i);
		differ += strcmp(a->key, b->key) != 0 || strcmp(a->severity, b->severity) != 0 ||
			  strcmp(a->rule, b->rule) != 0 || a->ignored != b->ignored ||
			  strcmp(a->reason ? a->reason : "", b->reason ? b->reason : "") != 0 ||
			  a->direction != b->direction;
	}
	is_int(ed_drift_reader_failed(&rd, &err), ED_OK, "spilled: every entry read back");
	ok(sp.n == mem.n && differ == 0 && mem.blocking == sp.blocking &&
	   mem.ignored == sp.ignored && mem.warnings == sp.warnings,
	   "spilled: the same %zu entries, verdicts, order and counts as in memory", mem.n);
	ed_drift_reader_release(&rd);
	ed_drift_release(&mem);
	ed_drift_release(&sp);

	/* And every allocation of judging it failing in turn: ED_NOMEM, nothing leaked. */
	bad = leaks = 0;
	apply_fails = apply_failing(&p, true, &bad, &leaks);
	is_int(leaks, 0, "spilled apply: no allocation failure leaks");
	ok(bad == 0 && apply_fails > 3, "spilled apply: %d allocation failures, each ED_NOMEM",
	   apply_fails);
	ed_policy_release(&p);
}

int main(int argc, char **argv)
{
	char root[4096];
	const char *srcdir = getenv("SRCDIR");
	if (argc > 1) {
		snprintf(root, sizeof(root), "%s", argv[1]);
	} else if (srcdir && *srcdir) {
		snprintf(root, sizeof(root), "%s", srcdir);
	} else {
		/* __FILE__ is ".../tests/unit/test_policy.c" as the compiler saw it. */
		snprintf(root, sizeof(root), "%s", __FILE__);
		char *t = strstr(root, "tests/unit/test_policy.c");
		if (t)
			*t = '\0';
		if (!root[0])
			snprintf(root, sizeof(root), ".");
	}
	test_default();
	test_default_ini(root);
	test_constructs();
	test_errors();
	test_long_lines();
	test_limits();
	test_dates();
	test_expiry();
	test_severity();
	test_direction();
	test_must_differ();
	test_expect_matching();
	test_copy();
	test_alloc_failures();
	return tap_done();
}
