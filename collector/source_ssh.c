/* SPDX-License-Identifier: MIT */
/*
 * The SSH source: SFTP for files, an exec channel for commands, one
 * non-blocking libssh2 session per handle, a deadline on every wait for the
 * server. The host key is checked against known_hosts before authenticating.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "ed/base64.h"
#include "ed/clock.h"
#include "ed/ssh.h"
#include "run_local.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_OP_MS 30000
#define CLOSE_MS 5000             /* at most, to say goodbye to a healthy server */
#define CACHE_MS 10000            /* a listing's attributes serve stat() this long */
#define KNOWN_HOSTS_MAX (64u << 20)

/* What every handle on one host shares: the options and the first failure. */
struct shared {
	pthread_mutex_t mu;
	/* the cap on bytes read per second, over every handle on the host */
	uint64_t max_rate;     /* 0: none */
	uint64_t rate_bytes;   /* read since rate_start (under mu) */
	double rate_start;     /* monotonic seconds of the first read */
	int refs;
	atomic_bool failed; /* set once, under mu, with failure */
	char failure[sizeof(((struct ed_err *)0)->msg)];
	char *user;
	char *host;
	int port;
	char *known_hosts;
	char *identity;       /* NULL: agent, then the default files */
	char *passphrase_env; /* NULL: none */
	bool accept_new;
	int connect_ms;
	int op_ms;
	char *label;          /* "host" or "host:port", for messages */
	char *khname;         /* the host as known_hosts names it: "host" or "[host]:port" */
};

/*
 * A block libssh2 allocated for one session. libssh2 1.10 never frees some
 * of its state when an operation is abandoned (a timeout, a dropped server):
 * SFTP handles, queued packets. Every block of a session is on its list, and
 * whatever is left when the session is freed is freed with it.
 */
union block {
	struct {
		union block *prev, *next;
	} l;
	max_align_t align;
};

/* A directory entry with the attributes the listing carried (lstat's, from OpenSSH). */
struct dent {
	char *name;
	LIBSSH2_SFTP_ATTRIBUTES a;
};

struct ssh_source {
	struct ed_source base;
	struct shared *sh;
	union block blocks; /* the session's allocations: a circular list */
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	bool ready; /* connected, verified, authenticated: failures now count for the host */
	bool dead;  /* a failure left the session unusable */
	/* the last listing, whose attributes answer stat() of its entries */
	char *cdir;
	struct dent *cents;
	size_t cn;
	long long cms;
	/* a handle whose close was sent, its answer not yet taken (see close_later) */
	LIBSSH2_SFTP_HANDLE *pclose;
	char *pclose_path;
};

struct ed_file {
	struct ssh_source *c;
	LIBSSH2_SFTP_HANDLE *h;
	char *path;
	struct ed_stat first; /* the fstat done by open, handed to the first fstat() */
	bool have_first;
	bool clean;           /* no read left half-done inside libssh2 */
	uint64_t got;         /* bytes read so far */
	uint64_t limit;       /* more than this is refused */
	int64_t expect;       /* the size open's fstat gave, -1 if none */
	/* what open's first read brought, handed to the first read()s */
	char *pend;
	size_t pend_len, pend_off;
	bool pend_failed;     /* ... or the failure it met */
	struct ed_err pend_err;
};

/* One wait-bounded exchange with the server. */
struct op {
	struct ssh_source *c;
	long long deadline;
	int limit_ms;
	const char *what; /* "cannot stat", for messages */
	const char *path; /* the path as the caller gave it, or NULL */
	bool soft;        /* a timeout does not condemn the connection */
	bool timed_out;
};

static const struct ed_source_ops ssh_ops;
static void reap_close(struct ssh_source *c, bool wait);

static struct ssh_source *ssh(struct ed_source *src)
{
	return (struct ssh_source *)src;
}

/* --- libssh2's allocations, one list per session (one thread each: no lock) --- */

static void block_link(struct ssh_source *c, union block *b)
{
	b->l.next = c->blocks.l.next;
	b->l.prev = &c->blocks;
	c->blocks.l.next->l.prev = b;
	c->blocks.l.next = b;
}

static void block_unlink(union block *b)
{
	b->l.prev->l.next = b->l.next;
	b->l.next->l.prev = b->l.prev;
}

static LIBSSH2_ALLOC_FUNC(block_alloc)
{
	struct ssh_source *c = *abstract;
	union block *b = malloc(sizeof(*b) + count);
	if (!b)
		return NULL;
	block_link(c, b);
	return b + 1;
}

static LIBSSH2_FREE_FUNC(block_free)
{
	(void)abstract;
	if (!ptr)
		return;
	union block *b = (union block *)ptr - 1;
	block_unlink(b);
	free(b);
}

static LIBSSH2_REALLOC_FUNC(block_realloc)
{
	struct ssh_source *c = *abstract;
	if (!ptr)
		return block_alloc(count, abstract);
	union block *b = (union block *)ptr - 1;
	block_unlink(b);
	union block *nb = realloc(b, sizeof(*b) + count);
	if (!nb) {
		block_link(c, b);
		return NULL;
	}
	block_link(c, nb);
	return nb + 1;
}

/* Frees what libssh2 left behind, once its session is gone. */
static void blocks_sweep(struct ssh_source *c)
{
	while (c->blocks.l.next != &c->blocks) {
		union block *b = c->blocks.l.next;
		block_unlink(b);
		free(b);
	}
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_libssh2(void)
{
	init_rc = libssh2_init(0);
}

/* --- failures --- */

/* libssh2's last error message, copied at once (the next call overwrites it). */
static void ssh_msg(struct ssh_source *c, char *buf, size_t n)
{
	char *m = NULL;
	int len = 0;
	if (c->s)
		libssh2_session_last_error(c->s, &m, &len, 0);
	snprintf(buf, n, "%s", m && *m ? m : "unknown error");
}

/*
 * Why the connection broke, in plain words when the socket tells: libssh2's
 * own message for a closed socket is often about what it was waiting for.
 */
static void broken_why(struct ssh_source *c, char *buf, size_t n)
{
	char b;
	ssize_t r = c->fd >= 0 ? recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) : -1;
	if (r == 0)
		snprintf(buf, n, "the server closed the connection");
	else if (r < 0 && (errno == ECONNRESET || errno == EPIPE))
		snprintf(buf, n, "the connection was reset");
	else
		ssh_msg(c, buf, n);
}

/* Marks the connection unusable; the first failure of a ready one is the host's. */
static enum ed_code conn_fail(struct ssh_source *c, struct ed_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum ed_code conn_fail(struct ssh_source *c, struct ed_err *err, const char *fmt, ...)
{
	struct ed_err e = {0};
	char msg[sizeof(e.msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ed_err_set(&e, ED_IO, "%s: %s", c->sh->label, msg);
	c->dead = true;
	if (c->ready) {
		pthread_mutex_lock(&c->sh->mu);
		if (!atomic_load(&c->sh->failed)) {
			memcpy(c->sh->failure, e.msg, sizeof(e.msg));
			atomic_store(&c->sh->failed, true);
		}
		pthread_mutex_unlock(&c->sh->mu);
	}
	if (err)
		*err = e;
	return ED_IO;
}

static void op_start(struct op *op, struct ssh_source *c, int ms, const char *what,
		     const char *path)
{
	*op = (struct op){.c = c, .deadline = ed_now_ms() + ms, .limit_ms = ms, .what = what,
			  .path = path};
}

/* Restarts the clock: each request of a long operation gets the full time. */
static void op_rearm(struct op *op)
{
	op->deadline = ed_now_ms() + op->limit_ms;
}

/* Waits until the socket is ready the way libssh2 needs it, or the deadline passes. */
static enum ed_code op_wait(struct op *op, struct ed_err *err)
{
	struct ssh_source *c = op->c;
	int dir = libssh2_session_block_directions(c->s);
	struct pollfd p = {c->fd, 0, 0};
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	for (;;) {
		long long left = op->deadline - ed_now_ms();
		if (left <= 0) {
			op->timed_out = true;
			if (op->soft)
				return ed_err_set(err, ED_IO, "%s: %s%s%s: no answer within %d ms",
						  c->sh->label, op->path ? op->path : "",
						  op->path ? ": " : "", op->what, op->limit_ms);
			return conn_fail(c, err, "%s%s%s: no answer within %d ms",
					 op->path ? op->path : "", op->path ? ": " : "", op->what,
					 op->limit_ms);
		}
		/* Another connection to the host failed: this one gives up too. */
		if (c->ready && atomic_load(&c->sh->failed)) {
			c->dead = true;
			return ed_err_set(err, ED_IO, "%s: %s%s%s: abandoned, the host failed",
					  c->sh->label, op->path ? op->path : "", op->path ? ": " : "",
					  op->what);
		}
		/*
		 * No direction: libssh2 waits on itself (a channel's window); look
		 * again soon. Otherwise wake up now and then to see the above.
		 */
		int n = poll(&p, 1, !p.events ? 5 : left > 250 ? 250 : (int)left);
		if (n >= 0 && (n > 0 || !p.events))
			return ED_OK;
		if (n < 0 && errno != EINTR)
			return conn_fail(c, err, "poll failed: %s", strerror(errno));
	}
}

/* Runs an int-valued libssh2 call until it stops asking to be called again. */
#define AGAIN(op, rc, call)                                                             \
	while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN && op_wait((op), err) == ED_OK) \
		;

/* The same for calls that return a pointer, NULL with EAGAIN meaning "again". */
#define AGAIN_PTR(op, ptr, call)                                                   \
	while (!((ptr) = (call)) &&                                                \
	       libssh2_session_last_errno((op)->c->s) == LIBSSH2_ERROR_EAGAIN &&   \
	       op_wait((op), err) == ED_OK)                                        \
		;

/*
 * After a libssh2 call returned EAGAIN: is the session quiet, so that
 * another call may send a request before this one is made again?
 *
 * libssh2 1.10 keeps a half-sent packet in the session (sent again by the
 * next write, which must bring the same data: another packet fails with
 * LIBSSH2_ERROR_BAD_USE) and the header of a half-sent channel write in the
 * channel (channel->write_state: the next channel write, whatever its data,
 * reuses it). Nothing may be written while either is pending. The session
 * is quiet when no packet waits to go out (no BLOCK_OUTBOUND) and the call
 * got as far as waiting for an answer: its last word was the "would block"
 * of _libssh2_channel_read(), which runs only once the call's own writes are
 * done, where a half-done write ends the call with "Unable to send channel
 * data" (and a shut window, having built nothing, with no word at all). The
 * error is cleared before each call (CALL_QUIET), so the word is the call's.
 * Any other word counts as not quiet: the call is then made again.
 */
static bool quiet(struct ssh_source *c)
{
	char *m = NULL;
	if (libssh2_session_block_directions(c->s) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		return false;
	libssh2_session_last_error(c->s, &m, NULL, 0);
	return m && strcmp(m, "would block") == 0;
}

/*
 * Makes a libssh2 call until it is done or, EAGAIN, has sent what it had to
 * send and waits for an answer (quiet): rc EAGAIN then means "sent, the answer
 * is not in yet", other requests may go, and the call is made again later to
 * take the answer. wrc receives op_wait's failure.
 */
#define CALL_QUIET(op, rc, call, wrc)                                                  \
	for (;;) {                                                                     \
		libssh2_session_set_last_error((op)->c->s, 0, NULL);                   \
		(rc) = (call);                                                         \
		if ((rc) != LIBSSH2_ERROR_EAGAIN || quiet((op)->c) ||                  \
		    ((wrc) = op_wait((op), err)))                                      \
			break;                                                         \
	}

/* An SFTP status as the errno the local source would have reported. */
static int status_errno(unsigned long st)
{
	switch (st) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		return ENOENT;
	case LIBSSH2_FX_PERMISSION_DENIED:
	case LIBSSH2_FX_WRITE_PROTECT:
		return EACCES;
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		return ENOTDIR;
	case LIBSSH2_FX_LINK_LOOP:
		return ELOOP;
	case LIBSSH2_FX_BAD_MESSAGE:
	case LIBSSH2_FX_INVALID_FILENAME:
		return EINVAL;
	case LIBSSH2_FX_OP_UNSUPPORTED:
		return EOPNOTSUPP;
	default:
		return 0;
	}
}

static enum ed_code errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return ED_NOTFOUND;
	case ELOOP:
		return ED_DENIED;
	default:
		return ED_IO;
	}
}

