/* SPDX-License-Identifier: MIT */
/* Error struct helpers and the two places that print to stderr. */
#include <stdio.h>

#include "ed/err.h"

enum ed_code ed_err_set(struct ed_err *err, enum ed_code code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		if (n < 0)
			err->msg[0] = '\0';
		else if ((size_t)n >= sizeof(err->msg))
			/* Mark a cut message rather than truncating silently. */
			snprintf(err->msg + sizeof(err->msg) - 5, 5, "...");
		err->code = code;
	}
	return code;
}

const char *ed_code_str(enum ed_code code)
{
	switch (code) {
#define ED_CODE_STR(name, num, msg) \
	case name:                  \
		return msg;
		ED_CODES(ED_CODE_STR)
#undef ED_CODE_STR
	}
	return "unknown error";
}

void ed_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("envdrift: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void ed_err_print(const struct ed_err *err)
{
	fprintf(stderr, "envdrift: error: %s\n",
		err->msg[0] ? err->msg : ed_code_str(err->code));
}
