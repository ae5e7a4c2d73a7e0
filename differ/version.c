/* SPDX-License-Identifier: MIT */
/*
 * Version ordering per package manager: dpkg and apk reimplemented after
 * their sources, rpm through librpm's rpmvercmp(), PEP 440 as pypa/packaging
 * reads it, and semver as node-semver reads it. Works on borrowed slices.
 */
#include "ed/version.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <rpm/rpmver.h>

#include "ed/buf.h"

/* ---- helpers (ASCII only, whatever the locale) ---- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alpha(int c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(int c)
{
	return is_digit(c) || is_alpha(c);
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

static struct ed_str span(const char *from, const char *to)
{
	return ed_str_of(from, (size_t)(to - from));
}

static const char *skip_digits(const char *p, const char *end)
{
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/* Compares two runs of ASCII digits by value: any length, leading zeros ignored, empty is 0. */
static int num_cmp(struct ed_str a, struct ed_str b)
{
	while (a.len && *a.p == '0')
		a.p++, a.len--;
	while (b.len && *b.p == '0')
		b.p++, b.len--;
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return a.len ? sign(memcmp(a.p, b.p, a.len)) : 0;
}

/* Byte-wise comparison of two slices, a proper prefix sorting first. */
static int str_cmp(struct ed_str a, struct ed_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int r = n ? memcmp(a.p, b.p, n) : 0;
	if (r)
		return sign(r);
	return a.len == b.len ? 0 : a.len < b.len ? -1 : 1;
}

/* ---- dpkg: lib/dpkg/parsehelp.c parseversion() and lib/dpkg/version.c ---- */

struct dpkg_ver {
	unsigned long epoch; /* 0..INT_MAX */
	struct ed_str upstream;
	struct ed_str revision; /* empty when there is no '-' */
};

static bool dpkg_is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* What strtol() skips before a number. */
static bool c_is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* parseversion(): false where dpkg reports an error; its warnings are accepted. */
static bool dpkg_parse(struct ed_str s, struct dpkg_ver *v)
{
	const char *p = s.p, *end = s.p + s.len;

	while (p < end && dpkg_is_blank(*p))
		p++;
	if (p == end)
		return false; /* version string is empty */
	const char *e = p;
	while (e < end && !dpkg_is_blank(*e))
		e++;
	for (const char *q = e; q < end; q++)
		if (!dpkg_is_blank(*q))
			return false; /* embedded spaces */

	v->epoch = 0;
	const char *colon = memchr(p, ':', (size_t)(e - p));
	if (colon) {
		/* strtol(string, &end, 10) must stop exactly at the colon. */
		const char *q = p;
		bool neg = false;
		while (q < colon && c_is_space(*q))
			q++;
		if (q < colon && (*q == '+' || *q == '-'))
			neg = *q++ == '-';
		const char *digits = q;
		unsigned long epoch = 0;
		bool big = false;
		for (; q < colon && is_digit(*q); q++) {
			if (epoch > (unsigned long)INT_MAX)
				big = true;
			else
				epoch = epoch * 10 + (unsigned long)(*q - '0');
		}
		if (q == digits)
			return false; /* epoch is empty */
		if (q != colon)
			return false; /* epoch is not a number */
		if (neg && epoch != 0)
			return false; /* epoch is negative */
		if (big || epoch > (unsigned long)INT_MAX)
			return false; /* epoch is too big */
		p = colon + 1;
		if (p == e)
			return false; /* nothing after colon */
		v->epoch = epoch;
	}

	const char *hyphen = NULL;
	for (const char *q = p; q < e; q++)
		if (*q == '-')
			hyphen = q;
	if (hyphen) {
		if (hyphen + 1 == e)
			return false; /* revision number is empty */
		v->upstream = span(p, hyphen);
		v->revision = span(hyphen + 1, e);
	} else {
		v->upstream = span(p, e);
		v->revision = ed_str_of(e, 0);
	}
	return v->upstream.len > 0; /* version number is empty */
}

/*
 * The character at i, or 0 past the end. dpkg reads bytes through a plain
 * char, which is signed on the machines we build for: bytes >= 0x80 are
 * negative there and order() then puts them between letters and punctuation.
 */
