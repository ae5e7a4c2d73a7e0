/* SPDX-License-Identifier: MIT */
/*
 * YAML configs (libyaml events): the stream is composed into nodes with
 * aliases as shared references, checked (duplicates, depth, expanded size),
 * then walked with aliases expanded into one config item per leaf. The same
 * composition gives the byte ranges that redaction replaces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_impl.h"

#define TAG_PREFIX "tag:yaml.org,2002:"
#define SIZE_CAP ((uint32_t)ED_YAML_MAX_NODES + 1) /* sizes saturate here */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	uint8_t type;       /* enum ytype */
	uint8_t style;      /* yaml_scalar_style_t of a scalar */
	bool has_tag;       /* an explicit tag (tag, taglen) */
	bool has_anchor;    /* an anchor (anchor, anchorlen) */
	bool def_secret;    /* written under a secret key */
	bool is_key;        /* written as a mapping key */
	bool complete;      /* its end event was seen */
	bool had_pairs;     /* a mapping with pairs in the text (all may be skipped) */
	uint32_t size;      /* nodes when aliases are expanded, saturating at SIZE_CAP */
	uint32_t cdepth;    /* container levels when expanded; 0 for a scalar */
	size_t line, col;   /* start mark, 0-based */
	size_t start, end;  /* libyaml marks: character indexes, BOM not counted */
	size_t text, len;   /* scalar text in strs */
	size_t tag, taglen; /* in strs */
	size_t anchor, anchorlen;
	uint32_t *kids;     /* sequence elements; mapping key, value, key, value... */
	uint32_t nkids, capkids;
};

struct yanchor {
	size_t name, len; /* in strs; len 0 = free slot (anchors are never empty) */
	uint32_t node;
};

struct ycomp {
	const char *path;
	const struct ed_secrets *sec;
	struct ed_sink *sink;       /* warnings; NULL when composing to redact */
	struct ynode *nodes;
	size_t n, cap;
	struct ed_buf strs;         /* scalar texts, tags and anchor names */
	uint32_t *roots;            /* one per document */
	size_t nroots, caproots;
	uint32_t *stack;            /* open containers */
	size_t depth, capstack;
	struct yanchor *anch;       /* open addressing, power-of-two size; per document */
	size_t anchcap, nanch;
	size_t edges;               /* container entries, aliases included */
	uint64_t total;             /* expanded nodes of the finished documents */
	bool failed;                /* cannot be read; a warning said why */
};

/* Composition results: 0 go on, 1 the file cannot be read (warned), -1 out of memory. */

static void warn(struct ycomp *c, size_t line, size_t col, const char *what)
{
	c->failed = true;
	if (c->sink)
		ed_sink_warn(c->sink, "%s:%zu:%zu: %s", c->path, line + 1, col + 1, what);
}

/* Warns about key k (at most 100 bytes of its name, controls as '?'); fatal: file unreadable. */
static void warn_key(struct ycomp *c, const struct ynode *k, const char *what, bool fatal)
{
	char name[101];
	size_t n = k->len < 100 ? k->len : 100;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->strs.p[k->text + i];
		name[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	name[n] = '\0';
	c->failed = c->failed || fatal;
	if (c->sink)
		ed_sink_warn(c->sink, "%s:%zu:%zu: %s '%s'%s", c->path, k->line + 1, k->col + 1, what,
			     name, k->len > 100 ? "..." : "");
}

static int save(struct ycomp *c, const void *s, size_t len, size_t *off)
{
	*off = c->strs.len;
	/* Keep a NUL after each piece, so a tag or name can be read as a C string. */
	return ed_buf_add(&c->strs, s, len) || ed_buf_addc(&c->strs, '\0') ? -1 : 0;
}

static uint64_t anchor_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static struct yanchor *anchor_slot(struct ycomp *c, const char *name, size_t len)
{
	size_t mask = c->anchcap - 1;
	for (size_t i = anchor_hash(name, len) & mask;; i = (i + 1) & mask) {
		struct yanchor *a = &c->anch[i];
		if (a->len == 0 || (a->len == len && memcmp(c->strs.p + a->name, name, len) == 0))
			return a;
	}
}

static int anchor_set(struct ycomp *c, const char *name, uint32_t node, size_t *off)
{
	size_t len = strlen(name);
	if (save(c, name, len, off))
		return -1;
	if (len == 0)
		return 0;
	if (2 * (c->nanch + 1) > c->anchcap) {
		size_t cap = c->anchcap ? 2 * c->anchcap : 16;
		struct yanchor *old = c->anch;
		size_t oldcap = c->anchcap;
		c->anch = calloc(cap, sizeof(*c->anch));
		if (!c->anch) {
			c->anch = old;
			return -1;
		}
		c->anchcap = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].len)
				*anchor_slot(c, c->strs.p + old[i].name, old[i].len) = old[i];
		free(old);
	}
	struct yanchor *a = anchor_slot(c, name, len);
	if (a->len == 0)
		c->nanch++;
	/* A later anchor of the same name replaces the earlier one, as YAML says. */
	*a = (struct yanchor){*off, len, node};
	return 0;
}

