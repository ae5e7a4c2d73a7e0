/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/ini.c: the INI reader of hand-written files (line
 * checks, continuations, "FILE:LINE: problem" errors, the first error
 * winning) and the pieces of libinih's syntax it exports.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ed/ini.h"
#include "tap.h"

#define ORIGIN "o.ini"

/* What the handler saw: one "LINE KIND section/name=value" per call. */
struct seen {
	char calls[2048];
	const char *fail_on; /* the handler fails on this name */
	const char *feed;    /* check() hands libinih this instead of section headers */
	int fail_line;       /* check() fails on this line */
};

static int on_pair(struct ed_ini *ini, const char *section, const char *name, const char *value)
{
	struct seen *s = ini->ctx;
	static const char *const kinds[] = {"blank", "section", "pair", "cont"};
	size_t n = strlen(s->calls);
	snprintf(s->calls + n, sizeof(s->calls) - n, "%d %s%s %s/%s=%s\n", ini->cur.lineno,
		 kinds[ini->cur.kind], ini->cur.indented ? "+" : "", section, name, value);
	if (s->fail_on && strcmp(name, s->fail_on) == 0)
		return ed_ini_fail(ini, ED_PARSE, "bad name '%s'", name);
	return 1;
}

static bool on_check(struct ed_ini *ini, const struct ed_ini_line *l, const char **feed)
{
	struct seen *s = ini->ctx;
	if (l->lineno == s->fail_line)
		return ed_ini_fail(ini, ED_PARSE, "checked and refused (%zu bytes)", l->len);
	if (l->kind == ED_INI_SECTION && s->feed)
		*feed = s->feed;
	return true;
}

/* Parses text (len bytes) and returns the code; what was seen goes to s, the message to err. */
static enum ed_code parse(const char *text, size_t len, struct seen *s, bool no_cont,
			  struct ed_err *err)
{
	struct ed_ini ini = {.origin = ORIGIN, .check = on_check, .pair = on_pair, .ctx = s,
			     .no_continuations = no_cont};
	err->msg[0] = '\0';
	enum ed_code rc = ed_ini_parse(&ini, ed_str_of(text, len), err);
	if (rc != ini.rc)
		return ED_USAGE; /* the struct and the return must agree */
	return rc;
}

static void expect(const char *text, const char *calls, const char *what)
{
	struct seen s = {.fail_on = NULL};
	struct ed_err err;
	is_int(parse(text, strlen(text), &s, false, &err), ED_OK, "%s: parsed", what);
	is_str(s.calls, calls, "%s: handler calls", what);
}

/* len 0: strlen(text). */
static void expect_error(const char *text, size_t len, const char *msg, const char *what)
{
	struct seen s = {.fail_on = NULL};
	struct ed_err err;
	is_int(parse(text, len ? len : strlen(text), &s, false, &err), ED_PARSE, "%s: refused", what);
	is_str(err.msg, msg, "%s: message", what);
}

static void test_lines(void)
{
	expect("", "", "empty input");
	{
		struct seen s = {.fail_on = NULL};
		struct ed_err err;
		struct ed_ini ini = {.origin = ORIGIN, .pair = on_pair, .ctx = &s};
		is_int(ed_ini_parse(&ini, ed_str_of(NULL, 0), &err), ED_OK, "NULL text reads as empty");
	}
	expect("[a]\nk = v\nk2: v2\n", "2 pair a/k=v\n3 pair a/k2=v2\n", "pairs, '=' and ':'");
	expect("k = v\n", "1 pair /k=v\n", "a pair before any section");
	expect("; c\n# c\n\n[a]\n  ; indented comment\nk = v ; inline\n",
	       "6 pair a/k=v\n", "comments and blank lines");
	expect("[a]\r\nk = v\r\n", "2 pair a/k=v\n", "CRLF line ends");
	expect("[a]\nk = v", "2 pair a/k=v\n", "no newline at the end");
	expect("\xef\xbb\xbf[a]\nk = v\n", "2 pair a/k=v\n", "a byte order mark is skipped");
}

