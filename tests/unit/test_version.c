/* SPDX-License-Identifier: MIT */
/*
 * ed_version_cmp(): each manager's own upstream test vectors, then differential
 * runs against the real `dpkg --compare-versions` and rpm's Lua rpm.ver().
 * `test_version --pairs FILE` compares "MANAGER\tA\tB" lines for bench/version.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ed/version.h"
#include "tap.h"

extern char **environ;

/* a OP b, OP one of '<', '=', '>'. */
struct vcase {
	const char *a;
	char op;
	const char *b;
};

#define N_OF(x) (sizeof(x) / sizeof((x)[0]))

/*
 * dpkg: scripts/t/Dpkg_Version.t (the pairs dpkg 1.21 still accepts),
 * lib/dpkg/t/t-version.c, and Debian Policy 5.6.12's examples.
 */
static const struct vcase dpkg_cases[] = {
	{"1.0-1", '<', "2.0-2"},
	{"2.2~rc-4", '<', "2.2-1"},
	{"2.2-1", '>', "2.2~rc-4"},
	{"1.0000-1", '=', "1.0-1"},
	{"1", '=', "0:1"},
	{"0", '=', "0:0-0"},
	{"2:2.5", '>', "1:7.5"},
	{"1:0foo", '>', "0foo"},
	{"0:0foo", '=', "0foo"},
	{"0foo", '=', "0foo"},
	{"0foo", '=', "0foo-0"},
	{"0foo", '>', "0fo"},
	{"0foo~1", '<', "0foo"},
	{"0foo~foo+Bar", '<', "0foo~foo+bar"},
	{"0foo~~", '<', "0foo~"},
	{"1~", '<', "1"},
	{"12345+that-really-is-some-ver-0", '<', "12345+that-really-is-some-ver-10"},
	{"0foo-0", '<', "0foo-01"},
	{"0foo.bar", '>', "0foobar"},
	{"0foo.bar", '>', "0foo1bar"},
	{"0foo.bar", '>', "0foo0bar"},
	{"0foo1bar-1", '<', "0foobar-1"},
	{"0foo2.0", '>', "0foo2"},
	{"0foo2.0.0", '<', "0foo2.10.0"},
	{"0foo2.0", '<', "0foo2.0.0"},
	{"0foo2.0", '<', "0foo2.10"},
	{"0foo2.1", '<', "0foo2.10"},
	{"1.09", '=', "1.9"},
	{"1.0.8+nmu1", '>', "1.0.8"},
	{"3.11", '>', "3.10+nmu1"},
	{"0.9j-20080306-4", '>', "0.9i-20070324-2"},
	{"1.2.0~b7-1", '>', "1.2.0~b6-1"},
	{"1.011-1", '>', "1.06-2"},
	{"0.0.9+dfsg1-1", '>', "0.0.8+dfsg1-3"},
	{"4.6.99+svn6582-1", '>', "4.6.99+svn6496-1"},
	{"53", '>', "52"},
	{"0.9.9~pre122-1", '>', "0.9.9~pre111-1"},
	{"2:2.3.2-2+lenny2", '>', "2:2.3.2-2"},
	{"1:3.8.1-1", '>', "3.8.GA-1"},
	{"1.0.1+gpl-1", '>', "1.0.1-2"},
	{"1a", '<', "1000a"},
	/* t-version.c */
	{"0:0", '=', "0"},
	{"0:0-0", '=', "0-00"},
	{"0:0.0-0.0", '=', "0.0-0.0"},
	{"1:0", '>', "0"},
	{"5:1", '>', "4:99"},
	{"1:2-3", '=', "1:2-3"},
	{"0:0-0-0", '=', "0-0-0"},
	{"0:0-0-0-0", '>', "0:0-0-0"},
	{"0:0:0-0", '=', "0:0:0-0"},
	{"0:0:0:0-0", '>', "0:0:0-0"},
	{"0:0:0-0-0", '>', "0:0:0-0"},
	{"0:0-0:0-0", '>', "0:0-0-0"},
	{"0:09azAZ.-+~:-0", '=', "0:09azAZ.-+~:-0"},
	{"0:0-azAZ09.+~", '<', "0:0-azAZ09.+"},
	{" \t0:0-1", '=', "0-1"},
	{"0:0-1\t ", '=', "0-1"},
	{"\t  0:0-1  \t", '=', "0:0-1"},
	{"0a", '<', "0b"},
	{"0-a", '<', "0-b"},
	{"1:0-0", '>', "0:9-9"},
	/* dpkg warns about these but still compares them. */
	{"0:abc3-0", '>', "0:abc2-0"},
	{"foo5.2", '<', "foo5.3"},
	{"5.2@3-2", '=', "5.2@3-2"},
	{"0:0!-0", '>', "0:0a-0"},
	{"1.0_1", '>', "1.0.1"},
	{"1.0^1", '>', "1.0+1"},
	{"0:0-0:0", '>', "0:0-0"},
	/* strtol() rules for the epoch */
	{"+1:0", '=', "1:0"},
	{"00:1", '=', "1"},
	{"2147483647:1", '>', "2147483646:9"},
	/* Policy 5.6.12: ~~ < ~~a < ~ < (end) < a; letters before other characters. */
	{"1~~", '<', "1~~a"},
	{"1~~a", '<', "1~"},
	{"1~", '<', "1"},
	{"1", '<', "1a"},
	{"1a", '<', "1+"},
	{"1Z", '<', "1a"},
	{"1.0", '<', "1.0a"},
	{"1.0a", '<', "1.0."},
	{"1.0~rc1-1", '<', "1.0-1"},
	{"7.6p2-4", '>', "7.6-0"},
	{"1.0.0", '>', "1.0"},
	{"2.30-1", '>', "2.3-1"},
	{"1:1.2.13.dfsg-1", '>', "1.2.13.dfsg-1"},
	{"3.0.11-1~deb12u2", '>', "3.0.11-1~deb12u1"},
	{"3.0.11-1~deb12u2", '<', "3.0.11-1"},
	{"252.30-1~deb12u2", '<', "252.31-1~deb12u1"},
};

