/* SPDX-License-Identifier: MIT */
/*
 * What every structured config format shares: the table of formats, leaf emission,
 * canonical JSON text, redaction edits and the check of a redacted text, and
 * the redaction of JSON (a small scanner: jansson keeps no byte positions).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"
#include "ed/hash.h"
#include "ed/snapdoc.h"

static const char attrs_large[] = "{\"large\":true}";

/* ---- leaves ---- */

void ed_cfg_truncate(struct ed_buf *buf, size_t len)
{
	buf->len = len;
	if (buf->p)
		buf->p[len] = '\0';
}

enum ed_code ed_cfg_out_init(struct ed_cfg_out *o, const char *path, const struct ed_secrets *sec,
			     struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf empty = ED_BUF_INIT;
	o->path = path;
	o->sec = sec;
	o->sink = sink;
	o->key = empty;
	o->secrets = 0;
	if (!sec || !sec->key)
		return ed_err_set(err, ED_USAGE, "%s: no secret key to fingerprint config secrets", path);
	if (ed_buf_adds(&o->key, path) || ed_buf_addc(&o->key, '#'))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	return ED_OK;
}

void ed_cfg_out_release(struct ed_cfg_out *o)
{
	ed_buf_release(&o->key);
}

/*
 * A leaf's attrs: {"secret":true} or {"large":true,"masked":true} ..., with
 * "because" last, as compact JSON (jansson escapes a pattern's quotes).
 */
/* A leaf's attrs: {"secret":true,"because":...} or {"large":true,"masked":true,...}. */
static enum ed_code leaf_attrs(bool secret, bool large, bool masked, const char *because,
			       char *out, size_t n, struct ed_err *err)
{
	if (!ed_attrs_format(secret, large, masked, because, out, n))
		return ed_err_set(err, ED_TOOBIG, "a config leaf's description is too long: %s",
				  because);
	return ED_OK;
}

/* Why a leaf is secret: the pattern its own name matches ("key *password*"). */
static void key_because(const struct ed_secrets *sec, const char *key, size_t key_len, char *out,
			size_t n)
{
	if (sec->all) {
		snprintf(out, n, "in a secret file");
		return;
	}
	/* The leaf's own name first, then each level above it within the file. */
	const char *hash = memchr(key, '#', key_len);
	size_t from = hash ? (size_t)(hash - key) + 1 : 0, end = key_len;
	for (size_t i = key_len; i > from; i--) {
		if (key[i - 1] != '/' && i - 1 != from)
			continue;
		size_t start = key[i - 1] == '/' ? i : i - 1;
		const char *glob = start < end ? ed_secret_name_glob(sec, key + start, end - start) : NULL;
		if (glob) {
			snprintf(out, n, "key %s", glob);
			return;
		}
		end = i - 1;
	}
	snprintf(out, n, "a secret's value"); /* a YAML alias of one, under a plain key */
}

static int first_detector(void *ctx, const char *detector, size_t start, size_t end)
{
	(void)start;
	(void)end;
	if (!*(const char **)ctx)
		*(const char **)ctx = detector;
	return 0;
}

enum ed_code ed_cfg_emit_leaf(const struct ed_secrets *sec, struct ed_sink *sink, const char *key,
			      size_t key_len, const char *text, size_t len, bool secret,
			      size_t *nsecrets, struct ed_err *err)
{
	struct ed_item it = {0};
	struct ed_buf masked = ED_BUF_INIT;
	enum ed_code rc;
	size_t hits = 0;
	char attrs[512], because[256];
	const char *detector = NULL;

	it.kind = ED_KIND_CONFIG;
	it.key = key;
	it.key_len = key_len;
	if (secret || sec->all) {
		/* Never the value, nor its plain hash: only the keyed fingerprint. */
		rc = ed_fp_keyed(sec->key, text, len, &it.fp, err);
		if (rc != ED_OK)
			return rc;
		key_because(sec, key, key_len, because, sizeof(because));
		if ((rc = leaf_attrs(true, false, false, because, attrs, sizeof(attrs), err)))
			return rc;
		it.attrs = attrs;
		(*nsecrets)++;
		return sink->emit(sink, &it, err);
	}
	if (ed_secret_scan(sec, text, len, first_detector, &detector)) {
		/*
		 * The value gives itself away (a credential URL, a token): keyed, and
		 * shown with the secret part masked, so host and path drift stays visible.
		 */
		if (ed_secret_mask(sec, text, len, &masked, &hits)) {
			ed_buf_release(&masked);
			return ed_err_set(err, ED_NOMEM, "out of memory masking a config value");
		}
		rc = ed_fp_keyed(sec->key, text, len, &it.fp, err);
		snprintf(because, sizeof(because), "detector %s", detector ? detector : "");
		bool large = masked.len > ED_CONFIG_MAX_VALUE;
		if (rc == ED_OK)
			rc = leaf_attrs(false, large, true, because, attrs, sizeof(attrs), err);
		if (rc == ED_OK) {
			it.attrs = attrs;
			if (!large)
				it.value = ed_buf_str(&masked);
			(*nsecrets)++;
			rc = sink->emit(sink, &it, err);
		}
		ed_buf_release(&masked);
		return rc;
	}
	ed_fp_of(text, len, &it.fp);
	if (len > ED_CONFIG_MAX_VALUE)
		it.attrs = attrs_large;
	else
		it.value = text;
	return sink->emit(sink, &it, err);
}

