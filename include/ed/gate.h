/* SPDX-License-Identifier: MIT */
/*
 * The gate's reasons not to vouch for a candidate beyond its drift: stale
 * snapshots, missing hosts, items that could not be collected. Each check
 * returns ED_OK when it finds no reason, else an error naming the first one;
 * the CLI's gate and the web service ask the same questions.
 */
#ifndef ED_GATE_H
#define ED_GATE_H

#include <stddef.h>

#include "ed/diff.h"
#include "ed/err.h"
#include "ed/store.h"

struct ed_policy; /* ed/policy.h */

/*
 * ED_NOTFOUND when a snapshot of v (n of them) finished, or for want of a
 * finish time started, more than max_age seconds before now (seconds since
 * the epoch), or at a time that cannot be read. max_age <= 0 accepts any age.
 */
enum ed_code ed_gate_check_age(const struct ed_snapref *v, size_t n, long long max_age,
			       long long now, struct ed_err *err);

/*
 * ED_NOTFOUND when one of hosts (nhosts names: what the inventory file
 * inventory, named in the message, lists for environment env) has no
 * snapshot among v (n of them, env's snapshots compared).
 */
enum ed_code ed_gate_check_inventory(const char *inventory, const char *env, char *const *hosts,
				     size_t nhosts, const struct ed_snapref *v, size_t n,
				     struct ed_err *err);

/*
 * ED_NOTFOUND when a host whose snapshot the last recorded run of d's pair
 * of environments compared has none in d now. A store whose runs cannot be
 * read gives no reason.
 */
enum ed_code ed_gate_check_last_run(struct ed_store *st, const struct ed_drift *d,
				    struct ed_err *err);

/*
 * ED_IO when an item of d's snapshots could not be collected (an unreadable
 * file, a package database that failed) and pol says its drift blocks: the
 * gate cannot vouch for what it could not see. At most 10,000 such items
 * per snapshot are judged; a store or a policy that fails here gives no
 * reason.
 */
enum ed_code ed_gate_check_errors(struct ed_store *st, const struct ed_policy *pol,
				  const struct ed_drift *d, struct ed_err *err);

/*
 * The gate's whole question (the CLI's 'gate' and GET /api/v1/gate):
 * ed_diff_compare(prod, stag), then the ages of both sides (max_age seconds
 * before now), the hosts of the last recorded run, extra (may be NULL: a
 * check of the caller's, such as an inventory file) and the items that
 * could not be collected. ED_OK: d holds the judged drift, and the gate
 * passes unless d->blocking. Any error: it cannot vouch, err says why.
 */
enum ed_code ed_gate_vouch(struct ed_store *st, const char *prod, const char *stag,
			   const struct ed_policy *pol, long long max_age, long long now,
			   enum ed_code (*extra)(void *ctx, const struct ed_drift *d,
						 struct ed_err *err),
			   void *ctx, struct ed_drift *d, struct ed_err *err);

#endif
