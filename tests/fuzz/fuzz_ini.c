/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the INI config parser (libinih) and its redaction.
 * Besides crashes it checks that every value is valid JSON text, that keys
 * hold no NUL, and that a kept redaction is kept again unchanged.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum ed_code sink_emit(struct ed_sink *s, const struct ed_item *it, struct ed_err *e)
{
	(void)s;
	(void)e;
	/* Touch every byte handed out, so ASan sees any bad pointer. */
	volatile size_t sum = 0;
	for (size_t i = 0; i < it->key_len; i++)
		sum += (unsigned char)it->key[i];
	(void)sum;
	if (memchr(it->key, '\0', it->key_len))
		abort();
	if (it->value) {
		json_t *j = json_loads(it->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!j)
			abort(); /* not valid JSON text (or out of memory, which fuzzing does not do) */
		json_decref(j);
	}
	return ED_OK;
}

static void sink_warn(struct ed_sink *s, const char *msg)
{
	(void)s;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"/etc/x.ini"};
	static const uint8_t key[ED_KEY_LEN] = {1};
	struct ed_sink sink = {.emit = sink_emit, .warn = sink_warn};
	struct ed_secrets sec = {.key = key, .patterns = ed_default_secret_patterns,
				 .npatterns = ed_default_secret_npatterns};
	struct ed_str text = ed_str_of((const char *)data, size);

	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		struct ed_err err;
		struct ed_buf once = ED_BUF_INIT, twice = ED_BUF_INIT;
		bool ok = false, ok2 = false;
		ed_config_parse(ED_CFG_INI, text, paths[p], &sec, &sink, NULL, &err);
		if (ed_config_redact(ED_CFG_INI, text, paths[p], &sec, &once, &ok, &err) == ED_OK && ok) {
			/* What was kept is kept again as it is: markers replace markers. */
			if (ed_config_redact(ED_CFG_INI, ed_str_of(ed_buf_str(&once), once.len), paths[p], &sec,
					     &twice, &ok2, &err) != ED_OK ||
			    !ok2 || twice.len != once.len || memcmp(ed_buf_str(&once), ed_buf_str(&twice), once.len))
				abort();
		}
		ed_buf_release(&once);
		ed_buf_release(&twice);
	}
	return 0;
}
