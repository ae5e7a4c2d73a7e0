/* SPDX-License-Identifier: MIT */
/*
 * Snapshot documents, format envdrift.snapshot/1 (docs/snapshot-format.md):
 * a streaming writer behind the sink interface, a validating reader that
 * names the JSON path of the first problem, ingest into the store (one
 * snapshot, all or nothing, idempotent by document id) and export.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ed/buf.h"
#include "ed/snapdoc.h"
#include "../store/store_int.h"

#define STDIN_NAME "standard input"
#define STDOUT_NAME "standard output"
/* Kept content larger than this is dropped, as the store's writer does. */
#define CONTENT_MAX ((size_t)INT32_MAX / 2)

/* ------------------------------------------------------------------ */
/* base64 (RFC 4648, standard alphabet, padded) and hex                 */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_encode(struct ed_buf *out, const void *data, size_t len)
{
	const unsigned char *s = data;
	size_t old = out->len;
	char q[4];
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		q[0] = b64_alphabet[(v >> 18) & 63];
		q[1] = b64_alphabet[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64_alphabet[v & 63] : '=';
		if (ed_buf_add(out, q, 4)) {
			out->len = old;
			if (out->p)
				out->p[old] = '\0';
			return -1;
		}
	}
	return 0;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes canonical base64 into out (replacing its contents): length a
 * multiple of 4, padding only at the end, unused bits zero, no blanks.
 * Returns 0, -1 for malformed input, -2 when out of memory.
 */
static int b64_decode(struct ed_buf *out, const char *s, size_t len)
{
	ed_buf_reset(out);
	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + (size_t)k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(c)) < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1; /* non-zero unused bits: not the canonical encoding */
		unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
				      (unsigned char)w};
		if (ed_buf_add(out, b, 3 - pad))
			return -2;
	}
	if (!out->p && ed_buf_add(out, "", 0))
		return -2;
	return 0;
}

/* 32 hex digits (either case) into fp; false for anything else. */
static bool fp_parse(const char *s, size_t len, struct ed_fp *fp)
{
	if (len != 2 * ED_FP_LEN)
		return false;
	for (size_t i = 0; i < ED_FP_LEN; i++) {
		int hi = ed_hex_value(s[2 * i]), lo = ed_hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		fp->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* ids and times                                                        */

enum ed_code ed_snapdoc_id_new(char out[ED_SNAPDOC_ID_LEN + 1], struct ed_err *err)
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return ed_err_set(err, ED_IO, "no random bytes for a document id: %s",
				  strerror(errno));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, ED_SNAPDOC_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return ED_OK;
}

/* 8-4-4-4-12 hex digits; copied to out in lower case. */
static bool id_parse(const char *s, size_t len, char out[ED_SNAPDOC_ID_LEN + 1])
{
	if (len != ED_SNAPDOC_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : ed_hex_value(s[i]) < 0)
			return false;
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	}
	out[len] = '\0';
	return true;
}

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* YYYY-MM-DDTHH:MM:SSZ, a real date and time (a leap second allowed), as the store writes it. */
static bool iso_valid(const char *s, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (len != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return false;
#define NUM2(p) ((s[p] - '0') * 10 + (s[(p) + 1] - '0'))
	int y = NUM2(0) * 100 + NUM2(2), mo = NUM2(5), d = NUM2(8);
	int h = NUM2(11), mi = NUM2(14), se = NUM2(17);
#undef NUM2
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[mo - 1] + (mo == 2 && leap);
}

/* ------------------------------------------------------------------ */
/* a set of 16-byte hashes (open addressing), for "seen before?"        */

struct fpset {
	uint8_t (*slot)[ED_FP_LEN];
	size_t cap; /* a power of two, or 0 */
	size_t n;
	bool has_zero; /* the all-zero value marks an empty slot, so it is kept here */
};

static bool fp_is_zero(const uint8_t *b)
{
	static const uint8_t zero[ED_FP_LEN];
	return memcmp(b, zero, ED_FP_LEN) == 0;
}

static size_t fpset_index(const uint8_t *b, size_t cap)
{
	uint64_t h;
	memcpy(&h, b, sizeof(h));
	return (size_t)h & (cap - 1);
}

/* 1 added, 0 already there, -1 out of memory. */
static int fpset_add(struct fpset *s, const uint8_t b[ED_FP_LEN])
{
	if (fp_is_zero(b)) {
		int added = !s->has_zero;
		s->has_zero = true;
		return added;
	}
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint8_t (*ns)[ED_FP_LEN] = calloc(ncap, ED_FP_LEN);
		if (!ns)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (fp_is_zero(s->slot[i]))
				continue;
			size_t j = fpset_index(s->slot[i], ncap);
			while (!fp_is_zero(ns[j]))
				j = (j + 1) & (ncap - 1);
			memcpy(ns[j], s->slot[i], ED_FP_LEN);
		}
		free(s->slot);
		s->slot = ns;
		s->cap = ncap;
	}
	size_t j = fpset_index(b, s->cap);
	while (!fp_is_zero(s->slot[j])) {
		if (memcmp(s->slot[j], b, ED_FP_LEN) == 0)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	memcpy(s->slot[j], b, ED_FP_LEN);
	s->n++;
	return 1;
}

