/* SPDX-License-Identifier: MIT */
/*
 * Agent mode over SSH: envdrift on the host collects there, its document
 * comes back over the exec channel and is stored as `ingest` stores one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "collect_remote.h"
#include "ed/atomic.h"
#include "ed/clock.h"
#include "ed/keyfile.h"
#include "ed/snapdoc.h"
#include "ed/snapdoc_store.h"
#include "ed/ssh.h"
#include "ed/store.h"

/* What `envdrift --version` may print, at most. */
#define VERSION_MAX 4096
/* How long `envdrift --version` may take on the host. */
#define VERSION_MS 30000

/*
 * Is the host's envdrift usable? Fills why (for the fallback's note or the
 * error) and returns false when not; ED_IO and the like only for a failure
 * of the connection itself, which fails the collection in every mode.
 */
static enum ed_code probe(struct ed_source *src, const struct remote_opts *o, bool *usable,
			  char *version, size_t vcap, char *why, size_t whycap, struct ed_err *err)
{
	const char *argv[] = {o->command, "--version", NULL};
	struct ed_buf out = ED_BUF_INIT;
	struct ed_err e = {0};
	int status = 0;
	*usable = false;
	enum ed_code rc = src->ops->run(src, argv, VERSION_MAX, VERSION_MS, &out, &status, &e);
	if (rc == ED_NOTFOUND || rc == ED_TOOBIG) {
		snprintf(why, whycap, "%.900s", e.msg);
		rc = ED_OK;
		goto out;
	}
	if (rc) {
		*err = e;
		goto out;
	}
	if (status != 0) {
		snprintf(why, whycap, "'%.200s --version' %.700s", o->command, e.msg[0] ? e.msg : "failed");
		goto out;
	}
	/* "envdrift VERSION\nformats: envdrift.snapshot/1 envdrift.diff/1\n" */
	const char *p = ed_buf_str(&out), *nl = strchr(p, '\n');
	size_t first = nl ? (size_t)(nl - p) : strlen(p);
	if (strncmp(p, "envdrift ", 9) != 0) {
		snprintf(why, whycap, "'%s --version' does not print 'envdrift VERSION': not envdrift",
			 o->command);
		goto out;
	}
	snprintf(version, vcap, "%.*s", (int)(first - 9 < 64 ? first - 9 : 64), p + 9);
	const char *f = nl ? strstr(nl + 1, "formats:") : NULL;
	if (!f || (f[-1] != '\n')) {
		snprintf(why, whycap, "envdrift %s names no document formats (older than this "
				      "collector's %s)", version, ENVDRIFT_VERSION);
		goto out;
	}
	size_t flen = strcspn(f, "\n");
	bool found = false;
	for (const char *t = f + 8; t < f + flen;) {
		t += strspn(t, " \t");
		size_t n = strcspn(t, " \t\n");
		if (n == strlen(ED_SNAPDOC_FORMAT) && memcmp(t, ED_SNAPDOC_FORMAT, n) == 0)
			found = true;
		t += n;
	}
	if (!found) {
		snprintf(why, whycap, "envdrift %s does not speak %s (it speaks:%.*s)", version,
			 ED_SNAPDOC_FORMAT, (int)(flen - 8 < 200 ? flen - 8 : 200), f + 8);
		goto out;
	}
	*usable = true;
out:
	ed_buf_release(&out);
	return rc;
}

/* The command line run on the host: the key and the profile go on its standard input. */
static enum ed_code far_argv(const struct remote_opts *o, const char ***argvp, char *threads,
			     size_t tcap, struct ed_err *err)
{
	size_t n = 32 + 2 * (o->paths->n + o->schemas->n);
	const char **v = calloc(n, sizeof(*v));
	if (!v)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	size_t i = 0;
	v[i++] = o->command;
	v[i++] = "collect";
	v[i++] = "--env";
	v[i++] = o->env;
	v[i++] = "--host";
	v[i++] = o->host;
	if (o->role && *o->role) {
		v[i++] = "--role";
		v[i++] = o->role;
	}
	v[i++] = "--out";
	v[i++] = "-";
	v[i++] = "--key";
	v[i++] = "-";
	if (o->profile) {
		v[i++] = "--profile";
		v[i++] = "-";
	}
	v[i++] = "--state";
	v[i++] = "auto";
	if (o->packages) {
		v[i++] = "--packages";
		v[i++] = o->packages;
	}
	if (o->threads >= 0) {
		snprintf(threads, tcap, "%d", o->threads);
		v[i++] = "--threads";
		v[i++] = threads;
	}
	if (o->full)
		v[i++] = "--full";
	if (o->strict)
		v[i++] = "--strict";
	if (o->accept_package_loss)
		v[i++] = "--accept-package-loss";
	for (size_t k = 0; k < o->paths->n; k++) {
		v[i++] = "--path";
		v[i++] = o->paths->items[k];
	}
	for (size_t k = 0; k < o->schemas->n; k++) {
		v[i++] = "--schema";
		v[i++] = o->schemas->items[k];
	}
	v[i] = NULL;
	*argvp = v;
	return ED_OK;
}

