/* SPDX-License-Identifier: MIT */
/*
 * Items (kind, key -> fingerprint + attributes), the sink collectors emit them
 * to, and the baseline (the previous snapshot) an incremental collection reads.
 */
#ifndef ED_ITEM_H
#define ED_ITEM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/hash.h"

/* Item kinds, as stored in items.kind. */
#define ED_KIND_FILE "file"
#define ED_KIND_CONFIG "config"
#define ED_KIND_PACKAGE "package"
#define ED_KIND_SCHEMA "schema"
#define ED_KIND_SYSTEM "system"
#define ED_KIND_ACCOUNT "account"
#define ED_KIND_DATA "data" /* a table's or column's data shape: ed/datashape.h */
#define ED_KIND_ROWS "rows" /* keyed row fingerprints of a sensitive table: ed/rowsample.h */

/*
 * An environment, host or role name (what, for the message: "host name")
 * of at most max bytes without a control character (ESC, BEL, newline, tab,
 * DEL, C1, a bidirectional control or non-character: ed_text_control_at()).
 * Bytes that are not UTF-8 are allowed (stored byte for byte, shown as
 * \xHH). ED_PARSE naming what and the first offending byte otherwise.
 */
#define ED_NAME_MAX 200
enum ed_code ed_name_check(const char *what, const char *s, size_t max, struct ed_err *err);

/* File types as stored in items.ftype. */
enum ed_ftype {
	ED_FT_NONE = 0, /* not a file item */
	ED_FT_REG,
	ED_FT_DIR,
	ED_FT_LINK,
	ED_FT_FIFO,
	ED_FT_SOCK,
	ED_FT_CHR,
	ED_FT_BLK,
	ED_FT_OTHER,
};

/* "file", "dir", "symlink", "fifo", "socket", "char", "block", "other"; NULL for ED_FT_NONE. */
const char *ed_ftype_name(enum ed_ftype t);
/* The inverse of ed_ftype_name(); ED_FT_NONE for NULL or unknown. */
enum ed_ftype ed_ftype_parse(const char *name);

/*
 * One item. Everything is borrowed: the emitter keeps it alive for the
 * duration of the emit call only; a sink copies what it keeps.
 * File metadata fields are meaningful when ftype != ED_FT_NONE.
 */
/*
 * What an item emitted into a delta snapshot's writer says (see
 * ed_snapshot_plan()). Only the file collector sends anything but
 * ED_DELTA_ITEM, and only when told the sink writes a delta.
 */
enum ed_delta {
	ED_DELTA_ITEM,  /* an item: stored unless equal to the previous snapshot's */
	ED_DELTA_SAME,  /* equal to the previous snapshot's item: nothing to store */
	ED_DELTA_GONE,  /* key (kind config), or file key with its configs and what lies
			   below it, is no item any more */
	ED_DELTA_BELOW, /* file key: its configs and what lies below it are no items now */
};

struct ed_item {
	const char *kind;   /* ED_KIND_* */
	const char *key;    /* bytes, may hold any byte but NUL */
	size_t key_len;
	struct ed_fp fp;    /* content fingerprint (or keyed, for secrets) */
	const char *value;  /* shown value: version, config value, definition; NULL if none/secret */
	const char *attrs;  /* extra attributes as a JSON object text, or NULL */
	const char *error;  /* why the item could not be read fully, or NULL */

	enum ed_ftype ftype;
	uint32_t mode;      /* permission bits incl. setuid/setgid/sticky (07777) */
	const char *owner;  /* user name, or the decimal uid when unknown */
	const char *group;  /* group name, or the decimal gid */
	const char *target; /* symlink target, or NULL */
	int64_t size;       /* bytes */
	int64_t mtime_ns;   /* recorded, never compared */
	int64_t ctime_ns;   /* recorded, never compared */
	uint64_t ino;       /* recorded, never compared */
	uint64_t dev;       /* recorded, never compared */
	enum ed_delta delta; /* what a delta snapshot makes of it; ED_DELTA_ITEM elsewhere */
};

