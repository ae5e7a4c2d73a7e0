/* SPDX-License-Identifier: MIT */
/*
 * The store's side of snapshot documents (ed/snapdoc.h): storing a validated
 * document as one snapshot, and exporting a stored snapshot as a document.
 */
#ifndef ED_SNAPDOC_STORE_H
#define ED_SNAPDOC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/snapdoc.h"
#include "ed/store.h"

/*
 * Stores d as one snapshot (ed_snapshot_begin/sink/commit: all or nothing)
 * with the document's id, times, environment, host, role, root and
 * collecting machine. A document dated more than max_skew seconds in the
 * future is refused (ed_snapdoc_check_clock()). When the store already holds
 * a snapshot with this id, stores nothing and sets *id to it: *already when
 * its content is the document's (ed_snapdoc_digest_*() agree), else ED_PARSE
 * "document UUID ... was stored as @N with different content". items and
 * warnings (may be NULL) receive the counts stored. Needs a store opened for
 * writing.
 */
enum ed_code ed_snapdoc_ingest(struct ed_store *st, const struct ed_snapdoc *d, long long max_skew,
			       int64_t *id, bool *already, int64_t *items, int64_t *warnings,
			       struct ed_err *err);

/*
 * The document id of snapshot snap_id into out. A snapshot that has none (it
 * was collected into the store directly) gets a new random one, recorded in
 * the store, so every export of it carries the same id: that needs a store
 * opened for writing, else ED_STORE.
 */
enum ed_code ed_snapdoc_id_of(struct ed_store *st, int64_t snap_id,
			      char out[ED_SNAPDOC_ID_LEN + 1], struct ed_err *err);

/* Writes the complete snapshot ref as a document with id to path ("-": standard output). */
enum ed_code ed_snapdoc_export(struct ed_store *st, const struct ed_snapref *ref, const char *id,
			       const char *path, struct ed_err *err);

#endif
