/* SPDX-License-Identifier: MIT */
/* Drift between two snapshots: one merge pass over two key-ordered feeds, then renderers. */
#ifndef ED_DIFF_H
#define ED_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ed/buf.h"
#include "ed/cursor.h"
#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/store.h"

enum ed_change {
	ED_ADDED,   /* only in the candidate */
	ED_REMOVED, /* only in the reference */
	ED_CHANGED, /* in both, different */
};

/* Bits of ed_drift_entry.fields: what differs in a changed item. */
enum ed_field {
	ED_F_CONTENT = 1u << 0,    /* fingerprint of a file's bytes or link target */
	ED_F_TYPE = 1u << 1,
	ED_F_MODE = 1u << 2,
	ED_F_OWNER = 1u << 3,
	ED_F_GROUP = 1u << 4,
	ED_F_TARGET = 1u << 5,
	ED_F_VALUE = 1u << 6,      /* config value */
	ED_F_VERSION = 1u << 7,    /* package version or arch */
	ED_F_DEFINITION = 1u << 8, /* schema definition */
	ED_F_ERROR = 1u << 9,      /* one side could not be read */
	/* Data shapes (kind "data"), out of the policy's [data] tolerance: */
	ED_F_ROWS = 1u << 10,      /* a table's row count, outside the rows band */
	ED_F_NULL_FRAC = 1u << 11, /* a column's null fraction */
	ED_F_DISTINCT = 1u << 12,  /* a column's distinct ratio (or number of distinct values) */
	ED_F_STATS = 1u << 13,     /* statistics missing on one side only */
	/* Sensitive rows (kind "rows"): */
	ED_F_OVERLAP = 1u << 14,   /* staging holds production's rows beyond [data] overlap */
};
/* The highest field bit, for loops over them. */
#define ED_F_LAST ED_F_OVERLAP

/* Name of one field bit ("content", "mode", ...). */
const char *ed_field_name(unsigned bit);

/*
 * One side of a drift entry is a struct ed_side (ed/cursor.h): an owned copy
 * of what the store holds of the item.
 */

/* Whether s holds a secret (its attrs say so): its value is never shown. */
bool ed_side_secret(const struct ed_side *s);

/* For package drift: how the candidate's version stands against the reference's. */
enum ed_direction {
	ED_DIR_NONE = 0, /* not a package, or not comparable */
	ED_DIR_AHEAD,    /* candidate newer: the release under test */
	ED_DIR_BEHIND,   /* candidate older: testing is invalid */
	ED_DIR_REBUILD,  /* same version, different build (arch, checksum) */
};

/* "ahead", "behind", "rebuild"; NULL for ED_DIR_NONE. */
const char *ed_direction_name(enum ed_direction d);

struct ed_drift_entry {
	char *kind;
	char *key;
	size_t key_len;
	enum ed_change change;
	unsigned fields;      /* enum ed_field bits, for ED_CHANGED */
	const char *severity; /* "block", "warn", "info" (static) */
	char *rule;           /* why that severity: "severity package = block", owned */
	bool ignored;         /* an expected difference: counted, listed with --show-ignored */
	char *reason;         /* the expected difference's reason, owned, or NULL */
	char expires[11];     /* an expected difference's: the last day its rule applies, "" never */
	enum ed_direction direction;
	char *role;           /* the fleet role compared ("" for hosts without one), owned or NULL */
	struct ed_side ref;
	struct ed_side cand;
	struct ed_kept *kept; /* the kept texts of both sides, owned, or NULL: ed_drift_attach_kept() */
};

/* What the store kept of one side's content. */
enum ed_kept_state {
	ED_KEPT_TEXT,       /* text holds it */
	ED_KEPT_NONE,       /* not kept (too large, binary, a secret...) */
	ED_KEPT_UNREADABLE, /* kept, but it cannot be read back */
};

/* The kept texts of a file whose content changed: a unified diff shows them. */
struct ed_kept {
	enum ed_kept_state ref_state, cand_state;
	char *ref, *cand; /* owned, NUL-terminated; NULL unless ED_KEPT_TEXT */
	size_t ref_len, cand_len;
};

/* A policy rule that no longer applies because its expiry date has passed. */
struct ed_expired_rule {
	char *text;    /* the rule as written: "file /etc/motd" */
	char *expires; /* YYYY-MM-DD */
	char *reason;
};

/*
 * A host that disagrees with the majority of its role within one
 * environment: reported on its own, while the majority value is what the
 * other environment is compared against.
 */
struct ed_snowflake {
	char *env;
	char *role;
	char *host;
	char *kind;
	char *key;
	char *value;          /* the host's value (NULL when absent, or a secret) */
	char *majority_value; /* the role's majority value (NULL when absent, or a secret) */
};