/*
 * The outcome of a failed call: a timeout (err already set), an SFTP status
 * (a problem of that path, worded as the local source words it) or a broken
 * connection.
 */
static enum ed_code op_error(struct op *op, int rc, struct ed_err *err)
{
	struct ssh_source *c = op->c;
	char msg[512];
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return ED_IO;
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && c->sftp) {
		unsigned long st = libssh2_sftp_last_error(c->sftp);
		int e = status_errno(st);
		if (e)
			return ed_err_set(err, errno_code(e), "%s: %s: %s", op->path, op->what,
					  strerror(e));
		return ed_err_set(err, ED_IO, "%s: %s: the server reported a failure (SFTP status %lu)",
				  op->path, op->what, st);
	}
	if (rc == LIBSSH2_ERROR_ALLOC)
		return ed_err_set(err, ED_NOMEM, "%s: %s: out of memory", op->path ? op->path : "",
				  op->what);
	broken_why(c, msg, sizeof(msg));
	return conn_fail(c, err, "%s%s%s: connection lost: %s", op->path ? op->path : "",
			 op->path ? ": " : "", op->what, msg);
}

/* Once one connection to the host failed, every handle on it fails at once. */
static enum ed_code check_alive(struct ssh_source *c, const char *path, struct ed_err *err)
{
	if (!c->dead && !atomic_load(&c->sh->failed))
		return ED_OK;
	/* ED_CONN: the walk stops here instead of recording every entry left as an error. */
	return ed_err_set(err, ED_CONN, "%s: %s: not read: the connection failed earlier",
			  c->sh->label, path ? path : "");
}

/* --- small helpers --- */

static enum ed_code norm(const char *path, struct ed_buf *buf, struct ed_err *err)
{
	if (!path || !*path)
		return ed_err_set(err, ED_USAGE, "empty path");
	if (ed_path_normalize(path, buf))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	return ED_OK;
}

/*
 * The start of an operation on path: its normal form in p, the answer of
 * the last close taken, and the connection known to be alive.
 */
static enum ed_code op_path(struct ssh_source *c, const char *path, struct ed_buf *p,
			    struct ed_err *err)
{
	enum ed_code rc = norm(path, p, err);
	if (rc)
		return rc;
	reap_close(c, false);
	return check_alive(c, path, err);
}

static void fill_stat(const LIBSSH2_SFTP_ATTRIBUTES *a, struct ed_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->type = ED_FT_OTHER;
	if (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		switch (a->permissions & LIBSSH2_SFTP_S_IFMT) {
		case LIBSSH2_SFTP_S_IFREG: st->type = ED_FT_REG; break;
		case LIBSSH2_SFTP_S_IFDIR: st->type = ED_FT_DIR; break;
		case LIBSSH2_SFTP_S_IFLNK: st->type = ED_FT_LINK; break;
		case LIBSSH2_SFTP_S_IFIFO: st->type = ED_FT_FIFO; break;
		case LIBSSH2_SFTP_S_IFSOCK: st->type = ED_FT_SOCK; break;
		case LIBSSH2_SFTP_S_IFCHR: st->type = ED_FT_CHR; break;
		case LIBSSH2_SFTP_S_IFBLK: st->type = ED_FT_BLK; break;
		default: break;
		}
		st->mode = (uint32_t)(a->permissions & 07777);
	}
	if (a->flags & LIBSSH2_SFTP_ATTR_UIDGID) {
		st->uid = (uint32_t)a->uid;
		st->gid = (uint32_t)a->gid;
	}
	if (a->flags & LIBSSH2_SFTP_ATTR_SIZE)
		st->size = a->filesize > INT64_MAX ? INT64_MAX : (int64_t)a->filesize;
	/* SFTP v3: whole seconds, no ctime, inode or device. */
	if (a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
		st->mtime_ns = (int64_t)a->mtime * 1000000000;
}

/* The home folder: $HOME, else the password database's (reentrant: dups connect from threads). */
static int home_dir(struct ed_buf *out)
{
	const char *home = getenv("HOME");
	if (home && *home)
		return ed_buf_adds(out, home);
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) != 0 || !res || !pw.pw_dir)
		return -1;
	return ed_buf_adds(out, pw.pw_dir);
}

static const unsigned long all_attrs = LIBSSH2_SFTP_ATTR_SIZE | LIBSSH2_SFTP_ATTR_UIDGID |
				       LIBSSH2_SFTP_ATTR_PERMISSIONS | LIBSSH2_SFTP_ATTR_ACMODTIME;

/* --- the remote command line --- */

static int add_quoted(struct ed_buf *b, const char *s)
{
	if (ed_buf_addc(b, '\''))
		return -1;
	for (; *s; s++)
		if (*s == '\'' ? ed_buf_adds(b, "'\\''") : ed_buf_addc(b, *s))
			return -1;
	return ed_buf_addc(b, '\'');
}

static int add_argv(struct ed_buf *b, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++)
		if ((i && ed_buf_addc(b, ' ')) || add_quoted(b, argv[i]))
			return -1;
	return 0;
}

int ed_ssh_command_line(const char *const *argv, struct ed_buf *out)
{
	size_t start = out->len;
	/*
	 * POSIX sh, bash, dash, zsh and ash all read this alike: under nice and
	 * ionice's lowest best-effort class where the host has them.
	 */
	if (ed_buf_adds(out, "command -v ionice >/dev/null 2>&1 && command -v nice >/dev/null "
			     "2>&1 && exec nice -n 10 ionice -c 2 -n 7 ") ||
	    add_argv(out, argv) ||
	    ed_buf_adds(out, "; command -v nice >/dev/null 2>&1 && exec nice -n 10 ") ||
	    add_argv(out, argv) || ed_buf_adds(out, "; exec ") || add_argv(out, argv)) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
		return -1;
	}
	return 0;
}

/* --- destinations --- */

void ed_ssh_dest_release(struct ed_ssh_dest *d)
{
	if (!d)
		return;
	free(d->user);
	free(d->host);
	d->user = d->host = NULL;
	d->port = 0;
}

static bool valid_host(const char *h, size_t n)
{
	if (!n || h[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h[i] <= ' ' || h[i] == 0x7f || strchr("/@[]\\'\"", h[i]))
			return false;
	return true;
}

enum ed_code ed_ssh_dest_parse(const char *dest, struct ed_ssh_dest *out, struct ed_err *err)
{
	struct ed_ssh_dest d = {0};
	const char *at = strrchr(dest, '@');
	const char *h = at ? at + 1 : dest, *hend, *port = NULL;
	if (at) {
		if (at == dest)
			goto bad;
		for (const char *p = dest; p < at; p++)
			if ((unsigned char)*p <= ' ' || *p == ':' || *p == '/')
				goto bad;
		if (dest[0] == '-' || !(d.user = ed_strndup(dest, (size_t)(at - dest))))
			goto nomem_or_bad;
	}
	if (*h == '[') {
		hend = strchr(h, ']');
		if (!hend || (hend[1] && hend[1] != ':'))
			goto bad;
		if (hend[1] == ':')
			port = hend + 2;
		h++;
	} else {
		const char *colon = strchr(h, ':');
		if (colon && !strchr(colon + 1, ':')) {
			hend = colon;
			port = colon + 1;
		} else {
			hend = h + strlen(h); /* a bare IPv6 address, or no port */
		}
	}
	if (!valid_host(h, (size_t)(hend - h)))
		goto bad;
	if (port) {
		char *end;
		long v = strtol(port, &end, 10);
		if (!*port || *end || v < 1 || v > 65535 || *port == '+' || *port == '-')
			goto bad;
		d.port = (int)v;
	}
	if (!(d.host = ed_strndup(h, (size_t)(hend - h))))
		goto nomem;
	*out = d;
	return ED_OK;
nomem_or_bad:
	if (dest[0] == '-')
		goto bad;
nomem:
	ed_ssh_dest_release(&d);
	return ed_err_set(err, ED_NOMEM, "out of memory");
bad:
	ed_ssh_dest_release(&d);
	return ed_err_set(err, ED_USAGE, "--ssh %s: expected USER@HOST[:PORT] (IPv6: USER@[ADDR]:PORT)",
			  dest);
}

/* --- connecting --- */

static enum ed_code tcp_connect(struct ssh_source *c, long long deadline, struct ed_err *err)
{
	struct shared *sh = c->sh;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char port[16];
	int last = 0;
	snprintf(port, sizeof(port), "%d", sh->port);
	/* getaddrinfo(3) has no timeout of its own: the system resolver's applies. */
	int g = getaddrinfo(sh->host, port, &hints, &res);
	if (g)
		return ed_err_set(err, ED_IO, "%s: cannot resolve %s: %s", sh->label, sh->host,
				  g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r < 0 && errno == EINPROGRESS) {
			struct pollfd p = {fd, POLLOUT, 0};
			for (;;) {
				long long left = deadline - ed_now_ms();
				if (left <= 0) {
					close(fd);
					freeaddrinfo(res);
					return ed_err_set(err, ED_IO, "%s: connect: no answer within %d ms",
							  sh->label, sh->connect_ms);
				}
				int n = poll(&p, 1, (int)left);
				if (n > 0)
					break;
				if (n < 0 && errno != EINTR)
					break;
			}
			socklen_t len = sizeof(last);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &len) == 0 && last == 0)
				r = 0;
			else if (!last)
				last = errno;
		} else if (r < 0) {
			last = errno;
		}
		if (r == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
			c->fd = fd;
			freeaddrinfo(res);
			return ED_OK;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return ed_err_set(err, ED_IO, "%s: cannot connect: %s", sh->label,
			  last ? strerror(last) : "no address");
}

