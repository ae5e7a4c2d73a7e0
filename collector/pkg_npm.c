/* SPDX-License-Identifier: MIT */
/*
 * npm: packages from package-lock.json files (lockfileVersion 1, 2, 3) and
 * from node_modules folders (each package's package.json), keyed by the
 * folder the package is installed in: "npm:/srv/app/node_modules/express".
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/pkg.h"
#include "ed/snapdoc.h"

#define NPM_MAX_WARNINGS 100
/* Nesting of a v1 lock's dependency tree, and of node_modules folders. */
#define NPM_V1_DEPTH_MAX 64
#define NPM_TREE_DEPTH_MAX 32
#define NPM_SHOW_MAX 200

/* One package found; every string owned. */
struct rec {
	char *key;    /* "npm:/path/node_modules/name" */
	char *value;  /* the version */
	char *attrs;  /* JSON text */
	char *origin; /* the lock file or package.json it came from */
	size_t order; /* discovery order, so the first of two duplicates wins */
};

/* One input (a lock file, a node_modules tree), for capped warnings. */
struct input {
	const char *origin;
	size_t nwarnings;
};

struct acc {
	struct ed_source *src;
	struct ed_sink *sink;
	struct rec *recs;
	size_t n, cap;
};

static void warn_in(struct acc *a, struct input *in, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_in(struct acc *a, struct input *in, const char *fmt, ...)
{
	va_list ap;
	const char *where = in->origin;
	va_start(ap, fmt);
	ed_sink_vwarn_capped(a->sink, &in->nwarnings, NPM_MAX_WARNINGS, where, false, fmt, ap);
	va_end(ap);
}

/* How many bytes of s (valid UTF-8) to quote in a message. */
static int show_len(const char *s)
{
	size_t n = strlen(s);
	if (n > NPM_SHOW_MAX) {
		n = NPM_SHOW_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

/* No controls, no spaces: fit for a key segment or a version. */
static bool clean(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* A path segment that is not empty, ".", "..", and holds no control byte or space. */
static bool segment_ok(const char *s, size_t len)
{
	if (!clean(s, len) || memchr(s, ' ', len))
		return false;
	return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* The "version" of an object when it is a string fit for a value, else NULL. */
static const char *version_of(json_t *obj)
{
	json_t *ver = json_object_get(obj, "version");
	const char *v = json_string_value(ver);
	size_t len = json_string_length(ver);
	return v && strlen(v) == len && clean(v, len) ? v : NULL;
}

/* "NAME" or "@SCOPE/NAME", with clean segments. */
static bool pkg_name_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return segment_ok(s, strlen(s));
	return s[0] == '@' && segment_ok(s, (size_t)(slash - s)) &&
	       segment_ok(slash + 1, strlen(slash + 1)) && !strchr(slash + 1, '/');
}

/* Adds a package; takes nothing from the caller (copies everything). */
static enum ed_code add_rec(struct acc *a, const char *install_dir, const char *version,
			    const char *name, bool dev, bool optional, const char *origin,
			    struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT;
	json_t *attrs = NULL;
	char *attrs_text = NULL, *value = NULL, *org = NULL;

	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 128;
		struct rec *v = ncap <= SIZE_MAX / sizeof(*v) ? realloc(a->recs, ncap * sizeof(*v))
							      : NULL;
		if (!v)
			goto nomem;
		a->recs = v;
		a->cap = ncap;
	}
	/* Strings here come from JSON (valid UTF-8) or were escaped by the caller. */
	attrs = json_pack("{s:s, s:s}", "manager", "npm", "name", name);
	if (!attrs || (dev && json_object_set_new(attrs, "dev", json_true())) ||
	    (optional && json_object_set_new(attrs, "optional", json_true())))
		goto nomem;
	attrs_text = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
	if (!attrs_text || ed_buf_adds(&key, "npm:") || ed_buf_adds(&key, install_dir) ||
	    !(value = strdup(version)) || !(org = strdup(origin)))
		goto nomem;
	struct rec *r = &a->recs[a->n];
	r->key = ed_buf_detach(&key);
	r->value = value;
	r->attrs = attrs_text;
	r->origin = org;
	r->order = a->n;
	a->n++;
	json_decref(attrs);
	return ED_OK;
nomem:
	ed_buf_release(&key);
	free(attrs_text);
	free(value);
	free(org);
	json_decref(attrs);
	return ed_err_set(err, ED_NOMEM, "%s: out of memory", origin);
}

/* --- lock files --- */

/* "/srv/app/package-lock.json" -> "/srv/app"; "/package-lock.json" -> "". */
static int lock_folder(const char *lock_path, struct ed_buf *out)
{
	const char *slash = strrchr(lock_path, '/');
	if (!slash)
		return ed_buf_adds(out, "");
	return ed_buf_add(out, lock_path, (size_t)(slash - lock_path));
}

static bool flag(json_t *entry, const char *name)
{
	return json_is_true(json_object_get(entry, name));
}

/*
 * The package name at the end of a v2/v3 "packages" path, after its last
 * "node_modules/" segment; NULL when the path is not inside a node_modules
 * folder. *bad is set when the path is malformed.
 */
static const char *lock_path_name(const char *path, bool *bad)
{
	const char *name = NULL;
	*bad = false;
	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!segment_ok(p, len)) {
			*bad = true;
			return NULL;
		}
		if (len == 12 && memcmp(p, "node_modules", 12) == 0 && slash)
			name = slash + 1;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (name && !pkg_name_ok(name)) {
		*bad = true;
		return NULL;
	}
	return name;
}

static enum ed_code lock_v2(struct acc *a, struct input *in, json_t *packages, const char *dir,
			    struct ed_err *err)
{
	struct ed_buf path = ED_BUF_INIT;
	const char *k;
	json_t *entry;
	enum ed_code rc = ED_OK;

	json_object_foreach(packages, k, entry) {
		bool bad;
		if (!*k)
			continue; /* the project itself */
		const char *name = lock_path_name(k, &bad);
		if (bad) {
			warn_in(a, in, "%s: package path '%.*s' is malformed; skipped", in->origin,
				show_len(k), k);
			continue;
		}
		if (!name)
			continue; /* a workspace folder: the project's own code */
		if (!json_is_object(entry)) {
			warn_in(a, in, "%s: entry '%.*s' is not an object; skipped", in->origin,
				show_len(k), k);
			continue;
		}
		if (flag(entry, "link"))
			continue; /* its target has an entry of its own */
		const char *v = version_of(entry);
		if (!v) {
			warn_in(a, in, "%s: entry '%.*s' has no usable version; skipped",
				in->origin, show_len(k), k);
			continue;
		}
		const char *real = json_string_value(json_object_get(entry, "name"));
		ed_buf_reset(&path);
		if (ed_buf_adds(&path, dir) || ed_buf_addc(&path, '/') || ed_buf_adds(&path, k)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", in->origin);
			break;
		}
		rc = add_rec(a, path.p, v, real ? real : name, flag(entry, "dev"),
			     flag(entry, "optional"), in->origin, err);
		if (rc != ED_OK)
			break;
	}
	ed_buf_release(&path);
	return rc;
}

static enum ed_code lock_v1(struct acc *a, struct input *in, json_t *deps, const char *parent,
			    int depth, struct ed_err *err)
{
	struct ed_buf path = ED_BUF_INIT;
	const char *k;
	json_t *entry;
	enum ed_code rc = ED_OK;

	if (depth > NPM_V1_DEPTH_MAX) {
		warn_in(a, in, "%s: dependencies nested deeper than %d under '%.*s'; not read",
			in->origin, NPM_V1_DEPTH_MAX, show_len(parent), parent);
		return ED_OK;
	}
	json_object_foreach(deps, k, entry) {
		if (!pkg_name_ok(k)) {
			warn_in(a, in, "%s: dependency name '%.*s' is malformed; skipped",
				in->origin, show_len(k), k);
			continue;
		}
		ed_buf_reset(&path);
		if (ed_buf_adds(&path, parent) || ed_buf_adds(&path, "/node_modules/") ||
		    ed_buf_adds(&path, k)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", in->origin);
			break;
		}
		if (!json_is_object(entry)) {
			warn_in(a, in, "%s: dependency '%.*s' is not an object; skipped",
				in->origin, show_len(path.p), path.p);
			continue;
		}
		const char *v = version_of(entry);
		if (!v) {
			warn_in(a, in, "%s: dependency '%.*s' has no usable version; skipped",
				in->origin, show_len(path.p), path.p);
		} else {
			rc = add_rec(a, path.p, v, k, flag(entry, "dev"), flag(entry, "optional"),
				     in->origin, err);
			if (rc != ED_OK)
				break;
		}
		json_t *sub = json_object_get(entry, "dependencies");
		if (json_is_object(sub)) {
			rc = lock_v1(a, in, sub, path.p, depth + 1, err);
			if (rc != ED_OK)
				break;
		}
	}
	ed_buf_release(&path);
	return rc;
}

static enum ed_code lock_into(struct acc *a, struct ed_str text, const char *lock_path,
			      struct ed_err *err)
{
	struct input in = {.origin = lock_path};
	struct ed_buf dir = ED_BUF_INIT;
	json_error_t jerr;
	json_t *root = ed_json_loadb(text.p, text.len, JSON_REJECT_DUPLICATES, &jerr);
	enum ed_code rc = ED_OK;

	if (!root) {
		warn_in(a, &in, "%s:%d:%d: %s", lock_path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		warn_in(a, &in, "%s:1:1: not a JSON object", lock_path);
		goto out;
	}
	json_t *lv = json_object_get(root, "lockfileVersion");
	json_t *packages = json_object_get(root, "packages");
	json_t *deps = json_object_get(root, "dependencies");
	if (lv && !(json_is_integer(lv) && json_integer_value(lv) >= 1 &&
		    json_integer_value(lv) <= 3)) {
		warn_in(a, &in, "%s: lockfileVersion is not 1, 2 or 3; not read", lock_path);
		goto out;
	}
	if (!lv && !json_is_object(packages) && !json_is_object(deps)) {
		warn_in(a, &in, "%s: no lockfileVersion, packages or dependencies: not a "
			"package-lock.json", lock_path);
		goto out;
	}
	if (lock_folder(lock_path, &dir)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", lock_path);
		goto out;
	}
	if (json_is_object(packages))
		rc = lock_v2(a, &in, packages, ed_buf_str(&dir), err);
	else if (json_is_object(deps))
		rc = lock_v1(a, &in, deps, ed_buf_str(&dir), 0, err);
out:
	json_decref(root);
	ed_buf_release(&dir);
	return rc;
}

/* --- emitting --- */

static int cmp_rec(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);
	return c ? c : (a->order < b->order ? -1 : a->order > b->order);
}

/* Sorts by key and emits; of two records with one key the first found wins. */
static enum ed_code acc_emit(struct acc *a, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	if (a->n > 1)
		qsort(a->recs, a->n, sizeof(*a->recs), cmp_rec);
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *r = &a->recs[i];
		if (i && strcmp(r->key, a->recs[i - 1].key) == 0) {
			size_t first = i - 1;
			while (first && strcmp(a->recs[first - 1].key, r->key) == 0)
				first--;
			const struct rec *f = &a->recs[first];
			if (strcmp(f->value, r->value) != 0)
				ed_sink_warn(a->sink, "%.*s: version %.*s in %s, but %.*s in %s; "
					     "keeping the first", show_len(r->key), r->key,
					     show_len(f->value), f->value, f->origin,
					     show_len(r->value), r->value, r->origin);
			continue;
		}
		struct ed_item it = {
			.kind = ED_KIND_PACKAGE,
			.key = r->key,
			.key_len = strlen(r->key),
			.value = r->value,
			.attrs = r->attrs,
			.ftype = ED_FT_NONE,
		};
		ed_fp_of(r->value, strlen(r->value), &it.fp);
		rc = a->sink->emit(a->sink, &it, err);
		if (rc != ED_OK)
			break;
	}
	return rc;
}

static void acc_release(struct acc *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->recs[i].key);
		free(a->recs[i].value);
		free(a->recs[i].attrs);
		free(a->recs[i].origin);
	}
	free(a->recs);
	a->recs = NULL;
	a->n = a->cap = 0;
}

