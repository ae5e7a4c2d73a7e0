/* SPDX-License-Identifier: MIT */
/*
 * Globs: path globs (profiles, policies) and case-insensitive globs over one
 * name (secret patterns). Pure functions; nothing is allocated.
 */
#ifndef ED_GLOB_H
#define ED_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* ASCII lower case, without tolower()'s locale lookup: what the _ci matchers compare. */
static inline unsigned char ed_ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/*
 * Does path (absolute) match glob? A glob with a '/' is matched against the
 * whole path, one without against the base name; fnmatch(3) without
 * FNM_PATHNAME or FNM_PERIOD, so '*' crosses '/' and matches a leading dot
 * ("/etc/" "*.conf" matches every .conf file below /etc, at any depth).
 * casefold makes the match case-insensitive.
 */
bool ed_glob_path_matches(const char *glob, const char *path, bool casefold);

/*
 * Case-insensitive match of pattern ('*' and '?' over ASCII; no brackets)
 * against the len bytes at s, which need not end in a NUL.
 */
bool ed_glob_match_ci(const char *pattern, const char *s, size_t len);

#endif
