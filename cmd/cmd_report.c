/* SPDX-License-Identifier: MIT */
/*
 * envdrift report: the nightly report. For each pair of environments the
 * current drift; for each environment what changed since the previous report
 * (its own history); a trend of drift counts per day. Each run is recorded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "opt.h"
#include "ed/atomic.h"
#include "ed/diff.h"
#include "ed/isotime.h"
#include "ed/policy.h"
#include "ed/store.h"

static const struct ed_cmd_help help = {
	.name = "report",
	.usage = "report [--pair REFERENCE:CANDIDATE]... [--since DURATION] "
		 "[--format text|markdown] [--diff] [--out FILE] [--policy FILE]",
	.intro = "The nightly report, for a job that mails it (see contrib/systemd):\n"
		 "  - for each pair of environments (default production:staging), the current\n"
		 "    drift of the candidate against the reference;\n"
		 "  - for each environment, what changed in it since the previous report (its\n"
		 "    own history, as a file-integrity monitor shows it); without a previous\n"
		 "    report, since its snapshots of --since ago (default 24h);\n"
		 "  - the trend: drift counts per day over the recorded runs.\n"
		 "Each pair's run is recorded in the store (runs_v, drift_v).\n"
		 "An environment with no complete snapshot in the store (a staging host\n"
		 "whose store never saw production) does not stop the report: it says so\n"
		 "where that environment's section would be, reports everything else, and\n"
		 "exits 2 so that a job knows the report could not vouch for that pair.",
	.outro = "Exit status: 0 report written (drift or not); 2 error, or the report was\n"
		 "written but an environment it names has no complete snapshot.",
};

struct pair {
	char *ref;
	char *cand;
};

static void heading(FILE *out, bool md, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void heading(FILE *out, bool md, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(md ? "\n## " : "\n== ", out);
	ed_term_vprintf(out, fmt, ap);
	fputs(md ? "\n\n" : " ==\n", out);
	va_end(ap);
}

static bool has_env(char **v, size_t n, const char *env)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], env) == 0)
			return true;
	return false;
}

/* Are a and b the same snapshots (both sorted by role, then host)? */
static bool same_snapshots(const struct ed_snapref *a, size_t na, const struct ed_snapref *b,
			   size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].id != b[i].id)
			return false;
	return true;
}

/*
 * What changed within env since the previous report, or since `since`
 * seconds ago (from the first snapshot in that window when none is older).
 */
static enum ed_code env_history(FILE *out, bool md, struct ed_store *st, const char *env,
				long long since, const struct ed_report_ops *report,
				const struct ed_render_opts *ropts, struct ed_err *err)
{
	struct ed_snapref *old = NULL, *cur = NULL;
	size_t nold = 0, ncur = 0;
	struct ed_drift d = {0};
	char before[ED_ISOTIME_SIZE];
	const char *basis = "the previous report";
	enum ed_code rc = ed_store_snapshots_of_last_report(st, env, &old, &nold, err);
	if (!rc && nold == 0) {
		free(old);
		old = NULL;
		ed_isotime_format(time(NULL) - (time_t)since, before);
		basis = before;
		rc = ed_store_snapshots_before(st, env, before, &old, &nold, err);
	}
	if (!rc)
		rc = ed_store_resolve_all(st, env, &cur, &ncur, err);
	if (rc == ED_NOTFOUND) {
		/* Said already under the pair that names env; the exit status says it too. */
		heading(out, md, "%s: what changed since %s", env, basis);
		ed_term_printf(out, "no complete snapshot of %s in this store\n", env);
		rc = ED_OK;
		goto out;
	}
	if (rc)
		goto out;
	heading(out, md, "%s: what changed since %s", env, basis);
	if (nold == 0) {
		ed_term_printf(out, "no complete snapshot of %s to compare with\n", env);
		goto out;
	}
	if (same_snapshots(old, nold, cur, ncur)) {
		ed_term_printf(out, "one complete snapshot of %s since then: nothing to compare\n",
			       env);
		goto out;
	}
	rc = ed_diff_sides(st, old, nold, cur, ncur, NULL, &d, err);
	if (!rc)
		rc = ed_diff_render(out, st, report, &d, ropts, err);
out:
	ed_drift_release(&d);
	free(old);
	free(cur);
	return rc;
}

