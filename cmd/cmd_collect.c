/* SPDX-License-Identifier: MIT */
/* envdrift collect: one snapshot of one host, written to the store in one transaction. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "collect_remote.h"
#include "opt.h"
#include "push_http.h"
#include "state_file.h"
#include "ed/collect.h"
#include "ed/keyfile.h"
#include "ed/profile.h"
#include "ed/snapdoc.h"
#include "ed/ssh.h"
#include "ed/store.h"

static const struct ed_cmd_help help = {
	.name = "collect",
	.usage = "collect --env ENV [--host NAME] [--role ROLE] [OPTIONS]\n"
		 "collect --env ENV --ssh USER@HOST[:PORT] [OPTIONS]\n"
		 "collect --env ENV --out FILE --key KEYFILE [OPTIONS]\n"
		 "collect --env ENV --push URL --key KEYFILE [--token-file F] [--cacert F] [OPTIONS]\n"
		 "collect --inventory FILE [--env ENV]... [-j N] [--full]",
	.intro = "Fingerprints one host and stores the result as one snapshot of ENV. Prints "
		 "the new snapshot's id on stdout; progress and warnings go to stderr.",
	.outro = "A failed or interrupted collection never shows up as complete: the snapshot "
		 "stays 'running', 'failed' or 'abandoned', without items.\n"
		 "With --push, the snapshot is stored by the server: its id there is printed, and "
		 "a push refused (4xx) or not answered after the retries exits 2.\n"
		 "Exit status: 0 stored, 2 error.",
};

/* The command line. */
struct args {
	const char *env, *host, *role, *root, *profile, *packages;
	const char *out, *key, *baseline_db, *ssh;
	const char *push, *token_file, *cacert; /* --push: to 'envdrift serve' */
	const char *state;                      /* --state: the baseline without a store */
	struct ed_opt_list paths, schemas;
	bool full;
	bool accept_package_loss;
	bool strict;
	bool data_shape;          /* --data-shape: [data] shape = yes */
	int threads;              /* -1: the profile's */
	struct ed_ssh_opts sopts; /* --known-hosts and the other SSH options */
	struct ed_ssh_dest dest;  /* --ssh, parsed */
	const char *remote;         /* --remote auto|never|always */
	const char *remote_command; /* --remote-command PATH */
	enum remote_mode mode;      /* --remote, parsed */
	struct ed_buf stdin_profile; /* --profile -: the profile's text, read from stdin */
	uint8_t stdin_key[ED_KEY_LEN]; /* --key -: the key, read from stdin */
};

/*
 * A sink in front of the store's that clears the progress line before a
 * warning is printed, so warnings never end up glued to it, and counts the
 * items that carry an error (a file that could not be read).
 */
struct progress_sink {
	struct ed_sink sink;
	struct ed_sink *next;
	bool tty;
	int64_t errors;
	char first_error[200]; /* the first of them */
};

static enum ed_code progress_emit(struct ed_sink *sink, const struct ed_item *it,
				  struct ed_err *err)
{
	struct progress_sink *ps = sink->ctx;
	if (it->error && !ps->errors++)
		snprintf(ps->first_error, sizeof(ps->first_error), "%s", it->error);
	return ps->next->emit(ps->next, it, err);
}

static void progress_warn(struct ed_sink *sink, const char *msg)
{
	struct progress_sink *ps = sink->ctx;
	if (ps->tty)
		fputs("\r\033[K", stderr);
	ps->next->warn(ps->next, msg);
}

static enum ed_code progress_content(struct ed_sink *sink, const struct ed_fp *fp,
				     const char *data, size_t len, struct ed_err *err)
{
	struct progress_sink *ps = sink->ctx;
	if (!ps->next->content)
		return ED_OK;
	return ps->next->content(ps->next, fp, data, len, err);
}

/* One collection, from its profile to its closing line. */
struct collection {
	struct ed_profile prof;
	struct ed_collect_plan plan;
	struct ed_source *src;
	const char *host;             /* --host, else the host's own name (hostbuf) */
	char hostbuf[256];
	uint8_t key[ED_KEY_LEN];      /* fingerprints secrets */
	struct ed_baseline baseline;  /* read when .ctx is set */
	int64_t prev_id;              /* the snapshot the baseline is; 0: none (or --full) */
	int64_t stale;                /* the previous snapshot, collected with other settings */
	bool delta;                   /* the store writes a delta on prev_id */
	struct ed_store *st;          /* into the store ... */
	struct ed_snapwriter *w;
	struct ed_snapdoc_writer *dw; /* ... or, with --out or --push, into a document */
	char *docpath;                /* the document: --out, or a file in tmpdir for --push */
	char *tmpdir;                 /* --push without --out: a private folder, removed at the end */
	bool doc_written;             /* the document is complete at docpath */
	bool from_state;              /* baseline is --state's (state_file.c), not a store's */
	struct state_writer *sw;      /* --state: what this collection leaves for the next */
	char *state_path;             /* --state auto, resolved */
	struct progress_sink ps;
	struct ed_files_stats stats;
};