enum ed_code ed_npm_lock_parse(struct ed_str text, const char *lock_path, struct ed_sink *sink,
			       struct ed_err *err)
{
	struct acc a = {.sink = sink};
	if (!lock_path)
		lock_path = "/package-lock.json";
	enum ed_code rc = lock_into(&a, text, lock_path, err);
	if (rc == ED_OK)
		rc = acc_emit(&a, err);
	acc_release(&a);
	return rc;
}

/* --- node_modules folders --- */

static enum ed_code scan_modules(struct acc *a, struct input *in, const char *dir, int depth,
				 struct ed_err *err);

/* One package folder: its package.json, then its own node_modules. */
static enum ed_code scan_package(struct acc *a, struct input *in, const char *pkg,
				 const char *folder_name, int depth, struct ed_err *err)
{
	struct ed_buf p = ED_BUF_INIT, text = ED_BUF_INIT, name = ED_BUF_INIT;
	struct ed_err e = {0};
	struct ed_stat st;
	json_t *root = NULL;
	enum ed_code rc = ED_OK;

	if (a->src->ops->stat(a->src, pkg, &st, &e) != ED_OK) {
		warn_in(a, in, "%s", e.msg);
		goto out;
	}
	if (st.type == ED_FT_LINK) {
		warn_in(a, in, "%s: a symlink (npm link?); not followed", pkg);
		goto out;
	}
	if (st.type != ED_FT_DIR)
		goto out; /* a stray file in node_modules is no package */
	if (ed_buf_addf(&p, "%s/package.json", pkg))
		goto nomem;
	rc = ed_source_read_all(a->src, p.p, ED_NPM_MANIFEST_MAX, &text, &e);
	if (rc == ED_NOMEM)
		goto nomem;
	if (rc != ED_OK) {
		warn_in(a, in, "%s", e.msg);
		rc = ED_OK;
		goto out;
	}
	json_error_t jerr;
	root = ed_json_loadb(ed_buf_str(&text), text.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		warn_in(a, in, "%s:%d:%d: %s", p.p, root ? 1 : jerr.line, root ? 1 : jerr.column,
			root ? "not a JSON object" : jerr.text);
		goto out;
	}
	const char *v = version_of(root);
	const char *n = json_string_value(json_object_get(root, "name"));
	if (!v) {
		warn_in(a, in, "%s: no usable \"version\"; skipped", p.p);
	} else {
		if (!n) {
			/* The folder's name came from the host: make it valid UTF-8 for JSON. */
			if (ed_buf_add_utf8_escaped(&name, folder_name, strlen(folder_name)))
				goto nomem;
			n = name.p;
		}
		rc = add_rec(a, pkg, v, n, false, false, p.p, err);
		if (rc != ED_OK)
			goto out;
	}
	ed_buf_reset(&p);
	if (ed_buf_addf(&p, "%s/node_modules", pkg))
		goto nomem;
	if (a->src->ops->stat(a->src, p.p, &st, &e) == ED_OK && st.type == ED_FT_DIR) {
		if (depth >= NPM_TREE_DEPTH_MAX)
			warn_in(a, in, "%s: node_modules nested deeper than %d; not read", p.p,
				NPM_TREE_DEPTH_MAX);
		else
			rc = scan_modules(a, in, p.p, depth + 1, err);
	}
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", pkg);
out:
	json_decref(root);
	ed_buf_release(&p);
	ed_buf_release(&text);
	ed_buf_release(&name);
	return rc;
}

