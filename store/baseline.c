/* SPDX-License-Identifier: MIT */
/*
 * The baseline of an incremental collection: the previous complete snapshot
 * of the same environment and host, read by each hashing thread through its
 * own read-only connection.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/item.h"
#include "store_int.h"

struct baseline_ctx {
	char *path;   /* the store */
	int64_t id;   /* the previous snapshot */
	int64_t base; /* its base, when it is a delta; else 0 */
	char **warnings; /* its warnings, sorted; read by every reader */
	size_t nwarnings;
};

/* One file item of a snapshot, by key (?1 the snapshot, ?2 the key). */
#define ITEM_SQL                                                                        \
	"SELECT fingerprint, size, mtime_ns, ctime_ns, ino, dev, error, attrs, state, ftype " \
	"FROM items WHERE snapshot_id = ?1 AND kind = 'file' AND key = ?2"

struct ed_baseline_reader {
	sqlite3 *db;
	sqlite3_stmt *file;      /* ITEM_SQL on the previous snapshot */
	sqlite3_stmt *base_file; /* and on its base, when it is a delta */
	sqlite3_stmt *configs;
	sqlite3_stmt *content;
	sqlite3_stmt *child; /* the first item in a key range */
	struct ed_buf lo, hi;
	int64_t id;
	const struct baseline_ctx *ctx;
};

static void reader_close(struct ed_baseline_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->file);
	sqlite3_finalize(r->base_file);
	sqlite3_finalize(r->configs);
	sqlite3_finalize(r->content);
	sqlite3_finalize(r->child);
	sqlite3_close_v2(r->db);
	ed_buf_release(&r->lo);
	ed_buf_release(&r->hi);
	free(r);
}