/* dpkg reports these as errors (--compare-versions exits 2). */
static const char *const dpkg_invalid[] = {
	"",           "  ",       "0:",        "-0",           "0:-0",     "-1:0-1",
	"999999999999999999999999:0-1",        "2147483648:1", "a:0-0",    "A:0-0",
	"0:0 0-1",    "1.0-",     "0foo-",     "-0.6.5",       ":1",       "10a:5.2",
	"1 0",        "1:-",      "1.5:2",
};

/* rpm: tests/rpmvercmp.at, caret cases included, and the documented oddities. */
static const struct vcase rpm_cases[] = {
	{"1.0", '=', "1.0"},
	{"1.0", '<', "2.0"},
	{"2.0", '>', "1.0"},
	{"2.0.1", '=', "2.0.1"},
	{"2.0", '<', "2.0.1"},
	{"2.0.1", '>', "2.0"},
	{"2.0.1a", '=', "2.0.1a"},
	{"2.0.1a", '>', "2.0.1"},
	{"2.0.1", '<', "2.0.1a"},
	{"5.5p1", '=', "5.5p1"},
	{"5.5p1", '<', "5.5p2"},
	{"5.5p2", '>', "5.5p1"},
	{"5.5p10", '=', "5.5p10"},
	{"5.5p1", '<', "5.5p10"},
	{"5.5p10", '>', "5.5p1"},
	{"10xyz", '<', "10.1xyz"},
	{"10.1xyz", '>', "10xyz"},
	{"xyz10", '=', "xyz10"},
	{"xyz10", '<', "xyz10.1"},
	{"xyz10.1", '>', "xyz10"},
	{"xyz.4", '=', "xyz.4"},
	{"xyz.4", '<', "8"},
	{"8", '>', "xyz.4"},
	{"xyz.4", '<', "2"},
	{"2", '>', "xyz.4"},
	{"5.5p2", '<', "5.6p1"},
	{"5.6p1", '>', "5.5p2"},
	{"5.6p1", '<', "6.5p1"},
	{"6.5p1", '>', "5.6p1"},
	{"6.0.rc1", '>', "6.0"},
	{"6.0", '<', "6.0.rc1"},
	{"10b2", '>', "10a1"},
	{"10a2", '<', "10b2"},
	{"1.0aa", '=', "1.0aa"},
	{"1.0a", '<', "1.0aa"},
	{"1.0aa", '>', "1.0a"},
	{"10.0001", '=', "10.0001"},
	{"10.0001", '=', "10.1"},
	{"10.1", '=', "10.0001"},
	{"10.0001", '<', "10.0039"},
	{"10.0039", '>', "10.0001"},
	{"4.999.9", '<', "5.0"},
	{"5.0", '>', "4.999.9"},
	{"20101121", '=', "20101121"},
	{"20101121", '<', "20101122"},
	{"20101122", '>', "20101121"},
	{"2_0", '=', "2_0"},
	{"2.0", '=', "2_0"},
	{"2_0", '=', "2.0"},
	{"a", '=', "a"},
	{"a+", '=', "a+"},
	{"a+", '=', "a_"},
	{"a_", '=', "a+"},
	{"+a", '=', "+a"},
	{"+a", '=', "_a"},
	{"_a", '=', "+a"},
	{"+_", '=', "+_"},
	{"_+", '=', "+_"},
	{"_+", '=', "_+"},
	{"+", '=', "_"},
	{"_", '=', "+"},
	{"1.0~rc1", '=', "1.0~rc1"},
	{"1.0~rc1", '<', "1.0"},
	{"1.0", '>', "1.0~rc1"},
	{"1.0~rc1", '<', "1.0~rc2"},
	{"1.0~rc2", '>', "1.0~rc1"},
	{"1.0~rc1~git123", '=', "1.0~rc1~git123"},
	{"1.0~rc1~git123", '<', "1.0~rc1"},
	{"1.0~rc1", '>', "1.0~rc1~git123"},
	{"1.0^", '=', "1.0^"},
	{"1.0^", '>', "1.0"},
	{"1.0", '<', "1.0^"},
	{"1.0^git1", '=', "1.0^git1"},
	{"1.0^git1", '>', "1.0"},
	{"1.0", '<', "1.0^git1"},
	{"1.0^git1", '<', "1.0^git2"},
	{"1.0^git2", '>', "1.0^git1"},
	{"1.0^git1", '<', "1.01"},
	{"1.01", '>', "1.0^git1"},
	{"1.0^20160101", '=', "1.0^20160101"},
	{"1.0^20160101", '<', "1.0.1"},
	{"1.0.1", '>', "1.0^20160101"},
	{"1.0^20160101^git1", '=', "1.0^20160101^git1"},
	{"1.0^20160102", '>', "1.0^20160101^git1"},
	{"1.0^20160101^git1", '<', "1.0^20160102"},
	{"1.0~rc1^git1", '=', "1.0~rc1^git1"},
	{"1.0~rc1^git1", '>', "1.0~rc1"},
	{"1.0~rc1", '<', "1.0~rc1^git1"},
	{"1.0^git1~pre", '=', "1.0^git1~pre"},
	{"1.0^git1", '>', "1.0^git1~pre"},
	{"1.0^git1~pre", '<', "1.0^git1"},
	/* The oddities rpmvercmp.at documents (RhBug:811992, non-ASCII bytes as separators). */
	{"1b.fc17", '=', "1b.fc17"},
	{"1b.fc17", '<', "1.fc17"},
	{"1.fc17", '>', "1b.fc17"},
	{"1g.fc17", '=', "1g.fc17"},
	{"1g.fc17", '>', "1.fc17"},
	{"1.fc17", '<', "1g.fc17"},
	{"1.1.\xce\xb1", '=', "1.1.\xce\xb1"},
	{"1.1.\xce\xb1", '=', "1.1.\xce\xb2"},
	{"1.1.\xce\xb1\xce\xb1", '=', "1.1.\xce\xb1"},
	/* EPOCH:VERSION-RELEASE as the collector stores it (rpmverCmp's rules). */
	{"1:1.0-1", '>', "2.0-1"},
	{"0:1.0-1", '=', "1.0-1"},
	{":1.0-1", '=', "1.0-1"},
	{"00:1.0-1", '=', "0:1.0-1"},
	{"1.0", '<', "1.0-1"},
	{"1.0-", '>', "1.0"},
	{"1.0-1", '<', "1.0-1.el9"},
	{"1.0-1-2", '>', "1.0-1-1"},
	{"1.0-10", '>', "1.0-9"},
	{"2:1.0-1", '<', "10:0.1-1"},
	{"3.0.7-27.el9", '<', "1:3.0.7-24.el9"},
	{"5.14.0-362.8.1.el9_3", '<', "5.14.0-362.13.1.el9_3"},
	{"2.34-60.el9", '<', "2.34-60.el9_2.7"},
	{"1.2.3-1.fc39~bootstrap", '<', "1.2.3-1.fc39"},
	/* ", "-joined lists of installed versions: the highest of each counts. */
	{"5.14.0-1.el9, 5.14.0-3.el9", '=', "5.14.0-3.el9"},
	{"5.14.0-3.el9, 5.14.0-1.el9", '>', "5.14.0-2.el9"},
	{"5.14.0-1.el9, 5.14.0-2.el9", '<', "5.14.0-1.el9, 5.14.0-3.el9"},
	{"gpg-pubkey-1, gpg-pubkey-2", '=', "gpg-pubkey-2"},
};

