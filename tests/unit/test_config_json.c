/* SPDX-License-Identifier: MIT */
/* Unit tests for JSON configs: RFC 6901 pointers, leaf items, secrets, hostile input. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/hash.h"
#include "ed/item.h"
#include "sink_mem.h"
#include "tap.h"

#define P "/etc/app/config.json"

static uint8_t key_a[ED_KEY_LEN];
static uint8_t key_b[ED_KEY_LEN];
static struct ed_secrets sec_a, sec_b;

/*
 * jansson allocations go through here; fail_at > 0 fails the fail_at-th one
 * (and every later one too when fail_rest is set: memory stays short).
 */
static long nalloc, fail_at;
static bool fail_rest;

static void *test_malloc(size_t n)
{
	if (fail_at && (++nalloc == fail_at || (fail_rest && nalloc > fail_at)))
		return NULL;
	return malloc(n);
}

static void test_free(void *p)
{
	free(p);
}

static enum ed_code run_len(struct mem_sink *ms, const char *path, const char *doc, size_t len,
			    const struct ed_secrets *sec, struct ed_err *err)
{
	mem_sink_init(ms);
	memset(err, 0, sizeof(*err));
	return ed_config_json_parse(ed_str_of(doc, len), path, sec, &ms->sink, NULL, err);
}

static enum ed_code run(struct mem_sink *ms, const char *doc, const struct ed_secrets *sec,
			struct ed_err *err)
{
	return run_len(ms, P, doc, strlen(doc), sec, err);
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

static bool keyed_fp_matches(const struct mem_item *m, const uint8_t *key, const char *text)
{
	struct ed_fp fp;
	struct ed_err err = {0};
	if (ed_fp_keyed(key, text, strlen(text), &fp, &err) != ED_OK)
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
		    has(m->error, canary) || has(m->owner, canary) || has(m->group, canary) ||
		    has(m->target, canary))
			return false;
	}
	return !mem_sink_warned(ms, canary);
}

/* Compares the emitted items, in order, to pairs of key and value (NULL = no value). */
static void check_items(const struct mem_sink *ms, const char *const (*want)[2], size_t n,
			const char *what)
{
	is_int(ms->n, n, "%s: %zu items", what, n);
	for (size_t i = 0; i < n && i < ms->n; i++) {
		is_str(ms->items[i].key, want[i][0], "%s: item %zu key", what, i);
		is_str(ms->items[i].value, want[i][1], "%s: item %zu value", what, i);
	}
}

static void test_pointer_append(void)
{
	static const struct {
		const char *token;
		size_t len;
		const char *want;
	} cases[] = {
		{"foo", 3, "/foo"},   {"", 0, "/"},         {"a/b", 3, "/a~1b"},
		{"m~n", 3, "/m~0n"},  {"c%d", 3, "/c%d"},   {"k\"l", 3, "/k\"l"},
		{" ", 1, "/ "},       {"~1", 2, "/~01"},    {"/~", 2, "/~1~0"},
		{"~~//", 4, "/~0~0~1~1"}, {"0", 1, "/0"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ed_buf b = ED_BUF_INIT;
		int rc = ed_jsonptr_append(&b, cases[i].token, cases[i].len);
		ok(rc == 0, "jsonptr_append '%s' succeeds", cases[i].token);
		is_str(ed_buf_str(&b), cases[i].want, "jsonptr_append '%s'", cases[i].token);
		ed_buf_release(&b);
	}

	struct ed_buf b = ED_BUF_INIT;
	ok(ed_jsonptr_append(&b, "a", 1) == 0 && ed_jsonptr_append(&b, "b/c", 3) == 0 &&
		   ed_jsonptr_append(&b, "", 0) == 0,
	   "jsonptr_append chains tokens");
	is_str(ed_buf_str(&b), "/a/b~1c/", "chained pointer");
	ed_buf_release(&b);

	/* An embedded NUL is copied as a byte: the token is bytes, not a C string. */
	ok(ed_jsonptr_append(&b, "x\0y", 3) == 0 && b.len == 4 && memcmp(b.p, "/x\0y", 4) == 0,
	   "jsonptr_append copies all len bytes");
	ed_buf_release(&b);

	/* A failed append (buffer cap) leaves the buffer unchanged. */
	b.max = 6;
	ok(ed_buf_adds(&b, "PATH#") == 0, "capped buffer takes prefix");
	ok(ed_jsonptr_append(&b, "a~b", 3) == -1, "append past the cap fails");
	ok(b.len == 5 && strcmp(ed_buf_str(&b), "PATH#") == 0, "failed append leaves buffer unchanged");
	ed_buf_release(&b);
}

static void test_rfc6901(void)
{
	/* The document of RFC 6901 section 5. */
	static const char doc[] = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2,"
				  " \"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6,"
				  " \" \": 7, \"m~n\": 8}";
	static const char *const want[][2] = {
		{P "#/", "0"},         {P "#/ ", "7"},        {P "#/a~1b", "1"},
		{P "#/c%d", "2"},      {P "#/e^f", "3"},      {P "#/foo/0", "\"bar\""},
		{P "#/foo/1", "\"baz\""}, {P "#/g|h", "4"},   {P "#/i\\j", "5"},
		{P "#/k\"l", "6"},     {P "#/m~0n", "8"},
	};
	struct mem_sink ms;
	struct ed_err err;
	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "rfc 6901 document parses");
	check_items(&ms, want, sizeof(want) / sizeof(want[0]), "rfc 6901");
	is_int(ms.nwarnings, 0, "rfc 6901: no warnings");
	mem_sink_release(&ms);
}

