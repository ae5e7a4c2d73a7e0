/* SPDX-License-Identifier: MIT */
/*
 * The local source: the filesystem of this machine, confined under a root
 * folder. Paths are resolved with openat2(RESOLVE_IN_ROOT), so ".." and
 * symlinks in the middle of a path stay inside the root; where the kernel
 * lacks openat2, a component-by-component walk refuses symlinks instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ed/source.h"
#include "run_local.h"

struct local_source {
	struct ed_source base;
	int rootfd;        /* O_PATH descriptor of the root folder */
	char *root;        /* the root as given, for messages */
	bool have_openat2; /* cleared after the first ENOSYS */
	char *cdir;        /* normalised path of the cached parent folder, or NULL */
	size_t cdir_len;
	int cdirfd;        /* O_PATH descriptor of cdir, or -1 */
};

struct ed_file {
	int fd;
	char *path;  /* for messages */
	bool sparse; /* fewer blocks than its size: holes are not read */
	off_t pos;   /* where the next read starts */
	off_t data_end; /* the hole after the data at pos, when pos < data_end */
	off_t size;  /* at open, for a sparse file */
};

static struct local_source *local(struct ed_source *src)
{
	return (struct local_source *)src;
}

static enum ed_code errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return ED_NOTFOUND;
	case ENOMEM:
		return ED_NOMEM;
	case EXDEV:
	case ELOOP:
		return ED_DENIED;
	default:
		return ED_IO;
	}
}

static enum ed_code sys_fail(const char *path, const char *what, struct ed_err *err)
{
	int e = errno;
	return ed_err_set(err, errno_code(e), "%s: %s: %s", path, what, strerror(e));
}