static const char *const rpm_invalid[] = {"", "1.0, ", ", 1.0", "1.0, , 2.0"};

/* apk: apk-tools test/version.data (comparisons and validity), newest form with ~hash. */
static const struct vcase apk_cases[] = {
	{"2.34", '>', "0.1.0_alpha"},
	{"0.1.0_alpha", '=', "0.1.0_alpha"},
	{"0.1.0_alpha", '<', "0.1.3_alpha"},
	{"0.1.3_alpha", '>', "0.1.0_alpha"},
	{"0.1.0_alpha2", '>', "0.1.0_alpha"},
	{"0.1.0_alpha", '<', "2.2.39-r1"},
	{"2.2.39-r1", '>', "1.0.4-r3"},
	{"1.0.4-r3", '<', "1.0.4-r4"},
	{"1.0.4-r4", '<', "1.6"},
	{"1.6", '>', "1.0.2"},
	{"1.0.2", '>', "0.7-r1"},
	{"0.7-r1", '<', "1.0.0"},
	{"1.0.0", '<', "1.0.1"},
	{"1.0.1", '<', "1.1"},
	{"1.1", '>', "1.1_alpha1"},
	{"1.1_alpha1", '<', "1.2.1"},
	{"1.2.1", '>', "1.2"},
	{"1.2", '<', "1.3_alpha"},
	{"1.3_alpha", '<', "1.3_alpha2"},
	{"1.3_alpha2", '<', "1.3_alpha3"},
	{"1.3_alpha8", '>', "0.6.0"},
	{"0.7.0", '<', "0.8_beta1"},
	{"0.8_beta1", '<', "0.8_beta2"},
	{"0.8_beta4", '<', "4.8-r1"},
	{"3.10.18-r1", '>', "2.3.0b-r1"},
	{"2.3.0b-r1", '<', "2.3.0b-r2"},
	{"2.3.0b-r4", '>', "0.12.1"},
	{"0.12.3", '>', "0.12"},
	{"0.12", '<', "0.13_beta1"},
	{"0.13_beta5", '>', "0.9.12"},
	{"0.0.16", '<', "0.6"},
	{"1.2.11", '<', "1.2.12.1"},
	{"1.2.12.1", '<', "1.2.13"},
	{"0.2.0-r1", '=', "0.2.0-r1"},
	{"0.2.0-r1", '<', "3.1_p16"},
	{"3.1_p16", '<', "3.1_p17"},
	{"3.1_p17", '>', "1.06-r6"},
	{"1.06-r6", '<', "006"},
	{"006", '>', "1.0.0"},
	{"1.2.2-r1", '>', "1.2.2"},
	{"9.3.4-r2", '>', "9.3.4"},
	{"2.59", '<', "20050718-r1"},
	{"20050718-r1", '<', "20050718-r2"},
	{"3.9.8-r5", '>', "2.01.01_alpha10"},
	{"2.01.01_alpha10", '>', "0.94"},
	{"1.0", '>', "0.99.3.20040818"},
	{"1.39", '>', "1.00_beta2"},
	{"1.00_beta2", '>', "0.9.2"},
	{"1.12.12-r2", '<', "2.8.0.6-r1"},
	{"0.5.2.7", '<', "4.2.52_p2-r1"},
	{"4.2.52_p2-r1", '<', "4.2.52_p4-r2"},
	{"4.2.52_p4-r2", '>', "1.02.07"},
	{"1.02.07", '<', "1.02.10-r1"},
	{"9", '>', "2.18.3-r10"},
	{"2.18.3-r10", '>', "1.05-r18"},
	{"1.05-r18", '<', "1.05-r19"},
	{"2.38", '<', "20050405"},
	{"10-r1", '>', "4"},
	{"0.7.3-r2", '>', "0.7.3"},
	{"20060720", '>', "3.0.20060720"},
	{"3.0.20060720", '<', "20060720"},
	{"2.5.1-r8", '<', "2.5.1a-r1"},
	{"2.5.1a-r1", '>', "1.19.2-r1"},
	{"1.3.5-r10", '>', "1.3.5-r8"},
	{"20040923-r2", '>', "20040401"},
	{"20040401", '>', "2.0.0_rc3-r1"},
	{"2.6.15.20060110", '<', "2.6.16.20060323"},
	{"3.0.0-r2", '<', "021109-r3"},
	{"021109-r3", '<', "20060512"},
	{"0.9.16-r1", '<', "3.9_pre20060124"},
	{"3.9_pre20060124", '>', "0.01"},
	{"1.1.7", '<', "6b-r7"},
	{"6b-r7", '>', "1.12-r7"},
	{"0.10.0-r1", '>', "0.10.0"},
	{"0.10.0", '<', "0.10.1_rc1"},
	{"0.10.1_rc1", '>', "0.9.11"},
	{"2.0.2", '>', "1.1a"},
	{"1.1a", '<', "1.3a"},
	{"1.0-r1", '>', "0.15.1b"},
	{"1.06-r2", '>', "0.15.1b-r2"},
	{"0.15.1b-r2", '>', "0.15.1b"},
	{"22.7-r1", '<', "22.7.3-r1"},
	{"22.7.3-r1", '>', "22.7"},
	{"22.7", '>', "2.1_pre20"},
	{"2.1_pre20", '<', "2.1_pre26"},
	{"2.10.1", '>', "02.08.01b"},
	{"02.08.01b", '<', "4.77"},
	{"8.1.2.20050715-r1", '<', "20030215"},
	{"3.81", '>', "1.6d"},
	{"1.6d", '>', "1.2.07.8"},
	{"1.2.07.8", '<', "1.2.12.04"},
	{"1.2.12.04", '<', "1.2.12.05"},
	{"0.1_pre20060810", '<', "0.1_pre20060817"},
	{"3.3.17", '>', "0.59s-r11"},
	{"0.59s-r11", '<', "0.65"},
	{"1.60-r12", '<', "110-r8"},
	{"4.20", '>', "0.20070118"},
	{"0.20070118", '<', "0.20070207_rc1"},
	{"0.20070207_rc1", '<', "1.0"},
	{"2.3.30-r2", '<', "3.7_p1"},
	{"4.5_p1-r1", '>', "4.5_p1"},
	{"4.5_p1", '>', "0.9.8c-r1"},
	{"0.9.8c-r1", '<', "0.9.8d"},
	{"2.2.3-r2", '<', "013"},
	{"013", '<', "014-r1"},
	{"1.7", '<', "1.7b"},
	{"1.8.5", '<', "1.8.5_p2"},
	{"2.9.11_pre20051101-r3", '>', "2.9.11_pre20051101"},
	{"2.9.11_pre20051101", '<', "2.9.11_pre20061021-r1"},
	{"1.6.8_p12-r1", '>', "1.6.8_p9-r2"},
	{"0.9.28-r2", '<', "0.9.28.1"},
	{"0.9.28.1", '<', "087-r1"},
	{"104-r11", '>', "104-r9"},
	{"1.2.5_rc2", '>', "0.1"},
	{"20040406-r1", '>', "2.12r-r4"},
	{"2.12r-r4", '<', "2.12r-r5"},
	{"7.0.17", '<', "7.0.174"},
	{"0.3.4_pre20061029", '<', "0.4.0"},
	{"1.3-r0", '<', "1.3.1-r0"},
	{"1.3_pre1-r1", '<', "1.3.2"},
	{"1.0_p10-r0", '>', "1.0_p9-r0"},
	{"0.1.0_alpha_pre2", '<', "0.1.0_alpha"},
	{"1.0.0_pre20191002222144-r0", '<', "1.0.0_pre20210530193627-r0"},
	{"6.0_pre1", '<', "6.0"},
	{"6.1_pre1", '<', "6.1"},
	{"6.0_p1", '>', "6.0"},
	{"6.1_p1", '>', "6.1"},
	{"8.2.0", '<', "8.2.001"},
	{"8.2.0015", '<', "8.2.002"},
	{"1.0~1234", '<', "1.0~2345"},
	{"1.0~1234-r1", '<', "1.0~2345-r0"},
	{"1.0~1234-r1", '>', "1.0~1234-r0"},
	/* the suffix order: _alpha < _beta < _pre < _rc < none < _cvs < _svn < _git < _hg < _p */
	{"1.0_alpha", '<', "1.0_beta"},
	{"1.0_beta", '<', "1.0_pre"},
	{"1.0_pre", '<', "1.0_rc"},
	{"1.0_rc", '<', "1.0"},
	{"1.0", '<', "1.0_cvs"},
	{"1.0_cvs", '<', "1.0_svn"},
	{"1.0_svn", '<', "1.0_git"},
	{"1.0_git", '<', "1.0_hg"},
	{"1.0_hg", '<', "1.0_p"},
	{"0.1_p1_pre2", '<', "0.1_p1"},
	{"0.1_git20240101_pre1", '>', "0.1"},
	{"1.0-r0", '>', "1.0"},
	{"1.0a", '>', "1.0"},
	{"1.0", '<', "1.0.0"},
	{"1.0.0", '<', "1.0.00"},
	{"1.2.3-r0, 1.2.3-r2", '>', "1.2.3-r1"},
};