/* Drift counts per day of the recorded runs of a pair, newest first. */
static enum ed_code trend(FILE *out, bool md, struct ed_store *st, const struct pair *p,
			  struct ed_err *err)
{
	struct ed_trend_day *v = NULL;
	size_t n = 0;
	enum ed_code rc = ed_store_trend(st, p->ref, p->cand, &v, &n, err);
	if (rc)
		return rc;
	heading(out, md, "trend of %s against %s: drift per day (last run of each day)", p->cand,
		p->ref);
	fputs(md ? "| day | blocking | added | removed | changed | ignored |\n|---|---:|---:|---:|---:|---:|\n"
		 : "day         blocking   added  removed  changed  ignored\n",
	      out);
	if (n == 0)
		fputs(md ? "| no recorded run yet | | | | | |\n" : "no recorded run yet\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct ed_trend_day *t = &v[i];
		long long c[5] = {t->blocking, t->added, t->removed, t->changed, t->ignored};
		if (md)
			ed_term_printf(out, "| %s | %lld | %lld | %lld | %lld | %lld |\n", t->day, c[0], c[1],
				c[2], c[3], c[4]);
		else
			ed_term_printf(out, "%-10s %9lld %7lld %8lld %8lld %8lld\n", t->day, c[0], c[1], c[2],
				c[3], c[4]);
	}
	free(v);
	return ED_OK;
}

/*
 * Writes the report. A pair whose side has no complete snapshot is reported
 * as such and not recorded; the first such reason is left in *missing
 * (missing->code ED_NOTFOUND) for the exit status, and the rest goes on.
 */
static enum ed_code write_report(FILE *out, bool md, struct ed_store *st, struct pair *pairs,
				 size_t npairs, long long since, const struct ed_policy *pol,
				 const char *policy_name, const struct ed_report_ops *report,
				 bool diffs, bool hosts, struct ed_err *missing, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	struct ed_render_opts ropts = {.diffs = diffs, .hosts = hosts};
	bool *skip = calloc(npairs ? npairs : 1, sizeof(*skip));
	struct ed_drift *cur = calloc(npairs, sizeof(*cur));
	char **envs = calloc(2 * npairs, sizeof(*envs));
	size_t nenvs = 0;
	char at[ED_ISOTIME_SIZE];
	ed_isotime_now(at);
	if (!cur || !envs || !skip) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	fprintf(out, md ? "# envdrift report, %s\n\n" : "envdrift report, %s\n", at);
	ed_term_printf(out, md ? "Store: `%s`\n" : "store: %s\n", ed_store_path(st));
	for (size_t i = 0; i < npairs && !rc; i++) {
		struct ed_snapref *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		heading(out, md, "%s against %s: current drift", pairs[i].cand, pairs[i].ref);
		rc = ed_store_resolve_all(st, pairs[i].ref, &a, &na, err);
		if (!rc)
			rc = ed_store_resolve_all(st, pairs[i].cand, &b, &nb, err);
		if (rc == ED_NOTFOUND) {
			/* Report the rest; the exit status still says this pair was not compared. */
			ed_term_printf(out, "cannot compare: %s\n", err->msg);
			if (!missing->code)
				*missing = *err;
			*err = (struct ed_err){0};
			skip[i] = true;
			rc = ED_OK;
		}
		if (!rc && !skip[i])
			ed_cli_warn_settings(a, na, b, nb);
		if (!rc && !skip[i])
			rc = ed_diff_sides(st, a, na, b, nb, pol, &cur[i], err);
		if (!rc && !skip[i])
			rc = ed_policy_apply(pol, NULL, &cur[i], err);
		cur[i].policy = policy_name;
		/* Kept texts read entry by entry: none stays while the other pairs are compared. */
		if (!rc && !skip[i])
			rc = ed_diff_render(out, st, report, &cur[i], &ropts, err);
		free(a);
		free(b);
		const char *both[2] = {pairs[i].ref, pairs[i].cand};
		for (int k = 0; k < 2; k++)
			if (!has_env(envs, nenvs, both[k]))
				envs[nenvs++] = (char *)both[k];
	}
	/* History first: it compares against the previous report, which this one replaces. */
	for (size_t i = 0; i < nenvs && !rc; i++)
		rc = env_history(out, md, st, envs[i], since, report, &ropts, err);
	for (size_t i = 0; i < npairs && !rc; i++)
		if (!skip[i])
			rc = ed_drift_record(st, "report", at, &cur[i], NULL, err);
	for (size_t i = 0; i < npairs && !rc; i++)
		rc = trend(out, md, st, &pairs[i], err);
out:
	for (size_t i = 0; cur && i < npairs; i++)
		ed_drift_release(&cur[i]);
	free(cur);
	free(envs);
	free(skip);
	return rc;
}

/*
 * Appends the pair that arg writes REFERENCE:CANDIDATE to *pairs; -1 to go
 * on, else the exit status after saying why (as ed_opt_status()).
 */
