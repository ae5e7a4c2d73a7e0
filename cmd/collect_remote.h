/* SPDX-License-Identifier: MIT */
/*
 * collect --ssh --remote auto|never|always: the collection run by envdrift
 * on the host itself (agent mode), its document read from the exec channel
 * and stored as `ingest` stores one. Private to cmd/.
 */
#ifndef ED_CMD_COLLECT_REMOTE_H
#define ED_CMD_COLLECT_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "opt.h"
#include "ed/err.h"
#include "ed/source.h"

enum remote_mode { REMOTE_AUTO, REMOTE_NEVER, REMOTE_ALWAYS };

/* One remote collection. Everything is borrowed for the call. */
struct remote_opts {
	enum remote_mode mode;
	const char *command;    /* the program on the host: --remote-command, default "envdrift" */
	const char *label;      /* the destination as given (--ssh), for messages */
	const char *env, *host, *role;
	const char *profile;    /* the --profile file on this machine, or NULL */
	const struct ed_opt_list *paths, *schemas;
	const char *packages;   /* --packages, or NULL */
	int threads;            /* --threads, -1: not given */
	bool full, strict, accept_package_loss;
	int idle_ms;            /* longest silence of the host's envdrift (--io-timeout); 0: default */
	const char *db;         /* the store, when out is NULL */
	const char *out;        /* --out FILE ('-': stdout), or NULL: into the store */
	const char *keyfile;    /* --key, with out */
	const char *blocker;    /* why remote mode cannot serve this collection, or NULL */
};

/*
 * Decides, then collects: with mode never, or auto when the host has no
 * usable envdrift (not found, or not speaking envdrift.snapshot/1; said
 * once on stderr) or o->blocker is set, *done stays false and the caller
 * collects over SFTP. Otherwise runs `COMMAND collect --out - ...` on the
 * host with the store's key and the profile on its standard input
 * (cmd/agent.h), spools the document read from the channel to a private
 * temporary file, validates it as ingest does, checks that it is the
 * collection asked for (env, host, role), then stores it as one snapshot
 * (or writes it to o->out), prints the snapshot's (document's) id and a
 * closing line, and sets *done. Errors: always with no usable envdrift
 * (ED_NOTFOUND / ED_PARSE / ED_USAGE naming the host and why), the host's
 * envdrift failing (its exit status and last words), the connection, an
 * invalid document. Nothing is stored unless everything succeeded.
 */
enum ed_code remote_collect(struct ed_source *src, const struct remote_opts *o, bool *done,
			    struct ed_err *err);

#endif
