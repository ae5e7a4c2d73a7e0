/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the PostgreSQL catalog and data-shape document parsers, and
 * the same bytes as a connection string (redaction and dbname).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/collect.h"
#include "ed/pgschema.h"

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
	static const uint8_t key[ED_KEY_LEN];
	const struct ed_secrets sec = {.key = key};
	ed_pg_catalog_parse(ed_str_of((const char *)data, size), "fuzz", &sec, &sink, &err);
	ed_pg_datashape_parse(ed_str_of((const char *)data, size), "fuzz", &sink, &err);

	/* A connection string is a C string: up to the first NUL. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct ed_buf out = ED_BUF_INIT;
	ed_pg_conninfo_redact(s, &out);
	ed_buf_reset(&out);
	ed_pg_conninfo_dbname(s, &out, &err);
	ed_buf_release(&out);
	free(s);
	return 0;
}
