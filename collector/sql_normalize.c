/* SPDX-License-Identifier: MIT */
/*
 * A small SQLite SQL tokenizer that rewrites a statement into one canonical
 * text, so that whitespace, comments, keyword case and identifier quoting
 * never show up as schema drift.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "ed/collect.h"

enum tok {
	T_WORD,    /* bare identifier (or a quoted one that needs no quotes) */
	T_KEYWORD, /* SQLite keyword, written upper case */
	T_QID,     /* identifier that must stay quoted, written "..." */
	T_STRING,  /* '...' verbatim */
	T_BLOB,    /* X'...' */
	T_NUMBER,
	T_VAR,     /* ?NNN, :name, @name, $name, #name */
	T_OP,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_DOT,
	T_SEMI,
};

/* Where we are inside CREATE TABLE, to upper-case type names and table options. */
enum ct_state {
	CT_START,  /* first token of a statement */
	CT_CREATE, /* after CREATE [TEMP] */
	CT_TABLE,  /* after CREATE TABLE, before the column list */
	CT_COLS,   /* inside the column list */
	CT_OPTS,   /* after the column list: WITHOUT ROWID, STRICT */
	CT_NONE,   /* any other statement */
};

enum col_state {
	COL_NAME,  /* the next token names a column (or starts a table constraint) */
	COL_TYPE,  /* bare words here are the declared type */
	COL_OTHER, /* constraints and the rest */
};

struct norm {
	struct ed_buf *out;
	struct ed_buf scratch; /* unescaped quoted identifiers */
	size_t ntok;           /* tokens written so far */
	enum tok prev;         /* last token written */
	size_t semis;          /* ';' seen but not yet written (trailing ones are dropped) */
	enum ct_state ct;
	enum col_state col;
	size_t depth;          /* parenthesis depth within the statement */
	bool after_collate;    /* the previous token was COLLATE */
};

