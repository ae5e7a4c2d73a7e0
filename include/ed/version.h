/* SPDX-License-Identifier: MIT */
/* Version ordering of each package manager, so package drift can say ahead or behind. */
#ifndef ED_VERSION_H
#define ED_VERSION_H

#include <stdbool.h>

/* Longest single version compared, in bytes; a longer one is unparseable. */
#define ED_VERSION_MAX 4096

/*
 * Compares versions a and b, NUL-terminated and as the collector recorded
 * them, in the order of manager's own comparison, and returns -1, 0 or 1
 * (a older, same version, a newer). Nothing is allocated; thread-safe.
 *
 * manager is one of:
 *   "dpkg"  [epoch:]upstream[-revision], Debian Policy 5.6.12 as dpkg
 *           1.21 implements it: '~' sorts before everything, letters
 *           before other characters, digit runs by value. dpkg's errors
 *           (empty, embedded blank, bad or too big epoch, empty upstream
 *           or revision) make a version unparseable; its warnings (a
 *           character outside Policy) do not: dpkg compares such versions.
 *   "rpm"   [epoch:]version[-release] split as rpm 4.18 does, epoch
 *           (missing: 0), version, then release (a missing release sorts
 *           before any release) compared with librpm's rpmvercmp().
 *   "apk"   apk-tools' grammar digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}
 *           (suffixes _alpha _beta _pre _rc < none < _cvs _svn _git _hg _p);
 *           a version apk-tools would not validate is unparseable.
 *   "pypi"  PEP 440 as pypa/packaging parses it (epoch, release, pre,
 *           post, dev, local; case, separators and leading 'v' normalised;
 *           surrounding ASCII whitespace ignored).
 *   "npm"   semver 2.0 as node-semver reads it in strict mode (optional
 *           leading 'v', surrounding ASCII whitespace ignored, at most 256
 *           bytes, numbers at most 2^53-1); build metadata is ignored.
 *
 * A value may list several installed versions joined by ", " (the
 * collectors' form for a package installed more than once); then the
 * highest of each list is compared.
 *
 * *ok (when ok is not NULL) is set to true when the result is meaningful,
 * and to false (the return value then is 0) when manager is NULL or
 * unknown, a or b is NULL, or a version is empty, longer than
 * ED_VERSION_MAX or unparseable for that manager: the caller then treats
 * the two values as merely different. For every manager the result is
 * antisymmetric: cmp(a, b) == -cmp(b, a), with the same *ok.
 */
int ed_version_cmp(const char *manager, const char *a, const char *b, bool *ok);

#endif
