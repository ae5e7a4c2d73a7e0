/* SPDX-License-Identifier: MIT */
/*
 * envdrift collect --inventory: collects every host of an inventory over SSH,
 * N at a time. Each host is collected by a child envdrift process into a
 * snapshot document (push mode, incremental against the store's previous
 * snapshot of that host); the parent stores each finished document as one
 * snapshot, so a host that fails leaves nothing behind and never stalls the
 * others. Ends with a summary table.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "ed/buf.h"
#include "ed/snapdoc_store.h"
#include "ed/store.h"

extern char **environ;

#define INV_MAX_LINE 197 /* libinih's buffer (200) minus CR, LF and NUL */

struct inv_host {
	char *env;
	char *name;
	char *addr;
	char *user;
	char *port;
	char *role;
	char *profile;
	char *known_hosts;
	char *identity;
	/* the run */
	pid_t pid;
	int status; /* 0 pending, 1 running, 2 ok, 3 failed */
	double started, seconds;
	long long items;
	char *error;
};

/* Settings of one environment (its section's reserved keys). */
struct inv_env {
	char *name;
	char *profile, *user, *port, *known_hosts, *identity;
};

struct inventory {
	int *key_lines;  /* line number of each NAME = VALUE line, in order */
	size_t nkeys;
	size_t calls;    /* handler calls so far */
	struct inv_host *h;
	size_t n;
	struct inv_env *e;
	size_t ne;
	const char *origin;
	char err[512]; /* the first problem, "FILE:LINE: ..." */
};

static bool set(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst != NULL;
}

static struct inv_env *env_of(struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->ne; i++)
		if (strcmp(inv->e[i].name, name) == 0)
			return &inv->e[i];
	struct inv_env *v = realloc(inv->e, (inv->ne + 1) * sizeof(*v));
	if (!v)
		return NULL;
	inv->e = v;
	memset(&v[inv->ne], 0, sizeof(*v));
	if (!(v[inv->ne].name = strdup(name)))
		return NULL;
	return &v[inv->ne++];
}

static int inv_fail(struct inventory *inv, int line, const char *fmt, const char *a)
{
	if (!inv->err[0]) {
		int n = snprintf(inv->err, sizeof(inv->err), "%s:%d: ", inv->origin, line);
		if (n > 0 && (size_t)n < sizeof(inv->err))
			snprintf(inv->err + n, sizeof(inv->err) - (size_t)n, fmt, a);
	}
	return 0;
}

/* "host=10.0.0.1 port=22 user=deploy role=web profile=/p.ini" into h. */
static int parse_host(struct inventory *inv, struct inv_host *h, const char *value, int line)
{
	char *copy = strdup(value), *save = NULL;
	if (!copy)
		return inv_fail(inv, line, "out of memory%s", "");
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok || !eq[1]) {
			inv_fail(inv, line, "'%s' is not NAME=VALUE (host=, port=, user=, role=, profile=)", tok);
			break;
		}
		*eq = '\0';
		const char *v = eq + 1;
		char **dst = strcmp(tok, "host") == 0	      ? &h->addr
			     : strcmp(tok, "port") == 0	      ? &h->port
			     : strcmp(tok, "user") == 0	      ? &h->user
			     : strcmp(tok, "role") == 0	      ? &h->role
			     : strcmp(tok, "profile") == 0     ? &h->profile
			     : strcmp(tok, "known_hosts") == 0 ? &h->known_hosts
			     : strcmp(tok, "identity") == 0    ? &h->identity
							       : NULL;
		if (!dst) {
			inv_fail(inv, line, "unknown host setting '%s' (host, port, user, role, profile, known_hosts, identity)", tok);
			break;
		}
		if (strcmp(tok, "port") == 0 && strspn(v, "0123456789") != strlen(v)) {
			inv_fail(inv, line, "port '%s' is not a number", v);
			break;
		}
		set(dst, v);
	}
	free(copy);
	if (!inv->err[0] && !h->addr)
		inv_fail(inv, line, "host '%s' has no host=ADDRESS", h->name);
	return inv->err[0] ? 0 : 1;
}

/*
 * libinih (as Debian builds it) does not pass line numbers to the handler:
 * the pre-scan recorded the line of every NAME = VALUE line, and the handler
 * is called once per such line, in order (continuation lines are refused).
 */
