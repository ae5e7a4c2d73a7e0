/* SPDX-License-Identifier: MIT */
/*
 * System facts: os-release, kernel, architecture, timezone, locale and named
 * sysctl values, read through a source and emitted as "system" items.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "ed/hash.h"
#include "ed/system.h"

/* ---- the os-release(5) parser ---- */

void ed_system_vars_release(struct ed_sysvars *vars)
{
	if (!vars)
		return;
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
	}
	free(vars->v);
	vars->v = NULL;
	vars->n = 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Parses the value of one line (s, n: the bytes after '=') into out. Returns
 * NULL, or a static description of what is wrong; -1 in *nomem on allocation
 * failure.
 */
static const char *parse_value(const char *s, size_t n, struct ed_buf *out, bool *nomem)
{
	size_t i = 0;
#define PUT(c)                                      \
	do {                                        \
		if (ed_buf_addc(out, (c))) {        \
			*nomem = true;              \
			return "out of memory";     \
		}                                   \
	} while (0)
	while (i < n && !is_blank(s[i])) {
		char c = s[i];
		if (c == '\'') {
			const char *close = memchr(s + i + 1, '\'', n - i - 1);
			if (!close)
				return "unterminated single quote";
			size_t len = (size_t)(close - (s + i + 1));
			if (ed_buf_add(out, s + i + 1, len)) {
				*nomem = true;
				return "out of memory";
			}
			i += len + 2;
		} else if (c == '"') {
			i++;
			for (;;) {
				if (i >= n)
					return "unterminated double quote";
				c = s[i];
				if (c == '"') {
					i++;
					break;
				}
				if (c == '\\') {
					if (i + 1 >= n)
						return "unterminated double quote";
					char d = s[i + 1];
					if (d == '$' || d == '`' || d == '"' || d == '\\') {
						PUT(d);
					} else {
						PUT('\\');
						PUT(d);
					}
					i += 2;
					continue;
				}
				PUT(c);
				i++;
			}
		} else if (c == '\\') {
			if (i + 1 >= n)
				return "backslash at the end of the line";
			PUT(s[i + 1]);
			i += 2;
		} else {
			PUT(c);
			i++;
		}
	}
#undef PUT
	while (i < n && is_blank(s[i]))
		i++;
	if (i < n && s[i] != '#')
		return "text after the value (quote values that hold blanks)";
	return NULL;
}

static enum ed_code set_var(struct ed_sysvars *out, const char *name, size_t nlen,
			    struct ed_buf *value, int line, struct ed_err *err)
{
	for (size_t i = 0; i < out->n; i++) {
		struct ed_sysvar *v = &out->v[i];
		if (strlen(v->name) == nlen && memcmp(v->name, name, nlen) == 0) {
			char *val = value->p ? ed_buf_detach(value) : strdup("");
			if (!val)
				return ed_err_set(err, ED_NOMEM, "out of memory");
			free(v->value);
			v->value = val;
			v->len = strlen(val);
			v->line = line;
			return ED_OK;
		}
	}
	struct ed_sysvar nv = {0};
	nv.name = ed_strndup(name, nlen);
	nv.len = value->len;
	nv.value = value->p ? ed_buf_detach(value) : strdup("");
	nv.line = line;
	struct ed_sysvar *arr = nv.name && nv.value ? realloc(out->v, (out->n + 1) * sizeof(*arr))
						    : NULL;
	if (!arr) {
		free(nv.name);
		free(nv.value);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	arr[out->n++] = nv;
	out->v = arr;
	return ED_OK;
}

static bool has_var(const struct ed_sysvars *out, const char *name, size_t nlen)
{
	for (size_t i = 0; i < out->n; i++)
		if (strlen(out->v[i].name) == nlen && memcmp(out->v[i].name, name, nlen) == 0)
			return true;
	return false;
}

enum ed_code ed_system_parse_env(struct ed_str text, const char *origin, struct ed_sink *sink,
				 struct ed_sysvars *out, struct ed_err *err)
{
	struct ed_buf value = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	bool warned_cap = false;
	size_t pos = 0;
	int line = 0;
	if (!origin)
		origin = "os-release";
	const char *s;
	size_t n;
	while (ed_next_line(text.p, text.len, &pos, &s, &n)) {
		line++;
		if (n && s[n - 1] == '\r')
			n--;
		size_t i = 0;
		while (i < n && is_blank(s[i]))
			i++;
		if (i == n || s[i] == '#')
			continue;
		const char *problem = NULL;
		if (memchr(s, '\0', n)) {
			problem = "NUL byte";
			goto bad;
		}
		if (n - i > 7 && memcmp(s + i, "export", 6) == 0 && is_blank(s[i + 6])) {
			i += 7;
			while (i < n && is_blank(s[i]))
				i++;
		}
		size_t name = i;
		if (i < n && is_name_start(s[i]))
			while (i < n && is_name_char(s[i]))
				i++;
		if (i == name || i >= n || s[i] != '=') {
			problem = "expected NAME=VALUE";
			goto bad;
		}
		size_t nlen = i - name;
		bool nomem = false;
		ed_buf_reset(&value);
		problem = parse_value(s + i + 1, n - i - 1, &value, &nomem);
		if (nomem) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", origin);
			goto out;
		}
		if (problem)
			goto bad;
		if (out->n >= ED_SYSTEM_MAX_VARS && !has_var(out, s + name, nlen)) {
			if (!warned_cap && sink)
				ed_sink_warn(sink, "%s:%d: more than %d variables; the rest are ignored",
					     origin, line, ED_SYSTEM_MAX_VARS);
			warned_cap = true;
			continue;
		}
		rc = set_var(out, s + name, nlen, &value, line, err);
		if (rc)
			goto out;
		continue;
bad:
		if (sink)
			ed_sink_warn(sink, "%s:%d: %s", origin, line, problem);
	}
out:
	ed_buf_release(&value);
	return rc;
}

