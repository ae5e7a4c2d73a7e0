/* SPDX-License-Identifier: MIT */
/* Path globs over fnmatch(3), and the case-insensitive name glob of secret patterns. */
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>

#include "ed/glob.h"

bool ed_glob_path_matches(const char *glob, const char *path, bool casefold)
{
	/* The file's name only when the glob has no slash: found only then, as this runs per file. */
	const char *subject = path;
	if (!strchr(glob, '/')) {
		const char *slash = strrchr(path, '/');
		if (slash)
			subject = slash + 1;
	}
	return fnmatch(glob, subject, casefold ? FNM_CASEFOLD : 0) == 0;
}

bool ed_glob_match_ci(const char *pat, const char *s, size_t len)
{
	/* Iterative matcher with single backtrack point: linear in practice. */
	size_t i = 0;
	const char *star = NULL;
	size_t star_i = 0;
	while (i < len) {
		if (*pat == '*') {
			star = pat++;
			star_i = i;
		} else if (*pat && (*pat == '?' || ed_ascii_lower((unsigned char)*pat) ==
							    ed_ascii_lower((unsigned char)s[i]))) {
			pat++;
			i++;
		} else if (star) {
			pat = star + 1;
			i = ++star_i;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}
