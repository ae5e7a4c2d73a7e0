/* SPDX-License-Identifier: MIT */
/*
 * Policies: the built-in default, the INI parser (over common/ini.c, which
 * refuses what libinih would silently truncate; the lines it hands on are
 * parsed here from the raw text), and the judgement of a drift.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/glob.h"
#include "ed/ini.h"
#include "ed/policy.h"
#include "ed/version.h"

/* ---- names ---- */

static const char *const level_names[] = {"block", "warn", "info"};

const char *ed_policy_level_name(enum ed_policy_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "?";
}

static bool level_parse(const char *s, enum ed_policy_level *out)
{
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum ed_policy_level)i;
			return true;
		}
	return false;
}

/* The kinds a rule may name, and the fields that can differ for each. */
static const struct kinddef {
	const char *kind;
	unsigned fields;
	enum ed_policy_level fallback; /* severity when no line says otherwise */
	const char *example;           /* a key glob, for messages */
} kinds[] = {
	{ED_KIND_FILE,
	 ED_F_CONTENT | ED_F_TYPE | ED_F_MODE | ED_F_OWNER | ED_F_GROUP | ED_F_TARGET | ED_F_ERROR,
	 ED_LEVEL_WARN, "/etc/motd"},
	{ED_KIND_CONFIG, ED_F_VALUE | ED_F_ERROR, ED_LEVEL_WARN, "/etc/app/config.json#/db/host"},
	{ED_KIND_PACKAGE, ED_F_VERSION | ED_F_ERROR, ED_LEVEL_BLOCK, "dpkg:openssl:*"},
	{ED_KIND_SCHEMA, ED_F_DEFINITION | ED_F_ERROR, ED_LEVEL_BLOCK, "sqlite:app/table/*"},
	{ED_KIND_SYSTEM, ED_F_VALUE | ED_F_ERROR, ED_LEVEL_WARN, "sysctl/*"},
	{ED_KIND_ACCOUNT, ED_F_VALUE | ED_F_ERROR, ED_LEVEL_WARN, "user/*"},
	{ED_KIND_DATA, ED_F_ROWS | ED_F_NULL_FRAC | ED_F_DISTINCT | ED_F_STATS | ED_F_ERROR,
	 ED_LEVEL_WARN, "postgres:shop/table/public.*"},
	/* Staging holding production's rows: blocking unless a line says otherwise. */
	{ED_KIND_ROWS, ED_F_OVERLAP | ED_F_ERROR, ED_LEVEL_BLOCK,
	 "postgres:shop/rows/public.customer(email)"},
	/* A fleet role present in one environment only: added or removed, no fields. */
	{"role", 0, ED_LEVEL_BLOCK, "worker"},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define KIND_NAMES "file, config, package, schema, system, account, data, rows, role"

static const struct kinddef *kind_find(const char *s, size_t n)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strlen(kinds[i].kind) == n && memcmp(kinds[i].kind, s, n) == 0)
			return &kinds[i];
	return NULL;
}

#define FIELD_NAMES                                                                         \
	"content, type, mode, owner, group, target, value, version, definition, error, rows, "  \
	"null_frac, distinct, stats, overlap"

static unsigned field_parse(const char *s)
{
	for (unsigned bit = 1; bit && bit <= ED_F_LAST; bit <<= 1)
		if (strcmp(ed_field_name(bit), s) == 0)
			return bit;
	return 0;
}

/* "content, mode" for the bits of f, into buf. */
static void field_list(unsigned f, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned bit = 1; bit && bit <= ED_F_LAST; bit <<= 1) {
		if (!(f & bit))
			continue;
		int w = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", ed_field_name(bit));
		if (w < 0 || (size_t)w >= size - n)
			return;
		n += (size_t)w;
	}
}

static unsigned change_parse(const char *s)
{
	static const enum ed_change all[] = {ED_ADDED, ED_REMOVED, ED_CHANGED};
	for (size_t i = 0; i < 3; i++)
		if (strcmp(ed_change_name(all[i]), s) == 0)
			return 1u << all[i];
	return 0;
}

/* ---- dates ---- */

bool ed_policy_date_valid(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

void ed_policy_today(time_t t, char out[11])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) {
		memcpy(out, "1970-01-01", 11);
		return;
	}
	char buf[40];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

/* ---- matching ---- */

bool ed_policy_key_matches(const char *kind, const char *glob, const char *key)
{
	if (strcmp(kind, ED_KIND_FILE) == 0)
		return ed_glob_path_matches(glob, key, false);
	return fnmatch(glob, key, 0) == 0;
}

/* The must-differ line deciding (kind, key), or NULL. */
static const struct ed_policy_differ *differ_line(const struct ed_policy *p, const char *kind,
						  const char *key)
{
	for (size_t i = p->ndiffers; i-- > 0;) {
		const struct ed_policy_differ *r = &p->differs[i];
		if (strcmp(r->kind, kind) == 0 && ed_policy_key_matches(kind, r->glob, key))
			return r;
	}
	return NULL;
}

bool ed_policy_must_differ(const struct ed_policy *p, const char *kind, const char *key,
			   size_t key_len, bool secret)
{
	if (!p || !kind || !key || key[key_len] != '\0')
		return false;
	const struct ed_policy_differ *r = differ_line(p, kind, key);
	if (r)
		return r->must;
	return secret && p->secrets.value;
}

bool ed_policy_must_differ_plain(const struct ed_policy *p)
{
	for (size_t i = 0; p && i < p->ndiffers; i++)
		if (p->differs[i].must)
			return true;
	return false;
}

/* ---- lifecycle ---- */

static void where_release(struct ed_policy_where *w)
{
	free(w->origin);
	w->origin = NULL;
}

static void expect_release(struct ed_policy_expect *r)
{
	free(r->glob);
	free(r->reason);
	where_release(&r->where);
}

static void severity_release(struct ed_policy_severity *r)
{
	free(r->glob);
	where_release(&r->where);
}

static void differ_release(struct ed_policy_differ *r)
{
	free(r->glob);
	where_release(&r->where);
}

void ed_policy_release(struct ed_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nexpects; i++)
		expect_release(&p->expects[i]);
	free(p->expects);
	for (size_t i = 0; i < p->nseverities; i++)
		severity_release(&p->severities[i]);
	free(p->severities);
	for (size_t i = 0; i < p->ndiffers; i++)
		differ_release(&p->differs[i]);
	free(p->differs);
	where_release(&p->secrets.where);
	where_release(&p->ahead.where);
	where_release(&p->behind.where);
	where_release(&p->rebuild.where);
	for (size_t i = 0; i < ED_DATA_NMEASURES; i++)
		where_release(&p->data[i].where);
	for (size_t i = 0; i < p->ntolerances; i++) {
		free(p->tolerances[i].glob);
		where_release(&p->tolerances[i].where);
	}
	free(p->tolerances);
	memset(p, 0, sizeof(*p));
}

/* The [data] tolerances when no line says otherwise. */
static const struct ed_policy_tolerance data_fallback[ED_DATA_NMEASURES] = {
	[ED_DATA_ROWS] = {.measure = ED_DATA_ROWS, .lo = 0.1, .hi = 10},
	[ED_DATA_NULL_FRAC] = {.measure = ED_DATA_NULL_FRAC, .hi = 0.2},
	[ED_DATA_DISTINCT] = {.measure = ED_DATA_DISTINCT, .hi = 0.5},
	[ED_DATA_OVERLAP] = {.measure = ED_DATA_OVERLAP, .hi = 0.005},
};

static const char *const measure_names[ED_DATA_NMEASURES] = {"rows", "null_frac", "distinct",
							      "overlap"};

const char *ed_data_measure_name(enum ed_data_measure m)
{
	return (unsigned)m < ED_DATA_NMEASURES ? measure_names[m] : "?";
}

const struct ed_policy_tolerance *ed_policy_tolerance_for(const struct ed_policy *p,
							  enum ed_data_measure m,
							  const char *object)
{
	if (!p)
		return &data_fallback[m];
	for (size_t i = p->ntolerances; i-- > 0;) {
		const struct ed_policy_tolerance *t = &p->tolerances[i];
		if (t->measure == m && fnmatch(t->glob, object, 0) == 0)
			return t;
	}
	return &p->data[m];
}

void ed_policy_init(struct ed_policy *p)
{
	ed_policy_release(p);
	p->secrets.value = 1;
	p->ahead.value = ED_LEVEL_INFO;
	p->behind.value = ED_LEVEL_BLOCK;
	p->rebuild.value = ED_LEVEL_WARN;
	for (size_t i = 0; i < ED_DATA_NMEASURES; i++)
		p->data[i] = data_fallback[i];
}

