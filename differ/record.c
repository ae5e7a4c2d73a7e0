/* SPDX-License-Identifier: MIT */
/* Recording a drift as a run in the store: its entries as the store's neutral rows. */
#include <stdlib.h>

#include "ed/diff.h"

/* Entry i of the drift as a run's row. */
static enum ed_code row_at(void *ctx, size_t i, struct ed_run_row *out, struct ed_err *err)
{
	struct ed_drift_reader *r = ctx;
	const struct ed_drift_entry *e = ed_drift_at(r, i);
	*out = (struct ed_run_row){
		.role = e->role ? e->role : "",
		.kind = e->kind,
		.key = e->key,
		.key_len = e->key_len,
		.change = ed_change_name(e->change),
		.severity = e->severity,
		.ignored = e->ignored,
	};
	return ed_drift_reader_failed(r, err);
}

enum ed_code ed_drift_record(struct ed_store *st, const char *command, const char *at,
			     const struct ed_drift *d, int64_t *run_id, struct ed_err *err)
{
	struct ed_drift_reader r;
	ed_drift_reader_init(&r, d, false);
	struct ed_run run = {
		.command = command,
		.at = at,
		.reference_env = d->ref.env,
		.candidate_env = d->cand.env,
		.refs = d->nrefs ? d->refs : &d->ref,
		.nrefs = d->nrefs ? d->nrefs : 1,
		.cands = d->ncands ? d->cands : &d->cand,
		.ncands = d->ncands ? d->ncands : 1,
		.added = d->added,
		.removed = d->removed,
		.changed = d->changed,
		.ignored = d->ignored,
		.blocking = d->blocking,
		.policy = d->policy,
		.nrows = d->n,
		.row_at = row_at,
		.row_ctx = &r,
	};
	enum ed_code rc = ed_store_record_run(st, &run, run_id, err);
	ed_drift_reader_release(&r);
	return rc;
}
