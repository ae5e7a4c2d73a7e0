/* SPDX-License-Identifier: MIT */
/* envdrift diff and envdrift gate: compare two environments; report, or vouch for staging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "opt.h"
#include "ed/atomic.h"
#include "ed/diff.h"
#include "ed/isotime.h"
#include "ed/gate.h"
#include "ed/inventory.h"
#include "ed/policy.h"
#include "ed/store.h"

static const struct ed_cmd_help diff_help = {
	.name = "diff",
	.usage = "diff REFERENCE CANDIDATE [--format FORMAT] [--out FILE] [--show-ignored] "
		 "[--diff] [--policy FILE]",
	.intro = "Shows how CANDIDATE differs from REFERENCE. Each is an environment name (the "
		 "latest complete snapshot of each of its hosts) or a snapshot id written @ID "
		 "(see 'envdrift snapshots'). 'added' means only in the candidate, 'removed' only "
		 "in the reference, 'changed' in both with different content or attributes (type, "
		 "mode, owner, group, link target; never mtime or inode). Environments of several "
		 "hosts compare role by role (collect --role); hosts that disagree with the "
		 "majority of their role are listed as snowflakes.",
	.outro = "Exit status, as diff(1): 0 no drift, 1 drift, 2 error.",
};

/* --policy, in diff and gate alike. */
static const char policy_help[] = "judge the drift by FILE, read on top of the built-in default "
				  "policy (docs/policy.md; 'envdrift policy default')";
/* --hosts, in diff and gate alike. */
static const char hosts_help[] =
	"list every host of a side of several (text, markdown, html); by default a side says "
	"how many hosts it has per role (json always lists them)";

static const struct ed_cmd_help gate_help = {
	.name = "gate",
	.usage = "gate [--production ENV] [--staging ENV] [--max-age DURATION] [--format FORMAT] "
		 "[--out FILE] [--record] [--policy FILE] [--inventory FILE]",
	.intro = "The pre-release check a pipeline trusts: compares the latest complete snapshots "
		 "of staging (default 'staging') with production's (default 'production'). Prints "
		 "one line per blocking difference on stderr, then a summary line. It cannot vouch "
		 "for staging (exit 2, with the reason) when an environment has no complete "
		 "snapshot, a snapshot finished longer ago than --max-age, a host of the inventory "
		 "or of the previous recorded run has no snapshot now, or an item whose drift the "
		 "policy says blocks could not be collected.",
	.outro = "Exit status: 0 staging mirrors production, 1 blocking drift, 2 cannot vouch for "
		 "staging (no or stale snapshot, missing host, unreadable store...).",
};

/* The comparison of ed_diff_compare(), and a warning when the sides were collected differently. */
static enum ed_code compare(struct ed_store *st, const char *ref, const char *cand,
			    const struct ed_policy *pol, struct ed_drift *d, struct ed_err *err)
{
	enum ed_code rc = ed_diff_compare(st, ref, cand, pol, d, err);
	if (!rc)
		ed_cli_warn_settings(d->refs, d->nrefs, d->cands, d->ncands);
	return rc;
}

/*
 * Renders d in format to out_path (ed_atomic_open: a temporary file renamed
 * into place, so a reader never sees half a report) or to stdout.
 */
static enum ed_code write_report(const struct ed_cli *cli, struct ed_store *st,
				 const struct ed_report_ops *report, struct ed_drift *d,
				 const struct ed_render_opts *ropts, const char *out_path,
				 struct ed_err *err)
{
	if (!out_path) {
		enum ed_code rc = ed_diff_render(stdout, st, report, d, ropts, err);
		return rc ? rc : ed_cli_flush_stdout(err);
	}
	struct ed_atomic *a = NULL;
	enum ed_code rc = ed_cli_open_out(cli, out_path, &a, err);
	if (rc)
		return rc;
	struct ed_render_opts o = *ropts;
	o.color = false;
	if ((rc = ed_diff_render(ed_atomic_file(a), st, report, d, &o, err))) {
		ed_atomic_abort(a);
		return rc;
	}
	return ed_atomic_commit(a, err);
}

