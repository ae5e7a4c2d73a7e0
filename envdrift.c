/* SPDX-License-Identifier: MIT */
/* envdrift: proves that staging mirrors production, or shows where it does not. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "ed/store.h"

static const struct ed_cmd commands[] = {
	{"init", ed_cmd_init, "create or migrate the store", ed_usage_init},
	{"collect", ed_cmd_collect, "fingerprint one host into a snapshot", ed_usage_collect},
	{"snapshots", ed_cmd_snapshots, "list snapshots", ed_usage_snapshots},
	{"diff", ed_cmd_diff, "show how a candidate differs from a reference", ed_usage_diff},
	{"gate", ed_cmd_gate, "pre-release check: exit 0 only if staging mirrors production",
	 ed_usage_gate},
	{"policy", ed_cmd_policy, "check a policy file, or print the default policy", ed_usage_policy},
	{"report", ed_cmd_report, "the nightly report: drift, history, trend", ed_usage_report},
	{"export", ed_cmd_export, "write a snapshot as a JSON document (push mode)", ed_usage_export},
	{"ingest", ed_cmd_ingest, "store snapshot documents from collect --out or export",
	 ed_usage_ingest},
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
	fputs("\n"
	      "Options:\n"
	      "  --db PATH  the store (default $ENVDRIFT_DB, else ./envdrift.db)\n"
	      "  --help     this text; 'envdrift COMMAND --help' for one command\n"
	      "  --version  the version\n"
	      "\n"
	      "Exit status: 0 success or no drift, 1 drift, 2 error.\n",
	      f);
}

int main(int argc, char **argv)
{
	ed_store_global_init();
	struct ed_cli cli = {.db = getenv("ENVDRIFT_DB")};
	if (!cli.db || !*cli.db)
		cli.db = "envdrift.db";
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("envdrift " ENVDRIFT_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			cli.db = argv[++i];
		} else if (strncmp(argv[i], "--db=", 5) == 0) {
			cli.db = argv[i] + 5;
		} else {
			fprintf(stderr, "envdrift: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[i];
	if (strcmp(name, "help") == 0) {
		if (i + 1 < argc) {
			for (size_t j = 0; j < sizeof(commands) / sizeof(commands[0]); j++)
				if (strcmp(commands[j].name, argv[i + 1]) == 0) {
					fputs(commands[j].usage, stdout);
					return 0;
				}
		}
		usage(stdout);
		return 0;
	}
	for (size_t j = 0; j < sizeof(commands) / sizeof(commands[0]); j++)
		if (strcmp(commands[j].name, name) == 0)
			return commands[j].run(argc - i, argv + i, &cli);
	fprintf(stderr, "envdrift: unknown command '%s'\n", name);
	usage(stderr);
	return 2;
}
