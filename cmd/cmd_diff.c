/* SPDX-License-Identifier: MIT */
/* envdrift diff and envdrift gate: compare two snapshots; report, or vouch for staging. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ed/diff.h"
#include "ed/store.h"

const char ed_usage_diff[] =
	"usage: envdrift [--db PATH] diff REFERENCE CANDIDATE [--format text|json]\n"
	"\n"
	"Shows how CANDIDATE differs from REFERENCE. Each is an environment name (its\n"
	"latest complete snapshot) or a snapshot id written @ID (see 'envdrift\n"
	"snapshots'). 'added' means only in the candidate, 'removed' only in the\n"
	"reference, 'changed' in both with different content or attributes (type,\n"
	"mode, owner, group, link target; never mtime or inode).\n"
	"\n"
	"  --format text    grouped by kind, counts first (default)\n"
	"  --format json    the envdrift.diff/1 document (see README)\n"
	"\n"
	"Exit status, as diff(1): 0 no drift, 1 drift, 2 error.\n";

const char ed_usage_gate[] =
	"usage: envdrift [--db PATH] gate [--production ENV] [--staging ENV]\n"
	"\n"
	"The pre-release check: compares the latest complete snapshot of the staging\n"
	"environment (default 'staging') with production's (default 'production').\n"
	"Prints one line per blocking difference on stderr, then a summary line.\n"
	"Without a policy every difference blocks.\n"
	"\n"
	"Exit status: 0 staging mirrors production, 1 blocking drift, 2 cannot vouch\n"
	"for staging (no complete snapshot, unreadable store...).\n";

/* Resolves both sides (every host of an environment) and runs the comparison. */
static enum ed_code compare(const char *db, const char *ref, const char *cand,
			    struct ed_drift *d, struct ed_err *err)
{
	struct ed_store *st = NULL;
	struct ed_snapref *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	enum ed_code rc = ed_store_open(db, ED_STORE_READ, NULL, &st, err);
	if (!rc)
		rc = ed_store_resolve_all(st, ref, &a, &na, err);
	if (!rc)
		rc = ed_store_resolve_all(st, cand, &b, &nb, err);
	if (!rc && na == 1 && nb == 1)
		rc = ed_diff_snapshots(st, a, b, d, err); /* two hosts: whatever their roles */
	else if (!rc)
		rc = ed_diff_sides(st, a, na, b, nb, d, err);
	free(a);
	free(b);
	ed_store_close(st);
	return rc;
}

int ed_cmd_diff(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *format = "text";
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'f': format = optarg; break;
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
	struct ed_render_opts ropts = {.color = ed_cli_color(stdout)};
	int status;
	if (compare(cli->db, argv[optind], argv[optind + 1], &d, &err) ||
	    report->render(stdout, &d, &ropts, &err))
		status = ed_cli_fail(&err);
	else if (fflush(stdout) != 0)
		status = ed_cli_fail(&(struct ed_err){ED_IO, "cannot write to standard output"});
	else
		status = d.n ? ED_EXIT_DIFF : ED_EXIT_OK;
	ed_drift_release(&d);
	return status;
}

int ed_cmd_gate(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"production", required_argument, NULL, 'p'},
		{"staging", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *prod = "production", *stag = "staging";
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'p': prod = optarg; break;
		case 's': stag = optarg; break;
		case 'h': fputs(ed_usage_gate, stdout); return ED_EXIT_OK;
		default: return ed_cli_usage_error("gate", "bad option");
		}
	}
	if (optind < argc)
		return ed_cli_usage_error("gate", "unexpected argument '%s'", argv[optind]);

	struct ed_err err = {0};
	struct ed_drift d = {0};
	struct ed_buf line = ED_BUF_INIT;
	int status = ED_EXIT_ERROR;
	if (compare(cli->db, prod, stag, &d, &err)) {
		fprintf(stderr, "gate: cannot vouch for %s: %s\n", stag, err.msg);
		goto out;
	}
	for (size_t i = 0; i < d.n; i++) {
		const struct ed_drift_entry *e = &d.v[i];
		if (strcmp(e->severity, "block") != 0)
			continue;
		ed_buf_reset(&line);
		if (ed_buf_add_utf8_escaped(&line, e->key, e->key_len) || ed_buf_adds(&line, ": ") ||
		    ed_drift_describe(e, &line)) {
			fputs("gate: out of memory\n", stderr);
			goto out;
		}
		if (line.len >= 2 && line.p[line.len - 2] == ':')
			line.p[line.len -= 2] = '\0';
		fprintf(stderr, "block: %s %s %s\n", ed_change_name(e->change), e->kind, line.p);
	}
	if (d.blocking) {
		fprintf(stderr,
			"gate: FAIL: %s (@%lld) differs from %s (@%lld): %zu blocking "
			"(%zu added, %zu removed, %zu changed)\n",
			d.cand.env, (long long)d.cand.id, d.ref.env, (long long)d.ref.id,
			d.blocking, d.added, d.removed, d.changed);
		status = ED_EXIT_DIFF;
	} else {
		fprintf(stderr, "gate: PASS: %s (@%lld) mirrors %s (@%lld), %lld items compared\n",
			d.cand.env, (long long)d.cand.id, d.ref.env, (long long)d.ref.id,
			(long long)d.compared);
		status = ED_EXIT_OK;
	}
out:
	ed_buf_release(&line);
	ed_drift_release(&d);
	return status;
}
