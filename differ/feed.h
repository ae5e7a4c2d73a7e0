/* SPDX-License-Identifier: MIT */
/*
 * A feed: one snapshot's items in key order (a store cursor, ed/cursor.h),
 * as plain rows, read ahead by a thread of its own (on the cursor's own
 * read-only connection) or, when asked, on the caller's. Internal to the
 * differ.
 */
#ifndef ED_DIFFER_FEED_H
#define ED_DIFFER_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "ed/cursor.h"
#include "ed/diff.h"
#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/store.h"

/*
 * One item as the merge first sees it: its key and its state (items.state),
 * which tells equal items apart from the rest without their other columns.
 */
struct ed_row {
	const char *kind;
	const char *key;    /* follows kind and its NUL: kind "\0" key is one string */
	size_t key_len;
	size_t kindkey_len; /* of kind "\0" key, which orders as (kind, key) do */
	bool has_state; /* false for a row written without one (by hand) */
	uint8_t state[ED_STATE_LEN];
};

struct ed_feed;

/*
 * Opens a feed on snapshot id (a delta snapshot's base: base, else 0) and
 * positions it on its first row. A delta snapshot reads whole: its own rows
 * over its base's, its tombstones left out. With
 * threaded, a thread reads ahead on a connection of its own (falling back
 * to the caller's connection when none can be made).
 */
enum ed_code ed_feed_open(struct ed_store *st, int64_t id, int64_t base, bool threaded,
			  struct ed_feed **out, struct ed_err *err);

/* The current row, or NULL past the last one. Valid until the next ed_feed_next(). */
const struct ed_row *ed_feed_row(const struct ed_feed *f);

enum ed_code ed_feed_next(struct ed_feed *f, struct ed_err *err);

/* An item's other columns, asked for with ed_feed_request(). */
struct ed_detail {
	struct ed_side side; /* owned strings; present once read */
	uint8_t flags;       /* ED_STATE_* */
	const char *kind, *key;
	size_t key_len;
	struct ed_detail *next;
};

/*
 * Asks for the other columns of item (kind, key) of f's snapshot: strings
 * that stay put until ed_feed_drain() returns. A threaded feed reads them on
 * its own thread, where the pages it just scanned are still cached; they are
 * there once ed_feed_drain() returns. *out belongs to f.
 */
enum ed_code ed_feed_request(struct ed_feed *f, const char *kind, const char *key,
			     size_t key_len, struct ed_detail **out, struct ed_err *err);

/*
 * Waits until every request made so far is served; the first error of any.
 * The merge settles its pending entries every few thousand, then has the
 * feed forget them, so requests do not pile up with the drift.
 */
enum ed_code ed_feed_settle(struct ed_feed *f, struct ed_err *err);

/* Frees every request (the caller has moved out the sides it keeps); all are served. */
void ed_feed_forget(struct ed_feed *f);

/* Waits until every request is served and the thread is done; the first error of any. */
enum ed_code ed_feed_drain(struct ed_feed *f, struct ed_err *err);

void ed_feed_close(struct ed_feed *f);

#endif