/* Copies a string that may be NULL; false on allocation failure. */
static bool dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return true;
	*dst = strdup(src);
	return *dst != NULL;
}

static bool where_copy(struct ed_policy_where *dst, const struct ed_policy_where *src)
{
	dst->line = src->line;
	return dup_opt(&dst->origin, src->origin);
}

enum ed_code ed_policy_copy(struct ed_policy *dst, const struct ed_policy *src,
			    struct ed_err *err)
{
	struct ed_policy t = {0};
	if ((src->nexpects && !(t.expects = calloc(src->nexpects, sizeof(*t.expects)))) ||
	    (src->nseverities && !(t.severities = calloc(src->nseverities, sizeof(*t.severities)))) ||
	    (src->ndiffers && !(t.differs = calloc(src->ndiffers, sizeof(*t.differs)))))
		goto oom;
	for (; t.nexpects < src->nexpects; t.nexpects++) {
		const struct ed_policy_expect *s = &src->expects[t.nexpects];
		struct ed_policy_expect *d = &t.expects[t.nexpects];
		*d = *s;
		d->glob = d->reason = NULL;
		d->where.origin = NULL;
		if (!dup_opt(&d->glob, s->glob) || !dup_opt(&d->reason, s->reason) ||
		    !where_copy(&d->where, &s->where)) {
			t.nexpects++;
			goto oom;
		}
	}
	for (; t.nseverities < src->nseverities; t.nseverities++) {
		const struct ed_policy_severity *s = &src->severities[t.nseverities];
		struct ed_policy_severity *d = &t.severities[t.nseverities];
		*d = *s;
		d->glob = NULL;
		d->where.origin = NULL;
		if (!dup_opt(&d->glob, s->glob) || !where_copy(&d->where, &s->where)) {
			t.nseverities++;
			goto oom;
		}
	}
	for (; t.ndiffers < src->ndiffers; t.ndiffers++) {
		const struct ed_policy_differ *s = &src->differs[t.ndiffers];
		struct ed_policy_differ *d = &t.differs[t.ndiffers];
		*d = *s;
		d->glob = NULL;
		d->where.origin = NULL;
		if (!dup_opt(&d->glob, s->glob) || !where_copy(&d->where, &s->where)) {
			t.ndiffers++;
			goto oom;
		}
	}
	t.secrets.value = src->secrets.value;
	t.ahead.value = src->ahead.value;
	t.behind.value = src->behind.value;
	t.rebuild.value = src->rebuild.value;
	if (!where_copy(&t.secrets.where, &src->secrets.where) ||
	    !where_copy(&t.ahead.where, &src->ahead.where) ||
	    !where_copy(&t.behind.where, &src->behind.where) ||
	    !where_copy(&t.rebuild.where, &src->rebuild.where))
		goto oom;
	for (size_t i = 0; i < ED_DATA_NMEASURES; i++) {
		t.data[i] = src->data[i];
		t.data[i].where.origin = NULL;
		if (!where_copy(&t.data[i].where, &src->data[i].where))
			goto oom;
	}
	if (src->ntolerances &&
	    !(t.tolerances = calloc(src->ntolerances, sizeof(*t.tolerances))))
		goto oom;
	for (; t.ntolerances < src->ntolerances; t.ntolerances++) {
		const struct ed_policy_tolerance *f = &src->tolerances[t.ntolerances];
		struct ed_policy_tolerance *d = &t.tolerances[t.ntolerances];
		*d = *f;
		d->glob = NULL;
		d->where.origin = NULL;
		if (!dup_opt(&d->glob, f->glob) || !where_copy(&d->where, &f->where)) {
			t.ntolerances++;
			goto oom;
		}
	}
	*dst = t;
	return ED_OK;
oom:
	ed_policy_release(&t);
	memset(dst, 0, sizeof(*dst));
	return ed_err_set(err, ED_NOMEM, "out of memory copying a policy");
}

/* ---- the parser ---- */

enum section { S_NONE, S_POLICY, S_EXPECT, S_SEVERITY, S_PACKAGES, S_MUSTDIFFER, S_DATA };

static const char *const section_names[] = {
	[S_NONE] = "", [S_POLICY] = "policy", [S_EXPECT] = "expect", [S_SEVERITY] = "severity",
	[S_PACKAGES] = "packages", [S_MUSTDIFFER] = "must-differ", [S_DATA] = "data",
};
#define SECTION_LIST "policy, expect \"KIND GLOB\", severity, packages, must-differ, data"

/* The keys of an [expect] section. */
enum ekey { EK_REASON, EK_EXPIRES, EK_FIELD, EK_CHANGE, EK_COUNT };
static const char *const ekey_names[] = {"reason", "expires", "field", "change"};

/* Settings that may be given once per file. */
enum setting {
	SET_DEFAULTS, SET_SECRETS, SET_AHEAD, SET_BEHIND, SET_REBUILD,
	SET_DATA, /* + enum ed_data_measure: [data] rows, null_frac, distinct */
	SET_DATA_SEVERITY = SET_DATA + ED_DATA_NMEASURES,
	SET_COUNT
};

struct parse {
	struct ed_ini ini;       /* the reader: origin, the current line, the first error */
	struct ed_policy *p;     /* the copy being filled */
	const char *rule_origin; /* recorded in rules: origin, or NULL for the default */
	enum section section;
	enum ekey prev;          /* in [expect]: the key the previous line set */

	/* The [expect] rule being read; taken into p when its section ends. */
	bool in_rule;
	struct ed_policy_expect rule;
	int rule_set[EK_COUNT];  /* line where the rule set each key, or 0 */

	int set_line[SET_COUNT]; /* line where this file gave each setting, or 0 */
	int first_rule;          /* line of this file's first rule or setting, or 0 */
	size_t new_expects;      /* rules this file added: the last ones of each list */
	size_t new_severities;
	size_t new_differs;
	size_t new_tolerances;
};

/* Record the first error as "ORIGIN:LINE: message"; return 0 for libinih. */
#define fail_at(ps, line, code, ...) ed_ini_fail_at(&(ps)->ini, (line), (code), __VA_ARGS__)
#define fail(ps, ...) ed_ini_fail(&(ps)->ini, ED_PARSE, __VA_ARGS__)

static int nomem(struct parse *ps)
{
	return ed_ini_fail(&ps->ini, ED_NOMEM, "out of memory");
}

/* The current line continues the previous key (libinih hands it to that key). */
static bool is_cont(const struct parse *ps)
{
	return ps->ini.cur.kind == ED_INI_CONT;
}

/* A slice with blanks trimmed at both ends. */
static struct ed_str trim(const char *s, size_t n)
{
	while (n && ed_ini_blank(*s))
		s++, n--;
	while (n && ed_ini_blank(s[n - 1]))
		n--;
	return ed_str_of(s, n);
}

/* Where an inline comment starts (';' after a blank), or s + n. */
static const char *comment_start(const char *s, size_t n)
{
	return s + ed_ini_find(s, n, NULL);
}

/* Copies a slice into a NUL-terminated buffer of ED_POLICY_MAX_LINE + 1 bytes. */
static const char *cstr(char *buf, struct ed_str s)
{
	size_t n = s.len > ED_POLICY_MAX_LINE ? ED_POLICY_MAX_LINE : s.len;
	memcpy(buf, s.p, n);
	buf[n] = '\0';
	return buf;
}

/* Does the glob contain fnmatch(3) wildcards? */
static bool has_wildcard(const char *g)
{
	return strpbrk(g, "*?[") != NULL;
}

/*
 * Checks "KIND GLOB" (glob may be empty when glob_optional) and sets *kd.
 * Returns false after recording an error.
 */
static bool check_rule(struct parse *ps, struct ed_str kind, const char *glob, bool glob_optional,
		       const struct kinddef **kd)
{
	*kd = kind_find(kind.p, kind.len);
	if (!*kd)
		return fail(ps, "unknown kind '%.*s' (" KIND_NAMES ")", (int)kind.len, kind.p);
	if (!*glob) {
		if (glob_optional)
			return true;
		return fail(ps, "'%s' needs a key glob after it, as in '%s %s'", (*kd)->kind,
			    (*kd)->kind, (*kd)->example);
	}
	const char *k = (*kd)->kind;
	if (strcmp(k, ED_KIND_FILE) == 0) {
		if (strchr(glob, '/') && glob[0] != '/' && glob[0] != '*')
			return fail(ps,
				    "glob '%s' has a '/', so it matches whole paths: start it with '/' "
				    "or '*'",
				    glob);
		return true;
	}
	if (has_wildcard(glob))
		return true;
	if (strcmp(k, ED_KIND_CONFIG) == 0 && !strchr(glob, '#'))
		return fail(ps,
			    "config keys are PATH#/POINTER, so '%s' never matches (every key of the "
			    "file: '%s#*')",
			    glob, glob);
	if (strcmp(k, ED_KIND_PACKAGE) == 0 && !strchr(glob, ':'))
		return fail(ps,
			    "package keys are MANAGER:NAME[:ARCH], so '%s' never matches "
			    "(e.g. 'dpkg:%s:*')",
			    glob, glob);
	if ((strcmp(k, ED_KIND_SCHEMA) == 0 || strcmp(k, ED_KIND_DATA) == 0 ||
	     strcmp(k, ED_KIND_ROWS) == 0) && !strchr(glob, ':'))
		return fail(ps,
			    "schema keys are ENGINE:NAME/TYPE/OBJECT, so '%s' never matches "
			    "(e.g. 'sqlite:app/table/%s')",
			    glob, glob);
	return true;
}