/* --connect-timeout, --io-timeout: seconds into milliseconds. */
static int parse_timeout(const struct ed_opt *o, const char *arg, void *ctx)
{
	char *end;
	double secs = strtod(arg, &end);
	if (*end || end == arg || !(secs >= 0.1 && secs <= 3600)) {
		ed_cli_usage_error("collect", "--%s %s: expected 0.1 to 3600 seconds", o->name, arg);
		return -1;
	}
	*(int *)ctx = (int)(secs * 1000);
	return 0;
}

/* The options, then the checks that need several of them; -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct ed_cli *cli, struct args *a)
{
	struct ed_ssh_opts *so = &a->sopts;
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "env", "ENV", &a->env,
			       "environment the host belongs to (production, staging...)"),
		ED_OPT_STRING_(0, "host", "NAME", &a->host,
			       "host name (default: ROOT/etc/hostname, else this machine's)"),
		ED_OPT_STRING_(0, "role", "ROLE", &a->role,
			       "the host's role in a fleet (web, db...): environments are compared "
			       "role by role, and a host that disagrees with the majority of its role "
			       "is reported as a snowflake"),
		ED_OPT_STRING_(0, "root", "DIR", &a->root,
			       "read the host's filesystem under DIR (a mounted image or a fixture); "
			       "every path below is inside DIR, and '..' or symlinks cannot lead out "
			       "of it (default /)"),
		ED_OPT_TEXT_("What to collect:"),
		ED_OPT_STRING_(0, "profile", "FILE", &a->profile,
			       "what to collect (docs/profile.md); default: the built-in profile "
			       "(/etc, every package manager found, system facts). '-': read from "
			       "standard input, after the key line with --key - (agent mode, "
			       "docs/inventory.md)"),
		ED_OPT_LIST_(0, "path", "P", &a->paths,
			     "a tree to fingerprint, repeatable. Replaces the built-in default /etc; "
			     "adds to the paths of a --profile file. Files are hashed (XXH3-128), "
			     "symlinks recorded and never followed, FIFOs, sockets and devices "
			     "recorded and never opened. Structured configs (JSON, YAML, INI, "
			     "key=value) also yield one config item per value; secrets are stored "
			     "only as keyed fingerprints (HMAC, see PATH.key)"),
		ED_OPT_CHOICE_(0, "packages", "LIST", &a->packages, "auto none dpkg rpm apk pypi npm",
			       "package managers, comma-separated: auto (those found), none, or any "
			       "of dpkg, rpm, apk, pypi, npm"),
		ED_OPT_LIST_(0, "schema", "[NAME=]ENGINE:TARGET", &a->schemas,
			     "fingerprint a database schema, repeatable: [NAME=]sqlite:FILE or "
			     "[NAME=]postgres:CONNINFO. sqlite: FILE is opened read-only under --root; "
			     "postgres: psql runs on the host. NAME labels it in item keys (default: "
			     "FILE's base name, or the dbname), so differently named databases of "
			     "staging and production compare as one"),
		ED_OPT_FLAG_(0, "data-shape", &a->data_shape,
			     "also record the data shape of the --schema databases (row counts, "
			     "sizes, null fractions, distinct ratios; never a value), as the "
			     "profile's [data] shape = yes does"),
		ED_OPT_FLAG_(0, "accept-package-loss", &a->accept_package_loss,
			     "store the packages read even when they are fewer than half of the "
			     "previous snapshot's, with warnings (without it, that fails the "
			     "collection: a package database or tool that printed junk)"),
		ED_OPT_FLAG_(0, "strict", &a->strict,
			     "fail the collection (exit 2, nothing stored) when any item could not "
			     "be read, such as a file the user may not read; without it such items "
			     "are stored with their error, and the closing line counts them"),
		ED_OPT_FLAG_(0, "full", &a->full,
			     "read and hash every file, even those unchanged (same device, inode, "
			     "size, mtime and ctime) since the host's previous snapshot, whose "
			     "fingerprints are otherwise reused, and store every item; otherwise, "
			     "when that snapshot was collected the same way (profile, paths, root; "
			     "not over SSH), only what changed is stored, as a delta on it"),
		ED_OPT_INT_(0, "threads", "N", &a->threads, 0, 256,
			    "hashing threads (default 0: one per core; with --ssh, 4, each with its "
			    "own connection)"),
		ED_OPT_TEXT_("Push mode:"),
		ED_OPT_STRING_(0, "out", "FILE", &a->out,
			       "write the snapshot as a JSON document (envdrift.snapshot/1, "
			       "docs/snapshot-format.md) to FILE ('-': stdout) instead of a store, for "
			       "'envdrift ingest' elsewhere; prints the document's id. No store is "
			       "written; every file is read unless --baseline-db names a store"),
		ED_OPT_STRING_(0, "baseline-db", "STORE", &a->baseline_db,
			       "with --out or --push: reuse the fingerprints of unchanged files from this "
			       "host's previous snapshot in STORE (read only)"),
		ED_OPT_STRING_(0, "key", "KEYFILE", &a->key,
			       "with --out or --push, required: a copy of the key file (STORE.key, 32 "
			       "bytes, mode 0600) of the store the document is for, so secrets get the "
			       "keyed fingerprints that store compares. '-': the first line of standard "
			       "input, 64 hex digits, held in memory only (how agent mode sends it)"),
		ED_OPT_STRING_(0, "push", "URL", &a->push,
			       "send the snapshot document to 'envdrift serve' at URL (its base URL, "
			       "https://HOST:PORT; POST URL/api/v1/snapshots, gzip-compressed) instead of "
			       "a store; with --out FILE the document is also kept there. TLS peers "
			       "and host names are verified. No answer or a 5xx answer is tried again "
			       "after 1, 2 and 4 s; a 4xx answer (a bad token: 401, a token of another "
			       "environment: 403, an invalid document: 422) fails at once. Prints the "
			       "snapshot's id in the server's store"),
		ED_OPT_STRING_(0, "token-file", "FILE", &a->token_file,
			       "with --push: the file whose first line is the push token ('envdrift "
			       "token add NAME --role push'), sent as 'Authorization: Bearer'; it must "
			       "not be readable by group or others (chmod 600). Default: the "
			       "environment variable ENVDRIFT_TOKEN_FILE. A token is never taken from "
			       "the command line"),
		ED_OPT_STRING_(0, "cacert", "FILE", &a->cacert,
			       "with --push to https://: the CA certificate(s) (PEM) that sign the "
			       "server's certificate, for a private CA (default: the system's CAs)"),
		ED_OPT_STRING_(0, "state", "FILE", &a->state,
			       "with --push or --out: the incremental baseline of an agent without a "
			       "store. FILE (mode 0600, written whole) keeps the stat data, "
			       "fingerprints and config items of the snapshot last pushed (or written "
			       "with --out alone), so the next collection reuses the fingerprints of "
			       "unchanged files instead of reading them; it is written after a "
			       "successful push only, and ignored (every file read) when it was made "
			       "for another env, host or collection settings. Keep one per server. "
			       "'auto': /var/lib/envdrift/state/ as root, else ~/.cache/envdrift/ "
			       "($ENVDRIFT_STATE_DIR when set), one file per key, env and host"),
		ED_OPT_TEXT_("Over SSH:"),
		ED_OPT_STRING_(0, "ssh", "USER@HOST[:PORT]", &a->ssh,
			       "read the host over SSH (SFTP for files; commands such as uname, rpm "
			       "and psql run on the host) instead of this machine; not with --root. "
			       "IPv6: USER@[ADDR]:PORT. Each hashing thread opens its own connection"),
		ED_OPT_STRING_(0, "remote", "auto|never|always", &a->remote,
			       "with --ssh: run envdrift on the host itself (agent mode) when it has "
			       "one that speaks " ED_SNAPDOC_FORMAT ": 'envdrift --version' is run "
			       "there first; then 'envdrift collect --out -' runs on the host under nice "
			       "and ionice, the store's key and the profile go over the channel's "
			       "standard input (never on a command line, never on the host's disk), "
			       "and only the snapshot document comes back, stored as 'ingest' stores "
			       "one. The host keeps its own --state (/var/lib/envdrift/state as root, "
			       "else ~/.cache/envdrift), so unchanged files are not read there either. "
			       "auto (default): SFTP when the host has no usable envdrift, saying so "
			       "once; always: that is an error; never: SFTP, every byte of every file "
			       "read over the connection. A profile with max_rate, --push and --state "
			       "collect over SFTP"),
		ED_OPT_STRING_(0, "remote-command", "PATH", &a->remote_command,
			       "the envdrift program on the host for --remote (default 'envdrift', "
			       "looked up in the PATH of a non-interactive login)"),
		ED_OPT_STRING_(0, "known-hosts", "FILE", &so->known_hosts,
			       "the host keys to trust (default ~/.ssh/known_hosts, hashed entries "
			       "included); an unknown, changed or revoked host key is refused before "
			       "authenticating"),
		ED_OPT_FLAG_(0, "accept-new-host-keys", &so->accept_new,
			     "add an unknown host's key to the known hosts file (as ssh's "
			     "StrictHostKeyChecking=accept-new); a changed key is still refused"),
		ED_OPT_STRING_(0, "identity", "FILE", &so->identity,
			       "the private key (ed25519 or ECDSA: libssh2 1.10 signs RSA with SHA-1, "
			       "which current OpenSSH refuses). Default: ssh-agent, then "
			       "~/.ssh/id_ed25519, id_ecdsa, id_rsa"),
		ED_OPT_STRING_(0, "passphrase-env", "VAR", &so->passphrase_env,
			       "the environment variable that holds the key's passphrase (never the "
			       "passphrase on the command line)"),
		ED_OPT_CALL_(0, "connect-timeout", "SECONDS", parse_timeout, &so->connect_timeout_ms,
			     "TCP connect and SSH handshake (default 10)"),
		ED_OPT_CALL_(0, "io-timeout", "SECONDS", parse_timeout, &so->op_timeout_ms,
			     "any later wait for the host (default 30): a host that stops "
			     "answering fails the collection, never hangs it"),
		ED_OPT_TEXT_("Every host of an inventory:\n"
			     "  --inventory FILE [--env ENV]... [-j N] [--full] is 'envdrift inventory "
			     "FILE ...': it collects every host of an inventory (docs/inventory.md) "
			     "over SSH, N hosts at a time (-j, default 8), one snapshot per host; "
			     "--env limits it to some environments. Ends with a table: host, status, "
			     "items, seconds, error. Exit 0 when every host was stored, 2 otherwise "
			     "(the others are stored). See 'envdrift inventory --help'."),
		ED_OPT_END_(),
	};
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
	if (status >= 0)
		return status;
	for (size_t i = 0; i < a->paths.n; i++)
		if (a->paths.items[i][0] != '/')
			return ed_cli_usage_error("collect", "--path %s: must be an absolute path on the host",
						  a->paths.items[i]);
	if (!a->env || !*a->env)
		return ed_cli_usage_error("collect", "--env ENV is required");
	if (a->host && !*a->host)
		return ed_cli_usage_error("collect", "--host must not be empty");
	if (a->out && !*a->out)
		return ed_cli_usage_error("collect", "--out needs a file name ('-': standard output)");
	if (!a->token_file && a->push) {
		const char *e = getenv("ENVDRIFT_TOKEN_FILE");
		if (e && *e)
			a->token_file = e;
	}
	if ((a->token_file || a->cacert) && !a->push)
		return ed_cli_usage_error("collect", "--token-file and --cacert are for --push URL");
	if (a->push && a->out && strcmp(a->out, "-") == 0)
		return ed_cli_usage_error("collect", "--push and --out - exclude each other: give "
						     "--out a file to keep the document too");
	if ((a->out || a->push) && !a->key)
		return ed_cli_usage_error("collect", "%s needs --key KEYFILE: a copy of the key file "
						     "(STORE.key) of the store the document will be "
						     "ingested into, so that secrets get that store's keyed "
						     "fingerprints",
					  a->push ? "--push" : "--out");
	if (a->key && !a->out && !a->push)
		return ed_cli_usage_error("collect", "--key is for --out and --push; a collection "
						     "into the store uses the store's own key");
	if (a->baseline_db && !a->out && !a->push)
		return ed_cli_usage_error("collect", "--baseline-db is for --out and --push");
	if (a->state && !a->out && !a->push)
		return ed_cli_usage_error("collect", "--state is for --push and --out; a collection "
						     "into the store uses the store as its baseline");
	if (a->state && a->baseline_db)
		return ed_cli_usage_error("collect", "--state and --baseline-db exclude each other");
	if (a->state && !*a->state)
		return ed_cli_usage_error("collect", "--state needs a file name");
	if (a->ssh && a->root)
		return ed_cli_usage_error("collect", "--root and --ssh exclude each other");
	if (!a->ssh && (so->known_hosts || so->identity || so->passphrase_env || so->accept_new ||
			so->connect_timeout_ms || so->op_timeout_ms || a->remote || a->remote_command))
		return ed_cli_usage_error("collect", "SSH options need --ssh USER@HOST");
	if (!a->remote || strcmp(a->remote, "auto") == 0)
		a->mode = REMOTE_AUTO;
	else if (strcmp(a->remote, "never") == 0)
		a->mode = REMOTE_NEVER;
	else if (strcmp(a->remote, "always") == 0)
		a->mode = REMOTE_ALWAYS;
	else
		return ed_cli_usage_error("collect", "--remote %s: expected auto, never or always",
					  a->remote);
	if (a->remote_command && (!*a->remote_command || a->remote_command[0] == '-'))
		return ed_cli_usage_error("collect", "--remote-command '%s': expected a program name "
						     "or path", a->remote_command);
	if (a->key && strcmp(a->key, "-") == 0 && a->ssh)
		return ed_cli_usage_error("collect", "--key - (the key on standard input) is for the "
						     "envdrift run on a host, not with --ssh");
	struct ed_err err = {0};
	if (a->ssh && ed_ssh_dest_parse(a->ssh, &a->dest, &err))
		return ed_cli_usage_error("collect", "%s", err.msg);
	/* A push that cannot succeed fails before the collection, not after it. */
	if (a->push && push_check_url(a->push, &err))
		return ed_cli_usage_error("collect", "%s", err.msg);
	if (a->push && a->token_file && push_check_token_file(a->token_file, &err))
		return ed_cli_fail(&err);
	/* Names are shown on terminals and stored: printable, one check for each. */
	if (ed_name_check("--env", a->env, ED_NAME_MAX, &err) ||
	    (a->host && ed_name_check("--host", a->host, ED_NAME_MAX, &err)) ||
	    ed_name_check("--role", a->role, ED_NAME_MAX, &err))
		return ed_cli_usage_error("collect", "%s", err.msg);
	return -1;
}

