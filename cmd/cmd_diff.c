/* SPDX-License-Identifier: MIT */
/* envdrift diff and envdrift gate: compare two environments; report, or vouch for staging. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ed/diff.h"
#include "ed/inventory.h"
#include "ed/policy.h"
#include "ed/store.h"

const char ed_usage_diff[] =
	"usage: envdrift [--db PATH] diff REFERENCE CANDIDATE [--format FORMAT]\n"
	"                [--out FILE] [--show-ignored] [--policy FILE]\n"
	"\n"
	"Shows how CANDIDATE differs from REFERENCE. Each is an environment name (the\n"
	"latest complete snapshot of each of its hosts) or a snapshot id written @ID\n"
	"(see 'envdrift snapshots'). 'added' means only in the candidate, 'removed'\n"
	"only in the reference, 'changed' in both with different content or\n"
	"attributes (type, mode, owner, group, link target; never mtime or inode).\n"
	"Environments of several hosts compare role by role (collect --role); hosts\n"
	"that disagree with the majority of their role are listed as snowflakes.\n"
	"\n"
	"  --format FORMAT  text (default: grouped by kind, counts first); json (the\n"
	"                   envdrift.diff/1 document); junit (one testsuite per kind,\n"
	"                   for Jenkins and GitLab); sarif (2.1.0, for code scanning);\n"
	"                   markdown (a pull-request comment); html (one self-contained\n"
	"                   page with filters, search and unified diffs of kept content)\n"
	"  --out FILE       write the report to FILE (written whole, then renamed)\n"
	"  --show-ignored   list ignored drift too (it is always counted)\n"
	"  --policy FILE    judge the drift by FILE, read on top of the built-in\n"
	"                   default policy (docs/policy.md; 'envdrift policy default')\n"
	"\n"
	"Exit status, as diff(1): 0 no drift, 1 drift, 2 error.\n";

const char ed_usage_gate[] =
	"usage: envdrift [--db PATH] gate [--production ENV] [--staging ENV]\n"
	"                [--max-age DURATION] [--format FORMAT] [--out FILE] [--record]\n"
	"                [--policy FILE] [--inventory FILE]\n"
	"\n"
	"The pre-release check a pipeline trusts: compares the latest complete\n"
	"snapshots of staging (default 'staging') with production's (default\n"
	"'production'). Prints one line per blocking difference on stderr, then a\n"
	"summary line. It cannot vouch for staging (exit 2, with the reason) when an\n"
	"environment has no complete snapshot, a snapshot finished longer ago than\n"
	"--max-age, a host of the inventory or of the previous recorded run has no\n"
	"snapshot now, or an item whose drift the policy says blocks could not be\n"
	"collected.\n"
	"\n"
	"  --production ENV   the reference (default production)\n"
	"  --staging ENV      the candidate (default staging)\n"
	"  --max-age DURATION oldest acceptable snapshot: 90s, 30m, 24h (default), 7d;\n"
	"                     0 accepts any age\n"
	"  --format FORMAT    also write a report (json, junit, sarif, markdown, html)\n"
	"                     to stdout or --out\n"
	"  --out FILE         where the report goes\n"
	"  --record           record this run in the store (runs_v, drift_v)\n"
	"  --inventory FILE   every host the inventory lists for either environment\n"
	"                     must have a complete snapshot (docs/inventory.md)\n"
	"  --policy FILE      judge the drift by FILE, on top of the built-in default\n"
	"                     policy (docs/policy.md)\n"
	"\n"
	"Exit status: 0 staging mirrors production, 1 blocking drift, 2 cannot vouch\n"
	"for staging (no or stale snapshot, missing host, unreadable store...).\n";

/*
 * Resolves both sides (every host of an environment), runs the comparison
 * and judges it by the policy (as of today, UTC).
 */