static bool is_space(unsigned char c)
{
	/* SQLite's own set: \v is not whitespace to its tokenizer. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Bytes >= 0x80 are identifier characters, as in SQLite (UTF-8 names). */
static bool is_id_start(unsigned char c)
{
	return is_alpha(c) || c == '_' || c >= 0x80;
}

static bool is_id_char(unsigned char c)
{
	return is_id_start(c) || is_digit(c) || c == '$';
}

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

static bool is_keyword(const char *s, size_t n)
{
	/* The longest SQLite keyword has 17 letters; this also keeps n within int. */
	return n > 0 && n <= 32 && sqlite3_keyword_check(s, (int)n);
}

/* Is s[0..n) the keyword kw (upper case)? */
static bool word_is(const char *s, size_t n, const char *kw)
{
	size_t k = strlen(kw);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (upper((unsigned char)s[i]) != (unsigned char)kw[i])
			return false;
	return true;
}

/* A plain identifier may be written without quotes: [A-Za-z_][A-Za-z0-9_]*, not a keyword. */
static bool is_plain_ident(const char *s, size_t n)
{
	if (n == 0 || !(is_alpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(is_alpha(c) || is_digit(c) || c == '_'))
			return false;
	}
	return !is_keyword(s, n);
}

static enum ed_code add(struct norm *nm, const char *s, size_t n, struct ed_err *err)
{
	if (ed_buf_add(nm->out, s, n) == 0)
		return ED_OK;
	if (nm->out->max && n > nm->out->max - nm->out->len)
		return ed_err_set(err, ED_TOOBIG, "normalised sql longer than %zu bytes",
				  nm->out->max);
	return ed_err_set(err, ED_NOMEM, "out of memory");
}

/* Updates the CREATE TABLE tracking for one token; returns whether to upper-case it. */
static bool track(struct norm *nm, enum tok t, const char *s, size_t n)
{
	bool up = false;
	bool collate = nm->after_collate;
	nm->after_collate = t == T_KEYWORD && word_is(s, n, "COLLATE");
	/* The built-in collations are case-insensitive names. */
	if (collate && t == T_WORD &&
	    (word_is(s, n, "BINARY") || word_is(s, n, "NOCASE") || word_is(s, n, "RTRIM")))
		up = true;

	switch (nm->ct) {
	case CT_START:
		nm->ct = t == T_KEYWORD && word_is(s, n, "CREATE") ? CT_CREATE : CT_NONE;
		break;
	case CT_CREATE:
		if (t == T_KEYWORD && word_is(s, n, "TABLE"))
			nm->ct = CT_TABLE;
		else if (!(t == T_KEYWORD && (word_is(s, n, "TEMP") || word_is(s, n, "TEMPORARY"))))
			nm->ct = CT_NONE;
		break;
	case CT_TABLE:
		if (t == T_LPAREN && nm->depth == 0) {
			nm->ct = CT_COLS;
			nm->col = COL_NAME;
		} else if (t == T_KEYWORD && word_is(s, n, "AS")) {
			nm->ct = CT_NONE;
		}
		break;
	case CT_COLS:
		if (nm->depth != 1)
			break;
		if (t == T_RPAREN) {
			nm->ct = CT_OPTS;
		} else if (t == T_COMMA) {
			nm->col = COL_NAME;
		} else if (nm->col == COL_NAME) {
			bool constraint = t == T_KEYWORD &&
					  (word_is(s, n, "CONSTRAINT") || word_is(s, n, "PRIMARY") ||
					   word_is(s, n, "UNIQUE") || word_is(s, n, "CHECK") ||
					   word_is(s, n, "FOREIGN"));
			nm->col = constraint ? COL_OTHER : COL_TYPE;
		} else if (nm->col == COL_TYPE) {
			if (t == T_WORD)
				up = true; /* "integer" and "INTEGER" are one type */
			else
				nm->col = COL_OTHER;
		}
		break;
	case CT_OPTS:
		if (t == T_WORD)
			up = true; /* ROWID, STRICT */
		break;
	case CT_NONE:
		break;
	}

	if (t == T_LPAREN)
		nm->depth++;
	else if (t == T_RPAREN && nm->depth > 0)
		nm->depth--;
	return up;
}

/* Writes one token with the spacing rules; upper-cases ASCII letters when up. */
static enum ed_code emit(struct norm *nm, enum tok t, const char *s, size_t n, bool up,
			 struct ed_err *err)
{
	enum ed_code rc;
	if (t == T_SEMI) {
		nm->semis++;
		nm->ct = CT_START;
		nm->depth = 0;
		nm->after_collate = false;
		return ED_OK;
	}
	for (; nm->semis > 0; nm->semis--) {
		if ((rc = add(nm, ";", 1, err)))
			return rc;
		nm->prev = T_SEMI;
		nm->ntok++;
	}
	bool space = nm->ntok > 0 && nm->prev != T_LPAREN && nm->prev != T_DOT &&
		     t != T_RPAREN && t != T_COMMA && t != T_LPAREN && t != T_DOT;
	/*
	 * Keep tokens apart where gluing them would read back differently: a
	 * number next to a '.' ("a.5", "1.5") or a '.' after a number.
	 */
	if (!space && nm->ntok > 0 &&
	    ((t == T_NUMBER && nm->prev == T_DOT) || (t == T_DOT && nm->prev == T_NUMBER)))
		space = true;
	if (space && (rc = add(nm, " ", 1, err)))
		return rc;
	size_t at = nm->out->len;
	if ((rc = add(nm, s, n, err)))
		return rc;
	if (up)
		for (size_t i = at; i < nm->out->len; i++)
			nm->out->p[i] = (char)upper((unsigned char)nm->out->p[i]);
	nm->prev = t;
	nm->ntok++;
	return ED_OK;
}

/* Scans a quoted run starting at s[i] (the opening quote); returns the index past the close, or 0. */
static size_t scan_quoted(const char *s, size_t n, size_t i, char close, bool doubled)
{
	for (size_t j = i + 1; j < n; j++) {
		if (s[j] != close)
			continue;
		if (doubled && j + 1 < n && s[j + 1] == close) {
			j++;
			continue;
		}
		return j + 1;
	}
	return 0;
}

/*
 * Handles a quoted identifier s[i..end): unescapes it into scratch, then emits
 * it bare when it is a plain identifier and "double-quoted" otherwise.
 */
static enum ed_code quoted_ident(struct norm *nm, const char *s, size_t i, size_t end,
				 struct ed_err *err)
{
	char close = s[i] == '[' ? ']' : s[i];
	bool doubled = s[i] != '[';
	struct ed_buf *sc = &nm->scratch;
	ed_buf_reset(sc);
	for (size_t j = i + 1; j + 1 < end; j++) {
		if (doubled && s[j] == close)
			j++; /* the first of a doubled quote */
		if (ed_buf_addc(sc, s[j]))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	size_t len = sc->len;
	if (is_plain_ident(ed_buf_str(sc), len)) {
		bool up = track(nm, T_WORD, sc->p, len);
		return emit(nm, T_WORD, sc->p, len, up, err);
	}
	/* Anything else is written "..." with "" for a quote inside. */
	struct ed_buf q = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (ed_buf_addc(&q, '"')) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < len; j++) {
		if ((sc->p[j] == '"' && ed_buf_addc(&q, '"')) || ed_buf_addc(&q, sc->p[j])) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto out;
		}
	}
	if (ed_buf_addc(&q, '"')) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	track(nm, T_QID, q.p, q.len);
	rc = emit(nm, T_QID, q.p, q.len, false, err);
out:
	ed_buf_release(&q);
	return rc;
}

/* Length of the operator at s[i] (at least 1), or 0 when s[i] starts no token we know. */
static size_t op_len(const char *s, size_t n, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	unsigned char d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
	unsigned char e = i + 2 < n ? (unsigned char)s[i + 2] : 0;
	switch (c) {
	case '-':
		if (d == '>')
			return e == '>' ? 3 : 2;
		return 1;
	case '<':
		return d == '=' || d == '>' || d == '<' ? 2 : 1;
	case '>':
		return d == '=' || d == '>' ? 2 : 1;
	case '=':
		return d == '=' ? 2 : 1;
	case '!':
		return d == '=' ? 2 : 0;
	case '|':
		return d == '|' ? 2 : 1;
	case '+':
	case '*':
	case '/':
	case '%':
	case '&':
	case '~':
		return 1;
	default:
		return 0;
	}
}

