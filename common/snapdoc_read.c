/* SPDX-License-Identifier: MIT */
/*
 * Reading an envdrift.snapshot/1 document (docs/snapshot-format.md): every
 * check of the format before anything is used, the first problem named with
 * its JSON path; memory bounded by the document's size, elements parsed one
 * at a time when checked and again when replayed into a sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/atomic.h"
#include "ed/base64.h"
#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/isotime.h"
#include "ed/snapdoc.h"
#include "snapdoc_codec.h"

#define STDIN_NAME "standard input"

/* ------------------------------------------------------------------ */
/* JSON paths in messages                                               */

/* Appends .key, or ["key"] when key is not a plain name; bytes that are not printable ASCII as \xHH. */
static int path_add_key(struct ed_buf *b, const char *k, size_t len)
{
	bool plain = len > 0 && len <= 64;
	for (size_t i = 0; i < len && plain; i++) {
		char c = k[i];
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			(i > 0 && c >= '0' && c <= '9');
	}
	if (plain)
		return ed_buf_addc(b, '.') || ed_buf_add(b, k, len);
	int r = ed_buf_adds(b, "[\"");
	size_t n = len > 64 ? 64 : len;
	for (size_t i = 0; i < n && !r; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c < 0x20 || c >= 0x7f)
			r = ed_buf_addf(b, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			r = ed_buf_addc(b, '\\') || ed_buf_addc(b, (char)c);
		else
			r = ed_buf_addc(b, (char)c);
	}
	if (!r && len > n)
		r = ed_buf_adds(b, "...");
	return r || ed_buf_adds(b, "\"]");
}

/*
 * The JSON path of byte offset pos in data, from a small scanner that keeps
 * only the stack of open containers: for the position of an error jansson
 * reports (bad syntax, a duplicate key), which comes without a path.
 */
#define PATH_DEPTH 4096 /* beyond jansson's own limit of 2048 */
struct frame {
	bool obj;
	bool want_key; /* objects: the next string is a key */
	bool has_key;
	size_t koff, klen; /* the current key, raw, in data */
	size_t idx;        /* arrays: the current element */
};

static void path_at(const char *data, size_t len, size_t pos, struct ed_buf *out)
{
	struct frame *st = malloc(PATH_DEPTH * sizeof(*st));
	size_t depth = 0, over = 0; /* over: levels beyond PATH_DEPTH */
	size_t end = pos < len ? pos : len;
	ed_buf_reset(out);
	if (ed_buf_addc(out, '$') || !st) {
		free(st);
		return;
	}
	for (size_t i = 0; i < end; i++) {
		char c = data[i];
		struct frame *top = depth && !over ? &st[depth - 1] : NULL;
		if (c == '{' || c == '[') {
			if (depth == PATH_DEPTH || over) {
				over++;
				continue;
			}
			st[depth++] = (struct frame){.obj = c == '{', .want_key = c == '{'};
		} else if (c == '}' || c == ']') {
			if (over)
				over--;
			else if (depth)
				depth--;
		} else if (c == ',' && top) {
			if (top->obj) {
				top->want_key = true;
				top->has_key = false;
			} else {
				top->idx++;
			}
		} else if (c == '"') {
			size_t j = i + 1;
			while (j < end && data[j] != '"')
				j += data[j] == '\\' ? 2 : 1;
			if (top && top->obj && top->want_key) {
				top->koff = i + 1;
				top->klen = (j < end ? j : end) - (i + 1);
				top->has_key = true;
				top->want_key = false;
			}
			i = j;
		}
	}
	for (size_t d = 0; d < depth; d++) {
		const struct frame *f = &st[d];
		bool last = d + 1 == depth;
		int r = 0;
		if (f->obj && f->has_key && !(last && f->want_key))
			r = path_add_key(out, data + f->koff, f->klen);
		else if (!f->obj)
			r = ed_buf_addf(out, "[%zu]", f->idx);
		if (r)
			break;
	}
	free(st);
}

/* ------------------------------------------------------------------ */
/* reading and validating                                               */

struct fpref {
	struct ed_fp fp;
	uint32_t idx;
};

/* An item's (kind, key) as 64 bits of XXH3 (a tie is checked on all 128), and its index: 12 bytes. */
struct keyref {
	uint32_t h[2];
	uint32_t idx;
};

/* One of the document's arrays: where it starts and how many elements it has. */
struct span {
	uint64_t at; /* offset of its '[' in the document; UINT64_MAX: none seen */
	size_t n;
};

/*
 * A checked document: where its bytes are (in memory, or a file read again
 * when replayed), the small members of its top level parsed, and where its
 * three arrays are. Array elements are parsed one at a time, when checked and
 * again when replayed: memory stays at the largest element plus 12 bytes per
 * item for the check of unique keys (contents are checked against the items
 * by reading them once more).
 */
struct ed_snapdoc {
	char *buf; /* the document, when read from memory */
	size_t len;
	int fd;    /* else the file it is read from, owned; -1 for buf */
	json_t *head; /* every top-level member but the arrays below */
	struct span items, warnings, contents;
	char *name;
	char id[ED_SNAPDOC_ID_LEN + 1];
	char *env, *host, *role, *root_dir, *collector_host;
	char started_at[ED_ISOTIME_SIZE];
	char finished_at[ED_ISOTIME_SIZE];
	struct ed_fp digest; /* what its items, warnings and contents' names say */
	struct ed_snapdoc_info info; /* the fields above, for ed_snapdoc_info() */
};

/* Validation context: messages are "NAME: PATH: problem". */
struct vc {
	const char *name;
	struct ed_err *err;
	struct ed_buf path; /* scratch for building paths */
};

static enum ed_code bad(struct vc *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum ed_code bad(struct vc *v, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ed_err_set(v->err, ED_PARSE, "%s: %s: %s", v->name, path, msg);
}

static enum ed_code oom(struct vc *v)
{
	return ed_err_set(v->err, ED_NOMEM, "%s: out of memory", v->name);
}

/* base + "." + field into v->path; returns the path (valid until the next call). */
static const char *at(struct vc *v, const char *base, const char *field)
{
	ed_buf_reset(&v->path);
	if (ed_buf_adds(&v->path, base) || path_add_key(&v->path, field, strlen(field)))
		return base;
	return v->path.p;
}

/* A short, printable rendering of a JSON value for messages. */
static void show(const json_t *j, char *out, size_t cap)
{
	const char *t = json_is_object(j) ? "an object"
		      : json_is_array(j)  ? "an array"
		      : json_is_string(j) ? NULL
		      : json_is_integer(j) ? "an integer"
		      : json_is_real(j)   ? "a number with a fraction or exponent"
		      : json_is_boolean(j) ? "a boolean"
					  : "null";
	if (t) {
		snprintf(out, cap, "%s", t);
		return;
	}
	const char *s = json_string_value(j);
	size_t len = json_string_length(j), o = 0;
	o += (size_t)snprintf(out, cap, "\"");
	for (size_t i = 0; i < len && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 40) {
			o += (size_t)snprintf(out + o, cap - o, "...");
			break;
		}
		o += (size_t)snprintf(out + o, cap - o, c < 0x20 || c == 0x7f ? "\\x%02x" : "%c", c);
	}
	snprintf(out + o, cap - o, "\"");
}

/* Every member of o is one of the names in known (NULL-terminated)? */
static enum ed_code only_known(struct vc *v, json_t *o, const char *path,
			       const char *const *known)
{
	const char *k;
	json_t *val;
	json_object_foreach(o, k, val) {
		bool found = false;
		for (size_t i = 0; known[i] && !found; i++)
			found = strcmp(k, known[i]) == 0;
		if (!found) {
			struct ed_buf p = ED_BUF_INIT;
			enum ed_code rc;
			if (ed_buf_adds(&p, path) ||
			    path_add_key(&p, k, json_object_iter_key_len(json_object_key_to_iter(k))))
				rc = oom(v);
			else
				rc = bad(v, p.p, "unknown field");
			ed_buf_release(&p);
			return rc;
		}
	}
	return ED_OK;
}

/* A base64 string j, the value of field f of the object at path, decoded into buf. */
static enum ed_code get_b64(struct vc *v, json_t *j, const char *path, const char *f,
			    struct ed_buf *buf)
{
	char shown[128];
	if (!json_is_string(j)) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, path, f), "expected a base64 string, got %s", shown);
	}
	enum ed_code r = ed_base64_decode(buf, json_string_value(j), json_string_length(j));
	if (r == ED_NOMEM)
		return oom(v);
	if (r)
		return bad(v, at(v, path, f), "not valid base64 (RFC 4648, padded)");
	return ED_OK;
}

