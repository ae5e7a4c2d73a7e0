/* SPDX-License-Identifier: MIT */
/*
 * dpkg status parser: real stanzas from a Debian 12 host, installed-only filtering,
 * fingerprints, malformed and hostile input, sink failure, and this machine's own file.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "sink_mem.h"
#include "tap.h"

#define ORIGIN "var/lib/dpkg/status"

/*
 * Seven stanzas copied from /var/lib/dpkg/status of a Debian 12 machine, in
 * file order; two Status lines are edited: gcc is held ("hold ok installed",
 * still installed) and zlib1g removed with its conffiles left
 * ("deinstall ok config-files", not installed). Joined with blank lines by
 * excerpt(), adduser starts on line 1, libc6 on line 128, zlib1g on line 151.
 */
static const char *const real_stanzas[] = {
	"Package: adduser\n"
	"Status: install ok installed\n"
	"Priority: important\n"
	"Section: admin\n"
	"Installed-Size: 686\n"
	"Maintainer: Debian Adduser Developers <adduser@packages.debian.org>\n"
	"Architecture: all\n"
	"Multi-Arch: foreign\n"
	"Version: 3.134\n"
	"Depends: passwd\n"
	"Suggests: liblocale-gettext-perl, perl, cron, quota\n"
	"Conffiles:\n"
	" /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18\n"
	" /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f\n"
	"Description: add and remove users and groups\n"
	" This package includes the 'adduser' and 'deluser' commands for creating\n"
	" and removing users.\n"
	" .\n"
	"  - 'adduser' creates new users and groups and adds existing users to\n"
	"    existing groups;\n"
	"  - 'deluser' removes users and groups and removes users from a given\n"
	"    group.\n"
	" .\n"
	" Adding users with 'adduser' is much easier than adding them manually.\n"
	" 'Adduser' will choose UID and GID values that conform to Debian policy,\n"
	" create a home directory, copy skeletal user configuration, and\n"
	" automate setting initial values for the user's password, real name\n"
	" and so on.\n"
	" .\n"
	" 'Deluser' can back up and remove users' home directories\n"
	" and mail spool or all the files they own on the system.\n"
	" .\n"
	" A custom script can be executed after each of the commands.\n"
	" .\n"
	" 'Adduser' and 'Deluser' are intended to be used by the local\n"
	" administrator in lieu of the tools from the 'useradd' suite, and\n"
	" they provide support for easy use from Debian package maintainer\n"
	" scripts, functioning as kind of a policy layer to make those scripts\n"
	" easier and more stable to write and maintain.\n",
	"Package: base-files\n"
	"Essential: yes\n"
	"Status: install ok installed\n"
	"Priority: required\n"
	"Section: admin\n"
	"Installed-Size: 341\n"
	"Maintainer: Santiago Vila <sanvila@debian.org>\n"
	"Architecture: amd64\n"
	"Multi-Arch: foreign\n"
	"Version: 12.4+deb12u11\n"
	"Replaces: base, dpkg (<= 1.15.0), miscutils\n"
	"Provides: base\n"
	"Pre-Depends: awk\n"
	"Breaks: debian-security-support (<< 2019.04.25), initscripts (<< 2.88dsf-13.3), sendfile (<< 2.1b.20080616-5.2~)\n"
	"Conffiles:\n"
	" /etc/debian_version 8031d1483ffa9c819e6be94c6c77fd2a\n"
	" /etc/dpkg/origins/debian c47b6815f67ad1aeccb0d4529bd0b990\n"
	" /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6\n"
	" /etc/issue 349d61a0e072d678e3e94923f0c3ce0e\n"
	" /etc/issue.net 3ae9b9ff69a78d614864f1957778fecb\n"
	" /etc/update-motd.d/10-uname 9e1b832b7b06f566156e7c9e0548247b\n"
	"Description: Debian base system miscellaneous files\n"
	" This package contains the basic filesystem hierarchy of a Debian system, and\n"
	" several important miscellaneous files, such as /etc/debian_version,\n"
	" /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others,\n"
	" and the text of several common licenses in use on Debian systems.\n",
	"Package: bsdutils\n"
	"Essential: yes\n"
	"Status: install ok installed\n"
	"Priority: required\n"
	"Section: utils\n"
	"Installed-Size: 355\n"
	"Maintainer: util-linux packagers <util-linux@packages.debian.org>\n"
	"Architecture: amd64\n"
	"Multi-Arch: foreign\n"
	"Source: util-linux (2.38.1-5+deb12u3)\n"
	"Version: 1:2.38.1-5+deb12u3\n"
	"Pre-Depends: libc6 (>= 2.34), libsystemd0\n"
	"Recommends: bsdextrautils\n"
	"Description: basic utilities from 4.4BSD-Lite\n"
	" This package contains the bare minimum of BSD utilities needed for a Debian\n"
	" system: logger, renice, script, scriptlive, scriptreplay and wall. The\n"
	" remaining standard BSD utilities are provided by bsdextrautils.\n"
	"Homepage: https://www.kernel.org/pub/linux/utils/util-linux/\n",
	"Package: cpp\n"
	"Status: install ok installed\n"
	"Priority: optional\n"
	"Section: interpreters\n"
	"Installed-Size: 30\n"
	"Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>\n"
	"Architecture: amd64\n"
	"Multi-Arch: allowed\n"
	"Source: gcc-defaults (1.203)\n"
	"Version: 4:12.2.0-3\n"
	"Depends: cpp-12 (>= 12.2.0-1~)\n"
	"Suggests: cpp-doc\n"
	"Conflicts: cpp-doc (<< 1:2.95.3)\n"
	"Description: GNU C preprocessor (cpp)\n"
	" The GNU C preprocessor is a macro processor that is used automatically\n"
	" by the GNU C compiler to transform programs before actual compilation.\n"
	" .\n"
	" This package has been separated from gcc for the benefit of those who\n"
	" require the preprocessor but not the compiler.\n"
	" .\n"
	" This is a dependency package providing the default GNU C preprocessor.\n",
	"Package: gcc\n"
	"Status: hold ok installed\n"
	"Priority: optional\n"
	"Section: devel\n"
	"Installed-Size: 47\n"
	"Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>\n"
	"Architecture: amd64\n"
	"Source: gcc-defaults (1.203)\n"
	"Version: 4:12.2.0-3\n"
	"Provides: c-compiler, gcc-x86-64-linux-gnu (= 4:12.2.0-3)\n"
	"Depends: cpp (= 4:12.2.0-3), gcc-12 (>= 12.2.0-1~)\n"
	"Recommends: libc6-dev | libc-dev\n"
	"Suggests: gcc-multilib, make, manpages-dev, autoconf, automake, libtool, flex, bison, gdb, gcc-doc\n"
	"Conflicts: gcc-doc (<< 1:2.95.3)\n"
	"Description: GNU C compiler\n"
	" This is the GNU C compiler, a fairly portable optimizing compiler for C.\n"
	" .\n"
	" This is a dependency package providing the default GNU C compiler.\n",
	"Package: libc6\n"
	"Status: install ok installed\n"
	"Priority: optional\n"
	"Section: libs\n"
	"Installed-Size: 13001\n"
	"Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n"
	"Architecture: amd64\n"
	"Multi-Arch: same\n"
	"Source: glibc\n"
	"Version: 2.36-9+deb12u14\n"
	"Replaces: libc6-amd64\n"
	"Depends: libgcc-s1\n"
	"Recommends: libidn2-0 (>= 2.0.5~)\n"
	"Suggests: glibc-doc, debconf | debconf-2.0, libc-l10n, locales, libnss-nis, libnss-nisplus\n"
	"Breaks: aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6), chrony (<< 4.2-3~), fakechroot (<< 2.19-3.5), firefox (<< 91~), firefox-esr (<< 91~), gnumach-image-1.8-486 (<< 2:1.8+git20210923~), gnumach-image-1.8-486-dbg (<< 2:1.8+git20210923~), gnumach-image-1.8-xen-486 (<< 2:1.8+git20210923~), gnumach-image-1.8-xen-486-dbg (<< 2:1.8+git20210923~), hurd (<< 1:0.9.git20220301-2), ioquake3 (<< 1.36+u20200211.f2c61c1~dfsg-2~), iraf-fitsutil (<< 2018.07.06-4), libgegl-0.4-0 (<< 0.4.18), libtirpc1 (<< 0.2.3), locales (<< 2.36), locales-all (<< 2.36), macs (<< 2.2.7.1-3~), nocache (<< 1.1-1~), nscd (<< 2.36), openarena (<< 0.8.8+dfsg-4~), openssh-server (<< 1:8.1p1-5), python3-iptables (<< 1.0.0-2), r-cran-later (<< 0.7.5+dfsg-2), tinydns (<< 1:1.05-14), valgrind (<< 1:3.19.0-1~), wcc (<< 0.0.2+dfsg-3)\n"
	"Conffiles:\n"
	" /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab\n"
	"Description: GNU C Library: Shared libraries\n"
	" Contains the standard libraries that are used by nearly all programs on\n"
	" the system. This package includes shared versions of the standard C library\n"
	" and the standard math library, as well as many others.\n"
	"Homepage: https://www.gnu.org/software/libc/libc.html\n",
	"Package: zlib1g\n"
	"Status: deinstall ok config-files\n"
	"Priority: optional\n"
	"Section: libs\n"
	"Installed-Size: 168\n"
	"Maintainer: Mark Brown <broonie@debian.org>\n"
	"Architecture: amd64\n"
	"Multi-Arch: same\n"
	"Source: zlib\n"
	"Version: 1:1.2.13.dfsg-1\n"
	"Provides: libz1\n"
	"Depends: libc6 (>= 2.14)\n"
	"Breaks: libxml2 (<< 2.7.6.dfsg-2), texlive-binaries (<< 2009-12)\n"
	"Conflicts: zlib1 (<= 1:1.0.4-7)\n"
	"Description: compression library - runtime\n"
	" zlib is a library implementing the deflate compression method found\n"
	" in gzip and PKZIP.  This package includes the shared library.\n"
	"Homepage: http://zlib.net/\n",
};

