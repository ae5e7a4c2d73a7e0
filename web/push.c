/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/snapshots: a pushed envdrift.snapshot/1 document, taken from
 * the upload callback (not libmicrohttpd's POST processor), counted against
 * --max-body as it arrives, inflated when gzip, spooled to an unlinked
 * temporary file, then validated and stored as 'envdrift ingest' does, by the
 * one writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ed/atomic.h"
#include "ed/snapdoc.h"
#include "ed/snapdoc_store.h"
#include "web_int.h"

/* Decides the answer now; the rest of the body is read and dropped. */
static void refuse(struct ed_req *r, unsigned status, const char *msg)
{
	if (r->refused)
		return;
	r->refused = true;
	r->refuse_status = status;
	snprintf(r->refuse_msg, sizeof(r->refuse_msg), "%s", msg);
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

enum MHD_Result ed_web_push_start(struct MHD_Connection *c, struct ed_req *r)
{
	struct ed_web *w = r->w;
	struct ed_err err = {0};
	struct ed_store *st = ed_web_reader(w, &err);
	if (!st)
		return ed_web_fail(c, r, &err);
	unsigned status = ed_web_auth(w, st, c, ED_WEB_PUSH, NULL, NULL);
	ed_web_reader_put(w, st);
	if (status == 401)
		return ed_web_error(c, r, 401, "a push needs 'Authorization: Bearer TOKEN' with a "
					       "valid push token");
	if (status == 403)
		return ed_web_error(c, r, 403, "this token may not push snapshots");
	if (status)
		return ed_web_error(c, r, status, "cannot check the token");
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (enc && strcasecmp(enc, "gzip") == 0)
		r->gzip = true;
	else if (enc && strcasecmp(enc, "identity") != 0)
		return ed_web_error(c, r, 415, "Content-Encoding %s: only gzip or identity", enc);
	const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(len, &end, 10);
		if (errno || *end || n > w->o->max_body)
			return ed_web_error(c, r, 413, "the body is larger than --max-body %zu bytes",
					    w->o->max_body);
	}
	if ((r->fd = ed_tmpfile_open(w->tmpdir)) < 0 &&
	    (r->fd = ed_tmpfile_open(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp")) < 0)
		return ed_web_error(c, r, 503, "cannot make a temporary file for the body: %s",
				    strerror(errno));
	if (r->gzip) {
		if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
			return ed_web_error(c, r, 500, "out of memory");
		r->zinit = true;
	}
	r->push = true;
	return MHD_YES;
}

static bool spool(struct ed_req *r, const void *p, size_t n)
{
	if (r->spooled + n > r->w->o->max_body) {
		refuse(r, 413, "the body is larger than --max-body");
		return false;
	}
	const char *b = p;
	while (n) {
		ssize_t k = write(r->fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			refuse(r, 503, "cannot write the body to a temporary file (disk full?)");
			return false;
		}
		b += k;
		n -= (size_t)k;
		r->spooled += (size_t)k;
	}
	return true;
}

enum MHD_Result ed_web_push_data(struct MHD_Connection *c, struct ed_req *r, const char *data,
				 size_t *size)
{
	size_t n = *size;
	*size = 0;
	r->received += n;
	/* A body that goes on long past the limit is not worth reading to the end. */
	if (r->refused && r->received > r->w->o->max_body + ((size_t)16 << 20))
		return MHD_NO;
	if (r->refused)
		return MHD_YES;
	if (r->received > r->w->o->max_body) {
		refuse(r, 413, "the body is larger than --max-body");
		/* Answer now when libmicrohttpd lets us, else when the body has gone by. */
		if (ed_web_error(c, r, 413, "the body is larger than --max-body %zu bytes",
				 r->w->o->max_body) != MHD_YES)
			r->status = 0;
		return MHD_YES;
	}
	if (!r->gzip) {
		spool(r, data, n);
		return MHD_YES;
	}
	unsigned char out[65536];
	r->z.next_in = (unsigned char *)(uintptr_t)data;
	r->z.avail_in = (uInt)n;
	while (r->z.avail_in && !r->zend) {
		r->z.next_out = out;
		r->z.avail_out = sizeof(out);
		int zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && r->z.avail_out)) {
			refuse(r, 400, "the body is not valid gzip");
			return MHD_YES;
		}
		if (!spool(r, out, sizeof(out) - r->z.avail_out))
			return MHD_YES;
		if (zr == Z_STREAM_END)
			r->zend = true;
	}
	return MHD_YES;
}

/* The JSON path at the start of a validation message ("body: $.items[3].key: ..."), or NULL. */
static json_t *json_path_of(const char *msg)
{
	const char *p = strstr(msg, "$");
	if (!p)
		return NULL;
	size_t n = strcspn(p, ": ");
	return json_stringn(p, n);
}

/* 422: the document is invalid; "path" is the JSON path of the problem when the message has one. */
static enum MHD_Result invalid(struct MHD_Connection *c, struct ed_req *r, const struct ed_err *err)
{
	json_t *j = json_pack("{s:s, s:i}", "error", err->msg, "status", 422);
	json_t *path = json_path_of(err->msg);
	if (j && path)
		json_object_set_new(j, "path", path);
	else
		json_decref(path);
	return ed_web_json(c, r, 422, j);
}

static bool env_allowed(char **envs, size_t n, const char *env)
{
	if (!envs)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(envs[i], env) == 0)
			return true;
	return false;
}

enum MHD_Result ed_web_push_end(struct MHD_Connection *c, struct ed_req *r)
{
	struct ed_web *w = r->w;
	struct ed_err err = {0};
	struct ed_snapdoc *doc = NULL;
	struct ed_store *st = NULL;
	char **envs = NULL;
	size_t nenvs = 0;
	enum MHD_Result ret;
	if (r->status)
		return MHD_YES;
	if (!r->refused && r->gzip && !r->zend)
		refuse(r, 400, "the gzip body ends early");
	if (r->refused) {
		atomic_fetch_add(&w->pushes_refused, 1);
		return ed_web_error(c, r, r->refuse_status, "%s", r->refuse_msg);
	}
	/* Read from the spool a piece at a time: memory stays flat whatever the body's size. */
	if (ed_snapdoc_read_fd(r->fd, "body", &doc, &err)) {
		atomic_fetch_add(&w->pushes_refused, 1);
		if (err.code == ED_NOMEM || err.code == ED_IO) {
			ret = ed_web_fail(c, r, &err);
			goto out;
		}
		ret = invalid(c, r, &err);
		goto out;
	}
	const struct ed_snapdoc_info *info = ed_snapdoc_info(doc);
	/* The token again: revoked during the upload, or limited to other environments. */
	if (!(st = ed_web_reader(w, &err))) {
		ret = ed_web_fail(c, r, &err);
		goto out;
	}
	unsigned status = ed_web_auth(w, st, c, ED_WEB_PUSH, &envs, &nenvs);
	ed_web_reader_put(w, st);
	if (status) {
		atomic_fetch_add(&w->pushes_refused, 1);
		ret = ed_web_error(c, r, status, status == 401 ? "the token is no longer valid"
							       : "this token may not push snapshots");
		goto out;
	}
	if (!env_allowed(envs, nenvs, info->env)) {
		atomic_fetch_add(&w->pushes_refused, 1);
		ret = ed_web_error(c, r, 403, "this token may not push snapshots of environment %s",
				   info->env);
		goto out;
	}
	int64_t id = 0, items = 0, warnings = 0;
	bool already = false;
	pthread_mutex_lock(&w->write_lock);
	enum ed_code rc = ed_snapdoc_ingest(w->writer, doc, ED_SNAPDOC_MAX_SKEW, &id, &already,
					    &items, &warnings, &err);
	pthread_mutex_unlock(&w->write_lock);
	if (rc == ED_PARSE) {
		atomic_fetch_add(&w->pushes_refused, 1);
		ret = invalid(c, r, &err);
		goto out;
	}
	if (rc) {
		atomic_fetch_add(&w->pushes_refused, 1);
		ret = ed_web_fail(c, r, &err);
		goto out;
	}
	atomic_fetch_add(already ? &w->pushes_replayed : &w->pushes_stored, 1);
	if (!already)
		ed_web_verdicts_poke(w); /* a new basis: the worker computes its verdict now */
	json_t *j = json_pack("{s:I, s:o, s:o, s:I, s:s, s:b}", "id", (json_int_t)id, "env",
			      ed_web_string(info->env, strlen(info->env)), "host",
			      ed_web_string(info->host, strlen(info->host)), "items",
			      (json_int_t)(already ? (int64_t)info->nitems : items), "document",
			      info->id, "replayed", already);
	ret = ed_web_json(c, r, already ? 200 : 201, j);
out:
	ed_web_envs_free(envs, nenvs);
	ed_snapdoc_free(doc);
	return ret;
}

void ed_web_push_release(struct ed_req *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->zinit)
		inflateEnd(&r->z);
	r->zinit = false;
}
