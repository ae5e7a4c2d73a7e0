/* SPDX-License-Identifier: MIT */
/*
 * A delta snapshot holds only the rows that differ from its base; see
 * 008-delta-snapshots.sql for what the rows mean. The writer is given the
 * host's previous complete snapshot, prev: the new snapshot's base is prev's
 * base when prev is a delta, else prev itself, so a base is never a delta.
 *
 * What is compared against is prev as it resolves. An item equal to prev's
 * is not written; prev's own rows are copied at the end where the new
 * snapshot has none, which carries prev's changes over to the new delta.
 *
 * Tombstones: the file collector says which files and configs are gone (it
 * knows which folders changed); for the other kinds, few items each, the
 * writer remembers every key emitted and removes the rest of prev's.
 */
#include "delta.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "ed/buf.h"
#include "store_int.h"

/*
 * prev's rows (or its base's) read forward in key order, for items that come
 * in key order, as a writer's sorted batches do: a step to the next row
 * instead of a search per item. s is on the first row at or after lo, the
 * last key looked up (so no row lies between lo and s's row); an item before
 * lo, or far ahead, starts s again at the item (one search, as a lookup).
 */
struct walk {
	sqlite3_stmt *s; /* look's columns, then kind and key, from (?2, ?3) on */
	bool live;       /* s was started at lo or before */
	bool on;         /* s is on a row; else past prev's last */
	struct ed_buf lo; /* kind "\0" key: the last key looked up */
	size_t lo_kind;  /* length of lo's kind */
};

struct ed_delta_writer {
	sqlite3 *db;
	const char *store;
	int64_t id, prev, prev_base;
	sqlite3_stmt *look[2]; /* the row of (kind, key) of prev, and of its base */
	struct walk walk[2];   /* the same rows read in key order (ed_delta_item) */
	sqlite3_stmt *tomb;  /* tombstones for prev's items of one kind in a key range */
	sqlite3_stmt *range; /* prev's keys of one kind in a key range */
	uint64_t *seen;     /* hashes of (kind, key) of other kinds, open addressing; 0 = empty */
	size_t nseen, cap;
	bool listing;       /* every item of the snapshot comes (a document): all kinds seen */
};

static enum ed_code fail(struct ed_delta_writer *d, const char *what, struct ed_err *err)
{
	return ed_err_set(err, ED_STORE, "store %s: %s: %s", d->store, what, sqlite3_errmsg(d->db));
}

enum ed_code ed_delta_open(sqlite3 *db, const char *store, int64_t id, int64_t prev,
			   int64_t prev_base, bool listing, struct ed_delta_writer **out,
			   struct ed_err *err)
{
	struct ed_delta_writer *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	d->listing = listing;
	d->db = db;
	d->store = store;
	d->id = id;
	d->prev = prev;
	d->prev_base = prev_base;
	/* prev's keys, resolved, of kind ?5 in [?3, ?4). */
	static const char cols[] = "kind, key", where[] = "kind = ?5 AND key >= ?3 AND key < ?4";
	int r = SQLITE_OK;
	for (size_t i = 0; i < (prev_base ? 2u : 1u) && r == SQLITE_OK; i++)
		if ((r = sqlite3_prepare_v2(db,
					    "SELECT state, value, size, mtime_ns, ctime_ns, ino, dev, "
					    "attrs FROM items WHERE snapshot_id = ?1 AND kind = ?2 "
					    "AND key = ?3",
					    -1, &d->look[i], NULL)) == SQLITE_OK &&
		    (r = sqlite3_prepare_v2(db,
					    "SELECT state, value, size, mtime_ns, ctime_ns, ino, dev, "
					    "attrs, kind, key FROM items WHERE snapshot_id = ?1 AND "
					    "(kind, key) >= (?2, ?3) ORDER BY kind, key",
					    -1, &d->walk[i].s, NULL)) == SQLITE_OK) {
			sqlite3_bind_int64(d->look[i], 1, i ? prev_base : prev);
			sqlite3_bind_int64(d->walk[i].s, 1, i ? prev_base : prev);
		}
	if (r == SQLITE_OK)
		r = ed_items_prepare(db,
				     "INSERT OR IGNORE INTO items (snapshot_id, kind, key, state, "
				     "fingerprint) SELECT ?6, kind, key, " ED_TOMBSTONE_SQL ", X'' FROM (",
				     cols, where, ")", prev, prev_base, &d->tomb);
	if (r == SQLITE_OK)
		r = ed_items_prepare(db, NULL, cols, where, NULL, prev, prev_base, &d->range);
	if (r != SQLITE_OK) {
		enum ed_code rc = r == SQLITE_NOMEM ? ed_err_set(err, ED_NOMEM, "out of memory")
						    : fail(d, "starting a delta snapshot", err);
		ed_delta_close(d);
		return rc;
	}
	sqlite3_bind_int64(d->tomb, 6, id);
	*out = d;
	return ED_OK;
}

