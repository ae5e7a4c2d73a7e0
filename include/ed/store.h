/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store: open, migrate, write one snapshot atomically, resolve
 * names, and every query the other layers need, behind named functions (the
 * store's SQL and its connection stay in store/). Reading items in key order:
 * ed/cursor.h.
 */
#ifndef ED_STORE_H
#define ED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"

/* The schema version this binary writes (PRAGMA user_version). */
int ed_store_schema_version(void);

/*
 * Configures SQLite for the whole process (no global allocation statistics,
 * which put a mutex on every allocation). Call once, first thing in main(),
 * before any store is opened.
 */
void ed_store_global_init(void);

struct ed_store;

enum ed_store_mode {
	ED_STORE_READ,   /* existing store, read-only connection */
	ED_STORE_WRITE,  /* existing store, must be at the current schema version */
	ED_STORE_CREATE, /* create if missing and migrate (envdrift init) */
};

/*
 * Gives group read access to the store (and its -wal and -shm when they
 * exist): that group, mode 0640. A new store is created 0600. The key file
 * stays 0600: readers of the store need no key.
 */
enum ed_code ed_store_share(const char *path, const char *group, struct ed_err *err);

/*
 * The mode and group of a file written from the store at path (a report):
 * 0640 and the store's group when the store is group-readable, else 0600 and
 * (gid_t)-1 (the writer's own).
 */
void ed_store_output_mode(const char *path, mode_t *mode, gid_t *gid);

/*
 * Opens the store at path. A missing file (unless CREATE), a file that is not
 * SQLite, a foreign SQLite database, or a store newer than this binary is an
 * error naming path. With CREATE, *migrated_from (may be NULL) receives the
 * version found (0 for a new store). Close with ed_store_close().
 */
enum ed_code ed_store_open(const char *path, enum ed_store_mode mode, int *migrated_from,
			   struct ed_store **out, struct ed_err *err);
void ed_store_close(struct ed_store *st);
/*
 * Frees what memory the store can do without, for an idle server: its
 * connection's page cache and the buffers a finished snapshot writer left
 * for the next one.
 */
void ed_store_release_memory(struct ed_store *st);
const char *ed_store_path(const struct ed_store *st);

/*
 * Starts one read transaction on st's connection, so that what is read on
 * it until ed_store_read_end() (items, their columns: ed/cursor.h) is read
 * as of one moment. Errors name the store.
 */
enum ed_code ed_store_read_begin(struct ed_store *st, struct ed_err *err);
/* Ends it. */
void ed_store_read_end(struct ed_store *st);

/*
 * The per-store secret key, kept in "PATH.key" (mode 0600) beside the store.
 * create: make it when missing (init). It is read with the checks and
 * errors of ed_keyfile_read() (ed/keyfile.h); a missing key is ED_NOTFOUND,
 * the message saying to run 'envdrift init'.
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
/*
 * For a snapshot whose items will all come, each an ED_DELTA_ITEM (an
 * ingested document): makes w write a delta on the host's previous complete
 * snapshot, whatever collected it, storing only what differs plus
 * tombstones for what is gone. It reads exactly as the whole document
 * stored in full would. *delta says whether it did (no previous snapshot,
 * or one whose delta has grown to half its items: a full snapshot).
 */
enum ed_code ed_snapshot_plan_listing(struct ed_snapwriter *w, bool *delta, struct ed_err *err);
/* The collection signature ed_snapshot_plan_listing() records: no local collection has it. */
#define ED_SNAPSHOT_SIG_LISTING "document"
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
 * none. When sig is given and that snapshot was collected with another one
 * (ed_collect_sig(): other secret patterns, formats, kept content, paths, or
 * another envdrift), its fingerprints may not stand for this collection's:
 * it is no baseline, and *stale receives its id (else 0). A snapshot with no
 * signature (ingested from a document) is trusted. Release with
 * ed_store_baseline_release().
 */
struct ed_baseline;
enum ed_code ed_store_baseline(struct ed_store *st, const char *env, const char *host,
			       const char *sig, struct ed_baseline *out, int64_t *prev_id,
			       int64_t *stale, struct ed_err *err);
void ed_store_baseline_release(struct ed_baseline *b);

/* --- reading --- */

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
	int64_t base;        /* a delta snapshot's base (0: a full snapshot) */
	char sig[72];        /* how it was collected (ed_collect_sig()); "" when ingested */
};

/*
 * Two snapshots of refs and cands collected with different rules (the first
 * half of ed_collect_sig(): secret patterns, formats, kept content, config
 * trees, envdrift version): some of their differences may come from that.
 * Roots and paths do not count (environments are often collected from
 * different roots). Returns false, or true with *a and *b set.
 */
bool ed_snaprefs_settings_differ(const struct ed_snapref *refs, size_t nrefs,
				 const struct ed_snapref *cands, size_t ncands,
				 const struct ed_snapref **a, const struct ed_snapref **b);

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

