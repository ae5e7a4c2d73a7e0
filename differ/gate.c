/* SPDX-License-Identifier: MIT */
/* The gate's reasons not to vouch beyond the drift: stale snapshots, missing hosts, errors. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/gate.h"
#include "ed/isotime.h"
#include "ed/policy.h"
#include "ed/snapdoc.h"

enum ed_code ed_gate_check_age(const struct ed_snapref *v, size_t n, long long max_age,
			       long long now, struct ed_err *err)
{
	for (size_t i = 0; i < n && max_age > 0; i++) {
		const char *at = v[i].finished_at[0] ? v[i].finished_at : v[i].started_at;
		time_t t;
		if (!ed_isotime_parse(at, strlen(at), &t) || now - (long long)t > max_age)
			return ed_err_set(err, ED_NOTFOUND,
					  "snapshot @%lld of %s/%s finished at %s, more than --max-age "
					  "%llds ago; collect it again",
					  (long long)v[i].id, v[i].env, v[i].host, v[i].finished_at,
					  max_age);
		/* A snapshot from the future says nothing about its age. */
		if (t - now > ED_SNAPDOC_MAX_SKEW)
			return ed_err_set(err, ED_PARSE,
					  "snapshot @%lld of %s/%s is dated %s, in the future: a "
					  "clock is wrong; collect it again",
					  (long long)v[i].id, v[i].env, v[i].host,
					  v[i].finished_at[0] ? v[i].finished_at : v[i].started_at);
	}
	return ED_OK;
}

/* Whether v (n snapshots) holds one of host. */
static bool has_host(const struct ed_snapref *v, size_t n, const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].host, host) == 0)
			return true;
	return false;
}

enum ed_code ed_gate_check_inventory(const char *inventory, const char *env, char *const *hosts,
				     size_t nhosts, const struct ed_snapref *v, size_t n,
				     struct ed_err *err)
{
	for (size_t i = 0; i < nhosts; i++)
		if (!has_host(v, n, hosts[i]))
			return ed_err_set(err, ED_NOTFOUND,
					  "host %s of %s is in the inventory %s but has no complete "
					  "snapshot",
					  hosts[i], env, inventory);
	return ED_OK;
}

enum ed_code ed_gate_check_last_run(struct ed_store *st, const struct ed_drift *d,
				    struct ed_err *err)
{
	struct ed_run_host *prev = NULL;
	size_t n = 0;
	struct ed_err ignored;
	enum ed_code rc = ED_OK;
	if (ed_store_last_run_hosts(st, d->ref.env, d->cand.env, &prev, &n, &ignored))
		return ED_OK; /* no runs to read: nothing to check */
	for (size_t i = 0; i < n && !rc; i++) {
		const struct ed_run_host *h = &prev[i];
		bool ref = strcmp(h->env, d->ref.env) == 0;
		if (ref ? !has_host(d->refs, d->nrefs, h->host) : !has_host(d->cands, d->ncands, h->host))
			rc = ed_err_set(err, ED_NOTFOUND,
					"host %s of %s was in the previous recorded run (#%lld) but has "
					"no complete snapshot now",
					h->host[0] ? h->host : "?", h->env[0] ? h->env : "?",
					(long long)h->run_id);
	}
	free(prev);
	return rc;
}

/* The items that could not be collected, as drift entries that the policy judges. */
struct errors {
	struct ed_drift tmp;
	const struct ed_snapref **hostref; /* the snapshot of each entry of tmp */
	const struct ed_snapref *host;     /* the snapshot being read */
};

static enum ed_code add_error(void *ctx, const struct ed_item_error *ie, struct ed_err *err)
{
	struct errors *x = ctx;
	struct ed_drift *tmp = &x->tmp;
	if (tmp->n == tmp->cap) {
		size_t ncap = tmp->cap ? 2 * tmp->cap : 16;
		struct ed_drift_entry *v = realloc(tmp->v, ncap * sizeof(*v));
		if (v)
			tmp->v = v;
		const struct ed_snapref **h = realloc(x->hostref, ncap * sizeof(*h));
		if (h)
			x->hostref = h;
		if (!v || !h)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		tmp->cap = ncap;
	}
	struct ed_drift_entry *e = &tmp->v[tmp->n];
	memset(e, 0, sizeof(*e));
	x->hostref[tmp->n] = x->host;
	tmp->n++;
	e->kind = strdup(ie->kind);
	e->key_len = ie->key_len;
	e->key = ed_strndup(ie->key, ie->key_len);
	e->change = ED_CHANGED;
	e->fields = ED_F_ERROR;
	e->severity = "block";
	e->rule = strdup("collection error");
	e->cand.present = e->ref.present = true;
	e->cand.error = strdup(ie->error);
	if (!e->kind || !e->key || !e->rule || !e->cand.error)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}

enum ed_code ed_gate_check_errors(struct ed_store *st, const struct ed_policy *pol,
				  const struct ed_drift *d, struct ed_err *err)
{
	struct errors x = {0};
	struct ed_err ignored;
	enum ed_code rc = ED_OK;
	const struct ed_snapref *sides[2] = {d->refs, d->cands};
	size_t ns[2] = {d->nrefs, d->ncands};
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < ns[k]; i++) {
			x.host = &sides[k][i];
			if (ed_store_item_errors(st, x.host, 10000, add_error, &x, &ignored))
				goto out;
		}
	}
	if (x.tmp.n == 0 || ed_policy_apply(pol, NULL, &x.tmp, &ignored) != ED_OK)
		goto out;
	for (size_t i = 0; i < x.tmp.n; i++) {
		const struct ed_drift_entry *e = &x.tmp.v[i];
		if (e->ignored || strcmp(e->severity, "block") != 0)
			continue;
		rc = ed_err_set(err, ED_IO,
				"%zu item%s could not be collected and would block, first %s %s on "
				"%s/%s: %s",
				x.tmp.blocking, x.tmp.blocking == 1 ? "" : "s", e->kind, e->key,
				x.hostref[i]->env, x.hostref[i]->host, e->cand.error);
		break;
	}
out:
	free(x.hostref);
	ed_drift_release(&x.tmp);
	return rc;
}
