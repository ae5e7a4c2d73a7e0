/* SPDX-License-Identifier: MIT */
/*
 * Snapshot documents (format envdrift.snapshot/1, docs/snapshot-format.md):
 * writing one as a sink, and reading and validating one. The push mode of
 * envdrift; no store here: storing a document and exporting a snapshot as
 * one are in ed/snapdoc_store.h.
 */
#ifndef ED_SNAPDOC_H
#define ED_SNAPDOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"

#define ED_SNAPDOC_FORMAT "envdrift.snapshot/1"
/* The largest document ingest reads. */
#define ED_SNAPDOC_MAX_BYTES ((size_t)1 << 30)
/* A document id: a UUID in its 36-character text form, lower case. */
#define ED_SNAPDOC_ID_LEN 36
/*
 * Limits on the strings of a document (decoded bytes): past them a document
 * is refused with the JSON path, before the element is parsed when its JSON
 * text alone is past the element limit. docs/snapshot-format.md lists them.
 */
#define ED_SNAPDOC_KEY_MAX ((size_t)64 * 1024)        /* an item's key */
#define ED_SNAPDOC_VALUE_MAX ((size_t)1 << 20)        /* an item's value */
#define ED_SNAPDOC_TEXT_MAX ((size_t)64 * 1024)       /* any other string: error, owner, group,
							 target, a warning, the collector's */
#define ED_SNAPDOC_ITEM_JSON_MAX ((size_t)16 << 20)   /* the JSON text of one item */
#define ED_SNAPDOC_WARNING_JSON_MAX ((size_t)1 << 20) /* the JSON text of one warning */
/* Kept content larger than this is not written (as the store does not keep it) nor read. */
#define ED_SNAPDOC_CONTENT_MAX ((size_t)INT32_MAX / 2)

/* --- writing --- */

/* What a document says about its snapshot. Everything is borrowed for the call only. */
struct ed_snapdoc_meta {
	const char *id;             /* ED_SNAPDOC_ID_LEN characters; NULL: a new random one */
	const char *env;            /* required */
	const char *host;           /* required */
	const char *role;           /* NULL or "": no role */
	const char *started_at;     /* ISO 8601 UTC (2024-01-02T03:04:05Z); NULL: now */
	const char *collector_host; /* the machine that collected; NULL: this one */
	const char *collector_root; /* --root of the collection, or NULL */
	bool quiet;                 /* false: echo each warning on stderr as it comes (collect) */
};

struct ed_snapdoc_writer;

/*
 * Starts a document at path ("-": standard output) through ed_atomic_open():
 * a file is written as PATH.tmp.XXXXXX and renamed over path only by
 * ed_snapdoc_commit(), so a failed or interrupted collection never leaves a
 * partial document behind; a FIFO or a device is written directly.
 * Items go out as they are emitted (memory stays flat, but for 32-64 bytes
 * per item that remember (kind, key), so an item emitted twice is written once,
 * as the store does); warnings and kept contents wait in unlinked temporary
 * files and follow the items at commit. Finish with commit or abort.
 */
enum ed_code ed_snapdoc_begin(const char *path, const struct ed_snapdoc_meta *meta,
			      struct ed_snapdoc_writer **out, struct ed_err *err);
/* The sink collectors emit into (emit, warn, content); valid until commit or abort. */
struct ed_sink *ed_snapdoc_sink(struct ed_snapdoc_writer *w);
/* The document's id (ED_SNAPDOC_ID_LEN characters), owned by w. */
const char *ed_snapdoc_writer_id(const struct ed_snapdoc_writer *w);
/*
 * Writes warnings, contents and finished_at (NULL: now), flushes, fsyncs and
 * renames the file into place; frees w on every path. items and warnings
 * (may be NULL) receive the counts written. On error nothing is left at path.
 */
enum ed_code ed_snapdoc_commit(struct ed_snapdoc_writer *w, const char *finished_at,
			       int64_t *items, int64_t *warnings, struct ed_err *err);
/* Removes the temporary file and frees w. NULL is a no-op. */
void ed_snapdoc_abort(struct ed_snapdoc_writer *w);

/* --- reading --- */

/* A parsed document that passed every check. */
struct ed_snapdoc;

