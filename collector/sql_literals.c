/* SPDX-License-Identifier: MIT */
/*
 * Secret string literals in SQL definitions (defaults, views, checks,
 * triggers, index predicates): found by the value detectors or by the name
 * they are the value of, and masked in the text that is stored.
 */
#include <stdbool.h>
#include <string.h>

#include "ed/collect.h"
#include "ed/config.h"
#include "sql_lex.h"

enum lt {
	L_SPACE,
	L_COMMENT,
	L_WORD,   /* bare identifier or keyword */
	L_QID,    /* quoted identifier */
	L_STRING, /* '...', E'...', X'...', $tag$...$tag$ */
	L_NUMBER,
	L_OP,
	L_CAST,   /* :: */
	L_OPEN,   /* ( or [ */
	L_CLOSE,  /* ) or ] */
	L_COMMA,
	L_DOT,
	L_OTHER,  /* ; parameters, anything else */
};

struct ltok {
	enum lt t;
	size_t a, b;   /* the token: s[a..b) */
	size_t ca, cb; /* L_STRING and L_QID: the text between the quotes */
	bool bs;       /* L_STRING: backslash escapes (E'...') */
	bool dollar;   /* L_STRING: $tag$...$tag$, nothing escaped */
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool id_start(unsigned char c)
{
	return is_alpha(c) || c == '_' || c >= 0x80;
}

static bool id_char(unsigned char c)
{
	return id_start(c) || is_digit(c) || c == '$';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t ed_sql_quoted_end(const char *s, size_t n, size_t i, char q, bool bs)
{
	for (size_t j = i + 1; j < n; j++) {
		if (bs && s[j] == '\\') {
			j++;
		} else if (s[j] == q) {
			if (j + 1 < n && s[j + 1] == q) {
				j++;
				continue;
			}
			return j + 1;
		}
	}
	return n;
}

size_t ed_sql_dollar_end(const char *s, size_t n, size_t i, size_t *tag, size_t *close)
{
	size_t j = i + 1;
	if (i > 0 && id_char((unsigned char)s[i - 1]))
		return 0;
	if (j < n && s[j] != '$') {
		if (!id_start((unsigned char)s[j]))
			return 0;
		while (j < n && s[j] != '$' && id_char((unsigned char)s[j]))
			j++;
	}
	if (j >= n || s[j] != '$')
		return 0;
	*tag = j + 1 - i;
	for (size_t k = j + 1; k + *tag <= n; k++) {
		if (s[k] == '$' && memcmp(s + k, s + i, *tag) == 0) {
			*close = k;
			return k + *tag;
		}
	}
	*close = n;
	return n;
}

static bool is_op_char(unsigned char c)
{
	return c && strchr("+-*/<>=~!@#%^&|`?", c) != NULL;
}

/* The token at s[i] (i < n). */
static void next_token(const char *s, size_t n, size_t i, enum ed_sql_dialect d,
		       struct ltok *t)
{
	unsigned char c = (unsigned char)s[i];
	unsigned char c1 = i + 1 < n ? (unsigned char)s[i + 1] : 0;
	bool pg = d == ED_SQL_POSTGRES;
	size_t j;

	memset(t, 0, sizeof(*t));
	t->a = i;
	if (is_space(c)) {
		for (j = i; j < n && is_space((unsigned char)s[j]); j++)
			;
		t->t = L_SPACE;
		t->b = j;
		return;
	}
	if (c == '-' && c1 == '-') {
		for (j = i; j < n && s[j] != '\n'; j++)
			;
		t->t = L_COMMENT;
		t->b = j;
		return;
	}
	if (c == '/' && c1 == '*') {
		/* PostgreSQL nests block comments; SQLite does not. Unterminated: the rest. */
		size_t depth = 1;
		j = i + 2;
		while (j < n) {
			if (pg && j + 1 < n && s[j] == '/' && s[j + 1] == '*') {
				depth++;
				j += 2;
			} else if (j + 1 < n && s[j] == '*' && s[j + 1] == '/') {
				j += 2;
				if (--depth == 0)
					break;
			} else {
				j++;
			}
		}
		t->t = L_COMMENT;
		t->b = j;
		return;
	}
	/* E'...' (PostgreSQL), X'...', B'...', N'...': one literal with its prefix. */
	size_t q = i;
	if ((c == 'E' || c == 'e' || c == 'X' || c == 'x' || c == 'B' || c == 'b' || c == 'N' ||
	     c == 'n') && c1 == '\'')
		q = i + 1;
	else if ((c == 'U' || c == 'u') && c1 == '&' && i + 2 < n && s[i + 2] == '\'')
		q = i + 2;
	if (s[q] == '\'') {
		t->t = L_STRING;
		t->bs = pg && q == i + 1 && (c == 'E' || c == 'e');
		t->b = ed_sql_quoted_end(s, n, q, '\'', t->bs);
		t->ca = q + 1;
		t->cb = t->b > t->ca && s[t->b - 1] == '\'' && t->b - 1 > q ? t->b - 1 : t->b;
		return;
	}
	if (pg && c == '$') {
		size_t tag = 0, close = n, e = ed_sql_dollar_end(s, n, i, &tag, &close);
		if (e) {
			t->t = L_STRING;
			t->dollar = true;
			t->b = e;
			t->ca = i + tag < n ? i + tag : n;
			t->cb = close;
			return;
		}
	}
	if (c == '"' || (!pg && (c == '`' || c == '['))) {
		char close = c == '[' ? ']' : (char)c;
		if (c == '[') {
			for (j = i + 1; j < n && s[j] != ']'; j++)
				;
			t->b = j < n ? j + 1 : n;
		} else {
			t->b = ed_sql_quoted_end(s, n, i, close, false);
		}
		t->t = L_QID;
		t->ca = i + 1;
		t->cb = t->b > t->ca && s[t->b - 1] == close ? t->b - 1 : t->b;
		return;
	}
	if (id_start(c)) {
		for (j = i + 1; j < n && id_char((unsigned char)s[j]); j++)
			;
		t->t = L_WORD;
		t->b = j;
		return;
	}
	if (is_digit(c) || (c == '.' && is_digit(c1))) {
		for (j = i + 1; j < n && (id_char((unsigned char)s[j]) || s[j] == '.'); j++)
			;
		t->t = L_NUMBER;
		t->b = j;
		return;
	}
	t->b = i + 1;
	switch (c) {
	case '(': t->t = L_OPEN; return;
	case ')': t->t = L_CLOSE; return;
	case '[': t->t = L_OPEN; return;
	case ']': t->t = L_CLOSE; return;
	case ',': t->t = L_COMMA; return;
	case '.': t->t = L_DOT; return;
	case ':':
		if (c1 == ':') {
			t->t = L_CAST;
			t->b = i + 2;
		} else if (c1 == '=') {
			t->t = L_OP;
			t->b = i + 2;
		} else {
			/* ":name", a parameter */
			for (j = i + 1; j < n && id_char((unsigned char)s[j]); j++)
				;
			t->t = L_OTHER;
			t->b = j;
		}
		return;
	default:
		break;
	}
	if (is_op_char(c)) {
		/* An operator is a run of operator characters, up to a comment. */
		for (j = i; j < n && is_op_char((unsigned char)s[j]); j++)
			if (j > i && ((s[j] == '-' && j + 1 < n && s[j + 1] == '-') ||
				      (s[j] == '/' && j + 1 < n && s[j + 1] == '*')))
				break;
		t->t = L_OP;
		t->b = j;
		return;
	}
	t->t = L_OTHER;
}

/* Is s[a..b) the word w (upper case), ignoring ASCII case? */
static bool word_is(const char *s, size_t a, size_t b, const char *w)
{
	size_t k = strlen(w);
	if (b - a != k)
		return false;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[a + i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c != (unsigned char)w[i])
			return false;
	}
	return true;
}

static bool word_in(const char *s, size_t a, size_t b, const char *const *list)
{
	for (; *list; list++)
		if (word_is(s, a, b, *list))
			return true;
	return false;
}

/* Words never taken for the name a literal is compared with. */
static const char *const keywords[] = {
	"ALL", "AND", "ANY", "ARRAY", "AS", "BETWEEN", "CASE", "CHECK", "COLLATE", "CONSTRAINT",
	"DEFAULT", "DISTINCT", "ELSE", "END", "ESCAPE", "EXISTS", "FALSE", "FOREIGN", "FROM",
	"GLOB", "ILIKE", "IN", "IS", "LIKE", "MATCH", "NOT", "NULL", "ON", "OR", "PRIMARY",
	"REFERENCES", "REGEXP", "SELECT", "SIMILAR", "SOME", "THEN", "TO", "TRUE", "UNIQUE",
	"USING", "WHEN", "WHERE", NULL,
};
/* Words that compare what comes before with what follows. */
static const char *const compare_words[] = {
	"LIKE", "ILIKE", "GLOB", "REGEXP", "MATCH", "IN", "IS", "SIMILAR", NULL,
};
/* Words that keep a comparison going ("IS NOT DISTINCT FROM", "= ANY (ARRAY[...])"). */
static const char *const keep_words[] = {
	"NOT", "DISTINCT", "FROM", "ANY", "ALL", "SOME", "ARRAY", "TO", "ESCAPE", NULL,
};
/* Words of a multi-word type after "::" ("character varying", "timestamp with time zone"). */
static const char *const type_words[] = {
	"VARYING", "PRECISION", "WITH", "WITHOUT", "TIME", "ZONE", NULL,
};
/* Argument modes before a function argument's name. */
static const char *const arg_modes[] = {"IN", "OUT", "INOUT", "VARIADIC", NULL};

static bool is_compare_op(const char *s, size_t a, size_t b)
{
	static const char *const ops[] = {
		"=", "==", "<>", "!=", "<", ">", "<=", ">=", ":=", "~~", "!~~", "~~*", "!~~*",
		"~", "~*", "!~", "!~*", NULL,
	};
	for (const char *const *o = ops; *o; o++)
		if (strlen(*o) == b - a && memcmp(s + a, *o, b - a) == 0)
			return true;
	return false;
}

/* A name: a span of the text and whether it is quoted. */
struct name {
	size_t a, b; /* the bare word, or the text between the quotes */
	bool quoted;
	bool set;
};

struct masker {
	const struct ed_secrets *sec;
	const char *s;
	size_t n;
	enum ed_sql_dialect d;
	struct ed_buf *out;
	struct ed_buf tmp;   /* an unescaped literal or name */
	struct ed_buf tmp2;  /* its masked form */
	const char *subject; /* the name of the whole text (a column), or NULL */
	size_t nmasked;
};

static size_t skip_trivia(const struct masker *m, size_t i, struct ltok *t)
{
	while (i < m->n) {
		next_token(m->s, m->n, i, m->d, t);
		if (t->t != L_SPACE && t->t != L_COMMENT)
			return i;
		i = t->b;
	}
	t->t = L_OTHER;
	t->a = t->b = m->n;
	return m->n;
}

/* Index past a cast: "::" then a type name, its modifiers and array brackets. */
static size_t skip_cast(const struct masker *m, size_t i)
{
	struct ltok t;
	bool first = true;
	for (;;) {
		size_t j = skip_trivia(m, i, &t);
		if (first && (t.t == L_WORD || t.t == L_QID)) {
			first = false;
		} else if (!first && t.t == L_DOT) {
			first = true;
		} else if (!first && t.t == L_WORD && word_in(m->s, t.a, t.b, type_words)) {
			/* continues the type */
		} else if (!first && t.t == L_OPEN) {
			/* (20), (10,2), [] */
			size_t depth = 0;
			do {
				if (t.t == L_OPEN)
					depth++;
				else if (t.t == L_CLOSE)
					depth--;
				j = t.b;
				if (depth)
					j = skip_trivia(m, j, &t);
			} while (depth && j < m->n);
			i = j;
			continue;
		} else {
			return i;
		}
		i = t.b;
	}
}

/* Does the name (a bare word, or a quoted one to unescape) match a secret key pattern? */
static bool name_is_secret(struct masker *m, const struct name *nm, int *oom)
{
	if (!nm->set)
		return false;
	if (!nm->quoted)
		return ed_secret_name_matches(m->sec, m->s + nm->a, nm->b - nm->a);
	ed_buf_reset(&m->tmp);
	char q = m->s[nm->a - 1];
	for (size_t j = nm->a; j < nm->b; j++) {
		if (m->s[j] == q && j + 1 < nm->b)
			j++;
		if (ed_buf_addc(&m->tmp, m->s[j])) {
			*oom = 1;
			return false;
		}
	}
	return ed_secret_name_matches(m->sec, ed_buf_str(&m->tmp), m->tmp.len);
}

/* The name a token (a word or quoted identifier) stands for. */
static struct name name_of(const struct ltok *t)
{
	struct name nm = {0, 0, false, false};
	if (t->t == L_WORD) {
		nm.a = t->a;
		nm.b = t->b;
		nm.set = true;
	} else if (t->t == L_QID) {
		nm.a = t->ca;
		nm.b = t->cb;
		nm.quoted = true;
		nm.set = true;
	}
	return nm;
}

/*
 * The name after a literal that ends at i: "'x' AS name", "'x'::text AS name",
 * "'x' = name", "f('x') AS name" (closing parentheses and casts skipped), or
 * none.
 */
static struct name name_after(const struct masker *m, size_t i)
{
	struct name none = {0, 0, false, false};
	struct ltok t;
	for (;;) {
		i = skip_trivia(m, i, &t);
		if (t.t == L_CAST)
			i = skip_cast(m, t.b);
		else if (t.t == L_CLOSE)
			i = t.b;
		else
			break;
	}
	if (t.t == L_WORD && word_is(m->s, t.a, t.b, "AS")) {
		skip_trivia(m, t.b, &t);
		return t.t == L_WORD || t.t == L_QID ? name_of(&t) : none;
	}
	if (t.t == L_OP && is_compare_op(m->s, t.a, t.b)) {
		struct name last = none;
		i = t.b;
		/* "= (a.b.name)": the last part of a qualified name. */
		for (;;) {
			i = skip_trivia(m, i, &t);
			if (t.t == L_OPEN || t.t == L_DOT) {
				i = t.b;
			} else if ((t.t == L_WORD && !word_in(m->s, t.a, t.b, keywords)) ||
				   t.t == L_QID) {
				last = name_of(&t);
				i = t.b;
			} else {
				return last;
			}
		}
	}
	return none;
}

/* Appends s[a..b) to out doubling every single quote. */
static int add_escaped(struct ed_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((s[i] == '\'' && ed_buf_addc(out, '\'')) || ed_buf_addc(out, s[i]))
			return -1;
	return 0;
}

/*
 * The detectors over a literal's text (in, unescaped): out receives it
 * masked, or stays empty when nothing was found. A quote inside a literal is
 * part of the value, where the detectors would take it for the end of one
 * ("postgres://u:p'w@h"): they look at a copy with each quote made '%'.
 * Returns 0, or -1 when out of memory.
 */
static int mask_quoted(const struct ed_secrets *sec, const struct ed_buf *in, struct ed_buf *out)
{
	struct ed_buf seen = ED_BUF_INIT;
	size_t hits = 0;
	if (in->len == 0)
		return 0;
	if (ed_buf_add(&seen, in->p, in->len))
		return -1;
	for (size_t i = 0; i < seen.len; i++)
		if (seen.p[i] == '\'')
			seen.p[i] = '%';
	int r = ed_secret_mask_seen(sec, in->p, seen.p, in->len, out, &hits);
	ed_buf_release(&seen);
	if (!r && !hits)
		ed_buf_reset(out);
	return r;
}

/* Writes the literal t, masked as a whole when secret_name, else where a detector finds a secret. */
static int literal(struct masker *m, const struct ltok *t, bool secret_name)
{
	const char *s = m->s;
	size_t clen = t->cb - t->ca;
	const char *marker = "'" ED_SECRET_MARKER "'";

	/* An empty literal says nothing; the marker itself is left as it is. */
	if (secret_name && clen > 0 &&
	    !(clen == strlen(ED_SECRET_MARKER) && memcmp(s + t->ca, ED_SECRET_MARKER, clen) == 0)) {
		m->nmasked++;
		return ed_buf_adds(m->out, marker);
	}
	if (t->dollar || t->bs) {
		/* Nothing to unescape ($...$), or escapes we do not rewrite (E'...'). */
		size_t hits = 0;
		ed_buf_reset(&m->tmp2);
		if (ed_secret_mask(m->sec, s + t->ca, clen, &m->tmp2, &hits))
			return -1;
		if (!hits)
			return ed_buf_add(m->out, s + t->a, t->b - t->a);
		m->nmasked++;
		if (t->bs)
			return ed_buf_adds(m->out, marker);
		return ed_buf_add(m->out, s + t->a, t->ca - t->a) ||
		       ed_buf_add(m->out, m->tmp2.p, m->tmp2.len) ||
		       ed_buf_add(m->out, s + t->cb, t->b - t->cb);
	}
	/* '...' with '' for a quote: the detectors look at the text it stands for. */
	ed_buf_reset(&m->tmp);
	for (size_t j = t->ca; j < t->cb; j++) {
		if (s[j] == '\'' && j + 1 < t->cb)
			j++;
		if (ed_buf_addc(&m->tmp, s[j]))
			return -1;
	}
	ed_buf_reset(&m->tmp2);
	if (mask_quoted(m->sec, &m->tmp, &m->tmp2) < 0)
		return -1;
	if (!m->tmp2.len)
		return ed_buf_add(m->out, s + t->a, t->b - t->a);
	m->nmasked++;
	return ed_buf_add(m->out, s + t->a, t->ca - t->a) ||
	       add_escaped(m->out, ed_buf_str(&m->tmp2), m->tmp2.len) ||
	       ed_buf_add(m->out, s + t->cb, t->b - t->cb);
}

#define MAX_DEPTH 64

int ed_sql_mask_literals(const struct ed_secrets *sec, enum ed_sql_dialect dialect,
			 const char *subject, const char *sql, size_t len, struct ed_buf *out,
			 size_t *nmasked)
{
	struct masker m = {sec, sql ? sql : "", sql ? len : 0, dialect, out, ED_BUF_INIT,
			   ED_BUF_INIT, subject, 0};
	const struct name none = {0, 0, false, false};
	struct name heads[MAX_DEPTH]; /* the first name of the current part, per depth (0: none,
				       * the subject stands for it) */
	struct name last = none;      /* the last name seen: what a comparison compares */
	struct name pending = none;   /* literals here are the value of this name */
	bool pending_subject = false; /* ...or of the subject (a DEFAULT at depth 0) */
	bool pending_on = false;
	size_t pending_depth = 0;
	bool part_start = true, after_always = false;
	size_t depth = 0, start = out->len;
	int oom = 0;
	struct ltok t;

	for (size_t k = 0; k < MAX_DEPTH; k++)
		heads[k] = none;
	for (size_t i = 0; i < m.n && !oom;) {
		next_token(m.s, m.n, i, m.d, &t);
		if (t.b <= i)
			t.b = i + 1; /* never stand still */
		if (t.t == L_SPACE || t.t == L_COMMENT) {
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			continue;
		}
		if (t.t == L_CAST) {
			size_t e = skip_cast(&m, t.b);
			oom = ed_buf_add(out, m.s + t.a, e - t.a);
			i = e;
			continue;
		}
		bool was_start = part_start;
		part_start = false;
		bool keep = false; /* the token keeps a pending value going */
		bool always = after_always;
		after_always = false;

		switch (t.t) {
		case L_STRING: {
			bool secret = false;
			if (pending_on && pending_subject)
				secret = m.subject &&
					 ed_secret_name_matches(m.sec, m.subject, strlen(m.subject));
			else if (pending_on)
				secret = name_is_secret(&m, &pending, &oom);
			if (!secret) {
				struct name after = name_after(&m, t.b);
				secret = name_is_secret(&m, &after, &oom);
			}
			if (!oom)
				oom = literal(&m, &t, secret);
			keep = true;
			i = t.b;
			break;
		}
		case L_WORD:
		case L_QID: {
			bool kw = t.t == L_WORD && word_in(m.s, t.a, t.b, keywords);
			bool is_default = t.t == L_WORD && word_is(m.s, t.a, t.b, "DEFAULT");
			bool gen_as = always && t.t == L_WORD && word_is(m.s, t.a, t.b, "AS");
			if (t.t == L_WORD && word_is(m.s, t.a, t.b, "ALWAYS"))
				after_always = true;
			if (is_default || gen_as) {
				/* The value of the part's name: its first name, or the subject at depth 0. */
				size_t k = depth < MAX_DEPTH ? depth : MAX_DEPTH - 1;
				while (k > 0 && !heads[k].set)
					k--;
				pending_on = true;
				pending_depth = depth;
				pending_subject = k == 0;
				pending = heads[k];
				keep = true;
			} else if (t.t == L_WORD && word_in(m.s, t.a, t.b, compare_words)) {
				pending_on = last.set;
				pending_subject = false;
				pending = last;
				pending_depth = depth;
				keep = true;
			} else if (t.t == L_WORD && word_in(m.s, t.a, t.b, keep_words)) {
				keep = true;
			} else if (!kw) {
				/* A name or a function: "password = lower('X')" goes on. */
				keep = true;
				last = name_of(&t);
				if (was_start && t.t == L_WORD && word_in(m.s, t.a, t.b, arg_modes)) {
					part_start = true;
				} else if (was_start && depth < MAX_DEPTH && depth > 0) {
					heads[depth] = last;
				}
			} else {
				last = none;
			}
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		}
		case L_OP:
			if (is_compare_op(m.s, t.a, t.b)) {
				pending_on = last.set;
				pending_subject = false;
				pending = last;
				pending_depth = depth;
				keep = true;
			} else if (t.b - t.a == 2 && memcmp(m.s + t.a, "||", 2) == 0) {
				keep = true;
			}
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		case L_OPEN:
			depth++;
			if (depth < MAX_DEPTH)
				heads[depth] = none;
			part_start = true;
			keep = true;
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		case L_CLOSE:
			if (depth > 0)
				depth--;
			keep = true;
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		case L_COMMA:
			if (depth < MAX_DEPTH)
				heads[depth] = none;
			part_start = true;
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		case L_DOT:
			/* "a.b": the name is the last part; a part's head stays its first. */
			part_start = false;
			keep = true;
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		default:
			oom = ed_buf_add(out, m.s + t.a, t.b - t.a);
			i = t.b;
			break;
		}
		/* Inside the value's own parentheses anything goes; at its depth only a few tokens. */
		if (pending_on && !keep && depth <= pending_depth)
			pending_on = false;
		if (pending_on && depth < pending_depth)
			pending_on = false;
	}
	ed_buf_release(&m.tmp);
	ed_buf_release(&m.tmp2);
	if (oom) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
		return -1;
	}
	if (nmasked)
		*nmasked = m.nmasked;
	return 0;
}