int ed_cmd_diff(int argc, char **argv, struct ed_cli *cli)
{
	const char *format = "text", *out_path = NULL, *policy_path = NULL;
	bool show_ignored = false, diffs = false, hosts = false;
	const struct ed_opt opts[] = {
		ED_OPT_CHOICE_(0, "format", "FORMAT", &format, "text json junit sarif markdown html",
			       "text (default: grouped by kind, counts first); json (the "
			       "envdrift.diff/1 document); junit (one testsuite per kind, for Jenkins "
			       "and GitLab); sarif (2.1.0, for code scanning); markdown (a pull-request "
			       "comment); html (one self-contained page with filters, search and "
			       "unified diffs of kept content)"),
		ED_OPT_STRING_(0, "out", "FILE", &out_path,
			       "write the report to FILE (written whole, then renamed)"),
		ED_OPT_FLAG_(0, "show-ignored", &show_ignored,
			     "list ignored drift too (it is always counted)"),
		ED_OPT_FLAG_(0, "diff", &diffs,
			     "text: a unified diff of each changed file's kept content under its "
			     "line (markdown, junit and html always show them)"),
		ED_OPT_FLAG_(0, "hosts", &hosts, hosts_help),
		ED_OPT_STRING_(0, "policy", "FILE", &policy_path, policy_help),
		ED_OPT_END_(),
	};
	int nargs = 0;
	int parsed = ed_opt_status(ed_opt_parse(&diff_help, opts, argc, argv, cli, &nargs));
	if (parsed >= 0)
		return parsed;
	if (nargs != 2)
		return ed_cli_usage_error("diff", "expected REFERENCE and CANDIDATE, got %d argument%s",
					  nargs, nargs == 1 ? "" : "s");
	const struct ed_report_ops *report = ed_report_find(format);
	if (!report)
		return ed_cli_usage_error("diff", "--format %s: known formats are %s", format,
					  ed_report_names());

	struct ed_err err = {0};
	struct ed_drift d = {0};
	struct ed_store *st = NULL;
	struct ed_policy pol = {0};
	struct ed_render_opts ropts = {.color = !out_path && ed_cli_color(stdout),
				       .show_ignored = show_ignored, .diffs = diffs, .hosts = hosts};
	int status;
	if (ed_policy_load(policy_path, &pol, &err) ||
	    ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err) ||
	    compare(st, argv[1], argv[2], &pol, &d, &err)) {
		status = ed_cli_fail(&err);
		goto out;
	}
	d.policy = policy_path ? policy_path : "built-in default";
	if (write_report(cli, st, report, &d, &ropts, out_path, &err))
		status = ed_cli_fail(&err);
	else
		status = d.n > d.ignored ? ED_EXIT_DIFF : ED_EXIT_OK;
out:
	ed_drift_release(&d);
	ed_policy_release(&pol);
	ed_store_close(st);
	return status;
}

/*
 * Exit 2 reasons: a host the inventory lists for either environment has no
 * snapshot (the inventory file is read here, the question is the gate's).
 */
