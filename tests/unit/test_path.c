/* SPDX-License-Identifier: MIT */
/* Unit tests for path normalisation and confinement of the local source under --root. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/source.h"
#include "tap.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void ln(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p) != 0)
		printf("# symlink %s: %s\n", p, strerror(errno));
}

static const char *norm(const char *in)
{
	static struct ed_buf b;
	ed_buf_release(&b);
	ed_path_normalize(in, &b);
	return ed_buf_str(&b);
}

/* Reads path through the source; returns its text or an "ERR:" marker. */
static const char *cat(struct ed_source *src, const char *path)
{
	static struct ed_buf b;
	struct ed_err err = {0};
	ed_buf_release(&b);
	if (ed_source_read_all(src, path, 1 << 20, &b, &err)) {
		ed_buf_release(&b);
		ed_buf_adds(&b, "ERR:");
		ed_buf_adds(&b, ed_code_str(err.code));
	}
	return ed_buf_str(&b);
}

int main(void)
{
	is_str(norm("/etc/./app//x/"), "/etc/app/x", "normalise: dots and slashes");
	is_str(norm("/../../etc"), "/etc", "normalise: .. never above /");
	is_str(norm("a/b/../../../c"), "/c", "normalise: relative, clamped");
	is_str(norm("/"), "/", "normalise: root");
	is_str(norm(""), "/", "normalise: empty is root");
	ok(ed_path_is_inside("/etc/app", "/etc"), "inside: child");
	ok(ed_path_is_inside("/etc", "/etc"), "inside: itself");
	ok(!ed_path_is_inside("/etcetera", "/etc"), "inside: prefix is not a parent");
	ok(ed_path_is_inside("/x", "/"), "inside: everything is inside /");

	if (!tap_tmpdir(root, sizeof(root), "ed-path"))
		return 1;
	mk("etc");
	put("etc/hostname", "inside-root\n");
	mk("data");
	ln("/etc", "data/abs");          /* absolute link: must resolve inside the root */
	ln("../../../../..", "data/up"); /* climbs: must stop at the root */
	ln("/", "lnk");
	ln("loop2", "loop1");
	ln("loop1", "loop2");
	char fifo[512];
	snprintf(fifo, sizeof(fifo), "%s/data/fifo", root);
	mkfifo(fifo, 0644);

	struct ed_source *src = NULL;
	struct ed_err err = {0};
	ok(ed_source_local_new(root, &src, &err) == ED_OK, "local source under a root");
	is_str(cat(src, "/etc/hostname"), "inside-root\n", "plain path reads the root's file");
	is_str(cat(src, "/../../../etc/hostname"), "inside-root\n", "'..' cannot leave the root");
	is_str(cat(src, "/data/abs/hostname"), "inside-root\n",
	       "an absolute symlink in the middle resolves inside the root");
	is_str(cat(src, "/data/up/etc/hostname"), "inside-root\n",
	       "a climbing symlink stops at the root");
	is_str(cat(src, "/lnk/etc/hostname"), "inside-root\n", "a link to / is the root");
	ok(strncmp(cat(src, "/data/abs"), "ERR:", 4) == 0, "a final symlink is never opened");
	ok(strncmp(cat(src, "/loop1"), "ERR:", 4) == 0, "a symlink loop is an error, not a hang");
	ok(strncmp(cat(src, "/data/fifo"), "ERR:", 4) == 0, "a FIFO is refused without blocking");
	ok(strncmp(cat(src, "/etc"), "ERR:", 4) == 0, "a folder is not a regular file");

	struct ed_stat st;
	ok(src->ops->stat(src, "/data/abs", &st, &err) == ED_OK && st.type == ED_FT_LINK,
	   "stat does not follow a final symlink");
	ok(src->ops->stat(src, "/data/fifo", &st, &err) == ED_OK && st.type == ED_FT_FIFO,
	   "stat sees the FIFO");
	ok(src->ops->stat(src, "/nope", &st, &err) == ED_NOTFOUND && strstr(err.msg, "/nope"),
	   "a missing path is ED_NOTFOUND naming it");

	struct ed_buf b = ED_BUF_INIT;
	ok(src->ops->readlink(src, "/data/up", &b, &err) == ED_OK &&
		   strcmp(b.p, "../../../../..") == 0,
	   "readlink returns the target as written");
	ed_buf_release(&b);

	char **names = NULL;
	size_t n = 0;
	ok(src->ops->list(src, "/data", &names, &n, &err) == ED_OK && n == 3 &&
		   strcmp(names[0], "abs") == 0 && strcmp(names[1], "fifo") == 0 &&
		   strcmp(names[2], "up") == 0,
	   "list is sorted, without . and ..");
	ed_names_free(names, n);
	ok(src->ops->list(src, "/lnk", &names, &n, &err) != ED_OK,
	   "listing a symlink to a folder does not follow it");

	ok(src->ops->local_path(src, "/data/abs/hostname", &b, &err) == ED_OK &&
		   strncmp(b.p, root, strlen(root)) == 0,
	   "local_path stays inside the root: %s", ed_buf_str(&b));
	ed_buf_release(&b);
	/* run(): no shell, capped output, a deadline. */
	int status = -1;
	const char *echo[] = {"printf", "%s", "a;$(id) b", NULL};
	ok(src->ops->run(src, echo, 1024, 5000, &b, &status, &err) == ED_OK && status == 0 &&
		   strcmp(ed_buf_str(&b), "a;$(id) b") == 0,
	   "run passes arguments without a shell");
	ed_buf_release(&b);
	const char *fail[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
	ok(src->ops->run(src, fail, 1024, 5000, &b, &status, &err) == ED_OK && status == 3 &&
		   strstr(err.msg, "oops"),
	   "run reports a non-zero status with the program's stderr: %s", err.msg);
	const char *big[] = {"head", "-c", "100000", "/dev/zero", NULL};
	ok(src->ops->run(src, big, 1000, 5000, &b, &status, &err) == ED_TOOBIG && b.len == 0,
	   "run caps the output and keeps nothing of it");
	const char *slow[] = {"sleep", "10", NULL};
	ok(src->ops->run(src, slow, 1000, 200, &b, &status, &err) == ED_IO &&
		   strstr(err.msg, "200 ms"),
	   "run stops a program past its deadline");
	/* A program that started another and times out: both are killed. */
	char pidfile[600], shcmd[700];
	snprintf(pidfile, sizeof(pidfile), "%s/grandchild.pid", root);
	snprintf(shcmd, sizeof(shcmd), "sleep 30 & echo $! >'%s'; wait", pidfile);
	const char *tree[] = {"sh", "-c", shcmd, NULL};
	ok(src->ops->run(src, tree, 1000, 300, &b, &status, &err) == ED_IO,
	   "run stops a shell past its deadline");
	FILE *pf = fopen(pidfile, "r");
	long gpid = 0;
	if (pf) {
		if (fscanf(pf, "%ld", &gpid) != 1)
			gpid = 0;
		fclose(pf);
	}
	bool gone = false;
	for (int i = 0; i < 100 && gpid > 0 && !gone; i++) {
		/* Gone, or a zombie waiting for its new parent to reap it. */
		char stat[64], line[256] = "";
		snprintf(stat, sizeof(stat), "/proc/%ld/stat", gpid);
		FILE *sf = fopen(stat, "r");
		gone = !sf || !fgets(line, sizeof(line), sf) || strstr(line, ") Z ");
		if (sf)
			fclose(sf);
		if (!gone)
			usleep(10000);
	}
	ok(gpid > 0 && gone, "  and the program it started with it (its whole process group)");
	const char *none[] = {"ed-no-such-program", NULL};
	ok(src->ops->run(src, none, 1000, 1000, &b, &status, &err) == ED_NOTFOUND,
	   "run of a missing program is ED_NOTFOUND");
	ok(src->ops->root_dir(src, &b, &err) == ED_OK && strcmp(b.p, root) == 0,
	   "root_dir is the --root on this machine");
	ed_buf_release(&b);
	ed_source_free(src);

	ok(ed_source_local_new("/nonexistent/ed-root", &src, &err) == ED_NOTFOUND &&
		   strstr(err.msg, "/nonexistent/ed-root"),
	   "a missing root is an error naming it");
	ok(ed_source_local_new("/etc/hostname", &src, &err) != ED_OK && strstr(err.msg, "not a folder"),
	   "a root that is a file is refused");

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return tap_done();
}
