/* SPDX-License-Identifier: MIT */
/*
 * The file collector: walks a tree through a source without following
 * symlinks and emits one item per entry. Regular files are hashed while
 * read; *.json files are also handed to the JSON config parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/collect.h"

#define READ_CHUNK (256u * 1024)

struct idname {
	uint32_t id;
	char *name;
};

struct idmap {
	struct idname *v;
	size_t n;
};

struct walk {
	struct ed_source *src;
	const struct ed_files_opts *opts;
	struct ed_sink *sink;
	struct idmap users;
	struct idmap groups;
	struct ed_hasher *hasher;
	char *chunk;        /* READ_CHUNK bytes */
	struct ed_buf body; /* content kept for structured configs */
	struct ed_buf link; /* symlink target */
	struct ed_buf value;
};

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = ((const struct idname *)a)->id, y = ((const struct idname *)b)->id;
	return x < y ? -1 : x > y;
}

static void idmap_release(struct idmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/*
 * Reads NAME:x:ID:... lines (passwd(5), group(5)) from the host's own file,
 * so that owners under --root are named as that host names them. A missing
 * or unreadable file leaves numeric ids; a bad line is skipped.
 */
static void idmap_load(struct ed_source *src, const char *path, struct idmap *m)
{
	struct ed_buf text = ED_BUF_INIT;
	struct ed_err err;
	if (ed_source_read_all(src, path, 16u * 1024 * 1024, &text, &err))
		goto out;
	size_t cap = 0;
	for (char *line = text.p, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c1 == line)
			continue;
		char *end;
		unsigned long id = strtoul(c2 + 1, &end, 10);
		if (end == c2 + 1 || *end != ':' || id > UINT32_MAX)
			continue;
		if (m->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct idname *nv = realloc(m->v, ncap * sizeof(*nv));
			if (!nv)
				break;
			m->v = nv;
			cap = ncap;
		}
		char *name = ed_strndup(line, (size_t)(c1 - line));
		if (!name)
			break;
		m->v[m->n].id = (uint32_t)id;
		m->v[m->n].name = name;
		m->n++;
	}
	qsort(m->v, m->n, sizeof(*m->v), cmp_id);
out:
	ed_buf_release(&text);
}

/* The name for id (first entry wins on duplicates), or its decimal form in num. */
static const char *idmap_name(const struct idmap *m, uint32_t id, char num[16])
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n && m->v[lo].id == id)
		return m->v[lo].name;
	snprintf(num, 16, "%u", id);
	return num;
}

static bool is_json_name(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && strcmp(path + n - 5, ".json") == 0;
}

static bool same_file_state(const struct ed_stat *a, const struct ed_stat *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
	       a->ino == b->ino && a->dev == b->dev;
}

/*
 * Reads and hashes one regular file. On success fp is set and, when keep is
 * true and the file is small enough, w->body holds its bytes. A read problem
 * is returned as ED_IO etc. with err naming the path: the caller turns it
 * into an item error, not a failed run.
 */
