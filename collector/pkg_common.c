/* SPDX-License-Identifier: MIT */
/* What the package parsers share (pkg_common.h). */
#include "pkg_common.h"

#include <stdlib.h>
#include <string.h>

enum ed_code ed_pkg_emit(struct ed_sink *sink, const char *origin, const char *key,
			 size_t key_len, const char *value, const void *fpin, size_t fpin_len,
			 json_t *attrs, struct ed_err *err)
{
	char *text = attrs ? json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(attrs);
	if (!text)
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", origin);
	struct ed_item it = {
		.kind = ED_KIND_PACKAGE,
		.key = key,
		.key_len = key_len,
		.value = value,
		.attrs = text,
		.ftype = ED_FT_NONE,
	};
	ed_fp_of(fpin, fpin_len, &it.fp);
	enum ed_code rc = sink->emit(sink, &it, err);
	free(text); /* json_dumps: the caller frees with free() */
	return rc;
}

struct ed_str ed_pkg_trim(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return ed_str_of(s, len);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool ed_pkg_name_is(const char *s, size_t len, const char *name)
{
	if (len != strlen(name))
		return false;
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(s[i]) != ascii_lower(name[i]))
			return false;
	return true;
}