static void anchors_reset(struct ycomp *c)
{
	free(c->anch);
	c->anch = NULL;
	c->anchcap = c->nanch = 0;
}

/* Where a new node goes: is it a mapping key, and is it under a secret key? */
static void position(struct ycomp *c, bool *is_key, bool *def_secret)
{
	*is_key = false;
	*def_secret = false;
	if (c->depth == 0)
		return;
	const struct ynode *p = &c->nodes[c->stack[c->depth - 1]];
	*def_secret = p->def_secret;
	if (p->type != Y_MAP)
		return;
	if (p->nkids % 2 == 0) {
		*is_key = true;
		return;
	}
	const struct ynode *k = &c->nodes[p->kids[p->nkids - 1]];
	if (k->type == Y_SCALAR &&
	    ed_secret_name_matches(c->sec, c->strs.p + k->text, k->len))
		*def_secret = true;
}

/*
 * Marks node idx and everything below it secret. A node marked already has
 * its subtree marked (nodes made under a secret node are secret, and so is
 * what an alias brings into one), so every node is visited at most once.
 */
static void mark_secret(struct ycomp *c, uint32_t idx)
{
	struct ynode *nd = &c->nodes[idx];
	if (nd->def_secret)
		return;
	nd->def_secret = true;
	for (uint32_t i = 0; i < nd->nkids; i++)
		if (!(nd->type == Y_MAP && i % 2 == 0)) /* keys stay as they are */
			mark_secret(c, nd->kids[i]);
}

/* Adds node idx to the open container, or makes it the document's root. */
static int attach(struct ycomp *c, uint32_t idx)
{
	if (++c->edges > ED_YAML_MAX_NODES) {
		warn(c, c->nodes[idx].line, c->nodes[idx].col, "more than 100000 YAML nodes");
		return 1;
	}
	if (c->depth == 0) {
		if (c->nroots == c->caproots) {
			size_t cap = c->caproots ? 2 * c->caproots : 4;
			uint32_t *v = realloc(c->roots, cap * sizeof(*v));
			if (!v)
				return -1;
			c->roots = v;
			c->caproots = cap;
		}
		c->roots[c->nroots++] = idx;
		return 0;
	}
	struct ynode *p = &c->nodes[c->stack[c->depth - 1]];
	if (p->nkids == p->capkids) {
		uint32_t cap = p->capkids ? 2 * p->capkids : 4;
		uint32_t *v = realloc(p->kids, cap * sizeof(*v));
		if (!v)
			return -1;
		p->kids = v;
		p->capkids = cap;
	}
	p->kids[p->nkids++] = idx;
	return 0;
}

