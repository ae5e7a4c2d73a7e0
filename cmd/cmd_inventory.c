/* SPDX-License-Identifier: MIT */
/*
 * envdrift inventory (and its alias collect --inventory): collects every host
 * of an inventory over SSH, N at a time, one snapshot per host, and ends with
 * a summary table. The inventory's format is read by collector/inventory.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "opt.h"
#include "ed/buf.h"
#include "ed/clock.h"
#include "ed/inventory.h"
#include "ed/snapdoc_store.h"
#include "ed/store.h"

extern char **environ;

/* Largest inventory file read. */
#define INVENTORY_FILE_MAX (4u * 1024 * 1024)

static const struct ed_cmd_help help = {
	.name = "inventory",
	.usage = "inventory FILE [--env ENV]... [-j N] [--full]\n"
		 "collect --inventory FILE [--env ENV]... [-j N] [--full]",
	.intro = "Collects every host of an inventory (docs/inventory.md) over SSH, N hosts at a "
		 "time, and stores one snapshot per host. Each host is collected by its own "
		 "'envdrift collect --ssh ... --out' process into a snapshot document, "
		 "incrementally against that host's previous snapshot in the store; the document "
		 "is stored as one snapshot when the host is done. A host that fails "
		 "(unreachable, unknown host key, dropped connection) leaves no snapshot and does "
		 "not stall the others. On a terminal a progress line shows hosts done, running "
		 "and failed. Ends with a table on stdout: env, host, status, items, seconds, "
		 "error.",
	.outro = "Exit status: 0 when every host was stored, 2 otherwise (the hosts that "
		 "succeeded are stored all the same).",
};

enum ed_code ed_cli_inventory_read(const char *path, struct ed_buf *text, struct ed_err *err)
{
	return ed_buf_read_file(text, "inventory", path, INVENTORY_FILE_MAX, err);
}

/* The run of one host. */
struct job {
	const struct ed_inventory_host *h;
	pid_t pid;
	int status; /* -1 not wanted (--env), 0 pending, 1 running, 2 ok, 3 failed */
	double started, seconds;
	long long items;
	char *error; /* malloc'd, when failed */
};

struct job_paths {
	char doc[4096];
	char log[4096];
};

static void paths_of(const char *dir, size_t i, struct job_paths *p)
{
	snprintf(p->doc, sizeof(p->doc), "%s/%zu.json", dir, i);
	snprintf(p->log, sizeof(p->log), "%s/%zu.err", dir, i);
}

/*
 * Starts the child envdrift that collects host j->h into its document.
 * A child process per host, not a thread: each collection runs its own
 * hashing threads and SSH connections, and writes its progress, warnings
 * and error to its own stderr (the log whose last error is the table's
 * ERROR column); a host whose collection crashes or runs out of memory
 * takes no other host down; and fork() alone would carry this process's
 * open store into the child (SQLite forbids using a connection across a
 * fork), hence posix_spawn of this program.
 */
static bool start(struct job *j, const char *self, const char *db, const char *key,
		  const char *dir, size_t i, bool full)
{
	const struct ed_inventory_host *h = j->h;
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
	if (h->remote) {
		argv[n++] = "--remote";
		argv[n++] = h->remote;
	}
	if (h->remote_command) {
		argv[n++] = "--remote-command";
		argv[n++] = h->remote_command;
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
	int e = posix_spawn(&j->pid, self, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		j->status = 3;
		j->error = strdup(strerror(e));
		return false;
	}
	j->status = 1;
	j->started = ed_now_s();
	return true;
}

/*
 * The last line of a child's stderr that says what went wrong: an error
 * ("envdrift collect: MSG", neither a warning, a note nor the closing "...
 * was not written"), without its prefix; else its last line.
 */
static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);
	return n >= m && strcmp(s + n - m, end) == 0;
}

static char *last_error(const char *log)
{
	static const char lead[] = "envdrift collect: ";
	FILE *f = fopen(log, "r");
	char line[1024], best[1024] = "", last[1024] = "";
	if (!f)
		return strdup("no message");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(last, sizeof(last), "%s", line);
		const char *msg = line + sizeof(lead) - 1;
		if (strncmp(line, lead, sizeof(lead) - 1) == 0 && strncmp(msg, "warning: ", 9) != 0 &&
		    strncmp(msg, "info: ", 6) != 0 && !ends_with(msg, " was not written"))
			snprintf(best, sizeof(best), "%s", msg);
	}
	fclose(f);
	return strdup(best[0] ? best : last[0] ? last : "failed");
}

