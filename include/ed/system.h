/* SPDX-License-Identifier: MIT */
/*
 * System facts: what changes test results without being a file or a package
 * (OS release, kernel, architecture, timezone, locale, named sysctl values),
 * as items of kind "system". See docs/profile.md, section SYSTEM FACTS.
 */
#ifndef ED_SYSTEM_H
#define ED_SYSTEM_H

#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/item.h"
#include "ed/profile.h"
#include "ed/source.h"

#ifndef ED_KIND_SYSTEM
#define ED_KIND_SYSTEM "system"
#endif

/* Largest os-release, locale or /proc/sys file read, in bytes. */
#define ED_SYSTEM_FILE_MAX (64u * 1024)

/* Most distinct variables kept from one os-release-style file; more are warned about. */
#define ED_SYSTEM_MAX_VARS 256

/* One NAME=value assignment of an os-release(5)-style file. */
struct ed_sysvar {
	char *name;  /* owned; [A-Za-z_][A-Za-z0-9_]* */
	char *value; /* owned, NUL-terminated; never holds a NUL byte */
	size_t len;  /* bytes in value */
	int line;    /* 1-based line of the assignment that won */
};

/* The assignments of one file, in first-appearance order; {NULL, 0} when empty. */
struct ed_sysvars {
	struct ed_sysvar *v;
	size_t n;
};

/*
 * Parses os-release(5) text (also /etc/default/locale and /etc/locale.conf):
 * NAME=VALUE lines with shell-like quoting. Blank lines and lines starting
 * with '#' are skipped; "export NAME=..." is accepted. A value may mix bare
 * text (a backslash quotes the next character), '...' (literal) and "..."
 * (a backslash quotes only $ ` " and \); unquoted blanks end it, and only a
 * '#' comment may follow. A later assignment of a name replaces an earlier
 * one. A malformed line (no NAME=, an unterminated quote, a NUL byte, text
 * after the value) is a warning "ORIGIN:LINE: problem" sent to sink (which
 * may be NULL) and is skipped. Appends to out, which the caller releases with
 * ed_system_vars_release() (also after an error). Returns ED_OK or ED_NOMEM.
 */
enum ed_code ed_system_parse_env(struct ed_str text, const char *origin, struct ed_sink *sink,
				 struct ed_sysvars *out, struct ed_err *err);

void ed_system_vars_release(struct ed_sysvars *vars);

/*
 * Reads the host's facts through src and emits one item of kind "system" per
 * fact, sorted by key; value is the fact's text, fp its XXH3-128 (of the raw
 * bytes; a value that is not valid UTF-8 is shown escaped as by
 * ed_buf_add_utf8_escaped()):
 *
 *   os/NAME         every variable of /etc/os-release, else /usr/lib/os-release
 *                   (symlinks followed inside the source)
 *   kernel/release  /proc/sys/kernel/osrelease; on the machine's own "/" from
 *                   uname(2) if /proc is unreadable
 *   arch            on the machine's own "/": uname(2)'s machine; on a remote
 *                   source: `uname -m` run on the host; under another --root:
 *                   the root's /proc/sys/kernel/arch when present
 *   timezone        the target of the /etc/localtime symlink after its last
 *                   "zoneinfo/" (what libc uses), else the first line of
 *                   /etc/timezone
 *   locale/NAME     every variable of /etc/default/locale, else /etc/locale.conf
 *   sysctl/KEY      for each key of sysctl (canonical dotted form), the content
 *                   of /proc/sys/PATH (see ed_profile_sysctl_key()) with runs of
 *                   white space turned into one space and the ends trimmed
 *
 * A missing file means no item and no warning, except that a named sysctl key
 * that does not exist is a warning, when /proc/sys exists (a root without
 * /proc/sys is an image on disk: no kernel, so no sysctl items and no
 * warning). A sysctl file that exists but cannot be read is an item with an
 * error (fp: XXH3 of the error text) and a warning; other unreadable or
 * malformed files are warnings. sysctl may be NULL (no sysctl items).
 * Returns ED_OK, ED_NOMEM, or the sink's error.
 */
enum ed_code ed_system_collect(struct ed_source *src, const struct ed_strlist *sysctl,
			       struct ed_sink *sink, struct ed_err *err);

#endif
