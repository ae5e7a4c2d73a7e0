/* SPDX-License-Identifier: MIT */
/*
 * System facts: the os-release parser (real files, quoting, malformed lines),
 * fixture roots (os-release variants and symlinks, localtime links, locale
 * files, missing files, sysctl under a fake proc/sys), and this machine
 * itself, checked against uname -r, uname -m and /proc/sys.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ed/buf.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "ed/profile.h"
#include "ed/source.h"
#include "ed/system.h"
#include "sink_mem.h"
#include "tap.h"

/* /usr/lib/os-release of Debian 12, as shipped by base-files 12.4+deb12u11. */
static const char debian12[] =
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	"NAME=\"Debian GNU/Linux\"\n"
	"VERSION_ID=\"12\"\n"
	"VERSION=\"12 (bookworm)\"\n"
	"VERSION_CODENAME=bookworm\n"
	"ID=debian\n"
	"HOME_URL=\"https://www.debian.org/\"\n"
	"SUPPORT_URL=\"https://www.debian.org/support\"\n"
	"BUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

/* /etc/os-release of Rocky Linux 9.3: blank line, ID_LIKE with a space, CPE, ANSI_COLOR. */
static const char rocky9[] =
	"NAME=\"Rocky Linux\"\n"
	"VERSION=\"9.3 (Blue Onyx)\"\n"
	"ID=\"rocky\"\n"
	"ID_LIKE=\"rhel centos fedora\"\n"
	"VERSION_ID=\"9.3\"\n"
	"PLATFORM_ID=\"platform:el9\"\n"
	"PRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n"
	"ANSI_COLOR=\"0;32\"\n"
	"LOGO=\"fedora-logo-icon\"\n"
	"CPE_NAME=\"cpe:/o:rocky:rocky:9::baseos\"\n"
	"HOME_URL=\"https://rockylinux.org/\"\n"
	"BUG_REPORT_URL=\"https://bugs.rockylinux.org/\"\n"
	"SUPPORT_END=\"2032-05-31\"\n"
	"ROCKY_SUPPORT_PRODUCT=\"Rocky-Linux-9\"\n"
	"ROCKY_SUPPORT_PRODUCT_VERSION=\"9.3\"\n"
	"REDHAT_SUPPORT_PRODUCT=\"Rocky Linux\"\n"
	"REDHAT_SUPPORT_PRODUCT_VERSION=\"9.3\"\n";

/* /etc/os-release of Alpine 3.19: unquoted values. */
static const char alpine319[] =
	"NAME=\"Alpine Linux\"\n"
	"ID=alpine\n"
	"VERSION_ID=3.19.1\n"
	"PRETTY_NAME=\"Alpine Linux v3.19\"\n"
	"HOME_URL=\"https://alpinelinux.org/\"\n"
	"BUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"\n";

static char root_base[1024];

/* ---- fixture helpers ---- */

