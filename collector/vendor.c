/* SPDX-License-Identifier: MIT */
/*
 * What the package manager shipped: the conffiles of installed dpkg packages
 * with the MD5 dpkg recorded for each (the "Conffiles:" field of
 * /var/lib/dpkg/status), and the config files of rpm packages with the digest
 * rpm recorded (what `rpm -V` checks). A file named like a secret whose bytes are still
 * those its package shipped (/etc/exim4/passwd.client, all comments;
 * /etc/chromium.d/apikeys, public keys) is the same on every machine that
 * installs the package: no secret of this environment.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/hash.h"
#include "ed/pkg.h"
#include "ed/vendor.h"

/* The status file is read whole; a real one is a few MB. */
#define STATUS_MAX (256u << 20)
/* The longest digest in hex (SHA-512) and its NUL. */
#define DIGEST_MAX 129

struct ed_vendor_file {
	char *path;
	const char *algo; /* libcrypto's name: "md5", "sha256", ... */
	char digest[DIGEST_MAX];
};

static int cmp_file(const void *x, const void *y)
{
	return strcmp(((const struct ed_vendor_file *)x)->path,
		      ((const struct ed_vendor_file *)y)->path);
}

static bool hexn(const char *p, size_t n, size_t want)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* Appends path (plen bytes) with its digest (hex, checked by the caller). */
static int add_file(struct ed_vendor *v, size_t *cap, const char *path, size_t plen,
		    const char *algo, const char *hex, size_t hlen)
{
	if (v->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 256;
		struct ed_vendor_file *f = realloc(v->files, nc * sizeof(*f));
		if (!f)
			return -1;
		v->files = f;
		*cap = nc;
	}
	struct ed_vendor_file *f = &v->files[v->n];
	if (!(f->path = strndup(path, plen)))
		return -1;
	f->algo = algo;
	memcpy(f->digest, hex, hlen);
	f->digest[hlen] = '\0';
	v->n++;
	return 0;
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
	if (!hexn(m, mlen, 32) || (end && memmem(end, rest - mlen, "obsolete", 8)))
		return 0;
	return add_file(v, cap, p, plen, "md5", m, 32);
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
	ed_vendor_sort(out);
	return ED_OK;
nomem:
	ed_vendor_release(out);
	return ed_err_set(err, ED_NOMEM, "out of memory reading dpkg's conffiles");
}

/* rpm's digest numbers (rpmpgp.h's PGPHASHALGO_*) as libcrypto names, with their hex length. */
static const struct {
	const char *num, *algo;
	size_t hex;
} rpm_algos[] = {
	{"1", "md5", 32}, {"2", "sha1", 40}, {"8", "sha256", 64},
	{"9", "sha384", 96}, {"10", "sha512", 128},
};

/* Splits the next tab-separated field off *p (up to end). */
static struct ed_str field(const char **p, const char *end)
{
	const char *tab = memchr(*p, '\t', (size_t)(end - *p));
	const char *fe = tab ? tab : end;
	struct ed_str f = ed_str_of(*p, (size_t)(fe - *p));
	*p = tab ? tab + 1 : end;
	return f;
}

enum ed_code ed_vendor_parse_rpm(struct ed_str text, struct ed_vendor *v, struct ed_err *err)
{
	size_t cap = v->n;
	const char *p = text.p ? text.p : "", *end = p + text.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct ed_str flags = field(&p, le), num = field(&p, le), hex = field(&p, le);
		struct ed_str path = ed_str_of(p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
		if (!memchr(flags.p, 'c', flags.len) || !path.len || path.p[0] != '/' ||
		    memchr(path.p, '\t', path.len))
			continue;
		for (size_t i = 0; i < sizeof(rpm_algos) / sizeof(rpm_algos[0]); i++) {
			if (num.len != strlen(rpm_algos[i].num) ||
			    memcmp(num.p, rpm_algos[i].num, num.len) != 0)
				continue;
			if (hexn(hex.p, hex.len, rpm_algos[i].hex) &&
			    add_file(v, &cap, path.p, path.len, rpm_algos[i].algo, hex.p, hex.len))
				return ed_err_set(err, ED_NOMEM, "out of memory reading rpm's config files");
			break;
		}
	}
	return ED_OK;
}

void ed_vendor_sort(struct ed_vendor *v)
{
	if (v->n > 1)
		qsort(v->files, v->n, sizeof(*v->files), cmp_file);
}

enum ed_code ed_vendor_load(struct ed_source *src, struct ed_vendor *out, struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT, origin = ED_BUF_INIT;
	struct ed_err e = {0};
	memset(out, 0, sizeof(*out));
	enum ed_code rc = ed_source_read_all(src, "/var/lib/dpkg/status", STATUS_MAX, &text, &e);
	if (rc == ED_NOMEM)
		rc = ed_err_set(err, ED_NOMEM, "%s", e.msg);
	else if (rc)
		rc = ED_OK; /* no dpkg here, or unreadable: nothing is known to be shipped */
	else
		rc = ed_vendor_parse(ed_str_of(text.p, text.len), out, err);
	ed_buf_reset(&text);
	if (rc == ED_OK) {
		enum ed_code q = ed_rpm_query(src, ED_VENDOR_RPM_QUERYFORMAT, &text, &origin, &e);
		if (q == ED_NOMEM)
			rc = ed_err_set(err, ED_NOMEM, "%s", e.msg);
		else if (q == ED_OK)
			rc = ed_vendor_parse_rpm(ed_str_of(text.p, text.len), out, err);
		/* no rpm, or it failed: the package collector says why */
		ed_vendor_sort(out);
	}
	ed_buf_release(&text);
	ed_buf_release(&origin);
	return rc;
}

static const struct ed_vendor_file *lookup(const struct ed_vendor *v, const char *path)
{
	if (!v || !v->n)
		return NULL;
	struct ed_vendor_file key = {.path = (char *)path};
	return bsearch(&key, v->files, v->n, sizeof(*v->files), cmp_file);
}

bool ed_vendor_listed(const struct ed_vendor *v, const char *path)
{
	return lookup(v, path) != NULL;
}

bool ed_vendor_shipped(const struct ed_vendor *v, const char *path, struct ed_str body)
{
	const struct ed_vendor_file *f = lookup(v, path);
	char got[DIGEST_MAX];
	return f && ed_digest_hex(f->algo, body.p ? body.p : "", body.len, got, sizeof(got)) &&
	       strcmp(got, f->digest) == 0;
}

void ed_vendor_release(struct ed_vendor *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->files[i].path);
	free(v->files);
	memset(v, 0, sizeof(*v));
}
