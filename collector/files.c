/* SPDX-License-Identifier: MIT */
/*
 * The file collector: walks a tree through a source without following
 * symlinks and emits one item per entry. The walk runs on the calling thread;
 * regular files go, a folder's worth at a time, to hashing threads that each
 * own a handle on the source and a reader of the previous snapshot (for
 * incremental collection). Results come back to the calling thread, the only
 * one that talks to the sink.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ed/clock.h"
#include "ed/collect.h"
#include "ed/config.h"
#include "ed/glob.h"
#include "ed/profile.h"
#include "ed/vendor.h"

#define READ_CHUNK (256u * 1024)
#define BATCH_FILES 256                  /* files per job, at most */
#define BATCH_BYTES (1u * 1024 * 1024)   /* bytes a job may keep in memory, about */
#define CONFIG_HOLD_FACTOR 8             /* bytes a config's items take per byte parsed */


/* --- owners: names from the host's own passwd and group files --- */

struct idname {
	uint32_t id;
	char *name;
};

struct idmap {
	struct idname *v;
	size_t n;
};

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = ((const struct idname *)a)->id, y = ((const struct idname *)b)->id;
	return x < y ? -1 : x > y;
}

static void idmap_release(struct idmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/*
 * Reads NAME:x:ID:... lines (passwd(5), group(5)) from the host's own file,
 * so that owners under --root are named as that host names them. A missing
 * or unreadable file leaves numeric ids; a bad line is skipped.
 */
static void idmap_load(struct ed_source *src, const char *path, struct idmap *m)
{
	struct ed_buf text = ED_BUF_INIT;
	struct ed_err err;
	if (ed_source_read_all(src, path, 16u * 1024 * 1024, &text, &err))
		goto out;
	size_t cap = 0;
	for (char *line = text.p, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c1 == line)
			continue;
		char *end;
		unsigned long id = strtoul(c2 + 1, &end, 10);
		if (end == c2 + 1 || *end != ':' || id > UINT32_MAX)
			continue;
		if (m->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct idname *nv = realloc(m->v, ncap * sizeof(*nv));
			if (!nv)
				break;
			m->v = nv;
			cap = ncap;
		}
		char *name = ed_strndup(line, (size_t)(c1 - line));
		if (!name)
			break;
		m->v[m->n].id = (uint32_t)id;
		m->v[m->n].name = name;
		m->n++;
	}
	/* Stable: the first entry of a duplicated id wins, as getpwuid(3) does. */
	for (size_t i = 1; i < m->n; i++)
		for (size_t j = i; j > 0 && cmp_id(&m->v[j - 1], &m->v[j]) > 0; j--) {
			struct idname t = m->v[j];
			m->v[j] = m->v[j - 1];
			m->v[j - 1] = t;
		}
out:
	ed_buf_release(&text);
}

/* The name for id, or its decimal form in num. */
static const char *idmap_name(const struct idmap *m, uint32_t id, char num[16])
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n && m->v[lo].id == id)
		return m->v[lo].name;
	snprintf(num, 16, "%u", id);
	return num;
}

/* --- items produced on a hashing thread, emitted later on the walking one --- */

struct owned_item {
	struct ed_item it; /* strings below are owned */
};

struct item_list {
	struct ed_sink sink; /* collects into v; warnings into warnings */
	struct owned_item *v;
	size_t n, cap;
	char **warnings;
	size_t nwarnings;
};

static enum ed_code list_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct item_list *l = sink->ctx;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct owned_item *v = realloc(l->v, ncap * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		l->v = v;
		l->cap = ncap;
	}
	struct ed_item *c = &l->v[l->n].it;
	bool oom = false;
	*c = *it;
	c->key = ed_strndup(it->key, it->key_len);
	oom |= !c->key;
	c->value = ed_strdup_opt(it->value, &oom);
	c->attrs = ed_strdup_opt(it->attrs, &oom);
	c->error = ed_strdup_opt(it->error, &oom);
	c->owner = c->group = c->target = NULL; /* config items carry no file metadata */
	l->n++;
	if (oom)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}

static void list_warn(struct ed_sink *sink, const char *msg)
{
	struct item_list *l = sink->ctx;
	char **w = realloc(l->warnings, (l->nwarnings + 1) * sizeof(*w));
	if (!w)
		return;
	l->warnings = w;
	if ((w[l->nwarnings] = strdup(msg)))
		l->nwarnings++;
}

static void list_init(struct item_list *l)
{
	memset(l, 0, sizeof(*l));
	l->sink.emit = list_emit;
	l->sink.warn = list_warn;
	l->sink.ctx = l;
}

static void list_release(struct item_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].it.key);
		free((char *)l->v[i].it.value);
		free((char *)l->v[i].it.attrs);
		free((char *)l->v[i].it.error);
	}
	free(l->v);
	for (size_t i = 0; i < l->nwarnings; i++)
		free(l->warnings[i]);
	free(l->warnings);
	list_init(l);
}

/* Drops what a failed parse emitted, keeping its warnings. */
static void list_drop_items(struct item_list *l, size_t from)
{
	for (size_t i = from; i < l->n; i++) {
		free((char *)l->v[i].it.key);
		free((char *)l->v[i].it.value);
		free((char *)l->v[i].it.attrs);
		free((char *)l->v[i].it.error);
	}
	l->n = from;
}

/* --- jobs: a batch of regular files, in walk order --- */

struct file_job {
	char *path;
	struct ed_stat st;
	bool link;        /* a symlink: its target is read and fingerprinted, nothing else */
	char *target;     /* link: what it points to, once read */
	enum ed_config_format fmt;
	bool secret_file; /* named like a secret: keyed fingerprint */
	bool keep;        /* keep its (redacted) content */
	/* results */
	struct ed_fp fp;
	bool secret;      /* fp is keyed */
	bool reused;
	bool has_prev;    /* reused, and prev_state is the previous item's state */
	uint8_t prev_state[ED_STATE_LEN];
	char *error;
	char *content;    /* kept text, or NULL */
	size_t content_len;
	bool considered;  /* keep was wanted and the file read: record even a refusal */
	bool parsed;      /* read key by key (its config items emitted or reused) */
	bool masked;      /* secret because a secret was masked in it (key_file) */
	bool vendor;      /* its bytes are those its package shipped: no secret of this host */
	int64_t bytes;
};

struct job {
	struct job *next;
	struct file_job *files;
	size_t n, cap;
	size_t budget;           /* bytes it may hold in memory */
	struct item_list configs; /* config items and warnings of all its files */
	enum ed_code rc;         /* a fatal error (out of memory) on the thread */
	struct ed_err err;
};

static void job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		free(j->files[i].path);
		free(j->files[i].target);
		free(j->files[i].error);
		free(j->files[i].content);
	}
	free(j->files);
	list_release(&j->configs);
	free(j);
}

/* What one hashing thread owns. */
struct worker {
	struct walk *w;
	struct ed_source *src; /* its own handle */
	struct ed_baseline_reader *prev;
	struct ed_hasher *hasher;
	char *chunk;
	struct ed_buf body;
	pthread_t thread;
	bool started;
};

struct walk {
	struct ed_source *src;
	const struct ed_files_opts *opts;
	const struct ed_secrets *secrets;
	const struct ed_profile *profile;
	struct ed_sink *sink;
	struct ed_files_stats stats;
	struct idmap users;
	struct idmap groups;
	struct ed_vendor vendor; /* what dpkg and rpm shipped: config files and their digest */
	struct ed_buf link;
	struct ed_buf value;