static int dpkg_at(struct ed_str s, size_t i)
{
	return i < s.len ? (int)(signed char)s.p[i] : 0;
}

static int dpkg_order(int c)
{
	if (is_digit(c))
		return 0;
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int dpkg_verrevcmp(struct ed_str a, struct ed_str b)
{
	size_t i = 0, j = 0;

	while (i < a.len || j < b.len) {
		int first_diff = 0;

		while ((i < a.len && !is_digit(a.p[i])) || (j < b.len && !is_digit(b.p[j]))) {
			int ac = dpkg_order(dpkg_at(a, i));
			int bc = dpkg_order(dpkg_at(b, j));
			if (ac != bc)
				return sign(ac - bc);
			/* Equal orders here are never 0, so neither side is at its end. */
			i++;
			j++;
		}
		while (dpkg_at(a, i) == '0')
			i++;
		while (dpkg_at(b, j) == '0')
			j++;
		while (is_digit(dpkg_at(a, i)) && is_digit(dpkg_at(b, j))) {
			if (!first_diff)
				first_diff = dpkg_at(a, i) - dpkg_at(b, j);
			i++;
			j++;
		}
		if (is_digit(dpkg_at(a, i)))
			return 1;
		if (is_digit(dpkg_at(b, j)))
			return -1;
		if (first_diff)
			return sign(first_diff);
	}
	return 0;
}

static int dpkg_cmp(struct ed_str a, struct ed_str b, bool *ok)
{
	struct dpkg_ver va, vb;
	int r;

	*ok = dpkg_parse(a, &va) && dpkg_parse(b, &vb);
	if (!*ok)
		return 0;
	if (va.epoch != vb.epoch)
		return va.epoch < vb.epoch ? -1 : 1;
	r = dpkg_verrevcmp(va.upstream, vb.upstream);
	return r ? r : dpkg_verrevcmp(va.revision, vb.revision);
}

/* ---- rpm: rpmio/rpmver.c parseEVR() and rpmverCmp(), rpmvercmp() from librpm ---- */

struct rpm_evr {
	const char *e; /* NULL when absent (then 0) */
	const char *v;
	const char *r; /* NULL when absent: sorts before any release */
};

/* Splits evr in place the way rpm's parseEVR() does. */
static void rpm_split(char *evr, struct rpm_evr *out)
{
	char *s = evr;

	while (*s && is_digit(*s))
		s++;
	char *se = strrchr(s, '-');
	if (*s == ':') {
		out->e = evr;
		*s++ = '\0';
		out->v = s;
		if (*out->e == '\0')
			out->e = "0";
	} else {
		out->e = NULL;
		out->v = evr;
	}
	if (se) {
		*se++ = '\0';
		out->r = se;
	} else {
		out->r = NULL;
	}
}

static int rpm_part_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return sign(rpmvercmp(a, b));
}

static int rpm_cmp(struct ed_str a, struct ed_str b, bool *ok)
{
	/* rpmvercmp() wants NUL-terminated strings; callers cap lengths at ED_VERSION_MAX. */
	char abuf[ED_VERSION_MAX + 1], bbuf[ED_VERSION_MAX + 1];
	struct rpm_evr ea, eb;
	int r;

	*ok = a.len > 0 && b.len > 0 && a.len <= ED_VERSION_MAX && b.len <= ED_VERSION_MAX;
	if (!*ok)
		return 0;
	memcpy(abuf, a.p, a.len);
	abuf[a.len] = '\0';
	memcpy(bbuf, b.p, b.len);
	bbuf[b.len] = '\0';
	rpm_split(abuf, &ea);
	rpm_split(bbuf, &eb);
	r = rpm_part_cmp(ea.e ? ea.e : "0", eb.e ? eb.e : "0");
	if (!r)
		r = rpm_part_cmp(ea.v, eb.v);
	if (!r)
		r = rpm_part_cmp(ea.r, eb.r);
	return r;
}

/* ---- apk: apk-tools src/version.c (the token_state rewrite, with ~hash) ---- */

