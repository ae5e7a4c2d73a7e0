/* SPDX-License-Identifier: MIT */
/*
 * A source is where a host's state is read from: the local filesystem
 * (optionally confined under a root folder) or, later, SSH. Every collector is
 * written once against these operations.
 */
#ifndef ED_SOURCE_H
#define ED_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/item.h"

/* lstat(2) result, never following a final symlink. */
struct ed_stat {
	enum ed_ftype type;
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid;
	uint32_t gid;
	int64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint64_t ino;
	uint64_t dev;
};

struct ed_source;
struct ed_file;

/* A chunk of a program's standard output, handed over by stream(). */
typedef enum ed_code (*ed_source_out_fn)(void *ctx, const char *data, size_t len,
					 struct ed_err *err);

/*
 * Paths are absolute host paths ("/etc/passwd"); a source confined to a root
 * resolves them inside it: ".." and symlinks cannot lead out. Every operation
 * returns ED_OK or an error with a message naming the path.
 */
struct ed_source_ops {
	const char *name;
	/* lstat of path. */
	enum ed_code (*stat)(struct ed_source *src, const char *path, struct ed_stat *st,
			     struct ed_err *err);
	/* Opens a regular file for reading; refuses anything else without blocking. */
	enum ed_code (*open)(struct ed_source *src, const char *path, struct ed_file **out,
			     struct ed_err *err);
	/* Reads up to len bytes; *got is 0 at end of file. */
	enum ed_code (*read)(struct ed_file *f, void *buf, size_t len, size_t *got,
			     struct ed_err *err);
	/* fstat of the open file (to detect changes during a read). */
	enum ed_code (*fstat)(struct ed_file *f, struct ed_stat *st, struct ed_err *err);
	void (*close)(struct ed_file *f);
	/*
	 * Lists the entry names of a directory (no "." or ".."), sorted by byte
	 * value. *names is a malloc'd array of malloc'd strings the caller frees
	 * with ed_names_free().
	 */
	enum ed_code (*list)(struct ed_source *src, const char *path, char ***names, size_t *n,
			     struct ed_err *err);
	/* The target of symlink path, appended to out. */
	enum ed_code (*readlink)(struct ed_source *src, const char *path, struct ed_buf *out,
				 struct ed_err *err);
	/*
	 * A path on this machine through which a library (SQLite) may open the
	 * file read-only, appended to out; ED_UNSUPPORTED for remote sources.
	 */
	enum ed_code (*local_path)(struct ed_source *src, const char *path, struct ed_buf *out,
				   struct ed_err *err);
	/*
	 * Runs a program on the host: argv[0] is looked up in PATH, nothing
	 * passes through a shell. Its standard output is appended to out, at
	 * most max bytes (more is ED_TOOBIG: hostile or broken output is
	 * capped); its standard error is kept (capped) for the message. No
	 * standard input. The program is killed after timeout_ms.
	 * *exit_status receives its exit status (128 + signal if killed by
	 * one); a non-zero status is not an error of run itself. ED_NOTFOUND
	 * when the program does not exist on the host.
	 */
	enum ed_code (*run)(struct ed_source *src, const char *const *argv, size_t max,
			    int timeout_ms, struct ed_buf *out, int *exit_status,
			    struct ed_err *err);
	/*
	 * Runs a program as run() does, but hands its standard output to out
	 * chunk by chunk as it arrives instead of keeping it: memory stays flat
	 * whatever it prints, and the buffers that held it are wiped (what rows
	 * fingerprinting reads are values of the data). timeout_ms bounds each
	 * silence of the program, not the whole run. A failure of out stops the
	 * program and is returned. *exit_status, ED_NOTFOUND and a non-zero
	 * status as run(). NULL in a source that cannot stream.
	 */
	enum ed_code (*stream)(struct ed_source *src, const char *const *argv, int timeout_ms,
			       ed_source_out_fn out, void *ctx, int *exit_status,
			       struct ed_err *err);
	/*
	 * The folder on this machine that is the host's "/" (the --root), for
	 * a tool run through run() that needs it (rpm --root); ED_UNSUPPORTED
	 * for remote sources.
	 */
	enum ed_code (*root_dir)(struct ed_source *src, struct ed_buf *out, struct ed_err *err);
	/*
	 * A second, independent handle on the same host, for another thread
	 * (a source is not thread-safe); ED_UNSUPPORTED when the source cannot
	 * make one (then the caller works on one thread).
	 */
	enum ed_code (*dup)(struct ed_source *src, struct ed_source **out, struct ed_err *err);
	void (*free)(struct ed_source *src);
};

struct ed_source {
	const struct ed_source_ops *ops;
};

/*
 * The local filesystem confined under root (NULL or "/" for the whole
 * machine). Returns ED_NOTFOUND/ED_IO naming root when it is not a folder.
 * Free with ed_source_free().
 */
enum ed_code ed_source_local_new(const char *root, struct ed_source **out, struct ed_err *err);
void ed_source_free(struct ed_source *src);

/* Reads a whole regular file into out, failing with ED_TOOBIG past max bytes. */
enum ed_code ed_source_read_all(struct ed_source *src, const char *path, size_t max,
				struct ed_buf *out, struct ed_err *err);

void ed_names_free(char **names, size_t n);

/*
 * Lexically normalises an absolute or relative path into out as an absolute
 * path: collapses "//" and ".", and resolves ".." without ever going above
 * "/". "a/../../b" becomes "/b".
 */
int ed_path_normalize(const char *path, struct ed_buf *out);
/* Whether path is already what ed_path_normalize() makes of it. */
bool ed_path_is_normal(const char *path);

/* Is path equal to dir or below it (both normalised absolute paths)? */
bool ed_path_is_inside(const char *path, const char *dir);

#endif
