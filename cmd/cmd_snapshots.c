/* SPDX-License-Identifier: MIT */
/* envdrift snapshots: list the snapshots of the store, as a table or JSON. */
#include <jansson.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "ed/buf.h"
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

/* Where the listing goes: a table on stdout, or a JSON array. */
struct listing {
	bool json;
	json_t *list;
	size_t n; /* snapshots listed */
};

static enum ed_code list_row(void *ctx, const struct ed_snapshot_row *r, struct ed_err *err)
{
	struct listing *l = ctx;
	l->n++;
	if (l->json) {
		json_t *o = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I}", "id",
				      (json_int_t)r->id, "env", r->env, "host", r->host, "started_at",
				      r->started_at, "finished_at", r->finished_at, "status", r->status,
				      "items", (json_int_t)r->items, "warnings", (json_int_t)r->warnings);
		if (!o || json_array_append_new(l->list, o))
			return ed_err_set(err, ED_NOMEM, "out of memory listing snapshots");
	} else {
		ed_term_printf(stdout, "%6lld  %-14s %-20s %-21s %-10s %9lld\n", (long long)r->id,
		       r->env ? r->env : "", r->host ? r->host : "",
		       r->started_at ? r->started_at : "", r->status ? r->status : "",
		       (long long)r->items);
	}
	return ED_OK;
}

int ed_cmd_snapshots(int argc, char **argv, struct ed_cli *cli)
{
	const char *env = NULL, *format = "text";
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "env", "ENV", &env, "only the snapshots of this environment"),
		ED_OPT_CHOICE_(0, "format", "FORMAT", &format, "text json",
			       "text (default) or json"),
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
	struct listing l = {.json = json};
	status = ED_EXIT_ERROR;
	if (ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err))
		goto fail;
	if (json)
		l.list = json_array();
	else
		printf("%6s  %-14s %-20s %-21s %-10s %9s\n", "ID", "ENV", "HOST", "STARTED",
		       "STATUS", "ITEMS");
	if (ed_store_list_snapshots(st, env, list_row, &l, &err))
		goto fail;
	if (env && l.n == 0) {
		/* An empty listing is no error, but a mistyped name should not look like one. */
		struct ed_buf hint = ED_BUF_INIT;
		if (ed_store_env_hint(st, env, &hint, &err) == ED_OK)
			ed_warn("environment '%s' has no snapshot; %s", env, ed_buf_str(&hint));
		ed_buf_release(&hint);
	}
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
	if (ed_cli_flush_stdout(&err))
		goto fail;
	status = ED_EXIT_OK;
	goto out;
fail:
	status = ed_cli_fail(&err);
out:
	json_decref(l.list);
	ed_store_close(st);
	return status;
}