static enum ed_code scan_modules(struct acc *a, struct input *in, const char *dir, int depth,
				 struct ed_err *err)
{
	char **names = NULL, **sub = NULL;
	size_t n = 0, nsub = 0;
	struct ed_buf p = ED_BUF_INIT, q = ED_BUF_INIT, full = ED_BUF_INIT;
	struct ed_err e = {0};
	enum ed_code rc = a->src->ops->list(a->src, dir, &names, &n, &e);

	if (rc == ED_NOMEM)
		goto nomem;
	if (rc != ED_OK) {
		warn_in(a, in, "%s", e.msg);
		rc = ED_OK;
		goto out;
	}
	for (size_t i = 0; i < n && rc == ED_OK; i++) {
		if (names[i][0] == '.')
			continue; /* .bin, .package-lock.json, .cache */
		ed_buf_reset(&p);
		if (ed_buf_addf(&p, "%s/%s", dir, names[i]))
			goto nomem;
		if (names[i][0] != '@') {
			rc = scan_package(a, in, p.p, names[i], depth, err);
			continue;
		}
		/* A scope: its entries are the packages. */
		struct ed_stat st;
		if (a->src->ops->stat(a->src, p.p, &st, &e) != ED_OK) {
			warn_in(a, in, "%s", e.msg);
			continue;
		}
		if (st.type != ED_FT_DIR) {
			if (st.type == ED_FT_LINK)
				warn_in(a, in, "%s: a symlink; not followed", p.p);
			continue;
		}
		ed_names_free(sub, nsub);
		sub = NULL;
		nsub = 0;
		rc = a->src->ops->list(a->src, p.p, &sub, &nsub, &e);
		if (rc == ED_NOMEM)
			goto nomem;
		if (rc != ED_OK) {
			warn_in(a, in, "%s", e.msg);
			rc = ED_OK;
			continue;
		}
		for (size_t j = 0; j < nsub && rc == ED_OK; j++) {
			if (sub[j][0] == '.')
				continue;
			ed_buf_reset(&q);
			ed_buf_reset(&full);
			if (ed_buf_addf(&q, "%s/%s", p.p, sub[j]) ||
			    ed_buf_addf(&full, "%s/%s", names[i], sub[j]))
				goto nomem;
			rc = scan_package(a, in, q.p, full.p, depth, err);
		}
	}
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", dir);
out:
	ed_names_free(names, n);
	ed_names_free(sub, nsub);
	ed_buf_release(&p);
	ed_buf_release(&q);
	ed_buf_release(&full);
	return rc;
}