static enum ed_code compare(struct ed_store *st, const char *ref, const char *cand,
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

/*
 * Renders d in format to out_path (a temporary file renamed into place, so a
 * reader never sees half a report) or to stdout.
 */
static enum ed_code write_report(const struct ed_report_ops *report, const struct ed_drift *d,
				 const struct ed_render_opts *ropts, const char *out_path,
				 struct ed_err *err)
{
	if (!out_path) {
		enum ed_code rc = report->render(stdout, d, ropts, err);
		if (!rc && fflush(stdout) != 0)
			rc = ed_err_set(err, ED_IO, "cannot write to standard output");
		return rc;
	}
	struct ed_buf tmp = ED_BUF_INIT;
	if (ed_buf_addf(&tmp, "%s.tmp", out_path))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	enum ed_code rc = ED_OK;
	FILE *f = fopen(tmp.p, "w");
	if (!f) {
		rc = ed_err_set(err, ED_IO, "--out %s: %s", out_path, strerror(errno));
		goto out;
	}
	struct ed_render_opts o = *ropts;
	o.color = false;
	rc = report->render(f, d, &o, err);
	if (fflush(f) != 0 || ferror(f))
		rc = rc ? rc : ed_err_set(err, ED_IO, "--out %s: write error", out_path);
	if (fclose(f) != 0 && !rc)
		rc = ed_err_set(err, ED_IO, "--out %s: %s", out_path, strerror(errno));
	if (!rc && rename(tmp.p, out_path) != 0)
		rc = ed_err_set(err, ED_IO, "--out %s: %s", out_path, strerror(errno));
	if (rc)
		remove(tmp.p);
out:
	ed_buf_release(&tmp);
	return rc;
}

int ed_cmd_diff(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"out", required_argument, NULL, 'o'},
		{"show-ignored", no_argument, NULL, 'i'},
		{"policy", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *format = "text", *out_path = NULL, *policy_path = NULL;
	bool show_ignored = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'f': format = optarg; break;
		case 'o': out_path = optarg; break;
		case 'i': show_ignored = true; break;
		case 'P': policy_path = optarg; break;
		case 'h': fputs(ed_usage_diff, stdout); return ED_EXIT_OK;
		default: return ed_cli_usage_error("diff", "bad option");
		}
	}
	if (argc - optind != 2)
		return ed_cli_usage_error("diff", "expected REFERENCE and CANDIDATE, got %d argument%s",
					  argc - optind, argc - optind == 1 ? "" : "s");
	const struct ed_report_ops *report = ed_report_find(format);
	if (!report)
		return ed_cli_usage_error("diff", "--format %s: known formats are %s", format,
					  ed_report_names());

	struct ed_err err = {0};
	struct ed_drift d = {0};
	struct ed_store *st = NULL;
	struct ed_policy pol = {0};
	struct ed_render_opts ropts = {.color = !out_path && ed_cli_color(stdout),
				       .show_ignored = show_ignored};
	int status;
	if (ed_policy_load(policy_path, &pol, &err) ||
	    ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err) ||
	    compare(st, argv[optind], argv[optind + 1], &pol, &d, &err)) {
		status = ed_cli_fail(&err);
		goto out;
	}
	d.policy = policy_path ? policy_path : "built-in default";
	ropts.store = st;
	if (write_report(report, &d, &ropts, out_path, &err))
		status = ed_cli_fail(&err);
	else
		status = d.n > d.ignored ? ED_EXIT_DIFF : ED_EXIT_OK;
out:
	ed_drift_release(&d);
	ed_policy_release(&pol);
	ed_store_close(st);
	return status;
}

/* Seconds since the Unix epoch of an ISO 8601 UTC time as the store writes it; -1 if not. */
static long long parse_iso(const char *t)
{
	struct tm tm = {0};
	const char *end = strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	return (long long)timegm(&tm);
}

/* Exit 2 reasons: a snapshot too old. */
static bool too_old(const struct ed_snapref *v, size_t n, long long max_age, long long now,
		    struct ed_err *err)
{
	for (size_t i = 0; i < n && max_age > 0; i++) {
		long long t = parse_iso(v[i].finished_at[0] ? v[i].finished_at : v[i].started_at);
		if (t < 0 || now - t > max_age) {
			ed_err_set(err, ED_NOTFOUND,
				   "snapshot @%lld of %s/%s finished at %s, more than --max-age %llds ago; "
				   "collect it again",
				   (long long)v[i].id, v[i].env, v[i].host, v[i].finished_at, max_age);
			return true;
		}
	}
	return false;
}

/* Exit 2 reasons: a host the inventory lists for either environment has no snapshot. */
static bool inventory_missing(const char *inventory, const struct ed_drift *d, struct ed_err *err)
{
	if (!inventory)
		return false;
	const char *envs[2] = {d->ref.env, d->cand.env};
	const struct ed_snapref *v[2] = {d->refs, d->cands};
	size_t nv[2] = {d->nrefs, d->ncands};
	struct ed_buf text = ED_BUF_INIT;
	bool bad = ed_cli_inventory_read(inventory, &text, err) != ED_OK;
	for (int k = 0; k < 2 && !bad; k++) {
		char **names = NULL;
		size_t n = 0;
		if (ed_inventory_hosts(ed_str_of(ed_buf_str(&text), text.len), inventory, envs[k],
				       &names, &n, err)) {
			bad = true;
			break;
		}
		bool missing = false;
		for (size_t i = 0; i < n && !missing; i++) {
			bool found = false;
			for (size_t j = 0; j < nv[k] && !found; j++)
				found = strcmp(v[k][j].host, names[i]) == 0;
			if (!found) {
				ed_err_set(err, ED_NOTFOUND,
					   "host %s of %s is in the inventory %s but has no complete snapshot",
					   names[i], envs[k], inventory);
				missing = true;
			}
		}
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		bad = missing;
	}
	ed_buf_release(&text);
	return bad;
}

