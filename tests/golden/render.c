/* SPDX-License-Identifier: MIT */
/*
 * Golden test of every report format on a drift built by hand: what the
 * policy and fleets put in struct ed_drift (warn and info severities, ignored
 * entries with their reasons, package directions, roles, expired rules,
 * snowflakes, several snapshots a side), rendered with and without
 * show_ignored and compared byte for byte with tests/golden/synthetic/.
 *
 *   render DIR            compare with DIR/expected[.show-ignored].EXT
 *   GOLDEN_UPDATE=1 render DIR    write them instead (then review git diff)
 *   render --dump FORMAT [--show-ignored]   print one report
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/tap.h"
#include "ed/diff.h"

/*
 * Allocation failures: malloc, calloc and realloc fail at the fail_at-th call
 * (0: never). The renderers must then return an error, never crash nor claim
 * success. Not under AddressSanitizer, which owns malloc.
 */
#ifndef __SANITIZE_ADDRESS__
#define ED_TEST_ALLOC_FAIL 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static long fail_at, alloc_calls, render_calls;
static long live; /* blocks allocated and not freed: a failed render must not leak */
#endif
static bool quiet; /* no message for a failed render (allocation failure runs) */
#ifdef ED_TEST_ALLOC_FAIL

static bool alloc_fails(void)
{
	return fail_at && ++alloc_calls == fail_at;
}

void *malloc(size_t n)
{
	void *p = alloc_fails() ? NULL : __libc_malloc(n);
	live += p != NULL;
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = alloc_fails() ? NULL : __libc_calloc(n, size);
	live += p != NULL;
	return p;
}

void *realloc(void *p, size_t n)
{
	if (alloc_fails())
		return NULL;
	void *q = __libc_realloc(p, n);
	live += !p && q;
	return q;
}

void free(void *p)
{
	live -= p != NULL;
	__libc_free(p);
}
#endif

static char *xdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d) {
		fputs("Bail out! out of memory\n", stdout);
		exit(2);
	}
	return d;
}

static struct ed_drift_entry *add(struct ed_drift *d, const char *kind, const char *key,
				  enum ed_change change, unsigned fields, const char *severity,
				  const char *rule)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		if (!d->v) {
			fputs("Bail out! out of memory\n", stdout);
			exit(2);
		}
	}
	struct ed_drift_entry *e = &d->v[d->n++];
	memset(e, 0, sizeof(*e));
	e->kind = xdup(kind);
	e->key = xdup(key);
	e->key_len = strlen(key);
	e->change = change;
	e->fields = fields;
	e->severity = severity;
	e->rule = xdup(rule);
	e->ref.present = change != ED_ADDED;
	e->cand.present = change != ED_REMOVED;
	return e;
}

static void side(struct ed_side *s, const char *value, const char *attrs)
{
	s->value = xdup(value);
	s->attrs = xdup(attrs);
}

static void file_side(struct ed_side *s, uint32_t mode, int64_t size, unsigned char fp)
{
	s->ftype = ED_FT_REG;
	s->mode = mode;
	s->size = size;
	s->owner = xdup("root");
	s->group = xdup("root");
	memset(s->fp.b, fp, sizeof(s->fp.b));
}

static struct ed_snapref snap(int64_t id, const char *env, const char *host, const char *at)
{
	struct ed_snapref r = {.id = id, .items = 1000};
	snprintf(r.env, sizeof(r.env), "%s", env);
	snprintf(r.host, sizeof(r.host), "%s", host);
	snprintf(r.started_at, sizeof(r.started_at), "%s", at);
	return r;
}

