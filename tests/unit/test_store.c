/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the store: creation, refusal of foreign files, the key,
 * snapshot atomicity, and the named reads other layers use (listing, the
 * item cursor, kept content).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/cursor.h"
#include "ed/store.h"
#include "../../store/store_int.h" /* the connection: a unit test of the store counts rows */
#include "tap.h"

static char dir[256];

static const char *path_of(const char *name)
{
	static char p[2][512];
	static int i;
	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int64_t count(struct ed_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(ed_store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static enum ed_code count_row(void *ctx, const struct ed_snapshot_row *r, struct ed_err *err)
{
	(void)err;
	int *n = ctx;
	n[0]++;
	n[1] += r->status && strcmp(r->status, "complete") == 0;
	return ED_OK;
}

static enum ed_code emit(struct ed_snapwriter *w, const char *key, const char *value)
{
	struct ed_item it = {.kind = "package", .key = key, .key_len = strlen(key), .value = value};
	struct ed_err err;
	ed_fp_of(value, strlen(value), &it.fp);
	struct ed_sink *s = ed_snapshot_sink(w);
	return s->emit(s, &it, &err);
}

int main(void)
{
	struct ed_store *st = NULL, *rd = NULL;
	struct ed_err err = {0};
	uint8_t key[ED_KEY_LEN], key2[ED_KEY_LEN];
	int from = -1;

	if (!tap_tmpdir(dir, sizeof(dir), "ed-store"))
		return 1;
	char db[512];
	snprintf(db, sizeof(db), "%s", path_of("t.db"));

	ok(ed_store_open(db, ED_STORE_WRITE, NULL, &st, &err) == ED_NOTFOUND &&
		   strstr(err.msg, db) && strstr(err.msg, "envdrift init"),
	   "a missing store is refused, naming it and suggesting init");
	ok(ed_store_open(db, ED_STORE_CREATE, &from, &st, &err) == ED_OK && from == 0,
	   "create a new store");
	is_int(count(st, "PRAGMA user_version"), ed_store_schema_version(), "at the current version");
	{
		sqlite3_stmt *s = NULL;
		sqlite3_prepare_v2(ed_store_db(st), "PRAGMA journal_mode", -1, &s, NULL);
		sqlite3_step(s);
		is_str((const char *)sqlite3_column_text(s, 0), "wal", "WAL mode");
		sqlite3_finalize(s);
	}
	ok(ed_store_key(db, true, key, &err) == ED_OK, "create the key");
	struct stat sb;
	ok(stat(path_of("t.db.key"), &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32,
	   "the key file is 32 bytes, mode 0600");
	ok(ed_store_key(db, false, key2, &err) == ED_OK && memcmp(key, key2, ED_KEY_LEN) == 0,
	   "the key reads back unchanged");
	chmod(path_of("t.db.key"), 0644);
	ok(ed_store_key(db, false, key2, &err) == ED_DENIED && strstr(err.msg, "chmod"),
	   "a key readable by others is refused with the fix");
	chmod(path_of("t.db.key"), 0600);

	/* A snapshot is visible as complete only after commit. */
	struct ed_snapwriter *w = NULL;
	ok(ed_snapshot_begin(st, "production", "p1", NULL, NULL, &w, &err) == ED_OK, "begin a snapshot");
	int64_t id1 = ed_snapshot_id(w);
	ok(emit(w, "dpkg:a:amd64", "1.0") == ED_OK && emit(w, "dpkg:b:amd64", "2.0") == ED_OK &&
		   emit(w, "dpkg:a:amd64", "1.0") == ED_OK,
	   "emit items (one twice)");
	ok(ed_store_open(db, ED_STORE_READ, NULL, &rd, &err) == ED_OK, "a reader opens meanwhile: %s", err.msg);
	if (!rd)
		return tap_done();
	is_int(count(rd, "SELECT count(*) FROM snapshots_v WHERE status = 'running'"), 1,
	       "the reader sees the snapshot as running");
	is_int(count(rd, "SELECT count(*) FROM latest_v"), 0, "and no complete snapshot");
	is_int(count(rd, "SELECT count(*) FROM items"), 0, "and none of its items");
	int64_t items = 0, warnings = 0;
	ok(ed_snapshot_commit(w, &items, &warnings, &err) == ED_OK && items == 2,
	   "commit: a repeated item is stored once");
	is_int(count(rd, "SELECT count(*) FROM latest_v"), 1, "the reader now sees it complete");
	is_int(count(rd, "SELECT items FROM snapshots_v"), 2, "with its item count");
	is_int(count(rd, "SELECT count(*) FROM items_v WHERE env = 'production' AND "
			 "length(fingerprint) = 32"),
	       2, "items_v shows hex fingerprints");

	ok(ed_snapshot_begin(st, "production", "p1", NULL, NULL, &w, &err) == ED_OK, "begin another");
	int64_t id2 = ed_snapshot_id(w);
	emit(w, "dpkg:c:amd64", "3.0");
	ed_snapshot_abort(w);
	is_int(count(rd, "SELECT count(*) FROM snapshots WHERE status = 'failed'"), 1,
	       "an aborted snapshot is marked failed");
	is_int(count(rd, "SELECT count(*) FROM items WHERE key = 'dpkg:c:amd64'"), 0,
	       "and leaves no items");
	is_int(count(rd, "SELECT snapshot_id FROM latest_v"), id1, "latest stays the complete one");

	struct ed_snapref ref;
	ok(ed_store_resolve(rd, "production", &ref, &err) == ED_OK && ref.id == id1,
	   "resolve an environment to its latest complete snapshot");
	char spec[32];
	snprintf(spec, sizeof(spec), "@%lld", (long long)id2);
	ok(ed_store_resolve(rd, spec, &ref, &err) == ED_NOTFOUND && strstr(err.msg, "failed"),
	   "an unfinished snapshot cannot be compared: %s", err.msg);
	ok(ed_store_resolve(rd, "staging", &ref, &err) == ED_NOTFOUND && strstr(err.msg, "'staging'"),
	   "an unknown environment names it");
	ok(ed_store_resolve(rd, "@x", &ref, &err) == ED_USAGE, "a malformed @ID is a usage error");
	ok(ed_store_resolve(rd, "@999", &ref, &err) == ED_NOTFOUND && strstr(err.msg, "@999"),
	   "a missing @ID names it");
	/* Listing, the item cursor. */
	int listed[2] = {0, 0};
	ok(ed_store_list_snapshots(rd, "production", count_row, listed, &err) == ED_OK &&
		   listed[0] == 2 && listed[1] == 1,
	   "the listing has both snapshots, one complete");
	struct ed_store_cursor *cur = NULL;
	struct ed_cursor_row row;
	ok(ed_store_cursor_open(rd, id1, 0, true, &cur, &err) == ED_OK &&
		   ed_store_cursor_owns(cur),
	   "a cursor opens on a connection of its own");
	ok(cur && ed_store_cursor_next(cur, &row, &err) == ED_OK && row.kind &&
		   strcmp(row.key, "dpkg:a:amd64") == 0 && row.state,
	   "it yields the first item in key order, with its state");
	struct ed_side side = {0};
	uint8_t flags = 0xff;
	ok(cur && ed_store_cursor_cols(cur, "package", "dpkg:b:amd64", 12, &side, &flags, &err) ==
			  ED_OK &&
		   side.value && strcmp(side.value, "2.0") == 0 && flags == ED_STATE_HOLDS,
	   "an item's columns read by key");
	ed_side_release(&side);
	ok(cur && ed_store_cursor_next(cur, &row, &err) == ED_OK && row.kind &&
		   strcmp(row.key, "dpkg:b:amd64") == 0 &&
		   ed_store_cursor_next(cur, &row, &err) == ED_OK && !row.kind &&
		   ed_store_cursor_next(cur, &row, &err) == ED_OK && !row.kind,
	   "then the second, then the end, which stays the end");
	ed_store_cursor_close(cur);

	/* Kept content by fingerprint. */
	struct ed_fp kept_fp, none_fp, other_fp;
	ed_fp_of("kept", 4, &kept_fp);
	ed_fp_of("none", 4, &none_fp);
	ed_fp_of("other", 5, &other_fp);
	ok(ed_snapshot_begin(st, "production", "p1", NULL, NULL, &w, &err) == ED_OK &&
		   ed_snapshot_sink(w)->content(ed_snapshot_sink(w), &kept_fp, "Port 22\n", 8, &err) ==
			   ED_OK &&
		   ed_snapshot_sink(w)->content(ed_snapshot_sink(w), &none_fp, NULL, 0, &err) == ED_OK &&
		   ed_snapshot_commit(w, NULL, NULL, &err) == ED_OK,
	   "keep one text, and one that is not kept");
	bool kept = false;
	char *text = NULL;
	size_t len = 0;
	ok(ed_store_content(rd, &kept_fp, 1024, &kept, &text, &len, &err) == ED_OK && kept &&
		   len == 8 && text && strcmp(text, "Port 22\n") == 0,
	   "a kept text reads back");
	free(text);
	ok(ed_store_content(rd, &none_fp, 1024, &kept, &text, &len, &err) == ED_OK && !kept && !text,
	   "one considered and not kept is not kept");
	ok(ed_store_content(rd, &other_fp, 1024, &kept, &text, &len, &err) == ED_OK && !kept,
	   "nor is one never asked for");
	ok(ed_store_content(rd, &kept_fp, 4, &kept, &text, &len, &err) == ED_TOOBIG && !text,
	   "a text longer than the limit is refused: %s", err.msg);
	sqlite3_exec(ed_store_db(st), "UPDATE contents SET data = x'00' WHERE size = 8", NULL, NULL,
		     NULL);
	ok(ed_store_content(rd, &kept_fp, 1024, &kept, &text, &len, &err) == ED_STORE && !text &&
		   strstr(err.msg, "cannot be read"),
	   "a damaged text is an error naming it: %s", err.msg);

	/* The connection runs no foreign code: defensive, untrusted schema, no extensions. */
	sqlite3 *c = ed_store_db(st);
	int on = -1;
	ok(sqlite3_db_config(c, SQLITE_DBCONFIG_DEFENSIVE, -1, &on) == SQLITE_OK && on == 1,
	   "the store's connection is defensive");
	ok(count(st, "PRAGMA trusted_schema") == 0, "trusted_schema is off");
	ok(sqlite3_db_config(c, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, -1, &on) == SQLITE_OK &&
		   on == 0 &&
		   sqlite3_exec(c, "SELECT load_extension('/nonexistent')", NULL, NULL, NULL) ==
			   SQLITE_ERROR,
	   "extensions cannot be loaded");
	ok(sqlite3_exec(c, "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = sql",
			NULL, NULL, NULL) != SQLITE_OK,
	   "the schema cannot be written behind SQLite's back");

	/* The service's verdict cache: one row per basis, the newest few per pair. */
	{
		struct ed_cached_verdict v = {.state = "fail", .compared = true, .drift = 7,
					      .blocking = 2, .ignored = 1},
					 got;
		bool found = true;
		char basis[32];
		err = (struct ed_err){0};
		ok(ed_store_verdict_get(rd, "production", "staging", "b0", &got, &found, &err) ==
				   ED_OK && !found,
		   "verdict cache: an unknown basis is not found");
		for (int i = 0; i < 20; i++) {
			snprintf(basis, sizeof(basis), "b%d", i);
			v.warnings = i;
			if (ed_store_verdict_put(st, "production", "staging", basis, &v, 5, &err))
				break;
		}
		ok(!err.code, "verdict cache: 20 bases kept, one after another: %s", err.msg);
		is_int(count(st, "SELECT count(*) FROM verdict_cache"), 5, "  only the 5 newest stay");
		ok(ed_store_verdict_get(rd, "production", "staging", "b19", &got, &found, &err) ==
				   ED_OK && found && strcmp(got.state, "fail") == 0 && got.compared &&
			   got.drift == 7 && got.blocking == 2 && got.warnings == 19 && got.ignored == 1,
		   "  the last one reads back whole, through a reader");
		v.drift = 8;
		ok(ed_store_verdict_put(st, "production", "staging", "b19", &v, 5, &err) == ED_OK &&
			   ed_store_verdict_get(rd, "production", "staging", "b19", &got, &found,
						&err) == ED_OK &&
			   got.drift == 8 && count(st, "SELECT count(*) FROM verdict_cache") == 5,
		   "  the same basis again replaces its row");
		ok(ed_store_verdict_put(st, "production", "qa", "b0", &v, 5, &err) == ED_OK &&
			   count(st, "SELECT count(*) FROM verdict_cache") == 6,
		   "  another pair keeps its own");
		ok(ed_store_verdict_put(rd, "production", "staging", "bx", &v, 5, &err) == ED_STORE,
		   "  a read-only connection cannot write it");
		int64_t run = -1;
		ok(ed_store_last_run_id(rd, "production", "staging", &run, &err) == ED_OK && run == 0,
		   "the last run of a pair without runs is 0");
	}

	/*
	 * A finished writer leaves its buffers to the store's next one (and
	 * ed_store_release_memory() frees them): each stores its own items only.
	 */
	const char *hosts[] = {"reuse1", "reuse2", "reuse3"};
	for (size_t i = 0; i < 3; i++) {
		char k[64], val[16], sql[200];
		items = 0;
		ok(ed_snapshot_begin(st, "reuse", hosts[i], NULL, NULL, &w, &err) == ED_OK &&
			   !emit(w, "dpkg:shared:amd64", "1") &&
			   !emit(w, i == 1 ? "dpkg:a-much-longer-name-than-the-first:amd64" : "dpkg:x:amd64",
				 i == 0 ? "first" : "2") &&
			   ed_snapshot_commit(w, &items, NULL, &err) == ED_OK && items == 2,
		   "writer %zu of one store commits its two items", i + 1);
		snprintf(sql, sizeof(sql),
			 "SELECT group_concat(key || '=' || value, ' ') FROM (SELECT key, value FROM items_v "
			 "WHERE host = '%s' ORDER BY key)", hosts[i]);
		snprintf(k, sizeof(k), "%s",
			 i == 1 ? "dpkg:a-much-longer-name-than-the-first:amd64" : "dpkg:x:amd64");
		snprintf(val, sizeof(val), "%s", i == 0 ? "first" : "2");
		char want[200], *got = NULL;
		snprintf(want, sizeof(want), i == 1 ? "%s=%s dpkg:shared:amd64=1" : "dpkg:shared:amd64=1 %s=%s",
			 k, val);
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(ed_store_db(rd), sql, -1, &q, NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
			got = strdup((const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
		is_str(got ? got : "", want, "  and reads back exactly those");
		free(got);
		if (i == 1)
			ed_store_release_memory(st);
	}

	ed_store_close(rd);
	ed_store_close(st);

	/* A store that is not ours, or newer than us, is refused. */
	FILE *f = fopen(path_of("junk.db"), "w");
	fputs("this is not a database, just text long enough to look like a header.....\n", f);
	fclose(f);
	ok(ed_store_open(path_of("junk.db"), ED_STORE_READ, NULL, &st, &err) == ED_STORE &&
		   strstr(err.msg, "not an SQLite database"),
	   "a text file is not a store: %s", err.msg);
	sqlite3 *raw = NULL;
	sqlite3_open(path_of("foreign.db"), &raw);
	sqlite3_exec(raw, "CREATE TABLE t(a)", NULL, NULL, NULL);
	sqlite3_close(raw);
	ok(ed_store_open(path_of("foreign.db"), ED_STORE_CREATE, NULL, &st, &err) == ED_STORE &&
		   strstr(err.msg, "not an envdrift store"),
	   "init refuses to write into a foreign database");
	sqlite3_open(db, &raw);
	sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(raw);
	ok(ed_store_open(db, ED_STORE_CREATE, NULL, &st, &err) == ED_STORE && strstr(err.msg, "newer"),
	   "a newer store is refused, even by init");

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return tap_done();
}
