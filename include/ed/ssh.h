/* SPDX-License-Identifier: MIT */
/*
 * The SSH source: a host read over SSH with libssh2 (SFTP for files, an exec
 * channel for commands), with host keys verified as OpenSSH does and a
 * deadline on every network wait.
 */
#ifndef ED_SSH_H
#define ED_SSH_H

#include <stdbool.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/source.h"

/* Limits on what a (possibly hostile) server can make us hold. */
#define ED_SSH_LIST_MAX (1u << 20)       /* entries in one directory listing */
#define ED_SSH_LIST_BYTES (64u << 20)    /* bytes of names in one directory listing */
#define ED_SSH_NAME_MAX 1024             /* bytes in one directory entry name */
#define ED_SSH_LINK_MAX 4096             /* bytes in a link target (PATH_MAX, as locally) */
#define ED_SSH_READ_SLACK (16u << 20)    /* bytes a file may grow by while it is read */
#define ED_SSH_STDERR_KEEP 2048          /* bytes of a command's stderr kept for messages */

/* Hashing threads (one connection each) when the caller does not say. */
#define ED_SSH_DEFAULT_THREADS 4

/* Where and how to connect. Strings are borrowed for the call; the source copies them. */
struct ed_ssh_opts {
	const char *user;           /* login name; NULL: this process's user */
	const char *host;           /* name or address, as known_hosts names it */
	int port;                   /* TCP port; 0: 22 */
	const char *known_hosts;    /* NULL: ~/.ssh/known_hosts */
	const char *identity;       /* private key file; NULL: the agent ($SSH_AUTH_SOCK),
				       then ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
	const char *passphrase_env; /* name of the environment variable holding the
				       identity's passphrase (never the passphrase); NULL: none */
	bool accept_new;            /* add an unknown host key to known_hosts (never a changed one) */
	int connect_timeout_ms;     /* TCP connect + SSH handshake; 0: 10000 */
	int op_timeout_ms;          /* any later wait for the server (auth, each SFTP request); 0: 30000 */
	uint64_t max_rate;          /* bytes per second read from the host over every handle
				       together (profile [collect] max_rate); 0: no cap */
};

/*
 * Connects, verifies the host key against known_hosts BEFORE authenticating
 * (unknown: ED_DENIED with the key's SHA256 fingerprint and how to accept it,
 * or with accept_new the key is appended to known_hosts; changed, revoked,
 * or known only with keys of another type: ED_DENIED, always), authenticates
 * with public keys and starts SFTP. ED_IO for network failures and timeouts
 * ("HOST: no answer within N ms"), ED_DENIED when authentication is refused,
 * ED_NOTFOUND when an explicit identity file does not exist. Free the source
 * with ed_source_free(); dup() opens another connection with the same options.
 *
 * Semantics follow the local source: stat never follows a final symlink
 * (SFTP lstat); list is sorted by byte value without "." and ".."; open
 * refuses anything but a regular file without opening it; run quotes every
 * argument for the remote shell (nothing passes through it unquoted) and
 * runs the program under `nice -n 10` when the host has nice; local_path and
 * root_dir return ED_UNSUPPORTED. SFTP (version 3) carries no inode, device
 * or ctime, and mtimes in whole seconds: ino, dev and ctime_ns are 0.
 */
enum ed_code ed_source_ssh_new(const struct ed_ssh_opts *o, struct ed_source **out,
			       struct ed_err *err);

/*
 * ED_OK while every connection of src (the source and all its dups) has
 * stayed usable; else ED_IO and the first connection failure (a timeout, a
 * dropped connection) in err. After such a failure every operation fails
 * quickly, so collectors that record per-entry errors still finish: the
 * caller must check this before storing a snapshot, or a dropped host would
 * be stored as a complete snapshot full of errors. src must be an SSH source.
 */
enum ed_code ed_source_ssh_check(struct ed_source *src, struct ed_err *err);

/* What ed_ssh_stream() hands the caller: a chunk of the program's standard output. */
typedef enum ed_code (*ed_ssh_out_fn)(void *ctx, const char *data, size_t len, struct ed_err *err);
/* ... and of its standard error (nothing can fail there). */
typedef void (*ed_ssh_errout_fn)(void *ctx, const char *data, size_t len);

/*
 * Runs argv on the host as run() does (the same command line: quoted, under
 * nice and ionice where the host has them), writes in[0..in_len) to its
 * standard input and closes it, then hands its standard output to out and
 * its standard error to errout (may be NULL) chunk by chunk as they arrive,
 * until the program ends. Bytes read count against the source's max_rate.
 * in is sent only over the encrypted channel: it is never part of the
 * command line. idle_ms bounds each silence of the program (0: the source's
 * I/O timeout); no bound on the whole run. *exit_status as run() gives it.
 * A failure of out stops the program (its channel is closed) and is returned.
 * ED_NOTFOUND when the program does not exist on the host (status 127 with
 * no output); ED_IO for the connection.
 */
enum ed_code ed_ssh_stream(struct ed_source *src, const char *const *argv, const void *in,
			   size_t in_len, int idle_ms, ed_ssh_out_fn out, ed_ssh_errout_fn errout,
			   void *ctx, int *exit_status, struct ed_err *err);

/* A parsed USER@HOST[:PORT] ("[v6addr]:PORT" for IPv6). The strings are owned. */
struct ed_ssh_dest {
	char *user; /* NULL when the destination names none */
	char *host;
	int port;   /* 0 when the destination names none */
};

/* Parses dest; ED_USAGE naming it when malformed. Release with ed_ssh_dest_release(). */
enum ed_code ed_ssh_dest_parse(const char *dest, struct ed_ssh_dest *out, struct ed_err *err);
void ed_ssh_dest_release(struct ed_ssh_dest *d);

/*
 * Appends to out the command line run() sends to the host's shell for argv:
 * every argument in single quotes (an embedded ' becomes '\''), so no byte of
 * an argument is interpreted by the shell. Returns 0, or -1 out of memory.
 */
int ed_ssh_command_line(const char *const *argv, struct ed_buf *out);

#endif