/* Takes the finished [expect] rule into the policy (parse_into() frees it after an error). */
static bool finish_rule(struct parse *ps)
{
	if (!ps->in_rule || ps->ini.rc)
		return !ps->ini.rc;
	struct ed_policy_expect *r = &ps->rule;
	int hdr = r->where.line;
	if (!r->reason)
		return fail_at(ps, hdr, ED_PARSE,
			       "[expect \"%s %s\"] has no 'reason': say why this difference is "
			       "expected",
			       r->kind, r->glob);
	if (r->fields && r->changes && !(r->changes & (1u << ED_CHANGED))) {
		int l = ps->rule_set[EK_FIELD] > ps->rule_set[EK_CHANGE] ? ps->rule_set[EK_FIELD]
									 : ps->rule_set[EK_CHANGE];
		return fail_at(ps, l, ED_PARSE,
			       "'field' applies to changed items only, but 'change' leaves out "
			       "'changed'");
	}
	/* A rule for the same KIND GLOB from an earlier file is replaced. */
	struct ed_policy *p = ps->p;
	for (size_t i = 0; i < p->nexpects; i++) {
		if (strcmp(p->expects[i].kind, r->kind) == 0 && strcmp(p->expects[i].glob, r->glob) == 0) {
			expect_release(&p->expects[i]);
			memmove(&p->expects[i], &p->expects[i + 1],
				(p->nexpects - i - 1) * sizeof(p->expects[0]));
			p->nexpects--;
			break;
		}
	}
	struct ed_policy_expect *v = realloc(p->expects, (p->nexpects + 1) * sizeof(*v));
	if (!v)
		return nomem(ps);
	p->expects = v;
	v[p->nexpects++] = *r;
	memset(r, 0, sizeof(*r));
	ps->in_rule = false;
	ps->new_expects++;
	return true;
}

static bool note_rule(struct parse *ps)
{
	if (!ps->first_rule)
		ps->first_rule = ps->ini.cur.lineno;
	return true;
}

/* Starts the rule of an [expect "KIND GLOB"] header: rule is the text in quotes. */
static bool start_rule(struct parse *ps, struct ed_str rule)
{
	char glob[ED_POLICY_MAX_LINE + 1];
	size_t k = 0;
	while (k < rule.len && !ed_ini_blank(rule.p[k]))
		k++;
	cstr(glob, trim(rule.p + k, rule.len - k));
	const struct kinddef *kd;
	if (rule.len == 0)
		return fail(ps, "[expect \"\"] is empty: write [expect \"KIND GLOB\"], e.g. "
			    "[expect \"file /etc/motd\"]");
	if (!check_rule(ps, ed_str_of(rule.p, k), glob, false, &kd))
		return false;
	const struct ed_policy *p = ps->p;
	for (size_t i = p->nexpects - ps->new_expects; i < p->nexpects; i++)
		if (strcmp(p->expects[i].kind, kd->kind) == 0 && strcmp(p->expects[i].glob, glob) == 0)
			return fail(ps, "[expect \"%s %s\"] is already given on line %d", kd->kind,
				    glob, p->expects[i].where.line);
	if (p->nexpects >= ED_POLICY_MAX_RULES) {
		/* Room only for a rule that replaces one of an earlier file. */
		bool replaces = false;
		for (size_t i = 0; i < p->nexpects - ps->new_expects; i++)
			replaces = replaces || (strcmp(p->expects[i].kind, kd->kind) == 0 &&
						strcmp(p->expects[i].glob, glob) == 0);
		if (!replaces)
			return fail(ps, "more than %d [expect] rules", ED_POLICY_MAX_RULES);
	}
	memset(&ps->rule, 0, sizeof(ps->rule));
	memset(ps->rule_set, 0, sizeof(ps->rule_set));
	ps->rule.kind = kd->kind;
	ps->rule.where.line = ps->ini.cur.lineno;
	ps->in_rule = true;
	if (!(ps->rule.glob = strdup(glob)) ||
	    !dup_opt(&ps->rule.where.origin, ps->rule_origin))
		return nomem(ps);
	return note_rule(ps);
}

/*
 * Checks a section header (the line starts with '[' in column 1) and makes
 * its section current. Returns false after recording an error.
 */
static bool header(struct parse *ps, const char *s, size_t n)
{
	/* The [expect] rule above ends here: a missing reason is reported first. */
	if (!finish_rule(ps))
		return false;
	const char *end = s + n;
	const char *name = s + 1, *e = name;
	while (e < end && *e != ']' && *e != '"' && !ed_ini_blank(*e))
		e++;
	size_t nlen = (size_t)(e - name);
	enum section sec = S_NONE;
	for (size_t i = 1; i < sizeof(section_names) / sizeof(section_names[0]); i++)
		if (strlen(section_names[i]) == nlen && memcmp(section_names[i], name, nlen) == 0)
			sec = (enum section)i;
	if (!memchr(s, ']', n))
		return fail(ps, "section header without ']'");
	if (sec == S_NONE)
		return fail(ps, "unknown section [%.*s] (known: " SECTION_LIST ")",
			    (int)(nlen > 60 ? 60 : nlen), name);
	const char *rest;
	if (sec == S_EXPECT) {
		const char *q = e;
		while (q < end && ed_ini_blank(*q))
			q++;
		if (q == end || *q != '"')
			return fail(ps, "[expect] needs its rule in quotes: [expect \"KIND GLOB\"], "
				    "e.g. [expect \"file /etc/motd\"]");
		const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));
		if (!close)
			return fail(ps, "the rule in [expect \"...\"] has no closing quote");
		if (close + 1 == end || close[1] != ']')
			return fail(ps, "expected ']' right after the closing quote");
		ps->section = sec;
		if (!start_rule(ps, ed_str_of(q + 1, (size_t)(close - q - 1))))
			return false;
		rest = close + 2;
	} else {
		if (e == end || *e != ']')
			return fail(ps, "unexpected text in [%s]: only [expect \"KIND GLOB\"] takes a "
				    "rule", section_names[sec]);
		ps->section = sec;
		rest = e + 1;
	}
	while (rest < end && ed_ini_blank(*rest))
		rest++;
	if (rest < end && *rest != ';' && *rest != '#')
		return fail(ps, "unexpected text after the section header");
	return true;
}

/*
 * Checks a line before libinih sees it (ed_ini_parse() has checked its length
 * and bytes): section headers and the shape of key lines. Sets *feed to what
 * libinih should read instead of a section header of our own syntax.
 * Returns false after recording an error.
 */
static bool check_line(struct ed_ini *ini, const struct ed_ini_line *l, const char **feed)
{
	struct parse *ps = ini->ctx;
	const char *s = l->p;
	size_t n = l->len;
	switch (l->kind) {
	case ED_INI_BLANK: /* blank or comment: libinih skips it too */
	case ED_INI_CONT:
		return true;
	case ED_INI_SECTION:
		if (!header(ps, s, n))
			return false;
		/* libinih would cut our quoted rules at 50 bytes or at " ;": hand it a plain name. */
		*feed = "[s]";
		return true;
	case ED_INI_PAIR:
		break;
	}
	if (l->indented)
		return fail(ps, "this line is indented, but there is no key above it to "
			    "continue: start it in column 1");
	const char *eq = memchr(s, '=', n);
	const char *semi = comment_start(s, n);
	if (!eq || semi < eq)
		return fail(ps, "expected '[section]', 'key = value' or a comment%s",
			    memchr(s, ':', n) && !eq ? " (a policy separates with '=', "
						       "not ':')"
						     : "");
	return true;
}

/* Splits "a b, c" into words (blanks or commas between); calls one() per word. */
static bool each_word(struct parse *ps, struct ed_str v, bool (*one)(struct parse *, const char *))
{
	char w[ED_POLICY_MAX_LINE + 1];
	size_t i = 0;
	while (i < v.len) {
		while (i < v.len && (ed_ini_blank(v.p[i]) || v.p[i] == ','))
			i++;
		size_t start = i;
		while (i < v.len && !ed_ini_blank(v.p[i]) && v.p[i] != ',')
			i++;
		if (i > start && !one(ps, cstr(w, ed_str_of(v.p + start, i - start))))
			return false;
	}
	return true;
}