/* A fleet of two web hosts a side, a policy, every kind of entry. */
static void build(struct ed_drift *d)
{
	struct ed_drift_entry *e;
	memset(d, 0, sizeof(*d));
	d->refs = calloc(2, sizeof(*d->refs));
	d->cands = calloc(2, sizeof(*d->cands));
	if (!d->refs || !d->cands)
		exit(2);
	d->refs[0] = snap(11, "production", "web1", "2024-05-01T02:00:00Z");
	d->refs[1] = snap(12, "production", "web2", "2024-05-01T02:00:03Z");
	d->cands[0] = snap(21, "staging", "stag-web1", "2024-05-01T02:10:00Z");
	d->cands[1] = snap(22, "staging", "stag-web2", "2024-05-01T02:10:02Z");
	d->nrefs = d->ncands = 2;
	d->ref = d->refs[0];
	d->cand = d->cands[0];
	d->policy = "policies/release.ini";
	d->compared = 4242;

	e = add(d, "config", "/etc/app/config.json#/db/password", ED_CHANGED, ED_F_VALUE, "block",
		"must differ: *password*");
	side(&e->ref, NULL, "{\"secret\":true}");
	side(&e->cand, NULL, "{\"secret\":true}");
	e->role = xdup("web");
	e = add(d, "config", "/etc/app/config.json#/db/pool", ED_CHANGED, ED_F_VALUE, "warn",
		"severity config = warn");
	side(&e->ref, "5", NULL);
	side(&e->cand, "10", NULL);
	e->role = xdup("web");
	/* A database whose shape the candidate's collection lacks (no --data-shape). */
	e = add(d, "data", "postgres:legacy", ED_REMOVED, 0, "warn", "severity data = warn");
	side(&e->ref, "{\"tables\":12,\"columns\":80}", NULL);
	e->role = xdup("web");
	/* A data shape out of its row band: the shapes are JSON, shown as a person says it. */
	e = add(d, "data", "postgres:shop/table/public.orders", ED_CHANGED, ED_F_ROWS, "warn",
		"severity data = warn");
	side(&e->ref, "{\"rows\":41000000,\"estimated\":true,\"bytes\":8192000}", NULL);
	side(&e->cand, "{\"rows\":820,\"estimated\":true,\"bytes\":16384}", NULL);
	e->role = xdup("web");
	/* Sensitive rows: two keyed samples, half of the candidate's in the reference's. */
	e = add(d, "rows", "postgres:shop/rows/public.customer(email)", ED_CHANGED, ED_F_OVERLAP,
		"block", "severity rows = block");
	side(&e->ref, "{\"rows\":64,\"sample\":4,\"threshold\":1152921504606846976,\"fingerprints\":\"AAAAAAAAAAEAAAAAAAAAAgAAAAAAAAADAAAAAAAAAAQ=\"}", NULL);
	side(&e->cand, "{\"rows\":70,\"sample\":4,\"threshold\":1152921504606846976,\"fingerprints\":\"AAAAAAAAAAIAAAAAAAAAAwAAAAAAAAAFAAAAAAAAAAY=\"}", NULL);
	e->role = xdup("web");
	/* A sample on the reference side only: the check could not run in the candidate. */
	e = add(d, "rows", "postgres:shop/rows/public.payment(card_last4)", ED_REMOVED, 0, "block",
		"severity rows = block");
	side(&e->ref, "{\"rows\":1250,\"sample\":2,\"threshold\":1152921504606846976,\"fingerprints\":\"AAAAAAAAAAEAAAAAAAAAAg==\"}", NULL);
	e->role = xdup("web");
	e = add(d, "file", "/etc/hostname", ED_CHANGED, ED_F_CONTENT, "warn", "severity file = warn");
	file_side(&e->ref, 0644, 5, 1);
	file_side(&e->cand, 0644, 10, 2);
	e->ignored = true;
	e->reason = xdup("differs per host");
	e->role = xdup("web");
	e = add(d, "file", "/etc/motd", ED_ADDED, 0, "info", "severity /etc/motd = info");
	file_side(&e->cand, 0644, 120, 3);
	e->role = xdup("web");
	/* Kept on both sides (fingerprints 4 and 5 in the store): a unified diff. */
	e = add(d, "file", "/etc/nginx/nginx.conf", ED_CHANGED, ED_F_CONTENT | ED_F_MODE, "warn",
		"severity file = warn");
	file_side(&e->ref, 0644, 40, 4);
	file_side(&e->cand, 0640, 44, 5);
	e->role = xdup("web");
	/* Kept on the reference side only (6; 7 is not in the store): a note. */
	e = add(d, "file", "/etc/ssh/sshd_config", ED_CHANGED, ED_F_CONTENT, "block",
		"severity /etc/ssh/* = block");
	file_side(&e->ref, 0644, 30, 6);
	file_side(&e->cand, 0644, 31, 7);
	e->role = xdup("web");
	e = add(d, "package", "dpkg:curl:amd64", ED_CHANGED, ED_F_VERSION, "info",
		"package ahead = info");
	side(&e->ref, "7.88.1-10+deb12u5", "{\"arch\":\"amd64\"}");
	side(&e->cand, "7.88.1-10+deb12u7", "{\"arch\":\"amd64\"}");
	e->direction = ED_DIR_AHEAD;
	e->role = xdup("web");
	e = add(d, "package", "dpkg:libc6:amd64", ED_CHANGED, ED_F_VERSION, "warn",
		"package rebuild = warn");
	side(&e->ref, "2.36-9+deb12u4", NULL);
	side(&e->cand, "2.36-9+deb12u4", NULL);
	e->direction = ED_DIR_REBUILD;
	e->role = xdup("web");
	e = add(d, "package", "dpkg:openssl:amd64", ED_CHANGED, ED_F_VERSION, "block",
		"package behind = block");
	side(&e->ref, "3.0.15-1~deb12u1", NULL);
	side(&e->cand, "3.0.11-1~deb12u2", NULL);
	e->direction = ED_DIR_BEHIND;
	e->role = xdup("web");
	e = add(d, "schema", "postgres:shop/table/public.orders", ED_REMOVED, 0, "block",
		"severity schema = block");
	side(&e->ref, "CREATE TABLE public.orders (id bigint NOT NULL, total numeric(10,2))", NULL);
	e->role = xdup("");
	e = add(d, "system", "kernel/release", ED_CHANGED, ED_F_VALUE, "info", "severity system = info");
	side(&e->ref, "6.1.0-18-amd64", NULL);
	side(&e->cand, "6.1.0-21-amd64", NULL);
	e->ignored = true;
	e->reason = xdup("kernels are upgraded in staging first");
	e->role = xdup("web");

	d->added = 1;
	d->removed = 3;
	d->changed = 11;
	d->ignored = 2;
	d->blocking = 6;
	d->warnings = 5;
	d->infos = 2;

	d->expired = calloc(1, sizeof(*d->expired));
	d->nexpired = 1;
	d->expired[0].text = xdup("file /etc/issue.net");
	d->expired[0].expires = xdup("2024-04-01");
	d->expired[0].reason = xdup("banner during the migration");

	d->snowflakes = calloc(2, sizeof(*d->snowflakes));
	d->nsnowflakes = 2;
	struct ed_snowflake *f = &d->snowflakes[0];
	f->env = xdup("staging");
	f->role = xdup("web");
	f->host = xdup("stag-web2");
	f->kind = xdup("config");
	f->key = xdup("/etc/app/config.json#/db/pool");
	f->value = xdup("7");
	f->majority_value = xdup("10");
	f = &d->snowflakes[1];
	f->env = xdup("production");
	f->role = xdup("web");
	f->host = xdup("web2");
	f->kind = xdup("config");
	f->key = xdup("/etc/app/config.json#/api/token");
	f->value = NULL; /* a secret: never shown */
	f->majority_value = NULL;
}