static void fpset_release(struct fpset *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* writing                                                              */

struct ed_snapdoc_writer {
	struct ed_sink sink;
	FILE *out;
	bool to_stdout;
	bool direct;      /* path is no regular file (a device, a FIFO): written in place */
	bool quiet;       /* do not echo warnings on stderr */
	char *path;       /* the final name; NULL for standard output */
	char *tmp;        /* the temporary file renamed to path at commit */
	const char *name; /* path or "standard output", for messages */
	FILE *warn_spool; /* warnings, as JSON array elements, until commit */
	FILE *content_spool;
	int64_t items, warnings, contents;
	struct fpset keys; /* XXH3-128 of kind NUL key of every item written */
	struct fpset fps;  /* fingerprints of the contents written */
	struct ed_buf scratch;
	char id[ED_SNAPDOC_ID_LEN + 1];
	bool failed; /* a warning could not be written: fail at commit */
	struct ed_err fail_err;
};

static enum ed_code write_err(struct ed_snapdoc_writer *w, struct ed_err *err)
{
	return ed_err_set(err, ED_IO, "%s: cannot write: %s", w->name,
			  errno ? strerror(errno) : "write error");
}

/* Sets o[f] to s, or o[f + "_b64"] to its base64 when s is not UTF-8 (or holds a NUL). */
static int set_str(json_t *o, const char *f, const char *s, size_t len, struct ed_buf *tmp)
{
	if (ed_utf8_valid(s, len) && !memchr(s, '\0', len))
		return json_object_set_new(o, f, json_stringn(s, len));
	char name[32];
	snprintf(name, sizeof(name), "%s_b64", f);
	ed_buf_reset(tmp);
	if (b64_encode(tmp, s, len))
		return -1;
	return json_object_set_new(o, name, json_stringn(ed_buf_str(tmp), tmp->len));
}

static int set_cstr(json_t *o, const char *f, const char *s, struct ed_buf *tmp)
{
	return s ? set_str(o, f, s, strlen(s), tmp) : 0;
}

static int set_fp(json_t *o, const char *f, const struct ed_fp *fp)
{
	char hex[2 * ED_FP_LEN + 1];
	ed_fp_hex(fp, hex);
	return json_object_set_new(o, f, json_string(hex));
}

/* The JSON object of one item; NULL when out of memory or attrs is not a JSON object. */
static json_t *item_json(const struct ed_item *it, struct ed_buf *tmp, bool *bad_attrs)
{
	json_t *o = json_object();
	int r = 0;
	*bad_attrs = false;
	if (!o)
		return NULL;
	r |= json_object_set_new(o, "kind", json_string(it->kind));
	r |= set_str(o, "key", it->key, it->key_len, tmp);
	r |= set_fp(o, "fingerprint", &it->fp);
	r |= set_cstr(o, "value", it->value, tmp);
	const char *ft = ed_ftype_name(it->ftype);
	if (ft) {
		r |= json_object_set_new(o, "ftype", json_string(ft));
		r |= json_object_set_new(o, "mode", json_integer(it->mode));
		r |= set_cstr(o, "owner", it->owner, tmp);
		r |= set_cstr(o, "group", it->group, tmp);
		r |= set_cstr(o, "target", it->target, tmp);
		r |= json_object_set_new(o, "size", json_integer(it->size));
		r |= json_object_set_new(o, "mtime_ns", json_integer(it->mtime_ns));
		r |= json_object_set_new(o, "ctime_ns", json_integer(it->ctime_ns));
		/* As the store keeps them: values of 2^63 and more wrap to negative. */
		r |= json_object_set_new(o, "ino", json_integer((json_int_t)it->ino));
		r |= json_object_set_new(o, "dev", json_integer((json_int_t)it->dev));
	}
	r |= set_cstr(o, "error", it->error, tmp);
	if (!r && it->attrs) {
		json_t *a = json_loads(it->attrs, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(a)) {
			*bad_attrs = true;
			json_decref(a);
			json_decref(o);
			return NULL;
		}
		r |= json_object_set_new(o, "attrs", a); /* _new: o takes a's reference */
	}
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Writes "\n" or ",\n" and j, compact, to f. */
static int put_elem(FILE *f, int64_t n, json_t *j)
{
	if (fputs(n ? ",\n" : "\n", f) == EOF)
		return -1;
	return json_dumpf(j, f, JSON_COMPACT | JSON_ENCODE_ANY);
}

static enum ed_code doc_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct ed_snapdoc_writer *w = sink->ctx;
	struct ed_fp h;
	bool bad_attrs;
	ed_buf_reset(&w->scratch);
	if (ed_buf_adds(&w->scratch, it->kind) || ed_buf_addc(&w->scratch, '\0') ||
	    ed_buf_add(&w->scratch, it->key, it->key_len))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	ed_fp_of(w->scratch.p, w->scratch.len, &h);
	int added = fpset_add(&w->keys, h.b);
	if (added < 0)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (!added)
		return ED_OK; /* overlapping trees yield an item twice; the store keeps one too */
	json_t *o = item_json(it, &w->scratch, &bad_attrs);
	if (!o) {
		if (bad_attrs) {
			ed_buf_reset(&w->scratch);
			ed_buf_add_utf8_escaped(&w->scratch, it->key, it->key_len);
			return ed_err_set(err, ED_PARSE, "%s item %s: attrs is not a JSON object",
					  it->kind, ed_buf_str(&w->scratch));
		}
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	errno = 0;
	int r = put_elem(w->out, w->items, o);
	json_decref(o);
	if (r)
		return write_err(w, err);
	w->items++;
	return ED_OK;
}

static void doc_warn(struct ed_sink *sink, const char *msg)
{
	struct ed_snapdoc_writer *w = sink->ctx;
	if (!w->quiet)
		ed_warn("%s", msg);
	if (w->failed)
		return;
	json_t *j = NULL;
	size_t len = strlen(msg);
	if (ed_utf8_valid(msg, len)) {
		j = json_stringn(msg, len);
	} else {
		ed_buf_reset(&w->scratch);
		if (!b64_encode(&w->scratch, msg, len))
			j = json_pack("{s:s%}", "b64", w->scratch.p, w->scratch.len);
	}
	errno = 0;
	if (!j || put_elem(w->warn_spool, w->warnings, j)) {
		if (j)
			write_err(w, &w->fail_err);
		else
			ed_err_set(&w->fail_err, ED_NOMEM, "out of memory keeping a warning");
		w->failed = true;
	}
	json_decref(j);
	w->warnings++;
}

static enum ed_code doc_content(struct ed_sink *sink, const struct ed_fp *fp, const char *data,
				size_t len, struct ed_err *err)
{
	struct ed_snapdoc_writer *w = sink->ctx;
	if (data && len > CONTENT_MAX)
		return ED_OK; /* far beyond any keep limit: not kept, as in the store */
	int added = fpset_add(&w->fps, fp->b);
	if (added < 0)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (!added)
		return ED_OK; /* once per fingerprint; the first one stays, as in the store */
	json_t *o = json_object();
	int r = !o || set_fp(o, "fingerprint", fp) ||
		json_object_set_new(o, "encoding", json_string(data ? "base64" : "none"));
	if (!r && data) {
		ed_buf_reset(&w->scratch);
		r = b64_encode(&w->scratch, data, len) ||
		    json_object_set_new(o, "data", json_stringn(w->scratch.p ? w->scratch.p : "",
								w->scratch.len));
	}
	if (r) {
		json_decref(o);
		return ed_err_set(err, ED_NOMEM, "out of memory keeping content");
	}
	errno = 0;
	r = put_elem(w->content_spool, w->contents, o);
	json_decref(o);
	if (r)
		return ed_err_set(err, ED_IO, "a temporary file: cannot write kept content: %s",
				  errno ? strerror(errno) : "write error");
	w->contents++;
	return ED_OK;
}

static void writer_free(struct ed_snapdoc_writer *w)
{
	if (w->warn_spool)
		fclose(w->warn_spool);
	if (w->content_spool)
		fclose(w->content_spool);
	fpset_release(&w->keys);
	fpset_release(&w->fps);
	ed_buf_release(&w->scratch);
	free(w->path);
	free(w->tmp);
	free(w);
}

void ed_snapdoc_abort(struct ed_snapdoc_writer *w)
{
	if (!w)
		return;
	if (w->out && !w->to_stdout)
		fclose(w->out); /* direct: what was written stays, as on standard output */
	if (w->tmp)
		unlink(w->tmp);
	writer_free(w);
}

/* Adds "name": s (or "name_b64") to o when s is set; -1 when out of memory. */
static int meta_str(json_t *o, const char *f, const char *s, struct ed_buf *tmp)
{
	return s ? set_str(o, f, s, strlen(s), tmp) : 0;
}

enum ed_code ed_snapdoc_begin(const char *path, const struct ed_snapdoc_meta *meta,
			      struct ed_snapdoc_writer **out, struct ed_err *err)
{
	struct ed_snapdoc_writer *w = calloc(1, sizeof(*w));
	json_t *head = NULL, *coll = NULL;
	char *text = NULL;
	char started[32], me[256] = "";
	enum ed_code rc = ED_OK;
	if (!w)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	w->sink = (struct ed_sink){.emit = doc_emit, .warn = doc_warn, .ctx = w,
				   .content = doc_content};
	w->quiet = meta->quiet;
	if (meta->id) {
		if (!id_parse(meta->id, strlen(meta->id), w->id)) {
			rc = ed_err_set(err, ED_USAGE, "document id '%s' is not a UUID", meta->id);
			goto fail;
		}
	} else if ((rc = ed_snapdoc_id_new(w->id, err))) {
		goto fail;
	}
	if (!meta->env || !*meta->env || !meta->host || !*meta->host) {
		rc = ed_err_set(err, ED_USAGE, "a snapshot document needs an environment and a host");
		goto fail;
	}
	if (meta->started_at && !iso_valid(meta->started_at, strlen(meta->started_at))) {
		rc = ed_err_set(err, ED_USAGE, "start time '%s' is not YYYY-MM-DDTHH:MM:SSZ",
				meta->started_at);
		goto fail;
	}
	if (meta->started_at)
		snprintf(started, sizeof(started), "%s", meta->started_at);
	else
		now_iso(started);
	if (!meta->collector_host)
		gethostname(me, sizeof(me) - 1);

	if (!(w->warn_spool = tmpfile()) || !(w->content_spool = tmpfile())) {
		rc = ed_err_set(err, ED_IO, "cannot create a temporary file: %s", strerror(errno));
		goto fail;
	}
	struct stat pst;
	if (!path || strcmp(path, "-") == 0) {
		w->out = stdout;
		w->to_stdout = true;
		w->name = STDOUT_NAME;
	} else if (stat(path, &pst) == 0 && !S_ISREG(pst.st_mode)) {
		/*
		 * /dev/null, a FIFO, /dev/stdout: written to as it is. Renaming a
		 * file over it would replace a device node with a plain file.
		 */
		int fd = S_ISDIR(pst.st_mode) ? -1 : open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = ed_err_set(err, ED_IO, "%s: cannot write: %s", path,
					S_ISDIR(pst.st_mode) ? "a folder" : strerror(errno));
			goto fail;
		}
		if (!(w->path = strdup(path)) || !(w->out = fdopen(fd, "w"))) {
			if (!w->out)
				close(fd);
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto fail;
		}
		w->name = w->path;
		w->direct = true;
	} else {
		struct ed_buf t = ED_BUF_INIT;
		if (!(w->path = strdup(path)) || ed_buf_addf(&t, "%s.tmp.%d", path, (int)getpid())) {
			ed_buf_release(&t);
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto fail;
		}
		w->tmp = ed_buf_detach(&t);
		w->name = w->path;
		int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			rc = ed_err_set(err, ED_IO, "%s: cannot create: %s", w->tmp, strerror(errno));
			free(w->tmp); /* not ours: nothing to unlink */
			w->tmp = NULL;
			goto fail;
		}
		if (!(w->out = fdopen(fd, "w"))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			close(fd);
			goto fail; /* abort unlinks the temporary file */
		}
	}

	/* The head: every field but the arrays and finished_at, then the items. */
	head = json_object();
	coll = json_object();
	int r = !head || !coll;
	r = r || json_object_set_new(head, "format", json_string(ED_SNAPDOC_FORMAT)) ||
	    json_object_set_new(head, "id", json_string(w->id)) ||
	    meta_str(head, "env", meta->env, &w->scratch) ||
	    meta_str(head, "host", meta->host, &w->scratch) ||
	    meta_str(head, "role", meta->role ? meta->role : "", &w->scratch) ||
	    json_object_set_new(head, "started_at", json_string(started)) ||
	    json_object_set_new(coll, "version", json_string(ENVDRIFT_VERSION)) ||
	    meta_str(coll, "host", meta->collector_host ? meta->collector_host : me, &w->scratch) ||
	    meta_str(coll, "root", meta->collector_root, &w->scratch) ||
	    json_object_set(head, "collector", coll);
	if (r || !(text = json_dumps(head, JSON_COMPACT))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	size_t tl = strlen(text);
	errno = 0;
	/* The head object without its closing brace: the items follow. */
	if (fwrite(text, 1, tl - 1, w->out) != tl - 1 || fputs(",\"items\":[", w->out) == EOF) {
		rc = write_err(w, err);
		goto fail;
	}
	free(text); /* json_dumps: the caller frees */
	json_decref(head);
	json_decref(coll);
	*out = w;
	return ED_OK;
fail:
	free(text);
	json_decref(head);
	json_decref(coll);
	ed_snapdoc_abort(w);
	return rc;
}

struct ed_sink *ed_snapdoc_sink(struct ed_snapdoc_writer *w)
{
	return &w->sink;
}

const char *ed_snapdoc_writer_id(const struct ed_snapdoc_writer *w)
{
	return w->id;
}

/* Appends the spooled array elements to out. */
static int copy_spool(FILE *spool, FILE *out)
{
	char buf[65536];
	size_t n;
	if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), spool)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return -1;
	return ferror(spool) ? -1 : 0;
}