static bool one_field(struct parse *ps, const char *w)
{
	unsigned bit = field_parse(w);
	if (!bit)
		return fail(ps, "'field': unknown field '%s' (" FIELD_NAMES ")", w);
	const struct kinddef *kd = kind_find(ps->rule.kind, strlen(ps->rule.kind));
	if (!kd->fields)
		return fail(ps, "'field': %s items have no fields: they are added or removed", kd->kind);
	if (!(kd->fields & bit)) {
		char list[256];
		field_list(kd->fields, list, sizeof(list));
		return fail(ps, "'field': '%s' never differs for %s items (%s)", w, kd->kind, list);
	}
	ps->rule.fields |= bit;
	return true;
}

static bool one_change(struct parse *ps, const char *w)
{
	unsigned bit = change_parse(w);
	if (!bit)
		return fail(ps, "'change': unknown change '%s' (added, removed, changed)", w);
	ps->rule.changes |= bit;
	return true;
}

/* An indented line in [expect] that starts like "key =" is a mistake, not a value. */
static bool looks_like_key(struct ed_str v)
{
	size_t n = 0;
	while (n < v.len && !ed_ini_blank(v.p[n]) && v.p[n] != '=')
		n++;
	size_t i = n;
	while (i < v.len && ed_ini_blank(v.p[i]))
		i++;
	if (!n || i == v.len || v.p[i] != '=')
		return false;
	for (size_t k = 0; k < EK_COUNT; k++)
		if (strlen(ekey_names[k]) == n && memcmp(ekey_names[k], v.p, n) == 0)
			return true;
	return false;
}

static int expect_line(struct parse *ps, struct ed_str line)
{
	struct ed_policy_expect *r = &ps->rule;
	enum ekey k;
	struct ed_str v;
	if (is_cont(ps)) {
		k = ps->prev;
		v = trim(line.p, line.len);
		if (looks_like_key(v))
			return fail(ps, "this indented line continues '%s': start the line in column 1 "
				    "to set another key", ekey_names[k]);
		if (k == EK_EXPIRES)
			return fail(ps, "'expires' takes one date, but this indented line continues it");
	} else {
		const char *eq = memchr(line.p, '=', line.len);
		struct ed_str key = trim(line.p, (size_t)(eq - line.p));
		for (k = 0; k < EK_COUNT; k++)
			if (strlen(ekey_names[k]) == key.len && memcmp(ekey_names[k], key.p, key.len) == 0)
				break;
		if (k == EK_COUNT) {
			if (!key.len)
				return fail(ps, "a line starts with '=': the key is missing");
			return fail(ps,
				    "unknown key '%.*s' in [expect \"%s %s\"] (reason, expires, field, "
				    "change)",
				    (int)key.len, key.p, r->kind, r->glob);
		}
		if (ps->rule_set[k])
			return fail(ps, "'%s' is already set on line %d", ekey_names[k], ps->rule_set[k]);
		ps->rule_set[k] = ps->ini.cur.lineno;
		ps->prev = k;
		const char *vs = eq + 1, *end = line.p + line.len;
		/* A reason is prose: it runs to the end of the line, ';' and all. */
		if (k != EK_REASON)
			end = comment_start(vs, (size_t)(end - vs));
		v = trim(vs, (size_t)(end - vs));
		if (!v.len)
			return fail(ps, "'%s' needs a value%s", ekey_names[k],
				    k == EK_REASON ? ": say why this difference is expected" : "");
	}
	if (k != EK_REASON && is_cont(ps))
		v = trim(v.p, (size_t)(comment_start(v.p, v.len) - v.p));
	char buf[ED_POLICY_MAX_LINE + 1];
	switch (k) {
	case EK_REASON: {
		size_t old = r->reason ? strlen(r->reason) : 0;
		char *nr = realloc(r->reason, old + (old ? 1 : 0) + v.len + 1);
		if (!nr)
			return nomem(ps);
		if (old)
			nr[old++] = ' ';
		memcpy(nr + old, v.p, v.len);
		nr[old + v.len] = '\0';
		r->reason = nr;
		return 1;
	}
	case EK_EXPIRES:
		cstr(buf, v);
		if (!ed_policy_date_valid(buf))
			return fail(ps, "'expires': '%s' is not a date YYYY-MM-DD", buf);
		memcpy(r->expires, buf, 11);
		return 1;
	case EK_FIELD: return each_word(ps, v, one_field);
	case EK_CHANGE: return each_word(ps, v, one_change);
	case EK_COUNT: break;
	}
	return fail(ps, "internal error: no parser for this key");
}

/* "KIND [GLOB] = VALUE" with the comment stripped: the parts, split at the last '='. */
static void split_last(struct ed_str line, struct ed_str *kind, char *glob, char *value)
{
	const char *end = comment_start(line.p, line.len);
	const char *eq = end;
	while (eq > line.p && eq[-1] != '=')
		eq--;
	eq--; /* check_line() saw a '=' before any comment */
	struct ed_str left = trim(line.p, (size_t)(eq - line.p));
	size_t k = 0;
	while (k < left.len && !ed_ini_blank(left.p[k]))
		k++;
	*kind = ed_str_of(left.p, k);
	cstr(glob, trim(left.p + k, left.len - k));
	cstr(value, trim(eq + 1, (size_t)(end - eq - 1)));
}

static bool set_once(struct parse *ps, enum setting s, const char *name)
{
	if (ps->set_line[s])
		return fail(ps, "'%s' is already set on line %d", name, ps->set_line[s]);
	ps->set_line[s] = ps->ini.cur.lineno;
	return true;
}

static bool set_where(struct parse *ps, struct ed_policy_setting *s, int value)
{
	char *o = NULL;
	if (!dup_opt(&o, ps->rule_origin))
		return nomem(ps);
	where_release(&s->where);
	s->where.origin = o;
	s->where.line = ps->ini.cur.lineno;
	s->value = value;
	return true;
}

static bool parse_yes_no(struct parse *ps, const char *what, const char *v, bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
		*out = v[0] == 'y';
		return true;
	}
	if (!*v)
		return fail(ps, "'%s' needs a value: yes or no", what);
	return fail(ps, "'%s': '%s' is not yes or no", what, v);
}

static int severity_line(struct parse *ps, struct ed_str line)
{
	struct ed_str kind;
	char glob[ED_POLICY_MAX_LINE + 1], value[ED_POLICY_MAX_LINE + 1];
	split_last(line, &kind, glob, value);
	const struct kinddef *kd;
	enum ed_policy_level level;
	if (!kind.len)
		return fail(ps, "a line starts with '=': the kind is missing");
	if (!check_rule(ps, kind, glob, true, &kd))
		return 0;
	if (!*value)
		return fail(ps, "'%s%s%s' needs a severity (block, warn, info)", kd->kind,
			    *glob ? " " : "", glob);
	if (!level_parse(value, &level))
		return fail(ps, "unknown severity '%s' (block, warn, info)", value);
	note_rule(ps);
	struct ed_policy *p = ps->p;
	for (size_t i = 0; i < p->nseverities; i++) {
		struct ed_policy_severity *s = &p->severities[i];
		if (strcmp(s->kind, kd->kind) != 0 || (s->glob ? strcmp(s->glob, glob) : *glob) != 0)
			continue;
		if (i >= p->nseverities - ps->new_severities)
			return fail(ps, "the severity of '%s%s%s' is already set on line %d", kd->kind,
				    *glob ? " " : "", glob, s->where.line);
		severity_release(s);
		memmove(s, s + 1, (p->nseverities - i - 1) * sizeof(*s));
		p->nseverities--;
		break;
	}
	if (p->nseverities >= ED_POLICY_MAX_RULES)
		return fail(ps, "more than %d severity lines", ED_POLICY_MAX_RULES);
	struct ed_policy_severity *v = realloc(p->severities, (p->nseverities + 1) * sizeof(*v));
	if (!v)
		return nomem(ps);
	p->severities = v;
	struct ed_policy_severity n = {.kind = kd->kind, .level = level, .where.line = ps->ini.cur.lineno};
	if ((*glob && !(n.glob = strdup(glob))) || !dup_opt(&n.where.origin, ps->rule_origin)) {
		severity_release(&n);
		return nomem(ps);
	}
	v[p->nseverities++] = n;
	ps->new_severities++;
	return 1;
}

