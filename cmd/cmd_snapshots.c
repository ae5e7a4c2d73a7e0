/* SPDX-License-Identifier: MIT */
/* envdrift snapshots: list the snapshots of the store, as a table or JSON. */
#include <jansson.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "ed/store.h"

static const struct ed_cmd_help help = {
	.name = "snapshots",
	.usage = "snapshots [--env ENV] [--format text|json]",
	.intro = "Lists snapshots, oldest first: id, environment, host, start time, status "
		 "(running, complete, failed, abandoned) and item count. Only 'complete' "
		 "snapshots are ever compared. JSON: {\"format\": \"envdrift.snapshots/1\", "
		 "\"snapshots\": [{\"id\", \"env\", \"host\", \"started_at\", \"finished_at\", "
		 "\"status\", \"items\", \"warnings\"}]}.",
};

int ed_cmd_snapshots(int argc, char **argv, struct ed_cli *cli)
{
	const char *env = NULL, *format = "text";
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "env", "ENV", &env, "only the snapshots of this environment"),
		ED_OPT_STRING_(0, "format", "FORMAT", &format, "text (default) or json"),
		ED_OPT_END_(),
	};
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
	if (status >= 0)
		return status;
	bool json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "text") != 0)
		return ed_cli_usage_error("snapshots", "--format %s: known formats are text, json",
					  format);

	struct ed_err err = {0};
	struct ed_store *st = NULL;
	sqlite3_stmt *s = NULL;
	json_t *list = NULL;
	status = ED_EXIT_ERROR;
	if (ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err))
		goto fail;
	if (sqlite3_prepare_v2(ed_store_db(st),
			       "SELECT v.id, v.env, v.host, v.started_at, v.finished_at, v.status, "
			       "v.items, s.warning_count FROM snapshots_v AS v "
			       "JOIN snapshots AS s ON s.id = v.id "
			       "WHERE ?1 IS NULL OR v.env = ?1 ORDER BY v.id",
			       -1, &s, NULL) != SQLITE_OK) {
		ed_store_fail(st, "listing snapshots", &err);
		goto fail;
	}
	if (env)
		sqlite3_bind_text(s, 1, env, -1, SQLITE_STATIC);
	if (json)
		list = json_array();
	else
		printf("%6s  %-14s %-20s %-21s %-10s %9s\n", "ID", "ENV", "HOST", "STARTED",
		       "STATUS", "ITEMS");
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t[6];
		for (int i = 1; i <= 5; i++)
			t[i] = (const char *)sqlite3_column_text(s, i);
		if (json) {
			json_t *o = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I}",
					      "id", (json_int_t)sqlite3_column_int64(s, 0),
					      "env", t[1], "host", t[2], "started_at", t[3],
					      "finished_at", t[4], "status", t[5],
					      "items", (json_int_t)sqlite3_column_int64(s, 6),
					      "warnings", (json_int_t)sqlite3_column_int64(s, 7));
			if (!o || json_array_append_new(list, o)) {
				ed_err_set(&err, ED_NOMEM, "out of memory listing snapshots");
				goto fail;
			}
		} else {
			printf("%6lld  %-14s %-20s %-21s %-10s %9lld\n",
			       (long long)sqlite3_column_int64(s, 0), t[1] ? t[1] : "",
			       t[2] ? t[2] : "", t[3] ? t[3] : "", t[5] ? t[5] : "",
			       (long long)sqlite3_column_int64(s, 6));
		}
	}
	if (r != SQLITE_DONE) {
		ed_store_fail(st, "listing snapshots", &err);
		goto fail;
	}
	if (json) {
		json_t *doc = json_pack("{s:s, s:O}", "format", "envdrift.snapshots/1",
					"snapshots", list);
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
	json_decref(list);
	sqlite3_finalize(s);
	ed_store_close(st);
	return status;
}
