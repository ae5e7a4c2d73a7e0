/* SPDX-License-Identifier: MIT */
/* envdrift policy: check a policy file, or print the built-in default policy. */
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "ed/policy.h"

const char ed_usage_policy[] =
	"usage: envdrift policy check FILE [--today YYYY-MM-DD]\n"
	"       envdrift policy default\n"
	"\n"
	"check    reads FILE on top of the built-in default policy, as 'diff' and\n"
	"         'gate' do with --policy FILE, and prints one line: what the policy\n"
	"         holds, and how many expected differences have expired (as of\n"
	"         --today, default the current UTC date). A wrong line is an error\n"
	"         naming FILE, the line and the problem.\n"
	"default  prints the built-in default policy (policies/default.ini): a\n"
	"         starting point for your own.\n"
	"\n"
	"The file format is described in docs/policy.md.\n"
	"\n"
	"Exit status: 0 the policy is valid, 2 it is not (or another error).\n";

/* "1 thing" or "2 things". */
static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The one-line summary of what p holds, today being YYYY-MM-DD. */
static void summary(FILE *out, const char *path, const struct ed_policy *p, const char *today)
{
	size_t own = 0, expired = 0, sev = 0, sev_own = 0, dif = 0, dif_own = 0;
	for (size_t i = 0; i < p->nexpects; i++) {
		own += p->expects[i].where.origin != NULL;
		expired += p->expects[i].expires[0] && strcmp(today, p->expects[i].expires) > 0;
	}
	for (size_t i = 0; i < p->nseverities; i++) {
		sev++;
		sev_own += p->severities[i].where.origin != NULL;
	}
	for (size_t i = 0; i < p->ndiffers; i++) {
		dif++;
		dif_own += p->differs[i].where.origin != NULL;
	}
	fprintf(out, "%s: valid: %zu expected %s (%zu from this file, %zu expired), "
		     "%zu severity %s (%zu from this file), %zu must-differ %s (%zu from this file); "
		     "secrets %s; packages ahead %s, behind %s, rebuild %s\n",
		path, p->nexpects, plural(p->nexpects, "difference", "differences"), own, expired,
		sev, plural(sev, "line", "lines"), sev_own, dif, plural(dif, "line", "lines"), dif_own,
		p->secrets.value ? "must differ" : "may be shared",
		ed_policy_level_name((enum ed_policy_level)p->ahead.value),
		ed_policy_level_name((enum ed_policy_level)p->behind.value),
		ed_policy_level_name((enum ed_policy_level)p->rebuild.value));
}

int ed_cmd_policy(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"today", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	(void)cli;
	const char *today = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': today = optarg; break;
		case 'h': fputs(ed_usage_policy, stdout); return ED_EXIT_OK;
		default: return ed_cli_usage_error("policy", "bad option");
		}
	}
	if (optind == argc)
		return ed_cli_usage_error("policy", "expected 'check FILE' or 'default'");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	if (strcmp(verb, "default") == 0) {
		if (nargs)
			return ed_cli_usage_error("policy", "'default' takes no argument, got '%s'",
						  argv[optind + 1]);
		if (today)
			return ed_cli_usage_error("policy", "--today goes with 'check'");
		if (fputs(ed_policy_default_text(), stdout) == EOF || fflush(stdout) != 0)
			return ed_cli_fail(&(struct ed_err){ED_IO, "cannot write to standard output"});
		return ED_EXIT_OK;
	}
	if (strcmp(verb, "check") != 0)
		return ed_cli_usage_error("policy", "unknown action '%s' (check, default)", verb);
	if (nargs != 1)
		return ed_cli_usage_error("policy", "'check' takes one FILE, got %d argument%s", nargs,
					  nargs == 1 ? "" : "s");
	char now[11];
	if (!today) {
		ed_policy_today(time(NULL), now);
		today = now;
	} else if (!ed_policy_date_valid(today)) {
		return ed_cli_usage_error("policy", "--today %s: not a date YYYY-MM-DD", today);
	}

	const char *path = argv[optind + 1];
	struct ed_err err = {0};
	struct ed_policy p = {0};
	int status;
	if (ed_policy_load(path, &p, &err)) {
		status = ed_cli_fail(&err);
	} else {
		summary(stdout, path, &p, today);
		status = fflush(stdout) != 0
				 ? ed_cli_fail(&(struct ed_err){ED_IO, "cannot write to standard output"})
				 : ED_EXIT_OK;
	}
	ed_policy_release(&p);
	return status;
}