/* Reads the host's /etc/hostname under the root; false when there is none. */
static bool root_hostname(struct ed_source *src, char *out, size_t cap)
{
	struct ed_buf b = ED_BUF_INIT;
	struct ed_err err;
	bool ok = false;
	if (ed_source_read_all(src, "/etc/hostname", 4096, &b, &err) == ED_OK && b.len) {
		size_t n = strcspn(b.p, "\r\n \t");
		if (n && n < cap) {
			memcpy(out, b.p, n);
			out[n] = '\0';
			ok = true;
		}
	}
	ed_buf_release(&b);
	return ok;
}

/* Replaces list l with the comma- or space-separated words of s. */
static enum ed_code set_words(struct ed_strlist *l, const char *s, struct ed_err *err)
{
	struct ed_strlist n = {0};
	const char *p = s;
	while (*p) {
		size_t len = strcspn(p, ", ");
		if (len) {
			char *word = ed_strndup(p, len);
			if (!word || ed_strlist_add(&n, word)) {
				free(word);
				ed_strlist_release(&n);
				return ed_err_set(err, ED_NOMEM, "out of memory");
			}
			free(word);
		}
		p += len;
		p += strspn(p, ", ");
	}
	ed_strlist_release(l);
	*l = n;
	return ED_OK;
}

