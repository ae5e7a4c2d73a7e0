/* SPDX-License-Identifier: MIT */
/*
 * INI configs with libinih. libinih reads lines through our reader, which
 * classifies each line itself first (the same rules, plus indentation-relative
 * continuation and names without values) and hands libinih a normalised line;
 * every handler call is checked against that classification, so a line that
 * libinih would truncate or read otherwise makes the file unreadable instead
 * of silently wrong. The classification also gives redaction its byte ranges.
 */
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"
#include "ed/ini.h"

/*
 * libinih's section and continued-name buffers (MAX_SECTION, MAX_NAME in its
 * ini.c): it truncates to 49 bytes what passes through them. We read the full
 * names from the text and expect exactly that truncation from libinih.
 */
#define INIH_NAME_BUF 50

enum lkind { L_BLANK, L_COMMENT, L_SECTION, L_BADSECTION, L_PAIR, L_NOVALUE, L_CONT };

/* One physical line as libinih would read it; offsets into the text (BOM skipped). */
struct iline {
	enum lkind kind;
	size_t start, end; /* the line without surrounding whitespace */
	size_t a, b;       /* section or name */
	size_t vs, ve;     /* value of a pair or continuation */
};

struct ientry {
	size_t sec, seclen;   /* in the text */
	size_t name, namelen; /* in the text */
	size_t val, vallen;   /* in the values buffer */
	bool null;            /* a name without a value */
	size_t order;
};

struct iparse {
	const char *p;
	size_t len;
	const struct ed_secrets *sec;
	struct ed_cfg_edits *edits; /* redaction: secret ranges go here; NULL when parsing */
	size_t bom;                 /* bytes skipped before p, added to edit offsets */
	/* the reader's state, mirroring libinih's */
	size_t pos;                 /* start of the next line */
	size_t lineno;              /* lines read so far */
	size_t secs, seclen;        /* current section */
	bool have_key;              /* a name that deeper-indented lines continue */
	size_t key, keylen, key_ind;
	struct iline cur;           /* the line libinih is reading */
	bool expect_call, called;   /* should it call the handler for cur, did it */
	struct ed_buf feed;         /* the line handed to libinih */
	/* what went wrong, first occurrence */
	size_t too_long, mismatch, bad_section;
	int bufsize;                /* libinih's line buffer, as its reader saw it */
	bool oom;
	/* results */
	struct ientry *v;
	size_t n, cap;
	struct ed_buf vals;
};

/* libinih's ini_find_chars_or_comment over [i, e): the first of chars, or ';' after whitespace. */
static size_t find(const char *p, size_t i, size_t e, const char *chars)
{
	return i + ed_ini_find(p + i, e - i, chars);
}

static size_t rstrip(const char *p, size_t a, size_t e)
{
	while (e > a && ed_ini_blank(p[e - 1]))
		e--;
	return e;
}

static bool is_secret(const struct iparse *ip, size_t name, size_t len)
{
	return ed_secret_name_matches(ip->sec, ip->p + ip->secs, ip->seclen) ||
	       ed_secret_name_matches(ip->sec, ip->p + name, len);
}

static void scan_line(struct iparse *ip, size_t ls, size_t le, struct iline *l)
{
	const char *p = ip->p;
	size_t i = ls, e = le;

	while (i < e && ed_ini_blank(p[i]))
		i++;
	e = rstrip(p, i, e);
	memset(l, 0, sizeof(*l));
	l->start = i;
	l->end = e;
	size_t ind = i - ls;
	if (i == e) {
		l->kind = L_BLANK;
		return;
	}
	if (p[i] == ';' || p[i] == '#') {
		l->kind = L_COMMENT;
		return;
	}
	if (ip->have_key && ind > ip->key_ind) {
		/* libinih 55 (Debian 12) strips no inline comment from a continuation line. */
		l->kind = L_CONT;
		l->vs = i;
		l->ve = e;
		return;
	}
	if (p[i] == '[') {
		size_t j = find(p, i + 1, e, "]");
		if (j < e && p[j] == ']') {
			/* "[ req ]" is the section "req", as OpenSSL reads it. */
			l->kind = L_SECTION;
			l->a = i + 1;
			l->b = j;
			while (l->a < l->b && ed_ini_blank(p[l->a]))
				l->a++;
			l->b = rstrip(p, l->a, l->b);
			ip->secs = l->a;
			ip->seclen = l->b - l->a;
			ip->have_key = false;
		} else {
			l->kind = L_BADSECTION;
		}
		return;
	}
	size_t j = find(p, i, e, "=:");
	l->a = i;
	l->b = rstrip(p, i, j);
	if (j < e && (p[j] == '=' || p[j] == ':')) {
		l->kind = L_PAIR;
		l->ve = find(p, j + 1, e, NULL);
		l->vs = j + 1;
		while (l->vs < l->ve && ed_ini_blank(p[l->vs]))
			l->vs++;
		l->ve = rstrip(p, l->vs, l->ve);
	} else {
		l->kind = L_NOVALUE;
	}
	ip->have_key = l->b > l->a;
	ip->key = l->a;
	ip->keylen = l->b - l->a;
	ip->key_ind = ind;
}