/* apk-tools' validity lines: the first ones valid, the "!" ones (and non-grammar cases) not. */
static const char *const apk_valid[] = {
	"1.2", "0.1_pre2", "0.1_pre2~1234abcd", "0.1_p1_pre2", "0.1_alpha1_pre2", "0.1_git20240101_pre1",
};
static const char *const apk_invalid[] = {
	"",           "0.1bc",       "0.1bc1",           "0.1a1",          "0.1a.1",
	"0.1_pre2~",  "0.1_pre2~1234xbcd", "0.1_pre2~1234abcd_pre1", "0.1_pre2-r1~1234xbcd",
	"0.1_foobar", "0.1_foobar1", "0.1-pre1.1",       "0.1-r",          "0.1-r2_pre1",
	"0.1-r2_p3_pre1", "0.1-r2-r3", "0.1-r2.1",       ".1",             "a",
	"_pre1",      "-r1",         "0.1_",             "0.1_-r0",        "0.1__alpha",
	"0.1_1_alpha", "1.0bc",      "23_foo",           "1.0A",           "1.0 ",
};

/* PEP 440: pypa/packaging tests/test_version.py, VERSIONS (in order) and normalisations. */
static const char *const pypi_sorted[] = {
	"1.0.dev0", "1.0.dev456", "1.0.dev456+local", "1.0a0", "1.0a0.post0.dev0", "1.0a0.post0",
	"1.0a1.dev1", "1.0a1.dev1+local", "1.0a1", "1.0a1+local", "1.0b0", "1.0b1.dev456", "1.0b2",
	"1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346", "1.0rc0", "1.0rc1.dev1", "1.0c1",
	"1.0rc2", "1.0", "1.0.post0.dev0", "1.0.post0", "1.0.post456.dev34", "1.0.post456",
	"1.0.post456+local", "1.0.1.dev1", "1.0.1a1", "1.0.1", "1.0.1+local", "1.0.1.post1",
	"1.1.dev1", "1.2+a", "1.2+abc", "1.2+abcdef", "1.2+def", "1.2+0", "1.2+1", "1.2+1.abc",
	"1.2+1.1", "1.2+1.1.0", "1.2+2", "1.2+123", "1.2+123456", "1.2.r32+123456",
	"1.2.rev33+123456", "1!1.0.dev0", "1!1.0a1+local", "1!1.0rc2", "1!1.0", "1!1.0.post456+local",
	"1!1.2+abc", "1!1.2+1.1.0", "1!1.2.rev33+123456",
};
static const struct vcase pypi_cases[] = {
	{"1.0dev", '=', "1.0.dev0"},
	{"1.0.dev", '=', "1.0.dev0"},
	{"1.0-dev1", '=', "1.0.dev1"},
	{"1.0DEV", '=', "1.0.dev0"},
	{"1.0-DEV1", '=', "1.0.dev1"},
	{"1.0a", '=', "1.0a0"},
	{"1.0.a1", '=', "1.0a1"},
	{"1.0-alpha", '=', "1.0a0"},
	{"1.0ALPHA1", '=', "1.0a1"},
	{"1.0b", '=', "1.0b0"},
	{"1.0.beta1", '=', "1.0b1"},
	{"1.0-B1", '=', "1.0b1"},
	{"1.0c", '=', "1.0rc0"},
	{"1.0.c1", '=', "1.0rc1"},
	{"1.0-RC", '=', "1.0rc0"},
	{"1.0pre1", '=', "1.0rc1"},
	{"1.0preview2", '=', "1.0rc2"},
	{"1.0post", '=', "1.0.post0"},
	{"1.0-post1", '=', "1.0.post1"},
	{"1.0POST", '=', "1.0.post0"},
	{"1.0r", '=', "1.0.post0"},
	{"1.0rev", '=', "1.0.post0"},
	{"1.0.r1", '=', "1.0.post1"},
	{"1.0-5", '=', "1.0.post5"},
	{"1.0-r5", '=', "1.0.post5"},
	{"1.0-rev5", '=', "1.0.post5"},
	{"1.0+AbC", '=', "1.0+abc"},
	{"1.01", '=', "1.1"},
	{"1.0a05", '=', "1.0a5"},
	{"1.0c056", '=', "1.0rc56"},
	{"1.0.post000", '=', "1.0.post0"},
	{"1.1.dev09000", '=', "1.1.dev9000"},
	{"00!1.2", '=', "1.2"},
	{"0100!0.0", '=', "100!0.0"},
	{"v1.0", '=', "1.0"},
	{"   v1.0\t\n", '=', "1.0"},
	{"1.0rc1", '=', "1.0c1"},
	{"1.0", '=', "1.0.0.0"},
	{"1.0+1.0", '=', "1.0+1-0"},
	{"1.0+1_a", '=', "1.0+1.A"},
	{"1.0a.", '=', "1.0a0"},
	{"1.0a._post", '=', "1.0a0.post0"},
	{"1!0.1", '>', "2.0"},
	{"2.0", '>', "1.99999999999999999999999"},
	{"1.10", '>', "1.9"},
	{"3.12.0", '>', "3.12.0rc3"},
	{"2.31.0, 2.28.1", '>', "2.30.0"},
};
static const char *const pypi_invalid[] = {
	"french toast", "1.0+a+", "1.0++",  "1.0+_foobar", "1.0+foo&asd", "1.0+1+1", "1. 0",
	"1 .0",         "1. 0a1", "1 .0a1", "1.0 a1",      "1.0a 1",      ".",       "..",
	/* "1.0+\u0130": invalid in packaging today; 23.0 (Debian 12) still let re.IGNORECASE match it. */
	"1..0",         "1.0.",   ".1.0",   "1..2.3",      "1.0+\xc4\xb0", "\xd9\xa0\xd9\xa1",
	"1.0-",         "1.0+",   "1.0a1b1", "v",          "1!",          "!1.0",    "1.0.dev1.post1",
};