enum ed_code ed_cfg_emit(struct ed_cfg_out *o, const char *text, size_t len, bool secret,
			 struct ed_err *err)
{
	return ed_cfg_emit_leaf(o->sec, o->sink, o->key.p, o->key.len, text, len, secret,
				&o->secrets, err);
}

/* ---- canonical JSON text ---- */

int ed_cfg_json_string(struct ed_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t old = out->len;
	size_t run = 0; /* start of the bytes not yet copied */

	if (ed_buf_addc(out, '"'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t n = 2;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			/* jansson writes other control characters as \u00XX, upper-case hex. */
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if (ed_buf_add(out, s + run, i - run) || ed_buf_add(out, esc, n))
			goto fail;
		run = i + 1;
	}
	if (ed_buf_add(out, s + run, len - run) || ed_buf_addc(out, '"'))
		goto fail;
	return 0;
fail:
	ed_cfg_truncate(out, old);
	return -1;
}

/*
 * jansson prints reals with 17 digits ("0.10000000000000001"): use the fewest
 * digits that read back as the same double, a pure function of the value and
 * readable in reports. The read-back goes through jansson, which ignores the
 * locale, as its writer does.
 */
static char *dump_real(const json_t *j)
{
	const size_t flags = JSON_ENCODE_ANY | JSON_COMPACT;
	double v = json_real_value(j);
	for (int prec = 1; prec < 17; prec++) {
		char *s = json_dumps(j, flags | JSON_REAL_PRECISION(prec));
		if (!s)
			return NULL;
		json_t *back = ed_json_loadb(s, strlen(s), JSON_DECODE_ANY, NULL);
		if (!back) {
			free(s);
			return NULL;
		}
		bool same = json_is_real(back) && json_real_value(back) == v;
		json_decref(back);
		if (same)
			return s;
		free(s);
	}
	return json_dumps(j, flags | JSON_REAL_PRECISION(17));
}

char *ed_cfg_dump_leaf(const json_t *j)
{
	return json_is_real(j) ? dump_real(j) : json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
}

int ed_cfg_json_real(struct ed_buf *out, const char *num)
{
	json_error_t e;
	json_t *j = ed_json_loadb(num, strlen(num), JSON_DECODE_ANY, &e);
	if (!j)
		return json_error_code(&e) == json_error_numeric_overflow ? 1 : -1;
	int rc = -1;
	char *s = ed_cfg_dump_leaf(j);
	if (s && ed_buf_adds(out, s) == 0)
		rc = 0;
	free(s);
	json_decref(j);
	return rc;
}

/* ---- text checks ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool ed_cfg_comment_secret(const struct ed_secrets *sec, const char *s, size_t len, size_t *vs,
			   size_t *ve)
{
	size_t i = 0;
	while (i < len && (is_blank(s[i]) || s[i] == '#' || s[i] == ';' || s[i] == '!'))
		i++;
	if (i + 2 <= len && s[i] == '-' && is_blank(s[i + 1]))
		i += 2;
	if (i + 7 <= len && memcmp(s + i, "export", 6) == 0 && is_blank(s[i + 6]))
		i += 7;
	while (i < len && is_blank(s[i]))
		i++;
	size_t name = i;
	while (i < len && !is_blank(s[i]) && s[i] != '=' && s[i] != ':')
		i++;
	size_t name_end = i;
	while (i < len && is_blank(s[i]))
		i++;
	if (name_end == name || i >= len || (s[i] != '=' && s[i] != ':'))
		return false;
	i++;
	while (i < len && is_blank(s[i]))
		i++;
	size_t end = len;
	while (end > i && (is_blank(s[end - 1]) || s[end - 1] == '\r'))
		end--;
	if (end == i || !ed_secret_name_matches(sec, s + name, name_end - name))
		return false;
	*vs = i;
	*ve = end;
	return true;
}

size_t ed_cfg_bad_text_line(const char *p, size_t len, bool *nul)
{
	size_t line = 1;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - p) : len;
		if (memchr(p + i, '\0', end - i)) {
			*nul = true;
			return line;
		}
		if (!ed_utf8_valid(p + i, end - i)) {
			*nul = false;
			return line;
		}
		i = end + 1;
		line++;
	}
	return 0;
}

/* ---- edits ---- */

int ed_cfg_edits_add(struct ed_cfg_edits *e, size_t start, size_t end, const char *with, size_t len)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		struct ed_cfg_edit *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	size_t off = e->text.len;
	if (ed_buf_add(&e->text, with, len))
		return -1;
	e->v[e->n++] = (struct ed_cfg_edit){start, end, off, len};
	return 0;
}

