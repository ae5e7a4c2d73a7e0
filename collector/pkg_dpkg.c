/* SPDX-License-Identifier: MIT */
/*
 * dpkg: one package item per installed package in /var/lib/dpkg/status, keyed
 * "dpkg:NAME:ARCH". The parser reads bytes and a length, and never trusts them.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "pkg_common.h"
#include "ed/hash.h"
#include "ed/item.h"

#define DPKG_STATUS_PATH "/var/lib/dpkg/status"
/* The largest status file read; a real one is about 1 MiB per 1,000 packages. */
#define DPKG_STATUS_MAX ((size_t)256 * 1024 * 1024)
/* Warnings reported per file; a binary or badly damaged file would flood the sink otherwise. */
#define DPKG_MAX_WARNINGS 100
/* Longest package name quoted in a warning, in bytes. */
#define DPKG_SHOW_MAX 200

/* The fields this collector reads; every other field is checked for form only. */
enum field { F_PACKAGE, F_STATUS, F_ARCH, F_VERSION, F_COUNT };

static const char *const field_names[F_COUNT] = {
	[F_PACKAGE] = "Package",
	[F_STATUS] = "Status",
	[F_ARCH] = "Architecture",
	[F_VERSION] = "Version",
};

/* The stanza being read. Values are slices of the input text. */
struct stanza {
	size_t first_line;          /* 1-based line of its first line; 0 when none is open */
	bool bad;                   /* a problem was reported: skip to the next blank line */
	bool any_field;             /* a "Field: value" line has been seen */
	int last;                   /* enum field of the latest field line, or -1 for another field */
	struct ed_str f[F_COUNT];   /* trimmed values of the fields read */
	bool seen[F_COUNT];
};

/* One emitted package, to refuse a second stanza for the same name and architecture. */
struct seen_pkg {
	uint64_t hash;      /* of the key; 0 marks an empty slot */
	struct ed_str name; /* slices of the input text */
	struct ed_str arch;
	size_t line;        /* first line of its stanza */
};

