/* SPDX-License-Identifier: MIT */
/* Drift counted per kind (kstat.h). */
#include "kstat.h"

#include <stdlib.h>
#include <string.h>

static const char *const kinds[ED_NKINDS] = {ED_KIND_CONFIG, ED_KIND_FILE, ED_KIND_PACKAGE,
					     ED_KIND_SCHEMA, ED_KIND_SYSTEM};

bool ed_entry_blocks(const struct ed_drift_entry *e)
{
	return !e->severity || strcmp(e->severity, "block") == 0;
}

static int cmp_kind(const void *a, const void *b)
{
	return strcmp(((const struct ed_kstat *)a)->kind, ((const struct ed_kstat *)b)->kind);
}

size_t ed_kind_stats(const struct ed_drift *d, bool show_ignored, struct ed_kstat *ks)
{
	size_t nk = 0;
	for (size_t i = 0; i < ED_NKINDS + d->n; i++) {
		const char *kind = i < ED_NKINDS ? kinds[i] : d->v[i - ED_NKINDS].kind;
		size_t k = 0;
		while (k < nk && strcmp(ks[k].kind, kind) != 0)
			k++;
		if (k == nk) {
			memset(&ks[nk], 0, sizeof(ks[nk]));
			ks[nk++].kind = kind;
		}
		if (i < ED_NKINDS)
			continue;
		struct ed_kstat *s = &ks[k];
		const struct ed_drift_entry *e = &d->v[i - ED_NKINDS];
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
	qsort(ks, nk, sizeof(*ks), cmp_kind);
	return nk;
}
