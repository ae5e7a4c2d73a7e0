/* SPDX-License-Identifier: MIT */
/* Fuzz target: the snapshot document reader (parse, validate, replay into a sink). */
#include <stdint.h>

#include "ed/snapdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum ed_code sink_emit(struct ed_sink *s, const struct ed_item *it, struct ed_err *e)
{
	(void)s;
	(void)e;
	/* Touch every byte handed out, so ASan sees any bad pointer. */
	volatile size_t sum = it->fp.b[0] + it->mode;
	for (size_t i = 0; i < it->key_len; i++)
		sum += (unsigned char)it->key[i];
	const char *strs[] = {it->kind, it->value, it->attrs, it->error, it->owner, it->group,
			      it->target};
	for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
		for (const char *p = strs[k]; p && *p; p++)
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

static enum ed_code sink_content(struct ed_sink *s, const struct ed_fp *fp, const char *data,
				 size_t len, struct ed_err *e)
{
	(void)s;
	(void)e;
	volatile size_t sum = fp->b[0];
	for (size_t i = 0; data && i < len; i++)
		sum += (unsigned char)data[i];
	(void)sum;
	return ED_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_sink sink = {.emit = sink_emit, .warn = sink_warn, .content = sink_content};
	struct ed_snapdoc *d = NULL;
	struct ed_err err;
	if (ed_snapdoc_parse((const char *)data, size, "fuzz.json", &d, &err) == ED_OK) {
		ed_snapdoc_replay(d, &sink, &err);
		ed_snapdoc_free(d);
	}
	return 0;
}