	/* the pool */
	pthread_mutex_t mu;
	pthread_cond_t work;      /* todo has a job, or stop */
	pthread_cond_t done;      /* finished has a job */
	struct job *todo, *todo_tail;
	struct job *finished, *finished_tail;
	size_t inflight;          /* submitted and not yet emitted */
	size_t max_inflight;
	bool stop;
	struct worker *workers;
	int nworkers;             /* 0: jobs run on the walking thread */
	struct worker inline_worker;
	struct job *batch;        /* being filled for the current folder */

	long long last_progress;  /* ed_now_ms() at the last progress line */
	double started;           /* ed_now_s() when the walk started */
};

/* --- hashing one file --- */

static bool same_file_state(const struct ed_stat *a, const struct ed_stat *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
	       a->ino == b->ino && a->dev == b->dev;
}

static bool same_as_prev(const struct ed_stat *st, const struct ed_prev_file *p)
{
	return st->size == p->size && st->mtime_ns == p->mtime_ns && st->ctime_ns == p->ctime_ns &&
	       st->ino == p->ino && st->dev == p->dev;
}

/*
 * File times tick with the kernel's coarse clock (a few milliseconds), so a
 * file written while it is read can show the same stat before and after
 * (git's "racily clean" index entries). A file changed this recently is read
 * once more, and what was read is trusted only when two reads agree.
 */
#define RACY_NS INT64_C(1000000000)

static bool racy(const struct ed_stat *st)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return true;
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	int64_t changed = st->mtime_ns > st->ctime_ns ? st->mtime_ns : st->ctime_ns;
	return changed > now - RACY_NS;
}

/*
 * Reads and fingerprints one regular file (keyed when mac_key is set). When
 * body_max is non-zero and the file fits, wk->body holds its bytes. A read
 * problem is returned with err naming the path: the caller makes it an item
 * error, not a failed run (except ED_NOMEM).
 */
static enum ed_code hash_file(struct worker *wk, struct file_job *f, size_t body_max,
			      const uint8_t *mac_key, struct ed_err *err)
{
	struct ed_source *src = wk->src;
	struct ed_file *fh = NULL;
	struct ed_mac *mac = NULL;
	enum ed_code rc = ED_OK;
	/*
	 * A file that changes while read is read again, then reported as
	 * unstable; one changed just now is read until two reads agree.
	 */
	struct ed_fp agreed;
	bool have_agreed = false;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct ed_stat st0, st1;
		ed_buf_reset(&wk->body);
		rc = src->ops->open(src, f->path, &fh, err);
		if (rc)
			goto out;
		rc = src->ops->fstat(fh, &st0, err);
		if (rc)
			goto out;
		if (st0.ino != f->st.ino || st0.dev != f->st.dev) {
			rc = ed_err_set(err, ED_IO, "%s: replaced while being read", f->path);
			goto next;
		}
		bool keeping = body_max && st0.size <= (int64_t)body_max;
		ed_mac_free(mac);
		mac = NULL;
		if (mac_key && !(mac = ed_mac_new(mac_key))) {
			rc = ed_err_set(err, ED_NOMEM, "%s: cannot set up HMAC-SHA256", f->path);
			goto out;
		}
		for (;;) {
			size_t got = 0;
			rc = src->ops->read(fh, wk->chunk, READ_CHUNK, &got, err);
			if (rc)
				goto out;
			if (!got)
				break;
			f->bytes += (int64_t)got;
			if (mac)
				ed_mac_update(mac, wk->chunk, got);
			else
				ed_hasher_update(wk->hasher, wk->chunk, got);
			if (keeping && (wk->body.len + got > body_max ||
					ed_buf_add(&wk->body, wk->chunk, got)))
				keeping = false;
		}
		if (mac)
			rc = ed_mac_final(mac, &f->fp, err);
		else
			ed_hasher_final(wk->hasher, &f->fp);
		if (rc)
			goto out;
		rc = src->ops->fstat(fh, &st1, err);
		if (rc)
			goto out;
		if (same_file_state(&st0, &st1) && racy(&st1) &&
		    !(have_agreed && memcmp(&agreed, &f->fp, sizeof(agreed)) == 0)) {
			/* The same stat proves nothing yet: read again, and compare. */
			agreed = f->fp;
			have_agreed = true;
			rc = ed_err_set(err, ED_IO, "%s: unstable: changed while being read", f->path);
			goto next;
		}
		if (same_file_state(&st0, &st1) && same_file_state(&st0, &f->st)) {
			if (!keeping)
				ed_buf_reset(&wk->body);
			goto out;
		}
		/* Record what was read, not the older stat of the walk. */
		if (same_file_state(&st0, &st1)) {
			f->st = st1;
			if (!keeping)
				ed_buf_reset(&wk->body);
			goto out;
		}
		have_agreed = false;
		rc = ed_err_set(err, ED_IO, "%s: unstable: changed while being read", f->path);
	next:
		src->ops->close(fh);
		fh = NULL;
	}
out:
	if (fh)
		src->ops->close(fh);
	ed_mac_free(mac);
	if (rc)
		ed_buf_reset(&wk->body);
	return rc;
}

/*
 * Words that mark a secret in free-form text beyond the key patterns:
 * redis's requirepass, wpa_supplicant's psk, auth tokens, credentials.
 */
static const char *const text_secret_words[] = {"*pass*", "psk", "*auth*", "*cred*", "*private*"};

static bool is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/*
 * A quick "no" for most words of a kept text, before the globs: a glob of '*'
 * and '?' can match a word only if its first literal run ("pass" of
 * "*pass*") occurs in the word, case aside. The filter holds the first three
 * bytes of every run of three or more as bits of a hashed trigram set, and
 * runs of two as they are; a run of one, or one with a capital letter, turns
 * it off (every word is then checked in full).
 */
#define FILTER_BITS 4096
struct word_filter {
	bool off;
	uint64_t tri[FILTER_BITS / 64];
	char two[8][2];
	size_t ntwo;
};

static size_t trigram(const unsigned char *t)
{
	return ((size_t)t[0] * 961 + (size_t)t[1] * 31 + t[2]) % FILTER_BITS;
}

static void filter_add(struct word_filter *f, const char *glob)
{
	while (*glob == '*' || *glob == '?')
		glob++;
	size_t n = strcspn(glob, "*?");
	for (size_t i = 0; i < n && i < 3; i++)
		if (glob[i] >= 'A' && glob[i] <= 'Z')
			f->off = true;
	if (n >= 3) {
		size_t b = trigram((const unsigned char *)glob);
		f->tri[b / 64] |= 1ULL << (b % 64);
	} else if (n == 2 && f->ntwo < sizeof(f->two) / sizeof(f->two[0])) {
		memcpy(f->two[f->ntwo++], glob, 2);
	} else {
		f->off = true;
	}
}

static void filter_init(struct word_filter *f, const struct ed_secrets *sec)
{
	memset(f, 0, sizeof(*f));
	const char *const *pats = sec && sec->patterns ? sec->patterns : ed_default_secret_patterns;
	size_t npats = sec && sec->patterns ? sec->npatterns : ed_default_secret_npatterns;
	f->off = sec && sec->all;
	for (size_t i = 0; i < npats; i++)
		if (pats[i])
			filter_add(f, pats[i]);
	for (size_t i = 0; i < sizeof(text_secret_words) / sizeof(text_secret_words[0]); i++)
		filter_add(f, text_secret_words[i]);
}

/* False when no glob of the filter can match word w. */
static bool filter_may(const struct word_filter *f, const char *w, size_t n)
{
	if (f->off)
		return true;
	unsigned char t[3] = {0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		t[0] = t[1], t[1] = t[2], t[2] = ed_ascii_lower((unsigned char)w[i]);
		if (i >= 1)
			for (size_t k = 0; k < f->ntwo; k++)
				if (t[1] == (unsigned char)f->two[k][0] &&
				    t[2] == (unsigned char)f->two[k][1])
					return true;
		if (i >= 2) {
			size_t b = trigram(t);
			if (f->tri[b / 64] >> (b % 64) & 1)
				return true;
		}
	}
	return false;
}

