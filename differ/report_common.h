/* SPDX-License-Identifier: MIT */
/*
 * What several report renderers share: drift counted per kind, JSON strings of
 * bytes, unified diffs of kept texts (report_udiff.c).
 */
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
	char *owned;   /* kind, when it is not one of the fixed kinds' names */
};

/*
 * What a report says of a drift without a policy (d->policy NULL): only an
 * environment's own history (report) is compared without one, and nothing
 * there is judged.
 */
#define ED_NO_POLICY "no policy applies to an environment's own history"

/* Whether both sides are one environment (its history): "X differs from X" would say nothing. */
bool ed_drift_same_env(const struct ed_drift *d);

/* Whether e blocks (no severity counts as block). */
bool ed_entry_blocks(const struct ed_drift_entry *e);

/*
 * Makes *ks (*nk rows; free with ed_kind_stats_free()) one row per kind: the
 * fixed kinds and any other present, by name. Entries need not be grouped by
 * kind (a fleet's are ordered by role first). Errors: ED_NOMEM, or reading a
 * spilled drift's entries.
 */
enum ed_code ed_kind_stats(const struct ed_drift *d, bool show_ignored, struct ed_kstat **ks,
			   size_t *nk, struct ed_err *err);
void ed_kind_stats_free(struct ed_kstat *ks, size_t nk);

/*
 * The sum of the nk rows of ks, as kind "total"; its ignored count is at
 * least d->ignored, which also counts ignored drift the differ kept no
 * entry for.
 */
struct ed_kstat ed_kind_total(const struct ed_drift *d, const struct ed_kstat *ks, size_t nk);

/* What a line of a kept-text diff is (ed_kept_udiff()). */
enum ed_udiff_kind {
	ED_UDIFF_NOTE,  /* no diff, and why: "no diff: the content of staging was not kept" */
	ED_UDIFF_BEGIN, /* a diff follows; len is its number of changed lines, s NULL */
	ED_UDIFF_HEAD,  /* "--- production KEY", then "+++ staging KEY" */
	ED_UDIFF_HUNK,  /* "@@ -1,7 +1,8 @@" */
	ED_UDIFF_CTX,   /* a line both texts have, without its sign and newline */
	ED_UDIFF_DEL,   /* a line of the reference's text only */
	ED_UDIFF_ADD,   /* a line of the candidate's text only */
	ED_UDIFF_NOEOL, /* "\ No newline at end of file", after the line it is about */
	ED_UDIFF_END,   /* the diff is complete; s NULL */
};

/*
 * Receives one line of a diff: raw bytes s[0..len) (not NUL-terminated, not
 * yet made safe to show: a renderer shows them its own way), valid only
 * during the call. Returns 0 to go on, nonzero to stop.
 */
typedef int (*ed_udiff_fn)(void *arg, enum ed_udiff_kind kind, const char *s, size_t len);

/*
 * For an entry with kept texts attached (ed_drift_attach_kept(), e->kept),
 * calls fn with either one ED_UDIFF_NOTE, or ED_UDIFF_BEGIN, the two heads,
 * the hunks (three lines of context) and ED_UDIFF_END; for an entry without
 * kept texts, never. The same diff in every report format: the texts were
 * masked when collected, so showing them shows no secret. Returns 0, -1 when
 * out of memory, or what fn returned to stop.
 */
int ed_kept_udiff(const struct ed_drift *d, const struct ed_drift_entry *e, ed_udiff_fn fn,
		  void *arg);

/*
 * How a report names a side of n > 1 hosts (v, one snapshot each) by their
 * roles, so that its header stays one line at 1,000 hosts: "4 hosts in 2
 * roles: web 3, db 1" (most hosts first, then by name), or "2 hosts, no
 * role". put receives it in pieces, each either our own text or a foreign
 * name (foreign true) that the format escapes. The hosts themselves are
 * listed with --hosts, and always in JSON. Returns -1 when out of memory
 * (put has then received nothing), else 0.
 */
int ed_side_roles(const struct ed_snapref *v, size_t n,
		  void (*put)(void *ctx, const char *s, bool foreign), void *ctx);

/* Snowflake lines the text and Markdown reports show at most (JSON lists all). */
#define ED_REPORT_MAX_SNOWFLAKES 50

#endif
