/* SPDX-License-Identifier: MIT */
/*
 * Package collectors apk, rpm, pypi and npm: an apk installed database
 * written to the documented format after a real Alpine one, a real rpm
 * database built here with Debian's rpm tools, this machine's Python
 * dist-info folders checked against importlib.metadata, and lock files and a
 * global node_modules written by npm, checked against `npm ls`.
 * Usage: test_pkg [DATADIR] (default: $SRCDIR/tests/data, else tests/data beside
 * this file).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/pkg.h"
#include "ed/source.h"
#include "ed/vendor.h"
#include "sink_mem.h"
#include "tap.h"

static char data_dir[4096];
static char tmp_root[256];

/* --- helpers --- */

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(99);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct ed_buf b = ED_BUF_INIT;
	char chunk[65536];
	size_t got;
	if (!f)
		return NULL;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ed_buf_add(&b, chunk, got))
			die("out of memory");
	fclose(f);
	if (len)
		*len = b.len;
	if (!b.p && ed_buf_adds(&b, ""))
		die("out of memory");
	return ed_buf_detach(&b);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

static void put(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		die("command too long");
	fflush(stdout);
	int st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Runs a shell command and returns its standard output (caller frees), or NULL. */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	char cmd[8192], chunk[4096];
	struct ed_buf b = ED_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		die("command too long");
	fflush(stdout);
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
		if (ed_buf_add(&b, chunk, got))
			die("out of memory");
	int st = pclose(p);
	if (st != 0) {
		ed_buf_release(&b);
		return NULL;
	}
	if (!b.p && ed_buf_adds(&b, ""))
		die("out of memory");
	return ed_buf_detach(&b);
}

static bool have(const char *prog)
{
	return sh("command -v %s >/dev/null 2>&1", prog) == 0;
}

/* A fresh folder under the test's temporary root. */
static void tmp_path(char *out, size_t n, const char *name)
{
	int w = snprintf(out, n, "%s/%s", tmp_root, name);
	if (w < 0 || (size_t)w >= n)
		die("path too long");
}

static bool fp_of_is(const struct ed_fp *fp, const char *text)
{
	struct ed_fp want;
	ed_fp_of(text, strlen(text), &want);
	return memcmp(fp->b, want.b, ED_FP_LEN) == 0;
}

static void print_warnings(const struct mem_sink *ms)
{
	for (size_t i = 0; i < ms->nwarnings; i++)
		printf("#   warning: %s\n", ms->warnings[i]);
}

/* "KEY VALUE\n" per item, in emission order (caller frees). */
static char *listing(const struct mem_sink *ms, const char *strip_prefix)
{
	struct ed_buf b = ED_BUF_INIT;
	size_t skip = strip_prefix ? strlen(strip_prefix) : 0;
	for (size_t i = 0; i < ms->n; i++) {
		const char *k = ms->items[i].key;
		if (skip && strncmp(k, strip_prefix, skip) == 0)
			k += skip;
		const char *v = ms->items[i].value ? ms->items[i].value : "(null)";
		if (ed_buf_addf(&b, "%s %s\n", k, v))
			die("out of memory");
	}
	if (!b.p && ed_buf_adds(&b, ""))
		die("out of memory");
	return ed_buf_detach(&b);
}

static bool keys_sorted(const struct mem_sink *ms)
{
	for (size_t i = 1; i < ms->n; i++)
		if (strcmp(ms->items[i - 1].key, ms->items[i].key) >= 0)
			return false;
	return true;
}

static struct ed_source *local_src(const char *root)
{
	struct ed_source *src = NULL;
	struct ed_err err = {0};
	if (ed_source_local_new(root, &src, &err) != ED_OK) {
		printf("Bail out! %s\n", err.msg);
		exit(99);
	}
	return src;
}

/* --- apk --- */

#define APK_ORIGIN "/lib/apk/db/installed"

static enum ed_code apk_parse(const char *s, size_t len, struct mem_sink *ms)
{
	struct ed_err err = {0};
	mem_sink_init(ms);
	return ed_apk_parse(ed_str_of(s, len), APK_ORIGIN, &ms->sink, &err);
}

static size_t count_lines_starting(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, prefix, len) == 0)
			n++;
	}
	return n;
}

static void test_apk_sample(void)
{
	char path[4200];
	size_t len;
	struct mem_sink ms;
	snprintf(path, sizeof(path), "%s/apk-installed", data_dir);
	char *text = slurp(path, &len);
	if (!text) {
		ok(0, "apk sample: read %s", path);
		return;
	}
	size_t want = count_lines_starting(text, "P:");
	is_int(apk_parse(text, len, &ms), ED_OK, "apk sample: parses");
	is_int(ms.n, want, "apk sample: one item per block (%zu)", want);
	is_int(ms.nwarnings, 0, "apk sample: no warnings");
	print_warnings(&ms);
	const struct mem_item *m = mem_sink_find(&ms, "apk:musl");
	ok(m && strcmp(m->value, "1.2.4_git20230717-r4") == 0 &&
		   strcmp(m->kind, ED_KIND_PACKAGE) == 0,
	   "apk sample: musl version exactly as written");
	ok(m && fp_of_is(&m->fp, "1.2.4_git20230717-r4\nx86_64"),
	   "apk sample: fingerprint of VERSION\\nARCH");
	is_str(m ? m->attrs : NULL, "{\"arch\":\"x86_64\",\"manager\":\"apk\"}",
	       "apk sample: attrs manager and arch");
	m = mem_sink_find(&ms, "apk:libc-utils");
	ok(m && strcmp(m->value, "0.7.2-r5") == 0, "apk sample: last block (ends in a blank line)");
	ok(mem_sink_find(&ms, "apk:ca-certificates-bundle") && mem_sink_find(&ms, "apk:ssl_client"),
	   "apk sample: names with '-' and '_'");
	mem_sink_release(&ms);
	free(text);
}

static void test_apk_collect(void)
{
	char root[4200], dbdir[4300], src_path[4200];
	struct mem_sink ms;
	struct ed_err err = {0};

	tmp_path(root, sizeof(root), "apk-root");
	snprintf(dbdir, sizeof(dbdir), "%s/lib/apk/db", root);
	snprintf(src_path, sizeof(src_path), "%s/apk-installed", data_dir);
	if (sh("mkdir -p '%s' && cp '%s' '%s/installed'", dbdir, src_path, dbdir) != 0)
		die("apk fixture");
	struct ed_source *src = local_src(root);
	mem_sink_init(&ms);
	is_int(ed_apk_collect(src, &ms.sink, &err), ED_OK, "apk collect: through the source");
	ok(ms.n == 15 && mem_sink_find(&ms, "apk:busybox-binsh") != NULL,
	   "apk collect: all 15 packages of the sample");
	mem_sink_release(&ms);
	ed_source_free(src);

	tmp_path(root, sizeof(root), "apk-empty");
	if (sh("mkdir -p '%s'", root) != 0)
		die("apk fixture");
	src = local_src(root);
	mem_sink_init(&ms);
	is_int(ed_apk_collect(src, &ms.sink, &err), ED_NOTFOUND,
	       "apk collect: no database is ED_NOTFOUND");
	ok(strstr(err.msg, "lib/apk/db/installed") != NULL, "apk collect: message names the path");
	mem_sink_release(&ms);
	ed_source_free(src);
}