/* ---- collection ---- */

struct fact {
	char *key;
	char *value; /* NULL for an error item or an unknown fact */
	size_t len;
	char *error;
	bool unknown; /* could not be observed here (no /proc under --root) */
};

struct facts {
	struct fact *v;
	size_t n;
};

static void facts_release(struct facts *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
		free(f->v[i].error);
	}
	free(f->v);
}

static enum ed_code add_fact(struct facts *f, const char *prefix, const char *name,
			     const char *value, size_t len, const char *error, struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT;
	struct fact nf = {0};
	if (ed_buf_adds(&key, prefix) || ed_buf_adds(&key, name))
		goto oom;
	nf.key = ed_buf_detach(&key);
	if (value && !(nf.value = ed_strndup(value, len)))
		goto oom;
	nf.len = len;
	if (error && !(nf.error = strdup(error)))
		goto oom;
	struct fact *v = realloc(f->v, (f->n + 1) * sizeof(*v));
	if (!v)
		goto oom;
	v[f->n++] = nf;
	f->v = v;
	return ED_OK;
oom:
	ed_buf_release(&key);
	free(nf.key);
	free(nf.value);
	free(nf.error);
	return ed_err_set(err, ED_NOMEM, "out of memory collecting system facts");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims white space at both ends. */
static struct ed_str trim(const char *s, size_t n)
{
	while (n && is_space(s[0]))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	return ed_str_of(s, n);
}

/*
 * Reads a regular file, following symlinks (at most 8) inside the source:
 * /etc/os-release is normally a link to ../usr/lib/os-release.
 */
static enum ed_code read_following(struct ed_source *src, const char *path, struct ed_buf *out,
				   struct ed_err *err)
{
	struct ed_buf cur = ED_BUF_INIT, target = ED_BUF_INIT, next = ED_BUF_INIT;
	enum ed_code rc;
	if (ed_buf_adds(&cur, path))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	for (int hops = 0;; hops++) {
		struct ed_stat st;
		rc = src->ops->stat(src, cur.p, &st, err);
		if (rc)
			goto out;
		if (st.type != ED_FT_LINK) {
			if (st.type != ED_FT_REG) {
				rc = ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", cur.p);
				goto out;
			}
			rc = ed_source_read_all(src, cur.p, ED_SYSTEM_FILE_MAX, out, err);
			goto out;
		}
		if (hops == 8) {
			rc = ed_err_set(err, ED_DENIED, "%s: too many levels of symbolic links", path);
			goto out;
		}
		ed_buf_reset(&target);
		rc = src->ops->readlink(src, cur.p, &target, err);
		if (rc)
			goto out;
		ed_buf_reset(&next);
		if (target.p[0] != '/') {
			const char *slash = strrchr(cur.p, '/');
			if (ed_buf_add(&next, cur.p, (size_t)(slash - cur.p) + 1))
				goto oom;
		}
		if (ed_buf_add(&next, target.p, target.len))
			goto oom;
		ed_buf_reset(&cur);
		if (ed_path_normalize(next.p, &cur))
			goto oom;
	}
oom:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
out:
	ed_buf_release(&cur);
	ed_buf_release(&target);
	ed_buf_release(&next);
	return rc;
}

/* Reads path into out; ED_NOTFOUND silently, other failures warned; true when read. */
static bool read_or_warn(struct ed_source *src, struct ed_sink *sink, const char *path,
			 struct ed_buf *out, enum ed_code *rc)
{
	struct ed_err e = {0};
	*rc = read_following(src, path, out, &e);
	if (*rc == ED_OK)
		return true;
	if (*rc != ED_NOTFOUND && *rc != ED_NOMEM)
		ed_sink_warn(sink, "%s", e.msg);
	return false;
}

/* Adds one fact per variable of the first of two files that exists. */
static enum ed_code env_facts(struct ed_source *src, struct ed_sink *sink, const char *first,
			      const char *second, const char *prefix, struct facts *f,
			      struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT;
	struct ed_sysvars vars = {0};
	enum ed_code rc = ED_OK, rrc;
	const char *origin = first;
	bool got = read_or_warn(src, sink, first, &text, &rrc);
	if (!got && rrc == ED_NOTFOUND) {
		origin = second;
		got = read_or_warn(src, sink, second, &text, &rrc);
	}
	if (rrc == ED_NOMEM) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", origin);
		goto out;
	}
	if (!got)
		goto out;
	rc = ed_system_parse_env(ed_str_of(text.p, text.len), origin, sink, &vars, err);
	for (size_t i = 0; rc == ED_OK && i < vars.n; i++)
		rc = add_fact(f, prefix, vars.v[i].name, vars.v[i].value, vars.v[i].len, NULL, err);
out:
	ed_system_vars_release(&vars);
	ed_buf_release(&text);
	return rc;
}

