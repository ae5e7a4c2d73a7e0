/* SPDX-License-Identifier: MIT */
/* File type names and sink helpers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/item.h"

static const char *const ftype_names[] = {
	[ED_FT_NONE] = NULL,     [ED_FT_REG] = "file",  [ED_FT_DIR] = "dir",
	[ED_FT_LINK] = "symlink", [ED_FT_FIFO] = "fifo", [ED_FT_SOCK] = "socket",
	[ED_FT_CHR] = "char",    [ED_FT_BLK] = "block", [ED_FT_OTHER] = "other",
};

enum ed_code ed_name_check(const char *what, const char *s, size_t max, struct ed_err *err)
{
	size_t len = strlen(s);
	if (len > max)
		return ed_err_set(err, ED_PARSE, "%s: at most %zu bytes, got %zu", what, max, len);
	size_t at = ed_text_control_at(s, len);
	if (at < len)
		return ed_err_set(err, ED_PARSE,
				  "%s: at most %zu bytes without control characters, got byte 0x%02x "
				  "at offset %zu",
				  what, max, (unsigned char)s[at], at);
	return ED_OK;
}

const char *ed_ftype_name(enum ed_ftype t)
{
	if ((size_t)t >= sizeof(ftype_names) / sizeof(ftype_names[0]))
		return NULL;
	return ftype_names[t];
}

enum ed_ftype ed_ftype_parse(const char *name)
{
	if (!name)
		return ED_FT_NONE;
	for (size_t i = 1; i < sizeof(ftype_names) / sizeof(ftype_names[0]); i++)
		if (strcmp(ftype_names[i], name) == 0)
			return (enum ed_ftype)i;
	return ED_FT_NONE;
}

void ed_sink_warn(struct ed_sink *sink, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (sink->warn)
		sink->warn(sink, msg);
}

void ed_sink_vwarn_capped(struct ed_sink *sink, size_t *count, size_t max, const char *where,
			  bool prefixed, const char *fmt, va_list ap)
{
	char msg[1024];
	if (*count > max)
		return;
	if ((*count)++ == max) {
		ed_sink_warn(sink, "%s: too many problems, further warnings suppressed", where);
		return;
	}
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	if (prefixed)
		ed_sink_warn(sink, "%s: %s", where, msg);
	else
		ed_sink_warn(sink, "%s", msg);
}

/*
 * Appends a presence byte, then the string with its terminating NUL, or a
 * long string's own fingerprint: the buffer below never needs to grow.
 */
#define STATE_STR_MAX 96
static size_t put_str(uint8_t *p, const char *s)
{
	if (!s) {
		*p = 0;
		return 1;
	}
	size_t n = strlen(s) + 1;
	if (n > STATE_STR_MAX) {
		struct ed_fp f;
		ed_fp_of(s, n - 1, &f);
		*p = 2;
		memcpy(p + 1, f.b, ED_FP_LEN);
		return 1 + ED_FP_LEN;
	}
	*p = 1;
	memcpy(p + 1, s, n);
	return n + 1;
}

void ed_item_state(const struct ed_state_cols *c, uint8_t out[ED_STATE_LEN])
{
	static const uint8_t zero[ED_FP_LEN];
	const char *strs[] = {c->owner, c->group, c->target, c->error};
	uint8_t buf[ED_FP_LEN + 1 + 4 + 4 * (1 + STATE_STR_MAX)];
	size_t n = 0;
	memcpy(buf, c->fp ? c->fp : zero, ED_FP_LEN);
	n += ED_FP_LEN;
	buf[n++] = (uint8_t)ed_ftype_parse(c->ftype);
	uint32_t mode = (uint32_t)c->mode;
	for (int i = 0; i < 4; i++)
		buf[n++] = (uint8_t)(mode >> (8 * i));
	for (size_t i = 0; i < 4; i++)
		n += put_str(buf + n, strs[i]);
	struct ed_fp d;
	ed_fp_of(buf, n, &d);
	out[0] = ed_item_flags(c);
	memcpy(out + 1, d.b, ED_STATE_LEN - 1);
}