int ed_cfg_edits_mark(struct ed_cfg_edits *e, size_t start, size_t end)
{
	return ed_cfg_edits_add(e, start, end, ED_SECRET_MARKER, strlen(ED_SECRET_MARKER));
}

static int edit_cmp(const void *a, const void *b)
{
	const struct ed_cfg_edit *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

int ed_cfg_edits_apply(struct ed_cfg_edits *e, struct ed_str text, struct ed_buf *out)
{
	size_t at = 0;
	ed_buf_reset(out);
	if (e->n)
		qsort(e->v, e->n, sizeof(*e->v), edit_cmp);
	for (size_t i = 0; i < e->n; i++) {
		const struct ed_cfg_edit *d = &e->v[i];
		if (d->start < at || d->end < d->start || d->end > text.len)
			return 1;
		if (ed_buf_add(out, text.p + at, d->start - at) ||
		    ed_buf_add(out, e->text.p + d->off, d->len))
			return -1;
		at = d->end;
	}
	if (ed_buf_add(out, text.p + at, text.len - at))
		return -1;
	return 0;
}

void ed_cfg_edits_release(struct ed_cfg_edits *e)
{
	free(e->v);
	ed_buf_release(&e->text);
	e->v = NULL;
	e->n = e->cap = 0;
}

/* ---- the formats ---- */

/* One row per format, indexed by enum ed_config_format; "none" has no parser. */
static const struct ed_config_format_ops formats[] = {
	[ED_CFG_NONE] = {"none", NULL, NULL},
	[ED_CFG_JSON] = {"json", ed_config_json_parse, ed_cfg_json_redact},
	[ED_CFG_YAML] = {"yaml", ed_config_yaml_parse, ed_cfg_yaml_redact},
	[ED_CFG_INI] = {"ini", ed_config_ini_parse, ed_cfg_ini_redact},
	[ED_CFG_KEYVALUE] = {"keyvalue", ed_config_keyvalue_parse, ed_cfg_keyvalue_redact},
	[ED_CFG_KEYWORD] = {"keyword", ed_config_keyword_parse, ed_cfg_keyword_redact},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const struct ed_config_format_ops *ed_config_format_get(enum ed_config_format f)
{
	return (size_t)f < NFORMATS && formats[f].parse ? &formats[f] : NULL;
}

bool ed_config_format_parse(const char *name, enum ed_config_format *out)
{
	for (size_t i = 0; name && i < NFORMATS; i++) {
		if (strcmp(name, formats[i].name) == 0) {
			*out = (enum ed_config_format)i;
			return true;
		}
	}
	*out = ED_CFG_NONE;
	return false;
}

const char *ed_config_format_name(enum ed_config_format f)
{
	return (size_t)f < NFORMATS ? formats[f].name : "none";
}

enum ed_code ed_config_parse(enum ed_config_format fmt, struct ed_str text, const char *path,
			     const struct ed_secrets *sec, struct ed_sink *sink, size_t *nsecrets,
			     struct ed_err *err)
{
	const struct ed_config_format_ops *f = ed_config_format_get(fmt);
	if (!f)
		return ed_err_set(err, ED_USAGE, "%s: no structured format to read it as", path);
	return f->parse(text, path, sec, sink, nsecrets, err);
}

/* ---- JSON redaction: a scanner that only finds the byte ranges of secret values ---- */

static const char quoted_marker[] = "\"" ED_SECRET_MARKER "\"";

struct jscan {
	const char *p;
	size_t len, i;
	const struct ed_secrets *sec;
	struct ed_cfg_edits *edits;
	struct ed_buf name; /* the decoded member name */
	int depth;
};

/* Scan results: 0 fine, 1 not JSON as we read it, -1 out of memory. */
static void js_ws(struct jscan *s)
{
	while (s->i < s->len && (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\n' ||
				 s->p[s->i] == '\r'))
		s->i++;
}

static int js_u4(struct jscan *s, uint32_t *cp)
{
	if (s->len - s->i < 4)
		return 1;
	*cp = 0;
	for (int k = 0; k < 4; k++) {
		int h = ed_hex_value(s->p[s->i++]);
		if (h < 0)
			return 1;
		*cp = (*cp << 4) | (uint32_t)h;
	}
	return 0;
}

/* A string at s->i; its decoded text goes to out when out is not NULL. */
static int js_string(struct jscan *s, struct ed_buf *out)
{
	if (s->i >= s->len || s->p[s->i] != '"')
		return 1;
	s->i++;
	while (s->i < s->len) {
		unsigned char c = (unsigned char)s->p[s->i];
		if (c == '"') {
			s->i++;
			return 0;
		}
		if (c < 0x20)
			return 1;
		if (c != '\\') {
			if (out && ed_buf_addc(out, (char)c))
				return -1;
			s->i++;
			continue;
		}
		if (++s->i >= s->len)
			return 1;
		char e = s->p[s->i++];
		const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
		const char *hit = e ? strchr(from, e) : NULL;
		if (hit) {
			if (out && ed_buf_addc(out, to[hit - from]))
				return -1;
			continue;
		}
		if (e != 'u')
			return 1;
		uint32_t cp, lo;
		if (js_u4(s, &cp))
			return 1;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return 1;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (s->len - s->i < 2 || s->p[s->i] != '\\' || s->p[s->i + 1] != 'u')
				return 1;
			s->i += 2;
			if (js_u4(s, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return 1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (out && ed_buf_add_cp(out, cp))
			return -1;
	}
	return 1;
}

static bool js_digits(struct jscan *s)
{
	size_t from = s->i;
	while (s->i < s->len && s->p[s->i] >= '0' && s->p[s->i] <= '9')
		s->i++;
	return s->i > from;
}

static int js_number(struct jscan *s)
{
	if (s->p[s->i] == '-')
		s->i++;
	if (!js_digits(s))
		return 1;
	if (s->i < s->len && s->p[s->i] == '.') {
		s->i++;
		if (!js_digits(s))
			return 1;
	}
	if (s->i < s->len && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
		s->i++;
		if (s->i < s->len && (s->p[s->i] == '+' || s->p[s->i] == '-'))
			s->i++;
		if (!js_digits(s))
			return 1;
	}
	return 0;
}

static int js_value(struct jscan *s, bool secret);

static int js_container(struct jscan *s, bool secret, bool object)
{
	char close = object ? '}' : ']';
	int rc;
	if (++s->depth > ED_CONFIG_MAX_DEPTH)
		return 1;
	s->i++;
	js_ws(s);
	if (s->i < s->len && s->p[s->i] == close) {
		s->i++;
		s->depth--;
		return 0;
	}
	for (;;) {
		bool sub = secret;
		js_ws(s);
		if (object) {
			ed_buf_reset(&s->name);
			if ((rc = js_string(s, &s->name)))
				return rc;
			sub = secret || ed_secret_name_matches(s->sec, s->name.p, s->name.len);
			js_ws(s);
			if (s->i >= s->len || s->p[s->i] != ':')
				return 1;
			s->i++;
		}
		if ((rc = js_value(s, sub)))
			return rc;
		js_ws(s);
		if (s->i >= s->len)
			return 1;
		if (s->p[s->i] == close) {
			s->i++;
			s->depth--;
			return 0;
		}
		if (s->p[s->i++] != ',')
			return 1;
	}
}

static int js_value(struct jscan *s, bool secret)
{
	int rc;
	js_ws(s);
	if (s->i >= s->len)
		return 1;
	size_t start = s->i;
	char c = s->p[s->i];
	if (c == '{' || c == '[')
		return js_container(s, secret, c == '{');
	if (c == '"') {
		if ((rc = js_string(s, NULL)))
			return rc;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if ((rc = js_number(s)))
			return rc;
	} else {
		static const char *const words[] = {"true", "false", "null"};
		size_t k;
		for (k = 0; k < 3; k++) {
			size_t n = strlen(words[k]);
			if (s->len - s->i >= n && memcmp(s->p + s->i, words[k], n) == 0) {
				s->i += n;
				break;
			}
		}
		if (k == 3)
			return 1;
		if (k == 2) /* null reveals nothing */
			return 0;
	}
	/* "" reveals nothing either. */
	if (secret && !(c == '"' && s->i - start == 2) &&
	    ed_cfg_edits_add(s->edits, start, s->i, quoted_marker, strlen(quoted_marker)))
		return -1;
	return 0;
}

enum ed_code ed_cfg_json_redact(struct ed_str text, const char *path,
				const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				struct ed_err *err)
{
	struct ed_cfg_edits edits = ED_CFG_EDITS_INIT;
	struct jscan s = {text.p, text.len, 0, sec, &edits, ED_BUF_INIT, 0};
	enum ed_code rc = ED_OK;
	int r;

	*ok = false;
	s.i = ed_utf8_bom(s.p, s.len);
	r = js_value(&s, false);
	js_ws(&s);
	if (r == 0 && s.i != s.len)
		r = 1;
	if (r == 0)
		r = ed_cfg_edits_apply(&edits, text, out);
	if (r < 0)
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory redacting JSON", path);
	*ok = r == 0;
	ed_buf_release(&s.name);
	ed_cfg_edits_release(&edits);
	return rc;
}

/* ---- the check of a redacted text ---- */

struct vitem {
	char *key;
	size_t key_len;
	struct ed_fp fp;
	char *value; /* NULL for secrets and large values */
	bool secret;
};

struct vsink {
	struct ed_sink sink; /* first member */
	struct vitem *v;
	size_t n, cap;
	size_t nwarnings;
};

static enum ed_code vemit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct vsink *vs = (struct vsink *)sink;
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? 2 * vs->cap : 64;
		struct vitem *v = realloc(vs->v, cap * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory checking a redaction");
		vs->v = v;
		vs->cap = cap;
	}
	struct vitem *m = &vs->v[vs->n];
	memset(m, 0, sizeof(*m));
	m->key = ed_strndup(it->key, it->key_len);
	m->value = it->value ? strdup(it->value) : NULL;
	if (!m->key || (it->value && !m->value)) {
		free(m->key);
		free(m->value);
		return ed_err_set(err, ED_NOMEM, "out of memory checking a redaction");
	}
	m->key_len = it->key_len;
	m->fp = it->fp;
	m->secret = ed_attrs_secret(it->attrs);
	vs->n++;
	return ED_OK;
}

static void vwarn(struct ed_sink *sink, const char *msg)
{
	(void)msg;
	((struct vsink *)sink)->nwarnings++;
}

static void vsink_release(struct vsink *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].key);
		free(vs->v[i].value);
	}
	free(vs->v);
}

