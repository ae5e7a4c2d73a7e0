/* SPDX-License-Identifier: MIT */
/* Lists of owned strings. */
#include <stdlib.h>
#include <string.h>

#include "ed/strlist.h"

int ed_strlist_add(struct ed_strlist *l, const char *s)
{
	char *c = strdup(s);
	if (!c)
		return -1;
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		free(c);
		return -1;
	}
	v[l->n++] = c;
	l->v = v;
	return 0;
}

bool ed_strlist_has(const struct ed_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

void ed_strlist_release(struct ed_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
