/* SPDX-License-Identifier: MIT */
/*
 * The field codecs of envdrift.snapshot/1 that the writer and the reader
 * share. Private to common/: it speaks jansson's types.
 */
#ifndef ED_SNAPDOC_CODEC_H
#define ED_SNAPDOC_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"

/*
 * Sets o[f] to the len bytes at s when they are UTF-8 without a NUL, else
 * o[f + "_b64"] to their base64 (tmp is scratch space, reset here). Returns
 * 0, or -1 when out of memory.
 */
int ed_snapdoc_set_bytes(json_t *o, const char *f, const char *s, size_t len, struct ed_buf *tmp);

/* Sets o[f] to fp as 32 lower-case hex digits. Returns 0, or -1 when out of memory. */
int ed_snapdoc_set_fp(json_t *o, const char *f, const struct ed_fp *fp);

/* Reads 32 hex digits (either case) into fp; false for anything else. */
bool ed_snapdoc_fp_parse(const char *s, size_t len, struct ed_fp *fp);

/*
 * The fast path of the reader (snapdoc_fast.c): reads the item object at the
 * start of p[0..n) when it is written the plain way envdrift writes it (known
 * fields once each, strings of printable ASCII without escapes, integers, a
 * compact attrs object) and passes every check of the general path. Then *it
 * holds it, its strings NUL-terminated in sb (reset here), attrs its compact
 * text (with want_attrs; else "{}" when present), and the result is the
 * length of its JSON text (up to its closing brace). Anything else, valid or
 * not, and an object that does not end within n bytes give 0: the general
 * path (jansson) reads the item or names its problem.
 */
size_t ed_snapdoc_fast_item(const char *p, size_t n, struct ed_buf *sb, bool want_attrs,
			    struct ed_item *it);

/*
 * For tests only: true turns the fast path off on this thread, so that a
 * test can read a document both ways and compare (the fuzz target does).
 */
extern _Thread_local bool ed_snapdoc_fast_off;

/*
 * Whether jansson failed an allocation on this thread since the last
 * ed_json_oom_take() (which clears it). Only counts once
 * ed_snapdoc_global_init() installed the allocator.
 */
bool ed_json_oom_take(void);

/* The item kinds a document may hold (every reader checks against this one list). */
extern const char *const ed_snapdoc_kinds[];
extern const size_t ed_snapdoc_nkinds;

#endif