/*
 * Only markers, nulls and empty containers, with the brackets and commas
 * around them? A string may hold markers joined by "\n" (an INI value and its
 * continuation lines), or nothing.
 */
static bool only_markers(const char *v)
{
	static const char *const tokens[] = {"null", "{}", "[", "]", ","};
	const size_t mlen = strlen(ED_SECRET_MARKER);
	while (*v) {
		if (*v == '"') {
			for (v++; *v != '"'; ) {
				if (strncmp(v, ED_SECRET_MARKER, mlen) == 0)
					v += mlen;
				else if (strncmp(v, "\\n", 2) == 0)
					v += 2;
				else
					return false;
			}
			v++;
			continue;
		}
		size_t k;
		for (k = 0; k < sizeof(tokens) / sizeof(tokens[0]); k++) {
			size_t n = strlen(tokens[k]);
			if (strncmp(v, tokens[k], n) == 0) {
				v += n;
				break;
			}
		}
		if (k == sizeof(tokens) / sizeof(tokens[0]))
			return false;
	}
	return true;
}

static int fp_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ED_FP_LEN);
}

/*
 * Is every secret leaf of orig (real patterns, keyed fps) either only markers
 * in red (no patterns: plain values) or unchanged and also the value of some
 * non-secret leaf? Non-secret leaves must be unchanged, keys identical.
 */
