/* SPDX-License-Identifier: MIT */
/*
 * envdrift serve: the dashboard, the JSON API, /metrics and the push endpoint over the store
 * (libmicrohttpd, an internal thread pool; a read-only store connection per
 * request, one serialised writer for pushed snapshots).
 */
#ifndef ED_WEB_H
#define ED_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "ed/err.h"

/* How to serve; strings are borrowed for the call. */
struct ed_web_opts {
	const char *db;         /* the store */
	const char *listen;     /* ADDR:PORT, [V6ADDR]:PORT or localhost:PORT; port 0: any free one */
	const char *tls_cert;   /* PEM files, both or neither */
	const char *tls_key;
	const char *policy;     /* the policy the API's diff and gate judge by; NULL: the default */
	const char *public_url; /* the URL clients use (a proxy's): its host is accepted too */
	int threads;            /* request threads */
	size_t max_body;        /* the largest pushed body, on the wire and once inflated */
	unsigned timeout_s;     /* an idle connection is closed after this many seconds */
	unsigned max_conns;     /* connections at once, in all */
	unsigned max_per_ip;    /* connections at once from one address */
	long long stale_s;      /* the dashboard marks a host stale after this many seconds */
	const char *const *pairs; /* the dashboard's verdicts: "REF:CAND" each (none: */
	size_t npairs;            /* production:staging) */
};

/* A host's last complete snapshot older than this is stale on the dashboard: 36 h. */
#define ED_WEB_STALE_S (36LL * 3600)

/* Where libmicrohttpd's defaults would be unsafe, ours. */
#define ED_WEB_DEFAULT_LISTEN "127.0.0.1:8479"
#define ED_WEB_DEFAULT_MAX_BODY ((size_t)256 << 20)
#define ED_WEB_TIMEOUT_S 30
#define ED_WEB_MAX_CONNS 512
#define ED_WEB_MAX_PER_IP 64

/*
 * Serves until SIGTERM or SIGINT: then stops accepting, lets the requests
 * in flight finish (a few seconds at most), and returns ED_OK. Errors before
 * serving (a bad --listen, a non-loopback address while the store holds no
 * read token, an unreadable certificate, a port taken) name the problem.
 * Logs one line per request on stderr.
 */
enum ed_code ed_web_serve(const struct ed_web_opts *o, struct ed_err *err);

#endif
