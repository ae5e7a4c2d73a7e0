/* SPDX-License-Identifier: MIT */
/* Helpers shared by the commands: error reporting and terminal detection. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ed/atomic.h"
#include "ed/store.h"

int ed_cli_fail(const struct ed_err *err)
{
	ed_err_print(err);
	return ED_EXIT_ERROR;
}

void ed_cli_warn_settings(const struct ed_snapref *refs, size_t nrefs,
			  const struct ed_snapref *cands, size_t ncands)
{
	const struct ed_snapref *a, *b;
	if (!ed_snaprefs_settings_differ(refs, nrefs, cands, ncands, &a, &b))
		return;
	ed_warn("@%lld (%s/%s) and @%lld (%s/%s) were collected with "
		"different rules (profile: secret patterns, formats, kept content, config "
		"trees; or envdrift version): some differences may come from that, not "
		"from the hosts",
		(long long)a->id, a->env, a->host, (long long)b->id, b->env, b->host);
}

enum ed_code ed_cli_open_out(const struct ed_cli *cli, const char *path, struct ed_atomic **out,
			     struct ed_err *err)
{
	mode_t mode;
	gid_t gid;
	ed_store_output_mode(cli->db, &mode, &gid);
	enum ed_code rc = ed_atomic_open(path, mode, out, err);
	if (!rc)
		ed_atomic_group(*out, gid);
	return rc;
}

enum ed_code ed_cli_flush_stdout(struct ed_err *err)
{
	if (fflush(stdout) != 0)
		return ed_err_set(err, ED_IO, "cannot write to standard output");
	return ED_OK;
}

int ed_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* cmd NULL: an option before the command's name. */
	flockfile(stderr);
	fprintf(stderr, "envdrift%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	ed_term_vprintf(stderr, fmt, ap);
	funlockfile(stderr);
	fprintf(stderr, "\nTry 'envdrift%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	va_end(ap);
	return ED_EXIT_ERROR;
}

bool ed_cli_color(FILE *f)
{
	const char *term = getenv("TERM");
	if (getenv("NO_COLOR") || (term && strcmp(term, "dumb") == 0))
		return false;
	return isatty(fileno(f));
}

long long ed_cli_parse_duration(const char *s)
{
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0)
		return -1;
	long long unit = 1;
	switch (*end) {
	case 's': end++; break;
	case 'm': unit = 60, end++; break;
	case 'h': unit = 3600, end++; break;
	case 'd': unit = 86400, end++; break;
	default: break;
	}
	if (*end || n > (long long)1e12 / unit)
		return -1;
	return n * unit;
}