/*
 * Reads the --profile file (on this machine, not the host) on top of the
 * default; "-": the text read from standard input (stdin_text).
 */
static enum ed_code load_profile(const char *path, const struct ed_buf *stdin_text,
				 struct ed_profile *p, struct ed_err *err)
{
	enum ed_code rc = ed_profile_default(p, err);
	if (rc || !path)
		return rc;
	if (strcmp(path, "-") == 0)
		return ed_profile_parse(ed_str_of(ed_buf_str(stdin_text), stdin_text->len),
					"standard input", p, err);
	struct ed_buf text = ED_BUF_INIT;
	rc = ed_buf_read_file(&text, "profile", path, AGENT_PROFILE_MAX, err);
	if (!rc)
		rc = ed_profile_parse(ed_str_of(ed_buf_str(&text), text.len), path, p, err);
	ed_buf_release(&text);
	return rc;
}

/*
 * A tree named with --path is where the user keeps configuration, unless it
 * lies under /usr (other than /usr/local/etc), which holds software and its
 * data, or holds /usr ("/"): /etc and /usr/local/etc are config trees anyway.
 */
static bool cli_config_tree(const char *path)
{
	if (strcmp(path, "/") == 0)
		return false;
	if (strcmp(path, "/usr/local/etc") == 0 || strncmp(path, "/usr/local/etc/", 15) == 0)
		return true;
	return strcmp(path, "/usr") != 0 && strncmp(path, "/usr/", 5) != 0;
}

