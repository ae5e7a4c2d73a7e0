/* SPDX-License-Identifier: MIT */
/*
 * The field codecs of envdrift.snapshot/1 (docs/snapshot-format.md): document
 * ids (random version-4 UUIDs), fingerprints as hex, and byte strings as a
 * UTF-8 field or its base64 "_b64" twin.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ed/base64.h"
#include "ed/snapdoc.h"
#include "snapdoc_codec.h"

/* ------------------------------------------------------------------ */
/* document ids                                                         */

enum ed_code ed_snapdoc_id_new(char out[ED_SNAPDOC_ID_LEN + 1], struct ed_err *err)
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return ed_err_set(err, ED_IO, "no random bytes for a document id: %s",
				  strerror(errno));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, ED_SNAPDOC_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return ED_OK;
}

bool ed_snapdoc_id_parse(const char *s, size_t len, char out[ED_SNAPDOC_ID_LEN + 1])
{
	if (len != ED_SNAPDOC_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : ed_hex_value(s[i]) < 0)
			return false;
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	}
	out[len] = '\0';
	return true;
}

/* ------------------------------------------------------------------ */
/* fingerprints and byte strings                                        */

bool ed_snapdoc_fp_parse(const char *s, size_t len, struct ed_fp *fp)
{
	if (len != 2 * ED_FP_LEN)
		return false;
	for (size_t i = 0; i < ED_FP_LEN; i++) {
		int hi = ed_hex_value(s[2 * i]), lo = ed_hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		fp->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int ed_snapdoc_set_bytes(json_t *o, const char *f, const char *s, size_t len, struct ed_buf *tmp)
{
	if (ed_utf8_valid(s, len) && !memchr(s, '\0', len))
		return json_object_set_new(o, f, json_stringn(s, len));
	char name[32];
	snprintf(name, sizeof(name), "%s_b64", f);
	ed_buf_reset(tmp);
	if (ed_base64_add(tmp, s, len))
		return -1;
	return json_object_set_new(o, name, json_stringn(ed_buf_str(tmp), tmp->len));
}

int ed_snapdoc_set_fp(json_t *o, const char *f, const struct ed_fp *fp)
{
	char hex[2 * ED_FP_LEN + 1];
	ed_fp_hex(fp, hex);
	return json_object_set_new(o, f, json_string(hex));
}

/* A failed allocation of jansson's, on this thread (see ed_snapdoc_global_init()). */
static _Thread_local bool json_oom;

/*
 * jansson 2.14 (Debian 12's) does not survive every failed allocation: its
 * lexer ignores a failure to grow the text it saves of a string, then copies
 * that text up to a closing quote that is not in it, past the end of the
 * string it allocated (allocfail.sh found it: a segfault in json_loadb).
 * So while jansson reads (ed_json_loadb()), it is never refused: when
 * malloc fails, the request is served from this reserve, and json_oom tells
 * the caller, who discards what jansson built (ed_json_oom_take()). Only
 * then: what jansson writes (json_dumps()) its callers free with free(). The
 * reserve is untouched, so not resident, until then; two items of the
 * largest size a document may hold fit in it. It is used again once every
 * block of it has been freed.
 */
#define RESERVE_SIZE (2 * ED_SNAPDOC_ITEM_JSON_MAX + ((size_t)1 << 20))
static alignas(max_align_t) unsigned char reserve[RESERVE_SIZE];
static size_t reserve_used, reserve_live; /* under reserve_lock */
static pthread_mutex_t reserve_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool json_reading; /* inside ed_json_loadb() */

json_t *ed_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error)
{
	json_reading = true;
	json_t *j = json_loadb(buf, len, flags, error);
	json_reading = false;
	return j;
}

static void *json_malloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		return p;
	json_oom = true;
	if (!json_reading)
		return NULL;
	size_t a = alignof(max_align_t), need = n ? (n + a - 1) / a * a : a;
	pthread_mutex_lock(&reserve_lock);
	if (need <= RESERVE_SIZE - reserve_used) {
		p = reserve + reserve_used;
		reserve_used += need;
		reserve_live++;
	}
	pthread_mutex_unlock(&reserve_lock);
	return p;
}

static void json_free(void *p)
{
	uintptr_t at = (uintptr_t)p, lo = (uintptr_t)reserve;
	if (at < lo || at >= lo + RESERVE_SIZE) {
		free(p);
		return;
	}
	pthread_mutex_lock(&reserve_lock);
	if (--reserve_live == 0)
		reserve_used = 0;
	pthread_mutex_unlock(&reserve_lock);
}

void ed_snapdoc_global_init(void)
{
	json_set_alloc_funcs(json_malloc, json_free);
}

bool ed_json_oom_take(void)
{
	bool seen = json_oom;
	json_oom = false;
	return seen;
}
