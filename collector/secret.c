/* SPDX-License-Identifier: MIT */
/*
 * Secret rules: the default key patterns, the match of one key name against
 * them, and the value detectors (a table: credential URLs, connection-string
 * parameters, token shapes, private-key blocks) that find secrets by what
 * they look like.
 */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/glob.h"
#include "ed/collect.h"
#include "ed/config.h"

const char *const ed_default_secret_patterns[] = {
	"*password*", "*secret*", "*token*", "*key*", "*passwd*", "*credential*", "*private*",
	"*passphrase*", "*salt*", "*_auth*", "*_pat", "*pw", "*pwd",
};
const size_t ed_default_secret_npatterns =
	sizeof(ed_default_secret_patterns) / sizeof(ed_default_secret_patterns[0]);

/*
 * sec == NULL or sec->patterns == NULL means the default patterns, so a caller
 * that forgets to fill them in errs on the safe side. To match nothing, pass a
 * non-NULL patterns array with npatterns == 0. NULL entries are skipped.
 */
const char *ed_secret_name_glob(const struct ed_secrets *sec, const char *name, size_t len)
{
	const char *const *pats = ed_default_secret_patterns;
	size_t npats = ed_default_secret_npatterns;

	/* The patterns are C strings: a name with a NUL inside is never a match. */
	if (!name || memchr(name, '\0', len))
		return NULL;
	if (sec && sec->patterns) {
		pats = sec->patterns;
		npats = sec->npatterns;
	}
	for (size_t i = 0; i < npats; i++)
		if (pats[i] && ed_glob_match_ci(pats[i], name, len))
			return pats[i];
	return NULL;
}

bool ed_secret_name_matches(const struct ed_secrets *sec, const char *name, size_t len)
{
	if (!name || memchr(name, '\0', len))
		return false;
	if (sec && sec->all)
		return true;
	return ed_secret_name_glob(sec, name, len) != NULL;
}

/* ---- value detectors ---- */

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool in_set(enum ed_detect_set set, unsigned char c)
{
	switch (set) {
	case ED_SET_ALNUM: return is_alnum(c);
	case ED_SET_UPPERNUM: return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	case ED_SET_WORD: return is_alnum(c) || c == '_';
	case ED_SET_B64URL: return is_alnum(c) || c == '_' || c == '-';
	case ED_SET_B64: return is_alnum(c) || c == '_' || c == '-' || c == '+' || c == '/' ||
				c == '=' || c == '.';
	}
	return false;
}

/* A character that may not precede a token: part of a longer word. */
static bool glued(const char *s, size_t at)
{
	return at > 0 && (is_alnum((unsigned char)s[at - 1]) || s[at - 1] == '_');
}

static size_t run_of(enum ed_detect_set set, const char *s, size_t len, size_t i)
{
	size_t from = i;
	while (i < len && in_set(set, (unsigned char)s[i]))
		i++;
	return i - from;
}

/* A token: the trigger, then min..max characters of the set; masked whole. */
static bool m_token(const struct ed_detector *d, const char *s, size_t len, size_t at,
		    size_t *ms, size_t *me)
{
	if (glued(s, at))
		return false;
	size_t body = at + strlen(d->trigger);
	size_t n = run_of(d->set, s, len, body);
	if (n < d->min || (d->max && n > d->max))
		return false;
	*ms = at;
	*me = body + n;
	return true;
}

/* A JWT: "ey" + 17 base64url, ".ey" + 17, "." + a signature. */
static bool m_jwt(const struct ed_detector *d, const char *s, size_t len, size_t at, size_t *ms,
		  size_t *me)
{
	(void)d;
	if (glued(s, at))
		return false;
	size_t i = at + 2, n = run_of(ED_SET_B64URL, s, len, i);
	if (n < 17 || i + n + 3 > len || memcmp(s + i + n, ".ey", 3) != 0)
		return false;
	i += n + 3;
	n = run_of(ED_SET_B64URL, s, len, i);
	if (n < 17)
		return false;
	i += n;
	if (i < len && s[i] == '.')
		i += 1 + run_of(ED_SET_B64URL, s, len, i + 1);
	*ms = at;
	*me = i;
	return true;
}

/*
 * Where a value in free text or in a canonical JSON string stops: a
 * delimiter of a query or connection string, whitespace or a quote. A
 * backslash takes the next byte with it, so a JSON escape is never cut.
 */
