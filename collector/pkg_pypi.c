/* SPDX-License-Identifier: MIT */
/*
 * Python packages: the installed distributions' core metadata
 * (NAME.dist-info/METADATA, NAME.egg-info/PKG-INFO) in site-packages folders,
 * one item per PEP 503 normalised name, keyed "pypi:NAME".
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/pkg.h"
#include "pkg_common.h"

/* Longest header value quoted in an error message, in bytes. */
#define PYPI_SHOW_MAX 200

enum hdr { H_NAME, H_VERSION, H_COUNT };
static const char *const hdr_names[H_COUNT] = {[H_NAME] = "Name", [H_VERSION] = "Version"};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* PEP 508: letters, digits, '.', '_', '-', starting and ending with a letter or digit. */
static bool pep508_name(struct ed_str s)
{
	if (!s.len || !is_alnum(s.p[0]) || !is_alnum(s.p[s.len - 1]))
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!is_alnum(s.p[i]) && s.p[i] != '.' && s.p[i] != '_' && s.p[i] != '-')
			return false;
	return true;
}

static bool version_ok(struct ed_str s)
{
	if (!s.len || !ed_utf8_valid(s.p, s.len))
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* An ED_PARSE error "ORIGIN:LINE: problem"; hdr, when not NULL, fills a "%s" in what. */
static enum ed_code parse_error(struct ed_err *err, const char *origin, size_t line,
				const char *what, const char *hdr)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), what, hdr ? hdr : "");
	if (n < 0)
		msg[0] = '\0';
	return ed_err_set(err, ED_PARSE, "%s:%zu: %s", origin, line, msg);
}

enum ed_code ed_pypi_metadata_parse(struct ed_str text, const char *origin, struct ed_buf *name,
				    struct ed_buf *version, struct ed_err *err)
{
	struct ed_str v[H_COUNT] = {{NULL, 0}, {NULL, 0}};
	bool seen[H_COUNT] = {false, false};
	bool any = false; /* a header line was read */
	int last = -1;    /* enum hdr of the latest header line, or -1 for another header */
	size_t pos = 0, line = 0;

	if (!origin)
		origin = "(metadata)";
	const char *s;
	size_t len;
	while (ed_next_line(text.p, text.len, &pos, &s, &len)) {
		line++;
		if (len && s[len - 1] == '\r')
			len--;
		if (len == 0)
			break; /* the headers end; the description follows */
		if (memchr(s, '\0', len))
			return parse_error(err, origin, line, "line holds a NUL byte", NULL);
		if (is_blank(s[0])) {
			if (!any)
				return parse_error(err, origin, line,
						   "continuation line before any header", NULL);
			if (last >= 0)
				return parse_error(err, origin, line,
						   "header '%s' continues on a second line",
						   hdr_names[last]);
			continue;
		}
		const char *colon = memchr(s, ':', len);
		size_t nlen = colon ? (size_t)(colon - s) : 0;
		bool good = nlen > 0;
		for (size_t i = 0; good && i < nlen; i++)
			good = (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f;
		if (!good)
			return parse_error(err, origin, line, "line is not 'Header: value'", NULL);
		any = true;
		last = -1;
		for (int h = 0; h < H_COUNT; h++) {
			if (!ed_pkg_name_is(s, nlen, hdr_names[h]))
				continue;
			if (seen[h])
				return parse_error(err, origin, line, "header '%s' repeated",
						   hdr_names[h]);
			seen[h] = true;
			v[h] = ed_pkg_trim(colon + 1, len - nlen - 1);
			last = h;
			if (!v[h].len)
				return parse_error(err, origin, line, "header '%s' is empty",
						   hdr_names[h]);
			if (h == H_NAME && !pep508_name(v[h]))
				return parse_error(err, origin, line,
						   "Name is not a valid distribution name", NULL);
			if (h == H_VERSION && !version_ok(v[h]))
				return parse_error(err, origin, line,
						   "Version holds a space, a control byte or "
						   "invalid UTF-8", NULL);
		}
	}
	for (int h = 0; h < H_COUNT; h++)
		if (!seen[h])
			return parse_error(err, origin, line ? line : 1, "no '%s' header",
					   hdr_names[h]);

	size_t nmark = name->len;
	if (ed_buf_add(name, v[H_NAME].p, v[H_NAME].len) ||
	    ed_buf_add(version, v[H_VERSION].p, v[H_VERSION].len)) {
		name->len = nmark;
		if (name->p)
			name->p[nmark] = '\0';
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", origin);
	}
	return ED_OK;
}

int ed_pypi_normalize(const char *name, size_t len, struct ed_buf *out)
{
	size_t mark = out->len;
	bool in_run = false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int rc;
		if (c == '-' || c == '_' || c == '.') {
			if (in_run)
				continue;
			in_run = true;
			rc = ed_buf_addc(out, '-');
		} else {
			in_run = false;
			rc = ed_buf_addc(out, ascii_lower(c));
		}
		if (rc) {
			out->len = mark;
			if (out->p)
				out->p[mark] = '\0';
			return -1;
		}
	}
	return 0;
}

