/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's verdicts, one per pair of environments: computed once per
 * (the snapshots of both sides, the policy's digest) and kept in memory (the
 * last ED_WEB_VERDICTS), so that viewing the overview runs no diff while no
 * snapshot arrived and the policy did not change. A pair resolves to the
 * latest complete snapshot of every host of each side (ed_store_resolve_all),
 * so a new snapshot is a new key: nothing is ever stale in the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/diff.h"
#include "ed/gate.h"
#include "ed/isotime.h"
#include "ed/policy.h"
#include "web_int.h"

/* The policy's digest: its file's bytes (the built-in default's text when none). */
static enum ed_code policy_digest(const struct ed_web *w, char *out, size_t cap,
				  struct ed_err *err)
{
	struct ed_buf b = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (ed_buf_adds(&b, ed_policy_default_text()) || ed_buf_addc(&b, '\0'))
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
	if (!rc && w->o->policy) {
		struct ed_buf f = ED_BUF_INIT;
		if ((rc = ed_buf_read_file(&f, "--policy", w->o->policy, 16 << 20, err)) == ED_OK &&
		    ed_buf_add(&b, f.p ? f.p : "", f.len))
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
		ed_buf_release(&f);
	}
	if (!rc && !ed_digest_hex("sha256", b.p, b.len, out, cap))
		rc = ed_err_set(err, ED_NOMEM, "cannot hash the policy");
	ed_buf_release(&b);
	return rc;
}

static int add_ids(struct ed_buf *b, const struct ed_snapref *v, size_t n, long long *oldest)
{
	int bad = 0;
	for (size_t i = 0; i < n && !bad; i++) {
		bad = ed_buf_addf(b, "%s%lld", i ? "," : "", (long long)v[i].id);
		time_t t;
		const char *at = v[i].finished_at[0] ? v[i].finished_at : v[i].started_at;
		if (ed_isotime_parse(at, strlen(at), &t) && (!*oldest || (long long)t < *oldest))
			*oldest = (long long)t;
	}
	return bad || ed_buf_addc(b, '|');
}

/* Computes the verdict (no key). */
static enum ed_code compute(struct ed_web *w, struct ed_store *st, const char *ref,
			    const char *cand, struct ed_web_verdict *v, struct ed_err *err)
{
	struct ed_policy pol = {0};
	struct ed_drift d = {0};
	struct ed_err why = {0};
	enum ed_code rc = ED_OK;
	v->compared = !ed_policy_load(w->o->policy, &pol, &why) &&
		      !ed_diff_compare(st, ref, cand, &pol, &d, &why);
	if (!v->compared || ed_gate_check_errors(st, &pol, &d, &why)) {
		if (why.code == ED_NOMEM)
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
		v->state = ED_VERDICT_CANNOT;
		ed_web_scrub(w, why.msg[0] ? why.msg : ed_code_str(why.code), v->reason,
			     sizeof(v->reason));
	} else {
		v->state = d.blocking ? ED_VERDICT_BLOCK : ED_VERDICT_PASS;
	}
	v->drift = d.added + d.removed + d.changed;
	v->blocking = d.blocking;
	v->warnings = d.warnings;
	v->infos = d.infos;
	v->ignored = d.ignored;
	ed_drift_release(&d);
	ed_policy_release(&pol);
	return rc;
}

enum ed_code ed_web_verdict(struct ed_web *w, struct ed_store *st, const char *ref,
			    const char *cand, struct ed_web_verdict *out, bool *cached,
			    struct ed_err *err)
{
	struct ed_snapref *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct ed_buf key = ED_BUF_INIT;
	struct ed_err why = {0};
	char digest[160];
	enum ed_code rc = ED_OK;
	memset(out, 0, sizeof(*out));
	*cached = false;
	if (ed_store_resolve_all(st, ref, &a, &na, &why) ||
	    ed_store_resolve_all(st, cand, &b, &nb, &why)) {
		/* Nothing to compare: cheap to find out again, so not cached. */
		if (why.code == ED_STORE || why.code == ED_NOMEM)
			rc = ed_err_set(err, why.code, "%s", why.msg);
		out->state = ED_VERDICT_CANNOT;
		ed_web_scrub(w, why.msg[0] ? why.msg : ed_code_str(why.code), out->reason,
			     sizeof(out->reason));
		goto done;
	}
	if ((rc = policy_digest(w, digest, sizeof(digest), err)))
		goto done;
	if (add_ids(&key, a, na, &out->oldest) || add_ids(&key, b, nb, &out->oldest) ||
	    ed_buf_adds(&key, digest)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto done;
	}
	long long oldest = out->oldest;
	pthread_mutex_lock(&w->verdict_lock);
	for (size_t i = 0; i < w->nverdicts; i++) {
		if (w->verdicts[i].key && strcmp(w->verdicts[i].key, ed_buf_str(&key)) == 0) {
			*out = w->verdicts[i];
			out->key = NULL;
			*cached = true;
			break;
		}
	}
	pthread_mutex_unlock(&w->verdict_lock);
	if (*cached)
		goto done;
	/* Two requests may compute the same verdict at once: both get it, one is kept. */
	if ((rc = compute(w, st, ref, cand, out, err)))
		goto done;
	out->oldest = oldest;
	pthread_mutex_lock(&w->verdict_lock);
	if (!w->verdicts)
		w->verdicts = calloc(ED_WEB_VERDICTS, sizeof(*w->verdicts));
	if (w->verdicts) {
		struct ed_web_verdict *slot = &w->verdicts[w->next_verdict];
		free(slot->key);
		*slot = *out;
		slot->key = ed_buf_detach(&key);
		w->next_verdict = (w->next_verdict + 1) % ED_WEB_VERDICTS;
		if (w->nverdicts < ED_WEB_VERDICTS)
			w->nverdicts++;
	}
	pthread_mutex_unlock(&w->verdict_lock);
done:
	ed_buf_release(&key);
	free(a);
	free(b);
	return rc;
}

void ed_web_verdicts_free(struct ed_web *w)
{
	for (size_t i = 0; w->verdicts && i < ED_WEB_VERDICTS; i++)
		free(w->verdicts[i].key);
	free(w->verdicts);
	w->verdicts = NULL;
	w->nverdicts = 0;
}

bool ed_web_split_pair(const char *s, char *ref, char *cand, size_t cap)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= cap ||
	    strlen(colon + 1) >= cap)
		return false;
	snprintf(ref, cap, "%.*s", (int)(colon - s), s);
	snprintf(cand, cap, "%s", colon + 1);
	return true;
}
