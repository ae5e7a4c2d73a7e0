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

#include "ed/buf.h"
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
	pthread_mutex_t verdict_lock; /* one verdict computed at a time (verdicts.c) */
	pthread_mutex_t wake_lock;    /* guards poked and stopping, with wake */
	pthread_cond_t wake;          /* a push was stored, or serve stops: the worker looks */
	bool poked, stopping;
	atomic_ulong verdicts_by_worker, verdicts_by_request; /* computed (a diff run) by whom */
};

/*
 * A pair's verdict as the overview and /metrics show it (verdicts.c). It is
 * computed once per basis (the snapshots of both sides, the pair's last
 * recorded run, the policy's digest) by the verdict worker, when a push is
 * stored or within a second of any other change, and kept in the store
 * (verdict_cache), so that a page view or a scrape runs no diff.
 */
enum ed_web_verdict_state {
	ED_VERDICT_PASS,
	ED_VERDICT_BLOCK,       /* blocking drift */
	ED_VERDICT_CANNOT,      /* cannot vouch: the gate's exit 2 reasons */
};
struct ed_web_verdict {
	enum ed_web_verdict_state state;
	size_t drift, blocking, warnings, infos, ignored;
	char reason[512];       /* why it cannot vouch (scrubbed) */
	long long oldest;       /* the oldest snapshot's finish of both sides (Unix time), 0: none */
	bool compared;          /* both sides were compared: the counts are the drift's */
};
/* Verdicts the store keeps per pair (older bases are deleted). */
#define ED_WEB_VERDICTS_KEPT 16

/*
 * The verdict of ref against cand into *out; *cached says whether it came
 * from the store's cache. On a miss it is computed here (under verdict_lock,
 * so that the worker and requests never compute one twice) and kept. Only an
 * error of the store (or no memory) is an error: a pair that cannot be
 * compared is ED_VERDICT_CANNOT.
 */
enum ed_code ed_web_verdict(struct ed_web *w, struct ed_store *st, const char *ref,
			    const char *cand, struct ed_web_verdict *out, bool *cached,
			    struct ed_err *err);

/* The verdict worker: started before serving, stopped (and joined) after. */
bool ed_web_verdicts_start(struct ed_web *w, pthread_t *thread);
void ed_web_verdicts_stop(struct ed_web *w, pthread_t thread);
/* Tells the worker to look now (a push was stored). */
void ed_web_verdicts_poke(struct ed_web *w);

/* The dashboard's pairs (serve --pair; none: production:staging): how many, and the i-th. */
size_t ed_web_npairs(const struct ed_web *w);
bool ed_web_pair(const struct ed_web *w, size_t i, char *ref, char *cand, size_t cap);

/* "REF:CAND" (split at the last ':') into ref and cand of cap bytes each; false if malformed. */
bool ed_web_split_pair(const char *s, char *ref, char *cand, size_t cap);

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

/* GET handlers of api.c: each queues its response; what is not the API goes to ed_web_pages(). */
enum MHD_Result ed_web_api(struct MHD_Connection *c, struct ed_req *r, const char *url);

/* The dashboard's HTML pages and their static files (pages.c). */
enum MHD_Result ed_web_pages(struct MHD_Connection *c, struct ed_req *r, const char *url);

/* A whole number from lo to hi in s; false when s is anything else. */
bool ed_web_parse_num(const char *s, long long lo, long long hi, long long *out);
/* An item cursor: base64url of KIND NUL KEY (malloc'd; NULL: no memory). */
char *ed_web_cursor_encode(const struct ed_buf *kind, const struct ed_buf *key);
/* Decodes s into raw (KIND NUL KEY), *kind_len the kind's length; false when it is no cursor. */
bool ed_web_cursor_decode(const char *s, struct ed_buf *raw, size_t *kind_len);

/* The push endpoint (push.c): the first call, each piece of body, and the end. */
enum MHD_Result ed_web_push_start(struct MHD_Connection *c, struct ed_req *r);
enum MHD_Result ed_web_push_data(struct MHD_Connection *c, struct ed_req *r, const char *data,
				 size_t *size);
enum MHD_Result ed_web_push_end(struct MHD_Connection *c, struct ed_req *r);
void ed_web_push_release(struct ed_req *r);

#endif