/* Keeps text under fingerprint byte fp (all 16 bytes), as collect does. */
static void keep(struct ed_sink *sink, unsigned char fp, const char *text)
{
	struct ed_fp key;
	struct ed_err err = {0};
	memset(key.b, fp, sizeof(key.b));
	if (sink->content(sink, &key, text, strlen(text), &err)) {
		printf("Bail out! cannot keep content: %s\n", err.msg);
		exit(2);
	}
}

/* A store in a temporary folder holding the kept texts build() refers to. */
static struct ed_store *make_store(char *dir, size_t dirlen)
{
	struct ed_store *st = NULL;
	struct ed_err err = {0};
	char path[1200];
	const char *tmp = getenv("TMPDIR");
	if ((size_t)snprintf(dir, dirlen, "%s/golden-render.XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
		    dirlen ||
	    !mkdtemp(dir)) {
		puts("Bail out! mkdtemp failed");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/store.db", dir);
	struct ed_snapwriter *w = NULL;
	if (ed_store_open(path, ED_STORE_CREATE, NULL, &st, &err) ||
	    ed_snapshot_begin(st, "golden", "h", "", "/", &w, &err)) {
		printf("Bail out! %s\n", err.msg);
		exit(2);
	}
	struct ed_sink *sink = ed_snapshot_sink(w);
	keep(sink, 4,
	     "user www-data;\nworker_processes auto;\n\nevents {\n\tworker_connections 768;\n}\n");
	keep(sink, 5,
	     "user www-data;\nworker_processes 2;\n\nevents {\n\tworker_connections 768;\n}\n"
	     "include </etc/nginx/x>;");
	keep(sink, 6, "Port 22\nPermitRootLogin no\n");
	if (ed_snapshot_commit(w, NULL, NULL, &err)) {
		printf("Bail out! %s\n", err.msg);
		exit(2);
	}
	return st;
}

static void remove_store(struct ed_store *st, const char *dir)
{
	char path[1200];
	static const char *const files[] = {"store.db", "store.db-wal", "store.db-shm"};
	ed_store_close(st);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static struct ed_store *store; /* kept content for the HTML report's diffs */

/* build(), with the kept texts of its changed files attached as the commands attach them. */
static void build_kept(struct ed_drift *d)
{
	struct ed_err err = {0};
	build(d);
	if (ed_drift_attach_kept(store, d, true, &err)) {
		printf("Bail out! %s\n", err.msg);
		exit(2);
	}
}

/* Many entries: the Markdown report must stay under GitHub's comment limit. */
static void build_big(struct ed_drift *d, size_t n)
{
	char key[64];
	memset(d, 0, sizeof(*d));
	d->ref = snap(1, "production", "p", "2024-05-01T00:00:00Z");
	d->cand = snap(2, "staging", "s", "2024-05-01T00:00:00Z");
	d->policy = "built-in default"; /* as diff and gate set it */
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/etc/conf.d/file-%06zu.conf", i);
		struct ed_drift_entry *e = add(d, "file", key, ED_CHANGED, ED_F_MODE, "block",
					       "no policy: all drift blocks");
		file_side(&e->ref, 0644, 1, 1);
		file_side(&e->cand, 0600, 1, 1);
	}
	d->changed = d->blocking = n;
}

/*
 * Renders d in format name; the caller frees *out. Through a temporary file,
 * not open_memstream(): glibc's memory streams drop a write whose buffer
 * cannot grow without setting the error flag, which would hide from the
 * allocation failure runs whether the renderer checks its writes.
 */

static enum ed_code render(const char *name, const struct ed_drift *d, bool show_ignored,
			   char **out, size_t *len)
{
	/* "text-diff": the text report with its unified diffs (diff --diff). */
	bool diffs = strcmp(name, "text-diff") == 0;
	const struct ed_report_ops *ops = ed_report_find(diffs ? "text" : name);
	struct ed_render_opts opts = {.show_ignored = show_ignored, .diffs = diffs};
	struct ed_err err = {0};
	static char iobuf[1 << 16]; /* stdio would allocate one at the first write */
	FILE *f = tmpfile();
	*out = NULL;
	*len = 0;
	if (!ops || !f || setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)) != 0) {
		if (f)
			fclose(f);
		return ED_NOTFOUND;
	}
	enum ed_code rc = ops->render(f, d, &opts, &err);
#ifdef ED_TEST_ALLOC_FAIL
	render_calls = alloc_calls; /* what reading back allocates is not the renderer's */
	long saved = fail_at;
	fail_at = 0;
#endif
	long size = ftell(f);
	if (fflush(f) != 0 || size < 0 || fseek(f, 0, SEEK_SET) != 0)
		rc = rc ? rc : ED_IO;
	if (!rc) {
		*out = malloc((size_t)size + 1);
		if (!*out || fread(*out, 1, (size_t)size, f) != (size_t)size) {
			rc = ED_IO;
		} else {
			(*out)[size] = '\0'; /* the checks below use string functions */
			*len = (size_t)size;
		}
	}
	fclose(f);
#ifdef ED_TEST_ALLOC_FAIL
	fail_at = saved;
#endif
	if (rc && !quiet)
		printf("# %s: %s\n", name, err.msg);
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	return buf;
}

