/* SPDX-License-Identifier: MIT */
/*
 * Flat key=value configs: Java .properties files, and the shell-like rest
 * (.env, sysctl.conf, /etc/default files, os-release). One scanner per dialect
 * fills entries (decoded key and value, and the value's byte range for
 * redaction) and the comment lines; parse and redact share them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

struct kentry {
	size_t key, keylen; /* decoded, in strs */
	size_t val, vallen; /* decoded, in strs */
	size_t line;        /* where the entry starts, 1-based */
	size_t order;
	size_t vs, ve;      /* the value's bytes in the text (BOM skipped) */
};

struct krange {
	size_t start, end; /* a comment line: its comment character to the line end */
};

struct kscan {
	const char *p;
	size_t len;
	struct kentry *v;
	size_t n, cap;
	struct krange *comments;
	size_t ncomments, capcomments;
	struct ed_buf strs;
	struct ed_buf logical;   /* properties: the current logical line */
	size_t bad_line;         /* first malformed line */
	const char *bad_what;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static int add_comment(struct kscan *s, size_t start, size_t end)
{
	if (s->ncomments == s->capcomments) {
		size_t cap = s->capcomments ? 2 * s->capcomments : 16;
		struct krange *v = realloc(s->comments, cap * sizeof(*v));
		if (!v)
			return -1;
		s->comments = v;
		s->capcomments = cap;
	}
	s->comments[s->ncomments++] = (struct krange){start, end};
	return 0;
}

/* Starts an entry whose key is key (keylen bytes); its value is appended to strs next. */
static int add_entry(struct kscan *s, const char *key, size_t keylen, size_t line)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct kentry *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	struct kentry *e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	e->key = s->strs.len;
	e->keylen = keylen;
	if (ed_buf_add(&s->strs, key, keylen))
		return -1;
	e->val = s->strs.len;
	e->line = line;
	e->order = s->n++;
	return 0;
}

/* Scanner results: 0 fine (s->bad_line may be set: stop), -1 out of memory. */
static int bad(struct kscan *s, size_t line, const char *what)
{
	s->bad_line = line;
	s->bad_what = what;
	return 0;
}

/* ---- shell-like: .env, sysctl.conf ---- */

static int scan_shell(struct kscan *s)
{
	const char *p = s->p;
	size_t line = 1;

	for (size_t pos = 0; pos < s->len && !s->bad_line;) {
		const char *nl = memchr(p + pos, '\n', s->len - pos);
		size_t le = nl ? (size_t)(nl - p) : s->len;
		size_t e = le > pos && p[le - 1] == '\r' ? le - 1 : le;
		size_t i = pos, start_line = line;
		size_t next = le + 1;

		while (i < e && blank(p[i]))
			i++;
		if (i == e) {
			pos = next;
			line++;
			continue;
		}
		if (p[i] == '#' || p[i] == ';') {
			if (add_comment(s, i, e))
				return -1;
			pos = next;
			line++;
			continue;
		}
		if (e - i > 7 && memcmp(p + i, "export", 6) == 0 && blank(p[i + 6])) {
			i += 7;
			while (i < e && blank(p[i]))
				i++;
		}
		if (i < e && p[i] == '-') /* sysctl: ignore a failure to set this key */
			i++;
		size_t ks = i;
		while (i < e && !blank(p[i]) && p[i] != '=' && p[i] != ':')
			i++;
		size_t ke = i;
		while (i < e && blank(p[i]))
			i++;
		if (ke == ks)
			return bad(s, line, "no key before '=' or ':'");
		if (i >= e || (p[i] != '=' && p[i] != ':'))
			return bad(s, line, "no '=' or ':' after the key");
		i++;
		while (i < e && blank(p[i]))
			i++;
		if (add_entry(s, p + ks, ke - ks, start_line))
			return -1;
		struct kentry *en = &s->v[s->n - 1];
		if (i < e && (p[i] == '"' || p[i] == '\'')) {
			char q = p[i];
			size_t j = i + 1;
			en->vs = j;
			for (;;) {
				if (j >= s->len)
					return bad(s, start_line, "unterminated quoted value");
				char c = p[j];
				if (c == q)
					break;
				if (c == '\n')
					line++;
				if (c == '\r' && j + 1 < s->len && p[j + 1] == '\n') {
					j++; /* CRLF inside quotes reads as LF */
					continue;
				}
				if (c == '\\' && q == '"' && j + 1 < s->len) {
					char d = p[j + 1];
					const char *map = strchr("\\\"$`nrt", d);
					if (map && d) {
						static const char to[] = "\\\"$`\n\r\t";
						if (ed_buf_addc(&s->strs, to[map - "\\\"$`nrt"]))
							return -1;
						j += 2;
						continue;
					}
					if (d == '\n' || (d == '\r' && j + 2 < s->len && p[j + 2] == '\n')) {
						/* backslash-newline: the shell joins the lines */
						j += d == '\n' ? 2 : 3;
						line++;
						continue;
					}
				}
				if (ed_buf_addc(&s->strs, c))
					return -1;
				j++;
			}
			en->ve = j;
			en->vallen = s->strs.len - en->val;
			/* After the closing quote: whitespace, then the line's end or a comment. */
			const char *nl2 = memchr(p + j, '\n', s->len - j);
			le = nl2 ? (size_t)(nl2 - p) : s->len;
			e = le > j && p[le - 1] == '\r' ? le - 1 : le;
			j++;
			while (j < e && blank(p[j]))
				j++;
			if (j < e && p[j] != '#')
				return bad(s, line, "text after the closing quote");
			next = le + 1;
		} else {
			size_t j = i;
			while (j < e && !(p[j] == '#' && j > pos && blank(p[j - 1])))
				j++;
			while (j > i && blank(p[j - 1]))
				j--;
			en->vs = i;
			en->ve = j;
			if (ed_buf_add(&s->strs, p + i, j - i))
				return -1;
			en->vallen = j - i;
		}
		pos = next;
		line++;
	}
	return 0;
}

