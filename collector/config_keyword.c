/* SPDX-License-Identifier: MIT */
/*
 * "Keyword value" configs as OpenSSH writes them (sshd_config, ssh_config and
 * their .d folders): one keyword per line, optionally followed by '=', keywords
 * compared without regard to case, and Match (sshd) or Host (ssh) lines
 * opening a block that lasts until the next one. Each keyword is a leaf
 * "PATH#/Keyword", inside a block "PATH#/Match User alice/Keyword"; a keyword
 * given more than once in a block (HostKey, AcceptEnv, Port) is one leaf whose
 * value is the array of its values in order. The spelling of a keyword's
 * first occurrence names it.
 *
 * No keyword of these files holds a secret (keys live in files of their own,
 * named here by path), so no keyword is secret by its name: PasswordAuthentication
 * and PubkeyAuthentication stay visible. A value a detector recognises is still
 * masked (ed_cfg_emit), and a file named like a secret has every value secret.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

struct kw {
	size_t block;        /* index of its block; 0: before any Match/Host */
	const char *name;    /* the first spelling, in the text */
	size_t name_len;
	size_t first_value;  /* index into values of its first value */
	size_t nvalues;
};

struct kwvalue {
	const char *p;
	size_t len;
	size_t next; /* the keyword's next value, or SIZE_MAX */
};

struct kwblock {
	char *token; /* "Match User alice": its line, runs of blanks as one space */
};

struct kwscan {
	struct kw *kws;
	size_t nkws, capkws;
	struct kwvalue *values;
	size_t nvalues, capvalues;
	struct kwblock *blocks;
	size_t nblocks, capblocks;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? 2 * *cap : 16;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

static void kwscan_release(struct kwscan *s)
{
	for (size_t i = 0; i < s->nblocks; i++)
		free(s->blocks[i].token);
	free(s->kws);
	free(s->values);
	free(s->blocks);
}

/* A block's line with runs of blanks as one space; NULL when out of memory. */
static char *squeeze(const char *p, size_t len)
{
	struct ed_buf tok = ED_BUF_INIT;
	int bad = 0;
	for (size_t i = 0; i < len && !bad; i++) {
		if (blank(p[i])) {
			while (i + 1 < len && blank(p[i + 1]))
				i++;
			bad = ed_buf_addc(&tok, ' ');
		} else {
			bad = ed_buf_addc(&tok, p[i]);
		}
	}
	if (bad || (!tok.p && ed_buf_adds(&tok, ""))) {
		ed_buf_release(&tok);
		return NULL;
	}
	return ed_buf_detach(&tok);
}

static bool block_opener(const char *k, size_t n)
{
	return (n == 5 && strncasecmp(k, "match", 5) == 0) ||
	       (n == 4 && strncasecmp(k, "host", 4) == 0);
}

/* The keyword of this block spelled k (case aside), or NULL. */
static struct kw *find_kw(struct kwscan *s, size_t block, const char *k, size_t n)
{
	for (size_t i = s->nkws; i-- > 0;) {
		struct kw *w = &s->kws[i];
		if (w->block != block)
			break; /* keywords are added block by block */
		if (w->name_len == n && strncasecmp(w->name, k, n) == 0)
			return w;
	}
	return NULL;
}

/* Reads every line; 0, or -1 out of memory. */
static int scan(struct kwscan *s, const char *p, size_t len)
{
	size_t block = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t le = nl ? (size_t)(nl - p) : len;
		size_t i = pos, e = le;
		pos = le + 1;
		while (e > i && (blank(p[e - 1]) || p[e - 1] == '\r'))
			e--;
		while (i < e && blank(p[i]))
			i++;
		if (i == e || p[i] == '#')
			continue;
		size_t ks = i;
		while (i < e && !blank(p[i]) && p[i] != '=')
			i++;
		size_t kn = i - ks;
		while (i < e && blank(p[i]))
			i++;
		if (i < e && p[i] == '=') {
			i++;
			while (i < e && blank(p[i]))
				i++;
		}
		if (block_opener(p + ks, kn)) {
			if (grow((void **)&s->blocks, &s->capblocks, s->nblocks + 1, sizeof(*s->blocks)))
				return -1;
			char *tok = squeeze(p + ks, e - ks);
			if (!tok)
				return -1;
			s->blocks[s->nblocks++] = (struct kwblock){tok};
			block = s->nblocks;
			continue;
		}
		struct kw *w = find_kw(s, block, p + ks, kn);
		if (grow((void **)&s->values, &s->capvalues, s->nvalues + 1, sizeof(*s->values)))
			return -1;
		size_t vi = s->nvalues++;
		s->values[vi] = (struct kwvalue){p + i, e - i, SIZE_MAX};
		if (!w) {
			if (grow((void **)&s->kws, &s->capkws, s->nkws + 1, sizeof(*s->kws)))
				return -1;
			s->kws[s->nkws++] = (struct kw){block, p + ks, kn, vi, 1};
			continue;
		}
		size_t at = w->first_value;
		while (s->values[at].next != SIZE_MAX)
			at = s->values[at].next;
		s->values[at].next = vi;
		w->nvalues++;
	}
	return 0;
}