/* --- collecting --- */

/* One distribution found; every string owned. */
struct dist {
	char *name;    /* normalised */
	char *version; /* as written */
	const char *folder; /* borrowed from struct collector.folders */
};

struct collector {
	struct ed_source *src;
	struct ed_sink *sink;
	char **folders; /* the site-packages folders to read, owned */
	size_t nfolders, folders_cap;
	struct dist *dists;
	size_t n, cap;
};

/* Adds a folder, normalised ("/a//b/" -> "/a/b"): locations do not depend on spelling. */
static int add_folder(struct collector *c, const char *path)
{
	struct ed_buf norm = ED_BUF_INIT;
	if (c->nfolders == c->folders_cap) {
		size_t ncap = c->folders_cap ? c->folders_cap * 2 : 8;
		char **v = realloc(c->folders, ncap * sizeof(*v));
		if (!v)
			return -1;
		c->folders = v;
		c->folders_cap = ncap;
	}
	if (ed_path_normalize(path, &norm) || !norm.p) {
		ed_buf_release(&norm);
		return -1;
	}
	c->folders[c->nfolders++] = ed_buf_detach(&norm);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

static bool is_dir(struct ed_source *src, const char *path)
{
	struct ed_stat st;
	struct ed_err e = {0};
	return src->ops->stat(src, path, &st, &e) == ED_OK && st.type == ED_FT_DIR;
}

/* The site-packages folders of every python3* under base that exist, in sorted order. */
static enum ed_code discover(struct collector *c, const char *base, struct ed_err *err)
{
	static const char *const subs[] = {"dist-packages", "site-packages"};
	char **names = NULL;
	size_t n = 0;
	struct ed_buf p = ED_BUF_INIT;
	struct ed_err e = {0};
	enum ed_code rc = ED_OK;

	if (c->src->ops->list(c->src, base, &names, &n, &e) != ED_OK)
		goto out; /* no such folder: nothing there */
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], "python3", 7) != 0)
			continue;
		for (size_t j = 0; j < sizeof(subs) / sizeof(subs[0]); j++) {
			ed_buf_reset(&p);
			if (ed_buf_addf(&p, "%s/%s/%s", base, names[i], subs[j])) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", base);
				goto out;
			}
			if (is_dir(c->src, p.p) && add_folder(c, p.p)) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", base);
				goto out;
			}
		}
	}
out:
	ed_names_free(names, n);
	ed_buf_release(&p);
	return rc;
}

/*
 * Reads the start of a metadata file: up to and including its first blank
 * line, at most ED_PYPI_HEAD_MAX bytes. *complete tells whether the headers
 * all fit (a blank line or the end of the file was reached).
 */
static enum ed_code read_head(struct ed_source *src, const char *path, struct ed_buf *out,
			      bool *complete, struct ed_err *err)
{
	struct ed_file *f = NULL;
	char chunk[16384];
	enum ed_code rc = src->ops->open(src, path, &f, err);
	if (rc != ED_OK)
		return rc;
	*complete = false;
	for (;;) {
		size_t got = 0, want = sizeof(chunk);
		if (ED_PYPI_HEAD_MAX - out->len < want)
			want = ED_PYPI_HEAD_MAX - out->len;
		if (want == 0)
			break;
		rc = src->ops->read(f, chunk, want, &got, err);
		if (rc != ED_OK)
			break;
		if (got == 0) {
			*complete = true;
			break;
		}
		size_t from = out->len >= 2 ? out->len - 2 : 0;
		if (ed_buf_add(out, chunk, got)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
			break;
		}
		if (out->p[0] == '\n' || (out->len > 1 && out->p[0] == '\r' && out->p[1] == '\n') ||
		    memmem(out->p + from, out->len - from, "\n\n", 2) ||
		    (out->len - from >= 3 && memmem(out->p + from, out->len - from, "\n\r\n", 3))) {
			*complete = true;
			break;
		}
	}
	src->ops->close(f);
	return rc;
}

