/* SPDX-License-Identifier: MIT */
/*
 * What the package manager shipped: the conffiles of installed dpkg packages
 * with the MD5 dpkg recorded for each (the "Conffiles:" field of
 * /var/lib/dpkg/status). A file named like a secret whose bytes are still
 * those its package shipped (/etc/exim4/passwd.client, all comments;
 * /etc/chromium.d/apikeys, public keys) is the same on every machine that
 * installs the package: no secret of this environment.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/vendor.h"

/* The status file is read whole; a real one is a few MB. */
#define STATUS_MAX (256u << 20)

struct ed_vendor_file {
	char *path;
	char md5[33];
};

static int cmp_file(const void *x, const void *y)
{
	return strcmp(((const struct ed_vendor_file *)x)->path,
		      ((const struct ed_vendor_file *)y)->path);
}

static bool hex32(const char *p, size_t n)
{
	if (n != 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* Appends " /path md5 [obsolete]" (a Conffiles line) when it is well formed and current. */
static int add_line(struct ed_vendor *v, const char *p, size_t n, size_t *cap)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	const char *sp = memchr(p, ' ', n);
	if (!n || *p != '/' || !sp)
		return 0;
	size_t plen = (size_t)(sp - p);
	const char *m = sp + 1;
	size_t rest = n - plen - 1;
	const char *end = memchr(m, ' ', rest);
	size_t mlen = end ? (size_t)(end - m) : rest;
	/* An obsolete conffile is no longer what the package ships. */
	if (!hex32(m, mlen) || (end && memmem(end, rest - mlen, "obsolete", 8)))
		return 0;
	if (v->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 256;
		struct ed_vendor_file *f = realloc(v->files, nc * sizeof(*f));
		if (!f)
			return -1;
		v->files = f;
		*cap = nc;
	}
	struct ed_vendor_file *f = &v->files[v->n];
	if (!(f->path = strndup(p, plen)))
		return -1;
	memcpy(f->md5, m, 32);
	f->md5[32] = '\0';
	v->n++;
	return 0;
}

enum ed_code ed_vendor_parse(struct ed_str status, struct ed_vendor *out, struct ed_err *err)
{
	size_t cap = 0, stanza_from = 0;
	bool installed = false, in_conffiles = false;
	memset(out, 0, sizeof(*out));
	const char *p = status.p ? status.p : "", *end = p + status.len;
	while (p <= end) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			/* The end of a stanza: keep its conffiles only if it is installed. */
			if (!installed) {
				for (size_t i = stanza_from; i < out->n; i++)
					free(out->files[i].path);
				out->n = stanza_from;
			}
			stanza_from = out->n;
			installed = in_conffiles = false;
		} else if (*p == ' ' || *p == '\t') {
			if (in_conffiles && add_line(out, p, n, &cap))
				goto nomem;
		} else {
			in_conffiles = n >= 10 && memcmp(p, "Conffiles:", 10) == 0;
			if (n >= 7 && memcmp(p, "Status:", 7) == 0)
				installed = n >= 17 && memcmp(p + n - 10, " installed", 10) == 0;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!installed) {
		for (size_t i = stanza_from; i < out->n; i++)
			free(out->files[i].path);
		out->n = stanza_from;
	}
	if (out->n > 1)
		qsort(out->files, out->n, sizeof(*out->files), cmp_file);
	return ED_OK;
nomem:
	ed_vendor_release(out);
	return ed_err_set(err, ED_NOMEM, "out of memory reading dpkg's conffiles");
}

enum ed_code ed_vendor_load(struct ed_source *src, struct ed_vendor *out, struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT;
	struct ed_err e = {0};
	memset(out, 0, sizeof(*out));
	enum ed_code rc = ed_source_read_all(src, "/var/lib/dpkg/status", STATUS_MAX, &text, &e);
	if (rc == ED_NOMEM)
		rc = ed_err_set(err, ED_NOMEM, "%s", e.msg);
	else if (rc)
		rc = ED_OK; /* no dpkg here, or unreadable: nothing is known to be shipped */
	else
		rc = ed_vendor_parse(ed_str_of(text.p, text.len), out, err);
	ed_buf_release(&text);
	return rc;
}

const char *ed_vendor_md5(const struct ed_vendor *v, const char *path)
{
	if (!v || !v->n)
		return NULL;
	struct ed_vendor_file key = {.path = (char *)path};
	const struct ed_vendor_file *f = bsearch(&key, v->files, v->n, sizeof(*v->files), cmp_file);
	return f ? f->md5 : NULL;
}

void ed_vendor_release(struct ed_vendor *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->files[i].path);
	free(v->files);
	memset(v, 0, sizeof(*v));
}
