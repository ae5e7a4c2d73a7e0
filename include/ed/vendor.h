/* SPDX-License-Identifier: MIT */
/*
 * What the package manager shipped: dpkg's conffiles and their MD5, rpm's
 * config files and their digest (collector/vendor.c).
 */
#ifndef ED_VENDOR_H
#define ED_VENDOR_H

#include <stdbool.h>
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

/*
 * Adds the config files of `rpm -qa --queryformat ED_VENDOR_RPM_QUERYFORMAT`
 * output to v: lines "FLAGS\tALGO\tDIGEST\tPATH" where FLAGS (rpm's fflags)
 * holds 'c' (a config file) and ALGO is rpm's digest number (1 MD5, 2 SHA-1,
 * 8 SHA-256, 9 SHA-384, 10 SHA-512). Other and malformed lines are skipped.
 * Call ed_vendor_sort() after the last addition. ED_NOMEM only.
 */
#define ED_VENDOR_RPM_QUERYFORMAT \
	"[%{FILEFLAGS:fflags}\\t%{=FILEDIGESTALGO}\\t%{FILEDIGESTS}\\t%{FILENAMES}\\n]"
enum ed_code ed_vendor_parse_rpm(struct ed_str text, struct ed_vendor *v, struct ed_err *err);

/* Sorts v by path for lookups (ed_vendor_parse() does it itself). */
void ed_vendor_sort(struct ed_vendor *v);

/*
 * What the source's package managers shipped: ed_vendor_parse() of
 * /var/lib/dpkg/status and ed_vendor_parse_rpm() of its rpm database. A
 * package manager that is absent or cannot be read adds nothing (its own
 * collector reports why). ED_NOMEM only.
 */
enum ed_code ed_vendor_load(struct ed_source *src, struct ed_vendor *out, struct ed_err *err);

/* Did a package manager ship a file at path (whatever its bytes now)? */
bool ed_vendor_listed(const struct ed_vendor *v, const char *path);

/* Are body's bytes those the package manager recorded for path? */
bool ed_vendor_shipped(const struct ed_vendor *v, const char *path, struct ed_str body);

void ed_vendor_release(struct ed_vendor *v);

#endif
