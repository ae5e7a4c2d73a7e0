/* SPDX-License-Identifier: MIT */
/*
 * Policies: how to judge drift. Expected differences (with a reason and an
 * optional expiry), severities, items that must differ between the two
 * sides, and the severity of package direction. From an INI file people
 * write by hand (parsed with libinih) on top of the built-in default
 * (policies/default.ini). See docs/policy.md.
 */
#ifndef ED_POLICY_H
#define ED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ed/buf.h"
#include "ed/diff.h"
#include "ed/err.h"
#include "ed/ini.h"

/*
 * The longest policy line accepted, in bytes, not counting its "\n" or
 * "\r\n": libinih's (see ed/ini.h), as for profiles. Longer lines are
 * refused, never truncated.
 */
#define ED_POLICY_MAX_LINE ED_INI_MAX_LINE

/* Most rules of one kind ([expect] sections, severity lines, must-differ lines) a policy holds. */
#define ED_POLICY_MAX_RULES 4096

/* Severity levels, most severe first. */
enum ed_policy_level {
	ED_LEVEL_BLOCK = 0, /* fails the gate */
	ED_LEVEL_WARN,      /* reported, does not fail the gate */
	ED_LEVEL_INFO,      /* reported for information */
};

/* "block", "warn", "info" (static strings, what ed_drift_entry.severity holds); "?" otherwise. */
const char *ed_policy_level_name(enum ed_policy_level l);

/*
 * Where a rule comes from: origin is the file name given to
 * ed_policy_parse() (owned by the rule), or NULL for the built-in default;
 * line is 1-based, or 0 for a built-in fallback that no line states.
 */
struct ed_policy_where {
	char *origin;
	int line;
};

/* [expect "KIND GLOB"]: a difference that is expected, so drift it matches is ignored. */
struct ed_policy_expect {
	const char *kind;     /* static: ED_KIND_FILE, ED_KIND_CONFIG, ... */
	char *glob;           /* owned; over the item key (see ed_policy_key_matches()) */
	char *reason;         /* owned, never empty */
	char expires[11];     /* "YYYY-MM-DD", the last day (UTC) it applies; "" never expires */
	unsigned fields;      /* enum ed_field bits every differing field must be in; 0 = any */
	unsigned changes;     /* bits 1u << enum ed_change; 0 = any */
	struct ed_policy_where where; /* the [expect] header line */
};

/* [severity] "KIND = LEVEL" (glob NULL) or "KIND GLOB = LEVEL". */
struct ed_policy_severity {
	const char *kind; /* static */
	char *glob;       /* owned, or NULL for the whole kind */
	enum ed_policy_level level;
	struct ed_policy_where where;
};

/* [must-differ] "KIND GLOB = yes|no". */
struct ed_policy_differ {
	const char *kind; /* static */
	char *glob;       /* owned */
	bool must;        /* yes: equal values are blocking drift; no: they are not */
	struct ed_policy_where where;
};

/* A single setting: [packages] ahead/behind/rebuild, [must-differ] secrets. */
struct ed_policy_setting {
	int value;  /* enum ed_policy_level, or a bool for secrets */
	struct ed_policy_where where;
};

/* [data]: what a data shape may differ by before it is drift. */
enum ed_data_measure {
	ED_DATA_ROWS,      /* rows = LO..HI: candidate rows / reference rows within the band */
	ED_DATA_NULL_FRAC, /* null_frac = D: absolute difference of the null fractions */
	ED_DATA_DISTINCT,  /* distinct = D: relative difference of the distinct ratios */
	ED_DATA_OVERLAP,   /* overlap = D: share of candidate rows equal to reference rows */
	ED_DATA_NMEASURES,
};

/* "rows", "null_frac", "distinct", "overlap". */
const char *ed_data_measure_name(enum ed_data_measure m);

/* One tolerance: the default of a measure, or "MEASURE[GLOB] = ..." for some objects. */
struct ed_policy_tolerance {
	enum ed_data_measure measure;
	char *glob;   /* owned; over the OBJECT of the key (public.audit_*); NULL: the default */
	bool ignore;  /* "ignore": never compared */
	double lo;    /* rows: the lowest ratio allowed */
	double hi;    /* rows: the highest ratio; the others: the largest difference */
	struct ed_policy_where where;
};

/*
 * A policy. Everything is owned by it and freed by ed_policy_release().
 * Rules are kept in the order they were read: a later file's rules come
 * after the default's, and where two rules are equally specific the later
 * one wins.
 */