static void test_nested(void)
{
	static const char doc[] = "{\n  \"name\": \"x\",\n  \"db\": {\"pool\": 10, \"host\": \"db1\",\n"
				  "  \"replicas\": [{\"port\": 5432}, true, null, 1.5, \"r\"]},\n"
				  "  \"ratio\": 0.1, \"big\": 1e300, \"one\": 1.0, \"neg\": -7,\n"
				  "  \"uni\": \"h\\u00e9\", \"\\u00fc\": 1\n}\n";
	static const char *const want[][2] = {
		{P "#/big", "1e300"},
		{P "#/db/host", "\"db1\""},
		{P "#/db/pool", "10"},
		{P "#/db/replicas/0/port", "5432"},
		{P "#/db/replicas/1", "true"},
		{P "#/db/replicas/2", "null"},
		{P "#/db/replicas/3", "1.5"},
		{P "#/db/replicas/4", "\"r\""},
		{P "#/name", "\"x\""},
		{P "#/neg", "-7"},
		{P "#/one", "1.0"},
		{P "#/ratio", "0.1"},
		{P "#/uni", "\"h\xc3\xa9\""},
		{P "#/\xc3\xbc", "1"},
	};
	struct mem_sink ms;
	struct ed_err err;
	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "nested document parses");
	check_items(&ms, want, sizeof(want) / sizeof(want[0]), "nested");
	const struct mem_item *m = mem_sink_find(&ms, P "#/db/pool");
	ok(m && strcmp(m->kind, ED_KIND_CONFIG) == 0, "kind is config");
	ok(m && m->attrs == NULL && m->error == NULL && m->ftype == ED_FT_NONE,
	   "plain leaf: no attrs, no error, no file type");
	bool all_fp = ms.n > 0;
	for (size_t i = 0; i < ms.n; i++)
		all_fp = all_fp && ms.items[i].value && plain_fp_matches(&ms.items[i], ms.items[i].value);
	ok(all_fp, "every plain leaf's fp is XXH3-128 of its value text");
	mem_sink_release(&ms);

	/* Array elements go by index, not by byte order of the index. */
	run(&ms, "[0,1,2,3,4,5,6,7,8,9,10,11]", &sec_a, &err);
	ok(ms.n == 12 && strcmp(ms.items[9].key, P "#/9") == 0 &&
		   strcmp(ms.items[10].key, P "#/10") == 0 && strcmp(ms.items[11].value, "11") == 0,
	   "array elements emitted in index order");
	mem_sink_release(&ms);
}