static bool secret_word(const struct ed_secrets *sec, const struct word_filter *f,
			const char *w, size_t n, bool free_text)
{
	if (!filter_may(f, w, n))
		return false;
	if (ed_secret_name_matches(sec, w, n))
		return true;
	/* In a structured config's comments, only names matching the key patterns. */
	if (!free_text)
		return false;
	for (size_t i = 0; i < sizeof(text_secret_words) / sizeof(text_secret_words[0]); i++)
		if (ed_glob_match_ci(text_secret_words[i], w, n))
			return true;
	return false;
}

static size_t indent_of(const char *p, const char *stop)
{
	const char *q = p;
	while (q < stop && (*q == ' ' || *q == '\t'))
		q++;
	return (size_t)(q - p);
}

/*
 * Kept content of a file with no structured format: nothing says where its
 * secrets are, so on every line, whatever follows a word that looks like a
 * secret's name ("requirepass x", "psk=\"y\"", "api_token: z") is replaced
 * by the marker, and so are the lines that continue it (indented deeper, or
 * after a line ending in a backslash). Over-redacting a harmless line costs a
 * little diff; the other way round would show a secret. comments_only: only
 * lines whose first non-blank byte is '#' or ';' are looked at (the comments
 * of a structured config, whose values its redactor has seen to). *n
 * receives the number of lines masked. Returns 0, or -1 when out of memory.
 */
/*
 * Does the masked value [v, stop) look like a secret: one token on a line
 * that is not a comment ("password = hunter2", "requirepass 482913")? A
 * comment (a line's, or one after a setting) is documentation or a
 * commented-out default, and several words ("passwd: files systemd",
 * "pass to initdb") are prose or a list.
 */
static bool strong_value(const char *line, const char *v, const char *stop)
{
	while (line < v && (*line == ' ' || *line == '\t'))
		line++;
	/* A comment line, or a comment after a setting ("... # host-based authentication file"). */
	if (line < v && (*line == ';' || memchr(line, '#', (size_t)(v - line))))
		return false;
	while (stop > v && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r' || stop[-1] == ';'))
		stop--;
	for (const char *q = v; q < stop; q++)
		if (*q == ' ' || *q == '\t')
			return false;
	return stop > v;
}

static int redact_text(const struct ed_secrets *sec, struct ed_str text, bool comments_only,
		       struct ed_buf *out, size_t *n, size_t *strong)
{
	const char *p = text.p, *end = text.p + text.len;
	bool cont = false;      /* the line before was masked... */
	size_t cont_indent = 0; /* ...at this indent */
	bool backslash = false; /* ...and ended in a backslash */
	struct word_filter filter;
	filter_init(&filter, sec);
	*n = 0;
	*strong = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		const char *cut = NULL;
		const char *last = stop;
		while (last > p && (last[-1] == '\r' || last[-1] == ' ' || last[-1] == '\t'))
			last--;
		size_t ind = indent_of(p, stop);
		bool blank = p + ind >= last;
		if (cont && !blank && (backslash || ind > cont_indent)) {
			/* A continuation of a masked value: masked whole. */
			cut = p + ind;
		} else {
			cont = false;
			bool opened = false;
			bool look = !comments_only || (!blank && (p[ind] == '#' || p[ind] == ';'));
			for (const char *q = p; look && q < stop && !cut;) {
				if (!is_word_byte((unsigned char)*q)) {
					q++;
					continue;
				}
				const char *w = q;
				while (q < stop && is_word_byte((unsigned char)*q))
					q++;
				if (secret_word(sec, &filter, w, (size_t)(q - w), !comments_only)) {
					const char *v = q;
					while (v < stop && strchr(" \t=:", *v))
						v++;
					/*
					 * Not the end of a tag (<key>), nor a value masked
					 * already, nor an absolute path: where a key file
					 * lies (ssl_certificate_key /etc/ssl/private/x.key)
					 * is not the key.
					 */
					size_t ml = strlen(ED_SECRET_MARKER);
					const char *u = v < stop && (*v == '"' || *v == '\'') ? v + 1 : v;
					if (u < stop && *u == '/') {
						/* The path's own words (private, site.key) name nothing. */
						for (q = u; q < stop && *q != ' ' && *q != '\t';)
							q++;
						continue;
					}
					if (v < stop && *v != '\r' && *v != '>' &&
					    !((size_t)(stop - v) >= ml && memcmp(v, ED_SECRET_MARKER, ml) == 0))
						cut = v;
					/* "secret_data =" alone: its value is on the lines below. */
					if (v >= stop || *v == '\r')
						opened = true;
				}
			}
			if ((cut || opened) && !comments_only) {
				cont = true;
				cont_indent = ind;
			}
		}
		if (cut) {
			backslash = last > p && last[-1] == '\\';
			(*n)++;
			*strong += strong_value(p, cut, stop);
			if (ed_buf_add(out, p, (size_t)(cut - p)) || ed_buf_adds(out, ED_SECRET_MARKER) ||
			    (stop > p && stop[-1] == '\r' && ed_buf_addc(out, '\r')))
				return -1;
		} else if (ed_buf_add(out, p, (size_t)(stop - p))) {
			return -1;
		}
		if (!cut)
			backslash = false;
		if (eol && ed_buf_addc(out, '\n'))
			return -1;
		p = eol ? eol + 1 : end;
	}
	return 0;
}

/*
 * Kept content with every secret masked: value detectors (private-key
 * blocks, credential URLs, tokens) first, then the line rule of
 * redact_text() (comments only for a structured config of format fmt, whose
 * redactor ran before, and there only by the key patterns; not at all for
 * sshd_config and its kind, where no name is a secret's). *n receives how
 * many secrets were masked. -1: out of memory.
 */
static int mask_kept(const struct ed_secrets *sec, struct ed_str text, enum ed_config_format fmt,
		     struct ed_buf *out, size_t *n, size_t *strong)
{
	struct ed_buf tmp = ED_BUF_INIT;
	size_t hits = 0, lines = 0, strong_lines = 0;
	int rc = ed_secret_mask(sec, text.p, text.len, &tmp, &hits);
	if (rc == 0 && fmt == ED_CFG_KEYWORD) {
		/* sshd_config: no name is a secret's, in a line or a comment. */
		ed_buf_reset(out);
		rc = ed_buf_add(out, tmp.p ? tmp.p : "", tmp.len);
	} else if (rc == 0) {
		ed_buf_reset(out);
		rc = redact_text(sec, ed_str_of(ed_buf_str(&tmp), tmp.len), fmt != ED_CFG_NONE, out,
				 &lines, &strong_lines);
	}
	ed_buf_release(&tmp);
	*n = hits + lines;
	*strong = hits + strong_lines; /* what a detector found is a secret for sure */
	return rc;
}

/*
 * Does text hold anything a detector or the line rule would mask (a config
 * that could not be parsed, so nobody knows where its secrets are)?
 */
static int text_has_secret(const struct ed_secrets *sec, struct ed_str text, bool *yes,
			   bool *strong)
{
	struct ed_buf tmp = ED_BUF_INIT;
	size_t n = 0, s = 0;
	int rc = mask_kept(sec, text, ED_CFG_NONE, &tmp, &n, &s);
	ed_buf_release(&tmp);
	*yes = n > 0;
	*strong = s > 0;
	return rc;
}

static bool has_nul(const char *p, size_t n)
{
	return memchr(p, '\0', n) != NULL;
}