static void test_apk_malformed(void)
{
	struct mem_sink ms;
	const char *t;

	t = "P:a\nV:1\nA:x86_64\n\ngarbage\nP:b\nV:2\n\nP:c\nV:3\nA:x86_64\n";
	apk_parse(t, strlen(t), &ms);
	ok(ms.n == 2 && mem_sink_find(&ms, "apk:a") && mem_sink_find(&ms, "apk:c"),
	   "apk malformed: a block with a bad line is skipped, the others kept");
	ok(mem_sink_warned(&ms, APK_ORIGIN ":5: line is not 'X:value'"),
	   "apk malformed: warning names origin and line");
	print_warnings(&ms);
	mem_sink_release(&ms);

	t = "P:a\nA:x86_64\n\nV:1\nA:x86_64\n\nP:\nV:1\n";
	apk_parse(t, strlen(t), &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":1: package block has no V (version) line") &&
		   mem_sink_warned(&ms, ":4: package block has no P (name) line") &&
		   mem_sink_warned(&ms, ":7: package block has no P (name) line"),
	   "apk malformed: missing or empty P and V warned at the block's first line");
	mem_sink_release(&ms);

	t = "P:a\nV:1\nV:2\n\nP:b\nV:1\n\nP:b\nV:2\n";
	apk_parse(t, strlen(t), &ms);
	ok(ms.n == 1 && strcmp(ms.items[0].key, "apk:b") == 0 &&
		   strcmp(ms.items[0].value, "1") == 0,
	   "apk malformed: duplicate field skips the block; second block of a name skipped");
	ok(mem_sink_warned(&ms, ":3: duplicate field V (version)") &&
		   mem_sink_warned(&ms, ":8: package 'b' already listed at line 5"),
	   "apk malformed: both warned with lines");
	mem_sink_release(&ms);

	static const char nul[] = "P:a\nV:1\0x\n\nP:b\nV:1\n";
	apk_parse(nul, sizeof(nul) - 1, &ms);
	ok(ms.n == 1 && mem_sink_warned(&ms, ":2: line holds a NUL byte"),
	   "apk malformed: NUL byte");
	mem_sink_release(&ms);

	t = "P:a:b\nV:1\n\nP:c\nV:1 2\n\nP:d\nV:1\nA:x86\xff\n\nP:e\nV:\x01\n\nP:f\nV:2:1.0\n";
	apk_parse(t, strlen(t), &ms);
	ok(ms.n == 1 && mem_sink_find(&ms, "apk:f") && ms.nwarnings == 4,
	   "apk malformed: ':' in name, space, bad UTF-8, control skipped; ':' in version kept");
	ok(mem_sink_warned(&ms, ":1: field P (name) holds a character not allowed there") &&
		   mem_sink_warned(&ms, ":7: field A (architecture) is not valid UTF-8"),
	   "apk malformed: warnings name the field");
	print_warnings(&ms);
	mem_sink_release(&ms);

	t = "P:noarch\r\nV:1.0-r0\r\n\r\nP:x\nV:2";
	apk_parse(t, strlen(t), &ms);
	ok(ms.n == 2 && strcmp(ms.items[0].value, "1.0-r0") == 0 &&
		   strcmp(ms.items[0].attrs, "{\"manager\":\"apk\"}") == 0 &&
		   fp_of_is(&ms.items[0].fp, "1.0-r0\n") && strcmp(ms.items[1].value, "2") == 0,
	   "apk: CRLF, no A line (attrs without arch), no final newline");
	mem_sink_release(&ms);

	apk_parse("", 0, &ms);
	ok(ms.n == 0 && ms.nwarnings == 0, "apk: empty database, no items, no warnings");
	mem_sink_release(&ms);
	apk_parse("\n\n\n", 3, &ms);
	ok(ms.n == 0 && ms.nwarnings == 0, "apk: blank lines only");
	mem_sink_release(&ms);

	struct ed_buf b = ED_BUF_INIT;
	for (int i = 0; i < 300; i++)
		if (ed_buf_adds(&b, "junk\n\n"))
			die("out of memory");
	apk_parse(b.p, b.len, &ms);
	ok(ms.nwarnings == 101 && strstr(ms.warnings[100], "further warnings suppressed"),
	   "apk: warnings capped at 100 plus one");
	mem_sink_release(&ms);
	ed_buf_release(&b);

	struct ed_err err = {0};
	t = "P:a\nV:1\n\nP:b\nV:1\n\nP:c\nV:1\n";
	mem_sink_init(&ms);
	ms.fail_after = 2;
	is_int(ed_apk_parse(ed_str_of(t, strlen(t)), APK_ORIGIN, &ms.sink, &err), ED_STORE,
	       "apk: a sink failure stops the parse with its code");
	is_int(ms.n, 1, "apk: items before the failure kept");
	mem_sink_release(&ms);
}

/* --- rpm --- */

#define RPM_ORIGIN "rpm -qa"

/* Lines as rpm prints them on a RHEL 9 host, with two kernels, two keys and multilib glibc. */
static const char rpm_sample[] =
	"bash\t(none)\t5.1.8\t9.el9\tx86_64\n"
	"kernel-core\t(none)\t5.14.0\t362.8.1.el9_3\tx86_64\n"
	"gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\n"
	"openssl-libs\t1\t3.0.7\t24.el9\tx86_64\n"
	"glibc\t(none)\t2.34\t83.el9_3.7\tx86_64\n"
	"kernel-core\t(none)\t5.14.0\t284.11.1.el9_2\tx86_64\n"
	"glibc\t(none)\t2.34\t83.el9_3.7\ti686\n"
	"gpg-pubkey\t(none)\t5a6340b3\t6229229e\t(none)\n"
	"tzdata\t(none)\t2023c\t1.el9\tnoarch\n"
	"shadow-utils\t2\t4.9\t8.el9\tx86_64\n";

static enum ed_code rpm_parse(const char *s, size_t len, struct mem_sink *ms)
{
	struct ed_err err = {0};
	mem_sink_init(ms);
	return ed_rpm_parse(ed_str_of(s, len), RPM_ORIGIN, &ms->sink, &err);
}

static void test_rpm_parse(void)
{
	struct mem_sink ms;
	is_int(rpm_parse(rpm_sample, sizeof(rpm_sample) - 1, &ms), ED_OK, "rpm parse: ED_OK");
	char *got = listing(&ms, NULL);
	is_str(got,
	       "rpm:bash.x86_64 5.1.8-9.el9\n"
	       "rpm:glibc.i686 2.34-83.el9_3.7\n"
	       "rpm:glibc.x86_64 2.34-83.el9_3.7\n"
	       "rpm:gpg-pubkey 5a6340b3-6229229e, fd431d51-4ae0493b\n"
	       "rpm:kernel-core.x86_64 5.14.0-284.11.1.el9_2, 5.14.0-362.8.1.el9_3\n"
	       "rpm:openssl-libs.x86_64 1:3.0.7-24.el9\n"
	       "rpm:shadow-utils.x86_64 2:4.9-8.el9\n"
	       "rpm:tzdata.noarch 2023c-1.el9\n",
	       "rpm parse: NAME.ARCH keys in order, epochs kept, versions of one key joined");
	free(got);
	is_int(ms.nwarnings, 0, "rpm parse: no warnings");
	const struct mem_item *m = mem_sink_find(&ms, "rpm:openssl-libs.x86_64");
	ok(m && fp_of_is(&m->fp, "1:3.0.7-24.el9\nx86_64"),
	   "rpm parse: fingerprint of VALUE\\nARCH");
	is_str(m ? m->attrs : NULL,
	       "{\"arch\":\"x86_64\",\"manager\":\"rpm\"}", "rpm parse: attrs");
	m = mem_sink_find(&ms, "rpm:gpg-pubkey");
	ok(m && strcmp(m->attrs, "{\"arch\":\"(none)\",\"manager\":\"rpm\"}") == 0 &&
		   fp_of_is(&m->fp, "5a6340b3-6229229e, fd431d51-4ae0493b\n(none)"),
	   "rpm parse: gpg-pubkey keyed without arch, arch (none) in attrs and fingerprint");
	mem_sink_release(&ms);

	static const char dup[] = "a\t(none)\t1\t1\tx86_64\na\t(none)\t1\t1\tx86_64\n";
	rpm_parse(dup, sizeof(dup) - 1, &ms);
	ok(ms.n == 1 && strcmp(ms.items[0].value, "1-1") == 0,
	   "rpm parse: the same version twice is listed once");
	mem_sink_release(&ms);

	static const char clash[] = "a.x86_64\t(none)\t1\t1\t(none)\na\t(none)\t2\t1\tx86_64\n";
	rpm_parse(clash, sizeof(clash) - 1, &ms);
	ok(ms.n == 1 && mem_sink_warned(&ms, "has the same key as line"),
	   "rpm parse: NAME.ARCH with arch (none) vs NAME + ARCH: one kept, the other warned");
	print_warnings(&ms);
	mem_sink_release(&ms);
}