static int new_node(struct ycomp *c, enum ytype type, const yaml_event_t *ev,
		    const yaml_char_t *anchor, uint32_t *idx)
{
	if (c->n >= ED_YAML_MAX_NODES) {
		warn(c, ev->start_mark.line, ev->start_mark.column, "more than 100000 YAML nodes");
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct ynode *v = realloc(c->nodes, cap * sizeof(*v));
		if (!v)
			return -1;
		c->nodes = v;
		c->cap = cap;
	}
	struct ynode *nd = &c->nodes[c->n];
	memset(nd, 0, sizeof(*nd));
	nd->type = (uint8_t)type;
	nd->line = ev->start_mark.line;
	nd->col = ev->start_mark.column;
	nd->start = ev->start_mark.index;
	nd->end = ev->end_mark.index;
	nd->size = 1;
	position(c, &nd->is_key, &nd->def_secret);
	*idx = (uint32_t)c->n++;
	if (anchor) {
		c->nodes[*idx].has_anchor = true;
		size_t off;
		if (anchor_set(c, (const char *)anchor, *idx, &off))
			return -1;
		c->nodes[*idx].anchor = off;
		c->nodes[*idx].anchorlen = strlen((const char *)anchor);
	}
	return attach(c, *idx);
}

struct ypair {
	const char *name; /* key text, in strs */
	size_t len;
	uint32_t k, v;
	uint32_t order;   /* position in the text */
};

static int pair_cmp(const void *a, const void *b)
{
	const struct ypair *x = a, *y = b;
	int r = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	if (r)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* At a mapping's end: skip pairs with unusable keys, sort by key, refuse duplicates. */
static int finish_map(struct ycomp *c, uint32_t idx)
{
	struct ynode *m = &c->nodes[idx];
	uint32_t np = m->nkids / 2, kept = 0;
	struct ypair *pairs;

	m->had_pairs = np > 0;
	if (np == 0)
		return 0;
	pairs = calloc(np, sizeof(*pairs));
	if (!pairs)
		return -1;
	for (uint32_t i = 0; i < np; i++) {
		const struct ynode *k = &c->nodes[m->kids[2 * i]];
		if (k->type != Y_SCALAR) {
			if (c->sink)
				ed_sink_warn(c->sink, "%s:%zu:%zu: mapping key that is not a scalar: pair skipped",
					     c->path, k->line + 1, k->col + 1);
			continue;
		}
		if (memchr(c->strs.p + k->text, '\0', k->len)) {
			warn_key(c, k, "pair skipped: key with a NUL byte", false);
			continue;
		}
		pairs[kept++] = (struct ypair){c->strs.p + k->text, k->len, m->kids[2 * i],
					       m->kids[2 * i + 1], i};
	}
	qsort(pairs, kept, sizeof(*pairs), pair_cmp);
	for (uint32_t i = 0; i + 1 < kept; i++)
		if (pairs[i].len == pairs[i + 1].len &&
		    memcmp(pairs[i].name, pairs[i + 1].name, pairs[i].len) == 0) {
			warn_key(c, &c->nodes[pairs[i + 1].k], "duplicate key", true);
			free(pairs);
			return 1;
		}
	for (uint32_t i = 0; i < kept; i++) {
		m->kids[2 * i] = pairs[i].k;
		m->kids[2 * i + 1] = pairs[i].v;
	}
	m->nkids = 2 * kept;
	free(pairs);
	return 0;
}

static int end_container(struct ycomp *c, const yaml_event_t *ev)
{
	uint32_t idx = c->stack[--c->depth];
	struct ynode *nd = &c->nodes[idx];
	uint64_t size = 1;
	uint32_t deepest = 0;

	nd->end = ev->end_mark.index;
	for (uint32_t i = 0; i < nd->nkids; i++) {
		const struct ynode *k = &c->nodes[nd->kids[i]];
		size += k->size;
		if (k->cdepth > deepest)
			deepest = k->cdepth;
	}
	nd->size = size > SIZE_CAP ? SIZE_CAP : (uint32_t)size;
	nd->cdepth = deepest + 1;
	nd->complete = true;
	if (nd->cdepth > ED_CONFIG_MAX_DEPTH) {
		warn(c, nd->line, nd->col, "nesting deeper than 64 levels");
		return 1;
	}
	if (nd->size > ED_YAML_MAX_NODES) {
		warn(c, nd->line, nd->col, "more than 100000 YAML nodes with aliases expanded");
		return 1;
	}
	return nd->type == Y_MAP ? finish_map(c, idx) : 0;
}

static int handle(struct ycomp *c, const yaml_event_t *ev)
{
	uint32_t idx;
	int r;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		anchors_reset(c);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		anchors_reset(c);
		if (c->nroots)
			c->total += c->nodes[c->roots[c->nroots - 1]].size;
		if (c->total > ED_YAML_MAX_NODES) {
			warn(c, ev->start_mark.line, ev->start_mark.column,
			     "more than 100000 YAML nodes with aliases expanded");
			return 1;
		}
		return 0;
	case YAML_SCALAR_EVENT: {
		const yaml_char_t *tag = ev->data.scalar.tag;
		if ((r = new_node(c, Y_SCALAR, ev, ev->data.scalar.anchor, &idx)))
			return r;
		struct ynode *nd = &c->nodes[idx];
		size_t off;
		nd->style = (uint8_t)ev->data.scalar.style;
		nd->complete = true;
		if (save(c, ev->data.scalar.value, ev->data.scalar.length, &off))
			return -1;
		c->nodes[idx].text = off;
		c->nodes[idx].len = ev->data.scalar.length;
		if (tag) {
			if (save(c, tag, strlen((const char *)tag), &off))
				return -1;
			c->nodes[idx].has_tag = true;
			c->nodes[idx].tag = off;
			c->nodes[idx].taglen = strlen((const char *)tag);
		}
		return 0;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *anchor =
			seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
		if (c->depth >= ED_CONFIG_MAX_DEPTH) {
			warn(c, ev->start_mark.line, ev->start_mark.column, "nesting deeper than 64 levels");
			return 1;
		}
		if ((r = new_node(c, seq ? Y_SEQ : Y_MAP, ev, anchor, &idx)))
			return r;
		if (c->depth == c->capstack) {
			size_t cap = c->capstack ? 2 * c->capstack : 16;
			uint32_t *v = realloc(c->stack, cap * sizeof(*v));
			if (!v)
				return -1;
			c->stack = v;
			c->capstack = cap;
		}
		c->stack[c->depth++] = idx;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return end_container(c, ev);
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		size_t len = strlen(name);
		struct yanchor *a = c->anchcap && len ? anchor_slot(c, name, len) : NULL;
		if (!a || a->len == 0) {
			warn(c, ev->start_mark.line, ev->start_mark.column, "undefined alias");
			return 1;
		}
		if (!c->nodes[a->node].complete) {
			warn(c, ev->start_mark.line, ev->start_mark.column,
			     "alias to a node that contains it");
			return 1;
		}
		/*
		 * An alias under a secret key makes the node it names secret
		 * wherever it appears in the document, its anchor's place too.
		 */
		bool is_key, under_secret;
		position(c, &is_key, &under_secret);
		if (under_secret && !is_key)
			mark_secret(c, a->node);
		return attach(c, a->node);
	}
	default:
		return 0;
	}
}