static int64_t reader_count(struct ed_baseline_reader *r, const char *kind, const char *prefix)
{
	const struct baseline_ctx *c = r->ctx;
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	size_t len = strlen(prefix);
	char *end = malloc(len + 1);
	if (!end || !len || (unsigned char)prefix[len - 1] == 0xff)
		goto out;
	/* The keys in [prefix, prefix with its last byte one higher). */
	memcpy(end, prefix, len + 1);
	end[len - 1]++;
	if (ed_items_prepare(r->db, "SELECT count(*) FROM (", "kind, key",
			     "kind = ?3 AND key >= ?4 AND key < ?5", ")", c->id, c->base,
			     &s) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, end, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
out:
	sqlite3_finalize(s);
	free(end);
	return n;
}

static struct ed_baseline_reader *reader_open(const struct ed_baseline *b)
{
	const struct baseline_ctx *c = b->ctx;
	struct ed_baseline_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->id = c->id;
	r->ctx = c;
	/*
	 * The config keys of file PATH lie in [PATH#, PATH#0): one range, so the
	 * primary key finds them (an OR of two would scan every config of the
	 * snapshot). reader_configs() keeps "PATH#" (a document that is one
	 * scalar) and "PATH#/...", not those of a file named "PATH#2.json".
	 */
	bool ok = (r->db = ed_store_open_reader(c->path)) &&
		  sqlite3_prepare_v2(r->db, ITEM_SQL, -1, &r->file, NULL) == SQLITE_OK &&
		  (!c->base ||
		   sqlite3_prepare_v2(r->db, ITEM_SQL, -1, &r->base_file, NULL) == SQLITE_OK) &&
		  ed_items_prepare(r->db, NULL, "kind, key, fingerprint, value, attrs, error",
				   "kind = 'config' AND key >= ?3 || '#' AND key < ?3 || '#0'", NULL,
				   c->id, c->base, &r->configs) == SQLITE_OK &&
		  ed_items_prepare(r->db, NULL, "kind, key, ftype",
				   "kind = 'file' AND key >= ?3 AND key < ?4", " LIMIT 1", c->id,
				   c->base, &r->child) == SQLITE_OK &&
		  sqlite3_prepare_v2(r->db, "SELECT 1 FROM contents WHERE fingerprint = ?", -1,
				     &r->content, NULL) == SQLITE_OK;
	/*
	 * One read transaction for the reader's life: a lookup then skips
	 * taking and dropping its own (most of what a point lookup costs). The
	 * previous snapshot is complete and never changes; the readers close
	 * before the new snapshot commits.
	 */
	ok = ok && sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	if (!ok) {
		reader_close(r);
		return NULL;
	}
	sqlite3_bind_int64(r->file, 1, c->id);
	if (c->base)
		sqlite3_bind_int64(r->base_file, 1, c->base);
	return r;
}

/*
 * Looks up file item path: the previous snapshot's own row, else its base's.
 * The statement that found an item (not a tombstone) is returned on its row,
 * to be reset by the caller; NULL when there is none.
 */
static sqlite3_stmt *file_row(struct ed_baseline_reader *r, const char *path)
{
	sqlite3_stmt *v[] = {r->file, r->base_file};
	for (size_t i = 0; i < 2 && v[i]; i++) {
		sqlite3_stmt *s = v[i];
		sqlite3_reset(s);
		sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
		int step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			continue;
		/* An error is "not found", never the base's row: the file is read again. */
		if (step != SQLITE_ROW) {
			sqlite3_reset(s);
			return NULL;
		}
		if (ed_state_is_tombstone(sqlite3_column_blob(s, 8), sqlite3_column_bytes(s, 8))) {
			sqlite3_reset(s);
			return NULL;
		}
		return s;
	}
	return NULL;
}

static bool reader_lookup(struct ed_baseline_reader *r, const char *path, struct ed_prev_file *out)
{
	sqlite3_stmt *s = file_row(r, path);
	bool found = false;
	/* An item recorded with an error has no fingerprint worth reusing. */
	if (s && sqlite3_column_bytes(s, 0) == ED_FP_LEN && sqlite3_column_type(s, 6) == SQLITE_NULL) {
		memcpy(out->fp.b, sqlite3_column_blob(s, 0), ED_FP_LEN);
		out->size = sqlite3_column_int64(s, 1);
		out->mtime_ns = sqlite3_column_int64(s, 2);
		out->ctime_ns = sqlite3_column_int64(s, 3);
		out->ino = (uint64_t)sqlite3_column_int64(s, 4);
		out->dev = (uint64_t)sqlite3_column_int64(s, 5);
		const char *attrs = (const char *)sqlite3_column_text(s, 7);
		out->secret = ed_attrs_secret(attrs);
		out->masked = attrs && strstr(attrs, "\"masked\":true");
		out->vendor = attrs && strstr(attrs, "\"vendor\":true");
		if (!ed_attrs_because(attrs, out->because, sizeof(out->because)))
			out->because[0] = '\0';
		out->ftype = ed_ftype_parse((const char *)sqlite3_column_text(s, 9));
		out->has_state = sqlite3_column_bytes(s, 8) == ED_STATE_LEN;
		if (out->has_state)
			memcpy(out->state, sqlite3_column_blob(s, 8), ED_STATE_LEN);
		found = true;
	}
	if (s)
		sqlite3_reset(s);
	return found;
}

/*
 * Whether rest, what follows a path in a warning, is how the parsers go on
 * about that very file: ": ", ":LINE: " or ":LINE:COLUMN: " (not
 * ":1.json: ...", a warning about the file "PATH:1.json").
 */
static bool about(const char *rest)
{
	for (int field = 0; field < 3; field++) {
		if (*rest++ != ':')
			return false;
		if (*rest == ' ')
			return true;
		if (field == 2 || *rest < '0' || *rest > '9')
			return false;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	return false;
}

/*
 * A file read again says again what was wrong with it (a config that does
 * not parse, one too big to read key by key); one that is not read again
 * must say it too, or an unchanged broken file would go quiet after its
 * first collection. Its warnings start with "PATH: " or "PATH:LINE".
 */
static void reader_warnings(struct ed_baseline_reader *r, const char *path, struct ed_sink *sink)
{
	const struct baseline_ctx *c = r->ctx;
	size_t n = strlen(path), lo = 0, hi = c->nwarnings;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(c->warnings[mid], path, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->nwarnings && strncmp(c->warnings[lo], path, n) == 0; lo++)
		if (about(c->warnings[lo] + n))
			sink->warn(sink, c->warnings[lo]);
}

static bool reader_has_content(struct ed_baseline_reader *r, const struct ed_fp *fp)
{
	sqlite3_stmt *c = r->content;
	sqlite3_reset(c);
	sqlite3_bind_blob(c, 1, fp->b, ED_FP_LEN, SQLITE_STATIC);
	bool has = sqlite3_step(c) == SQLITE_ROW;
	sqlite3_reset(c);
	return has;
}

/* Whether the previous snapshot has file item key (len bytes). */
static bool has_file(struct ed_baseline_reader *r, const char *key, size_t len)
{
	ed_buf_reset(&r->lo);
	if (ed_buf_add(&r->lo, key, len))
		return true; /* out of memory: assume the careful answer */
	sqlite3_stmt *s = file_row(r, r->lo.p);
	if (s)
		sqlite3_reset(s);
	return s != NULL;
}

/*
 * Whether config key (len bytes), in the range of file path (plen bytes),
 * is path's: config keys are PATH#/pointer, and a folder named "PATH#"
 * holds files whose keys start the same ("PATH#/y.json#/k"). A key belongs
 * to the longest file named by its start before a '#'.
 */
static bool config_of(struct ed_baseline_reader *r, const char *key, size_t len, size_t plen)
{
	for (size_t i = len; i-- > plen + 1;)
		if (key[i] == '#' && has_file(r, key, i))
			return false;
	return true;
}

/* Whether the previous snapshot has a file item below folder "PATH#". */
static bool hash_folder(struct ed_baseline_reader *r, const char *path)
{
	sqlite3_stmt *s = r->child;
	ed_buf_reset(&r->lo);
	ed_buf_reset(&r->hi);
	if (ed_buf_adds(&r->lo, path) || ed_buf_adds(&r->lo, "#/") || ed_buf_adds(&r->hi, path) ||
	    ed_buf_adds(&r->hi, "#0"))
		return true;
	sqlite3_reset(s);
	sqlite3_bind_text(s, 3, r->lo.p, (int)r->lo.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->hi.p, (int)r->hi.len, SQLITE_STATIC);
	bool any = sqlite3_step(s) != SQLITE_DONE;
	sqlite3_reset(s);
	return any;
}

static enum ed_code reader_configs(struct ed_baseline_reader *r, const char *path,
				   struct ed_sink *sink, struct ed_err *err)
{
	sqlite3_stmt *s = r->configs;
	enum ed_code rc = ED_OK;
	int step;
	size_t n = strlen(path);
	bool careful = hash_folder(r, path); /* rare: a folder named "PATH#" */
	sqlite3_reset(s);
	sqlite3_bind_text(s, 3, path, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_item it = {0};
		it.kind = ED_KIND_CONFIG;
		it.key = (const char *)sqlite3_column_text(s, 1);
		it.key_len = (size_t)sqlite3_column_bytes(s, 1);
		if (!it.key || it.key_len < n + 1 || (it.key_len > n + 1 && it.key[n + 1] != '/'))
			continue; /* "PATH#2.json#/...": another file's */
		if (careful && !config_of(r, it.key, it.key_len, n))
			continue; /* "PATH#/y.json#/k": the file PATH#/y.json's */
		if (sqlite3_column_bytes(s, 2) == ED_FP_LEN)
			memcpy(it.fp.b, sqlite3_column_blob(s, 2), ED_FP_LEN);
		it.value = (const char *)sqlite3_column_text(s, 3);
		it.attrs = (const char *)sqlite3_column_text(s, 4);
		it.error = (const char *)sqlite3_column_text(s, 5);
		if ((rc = sink->emit(sink, &it, err)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = ed_err_set(err, ED_STORE, "reading the previous snapshot's configs of %s: %s",
				path, sqlite3_errmsg(r->db));
	sqlite3_reset(s);
	return rc;
}

/*
 * The entries right below a folder, in key order, one range lookup each:
 * after an entry D/name, the next is the first key past it; the first key
 * below a folder D/name/... sends the search past the folder's whole tree,
 * to D/name0 ('0' follows '/').
 */
static enum ed_code reader_children(struct ed_baseline_reader *r, const char *path,
				    enum ed_code (*fn)(void *ctx, const char *name, size_t len,
						       const char *ftype, struct ed_err *err),
				    void *ctx, struct ed_err *err)
{
	sqlite3_stmt *s = r->child;
	size_t plen = strlen(path);
	bool root = plen == 1 && path[0] == '/';
	size_t pre = root ? 1 : plen + 1; /* "D/" */
	enum ed_code rc = ED_OK;
	ed_buf_reset(&r->lo);
	ed_buf_reset(&r->hi);
	if (ed_buf_add(&r->lo, path, plen) || (!root && ed_buf_addc(&r->lo, '/')) ||
	    ed_buf_add(&r->hi, r->lo.p, pre - 1) || ed_buf_addc(&r->hi, '0'))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	for (;;) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 3, r->lo.p, (int)r->lo.len, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, r->hi.p, (int)r->hi.len, SQLITE_STATIC);
		int step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = ed_err_set(err, ED_STORE, "reading the previous snapshot below %s: %s",
					path, sqlite3_errmsg(r->db));
			break;
		}
		const char *key = (const char *)sqlite3_column_text(s, 1);
		size_t klen = (size_t)sqlite3_column_bytes(s, 1);
		const char *ftype = (const char *)sqlite3_column_text(s, 2);
		if (!key)
			break;
		if (klen <= pre) {
			/* The folder "/" itself, in the range "/".."0": step past it. */
			ed_buf_reset(&r->lo);
			if (ed_buf_add(&r->lo, key, klen) || ed_buf_addc(&r->lo, '\0')) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				break;
			}
			continue;
		}
		const char *name = key + pre;
		const char *slash = memchr(name, '/', klen - pre);
		size_t nlen = slash ? (size_t)(slash - name) : klen - pre;
		if (slash || !ftype)
			ftype = "dir";
		/* Next: past this entry ("\0" follows it), or past its tree. */
		ed_buf_reset(&r->lo);
		if (ed_buf_add(&r->lo, key, pre + nlen) || ed_buf_addc(&r->lo, slash ? '0' : '\0')) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		if ((rc = fn(ctx, name, nlen, ftype, err)))
			break;
	}
	sqlite3_reset(s);
	return rc;
}

/* The previous snapshot's warnings, sorted, into c (a few: one per broken input). */
static enum ed_code load_warnings(struct ed_store *st, struct baseline_ctx *c, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int step;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT message FROM warnings WHERE snapshot_id = ? ORDER BY message", -1,
			       &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading the previous snapshot's warnings", err);
	sqlite3_bind_int64(s, 1, c->id);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		if (!m)
			continue;
		if (c->nwarnings == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **v = realloc(c->warnings, ncap * sizeof(*v));
			if (!v)
				break;
			c->warnings = v;
			cap = ncap;
		}
		if (!(c->warnings[c->nwarnings] = strdup(m)))
			break;
		c->nwarnings++;
	}
	sqlite3_finalize(s);
	if (step == SQLITE_ROW)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (step != SQLITE_DONE)
		return ed_store_fail(st, "reading the previous snapshot's warnings", err);
	return ED_OK;
}