struct ed_drift {
	struct ed_snapref ref;  /* the first snapshot of each side; see refs/cands for fleets */
	struct ed_snapref cand;
	struct ed_snapref *refs; /* every snapshot compared on each side (fleets), owned */
	size_t nrefs;
	struct ed_snapref *cands;
	size_t ncands;
	struct ed_drift_entry *v; /* sorted by role, then kind, then key; after
				     ed_policy_apply(), blocking first within a
				     role and kind (then warn, info, ignored);
				     empty when spill holds the entries */
	size_t n;                 /* entries, in v or in spill */
	size_t cap;
	/*
	 * The entries written out to a temporary file, in the same order, when a
	 * comparison found more than ED_DRIFT_SPILL_AT of them (NULL: every entry
	 * is in v). Read them with ed_drift_at(), which reads either.
	 */
	struct ed_drift_spill *spill;
	/*
	 * Set by ed_drift_kept_lazily(): the store that readers asking for kept
	 * texts (ed_drift_reader_init() with kept) read them from, one entry at
	 * a time; kept_ignored: for ignored entries too. Borrowed.
	 */
	struct ed_store *kept_from;
	bool kept_ignored;
	size_t added, removed, changed, ignored, blocking, warnings, infos;
	int64_t compared; /* distinct (kind, key) pairs seen */
	struct ed_expired_rule *expired; /* owned */
	size_t nexpired;
	struct ed_snowflake *snowflakes; /* owned */
	size_t nsnowflakes;
	const char *policy; /* the policy file used, or NULL (no policy: everything blocks) */
};

/*
 * Compares two complete snapshots: both item sets are read in primary-key
 * order and merged in one pass. Fills out (which the caller releases with
 * ed_drift_release(), also on failure).
 */
struct ed_policy; /* ed/policy.h */

/*
 * policy (may be NULL) is asked, for every pair of items that compare equal,
 * whether they must differ (ed_policy_must_differ()); an equal pair that
 * must differ becomes an ED_CHANGED entry without fields, but only between
 * two environments: snapshots of one environment (a host's history) share
 * their secrets by design. Judging the drift (severity, expected differences)
 * is ed_policy_apply()'s, afterwards.
 */
enum ed_code ed_diff_snapshots(struct ed_store *st, const struct ed_snapref *ref,
			       const struct ed_snapref *cand, const struct ed_policy *policy,
			       struct ed_drift *out, struct ed_err *err);
/*
 * Compares two environments (or snapshots) host set by host set: hosts are
 * grouped by role (both lists sorted by role, then host, as
 * ed_store_resolve_all returns them); within a role, the value most hosts
 * agree on is compared, and hosts that disagree with it are snowflakes. A role
 * on one side only is an entry of kind "role".
 */
enum ed_code ed_diff_sides(struct ed_store *st, const struct ed_snapref *refs, size_t nrefs,
			   const struct ed_snapref *cands, size_t ncands,
			   const struct ed_policy *policy, struct ed_drift *out, struct ed_err *err);
void ed_drift_release(struct ed_drift *d);

/*
 * Attaches to the entries of d that a report may show (the ignored ones too
 * when show_ignored) the kept texts of the files whose content changed, when
 * neither side is a secret: e->kept. Errors: ED_NOMEM (a text the store
 * cannot read back is ED_KEPT_UNREADABLE, not an error). Every text is then
 * held at once; a spilled drift gets them lazily instead
 * (ed_drift_kept_lazily()), as ed_diff_render() gives them to any drift.
 */
enum ed_code ed_drift_attach_kept(struct ed_store *st, struct ed_drift *d, bool show_ignored,
				  struct ed_err *err);

/*
 * Past this many entries a comparison writes its entries out to a temporary
 * file (d->spill) as it goes, keeping about 8 bytes per entry (its offset)
 * in memory: a drift of 500,000 entries stays in tens of MiB.
 */
#define ED_DRIFT_SPILL_AT 16384

/*
 * Moves the entries of d->v (d->n less those spilled already) to the end of
 * d->spill (made first: an unlinked file in $TMPDIR, else /tmp), in order,
 * and frees them: d->n stays, d->v is empty. Errors: ED_IO (naming the
 * temporary file's folder), ED_NOMEM; d's entries are then where they were.
 */
enum ed_code ed_drift_spill_entries(struct ed_drift *d, struct ed_err *err);

/*
 * Rewriting every entry of a spilled drift (d->v empty): _begin() opens a
 * second file, _put() writes e (whose strings the caller still owns) there
 * as the new entry i while readers still read the old ones, and _end() with
 * keep replaces the old file by the new one (every entry must have been put),
 * without keep drops the new one: d reads as before. Errors: ED_IO (naming
 * the folder), ED_NOMEM; _end() without keep never fails.
 */
