/* SPDX-License-Identifier: MIT */
/*
 * A feed: one snapshot's items in key order, as plain rows, read ahead by a
 * thread of its own (its own read-only connection) or, when asked, on the
 * caller's connection. Internal to the differ.
 */
#ifndef ED_DIFFER_FEED_H
#define ED_DIFFER_FEED_H

#include <stdbool.h>
#include <stdint.h>

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
	const char *key;
	size_t key_len;
	bool has_state; /* false for a row written without one (by hand) */
	uint8_t state[ED_STATE_LEN];
};

struct ed_feed;

/*
 * Opens a feed on snapshot id and positions it on its first row. With
 * threaded, a thread reads ahead on a connection of its own (falling back
 * to the caller's connection when none can be made).
 */
enum ed_code ed_feed_open(struct ed_store *st, int64_t id, bool threaded, struct ed_feed **out,
			  struct ed_err *err);

/* The current row, or NULL past the last one. Valid until the next ed_feed_next(). */
const struct ed_row *ed_feed_row(const struct ed_feed *f);

enum ed_code ed_feed_next(struct ed_feed *f, struct ed_err *err);

void ed_feed_close(struct ed_feed *f);

#endif
