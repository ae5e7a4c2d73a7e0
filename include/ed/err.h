/* SPDX-License-Identifier: MIT */
/* Error codes and the caller-owned error struct every fallible function takes last. */
#ifndef ED_ERR_H
#define ED_ERR_H

#include <stdarg.h>

/* The numbers never change: scripts and tests may rely on them. */
#define ED_CODES(X)                                        \
	X(ED_OK, 0, "success")                             \
	X(ED_NOMEM, 1, "out of memory")                    \
	X(ED_IO, 2, "input/output error")                  \
	X(ED_PARSE, 3, "malformed input")                  \
	X(ED_NOTFOUND, 4, "not found")                     \
	X(ED_STORE, 5, "store error")                      \
	X(ED_USAGE, 6, "bad usage")                        \
	X(ED_DENIED, 7, "outside the root")                \
	X(ED_UNSUPPORTED, 8, "not supported by this source") \
	X(ED_TOOBIG, 9, "too large")                       \
	X(ED_CONN, 10, "connection to the host lost")

enum ed_code {
#define ED_CODE_ENUM(name, num, msg) name = num,
	ED_CODES(ED_CODE_ENUM)
#undef ED_CODE_ENUM
};

/* A message naming the input and the problem, lower case, no full stop. */
struct ed_err {
	enum ed_code code;
	char msg[1024];
};

/* Records code and formatted message in err (if err is not NULL) and returns code. */
enum ed_code ed_err_set(struct ed_err *err, enum ed_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Static description of a code ("out of memory"). */
const char *ed_code_str(enum ed_code code);

/* Prints "envdrift: warning: MSG" to stderr. */
void ed_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "envdrift: error: MSG" to stderr. */
void ed_err_print(const struct ed_err *err);

#endif