struct ed_policy {
	struct ed_policy_expect *expects;
	size_t nexpects;
	struct ed_policy_severity *severities;
	size_t nseverities;
	struct ed_policy_differ *differs;
	size_t ndiffers;
	struct ed_policy_setting secrets; /* must secret items differ? (value: 0 or 1) */
	struct ed_policy_setting ahead;   /* severity of a package newer in the candidate */
	struct ed_policy_setting behind;  /* ... older in the candidate */
	struct ed_policy_setting rebuild; /* ... same version, different build */
	struct ed_policy_tolerance data[ED_DATA_NMEASURES]; /* [data] defaults (glob NULL) */
	struct ed_policy_tolerance *tolerances; /* [data] "MEASURE[GLOB] = ..." overrides */
	size_t ntolerances;
};

/*
 * Fills p with the built-in default policy: the text of ed_policy_default_text()
 * (policies/default.ini, which a unit test keeps identical), read with origin
 * NULL so its rules report as "(default)". p must be zeroed or hold a policy
 * (released first). Returns ED_OK, or ED_NOMEM leaving p as it was.
 */
enum ed_code ed_policy_default(struct ed_policy *p, struct ed_err *err);

/* The built-in default policy's text (static, NUL-terminated): policies/default.ini. */
const char *ed_policy_default_text(void);

/*
 * Fills p with the fallbacks only, which apply when no line of any policy
 * says otherwise (what "[policy] defaults = no" starts from): severities
 * schema and package block, config, file and system warn; packages ahead
 * info, behind block, rebuild warn; secrets must differ; no expected
 * differences and no must-differ lines. p must be zeroed or hold a policy
 * (released first). Cannot fail.
 */
void ed_policy_init(struct ed_policy *p);

/*
 * Parses a policy (text of text.len bytes read from origin, which names it in
 * messages and in drift rules; NULL means the built-in default) on top of
 * what p holds, normally the default: rules are added after p's. In one file
 * an [expect] rule, a severity line or a must-differ line for the same KIND
 * GLOB may be given once; one from an earlier file (the default) is replaced.
 * "[policy] defaults = no", before the file's first rule, drops everything p
 * held first (ed_policy_init()).
 *
 * Returns ED_OK; ED_PARSE with "ORIGIN:LINE: problem" in err for an unknown
 * section, key, kind, field, change or level, a bad date, a glob that can
 * never match a key of its kind, an [expect] without a reason, a setting
 * given twice, more than ED_POLICY_MAX_RULES rules, a line longer than
 * ED_POLICY_MAX_LINE (libinih would truncate it), a control character or
 * invalid UTF-8, or a line libinih cannot parse; ED_NOMEM. On any error p is
 * left exactly as it was (the text is parsed into a copy, swapped in on
 * success).
 *
 * libinih's runtime switches (Debian exports them as globals) must keep their
 * defaults.
 */
enum ed_code ed_policy_parse(struct ed_str text, const char *origin, struct ed_policy *p,
			     struct ed_err *err);

/*
 * Fills p with the default and reads the file at path (on this machine; at
 * most 4 MiB) on top of it; path NULL gives the default alone. On error p
 * holds the default (or is zeroed after ED_NOMEM); err names the file:
 * ED_NOTFOUND, ED_IO, ED_TOOBIG, ED_PARSE, ED_NOMEM.
 */
enum ed_code ed_policy_load(const char *path, struct ed_policy *p, struct ed_err *err);

/* Deep copy of src into dst (zeroed or released). ED_NOMEM leaves dst zeroed. */
enum ed_code ed_policy_copy(struct ed_policy *dst, const struct ed_policy *src,
			    struct ed_err *err);

/* Frees everything p owns and zeroes it; p may then be reused. NULL is ignored. */
void ed_policy_release(struct ed_policy *p);

/*
 * Does the item key (NUL-terminated) of kind match glob? fnmatch(3) without
 * FNM_PATHNAME or FNM_PERIOD ('*' also matches '/' and a leading dot),
 * case-sensitive, over the whole key; except for kind "file", where a glob
 * without '/' is matched against the base name only, as profiles do
 * (ed_glob_path_matches()).
 */
bool ed_policy_key_matches(const char *kind, const char *glob, const char *key);

