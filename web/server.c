/* SPDX-License-Identifier: MIT */
/*
 * envdrift serve: the daemon (libmicrohttpd's thread pool, limits, TLS), the
 * checks every request passes (method, Host, token), one log line per
 * request, the read connection pool and a clean stop on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ed/buf.h"
#include "ed/clock.h"
#include "ed/isotime.h"
#include "web_int.h"

/* --- replies --- */

enum MHD_Result ed_web_reply(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			     const char *ctype, char *body, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body ? body : "", body ? MHD_RESPMEM_MUST_FREE
									 : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* On every response, pages or not: nothing but our own files, never in a frame. */
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; base-uri 'none'; form-action 'self'; "
				"frame-ancestors 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"envdrift\"");
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		r->status = status;
		r->bytes = len;
	}
	return ret;
}

enum MHD_Result ed_web_json(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			    json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!text) {
		static const char oom[] = "{\"error\":\"out of memory\",\"status\":500}\n";
		char *copy = strdup(oom);
		return ed_web_reply(c, r, 500, "application/json", copy, copy ? sizeof(oom) - 1 : 0);
	}
	size_t n = strlen(text);
	char *body = realloc(text, n + 2);
	if (!body) {
		free(text);
		return MHD_NO;
	}
	body[n] = '\n';
	body[n + 1] = '\0';
	return ed_web_reply(c, r, status, "application/json", body, n + 1);
}

json_t *ed_web_string(const char *s, size_t len)
{
	struct ed_buf b = ED_BUF_INIT;
	if (!s)
		return json_null();
	if (ed_buf_add_utf8_escaped(&b, s, len))
		return NULL;
	json_t *j = json_stringn(ed_buf_str(&b), b.len);
	ed_buf_release(&b);
	return j;
}

/*
 * msg as a client may read it: without a leading "store PATH: ", and the
 * store's path elsewhere said "the store" (clients need not learn where it lives).
 */
void ed_web_scrub(const struct ed_web *w, const char *msg, char *out, size_t cap)
{
	const char *db = w->o->db;
	size_t n = strlen(db), k = 0;
	if (strncmp(msg, "store ", 6) == 0 && strncmp(msg + 6, db, n) == 0 &&
	    strncmp(msg + 6 + n, ": ", 2) == 0)
		msg += 8 + n;
	while (*msg && k + 1 < cap) {
		if (n && strncmp(msg, db, n) == 0 && k + 9 < cap) {
			memcpy(out + k, "the store", 9);
			k += 9;
			msg += n;
			/* "store the store" reads badly */
			if (k >= 15 && memcmp(out + k - 15, "store the store", 15) == 0) {
				memmove(out + k - 15, "the store", 9);
				k -= 6;
			}
			continue;
		}
		out[k++] = *msg++;
	}
	out[k] = '\0';
}

enum MHD_Result ed_web_error(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			     const char *fmt, ...)
{
	char msg[1024], shown[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ed_web_scrub(r->w, msg, shown, sizeof(shown));
	json_t *doc = json_object();
	json_t *m = ed_web_string(shown, strlen(shown));
	if (doc && m && json_object_set_new(doc, "error", m) == 0)
		m = NULL;
	json_decref(m);
	if (doc)
		json_object_set_new(doc, "status", json_integer(status));
	return ed_web_json(c, r, status, doc);
}

enum MHD_Result ed_web_fail(struct MHD_Connection *c, struct ed_req *r, const struct ed_err *err)
{
	unsigned status;
	switch (err->code) {
	case ED_NOTFOUND: status = 404; break;
	case ED_PARSE:
	case ED_USAGE: status = 400; break;
	case ED_TOOBIG: status = 413; break;
	case ED_STORE: status = 503; break;
	default: status = 500; break;
	}
	return ed_web_error(c, r, status, "%s", err->msg[0] ? err->msg : ed_code_str(err->code));
}

/* --- the read connection pool --- */

struct ed_store *ed_web_reader(struct ed_web *w, struct ed_err *err)
{
	struct ed_store *st = NULL;
	pthread_mutex_lock(&w->pool_lock);
	if (w->npool)
		st = w->pool[--w->npool];
	pthread_mutex_unlock(&w->pool_lock);
	if (!st && ed_store_open(w->o->db, ED_STORE_READ, NULL, &st, err))
		return NULL;
	return st;
}

void ed_web_reader_put(struct ed_web *w, struct ed_store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&w->pool_lock);
	if (w->npool == w->cap) {
		size_t ncap = w->cap ? 2 * w->cap : 8;
		struct ed_store **v = realloc(w->pool, ncap * sizeof(*v));
		if (v) {
			w->pool = v;
			w->cap = ncap;
		}
	}
	if (w->npool < w->cap) {
		w->pool[w->npool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&w->pool_lock);
	ed_store_close(st);
}

/* --- tokens --- */

void ed_web_envs_free(char **envs, size_t n)
{
	for (size_t i = 0; envs && i < n; i++)
		free(envs[i]);
	free(envs);
}

/* The bearer token of the request in *tok (borrowed) and *len; false when there is none. */
static bool bearer(struct MHD_Connection *c, const char **tok, size_t *len)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	size_t n = strlen(h);
	while (n && h[n - 1] == ' ')
		n--;
	if (!n || n > 512)
		return false;
	*tok = h;
	*len = n;
	return true;
}