static void test_order_independent(void)
{
	static const char *const docs[] = {
		"{\"b\": 1, \"a\": {\"y\": [2, {\"q\": 1, \"p\": 0}], \"x\": 3}, \"B\": \"s\"}",
		"{\"a\": {\"x\": 3, \"y\": [2, {\"p\": 0, \"q\": 1}]}, \"B\": \"s\", \"b\": 1}",
		"{\"B\": \"s\", \"a\": {\"y\": [2, {\"p\": 0, \"q\": 1}], \"x\": 3}, \"b\": 1}",
	};
	struct mem_sink ms0, ms;
	struct ed_err err;
	run(&ms0, docs[0], &sec_a, &err);
	is_int(ms0.n, 6, "order: first document has 6 leaves");
	is_str(ms0.n ? ms0.items[0].key : NULL, P "#/B", "order: byte order puts 'B' first");
	for (size_t d = 1; d < 3; d++) {
		run(&ms, docs[d], &sec_a, &err);
		bool same = ms.n == ms0.n;
		for (size_t i = 0; same && i < ms.n; i++)
			same = strcmp(ms.items[i].key, ms0.items[i].key) == 0 &&
			       strcmp(ms.items[i].value, ms0.items[i].value) == 0 &&
			       fp_eq(&ms.items[i].fp, &ms0.items[i].fp);
		ok(same, "order: document %zu gives the same items as document 0", d);
		mem_sink_release(&ms);
	}
	mem_sink_release(&ms0);
}

