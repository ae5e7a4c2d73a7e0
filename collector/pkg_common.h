/* SPDX-License-Identifier: MIT */
/* What the package parsers share (collector-internal). */
#ifndef ED_COLLECTOR_PKG_COMMON_H
#define ED_COLLECTOR_PKG_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/item.h"

/*
 * Emits one package item: key, its shown value (the version), the
 * fingerprint of fpin, and attrs written as compact JSON with sorted keys.
 * attrs is stolen; NULL (a failed json_pack) is out of memory, reported as
 * "ORIGIN: out of memory".
 */
enum ed_code ed_pkg_emit(struct ed_sink *sink, const char *origin, const char *key,
			 size_t key_len, const char *value, const void *fpin, size_t fpin_len,
			 json_t *attrs, struct ed_err *err);

/* s[0..len) without the spaces and tabs around it (a field's value); borrowed from s. */
struct ed_str ed_pkg_trim(const char *s, size_t len);

/* Is s[0..len) name, ASCII letters in any case (a field or header name: "Version")? */
bool ed_pkg_name_is(const char *s, size_t len, const char *name);

#endif