enum apk_token {
	APK_INITIAL_DIGIT,
	APK_DIGIT,
	APK_LETTER,
	APK_SUFFIX,
	APK_SUFFIX_NO,
	APK_COMMIT_HASH,
	APK_REVISION_NO,
	APK_END,
	APK_INVALID,
};

/* In this order: pre-release suffixes, then none, then post-release ones. */
enum apk_suffix {
	APK_SUF_INVALID,
	APK_SUF_ALPHA,
	APK_SUF_BETA,
	APK_SUF_PRE,
	APK_SUF_RC,
	APK_SUF_NONE,
	APK_SUF_CVS,
	APK_SUF_SVN,
	APK_SUF_GIT,
	APK_SUF_HG,
	APK_SUF_P,
};

struct apk_tok {
	enum apk_token token;
	enum apk_suffix suffix; /* for APK_SUFFIX */
	struct ed_str value;    /* the token's text (digits, letter, suffix, hash) */
};

static enum apk_suffix apk_suffix_of(struct ed_str s)
{
	static const struct {
		const char *name;
		enum apk_suffix suffix;
	} names[] = {
		{"alpha", APK_SUF_ALPHA}, {"beta", APK_SUF_BETA}, {"pre", APK_SUF_PRE},
		{"rc", APK_SUF_RC},       {"cvs", APK_SUF_CVS},   {"svn", APK_SUF_SVN},
		{"git", APK_SUF_GIT},     {"hg", APK_SUF_HG},     {"p", APK_SUF_P},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == s.len && memcmp(names[i].name, s.p, s.len) == 0)
			return names[i].suffix;
	return APK_SUF_INVALID;
}

static bool apk_is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static void apk_digits(struct apk_tok *t, struct ed_str *rest)
{
	const char *end = rest->p + rest->len;
	const char *q = skip_digits(rest->p, end);

	t->value = span(rest->p, q);
	*rest = span(q, end);
	if (t->value.len == 0)
		t->token = APK_INVALID;
}

static void apk_first(struct apk_tok *t, struct ed_str *rest)
{
	t->token = APK_INITIAL_DIGIT;
	apk_digits(t, rest);
}

/* token_next(): reads the next token and checks the previous one allows it. */
static void apk_next(struct apk_tok *t, struct ed_str *rest)
{
	const char *end = rest->p + rest->len;
	const char *q;

	if (rest->len == 0) {
		t->token = APK_END;
		return;
	}
	int c = (unsigned char)rest->p[0];
	if (is_lower(c)) {
		if (t->token > APK_DIGIT)
			goto invalid;
		t->value = ed_str_of(rest->p, 1);
		t->token = APK_LETTER;
		*rest = span(rest->p + 1, end);
	} else if (c == '.' || is_digit(c)) {
		if (c == '.') {
			if (t->token > APK_DIGIT)
				goto invalid;
			*rest = span(rest->p + 1, end);
		}
		if (t->token == APK_INITIAL_DIGIT || t->token == APK_DIGIT)
			t->token = APK_DIGIT;
		else if (t->token == APK_SUFFIX)
			t->token = APK_SUFFIX_NO;
		else
			goto invalid;
		apk_digits(t, rest);
	} else if (c == '_') {
		if (t->token > APK_SUFFIX_NO)
			goto invalid;
		for (q = rest->p + 1; q < end && is_lower(*q); q++)
			;
		t->value = span(rest->p + 1, q);
		*rest = span(q, end);
		t->suffix = apk_suffix_of(t->value);
		if (t->suffix == APK_SUF_INVALID)
			goto invalid;
		t->token = APK_SUFFIX;
	} else if (c == '~') {
		if (t->token >= APK_COMMIT_HASH)
			goto invalid;
		for (q = rest->p + 1; q < end && apk_is_hex(*q); q++)
			;
		t->value = span(rest->p + 1, q);
		*rest = span(q, end);
		if (t->value.len == 0)
			goto invalid;
		t->token = APK_COMMIT_HASH;
	} else if (c == '-') {
		if (t->token >= APK_REVISION_NO || rest->len < 2 || rest->p[1] != 'r')
			goto invalid;
		*rest = span(rest->p + 2, end);
		t->token = APK_REVISION_NO;
		apk_digits(t, rest);
	} else {
		goto invalid;
	}
	return;
invalid:
	t->token = APK_INVALID;
}

