/* SPDX-License-Identifier: MIT */
/* A growable list of owned strings (profile lists, command-line repeats). */
#ifndef ED_STRLIST_H
#define ED_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* {NULL, 0} is the empty list. The list owns v and every string in it. */
struct ed_strlist {
	char **v;
	size_t n;
};

/* Appends a copy of s; -1 on allocation failure (l unchanged). */
int ed_strlist_add(struct ed_strlist *l, const char *s);
/* Is s in l? */
bool ed_strlist_has(const struct ed_strlist *l, const char *s);
/* Frees every string and the array; l becomes the empty list. */
void ed_strlist_release(struct ed_strlist *l);

#endif