/* Redaction: the value of a secret pair, or the value of a commented-out one. */
static void note_secret(struct iparse *ip, const struct iline *l)
{
	size_t vs = l->vs, ve = l->ve;
	bool secret = false;
	if (l->kind == L_PAIR)
		secret = is_secret(ip, l->a, l->b - l->a);
	else if (l->kind == L_CONT)
		secret = is_secret(ip, ip->key, ip->keylen);
	else if (l->kind == L_COMMENT &&
		 ed_cfg_comment_secret(ip->sec, ip->p + l->start + 1, l->end - l->start - 1, &vs, &ve)) {
		vs += l->start + 1;
		ve += l->start + 1;
		secret = true;
	}
	if (secret && ve > vs && ed_cfg_edits_mark(ip->edits, ip->bom + vs, ip->bom + ve))
		ip->oom = true;
}

/* The line libinih reads, without "\n": stripped, but continuations; a lone name gets "=". */
static int make_feed(struct iparse *ip, const struct iline *l)
{
	struct ed_buf *f = &ip->feed;
	ed_buf_reset(f);
	switch (l->kind) {
	case L_BLANK:
	case L_COMMENT:
		break;
	case L_CONT:
		/* One blank is indentation enough for libinih, whose buffer it spares. */
		if (ed_buf_addc(f, ' ') || ed_buf_add(f, ip->p + l->start, l->end - l->start))
			return -1;
		break;
	case L_NOVALUE:
		if (ed_buf_add(f, ip->p + l->a, l->b - l->a) || ed_buf_addc(f, '='))
			return -1;
		break;
	case L_SECTION:
		if (ed_buf_addc(f, '[') || ed_buf_add(f, ip->p + l->a, l->b - l->a) ||
		    ed_buf_addc(f, ']'))
			return -1;
		break;
	default:
		if (ed_buf_add(f, ip->p + l->start, l->end - l->start))
			return -1;
	}
	return 0;
}

static char *reader(char *str, int num, void *stream)
{
	struct iparse *ip = stream;

	if (ip->expect_call && !ip->called && !ip->mismatch)
		ip->mismatch = ip->lineno;
	ip->expect_call = false;
	const char *line;
	size_t n;
	if (ip->oom || ip->too_long || !ed_next_line(ip->p, ip->len, &ip->pos, &line, &n))
		return NULL;
	size_t ls = (size_t)(line - ip->p);
	ip->lineno++;
	scan_line(ip, ls, ls + n, &ip->cur);
	if (ip->cur.kind == L_BADSECTION && !ip->bad_section)
		ip->bad_section = ip->lineno;
	if (ip->edits)
		note_secret(ip, &ip->cur);
	if (make_feed(ip, &ip->cur)) {
		ip->oom = true;
		return NULL;
	}
	ip->bufsize = num;
	/* libinih needs the line, its '\n' and a NUL in num bytes; longer lines it truncates. */
	if (!ed_ini_feed(str, num, ed_buf_str(&ip->feed), ip->feed.len)) {
		ip->too_long = ip->lineno;
		return NULL;
	}
	ip->expect_call = ip->cur.kind == L_PAIR || ip->cur.kind == L_NOVALUE || ip->cur.kind == L_CONT;
	ip->called = false;
	return str;
}

static bool same(const char *s, const char *p, size_t len)
{
	return strlen(s) == len && memcmp(s, p, len) == 0;
}