/*
 * A string field: o[f] (UTF-8), or o[f_b64] (base64 of any bytes, decoded
 * into buf). *s is NULL when neither is there (an error when required).
 * NUL bytes are refused: items are C strings in the store.
 */
static enum ed_code get_str(struct vc *v, json_t *o, const char *path, const char *f,
			    bool required, struct ed_buf *buf, const char **s, size_t *len)
{
	char fb[40];
	snprintf(fb, sizeof(fb), "%s_b64", f);
	json_t *j = json_object_get(o, f), *jb = json_object_get(o, fb);
	char shown[128];
	*s = NULL;
	*len = 0;
	if (j && jb)
		return bad(v, at(v, path, fb), "only one of \"%s\" and \"%s\" may be given", f, fb);
	if (j) {
		if (!json_is_string(j)) {
			show(j, shown, sizeof(shown));
			return bad(v, at(v, path, f), "expected a string, got %s", shown);
		}
		*s = json_string_value(j);
		*len = json_string_length(j);
	} else if (jb) {
		enum ed_code rc = get_b64(v, jb, path, fb, buf);
		if (rc)
			return rc;
		*s = buf->p;
		*len = buf->len;
	} else if (required) {
		return bad(v, path, "missing field \"%s\"", f);
	} else {
		return ED_OK;
	}
	if (memchr(*s, '\0', *len))
		return bad(v, at(v, path, j ? f : fb), "holds a NUL byte");
	size_t max = strcmp(f, "key") == 0     ? ED_SNAPDOC_KEY_MAX
		     : strcmp(f, "value") == 0 ? ED_SNAPDOC_VALUE_MAX
					       : ED_SNAPDOC_TEXT_MAX;
	if (*len > max)
		return bad(v, at(v, path, j ? f : fb), "%zu bytes, more than the %zu allowed", *len,
			   max);
	return ED_OK;
}

/* An integer field in [min, max]; *present false when absent (an error when required). */
static enum ed_code get_int(struct vc *v, json_t *o, const char *path, const char *f,
			    bool required, json_int_t min, json_int_t max, json_int_t *out,
			    bool *present)
{
	json_t *j = json_object_get(o, f);
	char shown[128];
	*present = j != NULL;
	if (!j)
		return required ? bad(v, path, "missing field \"%s\"", f) : ED_OK;
	if (!json_is_integer(j)) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, path, f), "expected an integer, got %s", shown);
	}
	*out = json_integer_value(j);
	if (*out < min || *out > max)
		return bad(v, at(v, path, f), "%lld is out of range (%lld to %lld)",
			   (long long)*out, (long long)min, (long long)max);
	return ED_OK;
}

static enum ed_code get_fp(struct vc *v, json_t *o, const char *path, struct ed_fp *fp)
{
	json_t *j = json_object_get(o, "fingerprint");
	char shown[128];
	if (!j)
		return bad(v, path, "missing field \"fingerprint\"");
	if (!json_is_string(j) ||
	    !ed_snapdoc_fp_parse(json_string_value(j), json_string_length(j), fp)) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, path, "fingerprint"), "expected 32 hex digits, got %s", shown);
	}
	return ED_OK;
}

const char *const ed_snapdoc_kinds[] = {ED_KIND_FILE, ED_KIND_CONFIG, ED_KIND_PACKAGE,
					ED_KIND_SCHEMA, ED_KIND_SYSTEM, ED_KIND_ACCOUNT,
					ED_KIND_DATA, ED_KIND_ROWS};
const size_t ed_snapdoc_nkinds = sizeof(ed_snapdoc_kinds) / sizeof(ed_snapdoc_kinds[0]);

/* Decoded strings of one item; reused from item to item. */
struct scratch {
	struct ed_buf key, value, owner, group, target, error;
	char *attrs;       /* json_dumps result: free() */
	struct ed_buf fast; /* the strings of an item read by the fast path */
	json_t *json;      /* the last item read by jansson, whose strings it holds */
};

static void scratch_release(struct scratch *sc)
{
	ed_buf_release(&sc->key);
	ed_buf_release(&sc->value);
	ed_buf_release(&sc->owner);
	ed_buf_release(&sc->group);
	ed_buf_release(&sc->target);
	ed_buf_release(&sc->error);
	free(sc->attrs);
	sc->attrs = NULL;
	ed_buf_release(&sc->fast);
	json_decref(sc->json);
	sc->json = NULL;
}

static const char *const item_fields[] = {
	"kind", "key", "key_b64", "fingerprint", "value", "value_b64", "ftype", "mode",
	"owner", "owner_b64", "group", "group_b64", "target", "target_b64", "size",
	"mtime_ns", "ctime_ns", "ino", "dev", "error", "error_b64", "attrs", NULL};

/*
 * Reads and checks items[i] into it (strings borrowed from o and sc). With
 * want_attrs, attrs is rendered as compact JSON text for the store.
 */
