/* SPDX-License-Identifier: MIT */
/* ISO 8601 UTC times ("2026-11-26T08:15:08Z"): writing one, and checking and reading one. */
#include <stdio.h>

#include "ed/isotime.h"

void ed_isotime_format(time_t t, char out[ED_ISOTIME_SIZE])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, ED_ISOTIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, ED_ISOTIME_SIZE, "0000-01-01T00:00:00Z");
}

void ed_isotime_now(char out[ED_ISOTIME_SIZE])
{
	ed_isotime_format(time(NULL), out);
}

/* The fields of a string of the right shape; false when the shape or a field is wrong. */
static bool fields(const char *s, size_t len, struct tm *tm)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (len != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return false;
#define NUM2(p) ((s[p] - '0') * 10 + (s[(p) + 1] - '0'))
	int y = NUM2(0) * 100 + NUM2(2), mo = NUM2(5), d = NUM2(8);
	int h = NUM2(11), mi = NUM2(14), se = NUM2(17);
#undef NUM2
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return false;
	*tm = (struct tm){.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			  .tm_min = mi, .tm_sec = se};
	return true;
}

bool ed_isotime_valid(const char *s, size_t len)
{
	struct tm tm;
	return fields(s, len, &tm);
}

bool ed_isotime_parse(const char *s, size_t len, time_t *t)
{
	struct tm tm;
	if (!fields(s, len, &tm))
		return false;
	*t = timegm(&tm); /* normalises :60 to the next minute's :00 */
	return true;
}
