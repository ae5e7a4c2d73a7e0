/* SPDX-License-Identifier: MIT */
/*
 * collect --state FILE: the baseline of an agent that has no store (--push,
 * --out). After a successful push the file keeps what the store's baseline
 * would give of the snapshot just sent: every file item's stat data
 * (device, inode, size, mtime, ctime), fingerprint, secret/masked/vendor
 * flags and state, the config items, the warnings, the fingerprints whose
 * content was kept, and the collection's signature, env and host. The next
 * collection reads it through struct ed_baseline (ed/item.h), as it reads a
 * store's previous snapshot, and skips unchanged files.
 *
 * Format (private, versioned by its first line "envdrift.state/1"): gzip
 * text, one record a line, strings hex-encoded so any byte but NUL passes.
 * Written through ed_atomic_open() with mode 0600: whole or not at all.
 * Private to cmd/: only collect reads or writes it.
 */
#ifndef ED_CMD_STATE_FILE_H
#define ED_CMD_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/item.h"

/*
 * Loads path as the baseline of env/host collected with signature sig.
 * *out is filled (release it with state_baseline_release) when the file
 * exists, is readable and matches; otherwise *out stays empty (.ctx NULL)
 * and why says why (empty: no file yet): a cache that does not fit means
 * every file is read, never a failed collection. Errors: ED_NOMEM only.
 */
enum ed_code state_load(const char *path, const char *env, const char *host, const char *sig,
			struct ed_baseline *out, char *why, size_t whycap, struct ed_err *err);
void state_baseline_release(struct ed_baseline *b);

struct state_writer;

/*
 * Starts writing the state of the collection of env/host with signature
 * sig, started at started_ns (ns since the epoch), to path (a temporary
 * file beside it until commit). prev: the baseline in use (NULL: none),
 * asked whether it knew a reused file's content. Finish with commit or abort.
 */
enum ed_code state_writer_begin(const char *path, const char *env, const char *host,
				const char *sig, int64_t started_ns, const struct ed_baseline *prev,
				struct state_writer **out, struct ed_err *err);
/* A sink that records what passes through it and hands everything on to next. */
struct ed_sink *state_writer_sink(struct state_writer *w, struct ed_sink *next);
/* Writes the file in place (0600, atomically); frees w on every path. */
enum ed_code state_writer_commit(struct state_writer *w, struct ed_err *err);
/* Removes the temporary file (a previous state at path is untouched); frees w. NULL: no-op. */
void state_writer_abort(struct state_writer *w);

#endif
