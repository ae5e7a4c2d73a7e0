/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for YAML, INI and key=value configs and for the redaction of
 * kept content (all four formats), on real files from a Debian 12 machine.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/config.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "sink_mem.h"
#include "tap.h"

static uint8_t key_a[ED_KEY_LEN];
static struct ed_secrets sec_a;

/*
 * Every allocation of this process (ours, libyaml's, jansson's, libc's)
 * passes through these, which forward to the next definition (libasan.so's
 * with gcc, or libc's). fail_at > 0 fails the fail_at-th allocation, and
 * every later one too when fail_rest is set. dlsym() may allocate before the
 * real functions are known: that is served from a static buffer, never freed.
 * clang links ASan into the executable itself, where these would hide its
 * allocator while it starts: there the allocation-failure test is skipped.
 */
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_HOOKS 0
#endif
#endif
#ifndef ALLOC_HOOKS
#define ALLOC_HOOKS 1
#endif

static long nalloc, fail_at;
static bool fail_rest;

#if ALLOC_HOOKS
/* The sanitizer may call these before it has set itself up: no checks in them. */
#define NO_SAN __attribute__((no_sanitize("address", "undefined")))

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static _Alignas(16) char boot[4096];
static size_t bootn;
static bool booting;

NO_SAN static void *boot_alloc(size_t n)
{
	size_t want = (n + 15) & ~(size_t)15;
	if (want > sizeof(boot) - bootn)
		return NULL;
	void *p = boot + bootn;
	bootn += want;
	return p; /* static storage: already zero */
}

NO_SAN static void alloc_init(void)
{
	booting = true;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	booting = false;
	if (!real_malloc || !real_calloc || !real_realloc || !real_free)
		abort();
}

NO_SAN static bool alloc_fails(void)
{
	return fail_at && (++nalloc == fail_at || (fail_rest && nalloc > fail_at));
}

NO_SAN void *malloc(size_t n)
{
	if (booting)
		return boot_alloc(n);
	if (!real_malloc)
		alloc_init();
	return alloc_fails() ? NULL : real_malloc(n);
}

NO_SAN void *calloc(size_t n, size_t size)
{
	if (booting)
		return size && n > SIZE_MAX / size ? NULL : boot_alloc(n * size);
	if (!real_calloc)
		alloc_init();
	return alloc_fails() ? NULL : real_calloc(n, size);
}

NO_SAN void *realloc(void *p, size_t n)
{
	if (!real_realloc)
		alloc_init();
	return alloc_fails() ? NULL : real_realloc(p, n);
}

NO_SAN void free(void *p)
{
	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return;
	if (!real_free)
		alloc_init();
	real_free(p);
}
#endif

/* ---- helpers ---- */

static enum ed_code parse_len(struct mem_sink *ms, enum ed_config_format f, const char *path,
			      const char *doc, size_t len, size_t *nsecrets)
{
	struct ed_err err = {0};
	mem_sink_init(ms);
	return ed_config_parse(f, ed_str_of(doc, len), path, &sec_a, &ms->sink, nsecrets, &err);
}

static enum ed_code parse(struct mem_sink *ms, enum ed_config_format f, const char *path,
			  const char *doc)
{
	return parse_len(ms, f, path, doc, strlen(doc), NULL);
}

static bool fp_eq(const struct ed_fp *a, const struct ed_fp *b)
{
	return memcmp(a->b, b->b, ED_FP_LEN) == 0;
}

static bool plain_fp_matches(const struct mem_item *m, const char *text)
{
	struct ed_fp fp;
	ed_fp_of(text, strlen(text), &fp);
	return fp_eq(&fp, &m->fp);
}

static bool keyed_fp_matches(const struct mem_item *m, const char *text)
{
	struct ed_fp fp;
	struct ed_err err = {0};
	if (ed_fp_keyed(key_a, text, strlen(text), &fp, &err) != ED_OK)
		return false;
	return fp_eq(&fp, &m->fp);
}

static bool has(const char *field, const char *needle)
{
	return field && strstr(field, needle);
}

/* Does the canary appear in no field of any item and in no warning? */
static bool canary_absent(const struct mem_sink *ms, const char *canary)
{
	for (size_t i = 0; i < ms->n; i++) {
		const struct mem_item *m = &ms->items[i];
		if (has(m->key, canary) || has(m->value, canary) || has(m->attrs, canary) ||
		    has(m->error, canary))
			return false;
	}
	return !mem_sink_warned(ms, canary);
}

/* Is m a secret item: no value, attrs secret, keyed fp of text and not its plain XXH3? */
static bool is_secret_item(const struct mem_item *m, const char *text)
{
	return m && m->value == NULL && m->attrs &&
	       strncmp(m->attrs, "{\"secret\":true,\"because\":\"",
		       strlen("{\"secret\":true,\"because\":\"")) == 0 &&
	       keyed_fp_matches(m, text) && !plain_fp_matches(m, text);
}

/* Compares the emitted items, in order, to pairs of key and value (NULL = no value). */
static void check_items(const struct mem_sink *ms, const char *const (*want)[2], size_t n,
			const char *what)
{
	bool same = ms->n == n;
	for (size_t i = 0; same && i < n; i++) {
		const char *v = ms->items[i].value;
		same = strcmp(ms->items[i].key, want[i][0]) == 0 &&
		       (v && want[i][1] ? strcmp(v, want[i][1]) == 0 : v == want[i][1]);
		/* Every plain value is fingerprinted by XXH3 of its text. */
		same = same && (!v || plain_fp_matches(&ms->items[i], v));
	}
	ok(same, "%s: %zu items with the expected keys, values and fingerprints", what, n);
	if (!same) {
		for (size_t i = 0; i < ms->n; i++)
			printf("#   got  %s = %s\n", ms->items[i].key,
			       ms->items[i].value ? ms->items[i].value : "(null)");
		for (size_t i = 0; i < n; i++)
			printf("#   want %s = %s\n", want[i][0], want[i][1] ? want[i][1] : "(null)");
		for (size_t i = 0; i < ms->nwarnings; i++)
			printf("#   warning: %s\n", ms->warnings[i]);
	}
}

#define CHECK(ms, want, what) check_items(ms, want, sizeof(want) / sizeof(want[0]), what)

/* The value of the single item of "v: TEXT" style documents. */
static const char *value_of(const struct mem_sink *ms, const char *key)
{
	const struct mem_item *m = mem_sink_find(ms, key);
	return m ? m->value : NULL;
}

/* A malformed input: ED_OK, nothing emitted, one warning containing want. */
static void check_refused(enum ed_config_format f, const char *path, const char *doc, size_t len,
			  const char *want, const char *what)
{
	struct mem_sink ms;
	enum ed_code rc = parse_len(&ms, f, path, doc, len, NULL);
	bool good = rc == ED_OK && ms.n == 0 && ms.nwarnings == 1 && mem_sink_warned(&ms, want);
	ok(good, "%s: refused with a warning naming '%s'", what, want);
	if (!good) {
		printf("#   rc %d, %zu items\n", rc, ms.n);
		for (size_t i = 0; i < ms.nwarnings; i++)
			printf("#   warning: %s\n", ms.warnings[i]);
	}
	mem_sink_release(&ms);
}

static bool same_items(const struct mem_sink *a, const struct mem_sink *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct mem_item *x = &a->items[i], *y = &b->items[i];
		if (strcmp(x->key, y->key) || !fp_eq(&x->fp, &y->fp) || !x->value != !y->value ||
		    (x->value && strcmp(x->value, y->value)))
			return false;
	}
	return true;
}

/* Text with every "\n" written "\r\n", and a UTF-8 BOM in front. Caller frees. */
static char *crlf_bom(const char *s)
{
	size_t n = strlen(s), nl = 0;
	for (size_t i = 0; i < n; i++)
		nl += s[i] == '\n';
	char *out = malloc(n + nl + 4);
	if (!out)
		return NULL;
	char *p = out;
	memcpy(p, "\xef\xbb\xbf", 3);
	p += 3;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			*p++ = '\r';
		*p++ = s[i];
	}
	*p = '\0';
	return out;
}

static void check_crlf_bom(enum ed_config_format f, const char *path, const char *doc,
			   const char *what)
{
	struct mem_sink a, b;
	char *alt = crlf_bom(doc);
	parse(&a, f, path, doc);
	parse(&b, f, path, alt ? alt : "");
	ok(a.n > 0 && same_items(&a, &b) && b.nwarnings == a.nwarnings,
	   "%s: BOM and CRLF give the same %zu items", what, a.n);
	mem_sink_release(&a);
	mem_sink_release(&b);
	free(alt);
}

static void check_sink_failure(enum ed_config_format f, const char *path, const char *doc,
			       const char *what)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	mem_sink_init(&ms);
	ms.fail_after = 2;
	enum ed_code rc = ed_config_parse(f, ed_str_of(doc, strlen(doc)), path, &sec_a, &ms.sink,
					  NULL, &err);
	ok(rc == ED_STORE && err.code == ED_STORE && ms.n == 1,
	   "%s: a sink failure at item 2 is returned, nothing more emitted", what);
	mem_sink_release(&ms);

	struct ed_secrets nokey = {.key = NULL, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};
	mem_sink_init(&ms);
	rc = ed_config_parse(f, ed_str_of(doc, strlen(doc)), path, &nokey, &ms.sink, NULL, &err);
	ok(rc == ED_USAGE && ms.n == 0 && strstr(err.msg, path),
	   "%s: no secret key is ED_USAGE naming the path", what);
	mem_sink_release(&ms);
}

/* ---- real samples ---- */