/* Exit 2 reasons: a host of the previous recorded run of this pair has no snapshot now. */
static bool host_missing(struct ed_store *st, const struct ed_drift *d, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	bool missing = false;
	static const char sql[] =
		"SELECT DISTINCT sn.env, sn.host, r.id FROM runs AS r, "
		"json_each(r.reference_snapshots) AS j1, snapshots AS sn "
		"WHERE r.id = (SELECT max(id) FROM runs WHERE reference_env = ?1 AND candidate_env = ?2) "
		"AND sn.id = j1.value "
		"UNION "
		"SELECT DISTINCT sn.env, sn.host, r.id FROM runs AS r, "
		"json_each(r.candidate_snapshots) AS j2, snapshots AS sn "
		"WHERE r.id = (SELECT max(id) FROM runs WHERE reference_env = ?1 AND candidate_env = ?2) "
		"AND sn.id = j2.value";
	if (sqlite3_prepare_v2(ed_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return false; /* an old store without runs: nothing to check */
	sqlite3_bind_text(s, 1, d->ref.env, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d->cand.env, -1, SQLITE_STATIC);
	while (!missing && sqlite3_step(s) == SQLITE_ROW) {
		const char *env = (const char *)sqlite3_column_text(s, 0);
		const char *host = (const char *)sqlite3_column_text(s, 1);
		bool ref = env && strcmp(env, d->ref.env) == 0;
		const struct ed_snapref *v = ref ? d->refs : d->cands;
		size_t n = ref ? d->nrefs : d->ncands;
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = host && strcmp(v[i].host, host) == 0;
		if (!found) {
			ed_err_set(err, ED_NOTFOUND,
				   "host %s of %s was in the previous recorded run (#%lld) but has no "
				   "complete snapshot now",
				   host ? host : "?", env ? env : "?", (long long)sqlite3_column_int64(s, 2));
			missing = true;
		}
	}
	sqlite3_finalize(s);
	return missing;
}

/*
 * Exit 2 reasons: an item that could not be collected (an unreadable file,
 * a package database that failed) where the policy says its drift blocks:
 * the gate cannot vouch for what it could not see.
 */
static bool blocking_errors(struct ed_store *st, const struct ed_policy *pol,
			    const struct ed_drift *d, struct ed_err *err)
{
	struct ed_drift tmp = {0};
	sqlite3_stmt *s = NULL;
	bool found = false;
	if (ed_items_prepare(ed_store_db(st), NULL, "kind, key, error", "error IS NOT NULL",
			     " LIMIT 10000", 0, 0, &s) != SQLITE_OK)
		return false;
	const struct ed_snapref *sides[2] = {d->refs, d->cands};
	size_t ns[2] = {d->nrefs, d->ncands};
	size_t cap = 0;
	const struct ed_snapref **hostref = NULL;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < ns[k]; i++) {
			sqlite3_reset(s);
			ed_items_bind(s, sides[k][i].id, sides[k][i].base);
			while (sqlite3_step(s) == SQLITE_ROW) {
				if (tmp.n == cap) {
					size_t ncap = cap ? 2 * cap : 16;
					struct ed_drift_entry *v = realloc(tmp.v, ncap * sizeof(*v));
					const struct ed_snapref **h = realloc(hostref, ncap * sizeof(*h));
					if (v)
						tmp.v = v;
					if (h)
						hostref = h;
					if (!v || !h)
						goto out;
					cap = tmp.cap = ncap;
				}
				struct ed_drift_entry *e = &tmp.v[tmp.n];
				memset(e, 0, sizeof(*e));
				hostref[tmp.n] = &sides[k][i];
				tmp.n++;
				e->kind = strdup((const char *)sqlite3_column_text(s, 0));
				e->key_len = (size_t)sqlite3_column_bytes(s, 1);
				e->key = ed_strndup((const char *)sqlite3_column_text(s, 1), e->key_len);
				e->change = ED_CHANGED;
				e->fields = ED_F_ERROR;
				e->severity = "block";
				e->rule = strdup("collection error");
				e->cand.present = e->ref.present = true;
				e->cand.error = strdup((const char *)sqlite3_column_text(s, 2));
				if (!e->kind || !e->key || !e->rule || !e->cand.error)
					goto out;
			}
		}
	}
	if (tmp.n == 0 || ed_policy_apply(pol, NULL, &tmp, err) != ED_OK)
		goto out;
	for (size_t i = 0; i < tmp.n && !found; i++) {
		const struct ed_drift_entry *e = &tmp.v[i];
		if (e->ignored || strcmp(e->severity, "block") != 0)
			continue;
		ed_err_set(err, ED_IO,
			   "%zu item%s could not be collected and would block, first %s %s on %s/%s: %s",
			   tmp.blocking, tmp.blocking == 1 ? "" : "s", e->kind, e->key, hostref[i]->env,
			   hostref[i]->host, e->cand.error);
		found = true;
	}
out:
	free(hostref);
	sqlite3_finalize(s);
	ed_drift_release(&tmp);
	return found;
}