/* Stores the document of a finished host as one snapshot. */
static void finish(struct job *j, struct ed_store *st, const char *dir, size_t i, int status)
{
	struct job_paths p;
	paths_of(dir, i, &p);
	j->seconds = ed_now_s() - j->started;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		j->status = 3;
		j->error = last_error(p.log);
		return;
	}
	struct ed_snapdoc *doc = NULL;
	struct ed_err err = {0};
	int64_t id = 0, items = 0, warnings = 0;
	bool already = false;
	if (ed_snapdoc_load(p.doc, &doc, &err) ||
	    ed_snapdoc_ingest(st, doc, ED_SNAPDOC_MAX_SKEW, &id, &already, &items, &warnings, &err)) {
		j->status = 3;
		j->error = strdup(err.msg);
	} else {
		j->status = 2;
		j->items = items;
	}
	ed_snapdoc_free(doc);
	remove(p.doc);
}

static void show(const struct job *jobs, size_t n, size_t done, size_t total, bool tty)
{
	if (!tty)
		return;
	size_t running = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		running += jobs[i].status == 1;
		failed += jobs[i].status == 3;
	}
	/* Which hosts are being collected, and for how long, as far as the line allows. */
	char line[160];
	int len = snprintf(line, sizeof(line), "collecting: %zu/%zu hosts done, %zu failed; now:",
			   done, total, failed);
	double now = ed_now_s();
	for (size_t i = 0; i < n && running && len > 0 && (size_t)len < sizeof(line) - 24; i++)
		if (jobs[i].status == 1)
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s/%s %.0fs",
					jobs[i].h->env, jobs[i].h->name, now - jobs[i].started);
	fputs("\r\033[K", stderr);
	ed_term_printf(stderr, "%s", line);
}

/* Runs the wanted jobs, at most njobs at a time, storing each finished host. */
static void run(struct job *jobs, size_t n, size_t total, int njobs, const char *self,
		const char *db, const char *key, const char *dir, bool full, struct ed_store *st)
{
	size_t done = 0, next = 0;
	bool tty = isatty(2);
	int running = 0;
	while (done < total) {
		while (running < njobs && next < n) {
			if (jobs[next].status == 0) {
				if (start(&jobs[next], self, db, key, dir, next, full))
					running++;
				else
					done++;
			}
			next++;
		}
		show(jobs, n, done, total, tty);
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
		for (size_t i = 0; i < n; i++)
			if (jobs[i].status == 1 && jobs[i].pid == pid) {
				finish(&jobs[i], st, dir, i, ws);
				running--;
				done++;
				if (!tty)
					ed_say("%s/%s: %s", jobs[i].h->env,
						jobs[i].h->name,
						jobs[i].status == 2 ? "stored" : jobs[i].error);
			}
	}
	if (tty)
		fputs("\r\033[K", stderr);
}

/* The table, one line per host, and the closing line; the exit status. */
static int summary(const struct job *jobs, size_t n, size_t total)
{
	size_t failed = 0;
	printf("%-12s %-20s %-7s %9s %8s  %s\n", "ENV", "HOST", "STATUS", "ITEMS", "SECONDS", "ERROR");
	for (size_t i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		if (j->status < 0)
			continue;
		failed += j->status != 2;
		ed_term_printf(stdout, "%-12s %-20s %-7s %9lld %8.1f  %s\n", j->h->env, j->h->name,
		       j->status == 2 ? "ok" : "failed", j->items, j->seconds,
		       j->status == 2 ? "" : j->error ? j->error : "");
	}
	fflush(stdout);
	ed_say("%zu of %zu hosts collected%s", total - failed, total,
		failed ? "; the failed hosts have no new snapshot" : "");
	return failed ? ED_EXIT_ERROR : ED_EXIT_OK;
}