/* Reads and parses one metadata file; problems are warnings. */
static enum ed_code read_dist(struct collector *c, const char *folder, const char *meta,
			      struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT, name = ED_BUF_INIT, ver = ED_BUF_INIT, norm = ED_BUF_INIT;
	struct ed_err e = {0};
	bool complete = false;
	enum ed_code rc = read_head(c->src, meta, &text, &complete, &e);

	if (rc == ED_NOMEM) {
		rc = ed_err_set(err, ED_NOMEM, "%s", e.msg);
		goto out;
	}
	if (rc != ED_OK) {
		ed_sink_warn(c->sink, "%s", e.msg);
		rc = ED_OK;
		goto out;
	}
	if (!complete) {
		ed_sink_warn(c->sink, "%s: headers longer than %zu bytes; skipped", meta,
			     ED_PYPI_HEAD_MAX);
		goto out;
	}
	rc = ed_pypi_metadata_parse(ed_str_of(ed_buf_str(&text), text.len), meta, &name, &ver, &e);
	if (rc == ED_PARSE) {
		ed_sink_warn(c->sink, "%s", e.msg);
		rc = ED_OK;
		goto out;
	}
	if (rc != ED_OK) {
		rc = ed_err_set(err, rc, "%s", e.msg);
		goto out;
	}
	if (ed_pypi_normalize(name.p, name.len, &norm))
		goto nomem;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct dist *v = realloc(c->dists, ncap * sizeof(*v));
		if (!v)
			goto nomem;
		c->dists = v;
		c->cap = ncap;
	}
	struct dist *d = &c->dists[c->n];
	d->folder = folder;
	d->name = ed_buf_detach(&norm);
	d->version = ed_buf_detach(&ver);
	if (!d->name || !d->version) {
		free(d->name);
		free(d->version);
		goto nomem;
	}
	c->n++;
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", meta);
out:
	ed_buf_release(&text);
	ed_buf_release(&name);
	ed_buf_release(&ver);
	ed_buf_release(&norm);
	return rc;
}

/* Every *.dist-info and *.egg-info of one folder. */
static enum ed_code scan_folder(struct collector *c, const char *folder, struct ed_err *err)
{
	char **names = NULL;
	size_t n = 0;
	struct ed_buf p = ED_BUF_INIT;
	struct ed_err e = {0};
	enum ed_code rc = c->src->ops->list(c->src, folder, &names, &n, &e);

	if (rc == ED_NOMEM) {
		rc = ed_err_set(err, rc, "%s", e.msg);
		goto out;
	}
	if (rc != ED_OK) {
		ed_sink_warn(c->sink, "%s", e.msg);
		rc = ED_OK;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool dist_info = ends_with(names[i], ".dist-info");
		if (!dist_info && !ends_with(names[i], ".egg-info"))
			continue;
		ed_buf_reset(&p);
		if (ed_buf_addf(&p, "%s/%s", folder, names[i]))
			goto nomem;
		struct ed_stat st;
		if (c->src->ops->stat(c->src, p.p, &st, &e) != ED_OK) {
			ed_sink_warn(c->sink, "%s", e.msg);
			continue;
		}
		if (st.type == ED_FT_DIR) {
			if (ed_buf_adds(&p, dist_info ? "/METADATA" : "/PKG-INFO"))
				goto nomem;
		} else if (st.type != ED_FT_REG || dist_info) {
			/* A single-file .egg-info is PKG-INFO itself; anything else is odd. */
			ed_sink_warn(c->sink, "%s: not a folder%s; skipped", p.p,
				     st.type == ED_FT_LINK ? " (symlinks are not followed)" : "");
			continue;
		}
		rc = read_dist(c, folder, p.p, err);
		if (rc != ED_OK)
			goto out;
	}
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", folder);
out:
	ed_names_free(names, n);
	ed_buf_release(&p);
	return rc;
}

static int cmp_dist(const void *pa, const void *pb)
{
	const struct dist *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);
	if (!r)
		r = strcmp(a->version, b->version);
	if (!r)
		r = strcmp(a->folder, b->folder);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Emits the item for dists[0..n), which share one normalised name. */