static bool apk_valid(struct ed_str v)
{
	struct apk_tok t;

	for (apk_first(&t, &v); t.token < APK_END; apk_next(&t, &v))
		;
	return t.token == APK_END;
}

static int apk_token_cmp(const struct apk_tok *a, const struct apk_tok *b)
{
	switch (a->token) {
	case APK_DIGIT:
		/* A leading zero on either side: string order, as Gentoo's spec says. */
		if (a->value.p[0] == '0' || b->value.p[0] == '0')
			return str_cmp(a->value, b->value);
		return num_cmp(a->value, b->value);
	case APK_INITIAL_DIGIT:
	case APK_SUFFIX_NO:
	case APK_REVISION_NO:
		/* apk-tools reads these into a uint64_t; by value here, without wrapping. */
		return num_cmp(a->value, b->value);
	case APK_LETTER:
		return sign((unsigned char)a->value.p[0] - (unsigned char)b->value.p[0]);
	case APK_SUFFIX:
		return sign((int)a->suffix - (int)b->suffix);
	default:
		return str_cmp(a->value, b->value);
	}
}

static int apk_cmp(struct ed_str a, struct ed_str b, bool *ok)
{
	struct apk_tok ta, tb;

	*ok = apk_valid(a) && apk_valid(b);
	if (!*ok)
		return 0;
	for (apk_first(&ta, &a), apk_first(&tb, &b); ta.token == tb.token && ta.token < APK_END;
	     apk_next(&ta, &a), apk_next(&tb, &b)) {
		int r = apk_token_cmp(&ta, &tb);
		if (r)
			return r;
	}
	if (ta.token == tb.token)
		return 0;
	/* Equal so far: the longer one is newer, unless what follows is a pre-release suffix. */
	if (ta.token == APK_SUFFIX && ta.suffix < APK_SUF_NONE)
		return -1;
	if (tb.token == APK_SUFFIX && tb.suffix < APK_SUF_NONE)
		return 1;
	return ta.token > tb.token ? -1 : 1;
}

/* ---- PEP 440: pypa/packaging's VERSION_PATTERN and _cmpkey() ---- */

enum pep440_pre { PEP440_NO_PRE, PEP440_A, PEP440_B, PEP440_RC };

struct pep440 {
	struct ed_str epoch;   /* digits; empty for 0 */
	struct ed_str release; /* N(.N)* */
	enum pep440_pre pre;
	struct ed_str pre_n; /* digits; empty for 0 */
	bool post;
	struct ed_str post_n;
	bool dev;
	struct ed_str dev_n;
	struct ed_str local; /* after '+'; empty when there is none */
};

/* Python's \s over ASCII, which includes the separators \x1c-\x1f. */
static bool py_is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool pep440_is_sep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

/* Length of keyword kw (lower case) at p, matched ignoring case; 0 when absent. */
static size_t match_kw(const char *p, const char *end, const char *kw)
{
	size_t n = strlen(kw);
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (to_lower((unsigned char)p[i]) != kw[i])
			return 0;
	return n;
}

/* [-_.]? then optional digits, after a keyword; returns the new position. */
static const char *pep440_number(const char *p, const char *end, struct ed_str *n)
{
	if (p < end && pep440_is_sep(*p))
		p++;
	const char *d = p;
	p = skip_digits(p, end);
	*n = span(d, p);
	return p;
}

