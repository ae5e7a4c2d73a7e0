/* SPDX-License-Identifier: MIT */
/* envdrift collect: one snapshot of one host, written to the store in one transaction. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ed/collect.h"
#include "ed/keyfile.h"
#include "ed/pgschema.h"
#include "ed/pkg.h"
#include "ed/profile.h"
#include "ed/snapdoc.h"
#include "ed/ssh.h"
#include "ed/store.h"
#include "ed/system.h"

const char ed_usage_collect[] =
	"usage: envdrift [--db PATH] collect --env ENV [--host NAME] [--role ROLE] [--root DIR]\n"
	"       envdrift [--db PATH] collect --inventory FILE [--env ENV]... [-j N] [--full]\n"
	"                [--profile FILE] [--path P]... [--packages LIST]\n"
	"                [--schema [NAME=]ENGINE:TARGET]... [--full] [--threads N]\n"
	"                [--out FILE --key KEYFILE]\n"
	"                [--ssh USER@HOST[:PORT] [--known-hosts FILE] [--identity FILE]\n"
	"                 [--passphrase-env VAR] [--accept-new-host-keys]\n"
	"                 [--connect-timeout SECONDS] [--io-timeout SECONDS]]\n"
	"\n"
	"Fingerprints one host and stores the result as one snapshot of ENV. Prints\n"
	"the new snapshot's id on stdout; progress and warnings go to stderr.\n"
	"\n"
	"  --env ENV        environment the host belongs to (production, staging...)\n"
	"  --host NAME      host name (default: ROOT/etc/hostname, else this machine's)\n"
	"  --role ROLE      the host's role in a fleet (web, db...): environments are\n"
	"                   compared role by role, and a host that disagrees with the\n"
	"                   majority of its role is reported as a snowflake\n"
	"  --root DIR       read the host's filesystem under DIR (a mounted image or\n"
	"                   a fixture); every path below is inside DIR, and '..' or\n"
	"                   symlinks cannot lead out of it (default /)\n"
	"  --profile FILE   what to collect (docs/profile.md); default: the built-in\n"
	"                   profile (/etc, every package manager found, system facts)\n"
	"  --path P         a tree to fingerprint, repeatable. Replaces the built-in\n"
	"                   default /etc; adds to the paths of a --profile file.\n"
	"                   Files are hashed (XXH3-128), symlinks recorded and never\n"
	"                   followed, FIFOs, sockets and devices recorded and never\n"
	"                   opened. Structured configs (JSON, YAML, INI, key=value)\n"
	"                   also yield one config item per value; secrets are stored\n"
	"                   only as keyed fingerprints (HMAC, see PATH.key)\n"
	"  --packages LIST  package managers, comma-separated: auto (those found), none,\n"
	"                   or any of dpkg, rpm, apk, pypi, npm\n"
	"  --schema [NAME=]sqlite:FILE | [NAME=]postgres:CONNINFO\n"
	"                   fingerprint a database schema, repeatable. sqlite: FILE is\n"
	"                   opened read-only under --root; postgres: psql runs on the\n"
	"                   host. NAME labels it in item keys (default: FILE's base\n"
	"                   name, or the dbname), so differently named databases of\n"
	"                   staging and production compare as one\n"
	"  --full           read and hash every file, even those unchanged (same device,\n"
	"                   inode, size, mtime and ctime) since the host's previous\n"
	"                   snapshot, whose fingerprints are otherwise reused, and\n"
	"                   store every item; otherwise, when that snapshot was\n"
	"                   collected the same way (profile, paths, root; not over\n"
	"                   SSH), only what changed is stored, as a delta on it\n"
	"  --threads N      hashing threads (default 0: one per core; with --ssh,\n"
	"                   4, each with its own connection)\n"
	"  --out FILE       push mode: write the snapshot as a JSON document\n"
	"                   (envdrift.snapshot/1, docs/snapshot-format.md) to FILE\n"
	"                   ('-': stdout) instead of a store, for 'envdrift ingest'\n"
	"                   elsewhere; prints the document's id. No store is written;\n"
	"                   every file is read unless --baseline-db names a store\n"
	"  --baseline-db STORE  with --out: reuse the fingerprints of unchanged files\n"
	"                   from this host's previous snapshot in STORE (read only)\n"
	"  --key KEYFILE    with --out, required: a copy of the key file (STORE.key,\n"
	"                   32 bytes, mode 0600) of the store the document is for, so\n"
	"                   secrets get the keyed fingerprints that store compares\n"
	"  --ssh USER@HOST[:PORT]\n"
	"                   read the host over SSH (SFTP for files; commands such as\n"
	"                   uname, rpm and psql run on the host) instead of this\n"
	"                   machine; not with --root. IPv6: USER@[ADDR]:PORT. Each\n"
	"                   hashing thread opens its own connection\n"
	"  --known-hosts FILE  the host keys to trust (default ~/.ssh/known_hosts,\n"
	"                   hashed entries included); an unknown, changed or revoked\n"
	"                   host key is refused before authenticating\n"
	"  --accept-new-host-keys  add an unknown host's key to the known hosts file\n"
	"                   (as ssh's StrictHostKeyChecking=accept-new); a changed\n"
	"                   key is still refused\n"
	"  --identity FILE  the private key (ed25519 or ECDSA: libssh2 1.10 signs RSA\n"
	"                   with SHA-1, which current OpenSSH refuses). Default:\n"
	"                   ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --passphrase-env VAR  the environment variable that holds the key's\n"
	"                   passphrase (never the passphrase on the command line)\n"
	"  --connect-timeout SECONDS  TCP connect and SSH handshake (default 10)\n"
	"  --io-timeout SECONDS  any later wait for the host (default 30): a host that\n"
	"                   stops answering fails the collection, never hangs it\n"
	"\n"
	"  --inventory FILE collect every host of an inventory (docs/inventory.md) over\n"
	"                   SSH, N hosts at a time (-j, default 8), one snapshot per\n"
	"                   host; --env limits it to some environments. Ends with a\n"
	"                   table: host, status, items, seconds, error. Exit 0 when\n"
	"                   every host was stored, 2 otherwise (the others are stored)\n"
	"\n"
	"A failed or interrupted collection never shows up as complete: the snapshot\n"
	"stays 'running', 'failed' or 'abandoned', without items.\n"
	"Exit status: 0 stored, 2 error.\n";

struct schema_spec {
	char *label;
	bool postgres; /* else sqlite */
	const char *target;
};