static void test_secret_names(void)
{
	static const char *const yes[] = {"password", "DB_PASSWORD", "apiKey", "auth_token",
					  "clientSecret", "secrets", "KEY", "PassWord1"};
	static const char *const no[] = {"user", "host", "pass", "word", "", "tok", "secre"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(ed_secret_name_matches(&sec_a, yes[i], strlen(yes[i])), "'%s' is a secret name",
		   yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(!ed_secret_name_matches(&sec_a, no[i], strlen(no[i])), "'%s' is not a secret name",
		   no[i]);
	is_int(ed_default_secret_npatterns, 13, "thirteen default patterns (docs/profile.md)");
	ok(ed_secret_name_matches(NULL, "token", 5), "NULL rules: default patterns apply");
	ok(!ed_secret_name_matches(&sec_a, "password\0x", 10), "a name with a NUL never matches");
	ok(!ed_secret_name_matches(&sec_a, "xpassword", 4), "only len bytes are matched");
	static const char *const mine[] = {"pin", "*cred*"};
	struct ed_secrets custom = {.key = key_a, .patterns = mine, .npatterns = 2};
	ok(ed_secret_name_matches(&custom, "PIN", 3) && ed_secret_name_matches(&custom, "aws_Credentials", 15),
	   "custom patterns match");
	ok(!ed_secret_name_matches(&custom, "password", 8) && !ed_secret_name_matches(&custom, "pint", 4),
	   "custom patterns replace the defaults");
	struct ed_secrets none = {.key = key_a, .patterns = mine, .npatterns = 0};
	ok(!ed_secret_name_matches(&none, "password", 8), "an empty pattern list matches nothing");
}

static void test_secrets(void)
{
	static const char doc[] =
		"{\"password\": \"cAnArY-pw-31337\", \"DB_PASSWORD\": \"cAnArY-db-0001\","
		" \"apiKey\": \"cAnArY-api-77\", \"auth_token\": \"eyJcAnArY.jwt.sig\","
		" \"clientSecret\": \"cAnArY-cs\", \"user\": \"bob\", \"host\": \"db.local\","
		" \"secrets\": {\"a\": \"cAnArY-nested\", \"b\": [\"cAnArY-arr\"]},"
		" \"list\": [{\"token\": \"cAnArY-in-array\"}], \"pass\": {\"word\": \"visible\"},"
		" \"my/token\": 4242, \"key\": {}, \"pin\": \"1234\"}";
	static const struct {
		const char *key;
		const char *canonical;
	} secrets[] = {
		{P "#/DB_PASSWORD", "\"cAnArY-db-0001\""},
		{P "#/apiKey", "\"cAnArY-api-77\""},
		{P "#/auth_token", "\"eyJcAnArY.jwt.sig\""},
		{P "#/clientSecret", "\"cAnArY-cs\""},
		{P "#/key", "{}"},
		{P "#/list/0/token", "\"cAnArY-in-array\""},
		{P "#/my~1token", "4242"},
		{P "#/password", "\"cAnArY-pw-31337\""},
		{P "#/secrets/a", "\"cAnArY-nested\""},
		{P "#/secrets/b/0", "\"cAnArY-arr\""},
	};
	size_t nsec = sizeof(secrets) / sizeof(secrets[0]);
	struct mem_sink ms, msb;
	struct ed_err err;

	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "secrets document parses");
	is_int(ms.n, nsec + 4, "secrets: every leaf emitted");
	for (size_t i = 0; i < nsec; i++) {
		const struct mem_item *m = mem_sink_find(&ms, secrets[i].key);
		ok(m != NULL, "secret %s emitted", secrets[i].key);
		if (!m)
			continue;
		ok(m->value == NULL, "secret %s has no value", secrets[i].key);
		ok(m->attrs && strncmp(m->attrs, "{\"secret\":true,\"because\":\"key *",
					  strlen("{\"secret\":true,\"because\":\"key *")) == 0,
		   "secret %s attrs: secret because of its key (%s)", secrets[i].key,
		   m->attrs ? m->attrs : "none");
		ok(keyed_fp_matches(m, key_a, secrets[i].canonical),
		   "secret %s fp is the HMAC of its canonical text", secrets[i].key);
		ok(!plain_fp_matches(m, secrets[i].canonical), "secret %s fp is not the plain XXH3",
		   secrets[i].key);
	}
	ok(canary_absent(&ms, "cAnArY") && canary_absent(&ms, "31337") && canary_absent(&ms, "4242"),
	   "no secret text appears in any emitted field or warning");

	const struct mem_item *u = mem_sink_find(&ms, P "#/user");
	ok(u && u->value && strcmp(u->value, "\"bob\"") == 0 && u->attrs == NULL,
	   "'user' is not a secret: value kept");
	const struct mem_item *h = mem_sink_find(&ms, P "#/host");
	ok(h && h->value && strcmp(h->value, "\"db.local\"") == 0, "'host' is not a secret");
	const struct mem_item *pw = mem_sink_find(&ms, P "#/pass/word");
	ok(pw && pw->value && strcmp(pw->value, "\"visible\"") == 0,
	   "tokens are matched one by one, not the joined pointer");
	const struct mem_item *pin = mem_sink_find(&ms, P "#/pin");
	ok(pin && pin->value && strcmp(pin->value, "\"1234\"") == 0,
	   "'pin' is not a default secret pattern");

	/* Another store key: another fingerprint for the same secret. */
	is_int(run(&msb, doc, &sec_b, &err), ED_OK, "secrets document parses with key b");
	const struct mem_item *a1 = mem_sink_find(&ms, P "#/password");
	const struct mem_item *b1 = mem_sink_find(&msb, P "#/password");
	ok(a1 && b1 && !fp_eq(&a1->fp, &b1->fp), "a different store key gives a different fp");
	ok(b1 && keyed_fp_matches(b1, key_b, "\"cAnArY-pw-31337\""), "fp with key b is HMAC with key b");
	mem_sink_release(&msb);

	/* Same key, same secret, another host's file: equal fp (comparable across environments). */
	static const char other[] = "{\"x\": {\"Password\": \"cAnArY-pw-31337\"}}";
	run_len(&msb, "/srv/other.json", other, strlen(other), &sec_a, &err);
	ok(msb.n == 1 && a1 && fp_eq(&msb.items[0].fp, &a1->fp),
	   "same secret under the same store key: equal fp");
	mem_sink_release(&msb);

	/* Custom patterns from the profile. */
	static const char *const mine[] = {"pin"};
	struct ed_secrets custom = {.key = key_a, .patterns = mine, .npatterns = 1};
	run(&msb, doc, &custom, &err);
	const struct mem_item *cp = mem_sink_find(&msb, P "#/pin");
	const struct mem_item *cw = mem_sink_find(&msb, P "#/password");
	ok(cp && cp->value == NULL && keyed_fp_matches(cp, key_a, "\"1234\""),
	   "custom pattern 'pin' makes /pin a secret");
	ok(cw && cw->value && strcmp(cw->value, "\"cAnArY-pw-31337\"") == 0,
	   "custom patterns replace the defaults");
	mem_sink_release(&msb);

	/* A secret-looking member inside a secret container: still secret, once. */
	run(&msb, "{\"token\": {\"x\": [1, {\"y\": \"cAnArY-deep\"}]}}", &sec_a, &err);
	ok(msb.n == 2 && msb.items[0].value == NULL && msb.items[1].value == NULL &&
		   canary_absent(&msb, "cAnArY"),
	   "all leaves under a secret member are secret");
	mem_sink_release(&msb);
	mem_sink_release(&ms);
}

static void test_malformed(void)
{
	struct mem_sink ms;
	struct ed_err err;

	is_int(run(&ms, "{\n  \"a\": 1,\n  \"b\": ,\n}\n", &sec_a, &err), ED_OK,
	       "malformed JSON returns ED_OK");
	is_int(ms.n, 0, "malformed JSON emits nothing");
	is_int(ms.nwarnings, 1, "malformed JSON: one warning");
	ok(mem_sink_warned(&ms, P ":3:"), "warning names path and line 3");
	if (ms.nwarnings)
		printf("# %s\n", ms.warnings[0]);
	mem_sink_release(&ms);

	/* jansson quotes the bad token; a secret must not reach the warning (logs). */
	run(&ms, "{\"password\": cAnArYhunter2}", &sec_a, &err);
	ok(ms.n == 0 && ms.nwarnings == 1 && canary_absent(&ms, "cAnArY") && canary_absent(&ms, "hunter"),
	   "warning does not quote a bad secret token");
	mem_sink_release(&ms);
	run(&ms, "{\"password\": \"cAnArY-unterminated", &sec_a, &err);
	ok(ms.n == 0 && ms.nwarnings == 1 && canary_absent(&ms, "cAnArY"),
	   "warning does not quote an unterminated secret string");
	mem_sink_release(&ms);

	is_int(run(&ms, "{\"a\": 1,\n \"b\": {\"c\": 2, \"c\": 3}}", &sec_a, &err), ED_OK,
	       "duplicate keys return ED_OK");
	ok(ms.n == 0 && ms.nwarnings == 1 && mem_sink_warned(&ms, "duplicate") &&
		   mem_sink_warned(&ms, P ":2:"),
	   "duplicate keys: one warning with path and line, nothing emitted");
	if (ms.nwarnings)
		printf("# %s\n", ms.warnings[0]);
	mem_sink_release(&ms);

	static const char *const bad[] = {"", "   ", "{", "[1,]", "{\"a\":1} x", "\"\\ud800\"",
					  "{\"a\\u0000b\": 1}", "\xff", "[\"\xc3\x28\"]", "nul",
					  "123456789012345678901234567890"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum ed_code rc = run(&ms, bad[i], &sec_a, &err);
		ok(rc == ED_OK && ms.n == 0 && ms.nwarnings == 1 && mem_sink_warned(&ms, P ":"),
		   "bad input %zu: one warning, nothing emitted", i);
		mem_sink_release(&ms);
	}

	/* A hostile path is only bytes: it ends up verbatim in keys and warnings. */
	static const char hp[] = "/srv/\xff\x1b[31m\n#x";
	run_len(&ms, hp, "{\"a\": 1}", 8, &sec_a, &err);
	ok(ms.n == 1 && strcmp(ms.items[0].key, "/srv/\xff\x1b[31m\n#x#/a") == 0,
	   "hostile path copied byte for byte into the key");
	mem_sink_release(&ms);
	run_len(&ms, hp, "{", 1, &sec_a, &err);
	ok(ms.nwarnings == 1 && mem_sink_warned(&ms, hp), "hostile path in the warning");
	mem_sink_release(&ms);

	/* A NULL text pointer with no bytes is an empty document. */
	mem_sink_init(&ms);
	enum ed_code rc = ed_config_json_parse(ed_str_of(NULL, 0), P, &sec_a, &ms.sink, NULL, &err);
	ok(rc == ED_OK && ms.n == 0 && ms.nwarnings == 1, "NULL empty text: a warning");
	mem_sink_release(&ms);
}

/* Returns a malloc'd document of depth nested containers around center. */
static char *nested(size_t depth, bool objects, const char *center)
{
	size_t per = objects ? 5 : 1; /* {"a": */
	size_t clen = strlen(center);
	char *s = malloc(depth * (per + 1) + clen + 1);
	if (!s)
		return NULL;
	char *p = s;
	for (size_t i = 0; i < depth; i++) {
		memcpy(p, objects ? "{\"a\":" : "[", per);
		p += per;
	}
	memcpy(p, center, clen);
	p += clen;
	for (size_t i = 0; i < depth; i++)
		*p++ = objects ? '}' : ']';
	*p = '\0';
	return s;
}

static void test_depth(void)
{
	struct mem_sink ms;
	struct ed_err err;
	char *doc;

	doc = nested(64, false, "1");
	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "depth 64 parses");
	ok(ms.n == 1 && ms.nwarnings == 0 && strlen(ms.items[0].key) == strlen(P "#") + 64 * 2,
	   "depth 64: one leaf with a 64-token pointer");
	mem_sink_release(&ms);
	free(doc);

	doc = nested(65, false, "1");
	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "depth 65 returns ED_OK");
	ok(ms.n == 0 && ms.nwarnings == 1 && mem_sink_warned(&ms, P ": nesting deeper than 64 levels"),
	   "depth 65: warning, nothing emitted");
	mem_sink_release(&ms);
	free(doc);

	doc = nested(100, true, "1");
	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "object depth 100 returns ED_OK");
	ok(ms.n == 0 && ms.nwarnings == 1 && mem_sink_warned(&ms, "nesting deeper than 64 levels"),
	   "object depth 100: warning, nothing emitted");
	mem_sink_release(&ms);
	free(doc);

	doc = nested(100000, false, "1");
	is_int(run(&ms, doc, &sec_a, &err), ED_OK, "depth 100000 returns ED_OK");
	ok(ms.n == 0 && ms.nwarnings == 1, "depth 100000: one warning, no crash");
	mem_sink_release(&ms);
	free(doc);

	/* 64 levels of containers; an empty one inside is the 65th. */
	doc = nested(64, false, "[]");
	run(&ms, doc, &sec_a, &err);
	ok(ms.n == 0 && ms.nwarnings == 1, "an empty container as the 65th level is too deep");
	mem_sink_release(&ms);
	free(doc);
}

