/* SPDX-License-Identifier: MIT */
/* base64 (RFC 4648, standard alphabet, '=' padding): encoding, and strict decoding. */
#include <stdint.h>

#include "ed/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ed_base64_encode(char *out, const void *data, size_t len, bool pad)
{
	const unsigned char *s = data;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (i + 2 < len)
			out[o++] = alphabet[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int ed_base64_add(struct ed_buf *buf, const void *data, size_t len)
{
	/* In chunks of whole 3-byte groups through a small buffer: no size arithmetic to overflow. */
	enum { CHUNK = 3 * 512 };
	const unsigned char *s = data;
	size_t old = buf->len;
	char q[ED_BASE64_LEN(CHUNK) + 1];
	for (size_t i = 0; i < len; i += CHUNK) {
		size_t n = len - i < CHUNK ? len - i : CHUNK;
		size_t w = ed_base64_encode(q, s + i, n, true);
		if (ed_buf_add(buf, q, w)) {
			buf->len = old;
			if (buf->p)
				buf->p[old] = '\0';
			return -1;
		}
	}
	return 0;
}

static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum ed_code ed_base64_decode(struct ed_buf *out, const char *s, size_t len)
{
	enum { CHUNK = 3 * 512 };
	unsigned char b[CHUNK];
	size_t nb = 0;
	ed_buf_reset(out);
	if (len % 4)
		return ED_PARSE;
	size_t pad = len && s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
	if (out->max && len / 4 * 3 - pad > out->max)
		return ED_TOOBIG;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t qpad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + (size_t)k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				qpad++;
				continue;
			}
			if (qpad || (v[k] = value_of(c)) < 0)
				goto bad;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		if ((qpad == 1 && (w & 0xff)) || (qpad == 2 && (w & 0xffff)))
			goto bad; /* non-zero unused bits: not the canonical encoding */
		b[nb++] = (unsigned char)(w >> 16);
		if (qpad < 2)
			b[nb++] = (unsigned char)(w >> 8);
		if (qpad < 1)
			b[nb++] = (unsigned char)w;
		if (nb == CHUNK || i + 4 == len) {
			if (ed_buf_add(out, b, nb)) {
				ed_buf_reset(out);
				return ED_NOMEM;
			}
			nb = 0;
		}
	}
	if (!out->p && ed_buf_add(out, "", 0))
		return ED_NOMEM;
	return ED_OK;
bad:
	ed_buf_reset(out);
	return ED_PARSE;
}
