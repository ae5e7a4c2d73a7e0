/* SPDX-License-Identifier: MIT */
/* Unit tests for common/suggest.c: the edit distance and "did you mean". */
#include <stdint.h>
#include <string.h>

#include "ed/suggest.h"
#include "tap.h"

int main(void)
{
	/* The distance. */
	is_int(ed_suggest_distance("", ""), 0, "two empty strings: 0");
	is_int(ed_suggest_distance("diff", "diff"), 0, "equal: 0");
	is_int(ed_suggest_distance("", "gate"), 4, "from empty: the length");
	is_int(ed_suggest_distance("gate", ""), 4, "to empty: the length");
	is_int(ed_suggest_distance("dif", "diff"), 1, "one insertion");
	is_int(ed_suggest_distance("difff", "diff"), 1, "one deletion");
	is_int(ed_suggest_distance("daff", "diff"), 1, "one substitution");
	is_int(ed_suggest_distance("fromat", "format"), 1, "a swap of neighbours is one edit");
	is_int(ed_suggest_distance("ab", "ba"), 1, "a swap of the only two bytes");
	is_int(ed_suggest_distance("ca", "abc"), 3, "optimal string alignment: no edit of a swapped pair (3, not 2)");
	is_int(ed_suggest_distance("kitten", "sitting"), 3, "kitten -> sitting: 3");
	is_int(ed_suggest_distance("stagging", "staging"), 1, "stagging -> staging: 1");
	is_int(ed_suggest_distance("Staging", "staging"), 1, "case counts");
	is_int(ed_suggest_distance("production", "staging"), ed_suggest_distance("staging", "production"),
	       "symmetric");
	char longw[ED_SUGGEST_MAX + 2];
	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	ok(ed_suggest_distance(longw, "a") == SIZE_MAX, "longer than ED_SUGGEST_MAX: SIZE_MAX");
	ok(ed_suggest_distance(longw, longw) == 0, "  unless equal");
	longw[ED_SUGGEST_MAX] = '\0';
	is_int(ed_suggest_distance(longw, "a"), ED_SUGGEST_MAX - 1, "ED_SUGGEST_MAX bytes: computed");

	/* The suggestion. */
	const char *cmds[] = {"init", "collect", "inventory", "snapshots", "diff",
			      "gate", "policy", "report", "export", "ingest"};
	size_t ncmds = sizeof(cmds) / sizeof(cmds[0]);
	is_str(ed_suggest("dif", cmds, ncmds), "diff", "dif: diff");
	is_str(ed_suggest("colect", cmds, ncmds), "collect", "colect: collect");
	is_str(ed_suggest("snapshot", cmds, ncmds), "snapshots", "snapshot: snapshots");
	is_str(ed_suggest("gaet", cmds, ncmds), "gate", "gaet: gate (a swap)");
	is_str(ed_suggest("exprot", cmds, ncmds), "export", "exprot: export");
	ok(ed_suggest("diff", cmds, ncmds) == NULL, "a known word: no suggestion");
	ok(ed_suggest("frobnicate", cmds, ncmds) == NULL, "nothing close: NULL");
	ok(ed_suggest("x", cmds, ncmds) == NULL, "one byte: never (any word would be 'close')");
	ok(ed_suggest("", cmds, ncmds) == NULL, "empty: NULL");
	ok(ed_suggest("dif", cmds, 0) == NULL, "no words: NULL");
	const char *opts[] = {"format", "out", NULL, "show-ignored", "policy"};
	is_str(ed_suggest("fromat", opts, 5), "format", "fromat: format, a NULL word skipped");
	is_str(ed_suggest("polcy", opts, 5), "policy", "polcy: policy");
	ok(ed_suggest("outt", opts, 5) != NULL, "outt: out");
	ok(ed_suggest("abcd", opts, 5) == NULL, "4 bytes allow 1 edit only");
	const char *envs[] = {"production", "staging"};
	is_str(ed_suggest("stagging", envs, 2), "staging", "stagging: staging");
	is_str(ed_suggest("prodcution", envs, 2), "production", "prodcution: production");
	is_str(ed_suggest("Production", envs, 2), "production", "Production: production");
	ok(ed_suggest("prod", envs, 2) == NULL, "prod: too far from production");
	const char *tie[] = {"abcd", "abce"};
	is_str(ed_suggest("abcf", tie, 2), "abcd", "equally close: the first");
	return tap_done();
}