static void test_leaves(void)
{
	struct mem_sink ms;
	struct ed_err err;

	static const char *const want[][2] = {
		{P "#/a", "[]"}, {P "#/n/0", "[]"}, {P "#/n/1/x", "{}"}, {P "#/o", "{}"},
	};
	run(&ms, "{\"o\": {}, \"a\": [], \"n\": [[], {\"x\": {}}]}", &sec_a, &err);
	check_items(&ms, want, sizeof(want) / sizeof(want[0]), "empty containers");
	mem_sink_release(&ms);

	static const struct {
		const char *doc;
		const char *value;
	} top[] = {
		{"42", "42"}, {"\"s\"", "\"s\""}, {"null", "null"}, {"false", "false"},
		{"{}", "{}"}, {"[]", "[]"},       {" -0.25 ", "-0.25"},
	};
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		run(&ms, top[i].doc, &sec_a, &err);
		ok(ms.n == 1 && strcmp(ms.items[0].key, P "#") == 0 &&
			   strcmp(ms.items[0].value, top[i].value) == 0,
		   "top-level '%s' is one item keyed PATH# with value %s", top[i].doc, top[i].value);
		mem_sink_release(&ms);
	}

	/* An embedded NUL does not reject the document; the value text escapes it. */
	static const char nul[] = "{\"s\": \"a\\u0000b\"}";
	is_int(run(&ms, nul, &sec_a, &err), ED_OK, "string with \\u0000 parses");
	ok(ms.n == 1 && ms.nwarnings == 0, "string with \\u0000: one item, no warning");
	is_str(ms.n ? ms.items[0].value : NULL, "\"a\\u0000b\"", "\\u0000 kept escaped in the value");
	ok(ms.n && plain_fp_matches(&ms.items[0], "\"a\\u0000b\""), "fp of the escaped text");
	mem_sink_release(&ms);
	run(&ms, "{\"password\": \"a\\u0000b\"}", &sec_a, &err);
	ok(ms.n == 1 && ms.items[0].value == NULL && keyed_fp_matches(&ms.items[0], key_a, "\"a\\u0000b\""),
	   "secret with \\u0000: keyed fp of the escaped text");
	mem_sink_release(&ms);

	/* BOM and CRLF. */
	static const char bom[] = "\xef\xbb\xbf{\r\n\"a\": 1\r\n}\r\n";
	run(&ms, bom, &sec_a, &err);
	ok(ms.n == 1 && ms.nwarnings == 0 && strcmp(ms.items[0].value, "1") == 0,
	   "leading UTF-8 BOM skipped, CRLF accepted");
	mem_sink_release(&ms);

	/* A value over 64 KiB: fingerprinted, not stored. */
	size_t big = 70000;
	char *doc = malloc(big + 16);
	char *text = malloc(big + 3);
	if (doc && text) {
		memcpy(doc, "{\"blob\": \"", 10);
		memset(doc + 10, 'z', big);
		memcpy(doc + 10 + big, "\"}", 3);
		text[0] = '"';
		memset(text + 1, 'z', big);
		memcpy(text + 1 + big, "\"", 2);
		run(&ms, doc, &sec_a, &err);
		ok(ms.n == 1 && ms.items[0].value == NULL && ms.items[0].attrs &&
			   strcmp(ms.items[0].attrs, "{\"large\":true}") == 0 &&
			   plain_fp_matches(&ms.items[0], text),
		   "a 70000-byte value: no value, attrs large, fp of the full text");
		mem_sink_release(&ms);

		/* Exactly 64 KiB of canonical text is still stored. */
		memcpy(doc + 10 + 65534, "\"}", 3);
		run(&ms, doc, &sec_a, &err);
		ok(ms.n == 1 && ms.items[0].value && strlen(ms.items[0].value) == 65536 &&
			   ms.items[0].attrs == NULL,
		   "a 65536-byte canonical value is stored");
		mem_sink_release(&ms);
	} else {
		ok(0, "allocation for the large-value test");
		ok(0, "allocation for the large-value test");
	}
	free(doc);
	free(text);
}

