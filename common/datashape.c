/* SPDX-License-Identifier: MIT */
/* Data shapes (kind "data"): to and from the JSON text items hold. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "ed/datashape.h"
#include "ed/hash.h"
#include "ed/snapdoc.h"

void ed_data_shape_init(struct ed_data_shape *s, bool table)
{
	*s = (struct ed_data_shape){.table = table,
				    .rows = NAN,
				    .bytes = NAN,
				    .sampled = NAN,
				    .null_frac = NAN,
				    .distinct = NAN,
				    .distinct_values = NAN,
				    .width = NAN,
				    .correlation = NAN};
}

/* The members, in the order they are written. */
enum mtype { M_COUNT, M_FRAC };
static const struct member {
	const char *name;
	size_t off;
	enum mtype type;
} members[] = {
	{"rows", offsetof(struct ed_data_shape, rows), M_COUNT},
	{"bytes", offsetof(struct ed_data_shape, bytes), M_COUNT},
	{"sampled", offsetof(struct ed_data_shape, sampled), M_COUNT},
	{"null_frac", offsetof(struct ed_data_shape, null_frac), M_FRAC},
	{"distinct", offsetof(struct ed_data_shape, distinct), M_FRAC},
	{"distinct_values", offsetof(struct ed_data_shape, distinct_values), M_COUNT},
	{"width", offsetof(struct ed_data_shape, width), M_COUNT},
	{"correlation", offsetof(struct ed_data_shape, correlation), M_FRAC},
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

static double *num(struct ed_data_shape *s, size_t i)
{
	return (double *)(void *)((char *)s + members[i].off);
}

int ed_data_shape_format(const struct ed_data_shape *s, struct ed_buf *out)
{
	struct ed_data_shape c = *s;
	size_t start = out->len;
	bool first = true;
	int bad = ed_buf_addc(out, '{');
	if (c.stats_missing) {
		bad |= ed_buf_adds(out, "\"stats\":\"missing\"");
		first = false;
	}
	for (size_t i = 0; i < NMEMBERS && !bad; i++) {
		double v = *num(&c, i);
		if (isnan(v) || isinf(v))
			continue;
		bad |= ed_buf_addf(out, "%s\"%s\":", first ? "" : ",", members[i].name);
		if (members[i].type == M_COUNT)
			bad |= ed_buf_addf(out, "%.0f", v < 0 ? 0 : v);
		else
			bad |= ed_buf_addf(out, "%.4g", v == 0 ? 0.0 : v); /* never "-0" */
		first = false;
		if (i == 0 && c.estimated)
			bad |= ed_buf_adds(out, ",\"estimated\":true");
	}
	bad |= ed_buf_addc(out, '}');
	if (bad) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
		return -1;
	}
	return 0;
}

bool ed_data_shape_parse(const char *value, bool table, struct ed_data_shape *s)
{
	return ed_data_shape_read(value, table, s) == 0;
}

/*
 * json_loads() of text from the store; *oom tells a failure for want of memory
 * from text that is not JSON. jansson 2.14 cannot be trusted to say which: an
 * allocation failure in its lexer comes back as "invalid token"
 * (json_error_invalid_syntax), and some set no error at all. So text that
 * fails is parsed once more: text that is not JSON fails again with a message,
 * an allocation that failed once most likely succeeds; a second failure
 * without a message, or for want of memory, is out of memory.
 */
json_t *ed_json_load(const char *text, size_t flags, bool *oom)
{
	json_error_t jerr;
	memset(&jerr, 0, sizeof(jerr));
	json_t *j = ed_json_loadb(text, strlen(text), flags, &jerr);
	if (!j) {
		memset(&jerr, 0, sizeof(jerr));
		j = ed_json_loadb(text, strlen(text), flags, &jerr);
	}
	*oom = !j && (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0]);
	return j;
}

int ed_data_shape_read(const char *value, bool table, struct ed_data_shape *s)
{
	ed_data_shape_init(s, table);
	if (!value)
		return 1;
	bool oom;
	json_t *o = ed_json_load(value, JSON_REJECT_DUPLICATES, &oom);
	if (oom)
		return -1;
	bool good = json_is_object(o);
	const char *k;
	json_t *v;
	if (good) {
		json_object_foreach(o, k, v) {
			if (strcmp(k, "stats") == 0) {
				s->stats_missing = json_is_string(v) &&
						   strcmp(json_string_value(v), "missing") == 0;
				continue;
			}
			if (strcmp(k, "estimated") == 0) {
				s->estimated = json_is_true(v);
				continue;
			}
			for (size_t i = 0; i < NMEMBERS; i++)
				if (strcmp(k, members[i].name) == 0 && json_is_number(v))
					*num(s, i) = json_number_value(v);
		}
	}
	json_decref(o);
	return good ? 0 : 1;
}

const char *ed_data_key_object(const char *key, bool *table)
{
	const char *slash = key ? strchr(key, '/') : NULL;
	if (!slash)
		return NULL;
	if (strncmp(slash, "/table/", 7) == 0) {
		*table = true;
		return slash + 7;
	}
	if (strncmp(slash, "/column/", 8) == 0) {
		*table = false;
		return slash + 8;
	}
	return NULL;
}

enum ed_code ed_data_emit(struct ed_sink *sink, const char *engine, const char *label,
			  const char *object, const struct ed_data_shape *s, struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT, val = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (ed_buf_addf(&key, "%s:%s/%s/%s", engine, label, s->table ? "table" : "column",
			object) ||
	    ed_data_shape_format(s, &val)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	struct ed_item it;
	memset(&it, 0, sizeof(it));
	it.kind = ED_KIND_DATA;
	it.key = key.p;
	it.key_len = key.len;
	it.value = val.p;
	ed_fp_of(val.p, val.len, &it.fp);
	it.ftype = ED_FT_NONE;
	rc = sink->emit(sink, &it, err);
out:
	ed_buf_release(&key);
	ed_buf_release(&val);
	return rc;
}