/* Adds key -> the trimmed content of path, when path exists. */
/* A fact this collection cannot observe: recorded as unknown, which is not drift. */
static enum ed_code add_unknown(struct facts *f, const char *prefix, const char *name,
				struct ed_err *err)
{
	enum ed_code rc = add_fact(f, prefix, name, NULL, 0, NULL, err);
	if (!rc)
		f->v[f->n - 1].unknown = true;
	return rc;
}

static enum ed_code file_fact(struct ed_source *src, struct ed_sink *sink, const char *path,
			      const char *key, bool first_line, bool *found, struct facts *f,
			      struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT;
	enum ed_code rc = ED_OK, rrc;
	*found = false;
	if (read_or_warn(src, sink, path, &text, &rrc)) {
		size_t n = text.len;
		const char *nl = text.p ? memchr(text.p, '\n', text.len) : NULL;
		if (first_line && nl)
			n = (size_t)(nl - text.p);
		struct ed_str v = trim(ed_buf_str(&text), n);
		if (v.len && memchr(v.p, '\0', v.len)) {
			ed_sink_warn(sink, "%s: holds a NUL byte", path);
		} else if (v.len) {
			*found = true;
			rc = add_fact(f, key, "", v.p, v.len, NULL, err);
		}
	} else if (rrc == ED_NOMEM) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	}
	ed_buf_release(&text);
	return rc;
}

enum root_kind { ROOT_SLASH, ROOT_OTHER, ROOT_REMOTE };

static enum root_kind root_kind(struct ed_source *src)
{
	struct ed_buf b = ED_BUF_INIT;
	struct ed_err e;
	enum ed_code rc = src->ops->root_dir(src, &b, &e);
	enum root_kind k = rc == ED_UNSUPPORTED                      ? ROOT_REMOTE
			   : rc == ED_OK && strcmp(ed_buf_str(&b), "/") == 0 ? ROOT_SLASH
									     : ROOT_OTHER;
	ed_buf_release(&b);
	return k;
}

static enum ed_code kernel_facts(struct ed_source *src, struct ed_sink *sink, struct facts *f,
				 struct ed_err *err)
{
	enum root_kind k = root_kind(src);
	struct utsname u;
	bool found;
	enum ed_code rc = file_fact(src, sink, "/proc/sys/kernel/osrelease", "kernel/release", true,
				    &found, f, err);
	if (rc)
		return rc;
	if (!found && k == ROOT_SLASH && uname(&u) == 0)
		rc = add_fact(f, "kernel/release", "", u.release, strlen(u.release), NULL, err);
	else if (!found && k == ROOT_OTHER)
		rc = add_unknown(f, "kernel/release", "", err); /* an image: no running kernel */
	if (rc)
		return rc;

	if (k == ROOT_SLASH) {
		if (uname(&u) == 0)
			return add_fact(f, "arch", "", u.machine, strlen(u.machine), NULL, err);
		ed_sink_warn(sink, "arch: uname failed");
		return ED_OK;
	}
	if (k == ROOT_OTHER) {
		rc = file_fact(src, sink, "/proc/sys/kernel/arch", "arch", true, &found, f, err);
		return rc || found ? rc : add_unknown(f, "arch", "", err);
	}