static void test_errors(void)
{
	struct mem_sink ms;
	struct ed_err err;
	static const char doc[] = "{\"a\": 1, \"b\": 2, \"c\": 3}";

	mem_sink_init(&ms);
	ms.fail_after = 2;
	memset(&err, 0, sizeof(err));
	enum ed_code rc = ed_config_json_parse(ed_str_of(doc, strlen(doc)), P, &sec_a, &ms.sink, NULL, &err);
	is_int(rc, ED_STORE, "sink failure propagates");
	ok(err.code == ED_STORE && ms.n == 1, "sink failure: error recorded, walk stopped after item 1");
	mem_sink_release(&ms);

	mem_sink_init(&ms);
	ms.fail_after = 1;
	memset(&err, 0, sizeof(err));
	static const char deep[] = "{\"x\": [[{\"password\": \"s\"}]], \"y\": 1}";
	rc = ed_config_json_parse(ed_str_of(deep, strlen(deep)), P, &sec_a, &ms.sink, NULL, &err);
	ok(rc == ED_STORE && ms.n == 0, "sink failure deep inside the tree propagates");
	mem_sink_release(&ms);

	rc = run(&ms, doc, NULL, &err);
	ok(rc == ED_USAGE && err.code == ED_USAGE && ms.n == 0, "no secret rules: ED_USAGE, nothing emitted");
	mem_sink_release(&ms);
	struct ed_secrets nokey = {.key = NULL, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};
	rc = run(&ms, doc, &nokey, &err);
	ok(rc == ED_USAGE && ms.n == 0 && strstr(err.msg, P), "no secret key: ED_USAGE naming the path");
	mem_sink_release(&ms);

	/* sec->patterns NULL: the defaults, not "nothing is secret". */
	struct ed_secrets nopat = {.key = key_a, .patterns = NULL, .npatterns = 0};
	run(&ms, "{\"password\": \"cAnArY\"}", &nopat, &err);
	ok(ms.n == 1 && ms.items[0].value == NULL && canary_absent(&ms, "cAnArY"),
	   "NULL patterns fall back to the defaults");
	mem_sink_release(&ms);
}