static enum ed_code redaction_sound(const struct vsink *orig, const struct vsink *red,
				    const uint8_t *vkey, bool *sound, struct ed_err *err)
{
	struct ed_fp *visible = NULL;
	size_t nvisible = 0;
	bool have_visible = false;
	enum ed_code rc = ED_OK;

	*sound = false;
	if (orig->n != red->n || orig->nwarnings != red->nwarnings)
		goto out;
	if (orig->n == 0 && orig->nwarnings > 0)
		goto out; /* the text cannot be read: nobody knows what it holds */
	for (size_t i = 0; i < orig->n; i++) {
		const struct vitem *a = &orig->v[i], *b = &red->v[i];
		if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0)
			goto out;
		if (!a->secret) {
			if (memcmp(a->fp.b, b->fp.b, ED_FP_LEN) != 0)
				goto out;
			continue;
		}
		if (b->value && only_markers(b->value))
			continue;
		/* Unchanged: fine only if a non-secret leaf shows the same value anyway. */
		struct ed_fp fp;
		if (!b->value)
			goto out;
		if ((rc = ed_fp_keyed(vkey, b->value, strlen(b->value), &fp, err)))
			goto out;
		if (memcmp(fp.b, a->fp.b, ED_FP_LEN) != 0)
			goto out;
		if (!have_visible) {
			visible = calloc(orig->n ? orig->n : 1, sizeof(*visible));
			if (!visible) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory checking a redaction");
				goto out;
			}
			for (size_t j = 0; j < orig->n; j++) {
				const struct vitem *c = &orig->v[j];
				if (c->secret || !c->value)
					continue;
				if ((rc = ed_fp_keyed(vkey, c->value, strlen(c->value), &visible[nvisible], err)))
					goto out;
				nvisible++;
			}
			qsort(visible, nvisible, sizeof(*visible), fp_cmp);
			have_visible = true;
		}
		if (!bsearch(&a->fp, visible, nvisible, sizeof(*visible), fp_cmp))
			goto out;
	}
	*sound = true;