/* The attrs of a secret item, and whether attrs text marks one. */
#define ED_ATTRS_SECRET "{\"secret\":true}"
/* The attrs of an item shown with its secret part masked (its fingerprint keyed). */
#define ED_ATTRS_MASKED "{\"masked\":true}"
/*
 * A file keyed because something in it was masked (a config key, a line, a
 * block, a URL), not because of its name: secret, but shared text is no
 * shared secret (its secret leaves, if structured, are items of their own).
 */
#define ED_ATTRS_SECRET_MASKED "{\"secret\":true,\"masked\":true}"
/*
 * A file named like a secret, or holding something that looks like one, whose
 * bytes are those its package shipped (dpkg's conffile MD5): the same on
 * every machine, so no secret of this environment; an ordinary file.
 */
#define ED_ATTRS_VENDOR "{\"vendor\":true}"
bool ed_attrs_secret(const char *attrs);
/*
 * The attrs of a fact the collection could not observe (no /proc under
 * --root): unknown, which is no value and no drift.
 */
#define ED_ATTRS_UNKNOWN "{\"unknown\":true}"
bool ed_attrs_unknown(const char *attrs);

/*
 * Why a file is secret, or public although named like a secret: the rule
 * ("name *.pem", "path /etc/shadow", "PEM private key", "PEM: certificates
 * and public keys only"), never a value. ed_file_attrs() writes a file's
 * attrs into out (size n) as compact JSON in this order:
 * {"secret":true,"masked":true,"because":"..."}, each part only when set;
 * "" when none is. ed_attrs_because() copies the "because" of attrs into out
 * (size n, "" when there is none). Both return false when out is too small
 * or memory runs out.
 */
bool ed_file_attrs(bool secret, bool masked, const char *because, char *out, size_t n);
/* The same with "large" (a config value too long to store), for config leaves; no allocation. */
bool ed_attrs_format(bool secret, bool large, bool masked, const char *because, char *out,
		     size_t n);
bool ed_attrs_because(const char *attrs, char *out, size_t n);

/*
 * items.state: what the differ compares, in 16 bytes, so that it can tell two
 * items with the same key equal without reading their other columns. Byte 0
 * holds flags, bytes 1-15 a digest (XXH3-128) of the fingerprint, file type,
 * mode, owner, group, link target and error. Equal states mean no drift;
 * unequal ones are compared column by column. The arguments are the
 * columns as stored (NULL for SQL NULL); fp NULL when not 16 bytes.
 */
#define ED_STATE_LEN 16
enum {
	ED_STATE_SECRET = 1 << 0, /* attrs hold "secret":true */
	ED_STATE_HOLDS = 1 << 1,  /* holds a value to share: not a folder, link or empty file */
	ED_STATE_ERROR = 1 << 2,  /* could not be read */
	ED_STATE_UNKNOWN = 1 << 3, /* attrs hold "unknown":true: not observed, never drift */
	ED_STATE_MASKED = 1 << 4,  /* attrs hold "masked":true: a secret was masked inside it */
};
struct ed_state_cols {
	const uint8_t *fp;
	const char *ftype;
	int64_t mode;
	const char *owner, *group, *target, *error, *attrs;
	bool has_size;
	int64_t size;
};
void ed_item_state(const struct ed_state_cols *c, uint8_t out[ED_STATE_LEN]);
/* Byte 0 of the state alone (ED_STATE_*): needs only ftype, error, attrs and size. */
uint8_t ed_item_flags(const struct ed_state_cols *c);
/* The state the store records for it. */
void ed_item_state_of(const struct ed_item *it, uint8_t out[ED_STATE_LEN]);

/*
 * The state of a delta snapshot's tombstone (store version 8): one byte, so
 * never a real state. The key is not an item of that snapshot.
 */
#define ED_TOMBSTONE_SQL "X'FF'"
#define ED_TOMBSTONE_BYTE 0xFF
static inline bool ed_state_is_tombstone(const void *state, int len)
{
	return len == 1 && *(const unsigned char *)state == ED_TOMBSTONE_BYTE;
}

/*
 * Where collectors send items and warnings. emit returns ED_OK or an error
 * that aborts the collection (the store could not take the item); warn
 * records a problem with one input that does not abort anything.
 */
