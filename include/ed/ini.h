/* SPDX-License-Identifier: MIT */
/*
 * One INI reader for the files people write by hand (profiles, policies,
 * inventories), over Debian's libinih: it hands libinih one line at a time
 * after the checks every such file needs, so that nothing libinih would cut
 * or misread silently gets through, and reports the first problem as
 * "ORIGIN:LINE: problem". Plus the pieces of libinih's line syntax that the
 * tolerant parser of INI config files (collector/config_ini.c) shares.
 */
#ifndef ED_INI_H
#define ED_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"

/*
 * The longest line accepted, in bytes, not counting its "\n" or "\r\n".
 * Debian's libinih reads lines into a 200-byte buffer that must hold the
 * line, "\r", "\n" and a NUL, and silently cuts anything longer.
 */
#define ED_INI_MAX_LINE 197

/* What libinih makes of a line (Debian's build: INI_ALLOW_MULTILINE, ';' and '#' comments). */
enum ed_ini_kind {
	ED_INI_BLANK,   /* blanks only, or a comment (';' or '#' first): skipped */
	ED_INI_SECTION, /* a section header: '[' in column 1 */
	ED_INI_PAIR,    /* "key = value" or "key: value" (libinih refuses it without either) */
	ED_INI_CONT,    /* indented below a key of the same section: libinih hands it to that
			   key's handler once more, with this line as the value */
};

/* One line of the input, as the reader hands it on. */
struct ed_ini_line {
	const char *p;         /* the line without "\n" or "\r\n" (nor a BOM on line 1); borrowed */
	size_t len;            /* bytes at p */
	int lineno;            /* 1-based */
	enum ed_ini_kind kind;
	bool indented;         /* starts with a blank (a PAIR so is not a continuation: no key
				  above it in this section) */
};

/*
 * A parse: the caller fills the first block, then calls ed_ini_parse(). The
 * struct owns nothing.
 */
struct ed_ini {
	const char *origin; /* names the input in messages; required */
	/*
	 * Optional: sees each line that passed the common checks, before
	 * libinih does. Returns true to go on, or false after ed_ini_fail().
	 * May point *feed at a NUL-terminated line for libinih to read instead
	 * (at most ED_INI_MAX_LINE bytes, no "\n"; it must outlive the call).
	 */
	bool (*check)(struct ed_ini *ini, const struct ed_ini_line *line, const char **feed);
	/*
	 * Required: libinih's handler, for each PAIR and CONT line (ini->cur),
	 * with libinih's section, name and value (names cut to 49 bytes, an
	 * inline comment stripped from a PAIR's value but not from a CONT's).
	 * Returns nonzero, or 0 after ed_ini_fail().
	 */
	int (*pair)(struct ed_ini *ini, const char *section, const char *name, const char *value);
	void *ctx;             /* the caller's */
	bool no_continuations; /* the format has none: a long line's message suggests none */
	const char *long_line; /* optional: the message for a line longer than ED_INI_MAX_LINE,
				  in the format's own words, instead of "line is N bytes long;
				  libinih reads at most ED_INI_MAX_LINE..." */

	/* Read by the caller. */
	struct ed_ini_line cur; /* the line being read */
	enum ed_code rc;        /* the first error, or ED_OK */
	int err_line;           /* the line of the first error */

	/* The reader's. */
	struct ed_str text;
	size_t pos;            /* start of the next line */
	bool have_key;         /* libinih has a key that indented lines continue */
	struct ed_err *err;
};

/*
 * Parses text (text.len bytes; text.p NULL reads as empty) with libinih,
 * calling ini->check and ini->pair. Every line is first checked: a NUL
 * byte, a line longer than ED_INI_MAX_LINE, a control character (but a tab,
 * or a '\r' ending the line), invalid UTF-8, or a section header that does
 * not start in column 1 is an error. A UTF-8 byte order mark on line 1 is
 * skipped. Reading stops at the first error; the one earliest in the file
 * wins, libinih's own complaint ("expected '[section]', 'key = value' or a
 * comment", or "section header without ']'") included.
 *
 * Returns ED_OK; ED_PARSE or the code a callback gave ed_ini_fail(), with
 * "ORIGIN:LINE: problem" in err; ED_NOMEM. ini->rc holds the same.
 * libinih's runtime switches (ini_allow_multiline and the like, which
 * Debian's build exports as globals) must keep their defaults.
 */
enum ed_code ed_ini_parse(struct ed_ini *ini, struct ed_str text, struct ed_err *err);

/*
 * Records an error at the current line (ed_ini_fail) or at line, as
 * "ORIGIN:LINE: message" in the err given to ed_ini_parse(), unless one is
 * recorded already: the first error wins. Usable from the callbacks and
 * after ed_ini_parse() returns (a check at the end of the file). Returns 0,
 * so that a callback can return it.
 */
int ed_ini_fail(struct ed_ini *ini, enum ed_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ed_ini_fail_at(struct ed_ini *ini, int line, enum ed_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A blank as libinih sees one: isspace() in the C locale. */
static inline bool ed_ini_blank(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * libinih's find_chars_or_comment over s[0..n): the index of the first byte
 * that is in chars (NULL: none), or of a ';' right after a blank (an inline
 * comment), or of a NUL; n when there is none.
 */
size_t ed_ini_find(const char *s, size_t n, const char *chars);

/*
 * For an ini_reader: copies the n bytes at line, a "\n" and a NUL into
 * libinih's buffer str of num bytes. Returns str, or NULL when they do not
 * fit (libinih would cut the line).
 */
char *ed_ini_feed(char *str, int num, const char *line, size_t n);

#endif