#define NSTANZAS (sizeof(real_stanzas) / sizeof(real_stanzas[0]))

/* What the excerpt must produce, in file order. */
static const struct {
	const char *key;
	const char *version;
	const char *arch;
} expected[] = {
	{"dpkg:adduser:all", "3.134", "all"},
	{"dpkg:base-files:amd64", "12.4+deb12u11", "amd64"},
	{"dpkg:bsdutils:amd64", "1:2.38.1-5+deb12u3", "amd64"},
	{"dpkg:cpp:amd64", "4:12.2.0-3", "amd64"},
	{"dpkg:gcc:amd64", "4:12.2.0-3", "amd64"},
	{"dpkg:libc6:amd64", "2.36-9+deb12u14", "amd64"},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

/* The excerpt as one status file; the caller frees it. Exits on allocation failure. */
static char *excerpt(size_t *len)
{
	struct ed_buf b = ED_BUF_INIT;
	for (size_t i = 0; i < NSTANZAS; i++)
		if ((i && ed_buf_addc(&b, '\n')) || ed_buf_adds(&b, real_stanzas[i]))
			exit(99);
	*len = b.len;
	return ed_buf_detach(&b);
}

static enum ed_code parse_n(const char *s, size_t len, struct mem_sink *ms, struct ed_err *err)
{
	mem_sink_init(ms);
	return ed_dpkg_parse(ed_str_of(s, len), ORIGIN, &ms->sink, err);
}

static enum ed_code parse(const char *s, struct mem_sink *ms)
{
	struct ed_err err = {0};
	return parse_n(s, strlen(s), ms, &err);
}

static bool fp_is(const struct ed_fp *fp, const char *version, const char *arch)
{
	struct ed_buf b = ED_BUF_INIT;
	struct ed_fp want;
	if (ed_buf_addf(&b, "%s\n%s", version, arch))
		exit(99);
	ed_fp_of(b.p, b.len, &want);
	ed_buf_release(&b);
	return memcmp(fp->b, want.b, ED_FP_LEN) == 0;
}

static bool fp_eq(const struct ed_fp *a, const struct ed_fp *b)
{
	return memcmp(a->b, b->b, ED_FP_LEN) == 0;
}

static void print_warnings(const struct mem_sink *ms)
{
	for (size_t i = 0; i < ms->nwarnings; i++)
		printf("#   warning: %s\n", ms->warnings[i]);
}

static void test_excerpt(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	size_t len;
	char *text = excerpt(&len);

	is_int(parse_n(text, len, &ms, &err), ED_OK, "excerpt: parses");
	is_int(ms.nwarnings, 0, "excerpt: no warnings");
	print_warnings(&ms);
	is_int(ms.n, NEXPECTED, "excerpt: one item per installed package (held included)");
	for (size_t i = 0; i < NEXPECTED && i < ms.n; i++) {
		const struct mem_item *it = &ms.items[i];
		char attrs[128];
		snprintf(attrs, sizeof(attrs), "{\"arch\":\"%s\",\"manager\":\"dpkg\"}",
			 expected[i].arch);
		is_str(it->key, expected[i].key, "excerpt: item %zu key in file order", i);
		is_str(it->kind, ED_KIND_PACKAGE, "excerpt: %s kind", expected[i].key);
		is_str(it->value, expected[i].version, "excerpt: %s version as written",
		       expected[i].key);
		ok(fp_is(&it->fp, expected[i].version, expected[i].arch),
		   "excerpt: %s fingerprint of \"VERSION\\nARCH\"", expected[i].key);
		is_str(it->attrs, attrs, "excerpt: %s attrs", expected[i].key);
		ok(!it->error && !it->owner && !it->group && !it->target &&
			   it->ftype == ED_FT_NONE && it->mode == 0 && it->size == 0,
		   "excerpt: %s other fields empty", expected[i].key);
	}
	ok(!mem_sink_find(&ms, "dpkg:zlib1g:amd64"), "excerpt: config-files package skipped");
	is_int(err.code, ED_OK, "excerpt: err untouched");
	mem_sink_release(&ms);
	free(text);
}

/* The fingerprint of a one-package file with this version and architecture. */
static struct ed_fp fp_for(const char *stanza)
{
	struct mem_sink ms;
	struct ed_fp fp = {{0}};
	parse(stanza, &ms);
	if (ms.n == 1)
		fp = ms.items[0].fp;
	mem_sink_release(&ms);
	return fp;
}

static void test_fingerprint(void)
{
	struct mem_sink ms;
	struct ed_fp base = fp_for("Package: foo\nStatus: install ok installed\n"
				   "Architecture: amd64\nVersion: 1.0-1\n");
	struct ed_fp ver = fp_for("Package: foo\nStatus: install ok installed\n"
				  "Architecture: amd64\nVersion: 1.0-2\n");
	struct ed_fp epoch = fp_for("Package: foo\nStatus: install ok installed\n"
				    "Architecture: amd64\nVersion: 1:1.0-1\n");
	struct ed_fp arch = fp_for("Package: foo\nStatus: install ok installed\n"
				   "Architecture: arm64\nVersion: 1.0-1\n");
	struct ed_fp other = fp_for("version: 1.0-1\nDescription: another\n more\n"
				    "ARCHITECTURE:amd64\nPACKAGE: foo\nsTaTuS: hold ok installed\n"
				    "Depends: libc6\n");
	struct ed_fp trimmed = fp_for("Package:  foo \nStatus:\tinstall  ok\tinstalled \n"
				      "Architecture: amd64\t\nVersion:   1.0-1  \n");

	ok(fp_is(&base, "1.0-1", "amd64"), "fp: of \"1.0-1\\namd64\"");
	ok(!fp_eq(&base, &ver), "fp: changes with the version");
	ok(!fp_eq(&base, &epoch), "fp: changes with the epoch");
	ok(!fp_eq(&base, &arch), "fp: changes with the architecture");
	ok(fp_eq(&base, &other), "fp: field order, name case, other fields make no difference");
	ok(fp_eq(&base, &trimmed), "fp: blanks around values make no difference");

	parse("Package: foo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n"
	      "Package: foo\nStatus: install ok installed\nArchitecture: i386\nVersion: 1\n",
	      &ms);
	ok(ms.n == 2 && mem_sink_find(&ms, "dpkg:foo:amd64") && mem_sink_find(&ms, "dpkg:foo:i386"),
	   "multi-arch: one item per architecture");
	is_int(ms.nwarnings, 0, "multi-arch: no warnings");
	mem_sink_release(&ms);
}

static void test_not_installed(void)
{
	struct mem_sink ms;
	parse("Package: a\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n\n"
	      "Package: b\nStatus: purge ok not-installed\nArchitecture: amd64\n\n"
	      "Package: c\nStatus: install ok half-installed\nArchitecture: amd64\nVersion: 1\n\n"
	      "Package: d\nStatus: install reinstreq half-installed\nArchitecture: amd64\n"
	      "Version: 1\n\n"
	      "Package: e\nStatus: install ok unpacked\nArchitecture: amd64\nVersion: 1\n\n"
	      "Package: f\nStatus: install ok half-configured\nArchitecture: amd64\nVersion: 1\n\n"
	      "Package: g\nStatus: unknown ok not-installed\n\n"
	      "Package: h\nStatus: deinstall ok installed\nArchitecture: amd64\nVersion: 2\n\n"
	      "Package: i\nStatus: install ok triggers-pending\nArchitecture: amd64\nVersion: 1\n",
	      &ms);
	is_int(ms.n, 2, "not installed: only the installed packages are emitted");
	ok(mem_sink_find(&ms, "dpkg:h:amd64") != NULL,
	   "not installed: 'deinstall ok installed' is still installed");
	ok(mem_sink_find(&ms, "dpkg:i:amd64") != NULL,
	   "not installed: 'triggers-pending' has its files in place: installed");
	is_int(ms.nwarnings, 0, "not installed: no warnings, even without Version");
	print_warnings(&ms);
	mem_sink_release(&ms);
}

static void test_garbage_line(void)
{
	struct mem_sink ms;
	enum ed_code rc = parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\n"
				"Version: 1\n\n"
				"Package: b\nthis line is garbage\nStatus: install ok installed\n"
				"Architecture: amd64\nVersion: 1\n\n"
				"Package: c\nStatus: install ok installed\nArchitecture: amd64\n"
				"Version: 3\n",
				&ms);
	is_int(rc, ED_OK, "garbage: still ED_OK");
	is_int(ms.nwarnings, 1, "garbage: one warning");
	ok(mem_sink_warned(&ms, ORIGIN ":7: line is not 'Field: value' nor a continuation"),
	   "garbage: warning names origin, line 7 and the problem");
	print_warnings(&ms);
	ok(ms.n == 2 && mem_sink_find(&ms, "dpkg:a:amd64") && mem_sink_find(&ms, "dpkg:c:amd64"),
	   "garbage: the good stanzas around it are emitted");
	ok(!mem_sink_find(&ms, "dpkg:b:amd64"), "garbage: the bad stanza is skipped");
	mem_sink_release(&ms);

	/* Field names: no blanks, no empty name, ASCII only. */
	static const char *const bad_lines[] = {
		"Bad Field: x\n", ": value\n", "Fi\001eld: x\n", "Fi\xc3\xa9ld: x\n", "#comment\n",
	};
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		struct ed_buf b = ED_BUF_INIT;
		if (ed_buf_addf(&b, "Package: a\nStatus: install ok installed\n%s"
				"Architecture: amd64\nVersion: 1\n", bad_lines[i]))
			exit(99);
		parse(b.p, &ms);
		ok(ms.n == 0 && mem_sink_warned(&ms, ORIGIN ":3: line is not"),
		   "garbage: malformed field line %zu rejected", i);
		mem_sink_release(&ms);
		ed_buf_release(&b);
	}
}

