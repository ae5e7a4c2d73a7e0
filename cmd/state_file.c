/* SPDX-License-Identifier: MIT */
/*
 * collect --state FILE: a pushing agent's incremental baseline without a
 * store (state_file.h says what the file holds). Reading mirrors
 * store/baseline.c, over sorted arrays instead of SQL ranges.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "state_file.h"
#include "ed/atomic.h"
#include "ed/buf.h"
#include "ed/hash.h"

#define STATE_MAGIC "envdrift.state/1"
/* A line longer than this is damage (a config value is at most 1 MiB, hex doubles it). */
#define LINE_MAX_BYTES ((size_t)8 << 20)

enum { PF_SECRET = 1, PF_MASKED = 2, PF_VENDOR = 4, PF_REUSABLE = 8, PF_STATE = 16 };

struct sfile {
	char *key; /* NUL-terminated, len bytes */
	size_t len;
	struct ed_fp fp;
	int64_t size, mtime_ns, ctime_ns;
	uint64_t ino, dev;
	unsigned flags;
	enum ed_ftype ftype;
	uint8_t state[ED_STATE_LEN];
	char *because; /* attrs' "because" (why secret, or public by content); NULL: none */
};

struct sconfig {
	char *key;
	size_t len;
	struct ed_fp fp;
	bool has_fp;
	char *value, *attrs, *error; /* NULL: none */
};

struct state {
	struct sfile *files;
	size_t nfiles, capfiles;
	struct sconfig *configs;
	size_t nconfigs, capconfigs;
	struct ed_fp *kept;
	size_t nkept, capkept;
	char **warnings;
	size_t nwarnings, capwarnings;
};

/* The reader of one hashing thread: the state is read only, shared. */
struct ed_baseline_reader {
	const struct state *s;
	struct ed_buf tmp;
};

/* --- hex strings --- */

static int add_hex(struct ed_buf *b, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		char two[2] = {digits[s[i] >> 4], digits[s[i] & 15]};
		if (ed_buf_add(b, two, 2))
			return -1;
	}
	return 0;
}

/* "-" for NULL, else "=" and the hex of s. */
static int add_opt(struct ed_buf *b, const char *s)
{
	if (!s)
		return ed_buf_adds(b, " -");
	return ed_buf_adds(b, " =") || add_hex(b, s, strlen(s));
}

/* Decodes len hex digits at p into a new NUL-terminated string; NULL on bad input. */
static char *unhex(const char *p, size_t len, size_t *outlen)
{
	if (len % 2)
		return NULL;
	char *s = malloc(len / 2 + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = ed_hex_value(p[2 * i]), lo = ed_hex_value(p[2 * i + 1]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(s);
			return NULL;
		}
		s[i] = (char)(hi << 4 | lo);
	}
	s[len / 2] = '\0';
	if (outlen)
		*outlen = len / 2;
	return s;
}

static bool unhex_fixed(const char *p, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = ed_hex_value(p[2 * i]), lo = ed_hex_value(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* --- the state in memory --- */

static void state_free(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].key);
		free(s->files[i].because);
	}
	for (size_t i = 0; i < s->nconfigs; i++) {
		free(s->configs[i].key);
		free(s->configs[i].value);
		free(s->configs[i].attrs);
		free(s->configs[i].error);
	}
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->files);
	free(s->configs);
	free(s->kept);
	free(s->warnings);
	free(s);
}

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? 2 * *cap : 64;
	void *p = realloc(*v, ncap * size);
	if (!p)
		return false;
	*v = p;
	*cap = ncap;
	return true;
}

static int keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int file_cmp(const void *a, const void *b)
{
	const struct sfile *x = a, *y = b;
	int c = keycmp(x->key, x->len, y->key, y->len);
	/* Equal keys: the first emitted first (the address breaks the tie, as loaded in order). */
	return c ? c : (x < y ? -1 : x > y);
}