static int on_line(void *user, const char *section, const char *name, const char *value)
{
	struct inventory *inv = user;
	int line = inv->calls < inv->nkeys ? inv->key_lines[inv->calls] : 0;
	inv->calls++;
	if (inv->err[0])
		return 0;
	if (!*section)
		return inv_fail(inv, line, "'%s' is outside any [environment] section", name);
	struct inv_env *e = env_of(inv, section);
	if (!e)
		return inv_fail(inv, line, "out of memory%s", "");
	char **reserved = strcmp(name, "profile") == 0	   ? &e->profile
			  : strcmp(name, "user") == 0	   ? &e->user
			  : strcmp(name, "port") == 0	   ? &e->port
			  : strcmp(name, "known_hosts") == 0 ? &e->known_hosts
			  : strcmp(name, "identity") == 0	   ? &e->identity
							   : NULL;
	if (reserved)
		return set(reserved, value) ? 1 : inv_fail(inv, line, "out of memory%s", "");
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->h[i].env, section) == 0 && strcmp(inv->h[i].name, name) == 0)
			return inv_fail(inv, line, "host '%s' is listed twice in its environment", name);
	struct inv_host *v = realloc(inv->h, (inv->n + 1) * sizeof(*v));
	if (!v)
		return inv_fail(inv, line, "out of memory%s", "");
	inv->h = v;
	struct inv_host *h = &v[inv->n++];
	memset(h, 0, sizeof(*h));
	if (!(h->env = strdup(section)) || !(h->name = strdup(name)))
		return inv_fail(inv, line, "out of memory%s", "");
	return parse_host(inv, h, value, line);
}

static void inventory_release(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct inv_host *h = &inv->h[i];
		free(h->env), free(h->name), free(h->addr), free(h->user), free(h->port);
		free(h->role), free(h->profile), free(h->known_hosts), free(h->identity);
		free(h->error);
	}
	free(inv->h);
	for (size_t i = 0; i < inv->ne; i++) {
		struct inv_env *e = &inv->e[i];
		free(e->name), free(e->profile), free(e->user), free(e->port);
		free(e->known_hosts), free(e->identity);
	}
	free(inv->e);
	free(inv->key_lines);
}

/* Reads and checks an inventory file; the error names file, line and problem. */
static enum ed_code inventory_load(const char *path, struct inventory *inv, struct ed_err *err)
{
	struct ed_buf text = ED_BUF_INIT;
	enum ed_code rc = ed_buf_read_file(&text, "inventory", path, 4u * 1024 * 1024, err);
	if (rc)
		goto out;
	/* libinih would cut longer lines silently: refuse them instead. */
	int line = 1;
	for (const char *p = ed_buf_str(&text); *p; line++) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n > INV_MAX_LINE) {
			rc = ed_err_set(err, ED_PARSE, "%s:%d: line longer than %d bytes", path, line,
					INV_MAX_LINE);
			goto out;
		}
		size_t lead = strspn(p, " \t");
		char c = lead < n ? p[lead] : '\0';
		if (c && lead && c != ';' && c != '#') {
			rc = ed_err_set(err, ED_PARSE, "%s:%d: indented line: write one host per line",
					path, line);
			goto out;
		}
		if (c && c != ';' && c != '#' && c != '[') {
			int *v = realloc(inv->key_lines, (inv->nkeys + 1) * sizeof(*v));
			if (!v) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				goto out;
			}
			inv->key_lines = v;
			v[inv->nkeys++] = line;
		}
		p = eol ? eol + 1 : p + strlen(p);
	}
	inv->origin = path;
	int r = ini_parse_string(ed_buf_str(&text), on_line, inv);
	if (inv->err[0])
		rc = ed_err_set(err, ED_PARSE, "%s", inv->err);
	else if (r != 0)
		rc = ed_err_set(err, ED_PARSE, "%s:%d: not 'NAME = VALUE' nor '[environment]'", path, r);
	else if (inv->n == 0)
		rc = ed_err_set(err, ED_PARSE, "inventory %s lists no host", path);
	/* Environment settings apply to hosts that do not set their own. */
	for (size_t i = 0; !rc && i < inv->n; i++) {
		struct inv_host *h = &inv->h[i];
		struct inv_env *e = env_of(inv, h->env);
		if (!e) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		char **own[] = {&h->profile, &h->user, &h->port, &h->known_hosts, &h->identity};
		char *const env[] = {e->profile, e->user, e->port, e->known_hosts, e->identity};
		for (size_t k = 0; k < 5; k++)
			if (!*own[k] && env[k] && !set(own[k], env[k]))
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
	}
out:
	ed_buf_release(&text);
	return rc;
}