/* Component walk used without openat2: no symlink may appear on the way. */
static int walk_nofollow(struct local_source *ls, const char *rel, int flags)
{
	int fd = openat(ls->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* rel is never empty here: resolve() handles the root itself. */
	const char *p = rel;
	while (fd >= 0 && *p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char name[NAME_MAX + 1];
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		while (*p == '/')
			p++;
		int last = *p == '\0';
		int nfd = openat(fd, name,
				 last ? flags | O_NOFOLLOW | O_CLOEXEC
				      : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		errno = e;
		fd = nfd;
	}
	return fd;
}

/* Opens normalised absolute path inside the root with flags; -1 and errno on failure. */
static int resolve(struct local_source *ls, const char *path, int flags)
{
	const char *rel = path + 1; /* skip the leading '/' */
	if (!*rel)
		rel = ".";
	if (ls->have_openat2) {
		struct open_how how = {
			.flags = (uint64_t)(flags | O_CLOEXEC),
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(SYS_openat2, ls->rootfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return (int)fd;
		ls->have_openat2 = false;
	}
	if (strcmp(rel, ".") == 0)
		return openat(ls->rootfd, ".", flags | O_CLOEXEC);
	return walk_nofollow(ls, rel, flags);
}

/*
 * Splits path into its parent folder (opened and cached, since a walk asks
 * for many entries of one folder in a row) and its last component.
 */
static enum ed_code parent_of(struct local_source *ls, const char *path, int *dirfd,
			      const char **name, struct ed_err *err)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash == path ? 1 : (size_t)(slash - path);
	*name = slash + 1;
	if (ls->cdir && ls->cdir_len == plen && memcmp(ls->cdir, path, plen) == 0) {
		*dirfd = ls->cdirfd;
		return ED_OK;
	}
	char *dir = ed_strndup(path, plen);
	if (!dir)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	int fd = resolve(ls, dir, O_PATH | O_DIRECTORY);
	if (fd < 0) {
		/* Name what the caller asked for, not its parent. */
		enum ed_code rc = sys_fail(path, "cannot reach its folder", err);
		free(dir);
		return rc;
	}
	if (ls->cdirfd >= 0)
		close(ls->cdirfd);
	free(ls->cdir);
	ls->cdir = dir;
	ls->cdir_len = plen;
	ls->cdirfd = fd;
	*dirfd = fd;
	return ED_OK;
}

/* Normalises path into buf; refuses empty paths and embedded oddities. */
static enum ed_code norm(const char *path, struct ed_buf *buf, struct ed_err *err)
{
	if (!path || !*path)
		return ed_err_set(err, ED_USAGE, "empty path");
	if (ed_path_normalize(path, buf))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	return ED_OK;
}

static void fill_stat(const struct stat *s, struct ed_stat *st)
{
	switch (s->st_mode & S_IFMT) {
	case S_IFREG: st->type = ED_FT_REG; break;
	case S_IFDIR: st->type = ED_FT_DIR; break;
	case S_IFLNK: st->type = ED_FT_LINK; break;
	case S_IFIFO: st->type = ED_FT_FIFO; break;
	case S_IFSOCK: st->type = ED_FT_SOCK; break;
	case S_IFCHR: st->type = ED_FT_CHR; break;
	case S_IFBLK: st->type = ED_FT_BLK; break;
	default: st->type = ED_FT_OTHER; break;
	}
	st->mode = s->st_mode & 07777;
	st->uid = s->st_uid;
	st->gid = s->st_gid;
	st->size = (int64_t)s->st_size;
	st->mtime_ns = (int64_t)s->st_mtim.tv_sec * 1000000000 + s->st_mtim.tv_nsec;
	st->ctime_ns = (int64_t)s->st_ctim.tv_sec * 1000000000 + s->st_ctim.tv_nsec;
	st->ino = (uint64_t)s->st_ino;
	st->dev = (uint64_t)s->st_dev;
}

static enum ed_code local_stat(struct ed_source *src, const char *path, struct ed_stat *st,
			       struct ed_err *err)
{
	struct local_source *ls = local(src);
	struct ed_buf p = ED_BUF_INIT;
	struct stat s;
	enum ed_code rc = ED_OK;
	/* A walk asks for a normal path per entry: no copy for it. */
	const char *np = path;
	if (!path || !ed_path_is_normal(path)) {
		if ((rc = norm(path, &p, err)))
			goto out;
		np = p.p;
	}
	if (strcmp(np, "/") == 0) {
		if (fstat(ls->rootfd, &s)) {
			rc = sys_fail(path, "cannot stat", err);
			goto out;
		}
	} else {
		int dfd;
		const char *name;
		rc = parent_of(ls, np, &dfd, &name, err);
		if (rc)
			goto out;
		if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW)) {
			rc = sys_fail(path, "cannot stat", err);
			goto out;
		}
	}
	fill_stat(&s, st);
out:
	ed_buf_release(&p);
	return rc;
}

static enum ed_code local_open(struct ed_source *src, const char *path, struct ed_file **out,
			       struct ed_err *err)
{
	struct local_source *ls = local(src);
	struct ed_buf p = ED_BUF_INIT;
	struct ed_file *f = NULL;
	int fd = -1;
	enum ed_code rc = norm(path, &p, err);
	if (rc)
		goto out;
	if (strcmp(p.p, "/") == 0) {
		rc = ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", path);
		goto out;
	}
	int dfd;
	const char *name;
	rc = parent_of(ls, p.p, &dfd, &name, err);
	if (rc)
		goto out;
	/* Never open anything but a regular file, not even to look at it. */
	struct stat pre;
	if (fstatat(dfd, name, &pre, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = sys_fail(path, "cannot stat", err);
		goto out;
	}
	if (!S_ISREG(pre.st_mode)) {
		rc = ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", path);
		goto out;
	}
	/* O_NONBLOCK: a FIFO swapped in since that check must not hang us. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rc = sys_fail(path, "cannot open", err);
		goto out;
	}
	struct stat s;
	if (fstat(fd, &s)) {
		rc = sys_fail(path, "cannot stat", err);
		goto out;
	}
	if (!S_ISREG(s.st_mode)) {
		rc = ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", path);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(p.p))) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}
	f->fd = fd;
	fd = -1;
	f->sparse = (off_t)s.st_blocks * 512 < s.st_size;
	f->size = s.st_size;
	*out = f;
	f = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (f)
		free(f->path);
	free(f);
	ed_buf_release(&p);
	return rc;
}

/*
 * A sparse file's holes read as zeros without touching the disk: lseek
 * SEEK_DATA/SEEK_HOLE find the data, and a hole gives len zero bytes (a 1 TiB
 * hole costs hashing, not reading). Returns true with *got set when it
 * answered; false to read as usual (data at pos, or no SEEK_DATA here).
 */
static bool read_hole(struct ed_file *f, void *buf, size_t len, size_t *got)
{
	if (f->pos < f->data_end)
		return false;
	off_t data = lseek(f->fd, f->pos, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		data = f->size > f->pos ? f->size : f->pos; /* a hole to the end */
	off_t hole = data >= 0 && data == f->pos ? lseek(f->fd, data, SEEK_HOLE) : -1;
	if (data < 0 || (data == f->pos && (hole < 0 || lseek(f->fd, f->pos, SEEK_SET) < 0))) {
		f->sparse = false; /* not supported here: read it all */
		lseek(f->fd, f->pos, SEEK_SET);
		return false;
	}
	if (data == f->pos) {
		f->data_end = hole;
		return false;
	}
	size_t n = (size_t)(data - f->pos) < len ? (size_t)(data - f->pos) : len;
	memset(buf, 0, n);
	f->pos += (off_t)n;
	*got = n;
	return true;
}

static enum ed_code local_read(struct ed_file *f, void *buf, size_t len, size_t *got,
			       struct ed_err *err)
{
	ssize_t n;
	if (f->sparse) {
		if (read_hole(f, buf, len, got)) {
			if (lseek(f->fd, f->pos, SEEK_SET) < 0)
				return sys_fail(f->path, "seek failed", err);
			return ED_OK;
		}
		if (f->sparse && (off_t)len > f->data_end - f->pos)
			len = (size_t)(f->data_end - f->pos);
	}
	do
		n = read(f->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sys_fail(f->path, "read failed", err);
	*got = (size_t)n;
	f->pos += n;
	return ED_OK;
}

static enum ed_code local_fstat(struct ed_file *f, struct ed_stat *st, struct ed_err *err)
{
	struct stat s;
	if (fstat(f->fd, &s))
		return sys_fail(f->path, "cannot stat", err);
	fill_stat(&s, st);
	return ED_OK;
}

static void local_close(struct ed_file *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f->path);
	free(f);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum ed_code local_list(struct ed_source *src, const char *path, char ***names,
			       size_t *n, struct ed_err *err)
{
	struct local_source *ls = local(src);
	struct ed_buf p = ED_BUF_INIT;
	DIR *d = NULL;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	enum ed_code rc = norm(path, &p, err);
	if (rc)
		goto out;
	int fd = resolve(ls, p.p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0) {
		rc = sys_fail(path, "cannot open folder", err);
		goto out;
	}
	/* The walk stats the entries next: keep the folder open for parent_of(). */
	int keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	char *kept = keep >= 0 ? ed_strndup(p.p, p.len) : NULL;
	if (kept) {
		if (ls->cdirfd >= 0)
			close(ls->cdirfd);
		free(ls->cdir);
		ls->cdir = kept;
		ls->cdir_len = p.len;
		ls->cdirfd = keep;
	} else if (keep >= 0) {
		close(keep);
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		rc = sys_fail(path, "cannot read folder", err);
		goto out;
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = sys_fail(path, "cannot read folder", err);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory listing", path);
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		if (!(v[cnt] = strdup(de->d_name))) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory listing", path);
			goto out;
		}
		cnt++;
	}
	if (rc)
		goto out;
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
out:
	ed_names_free(v, cnt);
	if (d)
		closedir(d);
	ed_buf_release(&p);
	return rc;
}

static enum ed_code local_readlink(struct ed_source *src, const char *path, struct ed_buf *out,
				   struct ed_err *err)
{
	struct local_source *ls = local(src);
	struct ed_buf p = ED_BUF_INIT;
	char target[PATH_MAX + 1];
	enum ed_code rc = norm(path, &p, err);
	if (rc)
		goto out;
	int dfd;
	const char *name;
	rc = parent_of(ls, p.p, &dfd, &name, err);
	if (rc)
		goto out;
	ssize_t n = readlinkat(dfd, name, target, sizeof(target));
	if (n < 0) {
		rc = sys_fail(path, "cannot read link", err);
		goto out;
	}
	if ((size_t)n >= sizeof(target)) {
		rc = ed_err_set(err, ED_TOOBIG, "%s: link target longer than %d bytes", path,
				PATH_MAX);
		goto out;
	}
	if (ed_buf_add(out, target, (size_t)n))
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
out:
	ed_buf_release(&p);
	return rc;
}

static enum ed_code local_local_path(struct ed_source *src, const char *path, struct ed_buf *out,
				     struct ed_err *err)
{
	struct local_source *ls = local(src);
	struct ed_buf p = ED_BUF_INIT;
	char proc[64], real[PATH_MAX + 1], rootreal[PATH_MAX + 1];
	int fd = -1;
	enum ed_code rc = norm(path, &p, err);
	if (rc)
		goto out;
	fd = resolve(ls, p.p, O_PATH);
	if (fd < 0) {
		rc = sys_fail(path, "cannot open", err);
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, real, sizeof(real) - 1);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", ls->rootfd);
	ssize_t m = readlink(proc, rootreal, sizeof(rootreal) - 1);
	if (n < 0 || m < 0 || (size_t)n >= sizeof(real) - 1 || (size_t)m >= sizeof(rootreal) - 1) {
		rc = ed_err_set(err, ED_IO, "%s: cannot find its path on this machine", path);
		goto out;
	}
	real[n] = '\0';
	rootreal[m] = '\0';
	/* The name may have moved since it was resolved; refuse if it is now outside. */
	if (!ed_path_is_inside(real, rootreal)) {
		rc = ed_err_set(err, ED_DENIED, "%s: resolves outside the root %s", path, ls->root);
		goto out;
	}
	if (ed_buf_adds(out, real))
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
out:
	if (fd >= 0)
		close(fd);
	ed_buf_release(&p);
	return rc;
}

static enum ed_code local_run(struct ed_source *src, const char *const *argv, size_t max,
			      int timeout_ms, struct ed_buf *out, int *exit_status,
			      struct ed_err *err)
{
	(void)src;
	if (!argv || !argv[0] || !argv[0][0])
		return ed_err_set(err, ED_USAGE, "no program to run");
	return ed_run_local(argv, max, timeout_ms, out, exit_status, err);
}

static enum ed_code local_stream(struct ed_source *src, const char *const *argv, int timeout_ms,
				 ed_source_out_fn out, void *ctx, int *exit_status,
				 struct ed_err *err)
{
	(void)src;
	if (!argv || !argv[0] || !argv[0][0])
		return ed_err_set(err, ED_USAGE, "no program to run");
	return ed_run_local_stream(argv, timeout_ms, true, out, ctx, exit_status, err);
}

static enum ed_code local_root_dir(struct ed_source *src, struct ed_buf *out, struct ed_err *err)
{
	return local_local_path(src, "/", out, err);
}

static enum ed_code local_dup(struct ed_source *src, struct ed_source **out, struct ed_err *err)
{
	struct local_source *ls = local(src);
	struct local_source *n = calloc(1, sizeof(*n));
	if (!n || !(n->root = strdup(ls->root))) {
		free(n);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	n->base.ops = ls->base.ops;
	n->cdirfd = -1;
	n->have_openat2 = ls->have_openat2;
	n->rootfd = fcntl(ls->rootfd, F_DUPFD_CLOEXEC, 0);
	if (n->rootfd < 0) {
		enum ed_code rc = sys_fail(ls->root, "cannot duplicate the root", err);
		free(n->root);
		free(n);
		return rc;
	}
	*out = &n->base;
	return ED_OK;
}

static void local_free(struct ed_source *src)
{
	struct local_source *ls = local(src);
	if (ls->cdirfd >= 0)
		close(ls->cdirfd);
	if (ls->rootfd >= 0)
		close(ls->rootfd);
	free(ls->cdir);
	free(ls->root);
	free(ls);
}

static const struct ed_source_ops local_ops = {
	.name = "local",
	.stat = local_stat,
	.open = local_open,
	.read = local_read,
	.fstat = local_fstat,
	.close = local_close,
	.list = local_list,
	.readlink = local_readlink,
	.local_path = local_local_path,
	.run = local_run,
	.stream = local_stream,
	.root_dir = local_root_dir,
	.dup = local_dup,
	.free = local_free,
};

enum ed_code ed_source_local_new(const char *root, struct ed_source **out, struct ed_err *err)
{
	if (!root || !*root)
		root = "/";
	struct local_source *ls = calloc(1, sizeof(*ls));
	if (!ls || !(ls->root = strdup(root))) {
		free(ls);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	ls->base.ops = &local_ops;
	ls->cdirfd = -1;
	ls->have_openat2 = true;
	ls->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ls->rootfd < 0) {
		int e = errno;
		enum ed_code rc = ed_err_set(err, errno_code(e), "root %s: %s", root,
					     e == ENOTDIR ? "not a folder" : strerror(e));
		free(ls->root);
		free(ls);
		return rc;
	}
	*out = &ls->base;
	return ED_OK;
}
