/* SPDX-License-Identifier: MIT */
/* Unit tests for the file collector: entry types, attributes, determinism, configs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/collect.h"
#include "sink_mem.h"
#include "tap.h"

static char root[256];

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(p, mode);
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static int cmp_item(const void *x, const void *y)
{
	const struct mem_item *a = x, *b = y;
	int c = strcmp(a->kind, b->kind);
	return c ? c : strcmp(a->key, b->key);
}

static enum ed_code collect(struct mem_sink *ms, const char *path)
{
	static const uint8_t key[ED_KEY_LEN] = {42};
	struct ed_secrets sec = {.key = key, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};
	struct ed_files_opts opts = {.secrets = &sec, .threads = 2};
	struct ed_source *src = NULL;
	struct ed_err err = {0};
	mem_sink_init(ms);
	enum ed_code rc = ed_source_local_new(root, &src, &err);
	if (!rc)
		rc = ed_files_collect(src, path, &opts, &ms->sink, &err);
	if (rc)
		printf("# %s\n", err.msg);
	ed_source_free(src);
	return rc;
}

int main(void)
{
	if (!tap_tmpdir(root, sizeof(root), "ed-files"))
		return 1;
	mk("etc");
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234::/:/bin/sh\n", 0644);
	put("etc/group", "root:x:0:\nappgrp:x:1234:\n", 0644);
	mk("etc/app");
	put("etc/app/run.sh", "#!/bin/sh\necho hi\n", 0755);
	put("etc/app/config.json", "{\"db\": {\"pool\": 10, \"password\": \"s3cret\"}}", 0640);
	put("etc/app/broken.json", "{\"db\": ", 0644);
	put("etc/app/db.password", "1234", 0600);
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/app/config.json", root);
	if (chown(p, 1234, 1234) != 0)
		printf("# chown failed (not root?)\n");
	snprintf(p, sizeof(p), "%s/etc/app/link", root);
	ok(symlink("run.sh", p) == 0, "fixture: the symlink etc/app/link");
	snprintf(p, sizeof(p), "%s/etc/app/pipe", root);
	ok(mkfifo(p, 0600) == 0, "fixture: the FIFO etc/app/pipe");
	snprintf(p, sizeof(p), "%s/etc/app/loop", root);
	ok(symlink("loop", p) == 0, "fixture: the looping symlink etc/app/loop");

	struct mem_sink a, b;
	ok(collect(&a, "/etc") == ED_OK, "collects /etc under the root");
	const struct mem_item *it;

	it = mem_sink_find(&a, "/etc/app/run.sh");
	ok(it && it->ftype == ED_FT_REG && it->mode == 0755 && strcmp(it->owner, "root") == 0,
	   "regular file: type, mode, owner");
	struct ed_fp want;
	ed_fp_of("#!/bin/sh\necho hi\n", 18, &want);
	ok(it && memcmp(it->fp.b, want.b, ED_FP_LEN) == 0, "regular file: XXH3-128 of its bytes");
	ok(it && it->size == 18, "regular file: size");

	it = mem_sink_find(&a, "/etc/app/config.json");
	ok(it && strcmp(it->owner, "app") == 0 && strcmp(it->group, "appgrp") == 0 &&
		   it->mode == 0640,
	   "owner and group named from the root's own passwd and group files");

	it = mem_sink_find(&a, "/etc/app/link");
	ok(it && it->ftype == ED_FT_LINK && it->target && strcmp(it->target, "run.sh") == 0,
	   "symlink: recorded with its target, not followed");
	it = mem_sink_find(&a, "/etc/app/loop");
	ok(it && it->ftype == ED_FT_LINK, "self-referencing symlink recorded");
	it = mem_sink_find(&a, "/etc/app/pipe");
	ok(it && it->ftype == ED_FT_FIFO && !it->error, "FIFO recorded by type, never opened");
	it = mem_sink_find(&a, "/etc/app");
	ok(it && it->ftype == ED_FT_DIR, "folder item");

	it = mem_sink_find(&a, "/etc/app/config.json#/db/pool");
	ok(it && strcmp(it->kind, "config") == 0 && it->value && strcmp(it->value, "10") == 0,
	   "JSON leaf as config item");
	it = mem_sink_find(&a, "/etc/app/config.json#/db/password");
	ok(it && it->value == NULL, "secret config item has no value");
	ok(mem_sink_warned(&a, "/etc/app/broken.json"), "malformed JSON is a warning naming it");

	/* Secrets are never stored as a plain hash: a short one would be guessed from it. */
	struct ed_fp plain;
	it = mem_sink_find(&a, "/etc/app/db.password");
	ed_fp_of("1234", 4, &plain);
	ok(it && memcmp(it->fp.b, plain.b, ED_FP_LEN) != 0 && it->attrs &&
		   strstr(it->attrs, "secret"),
	   "a file named like a secret gets a keyed fingerprint, not XXH3");
	static const char cfg[] = "{\"db\": {\"pool\": 10, \"password\": \"s3cret\"}}";
	it = mem_sink_find(&a, "/etc/app/config.json");
	ed_fp_of(cfg, strlen(cfg), &plain);
	ok(it && memcmp(it->fp.b, plain.b, ED_FP_LEN) != 0 && it->attrs &&
		   strstr(it->attrs, "secret"),
	   "a JSON config holding a secret gets a keyed file fingerprint");
	it = mem_sink_find(&a, "/etc/app/run.sh");
	ok(it && it->attrs == NULL, "an ordinary file is not marked secret");

	ok(collect(&b, "/etc") == ED_OK, "collects again");
	/* Threads finish in any order; the store orders by key, so compare sorted. */
	qsort(a.items, a.n, sizeof(*a.items), cmp_item);
	qsort(b.items, b.n, sizeof(*b.items), cmp_item);
	int same = a.n == b.n;
	for (size_t i = 0; same && i < a.n; i++)
		same = strcmp(a.items[i].key, b.items[i].key) == 0 &&
		       memcmp(a.items[i].fp.b, b.items[i].fp.b, ED_FP_LEN) == 0 &&
		       a.items[i].mode == b.items[i].mode &&
		       !a.items[i].value == !b.items[i].value &&
		       (!a.items[i].value || strcmp(a.items[i].value, b.items[i].value) == 0);
	ok(same, "two collections of the same tree give identical items (%zu)", a.n);
	mem_sink_release(&b);
	mem_sink_release(&a);

	ok(collect(&a, "/nonexistent") == ED_NOTFOUND, "a missing --path is an error");
	mem_sink_release(&a);

	struct mem_sink f;
	mem_sink_init(&f);
	f.fail_after = 3;
	struct ed_source *src = NULL;
	struct ed_err err = {0};
	static const uint8_t key2[ED_KEY_LEN] = {7};
	struct ed_secrets sec2 = {.key = key2, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};
	struct ed_files_opts opts = {.secrets = &sec2};
	ed_source_local_new(root, &src, &err);
	ok(ed_files_collect(src, "/etc", &opts, &f.sink, &err) == ED_STORE,
	   "a sink failure stops the walk with its error");
	ed_source_free(src);
	mem_sink_release(&f);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return tap_done();
}