static void mkdirs(const char *root, const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

static void parent_dirs(const char *root, const char *rel)
{
	char d[4096];
	snprintf(d, sizeof(d), "%s", rel);
	char *slash = strrchr(d, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(root, d);
	}
}

static void put_bytes(const char *root, const char *rel, const char *data, size_t len)
{
	char p[4096];
	parent_dirs(root, rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "wb");
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static void put(const char *root, const char *rel, const char *text)
{
	put_bytes(root, rel, text, strlen(text));
}

static void link_to(const char *root, const char *rel, const char *target)
{
	char p[4096];
	parent_dirs(root, rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p) != 0)
		printf("# symlink %s: %s\n", p, strerror(errno));
}

/* A fresh empty folder below root_base. */
static const char *new_root(const char *name)
{
	static char p[8][4096];
	static int i;
	char *r = p[i++ % 8];
	snprintf(r, 4096, "%s/%s", root_base, name);
	mkdir(r, 0755);
	return r;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Collects root's facts with the given sysctl keys into ms. */
static enum ed_code collect(const char *root, const char *const *keys, struct mem_sink *ms,
			    struct ed_err *err)
{
	struct ed_source *src = NULL;
	struct ed_strlist l = {0};
	for (; keys && *keys; keys++)
		ed_strlist_add(&l, *keys);
	mem_sink_init(ms);
	enum ed_code rc = ed_source_local_new(root, &src, err);
	if (rc == ED_OK)
		rc = ed_system_collect(src, keys ? &l : NULL, &ms->sink, err);
	ed_source_free(src);
	ed_strlist_release(&l);
	return rc;
}

static const char *value_of(const struct mem_sink *ms, const char *key)
{
	const struct mem_item *it = mem_sink_find(ms, key);
	return it ? it->value : NULL;
}

static void dump(const struct mem_sink *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		printf("#   item %s = %s%s%s\n", ms->items[i].key,
		       ms->items[i].value ? ms->items[i].value : "(none)",
		       ms->items[i].error ? " error: " : "",
		       ms->items[i].error ? ms->items[i].error : "");
	for (size_t i = 0; i < ms->nwarnings; i++)
		printf("#   warning %s\n", ms->warnings[i]);
}

static bool sorted(const struct mem_sink *ms)
{
	for (size_t i = 1; i < ms->n; i++)
		if (strcmp(ms->items[i - 1].key, ms->items[i].key) >= 0)
			return false;
	return true;
}

static bool fp_is_xxh3_of(const struct mem_item *it, const char *data, size_t len)
{
	struct ed_fp fp;
	ed_fp_of(data, len, &fp);
	return it && memcmp(fp.b, it->fp.b, ED_FP_LEN) == 0;
}

/* ---- the parser ---- */

static void parse(const char *text, size_t len, struct ed_sysvars *vars, struct mem_sink *ms)
{
	struct ed_err err = {0};
	memset(vars, 0, sizeof(*vars));
	mem_sink_init(ms);
	enum ed_code rc = ed_system_parse_env(ed_str_of(text, len), "os-release", &ms->sink, vars,
					      &err);
	if (rc)
		printf("# parse failed: %s\n", err.msg);
}

static const char *var(const struct ed_sysvars *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0)
			return v->v[i].value;
	return NULL;
}

static void test_parse_real(void)
{
	struct ed_sysvars v;
	struct mem_sink ms;
	parse(debian12, strlen(debian12), &v, &ms);
	is_int(v.n, 9, "debian 12: nine variables");
	is_str(var(&v, "PRETTY_NAME"), "Debian GNU/Linux 12 (bookworm)", "debian 12: PRETTY_NAME");
	is_str(var(&v, "VERSION_ID"), "12", "debian 12: VERSION_ID unquoted");
	is_str(var(&v, "VERSION_CODENAME"), "bookworm", "debian 12: bare value");
	is_str(v.n ? v.v[0].name : NULL, "PRETTY_NAME", "debian 12: file order kept");
	is_int(v.n > 5 ? v.v[5].line : 0, 6, "debian 12: line numbers");
	is_int(ms.nwarnings, 0, "debian 12: no warnings");
	ed_system_vars_release(&v);
	mem_sink_release(&ms);

	parse(rocky9, strlen(rocky9), &v, &ms);
	is_int(v.n, 17, "rocky 9: seventeen variables");
	is_str(var(&v, "ID_LIKE"), "rhel centos fedora", "rocky 9: value with spaces");
	is_str(var(&v, "CPE_NAME"), "cpe:/o:rocky:rocky:9::baseos", "rocky 9: CPE");
	is_str(var(&v, "ANSI_COLOR"), "0;32", "rocky 9: ';' inside quotes");
	is_int(ms.nwarnings, 0, "rocky 9: no warnings");
	ed_system_vars_release(&v);
	mem_sink_release(&ms);

	parse(alpine319, strlen(alpine319), &v, &ms);
	is_str(var(&v, "VERSION_ID"), "3.19.1", "alpine: unquoted version");
	is_int(ms.nwarnings, 0, "alpine: no warnings");
	ed_system_vars_release(&v);
	mem_sink_release(&ms);

	struct utsname u;
	FILE *f = fopen("/usr/lib/os-release", "rb");
	char buf[8192];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	parse(buf, n, &v, &ms);
	ok(n > 0 && var(&v, "ID") != NULL && uname(&u) == 0,
	   "this machine's /usr/lib/os-release has an ID (%s)", var(&v, "ID") ? var(&v, "ID") : "");
	is_int(ms.nwarnings, 0, "this machine's os-release: no warnings");
	ed_system_vars_release(&v);
	mem_sink_release(&ms);
}

static void test_parse_quoting(void)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"   # an indented comment\n"
		"DQ=\"say \\\"hi\\\" \\$HOME \\`x\\` back\\\\slash \\n kept\"\n"
		"SQ='single \"quotes\" and \\ stay'\n"
		"BARE=a\\ b\\\"c\n"
		"MIX=\"x y\"'z w'end\n"
		"EMPTY=\n"
		"EMPTYQ=\"\"\n"
		"export EXPORTED=yes\n"
		"COMMENTED=value   # trailing comment\n"
		"CRLF=\"dos\"\r\n"
		"  INDENTED=ok\n"
		"UTF8=\"Caf\xc3\xa9\"\n"
		"DUP=first\n"
		"DUP=second\n"
		"HASH=a#b\n"
		"last=no-newline";
	struct ed_sysvars v;
	struct mem_sink ms;
	parse(text, sizeof(text) - 1, &v, &ms);
	is_str(var(&v, "DQ"), "say \"hi\" $HOME `x` back\\slash \\n kept",
	       "double quotes: \\ quotes only $ ` \" \\");
	is_str(var(&v, "SQ"), "single \"quotes\" and \\ stay", "single quotes: literal");
	is_str(var(&v, "BARE"), "a b\"c", "bare: backslash quotes the next character");
	is_str(var(&v, "MIX"), "x yz wend", "quoted pieces concatenate as in sh");
	is_str(var(&v, "EMPTY"), "", "empty value");
	is_str(var(&v, "EMPTYQ"), "", "empty quoted value");
	is_str(var(&v, "EXPORTED"), "yes", "export prefix");
	is_str(var(&v, "COMMENTED"), "value", "trailing comment");
	is_str(var(&v, "CRLF"), "dos", "CRLF line end");
	is_str(var(&v, "INDENTED"), "ok", "leading blanks");
	is_str(var(&v, "UTF8"), "Caf\xc3\xa9", "UTF-8 value");
	is_str(var(&v, "DUP"), "second", "a later assignment wins");
	is_str(var(&v, "HASH"), "a#b", "'#' inside a word is not a comment");
	is_str(var(&v, "last"), "no-newline", "last line without a newline");
	size_t dup = 0;
	for (size_t i = 0; i < v.n; i++)
		dup += strcmp(v.v[i].name, "DUP") == 0;
	is_int(dup, 1, "a name appears once");
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.v[i].name, "DUP") == 0)
			is_int(v.v[i].line, 16, "DUP: the winning line");
	is_int(ms.nwarnings, 0, "no warnings");
	dump(&ms);
	ed_system_vars_release(&v);
	mem_sink_release(&ms);
}

