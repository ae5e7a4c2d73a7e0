/* SPDX-License-Identifier: MIT */
/* The SQLite store: open, migrate, write one snapshot atomically, resolve names. */
#ifndef ED_STORE_H
#define ED_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"

/* The schema version this binary writes (PRAGMA user_version). */
int ed_store_schema_version(void);

struct ed_store;

enum ed_store_mode {
	ED_STORE_READ,   /* existing store, read-only connection */
	ED_STORE_WRITE,  /* existing store, must be at the current schema version */
	ED_STORE_CREATE, /* create if missing and migrate (envdrift init) */
};

/*
 * Opens the store at path. A missing file (unless CREATE), a file that is not
 * SQLite, a foreign SQLite database, or a store newer than this binary is an
 * error naming path. With CREATE, *migrated_from (may be NULL) receives the
 * version found (0 for a new store). Close with ed_store_close().
 */
enum ed_code ed_store_open(const char *path, enum ed_store_mode mode, int *migrated_from,
			   struct ed_store **out, struct ed_err *err);
void ed_store_close(struct ed_store *st);
sqlite3 *ed_store_db(struct ed_store *st);
const char *ed_store_path(const struct ed_store *st);

/*
 * Another read-only connection to the store at path, for a reading thread:
 * the same busy timeout and extended result codes as the store's own. NULL
 * when none can be made. Close with sqlite3_close_v2().
 */
sqlite3 *ed_store_open_reader(const char *path);

/*
 * The per-store secret key, kept in "PATH.key" (mode 0600) beside the store.
 * create: make it when missing (init). Otherwise a missing key is an error.
 */
enum ed_code ed_store_key(const char *store_path, bool create, uint8_t key[ED_KEY_LEN],
			  struct ed_err *err);

/* --- writing one snapshot --- */

struct ed_snapwriter;

/*
 * Records a snapshot row with status 'running' (committed at once, so it is
 * visible as unfinished), marks earlier 'running' rows of dead collectors on
 * this machine 'abandoned', and opens the write transaction the items go into.
 */
enum ed_code ed_snapshot_begin(struct ed_store *st, const char *env, const char *host,
			       const char *role, const char *root, struct ed_snapwriter **out,
			       struct ed_err *err);
/* The sink the collectors emit into; valid until commit or abort. */
struct ed_sink *ed_snapshot_sink(struct ed_snapwriter *w);
int64_t ed_snapshot_id(const struct ed_snapwriter *w);
/*
 * Records sig, a digest of how the snapshot is collected (profile, paths,
 * source), and, when prev (the host's previous complete snapshot, 0 for
 * none) was collected the same way, makes w write a delta on it: *delta
 * then tells the collectors to send ED_DELTA_SAME, ED_DELTA_GONE and
 * ED_DELTA_BELOW items (see enum ed_delta). Call before any item.
 */
enum ed_code ed_snapshot_plan(struct ed_snapwriter *w, const char *sig, int64_t prev,
			      bool *delta, struct ed_err *err);
/* Inserts what is buffered, sets status 'complete', COMMITs, frees w. */
enum ed_code ed_snapshot_commit(struct ed_snapwriter *w, int64_t *items, int64_t *warnings,
				struct ed_err *err);

/* What a committed snapshot took. */
struct ed_snapshot_info {
	int64_t items;    /* as the snapshot resolves */
	int64_t warnings;
	int64_t rows;     /* item rows written: all of them, or a delta's own */
	int64_t base;     /* a delta's base snapshot; 0 for a full snapshot */
	double store_s;   /* seconds spent in the store: inserting, comparing, committing */
};
/* ed_snapshot_commit(), telling more. */
enum ed_code ed_snapshot_commit_info(struct ed_snapwriter *w, struct ed_snapshot_info *info,
				     struct ed_err *err);
/* Rolls back the items, marks the snapshot 'failed', frees w. */
void ed_snapshot_abort(struct ed_snapwriter *w);

/*
 * The previous complete snapshot of (env, host), as a baseline for an
 * incremental collection: *prev_id is 0 (and out stays empty) when there is
 * none. Release with ed_store_baseline_release().
 */
struct ed_baseline;
enum ed_code ed_store_baseline(struct ed_store *st, const char *env, const char *host,
			       struct ed_baseline *out, int64_t *prev_id, struct ed_err *err);
void ed_store_baseline_release(struct ed_baseline *b);

/* --- reading --- */

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

/* One resolved side of a comparison. */
struct ed_snapref {
	int64_t id;
	char env[256];
	char host[256];
	char role[256];      /* "" for a host without a role */
	char started_at[40];
	char finished_at[40];
	int64_t items;
	int64_t warnings;
	int64_t base;        /* a delta snapshot's base (0: a full snapshot), see ed_items_prepare() */
};

/*
 * Resolves "@ID" (a complete snapshot) or an environment name (its latest
 * complete snapshot; an environment with several hosts is refused until
 * fleets are compared role by role). Errors name the store and the spec.
 */
enum ed_code ed_store_resolve(struct ed_store *st, const char *spec, struct ed_snapref *out,
			      struct ed_err *err);

/*
 * Resolves "@ID" (one snapshot) or an environment name to every host's
 * latest complete snapshot, sorted by role then host. *out is malloc'd (the
 * caller frees it); ED_NOTFOUND names the environment when it has none.
 */
enum ed_code ed_store_resolve_all(struct ed_store *st, const char *spec, struct ed_snapref **out,
				  size_t *n, struct ed_err *err);

/* Each host's latest complete snapshot of env finished at or before the time before. */
enum ed_code ed_store_snapshots_before(struct ed_store *st, const char *env, const char *before,
				       struct ed_snapref **out, size_t *n, struct ed_err *err);

/* The snapshots of env that the last recorded report run compared (none: *n = 0). */
enum ed_code ed_store_snapshots_of_last_report(struct ed_store *st, const char *env,
					       struct ed_snapref **out, size_t *n,
					       struct ed_err *err);

/*
 * Records a drift run of d (its pair of environments, counts and every
 * entry) at time at (ISO 8601 UTC), carrying each entry's "since" over from
 * the previous run of the same pair when the entry was drift there too. Needs
 * a store opened for writing. *run_id (may be NULL) receives the run's id.
 */
struct ed_drift;
enum ed_code ed_store_record_run(struct ed_store *st, const char *command, const char *at,
				 const struct ed_drift *d, int64_t *run_id, struct ed_err *err);

/* Copies sqlite3_errmsg into err with a prefix naming the store. */
enum ed_code ed_store_fail(struct ed_store *st, const char *what, struct ed_err *err);

#endif
