/* SPDX-License-Identifier: MIT */
/*
 * Atomic output: a temporary file beside the target, fsync, rename, fsync of
 * the folder; standard output, FIFOs and devices written directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/atomic.h"
#include "ed/buf.h"

struct ed_atomic {
	FILE *f;
	char *path; /* the target; NULL for standard output */
	char *tmp;  /* the temporary file renamed to path at commit; NULL when written directly */
	mode_t mode; /* the target's mode, before the umask */
	gid_t gid;   /* its group, or (gid_t)-1 */
};

FILE *ed_atomic_file(struct ed_atomic *a)
{
	return a->f;
}

const char *ed_atomic_name(const struct ed_atomic *a)
{
	return a->path ? a->path : ED_STDOUT_NAME;
}

static void release(struct ed_atomic *a)
{
	if (a->f && a->f != stdout)
		fclose(a->f);
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	free(a);
}

void ed_atomic_abort(struct ed_atomic *a)
{
	if (a)
		release(a);
}

static enum ed_code write_err(const struct ed_atomic *a, struct ed_err *err)
{
	return ed_err_set(err, ED_IO, "%s: cannot write: %s", ed_atomic_name(a),
			  errno ? strerror(errno) : "write error");
}

enum ed_code ed_atomic_open(const char *path, mode_t mode, struct ed_atomic **out,
			    struct ed_err *err)
{
	struct ed_atomic *a = calloc(1, sizeof(*a));
	struct ed_buf t = ED_BUF_INIT;
	struct stat sb;
	enum ed_code rc = ED_OK;
	int fd = -1;
	*out = NULL;
	if (!a)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	a->mode = mode;
	a->gid = (gid_t)-1;
	if (!path || strcmp(path, "-") == 0) {
		a->f = stdout;
		*out = a;
		return ED_OK;
	}
	if (!(a->path = strdup(path))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		/* Renaming a file over a FIFO or a device would replace it with a plain file. */
		if (S_ISDIR(sb.st_mode)) {
			rc = ed_err_set(err, ED_IO, "%s: cannot write: a folder", path);
			goto fail;
		}
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = ed_err_set(err, ED_IO, "%s: cannot write: %s", path, strerror(errno));
			goto fail;
		}
	} else {
		if (ed_buf_addf(&t, "%s.tmp.XXXXXX", path)) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto fail;
		}
		fd = mkostemp(t.p, O_CLOEXEC); /* mode 0600 */
		if (fd < 0) {
			int e = errno;
			snprintf(t.p + t.len - 6, 7, "XXXXXX"); /* the name as asked, for the message */
			rc = ed_err_set(err, ED_IO, "%s: cannot create: %s", t.p, strerror(e));
			goto fail;
		}
		a->tmp = ed_buf_detach(&t);
	}
	if (!(a->f = fdopen(fd, "w"))) {
		close(fd);
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	*out = a;
	return ED_OK;
fail:
	ed_buf_release(&t);
	release(a);
	return rc;
}

void ed_atomic_group(struct ed_atomic *a, gid_t gid)
{
	a->gid = gid;
}

/* The process's umask, read without changing it (umask(2) would, for every thread). */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned m = 022;
	if (!f)
		return 022;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &m) == 1)
			break;
	fclose(f);
	return (mode_t)(m & 0777);
}

/* fsyncs the folder holding path, so the rename survives a power cut. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? ed_strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : ed_strndup(".", 1);
	if (!dir)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

enum ed_code ed_atomic_commit(struct ed_atomic *a, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	errno = 0;
	if (fflush(a->f) != 0 || ferror(a->f)) {
		rc = write_err(a, err);
		goto out;
	}
	if (a->f == stdout)
		goto out;
	/* Another group is a wish: a user not in it keeps the file to himself (0600 still). */
	if (a->tmp && a->gid != (gid_t)-1 && fchown(fileno(a->f), (uid_t)-1, a->gid) != 0)
		a->mode &= 0700;
	if (a->tmp && (fchmod(fileno(a->f), a->mode & ~current_umask()) != 0 ||
		       fsync(fileno(a->f)) != 0)) {
		rc = write_err(a, err);
		goto out;
	}
	FILE *f = a->f;
	a->f = NULL;
	if (fclose(f) != 0) {
		rc = write_err(a, err);
		goto out;
	}
	if (!a->tmp)
		goto out;
	if (rename(a->tmp, a->path) != 0) {
		rc = ed_err_set(err, ED_IO, "%s: cannot rename %s into place: %s", a->path, a->tmp,
				strerror(errno));
		goto out;
	}
	free(a->tmp);
	a->tmp = NULL;
	sync_dir(a->path); /* best effort: the file is complete and in place either way */
out:
	release(a);
	return rc;
}

int ed_tmpfile_open(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
		return fd;
	char path[4200];
	snprintf(path, sizeof(path), "%s/.envdrift-tmp.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}
