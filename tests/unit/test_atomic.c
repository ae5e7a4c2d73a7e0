/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/atomic.c: a target replaced whole or not at all, no
 * temporary file left on any path, FIFOs and devices written, never replaced.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ed/atomic.h"
#include "ed/buf.h"
#include "tap.h"

/* The test's own folder, the current directory while the tests run. */
static char dir[256];

/* Entries of the test folder but "." and "..". */
static int count_entries(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

/* The file's contents, or "(none)" when it cannot be read (a static buffer). */
static const char *contents(const char *path)
{
	static struct ed_buf b = ED_BUF_INIT;
	struct ed_err err;
	ed_buf_reset(&b);
	if (ed_buf_read_file(&b, "test", path, 1 << 20, &err))
		return "(none)";
	return ed_buf_str(&b);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_new_and_replaced(void)
{
	struct ed_atomic *a = NULL;
	struct ed_err err = {0};
	const char *t = "out.txt";
	struct stat sb;

	ok(ed_atomic_open(t, 0640, &a, &err) == ED_OK && a, "open a new file%s%s",
	   err.msg[0] ? ": " : "", err.msg);
	if (!a)
		return;
	is_str(ed_atomic_name(a), t, "  named by its path");
	fputs("first\n", ed_atomic_file(a));
	ok(access(t, F_OK) != 0 && count_entries() == 1, "  before commit only a temporary file exists");
	ok(ed_atomic_commit(a, &err) == ED_OK, "  commit");
	is_str(contents(t), "first\n", "  the file holds what was written");
	is_int(count_entries(), 1, "  and no temporary file is left");
	ok(stat(t, &sb) == 0 && (sb.st_mode & 07777) == 0640,
	   "  mode 0640 as asked, under umask 022 (got %04o)", (unsigned)(sb.st_mode & 07777));

	ino_t old_ino = sb.st_ino;
	a = NULL;
	ok(ed_atomic_open(t, 0666, &a, &err) == ED_OK, "open it again");
	fputs("second, longer\n", ed_atomic_file(a));
	fflush(ed_atomic_file(a));
	is_str(contents(t), "first\n", "  the old file stays whole while the new one is written");
	ok(ed_atomic_commit(a, &err) == ED_OK, "  commit");
	is_str(contents(t), "second, longer\n", "  replaced whole");
	ok(stat(t, &sb) == 0 && sb.st_ino != old_ino && (sb.st_mode & 07777) == 0644,
	   "  by another file (a rename, not a rewrite), mode 0666 & ~022");
	is_int(count_entries(), 1, "  no temporary file is left");

	a = NULL;
	ok(ed_atomic_open(t, 0644, &a, &err) == ED_OK, "open it a third time");
	fputs("never\n", ed_atomic_file(a));
	fflush(ed_atomic_file(a));
	ed_atomic_abort(a);
	is_str(contents(t), "second, longer\n", "  abort leaves the old file");
	is_int(count_entries(), 1, "  and removes the temporary file");
	ed_atomic_abort(NULL);
	unlink(t);
}

static void test_failures(void)
{
	struct ed_atomic *a = NULL;
	struct ed_err err = {0};
	const char *t = "keep.txt";

	ok(ed_atomic_open("no/such/dir/x.txt", 0644, &a, &err) == ED_IO && !a &&
		   strstr(err.msg, "no/such/dir/x.txt.tmp.") && strstr(err.msg, "No such file"),
	   "a missing folder is refused, naming the file and the reason: %s", err.msg);
	ok(ed_atomic_open(dir, 0644, &a, &err) == ED_IO && strstr(err.msg, dir) &&
		   strstr(err.msg, "a folder"),
	   "a folder is refused: %s", err.msg);
	is_int(count_entries(), 0, "  nothing created");

	/* A write error at commit: the file size limit, as on a full disk. */
	put(t, "old\n");
	struct rlimit saved, small;
	getrlimit(RLIMIT_FSIZE, &saved);
	small = saved;
	small.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	ok(ed_atomic_open(t, 0644, &a, &err) == ED_OK, "open over an existing file");
	ok(setrlimit(RLIMIT_FSIZE, &small) == 0, "  limit files to 4096 bytes");
	for (int i = 0; i < 1000; i++)
		fputs("0123456789\n", ed_atomic_file(a));
	err = (struct ed_err){0};
	ok(ed_atomic_commit(a, &err) == ED_IO && strstr(err.msg, t) && strstr(err.msg, "cannot write"),
	   "  11000 bytes fail at commit, naming the file: %s", err.msg);
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, SIG_DFL);
	is_str(contents(t), "old\n", "  the old file is untouched");
	is_int(count_entries(), 1, "  and the temporary file is gone");
	unlink(t);

	/* A device is written directly, and its errors named: /dev/full. */
	a = NULL;
	if (access("/dev/full", W_OK) == 0) {
		ok(ed_atomic_open("/dev/full", 0644, &a, &err) == ED_OK, "open /dev/full");
		fputs("x\n", ed_atomic_file(a));
		ok(ed_atomic_commit(a, &err) == ED_IO && strstr(err.msg, "/dev/full: cannot write") &&
			   strstr(err.msg, "No space"),
		   "  its error is named: %s", err.msg);
		struct stat sb;
		ok(stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode), "  and it is still a device");
	} else {
		ok(1, "# SKIP /dev/full cannot be written here");
		ok(1, "# SKIP");
		ok(1, "# SKIP");
	}
}