static void test_rpm_malformed(void)
{
	struct mem_sink ms;
	static const char bad[] =
		"a\t(none)\t1\t1\n"                 /* 1: four columns */
		"b\t(none)\t1\t1\tx86_64\textra\n"  /* 2: six */
		"c\t\t1\t1\tx86_64\n"               /* 3: empty epoch */
		"d\tx1\t1\t1\tx86_64\n"             /* 4: epoch not digits */
		"e\t(none)\t1\t1\tx86.64\n"         /* 5: '.' in arch */
		"f\t(none)\t1 2\t1\tx86_64\n"       /* 6: space in version */
		"g\t(none)\t1\t1\xff\tx86_64\n"     /* 7: invalid UTF-8 */
		"h:i\t(none)\t1\t1\tx86_64\n"       /* 8: ':' in name */
		"\n"                                /* 9: empty line */
		"ok\t0\t1.0\t1\tnoarch\n";          /* 10: fine, epoch 0 kept */
	rpm_parse(bad, sizeof(bad) - 1, &ms);
	ok(ms.n == 1 && strcmp(ms.items[0].key, "rpm:ok.noarch") == 0 &&
		   strcmp(ms.items[0].value, "0:1.0-1") == 0,
	   "rpm malformed: only the good line emitted, epoch 0 kept as rpm prints it");
	is_int(ms.nwarnings, 9, "rpm malformed: one warning per bad line");
	ok(mem_sink_warned(&ms, RPM_ORIGIN ":1: line is not NAME, EPOCH, VERSION, RELEASE") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":2: line is not") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":3: column EPOCH is empty") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":4: column EPOCH holds a character") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":5: column ARCH holds a character") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":6: column VERSION holds a character") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":7: column RELEASE is not valid UTF-8") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":8: column NAME holds a character") &&
		   mem_sink_warned(&ms, RPM_ORIGIN ":9: line is not"),
	   "rpm malformed: warnings name origin, line and column");
	print_warnings(&ms);
	mem_sink_release(&ms);

	static const char nul[] = "a\t(none)\t1\0\t1\tx86_64\nb\t(none)\t1\t1\tx86_64";
	rpm_parse(nul, sizeof(nul) - 1, &ms);
	ok(ms.n == 1 && mem_sink_warned(&ms, ":1: line holds a NUL byte"),
	   "rpm malformed: NUL byte; last line without newline read");
	mem_sink_release(&ms);

	rpm_parse("", 0, &ms);
	ok(ms.n == 0 && ms.nwarnings == 0, "rpm: empty output, no items");
	mem_sink_release(&ms);

	struct ed_err err = {0};
	mem_sink_init(&ms);
	ms.fail_after = 3;
	struct ed_str sample = ed_str_of(rpm_sample, sizeof(rpm_sample) - 1);
	is_int(ed_rpm_parse(sample, RPM_ORIGIN, &ms.sink, &err),
	       ED_STORE, "rpm: sink failure returned");
	is_int(ms.n, 2, "rpm: stops at the failed item");
	mem_sink_release(&ms);
}

/*
 * A source that forwards to the local one but answers root_dir and run as a
 * test wants, and records the argv it was asked to run. dup is not
 * forwarded: nothing here calls it.
 */
struct fake_src {
	struct ed_source base;
	struct ed_source_ops ops;
	struct ed_source *inner;
	const char *root;     /* root_dir's answer; NULL: ED_UNSUPPORTED */
	enum ed_code run_rc;  /* run's return */
	int status;           /* exit status run reports */
	const char *output;   /* run's output; NULL: really run the program */
	char argv[2048];      /* the last argv, joined with spaces */
};

static struct fake_src *fake(struct ed_source *s)
{
	return (struct fake_src *)s;
}

static enum ed_code f_stat(struct ed_source *s, const char *p, struct ed_stat *st, struct ed_err *e)
{
	struct ed_source *in = fake(s)->inner;
	return in->ops->stat(in, p, st, e);
}

static enum ed_code f_open(struct ed_source *s, const char *p, struct ed_file **f, struct ed_err *e)
{
	struct ed_source *in = fake(s)->inner;
	return in->ops->open(in, p, f, e);
}

static enum ed_code f_list(struct ed_source *s, const char *p, char ***n, size_t *c,
			   struct ed_err *e)
{
	struct ed_source *in = fake(s)->inner;
	return in->ops->list(in, p, n, c, e);
}

static enum ed_code f_root_dir(struct ed_source *s, struct ed_buf *out, struct ed_err *e)
{
	if (!fake(s)->root)
		return ed_err_set(e, ED_UNSUPPORTED, "remote source: no local root");
	return ed_buf_adds(out, fake(s)->root) ? ED_NOMEM : ED_OK;
}