static void test_truncated(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	size_t len;
	char *text = excerpt(&len);
	const char *libc6 = strstr(text, "Package: libc6\n");
	const char *cut = libc6 ? strstr(libc6, "Version: 2.36") : NULL;

	if (!cut)
		exit(99);
	is_int(parse_n(text, (size_t)(cut - text), &ms, &err), ED_OK, "truncated: ED_OK");
	is_int(ms.nwarnings, 1, "truncated: one warning");
	ok(mem_sink_warned(&ms, ORIGIN ":128: package 'libc6' has no Version field"),
	   "truncated: warning names origin, the stanza's first line and the missing field");
	print_warnings(&ms);
	is_int(ms.n, 5, "truncated: the five earlier packages are kept");
	ok(mem_sink_find(&ms, "dpkg:gcc:amd64") && !mem_sink_find(&ms, "dpkg:libc6:amd64"),
	   "truncated: the cut stanza is skipped");
	mem_sink_release(&ms);

	/* Cut in the middle of "Maintainer:" (line 133): a line without a colon. */
	cut = strstr(libc6, "Maintainer:");
	parse_n(text, (size_t)(cut - text) + 5, &ms, &err);
	ok(ms.n == 5 && ms.nwarnings == 1 &&
		   mem_sink_warned(&ms, ORIGIN ":133: line is not 'Field: value'"),
	   "truncated mid-line: warning on line 133, earlier packages kept");
	print_warnings(&ms);
	mem_sink_release(&ms);

	/*
	 * Every possible cut: never more than the complete stanzas plus the cut
	 * one, and every stanza that ended before the cut is there, unchanged.
	 */
	bool good = true;
	for (size_t n = 0; n <= len && good; n++) {
		size_t whole = 0; /* installed stanzas wholly before the cut */
		parse_n(text, n, &ms, &err);
		for (size_t i = 0; i < NEXPECTED; i++) {
			const char *pkg = strstr(text, real_stanzas[i]);
			size_t end = (size_t)(pkg - text) + strlen(real_stanzas[i]);
			if (end > n)
				break;
			whole++;
			const struct mem_item *it = mem_sink_find(&ms, expected[i].key);
			if (!it || strcmp(it->value, expected[i].version) != 0)
				good = false;
		}
		if (ms.n > whole + 1)
			good = false;
		if (!good)
			printf("#   cut at %zu: %zu items, %zu whole stanzas\n", n, ms.n, whole);
		mem_sink_release(&ms);
	}
	ok(good, "truncated at each of %zu offsets: complete stanzas kept", len + 1);
	free(text);
}

