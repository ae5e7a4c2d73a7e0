/* SPDX-License-Identifier: MIT */
/*
 * The collectors as a table (collector/collectors.c): the plan a profile
 * makes, the messages of what it refuses, a run on a small root (auto finds
 * what is there, a manager named explicitly must work), and the collection
 * signature.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ed/collect.h"
#include "ed/profile.h"
#include "ed/source.h"
#include "sink_mem.h"
#include "tap.h"

static char root[256];

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(99);
}

static void write_file(const char *rel, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			die(path);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f))
		die(path);
}

static void make_dir(const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (mkdir(path, 0755) && errno != EEXIST)
		die(path);
}

/* The default profile with packages (and schemas) set from words. */
static void profile_with(struct ed_profile *p, const char *packages, const char *const *schemas)
{
	struct ed_err err;
	if (ed_profile_default(p, &err))
		die("default profile");
	ed_strlist_release(&p->packages);
	for (const char *w = packages; *w;) {
		size_t n = strcspn(w, ",");
		char word[32];
		snprintf(word, sizeof(word), "%.*s", (int)n, w);
		if (ed_strlist_add(&p->packages, word))
			die("out of memory");
		w += n + (w[n] == ',');
	}
	for (size_t i = 0; schemas && schemas[i]; i++)
		if (ed_strlist_add(&p->schemas, schemas[i]))
			die("out of memory");
}

/* The plan's steps as "name" or "name!" (named), space-separated. */
static const char *steps_of(const struct ed_collect_plan *plan)
{
	static char out[512];
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < plan->n && at < sizeof(out); i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s%s", i ? " " : "",
				       plan->steps[i].ops->name, plan->steps[i].named ? "!" : "");
	return out;
}

