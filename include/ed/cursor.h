/* SPDX-License-Identifier: MIT */
/*
 * Reading a snapshot's items out of the store: a cursor over them in primary
 * key order (kind, key, state), and the other columns of one item by key.
 * What the differ's feeds consume; the SQL stays in store/cursor.c.
 */
#ifndef ED_CURSOR_H
#define ED_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/store.h"

/* An item's columns, as a report shows them: an owned copy of what the store holds. */
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

/* Frees the strings of s and clears it. */
void ed_side_release(struct ed_side *s);

/*
 * One item as a cursor yields it. Borrowed from the cursor: valid until its
 * next call. kind and key are NUL-terminated.
 */
struct ed_cursor_row {
	const char *kind; /* NULL past the last item */
	size_t kind_len;
	const char *key;
	size_t key_len;
	const uint8_t *state; /* items.state (ED_STATE_LEN bytes), NULL for a row written without one */
};

struct ed_store_cursor;

/*
 * Opens a cursor over the items of snapshot id (a delta snapshot's base:
 * base, else 0) in (kind, key) order. A delta snapshot reads whole: its own
 * rows over its base's, its tombstones left out. With own, the cursor reads
 * on a read-only connection of its own, for another thread to use; when none
 * can be made (and without own) it reads on st's connection, which must then
 * stay on the thread that uses st (ed_store_cursor_owns() tells which).
 * Each cursor's SELECT is a read transaction of its own (complete
 * snapshots never change). Errors name the store. Close with
 * ed_store_cursor_close().
 */
enum ed_code ed_store_cursor_open(struct ed_store *st, int64_t id, int64_t base, bool own,
				  struct ed_store_cursor **out, struct ed_err *err);

/* Whether c reads on a connection of its own. */
bool ed_store_cursor_owns(const struct ed_store_cursor *c);

/*
 * Moves to the next item and points *row at it (row->kind NULL past the
 * last). Errors name the store: ED_STORE (an item without kind or key, a
 * failed read), ED_NOMEM.
 */
enum ed_code ed_store_cursor_next(struct ed_store_cursor *c, struct ed_cursor_row *row,
				  struct ed_err *err);

/*
 * Fills out (owned strings: ed_side_release()) and *flags (ED_STATE_*) with
 * the other columns of item (kind, key) of c's snapshot, read by primary key
 * on c's connection (on the thread that uses c).
 */
enum ed_code ed_store_cursor_cols(struct ed_store_cursor *c, const char *kind, const char *key,
				  size_t key_len, struct ed_side *out, uint8_t *flags,
				  struct ed_err *err);

void ed_store_cursor_close(struct ed_store_cursor *c);

/* A reader of items' other columns by primary key, on st's connection. */
struct ed_store_cols;

enum ed_code ed_store_cols_open(struct ed_store *st, struct ed_store_cols **out,
				struct ed_err *err);
/*
 * Fills out (owned strings: ed_side_release()) and *flags (ED_STATE_*) with
 * the columns of item (kind, key) of snapshot snap (a delta's base: base,
 * else 0). ED_STORE when the item is not there.
 */
enum ed_code ed_store_cols_read(struct ed_store_cols *q, int64_t snap, int64_t base,
				const char *kind, const char *key, size_t key_len,
				struct ed_side *out, uint8_t *flags, struct ed_err *err);
void ed_store_cols_close(struct ed_store_cols *q);

#endif
