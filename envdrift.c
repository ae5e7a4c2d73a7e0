/* SPDX-License-Identifier: MIT */
/* envdrift: proves that staging mirrors production, or shows where it does not. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opt.h"
#include "ed/store.h"

static const struct ed_cmd commands[] = {
	{"init", ed_cmd_init, "create or migrate the store"},
	{"collect", ed_cmd_collect, "fingerprint one host into a snapshot"},
	{"inventory", ed_cmd_inventory, "collect every host of an inventory over SSH"},
	{"snapshots", ed_cmd_snapshots, "list snapshots"},
	{"diff", ed_cmd_diff, "show how a candidate differs from a reference"},
	{"gate", ed_cmd_gate, "pre-release check: exit 0 only if staging mirrors production"},
	{"policy", ed_cmd_policy, "check a policy file, or print the default policy"},
	{"report", ed_cmd_report, "the nightly report: drift, history, trend"},
	{"export", ed_cmd_export, "write a snapshot as a JSON document (push mode)"},
	{"ingest", ed_cmd_ingest, "store snapshot documents from collect --out or export"},
};

static void usage(FILE *f)
{
	fputs("usage: envdrift [--db PATH] COMMAND [ARGS]\n"
	      "\n"
	      "Fingerprints hosts (files, structured configs, packages, database schemas,\n"
	      "system facts), locally or over SSH, into an SQLite store, and shows where\n"
	      "staging differs from production.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions:\n", f);
	ed_opt_help_global(f);
	fputs("\nExit status: 0 success or no drift, 1 drift, 2 error.\n", f);
}

int main(int argc, char **argv)
{
	ed_store_global_init();
	/* Past `ulimit -f`, a write fails with EFBIG and is reported, instead of killing us. */
	signal(SIGXFSZ, SIG_IGN);
	struct ed_cli cli = {.db = getenv("ENVDRIFT_DB")};
	if (!cli.db || !*cli.db)
		cli.db = "envdrift.db";
	int i;
	bool help, version;
	if (ed_opt_parse_global(argc, argv, &cli, &i, &help, &version) != ED_OPT_OK)
		return ED_EXIT_ERROR;
	if (help) {
		usage(stdout);
		return ED_EXIT_OK;
	}
	if (version) {
		puts("envdrift " ENVDRIFT_VERSION);
		return ED_EXIT_OK;
	}
	if (i == argc) {
		usage(stderr);
		return ED_EXIT_ERROR;
	}
	const char *name = argv[i];
	if (strcmp(name, "help") == 0) {
		if (i + 1 < argc) {
			/* 'envdrift help CMD' is 'envdrift CMD --help': one help text per command. */
			for (size_t j = 0; j < sizeof(commands) / sizeof(commands[0]); j++)
				if (strcmp(commands[j].name, argv[i + 1]) == 0) {
					char *args[] = {argv[i + 1], "--help", NULL};
					return commands[j].run(2, args, &cli);
				}
		}
		usage(stdout);
		return ED_EXIT_OK;
	}
	for (size_t j = 0; j < sizeof(commands) / sizeof(commands[0]); j++)
		if (strcmp(commands[j].name, name) == 0)
			return commands[j].run(argc - i, argv + i, &cli);
	fprintf(stderr, "envdrift: unknown command '%s'\n", name);
	usage(stderr);
	return ED_EXIT_ERROR;
}
