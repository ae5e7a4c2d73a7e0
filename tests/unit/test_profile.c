/* SPDX-License-Identifier: MIT */
/*
 * Profiles: the built-in default and profiles/default.ini agree, every key,
 * replace-then-append, every error with its exact message and line, the
 * refusal of lines libinih would truncate, and the predicates.
 *
 * Usage: test_profile [SRCDIR]: the source tree holding profiles/; without
 * it, $SRCDIR, else the tree derived from this file's name (__FILE__).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/glob.h"
#include "ed/profile.h"
#include "tap.h"

#define ORIGIN "p.ini"

static bool lists_equal(const struct ed_strlist *a, const struct ed_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

/* Prints the first difference as a TAP comment; true when equal. */
static bool profiles_equal(const struct ed_profile *a, const struct ed_profile *b)
{
	const struct {
		const char *name;
		const struct ed_strlist *x, *y;
	} l[] = {
		{"paths", &a->paths, &b->paths},
		{"excludes", &a->excludes, &b->excludes},
		{"packages", &a->packages, &b->packages},
		{"schemas", &a->schemas, &b->schemas},
		{"secret_keys", &a->secret_keys, &b->secret_keys},
		{"secret_files", &a->secret_files, &b->secret_files},
		{"keep_content", &a->keep_content, &b->keep_content},
		{"sysctl", &a->sysctl, &b->sysctl},
		{"python_paths", &a->python_paths, &b->python_paths},
		{"npm_paths", &a->npm_paths, &b->npm_paths},
		{"sensitive", &a->sensitive, &b->sensitive},
	};
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		if (!lists_equal(l[i].x, l[i].y)) {
			printf("# %s differs (%zu vs %zu entries)\n", l[i].name, l[i].x->n,
			       l[i].y->n);
			for (size_t j = 0; j < l[i].x->n || j < l[i].y->n; j++)
				printf("#   %s | %s\n", j < l[i].x->n ? l[i].x->v[j] : "-",
				       j < l[i].y->n ? l[i].y->v[j] : "-");
			return false;
		}
	}
	if (a->keep_max != b->keep_max || a->threads != b->threads ||
	    a->max_file_size != b->max_file_size) {
		printf("# keep_max %zu vs %zu, threads %d vs %d, max_file_size %llu vs %llu\n",
		       a->keep_max, b->keep_max, a->threads, b->threads,
		       (unsigned long long)a->max_file_size, (unsigned long long)b->max_file_size);
		return false;
	}
	if (a->nformats != b->nformats) {
		printf("# nformats %zu vs %zu\n", a->nformats, b->nformats);
		return false;
	}
	for (size_t i = 0; i < a->nformats; i++)
		if (strcmp(a->formats[i].glob, b->formats[i].glob) != 0 ||
		    a->formats[i].format != b->formats[i].format)
			return false;
	return true;
}

/* Joins a list as "a b c" into a static buffer, for is_str(). */
static const char *joined(const struct ed_strlist *l)
{
	static char out[4096];
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strcat(out, " ");
		strncat(out, l->v[i], sizeof(out) - strlen(out) - 2);
	}
	return out;
}

static enum ed_code parse_on(struct ed_profile *p, const char *text, struct ed_err *err)
{
	return ed_profile_parse(ed_str_of(text, strlen(text)), ORIGIN, p, err);
}

/* Parses text on top of the default; expects ED_PARSE with exactly msg, p unchanged. */
static void expect_error(const char *text, const char *msg, const char *what)
{
	struct ed_profile p = {0}, before = {0};
	struct ed_err err = {0};
	ed_profile_default(&p, &err);
	ed_profile_copy(&before, &p, &err);
	enum ed_code rc = parse_on(&p, text, &err);
	is_int(rc, ED_PARSE, "%s: ED_PARSE", what);
	is_str(err.msg, msg, "%s: message", what);
	ok(profiles_equal(&p, &before), "%s: profile unchanged", what);
	ed_profile_release(&p);
	ed_profile_release(&before);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return buf;
}

/* docs/profile.md shows the file in full: check it is there byte for byte. */
static void in_docs(const char *root, const char *text, const char *what)
{
	char path[4200];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/docs/profile.md", root);
	char *doc = read_file(path, &len);
	char *z = doc ? realloc(doc, len + 1) : NULL;
	if (z)
		z[len] = '\0';
	else
		free(doc);
	ok(z && strstr(z, text), "docs/profile.md shows %s verbatim", what);
	free(z);
}

static void test_default(void)
{
	struct ed_profile p = {0};
	struct ed_err err = {0};
	is_int(ed_profile_default(&p, &err), ED_OK, "default: builds");
	is_str(joined(&p.paths), "/etc", "default: paths");
	is_str(joined(&p.packages), "auto", "default: packages");
	is_str(joined(&p.excludes),
	       "*- *~ *.dpkg-old *.dpkg-dist *.dpkg-new *.dpkg-bak *.ucf-* *.rpmsave *.rpmnew "
	       "*.apk-new",
	       "default: tool backups excluded");
	is_int(p.schemas.n, 0, "default: no schemas");
	is_str(joined(&p.secret_keys),
	       "*password* *secret* *token* *key* *passwd* *credential* *private* "
	       "*passphrase* *salt* *_auth* *_pat *pw *pwd",
	       "default: secret keys");
	is_str(joined(&p.secret_files),
	       "*.pem *.key *.p12 *.pfx *.jks *.keytab id_rsa id_dsa id_ecdsa id_ed25519 "
	       "/etc/shadow /etc/shadow- /etc/gshadow /etc/gshadow- /etc/ssh/ssh_host_*_key "
	       "/etc/ssl/private/*",
	       "default: secret files");
	ok(ed_strlist_has(&p.keep_content, "/etc/*.conf"), "default: keeps /etc/*.conf");
	is_int(p.keep_max, 256 * 1024, "default: keep_max 256 KiB");
	ok(p.max_file_size == 1ULL << 30, "default: max_file_size 1 GiB");
	is_int(p.nformats, 0, "default: no explicit format rules");
	is_str(joined(&p.sysctl),
	       "net.core.somaxconn vm.swappiness vm.overcommit_memory fs.file-max kernel.pid_max "
	       "net.ipv4.ip_local_port_range",
	       "default: sysctl keys");
	is_int(p.python_paths.n + p.npm_paths.n, 0, "default: no python or npm paths");
	is_int(p.threads, 0, "default: threads 0");
	is_int(err.code, 0, "default: err untouched on success");

	/* Calling it again on a filled profile releases the old one (ASan: no leak). */
	is_int(ed_profile_default(&p, &err), ED_OK, "default: again on a filled profile");
	is_int(p.paths.n, 1, "default: not doubled");
	ed_profile_release(&p);
	is_int(p.paths.n + p.nformats, 0, "release zeroes");
	ed_profile_release(&p);
	ed_profile_release(NULL);
	ok(1, "release twice and on NULL is harmless");
}