void ed_delta_close(struct ed_delta_writer *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < 2; i++) {
		sqlite3_finalize(d->look[i]);
		sqlite3_finalize(d->walk[i].s);
		ed_buf_release(&d->walk[i].lo);
	}
	sqlite3_finalize(d->tomb);
	sqlite3_finalize(d->range);
	free(d->seen);
	free(d);
}

/* --- keys of the other kinds seen --- */

static uint64_t key_hash(const char *kind, const char *key, size_t key_len)
{
	uint64_t h = XXH3_64bits_withSeed(key, key_len, XXH3_64bits(kind, strlen(kind)));
	return h ? h : 1;
}

static bool seen_has(const struct ed_delta_writer *d, uint64_t h)
{
	if (!d->cap)
		return false;
	for (size_t i = h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
		if (d->seen[i] == h)
			return true;
		if (!d->seen[i])
			return false;
	}
}

static bool seen_add(struct ed_delta_writer *d, uint64_t h)
{
	if (2 * (d->nseen + 1) > d->cap) {
		size_t ncap = d->cap ? 2 * d->cap : 1024;
		uint64_t *v = calloc(ncap, sizeof(*v));
		if (!v)
			return false;
		for (size_t i = 0; i < d->cap; i++) {
			if (!d->seen[i])
				continue;
			size_t j = d->seen[i] & (ncap - 1);
			while (v[j])
				j = (j + 1) & (ncap - 1);
			v[j] = d->seen[i];
		}
		free(d->seen);
		d->seen = v;
		d->cap = ncap;
	}
	size_t j = h & (d->cap - 1);
	while (d->seen[j] && d->seen[j] != h)
		j = (j + 1) & (d->cap - 1);
	if (!d->seen[j]) {
		d->seen[j] = h;
		d->nseen++;
	}
	return true;
}

/*
 * The kinds whose gone items the writer finds itself: all but file and
 * config (ed_delta_finish() names them, so a new kind must be added there).
 */
static bool tracked(const char *kind)
{
	return strcmp(kind, ED_KIND_FILE) != 0 && strcmp(kind, ED_KIND_CONFIG) != 0;
}

static bool known(const char *kind)
{
	return strcmp(kind, ED_KIND_PACKAGE) == 0 || strcmp(kind, ED_KIND_SCHEMA) == 0 ||
	       strcmp(kind, ED_KIND_SYSTEM) == 0 || strcmp(kind, ED_KIND_ACCOUNT) == 0 ||
	       strcmp(kind, ED_KIND_DATA) == 0 || strcmp(kind, ED_KIND_ROWS) == 0;
}

/* --- items --- */

/*
 * prev's item (kind, key of len bytes), as it resolves: its own row, else
 * its base's. 1 with *row on it (the caller resets it), 0 for none (or a
 * tombstone), -1 on an SQLite error.
 */
static int prev_row(struct ed_delta_writer *d, const char *kind, const char *key, size_t len,
		    sqlite3_stmt **row)
{
	*row = NULL;
	for (size_t i = 0; i < 2 && d->look[i]; i++) {
		sqlite3_stmt *q = d->look[i];
		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 3, key, (int)len, SQLITE_STATIC) != SQLITE_OK)
			return -1;
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE)
			continue;
		if (r != SQLITE_ROW)
			return -1;
		if (ed_state_is_tombstone(sqlite3_column_blob(q, 0), sqlite3_column_bytes(q, 0))) {
			sqlite3_reset(q);
			return 0;
		}
		*row = q;
		return 1;
	}
	return 0;
}

