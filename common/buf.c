/* SPDX-License-Identifier: MIT */
/* Growable buffers and UTF-8 checks. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/err.h"

#include <errno.h>

static int grow(struct ed_buf *buf, size_t extra)
{
	if (extra > SIZE_MAX - buf->len - 1)
		return -1;
	size_t need = buf->len + extra + 1;
	if (buf->max && buf->len + extra > buf->max)
		return -1;
	if (need <= buf->cap)
		return 0;
	size_t cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(buf->p, cap);
	if (!p)
		return -1;
	buf->p = p;
	buf->cap = cap;
	return 0;
}

int ed_buf_add(struct ed_buf *buf, const void *data, size_t n)
{
	if (grow(buf, n))
		return -1;
	if (n)
		memcpy(buf->p + buf->len, data, n);
	buf->len += n;
	buf->p[buf->len] = '\0';
	return 0;
}

int ed_buf_adds(struct ed_buf *buf, const char *s)
{
	return ed_buf_add(buf, s, strlen(s));
}

int ed_buf_addc(struct ed_buf *buf, char c)
{
	return ed_buf_add(buf, &c, 1);
}

int ed_buf_add_cp(struct ed_buf *buf, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return ed_buf_add(buf, u, n);
}

int ed_buf_addf(struct ed_buf *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(buf, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf->p + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
	return 0;
}

const char *ed_buf_str(const struct ed_buf *buf)
{
	return buf->p ? buf->p : "";
}

void ed_buf_reset(struct ed_buf *buf)
{
	buf->len = 0;
	if (buf->p)
		buf->p[0] = '\0';
}

void ed_buf_release(struct ed_buf *buf)
{
	free(buf->p);
	buf->p = NULL;
	buf->len = buf->cap = 0;
}

char *ed_buf_detach(struct ed_buf *buf)
{
	char *p = buf->p;
	buf->p = NULL;
	buf->len = buf->cap = 0;
	return p;
}

char *ed_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ed_strdup_opt(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool ed_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

int ed_buf_add_utf8_escaped(struct ed_buf *buf, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t old = buf->len;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i);
		int rc;
		if (n == 1 && u[i] == '\\')
			rc = ed_buf_add(buf, "\\\\", 2);
		else if (n)
			rc = ed_buf_add(buf, s + i, n);
		else
			rc = ed_buf_addf(buf, "\\x%02x", u[i]);
		if (rc) {
			buf->len = old;
			if (buf->p)
				buf->p[old] = '\0';
			return -1;
		}
		i += n ? n : 1;
	}
	return 0;
}

/* --- text a reader can trust (reports) --- */

/* Length of the valid UTF-8 sequence at p (n bytes left) and its code point; 0 if invalid. */
static size_t utf8_at(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
		   : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!len || len > n || !ed_utf8_valid((const char *)p, len))
		return 0;
	uint32_t c = len == 1 ? p[0] : p[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++)
		c = c << 6 | (p[i] & 0x3fu);
	*cp = c;
	return len;
}

/*
 * Code points shown as escapes: C0 and C1 controls, DEL, bidirectional
 * controls (a name could reorder the text around it) and non-characters
 * (XML forbids U+FFFE and U+FFFF).
 */
static bool cp_hidden(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	       (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

/*
 * Appends s[0..len) as text a reader can trust: valid UTF-8 as it is; each
 * byte of an invalid sequence or of a hidden code point as \xHH (as the text
 * report shows control bytes), except tabs with keep_tabs. The result is
 * valid UTF-8 without controls.
 */
int ed_buf_add_shown(struct ed_buf *b, const char *s, size_t len, bool keep_tabs)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		uint32_t c = 0;
		size_t n = utf8_at(u + i, len - i, &c);
		int rc = 0;
		if (n && (!cp_hidden(c) || (keep_tabs && c == '\t')))
			rc = ed_buf_add(b, s + i, n);
		else
			for (size_t j = 0; j < (n ? n : 1) && !rc; j++)
				rc = ed_buf_addf(b, "\\x%02x", u[i + j]);
		if (rc)
			return -1;
		i += n ? n : 1;
	}
	return 0;
}

size_t ed_text_control_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		uint32_t c = 0;
		size_t n = utf8_at(u + i, len - i, &c);
		if (n ? cp_hidden(c) : u[i] >= 0x80 && u[i] <= 0x9f)
			return i;
		i += n ? n : 1;
	}
	return len;
}

int ed_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t ed_utf8_bom(const char *s, size_t len)
{
	return len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

bool ed_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	if (*pos >= len)
		return false;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	*n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	*line = s;
	return true;
}

int ed_buf_read_file(struct ed_buf *out, const char *what, const char *path, size_t max,
		     struct ed_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ed_err_set(err, ED_NOTFOUND, "%s %s: %s", what, path, strerror(errno));
	char chunk[8192];
	size_t got;
	enum ed_code rc = ED_OK;
	while (!rc && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + got > max)
			rc = ed_err_set(err, ED_TOOBIG, "%s %s: larger than %zu MiB", what, path,
					max >> 20);
		else if (ed_buf_add(out, chunk, got))
			rc = ed_err_set(err, ED_NOMEM, "%s %s: out of memory", what, path);
	}
	if (!rc && ferror(f))
		rc = ed_err_set(err, ED_IO, "%s %s: read error", what, path);
	fclose(f);
	return rc;
}

size_t ed_text_tidy(char *s, size_t len)
{
	s[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			s[i] = '?';
	while (len && s[len - 1] == '\n')
		s[--len] = '\0';
	return len;
}
