/* SPDX-License-Identifier: MIT */
/* The secret detectors: one case per row of ed_secret_detectors, and values they must leave alone. */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/config.h"
#include "ed/hash.h"
#include "sink_mem.h"
#include "tap.h"

static const uint8_t key[ED_KEY_LEN] = {1, 2, 3};

/* Parses text as fmt with the default patterns into ms (initialised here). */
static void parse(enum ed_config_format fmt, const char *path, const char *text, bool all,
		  struct mem_sink *ms, size_t *nsecrets)
{
	struct ed_secrets sec = {.key = key, .all = all};
	struct ed_err err = {0};
	mem_sink_init(ms);
	enum ed_code rc = ed_config_parse(fmt, ed_str_of(text, strlen(text)), path, &sec, &ms->sink,
					  nsecrets, &err);
	ok(rc == ED_OK, "%s parses (%s)", path, err.msg);
}

static void test_config_leaves(void)
{
	struct mem_sink ms;
	size_t n = 0;
	const struct mem_item *it;

	/* A.4: a credential URL under a plain key: masked value, keyed fingerprint. */
	const char *env = "DATABASE_URL=postgres://u:PW123456@db1/shop\nHOST=db1\n";
	parse(ED_CFG_KEYVALUE, "/etc/app.env", env, false, &ms, &n);
	it = mem_sink_find(&ms, "/etc/app.env#/DATABASE_URL");
	is_str(it ? it->value : NULL, "\"postgres://u:<secret>@db1/shop\"", "keyvalue: URL password masked");
	is_str(it ? it->attrs : NULL, "{\"masked\":true}", "  attrs masked");
	struct ed_fp plain;
	const char *canon = "\"postgres://u:PW123456@db1/shop\"";
	ed_fp_of(canon, strlen(canon), &plain);
	ok(it && memcmp(it->fp.b, plain.b, ED_FP_LEN) != 0, "  fingerprint is not the XXH3 of the value");
	is_int(n, 1, "  counted as a secret (the file gets a keyed fingerprint)");
	mem_sink_release(&ms);

	/* A.2: every value of a file named like a secret. */
	parse(ED_CFG_YAML, "/etc/secrets.yaml", "db_host: X\nlist: [1, 2]\n", true, &ms, &n);
	it = mem_sink_find(&ms, "/etc/secrets.yaml#/db_host");
	ok(it && !it->value && it->attrs && strstr(it->attrs, "secret"), "all: db_host is secret");
	it = mem_sink_find(&ms, "/etc/secrets.yaml#/list/1");
	ok(it && !it->value, "all: list elements are secret");
	is_int(n, 3, "all: three secret leaves");
	mem_sink_release(&ms);
	parse(ED_CFG_JSON, "/etc/server.key.json", "\"just-a-scalar\"", true, &ms, &n);
	it = mem_sink_find(&ms, "/etc/server.key.json#");
	ok(it && !it->value, "all: a scalar document is secret too");
	mem_sink_release(&ms);

	/* A.6: a YAML value aliased under a secret key is secret under its anchor's key. */
	parse(ED_CFG_YAML, "/etc/a.yaml", "base: &t hunter2\nmy_token: *t\nhost: h\n", false, &ms, &n);
	it = mem_sink_find(&ms, "/etc/a.yaml#/base");
	ok(it && !it->value, "yaml: the anchored value is secret under its plain key");
	it = mem_sink_find(&ms, "/etc/a.yaml#/host");
	is_str(it ? it->value : NULL, "\"h\"", "yaml: the rest is stored");
	mem_sink_release(&ms);
	parse(ED_CFG_YAML, "/etc/b.yaml", "base: &t {u: x, v: [y]}\nlist:\n  - password: *t\n", false,
	      &ms, &n);
	it = mem_sink_find(&ms, "/etc/b.yaml#/base/v/0");
	ok(it && !it->value, "yaml: an anchored mapping aliased under a secret key: its leaves are secret");
	mem_sink_release(&ms);

	struct ed_buf out = ED_BUF_INIT;
	bool okr = false;
	struct ed_err err = {0};
	const char *y = "base: &t hunter2\nmy_token: *t\n";
	ok(ed_config_redact(ED_CFG_YAML, ed_str_of(y, strlen(y)), "/etc/a.yaml", NULL, &out, &okr, &err) == ED_OK &&
	   okr, "yaml: the aliased text redacts");
	ok(!strstr(ed_buf_str(&out), "hunter2"), "  and the anchored value is masked in kept content");
	ed_buf_release(&out);
}