/* Files: DIR/expected.EXT, and DIR/expected.show-ignored.EXT with show_ignored. */
static const struct {
	const char *format;
	const char *ext;
} formats[] = {
	{"text", "txt"},     {"json", "json"},   {"junit", "junit.xml"},
	{"sarif", "sarif"},  {"markdown", "md"}, {"html", "html"},
	{"text-diff", "diff.txt"},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static int run(int argc, char **argv)
{
	struct ed_drift d;
	if (argc >= 3 && strcmp(argv[1], "--dump") == 0) {
		char *out = NULL;
		size_t len = 0;
		build_kept(&d);
		enum ed_code rc = render(argv[2], &d, argc > 3, &out, &len);
		if (!rc)
			fwrite(out, 1, len, stdout);
		free(out);
		ed_drift_release(&d);
		return rc ? 2 : 0;
	}
	if (argc != 2) {
		fputs("usage: render DIR | render --dump FORMAT [--show-ignored]\n", stderr);
		return 2;
	}
	const char *dir = argv[1];
	bool update = getenv("GOLDEN_UPDATE") && *getenv("GOLDEN_UPDATE");

	build_kept(&d);
	for (size_t i = 0; i < NFORMATS; i++) {
		for (int show = 0; show <= 1; show++) {
			char path[4096], *out = NULL, *want = NULL;
			size_t len = 0, wlen = 0;
			snprintf(path, sizeof(path), "%s/expected%s.%s", dir,
				 show ? ".show-ignored" : "", formats[i].ext);
			enum ed_code rc = render(formats[i].format, &d, show, &out, &len);
			ok(rc == ED_OK, "%s%s renders", formats[i].format, show ? " --show-ignored" : "");
			if (update) {
				FILE *f = fopen(path, "wb");
				bool w = f && fwrite(out, 1, len, f) == len;
				if (f && fclose(f) != 0)
					w = false;
				ok(w, "%s%s # updated %s", formats[i].format,
				   show ? " --show-ignored" : "", path);
			} else {
				want = slurp(path, &wlen);
				bool same = want && wlen == len && memcmp(want, out, len) == 0;
				ok(same, "%s%s matches %s", formats[i].format,
				   show ? " --show-ignored" : "", path);
				if (!same)
					printf("#   %s (GOLDEN_UPDATE=1 rewrites it; review the diff)\n",
					       want ? "differs" : "missing");
			}
			/* What must hold whatever the golden files say. */
			if (out && strcmp(formats[i].format, "sarif") == 0)
				ok(strstr(out, "\"name\": \"envdrift\",\n          \"version\": \"" ENVDRIFT_VERSION "\"") &&
				   !strstr(out, "all drift blocks"),
				   "sarif: the driver names its version; no rule help says all drift blocks");
			if (out) {
				const char *f = formats[i].format;
				bool shows = strcmp(f, "text") != 0 && strcmp(f, "json") != 0 &&
					     strcmp(f, "sarif") != 0;
				ok(!strstr(out, "worker_processes 2;") == !shows,
				   "%s: the unified diff of kept content is %s", f,
				   shows ? "shown" : "not shown");
			}
			if (out && strncmp(formats[i].format, "text", 4) == 0) {
				ok(strstr(out, "] /etc/app/config.json#/db/password") &&
				   strstr(out, " [block] ") && strstr(out, " [warn] "),
				   "%s: every line says its verdict, blocking ones too", formats[i].format);
				ok(!strstr(out, "hostname") ||
				   strstr(out, "[ignored] /etc/hostname  content differs  (ignored: differs per host)"),
				   "%s: an ignored line gives the policy's reason", formats[i].format);
				bool diffs = strcmp(formats[i].format, "text-diff") == 0;
				ok(!strstr(out, "\n      @@ -") == !diffs && !strstr(out, "\n      +++ staging ") == !diffs,
				   "%s: unified diffs %s", formats[i].format, diffs ? "shown" : "only with --diff");
			}
			if (out && strncmp(formats[i].format, "text", 4) != 0 &&
			    strcmp(formats[i].format, "json") != 0) {
				ok(strstr(out, "hostname") ? show : !show,
				   "%s: an ignored entry is listed only with show_ignored",
				   formats[i].format);
				ok(strstr(out, "issue.net") != NULL, "%s: the expired rule is listed",
				   formats[i].format);
				ok(strstr(out, "stag-web2") != NULL, "%s: the snowflake is listed",
				   formats[i].format);
			}
			free(out);
			free(want);
		}
	}
	ed_drift_release(&d);

	/*
	 * The same drift written out to a spill file, its kept texts read as
	 * each entry is reached: every format gives the same bytes.
	 */
	for (size_t i = 0; i < NFORMATS && !update; i++) {
		for (int show = 0; show <= 1; show++) {
			char path[4096], *out = NULL, *want = NULL;
			size_t len = 0, wlen = 0;
			struct ed_err err = {0};
			build(&d);
			size_t n = d.n;
			enum ed_code rc = ed_drift_spill_entries(&d, &err);
			ok(rc == ED_OK && ed_drift_spilled(&d) == n && d.n == n,
			   "%s%s: the %zu entries spilled", formats[i].format,
			   show ? " --show-ignored" : "", n);
			ed_drift_kept_lazily(&d, store, show);
			snprintf(path, sizeof(path), "%s/expected%s.%s", dir,
				 show ? ".show-ignored" : "", formats[i].ext);
			rc = rc ? rc : render(formats[i].format, &d, show, &out, &len);
			want = slurp(path, &wlen);
			ok(rc == ED_OK && want && wlen == len && memcmp(want, out, len) == 0,
			   "%s%s, spilled: matches %s", formats[i].format,
			   show ? " --show-ignored" : "", path);
			free(out);
			free(want);
			ed_drift_release(&d);
		}
	}

#ifdef ED_TEST_ALLOC_FAIL
	/*
	 * Fail each allocation in turn until a render completes. A render that
	 * survives a failed allocation (report_json.c parses text again that
	 * jansson refused for want of memory) must give the whole report. Then
	 * the same drift spilled, its kept texts read as each entry is reached.
	 */
	quiet = true;
	for (int spilled = 0; spilled <= 1; spilled++) {
		const char *how = spilled ? ", spilled" : "";
		if (!spilled) {
			build_kept(&d);
		} else {
			struct ed_err err = {0};
			build(&d);
			if (ed_drift_spill_entries(&d, &err)) {
				printf("Bail out! %s\n", err.msg);
				exit(2);
			}
			ed_drift_kept_lazily(&d, store, true);
		}
		for (size_t i = 0; i < NFORMATS; i++) {
			long runs = 0, wrong = 0, leaks = 0;
			char *full = NULL;
			size_t full_len = 0;
			fail_at = 0;
			if (render(formats[i].format, &d, true, &full, &full_len) != ED_OK) {
				fputs("Bail out! a render without failures failed\n", stdout);
				exit(2);
			}
			for (fail_at = 1;; fail_at++) {
				char *out = NULL;
				size_t len = 0;
				long before = live;
				alloc_calls = 0;
				enum ed_code rc = render(formats[i].format, &d, true, &out, &len);
				bool injected = render_calls >= fail_at;
				bool same = rc == ED_OK && len == full_len && memcmp(out, full, len) == 0;
				free(out);
				if (live != before && leaks++ < 3)
					printf("#   %s: allocation %ld failing leaks %ld blocks\n",
					       formats[i].format, fail_at, live - before);
				runs++;
				if (injected && rc == ED_OK && !same && wrong++ < 3) /* unnoticed: wrong output */
					printf("#   %s: allocation %ld failed, yet the render succeeded\n",
					       formats[i].format, fail_at);
				if (alloc_calls < fail_at)
					break;
				if (fail_at > 100000) {
					wrong++;
					break;
				}
			}
			fail_at = 0;
			free(full);
			ok(wrong == 0,
			   "%s%s: each of %ld allocations failing in turn gives an error or the whole report, then success",
			   formats[i].format, how, runs - 1);
			ok(leaks == 0, "%s%s: and frees everything it allocated", formats[i].format, how);
		}
		ed_drift_release(&d);
	}
	quiet = false;
#endif

	/* 5000 entries: the Markdown report stays a postable comment. */
	char *out = NULL;
	size_t len = 0;
	build_big(&d, 5000);
	ok(render("markdown", &d, false, &out, &len) == ED_OK, "markdown renders 5000 entries");
	ok(len < 65536, "  in fewer than 65536 bytes (%zu)", len);
	ok(out && strstr(out, "rows are not listed to keep this comment under"),
	   "  and says how many rows it left out");
	ok(out && strstr(out, "| **total** | **0** | **0** | **5000** | **5000** |"),
	   "  while the summary still counts them all");
	free(out);

	/* 60 snowflakes: the text report lists 50, and says how many more JSON lists. */
	d.snowflakes = calloc(60, sizeof(*d.snowflakes));
	for (size_t i = 0; d.snowflakes && i < 60; i++) {
		char host[32];
		snprintf(host, sizeof(host), "web-%03zu", i);
		struct ed_snowflake *f = &d.snowflakes[d.nsnowflakes++];
		f->env = xdup("production");
		f->role = xdup("web");
		f->host = xdup(host);
		f->kind = xdup("config");
		f->key = xdup("/etc/app/app.conf#workers");
		f->value = xdup("8");
		f->majority_value = xdup("4");
	}
	out = NULL;
	ok(render("text", &d, false, &out, &len) == ED_OK && out, "text renders 60 snowflakes");
	ok(out && strstr(out, "snowflakes (60)") && strstr(out, "web-049") && !strstr(out, "web-050") &&
		   strstr(out, "  ... and 10 more (--format json lists every one)\n"),
	   "  it counts 60, lists the first 50 and says 10 more are left out");
	free(out);
	out = NULL;
	ok(render("json", &d, false, &out, &len) == ED_OK && out && strstr(out, "web-059"),
	   "  JSON lists every one");
	free(out);
	ed_drift_release(&d);
	return tap_done();
}

int main(int argc, char **argv)
{
	char dir[1024];
	int status;
	store = make_store(dir, sizeof(dir));
	status = run(argc, argv);
	remove_store(store, dir);
	return status;
}
