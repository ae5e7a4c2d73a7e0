/* SPDX-License-Identifier: MIT */
/*
 * envdrift export / ingest: snapshots as envdrift.snapshot/1 JSON documents,
 * for hosts that push their snapshots instead of being collected.
 */
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "ed/snapdoc.h"
#include "ed/snapdoc_store.h"
#include "ed/store.h"

static const struct ed_cmd_help export_help = {
	.name = "export",
	.usage = "export @ID|ENV [--out FILE]",
	.intro = "Writes a complete snapshot as one JSON document in the format "
		 "envdrift.snapshot/1 (docs/snapshot-format.md): the same format that 'ingest' "
		 "reads and 'collect --out' writes, so a snapshot moves from one store to another "
		 "with export and ingest, items byte for byte.\n\n"
		 "@ID is the snapshot; ENV, that environment's latest complete snapshot (an "
		 "environment of one host only).",
	.outro = "The document carries the snapshot's document id, which makes ingest idempotent. "
		 "A snapshot collected into this store directly gets its id on its first export, "
		 "recorded in the store (which must be writable then), so every export of it "
		 "carries the same id.\n"
		 "Exit status: 0 written, 2 error.",
};

static const struct ed_cmd_help ingest_help = {
	.name = "ingest",
	.usage = "ingest [--check] [--max-skew DURATION] FILE...",
	.intro = "Reads each FILE ('-': standard input), a JSON document in the format "
		 "envdrift.snapshot/1 written by 'collect --out' or 'export', checks all of it, and "
		 "stores it as one snapshot, all or nothing. Prints the snapshot's id on stdout, "
		 "one line per FILE stored or already stored.",
	.outro = "A document that breaks the format in any way is refused with the JSON path of "
		 "the first problem, and nothing of it is stored:\n"
		 "  envdrift: error: web1.json: $.items[12].mode: expected an integer, got \"xyz\"\n"
		 "A document whose id the store already holds is not stored again:\n"
		 "  envdrift: web1.json: snapshot 0f8e...-... already stored as @12\n"
		 "That counts as success, so a push can simply be retried; a document with an id the "
		 "store holds but other content (environment, host, times, items or warnings) is "
		 "refused: \"document UUID ... was stored as @N with different content\". A document "
		 "dated more than --max-skew (default 5m) ahead of this machine's clock is refused. "
		 "The snapshot keeps the "
		 "document's environment, host, role, root and times: 'latest' still means the "
		 "snapshot stored last. Documents are read whole into memory; at most 1 GiB each.\n"
		 "Exit status: 0 every FILE stored or already stored (with --check: valid), 2 "
		 "otherwise; the valid files among several are stored all the same.",
};

int ed_cmd_export(int argc, char **argv, struct ed_cli *cli)
{
	const char *out = "-";
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "out", "FILE", &out,
			       "write FILE (through a temporary file renamed into place) instead of "
			       "standard output"),
		ED_OPT_END_(),
	};
	int nargs = 0;
	int status = ed_opt_status(ed_opt_parse(&export_help, opts, argc, argv, cli, &nargs));
	if (status >= 0)
		return status;
	if (nargs == 0)
		return ed_cli_usage_error("export", "which snapshot? give @ID or ENV");
	if (nargs > 1)
		return ed_cli_usage_error("export", "unexpected argument '%s'", argv[2]);
	if (!*out)
		return ed_cli_usage_error("export", "--out needs a file name ('-': standard output)");
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	struct ed_snapref ref;
	char id[ED_SNAPDOC_ID_LEN + 1];
	const char *spec = argv[1];

	if (ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err) ||
	    ed_store_resolve(st, spec, &ref, &err))
		goto fail;
	if (ed_snapdoc_id_of(st, ref.id, id, &err)) {
		/* No id yet: record one, which needs the store open for writing. */
		if (err.code != ED_STORE)
			goto fail;
		ed_store_close(st);
		st = NULL;
		if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
		    ed_snapdoc_id_of(st, ref.id, id, &err))
			goto fail;
	}
	if (ed_snapdoc_export(st, &ref, id, out, &err))
		goto fail;
	ed_store_close(st);
	if (strcmp(out, "-") != 0)
		ed_say("wrote snapshot @%lld of %s/%s to %s (document %s, %lld items)",
			(long long)ref.id, ref.env, ref.host, out, id, (long long)ref.items);
	return ED_EXIT_OK;
fail:
	ed_store_close(st);
	return ed_cli_fail(&err);
}

int ed_cmd_ingest(int argc, char **argv, struct ed_cli *cli)
{
	bool check = false;
	long long max_skew = ED_SNAPDOC_MAX_SKEW;
	const struct ed_opt opts[] = {
		ED_OPT_FLAG_(0, "check", &check, "only check the documents; no store is opened"),
		ED_OPT_DURATION_(0, "max-skew", "DURATION", &max_skew,
				 "how far a document's times may be ahead of this machine's clock "
				 "(default 5m)"),
		ED_OPT_END_(),
	};
	int nargs = 0;
	int status = ed_opt_status(ed_opt_parse(&ingest_help, opts, argc, argv, cli, &nargs));
	if (status >= 0)
		return status;
	if (nargs == 0)
		return ed_cli_usage_error("ingest", "no FILE given ('-' reads standard input)");
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	int failed = 0;
	if (!check && ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err))
		return ed_cli_fail(&err);

	for (int i = 1; i <= nargs; i++) {
		const char *path = argv[i];
		const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
		struct ed_snapdoc *d = NULL;
		int64_t id = 0, items = 0, warnings = 0;
		bool already = false;
		if (ed_snapdoc_load(path, &d, &err)) {
			ed_cli_fail(&err);
			failed++;
			continue;
		}
		if (check && ed_snapdoc_check_clock(d, time(NULL), max_skew, &err)) {
			ed_cli_fail(&err);
			failed++;
		} else if (check) {
			ed_say("%s: a valid %s document (%s of %s/%s, %zu items)",
				name, ED_SNAPDOC_FORMAT, ed_snapdoc_info(d)->id, ed_snapdoc_info(d)->env,
				ed_snapdoc_info(d)->host, ed_snapdoc_info(d)->nitems);
		} else if (ed_snapdoc_ingest(st, d, max_skew, &id, &already, &items, &warnings, &err)) {
			ed_cli_fail(&err);
			ed_say("%s: nothing was stored", name);
			failed++;
		} else {
			printf("%lld\n", (long long)id);
			if (already)
				ed_say("%s: snapshot %s already stored as @%lld",
					name, ed_snapdoc_info(d)->id, (long long)id);
			else
				ed_say("%s: stored snapshot @%lld of %s/%s: %lld items, "
					"%lld warnings (document %s)",
					name, (long long)id, ed_snapdoc_info(d)->env, ed_snapdoc_info(d)->host,
					(long long)items, (long long)warnings, ed_snapdoc_info(d)->id);
		}
		ed_snapdoc_free(d);
	}
	ed_store_close(st);
	if (ed_cli_flush_stdout(&err))
		return ed_cli_fail(&err);
	return failed ? ED_EXIT_ERROR : ED_EXIT_OK;
}