/* semver: node-semver test/fixtures (strict comparisons and equality) and semver.org 2.0 §11. */
static const struct vcase npm_cases[] = {
	{"0.0.0", '>', "0.0.0-foo"},
	{"0.0.1", '>', "0.0.0"},
	{"1.0.0", '>', "0.9.9"},
	{"0.10.0", '>', "0.9.0"},
	{"0.99.0", '>', "0.10.0"},
	{"2.0.0", '>', "1.2.3"},
	{"v0.0.0", '>', "0.0.0-foo"},
	{"v1.0.0", '>', "0.9.9"},
	{"0.0.1", '>', "v0.0.0"},
	{"1.2.3", '>', "1.2.3-asdf"},
	{"1.2.3", '>', "1.2.3-4"},
	{"1.2.3", '>', "1.2.3-4-foo"},
	{"1.2.3-5-foo", '>', "1.2.3-5"},
	{"1.2.3-5", '>', "1.2.3-4"},
	{"1.2.3-5-foo", '>', "1.2.3-5-Foo"},
	{"3.0.0", '>', "2.7.2+asdf"},
	{"1.2.3-a.10", '>', "1.2.3-a.5"},
	{"1.2.3-a.b", '>', "1.2.3-a.5"},
	{"1.2.3-a.b", '>', "1.2.3-a"},
	{"1.2.3-a.b.c.10.d.5", '>', "1.2.3-a.b.c.5.d.100"},
	{"1.2.3-r2", '>', "1.2.3-r100"},
	{"1.2.3-r100", '>', "1.2.3-R2"},
	{"1.2.3", '=', "v1.2.3"},
	{"1.2.3-beta+build", '=', "1.2.3-beta+otherbuild"},
	{"1.2.3+build", '=', "1.2.3+otherbuild"},
	{"  v1.2.3+build", '=', "1.2.3+otherbuild"},
	{"1.0.0-alpha", '<', "1.0.0-alpha.1"},
	{"1.0.0-alpha.1", '<', "1.0.0-alpha.beta"},
	{"1.0.0-alpha.beta", '<', "1.0.0-beta"},
	{"1.0.0-beta", '<', "1.0.0-beta.2"},
	{"1.0.0-beta.2", '<', "1.0.0-beta.11"},
	{"1.0.0-beta.11", '<', "1.0.0-rc.1"},
	{"1.0.0-rc.1", '<', "1.0.0"},
	{"1.0.0", '<', "2.0.0"},
	{"2.0.0", '<', "2.1.0"},
	{"2.1.0", '<', "2.1.1"},
	{"1.0.0-0", '<', "1.0.0-0a"},
	{"1.0.0-9", '<', "1.0.0-10"},
	{"1.0.0-x-y-z.--", '>', "1.0.0-x-y-z.-"},
	{"1.0.0+21AF26D3----117B344092BD", '=', "1.0.0"},
	{"9007199254740991.0.0", '>', "9007199254740990.9.9"},
	/* By value, as the spec says; node-semver compares ids past 2^53 as doubles (equal here). */
	{"1.0.0-99999999999999999999", '>', "1.0.0-99999999999999999998"},
	{"4.17.21, 4.17.20", '>', "4.17.20"},
};
static const char *const npm_invalid[] = {
	"1.2",          "1.2.3.4",      "01.2.3",     "1.02.3",       "1.2.03",   "1.2.3-01",
	"1.2.3-",       "1.2.3+",       "1.2.3-a..b", "1.2.3-a.",     "=1.2.3",   "v 1.2.3",
	"V1.2.3",       "1.2.3-beta+b+c", "1.2.3 -beta", "9007199254740992.0.0", "0.9007199254740992.0",
	"0.0.90071992547409910", "hello, world", "xyz", "1.2.3-\xc3\xa9",
	"git+ssh://git@example.com/x.git",
	"file:../local", "latest",
};