enum ed_code ed_inventory_hosts(const char *path, const char *env, char ***names, size_t *n,
				struct ed_err *err)
{
	struct inventory inv = {0};
	enum ed_code rc = inventory_load(path, &inv, err);
	*names = NULL;
	*n = 0;
	for (size_t i = 0; !rc && i < inv.n; i++) {
		if (strcmp(inv.h[i].env, env) != 0)
			continue;
		char **v = realloc(*names, (*n + 1) * sizeof(*v));
		if (!v || !(v[*n] = strdup(inv.h[i].name))) {
			if (v)
				*names = v;
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		*names = v;
		(*n)++;
	}
	inventory_release(&inv);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct job_paths {
	char doc[4096];
	char log[4096];
};

static void paths_of(const char *dir, size_t i, struct job_paths *p)
{
	snprintf(p->doc, sizeof(p->doc), "%s/%zu.json", dir, i);
	snprintf(p->log, sizeof(p->log), "%s/%zu.err", dir, i);
}

/* Starts the child envdrift that collects host h into its document. */
static bool start(struct inv_host *h, const char *self, const char *db, const char *key,
		  const char *dir, size_t i, bool full)
{
	struct job_paths p;
	char dest[1024];
	paths_of(dir, i, &p);
	snprintf(dest, sizeof(dest), "%s%s%s%s%s", h->user ? h->user : "", h->user ? "@" : "",
		 h->addr, h->port ? ":" : "", h->port ? h->port : "");
	const char *argv[32];
	int n = 0;
	argv[n++] = self;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "collect";
	argv[n++] = "--env";
	argv[n++] = h->env;
	argv[n++] = "--host";
	argv[n++] = h->name;
	argv[n++] = "--ssh";
	argv[n++] = dest;
	argv[n++] = "--out";
	argv[n++] = p.doc;
	argv[n++] = "--key";
	argv[n++] = key;
	argv[n++] = "--baseline-db";
	argv[n++] = db;
	if (h->role) {
		argv[n++] = "--role";
		argv[n++] = h->role;
	}
	if (h->profile) {
		argv[n++] = "--profile";
		argv[n++] = h->profile;
	}
	if (h->known_hosts) {
		argv[n++] = "--known-hosts";
		argv[n++] = h->known_hosts;
	}
	if (h->identity) {
		argv[n++] = "--identity";
		argv[n++] = h->identity;
	}
	if (full)
		argv[n++] = "--full";
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa))
		return false;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, p.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int e = posix_spawn(&h->pid, self, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		h->status = 3;
		h->error = strdup(strerror(e));
		return false;
	}
	h->status = 1;
	h->started = now_s();
	return true;
}

/* The last line of a child's stderr that says what went wrong. */
static char *last_error(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024], best[1024] = "";
	if (!f)
		return strdup("no message");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, "error") || !best[0])
			snprintf(best, sizeof(best), "%s", line);
	}
	fclose(f);
	const char *p = strstr(best, "error: ");
	return strdup(p ? p + 7 : best[0] ? best : "failed");
}

/* Stores the document of a finished host as one snapshot. */
static void finish(struct inv_host *h, struct ed_store *st, const char *dir, size_t i, int status)
{
	struct job_paths p;
	paths_of(dir, i, &p);
	h->seconds = now_s() - h->started;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		h->status = 3;
		h->error = last_error(p.log);
		return;
	}
	struct ed_snapdoc *doc = NULL;
	struct ed_err err = {0};
	int64_t id = 0, items = 0, warnings = 0;
	bool already = false;
	if (ed_snapdoc_load(p.doc, &doc, &err) ||
	    ed_snapdoc_ingest(st, doc, &id, &already, &items, &warnings, &err)) {
		h->status = 3;
		h->error = strdup(err.msg);
	} else {
		h->status = 2;
		h->items = items;
	}
	ed_snapdoc_free(doc);
	remove(p.doc);
}

static void show(const struct inventory *inv, size_t done, size_t total, bool tty)
{
	if (!tty)
		return;
	size_t running = 0, failed = 0;
	for (size_t i = 0; i < inv->n; i++) {
		running += inv->h[i].status == 1;
		failed += inv->h[i].status == 3;
	}
	/* Which hosts are being collected, and for how long, as far as the line allows. */
	char line[160];
	int len = snprintf(line, sizeof(line), "collecting: %zu/%zu hosts done, %zu failed; now:",
			   done, total, failed);
	double now = now_s();
	for (size_t i = 0; i < inv->n && running && len > 0 && (size_t)len < sizeof(line) - 24; i++)
		if (inv->h[i].status == 1)
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s/%s %.0fs",
					inv->h[i].env, inv->h[i].name, now - inv->h[i].started);
	fprintf(stderr, "\r\033[K%s", line);
}