static void test_continuations(void)
{
	expect("[a]\nk = one\n  two\n\ttab ; kept\n",
	       "2 pair a/k=one\n3 cont+ a/k=two\n4 cont+ a/k=tab ; kept\n",
	       "indented lines continue the key (comment kept, as libinih does)");
	expect("[a]\nk = one\n\n; c\n  two\n", "2 pair a/k=one\n5 cont+ a/k=two\n",
	       "blank lines and comments do not end a continuation");
	expect("[a]\n  k = v\n", "2 pair+ a/k=v\n",
	       "indented with no key above: a pair, not a continuation");
	expect("[a]\nk = v\n[b]\n  j = w\n", "2 pair a/k=v\n4 pair+ b/j=w\n",
	       "a section ends what indented lines continue");
	expect("[a]\n= v\n  j = w\n", "2 pair a/=v\n3 pair+ a/j=w\n",
	       "a pair without a name gives libinih nothing to continue");
}

static void test_errors(void)
{
	char buf[512];
	/* Long lines: what libinih would cut is refused, naming file and line. */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "[a]\nk = ", 8);
	buf[4 + ED_INI_MAX_LINE] = '\n';
	{
		struct seen s = {.fail_on = NULL};
		struct ed_err err;
		is_int(parse(buf, 4 + ED_INI_MAX_LINE + 1, &s, false, &err), ED_OK,
		       "a line of ED_INI_MAX_LINE bytes is read");
		is_int(strlen(s.calls), 2 + 1 + 4 + 1 + 3 + ED_INI_MAX_LINE - 4 + 1,
		       "and handed to libinih whole");
	}
	memcpy(buf + 4 + ED_INI_MAX_LINE, "\r\n", 2);
	{
		struct seen s = {.fail_on = NULL};
		struct ed_err err;
		is_int(parse(buf, 4 + ED_INI_MAX_LINE + 2, &s, false, &err), ED_OK,
		       "with CRLF it still fits libinih's buffer");
	}
	buf[4 + ED_INI_MAX_LINE] = 'x';
	buf[4 + ED_INI_MAX_LINE + 1] = '\n';
	expect_error(buf, 4 + ED_INI_MAX_LINE + 2,
		     "o.ini:2: line is 198 bytes long; libinih reads at most 197: split the value "
		     "over indented continuation lines",
		     "one byte more");
	{
		struct seen s = {.fail_on = NULL};
		struct ed_err err;
		is_int(parse(buf, 4 + ED_INI_MAX_LINE + 2, &s, true, &err), ED_PARSE,
		       "no continuations: refused too");
		is_str(err.msg, "o.ini:2: line is 198 bytes long; libinih reads at most 197",
		       "no continuations: the message suggests none");
		is_str(s.calls, "", "nothing of a refused line reaches the handler");
	}
	{
		struct seen s = {.fail_on = NULL};
		struct ed_err err;
		struct ed_ini ini = {.origin = ORIGIN, .check = on_check, .pair = on_pair, .ctx = &s,
				     .long_line = "too long for this format"};
		is_int(ed_ini_parse(&ini, ed_str_of(buf, 4 + ED_INI_MAX_LINE + 2), &err), ED_PARSE,
		       "long_line set: refused too");
		is_str(err.msg, "o.ini:2: too long for this format",
		       "long_line set: the format's own words, with file and line");
	}

	/* Bytes. */
	expect_error("[a]\nk = v\0w\n", 11, "o.ini:2: NUL byte", "NUL byte");
	expect_error("[a]\nk = \x01\n", 0, "o.ini:2: control character 0x01 in column 5",
		     "control character");
	expect_error("[a]\nk = a\rb\n", 0, "o.ini:2: control character 0x0d in column 6",
		     "a CR inside a line");
	expect_error("[a]\nk = \x7f\n", 0, "o.ini:2: control character 0x7f in column 5", "DEL");
	expect_error("[a]\nk = caf\xe9\n", 0, "o.ini:2: invalid UTF-8", "Latin-1");
	expect("[a]\nk = caf\xc3\xa9\tok\n", "2 pair a/k=caf\xc3\xa9\tok\n", "UTF-8 and tabs pass");

	/* Shapes libinih would read otherwise, or refuse. */
	expect_error("[a]\nk = v\n  [b]\n", 0,
		     "o.ini:3: a section header must start at the beginning of the line",
		     "an indented section header");
	expect_error("[a]\nnot a pair\n", 0,
		     "o.ini:2: expected '[section]', 'key = value' or a comment",
		     "libinih's complaint, with its line");
	expect_error("[a\nk = v\n", 0, "o.ini:1: section header without ']'",
		     "libinih's complaint about a header");
}

