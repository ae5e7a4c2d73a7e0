/* SPDX-License-Identifier: MIT */
/*
 * apk: one package item per block of Alpine's installed database
 * (lib/apk/db/installed), keyed "apk:NAME". The parser reads bytes and a
 * length, and never trusts them.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/pkg.h"
#include "pkg_common.h"

/* A real database is about 1 KiB per package plus its file list. */
#define APK_DB_MAX ((size_t)256 * 1024 * 1024)
#define APK_MAX_WARNINGS 100
/* Longest name quoted in a warning, in bytes. */
#define APK_SHOW_MAX 200

enum field { F_NAME, F_VERSION, F_ARCH, F_COUNT };

static const char field_letter[F_COUNT] = {[F_NAME] = 'P', [F_VERSION] = 'V', [F_ARCH] = 'A'};
static const char *const field_desc[F_COUNT] = {
	[F_NAME] = "P (name)",
	[F_VERSION] = "V (version)",
	[F_ARCH] = "A (architecture)",
};

/* The block being read; values are slices of the input. */
struct block {
	size_t first_line; /* 1-based; 0 when no block is open */
	bool bad;          /* a problem was reported: skip to the next blank line */
	struct ed_str f[F_COUNT];
	bool seen[F_COUNT];
};

/* One emitted name, to refuse a second block for it. */
struct seen_name {
	uint64_t hash; /* 0 marks an empty slot */
	struct ed_str name;
	size_t line;
};

struct parser {
	const char *origin;
	struct ed_sink *sink;
	size_t nwarnings;
	struct ed_buf key;  /* "apk:NAME" */
	struct ed_buf val;  /* VERSION, NUL-terminated */
	struct ed_buf fpin; /* "VERSION\nARCH" */
	struct seen_name *names; /* open addressing, cap a power of two */
	size_t nnames;
	size_t cap;
};