enum ed_code ed_store_baseline(struct ed_store *st, const char *env, const char *host,
			       const char *sig, struct ed_baseline *out, int64_t *prev_id,
			       int64_t *stale, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	memset(out, 0, sizeof(*out));
	*prev_id = 0;
	*stale = 0;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT l.snapshot_id, s.base_id, CAST(strftime('%s', s.started_at) AS INTEGER), "
			       "s.collect_sig "
			       "FROM latest_v AS l JOIN snapshots AS s ON s.id = l.snapshot_id "
			       "WHERE l.env = ? AND l.host = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "finding the previous snapshot", err);
	sqlite3_bind_text(s, 1, env, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, host, -1, SQLITE_STATIC);
	int64_t base = 0, started = 0;
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*prev_id = sqlite3_column_int64(s, 0);
		base = sqlite3_column_int64(s, 1);
		started = sqlite3_column_int64(s, 2);
		const char *was = (const char *)sqlite3_column_text(s, 3);
		if (sig && was && strcmp(sig, was) != 0) {
			*stale = *prev_id;
			*prev_id = 0;
		}
	}
	else if (step != SQLITE_DONE)
		rc = ed_store_fail(st, "finding the previous snapshot", err);
	sqlite3_finalize(s);
	if (rc || !*prev_id)
		return rc;
	struct baseline_ctx *c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(ed_store_path(st)))) {
		free(c);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	c->id = *prev_id;
	c->base = base;
	if ((rc = load_warnings(st, c, err))) {
		struct ed_baseline partial = {.ctx = c};
		ed_store_baseline_release(&partial);
		return rc;
	}
	/* started_at has whole seconds; leave two more for coarse clocks. */
	out->trust_before_ns = (started - 2) * INT64_C(1000000000);
	out->open = reader_open;
	out->lookup = reader_lookup;
	out->warnings = reader_warnings;
	out->has_content = reader_has_content;
	out->configs = reader_configs;
	out->children = reader_children;
	out->count = reader_count;
	out->close = reader_close;
	out->ctx = c;
	return ED_OK;
}

void ed_store_baseline_release(struct ed_baseline *b)
{
	struct baseline_ctx *c = b->ctx;
	if (c) {
		for (size_t i = 0; i < c->nwarnings; i++)
			free(c->warnings[i]);
		free(c->warnings);
		free(c->path);
	}
	free(c);
	memset(b, 0, sizeof(*b));
}
