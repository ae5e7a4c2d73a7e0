/* SPDX-License-Identifier: MIT */
/*
 * Atomic output: a file written whole or not at all (a temporary file beside
 * it, fsync, rename, fsync of the folder), or, for what cannot be replaced
 * (standard output, a FIFO, a device), written directly.
 */
#ifndef ED_ATOMIC_H
#define ED_ATOMIC_H

#include <stdio.h>
#include <sys/types.h>

#include "ed/err.h"

/* The name standard output has in messages. */
#define ED_STDOUT_NAME "standard output"

/*
 * A new file in folder dir that no one else can open: O_TMPFILE, or, where
 * the file system has none, a mkstemp file unlinked at once. Read and write,
 * mode 0600, close-on-exec. -1 with errno on failure.
 */
int ed_tmpfile_open(const char *dir);

/* One output being written; opaque. */
struct ed_atomic;

/*
 * Opens path for writing:
 * - "-" or NULL: standard output, written directly (never closed).
 * - an existing FIFO, character or block device (/dev/null, /dev/stdout):
 *   opened and written directly; it is never renamed over.
 * - anything else (no file yet, a regular file, a dangling symlink): a new
 *   temporary file PATH.tmp.XXXXXX in the same folder, mode 0600 while it
 *   is written. ed_atomic_commit() gives it mode & ~umask (as open(2) would),
 *   fsyncs it, renames it over path and fsyncs the folder: a reader sees the
 *   old file or the new one, whole, never a part.
 * A folder at path is refused. Errors (ED_IO, ED_NOMEM) name the file.
 * Finish with ed_atomic_commit() or ed_atomic_abort(), which free *out.
 */
enum ed_code ed_atomic_open(const char *path, mode_t mode, struct ed_atomic **out,
			    struct ed_err *err);

/* The group the file gets when committed, when the writer may give it; (gid_t)-1: its own. */
void ed_atomic_group(struct ed_atomic *a, gid_t gid);

/* The stream to write to, owned by a; valid until commit or abort. */
FILE *ed_atomic_file(struct ed_atomic *a);

/* path, or ED_STDOUT_NAME: for messages; owned by a. */
const char *ed_atomic_name(const struct ed_atomic *a);

/*
 * Flushes and checks what was written, then puts the file in place as
 * ed_atomic_open() says. Frees a on every path. On error (ED_IO, naming the
 * file and the reason) the temporary file is removed and a file at path is
 * untouched; a direct target keeps what reached it.
 */
enum ed_code ed_atomic_commit(struct ed_atomic *a, struct ed_err *err);

/* Closes and removes the temporary file (the target is untouched) and frees a. NULL is a no-op. */
void ed_atomic_abort(struct ed_atomic *a);

#endif