struct keytype {
	int hostkey;        /* LIBSSH2_HOSTKEY_TYPE_* */
	int mask;           /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;   /* in known_hosts and the protocol */
	const char *shown;  /* as OpenSSH shows it: "ED25519" */
	const char *scan;   /* ssh-keyscan -t */
};

/* In the order we prefer them, as OpenSSH does. No DSA: OpenSSH dropped it. */
static const struct keytype keytypes[] = {
	{LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	 "ssh-ed25519", "ED25519", "ed25519"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	 "ecdsa-sha2-nistp256", "ECDSA", "ecdsa"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	 "ecdsa-sha2-nistp384", "ECDSA", "ecdsa"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	 "ecdsa-sha2-nistp521", "ECDSA", "ecdsa"},
	{LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA,
	 "ssh-rsa", "RSA", "rsa"},
};
#define NKEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

/*
 * Reads known_hosts line by line: libssh2_knownhost_readfile() stops at the
 * first line it cannot parse (a certificate authority, a key type it does not
 * know), silently dropping every later entry. Bad lines are skipped here, as
 * OpenSSH skips them; "@revoked" keys are collected into revoked (one
 * "TYPE BASE64\n" a line) and refused; "@cert-authority" lines are ignored
 * (libssh2 1.10 has no host certificates).
 */
static enum ed_code load_known_hosts(struct shared *sh, LIBSSH2_KNOWNHOSTS *kh,
				     struct ed_buf *revoked, struct ed_err *err)
{
	FILE *f = fopen(sh->known_hosts, "re");
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	enum ed_code rc = ED_OK;
	if (!f) {
		if (errno == ENOENT)
			return ED_OK; /* nothing known yet */
		return ed_err_set(err, ED_IO, "known_hosts %s: %s", sh->known_hosts, strerror(errno));
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		total += (size_t)n;
		if (total > KNOWN_HOSTS_MAX) {
			rc = ed_err_set(err, ED_TOOBIG, "known_hosts %s: larger than %u MiB",
					sh->known_hosts, KNOWN_HOSTS_MAX >> 20);
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "@revoked", 8) == 0 && (p[8] == ' ' || p[8] == '\t')) {
			/* @revoked HOSTS TYPE KEY: refused for any host. */
			char *save = NULL, *tok = strtok_r(p, " \t", &save);
			char *hosts = tok ? strtok_r(NULL, " \t", &save) : NULL;
			char *type = hosts ? strtok_r(NULL, " \t", &save) : NULL;
			char *key = type ? strtok_r(NULL, " \t", &save) : NULL;
			if (key && ed_buf_addf(revoked, "%s %s\n", type, key)) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				break;
			}
			continue;
		}
		if (*p == '@')
			continue;
		/* A line libssh2 cannot parse is skipped, as OpenSSH does. */
		(void)libssh2_knownhost_readline(kh, p, strlen(p), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	if (!rc && ferror(f))
		rc = ed_err_set(err, ED_IO, "known_hosts %s: read error", sh->known_hosts);
	free(line);
	fclose(f);
	return rc;
}

/* Does known_hosts hold a key of type mask for the host (whatever the key)? */
static bool known_with(LIBSSH2_KNOWNHOSTS *kh, const char *khname, int mask)
{
	/* A key that cannot match: a known host answers "mismatch". */
	int r = libssh2_knownhost_check(kh, khname, "-", 0,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64 | mask,
					NULL);
	return r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
}

/*
 * Asks for the host key types known_hosts holds first (as OpenSSH orders
 * them), so a host known by its ECDSA key is not refused for offering its
 * ED25519 one; libssh2 would otherwise prefer ECDSA over everything.
 */
static void prefer_known_types(struct ssh_source *c, LIBSSH2_KNOWNHOSTS *kh)
{
	char pref[256] = "";
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < NKEYTYPES; i++) {
			bool known = known_with(kh, c->sh->khname, keytypes[i].mask);
			if (known == (pass == 0)) {
				if (pref[0])
					strcat(pref, ",");
				strcat(pref, keytypes[i].name);
			}
		}
	/* Unsupported names are dropped by libssh2; a failure keeps its defaults. */
	(void)libssh2_session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY, pref);
}

/* Appends "KHNAME TYPE KEY" to known_hosts, the way ssh's accept-new does. */
static enum ed_code add_known_host(struct shared *sh, const struct keytype *kt, const char *key64,
				   struct ed_err *err)
{
	struct ed_buf line = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	int fd = open(sh->known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 && errno == ENOENT) {
		/* The folder, as ssh creates ~/.ssh. */
		char *dir = strdup(sh->known_hosts);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash && slash != dir) {
			*slash = '\0';
			(void)mkdir(dir, 0700);
		}
		free(dir);
		fd = open(sh->known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	}
	if (fd < 0)
		return ed_err_set(err, ED_IO, "known_hosts %s: cannot add the host key: %s",
				  sh->known_hosts, strerror(errno));
	struct stat sb;
	char last = '\n';
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 && pread(fd, &last, 1, sb.st_size - 1) != 1)
		last = '\n';
	if (ed_buf_addf(&line, "%s%s %s %s\n", last == '\n' ? "" : "\n", sh->khname, kt->name,
			key64)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	/* One write: concurrent collectors appending to one file do not interleave. */
	ssize_t w = write(fd, line.p, line.len);
	if (w != (ssize_t)line.len || fsync(fd) != 0) {
		rc = ed_err_set(err, ED_IO, "known_hosts %s: cannot add the host key: %s",
				sh->known_hosts, w < 0 || w == (ssize_t)line.len ? strerror(errno) : "short write");
		goto out;
	}
out:
	if (close(fd) != 0 && !rc)
		rc = ed_err_set(err, ED_IO, "known_hosts %s: cannot add the host key: %s",
				sh->known_hosts, strerror(errno));
	ed_buf_release(&line);
	return rc;
}

/* Verifies the host key: before any authentication, so no credential reaches an impostor. */
static enum ed_code check_host_key(struct ssh_source *c, LIBSSH2_KNOWNHOSTS *kh,
				   const struct ed_buf *revoked, struct ed_err *err)
{
	struct shared *sh = c->sh;
	size_t klen = 0;
	int ktype = 0;
	const char *key = libssh2_session_hostkey(c->s, &klen, &ktype);
	const struct keytype *kt = NULL;
	char fp[64], *key64 = NULL, portopt[32] = "";
	enum ed_code rc = ED_OK;
	for (size_t i = 0; i < NKEYTYPES; i++)
		if (keytypes[i].hostkey == ktype)
			kt = &keytypes[i];
	if (!key || !klen)
		return conn_fail(c, err, "the server sent no host key");
	if (!kt)
		return ed_err_set(err, ED_DENIED, "%s: host key of an unsupported type (%d); refused",
				  sh->label, ktype);
	const unsigned char *h = (const unsigned char *)libssh2_hostkey_hash(c->s,
									      LIBSSH2_HOSTKEY_HASH_SHA256);
	if (!h)
		return conn_fail(c, err, "cannot compute the host key's fingerprint");
	ed_base64_encode(fp, h, 32, false);
	if (!(key64 = malloc(ED_BASE64_LEN(klen) + 1)))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	ed_base64_encode(key64, key, klen, true);
	if (sh->port != 22)
		snprintf(portopt, sizeof(portopt), "-p %d ", sh->port);

	/* Revoked: whatever the host. */
	for (const char *l = ed_buf_str(revoked); *l;) {
		const char *nl = strchr(l, '\n');
		const char *sp = memchr(l, ' ', (size_t)(nl - l));
		if (sp && strlen(kt->name) == (size_t)(sp - l) &&
		    strncmp(l, kt->name, (size_t)(sp - l)) == 0 &&
		    (size_t)(nl - sp - 1) == strlen(key64) && strncmp(sp + 1, key64, strlen(key64)) == 0) {
			rc = ed_err_set(err, ED_DENIED,
					"%s: the host presents %s key SHA256:%s, which %s marks @revoked; refused",
					sh->label, kt->shown, fp, sh->known_hosts);
			goto out;
		}
		l = nl + 1;
	}

	int r = libssh2_knownhost_check(kh, sh->khname, key, klen,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
						kt->mask,
					NULL);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		goto out;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ||
	    (r == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND &&
	     known_with(kh, sh->khname, 0) /* known, but by keys of other types only */)) {
		rc = ed_err_set(err, ED_DENIED,
				"%s: HOST KEY CHANGED: the host presents %s key SHA256:%s, but %s holds "
				"%s for %s; refused (someone may be intercepting the connection; if the "
				"host was reinstalled, check the new fingerprint with its administrator, "
				"then remove the old entry: ssh-keygen -R '%s' -f %s)",
				sh->label, kt->shown, fp, sh->known_hosts,
				r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ? "a different key"
								      : "only keys of other types",
				sh->khname, sh->khname, sh->known_hosts);
		goto out;
	}
	if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		rc = ed_err_set(err, ED_DENIED, "%s: cannot check the host key against %s; refused",
				sh->label, sh->known_hosts);
		goto out;
	}
	if (!sh->accept_new) {
		rc = ed_err_set(err, ED_DENIED,
				"%s: unknown host key: the host presents %s key SHA256:%s, which %s does "
				"not hold; refused. Check the fingerprint with the host's administrator "
				"(on the host: ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then add it: "
				"ssh-keyscan %s-t %s %s >> %s, or collect once with --accept-new-host-keys",
				sh->label, kt->shown, fp, sh->known_hosts, kt->scan, portopt, kt->scan,
				sh->host, sh->known_hosts);
		goto out;
	}
	rc = add_known_host(sh, kt, key64, err);
	if (!rc)
		ed_warn("%s: added %s key SHA256:%s to %s", sh->label, kt->shown, fp, sh->known_hosts);
out:
	free(key64);
	return rc;
}

/* Is this agent key blob an RSA key (tried last: libssh2 1.10 signs with SHA-1)? */
static bool blob_is_rsa(const unsigned char *blob, size_t len)
{
	return len > 11 && blob[0] == 0 && blob[1] == 0 && blob[2] == 0 && blob[3] == 7 &&
	       memcmp(blob + 4, "ssh-rsa", 7) == 0;
}

