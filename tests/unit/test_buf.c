/* SPDX-License-Identifier: MIT */
/* Unit tests for common/: buffers, globbing, UTF-8 escaping, fingerprints. */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/glob.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "tap.h"

int main(void)
{
	struct ed_buf b = ED_BUF_INIT;
	is_str(ed_buf_str(&b), "", "an empty buffer reads as the empty string");
	ok(ed_buf_adds(&b, "abc") == 0 && ed_buf_addf(&b, "-%d", 42) == 0, "appends succeed");
	is_str(b.p, "abc-42", "contents");
	is_int(b.len, 6, "length");

	b.max = 8;
	ok(ed_buf_adds(&b, "123") == -1, "an append past the cap fails");
	is_str(b.p, "abc-42", "and leaves the buffer unchanged");
	ok(ed_buf_adds(&b, "12") == 0, "an append up to the cap succeeds");
	ed_buf_release(&b);
	ok(b.p == NULL && b.len == 0, "release empties the buffer");
	ok(ed_buf_adds(&b, "123456789") == -1, "the cap outlives release");
	b.max = 0;

	for (int i = 0; i < 10000; i++)
		if (ed_buf_addc(&b, 'x'))
			break;
	is_int(b.len, 10000, "growth over many appends");
	is_int(strlen(b.p), 10000, "stays NUL-terminated");
	char *d = ed_buf_detach(&b);
	ok(d && b.p == NULL, "detach hands the bytes over");
	free(d);

	/* Code points into UTF-8: each length, and its edges. */
	static const unsigned cps[] = {0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xffff,
				       0x10000, 0x1f600, 0x10ffff};
	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++)
		if (ed_buf_add_cp(&b, cps[i]))
			break;
	ok(b.len == 1 + 1 + 2 + 2 + 2 + 3 + 3 + 3 + 4 + 4 + 4 &&
		   memcmp(b.p, "A\x7f\xc2\x80\xc3\xa9\xdf\xbf\xe0\xa0\x80\xe2\x82\xac\xef\xbf\xbf"
			       "\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
			  b.len) == 0,
	   "code points become UTF-8, one to four bytes");
	ok(ed_utf8_valid(b.p, b.len), "  valid UTF-8");
	b.max = b.len + 3;
	ok(ed_buf_add_cp(&b, 0x1f600) == -1 && b.len == b.max - 3, "  past the cap: -1, unchanged");
	ed_buf_release(&b);
	b.max = 0;

	ok(ed_glob_match_ci("*password*", "DB_PASSWORD", 11), "glob: case-insensitive infix");
	ok(ed_glob_match_ci("*key*", "apiKey", 6), "glob: camelCase");
	ok(!ed_glob_match_ci("*token*", "user", 4), "glob: no match");
	ok(ed_glob_match_ci("a?c", "abc", 3) && !ed_glob_match_ci("a?c", "ac", 2), "glob: ?");
	ok(ed_glob_match_ci("*a*b*c*", "xxaxxbxxcxx", 11), "glob: several stars");
	ok(!ed_glob_match_ci("*a*b*c*d", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaabc", 31),
	   "glob: backtracking without a match");

	ok(ed_utf8_valid("h\xc3\xa9llo", 6), "utf8: valid two-byte sequence");
	ok(!ed_utf8_valid("\xff", 1), "utf8: 0xff invalid");
	ok(!ed_utf8_valid("\xc0\xaf", 2), "utf8: overlong invalid");
	ok(!ed_utf8_valid("\xed\xa0\x80", 3), "utf8: surrogate invalid");
	ok(!ed_utf8_valid("\xe2\x82", 2), "utf8: truncated sequence invalid");

	ok(ed_buf_add_utf8_escaped(&b, "a\xff\\b", 4) == 0, "escape invalid bytes");
	is_str(b.p, "a\\xff\\\\b", "invalid byte as \\xHH, backslash doubled");
	ok(ed_utf8_valid(b.p, b.len), "the escaped form is valid UTF-8");
	ed_buf_release(&b);

	ok(ed_buf_add_shown(&b, "a\tb\xe2\x80\xae" "c\xff", 8, false) == 0, "shown text");
	is_str(b.p, "a\\x09b\\xe2\\x80\\xaec\\xff",
	       "tab, right-to-left override and an invalid byte shown as \\xHH");
	ed_buf_reset(&b);
	ed_buf_add_shown(&b, "a\tb", 3, true);
	is_str(b.p, "a\tb", "tabs kept when asked (file content)");
	ed_buf_release(&b);

	/* ed_term_add: what reaches a terminal; long text cut in the middle. */
	ok(ed_term_add(&b, "\033]0;t\007\033[2J\nenvdrift: x\x9b\x7f", 24) == 0, "terminal text");
	is_str(b.p, "\\x1b]0;t\\x07\\x1b[2J\\x0aenvdrift: x\\x9b\\x7f",
	       "ESC, BEL, newline, C1 and DEL shown as \\xHH");
	ed_buf_reset(&b);
	size_t big = 10 * ED_TERM_MAX;
	char *longs = malloc(big + 1);
	if (longs) {
		memset(longs, 'a', big);
		memcpy(longs + big - 6, "reason", 6);
		longs[big] = '\0';
	}
	ok(longs && ed_term_add(&b, longs, big) == 0 && b.len < ED_TERM_MAX + 64,
	   "a long text is cut to about ED_TERM_MAX bytes");
	ok(strstr(ed_buf_str(&b), " bytes cut ... ") && b.len > 6 &&
		   strcmp(b.p + b.len - 6, "reason") == 0,
	   "in the middle: its end (the reason) is kept");
	free(longs);
	ed_buf_release(&b);

	struct ed_err e = {0};
	ok(ed_name_check("--env", "production-1 caf\xc3\xa9", ED_NAME_MAX, &e) == ED_OK,
	   "a printable UTF-8 name is accepted");
	ok(ed_name_check("--host", "h\033]0;t", ED_NAME_MAX, &e) == ED_PARSE &&
		   strstr(e.msg, "--host: ") && strstr(e.msg, "0x1b at offset 1"),
	   "a name with ESC is refused, naming the field and the byte");
	ok(ed_name_check("$.role", "web\n", ED_NAME_MAX, &e) == ED_PARSE, "a newline is refused");
	ok(ed_name_check("x", "a\xe2\x80\xae", ED_NAME_MAX, &e) == ED_PARSE,
	   "a bidirectional override is refused");
	ok(ed_name_check("x", "st\xff" "age", ED_NAME_MAX, &e) == ED_OK,
	   "bytes that are not UTF-8 are allowed (shown as \\xHH)");
	ok(ed_name_check("x", "a\x9b" "2J", ED_NAME_MAX, &e) == ED_PARSE,
	   "a lone 0x9b (CSI to an 8-bit terminal) is refused");
	ok(ed_name_check("x", "a\xc2\x9b", ED_NAME_MAX, &e) == ED_PARSE, "so is U+009B");

	struct ed_fp a1, a2, k1, k2;
	char hex[33];
	ed_fp_of("", 0, &a1);
	ed_fp_hex(&a1, hex);
	/* XXH3-128 of the empty input, as printed by `xxh128sum /dev/null`. */
	is_str(hex, "99aa06d3014798d86001c324468d497f", "XXH3-128 of nothing matches xxh128sum");
	struct ed_hasher *h = ed_hasher_new();
	ed_hasher_update(h, "hello ", 6);
	ed_hasher_update(h, "world", 5);
	ed_hasher_final(h, &a1);
	ed_hasher_free(h);
	ed_fp_of("hello world", 11, &a2);
	ok(memcmp(a1.b, a2.b, ED_FP_LEN) == 0, "streaming and one-shot hashes agree");

	uint8_t key[ED_KEY_LEN] = {1, 2, 3};
	ok(ed_fp_keyed(key, "pw", 2, &k1, NULL) == ED_OK, "keyed fingerprint");
	key[0] = 9;
	ed_fp_keyed(key, "pw", 2, &k2, NULL);
	ok(memcmp(k1.b, k2.b, ED_FP_LEN) != 0, "another key gives another fingerprint");
	ed_fp_of("pw", 2, &a1);
	ok(memcmp(k1.b, a1.b, ED_FP_LEN) != 0, "keyed differs from the plain hash");
	struct ed_mac *m = ed_mac_new(key);
	ok(m != NULL, "streaming keyed fingerprint");
	ed_mac_update(m, "p", 1);
	ed_mac_update(m, "w", 1);
	ok(ed_mac_final(m, &a2, NULL) == ED_OK && memcmp(a2.b, k2.b, ED_FP_LEN) == 0,
	   "streaming and one-shot keyed fingerprints agree");
	/* started again, for messages shorter and longer than SHA-256's 64-byte block */
	static const char *const msgs[] = {"", "x", "a message longer than one SHA-256 block, which is "
					      "sixty-four bytes: this one is longer than that"};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct ed_fp one, streamed;
		size_t len = strlen(msgs[i]);
		ed_fp_keyed(key, msgs[i], len, &one, NULL);
		ok(ed_mac_reset(m) && ed_mac_update(m, msgs[i], len / 2) &&
		       ed_mac_update(m, msgs[i] + len / 2, len - len / 2) &&
		       ed_mac_final(m, &streamed, NULL) == ED_OK &&
		       memcmp(one.b, streamed.b, ED_FP_LEN) == 0,
		   "started again: a %zu-byte message as HMAC() says", len);
	}
	ed_mac_free(m);
	return tap_done();
}