static void test_empty(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	static const char *const inputs[] = {"", "\n", "\n\n\n", " \n\t\n", "\r\n\r\n"};

	is_int(parse_n(NULL, 0, &ms, &err), ED_OK, "empty: NULL text is ED_OK");
	ok(ms.n == 0 && ms.nwarnings == 0, "empty: NULL text, nothing emitted");
	mem_sink_release(&ms);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		enum ed_code rc = parse(inputs[i], &ms);
		ok(rc == ED_OK && ms.n == 0 && ms.nwarnings == 0,
		   "empty: blank input %zu, nothing emitted", i);
		mem_sink_release(&ms);
	}
}

static void test_crlf(void)
{
	struct mem_sink lf, crlf;
	struct ed_err err = {0};
	struct ed_buf b = ED_BUF_INIT;
	size_t len;
	char *text = excerpt(&len);

	for (size_t i = 0; i < len; i++)
		if ((text[i] == '\n' && ed_buf_addc(&b, '\r')) || ed_buf_addc(&b, text[i]))
			exit(99);
	parse_n(text, len, &lf, &err);
	is_int(parse_n(b.p, b.len, &crlf, &err), ED_OK, "crlf: ED_OK");
	is_int(crlf.nwarnings, 0, "crlf: no warnings");
	print_warnings(&crlf);
	bool same = crlf.n == lf.n && lf.n == NEXPECTED;
	for (size_t i = 0; same && i < lf.n; i++)
		same = strcmp(lf.items[i].key, crlf.items[i].key) == 0 &&
		       strcmp(lf.items[i].value, crlf.items[i].value) == 0 &&
		       strcmp(lf.items[i].attrs, crlf.items[i].attrs) == 0 &&
		       fp_eq(&lf.items[i].fp, &crlf.items[i].fp);
	ok(same, "crlf: same items as with LF, no CR in values");
	mem_sink_release(&lf);
	mem_sink_release(&crlf);
	ed_buf_release(&b);
	free(text);
}