unsigned ed_web_auth(struct ed_web *w, struct ed_store *st, struct MHD_Connection *c,
		     enum ed_web_access access, char ***envs, size_t *nenvs)
{
	struct ed_err err = {0};
	struct ed_token *v = NULL;
	size_t n = 0;
	if (envs) {
		*envs = NULL;
		*nenvs = 0;
	}
	if (ed_store_tokens(st, &v, &n, &err))
		return 500;
	bool any_reader = false;
	for (size_t i = 0; i < n; i++)
		if (!v[i].revoked_at[0] && v[i].role != ED_TOKEN_PUSH)
			any_reader = true;
	const char *tok;
	size_t len;
	const struct ed_token *match = NULL;
	uint8_t mac[ED_FP_LEN];
	if (bearer(c, &tok, &len) && ed_token_mac(w->key, tok, len, mac, &err) == ED_OK) {
		/* Every token is compared, each in constant time: the time tells nothing. */
		for (size_t i = 0; i < n; i++)
			if (CRYPTO_memcmp(mac, v[i].mac, ED_FP_LEN) == 0)
				match = &v[i];
		if (match && match->revoked_at[0])
			match = NULL;
	}
	unsigned status = 0;
	if (access == ED_WEB_READ) {
		if (match ? match->role == ED_TOKEN_PUSH : !(w->loopback && !any_reader))
			status = match ? 403 : 401;
	} else if (!match) {
		status = 401;
	} else if (match->role == ED_TOKEN_READ) {
		status = 403;
	} else if (envs && match->nenvs) {
		if (!(*envs = calloc(match->nenvs, sizeof(**envs)))) {
			status = 500;
		} else {
			for (size_t i = 0; i < match->nenvs && !status; i++) {
				if (!((*envs)[i] = strdup(match->envs[i])))
					status = 500;
				else
					(*nenvs)++;
			}
		}
	}
	ed_tokens_free(v, n);
	return status;
}

/* --- requests --- */

static bool host_allowed(const struct ed_web *w, const char *host)
{
	if (!host)
		return false;
	for (size_t i = 0; i < w->nhosts; i++)
		if (strcasecmp(host, w->hosts[i]) == 0)
			return true;
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct ed_web *w = cls;
	struct ed_req *r = *con_cls;
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))))
			return MHD_NO;
		r->w = w;
		r->fd = -1;
		r->t0_ms = ed_now_ms();
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->path, sizeof(r->path), "%s", url);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const struct sockaddr *sa = ci ? ci->client_addr : NULL;
		if (sa && sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				  r->peer, sizeof(r->peer));
		else if (sa && sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				  r->peer, sizeof(r->peer));
		else
			snprintf(r->peer, sizeof(r->peer), "-");
		*con_cls = r;

		bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
		bool post = strcmp(method, "POST") == 0;
		if (!get && !post)
			return ed_web_error(c, r, 405, "method %s is not allowed: GET, HEAD or POST",
					    method);
		/* DNS rebinding: a page of another site must not reach us through its name. */
		if (!host_allowed(w, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_HOST)))
			return ed_web_error(c, r, 421, "this server does not answer for that Host "
						       "header (see --listen and --public-url)");
		if (post && strcmp(url, "/api/v1/snapshots") == 0)
			return ed_web_push_start(c, r);
		if (post)
			return ed_web_error(c, r, 405, "POST goes to /api/v1/snapshots only");
		return MHD_YES; /* answered when the request is whole */
	}
	if (r->push) {
		if (*upload_data_size)
			return ed_web_push_data(c, r, upload_data, upload_data_size);
		return ed_web_push_end(c, r);
	}
	if (*upload_data_size) { /* a body nobody asked for */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->status)
		return MHD_YES;
	return ed_web_api(c, r, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)c;
	struct ed_web *w = cls;
	struct ed_req *r = *con_cls;
	if (!r)
		return;
	char at[ED_ISOTIME_SIZE];
	ed_isotime_now(at);
	unsigned cls_ = r->status / 100;
	if (cls_ >= 1 && cls_ <= 5)
		atomic_fetch_add(&w->by_class[cls_], 1);
	ed_term_printf(stderr, "%s %s %s %s %u %zu %lldms%s\n", at, r->peer, r->method, r->path,
		       r->status, r->bytes, ed_now_ms() - r->t0_ms,
		       toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
	ed_web_push_release(r);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	ed_info("libmicrohttpd: %s", msg);
}

