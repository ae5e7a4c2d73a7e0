/* SPDX-License-Identifier: MIT */
/* Drift between two snapshots: one merge pass over two key-ordered cursors, then renderers. */
#ifndef ED_DIFF_H
#define ED_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ed/buf.h"
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
};

/* Name of one field bit ("content", "mode", ...). */
const char *ed_field_name(unsigned bit);

/* One side of a drift entry: an owned copy of what the store holds. */
struct ed_side {
	bool present;
	struct ed_fp fp;
	char *value;  /* may be NULL */
	char *attrs;  /* JSON object text or NULL */
	char *error;  /* may be NULL */
	enum ed_ftype ftype;
	uint32_t mode;
	char *owner;
	char *group;
	char *target;
	int64_t size;
};

struct ed_drift_entry {
	char *kind;
	char *key;
	size_t key_len;
	enum ed_change change;
	unsigned fields;      /* enum ed_field bits, for ED_CHANGED */
	const char *severity; /* "block", "warn", "info" (static) */
	const char *rule;     /* why that severity (static) */
	struct ed_side ref;
	struct ed_side cand;
};

struct ed_drift {
	struct ed_snapref ref;
	struct ed_snapref cand;
	struct ed_drift_entry *v; /* sorted by kind, then key */
	size_t n;
	size_t cap;
	size_t added, removed, changed, ignored, blocking;
	int64_t compared; /* distinct (kind, key) pairs seen */
};

/*
 * Compares two complete snapshots: both item sets are read in primary-key
 * order and merged in one pass. Fills out (which the caller releases with
 * ed_drift_release(), also on failure).
 */
enum ed_code ed_diff_snapshots(struct ed_store *st, const struct ed_snapref *ref,
			       const struct ed_snapref *cand, struct ed_drift *out,
			       struct ed_err *err);
void ed_drift_release(struct ed_drift *d);

/* Options shared by every report format. */
struct ed_render_opts {
	bool color; /* ANSI colour (terminals only) */
};

/* A report format: a name and a renderer writing to out. */
struct ed_report_ops {
	const char *name;
	enum ed_code (*render)(FILE *out, const struct ed_drift *d,
			       const struct ed_render_opts *opts, struct ed_err *err);
};

/*
 * Appends a one-line human description of what changed ("mode 0755 -> 0644",
 * "version 1.2 -> 1.3", "value 10 -> 5"; empty for added/removed items
 * without a value). Secrets never show a value. Returns 0 or -1 (no memory).
 */
int ed_drift_describe(const struct ed_drift_entry *e, struct ed_buf *out);

/* "added", "removed", "changed". */
const char *ed_change_name(enum ed_change c);

/* The format called name, or NULL. */
const struct ed_report_ops *ed_report_find(const char *name);
/* "text, json": the names, for messages and --help. */
const char *ed_report_names(void);

extern const struct ed_report_ops ed_report_text;
extern const struct ed_report_ops ed_report_json;

#endif