enum ed_code ed_npm_collect(struct ed_source *src, const char *const *paths, size_t npaths,
			    struct ed_sink *sink, struct ed_err *err)
{
	static const char *const global[] = {"/usr/local/lib/node_modules",
					     "/usr/lib/node_modules"};
	struct acc a = {.src = src, .sink = sink};
	struct ed_buf norm = ED_BUF_INIT, text = ED_BUF_INIT;
	size_t found = 0;
	bool auto_mode = npaths == 0;
	enum ed_code rc = ED_OK;

	if (auto_mode) {
		paths = global;
		npaths = sizeof(global) / sizeof(global[0]);
	}
	for (size_t i = 0; i < npaths; i++) {
		struct ed_stat st;
		struct ed_err e = {0};
		ed_buf_reset(&norm);
		if (ed_path_normalize(paths[i], &norm)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", paths[i]);
			goto out;
		}
		if (src->ops->stat(src, norm.p, &st, &e) != ED_OK) {
			if (!auto_mode)
				ed_sink_warn(sink, "%s", e.msg);
			continue;
		}
		struct input in = {.origin = norm.p};
		if (st.type == ED_FT_DIR) {
			found++;
			rc = scan_modules(&a, &in, norm.p, 0, err);
		} else if (st.type == ED_FT_REG && !auto_mode) {
			found++;
			ed_buf_reset(&text);
			rc = ed_source_read_all(src, norm.p, ED_NPM_LOCK_MAX, &text, &e);
			if (rc == ED_NOMEM) {
				rc = ed_err_set(err, rc, "%s", e.msg);
			} else if (rc != ED_OK) {
				ed_sink_warn(sink, "%s", e.msg);
				rc = ED_OK;
			} else {
				rc = lock_into(&a, ed_str_of(ed_buf_str(&text), text.len), norm.p,
					       err);
			}
		} else if (!auto_mode) {
			ed_sink_warn(sink, "%s: neither a lock file nor a node_modules folder%s",
				     norm.p, st.type == ED_FT_LINK ? " (symlinks are not followed)"
								   : "");
		}
		if (rc != ED_OK)
			goto out;
	}
	if (!found) {
		if (auto_mode)
			rc = ed_err_set(err, ED_NOTFOUND, "no global node_modules folder (%s, %s)",
					global[0], global[1]);
		else
			rc = ed_err_set(err, ED_NOTFOUND,
					"none of the %zu npm paths named exists (first: %s)",
					npaths, paths[0]);
		goto out;
	}
	rc = acc_emit(&a, err);
out:
	acc_release(&a);
	ed_buf_release(&norm);
	ed_buf_release(&text);
	return rc;
}
