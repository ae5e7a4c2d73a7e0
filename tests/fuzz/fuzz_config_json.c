/* SPDX-License-Identifier: MIT */
/* Fuzz target: the JSON config parser (secrets included). */
#include <stdint.h>

#include "ed/collect.h"

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
	(void)sum;
	return ED_OK;
}

static void sink_warn(struct ed_sink *s, const char *msg)
{
	(void)s;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_sink sink = {.emit = sink_emit, .warn = sink_warn};
	struct ed_err err;
	static const uint8_t key[ED_KEY_LEN] = {1};
	struct ed_secrets sec = {.key = key, .patterns = ed_default_secret_patterns,
				 .npatterns = ed_default_secret_npatterns};
	ed_config_json_parse(ed_str_of((const char *)data, size), "/etc/x.json", &sec, &sink, NULL, &err);
	return 0;
}
