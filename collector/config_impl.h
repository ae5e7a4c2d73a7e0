/* SPDX-License-Identifier: MIT */
/* Private to collector/config_*.c: leaf emission, JSON text helpers and redaction edits. */
#ifndef ED_CONFIG_IMPL_H
#define ED_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ed/buf.h"
#include "ed/config.h"

/* Where a parser sends its leaves: the key under construction and the counters. */
struct ed_cfg_out {
	const char *path;             /* for messages */
	const struct ed_secrets *sec; /* patterns and key (key non-NULL) */
	struct ed_sink *sink;
	struct ed_buf key;            /* "PATH#" + pointer of the current leaf */
	size_t secrets;               /* secret leaves emitted */
};

/*
 * Checks sec, starts o->key with "PATH#". ED_USAGE without sec or sec->key,
 * ED_NOMEM; release o with ed_cfg_out_release() in every case.
 */
enum ed_code ed_cfg_out_init(struct ed_cfg_out *o, const char *path, const struct ed_secrets *sec,
			     struct ed_sink *sink, struct ed_err *err);
void ed_cfg_out_release(struct ed_cfg_out *o);

/*
 * Emits one leaf with canonical text (len bytes): secret (or sec->all): no
 * value, ED_ATTRS_SECRET, keyed fingerprint; else when a value detector
 * (ed_secret_scan) finds a secret in the text: keyed fingerprint, the masked
 * text as value, attrs {"masked":true}; else the value and XXH3-128. Secret
 * and masked leaves add 1 to *nsecrets.
 */
enum ed_code ed_cfg_emit_leaf(const struct ed_secrets *sec, struct ed_sink *sink, const char *key,
			      size_t key_len, const char *text, size_t len, bool secret,
			      size_t *nsecrets, struct ed_err *err);

/* Emits the leaf at o->key with ed_cfg_emit_leaf(). */
enum ed_code ed_cfg_emit(struct ed_cfg_out *o, const char *text, size_t len, bool secret,
			 struct ed_err *err);

/*
 * The canonical text of a JSON leaf (reals with the fewest digits that read
 * back as the same double); NULL on allocation failure. Caller frees.
 */
char *ed_cfg_dump_leaf(const json_t *j);

/* Sets buf->len back to len (a shorter length), keeping the NUL. */
void ed_cfg_truncate(struct ed_buf *buf, size_t len);

/*
 * Appends the JSON string of s (len bytes of valid UTF-8; NUL allowed),
 * escaped exactly as jansson's compact dump does. -1 on allocation failure.
 */
int ed_cfg_json_string(struct ed_buf *out, const char *s, size_t len);

/*
 * Appends the canonical text of the JSON number text num (a valid JSON real):
 * the fewest digits that read back as the same double, as JSON configs do.
 * Returns 0, 1 when the number is out of range for a double, -1 on allocation failure.
 */
int ed_cfg_json_real(struct ed_buf *out, const char *num);

/*
 * Finds "NAME = VALUE" or "NAME: VALUE" (optionally after "export " or "- ")
 * in the comment text s (len bytes, after the comment character). When NAME
 * matches a secret pattern and VALUE is not empty, stores VALUE's range
 * (relative to s, trailing whitespace excluded) and returns true.
 */
bool ed_cfg_comment_secret(const struct ed_secrets *sec, const char *s, size_t len, size_t *vs,
			   size_t *ve);

/*
 * For line-based formats: the 1-based line of the first NUL byte or invalid
 * UTF-8 sequence in text, or 0 when there is none. *nul tells which.
 */
size_t ed_cfg_bad_text_line(const char *p, size_t len, bool *nul);

/* Replacements of byte ranges of a text: what a redactor produces. */
struct ed_cfg_edit {
	size_t start, end; /* byte range of the original text */
	size_t off, len;   /* replacement bytes in the edits' text buffer */
};

struct ed_cfg_edits {
	struct ed_cfg_edit *v;
	size_t n, cap;
	struct ed_buf text;
};

#define ED_CFG_EDITS_INIT {NULL, 0, 0, ED_BUF_INIT}

/* Replaces [start, end) with with (len bytes). -1 on allocation failure. */
int ed_cfg_edits_add(struct ed_cfg_edits *e, size_t start, size_t end, const char *with,
		     size_t len);
/* Replaces [start, end) with ED_SECRET_MARKER. */
int ed_cfg_edits_mark(struct ed_cfg_edits *e, size_t start, size_t end);
/*
 * Writes text with the edits applied into out (reset first). Returns 0, -1 on
 * allocation failure, 1 when two edits overlap or one lies outside the text.
 */
int ed_cfg_edits_apply(struct ed_cfg_edits *e, struct ed_str text, struct ed_buf *out);
void ed_cfg_edits_release(struct ed_cfg_edits *e);

/*
 * The redactors of each format: the candidate text into out (reset first).
 * *ok false when the text cannot be parsed (out then undefined). ED_NOMEM only.
 * ed_config_redact() checks the candidate by parsing it again.
 */
enum ed_code ed_cfg_json_redact(struct ed_str text, const char *path,
				const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				struct ed_err *err);
enum ed_code ed_cfg_yaml_redact(struct ed_str text, const char *path,
				const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				struct ed_err *err);
enum ed_code ed_cfg_ini_redact(struct ed_str text, const char *path,
			       const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
			       struct ed_err *err);
enum ed_code ed_cfg_keyvalue_redact(struct ed_str text, const char *path,
				    const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				    struct ed_err *err);
enum ed_code ed_cfg_keyword_redact(struct ed_str text, const char *path,
				   const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				   struct ed_err *err);

#endif