/* The profile, the flags on top of it, and what it asks to collect. */
static enum ed_code plan(const struct args *a, struct collection *c, struct ed_err *err)
{
	struct ed_profile *p = &c->prof;
	enum ed_code rc = load_profile(a->profile, &a->stdin_profile, p, err);
	if (rc)
		return rc;
	/* --path replaces the built-in /etc, and adds to a profile file's paths. */
	if (a->paths.n && !a->profile)
		ed_strlist_release(&p->paths);
	for (size_t i = 0; i < a->paths.n; i++)
		if (ed_strlist_add(&p->paths, a->paths.items[i]) ||
		    (cli_config_tree(a->paths.items[i]) &&
		     ed_strlist_add(&p->config_trees, a->paths.items[i])))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	for (size_t i = 0; i < a->schemas.n; i++)
		if (ed_strlist_add(&p->schemas, a->schemas.items[i]))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	if (a->data_shape)
		p->data_shape = true;
	if (a->packages && set_words(&p->packages, a->packages, err))
		return err->code;
	if (a->threads >= 0)
		p->threads = a->threads;
	/* Over SSH each hashing thread is a connection (3 sshd processes on the host): a few. */
	if (a->ssh && p->threads == 0)
		p->threads = ED_SSH_DEFAULT_THREADS;
	return ed_collect_plan_init(p, &c->plan, err);
}

/* This machine under --root, or the host over SSH; and the host's name. */
static enum ed_code open_source(struct args *a, struct collection *c, struct ed_err *err)
{
	if (a->ssh) {
		a->sopts.user = a->dest.user;
		a->sopts.host = a->dest.host;
		a->sopts.port = a->dest.port;
		a->sopts.max_rate = c->prof.max_rate;
		if (ed_source_ssh_new(&a->sopts, &c->src, err))
			return err->code;
	} else if (ed_source_local_new(a->root, &c->src, err)) {
		return err->code;
	}
	c->host = a->host;
	if (!c->host) {
		/* The host's own /etc/hostname; else, over SSH, the name connected to. */
		char *h = c->hostbuf;
		size_t cap = sizeof(c->hostbuf);
		bool from_file = root_hostname(c->src, h, cap);
		if (!from_file &&
		    (a->ssh ? snprintf(h, cap, "%s", a->dest.host) < 0 : gethostname(h, cap - 1) != 0))
			snprintf(h, cap, "localhost");
		h[cap - 1] = '\0';
		c->host = h;
		struct ed_err why;
		if (ed_name_check("host name", h, ED_NAME_MAX, &why))
			return ed_err_set(err, ED_PARSE, "%s (read from %s%s): give --host NAME",
					  why.msg, a->ssh ? a->ssh : a->root ? a->root : "",
					  from_file ? "/etc/hostname" : " by gethostname()");
	}
	return ED_OK;
}

/*
 * Where the items go: the store's snapshot writer, or with --out a snapshot
 * document; and the previous snapshot whose unchanged files are not read.
 */
