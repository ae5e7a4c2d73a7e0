/* SPDX-License-Identifier: MIT */
/*
 * The verdicts of the overview and /metrics, one per pair of environments.
 * A verdict is the gate's (ed_gate_vouch, any age: staleness is shown at
 * view time) on one basis: the snapshot ids of both sides (the latest
 * complete snapshot of every host: ed_store_resolve_all), the last recorded
 * run of the pair and the policy's digest. A new snapshot, run or policy is
 * a new basis, so a kept verdict is never stale.
 *
 * Verdicts are kept in the store (verdict_cache, through the one writer),
 * so they survive a restart. The worker thread computes them: at once when a
 * push is stored (ed_web_verdicts_poke), and within a second of any other
 * change (a 'collect' or 'gate' from the command line). A request finds its
 * verdict kept and runs no diff; only one that comes before the worker (a
 * change less than a second old) computes it, under the same lock.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/diff.h"
#include "ed/gate.h"
#include "ed/hash.h"
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
	if (!rc) {
		/*
		 * XXH3-128, not SHA-256: the basis only has to change when the
		 * policy does (nobody gains by making two policies collide), and
		 * libcrypto's first digest loads its configuration and providers,
		 * about 2 MiB of an idle server's memory.
		 */
		struct ed_fp fp;
		char hex[2 * ED_FP_LEN + 1];
		ed_fp_of(b.p, b.len, &fp);
		ed_fp_hex(&fp, hex);
		if (snprintf(out, cap, "xxh3:%s", hex) >= (int)cap)
			rc = ed_err_set(err, ED_NOMEM, "policy digest: buffer too small");
	}
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

static const char *const state_names[] = {"pass", "fail", "cannot-vouch"};

/* Computes the verdict on the store (the gate's question, any age) into *v. */
static enum ed_code compute(struct ed_web *w, struct ed_store *st, const char *ref,
			    const char *cand, struct ed_web_verdict *v, struct ed_err *err)
{
	struct ed_policy pol = {0};
	struct ed_drift d = {0};
	struct ed_err why = {0};
	enum ed_code rc = ED_OK;
	bool loaded = !ed_policy_load(w->o->policy, &pol, &why);
	enum ed_code vrc = loaded ? ed_gate_vouch(st, ref, cand, &pol, 0, (long long)time(NULL),
						  NULL, NULL, &d, &why)
				  : why.code;
	v->compared = loaded && d.nrefs && d.ncands; /* compared, whatever the gate said then */
	if (vrc) {
		if (why.code == ED_NOMEM || why.code == ED_STORE)
			rc = ed_err_set(err, why.code, "%s", why.msg);
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

static void from_row(const struct ed_cached_verdict *c, struct ed_web_verdict *v)
{
	v->state = strcmp(c->state, "pass") == 0   ? ED_VERDICT_PASS
		   : strcmp(c->state, "fail") == 0 ? ED_VERDICT_BLOCK
						   : ED_VERDICT_CANNOT;
	snprintf(v->reason, sizeof(v->reason), "%s", c->reason);
	v->compared = c->compared;
	v->drift = (size_t)c->drift;
	v->blocking = (size_t)c->blocking;
	v->warnings = (size_t)c->warnings;
	v->infos = (size_t)c->infos;
	v->ignored = (size_t)c->ignored;
}

static void to_row(const struct ed_web_verdict *v, struct ed_cached_verdict *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state, sizeof(c->state), "%s", state_names[v->state]);
	snprintf(c->reason, sizeof(c->reason), "%s", v->reason);
	c->compared = v->compared;
	c->drift = (int64_t)v->drift;
	c->blocking = (int64_t)v->blocking;
	c->warnings = (int64_t)v->warnings;
	c->infos = (int64_t)v->infos;
	c->ignored = (int64_t)v->ignored;
}

/* The verdict of ref against cand; worker: whether the worker asks (it counts who computed). */
static enum ed_code verdict(struct ed_web *w, struct ed_store *st, const char *ref,
			    const char *cand, bool worker, struct ed_web_verdict *out, bool *cached,
			    struct ed_err *err)
{
	struct ed_snapref *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct ed_buf basis = ED_BUF_INIT;
	struct ed_err why = {0};
	struct ed_cached_verdict row;
	char digest[160];
	int64_t run = 0;
	long long oldest = 0;
	bool found = false;
	enum ed_code rc = ED_OK;
	memset(out, 0, sizeof(*out));
	*cached = false;
	if (ed_store_resolve_all(st, ref, &a, &na, &why) ||
	    ed_store_resolve_all(st, cand, &b, &nb, &why)) {
		/* Nothing to compare: cheap to find out again, so not kept. */
		if (why.code == ED_STORE || why.code == ED_NOMEM)
			rc = ed_err_set(err, why.code, "%s", why.msg);
		out->state = ED_VERDICT_CANNOT;
		ed_web_scrub(w, why.msg[0] ? why.msg : ed_code_str(why.code), out->reason,
			     sizeof(out->reason));
		goto done;
	}
	if ((rc = policy_digest(w, digest, sizeof(digest), err)) ||
	    (rc = ed_store_last_run_id(st, a[0].env, b[0].env, &run, err)))
		goto done;
	if (add_ids(&basis, a, na, &oldest) || add_ids(&basis, b, nb, &oldest) ||
	    ed_buf_addf(&basis, "run:%lld|%s", (long long)run, digest)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = ed_store_verdict_get(st, ref, cand, ed_buf_str(&basis), &row, &found, err)))
		goto done;
	if (!found) {
		/* Whoever comes second finds the first one's verdict kept. */
		pthread_mutex_lock(&w->verdict_lock);
		rc = ed_store_verdict_get(st, ref, cand, ed_buf_str(&basis), &row, &found, err);
		if (!rc && !found && !(rc = compute(w, st, ref, cand, out, err))) {
			atomic_fetch_add(worker ? &w->verdicts_by_worker : &w->verdicts_by_request, 1);
			to_row(out, &row);
			pthread_mutex_lock(&w->write_lock);
			rc = ed_store_verdict_put(w->writer, ref, cand, ed_buf_str(&basis), &row,
						  ED_WEB_VERDICTS_KEPT, err);
			pthread_mutex_unlock(&w->write_lock);
		}
		pthread_mutex_unlock(&w->verdict_lock);
		if (rc || !found)
			goto done;
	}
	from_row(&row, out);
	*cached = true;
done:
	out->oldest = oldest;
	ed_buf_release(&basis);
	free(a);
	free(b);
	return rc;
}