/* Section and continued names pass through 50-byte buffers in libinih: it sees 49 bytes. */
static bool same_cut(const char *s, const char *p, size_t len)
{
	return same(s, p, len < INIH_NAME_BUF - 1 ? len : INIH_NAME_BUF - 1);
}

static int add_entry(struct iparse *ip, size_t name, size_t namelen, const char *val, size_t vallen,
		     bool null)
{
	if (ip->n == ip->cap) {
		size_t cap = ip->cap ? 2 * ip->cap : 32;
		struct ientry *v = realloc(ip->v, cap * sizeof(*v));
		if (!v)
			return -1;
		ip->v = v;
		ip->cap = cap;
	}
	size_t off = ip->vals.len;
	if (ed_buf_add(&ip->vals, val, vallen))
		return -1;
	ip->v[ip->n] = (struct ientry){ip->secs, ip->seclen, name, namelen, off, vallen, null, ip->n};
	ip->n++;
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct iparse *ip = user;
	const struct iline *l = &ip->cur;
	size_t kn = l->kind == L_CONT ? ip->key : l->a;
	size_t kl = l->kind == L_CONT ? ip->keylen : l->b - l->a;
	const char *v = l->kind == L_NOVALUE ? "" : ip->p + l->vs;
	size_t vl = l->kind == L_NOVALUE ? 0 : l->ve - l->vs;

	bool cont = l->kind == L_CONT;
	if (!ip->expect_call || ip->called || !same_cut(section, ip->p + ip->secs, ip->seclen) ||
	    !(cont ? same_cut(name, ip->p + kn, kl) : same(name, ip->p + kn, kl)) ||
	    !same(value, v, vl)) {
		if (!ip->mismatch)
			ip->mismatch = ip->lineno;
		return 1;
	}
	ip->called = true;
	/* After a mismatch the file is refused: record nothing more (a continuation needs its entry). */
	if (ip->oom || ip->edits || ip->mismatch)
		return 1;
	if (l->kind != L_CONT) {
		if (add_entry(ip, kn, kl, v, vl, l->kind == L_NOVALUE))
			ip->oom = true;
		return 1;
	}
	/* A continuation: its entry is the last one, whose value ends the buffer. */
	struct ientry *e = &ip->v[ip->n - 1];
	if (ed_buf_addc(&ip->vals, '\n') || ed_buf_add(&ip->vals, v, vl)) {
		ip->oom = true;
		return 1;
	}
	e->null = false;
	e->vallen += 1 + vl;
	return 1;
}

static void iparse_release(struct iparse *ip)
{
	free(ip->v);
	ed_buf_release(&ip->vals);
	ed_buf_release(&ip->feed);
}

/*
 * Reads text; *good when it was read exactly (else a warning went to sink,
 * which may be NULL). ED_NOMEM only.
 */
static enum ed_code run(struct iparse *ip, struct ed_str text, const char *path,
			struct ed_sink *sink, bool *good, struct ed_err *err)
{
	bool nul;
	size_t bad;

	*good = false;
	ip->bom = ed_utf8_bom(text.p, text.len);
	ip->p = text.p + ip->bom;
	ip->len = text.len - ip->bom;
	if ((bad = ed_cfg_bad_text_line(ip->p, ip->len, &nul))) {
		if (sink)
			ed_sink_warn(sink, "%s:%zu: %s", path, bad, nul ? "NUL byte" : "not valid UTF-8");
		return ED_OK;
	}
	int r = ini_parse_stream(reader, ip, handler, ip);
	if (ip->expect_call && !ip->called && !ip->mismatch)
		ip->mismatch = ip->lineno;
	if (ip->oom || r == -2)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory reading INI", path);
	if (ip->too_long) {
		if (sink)
			ed_sink_warn(sink, "%s:%zu: line longer than libinih's limit of %d bytes", path,
				     ip->too_long, ip->bufsize - 2);
	} else if (ip->bad_section) {
		if (sink)
			ed_sink_warn(sink, "%s:%zu: section header without ']'", path, ip->bad_section);
	} else if (ip->mismatch || r != 0) {
		if (sink)
			ed_sink_warn(sink, "%s:%zu: libinih reads this line otherwise", path,
				     ip->mismatch ? ip->mismatch : (size_t)r);
	} else {
		*good = true;
	}
	return ED_OK;
}

struct sorted {
	const struct ientry *e;
	const char *p; /* the text */
};

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	if (r)
		return r;
	return (al > bl) - (al < bl);
}

