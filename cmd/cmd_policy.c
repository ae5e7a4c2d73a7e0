/* SPDX-License-Identifier: MIT */
/* envdrift policy: check a policy file, or print the built-in default policy. */
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "ed/policy.h"

static const struct ed_cmd_help help = {
	.name = "policy",
	.usage = "policy check FILE [--today YYYY-MM-DD]\npolicy default",
	.intro = "'check' reads FILE on top of the built-in default policy, as 'diff' and 'gate' "
		 "do with --policy FILE, and prints one line: what the policy holds, and how many "
		 "expected differences have expired (as of --today). A wrong line is an error "
		 "naming FILE, the line and the problem.\n\n"
		 "'default' prints the built-in default policy (policies/default.ini): a starting "
		 "point for your own.\n\n"
		 "The file format is described in docs/policy.md.",
	.outro = "Exit status: 0 the policy is valid, 2 it is not (or another error).",
};

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
	ed_term_printf(out, "%s: valid: %zu expected %s (%zu from this file, %zu expired), "
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
	const char *today = NULL;
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "today", "YYYY-MM-DD", &today,
			       "with 'check': the day expiry dates are judged against (default: "
			       "the current UTC date)"),
		ED_OPT_END_(),
	};
	int nargs = 0;
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, &nargs));
	if (status >= 0)
		return status;
	if (nargs == 0)
		return ed_cli_usage_error("policy", "expected 'check FILE' or 'default'");
	const char *verb = argv[1];
	nargs--; /* the arguments of the verb, from argv[2] */
	if (strcmp(verb, "default") == 0) {
		if (nargs)
			return ed_cli_usage_error("policy", "'default' takes no argument, got '%s'",
						  argv[2]);
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

	const char *path = argv[2];
	struct ed_err err = {0};
	struct ed_policy p = {0};
	if (ed_policy_load(path, &p, &err)) {
		status = ed_cli_fail(&err);
	} else {
		summary(stdout, path, &p, today);
		status = ed_cli_flush_stdout(&err) ? ed_cli_fail(&err) : ED_EXIT_OK;
	}
	ed_policy_release(&p);
	return status;
}
