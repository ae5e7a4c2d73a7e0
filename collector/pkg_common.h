/* SPDX-License-Identifier: MIT */
/* What the package parsers share (collector-internal). */
#ifndef ED_COLLECTOR_PKG_COMMON_H
#define ED_COLLECTOR_PKG_COMMON_H

#include <jansson.h>
#include <stddef.h>

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

#endif
