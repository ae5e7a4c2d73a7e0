/* SPDX-License-Identifier: MIT */
/* "Did you mean": an edit distance, and the closest of a few known words. */
#include <stdint.h>
#include <string.h>

#include "ed/suggest.h"

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

size_t ed_suggest_distance(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 0;
	size_t la = strlen(a), lb = strlen(b);
	if (la > ED_SUGGEST_MAX || lb > ED_SUGGEST_MAX)
		return SIZE_MAX;
	/* Three rows of the matrix: i-2, i-1 and i, each lb + 1 wide. */
	size_t rows[3][ED_SUGGEST_MAX + 1];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < cur[j])
				cur[j] = pp[j - 2] + 1;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *ed_suggest(const char *typo, const char *const *words, size_t n)
{
	size_t len = strlen(typo);
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	if (limit >= len)
		limit = len ? len - 1 : 0;
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (!words[i])
			continue;
		size_t d = ed_suggest_distance(typo, words[i]);
		if (d == 0)
			return NULL;
		if (d <= limit && d < best_d) {
			best = words[i];
			best_d = d;
		}
	}
	return best;
}