int ed_collect_inventory(int argc, char **argv, struct ed_cli *cli)
{
	const char *inv_path = NULL;
	const char **envs = NULL;
	size_t nenvs = 0;
	int jobs = 8;
	bool full = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--inventory") == 0 && v)
			inv_path = v, i++;
		else if (strcmp(a, "--env") == 0 && v) {
			const char **e = realloc(envs, (nenvs + 1) * sizeof(*e));
			if (!e)
				return ED_EXIT_ERROR;
			envs = e;
			envs[nenvs++] = v;
			i++;
		} else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && v) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 256) {
				free(envs);
				return ed_cli_usage_error("collect", "-j %s: expected 1 to 256 hosts at once", v);
			}
			jobs = (int)n;
			i++;
		} else if (strcmp(a, "--full") == 0) {
			full = true;
		} else if (strcmp(a, "--db") == 0 && v) {
			cli->db = v;
			i++;
		} else {
			free(envs);
			return ed_cli_usage_error("collect", "with --inventory, '%s' is not an option "
							     "(known: --env ENV, -j N, --full)",
						  a);
		}
	}
	struct inventory inv = {0};
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	struct ed_buf key = ED_BUF_INIT;
	char dir[] = "/tmp/envdrift-fleet-XXXXXX";
	bool have_dir = false;
	int status = ED_EXIT_ERROR;
	uint8_t k[ED_KEY_LEN];
	char self[4096];
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (sn <= 0) {
		ed_err_set(&err, ED_IO, "cannot find this program's own path to start collectors");
		goto fail;
	}
	self[sn] = '\0';
	if (inventory_load(inv_path, &inv, &err))
		goto fail;
	for (size_t i = 0; i < nenvs; i++) {
		bool known = false;
		for (size_t j = 0; j < inv.ne && !known; j++)
			known = strcmp(inv.e[j].name, envs[i]) == 0;
		if (!known) {
			ed_err_set(&err, ED_NOTFOUND, "inventory %s has no environment '%s'", inv_path,
				   envs[i]);
			goto fail;
		}
	}
	/* The store and its key must be there before any host is contacted. */
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
	    ed_store_key(cli->db, false, k, &err) || ed_buf_addf(&key, "%s.key", cli->db))
		goto fail;
	if (!mkdtemp(dir)) {
		ed_err_set(&err, ED_IO, "cannot make a temporary folder: %s", strerror(errno));
		goto fail;
	}
	have_dir = true;

	size_t total = 0, done = 0, next = 0;
	for (size_t i = 0; i < inv.n; i++) {
		bool wanted = nenvs == 0;
		for (size_t j = 0; j < nenvs && !wanted; j++)
			wanted = strcmp(inv.h[i].env, envs[j]) == 0;
		if (!wanted)
			inv.h[i].status = -1;
		else
			total++;
	}
	bool tty = isatty(2);
	int running = 0;
	while (done < total) {
		while (running < jobs && next < inv.n) {
			struct inv_host *h = &inv.h[next];
			if (h->status == 0) {
				if (start(h, self, cli->db, key.p, dir, next, full))
					running++;
				else
					done++;
			}
			next++;
		}
		show(&inv, done, total, tty);
		int ws;
		/* On a terminal, wake up every 250 ms to refresh the progress line. */
		pid_t pid = waitpid(-1, &ws, tty ? WNOHANG : 0);
		if (pid == 0) {
			struct timespec d = {0, 250 * 1000 * 1000};
			nanosleep(&d, NULL);
			continue;
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < inv.n; i++)
			if (inv.h[i].status == 1 && inv.h[i].pid == pid) {
				finish(&inv.h[i], st, dir, i, ws);
				running--;
				done++;
				if (!tty)
					fprintf(stderr, "envdrift: %s/%s: %s\n", inv.h[i].env, inv.h[i].name,
						inv.h[i].status == 2 ? "stored" : inv.h[i].error);
			}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	/* The summary: one line per host. */
	size_t failed = 0;
	printf("%-12s %-20s %-7s %9s %8s  %s\n", "ENV", "HOST", "STATUS", "ITEMS", "SECONDS", "ERROR");
	for (size_t i = 0; i < inv.n; i++) {
		const struct inv_host *h = &inv.h[i];
		if (h->status < 0)
			continue;
		failed += h->status != 2;
		printf("%-12s %-20s %-7s %9lld %8.1f  %s\n", h->env, h->name,
		       h->status == 2 ? "ok" : "failed", h->items, h->seconds,
		       h->status == 2 ? "" : h->error ? h->error : "");
	}
	fflush(stdout);
	fprintf(stderr, "envdrift: %zu of %zu hosts collected%s\n", total - failed, total,
		failed ? "; the failed hosts have no new snapshot" : "");
	status = failed ? ED_EXIT_ERROR : ED_EXIT_OK;
	goto out;
fail:
	status = ed_cli_fail(&err);
out:
	if (have_dir) {
		for (size_t i = 0; i < inv.n; i++) {
			struct job_paths p;
			paths_of(dir, i, &p);
			remove(p.doc);
			remove(p.log);
		}
		rmdir(dir);
	}
	ed_buf_release(&key);
	ed_store_close(st);
	inventory_release(&inv);
	free(envs);
	return status;
}
