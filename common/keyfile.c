/* SPDX-License-Identifier: MIT */
/* Reading a copy of a store's secret key from a file of its own (collect --out --key). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/keyfile.h"

enum ed_code ed_keyfile_read(const char *path, uint8_t key[ED_KEY_LEN], struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	uint8_t buf[ED_KEY_LEN + 1];
	size_t got = 0;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO, "key %s: %s%s", path,
				  strerror(errno),
				  errno == ELOOP ? " (a symlink: give the file itself)" : "");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = ed_err_set(err, ED_IO, "key %s: not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077) {
		rc = ed_err_set(err, ED_DENIED,
				"key %s: readable by others (mode %04o); run 'chmod 600 %s'", path,
				(unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ed_err_set(err, ED_IO, "key %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != ED_KEY_LEN) {
		rc = ed_err_set(err, ED_IO,
				"key %s: expected exactly %d bytes (a store's .key file, or a copy of "
				"it), got %s%zu",
				path, ED_KEY_LEN, got > ED_KEY_LEN ? "more than " : "",
				got > ED_KEY_LEN ? (size_t)ED_KEY_LEN : got);
		goto out;
	}
	memcpy(key, buf, ED_KEY_LEN);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}