/* The emission order: block token, keyword (case aside), then file order. */
struct kwref {
	const struct kw *w;
	const char *token; /* "" before any block */
	size_t order;
};

static int kwref_cmp(const void *x, const void *y)
{
	const struct kwref *a = x, *b = y;
	int r = strcmp(a->token, b->token);
	if (!r) {
		size_t n = a->w->name_len < b->w->name_len ? a->w->name_len : b->w->name_len;
		r = strncasecmp(a->w->name, b->w->name, n);
		if (!r)
			r = (a->w->name_len > b->w->name_len) - (a->w->name_len < b->w->name_len);
	}
	return r ? r : (a->order > b->order) - (a->order < b->order);
}

static bool same_leaf(const struct kwref *a, const struct kwref *b)
{
	return strcmp(a->token, b->token) == 0 && a->w->name_len == b->w->name_len &&
	       strncasecmp(a->w->name, b->w->name, a->w->name_len) == 0;
}

/*
 * The canonical text of one leaf, refs[0..n) (one keyword of one block, the
 * block opened once or again): a JSON string, or the array of its values.
 */
static int value_text(struct ed_buf *out, const struct kwscan *s, const struct kwref *refs,
		      size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += refs[i].w->nvalues;
	if (total == 1)
		return ed_cfg_json_string(out, s->values[refs[0].w->first_value].p,
					  s->values[refs[0].w->first_value].len);
	int bad = ed_buf_addc(out, '[');
	size_t k = 0;
	for (size_t i = 0; i < n && !bad; i++)
		for (size_t at = refs[i].w->first_value; at != SIZE_MAX && !bad;
		     at = s->values[at].next, k++)
			bad = (k && ed_buf_addc(out, ',')) ||
			      ed_cfg_json_string(out, s->values[at].p, s->values[at].len);
	return bad || ed_buf_addc(out, ']') ? -1 : 0;
}

enum ed_code ed_config_keyword_parse(struct ed_str text, const char *path,
				     const struct ed_secrets *sec, struct ed_sink *sink,
				     size_t *nsecrets, struct ed_err *err)
{
	struct kwscan s = {0};
	struct kwref *refs = NULL;
	struct ed_cfg_out o;
	struct ed_buf value = ED_BUF_INIT;
	const char *p = text.p ? text.p : "";
	size_t len = text.p ? text.len : 0;
	size_t bom = ed_utf8_bom(p, len);
	bool nul;
	size_t badl;

	if (nsecrets)
		*nsecrets = 0;
	enum ed_code rc = ed_cfg_out_init(&o, path, sec, sink, err);
	if (rc)
		goto out;
	if ((badl = ed_cfg_bad_text_line(p + bom, len - bom, &nul))) {
		ed_sink_warn(sink, "%s:%zu: %s", path, badl, nul ? "NUL byte" : "not valid UTF-8");
		goto out;
	}
	if (scan(&s, p + bom, len - bom)) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}
	refs = calloc(s.nkws ? s.nkws : 1, sizeof(*refs));
	if (!refs) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < s.nkws; i++)
		refs[i] = (struct kwref){&s.kws[i],
					 s.kws[i].block ? s.blocks[s.kws[i].block - 1].token : "", i};
	qsort(refs, s.nkws, sizeof(*refs), kwref_cmp);
	size_t base = o.key.len;
	for (size_t i = 0, j; i < s.nkws && !rc; i = j) {
		for (j = i + 1; j < s.nkws && same_leaf(&refs[i], &refs[j]); j++)
			;
		const struct kw *w = refs[i].w;
		ed_buf_reset(&value);
		if ((w->block && ed_jsonptr_append(&o.key, refs[i].token, strlen(refs[i].token))) ||
		    ed_jsonptr_append(&o.key, w->name, w->name_len) ||
		    value_text(&value, &s, &refs[i], j - i)) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
			break;
		}
		rc = ed_cfg_emit(&o, value.p, value.len, false, err);
		ed_cfg_truncate(&o.key, base);
	}
	if (nsecrets)
		*nsecrets = o.secrets;
out:
	free(refs);
	ed_buf_release(&value);
	kwscan_release(&s);
	ed_cfg_out_release(&o);
	return rc;
}

enum ed_code ed_cfg_keyword_redact(struct ed_str text, const char *path,
				   const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
				   struct ed_err *err)
{
	(void)sec;
	bool nul;
	*ok = false;
	ed_buf_reset(out);
	size_t bom = ed_utf8_bom(text.p, text.len);
	if (ed_cfg_bad_text_line(text.p + bom, text.len - bom, &nul))
		return ED_OK;
	/* No keyword is secret by its name: the detectors run on the kept text afterwards. */
	if (ed_buf_add(out, text.p, text.len))
		return ed_err_set(err, ED_NOMEM, "out of memory redacting %s", path);
	*ok = true;
	return ED_OK;
}
