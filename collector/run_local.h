/* SPDX-License-Identifier: MIT */
/* Running a program on this machine (folder-private: the local source's run operation). */
#ifndef ED_RUN_LOCAL_H
#define ED_RUN_LOCAL_H

#include "ed/buf.h"
#include "ed/err.h"

/*
 * Runs argv without a shell, stdin from /dev/null, stdout appended to out (at
 * most max bytes, else ED_TOOBIG and out unchanged), killed after timeout_ms.
 * On success *exit_status holds the status; when it is non-zero err->msg
 * (code ED_OK) describes it with the start of the program's stderr.
 */
enum ed_code ed_run_local(const char *const *argv, size_t max, int timeout_ms,
			  struct ed_buf *out, int *exit_status, struct ed_err *err);

#endif