/*
 * A sink in front of the store's that clears the progress line before a
 * warning is printed, so warnings never end up glued to it.
 */
struct progress_sink {
	struct ed_sink sink;
	struct ed_sink *next;
	bool tty;
};

static enum ed_code progress_emit(struct ed_sink *sink, const struct ed_item *it,
				  struct ed_err *err)
{
	struct progress_sink *ps = sink->ctx;
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
	out->target = colon + 1;
	if (elen == 8 && strncmp(spec, "postgres", 8) == 0) {
		out->postgres = true;
	} else if (elen == 6 && strncmp(spec, "sqlite", 6) == 0) {
		if (out->target[0] != '/')
			return ed_err_set(err, ED_USAGE,
					  "--schema %s: FILE must be an absolute path on the host", arg);
	} else {
		return ed_err_set(err, ED_USAGE,
				  "--schema %s: unknown engine '%.*s' (known: sqlite, postgres)", arg,
				  (int)elen, spec);
	}
	if (eq) {
		out->label = ed_strndup(arg, (size_t)(eq - arg));
	} else if (out->postgres) {
		struct ed_buf db = ED_BUF_INIT;
		struct ed_err derr = {0};
		if (ed_pg_conninfo_dbname(out->target, &db, &derr)) {
			/* Never echo a password= of the connection string. */
			struct ed_buf safe = ED_BUF_INIT;
			ed_pg_conninfo_redact(out->target, &safe);
			ed_buf_release(&db);
			ed_err_set(err, ED_USAGE, "--schema postgres:%s: %s: name it NAME=postgres:CONNINFO",
				   ed_buf_str(&safe), derr.msg);
			ed_buf_release(&safe);
			return ED_USAGE;
		}
		out->label = ed_buf_detach(&db);
		if (!out->label)
			return ed_err_set(err, ED_USAGE,
					  "--schema %s: no dbname= in CONNINFO: name it as NAME=postgres:...",
					  arg);
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

static bool is_regular(struct ed_source *src, const char *path)
{
	struct ed_stat sb;
	struct ed_err ignored;
	return src->ops->stat(src, path, &sb, &ignored) == ED_OK && sb.type == ED_FT_REG;
}

static bool is_dir(struct ed_source *src, const char *path)
{
	struct ed_stat sb;
	struct ed_err ignored;
	return src->ops->stat(src, path, &sb, &ignored) == ED_OK && sb.type == ED_FT_DIR;
}

static bool has(const struct ed_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
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

/* Refuses a package manager envdrift does not know, before anything is stored. */
static enum ed_code check_packages(const struct ed_strlist *l, struct ed_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *m = l->v[i];
		if (strcmp(m, "auto") && strcmp(m, "none") && strcmp(m, "dpkg") && strcmp(m, "rpm") &&
		    strcmp(m, "apk") && strcmp(m, "pypi") && strcmp(m, "npm"))
			return ed_err_set(err, ED_USAGE,
					  "--packages: unknown manager '%s' (known: auto, none, dpkg, "
					  "rpm, apk, pypi, npm)",
					  m);
	}
	if (has(l, "none") && l->n > 1)
		return ed_err_set(err, ED_USAGE, "--packages: 'none' cannot be combined with others");
	return ED_OK;
}

/*
 * Runs the package collectors the profile names. With "auto", a manager is
 * read when its database is there; a manager named explicitly must work.
 */
static enum ed_code collect_packages(struct ed_source *src, const struct ed_profile *p,
				     struct ed_sink *sink, struct ed_err *err)
{
	const struct ed_strlist *l = &p->packages;
	bool any = has(l, "auto");
	enum ed_code rc = ED_OK;
	if (has(l, "none"))
		return ED_OK;
	if (has(l, "dpkg") || (any && is_regular(src, "/var/lib/dpkg/status")))
		rc = ed_dpkg_collect(src, sink, err);
	if (!rc && (has(l, "apk") || (any && is_regular(src, ED_APK_DB_PATH))))
		rc = ed_apk_collect(src, sink, err);
	if (!rc && (has(l, "rpm") ||
		    (any && (is_dir(src, "/var/lib/rpm") || is_dir(src, "/usr/lib/sysimage/rpm"))))) {
		struct ed_err rerr = {0};
		rc = ed_rpm_collect(src, sink, &rerr);
		if (rc == ED_NOTFOUND && !has(l, "rpm")) {
			rc = ED_OK; /* an empty rpm folder, as Debian's rpm package leaves */
		} else if (rc == ED_UNSUPPORTED && !has(l, "rpm")) {
			/* An rpm database, but no rpm program to read it with here. */
			ed_sink_warn(sink, "%s", rerr.msg);
			rc = ED_OK;
		} else if (rc) {
			*err = rerr;
		}
	}
	if (!rc && (has(l, "pypi") || any)) {
		rc = ed_pypi_collect(src, (const char *const *)p->python_paths.v, p->python_paths.n,
				     sink, err);
		/* auto: a host without Python packages simply has none. */
		if (rc == ED_NOTFOUND && !has(l, "pypi") && !p->python_paths.n)
			rc = ED_OK;
	}
	if (!rc && (has(l, "npm") || (any && p->npm_paths.n)))
		rc = ed_npm_collect(src, (const char *const *)p->npm_paths.v, p->npm_paths.n, sink,
				    err);
	return rc;
}

/* Reads the --profile file (on this machine, not the host) on top of the default. */
static enum ed_code load_profile(const char *path, struct ed_profile *p, struct ed_err *err)
{
	enum ed_code rc = ed_profile_default(p, err);
	if (rc || !path)
		return rc;
	struct ed_buf text = ED_BUF_INIT;
	rc = ed_buf_read_file(&text, "profile", path, 4u * 1024 * 1024, err);
	if (!rc)
		rc = ed_profile_parse(ed_str_of(ed_buf_str(&text), text.len), path, p, err);
	ed_buf_release(&text);
	return rc;
}

/* Adds the items of l to b, each followed by a NUL, and an end mark. */
static int sig_list(struct ed_buf *b, const struct ed_strlist *l)
{
	int bad = 0;
	for (size_t i = 0; i < l->n; i++)
		bad |= ed_buf_add(b, l->v[i], strlen(l->v[i]) + 1);
	return bad | ed_buf_addc(b, '\n');
}

/*
 * How a snapshot is collected, as a digest (32 hex digits): envdrift's
 * version, the root, and every profile setting that decides which items a
 * collection makes. A delta is only written on a snapshot with the same.
 */
static enum ed_code collect_sig(const struct ed_profile *p, const char *root, char out[33],
				struct ed_err *err)
{
	struct ed_buf b = ED_BUF_INIT;
	const struct ed_strlist *lists[] = {&p->paths,        &p->excludes,     &p->packages,
					    &p->schemas,      &p->secret_keys,  &p->secret_files,
					    &p->keep_content, &p->sysctl,       &p->python_paths,
					    &p->npm_paths};
	int bad = ed_buf_addf(&b, "envdrift %s\nroot %s\nkeep_max %zu\n", ENVDRIFT_VERSION,
			      root ? root : "/", p->keep_max);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		bad |= sig_list(&b, lists[i]);
	for (size_t i = 0; i < p->nformats; i++)
		bad |= ed_buf_addf(&b, "%s=%s", p->formats[i].glob,
				   ed_config_format_name(p->formats[i].format)) |
		       ed_buf_addc(&b, '\0');
	if (bad) {
		ed_buf_release(&b);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	struct ed_fp fp;
	ed_fp_of(b.p, b.len, &fp);
	ed_fp_hex(&fp, out);
	ed_buf_release(&b);
	return ED_OK;
}

int ed_cmd_collect(int argc, char **argv, struct ed_cli *cli)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--inventory") == 0)
			return ed_collect_inventory(argc, argv, cli);

	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"env", required_argument, NULL, 'e'},
		{"host", required_argument, NULL, 'H'},
		{"role", required_argument, NULL, 'R'},
		{"root", required_argument, NULL, 'r'},
		{"profile", required_argument, NULL, 'f'},
		{"path", required_argument, NULL, 'p'},
		{"packages", required_argument, NULL, 'P'},
		{"schema", required_argument, NULL, 's'},
		{"full", no_argument, NULL, 'F'},
		{"threads", required_argument, NULL, 'T'},
		{"out", required_argument, NULL, 'o'},
		{"baseline-db", required_argument, NULL, 'B'},
		{"key", required_argument, NULL, 'k'},
		{"ssh", required_argument, NULL, 'S'},
		{"known-hosts", required_argument, NULL, 'K'},
		{"identity", required_argument, NULL, 'i'},
		{"passphrase-env", required_argument, NULL, 'E'},
		{"accept-new-host-keys", no_argument, NULL, 'A'},
		{"connect-timeout", required_argument, NULL, 'C'},
		{"io-timeout", required_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *env = NULL, *host = NULL, *root = NULL, *packages = NULL, *profile_path = NULL;
	const char *role = "";
	const char *out_path = NULL, *key_path = NULL, *baseline_db = NULL;
	struct ed_snapdoc_writer *dw = NULL;
	struct ed_strlist cli_paths = {0}, cli_schemas = {0};
	struct ed_profile prof = {0};
	struct schema_spec *schemas = NULL;
	size_t nschemas = 0;
	struct ed_err err = {0};
	struct ed_source *src = NULL;
	struct ed_store *st = NULL;
	struct ed_snapwriter *w = NULL;
	int status = ED_EXIT_ERROR;
	uint8_t key[ED_KEY_LEN];
	char hostbuf[256];
	bool full = false;
	int threads = -1;
	struct ed_baseline baseline = {0};
	bool delta = false;
	int64_t prev_id = 0;
	struct ed_files_stats stats = {0};
	const char *ssh = NULL;
	struct ed_ssh_dest dest = {0};
	struct ed_ssh_opts sopts = {0};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'e': env = optarg; break;
		case 'H': host = optarg; break;
		case 'R': role = optarg; break;
		case 'r': root = optarg; break;
		case 'f': profile_path = optarg; break;
		case 'P': packages = optarg; break;
		case 'F': full = true; break;
		case 'o': out_path = optarg; break;
		case 'B': baseline_db = optarg; break;
		case 'k': key_path = optarg; break;
		case 'S': ssh = optarg; break;
		case 'K': sopts.known_hosts = optarg; break;
		case 'i': sopts.identity = optarg; break;
		case 'E': sopts.passphrase_env = optarg; break;
		case 'A': sopts.accept_new = true; break;
		case 'C':
		case 'O': {
			char *end;
			double secs = strtod(optarg, &end);
			if (*end || end == optarg || !(secs >= 0.1 && secs <= 3600)) {
				status = ed_cli_usage_error("collect", "--%s %s: expected 0.1 to 3600 seconds",
							    c == 'C' ? "connect-timeout" : "io-timeout",
							    optarg);
				goto out;
			}
			*(c == 'C' ? &sopts.connect_timeout_ms : &sopts.op_timeout_ms) = (int)(secs * 1000);
			break;
		}
		case 'T': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 0 || n > 256) {
				status = ed_cli_usage_error("collect",
							    "--threads %s: expected 0 (one per core) to 256",
							    optarg);
				goto out;
			}
			threads = (int)n;
			break;
		}
		case 'p':
			if (optarg[0] != '/') {
				status = ed_cli_usage_error("collect",
							    "--path %s: must be an absolute path on the host",
							    optarg);
				goto out;
			}
			if (ed_strlist_add(&cli_paths, optarg))
				goto oom;
			break;
		case 's':
			if (ed_strlist_add(&cli_schemas, optarg))
				goto oom;
			break;
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
	if (out_path && (!*out_path || !key_path)) {
		status = ed_cli_usage_error(
			"collect", !*out_path ? "--out needs a file name ('-': standard output)"
					      : "--out needs --key KEYFILE: a copy of the key file "
						"(STORE.key) of the store the document will be "
						"ingested into, so that secrets get that store's keyed "
						"fingerprints");
		goto out;
	}
	if (key_path && !out_path) {
		status = ed_cli_usage_error("collect", "--key is for --out; a collection into the "
						       "store uses the store's own key");
		goto out;
	}
	if (ssh && root) {
		status = ed_cli_usage_error("collect", "--root and --ssh exclude each other");
		goto out;
	}
	if (!ssh && (sopts.known_hosts || sopts.identity || sopts.passphrase_env ||
		     sopts.accept_new || sopts.connect_timeout_ms || sopts.op_timeout_ms)) {
		status = ed_cli_usage_error("collect", "SSH options need --ssh USER@HOST");
		goto out;
	}
	if (ssh && ed_ssh_dest_parse(ssh, &dest, &err)) {
		status = ed_cli_usage_error("collect", "%s", err.msg);
		goto out;
	}
	if (strlen(role) > 200 || strpbrk(role, "\n\r\t")) {
		status = ed_cli_usage_error("collect", "--role: at most 200 characters, no control characters");
		goto out;
	}

