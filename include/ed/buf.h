/* SPDX-License-Identifier: MIT */
/* Owned growable text (struct ed_buf) and borrowed slices (struct ed_str). */
#ifndef ED_BUF_H
#define ED_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed slice: never owns its bytes, not necessarily NUL-terminated. */
struct ed_str {
	const char *p;
	size_t len;
};

/*
 * Owned, growable bytes. Invariants: p is NULL (empty, nothing allocated) or
 * points to cap bytes with p[len] == '\0'. A failed append leaves the buffer
 * unchanged. max, when non-zero, caps len: appending past it fails with ED_TOOBIG.
 * The owner frees with ed_buf_release().
 */
struct ed_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

#define ED_BUF_INIT {NULL, 0, 0, 0}

/* Appends n bytes; returns 0, or -1 (out of memory or past max) leaving buf unchanged. */
int ed_buf_add(struct ed_buf *buf, const void *data, size_t n);
int ed_buf_adds(struct ed_buf *buf, const char *s);
int ed_buf_addc(struct ed_buf *buf, char c);
/* Appends the UTF-8 of code point cp, which the caller has checked (at most 0x10FFFF, no surrogate). */
int ed_buf_add_cp(struct ed_buf *buf, uint32_t cp);
int ed_buf_addf(struct ed_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a string; "" when empty, never NULL. */
const char *ed_buf_str(const struct ed_buf *buf);
void ed_buf_reset(struct ed_buf *buf);
void ed_buf_release(struct ed_buf *buf);
/* Hands the bytes to the caller (free() them) and leaves buf empty; NULL when empty. */
char *ed_buf_detach(struct ed_buf *buf);

static inline struct ed_str ed_str_of(const char *s, size_t len)
{
	struct ed_str r = {s, len};
	return r;
}

/* Valid UTF-8 (no overlongs, no surrogates)? */
bool ed_utf8_valid(const char *s, size_t len);

/* 3 when the len bytes at s start with a UTF-8 byte order mark, else 0. */
size_t ed_utf8_bom(const char *s, size_t len);

/*
 * The line of text[0..len) that starts at *pos, without its '\n' (a '\r'
 * before it stays), in *line and *n; *pos moves past it. False past the end.
 */
bool ed_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n);

/*
 * Appends s to buf so that the result is valid UTF-8 and round-trips: a
 * backslash becomes "\\\\" and each byte of an invalid sequence "\\xHH".
 * Valid input without backslashes is copied unchanged.
 */
int ed_buf_add_utf8_escaped(struct ed_buf *buf, const char *s, size_t len);

/*
 * Appends s[0..len) as text a reader can trust: valid UTF-8 as it is; each
 * byte of an invalid sequence, of a control character (tabs kept when
 * keep_tabs), a bidirectional control or a non-character as \\xHH. The
 * result is valid UTF-8 without controls. Returns 0 or -1 (out of memory).
 */
int ed_buf_add_shown(struct ed_buf *b, const char *s, size_t len, bool keep_tabs);

/*
 * The offset of the first control in s[0..len), len if none: a code point
 * ed_buf_add_shown() escapes (C0 with tab, DEL, C1, a bidirectional control,
 * a non-character) or a lone byte 0x80-0x9f (a C1 control to an 8-bit
 * terminal). Other bytes of invalid UTF-8 are no control: they are shown as
 * \xHH.
 */
size_t ed_text_control_at(const char *s, size_t len);

/* The value of one hex digit (either case), or -1 for any other character. */
int ed_hex_value(char c);

/* xmalloc-style helpers are deliberately absent: every allocation is checked. */
char *ed_strndup(const char *s, size_t n);

/*
 * Reads the whole file at path (a profile, a policy, an inventory: what,
 * named in messages) into out, at most max bytes. Errors name what and
 * path: ED_NOTFOUND (cannot be opened, with the reason), ED_TOOBIG, ED_IO,
 * ED_NOMEM.
 */
/*
 * Makes a program's standard error (len bytes in s, which has room for a
 * NUL after them) fit a message: control characters but newlines become
 * '?', trailing newlines go, a NUL ends it. Returns the new length.
 */
size_t ed_text_tidy(char *s, size_t len);

struct ed_err;
int ed_buf_read_file(struct ed_buf *out, const char *what, const char *path, size_t max,
		     struct ed_err *err);

/* A copy of s, or NULL for NULL; sets *oom (never clears it) when the copy fails. */
char *ed_strdup_opt(const char *s, bool *oom);

#endif