/*
 * Appends to out what a message about an unknown environment env adds:
 * "known environments: production, staging (did you mean 'staging'?)" (the
 * environments with a complete snapshot, sorted, at most 20 named; the
 * suggestion when one is close to env, which may be NULL), or "no environment
 * has one yet". ED_NOMEM or ED_STORE (out may then hold part of it).
 */
struct ed_buf;
enum ed_code ed_store_env_hint(struct ed_store *st, const char *env, struct ed_buf *out,
			       struct ed_err *err);

/*
 * The start of a history window: each host's latest complete snapshot of env
 * finished at or before the time before, or, for a host with none that old,
 * its first complete snapshot after it.
 */
enum ed_code ed_store_snapshots_before(struct ed_store *st, const char *env, const char *before,
				       struct ed_snapref **out, size_t *n, struct ed_err *err);

/* The snapshots of env that the last recorded report run compared (none: *n = 0). */
enum ed_code ed_store_snapshots_of_last_report(struct ed_store *st, const char *env,
					       struct ed_snapref **out, size_t *n,
					       struct ed_err *err);

/* One snapshot as listed: borrowed strings, each NULL when the store holds none. */
struct ed_snapshot_row {
	int64_t id;
	const char *env;
	const char *host;
	const char *started_at;
	const char *finished_at; /* NULL while it runs */
	const char *status;      /* "running", "complete", "failed", "abandoned" */
	int64_t items;
	int64_t warnings;
};

/*
 * Calls each with every snapshot of env (NULL: of every environment), oldest
 * first; r and its strings are valid during the call only. An error each
 * returns stops the listing and is returned. Errors name the store.
 */
enum ed_code ed_store_list_snapshots(struct ed_store *st, const char *env,
				     enum ed_code (*each)(void *ctx, const struct ed_snapshot_row *r,
							  struct ed_err *err),
				     void *ctx, struct ed_err *err);

/* An item that could not be collected: borrowed strings, valid during the call only. */
struct ed_item_error {
	const char *kind;
	const char *key;
	size_t key_len;
	const char *error;
};

/*
 * Calls each with the first limit items of snapshot ref (as it resolves, in
 * key order) that hold an error. An error each returns stops and is returned.
 */
enum ed_code ed_store_item_errors(struct ed_store *st, const struct ed_snapref *ref, size_t limit,
				  enum ed_code (*each)(void *ctx, const struct ed_item_error *e,
						       struct ed_err *err),
				  void *ctx, struct ed_err *err);

/*
 * The kept text of content fingerprint fp (a file's, as collect keeps it):
 * *kept is false when the store holds none (not kept: too large, binary, a
 * secret, or never asked for). Else *text (malloc'd, NUL-terminated after
 * *len bytes; the caller frees it) holds it. ED_TOOBIG when it is longer
 * than max bytes, ED_STORE when it cannot be read back, ED_NOMEM; errors
 * name the store and the fingerprint.
 */
enum ed_code ed_store_content(struct ed_store *st, const struct ed_fp *fp, size_t max, bool *kept,
			      char **text, size_t *len, struct ed_err *err);

/* --- drift runs (runs_v, drift_v) --- */

/* One entry of a run to record: borrowed strings. */
struct ed_run_row {
	const char *role;     /* the fleet role compared, "" for hosts without one */
	const char *kind;
	const char *key;
	size_t key_len;
	const char *change;   /* "added", "removed", "changed" */
	const char *severity; /* "block", "warn", "info" */
	bool ignored;
};

/* A drift run to record: what was compared, the counts and every entry (borrowed). */
struct ed_run {
	const char *command;       /* "gate", "report" */
	const char *at;            /* ISO 8601 UTC */
	const char *reference_env;
	const char *candidate_env;
	const struct ed_snapref *refs; /* the snapshots compared on each side */
	size_t nrefs;
	const struct ed_snapref *cands;
	size_t ncands;
	size_t added, removed, changed, ignored, blocking;
	const char *policy;        /* the policy file used, or NULL */
	const struct ed_run_row *rows;
	size_t nrows;
	/*
	 * When rows is NULL: the nrows rows one at a time, row i into *out
	 * (borrowed until the next call), so that a large drift is never held
	 * as rows. Its error is the recording's.
	 */
	enum ed_code (*row_at)(void *ctx, size_t i, struct ed_run_row *out, struct ed_err *err);
	void *row_ctx;
};

/*
 * Records run, carrying each entry's "since" over from the previous run of
 * the same pair of environments when the entry was drift there too. Needs a
 * store opened for writing. *run_id (may be NULL) receives the run's id.
 */
enum ed_code ed_store_record_run(struct ed_store *st, const struct ed_run *run, int64_t *run_id,
				 struct ed_err *err);

/* The counts of a pair's last recorded run of one day. */
struct ed_trend_day {
	char day[16]; /* YYYY-MM-DD */
	int64_t blocking, added, removed, changed, ignored;
};