static enum ed_code hash_file(struct walk *w, const char *path, const struct ed_stat *before,
			      bool keep, const uint8_t *mac_key, struct ed_fp *fp,
			      struct ed_err *err)
{
	struct ed_source *src = w->src;
	struct ed_file *f = NULL;
	struct ed_mac *mac = NULL;
	enum ed_code rc;
	/* A file that changes while read is read again, then reported as unstable. */
	for (int attempt = 0; attempt < 2; attempt++) {
		struct ed_stat st0, st1;
		ed_buf_reset(&w->body);
		rc = src->ops->open(src, path, &f, err);
		if (rc)
			return rc;
		rc = src->ops->fstat(f, &st0, err);
		if (rc)
			goto out;
		if (st0.ino != before->ino || st0.dev != before->dev) {
			rc = ed_err_set(err, ED_IO, "%s: replaced while being read", path);
			goto next;
		}
		bool keeping = keep && st0.size <= (int64_t)ED_CONFIG_MAX;
		ed_mac_free(mac);
		mac = NULL;
		if (mac_key && !(mac = ed_mac_new(mac_key))) {
			rc = ed_err_set(err, ED_NOMEM, "%s: cannot set up HMAC-SHA256", path);
			goto out;
		}
		for (;;) {
			size_t got = 0;
			rc = src->ops->read(f, w->chunk, READ_CHUNK, &got, err);
			if (rc)
				goto out;
			if (!got)
				break;
			if (mac)
				ed_mac_update(mac, w->chunk, got);
			else
				ed_hasher_update(w->hasher, w->chunk, got);
			if (keeping && ed_buf_add(&w->body, w->chunk, got))
				keeping = false;
		}
		if (mac)
			rc = ed_mac_final(mac, fp, err);
		else
			ed_hasher_final(w->hasher, fp);
		if (rc)
			goto out;
		rc = src->ops->fstat(f, &st1, err);
		if (rc)
			goto out;
		if (same_file_state(&st0, &st1)) {
			if (!keeping)
				ed_buf_reset(&w->body);
			goto out;
		}
		rc = ed_err_set(err, ED_IO, "%s: unstable: changed while being read", path);
	next:
		src->ops->close(f);
		f = NULL;
	}
out:
	if (f)
		src->ops->close(f);
	ed_mac_free(mac);
	if (rc)
		ed_buf_reset(&w->body);
	return rc;
}

/* Is the file's own name a secret's (db.password, api.token, server.key)? */
static bool is_secret_file(const struct walk *w, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return w->opts && w->opts->secrets && ed_secret_name_matches(w->opts->secrets, base, strlen(base));
}

static const char attrs_secret[] = "{\"secret\":true}";

/*
 * Emits the item of one entry; list_error is why a folder's entries could
 * not be listed (the folder item carries it), or NULL.
 */
static enum ed_code emit_entry(struct walk *w, const char *path, const struct ed_stat *st,
			       const char *list_error, struct ed_err *err)
{
	struct ed_item it = {0};
	struct ed_err rerr = {0};
	char unum[16], gnum[16];
	enum ed_code rc = ED_OK;
	bool parse_json = false;

	it.kind = ED_KIND_FILE;
	it.key = path;
	it.key_len = strlen(path);
	it.ftype = st->type;
	it.mode = st->mode;
	it.owner = idmap_name(&w->users, st->uid, unum);
	it.group = idmap_name(&w->groups, st->gid, gnum);
	it.size = st->size;
	it.mtime_ns = st->mtime_ns;
	it.ctime_ns = st->ctime_ns;
	it.ino = st->ino;
	it.dev = st->dev;

	ed_buf_reset(&w->link);
	if (st->type == ED_FT_REG) {
		bool keep = w->opts && w->opts->configs && is_json_name(path);
		if (keep && st->size > (int64_t)ED_CONFIG_MAX) {
			ed_sink_warn(w->sink, "%s: larger than %u MiB: fingerprinted, not read key by key",
				     path, ED_CONFIG_MAX >> 20);
			keep = false;
		}
		/*
		 * Secrets are never stored as a plain hash, which a short value
		 * would not survive: a file named like a secret, or a config
		 * holding one, gets the keyed fingerprint (HMAC) instead.
		 */
		bool secret = is_secret_file(w, path);
		const uint8_t *key = secret ? w->opts->secrets->key : NULL;
		if (hash_file(w, path, st, keep, key, &it.fp, &rerr) == ED_OK)
			parse_json = keep && w->body.len > 0 && w->opts->secrets;
		else
			it.error = rerr.msg;
		if (parse_json) {
			size_t nsecrets = 0;
			rc = ed_config_json_parse(ed_str_of(w->body.p, w->body.len), path,
						  w->opts->secrets, w->sink, &nsecrets, err);
			if (rc == ED_OK && nsecrets && !secret) {
				secret = true;
				rc = ed_fp_keyed(w->opts->secrets->key, w->body.p, w->body.len, &it.fp,
						 err);
			}
			ed_buf_reset(&w->body);
			if (rc)
				return rc;
		}
		if (secret)
			it.attrs = attrs_secret;
	} else if (st->type == ED_FT_LINK) {
		if (w->src->ops->readlink(w->src, path, &w->link, &rerr) == ED_OK) {
			it.target = ed_buf_str(&w->link);
			ed_fp_of(w->link.p, w->link.len, &it.fp);
		} else {
			it.error = rerr.msg;
		}
	} else if (st->type == ED_FT_DIR && list_error) {
		it.error = list_error;
	}
	/* Directories and special files: attributes only, the fingerprint stays zero. */

	ed_buf_reset(&w->value);
	int bad = ed_buf_addf(&w->value, "%s %04o %s:%s", ed_ftype_name(st->type), st->mode,
			      it.owner, it.group);
	if (!bad && st->type == ED_FT_REG)
		bad = ed_buf_addf(&w->value, " %lld", (long long)st->size);
	if (!bad && it.target)
		bad = ed_buf_addf(&w->value, " -> %s", it.target);
	if (bad)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	it.value = w->value.p;

	if (it.error)
		ed_sink_warn(w->sink, "%s", it.error);
	return w->sink->emit(w->sink, &it, err);
}

