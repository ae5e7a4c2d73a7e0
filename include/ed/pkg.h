/* SPDX-License-Identifier: MIT */
/*
 * Package collectors beyond dpkg: apk, rpm, Python (pypi) and npm. Each has a
 * parser on bytes (fuzzable, never given a path) and a collector that reads
 * through a source, so a local root and an SSH host are read alike.
 */
#ifndef ED_PKG_H
#define ED_PKG_H

#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/item.h"
#include "ed/source.h"

/*
 * Common rules for every function below.
 * - Items are ED_KIND_PACKAGE with a borrowed key, value and attrs (JSON text
 *   {"manager":...}); the sink copies what it keeps.
 * - A problem with one input (a bad line, a bad entry, an unreadable
 *   metadata file) is a warning to the sink naming the input and, where the
 *   format has lines, the line ("ORIGIN:LINE: problem"; for JSON, the entry,
 *   or line and column of a syntax error), and the rest is still collected;
 *   the call then still returns ED_OK. At most 100 warnings per input, then
 *   one saying the rest are suppressed.
 * - Errors returned: the sink's own error (it aborts), ED_NOMEM, and those
 *   listed per function. err is untouched on success.
 * - Versions are recorded exactly as the package manager writes them.
 */

/* --- apk (collector/pkg_apk.c) --- */

/* Where apk keeps its installed database, under the host's root. */
#define ED_APK_DB_PATH "/lib/apk/db/installed"

/*
 * Parses an apk installed database (blocks of "X:value" lines separated by
 * blank lines; P name, V version, A architecture, other fields ignored) read
 * from origin (used in warnings). Emits one item per package: key "apk:NAME",
 * value VERSION, fingerprint of "VERSION\nARCH", attrs {"arch":ARCH,
 * "manager":"apk"} (no "arch" when the block has no A line; the fingerprint
 * then is of "VERSION\n"). A block without P or V, with a duplicate field, a
 * line that is not "X:value", or a name already listed is a warning naming
 * origin and line, and is skipped.
 */
enum ed_code ed_apk_parse(struct ed_str text, const char *origin, struct ed_sink *sink,
			  struct ed_err *err);

/*
 * Reads ED_APK_DB_PATH from src (at most 256 MiB) and parses it.
 * ED_NOTFOUND when the host has no apk database; ED_IO/ED_TOOBIG/ED_DENIED
 * from the source, naming the path.
 */
enum ed_code ed_apk_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err);

/* --- rpm (collector/pkg_rpm.c) --- */

/* The query format ed_rpm_collect() asks rpm for; ed_rpm_parse() reads its output. */
#define ED_RPM_QUERYFORMAT "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n"
/*
 * Runs `rpm [--root ROOT] --dbpath DIR -qa --queryformat queryformat` on the
 * source's host (its rpm, its database) into out, and the command's name for
 * messages into origin ("rpm -qa (ROOT/var/lib/rpm)"). ED_NOTFOUND when the
 * host has no rpm database, ED_UNSUPPORTED when it has one but no rpm
 * program; other failures name the command.
 */
enum ed_code ed_rpm_query(struct ed_source *src, const char *queryformat, struct ed_buf *out,
			  struct ed_buf *origin, struct ed_err *err);

/* Largest rpm output read, and how long rpm may take. */
#define ED_RPM_OUTPUT_MAX ((size_t)64 * 1024 * 1024)
#define ED_RPM_TIMEOUT_MS 120000

/*
 * Parses the output of `rpm -qa --queryformat ED_RPM_QUERYFORMAT` (one line
 * "NAME\tEPOCH\tVERSION\tRELEASE\tARCH" per installed header; origin names it
 * in warnings). Emits, in key order, one item per NAME.ARCH:
 *   key    "rpm:NAME.ARCH", or "rpm:NAME" when ARCH is "(none)" (gpg-pubkey);
 *   value  "EPOCH:VERSION-RELEASE", or "VERSION-RELEASE" when EPOCH is "(none)";
 *          when several versions of one NAME.ARCH are installed (kernels,
 *          gpg-pubkey), their values sorted by byte value, duplicates
 *          dropped, joined with ", " (a value holds no spaces, so this
 *          splits back unambiguously);
 *   fp     of "VALUE\nARCH" (ARCH as rpm prints it, "(none)" included);
 *   attrs  {"arch":ARCH,"manager":"rpm"}.
 * A line without exactly five fields, an empty field, a byte that is a
 * space or control, invalid UTF-8, an EPOCH that is neither digits nor
 * "(none)", or an ARCH holding '.' or ':' is a warning naming origin and
 * line, and the line is skipped.
 */
enum ed_code ed_rpm_parse(struct ed_str text, const char *origin, struct ed_sink *sink,
			  struct ed_err *err);

/*
 * Finds the rpm database under the source's root (/var/lib/rpm or
 * /usr/lib/sysimage/rpm, a real folder holding rpmdb.sqlite, Packages or
 * Packages.db; symlinks are not followed) and runs, through src->ops->run,
 *   rpm [--root ROOT] --dbpath DB -qa --queryformat ED_RPM_QUERYFORMAT
 * (--root only when src->ops->root_dir names a folder other than "/";
 * --dbpath always, since Debian's rpm defaults to ~/.rpmdb), with output
 * capped at ED_RPM_OUTPUT_MAX and a deadline of ED_RPM_TIMEOUT_MS, then
 * parses the output (origin in warnings: "rpm -qa (ROOTDB)"). ED_NOTFOUND
 * when there is no rpm database; ED_UNSUPPORTED when there is one but no rpm
 * program to read it (on the host, or on this machine for a --root); ED_IO
 * when rpm fails, times out or exits non-zero (message with the start of its
 * stderr); ED_TOOBIG when it prints more than the cap.
 */