static void test_no_trailing_newline(void)
{
	struct mem_sink ms;
	parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0", &ms);
	ok(ms.n == 1 && ms.nwarnings == 0 && strcmp(ms.items[0].value, "1.0") == 0,
	   "no trailing newline: last stanza emitted whole");
	mem_sink_release(&ms);
	parse("Package: a\r\nStatus: install ok installed\r\nArchitecture: amd64\r\nVersion: 1.0\r",
	      &ms);
	ok(ms.n == 1 && ms.nwarnings == 0 && strcmp(ms.items[0].value, "1.0") == 0,
	   "no trailing newline after a CR: last stanza emitted whole");
	mem_sink_release(&ms);
	parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n\n\n"
	      "Package: b\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n  \t\n\n",
	      &ms);
	ok(ms.n == 2 && ms.nwarnings == 0, "several blank lines: both stanzas emitted");
	mem_sink_release(&ms);
}

static void test_nul(void)
{
	static const char text[] =
		"Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n"
		"Package: b\nStatus: install ok installed\nArch\0itecture: amd64\nVersion: 1\n\n"
		"Package: c\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\0x\n\n"
		"Package: d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n";
	struct mem_sink ms;
	struct ed_err err = {0};

	is_int(parse_n(text, sizeof(text) - 1, &ms, &err), ED_OK, "nul: ED_OK");
	ok(ms.n == 2 && mem_sink_find(&ms, "dpkg:a:amd64") && mem_sink_find(&ms, "dpkg:d:amd64"),
	   "nul: stanzas with a NUL byte skipped, the others emitted");
	ok(ms.nwarnings == 2 && mem_sink_warned(&ms, ORIGIN ":8: line holds a NUL byte") &&
		   mem_sink_warned(&ms, ORIGIN ":14: line holds a NUL byte"),
	   "nul: one warning per bad line, naming it");
	print_warnings(&ms);
	mem_sink_release(&ms);

	static const char only_nul[] = "\0\0\0\n\n\0";
	is_int(parse_n(only_nul, sizeof(only_nul) - 1, &ms, &err), ED_OK, "nul: only NULs");
	ok(ms.n == 0 && ms.nwarnings == 2, "nul: only NULs, two bad stanzas");
	mem_sink_release(&ms);
}

