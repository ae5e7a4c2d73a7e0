/* SPDX-License-Identifier: MIT */
/* Error codes and the caller-owned error struct every fallible function takes last. */
#ifndef ED_ERR_H
#define ED_ERR_H

#include <stdarg.h>
#include <stdio.h>

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

/*
 * Every byte of foreign origin (names, values, hosts, warnings, a program's
 * output) written to a terminal or a log goes through ed_term_vprintf(): the
 * text fmt formats is written to f as a reader can trust, each byte of a
 * control character (C0 including newline and tab, ESC, BEL, DEL, C1), a
 * bidirectional control, a non-character or an invalid UTF-8 sequence as
 * \xHH (ed_buf_add_shown). Only a '\n' that ends the formatted text is
 * written as it is, so one call writes at most one line. Text longer than
 * ED_TERM_MAX bytes is cut in the middle ("... N bytes cut ..."), keeping its
 * start and its end (where a message says why). Returns 0, or -1 when the
 * text could not be formatted or written.
 */
#define ED_TERM_MAX 4096
int ed_term_vprintf(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int ed_term_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string s, escaped and cut as ed_term_vprintf() does, appended to out; 0 or -1 (out of memory). */
struct ed_buf;
int ed_term_add(struct ed_buf *out, const char *s, size_t len);

/*
 * Messages on stderr name the command they come from, in one form:
 * "envdrift COMMAND: MSG" for an error or a status line, "envdrift COMMAND:
 * warning: MSG", "envdrift COMMAND: info: MSG"; "envdrift: ..." before a
 * command is known. The dispatcher (main) names the command once with
 * ed_err_set_command(); name must outlive its use (a string literal).
 * Every message goes through ed_term_vprintf() and ends with a newline.
 */
void ed_err_set_command(const char *name);
/* Prints "envdrift COMMAND: MSG": a status line, or an error the caller formats. */
void ed_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "envdrift COMMAND: warning: MSG". */
void ed_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "envdrift COMMAND: info: MSG": a note, nothing wrong. */
void ed_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A collection warning as stored: ed_info() for a message that starts with
 * "info: " (a note, such as a file too big to read), else ed_warn().
 */
void ed_note(const char *msg);

/* Prints the error as "envdrift COMMAND: MSG" (its code's description when MSG is empty). */
void ed_err_print(const struct ed_err *err);

#endif