static void test_plans(void)
{
	static const struct {
		const char *packages, *want;
	} cases[] = {
		{"auto", "files system accounts dpkg rpm apk pypi npm"},
		{"none", "files system accounts"},
		{"npm,dpkg", "files system accounts dpkg! npm!"},
		{"dpkg,dpkg", "files system accounts dpkg!"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ed_profile p = {0};
		struct ed_collect_plan plan;
		struct ed_err err = {0};
		profile_with(&p, cases[i].packages, NULL);
		is_int(ed_collect_plan_init(&p, &plan, &err), ED_OK, "packages %s: a plan",
		       cases[i].packages);
		is_str(steps_of(&plan), cases[i].want, "  its steps");
		ed_collect_plan_release(&plan);
		ed_profile_release(&p);
	}

	static const char *const schemas[] = {"app=sqlite:/var/lib/app.db", "sqlite:/srv/x.y.db",
					      "postgres:dbname=shop host=db", "pg=postgres:host=db",
					      NULL};
	struct ed_profile p = {0};
	struct ed_collect_plan plan;
	struct ed_err err = {0};
	profile_with(&p, "none", schemas);
	is_int(ed_collect_plan_init(&p, &plan, &err), ED_OK, "four schemas: a plan");
	is_str(steps_of(&plan), "files system accounts sqlite! sqlite! postgres! postgres!",
	       "  one step per schema, in order");
	static const char *const labels[][2] = {{"app", "/var/lib/app.db"},
						{"x.y", "/srv/x.y.db"},
						{"shop", "dbname=shop host=db"},
						{"pg", "host=db"}};
	for (size_t i = 0; i < 4 && plan.n == 6; i++) {
		is_str(plan.steps[2 + i].label, labels[i][0], "  label %s", labels[i][0]);
		is_str(plan.steps[2 + i].target, labels[i][1], "  target %s", labels[i][1]);
	}
	ed_collect_plan_release(&plan);
	ok(plan.n == 0 && plan.steps == NULL, "a released plan is empty");
	ed_profile_release(&p);
}

static void test_names(void)
{
	char known[ED_COLLECTOR_NAMES_MAX];
	is_str(ed_collector_names(ED_COLLECTOR_PACKAGES, known), "dpkg, rpm, apk, pypi, npm",
	       "the package managers, in the order messages list them");
	is_str(ed_collector_names(ED_COLLECTOR_SCHEMA, known), "sqlite, postgres", "the schema engines");
	const struct ed_collector_ops *o = ed_collector_find(ED_COLLECTOR_PACKAGES, "rpmx", 3);
	ok(o && strcmp(o->name, "rpm") == 0, "find takes a length: 'rpm' of 'rpmx'");
	ok(!ed_collector_find(ED_COLLECTOR_PACKAGES, "sqlite", 6), "find looks in one kind only");
}

static void test_refused(void)
{
	static const struct {
		const char *packages, *schema, *want;
	} cases[] = {
		{"yum", NULL, "--packages: unknown manager 'yum' (known: auto, none, dpkg, rpm, apk, pypi, npm)"},
		{"none,dpkg", NULL, "--packages: 'none' cannot be combined with others"},
		{"none", "bogus", "--schema bogus: expected [NAME=]ENGINE:TARGET, e.g. app=sqlite:/var/lib/app.db"},
		{"none", "mysql:/x", "--schema mysql:/x: unknown engine 'mysql' (known: sqlite, postgres)"},
		{"none", "sqlite:x.db", "--schema sqlite:x.db: FILE must be an absolute path on the host"},
		{"none", "=sqlite:/x.db", "--schema =sqlite:/x.db: the name '' must be non-empty, without '/' or ':'"},
		{"none", "postgres:host=h password=s3cr3t", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *schemas[] = {cases[i].schema, NULL};
		struct ed_profile p = {0};
		struct ed_collect_plan plan;
		struct ed_err err = {0};
		profile_with(&p, cases[i].packages, schemas);
		is_int(ed_collect_plan_init(&p, &plan, &err), ED_USAGE, "refused: %s",
		       cases[i].schema ? cases[i].schema : cases[i].packages);
		if (cases[i].want)
			is_str(err.msg, cases[i].want, "  the message");
		else
			ok(!strstr(err.msg, "s3cr3t") && strstr(err.msg, "name it NAME=postgres:CONNINFO"),
			   "  the message never shows the password (%s)", err.msg);
		ok(plan.n == 0 && plan.steps == NULL, "  and no plan");
		ed_collect_plan_release(&plan);
		ed_profile_release(&p);
	}
}

/* Runs the plan of packages on the root; returns the code, ms the items. */
static enum ed_code run_on_root(const char *packages, struct mem_sink *ms, struct ed_err *err)
{
	static const uint8_t key[ED_KEY_LEN] = {1};
	struct ed_profile p = {0};
	struct ed_collect_plan plan;
	struct ed_source *src = NULL;
	struct ed_files_stats stats = {0};
	profile_with(&p, packages, NULL);
	ed_strlist_release(&p.paths);
	if (ed_strlist_add(&p.paths, "/etc"))
		die("out of memory");
	p.threads = 1;
	const struct ed_secrets secrets = {.key = key, .patterns = (const char *const *)p.secret_keys.v, .npatterns = p.secret_keys.n};
	enum ed_code rc = ed_collect_plan_init(&p, &plan, err);
	if (!rc)
		rc = ed_source_local_new(root, &src, err);
	if (!rc) {
		const struct ed_collect_ctx ctx = {.src = src, .sink = &ms->sink,
						   .secrets = &secrets, .profile = &p,
						   .stats = &stats};
		rc = ed_collect_run(&ctx, &plan, err);
	}
	ed_source_free(src);
	ed_collect_plan_release(&plan);
	ed_profile_release(&p);
	return rc;
}

static bool has_prefix(const struct mem_sink *ms, const char *prefix)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strncmp(ms->items[i].key, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void test_run(void)
{
	write_file("/etc/app.conf", "a = 1\n");
	write_file("/var/lib/dpkg/status", "Package: foo\nStatus: install ok installed\n"
					   "Architecture: amd64\nVersion: 1.0-1\n\n");
	make_dir("/var/lib/rpm"); /* empty, as Debian's rpm package leaves it */

	struct mem_sink ms;
	struct ed_err err = {0};
	mem_sink_init(&ms);
	is_int(run_on_root("auto", &ms, &err), ED_OK, "auto on a root with dpkg and an empty rpm folder");
	ok(mem_sink_find(&ms, "/etc/app.conf") != NULL, "  the files");
	ok(mem_sink_find(&ms, "dpkg:foo:amd64") != NULL, "  dpkg's packages");
	ok(has_prefix(&ms, "os/") || has_prefix(&ms, "kernel/") || ms.n > 2, "  system facts");
	ok(!has_prefix(&ms, "rpm:") && !has_prefix(&ms, "apk:"), "  nothing of managers not there");
	mem_sink_release(&ms);

	mem_sink_init(&ms);
	is_int(run_on_root("rpm", &ms, &err), ED_NOTFOUND, "rpm named, without an rpm database: an error");
	mem_sink_release(&ms);
	mem_sink_init(&ms);
	is_int(run_on_root("apk", &ms, &err), ED_NOTFOUND, "apk named, without an apk database: an error");
	mem_sink_release(&ms);
	mem_sink_init(&ms);
	is_int(run_on_root("none", &ms, &err), ED_OK, "none: no package manager");
	ok(!has_prefix(&ms, "dpkg:"), "  not even dpkg, though it is there");
	mem_sink_release(&ms);
}

static void test_sig(void)
{
	struct ed_profile p = {0};
	struct ed_err err = {0};
	char a[ED_COLLECT_SIG_SIZE], b[ED_COLLECT_SIG_SIZE], c[ED_COLLECT_SIG_SIZE];
	profile_with(&p, "auto", NULL);
	ok(ed_collect_sig(&p, NULL, a, &err) == ED_OK && strlen(a) == 64, "a signature: 64 hex digits");
	ok(ed_collect_sig(&p, "/", b, &err) == ED_OK && strcmp(a, b) == 0, "  no root is the root /");
	ok(ed_collect_sig(&p, "/srv/image", c, &err) == ED_OK && strcmp(a, c) != 0,
	   "  another root, another signature");
	ok(memcmp(a, c, 32) == 0, "  but the same rules (the first half)");
	p.max_keys = 7;
	ok(ed_collect_sig(&p, NULL, c, &err) == ED_OK && memcmp(a, c, 32) != 0,
	   "  another max_keys, other rules");
	p.max_keys = 0;
	ed_strlist_release(&p.packages);
	if (ed_strlist_add(&p.packages, "none"))
		die("out of memory");
	ok(ed_collect_sig(&p, NULL, c, &err) == ED_OK && strcmp(a, c) != 0,
	   "  other packages, another signature");
	ok(ed_collect_sig(&p, NULL, a, &err) == ED_OK, "  (again)");
	p.data_sample_rows = 5; /* not collected: no part of the signature */
	ok(ed_collect_sig(&p, NULL, b, &err) == ED_OK && strcmp(a, b) == 0,
	   "  [data] settings without shape = yes: the same signature");
	p.data_shape = true;
	ok(ed_collect_sig(&p, NULL, b, &err) == ED_OK && strcmp(a, b) != 0 &&
		   memcmp(a, b, 32) == 0,
	   "  the data shape: another signature, the same rules");
	p.data_sample_rows = 6;
	ok(ed_collect_sig(&p, NULL, c, &err) == ED_OK && strcmp(b, c) != 0,
	   "  another sample_rows, another signature");
	ed_profile_release(&p);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

int main(void)
{
	if (!tap_tmpdir(root, sizeof(root), "envdrift-test-collectors"))
		die("mkdtemp");
	test_plans();
	test_names();
	test_refused();
	test_run();
	test_sig();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