struct parser {
	const char *origin;  /* where the text came from, for warnings */
	struct ed_sink *sink;
	size_t nwarnings;
	struct ed_buf key;   /* "dpkg:NAME:ARCH" */
	struct ed_buf value; /* the version */
	struct ed_buf fpin;  /* "VERSION\nARCH", the fingerprinted text */
	struct seen_pkg *pkgs; /* open-addressing hash set, cap a power of two */
	size_t npkgs;
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
	ed_sink_vwarn_capped(ps->sink, &ps->nwarnings, DPKG_MAX_WARNINGS, where, true, fmt, ap);
	va_end(ap);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A byte that may not appear in a name, version or architecture (controls, space, DEL). */
static bool is_bad_byte(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

static bool str_eq(struct ed_str a, struct ed_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* How many bytes of a valid UTF-8 string to quote: at most DPKG_SHOW_MAX, whole characters. */
static int show_len(struct ed_str s)
{
	size_t n = s.len;
	if (n > DPKG_SHOW_MAX) {
		n = DPKG_SHOW_MAX;
		while (n && ((unsigned char)s.p[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

static void stanza_reset(struct stanza *st)
{
	memset(st, 0, sizeof(*st));
	st->last = -1;
}

/*
 * Checks one value for the key: non-empty, valid UTF-8, no controls or spaces,
 * and (for the name and the architecture) no ':' that would make the key
 * ambiguous. Warns and returns false when it is not fit.
 */
static bool value_ok(struct parser *ps, const struct stanza *st, enum field f, bool colon_ok)
{
	struct ed_str v = st->f[f];
	const char *what = field_names[f];

	if (!ed_utf8_valid(v.p, v.len)) {
		warn_at(ps, st->first_line, "field '%s' is not valid UTF-8", what);
		return false;
	}
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (is_bad_byte(c) || (c == ':' && !colon_ok)) {
			warn_at(ps, st->first_line, "field '%s' holds a character not allowed there",
				what);
			return false;
		}
	}
	return true;
}

/* Splits Status into its three words; false unless there are exactly three. */
static bool status_words(struct ed_str s, struct ed_str w[3])
{
	size_t i = 0, n = 0;
	while (i < s.len) {
		while (i < s.len && is_blank(s.p[i]))
			i++;
		if (i == s.len)
			break;
		size_t start = i;
		while (i < s.len && !is_blank(s.p[i]))
			i++;
		if (n == 3)
			return false;
		w[n++] = ed_str_of(s.p + start, i - start);
	}
	return n == 3;
}

static uint64_t key_hash(const struct ed_buf *key)
{
	struct ed_fp fp;
	uint64_t h = 0;
	ed_fp_of(key->p, key->len, &fp);
	for (int i = 0; i < 8; i++)
		h = (h << 8) | fp.b[i];
	return h ? h : 1;
}

/* The slot holding this package, or the empty slot where it would go. */
static struct seen_pkg *seen_slot(struct seen_pkg *pkgs, size_t cap, uint64_t h,
				  struct ed_str name, struct ed_str arch)
{
	size_t i = (size_t)h & (cap - 1);
	for (;;) {
		struct seen_pkg *p = &pkgs[i];
		if (!p->hash || (p->hash == h && str_eq(p->name, name) && str_eq(p->arch, arch)))
			return p;
		i = (i + 1) & (cap - 1);
	}
}

/* Makes room for one more package in the set; -1 when out of memory. */
static int seen_reserve(struct parser *ps)
{
	if (ps->cap && (ps->npkgs + 1) * 2 <= ps->cap)
		return 0;
	size_t cap = ps->cap ? ps->cap * 2 : 1024;
	if (cap > SIZE_MAX / sizeof(struct seen_pkg))
		return -1;
	struct seen_pkg *pkgs = calloc(cap, sizeof(*pkgs));
	if (!pkgs)
		return -1;
	for (size_t i = 0; i < ps->cap; i++) {
		struct seen_pkg *p = &ps->pkgs[i];
		if (p->hash)
			*seen_slot(pkgs, cap, p->hash, p->name, p->arch) = *p;
	}
	free(ps->pkgs);
	ps->pkgs = pkgs;
	ps->cap = cap;
	return 0;
}

static enum ed_code emit_package(struct parser *ps, const struct stanza *st, struct ed_err *err)
{
	struct ed_str name = st->f[F_PACKAGE], arch = st->f[F_ARCH], ver = st->f[F_VERSION];
	enum ed_code rc = ED_OK;

	ed_buf_reset(&ps->key);
	ed_buf_reset(&ps->value);
	ed_buf_reset(&ps->fpin);
	if (ed_buf_adds(&ps->key, "dpkg:") || ed_buf_add(&ps->key, name.p, name.len) ||
	    ed_buf_addc(&ps->key, ':') || ed_buf_add(&ps->key, arch.p, arch.len) ||
	    ed_buf_add(&ps->value, ver.p, ver.len) || ed_buf_add(&ps->fpin, ver.p, ver.len) ||
	    ed_buf_addc(&ps->fpin, '\n') || ed_buf_add(&ps->fpin, arch.p, arch.len) ||
	    seen_reserve(ps)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", ps->origin);
		goto out;
	}

	uint64_t h = key_hash(&ps->key);
	struct seen_pkg *slot = seen_slot(ps->pkgs, ps->cap, h, name, arch);
	if (slot->hash) {
		warn_at(ps, st->first_line, "package '%.*s' for '%.*s' already listed at line %zu",
			show_len(name), name.p, show_len(arch), arch.p, slot->line);
		goto out;
	}

	/* Values were checked to be valid UTF-8, so json_pack fails only for memory. */
	rc = ed_pkg_emit(ps->sink, ps->origin, ps->key.p, ps->key.len, ps->value.p, ps->fpin.p,
			 ps->fpin.len,
			 json_pack("{s:s, s:s%}", "manager", "dpkg", "arch", arch.p, arch.len), err);
	if (rc != ED_OK)
		goto out;
	slot->hash = h;
	slot->name = name;
	slot->arch = arch;
	slot->line = st->first_line;
	ps->npkgs++;
out:
	return rc;
}

/* Ends the open stanza (if any): emits its package when it is installed and well formed. */
static enum ed_code end_stanza(struct parser *ps, struct stanza *st, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	size_t line = st->first_line;
	struct ed_str w[3];

	if (!line || st->bad)
		goto out;
	if (!st->seen[F_PACKAGE] || !st->f[F_PACKAGE].len) {
		warn_at(ps, line, "stanza has no Package field");
		goto out;
	}
	if (!value_ok(ps, st, F_PACKAGE, false))
		goto out;

	struct ed_str name = st->f[F_PACKAGE];
	if (!st->seen[F_STATUS]) {
		warn_at(ps, line, "package '%.*s' has no Status field (file cut short?)",
			show_len(name), name.p);
		goto out;
	}
	if (!status_words(st->f[F_STATUS], w)) {
		warn_at(ps, line, "package '%.*s' has a Status that is not three words",
			show_len(name), name.p);
		goto out;
	}
	/*
	 * Installed: "installed", and the two trigger states a package passes
	 * through during an apt run with its files in place. config-files,
	 * unpacked, half-configured, half-installed and not-installed are not.
	 */
	if (!str_eq(w[2], ed_str_of("installed", 9)) &&
	    !str_eq(w[2], ed_str_of("triggers-pending", 16)) &&
	    !str_eq(w[2], ed_str_of("triggers-awaited", 16)))
		goto out;

	for (enum field f = F_ARCH; f <= F_VERSION; f++) {
		if (!st->seen[f] || !st->f[f].len) {
			warn_at(ps, line, "package '%.*s' has no %s field (file cut short?)",
				show_len(name), name.p, field_names[f]);
			goto out;
		}
	}
	if (!value_ok(ps, st, F_VERSION, true) || !value_ok(ps, st, F_ARCH, false))
		goto out;
	rc = emit_package(ps, st, err);
out:
	stanza_reset(st);
	return rc;
}

/* Reads one line (without its line ending; blank: only spaces and tabs) into the stanza. */
static void read_line(struct parser *ps, struct stanza *st, const char *s, size_t len,
		      bool blank, size_t line)
{
	if (!st->first_line)
		st->first_line = line;
	if (st->bad)
		return;
	if (memchr(s, '\0', len)) {
		warn_at(ps, line, "line holds a NUL byte");
		st->bad = true;
		return;
	}
	if (is_blank(s[0])) {
		/* A read field may not go on, unless with blanks alone: dpkg trims those. */
		if (!st->any_field) {
			warn_at(ps, line, "continuation line before any field");
			st->bad = true;
		} else if (st->last >= 0 && !blank) {
			warn_at(ps, line, "field '%s' continues on a second line",
				field_names[st->last]);
			st->bad = true;
		}
		return;
	}

	const char *colon = memchr(s, ':', len);
	size_t nlen = colon ? (size_t)(colon - s) : 0;
	bool good = nlen > 0;
	for (size_t i = 0; good && i < nlen; i++)
		good = !is_bad_byte((unsigned char)s[i]) && (unsigned char)s[i] < 0x80;
	if (!good) {
		warn_at(ps, line, "line is not 'Field: value' nor a continuation");
		st->bad = true;
		return;
	}

	st->any_field = true;
	st->last = -1;
	for (int f = 0; f < F_COUNT; f++) {
		if (!ed_pkg_name_is(s, nlen, field_names[f]))
			continue;
		if (st->seen[f]) {
			warn_at(ps, line, "duplicate field '%s'", field_names[f]);
			st->bad = true;
			return;
		}
		st->seen[f] = true;
		st->f[f] = ed_pkg_trim(colon + 1, len - nlen - 1);
		st->last = f;
		break;
	}
}

enum ed_code ed_dpkg_parse(struct ed_str text, const char *origin, struct ed_sink *sink,
			   struct ed_err *err)
{
	struct parser ps = {
		.origin = origin ? origin : "(dpkg status)",
		.sink = sink,
		.key = ED_BUF_INIT,
		.value = ED_BUF_INIT,
		.fpin = ED_BUF_INIT,
	};
	struct stanza st;
	enum ed_code rc = ED_OK;
	size_t pos = 0, line = 0;

	stanza_reset(&st);
	const char *s;
	size_t len;
	while (ed_next_line(text.p, text.len, &pos, &s, &len)) {
		line++;
		if (len && s[len - 1] == '\r')
			len--;

		bool blank = true;
		for (size_t i = 0; blank && i < len; i++)
			blank = is_blank(s[i]);
		if (len == 0) {
			rc = end_stanza(&ps, &st, err);
			if (rc != ED_OK)
				goto out;
		} else if (!blank || st.first_line) {
			/* Spaces alone between stanzas are ignored, as dpkg does. */
			read_line(&ps, &st, s, len, blank, line);
		}
	}
	rc = end_stanza(&ps, &st, err);
out:
	ed_buf_release(&ps.key);
	ed_buf_release(&ps.value);
	ed_buf_release(&ps.fpin);
	free(ps.pkgs);
	return rc;
}

enum ed_code ed_dpkg_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT;
	enum ed_code rc;

	rc = ed_source_read_all(src, DPKG_STATUS_PATH, DPKG_STATUS_MAX, &text, err);
	if (rc != ED_OK)
		goto out;
	rc = ed_dpkg_parse(ed_str_of(ed_buf_str(&text), text.len), DPKG_STATUS_PATH, sink, err);
out:
	ed_buf_release(&text);
	return rc;
}