static int differ_line_parse(struct parse *ps, struct ed_str line)
{
	struct ed_str kind;
	char glob[ED_POLICY_MAX_LINE + 1], value[ED_POLICY_MAX_LINE + 1];
	split_last(line, &kind, glob, value);
	bool yes;
	if (!kind.len)
		return fail(ps, "a line starts with '=': the kind is missing");
	if (kind.len == 7 && memcmp(kind.p, "secrets", 7) == 0 && !*glob) {
		if (!parse_yes_no(ps, "secrets", value, &yes) || !set_once(ps, SET_SECRETS, "secrets"))
			return 0;
		note_rule(ps);
		return set_where(ps, &ps->p->secrets, yes);
	}
	const struct kinddef *kd;
	if (!check_rule(ps, kind, glob, false, &kd))
		return 0;
	char what[2 * ED_POLICY_MAX_LINE + 2];
	snprintf(what, sizeof(what), "%s %s", kd->kind, glob);
	if (!parse_yes_no(ps, what, value, &yes))
		return 0;
	note_rule(ps);
	struct ed_policy *p = ps->p;
	for (size_t i = 0; i < p->ndiffers; i++) {
		struct ed_policy_differ *d = &p->differs[i];
		if (strcmp(d->kind, kd->kind) != 0 || strcmp(d->glob, glob) != 0)
			continue;
		if (i >= p->ndiffers - ps->new_differs)
			return fail(ps, "'%s' is already given on line %d", what, d->where.line);
		differ_release(d);
		memmove(d, d + 1, (p->ndiffers - i - 1) * sizeof(*d));
		p->ndiffers--;
		break;
	}
	if (p->ndiffers >= ED_POLICY_MAX_RULES)
		return fail(ps, "more than %d must-differ lines", ED_POLICY_MAX_RULES);
	struct ed_policy_differ *v = realloc(p->differs, (p->ndiffers + 1) * sizeof(*v));
	if (!v)
		return nomem(ps);
	p->differs = v;
	struct ed_policy_differ n = {.kind = kd->kind, .must = yes, .where.line = ps->ini.cur.lineno};
	if (!(n.glob = strdup(glob)) || !dup_opt(&n.where.origin, ps->rule_origin)) {
		differ_release(&n);
		return nomem(ps);
	}
	v[p->ndiffers++] = n;
	ps->new_differs++;
	return 1;
}

static int packages_line(struct parse *ps, struct ed_str line)
{
	struct ed_str key;
	char glob[ED_POLICY_MAX_LINE + 1], value[ED_POLICY_MAX_LINE + 1];
	split_last(line, &key, glob, value);
	static const struct {
		const char *name;
		enum setting s;
		size_t off;
	} keys[] = {
		{"ahead", SET_AHEAD, offsetof(struct ed_policy, ahead)},
		{"behind", SET_BEHIND, offsetof(struct ed_policy, behind)},
		{"rebuild", SET_REBUILD, offsetof(struct ed_policy, rebuild)},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) != key.len || memcmp(keys[i].name, key.p, key.len) != 0 || *glob)
			continue;
		enum ed_policy_level level;
		if (!*value)
			return fail(ps, "'%s' needs a severity (block, warn, info)", keys[i].name);
		if (!level_parse(value, &level))
			return fail(ps, "unknown severity '%s' (block, warn, info)", value);
		if (!set_once(ps, keys[i].s, keys[i].name))
			return 0;
		note_rule(ps);
		return set_where(ps, (struct ed_policy_setting *)(void *)((char *)ps->p + keys[i].off),
				 (int)level);
	}
	struct ed_str all = trim(line.p, (size_t)((const char *)memchr(line.p, '=', line.len) - line.p));
	if (!all.len)
		return fail(ps, "a line starts with '=': the key is missing");
	return fail(ps, "unknown key '%.*s' in [packages] (ahead, behind, rebuild)", (int)all.len,
		    all.p);
}

static int policy_line(struct parse *ps, struct ed_str line)
{
	struct ed_str key;
	char glob[ED_POLICY_MAX_LINE + 1], value[ED_POLICY_MAX_LINE + 1];
	split_last(line, &key, glob, value);
	if (key.len != 8 || memcmp(key.p, "defaults", 8) != 0 || *glob) {
		struct ed_str all =
			trim(line.p, (size_t)((const char *)memchr(line.p, '=', line.len) - line.p));
		if (!all.len)
			return fail(ps, "a line starts with '=': the key is missing");
		return fail(ps, "unknown key '%.*s' in [policy] (defaults)", (int)all.len, all.p);
	}
	bool yes;
	if (!parse_yes_no(ps, "defaults", value, &yes) || !set_once(ps, SET_DEFAULTS, "defaults"))
		return 0;
	if (yes)
		return 1;
	if (ps->first_rule)
		return fail(ps, "'defaults = no' must come before the file's first rule (line %d)",
			    ps->first_rule);
	ed_policy_init(ps->p);
	return 1;
}

/* "LO..HI" (rows) or "D" (the others), each a number >= 0, or "ignore", into t. */
static bool tolerance_parse(struct parse *ps, const char *what, const char *v,
			    struct ed_policy_tolerance *t)
{
	t->ignore = strcmp(v, "ignore") == 0;
	if (t->ignore)
		return true;
	char *end;
	errno = 0;
	if (t->measure == ED_DATA_ROWS) {
		/* "1..2": strtod would read "1." as the low end. */
		const char *dots = strstr(v, "..");
		char lo[64];
		bool good = dots && dots > v && (size_t)(dots - v) < sizeof(lo);
		if (good) {
			memcpy(lo, v, (size_t)(dots - v));
			lo[dots - v] = '\0';
			t->lo = strtod(lo, &end);
			good = !errno && end != lo && !*end;
		}
		const char *h = good ? dots + 2 : v;
		if (good) {
			t->hi = strtod(h, &end);
			good = !errno && end != h && !*end && t->lo >= 0 && t->hi >= t->lo &&
			       t->hi < 1e15;
		}
		if (!good)
			return fail(ps, "'%s': '%s' is not a band of ratios LO..HI (e.g. 0.1..10, "
				    "LO <= HI) nor 'ignore'", what, v);
		return true;
	}
	t->hi = strtod(v, &end);
	if (errno || end == v || *end || !(t->hi >= 0) || t->hi > 1e15)
		return fail(ps, "'%s': '%s' is not a number >= 0 nor 'ignore'", what, v);
	return true;
}

/* [data]: "MEASURE = TOLERANCE", "MEASURE[GLOB] = TOLERANCE" or "severity = LEVEL". */
static int data_line(struct parse *ps, struct ed_str line)
{
	const char *eq = memchr(line.p, '=', line.len);
	struct ed_str key = trim(line.p, (size_t)(eq - line.p));
	const char *end = comment_start(line.p, line.len);
	char value[ED_POLICY_MAX_LINE + 1], glob[ED_POLICY_MAX_LINE + 1] = "";
	cstr(value, trim(eq + 1, (size_t)(end - eq - 1)));
	if (!key.len)
		return fail(ps, "a line starts with '=': the key is missing");
	if (key.len == 8 && memcmp(key.p, "severity", 8) == 0) {
		if (!set_once(ps, SET_DATA_SEVERITY, "severity"))
			return 0;
		/* The same as "[severity] data = LEVEL". */
		char sev[ED_POLICY_MAX_LINE + 8];
		int n = snprintf(sev, sizeof(sev), "data = %s", value);
		return severity_line(ps, ed_str_of(sev, (size_t)n));
	}
	const char *br = memchr(key.p, '[', key.len);
	size_t nlen = br ? (size_t)(br - key.p) : key.len;
	int m = -1;
	for (int i = 0; i < ED_DATA_NMEASURES; i++)
		if (strlen(measure_names[i]) == nlen && memcmp(measure_names[i], key.p, nlen) == 0)
			m = i;
	if (m < 0)
		return fail(ps, "unknown key '%.*s' in [data] (rows, null_frac, distinct, overlap, "
			    "severity, or MEASURE[GLOB] for some tables, columns or sensitive "
			    "entries)", (int)key.len, key.p);
	if (br) {
		if (key.p[key.len - 1] != ']' || key.len - nlen < 3)
			return fail(ps, "'%.*s': write %s[GLOB], e.g. %s[public.audit_*]",
				    (int)key.len, key.p, measure_names[m], measure_names[m]);
		cstr(glob, ed_str_of(br + 1, key.len - nlen - 2));
	}
	struct ed_policy_tolerance t = {.measure = (enum ed_data_measure)m};
	char what[ED_POLICY_MAX_LINE + 1];
	cstr(what, key);
	if (!*value)
		return fail(ps, "'%s' needs a value", what);
	if (!tolerance_parse(ps, what, value, &t))
		return 0;
	note_rule(ps);
	struct ed_policy *p = ps->p;
	if (!*glob) {
		if (!set_once(ps, (enum setting)(SET_DATA + m), measure_names[m]))
			return 0;
		char *o = NULL;
		if (!dup_opt(&o, ps->rule_origin))
			return nomem(ps);
		where_release(&p->data[m].where);
		t.where = (struct ed_policy_where){o, ps->ini.cur.lineno};
		p->data[m] = t;
		return 1;
	}
	for (size_t i = 0; i < p->ntolerances; i++) {
		struct ed_policy_tolerance *o = &p->tolerances[i];
		if (o->measure != t.measure || strcmp(o->glob, glob) != 0)
			continue;
		if (i >= p->ntolerances - ps->new_tolerances)
			return fail(ps, "'%s' is already given on line %d", what, o->where.line);
		free(o->glob);
		where_release(&o->where);
		memmove(o, o + 1, (p->ntolerances - i - 1) * sizeof(*o));
		p->ntolerances--;
		break;
	}
	if (p->ntolerances >= ED_POLICY_MAX_RULES)
		return fail(ps, "more than %d [data] lines", ED_POLICY_MAX_RULES);
	struct ed_policy_tolerance *v = realloc(p->tolerances, (p->ntolerances + 1) * sizeof(*v));
	if (!v)
		return nomem(ps);
	p->tolerances = v;
	t.where.line = ps->ini.cur.lineno;
	if (!(t.glob = strdup(glob)) || !dup_opt(&t.where.origin, ps->rule_origin)) {
		free(t.glob);
		return nomem(ps);
	}
	v[p->ntolerances++] = t;
	ps->new_tolerances++;
	return 1;
}