/* Same items (key, value, attrs, fp) and warnings? */
static bool same_output(const struct mem_sink *a, const struct mem_sink *b)
{
	if (a->n != b->n || a->nwarnings != b->nwarnings)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct mem_item *x = &a->items[i], *y = &b->items[i];
		if (strcmp(x->key, y->key) || !fp_eq(&x->fp, &y->fp) || !x->value != !y->value ||
		    (x->value && strcmp(x->value, y->value)) || !x->attrs != !y->attrs ||
		    (x->attrs && strcmp(x->attrs, y->attrs)))
			return false;
	}
	for (size_t i = 0; i < a->nwarnings; i++)
		if (strcmp(a->warnings[i], b->warnings[i]))
			return false;
	return true;
}

static void test_alloc_failures(void)
{
	static const char *const docs[] = {
		("{\"db\": {\"pool\": 10, \"ratio\": 0.1, \"hosts\": [\"a\", \"b\"], \"o\": {}},"
		 " \"password\": \"s3cret\", \"r\": [1.25, -3e-7, 2.5e+20]}"),
		"{\"a\": 1, \"a\": 2}",
		"[1, 2,",
	};
	for (size_t t = 0; t < 2 * sizeof(docs) / sizeof(docs[0]); t++) {
		size_t d = t / 2;
		struct mem_sink base, ms;
		struct ed_err err;
		enum ed_code base_rc = run(&base, docs[d], &sec_a, &err);
		long n;
		bool good = true;
		long nomem = 0;
		for (n = 1; n < 100000; n++) {
			nalloc = 0;
			fail_at = n;
			fail_rest = t % 2;
			enum ed_code rc = run(&ms, docs[d], &sec_a, &err);
			bool hit = nalloc >= n;
			fail_at = 0;
			if (rc == ED_NOMEM)
				nomem++;
			else if (rc != base_rc || !same_output(&base, &ms)) {
				printf("# doc %zu, failing allocation %ld: rc %d, %zu items, %zu warnings\n",
				       d, n, rc, ms.n, ms.nwarnings);
				for (size_t w = 0; w < ms.nwarnings; w++)
					printf("#   warning: %s\n", ms.warnings[w]);
				good = false;
			}
			mem_sink_release(&ms);
			if (!hit)
				break;
		}
		ok(good && nomem > 0,
		   "doc %zu: failing %s of %ld jansson allocations gives ED_NOMEM (%ld) or the same output",
		   d, t % 2 ? "each and all later" : "each", n - 1, nomem);
		mem_sink_release(&base);
	}
}

int main(void)
{
	json_set_alloc_funcs(test_malloc, test_free);
	for (int i = 0; i < ED_KEY_LEN; i++) {
		key_a[i] = (uint8_t)(i + 1);
		key_b[i] = (uint8_t)(0xa5 ^ i);
	}
	sec_a = (struct ed_secrets){.key = key_a, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};
	sec_b = (struct ed_secrets){.key = key_b, .patterns = ed_default_secret_patterns, .npatterns = ed_default_secret_npatterns};

	test_pointer_append();
	test_rfc6901();
	test_nested();
	test_order_independent();
	test_secret_names();
	test_secrets();
	test_malformed();
	test_depth();
	test_leaves();
	test_errors();
	test_alloc_failures();
	return tap_done();
}