static size_t value_end(const char *s, size_t len, size_t i, const char *stops)
{
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			/* "\n" in canonical JSON text ends the value, as a newline would. */
			if (i + 1 < len && (s[i + 1] == 'n' || s[i + 1] == 'r' || s[i + 1] == 't'))
				break;
			i += i + 1 < len ? 2 : 1;
			continue;
		}
		if (c <= ' ' || strchr(stops, c))
			break;
		i++;
	}
	return i;
}

/* scheme://user:PASSWORD@host...: only the password is masked. */
static bool m_url(const struct ed_detector *d, const char *s, size_t len, size_t at, size_t *ms,
		  size_t *me)
{
	(void)d;
	size_t b = at;
	while (b > 0 && (is_alnum((unsigned char)s[b - 1]) || strchr("+.-", s[b - 1])))
		b--;
	if (b == at)
		return false;
	size_t u = at + 3;
	size_t end = value_end(s, len, u, "/?#\"'");
	size_t atsign = 0, colon = 0;
	for (size_t i = u; i < end; i++) {
		if (s[i] == '@')
			atsign = i;
		if (s[i] == ':' && !colon)
			colon = i;
	}
	if (!atsign || !colon || colon > atsign || colon + 1 == atsign)
		return false;
	*ms = colon + 1;
	*me = atsign;
	return true;
}

/* Parameter names whose value is a secret, in query and connection strings. */
static const char *const param_names[] = {
	"*password*", "*passwd*", "pwd", "pass", "*secret*", "*token*", "apikey", "api_key",
	"api-key", "*passphrase*", "*credential*", "*_pw", "pw", "sig", "signature",
	"accountkey", "sharedaccesskey", /* Azure storage and Service Bus connection strings */
};

/* NAME=VALUE inside a query or connection string: the value is masked. */
static bool m_param(const struct ed_detector *d, const char *s, size_t len, size_t at,
		    size_t *ms, size_t *me)
{
	(void)d;
	size_t b = at;
	while (b > 0 && (is_alnum((unsigned char)s[b - 1]) || strchr("_.-", s[b - 1])))
		b--;
	if (b == at)
		return false;
	/* The name starts a parameter: after ? & ; , whitespace, a quote or the start. */
	if (b > 0 && !strchr("?&;, \t\"'(", s[b - 1]) && !(b >= 2 && s[b - 2] == '\\'))
		return false;
	bool named = false;
	for (size_t k = 0; k < sizeof(param_names) / sizeof(param_names[0]) && !named; k++)
		named = ed_glob_match_ci(param_names[k], s + b, at - b);
	if (!named)
		return false;
	size_t v = at + 1, e = value_end(s, len, v, "&;\"',)");
	if (e == v)
		return false;
	*ms = v;
	*me = e;
	return true;
}

/* At the start of a line: the start of the text, after "\n", or after "\\n" in JSON text. */
static bool line_start(const char *s, size_t at)
{
	size_t i = at;
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	return i == 0 || s[i - 1] == '\n' || (i >= 2 && s[i - 2] == '\\' && s[i - 1] == 'n');
}

static size_t find(const char *s, size_t len, size_t from, const char *what)
{
	size_t n = strlen(what);
	for (size_t i = from; i + n <= len; i++) {
		const char *p = memchr(s + i, what[0], len - i);
		if (!p)
			break;
		i = (size_t)(p - s);
		if (i + n <= len && memcmp(s + i, what, n) == 0)
			return i;
	}
	return len;
}

/*
 * -----BEGIN ... PRIVATE KEY----- (any key type, encrypted or not; PGP
 * private key blocks too) to -----END ...-----: everything between the two
 * marker lines is masked; a block without its end is masked to the end.
 */
static bool m_pem(const struct ed_detector *d, const char *s, size_t len, size_t at, size_t *ms,
		  size_t *me)
{
	(void)d;
	size_t l = at + strlen("-----BEGIN ");
	size_t close = find(s, len, l, "-----");
	if (close == len || close - l > 64)
		return false;
	const char *priv = "PRIVATE";
	bool secret = false;
	for (size_t i = l; i + 7 <= close && !secret; i++)
		secret = memcmp(s + i, priv, 7) == 0;
	if (!secret)
		return false;
	*ms = close + 5;
	*me = find(s, len, *ms, "-----END ");
	return true;
}