/* fsyncs the folder holding path, so the rename survives a power cut. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? ed_strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : ed_strndup(".", 1);
	if (!dir)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

enum ed_code ed_snapdoc_commit(struct ed_snapdoc_writer *w, const char *finished_at,
			       int64_t *items, int64_t *warnings, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	char fin[32];
	json_t *jf = NULL;
	if (w->failed) {
		*err = w->fail_err;
		rc = w->fail_err.code;
		goto fail;
	}
	if (finished_at)
		snprintf(fin, sizeof(fin), "%s", finished_at);
	else
		now_iso(fin);
	if (!(jf = json_string(fin))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	errno = 0;
	if (fputs("\n],\"warnings\":[", w->out) == EOF || copy_spool(w->warn_spool, w->out) ||
	    fputs("\n],\"contents\":[", w->out) == EOF || copy_spool(w->content_spool, w->out) ||
	    fputs("\n],\"finished_at\":", w->out) == EOF || json_dumpf(jf, w->out, JSON_COMPACT | JSON_ENCODE_ANY) ||
	    fputs("}\n", w->out) == EOF || fflush(w->out) != 0 || ferror(w->out)) {
		rc = write_err(w, err);
		goto fail;
	}
	if (w->direct) {
		FILE *f = w->out;
		w->out = NULL;
		if (fclose(f) != 0) {
			rc = write_err(w, err);
			goto fail;
		}
	} else if (!w->to_stdout) {
		FILE *f = w->out;
		w->out = NULL;
		if (fsync(fileno(f)) != 0) {
			rc = write_err(w, err);
			fclose(f);
			goto fail;
		}
		if (fclose(f) != 0) {
			rc = write_err(w, err);
			goto fail;
		}
		if (rename(w->tmp, w->path) != 0) {
			rc = ed_err_set(err, ED_IO, "%s: cannot rename %s into place: %s", w->path,
					w->tmp, strerror(errno));
			goto fail;
		}
		free(w->tmp);
		w->tmp = NULL;
		sync_dir(w->path); /* best effort: the document is complete either way */
	}
	if (items)
		*items = w->items;
	if (warnings)
		*warnings = w->warnings;
	json_decref(jf);
	writer_free(w);
	return ED_OK;
fail:
	json_decref(jf);
	ed_snapdoc_abort(w);
	return rc;
}

/* ------------------------------------------------------------------ */
/* JSON paths in messages                                               */

/* Appends .key, or ["key"] when key is not a plain name; bytes that are not printable ASCII as \xHH. */
static int path_add_key(struct ed_buf *b, const char *k, size_t len)
{
	bool plain = len > 0 && len <= 64;
	for (size_t i = 0; i < len && plain; i++) {
		char c = k[i];
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			(i > 0 && c >= '0' && c <= '9');
	}
	if (plain)
		return ed_buf_addc(b, '.') || ed_buf_add(b, k, len);
	int r = ed_buf_adds(b, "[\"");
	size_t n = len > 64 ? 64 : len;
	for (size_t i = 0; i < n && !r; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c < 0x20 || c >= 0x7f)
			r = ed_buf_addf(b, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			r = ed_buf_addc(b, '\\') || ed_buf_addc(b, (char)c);
		else
			r = ed_buf_addc(b, (char)c);
	}
	if (!r && len > n)
		r = ed_buf_adds(b, "...");
	return r || ed_buf_adds(b, "\"]");
}

/*
 * The JSON path of byte offset pos in data, from a small scanner that keeps
 * only the stack of open containers: for the position of an error jansson
 * reports (bad syntax, a duplicate key), which comes without a path.
 */
#define PATH_DEPTH 4096 /* beyond jansson's own limit of 2048 */
struct frame {
	bool obj;
	bool want_key; /* objects: the next string is a key */
	bool has_key;
	size_t koff, klen; /* the current key, raw, in data */
	size_t idx;        /* arrays: the current element */
};

static void path_at(const char *data, size_t len, size_t pos, struct ed_buf *out)
{
	struct frame *st = malloc(PATH_DEPTH * sizeof(*st));
	size_t depth = 0, over = 0; /* over: levels beyond PATH_DEPTH */
	size_t end = pos < len ? pos : len;
	ed_buf_reset(out);
	if (ed_buf_addc(out, '$') || !st) {
		free(st);
		return;
	}
	for (size_t i = 0; i < end; i++) {
		char c = data[i];
		struct frame *top = depth && !over ? &st[depth - 1] : NULL;
		if (c == '{' || c == '[') {
			if (depth == PATH_DEPTH || over) {
				over++;
				continue;
			}
			st[depth++] = (struct frame){.obj = c == '{', .want_key = c == '{'};
		} else if (c == '}' || c == ']') {
			if (over)
				over--;
			else if (depth)
				depth--;
		} else if (c == ',' && top) {
			if (top->obj) {
				top->want_key = true;
				top->has_key = false;
			} else {
				top->idx++;
			}
		} else if (c == '"') {
			size_t j = i + 1;
			while (j < end && data[j] != '"')
				j += data[j] == '\\' ? 2 : 1;
			if (top && top->obj && top->want_key) {
				top->koff = i + 1;
				top->klen = (j < end ? j : end) - (i + 1);
				top->has_key = true;
				top->want_key = false;
			}
			i = j;
		}
	}
	for (size_t d = 0; d < depth; d++) {
		const struct frame *f = &st[d];
		bool last = d + 1 == depth;
		int r = 0;
		if (f->obj && f->has_key && !(last && f->want_key))
			r = path_add_key(out, data + f->koff, f->klen);
		else if (!f->obj)
			r = ed_buf_addf(out, "[%zu]", f->idx);
		if (r)
			break;
	}
	free(st);
}

/* ------------------------------------------------------------------ */
/* reading and validating                                               */

struct fpref {
	struct ed_fp fp;
	size_t idx;
};

/* One of the document's arrays: where it starts and how many elements it has. */
struct span {
	size_t at; /* offset of its '[' in the document; SIZE_MAX: none seen */
	size_t n;
};

/*
 * A checked document: its bytes, the small members of its top level parsed,
 * and where its three arrays are. Array elements are parsed one at a time,
 * when checked and again when replayed, so memory stays at the size of the
 * document plus 24 bytes per item, however many items it has.
 */
struct ed_snapdoc {
	char *buf; /* the document */
	size_t len;
	json_t *head; /* every top-level member but the arrays below */
	struct span items, warnings, contents;
	char *name;
	char id[ED_SNAPDOC_ID_LEN + 1];
	char *env, *host, *role, *root_dir, *collector_host;
	char started_at[32];
	char finished_at[32];
};

/* Validation context: messages are "NAME: PATH: problem". */
struct vc {
	const char *name;
	struct ed_err *err;
	struct ed_buf path; /* scratch for building paths */
};

static enum ed_code bad(struct vc *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum ed_code bad(struct vc *v, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ed_err_set(v->err, ED_PARSE, "%s: %s: %s", v->name, path, msg);
}

static enum ed_code oom(struct vc *v)
{
	return ed_err_set(v->err, ED_NOMEM, "%s: out of memory", v->name);
}

/* base + "." + field into v->path; returns the path (valid until the next call). */
static const char *at(struct vc *v, const char *base, const char *field)
{
	ed_buf_reset(&v->path);
	if (ed_buf_adds(&v->path, base) || path_add_key(&v->path, field, strlen(field)))
		return base;
	return v->path.p;
}

/* A short, printable rendering of a JSON value for messages. */
static void show(const json_t *j, char *out, size_t cap)
{
	const char *t = json_is_object(j) ? "an object"
		      : json_is_array(j)  ? "an array"
		      : json_is_string(j) ? NULL
		      : json_is_integer(j) ? "an integer"
		      : json_is_real(j)   ? "a number with a fraction or exponent"
		      : json_is_boolean(j) ? "a boolean"
					  : "null";
	if (t) {
		snprintf(out, cap, "%s", t);
		return;
	}
	const char *s = json_string_value(j);
	size_t len = json_string_length(j), o = 0;
	o += (size_t)snprintf(out, cap, "\"");
	for (size_t i = 0; i < len && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 40) {
			o += (size_t)snprintf(out + o, cap - o, "...");
			break;
		}
		o += (size_t)snprintf(out + o, cap - o, c < 0x20 || c == 0x7f ? "\\x%02x" : "%c", c);
	}
	snprintf(out + o, cap - o, "\"");
}

/* Every member of o is one of the names in known (NULL-terminated)? */
static enum ed_code only_known(struct vc *v, json_t *o, const char *path,
			       const char *const *known)
{
	const char *k;
	json_t *val;
	json_object_foreach(o, k, val) {
		bool found = false;
		for (size_t i = 0; known[i] && !found; i++)
			found = strcmp(k, known[i]) == 0;
		if (!found) {
			struct ed_buf p = ED_BUF_INIT;
			enum ed_code rc;
			if (ed_buf_adds(&p, path) ||
			    path_add_key(&p, k, json_object_iter_key_len(json_object_key_to_iter(k))))
				rc = oom(v);
			else
				rc = bad(v, p.p, "unknown field");
			ed_buf_release(&p);
			return rc;
		}
	}
	return ED_OK;
}

/*
 * A string field: o[f] (UTF-8), or o[f_b64] (base64 of any bytes, decoded
 * into buf). *s is NULL when neither is there (an error when required).
 * NUL bytes are refused: items are C strings in the store.
 */
static enum ed_code get_str(struct vc *v, json_t *o, const char *path, const char *f,
			    bool required, struct ed_buf *buf, const char **s, size_t *len)
{
	char fb[40];
	snprintf(fb, sizeof(fb), "%s_b64", f);
	json_t *j = json_object_get(o, f), *jb = json_object_get(o, fb);
	char shown[128];
	*s = NULL;
	*len = 0;
	if (j && jb)
		return bad(v, at(v, path, fb), "only one of \"%s\" and \"%s\" may be given", f, fb);
	if (j) {
		if (!json_is_string(j)) {
			show(j, shown, sizeof(shown));
			return bad(v, at(v, path, f), "expected a string, got %s", shown);
		}
		*s = json_string_value(j);
		*len = json_string_length(j);
	} else if (jb) {
		if (!json_is_string(jb)) {
			show(jb, shown, sizeof(shown));
			return bad(v, at(v, path, fb), "expected a base64 string, got %s", shown);
		}
		int r = b64_decode(buf, json_string_value(jb), json_string_length(jb));
		if (r == -2)
			return oom(v);
		if (r)
			return bad(v, at(v, path, fb), "not valid base64 (RFC 4648, padded)");
		*s = buf->p;
		*len = buf->len;
	} else if (required) {
		return bad(v, path, "missing field \"%s\"", f);
	} else {
		return ED_OK;
	}
	if (memchr(*s, '\0', *len))
		return bad(v, at(v, path, j ? f : fb), "holds a NUL byte");
	return ED_OK;
}

