/* SPDX-License-Identifier: MIT */
/* What several report renderers share (report_common.h). */
#include "report_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[ED_NKINDS] = {ED_KIND_ACCOUNT, ED_KIND_CONFIG, ED_KIND_FILE,
					     ED_KIND_PACKAGE, ED_KIND_SCHEMA, ED_KIND_SYSTEM};

bool ed_drift_same_env(const struct ed_drift *d)
{
	return strcmp(d->ref.env, d->cand.env) == 0;
}

bool ed_entry_blocks(const struct ed_drift_entry *e)
{
	return !e->severity || strcmp(e->severity, "block") == 0;
}

static int cmp_kind(const void *a, const void *b)
{
	return strcmp(((const struct ed_kstat *)a)->kind, ((const struct ed_kstat *)b)->kind);
}

enum ed_code ed_kind_stats(const struct ed_drift *d, bool show_ignored, struct ed_kstat **out,
			   size_t *nkinds, struct ed_err *err)
{
	size_t nk = 0, cap = ED_NKINDS + 4;
	struct ed_kstat *ks = calloc(cap, sizeof(*ks));
	struct ed_drift_reader r;
	enum ed_code rc = ED_OK;
	ed_drift_reader_init(&r, d, false);
	*out = NULL;
	*nkinds = 0;
	if (!ks)
		return ed_err_set(err, ED_NOMEM, "out of memory writing the report");
	for (size_t i = 0; i < ED_NKINDS + d->n; i++) {
		const struct ed_drift_entry *e = i < ED_NKINDS ? NULL : ed_drift_at(&r, i - ED_NKINDS);
		const char *kind = e ? e->kind : kinds[i];
		size_t k = 0;
		while (k < nk && strcmp(ks[k].kind, kind) != 0)
			k++;
		if (k == nk) {
			if (nk == cap) {
				struct ed_kstat *v = realloc(ks, 2 * cap * sizeof(*ks));
				if (!v)
					goto nomem;
				ks = v;
				cap *= 2;
			}
			memset(&ks[nk], 0, sizeof(ks[nk]));
			if (e && !(ks[nk].owned = strdup(kind)))
				goto nomem;
			ks[nk].kind = e ? ks[nk].owned : kind;
			nk++;
		}
		if (!e)
			continue;
		struct ed_kstat *s = &ks[k];
		if (e->ignored) {
			s->ignored++;
			s->listed += show_ignored;
			continue;
		}
		s->listed++;
		s->added += e->change == ED_ADDED;
		s->removed += e->change == ED_REMOVED;
		s->changed += e->change == ED_CHANGED;
		if (ed_entry_blocks(e))
			s->blocking++;
		else if (strcmp(e->severity, "warn") == 0)
			s->warnings++;
		else
			s->infos++;
	}
	if ((rc = ed_drift_reader_failed(&r, err)))
		goto fail;
	ed_drift_reader_release(&r);
	qsort(ks, nk, sizeof(*ks), cmp_kind);
	*out = ks;
	*nkinds = nk;
	return ED_OK;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
fail:
	ed_drift_reader_release(&r);
	ed_kind_stats_free(ks, nk);
	return rc;
}

void ed_kind_stats_free(struct ed_kstat *ks, size_t nk)
{
	for (size_t k = 0; ks && k < nk; k++)
		free(ks[k].owned);
	free(ks);
}

struct ed_kstat ed_kind_total(const struct ed_drift *d, const struct ed_kstat *ks, size_t nk)
{
	struct ed_kstat tot = {.kind = "total"};
	for (size_t k = 0; k < nk; k++) {
		tot.added += ks[k].added;
		tot.removed += ks[k].removed;
		tot.changed += ks[k].changed;
		tot.blocking += ks[k].blocking;
		tot.warnings += ks[k].warnings;
		tot.infos += ks[k].infos;
		tot.ignored += ks[k].ignored;
		tot.listed += ks[k].listed;
	}
	/* Ignored drift the differ counted without keeping an entry still counts. */
	if (d->ignored > tot.ignored)
		tot.ignored = d->ignored;
	return tot;
}

json_t *ed_json_bytes(const char *s, size_t len, bool *escaped)
{
	*escaped = !ed_utf8_valid(s, len);
	if (!*escaped)
		return json_stringn(s, len);
	struct ed_buf b = ED_BUF_INIT;
	json_t *j = NULL;
	if (ed_buf_add_utf8_escaped(&b, s, len) == 0)
		j = json_stringn(ed_buf_str(&b), b.len);
	ed_buf_release(&b);
	return j;
}

/* How many hosts of a side are in one role ("" for hosts without one). */
struct role_count {
	const char *role; /* borrowed from the snapshots */
	size_t hosts;
};

static int by_hosts(const void *a, const void *b)
{
	const struct role_count *x = a, *y = b;
	if (x->hosts != y->hosts)
		return x->hosts < y->hosts ? 1 : -1;
	return strcmp(x->role, y->role);
}

int ed_side_roles(const struct ed_snapref *v, size_t n,
		  void (*put)(void *ctx, const char *s, bool foreign), void *ctx)
{
	struct role_count *rc = malloc(n * sizeof(*rc));
	if (!rc)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < k && strcmp(rc[j].role, v[i].role) != 0)
			j++;
		if (j == k)
			rc[k++] = (struct role_count){.role = v[i].role, .hosts = 0};
		rc[j].hosts++;
	}
	qsort(rc, k, sizeof(*rc), by_hosts);
	char num[64];
	snprintf(num, sizeof(num), "%zu hosts", n);
	put(ctx, num, false);
	if (k == 1 && !*rc[0].role) {
		put(ctx, ", no role", false);
	} else {
		snprintf(num, sizeof(num), " in %zu role%s:", k, k == 1 ? "" : "s");
		put(ctx, num, false);
		for (size_t i = 0; i < k; i++) {
			put(ctx, i ? ", " : " ", false);
			put(ctx, *rc[i].role ? rc[i].role : "no role", *rc[i].role != 0);
			snprintf(num, sizeof(num), " %zu", rc[i].hosts);
			put(ctx, num, false);
		}
	}
	free(rc);
	return 0;
}
