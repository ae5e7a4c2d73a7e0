/* SPDX-License-Identifier: MIT */
/* envdrift serve: the dashboard, the JSON API, /metrics and the push endpoint over HTTP (web/). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "opt.h"
#include "ed/web.h"

static const struct ed_cmd_help help = {
	.name = "serve",
	.usage = "serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE] [--threads N] "
		 "[--max-body BYTES] [--public-url URL] [--policy FILE] [--stale DURATION] "
		 "[--pair REF:CAND]...",
	.intro = "Serves the store over HTTP until SIGTERM or SIGINT (then it stops accepting, "
		 "lets the requests in flight finish and exits 0): a dashboard of HTML pages "
		 "(/: the verdict of each pair and every host's age; /diff, /host/ENV/HOST, "
		 "/history, /snapshots), the JSON API under /api/v1/ "
		 "(health, envs, snapshots, a snapshot's items, diff, gate: docs/api.md), GET "
		 "/metrics for Prometheus, and POST /api/v1/snapshots, where agents push "
		 "envdrift.snapshot/1 documents (gzip allowed), stored as 'envdrift ingest' "
		 "stores them, once per document id. Every request answers from a read-only "
		 "connection; pushes are stored one at a time by a single writer.\n"
		 "Access: 'Authorization: Bearer TOKEN' ('envdrift token'). On a loopback "
		 "address reads are open until the store holds a read token; any other address "
		 "is refused until it does, and is warned about without TLS. Pushes always need "
		 "a push or admin token. Requests whose Host header names neither --listen nor "
		 "--public-url are refused (421), as are methods other than GET, HEAD and POST "
		 "(405). An idle connection is closed after 30 s; at most 512 connections, 64 "
		 "from one address. One line per request on stderr: time, peer, method, path, "
		 "status, bytes, milliseconds.",
	.outro = "Exit status: 0 stopped by a signal, 2 error (a bad option, no store, an address "
		 "that cannot be served).",
};

static int parse_size(const struct ed_opt *o, const char *arg, void *ctx)
{
	size_t *out = ctx;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	unsigned long long mult = 1;
	if (*end == 'K' || *end == 'k')
		mult = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mult = 1024 * 1024 * 1024, end++;
	if (errno || *end || end == arg || arg[0] == '-' || v == 0 || v > (1ULL << 30) / mult)
		return ed_cli_usage_error("serve", "--%s %s: expected a size from 1 byte to 1G "
						   "(bytes, or with K, M or G)", o->name, arg),
		       -1;
	*out = (size_t)(v * mult);
	return 0;
}

int ed_cmd_serve(int argc, char **argv, struct ed_cli *cli)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct ed_web_opts o = {
		.listen = ED_WEB_DEFAULT_LISTEN,
		.threads = ncpu > 0 ? (int)(ncpu < 16 ? ncpu : 16) : 2,
		.max_body = ED_WEB_DEFAULT_MAX_BODY,
		.timeout_s = ED_WEB_TIMEOUT_S,
		.max_conns = ED_WEB_MAX_CONNS,
		.max_per_ip = ED_WEB_MAX_PER_IP,
		.stale_s = ED_WEB_STALE_S,
	};
	struct ed_opt_list pairs = {0};
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "listen", "ADDR:PORT", &o.listen,
			       "where to listen (default " ED_WEB_DEFAULT_LISTEN "; [::1]:PORT for "
			       "IPv6; port 0: any free port, shown on stderr). An address other "
			       "than loopback needs a read token in the store"),
		ED_OPT_STRING_(0, "tls-cert", "FILE", &o.tls_cert,
			       "serve HTTPS with this PEM certificate (chain), with --tls-key"),
		ED_OPT_STRING_(0, "tls-key", "FILE", &o.tls_key,
			       "the certificate's PEM private key"),
		ED_OPT_INT_(0, "threads", "N", &o.threads, 1, 64,
			    "request threads (default: the number of CPUs, at most 16)"),
		ED_OPT_CALL_(0, "max-body", "BYTES", parse_size, &o.max_body,
			     "the largest pushed document, on the wire and once inflated "
			     "(default 256M; K, M, G suffixes); larger ones are refused with 413 "
			     "while they arrive"),
		ED_OPT_STRING_(0, "public-url", "URL", &o.public_url,
			       "the URL clients use, such as a reverse proxy's "
			       "(https://drift.example.com/): its host is an accepted Host header"),
		ED_OPT_STRING_(0, "policy", "FILE", &o.policy,
			       "judge /api/v1/diff, /api/v1/gate, /metrics and the dashboard by FILE "
			       "on top of the built-in default policy, as 'diff --policy' does"),
		ED_OPT_DURATION_(0, "stale", "DURATION", &o.stale_s,
				 "the dashboard marks a host stale, and a verdict 'cannot vouch', "
				 "when its last complete snapshot is older (default 36h)"),
		ED_OPT_LIST_(0, "pair", "REF:CAND", &pairs,
			     "a pair of environments whose verdict the dashboard's overview shows "
			     "(repeatable; default production:staging)"),
		ED_OPT_END_(),
	};
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
	if (status >= 0) {
		ed_opt_list_release(&pairs);
		return status;
	}
	for (size_t i = 0; i < pairs.n; i++) {
		const char *colon = strrchr(pairs.items[i], ':');
		if (!colon || colon == pairs.items[i] || !colon[1] || strlen(pairs.items[i]) > 500) {
			int bad = ed_cli_usage_error("serve", "--pair %s: expected REF:CAND, such as "
								"production:staging", pairs.items[i]);
			ed_opt_list_release(&pairs);
			return bad;
		}
	}
	o.pairs = pairs.items;
	o.npairs = pairs.n;
	o.db = cli->db;
	struct ed_err err = {0};
	enum ed_code rc = ed_web_serve(&o, &err);
	ed_opt_list_release(&pairs);
	if (rc)
		return ed_cli_fail(&err);
	return ED_EXIT_OK;
}
