/* SPDX-License-Identifier: MIT */
/*
 * What the store's own files share and nothing else sees: the SQLite
 * connection, the resolved-items reader, the kept-content decoder.
 */
#ifndef ED_STORE_INT_H
#define ED_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/store.h"

/* The columns of an item after its snapshot id, in table order (schema/007). */
#define ITEM_COLS                                                                         \
	"kind, key, state, fingerprint, value, ftype, mode, owner, grp, target, size, "    \
	"mtime_ns, ctime_ns, ino, dev, error, attrs"

/* The store's connection; it belongs to st. */
sqlite3 *ed_store_db(struct ed_store *st);

/* Where content.c keeps its lookup statement, prepared once per store (NULL until then). */
sqlite3_stmt **ed_store_content_stmt(struct ed_store *st);

/*
 * Another read-only connection to the store at path, for a reading thread:
 * the same busy timeout and extended result codes as the store's own. NULL
 * when none can be made. Close with sqlite3_close_v2().
 */
sqlite3 *ed_store_open_reader(const char *path);

/* Copies sqlite3_errmsg into err with a prefix naming the store. */
/* Runs sql, which returns one integer (0 for no row), into *out; what: while doing what. */
enum ed_code ed_store_query_int(struct ed_store *st, const char *sql, int64_t *out,
				const char *what, struct ed_err *err);
enum ed_code ed_store_fail(struct ed_store *st, const char *what, struct ed_err *err);

/*
 * Prepares on db a statement over the items of snapshot id as they resolve:
 * SELECT cols (a comma-separated list that names kind and key as they are)
 * in (kind, key) order, of its own rows, less its tombstones, and for a
 * delta snapshot (base != 0) of the rows of its base that it neither
 * replaces nor removes. where (NULL: none) narrows both halves; it names
 * columns bare and may use parameters from ?3 on (?1 is id, ?2 base, bound
 * here). The SELECT stands between before and after (each may be NULL), so
 * it can feed an INSERT or take a LIMIT. Returns an SQLite result code:
 * SQLITE_OK, SQLITE_NOMEM, or the error of preparing (sqlite3_errmsg(db)).
 */
int ed_items_prepare(sqlite3 *db, const char *before, const char *cols, const char *where,
		     const char *after, int64_t id, int64_t base, sqlite3_stmt **out);
/* Binds ?1 and ?2 of such a statement to another snapshot. */
void ed_items_bind(sqlite3_stmt *s, int64_t id, int64_t base);

/*
 * Runs sql, whose text parameters are ?1 = a and ?2 = b (b may be NULL:
 * unbound), and makes each row an element of size bytes with fill(). *out
 * is malloc'd (the caller frees it; NULL when *n is 0). Errors name the
 * store and what it was doing (what: "reading the trend").
 */
enum ed_code ed_store_query_rows(struct ed_store *st, const char *sql, const char *a,
				const char *b, size_t size, void (*fill)(void *row, sqlite3_stmt *s),
				const char *what, void **out, size_t *n, struct ed_err *err);

/*
 * Inflates a kept content row of encoding 'zlib' (z, zlen bytes) that holds
 * size bytes into *out (malloc'd, NUL-terminated; the caller frees it).
 * ED_TOOBIG when size passes max, ED_STORE when size is negative or the data
 * does not inflate to size bytes, ED_NOMEM. Sets no message: the callers
 * name the content.
 */
enum ed_code ed_store_inflate(const void *z, size_t zlen, int64_t size, size_t max, char **out);

/*
 * A base shared within a role (issue 17, part 2), for a host's first
 * snapshot: the latest complete full snapshot of another host of the same
 * environment and role, and its item count. *base is 0 when the host has a
 * complete snapshot of its own, or no other host qualifies.
 */
enum ed_code ed_snapshot_role_base(struct ed_snapwriter *w, int64_t *base, int64_t *items,
				  struct ed_err *err);
/*
 * ed_snapshot_plan_listing() on base, a full snapshot of another host, in
 * place of the host's previous one: w writes what differs from it.
 */
/*
 * For a document whose digest is the one the host's previous complete
 * snapshot was ingested from: makes w that snapshot again (a delta on the
 * same base, the previous delta's own rows and its warnings copied), so no
 * item need be read or compared. *done is false, and nothing is written,
 * when the digests differ, there is no previous snapshot, or its delta has
 * grown to half its items (a full snapshot is then due). Call before any item.
 */
enum ed_code ed_snapshot_copy_unchanged(struct ed_snapwriter *w, const struct ed_fp *digest,
					bool *done, struct ed_err *err);
enum ed_code ed_snapshot_plan_listing_on(struct ed_snapwriter *w, int64_t base, bool *delta,
					 struct ed_err *err);

#endif