/* Orders (kind, key) as SQLite's BINARY collation does: bytes, then length. */
static int key_cmp(const char *ka, size_t kal, const char *a, size_t al, const char *kb,
		   size_t kbl, const char *b, size_t bl)
{
	int c = memcmp(ka, kb, kal < kbl ? kal : kbl);
	if (c || kal != kbl)
		return c ? c : (kal < kbl ? -1 : 1);
	c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

/* How far a walk steps before it searches instead. */
#define WALK_STEPS 32

/*
 * Moves walk w to (kind, key of len bytes): 1 when it is on that row, 0
 * when prev has no such row, -1 on an SQLite error, -2 out of memory.
 */
static int walk_to(struct walk *w, const char *kind, const char *key, size_t len)
{
	size_t kl = strlen(kind);
	bool restart = !w->live ||
		       key_cmp(kind, kl, key, len, w->lo.p, w->lo_kind, w->lo.p + w->lo_kind + 1,
			       w->lo.len - w->lo_kind - 1) < 0;
	ed_buf_reset(&w->lo);
	if (ed_buf_add(&w->lo, kind, kl) || ed_buf_addc(&w->lo, '\0') ||
	    ed_buf_add(&w->lo, key, len)) {
		w->live = false; /* lo is not whole: start again next time */
		return -2;
	}
	w->lo_kind = kl;
	for (int steps = 0;; steps++) {
		if (restart) {
			/* Copied: steps later in the walk read them, after the item is gone. */
			sqlite3_reset(w->s);
			if (sqlite3_bind_text(w->s, 2, kind, (int)kl, SQLITE_TRANSIENT) != SQLITE_OK ||
			    sqlite3_bind_text(w->s, 3, key, (int)len, SQLITE_TRANSIENT) != SQLITE_OK)
				return -1;
			w->live = true;
			w->on = false;
			restart = false;
			steps = 0;
		} else if (!w->on) {
			return 0; /* past prev's last row, and the key is not before lo */
		} else {
			int c = key_cmp((const char *)sqlite3_column_text(w->s, 8),
					(size_t)sqlite3_column_bytes(w->s, 8),
					(const char *)sqlite3_column_text(w->s, 9),
					(size_t)sqlite3_column_bytes(w->s, 9), kind, kl, key, len);
			if (c >= 0)
				return c == 0;
			if (steps == WALK_STEPS) {
				restart = true;
				continue;
			}
		}
		int r = sqlite3_step(w->s);
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			w->live = false;
			return -1;
		}
		w->on = r == SQLITE_ROW;
	}
}

/* prev_row() by walking: *row stays on its row (it must not be reset); -2 out of memory. */
static int prev_row_walk(struct ed_delta_writer *d, const char *kind, const char *key,
			 size_t len, sqlite3_stmt **row)
{
	*row = NULL;
	for (size_t i = 0; i < 2 && d->walk[i].s; i++) {
		int r = walk_to(&d->walk[i], kind, key, len);
		if (r < 0)
			return r;
		if (!r)
			continue;
		if (ed_state_is_tombstone(sqlite3_column_blob(d->walk[i].s, 0),
					  sqlite3_column_bytes(d->walk[i].s, 0)))
			return 0;
		*row = d->walk[i].s;
		return 1;
	}
	return 0;
}

static bool text_eq(sqlite3_stmt *s, int col, const char *v)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	return (!t && !v) || (t && v && strcmp(t, v) == 0);
}

static bool int_eq(sqlite3_stmt *s, int col, bool has, int64_t v)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return !has;
	return has && sqlite3_column_int64(s, col) == v;
}