/* ---- running the tables ---- */

/* s made safe for a TAP line: control bytes, bytes >= 0x80 and '#' as \xHH. Rotates 4 buffers. */
static const char *shown(const char *s)
{
	static char bufs[4][256];
	static int next;
	char *out = bufs[next++ % 4];
	size_t o = 0;

	for (; *s && o + 5 < sizeof(bufs[0]); s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '#')
			o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static int want_of(char op)
{
	return op == '<' ? -1 : op == '>' ? 1 : 0;
}

static void check_cases(const char *m, const struct vcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool ok1, ok2;
		int r1 = ed_version_cmp(m, c[i].a, c[i].b, &ok1);
		int r2 = ed_version_cmp(m, c[i].b, c[i].a, &ok2);
		int want = want_of(c[i].op);
		ok(ok1 && ok2 && r1 == want && r2 == -want, "%s: '%s' %c '%s'", m, shown(c[i].a), c[i].op,
		   shown(c[i].b));
		if (!(ok1 && ok2 && r1 == want && r2 == -want))
			printf("#   got %d (ok %d) and reversed %d (ok %d)\n", r1, ok1, r2, ok2);
	}
}

/* Each listed version is unparseable: against itself and against a plain valid one. */
static void check_invalid(const char *m, const char *const *v, size_t n, const char *valid)
{
	for (size_t i = 0; i < n; i++) {
		bool ok1 = true, ok2 = true, ok3 = true;
		int r1 = ed_version_cmp(m, v[i], v[i], &ok1);
		int r2 = ed_version_cmp(m, v[i], valid, &ok2);
		int r3 = ed_version_cmp(m, valid, v[i], &ok3);
		ok(!ok1 && !ok2 && !ok3 && r1 == 0 && r2 == 0 && r3 == 0, "%s: '%s' is not a version", m,
		   shown(v[i]));
	}
}

static void check_valid(const char *m, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool k;
		int r = ed_version_cmp(m, v[i], v[i], &k);
		ok(k && r == 0, "%s: '%s' is a version, equal to itself", m, shown(v[i]));
	}
}

