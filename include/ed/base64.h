/* SPDX-License-Identifier: MIT */
/* base64 (RFC 4648, standard alphabet): one encoder and one strict decoder. */
#ifndef ED_BASE64_H
#define ED_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"

/* Characters of the padded encoding of n bytes, without the NUL (n below SIZE_MAX / 4 * 3). */
#define ED_BASE64_LEN(n) (((n) + 2) / 3 * 4)

/*
 * Writes the base64 of len bytes at data and a NUL into out, which has room
 * for ED_BASE64_LEN(len) + 1 characters. pad: end with '=' up to a multiple
 * of 4 (RFC 4648); without, as OpenSSH prints SHA256 fingerprints. Returns
 * the number of characters written, without the NUL.
 */
size_t ed_base64_encode(char *out, const void *data, size_t len, bool pad);

/*
 * Appends the padded base64 of len bytes at data to buf. Returns 0, or -1
 * (out of memory, or past buf->max) leaving buf unchanged.
 */
int ed_base64_add(struct ed_buf *buf, const void *data, size_t len);

/*
 * Decodes len characters at s into out, replacing its contents. Strict: only
 * the canonical encoding is accepted (a multiple of 4 characters, '='
 * padding at the end only, unused bits zero, no blanks or line breaks).
 * Returns ED_OK (out->p is then never NULL, even for no bytes), ED_PARSE
 * (not canonical base64: out is left empty), ED_TOOBIG (the bytes exceed
 * out->max) or ED_NOMEM. Sets no message: the caller knows what it decoded.
 */
enum ed_code ed_base64_decode(struct ed_buf *out, const char *s, size_t len);

#endif
