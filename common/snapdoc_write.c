/* SPDX-License-Identifier: MIT */
/*
 * Writing an envdrift.snapshot/1 document (docs/snapshot-format.md) as a
 * sink: items go out as they are emitted, warnings and kept contents wait in
 * temporary files, and the document is put in place whole at commit.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ed/atomic.h"
#include "ed/base64.h"
#include "ed/buf.h"
#include "ed/isotime.h"
#include "ed/snapdoc.h"
#include "snapdoc_codec.h"

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
/* the writer                                                           */

struct ed_snapdoc_writer {
	struct ed_sink sink;
	struct ed_atomic *out; /* the document: a temporary file renamed into place at commit */
	bool quiet;            /* do not echo warnings on stderr */
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
	return ed_err_set(err, ED_IO, "%s: cannot write: %s", ed_atomic_name(w->out),
			  errno ? strerror(errno) : "write error");
}

/* Adds "f": s (or "f_b64") to o when s is set; -1 when out of memory. */
static int set_cstr(json_t *o, const char *f, const char *s, struct ed_buf *tmp)
{
	return s ? ed_snapdoc_set_bytes(o, f, s, strlen(s), tmp) : 0;
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
	r |= ed_snapdoc_set_bytes(o, "key", it->key, it->key_len, tmp);
	r |= ed_snapdoc_set_fp(o, "fingerprint", &it->fp);
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
		ed_json_oom_take();
		json_t *a = json_loads(it->attrs, JSON_REJECT_DUPLICATES, NULL);
		if (ed_json_oom_take()) { /* it may have lost a byte */
			json_decref(a);
			json_decref(o);
			return NULL;
		}
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
	int r = put_elem(ed_atomic_file(w->out), w->items, o);
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
		ed_note(msg);
	if (w->failed)
		return;
	json_t *j = NULL;
	size_t len = strlen(msg);
	if (ed_utf8_valid(msg, len)) {
		j = json_stringn(msg, len);
	} else {
		ed_buf_reset(&w->scratch);
		if (!ed_base64_add(&w->scratch, msg, len))
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
	if (data && len > ED_SNAPDOC_CONTENT_MAX)
		return ED_OK; /* far beyond any keep limit: not kept, as in the store */
	int added = fpset_add(&w->fps, fp->b);
	if (added < 0)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (!added)
		return ED_OK; /* once per fingerprint; the first one stays, as in the store */
	json_t *o = json_object();
	int r = !o || ed_snapdoc_set_fp(o, "fingerprint", fp) ||
		json_object_set_new(o, "encoding", json_string(data ? "base64" : "none"));
	if (!r && data) {
		ed_buf_reset(&w->scratch);
		r = ed_base64_add(&w->scratch, data, len) ||
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
	free(w);
}

void ed_snapdoc_abort(struct ed_snapdoc_writer *w)
{
	if (!w)
		return;
	ed_atomic_abort(w->out);
	writer_free(w);
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
		if (!ed_snapdoc_id_parse(meta->id, strlen(meta->id), w->id)) {
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
	if (meta->started_at && !ed_isotime_valid(meta->started_at, strlen(meta->started_at))) {
		rc = ed_err_set(err, ED_USAGE, "start time '%s' is not YYYY-MM-DDTHH:MM:SSZ",
				meta->started_at);
		goto fail;
	}
	if (meta->started_at)
		snprintf(started, sizeof(started), "%s", meta->started_at);
	else
		ed_isotime_now(started);
	if (!meta->collector_host)
		gethostname(me, sizeof(me) - 1);

	if (!(w->warn_spool = tmpfile()) || !(w->content_spool = tmpfile())) {
		rc = ed_err_set(err, ED_IO, "cannot create a temporary file: %s", strerror(errno));
		goto fail;
	}
	/* A document holds what a store holds: private. */
	if ((rc = ed_atomic_open(path, 0600, &w->out, err)))
		goto fail;

	/* The head: every field but the arrays and finished_at, then the items. */
	head = json_object();
	coll = json_object();
	int r = !head || !coll;
	r = r || json_object_set_new(head, "format", json_string(ED_SNAPDOC_FORMAT)) ||
	    json_object_set_new(head, "id", json_string(w->id)) ||
	    set_cstr(head, "env", meta->env, &w->scratch) ||
	    set_cstr(head, "host", meta->host, &w->scratch) ||
	    set_cstr(head, "role", meta->role ? meta->role : "", &w->scratch) ||
	    json_object_set_new(head, "started_at", json_string(started)) ||
	    json_object_set_new(coll, "version", json_string(ENVDRIFT_VERSION)) ||
	    set_cstr(coll, "host", meta->collector_host ? meta->collector_host : me, &w->scratch) ||
	    set_cstr(coll, "root", meta->collector_root, &w->scratch) ||
	    json_object_set(head, "collector", coll);
	if (r || !(text = json_dumps(head, JSON_COMPACT))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	size_t tl = strlen(text);
	errno = 0;
	/* The head object without its closing brace: the items follow. */
	FILE *f = ed_atomic_file(w->out);
	if (fwrite(text, 1, tl - 1, f) != tl - 1 || fputs(",\"items\":[", f) == EOF) {
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
		ed_isotime_now(fin);
	if (!(jf = json_string(fin))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	FILE *f = ed_atomic_file(w->out);
	errno = 0;
	if (fputs("\n],\"warnings\":[", f) == EOF || copy_spool(w->warn_spool, f) ||
	    fputs("\n],\"contents\":[", f) == EOF || copy_spool(w->content_spool, f) ||
	    fputs("\n],\"finished_at\":", f) == EOF ||
	    json_dumpf(jf, f, JSON_COMPACT | JSON_ENCODE_ANY) || fputs("}\n", f) == EOF) {
		rc = write_err(w, err);
		goto fail;
	}
	/* Flushes, fsyncs and renames into place (or writes a FIFO, a device, stdout). */
	rc = ed_atomic_commit(w->out, err);
	w->out = NULL;
	if (rc)
		goto fail;
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