enum ed_code ed_rpm_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err);

/* --- Python packages (collector/pkg_pypi.c) --- */

/* Header bytes read from one METADATA/PKG-INFO file; the body after them is not read. */
#define ED_PYPI_HEAD_MAX ((size_t)1024 * 1024)

/*
 * Parses the RFC 822 style header block of a core metadata file (METADATA of
 * a .dist-info, PKG-INFO of a .egg-info) up to the first blank line, and
 * appends the first Name and Version values to name and version (header
 * names are case-insensitive; folded continuation lines are allowed in other
 * headers only). Returns ED_OK, ED_NOMEM, or ED_PARSE with a message
 * "ORIGIN:LINE: problem" when a header line is malformed, Name or Version is
 * missing, empty, repeated or continued, not valid UTF-8, holds a space or a
 * control byte, or Name is not a PEP 508 name ([A-Za-z0-9._-], starting and
 * ending with a letter or digit). name and version are unchanged on error.
 */
enum ed_code ed_pypi_metadata_parse(struct ed_str text, const char *origin, struct ed_buf *name,
				    struct ed_buf *version, struct ed_err *err);

/*
 * Appends the PEP 503 normalised form of a distribution name to out: lower
 * case, each run of '-', '_' and '.' replaced by one '-'. Returns 0 or -1
 * when out of memory (out unchanged).
 */
int ed_pypi_normalize(const char *name, size_t len, struct ed_buf *out);

/*
 * Collects the installed Python distributions found in site-packages folders:
 * dirs[0..ndirs) (absolute host paths, normalised; symlinks not followed),
 * or, when ndirs is 0, every folder /usr/lib/python3X/{site,dist}-packages
 * and /usr/local/lib/python3X/{site,dist}-packages that exists (X: any
 * suffix, so python3 and python3.11 alike). In each folder, NAME.dist-info/METADATA,
 * NAME.egg-info/PKG-INFO and a NAME.egg-info that is itself a file are read
 * (headers only, at most ED_PYPI_HEAD_MAX bytes each) and parsed.
 * Emits, in key order, one item per normalised name:
 *   key    "pypi:NAME" (NAME normalised with ed_pypi_normalize());
 *   value  the version as written; when the name is installed more than once
 *          (in two folders, or twice in one) the distinct versions sorted by
 *          byte value and joined with ", ";
 *   fp     of the value;
 *   attrs  {"location":FOLDERS,"manager":"pypi"}, FOLDERS the distinct
 *          folders where it was found, sorted and joined with ", ".
 * An unreadable or malformed metadata file is a warning; a named folder that
 * does not exist is a warning. ED_NOTFOUND when none of the folders exists
 * (or, for ndirs 0, no site-packages folder was found).
 */
enum ed_code ed_pypi_collect(struct ed_source *src, const char *const *dirs, size_t ndirs,
			     struct ed_sink *sink, struct ed_err *err);

/* --- npm (collector/pkg_npm.c) --- */

/* Largest package-lock.json and package.json read. */
#define ED_NPM_LOCK_MAX ((size_t)64 * 1024 * 1024)
#define ED_NPM_MANIFEST_MAX ((size_t)4 * 1024 * 1024)

/*
 * npm items are keyed by where a package is installed, so that a lock file
 * and the node_modules tree it produces give the same keys, and the same
 * project on two hosts compares package by package:
 *   key    "npm:" + the folder the package is (or would be) installed in,
 *          e.g. "npm:/srv/app/node_modules/express",
 *          "npm:/srv/app/node_modules/debug/node_modules/ms",
 *          "npm:/usr/local/lib/node_modules/@types/node";
 *   value  the version as written ("version" of the lock entry or of the
 *          package.json);
 *   fp     of the value;
 *   attrs  {"manager":"npm","name":NAME} (NAME the package's own name:
 *          the lock entry's "name" for an alias, else the folder's; the
 *          package.json "name") plus "dev":true / "optional":true when
 *          the lock marks it so.
 */

/*
 * Parses a package-lock.json (text read from lock_path, an absolute host
 * path; its folder prefixes every key). lockfileVersion 2 and 3: every
 * "packages" entry whose path lies under a node_modules folder (the root
 * project "", workspace folders and "link": true entries are skipped).
 * lockfileVersion 1 (no "packages"): the "dependencies" tree, nested
 * dependencies installed under their parent's node_modules. Invalid JSON,
 * duplicate object keys (JSON_REJECT_DUPLICATES) and a lockfileVersion other
 * than 1, 2, 3 are warnings naming lock_path, line and column, and nothing
 * is emitted; an entry without a string version is a warning naming the
 * entry, and is skipped. Depth of the v1 tree is capped at 64.
 */
enum ed_code ed_npm_lock_parse(struct ed_str text, const char *lock_path, struct ed_sink *sink,
			       struct ed_err *err);

/*
 * Collects npm packages from paths[0..npaths) (absolute host paths): a
 * regular file is read as a package-lock.json (at most ED_NPM_LOCK_MAX
 * bytes), a folder as a node_modules folder: each NAME/package.json and
 * @SCOPE/NAME/package.json ("name", "version"; at most ED_NPM_MANIFEST_MAX
 * bytes), then recursively the node_modules folder inside each package
 * (depth capped at 32). Entries starting with '.' (.bin, .package-lock.json)
 * are skipped; symlinked packages (npm link) are a warning and not followed.
 * When npaths is 0: the global folders /usr/local/lib/node_modules and
 * /usr/lib/node_modules that exist. A path that does not exist is a warning;
 * ED_NOTFOUND when none exists.
 */
enum ed_code ed_npm_collect(struct ed_source *src, const char *const *paths, size_t npaths,
			    struct ed_sink *sink, struct ed_err *err);

#endif
