/* SPDX-License-Identifier: MIT */
/*
 * Writing a delta snapshot (store version 8): only what differs from the
 * host's previous complete snapshot. Internal to the store's snapshot writer.
 */
#ifndef ED_SCHEMA_DELTA_H
#define ED_SCHEMA_DELTA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/item.h"

struct ed_delta_writer;

/*
 * Prepares writing snapshot id as a delta on prev (whose base is prev_base,
 * 0 for a full snapshot) through db, inside the writer's transaction. store
 * names the store in messages. listing: every item of the snapshot will come
 * as an ED_DELTA_ITEM (an ingested document), so every key of prev that does
 * not is removed at the end, whatever its kind.
 */
enum ed_code ed_delta_open(sqlite3 *db, const char *store, int64_t id, int64_t prev,
			   int64_t prev_base, bool listing, struct ed_delta_writer **out,
			   struct ed_err *err);

/*
 * Whether item it (an ED_DELTA_ITEM, whose state is state) must be written:
 * false when the previous snapshot holds the same. *added tells whether
 * the key is new to the snapshot.
 */
enum ed_code ed_delta_item(struct ed_delta_writer *d, const struct ed_item *it,
			   const uint8_t state[ED_STATE_LEN], bool *write, bool *added,
			   struct ed_err *err);

/* Writes the tombstones an ED_DELTA_GONE or ED_DELTA_BELOW item asks for; *removed counts them. */
enum ed_code ed_delta_gone(struct ed_delta_writer *d, const struct ed_item *it, int64_t *removed,
			   struct ed_err *err);

/*
 * Ends the delta: tombstones for the previous snapshot's items of other kinds
 * than file and config that nothing emitted (*removed counts them), then
 * the previous snapshot's own rows where this one has none, when it is a
 * delta itself. *rows is added the rows written.
 */
enum ed_code ed_delta_finish(struct ed_delta_writer *d, int64_t *removed, int64_t *rows,
			     struct ed_err *err);

void ed_delta_close(struct ed_delta_writer *d);

#endif