static void test_structure(void)
{
	struct mem_sink ms;

	parse("\tcontinued\nPackage: a\nStatus: install ok installed\nArchitecture: amd64\n"
	      "Version: 1\n\n"
	      "Package: b\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n",
	      &ms);
	ok(ms.n == 1 && mem_sink_find(&ms, "dpkg:b:amd64"),
	   "continuation first: that stanza skipped, the next kept");
	ok(mem_sink_warned(&ms, ORIGIN ":1: continuation line before any field"),
	   "continuation first: warned with line 1");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n"
	      "Version: 2\n",
	      &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ORIGIN ":5: duplicate field 'Version'"),
	   "duplicate Version: skipped with a warning naming line 5");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n"
	      "package: b\n",
	      &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":5: duplicate field 'Package'"),
	   "duplicate Package in another case: skipped");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n"
	      "Description: one\nDescription: two\n",
	      &ms);
	ok(ms.n == 1 && ms.nwarnings == 0, "duplicate field not read: tolerated");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n"
	      "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n",
	      &ms);
	ok(ms.n == 1 && strcmp(ms.items[0].value, "1") == 0 &&
		   mem_sink_warned(&ms, ORIGIN ":6: package 'a' for 'amd64' already listed at line 1"),
	   "duplicate package: the first kept, the second warned");
	print_warnings(&ms);
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n"
	      " 2\n",
	      &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":5: field 'Version' continues on a second line"),
	   "Version with a continuation: skipped");
	mem_sink_release(&ms);

	parse("Status: install ok installed\nArchitecture: amd64\nVersion: 1\n", &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ORIGIN ":1: stanza has no Package field"),
	   "no Package: warned");
	mem_sink_release(&ms);

	parse("Package: a\nArchitecture: amd64\nVersion: 1\n", &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":1: package 'a' has no Status field"),
	   "no Status: warned");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install installed\nArchitecture: amd64\nVersion: 1\n", &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":1: package 'a' has a Status that is not three"),
	   "two-word Status: warned");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nVersion: 1\n", &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":1: package 'a' has no Architecture field"),
	   "no Architecture: warned");
	mem_sink_release(&ms);

	parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion:\n", &ms);
	ok(ms.n == 0 && mem_sink_warned(&ms, ":1: package 'a' has no Version field"),
	   "empty Version: warned as missing");
	mem_sink_release(&ms);

	static const char *const bad_values[] = {
		"Package: a:b\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n",
		"Package: a\nStatus: install ok installed\nArchitecture: am:d64\nVersion: 1\n",
		"Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1 beta\n",
		"Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\x7f\n",
		"Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\r2\n",
	};
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		parse(bad_values[i], &ms);
		ok(ms.n == 0 && mem_sink_warned(&ms, ":1: field '") &&
			   mem_sink_warned(&ms, "holds a character not allowed there"),
		   "bad character in a key value %zu: warned and skipped", i);
		print_warnings(&ms);
		mem_sink_release(&ms);
	}
}