static void ycomp_release(struct ycomp *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->nodes[i].kids);
	free(c->nodes);
	free(c->roots);
	free(c->stack);
	anchors_reset(c);
	ed_buf_release(&c->strs);
}

/* Line (0-based) of byte offset off, for libyaml's reader errors. */
static size_t line_at(const char *p, size_t len, size_t off)
{
	size_t line = 0;
	for (size_t i = 0; i < off && i < len; i++)
		line += p[i] == '\n';
	return line;
}

/* Composes the whole stream; c->failed when it cannot be read. ED_NOMEM only. */
static enum ed_code compose(struct ycomp *c, struct ed_str text, struct ed_err *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	enum ed_code rc = ED_OK;

	if (!yaml_parser_initialize(&parser))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory reading YAML", c->path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text.p, text.len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory reading YAML", c->path);
			} else if (parser.error == YAML_READER_ERROR) {
				/* problem_value is a byte of the input: never shown. */
				size_t line = line_at(text.p, text.len, parser.problem_offset);
				c->failed = true;
				if (c->sink)
					ed_sink_warn(c->sink, "%s:%zu: %s", c->path, line + 1,
						     parser.problem ? parser.problem : "unreadable text");
			} else {
				/* libyaml's messages are fixed texts: no value is quoted. */
				c->failed = true;
				if (c->sink)
					ed_sink_warn(c->sink, "%s:%zu:%zu: %s%s%s", c->path,
						     parser.problem_mark.line + 1,
						     parser.problem_mark.column + 1,
						     parser.problem ? parser.problem : "malformed YAML",
						     parser.context ? " " : "",
						     parser.context ? parser.context : "");
			}
			break;
		}
		int r = handle(c, &ev);
		bool end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (r < 0) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory reading YAML", c->path);
			break;
		}
		if (r > 0 || end)
			break;
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- canonical scalars ---- */