/* An entry that could not even be stat'ed: an item of unknown type with the error. */
static enum ed_code emit_unstatable(struct walk *w, const char *path, const char *why,
				    struct ed_err *err)
{
	struct ed_item it = {0};
	it.kind = ED_KIND_FILE;
	it.key = path;
	it.key_len = strlen(path);
	it.ftype = ED_FT_OTHER;
	it.error = why;
	it.value = "other";
	ed_sink_warn(w->sink, "%s", why);
	return w->sink->emit(w->sink, &it, err);
}

static enum ed_code visit(struct walk *w, struct ed_buf *path, const struct ed_stat *st,
			  struct ed_err *err)
{
	if (st->type != ED_FT_DIR)
		return emit_entry(w, path->p, st, NULL, err);

	/* List first: a folder whose entries cannot be read carries that error. */
	char **names = NULL;
	size_t n = 0;
	struct ed_err lerr = {0};
	enum ed_code rc = w->src->ops->list(w->src, path->p, &names, &n, &lerr);
	if (rc == ED_NOMEM)
		return ed_err_set(err, ED_NOMEM, "%s", lerr.msg);
	rc = emit_entry(w, path->p, st, rc ? lerr.msg : NULL, err);
	size_t base = path->len;
	for (size_t i = 0; i < n && rc == ED_OK; i++) {
		if ((base > 1 && ed_buf_addc(path, '/')) || ed_buf_adds(path, names[i])) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path->p);
			break;
		}
		struct ed_stat cst;
		struct ed_err serr = {0};
		if (w->src->ops->stat(w->src, path->p, &cst, &serr) == ED_OK)
			rc = visit(w, path, &cst, err);
		else if (serr.code == ED_NOTFOUND)
			; /* removed since listed: not part of this snapshot */
		else if (serr.code == ED_NOMEM)
			rc = ed_err_set(err, ED_NOMEM, "%s", serr.msg);
		else
			rc = emit_unstatable(w, path->p, serr.msg, err);
		path->len = base;
		path->p[base] = '\0';
	}
	ed_names_free(names, n);
	return rc;
}

enum ed_code ed_files_collect(struct ed_source *src, const char *path,
			      const struct ed_files_opts *opts, struct ed_sink *sink,
			      struct ed_err *err)
{
	struct walk w = {.src = src, .opts = opts, .sink = sink};
	struct ed_buf p = ED_BUF_INIT;
	struct ed_stat st;
	enum ed_code rc;

	if (ed_path_normalize(path, &p)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	w.hasher = ed_hasher_new();
	w.chunk = malloc(READ_CHUNK);
	if (!w.hasher || !w.chunk) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	idmap_load(src, "/etc/passwd", &w.users);
	idmap_load(src, "/etc/group", &w.groups);
	rc = src->ops->stat(src, p.p, &st, err);
	if (rc)
		goto out;
	rc = visit(&w, &p, &st, err);
out:
	idmap_release(&w.users);
	idmap_release(&w.groups);
	ed_hasher_free(w.hasher);
	free(w.chunk);
	ed_buf_release(&w.body);
	ed_buf_release(&w.link);
	ed_buf_release(&w.value);
	ed_buf_release(&p);
	return rc;
}