/* --- a delta snapshot: the previous configs of a file read again --- */

struct key_list {
	struct ed_sink sink;
	char **v;
	size_t n, cap;
};

static enum ed_code keys_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct key_list *l = sink->ctx;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, ncap * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		l->v = v;
		l->cap = ncap;
	}
	if (!(l->v[l->n] = ed_strndup(it->key, it->key_len)))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	l->n++;
	return ED_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * After a file of a delta snapshot was read again: every config item the
 * previous snapshot had for it that items [from, n) of j's list no longer
 * hold is gone.
 */
static enum ed_code configs_gone(struct worker *wk, struct job *j, const char *path, size_t from,
				 struct ed_err *err)
{
	struct key_list prev = {.sink = {.emit = keys_emit}};
	prev.sink.ctx = &prev;
	size_t nnew = j->configs.n - from;
	const char **now = nnew ? malloc(nnew * sizeof(*now)) : NULL;
	enum ed_code rc = ED_OK;
	if (nnew && !now) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nnew; i++)
		now[i] = j->configs.v[from + i].it.key;
	if (nnew)
		qsort(now, nnew, sizeof(*now), cmp_str);
	if ((rc = wk->w->opts->baseline->configs(wk->prev, path, &prev.sink, err)))
		goto out;
	for (size_t i = 0; i < prev.n && !rc; i++) {
		const char *k = prev.v[i];
		if (nnew && bsearch(&k, now, nnew, sizeof(*now), cmp_str))
			continue;
		struct ed_item it = {.kind = ED_KIND_CONFIG, .key = k, .key_len = strlen(k),
				     .delta = ED_DELTA_GONE};
		rc = j->configs.sink.emit(&j->configs.sink, &it, err);
	}
out:
	for (size_t i = 0; i < prev.n; i++)
		free(prev.v[i]);
	free(prev.v);
	free(now);
	return rc;
}

static enum ed_code read_file(struct worker *wk, struct job *j, struct file_job *f,
			      struct ed_err *err);

/*
 * Reads a symlink's target; the fingerprint is the target's. In a delta, a
 * link whose stat and state are the previous item's is the same item.
 */
static enum ed_code read_link(struct worker *wk, struct file_job *f, struct ed_err *err)
{
	const struct walk *w = wk->w;
	struct ed_err rerr = {0};
	ed_buf_reset(&wk->body);
	enum ed_code rc = wk->src->ops->readlink(wk->src, f->path, &wk->body, &rerr);
	if (rc == ED_NOMEM || rc == ED_CONN)
		return ed_err_set(err, rc, "%s", rerr.msg);
	if (rc) {
		f->error = strdup(rerr.msg);
	} else {
		ed_fp_of(wk->body.p, wk->body.len, &f->fp);
		f->target = ed_strndup(wk->body.p ? wk->body.p : "", wk->body.len);
	}
	ed_buf_reset(&wk->body);
	if (rc ? !f->error : !f->target)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	struct ed_prev_file prev;
	if (w->opts->delta && !f->error && wk->prev &&
	    w->opts->baseline->lookup(wk->prev, f->path, &prev) && same_as_prev(&f->st, &prev) &&
	    prev.has_state) {
		f->has_prev = true;
		memcpy(f->prev_state, prev.state, ED_STATE_LEN);
	}
	return ED_OK;
}

/* Fingerprints one file of a job; ED_NOMEM (or a config sink failure) is fatal. */
static enum ed_code process_file(struct worker *wk, struct job *j, struct file_job *f,
				 struct ed_err *err)
{
	if (f->link)
		return read_link(wk, f, err);
	size_t from = j->configs.n;
	enum ed_code rc = read_file(wk, j, f, err);
	/* In a delta, a file read again may have lost config items: they go. */
	if (!rc && wk->w->opts->delta && !f->reused && f->fmt != ED_CFG_NONE)
		rc = configs_gone(wk, j, f->path, from, err);
	return rc;
}

/* The file holds a secret: its fingerprint becomes the keyed one of its bytes. */
/* Largest secret-named conffile compared with what its package shipped. */
#define VENDOR_MAX (1u << 20)

/*
 * Does a shadow file hold a password hash: an entry whose second field is
 * neither empty nor locked ('!', '*')? A container's /etc/shadow has none.
 */
static bool holds_hash(struct ed_str body)
{
	const char *p = body.p ? body.p : "", *end = p + body.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *c = memchr(p, ':', (size_t)(le - p));
		if (c && c + 1 < le && c[1] != ':' && c[1] != '!' && c[1] != '*')
			return true;
		p = nl ? nl + 1 : end;
	}
	return false;
}

/* Are body's bytes those the package manager recorded for the file (a config file as shipped)? */
static bool as_shipped(const struct walk *w, const struct file_job *f, struct ed_str body)
{
	return ed_vendor_shipped(&w->vendor, f->path, body);
}

/*
 * strong: what was masked looks like a secret itself (a detector's find, one
 * token on a line of its own), so the file holds one; otherwise it is marked
 * masked (prose, comments, lists; or a structured config, whose secret leaves
 * are items of their own), and sharing it is no shared secret.
 */
static enum ed_code key_file(const struct walk *w, const struct ed_secrets *sec,
			     struct file_job *f, struct ed_str body, bool strong, struct ed_err *err)
{
	if (f->secret || f->vendor)
		return ED_OK;
	/* A conffile as its package shipped it: the same on every machine, no secret here. */
	if (as_shipped(w, f, body)) {
		f->vendor = true;
		return ED_OK;
	}
	enum ed_code rc = ed_fp_keyed(sec->key, body.p, body.len, &f->fp, err);
	if (rc == ED_OK) {
		f->secret = true;
		f->masked = !strong;
	}
	return rc;
}