static int handler(struct ed_ini *ini, const char *section, const char *name, const char *value)
{
	struct parse *ps = ini->ctx;
	(void)section; /* ours, read from the raw line: libinih only sees "[s]" */
	(void)name;    /* libinih splits at ':' too, and package keys hold ':' */
	(void)value;
	struct ed_str line = ed_str_of(ini->cur.p, ini->cur.len);
	if (ps->section == S_NONE) {
		struct ed_str k = trim(line.p, (size_t)((const char *)memchr(line.p, '=', line.len) -
							 line.p));
		return fail(ps,
			    "'%.*s' is outside any section: put it under [expect \"KIND GLOB\"], "
			    "[severity], [packages], [must-differ], [data] or [policy]",
			    (int)(k.len > 60 ? 60 : k.len), k.p);
	}
	if (ps->section == S_EXPECT)
		return expect_line(ps, line);
	if (is_cont(ps))
		return fail(ps, "this line is indented, so it would continue the line above, but "
			    "[%s] lines stand alone: start it in column 1",
			    section_names[ps->section]);
	switch (ps->section) {
	case S_SEVERITY: return severity_line(ps, line);
	case S_MUSTDIFFER: return differ_line_parse(ps, line);
	case S_PACKAGES: return packages_line(ps, line);
	case S_POLICY: return policy_line(ps, line);
	case S_DATA: return data_line(ps, line);
	default: return fail(ps, "internal error: no parser for this section");
	}
}

/* Parses into p itself (a scratch copy); the caller swaps it in on success. */
static enum ed_code parse_into(struct ed_str text, const char *origin, const char *rule_origin,
			       struct ed_policy *p, struct ed_err *err)
{
	struct parse ps = {0};
	ps.p = p;
	ps.ini.origin = origin;
	ps.ini.check = check_line;
	ps.ini.pair = handler;
	ps.ini.ctx = &ps;
	ps.rule_origin = rule_origin;
	if (!ed_ini_parse(&ps.ini, text, err))
		finish_rule(&ps);
	if (ps.in_rule)
		expect_release(&ps.rule);
	return ps.ini.rc;
}

enum ed_code ed_policy_parse(struct ed_str text, const char *origin, struct ed_policy *p,
			     struct ed_err *err)
{
	struct ed_policy tmp;
	enum ed_code rc = ed_policy_copy(&tmp, p, err);
	if (rc)
		return rc;
	rc = parse_into(text, origin ? origin : "default policy", origin, &tmp, err);
	if (rc) {
		ed_policy_release(&tmp);
		return rc;
	}
	ed_policy_release(p);
	*p = tmp;
	return ED_OK;
}

/* ---- the built-in default (policies/default.ini, byte for byte; a test checks) ---- */

static const char default_text[] =
/* BEGIN default.ini */
	"; envdrift built-in default policy (see docs/policy.md).\n"
	";\n"
	"; This file says exactly what envdrift does without --policy; a unit test\n"
	"; checks that the two never drift apart. A --policy file is read on top of\n"
	"; it: its rules come after these, so where two rules are equally specific\n"
	"; the file's rule wins. Lines may be at most 197 bytes long.\n"
	"\n"
	"; ---- What always differs from one host to the next ----\n"
	"; Only the content is expected to differ: a changed mode or owner, or the\n"
	"; file missing on one side, is still drift.\n"
	"\n"
	"[expect \"file /etc/hostname\"]\n"
	"reason = each host has its own name\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/machine-id\"]\n"
	"reason = a unique id generated on the host's first boot (machine-id(5))\n"
	"field = content\n"
	"\n"
	"[expect \"file /var/lib/dbus/machine-id\"]\n"
	"reason = D-Bus's copy of the host's unique machine id\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/ssh/ssh_host_*\"]\n"
	"reason = each host has its own SSH host keys; a host holding production's\n"
	"\tkeys is still caught by [must-differ]\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/hosts\"]\n"
	"reason = names the host itself (127.0.1.1 and its own address); a changed\n"
	"\tmode or owner still counts\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/mailname\"]\n"
	"reason = the host's own name for mail it sends\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/adjtime\"]\n"
	"reason = the hardware clock's drift, measured per host by hwclock(8); absent\n"
	"\ton hosts without a hardware clock\n"
	"\n"
	"[expect \"file /etc/machine-info\"]\n"
	"reason = the host's pretty name and location, set by hostnamectl(1)\n"
	"\n"
	"[expect \"file /etc/iscsi/initiatorname.iscsi\"]\n"
	"reason = the iSCSI initiator name is unique per host\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/ssl/certs/ssl-cert-snakeoil.pem\"]\n"
	"reason = the self-signed certificate ssl-cert generates on each host\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/ssl/private/ssl-cert-snakeoil.key\"]\n"
	"reason = the key of the self-signed certificate ssl-cert generates on each\n"
	"\thost\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/lvm/backup/*\"]\n"
	"reason = LVM metadata backups record the host name, the time and the\n"
	"\tvolume ids\n"
	"field = content\n"
	"\n"
	"[expect \"file /etc/lvm/archive/*\"]\n"
	"reason = LVM's history of metadata changes, per host\n"
	"\n"
	"; ---- How much each kind of drift matters ----\n"
	"; \"KIND = LEVEL\" for a whole kind, \"KIND GLOB = LEVEL\" for the keys the glob\n"
	"; matches; a glob line beats a kind line, and among lines of the same sort\n"
	"; the last matching one wins. Levels: block (fails the gate), warn, info.\n"
	"\n"
	"[severity]\n"
	"schema = block\n"
	"package = block\n"
	"config = warn\n"
	"file = warn\n"
	"system = warn\n"
	"\n"
	"; ---- Package versions: candidate (staging) against reference (production) ----\n"
	"; These decide changed packages whose versions envdrift can order, unless a\n"
	"; \"package GLOB\" severity line matches; [severity] package decides the rest\n"
	"; (added, removed, versions it cannot order).\n"
	"\n"
	"[packages]\n"
	"; staging runs a newer version: normally the release under test\n"
	"ahead = info\n"
	"; staging runs an older version: what is tested is not what runs\n"
	"behind = block\n"
	"; the same version, built differently\n"
	"rebuild = warn\n"
	"\n"
	"; ---- Values staging must not share with production ----\n"
	"; Equal fingerprints of these items are blocking drift. \"secrets = yes\" means\n"
	"; every item the profile marks secret (config values and secret files); the\n"
	"; lines below exempt files that are secret by name only and are the same on\n"
	"; every host built alike. The last matching line wins.\n"
	"\n"
	"[must-differ]\n"
	"secrets = yes\n"
	"; the user list: names and ids, no password hashes (*passwd*)\n"
	"file /etc/passwd = no\n"
	"file /etc/passwd- = no\n"
	"; group passwords are unused almost everywhere ('!' and '*' only)\n"
	"file /etc/gshadow = no\n"
	"file /etc/gshadow- = no\n"
	"; the keyboard layout (*key*)\n"
	"file /etc/default/keyboard = no\n"
	"; PAM configuration, such as common-password (*password*)\n"
	"file /etc/pam.d/* = no\n"
	"; public keys: the private key next to each one is what must differ\n"
	"file /etc/ssh/*.pub = no\n"
	"; public CA certificates and package signing keys\n"
	"file /etc/ssl/certs/* = no\n"
	"file /etc/ca-certificates/* = no\n"
	"file /etc/apt/* = no\n"
	"file /etc/pki/ca-trust/* = no\n"
	"file /etc/pki/tls/certs/* = no\n"
	"file /etc/pki/rpm-gpg/* = no\n"
	"\n"
	"; ---- Data shapes (kind data, collect --data-shape) ----\n"
	"; Shapes are compared with tolerances, not for equality: staging's row count\n"
	"; within a factor of production's (a band of candidate/reference ratios), the\n"
	"; absolute difference of a column's null fraction, the relative difference of\n"
	"; its distinct ratio. MEASURE[GLOB] = TOLERANCE or ignore overrides them for\n"
	"; the tables or columns GLOB matches (rows[public.audit_*] = ignore).\n"
	"\n"
	"[data]\n"
	"rows = 0.1..10\n"
	"null_frac = 0.2\n"
	"distinct = 0.5\n"
	"severity = warn\n"
	"; Sensitive rows (kind rows, the profile's [data] sensitive): the estimated\n"
	"; share of staging's rows equal to production's, above which staging holds\n"
	"; real production data. Kind rows blocks ([severity] rows = LEVEL changes\n"
	"; it); overlap[public.customer(*)] = 0.05 or ignore overrides it per entry.\n"
	"overlap = 0.005\n"
	/* END default.ini */
	;