out:
	free(visible);
	return rc;
}

static enum ed_code collect(enum ed_config_format fmt, struct ed_str text, const char *path,
			    const struct ed_secrets *sec, struct vsink *vs, struct ed_err *err)
{
	memset(vs, 0, sizeof(*vs));
	vs->sink.emit = vemit;
	vs->sink.warn = vwarn;
	vs->sink.ctx = vs;
	return ed_config_parse(fmt, text, path, sec, &vs->sink, NULL, err);
}

enum ed_code ed_config_redact(enum ed_config_format fmt, struct ed_str text, const char *path,
			      const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
			      struct ed_err *err)
{
	/* Fingerprints of the check never leave this function: any fixed key does. */
	static const uint8_t vkey[ED_KEY_LEN] = {'e', 'n', 'v', 'd', 'r', 'i', 'f', 't'};
	static const char *const no_patterns[] = {NULL};
	const struct ed_secrets real = {vkey, sec ? sec->patterns : NULL, sec ? sec->npatterns : 0,
					sec ? sec->values : NULL, sec ? sec->nvalues : 0,
					sec ? sec->all : false};
	const struct ed_secrets none = {vkey, no_patterns, 0, real.values, real.nvalues, false};
	struct ed_buf cand = ED_BUF_INIT;
	struct vsink orig = {0}, red = {0};
	struct ed_str t = {text.p ? text.p : "", text.p ? text.len : 0};
	enum ed_code rc = ED_OK;
	bool good = false;

	*ok = false;
	const struct ed_config_format_ops *f = ed_config_format_get(fmt);
	if (fmt == ED_CFG_NONE) {
		/* No structure, no known secrets: the text as it is. */
		if (ed_buf_add(&cand, t.p, t.len))
			goto nomem;
	} else {
		if (!f || (rc = f->redact(t, path, &real, &cand, &good, err)) != ED_OK || !good)
			goto out;
		/* The candidate must read as the original does, secrets aside. */
		good = false;
		if ((rc = collect(fmt, t, path, &real, &orig, err)) ||
		    (rc = collect(fmt, ed_str_of(ed_buf_str(&cand), cand.len), path, &none, &red, err)) ||
		    (rc = redaction_sound(&orig, &red, vkey, &good, err)) || !good)
			goto out;
	}
	if (out->max && (cand.len > out->max || out->len > out->max - cand.len))
		goto out;
	if (ed_buf_add(out, cand.p ? cand.p : "", cand.len))
		goto nomem;
	*ok = true;
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory redacting", path);
out:
	if (rc != ED_OK)
		*ok = false;
	vsink_release(&orig);
	vsink_release(&red);
	ed_buf_release(&cand);
	return rc;
}
