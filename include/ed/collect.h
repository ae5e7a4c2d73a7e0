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
#include "ed/strlist.h"
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
	const char *const *values;      /* extra token prefixes ([secrets] values); borrowed */
	size_t nvalues;
	bool all;                       /* every key is secret (a file named like a secret) */
};

/* The default patterns: *password* *passwd* *secret* *token* *key* ... (secret.c). */
extern const char *const ed_default_secret_patterns[];
extern const size_t ed_default_secret_npatterns;

/* Does one key name (a JSON member name, not a whole pointer) match a secret pattern? */
bool ed_secret_name_matches(const struct ed_secrets *sec, const char *name, size_t len);
/* The first secret pattern that name matches (sec->all aside), or NULL: a leaf's "because". */
const char *ed_secret_name_glob(const struct ed_secrets *sec, const char *name, size_t len);

/* Character classes of token detectors. */
enum ed_detect_set {
	ED_SET_ALNUM,    /* [A-Za-z0-9] */
	ED_SET_UPPERNUM, /* [A-Z0-9] */
	ED_SET_WORD,     /* [A-Za-z0-9_] */
	ED_SET_B64URL,   /* [A-Za-z0-9_-] */
	ED_SET_B64,      /* [A-Za-z0-9_-+/=.] */
};

/*
 * One value detector: a row of ed_secret_detectors (data; docs/profile.md
 * lists them). match is called where trigger occurs (at: its offset in s)
 * and sets [*ms, *me), the bytes to mask.
 */
struct ed_detector {
	const char *name;    /* "url-password", "github-pat"... */
	const char *trigger; /* literal that every match contains, case-sensitive */
	const char *matches; /* what it finds, for people */
	const char *masks;   /* what is replaced by the marker */
	bool (*match)(const struct ed_detector *d, const char *s, size_t len, size_t at,
		      size_t *ms, size_t *me);
	enum ed_detect_set set; /* token rows: the characters after the trigger */
	unsigned min, max;      /* token rows: how many (max 0: no limit) */
};
extern const struct ed_detector ed_secret_detectors[];
extern const size_t ed_secret_ndetectors;

/* Called per match with the detector's name and the byte range to mask; non-zero stops. */
typedef int ed_secret_hit_fn(void *ctx, const char *detector, size_t start, size_t end);

/*
 * Runs every detector (and each sec->values prefix, a token of 8 or more
 * [A-Za-z0-9_-] after it) over s, left to right, matches not overlapping.
 * Works on raw text and on canonical JSON text alike (a JSON escape is never
 * cut). Returns the number of matches; hit may be NULL. sec may be NULL.
 */
size_t ed_secret_scan(const struct ed_secrets *sec, const char *s, size_t len,
		      ed_secret_hit_fn *hit, void *ctx);

/*
 * Appends s to out with every match replaced by ED_SECRET_MARKER; *nhits
 * (may be NULL) receives the number of matches. Returns 0, or -1 when out of
 * memory (out then holds a prefix: reset it).
 */
int ed_secret_mask(const struct ed_secrets *sec, const char *s, size_t len, struct ed_buf *out,
		   size_t *nhits);

/*
 * The same, the detectors looking at seen (len bytes too, a copy of s with
 * some bytes changed) and the ranges they find masked in s: a quote inside
 * an SQL literal is part of the value, where the detectors would end one.
 */
int ed_secret_mask_seen(const struct ed_secrets *sec, const char *s, const char *seen, size_t len,
			struct ed_buf *out, size_t *nhits);

/* --- files (collector/files.c) --- */

