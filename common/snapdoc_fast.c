/* SPDX-License-Identifier: MIT */
/*
 * The fast path of the snapshot document reader: an item written the way
 * envdrift writes it (snapdoc_write.c), read by hand in one pass over its
 * bytes. Anything else goes to the general path (jansson, snapdoc_read.c),
 * which reads the same item or names its problem.
 */
#include <string.h>

#include "ed/snapdoc.h"
#include "snapdoc_codec.h"

_Thread_local bool ed_snapdoc_fast_off;

struct tok {
	const char *s;
	size_t n;
};

enum field {
	F_KIND, F_KEY, F_FP, F_VALUE, F_FTYPE, F_MODE, F_OWNER, F_GROUP, F_TARGET,
	F_SIZE, F_MTIME, F_CTIME, F_INO, F_DEV, F_ERROR, F_ATTRS, F_N
};

#define NAMES(X) X("kind") X("key") X("fingerprint") X("value") X("ftype") X("mode") \
	X("owner") X("group") X("target") X("size") X("mtime_ns") X("ctime_ns") X("ino") \
	X("dev") X("error") X("attrs")
#define NAME(s) s,
#define LEN(s) sizeof(s) - 1,
static const char *const names[F_N] = {NAMES(NAME)};
static const size_t lens[F_N] = {NAMES(LEN)};

/* The integer fields; the others but attrs are strings. */
#define INT_FIELDS ((1u << F_MODE) | (1u << F_SIZE) | (1u << F_MTIME) | (1u << F_CTIME) | \
		    (1u << F_INO) | (1u << F_DEV))
/* Fields allowed only on an item with an ftype. */
#define FILE_FIELDS (INT_FIELDS | (1u << F_OWNER) | (1u << F_GROUP) | (1u << F_TARGET))

static void blanks(const char *p, size_t n, size_t *i)
{
	while (*i < n && (p[*i] == ' ' || p[*i] == '\t' || p[*i] == '\n' || p[*i] == '\r'))
		(*i)++;
}

/*
 * A string at p[*i] of printable ASCII without escapes: what jansson reads
 * and writes back byte for byte.
 */
static bool plain_str(const char *p, size_t n, size_t *i, struct tok *t)
{
	size_t j = *i + 1;
	if (*i >= n || p[*i] != '"')
		return false;
	for (; j < n; j++) {
		unsigned char c = (unsigned char)p[j];
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			return false;
	}
	if (j >= n)
		return false;
	t->s = p + *i + 1;
	t->n = j - *i - 1;
	*i = j + 1;
	return true;
}

/* An integer in its one JSON spelling that fits an int64 (jansson's json_int_t). */
static bool plain_int(const char *p, size_t n, size_t *i, long long *v)
{
	size_t j = *i;
	bool neg = j < n && p[j] == '-';
	unsigned long long x = 0;
	j += neg;
	size_t d0 = j;
	while (j < n && p[j] >= '0' && p[j] <= '9' && j - d0 < 20)
		x = x * 10 + (unsigned)(p[j++] - '0');
	size_t nd = j - d0;
	if (nd == 0 || nd > 19 || (p[d0] == '0' && (nd > 1 || neg)) || x > (unsigned long long)INT64_MAX)
		return false;
	if (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == '.' || p[j] == 'e' || p[j] == 'E'))
		return false;
	*v = neg ? -(long long)x : (long long)x;
	*i = j;
	return true;
}

static bool literal(const char *p, size_t n, size_t *i, const char *word)
{
	size_t len = strlen(word);
	if (n - *i < len || memcmp(p + *i, word, len) != 0)
		return false;
	*i += len;
	return true;
}

#define ATTRS_DEPTH 8
#define ATTRS_KEYS 32

/*
 * A compact JSON value (no blank anywhere, as json_dumps(JSON_COMPACT) writes
 * it) of plain strings, integers, literals, arrays and objects without a
 * repeated key: its text is what jansson would write back. *secret: the top
 * object's "secret" is true.
 */
static bool plain_value(const char *p, size_t n, size_t *i, int depth, bool *secret)
{
	struct tok t;
	long long v;
	char c = *i < n ? p[*i] : 0;
	if (c == '"')
		return plain_str(p, n, i, &t);
	if (c == '-' || (c >= '0' && c <= '9'))
		return plain_int(p, n, i, &v);
	if (c == 't')
		return literal(p, n, i, "true");
	if (c == 'f')
		return literal(p, n, i, "false");
	if (c == 'n')
		return literal(p, n, i, "null");
	if ((c != '[' && c != '{') || depth >= ATTRS_DEPTH)
		return false;
	bool obj = c == '{';
	char close = obj ? '}' : ']';
	struct tok keys[ATTRS_KEYS];
	size_t nkeys = 0;
	(*i)++;
	if (*i < n && p[*i] == close) {
		(*i)++;
		return true;
	}
	for (;;) {
		if (obj) {
			if (nkeys == ATTRS_KEYS || !plain_str(p, n, i, &keys[nkeys]))
				return false;
			for (size_t k = 0; k < nkeys; k++)
				if (keys[k].n == keys[nkeys].n &&
				    memcmp(keys[k].s, keys[nkeys].s, keys[k].n) == 0)
					return false; /* jansson refuses it: let it say so */
			if (*i >= n || p[*i] != ':')
				return false;
			(*i)++;
			if (depth == 0 && secret && keys[nkeys].n == 6 &&
			    memcmp(keys[nkeys].s, "secret", 6) == 0)
				*secret = n - *i >= 4 && memcmp(p + *i, "true", 4) == 0;
			nkeys++;
		}
		if (!plain_value(p, n, i, depth + 1, NULL))
			return false;
		if (*i < n && p[*i] == ',') {
			(*i)++;
			continue;
		}
		if (*i < n && p[*i] == close) {
			(*i)++;
			return true;
		}
		return false;
	}
}

