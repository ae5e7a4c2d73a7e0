/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SSH source: destinations, the quoting of remote command
 * lines (run through real shells), connect timeouts against a silent
 * listener; then, with a private sshd on 127.0.0.1 (skipped without
 * /usr/sbin/sshd), every operation compared with the local source on one
 * fixture, and run(): statuses, signals, caps, timeouts. The CLI and the
 * host key checks are tests/integration/ssh.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ed/clock.h"
#include "ed/hash.h"
#include "ed/ssh.h"
#include "tap.h"

static void dest_ok(const char *in, const char *user, const char *host, int port)
{
	struct ed_ssh_dest d = {0};
	struct ed_err err = {0};
	enum ed_code rc = ed_ssh_dest_parse(in, &d, &err);
	ok(rc == ED_OK && (user ? d.user && strcmp(d.user, user) == 0 : !d.user) && d.host &&
		   strcmp(d.host, host) == 0 && d.port == port,
	   "dest '%s' -> user %s, host %s, port %d", in, user ? user : "(none)", host, port);
	ed_ssh_dest_release(&d);
}

static void dest_bad(const char *in)
{
	struct ed_ssh_dest d = {0};
	struct ed_err err = {0};
	enum ed_code rc = ed_ssh_dest_parse(in, &d, &err);
	ok(rc == ED_USAGE && strstr(err.msg, "USER@HOST") && !d.user && !d.host,
	   "dest '%s' is refused", in);
	ed_ssh_dest_release(&d);
}

/*
 * Runs the command line built for argv through shell -c, with "printf" as the
 * program: each argument comes back NUL-terminated, byte for byte, or not.
 */