int ed_cmd_inventory(int argc, char **argv, struct ed_cli *cli)
{
	/* Also as 'collect --inventory': then argv[0] is "collect", and messages still name inventory. */
	ed_err_set_command("inventory");
	const char *inv_path = NULL;
	struct ed_opt_list envs = {0};
	int njobs = 8;
	bool full = false;
	const struct ed_opt opts[] = {
		ED_OPT_LIST_(0, "env", "ENV", &envs,
			     "only the hosts of this environment, repeatable (default: every "
			     "environment of the inventory)"),
		ED_OPT_INT_('j', "jobs", "N", &njobs, 1, 256,
			    "hosts collected at once, 1 to 256 (default 8)"),
		ED_OPT_FLAG_(0, "full", &full,
			     "read every file of every host, as 'collect --full' does (default: "
			     "reuse the fingerprints of files unchanged since each host's previous "
			     "snapshot)"),
		ED_OPT_STRING_(0, "inventory", "FILE", &inv_path,
			       "the inventory, instead of FILE ('collect --inventory FILE' is this "
			       "command)"),
		ED_OPT_END_(),
	};
	struct ed_inventory inv = {0};
	struct job *jobs = NULL;
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	struct ed_buf key = ED_BUF_INIT, text = ED_BUF_INIT;
	char dir[] = "/tmp/envdrift-fleet-XXXXXX";
	bool have_dir = false;
	uint8_t k[ED_KEY_LEN];
	char self[4096];
	int nargs = 0;
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, &nargs));
	if (status >= 0)
		goto out;
	status = ED_EXIT_ERROR;
	if (nargs == 1 && inv_path) {
		ed_cli_usage_error("inventory", "name the inventory once: FILE or --inventory FILE");
		goto out;
	}
	if (nargs > 1) {
		ed_cli_usage_error("inventory", "unexpected argument '%s'", argv[2]);
		goto out;
	}
	if (nargs == 1)
		inv_path = argv[1];
	if (!inv_path) {
		ed_cli_usage_error("inventory", "the inventory FILE is required");
		goto out;
	}
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sn <= 0) {
		ed_err_set(&err, ED_IO, "cannot find this program's own path to start collectors");
		goto fail;
	}
	self[sn] = '\0';
	if (ed_cli_inventory_read(inv_path, &text, &err) ||
	    ed_inventory_parse(ed_str_of(ed_buf_str(&text), text.len), inv_path, &inv, &err))
		goto fail;
	for (size_t i = 0; i < envs.n; i++)
		if (!ed_inventory_has_env(&inv, envs.items[i])) {
			ed_err_set(&err, ED_NOTFOUND, "inventory %s has no environment '%s'", inv_path,
				   envs.items[i]);
			goto fail;
		}
	/* The store and its key must be there before any host is contacted. */
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
	    ed_store_key(cli->db, false, k, &err) || ed_buf_addf(&key, "%s.key", cli->db))
		goto fail;
	if (!(jobs = calloc(inv.nhosts, sizeof(*jobs)))) {
		ed_err_set(&err, ED_NOMEM, "out of memory");
		goto fail;
	}
	if (!mkdtemp(dir)) {
		ed_err_set(&err, ED_IO, "cannot make a temporary folder: %s", strerror(errno));
		goto fail;
	}
	have_dir = true;

	size_t total = 0;
	for (size_t i = 0; i < inv.nhosts; i++) {
		jobs[i].h = &inv.hosts[i];
		bool wanted = envs.n == 0;
		for (size_t j = 0; j < envs.n && !wanted; j++)
			wanted = strcmp(inv.hosts[i].env, envs.items[j]) == 0;
		if (!wanted)
			jobs[i].status = -1;
		else
			total++;
	}
	run(jobs, inv.nhosts, total, njobs, self, cli->db, key.p, dir, full, st);
	status = summary(jobs, inv.nhosts, total);
	goto out;
fail:
	status = ed_cli_fail(&err);
out:
	if (have_dir) {
		for (size_t i = 0; i < inv.nhosts; i++) {
			struct job_paths p;
			paths_of(dir, i, &p);
			remove(p.doc);
			remove(p.log);
		}
		rmdir(dir);
	}
	for (size_t i = 0; jobs && i < inv.nhosts; i++)
		free(jobs[i].error);
	free(jobs);
	ed_buf_release(&key);
	ed_buf_release(&text);
	ed_store_close(st);
	ed_inventory_release(&inv);
	ed_opt_list_release(&envs);
	return status;
}