const char *ed_policy_default_text(void)
{
	return default_text;
}

enum ed_code ed_policy_default(struct ed_policy *p, struct ed_err *err)
{
	struct ed_policy tmp = {0};
	ed_policy_init(&tmp);
	enum ed_code rc = parse_into(ed_str_of(default_text, sizeof(default_text) - 1),
				     "default policy", NULL, &tmp, err);
	if (rc) {
		ed_policy_release(&tmp);
		return rc;
	}
	ed_policy_release(p);
	*p = tmp;
	return ED_OK;
}

enum ed_code ed_policy_load(const char *path, struct ed_policy *p, struct ed_err *err)
{
	enum ed_code rc = ed_policy_default(p, err);
	if (rc || !path)
		return rc;
	struct ed_buf text = ED_BUF_INIT;
	rc = ed_buf_read_file(&text, "policy", path, 4u * 1024 * 1024, err);
	if (!rc)
		rc = ed_policy_parse(ed_str_of(ed_buf_str(&text), text.len), path, p, err);
	ed_buf_release(&text);
	return rc;
}

/* ---- judging a drift ---- */

/* Appends "ORIGIN:LINE: TEXT" for a rule read from a file, "TEXT (default)" otherwise. */
static int add_rule(struct ed_buf *b, const struct ed_policy_where *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_rule(struct ed_buf *b, const struct ed_policy_where *w, const char *fmt, ...)
{
	char text[3 * ED_POLICY_MAX_LINE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (w->origin)
		return ed_buf_addf(b, "%s:%d: %s", w->origin, w->line, text);
	return ed_buf_addf(b, "%s (default)", text);
}

static enum ed_direction direction_of(const struct ed_drift_entry *e)
{
	if (strcmp(e->kind, ED_KIND_PACKAGE) != 0 || e->change != ED_CHANGED ||
	    !(e->fields & ED_F_VERSION) || (e->fields & ED_F_ERROR) || !e->ref.value ||
	    !e->cand.value)
		return ED_DIR_NONE;
	const char *colon = strchr(e->key, ':');
	if (!colon || colon == e->key || (size_t)(colon - e->key) >= 16)
		return ED_DIR_NONE;
	char manager[16];
	memcpy(manager, e->key, (size_t)(colon - e->key));
	manager[colon - e->key] = '\0';
	bool ok = false;
	int c = ed_version_cmp(manager, e->cand.value, e->ref.value, &ok);
	if (!ok)
		return ED_DIR_NONE;
	return c > 0 ? ED_DIR_AHEAD : c < 0 ? ED_DIR_BEHIND : ED_DIR_REBUILD;
}

/* Sets e->severity and writes the rule that decided it into b. */
static int judge_severity(const struct ed_policy *p, const struct ed_drift_entry *e,
			  enum ed_policy_level *level, struct ed_buf *b)
{
	const struct ed_policy_severity *kindline = NULL;
	for (size_t i = p->nseverities; i-- > 0;) {
		const struct ed_policy_severity *s = &p->severities[i];
		if (strcmp(s->kind, e->kind) != 0)
			continue;
		if (s->glob) {
			if (ed_policy_key_matches(e->kind, s->glob, e->key)) {
				*level = s->level;
				return add_rule(b, &s->where, "severity %s %s = %s", s->kind, s->glob,
						ed_policy_level_name(s->level));
			}
		} else if (!kindline) {
			kindline = s;
		}
	}
	if (e->direction != ED_DIR_NONE) {
		const struct ed_policy_setting *s = e->direction == ED_DIR_AHEAD    ? &p->ahead
						    : e->direction == ED_DIR_BEHIND ? &p->behind
										    : &p->rebuild;
		*level = (enum ed_policy_level)s->value;
		return add_rule(b, &s->where, "packages %s = %s", ed_direction_name(e->direction),
				ed_policy_level_name(*level));
	}
	if (kindline) {
		*level = kindline->level;
		return add_rule(b, &kindline->where, "severity %s = %s", kindline->kind,
				ed_policy_level_name(kindline->level));
	}
	const struct kinddef *kd = kind_find(e->kind, strlen(e->kind));
	*level = kd ? kd->fallback : ED_LEVEL_BLOCK;
	return ed_buf_addf(b, "severity %s = %s (default)", e->kind, ed_policy_level_name(*level));
}

static bool expect_matches(const struct ed_policy_expect *r, const struct ed_drift_entry *e)
{
	if (strcmp(r->kind, e->kind) != 0)
		return false;
	if (r->changes && !(r->changes & (1u << e->change)))
		return false;
	if (r->fields && (e->change != ED_CHANGED || !e->fields || (e->fields & ~r->fields)))
		return false;
	return ed_policy_key_matches(e->kind, r->glob, e->key);
}

static bool is_expired(const struct ed_policy_expect *r, const char *today)
{
	return r->expires[0] && strcmp(today, r->expires) > 0;
}

/* Judges one entry; rule and reason are rebuilt. Returns 0 or -1 (no memory). */
static int judge(const struct ed_policy *p, const char *today, struct ed_drift_entry *e,
		 struct ed_buf *b)
{
	free(e->rule);
	free(e->reason);
	e->rule = e->reason = NULL;
	e->ignored = false;
	ed_buf_reset(b);

	if (e->change == ED_CHANGED && e->fields == 0) {
		/* Equal where the policy demands a difference (the must-differ hook). */
		bool secret = ed_side_secret(&e->ref) || ed_side_secret(&e->cand);
		const struct ed_policy_differ *d = differ_line(p, e->kind, e->key);
		const struct ed_policy_where *w = d ? &d->where : &p->secrets.where;
		bool must = d ? d->must : secret && p->secrets.value;
		e->direction = ED_DIR_NONE;
		e->severity = "block";
		if (add_rule(b, w, "must differ: staging uses production's %s",
			     secret ? "secret" : "value"))
			return -1;
		if (!must) {
			/* Made under another policy: this one lets the two be equal. */
			e->ignored = true;
			ed_buf_reset(b);
			if (!(e->reason = strdup("equal, which this policy allows")) ||
			    (d ? add_rule(b, w, "must-differ %s %s = no", d->kind, d->glob)
			       : add_rule(b, w, "must-differ secrets = %s",
					  p->secrets.value ? "yes" : "no")))
				return -1;
		}
		e->rule = ed_buf_detach(b);
		return e->rule ? 0 : -1;
	}

	e->direction = direction_of(e);
	enum ed_policy_level level;
	if (judge_severity(p, e, &level, b))
		return -1;
	e->severity = ed_policy_level_name(level);

	const struct ed_policy_expect *hit = NULL, *gone = NULL;
	for (size_t i = p->nexpects; i-- > 0 && !hit;) {
		const struct ed_policy_expect *r = &p->expects[i];
		if (!expect_matches(r, e))
			continue;
		if (!is_expired(r, today))
			hit = r;
		else if (!gone)
			gone = r;
	}
	if (hit) {
		e->ignored = true;
		memcpy(e->expires, hit->expires, sizeof(e->expires));
		if (!(e->reason = strdup(hit->reason)))
			return -1;
		ed_buf_reset(b);
		if (add_rule(b, &hit->where, "expect \"%s %s\"", hit->kind, hit->glob))
			return -1;
	} else if (gone) {
		if (ed_buf_addf(b, "; expired: expect \"%s %s\" until %s", gone->kind, gone->glob,
				gone->expires) ||
		    (gone->where.origin
			     ? ed_buf_addf(b, " (%s:%d)", gone->where.origin, gone->where.line)
			     : ed_buf_adds(b, " (default)")))
			return -1;
	}
	e->rule = ed_buf_detach(b);
	return e->rule ? 0 : -1;
}

static void expired_release(struct ed_drift *d)
{
	for (size_t i = 0; i < d->nexpired; i++) {
		free(d->expired[i].text);
		free(d->expired[i].expires);
		free(d->expired[i].reason);
	}
	free(d->expired);
	d->expired = NULL;
	d->nexpired = 0;
}

/* Where an entry goes within its role and kind: blocking first, ignored last. */
static int verdict_rank(const struct ed_drift_entry *e)
{
	if (e->ignored)
		return 3;
	if (!e->severity || strcmp(e->severity, "block") == 0)
		return 0;
	return strcmp(e->severity, "warn") == 0 ? 1 : 2;
}

/* An entry's place: its role and kind group (in the merge's order), its rank, its old index. */
struct place {
	size_t group;
	int rank;
	size_t index;
};

static int cmp_place(const void *a, const void *b)
{
	const struct place *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_group(const struct ed_drift_entry *a, const struct ed_drift_entry *b)
{
	return strcmp(a->kind, b->kind) == 0 &&
	       strcmp(a->role ? a->role : "", b->role ? b->role : "") == 0;
}

/*
 * Orders the entries of each role and kind by verdict (block, warn, info,
 * ignored), each in key order as the merge left them. -1 when out of memory
 * (d unchanged). The entries move in place, cycle by cycle: no copy of the
 * whole drift.
 */
static int order_by_verdict(struct ed_drift *d)
{
	if (d->n < 2)
		return 0;
	struct place *pl = malloc(d->n * sizeof(*pl));
	if (!pl)
		return -1;
	size_t group = 0;
	for (size_t i = 0; i < d->n; i++) {
		group += i && !same_group(&d->v[i - 1], &d->v[i]);
		pl[i] = (struct place){group, verdict_rank(&d->v[i]), i};
	}
	qsort(pl, d->n, sizeof(*pl), cmp_place);
	/* Place i takes the entry at pl[i].index; a place filled points at itself. */
	for (size_t i = 0; i < d->n; i++) {
		if (pl[i].index == i)
			continue;
		struct ed_drift_entry first = d->v[i];
		for (size_t j = i;;) {
			size_t k = pl[j].index;
			pl[j].index = j;
			if (k == i) {
				d->v[j] = first;
				break;
			}
			d->v[j] = d->v[k];
			j = k;
		}
	}
	free(pl);
	return 0;
}

/*
 * The same for a spilled drift: each group's entries, rank by rank, make the
 * new order; only the file offsets move (1 + 8 bytes per entry meanwhile).
 */
static enum ed_code order_spilled(struct ed_drift *d, struct ed_err *err)
{
	size_t n = d->n;
	unsigned char *rank = malloc(n ? n : 1);
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	struct ed_buf kind = ED_BUF_INIT, role = ED_BUF_INIT;
	struct ed_drift_reader r;
	enum ed_code rc = ED_OK;
	ed_drift_reader_init(&r, d, false);
	if (!rank || !order) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
		goto out;
	}
	size_t w = 0, gs = 0;
	for (size_t i = 0; i <= n; i++) {
		const struct ed_drift_entry *e = i < n ? ed_drift_at(&r, i) : NULL;
		const char *er = e && e->role ? e->role : "";
		if (i == n || (i && (strcmp(e->kind, ed_buf_str(&kind)) != 0 ||
				     strcmp(er, ed_buf_str(&role)) != 0))) {
			for (unsigned char k = 0; k < 4; k++)
				for (size_t j = gs; j < i; j++)
					if (rank[j] == k)
						order[w++] = j;
			gs = i;
			if (i == n)
				break;
		}
		if (i == gs) {
			ed_buf_reset(&kind);
			ed_buf_reset(&role);
			if (ed_buf_adds(&kind, e->kind) || ed_buf_adds(&role, er)) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
				goto out;
			}
		}
		rank[i] = (unsigned char)verdict_rank(e);
	}
	if ((rc = ed_drift_reader_failed(&r, err)))
		goto out;
	rc = ed_drift_spill_reorder(d, order, err);
out:
	ed_drift_reader_release(&r);
	ed_buf_release(&kind);
	ed_buf_release(&role);
	free(rank);
	free(order);
	return rc;
}

/* Judges entry i of a spilled drift: read, judged, written again. */
static enum ed_code judge_spilled(const struct ed_policy *p, const char *today,
				  struct ed_drift *d, struct ed_drift_reader *rd, size_t i,
				  struct ed_drift_entry *x, struct ed_buf *b, struct ed_err *err)
{
	*x = *ed_drift_at(rd, i);
	enum ed_code rc = ed_drift_reader_failed(rd, err);
	if (rc)
		return rc;
	/* Its strings are the reader's: the judge replaces these two with its own. */
	x->rule = x->reason = NULL;
	if (judge(p, today, x, b))
		rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
	else
		rc = ed_drift_spill_put(d, i, x, err);
	free(x->rule);
	free(x->reason);
	x->rule = x->reason = NULL;
	return rc;
}

enum ed_code ed_policy_apply(const struct ed_policy *p, const char *today, struct ed_drift *d,
			     struct ed_err *err)
{
	char now[11];
	if (!today) {
		ed_policy_today(time(NULL), now);
		today = now;
	}
	if (!ed_policy_date_valid(today))
		return ed_err_set(err, ED_USAGE, "today's date '%s' is not YYYY-MM-DD", today);

	expired_release(d);
	d->ignored = d->blocking = d->warnings = d->infos = 0;
	d->added = d->removed = d->changed = 0;
	struct ed_buf b = ED_BUF_INIT;
	struct ed_drift_reader rd;
	struct ed_drift_entry one;
	enum ed_code rc = ED_OK;
	ed_drift_reader_init(&rd, d, false);
	/* A spilled drift is judged whole, each entry written again to a new file. */
	if (d->spill && ed_drift_spilled(d) < d->n && (rc = ed_drift_spill_entries(d, err)))
		goto out;
	if (d->spill && (rc = ed_drift_spill_rewrite_begin(d, err)))
		goto out;
	for (size_t i = 0; i < d->n; i++) {
		struct ed_drift_entry *e = d->spill ? &one : &d->v[i];
		if (d->spill && (rc = judge_spilled(p, today, d, &rd, i, &one, &b, err)))
			goto out;
		if (!d->spill && judge(p, today, e, &b)) {
			/* Leave every entry with a severity and a rule of some kind. */
			if (!e->severity)
				e->severity = "block";
			rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
			goto out;
		}
		/* Added, removed and changed count what is reported: ignored drift apart. */
		if (!e->ignored)
			*(e->change == ED_ADDED ? &d->added : e->change == ED_REMOVED ? &d->removed
										   : &d->changed) += 1;
		if (e->ignored)
			d->ignored++;
		else if (strcmp(e->severity, "block") == 0)
			d->blocking++;
		else if (strcmp(e->severity, "warn") == 0)
			d->warnings++;
		else
			d->infos++;
	}
	for (size_t i = 0; i < p->nexpects; i++) {
		const struct ed_policy_expect *r = &p->expects[i];
		if (!is_expired(r, today))
			continue;
		struct ed_expired_rule *v = realloc(d->expired, (d->nexpired + 1) * sizeof(*v));
		if (!v) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
			goto out;
		}
		d->expired = v;
		struct ed_expired_rule *x = &v[d->nexpired];
		memset(x, 0, sizeof(*x));
		d->nexpired++;
		if (ed_buf_addf(&b, "%s %s", r->kind, r->glob) || !(x->text = ed_buf_detach(&b)) ||
		    !(x->expires = strdup(r->expires)) || !(x->reason = strdup(r->reason))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
			goto out;
		}
	}
	if (d->spill && !(rc = ed_drift_spill_rewrite_end(d, true, err)))
		rc = order_spilled(d, err);
	else if (!d->spill && order_by_verdict(d))
		rc = ed_err_set(err, ED_NOMEM, "out of memory judging drift");
out:
	if (d->spill)
		ed_drift_spill_rewrite_end(d, false, NULL); /* after a failure: the entries as they were */
	ed_drift_reader_release(&rd);
	ed_buf_release(&b);
	return rc;
}
