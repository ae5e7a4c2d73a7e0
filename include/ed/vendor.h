/* SPDX-License-Identifier: MIT */
/* What the package manager shipped: dpkg's conffiles and their MD5 (collector/vendor.c). */
#ifndef ED_VENDOR_H
#define ED_VENDOR_H

#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/source.h"

struct ed_vendor_file;
struct ed_vendor {
	struct ed_vendor_file *files; /* sorted by path */
	size_t n;
};

/*
 * Reads the "Conffiles:" of every installed package ("Status: ... installed")
 * of a dpkg status file: " /etc/x 0123...abcdef" lines, the obsolete ones
 * left out. Malformed lines are skipped. ED_NOMEM only.
 */
enum ed_code ed_vendor_parse(struct ed_str status, struct ed_vendor *out, struct ed_err *err);

/* ed_vendor_parse() of the source's /var/lib/dpkg/status; none there is an empty table. */
enum ed_code ed_vendor_load(struct ed_source *src, struct ed_vendor *out, struct ed_err *err);

/* The MD5 (32 hex digits) dpkg recorded for path, or NULL. */
const char *ed_vendor_md5(const struct ed_vendor *v, const char *path);

void ed_vendor_release(struct ed_vendor *v);

#endif
