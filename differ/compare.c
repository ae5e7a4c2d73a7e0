/* SPDX-License-Identifier: MIT */
/*
 * What 'envdrift diff' and 'gate' ask, once, for the CLI and the web service
 * alike: resolve two sides, compare and judge them, render the report, vouch.
 */
#include <stdlib.h>

#include "ed/diff.h"
#include "ed/gate.h"
#include "ed/policy.h"
#include "ed/store.h"

enum ed_code ed_diff_compare(struct ed_store *st, const char *ref, const char *cand,
			     const struct ed_policy *pol, struct ed_drift *d, struct ed_err *err)
{
	struct ed_snapref *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	enum ed_code rc = ed_store_resolve_all(st, ref, &a, &na, err);
	if (!rc)
		rc = ed_store_resolve_all(st, cand, &b, &nb, err);
	if (!rc && na == 1 && nb == 1)
		rc = ed_diff_snapshots(st, a, b, pol, d, err); /* two hosts: whatever their roles */
	else if (!rc)
		rc = ed_diff_sides(st, a, na, b, nb, pol, d, err);
	if (!rc)
		rc = ed_policy_apply(pol, NULL, d, err);
	free(a);
	free(b);
	return rc;
}

enum ed_code ed_diff_render(FILE *out, struct ed_store *st, const struct ed_report_ops *report,
			    struct ed_drift *d, const struct ed_render_opts *opts,
			    struct ed_err *err)
{
	/*
	 * Kept texts are read as the renderer reaches each entry, never all at
	 * once, in one read transaction (not a lock taken and dropped for each).
	 */
	bool kept = report->kept_content || opts->diffs;
	enum ed_code rc;
	if (kept && (rc = ed_store_read_begin(st, err)))
		return rc;
	if (kept)
		ed_drift_kept_lazily(d, st, opts->show_ignored);
	rc = report->render(out, d, opts, err);
	if (kept) {
		ed_drift_kept_lazily(d, NULL, false);
		ed_store_read_end(st);
	}
	return rc;
}

enum ed_code ed_gate_vouch(struct ed_store *st, const char *prod, const char *stag,
			   const struct ed_policy *pol, long long max_age, long long now,
			   enum ed_code (*extra)(void *ctx, const struct ed_drift *d,
						 struct ed_err *err),
			   void *ctx, struct ed_drift *d, struct ed_err *err)
{
	enum ed_code rc;
	if ((rc = ed_diff_compare(st, prod, stag, pol, d, err)) ||
	    (rc = ed_gate_check_age(d->refs, d->nrefs, max_age, now, err)) ||
	    (rc = ed_gate_check_age(d->cands, d->ncands, max_age, now, err)) ||
	    (rc = ed_gate_check_last_run(st, d, err)) || (extra && (rc = extra(ctx, d, err))) ||
	    (rc = ed_gate_check_errors(st, pol, d, err)))
		return rc;
	return ED_OK;
}