/* "1.5 GiB", "300 MiB", "12 bytes": a size for a message. */
static void human_bytes(uint64_t n, char *out, size_t cap)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	if (n < 1024) {
		snprintf(out, cap, "%llu bytes", (unsigned long long)n);
		return;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]))
		v /= 1024, u++;
	snprintf(out, cap, v == (double)(uint64_t)v ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* Larger than [limits] max_file_size: not read. */
static bool too_big(const struct walk *w, const struct file_job *f)
{
	return w->profile && w->profile->max_file_size && f->st.size > 0 &&
	       (uint64_t)f->st.size > w->profile->max_file_size;
}

/* The info note of a file too big to read, on every collection that meets it. */
static void note_too_big(const struct walk *w, struct job *j, const struct file_job *f)
{
	char have[16], limit[16];
	human_bytes((uint64_t)f->st.size, have, sizeof(have));
	human_bytes(w->profile->max_file_size, limit, sizeof(limit));
	ed_sink_warn(&j->configs.sink,
		     "info: %s: %s is larger than [limits] max_file_size (%s): fingerprinted from "
		     "its size, not read",
		     f->path, have, limit);
}

/*
 * A file too big to read: its fingerprint is that of its size ("size:N",
 * keyed for a secret file), so two such files differ when their sizes do.
 */
static enum ed_code fingerprint_size(const struct walk *w, struct job *j, struct file_job *f,
				     struct ed_err *err)
{
	char text[40];
	int n = snprintf(text, sizeof(text), "size:%lld", (long long)f->st.size);
	f->secret = f->secret_file;
	if (f->secret_file) {
		enum ed_code rc = ed_fp_keyed(w->secrets->key, text, (size_t)n, &f->fp, err);
		if (rc)
			return rc;
	} else {
		ed_fp_of(text, (size_t)n, &f->fp);
	}
	note_too_big(w, j, f);
	return ED_OK;
}

static enum ed_code read_file(struct worker *wk, struct job *j, struct file_job *f,
			      struct ed_err *err)
{
	const struct walk *w = wk->w;
	const struct ed_secrets *sec = w->secrets;
	struct ed_prev_file prev;
	struct ed_err rerr = {0};
	enum ed_code rc;

	bool found = wk->prev && w->opts->baseline->lookup(wk->prev, f->path, &prev) &&
		     same_as_prev(&f->st, &prev);
	/*
	 * Named like a secret? Asked here, not on the walking thread: the globs
	 * are many, and case-blind. A delta's previous snapshot was collected
	 * with the same globs, so a file found there has its answer already.
	 */
	if (found && w->opts->delta)
		f->secret_file = prev.secret;
	else if (w->profile)
		f->secret_file = ed_profile_secret_file(w->profile, f->path);
	else
		f->secret_file = ed_secret_name_matches(sec, strrchr(f->path, '/') + 1,
							strlen(strrchr(f->path, '/') + 1));
	if (found && (prev.secret || prev.vendor) >= f->secret_file &&
	    (!f->keep || prev.secret || w->opts->baseline->has_content(wk->prev, &prev.fp))) {
		f->fp = prev.fp;
		f->secret = prev.secret;
		f->masked = prev.masked;
		f->vendor = prev.vendor;
		f->reused = true;
		f->has_prev = prev.has_state;
		memcpy(f->prev_state, prev.state, ED_STATE_LEN);
		if (too_big(w, f))
			note_too_big(w, j, f);
		f->parsed = f->fmt != ED_CFG_NONE && !too_big(w, f);
		/* The same bytes give the same warnings (a config that does not parse)... */
		if (f->fmt != ED_CFG_NONE)
			w->opts->baseline->warnings(wk->prev, f->path, &j->configs.sink);
		/* ... and the same configs: a delta has them already. */
		if (f->fmt != ED_CFG_NONE && !w->opts->delta)
			return w->opts->baseline->configs(wk->prev, f->path, &j->configs.sink, err);
		return ED_OK;
	}

	/* Past [limits] max_file_size, the size stands for the content: not read. */
	if (too_big(w, f))
		return fingerprint_size(w, j, f, err);

	size_t body_max = 0;
	if (f->fmt != ED_CFG_NONE)
		body_max = ED_CONFIG_MAX;
	if (f->keep && w->profile && w->profile->keep_max > body_max)
		body_max = w->profile->keep_max;
	/*
	 * A file named like a secret that dpkg shipped as a conffile: read
	 * plainly and kept in memory, then keyed only if it is not as shipped.
	 */
	bool vendor_check = f->secret_file && ed_vendor_listed(&w->vendor, f->path) &&
			    f->st.size <= VENDOR_MAX;
	bool shadow = f->secret_file && f->st.size <= VENDOR_MAX &&
		      (strcmp(f->path, "/etc/shadow") == 0 || strcmp(f->path, "/etc/gshadow") == 0);
	if ((vendor_check || shadow) && body_max < VENDOR_MAX)
		body_max = VENDOR_MAX;
	rc = hash_file(wk, f, body_max, f->secret_file && !vendor_check ? sec->key : NULL, &rerr);
	if (!rc && vendor_check) {
		struct ed_str b = ed_str_of(wk->body.p, wk->body.len);
		bool whole = (int64_t)b.len == f->st.size;
		if (whole && as_shipped(w, f, b)) {
			f->vendor = true;
			f->secret_file = false;
		} else if (whole) {
			if ((rc = ed_fp_keyed(sec->key, b.p ? b.p : "", b.len, &f->fp, err)))
				return rc;
		} else {
			rc = hash_file(wk, f, body_max, sec->key, &rerr); /* it changed: keyed */
		}
	}
	/* Out of memory, or the host's connection gone: the whole walk stops. */
	if (rc == ED_NOMEM || rc == ED_CONN)
		return ed_err_set(err, rc, "%s", rerr.msg);
	if (rc) {
		if (!(f->error = strdup(rerr.msg)))
			return ed_err_set(err, ED_NOMEM, "out of memory");
		return ED_OK;
	}
	f->secret = f->secret_file;
	struct ed_str body = ed_str_of(wk->body.p, wk->body.len);
	/* Every account locked: no password hash to share, though still keyed. */
	if (shadow && (int64_t)body.len == f->st.size && !holds_hash(body))
		f->masked = true;
	if (f->fmt != ED_CFG_NONE && f->st.size > (int64_t)ED_CONFIG_MAX)
		ed_sink_warn(&j->configs.sink, "%s: larger than %u MiB: fingerprinted, not read key by key",
			     f->path, ED_CONFIG_MAX >> 20);
	else if (f->fmt != ED_CFG_NONE && wk->body.p) {
		size_t nsecrets = 0, before = j->configs.n, warned = j->configs.nwarnings;
		/* Every value of a file named like a secret is secret, whatever its key. */
		struct ed_secrets all = *sec;
		all.all = f->secret_file;
		rc = ed_config_parse(f->fmt, body, f->path, &all, &j->configs.sink, &nsecrets, err);
		if (rc) {
			list_drop_items(&j->configs, before);
			return rc;
		}
		/* Past [formats] max_keys a file is data, not configuration: whole. */
		size_t nkeys = j->configs.n - before;
		if (w->profile && nkeys > w->profile->max_keys) {
			list_drop_items(&j->configs, before);
			ed_sink_warn(&j->configs.sink,
				     "info: %s: %zu keys, more than [formats] max_keys (%zu): "
				     "fingerprinted whole, not read key by key",
				     f->path, nkeys, w->profile->max_keys);
		} else {
			f->parsed = j->configs.n > before;
		}
		/* Not read (malformed): any secret-looking text keys the whole file. */
		bool unread_secret = false, unread_strong = false;
		if (!nsecrets && j->configs.n == before && j->configs.nwarnings > warned &&
		    text_has_secret(sec, body, &unread_secret, &unread_strong))
			return ed_err_set(err, ED_NOMEM, "out of memory");
		/*
		 * A config holding a secret: the whole file's hash must not betray
		 * it. Its secret leaves are judged as items of their own.
		 */
		if ((nsecrets || unread_secret) &&
		    (rc = key_file(w, sec, f, body, !nsecrets && unread_strong, err)))
			return rc;
	}
	/* Even a refusal (binary, too big) is recorded, so an unchanged file is not read again. */
	f->considered = f->keep && !f->secret_file;
	if (f->keep && !f->secret_file && wk->body.p && f->st.size <= (int64_t)w->profile->keep_max &&
	    !has_nul(body.p, body.len)) {
		struct ed_buf kept = ED_BUF_INIT, masked = ED_BUF_INIT;
		bool ok = true;
		size_t n = 0;
		if (f->fmt != ED_CFG_NONE) {
			rc = ed_config_redact(f->fmt, body, f->path, sec, &kept, &ok, err);
			if (rc) {
				ed_buf_release(&kept);
				return rc;
			}
		} else if (ed_buf_add(&kept, body.p, body.len)) {
			ed_buf_release(&kept);
			return ed_err_set(err, ED_NOMEM, "out of memory");
		}
		/* Blocks, URLs and tokens in any kept text; comments of a config too. */
		size_t strong = 0;
		if (ok && mask_kept(sec, ed_str_of(ed_buf_str(&kept), kept.len), f->fmt,
				    &masked, &n, &strong)) {
			ed_buf_release(&kept);
			ed_buf_release(&masked);
			return ed_err_set(err, ED_NOMEM, "out of memory");
		}
		ed_buf_release(&kept);
		/* Anything masked: a secret is in the file, whose hash must not betray it. */
		if (ok && n && !f->secret && (rc = key_file(w, sec, f, body, strong > 0, err))) {
			ed_buf_release(&masked);
			return rc;
		}
		if (ok) {
			f->content_len = masked.len;
			f->content = ed_buf_detach(&masked);
			if (!f->content && f->content_len == 0)
				f->content = strdup("");
		}
		ed_buf_release(&masked);
	}
	ed_buf_reset(&wk->body);
	return ED_OK;
}

static void run_job(struct worker *wk, struct job *j)
{
	for (size_t i = 0; i < j->n && j->rc == ED_OK; i++)
		j->rc = process_file(wk, j, &j->files[i], &j->err);
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct walk *w = wk->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->todo && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->todo)
			break;
		struct job *j = w->todo;
		w->todo = j->next;
		if (!w->todo)
			w->todo_tail = NULL;
		pthread_mutex_unlock(&w->mu);

		run_job(wk, j);

		pthread_mutex_lock(&w->mu);
		j->next = NULL;
		if (w->finished_tail)
			w->finished_tail->next = j;
		else
			w->finished = j;
		w->finished_tail = j;
		pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static enum ed_code worker_setup(struct walk *w, struct worker *wk, struct ed_source *src,
				 struct ed_err *err)
{
	wk->w = w;
	wk->src = src;
	wk->hasher = ed_hasher_new();
	wk->chunk = malloc(READ_CHUNK);
	if (!wk->hasher || !wk->chunk)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (w->opts->baseline)
		wk->prev = w->opts->baseline->open(w->opts->baseline);
	/* A delta is only right when every entry is compared with the previous snapshot. */
	if (w->opts->delta && !wk->prev)
		return ed_err_set(err, ED_STORE, "cannot read the previous snapshot");
	return ED_OK;
}

static void worker_release(struct walk *w, struct worker *wk, bool own_src)
{
	if (wk->prev)
		w->opts->baseline->close(wk->prev);
	ed_hasher_free(wk->hasher);
	free(wk->chunk);
	ed_buf_release(&wk->body);
	if (own_src)
		ed_source_free(wk->src);
	memset(wk, 0, sizeof(*wk));
}

/* --- the walking thread --- */

static void show_progress(struct walk *w, bool force)
{
	if (!w->opts->progress)
		return;
	long long now = ed_now_ms();
	long long ms = now - w->last_progress;
	if (!force && ms < 250)
		return;
	w->last_progress = now;
	const struct ed_files_stats *s = &w->stats;
	double secs = ed_now_s() - w->started;
	fprintf(stderr,
		"\r\033[Kcollecting: %lld files, %lld hashed (%.1f MiB, %.0f MiB/s), %lld unchanged",
		(long long)s->entries, (long long)s->hashed, (double)s->bytes / (1 << 20),
		secs > 0 ? (double)s->bytes / (1 << 20) / secs : 0.0, (long long)s->reused);
}

static enum ed_code emit_file_item(struct walk *w, const char *path, const struct ed_stat *st,
				   const struct ed_fp *fp, const char *attrs, const char *error,
				   const char *target, const uint8_t *prev_state, struct ed_err *err)
{
	struct ed_item it = {0};
	char unum[16], gnum[16];
	it.kind = ED_KIND_FILE;
	it.key = path;
	it.key_len = strlen(path);
	it.ftype = st->type;
	it.mode = st->mode;
	it.owner = idmap_name(&w->users, st->uid, unum);
	it.group = idmap_name(&w->groups, st->gid, gnum);
	it.size = st->size;
	it.mtime_ns = st->mtime_ns;
	it.ctime_ns = st->ctime_ns;
	it.ino = st->ino;
	it.dev = st->dev;
	if (fp)
		it.fp = *fp;
	it.error = error;
	it.target = target;
	it.attrs = attrs;

	if (error)
		ed_sink_warn(w->sink, "%s", error);
	w->stats.entries++;
	/*
	 * A file not read again (same size, times, inode) whose state is the
	 * previous one's is the same item: its value and times follow from
	 * what was compared.
	 */
	if (prev_state) {
		uint8_t state[ED_STATE_LEN];
		ed_item_state_of(&it, state);
		if (memcmp(state, prev_state, ED_STATE_LEN) == 0) {
			it.delta = ED_DELTA_SAME;
			return w->sink->emit(w->sink, &it, err);
		}
	}
	ed_buf_reset(&w->value);
	int bad = ed_buf_addf(&w->value, "%s %04o %s:%s", ed_ftype_name(st->type), st->mode,
			      it.owner, it.group);
	if (!bad && st->type == ED_FT_REG)
		bad = ed_buf_addf(&w->value, " %lld", (long long)st->size);
	if (!bad && target)
		bad = ed_buf_addf(&w->value, " -> %s", target);
	if (bad)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	it.value = w->value.p;
	return w->sink->emit(w->sink, &it, err);
}

/* Emits everything a finished job produced, then frees it. */
static enum ed_code emit_job(struct walk *w, struct job *j, struct ed_err *err)
{
	enum ed_code rc = j->rc;
	if (rc) {
		*err = j->err;
		goto out;
	}
	for (size_t i = 0; i < j->configs.nwarnings; i++)
		ed_sink_warn(w->sink, "%s", j->configs.warnings[i]);
	for (size_t i = 0; i < j->configs.n && !rc; i++)
		rc = w->sink->emit(w->sink, &j->configs.v[i].it, err);
	for (size_t i = 0; i < j->n && !rc; i++) {
		struct file_job *f = &j->files[i];
		if (f->link) {
			/* Folders and special files have a zero fingerprint; a link, its target's. */
			rc = emit_file_item(w, f->path, &f->st, &f->fp, NULL, f->error, f->target,
					    f->has_prev ? f->prev_state : NULL, err);
			continue;
		}
		if (f->reused)
			w->stats.reused++;
		else if (!f->error)
			w->stats.hashed++;
		w->stats.bytes += f->bytes;
		if (f->considered && !f->error && w->sink->content) {
			rc = w->sink->content(w->sink, &f->fp, f->content, f->content_len, err);
			w->stats.kept += f->content != NULL;
		}
		w->stats.parsed += f->parsed;
		if (!rc)
			rc = emit_file_item(w, f->path, &f->st, f->error ? NULL : &f->fp,
					    f->vendor   ? ED_ATTRS_VENDOR
					    : !f->secret ? NULL
					    : f->masked ? ED_ATTRS_SECRET_MASKED
							: ED_ATTRS_SECRET,
					    f->error, NULL,
					    w->opts->delta && f->has_prev ? f->prev_state : NULL, err);
	}
out:
	job_free(j);
	w->inflight--;
	show_progress(w, false);
	return rc;
}

/* Emits finished jobs; with wait, blocks until at least one has finished. */
static enum ed_code drain(struct walk *w, bool wait, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	pthread_mutex_lock(&w->mu);
	while (wait && !w->finished)
		pthread_cond_wait(&w->done, &w->mu);
	struct job *list = w->finished;
	w->finished = w->finished_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	while (list) {
		struct job *next = list->next;
		if (rc == ED_OK)
			rc = emit_job(w, list, err);
		else {
			job_free(list);
			w->inflight--;
		}
		list = next;
	}
	return rc;
}

static enum ed_code submit(struct walk *w, struct ed_err *err)
{
	struct job *j = w->batch;
	w->batch = NULL;
	if (!j || j->n == 0) {
		job_free(j);
		return ED_OK;
	}
	w->inflight++;
	if (w->nworkers == 0) {
		run_job(&w->inline_worker, j);
		return emit_job(w, j, err);
	}
	pthread_mutex_lock(&w->mu);
	j->next = NULL;
	if (w->todo_tail)
		w->todo_tail->next = j;
	else
		w->todo = j;
	w->todo_tail = j;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	enum ed_code rc = drain(w, false, err);
	while (!rc && w->inflight >= w->max_inflight)
		rc = drain(w, true, err);
	return rc;
}

/* A new entry of the batch being filled (started when there is none). */
static enum ed_code batch_slot(struct walk *w, const char *path, const struct ed_stat *st,
			       struct job **jp, struct file_job **fp, struct ed_err *err)
{
	struct job *j = w->batch;
	if (!j) {
		j = calloc(1, sizeof(*j));
		if (!j)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		list_init(&j->configs);
		w->batch = j;
	}
	if (j->n == j->cap) {
		size_t ncap = j->cap ? j->cap * 2 : 16;
		struct file_job *v = realloc(j->files, ncap * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		j->files = v;
		j->cap = ncap;
	}
	struct file_job *f = &j->files[j->n];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(path)))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	j->n++;
	f->st = *st;
	*jp = j;
	*fp = f;
	return ED_OK;
}