	static const char *const argv[] = {"uname", "-m", NULL};
	struct ed_buf out = ED_BUF_INIT;
	struct ed_err e = {0};
	int status = -1;
	rc = src->ops->run(src, argv, 256, 10000, &out, &status, &e);
	if (rc == ED_NOMEM) {
		ed_buf_release(&out);
		return ed_err_set(err, ED_NOMEM, "uname -m: out of memory");
	}
	struct ed_str v = trim(ed_buf_str(&out), out.len);
	if (rc || status != 0 || !v.len || memchr(v.p, '\0', v.len))
		ed_sink_warn(sink, "arch: 'uname -m' failed on the host%s%s", rc ? ": " : "",
			     rc ? e.msg : "");
	rc = v.len && status == 0 && !memchr(v.p, '\0', v.len)
		     ? add_fact(f, "arch", "", v.p, v.len, NULL, err)
		     : ED_OK;
	ed_buf_release(&out);
	return rc;
}

static enum ed_code timezone_fact(struct ed_source *src, struct ed_sink *sink, struct facts *f,
				  struct ed_err *err)
{
	struct ed_stat st;
	struct ed_err e = {0};
	bool found;
	enum ed_code rc = src->ops->stat(src, "/etc/localtime", &st, &e);
	if (rc == ED_OK && st.type == ED_FT_LINK) {
		struct ed_buf t = ED_BUF_INIT;
		rc = src->ops->readlink(src, "/etc/localtime", &t, &e);
		if (rc == ED_OK) {
			/* The zone is what follows the last "zoneinfo/". */
			const char *zone = t.p, *hit;
			while ((hit = strstr(zone, "zoneinfo/")))
				zone = hit + strlen("zoneinfo/");
			struct ed_str z = trim(zone, strlen(zone));
			rc = z.len ? add_fact(f, "timezone", "", z.p, z.len, NULL, err) : ED_OK;
			ed_buf_release(&t);
			if (rc || z.len)
				return rc;
		} else {
			ed_buf_release(&t);
			if (rc == ED_NOMEM)
				return ed_err_set(err, ED_NOMEM, "/etc/localtime: out of memory");
			ed_sink_warn(sink, "%s", e.msg);
		}
	} else if (rc && rc != ED_NOTFOUND) {
		ed_sink_warn(sink, "%s", e.msg);
	}
	return file_fact(src, sink, "/etc/timezone", "timezone", true, &found, f, err);
}

/* Turns runs of white space into one space and trims the ends. */
static void squeeze(struct ed_buf *b)
{
	size_t w = 0;
	bool space = false;
	for (size_t r = 0; r < b->len; r++) {
		char c = b->p[r];
		if (is_space(c)) {
			space = w > 0;
			continue;
		}
		if (space)
			b->p[w++] = ' ';
		space = false;
		b->p[w++] = c;
	}
	b->len = w;
	if (b->p)
		b->p[w] = '\0';
}

static enum ed_code sysctl_facts(struct ed_source *src, const struct ed_strlist *keys,
				 struct ed_sink *sink, struct facts *f, struct ed_err *err)
{
	struct ed_buf canon = ED_BUF_INIT, rel = ED_BUF_INIT, path = ED_BUF_INIT, val = ED_BUF_INIT;
	struct ed_strlist seen = {0};
	enum ed_code rc = ED_OK;
	struct ed_stat st;
	struct ed_err e = {0};