static void test_fifo(void)
{
	const char *fifo = "doc.fifo", *got = "got.txt";
	struct ed_atomic *a = NULL;
	struct ed_err err = {0};
	struct stat sb;
	ok(mkfifo(fifo, 0600) == 0, "a FIFO");
	pid_t pid = fork();
	if (pid == 0) {
		/* The reader: copies what comes through the FIFO to a file. */
		char buf[4096];
		ssize_t n;
		int in = open(fifo, O_RDONLY), out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(in >= 0 && out >= 0 ? 0 : 1);
	}
	ok(pid > 0 && ed_atomic_open(fifo, 0644, &a, &err) == ED_OK, "  opened for writing%s%s",
	   err.msg[0] ? ": " : "", err.msg);
	if (a) {
		fputs("through the pipe\n", ed_atomic_file(a));
		ok(ed_atomic_commit(a, &err) == ED_OK, "  commit");
	}
	int status = -1;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "  the reader finished");
	is_str(contents(got), "through the pipe\n", "  the reader got what was written");
	ok(lstat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode), "  the FIFO is still a FIFO, not replaced");
	is_int(count_entries(), 2, "  no temporary file beside it");
	unlink(fifo);
	unlink(got);
}

static void test_stdout(void)
{
	struct ed_atomic *a = NULL;
	struct ed_err err = {0};
	const char *cap = "stdout.txt";
	/* Standard output goes to a file for a moment, so TAP's own lines are not mixed in. */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO), fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	enum ed_code orc = ed_atomic_open("-", 0644, &a, &err);
	const char *name = a ? ed_atomic_name(a) : "";
	bool is_stdout = a && ed_atomic_file(a) == stdout;
	if (a)
		fputs("to standard output\n", ed_atomic_file(a));
	enum ed_code crc = a ? ed_atomic_commit(a, &err) : ED_IO;
	bool still_open = fputs("", stdout) != EOF && fflush(stdout) == 0;
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ok(orc == ED_OK && is_stdout, "\"-\" is standard output");
	is_str(name, ED_STDOUT_NAME, "  named so in messages");
	ok(crc == ED_OK && still_open, "  commit flushes it and leaves it open");
	is_str(contents(cap), "to standard output\n", "  what was written went there");
	is_int(count_entries(), 1, "  no file named '-' or temporary file");
	unlink(cap);
}

int main(void)
{
	if (!tap_tmpdir(dir, sizeof(dir), "ed-atomic") || chdir(dir) != 0) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return 1;
	}
	umask(022);
	test_new_and_replaced();
	test_failures();
	test_fifo();
	test_stdout();
	if (chdir("/") == 0)
		rmdir(dir);
	return tap_done();
}
