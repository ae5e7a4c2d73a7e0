/* SPDX-License-Identifier: MIT */
/* ISO 8601 UTC times as the store and the documents write them: "2026-11-26T08:15:08Z". */
#ifndef ED_ISOTIME_H
#define ED_ISOTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Room for any time gmtime() can break down (years beyond 9999 take more than 20 characters). */
#define ED_ISOTIME_SIZE 32

/*
 * Writes t as YYYY-MM-DDTHH:MM:SSZ in UTC and a NUL into out. A time that
 * gmtime() cannot break down (a year beyond what an int holds) is written
 * as "0000-01-01T00:00:00Z".
 */
void ed_isotime_format(time_t t, char out[ED_ISOTIME_SIZE]);

/* The current time, as ed_isotime_format() writes it. */
void ed_isotime_now(char out[ED_ISOTIME_SIZE]);

/*
 * Is s[0..len) exactly YYYY-MM-DDTHH:MM:SSZ, a real date and time (a leap
 * second :60 allowed)? No blanks, no other offset than Z.
 */
bool ed_isotime_valid(const char *s, size_t len);

/* When ed_isotime_valid(): seconds since the Unix epoch into *t (a leap second counts as :59 + 1). */
bool ed_isotime_parse(const char *s, size_t len, time_t *t);

#endif
