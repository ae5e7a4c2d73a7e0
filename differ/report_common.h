/* SPDX-License-Identifier: MIT */
/* What several report renderers share: drift counted per kind, JSON strings of bytes. */
#ifndef ED_DIFFER_REPORT_COMMON_H
#define ED_DIFFER_REPORT_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ed/diff.h"

/*
 * A JSON string of arbitrary bytes that round-trips, as the JSON and SARIF
 * reports write keys: invalid UTF-8 escaped (ed_buf_add_utf8_escaped), and
 * *escaped set then. NULL when out of memory.
 */
json_t *ed_json_bytes(const char *s, size_t len, bool *escaped);

/* The kinds that always get a row: config, file, package, schema, system. */
#define ED_NKINDS 6

struct ed_kstat {
	const char *kind;
	size_t added, removed, changed, blocking, warnings, infos; /* not ignored */
	size_t ignored;
	size_t listed; /* entries shown (ignored ones only with show_ignored) */
};

/* Whether e blocks (no severity counts as block). */
bool ed_entry_blocks(const struct ed_drift_entry *e);

/*
 * Fills ks (room for d->n + ED_NKINDS) with one row per kind: the fixed kinds
 * and any other present, by name. Entries need not be grouped by kind (a
 * fleet's are ordered by role first). Returns the number of rows.
 */
size_t ed_kind_stats(const struct ed_drift *d, bool show_ignored, struct ed_kstat *ks);

/*
 * The sum of the nk rows of ks, as kind "total"; its ignored count is at
 * least d->ignored, which also counts ignored drift the differ kept no
 * entry for.
 */
struct ed_kstat ed_kind_total(const struct ed_drift *d, const struct ed_kstat *ks, size_t nk);

#endif