static void warn_at(struct parser *ps, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_at(struct parser *ps, size_t line, const char *fmt, ...)
{
	va_list ap;
	char where[4200];
	snprintf(where, sizeof(where), "%s:%zu", ps->origin, line);
	va_start(ap, fmt);
	ed_sink_vwarn_capped(ps->sink, &ps->nwarnings, APK_MAX_WARNINGS, where, true, fmt, ap);
	va_end(ap);
}

/* How many bytes of a valid UTF-8 string to quote: at most APK_SHOW_MAX, whole characters. */
static int show_len(struct ed_str s)
{
	size_t n = s.len;
	if (n > APK_SHOW_MAX) {
		n = APK_SHOW_MAX;
		while (n && ((unsigned char)s.p[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

static bool str_eq(struct ed_str a, struct ed_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void block_reset(struct block *b)
{
	memset(b, 0, sizeof(*b));
}

/* Non-empty, valid UTF-8, no controls or spaces; no ':' in a name (keys split on it). */
static bool value_ok(struct parser *ps, const struct block *b, enum field f)
{
	struct ed_str v = b->f[f];
	if (!ed_utf8_valid(v.p, v.len)) {
		warn_at(ps, b->first_line, "field %s is not valid UTF-8", field_desc[f]);
		return false;
	}
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c <= 0x20 || c == 0x7f || (c == ':' && f != F_VERSION)) {
			warn_at(ps, b->first_line, "field %s holds a character not allowed there",
				field_desc[f]);
			return false;
		}
	}
	return true;
}

static uint64_t name_hash(struct ed_str name)
{
	struct ed_fp fp;
	uint64_t h = 0;
	ed_fp_of(name.p, name.len, &fp);
	for (int i = 0; i < 8; i++)
		h = (h << 8) | fp.b[i];
	return h ? h : 1;
}

static struct seen_name *seen_slot(struct seen_name *v, size_t cap, uint64_t h, struct ed_str name)
{
	size_t i = (size_t)h & (cap - 1);
	for (;;) {
		struct seen_name *s = &v[i];
		if (!s->hash || (s->hash == h && str_eq(s->name, name)))
			return s;
		i = (i + 1) & (cap - 1);
	}
}

/* Room for one more name; -1 when out of memory. */
static int seen_reserve(struct parser *ps)
{
	if (ps->cap && (ps->nnames + 1) * 2 <= ps->cap)
		return 0;
	size_t cap = ps->cap ? ps->cap * 2 : 256;
	if (cap > SIZE_MAX / sizeof(struct seen_name))
		return -1;
	struct seen_name *v = calloc(cap, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < ps->cap; i++)
		if (ps->names[i].hash)
			*seen_slot(v, cap, ps->names[i].hash, ps->names[i].name) = ps->names[i];
	free(ps->names);
	ps->names = v;
	ps->cap = cap;
	return 0;
}

static enum ed_code emit_package(struct parser *ps, const struct block *b, struct ed_err *err)
{
	struct ed_str name = b->f[F_NAME], ver = b->f[F_VERSION], arch = b->f[F_ARCH];
	bool has_arch = b->seen[F_ARCH];
	enum ed_code rc = ED_OK;

	ed_buf_reset(&ps->key);
	ed_buf_reset(&ps->val);
	ed_buf_reset(&ps->fpin);
	if (ed_buf_adds(&ps->key, "apk:") || ed_buf_add(&ps->key, name.p, name.len) ||
	    ed_buf_add(&ps->val, ver.p, ver.len) || ed_buf_add(&ps->fpin, ver.p, ver.len) ||
	    ed_buf_addc(&ps->fpin, '\n') ||
	    (has_arch && ed_buf_add(&ps->fpin, arch.p, arch.len)) || seen_reserve(ps)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", ps->origin);
		goto out;
	}

	uint64_t h = name_hash(name);
	struct seen_name *slot = seen_slot(ps->names, ps->cap, h, name);
	if (slot->hash) {
		warn_at(ps, b->first_line, "package '%.*s' already listed at line %zu",
			show_len(name), name.p, slot->line);
		goto out;
	}

	/* Values were checked to be valid UTF-8, so json_pack fails only for memory. */
	json_t *attrs = has_arch ? json_pack("{s:s, s:s%}", "manager", "apk", "arch", arch.p, arch.len)
				 : json_pack("{s:s}", "manager", "apk");
	rc = ed_pkg_emit(ps->sink, ps->origin, ps->key.p, ps->key.len, ps->val.p, ps->fpin.p,
			 ps->fpin.len, attrs, err);
	if (rc != ED_OK)
		goto out;
	slot->hash = h;
	slot->name = name;
	slot->line = b->first_line;
	ps->nnames++;
out:
	return rc;
}

static enum ed_code end_block(struct parser *ps, struct block *b, struct ed_err *err)
{
	enum ed_code rc = ED_OK;

	if (!b->first_line || b->bad)
		goto out;
	for (enum field f = F_NAME; f <= F_VERSION; f++) {
		if (!b->seen[f] || !b->f[f].len) {
			warn_at(ps, b->first_line, "package block has no %s line", field_desc[f]);
			goto out;
		}
	}
	if (b->seen[F_ARCH] && !b->f[F_ARCH].len) {
		warn_at(ps, b->first_line, "field %s is empty", field_desc[F_ARCH]);
		goto out;
	}
	if (!value_ok(ps, b, F_NAME) || !value_ok(ps, b, F_VERSION) ||
	    (b->seen[F_ARCH] && !value_ok(ps, b, F_ARCH)))
		goto out;
	rc = emit_package(ps, b, err);
out:
	block_reset(b);
	return rc;
}

/* One non-empty line (without its line ending) of the open block. */
static void read_line(struct parser *ps, struct block *b, const char *s, size_t len, size_t line)
{
	if (!b->first_line)
		b->first_line = line;
	if (b->bad)
		return;
	/* apk itself refuses a line that is not one letter, ':' and a value. */
	if (len < 2 || s[1] != ':' || (unsigned char)s[0] <= 0x20 || (unsigned char)s[0] >= 0x7f) {
		warn_at(ps, line, "line is not 'X:value'");
		b->bad = true;
		return;
	}
	if (memchr(s, '\0', len)) {
		warn_at(ps, line, "line holds a NUL byte");
		b->bad = true;
		return;
	}
	for (int f = 0; f < F_COUNT; f++) {
		if (s[0] != field_letter[f])
			continue;
		if (b->seen[f]) {
			warn_at(ps, line, "duplicate field %s", field_desc[f]);
			b->bad = true;
			return;
		}
		b->seen[f] = true;
		b->f[f] = ed_str_of(s + 2, len - 2);
		return;
	}
}

enum ed_code ed_apk_parse(struct ed_str text, const char *origin, struct ed_sink *sink,
			  struct ed_err *err)
{
	struct parser ps = {
		.origin = origin ? origin : "(apk installed database)",
		.sink = sink,
		.key = ED_BUF_INIT,
		.val = ED_BUF_INIT,
		.fpin = ED_BUF_INIT,
	};
	struct block b;
	enum ed_code rc = ED_OK;
	size_t pos = 0, line = 0;

	block_reset(&b);
	const char *s;
	size_t len;
	while (ed_next_line(text.p, text.len, &pos, &s, &len)) {
		line++;
		if (len && s[len - 1] == '\r')
			len--;
		if (len == 0) {
			rc = end_block(&ps, &b, err);
			if (rc != ED_OK)
				goto out;
		} else {
			read_line(&ps, &b, s, len, line);
		}
	}
	rc = end_block(&ps, &b, err);
out:
	ed_buf_release(&ps.key);
	ed_buf_release(&ps.val);
	ed_buf_release(&ps.fpin);
	free(ps.names);
	return rc;
}

enum ed_code ed_apk_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT;
	enum ed_code rc;

	rc = ed_source_read_all(src, ED_APK_DB_PATH, APK_DB_MAX, &text, err);
	if (rc != ED_OK)
		goto out;
	rc = ed_apk_parse(ed_str_of(ed_buf_str(&text), text.len), ED_APK_DB_PATH, sink, err);
out:
	ed_buf_release(&text);
	return rc;
}