enum { T_NULL = 1, T_BOOL = 2, T_INT = 4, T_FLOAT = 8 };

static bool is_word(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(s, *words, len) == 0)
			return true;
	return false;
}

static size_t span(const char *s, size_t len, size_t i, const char *set)
{
	while (i < len && s[i] && strchr(set, s[i]))
		i++;
	return i;
}

#define DIGITS "0123456789"

static int tagged(struct ed_buf *out, const char *tag, size_t taglen, const char *s, size_t len)
{
	return ed_buf_adds(out, "{\"tag\":") || ed_cfg_json_string(out, tag, taglen) ||
			       ed_buf_adds(out, ",\"value\":") || ed_cfg_json_string(out, s, len) ||
			       ed_buf_addc(out, '}')
		       ? -1
		       : 0;
}

/* Digits in base 8 or 16 as a decimal integer, if at most INT64_MAX. 1: too large. */
static int based(struct ed_buf *out, const char *s, size_t len, unsigned base)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
		if (v > ((uint64_t)INT64_MAX - d) / base)
			return 1;
		v = v * base + d;
	}
	return ed_buf_addf(out, "%llu", (unsigned long long)v) ? -1 : 0;
}

/*
 * Appends the canonical text of s as one of the types in mask (T_FLOAT also
 * takes integer text when float_ints). Returns 0, 1 when s is none of them
 * (nothing appended), -1 out of memory.
 */
static int resolve(struct ed_buf *out, const char *s, size_t len, int mask, bool float_ints)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
	static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
	static const char float_tag[] = TAG_PREFIX "float";
	static const char int_tag[] = TAG_PREFIX "int";
	size_t sign = len && (s[0] == '-' || s[0] == '+');

	if ((mask & T_NULL) && is_word(s, len, nulls))
		return ed_buf_adds(out, "null") ? -1 : 0;
	if ((mask & T_BOOL) && is_word(s, len, trues))
		return ed_buf_adds(out, "true") ? -1 : 0;
	if ((mask & T_BOOL) && is_word(s, len, falses))
		return ed_buf_adds(out, "false") ? -1 : 0;
	bool dec = len > sign && span(s, len, sign, DIGITS) == len;
	if ((mask & T_INT) && dec) {
		size_t i = sign;
		while (i + 1 < len && s[i] == '0')
			i++;
		bool neg = s[0] == '-' && !(len - i == 1 && s[i] == '0');
		/* Past 64 bits a reader of the JSON text (jansson) would refuse the number. */
		const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
		if (len - i > 19 || (len - i == 19 && memcmp(s + i, lim, 19) > 0))
			return tagged(out, int_tag, strlen(int_tag), s, len);
		return (neg && ed_buf_addc(out, '-')) || ed_buf_add(out, s + i, len - i) ? -1 : 0;
	}
	if ((mask & T_INT) && len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		bool hex = s[1] == 'x';
		if (span(s, len, 2, hex ? DIGITS "abcdefABCDEF" : "01234567") == len) {
			int r = based(out, s + 2, len - 2, hex ? 16 : 8);
			return r > 0 ? tagged(out, int_tag, strlen(int_tag), s, len) : r;
		}
	}
	if (!(mask & T_FLOAT))
		return 1;
	if (is_word(s + sign, len - sign, infs))
		return tagged(out, float_tag, strlen(float_tag), s[0] == '-' ? "-.inf" : ".inf",
			      s[0] == '-' ? 5 : 4);
	if (is_word(s, len, nans))
		return tagged(out, float_tag, strlen(float_tag), ".nan", 4);
	/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
	size_t ip = sign, ie = span(s, len, ip, DIGITS), fp = ie, fe = ie, i = ie;
	bool dot = i < len && s[i] == '.';
	if (dot) {
		fp = i + 1;
		fe = span(s, len, fp, DIGITS);
		i = fe;
	}
	if (ie == ip && fe == fp)
		return 1; /* no digits at all */
	if (ie == ip && !dot)
		return 1;
	size_t ep = i;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t d = i + 1 + (i + 1 < len && (s[i + 1] == '-' || s[i + 1] == '+'));
		i = span(s, len, d, DIGITS);
		if (i == d)
			return 1;
	}
	if (i != len || (!dot && ep == len && !float_ints))
		return 1;
	/* The same number as JSON text, which jansson reads as a real. */
	struct ed_buf num = ED_BUF_INIT;
	while (ip + 1 < ie && s[ip] == '0')
		ip++;
	int r = (s[0] == '-' && ed_buf_addc(&num, '-')) ||
		(ie > ip ? ed_buf_add(&num, s + ip, ie - ip) : ed_buf_addc(&num, '0')) ||
		ed_buf_addc(&num, '.') ||
		(fe > fp ? ed_buf_add(&num, s + fp, fe - fp) : ed_buf_addc(&num, '0')) ||
		ed_buf_add(&num, s + ep, len - ep);
	if (!r) {
		r = ed_cfg_json_real(out, ed_buf_str(&num));
		if (r > 0)
			r = tagged(out, float_tag, strlen(float_tag), s, len);
	} else {
		r = -1;
	}
	ed_buf_release(&num);
	return r;
}