static int field_of(const struct tok *t)
{
	for (int f = 0; f < F_N; f++)
		if (lens[f] == t->n && names[f][0] == t->s[0] && memcmp(names[f], t->s, t->n) == 0)
			return f;
	return -1;
}

size_t ed_snapdoc_fast_item(const char *p, size_t n, struct ed_buf *sb, bool want_attrs,
			    struct ed_item *it)
{
	struct tok str[F_N] = {{0}};
	long long num[F_N] = {0};
	unsigned seen = 0;
	bool secret = false;
	size_t i = 0;
	if (ed_snapdoc_fast_off)
		return 0;
	blanks(p, n, &i);
	if (i >= n || p[i] != '{')
		return false;
	i++;
	for (;;) {
		struct tok name;
		blanks(p, n, &i);
		if (!plain_str(p, n, &i, &name))
			return false;
		int f = field_of(&name);
		if (f < 0 || (seen & (1u << f)))
			return false;
		seen |= 1u << f;
		blanks(p, n, &i);
		if (i >= n || p[i] != ':')
			return false;
		i++;
		blanks(p, n, &i);
		size_t v0 = i;
		if (f == F_ATTRS) {
			if (i >= n || p[i] != '{' || !plain_value(p, n, &i, 0, &secret))
				return false;
			str[f] = (struct tok){p + v0, i - v0};
		} else if (INT_FIELDS & (1u << f)) {
			if (!plain_int(p, n, &i, &num[f]))
				return false;
		} else if (!plain_str(p, n, &i, &str[f])) {
			return false;
		}
		blanks(p, n, &i);
		if (i < n && p[i] == ',') {
			i++;
			continue;
		}
		if (i < n && p[i] == '}') {
			i++;
			break;
		}
		return false;
	}

	/* Every check of item_of() in snapdoc_read.c, in the same terms. */
	memset(it, 0, sizeof(*it));
	if (!(seen & (1u << F_KIND)) || !(seen & (1u << F_KEY)) || !(seen & (1u << F_FP)))
		return false;
	for (size_t k = 0; k < ed_snapdoc_nkinds; k++)
		if (strlen(ed_snapdoc_kinds[k]) == str[F_KIND].n &&
		    memcmp(ed_snapdoc_kinds[k], str[F_KIND].s, str[F_KIND].n) == 0)
			it->kind = ed_snapdoc_kinds[k];
	if (!it->kind || str[F_KEY].n == 0 || str[F_KEY].n > ED_SNAPDOC_KEY_MAX ||
	    str[F_VALUE].n > ED_SNAPDOC_VALUE_MAX || str[F_ERROR].n > ED_SNAPDOC_TEXT_MAX ||
	    str[F_OWNER].n > ED_SNAPDOC_TEXT_MAX || str[F_GROUP].n > ED_SNAPDOC_TEXT_MAX ||
	    str[F_TARGET].n > ED_SNAPDOC_TEXT_MAX ||
	    !ed_snapdoc_fp_parse(str[F_FP].s, str[F_FP].n, &it->fp))
		return false;
	if (seen & (1u << F_FTYPE)) {
		char ft[16];
		if (str[F_FTYPE].n >= sizeof(ft) || (seen & INT_FIELDS) != INT_FIELDS)
			return false;
		memcpy(ft, str[F_FTYPE].s, str[F_FTYPE].n);
		ft[str[F_FTYPE].n] = '\0';
		if ((it->ftype = ed_ftype_parse(ft)) == ED_FT_NONE || num[F_MODE] < 0 ||
		    num[F_MODE] > 07777 || num[F_SIZE] < 0)
			return false;
		it->mode = (uint32_t)num[F_MODE];
		it->size = num[F_SIZE];
		it->mtime_ns = num[F_MTIME];
		it->ctime_ns = num[F_CTIME];
		it->ino = (uint64_t)num[F_INO];
		it->dev = (uint64_t)num[F_DEV];
	} else if (seen & FILE_FIELDS) {
		return false;
	}
	if (secret && (seen & (1u << F_VALUE)) && strcmp(it->kind, ED_KIND_CONFIG) == 0)
		return false;

	/* The strings, NUL-terminated, in sb; pointers once sb no longer moves. */
	static const enum field copied[] = {F_KEY, F_VALUE, F_OWNER, F_GROUP, F_TARGET, F_ERROR,
					    F_ATTRS};
	size_t off[F_N];
	ed_buf_reset(sb);
	for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++) {
		enum field f = copied[k];
		off[f] = sb->len;
		if ((seen & (1u << f)) &&
		    (ed_buf_add(sb, str[f].s, str[f].n) || ed_buf_addc(sb, '\0')))
			return false;
	}
	const char *b = sb->p;
#define STR(f) ((seen & (1u << (f))) ? b + off[f] : NULL)
	it->key = b + off[F_KEY];
	it->key_len = str[F_KEY].n;
	it->value = STR(F_VALUE);
	it->error = STR(F_ERROR);
	if (it->ftype != ED_FT_NONE) {
		it->owner = STR(F_OWNER);
		it->group = STR(F_GROUP);
		it->target = STR(F_TARGET);
	}
	if (seen & (1u << F_ATTRS))
		it->attrs = want_attrs ? b + off[F_ATTRS] : "{}";
#undef STR
	return i;
}
