/* SPDX-License-Identifier: MIT */
/* Unit tests for common/base64.c: RFC 4648 vectors, round trips, and what strict decoding refuses. */
#include <stdlib.h>
#include <string.h>

#include "ed/base64.h"
#include "tap.h"

static const struct {
	const char *plain, *padded, *bare;
} vectors[] = {
	/* RFC 4648, section 10 */
	{"", "", ""},
	{"f", "Zg==", "Zg"},
	{"fo", "Zm8=", "Zm8"},
	{"foo", "Zm9v", "Zm9v"},
	{"foob", "Zm9vYg==", "Zm9vYg"},
	{"fooba", "Zm9vYmE=", "Zm9vYmE"},
	{"foobar", "Zm9vYmFy", "Zm9vYmFy"},
	/* the last two characters of the alphabet, and bytes that are not UTF-8 */
	{"\xfb\xff\xbf", "+/+/", "+/+/"},
	{"tgt\xfe", "dGd0/g==", "dGd0/g"},
};

static void test_vectors(void)
{
	char out[64];
	struct ed_buf b = ED_BUF_INIT;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *p = vectors[i].plain;
		size_t n = strlen(p);
		size_t w = ed_base64_encode(out, p, n, true);
		is_str(out, vectors[i].padded, "encode \"%s\" padded", vectors[i].padded);
		is_int(w, ED_BASE64_LEN(n), "  %zu characters, as ED_BASE64_LEN says", w);
		ed_base64_encode(out, p, n, false);
		is_str(out, vectors[i].bare, "  and without padding: \"%s\"", vectors[i].bare);
		ed_buf_reset(&b);
		ok(ed_buf_adds(&b, "x:") == 0 && ed_base64_add(&b, p, n) == 0 &&
			   strcmp(b.p + 2, vectors[i].padded) == 0 && strncmp(b.p, "x:", 2) == 0,
		   "  ed_base64_add appends the same");
		ok(ed_base64_decode(&b, vectors[i].padded, strlen(vectors[i].padded)) == ED_OK &&
			   b.len == n && memcmp(b.p, p, n) == 0,
		   "  decodes back, replacing what the buffer held");
	}
	ed_buf_release(&b);
	ok(ed_base64_decode(&b, "", 0) == ED_OK && b.p && b.len == 0 && b.p[0] == '\0',
	   "nothing decodes to an empty string, not to NULL");
	ed_buf_release(&b);
}

static void test_round_trips(void)
{
	/* Every byte value, and lengths across the chunks ed_base64_add and decode work in. */
	enum { MAX = 5000 };
	unsigned char *data = malloc(MAX);
	char *enc = malloc(ED_BASE64_LEN(MAX) + 1);
	struct ed_buf e = ED_BUF_INIT, d = ED_BUF_INIT;
	size_t bad = 0, tried = 0;
	for (size_t i = 0; data && i < MAX; i++)
		data[i] = (unsigned char)(i * 7 + i / 256);
	for (size_t n = 0; data && enc && n <= MAX; n += n < 40 ? 1 : 97) {
		tried++;
		ed_buf_reset(&e);
		size_t w = ed_base64_encode(enc, data, n, true);
		if (w != ED_BASE64_LEN(n) || strlen(enc) != w || ed_base64_add(&e, data, n) ||
		    e.len != w || memcmp(e.p ? e.p : "", enc, w) != 0 ||
		    ed_base64_decode(&d, enc, w) != ED_OK || d.len != n || memcmp(d.p, data, n) != 0)
			bad++;
	}
	ok(tried > 80 && bad == 0, "%zu lengths from 0 to %d bytes round-trip (%zu failed)", tried,
	   MAX, bad);
	free(data);
	free(enc);
	ed_buf_release(&e);
	ed_buf_release(&d);
}

static void test_strict(void)
{
	static const struct {
		const char *s, *why;
	} refused[] = {
		{"Zg", "no padding"},
		{"Zg=", "a length that is not a multiple of 4"},
		{"Zm9vY===", "three padding characters"},
		{"Z===", "padding in the second place"},
		{"Zg==Zg==", "padding before the end"},
		{"Zm=v", "a character after padding"},
		{"Zh==", "non-zero unused bits after one byte"},
		{"Zm9=", "non-zero unused bits after two bytes"},
		{"Zm9v\n", "a line break"},
		{"Zm 9v", "a blank"},
		{"Zm9-", "the URL-safe alphabet"},
		{"Zm9_", "the URL-safe alphabet's other character"},
		{"Zm\xc3\xa9", "bytes that are not base64"},
	};
	struct ed_buf b = ED_BUF_INIT;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ed_buf_adds(&b, "old");
		ok(ed_base64_decode(&b, refused[i].s, strlen(refused[i].s)) == ED_PARSE && b.len == 0,
		   "refused: %s, leaving the buffer empty", refused[i].why);
	}
	/* A NUL inside the given length is a character like any other: refused. */
	ok(ed_base64_decode(&b, "Zm9v\0AAA", 8) == ED_PARSE, "refused: a NUL inside the input");

	b.max = 5;
	ok(ed_base64_decode(&b, "Zm9vYmE=", 8) == ED_OK && b.len == 5, "decoding up to the cap");
	ok(ed_base64_decode(&b, "Zm9vYmFy", 8) == ED_TOOBIG && b.len == 0,
	   "decoding past the cap is ED_TOOBIG, not out of memory");
	ed_buf_reset(&b);
	ok(ed_buf_adds(&b, "ab") == 0 && ed_base64_add(&b, "xyz", 3) == -1 && b.len == 2 &&
		   strcmp(b.p, "ab") == 0,
	   "an append past the cap fails and leaves the buffer unchanged");
	ed_buf_release(&b);
}

int main(void)
{
	test_vectors();
	test_round_trips();
	test_strict();
	return tap_done();
}