static enum ed_code check_inventory(void *ctx, const struct ed_drift *d, struct ed_err *err)
{
	const char *inventory = ctx;
	if (!inventory)
		return ED_OK;
	const char *envs[2] = {d->ref.env, d->cand.env};
	const struct ed_snapref *v[2] = {d->refs, d->cands};
	size_t nv[2] = {d->nrefs, d->ncands};
	struct ed_buf text = ED_BUF_INIT;
	enum ed_code rc = ed_cli_inventory_read(inventory, &text, err);
	for (int k = 0; k < 2 && !rc; k++) {
		char **names = NULL;
		size_t n = 0;
		rc = ed_inventory_hosts(ed_str_of(ed_buf_str(&text), text.len), inventory, envs[k],
					&names, &n, err);
		if (!rc)
			rc = ed_gate_check_inventory(inventory, envs[k], names, n, v[k], nv[k], err);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	ed_buf_release(&text);
	return rc;
}

int ed_cmd_gate(int argc, char **argv, struct ed_cli *cli)
{
	const char *prod = "production", *stag = "staging", *format = NULL, *out_path = NULL;
	const char *inventory = NULL;
	const char *policy_path = NULL;
	long long max_age = 24 * 3600;
	bool record = false, hosts = false;
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "production", "ENV", &prod, "the reference (default production)"),
		ED_OPT_STRING_(0, "staging", "ENV", &stag, "the candidate (default staging)"),
		ED_OPT_DURATION_(0, "max-age", "DURATION", &max_age,
				 "oldest acceptable snapshot: 90s, 30m, 24h (default), 7d; 0 accepts "
				 "any age"),
		ED_OPT_CHOICE_(0, "format", "FORMAT", &format, "text json junit sarif markdown html",
			       "also write a report (json, junit, sarif, markdown, html) to stdout or "
			       "--out"),
		ED_OPT_STRING_(0, "out", "FILE", &out_path, "where the report goes"),
		ED_OPT_FLAG_(0, "record", &record, "record this run in the store (runs_v, drift_v)"),
		ED_OPT_FLAG_(0, "hosts", &hosts, hosts_help),
		ED_OPT_STRING_(0, "inventory", "FILE", &inventory,
			       "every host the inventory lists for either environment must have a "
			       "complete snapshot (docs/inventory.md)"),
		ED_OPT_STRING_(0, "policy", "FILE", &policy_path, policy_help),
		ED_OPT_END_(),
	};
	int parsed = ed_opt_status(ed_opt_parse(&gate_help, opts, argc, argv, cli, NULL));
	if (parsed >= 0)
		return parsed;
	const struct ed_report_ops *report = NULL;
	if (format && !(report = ed_report_find(format)))
		return ed_cli_usage_error("gate", "--format %s: known formats are %s", format,
					  ed_report_names());
	if (out_path && !report)
		return ed_cli_usage_error("gate", "--out needs --format");

	struct ed_err err = {0};
	struct ed_drift d = {0};
	struct ed_store *st = NULL;
	struct ed_buf line = ED_BUF_INIT;
	struct ed_policy pol = {0};
	int status = ED_EXIT_ERROR;
	long long now = (long long)time(NULL);
	enum ed_code rc = ed_policy_load(policy_path, &pol, &err);
	if (!rc)
		rc = ed_store_open(cli->db, record ? ED_STORE_WRITE : ED_STORE_READ, NULL, &st, &err);
	if (!rc)
		rc = ed_gate_vouch(st, prod, stag, &pol, max_age, now, check_inventory,
				   (void *)inventory, &d, &err);
	if (d.refs && d.cands)
		ed_cli_warn_settings(d.refs, d.nrefs, d.cands, d.ncands);
	if (rc) {
		ed_say("cannot vouch for %s: %s", stag, err.msg);
		goto out;
	}
	d.policy = policy_path ? policy_path : "built-in default";
	for (size_t i = 0; i < d.nexpired; i++)
		ed_info("expected difference %s expired %s (%s): judged again",
			d.expired[i].text, d.expired[i].expires, d.expired[i].reason);
	struct ed_drift_reader dr;
	ed_drift_reader_init(&dr, &d, false);
	for (size_t i = 0; i < d.n; i++) {
		const struct ed_drift_entry *e = ed_drift_at(&dr, i);
		if (e->ignored || strcmp(e->severity, "block") != 0)
			continue;
		ed_buf_reset(&line);
		if (ed_buf_add_utf8_escaped(&line, e->key, e->key_len) || ed_buf_adds(&line, ": ") ||
		    ed_drift_describe(e, &line)) {
			ed_drift_reader_release(&dr);
			ed_say("out of memory");
			goto out;
		}
		if (line.len >= 2 && line.p[line.len - 2] == ':')
			line.p[line.len -= 2] = '\0';
		ed_term_printf(stderr, "block: %s %s%s%s %s\n", ed_change_name(e->change), e->kind,
			e->role ? " role " : "", e->role ? e->role : "", line.p);
	}
	if (ed_drift_reader_failed(&dr, &err)) {
		ed_drift_reader_release(&dr);
		ed_err_print(&err);
		goto out;
	}
	ed_drift_reader_release(&dr);
	if (report) {
		struct ed_render_opts ropts = {.color = !out_path && ed_cli_color(stdout),
					       .hosts = hosts};
		if (write_report(cli, st, report, &d, &ropts, out_path, &err)) {
			ed_err_print(&err);
			goto out;
		}
	}
	if (record) {
		char at[ED_ISOTIME_SIZE];
		ed_isotime_now(at);
		if (ed_drift_record(st, "gate", at, &d, NULL, &err)) {
			ed_err_print(&err);
			goto out;
		}
	}
	if (d.blocking) {
		ed_term_printf(stderr,
			"gate: FAIL: %s differs from %s: %zu blocking (%zu added, %zu removed, "
			"%zu changed; %zu ignored)\n",
			d.cand.env, d.ref.env, d.blocking, d.added, d.removed, d.changed, d.ignored);
		status = ED_EXIT_DIFF;
	} else {
		size_t n = d.n - d.ignored - d.blocking;
		ed_term_printf(stderr, "gate: PASS: %s mirrors %s (%lld items compared, %zu %s "
				"that %s not block, %zu ignored)\n",
			d.cand.env, d.ref.env, (long long)d.compared, n,
			n == 1 ? "difference" : "differences", n == 1 ? "does" : "do", d.ignored);
		status = ED_EXIT_OK;
	}
out:
	ed_buf_release(&line);
	ed_policy_release(&pol);
	ed_drift_release(&d);
	ed_store_close(st);
	return status;
}