/* /root/.pyenv/.github/workflows/no-response.yml (pyenv), as found on this machine. */
static const char yaml_no_response[] =
	"name: No Response\n"
	"\n"
	"# Both `issue_comment` and `scheduled` event types are required for this Action\n"
	"# to work properly.\n"
	"on:\n"
	"  issue_comment:\n"
	"    types: [created]\n"
	"  schedule:\n"
	"    # Schedule for ten minutes after the hour, every 2 hours\n"
	"    - cron: '10 */2 * * *'\n"
	"\n"
	"permissions: {}\n"
	"jobs:\n"
	"  noResponse:\n"
	"    permissions:\n"
	"      issues: write  #  to update issues (lee-dohm/no-response)\n"
	"\n"
	"    runs-on: ubuntu-latest\n"
	"    steps:\n"
	"      - uses: lee-dohm/no-response@v0.5.0\n"
	"        with:\n"
	"          token: ${{ github.token }}\n"
	"          daysUntilClose: 30\n"
	"          responseRequiredLabel: need-feedback\n"
	"          closeComment: >\n"
	"              This issue has been automatically closed because there has been no response\n"
	"              to our request for more information from the original author. With only the\n"
	"              information that is currently in the issue, we don't have enough information\n"
	"              to take action. Please reach out if you have or find the answers we need so\n"
	"              that we can investigate further.\n";

/* The start of /usr/share/perl/5.36.0/CPAN/Kwalify/distroprefs.yml: anchors and aliases. */
static const char yaml_kwalify[] =
	"--- \n"
	"type: map\n"
	"mapping:\n"
	"  comment:\n"
	"    type: text\n"
	"  depends:\n"
	"    type: map\n"
	"    mapping:\n"
	"      configure_requires:\n"
	"        &requires_common\n"
	"        type: map\n"
	"        mapping:\n"
	"          =:\n"
	"            type: text\n"
	"      build_requires: *requires_common\n"
	"      requires:       *requires_common\n";

/* /usr/lib/python3.12/test/libregrtest/mypy.ini (pyenv's CPython 3.12.1). */
static const char ini_mypy[] =
	"# Config file for running mypy on libregrtest.\n"
	"# Run mypy by invoking `mypy --config-file Lib/test/libregrtest/mypy.ini`\n"
	"# on the command-line from the repo root\n"
	"\n"
	"[mypy]\n"
	"files = Lib/test/libregrtest\n"
	"explicit_package_bases = True\n"
	"python_version = 3.12\n"
	"platform = linux\n"
	"pretty = True\n"
	"\n"
	"# Enable most stricter settings\n"
	"enable_error_code = ignore-without-code\n"
	"strict = True\n"
	"\n"
	"# Various stricter settings that we can't yet enable\n"
	"# Try to enable these in the following order:\n"
	"disallow_any_generics = False\n"
	"disallow_incomplete_defs = False\n"
	"disallow_untyped_calls = False\n"
	"disallow_untyped_defs = False\n"
	"check_untyped_defs = False\n"
	"warn_return_any = False\n"
	"\n"
	"disable_error_code = return\n"
	"\n"
	"# Enable --strict-optional for these ASAP:\n"
	"[mypy-Lib.test.libregrtest.main.*,Lib.test.libregrtest.run_workers.*]\n"
	"strict_optional = False\n"
	"\n"
	"# Various internal modules that typeshed deliberately doesn't have stubs for:\n"
	"[mypy-_abc.*,_opcode.*,_overlapped.*,_testcapi.*,_testinternalcapi.*,test.*]\n"
	"ignore_missing_imports = True\n";

/* /usr/share/doc/libinih-dev/examples/test.ini: inline comments. */
static const char ini_inih[] =
	"; Test config file for ini_example.c and INIReaderTest.cpp\n"
	"\n"
	"[protocol]             ; Protocol configuration\n"
	"version=6              ; IPv6\n"
	"\n"
	"[user]\n"
	"name = Bob Smith       ; Spaces around '=' are stripped\n"
	"email = bob@smith.com  ; And comments (like this) ignored\n"
	"active = true          ; Test a boolean\n"
	"pi = 3.14159           ; Test a floating point number\n";

/* /usr/share/ssl-cert/ssleay.cnf: "[ req ]" sections, a tab, and a key the patterns call secret. */
static const char ini_ssleay[] =
	"#\n"
	"# SSLeay example configuration file.\n"
	"#\n"
	"\n"
	"[ req ]\n"
	"default_bits            = 2048\n"
	"default_keyfile         = privkey.pem\n"
	"distinguished_name      = req_distinguished_name\n"
	"prompt                  = no\n"
	"policy\t\t\t= policy_anything\n"
	"req_extensions          = v3_req\n"
	"x509_extensions         = v3_req\n"
	"\n"
	"[ req_distinguished_name ]\n"
	"commonName                      = @HostName@\n"
	"\n"
	"[ v3_req ]\n"
	"basicConstraints        = CA:FALSE\n"
	"subjectAltName          = @SubjectAltName@\n";

/* Debian's /etc/sysctl.conf (abridged), with settings switched on as an admin would. */
static const char kv_sysctl[] =
	"#\n"
	"# /etc/sysctl.conf - Configuration file for setting system variables\n"
	"# See /etc/sysctl.d/ for additional system variables.\n"
	"# See sysctl.conf (5) for information.\n"
	"#\n"
	"\n"
	"#kernel.domainname = example.com\n"
	"\n"
	"# Uncomment the following to stop low-level messages on console\n"
	"kernel.printk = 3 4 1 3\n"
	"\n"
	"# Uncomment the next two lines to enable Spoof protection (reverse-path filter)\n"
	"net.ipv4.conf.default.rp_filter=1\n"
	"net.ipv4.conf.all.rp_filter=1\n"
	"\n"
	"# Uncomment the next line to enable TCP/IP SYN cookies\n"
	"# See http://lwn.net/Articles/277146/\n"
	"-net.ipv4.tcp_syncookies=1\n"
	"; Do not accept ICMP redirects (prevent MITM attacks)\n"
	"net/ipv4/conf/all/accept_redirects = 0\n";

/* /etc/os-release on this machine. */
static const char kv_os_release[] =
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	"NAME=\"Debian GNU/Linux\"\n"
	"VERSION_ID=\"12\"\n"
	"VERSION=\"12 (bookworm)\"\n"
	"VERSION_CODENAME=bookworm\n"
	"ID=debian\n"
	"HOME_URL=\"https://www.debian.org/\"\n"
	"SUPPORT_URL=\"https://www.debian.org/support\"\n"
	"BUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

/* Lines of /usr/lib/jvm/java-17-openjdk-amd64/conf/{net,logging}.properties. */
static const char kv_properties[] =
	"############################################################\n"
	"#       Default Networking Configuration File\n"
	"#\n"
	"java.net.useSystemProxies=false\n"
	"http.nonProxyHosts=localhost|127.*|[::1]\n"
	"jdk.http.auth.tunneling.disabledSchemes=Basic\n"
	"handlers= java.util.logging.ConsoleHandler\n"
	".level= INFO\n"
	"java.util.logging.FileHandler.pattern = %h/java%u.log\n"
	"! a bang comment\n"
	"java.util.logging.ConsoleHandler.formatter = \\\n"
	"    java.util.logging.SimpleFormatter\n"
	"name\\ with\\ spaces = v\\tw\n"
	"list = a,\\\n"
	"       b,\\\n"
	"       c\n"
	"uni = caf\\u00e9 \\uD83D\\uDE00\n"
	"lonely\n"
	"spaced   value here\n"
	"colon:value  \n";

/* ---- YAML ---- */

static void test_yaml_samples(void)
{
	struct mem_sink ms;
	size_t nsec = 99;
#define NR "/etc/gh/no-response.yml"
	static const char *const want[][2] = {
		{NR "#/jobs/noResponse/permissions/issues", "\"write\""},
		{NR "#/jobs/noResponse/runs-on", "\"ubuntu-latest\""},
		{NR "#/jobs/noResponse/steps/0/uses", "\"lee-dohm/no-response@v0.5.0\""},
		{NR "#/jobs/noResponse/steps/0/with/closeComment",
		 "\"This issue has been automatically closed because there has been no response to "
		 "our request for more information from the original author. With only the "
		 "information that is currently in the issue, we don't have enough information to "
		 "take action. Please reach out if you have or find the answers we need so that we "
		 "can investigate further.\\n\""},
		{NR "#/jobs/noResponse/steps/0/with/daysUntilClose", "30"},
		{NR "#/jobs/noResponse/steps/0/with/responseRequiredLabel", "\"need-feedback\""},
		{NR "#/jobs/noResponse/steps/0/with/token", NULL},
		{NR "#/name", "\"No Response\""},
		{NR "#/on/issue_comment/types/0", "\"created\""},
		{NR "#/on/schedule/0/cron", "\"10 */2 * * *\""},
		{NR "#/permissions", "{}"},
	};
	is_int(parse_len(&ms, ED_CFG_YAML, NR, yaml_no_response, strlen(yaml_no_response), &nsec),
	       ED_OK, "no-response.yml parses");
	CHECK(&ms, want, "no-response.yml");
	ok(ms.nwarnings == 0 && nsec == 1, "no-response.yml: no warning, one secret");
	ok(is_secret_item(mem_sink_find(&ms, NR "#/jobs/noResponse/steps/0/with/token"),
			  "\"${{ github.token }}\""),
	   "no-response.yml: the token is keyed, not stored");
	ok(ms.n && strcmp(ms.items[0].kind, ED_KIND_CONFIG) == 0 && ms.items[0].attrs == NULL,
	   "no-response.yml: config items, no attrs on plain leaves");
	mem_sink_release(&ms);

#define KW "/usr/share/perl/5.36.0/CPAN/Kwalify/distroprefs.yml"
	static const char *const kw[][2] = {
		{KW "#/mapping/comment/type", "\"text\""},
		{KW "#/mapping/depends/mapping/build_requires/mapping/=/type", "\"text\""},
		{KW "#/mapping/depends/mapping/build_requires/type", "\"map\""},
		{KW "#/mapping/depends/mapping/configure_requires/mapping/=/type", "\"text\""},
		{KW "#/mapping/depends/mapping/configure_requires/type", "\"map\""},
		{KW "#/mapping/depends/mapping/requires/mapping/=/type", "\"text\""},
		{KW "#/mapping/depends/mapping/requires/type", "\"map\""},
		{KW "#/mapping/depends/type", "\"map\""},
		{KW "#/type", "\"map\""},
	};
	parse(&ms, ED_CFG_YAML, KW, yaml_kwalify);
	CHECK(&ms, kw, "distroprefs.yml: aliases expanded where they stand");
	mem_sink_release(&ms);
	check_crlf_bom(ED_CFG_YAML, NR, yaml_no_response, "no-response.yml");
	check_sink_failure(ED_CFG_YAML, NR, yaml_no_response, "yaml");
}