/* The outcome of one authentication attempt. */
enum attempt { AUTH_OK, AUTH_REFUSED, AUTH_FATAL };

static enum attempt auth_result(struct op *op, int rc, struct ed_buf *tried, const char *who,
				struct ed_err *err)
{
	char msg[256];
	if (rc == 0)
		return AUTH_OK;
	if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
	    rc == LIBSSH2_ERROR_AGENT_PROTOCOL || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED) {
		ed_buf_addf(tried, "%s%s: refused", tried->len ? "; " : "", who);
		return AUTH_REFUSED;
	}
	if (rc == LIBSSH2_ERROR_FILE) {
		ed_buf_addf(tried, "%s%s: cannot read the key (encrypted, without the passphrase?)",
			    tried->len ? "; " : "", who);
		return AUTH_REFUSED;
	}
	if (rc != LIBSSH2_ERROR_EAGAIN) {
		ssh_msg(op->c, msg, sizeof(msg));
		conn_fail(op->c, err, "authentication as %s (%s%s%s): %s", op->c->sh->user,
			  ed_buf_str(tried), tried->len ? "; " : "", who, msg);
	}
	return AUTH_FATAL;
}

static enum attempt try_agent(struct ssh_source *c, struct ed_buf *tried, struct ed_err *err)
{
	struct shared *sh = c->sh;
	const char *sock = getenv("SSH_AUTH_SOCK");
	enum attempt res = AUTH_REFUSED;
	if (!sock || !*sock)
		return AUTH_REFUSED;
	LIBSSH2_AGENT *ag = libssh2_agent_init(c->s);
	if (!ag)
		return AUTH_REFUSED;
	if (libssh2_agent_connect(ag) != 0) {
		ed_buf_addf(tried, "%sssh-agent: cannot connect to %s", tried->len ? "; " : "", sock);
		goto out;
	}
	if (libssh2_agent_list_identities(ag) != 0) {
		ed_buf_addf(tried, "%sssh-agent: cannot list its keys", tried->len ? "; " : "");
		goto out;
	}
	for (int pass = 0; pass < 2 && res == AUTH_REFUSED; pass++) {
		struct libssh2_agent_publickey *id = NULL, *prev = NULL;
		while (res == AUTH_REFUSED && libssh2_agent_get_identity(ag, &id, prev) == 0) {
			prev = id;
			if (blob_is_rsa(id->blob, id->blob_len) != (pass == 1))
				continue;
			char who[128];
			snprintf(who, sizeof(who), "ssh-agent key %.80s", id->comment ? id->comment : "");
			struct op op;
			int r;
			op_start(&op, c, sh->op_ms, "authentication", NULL);
			AGAIN(&op, r, libssh2_agent_userauth(ag, sh->user, id));
			res = auth_result(&op, r, tried, who, err);
		}
	}
out:
	libssh2_agent_disconnect(ag);
	libssh2_agent_free(ag);
	return res;
}

static enum attempt try_file(struct ssh_source *c, const char *path, struct ed_buf *tried,
			     struct ed_err *err)
{
	struct shared *sh = c->sh;
	struct ed_buf pub = ED_BUF_INIT;
	const char *pass = sh->passphrase_env ? getenv(sh->passphrase_env) : NULL;
	enum attempt res = AUTH_FATAL;
	struct op op;
	int r;
	if (ed_buf_addf(&pub, "%s.pub", path)) {
		ed_err_set(err, ED_NOMEM, "out of memory");
		return AUTH_FATAL;
	}
	op_start(&op, c, sh->op_ms, "authentication", NULL);
	/* Without the .pub file, libssh2 derives the public key from the private one. */
	AGAIN(&op, r, libssh2_userauth_publickey_fromfile_ex(c->s, sh->user,
							     (unsigned)strlen(sh->user),
							     access(pub.p, R_OK) == 0 ? pub.p : NULL,
							     path, pass));
	res = auth_result(&op, r, tried, path, err);
	ed_buf_release(&pub);
	return res;
}

static enum ed_code authenticate(struct ssh_source *c, struct ed_err *err)
{
	struct shared *sh = c->sh;
	struct ed_buf tried = ED_BUF_INIT;
	struct op op;
	char *methods;
	enum attempt res = AUTH_REFUSED;
	enum ed_code rc = ED_OK;
	op_start(&op, c, sh->op_ms, "authentication", NULL);
	AGAIN_PTR(&op, methods, libssh2_userauth_list(c->s, sh->user, (unsigned)strlen(sh->user)));
	if (!methods) {
		if (libssh2_userauth_authenticated(c->s))
			return ED_OK;
		return op_error(&op, libssh2_session_last_errno(c->s), err);
	}
	if (!strstr(methods, "publickey"))
		return ed_err_set(err, ED_DENIED,
				  "%s: the server accepts no public key for %s (it offers: %.200s)",
				  sh->label, sh->user, methods);
	if (sh->identity) {
		res = try_file(c, sh->identity, &tried, err);
	} else {
		static const char *const names[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
		struct ed_buf home = ED_BUF_INIT;
		bool have_home = home_dir(&home) == 0;
		res = try_agent(c, &tried, err);
		for (size_t i = 0; res == AUTH_REFUSED && have_home && i < 3; i++) {
			struct ed_buf p = ED_BUF_INIT;
			if (ed_buf_addf(&p, "%s/.ssh/%s", home.p, names[i])) {
				ed_err_set(err, ED_NOMEM, "out of memory");
				res = AUTH_FATAL;
			} else if (access(p.p, R_OK) == 0) {
				res = try_file(c, p.p, &tried, err);
			}
			ed_buf_release(&p);
		}
		ed_buf_release(&home);
	}
	if (res == AUTH_OK)
		rc = ED_OK;
	else if (res == AUTH_FATAL)
		rc = err ? err->code : ED_IO;
	else
		rc = ed_err_set(err, ED_DENIED, "%s: authentication as %s refused (tried: %s)",
				sh->label, sh->user,
				tried.len ? tried.p
					  : "no key: no agent, no ~/.ssh/id_ed25519, id_ecdsa or id_rsa");
	ed_buf_release(&tried);
	return rc;
}

static enum ed_code ssh_connect(struct ssh_source *c, struct ed_err *err)
{
	struct shared *sh = c->sh;
	long long deadline = ed_now_ms() + sh->connect_ms;
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	struct ed_buf revoked = ED_BUF_INIT;
	struct op op;
	int r;
	enum ed_code rc;

	pthread_once(&init_once, init_libssh2);
	if (init_rc)
		return ed_err_set(err, ED_IO, "%s: cannot initialise libssh2", sh->label);
	if ((rc = tcp_connect(c, deadline, err)))
		goto out;
	if (!(c->s = libssh2_session_init_ex(block_alloc, block_free, block_realloc, c))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	libssh2_session_set_blocking(c->s, 0);
	if (!(kh = libssh2_knownhost_init(c->s))) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = load_known_hosts(sh, kh, &revoked, err)))
		goto out;
	prefer_known_types(c, kh);

	op_start(&op, c, sh->connect_ms, "handshake", NULL);
	op.deadline = deadline; /* the connect timeout covers the handshake too */
	AGAIN(&op, r, libssh2_session_handshake(c->s, c->fd));
	if (r) {
		char msg[256];
		if (r == LIBSSH2_ERROR_EAGAIN) {
			rc = ED_IO;
			goto out;
		}
		ssh_msg(c, msg, sizeof(msg));
		rc = conn_fail(c, err, "SSH handshake failed: %s", msg);
		goto out;
	}
	if ((rc = check_host_key(c, kh, &revoked, err)) || (rc = authenticate(c, err)))
		goto out;

	op_start(&op, c, sh->op_ms, "start SFTP", NULL);
	AGAIN_PTR(&op, c->sftp, libssh2_sftp_init(c->s));
	if (!c->sftp) {
		char msg[256];
		if (op.timed_out) {
			rc = ED_IO;
			goto out;
		}
		ssh_msg(c, msg, sizeof(msg));
		rc = conn_fail(c, err, "cannot start SFTP (does the server have 'Subsystem sftp'?): %s",
			       msg);
		goto out;
	}
	c->ready = true;
out:
	if (kh)
		libssh2_knownhost_free(kh);
	ed_buf_release(&revoked);
	return rc;
}

/*
 * Says goodbye (a disconnect message, nothing waited for) when the host is
 * still healthy, then frees the session without waiting on the server, and
 * whatever libssh2 left allocated with it.
 */