/* An integer field in [min, max]; *present false when absent (an error when required). */
static enum ed_code get_int(struct vc *v, json_t *o, const char *path, const char *f,
			    bool required, json_int_t min, json_int_t max, json_int_t *out,
			    bool *present)
{
	json_t *j = json_object_get(o, f);
	char shown[128];
	*present = j != NULL;
	if (!j)
		return required ? bad(v, path, "missing field \"%s\"", f) : ED_OK;
	if (!json_is_integer(j)) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, path, f), "expected an integer, got %s", shown);
	}
	*out = json_integer_value(j);
	if (*out < min || *out > max)
		return bad(v, at(v, path, f), "%lld is out of range (%lld to %lld)",
			   (long long)*out, (long long)min, (long long)max);
	return ED_OK;
}

static enum ed_code get_fp(struct vc *v, json_t *o, const char *path, struct ed_fp *fp)
{
	json_t *j = json_object_get(o, "fingerprint");
	char shown[128];
	if (!j)
		return bad(v, path, "missing field \"fingerprint\"");
	if (!json_is_string(j) || !fp_parse(json_string_value(j), json_string_length(j), fp)) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, path, "fingerprint"), "expected 32 hex digits, got %s", shown);
	}
	return ED_OK;
}

static const char *const kinds[] = {ED_KIND_FILE, ED_KIND_CONFIG, ED_KIND_PACKAGE,
				    ED_KIND_SCHEMA, ED_KIND_SYSTEM};

/* Decoded strings of one item; reused from item to item. */
struct scratch {
	struct ed_buf key, value, owner, group, target, error;
	char *attrs; /* json_dumps result: free() */
};

static void scratch_release(struct scratch *sc)
{
	ed_buf_release(&sc->key);
	ed_buf_release(&sc->value);
	ed_buf_release(&sc->owner);
	ed_buf_release(&sc->group);
	ed_buf_release(&sc->target);
	ed_buf_release(&sc->error);
	free(sc->attrs);
	sc->attrs = NULL;
}

static const char *const item_fields[] = {
	"kind", "key", "key_b64", "fingerprint", "value", "value_b64", "ftype", "mode",
	"owner", "owner_b64", "group", "group_b64", "target", "target_b64", "size",
	"mtime_ns", "ctime_ns", "ino", "dev", "error", "error_b64", "attrs", NULL};

/*
 * Reads and checks items[i] into it (strings borrowed from o and sc). With
 * want_attrs, attrs is rendered as compact JSON text for the store.
 */
