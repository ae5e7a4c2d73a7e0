/* SPDX-License-Identifier: MIT */
/*
 * collect --push: a snapshot document sent to 'envdrift serve' over HTTP(S)
 * with libcurl (POST /api/v1/snapshots, docs/api.md). Private to cmd/: only
 * the collect command pushes, and keeping libcurl here spares every other
 * layer (and the server) from linking it.
 */
#ifndef ED_CMD_PUSH_HTTP_H
#define ED_CMD_PUSH_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "ed/err.h"

/* How to push; everything borrowed for the call. */
struct push_opts {
	const char *url;        /* the server's base URL: http[s]://HOST[:PORT][/PREFIX] */
	const char *token_file; /* the push token's file (first line); NULL: no token */
	const char *cacert;     /* a CA bundle (PEM) to verify the server with; NULL: the system's */
	int tries;              /* attempts in all (>= 1) */
	int backoff_ms;         /* the wait before the second attempt, doubled after each */
};

/* What the server answered to a stored (201) or replayed (200) document. */
struct push_result {
	int64_t id;             /* the snapshot's id in the server's store */
	int64_t items;
	bool replayed;          /* 200: the server already held this document */
	char env[256], host[256];
};

/*
 * Fills tries and backoff_ms: 4 attempts, 1 s then 2 s then 4 s; the
 * environment variables ENVDRIFT_PUSH_TRIES and ENVDRIFT_PUSH_BACKOFF_MS
 * (for tests, not documented in --help) override them.
 */
void push_opts_defaults(struct push_opts *o);

/*
 * Checks url (http or https, a host, no user name or password in it) before
 * anything is collected. ED_USAGE with the reason.
 */
enum ed_code push_check_url(const char *url, struct ed_err *err);

/*
 * Checks the token file before anything is collected: it exists, is a
 * regular file, is not readable or writable by group or others, and its
 * first line holds a token. The token is read again (and wiped) by push_file.
 */
enum ed_code push_check_token_file(const char *path, struct ed_err *err);

/*
 * Sends the document at docpath, gzip-compressed into an unlinked temporary
 * file first (the document is never held in memory), to o->url +
 * "/api/v1/snapshots". Connection errors and 5xx answers are tried again,
 * o->tries times in all, waiting o->backoff_ms, then twice as long...
 * A 4xx answer fails at once with its status and the server's "error"
 * text; a TLS certificate that does not verify fails at once too.
 * Errors: ED_CONN (no answer, or 5xx after every try), ED_DENIED (401, 403),
 * ED_PARSE (4xx otherwise, or an answer that is not the API's), ED_IO, ED_NOMEM.
 * The token never appears in a message.
 */
enum ed_code push_file(const struct push_opts *o, const char *docpath, struct push_result *res,
		       struct ed_err *err);

#endif