static bool pep440_parse(struct ed_str s, struct pep440 *v)
{
	static const struct {
		const char *kw;
		enum pep440_pre pre;
	} pres[] = {
		/* The regex's alternation order: a longer spelling before its prefix. */
		{"alpha", PEP440_A}, {"a", PEP440_A},      {"beta", PEP440_B}, {"b", PEP440_B},
		{"preview", PEP440_RC}, {"pre", PEP440_RC}, {"c", PEP440_RC},   {"rc", PEP440_RC},
	};
	static const char *const posts[] = {"post", "rev", "r"};
	const char *p = s.p, *end = s.p + s.len, *q, *d;
	size_t k = 0;

	memset(v, 0, sizeof(*v));
	while (p < end && py_is_space(*p))
		p++;
	while (end > p && py_is_space(end[-1]))
		end--;
	if (p < end && (*p == 'v' || *p == 'V'))
		p++;

	d = p;
	p = skip_digits(p, end);
	if (p == d)
		return false;
	if (p < end && *p == '!') {
		v->epoch = span(d, p);
		d = ++p;
		p = skip_digits(p, end);
		if (p == d)
			return false;
	}
	while (end - p >= 2 && *p == '.' && is_digit(p[1]))
		p = skip_digits(p + 1, end);
	v->release = span(d, p);

	/* Each optional part: try it from p, keep it only when its keyword is there. */
	q = p < end && pep440_is_sep(*p) ? p + 1 : p;
	for (size_t i = 0; i < sizeof(pres) / sizeof(pres[0]); i++) {
		if ((k = match_kw(q, end, pres[i].kw)) > 0) {
			v->pre = pres[i].pre;
			p = pep440_number(q + k, end, &v->pre_n);
			break;
		}
	}

	if (end - p >= 2 && *p == '-' && is_digit(p[1])) {
		v->post = true;
		d = p + 1;
		p = skip_digits(d, end);
		v->post_n = span(d, p);
	} else {
		q = p < end && pep440_is_sep(*p) ? p + 1 : p;
		for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
			if ((k = match_kw(q, end, posts[i])) > 0) {
				v->post = true;
				p = pep440_number(q + k, end, &v->post_n);
				break;
			}
		}
	}

	q = p < end && pep440_is_sep(*p) ? p + 1 : p;
	if ((k = match_kw(q, end, "dev")) > 0) {
		v->dev = true;
		p = pep440_number(q + k, end, &v->dev_n);
	}

	if (p < end && *p == '+') {
		d = ++p;
		for (;;) {
			q = p;
			while (p < end && is_alnum(*p))
				p++;
			if (p == q)
				return false;
			if (p < end && pep440_is_sep(*p))
				p++;
			else
				break;
		}
		v->local = span(d, p);
	}
	return p == end;
}

/* Next dot-separated release number, or an empty slice (0) past the end. */
static struct ed_str pep440_next_num(struct ed_str *rest)
{
	const char *end = rest->p + rest->len;
	const char *q = skip_digits(rest->p, end);
	struct ed_str n = span(rest->p, q);

	*rest = q < end ? span(q + 1, end) : span(end, end);
	return n;
}

/* Release tuples with trailing zeros dropped compare like tuples padded with zeros. */
static int pep440_release_cmp(struct ed_str a, struct ed_str b)
{
	while (a.len || b.len) {
		int r = num_cmp(pep440_next_num(&a), pep440_next_num(&b));
		if (r)
			return r;
	}
	return 0;
}

static struct ed_str pep440_next_local(struct ed_str *rest)
{
	const char *end = rest->p + rest->len, *q = rest->p;

	while (q < end && !pep440_is_sep(*q))
		q++;
	struct ed_str seg = span(rest->p, q);
	*rest = q < end ? span(q + 1, end) : span(end, end);
	return seg;
}

static bool all_digits(struct ed_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!is_digit(s.p[i]))
			return false;
	return s.len > 0;
}

/* Local segments: numbers by value, above words; words ignoring case; a prefix first. */
static int pep440_local_cmp(struct ed_str a, struct ed_str b)
{
	while (a.len && b.len) {
		struct ed_str sa = pep440_next_local(&a), sb = pep440_next_local(&b);
		bool na = all_digits(sa), nb = all_digits(sb);
		int r;

		if (na != nb)
			return na ? 1 : -1;
		if (na) {
			r = num_cmp(sa, sb);
		} else {
			size_t n = sa.len < sb.len ? sa.len : sb.len;
			r = 0;
			for (size_t i = 0; i < n && !r; i++)
				r = sign(to_lower((unsigned char)sa.p[i]) - to_lower((unsigned char)sb.p[i]));
			if (!r && sa.len != sb.len)
				r = sa.len < sb.len ? -1 : 1;
		}
		if (r)
			return r;
	}
	return (a.len > 0) - (b.len > 0);
}