/* Canonical JSON text of a scalar node. 0, -1 out of memory, 1 not valid UTF-8. */
static int canon_scalar(const struct ycomp *c, const struct ynode *nd, struct ed_buf *out)
{
	static const struct {
		const char *name;
		int mask;
	} core[] = {
		{TAG_PREFIX "null", T_NULL},
		{TAG_PREFIX "bool", T_BOOL},
		{TAG_PREFIX "int", T_INT},
		{TAG_PREFIX "float", T_FLOAT},
	};
	const char *s = c->strs.p + nd->text;
	const char *tag = nd->has_tag ? c->strs.p + nd->tag : NULL;
	int r;

	if (!ed_utf8_valid(s, nd->len) || (tag && !ed_utf8_valid(tag, nd->taglen)))
		return 1;
	if (!tag && nd->style == YAML_PLAIN_SCALAR_STYLE) {
		r = resolve(out, s, nd->len, T_NULL | T_BOOL | T_INT | T_FLOAT, false);
		return r > 0 ? ed_cfg_json_string(out, s, nd->len) : r;
	}
	if (!tag || strcmp(tag, "!") == 0 || strcmp(tag, TAG_PREFIX "str") == 0)
		return ed_cfg_json_string(out, s, nd->len);
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		if (strcmp(tag, core[i].name) != 0)
			continue;
		r = resolve(out, s, nd->len, core[i].mask, true);
		return r > 0 ? tagged(out, tag, nd->taglen, s, nd->len) : r;
	}
	return tagged(out, tag, nd->taglen, s, nd->len);
}

/* ---- the walk ---- */

struct ywalk {
	const struct ycomp *c;
	struct ed_cfg_out out;
	struct ed_buf value; /* scratch for one canonical text */
};

static enum ed_code walk(struct ywalk *w, uint32_t idx, bool secret, struct ed_err *err)
{
	const struct ycomp *c = w->c;
	const struct ynode *nd = &c->nodes[idx];
	size_t base = w->out.key.len;
	enum ed_code rc = ED_OK;

