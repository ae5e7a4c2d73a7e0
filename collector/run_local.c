/* SPDX-License-Identifier: MIT */
/* Running a program on this machine for the local source: no shell, capped output, a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ed/clock.h"
#include "run_local.h"

extern char **environ;

#define STDERR_KEEP 2048

enum ed_code ed_run_keep(void *ctx, const char *data, size_t len, struct ed_err *err)
{
	struct ed_run_keep *k = ctx;
	if (k->out->len - k->start + len > k->max)
		return ed_err_set(err, ED_TOOBIG, "%s: printed more than %zu bytes; stopped", k->prog,
				  k->max);
	if (ed_buf_add(k->out, data, len))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", k->prog);
	return ED_OK;
}

enum ed_code ed_run_local(const char *const *argv, size_t max, int timeout_ms,
			  struct ed_buf *out, int *exit_status, struct ed_err *err)
{
	struct ed_run_keep k = {out, out->len, max, argv[0]};
	enum ed_code rc = ed_run_local_stream(argv, timeout_ms, false, ed_run_keep, &k,
					      exit_status, err);
	if (rc) {
		out->len = k.start;
		if (out->p)
			out->p[k.start] = '\0';
	}
	return rc;
}

enum ed_code ed_run_local_stream(const char *const *argv, int timeout_ms, bool idle,
				 ed_source_out_fn fn, void *ctx, int *exit_status,
				 struct ed_err *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_ok = false, attr_ok = false;
	pid_t pid = -1;
	enum ed_code rc = ED_OK;
	char errbuf[STDERR_KEEP + 1];
	size_t errlen = 0;
	char chunk[65536];

	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		rc = ed_err_set(err, ED_IO, "%s: cannot make a pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", argv[0]);
		goto out;
	}
	fa_ok = true;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa, outp[1], 1) ||
	    posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", argv[0]);
		goto out;
	}
	/*
	 * A process group of its own: a program stopped at its deadline is
	 * killed with everything it started (a shell's children, a pager).
	 */
	if (posix_spawnattr_init(&attr)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", argv[0]);
		goto out;
	}
	attr_ok = true;
	if (posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP) ||
	    posix_spawnattr_setpgroup(&attr, 0)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", argv[0]);
		goto out;
	}
	int e = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	if (e) {
		pid = -1;
		rc = ed_err_set(err, e == ENOENT ? ED_NOTFOUND : ED_IO, "%s: cannot run: %s", argv[0],
				strerror(e));
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	long long deadline = ed_now_ms() + timeout_ms;
	struct pollfd fds[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
	int open_fds = 2;
	while (open_fds > 0) {
		long long left = deadline - ed_now_ms();
		if (left <= 0) {
			rc = ed_err_set(err, ED_IO, "%s: no answer within %d ms; stopped", argv[0],
					timeout_ms);
			goto out;
		}
		int n = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR) {
			rc = ed_err_set(err, ED_IO, "%s: poll failed: %s", argv[0], strerror(errno));
			goto out;
		}
		for (int i = 0; i < 2 && n > 0; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(fds[i].fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				if ((rc = fn(ctx, chunk, (size_t)got, err)))
					goto out;
				if (idle)
					deadline = ed_now_ms() + timeout_ms;
			} else {
				size_t keep = STDERR_KEEP - errlen;
				if ((size_t)got < keep)
					keep = (size_t)got;
				memcpy(errbuf + errlen, chunk, keep);
				errlen += keep;
			}
		}
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = ed_err_set(err, ED_IO, "%s: wait failed: %s", argv[0], strerror(errno));
			goto out;
		}
	}
	pid = -1;
	*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (*exit_status != 0 && err) {
		/* Not an error of run(); the caller may want the program's own words. */
		errlen = ed_text_tidy(errbuf, errlen);
		ed_err_set(err, ED_OK, "%s exited with status %d%s%s", argv[0], *exit_status,
			   errlen ? ": " : "", errbuf);
	}
out:
	if (pid > 0) {
		/* The whole group, while its leader is not yet reaped (its id not reusable). */
		if (kill(-pid, SIGKILL) != 0)
			kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	/* The chunks held the program's output: values of the data when streaming rows. */
	explicit_bzero(chunk, sizeof(chunk));
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}