/* OpenVPN inline blocks: <key> ... </key> and the like, the tag alone on its line. */
static bool m_ovpn(const struct ed_detector *d, const char *s, size_t len, size_t at,
		   size_t *ms, size_t *me)
{
	size_t n = strlen(d->trigger);
	if (!line_start(s, at))
		return false;
	size_t i = at + n;
	/* Followed by the end of its line (a newline, "\n" in JSON text, or the end). */
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	if (!(i == len || s[i] == '\n' || (i + 1 < len && s[i] == '\\' && s[i + 1] == 'n')))
		return false;
	char closing[32];
	if (n + 2 > sizeof(closing))
		return false;
	closing[0] = '<';
	closing[1] = '/';
	memcpy(closing + 2, d->trigger + 1, n - 1);
	closing[n + 1] = '\0';
	*ms = at + n;
	*me = find(s, len, *ms, closing);
	/*
	 * "<secret>" is also the marker: that block needs its closing tag, or a
	 * masked line would swallow the rest. Other blocks are masked to the end.
	 */
	if (*me == len && strcmp(d->trigger, ED_SECRET_MARKER) == 0)
		return false;
	return true;
}

/* PuTTY .ppk: from the Private-Lines: line through the Private-MAC: line. */
static bool m_putty(const struct ed_detector *d, const char *s, size_t len, size_t at,
		    size_t *ms, size_t *me)
{
	if (!line_start(s, at))
		return false;
	*ms = at + strlen(d->trigger);
	size_t mac = find(s, len, *ms, "Private-MAC:");
	if (mac == len)
		mac = find(s, len, *ms, "Private-Hash:");
	if (mac == len) {
		*me = len;
		return true;
	}
	size_t e = mac;
	while (e < len && s[e] != '\n' && s[e] != '\r' && !(s[e] == '\\' && e + 1 < len && s[e + 1] == 'n'))
		e++;
	*me = e;
	return true;
}

#define TOKEN(name, trig, set, min, max, what)                                                \
	{name, trig, what, "the whole token", m_token, set, min, max}

