/* SPDX-License-Identifier: MIT */
/* Unit tests for common/strlist.c: lists of owned strings. */
#include <string.h>

#include "ed/strlist.h"
#include "tap.h"

int main(void)
{
	struct ed_strlist l = {0};
	ok(!ed_strlist_has(&l, "a"), "the empty list has nothing");
	char word[] = "alpha";
	ok(ed_strlist_add(&l, word) == 0 && ed_strlist_add(&l, "beta") == 0, "adds");
	word[0] = 'A';
	is_int(l.n, 2, "two strings");
	is_str(l.v[0], "alpha", "the list keeps a copy, not the caller's string");
	ok(ed_strlist_has(&l, "beta") && ed_strlist_has(&l, "alpha"), "has what was added");
	ok(!ed_strlist_has(&l, "Alpha") && !ed_strlist_has(&l, "alph"), "exact, case-sensitive");
	ok(ed_strlist_add(&l, "alpha") == 0 && l.n == 3, "duplicates are the caller's to avoid");
	ed_strlist_release(&l);
	ok(l.v == NULL && l.n == 0, "release leaves the empty list");
	ok(ed_strlist_add(&l, "again") == 0 && l.n == 1 && strcmp(l.v[0], "again") == 0,
	   "a released list is reused");
	ed_strlist_release(&l);
	return tap_done();
}
