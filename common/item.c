/* SPDX-License-Identifier: MIT */
/* File type names and sink helpers. */
#include <stdio.h>
#include <string.h>

#include "ed/item.h"

static const char *const ftype_names[] = {
	[ED_FT_NONE] = NULL,     [ED_FT_REG] = "file",  [ED_FT_DIR] = "dir",
	[ED_FT_LINK] = "symlink", [ED_FT_FIFO] = "fifo", [ED_FT_SOCK] = "socket",
	[ED_FT_CHR] = "char",    [ED_FT_BLK] = "block", [ED_FT_OTHER] = "other",
};

const char *ed_ftype_name(enum ed_ftype t)
{
	if ((size_t)t >= sizeof(ftype_names) / sizeof(ftype_names[0]))
		return NULL;
	return ftype_names[t];
}

enum ed_ftype ed_ftype_parse(const char *name)
{
	if (!name)
		return ED_FT_NONE;
	for (size_t i = 1; i < sizeof(ftype_names) / sizeof(ftype_names[0]); i++)
		if (strcmp(ftype_names[i], name) == 0)
			return (enum ed_ftype)i;
	return ED_FT_NONE;
}

void ed_sink_warn(struct ed_sink *sink, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (sink->warn)
		sink->warn(sink, msg);
}

void ed_sink_vwarn_capped(struct ed_sink *sink, size_t *count, size_t max, const char *where,
			  bool prefixed, const char *fmt, va_list ap)
{
	char msg[1024];
	if (*count > max)
		return;
	if ((*count)++ == max) {
		ed_sink_warn(sink, "%s: too many problems, further warnings suppressed", where);
		return;
	}
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	if (prefixed)
		ed_sink_warn(sink, "%s: %s", where, msg);
	else
		ed_sink_warn(sink, "%s", msg);
}
