/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the profile parser (on top of the default, through libinih),
 * the predicates on the result, and the sysctl key check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"/etc/shadow", "/etc/nginx/nginx.conf", "/srv/app/.env", "/etc/sysctl.d/99-x.conf",
	"/etc/ssl/private/a.key", "/etc/app/config.json", "/", "/a",
};

/* Touches every string the profile holds, so ASan sees a bad pointer. */
static size_t touch(const struct ed_strlist *l)
{
	size_t sum = 0;
	for (size_t i = 0; i < l->n; i++)
		sum += strlen(l->v[i]);
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_profile p = {0};
	struct ed_err err;
	if (ed_profile_default(&p, &err))
		return 0;
	if (ed_profile_parse(ed_str_of((const char *)data, size), "fuzz.ini", &p, &err) == ED_OK) {
		volatile size_t sum = touch(&p.paths) + touch(&p.excludes) + touch(&p.packages) +
				      touch(&p.schemas) + touch(&p.secret_keys) +
				      touch(&p.secret_files) + touch(&p.keep_content) +
				      touch(&p.sysctl) + touch(&p.python_paths) + touch(&p.npm_paths);
		for (size_t i = 0; i < p.nformats; i++)
			sum += strlen(p.formats[i].glob);
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			sum += (size_t)ed_profile_secret_file(&p, paths[i]) +
			       (size_t)ed_profile_excluded(&p, paths[i]) +
			       (size_t)ed_profile_keep(&p, paths[i]) +
			       (size_t)ed_profile_format(&p, paths[i]);
		(void)sum;
	}
	ed_profile_release(&p);

	/* The same bytes as a sysctl key (up to the first NUL). */
	char *key = malloc(size + 1);
	if (key) {
		memcpy(key, data, size);
		key[size] = '\0';
		struct ed_buf canon = ED_BUF_INIT, rel = ED_BUF_INIT;
		ed_profile_sysctl_key(key, &canon, &rel, &err);
		ed_buf_release(&canon);
		ed_buf_release(&rel);
		free(key);
	}
	return 0;
}