struct ed_sink {
	enum ed_code (*emit)(struct ed_sink *sink, const struct ed_item *item, struct ed_err *err);
	void (*warn)(struct ed_sink *sink, const char *msg);
	void *ctx;
	/*
	 * Optional (NULL: content is dropped): keeps the text of a file whose
	 * fingerprint is fp, already stripped of secrets, so reports can show a
	 * unified diff. data NULL records that the content was considered and
	 * not kept (binary, too large, a secret that could not be located), so
	 * an unchanged file need not be read again to find that out.
	 */
	enum ed_code (*content)(struct ed_sink *sink, const struct ed_fp *fp, const char *data,
				size_t len, struct ed_err *err);
};

/* Formats a warning and passes it to sink->warn. */
void ed_sink_warn(struct ed_sink *sink, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A parser's capped warning, so a damaged input cannot flood the sink: the
 * first max warnings go out as "WHERE: MESSAGE" (the message alone when
 * prefixed is false), the next as "WHERE: too many problems, further
 * warnings suppressed", then nothing. *count counts them.
 */
void ed_sink_vwarn_capped(struct ed_sink *sink, size_t *count, size_t max, const char *where,
			  bool prefixed, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/* --- the baseline of an incremental collection --- */

/*
 * What the previous complete snapshot of the same host knew about a file:
 * the incremental collection reuses a fingerprint when (device, inode, size,
 * mtime, ctime) are unchanged. Declared here, beside the sink, because
 * the file collector reads it and the store implements it (store/baseline.c);
 * each hashing thread opens its own reader.
 */
struct ed_prev_file {
	struct ed_fp fp;
	int64_t size, mtime_ns, ctime_ns;
	uint64_t ino, dev;
	bool secret;      /* the fingerprint was keyed */
	bool masked;      /* ...because of what was masked in it, not its name */
	bool vendor;      /* as its package shipped it: not keyed although named like a secret */
	char because[96]; /* attrs' "because": why secret, or public by content */
	enum ed_ftype ftype;
	bool has_state;
	uint8_t state[ED_STATE_LEN]; /* items.state of the previous item */
};

struct ed_baseline_reader;

struct ed_baseline {
	/*
	 * Times at or after this (ns since the epoch) are too close to the
	 * previous collection to prove that nothing changed since.
	 */
	int64_t trust_before_ns;
	/* Opens a reader for one thread; NULL when it cannot (then nothing is reused). */
	struct ed_baseline_reader *(*open)(const struct ed_baseline *b);
	/* Looks up file item path; false when absent, unreadable then, or on error. */
	bool (*lookup)(struct ed_baseline_reader *r, const char *path, struct ed_prev_file *out);
	/* Whether the store keeps the content of fingerprint fp (or knows it is not kept). */
	bool (*has_content)(struct ed_baseline_reader *r, const struct ed_fp *fp);
	/* Sends the previous snapshot's warnings about file path ("PATH: ...") to sink. */
	void (*warnings)(struct ed_baseline_reader *r, const char *path, struct ed_sink *sink);
	/* Emits the previous config items of file path into sink. */
	enum ed_code (*configs)(struct ed_baseline_reader *r, const char *path,
				struct ed_sink *sink, struct ed_err *err);
	/*
	 * Calls fn with the name of each entry right below folder path and its
	 * type (as ed_ftype_name() gives it; "dir" for a folder seen only by
	 * what lies below it).
	 */
	enum ed_code (*children)(struct ed_baseline_reader *r, const char *path,
				 enum ed_code (*fn)(void *ctx, const char *name, size_t len,
						    const char *ftype, struct ed_err *err),
				 void *ctx, struct ed_err *err);
	/*
	 * How many items of kind whose key starts with prefix the previous
	 * snapshot holds; -1 when that cannot be read. May be NULL (unknown).
	 */
	int64_t (*count)(struct ed_baseline_reader *r, const char *kind, const char *prefix);
	void (*close)(struct ed_baseline_reader *r);
	void *ctx;
};

#endif