/*
 * Parses and validates len bytes of a document (the bytes are not kept).
 * name prefixes every message, which gives the JSON path of the first
 * problem found: "NAME: $.items[12].fingerprint: expected 32 hex digits".
 * Errors: ED_PARSE (not a valid document), ED_TOOBIG (over
 * ED_SNAPDOC_MAX_BYTES), ED_NOMEM. Free *out with ed_snapdoc_free().
 */
enum ed_code ed_snapdoc_parse(const char *data, size_t len, const char *name,
			      struct ed_snapdoc **out, struct ed_err *err);
/*
 * Reads path ("-": standard input, named so in messages) and checks it as
 * above, a piece at a time: the document is not held in memory, but read
 * again from the file by ed_snapdoc_replay() (a pipe is first copied to an
 * unlinked file in $TMPDIR). Memory stays at the size of its largest element
 * plus 12 bytes per item.
 */
enum ed_code ed_snapdoc_load(const char *path, struct ed_snapdoc **out, struct ed_err *err);
/*
 * The same for an open file, named name in messages: a regular file from its
 * start (d keeps a copy of fd: fd stays the caller's, and its offset moves),
 * anything else from where it is.
 */
enum ed_code ed_snapdoc_read_fd(int fd, const char *name, struct ed_snapdoc **out,
				struct ed_err *err);
void ed_snapdoc_free(struct ed_snapdoc *d);

/* What a checked document says about its snapshot. */
struct ed_snapdoc_info {
	const char *id;             /* ED_SNAPDOC_ID_LEN characters, lower case */
	const char *env;            /* not empty */
	const char *host;           /* not empty */
	const char *role;           /* NULL when the document gives none (it may also give "") */
	const char *collector_host; /* collector.host; NULL when absent */
	const char *collector_root; /* collector.root; NULL when absent */
	const char *started_at;     /* YYYY-MM-DDTHH:MM:SSZ (ed_isotime_valid) */
	const char *finished_at;    /* the same, not before started_at */
	size_t nitems;              /* how many items it holds */
	/*
	 * XXH3-128 of its items, warnings and kept contents' fingerprints, in
	 * document order: two documents with the same digest store the same
	 * snapshot but for its id, env, host and times (ingest's shortcut for
	 * an unchanged host). Not proof against a forger.
	 */
	const struct ed_fp *digest;
};

/* The document's fields; the struct and its strings are owned by d. */
const struct ed_snapdoc_info *ed_snapdoc_info(const struct ed_snapdoc *d);

/*
 * A document cannot be dated in the future: ED_PARSE ("NAME: $.started_at:
 * ... is N s ahead of this machine's clock ...") when its started_at or
 * finished_at is more than max_skew seconds after now.
 */
#define ED_SNAPDOC_MAX_SKEW 300
enum ed_code ed_snapdoc_check_clock(const struct ed_snapdoc *d, time_t now, long long max_skew,
				    struct ed_err *err);

/*
 * Emits the document's items, then its warnings, then its contents (when
 * sink->content is set) into sink. Stops at the first error of the sink.
 */
enum ed_code ed_snapdoc_replay(const struct ed_snapdoc *d, struct ed_sink *sink,
			       struct ed_err *err);

/* --- helpers --- */

/*
 * Gives jansson our malloc, noting a failed allocation: jansson 2.14 drops a
 * byte of a string when an allocation of its lexer fails and still returns
 * the document, so a parse during which one failed is taken as ED_NOMEM.
 * Call once in main(), before any thread starts.
 */
void ed_snapdoc_global_init(void);
/*
 * jansson's json_loadb(), through which every reading of JSON goes: an
 * allocation of jansson's that fails meanwhile is served from a reserve
 * instead, because jansson 2.14's reader writes past a string it allocated
 * when an allocation fails in the middle of that string
 * (tests/unit/test_jsonoom.c); the parse then ends whole. Only reading: what
 * the reserve served goes back through jansson's own free, and a
 * json_dumps() result is freed with free().
 */
json_t *ed_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error);

/* A new random (version 4) UUID, lower case. ED_IO when no random bytes are available. */
enum ed_code ed_snapdoc_id_new(char out[ED_SNAPDOC_ID_LEN + 1], struct ed_err *err);

/* Is s[0..len) a UUID (8-4-4-4-12 hex digits, either case)? Then it is copied to out, lower case. */
bool ed_snapdoc_id_parse(const char *s, size_t len, char out[ED_SNAPDOC_ID_LEN + 1]);

#endif
