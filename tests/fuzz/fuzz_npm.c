/* SPDX-License-Identifier: MIT */
/* Fuzz target: the npm package-lock.json parser. */
#include <stdint.h>

#include "ed/pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum ed_code sink_emit(struct ed_sink *s, const struct ed_item *it, struct ed_err *e)
{
	(void)s;
	(void)e;
	/* Touch every byte handed out, so ASan sees any bad pointer. */
	volatile size_t sum = 0;
	for (size_t i = 0; i < it->key_len; i++)
		sum += (unsigned char)it->key[i];
	for (const char *p = it->value; p && *p; p++)
		sum += (unsigned char)*p;
	for (const char *p = it->attrs; p && *p; p++)
		sum += (unsigned char)*p;
	(void)sum;
	return ED_OK;
}

static void sink_warn(struct ed_sink *s, const char *msg)
{
	(void)s;
	volatile size_t sum = 0;
	for (const char *p = msg; *p; p++)
		sum += (unsigned char)*p;
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_sink sink = {.emit = sink_emit, .warn = sink_warn};
	struct ed_err err;
	ed_npm_lock_parse(ed_str_of((const char *)data, size), "/srv/app/package-lock.json", &sink, &err);
	return 0;
}