/* The stream being read: into the spool file, with the host's stderr relayed line by line. */
struct stream {
	FILE *spool;
	const char *spool_path;
	uint64_t bytes;
	const char *label;
	char line[1024]; /* a line of the host's stderr not yet complete */
	size_t linelen;
	char last[512];  /* the last line of it, for an error message */
};

static enum ed_code to_spool(void *ctx, const char *data, size_t len, struct ed_err *err)
{
	struct stream *s = ctx;
	if (s->bytes + len > ED_SNAPDOC_MAX_BYTES)
		return ed_err_set(err, ED_TOOBIG, "%s: the document is larger than %zu MiB; stopped",
				  s->label, ED_SNAPDOC_MAX_BYTES >> 20);
	if (fwrite(data, 1, len, s->spool) != len)
		return ed_err_set(err, ED_IO, "%s: %s", s->spool_path, strerror(errno));
	s->bytes += len;
	return ED_OK;
}

/* One line of the host's stderr, without its "envdrift collect: ", said as the host's. */
static void relay_line(struct stream *s)
{
	static const char lead[] = "envdrift collect: ";
	s->line[s->linelen] = '\0';
	const char *l = s->line;
	if (strncmp(l, lead, sizeof(lead) - 1) == 0)
		l += sizeof(lead) - 1;
	if (*l) {
		ed_say("on %s: %s", s->label, l);
		snprintf(s->last, sizeof(s->last), "%.500s", l);
	}
	s->linelen = 0;
}

static void relay(void *ctx, const char *data, size_t len)
{
	struct stream *s = ctx;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || s->linelen == sizeof(s->line) - 1)
			relay_line(s);
		if (data[i] != '\n')
			s->line[s->linelen++] = data[i];
	}
}

/* Is the document the collection asked for? A host cannot store another's snapshot. */
static enum ed_code check_doc(const struct ed_snapdoc *d, const struct remote_opts *o,
			      struct ed_err *err)
{
	const struct ed_snapdoc_info *in = ed_snapdoc_info(d);
	const char *role = in->role ? in->role : "", *want = o->role ? o->role : "";
	if (strcmp(in->env, o->env) != 0 || strcmp(in->host, o->host) != 0 ||
	    strcmp(role, want) != 0)
		return ed_err_set(err, ED_PARSE,
				  "%s: the host's envdrift sent a document of %s/%s (role '%s'), "
				  "not of %s/%s (role '%s'): refused",
				  o->label, in->env, in->host, role, o->env, o->host, want);
	if (in->collector_root)
		return ed_err_set(err, ED_PARSE, "%s: the host's envdrift collected under --root %s, "
					       "not the host: refused", o->label, in->collector_root);
	return ED_OK;
}