/*
 * The must-differ hook, for the merge: must the item (kind, key) differ
 * between reference and candidate, so that equal fingerprints are blocking
 * drift? key is NUL-terminated at key_len; secret tells whether either side's
 * attributes mark the item secret ("secret":true). The last matching
 * [must-differ] "KIND GLOB" line decides; when none matches, a secret item
 * must differ if "secrets = yes" (the default), any other item need not.
 * p NULL: no policy, false.
 *
 * The merge asks only about pairs that hold something to share (not
 * directories, links, empty files, or items a side could not read). For each
 * equal pair that must differ it appends an entry with change ED_CHANGED and
 * fields 0 (nothing differs: that is the finding), which ed_policy_apply()
 * recognises and makes blocking. Reports never show a secret's value.
 */
bool ed_policy_must_differ(const struct ed_policy *p, const char *kind, const char *key,
			   size_t key_len, bool secret);

/*
 * Can ed_policy_must_differ() say yes for an item that is not secret (some
 * must-differ line says "yes")? If not, the merge need only ask about equal
 * pairs whose attributes mark a secret. p NULL: false.
 */
bool ed_policy_must_differ_plain(const struct ed_policy *p);

/*
 * Judges every entry of d by p, as of today ("YYYY-MM-DD", UTC; NULL: the
 * current UTC date):
 *  - entry->direction for package drift with both versions (ed_version_cmp()
 *    with the manager named before the key's first ':');
 *  - entry->severity and entry->rule, the line that decided: the last
 *    matching "KIND GLOB" severity line; else, for a package with a direction,
 *    [packages]; else the last "KIND" line (or the fallback). A must-differ
 *    entry (ED_CHANGED, fields 0) is always "block";
 *  - entry->ignored and entry->reason from the last matching [expect] rule
 *    that has not expired (must-differ entries are never ignored); then the
 *    rule names that [expect] rule. Drift that an expired rule would have
 *    ignored says so at the end of its rule;
 *  - d->expired: every [expect] rule whose date has passed (replacing what d
 *    held there);
 *  - d->ignored, d->blocking, d->warnings, d->infos: ignored entries count
 *    as ignored only; the others by severity;
 *  - the order of d->v: within each role and kind, blocking entries first,
 *    then warn, info and ignored ones, each in key order (every report
 *    lists what blocks first).
 * Rule and reason strings are owned by the entries (earlier ones are freed);
 * d does not point into p afterwards. d->policy is left to the caller.
 *
 * Returns ED_OK; ED_USAGE for a today that is not a date; ED_NOMEM (d stays
 * releasable, its counts and rules then incomplete).
 */
enum ed_code ed_policy_apply(const struct ed_policy *p, const char *today, struct ed_drift *d,
			     struct ed_err *err);

/*
 * The tolerance of measure m for the data object (the OBJECT of a data key:
 * "public.orders", "public.customer.phone"): the last matching
 * "MEASURE[GLOB]" line, else the [data] default. p NULL: the built-in
 * default (rows 0.1..10, null_frac 0.2, distinct 0.5). Never NULL.
 */
const struct ed_policy_tolerance *ed_policy_tolerance_for(const struct ed_policy *p,
							  enum ed_data_measure m,
							  const char *object);

/*
 * What differs beyond tolerance (ED_F_ROWS, ED_F_NULL_FRAC, ED_F_DISTINCT,
 * ED_F_STATS) between two data items of one key, from their values (data
 * shapes as JSON text; ed/datashape.h). Tolerances from p (NULL: the
 * built-in ones). 0 when the shapes agree within tolerance.
 */
unsigned ed_data_compare(const struct ed_policy *p, const char *key, const char *ref_value,
			 const char *cand_value);

/*
 * ED_F_OVERLAP when, between the samples of a "rows" item (values as
 * ed_rows_value_format() writes them), the estimated share of candidate
 * rows equal to reference rows exceeds the overlap tolerance of p for the
 * key's OBJECT ("public.customer(email)"; NULL p: 0.005); 0 otherwise, and
 * for values that are no samples.
 */
unsigned ed_rows_compare(const struct ed_policy *p, const char *key, const char *ref_value,
			 const char *cand_value);

/*
 * Is the overlap of the "rows" item key (key_len bytes, not NUL-terminated)
 * checked under p, that is, not `overlap[GLOB] = ignore`? A sample present
 * on one side only is then a check that could not run, and reported.
 */
bool ed_rows_checked(const struct ed_policy *p, const char *key, size_t key_len);

/* Is s a real calendar date written YYYY-MM-DD (years 0001-9999)? */
bool ed_policy_date_valid(const char *s);

/* Writes the UTC date of t as "YYYY-MM-DD" into out. */
void ed_policy_today(time_t t, char out[11]);

#endif
