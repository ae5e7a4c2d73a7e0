/* SPDX-License-Identifier: MIT */
/* Fuzz target: the inventory parser (line checks, then libinih) and the host names of one environment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/inventory.h"
#include "ed/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every string of the result, so ASan sees a bad pointer. */
static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_str text = ed_str_of((const char *)data, size);
	struct ed_inventory inv = {0};
	struct ed_err err;
	if (ed_inventory_parse(text, "fuzz.ini", &inv, &err) == ED_OK) {
		volatile size_t sum = 0;
		for (size_t i = 0; i < inv.nhosts; i++) {
			const struct ed_inventory_host *h = &inv.hosts[i];
			sum += touch(h->env) + touch(h->name) + touch(h->addr) + touch(h->user) +
			       touch(h->port) + touch(h->role) + touch(h->profile) +
			       touch(h->known_hosts) + touch(h->identity);
			sum += (size_t)ed_inventory_has_env(&inv, h->env);
		}
		(void)sum;
	}
	ed_inventory_release(&inv);

	char **names = NULL;
	size_t n = 0;
	if (ed_inventory_hosts(text, "fuzz.ini", "production", &names, &n, &err) == ED_OK)
		ed_names_free(names, n);
	return 0;
}