/* _cmpkey()'s pre element: a dev-only release sorts below any pre-release, a final one above. */
static int pep440_pre_rank(const struct pep440 *v)
{
	if (v->pre == PEP440_NO_PRE)
		return !v->post && v->dev ? 0 : 2;
	return 1;
}

static int pep440_cmp(struct ed_str a, struct ed_str b, bool *ok)
{
	struct pep440 va, vb;
	int r;

	*ok = pep440_parse(a, &va) && pep440_parse(b, &vb);
	if (!*ok)
		return 0;
	if ((r = num_cmp(va.epoch, vb.epoch)) != 0)
		return r;
	if ((r = pep440_release_cmp(va.release, vb.release)) != 0)
		return r;
	if ((r = sign(pep440_pre_rank(&va) - pep440_pre_rank(&vb))) != 0)
		return r;
	if (va.pre != PEP440_NO_PRE) {
		if (va.pre != vb.pre)
			return va.pre < vb.pre ? -1 : 1;
		if ((r = num_cmp(va.pre_n, vb.pre_n)) != 0)
			return r;
	}
	if (va.post != vb.post)
		return va.post ? 1 : -1;
	if (va.post && (r = num_cmp(va.post_n, vb.post_n)) != 0)
		return r;
	if (va.dev != vb.dev)
		return va.dev ? -1 : 1;
	if (va.dev && (r = num_cmp(va.dev_n, vb.dev_n)) != 0)
		return r;
	if (!va.local.len || !vb.local.len)
		return (va.local.len > 0) - (vb.local.len > 0);
	return pep440_local_cmp(va.local, vb.local);
}

/* ---- semver 2.0, as node-semver's strict FULL regex and SemVer class read it ---- */

#define SEMVER_MAX_LENGTH 256
#define SEMVER_MAX_SAFE_INTEGER "9007199254740991"

struct semver {
	struct ed_str major, minor, patch;
	struct ed_str pre; /* after '-', up to '+' or the end; empty when none */
};

static bool js_is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool semver_ident_char(int c)
{
	return is_alnum(c) || c == '-';
}

/* 0|[1-9]\d* at most MAX_SAFE_INTEGER; advances *pp. */
static bool semver_number(const char **pp, const char *end, struct ed_str *out)
{
	const char *d = *pp, *p = skip_digits(*pp, end);

	*out = span(d, p);
	*pp = p;
	if (p == d || (out->len > 1 && *d == '0'))
		return false;
	return num_cmp(*out, ed_str_of(SEMVER_MAX_SAFE_INTEGER, sizeof(SEMVER_MAX_SAFE_INTEGER) - 1)) <= 0;
}

/* Dot-separated identifiers [0-9A-Za-z-]+; numeric_rule forbids leading zeros on all-digit ones. */
static bool semver_idents(const char **pp, const char *end, bool numeric_rule)
{
	const char *p = *pp;

	for (;;) {
		const char *d = p;
		while (p < end && semver_ident_char(*p))
			p++;
		if (p == d)
			return false;
		if (numeric_rule && p - d > 1 && *d == '0' && all_digits(span(d, p)))
			return false;
		if (p < end && *p == '.')
			p++;
		else
			break;
	}
	*pp = p;
	return true;
}

static bool semver_parse(struct ed_str s, struct semver *v)
{
	const char *p = s.p, *end = s.p + s.len, *d;

	if (s.len > SEMVER_MAX_LENGTH)
		return false;
	while (p < end && js_is_space(*p))
		p++;
	while (end > p && js_is_space(end[-1]))
		end--;
	if (p < end && *p == 'v')
		p++;
	if (!semver_number(&p, end, &v->major) || p == end || *p++ != '.' ||
	    !semver_number(&p, end, &v->minor) || p == end || *p++ != '.' ||
	    !semver_number(&p, end, &v->patch))
		return false;
	v->pre = ed_str_of(p, 0);
	if (p < end && *p == '-') {
		d = ++p;
		if (!semver_idents(&p, end, true))
			return false;
		v->pre = span(d, p);
	}
	if (p < end && *p == '+') {
		p++;
		if (!semver_idents(&p, end, false))
			return false;
	}
	return p == end;
}

