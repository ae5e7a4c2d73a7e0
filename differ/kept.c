/* SPDX-License-Identifier: MIT */
/*
 * Kept content for the reports that show unified diffs: read from the store
 * by the command before rendering and attached to the drift entries, so the
 * renderers never read the store.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"

/* Kept content larger than this is not read back (the profile caps it at 16 MiB). */
#define KEPT_MAX_BYTES (64u << 20)

/*
 * A file whose content changed: a diff may show its kept texts. Kept text is
 * masked when collected (a file that held a secret is keyed but its masked
 * text is kept); a file secret by name has none, and then nothing is said.
 */
static bool shows_diff(const struct ed_drift_entry *e)
{
	return strcmp(e->kind, ED_KIND_FILE) == 0 && e->change == ED_CHANGED &&
	       (e->fields & ED_F_CONTENT);
}

/* One side's kept text; running out of memory is the only error. */
static enum ed_code fetch(struct ed_store *st, const struct ed_fp *fp, enum ed_kept_state *state,
			  char **text, size_t *len, struct ed_err *err)
{
	bool kept = false;
	struct ed_err e;
	enum ed_code rc = ed_store_content(st, fp, KEPT_MAX_BYTES, &kept, text, len, &e);
	if (rc == ED_NOMEM)
		return ed_err_set(err, ED_NOMEM, "out of memory reading kept content");
	*state = rc ? ED_KEPT_UNREADABLE : kept ? ED_KEPT_TEXT : ED_KEPT_NONE;
	return ED_OK;
}

void ed_kept_free(struct ed_kept *k)
{
	if (!k)
		return;
	free(k->ref);
	free(k->cand);
	free(k);
}

enum ed_code ed_drift_kept_fetch(struct ed_store *st, const struct ed_drift_entry *e,
				 struct ed_kept **out, struct ed_err *err)
{
	*out = NULL;
	if (!shows_diff(e))
		return ED_OK;
	struct ed_kept *k = calloc(1, sizeof(*k));
	if (!k)
		return ed_err_set(err, ED_NOMEM, "out of memory reading kept content");
	enum ed_code rc = fetch(st, &e->ref.fp, &k->ref_state, &k->ref, &k->ref_len, err);
	if (!rc && k->ref_state == ED_KEPT_UNREADABLE)
		k->cand_state = ED_KEPT_UNREADABLE;
	else if (!rc)
		rc = fetch(st, &e->cand.fp, &k->cand_state, &k->cand, &k->cand_len, err);
	if (rc) {
		ed_kept_free(k);
		return rc;
	}
	if (k->ref_state != ED_KEPT_TEXT || k->cand_state != ED_KEPT_TEXT) {
		/* No diff without both texts: only the states are shown, and
		   for a secret file not even those. */
		free(k->ref);
		free(k->cand);
		k->ref = k->cand = NULL;
		k->ref_len = k->cand_len = 0;
		if (ed_side_secret(&e->ref) || ed_side_secret(&e->cand)) {
			free(k);
			k = NULL;
		}
	}
	*out = k;
	return ED_OK;
}

static enum ed_code attach_all(struct ed_store *st, struct ed_drift *d, bool show_ignored,
				struct ed_err *err)
{
	for (size_t i = 0; i < d->n; i++) {
		struct ed_drift_entry *e = &d->v[i];
		if ((e->ignored && !show_ignored) || e->kept)
			continue;
		enum ed_code rc = ed_drift_kept_fetch(st, e, &e->kept, err);
		if (rc)
			return rc;
	}
	return ED_OK;
}

void ed_drift_kept_lazily(struct ed_drift *d, struct ed_store *st, bool show_ignored)
{
	d->kept_from = st;
	d->kept_ignored = show_ignored;
}

enum ed_code ed_drift_attach_kept(struct ed_store *st, struct ed_drift *d, bool show_ignored,
				  struct ed_err *err)
{
	/* A spilled drift is not held in memory, nor are its kept texts. */
	if (d->spill) {
		ed_drift_kept_lazily(d, st, show_ignored);
		return ED_OK;
	}
	/* One read transaction for every lookup, not one each (a lock taken and dropped). */
	enum ed_code rc = ed_store_read_begin(st, err);
	if (rc)
		return rc;
	rc = attach_all(st, d, show_ignored, err);
	ed_store_read_end(st);
	return rc;
}
