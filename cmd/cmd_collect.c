/* SPDX-License-Identifier: MIT */
/* envdrift collect: one snapshot of one host, written to the store in one transaction. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "ed/collect.h"
#include "ed/store.h"

const char ed_usage_collect[] =
	"usage: envdrift [--db PATH] collect --env ENV [--host NAME] [--root DIR]\n"
	"                [--path P]... [--packages auto|none|dpkg]\n"
	"                [--schema [NAME=]sqlite:FILE]...\n"
	"\n"
	"Fingerprints one host and stores the result as one snapshot of ENV. Prints\n"
	"the new snapshot's id on stdout; progress and warnings go to stderr.\n"
	"\n"
	"  --env ENV        environment the host belongs to (production, staging...)\n"
	"  --host NAME      host name (default: ROOT/etc/hostname, else this machine's)\n"
	"  --root DIR       read the host's filesystem under DIR (a mounted image or\n"
	"                   a fixture); every path below is inside DIR, and '..' or\n"
	"                   symlinks cannot lead out of it (default /)\n"
	"  --path P         a tree to fingerprint, repeatable (default /etc). Files are\n"
	"                   hashed (XXH3-128), symlinks recorded and never followed,\n"
	"                   FIFOs, sockets and devices recorded and never opened.\n"
	"                   *.json files also yield one config item per value; values\n"
	"                   under keys like *password*, *secret*, *token*, *key* are\n"
	"                   stored only as keyed fingerprints (HMAC, see PATH.key)\n"
	"  --packages LIST  package managers: auto (default: those found), none, dpkg\n"
	"  --schema [NAME=]sqlite:FILE\n"
	"                   fingerprint an SQLite database's schema (tables, columns,\n"
	"                   indexes, views, triggers); FILE is read-only, under --root.\n"
	"                   NAME labels it in item keys (default: FILE's base name)\n"
	"\n"
	"A failed or interrupted collection never shows up as complete: the snapshot\n"
	"stays 'running', 'failed' or 'abandoned', without items.\n"
	"Exit status: 0 stored, 2 error.\n";

struct schema_spec {
	char *label;
	const char *engine;
	const char *target;
};

/* A sink that counts items and shows progress on a terminal before passing them on. */
struct progress_sink {
	struct ed_sink sink;
	struct ed_sink *next;
	bool tty;
	long long items;
	struct timespec last;
};

static enum ed_code progress_emit(struct ed_sink *sink, const struct ed_item *it,
				  struct ed_err *err)
{
	struct progress_sink *ps = sink->ctx;
	ps->items++;
	if (ps->tty && (ps->items & 1023) == 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != ps->last.tv_sec) {
			ps->last = now;
			fprintf(stderr, "\rcollecting: %lld items", ps->items);
		}
	}
	return ps->next->emit(ps->next, it, err);
}

static void progress_warn(struct ed_sink *sink, const char *msg)
{
	struct progress_sink *ps = sink->ctx;
	if (ps->tty)
		fputs("\r\033[K", stderr);
	ps->next->warn(ps->next, msg);
}

