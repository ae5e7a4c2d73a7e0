/* SPDX-License-Identifier: MIT */
/* Running a program on this machine (folder-private: the local source's run operation). */
#ifndef ED_RUN_LOCAL_H
#define ED_RUN_LOCAL_H

#include <stdbool.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/source.h"

/*
 * Runs argv without a shell, stdin from /dev/null, stdout appended to out (at
 * most max bytes, else ED_TOOBIG and out unchanged), killed after timeout_ms.
 * On success *exit_status holds the status; when it is non-zero err->msg
 * (code ED_OK) describes it with the start of the program's stderr.
 */
enum ed_code ed_run_local(const char *const *argv, size_t max, int timeout_ms,
			  struct ed_buf *out, int *exit_status, struct ed_err *err);

/*
 * How run() keeps a program's standard output, locally and over SSH: in
 * out, from start, at most max bytes (then ED_TOOBIG naming prog).
 */
struct ed_run_keep {
	struct ed_buf *out;
	size_t start, max;
	const char *prog;
};
enum ed_code ed_run_keep(void *ctx, const char *data, size_t len, struct ed_err *err);

/*
 * The same with the output handed to fn chunk by chunk as it arrives (never
 * kept whole; the chunk buffer is wiped at the end). A failure of fn stops
 * the program and is returned. idle: timeout_ms bounds each silence, not
 * the whole run.
 */
enum ed_code ed_run_local_stream(const char *const *argv, int timeout_ms, bool idle,
				 ed_source_out_fn fn, void *ctx, int *exit_status,
				 struct ed_err *err);

#endif
