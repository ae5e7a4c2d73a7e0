/* SPDX-License-Identifier: MIT */
/* Unit tests for common/glob.c: path globs (profiles, policies) and name globs. */
#include <stdbool.h>

#include "ed/glob.h"
#include "tap.h"

static void test_path_globs(void)
{
	/* Without a '/', the glob sees the base name only. */
	ok(ed_glob_path_matches("*.conf", "/etc/nginx/nginx.conf", false), "base name: suffix");
	ok(!ed_glob_path_matches("nginx", "/etc/nginx/nginx.conf", false),
	   "base name: a folder's name does not match");
	ok(ed_glob_path_matches("nginx.conf", "/etc/nginx/nginx.conf", false), "base name: exact");
	ok(!ed_glob_path_matches("*.conf", "/etc/nginx.conf.bak", false), "base name: whole name");
	ok(ed_glob_path_matches("*.swp", ".x.swp", false), "a path without a '/' is its own base");

	/* With a '/', the whole path; '*' crosses '/' (no FNM_PATHNAME). */
	ok(ed_glob_path_matches("/etc/*.conf", "/etc/a/b/c.conf", false), "'*' crosses '/'");
	ok(!ed_glob_path_matches("/etc/*.conf", "/usr/etc/a.conf", false), "anchored at the start");
	ok(!ed_glob_path_matches("etc/*.conf", "/etc/a.conf", false),
	   "a relative glob with '/' never matches an absolute path");
	ok(ed_glob_path_matches("*/cache/*", "/var/cache/apt/x", false), "leading '*' with '/'");
	ok(ed_glob_path_matches("/home/*", "/home/u/.bashrc", false),
	   "a leading dot matches (no FNM_PERIOD)");
	ok(ed_glob_path_matches("*", "/etc/.hidden", false), "'*' matches a dot file's base name");

	/* fnmatch(3) syntax. */
	ok(ed_glob_path_matches("/etc/[ab].conf", "/etc/a.conf", false), "bracket expression");
	ok(!ed_glob_path_matches("/etc/[!ab].conf", "/etc/a.conf", false), "negated bracket");
	ok(ed_glob_path_matches("/etc/?.conf", "/etc/x.conf", false), "'?' one byte");
	ok(!ed_glob_path_matches("/etc/?.conf", "/etc/xy.conf", false), "'?' not two");

	/* Case. */
	ok(!ed_glob_path_matches("*.CONF", "/etc/a.conf", false), "case-sensitive by default");
	ok(ed_glob_path_matches("*.CONF", "/etc/a.conf", true), "casefold on the base name");
	ok(ed_glob_path_matches("/ETC/*", "/etc/shadow", true), "casefold on the whole path");
}

static void test_name_globs(void)
{
	ok(ed_glob_match_ci("*pass*", "DB_PASSWORD=x", 11), "only len bytes are read");
	ok(!ed_glob_match_ci("*word", "DB_PASSWORD=x", 13), "the bytes past len count when given");
	ok(ed_glob_match_ci("", "", 0), "empty pattern, empty name");
	ok(!ed_glob_match_ci("", "a", 1), "empty pattern, a name");
	ok(ed_glob_match_ci("***", "", 0), "stars match nothing");
	ok(!ed_glob_match_ci("[a]", "a", 1), "no bracket expressions: '[' is literal");
}

int main(void)
{
	test_path_globs();
	test_name_globs();
	return tap_done();
}