enum ed_code ed_drift_spill_rewrite_begin(struct ed_drift *d, struct ed_err *err);
enum ed_code ed_drift_spill_put(struct ed_drift *d, size_t i, const struct ed_drift_entry *e,
				struct ed_err *err);
enum ed_code ed_drift_spill_rewrite_end(struct ed_drift *d, bool keep, struct ed_err *err);

/*
 * Reorders the entries of a spilled drift: entry i becomes the one at
 * order[i] (a permutation of 0..n-1). Only offsets move. ED_NOMEM: d is
 * unchanged.
 */
enum ed_code ed_drift_spill_reorder(struct ed_drift *d, const size_t *order, struct ed_err *err);

/* How many of d's entries are in d->spill (the first ones); the others are in d->v. */
size_t ed_drift_spilled(const struct ed_drift *d);

/* Frees the strings and kept texts of e and clears it. */
void ed_drift_entry_release(struct ed_drift_entry *e);

/* Frees d->spill (the file goes with it). */
void ed_drift_spill_free(struct ed_drift *d);

/*
 * Reads the entries of a drift one at a time, wherever they are (d->v or
 * d->spill), with their kept texts attached when asked. Caller-owned; an
 * entry it returns is valid until its next call or its release. A failure
 * (reading the spill file, out of memory) is kept: ed_drift_at() then returns
 * an empty entry, and ed_drift_reader_failed() tells, so a renderer checks
 * once at the end.
 */
struct ed_drift_reader {
	const struct ed_drift *d;
	bool kept;                      /* attach kept texts from d->kept_from */
	size_t at;                      /* the entry held, SIZE_MAX: none */
	const struct ed_drift_entry *cur;
	struct ed_drift_entry e;        /* an entry read from the spill, or a copy to attach to */
	struct ed_kept *k;              /* e.kept when read here, owned */
	char *str;                      /* e's strings */
	size_t str_cap;
	unsigned char *win;             /* a window of the spill file */
	size_t win_cap, win_len;
	uint64_t win_off;               /* the window's offset in the file */
	unsigned gen;                   /* of the file the window holds (rewrites replace it) */
	enum ed_code rc;                /* the first failure, ED_OK */
	struct ed_err err;
};

/* Starts a reader of d; kept: attach kept texts (when d->kept_from is set). */
void ed_drift_reader_init(struct ed_drift_reader *r, const struct ed_drift *d, bool kept);
/* Entry i (< d->n) of r's drift. */
const struct ed_drift_entry *ed_drift_at(struct ed_drift_reader *r, size_t i);
/* Whether a read failed: then *err receives why, and the code is returned (else ED_OK). */
enum ed_code ed_drift_reader_failed(const struct ed_drift_reader *r, struct ed_err *err);
void ed_drift_reader_release(struct ed_drift_reader *r);

/*
 * Lets readers that ask for them attach the kept texts of each entry as they
 * read it, from st (which must outlive the rendering; see
 * ed_drift_attach_kept() for which entries get them). Reads nothing yet.
 */
void ed_drift_kept_lazily(struct ed_drift *d, struct ed_store *st, bool show_ignored);

/*
 * The kept texts of entry e when a report may show them (*out NULL when it
 * shows none): what ed_drift_attach_kept() attaches. Errors: ED_NOMEM.
 */
enum ed_code ed_drift_kept_fetch(struct ed_store *st, const struct ed_drift_entry *e,
				 struct ed_kept **out, struct ed_err *err);
/* Frees k. */
void ed_kept_free(struct ed_kept *k);

/*
 * Records d in the store as a drift run of command (runs_v, drift_v) at time
 * at (ISO 8601 UTC): ed_store_record_run() with d's entries. *run_id (may be
 * NULL) receives the run's id.
 */
enum ed_code ed_drift_record(struct ed_store *st, const char *command, const char *at,
			     const struct ed_drift *d, int64_t *run_id, struct ed_err *err);

/* Options shared by every report format. */
struct ed_render_opts {
	bool color;        /* ANSI colour (terminals only) */
	bool show_ignored; /* list ignored drift too (it is always counted) */
	bool diffs;        /* text: unified diffs of the kept texts under their entries (the
			      other formats that show them always do); attach them first */
	bool hosts;        /* text, Markdown, HTML: list every host of a side of several; else
			      a side says how many hosts it has per role (JSON always lists) */
	/*
	 * html only, for the dashboard of 'envdrift serve' (web/): the page's
	 * header and main part without the document around them (no inline
	 * style or script: the server serves ed_report_html_css and
	 * ed_report_html_js as files), the filters a GET form to html_form
	 * keeping the html_hidden name/value pairs, and only the entries the
	 * filters select listed (counts stay those of the whole drift).
	 */
	bool html_body;
	const char *html_form;
	const char *const *html_hidden; /* 2 * nhtml_hidden strings: name, value */
	size_t nhtml_hidden;
	const char *const *only_kinds;  /* list only these kinds (none: every kind) */
	size_t nonly_kinds;
	const char *const *only_sevs;   /* only these: block, warn, info, ignored (none: all) */
	size_t nonly_sevs;
	const char *query;              /* only entries whose key or description holds it
					   (ASCII case ignored); NULL or "": all */
};