	secret = secret || nd->def_secret;
	if (nd->type == Y_SCALAR) {
		ed_buf_reset(&w->value);
		int r = canon_scalar(c, nd, &w->value);
		if (r < 0)
			return ed_err_set(err, ED_NOMEM, "%s: out of memory", c->path);
		if (r > 0) /* libyaml decodes only valid UTF-8: cannot happen */
			return ed_err_set(err, ED_PARSE, "%s:%zu: invalid UTF-8 in a scalar", c->path,
					  nd->line + 1);
		return ed_cfg_emit(&w->out, w->value.p, w->value.len, secret, err);
	}
	if (nd->nkids == 0) {
		if (nd->type == Y_MAP && nd->had_pairs)
			return ED_OK; /* every pair was skipped */
		return ed_cfg_emit(&w->out, nd->type == Y_MAP ? "{}" : "[]", 2, secret, err);
	}
	if (nd->type == Y_SEQ) {
		for (uint32_t i = 0; i < nd->nkids && rc == ED_OK; i++) {
			if (ed_buf_addf(&w->out.key, "/%u", i))
				return ed_err_set(err, ED_NOMEM, "%s: out of memory", c->path);
			rc = walk(w, nd->kids[i], secret, err);
			ed_cfg_truncate(&w->out.key, base);
		}
		return rc;
	}
	for (uint32_t i = 0; i + 1 < nd->nkids && rc == ED_OK; i += 2) {
		const struct ynode *k = &c->nodes[nd->kids[i]];
		const char *name = c->strs.p + k->text;
		if (ed_jsonptr_append(&w->out.key, name, k->len))
			return ed_err_set(err, ED_NOMEM, "%s: out of memory", c->path);
		bool sub = secret || ed_secret_name_matches(c->sec, name, k->len);
		rc = walk(w, nd->kids[i + 1], sub, err);
		ed_cfg_truncate(&w->out.key, base);
	}
	return rc;
}

enum ed_code ed_config_yaml_parse(struct ed_str text, const char *path,
				  const struct ed_secrets *sec, struct ed_sink *sink,
				  size_t *nsecrets, struct ed_err *err)
{
	struct ycomp c = {.path = path, .sec = sec, .sink = sink, .strs = ED_BUF_INIT};
	struct ywalk w = {.c = &c, .value = ED_BUF_INIT};
	struct ed_str t = {text.p ? text.p : "", text.p ? text.len : 0};
	enum ed_code rc;

	if (nsecrets)
		*nsecrets = 0;
	rc = ed_cfg_out_init(&w.out, path, sec, sink, err);
	if (rc == ED_OK)
		rc = compose(&c, t, err);
	if (rc != ED_OK || c.failed)
		goto out;
	size_t base = w.out.key.len;
	for (size_t d = 0; d < c.nroots && rc == ED_OK; d++) {
		if (c.nroots > 1 && ed_buf_addf(&w.out.key, "/%zu", d)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
			break;
		}
		rc = walk(&w, c.roots[d], false, err);
		ed_cfg_truncate(&w.out.key, base);
	}
	if (nsecrets)
		*nsecrets = w.out.secrets;
out:
	ed_cfg_out_release(&w.out);
	ed_buf_release(&w.value);
	ycomp_release(&c);
	return rc;
}

/* ---- redaction ---- */

/* Byte offsets of libyaml's character indexes, moving a cursor both ways over valid UTF-8. */
struct cursor {
	const char *p;
	size_t len;
	size_t ci, bi;
};

static size_t byte_at(struct cursor *k, size_t ci)
{
	while (k->ci < ci && k->bi < k->len) {
		k->bi++;
		while (k->bi < k->len && ((unsigned char)k->p[k->bi] & 0xc0) == 0x80)
			k->bi++;
		k->ci++;
	}
	while (k->ci > ci && k->bi > 0) {
		k->bi--;
		while (k->bi > 0 && ((unsigned char)k->p[k->bi] & 0xc0) == 0x80)
			k->bi--;
		k->ci--;
	}
	return k->bi;
}

struct range {
	size_t start, end;
};

/*
 * End of the line at i as libyaml sees lines: a break is LF, CR, CRLF, or in
 * YAML 1.1 NEL (U+0085), LS (U+2028) and PS (U+2029). *next: the next line.
 */
