/* SPDX-License-Identifier: MIT */
/* The collector's private side of the data shape (collector/data_sqlite.c). */
#ifndef ED_DATA_IMPL_H
#define ED_DATA_IMPL_H

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

#endif