struct dcase {
	const char *detector; /* the row that must find it */
	const char *in;
	const char *masked;   /* the text after ed_secret_mask() */
};

static const struct dcase cases[] = {
	{"url-password", "postgres://app:S3cr3t@db1.internal:5432/shop",
	 "postgres://app:<secret>@db1.internal:5432/shop"},
	{"param-secret", "jdbc:mysql://h/db?user=u&password=PW77&ssl=1",
	 "jdbc:mysql://h/db?user=u&password=<secret>&ssl=1"},
	{"param-secret", "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=c2VjcmV0==;EndpointSuffix=core.windows.net",
	 "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=<secret>;EndpointSuffix=core.windows.net"},
	{"private-key-block", "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\ny",
	 "x\n-----BEGIN OPENSSH PRIVATE KEY-----<secret>-----END OPENSSH PRIVATE KEY-----\ny"},
	{"openvpn-key", "<key>\nMIIEv\n</key>\n",
	 "<key><secret></key>\n"},
	{"openvpn-tls-auth", "<tls-auth>\n6a3f\n</tls-auth>",
	 "<tls-auth><secret></tls-auth>"},
	{"openvpn-tls-crypt", "<tls-crypt>\n6a3f\n</tls-crypt>",
	 "<tls-crypt><secret></tls-crypt>"},
	{"openvpn-tls-crypt-v2", "<tls-crypt-v2>\n6a3f\n</tls-crypt-v2>",
	 "<tls-crypt-v2><secret></tls-crypt-v2>"},
	{"openvpn-secret", "<secret>\n6a3f\n</secret>",
	 "<secret><secret></secret>"},
	{"openvpn-pkcs12", "<pkcs12>\nMIIK\n</pkcs12>",
	 "<pkcs12><secret></pkcs12>"},
	{"openvpn-auth-user-pass", "<auth-user-pass>\nu\npw\n</auth-user-pass>",
	 "<auth-user-pass><secret></auth-user-pass>"},
	{"putty-private", "Public-Lines: 1\nAAAA\nPrivate-Lines: 1\nBBBB\nPrivate-MAC: 12ab\n",
	 "Public-Lines: 1\nAAAA\nPrivate-Lines:<secret>\n"},
	{"jwt", "Bearer eyJhbGciOiJIUzI1NiJ9xx.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_nature-1",
	 "Bearer <secret>"},
	{"github-pat", "tok ghp_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2 end",
	 "tok <secret> end"},
	{"github-oauth", "gho_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2",
	 "<secret>"},
	{"github-app", "ghu_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2",
	 "<secret>"},
	{"github-app-server", "ghs_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2",
	 "<secret>"},
	{"github-refresh", "ghr_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2",
	 "<secret>"},
	{"github-fine-grained-pat", "GITHUB_PAT=github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
	 "GITHUB_PAT=<secret>"},
	{"gitlab-pat", "glpat-abcdefghij0123456789",
	 "<secret>"},
	{"gitlab-runner", "glrt-abcdefghij0123456789",
	 "<secret>"},
	{"gitlab-deploy", "gldt-abcdefghij0123456789",
	 "<secret>"},
	{"slack-bot", "xoxb-1234567890-abcdefghij",
	 "<secret>"},
	{"slack-app", "xoxa-1234567890-abcdefghij",
	 "<secret>"},
	{"slack-user", "xoxp-1234567890-abcdefghij",
	 "<secret>"},
	{"slack-refresh", "xoxe-1234567890-abcdefghij",
	 "<secret>"},
	{"slack-app-level", "xapp-1-A0123-456-abcdef",
	 "<secret>"},
	{"slack-webhook", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
	 "https://<secret>"},
	{"aws-access-key", "aws_access_key_id AKIAIOSFODNN7EXAMPLE",
	 "aws_access_key_id <secret>"},
	{"aws-temp-access-key", "ASIAIOSFODNN7EXAMPLE",
	 "<secret>"},
	{"stripe-live", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
	 "<secret>"},
	{"stripe-restricted", "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
	 "<secret>"},
	{"gcp-api-key", "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
	 "<secret>"},
	{"npm-token", "npm_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2",
	 "<secret>"},
	{"pypi-token", "pypi-AgEIcHlwaS5vcmcxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	 "<secret>"},
	{"sendgrid", "SG.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	 "<secret>"},
	{"age-secret-key", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
	 "<secret>"},
	{"digitalocean", "dop_v1_abababababababababababababababababababababababababababababababab",
	 "<secret>"},
	{"hashicorp-vault", "hvs.CAESIabcdefghijklmnopqrstuvwx",
	 "<secret>"},
	{"openai", "sk-proj-abcdefghijklmnopqrstuvwx",
	 "<secret>"},
	{"anthropic", "sk-ant-api03-abcdefghijklmnopqrst",
	 "<secret>"},
	{"shopify", "shpat_0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",
	 "<secret>"},
	{"twilio", "SK0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
	 "<secret>"},
};

/* Texts that hold no secret: nothing found, nothing masked. */
static const char *const clean[] = {
	"https://db1.internal:5432/shop",
	"postgres://app@db1/shop",
	"a=b&c=d",
	"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
	"ghp_short",
	"AKIA123",
	"xoxb-",
	"password_hint",
	"keyboard-layout=us",
	"see <key> docs",
	"SKIP_TESTS=1",
	"eyJhbGciOiJIUzI1NiJ9 alone",
	"mailto:user@example.com",
};

static int first_name(void *ctx, const char *detector, size_t start, size_t end)
{
	(void)start;
	(void)end;
	if (!*(const char **)ctx)
		*(const char **)ctx = detector;
	return 0;
}

int main(void)
{
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < ncases; i++) {
		const struct dcase *t = &cases[i];
		const char *name = NULL;
		struct ed_buf out = ED_BUF_INIT;
		size_t hits = ed_secret_scan(NULL, t->in, strlen(t->in), first_name, &name);
		ok(hits >= 1, "%s: found", t->detector);
		is_str(name, t->detector, "%s: found by its own row", t->detector);
		ok(ed_secret_mask(NULL, t->in, strlen(t->in), &out, NULL) == 0, "%s: masked", t->detector);
		is_str(ed_buf_str(&out), t->masked, "%s: masked text", t->detector);
		/* Masking twice changes nothing more: kept content is masked after redaction. */
		struct ed_buf again = ED_BUF_INIT;
		ok(ed_secret_mask(NULL, out.p, out.len, &again, NULL) == 0 &&
		   strcmp(ed_buf_str(&again), ed_buf_str(&out)) == 0, "%s: masking is idempotent", t->detector);
		ed_buf_release(&again);
		ed_buf_release(&out);
	}
	/* Every row of the table has its case. */
	for (size_t k = 0; k < ed_secret_ndetectors; k++) {
		bool found = false;
		for (size_t i = 0; i < ncases && !found; i++)
			found = strcmp(cases[i].detector, ed_secret_detectors[k].name) == 0;
		ok(found, "detector %s has a test case", ed_secret_detectors[k].name);
	}
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		const char *name = NULL;
		size_t hits = ed_secret_scan(NULL, clean[i], strlen(clean[i]), first_name, &name);
		/* One TAP line: the case's newlines shown as \n. */
		char shown[200];
		size_t n = 0;
		for (const char *c = clean[i]; *c && n + 3 < sizeof(shown); c++) {
			if (*c == '\n')
				shown[n++] = '\\', shown[n++] = 'n';
			else
				shown[n++] = *c;
		}
		shown[n] = '\0';
		ok(hits == 0, "clean: '%s' (%s)", shown, name ? name : "nothing");
	}

	/* A profile's own token prefixes ([secrets] values). */
	const char *const mine[] = {"acme_"};
	const struct ed_secrets sec = {.values = mine, .nvalues = 1};
	struct ed_buf out = ED_BUF_INIT;
	const char *t = "token acme_0123456789abcdef here, acme_short";
	ok(ed_secret_mask(&sec, t, strlen(t), &out, NULL) == 0, "profile prefix: masked");
	is_str(ed_buf_str(&out), "token <secret> here, acme_short", "profile prefix: 8+ characters after it");
	ed_buf_release(&out);

	/* Key names: the broader default list. */
	const char *const secret_names[] = {"bindpw", "rootpw", "GITHUB_PAT", "aws_credentials",
					    "http_auth_basic", "private_data", "ssl_passphrase",
					    "password_salt", "db_pwd", "MYSQL_PASSWORD"};
	for (size_t i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		ok(ed_secret_name_matches(NULL, secret_names[i], strlen(secret_names[i])),
		   "key name %s is secret by default", secret_names[i]);
	const char *const plain_names[] = {"host", "port", "database", "url", "user", "timeout"};
	for (size_t i = 0; i < sizeof(plain_names) / sizeof(plain_names[0]); i++)
		ok(!ed_secret_name_matches(NULL, plain_names[i], strlen(plain_names[i])),
		   "key name %s is not secret", plain_names[i]);
	const struct ed_secrets all = {.all = true};
	ok(ed_secret_name_matches(&all, "db_host", 7), "a secret file: every key is secret");
	test_config_leaves();
	return tap_done();
}