/* Adds a regular file to the current folder's job. */
static enum ed_code add_file(struct walk *w, const char *path, const struct ed_stat *st,
			     struct ed_err *err)
{
	const struct ed_profile *p = w->profile;
	struct job *j;
	struct file_job *f;
	enum ed_code rc = batch_slot(w, path, st, &j, &f, err);
	if (rc)
		return rc;
	if (p) {
		f->fmt = ed_profile_format(p, path);
		f->keep = ed_profile_keep(p, path);
	} else {
		size_t n = strlen(path);
		f->fmt = n > 5 && strcmp(path + n - 5, ".json") == 0 ? ED_CFG_JSON : ED_CFG_NONE;
	}
	size_t hold = 0;
	if (f->fmt != ED_CFG_NONE || f->keep)
		hold = st->size < (int64_t)ED_CONFIG_MAX ? (size_t)st->size : ED_CONFIG_MAX;
	/*
	 * A structured config's items wait here until the walking thread takes
	 * them, and take about ten times the bytes they were parsed from (a
	 * dense 1 MiB JSON file: 30,000 items).
	 */
	if (f->fmt != ED_CFG_NONE)
		hold *= CONFIG_HOLD_FACTOR;
	j->budget += hold;
	if (j->n >= BATCH_FILES || j->budget >= BATCH_BYTES)
		return submit(w, err);
	return ED_OK;
}