static void conn_close(struct ssh_source *c)
{
	/* A close still awaiting its answer: the server closes the handle with the session. */
	c->pclose = NULL;
	free(c->pclose_path);
	c->pclose_path = NULL;
	if (c->s) {
		if (!c->dead && !atomic_load(&c->sh->failed)) {
			struct op op;
			int r;
			struct ed_err ignored;
			struct ed_err *err = &ignored;
			op_start(&op, c, c->sh->op_ms < CLOSE_MS ? c->sh->op_ms : CLOSE_MS, "close",
				 NULL);
			op.soft = true;
			AGAIN(&op, r, libssh2_session_disconnect(c->s, "envdrift: done"));
		}
		/* Writes now fail at once, so freeing cannot wait on a silent server. */
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
		for (int i = 0; i < 100 && libssh2_session_free(c->s) == LIBSSH2_ERROR_EAGAIN; i++)
			;
		c->s = NULL;
		c->sftp = NULL;
	}
	blocks_sweep(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void cache_drop(struct ssh_source *c)
{
	for (size_t i = 0; i < c->cn; i++)
		free(c->cents[i].name);
	free(c->cents);
	free(c->cdir);
	c->cents = NULL;
	c->cdir = NULL;
	c->cn = 0;
}

static void shared_unref(struct shared *sh)
{
	if (!sh)
		return;
	pthread_mutex_lock(&sh->mu);
	int left = --sh->refs;
	pthread_mutex_unlock(&sh->mu);
	if (left)
		return;
	pthread_mutex_destroy(&sh->mu);
	free(sh->user);
	free(sh->host);
	free(sh->known_hosts);
	free(sh->identity);
	free(sh->passphrase_env);
	free(sh->label);
	free(sh->khname);
	free(sh);
}

static void ssh_free(struct ed_source *src)
{
	struct ssh_source *c = ssh(src);
	conn_close(c);
	cache_drop(c);
	shared_unref(c->sh);
	free(c);
}

/* A new handle on sh, connected; sh gains a reference. */
static enum ed_code open_handle(struct shared *sh, struct ed_source **out, struct ed_err *err)
{
	struct ssh_source *c = calloc(1, sizeof(*c));
	if (!c)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	c->base.ops = &ssh_ops;
	c->fd = -1;
	c->blocks.l.next = c->blocks.l.prev = &c->blocks;
	pthread_mutex_lock(&sh->mu);
	sh->refs++;
	pthread_mutex_unlock(&sh->mu);
	c->sh = sh;
	enum ed_code rc = ssh_connect(c, err);
	if (rc) {
		ssh_free(&c->base);
		return rc;
	}
	*out = &c->base;
	return ED_OK;
}

/* --- the operations --- */

/*
 * "No such file" for p, worded as the local source words it: that blames the
 * folder (what_dir) when the folder is missing or no folder, else the entry
 * (what). OpenSSH answers both with the same status; a stat of the folder,
 * following links as the local source's resolution does, tells them apart.
 */
static enum ed_code missing(struct ssh_source *c, const char *p, const char *path,
			    const char *what, const char *what_dir, struct ed_err *err)
{
	const char *slash = strrchr(p, '/');
	int e = ENOENT;
	if (slash && slash != p) {
		LIBSSH2_SFTP_ATTRIBUTES a;
		struct op op;
		int r;
		op_start(&op, c, c->sh->op_ms, what_dir, path);
		AGAIN(&op, r, libssh2_sftp_stat_ex(c->sftp, p, (unsigned)(slash - p), LIBSSH2_SFTP_STAT, &a));
		if (r == LIBSSH2_ERROR_SFTP_PROTOCOL) {
			int pe = status_errno(libssh2_sftp_last_error(c->sftp));
			e = pe ? pe : EIO;
			what = what_dir;
		} else if (r) {
			return op_error(&op, r, err);
		} else if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
			   (a.permissions & LIBSSH2_SFTP_S_IFMT) != LIBSSH2_SFTP_S_IFDIR) {
			e = ENOTDIR;
			what = what_dir;
		}
	}
	return ed_err_set(err, errno_code(e), "%s: %s: %s", path, what, strerror(e));
}

/* lstat of p (normalised; path as the caller wrote it, for messages). */
static enum ed_code sftp_lstat(struct ssh_source *c, const char *p, const char *path,
			       const char *what, const char *what_dir, LIBSSH2_SFTP_ATTRIBUTES *a,
			       struct ed_err *err)
{
	struct op op;
	int r;
	op_start(&op, c, c->sh->op_ms, what, path);
	AGAIN(&op, r, libssh2_sftp_stat_ex(c->sftp, p, (unsigned)strlen(p), LIBSSH2_SFTP_LSTAT, a));
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    status_errno(libssh2_sftp_last_error(c->sftp)) == ENOENT)
		return missing(c, p, path, what, what_dir, err);
	return r ? op_error(&op, r, err) : ED_OK;
}

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* The attributes of p from the last listing, if it listed p's folder lately. */
static bool cache_lookup(struct ssh_source *c, const char *p, struct ed_stat *st)
{
	const char *slash = strrchr(p, '/');
	if (!c->cdir || !slash || !slash[1] || ed_now_ms() - c->cms > CACHE_MS)
		return false;
	size_t dlen = slash == p ? 1 : (size_t)(slash - p);
	if (strlen(c->cdir) != dlen || memcmp(c->cdir, p, dlen) != 0)
		return false;
	struct dent key = {.name = (char *)(slash + 1)};
	const struct dent *d = bsearch(&key, c->cents, c->cn, sizeof(*d), cmp_dent);
	if (!d || (d->a.flags & all_attrs) != all_attrs)
		return false;
	fill_stat(&d->a, st);
	return true;
}

static enum ed_code ssh_stat(struct ed_source *src, const char *path, struct ed_stat *st,
			     struct ed_err *err)
{
	struct ssh_source *c = ssh(src);
	struct ed_buf p = ED_BUF_INIT;
	LIBSSH2_SFTP_ATTRIBUTES a;
	enum ed_code rc = norm(path, &p, err);
	if (rc || cache_lookup(c, p.p, st))
		goto out;
	reap_close(c, false);
	if ((rc = check_alive(c, path, err)))
		goto out;
	rc = sftp_lstat(c, p.p, path, "cannot stat", "cannot reach its folder", &a, err);
	if (!rc)
		fill_stat(&a, st);
out:
	ed_buf_release(&p);
	return rc;
}

static enum ed_code close_handle(struct ssh_source *c, LIBSSH2_SFTP_HANDLE *h, const char *path,
				 struct ed_err *err)
{
	struct op op;
	int r;
	if (c->dead)
		return ED_OK; /* the session goes, and its handles with it */
	op_start(&op, c, c->sh->op_ms, "cannot close", path);
	AGAIN(&op, r, libssh2_sftp_close_handle(h));
	return r ? op_error(&op, r, err) : ED_OK;
}

/*
 * Takes the answer to the close close_later() sent, if it is in (or, with
 * wait, once it is). Its failure is the connection's, as close_handle's is:
 * nothing was waiting on it. Called as each operation starts, not in the
 * middle of one: a close completing resets libssh2's read state.
 */
static void reap_close(struct ssh_source *c, bool wait)
{
	struct op op;
	struct ed_err ignored;
	struct ed_err *err = &ignored;
	int r;
	if (!c->pclose)
		return;
	if (!c->dead) {
		enum ed_code wrc = ED_OK;
		op_start(&op, c, c->sh->op_ms, "cannot close", c->pclose_path);
		if (wait) {
			AGAIN(&op, r, libssh2_sftp_close_handle(c->pclose));
		} else {
			CALL_QUIET(&op, r, libssh2_sftp_close_handle(c->pclose), wrc);
			if (r == LIBSSH2_ERROR_EAGAIN && !wrc)
				return; /* not in yet */
		}
		if (r && r != LIBSSH2_ERROR_EAGAIN)
			op_error(&op, r, NULL);
	}
	/* Taken, failed, or abandoned with a dead session (which frees the handle). */
	c->pclose = NULL;
	free(c->pclose_path);
	c->pclose_path = NULL;
}

/*
 * Closes h without waiting a round trip for the answer: the request is sent
 * now, wholly, and the answer taken when the next operation starts (by then
 * it is usually in). SFTP answers carry their request's id, and libssh2 1.10
 * keeps a close's state in its handle (close_state, close_request_id) and
 * files the answers it reads for other requests by id meanwhile
 * (sftp_packet_add/ask): other requests may go first. One close waits at most.
 * h must have no read half-done inside libssh2 (see ed_file.clean): a close
 * completing resets the session's read state.
 */
static void close_later(struct ssh_source *c, LIBSSH2_SFTP_HANDLE *h, const char *path)
{
	struct op op;
	struct ed_err ignored;
	struct ed_err *err = &ignored;
	enum ed_code wrc = ED_OK;
	char *keep;
	int r;
	reap_close(c, true);
	if (c->dead)
		return; /* the session goes, and its handles with it */
	if (!(keep = strdup(path))) {
		close_handle(c, h, path, NULL);
		return;
	}
	op_start(&op, c, c->sh->op_ms, "cannot close", path);
	CALL_QUIET(&op, r, libssh2_sftp_close_handle(h), wrc);
	if (r == LIBSSH2_ERROR_EAGAIN && !wrc) {
		c->pclose = h;
		c->pclose_path = keep;
		return;
	}
	if (r && r != LIBSSH2_ERROR_EAGAIN)
		op_error(&op, r, NULL);
	free(keep);
}

/*
 * How many bytes to ask libssh2_sftp_read() for when left more are expected
 * (-1: unknown) and the caller takes len. Only speed depends on it: libssh2
 * 1.10 sends requests of 30000 bytes (MAX_SFTP_READ_SIZE) for 4 times what
 * it is asked for, minus what is in flight, then answers from them. Asked
 * for all of a 1 KiB file out of a 256 KiB buffer, it would send 35 requests,
 * 34 of them answered "end of file" (work for the server, packets for us).
 * Asked for 7500 * k + 1 bytes, k = ceil(left / 30000), it sends k + 1: the
 * last starts at or past the expected end, so its "end of file" travels with
 * the data instead of costing a round trip of its own at the end. The first
 * request is always a whole 30000 bytes, as before: some files (in /proc/sys)
 * claim size 0 and have their say only in one read from their start.
 */
static size_t ask_size(int64_t left, uint64_t got, size_t len)
{
	size_t n = len;
	if (left == 0) {
		n = got ? 1 : 7500; /* at the start: one request of 30000 bytes */
	} else if (left > 0) {
		int64_t k = left / 30000 + (left % 30000 != 0);
		if (k <= (int64_t)(len / 7500))
			n = 7500 * (size_t)k + 1;
	}
	return n < len ? n : len;
}

/*
 * SFTP's open follows symlinks: a file swapped for a link since the lstat
 * shows as another file. Refuses what is no longer the same kind, mode and
 * owner (a rewrite keeps those; a link to another file rarely).
 */