	/* The profile, then the flags on top: --path replaces the built-in /etc. */
	if (load_profile(profile_path, &prof, &err))
		goto fail;
	if (cli_paths.n && !profile_path)
		ed_strlist_release(&prof.paths);
	for (size_t i = 0; i < cli_paths.n; i++)
		if (ed_strlist_add(&prof.paths, cli_paths.v[i]))
			goto oom;
	for (size_t i = 0; i < cli_schemas.n; i++)
		if (ed_strlist_add(&prof.schemas, cli_schemas.v[i]))
			goto oom;
	if ((packages && set_words(&prof.packages, packages, &err)) ||
	    check_packages(&prof.packages, &err))
		goto fail;
	if (threads >= 0)
		prof.threads = threads;
	/* Over SSH each hashing thread is a connection (3 sshd processes on the host): a few. */
	if (ssh && prof.threads == 0)
		prof.threads = ED_SSH_DEFAULT_THREADS;
	if (prof.schemas.n && !(schemas = calloc(prof.schemas.n, sizeof(*schemas))))
		goto oom;
	for (; nschemas < prof.schemas.n; nschemas++)
		if (parse_schema(prof.schemas.v[nschemas], &schemas[nschemas], &err)) {
			nschemas++;
			goto fail;
		}

	if (ssh) {
		sopts.user = dest.user;
		sopts.host = dest.host;
		sopts.port = dest.port;
		sopts.max_rate = prof.max_rate;
		if (ed_source_ssh_new(&sopts, &src, &err))
			goto fail;
	} else if (ed_source_local_new(root, &src, &err)) {
		goto fail;
	}
	if (!host) {
		/* The host's own /etc/hostname; else, over SSH, the name connected to. */
		if (!root_hostname(src, hostbuf, sizeof(hostbuf)) &&
		    (ssh ? snprintf(hostbuf, sizeof(hostbuf), "%s", dest.host) < 0
			 : gethostname(hostbuf, sizeof(hostbuf) - 1) != 0))
			snprintf(hostbuf, sizeof(hostbuf), "localhost");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		host = hostbuf;
	}
	if (out_path) {
		/* Push mode: no store, the JSON document's sink instead of the snapshot writer. */
		struct ed_snapdoc_meta meta = {.env = env, .host = host, .role = role,
					       .collector_root = root};
		if (ed_keyfile_read(key_path, key, &err))
			goto fail;
		if (baseline_db && !full) {
			/* Read only: the baseline's readers open the store by its path. */
			struct ed_store *bst = NULL;
			enum ed_code brc = ed_store_open(baseline_db, ED_STORE_READ, NULL, &bst, &err);
			if (!brc)
				brc = ed_store_baseline(bst, env, host, &baseline, &prev_id, &err);
			ed_store_close(bst);
			if (brc)
				goto fail;
		}
		if (ed_snapdoc_begin(out_path, &meta, &dw, &err))
			goto fail;
	} else {
		if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
		    ed_store_key(cli->db, false, key, &err))
			goto fail;
		/* Incremental: files unchanged since this host's previous snapshot are not read. */
		if (!full && ed_store_baseline(st, env, host, &baseline, &prev_id, &err))
			goto fail;
		/*
		 * A delta on the previous snapshot when it was collected the same
		 * way. Not over SSH: SFTP gives a folder's time in seconds and no
		 * inode, too coarse to tell that its entries are the same.
		 */
		char sig[33];
		if (collect_sig(&prof, root, sig, &err) ||
		    ed_snapshot_begin(st, env, host, role, root, &w, &err) ||
		    ed_snapshot_plan(w, sig, ssh ? 0 : prev_id, &delta, &err))
			goto fail;
	}

	struct ed_secrets secrets = {
		.key = key,
		.patterns = (const char *const *)prof.secret_keys.v,
		.npatterns = prof.secret_keys.n,
	};
	struct progress_sink ps = {.next = dw ? ed_snapdoc_sink(dw) : ed_snapshot_sink(w),
				   .tty = isatty(2)};
	ps.sink = (struct ed_sink){.emit = progress_emit,
				   .warn = progress_warn,
				   .ctx = &ps,
				   .content = progress_content};
	struct ed_files_opts fopts = {
		.secrets = &secrets,
		.profile = &prof,
		.baseline = prev_id ? &baseline : NULL,
		.threads = prof.threads,
		.progress = ps.tty,
		.delta = delta,
		.stats = &stats,
	};

	for (size_t i = 0; i < prof.paths.n; i++)
		if (ed_files_collect(src, prof.paths.v[i], &fopts, &ps.sink, &err))
			goto fail;
	if (ps.tty)
		fputs("\r\033[K", stderr);
	if (ed_system_collect(src, &prof.sysctl, &ps.sink, &err) ||
	    collect_packages(src, &prof, &ps.sink, &err))
		goto fail;
	for (size_t i = 0; i < nschemas; i++) {
		const struct schema_spec *s = &schemas[i];
		if (s->postgres ? ed_schema_postgres_collect(src, s->label, s->target, &ps.sink, &err)
				: ed_schema_sqlite_collect(src, s->label, s->target, &ps.sink, &err))
			goto fail;
	}

	/*
	 * A dropped or silent connection leaves per-entry errors that the
	 * collectors record and go on: such a snapshot must not be stored.
	 */
	if (ssh && ed_source_ssh_check(src, &err))
		goto fail;
	int64_t id = 0, items = 0, warnings = 0;
	if (dw) {
		char docid[ED_SNAPDOC_ID_LEN + 1];
		snprintf(docid, sizeof(docid), "%s", ed_snapdoc_writer_id(dw));
		enum ed_code drc = ed_snapdoc_commit(dw, NULL, &items, &warnings, &err);
		dw = NULL;
		if (drc)
			goto fail;
		bool to_stdout = strcmp(out_path, "-") == 0;
		if (!to_stdout)
			printf("%s\n", docid);
		if (fflush(stdout) != 0) {
			ed_err_set(&err, ED_IO, "cannot write to standard output");
			goto fail;
		}
		fprintf(stderr,
			"envdrift: wrote snapshot document %s of %s/%s to %s: %lld items, %lld "
			"warnings; %lld files hashed (%.1f MiB)\n",
			docid, env, host, to_stdout ? "standard output" : out_path, (long long)items,
			(long long)warnings, (long long)stats.hashed, (double)stats.bytes / (1 << 20));
		status = ED_EXIT_OK;
		goto out;
	}
	id = ed_snapshot_id(w);
	struct ed_snapshot_info info;
	enum ed_code rc = ed_snapshot_commit_info(w, &info, &err);
	w = NULL;
	if (rc)
		goto fail;
	items = info.items;
	warnings = info.warnings;
	printf("%lld\n", (long long)id);
	if (fflush(stdout) != 0) {
		ed_err_set(&err, ED_IO, "cannot write to standard output");
		goto fail;
	}
	char stored[96];
	if (info.base)
		snprintf(stored, sizeof(stored), "a delta on @%lld, %lld rows written", (long long)info.base,
			 (long long)info.rows);
	else
		snprintf(stored, sizeof(stored), "%lld rows written", (long long)info.rows);
	fprintf(stderr,
		"envdrift: stored snapshot @%lld of %s/%s: %lld items, %lld warnings; "
		"%lld files hashed (%.1f MiB), %lld unchanged%s; %s in %.2f s\n",
		(long long)id, env, host, (long long)items, (long long)warnings,
		(long long)stats.hashed, (double)stats.bytes / (1 << 20), (long long)stats.reused,
		prev_id ? "" : full ? " (--full)" : " (no previous snapshot)", stored, info.store_s);
	status = ED_EXIT_OK;
	goto out;