static enum ed_code open_sink(const struct ed_cli *cli, struct args *a, struct collection *c,
			      struct ed_err *err)
{
	if (a->out || a->push) {
		/* Push mode: no store, the JSON document's sink instead of the snapshot writer. */
		const struct ed_snapdoc_meta meta = {.env = a->env, .host = c->host, .role = a->role,
						     .collector_root = a->root};
		if (strcmp(a->key, "-") == 0)
			memcpy(c->key, a->stdin_key, ED_KEY_LEN);
		else if (ed_keyfile_read(a->key, c->key, err))
			return err->code;
		/* --state auto: the default file of this env, host and store key. */
		if (a->state && strcmp(a->state, "auto") == 0) {
			struct ed_buf sp = ED_BUF_INIT;
			if (agent_state_path(a->env, c->host, c->key, &sp, err))
				return err->code;
			c->state_path = ed_buf_detach(&sp);
			a->state = c->state_path;
		}
		char sig[ED_COLLECT_SIG_SIZE];
		if (a->state && ed_collect_sig(&c->prof, a->root, sig, err))
			return err->code;
		if (a->state && !a->full) {
			char why[512];
			if (state_load(a->state, a->env, c->host, sig, &c->baseline, why, sizeof(why),
				       err))
				return err->code;
			c->from_state = c->baseline.ctx != NULL;
			if (*why)
				ed_info("--state %s %s: every file is read", a->state, why);
		}
		if (a->state) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			if (state_writer_begin(a->state, a->env, c->host, sig,
					       (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
					       c->from_state ? &c->baseline : NULL, &c->sw, err))
				return err->code;
		}
		if (a->baseline_db && !a->full) {
			/* Read only: the baseline's readers open the store by its path. */
			struct ed_store *bst = NULL;
			enum ed_code rc = ed_store_open(a->baseline_db, ED_STORE_READ, NULL, &bst, err);
			if (!rc)
				rc = ed_store_baseline(bst, a->env, c->host, NULL, &c->baseline,
						       &c->prev_id, &c->stale, err);
			ed_store_close(bst);
			if (rc)
				return rc;
		}
		if (a->out) {
			c->docpath = strdup(a->out);
		} else {
			/* --push alone: the document waits in a private folder of its own. */
			const char *t = getenv("TMPDIR");
			char tmpl[4096];
			snprintf(tmpl, sizeof(tmpl), "%s/envdrift-collect.XXXXXX", t && *t ? t : "/tmp");
			if (!mkdtemp(tmpl))
				return ed_err_set(err, ED_IO, "temporary folder %s: %s", tmpl,
						  strerror(errno));
			c->tmpdir = strdup(tmpl);
			if (!c->tmpdir || asprintf(&c->docpath, "%s/snapshot.json", tmpl) < 0) {
				c->docpath = NULL;
				rmdir(tmpl);
				free(c->tmpdir);
				c->tmpdir = NULL;
			}
		}
		if (!c->docpath)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		return ed_snapdoc_begin(c->docpath, &meta, &c->dw, err);
	}
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &c->st, err) ||
	    ed_store_key(cli->db, false, c->key, err))
		return err->code;
	/*
	 * Incremental: files unchanged since this host's previous snapshot are
	 * not read, when it was collected the same way (a file secret by the
	 * old patterns must not stay secret by reuse).
	 */
	char sig[ED_COLLECT_SIG_SIZE];
	if (ed_collect_sig(&c->prof, a->root, sig, err) ||
	    (!a->full && ed_store_baseline(c->st, a->env, c->host, sig, &c->baseline, &c->prev_id,
					   &c->stale, err)))
		return err->code;
	/*
	 * A delta on the previous snapshot when it was collected the same
	 * way. Not over SSH: SFTP gives a folder's time in seconds and no
	 * inode, too coarse to tell that its entries are the same.
	 */
	if (ed_snapshot_begin(c->st, a->env, c->host, a->role, a->root, &c->w, err) ||
	    ed_snapshot_plan(c->w, sig, a->ssh ? 0 : c->prev_id, &c->delta, err))
		return err->code;
	return ED_OK;
}

/* Every collector of the plan into the sink. */
static enum ed_code run(const struct args *a, struct collection *c, struct ed_err *err)
{
	const struct ed_secrets secrets = {
		.key = c->key,
		.patterns = (const char *const *)c->prof.secret_keys.v,
		.npatterns = c->prof.secret_keys.n,
		.values = (const char *const *)c->prof.secret_values.v,
		.nvalues = c->prof.secret_values.n,
	};
	struct ed_sink *next = c->dw ? ed_snapdoc_sink(c->dw) : ed_snapshot_sink(c->w);
	if (c->sw)
		next = state_writer_sink(c->sw, next);
	c->ps = (struct progress_sink){.next = next, .tty = isatty(2)};
	c->ps.sink = (struct ed_sink){.emit = progress_emit,
				      .warn = progress_warn,
				      .ctx = &c->ps,
				      .content = progress_content};
	const struct ed_collect_ctx ctx = {
		.src = c->src,
		.sink = &c->ps.sink,
		.secrets = &secrets,
		.profile = &c->prof,
		.baseline = c->prev_id || c->from_state ? &c->baseline : NULL,
		.progress = c->ps.tty,
		.delta = c->delta,
		.stats = &c->stats,
		.accept_package_loss = a->accept_package_loss,
	};
	if (ed_collect_run(&ctx, &c->plan, err))
		return err->code;
	/*
	 * A dropped or silent connection leaves per-entry errors that the
	 * collectors record and go on: such a snapshot must not be stored.
	 */
	if (a->ssh && ed_source_ssh_check(c->src, err))
		return err->code;
	if (a->strict && c->ps.errors)
		return ed_err_set(err, ED_IO,
				  "--strict: %lld item%s could not be read (the first: %s)",
				  (long long)c->ps.errors, c->ps.errors == 1 ? "" : "s",
				  c->ps.first_error);
	return ED_OK;
}