static enum ed_code same_file(const LIBSSH2_SFTP_ATTRIBUTES *pre, const LIBSSH2_SFTP_ATTRIBUTES *a,
			      const char *path, struct ed_err *err)
{
	if (!(a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
	    (a->permissions & LIBSSH2_SFTP_S_IFMT) != LIBSSH2_SFTP_S_IFREG)
		return ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", path);
	if (a->permissions != pre->permissions ||
	    ((a->flags & pre->flags & LIBSSH2_SFTP_ATTR_UIDGID) &&
	     (a->uid != pre->uid || a->gid != pre->gid)))
		return ed_err_set(err, ED_IO, "%s: replaced while being opened", path);
	return ED_OK;
}

/* The first read asks for this much at most: the rest goes to read()'s own buffer. */
#define FIRST_READ_MAX (64u << 10)
/* The channel window open's fstat and first read need (see there). */
#define SEND_ROOM 8192u

static enum ed_code ssh_open(struct ed_source *src, const char *path, struct ed_file **out,
			     struct ed_err *err)
{
	struct ssh_source *c = ssh(src);
	struct ed_buf p = ED_BUF_INIT;
	struct ed_file *f = NULL;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES pre, a;
	struct op op, rop;
	bool fpend = false, rpend; /* the fstat's answer, the first read's, outstanding */
	ssize_t n = 0;
	int r;
	enum ed_code rc = op_path(c, path, &p, err);
	if (rc)
		goto out;
	/*
	 * Never open anything but a regular file, not even to look at it: the
	 * server would block on a FIFO. A fresh lstat, not the listing's.
	 */
	if (strcmp(p.p, "/") == 0) {
		rc = ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", path);
		goto out;
	}
	if ((rc = sftp_lstat(c, p.p, path, "cannot stat", "cannot reach its folder", &pre, err)))
		goto out;
	if (!(pre.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
	    (pre.permissions & LIBSSH2_SFTP_S_IFMT) != LIBSSH2_SFTP_S_IFREG) {
		rc = ed_err_set(err, ED_UNSUPPORTED, "%s: not a regular file", path);
		goto out;
	}
	op_start(&op, c, c->sh->op_ms, "cannot open", path);
	AGAIN_PTR(&op, h, libssh2_sftp_open_ex(c->sftp, p.p, (unsigned)p.len, LIBSSH2_FXF_READ, 0,
					       LIBSSH2_SFTP_OPENFILE));
	if (!h) {
		rc = op_error(&op, libssh2_session_last_errno(c->s), err);
		goto out;
	}
	int64_t expect = -1;
	if (pre.flags & LIBSSH2_SFTP_ATTR_SIZE)
		expect = pre.filesize > INT64_MAX ? INT64_MAX : (int64_t)pre.filesize;
	size_t first = ask_size(expect, 0, FIRST_READ_MAX);
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path)) || !(f->pend = malloc(first))) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
		goto out;
	}

	/*
	 * The fstat that checks what was opened, and the file's first read, in
	 * one round trip: the fstat is sent (wholly), then the reads, then both
	 * answers are awaited. The server answers in order, the fstat first;
	 * nothing read reaches the caller unless the check passes (else it is
	 * dropped with the handle), and the read's answer comes with the
	 * fstat's instead of a round trip later. SFTP servers must process the
	 * requests on one file in the order received, with the results of one
	 * at a time (draft-ietf-secsh-filexfer-02, 6.1): the fstat still sees
	 * the file before any of it is read, as the torn-read check needs.
	 * libssh2 1.10 keeps the fstat's state in the session (fstat_state)
	 * and the reads' in the handle (packet_list) and the session
	 * (read_state): taking the fstat's answer between two read calls only
	 * reads from the channel.
	 *
	 * CALL_QUIET proves the fstat left before the reads are written. The
	 * reads must not be cut in two either (libssh2 sends the rest of a
	 * request cut by the channel's window later, after whatever else went
	 * meanwhile): the window must have room for the fstat and the reads
	 * after it, at most 9 requests of at most 281 bytes for FIRST_READ_MAX.
	 */
	op_start(&op, c, c->sh->op_ms, "cannot stat", path);
	if (libssh2_channel_window_write_ex(libssh2_sftp_get_channel(c->sftp), NULL) >= SEND_ROOM) {
		CALL_QUIET(&op, r, libssh2_sftp_fstat_ex(h, &a, 0), rc);
	} else {
		/* The fstat might not go out before the reads: one after the other. */
		AGAIN(&op, r, libssh2_sftp_fstat_ex(h, &a, 0));
		if (r == LIBSSH2_ERROR_EAGAIN)
			rc = op_error(&op, r, err); /* op_wait said why */
	}
	if (rc)
		goto out;
	if (r != LIBSSH2_ERROR_EAGAIN) {
		if ((rc = r ? op_error(&op, r, err) : same_file(&pre, &a, path, err)))
			goto out;
	} else {
		fpend = true;
	}
	/*
	 * The reads are sent, then each answer awaited in turn, the fstat's
	 * first (it comes first). One call at a time waits on the socket: a
	 * call can take from it the answers to the other's requests, and keep
	 * them for the other, so poll() is only for the call just made.
	 */
	op_start(&rop, c, c->sh->op_ms, "read failed", path);
	CALL_QUIET(&rop, n, libssh2_sftp_read(h, f->pend, first), rc);
	if (rc)
		goto out;
	rpend = n == LIBSSH2_ERROR_EAGAIN;
	if (fpend) {
		AGAIN(&op, r, libssh2_sftp_fstat_ex(h, &a, 0));
		if (r == LIBSSH2_ERROR_EAGAIN) {
			rc = op_error(&op, r, err); /* op_wait said why */
			goto out;
		}
		if ((rc = r ? op_error(&op, r, err) : same_file(&pre, &a, path, err)))
			goto out;
	}
	if (rpend) {
		op_rearm(&rop);
		AGAIN(&rop, n, libssh2_sftp_read(h, f->pend, first));
		if (n == LIBSSH2_ERROR_EAGAIN) {
			rc = op_error(&rop, (int)n, err);
			goto out;
		}
	}
	/* A status (EIO...) is the first read()'s to report, the file being checked. */
	if (n < 0 && n != LIBSSH2_ERROR_SFTP_PROTOCOL) {
		rc = op_error(&rop, (int)n, err);
		goto out;
	}
	if (n < 0)
		op_error(&rop, (int)n, &f->pend_err);
	f->c = c;
	f->h = h;
	h = NULL;
	f->clean = true;
	if (n > 0) {
		f->pend_len = (size_t)n;
	} else {
		free(f->pend);
		f->pend = NULL;
		f->pend_failed = n < 0;
	}
	fill_stat(&a, &f->first);
	f->have_first = true;
	f->expect = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? f->first.size : -1;
	f->limit = (uint64_t)f->first.size + ED_SSH_READ_SLACK;
	*out = f;
	f = NULL;
out:
	/*
	 * Closed waiting for the answer. A close completing also resets
	 * libssh2's read state (the session's), which a read left half-way
	 * here keeps (it is left quiet: its requests are all sent). libssh2's
	 * one fstat state per session is never left half-way but with a dead
	 * connection.
	 */
	if (h)
		close_handle(c, h, path, NULL);
	if (f) {
		free(f->pend);
		free(f->path);
	}
	free(f);
	ed_buf_release(&p);
	return rc;
}

/*
 * Keeps the bytes read from the host, over all its handles, at or under
 * max_rate per second on average: a reader ahead of the budget sleeps.
 */
static void throttle(struct shared *sh, uint64_t n)
{
	if (!sh->max_rate || !n)
		return;
	double now = ed_now_s();
	pthread_mutex_lock(&sh->mu);
	if (sh->rate_start == 0)
		sh->rate_start = now;
	sh->rate_bytes += n;
	double due = sh->rate_start + (double)sh->rate_bytes / (double)sh->max_rate;
	pthread_mutex_unlock(&sh->mu);
	if (due > now) {
		double wait = due - now;
		struct timespec d = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
		while (nanosleep(&d, &d) != 0 && errno == EINTR)
			;
	}
}

static enum ed_code ssh_read(struct ed_file *f, void *buf, size_t len, size_t *got,
			     struct ed_err *err)
{
	struct ssh_source *c = f->c;
	struct op op;
	ssize_t n;
	enum ed_code rc = check_alive(c, f->path, err);
	if (rc)
		return rc;
	f->have_first = false; /* from now on, fstat() asks the server */
	if (f->pend) {
		/* What open's read brought first. */
		size_t k = f->pend_len - f->pend_off;
		if (k > len)
			k = len;
		memcpy(buf, f->pend + f->pend_off, k);
		f->pend_off += k;
		if (f->pend_off == f->pend_len) {
			free(f->pend);
			f->pend = NULL;
		}
		n = (ssize_t)k;
	} else if (f->pend_failed) {
		f->pend_failed = false;
		if (err)
			*err = f->pend_err;
		return f->pend_err.code;
	} else {
		int64_t left = f->expect < 0 || (uint64_t)f->expect < f->got
				       ? -1 : f->expect - (int64_t)f->got;
		size_t ask = ask_size(left, f->got, len);
		op_start(&op, c, c->sh->op_ms, "read failed", f->path);
		/* libssh2 pipelines the read: what it is asked for decides the requests in flight. */
		while ((n = libssh2_sftp_read(f->h, buf, ask)) == LIBSSH2_ERROR_EAGAIN &&
		       op_wait(&op, err) == ED_OK)
			;
		/* Any other failure leaves the read half-done inside libssh2. */
		f->clean = n >= 0 || n == LIBSSH2_ERROR_SFTP_PROTOCOL;
		if (n < 0)
			return op_error(&op, (int)n, err);
	}
	if (f->got + (uint64_t)n > f->limit)
		return ed_err_set(err, ED_TOOBIG,
				  "%s: grew by more than %u MiB while being read; stopped", f->path,
				  ED_SSH_READ_SLACK >> 20);
	f->got += (uint64_t)n;
	*got = (size_t)n;
	throttle(c->sh, (uint64_t)n);
	return ED_OK;
}

static enum ed_code ssh_fstat(struct ed_file *f, struct ed_stat *st, struct ed_err *err)
{
	struct ssh_source *c = f->c;
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct op op;
	int r;
	if (f->have_first) {
		/* Taken by open a moment ago: no second round trip. */
		*st = f->first;
		f->have_first = false;
		return ED_OK;
	}
	enum ed_code rc = check_alive(c, f->path, err);
	if (rc)
		return rc;
	op_start(&op, c, c->sh->op_ms, "cannot stat", f->path);
	AGAIN(&op, r, libssh2_sftp_fstat_ex(f->h, &a, 0));
	if (r)
		return op_error(&op, r, err);
	fill_stat(&a, st);
	return ED_OK;
}

static void ssh_close(struct ed_file *f)
{
	if (!f)
		return;
	if (f->clean)
		close_later(f->c, f->h, f->path);
	else
		close_handle(f->c, f->h, f->path, NULL);
	free(f->pend);
	free(f->path);
	free(f);
}

