/* SPDX-License-Identifier: MIT */
/* envdrift prune: drop the snapshots no one needs any more, and give the space back. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "opt.h"
#include "ed/store.h"

static const struct ed_cmd_help help = {
	.name = "prune",
	.usage = "prune (--keep-days N | --keep-last N)... [--dry-run] [--vacuum]",
	.intro = "Removes old snapshots from the store. Always kept: the latest complete "
		 "snapshot of every host; every snapshot a recorded run compared ('report', "
		 "'gate --record': history and 'since' stay true); 'running' snapshots; failed "
		 "and abandoned ones less than a day old; and the base of any delta kept (when a "
		 "base would go, the oldest delta kept on it becomes a full snapshot and the "
		 "others are rewritten onto it, reading exactly as before), or of any other "
		 "host's delta (a base shared by the hosts of a role stays as long as one of "
		 "them uses it). Besides those, "
		 "--keep-days and --keep-last say what stays; a snapshot either keeps stays. "
		 "Failed and abandoned snapshots older than a day go.\n"
		 "Each host is pruned in one transaction: a crash or kill at any point leaves every "
		 "complete snapshot as it was, and 'serve', 'collect' and readers go on meanwhile "
		 "(a writer waits for one host at most). Prints one line per snapshot removed "
		 "(id, environment, host, status, time, items), then a summary on stderr.",
	.outro = "Space: pages freed are reused by later snapshots at once. A store made by "
		 "'init' since store version 10 gives them back to the disk after each prune "
		 "(auto_vacuum incremental); an older store does with --vacuum, once (a VACUUM in "
		 "place: it needs as much free disk as the store).\n"
		 "Exit status: 0 done (or nothing to do), 2 error (nothing changed on the host "
		 "being pruned when it failed; the hosts before it stay pruned).",
};

static void print_one(void *ctx, const struct ed_pruned *p)
{
	bool *dry = ctx;
	ed_term_printf(stdout, "%s@%lld  %-14s %-20s %-10s %-21s %9lld\n", *dry ? "would prune " : "pruned ",
		       (long long)p->id, p->env, p->host, p->status, p->at ? p->at : "",
		       (long long)p->items);
}

int ed_cmd_prune(int argc, char **argv, struct ed_cli *cli)
{
	int keep_days = 0, keep_last = 0;
	bool dry = false, vacuum = false;
	const struct ed_opt opts[] = {
		ED_OPT_INT_(0, "keep-days", "N", &keep_days, 1, 36500,
			    "keep every complete snapshot that finished in the last N days"),
		ED_OPT_INT_(0, "keep-last", "N", &keep_last, 1, 1000000,
			    "keep the newest N complete snapshots of each host"),
		ED_OPT_FLAG_(0, "dry-run", &dry,
			     "say what would be removed (and how many deltas rebased), change nothing"),
		ED_OPT_FLAG_(0, "vacuum", &vacuum,
			     "afterwards, give free pages back to the disk even in a store made "
			     "before version 10 (a VACUUM in place, once)"),
		ED_OPT_END_(),
	};
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
	if (status >= 0)
		return status;
	if (!keep_days && !keep_last)
		return ed_cli_usage_error("prune", "say what to keep besides each host's latest "
						   "snapshot: --keep-days N, --keep-last N or both");
	if (dry && vacuum)
		return ed_cli_usage_error("prune", "--dry-run changes nothing: --vacuum would");

	struct ed_err err = {0};
	struct ed_store *st = NULL;
	struct ed_prune_opts o = {.keep_days = keep_days, .keep_last = keep_last, .dry_run = dry,
				  .now = (long long)time(NULL)};
	struct ed_prune_result res;
	int64_t before = 0, after = 0;
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
	    ed_store_prune(st, &o, print_one, &dry, &res, &err) ||
	    (!dry && ed_store_vacuum(st, vacuum, &before, &after, &err))) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	if (ed_cli_flush_stdout(&err))
		return ed_cli_fail(&err);
	ed_say("%s %lld snapshot%s of %lld host%s (%lld failed or abandoned); %lld base%s replaced%s",
	       dry ? "would prune" : "pruned", (long long)res.snapshots,
	       res.snapshots == 1 ? "" : "s", (long long)res.hosts, res.hosts == 1 ? "" : "s",
	       (long long)res.incomplete, (long long)res.rebased, res.rebased == 1 ? "" : "s",
	       dry ? " (dry run: nothing changed)" : "");
	if (!dry)
		ed_say("store: %.1f MiB before, %.1f MiB after%s", (double)before / (1 << 20),
		       (double)after / (1 << 20),
		       before == after && res.free_pages
			       ? "; its free pages are reused by later snapshots ('prune --vacuum' "
				 "gives them back to the disk)"
			       : "");
	return ED_EXIT_OK;
}
