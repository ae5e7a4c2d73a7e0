/* SPDX-License-Identifier: MIT */
/* Helpers shared by the commands: error reporting and terminal detection. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int ed_cli_fail(const struct ed_err *err)
{
	ed_err_print(err);
	return ED_EXIT_ERROR;
}

int ed_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "envdrift %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'envdrift %s --help'.\n", cmd);
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