static enum ed_code ssh_list(struct ed_source *src, const char *path, char ***names, size_t *n,
			     struct ed_err *err)
{
	struct ssh_source *c = ssh(src);
	struct ed_buf p = ED_BUF_INIT;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct dent *v = NULL;
	char **out = NULL;
	size_t cnt = 0, cap = 0, bytes = 0;
	char name[ED_SSH_NAME_MAX + 1];
	struct op op;
	int r;
	enum ed_code rc = op_path(c, path, &p, err);
	if (rc)
		goto out;
	/*
	 * SFTP's opendir follows symlinks; the local source refuses them
	 * (O_DIRECTORY | O_NOFOLLOW: "Not a directory"). A fresh lstat keeps
	 * that answer for a link.
	 */
	if ((rc = sftp_lstat(c, p.p, path, "cannot open folder", "cannot open folder", &a, err)))
		goto out;
	if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	    (a.permissions & LIBSSH2_SFTP_S_IFMT) != LIBSSH2_SFTP_S_IFDIR) {
		rc = ed_err_set(err, ED_NOTFOUND, "%s: cannot open folder: %s", path, strerror(ENOTDIR));
		goto out;
	}
	op_start(&op, c, c->sh->op_ms, "cannot open folder", path);
	AGAIN_PTR(&op, h, libssh2_sftp_open_ex(c->sftp, p.p, (unsigned)p.len, 0, 0,
					       LIBSSH2_SFTP_OPENDIR));
	if (!h) {
		rc = op_error(&op, libssh2_session_last_errno(c->s), err);
		goto out;
	}
	op.what = "cannot read folder";
	for (;;) {
		op_rearm(&op);
		AGAIN(&op, r, libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0, &a));
		if (r == 0)
			break;
		if (r == LIBSSH2_ERROR_BUFFER_TOO_SMALL) {
			rc = ed_err_set(err, ED_TOOBIG, "%s: an entry's name is longer than %d bytes",
					path, ED_SSH_NAME_MAX);
			goto out;
		}
		if (r < 0) {
			rc = op_error(&op, r, err);
			goto out;
		}
		size_t len = (size_t)r;
		if (len > ED_SSH_NAME_MAX || memchr(name, '/', len) || memchr(name, '\0', len)) {
			rc = ed_err_set(err, ED_PARSE, "%s: the server listed an impossible entry name",
					path);
			goto out;
		}
		if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
			continue;
		bytes += len + 1;
		if (cnt == ED_SSH_LIST_MAX || bytes > ED_SSH_LIST_BYTES) {
			rc = ed_err_set(err, ED_TOOBIG, "%s: more than %u entries or %u MiB of names; "
					"not listed", path, ED_SSH_LIST_MAX, ED_SSH_LIST_BYTES >> 20);
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct dent *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = ed_err_set(err, ED_NOMEM, "%s: out of memory listing", path);
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		if (!(v[cnt].name = ed_strndup(name, len))) {
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory listing", path);
			goto out;
		}
		v[cnt++].a = a;
	}
	/* Everything is read: the close's answer can come later. */
	close_later(c, h, path);
	h = NULL;
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_dent);
	/* A name listed twice (a folder changing under readdir) counts once. */
	size_t w = 0;
	for (size_t i = 0; i < cnt; i++) {
		if (w && strcmp(v[w - 1].name, v[i].name) == 0) {
			free(v[i].name);
			continue;
		}
		v[w++] = v[i];
	}
	cnt = w;
	if (cnt && !(out = calloc(cnt, sizeof(*out)))) {
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory listing", path);
		goto out;
	}
	for (size_t i = 0; i < cnt; i++)
		if (!(out[i] = strdup(v[i].name))) {
			ed_names_free(out, i);
			out = NULL;
			rc = ed_err_set(err, ED_NOMEM, "%s: out of memory listing", path);
			goto out;
		}
	*names = out;
	*n = cnt;
	out = NULL;
	/* The listing's attributes answer the stat() calls that follow it. */
	char *dir = strdup(p.p);
	if (dir) {
		cache_drop(c);
		c->cdir = dir;
		c->cents = v;
		c->cn = cnt;
		c->cms = ed_now_ms();
		v = NULL;
		cnt = 0;
	}
out:
	if (h)
		close_handle(c, h, path, NULL);
	for (size_t i = 0; i < cnt; i++)
		free(v[i].name);
	free(v);
	ed_buf_release(&p);
	return rc;
}

static enum ed_code ssh_readlink(struct ed_source *src, const char *path, struct ed_buf *out,
				 struct ed_err *err)
{
	struct ssh_source *c = ssh(src);
	struct ed_buf p = ED_BUF_INIT;
	char target[ED_SSH_LINK_MAX + 2];
	struct op op;
	int r;
	enum ed_code rc = op_path(c, path, &p, err);
	if (rc)
		goto out;
	op_start(&op, c, c->sh->op_ms, "cannot read link", path);
	AGAIN(&op, r, libssh2_sftp_symlink_ex(c->sftp, p.p, (unsigned)p.len, target,
					      sizeof(target), LIBSSH2_SFTP_READLINK));
	if (r == LIBSSH2_ERROR_BUFFER_TOO_SMALL || r > ED_SSH_LINK_MAX) {
		rc = ed_err_set(err, ED_TOOBIG, "%s: link target longer than %d bytes", path,
				ED_SSH_LINK_MAX);
		goto out;
	}
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		/*
		 * libssh2 1.10 reads a failed readlink's status from the wrong
		 * bytes (it reports the request id): an lstat tells what is wrong.
		 */
		LIBSSH2_SFTP_ATTRIBUTES a;
		rc = sftp_lstat(c, p.p, path, "cannot read link", "cannot reach its folder", &a, err);
		if (rc)
			goto out;
		if (!(a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
		    (a.permissions & LIBSSH2_SFTP_S_IFMT) != LIBSSH2_SFTP_S_IFLNK)
			rc = ed_err_set(err, ED_IO, "%s: cannot read link: %s", path, strerror(EINVAL));
		else
			rc = ed_err_set(err, ED_IO, "%s: cannot read link: the server reported a failure",
					path);
		goto out;
	}
	if (r < 0) {
		rc = op_error(&op, r, err);
		goto out;
	}
	if (memchr(target, '\0', (size_t)r)) {
		rc = ed_err_set(err, ED_PARSE, "%s: the server sent a link target holding a NUL byte",
				path);
		goto out;
	}
	if (ed_buf_add(out, target, (size_t)r))
		rc = ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
out:
	ed_buf_release(&p);
	return rc;
}

static enum ed_code ssh_local_path(struct ed_source *src, const char *path, struct ed_buf *out,
				   struct ed_err *err)
{
	(void)out;
	return ed_err_set(err, ED_UNSUPPORTED, "%s: the file is on %s, not on this machine", path,
			  ssh(src)->sh->label);
}

static enum ed_code ssh_root_dir(struct ed_source *src, struct ed_buf *out, struct ed_err *err)
{
	(void)out;
	return ed_err_set(err, ED_UNSUPPORTED, "%s: a remote host has no folder on this machine",
			  ssh(src)->sh->label);
}

