/* SPDX-License-Identifier: MIT */
/*
 * The data shape of a table or a column (items of kind "data"): counts and
 * fractions that describe the data without holding any of its values. The
 * value of a data item is the shape as a JSON object (ed_data_shape_format).
 */
#ifndef ED_DATASHAPE_H
#define ED_DATASHAPE_H

#include <stdbool.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/item.h"

/*
 * One shape. Every number is NAN when it is unknown (not observed, or not
 * applicable), and is then left out of the JSON text.
 */
struct ed_data_shape {
	bool table;             /* a table's shape; else a column's */
	bool stats_missing;     /* the database holds no statistics for it (never ANALYZEd) */
	bool estimated;         /* tables: rows is the planner's estimate, not a count */
	double rows;            /* tables: rows */
	double bytes;           /* tables: bytes on disk, indexes and TOAST included */
	double sampled;         /* tables: rows read to compute its columns' shapes (SQLite) */
	double null_frac;       /* columns: the fraction of rows that are NULL, 0..1 */
	double distinct;        /* columns: distinct non-NULL values per row, 0..1 */
	double distinct_values; /* columns: the number of distinct values, when it does not
				   grow with the table (a status column): compared instead */
	double width;           /* columns: average bytes of a non-NULL value */
	double correlation;     /* columns: physical order against sorted order, -1..1 */
};

/* A shape with every number unknown. */
void ed_data_shape_init(struct ed_data_shape *s, bool table);

/*
 * Appends s to out as one compact JSON object with its members in a fixed
 * order ("stats", "rows", "estimated", "bytes", "sampled", "null_frac",
 * "distinct", "distinct_values", "width", "correlation"), known numbers
 * only: counts as integers, fractions with four significant digits, so that equal
 * shapes are equal texts. Returns 0, or -1 when memory runs out.
 */
int ed_data_shape_format(const struct ed_data_shape *s, struct ed_buf *out);

/*
 * Parses the value of a data item (JSON text as ed_data_shape_format writes
 * it; table says which kind of object the key names). false when it is not
 * such an object (s then holds what was read).
 */
bool ed_data_shape_parse(const char *value, bool table, struct ed_data_shape *s);
/* The same, telling apart: 0 a shape, 1 not one (or NULL), -1 out of memory. */
int ed_data_shape_read(const char *value, bool table, struct ed_data_shape *s);

/*
 * json_loads() of text from the store (a data shape, a rows sample, an
 * item's attributes); *oom tells a failure for want of memory from text
 * that is not JSON. jansson 2.14 cannot be trusted to say which: an
 * allocation failure in its lexer comes back as "invalid token", and some
 * set no error at all. So text that fails is parsed once more: text that is
 * not JSON fails again with a message; a second failure without a message,
 * or for want of memory, is out of memory. The caller owns the result.
 */
struct json_t;
struct json_t *ed_json_load(const char *text, size_t flags, bool *oom);

/*
 * Emits s as an item of kind "data" keyed "ENGINE:LABEL/table/OBJECT" or
 * "ENGINE:LABEL/column/OBJECT" (s->table), its fingerprint the XXH3 of its
 * value. ED_NOMEM or the sink's error.
 */
enum ed_code ed_data_emit(struct ed_sink *sink, const char *engine, const char *label,
			  const char *object, const struct ed_data_shape *s, struct ed_err *err);

/*
 * The OBJECT of a data key ("public.orders" of "postgres:shop/table/public.orders")
 * and whether it names a table; NULL when key is no data key.
 */
const char *ed_data_key_object(const char *key, bool *table);

#endif