const struct ed_detector ed_secret_detectors[] = {
	{"url-password", "://", "scheme://user:PASSWORD@host in any scheme",
	 "the password only: scheme, user, host, port, path stay", m_url, 0, 0, 0},
	{"param-secret", "=", "NAME=VALUE after ? & ; , or a space, NAME a password, pwd, pass, "
	 "token, secret, apikey, sig... parameter (query and connection strings)",
	 "the value", m_param, 0, 0, 0},
	{"private-key-block", "-----BEGIN ", "PEM/OpenSSH/PGP block whose label holds PRIVATE",
	 "everything between the BEGIN and END lines", m_pem, 0, 0, 0},
	{"openvpn-key", "<key>", "OpenVPN inline <key>", "the block", m_ovpn, 0, 0, 0},
	{"openvpn-tls-auth", "<tls-auth>", "OpenVPN inline <tls-auth>", "the block", m_ovpn, 0, 0, 0},
	{"openvpn-tls-crypt", "<tls-crypt>", "OpenVPN inline <tls-crypt>", "the block", m_ovpn, 0, 0, 0},
	{"openvpn-tls-crypt-v2", "<tls-crypt-v2>", "OpenVPN inline <tls-crypt-v2>", "the block", m_ovpn, 0, 0, 0},
	{"openvpn-secret", "<secret>", "OpenVPN inline <secret> (static key)", "the block", m_ovpn, 0, 0, 0},
	{"openvpn-pkcs12", "<pkcs12>", "OpenVPN inline <pkcs12>", "the block", m_ovpn, 0, 0, 0},
	{"openvpn-auth-user-pass", "<auth-user-pass>", "OpenVPN inline <auth-user-pass>", "the block",
	 m_ovpn, 0, 0, 0},
	{"putty-private", "Private-Lines:", "PuTTY .ppk private lines", "through Private-MAC:",
	 m_putty, 0, 0, 0},
	{"jwt", "ey", "JSON Web Token: ey... . ey... . signature", "the whole token", m_jwt, 0, 0, 0},
	TOKEN("github-pat", "ghp_", ED_SET_ALNUM, 36, 0, "GitHub personal access token ghp_"),
	TOKEN("github-oauth", "gho_", ED_SET_ALNUM, 36, 0, "GitHub OAuth token gho_"),
	TOKEN("github-app", "ghu_", ED_SET_ALNUM, 36, 0, "GitHub user-to-server token ghu_"),
	TOKEN("github-app-server", "ghs_", ED_SET_ALNUM, 36, 0, "GitHub server-to-server token ghs_"),
	TOKEN("github-refresh", "ghr_", ED_SET_ALNUM, 36, 0, "GitHub refresh token ghr_"),
	TOKEN("github-fine-grained-pat", "github_pat_", ED_SET_WORD, 22, 0,
	      "GitHub fine-grained token github_pat_"),
	TOKEN("gitlab-pat", "glpat-", ED_SET_B64URL, 20, 0, "GitLab personal access token glpat-"),
	TOKEN("gitlab-runner", "glrt-", ED_SET_B64URL, 20, 0, "GitLab runner token glrt-"),
	TOKEN("gitlab-deploy", "gldt-", ED_SET_B64URL, 20, 0, "GitLab deploy token gldt-"),
	TOKEN("slack-bot", "xoxb-", ED_SET_B64URL, 10, 0, "Slack bot token xoxb-"),
	TOKEN("slack-app", "xoxa-", ED_SET_B64URL, 10, 0, "Slack app token xoxa-"),
	TOKEN("slack-user", "xoxp-", ED_SET_B64URL, 10, 0, "Slack user token xoxp-"),
	TOKEN("slack-refresh", "xoxe-", ED_SET_B64URL, 10, 0, "Slack refresh token xoxe-"),
	TOKEN("slack-app-level", "xapp-", ED_SET_B64URL, 10, 0, "Slack app-level token xapp-"),
	TOKEN("slack-webhook", "hooks.slack.com/services/", ED_SET_B64, 20, 0,
	      "Slack incoming webhook URL"),
	TOKEN("aws-access-key", "AKIA", ED_SET_UPPERNUM, 16, 16, "AWS access key id AKIA..."),
	TOKEN("aws-temp-access-key", "ASIA", ED_SET_UPPERNUM, 16, 16, "AWS temporary key id ASIA..."),
	TOKEN("stripe-live", "sk_live_", ED_SET_ALNUM, 10, 0, "Stripe secret key sk_live_"),
	TOKEN("stripe-restricted", "rk_live_", ED_SET_ALNUM, 10, 0, "Stripe restricted key rk_live_"),
	TOKEN("gcp-api-key", "AIza", ED_SET_B64URL, 35, 35, "Google API key AIza"),
	TOKEN("npm-token", "npm_", ED_SET_ALNUM, 36, 36, "npm access token npm_"),
	TOKEN("pypi-token", "pypi-AgEIcHlwaS5vcmc", ED_SET_B64URL, 50, 0, "PyPI upload token"),
	TOKEN("sendgrid", "SG.", ED_SET_B64, 60, 0, "SendGrid API key SG."),
	TOKEN("age-secret-key", "AGE-SECRET-KEY-1", ED_SET_UPPERNUM, 58, 58, "age secret key"),
	TOKEN("digitalocean", "dop_v1_", ED_SET_ALNUM, 64, 64, "DigitalOcean token dop_v1_"),
	TOKEN("hashicorp-vault", "hvs.", ED_SET_B64URL, 24, 0, "HashiCorp Vault service token hvs."),
	TOKEN("openai", "sk-proj-", ED_SET_B64URL, 20, 0, "OpenAI project key sk-proj-"),
	TOKEN("anthropic", "sk-ant-", ED_SET_B64URL, 20, 0, "Anthropic API key sk-ant-"),
	TOKEN("shopify", "shpat_", ED_SET_ALNUM, 32, 32, "Shopify access token shpat_"),
	TOKEN("twilio", "SK", ED_SET_ALNUM, 32, 32, "Twilio API key SK + 32 hex"),
};
const size_t ed_secret_ndetectors = sizeof(ed_secret_detectors) / sizeof(ed_secret_detectors[0]);

static bool m_extra(const char *prefix, const char *s, size_t len, size_t at, size_t *ms,
		    size_t *me)
{
	struct ed_detector d = {"profile", prefix, "", "", m_token, ED_SET_B64URL, 8, 0};
	return m_token(&d, s, len, at, ms, me);
}