/* Adds a symlink to the current batch: its target is read on a hashing thread. */
static enum ed_code add_link(struct walk *w, const char *path, const struct ed_stat *st,
			     struct ed_err *err)
{
	struct job *j;
	struct file_job *f;
	enum ed_code rc = batch_slot(w, path, st, &j, &f, err);
	if (rc)
		return rc;
	f->link = true;
	if (j->n >= BATCH_FILES)
		return submit(w, err);
	return ED_OK;
}

/* An entry that could not even be stat'ed: an item of unknown type with the error. */
static enum ed_code emit_unstatable(struct walk *w, const char *path, const char *why,
				    struct ed_err *err)
{
	struct ed_item it = {0};
	it.kind = ED_KIND_FILE;
	it.key = path;
	it.key_len = strlen(path);
	it.ftype = ED_FT_OTHER;
	it.error = why;
	it.value = "other";
	ed_sink_warn(w->sink, "%s", why);
	w->stats.entries++;
	return w->sink->emit(w->sink, &it, err);
}

static enum ed_code visit(struct walk *w, struct ed_buf *path, const struct ed_stat *st,
			  struct ed_err *err);

/* Emits the item of a non-regular entry. */
static enum ed_code emit_other(struct walk *w, const char *path, const struct ed_stat *st,
			       const char *list_error, const uint8_t *prev_state, struct ed_err *err)
{
	struct ed_err rerr = {0};
	struct ed_fp fp = {{0}};
	const char *error = list_error, *target = NULL;
	ed_buf_reset(&w->link);
	if (st->type == ED_FT_LINK) {
		if (w->src->ops->readlink(w->src, path, &w->link, &rerr) == ED_OK) {
			target = ed_buf_str(&w->link);
			ed_fp_of(w->link.p, w->link.len, &fp);
		} else {
			error = rerr.msg;
		}
	}
	/* Folders and special files: attributes only, the fingerprint stays zero. */
	return emit_file_item(w, path, st, &fp, NULL, error, target, prev_state, err);
}

/* --- a delta snapshot: what left a folder --- */

struct dir_now {
	struct walk *w;
	struct ed_buf *path; /* the folder */
	char **names;        /* its entries now, */
	struct ed_stat *sts; /* their types (ED_FT_NONE: not collected) */
	size_t *order;       /* indexes of names, sorted by name */
	size_t n;
	struct ed_buf key;
};

static struct dir_now *sort_dir; /* qsort has no context argument */

static int cmp_name_index(const void *a, const void *b)
{
	return strcmp(sort_dir->names[*(const size_t *)a], sort_dir->names[*(const size_t *)b]);
}

/* An entry the previous snapshot had below the folder: gone, or of another type now? */
static enum ed_code dir_prev_entry(void *ctx, const char *name, size_t len, const char *ftype,
				   struct ed_err *err)
{
	struct dir_now *d = ctx;
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = d->names[d->order[mid]];
		int c = strncmp(m, name, len);
		if (c == 0)
			c = m[len] != '\0';
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	enum ed_delta what = ED_DELTA_GONE;
	if (lo < d->n) {
		const char *m = d->names[d->order[lo]];
		enum ed_ftype now = d->sts[d->order[lo]].type;
		if (strncmp(m, name, len) == 0 && m[len] == '\0' && now != ED_FT_NONE) {
			/* Still there: of the same type, its own walk decides. */
			if (strcmp(ed_ftype_name(now), ftype) == 0)
				return ED_OK;
			what = ED_DELTA_BELOW;
		}
	}
	ed_buf_reset(&d->key);
	if (ed_buf_add(&d->key, d->path->p, d->path->len) ||
	    (d->path->len > 1 && ed_buf_addc(&d->key, '/')) || ed_buf_add(&d->key, name, len))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	struct ed_item it = {.kind = ED_KIND_FILE, .key = d->key.p, .key_len = d->key.len,
			     .delta = what};
	return d->w->sink->emit(d->w->sink, &it, err);
}

/* A folder of a delta snapshot that changed: what left it, or changed type, goes. */
static enum ed_code dir_delta(struct walk *w, struct ed_buf *path, char **names,
			      struct ed_stat *sts, size_t n, struct ed_err *err)
{
	const struct ed_baseline *b = w->opts->baseline;
	struct ed_baseline_reader *r = w->inline_worker.prev;
	struct dir_now d = {.w = w, .path = path, .names = names, .sts = sts, .n = n};
	if (n && !(d.order = malloc(n * sizeof(*d.order))))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		d.order[i] = i;
	sort_dir = &d;
	if (n)
		qsort(d.order, n, sizeof(*d.order), cmp_name_index);
	sort_dir = NULL;
	enum ed_code rc = b->children(r, path->p, dir_prev_entry, &d, err);
	free(d.order);
	ed_buf_release(&d.key);
	return rc;
}