static void test_yaml_scalars(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"0x10", "16"},
		{"0o17", "15"},
		{"007", "7"},
		{"-0", "0"},
		{"+12", "12"},
		{"-12", "-12"},
		{"123456789012345678901234567890",
		 "{\"tag\":\"tag:yaml.org,2002:int\",\"value\":\"123456789012345678901234567890\"}"},
		{"9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"9223372036854775808", "{\"tag\":\"tag:yaml.org,2002:int\",\"value\":\"9223372036854775808\"}"},
		{"-000", "0"},
		{"1e3", "1e3"},
		{"1000.0", "1e3"},
		{".5", "0.5"},
		{"1.", "1.0"},
		{"0.1", "0.1"},
		{"-1.5e-3", "-0.0015"},
		{"1.5", "1.5"},
		{"-.inf", "{\"tag\":\"tag:yaml.org,2002:float\",\"value\":\"-.inf\"}"},
		{".Inf", "{\"tag\":\"tag:yaml.org,2002:float\",\"value\":\".inf\"}"},
		{".NaN", "{\"tag\":\"tag:yaml.org,2002:float\",\"value\":\".nan\"}"},
		{"1e400", "{\"tag\":\"tag:yaml.org,2002:float\",\"value\":\"1e400\"}"},
		{"0x1ffffffffffffffff", "{\"tag\":\"tag:yaml.org,2002:int\",\"value\":\"0x1ffffffffffffffff\"}"},
		{"0x7fffffffffffffff", "9223372036854775807"},
		{"0x8000000000000000", "{\"tag\":\"tag:yaml.org,2002:int\",\"value\":\"0x8000000000000000\"}"},
		{"yes", "\"yes\""},
		{"off", "\"off\""},
		{"True", "true"},
		{"FALSE", "false"},
		{"tRUE", "\"tRUE\""},
		{"~", "null"},
		{"", "null"},
		{"NULL", "null"},
		{"\"\"", "\"\""},
		{"'1'", "\"1\""},
		{"\"true\"", "\"true\""},
		{"!!str 1", "\"1\""},
		{"! 12", "\"12\""},
		{"!!int \"12\"", "12"},
		{"!!float 1", "1.0"},
		{"!!null ''", "null"},
		{"!!bool yes", "{\"tag\":\"tag:yaml.org,2002:bool\",\"value\":\"yes\"}"},
		{"!Ref bucket", "{\"tag\":\"!Ref\",\"value\":\"bucket\"}"},
		{"!!binary aGk=", "{\"tag\":\"tag:yaml.org,2002:binary\",\"value\":\"aGk=\"}"},
		{"12:30", "\"12:30\""},
		{"1_000", "\"1_000\""},
		{"2001-12-14", "\"2001-12-14\""},
		{"\"tab\\there\"", "\"tab\\there\""},
		{"\"nul\\0byte\"", "\"nul\\u0000byte\""},
		{"\"\\x01\\x1f\\x7f/\\\\\\\"\"", "\"\\u0001\\u001F\x7f/\\\\\\\"\""},
		{"\"caf\\u00e9 \\U0001F600\"", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
		{"|\n  a\n  b\n", "\"a\\nb\\n\""},
		{">-\n  a\n  b\n", "\"a b\""},
		{"plain\n  continued", "\"plain continued\""},
		{"[]", "[]"},
		{"{}", "{}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mem_sink ms;
		char doc[256];
		snprintf(doc, sizeof(doc), "v: %s\n", cases[i].text);
		parse(&ms, ED_CFG_YAML, "/y", doc);
		const char *got = value_of(&ms, "/y#/v");
		bool good = ms.n == 1 && got && strcmp(got, cases[i].want) == 0 && ms.nwarnings == 0;
		char shown[128];
		size_t k = 0;
		for (const char *c = cases[i].text; *c && k + 3 < sizeof(shown); c++) {
			if (*c == '\n') {
				shown[k++] = '\\';
				shown[k++] = 'n';
			} else {
				shown[k++] = *c;
			}
		}
		shown[k] = '\0';
		ok(good, "yaml scalar %s -> %s", shown, cases[i].want);
		if (!good)
			printf("#   got: %s (%zu items, %zu warnings)\n", got ? got : "(null)", ms.n,
			       ms.nwarnings);
		mem_sink_release(&ms);
	}

	/* The same numbers and strings give the same canonical text in JSON and YAML. */
	static const char *const same[] = {"1.5", "0.1", "1e300", "1000.0", "-0.0", "123", "-7",
					   "2.5e+20", "\"a/b\"", "\"\\u0001\\u001f\\\"\\\\\"", "true",
					   "null", "\"h\\u00e9\""};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct mem_sink j, y;
		char doc[128];
		snprintf(doc, sizeof(doc), "{\"v\": %s}", same[i]);
		parse(&j, ED_CFG_JSON, "/c", doc);
		parse(&y, ED_CFG_YAML, "/c", doc); /* JSON is YAML flow syntax */
		ok(j.n == 1 && same_items(&j, &y), "json and yaml agree on %s (%s)", same[i],
		   j.n ? j.items[0].value : "?");
		mem_sink_release(&j);
		mem_sink_release(&y);
	}
}

static void test_yaml_structure(void)
{
	struct mem_sink ms;

	static const char *const multi[][2] = {
		{"/m.yaml#/0", "\"a\""}, {"/m.yaml#/1/b", "1"}, {"/m.yaml#/2", "null"},
	};
	parse(&ms, ED_CFG_YAML, "/m.yaml", "--- a\n--- {b: 1}\n---\n...\n");
	CHECK(&ms, multi, "yaml stream of three documents keyed /N");
	mem_sink_release(&ms);

	static const char *const one[][2] = {{"/o.yaml#/b", "1"}};
	parse(&ms, ED_CFG_YAML, "/o.yaml", "%YAML 1.1\n---\nb: 1\n...\n");
	CHECK(&ms, one, "yaml single explicit document: no /N");
	mem_sink_release(&ms);

	static const char *const top[][2] = {{"/t.yaml#", "\"scalar\""}};
	parse(&ms, ED_CFG_YAML, "/t.yaml", "scalar\n");
	CHECK(&ms, top, "yaml top-level scalar keyed PATH#");
	mem_sink_release(&ms);

	parse(&ms, ED_CFG_YAML, "/e.yaml", "# nothing but a comment\n");
	ok(ms.n == 0 && ms.nwarnings == 0, "yaml empty stream: nothing, no warning");
	mem_sink_release(&ms);

	static const char *const esc[][2] = {
		{"/r.yaml#/", "1"}, {"/r.yaml#/a~1b", "2"}, {"/r.yaml#/m~0n", "3"},
	};
	parse(&ms, ED_CFG_YAML, "/r.yaml", "\"a/b\": 2\nm~n: 3\n\"\": 1\n");
	CHECK(&ms, esc, "yaml keys escaped per RFC 6901, byte order");
	mem_sink_release(&ms);

	static const char *const merge[][2] = {
		{"/g.yaml#/base/x", "1"}, {"/g.yaml#/d/<</x", "1"}, {"/g.yaml#/d/y", "2"},
	};
	parse(&ms, ED_CFG_YAML, "/g.yaml", "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n");
	CHECK(&ms, merge, "yaml merge key << is an ordinary key");
	mem_sink_release(&ms);

	parse(&ms, ED_CFG_YAML, "/s.yaml", "l: [1, [], {x: {}}, 3, 4, 5, 6, 7, 8, 9, 10]\n");
	ok(ms.n == 11 && strcmp(ms.items[10].key, "/s.yaml#/l/10") == 0,
	   "yaml sequence elements in index order");
	mem_sink_release(&ms);

	/* A key that is not a scalar: that pair is skipped with a warning, the rest kept. */
	parse(&ms, ED_CFG_YAML, "/k.yaml", "? [a, b]\n: 1\nc: 2\n");
	ok(ms.n == 1 && strcmp(ms.items[0].key, "/k.yaml#/c") == 0 && ms.nwarnings == 1 &&
		   mem_sink_warned(&ms, "/k.yaml:1:3: mapping key that is not a scalar"),
	   "yaml non-scalar key skipped with a warning naming the line");
	mem_sink_release(&ms);

	parse(&ms, ED_CFG_YAML, "/k.yaml", "{[a]: 1}\n");
	ok(ms.n == 0 && ms.nwarnings == 1, "yaml mapping whose only key is skipped emits nothing");
	mem_sink_release(&ms);

	/* Empty containers are leaves; aliases of scalars as keys work. */
	static const char *const alias_key[][2] = {{"/a.yaml#/k", "\"k\""}, {"/a.yaml#/x/k", "1"}};
	parse(&ms, ED_CFG_YAML, "/a.yaml", "k: &n k\nx: {*n : 1}\n");
	CHECK(&ms, alias_key, "yaml alias of a scalar used as a key");
	mem_sink_release(&ms);
}

