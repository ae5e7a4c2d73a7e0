/* SPDX-License-Identifier: MIT */
/*
 * JSON configs: one config item per leaf, keyed "PATH#/json/pointer" (RFC 6901),
 * emitted depth-first with object members in byte order; secrets get a keyed fingerprint.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/snapdoc.h"
#include "config_impl.h"

/* Deepest container nesting walked; a deeper document is a warning and emits nothing. */
#define ED_JSON_MAX_DEPTH 64
/* Longest canonical value stored in an item; longer ones are fingerprinted only. */
#define ED_JSON_MAX_VALUE ED_CONFIG_MAX_VALUE

#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)


struct walk {
	const char *path;              /* the document's path, for messages */
	const struct ed_secrets *sec;  /* patterns and key; key is non-NULL */
	struct ed_sink *sink;
	struct ed_buf key;             /* "PATH#" + the pointer of the current value */
	size_t secrets;                /* secret leaves emitted */
};

struct member {
	const char *name; /* owned by the jansson object */
	size_t len;
	json_t *value;    /* borrowed */
};

static void buf_truncate(struct ed_buf *buf, size_t len)
{
	buf->len = len;
	if (buf->p)
		buf->p[len] = '\0';
}

int ed_jsonptr_append(struct ed_buf *out, const char *token, size_t len)
{
	size_t old = out->len;
	size_t start = 0;
	int rc = -1;

	if (ed_buf_addc(out, '/'))
		goto out;
	for (size_t i = 0; i < len; i++) {
		const char *esc = token[i] == '~' ? "~0" : token[i] == '/' ? "~1" : NULL;
		if (!esc)
			continue;
		if (ed_buf_add(out, token + start, i - start) || ed_buf_add(out, esc, 2))
			goto out;
		start = i + 1;
	}
	if (ed_buf_add(out, token + start, len - start))
		goto out;
	rc = 0;
out:
	if (rc)
		buf_truncate(out, old); /* a failed append leaves out unchanged */
	return rc;
}

/* Is any container nested deeper than ED_JSON_MAX_DEPTH? level counts j itself. */
static bool too_deep(json_t *j, int level)
{
	if (!json_is_object(j) && !json_is_array(j))
		return false;
	if (level > ED_JSON_MAX_DEPTH)
		return true;
	if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			if (too_deep(json_array_get(j, i), level + 1))
				return true;
		return false;
	}
	for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it))
		if (too_deep(json_object_iter_value(it), level + 1))
			return true;
	return false;
}

static enum ed_code emit_leaf(struct walk *w, const json_t *j, bool secret, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	char *text = ed_cfg_dump_leaf(j);

	if (!text) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory formatting a JSON value", w->path);
		goto out;
	}
	size_t len = strlen(text); /* jansson escapes NUL as \u0000: no NUL inside */
	rc = ed_cfg_emit_leaf(w->sec, w->sink, w->key.p, w->key.len, text, len, secret, &w->secrets,
			      err);
out:
	free(text);
	return rc;
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Emits the leaves under j, whose pointer is in w->key; secret: a token above matched. */
static enum ed_code walk(struct walk *w, json_t *j, bool secret, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	struct member *m = NULL;
	size_t n = 0;
	size_t base = w->key.len;

	if (json_is_array(j) && json_array_size(j) > 0) {
		for (size_t i = 0; i < json_array_size(j) && rc == ED_OK; i++) {
			if (ed_buf_addf(&w->key, "/%zu", i)) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", w->path);
				goto out;
			}
			rc = walk(w, json_array_get(j, i), secret, err);
			buf_truncate(&w->key, base);
		}
		goto out;
	}
	if (!json_is_object(j) || json_object_size(j) == 0) {
		rc = emit_leaf(w, j, secret, err);
		goto out;
	}

	n = json_object_size(j);
	m = calloc(n, sizeof(*m));
	if (!m) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", w->path);
		goto out;
	}
	size_t k = 0;
	for (void *it = json_object_iter(j); it && k < n; it = json_object_iter_next(j, it), k++) {
		m[k].name = json_object_iter_key(it);
		m[k].len = json_object_iter_key_len(it);
		m[k].value = json_object_iter_value(it);
	}
	n = k;
	qsort(m, n, sizeof(*m), member_cmp);
	for (size_t i = 0; i < n && rc == ED_OK; i++) {
		if (ed_jsonptr_append(&w->key, m[i].name, m[i].len)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", w->path);
			goto out;
		}
		bool sub = secret || ed_secret_name_matches(w->sec, m[i].name, m[i].len);
		rc = walk(w, m[i].value, sub, err);
		buf_truncate(&w->key, base);
	}