static int sorted_cmp(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;
	int r = bytes_cmp(a->p + a->e->sec, a->e->seclen, b->p + b->e->sec, b->e->seclen);
	if (!r)
		r = bytes_cmp(a->p + a->e->name, a->e->namelen, b->p + b->e->name, b->e->namelen);
	if (!r)
		r = (a->e->order > b->e->order) - (a->e->order < b->e->order);
	return r;
}

static bool same_key(const struct sorted *a, const struct sorted *b)
{
	return bytes_cmp(a->p + a->e->sec, a->e->seclen, b->p + b->e->sec, b->e->seclen) == 0 &&
	       bytes_cmp(a->p + a->e->name, a->e->namelen, b->p + b->e->name, b->e->namelen) == 0;
}

static int add_value(struct ed_buf *out, const struct iparse *ip, const struct ientry *e)
{
	if (e->null)
		return ed_buf_adds(out, "null");
	return ed_cfg_json_string(out, ip->vals.p ? ip->vals.p + e->val : "", e->vallen);
}

enum ed_code ed_config_ini_parse(struct ed_str text, const char *path,
				 const struct ed_secrets *sec, struct ed_sink *sink,
				 size_t *nsecrets, struct ed_err *err)
{
	struct iparse ip = {.sec = sec, .feed = ED_BUF_INIT, .vals = ED_BUF_INIT};
	struct ed_cfg_out o;
	struct ed_buf value = ED_BUF_INIT;
	struct sorted *s = NULL;
	struct ed_str t = {text.p ? text.p : "", text.p ? text.len : 0};
	enum ed_code rc;
	bool good;

	if (nsecrets)
		*nsecrets = 0;
	rc = ed_cfg_out_init(&o, path, sec, sink, err);
	if (rc == ED_OK)
		rc = run(&ip, t, path, sink, &good, err);
	if (rc != ED_OK || !good)
		goto out;
	s = calloc(ip.n ? ip.n : 1, sizeof(*s));
	if (!s) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < ip.n; i++)
		s[i] = (struct sorted){&ip.v[i], ip.p};
	qsort(s, ip.n, sizeof(*s), sorted_cmp);
	size_t base = o.key.len;
	for (size_t i = 0, j; i < ip.n && rc == ED_OK; i = j) {
		const struct ientry *e = s[i].e;
		for (j = i + 1; j < ip.n && same_key(&s[i], &s[j]); j++)
			;
		ed_buf_reset(&value);
		int r = 0;
		if (j - i == 1) {
			r = add_value(&value, &ip, e);
		} else {
			r = ed_buf_addc(&value, '[');
			for (size_t k = i; k < j && !r; k++)
				r = (k > i && ed_buf_addc(&value, ',')) || add_value(&value, &ip, s[k].e);
			r = r || ed_buf_addc(&value, ']');
		}
		if (r || (e->seclen && ed_jsonptr_append(&o.key, ip.p + e->sec, e->seclen)) ||
		    ed_jsonptr_append(&o.key, ip.p + e->name, e->namelen)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
			break;
		}
		bool secret = ed_secret_name_matches(sec, ip.p + e->sec, e->seclen) ||
			      ed_secret_name_matches(sec, ip.p + e->name, e->namelen);
		rc = ed_cfg_emit(&o, value.p, value.len, secret, err);
		ed_cfg_truncate(&o.key, base);
	}
	if (nsecrets)
		*nsecrets = o.secrets;
out:
	free(s);
	ed_buf_release(&value);
	iparse_release(&ip);
	ed_cfg_out_release(&o);
	return rc;
}

enum ed_code ed_cfg_ini_redact(struct ed_str text, const char *path,
			       const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
			       struct ed_err *err)
{
	struct ed_cfg_edits edits = ED_CFG_EDITS_INIT;
	struct iparse ip = {.sec = sec, .edits = &edits, .feed = ED_BUF_INIT, .vals = ED_BUF_INIT};
	enum ed_code rc;
	bool good;

	*ok = false;
	rc = run(&ip, text, path, NULL, &good, err);
	if (rc == ED_OK && good) {
		int r = ed_cfg_edits_apply(&edits, text, out);
		if (r < 0)
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory redacting INI", path);
		*ok = r == 0;
	}
	iparse_release(&ip);
	ed_cfg_edits_release(&edits);
	return rc;
}
