/* SPDX-License-Identifier: MIT */
/* envdrift snapshots: list the snapshots of the store, as a table or JSON. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cmd.h"
#include "ed/store.h"

const char ed_usage_snapshots[] =
	"usage: envdrift [--db PATH] snapshots [--env ENV] [--format text|json]\n"
	"\n"
	"Lists snapshots, oldest first: id, environment, host, start time, status\n"
	"(running, complete, failed, abandoned) and item count. Only 'complete'\n"
	"snapshots are ever compared. JSON: {\"format\": \"envdrift.snapshots/1\",\n"
	"\"snapshots\": [{\"id\", \"env\", \"host\", \"started_at\", \"finished_at\",\n"
	"\"status\", \"items\", \"warnings\"}]}.\n";

/* Where the listing goes: a table on stdout, or a JSON array. */
struct listing {
	bool json;
	json_t *list;
};

static enum ed_code list_row(void *ctx, const struct ed_snapshot_row *r, struct ed_err *err)
{
	struct listing *l = ctx;
	if (l->json) {
		json_t *o = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I}", "id",
				      (json_int_t)r->id, "env", r->env, "host", r->host, "started_at",
				      r->started_at, "finished_at", r->finished_at, "status", r->status,
				      "items", (json_int_t)r->items, "warnings", (json_int_t)r->warnings);
		if (!o || json_array_append_new(l->list, o))
			return ed_err_set(err, ED_NOMEM, "out of memory listing snapshots");
	} else {
		printf("%6lld  %-14s %-20s %-21s %-10s %9lld\n", (long long)r->id,
		       r->env ? r->env : "", r->host ? r->host : "",
		       r->started_at ? r->started_at : "", r->status ? r->status : "",
		       (long long)r->items);
	}
	return ED_OK;
}

int ed_cmd_snapshots(int argc, char **argv, struct ed_cli *cli)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"env", required_argument, NULL, 'e'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *env = NULL, *format = "text";
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'e': env = optarg; break;
		case 'f': format = optarg; break;
		case 'h': fputs(ed_usage_snapshots, stdout); return ED_EXIT_OK;
		default: return ed_cli_usage_error("snapshots", "bad option");
		}
	}
	if (optind < argc)
		return ed_cli_usage_error("snapshots", "unexpected argument '%s'", argv[optind]);
	bool json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "text") != 0)
		return ed_cli_usage_error("snapshots", "--format %s: known formats are text, json",
					  format);

	struct ed_err err = {0};
	struct ed_store *st = NULL;
	struct listing l = {.json = json};
	int status = ED_EXIT_ERROR;
	if (ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err))
		goto fail;
	if (json)
		l.list = json_array();
	else
		printf("%6s  %-14s %-20s %-21s %-10s %9s\n", "ID", "ENV", "HOST", "STARTED",
		       "STATUS", "ITEMS");
	if (ed_store_list_snapshots(st, env, list_row, &l, &err))
		goto fail;
	if (json) {
		json_t *doc = json_pack("{s:s, s:O}", "format", "envdrift.snapshots/1",
					"snapshots", l.list);
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
			json_decref(doc);
			ed_err_set(&err, ED_IO, "cannot write the snapshot list");
			goto fail;
		}
		json_decref(doc);
		putchar('\n');
	}
	if (fflush(stdout) != 0) {
		ed_err_set(&err, ED_IO, "cannot write to standard output");
		goto fail;
	}
	status = ED_EXIT_OK;
	goto out;
fail:
	status = ed_cli_fail(&err);
out:
	json_decref(l.list);
	ed_store_close(st);
	return status;
}