out:
	free(m);
	return rc;
}

static bool same_error(const json_error_t *a, const json_error_t *b)
{
	return a->line == b->line && a->column == b->column && a->position == b->position &&
	       strcmp(a->text, b->text) == 0;
}

/*
 * json_loadb, telling a malformed document from an allocation failure, which
 * jansson 2.14 often reports as a syntax error (a lexer buffer that could not
 * grow: "string or '}' expected") or as no error at all (line -1, empty text).
 * So a failure is parsed once more: a malformed document fails again in the
 * same way. Anything else was memory (*oom), unless the second parse succeeded.
 */
static json_t *load(const char *p, size_t len, json_error_t *e, bool *oom)
{
	json_error_t again;
	json_t *root;

	/* jansson leaves the error untouched (code byte included) on some failures. */
	memset(e, 0, sizeof(*e));
	memset(&again, 0, sizeof(again));
	*oom = false;
	root = ed_json_loadb(p, len, LOAD_FLAGS, e);
	if (root)
		return root;
	if (json_error_code(e) == json_error_out_of_memory) {
		*oom = true;
		return NULL;
	}
	root = ed_json_loadb(p, len, LOAD_FLAGS, &again);
	if (!root)
		*oom = e->text[0] == '\0' || json_error_code(&again) == json_error_out_of_memory ||
		       !same_error(e, &again);
	return root;
}

/*
 * jansson ends most messages with "near 'TOKEN'", quoting the input: that
 * could be a secret value, and warnings reach logs. Keep the quote only for
 * duplicate keys, where the token is a member name (names are item keys anyway).
 */
static void scrub_message(json_error_t *e)
{
	if (json_error_code(e) == json_error_duplicate_key)
		return;
	char *near = strstr(e->text, " near '");
	if (near)
		*near = '\0';
}

/*
 * As documented in ed/collect.h, plus: sec must be non-NULL with a non-NULL
 * key (else ED_USAGE, nothing emitted), so that a secret can never fall back
 * to a plain value or hash; sec->patterns NULL means the default patterns.
 * A leading UTF-8 BOM is skipped. Containers nested deeper than 64 levels make
 * a warning and emit nothing. A value whose canonical text exceeds 64 KiB is
 * fingerprinted but not stored (value NULL, attrs {"large":true}).
 */
enum ed_code ed_config_json_parse(struct ed_str text, const char *path,
				  const struct ed_secrets *sec, struct ed_sink *sink,
				  size_t *nsecrets, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	json_t *root = NULL;
	struct walk w = {.path = path, .sec = sec, .sink = sink, .key = ED_BUF_INIT};
	const char *p = text.p ? text.p : "";
	size_t len = text.p ? text.len : 0;
	json_error_t jerr;
	bool oom;

	if (!sec || !sec->key) {
		rc = ed_err_set(err, ED_USAGE, "%s: no secret key to fingerprint config secrets", path);
		goto out;
	}
	size_t bom = ed_utf8_bom(p, len);
	p += bom;
	len -= bom;
	root = load(p, len, &jerr, &oom);
	if (!root) {
		if (oom) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory parsing JSON", path);
			goto out;
		}
		scrub_message(&jerr);
		ed_sink_warn(sink, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (too_deep(root, 1)) {
		ed_sink_warn(sink, "%s: nesting deeper than %d levels", path, ED_JSON_MAX_DEPTH);
		goto out;
	}
	if (ed_buf_adds(&w.key, path) || ed_buf_addc(&w.key, '#')) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}
	rc = walk(&w, root, false, err);
	if (nsecrets)
		*nsecrets = w.secrets;
out:
	json_decref(root);
	ed_buf_release(&w.key);
	return rc;
}