static void test_utf8(void)
{
	struct mem_sink ms;

	parse("Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\xff\n\n"
	      "Package: b\nStatus: install ok installed\nArchitecture: am\xc3\nVersion: 1\n\n"
	      "Package: c\xed\xa0\x80\nStatus: install ok installed\nArchitecture: amd64\n"
	      "Version: 1\n\n"
	      "Package: d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n"
	      "Description: caf\xe9 \xff\n",
	      &ms);
	ok(ms.n == 1 && mem_sink_find(&ms, "dpkg:d:amd64"),
	   "utf-8: stanzas with invalid key values skipped; other fields not checked");
	ok(ms.nwarnings == 3 && mem_sink_warned(&ms, ":1: field 'Version' is not valid UTF-8") &&
		   mem_sink_warned(&ms, ":6: field 'Architecture' is not valid UTF-8") &&
		   mem_sink_warned(&ms, ":11: field 'Package' is not valid UTF-8"),
	   "utf-8: one warning each, naming the field");
	print_warnings(&ms);
	mem_sink_release(&ms);

	parse("Package: caf\xc3\xa9\nStatus: install ok installed\nArchitecture: amd64\n"
	      "Version: 1\xe2\x80\x94x\n",
	      &ms);
	ok(ms.n == 1 && ms.items[0].value && strcmp(ms.items[0].value, "1\xe2\x80\x94x") == 0 &&
		   strcmp(ms.items[0].key, "dpkg:caf\xc3\xa9:amd64") == 0,
	   "utf-8: valid non-ASCII kept as written");
	mem_sink_release(&ms);

	parse("Package: \xc3\xa9\"\\\nStatus: install ok installed\nArchitecture: x\"\\\xc3\xa9\n"
	      "Version: 1\n",
	      &ms);
	ok(ms.n == 1 && ms.items[0].attrs &&
		   strcmp(ms.items[0].attrs,
			  "{\"arch\":\"x\\\"\\\\\xc3\xa9\",\"manager\":\"dpkg\"}") == 0,
	   "utf-8: attrs are escaped JSON");
	mem_sink_release(&ms);
}

static void test_long_lines(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	struct ed_buf b = ED_BUF_INIT;
	const size_t big = 4u * 1024 * 1024;

	if (ed_buf_adds(&b, "Package: big\nStatus: install ok installed\nArchitecture: amd64\n"
			    "Description: "))
		exit(99);
	for (size_t i = 0; i < big; i++)
		if (ed_buf_addc(&b, (char)('a' + i % 26)))
			exit(99);
	if (ed_buf_adds(&b, "\n more\n .\nVersion: "))
		exit(99);
	for (size_t i = 0; i < 100000; i++)
		if (ed_buf_addc(&b, (char)('0' + i % 10)))
			exit(99);
	if (ed_buf_adds(&b, "\n\n"))
		exit(99);
	for (size_t i = 0; i < big; i++)
		if (ed_buf_addc(&b, 'x'))
			exit(99);
	if (ed_buf_adds(&b, "\n\nPackage: after\nStatus: install ok installed\n"
			    "Architecture: amd64\nVersion: 1\n"))
		exit(99);

	is_int(parse_n(b.p, b.len, &ms, &err), ED_OK, "long lines: ED_OK");
	const struct mem_item *it = mem_sink_find(&ms, "dpkg:big:amd64");
	ok(it && strlen(it->value) == 100000, "long lines: 4 MiB Description, 100 kB Version kept");
	ok(mem_sink_find(&ms, "dpkg:after:amd64") != NULL, "long lines: next stanza emitted");
	ok(ms.nwarnings == 1 && mem_sink_warned(&ms, ORIGIN ":9: line is not") &&
		   strlen(ms.warnings[0]) < 200,
	   "long lines: a 4 MiB garbage line gives one short warning");
	print_warnings(&ms);
	mem_sink_release(&ms);
	ed_buf_release(&b);
}