static void check_sorted(const char *m, const char *const *v, size_t n)
{
	size_t bad = 0, pairs = 0;

	/* Every ordered pair, not only neighbours: the list is a total order. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			bool k;
			int r = ed_version_cmp(m, v[i], v[j], &k);
			int want = i < j ? -1 : i > j ? 1 : 0;
			pairs++;
			if (!k || r != want) {
				if (bad++ < 10)
					printf("#   '%s' vs '%s': got %d (ok %d), want %d\n", shown(v[i]),
					       shown(v[j]), r, k, want);
			}
		}
	}
	ok(bad == 0, "%s: %zu versions in upstream order, %zu ordered pairs", m, n, pairs);
}

static void check_api(void)
{
	bool k = true;
	ok(ed_version_cmp("brew", "1", "2", &k) == 0 && !k, "unknown manager: not ok");
	k = true;
	ok(ed_version_cmp(NULL, "1", "2", &k) == 0 && !k, "NULL manager: not ok");
	k = true;
	ok(ed_version_cmp("dpkg", NULL, "2", &k) == 0 && !k, "NULL version: not ok");
	ok(ed_version_cmp("dpkg", "1", "2", NULL) == -1, "ok may be NULL");

	static char longv[ED_VERSION_MAX + 2];
	memset(longv, '1', ED_VERSION_MAX + 1);
	k = true;
	ok(ed_version_cmp("rpm", longv, "1", &k) == 0 && !k, "a version past ED_VERSION_MAX: not ok");
	longv[ED_VERSION_MAX] = '\0';
	ok(ed_version_cmp("rpm", longv, "1", &k) == 1 && k, "a version of ED_VERSION_MAX bytes compares");
	ok(ed_version_cmp("dpkg", longv, longv, &k) == 0 && k, "dpkg: a long version equals itself");
}

/* ---- a small deterministic generator for the differential runs ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32) % n;
}

static void gen_body(char *out, size_t cap, const char *alphabet, bool digit_first)
{
	size_t len = 1 + rng(8), n = strlen(alphabet), i = 0;

	if (len >= cap)
		len = cap - 1;
	if (digit_first)
		out[i++] = (char)('0' + rng(10));
	for (; i < len; i++)
		out[i] = rng(3) ? (char)('0' + rng(10)) : alphabet[rng((uint32_t)n)];
	out[len] = '\0';
}

/* A random version, or (half the time) a small mutation of base. */
static void gen_version(char *out, size_t cap, const char *alphabet, const char *base, bool dpkg)
{
	char body[32];
	size_t n = strlen(alphabet);

	if (base && rng(2)) {
		snprintf(out, cap, "%s", base);
		size_t len = strlen(out);
		uint32_t what = rng(3);
		if (what == 0 && len > 1) {
			out[rng((uint32_t)len - 1) + 1] = alphabet[rng((uint32_t)n)];
		} else if (what == 1 && len + 1 < cap) {
			out[len] = rng(2) ? (char)('0' + rng(10)) : alphabet[rng((uint32_t)n)];
			out[len + 1] = '\0';
		} else if (len > 1) {
			out[len - 1] = '\0';
		}
	} else {
		gen_body(body, sizeof(body), alphabet, dpkg ? rng(10) < 9 : rng(2));
		if (rng(4) == 0)
			snprintf(out, cap, "%u:%s", rng(3), body);
		else
			snprintf(out, cap, "%s", body);
	}
}

/* ---- dpkg --compare-versions ---- */

/* Exit status of `dpkg --compare-versions -- a op b`, or -1 when dpkg cannot run. */
static int dpkg_run(const char *a, const char *op, const char *b)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"dpkg", "--compare-versions", "--", (char *)a, (char *)op, (char *)b, NULL};
	pid_t pid;
	int st, rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "dpkg", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* dpkg's verdict: -1, 0, 1, 2 for a syntax error, or -2 when dpkg cannot run. */
static int dpkg_oracle(const char *a, const char *b)
{
	int rc = dpkg_run(a, "lt", b);
	if (rc == 0)
		return -1;
	if (rc != 1)
		return rc == 2 ? 2 : -2;
	rc = dpkg_run(a, "gt", b);
	if (rc == 0)
		return 1;
	return rc == 1 ? 0 : rc == 2 ? 2 : -2;
}

struct pair {
	char a[48];
	char b[48];
};

static void set_pair(struct pair *p, const char *a, const char *b)
{
	snprintf(p->a, sizeof(p->a), "%s", a);
	snprintf(p->b, sizeof(p->b), "%s", b);
}