static void test_parse_malformed(void)
{
	static const char text[] =
		"GOOD=1\n"
		"no equals sign\n"
		"1BAD=x\n"
		"SPACED = x\n"
		"OPEN=\"unterminated\n"
		"OPEN1='unterminated\n"
		"TWO=two words\n"
		"BS=trailing\\\n"
		"DQBS=\"a\\\n"
		"=novalue\n"
		"NUL=a\0b\n"
		"ALSO_GOOD='2'\n";
	struct ed_sysvars v;
	struct mem_sink ms;
	parse(text, sizeof(text) - 1, &v, &ms);
	is_int(v.n, 2, "malformed: only the two good lines kept");
	is_str(var(&v, "GOOD"), "1", "good line before");
	is_str(var(&v, "ALSO_GOOD"), "2", "good line after");
	static const char *const want[] = {
		"os-release:2: expected NAME=VALUE",
		"os-release:3: expected NAME=VALUE",
		"os-release:4: expected NAME=VALUE",
		"os-release:5: unterminated double quote",
		"os-release:6: unterminated single quote",
		"os-release:7: text after the value (quote values that hold blanks)",
		"os-release:8: backslash at the end of the line",
		"os-release:9: unterminated double quote",
		"os-release:10: expected NAME=VALUE",
		"os-release:11: NUL byte",
	};
	is_int(ms.nwarnings, 10, "malformed: ten warnings");
	for (size_t i = 0; i < 10 && i < ms.nwarnings; i++)
		is_str(ms.warnings[i], want[i], "warning %zu", i + 1);
	ed_system_vars_release(&v);
	mem_sink_release(&ms);

	/* No sink: still parses, nothing to warn to. */
	struct ed_err err = {0};
	memset(&v, 0, sizeof(v));
	is_int(ed_system_parse_env(ed_str_of(text, sizeof(text) - 1), NULL, NULL, &v, &err), ED_OK,
	       "NULL sink and origin");
	is_int(v.n, 2, "NULL sink: same variables");
	ed_system_vars_release(&v);

	/* Too many variables: capped with one warning. */
	struct ed_buf many = ED_BUF_INIT;
	for (int i = 0; i < ED_SYSTEM_MAX_VARS + 10; i++)
		ed_buf_addf(&many, "V%d=%d\n", i, i);
	ed_buf_adds(&many, "V0=again\n");
	parse(many.p, many.len, &v, &ms);
	is_int(v.n, ED_SYSTEM_MAX_VARS, "capped at %d variables", ED_SYSTEM_MAX_VARS);
	is_int(ms.nwarnings, 1, "one warning for the cap");
	is_str(ms.nwarnings ? ms.warnings[0] : NULL,
	       "os-release:257: more than 256 variables; the rest are ignored", "cap warning");
	is_str(var(&v, "V0"), "again", "a known name is still updated past the cap");
	ed_system_vars_release(&v);
	mem_sink_release(&ms);
	ed_buf_release(&many);

	parse("", 0, &v, &ms);
	is_int(v.n + ms.nwarnings, 0, "empty text: nothing");
	ed_system_vars_release(&v);
	mem_sink_release(&ms);
}

