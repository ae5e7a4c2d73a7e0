/* SPDX-License-Identifier: MIT */
/* A sink for unit tests that keeps copies of every item and warning. */
#include <stdlib.h>
#include <string.h>

#include "sink_mem.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static enum ed_code mem_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct mem_sink *ms = (struct mem_sink *)sink;
	if (ms->fail_after && ms->n + 1 >= ms->fail_after)
		return ed_err_set(err, ED_STORE, "test sink refuses item %zu", ms->n + 1);
	struct mem_item *v = realloc(ms->items, (ms->n + 1) * sizeof(*v));
	if (!v)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	ms->items = v;
	struct mem_item *m = &v[ms->n++];
	memset(m, 0, sizeof(*m));
	strncpy(m->kind, it->kind, sizeof(m->kind) - 1);
	m->key = strndup(it->key, it->key_len);
	m->fp = it->fp;
	m->value = dup_or_null(it->value);
	m->attrs = dup_or_null(it->attrs);
	m->error = dup_or_null(it->error);
	m->ftype = it->ftype;
	m->mode = it->mode;
	m->owner = dup_or_null(it->owner);
	m->group = dup_or_null(it->group);
	m->target = dup_or_null(it->target);
	m->size = it->size;
	return ED_OK;
}

static void mem_warn(struct ed_sink *sink, const char *msg)
{
	struct mem_sink *ms = (struct mem_sink *)sink;
	char **w = realloc(ms->warnings, (ms->nwarnings + 1) * sizeof(*w));
	if (!w)
		return;
	ms->warnings = w;
	w[ms->nwarnings++] = strdup(msg);
}

void mem_sink_init(struct mem_sink *ms)
{
	memset(ms, 0, sizeof(*ms));
	ms->sink.emit = mem_emit;
	ms->sink.warn = mem_warn;
	ms->sink.ctx = ms;
}

void mem_sink_release(struct mem_sink *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		struct mem_item *m = &ms->items[i];
		free(m->key);
		free(m->value);
		free(m->attrs);
		free(m->error);
		free(m->owner);
		free(m->group);
		free(m->target);
	}
	free(ms->items);
	for (size_t i = 0; i < ms->nwarnings; i++)
		free(ms->warnings[i]);
	free(ms->warnings);
	memset(ms, 0, sizeof(*ms));
}

const struct mem_item *mem_sink_find(const struct mem_sink *ms, const char *key)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->items[i].key, key) == 0)
			return &ms->items[i];
	return NULL;
}

int mem_sink_warned(const struct mem_sink *ms, const char *needle)
{
	for (size_t i = 0; i < ms->nwarnings; i++)
		if (ms->warnings[i] && strstr(ms->warnings[i], needle))
			return 1;
	return 0;
}