static int config_cmp(const void *a, const void *b)
{
	const struct sconfig *x = a, *y = b;
	int c = keycmp(x->key, x->len, y->key, y->len);
	return c ? c : (x < y ? -1 : x > y);
}

static int fp_cmp(const void *a, const void *b) { return memcmp(a, b, ED_FP_LEN); }

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of the first key >= (k, len) among n sorted entries of a field at stride. */
static size_t lower_bound(const void *base, size_t n, size_t stride, const char *k, size_t len)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sconfig *e = (const void *)((const char *)base + mid * stride);
		/* sfile and sconfig both start with key, len. */
		if (keycmp(e->key, e->len, k, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct sfile *find_file(const struct state *s, const char *k, size_t len)
{
	size_t i = lower_bound(s->files, s->nfiles, sizeof(*s->files), k, len);
	if (i < s->nfiles && keycmp(s->files[i].key, s->files[i].len, k, len) == 0)
		return &s->files[i];
	return NULL;
}

/* --- reading the file --- */

/* The next line of f into b (without its newline); 1 a line, 0 the end, -1 damage. */
static int next_line(gzFile f, struct ed_buf *b)
{
	char chunk[64 * 1024];
	ed_buf_reset(b);
	for (;;) {
		if (!gzgets(f, chunk, sizeof(chunk))) {
			int zerr;
			gzerror(f, &zerr);
			if (zerr != Z_OK && zerr != Z_STREAM_END)
				return -1;
			return b->len ? -1 : 0; /* a last line without its newline: cut short */
		}
		size_t n = strlen(chunk);
		bool end = n && chunk[n - 1] == '\n';
		if (ed_buf_add(b, chunk, end ? n - 1 : n) || b->len > LINE_MAX_BYTES)
			return -1;
		if (end)
			return 1;
	}
}

/* Splits line into at most max space-separated fields; how many. */
static size_t fields(char *line, char **v, size_t *len, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (*p && n < max) {
		char *sp = strchr(p, ' ');
		v[n] = p;
		len[n] = sp ? (size_t)(sp - p) : strlen(p);
		n++;
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	return n;
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

/* "-" or "=HEX" into *out (NULL for "-"); false on bad input. */
static bool parse_opt(const char *p, size_t len, char **out)
{
	*out = NULL;
	if (len == 1 && *p == '-')
		return true;
	if (!len || *p != '=')
		return false;
	if (len == 1) {
		*out = strdup("");
		return *out != NULL;
	}
	*out = unhex(p + 1, len - 1, NULL);
	return *out != NULL;
}

/* One record into s; false: damage (or out of memory, told apart by *oom). */
static bool parse_record(struct state *s, char *line, bool *oom)
{
	char *v[13];
	size_t len[13];
	size_t n = fields(line, v, len, 13);
	if (n == 12 && strcmp(v[0], "F") == 0) {
		if (!grow((void **)&s->files, &s->capfiles, s->nfiles, sizeof(*s->files)))
			return !(*oom = true);
		struct sfile f = {0};
		int64_t flags = 0;
		if (!unhex_fixed(v[2], len[2], f.fp.b, ED_FP_LEN) || !parse_i64(v[3], &f.size) ||
		    !parse_i64(v[4], &f.mtime_ns) || !parse_i64(v[5], &f.ctime_ns) ||
		    !parse_u64(v[6], &f.ino) || !parse_u64(v[7], &f.dev) || !parse_i64(v[8], &flags) ||
		    (f.ftype = ed_ftype_parse(v[9])) == ED_FT_NONE)
			return false;
		f.flags = (unsigned)flags;
		if ((f.flags & PF_STATE) && !unhex_fixed(v[10], len[10], f.state, ED_STATE_LEN))
			return false;
		if (!(f.key = unhex(v[1], len[1], &f.len)) || !f.len)
			return free(f.key), false;
		if (!parse_opt(v[11], len[11], &f.because))
			return free(f.key), false;
		s->files[s->nfiles++] = f;
		return true;
	}
	if (n == 6 && strcmp(v[0], "C") == 0) {
		if (!grow((void **)&s->configs, &s->capconfigs, s->nconfigs, sizeof(*s->configs)))
			return !(*oom = true);
		struct sconfig c = {0};
		c.has_fp = !(len[2] == 1 && v[2][0] == '-');
		bool ok = (!c.has_fp || unhex_fixed(v[2], len[2], c.fp.b, ED_FP_LEN)) &&
			  (c.key = unhex(v[1], len[1], &c.len)) && c.len &&
			  parse_opt(v[3], len[3], &c.value) && parse_opt(v[4], len[4], &c.attrs) &&
			  parse_opt(v[5], len[5], &c.error);
		if (!ok) {
			free(c.key);
			free(c.value);
			free(c.attrs);
			free(c.error);
			return false;
		}
		s->configs[s->nconfigs++] = c;
		return true;
	}
	if (n == 2 && strcmp(v[0], "K") == 0) {
		if (!grow((void **)&s->kept, &s->capkept, s->nkept, sizeof(*s->kept)))
			return !(*oom = true);
		if (!unhex_fixed(v[1], len[1], s->kept[s->nkept].b, ED_FP_LEN))
			return false;
		s->nkept++;
		return true;
	}
	if (n == 2 && strcmp(v[0], "W") == 0) {
		if (!grow((void **)&s->warnings, &s->capwarnings, s->nwarnings, sizeof(*s->warnings)))
			return !(*oom = true);
		char *m = unhex(v[1], len[1], NULL);
		if (!m)
			return false;
		s->warnings[s->nwarnings++] = m;
		return true;
	}
	return false;
}

/* Sorts each table; a key recorded twice keeps its first record. */
static void state_sort(struct state *s)
{
	if (s->nfiles)
		qsort(s->files, s->nfiles, sizeof(*s->files), file_cmp);
	size_t w = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		if (w && keycmp(s->files[w - 1].key, s->files[w - 1].len, s->files[i].key,
				s->files[i].len) == 0) {
			free(s->files[i].key);
			free(s->files[i].because);
			continue;
		}
		s->files[w++] = s->files[i];
	}
	s->nfiles = w;
	if (s->nconfigs)
		qsort(s->configs, s->nconfigs, sizeof(*s->configs), config_cmp);
	w = 0;
	for (size_t i = 0; i < s->nconfigs; i++) {
		struct sconfig *c = &s->configs[i];
		if (w && keycmp(s->configs[w - 1].key, s->configs[w - 1].len, c->key, c->len) == 0) {
			free(c->key);
			free(c->value);
			free(c->attrs);
			free(c->error);
			continue;
		}
		s->configs[w++] = *c;
	}
	s->nconfigs = w;
	/* qsort and bsearch take no NULL array, even empty. */
	if (s->nkept)
		qsort(s->kept, s->nkept, sizeof(*s->kept), fp_cmp);
	if (s->nwarnings)
		qsort(s->warnings, s->nwarnings, sizeof(*s->warnings), str_cmp);
}

/* --- the baseline interface --- */

static struct ed_baseline_reader *reader_open(const struct ed_baseline *b)
{
	struct ed_baseline_reader *r = calloc(1, sizeof(*r));
	if (r)
		r->s = b->ctx;
	return r;
}

static void reader_close(struct ed_baseline_reader *r)
{
	if (!r)
		return;
	ed_buf_release(&r->tmp);
	free(r);
}

static bool reader_lookup(struct ed_baseline_reader *r, const char *path, struct ed_prev_file *out)
{
	const struct sfile *f = find_file(r->s, path, strlen(path));
	/* An item recorded with an error has no fingerprint worth reusing. */
	if (!f || !(f->flags & PF_REUSABLE))
		return false;
	out->fp = f->fp;
	out->size = f->size;
	out->mtime_ns = f->mtime_ns;
	out->ctime_ns = f->ctime_ns;
	out->ino = f->ino;
	out->dev = f->dev;
	out->secret = f->flags & PF_SECRET;
	out->masked = f->flags & PF_MASKED;
	out->vendor = f->flags & PF_VENDOR;
	out->ftype = f->ftype;
	out->has_state = f->flags & PF_STATE;
	memcpy(out->state, f->state, ED_STATE_LEN);
	snprintf(out->because, sizeof(out->because), "%s", f->because ? f->because : "");
	return true;
}

static bool reader_has_content(struct ed_baseline_reader *r, const struct ed_fp *fp)
{
	return r->s->nkept &&
	       bsearch(fp, r->s->kept, r->s->nkept, sizeof(*r->s->kept), fp_cmp) != NULL;
}

/* As store/baseline.c: whether rest (after a path) is ": ", ":LINE: " or ":LINE:COL: ". */
static bool about(const char *rest)
{
	for (int field = 0; field < 3; field++) {
		if (*rest++ != ':')
			return false;
		if (*rest == ' ')
			return true;
		if (field == 2 || *rest < '0' || *rest > '9')
			return false;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	return false;
}

static void reader_warnings(struct ed_baseline_reader *r, const char *path, struct ed_sink *sink)
{
	const struct state *s = r->s;
	size_t n = strlen(path), lo = 0, hi = s->nwarnings;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(s->warnings[mid], path, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nwarnings && strncmp(s->warnings[lo], path, n) == 0; lo++)
		if (about(s->warnings[lo] + n))
			sink->warn(sink, s->warnings[lo]);
}

/* The first file key in [lo, hi), or NULL. */
static const struct sfile *first_file_in(const struct state *s, const char *lo, size_t lolen,
					 const char *hi, size_t hilen)
{
	size_t i = lower_bound(s->files, s->nfiles, sizeof(*s->files), lo, lolen);
	if (i < s->nfiles && keycmp(s->files[i].key, s->files[i].len, hi, hilen) < 0)
		return &s->files[i];
	return NULL;
}

/* As store/baseline.c config_of(): a config key belongs to the longest file named by its start. */
static bool config_of(const struct state *s, const char *key, size_t len, size_t plen)
{
	for (size_t i = len; i-- > plen + 1;)
		if (key[i] == '#' && find_file(s, key, i))
			return false;
	return true;
}

static enum ed_code reader_configs(struct ed_baseline_reader *r, const char *path,
				   struct ed_sink *sink, struct ed_err *err)
{
	const struct state *s = r->s;
	size_t n = strlen(path);
	struct ed_buf *b = &r->tmp;
	ed_buf_reset(b);
	if (ed_buf_add(b, path, n) || ed_buf_adds(b, "#/") || ed_buf_add(b, path, n) ||
	    ed_buf_adds(b, "#0"))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	/* b: "PATH#/" then "PATH#0"; a folder named "PATH#" is rare: careful then. */
	bool careful = first_file_in(s, b->p, n + 2, b->p + n + 2, n + 2) != NULL;
	const char *hi = b->p + n + 2;
	size_t i = lower_bound(s->configs, s->nconfigs, sizeof(*s->configs), b->p, n + 1);
	for (; i < s->nconfigs; i++) {
		const struct sconfig *c = &s->configs[i];
		if (keycmp(c->key, c->len, hi, n + 2) >= 0)
			break;
		if (c->len < n + 1 || memcmp(c->key, path, n) != 0 || c->key[n] != '#')
			continue;
		if (c->len > n + 1 && c->key[n + 1] != '/')
			continue; /* "PATH#2.json#/...": another file's */
		if (careful && !config_of(s, c->key, c->len, n))
			continue;
		struct ed_item it = {0};
		it.kind = ED_KIND_CONFIG;
		it.key = c->key;
		it.key_len = c->len;
		if (c->has_fp)
			it.fp = c->fp;
		it.value = c->value;
		it.attrs = c->attrs;
		it.error = c->error;
		enum ed_code rc = sink->emit(sink, &it, err);
		if (rc)
			return rc;
	}
	return ED_OK;
}

/* As store/baseline.c reader_children(), over the sorted file keys. */
static enum ed_code reader_children(struct ed_baseline_reader *r, const char *path,
				    enum ed_code (*fn)(void *ctx, const char *name, size_t len,
						       const char *ftype, struct ed_err *err),
				    void *ctx, struct ed_err *err)
{
	const struct state *s = r->s;
	size_t plen = strlen(path);
	bool root = plen == 1 && path[0] == '/';
	size_t pre = root ? 1 : plen + 1; /* "D/" */
	struct ed_buf lo = ED_BUF_INIT, hi = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (ed_buf_add(&lo, path, plen) || (!root && ed_buf_addc(&lo, '/')) ||
	    ed_buf_add(&hi, lo.p, pre - 1) || ed_buf_addc(&hi, '0')) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		const struct sfile *f = first_file_in(s, lo.p, lo.len, hi.p, hi.len);
		if (!f)
			break;
		if (f->len <= pre) {
			ed_buf_reset(&lo);
			if (ed_buf_add(&lo, f->key, f->len) || ed_buf_add(&lo, "", 1)) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				break;
			}
			continue;
		}
		const char *name = f->key + pre;
		const char *slash = memchr(name, '/', f->len - pre);
		size_t nlen = slash ? (size_t)(slash - name) : f->len - pre;
		const char *ftype = slash ? "dir" : ed_ftype_name(f->ftype);
		if (!ftype)
			ftype = "dir";
		/* Next: past this entry ("\0" follows it), or past its tree. */
		ed_buf_reset(&lo);
		if (ed_buf_add(&lo, f->key, pre + nlen) ||
		    (slash ? ed_buf_addc(&lo, '0') : ed_buf_add(&lo, "", 1))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		if ((rc = fn(ctx, name, nlen, ftype, err)))
			break;
	}
out:
	ed_buf_release(&lo);
	ed_buf_release(&hi);
	return rc;
}

enum ed_code state_load(const char *path, const char *env, const char *host, const char *sig,
			struct ed_baseline *out, char *why, size_t whycap, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	struct ed_buf line = ED_BUF_INIT;
	struct state *s = NULL;
	int64_t started = 0;
	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return ED_OK; /* the first collection */
	gzFile f = gzopen(path, "rbe");
	if (!f) {
		snprintf(why, whycap, "cannot be read (%s)", strerror(errno));
		return ED_OK;
	}
	int got = next_line(f, &line);
	if (got != 1 || strcmp(line.p, STATE_MAGIC) != 0) {
		snprintf(why, whycap, "is not an envdrift state file (%s)", STATE_MAGIC);
		goto out;
	}
	got = next_line(f, &line);
	char *v[5];
	size_t len[5];
	char *e = NULL, *h = NULL;
	bool head = got == 1 && fields(line.p, v, len, 5) == 5 && strcmp(v[0], "E") == 0 &&
		    (e = unhex(v[1], len[1], NULL)) && (h = unhex(v[2], len[2], NULL)) &&
		    parse_i64(v[4], &started);
	bool same = head && strcmp(e, env) == 0 && strcmp(h, host) == 0;
	if (head && !same)
		snprintf(why, whycap, "is of %s/%s, not this collection", e, h);
	free(e);
	free(h);
	if (!head) {
		snprintf(why, whycap, "is damaged (its second line)");
		goto out;
	}
	if (!same)
		goto out;
	if (strcmp(v[3], sig) != 0) {
		snprintf(why, whycap, "was collected with other settings (profile, paths, root or "
				      "envdrift version)");
		goto out;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	bool oom = false;
	while ((got = next_line(f, &line)) == 1 && strcmp(line.p, "END") != 0)
		if (!parse_record(s, line.p, &oom))
			break;
	if (oom) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if (got != 1 || strcmp(line.p, "END") != 0) {
		snprintf(why, whycap, "is damaged or cut short");
		goto out;
	}
	state_sort(s);
	out->trust_before_ns = started - INT64_C(2000000000);
	out->open = reader_open;
	out->lookup = reader_lookup;
	out->has_content = reader_has_content;
	out->warnings = reader_warnings;
	out->configs = reader_configs;
	out->children = reader_children;
	out->count = NULL;
	out->close = reader_close;
	out->ctx = s;
	s = NULL;
out:
	state_free(s);
	gzclose(f);
	ed_buf_release(&line);
	return rc;
}

void state_baseline_release(struct ed_baseline *b)
{
	state_free(b->ctx);
	memset(b, 0, sizeof(*b));
}

/* --- writing --- */

struct state_writer {
	struct ed_sink sink;
	struct ed_sink *next;
	const struct ed_baseline *prev;
	struct ed_baseline_reader *prev_reader;
	struct ed_atomic *a;
	gzFile gz;
	struct ed_buf line;
	bool failed; /* a write failed: the state is not committed */
};

static void put(struct state_writer *w)
{
	if (w->failed)
		return;
	if (ed_buf_addc(&w->line, '\n') ||
	    gzwrite(w->gz, w->line.p, (unsigned)w->line.len) != (int)w->line.len)
		w->failed = true;
	ed_buf_reset(&w->line);
}

static void record_kept(struct state_writer *w, const struct ed_fp *fp)
{
	ed_buf_reset(&w->line);
	if (ed_buf_adds(&w->line, "K ") || add_hex(&w->line, fp->b, ED_FP_LEN))
		w->failed = true;
	put(w);
}

static void record(struct state_writer *w, const struct ed_item *it)
{
	struct ed_buf *b = &w->line;
	char num[128];
	ed_buf_reset(b);
	if (strcmp(it->kind, ED_KIND_FILE) == 0 && it->ftype != ED_FT_NONE) {
		unsigned flags = 0;
		if (ed_attrs_secret(it->attrs))
			flags |= PF_SECRET;
		if (it->attrs && strstr(it->attrs, "\"masked\":true"))
			flags |= PF_MASKED;
		if (it->attrs && strstr(it->attrs, "\"vendor\":true"))
			flags |= PF_VENDOR;
		if (!it->error)
			flags |= PF_REUSABLE;
		uint8_t st[ED_STATE_LEN];
		ed_item_state_of(it, st);
		flags |= PF_STATE;
		snprintf(num, sizeof(num), " %" PRId64 " %" PRId64 " %" PRId64 " %" PRIu64 " %" PRIu64
					   " %u %s ",
			 it->size, it->mtime_ns, it->ctime_ns, it->ino, it->dev, flags,
			 ed_ftype_name(it->ftype));
		if (ed_buf_adds(b, "F ") || add_hex(b, it->key, it->key_len) ||
		    ed_buf_addc(b, ' ') || add_hex(b, it->fp.b, ED_FP_LEN) || ed_buf_adds(b, num) ||
		    add_hex(b, st, ED_STATE_LEN))
			w->failed = true;
		char because[sizeof(((struct ed_prev_file *)0)->because)];
		if (!ed_attrs_because(it->attrs, because, sizeof(because)) ||
		    add_opt(b, because[0] ? because : NULL))
			w->failed = true;
		put(w);
		/* A reused file's content is where the previous one's was: with the server. */
		if (w->prev_reader && w->prev->has_content(w->prev_reader, &it->fp))
			record_kept(w, &it->fp);
		return;
	}
	if (strcmp(it->kind, ED_KIND_CONFIG) == 0) {
		bool has_fp = false;
		for (size_t i = 0; i < ED_FP_LEN; i++)
			has_fp |= it->fp.b[i] != 0;
		if (ed_buf_adds(b, "C ") || add_hex(b, it->key, it->key_len) ||
		    (has_fp ? ed_buf_addc(b, ' ') || add_hex(b, it->fp.b, ED_FP_LEN)
			    : ed_buf_adds(b, " -")) ||
		    add_opt(b, it->value) || add_opt(b, it->attrs) || add_opt(b, it->error))
			w->failed = true;
		put(w);
	}
}

static enum ed_code sw_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct state_writer *w = sink->ctx;
	record(w, it);
	return w->next->emit(w->next, it, err);
}

static void sw_warn(struct ed_sink *sink, const char *msg)
{
	struct state_writer *w = sink->ctx;
	ed_buf_reset(&w->line);
	if (ed_buf_adds(&w->line, "W ") || add_hex(&w->line, msg, strlen(msg)))
		w->failed = true;
	put(w);
	w->next->warn(w->next, msg);
}

static enum ed_code sw_content(struct ed_sink *sink, const struct ed_fp *fp, const char *data,
			       size_t len, struct ed_err *err)
{
	struct state_writer *w = sink->ctx;
	record_kept(w, fp);
	if (!w->next->content)
		return ED_OK;
	return w->next->content(w->next, fp, data, len, err);
}

enum ed_code state_writer_begin(const char *path, const char *env, const char *host,
				const char *sig, int64_t started_ns, const struct ed_baseline *prev,
				struct state_writer **out, struct ed_err *err)
{
	struct state_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	w->line = (struct ed_buf)ED_BUF_INIT;
	if (ed_atomic_open(path, 0600, &w->a, err)) {
		free(w);
		return err->code;
	}
	int fd = dup(fileno(ed_atomic_file(w->a)));
	if (fd < 0 || !(w->gz = gzdopen(fd, "wb6"))) {
		if (fd >= 0)
			close(fd);
		ed_atomic_abort(w->a);
		free(w);
		return ed_err_set(err, ED_NOMEM, "--state %s: cannot start compressing", path);
	}
	if (prev && prev->ctx && !(w->prev_reader = prev->open(prev))) {
		state_writer_abort(w);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	w->prev = prev;
	char num[64];
	snprintf(num, sizeof(num), " %" PRId64, started_ns);
	struct ed_buf *b = &w->line;
	if (ed_buf_adds(b, STATE_MAGIC))
		w->failed = true;
	put(w);
	if (ed_buf_adds(b, "E ") || add_hex(b, env, strlen(env)) || ed_buf_addc(b, ' ') ||
	    add_hex(b, host, strlen(host)) || ed_buf_addc(b, ' ') || ed_buf_adds(b, sig) ||
	    ed_buf_adds(b, num))
		w->failed = true;
	put(w);
	*out = w;
	return ED_OK;
}

struct ed_sink *state_writer_sink(struct state_writer *w, struct ed_sink *next)
{
	w->next = next;
	w->sink = (struct ed_sink){.emit = sw_emit, .warn = sw_warn, .content = sw_content, .ctx = w};
	return &w->sink;
}

static void writer_free(struct state_writer *w)
{
	if (w->prev_reader)
		w->prev->close(w->prev_reader);
	ed_buf_release(&w->line);
	free(w);
}

enum ed_code state_writer_commit(struct state_writer *w, struct ed_err *err)
{
	char name[4096];
	snprintf(name, sizeof(name), "%s", ed_atomic_name(w->a));
	if (ed_buf_adds(&w->line, "END"))
		w->failed = true;
	put(w);
	int zrc = gzclose(w->gz);
	w->gz = NULL;
	if (w->failed || zrc != Z_OK) {
		ed_atomic_abort(w->a);
		writer_free(w);
		return ed_err_set(err, ED_IO, "--state %s: cannot write it", name);
	}
	enum ed_code rc = ed_atomic_commit(w->a, err);
	writer_free(w);
	return rc;
}

void state_writer_abort(struct state_writer *w)
{
	if (!w)
		return;
	if (w->gz)
		gzclose(w->gz);
	ed_atomic_abort(w->a);
	writer_free(w);
}