static enum ed_code item_of(struct vc *v, json_t *o, size_t i, struct scratch *sc,
			    bool want_attrs, struct ed_item *it)
{
	char path[48], shown[128];
	enum ed_code rc;
	size_t len;
	snprintf(path, sizeof(path), "$.items[%zu]", i);
	memset(it, 0, sizeof(*it));
	if (!json_is_object(o)) {
		show(o, shown, sizeof(shown));
		return bad(v, path, "expected an object, got %s", shown);
	}
	if ((rc = only_known(v, o, path, item_fields)))
		return rc;

	json_t *jk = json_object_get(o, "kind");
	if (!jk)
		return bad(v, path, "missing field \"kind\"");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && json_is_string(jk); k++)
		if (strcmp(json_string_value(jk), kinds[k]) == 0 &&
		    strlen(kinds[k]) == json_string_length(jk))
			it->kind = kinds[k];
	if (!it->kind) {
		show(jk, shown, sizeof(shown));
		return bad(v, at(v, path, "kind"),
			   "unknown kind %s (known: file, config, package, schema, system)", shown);
	}
	if ((rc = get_str(v, o, path, "key", true, &sc->key, &it->key, &it->key_len)))
		return rc;
	if (!it->key_len)
		return bad(v, at(v, path, json_object_get(o, "key") ? "key" : "key_b64"),
			   "is empty");
	if ((rc = get_fp(v, o, path, &it->fp)) ||
	    (rc = get_str(v, o, path, "value", false, &sc->value, &it->value, &len)) ||
	    (rc = get_str(v, o, path, "error", false, &sc->error, &it->error, &len)))
		return rc;

	json_t *jf = json_object_get(o, "ftype");
	if (jf) {
		it->ftype = json_is_string(jf) ? ed_ftype_parse(json_string_value(jf)) : ED_FT_NONE;
		if (it->ftype == ED_FT_NONE) {
			show(jf, shown, sizeof(shown));
			return bad(v, at(v, path, "ftype"),
				   "unknown file type %s (known: file, dir, symlink, fifo, socket, "
				   "char, block, other)",
				   shown);
		}
		json_int_t n;
		bool present;
		if ((rc = get_int(v, o, path, "mode", true, 0, 07777, &n, &present)))
			return rc;
		it->mode = (uint32_t)n;
		if ((rc = get_int(v, o, path, "size", true, 0, INT64_MAX, &n, &present)))
			return rc;
		it->size = n;
		if ((rc = get_int(v, o, path, "mtime_ns", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->mtime_ns = n;
		if ((rc = get_int(v, o, path, "ctime_ns", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->ctime_ns = n;
		if ((rc = get_int(v, o, path, "ino", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->ino = (uint64_t)n;
		if ((rc = get_int(v, o, path, "dev", true, INT64_MIN, INT64_MAX, &n, &present)))
			return rc;
		it->dev = (uint64_t)n;
		if ((rc = get_str(v, o, path, "owner", false, &sc->owner, &it->owner, &len)) ||
		    (rc = get_str(v, o, path, "group", false, &sc->group, &it->group, &len)) ||
		    (rc = get_str(v, o, path, "target", false, &sc->target, &it->target, &len)))
			return rc;
	} else {
		/* The store keeps file metadata only for items with a file type. */
		static const char *const file_only[] = {
			"mode", "owner", "owner_b64", "group", "group_b64", "target", "target_b64",
			"size", "mtime_ns", "ctime_ns", "ino", "dev", NULL};
		for (size_t k = 0; file_only[k]; k++)
			if (json_object_get(o, file_only[k]))
				return bad(v, at(v, path, file_only[k]),
					   "allowed only on an item with an \"ftype\"");
	}

	json_t *ja = json_object_get(o, "attrs");
	if (ja) {
		if (!json_is_object(ja)) {
			show(ja, shown, sizeof(shown));
			return bad(v, at(v, path, "attrs"), "expected an object, got %s", shown);
		}
		/*
		 * A secret config value is kept as a keyed fingerprint only, never
		 * as a value. (A secret file's value is its type, mode and size.)
		 */
		if (json_is_true(json_object_get(ja, "secret")) && it->value &&
		    strcmp(it->kind, ED_KIND_CONFIG) == 0)
			return bad(v, at(v, path, json_object_get(o, "value") ? "value" : "value_b64"),
				   "a secret config item (attrs.secret) carries no value");
		if (want_attrs) {
			free(sc->attrs);
			/* Compact, members in document order: what the collectors store. */
			if (!(sc->attrs = json_dumps(ja, JSON_COMPACT)))
				return oom(v);
			it->attrs = sc->attrs;
		} else {
			it->attrs = "{}"; /* present; the text is not needed to validate */
		}
	}
	return ED_OK;
}

static const char *const content_fields[] = {"fingerprint", "encoding", "data", NULL};

/* Reads and checks contents[i]: *data NULL for encoding "none". */
static enum ed_code content_of(struct vc *v, json_t *o, size_t i, struct ed_buf *buf,
			       struct ed_fp *fp, const char **data, size_t *len)
{
	char path[48], shown[128];
	enum ed_code rc;
	snprintf(path, sizeof(path), "$.contents[%zu]", i);
	*data = NULL;
	*len = 0;
	if (!json_is_object(o)) {
		show(o, shown, sizeof(shown));
		return bad(v, path, "expected an object, got %s", shown);
	}
	if ((rc = only_known(v, o, path, content_fields)) || (rc = get_fp(v, o, path, fp)))
		return rc;
	json_t *je = json_object_get(o, "encoding"), *jd = json_object_get(o, "data");
	if (!je)
		return bad(v, path, "missing field \"encoding\"");
	bool none = json_is_string(je) && strcmp(json_string_value(je), "none") == 0;
	bool b64 = json_is_string(je) && strcmp(json_string_value(je), "base64") == 0;
	if (!none && !b64) {
		show(je, shown, sizeof(shown));
		return bad(v, at(v, path, "encoding"), "expected \"base64\" or \"none\", got %s",
			   shown);
	}
	if (none) {
		if (jd)
			return bad(v, at(v, path, "data"), "not allowed with encoding \"none\"");
		return ED_OK;
	}
	if (!jd)
		return bad(v, path, "missing field \"data\"");
	if (!json_is_string(jd)) {
		show(jd, shown, sizeof(shown));
		return bad(v, at(v, path, "data"), "expected a base64 string, got %s", shown);
	}
	int r = b64_decode(buf, json_string_value(jd), json_string_length(jd));
	if (r == -2)
		return oom(v);
	if (r)
		return bad(v, at(v, path, "data"), "not valid base64 (RFC 4648, padded)");
	if (buf->len > CONTENT_MAX)
		return bad(v, at(v, path, "data"), "larger than %zu bytes", CONTENT_MAX);
	*data = buf->p ? buf->p : ""; /* empty, but kept: not the NULL of "none" */
	*len = buf->len;
	return ED_OK;
}

static int cmp_fp(const void *x, const void *y)
{
	return memcmp(((const struct ed_fp *)x)->b, ((const struct ed_fp *)y)->b, ED_FP_LEN);
}

static int cmp_fpref(const void *x, const void *y)
{
	const struct fpref *a = x, *b = y;
	int c = memcmp(a->fp.b, b->fp.b, ED_FP_LEN);
	return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

/* A copy of a string field of the head (decoded when _b64). */
static enum ed_code head_str(struct vc *v, json_t *o, const char *path, const char *f,
			     bool required, char **out)
{
	struct ed_buf b = ED_BUF_INIT;
	const char *s;
	size_t len;
	enum ed_code rc = get_str(v, o, path, f, required, &b, &s, &len);
	if (!rc && s && !(*out = ed_strndup(s, len)))
		rc = oom(v);
	ed_buf_release(&b);
	return rc;
}

static const char *const head_fields[] = {
	"format", "id", "env", "env_b64", "host", "host_b64", "role", "role_b64", "started_at",
	"finished_at", "collector", "warnings", "items", "contents", NULL};
static const char *const collector_fields[] = {"version", "host", "host_b64", "root",
					       "root_b64", NULL};

static enum ed_code get_time(struct vc *v, json_t *o, const char *f, char out[32])
{
	json_t *j = json_object_get(o, f);
	char shown[128];
	if (!j)
		return bad(v, "$", "missing field \"%s\"", f);
	if (!json_is_string(j) || !iso_valid(json_string_value(j), json_string_length(j))) {
		show(j, shown, sizeof(shown));
		return bad(v, at(v, "$", f), "expected a UTC time as YYYY-MM-DDTHH:MM:SSZ, got %s",
			   shown);
	}
	snprintf(out, 32, "%s", json_string_value(j));
	return ED_OK;
}

/* Checks the top level, but for the arrays' elements. */
static enum ed_code check_head(struct vc *v, struct ed_snapdoc *d)
{
	json_t *root = d->head;
	char shown[128];
	enum ed_code rc;
	/* The format first: a newer format may well have fields this one does not know. */
	json_t *jf = json_object_get(root, "format");
	if (!jf)
		return bad(v, "$", "missing field \"format\" (not an %s document?)",
			   ED_SNAPDOC_FORMAT);
	if (!json_is_string(jf) || strcmp(json_string_value(jf), ED_SNAPDOC_FORMAT) != 0) {
		show(jf, shown, sizeof(shown));
		return bad(v, "$.format", "expected \"%s\", got %s%s", ED_SNAPDOC_FORMAT, shown,
			   json_is_string(jf) &&
				   strncmp(json_string_value(jf), "envdrift.snapshot/", 18) == 0
				   ? " (written by a newer envdrift? upgrade this one)"
				   : "");
	}
	if ((rc = only_known(v, root, "$", head_fields)))
		return rc;
	json_t *ji = json_object_get(root, "id");
	if (!ji)
		return bad(v, "$", "missing field \"id\"");
	if (!json_is_string(ji) || !id_parse(json_string_value(ji), json_string_length(ji), d->id)) {
		show(ji, shown, sizeof(shown));
		return bad(v, "$.id", "expected a UUID (8-4-4-4-12 hex digits), got %s", shown);
	}
	if ((rc = head_str(v, root, "$", "env", true, &d->env)) ||
	    (rc = head_str(v, root, "$", "host", true, &d->host)) ||
	    (rc = head_str(v, root, "$", "role", false, &d->role)))
		return rc;
	if (!*d->env)
		return bad(v, at(v, "$", json_object_get(root, "env") ? "env" : "env_b64"), "is empty");
	if (!*d->host)
		return bad(v, at(v, "$", json_object_get(root, "host") ? "host" : "host_b64"),
			   "is empty");
	if (d->role && (strlen(d->role) > 200 || strpbrk(d->role, "\n\r\t")))
		return bad(v, at(v, "$", json_object_get(root, "role") ? "role" : "role_b64"),
			   "at most 200 bytes, no line breaks or tabs (as collect --role)");
	if ((rc = get_time(v, root, "started_at", d->started_at)) ||
	    (rc = get_time(v, root, "finished_at", d->finished_at)))
		return rc;
	if (strcmp(d->finished_at, d->started_at) < 0)
		return bad(v, "$.finished_at", "%s is before started_at %s", d->finished_at,
			   d->started_at);

	json_t *jc = json_object_get(root, "collector");
	if (!jc)
		return bad(v, "$", "missing field \"collector\"");
	if (!json_is_object(jc)) {
		show(jc, shown, sizeof(shown));
		return bad(v, "$.collector", "expected an object, got %s", shown);
	}
	json_t *jv = json_object_get(jc, "version");
	if ((rc = only_known(v, jc, "$.collector", collector_fields)))
		return rc;
	if (!jv)
		return bad(v, "$.collector", "missing field \"version\"");
	if (!json_is_string(jv)) {
		show(jv, shown, sizeof(shown));
		return bad(v, "$.collector.version", "expected a string, got %s", shown);
	}
	if ((rc = head_str(v, jc, "$.collector", "host", false, &d->collector_host)) ||
	    (rc = head_str(v, jc, "$.collector", "root", false, &d->root_dir)))
		return rc;

	const struct {
		const char *name;
		const struct span *sp;
	} arrays[] = {{"warnings", &d->warnings}, {"items", &d->items}, {"contents", &d->contents}};
	for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
		json_t *j = json_object_get(root, arrays[k].name); /* there only when not an array */
		if (j) {
			show(j, shown, sizeof(shown));
			return bad(v, at(v, "$", arrays[k].name), "expected an array, got %s", shown);
		}
		if (arrays[k].sp->at == SIZE_MAX)
			return bad(v, "$", "missing field \"%s\"", arrays[k].name);
	}
	return ED_OK;
}

/* Checks warnings[i]: a string, or {"b64": ...} decoded into buf. *msg is NUL-terminated. */
static enum ed_code warning_of(struct vc *v, json_t *w, size_t i, struct ed_buf *buf,
			       const char **msg)
{
	static const char *const warn_fields[] = {"b64", NULL};
	char path[48], shown[128];
	enum ed_code rc;
	snprintf(path, sizeof(path), "$.warnings[%zu]", i);
	if (json_is_string(w)) {
		*msg = json_string_value(w);
		return ED_OK;
	}
	if (!json_is_object(w)) {
		show(w, shown, sizeof(shown));
		return bad(v, path, "expected a string or {\"b64\": ...}, got %s", shown);
	}
	if ((rc = only_known(v, w, path, warn_fields)))
		return rc;
	json_t *jb = json_object_get(w, "b64");
	if (!jb)
		return bad(v, path, "missing field \"b64\"");
	if (!json_is_string(jb)) {
		show(jb, shown, sizeof(shown));
		return bad(v, at(v, path, "b64"), "expected a base64 string, got %s", shown);
	}
	int r = b64_decode(buf, json_string_value(jb), json_string_length(jb));
	if (r)
		return r == -2 ? oom(v) : bad(v, at(v, path, "b64"), "not valid base64 (RFC 4648, padded)");
	if (memchr(buf->p, '\0', buf->len))
		return bad(v, at(v, path, "b64"), "holds a NUL byte");
	*msg = buf->p;
	return ED_OK;
}

/* --- the scanner: the top level by hand, each value by jansson --- */

struct scan {
	const char *p; /* the document */
	size_t len;
	size_t pos;
	const char *name; /* for messages */
	struct ed_err *err;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_blanks(struct scan *s)
{
	while (s->pos < s->len && is_blank(s->p[s->pos]))
		s->pos++;
}

/* "NAME: PATH: not valid JSON: WHAT (line L, column C)" for the byte at offset off. */
static enum ed_code syntax(struct scan *s, size_t off, const char *path, const char *what)
{
	size_t line = 1, bol = 0;
	for (size_t i = 0; i < off && i < s->len; i++)
		if (s->p[i] == '\n') {
			line++;
			bol = i + 1;
		}
	return ed_err_set(s->err, ED_PARSE, "%s: %s: not valid JSON: %s (line %zu, column %zu)",
			  s->name, path, what, line, off - bol + 1);
}

static enum ed_code syntax_at_byte(struct scan *s, const char *path, const char *expected)
{
	char what[96];
	if (s->pos >= s->len)
		snprintf(what, sizeof(what), "%s near end of file", expected);
	else if ((unsigned char)s->p[s->pos] < 0x20 || (unsigned char)s->p[s->pos] >= 0x7f)
		snprintf(what, sizeof(what), "%s near byte 0x%02x", expected,
			 (unsigned char)s->p[s->pos]);
	else
		snprintf(what, sizeof(what), "%s near '%c'", expected, s->p[s->pos]);
	return syntax(s, s->pos, path, what);
}

/*
 * Parses the JSON value at the current position (after blanks) and moves past
 * it. Objects and arrays are read by jansson up to their closing bracket; a
 * string, number or literal is measured here first, then read by jansson.
 */
static enum ed_code scan_value(struct scan *s, const char *path, json_t **out)
{
	static const char ends[] = " \t\r\n,:[]{}\"";
	json_error_t je;
	size_t flags = JSON_REJECT_DUPLICATES, n;
	*out = NULL;
	skip_blanks(s);
	size_t start = s->pos;
	if (start >= s->len)
		return syntax_at_byte(s, path, "a value expected");
	char c = s->p[start];
	if (c == '{' || c == '[') {
		flags |= JSON_DISABLE_EOF_CHECK;
		n = s->len - start;
	} else {
		size_t e = start;
		flags |= JSON_DECODE_ANY;
		if (c == '"') {
			for (e++; e < s->len && s->p[e] != '"'; e++)
				if (s->p[e] == '\\')
					e++;
			e = e < s->len ? e + 1 : s->len;
		} else {
			while (e < s->len && !memchr(ends, s->p[e], sizeof(ends) - 1))
				e++;
		}
		if (e == start)
			return syntax_at_byte(s, path, "a value expected");
		n = e - start;
	}
	*out = json_loadb(s->p + start, n, flags, &je);
	if (!*out) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
		/* The path inside the value, after the value's own path. */
		struct ed_buf full = ED_BUF_INIT, sub = ED_BUF_INIT;
		size_t at_off = (size_t)je.position < n ? (size_t)je.position : n;
		path_at(s->p + start, n, at_off, &sub);
		ed_buf_adds(&full, path);
		ed_buf_adds(&full, ed_buf_str(&sub) + (sub.len ? 1 : 0));
		enum ed_code rc = syntax(s, start + at_off, full.p ? full.p : path, je.text);
		ed_buf_release(&full);
		ed_buf_release(&sub);
		return rc;
	}
	s->pos = start + ((flags & JSON_DISABLE_EOF_CHECK) ? (size_t)je.position : n);
	return ED_OK;
}

/* What the first pass keeps of the arrays' elements, to check them as a whole. */
struct body {
	struct vc v;          /* element problems go to .first */
	struct ed_err first;  /* the first element found wrong */
	bool failed;
	struct scratch sc;
	struct ed_buf buf;
	struct fpref *keys;   /* XXH3-128 of kind NUL key, and the item's index */
	size_t nkeys, capkeys;
	struct ed_fp *files;  /* fingerprints of file items */
	size_t nfiles, capfiles;
	struct fpref *cfps;   /* fingerprints of contents, and their index */
	size_t ncfps, capcfps;
};

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 1024;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

enum which { ITEMS, WARNINGS, CONTENTS };

/* Checks one element; a problem is kept in b->first and the scan goes on (for syntax errors). */
static enum ed_code check_elem(struct body *b, enum which w, json_t *e, size_t i)
{
	enum ed_code rc = ED_OK;
	if (b->failed)
		return ED_OK;
	if (w == ITEMS) {
		struct ed_item it;
		if (!(rc = item_of(&b->v, e, i, &b->sc, false, &it))) {
			struct ed_fp h;
			ed_buf_reset(&b->buf);
			if (ed_buf_adds(&b->buf, it.kind) || ed_buf_addc(&b->buf, '\0') ||
			    ed_buf_add(&b->buf, it.key, it.key_len) ||
			    !grow((void **)&b->keys, &b->capkeys, b->nkeys, sizeof(*b->keys)) ||
			    !grow((void **)&b->files, &b->capfiles, b->nfiles, sizeof(*b->files)))
				return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
			ed_fp_of(b->buf.p, b->buf.len, &h);
			b->keys[b->nkeys++] = (struct fpref){h, i};
			if (strcmp(it.kind, ED_KIND_FILE) == 0)
				b->files[b->nfiles++] = it.fp;
		}
	} else if (w == WARNINGS) {
		const char *msg;
		rc = warning_of(&b->v, e, i, &b->buf, &msg);
	} else {
		struct ed_fp fp;
		const char *data;
		size_t len;
		if (!(rc = content_of(&b->v, e, i, &b->buf, &fp, &data, &len))) {
			if (!grow((void **)&b->cfps, &b->capcfps, b->ncfps, sizeof(*b->cfps)))
				return ed_err_set(&b->first, ED_NOMEM, "%s: out of memory", b->v.name);
			b->cfps[b->ncfps++] = (struct fpref){fp, i};
		}
	}
	if (rc == ED_NOMEM)
		return rc;
	if (rc)
		b->failed = true;
	return ED_OK;
}

/* Reads an array of the document, checking each element as it goes. */
static enum ed_code scan_array(struct scan *s, struct body *b, enum which w, const char *name,
			       struct span *sp)
{
	char path[64];
	enum ed_code rc;
	sp->at = s->pos++; /* the '[' */
	sp->n = 0;
	skip_blanks(s);
	if (s->pos < s->len && s->p[s->pos] == ']') {
		s->pos++;
		return ED_OK;
	}
	for (;;) {
		json_t *e = NULL;
		snprintf(path, sizeof(path), "$.%s[%zu]", name, sp->n);
		if ((rc = scan_value(s, path, &e)))
			return rc;
		rc = check_elem(b, w, e, sp->n);
		json_decref(e);
		if (rc) {
			*s->err = b->first;
			return rc;
		}
		sp->n++;
		skip_blanks(s);
		if (s->pos < s->len && s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->pos < s->len && s->p[s->pos] == ']') {
			s->pos++;
			return ED_OK;
		}
		snprintf(path, sizeof(path), "$.%s", name);
		return syntax_at_byte(s, path, "',' or ']' expected");
	}
}

/* The first pass: the whole document's syntax, the top level into d->head, the arrays checked. */
static enum ed_code scan_doc(struct scan *s, struct ed_snapdoc *d, struct body *b)
{
	enum ed_code rc = ED_OK;
	json_t *key = NULL;
	struct ed_buf path = ED_BUF_INIT;
	char shown[128];
	skip_blanks(s);
	if (s->pos >= s->len || s->p[s->pos] != '{') {
		json_t *j = NULL;
		if (s->pos >= s->len)
			return syntax_at_byte(s, "$", "'{' expected");
		if ((rc = scan_value(s, "$", &j)))
			return rc;
		show(j, shown, sizeof(shown));
		json_decref(j);
		return ed_err_set(s->err, ED_PARSE, "%s: $: expected an object, got %s", s->name,
				  shown);
	}
	if (!(d->head = json_object()))
		return ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
	s->pos++;
	skip_blanks(s);
	if (s->pos < s->len && s->p[s->pos] == '}') {
		s->pos++;
		goto end;
	}
	for (;;) {
		skip_blanks(s);
		size_t kpos = s->pos;
		if (s->pos >= s->len || s->p[s->pos] != '"') {
			rc = syntax_at_byte(s, "$", "a string (a member's name) expected");
			goto out;
		}
		if ((rc = scan_value(s, "$", &key)))
			goto out;
		const char *k = json_string_value(key);
		ed_buf_reset(&path);
		if (ed_buf_addc(&path, '$') || path_add_key(&path, k, json_string_length(key))) {
			rc = ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
			goto out;
		}
		struct span *sp = strcmp(k, "items") == 0	 ? &d->items
				  : strcmp(k, "warnings") == 0 ? &d->warnings
				  : strcmp(k, "contents") == 0 ? &d->contents
							       : NULL;
		enum which w = sp == &d->items ? ITEMS : sp == &d->warnings ? WARNINGS : CONTENTS;
		if ((sp && sp->at != SIZE_MAX) || json_object_get(d->head, k)) {
			rc = syntax(s, kpos, path.p, "duplicate object key");
			goto out;
		}
		skip_blanks(s);
		if (s->pos >= s->len || s->p[s->pos] != ':') {
			rc = syntax_at_byte(s, path.p, "':' expected");
			goto out;
		}
		s->pos++;
		skip_blanks(s);
		if (sp && s->pos < s->len && s->p[s->pos] == '[') {
			if ((rc = scan_array(s, b, w, k, sp)))
				goto out;
		} else {
			json_t *val = NULL;
			if ((rc = scan_value(s, path.p, &val)))
				goto out;
			/* _new: head takes val's reference */
			if (json_object_set_new(d->head, k, val)) {
				rc = ed_err_set(s->err, ED_NOMEM, "%s: out of memory", s->name);
				goto out;
			}
		}
		json_decref(key);
		key = NULL;
		skip_blanks(s);
		if (s->pos < s->len && s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->pos < s->len && s->p[s->pos] == '}') {
			s->pos++;
			break;
		}
		rc = syntax_at_byte(s, "$", "',' or '}' expected");
		goto out;
	}
end:
	skip_blanks(s);
	if (s->pos < s->len)
		rc = syntax_at_byte(s, "$", "end of file expected");
out:
	json_decref(key);
	ed_buf_release(&path);
	return rc;
}

/* After the first pass: unique (kind, key) pairs, contents that belong to file items, once each. */
static enum ed_code check_body(struct vc *v, struct body *b)
{
	char path[48];
	if (b->nkeys > 1) /* qsort and bsearch take no NULL, even for 0 elements */
		qsort(b->keys, b->nkeys, sizeof(*b->keys), cmp_fpref);
	/* Of all repeats, report the one that comes first in the document. */
	size_t dup = SIZE_MAX, orig = 0;
	for (size_t i = 1; i < b->nkeys; i++)
		if (memcmp(b->keys[i].fp.b, b->keys[i - 1].fp.b, ED_FP_LEN) == 0 &&
		    b->keys[i].idx < dup) {
			/* Sorted by index within a run: the previous one is the run's first. */
			dup = b->keys[i].idx;
			orig = b->keys[i - 1].idx;
		}
	if (dup != SIZE_MAX) {
		snprintf(path, sizeof(path), "$.items[%zu]", dup);
		return bad(v, path, "the same (kind, key) as $.items[%zu]", orig);
	}
	if (b->nfiles > 1)
		qsort(b->files, b->nfiles, sizeof(*b->files), cmp_fp);
	for (size_t i = 0; i < b->ncfps; i++)
		if (!b->nfiles ||
		    !bsearch(&b->cfps[i].fp, b->files, b->nfiles, sizeof(*b->files), cmp_fp)) {
			snprintf(path, sizeof(path), "$.contents[%zu].fingerprint", b->cfps[i].idx);
			return bad(v, path, "no file item has this fingerprint");
		}
	if (b->ncfps > 1)
		qsort(b->cfps, b->ncfps, sizeof(*b->cfps), cmp_fpref);
	for (size_t i = 1; i < b->ncfps; i++)
		if (memcmp(b->cfps[i].fp.b, b->cfps[i - 1].fp.b, ED_FP_LEN) == 0 &&
		    b->cfps[i].idx < dup) {
			dup = b->cfps[i].idx;
			orig = b->cfps[i - 1].idx;
		}
	if (dup != SIZE_MAX) {
		snprintf(path, sizeof(path), "$.contents[%zu].fingerprint", dup);
		return bad(v, path, "the same fingerprint as $.contents[%zu]", orig);
	}
	return ED_OK;
}

/* Parses the document in buf (len bytes, malloc'd), which *out then owns, or is freed. */
static enum ed_code parse_owned(char *buf, size_t len, const char *name, struct ed_snapdoc **out,
				struct ed_err *err)
{
	struct ed_snapdoc *d = calloc(1, sizeof(*d));
	struct body b = {.v = {.name = name, .err = NULL, .path = ED_BUF_INIT}};
	struct vc v = {.name = name, .err = err, .path = ED_BUF_INIT};
	enum ed_code rc = ED_OK;
	b.v.err = &b.first;
	*out = NULL;
	if (!d || !(d->name = strdup(name))) {
		free(d);
		free(buf);
		return oom(&v);
	}
	d->buf = buf;
	d->len = len;
	d->items.at = d->warnings.at = d->contents.at = SIZE_MAX;
	struct scan s = {.p = buf, .len = len, .name = name, .err = err};
	/* Syntax first, then the top level (the format above all), then the elements. */
	if ((rc = scan_doc(&s, d, &b)) || (rc = check_head(&v, d)))
		goto out;
	if (b.failed) {
		*err = b.first;
		rc = b.first.code;
		goto out;
	}
	if ((rc = check_body(&v, &b)))
		goto out;
	*out = d;
	d = NULL;
out:
	scratch_release(&b.sc);
	ed_buf_release(&b.buf);
	ed_buf_release(&b.v.path);
	ed_buf_release(&v.path);
	free(b.keys);
	free(b.files);
	free(b.cfps);
	ed_snapdoc_free(d);
	return rc;
}

enum ed_code ed_snapdoc_parse(const char *data, size_t len, const char *name,
			      struct ed_snapdoc **out, struct ed_err *err)
{
	*out = NULL;
	if (len > ED_SNAPDOC_MAX_BYTES)
		return ed_err_set(err, ED_TOOBIG, "%s: larger than %zu MiB", name,
				  ED_SNAPDOC_MAX_BYTES >> 20);
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", name);
	if (len)
		memcpy(copy, data, len);
	return parse_owned(copy, len, name, out, err);
}

enum ed_code ed_snapdoc_load(const char *path, struct ed_snapdoc **out, struct ed_err *err)
{
	bool std = strcmp(path, "-") == 0;
	const char *name = std ? STDIN_NAME : path;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	enum ed_code rc = ED_OK;
	struct stat sb;
	int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	*out = NULL;
	if (fd < 0)
		return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO, "%s: %s", name,
				  strerror(errno));
	if (fstat(fd, &sb) != 0) {
		rc = ed_err_set(err, ED_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		rc = ed_err_set(err, ED_IO, "%s: is a directory", name);
		goto out;
	}
	if (S_ISREG(sb.st_mode)) {
		if ((uint64_t)sb.st_size > ED_SNAPDOC_MAX_BYTES) {
			rc = ed_err_set(err, ED_TOOBIG, "%s: larger than %zu MiB", name,
					ED_SNAPDOC_MAX_BYTES >> 20);
			goto out;
		}
		cap = (size_t)sb.st_size + 1; /* +1: room for the read that sees the end */
		if (!(buf = malloc(cap))) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", name);
			goto out;
		}
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 1 << 16;
			if (ncap > ED_SNAPDOC_MAX_BYTES + 1)
				ncap = ED_SNAPDOC_MAX_BYTES + 1;
			if (ncap <= len) {
				rc = ed_err_set(err, ED_TOOBIG, "%s: larger than %zu MiB", name,
						ED_SNAPDOC_MAX_BYTES >> 20);
				goto out;
			}
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", name);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ed_err_set(err, ED_IO, "%s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = parse_owned(buf, len, name, out, err);
	buf = NULL; /* parse_owned took it */
out:
	free(buf);
	if (!std)
		close(fd);
	return rc;
}

void ed_snapdoc_free(struct ed_snapdoc *d)
{
	if (!d)
		return;
	json_decref(d->head);
	free(d->buf);
	free(d->name);
	free(d->env);
	free(d->host);
	free(d->role);
	free(d->root_dir);
	free(d->collector_host);
	free(d);
}

const char *ed_snapdoc_id(const struct ed_snapdoc *d)
{
	return d->id;
}

const char *ed_snapdoc_env(const struct ed_snapdoc *d)
{
	return d->env;
}

const char *ed_snapdoc_host(const struct ed_snapdoc *d)
{
	return d->host;
}

size_t ed_snapdoc_nitems(const struct ed_snapdoc *d)
{
	return d->items.n;
}

/* The elements of a checked array, one at a time: *e is NULL after the last. */
struct elems {
	struct scan s;
	size_t i, n;
};

static void elems_begin(struct elems *it, const struct ed_snapdoc *d, const struct span *sp,
			struct ed_err *err)
{
	it->s = (struct scan){.p = d->buf, .len = d->len, .pos = sp->at + 1, .name = d->name,
			      .err = err};
	it->i = 0;
	it->n = sp->n;
}

static enum ed_code elems_next(struct elems *it, json_t **e)
{
	*e = NULL;
	if (it->i == it->n)
		return ED_OK;
	if (it->i++) {
		skip_blanks(&it->s);
		it->s.pos++; /* the ',' */
	}
	return scan_value(&it->s, "$", e);
}

enum ed_code ed_snapdoc_replay(const struct ed_snapdoc *d, struct ed_sink *sink,
			       struct ed_err *err)
{
	struct vc v = {.name = d->name, .err = err, .path = ED_BUF_INIT};
	struct scratch sc = {0};
	struct ed_buf b = ED_BUF_INIT;
	struct elems it;
	json_t *e = NULL;
	enum ed_code rc = ED_OK;

	elems_begin(&it, d, &d->items, err);
	while (!rc && !(rc = elems_next(&it, &e)) && e) {
		struct ed_item item;
		if (!(rc = item_of(&v, e, it.i - 1, &sc, true, &item)))
			rc = sink->emit(sink, &item, err);
		json_decref(e);
	}
	elems_begin(&it, d, &d->warnings, err);
	while (!rc && !(rc = elems_next(&it, &e)) && e) {
		const char *msg;
		if (!(rc = warning_of(&v, e, it.i - 1, &b, &msg)))
			sink->warn(sink, msg);
		json_decref(e);
	}
	elems_begin(&it, d, &d->contents, err);
	while (!rc && sink->content && !(rc = elems_next(&it, &e)) && e) {
		struct ed_fp fp;
		const char *data;
		size_t len;
		if (!(rc = content_of(&v, e, it.i - 1, &b, &fp, &data, &len)))
			rc = sink->content(sink, &fp, data, len, err);
		json_decref(e);
	}
	scratch_release(&sc);
	ed_buf_release(&b);
	ed_buf_release(&v.path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the store                                                            */

/* The snapshot holding document id, if any. */
static enum ed_code find_doc(struct ed_store *st, const char *id, int64_t *snap, bool *found,
			     struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	*found = false;
	if (sqlite3_prepare_v2(ed_store_db(st), "SELECT id FROM snapshots WHERE uuid = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return ed_store_fail(st, "looking up a document id", err);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		*snap = sqlite3_column_int64(s, 0);
		*found = true;
	} else if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "looking up a document id", err);
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * ed_snapshot_commit() sets finished_at to the time of the commit; a pushed
 * snapshot keeps the time its collection finished. This trigger, private to
 * this connection, puts that time back within the commit's own transaction,
 * for the snapshots listed in the temporary table.
 */
static const char finish_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS ed_ingest_times ("
	" snapshot_id INTEGER PRIMARY KEY, finished_at TEXT NOT NULL);"
	"CREATE TEMP TRIGGER IF NOT EXISTS ed_ingest_finished"
	" AFTER UPDATE OF status ON main.snapshots"
	" WHEN new.status = 'complete'"
	" AND new.id IN (SELECT snapshot_id FROM temp.ed_ingest_times)"
	" BEGIN"
	" UPDATE snapshots SET finished_at = (SELECT finished_at FROM temp.ed_ingest_times"
	" WHERE snapshot_id = new.id) WHERE id = new.id;"
	" END;";

enum ed_code ed_snapdoc_ingest(struct ed_store *st, const struct ed_snapdoc *d, int64_t *id,
			       bool *already, int64_t *items, int64_t *warnings,
			       struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	struct ed_snapwriter *w = NULL;
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	bool found = false;
	*already = false;
	if ((rc = find_doc(st, d->id, id, &found, err)))
		return rc;
	if (found) {
		*already = true;
		return ED_OK;
	}
	if (sqlite3_exec(db, finish_sql, NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "preparing to ingest", err);
	if ((rc = ed_snapshot_begin(st, d->env, d->host, d->role ? d->role : "", d->root_dir, &w,
				    err)))
		return rc;
	int64_t sid = ed_snapshot_id(w);

	/* In the snapshot's own transaction: all of it becomes visible at commit, or none. */
	if (sqlite3_prepare_v2(db,
			       "UPDATE snapshots SET uuid = ?1, started_at = ?2,"
			       " collector_host = coalesce(?3, collector_host) WHERE id = ?4",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "storing the document id", err);
		goto fail;
	}
	sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d->started_at, -1, SQLITE_STATIC);
	if (d->collector_host)
		sqlite3_bind_text(s, 3, d->collector_host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sid);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT) {
			/*
			 * Another ingest of the same document won the race. Ours is
			 * a duplicate, not a failed collection: its row (without
			 * items, rolled back) goes, so the store shows no trace.
			 */
			sqlite3_finalize(s);
			s = NULL;
			ed_snapshot_abort(w);
			w = NULL;
			if (sqlite3_prepare_v2(db,
					       "DELETE FROM snapshots WHERE id = ? AND status = 'failed'",
					       -1, &s, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(s, 1, sid);
				sqlite3_step(s); /* best effort: a 'failed' row is harmless */
			}
			sqlite3_finalize(s);
			s = NULL;
			if ((rc = find_doc(st, d->id, id, &found, err)))
				return rc;
			*already = found;
			return found ? ED_OK
				     : ed_err_set(err, ED_STORE, "store %s: document id %s: conflict",
						  ed_store_path(st), d->id);
		}
		rc = ed_store_fail(st, "storing the document id", err);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO temp.ed_ingest_times (snapshot_id, finished_at)"
			       " VALUES (?, ?)",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "storing the finish time", err);
		goto fail;
	}
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_text(s, 2, d->finished_at, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = ed_store_fail(st, "storing the finish time", err);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;

	if ((rc = ed_snapdoc_replay(d, ed_snapshot_sink(w), err)))
		goto fail;
	rc = ed_snapshot_commit(w, items, warnings, err);
	w = NULL;
	if (rc)
		return rc;
	*id = sid;
	/* Tidy up; the row could do no harm (its snapshot is no longer 'running'). */
	sqlite3_exec(db, "DELETE FROM temp.ed_ingest_times", NULL, NULL, NULL);
	return ED_OK;
fail:
	sqlite3_finalize(s);
	ed_snapshot_abort(w);
	return rc;
}

enum ed_code ed_snapdoc_id_of(struct ed_store *st, int64_t snap_id,
			      char out[ED_SNAPDOC_ID_LEN + 1], struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL, *u = NULL;
	enum ed_code rc = ED_OK;
	char fresh[ED_SNAPDOC_ID_LEN + 1];
	if (sqlite3_prepare_v2(db, "SELECT uuid FROM snapshots WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return ed_store_fail(st, "reading a document id", err);
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, snap_id);
		int r = sqlite3_step(s);
		if (r == SQLITE_DONE) {
			rc = ed_err_set(err, ED_NOTFOUND, "store %s has no snapshot @%lld",
					ed_store_path(st), (long long)snap_id);
			goto out;
		}
		if (r != SQLITE_ROW) {
			rc = ed_store_fail(st, "reading a document id", err);
			goto out;
		}
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (t) {
			if (!id_parse(t, (size_t)sqlite3_column_bytes(s, 0), out))
				rc = ed_err_set(err, ED_STORE,
						"store %s: snapshot @%lld has a malformed document id",
						ed_store_path(st), (long long)snap_id);
			goto out;
		}
		if (pass)
			break;
		sqlite3_reset(s);
		if (sqlite3_db_readonly(db, "main") == 1) {
			rc = ed_err_set(err, ED_STORE,
					"store %s: snapshot @%lld has no document id yet, and the "
					"store is open read-only",
					ed_store_path(st), (long long)snap_id);
			goto out;
		}
		/* Recorded first, so every later export of this snapshot carries the same id. */
		if ((rc = ed_snapdoc_id_new(fresh, err)))
			goto out;
		if (sqlite3_prepare_v2(db,
				       "UPDATE snapshots SET uuid = ? WHERE id = ? AND uuid IS NULL",
				       -1, &u, NULL) != SQLITE_OK) {
			rc = ed_store_fail(st, "recording a document id", err);
			goto out;
		}
		sqlite3_bind_text(u, 1, fresh, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, snap_id);
		if (sqlite3_step(u) != SQLITE_DONE) {
			rc = ed_store_fail(st, "recording a document id", err);
			goto out;
		}
	}
	rc = ed_err_set(err, ED_STORE, "store %s: snapshot @%lld: the document id did not stick",
			ed_store_path(st), (long long)snap_id);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

/* Copies a nullable text column; false when out of memory. */
static bool col_dup(sqlite3_stmt *s, int col, char **out)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	*out = NULL;
	return !t || (*out = ed_strndup(t, (size_t)sqlite3_column_bytes(s, col)));
}

static enum ed_code export_items(struct ed_store *st, const struct ed_snapref *ref,
				 struct ed_sink *sink, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	struct ed_buf k = ED_BUF_INIT;
	int r = ed_items_prepare(ed_store_db(st), NULL,
				 "kind, key, fingerprint, value, ftype, mode, owner, grp, target,"
				 " size, mtime_ns, ctime_ns, ino, dev, error, attrs",
				 NULL, NULL, ref->id, ref->base, &s);
	if (r == SQLITE_NOMEM)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (r != SQLITE_OK)
		return ed_store_fail(st, "reading items", err);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_item it = {0};
		const char *ft = (const char *)sqlite3_column_text(s, 4);
		it.kind = (const char *)sqlite3_column_text(s, 0);
		it.key = (const char *)sqlite3_column_text(s, 1);
		it.key_len = (size_t)sqlite3_column_bytes(s, 1);
		const void *fp = sqlite3_column_blob(s, 2);
		int fplen = sqlite3_column_bytes(s, 2);
		it.ftype = ed_ftype_parse(ft);
		if (!it.kind || !it.key || fplen != ED_FP_LEN || (ft && it.ftype == ED_FT_NONE)) {
			ed_buf_reset(&k);
			ed_buf_add_utf8_escaped(&k, it.key ? it.key : "", it.key ? it.key_len : 0);
			rc = ed_err_set(err, ED_STORE,
					"store %s: snapshot @%lld: item %s %s is malformed "
					"(fingerprint of %d bytes, file type '%s')",
					ed_store_path(st), (long long)ref->id,
					it.kind ? it.kind : "?", ed_buf_str(&k), fplen, ft ? ft : "");
			goto out;
		}
		memcpy(it.fp.b, fp, ED_FP_LEN);
		it.value = (const char *)sqlite3_column_text(s, 3);
		it.mode = (uint32_t)sqlite3_column_int64(s, 5);
		it.owner = (const char *)sqlite3_column_text(s, 6);
		it.group = (const char *)sqlite3_column_text(s, 7);
		it.target = (const char *)sqlite3_column_text(s, 8);
		it.size = sqlite3_column_int64(s, 9);
		it.mtime_ns = sqlite3_column_int64(s, 10);
		it.ctime_ns = sqlite3_column_int64(s, 11);
		it.ino = (uint64_t)sqlite3_column_int64(s, 12);
		it.dev = (uint64_t)sqlite3_column_int64(s, 13);
		it.error = (const char *)sqlite3_column_text(s, 14);
		it.attrs = (const char *)sqlite3_column_text(s, 15);
		if ((rc = sink->emit(sink, &it, err)))
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "reading items", err);
out:
	sqlite3_finalize(s);
	ed_buf_release(&k);
	return rc;
}

static enum ed_code export_rest(struct ed_store *st, const struct ed_snapref *ref,
				struct ed_sink *sink, struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	char *plain = NULL;
	int r;
	if (sqlite3_prepare_v2(db, "SELECT message FROM warnings WHERE snapshot_id = ? ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading warnings", err);
	sqlite3_bind_int64(s, 1, ref->id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		sink->warn(sink, m ? m : "");
	}
	if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "reading warnings", err);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;

	/* Contents are kept once per fingerprint for the whole store: this snapshot's files'. */
	r = ed_items_prepare(db,
			     "SELECT fingerprint, size, encoding, data FROM contents"
			     " WHERE fingerprint IN (SELECT fingerprint FROM (",
			     "kind, key, fingerprint", "kind = 'file'", ")) ORDER BY fingerprint",
			     ref->id, ref->base, &s);
	if (r != SQLITE_OK) {
		rc = r == SQLITE_NOMEM ? ed_err_set(err, ED_NOMEM, "out of memory")
				       : ed_store_fail(st, "reading kept content", err);
		goto out;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_fp fp;
		const char *enc = (const char *)sqlite3_column_text(s, 2);
		sqlite3_int64 size = sqlite3_column_int64(s, 1);
		if (sqlite3_column_bytes(s, 0) != ED_FP_LEN || !enc) {
			rc = ed_err_set(err, ED_STORE, "store %s: a malformed kept content row",
					ed_store_path(st));
			goto out;
		}
		memcpy(fp.b, sqlite3_column_blob(s, 0), ED_FP_LEN);
		if (strcmp(enc, "none") == 0) {
			rc = sink->content(sink, &fp, NULL, 0, err);
		} else {
			free(plain);
			plain = NULL;
			enum ed_code z = strcmp(enc, "zlib") != 0
						 ? ED_STORE
						 : ed_store_inflate(sqlite3_column_blob(s, 3),
								    (size_t)sqlite3_column_bytes(s, 3), size,
								    CONTENT_MAX, &plain);
			if (z) {
				char hex[2 * ED_FP_LEN + 1];
				ed_fp_hex(&fp, hex);
				rc = ed_err_set(err, z == ED_NOMEM ? ED_NOMEM : ED_STORE,
						"store %s: kept content %s cannot be read (%s, %lld bytes)",
						ed_store_path(st), hex, enc, (long long)size);
				goto out;
			}
			rc = sink->content(sink, &fp, (const char *)plain, (size_t)size, err);
		}
		if (rc)
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "reading kept content", err);
out:
	free(plain);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_snapdoc_export(struct ed_store *st, const struct ed_snapref *ref, const char *id,
			       const char *path, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	struct ed_snapdoc_writer *w = NULL;
	char *root = NULL, *chost = NULL;
	enum ed_code rc = ED_OK;
	/* One read transaction: the snapshot, its warnings and its contents as of one moment. */
	if (sqlite3_exec(ed_store_db(st), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading a snapshot", err);
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT root, collector_host FROM snapshots WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "reading a snapshot", err);
		goto out;
	}
	sqlite3_bind_int64(s, 1, ref->id);
	int r = sqlite3_step(s);
	if (r != SQLITE_ROW) {
		rc = r == SQLITE_DONE ? ed_err_set(err, ED_NOTFOUND, "store %s has no snapshot @%lld",
						   ed_store_path(st), (long long)ref->id)
				      : ed_store_fail(st, "reading a snapshot", err);
		goto out;
	}
	if (!col_dup(s, 0, &root) || !col_dup(s, 1, &chost)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	struct ed_snapdoc_meta meta = {
		.id = id,
		.env = ref->env,
		.host = ref->host,
		.role = ref->role,
		.started_at = ref->started_at,
		.collector_host = chost ? chost : "",
		.collector_root = root,
		.quiet = true,
	};
	if ((rc = ed_snapdoc_begin(path, &meta, &w, err)) ||
	    (rc = export_items(st, ref, ed_snapdoc_sink(w), err)) ||
	    (rc = export_rest(st, ref, ed_snapdoc_sink(w), err)))
		goto out;
	rc = ed_snapdoc_commit(w, ref->finished_at[0] ? ref->finished_at : NULL, NULL, NULL, err);
	w = NULL;
out:
	ed_snapdoc_abort(w);
	sqlite3_finalize(s);
	sqlite3_exec(ed_store_db(st), "COMMIT", NULL, NULL, NULL);
	free(root);
	free(chost);
	return rc;
}

/* ------------------------------------------------------------------ */

enum ed_code ed_snapdoc_key_read(const char *path, uint8_t key[ED_KEY_LEN], struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	uint8_t buf[ED_KEY_LEN + 1];
	size_t got = 0;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO, "key %s: %s%s", path,
				  strerror(errno),
				  errno == ELOOP ? " (a symlink: give the file itself)" : "");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = ed_err_set(err, ED_IO, "key %s: not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077) {
		rc = ed_err_set(err, ED_DENIED,
				"key %s: readable by others (mode %04o); run 'chmod 600 %s'", path,
				(unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ed_err_set(err, ED_IO, "key %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != ED_KEY_LEN) {
		rc = ed_err_set(err, ED_IO,
				"key %s: expected exactly %d bytes (a copy of the store's .key file), "
				"got %s%zu",
				path, ED_KEY_LEN, got > ED_KEY_LEN ? "more than " : "",
				got > ED_KEY_LEN ? (size_t)ED_KEY_LEN : got);
		goto out;
	}
	memcpy(key, buf, ED_KEY_LEN);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}