/* " (16 with an error)", or "". */
static const char *with_errors(const struct collection *c, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (c->ps.errors)
		snprintf(buf, cap, " (%lld with an error)", (long long)c->ps.errors);
	return buf;
}

/* Renames the document into place; its id on stdout, a closing line on stderr. */
static enum ed_code commit_doc(const struct args *a, struct collection *c, struct ed_err *err)
{
	char docid[ED_SNAPDOC_ID_LEN + 1];
	int64_t items = 0, warnings = 0;
	char errs[48];
	snprintf(docid, sizeof(docid), "%s", ed_snapdoc_writer_id(c->dw));
	enum ed_code rc = ed_snapdoc_commit(c->dw, NULL, &items, &warnings, err);
	c->dw = NULL;
	if (rc)
		return rc;
	c->doc_written = true;
	if (!a->out) {
		ed_say("collected snapshot document %s of %s/%s: %lld items%s, %lld warnings; "
			"%lld files hashed (%.1f MiB), %lld unchanged, %lld read key by key",
			docid, a->env, c->host, (long long)items, with_errors(c, errs, sizeof(errs)),
			(long long)warnings, (long long)c->stats.hashed,
			(double)c->stats.bytes / (1 << 20), (long long)c->stats.reused,
			(long long)c->stats.parsed);
		return ED_OK;
	}
	bool to_stdout = strcmp(a->out, "-") == 0;
	if (!to_stdout && !a->push)
		printf("%s\n", docid);
	if (ed_cli_flush_stdout(err))
		return err->code;
	ed_say("wrote snapshot document %s of %s/%s to %s: %lld items%s, %lld "
		"warnings; %lld files hashed (%.1f MiB), %lld unchanged, %lld read key by key",
		docid, a->env, c->host, to_stdout ? "standard output" : a->out, (long long)items,
		with_errors(c, errs, sizeof(errs)), (long long)warnings, (long long)c->stats.hashed,
		(double)c->stats.bytes / (1 << 20), (long long)c->stats.reused,
		(long long)c->stats.parsed);
	return ED_OK;
}

/* --push: the committed document to the server; its id there on stdout. */
static enum ed_code push_doc(const struct args *a, struct collection *c, struct ed_err *err)
{
	struct push_opts o = {.url = a->push, .token_file = a->token_file, .cacert = a->cacert};
	struct push_result r = {0};
	push_opts_defaults(&o);
	if (push_file(&o, c->docpath, &r, err))
		return err->code;
	printf("%lld\n", (long long)r.id);
	if (ed_cli_flush_stdout(err))
		return err->code;
	ed_say("pushed snapshot @%lld of %s/%s to %s (%lld items)%s", (long long)r.id, r.env, r.host,
	       a->push, (long long)r.items,
	       r.replayed ? "; the server already held this document (a replay)" : "");
	return ED_OK;
}

/* --state: what the next collection reuses, once the document is pushed (or written). */
static enum ed_code commit_state(struct collection *c, struct ed_err *err)
{
	struct state_writer *sw = c->sw;
	struct ed_err why = {0};
	c->sw = NULL;
	(void)err; /* the snapshot is stored: a cache that cannot be written is only a warning */
	if (state_writer_commit(sw, &why))
		ed_warn("%s; the next collection reads every file", why.msg);
	return ED_OK;
}

/* Commits the snapshot; its id on stdout, a closing line on stderr. */
static enum ed_code commit_store(const struct args *a, struct collection *c, struct ed_err *err)
{
	int64_t id = ed_snapshot_id(c->w);
	struct ed_snapshot_info info;
	enum ed_code rc = ed_snapshot_commit_info(c->w, &info, err);
	c->w = NULL;
	if (rc)
		return rc;
	printf("%lld\n", (long long)id);
	if (ed_cli_flush_stdout(err))
		return err->code;
	char stored[96];
	if (info.base)
		snprintf(stored, sizeof(stored), "a delta on @%lld, %lld rows written",
			 (long long)info.base, (long long)info.rows);
	else
		snprintf(stored, sizeof(stored), "%lld rows written", (long long)info.rows);
	char errs[48], stale_note[96];
	snprintf(stale_note, sizeof(stale_note),
		 " (settings changed since @%lld: every file read)", (long long)c->stale);
	ed_say("stored snapshot @%lld of %s/%s: %lld items%s, %lld warnings; "
		"%lld files hashed (%.1f MiB), %lld unchanged%s, %lld read key by key; %s in %.2f s",
		(long long)id, a->env, c->host, (long long)info.items,
		with_errors(c, errs, sizeof(errs)), (long long)info.warnings,
		(long long)c->stats.hashed, (double)c->stats.bytes / (1 << 20),
		(long long)c->stats.reused,
		c->prev_id ? "" : a->full ? " (--full)" : c->stale ? stale_note : " (no previous snapshot)",
		(long long)c->stats.parsed, stored,
		info.store_s);
	return ED_OK;
}

