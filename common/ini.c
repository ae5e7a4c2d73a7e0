/* SPDX-License-Identifier: MIT */
/*
 * The INI reader of hand-written files: libinih reads lines through our
 * reader, which checks each one first and keeps track of what libinih will
 * make of it (a section, a pair, the continuation of a key).
 */
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ed/ini.h"

static int vfail_at(struct ed_ini *ini, int line, enum ed_code code, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int vfail_at(struct ed_ini *ini, int line, enum ed_code code, const char *fmt, va_list ap)
{
	if (ini->rc)
		return 0;
	char msg[sizeof(((struct ed_err *)NULL)->msg)];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ini->rc = code;
	ini->err_line = line;
	ed_err_set(ini->err, code, "%s:%d: %s", ini->origin, line, msg);
	return 0;
}

int ed_ini_fail(struct ed_ini *ini, enum ed_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(ini, ini->cur.lineno, code, fmt, ap);
	va_end(ap);
	return 0;
}

int ed_ini_fail_at(struct ed_ini *ini, int line, enum ed_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(ini, line, code, fmt, ap);
	va_end(ap);
	return 0;
}

size_t ed_ini_find(const char *s, size_t n, const char *chars)
{
	bool was_blank = false;
	size_t i = 0;
	while (i < n && s[i] && !(chars && strchr(chars, s[i])) && !(was_blank && s[i] == ';')) {
		was_blank = ed_ini_blank(s[i]);
		i++;
	}
	return i;
}

char *ed_ini_feed(char *str, int num, const char *line, size_t n)
{
	if (num < 2 || n > (size_t)num - 2)
		return NULL;
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* The checks every line gets; false after recording an error. */
static bool check_bytes(struct ed_ini *ini, const char *s, size_t n)
{
	if (memchr(s, '\0', n))
		return ed_ini_fail(ini, ED_PARSE, "NUL byte");
	size_t content = n && s[n - 1] == '\r' ? n - 1 : n;
	if (content > ED_INI_MAX_LINE && ini->long_line)
		return ed_ini_fail(ini, ED_PARSE, "%s", ini->long_line);
	if (content > ED_INI_MAX_LINE)
		return ed_ini_fail(ini, ED_PARSE, "line is %zu bytes long; libinih reads at most %d%s",
				   content, ED_INI_MAX_LINE,
				   ini->no_continuations
					   ? ""
					   : ": split the value over indented continuation lines");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && !(c == '\r' && i + 1 == n)) || c == 0x7f)
			return ed_ini_fail(ini, ED_PARSE, "control character 0x%02x in column %zu", c,
					   i + 1);
	}
	if (!ed_utf8_valid(s, n))
		return ed_ini_fail(ini, ED_PARSE, "invalid UTF-8");
	return true;
}

/*
 * What libinih makes of line l, knowing whether it holds a key to continue.
 * False after recording an error.
 */
static bool classify(struct ed_ini *ini, struct ed_ini_line *l)
{
	size_t i = 0;
	while (i < l->len && ed_ini_blank(l->p[i]))
		i++;
	l->indented = i > 0;
	if (i == l->len || l->p[i] == ';' || l->p[i] == '#') {
		l->kind = ED_INI_BLANK;
	} else if (l->p[i] == '[') {
		/* Indented, libinih would read it as a value or a header, by what came before. */
		if (l->indented)
			return ed_ini_fail(ini, ED_PARSE,
					   "a section header must start at the beginning of the line");
		l->kind = ED_INI_SECTION;
	} else {
		l->kind = l->indented && ini->have_key ? ED_INI_CONT : ED_INI_PAIR;
	}
	return true;
}

/* libinih's key state after reading line l: a section clears it, a named pair sets it. */
static void track_key(struct ed_ini *ini, const struct ed_ini_line *l)
{
	if (l->kind == ED_INI_SECTION) {
		ini->have_key = false;
	} else if (l->kind == ED_INI_PAIR) {
		size_t i = 0;
		while (i < l->len && ed_ini_blank(l->p[i]))
			i++;
		size_t sep = i + ed_ini_find(l->p + i, l->len - i, "=:");
		if (sep < l->len && (l->p[sep] == '=' || l->p[sep] == ':') && sep > i)
			ini->have_key = true;
	}
}

/* libinih's reader: hands out one line at a time, after checking it. */
static char *reader(char *str, int num, void *stream)
{
	struct ed_ini *ini = stream;
	struct ed_ini_line *l = &ini->cur;
	const char *s;
	size_t n;
	if (ini->rc || !ed_next_line(ini->text.p, ini->text.len, &ini->pos, &s, &n))
		return NULL;
	if (++l->lineno == 1) {
		size_t bom = ed_utf8_bom(s, n); /* libinih would skip it too */
		s += bom;
		n -= bom;
	}
	l->p = s;
	l->len = n && s[n - 1] == '\r' ? n - 1 : n;
	if (!check_bytes(ini, s, n))
		return NULL;
	const char *feed = NULL;
	if (!classify(ini, l) || (ini->check && !ini->check(ini, l, &feed)))
		return NULL;
	track_key(ini, l);
	/* The checks bound the line well below num; keep this one anyway. */
	if (!ed_ini_feed(str, num, feed ? feed : s, feed ? strlen(feed) : n)) {
		ed_ini_fail(ini, ED_PARSE, "line too long for libinih's buffer");
		return NULL;
	}
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ed_ini *ini = user;
	if (ini->rc)
		return 0;
	return ini->pair(ini, section, name, value);
}

/* The line with number lineno (1-based) of text, for messages about it. */
static struct ed_str nth_line(struct ed_str text, int lineno)
{
	size_t pos = 0;
	const char *s = "";
	size_t n = 0;
	for (int i = 0; i < lineno && ed_next_line(text.p, text.len, &pos, &s, &n); i++)
		;
	return ed_str_of(s, n);
}

enum ed_code ed_ini_parse(struct ed_ini *ini, struct ed_str text, struct ed_err *err)
{
	ini->text = text.p ? text : ed_str_of("", 0);
	ini->pos = 0;
	ini->have_key = false;
	ini->cur = (struct ed_ini_line){0};
	ini->rc = ED_OK;
	ini->err_line = 0;
	ini->err = err;

	int line = ini_parse_stream(reader, ini, handler, ini);
	if (line == -2 && !ini->rc) {
		ini->rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", ini->origin);
	} else if (line > 0 && (!ini->rc || line < ini->err_line)) {
		/* libinih's own complaint about a line, earlier than ours: say what it means. */
		struct ed_str l = nth_line(ini->text, line);
		size_t i = 0;
		while (i < l.len && ed_ini_blank(l.p[i]))
			i++;
		ini->rc = ed_err_set(err, ED_PARSE, "%s:%d: %s", ini->origin, line,
				     i < l.len && l.p[i] == '['
					     ? "section header without ']'"
					     : "expected '[section]', 'key = value' or a comment");
		ini->err_line = line;
	}
	return ini->rc;
}