enum ed_code ed_delta_item(struct ed_delta_writer *d, const struct ed_item *it,
			   const uint8_t state[ED_STATE_LEN], bool *write, bool *added,
			   struct ed_err *err)
{
	if (d->listing || tracked(it->kind)) {
		if (!d->listing && !known(it->kind))
			return ed_err_set(err, ED_USAGE, "%s %s: an item kind a delta cannot remove",
					  it->kind, it->key);
		if (!seen_add(d, key_hash(it->kind, it->key, it->key_len)))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	sqlite3_stmt *s;
	int found = prev_row_walk(d, it->kind, it->key, it->key_len, &s);
	if (found == -2)
		return ed_err_set(err, ED_NOMEM, "out of memory comparing with the previous snapshot");
	if (found < 0)
		return fail(d, "comparing with the previous snapshot", err);
	if (!found) {
		*write = *added = true;
		return ED_OK;
	}
	bool file = it->ftype != ED_FT_NONE;
	bool same = sqlite3_column_bytes(s, 0) == ED_STATE_LEN &&
		    memcmp(sqlite3_column_blob(s, 0), state, ED_STATE_LEN) == 0 &&
		    text_eq(s, 1, it->value) && int_eq(s, 2, file, it->size) &&
		    int_eq(s, 3, file, it->mtime_ns) && int_eq(s, 4, file, it->ctime_ns) &&
		    int_eq(s, 5, file, (int64_t)it->ino) && int_eq(s, 6, file, (int64_t)it->dev) &&
		    text_eq(s, 7, it->attrs);
	*write = !same;
	*added = false;
	return ED_OK;
}

/*
 * The file that config key (len bytes) belongs to in prev: the longest
 * prefix ending right before a '#' that is a file item. Config keys are
 * PATH#/pointer, and a folder named "X#" beside a file X makes
 * "X#/y.json#/k" read either way. Its length in *owner, 0 for none; -1 on
 * an SQLite error.
 */
static int config_owner(struct ed_delta_writer *d, const char *key, size_t len, size_t *owner)
{
	*owner = 0;
	for (size_t i = len; i-- > 1;) {
		if (key[i] != '#')
			continue;
		sqlite3_stmt *row;
		int found = prev_row(d, ED_KIND_FILE, key, i, &row);
		if (found < 0)
			return -1;
		if (found) {
			sqlite3_reset(row);
			*owner = i;
			return 0;
		}
	}
	return 0;
}

/* Positions d->range on prev's first key of kind in [lo, hi): SQLITE_ROW, SQLITE_DONE or an error. */
static int range_start(struct ed_delta_writer *d, const char *kind, const char *lo, size_t lo_len,
		       const char *hi, size_t hi_len)
{
	sqlite3_stmt *s = d->range;
	sqlite3_reset(s);
	if (sqlite3_bind_text(s, 3, lo, (int)lo_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, hi, (int)hi_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 5, kind, -1, SQLITE_STATIC) != SQLITE_OK)
		return SQLITE_ERROR;
	return sqlite3_step(s);
}

/* Tombstones for prev's items of kind with keys in [lo, hi). */
static enum ed_code tomb_range(struct ed_delta_writer *d, const char *kind, const char *lo,
			       size_t lo_len, const char *hi, size_t hi_len, int64_t *removed,
			       struct ed_err *err)
{
	sqlite3_stmt *s = d->tomb;
	sqlite3_reset(s);
	if (sqlite3_bind_text(s, 3, lo, (int)lo_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, hi, (int)hi_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 5, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		return fail(d, "removing items from a delta snapshot", err);
	*removed += sqlite3_changes(d->db);
	sqlite3_reset(s);
	return ED_OK;
}

/*
 * Tombstones for keys, a list of kind "\0" key "\0" pairs, collected
 * first: a cursor must not read the table that is being written.
 */
static enum ed_code tomb_keys(struct ed_delta_writer *d, const struct ed_buf *keys,
			      int64_t *removed, struct ed_err *err)
{
	sqlite3_stmt *ins = NULL;
	enum ed_code rc = ED_OK;
	if (!keys->len)
		return ED_OK;
	if (sqlite3_prepare_v2(d->db,
			       "INSERT OR IGNORE INTO items (snapshot_id, kind, key, state, fingerprint) "
			       "VALUES (?1, ?2, ?3, " ED_TOMBSTONE_SQL ", X'')",
			       -1, &ins, NULL) != SQLITE_OK)
		return fail(d, "removing items from a delta snapshot", err);
	sqlite3_bind_int64(ins, 1, d->id);
	for (size_t off = 0; off < keys->len && !rc;) {
		const char *kind = keys->p + off;
		const char *key = kind + strlen(kind) + 1;
		off = (size_t)(key - keys->p) + strlen(key) + 1;
		sqlite3_reset(ins);
		if (sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(ins, 3, key, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(ins) != SQLITE_DONE)
			rc = fail(d, "removing items from a delta snapshot", err);
		else
			*removed += sqlite3_changes(d->db);
	}
	sqlite3_finalize(ins);
	return rc;
}

static int add_key(struct ed_buf *keys, const char *kind, const char *key, size_t len)
{
	return ed_buf_add(keys, kind, strlen(kind) + 1) || ed_buf_add(keys, key, len) ||
	       ed_buf_addc(keys, '\0');
}

/*
 * Tombstones for prev's config items in [lo, hi) that belong (config_owner)
 * to file owner (owner_len bytes), or with below set, to a file below the
 * folder owner. The careful way of tomb_range(), one key at a time.
 */
static enum ed_code tomb_configs_owned(struct ed_delta_writer *d, const char *lo, size_t lo_len,
				       const char *hi, size_t hi_len, const char *owner,
				       size_t owner_len, bool below, int64_t *removed,
				       struct ed_err *err)
{
	struct ed_buf keys = ED_BUF_INIT;
	sqlite3_stmt *s = d->range;
	enum ed_code rc = ED_OK;
	int r;
	for (r = range_start(d, ED_KIND_CONFIG, lo, lo_len, hi, hi_len); r == SQLITE_ROW;
	     r = sqlite3_step(s)) {
		const char *k = (const char *)sqlite3_column_text(s, 1);
		size_t n = (size_t)sqlite3_column_bytes(s, 1), o;
		if (!k)
			continue;
		if (config_owner(d, k, n, &o)) {
			r = SQLITE_ERROR;
			break;
		}
		bool mine = below ? o > owner_len && memcmp(k, owner, owner_len) == 0 &&
					    k[owner_len] == '/'
				  : o == owner_len && memcmp(k, owner, owner_len) == 0;
		if (mine && add_key(&keys, ED_KIND_CONFIG, k, n)) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
	}
	sqlite3_reset(s);
	if (!rc && r != SQLITE_DONE)
		rc = fail(d, "removing items from a delta snapshot", err);
	if (!rc)
		rc = tomb_keys(d, &keys, removed, err);
	ed_buf_release(&keys);
	return rc;
}

/*
 * Whether config keys in [lo, hi), meant for file (or below folder) key,
 * might belong to another file: a file below the folder "KEY#" (for KEY's
 * own configs), or a file named by a prefix of KEY ending before a '#' (for
 * what lies below the folder KEY). 1 yes, 0 no, -1 on an SQLite error.
 */
static int configs_ambiguous(struct ed_delta_writer *d, const char *k, size_t n, bool below,
			     const struct ed_buf *lo, const struct ed_buf *hi)
{
	if (!below) {
		int r = range_start(d, ED_KIND_FILE, lo->p, lo->len, hi->p, hi->len);
		sqlite3_reset(d->range);
		return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
	}
	for (size_t i = 1; i < n; i++) {
		if (k[i] != '#')
			continue;
		sqlite3_stmt *row;
		int found = prev_row(d, ED_KIND_FILE, k, i, &row);
		if (found > 0)
			sqlite3_reset(row);
		if (found)
			return found;
	}
	return 0;
}

enum ed_code ed_delta_gone(struct ed_delta_writer *d, const struct ed_item *it, int64_t *removed,
			   struct ed_err *err)
{
	struct ed_buf lo = ED_BUF_INIT, hi = ED_BUF_INIT;
	const char *k = it->key;
	size_t n = it->key_len;
	enum ed_code rc = ED_OK;
	*removed = 0;
	/* The key itself: [key, key "\0"). */
	if (it->delta == ED_DELTA_GONE) {
		if (ed_buf_add(&hi, k, n) || ed_buf_addc(&hi, '\0'))
			goto oom;
		if ((rc = tomb_range(d, it->kind, k, n, hi.p, n + 1, removed, err)))
			goto out;
	}
	if (strcmp(it->kind, ED_KIND_FILE) == 0) {
		/*
		 * Its configs, "KEY#" and "KEY#/..." (not those of a file named
		 * "KEY#2.json"); then both kinds below the folder KEY.
		 */
		static const struct {
			const char *from, *to;
			size_t to_len; /* "#\0" holds a NUL */
			const char *kinds[2];
		} ranges[] = {{"#", "#\0", 2, {ED_KIND_CONFIG, NULL}},
			      {"#/", "#0", 2, {ED_KIND_CONFIG, NULL}},
			      {"/", "0", 1, {ED_KIND_CONFIG, ED_KIND_FILE}}};
		for (size_t i = 0; i < 3 && !rc; i++) {
			ed_buf_reset(&lo);
			ed_buf_reset(&hi);
			if (ed_buf_add(&lo, k, n) || ed_buf_adds(&lo, ranges[i].from) ||
			    ed_buf_add(&hi, k, n) || ed_buf_add(&hi, ranges[i].to, ranges[i].to_len))
				goto oom;
			bool below = i == 2;
			/* "KEY#": a document that is one scalar, never another file's. */
			int careful = i > 0 ? configs_ambiguous(d, k, n, below, &lo, &hi) : 0;
			if (careful < 0) {
				rc = fail(d, "removing items from a delta snapshot", err);
				break;
			}
			for (size_t j = 0; j < 2 && ranges[i].kinds[j] && !rc; j++)
				rc = careful && strcmp(ranges[i].kinds[j], ED_KIND_CONFIG) == 0
					     ? tomb_configs_owned(d, lo.p, lo.len, hi.p, hi.len, k, n,
								  below, removed, err)
					     : tomb_range(d, ranges[i].kinds[j], lo.p, lo.len, hi.p,
							  hi.len, removed, err);
		}
	}
	goto out;
oom:
	rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	ed_buf_release(&lo);
	ed_buf_release(&hi);
	return rc;
}

enum ed_code ed_delta_finish(struct ed_delta_writer *d, int64_t *removed, int64_t *rows,
			     struct ed_err *err)
{
	sqlite3_stmt *s = NULL, *ins = NULL;
	enum ed_code rc = ED_OK;
	struct ed_buf gone = ED_BUF_INIT;
	*removed = 0;
	for (size_t i = 0; i < 2; i++) { /* no read left open past the items */
		sqlite3_reset(d->walk[i].s);
		d->walk[i].live = d->walk[i].on = false;
	}
	/* By name, so the primary key finds them; a listing's are every kind. */
	int r = ed_items_prepare(d->db, NULL, "kind, key",
				 d->listing ? NULL
					    : "kind IN ('" ED_KIND_PACKAGE "', '" ED_KIND_SCHEMA
					      "', '" ED_KIND_SYSTEM "', '" ED_KIND_ACCOUNT "', '"
					      ED_KIND_DATA "', '" ED_KIND_ROWS "')",
				 NULL, d->prev, d->prev_base, &s);
	if (r == SQLITE_NOMEM)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	while (r == SQLITE_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		const char *key = (const char *)sqlite3_column_text(s, 1);
		size_t key_len = (size_t)sqlite3_column_bytes(s, 1);
		if (kind && key && !seen_has(d, key_hash(kind, key, key_len)) &&
		    add_key(&gone, kind, key, key_len)) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto out;
		}
		r = SQLITE_OK; /* step on */
	}
	if (r != SQLITE_DONE) {
		rc = fail(d, "finishing a delta snapshot", err);
		goto out;
	}
	if ((rc = tomb_keys(d, &gone, removed, err)))
		goto out;
	*rows += *removed;
	/* prev's own rows (its changes on the base) where this snapshot has none. */
	if (d->prev_base) {
		if (sqlite3_prepare_v2(d->db,
				       "INSERT OR IGNORE INTO items (snapshot_id, " ITEM_COLS ") "
				       "SELECT ?1, " ITEM_COLS " FROM items WHERE snapshot_id = ?2",
				       -1, &ins, NULL) != SQLITE_OK) {
			rc = fail(d, "finishing a delta snapshot", err);
			goto out;
		}
		sqlite3_bind_int64(ins, 1, d->id);
		sqlite3_bind_int64(ins, 2, d->prev);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = fail(d, "finishing a delta snapshot", err);
		else
			*rows += sqlite3_changes(d->db);
	}
out:
	sqlite3_finalize(s);
	sqlite3_finalize(ins);
	ed_buf_release(&gone);
	return rc;
}