static size_t line_end(const char *p, size_t len, size_t i, size_t *next)
{
	for (; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n' || c == '\r') {
			*next = i + 1 + (c == '\r' && i + 1 < len && p[i + 1] == '\n');
			return i;
		}
		if (c == 0xc2 && i + 1 < len && (unsigned char)p[i + 1] == 0x85) {
			*next = i + 2;
			return i;
		}
		if (c == 0xe2 && i + 2 < len && (unsigned char)p[i + 1] == 0x80 &&
		    ((unsigned char)p[i + 2] == 0xa8 || (unsigned char)p[i + 2] == 0xa9)) {
			*next = i + 3;
			return i;
		}
	}
	*next = len;
	return len;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* A secret scalar that says nothing (empty, or a plain null) is left alone. */
static bool says_nothing(const struct ycomp *c, const struct ynode *nd)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
	return nd->len == 0 || (!nd->has_tag && nd->style == YAML_PLAIN_SCALAR_STYLE &&
				is_word(c->strs.p + nd->text, nd->len, nulls));
}

enum ed_code ed_cfg_yaml_redact(struct ed_str text, const char *path,
				const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				struct ed_err *err)
{
	struct ycomp c = {.path = path, .sec = sec, .sink = NULL, .strs = ED_BUF_INIT};
	struct ed_cfg_edits edits = ED_CFG_EDITS_INIT;
	struct ed_buf with = ED_BUF_INIT;
	struct range *ranges = NULL;
	size_t nranges = 0;
	size_t bom = ed_utf8_bom(text.p, text.len);
	struct cursor k = {text.p + bom, text.len - bom, 0, 0};
	enum ed_code rc;
	int r = 0;

	*ok = false;
	rc = compose(&c, text, err);
	if (rc != ED_OK || c.failed)
		goto out;
	ranges = calloc(c.n ? c.n : 1, sizeof(*ranges));
	if (!ranges)
		goto nomem;
	for (size_t i = 0; i < c.n && r == 0; i++) {
		const struct ynode *nd = &c.nodes[i];
		if (nd->type != Y_SCALAR)
			continue;
		size_t bs = bom + byte_at(&k, nd->start), be = bom + byte_at(&k, nd->end);
		ranges[nranges++] = (struct range){bs, be};
		if (!nd->def_secret || nd->is_key || says_nothing(&c, nd))
			continue;
		/* Keep the anchor (aliases need it), drop a tag, keep a block scalar's line end. */
		ed_buf_reset(&with);
		if (nd->has_anchor)
			r = ed_buf_addc(&with, '&') || ed_buf_add(&with, c.strs.p + nd->anchor, nd->anchorlen) ||
			    ed_buf_addc(&with, ' ');
		r = r || ed_buf_adds(&with, ED_SECRET_MARKER);
		bool block = nd->style == YAML_LITERAL_SCALAR_STYLE || nd->style == YAML_FOLDED_SCALAR_STYLE;
		if (block && be > bs && text.p[be - 1] == '\n')
			r = r || ed_buf_adds(&with, be - bs >= 2 && text.p[be - 2] == '\r' ? "\r\n" : "\n");
		r = r || ed_cfg_edits_add(&edits, bs, be, with.p, with.len);
	}
	if (r)
		goto nomem;
	/* Comment lines outside every scalar: "# password: x" loses its value too. */
	qsort(ranges, nranges, sizeof(*ranges), range_cmp);
	size_t ri = 0;
	for (size_t ls = 0, next; ls < text.len; ls = next) {
		size_t le = line_end(text.p, text.len, ls, &next);
		size_t i = ls;
		while (i < le && (text.p[i] == ' ' || text.p[i] == '\t'))
			i++;
		while (ri < nranges && ranges[ri].end <= i)
			ri++;
		bool inside = ri < nranges && ranges[ri].start <= i;
		size_t vs, ve;
		if (!inside && i < le && text.p[i] == '#' &&
		    ed_cfg_comment_secret(sec, text.p + i + 1, le - i - 1, &vs, &ve) &&
		    ed_cfg_edits_mark(&edits, i + 1 + vs, i + 1 + ve))
			goto nomem;
	}
	r = ed_cfg_edits_apply(&edits, text, out);
	if (r < 0)
		goto nomem;
	*ok = r == 0;
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "%s: out of memory redacting YAML", path);
out:
	free(ranges);
	ed_buf_release(&with);
	ed_cfg_edits_release(&edits);
	ycomp_release(&c);
	return rc;
}