static enum ed_code emit_group(struct collector *c, const struct dist *g, size_t n,
			       struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT, val = ED_BUF_INIT, loc = ED_BUF_INIT;
	const char **folders = calloc(n, sizeof(*folders));
	enum ed_code rc = ED_OK;

	if (!folders || ed_buf_adds(&key, "pypi:") || ed_buf_adds(&key, g[0].name))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		folders[i] = g[i].folder;
		if (i && strcmp(g[i].version, g[i - 1].version) == 0)
			continue;
		if ((val.len && ed_buf_adds(&val, ", ")) || ed_buf_adds(&val, g[i].version))
			goto nomem;
	}
	qsort(folders, n, sizeof(*folders), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(folders[i], folders[i - 1]) == 0)
			continue;
		/* Folder names come from the host: keep the JSON valid whatever their bytes. */
		if ((loc.len && ed_buf_adds(&loc, ", ")) ||
		    ed_buf_add_utf8_escaped(&loc, folders[i], strlen(folders[i])))
			goto nomem;
	}
	rc = ed_pkg_emit(c->sink, "pypi", key.p, key.len, val.p, val.p, val.len,
			 json_pack("{s:s, s:s}", "manager", "pypi", "location", ed_buf_str(&loc)),
			 err);
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "pypi: out of memory");
out:
	free(folders);
	ed_buf_release(&key);
	ed_buf_release(&val);
	ed_buf_release(&loc);
	return rc;
}

/*
 * Does a system package manager own /usr/lib here? Then a Python distribution
 * under /usr/lib/python3* is that manager's package (python3-yaml is dpkg's,
 * not pypi's pyyaml a second time): Debian's Python policy reserves
 * /usr/lib/python3/dist-packages for Debian packages, Fedora's rpm installs
 * into /usr/lib*, and pip installs into /usr/local (PEP 668 refuses the rest).
 */
static bool system_managed(struct ed_source *src)
{
	static const char *const dbs[] = {"/var/lib/dpkg/status", "/var/lib/rpm",
					  "/usr/lib/sysimage/rpm", "/lib/apk/db/installed"};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		struct ed_stat st;
		struct ed_err e;
		if (src->ops->stat(src, dbs[i], &st, &e) == ED_OK)
			return true;
	}
	return false;
}

enum ed_code ed_pypi_collect(struct ed_source *src, const char *const *dirs, size_t ndirs,
			     struct ed_sink *sink, struct ed_err *err)
{
	struct collector c = {.src = src, .sink = sink};
	enum ed_code rc = ED_OK;

	if (ndirs == 0) {
		bool managed = system_managed(src);
		if (!managed)
			rc = discover(&c, "/usr/lib", err);
		if (rc == ED_OK)
			rc = discover(&c, "/usr/local/lib", err);
		if (rc != ED_OK)
			goto out;
		if (!c.nfolders && managed)
			goto out; /* every distribution here is the package manager's */
		if (!c.nfolders) {
			rc = ed_err_set(err, ED_NOTFOUND,
					"no site-packages or dist-packages folder under "
					"/usr/lib/python3* or /usr/local/lib/python3*");
			goto out;
		}
	} else {
		for (size_t i = 0; i < ndirs; i++) {
			struct ed_stat st;
			struct ed_err e = {0};
			enum ed_code src_rc = src->ops->stat(src, dirs[i], &st, &e);
			if (src_rc != ED_OK) {
				ed_sink_warn(sink, "%s", e.msg);
				continue;
			}
			if (st.type != ED_FT_DIR) {
				ed_sink_warn(sink, "%s: not a folder%s", dirs[i],
					     st.type == ED_FT_LINK ? " (symlinks are not followed)"
								   : "");
				continue;
			}
			if (add_folder(&c, dirs[i])) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", dirs[i]);
				goto out;
			}
		}
		if (!c.nfolders) {
			rc = ed_err_set(err, ED_NOTFOUND, "none of the %zu Python package folders "
					"named exists (first: %s)", ndirs, dirs[0]);
			goto out;
		}
	}

	for (size_t i = 0; i < c.nfolders; i++) {
		rc = scan_folder(&c, c.folders[i], err);
		if (rc != ED_OK)
			goto out;
	}
	if (c.n > 1)
		qsort(c.dists, c.n, sizeof(*c.dists), cmp_dist);
	for (size_t i = 0, j; i < c.n; i = j) {
		for (j = i + 1; j < c.n && strcmp(c.dists[j].name, c.dists[i].name) == 0; j++)
			;
		rc = emit_group(&c, &c.dists[i], j - i, err);
		if (rc != ED_OK)
			goto out;
	}
out:
	for (size_t i = 0; i < c.n; i++) {
		free(c.dists[i].name);
		free(c.dists[i].version);
	}
	free(c.dists);
	ed_names_free(c.folders, c.nfolders);
	return rc;
}