static int signal_number(const char *name, size_t len)
{
	static const struct {
		const char *name;
		int num;
	} sigs[] = {
		{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL},
		{"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS}, {"FPE", SIGFPE},
		{"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
		{"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"XCPU", SIGXCPU},
		{"XFSZ", SIGXFSZ}, {"SYS", SIGSYS},
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strlen(sigs[i].name) == len && memcmp(sigs[i].name, name, len) == 0)
			return sigs[i].num;
	return 0;
}

/*
 * Ends a command's channel early (stopped, or printing too much): sends the
 * close, but does not wait for the server's, which only comes when the
 * program ends (sshd closes its pipes: it dies of SIGPIPE at its next write).
 * An abandoned channel is freed with the session; meanwhile its unread data
 * is bounded by the channel window. A server that cannot even take the close
 * condemns the connection.
 */
static void channel_done(struct ssh_source *c, LIBSSH2_CHANNEL *ch, const char *prog)
{
	struct op op;
	struct ed_err ignored;
	struct ed_err *err = &ignored;
	int r;
	if (c->dead)
		return;
	op_start(&op, c, c->sh->op_ms < CLOSE_MS ? c->sh->op_ms : CLOSE_MS,
		 "cannot close the command's channel", prog);
	while ((r = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN) {
		if (!(libssh2_session_block_directions(c->s) & LIBSSH2_SESSION_BLOCK_OUTBOUND))
			return; /* sent; only the server's close is awaited */
		if (op_wait(&op, err))
			return;
	}
	if (r == 0)
		AGAIN(&op, r, libssh2_channel_free(ch));
}

/*
 * Opens a session channel and starts argv's command line in it; nothing is
 * sent to its standard input yet. Until the program runs, silence is the
 * server's: it condemns the connection.
 */
static enum ed_code channel_start(struct ssh_source *c, const char *const *argv,
				  LIBSSH2_CHANNEL **out, struct ed_err *err)
{
	struct ed_buf cmd = ED_BUF_INIT;
	LIBSSH2_CHANNEL *ch = NULL;
	struct op op;
	int r;
	enum ed_code rc;

	*out = NULL;
	if (!argv || !argv[0] || !argv[0][0])
		return ed_err_set(err, ED_USAGE, "no program to run");
	if (argv[0][0] == '-')
		return ed_err_set(err, ED_USAGE, "%s: a program name cannot start with '-'", argv[0]);
	if ((rc = check_alive(c, argv[0], err)))
		return rc;
	if (ed_ssh_command_line(argv, &cmd))
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", argv[0]);
	op_start(&op, c, c->sh->op_ms, "cannot start", argv[0]);
	AGAIN_PTR(&op, ch, libssh2_channel_open_session(c->s));
	if (!ch) {
		rc = op_error(&op, libssh2_session_last_errno(c->s), err);
		goto out;
	}
	AGAIN(&op, r, libssh2_channel_exec(ch, cmd.p));
	if (r == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
		rc = ed_err_set(err, ED_IO, "%s: %s: the server refuses to run commands", c->sh->label,
				argv[0]);
	else if (r)
		rc = op_error(&op, r, err);
out:
	ed_buf_release(&cmd);
	if (rc && ch)
		channel_done(c, ch, argv[0]);
	else
		*out = ch;
	return rc;
}

/* Sends len bytes to the program's standard input, then its end. */
static enum ed_code channel_feed(struct ssh_source *c, LIBSSH2_CHANNEL *ch, const char *prog,
				 const void *in, size_t len, struct ed_err *err)
{
	struct op op;
	int r;
	op_start(&op, c, c->sh->op_ms, "cannot send its input", prog);
	for (size_t off = 0; off < len;) {
		ssize_t n = libssh2_channel_write(ch, (const char *)in + off, len - off);
		if (n == LIBSSH2_ERROR_EAGAIN) {
			if (op_wait(&op, err))
				return ED_IO;
			continue;
		}
		if (n < 0)
			return op_error(&op, (int)n, err);
		off += (size_t)n;
		op_rearm(&op);
	}
	AGAIN(&op, r, libssh2_channel_send_eof(ch));
	return r ? op_error(&op, r, err) : ED_OK;
}

/* Waits for the channel's close, which brings the exit status; frees the channel. */
static enum ed_code channel_finish(struct ssh_source *c, LIBSSH2_CHANNEL **chp, const char *prog,
				   int *exit_status, struct ed_err *err)
{
	LIBSSH2_CHANNEL *ch = *chp;
	struct op op;
	int r;
	op_start(&op, c, c->sh->op_ms, "cannot finish", prog);
	AGAIN(&op, r, libssh2_channel_close(ch));
	if (!r)
		AGAIN(&op, r, libssh2_channel_wait_closed(ch));
	if (r)
		return op_error(&op, r, err);
	char *sig = NULL;
	size_t siglen = 0;
	int status = libssh2_channel_get_exit_status(ch);
	if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 && sig) {
		status = 128 + signal_number(sig, siglen);
		libssh2_free(c->s, sig);
	}
	AGAIN(&op, r, libssh2_channel_free(ch));
	*chp = NULL;
	if (r)
		return op_error(&op, r, err);
	*exit_status = status;
	return ED_OK;
}


/* The program's standard error, the first ED_SSH_STDERR_KEEP bytes of it. */
struct errkeep {
	char buf[ED_SSH_STDERR_KEEP + 1];
	size_t len;
	ed_ssh_errout_fn next; /* also handed on, when set */
	void *ctx;
};

static void errkeep_add(struct errkeep *ek, const char *data, size_t len)
{
	size_t keep = ED_SSH_STDERR_KEEP - ek->len;
	if (len < keep)
		keep = len;
	memcpy(ek->buf + ek->len, data, keep);
	ek->len += keep;
	if (ek->next)
		ek->next(ek->ctx, data, len);
}

/*
 * Runs argv with in on its standard input, handing its output to out; a
 * program stopped for its time leaves the connection usable. limit_ms bounds the whole run, or with idle each
 * silence (then the bytes read also count against max_rate). The shared
 * body of run() and ed_ssh_stream().
 */
static enum ed_code exec(struct ssh_source *c, const char *const *argv, const void *in,
			 size_t in_len, int limit_ms, bool idle, ed_ssh_out_fn out, void *ctx,
			 struct errkeep *ek, bool *printed, int *exit_status, struct ed_err *err)
{
	LIBSSH2_CHANNEL *ch = NULL;
	char chunk[32768];
	struct op op;
	enum ed_code rc;
	*printed = false;
	if ((rc = channel_start(c, argv, &ch, err)) ||
	    (rc = channel_feed(c, ch, argv[0], in, in_len, err)))
		goto out;
	op_start(&op, c, limit_ms, "running", argv[0]);
	op.soft = true;
	for (;;) {
		bool progress = false;
		ssize_t n = libssh2_channel_read_ex(ch, 0, chunk, sizeof(chunk));
		if (n > 0) {
			progress = true;
			*printed = true;
			if ((rc = out(ctx, chunk, (size_t)n, err)))
				goto out;
			if (idle)
				throttle(c->sh, (uint64_t)n);
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			op.soft = false;
			rc = op_error(&op, (int)n, err);
			goto out;
		}
		ssize_t m = libssh2_channel_read_ex(ch, SSH_EXTENDED_DATA_STDERR, chunk, sizeof(chunk));
		if (m > 0) {
			progress = true;
			errkeep_add(ek, chunk, (size_t)m);
		} else if (m < 0 && m != LIBSSH2_ERROR_EAGAIN) {
			op.soft = false;
			rc = op_error(&op, (int)m, err);
			goto out;
		}
		if (n == 0 && m == 0 && libssh2_channel_eof(ch))
			break;
		if (progress) {
			if (idle)
				op_rearm(&op);
		} else if ((rc = op_wait(&op, err))) {
			ed_err_set(err, ED_IO, "%s: no answer within %d ms; stopped", argv[0], limit_ms);
			goto out;
		}
	}
	rc = channel_finish(c, &ch, argv[0], exit_status, err);
out:
	if (ch)
		channel_done(c, ch, argv[0]);
	/* It held the program's output: values of the data when streaming rows. */
	explicit_bzero(chunk, sizeof(chunk));
	ek->len = ed_text_tidy(ek->buf, ek->len);
	return rc;
}

static enum ed_code ssh_run(struct ed_source *src, const char *const *argv, size_t max,
			    int timeout_ms, struct ed_buf *out, int *exit_status, struct ed_err *err)
{
	struct ssh_source *c = ssh(src);
	struct ed_run_keep ro = {.out = out, .start = out->len, .max = max, .prog = argv ? argv[0] : NULL};
	struct errkeep ek = {.len = 0};
	bool printed;
	int status = 0;
	enum ed_code rc;
	rc = exec(c, argv, NULL, 0, timeout_ms, false, ed_run_keep, &ro, &ek, &printed, &status, err);
	if (rc)
		goto out;
	/*
	 * Status 127 and not a byte of output: the shell (or nice) did not find
	 * the program. Its words may be in any language; the status is not.
	 */
	if (status == 127 && !printed) {
		rc = ed_err_set(err, ED_NOTFOUND, "%s: cannot run on %s: not found%s%s", argv[0],
				c->sh->label, ek.len ? ": " : "", ek.buf);
		goto out;
	}
	*exit_status = status;
	/* A non-zero status is not an error of run(); the caller may want the program's words. */
	if (status != 0)
		ed_err_set(err, ED_OK, "%s exited with status %d%s%s", argv[0], status,
			   ek.len ? ": " : "", ek.buf);
out:
	if (rc) {
		out->len = ro.start;
		if (out->p)
			out->p[ro.start] = '\0';
	}
	return rc;
}

enum ed_code ed_ssh_stream(struct ed_source *src, const char *const *argv, const void *in,
			   size_t in_len, int idle_ms, ed_ssh_out_fn out, ed_ssh_errout_fn errout,
			   void *ctx, int *exit_status, struct ed_err *err)
{
	if (!src || src->ops != &ssh_ops)
		return ed_err_set(err, ED_USAGE, "not an SSH source");
	struct ssh_source *c = ssh(src);
	struct errkeep ek = {.len = 0, .next = errout, .ctx = ctx};
	bool printed;
	int status = 0;
	enum ed_code rc = exec(c, argv, in, in_len, idle_ms > 0 ? idle_ms : c->sh->op_ms, true, out,
			       ctx, &ek, &printed, &status, err);
	if (rc)
		return rc;
	if (status == 127 && !printed)
		return ed_err_set(err, ED_NOTFOUND, "%s: cannot run on %s: not found%s%s", argv[0],
				  c->sh->label, ek.len ? ": " : "", ek.buf);
	*exit_status = status;
	return ED_OK;
}

static enum ed_code ssh_stream(struct ed_source *src, const char *const *argv, int timeout_ms,
			       ed_source_out_fn out, void *ctx, int *exit_status,
			       struct ed_err *err)
{
	struct ssh_source *c = ssh(src);
	struct errkeep ek = {.len = 0};
	bool printed;
	int status = 0;
	enum ed_code rc = exec(c, argv, NULL, 0, timeout_ms > 0 ? timeout_ms : c->sh->op_ms, true,
			       out, ctx, &ek, &printed, &status, err);
	if (rc)
		return rc;
	if (status == 127 && !printed)
		return ed_err_set(err, ED_NOTFOUND, "%s: cannot run on %s: not found%s%s", argv[0],
				  c->sh->label, ek.len ? ": " : "", ek.buf);
	*exit_status = status;
	/* As run(): a non-zero status is the program's to explain. */
	if (status != 0)
		ed_err_set(err, ED_OK, "%s exited with status %d%s%s", argv[0], status,
			   ek.len ? ": " : "", ek.buf);
	return ED_OK;
}

static enum ed_code ssh_dup(struct ed_source *src, struct ed_source **out, struct ed_err *err)
{
	return open_handle(ssh(src)->sh, out, err);
}

static const struct ed_source_ops ssh_ops = {
	.name = "ssh",
	.stat = ssh_stat,
	.open = ssh_open,
	.read = ssh_read,
	.fstat = ssh_fstat,
	.close = ssh_close,
	.list = ssh_list,
	.readlink = ssh_readlink,
	.local_path = ssh_local_path,
	.run = ssh_run,
	.stream = ssh_stream,
	.root_dir = ssh_root_dir,
	.dup = ssh_dup,
	.free = ssh_free,
};

enum ed_code ed_source_ssh_check(struct ed_source *src, struct ed_err *err)
{
	if (!src || src->ops != &ssh_ops)
		return ed_err_set(err, ED_USAGE, "not an SSH source");
	struct shared *sh = ssh(src)->sh;
	enum ed_code rc = ED_OK;
	pthread_mutex_lock(&sh->mu);
	if (atomic_load(&sh->failed))
		rc = ed_err_set(err, ED_IO, "%s", sh->failure);
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

enum ed_code ed_source_ssh_new(const struct ed_ssh_opts *o, struct ed_source **out,
			       struct ed_err *err)
{
	struct shared *sh = NULL;
	bool oom = false;
	enum ed_code rc;
	if (!o || !o->host || !*o->host)
		return ed_err_set(err, ED_USAGE, "ssh: no host");
	if (o->port < 0 || o->port > 65535)
		return ed_err_set(err, ED_USAGE, "ssh %s: port %d out of range", o->host, o->port);
	if (o->identity && access(o->identity, R_OK) != 0)
		return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO, "identity %s: %s",
				  o->identity, strerror(errno));
	if (!(sh = calloc(1, sizeof(*sh))))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	pthread_mutex_init(&sh->mu, NULL);
	atomic_init(&sh->failed, false);
	sh->refs = 1;
	sh->port = o->port ? o->port : 22;
	sh->accept_new = o->accept_new;
	sh->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
	sh->op_ms = o->op_timeout_ms > 0 ? o->op_timeout_ms : DEFAULT_OP_MS;
	sh->max_rate = o->max_rate;
	sh->host = ed_strdup_opt(o->host, &oom);
	sh->identity = ed_strdup_opt(o->identity, &oom);
	sh->passphrase_env = ed_strdup_opt(o->passphrase_env, &oom);
	if (o->user) {
		sh->user = ed_strdup_opt(o->user, &oom);
	} else {
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) != 0 || !res) {
			rc = ed_err_set(err, ED_USAGE, "ssh %s: no user name given, and none for uid %u",
					o->host, (unsigned)geteuid());
			goto fail;
		}
		sh->user = ed_strdup_opt(pw.pw_name, &oom);
	}
	if (o->known_hosts) {
		sh->known_hosts = ed_strdup_opt(o->known_hosts, &oom);
	} else {
		struct ed_buf kh = ED_BUF_INIT;
		if (home_dir(&kh) || ed_buf_adds(&kh, "/.ssh/known_hosts")) {
			ed_buf_release(&kh);
			rc = ed_err_set(err, ED_USAGE, "ssh %s: no home folder for ~/.ssh/known_hosts; "
					"name the file", o->host);
			goto fail;
		}
		sh->known_hosts = ed_buf_detach(&kh);
	}
	bool v6 = sh->host && strchr(sh->host, ':');
	struct ed_buf label = ED_BUF_INIT, kn = ED_BUF_INIT;
	if (sh->host) {
		if (sh->port == 22 ? ed_buf_adds(&label, sh->host)
				   : ed_buf_addf(&label, v6 ? "[%s]:%d" : "%s:%d", sh->host, sh->port))
			oom = true;
		if (sh->port == 22 ? ed_buf_adds(&kn, sh->host)
				   : ed_buf_addf(&kn, "[%s]:%d", sh->host, sh->port))
			oom = true;
	}
	sh->label = ed_buf_detach(&label);
	sh->khname = ed_buf_detach(&kn);
	if (oom || !sh->label || !sh->khname || !sh->known_hosts) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	rc = open_handle(sh, out, err);
fail:
	shared_unref(sh);
	return rc;
}
