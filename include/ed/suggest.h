/* SPDX-License-Identifier: MIT */
/* "Did you mean": the known word closest to a mistyped one (commands, options, environments). */
#ifndef ED_SUGGEST_H
#define ED_SUGGEST_H

#include <stddef.h>

/* Longest word, in bytes, the distance is computed for. */
#define ED_SUGGEST_MAX 64

/*
 * The optimal string alignment distance (Damerau-Levenshtein without
 * editing a substring twice) between a and b: how many insertions,
 * deletions, substitutions of one byte and swaps of two neighbouring bytes
 * turn a into b ("fromat" -> "format": 1). Case counts. Two equal strings
 * are 0 apart; a string longer than ED_SUGGEST_MAX bytes is SIZE_MAX from
 * any other.
 */
size_t ed_suggest_distance(const char *a, const char *b);

/*
 * Of the n words, the one closest to typo if it is close enough to be what
 * was meant: at most 1 edit for a typo of up to 4 bytes, 2 up to 8, 3
 * beyond, and fewer edits than typo has bytes. The first of equally close
 * words wins; NULL words are skipped. Returns one of words (borrowed), or
 * NULL when none is close (or typo is one of them).
 */
const char *ed_suggest(const char *typo, const char *const *words, size_t n);

#endif
