/* SPDX-License-Identifier: MIT */
/* The collector's private side of the data shape (collector/data_sqlite.c). */
#ifndef ED_DATA_IMPL_H
#define ED_DATA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/item.h"

struct sqlite3;

/*
 * Emits the data shape (kind "data", ed/datashape.h) of every ordinary table
 * of the open database db (read-only as the schema collector opened it),
 * keyed "sqlite:LABEL/table/main.T" and "sqlite:LABEL/column/main.T.C": the
 * exact row count, the bytes of the table and its indexes (dbstat), and per
 * column the null fraction, distinct ratio, average width and (numbers
 * only) correlation computed over a deterministic sample: the rows whose
 * rowid is a multiple of ceil(rows / sample_rows), at most sample_rows of
 * them (a WITHOUT ROWID table: its first sample_rows rows in key order).
 * Values are read and dropped at once; only the counts remain. A table that
 * cannot be read is a warning naming path and table. ED_NOMEM or the sink's.
 */
enum ed_code ed_data_sqlite_collect(struct sqlite3 *db, const char *path, const char *label,
				    uint64_t sample_rows, struct ed_sink *sink,
				    struct ed_err *err);

struct ed_rowsample;
struct ed_sensitive;

/*
 * Fills sample s with the rows of one sensitive entry (as written, and taken
 * apart in sv); *read false when the table could not be read (already
 * warned about). Errors abort the collection.
 */
typedef enum ed_code (*ed_rows_fill_fn)(void *ctx, const char *entry,
					const struct ed_sensitive *sv, struct ed_rowsample *s,
					bool *read, struct ed_err *err);
/*
 * For each entry, in key order: fill() a sample and emit its "rows" item,
 * key "ENGINE:LABEL/rows/ENTRY" (ed_rows_value_format()). key NULL is
 * ED_USAGE; an entry ed_sensitive_parse() refuses is ED_USAGE; ED_NOMEM,
 * fill()'s and the sink's errors.
 */
enum ed_code ed_rows_each(const char *engine, const char *label, const char *const *entries,
			  size_t nentries, const uint8_t *key, ed_rows_fill_fn fill, void *ctx,
			  struct ed_sink *sink, struct ed_err *err);

/*
 * Fingerprints the rows of each sensitive entry of schema "main" (the others
 * name another engine's schemas and are skipped) in the open database db:
 * one read-only SELECT of the entry's columns, each row fingerprinted with
 * key and dropped; one "rows" item per entry, key
 * "sqlite:LABEL/rows/main.TABLE(COLUMNS)". A table or column the database
 * lacks is a warning naming path and entry. ED_NOMEM, ED_IO, the sink's.
 */
enum ed_code ed_rows_sqlite_collect(struct sqlite3 *db, const char *path, const char *label,
				    const char *const *entries, size_t nentries,
				    const uint8_t *key, struct ed_sink *sink, struct ed_err *err);

#endif