int ed_cmd_gate(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"production", required_argument, NULL, 'p'},
		{"staging", required_argument, NULL, 's'},
		{"max-age", required_argument, NULL, 'm'},
		{"format", required_argument, NULL, 'f'},
		{"out", required_argument, NULL, 'o'},
		{"record", no_argument, NULL, 'r'},
		{"policy", required_argument, NULL, 'P'},
		{"inventory", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *prod = "production", *stag = "staging", *format = NULL, *out_path = NULL;
	const char *inventory = NULL;
	const char *policy_path = NULL;
	long long max_age = 24 * 3600;
	bool record = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'p': prod = optarg; break;
		case 's': stag = optarg; break;
		case 'f': format = optarg; break;
		case 'o': out_path = optarg; break;
		case 'r': record = true; break;
		case 'I': inventory = optarg; break;
		case 'P': policy_path = optarg; break;
		case 'm':
			if ((max_age = ed_cli_parse_duration(optarg)) < 0)
				return ed_cli_usage_error("gate",
							  "--max-age %s: expected a duration like 90s, 30m, 24h, 7d or 0",
							  optarg);
			break;
		case 'h': fputs(ed_usage_gate, stdout); return ED_EXIT_OK;
		default: return ed_cli_usage_error("gate", "bad option");
		}
	}
	if (optind < argc)
		return ed_cli_usage_error("gate", "unexpected argument '%s'", argv[optind]);
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
	if (ed_policy_load(policy_path, &pol, &err) ||
	    ed_store_open(cli->db, record ? ED_STORE_WRITE : ED_STORE_READ, NULL, &st, &err) ||
	    compare(st, prod, stag, &pol, &d, &err) ||
	    too_old(d.refs, d.nrefs, max_age, now, &err) ||
	    too_old(d.cands, d.ncands, max_age, now, &err) || host_missing(st, &d, &err) ||
	    inventory_missing(inventory, &d, &err) ||
	    blocking_errors(st, &pol, &d, &err)) {
		fprintf(stderr, "gate: cannot vouch for %s: %s\n", stag, err.msg);
		goto out;
	}
	d.policy = policy_path ? policy_path : "built-in default";
	for (size_t i = 0; i < d.nexpired; i++)
		fprintf(stderr, "gate: note: expected difference %s expired %s (%s): judged again\n",
			d.expired[i].text, d.expired[i].expires, d.expired[i].reason);
	for (size_t i = 0; i < d.n; i++) {
		const struct ed_drift_entry *e = &d.v[i];
		if (e->ignored || strcmp(e->severity, "block") != 0)
			continue;
		ed_buf_reset(&line);
		if (ed_buf_add_utf8_escaped(&line, e->key, e->key_len) || ed_buf_adds(&line, ": ") ||
		    ed_drift_describe(e, &line)) {
			fputs("gate: out of memory\n", stderr);
			goto out;
		}
		if (line.len >= 2 && line.p[line.len - 2] == ':')
			line.p[line.len -= 2] = '\0';
		fprintf(stderr, "block: %s %s%s%s %s\n", ed_change_name(e->change), e->kind,
			e->role ? " role " : "", e->role ? e->role : "", line.p);
	}
	if (report) {
		struct ed_render_opts ropts = {.color = !out_path && ed_cli_color(stdout), .store = st};
		if (write_report(report, &d, &ropts, out_path, &err)) {
			ed_err_print(&err);
			goto out;
		}
	}
	if (record) {
		char at[32];
		ed_cli_iso_time(time(NULL), at);
		if (ed_store_record_run(st, "gate", at, &d, NULL, &err)) {
			ed_err_print(&err);
			goto out;
		}
	}
	if (d.blocking) {
		fprintf(stderr,
			"gate: FAIL: %s differs from %s: %zu blocking (%zu added, %zu removed, "
			"%zu changed; %zu ignored)\n",
			d.cand.env, d.ref.env, d.blocking, d.added, d.removed, d.changed, d.ignored);
		status = ED_EXIT_DIFF;
	} else {
		fprintf(stderr, "gate: PASS: %s mirrors %s (%lld items compared, %zu differences "
				"that do not block, %zu ignored)\n",
			d.cand.env, d.ref.env, (long long)d.compared, d.n - d.ignored - d.blocking,
			d.ignored);
		status = ED_EXIT_OK;
	}
out:
	ed_buf_release(&line);
	ed_policy_release(&pol);
	ed_drift_release(&d);
	ed_store_close(st);
	return status;
}
