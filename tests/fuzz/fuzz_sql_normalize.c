/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the SQL normaliser, whose output must normalise to itself, and
 * the masker of secret literals, which leaves a text it masks nothing in as it is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/collect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_buf once = ED_BUF_INIT, twice = ED_BUF_INIT;
	struct ed_err err;
	if (ed_sql_normalize(ed_str_of((const char *)data, size), &once, &err) == ED_OK &&
	    ed_sql_normalize(ed_str_of(once.p ? once.p : "", once.len), &twice, &err) == ED_OK &&
	    (once.len != twice.len || (once.len && memcmp(once.p, twice.p, once.len) != 0)))
		abort(); /* normalising is idempotent */
	ed_buf_release(&once);
	ed_buf_release(&twice);

	for (int d = 0; d < 2; d++) {
		struct ed_buf masked = ED_BUF_INIT;
		size_t n = 0;
		if (ed_sql_mask_literals(NULL, d ? ED_SQL_POSTGRES : ED_SQL_SQLITE, d ? "password" : NULL,
					 (const char *)data, size, &masked, &n) != 0)
			abort(); /* no allocation fails here */
		if (n == 0 && (masked.len != size || (size && memcmp(masked.p, data, size) != 0)))
			abort();
		ed_buf_release(&masked);
	}
	return 0;
}