/* The validated document at path to o->out, whole or not at all; its id on stdout. */
static enum ed_code write_out(const struct remote_opts *o, const char *path,
			      const struct ed_snapdoc *d, struct ed_err *err)
{
	struct ed_atomic *a = NULL;
	FILE *in = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	enum ed_code rc;
	if (!in)
		return ed_err_set(err, ED_IO, "%s: %s", path, strerror(errno));
	if ((rc = ed_atomic_open(o->out, 0600, &a, err)))
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (fwrite(chunk, 1, n, ed_atomic_file(a)) != n)
			break;
	if (ferror(in)) {
		rc = ed_err_set(err, ED_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = ed_atomic_commit(a, err);
	a = NULL;
	if (!rc && strcmp(o->out, "-") != 0) {
		printf("%s\n", ed_snapdoc_info(d)->id);
		if (ed_cli_flush_stdout(err))
			rc = err->code;
	}
out:
	ed_atomic_abort(a);
	fclose(in);
	return rc;
}

/* The key the far side fingerprints secrets with: the store's, or --key's. */
static enum ed_code the_key(const struct remote_opts *o, uint8_t key[ED_KEY_LEN],
			    struct ed_store **st, struct ed_err *err)
{
	if (o->out)
		return ed_keyfile_read(o->keyfile, key, err);
	/* The store is opened before the host does any work: a store we cannot write fails first. */
	if (ed_store_open(o->db, ED_STORE_WRITE, NULL, st, err) ||
	    ed_store_key(o->db, false, key, err))
		return err->code;
	return ED_OK;
}

/* Runs the collection on the host and stores (or writes) what it sends. */
static enum ed_code run_remote(struct ed_source *src, const struct remote_opts *o,
			       const char *version, struct ed_err *err)
{
	uint8_t key[ED_KEY_LEN];
	struct ed_store *st = NULL;
	struct ed_buf prof = ED_BUF_INIT;
	struct ed_snapdoc *doc = NULL;
	const char **argv = NULL;
	char *frame = NULL, *dir = NULL, threads[16];
	size_t frame_len = 0;
	struct stream s = {.label = o->label};
	char path[4200];
	int status = 0;
	double t0 = ed_now_s();
	enum ed_code rc;

	if ((rc = the_key(o, key, &st, err)))
		goto out;
	if (o->profile &&
	    (rc = ed_buf_read_file(&prof, "profile", o->profile, AGENT_PROFILE_MAX, err)))
		goto out;
	struct ed_str ptext = ed_str_of(ed_buf_str(&prof), prof.len);
	if (agent_frame(key, o->profile ? &ptext : NULL, &frame, &frame_len)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = far_argv(o, &argv, threads, sizeof(threads), err)))
		goto out;
	/* The document waits in a private folder until it is validated. */
	const char *t = getenv("TMPDIR");
	if (asprintf(&dir, "%s/envdrift-remote.XXXXXX", t && *t ? t : "/tmp") < 0) {
		dir = NULL;
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if (!mkdtemp(dir)) {
		rc = ed_err_set(err, ED_IO, "temporary folder %s: %s", dir, strerror(errno));
		free(dir);
		dir = NULL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/document.json", dir);
	s.spool_path = path;
	if (!(s.spool = fopen(path, "wb"))) {
		rc = ed_err_set(err, ED_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = ed_ssh_stream(src, argv, frame, frame_len, o->idle_ms, to_spool, relay, &s, &status,
			   err);
	if (s.linelen)
		relay_line(&s);
	if (rc)
		goto out;
	if (status != 0) {
		rc = ed_err_set(err, ED_IO, "%s: envdrift %s on the host failed (exit status %d)%s%s",
				o->label, version, status, s.last[0] ? ": " : "", s.last);
		goto out;
	}
	if (fclose(s.spool) != 0) {
		s.spool = NULL;
		rc = ed_err_set(err, ED_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	s.spool = NULL;
	if ((rc = ed_snapdoc_load(path, &doc, err))) {
		struct ed_err why = *err;
		rc = ed_err_set(err, why.code, "%s: the document sent by envdrift on the host is "
						"refused: %s", o->label, why.msg);
		goto out;
	}
	if ((rc = check_doc(doc, o, err)))
		goto out;
	if (o->out) {
		rc = write_out(o, path, doc, err);
		if (!rc)
			ed_say("wrote snapshot document %s of %s/%s to %s: %zu items, collected on "
			       "the host by envdrift %s; %.1f MiB read over SSH in %.2f s",
			       ed_snapdoc_info(doc)->id, o->env, o->host,
			       strcmp(o->out, "-") == 0 ? "standard output" : o->out,
			       ed_snapdoc_info(doc)->nitems, version, (double)s.bytes / (1 << 20),
			       ed_now_s() - t0);
		goto out;
	}
	int64_t id = 0, items = 0, warnings = 0;
	bool already = false;
	if ((rc = ed_snapdoc_ingest(st, doc, ED_SNAPDOC_MAX_SKEW, &id, &already, &items, &warnings,
				    err)))
		goto out;
	printf("%lld\n", (long long)id);
	if (ed_cli_flush_stdout(err)) {
		rc = err->code;
		goto out;
	}
	ed_say("stored snapshot @%lld of %s/%s: %lld items, %lld warnings; collected on the host "
	       "by envdrift %s, %.1f MiB read over SSH in %.2f s",
	       (long long)id, o->env, o->host, (long long)items, (long long)warnings, version,
	       (double)s.bytes / (1 << 20), ed_now_s() - t0);
out:
	explicit_bzero(key, sizeof(key));
	if (frame) {
		explicit_bzero(frame, frame_len);
		free(frame);
	}
	if (s.spool)
		fclose(s.spool);
	if (dir) {
		unlink(path);
		rmdir(dir);
		free(dir);
	}
	ed_snapdoc_free(doc);
	free(argv);
	ed_buf_release(&prof);
	ed_store_close(st);
	return rc;
}

enum ed_code remote_collect(struct ed_source *src, const struct remote_opts *o, bool *done,
			    struct ed_err *err)
{
	char version[80] = "", why[1024] = "";
	bool usable = false;
	enum ed_code rc;
	*done = false;
	if (o->mode == REMOTE_NEVER)
		return ED_OK;
	if (o->blocker) {
		if (o->mode == REMOTE_ALWAYS)
			return ed_err_set(err, ED_USAGE, "%s: --remote always: %s", o->label, o->blocker);
		ed_info("%s: %s: collecting over SFTP", o->label, o->blocker);
		return ED_OK;
	}
	if ((rc = probe(src, o, &usable, version, sizeof(version), why, sizeof(why), err)))
		return rc;
	if (!usable) {
		if (o->mode == REMOTE_ALWAYS)
			return ed_err_set(err, ED_NOTFOUND, "%s: --remote always: no usable envdrift "
							    "on the host: %s", o->label, why);
		ed_info("%s: no usable envdrift on the host (%s): collecting over SFTP", o->label, why);
		return ED_OK;
	}
	if ((rc = run_remote(src, o, version, err)))
		return rc;
	*done = true;
	return ED_OK;
}