/* Counts items (mem_sink grows its array one item at a time: too slow for 60000). */
struct count_sink {
	struct ed_sink sink; /* first member */
	size_t n, nwarnings;
};

static enum ed_code count_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	(void)it;
	(void)err;
	((struct count_sink *)sink)->n++;
	return ED_OK;
}

static void count_warn(struct ed_sink *sink, const char *msg)
{
	(void)msg;
	((struct count_sink *)sink)->nwarnings++;
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1);
	if (!s)
		return NULL;
	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + n * ul, tail, tl + 1);
	return s;
}

static void test_yaml_hostile(void)
{
#define Y "/etc/app/bad.yaml"
	static const char dup[] = "a: 1\nb: 2\na: 3\n";
	check_refused(ED_CFG_YAML, Y, dup, strlen(dup), Y ":3:1: duplicate key 'a'", "yaml duplicate key");
	static const char dup2[] = "x:\n  1: a\n  '1': b\n";
	check_refused(ED_CFG_YAML, Y, dup2, strlen(dup2), Y ":3:3: duplicate key '1'",
		      "yaml keys 1 and '1' are the same key");
	static const char flow[] = "a: [1, 2\nb: 3\n";
	check_refused(ED_CFG_YAML, Y, flow, strlen(flow), Y ":2:", "yaml unclosed flow sequence");
	static const char tab[] = "a: b\n\tc: d\n";
	check_refused(ED_CFG_YAML, Y, tab, strlen(tab), Y ":2:1: found a tab character", "yaml tab indent");
	static const char undef[] = "a: *nope\n";
	check_refused(ED_CFG_YAML, Y, undef, strlen(undef), Y ":1:4: undefined alias", "yaml undefined alias");
	static const char rec[] = "a: &a [1, *a]\n";
	check_refused(ED_CFG_YAML, Y, rec, strlen(rec), "alias to a node that contains it",
		      "yaml recursive alias");
	static const char rec2[] = "a: &a {b: *a}\n";
	check_refused(ED_CFG_YAML, Y, rec2, strlen(rec2), "alias to a node that contains it",
		      "yaml recursive alias in a mapping");
	static const char bad_utf8[] = "a: ok\nb: \xff\xfe\n";
	check_refused(ED_CFG_YAML, Y, bad_utf8, strlen(bad_utf8), Y ":2: invalid", "yaml invalid UTF-8");
	static const char nul[] = "a: 1\nb: x\0y\n";
	check_refused(ED_CFG_YAML, Y, nul, sizeof(nul) - 1, Y ":2: control characters", "yaml NUL byte");
	static const char secret_dup[] = "password: cAnArY-dup\npassword: other\n";
	struct mem_sink ms;
	parse(&ms, ED_CFG_YAML, Y, secret_dup);
	ok(ms.n == 0 && canary_absent(&ms, "cAnArY"), "yaml duplicate secret key: warning quotes no value");
	mem_sink_release(&ms);

	/* The billion laughs: 9^9 nodes from a few hundred bytes. */
	char bomb[2048] = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
	for (char c = 'b'; c <= 'i'; c++) {
		size_t n = strlen(bomb);
		snprintf(bomb + n, sizeof(bomb) - n, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c,
			 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	}
	clock_t t0 = clock();
	check_refused(ED_CFG_YAML, Y, bomb, strlen(bomb), "more than 100000 YAML nodes", "yaml alias bomb");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0, "yaml alias bomb refused in bounded time");

	/* Just under the cap is fine: 9^5 = 59049 leaves and their containers. */
	char fine[1024] = "a: &a [1,1,1,1,1,1,1,1,1]\n";
	for (char c = 'b'; c <= 'e'; c++) {
		size_t n = strlen(fine);
		snprintf(fine + n, sizeof(fine) - n, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c,
			 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	}
	struct count_sink cs = {{.emit = count_emit, .warn = count_warn}, 0, 0};
	struct ed_err err = {0};
	enum ed_code rc = ed_config_parse(ED_CFG_YAML, ed_str_of(fine, strlen(fine)), Y, &sec_a,
					  &cs.sink, NULL, &err);
	ok(rc == ED_OK && cs.n == 9 + 81 + 729 + 6561 + 59049 && cs.nwarnings == 0,
	   "yaml aliases expanding to %zu leaves are read", cs.n);

	/* Wide but shallow: 100001 sequence elements. */
	char *wide = repeat("[", "1,", 100000, "1]");
	check_refused(ED_CFG_YAML, Y, wide ? wide : "", wide ? strlen(wide) : 0, "more than 100000 YAML nodes",
		      "yaml 100001 nodes");
	free(wide);

	/* Depth: 64 levels of containers are fine, 65 are not. */
	char *d64 = repeat("", "[", 64, "1");
	char *d64c = d64 ? repeat(d64, "]", 64, "") : NULL;
	parse(&ms, ED_CFG_YAML, Y, d64c ? d64c : "");
	ok(ms.n == 1 && ms.nwarnings == 0, "yaml 64 nested sequences: one leaf");
	mem_sink_release(&ms);
	free(d64);
	free(d64c);
	char *d65 = repeat("", "[", 65, "1");
	char *d65c = d65 ? repeat(d65, "]", 65, "") : NULL;
	check_refused(ED_CFG_YAML, Y, d65c ? d65c : "", d65c ? strlen(d65c) : 0,
		      "nesting deeper than 64 levels", "yaml 65 nested sequences");
	free(d65);
	free(d65c);
	char *deep = repeat("", "[", 100000, "");
	check_refused(ED_CFG_YAML, Y, deep ? deep : "", deep ? strlen(deep) : 0,
		      "nesting deeper than 64 levels", "yaml 100000 open brackets");
	free(deep);
	/* Block mappings, 65 deep. */
	struct ed_buf b = ED_BUF_INIT;
	for (int i = 0; i < 65; i++)
		ed_buf_addf(&b, "%*sk:\n", 2 * i, "");
	ed_buf_addf(&b, "%*sv\n", 130, "");
	check_refused(ED_CFG_YAML, Y, ed_buf_str(&b), b.len, "nesting deeper than 64 levels",
		      "yaml 65 nested block mappings");
	ed_buf_release(&b);
	/* Alias depth: 40 levels twice over is 80. */
	for (int i = 0; i < 40; i++)
		ed_buf_adds(&b, "[");
	ed_buf_adds(&b, "1");
	for (int i = 0; i < 40; i++)
		ed_buf_adds(&b, "]");
	struct ed_buf d = ED_BUF_INIT;
	ed_buf_addf(&d, "a: &x %s\nb:", ed_buf_str(&b));
	for (int i = 0; i < 40; i++)
		ed_buf_adds(&d, " [");
	ed_buf_adds(&d, "*x");
	for (int i = 0; i < 40; i++)
		ed_buf_adds(&d, "]");
	ed_buf_adds(&d, "\n");
	check_refused(ED_CFG_YAML, Y, ed_buf_str(&d), d.len, "nesting deeper than 64 levels",
		      "yaml depth counted with aliases expanded");
	ed_buf_release(&b);
	ed_buf_release(&d);

	/* A 70000-byte value is fingerprinted, not stored. */
	char *big = repeat("v: ", "z", 70000, "\n");
	parse(&ms, ED_CFG_YAML, Y, big ? big : "");
	ok(ms.n == 1 && ms.items[0].value == NULL && has(ms.items[0].attrs, "large"),
	   "yaml 70000-byte value: attrs large, no value");
	mem_sink_release(&ms);
	free(big);
}

static void test_yaml_secrets(void)
{
	static const char doc[] =
		"db:\n"
		"  user: app\n"
		"  password: &pw cAnArY-yaml-pw\n"
		"api_token: \"cAnArY-tok\"\n"
		"copy: *pw\n"
		"secrets:\n"
		"  - cAnArY-list-1\n"
		"  - {pin: 1234, note: cAnArY-note}\n"
		"ssh_keys: |\n"
		"  cAnArY-block\n"
		"visible: &v shown-value\n"
		"token_ref: *v\n";
	struct mem_sink ms;
	size_t nsec = 0;
#define S "/etc/app/secrets.yaml"
	parse_len(&ms, ED_CFG_YAML, S, doc, strlen(doc), &nsec);
	static const char *const want[][2] = {
		{S "#/api_token", NULL},        {S "#/copy", NULL},
		{S "#/db/password", NULL},      {S "#/db/user", "\"app\""},
		{S "#/secrets/0", NULL},        {S "#/secrets/1/note", NULL},
		{S "#/secrets/1/pin", NULL},    {S "#/ssh_keys", NULL},
		{S "#/token_ref", NULL},        {S "#/visible", NULL},
	};
	/* "visible" is aliased under token_ref: secret wherever it appears (issue 11 A.6). */
	CHECK(&ms, want, "yaml secrets");
	is_int(nsec, 9, "yaml: *nsecrets counts the secret leaves");
	ok(is_secret_item(mem_sink_find(&ms, S "#/db/password"), "\"cAnArY-yaml-pw\""),
	   "yaml secret: keyed fp of the canonical text, not its XXH3");
	ok(is_secret_item(mem_sink_find(&ms, S "#/copy"), "\"cAnArY-yaml-pw\""),
	   "yaml: an alias of a secret stays secret under a plain key");
	ok(is_secret_item(mem_sink_find(&ms, S "#/secrets/1/pin"), "1234"),
	   "yaml: a number under a secret key is keyed as its canonical text");
	ok(canary_absent(&ms, "cAnArY"), "yaml: canary absent from every item and warning");
	mem_sink_release(&ms);
}

/* ---- INI ---- */

static void test_ini_samples(void)
{
	struct mem_sink ms;
	size_t nsec = 99;
#define MY "/usr/lib/python3.12/test/libregrtest/mypy.ini"
	static const char *const mypy[][2] = {
		{MY "#/mypy/check_untyped_defs", "\"False\""},
		{MY "#/mypy/disable_error_code", "\"return\""},
		{MY "#/mypy/disallow_any_generics", "\"False\""},
		{MY "#/mypy/disallow_incomplete_defs", "\"False\""},
		{MY "#/mypy/disallow_untyped_calls", "\"False\""},
		{MY "#/mypy/disallow_untyped_defs", "\"False\""},
		{MY "#/mypy/enable_error_code", "\"ignore-without-code\""},
		{MY "#/mypy/explicit_package_bases", "\"True\""},
		{MY "#/mypy/files", "\"Lib/test/libregrtest\""},
		{MY "#/mypy/platform", "\"linux\""},
		{MY "#/mypy/pretty", "\"True\""},
		{MY "#/mypy/python_version", "\"3.12\""},
		{MY "#/mypy/strict", "\"True\""},
		{MY "#/mypy/warn_return_any", "\"False\""},
		{MY "#/mypy-Lib.test.libregrtest.main.*,Lib.test.libregrtest.run_workers.*/strict_optional",
		 "\"False\""},
		{MY "#/mypy-_abc.*,_opcode.*,_overlapped.*,_testcapi.*,_testinternalcapi.*,test.*/"
		    "ignore_missing_imports",
		 "\"True\""},
	};
	is_int(parse_len(&ms, ED_CFG_INI, MY, ini_mypy, strlen(ini_mypy), &nsec), ED_OK, "mypy.ini parses");
	CHECK(&ms, mypy, "mypy.ini (section names past libinih's 49 bytes read in full)");
	ok(ms.nwarnings == 0 && nsec == 0, "mypy.ini: no warning, no secret");
	mem_sink_release(&ms);

#define IH "/usr/share/doc/libinih-dev/examples/test.ini"
	static const char *const inih[][2] = {
		{IH "#/protocol/version", "\"6\""},     {IH "#/user/active", "\"true\""},
		{IH "#/user/email", "\"bob@smith.com\""}, {IH "#/user/name", "\"Bob Smith\""},
		{IH "#/user/pi", "\"3.14159\""},
	};
	parse(&ms, ED_CFG_INI, IH, ini_inih);
	CHECK(&ms, inih, "libinih's test.ini: inline comments dropped");
	mem_sink_release(&ms);

#define SL "/usr/share/ssl-cert/ssleay.cnf"
	static const char *const ssl[][2] = {
		{SL "#/req/default_bits", "\"2048\""},
		{SL "#/req/default_keyfile", NULL},
		{SL "#/req/distinguished_name", "\"req_distinguished_name\""},
		{SL "#/req/policy", "\"policy_anything\""},
		{SL "#/req/prompt", "\"no\""},
		{SL "#/req/req_extensions", "\"v3_req\""},
		{SL "#/req/x509_extensions", "\"v3_req\""},
		{SL "#/req_distinguished_name/commonName", "\"@HostName@\""},
		{SL "#/v3_req/basicConstraints", "\"CA:FALSE\""},
		{SL "#/v3_req/subjectAltName", "\"@SubjectAltName@\""},
	};
	parse_len(&ms, ED_CFG_INI, SL, ini_ssleay, strlen(ini_ssleay), &nsec);
	CHECK(&ms, ssl, "ssleay.cnf: '[ req ]' is the section 'req'");
	ok(nsec == 1 && is_secret_item(mem_sink_find(&ms, SL "#/req/default_keyfile"), "\"privkey.pem\""),
	   "ssleay.cnf: default_keyfile matches *key*: keyed");
	mem_sink_release(&ms);
	check_crlf_bom(ED_CFG_INI, MY, ini_mypy, "mypy.ini");
	check_sink_failure(ED_CFG_INI, MY, ini_mypy, "ini");
}

static void test_ini_dialect(void)
{
	struct mem_sink ms;
#define I "/etc/app.ini"
	static const char *const php[][2] = {
		{I "#/PHP/extension", "[\"mysqli\",\"curl\",\"gd\"]"},
		{I "#/PHP/memory_limit", "\"128M\""},
		{I "#/Session/session.save_path", "\"/var/lib/php/sessions\""},
	};
	parse(&ms, ED_CFG_INI, I,
	      "[PHP]\nextension=mysqli\nextension=curl\nmemory_limit = 128M\n"
	      "[Session]\nsession.save_path = \"/var/lib/php/sessions\"\n[PHP]\nextension=gd\n");
	/* quotes are kept as written */
	ok(ms.n == 3 && strcmp(ms.items[2].value, "\"\\\"/var/lib/php/sessions\\\"\"") == 0,
	   "ini: quotes kept as written");
	mem_sink_release(&ms);
	parse(&ms, ED_CFG_INI, I,
	      "[PHP]\nextension=mysqli\nextension=curl\nmemory_limit = 128M\n"
	      "[Session]\nsession.save_path = /var/lib/php/sessions\n[PHP]\nextension=gd\n");
	CHECK(&ms, php, "ini: repeated names (and a section opened twice) make one array");
	mem_sink_release(&ms);

	static const char *const cont[][2] = {
		{I "#/options/install_requires", "\"\\nrequests>=2\\nclick ; python_version>'3'\""},
		{I "#/options/zip_safe", "\"False\""},
	};
	parse(&ms, ED_CFG_INI, I,
	      "[options]\ninstall_requires =\n    requests>=2\n\n    # a comment inside\n"
	      "    click ; python_version>'3'\nzip_safe = False\n");
	CHECK(&ms, cont, "ini: deeper-indented lines continue a value (configparser style)");
	mem_sink_release(&ms);

	static const char *const git[][2] = {
		{I "#/core/autocrlf", "\"input\""},
		{I "#/remote \"origin\"/url", "\"https://example.org/r.git\""},
		{I "#/user/email", "\"a@example.org\""},
		{I "#/user/name", "\"A B\""},
	};
	parse(&ms, ED_CFG_INI, I,
	      "[user]\n\tname = A B\n\temail = a@example.org\n[core]\n\tautocrlf = input\n"
	      "[remote \"origin\"]\n\turl = https://example.org/r.git\n");
	CHECK(&ms, git, "ini: tab-indented .gitconfig names are names, not continuations");
	mem_sink_release(&ms);

	/* Names before any section first, then sections in byte order. */
	static const char *const mycnf[][2] = {
		{I "#/top", "\"1\""},
		{I "#/client/port", "\"3306\""},
		{I "#/mysqld/!includedir ~1etc~1mysql~1conf.d~1", "null"},
		{I "#/mysqld/bind-address", "\"127.0.0.1\""},
		{I "#/mysqld/skip-external-locking", "null"},
	};
	parse(&ms, ED_CFG_INI, I,
	      "top = 1\n[client]\nport = 3306\n[mysqld]\nskip-external-locking\nbind-address = 127.0.0.1\n"
	      "!includedir /etc/mysql/conf.d/\n");
	CHECK(&ms, mycnf, "ini: names without a value (my.cnf) are null; names before a section");
	mem_sink_release(&ms);

	parse(&ms, ED_CFG_INI, I, "[s]\na = 1\n   \n; only comments\n# and more\n");
	ok(ms.n == 1 && ms.nwarnings == 0, "ini: ; and # comments, blank lines");
	mem_sink_release(&ms);

	parse(&ms, ED_CFG_INI, I, "");
	ok(ms.n == 0 && ms.nwarnings == 0, "ini: empty file: nothing, no warning");
	mem_sink_release(&ms);

	/* Hostile input. */
	char *longv = repeat("[s]\na = ", "x", 250, "\nb = 1\n");
	check_refused(ED_CFG_INI, I, longv ? longv : "", longv ? strlen(longv) : 0,
		      I ":2: line longer than libinih's limit", "ini line past libinih's buffer");
	free(longv);
	char *deepcont = repeat("[s]\na = 1\n", " ", 250, "b\n");
	static const char *const dc[][2] = {{I "#/s/a", "\"1\\nb\""}};
	parse(&ms, ED_CFG_INI, I, deepcont ? deepcont : "");
	CHECK(&ms, dc, "ini: a continuation indented by 250 blanks is not a long line");
	mem_sink_release(&ms);
	free(deepcont);
	char *indented = repeat("[s]\n", " ", 300, "a = 1\n"); /* leading blanks do not count */
	parse(&ms, ED_CFG_INI, I, indented ? indented : "");
	ok(ms.n == 1 && ms.nwarnings == 0, "ini: a long indentation is not a long line");
	mem_sink_release(&ms);
	free(indented);
	static const char unclosed[] = "[s]\na = 1\n[broken\nb = 2\n";
	check_refused(ED_CFG_INI, I, unclosed, strlen(unclosed), I ":3: section header without ']'",
		      "ini unclosed section");
	static const char nul[] = "[s]\na = 1\nb = x\0y\n";
	check_refused(ED_CFG_INI, I, nul, sizeof(nul) - 1, I ":3: NUL byte", "ini NUL byte");
	static const char latin1[] = "[s]\nname = caf\xe9\n";
	check_refused(ED_CFG_INI, I, latin1, strlen(latin1), I ":2: not valid UTF-8", "ini Latin-1 byte");
	char *longcont = repeat("[s]\n", "n", 60, " = a\n  b\n");
	static const char *const lc[][2] = {
		{I "#/s/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "\"a\\nb\""},
	};
	parse(&ms, ED_CFG_INI, I, longcont ? longcont : "");
	CHECK(&ms, lc, "ini: a 60-byte name continued (libinih keeps 49 bytes of it)");
	mem_sink_release(&ms);
	free(longcont);
}

static void test_ini_secrets(void)
{
	static const char doc[] = "[database]\nuser = app\npassword = cAnArY-ini-1 ; inline comment\n"
				  "[secrets]\napi = cAnArY-ini-2\napi = cAnArY-ini-3\n"
				  "[mail]\nsmtp_password\n";
	struct mem_sink ms;
	size_t nsec = 0;
#define IS "/etc/app/secrets.ini"
	parse_len(&ms, ED_CFG_INI, IS, doc, strlen(doc), &nsec);
	static const char *const want[][2] = {
		{IS "#/database/password", NULL}, {IS "#/database/user", "\"app\""},
		{IS "#/mail/smtp_password", NULL}, {IS "#/secrets/api", NULL},
	};
	CHECK(&ms, want, "ini secrets by name and by section");
	is_int(nsec, 3, "ini: *nsecrets");
	ok(is_secret_item(mem_sink_find(&ms, IS "#/database/password"), "\"cAnArY-ini-1\""),
	   "ini secret keyed over its canonical text");
	ok(is_secret_item(mem_sink_find(&ms, IS "#/secrets/api"), "[\"cAnArY-ini-2\",\"cAnArY-ini-3\"]"),
	   "ini repeated secret keyed over the whole array");
	ok(canary_absent(&ms, "cAnArY"), "ini: canary absent");
	mem_sink_release(&ms);
}

/* ---- key=value ---- */

static void test_keyvalue_samples(void)
{
	struct mem_sink ms;
#define SC "/etc/sysctl.conf"
	static const char *const sysctl[][2] = {
		{SC "#/kernel.printk", "\"3 4 1 3\""},
		{SC "#/net.ipv4.conf.all.rp_filter", "\"1\""},
		{SC "#/net.ipv4.conf.default.rp_filter", "\"1\""},
		{SC "#/net.ipv4.tcp_syncookies", "\"1\""},
		{SC "#/net~1ipv4~1conf~1all~1accept_redirects", "\"0\""},
	};
	parse(&ms, ED_CFG_KEYVALUE, SC, kv_sysctl);
	CHECK(&ms, sysctl, "sysctl.conf: '-' dropped, ; and # comments, '/' escaped");
	ok(ms.nwarnings == 0, "sysctl.conf: no warning");
	mem_sink_release(&ms);

#define OS "/etc/os-release"
	static const char *const osr[][2] = {
		{OS "#/BUG_REPORT_URL", "\"https://bugs.debian.org/\""},
		{OS "#/HOME_URL", "\"https://www.debian.org/\""},
		{OS "#/ID", "\"debian\""},
		{OS "#/NAME", "\"Debian GNU/Linux\""},
		{OS "#/PRETTY_NAME", "\"Debian GNU/Linux 12 (bookworm)\""},
		{OS "#/SUPPORT_URL", "\"https://www.debian.org/support\""},
		{OS "#/VERSION", "\"12 (bookworm)\""},
		{OS "#/VERSION_CODENAME", "\"bookworm\""},
		{OS "#/VERSION_ID", "\"12\""},
	};
	parse(&ms, ED_CFG_KEYVALUE, OS, kv_os_release);
	CHECK(&ms, osr, "os-release: quotes stripped");
	mem_sink_release(&ms);

#define JP "/usr/lib/jvm/conf/net.properties"
	static const char *const props[][2] = {
		{JP "#/.level", "\"INFO\""},
		{JP "#/colon", "\"value  \""},
		{JP "#/handlers", "\"java.util.logging.ConsoleHandler\""},
		{JP "#/http.nonProxyHosts", "\"localhost|127.*|[::1]\""},
		{JP "#/java.net.useSystemProxies", "\"false\""},
		{JP "#/java.util.logging.ConsoleHandler.formatter", "\"java.util.logging.SimpleFormatter\""},
		{JP "#/java.util.logging.FileHandler.pattern", "\"%h/java%u.log\""},
		{JP "#/jdk.http.auth.tunneling.disabledSchemes", "\"Basic\""},
		{JP "#/list", "\"a,b,c\""},
		{JP "#/lonely", "\"\""},
		{JP "#/name with spaces", "\"v\\tw\""},
		{JP "#/spaced", "\"value here\""},
		{JP "#/uni", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
	};
	parse(&ms, ED_CFG_KEYVALUE, JP, kv_properties);
	CHECK(&ms, props, "properties: continuations, escapes, \\u, ! comments, trailing blanks kept");
	ok(ms.nwarnings == 0, "properties: no warning");
	mem_sink_release(&ms);

#define EV "/srv/app/.env"
	static const char env[] =
		"# comment\n"
		"export DB_HOST=db.internal\n"
		"DB_PORT = 5432\n"
		"GREETING=\"hello \\\"world\\\"\\n\\$HOME \\q\"\n"
		"SINGLE='a $b \\n'  # trailing comment\n"
		"EMPTY=\n"
		"INLINE=value # comment\n"
		"HASH=a#b\n"
		"MULTI=\"line1\n"
		"line2\"\n"
		"URL: http://x:8080/p\n";
	static const char *const envw[][2] = {
		{EV "#/DB_HOST", "\"db.internal\""},
		{EV "#/DB_PORT", "\"5432\""},
		{EV "#/EMPTY", "\"\""},
		{EV "#/GREETING", "\"hello \\\"world\\\"\\n$HOME \\\\q\""},
		{EV "#/HASH", "\"a#b\""},
		{EV "#/INLINE", "\"value\""},
		{EV "#/MULTI", "\"line1\\nline2\""},
		{EV "#/SINGLE", "\"a $b \\\\n\""},
		{EV "#/URL", "\"http://x:8080/p\""},
	};
	parse(&ms, ED_CFG_KEYVALUE, EV, env);
	CHECK(&ms, envw, ".env: export, quotes, escapes, comments, multi-line value");
	mem_sink_release(&ms);

	check_crlf_bom(ED_CFG_KEYVALUE, EV, env, ".env");
	check_crlf_bom(ED_CFG_KEYVALUE, JP, kv_properties, "properties");
	check_sink_failure(ED_CFG_KEYVALUE, OS, kv_os_release, "keyvalue");

	/* Duplicates: the last value wins, with a warning naming the line. */
	parse(&ms, ED_CFG_KEYVALUE, EV, "A=1\nB=2\nA=3\n");
	ok(ms.n == 2 && strcmp(ms.items[0].value, "\"3\"") == 0 && ms.nwarnings == 1 &&
		   mem_sink_warned(&ms, EV ":3: duplicate key 'A'"),
	   "keyvalue duplicate: last wins, warning names line 3");
	mem_sink_release(&ms);

	static const char nokey[] = "A=1\njust some text\n";
	check_refused(ED_CFG_KEYVALUE, EV, nokey, strlen(nokey), EV ":2: no '=' or ':' after the key",
		      "keyvalue line without '='");
	static const char unterminated[] = "A=1\nB=\"open\nC=2\n";
	check_refused(ED_CFG_KEYVALUE, EV, unterminated, strlen(unterminated),
		      EV ":2: unterminated quoted value", "keyvalue unterminated quote");
	static const char trailing[] = "A='x' y\n";
	check_refused(ED_CFG_KEYVALUE, EV, trailing, strlen(trailing), EV ":1: text after the closing quote",
		      "keyvalue text after a quote");
	static const char badu[] = "a=\\u12G4\n";
	check_refused(ED_CFG_KEYVALUE, JP, badu, strlen(badu), JP ":1: malformed \\uXXXX escape",
		      "properties bad \\u escape");
	static const char nul[] = "A=1\nB=x\0\n";
	check_refused(ED_CFG_KEYVALUE, EV, nul, sizeof(nul) - 1, EV ":2: NUL byte", "keyvalue NUL byte");
	static const char latin1[] = "A=caf\xe9\n";
	check_refused(ED_CFG_KEYVALUE, EV, latin1, strlen(latin1), EV ":1: not valid UTF-8",
		      "keyvalue invalid UTF-8");

	/* Secrets. */
	static const char sdoc[] = "API_KEY=cAnArY-kv-1\nDB_PASSWORD='cAnArY-kv-2'\nDB_PASSWORD=cAnArY-kv-3\nUSER=app\n";
	size_t nsec = 0;
	parse_len(&ms, ED_CFG_KEYVALUE, EV, sdoc, strlen(sdoc), &nsec);
	ok(ms.n == 3 && nsec == 2 && is_secret_item(mem_sink_find(&ms, EV "#/API_KEY"), "\"cAnArY-kv-1\"") &&
		   is_secret_item(mem_sink_find(&ms, EV "#/DB_PASSWORD"), "\"cAnArY-kv-3\""),
	   "keyvalue secrets keyed, the last duplicate wins");
	ok(canary_absent(&ms, "cAnArY"), "keyvalue: canary absent (the duplicate warning names only the key)");
	mem_sink_release(&ms);
}

/* ---- dispatch ---- */

static void test_dispatch(void)
{
	struct mem_sink ms;
	struct ed_err err = {0};
	mem_sink_init(&ms);
	enum ed_code rc = ed_config_parse(ED_CFG_NONE, ed_str_of("a=1", 3), "/x", &sec_a, &ms.sink, NULL, &err);
	ok(rc == ED_USAGE && ms.n == 0 && strstr(err.msg, "/x"), "ED_CFG_NONE is ED_USAGE naming the path");
	mem_sink_release(&ms);
	size_t nsec = 0;
	static const char jdoc[] = "{\"password\": \"x\", \"a\": 1}";
	parse_len(&ms, ED_CFG_JSON, "/j.json", jdoc, strlen(jdoc), &nsec);
	ok(ms.n == 2 && nsec == 1, "ed_config_parse hands JSON to the JSON parser");
	mem_sink_release(&ms);
	for (int f = ED_CFG_YAML; f <= ED_CFG_KEYVALUE; f++) {
		mem_sink_init(&ms);
		rc = ed_config_parse((enum ed_config_format)f, ed_str_of(NULL, 0), "/n", &sec_a, &ms.sink,
				     NULL, &err);
		ok(rc == ED_OK && ms.n == 0 && ms.nwarnings == 0, "format %d: NULL empty text, nothing", f);
		mem_sink_release(&ms);
	}
}

/* ---- redaction ---- */

static char *redact(enum ed_config_format f, const char *path, const char *text, size_t len,
		    bool *good)
{
	struct ed_buf out = ED_BUF_INIT;
	struct ed_err err = {0};
	enum ed_code rc = ed_config_redact(f, ed_str_of(text, len), path, &sec_a, &out, good, &err);
	if (rc != ED_OK) {
		printf("#   redact failed: %s\n", err.msg);
		*good = false;
	}
	if (!out.p)
		return strdup("");
	return ed_buf_detach(&out);
}

/* Does the line (len bytes) hold one of the needles (a NULL-terminated list)? */
static bool line_has(const char *line, size_t len, const char *const *needles)
{
	for (; *needles; needles++)
		if (memmem(line, len, *needles, strlen(*needles)))
			return true;
	return false;
}

/*
 * Is every line of a that holds none of the needles in b, byte for byte and
 * in the same order (secret lines may change, or go when a value spanned lines)?
 */
static bool plain_lines_kept(const char *a, const char *b, const char *const *needles)
{
	while (*a) {
		const char *ea = strchr(a, '\n');
		size_t la = ea ? (size_t)(ea - a) + 1 : strlen(a);
		if (!line_has(a, la, needles)) {
			const char *hit = NULL;
			for (const char *p = b; *p && !hit;) {
				const char *eb = strchr(p, '\n');
				size_t lb = eb ? (size_t)(eb - p) + 1 : strlen(p);
				if (la == lb && memcmp(a, p, la) == 0)
					hit = p + lb;
				p += lb;
			}
			if (!hit) {
				printf("#   line lost or changed: '%.*s'\n", (int)la, a);
				return false;
			}
			b = hit;
		}
		a += la;
	}
	return true;
}

static void check_redaction(enum ed_config_format f, const char *path, const char *text,
			    const char *want, const char *what)
{
	/* Lines that hold a secret: canaries, and values and block headers known to change. */
	static const char *const secret_lines[] = {"cAnArY", "31337", "4321", ": |", "{\"a\": true}",
						   NULL};
	bool good = false;
	char *got = redact(f, path, text, strlen(text), &good);
	ok(good, "%s: redaction succeeds", what);
	ok(!strstr(got, "cAnArY"), "%s: no canary in the kept text", what);
	ok(plain_lines_kept(text, got, secret_lines), "%s: lines without secrets byte for byte", what);
	if (want) {
		is_str(got, want, "%s: exact redacted text", what);
	}
	/* The redacted text reads as the original, secrets aside. */
	struct mem_sink a, b;
	parse(&a, f, path, text);
	parse(&b, f, path, got);
	bool same = a.n == b.n && a.n > 0;
	for (size_t i = 0; same && i < a.n; i++)
		same = strcmp(a.items[i].key, b.items[i].key) == 0 &&
		       (a.items[i].value ? b.items[i].value && strcmp(a.items[i].value, b.items[i].value) == 0
					 : b.items[i].value == NULL);
	ok(same, "%s: the kept text gives the same keys and plain values", what);
	mem_sink_release(&a);
	mem_sink_release(&b);
	free(got);
}

static void test_redaction(void)
{
	static const char json[] =
		"{\n"
		"  \"user\": \"app\",\n"
		"  \"password\": \"cAnArY-j1\",\n"
		"  \"nested\": {\"api_key\": 31337, \"x\": [1, 2]},\n"
		"  \"secrets\": [\"cAnArY-j2\", {\"a\": true}, null, \"\"],\n"
		"  \"pass\\u0077ord2\": \"cAnArY-j3\",\n"
		"  \"token\": null\n"
		"}\n";
	static const char json_want[] =
		"{\n"
		"  \"user\": \"app\",\n"
		"  \"password\": \"<secret>\",\n"
		"  \"nested\": {\"api_key\": \"<secret>\", \"x\": [1, 2]},\n"
		"  \"secrets\": [\"<secret>\", {\"a\": \"<secret>\"}, null, \"\"],\n"
		"  \"pass\\u0077ord2\": \"<secret>\",\n"
		"  \"token\": null\n"
		"}\n";
	check_redaction(ED_CFG_JSON, "/r.json", json, json_want, "json");

	static const char yaml[] =
		"# app config\n"
		"db:\n"
		"  user: app\n"
		"  password: &pw cAnArY-y1   # note\n"
		"  # password: cAnArY-y2\n"
		"copy: *pw\n"
		"api_token: !!str \"cAnArY-y3\"\n"
		"ssh_key: |\n"
		"  cAnArY-y4\n"
		"  cAnArY-y5\n"
		"after: 1\n"
		"secrets: [cAnArY-y6, {pin: 4321}]\n"
		"script: |\n"
		"  # token: not-a-secret-this-is-a-script\n"
		"empty_password: ''\n"
		"null_token: ~\n";
	static const char yaml_want[] =
		"# app config\n"
		"db:\n"
		"  user: app\n"
		"  password: &pw <secret>   # note\n"
		"  # password: <secret>\n"
		"copy: *pw\n"
		"api_token: <secret>\n"
		"ssh_key: <secret>\n"
		"after: 1\n"
		"secrets: [<secret>, {pin: <secret>}]\n"
		"script: |\n"
		"  # token: not-a-secret-this-is-a-script\n"
		"empty_password: ''\n"
		"null_token: ~\n";
	check_redaction(ED_CFG_YAML, "/r.yaml", yaml, yaml_want, "yaml");
	static const char yaml_multi[] = "a: 1\npassword: cAnArY-m1\n---\nb: 2\ntoken: cAnArY-m2\n";
	check_redaction(ED_CFG_YAML, "/m.yaml", yaml_multi,
			"a: 1\npassword: <secret>\n---\nb: 2\ntoken: <secret>\n", "yaml stream");
	static const char yaml_crlf[] = "\xef\xbb\xbf" "a: caf\xc3\xa9\r\npassword: |\r\n  cAnArY-c\r\nb: 2\r\n";
	check_redaction(ED_CFG_YAML, "/c.yaml", yaml_crlf,
			"\xef\xbb\xbf" "a: caf\xc3\xa9\r\npassword: <secret>\r\nb: 2\r\n", "yaml BOM, CRLF, UTF-8");

	/* A value aliased under a secret key is secret under its anchor's plain key too (A.6). */
	static const char shown[] = "user: &u visible-value\npassword: *u\n";
	bool good = false;
	char *got = redact(ED_CFG_YAML, "/s.yaml", shown, strlen(shown), &good);
	ok(good && got && strcmp(got, "user: &u <secret>\npassword: *u\n") == 0,
	   "yaml: a plain value aliased under a secret key is masked at its anchor");
	free(got);

	static const char ini[] =
		"; php.ini style\n"
		"[database]\n"
		"host = db1\n"
		"password = cAnArY-i1 ; the password\n"
		";password = cAnArY-i2\n"
		"[secrets]\n"
		"api = cAnArY-i3\n"
		"api = cAnArY-i4\n"
		"  cAnArY-i5\n"
		"[mail]\n"
		"smtp_password\n"
		"empty_token =\n";
	static const char ini_want[] =
		"; php.ini style\n"
		"[database]\n"
		"host = db1\n"
		"password = <secret> ; the password\n"
		";password = <secret>\n"
		"[secrets]\n"
		"api = <secret>\n"
		"api = <secret>\n"
		"  <secret>\n"
		"[mail]\n"
		"smtp_password\n"
		"empty_token =\n";
	check_redaction(ED_CFG_INI, "/r.ini", ini, ini_want, "ini");

	static const char env[] =
		"# .env\n"
		"export DB_HOST=db\n"
		"DB_PASSWORD=\"cAnArY-e1\" # quoted\n"
		"API_KEY=cAnArY-e2\n"
		"API_KEY='cAnArY-e3'\n"
		"# export OLD_TOKEN=cAnArY-e4\n"
		"PRIVATE_KEY=\"cAnArY-e5\n"
		"cAnArY-e6\"\n"
		"EMPTY_SECRET=\n"
		"PORT=5432\n";
	static const char env_want[] =
		"# .env\n"
		"export DB_HOST=db\n"
		"DB_PASSWORD=\"<secret>\" # quoted\n"
		"API_KEY=<secret>\n"
		"API_KEY='<secret>'\n"
		"# export OLD_TOKEN=<secret>\n"
		"PRIVATE_KEY=\"<secret>\"\n"
		"EMPTY_SECRET=\n"
		"PORT=5432\n";
	check_redaction(ED_CFG_KEYVALUE, "/srv/.env", env, env_want, ".env");

	static const char props[] =
		"db.url=jdbc:x\n"
		"db.password = cAnArY-p1\\\n"
		"    cAnArY-p2\n"
		"! secret.key=cAnArY-p3\n"
		"keystore.pass\\u0077ord: cAnArY-p4\n"
		"timeout=30\n";
	static const char props_want[] =
		"db.url=jdbc:x\n"
		"db.password = <secret>\n"
		"! secret.key=<secret>\n"
		"keystore.pass\\u0077ord: <secret>\n"
		"timeout=30\n";
	check_redaction(ED_CFG_KEYVALUE, "/app.properties", props, props_want, "properties");

	/* Unreadable text holding a secret is never kept. */
	static const struct {
		enum ed_config_format f;
		const char *path, *text;
		const char *what;
	} bad[] = {
		{ED_CFG_JSON, "/b.json", "{\"password\": \"cAnArY\",", "json cut short"},
		{ED_CFG_JSON, "/b.json", "{\"password\": \"cAnArY\", \"password\": \"x\"}", "json duplicate key"},
		{ED_CFG_YAML, "/b.yaml", "password: cAnArY\npassword: x\n", "yaml duplicate key"},
		{ED_CFG_YAML, "/b.yaml", "password: cAnArY\n\tx: [\n", "yaml syntax error"},
		{ED_CFG_INI, "/b.ini", "[s\npassword = cAnArY\n", "ini unclosed section"},
		{ED_CFG_KEYVALUE, "/b.env", "PASSWORD=cAnArY\ngarbage\n", "keyvalue malformed line"},
		{ED_CFG_KEYVALUE, "/b.env", "PASSWORD=\"cAnArY\n", "keyvalue unterminated quote"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ed_buf out = ED_BUF_INIT;
		struct ed_err err = {0};
		good = true;
		enum ed_code rc = ed_config_redact(bad[i].f, ed_str_of(bad[i].text, strlen(bad[i].text)),
						   bad[i].path, &sec_a, &out, &good, &err);
		ok(rc == ED_OK && !good && out.len == 0, "redact %s: not kept", bad[i].what);
		ed_buf_release(&out);
	}
	char *longl = repeat("[s]\npassword = ", "x", 250, "\n");
	got = redact(ED_CFG_INI, "/l.ini", longl ? longl : "", longl ? strlen(longl) : 0, &good);
	ok(!good, "redact ini with a line libinih would truncate: not kept");
	free(got);
	free(longl);

	/* No format: copied as it is. A result past out->max: not kept, and no error. */
	got = redact(ED_CFG_NONE, "/readme", "password=shown\n", 15, &good);
	ok(good && strcmp(got, "password=shown\n") == 0, "redact ED_CFG_NONE copies the text");
	free(got);
	struct ed_buf out = ED_BUF_INIT;
	struct ed_err err = {0};
	out.max = 10;
	enum ed_code rc = ed_config_redact(ED_CFG_KEYVALUE, ed_str_of("A=1\nB=22222222\n", 15), "/x.env",
					   &sec_a, &out, &good, &err);
	ok(rc == ED_OK && !good && out.len == 0, "redact past out->max: not kept, ED_OK");
	ed_buf_release(&out);
	out.max = 0;
	/* Appends to what out holds. */
	ed_buf_adds(&out, "HEAD:");
	rc = ed_config_redact(ED_CFG_KEYVALUE, ed_str_of("TOKEN=cAnArY\n", 13), "/x.env", NULL, &out,
			      &good, &err);
	ok(rc == ED_OK && good && strcmp(ed_buf_str(&out), "HEAD:TOKEN=<secret>\n") == 0,
	   "redact appends to out; sec NULL means the default patterns");
	ed_buf_release(&out);
}

/* ---- allocation failures ---- */

/* A sink that copies what it gets and says so when it cannot. */
struct copy_sink {
	struct ed_sink sink; /* first member */
	struct ed_buf dump;  /* key, value and fp of every item, one per line */
	size_t nitems, nwarnings;
};

static enum ed_code copy_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct copy_sink *cs = (struct copy_sink *)sink;
	char hex[2 * ED_FP_LEN + 1];
	ed_fp_hex(&it->fp, hex);
	if (ed_buf_add(&cs->dump, it->key, it->key_len) ||
	    ed_buf_addf(&cs->dump, " = %s %s %s\n", it->value ? it->value : "-", hex,
			it->attrs ? it->attrs : "-"))
		return ed_err_set(err, ED_NOMEM, "test sink: out of memory");
	cs->nitems++;
	return ED_OK;
}

static void copy_warn(struct ed_sink *sink, const char *msg)
{
	(void)msg;
	((struct copy_sink *)sink)->nwarnings++;
}

struct run_result {
	enum ed_code rc;
	struct copy_sink items;
	bool kept;
	struct ed_buf redacted;
};

static void run_both(enum ed_config_format f, const char *path, const char *doc,
		     struct run_result *r)
{
	struct ed_err err = {0};
	memset(r, 0, sizeof(*r));
	r->items.sink.emit = copy_emit;
	r->items.sink.warn = copy_warn;
	r->rc = ed_config_parse(f, ed_str_of(doc, strlen(doc)), path, &sec_a, &r->items.sink, NULL, &err);
	if (r->rc == ED_OK)
		r->rc = ed_config_redact(f, ed_str_of(doc, strlen(doc)), path, &sec_a, &r->redacted,
					 &r->kept, &err);
}

static void run_release(struct run_result *r)
{
	ed_buf_release(&r->items.dump);
	ed_buf_release(&r->redacted);
}

static bool same_result(const struct run_result *a, const struct run_result *b)
{
	return a->rc == b->rc && a->items.nitems == b->items.nitems &&
	       a->items.nwarnings == b->items.nwarnings &&
	       strcmp(ed_buf_str(&a->items.dump), ed_buf_str(&b->items.dump)) == 0 &&
	       a->kept == b->kept && strcmp(ed_buf_str(&a->redacted), ed_buf_str(&b->redacted)) == 0;
}

static void test_alloc_failures(void)
{
	if (!ALLOC_HOOKS) {
		ok(1, "allocation failures # SKIP allocation hooks clash with clang's static ASan");
		return;
	}
	static const struct {
		enum ed_config_format f;
		const char *path, *doc;
	} docs[] = {
		{ED_CFG_YAML, "/a.yaml",
		 "a: &x {b: [1, 0x10, 1.5, .inf, !!binary aGk=, \"q\"], c: ~}\n"
		 "password: &pw s3cret\ncopy: *pw\nd: *x\n# token: t\nblock: |\n  l\n---\ne: 2\n"},
		{ED_CFG_YAML, "/b.yaml", "a: 1\na: 2\n"},
		{ED_CFG_YAML, "/c.yaml", "a: [1,\n"},
		{ED_CFG_INI, "/a.ini",
		 "top = 1\n[s]\nx = 1\nx = 2\ndeps =\n  a\n  b\nflag\npassword = p ; c\n;token = t\n"},
		{ED_CFG_INI, "/b.ini", "[s\n"},
		{ED_CFG_KEYVALUE, "/a.env", "export A=1\nB=\"x\\ny\"\nAPI_KEY='k'\nA=2\n# PASSWORD=p\n"},
		{ED_CFG_KEYVALUE, "/a.properties", "a.b = c\\\n  d\nuni=\\u00e9\npassword: p\n! token=t\n"},
		{ED_CFG_JSON, "/a.json", "{\"password\": \"p\", \"a\": [1.5, {\"token\": 2}]}"},
	};
	for (size_t t = 0; t < 2 * sizeof(docs) / sizeof(docs[0]); t++) {
		size_t d = t / 2;
		struct run_result base, r;
		long n, nomem = 0;
		bool good = true;
		run_both(docs[d].f, docs[d].path, docs[d].doc, &base);
		for (n = 1; n < 1000000; n++) {
			nalloc = 0;
			fail_rest = t % 2;
			fail_at = n;
			run_both(docs[d].f, docs[d].path, docs[d].doc, &r);
			bool hit = nalloc >= n;
			fail_at = 0;
			/* HMAC in libcrypto cannot tell out of memory from other failures: ED_IO. */
			if (r.rc == ED_NOMEM || r.rc == ED_IO) {
				nomem++;
			} else if (!same_result(&base, &r)) {
				if (good)
					printf("# %s, failing allocation %ld: rc %d, %zu items, kept %d\n",
					       docs[d].path, n, r.rc, r.items.nitems, r.kept);
				good = false;
			}
			run_release(&r);
			if (!hit)
				break;
		}
		ok(good && nomem > 0,
		   "%s: failing %s of %ld allocations gives an error (%ld times) or the same result",
		   docs[d].path, t % 2 ? "each and all later" : "each", n - 1, nomem);
		run_release(&base);
	}
}

int main(void)
{
	for (int i = 0; i < ED_KEY_LEN; i++)
		key_a[i] = (uint8_t)(i + 7);
	sec_a = (struct ed_secrets){.key = key_a, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};

	test_yaml_samples();
	test_yaml_scalars();
	test_yaml_structure();
	test_yaml_hostile();
	test_yaml_secrets();
	test_ini_samples();
	test_ini_dialect();
	test_ini_secrets();
	test_keyvalue_samples();
	test_dispatch();
	test_redaction();
	test_alloc_failures();
	return tap_done();
}
