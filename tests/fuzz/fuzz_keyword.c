/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the "Keyword value" parser of sshd_config and its kind. Besides
 * crashes it checks that every value is valid JSON text, that keys hold no NUL,
 * and that no key is emitted twice (the store's primary key would refuse it):
 * blocks opened again and keywords spelled in other cases must merge.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	char **keys;
	size_t n, cap;
};

static enum ed_code sink_emit(struct ed_sink *s, const struct ed_item *it, struct ed_err *e)
{
	(void)e;
	struct seen *sn = s->ctx;
	if (memchr(it->key, '\0', it->key_len))
		abort();
	for (size_t i = 0; i < sn->n; i++)
		if (strlen(sn->keys[i]) == it->key_len && memcmp(sn->keys[i], it->key, it->key_len) == 0)
			abort(); /* the same key twice */
	if (sn->n == sn->cap) {
		sn->cap = sn->cap ? 2 * sn->cap : 16;
		sn->keys = realloc(sn->keys, sn->cap * sizeof(*sn->keys));
		if (!sn->keys)
			abort();
	}
	sn->keys[sn->n] = strndup(it->key, it->key_len);
	if (!sn->keys[sn->n++])
		abort();
	if (it->value) {
		json_t *j = json_loads(it->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!j)
			abort();
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
	static const uint8_t key[ED_KEY_LEN] = {1};
	struct seen sn = {0};
	struct ed_sink sink = {.emit = sink_emit, .warn = sink_warn, .ctx = &sn};
	struct ed_secrets sec = {.key = key, .patterns = ed_default_secret_patterns,
				 .npatterns = ed_default_secret_npatterns};
	struct ed_str text = ed_str_of((const char *)data, size);
	struct ed_err err;
	struct ed_buf once = ED_BUF_INIT;
	bool ok = false;
	ed_config_parse(ED_CFG_KEYWORD, text, "/etc/ssh/sshd_config", &sec, &sink, NULL, &err);
	ed_config_redact(ED_CFG_KEYWORD, text, "/etc/ssh/sshd_config", &sec, &once, &ok, &err);
	ed_buf_release(&once);
	for (size_t i = 0; i < sn.n; i++)
		free(sn.keys[i]);
	free(sn.keys);
	return 0;
}