enum ed_code ed_web_verdict(struct ed_web *w, struct ed_store *st, const char *ref,
			    const char *cand, struct ed_web_verdict *out, bool *cached,
			    struct ed_err *err)
{
	return verdict(w, st, ref, cand, false, out, cached, err);
}

size_t ed_web_npairs(const struct ed_web *w)
{
	return w->o->npairs ? w->o->npairs : 1;
}

bool ed_web_pair(const struct ed_web *w, size_t i, char *ref, char *cand, size_t cap)
{
	if (!w->o->npairs) {
		snprintf(ref, cap, "production");
		snprintf(cand, cap, "staging");
		return true;
	}
	return i < w->o->npairs && ed_web_split_pair(w->o->pairs[i], ref, cand, cap);
}

/* How long the worker sleeps when nothing pokes it: a change from the command line waits this. */
#define WORKER_PERIOD_MS 1000

/*
 * Looks at every pair; says an error once, and again only when it changes.
 * Whether it computed a verdict (a diff ran, whose memory give_back() frees).
 */
static bool look(struct ed_web *w, struct ed_store *st, char *said, size_t cap)
{
	bool computed = false;
	for (size_t i = 0; i < ed_web_npairs(w); i++) {
		char ref[256], cand[256];
		struct ed_web_verdict v;
		struct ed_err err = {0};
		bool cached = true;
		if (!ed_web_pair(w, i, ref, cand, sizeof(ref)))
			continue;
		bool failed = verdict(w, st, ref, cand, true, &v, &cached, &err) != ED_OK;
		computed |= !cached;
		if (!failed)
			continue;
		if (strcmp(said, err.msg) != 0) {
			ed_warn("verdict of %s -> %s: %s", ref, cand, err.msg);
			snprintf(said, cap, "%s", err.msg);
		}
	}
	return computed;
}

static unsigned long answered(struct ed_web *w)
{
	unsigned long n = 0;
	for (size_t i = 0; i < sizeof(w->by_class) / sizeof(w->by_class[0]); i++)
		n += atomic_load(&w->by_class[i]);
	return n;
}

/*
 * Right after a verdict was computed (computed), and once the server has
 * been quiet for a whole period after answering requests, the idle read
 * connections and the writer (unless a push is being stored) drop their page
 * caches and the allocator gives the freed pages of every thread's arena
 * back to the system: a diff, or a burst of pushes or page views, leaves the
 * server at its idle size (the next request reads its pages again from the
 * OS's cache). Costs one malloc_trim() per burst, none while requests keep
 * coming.
 */
static void give_back(struct ed_web *w, bool computed, unsigned long *seen,
		      unsigned long *trimmed)
{
	unsigned long n = answered(w);
	if (computed || (n == *seen && n != *trimmed)) {
		pthread_mutex_lock(&w->pool_lock);
		for (size_t i = 0; i < w->npool; i++)
			ed_store_release_memory(w->pool[i]);
		pthread_mutex_unlock(&w->pool_lock);
		if (pthread_mutex_trylock(&w->write_lock) == 0) { /* never waits for a push */
			ed_store_release_memory(w->writer);
			pthread_mutex_unlock(&w->write_lock);
		}
		malloc_trim(0);
		*trimmed = n;
	}
	*seen = n;
}

static void *worker(void *arg)
{
	struct ed_web *w = arg;
	char said[sizeof(((struct ed_err *)0)->msg)] = "";
	unsigned long seen = 0, trimmed = 0;
	for (;;) {
		struct ed_err err = {0};
		struct ed_store *st = ed_web_reader(w, &err);
		bool computed = false;
		if (st) {
			computed = look(w, st, said, sizeof(said));
			ed_web_reader_put(w, st);
		} else if (strcmp(said, err.msg) != 0) {
			ed_warn("verdicts: %s", err.msg);
			snprintf(said, sizeof(said), "%s", err.msg);
		}
		give_back(w, computed, &seen, &trimmed);
		pthread_mutex_lock(&w->wake_lock);
		if (!w->poked && !w->stopping) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += WORKER_PERIOD_MS / 1000;
			pthread_cond_timedwait(&w->wake, &w->wake_lock, &until);
		}
		bool stop = w->stopping;
		w->poked = false;
		pthread_mutex_unlock(&w->wake_lock);
		if (stop)
			return NULL;
	}
}

bool ed_web_verdicts_start(struct ed_web *w, pthread_t *thread)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	return pthread_create(thread, NULL, worker, w) == 0;
}

void ed_web_verdicts_poke(struct ed_web *w)
{
	pthread_mutex_lock(&w->wake_lock);
	w->poked = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->wake_lock);
}

void ed_web_verdicts_stop(struct ed_web *w, pthread_t thread)
{
	pthread_mutex_lock(&w->wake_lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->wake_lock);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&w->wake);
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