static enum ed_code f_run(struct ed_source *s, const char *const *argv, size_t max, int timeout_ms,
			  struct ed_buf *out, int *status, struct ed_err *e)
{
	struct fake_src *f = fake(s);
	size_t pos = 0;
	f->argv[0] = '\0';
	for (size_t i = 0; argv[i]; i++) {
		int n = snprintf(f->argv + pos, sizeof(f->argv) - pos,
	       "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(f->argv) - pos)
			break;
		pos += (size_t)n;
	}
	if (!f->output)
		return f->inner->ops->run(f->inner, argv, max, timeout_ms, out, status, e);
	if (f->run_rc != ED_OK)
		return ed_err_set(e, f->run_rc,
	       "%s: cannot run: No such file or directory", argv[0]);
	if (ed_buf_adds(out, f->output))
		return ED_NOMEM;
	*status = f->status;
	if (f->status)
		ed_err_set(e, ED_OK, "%s exited with status %d: error: boom", argv[0], f->status);
	return ED_OK;
}

static void f_free(struct ed_source *s)
{
	ed_source_free(fake(s)->inner);
	free(s);
}

static struct fake_src *fake_new(const char *root)
{
	struct fake_src *f = calloc(1, sizeof(*f));
	if (!f)
		die("out of memory");
	f->inner = local_src(root);
	f->ops = *f->inner->ops;
	f->ops.name = "fake";
	f->ops.stat = f_stat;
	f->ops.open = f_open;
	f->ops.list = f_list;
	f->ops.root_dir = f_root_dir;
	f->ops.run = f_run;
	f->ops.free = f_free;
	f->base.ops = &f->ops;
	return f;
}

static void test_rpm_collect_fake(void)
{
	char root[4200];
	struct mem_sink ms;
	struct ed_err err = {0};

	tmp_path(root, sizeof(root), "rpm-fake");
	if (sh("mkdir -p '%s/var/lib/rpm' '%s/usr/lib/sysimage/rpm'", root, root) != 0)
		die("rpm fixture");

	struct fake_src *f = fake_new(root);
	mem_sink_init(&ms);
	is_int(ed_rpm_collect(&f->base, &ms.sink, &err), ED_NOTFOUND,
	       "rpm collect: empty database folders (Debian's rpm makes one) are ED_NOTFOUND");
	ok(strstr(err.msg, "/var/lib/rpm") && f->argv[0] == '\0', "rpm collect: rpm not run then");
	mem_sink_release(&ms);

	char p[4400];
	snprintf(p, sizeof(p), "%s/usr/lib/sysimage/rpm/rpmdb.sqlite", root);
	put(p, "");
	f->root = "/mnt/image";
	f->output = rpm_sample;
	mem_sink_init(&ms);
	is_int(ed_rpm_collect(&f->base, &ms.sink, &err), ED_OK,
	       "rpm collect: database in /usr/lib/sysimage/rpm");
	is_str(f->argv,
	       "rpm --root /mnt/image --dbpath /usr/lib/sysimage/rpm -qa --queryformat "
	       "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n",
	       "rpm collect: argv with --root, --dbpath and the query format, no shell");
	is_int(ms.n, 8, "rpm collect: output parsed");
	mem_sink_release(&ms);

	f->root = "/";
	mem_sink_init(&ms);
	ed_rpm_collect(&f->base, &ms.sink, &err);
	ok(strncmp(f->argv, "rpm --dbpath /usr/lib/sysimage/rpm -qa", 38) == 0,
	   "rpm collect: no --root when the root is /");
	mem_sink_release(&ms);

	f->root = NULL;
	mem_sink_init(&ms);
	ed_rpm_collect(&f->base, &ms.sink, &err);
	ok(strncmp(f->argv, "rpm --dbpath", 12) == 0, "rpm collect: no --root for a remote source");
	mem_sink_release(&ms);

	f->status = 1;
	mem_sink_init(&ms);
	is_int(ed_rpm_collect(&f->base, &ms.sink, &err), ED_IO,
	       "rpm collect: non-zero exit is ED_IO");
	ok(strstr(err.msg, "rpm -qa (/usr/lib/sysimage/rpm)") && strstr(err.msg, "boom") &&
		   ms.n == 0,
	   "rpm collect: message names the query and quotes rpm's stderr; nothing emitted");
	mem_sink_release(&ms);

	f->status = 0;
	f->run_rc = ED_NOTFOUND;
	mem_sink_init(&ms);
	is_int(ed_rpm_collect(&f->base, &ms.sink, &err), ED_UNSUPPORTED,
	       "rpm collect: a database but no rpm program is ED_UNSUPPORTED, not 'absent'");
	ok(strstr(err.msg, "no rpm program") != NULL, "rpm collect: and says so");
	mem_sink_release(&ms);

	/* Hostile output: binary junk is warned about line by line, never trusted. */
	f->run_rc = ED_OK;
	f->output = "\x1b[31m\t\t\t\t\n\xff\xfe\t1\t2\t3\t4\nok\t(none)\t1\t1\tx86_64\n";
	mem_sink_init(&ms);
	is_int(ed_rpm_collect(&f->base, &ms.sink, &err), ED_OK,
	       "rpm collect: junk output is not fatal");
	ok(ms.n == 1 && ms.nwarnings == 2 &&
		   mem_sink_warned(&ms, "rpm -qa (/usr/lib/sysimage/rpm):2: column NAME is not"),
	   "rpm collect: junk lines warned with origin and line");
	print_warnings(&ms);
	mem_sink_release(&ms);

	/* /var/lib/rpm as a symlink (Fedora) is not followed; the real folder is used. */
	snprintf(p, sizeof(p), "%s/var/lib/rpm", root);
	if (sh("rmdir '%s' && ln -s ../../usr/lib/sysimage/rpm '%s'", p, p) != 0)
		die("rpm fixture");
	f->output = rpm_sample;
	mem_sink_init(&ms);
	ed_rpm_collect(&f->base, &ms.sink, &err);
	ok(strstr(f->argv, "--dbpath /usr/lib/sysimage/rpm ") != NULL,
	   "rpm collect: a symlinked /var/lib/rpm is skipped for the real folder");
	mem_sink_release(&ms);
	f->base.ops->free(&f->base);
}

static const char *const rpm_specs[][2] = {
	{"alpha", "Name: edtest-alpha\nEpoch: 2\nVersion: 1.2.3\nRelease: 4\n"},
	{"beta", "Name: edtest-beta\nVersion: 0.9\nRelease: 1\n"},
	{"multi1", "Name: edtest-multi\nVersion: 1.0\nRelease: 1\n"},
	{"multi2", "Name: edtest-multi\nVersion: 1.1\nRelease: 1\n"},
};

static void test_rpm_real(void)
{
	char dir[4200], root[4300], top[4300], p[4600];
	struct mem_sink ms;
	struct ed_err err = {0};

	if (!have("rpm") || !have("rpmbuild")) {
		ok(1, "# SKIP rpm not installed");
		return;
	}
	tmp_path(dir, sizeof(dir), "rpm-real");
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(top, sizeof(top), "%s/top", dir);
	if (sh("mkdir -p '%s/SPECS' '%s'", top, root) != 0)
		die("rpm fixture");

	bool built = true;
	for (size_t i = 0; i < sizeof(rpm_specs) / sizeof(rpm_specs[0]); i++) {
		snprintf(p, sizeof(p), "%s/SPECS/%s.spec", top, rpm_specs[i][0]);
		struct ed_buf spec = ED_BUF_INIT;
		if (ed_buf_adds(&spec, rpm_specs[i][1]) ||
		    ed_buf_adds(&spec, "Summary: envdrift test package\nLicense: MIT\n"
				       "BuildArch: noarch\n%description\nenvdrift test package\n"))
			die("out of memory");
		/* beta carries one file, so the database holds a file list too. */
		if (strcmp(rpm_specs[i][0], "beta") == 0
			    ? ed_buf_adds(&spec, "%install\nmkdir -p %{buildroot}/etc\n"
						 "echo 'x = 1' > %{buildroot}/etc/edtest-beta.conf\n"
						 "%files\n/etc/edtest-beta.conf\n")
			    : ed_buf_adds(&spec, "%files\n"))
			die("out of memory");
		put(p, spec.p);
		ed_buf_release(&spec);
		if (sh("rpmbuild --define '_topdir %s' -bb '%s' >'%s/build.log' 2>&1", top, p,
		       dir)) {
			built = false;
			sh("sed 's/^/#   /' '%s/build.log'", dir);
		}
	}
	ok(built, "rpm real: rpmbuild made 4 packages");

	bool installed = true;
	static const char *const files[] = {"edtest-alpha-1.2.3-4", "edtest-beta-0.9-1",
					    "edtest-multi-1.0-1", "edtest-multi-1.1-1"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && built; i++)
		if (sh("rpm --root '%s' --dbpath /var/lib/rpm --nodeps --ignorearch --noscripts -i "
		       "'%s/RPMS/noarch/%s.noarch.rpm' >'%s/install.log' 2>&1",
		       root, top, files[i], dir) != 0) {
			installed = false;
			sh("sed 's/^/#   /' '%s/install.log'", dir);
		}
	/* Two OpenPGP public keys make two gpg-pubkey headers with arch (none). */
	for (int k = 1; k <= 2 && built; k++)
		if (sh("rpm --root '%s' --dbpath /var/lib/rpm --import '%s/rpm-key%d.asc' "
		       ">'%s/install.log' 2>&1", root, data_dir, k, dir) != 0) {
			installed = false;
			sh("sed 's/^/#   /' '%s/install.log'", dir);
		}
	ok(installed, "rpm real: installed into a database under %s", root);
	if (!built || !installed)
		return;

	struct ed_source *src = local_src(root);
	mem_sink_init(&ms);
	is_int(ed_rpm_collect(src, &ms.sink, &err), ED_OK,
	       "rpm real: collected through the source");
	if (err.msg[0])
		printf("#   %s\n", err.msg);
	char *got = listing(&ms, NULL);
	is_str(got,
	       "rpm:edtest-alpha.noarch 2:1.2.3-4\n"
	       "rpm:edtest-beta.noarch 0.9-1\n"
	       "rpm:edtest-multi.noarch 1.0-1, 1.1-1\n"
	       "rpm:gpg-pubkey cf38f1d7-6b07f17d, e2a9b698-6b07f17d\n",
	       "rpm real: epoch kept, both edtest-multi versions in one item, gpg-pubkey");
	free(got);
	is_int(ms.nwarnings, 0, "rpm real: no warnings");
	print_warnings(&ms);

	/* rpm's own count of installed headers: 4 packages + 2 keys. */
	char *q = sh_out("rpm --root '%s' --dbpath /var/lib/rpm -qa 2>/dev/null | wc -l", root);
	ok(q && atoi(q) == 6, "rpm real: rpm -qa lists 6 headers, folded into %zu items", ms.n);
	free(q);
	mem_sink_release(&ms);
	ed_source_free(src);
}

/* --- pypi --- */

static enum ed_code meta(const char *text, struct ed_buf *name, struct ed_buf *ver,
			 struct ed_err *err)
{
	ed_buf_reset(name);
	ed_buf_reset(ver);
	return ed_pypi_metadata_parse(ed_str_of(text, strlen(text)), "x.dist-info/METADATA", name,
				      ver, err);
}

static void test_pypi_metadata(void)
{
	struct ed_buf name = ED_BUF_INIT, ver = ED_BUF_INIT, n = ED_BUF_INIT;
	struct ed_err err = {0};

	is_int(meta("Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\nSummary: YAML parser\n"
		    "Classifier: A\n  folded\n\nName: not-a-header\n",
		    &name, &ver, &err),
	       ED_OK, "pypi metadata: parses");
	ok(strcmp(ed_buf_str(&name), "PyYAML") == 0 && strcmp(ed_buf_str(&ver), "6.0") == 0,
	   "pypi metadata: Name and Version; the body after the blank line ignored");
	is_int(meta("name:  a_b \r\nVERSION:\t1.0.post1+local \r\n", &name, &ver, &err), ED_OK,
	       "pypi metadata: header names any case, CRLF, no body");
	ok(strcmp(name.p, "a_b") == 0 && strcmp(ver.p, "1.0.post1+local") == 0,
	   "pypi metadata: values trimmed, version exactly as written");

	static const char *const bad[][2] = {
		{"Metadata-Version: 2.1\nVersion: 1\n", ":2: no 'Name' header"},
		{"Name: a\n\nVersion: 1\n", ":2: no 'Version' header"},
		{"Name: a\nVersion: 1\nVersion: 2\n", ":3: header 'Version' repeated"},
		{"Name: a\nVersion: 1\n 2\n", ":3: header 'Version' continues on a second line"},
		{" Name: a\nVersion: 1\n", ":1: continuation line before any header"},
		{"Name: a\nthis is not a header\nVersion: 1\n", ":2: line is not 'Header: value'"},
		{"Name: my package\nVersion: 1\n", ":1: Name is not a valid distribution name"},
		{"Name: -a\nVersion: 1\n", ":1: Name is not a valid distribution name"},
		{"Name: a\nVersion:\n", ":2: header 'Version' is empty"},
		{"Name: a\nVersion: 1 2\n", ":2: Version holds a space"},
		{"Name: a\nVersion: 1\xff\n", ":2: Version holds a space"},
		{"", ":1: no 'Name' header"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		enum ed_code rc = meta(bad[i][0], &name, &ver, &err);
		ok(rc == ED_PARSE && strncmp(err.msg, "x.dist-info/METADATA", 20) == 0 &&
			   strstr(err.msg, bad[i][1]) && name.len == 0,
		   "pypi metadata malformed %zu: ED_PARSE '%s'", i, bad[i][1]);
		if (rc != ED_PARSE || !strstr(err.msg, bad[i][1]))
			printf("#   got %d '%s'\n", rc, err.msg);
	}
	static const char nul[] = "Name: a\nVer\0sion: 1\n";
	ed_buf_reset(&name);
	ok(ed_pypi_metadata_parse(ed_str_of(nul, sizeof(nul) - 1), "m", &name, &ver, &err) ==
			   ED_PARSE && strstr(err.msg, "m:2: line holds a NUL byte"),
	   "pypi metadata: NUL byte");

	static const char *const norm[][2] = {
		{"Foo.Bar__baz", "foo-bar-baz"}, {"lazr.restfulclient", "lazr-restfulclient"},
		{"python_apt", "python-apt"},    {"A-_.-B", "a-b"},
		{"PyYAML", "pyyaml"},
	};
	for (size_t i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
		ed_buf_reset(&n);
		ok(ed_pypi_normalize(norm[i][0], strlen(norm[i][0]), &n) == 0 &&
			   strcmp(ed_buf_str(&n), norm[i][1]) == 0,
		   "pypi normalize: %s -> %s", norm[i][0], norm[i][1]);
	}
	ed_buf_release(&name);
	ed_buf_release(&ver);
	ed_buf_release(&n);
}

/* "name versions\n" lines as importlib.metadata sees the folders, grouped as we group. */
static char *python_view(const char *folders)
{
	return sh_out("python3 -c '"
		      "import importlib.metadata as m, re, sys\n"
		      "d = {}\n"
		      "for x in m.distributions(path=sys.argv[1:]):\n"
		      "    if not x.metadata[\"Name\"]: continue\n"
		      "    n = re.sub(r\"[-_.]+\", \"-\", x.metadata[\"Name\"]).lower()\n"
		      "    d.setdefault(n, set()).add(x.version)\n"
		      "for n in sorted(d): print(n, \", \".join(sorted(d[n])))\n"
		      "' %s",
		      folders);
}

static enum ed_code pypi_collect(struct ed_source *src, const char *const *dirs, size_t n,
				 struct mem_sink *ms, struct ed_err *err)
{
	mem_sink_init(ms);
	return ed_pypi_collect(src, dirs, n, &ms->sink, err);
}

static void test_pypi_real(void)
{
	const char *sys_dir = "/usr/lib/python3/dist-packages";
	char root[4200], site[4300];
	struct mem_sink ms;
	struct ed_err err = {0};
	bool py = have("python3");

	/* Three real distributions of this machine copied into a fixture root. */
	char *picks = sh_out("cd '%s' 2>/dev/null && { ls -d *.dist-info | head -2; "
			     "for e in *.egg-info; do [ -d \"$e\" ] && echo \"$e\" && break; done; }",
			     sys_dir);
	size_t npicks = 0;
	for (const char *p = picks; p && *p; p++)
		npicks += *p == '\n';
	if (!picks || npicks < 3) {
		ok(1, "# SKIP fewer than 3 dist-info/egg-info folders in %s", sys_dir);
		free(picks);
		return;
	}
	tmp_path(root, sizeof(root), "pypi-root");
	snprintf(site, sizeof(site), "%s/usr/lib/python3/dist-packages", root);
	if (sh("mkdir -p '%s'", site) != 0)
		die("pypi fixture");
	for (char *line = picks, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (sh("cp -r '%s/%s' '%s/'", sys_dir, line, site) != 0)
			die("pypi fixture copy");
		printf("# copied %s\n", line);
	}
	free(picks);

	struct ed_source *src = local_src(root);
	is_int(pypi_collect(src, NULL, 0, &ms, &err), ED_OK,
	       "pypi real: found the copied folder by itself (/usr/lib/python3*/dist-packages)");
	is_int(ms.n, 3, "pypi real: 3 distributions");
	is_int(ms.nwarnings, 0, "pypi real: no warnings");
	print_warnings(&ms);
	ok(keys_sorted(&ms), "pypi real: items in key order");
	ok(ms.n &&
		   strcmp(ms.items[0].attrs, "{\"location\":\"/usr/lib/python3/dist-packages\","
					     "\"manager\":\"pypi\"}") == 0 &&
		   fp_of_is(&ms.items[0].fp, ms.items[0].value),
	   "pypi real: attrs location, fingerprint of the version");
	char *ours = listing(&ms, "pypi:");
	mem_sink_release(&ms);
	if (py) {
		char *theirs = python_view(site);
		is_str(ours, theirs, "pypi real: equal to importlib.metadata on the fixture");
		free(theirs);
	} else {
		ok(1, "# SKIP python3 not installed");
	}
	free(ours);
	ed_source_free(src);

	/* This machine's whole system folder, read in place. */
	src = local_src("/");
	const char *dirs[] = {sys_dir};
	is_int(pypi_collect(src, dirs, 1, &ms, &err), ED_OK,
	       "pypi real: %s read in place", sys_dir);
	ours = listing(&ms, "pypi:");
	printf("# %zu distributions in %s\n", ms.n, sys_dir);
	print_warnings(&ms);
	mem_sink_release(&ms);
	if (py) {
		char *theirs = python_view(sys_dir);
		is_str(ours, theirs, "pypi real: equal to importlib.metadata on %s", sys_dir);
		free(theirs);
	} else {
		ok(1, "# SKIP python3 not installed");
	}
	free(ours);
	ed_source_free(src);
}

static void test_pypi_fixture(void)
{
	char root[4200], a[4300], b[4300], p[4600];
	struct mem_sink ms;
	struct ed_err err = {0};

	tmp_path(root, sizeof(root), "pypi-fixture");
	snprintf(a, sizeof(a), "%s/usr/lib/python3/dist-packages", root);
	snprintf(b, sizeof(b), "%s/usr/local/lib/python3.11/site-packages", root);
	if (sh("mkdir -p '%s/Demo_Pkg-1.0.dist-info' '%s/demo.pkg-2.0.dist-info' "
	       "'%s/broken-1.dist-info' '%s/nometa-1.dist-info' '%s/old_egg-0.5.egg-info'",
	       a, b, a, a, b) != 0)
		die("pypi fixture");
	snprintf(p, sizeof(p), "%s/Demo_Pkg-1.0.dist-info/METADATA", a);
	put(p, "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\n\nbody\n");
	snprintf(p, sizeof(p), "%s/demo.pkg-2.0.dist-info/METADATA", b);
	put(p, "Metadata-Version: 2.1\nName: demo.pkg\nVersion: 2.0\n");
	snprintf(p, sizeof(p), "%s/broken-1.dist-info/METADATA", a);
	put(p, "Metadata-Version: 2.1\nVersion: 1\n");
	snprintf(p, sizeof(p), "%s/old_egg-0.5.egg-info/PKG-INFO", b);
	put(p, "Metadata-Version: 1.0\nName: old_egg\nVersion: 0.5\nDescription: one\n"
	       "        two\n");
	snprintf(p, sizeof(p), "%s/single-3.egg-info", a);
	put(p, "Metadata-Version: 1.1\nName: single\nVersion: 3\n");
	snprintf(p, sizeof(p), "%s/file-1.dist-info", b);
	put(p, "not a folder\n");

	struct ed_source *src = local_src(root);
	is_int(pypi_collect(src, NULL, 0, &ms, &err), ED_OK, "pypi fixture: collected");
	char *got = listing(&ms, NULL);
	is_str(got, "pypi:demo-pkg 1.0, 2.0\npypi:old-egg 0.5\npypi:single 3\n",
	       "pypi fixture: names normalised, two installs in one item, egg-info folder, file");
	free(got);
	const struct mem_item *m = mem_sink_find(&ms, "pypi:demo-pkg");
	is_str(m ? m->attrs : NULL,
	       "{\"location\":\"/usr/lib/python3/dist-packages, "
	       "/usr/local/lib/python3.11/site-packages\",\"manager\":\"pypi\"}",
	       "pypi fixture: both folders named in location");
	ok(m && fp_of_is(&m->fp, "1.0, 2.0"), "pypi fixture: fingerprint of the joined value");
	ok(ms.nwarnings == 3 &&
		   mem_sink_warned(&ms, "/usr/lib/python3/dist-packages/broken-1.dist-info/"
					"METADATA:2: no 'Name' header") &&
		   mem_sink_warned(&ms, "/usr/lib/python3/dist-packages/nometa-1.dist-info/"
					"METADATA") &&
		   mem_sink_warned(&ms, "file-1.dist-info: not a folder"),
	   "pypi fixture: broken metadata, missing METADATA and a file .dist-info warned");
	print_warnings(&ms);
	mem_sink_release(&ms);

	if (have("python3")) {
		char both[9000];
		snprintf(both, sizeof(both), "'%s' '%s'", a, b);
		char *theirs = python_view(both);
		ok(theirs && strstr(theirs, "demo-pkg 1.0, 2.0\n") &&
			   strstr(theirs, "old-egg 0.5\n") &&
			   strstr(theirs, "single 3\n"),
		   "pypi fixture: importlib.metadata agrees on the good ones");
		free(theirs);
	} else {
		ok(1, "# SKIP python3 not installed");
	}

	/* Headers longer than the cap: skipped with a warning, memory bounded. */
	snprintf(p, sizeof(p), "%s/huge-1.dist-info", a);
	if (sh("mkdir -p '%s'", p) != 0)
		die("pypi fixture");
	snprintf(p, sizeof(p), "%s/huge-1.dist-info/METADATA", a);
	struct ed_buf big = ED_BUF_INIT;
	if (ed_buf_adds(&big, "Name: huge\nVersion: 1\n"))
		die("out of memory");
	while (big.len < ED_PYPI_HEAD_MAX + 10)
		if (ed_buf_adds(&big, "Classifier: x\n"))
			die("out of memory");
	write_file(p, big.p, big.len);
	ed_buf_release(&big);
	const char *dirs[] = {"/usr/lib/python3/dist-packages", "/nonexistent"};
	is_int(pypi_collect(src, dirs, 2, &ms, &err), ED_OK, "pypi named folders: collected");
	ok(mem_sink_warned(&ms, "huge-1.dist-info/METADATA: headers longer than") &&
		   !mem_sink_find(&ms, "pypi:huge"),
	   "pypi: headers over the cap skipped with a warning");
	ok(mem_sink_warned(&ms, "/nonexistent") && mem_sink_find(&ms, "pypi:single"),
	   "pypi: a named folder that does not exist is a warning");
	mem_sink_release(&ms);

	const char *none[] = {"/nope", "/nope2"};
	is_int(pypi_collect(src, none, 2, &ms, &err), ED_NOTFOUND,
	       "pypi: none of the named folders exists: ED_NOTFOUND");
	mem_sink_release(&ms);
	ed_source_free(src);

	tmp_path(root, sizeof(root), "pypi-none");
	if (sh("mkdir -p '%s/usr/lib/python3.11'", root) != 0)
		die("pypi fixture");
	src = local_src(root);
	is_int(pypi_collect(src, NULL, 0, &ms, &err), ED_NOTFOUND,
	       "pypi: no site-packages anywhere: ED_NOTFOUND");
	mem_sink_release(&ms);
	ed_source_free(src);
}

/* --- npm --- */

static char npm_root[4200];

/* Keys and versions as `npm ls` lists them for a lock file's folder or a global prefix. */
static char *npm_view(const char *args, const char *strip)
{
	char *raw = sh_out("cd /tmp && npm ls %s --all --parseable --long 2>/dev/null", args);
	struct ed_buf b = ED_BUF_INIT;
	size_t skip = strlen(strip);
	for (char *line = raw, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		/* PATH:NAME@VERSION; the first line is the project itself. */
		char *colon = strrchr(line, ':'), *at = colon ? strrchr(colon, '@') : NULL;
		if (!at || at == colon + 1 || !strstr(line, "/node_modules/") ||
		    strncmp(line, strip, skip) != 0)
			continue;
		*colon = '\0';
		if (ed_buf_addf(&b, "npm:%s %s\n", line + skip, at + 1))
			die("out of memory");
	}
	free(raw);
	if (!b.p && ed_buf_adds(&b, ""))
		die("out of memory");
	return ed_buf_detach(&b);
}

/* Sorts the lines of a listing in place (npm ls walks depth first). */
static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_lines(char *text)
{
	char *lines[512];
	size_t n = 0;
	for (char *l = text, *nl; (nl = strchr(l, '\n')) && n < 512; l = nl + 1) {
		*nl = '\0';
		lines[n++] = l;
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	struct ed_buf b = ED_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		if (ed_buf_addf(&b, "%s\n", lines[i]))
			die("out of memory");
	free(text);
	if (!b.p && ed_buf_adds(&b, ""))
		die("out of memory");
	return ed_buf_detach(&b);
}

static const char npm_v3_want[] =
	"npm:/srv/app/node_modules/@types/node 20.11.30\n"
	"npm:/srv/app/node_modules/debug 2.6.9\n"
	"npm:/srv/app/node_modules/debug/node_modules/ms 2.0.0\n"
	"npm:/srv/app/node_modules/is-number 7.0.0\n"
	"npm:/srv/app/node_modules/left-pad 1.3.0\n"
	"npm:/srv/app/node_modules/lru-cache 6.0.0\n"
	"npm:/srv/app/node_modules/ms 2.1.3\n"
	"npm:/srv/app/node_modules/semver 7.6.0\n"
	"npm:/srv/app/node_modules/undici-types 5.26.5\n"
	"npm:/srv/app/node_modules/yallist 4.0.0\n";

static enum ed_code npm_collect(struct ed_source *src, const char *const *paths, size_t n,
				struct mem_sink *ms, struct ed_err *err)
{
	mem_sink_init(ms);
	return ed_npm_collect(src, paths, n, &ms->sink, err);
}

static void test_npm_locks(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	bool npm = have("npm");
	struct ed_source *src = local_src(npm_root);
	static const char *const apps[] = {"app", "app-v2", "app-v1"};

	for (size_t i = 0; i < 3; i++) {
		char lock[64], full[4400];
		snprintf(lock, sizeof(lock), "/srv/%s/package-lock.json", apps[i]);
		const char *paths[] = {lock};
		is_int(npm_collect(src, paths, 1, &ms, &err), ED_OK, "npm %s: collected", lock);
		is_int(ms.nwarnings, 0, "npm %s: no warnings", lock);
		print_warnings(&ms);
		char *ours = listing(&ms, NULL);
		if (i < 2) {
			/* v2 was written by npm from the v3 lock: the same packages. */
			struct ed_buf w = ED_BUF_INIT;
			for (const char *l = npm_v3_want; *l;) {
				const char *nl = strchr(l, '\n');
				if (ed_buf_adds(&w, "npm:/srv/") || ed_buf_adds(&w, apps[i]) ||
				    ed_buf_add(&w, l + 12, (size_t)(nl - l - 12) + 1))
					die("out of memory");
				l = nl + 1;
			}
			is_str(ours, w.p, "npm %s: keys by install folder, nested, scoped", lock);
			ed_buf_release(&w);
		} else {
			const struct mem_item *m =
				mem_sink_find(&ms, "npm:/srv/app-v1/node_modules/@types/node");
			const char *nested = "npm:/srv/app-v1/node_modules/debug/node_modules/ms";
			ok(ms.n == 10 && m && strcmp(m->value, "20.19.43") == 0 &&
				   mem_sink_find(&ms, nested),
			   "npm %s: v1 dependency tree, nested ms", lock);
		}
		if (npm) {
			snprintf(full, sizeof(full), "--prefix '%s/srv/%s' --package-lock-only",
				 npm_root, apps[i]);
			char *theirs = sorted_lines(npm_view(full, npm_root));
			is_str(ours, theirs, "npm %s: equal to npm ls --package-lock-only", lock);
			free(theirs);
		} else {
			ok(1, "# SKIP npm not installed");
		}
		if (i == 0) {
			const struct mem_item *m =
				mem_sink_find(&ms, "npm:/srv/app/node_modules/semver");
			is_str(m ? m->attrs : NULL,
			       "{\"dev\":true,\"manager\":\"npm\",\"name\":\"semver\"}",
			       "npm lock: dev flag and name in attrs");
			m = mem_sink_find(&ms, "npm:/srv/app/node_modules/@types/node");
			ok(m && fp_of_is(&m->fp, "20.11.30") &&
				   strcmp(m->attrs,
					  "{\"manager\":\"npm\",\"name\":\"@types/node\"}") == 0,
			   "npm lock: fingerprint of the version; scoped name");
		}
		free(ours);
		mem_sink_release(&ms);
	}
	ed_source_free(src);
}

static void test_npm_global(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	struct ed_source *src = local_src(npm_root);

	is_int(npm_collect(src, NULL, 0, &ms, &err), ED_OK,
	       "npm global: /usr/local/lib/node_modules found by itself");
	char *ours = listing(&ms, NULL);
	is_str(ours,
	       "npm:/usr/local/lib/node_modules/@types/node 20.11.30\n"
	       "npm:/usr/local/lib/node_modules/@types/node/node_modules/undici-types 5.26.5\n"
	       "npm:/usr/local/lib/node_modules/debug 2.6.9\n"
	       "npm:/usr/local/lib/node_modules/debug/node_modules/ms 2.0.0\n"
	       "npm:/usr/local/lib/node_modules/is-number 7.0.0\n"
	       "npm:/usr/local/lib/node_modules/left-pad 1.3.0\n",
	       "npm global: each package.json, scoped and nested ones too");
	is_int(ms.nwarnings, 0, "npm global: no warnings");
	print_warnings(&ms);
	if (have("npm")) {
		char args[4400];
		snprintf(args, sizeof(args), "-g --prefix '%s/usr/local'", npm_root);
		char *theirs = sorted_lines(npm_view(args, npm_root));
		is_str(ours, theirs, "npm global: equal to npm ls -g");
		free(theirs);
	} else {
		ok(1, "# SKIP npm not installed");
	}
	free(ours);
	mem_sink_release(&ms);

	const char *both[] = {"/srv/app/package-lock.json", "/usr/local/lib/node_modules/"};
	is_int(npm_collect(src, both, 2, &ms, &err), ED_OK, "npm: a lock and a folder together");
	ok(ms.n == 16 && keys_sorted(&ms), "npm: 10 + 6 items, in key order");
	mem_sink_release(&ms);
	ed_source_free(src);
}

static void test_npm_malformed(void)
{
	char root[4200], p[4600];
	struct mem_sink ms;
	struct ed_err err = {0};
	const char *t;

#define LOCK "/srv/x/package-lock.json"
	t = "{\"lockfileVersion\": 3,\n \"packages\": {\n"
	    "  \"node_modules/a\": {\"version\": \"1\"},\n"
	    "  \"node_modules/a\": {\"version\": \"2\"}}}";
	mem_sink_init(&ms);
	is_int(ed_npm_lock_parse(ed_str_of(t, strlen(t)), LOCK, &ms.sink, &err), ED_OK,
	       "npm malformed: duplicate keys are not fatal");
	ok(ms.n == 0 && ms.nwarnings == 1 && mem_sink_warned(&ms, LOCK ":4:") &&
		   mem_sink_warned(&ms, "duplicate object key"),
	   "npm malformed: duplicate keys rejected, warning names lock, line and column");
	print_warnings(&ms);
	mem_sink_release(&ms);

	t = "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": {\"version\": ";
	mem_sink_init(&ms);
	ed_npm_lock_parse(ed_str_of(t, strlen(t)), LOCK, &ms.sink, &err);
	ok(ms.n == 0 && mem_sink_warned(&ms, LOCK ":1:"), "npm malformed: truncated JSON warned");
	mem_sink_release(&ms);

	t = "{\"lockfileVersion\": 4, \"packages\": {\"node_modules/a\": {\"version\": \"1\"}}}";
	mem_sink_init(&ms);
	ed_npm_lock_parse(ed_str_of(t, strlen(t)), LOCK, &ms.sink, &err);
	ok(ms.n == 0 && mem_sink_warned(&ms, "lockfileVersion is not 1, 2 or 3"),
	   "npm malformed: unknown lockfileVersion not read");
	mem_sink_release(&ms);

	t = "[1, 2]";
	mem_sink_init(&ms);
	ed_npm_lock_parse(ed_str_of(t, strlen(t)), LOCK, &ms.sink, &err);
	ok(ms.n == 0 && mem_sink_warned(&ms, "not a JSON object"), "npm malformed: not an object");
	mem_sink_release(&ms);

	t = "{\"lockfileVersion\": 3, \"packages\": {"
	    "\"\": {\"name\": \"x\", \"version\": \"9\"},"
	    "\"node_modules/nover\": {},"
	    "\"node_modules/numver\": {\"version\": 1},"
	    "\"node_modules/../../etc\": {\"version\": \"1\"},"
	    "\"node_modules/a b\": {\"version\": \"1\"},"
	    "\"node_modules/ctl\": {\"version\": \"1\\u0007\"},"
	    "\"node_modules/notobj\": 5,"
	    "\"node_modules/linked\": {\"link\": true, \"resolved\": \"packages/w\"},"
	    "\"packages/w\": {\"version\": \"0.1\"},"
	    "\"node_modules/alias\": {\"name\": \"real-pkg\", \"version\": \"3.0.0\", \"optional\": true},"
	    "\"packages/w/node_modules/dep\": {\"version\": \"2.0.0\"}}}";
	mem_sink_init(&ms);
	ed_npm_lock_parse(ed_str_of(t, strlen(t)), LOCK, &ms.sink, &err);
	char *got = listing(&ms, NULL);
	is_str(got,
	       "npm:/srv/x/node_modules/alias 3.0.0\n"
	       "npm:/srv/x/packages/w/node_modules/dep 2.0.0\n",
	       "npm malformed: only good node_modules entries; root, workspace, links skipped");
	free(got);
	ok(ms.nwarnings == 6 &&
		   mem_sink_warned(&ms, "entry 'node_modules/nover' has no usable version") &&
		   mem_sink_warned(&ms, "entry 'node_modules/numver' has no usable version") &&
		   mem_sink_warned(&ms, "package path 'node_modules/../../etc' is malformed") &&
		   mem_sink_warned(&ms, "package path 'node_modules/a b' is malformed") &&
		   mem_sink_warned(&ms, "entry 'node_modules/ctl' has no usable version") &&
		   mem_sink_warned(&ms, "entry 'node_modules/notobj' is not an object"),
	   "npm malformed: each bad entry warned by name");
	print_warnings(&ms);
	const struct mem_item *m = mem_sink_find(&ms, "npm:/srv/x/node_modules/alias");
	is_str(m ? m->attrs : NULL, "{\"manager\":\"npm\",\"name\":\"real-pkg\",\"optional\":true}",
	       "npm: an alias keeps its real name; optional flag");
	mem_sink_release(&ms);

	/* v1 nested deeper than the cap. */
	struct ed_buf deep = ED_BUF_INIT;
	if (ed_buf_adds(&deep, "{\"lockfileVersion\": 1, \"dependencies\": "))
		die("out of memory");
	for (int i = 0; i < 80; i++)
		if (ed_buf_adds(&deep, "{\"d\": {\"version\": \"1\", \"dependencies\": "))
			die("out of memory");
	if (ed_buf_adds(&deep, "{}"))
		die("out of memory");
	for (int i = 0; i < 80; i++)
		if (ed_buf_adds(&deep, "}}"))
			die("out of memory");
	if (ed_buf_adds(&deep, "}"))
		die("out of memory");
	mem_sink_init(&ms);
	ed_npm_lock_parse(ed_str_of(deep.p, deep.len), "/package-lock.json", &ms.sink, &err);
	ok(ms.n == 65 && mem_sink_warned(&ms, "nested deeper than 64") &&
		   strncmp(ms.items[0].key, "npm:/node_modules/d", 19) == 0,
	   "npm v1: depth capped at 64 with a warning; a lock at / gives keys without '//'");
	mem_sink_release(&ms);
	ed_buf_release(&deep);

	/* A tree with a link, a broken package.json, a missing version and a conflicting lock. */
	tmp_path(root, sizeof(root), "npm-bad");
	if (sh("mkdir -p '%s/srv/x/node_modules/good' '%s/srv/x/node_modules/bad' "
	       "'%s/srv/x/node_modules/nover' '%s/srv/x/node_modules/@s/p' '%s/srv/x/node_modules/.bin' "
	       "'%s/elsewhere' && ln -s ../../../elsewhere '%s/srv/x/node_modules/linked'",
	       root, root, root, root, root, root, root) != 0)
		die("npm fixture");
	snprintf(p, sizeof(p), "%s/srv/x/node_modules/good/package.json", root);
	put(p, "{\"name\": \"good\", \"version\": \"1.0.0\"}");
	snprintf(p, sizeof(p), "%s/srv/x/node_modules/bad/package.json", root);
	put(p, "{\"name\": \"bad\",\n \"version\": }");
	snprintf(p, sizeof(p), "%s/srv/x/node_modules/nover/package.json", root);
	put(p, "{\"name\": \"nover\"}");
	snprintf(p, sizeof(p), "%s/srv/x/node_modules/@s/p/package.json", root);
	put(p, "{\"version\": \"0.0.1\"}");
	snprintf(p, sizeof(p), "%s/srv/x/package-lock.json", root);
	put(p, "{\"lockfileVersion\": 3, \"packages\": "
	       "{\"node_modules/good\": {\"version\": \"0.9.0\"}}}");

	struct ed_source *src = local_src(root);
	const char *paths[] = {"/srv/x/package-lock.json", "/srv/x/node_modules", "/srv/missing"};
	is_int(npm_collect(src, paths, 3, &ms, &err), ED_OK,
	       "npm tree: collected despite problems");
	got = listing(&ms, NULL);
	is_str(got, "npm:/srv/x/node_modules/@s/p 0.0.1\nnpm:/srv/x/node_modules/good 0.9.0\n",
	       "npm tree: good packages once each; the lock (named first) wins a conflict");
	free(got);
	ok(mem_sink_warned(&ms, "npm:/srv/x/node_modules/good: version 0.9.0 in "
				"/srv/x/package-lock.json, but 1.0.0 in "
				"/srv/x/node_modules/good/package.json; keeping the first"),
	   "npm tree: the conflict is warned with both origins");
	ok(mem_sink_warned(&ms, "/srv/x/node_modules/bad/package.json:2:") &&
		   mem_sink_warned(&ms, "nover/package.json: no usable \"version\"") &&
		   mem_sink_warned(&ms, "modules/linked: a symlink (npm link?); not followed") &&
		   mem_sink_warned(&ms, "/srv/missing"),
	   "npm tree: broken package.json (line), no version, symlink, missing path warned");
	m = mem_sink_find(&ms, "npm:/srv/x/node_modules/@s/p");
	is_str(m ? m->attrs : NULL, "{\"manager\":\"npm\",\"name\":\"@s/p\"}",
	       "npm tree: no name in package.json: the folder's");
	print_warnings(&ms);
	mem_sink_release(&ms);

	const char *missing[] = {"/nope"};
	is_int(npm_collect(src, missing, 1, &ms, &err), ED_NOTFOUND,
	       "npm: no path exists: ED_NOTFOUND");
	mem_sink_release(&ms);
	is_int(npm_collect(src, NULL, 0, &ms, &err), ED_NOTFOUND,
	       "npm: no global node_modules: ED_NOTFOUND");
	mem_sink_release(&ms);
	ed_source_free(src);
#undef LOCK
}

static void find_data_dir(int argc, char **argv)
{
	const char *d = argc > 1 ? argv[1] : getenv("ENVDRIFT_TEST_DATA");
	const char *srcdir = getenv("SRCDIR"); /* meson passes the source root */
	if (d) {
		snprintf(data_dir, sizeof(data_dir), "%s", d);
	} else if (srcdir && *srcdir) {
		snprintf(data_dir, sizeof(data_dir), "%s/tests/data", srcdir);
	} else {
		/* tests/unit/test_pkg.c -> tests/data */
		const char *f = __FILE__;
		const char *slash = strrchr(f, '/');
		int n = slash ? (int)(slash - f) : 1;
		snprintf(data_dir, sizeof(data_dir), "%.*s/../data", n, slash ? f : ".");
	}
	snprintf(npm_root, sizeof(npm_root), "%s/npm-root", data_dir);
	char real[4096];
	if (realpath(npm_root, real))
		snprintf(npm_root, sizeof(npm_root), "%s", real);
	printf("# data: %s\n", data_dir);
}

/* rpm's config files and their digests (collector/vendor.c): which lines count, each algorithm. */
static void test_vendor_rpm(void)
{
	static const char body[] = "changeme\n";
	char md5[129], sha1[129], sha256[129], sha512[129];
	ok(ed_digest_hex("md5", body, strlen(body), md5, sizeof(md5)) &&
		   ed_digest_hex("sha1", body, strlen(body), sha1, sizeof(sha1)) &&
		   ed_digest_hex("sha256", body, strlen(body), sha256, sizeof(sha256)) &&
		   ed_digest_hex("sha512", body, strlen(body), sha512, sizeof(sha512)),
	   "vendor rpm: digests by libcrypto name");
	ok(!ed_digest_hex("nope", body, 1, md5, sizeof(md5)), "vendor rpm: an unknown digest is refused");
	struct ed_buf text = ED_BUF_INIT;
	ed_buf_addf(&text, "cn\t1\t%s\t/etc/a.key\n", md5);
	ed_buf_addf(&text, "c\t2\t%s\t/etc/b.key\n", sha1);
	ed_buf_addf(&text, "cn\t8\t%s\t/etc/c.key\n", sha256);
	ed_buf_addf(&text, "c\t10\t%s\t/etc/d.key\n", sha512);
	ed_buf_addf(&text, "\t8\t%s\t/usr/share/doc/not-config\n", sha256);
	ed_buf_addf(&text, "c\t8\t\t/etc/ghost.key\n");            /* no digest: a ghost file */
	ed_buf_addf(&text, "c\t8\t%s\t/etc/short.key\n", md5);     /* wrong length for SHA-256 */
	ed_buf_addf(&text, "c\t99\t%s\t/etc/unknown.key\n", sha256); /* unknown algorithm */
	ed_buf_addf(&text, "c\t8\t%s\trelative.key\n", sha256);
	ed_buf_addf(&text, "garbage without tabs\n\n");
	struct ed_vendor v = {0};
	struct ed_err err = {0};
	is_int(ed_vendor_parse_rpm(ed_str_of(text.p, text.len), &v, &err), ED_OK, "vendor rpm: parsed");
	ed_vendor_sort(&v);
	is_int((long long)v.n, 4, "vendor rpm: only the four well-formed config files count");
	const char *const keys[] = {"/etc/a.key", "/etc/b.key", "/etc/c.key", "/etc/d.key"};
	for (size_t i = 0; i < 4; i++) {
		ok(ed_vendor_shipped(&v, keys[i], ed_str_of(body, strlen(body))),
		   "vendor rpm: %s as shipped", keys[i]);
		ok(!ed_vendor_shipped(&v, keys[i], ed_str_of("edited\n", 7)), "vendor rpm: %s edited",
		   keys[i]);
	}
	ok(!ed_vendor_listed(&v, "/usr/share/doc/not-config") && !ed_vendor_listed(&v, "/etc/ghost.key") &&
		   !ed_vendor_listed(&v, "/etc/short.key") && !ed_vendor_listed(&v, "/etc/unknown.key"),
	   "vendor rpm: not config, no digest, a wrong length, an unknown algorithm: not listed");
	ed_vendor_release(&v);
	ed_buf_release(&text);
}

int main(int argc, char **argv)
{
	find_data_dir(argc, argv);
	if (!tap_tmpdir(tmp_root, sizeof(tmp_root), "envdrift-test-pkg"))
		die("mkdtemp");

	test_apk_sample();
	test_apk_collect();
	test_apk_malformed();
	test_rpm_parse();
	test_rpm_malformed();
	test_rpm_collect_fake();
	test_rpm_real();
	test_vendor_rpm();
	test_pypi_metadata();
	test_pypi_real();
	test_pypi_fixture();
	test_npm_locks();
	test_npm_global();
	test_npm_malformed();

	sh("rm -rf '%s'", tmp_root);
	return tap_done();
}
