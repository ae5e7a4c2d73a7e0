/* SPDX-License-Identifier: MIT */
/* envdrift: proves that staging mirrors production, or shows where it does not. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opt.h"
#include "ed/snapdoc.h"
#include "ed/store.h"
#include "ed/suggest.h"
#include "version.h"

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
	{"serve", ed_cmd_serve, "the JSON API, /metrics and the push endpoint over HTTP"},
	{"token", ed_cmd_token, "add, list or revoke the tokens of serve"},
	{"prune", ed_cmd_prune, "remove old snapshots, keeping what history and deltas need"},
};

/* 'complete envs': each environment of the store, once per snapshot (the completion sorts). */
static enum ed_code print_env(void *ctx, const struct ed_snapshot_row *r, struct ed_err *err)
{
	(void)ctx, (void)err;
	if (r->env)
		puts(r->env);
	return ED_OK;
}

/*
 * The hidden command behind the shell completion (contrib/completion):
 * 'complete' prints the commands, 'complete envs' the store's environments.
 * A command's options: 'envdrift CMD --complete' (cmd/opt.c).
 */
static int complete(int argc, char **argv, struct ed_cli *cli)
{
	if (argc == 1) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			puts(commands[i].name);
		puts("help");
		return ED_EXIT_OK;
	}
	if (argc != 2 || strcmp(argv[1], "envs") != 0)
		return ed_cli_usage_error("complete", "expected nothing or 'envs'");
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	if (ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err) ||
	    ed_store_list_snapshots(st, NULL, print_env, NULL, &err)) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	return ed_cli_flush_stdout(&err) ? ed_cli_fail(&err) : ED_EXIT_OK;
}

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
	ed_snapdoc_global_init();
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
		/* The second line is what a remote collection checks before it runs us on a host. */
		puts("envdrift " ENVDRIFT_VERSION "\nformats: " ED_SNAPDOC_FORMAT " envdrift.diff/1");
		/* Which commit this binary was built from; never in documents or signatures. */
		if (*ENVDRIFT_DESCRIBE)
			puts("build: git " ENVDRIFT_DESCRIBE);
		return ED_EXIT_OK;
	}
	if (i == argc) {
		usage(stderr);
		return ED_EXIT_ERROR;
	}
	const char *name = argv[i];
	bool help_of = strcmp(name, "help") == 0 && i + 1 < argc;
	if (strcmp(name, "help") == 0 && !help_of) {
		usage(stdout);
		return ED_EXIT_OK;
	}
	if (help_of)
		name = argv[++i];
	if (strcmp(name, "complete") == 0) {
		ed_err_set_command("complete");
		return complete(argc - i, argv + i, &cli);
	}
	const size_t ncommands = sizeof(commands) / sizeof(commands[0]);
	const char *names[sizeof(commands) / sizeof(commands[0])];
	for (size_t j = 0; j < ncommands; j++) {
		if (strcmp(commands[j].name, name) == 0) {
			ed_err_set_command(commands[j].name);
			/* 'envdrift help CMD' is 'envdrift CMD --help': one help text per command. */
			char *args[] = {argv[i], "--help", NULL};
			return help_of ? commands[j].run(2, args, &cli)
				       : commands[j].run(argc - i, argv + i, &cli);
		}
		names[j] = commands[j].name;
	}
	/* One line and a hint, not the whole usage: the mistake stays in view. */
	const char *close = ed_suggest(name, names, ncommands);
	return ed_cli_usage_error(NULL, "unknown command '%s'%s%s%s", name,
				  close ? " (did you mean '" : "", close ? close : "",
				  close ? "'?)" : "");
}
