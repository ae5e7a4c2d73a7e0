/* SPDX-License-Identifier: MIT */
/* Lexical path handling shared by every source, and source helpers built on the ops. */
#include <stdlib.h>
#include <string.h>

#include "ed/source.h"

bool ed_path_is_normal(const char *path)
{
	if (path[0] != '/')
		return false;
	if (path[1] == '\0')
		return true;
	for (const char *p = path; *p; p++) {
		if (*p != '/')
			continue;
		/* After each '/': a component, neither empty, "." nor "..". */
		const char *c = p + 1;
		if (*c == '/' || *c == '\0' ||
		    (c[0] == '.' && (c[1] == '/' || c[1] == '\0' ||
				     (c[1] == '.' && (c[2] == '/' || c[2] == '\0')))))
			return false;
	}
	return true;
}

int ed_path_normalize(const char *path, struct ed_buf *out)
{
	/* The walk asks for normal paths: one copy, no work. */
	if (ed_path_is_normal(path))
		return ed_buf_add(out, path, strlen(path));
	struct ed_buf tmp = ED_BUF_INIT;
	const char *p = path;
	if (ed_buf_addc(&tmp, '/'))
		return -1;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* Drop the last component; never above "/". */
			while (tmp.len > 1 && tmp.p[tmp.len - 1] != '/')
				tmp.len--;
			if (tmp.len > 1)
				tmp.len--;
			tmp.p[tmp.len] = '\0';
		} else {
			if ((tmp.len > 1 && ed_buf_addc(&tmp, '/')) || ed_buf_add(&tmp, p, n)) {
				ed_buf_release(&tmp);
				return -1;
			}
		}
		p += n;
	}
	int rc = ed_buf_add(out, tmp.p, tmp.len);
	ed_buf_release(&tmp);
	return rc;
}

bool ed_path_is_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void ed_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void ed_source_free(struct ed_source *src)
{
	if (src)
		src->ops->free(src);
}

enum ed_code ed_source_read_all(struct ed_source *src, const char *path, size_t max,
				struct ed_buf *out, struct ed_err *err)
{
	struct ed_file *f = NULL;
	enum ed_code rc = src->ops->open(src, path, &f, err);
	if (rc)
		return rc;
	char chunk[65536];
	for (;;) {
		size_t got = 0;
		rc = src->ops->read(f, chunk, sizeof(chunk), &got, err);
		if (rc || got == 0)
			break;
		if (out->len + got > max) {
			rc = ed_err_set(err, ED_TOOBIG, "%s: larger than %zu bytes", path, max);
			break;
		}
		if (ed_buf_add(out, chunk, got)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory reading the file", path);
			break;
		}
	}
	src->ops->close(f);
	return rc;
}
