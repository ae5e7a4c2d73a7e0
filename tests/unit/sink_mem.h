/* SPDX-License-Identifier: MIT */
/* A sink for unit tests that keeps copies of every item and warning. */
#ifndef ED_SINK_MEM_H
#define ED_SINK_MEM_H

#include <stddef.h>

#include "ed/item.h"

struct mem_item {
	char kind[16];
	char *key;
	struct ed_fp fp;
	char *value;  /* NULL when the item had none */
	char *attrs;
	char *error;
	enum ed_ftype ftype;
	unsigned mode;
	char *owner, *group, *target;
	long long size;
};

struct mem_sink {
	struct ed_sink sink; /* first member: pass &ms.sink to collectors */
	struct mem_item *items;
	size_t n;
	char **warnings;
	size_t nwarnings;
	size_t fail_after; /* when non-zero, the Nth emit fails with ED_STORE */
};

void mem_sink_init(struct mem_sink *ms);
void mem_sink_release(struct mem_sink *ms);
/* The item with this key, or NULL. */
const struct mem_item *mem_sink_find(const struct mem_sink *ms, const char *key);
/* Does any warning contain needle? */
int mem_sink_warned(const struct mem_sink *ms, const char *needle);

#endif