static enum ed_code item_of(struct vc *v, json_t *o, size_t i, struct scratch *sc,
			    bool want_attrs, struct ed_item *it)
{
	char path[48], shown[128];
	enum ed_code rc;
	size_t len;
	snprintf(path, sizeof(path), "$.items[%zu]", i);
	memset(it, 0, sizeof(*it));
	if (!json_is_object(o)) {
		show(o, shown, sizeof(shown));
		return bad(v, path, "expected an object, got %s", shown);
	}
	if ((rc = only_known(v, o, path, item_fields)))
		return rc;

	json_t *jk = json_object_get(o, "kind");
	if (!jk)
		return bad(v, path, "missing field \"kind\"");
	for (size_t k = 0; k < ed_snapdoc_nkinds && json_is_string(jk); k++)
		if (strcmp(json_string_value(jk), ed_snapdoc_kinds[k]) == 0 &&
		    strlen(ed_snapdoc_kinds[k]) == json_string_length(jk))
			it->kind = ed_snapdoc_kinds[k];
	if (!it->kind) {
		show(jk, shown, sizeof(shown));
		return bad(v, at(v, path, "kind"),
			   "unknown kind %s (known: file, config, package, schema, system)", shown);
	}
	if ((rc = get_str(v, o, path, "key", true, &sc->key, &it->key, &it->key_len)))
		return rc;
	if (!it->key_len)
		return bad(v, at(v, path, json_object_get(o, "key") ? "key" : "key_b64"),
			   "is empty");
	if ((rc = get_fp(v, o, path, &it->fp)) ||
	    (rc = get_str(v, o, path, "value", false, &sc->value, &it->value, &len)) ||
	    (rc = get_str(v, o, path, "error", false, &sc->error, &it->error, &len)))
		return rc;

	json_t *jf = json_object_get(o, "ftype");
	if (jf) {
		it->ftype = json_is_string(jf) ? ed_ftype_parse(json_string_value(jf)) : ED_FT_NONE;
		if (it->ftype == ED_FT_NONE) {
			show(jf, shown, sizeof(shown));
			return bad(v, at(v, path, "ftype"),
				   "unknown file type %s (known: file, dir, symlink, fifo, socket, "
				   "char, block, other)",
				   shown);
		}
		json_int_t n;
		bool present;
		if ((rc = get_int(v, o, path, "mode", true, 0, 07777, &n, &present)))
			return rc;
		it->mode = (uint32_t)n;
		if ((rc = get_int(v, o, path, "size", true, 0, INT64_MAX, &n, &present)))
			return rc;
		it->size = n;
		if ((rc = get_int(v, o, path, "mtime_ns", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->mtime_ns = n;
		if ((rc = get_int(v, o, path, "ctime_ns", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->ctime_ns = n;
		if ((rc = get_int(v, o, path, "ino", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->ino = (uint64_t)n;
		if ((rc = get_int(v, o, path, "dev", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->dev = (uint64_t)n;
		if ((rc = get_str(v, o, path, "owner", false, &sc->owner, &it->owner, &len)) ||
		    (rc = get_str(v, o, path, "group", false, &sc->group, &it->group, &len)) ||
		    (rc = get_str(v, o, path, "target", false, &sc->target, &it->target, &len)))
			return rc;
	} else {
		/* The store keeps file metadata only for items with a file type. */
		static const char *const file_only[] = {
			"mode", "owner", "owner_b64", "group", "group_b64", "target", "target_b64",
			"size", "mtime_ns", "ctime_ns", "ino", "dev", NULL};
		for (size_t k = 0; file_only[k]; k++)
			if (json_object_get(o, file_only[k]))
				return bad(v, at(v, path, file_only[k]),
					   "allowed only on an item with an \"ftype\"");
	}

	json_t *ja = json_object_get(o, "attrs");
	if (ja) {
		if (!json_is_object(ja)) {
			show(ja, shown, sizeof(shown));
			return bad(v, at(v, path, "attrs"), "expected an object, got %s", shown);
		}
		/*
		 * A secret config value is kept as a keyed fingerprint only, never
		 * as a value. (A secret file's value is its type, mode and size.)
		 */
		if (json_is_true(json_object_get(ja, "secret")) && it->value &&
		    strcmp(it->kind, ED_KIND_CONFIG) == 0)
			return bad(v, at(v, path, json_object_get(o, "value") ? "value" : "value_b64"),
				   "a secret config item (attrs.secret) carries no value");
		if (want_attrs) {
			free(sc->attrs);
			sc->attrs = NULL;
			/* Compact, members in document order: what the collectors store. */
			if (!(sc->attrs = json_dumps(ja, JSON_COMPACT)))
				return oom(v);
			it->attrs = sc->attrs;
		} else {
			it->attrs = "{}"; /* present; the text is not needed to validate */
		}
	}
	return ED_OK;
}

static const char *const content_fields[] = {"fingerprint", "encoding", "data", NULL};

/* Reads and checks contents[i]: *data NULL for encoding "none". */
static enum ed_code content_of(struct vc *v, json_t *o, size_t i, struct ed_buf *buf,
			       struct ed_fp *fp, const char **data, size_t *len)
{
	char path[48], shown[128];
	enum ed_code rc;
	snprintf(path, sizeof(path), "$.contents[%zu]", i);
	*data = NULL;
	*len = 0;
	if (!json_is_object(o)) {
		show(o, shown, sizeof(shown));
		return bad(v, path, "expected an object, got %s", shown);
	}
	if ((rc = only_known(v, o, path, content_fields)) || (rc = get_fp(v, o, path, fp)))
		return rc;
	json_t *je = json_object_get(o, "encoding"), *jd = json_object_get(o, "data");
	if (!je)
		return bad(v, path, "missing field \"encoding\"");
	bool none = json_is_string(je) && strcmp(json_string_value(je), "none") == 0;
	bool b64 = json_is_string(je) && strcmp(json_string_value(je), "base64") == 0;
	if (!none && !b64) {
		show(je, shown, sizeof(shown));
		return bad(v, at(v, path, "encoding"), "expected \"base64\" or \"none\", got %s",
			   shown);
	}
	if (none) {
		if (jd)
			return bad(v, at(v, path, "data"), "not allowed with encoding \"none\"");
		return ED_OK;
	}
	if (!jd)
		return bad(v, path, "missing field \"data\"");
	if ((rc = get_b64(v, jd, path, "data", buf)))
		return rc;
	if (buf->len > ED_SNAPDOC_CONTENT_MAX)
		return bad(v, at(v, path, "data"), "larger than %zu bytes", ED_SNAPDOC_CONTENT_MAX);
	*data = buf->p ? buf->p : ""; /* empty, but kept: not the NULL of "none" */
	*len = buf->len;
	return ED_OK;
}


static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/* Equal fingerprints next to each other, by index: the order needs no more (memcmp is slower). */
static int cmp_fpref(const void *x, const void *y)
{
	const struct fpref *a = x, *b = y;
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a->fp.b, 8);
	memcpy(&b0, b->fp.b, 8);
	memcpy(&a1, a->fp.b + 8, 8);
	memcpy(&b1, b->fp.b + 8, 8);
	int c = cmp_u64(a0, b0);
	c = c ? c : cmp_u64(a1, b1);
	return c ? c : cmp_u64(a->idx, b->idx);
}
/* A copy of a string field of the head (decoded when _b64). */
static enum ed_code head_str(struct vc *v, json_t *o, const char *path, const char *f,
			     bool required, char **out)
{
	struct ed_buf b = ED_BUF_INIT;
	const char *s;
	size_t len;
	enum ed_code rc = get_str(v, o, path, f, required, &b, &s, &len);
	if (!rc && s && !(*out = ed_strndup(s, len)))
		rc = oom(v);
	ed_buf_release(&b);
	return rc;
}

static const char *const head_fields[] = {
	"format", "id", "env", "env_b64", "host", "host_b64", "role", "role_b64", "started_at",
	"finished_at", "collector", "warnings", "items", "contents", NULL};
static const char *const collector_fields[] = {"version", "host", "host_b64", "root",
					       "root_b64", NULL};

static enum ed_code get_time(struct vc *v, json_t *o, const char *f, char out[ED_ISOTIME_SIZE])
{
	json_t *j = json_object_get(o, f);
	char shown[128];
	if (!j)
		return bad(v, "$", "missing field \"%s\"", f);
	if (!json_is_string(j) || !ed_isotime_valid(json_string_value(j), json_string_length(j))) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, "$", f), "expected a UTC time as YYYY-MM-DDTHH:MM:SSZ, got %s",
			   shown);
	}
	snprintf(out, 32, "%s", json_string_value(j));
	return ED_OK;
}

/* Checks the top level, but for the arrays' elements. */
static enum ed_code check_head(struct vc *v, struct ed_snapdoc *d)
{
	json_t *root = d->head;
	char shown[128];
	enum ed_code rc;
	/* The format first: a newer format may well have fields this one does not know. */
	json_t *jf = json_object_get(root, "format");
	if (!jf)
		return bad(v, "$", "missing field \"format\" (not an %s document?)",
			   ED_SNAPDOC_FORMAT);
	if (!json_is_string(jf) || strcmp(json_string_value(jf), ED_SNAPDOC_FORMAT) != 0) {
		show(jf, shown, sizeof(shown));
		return bad(v, "$.format", "expected \"%s\", got %s%s", ED_SNAPDOC_FORMAT, shown,
			   json_is_string(jf) &&
				   strncmp(json_string_value(jf), "envdrift.snapshot/", 18) == 0
				   ? " (written by a newer envdrift? upgrade this one)"
				   : "");
	}
	if ((rc = only_known(v, root, "$", head_fields)))
		return rc;
	json_t *ji = json_object_get(root, "id");
	if (!ji)
		return bad(v, "$", "missing field \"id\"");
	if (!json_is_string(ji) ||
	    !ed_snapdoc_id_parse(json_string_value(ji), json_string_length(ji), d->id)) {
		show(ji, shown, sizeof(shown));
		return bad(v, "$.id", "expected a UUID (8-4-4-4-12 hex digits), got %s", shown);
	}
	if ((rc = head_str(v, root, "$", "env", true, &d->env)) ||
	    (rc = head_str(v, root, "$", "host", true, &d->host)) ||
	    (rc = head_str(v, root, "$", "role", false, &d->role)))
		return rc;
	if (!*d->env)
		return bad(v, at(v, "$", json_object_get(root, "env") ? "env" : "env_b64"), "is empty");
	if (!*d->host)
		return bad(v, at(v, "$", json_object_get(root, "host") ? "host" : "host_b64"),
			   "is empty");
	/* Names are shown on terminals: printable, as collect requires them. */
	const struct {
		const char *f;
		const char *s;
	} names[] = {{"env", d->env}, {"host", d->host}, {"role", d->role}};
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		char fb[16];
		snprintf(fb, sizeof(fb), "%s_b64", names[k].f);
		const char *p = at(v, "$", json_object_get(root, names[k].f) ? names[k].f : fb);
		struct ed_err e;
		if (names[k].s && ed_name_check(p, names[k].s, ED_NAME_MAX, &e))
			return ed_err_set(v->err, ED_PARSE, "%s: %s", v->name, e.msg);
	}
	if ((rc = get_time(v, root, "started_at", d->started_at)) ||
	    (rc = get_time(v, root, "finished_at", d->finished_at)))
		return rc;
	if (strcmp(d->finished_at, d->started_at) < 0)
		return bad(v, "$.finished_at", "%s is before started_at %s", d->finished_at,
			   d->started_at);

	json_t *jc = json_object_get(root, "collector");
	if (!jc)
		return bad(v, "$", "missing field \"collector\"");
	if (!json_is_object(jc)) {
		show(jc, shown, sizeof(shown));
		return bad(v, "$.collector", "expected an object, got %s", shown);
	}
	json_t *jv = json_object_get(jc, "version");
	if ((rc = only_known(v, jc, "$.collector", collector_fields)))
		return rc;
	if (!jv)
		return bad(v, "$.collector", "missing field \"version\"");
	if (!json_is_string(jv)) {
		show(jv, shown, sizeof(shown));
		return bad(v, "$.collector.version", "expected a string, got %s", shown);
	}
	if ((rc = head_str(v, jc, "$.collector", "host", false, &d->collector_host)) ||
	    (rc = head_str(v, jc, "$.collector", "root", false, &d->root_dir)))
		return rc;

	const struct {
		const char *name;
		const struct span *sp;
	} arrays[] = {{"warnings", &d->warnings}, {"items", &d->items}, {"contents", &d->contents}};
	for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
		json_t *j = json_object_get(root, arrays[k].name); /* there only when not an array */
		if (j) {
			show(j, shown, sizeof(shown));
			return bad(v, at(v, "$", arrays[k].name), "expected an array, got %s", shown);
		}
		if (arrays[k].sp->at == UINT64_MAX)
			return bad(v, "$", "missing field \"%s\"", arrays[k].name);
	}
	return ED_OK;
}

enum ed_code ed_snapdoc_check_clock(const struct ed_snapdoc *d, time_t now, long long max_skew,
				    struct ed_err *err)
{
	const struct {
		const char *f;
		const char *t;
	} times[] = {{"started_at", d->started_at}, {"finished_at", d->finished_at}};
	for (size_t k = 0; k < 2; k++) {
		time_t t;
		if (!ed_isotime_parse(times[k].t, strlen(times[k].t), &t))
			return ed_err_set(err, ED_PARSE, "%s: $.%s: not a UTC time", d->name,
					  times[k].f);
		if ((long long)t - (long long)now > max_skew) {
			char clock[ED_ISOTIME_SIZE];
			ed_isotime_format(now, clock);
			return ed_err_set(err, ED_PARSE,
					  "%s: $.%s: %s is %lld s ahead of this machine's clock (%s), "
					  "more than the %lld s allowed (--max-skew): a document "
					  "cannot be dated in the future",
					  d->name, times[k].f, times[k].t,
					  (long long)t - (long long)now, clock, max_skew);
		}
	}
	return ED_OK;
}

/* Checks warnings[i]: a string, or {"b64": ...} decoded into buf. *msg is NUL-terminated. */
static enum ed_code warning_of(struct vc *v, json_t *w, size_t i, struct ed_buf *buf,
			       const char **msg)
{
	static const char *const warn_fields[] = {"b64", NULL};
	char path[48], shown[128];
	enum ed_code rc;
	snprintf(path, sizeof(path), "$.warnings[%zu]", i);
	if (json_is_string(w)) {
		if (json_string_length(w) > ED_SNAPDOC_TEXT_MAX)
			return bad(v, path, "%zu bytes, more than the %zu allowed",
				   json_string_length(w), ED_SNAPDOC_TEXT_MAX);
		*msg = json_string_value(w);
		return ED_OK;
	}
	if (!json_is_object(w)) {
		show(w, shown, sizeof(shown));
		return bad(v, path, "expected a string or {\"b64\": ...}, got %s", shown);
	}
	if ((rc = only_known(v, w, path, warn_fields)))
		return rc;
	json_t *jb = json_object_get(w, "b64");
	if (!jb)
		return bad(v, path, "missing field \"b64\"");
	if ((rc = get_b64(v, jb, path, "b64", buf)))
		return rc;
	if (memchr(buf->p, '\0', buf->len))
		return bad(v, at(v, path, "b64"), "holds a NUL byte");
	if (buf->len > ED_SNAPDOC_TEXT_MAX)
		return bad(v, at(v, path, "b64"), "%zu bytes, more than the %zu allowed", buf->len,
			   ED_SNAPDOC_TEXT_MAX);
	*msg = buf->p;
	return ED_OK;
}

/* --- the scanner: the top level by hand, each value by jansson --- */

/*
 * The document as a window that slides over it: the whole of it in memory
 * (ed_snapdoc_parse), or read from a file a piece at a time, so that memory
 * stays at the size of the largest element, whatever the document's size.
 */
struct scan {
	const char *p; /* the window: bytes base .. base + len of the document */
	size_t len;
	size_t pos;    /* the current byte, in the window */
	uint64_t base; /* offset of p[0] in the document */
	int fd;        /* -1: p holds the whole document */
	char *buf;     /* fd: the window's storage (p == buf), owned */
	size_t cap;
	bool eof;       /* fd: nothing more to read */
	uint64_t total; /* fd: bytes read */
	size_t line;    /* newlines before base, plus one */
	uint64_t bol;   /* offset of the first byte of the line base is on */
	enum ed_code rc; /* a failure to read (in err), sticky */
	const char *name; /* for messages */
	struct ed_err *err;
};

#define WINDOW_READ ((size_t)256 * 1024)
#define FAST_AHEAD ((size_t)64 * 1024) /* bytes an item is first looked for in */

static void scan_release(struct scan *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* Drops the bytes before pos from the window, counting their lines. */
static void drop(struct scan *s)
{
	const char *q = s->p, *end = s->p + s->pos;
	while ((q = memchr(q, '\n', (size_t)(end - q)))) {
		s->line++;
		s->bol = s->base + (uint64_t)(q - s->p) + 1;
		q++;
	}
	memmove(s->buf, s->buf + s->pos, s->len - s->pos);
	s->len -= s->pos;
	s->base += s->pos;
	s->pos = 0;
}

/* Reads more of the document into the window, keeping p[pos..len). At the end, sets eof. */
static enum ed_code more(struct scan *s)
{
	if (s->rc)
		return s->rc;
	if (s->fd < 0 || s->eof) {
		s->eof = true;
		return ED_OK;
	}
	if (s->pos)
		drop(s);
	if (s->cap - s->len < WINDOW_READ / 2) {
		size_t ncap = s->cap ? s->cap * 2 : WINDOW_READ;
		char *nb = realloc(s->buf, ncap);
		if (!nb)
			return s->rc = ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
		s->buf = nb;
		s->p = nb;
		s->cap = ncap;
	}
	for (;;) {
		ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return s->rc = ed_err_set(s->err, ED_IO, "%s: %s", s->name, strerror(errno));
		if (n == 0)
			s->eof = true;
		s->len += (size_t)n;
		s->total += (uint64_t)n;
		if (s->total > ED_SNAPDOC_MAX_BYTES)
			return s->rc = ed_err_set(s->err, ED_TOOBIG, "%s: larger than %zu MiB",
						  s->name, ED_SNAPDOC_MAX_BYTES >> 20);
		return ED_OK;
	}
}

/* The byte at pos, reading more when needed; -1 at the end (or after a failure: s->rc). */
static int peek(struct scan *s)
{
	while (s->pos >= s->len) {
		if (s->eof || more(s))
			return -1;
	}
	return (unsigned char)s->p[s->pos];
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_blanks(struct scan *s)
{
	int c;
	while ((c = peek(s)) >= 0 && is_blank((char)c))
		s->pos++;
}

/* "NAME: PATH: not valid JSON: WHAT (line L, column C)" for the byte at window offset off. */
static enum ed_code syntax(struct scan *s, size_t off, const char *path, const char *what)
{
	size_t line = s->line;
	uint64_t bol = s->bol;
	for (size_t i = 0; i < off && i < s->len; i++)
		if (s->p[i] == '\n') {
			line++;
			bol = s->base + i + 1;
		}
	return ed_err_set(s->err, ED_PARSE, "%s: %s: not valid JSON: %s (line %zu, column %llu)",
			  s->name, path, what, line,
			  (unsigned long long)(s->base + off - bol + 1));
}

static enum ed_code syntax_at_byte(struct scan *s, const char *path, const char *expected)
{
	char what[96];
	int c = peek(s);
	if (s->rc)
		return s->rc;
	if (c < 0)
		snprintf(what, sizeof(what), "%s near end of file", expected);
	else if (c < 0x20 || c >= 0x7f)
		snprintf(what, sizeof(what), "%s near byte 0x%02x", expected, c);
	else
		snprintf(what, sizeof(what), "%s near '%c'", expected, c);
	return syntax(s, s->pos, path, what);
}

/*
 * Measures the JSON value at pos (an object or array up to its closing
 * bracket, a string up to its closing quote, anything else up to the next
 * delimiter): *n bytes, *found when its end is there (else *n runs to the
 * end of the document). While *n is at most max (0: no limit), the value is
 * kept in the window from pos on; past max it is only counted, and pos moves.
 */
static enum ed_code measure(struct scan *s, size_t max, size_t *n, bool *found)
{
	static const char ends[] = " \t\r\n,:[]{}\"";
	size_t i = 0, dropped = 0, depth = 0;
	int c0 = peek(s);
	int kind = c0 == '{' || c0 == '[' ? 0 : c0 == '"' ? 1 : 2;
	bool str = false, esc = false;
	*found = false;
	for (;;) {
		if (s->pos + i >= s->len) {
			if (max && dropped + i > max) {
				s->pos += i;
				dropped += i;
				i = 0;
			}
			if (s->eof)
				break;
			enum ed_code rc = more(s);
			if (rc)
				return rc;
			continue;
		}
		char c = s->p[s->pos + i];
		if (kind == 2) {
			if (memchr(ends, c, sizeof(ends) - 1))
				break;
		} else if (str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"') {
				str = false;
				if (kind == 1) {
					i++;
					*found = true;
					break;
				}
			}
		} else if (c == '"') {
			str = true;
		} else if (kind == 0 && (c == '{' || c == '[')) {
			depth++;
		} else if (kind == 0 && (c == '}' || c == ']') && --depth == 0) {
			i++;
			*found = true;
			break;
		}
		i++;
	}
	if (kind == 2)
		*found = true;
	*n = dropped + i;
	return ED_OK;
}

static enum ed_code too_big(struct scan *s, const char *path, size_t n, size_t max)
{
	return ed_err_set(s->err, ED_TOOBIG, "%s: %s: %zu bytes of JSON, more than the "
			  "%zu allowed for one element",
			  s->name, path, n, max);
}

/*
 * Parses the JSON value at the current position (after blanks) and moves past
 * it; a value whose JSON text is longer than max bytes (0: no limit) is
 * refused before it is parsed, so memory stays bounded whatever it holds.
 */
static enum ed_code scan_value_max(struct scan *s, const char *path, size_t max, json_t **out)
{
	json_error_t je;
	size_t flags = JSON_REJECT_DUPLICATES, n;
	bool found;
	enum ed_code rc;
	*out = NULL;
	skip_blanks(s);
	if (peek(s) < 0)
		return s->rc ? s->rc : syntax_at_byte(s, path, "a value expected");
	char c = s->p[s->pos];
	if ((rc = measure(s, max, &n, &found)))
		return rc;
	if (max && n > max)
		return too_big(s, path, n, max);
	size_t start = s->pos;
	if (c == '{' || c == '[')
		flags |= JSON_DISABLE_EOF_CHECK;
	else
		flags |= JSON_DECODE_ANY;
	if (n == 0)
		return syntax_at_byte(s, path, "a value expected");
	ed_json_oom_take();
	*out = ed_json_loadb(s->p + start, n, flags, &je);
	if (ed_json_oom_take()) { /* the value may have lost a byte: never trust it */
		json_decref(*out);
		*out = NULL;
		return ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
	}
	if (!*out) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
		/* The path inside the value, after the value's own path. */
		struct ed_buf full = ED_BUF_INIT, sub = ED_BUF_INIT;
		size_t at_off = (size_t)je.position < n ? (size_t)je.position : n;
		path_at(s->p + start, n, at_off, &sub);
		ed_buf_adds(&full, path);
		ed_buf_adds(&full, ed_buf_str(&sub) + (sub.len ? 1 : 0));
		rc = syntax(s, start + at_off, full.p ? full.p : path, je.text);
		ed_buf_release(&full);
		ed_buf_release(&sub);
		return rc;
	}
	s->pos = start + ((flags & JSON_DISABLE_EOF_CHECK) ? (size_t)je.position : n);
	return ED_OK;
}

static enum ed_code scan_value(struct scan *s, const char *path, json_t **out)
{
	return scan_value_max(s, path, 0, out);
}

/*
 * The item at the current position (after blanks) into *it: by the fast
 * path when it is plain, else parsed by jansson into *e and read by
 * item_of(). Moves past it.
 */
static enum ed_code scan_item(struct scan *s, struct vc *v, size_t i, struct scratch *sc,
			      bool want_attrs, struct ed_item *it, enum ed_code *irc)
{
	char path[48];
	size_t n;
	bool found;
	enum ed_code rc;
	json_t *e = NULL;
	*irc = ED_PARSE;
	skip_blanks(s);
	if (peek(s) == '{') {
		/* Plain items are short: try the fast path on what the window holds. */
		while (s->len - s->pos < FAST_AHEAD && !s->eof)
			if ((rc = more(s)))
				return rc;
		if ((n = ed_snapdoc_fast_item(s->p + s->pos, s->len - s->pos, &sc->fast, want_attrs,
					      it))) {
			s->pos += n;
			*irc = ED_OK;
			return ED_OK;
		}
		/* A long one, or not plain: measured, and read whole before jansson reads it. */
		snprintf(path, sizeof(path), "$.items[%zu]", i);
		if ((rc = measure(s, ED_SNAPDOC_ITEM_JSON_MAX, &n, &found)))
			return rc;
		if (n > ED_SNAPDOC_ITEM_JSON_MAX)
			return too_big(s, path, n, ED_SNAPDOC_ITEM_JSON_MAX);
		if (found && n > FAST_AHEAD &&
		    ed_snapdoc_fast_item(s->p + s->pos, n, &sc->fast, want_attrs, it) == n) {
			s->pos += n;
			*irc = ED_OK;
			return ED_OK;
		}
	}
	snprintf(path, sizeof(path), "$.items[%zu]", i); /* only now: the fast path needs none */
	if ((rc = scan_value_max(s, path, ED_SNAPDOC_ITEM_JSON_MAX, &e)))
		return rc;
	/* The item's strings point into e: keep it until the next item. */
	json_decref(sc->json);
	sc->json = e;
	*irc = item_of(v, e, i, sc, want_attrs, it);
	return ED_OK;
}

/* What the first pass keeps of the arrays' elements, to check them as a whole. */
struct body {
	struct vc v;          /* element problems go to .first */
	struct ed_err first;  /* the first element found wrong */
	bool failed;
	struct scratch sc;
	struct ed_buf buf;
	struct keyref *keys;  /* (kind, key) of each item */
	bool unsorted;        /* keys did not come in strictly increasing order (no repeat then) */
	const char *prev_kind; /* the previous item's kind (a constant) and key */
	struct ed_buf prev_key;
	size_t nkeys, capkeys;
	struct fpref *cfps;   /* fingerprints of contents, and their index */
	size_t ncfps, capcfps;
	struct ed_hasher *dig; /* the document's digest (ed_snapdoc_info) */
	struct ed_buf dbuf;   /* one element's fields, for dig */
};

/*
 * The digest: each element as a tag ('I' item, 'W' warning, 'C' content)
 * and its fields, a string as a presence byte, its length and its bytes, a
 * number as 8 bytes, in the order they come. Not a secret, and not proof
 * against a forger (XXH3-128): it only tells an unchanged document from a
 * changed one, and a document that lies can only describe its own host.
 */
static int dig_str(struct ed_buf *b, const char *s, size_t len)
{
	if (!s)
		return ed_buf_addc(b, 0);
	uint64_t n = len;
	return ed_buf_addc(b, 1) || ed_buf_add(b, &n, sizeof(n)) || ed_buf_add(b, s, len);
}

static int dig_int(struct ed_buf *b, uint64_t v)
{
	return ed_buf_add(b, &v, sizeof(v));
}

static enum ed_code dig_item(struct body *b, const struct ed_item *it)
{
	struct ed_buf *d = &b->dbuf;
	ed_buf_reset(d);
	int bad = ed_buf_addc(d, 'I') || dig_str(d, it->kind, strlen(it->kind)) ||
		  dig_str(d, it->key, it->key_len) || ed_buf_add(d, it->fp.b, sizeof(it->fp.b)) ||
		  dig_str(d, it->value, it->value ? strlen(it->value) : 0) ||
		  dig_str(d, it->attrs, it->attrs ? strlen(it->attrs) : 0) ||
		  dig_str(d, it->error, it->error ? strlen(it->error) : 0) ||
		  dig_int(d, (uint64_t)it->ftype) || dig_int(d, it->mode) ||
		  dig_str(d, it->owner, it->owner ? strlen(it->owner) : 0) ||
		  dig_str(d, it->group, it->group ? strlen(it->group) : 0) ||
		  dig_str(d, it->target, it->target ? strlen(it->target) : 0) ||
		  dig_int(d, (uint64_t)it->size) || dig_int(d, (uint64_t)it->mtime_ns) ||
		  dig_int(d, (uint64_t)it->ctime_ns) || dig_int(d, it->ino) || dig_int(d, it->dev);
	if (bad)
		return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
	ed_hasher_update(b->dig, d->p, d->len);
	return ED_OK;
}

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 1024;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

enum which { ITEMS, WARNINGS, CONTENTS };

/* Notes a valid item for the checks of the whole (unique keys, contents of files). */
static enum ed_code note_item(struct body *b, const struct ed_item *it, size_t i)
{
	struct ed_fp h;
	ed_buf_reset(&b->buf);
	if (ed_buf_adds(&b->buf, it->kind) || ed_buf_addc(&b->buf, '\0') ||
	    ed_buf_add(&b->buf, it->key, it->key_len) ||
	    !grow((void **)&b->keys, &b->capkeys, b->nkeys, sizeof(*b->keys)))
		return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
	ed_fp_of(b->buf.p, b->buf.len, &h);
	struct keyref *k = &b->keys[b->nkeys++];
	memcpy(k->h, h.b, sizeof(k->h));
	k->idx = (uint32_t)i;
	if (!b->unsorted && b->prev_kind) {
		int c = strcmp(b->prev_kind, it->kind);
		size_t n = b->prev_key.len < it->key_len ? b->prev_key.len : it->key_len;
		c = c ? c : memcmp(b->prev_key.p, it->key, n);
		c = c ? c : (b->prev_key.len > it->key_len) - (b->prev_key.len < it->key_len);
		b->unsorted = c >= 0;
	}
	b->prev_kind = it->kind;
	ed_buf_reset(&b->prev_key);
	if (!b->unsorted && ed_buf_add(&b->prev_key, it->key, it->key_len))
		return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
	return ED_OK;
}

/* Checks one warning or content; a problem is kept in b->first and the scan goes on. */
static enum ed_code check_elem(struct body *b, enum which w, json_t *e, size_t i)
{
	enum ed_code rc = ED_OK;
	if (b->failed)
		return ED_OK;
	if (w == WARNINGS) {
		const char *msg;
		if (!(rc = warning_of(&b->v, e, i, &b->buf, &msg))) {
			ed_buf_reset(&b->dbuf);
			if (ed_buf_addc(&b->dbuf, 'W') || dig_str(&b->dbuf, msg, strlen(msg)))
				return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
			ed_hasher_update(b->dig, b->dbuf.p, b->dbuf.len);
		}
	} else {
		struct ed_fp fp;
		const char *data;
		size_t len;
		if (!(rc = content_of(&b->v, e, i, &b->buf, &fp, &data, &len))) {
			if (!grow((void **)&b->cfps, &b->capcfps, b->ncfps, sizeof(*b->cfps)))
				return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
			b->cfps[b->ncfps++] = (struct fpref){fp, (uint32_t)i};
			ed_hasher_update(b->dig, "C", 1);
			ed_hasher_update(b->dig, fp.b, sizeof(fp.b));
		}
	}
	if (rc == ED_NOMEM)
		return rc;
	if (rc)
		b->failed = true;
	return ED_OK;
}

/* Reads an array of the document, checking each element as it goes. */
static enum ed_code scan_array(struct scan *s, struct body *b, enum which w, const char *name,
			       struct span *sp)
{
	char path[64];
	enum ed_code rc;
	sp->at = s->base + s->pos++; /* the '[' */
	sp->n = 0;
	skip_blanks(s);
	if (peek(s) == ']') {
		s->pos++;
		return ED_OK;
	}
	for (;;) {
		json_t *e = NULL;
		if (sp->n >= UINT32_MAX)
			return ed_err_set(s->err, ED_TOOBIG, "%s: $.%s: more than %lu elements",
					  s->name, name, (unsigned long)UINT32_MAX);
		if (w == ITEMS && !b->failed) {
			struct ed_item it;
			enum ed_code irc;
			if ((rc = scan_item(s, &b->v, sp->n, &b->sc, false, &it, &irc)))
				return rc;
			if (irc == ED_OK && !(rc = note_item(b, &it, sp->n)))
				rc = dig_item(b, &it);
			else if (irc == ED_NOMEM)
				rc = irc;
			else
				b->failed = true;
		} else {
			size_t max = w == ITEMS ? ED_SNAPDOC_ITEM_JSON_MAX
				     : w == WARNINGS ? ED_SNAPDOC_WARNING_JSON_MAX : 0;
			snprintf(path, sizeof(path), "$.%s[%zu]", name, sp->n);
			if ((rc = scan_value_max(s, path, max, &e)))
				return rc;
			rc = w == ITEMS ? ED_OK : check_elem(b, w, e, sp->n);
			json_decref(e);
		}
		if (rc) {
			*s->err = b->first;
			return rc;
		}
		sp->n++;
		skip_blanks(s);
		int c = peek(s);
		if (c == ',') {
			s->pos++;
			continue;
		}
		if (c == ']') {
			s->pos++;
			return ED_OK;
		}
		snprintf(path, sizeof(path), "$.%s", name);
		return syntax_at_byte(s, path, "',' or ']' expected");
	}
}

/* The first pass: the whole document's syntax, the top level into d->head, the arrays checked. */
static enum ed_code scan_doc(struct scan *s, struct ed_snapdoc *d, struct body *b)
{
	enum ed_code rc = ED_OK;
	json_t *key = NULL;
	struct ed_buf path = ED_BUF_INIT;
	char shown[128];
	skip_blanks(s);
	if (peek(s) != '{') {
		json_t *j = NULL;
		if (peek(s) < 0)
			return syntax_at_byte(s, "$", "'{' expected");
		if ((rc = scan_value(s, "$", &j)))
			return rc;
		show(j, shown, sizeof(shown));
		json_decref(j);
		return ed_err_set(s->err, ED_PARSE, "%s: $: expected an object, got %s", s->name,
				  shown);
	}
	if (!(d->head = json_object()))
		return ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
	s->pos++;
	skip_blanks(s);
	if (peek(s) == '}') {
		s->pos++;
		goto end;
	}
	for (;;) {
		skip_blanks(s);
		uint64_t kpos = s->base + s->pos; /* the window may move: an offset in the document */
		if (peek(s) != '"') {
			rc = syntax_at_byte(s, "$", "a string (a member's name) expected");
			goto out;
		}
		if ((rc = scan_value_max(s, "$", ED_SNAPDOC_WARNING_JSON_MAX, &key)))
			goto out;
		const char *k = json_string_value(key);
		ed_buf_reset(&path);
		if (ed_buf_addc(&path, '$') || path_add_key(&path, k, json_string_length(key))) {
			rc = ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
			goto out;
		}
		struct span *sp = strcmp(k, "items") == 0	 ? &d->items
				  : strcmp(k, "warnings") == 0 ? &d->warnings
				  : strcmp(k, "contents") == 0 ? &d->contents
							       : NULL;
		enum which w = sp == &d->items ? ITEMS : sp == &d->warnings ? WARNINGS : CONTENTS;
		if ((sp && sp->at != UINT64_MAX) || json_object_get(d->head, k)) {
			rc = syntax(s, (size_t)(kpos - s->base), path.p, "duplicate object key");
			goto out;
		}
		skip_blanks(s);
		if (peek(s) != ':') {
			rc = syntax_at_byte(s, path.p, "':' expected");
			goto out;
		}
		s->pos++;
		skip_blanks(s);
		if (sp && peek(s) == '[') {
			if ((rc = scan_array(s, b, w, k, sp)))
				goto out;
		} else {
			json_t *val = NULL;
			/* The head's members are names, times and the collector: small. */
			if ((rc = scan_value_max(s, path.p, ED_SNAPDOC_WARNING_JSON_MAX, &val)))
				goto out;
			/* _new: head takes val's reference */
			if (json_object_set_new(d->head, k, val)) {
				rc = ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
				goto out;
			}
		}
		json_decref(key);
		key = NULL;
		skip_blanks(s);
		if (peek(s) == ',') {
			s->pos++;
			continue;
		}
		if (peek(s) == '}') {
			s->pos++;
			break;
		}
		rc = syntax_at_byte(s, "$", "',' or '}' expected");
		goto out;
	}
end:
	skip_blanks(s);
	if (peek(s) >= 0 || s->rc)
		rc = syntax_at_byte(s, "$", "end of file expected");
out:
	json_decref(key);
	ed_buf_release(&path);
	return rc;
}

static enum ed_code contents_of_files(const struct ed_snapdoc *d, struct body *b,
				      struct ed_err *err);
static enum ed_code repeated_key(const struct ed_snapdoc *d, struct body *b, struct ed_err *err);

static int cmp_keyref(const void *x, const void *y)
{
	const struct keyref *a = x, *b = y;
	int c = cmp_u64(a->h[0], b->h[0]);
	c = c ? c : cmp_u64(a->h[1], b->h[1]);
	return c ? c : cmp_u64(a->idx, b->idx);
}

/* After the first pass: unique (kind, key) pairs, contents that belong to file items, once each. */
static enum ed_code check_body(struct ed_snapdoc *d, struct vc *v, struct body *b,
			       struct ed_err *err)
{
	char path[48];
	enum ed_code rc;
	/* Keys in strictly increasing order (as export writes them) hold no repeat. */
	if (b->nkeys > 1 && b->unsorted) { /* qsort and bsearch take no NULL, even for 0 elements */
		qsort(b->keys, b->nkeys, sizeof(*b->keys), cmp_keyref);
		if ((rc = repeated_key(d, b, err)))
			return rc;
	}
	size_t dup = SIZE_MAX, orig = 0;
	if (b->ncfps && (rc = contents_of_files(d, b, err)))
		return rc;
	if (b->ncfps > 1)
		qsort(b->cfps, b->ncfps, sizeof(*b->cfps), cmp_fpref);
	for (size_t i = 1; i < b->ncfps; i++)
		if (memcmp(b->cfps[i].fp.b, b->cfps[i - 1].fp.b, ED_FP_LEN) == 0 &&
		    b->cfps[i].idx < dup) {
			dup = b->cfps[i].idx;
			orig = b->cfps[i - 1].idx;
		}
	if (dup != SIZE_MAX) {
		snprintf(path, sizeof(path), "$.contents[%zu].fingerprint", dup);
		return bad(v, path, "the same fingerprint as $.contents[%zu]", orig);
	}
	return ED_OK;
}

/* A scanner over document d from offset at on (at must be 0 for a file not yet read). */
static enum ed_code scan_open(struct scan *s, const struct ed_snapdoc *d, uint64_t at,
			      struct ed_err *err)
{
	*s = (struct scan){.fd = d->fd, .line = 1, .name = d->name, .err = err};
	if (d->fd < 0) {
		s->p = d->buf;
		s->len = d->len;
		s->pos = (size_t)at;
		s->eof = true;
		return ED_OK;
	}
	if (lseek(d->fd, (off_t)at, SEEK_SET) < 0)
		return ed_err_set(err, ED_IO, "%s: %s", d->name, strerror(errno));
	s->base = s->bol = s->total = at;
	return ED_OK;
}

/*
 * Checks the document of d (its buf, or its fd from the start); d then
 * holds what it says. Frees d when it is not valid.
 */
static enum ed_code parse_doc(struct ed_snapdoc *d, struct ed_snapdoc **out, struct ed_err *err)
{
	struct body b = {.v = {.name = d->name, .err = NULL, .path = ED_BUF_INIT}};
	struct vc v = {.name = d->name, .err = err, .path = ED_BUF_INIT};
	struct scan s = {0}; /* released below even when the digest's state cannot be made */
	enum ed_code rc = ED_OK;
	b.v.err = &b.first;
	b.dbuf = (struct ed_buf)ED_BUF_INIT;
	*out = NULL;
	d->items.at = d->warnings.at = d->contents.at = UINT64_MAX;
	if (!(b.dig = ed_hasher_new())) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", d->name);
		goto out;
	}
	if ((rc = scan_open(&s, d, 0, err)))
		goto out;
	/* Syntax first, then the top level (the format above all), then the elements. */
	if ((rc = scan_doc(&s, d, &b)) || (rc = check_head(&v, d)))
		goto out;
	if (b.failed) {
		*err = b.first;
		rc = b.first.code;
		goto out;
	}
	if ((rc = check_body(d, &v, &b, err)))
		goto out;
	ed_hasher_final(b.dig, &d->digest);
	d->info = (struct ed_snapdoc_info){
		.id = d->id,
		.env = d->env,
		.host = d->host,
		.role = d->role,
		.collector_host = d->collector_host,
		.collector_root = d->root_dir,
		.started_at = d->started_at,
		.finished_at = d->finished_at,
		.nitems = d->items.n,
		.digest = &d->digest,
	};
	*out = d;
	d = NULL;
out:
	scan_release(&s);
	scratch_release(&b.sc);
	ed_buf_release(&b.buf);
	ed_buf_release(&b.prev_key);
	ed_buf_release(&b.dbuf);
	ed_hasher_free(b.dig);
	ed_buf_release(&b.v.path);
	ed_buf_release(&v.path);
	free(b.keys);
	free(b.cfps);
	ed_snapdoc_free(d);
	return rc;
}

static struct ed_snapdoc *doc_new(const char *name)
{
	struct ed_snapdoc *d = calloc(1, sizeof(*d));
	if (d && !(d->name = strdup(name))) {
		free(d);
		return NULL;
	}
	if (d)
		d->fd = -1;
	return d;
}

enum ed_code ed_snapdoc_parse(const char *data, size_t len, const char *name,
			      struct ed_snapdoc **out, struct ed_err *err)
{
	*out = NULL;
	if (len > ED_SNAPDOC_MAX_BYTES)
		return ed_err_set(err, ED_TOOBIG, "%s: larger than %zu MiB", name,
				  ED_SNAPDOC_MAX_BYTES >> 20);
	struct ed_snapdoc *d = doc_new(name);
	if (!d || !(d->buf = malloc(len ? len : 1))) {
		ed_snapdoc_free(d);
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", name);
	}
	if (len)
		memcpy(d->buf, data, len);
	d->len = len;
	return parse_doc(d, out, err);
}

/* Copies what is left of fd (a pipe) into *out, an unlinked file at its start. */
static enum ed_code spool(int fd, const char *name, int *out, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	uint64_t total = 0;
	char *buf = malloc(WINDOW_READ);
	const char *dir = getenv("TMPDIR");
	int sp = ed_tmpfile_open(dir && *dir ? dir : "/tmp");
	*out = -1;
	if (!buf) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", name);
		goto out;
	}
	if (sp < 0) {
		rc = ed_err_set(err, ED_IO, "%s: cannot make a temporary file to read it into: %s",
				name, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, WINDOW_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ed_err_set(err, ED_IO, "%s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((total += (uint64_t)n) > ED_SNAPDOC_MAX_BYTES) {
			rc = ed_err_set(err, ED_TOOBIG, "%s: larger than %zu MiB", name,
					ED_SNAPDOC_MAX_BYTES >> 20);
			goto out;
		}
		for (ssize_t o = 0; o < n;) {
			ssize_t w = write(sp, buf + o, (size_t)(n - o));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = ed_err_set(err, ED_IO, "%s: writing a temporary copy: %s", name,
						strerror(errno));
				goto out;
			}
			o += w;
		}
	}
	if (lseek(sp, 0, SEEK_SET) < 0) {
		rc = ed_err_set(err, ED_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	*out = sp;
	sp = -1;
out:
	if (sp >= 0)
		close(sp);
	free(buf);
	return rc;
}

enum ed_code ed_snapdoc_read_fd(int fd, const char *name, struct ed_snapdoc **out,
				struct ed_err *err)
{
	struct stat sb;
	struct ed_snapdoc *d = NULL;
	enum ed_code rc = ED_OK;
	*out = NULL;
	if (fstat(fd, &sb) != 0)
		return ed_err_set(err, ED_IO, "%s: %s", name, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return ed_err_set(err, ED_IO, "%s: is a directory", name);
	if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > ED_SNAPDOC_MAX_BYTES)
		return ed_err_set(err, ED_TOOBIG, "%s: larger than %zu MiB", name,
				  ED_SNAPDOC_MAX_BYTES >> 20);
	if (!(d = doc_new(name)))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", name);
	/* Read twice (checked, then replayed): a pipe is copied to a file first. */
	if (S_ISREG(sb.st_mode))
		d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	else if ((rc = spool(fd, name, &d->fd, err))) {
		ed_snapdoc_free(d);
		return rc;
	}
	if (d->fd < 0) {
		rc = ed_err_set(err, ED_IO, "%s: %s", name, strerror(errno));
		ed_snapdoc_free(d);
		return rc;
	}
	return parse_doc(d, out, err);
}

enum ed_code ed_snapdoc_load(const char *path, struct ed_snapdoc **out, struct ed_err *err)
{
	bool std = strcmp(path, "-") == 0;
	const char *name = std ? STDIN_NAME : path;
	*out = NULL;
	int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO, "%s: %s", name,
				  strerror(errno));
	enum ed_code rc = ed_snapdoc_read_fd(fd, name, out, err);
	if (!std)
		close(fd);
	return rc;
}

void ed_snapdoc_free(struct ed_snapdoc *d)
{
	if (!d)
		return;
	json_decref(d->head);
	free(d->buf);
	if (d->fd >= 0)
		close(d->fd);
	free(d->name);
	free(d->env);
	free(d->host);
	free(d->role);
	free(d->root_dir);
	free(d->collector_host);
	free(d);
}

const struct ed_snapdoc_info *ed_snapdoc_info(const struct ed_snapdoc *d)
{
	return &d->info;
}

/* The elements of a checked array, one at a time. */
struct elems {
	struct scan s;
	size_t i, n;
};

static enum ed_code elems_begin(struct elems *it, const struct ed_snapdoc *d, const struct span *sp,
				struct ed_err *err)
{
	it->i = 0;
	it->n = sp->n;
	return scan_open(&it->s, d, sp->at + 1, err);
}

/* Moves to the next element: false after the last one. */
static bool elems_next(struct elems *it)
{
	if (it->i == it->n)
		return false;
	if (it->i++) {
		skip_blanks(&it->s);
		it->s.pos++; /* the ',' */
	}
	return true;
}

enum ed_code ed_snapdoc_replay(const struct ed_snapdoc *d, struct ed_sink *sink,
			       struct ed_err *err)
{
	struct vc v = {.name = d->name, .err = err, .path = ED_BUF_INIT};
	struct scratch sc = {0};
	struct ed_buf b = ED_BUF_INIT;
	struct elems it = {0};
	json_t *e = NULL;
	enum ed_code rc;

	if (!(rc = elems_begin(&it, d, &d->items, err)))
		while (!rc && elems_next(&it)) {
			struct ed_item item;
			enum ed_code irc;
			if (!(rc = scan_item(&it.s, &v, it.i - 1, &sc, true, &item, &irc)) &&
			    !(rc = irc))
				rc = sink->emit(sink, &item, err);
		}
	scan_release(&it.s);
	if (!rc && !(rc = elems_begin(&it, d, &d->warnings, err)))
		while (!rc && elems_next(&it) && !(rc = scan_value(&it.s, "$", &e))) {
			const char *msg;
			if (!(rc = warning_of(&v, e, it.i - 1, &b, &msg)))
				sink->warn(sink, msg);
			json_decref(e);
		}
	scan_release(&it.s);
	if (!rc && sink->content && !(rc = elems_begin(&it, d, &d->contents, err)))
		while (!rc && elems_next(&it) && !(rc = scan_value(&it.s, "$", &e))) {
			struct ed_fp fp;
			const char *data;
			size_t len;
			if (!(rc = content_of(&v, e, it.i - 1, &b, &fp, &data, &len)))
				rc = sink->content(sink, &fp, data, len, err);
			json_decref(e);
		}
	scan_release(&it.s);
	scratch_release(&sc);
	ed_buf_release(&b);
	ed_buf_release(&v.path);
	return rc;
}

/*
 * Does a file item have the fingerprint of each content? The items are read
 * again for it (only a document with contents pays), so that no fingerprint
 * of a file is kept per item. The first content (by index) that has none is
 * named.
 */
static enum ed_code contents_of_files(const struct ed_snapdoc *d, struct body *b,
				      struct ed_err *err)
{
	struct vc v = {.name = d->name, .err = err, .path = ED_BUF_INIT};
	struct fpref *byfp = malloc(b->ncfps * sizeof(*byfp));
	bool *found = calloc(b->ncfps, sizeof(*found));
	struct scratch sc = {0};
	struct elems it = {0};
	enum ed_code rc = ED_OK;
	if (!byfp || !found) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", d->name);
		goto out;
	}
	memcpy(byfp, b->cfps, b->ncfps * sizeof(*byfp));
	qsort(byfp, b->ncfps, sizeof(*byfp), cmp_fpref);
	if ((rc = elems_begin(&it, d, &d->items, err)))
		goto out;
	while (!rc && elems_next(&it)) {
		struct ed_item item;
		enum ed_code irc;
		if ((rc = scan_item(&it.s, &v, it.i - 1, &sc, false, &item, &irc)) || (rc = irc))
			break;
		if (strcmp(item.kind, ED_KIND_FILE) != 0)
			continue;
		/* The first of the contents with this fingerprint, then the others after it. */
		struct fpref key = {item.fp, 0};
		size_t lo = 0, hi = b->ncfps;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (cmp_fpref(&byfp[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < b->ncfps && memcmp(byfp[lo].fp.b, item.fp.b, ED_FP_LEN) == 0; lo++)
			found[byfp[lo].idx] = true;
	}
	for (size_t i = 0; !rc && i < b->ncfps; i++)
		if (!found[i]) {
			char path[48];
			snprintf(path, sizeof(path), "$.contents[%zu].fingerprint", i);
			rc = bad(&v, path, "no file item has this fingerprint");
		}
out:
	scan_release(&it.s);
	scratch_release(&sc);
	ed_buf_release(&v.path);
	free(byfp);
	free(found);
	return rc;
}

static int cmp_fpref_idx(const void *x, const void *y)
{
	return cmp_u64(((const struct fpref *)x)->idx, ((const struct fpref *)y)->idx);
}

/*
 * After the sort of b->keys by hash: the items whose 64 bits tie are read
 * again for their whole XXH3-128 (a real repeat, or, once in 2^64, two keys
 * that share 64 bits), and the first repeat in the document is named.
 */
static enum ed_code repeated_key(const struct ed_snapdoc *d, struct body *b, struct ed_err *err)
{
	struct vc v = {.name = d->name, .err = err, .path = ED_BUF_INIT};
	struct fpref *tie = NULL; /* the items that tie, by index, then their 128 bits */
	size_t ntie = 0, captie = 0;
	struct scratch sc = {0};
	struct elems it = {0};
	struct ed_buf kk = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	for (size_t i = 1; i < b->nkeys; i++) {
		bool same = memcmp(b->keys[i].h, b->keys[i - 1].h, sizeof(b->keys[i].h)) == 0;
		bool first = i < 2 || memcmp(b->keys[i - 1].h, b->keys[i - 2].h,
					     sizeof(b->keys[i].h)) != 0;
		for (size_t k = first ? i - 1 : i; same && k <= i; k++) {
			if (!grow((void **)&tie, &captie, ntie, sizeof(*tie))) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", d->name);
				goto out;
			}
			tie[ntie++] = (struct fpref){.idx = b->keys[k].idx};
		}
	}
	if (!ntie)
		goto out;
	qsort(tie, ntie, sizeof(*tie), cmp_fpref_idx);
	if ((rc = elems_begin(&it, d, &d->items, err)))
		goto out;
	for (size_t t = 0; !rc && t < ntie && elems_next(&it);) {
		struct ed_item item;
		enum ed_code irc;
		if ((rc = scan_item(&it.s, &v, it.i - 1, &sc, false, &item, &irc)) || (rc = irc))
			break;
		if (it.i - 1 != tie[t].idx)
			continue;
		ed_buf_reset(&kk);
		if (ed_buf_adds(&kk, item.kind) || ed_buf_addc(&kk, '\0') ||
		    ed_buf_add(&kk, item.key, item.key_len)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", d->name);
			break;
		}
		ed_fp_of(kk.p, kk.len, &tie[t++].fp);
	}
	if (rc)
		goto out;
	/* Of all repeats, the one that comes first in the document, and the item it repeats. */
	qsort(tie, ntie, sizeof(*tie), cmp_fpref);
	size_t dup = SIZE_MAX, orig = 0;
	for (size_t i = 1; i < ntie; i++)
		if (memcmp(tie[i].fp.b, tie[i - 1].fp.b, ED_FP_LEN) == 0 && tie[i].idx < dup) {
			size_t r = i - 1; /* sorted by index within a run: its first is the original */
			while (r > 0 && memcmp(tie[r - 1].fp.b, tie[i].fp.b, ED_FP_LEN) == 0)
				r--;
			dup = tie[i].idx;
			orig = tie[r].idx;
		}
	if (dup != SIZE_MAX) {
		char path[48];
		snprintf(path, sizeof(path), "$.items[%zu]", dup);
		rc = bad(&v, path, "the same (kind, key) as $.items[%zu]", orig);
	}
out:
	scan_release(&it.s);
	scratch_release(&sc);
	ed_buf_release(&kk);
	ed_buf_release(&v.path);
	free(tie);
	return rc;
}