	if (!keys || keys->n == 0)
		return ED_OK;
	enum ed_code prc = src->ops->stat(src, "/proc/sys", &st, &e);
	if (prc == ED_NOMEM)
		return ed_err_set(err, ED_NOMEM, "/proc/sys: out of memory");
	/* No /proc/sys at all: an image on disk, which has no running kernel. */
	if (prc == ED_NOTFOUND) {
		for (size_t i = 0; i < keys->n && !rc; i++) {
			ed_buf_reset(&canon);
			enum ed_code krc = ed_profile_sysctl_key(keys->v[i], &canon, NULL, &e);
			if (krc == ED_NOMEM)
				rc = ed_err_set(err, ED_NOMEM, "%s", e.msg);
			else if (!krc && !ed_strlist_has(&seen, canon.p)) {
				if (ed_strlist_add(&seen, canon.p))
					rc = ed_err_set(err, ED_NOMEM, "out of memory");
				else
					rc = add_unknown(f, "sysctl/", canon.p, err);
			}
		}
		goto out;
	}
	if (prc || st.type != ED_FT_DIR) {
		ed_sink_warn(sink, "/proc/sys: %s; %zu sysctl key%s not recorded",
			     prc ? e.msg : "not a folder", keys->n, keys->n == 1 ? "" : "s");
		return ED_OK;
	}
	for (size_t i = 0; i < keys->n; i++) {
		ed_buf_reset(&canon);
		ed_buf_reset(&rel);
		ed_buf_reset(&path);
		ed_buf_reset(&val);
		enum ed_code krc = ed_profile_sysctl_key(keys->v[i], &canon, &rel, &e);
		if (krc == ED_NOMEM) {
			rc = ed_err_set(err, ED_NOMEM, "%s", e.msg);
			goto out;
		}
		if (krc) {
			ed_sink_warn(sink, "%s", e.msg);
			continue;
		}
		if (ed_strlist_has(&seen, canon.p))
			continue;
		if (ed_strlist_add(&seen, canon.p) || ed_buf_adds(&path, "/proc/sys/") ||
		    ed_buf_add(&path, rel.p, rel.len)) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory reading sysctl keys");
			goto out;
		}
		enum ed_code rrc = read_following(src, path.p, &val, &e);
		if (rrc == ED_NOMEM) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path.p);
			goto out;
		}
		if (rrc == ED_NOTFOUND) {
			ed_sink_warn(sink, "sysctl key '%s' does not exist on this host (no %s)",
				     canon.p, path.p);
			continue;
		}
		if (rrc == ED_OK && memchr(ed_buf_str(&val), '\0', val.len)) {
			rrc = ED_PARSE;
			ed_err_set(&e, ED_PARSE, "%s: holds a NUL byte", path.p);
		}
		if (rrc) {
			ed_sink_warn(sink, "sysctl key '%s': %s", canon.p, e.msg);
			rc = add_fact(f, "sysctl/", canon.p, NULL, 0, e.msg, err);
		} else {
			squeeze(&val);
			rc = add_fact(f, "sysctl/", canon.p, ed_buf_str(&val), val.len, NULL, err);
		}
		if (rc)
			goto out;
	}
out:
	ed_strlist_release(&seen);
	ed_buf_release(&canon);
	ed_buf_release(&rel);
	ed_buf_release(&path);
	ed_buf_release(&val);
	return rc;
}

static int cmp_facts(const void *a, const void *b)
{
	return strcmp(((const struct fact *)a)->key, ((const struct fact *)b)->key);
}

static enum ed_code emit_facts(struct facts *f, struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf shown = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (f->n)
		qsort(f->v, f->n, sizeof(*f->v), cmp_facts);
	for (size_t i = 0; i < f->n && rc == ED_OK; i++) {
		const struct fact *x = &f->v[i];
		struct ed_item it = {0};
		it.kind = ED_KIND_SYSTEM;
		it.key = x->key;
		it.key_len = strlen(x->key);
		it.ftype = ED_FT_NONE;
		if (x->unknown) {
			it.attrs = ED_ATTRS_UNKNOWN;
		} else if (x->error) {
			it.error = x->error;
			ed_fp_of(x->error, strlen(x->error), &it.fp);
		} else {
			ed_fp_of(x->value, x->len, &it.fp);
			it.value = x->value;
			if (!ed_utf8_valid(x->value, x->len)) {
				ed_buf_reset(&shown);
				if (ed_buf_add_utf8_escaped(&shown, x->value, x->len)) {
					rc = ed_err_set(err, ED_NOMEM, "out of memory");
					break;
				}
				it.value = ed_buf_str(&shown);
			}
		}
		rc = sink->emit(sink, &it, err);
	}
	ed_buf_release(&shown);
	return rc;
}

enum ed_code ed_system_collect(struct ed_source *src, const struct ed_strlist *sysctl,
			       struct ed_sink *sink, struct ed_err *err)
{
	struct facts f = {0};
	enum ed_code rc = env_facts(src, sink, "/etc/os-release", "/usr/lib/os-release", "os/", &f,
				    err);
	if (!rc)
		rc = kernel_facts(src, sink, &f, err);
	if (!rc)
		rc = timezone_fact(src, sink, &f, err);
	if (!rc)
		rc = env_facts(src, sink, "/etc/default/locale", "/etc/locale.conf", "locale/", &f,
			       err);
	if (!rc)
		rc = sysctl_facts(src, sysctl, sink, &f, err);
	if (!rc)
		rc = emit_facts(&f, sink, err);
	facts_release(&f);
	return rc;
}