static void test_warning_cap(void)
{
	struct mem_sink ms;
	struct ed_buf b = ED_BUF_INIT;
	for (int i = 0; i < 500; i++)
		if (ed_buf_adds(&b, "garbage\n\n"))
			exit(99);
	if (ed_buf_adds(&b, "Package: z\nStatus: install ok installed\nArchitecture: all\n"
			    "Version: 9\n"))
		exit(99);
	parse(b.p, &ms);
	is_int(ms.nwarnings, 101, "warning cap: 100 warnings and one saying the rest are dropped");
	ok(ms.nwarnings == 101 && strstr(ms.warnings[100], "further warnings suppressed"),
	   "warning cap: last warning says so");
	ok(ms.n == 1, "warning cap: parsing goes on");
	mem_sink_release(&ms);
	ed_buf_release(&b);
}

static void test_sink_failure(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	size_t len;
	char *text = excerpt(&len);

	mem_sink_init(&ms);
	ms.fail_after = 3;
	enum ed_code rc = ed_dpkg_parse(ed_str_of(text, len), ORIGIN, &ms.sink, &err);
	is_int(rc, ED_STORE, "sink failure: the sink's code is returned");
	is_int(err.code, ED_STORE, "sink failure: err filled by the sink");
	ok(strstr(err.msg, "test sink refuses") != NULL, "sink failure: the sink's message kept");
	is_int(ms.n, 2, "sink failure: parsing stops at the failed item");
	mem_sink_release(&ms);

	mem_sink_init(&ms);
	ms.fail_after = 1;
	rc = ed_dpkg_parse(ed_str_of(text, len), ORIGIN, &ms.sink, &err);
	ok(rc == ED_STORE && ms.n == 0, "sink failure: on the first item");
	mem_sink_release(&ms);
	free(text);
}

/* Number of Status lines whose third word is "installed" (the last word, in practice). */
static size_t count_installed(const char *text)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, "\nStatus: ")) != NULL; p++) {
		const char *eol = strchr(p + 1, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > 10 && memcmp(p + len - 10, " installed", 10) == 0)
			n++;
	}
	return n;
}

static void test_real_status(void)
{
	const char *path = "/var/lib/dpkg/status";
	struct ed_buf b = ED_BUF_INIT;
	struct mem_sink ms;
	struct ed_err err = {0};
	char chunk[65536];
	size_t got;
	FILE *f = fopen(path, "rb");

	if (!f) {
		ok(1, "# SKIP no %s on this machine", path);
		return;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ed_buf_add(&b, chunk, got))
			exit(99);
	ok(!ferror(f), "real status: read %s (%zu bytes)", path, b.len);
	fclose(f);

	size_t want = count_installed(ed_buf_str(&b));
	is_int(parse_n(b.p, b.len, &ms, &err), ED_OK, "real status: parses");
	is_int(ms.nwarnings, 0, "real status: no warnings");
	print_warnings(&ms);
	is_int(ms.n, want, "real status: one item per installed stanza (%zu)", want);

	bool consistent = true;
	for (size_t i = 0; i < ms.n && consistent; i++) {
		const struct mem_item *it = &ms.items[i];
		const char *arch = strrchr(it->key, ':');
		consistent = strncmp(it->key, "dpkg:", 5) == 0 && arch && arch > it->key + 5 &&
			     it->value && fp_is(&it->fp, it->value, arch + 1);
		if (!consistent)
			printf("#   inconsistent item %s\n", it->key);
	}
	ok(consistent, "real status: every key is dpkg:NAME:ARCH, every fp of VERSION\\nARCH");
	mem_sink_release(&ms);
	ed_buf_release(&b);
}

int main(void)
{
	test_excerpt();
	test_fingerprint();
	test_not_installed();
	test_garbage_line();
	test_truncated();
	test_empty();
	test_crlf();
	test_no_trailing_newline();
	test_nul();
	test_structure();
	test_utf8();
	test_long_lines();
	test_warning_cap();
	test_sink_failure();
	test_real_status();
	return tap_done();
}
