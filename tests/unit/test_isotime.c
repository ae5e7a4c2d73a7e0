/* SPDX-License-Identifier: MIT */
/* Unit tests for common/isotime.c: the one format of times in the store and in documents. */
#include <string.h>

#include "ed/isotime.h"
#include "tap.h"

static void test_format(void)
{
	char out[ED_ISOTIME_SIZE];
	ed_isotime_format(0, out);
	is_str(out, "1970-01-01T00:00:00Z", "the epoch");
	ed_isotime_format(1795680908, out);
	is_str(out, "2026-11-26T08:15:08Z", "a time of day, in UTC");
	ed_isotime_format(951782400, out);
	is_str(out, "2000-02-29T00:00:00Z", "a leap day");
	ed_isotime_format(-1, out);
	is_str(out, "1969-12-31T23:59:59Z", "a second before the epoch");

	time_t before = time(NULL), t = 0;
	ed_isotime_now(out);
	time_t after = time(NULL);
	ok(ed_isotime_parse(out, strlen(out), &t) && t >= before && t <= after,
	   "now (%s) reads back as the current time", out);
}

static void test_valid(void)
{
	static const char *const good[] = {
		"2024-01-02T03:04:05Z", "2000-02-29T23:59:59Z", "2024-02-29T00:00:00Z",
		"2016-12-31T23:59:60Z", /* a leap second */
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
	};
	static const struct {
		const char *s, *why;
	} bad[] = {
		{"", "empty"},
		{"2024-01-02", "a date alone"},
		{"2024-01-02T03:04:05", "no zone"},
		{"2024-01-02T03:04:05z", "a lower-case z"},
		{"2024-01-02 03:04:05Z", "a blank for the T"},
		{"2024-01-02T03:04:05+00:00", "an offset"},
		{"2024-01-02T03:04:05.5Z", "fractions of a second"},
		{"2024-01-02T03:04:05Z ", "a trailing blank"},
		{" 2024-01-02T03:04:05Z", "a leading blank"},
		{"2024-1-02T03:04:05Z", "a one-digit month"},
		{"2024-13-01T00:00:00Z", "month 13"},
		{"2024-00-01T00:00:00Z", "month 0"},
		{"2024-01-00T00:00:00Z", "day 0"},
		{"2024-04-31T00:00:00Z", "April 31"},
		{"2023-02-29T00:00:00Z", "February 29 of a common year"},
		{"1900-02-29T00:00:00Z", "February 29 of 1900 (a century)"},
		{"2024-01-02T24:00:00Z", "hour 24"},
		{"2024-01-02T23:60:00Z", "minute 60"},
		{"2024-01-02T23:59:61Z", "second 61"},
		{"2024-01-02T03:04:0xZ", "a letter for a digit"},
		{"yesterday", "words"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(ed_isotime_valid(good[i], strlen(good[i])), "valid: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!ed_isotime_valid(bad[i].s, strlen(bad[i].s)), "refused: %s", bad[i].why);
	/* The length is what counts, not a NUL. */
	ok(!ed_isotime_valid("2024-01-02T03:04:05Z", 19), "refused: one character short");
	time_t t = 42;
	ok(!ed_isotime_parse("2024-13-01T00:00:00Z", 20, &t) && t == 42,
	   "parse refuses what valid refuses, leaving *t");
}

static void test_parse(void)
{
	time_t t = 0;
	ok(ed_isotime_parse("2026-11-26T08:15:08Z", 20, &t) && t == 1795680908,
	   "parse gives seconds since the epoch");
	ok(ed_isotime_parse("2016-12-31T23:59:60Z", 20, &t) && t == 1483228800,
	   "a leap second reads as the next minute's first");
	/* Format and parse are inverses, across centuries and leap years. */
	size_t bad = 0, n = 0;
	for (time_t s = -2208988800; s < 4102444800; s += 7654321 + n) {
		char out[ED_ISOTIME_SIZE];
		time_t back = 0;
		n++;
		ed_isotime_format(s, out);
		if (!ed_isotime_parse(out, strlen(out), &back) || back != s)
			bad++;
	}
	ok(n > 700 && bad == 0, "%zu times from 1900 to 2100 round-trip (%zu failed)", n, bad);
}

int main(void)
{
	test_format();
	test_valid();
	test_parse();
	return tap_done();
}