/* ---- fixture roots ---- */

static void test_full_root(void)
{
	const char *r = new_root("full");
	put(r, "usr/lib/os-release", debian12);
	link_to(r, "etc/os-release", "../usr/lib/os-release");
	put(r, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	put(r, "proc/sys/kernel/arch", "aarch64\n");
	link_to(r, "etc/localtime", "/usr/share/zoneinfo/Europe/Paris");
	put(r, "etc/timezone", "Etc/UTC\n"); /* stale: the link wins */
	put(r, "etc/default/locale", "#  File generated by update-locale\nLANG=en_US.UTF-8\n"
				     "LC_TIME=\"en_GB.UTF-8\"\n");
	put(r, "etc/locale.conf", "LANG=C.UTF-8\n"); /* not read: /etc/default/locale exists */
	put(r, "proc/sys/net/core/somaxconn", "4096\n");
	put(r, "proc/sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
	put(r, "proc/sys/net/ipv4/conf/eth0.100/rp_filter", "  1 \n\n");
	put(r, "proc/sys/kernel/core_pattern", "|/usr/lib/systemd/systemd-coredump %P %u %g\n");
	mkdirs(r, "proc/sys/net/core/adir");

	static const char *const keys[] = {
		"net.core.somaxconn", "net/core/somaxconn", /* the same key twice */
		"net.ipv4.ip_local_port_range",
		"net.ipv4.conf.eth0/100.rp_filter",
		"kernel.core_pattern",
		"vm.nosuch",
		"net.core.adir",
		"bad..key",
		NULL,
	};
	struct mem_sink ms;
	struct ed_err err = {0};
	is_int(collect(r, keys, &ms, &err), ED_OK, "full root: collects");
	static const char *const want[][2] = {
		{"arch", "aarch64"},
		{"kernel/release", "6.1.0-18-amd64"},
		{"locale/LANG", "en_US.UTF-8"},
		{"locale/LC_TIME", "en_GB.UTF-8"},
		{"os/BUG_REPORT_URL", "https://bugs.debian.org/"},
		{"os/HOME_URL", "https://www.debian.org/"},
		{"os/ID", "debian"},
		{"os/NAME", "Debian GNU/Linux"},
		{"os/PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)"},
		{"os/SUPPORT_URL", "https://www.debian.org/support"},
		{"os/VERSION", "12 (bookworm)"},
		{"os/VERSION_CODENAME", "bookworm"},
		{"os/VERSION_ID", "12"},
		{"sysctl/kernel.core_pattern", "|/usr/lib/systemd/systemd-coredump %P %u %g"},
		{"sysctl/net.core.adir", NULL},
		{"sysctl/net.core.somaxconn", "4096"},
		{"sysctl/net.ipv4.conf.eth0/100.rp_filter", "1"},
		{"sysctl/net.ipv4.ip_local_port_range", "32768 60999"},
		{"timezone", "Europe/Paris"},
	};
	size_t nwant = sizeof(want) / sizeof(want[0]);
	is_int(ms.n, nwant, "full root: %zu items", nwant);
	for (size_t i = 0; i < nwant && i < ms.n; i++) {
		is_str(ms.items[i].key, want[i][0], "item %zu key", i);
		is_str(ms.items[i].value, want[i][1], "%s value", want[i][0]);
		is_str(ms.items[i].kind, "system", "%s kind", want[i][0]);
	}
	ok(sorted(&ms), "items sorted by key");
	const struct mem_item *id = mem_sink_find(&ms, "os/ID");
	ok(fp_is_xxh3_of(id, "debian", 6), "fp is XXH3-128 of the value");
	const struct mem_item *adir = mem_sink_find(&ms, "sysctl/net.core.adir");
	ok(adir && adir->error && strstr(adir->error, "not a regular file"),
	   "unreadable sysctl: an item with an error");
	ok(adir && fp_is_xxh3_of(adir, adir->error, strlen(adir->error)),
	   "error item: fp of the error text");
	ok(adir && adir->ftype == ED_FT_NONE, "no file type on system items");
	is_int(ms.nwarnings, 3, "full root: three warnings");
	ok(mem_sink_warned(&ms, "sysctl key 'vm.nosuch' does not exist on this host (no "
				"/proc/sys/vm/nosuch)"),
	   "missing sysctl key: warning");
	ok(mem_sink_warned(&ms, "sysctl key 'bad..key' has an empty, '.' or '..' component"),
	   "invalid sysctl key: warning");
	ok(mem_sink_warned(&ms, "sysctl key 'net.core.adir': "), "unreadable sysctl: warning");
	dump(&ms);
	mem_sink_release(&ms);

	/* The sink's failure stops the collection and comes back. */
	mem_sink_init(&ms);
	struct ed_source *src = NULL;
	ed_source_local_new(r, &src, &err);
	ms.fail_after = 3;
	is_int(ed_system_collect(src, NULL, &ms.sink, &err), ED_STORE, "sink failure returned");
	is_int(ms.n, 2, "nothing emitted after the failure");
	ed_source_free(src);
	mem_sink_release(&ms);
}

/* Is key an item with no value and attrs {"unknown":true}? */
static bool unknown(const struct mem_sink *ms, const char *key)
{
	const struct mem_item *it = mem_sink_find(ms, key);
	return it && !it->value && it->attrs && strcmp(it->attrs, "{\"unknown\":true}") == 0;
}

static void test_sparse_roots(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};

	/* Empty root: no warnings, even for missing /proc; what /proc would tell is unknown. */
	const char *r = new_root("empty");
	is_int(collect(r, NULL, &ms, &err), ED_OK, "empty root: collects");
	is_int(ms.nwarnings, 0, "empty root: no warnings");
	is_int(ms.n, 2, "empty root: two items, arch and kernel/release");
	ok(unknown(&ms, "arch") && unknown(&ms, "kernel/release"), "  both unknown");
	dump(&ms);
	mem_sink_release(&ms);

	/* /usr/lib/os-release only; no /proc; copied localtime + /etc/timezone; locale.conf. */
	r = new_root("rhel");
	put(r, "usr/lib/os-release", rocky9);
	put(r, "etc/localtime", "TZif2\0\0\0");
	put(r, "etc/timezone", "America/New_York\nsecond line ignored\n");
	put(r, "etc/locale.conf", "LANG=\"de_DE.UTF-8\"\n");
	static const char *const keys[] = {"vm.swappiness", "fs.file-max", NULL};
	is_int(collect(r, keys, &ms, &err), ED_OK, "rhel root: collects");
	is_str(value_of(&ms, "os/ID"), "rocky", "fallback to /usr/lib/os-release");
	is_str(value_of(&ms, "os/ID_LIKE"), "rhel centos fedora", "ID_LIKE");
	ok(unknown(&ms, "kernel/release"), "no /proc: kernel/release unknown");
	ok(unknown(&ms, "arch"), "no /proc: arch unknown");
	is_str(value_of(&ms, "timezone"), "America/New_York",
	       "a copied /etc/localtime: /etc/timezone, first line");
	is_str(value_of(&ms, "locale/LANG"), "de_DE.UTF-8", "/etc/locale.conf");
	ok(unknown(&ms, "sysctl/vm.swappiness") && unknown(&ms, "sysctl/fs.file-max"),
	   "no /proc/sys: the sysctl keys are unknown");
	is_int(ms.nwarnings, 0, "no /proc/sys (an image on disk): no warnings");

	/* /proc/sys that is a file: one warning, no items. */
	put(r, "proc/sys", "not a folder\n");
	mem_sink_release(&ms);
	is_int(collect(r, keys, &ms, &err), ED_OK, "proc/sys a file: collects");
	is_int(ms.nwarnings, 1, "proc/sys a file: one warning");
	is_str(ms.nwarnings ? ms.warnings[0] : NULL,
	       "/proc/sys: not a folder; 2 sysctl keys not recorded", "proc/sys a file: the warning");
	mem_sink_release(&ms);

	/* /etc/os-release wins over /usr/lib/os-release; relative localtime link. */
	r = new_root("both");
	put(r, "usr/lib/os-release", debian12);
	put(r, "etc/os-release", alpine319);
	link_to(r, "etc/localtime", "../usr/share/zoneinfo/UTC");
	is_int(collect(r, NULL, &ms, &err), ED_OK, "both: collects");
	is_str(value_of(&ms, "os/ID"), "alpine", "/etc/os-release first");
	ok(!mem_sink_find(&ms, "os/VERSION_CODENAME"), "files are not merged");
	is_str(value_of(&ms, "timezone"), "UTC", "relative localtime link");
	is_int(ms.nwarnings, 0, "both: no warnings");
	mem_sink_release(&ms);

	/* A chain of links, an absolute link, the posix/ zone tree, no zoneinfo at all. */
	r = new_root("chain");
	put(r, "opt/os/release", "ID=chained\n");
	link_to(r, "usr/lib/os-release", "/opt/os/release");
	link_to(r, "etc/os-release", "../usr/lib/os-release");
	link_to(r, "etc/localtime", "/usr/share/zoneinfo/posix/Asia/Tokyo");
	is_int(collect(r, NULL, &ms, &err), ED_OK, "chain: collects");
	is_str(value_of(&ms, "os/ID"), "chained", "links followed inside the root");
	is_str(value_of(&ms, "timezone"), "posix/Asia/Tokyo", "text after the last zoneinfo/");
	mem_sink_release(&ms);

	r = new_root("weird");
	link_to(r, "etc/os-release", "os-release");  /* a loop */
	link_to(r, "etc/localtime", "/etc/zones/Berlin");
	put(r, "etc/default/locale", "LANG=C.UTF-8\nbroken line\n");
	put_bytes(r, "usr/lib/os-release", "ID=x\n", 5); /* not reached: /etc's link exists */
	is_int(collect(r, NULL, &ms, &err), ED_OK, "weird: collects");
	ok(!mem_sink_find(&ms, "os/ID"), "a link loop: no os items");
	ok(mem_sink_warned(&ms, "/etc/os-release: too many levels of symbolic links"),
	   "a link loop: warning");
	is_str(value_of(&ms, "timezone"), "/etc/zones/Berlin",
	       "a link without zoneinfo/: the whole target");
	is_str(value_of(&ms, "locale/LANG"), "C.UTF-8", "locale kept past a broken line");
	ok(mem_sink_warned(&ms, "/etc/default/locale:2: expected NAME=VALUE"),
	   "locale: broken line warned with file and line");
	dump(&ms);
	mem_sink_release(&ms);

	/* Links cannot lead out of the root. */
	r = new_root("escape");
	link_to(r, "etc/os-release", "../../../../../../../../usr/lib/os-release");
	put(r, "usr/lib/os-release", "ID=inside\n");
	is_int(collect(r, NULL, &ms, &err), ED_OK, "escape: collects");
	is_str(value_of(&ms, "os/ID"), "inside", "'..' stops at the root");
	mem_sink_release(&ms);

	/* os-release is a folder; invalid UTF-8; an empty /etc/timezone. */
	r = new_root("odd");
	mkdirs(r, "etc/os-release");
	put(r, "usr/lib/os-release", "ID=never\n");
	put(r, "etc/timezone", "\n");
	put(r, "etc/locale.conf", "LANG=caf\xe9\n");
	is_int(collect(r, NULL, &ms, &err), ED_OK, "odd: collects");
	ok(mem_sink_warned(&ms, "/etc/os-release: not a regular file"), "a folder: warning");
	ok(!mem_sink_find(&ms, "os/ID"), "a folder: no fallback (it exists)");
	ok(!mem_sink_find(&ms, "timezone"), "an empty /etc/timezone: no item");
	const struct mem_item *lang = mem_sink_find(&ms, "locale/LANG");
	is_str(lang ? lang->value : NULL, "caf\\xe9", "invalid UTF-8: shown escaped");
	ok(fp_is_xxh3_of(lang, "caf\xe9", 4), "invalid UTF-8: fp of the raw bytes");
	mem_sink_release(&ms);
}

/* ---- this machine ---- */

static bool run_line(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	bool got = fgets(out, (int)cap, p) != NULL;
	pclose(p);
	if (got)
		out[strcspn(out, "\n")] = '\0';
	return got;
}

static void test_this_machine(void)
{
	static const char *const keys[] = {
		"net.core.somaxconn", "vm.swappiness", "vm.overcommit_memory", "fs.file-max",
		"kernel.pid_max", "net.ipv4.ip_local_port_range", NULL,
	};
	struct mem_sink ms;
	struct ed_err err = {0};
	is_int(collect("/", keys, &ms, &err), ED_OK, "this machine: collects");
	char want[512];
	ok(run_line("uname -r", want, sizeof(want)), "uname -r runs");
	is_str(value_of(&ms, "kernel/release"), want, "kernel/release == uname -r");
	ok(run_line("uname -m", want, sizeof(want)), "uname -m runs");
	is_str(value_of(&ms, "arch"), want, "arch == uname -m");
	if (run_line("sh -c '. /etc/os-release && printf %s \"$ID\"'", want, sizeof(want)))
		is_str(value_of(&ms, "os/ID"), want, "os/ID == what sh reads from /etc/os-release");
	else
		ok(!mem_sink_find(&ms, "os/ID"), "no os-release here, no os/ID");
	if (run_line("sh -c '. /etc/os-release && printf %s \"$PRETTY_NAME\"'", want,
		     sizeof(want)))
		is_str(value_of(&ms, "os/PRETTY_NAME"), want, "os/PRETTY_NAME == sh's");
	ok(run_line("tr -s '\\t ' '  ' < /proc/sys/net/ipv4/ip_local_port_range", want,
		    sizeof(want)),
	   "ip_local_port_range readable");
	is_str(value_of(&ms, "sysctl/net.ipv4.ip_local_port_range"), want,
	       "ip_local_port_range: tab squeezed to one space");
	ok(run_line("cat /proc/sys/net/core/somaxconn", want, sizeof(want)), "somaxconn readable");
	is_str(value_of(&ms, "sysctl/net.core.somaxconn"), want, "somaxconn == /proc/sys");
	ok(run_line("cat /proc/sys/vm/swappiness", want, sizeof(want)), "swappiness readable");
	is_str(value_of(&ms, "sysctl/vm.swappiness"), want, "swappiness == /proc/sys");
	const struct mem_item *tz = mem_sink_find(&ms, "timezone");
	char link[4096];
	ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		char *z = strstr(link, "zoneinfo/");
		is_str(tz ? tz->value : NULL, z ? z + 9 : link, "timezone == the localtime link");
	} else {
		ok(1, "no /etc/localtime link here");
	}
	ok(sorted(&ms), "this machine: sorted");
	is_int(ms.nwarnings, 0, "this machine: no warnings");
	dump(&ms);
	mem_sink_release(&ms);
}

int main(void)
{
	if (!tap_tmpdir(root_base, sizeof(root_base), "ed-test-system")) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_parse_real();
	test_parse_quoting();
	test_parse_malformed();
	test_full_root();
	test_sparse_roots();
	test_this_machine();
	nftw(root_base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