/* ---- java.util.Properties ---- */

static bool pblank(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

static bool u4(const char *t, size_t len, size_t i, uint32_t *cp)
{
	if (len - i < 4)
		return false;
	*cp = 0;
	for (size_t k = 0; k < 4; k++) {
		int h = ed_hex_value(t[i + k]);
		if (h < 0)
			return false;
		*cp = (*cp << 4) | (uint32_t)h;
	}
	return true;
}

/* Decodes t[a, b) with Properties escapes into strs. 0, 1 malformed \u, -1 out of memory. */
static int unescape(struct kscan *s, const char *t, size_t a, size_t b)
{
	for (size_t i = a; i < b;) {
		char c = t[i];
		if (c != '\\') {
			if (ed_buf_addc(&s->strs, c))
				return -1;
			i++;
			continue;
		}
		if (++i >= b)
			break; /* a lone backslash at the very end is dropped */
		c = t[i++];
		if (c == 'u') {
			uint32_t cp, lo;
			if (!u4(t, b, i, &cp))
				return 1;
			i += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return 1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (b - i < 6 || t[i] != '\\' || t[i + 1] != 'u' || !u4(t, b, i + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return 1;
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (ed_buf_add_cp(&s->strs, cp))
				return -1;
			continue;
		}
		char d = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'f' ? '\f' : c;
		if (ed_buf_addc(&s->strs, d))
			return -1;
	}
	return 0;
}

/* End of the natural line at i (its terminator excluded) and the start of the next one. */
static size_t natural_end(const char *p, size_t len, size_t i, size_t *next)
{
	while (i < len && p[i] != '\n' && p[i] != '\r')
		i++;
	*next = i < len ? i + 1 + (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') : len;
	return i;
}

struct seg {
	size_t raw;     /* where the piece starts in the text */
	size_t logical; /* where it starts in the logical line */
};

static int scan_properties(struct kscan *s)
{
	const char *p = s->p;
	struct seg *segs = NULL;
	size_t nsegs = 0, capsegs = 0;
	size_t line = 1;
	int rc = 0;

	for (size_t pos = 0; pos < s->len && !s->bad_line;) {
		size_t next, i = pos;
		size_t e = natural_end(p, s->len, pos, &next);
		size_t start_line = line;
		while (i < e && pblank(p[i]))
			i++;
		if (i == e || p[i] == '#' || p[i] == '!') {
			if (i < e && add_comment(s, i, e))
				goto nomem;
			pos = next;
			line++;
			continue;
		}
		/* Gather the logical line: pieces joined where a line ends in an odd number of '\'. */
		ed_buf_reset(&s->logical);
		nsegs = 0;
		size_t last_end;
		for (;;) {
			size_t bs = 0;
			while (bs < e - i && p[e - 1 - bs] == '\\')
				bs++;
			bool more = bs % 2 == 1;
			size_t piece_end = more ? e - 1 : e;
			if (nsegs == capsegs) {
				size_t cap = capsegs ? 2 * capsegs : 8;
				struct seg *v = realloc(segs, cap * sizeof(*v));
				if (!v)
					goto nomem;
				segs = v;
				capsegs = cap;
			}
			segs[nsegs++] = (struct seg){i, s->logical.len};
			if (ed_buf_add(&s->logical, p + i, piece_end - i))
				goto nomem;
			last_end = piece_end;
			pos = next;
			line++;
			if (!more || pos >= s->len)
				break;
			i = pos;
			e = natural_end(p, s->len, pos, &next);
			while (i < e && pblank(p[i]))
				i++;
		}
		const char *t = ed_buf_str(&s->logical);
		size_t L = s->logical.len, k = 0;
		while (k < L && t[k] != '=' && t[k] != ':' && !pblank(t[k]))
			k += t[k] == '\\' ? 2 : 1;
		if (k > L)
			k = L;
		size_t ke = k;
		while (k < L && pblank(t[k]))
			k++;
		if (k < L && (t[k] == '=' || t[k] == ':'))
			k++;
		while (k < L && pblank(t[k]))
			k++;
		/* The key first (decoded into strs), then the value right after it. */
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 32;
			struct kentry *v = realloc(s->v, cap * sizeof(*v));
			if (!v)
				goto nomem;
			s->v = v;
			s->cap = cap;
		}
		struct kentry *en = &s->v[s->n];
		memset(en, 0, sizeof(*en));
		en->key = s->strs.len;
		int r = unescape(s, t, 0, ke);
		if (r < 0)
			goto nomem;
		en->keylen = s->strs.len - en->key;
		if (r == 0 && memchr(ed_buf_str(&s->strs) + en->key, '\0', en->keylen))
			r = 2;
		en->val = s->strs.len;
		if (r == 0 && (r = unescape(s, t, k, L)) < 0)
			goto nomem;
		if (r) {
			bad(s, start_line, r == 2 ? "key with a NUL character" : "malformed \\uXXXX escape");
			break;
		}
		en->vallen = s->strs.len - en->val;
		en->line = start_line;
		en->order = s->n++;
		/* The value's bytes in the text: from where it starts to the logical line's end. */
		size_t j = 0;
		while (j + 1 < nsegs && segs[j + 1].logical <= k)
			j++;
		en->vs = k < L ? segs[j].raw + (k - segs[j].logical) : last_end;
		en->ve = last_end;
	}
	goto out;
nomem:
	rc = -1;
out:
	free(segs);
	return rc;
}

/* ---- parse and redact ---- */

static bool is_properties(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n >= 11 && strcasecmp(path + n - 11, ".properties") == 0;
}

static void kscan_release(struct kscan *s)
{
	free(s->v);
	free(s->comments);
	ed_buf_release(&s->strs);
	ed_buf_release(&s->logical);
}

/* Scans text; *good when it is well-formed (else a warning went to sink, if any). */
static enum ed_code scan(struct kscan *s, struct ed_str text, const char *path,
			 struct ed_sink *sink, bool *good, struct ed_err *err)
{
	size_t bom = ed_utf8_bom(text.p, text.len);
	size_t badl;
	bool nul;

	*good = false;
	s->p = text.p + bom;
	s->len = text.len - bom;
	if ((badl = ed_cfg_bad_text_line(s->p, s->len, &nul))) {
		if (sink)
			ed_sink_warn(sink, "%s:%zu: %s", path, badl, nul ? "NUL byte" : "not valid UTF-8");
		return ED_OK;
	}
	if ((is_properties(path) ? scan_properties(s) : scan_shell(s)) < 0)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	if (s->bad_line) {
		if (sink)
			ed_sink_warn(sink, "%s:%zu: %s", path, s->bad_line, s->bad_what);
		return ED_OK;
	}
	*good = true;
	return ED_OK;
}

struct kref {
	const struct kentry *e;
	const char *strs;
};

static int kref_cmp(const void *x, const void *y)
{
	const struct kref *a = x, *b = y;
	size_t al = a->e->keylen, bl = b->e->keylen;
	int r = memcmp(a->strs + a->e->key, b->strs + b->e->key, al < bl ? al : bl);
	if (!r)
		r = (al > bl) - (al < bl);
	if (!r)
		r = (a->e->order > b->e->order) - (a->e->order < b->e->order);
	return r;
}

static bool same_key(const struct kref *a, const struct kref *b)
{
	return a->e->keylen == b->e->keylen &&
	       memcmp(a->strs + a->e->key, b->strs + b->e->key, a->e->keylen) == 0;
}

/* A key for a message: at most 100 bytes, control characters as '?'. */
static void key_for_message(const char *k, size_t len, char out[104])
{
	size_t n = len < 100 ? len : 100;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)k[i] < 0x20 || k[i] == 0x7f ? '?' : k[i];
	strcpy(out + n, len > 100 ? "..." : "");
}

enum ed_code ed_config_keyvalue_parse(struct ed_str text, const char *path,
				      const struct ed_secrets *sec, struct ed_sink *sink,
				      size_t *nsecrets, struct ed_err *err)
{
	struct kscan s = {.strs = ED_BUF_INIT, .logical = ED_BUF_INIT};
	struct ed_cfg_out o;
	struct ed_buf value = ED_BUF_INIT;
	struct kref *refs = NULL;
	struct ed_str t = {text.p ? text.p : "", text.p ? text.len : 0};
	enum ed_code rc;
	bool good;

	if (nsecrets)
		*nsecrets = 0;
	rc = ed_cfg_out_init(&o, path, sec, sink, err);
	if (rc == ED_OK)
		rc = scan(&s, t, path, sink, &good, err);
	if (rc != ED_OK || !good)
		goto out;
	refs = calloc(s.n ? s.n : 1, sizeof(*refs));
	if (!refs) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < s.n; i++)
		refs[i] = (struct kref){&s.v[i], ed_buf_str(&s.strs)};
	qsort(refs, s.n, sizeof(*refs), kref_cmp);
	size_t base = o.key.len;
	for (size_t i = 0, j; i < s.n && rc == ED_OK; i = j) {
		for (j = i + 1; j < s.n && same_key(&refs[i], &refs[j]); j++) {
			char name[104];
			key_for_message(refs[j].strs + refs[j].e->key, refs[j].e->keylen, name);
			ed_sink_warn(sink, "%s:%zu: duplicate key '%s' (the last value wins)", path,
				     refs[j].e->line, name);
		}
		const struct kentry *e = refs[j - 1].e; /* the last one in the file */
		const char *k = refs[j - 1].strs + e->key;
		ed_buf_reset(&value);
		if (ed_cfg_json_string(&value, refs[j - 1].strs + e->val, e->vallen) ||
		    ed_jsonptr_append(&o.key, k, e->keylen)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
			break;
		}
		rc = ed_cfg_emit(&o, value.p, value.len, ed_secret_name_matches(sec, k, e->keylen), err);
		ed_cfg_truncate(&o.key, base);
	}
	if (nsecrets)
		*nsecrets = o.secrets;
out:
	free(refs);
	ed_buf_release(&value);
	kscan_release(&s);
	ed_cfg_out_release(&o);
	return rc;
}

enum ed_code ed_cfg_keyvalue_redact(struct ed_str text, const char *path,
				    const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				    struct ed_err *err)
{
	struct kscan s = {.strs = ED_BUF_INIT, .logical = ED_BUF_INIT};
	struct ed_cfg_edits edits = ED_CFG_EDITS_INIT;
	size_t bom = ed_utf8_bom(text.p, text.len);
	enum ed_code rc;
	bool good;
	int r = 0;

	*ok = false;
	rc = scan(&s, text, path, NULL, &good, err);
	if (rc != ED_OK || !good)
		goto out;
	/* Every occurrence of a secret key, not only the last: earlier values are secrets too. */
	for (size_t i = 0; i < s.n && !r; i++) {
		const struct kentry *e = &s.v[i];
		if (e->ve > e->vs && ed_secret_name_matches(sec, ed_buf_str(&s.strs) + e->key, e->keylen))
			r = ed_cfg_edits_mark(&edits, bom + e->vs, bom + e->ve);
	}
	for (size_t i = 0; i < s.ncomments && !r; i++) {
		const struct krange *c = &s.comments[i];
		size_t vs, ve;
		if (ed_cfg_comment_secret(sec, s.p + c->start + 1, c->end - c->start - 1, &vs, &ve))
			r = ed_cfg_edits_mark(&edits, bom + c->start + 1 + vs, bom + c->start + 1 + ve);
	}
	if (!r)
		r = ed_cfg_edits_apply(&edits, text, out);
	if (r < 0)
		rc = ed_err_set(err, ED_NOMEM, "out of memory redacting %s", path);
	*ok = r == 0;
out:
	kscan_release(&s);
	ed_cfg_edits_release(&edits);
	return rc;
}