/* Counters of one tree walk, for progress and the closing line. */
struct ed_files_stats {
	int64_t entries; /* items of kind file emitted */
	int64_t hashed;  /* regular files read and hashed */
	int64_t reused;  /* regular files whose fingerprint came from the baseline */
	int64_t bytes;   /* bytes read */
	int64_t kept;    /* files whose content was kept */
	int64_t parsed;  /* structured configs read key by key (or whose keys were reused) */
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

/* Which SQL a definition is written in: quoting and comments differ. */
enum ed_sql_dialect {
	ED_SQL_SQLITE,   /* "id", `id`, [id]; no E'...' nor $tag$...$tag$ */
	ED_SQL_POSTGRES, /* "id"; E'...' with backslash escapes; $tag$...$tag$; nested comments */
};

/*
 * Appends the SQL text sql[0..len) to out with its secret string literals
 * masked (collector/sql_literals.c):
 * - a literal that is the value of a name matching sec's key patterns is
 *   replaced whole by '<secret>' (ED_SECRET_MARKER): a DEFAULT of that
 *   column or argument, what it is compared with or assigned
 *   (password = '...', api_key IN ('...'), '...' = token), a literal aliased
 *   to it (SELECT '...' AS token). subject, when not NULL, names what the
 *   whole text defines (a column whose definition is "text DEFAULT '...'");
 * - in any other literal, what a value detector finds (ed_secret_scan) is
 *   replaced by the marker, the rest kept ('postgres://app:<secret>@db/x').
 * Empty literals are kept. Everything else is copied byte for byte, so
 * drift in the rest of the definition still shows. *nmasked (may be NULL)
 * receives the number of literals masked. sec may be NULL (default
 * patterns). Returns 0, or -1 when out of memory (out is then unchanged).
 */
int ed_sql_mask_literals(const struct ed_secrets *sec, enum ed_sql_dialect dialect,
			 const char *subject, const char *sql, size_t len, struct ed_buf *out,
			 size_t *nmasked);

/*
 * Opens the SQLite database at path (inside src) read-only and emits schema
 * items for every table, column, index, view and trigger, keyed
 * "sqlite:LABEL/TYPE/OBJECT" (OBJECT of a column is "TABLE.COLUMN"). A
 * definition with a secret literal (ed_sql_mask_literals) is stored masked,
 * attrs ED_ATTRS_MASKED, with the keyed fingerprint (sec->key, required:
 * ED_USAGE otherwise) of the unmasked definition.
 */
enum ed_code ed_schema_sqlite_collect(struct ed_source *src, const char *label,
				      const char *path, const struct ed_secrets *sec,
				      struct ed_sink *sink, struct ed_err *err);
/*
 * The same, and with sample_rows > 0 the data shape of each table too (kind
 * "data", keys "sqlite:LABEL/table/main.T" and ".../column/main.T.C"),
 * each table's columns computed over at most sample_rows rows chosen by
 * rowid stride (collector/data_sqlite.c); with sensitive entries
 * ("main.TABLE(COLUMN,...)", ed/profile.h; NULL: none) their keyed row
 * fingerprints (kind "rows", keyed with sec->key). Never a value is kept.
 */
enum ed_code ed_schema_sqlite_collect_data(struct ed_source *src, const char *label,
					   const char *path, const struct ed_secrets *sec,
					   uint64_t sample_rows, const struct ed_strlist *sensitive,
					   struct ed_sink *sink, struct ed_err *err);

/* --- the collectors as a table (collector/collectors.c) --- */

/* What a collection runs with; everything is borrowed for the run. */
struct ed_collect_ctx {
	struct ed_source *src;
	struct ed_sink *sink;
	const struct ed_secrets *secrets;   /* the store's key and the secret patterns */
	const struct ed_profile *profile;   /* what to collect; threads: hashing threads */
	const struct ed_baseline *baseline; /* the previous snapshot; NULL: read every file */
	bool progress;                      /* a progress line on stderr (a terminal) */
	bool delta;                         /* the sink writes a delta on the baseline */
	struct ed_files_stats *stats;       /* added to; may be NULL */
	/*
	 * false: a package manager whose parse yields fewer than half of the
	 * previous snapshot's packages of that manager, with warnings (junk
	 * printed with exit status 0), fails the collection (ED_PARSE).
	 */
	bool accept_package_loss;
};

enum ed_collector_kind {
	ED_COLLECTOR_FILES,    /* the profile's trees */
	ED_COLLECTOR_SYSTEM,   /* system facts */
	ED_COLLECTOR_PACKAGES, /* a package manager, named as --packages names it */
	ED_COLLECTOR_SCHEMA,   /* a database engine, named as --schema ENGINE:... names it */
};

struct ed_collect_step;

/* One collector: a row of the table. */
struct ed_collector_ops {
	const char *name; /* "dpkg", "sqlite" */
	enum ed_collector_kind kind;
	/*
	 * Does it apply on this source (dpkg: /var/lib/dpkg/status is a file)?
	 * What --packages auto asks; NULL: always.
	 */
	bool (*present)(const struct ed_collect_ctx *c);
	/*
	 * Runs it against c->src into c->sink. A package manager found by auto
	 * (step->named false) forgives what only says it is not there.
	 */
	enum ed_code (*collect)(const struct ed_collect_ctx *c, const struct ed_collect_step *step,
				struct ed_err *err);
	/*
	 * Schema engines: checks the TARGET of --schema arg and, when *label is
	 * NULL, sets it to the database's default name (malloc'd). ED_USAGE
	 * quoting arg, ED_NOMEM.
	 */
	enum ed_code (*target)(const char *arg, const char *target, char **label,
			       struct ed_err *err);
};

/* One collector to run, and what it is pointed at. */
struct ed_collect_step {
	const struct ed_collector_ops *ops;
	bool named;         /* asked for by name: it must work; else run only if present */
	char *label;        /* schemas: the database's name in item keys (owned) */
	const char *target; /* schemas: FILE or CONNINFO (borrowed from the profile) */
};

/* What a profile asks to collect, in the order it runs. */
struct ed_collect_plan {
	struct ed_collect_step *steps;
	size_t n;
};

/*
 * The plan of profile p: files, system facts, the package managers of
 * p->packages ("auto": each one, run if present; "none": none), then one
 * step per p->schemas entry "[NAME=]ENGINE:TARGET". ED_USAGE for an unknown
 * manager or engine, or a malformed schema, quoting it; ED_NOMEM. Borrows p
 * (which must outlive the plan); release with ed_collect_plan_release(),
 * also after an error.
 */
enum ed_code ed_collect_plan_init(const struct ed_profile *p, struct ed_collect_plan *plan,
				  struct ed_err *err);
void ed_collect_plan_release(struct ed_collect_plan *plan);

/*
 * Runs the steps of plan in order; stops at the first error (the sink's,
 * ED_NOMEM, or a collector's: see each collector's header).
 */
enum ed_code ed_collect_run(const struct ed_collect_ctx *c, const struct ed_collect_plan *plan,
			    struct ed_err *err);

/* The parts of a schema argument "[NAME=]ENGINE:TARGET", borrowed from it. */
struct ed_schema_arg {
	const char *name;   /* NULL when there is no "NAME=" */
	size_t name_len;
	const char *engine; /* not NUL-terminated */
	size_t engine_len;  /* at least 1 */
	const char *target; /* to the end of the argument; not empty */
};

/* Splits arg into out; false when it has no non-empty ENGINE:TARGET. */
bool ed_collect_schema_split(const char *arg, struct ed_schema_arg *out);

/* The row of kind named name (len bytes); NULL when there is none. */
const struct ed_collector_ops *ed_collector_find(enum ed_collector_kind kind, const char *name,
						 size_t len);

/* Room for the names of one kind's rows, joined by ", ", and a NUL. */
#define ED_COLLECTOR_NAMES_MAX 128

/* Writes the names of kind's rows, in table order, joined by ", " into out; returns out. */
const char *ed_collector_names(enum ed_collector_kind kind, char out[ED_COLLECTOR_NAMES_MAX]);

/*
 * How a snapshot is collected, as two digests of 32 hex digits each and a
 * NUL. The first is of the rules that decide what an item is (envdrift's
 * version, secret patterns, kept content, formats, config and data trees,
 * max_keys, max_file_size): snapshots whose first halves differ may judge
 * the same file differently, and diff warns. The second covers those and
 * which items there are (paths, excludes, packages, schemas, sysctl keys,
 * the root, NULL: "/"): a host's previous snapshot is a baseline, and a
 * delta written on it, only when the whole signature is the same. ED_NOMEM.
 */
#define ED_COLLECT_SIG_SIZE 65
enum ed_code ed_collect_sig(const struct ed_profile *p, const char *root, char out[ED_COLLECT_SIG_SIZE],
			    struct ed_err *err);

#endif
