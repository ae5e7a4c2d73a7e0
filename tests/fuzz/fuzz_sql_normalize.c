/* SPDX-License-Identifier: MIT */
/* Fuzz target: the SQL normaliser; its output must normalise to itself. */
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
	return 0;
}
