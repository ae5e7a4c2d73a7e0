/* SPDX-License-Identifier: MIT */
/* Users and groups as items of kind "account" (collector/accounts.c). */
#ifndef ED_ACCOUNT_H
#define ED_ACCOUNT_H

#include "ed/err.h"
#include "ed/item.h"
#include "ed/source.h"

/*
 * Reads /etc/passwd and /etc/group through src and emits, sorted by key, one
 * item of kind ED_KIND_ACCOUNT per entry: "user/NAME" with the value
 * "uid=U gid=G home=H shell=S" and "group/NAME" with "gid=G members=A,B"
 * (members sorted); fp the XXH3-128 of the value. The password field and
 * GECOS (a person's name) are never recorded, /etc/shadow never read. A
 * missing file is no item; malformed lines are one warning per file naming
 * the first and how many. Returns ED_OK, ED_NOMEM or the sink's error.
 */
enum ed_code ed_accounts_collect(struct ed_source *src, struct ed_sink *sink, struct ed_err *err);

#endif
