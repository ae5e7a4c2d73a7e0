/* SPDX-License-Identifier: MIT */
/* What the files of web/ share: the server's state, a request's, and the reply helpers. */
#ifndef ED_WEB_INT_H
#define ED_WEB_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include <jansson.h>

#include "ed/hash.h"
#include "ed/store.h"
#include "ed/token.h"
#include "ed/web.h"

#define ED_WEB_MAX_HOSTS 8

struct ed_web {
	const struct ed_web_opts *o;
	uint8_t key[ED_KEY_LEN];     /* the store's key: token MACs */
	bool loopback;               /* bound to a loopback address */
	char hosts[ED_WEB_MAX_HOSTS][300]; /* Host header values accepted, lower case */
	size_t nhosts;
	char tmpdir[4096];           /* where pushed bodies are spooled */
	pthread_mutex_t pool_lock;   /* guards pool */
	struct ed_store **pool;      /* idle read-only connections */
	size_t npool, cap;
	pthread_mutex_t write_lock;  /* the one writer: held for each push stored */
	struct ed_store *writer;
	atomic_ulong by_class[6];    /* requests answered, by status class (index 1..5) */
	atomic_ulong pushes_stored, pushes_replayed, pushes_refused;
};

/* One request; *con_cls of libmicrohttpd. */
struct ed_req {
	struct ed_web *w;
	long long t0_ms;
	char method[8];
	char path[256];
	char peer[64];
	unsigned status;     /* of the response queued, 0 until then */
	size_t bytes;        /* its body's size */
	/* a push */
	bool push;           /* the body goes to fd */
	bool refused;        /* a response is decided: the rest of the body is dropped */
	unsigned refuse_status;
	char refuse_msg[256];
	int fd;
	size_t received;     /* bytes of body on the wire */
	size_t spooled;      /* bytes written to fd (inflated) */
	bool gzip, zinit, zend;
	z_stream z;
};

/* A read-only connection to the store from the pool (opened when none is idle); NULL + err. */
struct ed_store *ed_web_reader(struct ed_web *w, struct ed_err *err);
/* Gives it back. */
void ed_web_reader_put(struct ed_web *w, struct ed_store *st);

/* Queues a response: status, content type, body (malloc'd, taken in every case). */
enum MHD_Result ed_web_reply(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			     const char *ctype, char *body, size_t len);
/* Queues a JSON document (its reference is taken); NULL: 500 out of memory. */
enum MHD_Result ed_web_json(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			    json_t *doc);
/* Queues {"error": MSG, "status": status}; MSG formatted, names no store path. */
enum MHD_Result ed_web_error(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The error err as a reply: the status its code calls for. */
enum MHD_Result ed_web_fail(struct MHD_Connection *c, struct ed_req *r, const struct ed_err *err);

/* What a request may do, as its token says. */
enum ed_web_access {
	ED_WEB_READ,
	ED_WEB_PUSH,
};
/*
 * Checks the request's bearer token against the store's tokens (read on st,
 * each compared in constant time) for access: 0 allowed, else the status to
 * answer (401 missing, wrong or revoked: no hint which; 403 a valid token
 * whose role does not allow it; 500). For a push, *envs receives the
 * environments the token may push (a copy to free with ed_web_envs_free(),
 * NULL for any).
 */
unsigned ed_web_auth(struct ed_web *w, struct ed_store *st, struct MHD_Connection *c,
		     enum ed_web_access access, char ***envs, size_t *nenvs);
void ed_web_envs_free(char **envs, size_t n);

/* A string valid as JSON text (invalid UTF-8 bytes as \xHH, backslashes doubled); NULL: no memory. */
json_t *ed_web_string(const char *s, size_t len);

/* msg for a client, into out (cap bytes): the store's path said "the store". */
void ed_web_scrub(const struct ed_web *w, const char *msg, char *out, size_t cap);

/* GET handlers of api.c: each queues its response. */
enum MHD_Result ed_web_api(struct MHD_Connection *c, struct ed_req *r, const char *url);

/* The push endpoint (push.c): the first call, each piece of body, and the end. */
enum MHD_Result ed_web_push_start(struct MHD_Connection *c, struct ed_req *r);
enum MHD_Result ed_web_push_data(struct MHD_Connection *c, struct ed_req *r, const char *data,
				 size_t *size);
enum MHD_Result ed_web_push_end(struct MHD_Connection *c, struct ed_req *r);
void ed_web_push_release(struct ed_req *r);

#endif
