/* SPDX-License-Identifier: MIT */
/* Secret rules: the default patterns and the match of one key name against them. */
#include <string.h>

#include "ed/buf.h"
#include "ed/glob.h"
#include "ed/collect.h"

const char *const ed_default_secret_patterns[] = {
	"*password*",
	"*secret*",
	"*token*",
	"*key*",
};
const size_t ed_default_secret_npatterns =
	sizeof(ed_default_secret_patterns) / sizeof(ed_default_secret_patterns[0]);

/*
 * sec == NULL or sec->patterns == NULL means the default patterns, so a caller
 * that forgets to fill them in errs on the safe side. To match nothing, pass a
 * non-NULL patterns array with npatterns == 0. NULL entries are skipped.
 */
bool ed_secret_name_matches(const struct ed_secrets *sec, const char *name, size_t len)
{
	const char *const *pats = ed_default_secret_patterns;
	size_t npats = ed_default_secret_npatterns;

	if (!name)
		return false;
	/* The patterns are C strings: a name with a NUL inside is never a match. */
	if (memchr(name, '\0', len))
		return false;
	if (sec && sec->patterns) {
		pats = sec->patterns;
		npats = sec->npatterns;
	}
	for (size_t i = 0; i < npats; i++)
		if (pats[i] && ed_glob_match_ci(pats[i], name, len))
			return true;
	return false;
}