static enum ed_code visit_dir(struct walk *w, struct ed_buf *path, const struct ed_stat *st,
			      struct ed_err *err)
{
	/* List first: a folder whose entries cannot be read carries that error. */
	char **names = NULL;
	size_t n = 0;
	struct ed_err lerr = {0};
	enum ed_code rc = w->src->ops->list(w->src, path->p, &names, &n, &lerr);
	if (rc == ED_NOMEM || rc == ED_CONN)
		return ed_err_set(err, rc, "%s", lerr.msg);
	/*
	 * In a delta snapshot, a folder whose inode and times are the previous
	 * snapshot's has the same entries: an entry added, removed or renamed
	 * changes its modification time. Any other folder (or one not listed
	 * now) is compared with the previous snapshot's entries below it.
	 */
	struct ed_prev_file prev;
	bool same = w->opts->delta && rc == ED_OK &&
		    w->opts->baseline->lookup(w->inline_worker.prev, path->p, &prev) &&
		    same_as_prev(st, &prev);
	/*
	 * Times are trusted only when older than the previous collection: an
	 * entry added and removed within one clock tick (a second, on some
	 * filesystems) leaves a folder's times as they were, as git knows.
	 */
	if (same && (st->mtime_ns >= w->opts->baseline->trust_before_ns ||
		     st->ctime_ns >= w->opts->baseline->trust_before_ns))
		same = false;
	bool changed = !same;
	rc = emit_other(w, path->p, st, rc ? lerr.msg : NULL, same && prev.has_state ? prev.state : NULL,
			err);
	size_t base = path->len;
	struct ed_stat *sts = n ? calloc(n, sizeof(*sts)) : NULL;
	if (n && !sts && !rc)
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
	/* First the entries of this folder, then its subfolders. */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (size_t i = 0; i < n && !rc; i++) {
			if ((base > 1 && ed_buf_addc(path, '/')) || ed_buf_adds(path, names[i])) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path->p);
				break;
			}
			if (pass == 0) {
				struct ed_err serr = {0};
				sts[i].type = ED_FT_NONE;
				if (w->profile && ed_profile_excluded(w->profile, path->p))
					; /* not collected */
				else if (w->src->ops->stat(w->src, path->p, &sts[i], &serr) == ED_OK)
					rc = sts[i].type == ED_FT_REG ? add_file(w, path->p, &sts[i], err)
						: sts[i].type == ED_FT_DIR ? ED_OK
						: sts[i].type == ED_FT_LINK ? add_link(w, path->p, &sts[i], err)
						: emit_other(w, path->p, &sts[i], NULL, NULL, err);
				else if (serr.code == ED_NOTFOUND)
					changed = true; /* removed since listed: not part of this snapshot */
				else if (serr.code == ED_NOMEM || serr.code == ED_CONN)
					rc = ed_err_set(err, serr.code, "%s", serr.msg);
				else
				{
					rc = emit_unstatable(w, path->p, serr.msg, err);
					sts[i].type = ED_FT_OTHER; /* an item now: not gone */
				}
			} else if (sts[i].type == ED_FT_DIR) {
				rc = visit(w, path, &sts[i], err);
			}
			path->len = base;
			path->p[base] = '\0';
		}
		if (pass == 0 && !rc && w->opts->delta && changed)
			rc = dir_delta(w, path, names, sts, n, err);
	}
	free(sts);
	ed_names_free(names, n);
	return rc;
}

static enum ed_code visit(struct walk *w, struct ed_buf *path, const struct ed_stat *st,
			  struct ed_err *err)
{
	if (st->type == ED_FT_DIR)
		return visit_dir(w, path, st, err);
	if (st->type == ED_FT_REG)
		return add_file(w, path->p, st, err);
	return emit_other(w, path->p, st, NULL, NULL, err);
}

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* Starts the hashing threads; with none possible, jobs run on this thread. */
static enum ed_code pool_start(struct walk *w, struct ed_err *err)
{
	int want = w->opts->threads > 0 ? w->opts->threads : default_threads();
	enum ed_code rc = worker_setup(w, &w->inline_worker, w->src, err);
	if (rc)
		return rc;
	w->workers = calloc((size_t)want, sizeof(*w->workers));
	if (!w->workers)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	for (int i = 0; i < want; i++) {
		struct ed_source *dup = NULL;
		struct ed_err derr;
		if (!w->src->ops->dup || w->src->ops->dup(w->src, &dup, &derr) != ED_OK)
			break;
		rc = worker_setup(w, &w->workers[i], dup, err);
		if (rc) {
			worker_release(w, &w->workers[i], true);
			return rc;
		}
		if (pthread_create(&w->workers[i].thread, NULL, worker_main, &w->workers[i]) != 0) {
			worker_release(w, &w->workers[i], true);
			break;
		}
		w->workers[i].started = true;
		w->nworkers++;
	}
	w->max_inflight = (size_t)(2 * w->nworkers + 2);
	return ED_OK;
}

static void pool_stop(struct walk *w)
{
	pthread_mutex_lock(&w->mu);
	/* Jobs not started yet are dropped: the threads only finish what they hold. */
	struct job *todo = w->todo;
	w->todo = w->todo_tail = NULL;
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nworkers; i++) {
		if (w->workers[i].started)
			pthread_join(w->workers[i].thread, NULL);
		worker_release(w, &w->workers[i], true);
	}
	free(w->workers);
	w->workers = NULL;
	while (todo) {
		struct job *j = todo;
		todo = j->next;
		job_free(j);
	}
	while (w->finished) {
		struct job *j = w->finished;
		w->finished = j->next;
		job_free(j);
	}
	job_free(w->batch);
	w->batch = NULL;
	worker_release(w, &w->inline_worker, false);
}

enum ed_code ed_files_collect(struct ed_source *src, const char *path,
			      const struct ed_files_opts *opts, struct ed_sink *sink,
			      struct ed_err *err)
{
	struct walk w = {.src = src, .opts = opts, .sink = sink};
	struct ed_buf p = ED_BUF_INIT;
	struct ed_stat st;
	enum ed_code rc;

	w.secrets = opts->secrets;
	w.profile = opts->profile;
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.work, NULL);
	pthread_cond_init(&w.done, NULL);
	if (!w.secrets || !w.secrets->key) {
		rc = ed_err_set(err, ED_USAGE, "%s: no secret key to fingerprint secrets", path);
		goto out;
	}
	if (ed_path_normalize(path, &p)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	rc = src->ops->stat(src, p.p, &st, err);
	if (rc)
		goto out;
	idmap_load(src, "/etc/passwd", &w.users);
	idmap_load(src, "/etc/group", &w.groups);
	if (w.profile && (rc = ed_vendor_load(src, &w.vendor, err)))
		goto out;
	w.started = ed_now_s();
	rc = pool_start(&w, err);
	if (rc)
		goto stop;
	/*
	 * A tree whose top changed type (a folder that is a file now): what lay
	 * below it, or its config items, are gone. Only then: a tombstone for a
	 * key this collection emits again would hide it.
	 */
	struct ed_prev_file top;
	if (opts->delta && w.inline_worker.prev &&
	    opts->baseline->lookup(w.inline_worker.prev, p.p, &top) && top.ftype != st.type) {
		struct ed_item it = {.kind = ED_KIND_FILE, .key = p.p, .key_len = p.len,
				     .delta = ED_DELTA_BELOW};
		rc = sink->emit(sink, &it, err);
	}
	if (!rc)
		rc = visit(&w, &p, &st, err);
	if (!rc)
		rc = submit(&w, err);
	while (!rc && w.inflight > 0)
		rc = drain(&w, true, err);
	show_progress(&w, true);
stop:
	pool_stop(&w);
	if (opts->stats) {
		opts->stats->entries += w.stats.entries;
		opts->stats->hashed += w.stats.hashed;
		opts->stats->reused += w.stats.reused;
		opts->stats->bytes += w.stats.bytes;
		opts->stats->kept += w.stats.kept;
		opts->stats->parsed += w.stats.parsed;
	}
out:
	idmap_release(&w.users);
	idmap_release(&w.groups);
	ed_vendor_release(&w.vendor);
	ed_buf_release(&w.link);
	ed_buf_release(&w.value);
	ed_buf_release(&p);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.work);
	pthread_cond_destroy(&w.done);
	return rc;
}