static size_t number_end(const char *s, size_t n, size_t i)
{
	if (s[i] == '0' && i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
	    is_hex((unsigned char)s[i + 2])) {
		i += 2;
		while (i < n && is_hex((unsigned char)s[i]))
			i++;
		return i;
	}
	while (i < n && is_digit((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < n && is_digit((unsigned char)s[j])) {
			i = j;
			while (i < n && is_digit((unsigned char)s[i]))
				i++;
		}
	}
	return i;
}

enum ed_code ed_sql_normalize(struct ed_str sql, struct ed_buf *out, struct ed_err *err)
{
	struct norm nm = {.out = out, .scratch = ED_BUF_INIT, .prev = T_OP, .ct = CT_START};
	const char *s = sql.p;
	size_t n = s ? sql.len : 0;
	size_t start = out->len;
	enum ed_code rc = ED_OK;
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		unsigned char d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		size_t end;

		if (is_space(c)) {
			i++;
		} else if (c == '-' && d == '-') {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '/' && d == '*') {
			size_t j = i + 2;
			while (j + 1 < n && !(s[j] == '*' && s[j + 1] == '/'))
				j++;
			if (j + 1 >= n) {
				rc = ed_err_set(err, ED_PARSE, "unterminated /* comment at offset %zu", i);
				goto out;
			}
			i = j + 2;
		} else if (c == '\'') {
			end = scan_quoted(s, n, i, '\'', true);
			if (!end) {
				rc = ed_err_set(err, ED_PARSE, "unterminated string literal at offset %zu", i);
				goto out;
			}
			track(&nm, T_STRING, s + i, end - i);
			if ((rc = emit(&nm, T_STRING, s + i, end - i, false, err)))
				goto out;
			i = end;
		} else if ((c == 'x' || c == 'X') && d == '\'') {
			end = scan_quoted(s, n, i + 1, '\'', false);
			if (!end) {
				rc = ed_err_set(err, ED_PARSE, "unterminated blob literal at offset %zu", i);
				goto out;
			}
			track(&nm, T_BLOB, s + i, end - i);
			/* X'ab' and x'AB' are the same bytes. */
			if ((rc = emit(&nm, T_BLOB, s + i, end - i, true, err)))
				goto out;
			i = end;
		} else if (c == '"' || c == '`' || c == '[') {
			end = scan_quoted(s, n, i, c == '[' ? ']' : (char)c, c != '[');
			if (!end) {
				rc = ed_err_set(err, ED_PARSE,
						"unterminated quoted identifier at offset %zu", i);
				goto out;
			}
			if ((rc = quoted_ident(&nm, s, i, end, err)))
				goto out;
			i = end;
		} else if (is_id_start(c)) {
			end = i + 1;
			while (end < n && is_id_char((unsigned char)s[end]))
				end++;
			bool kw = is_keyword(s + i, end - i);
			enum tok t = kw ? T_KEYWORD : T_WORD;
			bool up = track(&nm, t, s + i, end - i) || kw;
			if ((rc = emit(&nm, t, s + i, end - i, up, err)))
				goto out;
			i = end;
		} else if (is_digit(c) || (c == '.' && is_digit(d))) {
			end = number_end(s, n, i);
			track(&nm, T_NUMBER, s + i, end - i);
			if ((rc = emit(&nm, T_NUMBER, s + i, end - i, false, err)))
				goto out;
			i = end;
		} else if (c == '?' || ((c == ':' || c == '@' || c == '$' || c == '#') &&
					is_id_char(d))) {
			end = i + 1;
			if (c == '?')
				while (end < n && is_digit((unsigned char)s[end]))
					end++;
			else
				while (end < n && is_id_char((unsigned char)s[end]))
					end++;
			track(&nm, T_VAR, s + i, end - i);
			if ((rc = emit(&nm, T_VAR, s + i, end - i, false, err)))
				goto out;
			i = end;
		} else {
			enum tok t;
			size_t len = 1;
			switch (c) {
			case '(': t = T_LPAREN; break;
			case ')': t = T_RPAREN; break;
			case ',': t = T_COMMA; break;
			case '.': t = T_DOT; break;
			case ';': t = T_SEMI; break;
			default:
				t = T_OP;
				len = op_len(s, n, i);
				if (!len) {
					rc = ed_err_set(err, ED_PARSE,
							"unexpected character 0x%02x at offset %zu", c, i);
					goto out;
				}
			}
			track(&nm, t, s + i, len);
			if ((rc = emit(&nm, t, s + i, len, false, err)))
				goto out;
			i += len;
		}
	}
out:
	ed_buf_release(&nm.scratch);
	if (rc) {
		/* Leave out as it was. */
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	return rc;
}