static void test_first_error(void)
{
	struct seen s = {.fail_on = "bad"};
	struct ed_err err;
	static const char t1[] = "[a]\nnot a pair\nbad = 1\n";
	is_int(parse(t1, strlen(t1), &s, false, &err), ED_PARSE, "libinih's error, then ours");
	is_str(err.msg, "o.ini:2: expected '[section]', 'key = value' or a comment",
	       "the earlier one wins");

	struct seen s2 = {.fail_on = "bad"};
	static const char t2[] = "[a]\nbad = 1\nnot a pair\nk = v\n";
	is_int(parse(t2, strlen(t2), &s2, false, &err), ED_PARSE, "our error, then libinih's");
	is_str(err.msg, "o.ini:2: bad name 'bad'", "the earlier one wins again");
	is_str(s2.calls, "2 pair a/bad=1\n", "reading stops at the first error");

	struct seen s3 = {.fail_line = 3};
	static const char t3[] = "[a]\nk = v\nj = w\nz = y\n";
	is_int(parse(t3, strlen(t3), &s3, false, &err), ED_PARSE, "check() refuses a line");
	is_str(err.msg, "o.ini:3: checked and refused (5 bytes)", "with the line's number");
	is_str(s3.calls, "2 pair a/k=v\n", "the refused line never reaches libinih");
}

static void test_feed_and_fail_at(void)
{
	/* A header of our own syntax, which libinih would cut at " ;", read as "[x]". */
	struct seen s = {.feed = "[x]"};
	struct ed_err err;
	static const char t[] = "[expect \"file /a ;b\"]\nk = v\n";
	is_int(parse(t, strlen(t), &s, false, &err), ED_OK, "check() replaces a line");
	is_str(s.calls, "2 pair x/k=v\n", "libinih read the replacement");

	struct ed_ini ini = {.origin = ORIGIN, .pair = on_pair, .ctx = &s};
	s.calls[0] = '\0';
	is_int(ed_ini_parse(&ini, ed_str_of("[a]\nk = v\n", 10), &err), ED_OK, "parsed");
	ok(ed_ini_fail_at(&ini, 1, ED_PARSE, "after the end: %s", "a check") == 0,
	   "ed_ini_fail_at returns 0 for libinih");
	is_int(ini.rc, ED_PARSE, "and records the code");
	is_str(err.msg, "o.ini:1: after the end: a check", "after the parse, at any line");
	ed_ini_fail_at(&ini, 2, ED_NOMEM, "second");
	is_str(err.msg, "o.ini:1: after the end: a check", "a second error does not replace it");
	is_int(ini.err_line, 1, "nor its line");
}

static void test_pieces(void)
{
	is_int(ed_ini_find("a ;b", 4, NULL), 2, "find: ';' after a blank is a comment");
	is_int(ed_ini_find("a;b", 3, NULL), 3, "find: ';' after a letter is not");
	is_int(ed_ini_find(";b", 2, NULL), 2, "find: nor one in column 1");
	is_int(ed_ini_find("k : v = w", 9, "=:"), 2, "find: the first separator");
	is_int(ed_ini_find("k ;= v", 6, "=:"), 2, "find: a comment before any separator");
	is_int(ed_ini_find("ab\0=", 4, "=:"), 2, "find: a NUL ends the string, as in libinih");

	char buf[8];
	ok(ed_ini_feed(buf, 8, "abcdef", 6) == buf && memcmp(buf, "abcdef\n", 8) == 0,
	   "feed: line, newline and NUL fill the buffer exactly");
	ok(ed_ini_feed(buf, 8, "abcdefg", 7) == NULL, "feed: one byte more does not fit");
	ok(ed_ini_feed(buf, 1, "", 0) == NULL, "feed: a buffer without room for a newline");

	ok(ed_ini_blank(' ') && ed_ini_blank('\t') && ed_ini_blank('\r') && ed_ini_blank('\v'),
	   "blank: isspace() in the C locale");
	ok(!ed_ini_blank('x') && !ed_ini_blank('\0') && !ed_ini_blank((char)0xa0), "blank: not others");
}

int main(void)
{
	test_lines();
	test_continuations();
	test_errors();
	test_first_error();
	test_feed_and_fail_at();
	test_pieces();
	return tap_done();
}