/*
 * The last recorded run of each day of the pair (ref_env, cand_env), newest
 * first, at most 30 days. *out is malloc'd (the caller frees it; NULL when
 * *n is 0).
 */
enum ed_code ed_store_trend(struct ed_store *st, const char *ref_env, const char *cand_env,
			    struct ed_trend_day **out, size_t *n, struct ed_err *err);

/* A host of a recorded run. */
struct ed_run_host {
	char env[256];
	char host[256];
	int64_t run_id;
};

/*
 * The hosts (of either environment) whose snapshots the last recorded run of
 * the pair (ref_env, cand_env) compared; none (*n = 0) without a run. *out
 * is malloc'd (the caller frees it; NULL when *n is 0).
 */
enum ed_code ed_store_last_run_hosts(struct ed_store *st, const char *ref_env, const char *cand_env,
				     struct ed_run_host **out, size_t *n, struct ed_err *err);

/* The id of the last recorded run of the pair (ref_env, cand_env) into *id; 0 without one. */
enum ed_code ed_store_last_run_id(struct ed_store *st, const char *ref_env, const char *cand_env,
				  int64_t *id, struct ed_err *err);

/*
 * A verdict of the service's cache (table verdict_cache): the pair (ref,
 * cand) as the overview names it, judged on one basis (the snapshots of both
 * sides, the pair's last run, the policy's digest: the caller's string).
 */
struct ed_cached_verdict {
	char state[16];   /* "pass", "fail" or "cannot-vouch" */
	char reason[512]; /* why it cannot vouch ("" otherwise) */
	bool compared;    /* both sides were compared: the counts are the drift's */
	int64_t drift, blocking, warnings, infos, ignored;
};

/* The cached verdict of (ref, cand, basis) into *v; *found false (v untouched) when none. */
enum ed_code ed_store_verdict_get(struct ed_store *st, const char *ref, const char *cand,
				  const char *basis, struct ed_cached_verdict *v, bool *found,
				  struct ed_err *err);

/*
 * Keeps v as the verdict of (ref, cand, basis), replacing one of the same
 * basis, and drops all but the keep newest of the pair. Needs a store opened
 * for writing.
 */
enum ed_code ed_store_verdict_put(struct ed_store *st, const char *ref, const char *cand,
				  const char *basis, const struct ed_cached_verdict *v, int keep,
				  struct ed_err *err);

/* What 'envdrift prune' keeps (besides what it always keeps: see ed_store_prune). */
struct ed_prune_opts {
	long long keep_days;  /* complete snapshots finished less than this many days ago; 0: none */
	int keep_last;        /* the newest this many complete snapshots of each host; 0: none */
	bool dry_run;         /* decide and report, change nothing */
	long long now;        /* seconds since the epoch */
};

/* A snapshot pruned (or that a dry run would prune). */
struct ed_pruned {
	int64_t id;
	const char *env, *host, *status, *at; /* at: finished (or started) at */
	int64_t items;
};

struct ed_prune_result {
	int64_t snapshots;   /* snapshots removed (or that would be) */
	int64_t incomplete;  /* of which failed, abandoned */
	int64_t rebased;     /* bases replaced (their kept deltas rewritten onto a new one) */
	int64_t hosts;       /* hosts looked at */
	int64_t free_pages;  /* pages free in the file after pruning (reused by later snapshots) */
	int64_t page_size;
};

/*
 * Removes the snapshots no one needs, host by host, one transaction each, so
 * that a crash at any point leaves every complete snapshot as it was. Kept:
 * the latest complete snapshot of every host, the snapshots o asks to keep,
 * every snapshot a recorded run (report, gate --record) compared, 'running'
 * ones, failed and abandoned ones less than a day old, and the base of any
 * kept delta. A base that would otherwise go is replaced: the oldest kept
 * delta on it becomes a full snapshot and the other kept deltas on it are
 * rewritten onto that one, reading exactly as before. each (may be NULL) is
 * told every snapshot removed, oldest first per host. Space freed is left
 * to the store's free list unless ed_store_vacuum is called.
 */
enum ed_code ed_store_prune(struct ed_store *st, const struct ed_prune_opts *o,
			    void (*each)(void *ctx, const struct ed_pruned *p), void *ctx,
			    struct ed_prune_result *res, struct ed_err *err);

/*
 * Returns the store's free pages to the file system: PRAGMA
 * incremental_vacuum when the store allows it (auto_vacuum incremental, as
 * 'init' makes new stores), else, when full is set, a VACUUM in place that
 * also switches the store to incremental auto_vacuum (it needs as much free
 * disk as the store; readers go on reading meanwhile). *before and *after
 * receive the size of the store in bytes (its pages, free or not) before and after.
 */
enum ed_code ed_store_vacuum(struct ed_store *st, bool full, int64_t *before, int64_t *after,
			     struct ed_err *err);

#endif