static enum ed_code parse_schema(const char *arg, struct schema_spec *out, struct ed_err *err)
{
	const char *colon = strchr(arg, ':');
	const char *eq = strchr(arg, '=');
	const char *spec = arg;
	if (eq && colon && eq < colon)
		spec = eq + 1;
	else
		eq = NULL;
	colon = strchr(spec, ':');
	if (!colon || colon == spec || !colon[1])
		return ed_err_set(err, ED_USAGE,
				  "--schema %s: expected [NAME=]ENGINE:TARGET, e.g. app=sqlite:/var/lib/app.db",
				  arg);
	size_t elen = (size_t)(colon - spec);
	if (elen == 8 && strncmp(spec, "postgres", 8) == 0)
		return ed_err_set(err, ED_UNSUPPORTED,
				  "--schema %s: PostgreSQL schemas are not supported yet", arg);
	if (elen != 6 || strncmp(spec, "sqlite", 6) != 0)
		return ed_err_set(err, ED_USAGE, "--schema %s: unknown engine '%.*s' (known: sqlite)",
				  arg, (int)elen, spec);
	out->engine = "sqlite";
	out->target = colon + 1;
	if (out->target[0] != '/')
		return ed_err_set(err, ED_USAGE,
				  "--schema %s: FILE must be an absolute path on the host", arg);
	if (eq) {
		out->label = ed_strndup(arg, (size_t)(eq - arg));
	} else {
		/* The base name without its extension. */
		const char *base = strrchr(out->target, '/') + 1;
		const char *dot = strrchr(base, '.');
		out->label = ed_strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
	}
	if (!out->label)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (!out->label[0] || strpbrk(out->label, "/:")) {
		ed_err_set(err, ED_USAGE, "--schema %s: the name '%s' must be non-empty, without '/' or ':'",
			   arg, out->label);
		free(out->label);
		out->label = NULL;
		return ED_USAGE;
	}
	return ED_OK;
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

int ed_cmd_collect(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"env", required_argument, NULL, 'e'},
		{"host", required_argument, NULL, 'H'},
		{"root", required_argument, NULL, 'r'},
		{"path", required_argument, NULL, 'p'},
		{"packages", required_argument, NULL, 'P'},
		{"schema", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *env = NULL, *host = NULL, *root = NULL, *packages = "auto";
	const char **paths = NULL;
	size_t npaths = 0;
	struct schema_spec *schemas = NULL;
	size_t nschemas = 0;
	struct ed_err err = {0};
	struct ed_source *src = NULL;
	struct ed_store *st = NULL;
	struct ed_snapwriter *w = NULL;
	int status = ED_EXIT_ERROR;
	uint8_t key[ED_KEY_LEN];
	char hostbuf[256];
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'e': env = optarg; break;
		case 'H': host = optarg; break;
		case 'r': root = optarg; break;
		case 'P': packages = optarg; break;
		case 'p': {
			const char **v = realloc(paths, (npaths + 1) * sizeof(*v));
			if (!v)
				goto oom;
			paths = v;
			paths[npaths++] = optarg;
			break;
		}
		case 's': {
			struct schema_spec *v = realloc(schemas, (nschemas + 1) * sizeof(*v));
			if (!v)
				goto oom;
			schemas = v;
			memset(&schemas[nschemas], 0, sizeof(*schemas));
			nschemas++;
			if (parse_schema(optarg, &schemas[nschemas - 1], &err)) {
				status = ed_cli_fail(&err);
				goto out;
			}
			break;
		}
		case 'h':
			fputs(ed_usage_collect, stdout);
			status = ED_EXIT_OK;
			goto out;
		default:
			status = ed_cli_usage_error("collect", "bad option");
			goto out;
		}
	}
	if (optind < argc) {
		status = ed_cli_usage_error("collect", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!env || !*env) {
		status = ed_cli_usage_error("collect", "--env ENV is required");
		goto out;
	}
	if (host && !*host) {
		status = ed_cli_usage_error("collect", "--host must not be empty");
		goto out;
	}
	bool want_dpkg = false, auto_pkgs = false;
	if (strcmp(packages, "auto") == 0)
		auto_pkgs = true;
	else if (strcmp(packages, "dpkg") == 0)
		want_dpkg = true;
	else if (strcmp(packages, "none") != 0) {
		status = ed_cli_usage_error("collect",
					    "--packages %s: known values are auto, none, dpkg "
					    "(rpm, apk and pypi are not supported yet)",
					    packages);
		goto out;
	}
	for (size_t i = 0; i < npaths; i++) {
		if (paths[i][0] != '/') {
			status = ed_cli_usage_error("collect",
						    "--path %s: must be an absolute path on the host",
						    paths[i]);
			goto out;
		}
	}
	static const char *const default_paths[] = {"/etc"};
	const char *const *walk = npaths ? paths : default_paths;
	size_t nwalk = npaths ? npaths : 1;

	if (ed_source_local_new(root, &src, &err))
		goto fail;
	if (!host) {
		if (!root_hostname(src, hostbuf, sizeof(hostbuf)) &&
		    gethostname(hostbuf, sizeof(hostbuf) - 1) != 0)
			snprintf(hostbuf, sizeof(hostbuf), "localhost");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		host = hostbuf;
	}
	if (auto_pkgs) {
		struct ed_stat sb;
		struct ed_err ignored;
		want_dpkg = src->ops->stat(src, "/var/lib/dpkg/status", &sb, &ignored) == ED_OK &&
			    sb.type == ED_FT_REG;
	}
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
	    ed_store_key(cli->db, false, key, &err) ||
	    ed_snapshot_begin(st, env, host, root, &w, &err))
		goto fail;

	struct ed_secrets secrets = {
		.key = key,
		.patterns = ed_default_secret_patterns,
		.npatterns = ed_default_secret_npatterns,
	};
	struct ed_files_opts fopts = {.secrets = &secrets, .configs = true};
	struct progress_sink ps = {.next = ed_snapshot_sink(w), .tty = isatty(2)};
	ps.sink = (struct ed_sink){.emit = progress_emit, .warn = progress_warn, .ctx = &ps};

	for (size_t i = 0; i < nwalk; i++)
		if (ed_files_collect(src, walk[i], &fopts, &ps.sink, &err))
			goto fail;
	if (want_dpkg && ed_dpkg_collect(src, &ps.sink, &err))
		goto fail;
	for (size_t i = 0; i < nschemas; i++)
		if (ed_schema_sqlite_collect(src, schemas[i].label, schemas[i].target, &ps.sink,
					     &err))
			goto fail;
	if (ps.tty)
		fputs("\r\033[K", stderr);

	int64_t id = ed_snapshot_id(w), items = 0, warnings = 0;
	enum ed_code rc = ed_snapshot_commit(w, &items, &warnings, &err);
	w = NULL;
	if (rc)
		goto fail;
	printf("%lld\n", (long long)id);
	if (fflush(stdout) != 0) {
		ed_err_set(&err, ED_IO, "cannot write to standard output");
		goto fail;
	}
	fprintf(stderr, "envdrift: stored snapshot @%lld of %s/%s: %lld items, %lld warnings\n",
		(long long)id, env, host, (long long)items, (long long)warnings);
	status = ED_EXIT_OK;
	goto out;
oom:
	ed_err_set(&err, ED_NOMEM, "out of memory");
fail:
	if (w) {
		fprintf(stderr, "envdrift: snapshot @%lld of %s/%s failed; nothing was stored\n",
			(long long)ed_snapshot_id(w), env, host);
		ed_snapshot_abort(w);
	}
	status = ed_cli_fail(&err);
out:
	ed_store_close(st);
	ed_source_free(src);
	free(paths);
	for (size_t i = 0; i < nschemas; i++)
		free(schemas[i].label);
	free(schemas);
	return status;
}