/*
 * A range with nothing to mask: only blanks, line ends ("\n" in JSON text too)
 * and at most one marker (a masked text masked again stays as it is).
 */
static bool says_nothing(const char *s, size_t ms, size_t me)
{
	const size_t ml = strlen(ED_SECRET_MARKER);
	bool marker = false;
	for (size_t k = ms; k < me;) {
		if (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			k++;
		} else if (s[k] == '\\' && k + 1 < me && strchr("nrt", s[k + 1])) {
			k += 2;
		} else if (!marker && me - k >= ml && memcmp(s + k, ED_SECRET_MARKER, ml) == 0) {
			marker = true;
			k += ml;
		} else {
			return false;
		}
	}
	return true;
}

/* The bytes that may start a trigger of the table, built once (the table is constant). */
#define ROWS_PER_BYTE 16
static uint8_t rows_for[256][ROWS_PER_BYTE]; /* rows whose trigger starts with the byte */
static uint8_t nrows_for[256];
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

static void build_start_table(void)
{
	for (size_t k = 0; k < ed_secret_ndetectors; k++) {
		unsigned char c = (unsigned char)ed_secret_detectors[k].trigger[0];
		assert(nrows_for[c] < ROWS_PER_BYTE && k < 256);
		rows_for[c][nrows_for[c]++] = (uint8_t)k;
	}
}

static bool could_start(const struct ed_secrets *sec, unsigned char c)
{
	if (nrows_for[c])
		return true;
	for (size_t k = 0; sec && k < sec->nvalues; k++)
		if (sec->values[k] && (unsigned char)sec->values[k][0] == c)
			return true;
	return false;
}

size_t ed_secret_scan(const struct ed_secrets *sec, const char *s, size_t len,
		      ed_secret_hit_fn *hit, void *ctx)
{
	size_t hits = 0;
	pthread_once(&start_once, build_start_table);
	for (size_t i = 0; i < len;) {
		if (!could_start(sec, (unsigned char)s[i])) {
			i++;
			continue;
		}
		size_t ms = 0, me = 0, k;
		const char *name = NULL;
		unsigned char c = (unsigned char)s[i];
		for (k = 0; k < nrows_for[c] && !name; k++) {
			const struct ed_detector *d = &ed_secret_detectors[rows_for[c][k]];
			size_t n = strlen(d->trigger);
			if (n <= len - i && memcmp(s + i, d->trigger, n) == 0 &&
			    d->match(d, s, len, i, &ms, &me))
				name = d->name;
		}
		for (k = 0; sec && k < sec->nvalues && !name; k++) {
			const char *v = sec->values[k];
			size_t n = v ? strlen(v) : 0;
			if (n && n <= len - i && memcmp(s + i, v, n) == 0 && m_extra(v, s, len, i, &ms, &me))
				name = "profile";
		}
		if (!name || me < ms || me > len || says_nothing(s, ms, me)) {
			i++;
			continue;
		}
		hits++;
		if (hit && hit(ctx, name, ms, me))
			return hits;
		/* Go on after the match (the trigger of a URL or a parameter is inside it). */
		i = me > i ? me : i + 1;
	}
	return hits;
}

struct mask_ctx {
	const char *s;
	struct ed_buf *out;
	size_t at;
	bool failed;
};

static int mask_hit(void *ctx, const char *name, size_t start, size_t end)
{
	struct mask_ctx *m = ctx;
	(void)name;
	if (start < m->at)
		start = m->at;
	if (ed_buf_add(m->out, m->s + m->at, start - m->at) || ed_buf_adds(m->out, ED_SECRET_MARKER)) {
		m->failed = true;
		return 1;
	}
	m->at = end > start ? end : start;
	return 0;
}

int ed_secret_mask_seen(const struct ed_secrets *sec, const char *s, const char *seen, size_t len,
			struct ed_buf *out, size_t *nhits)
{
	struct mask_ctx m = {s, out, 0, false};
	size_t n = ed_secret_scan(sec, seen, len, mask_hit, &m);
	if (m.failed || ed_buf_add(out, s + m.at, len - m.at))
		return -1;
	if (nhits)
		*nhits = n;
	return 0;
}

int ed_secret_mask(const struct ed_secrets *sec, const char *s, size_t len, struct ed_buf *out,
		   size_t *nhits)
{
	return ed_secret_mask_seen(sec, s, s, len, out, nhits);
}
