/* SPDX-License-Identifier: MIT */
/*
 * Browsing the store a page at a time, for the web service's JSON API:
 * snapshots filtered and paged by id, a snapshot's items paged by (kind,
 * key). Keyset paging: a page starts after the last row of the one before.
 */
#ifndef ED_BROWSE_H
#define ED_BROWSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/store.h"

/* Which snapshots: each field narrows (NULL / 0: no narrowing). */
struct ed_snapshot_filter {
	const char *env;
	const char *host;
	int64_t id;     /* only this one */
	int64_t after;  /* ids above this one */
	bool latest;    /* only each host's latest complete snapshot (latest_v), by env then host */
	size_t limit;   /* at most this many rows; 0: no limit */
};

/* A snapshot as browsed: borrowed strings, valid during the call only; NULL when none. */
struct ed_browse_snapshot {
	struct ed_snapshot_row r;
	const char *role;
	const char *uuid; /* the document id, when it has one */
	int64_t base;     /* a delta's base snapshot, else 0 */
};

/*
 * Calls each with the snapshots f selects, by id (or by env and host when
 * f->latest). An error each returns stops and is returned.
 */
enum ed_code ed_store_browse_snapshots(struct ed_store *st, const struct ed_snapshot_filter *f,
				       enum ed_code (*each)(void *ctx,
							    const struct ed_browse_snapshot *s,
							    struct ed_err *err),
				       void *ctx, struct ed_err *err);

/* Which items of a snapshot: each field narrows (NULL: no narrowing). */
struct ed_item_filter {
	const char *kind;
	const char *prefix;      /* keys starting with these bytes */
	size_t prefix_len;
	const char *after_kind;  /* the page starts after (after_kind, after_key) */
	const char *after_key;
	size_t after_key_len;
	size_t limit;            /* at most this many; 0: no limit */
};

/* An item as browsed: borrowed, valid during the call only; strings NULL when none. */
struct ed_browse_item {
	const char *kind;
	const char *key;
	size_t key_len;
	const uint8_t *fp; /* fp_len bytes */
	size_t fp_len;
	const char *value;
	size_t value_len;
	const char *ftype;
	long long mode;    /* -1 when none */
	const char *owner;
	const char *group;
	const char *target;
	long long size;    /* -1 when none */
	const char *error;
};

/*
 * Calls each with the items of complete snapshot id that f selects, in
 * (kind, key) order, a delta resolved whole. ED_NOTFOUND when there is no
 * complete snapshot id. An error each returns stops and is returned.
 */
enum ed_code ed_store_browse_items(struct ed_store *st, int64_t id, const struct ed_item_filter *f,
				   enum ed_code (*each)(void *ctx, const struct ed_browse_item *it,
							struct ed_err *err),
				   void *ctx, struct ed_err *err);

#endif
