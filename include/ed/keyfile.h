/* SPDX-License-Identifier: MIT */
/* A copy of a store's secret key in a file of its own, for collecting without the store. */
#ifndef ED_KEYFILE_H
#define ED_KEYFILE_H

#include <stdint.h>

#include "ed/err.h"
#include "ed/hash.h"

/*
 * Reads the key at path into key (collect --out --key KEYFILE): a regular
 * file, not a symlink, no access for group or others, exactly ED_KEY_LEN
 * bytes. Errors name path: ED_NOTFOUND (no such file), ED_DENIED (readable
 * by others, with the chmod that fixes it), ED_IO (anything else). The
 * bytes read are wiped from the stack before returning.
 */
enum ed_code ed_keyfile_read(const char *path, uint8_t key[ED_KEY_LEN], struct ed_err *err);

#endif