/* The HTML report's style sheet and script (without <style>/<script>), for web/ to serve. */
extern const char ed_report_html_css[];
extern const char ed_report_html_js[];

/*
 * A report format: a name and a renderer writing to out. A renderer is a
 * function of the drift it is given: it never reads the store itself (kept
 * texts come through its readers, ed_drift_at()), and reads the entries
 * one at a time, never d->v directly, which is empty when d is spilled.
 */
struct ed_report_ops {
	const char *name;
	enum ed_code (*render)(FILE *out, const struct ed_drift *d,
			       const struct ed_render_opts *opts, struct ed_err *err);
	bool kept_content; /* shows kept texts (its readers ask for them), as any format
			      does when opts->diffs */
};

/*
 * Appends a one-line human description of what changed ("mode 0755 -> 0644",
 * "version 1.2 -> 1.3", "value 10 -> 5"; empty for added/removed items
 * without a value). Secrets never show a value. Returns 0 or -1 (no memory).
 */
int ed_drift_describe(const struct ed_drift_entry *e, struct ed_buf *out);

/*
 * For a changed entry of kind "data": appends what is out of tolerance as a
 * person would say it ("rows ~41,000,000 -> ~820 (1/50,000 of the
 * reference)", "null fraction 0.02 -> 0.97"), from the two sides' shapes.
 * For an added or removed entry (a database whose shape one side lacks, key
 * "ENGINE:NAME"): "data shape not compared: the candidate was collected
 * without --data-shape (200 tables, 1,600 columns shaped in the reference)".
 * Returns 0 or -1 (no memory).
 */
int ed_data_describe(const struct ed_drift_entry *e, struct ed_buf *out);

/*
 * For an entry of kind "rows": appends the estimated share of candidate rows
 * equal to reference rows, with its 95% interval and the sample it rests on
 * ("about 5.1% (4.0–6.4%) of candidate rows equal reference rows, 64 of
 * 1,250 sampled"). For an added or removed entry, the check that could not
 * run: "not checked: the candidate has no sample of these rows (...)".
 * Returns 0 or -1 (no memory).
 */
int ed_rows_describe(const struct ed_drift_entry *e, struct ed_buf *out);

struct ed_overlap;
/*
 * The overlap of an entry of kind "rows", from its two sides' samples: 1,
 * 0 when a side holds no sample (out zeroed), -1 out of memory.
 */
int ed_rows_overlap_of(const struct ed_drift_entry *e, struct ed_overlap *out);

/* "added", "removed", "changed". */
const char *ed_change_name(enum ed_change c);

/* The format called name, or NULL. */
const struct ed_report_ops *ed_report_find(const char *name);
/* "text, json, junit, sarif, markdown, html": the names, for messages and --help. */
const char *ed_report_names(void);

/*
 * What 'envdrift diff REF CAND' compares, for the CLI and the web service
 * alike: resolves ref and cand ("@ID" or an environment: every host's latest
 * complete snapshot), compares them (two snapshots directly, else role by
 * role: ed_diff_sides()) and judges the drift by pol. d receives it (the
 * caller releases it with ed_drift_release(), also on failure); d->refs and
 * d->cands hold the snapshots compared. Errors name the store and the side.
 */
enum ed_code ed_diff_compare(struct ed_store *st, const char *ref, const char *cand,
			     const struct ed_policy *pol, struct ed_drift *d, struct ed_err *err);

/*
 * Writes d as report to out; when the format or opts->diffs asks for kept
 * texts, the renderer's readers fetch each entry's as they reach it
 * (ed_drift_kept_lazily(), in one read transaction), never all at once.
 * The one renderer behind 'envdrift diff --format' and GET /api/v1/diff, so
 * both write the same bytes.
 */
enum ed_code ed_diff_render(FILE *out, struct ed_store *st, const struct ed_report_ops *report,
			    struct ed_drift *d, const struct ed_render_opts *opts,
			    struct ed_err *err);

extern const struct ed_report_ops ed_report_text;
extern const struct ed_report_ops ed_report_json;
extern const struct ed_report_ops ed_report_junit;
extern const struct ed_report_ops ed_report_sarif;
extern const struct ed_report_ops ed_report_markdown;
extern const struct ed_report_ops ed_report_html;

#endif