static void test_default_ini(const char *root, const char *path)
{
	size_t len = 0;
	char *text = read_file(path, &len);
	ok(text != NULL, "profiles/default.ini readable at %s", path);
	if (!text)
		return;
	struct ed_profile empty = {0}, def = {0};
	struct ed_err err = {0};
	enum ed_code rc = ed_profile_parse(ed_str_of(text, len), path, &empty, &err);
	is_int(rc, ED_OK, "default.ini parses on an empty profile");
	if (rc)
		printf("# %s\n", err.msg);
	ed_profile_default(&def, &err);
	ok(profiles_equal(&empty, &def), "default.ini == ed_profile_default()");

	/* And on top of the default it changes nothing. */
	struct ed_profile twice = {0};
	ed_profile_default(&twice, &err);
	is_int(ed_profile_parse(ed_str_of(text, len), path, &twice, &err), ED_OK,
	       "default.ini parses on the default");
	ok(profiles_equal(&twice, &def), "default.ini on the default == the default");

	/* Every line of the shipped file stays within the limit. */
	bool short_lines = true;
	for (const char *s = text; s < text + len;) {
		const char *nl = memchr(s, '\n', (size_t)(text + len - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(text + len - s);
		short_lines = short_lines && n <= ED_PROFILE_MAX_LINE;
		s += n + 1;
	}
	ok(short_lines, "default.ini: no line longer than %d bytes", ED_PROFILE_MAX_LINE);
	char *z = realloc(text, len + 1);
	if (z) {
		text = z;
		text[len] = '\0';
		in_docs(root, text, "default.ini");
	}
	ed_profile_release(&empty);
	ed_profile_release(&def);
	ed_profile_release(&twice);
	free(text);
}

static void test_every_key(void)
{
	const char *text =
		"; every key once\n"
		"# hash comments too\n"
		"[collect]\n"
		"path = /srv/app /opt//tools/ \"/srv/my app\"\n"
		"exclude = *.swp /srv/app/cache/* */tmp/*\n"
		"packages = dpkg pypi\n"
		"schema = app=sqlite:/var/lib/app/app.db\n"
		"schema = shop=postgres:dbname=shop host=/run/postgresql\n"
		"threads = 4\n"
		"\n"
		"[secrets]\n"
		"keys = *pass* api_*\n"
		"files = *.gpg /etc/app/credentials/*\n"
		"[content]\n"
		"keep = /etc/app/*.conf nginx.conf\n"
		"max_size = 64K\n"
		"[formats]\n"
		"/etc/app/*.conf = ini\n"
		"*.cnf = ini\n"
		"/etc/app/legacy.json = none\n"
		"*.toml = keyvalue\n"
		"[system]\n"
		"sysctl = vm.swappiness net/ipv4/conf/eth0.100/rp_filter\n"
		"[python]\n"
		"site_packages = /srv/app/venv/lib/python3.11/site-packages\n"
		"[npm]\n"
		"paths = /srv/web/package-lock.json /usr/lib/node_modules\n";
	struct ed_profile p = {0};
	struct ed_err err = {0};
	ed_profile_default(&p, &err);
	enum ed_code rc = parse_on(&p, text, &err);
	is_int(rc, ED_OK, "every key: parses");
	if (rc)
		printf("# %s\n", err.msg);
	is_str(joined(&p.paths), "/srv/app /opt/tools /srv/my app", "path: normalised, quoted");
	is_str(joined(&p.excludes), "*.swp /srv/app/cache/* */tmp/*", "exclude");
	is_str(joined(&p.packages), "dpkg pypi", "packages");
	is_int(p.schemas.n, 2, "schema: two");
	is_str(p.schemas.n > 1 ? p.schemas.v[1] : NULL,
	       "shop=postgres:dbname=shop host=/run/postgresql", "schema: one per line, spaces kept");
	is_int(p.threads, 4, "threads");
	is_str(joined(&p.secret_keys), "*pass* api_*", "secrets keys");
	is_str(joined(&p.secret_files), "*.gpg /etc/app/credentials/*", "secrets files");
	is_str(joined(&p.keep_content), "/etc/app/*.conf nginx.conf", "content keep");
	is_int(p.keep_max, 64 * 1024, "content max_size 64K");
	is_int(p.nformats, 4, "formats: four rules");
	if (p.nformats == 4) {
		is_str(p.formats[0].glob, "/etc/app/*.conf", "formats: first rule glob");
		is_int(p.formats[0].format, ED_CFG_INI, "formats: first rule format");
		is_int(p.formats[2].format, ED_CFG_NONE, "formats: none");
		is_int(p.formats[3].format, ED_CFG_KEYVALUE, "formats: keyvalue");
	}
	is_str(joined(&p.sysctl), "vm.swappiness net.ipv4.conf.eth0/100.rp_filter",
	       "sysctl: canonical dotted form");
	is_str(joined(&p.python_paths), "/srv/app/venv/lib/python3.11/site-packages",
	       "python site_packages");
	is_str(joined(&p.npm_paths), "/srv/web/package-lock.json /usr/lib/node_modules",
	       "npm paths");
	ed_profile_release(&p);
}

static void test_semantics(void)
{
	struct ed_profile p = {0};
	struct ed_err err = {0};

	ed_profile_default(&p, &err);
	is_int(parse_on(&p,
			"[collect]\n"
			"path = /srv\n"
			"exclude = *.swp\n"
			"path = /opt /srv\n"
			"path =\n"
			"  /home/app ; a comment after a continuation\n"
			"\n"
			"  # a comment line does not end the list\n"
			"\t/var/www\n",
			&err),
	       ED_OK, "replace then append: parses");
	is_str(joined(&p.paths), "/srv /opt /home/app /var/www",
	       "first line replaces /etc, later lines and continuations append, duplicates dropped");
	is_str(joined(&p.packages), "auto", "lists the file does not name keep the default");
	ok(ed_strlist_has(&p.secret_keys, "*password*"), "other sections keep the default");

	/* A second file replaces again on its first line. */
	is_int(parse_on(&p, "[collect]\npath = /data\n", &err), ED_OK, "second file parses");
	is_str(joined(&p.paths), "/data", "a second file replaces the list again");

	/* An empty value empties a list. */
	is_int(parse_on(&p, "[secrets]\nkeys =\n[content]\nkeep =\n", &err), ED_OK,
	       "empty values parse");
	is_int(p.secret_keys.n + p.keep_content.n, 0, "an empty value empties the list");

	/* Multi-line list started by an empty value. */
	is_int(parse_on(&p, "[system]\nsysctl =\n    vm.swappiness\n    kernel.pid_max\n", &err),
	       ED_OK, "multi-line list parses");
	is_str(joined(&p.sysctl), "vm.swappiness kernel.pid_max", "multi-line list");

	/* Same key in a repeated section keeps appending. */
	is_int(parse_on(&p, "[npm]\npaths = /a\n[collect]\nthreads = 2\n[npm]\npaths = /b\n",
			&err),
	       ED_OK, "repeated section parses");
	is_str(joined(&p.npm_paths), "/a /b", "a repeated section appends");
	is_int(p.threads, 2, "threads set");

	/* Packages: replace then append, auto and none alone. */
	is_int(parse_on(&p, "[collect]\npackages = dpkg\npackages = rpm\n  apk\n", &err), ED_OK,
	       "packages parse");
	is_str(joined(&p.packages), "dpkg rpm apk", "packages appended");
	is_int(parse_on(&p, "[collect]\npackages = none\n", &err), ED_OK, "packages none");
	is_str(joined(&p.packages), "none", "packages none");

	/* Formats: the first rule of a file replaces the rules. */
	is_int(parse_on(&p, "[formats]\n*.conf = ini\n", &err), ED_OK, "formats 1");
	is_int(parse_on(&p, "[formats]\n*.cfg = keyvalue\n*.txt = none\n", &err), ED_OK,
	       "formats 2");
	is_int(p.nformats, 2, "formats replaced by the next file's rules");
	is_str(p.nformats ? p.formats[0].glob : NULL, "*.cfg", "formats: order kept");

	/* Sizes. */
	is_int(parse_on(&p, "[content]\nmax_size = 1M\n", &err), ED_OK, "max_size 1M");
	is_int(p.keep_max, 1024 * 1024, "1M = 1048576");
	is_int(parse_on(&p, "[content]\nmax_size = 4096\n", &err), ED_OK, "max_size 4096");
	is_int(p.keep_max, 4096, "plain bytes");
	is_int(parse_on(&p, "[content]\nmax_size = 16M\n", &err), ED_OK, "max_size 16M");
	is_int(p.keep_max, 16 * 1024 * 1024, "the limit itself");
	is_int(parse_on(&p, "[content]\nmax_size = 0\n", &err), ED_OK, "max_size 0");
	is_int(p.keep_max, 0, "0 keeps nothing");
	is_int(parse_on(&p, "[limits]\nmax_file_size = 2G\n", &err), ED_OK, "max_file_size 2G");
	ok(p.max_file_size == 2ULL << 30, "2G = 2 GiB");
	is_int(parse_on(&p, "[limits]\nmax_file_size = 1t\n", &err), ED_OK, "max_file_size 1t");
	ok(p.max_file_size == 1ULL << 40, "1t = 1 TiB, the limit itself");
	is_int(parse_on(&p, "[limits]\nmax_file_size = 0\n", &err), ED_OK, "max_file_size 0");
	ok(p.max_file_size == 0, "0: no limit");
	is_int(parse_on(&p, "[collect]\npackages = dpkg,rpm pypi\n", &err), ED_OK, "packages with commas");
	is_str(joined(&p.packages), "dpkg rpm pypi", "  dpkg,rpm is dpkg and rpm, as on the command line");
	struct ed_err bad = {0};
	is_int(parse_on(&p, "[collect]\npackages = dpkg,,rpm\n", &bad), ED_PARSE, "an empty name between commas is refused");
	is_int(parse_on(&p, "[collect]\npackages = dpkg,nope\n", &bad), ED_PARSE, "an unknown name after a comma is refused");
	is_int(parse_on(&p, "[limits]\nmax_file_size = 2T\n", &bad), ED_PARSE, "2T is refused");
	is_int(parse_on(&p, "[limits]\nmax_file_size = 5X\n", &bad), ED_PARSE, "an unknown unit is refused");
	is_int(parse_on(&p, "[collect]\nmax_rate = 1T\n", &bad), ED_PARSE, "max_rate takes no T");

	/* CRLF, BOM, key: value, inline comments, tabs. */
	is_int(parse_on(&p,
			"\xef\xbb\xbf[collect]\r\n"
			"path: /crlf ; comment\r\n"
			"\t/tab\r\n"
			"[npm]\r\n"
			"paths = /x;y\r\n",
			&err),
	       ED_OK, "CRLF, BOM and 'key: value' parse");
	is_str(joined(&p.paths), "/crlf /tab", "CRLF lines and comments stripped");
	is_str(joined(&p.npm_paths), "/x;y", "';' without a blank before it is not a comment");

	/* An empty file, or only comments, changes nothing. */
	struct ed_profile before = {0};
	ed_profile_copy(&before, &p, &err);
	is_int(parse_on(&p, "", &err), ED_OK, "empty text");
	is_int(parse_on(&p, "; nothing\n\n[collect]\n", &err), ED_OK, "comments and a bare section");
	ok(profiles_equal(&p, &before), "nothing changed");
	is_int(ed_profile_parse(ed_str_of(NULL, 0), NULL, &p, &err), ED_OK, "NULL text");
	ed_profile_release(&before);

	/* Unicode in values is fine. */
	is_int(parse_on(&p, "[collect]\npath = /srv/d\xc3\xa9j\xc3\xa0\n", &err), ED_OK,
	       "UTF-8 path");
	is_str(joined(&p.paths), "/srv/d\xc3\xa9j\xc3\xa0", "UTF-8 path kept");

	/* A [formats] glob longer than libinih's 49-byte name buffer is kept whole. */
	is_int(parse_on(&p, "[formats]\n/etc/very/long/path/to/some/application/config/dir/*.settings = json\n",
			&err),
	       ED_OK, "long [formats] glob");
	is_str(p.nformats ? p.formats[0].glob : NULL,
	       "/etc/very/long/path/to/some/application/config/dir/*.settings",
	       "long glob not truncated");

	is_int(err.code, 0, "err untouched by successful parses");
	ed_profile_release(&p);
}

static void test_long_lines(void)
{
	/* "[npm]\npaths = /" + filler: line 2 is exactly n bytes. */
	char text[600];
	for (size_t n = ED_PROFILE_MAX_LINE - 1; n <= ED_PROFILE_MAX_LINE + 3; n++) {
		int k = snprintf(text, sizeof(text), "[npm]\npaths = /");
		memset(text + k, 'a', n - 9);
		snprintf(text + k + n - 9, sizeof(text) - (size_t)k - n + 9, "\n");
		struct ed_profile p = {0};
		struct ed_err err = {0};
		enum ed_code rc = parse_on(&p, text, &err);
		if (n <= ED_PROFILE_MAX_LINE) {
			is_int(rc, ED_OK, "a %zu-byte line is accepted", n);
			is_int(p.npm_paths.n ? strlen(p.npm_paths.v[0]) : 0, n - 8,
			       "and its value arrives whole (%zu bytes)", n - 8);
		} else {
			char want[200];
			snprintf(want, sizeof(want),
				 "p.ini:2: line is %zu bytes long; libinih reads at most 197: split "
				 "the value over indented continuation lines",
				 n);
			is_int(rc, ED_PARSE, "a %zu-byte line is refused", n);
			is_str(err.msg, want, "%zu bytes: message", n);
		}
		ed_profile_release(&p);
	}

	/* A 197-byte line with CRLF still fits libinih's buffer. */
	int k = snprintf(text, sizeof(text), "[npm]\r\npaths = /");
	memset(text + k, 'b', 188);
	strcpy(text + k + 188, "\r\n[collect]\r\nthreads = 3\r\n");
	struct ed_profile p = {0};
	struct ed_err err = {0};
	is_int(parse_on(&p, text, &err), ED_OK, "a 197-byte CRLF line is accepted");
	is_int(p.npm_paths.n ? strlen(p.npm_paths.v[0]) : 0, 189, "and arrives whole");
	is_int(p.threads, 3, "and the next lines are read right");
	ed_profile_release(&p);

	/* Why: libinih itself cuts a 300-byte line without a word. */
	char big[400];
	k = snprintf(big, sizeof(big), "[npm]\npaths = /");
	memset(big + k, 'c', 300);
	big[k + 300] = '\0';
	expect_error(big,
		     "p.ini:2: line is 309 bytes long; libinih reads at most 197: split the value "
		     "over indented continuation lines",
		     "300-byte value");

	/* The long line on line 5, after valid lines: the line number is right. */
	char late[500];
	k = snprintf(late, sizeof(late), "[collect]\npath = /a\n\n; c\nexclude = ");
	memset(late + k, 'x', 220);
	strcpy(late + k + 220, "\n");
	expect_error(late,
		     "p.ini:5: line is 230 bytes long; libinih reads at most 197: split the value "
		     "over indented continuation lines",
		     "long line 5");
	ok(INI_MAX_LINE - 3 == ED_PROFILE_MAX_LINE, "ED_PROFILE_MAX_LINE follows ini.h (%d)",
	   INI_MAX_LINE);
}

static void test_errors(void)
{
	expect_error("[collect]\npth = /srv\n", "p.ini:2: unknown key 'pth' in [collect]",
		     "unknown key");
	expect_error("[collect]\npath = /srv\n[colect]\npath = /x\n",
		     "p.ini:3: unknown section [colect] (known: collect, secrets, content, "
		     "formats, system, python, npm, limits, data)",
		     "unknown section");
	expect_error("[collect]\n[empty_unknown]\n",
		     "p.ini:2: unknown section [empty_unknown] (known: collect, secrets, content, "
		     "formats, system, python, npm, limits, data)",
		     "unknown section without keys");
	expect_error("path = /srv\n",
		     "p.ini:1: 'path' is outside any section: put it under [collect], [secrets], "
		     "[content], [formats], [system], [python] or [npm]",
		     "key outside a section");
	expect_error("[collect]\npath = /srv srv/app\n",
		     "p.ini:2: 'path' needs absolute paths: 'srv/app' is relative", "relative path");
	expect_error("[python]\nsite_packages = lib/python3\n",
		     "p.ini:2: 'site_packages' needs absolute paths: 'lib/python3' is relative",
		     "relative site_packages");
	expect_error("[npm]\npaths =\n  /ok\n  node_modules\n",
		     "p.ini:4: 'paths' needs absolute paths: 'node_modules' is relative",
		     "relative path on a continuation line");
	expect_error("[collect]\npackages = dpkg yum\n",
		     "p.ini:2: 'packages': unknown package manager 'yum' (auto, none, dpkg, rpm, "
		     "apk, pypi, npm)",
		     "unknown package manager");
	expect_error("[collect]\npackages = auto dpkg\n",
		     "p.ini:2: 'packages': 'auto' cannot be combined with other package managers",
		     "auto with others");
	expect_error("[collect]\npackages = dpkg\npackages = none\n",
		     "p.ini:3: 'packages': 'none' cannot be combined with other package managers",
		     "none appended to others");
	expect_error("[collect]\npackages =\nthreads = 1\n",
		     "p.ini:2: 'packages' is empty: name managers, or write 'auto' or 'none'",
		     "empty packages");
	expect_error("[collect]\nthreads =\n", "p.ini:2: 'threads' needs a value", "empty threads");
	expect_error("[collect]\nthreads = many\n",
		     "p.ini:2: 'threads': 'many' is not a number from 0 to 1024", "bad threads");
	expect_error("[collect]\nthreads = -1\n",
		     "p.ini:2: 'threads': '-1' is not a number from 0 to 1024", "negative threads");
	expect_error("[collect]\nthreads = 1025\n",
		     "p.ini:2: 'threads': '1025' is not a number from 0 to 1024", "threads too big");
	expect_error("[collect]\nthreads = 2\n\nthreads = 3\n",
		     "p.ini:4: 'threads' is already set on line 2", "threads twice");
	expect_error("[collect]\nthreads = 2\n  3\n",
		     "p.ini:3: 'threads' takes one value, but this indented line continues it",
		     "continued scalar");
	expect_error("[content]\nmax_size = 17M\n",
		     "p.ini:2: 'max_size': '17M' is not a size in bytes up to 16M (a number, "
		     "optionally followed by K or M)",
		     "max_size too big");
	expect_error("[content]\nmax_size = 12 K\n",
		     "p.ini:2: 'max_size': '12 K' is not a size in bytes up to 16M (a number, "
		     "optionally followed by K or M)",
		     "max_size with a blank");
	expect_error("[content]\nmax_size = 99999999999999999999\n",
		     "p.ini:2: 'max_size': '99999999999999999999' is not a size in bytes up to 16M "
		     "(a number, optionally followed by K or M)",
		     "max_size overflow");
	expect_error("[content]\nmax_size =\n", "p.ini:2: 'max_size' needs a value",
		     "empty max_size");
	expect_error("[collect]\nexclude = var/cache/*\n",
		     "p.ini:2: 'exclude': glob 'var/cache/*' has a '/', so it matches whole paths: "
		     "start it with '/' or '*'",
		     "relative glob with a slash");
	expect_error("[secrets]\nkeys = db/password\n",
		     "p.ini:2: 'keys': glob 'db/password' has a '/', but it matches one key name, "
		     "not a path",
		     "key glob with a slash");
	expect_error("[formats]\n*.conf = toml\n",
		     "p.ini:2: unknown format 'toml' for '*.conf' (json, yaml, ini, keyvalue, keyword, none)",
		     "unknown format");
	expect_error("[formats]\n*.conf =\n",
		     "p.ini:2: the rule for '*.conf' needs a format (json, yaml, ini, keyvalue, keyword, none)",
		     "empty format");
	expect_error("[formats]\n*.conf = ini\n*.conf = json\n",
		     "p.ini:3: a rule for '*.conf' is already given above", "duplicate rule");
	expect_error("[formats]\n*.conf = ini\n  json\n",
		     "p.ini:3: a [formats] rule takes one format, but this indented line continues "
		     "the rule for '*.conf'",
		     "continued rule");
	expect_error("[formats]\netc/*.conf = ini\n",
		     "p.ini:2: glob 'etc/*.conf' has a '/', so it matches whole paths: start it with "
		     "'/' or '*'",
		     "relative format glob");
	expect_error("[collect]\nschema = app.db\n",
		     "p.ini:2: 'schema': 'app.db' is not [NAME=]ENGINE:TARGET (e.g. "
		     "app=sqlite:/var/lib/app.db)",
		     "schema without engine");
	expect_error("[collect]\nschema = app=mysql:shop\n",
		     "p.ini:2: 'schema': unknown engine 'mysql' in 'app=mysql:shop' (sqlite, postgres)",
		     "unknown engine");
	expect_error("[collect]\nschema = sqlite:var/app.db\n",
		     "p.ini:2: 'schema': the sqlite file in 'sqlite:var/app.db' must be an absolute "
		     "path",
		     "relative sqlite file");
	expect_error("[collect]\nschema = =sqlite:/a.db\n",
		     "p.ini:2: 'schema': the name in '=sqlite:/a.db' must be non-empty, without '/'",
		     "empty schema name");
	expect_error("[system]\nsysctl = net..core\n",
		     "p.ini:2: 'sysctl': sysctl key 'net..core' has an empty, '.' or '..' component",
		     "sysctl empty component");
	expect_error("[system]\nsysctl = net/../../etc\n",
		     "p.ini:2: 'sysctl': sysctl key 'net/../../etc' has an empty, '.' or '..' "
		     "component",
		     "sysctl escaping /proc/sys");
	expect_error("[system]\nsysctl = net.ipv4.*\n",
		     "p.ini:2: 'sysctl': sysctl key 'net.ipv4.*' has a character that is not "
		     "allowed (printable ASCII without spaces, quotes, '=', '\\' or glob "
		     "characters)",
		     "sysctl glob");
	expect_error("[collect]\nbad line\n",
		     "p.ini:2: expected '[section]', 'key = value' or a comment", "no '='");
	expect_error("[collect\npath = /x\n", "p.ini:1: section header without ']'",
		     "unclosed section");
	expect_error("[collect] path = /x\n", "p.ini:1: unexpected text after [collect]",
		     "text after a section header");
	expect_error("[collect]\npath = /a\n  [secrets]\n",
		     "p.ini:3: a section header must start at the beginning of the line",
		     "indented section header");
	expect_error("[collect]\npath = /a\n  exclude = *.swp\n",
		     "p.ini:3: this indented line continues 'path': start the line in column 1 to "
		     "set another key",
		     "indented key");
	expect_error("[collect]\n= /x\n", "p.ini:2: a line starts with '=' or ':': the key is missing",
		     "missing key");
	expect_error("[collect]\npath = \"/srv/a b\n",
		     "p.ini:2: 'path': unterminated quote", "unterminated quote");
	expect_error("[collect]\npath = \"\"\n", "p.ini:2: 'path': empty quoted item",
		     "empty quoted item");
	expect_error("[collect]\npath = \"/a\"/b\n",
		     "p.ini:2: 'path': text right after a closing quote", "text after a quote");
	expect_error("[collect]\npath = /a\"b\n",
		     "p.ini:2: 'path': quote inside an item (quote the whole item)",
		     "quote inside an item");
	expect_error("[collect]\npath = /caf\xe9\n", "p.ini:2: invalid UTF-8", "Latin-1 byte");
	expect_error("[collect]\npath = /a\x01\n", "p.ini:2: control character 0x01 in column 10",
		     "control character");
	expect_error("[collect]\npath = /a\rb\n", "p.ini:2: control character 0x0d in column 10",
		     "carriage return inside a line");
	{
		static const char nul[] = "[collect]\npath = /a\0b\n";
		struct ed_profile p = {0};
		struct ed_err err = {0};
		is_int(ed_profile_parse(ed_str_of(nul, sizeof(nul) - 1), ORIGIN, &p, &err), ED_PARSE,
		       "NUL byte: ED_PARSE");
		is_str(err.msg, "p.ini:2: NUL byte", "NUL byte: message");
		ed_profile_release(&p);
	}
	/* The first error in file order wins, whoever finds it. */
	expect_error("[collect]\nnot a pair\npth = /x\n",
		     "p.ini:2: expected '[section]', 'key = value' or a comment",
		     "libinih's error before ours");
	expect_error("[collect]\npth = /x\nnot a pair\n", "p.ini:2: unknown key 'pth' in [collect]",
		     "ours before libinih's");
	{
		/* A list may hold ED_PROFILE_MAX_ITEMS items, not one more. */
		struct ed_buf b = ED_BUF_INIT;
		ed_buf_adds(&b, "[collect]\nexclude =\n");
		for (int i = 0; i < ED_PROFILE_MAX_ITEMS; i++)
			ed_buf_addf(&b, " x%d\n", i);
		struct ed_profile p = {0};
		struct ed_err err = {0};
		is_int(parse_on(&p, b.p, &err), ED_OK, "%d items parse", ED_PROFILE_MAX_ITEMS);
		is_int(p.excludes.n, ED_PROFILE_MAX_ITEMS, "all kept");
		ed_buf_adds(&b, " x0 one-more\n");
		ed_profile_release(&p);
		is_int(parse_on(&p, b.p, &err), ED_PARSE, "one more is refused");
		char want[80];
		snprintf(want, sizeof(want), "p.ini:%d: 'exclude' has more than %d items",
			 ED_PROFILE_MAX_ITEMS + 3, ED_PROFILE_MAX_ITEMS);
		is_str(err.msg, want, "too many items: message");
		ed_profile_release(&p);
		ed_buf_release(&b);
	}
	/* An error after good lines: none of the good lines stick. */
	expect_error("[collect]\npath = /new\nexclude = *.tmp\n[system]\nsysctl = a..b\n",
		     "p.ini:5: 'sysctl': sysctl key 'a..b' has an empty, '.' or '..' component",
		     "error after good lines");
}

static void test_predicates(void)
{
	struct ed_profile p = {0};
	struct ed_err err = {0};
	ed_profile_default(&p, &err);

	ok(ed_profile_secret_file(&p, "/etc/shadow"), "secret: /etc/shadow");
	ok(!ed_profile_secret_file(&p, "/srv/etc/shadow"),
	   "secret: a glob with '/' matches the whole path only");
	ok(ed_profile_secret_file(&p, "/etc/ssl/private/ssl-cert-snakeoil.key"),
	   "secret: /etc/ssl/private/*");
	ok(ed_profile_secret_file(&p, "/etc/ssl/private/deep/x"), "secret: '*' crosses '/'");
	ok(ed_profile_secret_file(&p, "/home/app/.ssh/id_ed25519"), "secret: base name id_ed25519");
	ok(!ed_profile_secret_file(&p, "/home/app/.ssh/id_ed25519.pub"), "not secret: .pub");
	ok(ed_profile_secret_file(&p, "/etc/nginx/tls/site.PEM"), "secret: *.pem, any case");
	ok(ed_profile_secret_file(&p, "/etc/ssh/ssh_host_ed25519_key"), "secret: host key");
	ok(ed_profile_secret_file(&p, "/etc/app/DB_Password.txt"),
	   "secret: base name matches a secret key glob, case-insensitive");
	ok(ed_profile_secret_file(&p, "/etc/ppp/chap-secrets"), "secret: chap-secrets");
	ok(ed_profile_secret_file(&p, "/etc/app/db.passwd"), "secret: db.passwd matches *passwd*");
	ok(!ed_profile_secret_file(&p, "/etc/passwd"),
	   "not secret: /etc/passwd, the world-readable account list (read as account items)");
	ok(ed_profile_secret_file(&p, "/etc/shadow"), "secret: /etc/shadow");
	ok(!ed_profile_secret_file(&p, "/etc/hosts"), "not secret: /etc/hosts");
	ok(!ed_profile_secret_file(&p, "/etc/nginx/nginx.conf"), "not secret: nginx.conf");

	ok(ed_profile_keep(&p, "/etc/nginx/nginx.conf"), "keep: /etc/*.conf at depth 2");
	ok(ed_profile_keep(&p, "/etc/a/b/c/d.conf"), "keep: at any depth");
	ok(ed_profile_keep(&p, "/etc/hosts"), "keep: /etc/hosts");
	ok(ed_profile_keep(&p, "/etc/ssh/sshd_config"), "keep: sshd_config");
	ok(!ed_profile_keep(&p, "/srv/app.conf"), "keep: not outside /etc");
	ok(!ed_profile_keep(&p, "/etc/nginx/tls/site.key"), "keep: never a secret file");
	ok(!ed_profile_keep(&p, "/etc/app/secret.conf"), "keep: never a secret-named file");

	ok(!ed_profile_excluded(&p, "/etc/hosts"), "default: /etc/hosts collected");
	ok(ed_profile_excluded(&p, "/etc/passwd-"), "default: /etc/passwd- left out");
	ok(ed_profile_excluded(&p, "/etc/ssh/sshd_config.ucf-dist"), "default: a ucf backup left out");
	ok(ed_profile_excluded(&p, "/etc/app.conf~"), "default: an editor backup left out");
	ok(!ed_profile_excluded(&p, "/etc/app-1/x.conf"), "default: a '-' inside a name is no backup");
	is_int(parse_on(&p, "[collect]\nexclude = *.swp /etc/ssl/certs/* .git\n", &err), ED_OK,
	       "excludes parse");
	ok(ed_profile_excluded(&p, "/etc/nginx/.nginx.conf.swp"), "exclude: base name glob");
	ok(ed_profile_excluded(&p, "/etc/ssl/certs/ca.pem"), "exclude: path glob");
	ok(ed_profile_excluded(&p, "/srv/app/.git"), "exclude: plain base name");
	ok(!ed_profile_excluded(&p, "/srv/app/.gitignore"), "exclude: whole base name only");
	ok(!ed_profile_excluded(&p, "/etc/ssl/certs"), "exclude: the folder itself is not");
	ok(!ed_profile_excluded(&p, "/etc/nginx/nginx.SWP"), "exclude: case-sensitive");

	is_int(ed_profile_format(&p, "/etc/app/config.json"), ED_CFG_JSON, "format: .json");
	is_int(ed_profile_format(&p, "/etc/app/CONFIG.JSON"), ED_CFG_JSON, "format: .JSON");
	is_int(ed_profile_format(&p, "/etc/netplan/01.yaml"), ED_CFG_YAML, "format: .yaml");
	is_int(ed_profile_format(&p, "/etc/app/x.yml"), ED_CFG_YAML, "format: .yml");
	is_int(ed_profile_format(&p, "/etc/php/8.2/fpm/php.ini"), ED_CFG_INI, "format: .ini");
	is_int(ed_profile_format(&p, "/etc/mysql/my.cnf"), ED_CFG_NONE,
	       "format: .cnf is not INI by default");
	is_int(ed_profile_format(&p, "/etc/app/.env"), ED_CFG_KEYVALUE, "format: .env");
	is_int(ed_profile_format(&p, "/etc/app/production.env"), ED_CFG_KEYVALUE, "format: *.env");
	/* Only where configuration lives. */
	is_int(ed_profile_format(&p, "/srv/app/.env"), ED_CFG_NONE, "format: not outside a config tree");
	is_int(ed_profile_format(&p, "/usr/share/iso-codes/json/iso_639-3.json"), ED_CFG_NONE,
	       "format: not under /usr/share");
	is_int(ed_profile_format(&p, "/usr/local/etc/app.yaml"), ED_CFG_YAML,
	       "format: /usr/local/etc is a config tree");
	is_int(ed_profile_format(&p, "/etc/app/node_modules/x/package.json"), ED_CFG_NONE,
	       "format: never below node_modules, even in /etc");
	is_int(ed_profile_format(&p, "/etc/app/.git/config.json"), ED_CFG_NONE, "format: nor .git");
	ok(!ed_profile_secret_file(&p, "/usr/share/man/man1/passwd.1.gz"),
	   "secret by key pattern only in a config tree: not passwd.1.gz");
	ok(!ed_profile_secret_file(&p, "/usr/share/themes/gtk-keys.css"), "  nor gtk-keys.css");
	ok(ed_profile_secret_file(&p, "/usr/share/app/server.key"), "[secrets] files apply anywhere");
	ok(ed_profile_secret_file(&p, "/etc/app/db.password"), "key patterns still name files in /etc");
	is_int(ed_profile_format(&p, "/etc/app/app.properties"), ED_CFG_KEYVALUE,
	       "format: .properties");
	is_int(ed_profile_format(&p, "/etc/sysctl.conf"), ED_CFG_KEYVALUE, "format: sysctl.conf");
	is_int(ed_profile_format(&p, "/etc/sysctl.d/99-app.conf"), ED_CFG_KEYVALUE,
	       "format: /etc/sysctl.d/*.conf");
	is_int(ed_profile_format(&p, "/usr/lib/sysctl.d/50-default.conf"), ED_CFG_KEYVALUE,
	       "format: /usr/lib/sysctl.d/*.conf");
	is_int(ed_profile_format(&p, "/etc/sysctl.d/sub/x.conf"), ED_CFG_NONE,
	       "format: not below a sysctl.d subfolder");
	is_int(ed_profile_format(&p, "/etc/nginx/nginx.conf"), ED_CFG_NONE, "format: .conf none");
	is_int(ed_profile_format(&p, "/etc/json"), ED_CFG_NONE, "format: no extension");

	is_int(parse_on(&p,
			"[formats]\n/etc/mysql/*.cnf = ini\n*.json = none\n/etc/app/* = yaml\n",
			&err),
	       ED_OK, "rules parse");
	is_int(ed_profile_format(&p, "/etc/mysql/conf.d/x.cnf"), ED_CFG_INI, "rule: path glob");
	is_int(ed_profile_format(&p, "/etc/app/config.json"), ED_CFG_NONE, "rule: first match wins");
	is_int(ed_profile_format(&p, "/etc/app/x"), ED_CFG_YAML, "rule: later rule");
	is_int(ed_profile_format(&p, "/etc/x.yaml"), ED_CFG_YAML, "fallback after the rules");
	is_int(parse_on(&p, "[formats]\n* = none\n", &err), ED_OK, "catch-all rule parses");
	is_int(ed_profile_format(&p, "/etc/x.yaml"), ED_CFG_NONE, "'* = none' turns the table off");
	is_int(parse_on(&p, "[formats]\n/srv/data/*.json = json\nconfig_trees = /opt/*/config\n"
			    "data_trees = generated\nmax_keys = 50\n", &err),
	       ED_OK, "config_trees, data_trees, max_keys parse beside rules");
	is_int(ed_profile_format(&p, "/srv/data/x.json"), ED_CFG_JSON, "an explicit rule applies anywhere");
	is_int(ed_profile_format(&p, "/opt/shop/config/app.yaml"), ED_CFG_YAML, "a config_trees glob");
	is_int(ed_profile_format(&p, "/opt/shop/config/generated/x.yaml"), ED_CFG_NONE,
	       "  but not below a data_trees name");
	is_int(ed_profile_format(&p, "/etc/x.yaml"), ED_CFG_NONE, "config_trees replaces the default list");
	is_int((int)p.max_keys, 50, "max_keys 50");
	struct ed_err kbad = {0};
	is_int(parse_on(&p, "[formats]\nmax_keys = 0\n", &kbad), ED_PARSE, "max_keys 0 is refused");
	ed_profile_release(&p);

	/* Secret keys drive secret files, and an empty list means none. */
	struct ed_profile q = {0};
	is_int(parse_on(&q, "[secrets]\nkeys = *api*\n[formats]\nconfig_trees = /etc\n", &err), ED_OK,
	       "custom keys");
	ok(ed_profile_secret_file(&q, "/etc/API.txt"), "custom key glob: base name");
	ok(!ed_profile_secret_file(&q, "/etc/shadow"), "no secret files in an empty profile");
	ok(ed_glob_path_matches("*.conf", "/etc/a.conf", false), "path_matches: base name");
	ok(!ed_glob_path_matches("*.CONF", "/etc/a.conf", false), "path_matches: case");
	ok(ed_glob_path_matches("*.CONF", "/etc/a.conf", true), "path_matches: casefold");
	ok(ed_glob_path_matches("/etc/[ab].conf", "/etc/b.conf", false),
	   "path_matches: bracket expression");
	ed_profile_release(&q);
}

static void test_sysctl_keys(void)
{
	static const struct {
		const char *key, *canon, *path;
	} good[] = {
		{"net.core.somaxconn", "net.core.somaxconn", "net/core/somaxconn"},
		{"net/core/somaxconn", "net.core.somaxconn", "net/core/somaxconn"},
		{"net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.eth0/100.rp_filter",
		 "net/ipv4/conf/eth0.100/rp_filter"},
		{"net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter",
		 "net/ipv4/conf/eth0.100/rp_filter"},
		{"fs.file-max", "fs.file-max", "fs/file-max"},
		{"kernel", "kernel", "kernel"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ed_buf c = ED_BUF_INIT, r = ED_BUF_INIT;
		struct ed_err err = {0};
		is_int(ed_profile_sysctl_key(good[i].key, &c, &r, &err), ED_OK, "sysctl key %s",
		       good[i].key);
		is_str(ed_buf_str(&c), good[i].canon, "%s: canonical", good[i].key);
		is_str(ed_buf_str(&r), good[i].path, "%s: /proc/sys path", good[i].key);
		ed_buf_release(&c);
		ed_buf_release(&r);
	}
	static const char *const bad[] = {
		"", ".net", "net.", "net..core", "net/./x", "net.ipv4.conf.//.x", "a b", "a=b",
		"net.*", "k\xc3\xa9y",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ed_buf c = ED_BUF_INIT;
		struct ed_err err = {0};
		is_int(ed_profile_sysctl_key(bad[i], &c, NULL, &err), ED_PARSE,
		       "sysctl key '%s' refused", bad[i]);
		is_int(c.len, 0, "'%s': canon untouched", bad[i]);
		ed_buf_release(&c);
	}
	char longkey[300];
	memset(longkey, 'a', 256);
	longkey[256] = '\0';
	struct ed_err err = {0};
	is_int(ed_profile_sysctl_key(longkey, NULL, NULL, &err), ED_PARSE, "256-byte key refused");
}

/* [data] sensitive: entries kept as written, taken apart, bad ones named. */
static void test_sensitive(void)
{
	struct ed_profile p = {0};
	struct ed_err err = {0};
	ed_profile_default(&p, &err);
	is_int(p.sensitive.n, 0, "sensitive: none by default");
	enum ed_code rc = parse_on(&p,
				   "[data]\nsensitive = public.customer(email) public.customer(phone)\n"
				   "  public.payment(card_last4,customer_id,amount) main.users(Email)\n",
				   &err);
	is_int(rc, ED_OK, "sensitive: parses (with a continuation line)");
	is_str(joined(&p.sensitive),
	       "public.customer(email) public.customer(phone) "
	       "public.payment(card_last4,customer_id,amount) main.users(Email)",
	       "sensitive: the entries as written");
	struct ed_sensitive sv;
	rc = ed_sensitive_parse("public.payment(card_last4,customer_id,amount)", &sv, &err);
	is_int(rc, ED_OK, "ed_sensitive_parse: ok");
	is_str(sv.schema, "public", "ed_sensitive_parse: schema");
	is_str(sv.table, "payment", "ed_sensitive_parse: table");
	is_int(sv.ncols, 3, "ed_sensitive_parse: three columns");
	is_str(sv.cols[2], "amount", "ed_sensitive_parse: third column");
	char sig1[ED_COLLECT_SIG_SIZE], sig2[ED_COLLECT_SIG_SIZE];
	ed_collect_sig(&p, NULL, sig1, &err);
	ed_strlist_release(&p.sensitive);
	ed_collect_sig(&p, NULL, sig2, &err);
	ok(strcmp(sig1 + 32, sig2 + 32) != 0, "sensitive entries are part of the signature");
	ed_profile_release(&p);

	expect_error("[data]\nsensitive = public.customer\n",
		     "p.ini:2: 'sensitive': 'public.customer': write SCHEMA.TABLE(COLUMN,...), e.g. "
		     "public.customer(email) or main.customer(email,phone)",
		     "sensitive without columns");
	expect_error("[data]\nsensitive = customer(email)\n",
		     "p.ini:2: 'sensitive': 'customer(email)': write SCHEMA.TABLE(COLUMN,...), e.g. "
		     "public.customer(email) or main.customer(email,phone)",
		     "sensitive without schema");
	expect_error("[data]\nsensitive = public.customer(email,)\n",
		     "p.ini:2: 'sensitive': 'public.customer(email,)': the column name is empty",
		     "sensitive with an empty column");
	expect_error("[data]\nsensitive = public.customer(email,email)\n",
		     "p.ini:2: 'sensitive': 'public.customer(email,email)': column 'email' is "
		     "named twice",
		     "sensitive with a column twice");
	expect_error("[data]\nsensitive = public.cust;omer(email)\n",
		     "p.ini:2: 'sensitive': 'public.cust;omer(email)': the table name 'cust;omer' "
		     "is not a plain identifier (letters, digits, '_', '$'; not starting with a "
		     "digit)",
		     "sensitive with a bad table name");
	expect_error("[data]\nsensitive = public.customer(email, phone)\n",
		     "p.ini:2: 'sensitive': 'public.customer(email,': write SCHEMA.TABLE(COLUMN,...), "
		     "e.g. public.customer(email) or main.customer(email,phone)",
		     "sensitive with a space between columns");
}

static void test_formats_names(void)
{
	static const char *const names[] = {"none", "json", "yaml", "ini", "keyvalue"};
	for (size_t i = 0; i < 5; i++) {
		enum ed_config_format f;
		ok(ed_config_format_parse(names[i], &f) && f == (enum ed_config_format)i,
		   "format name %s parses", names[i]);
		is_str(ed_config_format_name(f), names[i], "format %s round-trips", names[i]);
	}
	enum ed_config_format f = ED_CFG_JSON;
	ok(!ed_config_format_parse("JSON", &f) && f == ED_CFG_NONE, "names are lower case");
	ok(!ed_config_format_parse(NULL, &f), "NULL name");
	is_str(ed_config_format_name((enum ed_config_format)99), "none", "out of range");
}

static void test_example_ini(const char *root, const char *path)
{
	size_t len = 0;
	char *text = read_file(path, &len);
	ok(text != NULL, "profiles/example.ini readable at %s", path);
	if (!text)
		return;
	struct ed_profile p = {0};
	struct ed_err err = {0};
	ed_profile_default(&p, &err);
	enum ed_code rc = ed_profile_parse(ed_str_of(text, len), path, &p, &err);
	is_int(rc, ED_OK, "example.ini parses on the default");
	if (rc)
		printf("# %s\n", err.msg);
	is_str(joined(&p.paths), "/etc /srv/shop /usr/local/bin /opt/certbot", "example: paths");
	is_str(joined(&p.packages), "dpkg pypi npm", "example: packages");
	is_int(p.schemas.n, 2, "example: two schemas");
	is_int(p.keep_max, 512 * 1024, "example: max_size 512K");
	is_int(p.nformats, 4, "example: four format rules");
	ok(ed_profile_secret_file(&p, "/etc/redis/redis.conf"), "example: redis.conf is secret");
	ok(!ed_profile_keep(&p, "/etc/redis/redis.conf"), "example: so its content is not kept");
	ok(ed_profile_keep(&p, "/srv/shop/config/app.conf"), "example: app config kept");
	ok(ed_profile_excluded(&p, "/srv/shop/app/__pycache__"), "example: __pycache__ excluded");
	is_int(ed_profile_format(&p, "/etc/postgresql/15/main/postgresql.conf"), ED_CFG_KEYVALUE,
	       "example: postgresql.conf as keyvalue");
	is_int(p.sysctl.n, 11, "example: eleven sysctl keys");
	char *z = realloc(text, len + 1);
	if (z) {
		text = z;
		text[len] = '\0';
		in_docs(root, text, "example.ini");
	}
	ed_profile_release(&p);
	free(text);
}

int main(int argc, char **argv)
{
	char root[4096], path[4200];
	const char *srcdir = getenv("SRCDIR");
	if (argc > 1) {
		snprintf(root, sizeof(root), "%s", argv[1]);
	} else if (srcdir && *srcdir) {
		snprintf(root, sizeof(root), "%s", srcdir);
	} else {
		/* __FILE__ is ".../tests/unit/test_profile.c" as the compiler saw it. */
		snprintf(root, sizeof(root), "%s", __FILE__);
		char *t = strstr(root, "tests/unit/test_profile.c");
		if (t)
			*t = '\0';
		if (!root[0])
			snprintf(root, sizeof(root), ".");
	}
	test_default();
	snprintf(path, sizeof(path), "%s/profiles/default.ini", root);
	test_default_ini(root, path);
	snprintf(path, sizeof(path), "%s/profiles/example.ini", root);
	test_example_ini(root, path);
	test_every_key();
	test_semantics();
	test_long_lines();
	test_errors();
	test_predicates();
	test_sysctl_keys();
	test_formats_names();
	test_sensitive();
	return tap_done();
}