oom:
	ed_err_set(&err, ED_NOMEM, "out of memory");
fail:
	/* A lost connection: report what failed first, not the entry it stopped at. */
	if (ssh && src && err.code == ED_CONN) {
		struct ed_err first = {0};
		if (ed_source_ssh_check(src, &first))
			err = first;
	}
	if (w) {
		if (isatty(2))
			fputs("\r\033[K", stderr);
		fprintf(stderr, "envdrift: snapshot @%lld of %s/%s failed; nothing was stored\n",
			(long long)ed_snapshot_id(w), env, host);
		ed_snapshot_abort(w);
	}
	if (dw) {
		if (isatty(2))
			fputs("\r\033[K", stderr);
		ed_snapdoc_abort(dw);
		dw = NULL;
	}
	status = ed_cli_fail(&err);
	if (out_path && strcmp(out_path, "-") != 0)
		fprintf(stderr, "envdrift: %s was not written\n", out_path);
out:
	if (baseline.ctx)
		ed_store_baseline_release(&baseline);
	ed_store_close(st);
	ed_source_free(src);
	ed_ssh_dest_release(&dest);
	ed_strlist_release(&cli_paths);
	ed_strlist_release(&cli_schemas);
	ed_profile_release(&prof);
	for (size_t i = 0; i < nschemas; i++)
		free(schemas[i].label);
	free(schemas);
	return status;
}