/* --- the daemon --- */

/* Parses ADDR:PORT ([V6]:PORT, localhost:PORT) into ss. False when it is none of them. */
static bool parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, char *addr,
			 size_t addr_cap, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p > 65535)
		return false;
	size_t n = (size_t)(colon - s);
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= addr_cap)
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (strcmp(addr, "localhost") == 0)
		snprintf(addr, addr_cap, "127.0.0.1");
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*sl = sizeof(*in6);
	} else {
		return false;
	}
	*port = (unsigned)p;
	return true;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void add_host(struct ed_web *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_host(struct ed_web *w, const char *fmt, ...)
{
	if (w->nhosts == ED_WEB_MAX_HOSTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(w->hosts[w->nhosts], sizeof(w->hosts[0]), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(w->hosts[0]))
		w->nhosts++;
}

/* The Host values of --public-url: host:port, and host alone on the scheme's port. */
static enum ed_code add_public_url(struct ed_web *w, const char *url, struct ed_err *err)
{
	const char *p = strstr(url, "://");
	bool https = strncasecmp(url, "https://", 8) == 0;
	if (!p || !(https || strncasecmp(url, "http://", 7) == 0))
		return ed_err_set(err, ED_USAGE, "--public-url %s: expected http://HOST[:PORT]/... "
						 "or https://...", url);
	p += 3;
	size_t n = strcspn(p, "/?#");
	if (n == 0 || n >= sizeof(w->hosts[0]) || memchr(p, '@', n))
		return ed_err_set(err, ED_USAGE, "--public-url %s: no host in it", url);
	char hp[300];
	memcpy(hp, p, n);
	hp[n] = '\0';
	add_host(w, "%s", hp);
	const char *colon = strrchr(hp, ':');
	bool has_port = colon && !strchr(colon, ']');
	if (!has_port)
		add_host(w, "%s:%s", hp, https ? "443" : "80");
	else if (strcmp(colon + 1, https ? "443" : "80") == 0) {
		hp[colon - hp] = '\0';
		add_host(w, "%s", hp);
	}
	return ED_OK;
}

/* Whether the store holds a valid token that may read (read or admin). */
static enum ed_code has_reader(struct ed_web *w, bool *yes, struct ed_err *err)
{
	struct ed_store *st = ed_web_reader(w, err);
	struct ed_token *v = NULL;
	size_t n = 0;
	if (!st)
		return err->code;
	enum ed_code rc = ed_store_tokens(st, &v, &n, err);
	*yes = false;
	for (size_t i = 0; !rc && i < n; i++)
		if (!v[i].revoked_at[0] && v[i].role != ED_TOKEN_PUSH)
			*yes = true;
	ed_tokens_free(v, n);
	ed_web_reader_put(w, st);
	return rc;
}

/* The folder of path ("." when it has none) into out. */
static void folder_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

enum ed_code ed_web_serve(const struct ed_web_opts *o, struct ed_err *err)
{
	struct ed_web w = {.o = o};
	struct ed_buf cert = ED_BUF_INIT, key = ED_BUF_INIT;
	struct MHD_Daemon *d = NULL;
	enum ed_code rc = ED_OK;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	char addr[256];
	unsigned port = 0;
	bool tls = o->tls_cert || o->tls_key;
	sigset_t stop;
	pthread_mutex_init(&w.pool_lock, NULL);
	pthread_mutex_init(&w.write_lock, NULL);
	pthread_mutex_init(&w.verdict_lock, NULL);
	pthread_mutex_init(&w.wake_lock, NULL);
	pthread_t verdicts;
	bool worker = false;

	if (!parse_listen(o->listen, &ss, &sl, addr, sizeof(addr), &port)) {
		rc = ed_err_set(err, ED_USAGE,
				"--listen %s: expected ADDR:PORT (127.0.0.1:8479, [::1]:8479, "
				"0.0.0.0:8479)", o->listen);
		goto out;
	}
	if (tls && !(o->tls_cert && o->tls_key)) {
		rc = ed_err_set(err, ED_USAGE, "--tls-cert and --tls-key go together");
		goto out;
	}
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		rc = ed_err_set(err, ED_UNSUPPORTED, "this libmicrohttpd has no TLS support");
		goto out;
	}
	if (tls && (ed_buf_read_file(&cert, "--tls-cert", o->tls_cert, 1 << 20, err) ||
		    ed_buf_read_file(&key, "--tls-key", o->tls_key, 1 << 20, err))) {
		rc = err->code;
		goto out;
	}
	w.loopback = is_loopback(&ss);
	folder_of(o->db, w.tmpdir, sizeof(w.tmpdir));
	/* The writer first: it checks the store (version, schema) once, with a clear message. */
	if ((rc = ed_store_open(o->db, ED_STORE_WRITE, NULL, &w.writer, err)) ||
	    (rc = ed_store_key(o->db, false, w.key, err)))
		goto out;
	if (!w.loopback) {
		bool yes = false;
		if ((rc = has_reader(&w, &yes, err)))
			goto out;
		if (!yes) {
			rc = ed_err_set(err, ED_USAGE,
					"--listen %s: not a loopback address, and the store holds no "
					"read token: anyone who can reach it could read the store. Add "
					"one first ('envdrift token add NAME --role read')",
					o->listen);
			goto out;
		}
		if (!tls)
			ed_warn("--listen %s without --tls-cert/--tls-key: tokens and snapshots "
				"travel in the clear; put TLS in front of it or give a certificate",
				o->listen);
	}

	/* Signals wait for sigwait() below: every thread libmicrohttpd starts inherits the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!(worker = ed_web_verdicts_start(&w, &verdicts))) {
		rc = ed_err_set(err, ED_NOMEM, "cannot start the verdict worker thread");
		goto out;
	}

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
			 (tls ? MHD_USE_TLS : 0);
	unsigned threads = o->threads > 0 ? (unsigned)o->threads : 2;
	/* The logger goes first, so that libmicrohttpd says everything through it. */
	struct MHD_OptionItem mo[16];
	size_t k = 0;
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, o->max_conns, NULL};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip, NULL};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL};
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, &w};
	if (tls) {
		mo[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert.p};
		mo[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key.p};
	}
	mo[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, &w, MHD_OPTION_ARRAY,
			     mo, MHD_OPTION_END);
	if (!d) {
		rc = ed_err_set(err, ED_IO, "--listen %s: cannot serve there (the port taken, or "
					    "the address not this machine's?)", o->listen);
		goto out;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (di && di->port)
		port = di->port;
	const char *shown = ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u";
	add_host(&w, shown, addr, port);
	if (w.loopback) {
		add_host(&w, "localhost:%u", port);
		add_host(&w, "127.0.0.1:%u", port);
		add_host(&w, "[::1]:%u", port);
	}
	if (o->public_url && (rc = add_public_url(&w, o->public_url, err)))
		goto out;
	ed_say("serving %s on %s://%s (%u threads); SIGTERM stops it", o->db, tls ? "https" : "http",
	       w.hosts[0], threads);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	ed_say("%s: no new connections; finishing the requests in flight",
	       sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_socket lsock = MHD_quiesce_daemon(d);
	long long deadline = ed_now_ms() + 5000;
	for (;;) {
		di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!di || di->num_connections == 0 || ed_now_ms() > deadline)
			break;
		usleep(20 * 1000);
	}
	MHD_stop_daemon(d);
	d = NULL;
	if (lsock != MHD_INVALID_SOCKET)
		close(lsock);
	ed_say("stopped");
out:
	if (d)
		MHD_stop_daemon(d);
	if (worker)
		ed_web_verdicts_stop(&w, verdicts);
	for (size_t i = 0; i < w.npool; i++)
		ed_store_close(w.pool[i]);
	free(w.pool);
	ed_store_close(w.writer);
	ed_buf_release(&cert);
	if (key.p)
		memset(key.p, 0, key.len);
	ed_buf_release(&key);
	memset(w.key, 0, sizeof(w.key));
	pthread_mutex_destroy(&w.pool_lock);
	pthread_mutex_destroy(&w.write_lock);
	pthread_mutex_destroy(&w.verdict_lock);
	pthread_mutex_destroy(&w.wake_lock);
	return rc;
}