static struct ed_str semver_next_ident(struct ed_str *rest)
{
	const char *end = rest->p + rest->len;
	const char *q = memchr(rest->p, '.', rest->len);

	if (!q)
		q = end;
	struct ed_str id = span(rest->p, q);
	*rest = q < end ? span(q + 1, end) : span(end, end);
	return id;
}

static int semver_cmp(struct ed_str a, struct ed_str b, bool *ok)
{
	struct semver va, vb;
	int r;

	*ok = semver_parse(a, &va) && semver_parse(b, &vb);
	if (!*ok)
		return 0;
	if ((r = num_cmp(va.major, vb.major)) != 0 || (r = num_cmp(va.minor, vb.minor)) != 0 ||
	    (r = num_cmp(va.patch, vb.patch)) != 0)
		return r;
	/* A pre-release sorts before its release; build metadata never counts. */
	if (!va.pre.len || !vb.pre.len)
		return (va.pre.len == 0) - (vb.pre.len == 0);
	while (va.pre.len && vb.pre.len) {
		struct ed_str ia = semver_next_ident(&va.pre), ib = semver_next_ident(&vb.pre);
		bool na = all_digits(ia), nb = all_digits(ib);
		if (na != nb)
			return na ? -1 : 1;
		r = na ? num_cmp(ia, ib) : str_cmp(ia, ib);
		if (r)
			return r;
	}
	return (va.pre.len > 0) - (vb.pre.len > 0);
}

/* ---- the table and lists of installed versions ---- */

struct manager {
	const char *name;
	/* Parses both; *ok false when either is not a version for this manager. */
	int (*cmp)(struct ed_str a, struct ed_str b, bool *ok);
};

static const struct manager managers[] = {
	{"dpkg", dpkg_cmp}, {"rpm", rpm_cmp}, {"apk", apk_cmp}, {"pypi", pep440_cmp}, {"npm", semver_cmp},
};

/* Splits the next element off a list "a, b, c"; false once the list is used up. */
static bool next_element(struct ed_str *rest, bool *done, struct ed_str *elem)
{
	if (*done)
		return false;
	for (size_t i = 0; i + 1 < rest->len; i++) {
		if (rest->p[i] == ',' && rest->p[i + 1] == ' ') {
			*elem = ed_str_of(rest->p, i);
			*rest = ed_str_of(rest->p + i + 2, rest->len - i - 2);
			return true;
		}
	}
	*elem = *rest;
	*done = true;
	return true;
}

/* The highest version listed in s, or false when one of them is unparseable. */
static bool list_max(const struct manager *m, const char *s, struct ed_str *max)
{
	struct ed_str rest = ed_str_of(s, strlen(s)), elem;
	bool done = false, have = false, ok;

	while (next_element(&rest, &done, &elem)) {
		if (elem.len == 0 || elem.len > ED_VERSION_MAX)
			return false;
		m->cmp(elem, elem, &ok);
		if (!ok)
			return false;
		if (!have || m->cmp(elem, *max, &ok) > 0)
			*max = elem;
		have = true;
	}
	return have;
}

int ed_version_cmp(const char *manager, const char *a, const char *b, bool *ok)
{
	const struct manager *m = NULL;
	struct ed_str ma, mb;
	bool unused, good;

	if (!ok)
		ok = &unused;
	*ok = false;
	if (!manager || !a || !b)
		return 0;
	for (size_t i = 0; i < sizeof(managers) / sizeof(managers[0]); i++)
		if (strcmp(managers[i].name, manager) == 0)
			m = &managers[i];
	if (!m || !list_max(m, a, &ma) || !list_max(m, b, &mb))
		return 0;
	int r = m->cmp(ma, mb, &good);
	if (!good)
		return 0;
	*ok = true;
	return r;
}
