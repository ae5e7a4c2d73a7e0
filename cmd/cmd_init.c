/* SPDX-License-Identifier: MIT */
/* envdrift init: create the store or migrate it to this binary's version; create its key. */
#include <getopt.h>

#include "cmd.h"
#include "ed/store.h"

const char ed_usage_init[] =
	"usage: envdrift [--db PATH] init\n"
	"\n"
	"Creates the store at PATH (default $ENVDRIFT_DB, else ./envdrift.db), or\n"
	"migrates an older store to this version of envdrift. Also creates PATH.key\n"
	"(mode 0600), the per-store key that fingerprints secrets: keep it with the\n"
	"store and never share it. Running init again is harmless.\n";

int ed_cmd_init(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'h': fputs(ed_usage_init, stdout); return ED_EXIT_OK;
		default: return ed_cli_usage_error("init", "bad option");
		}
	}
	if (optind < argc)
		return ed_cli_usage_error("init", "unexpected argument '%s'", argv[optind]);

	struct ed_err err = {0};
	struct ed_store *st = NULL;
	uint8_t key[ED_KEY_LEN];
	int from = 0;
	if (ed_store_open(cli->db, ED_STORE_CREATE, &from, &st, &err) ||
	    ed_store_key(cli->db, true, key, &err)) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	int to = ed_store_schema_version();
	if (from == 0)
		fprintf(stderr, "envdrift: created store %s (version %d)\n", cli->db, to);
	else if (from < to)
		fprintf(stderr, "envdrift: migrated store %s from version %d to %d\n", cli->db, from,
			to);
	else
		fprintf(stderr, "envdrift: store %s is up to date (version %d)\n", cli->db, to);
	return ED_EXIT_OK;
}
