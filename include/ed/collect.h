/* SPDX-License-Identifier: MIT */
/* Collectors: turn a source into items sent to a sink. They never touch the store. */
#ifndef ED_COLLECT_H
#define ED_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/source.h"

/*
 * Largest structured config parsed key by key; bigger files are fingerprinted
 * only, with a warning. A parsed document takes about ten times its size in
 * memory on its hashing thread: 1 MiB keeps a collection's peak memory low,
 * and real configuration files are far smaller.
 */
#define ED_CONFIG_MAX (1u * 1024 * 1024)

/* Secret rules: which config keys are secrets, and the per-store key for their fingerprints. */
struct ed_secrets {
	const uint8_t *key;             /* ED_KEY_LEN bytes; borrowed */
	const char *const *patterns;    /* case-insensitive globs over one key name */
	size_t npatterns;
};

/* The default patterns: *password*, *secret*, *token*, *key*. */
extern const char *const ed_default_secret_patterns[];
extern const size_t ed_default_secret_npatterns;

/* Does one key name (a JSON member name, not a whole pointer) match a secret pattern? */
bool ed_secret_name_matches(const struct ed_secrets *sec, const char *name, size_t len);

/* --- files (collector/files.c) --- */

/* Counters of one tree walk, for progress and the closing line. */
struct ed_files_stats {
	int64_t entries; /* items of kind file emitted */
	int64_t hashed;  /* regular files read and hashed */
	int64_t reused;  /* regular files whose fingerprint came from the baseline */
	int64_t bytes;   /* bytes read */
	int64_t kept;    /* files whose content was kept */
};

struct ed_profile;

struct ed_files_opts {
	const struct ed_secrets *secrets;   /* config key patterns and the key; required */
	const struct ed_profile *profile;   /* excludes, secret files, formats, kept content;
					     * NULL: JSON configs by extension, nothing kept */
	const struct ed_baseline *baseline; /* NULL: hash everything (--full) */
	int threads;                        /* hashing threads, 0 = one per core */
	bool progress;                      /* progress on stderr (a terminal) */
	bool delta;                         /* the sink writes a delta on the baseline: send
					     * ED_DELTA_SAME, _GONE and _BELOW (enum ed_delta) */
	struct ed_files_stats *stats;       /* added to; may be NULL */
};

/*
 * Walks the tree at path (absolute, inside the source) without following
 * symlinks, emitting one file item per entry (and config items for
 * structured configs). Regular files are hashed on opts->threads threads
 * with bounded memory; a file changing while read is re-read, then recorded
 * as unstable. Unreadable entries become items with an error and a warning.
 * Returns an error only when the sink fails, memory runs out, or path itself
 * cannot be examined.
 */
enum ed_code ed_files_collect(struct ed_source *src, const char *path,
			      const struct ed_files_opts *opts, struct ed_sink *sink,
			      struct ed_err *err);

/* --- JSON configs (collector/config_json.c) --- */

/*
 * Appends one RFC 6901 reference token to out: "/" then the token with "~"
 * written "~0" and "/" written "~1". Returns 0 or -1 on allocation failure.
 */
int ed_jsonptr_append(struct ed_buf *out, const char *token, size_t len);

/*
 * Parses a JSON document (text of len bytes read from path) and emits one
 * config item per leaf, keyed "PATH#/pointer" (a document that is a scalar has
 * the key "PATH#"). Empty objects and arrays are leaves. A leaf whose pointer
 * has a token matching a secret pattern gets the keyed fingerprint and no
 * value; *nsecrets (if not NULL) receives how many leaves were secret, so the
 * caller can key the whole file's fingerprint too. sec and sec->key are
 * required (ED_USAGE otherwise). Malformed JSON (or duplicate keys) is a
 * warning naming path, line and column, and emits nothing; the return is then
 * ED_OK. Other errors come only from the sink or allocation.
 */
enum ed_code ed_config_json_parse(struct ed_str text, const char *path,
				  const struct ed_secrets *sec, struct ed_sink *sink,
				  size_t *nsecrets, struct ed_err *err);

/* --- dpkg (collector/pkg_dpkg.c) --- */

/*
 * Parses a dpkg status file (text, read from origin, used in warnings) and
 * emits one package item per installed package: key "dpkg:NAME:ARCH", value
 * the version, fingerprint of "VERSION\nARCH". Malformed stanzas are warnings
 * naming origin and line; the rest is still collected.
 */
enum ed_code ed_dpkg_parse(struct ed_str text, const char *origin, struct ed_sink *sink,
			   struct ed_err *err);

/* Reads /var/lib/dpkg/status from src and parses it. ED_NOTFOUND when absent. */
enum ed_code ed_dpkg_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err);

/* --- SQLite schemas (collector/schema_sqlite.c) --- */

/*
 * Normalises an SQL statement so that whitespace, comments, keyword case and
 * identifier quoting make no difference: tokens joined by single spaces
 * (none after "(" or before ")" and ",", none before "("), keywords upper
 * case, identifiers unquoted when that is unambiguous. Appends to out.
 */
enum ed_code ed_sql_normalize(struct ed_str sql, struct ed_buf *out, struct ed_err *err);

/*
 * Opens the SQLite database at path (inside src) read-only and emits schema
 * items for every table, column, index, view and trigger, keyed
 * "sqlite:LABEL/TYPE/OBJECT" (OBJECT of a column is "TABLE.COLUMN").
 */
enum ed_code ed_schema_sqlite_collect(struct ed_source *src, const char *label,
				      const char *path, struct ed_sink *sink,
				      struct ed_err *err);

#endif