/* Nothing is stored: says so, and why. */
static int fail(const struct args *a, struct collection *c, struct ed_err *err)
{
	/* A lost connection: report what failed first, not the entry it stopped at. */
	if (a->ssh && c->src && err->code == ED_CONN) {
		struct ed_err first = {0};
		if (ed_source_ssh_check(c->src, &first))
			*err = first;
	}
	if (c->w) {
		if (isatty(2))
			fputs("\r\033[K", stderr);
		ed_say("snapshot @%lld of %s/%s failed; nothing was stored",
			(long long)ed_snapshot_id(c->w), a->env, c->host);
		ed_snapshot_abort(c->w);
		c->w = NULL;
	}
	if (c->dw) {
		if (isatty(2))
			fputs("\r\033[K", stderr);
		ed_snapdoc_abort(c->dw);
		c->dw = NULL;
	}
	bool committed = c->doc_written;
	state_writer_abort(c->sw);
	c->sw = NULL;
	int status = ed_cli_fail(err);
	if (a->push && committed)
		ed_say("the snapshot was not pushed%s%s", a->out ? "; the document is kept in " : "",
		       a->out ? a->out : "");
	else if (a->out && strcmp(a->out, "-") != 0)
		ed_say("%s was not written", a->out);
	return status;
}

/*
 * 'collect --inventory FILE ...' is 'inventory FILE ...': the inventory
 * command reads the whole command line with its own options.
 */
static bool inventory_alias(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--inventory") == 0 || strncmp(argv[i], "--inventory=", 12) == 0)
			return true;
	return false;
}

/*
 * --remote: the collection made by envdrift on the host, when it has one
 * (collect_remote.c); *done stays false when it is to be made over SFTP.
 */
static enum ed_code collect_remote(const struct ed_cli *cli, const struct args *a,
				   struct collection *c, bool *done, struct ed_err *err)
{
	const char *blocker = a->push	   ? "--push sends a document collected here"
			      : a->state   ? "--state is the baseline of a collection made here"
			      : c->prof.max_rate ? "the profile's max_rate caps what is read over SFTP "
						   "(the host's envdrift would read its disk uncapped)"
					   : NULL;
	const struct remote_opts o = {
		.mode = a->mode,
		.command = a->remote_command ? a->remote_command : "envdrift",
		.label = a->ssh,
		.env = a->env,
		.host = c->host,
		.role = a->role,
		.profile = a->profile,
		.paths = &a->paths,
		.schemas = &a->schemas,
		.packages = a->packages,
		.threads = a->threads,
		.full = a->full,
		.strict = a->strict,
		.accept_package_loss = a->accept_package_loss,
		.idle_ms = a->sopts.op_timeout_ms,
		.db = cli->db,
		.out = a->out,
		.keyfile = a->key,
		.blocker = blocker,
	};
	return remote_collect(c->src, &o, done, err);
}

int ed_cmd_collect(int argc, char **argv, struct ed_cli *cli)
{
	if (inventory_alias(argc, argv))
		return ed_cmd_inventory(argc, argv, cli);
	struct args a = {.role = "", .threads = -1, .stdin_profile = ED_BUF_INIT};
	struct collection c = {0};
	struct ed_err err = {0};
	bool remote_done = false;
	int status = parse(argc, argv, cli, &a);
	if (status < 0) {
		bool key_in = a.key && strcmp(a.key, "-") == 0;
		bool prof_in = a.profile && strcmp(a.profile, "-") == 0;
		if (((key_in || prof_in) &&
		     agent_stdin_read(key_in, a.stdin_key, prof_in, &a.stdin_profile, &err)) ||
		    plan(&a, &c, &err) || open_source(&a, &c, &err) ||
		    (a.ssh && collect_remote(cli, &a, &c, &remote_done, &err)))
			status = fail(&a, &c, &err);
		else if (remote_done)
			status = ED_EXIT_OK;
		else if (open_sink(cli, &a, &c, &err) || run(&a, &c, &err) ||
			 (a.out || a.push ? commit_doc(&a, &c, &err) : commit_store(&a, &c, &err)) ||
			 (a.push && push_doc(&a, &c, &err)) || (c.sw && commit_state(&c, &err)))
			status = fail(&a, &c, &err);
		else
			status = ED_EXIT_OK;
	}
	explicit_bzero(a.stdin_key, sizeof(a.stdin_key));
	explicit_bzero(c.key, sizeof(c.key));
	if (c.from_state)
		state_baseline_release(&c.baseline);
	else if (c.baseline.ctx)
		ed_store_baseline_release(&c.baseline);
	ed_store_close(c.st);
	if (c.tmpdir) {
		unlink(c.docpath);
		rmdir(c.tmpdir);
	}
	free(c.docpath);
	free(c.tmpdir);
	free(c.state_path);
	ed_source_free(c.src);
	ed_collect_plan_release(&c.plan);
	ed_profile_release(&c.prof);
	ed_buf_release(&a.stdin_profile);
	ed_ssh_dest_release(&a.dest);
	ed_opt_list_release(&a.paths);
	ed_opt_list_release(&a.schemas);
	return status;
}