static int add_pair(struct pair **pairs, size_t *npairs, const char *arg)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || !colon[1])
		return ed_cli_usage_error("report", "--pair %s: expected REFERENCE:CANDIDATE", arg);
	struct pair *v = realloc(*pairs, (*npairs + 1) * sizeof(*v));
	if (!v)
		return ed_cli_fail(&(struct ed_err){ED_NOMEM, "out of memory"});
	*pairs = v;
	struct pair *p = &v[(*npairs)++];
	p->ref = ed_strndup(arg, (size_t)(colon - arg));
	p->cand = strdup(colon + 1);
	if (!p->ref || !p->cand)
		return ed_cli_fail(&(struct ed_err){ED_NOMEM, "out of memory"});
	return -1;
}

int ed_cmd_report(int argc, char **argv, struct ed_cli *cli)
{
	struct pair *pairs = NULL;
	size_t npairs = 0;
	const char *format = "text", *out_path = NULL, *policy_path = NULL;
	struct ed_policy pol = {0};
	long long since = 24 * 3600;
	bool diffs = false, hosts = false;
	struct ed_err err = {0}, missing = {0};
	struct ed_store *st = NULL;
	struct ed_atomic *out = NULL;
	int status = ED_EXIT_ERROR;
	struct ed_opt_list pair_args = {0};
	const struct ed_opt opts[] = {
		ED_OPT_LIST_(0, "pair", "REF:CAND", &pair_args, "a pair to report on, repeatable"),
		ED_OPT_DURATION_(0, "since", "DURATION", &since,
				 "history window without a previous report: 90s, 30m, 24h, 7d"),
		ED_OPT_CHOICE_(0, "format", "FORMAT", &format, "text markdown",
			       "text (default) or markdown"),
		ED_OPT_FLAG_(0, "diff", &diffs,
			     "text: unified diffs of kept texts under their entries "
			     "(markdown always shows them)"),
		ED_OPT_FLAG_(0, "hosts", &hosts,
			     "list every host of a side of several; by default a side says how many "
			     "hosts it has per role"),
		ED_OPT_STRING_(0, "out", "FILE", &out_path,
			       "write the report to FILE (written whole, then renamed)"),
		ED_OPT_STRING_(0, "policy", "FILE", &policy_path,
			       "judge the current drift by this policy (default: built in)"),
		ED_OPT_END_(),
	};
	int parsed = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
	for (size_t i = 0; parsed < 0 && i < pair_args.n; i++)
		parsed = add_pair(&pairs, &npairs, pair_args.items[i]);
	ed_opt_list_release(&pair_args);
	if (parsed >= 0) {
		status = parsed;
		goto done;
	}
	bool md = strcmp(format, "markdown") == 0;
	if (!md && strcmp(format, "text") != 0) {
		status = ed_cli_usage_error("report", "--format %s: known formats are text, markdown",
					    format);
		goto done;
	}
	const struct ed_report_ops *report = ed_report_find(format);
	if (!report) {
		status = ed_cli_usage_error("report", "--format %s: not built into this envdrift", format);
		goto done;
	}
	if (!npairs) {
		if (!(pairs = calloc(1, sizeof(*pairs))) || !(pairs[0].ref = strdup("production")) ||
		    !(pairs[0].cand = strdup("staging"))) {
			ed_err_set(&err, ED_NOMEM, "out of memory");
			goto fail;
		}
		npairs = 1;
	}
	if (ed_policy_load(policy_path, &pol, &err) ||
	    ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err))
		goto fail;
	if (out_path && ed_cli_open_out(cli, out_path, &out, &err))
		goto fail;
	if (write_report(out ? ed_atomic_file(out) : stdout, md, st, pairs, npairs, since, &pol,
			 policy_path ? policy_path : "built-in default", report, diffs, hosts, &missing,
			 &err))
		goto fail;
	if (out) {
		enum ed_code rc = ed_atomic_commit(out, &err);
		out = NULL;
		if (rc)
			goto fail;
	} else if (ed_cli_flush_stdout(&err)) {
		goto fail;
	}
	if (missing.code) {
		/* The report is written; the job still learns that a pair was not compared. */
		status = ed_cli_fail(&missing);
		goto done;
	}
	status = ED_EXIT_OK;
	goto done;
fail:
	status = ed_cli_fail(&err);
done:
	ed_atomic_abort(out);
	ed_store_close(st);
	ed_policy_release(&pol);
	for (size_t i = 0; i < npairs; i++) {
		free(pairs[i].ref);
		free(pairs[i].cand);
	}
	free(pairs);
	return status;
}
