/* SPDX-License-Identifier: MIT */
/* envdrift init: create the store or migrate it to this binary's version; create its key. */
#include <grp.h>

#include "cmd.h"
#include "opt.h"
#include "ed/store.h"

static const struct ed_cmd_help help = {
	.name = "init",
	.usage = "init [--group NAME]",
	.intro = "Creates the store at PATH (default $ENVDRIFT_DB, else ./envdrift.db), or "
		 "migrates an older store to this version of envdrift. The store is private "
		 "(mode 0600, as its -wal and -shm and the reports written from it with --out) "
		 "unless --group shares it. Also creates PATH.key (mode 0600), the per-store key "
		 "that fingerprints secrets: keep it with the store and never share it. Running "
		 "init again is harmless.",
};

int ed_cmd_init(int argc, char **argv, struct ed_cli *cli)
{
	const char *group = NULL;
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "group", "NAME",
			       &group, "let group NAME read the store: mode 0640, and reports written "
				       "from it with --out too (the key stays 0600)"),
		ED_OPT_END_(),
	};
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
	if (status >= 0)
		return status;

	struct ed_err err = {0};
	struct ed_store *st = NULL;
	uint8_t key[ED_KEY_LEN];
	int from = 0;
	/* Asked first, so that a misspelt group leaves no store behind. */
	struct group gr, *g = NULL;
	char buf[4096];
	if (group && (getgrnam_r(group, &gr, buf, sizeof(buf), &g) != 0 || !g))
		return ed_cli_usage_error("init", "--group %s: no such group", group);
	if (ed_store_open(cli->db, ED_STORE_CREATE, &from, &st, &err) ||
	    ed_store_key(cli->db, true, key, &err) ||
	    (group && ed_store_share(cli->db, group, &err))) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	int to = ed_store_schema_version();
	if (from == 0)
		ed_say("created store %s (version %d)", cli->db, to);
	else if (from < to)
		ed_say("migrated store %s from version %d to %d", cli->db, from,
			to);
	else
		ed_say("store %s is up to date (version %d)", cli->db, to);
	return ED_EXIT_OK;
}
