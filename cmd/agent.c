/* SPDX-License-Identifier: MIT */
/* Agent mode: the framing of the far side's standard input, and its default state file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define KEY_LINE (2 * ED_KEY_LEN + 1) /* 64 hex digits and "\n" */

int agent_frame(const uint8_t *key, const struct ed_str *profile, char **out, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = (key ? KEY_LINE : 0) + (profile ? profile->len : 0);
	char *p = malloc(n + 1);
	if (!p)
		return -1;
	size_t at = 0;
	if (key) {
		for (size_t i = 0; i < ED_KEY_LEN; i++) {
			p[at++] = hex[key[i] >> 4];
			p[at++] = hex[key[i] & 15];
		}
		p[at++] = '\n';
	}
	if (profile && profile->len)
		memcpy(p + at, profile->p, profile->len);
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

/* Reads exactly n bytes of standard input; fewer only at its end (*got says how many). */
static enum ed_code read_exact(char *buf, size_t n, size_t *got, struct ed_err *err)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = read(0, buf + *got, n - *got);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ed_err_set(err, ED_IO, "standard input: %s", strerror(errno));
		}
		*got += (size_t)r;
	}
	return ED_OK;
}

static enum ed_code read_key(uint8_t key[ED_KEY_LEN], struct ed_err *err)
{
	char line[KEY_LINE];
	size_t got = 0;
	enum ed_code rc = read_exact(line, sizeof(line), &got, err);
	if (!rc && got < sizeof(line))
		rc = ed_err_set(err, ED_PARSE, "--key -: standard input ended before the key line "
					       "(64 hex digits and a newline)");
	for (size_t i = 0; !rc && i < ED_KEY_LEN; i++) {
		int hi = ed_hex_value(line[2 * i]), lo = ed_hex_value(line[2 * i + 1]);
		if (hi < 0 || lo < 0)
			rc = ed_err_set(err, ED_PARSE, "--key -: the first line of standard input is "
						       "not 64 hex digits");
		else
			key[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!rc && line[KEY_LINE - 1] != '\n')
		rc = ed_err_set(err, ED_PARSE, "--key -: the key line of standard input is longer "
					       "than 64 hex digits");
	explicit_bzero(line, sizeof(line));
	if (rc)
		explicit_bzero(key, ED_KEY_LEN);
	return rc;
}

enum ed_code agent_stdin_read(bool want_key, uint8_t key[ED_KEY_LEN], bool want_profile,
			      struct ed_buf *profile, struct ed_err *err)
{
	if (want_key && read_key(key, err))
		return err->code;
	if (!want_profile)
		return ED_OK;
	char chunk[65536];
	for (;;) {
		ssize_t r = read(0, chunk, sizeof(chunk));
		if (r == 0)
			return ED_OK;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ed_err_set(err, ED_IO, "--profile -: standard input: %s", strerror(errno));
		}
		if (profile->len + (size_t)r > AGENT_PROFILE_MAX)
			return ed_err_set(err, ED_TOOBIG, "--profile -: standard input holds more than "
							  "%u MiB", AGENT_PROFILE_MAX >> 20);
		if (ed_buf_add(profile, chunk, (size_t)r))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	}
}

/* mkdir -p of path's folders, each new one mode 0700. */
static enum ed_code make_dirs(char *path, struct ed_err *err)
{
	for (char *s = strchr(path + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		int r = mkdir(path, 0700);
		int e = errno;
		if (s)
			*s = '/';
		if (r != 0 && e != EEXIST)
			return ed_err_set(err, ED_IO, "--state auto: cannot make the folder %s: %s", path,
					  strerror(e));
		if (!s)
			return ED_OK;
	}
}

enum ed_code agent_state_path(const char *env, const char *host, const uint8_t key[ED_KEY_LEN],
			      struct ed_buf *out, struct ed_err *err)
{
	struct ed_buf dir = ED_BUF_INIT, name = ED_BUF_INIT;
	struct ed_fp fp;
	char hex[2 * ED_FP_LEN + 1];
	enum ed_code rc = ED_OK;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *own = getenv("ENVDRIFT_STATE_DIR");
	int r;
	if (own && own[0] == '/')
		r = ed_buf_adds(&dir, own);
	else if (geteuid() == 0)
		r = ed_buf_adds(&dir, "/var/lib/envdrift/state");
	else if (xdg && xdg[0] == '/')
		r = ed_buf_addf(&dir, "%s/envdrift", xdg);
	else if (home && home[0] == '/')
		r = ed_buf_addf(&dir, "%s/.cache/envdrift", home);
	else {
		rc = ed_err_set(err, ED_USAGE, "--state auto: no HOME to keep the state under; give "
					       "--state FILE");
		goto out;
	}
	/* env and host are printable names without NUL: NUL separates them unambiguously. */
	if (r || ed_buf_addf(&name, "envdrift state %s", env) || ed_buf_addc(&name, '\0') ||
	    ed_buf_adds(&name, host)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ed_fp_keyed(key, name.p, name.len, &fp, err)) || (rc = make_dirs(dir.p, err)))
		goto out;
	ed_fp_hex(&fp, hex);
	if (ed_buf_addf(out, "%s/%s.state", dir.p, hex))
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	ed_buf_release(&dir);
	ed_buf_release(&name);
	return rc;
}