static void quoting_through(const char *shell)
{
	static const char *const args[] = {
		"plain", "", "with space", "it's", "'", "''", "$(echo INJECTED)", "`echo INJECTED`",
		"a;echo INJECTED", "a|b&&c||d", "$HOME ${PATH} $1 $@ $*", "back\\slash\\",
		"new\nline", "tab\there", "glob * ? [a]", "\"double\"", "!bang", "~tilde",
		"#hash", "\xff\xfe\x01\x7f", "-n", "-- --", NULL,
	};
	const char *argv[32];
	size_t n = 0;
	argv[n++] = "printf";
	argv[n++] = "%s\\0";
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct ed_buf cmd = ED_BUF_INIT;
	ok(ed_ssh_command_line(argv, &cmd) == 0, "%s: the command line is built", shell);

	int pfd[2];
	if (pipe(pfd) != 0) {
		ok(0, "%s: pipe", shell);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(shell, shell, "-c", cmd.p, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char out[8192];
	size_t len = 0;
	ssize_t got;
	while ((got = read(pfd[0], out + len, sizeof(out) - len)) > 0)
		len += (size_t)got;
	close(pfd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the command ran", shell);

	struct ed_buf want = ED_BUF_INIT;
	for (size_t i = 0; args[i]; i++)
		ed_buf_add(&want, args[i], strlen(args[i]) + 1);
	ok(len == want.len && memcmp(out, want.p, len) == 0,
	   "%s: every argument arrives byte for byte, none interpreted", shell);
	ok(!memmem(out, len, "INJECTED\n", 9) && !(len >= 8 && memcmp(out, "INJECTED", 8) == 0),
	   "%s: nothing was substituted or run", shell);
	ed_buf_release(&want);
	ed_buf_release(&cmd);
}

/* A TCP listener on 127.0.0.1 that never accepts: the kernel completes connects. */
static int silent_listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* --- with a server --- */

static char dir[256];
static pid_t sshd_pid = -1;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Keys, a config and sshd on a free port; -1 when there is no sshd to run. */
static int start_sshd(void)
{
	int port = 0, lfd = silent_listener(&port);
	if (lfd < 0)
		return -1;
	close(lfd);
	if (access("/usr/sbin/sshd", X_OK) != 0 || !tap_tmpdir(dir, sizeof(dir), "ed-test-ssh"))
		return -1;
	chmod(dir, 0755);
	if (geteuid() == 0)
		mkdir("/run/sshd", 0755);
	if (sh("ssh-keygen -q -t ed25519 -N '' -f %s/host && ssh-keygen -q -t ed25519 -N '' -f %s/user"
	       " && cp %s/user.pub %s/authorized_keys"
	       " && printf '[127.0.0.1]:%d %%s\\n' \"$(cut -d' ' -f1,2 %s/host.pub)\" >%s/known_hosts",
	       dir, dir, dir, dir, port, dir, dir) != 0)
		return -1;
	char conf[512];
	snprintf(conf, sizeof(conf), "%s/sshd_config", dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host\nAuthorizedKeysFile %s/authorized_keys\n"
		   "PidFile %s/sshd.pid\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
		   "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n",
		port, dir, dir, dir);
	fclose(f);
	sshd_pid = fork();
	if (sshd_pid == 0) {
		char log[512];
		snprintf(log, sizeof(log), "%s/sshd.log", dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (r == 0)
			return port;
		usleep(20000);
	}
	return -1;
}

static void stop_sshd(void)
{
	if (sshd_pid > 0) {
		kill(sshd_pid, SIGTERM);
		waitpid(sshd_pid, NULL, 0);
	}
	/* Set only once tap_tmpdir() made it (its random suffix may end in 'X' too). */
	if (dir[0])
		sh("rm -rf %s", dir);
}

/* What an operation gave: code and message, or the result; compared across sources. */
static void describe(struct ed_buf *out, enum ed_code rc, const struct ed_err *err)
{
	ed_buf_reset(out);
	if (rc)
		ed_buf_addf(out, "%s: %s", ed_code_str(rc), err->msg);
}

static const char *op_stat(struct ed_source *src, const char *path, struct ed_buf *out)
{
	struct ed_stat st;
	struct ed_err err = {0};
	enum ed_code rc = src->ops->stat(src, path, &st, &err);
	describe(out, rc, &err);
	if (!rc)
		ed_buf_addf(out, "type %d mode %o uid %u gid %u size %lld mtime %lld", st.type, st.mode,
			    st.uid, st.gid, (long long)st.size, (long long)(st.mtime_ns / 1000000000));
	return ed_buf_str(out);
}

static const char *op_list(struct ed_source *src, const char *path, struct ed_buf *out)
{
	char **names = NULL;
	size_t n = 0;
	struct ed_err err = {0};
	enum ed_code rc = src->ops->list(src, path, &names, &n, &err);
	describe(out, rc, &err);
	for (size_t i = 0; !rc && i < n; i++)
		ed_buf_addf(out, "[%s]", names[i]);
	ed_names_free(names, n);
	return ed_buf_str(out);
}

static const char *op_readlink(struct ed_source *src, const char *path, struct ed_buf *out)
{
	struct ed_buf t = ED_BUF_INIT;
	struct ed_err err = {0};
	enum ed_code rc = src->ops->readlink(src, path, &t, &err);
	describe(out, rc, &err);
	if (!rc)
		ed_buf_addf(out, "-> %s", ed_buf_str(&t));
	ed_buf_release(&t);
	return ed_buf_str(out);
}

static const char *op_read(struct ed_source *src, const char *path, struct ed_buf *out)
{
	struct ed_buf t = ED_BUF_INIT;
	struct ed_err err = {0};
	enum ed_code rc = ed_source_read_all(src, path, 8u << 20, &t, &err);
	describe(out, rc, &err);
	if (!rc) {
		struct ed_fp fp;
		char hex[2 * ED_FP_LEN + 1];
		ed_fp_of(t.p ? t.p : "", t.len, &fp);
		ed_fp_hex(&fp, hex);
		ed_buf_addf(out, "%zu bytes, fingerprint %s", t.len, hex);
	}
	ed_buf_release(&t);
	return ed_buf_str(out);
}

static void same_as_local(struct ed_source *ssh, struct ed_source *local, const char *what,
			  const char *(*op)(struct ed_source *, const char *, struct ed_buf *),
			  const char *path)
{
	struct ed_buf a = ED_BUF_INIT, b = ED_BUF_INIT;
	const char *shown = strncmp(path, dir, strlen(dir)) == 0 ? path + strlen(dir) : path;
	is_str(op(ssh, path, &a), op(local, path, &b), "%s %s: as the local source", what, shown);
	ed_buf_release(&a);
	ed_buf_release(&b);
}

static enum ed_code run(struct ed_source *src, const char *const *argv, size_t max, int ms,
			struct ed_buf *out, int *status, struct ed_err *err)
{
	ed_buf_reset(out);
	*status = -1;
	*err = (struct ed_err){0};
	return src->ops->run(src, argv, max, ms, out, status, err);
}

static void with_server(void)
{
	int port = start_sshd();
	if (port < 0) {
		printf("ok %d # SKIP no sshd to test against\n", ++tap_n);
		stop_sshd();
		return;
	}
	char kh[512], id[512], p[1024];
	snprintf(kh, sizeof(kh), "%s/known_hosts", dir);
	snprintf(id, sizeof(id), "%s/user", dir);
	struct ed_ssh_opts o = {
		.host = "127.0.0.1", .port = port, .known_hosts = kh, .identity = id,
		.connect_timeout_ms = 5000, .op_timeout_ms = 5000,
	};
	struct ed_source *src = NULL, *dup = NULL, *local = NULL;
	struct ed_err err = {0};
	enum ed_code rc = ed_source_ssh_new(&o, &src, &err);
	is_int(rc, ED_OK, "connected to the test sshd on port %d as this user", port);
	if (rc) {
		printf("# %s\n", err.msg);
		stop_sshd();
		return;
	}
	rc = ed_source_local_new(NULL, &local, &err);
	is_int(rc, ED_OK, "and a local source on /");
	is_str(src->ops->name, "ssh", "the source is named ssh");

	/* A fixture with every kind of entry and error the local source reports. */
	sh("cd %s && mkdir -p t/d/e && echo hi >t/f && printf 'x%%.0s' $(seq 1 300000) >t/big"
	   " && ln -s f t/l && ln -s d t/ldir && ln -s nowhere t/dangling && ln -s a t/b && ln -s b t/a"
	   " && mkfifo t/fifo && : >t/empty && touch t/d/e/z t/d/y t/d/x && chmod 4711 t/d/x"
	   " && ln -s \"$(printf 'p%%.0s' $(seq 1 4095))\" t/longlink", dir);
	const char *names[] = {"t", "t/f", "t/big", "t/l", "t/ldir", "t/dangling", "t/a", "t/fifo",
			       "t/empty", "t/d", "t/d/x", "t/missing", "t/f/below", "t/longlink",
			       "t/d/e", "t/d/../f", NULL};
	for (size_t i = 0; names[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		same_as_local(src, local, "stat", op_stat, p);
		same_as_local(src, local, "list", op_list, p);
		same_as_local(src, local, "readlink", op_readlink, p);
		same_as_local(src, local, "read", op_read, p);
	}
	snprintf(p, sizeof(p), "%s/t", dir);
	same_as_local(src, local, "stat (right after its folder's listing)", op_stat, p);
	same_as_local(src, local, "list", op_list, "/");
	same_as_local(src, local, "stat", op_stat, "/");

	struct ed_buf b = ED_BUF_INIT;
	err = (struct ed_err){0};
	is_int(src->ops->local_path(src, "/etc/passwd", &b, &err), ED_UNSUPPORTED,
	       "local_path: ED_UNSUPPORTED (%s)", err.msg);
	is_int(src->ops->root_dir(src, &b, &err), ED_UNSUPPORTED, "root_dir: ED_UNSUPPORTED");

	/* An open file: fstat, reads, and a second fstat that asks the server. */
	struct ed_file *fh = NULL;
	snprintf(p, sizeof(p), "%s/t/big", dir);
	is_int(src->ops->open(src, p, &fh, &err), ED_OK, "open a regular file");
	if (fh) {
		struct ed_stat s1, s2;
		char chunk[100000];
		size_t got = 0, total = 0;
		ok(src->ops->fstat(fh, &s1, &err) == ED_OK && s1.type == ED_FT_REG && s1.size == 300000,
		   "  fstat: a regular file of 300000 bytes");
		while (src->ops->read(fh, chunk, sizeof(chunk), &got, &err) == ED_OK && got)
			total += got;
		is_int(total, 300000, "  read to the end in chunks");
		ok(src->ops->fstat(fh, &s2, &err) == ED_OK && s2.size == s1.size &&
			   s2.mtime_ns == s1.mtime_ns && s2.ino == 0,
		   "  a second fstat agrees (no inode over SFTP)");
		src->ops->close(fh);
	}

	/* run() */
	int status;
	static const char *const uname[] = {"uname", "-m", NULL};
	rc = run(src, uname, 256, 5000, &b, &status, &err);
	char m[128] = "";
	FILE *pf = popen("uname -m", "r");
	if (pf) {
		if (!fgets(m, sizeof(m), pf))
			m[0] = '\0';
		pclose(pf);
	}
	ok(rc == ED_OK && status == 0 && strcmp(ed_buf_str(&b), m) == 0, "run uname -m: %.*s",
	   (int)strcspn(ed_buf_str(&b), "\n"), ed_buf_str(&b));
	static const char *const lit[] = {"printf", "%s|", "$(id)", "a b", "it's", ";ls", NULL};
	rc = run(src, lit, 256, 5000, &b, &status, &err);
	is_str(ed_buf_str(&b), "$(id)|a b|it's|;ls|", "run: arguments arrive literally");
	static const char *const three[] = {"sh", "-c", "echo out; echo 'bad thing' >&2; exit 3", NULL};
	rc = run(src, three, 256, 5000, &b, &status, &err);
	ok(rc == ED_OK && status == 3 && strcmp(ed_buf_str(&b), "out\n") == 0,
	   "run: a non-zero status is not an error of run");
	is_str(err.msg, "sh exited with status 3: bad thing", "  the message holds the program's stderr");
	static const char *const sig[] = {"sh", "-c", "kill -TERM $$", NULL};
	rc = run(src, sig, 256, 5000, &b, &status, &err);
	ok(rc == ED_OK && status == 128 + SIGTERM, "run: killed by SIGTERM is status 143 (%d)", status);
	static const char *const none[] = {"envdrift-no-such-program", "x", NULL};
	rc = run(src, none, 256, 5000, &b, &status, &err);
	is_int(rc, ED_NOTFOUND, "run: a program the host lacks is ED_NOTFOUND (%s)", err.msg);
	/* Without end of file on its stdin, cat would run into the 5 s deadline: ED_IO. */
	static const char *const cat[] = {"cat", NULL};
	rc = run(src, cat, 256, 5000, &b, &status, &err);
	ok(rc == ED_OK && status == 0 && b.len == 0, "run: no standard input (cat ends, %s)",
	   rc ? err.msg : "status 0");
	static const char *const flood[] = {"head", "-c", "1000000000", "/dev/zero", NULL};
	long long t0 = ed_now_ms();
	ed_buf_reset(&b);
	ed_buf_adds(&b, "kept");
	status = -1;
	err = (struct ed_err){0};
	rc = src->ops->run(src, flood, 1 << 20, 20000, &b, &status, &err);
	ok(rc == ED_TOOBIG && strcmp(ed_buf_str(&b), "kept") == 0,
	   "run: 1 GB of output stops at the cap, out unchanged (%s)", err.msg);
	printf("#   stopped after %lld ms\n", ed_now_ms() - t0); /* a figure, not an assertion */
	static const char *const slow[] = {"sleep", "10", NULL};
	t0 = ed_now_ms();
	rc = run(src, slow, 256, 700, &b, &status, &err);
	ok(rc == ED_IO && strstr(err.msg, "no answer within 700 ms"), "run: a program past its time is stopped (%s)",
	   err.msg);
	printf("#   stopped after %lld ms\n", ed_now_ms() - t0); /* the message says why */
	rc = run(src, uname, 256, 5000, &b, &status, &err);
	ok(rc == ED_OK && status == 0, "  and the connection still serves");
	is_int(ed_source_ssh_check(src, &err), ED_OK, "  a stopped program is no connection failure");

	rc = src->ops->dup(src, &dup, &err);
	is_int(rc, ED_OK, "dup opens a second connection");
	if (dup) {
		snprintf(p, sizeof(p), "%s/t/f", dir);
		same_as_local(dup, local, "read (dup)", op_read, p);
		ed_source_free(dup);
	}
	snprintf(p, sizeof(p), "%s/t/f", dir);
	same_as_local(src, local, "read (after the dup is gone)", op_read, p);

	ed_buf_release(&b);
	ed_source_free(src);
	ed_source_free(local);
	stop_sshd();
}

int main(void)
{
	dest_ok("root@web1", "root", "web1", 0);
	dest_ok("deploy@10.0.0.5:2222", "deploy", "10.0.0.5", 2222);
	dest_ok("web1.example.com", NULL, "web1.example.com", 0);
	dest_ok("web1:22", NULL, "web1", 22);
	dest_ok("ops@[::1]:2200", "ops", "::1", 2200);
	dest_ok("ops@[fe80::1]", "ops", "fe80::1", 0);
	dest_ok("fe80::2", NULL, "fe80::2", 0);
	dest_ok("a@b@host", "a@b", "host", 0);
	dest_bad("");
	dest_bad("@host");
	dest_bad("user@");
	dest_bad("user@host:");
	dest_bad("user@host:0");
	dest_bad("user@host:65536");
	dest_bad("user@host:22x");
	dest_bad("user@host:+22");
	dest_bad("-oProxyCommand=x@host");
	dest_bad("user@-host");
	dest_bad("us er@host");
	dest_bad("user@ho st");
	dest_bad("user@[::1");
	dest_bad("user@[::1]x");
	dest_bad("user@host/path");

	const char *shells[] = {"/bin/sh", "/bin/bash", "/bin/dash", "/bin/zsh", "/bin/busybox"};
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (access(shells[i], X_OK) == 0 && strcmp(shells[i], "/bin/busybox") != 0)
			quoting_through(shells[i]);

	struct ed_buf b = ED_BUF_INIT;
	static const char *const one[] = {"uname", "-m", NULL};
	ok(ed_ssh_command_line(one, &b) == 0 &&
		   strcmp(b.p, "command -v ionice >/dev/null 2>&1 && command -v nice >/dev/null 2>&1 "
				"&& exec nice -n 10 ionice -c 2 -n 7 'uname' '-m'; "
				"command -v nice >/dev/null 2>&1 && exec nice -n 10 'uname' '-m'; "
				"exec 'uname' '-m'") == 0,
	   "the command line runs the program under nice and ionice when the host has them");
	ed_buf_release(&b);

	/* No server behind the port: refused at once. */
	int port = 0;
	int lfd = silent_listener(&port);
	ok(lfd >= 0, "a silent listener on 127.0.0.1:%d", port);
	struct ed_ssh_opts o = {
		.user = "nobody",
		.host = "127.0.0.1",
		.port = port,
		.known_hosts = "/nonexistent/known_hosts",
		.identity = NULL,
		.connect_timeout_ms = 300,
		.op_timeout_ms = 300,
	};
	struct ed_source *src = NULL;
	struct ed_err err = {0};
	long long t0 = ed_now_ms();
	enum ed_code rc = ed_source_ssh_new(&o, &src, &err);
	long long took = ed_now_ms() - t0;
	is_int(rc, ED_IO, "a listener that never speaks: ED_IO");
	ok(strstr(err.msg, "no answer within 300 ms") != NULL, "  saying so: %s", err.msg);
	printf("#   after %lld ms\n", took); /* the message names the timeout that ended it */
	ok(src == NULL, "  and no source");
	close(lfd);

	/* The port is free now: nothing listens. */
	err = (struct ed_err){0};
	rc = ed_source_ssh_new(&o, &src, &err);
	is_int(rc, ED_IO, "a closed port: ED_IO");
	ok(strstr(err.msg, "cannot connect") && strstr(err.msg, "refused"), "  saying so: %s", err.msg);

	o.identity = "/nonexistent/id_ed25519";
	err = (struct ed_err){0};
	rc = ed_source_ssh_new(&o, &src, &err);
	is_int(rc, ED_NOTFOUND, "a missing identity file: ED_NOTFOUND before any connection");
	ok(strstr(err.msg, "/nonexistent/id_ed25519") != NULL, "  naming it: %s", err.msg);

	o.identity = NULL;
	o.host = "";
	is_int(ed_source_ssh_new(&o, &src, &err), ED_USAGE, "an empty host: ED_USAGE");

	with_server();
	return tap_done();
}
