/* SPDX-License-Identifier: MIT */
/*
 * collect --push: POST a snapshot document to 'envdrift serve' with libcurl
 * (RELIABILITY: peers verified by default, connect and low-speed timeouts,
 * the token never on a command line or in a message).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "push_http.h"
#include "ed/buf.h"

/* The longest token line read; tokens of 'envdrift token add' are 43 characters. */
#define TOKEN_MAX 1024
/* The largest answer kept: the API's answers to a push are a few hundred bytes. */
#define ANSWER_MAX (64 * 1024)
#define CONNECT_TIMEOUT_MS 10000L
/* Slower than 1 KiB/s for 60 s (the upload, or the server storing it): a dead peer. */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_SECS 60L

static int env_int(const char *name, int def, int min, int max)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		return def;
	return (int)v;
}

void push_opts_defaults(struct push_opts *o)
{
	o->tries = env_int("ENVDRIFT_PUSH_TRIES", 4, 1, 100);
	o->backoff_ms = env_int("ENVDRIFT_PUSH_BACKOFF_MS", 1000, 0, 600000);
}

enum ed_code push_check_url(const char *url, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL;
	CURLU *u = curl_url();
	if (!u)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = ed_err_set(err, ED_USAGE, "--push %s: not a URL (expected https://HOST[:PORT])",
				url);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		rc = ed_err_set(err, ED_USAGE, "--push %s: the scheme must be https or http", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		rc = ed_err_set(err, ED_USAGE,
				"--push: the URL holds a user name or password; give the push token "
				"with --token-file instead");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		rc = ed_err_set(err, ED_USAGE, "--push %s: the server's base URL takes no query", url);
		goto out;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

/*
 * Reads the first line of the token file, trimmed, into tok (TOKEN_MAX + 1
 * bytes); the file must not be open to group or others.
 */
static enum ed_code read_token(const char *path, char *tok, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	char buf[TOKEN_MAX + 2];
	size_t got = 0;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO, "token file %s: %s", path,
				  strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = ed_err_set(err, ED_IO, "token file %s: not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077) {
		rc = ed_err_set(err, ED_DENIED,
				"token file %s: readable or writable by group or others (mode %04o); "
				"run 'chmod 600 %s'",
				path, (unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	while (got < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ed_err_set(err, ED_IO, "token file %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	size_t len = strcspn(buf, "\r\n");
	char *s = buf;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > TOKEN_MAX || (len == TOKEN_MAX && got == sizeof(buf) - 1)) {
		rc = ed_err_set(err, ED_PARSE, "token file %s: the first line is too long", path);
		goto out;
	}
	if (!len) {
		rc = ed_err_set(err, ED_PARSE, "token file %s: the first line holds no token", path);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) {
			rc = ed_err_set(err, ED_PARSE,
					"token file %s: the token holds a space or a control byte", path);
			goto out;
		}
	memcpy(tok, s, len);
	tok[len] = '\0';
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

enum ed_code push_check_token_file(const char *path, struct ed_err *err)
{
	char tok[TOKEN_MAX + 1];
	enum ed_code rc = read_token(path, tok, err);
	explicit_bzero(tok, sizeof(tok));
	return rc;
}

/* docpath gzip-compressed into an unlinked temporary file, rewound; NULL on error. */
static FILE *gzip_doc(const char *docpath, curl_off_t *size, struct ed_err *err)
{
	const char *dir = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	FILE *in = NULL, *out = NULL;
	unsigned char ibuf[64 * 1024], obuf[64 * 1024];
	z_stream z = {0};
	bool zinit = false;
	snprintf(tmpl, sizeof(tmpl), "%s/envdrift-push.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		ed_err_set(err, ED_IO, "temporary file %s: %s", tmpl, strerror(errno));
		return NULL;
	}
	unlink(tmpl);
	out = fdopen(fd, "w+b");
	if (!out) {
		close(fd);
		ed_err_set(err, ED_IO, "temporary file: %s", strerror(errno));
		goto fail;
	}
	in = fopen(docpath, "rbe");
	if (!in) {
		ed_err_set(err, ED_IO, "%s: %s", docpath, strerror(errno));
		goto fail;
	}
	/* windowBits 15 + 16: a gzip stream, as Content-Encoding: gzip says. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	zinit = true;
	int flush;
	do {
		size_t n = fread(ibuf, 1, sizeof(ibuf), in);
		if (ferror(in)) {
			ed_err_set(err, ED_IO, "%s: %s", docpath, strerror(errno));
			goto fail;
		}
		flush = feof(in) ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ibuf;
		z.avail_in = (uInt)n;
		do {
			z.next_out = obuf;
			z.avail_out = sizeof(obuf);
			if (deflate(&z, flush) == Z_STREAM_ERROR) {
				ed_err_set(err, ED_IO, "%s: cannot compress", docpath);
				goto fail;
			}
			size_t have = sizeof(obuf) - z.avail_out;
			if (have && fwrite(obuf, 1, have, out) != have) {
				ed_err_set(err, ED_IO, "temporary file: %s", strerror(errno));
				goto fail;
			}
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	fclose(in);
	if (fflush(out) != 0) {
		ed_err_set(err, ED_IO, "temporary file: %s", strerror(errno));
		fclose(out);
		return NULL;
	}
	*size = (curl_off_t)ftello(out);
	rewind(out);
	return out;
fail:
	if (zinit)
		deflateEnd(&z);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return NULL;
}

static size_t read_body(char *p, size_t size, size_t n, void *ctx)
{
	FILE *f = ctx;
	size_t got = fread(p, size, n, f);
	if (got == 0 && ferror(f))
		return CURL_READFUNC_ABORT;
	return got;
}

/* The answer, kept up to ANSWER_MAX bytes (the rest is dropped, not an error). */
static size_t write_answer(char *p, size_t size, size_t n, void *ctx)
{
	struct ed_buf *b = ctx;
	size_t len = size * n;
	if (b->len < ANSWER_MAX) {
		size_t take = len < ANSWER_MAX - b->len ? len : ANSWER_MAX - b->len;
		if (ed_buf_add(b, p, take) != 0)
			return 0;
	}
	return len;
}

/* Whether a failed transfer is worth another try: the server may come back. */
static bool transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool cert_error(CURLcode c)
{
	return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
	       c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_CRL_BADFILE ||
	       c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The answer's "error" text, or a note that it had none. */
static void answer_error(const struct ed_buf *b, char *out, size_t cap)
{
	json_error_t je;
	json_t *j = b->len ? json_loadb(b->p, b->len, 0, &je) : NULL;
	const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
	snprintf(out, cap, "%s", e ? e : "(the answer holds no JSON error)");
	json_decref(j);
}

/* A 200 or 201 answer: the API's {"id", "env", "host", "items"}. */
static enum ed_code parse_stored(const struct ed_buf *b, long status, const char *url,
				 struct push_result *res, struct ed_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(b->p ? b->p : "", b->len, 0, &je);
	json_t *id = json_object_get(j, "id"), *items = json_object_get(j, "items");
	const char *env = json_string_value(json_object_get(j, "env"));
	const char *host = json_string_value(json_object_get(j, "host"));
	if (!json_is_integer(id) || !json_is_integer(items) || !env || !host) {
		json_decref(j);
		return ed_err_set(err, ED_PARSE,
				  "push to %s: HTTP %ld, but the answer is not envdrift's "
				  "(is the URL an envdrift server?)",
				  url, status);
	}
	res->id = json_integer_value(id);
	res->items = json_integer_value(items);
	res->replayed = status == 200;
	snprintf(res->env, sizeof(res->env), "%s", env);
	snprintf(res->host, sizeof(res->host), "%s", host);
	json_decref(j);
	return ED_OK;
}

enum ed_code push_file(const struct push_opts *o, const char *docpath, struct push_result *res,
		       struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	char tok[TOKEN_MAX + 1] = "", auth[TOKEN_MAX + 32] = "", endpoint[PATH_MAX + 32];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL, *h;
	struct ed_buf answer = ED_BUF_INIT;
	curl_off_t size = 0;
	FILE *body = NULL;
	CURL *c = NULL;
	bool global = false;

	size_t ulen = strlen(o->url);
	while (ulen && o->url[ulen - 1] == '/')
		ulen--;
	if (ulen > PATH_MAX)
		return ed_err_set(err, ED_USAGE, "--push: the URL is too long");
	snprintf(endpoint, sizeof(endpoint), "%.*s/api/v1/snapshots", (int)ulen, o->url);

	if (o->token_file && (rc = read_token(o->token_file, tok, err)))
		goto out;
	body = gzip_doc(docpath, &size, err);
	if (!body) {
		rc = err->code;
		goto out;
	}
	global = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	if (!global || !(c = curl_easy_init())) {
		rc = ed_err_set(err, ED_NOMEM, "cannot start libcurl");
		goto out;
	}
	static const char *const fixed[] = {"Content-Type: application/json",
					    "Content-Encoding: gzip", "Accept: application/json"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!(h = curl_slist_append(headers, fixed[i])))
			goto nomem;
		headers = h;
	}
	if (*tok) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		h = curl_slist_append(headers, auth);
		explicit_bzero(auth, sizeof(auth));
		if (!h)
			goto nomem;
		headers = h;
	}
	curl_easy_setopt(c, CURLOPT_URL, endpoint);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
	curl_easy_setopt(c, CURLOPT_READDATA, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, size);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "envdrift/" ENVDRIFT_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_SECS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);

	long wait = o->backoff_ms;
	for (int attempt = 1;; attempt++) {
		char why[CURL_ERROR_SIZE + 600];
		long status = 0;
		errbuf[0] = '\0';
		answer.len = 0;
		if (answer.p)
			answer.p[0] = '\0';
		rewind(body);
		CURLcode cc = curl_easy_perform(c);
		if (cc == CURLE_OK) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			if (status == 200 || status == 201) {
				rc = parse_stored(&answer, status, o->url, res, err);
				goto out;
			}
			char text[512];
			answer_error(&answer, text, sizeof(text));
			if (status < 500) {
				rc = ed_err_set(err, status == 401 || status == 403 ? ED_DENIED : ED_PARSE,
						"push to %s refused: HTTP %ld: %s%s", o->url, status, text,
						status == 401 ? " (is the token in the token file a valid "
								"push token?)"
							      : "");
				goto out;
			}
			snprintf(why, sizeof(why), "HTTP %ld: %s", status, text);
		} else if (cert_error(cc)) {
			rc = ed_err_set(err, ED_CONN,
					"push to %s: the server's certificate does not verify: %s "
					"(a private CA: give it with --cacert FILE)",
					o->url, *errbuf ? errbuf : curl_easy_strerror(cc));
			goto out;
		} else if (transient(cc)) {
			snprintf(why, sizeof(why), "%s", *errbuf ? errbuf : curl_easy_strerror(cc));
		} else {
			rc = ed_err_set(err, ED_CONN, "push to %s failed: %s", o->url,
					*errbuf ? errbuf : curl_easy_strerror(cc));
			goto out;
		}
		if (attempt >= o->tries) {
			rc = ed_err_set(err, ED_CONN, "push to %s failed after %d attempt%s: %s", o->url,
					attempt, attempt == 1 ? "" : "s", why);
			goto out;
		}
		ed_warn("push to %s failed (%s); trying again in %.1f s (attempt %d of %d)", o->url,
			why, (double)wait / 1000, attempt + 1, o->tries);
		sleep_ms(wait);
		wait = wait > 300000 ? 600000 : wait * 2;
	}
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	if (c)
		curl_easy_cleanup(c);
	/* The header list holds the token: wipe it before it is freed. */
	for (h = headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
	if (global)
		curl_global_cleanup();
	explicit_bzero(tok, sizeof(tok));
	if (body)
		fclose(body);
	ed_buf_release(&answer);
	return rc;
}