bool ed_attrs_secret(const char *attrs)
{
	return attrs && strstr(attrs, "\"secret\":true");
}

bool ed_attrs_format(bool secret, bool large, bool masked, const char *because, char *out,
		     size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;
	bool first = true;
#define PUT(c)                            \
	do {                              \
		if (len + 1 >= n)         \
			return false;     \
		out[len++] = (char)(c);   \
	} while (0)
#define PUTS(str)                                           \
	do {                                                \
		for (const char *q_ = (str); *q_; q_++)     \
			PUT(*q_);                           \
	} while (0)
	out[0] = '\0';
	if (!secret && !large && !masked && !(because && *because))
		return true;
	PUT('{');
	const char *flags[3] = {secret ? "secret" : NULL, large ? "large" : NULL,
				masked ? "masked" : NULL};
	for (int i = 0; i < 3; i++) {
		if (!flags[i])
			continue;
		if (!first)
			PUT(',');
		first = false;
		PUT('"');
		PUTS(flags[i]);
		PUTS("\":true");
	}
	if (because && *because) {
		if (!first)
			PUT(',');
		PUTS("\"because\":\"");
		/* JSON's escapes; a rule is ASCII text, but a profile's glob may hold anything. */
		for (const unsigned char *c = (const unsigned char *)because; *c; c++) {
			if (*c == '"' || *c == '\\') {
				PUT('\\');
				PUT(*c);
			} else if (*c < 0x20 || *c == 0x7f) {
				PUTS("\\u00");
				PUT(hex[*c >> 4]);
				PUT(hex[*c & 15]);
			} else {
				PUT(*c);
			}
		}
		PUT('"');
	}
	PUT('}');
	out[len] = '\0';
	return true;
#undef PUTS
#undef PUT
}

bool ed_file_attrs(bool secret, bool masked, const char *because, char *out, size_t n)
{
	return ed_attrs_format(secret, false, masked, because, out, n);
}

bool ed_attrs_because(const char *attrs, char *out, size_t n)
{
	out[0] = '\0';
	if (!attrs || !strstr(attrs, "\"because\""))
		return true;
	json_t *o = json_loads(attrs, JSON_REJECT_DUPLICATES, NULL);
	const char *b = json_string_value(json_object_get(o, "because"));
	bool good = !b || strlen(b) < n;
	if (b && good)
		memcpy(out, b, strlen(b) + 1);
	json_decref(o);
	return good;
}

bool ed_attrs_unknown(const char *attrs)
{
	return attrs && strstr(attrs, "\"unknown\":true");
}

uint8_t ed_item_flags(const struct ed_state_cols *c)
{
	uint8_t flags = 0;
	if (ed_attrs_secret(c->attrs))
		flags |= ED_STATE_SECRET;
	if (ed_attrs_unknown(c->attrs))
		flags |= ED_STATE_UNKNOWN;
	if (c->attrs && strstr(c->attrs, "\"masked\":true"))
		flags |= ED_STATE_MASKED;
	if (!c->ftype || (strcmp(c->ftype, "file") == 0 && c->has_size && c->size > 0))
		flags |= ED_STATE_HOLDS;
	if (c->error)
		flags |= ED_STATE_ERROR;
	return flags;
}

void ed_item_state_of(const struct ed_item *it, uint8_t out[ED_STATE_LEN])
{
	bool file = it->ftype != ED_FT_NONE;
	struct ed_state_cols c = {
		.fp = it->fp.b, .ftype = ed_ftype_name(it->ftype), .mode = file ? (int)it->mode : 0,
		.owner = file ? it->owner : NULL, .group = file ? it->group : NULL,
		.target = file ? it->target : NULL, .error = it->error, .attrs = it->attrs,
		.has_size = file, .size = file ? it->size : 0,
	};
	ed_item_state(&c, out);
}