static void dpkg_differential(void)
{
	enum { N = 300 };
	static struct pair pairs[N];
	size_t n = 0, bad = 0, invalid = 0;
	struct timespec t0, t1;

	if (dpkg_run("1", "lt", "2") != 0) {
		printf("ok %d # SKIP dpkg --compare-versions does not run here\n", ++tap_n);
		return;
	}
	for (size_t i = 0; i < N_OF(dpkg_cases) && n < N; i++)
		if (strlen(dpkg_cases[i].a) < sizeof(pairs[0].a) && strlen(dpkg_cases[i].b) < sizeof(pairs[0].b))
			set_pair(&pairs[n++], dpkg_cases[i].a, dpkg_cases[i].b);
	/* dpkg reads an empty argument as "no version" rather than as an error: left out. */
	for (size_t i = 0; i < N_OF(dpkg_invalid) && n < N; i++)
		if (dpkg_invalid[i][0] && strlen(dpkg_invalid[i]) < sizeof(pairs[0].a))
			set_pair(&pairs[n++], dpkg_invalid[i], "1.0-1");
	while (n < N) {
		gen_version(pairs[n].a, sizeof(pairs[n].a), "abcXYZ.+~:-^", NULL, true);
		gen_version(pairs[n].b, sizeof(pairs[n].b), "abcXYZ.+~:-^", pairs[n].a, true);
		n++;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++) {
		bool k;
		int ours = ed_version_cmp("dpkg", pairs[i].a, pairs[i].b, &k);
		int theirs = dpkg_oracle(pairs[i].a, pairs[i].b);
		if (theirs == 2)
			invalid++;
		if (theirs == -2 || (theirs == 2) != !k || (k && ours != theirs)) {
			if (bad++ < 20)
				printf("#   dpkg: '%s' vs '%s': ours %d (ok %d), dpkg says %d\n",
				       shown(pairs[i].a), shown(pairs[i].b), ours, k, theirs);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(bad == 0,
	   "dpkg --compare-versions: %zu pairs (%zu rejected by both), %zu disagreements, %.2f s", n,
	   invalid, bad, secs);
}

/* ---- rpm's own comparison, through its Lua interpreter in one process ---- */

#define RPM_LUA                                                                                 \
	"%%{lua: for line in io.lines('%s') do "                                                  \
	"local t = string.find(line, '\\t', 1, true) "                                           \
	"local va, vb = rpm.ver(string.sub(line, 1, t - 1)), rpm.ver(string.sub(line, t + 1)) "  \
	"local r = 0 if va < vb then r = -1 elseif vb < va then r = 1 end "                      \
	"io.write(r, '\\n') end }"

/* Runs rpm over pairs; fills results[]; returns how many were read, or -1 when rpm cannot run. */
static long rpm_oracle(const struct pair *pairs, size_t n, int *results)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	char code[4096 + 512];
	int fd, pfd[2] = {-1, -1};
	long got = -1;
	FILE *f = NULL, *out = NULL;
	pid_t pid = -1;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/ed-test-version-XXXXXX", tmp) >= sizeof(path))
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\t%s\n", pairs[i].a, pairs[i].b);
	if (fclose(f) != 0)
		goto out;
	if (strchr(path, '\'') || (size_t)snprintf(code, sizeof(code), RPM_LUA, path) >= sizeof(code))
		goto out;
	if (pipe(pfd) != 0)
		goto out;

	posix_spawn_file_actions_t fa;
	char *argv[] = {"rpm", "--eval", code, NULL};
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, "rpm", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	pfd[1] = -1;
	if (rc != 0) {
		pid = -1;
		goto out;
	}
	out = fdopen(pfd[0], "r");
	if (!out)
		goto out;
	pfd[0] = -1;
	got = 0;
	int v;
	while ((size_t)got < n && fscanf(out, "%d", &v) == 1)
		results[got++] = v;
out:
	if (out)
		fclose(out);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (pid > 0) {
		int st = 0;
		pid_t w;
		while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			got = got > 0 ? got : -1;
	}
	unlink(path);
	return got;
}

static void rpm_differential(void)
{
	enum { N = 3000 };
	static struct pair pairs[N];
	static int theirs[N];
	size_t n = 0, bad = 0;

	/* Lists are envdrift's own notion and rpm.ver() takes one version: tables only. */
	for (size_t i = 0; i < N_OF(rpm_cases) && n < N; i++)
		if (!strstr(rpm_cases[i].a, ", ") && !strstr(rpm_cases[i].b, ", "))
			set_pair(&pairs[n++], rpm_cases[i].a, rpm_cases[i].b);
	while (n < N) {
		gen_version(pairs[n].a, sizeof(pairs[n].a), "abcxyzXYZ.~^:-+_", NULL, false);
		gen_version(pairs[n].b, sizeof(pairs[n].b), "abcxyzXYZ.~^:-+_", pairs[n].a, false);
		n++;
	}
	long got = rpm_oracle(pairs, n, theirs);
	if (got < 0) {
		printf("ok %d # SKIP rpm is not installed or its Lua does not run\n", ++tap_n);
		return;
	}
	if ((size_t)got != n) {
		ok(0, "rpm printed %ld results for %zu pairs", got, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool k;
		int ours = ed_version_cmp("rpm", pairs[i].a, pairs[i].b, &k);
		if (!k || ours != theirs[i]) {
			if (bad++ < 20)
				printf("#   rpm: '%s' vs '%s': ours %d (ok %d), rpm.ver says %d\n",
				       shown(pairs[i].a), shown(pairs[i].b), ours, k, theirs[i]);
		}
	}
	ok(bad == 0, "rpm's rpm.ver(): %zu pairs, %zu disagreements", n, bad);
}

/* ---- hidden mode for bench/version.sh ---- */

/* Reads "MANAGER\tA\tB" lines and prints -1, 0, 1 or x (unparseable) for each. */
static int run_pairs(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "test_version: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2) {
			fprintf(stderr, "test_version: %s: a line is not MANAGER<TAB>A<TAB>B\n", path);
			rc = 2;
			break;
		}
		*t1 = *t2 = '\0';
		bool k;
		int r = ed_version_cmp(line, t1 + 1, t2 + 1, &k);
		if (k)
			printf("%d\n", r);
		else
			fputs("x\n", stdout);
	}
	free(line);
	if (ferror(f))
		rc = 2;
	if (f != stdin)
		fclose(f);
	if (fflush(stdout) != 0)
		rc = 2;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--pairs") == 0)
		return run_pairs(argv[2]);

	check_api();
	check_cases("dpkg", dpkg_cases, N_OF(dpkg_cases));
	check_invalid("dpkg", dpkg_invalid, N_OF(dpkg_invalid), "1.0-1");
	check_cases("rpm", rpm_cases, N_OF(rpm_cases));
	check_invalid("rpm", rpm_invalid, N_OF(rpm_invalid), "1.0-1");
	check_cases("apk", apk_cases, N_OF(apk_cases));
	check_valid("apk", apk_valid, N_OF(apk_valid));
	check_invalid("apk", apk_invalid, N_OF(apk_invalid), "1.0-r0");
	check_sorted("pypi", pypi_sorted, N_OF(pypi_sorted));
	check_cases("pypi", pypi_cases, N_OF(pypi_cases));
	check_invalid("pypi", pypi_invalid, N_OF(pypi_invalid), "1.0");
	check_cases("npm", npm_cases, N_OF(npm_cases));
	check_invalid("npm", npm_invalid, N_OF(npm_invalid), "1.0.0");

	/* A 257-byte semver is over node-semver's MAX_LENGTH, a 256-byte one is not. */
	char big[300];
	memset(big, '1', sizeof(big));
	memcpy(big + 251, ".0.0", 5); /* 251 digits + ".0.0" = 255 bytes: too big a number */
	bool k;
	ed_version_cmp("npm", big, "1.0.0", &k);
	ok(!k, "npm: a major version past 2^53-1 is not a version");
	memset(big, ' ', sizeof(big));
	memcpy(big + 252, "1.0.0", 6); /* 257 bytes, mostly blanks */
	ed_version_cmp("npm", big, "1.0.0", &k);
	ok(!k, "npm: 257 bytes is over the 256-byte limit, blanks included");
	ok(ed_version_cmp("npm", big + 1, "1.0.0", &k) == 0 && k, "npm: 256 bytes is within it");

	dpkg_differential();
	rpm_differential();
	return tap_done();
}
