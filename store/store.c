/* SPDX-License-Identifier: MIT */
/*
 * The store: opening and migrating the SQLite file, the per-store secret key,
 * writing one snapshot atomically, and resolving "@ID" or environment names.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ed/buf.h"
#include "ed/clock.h"
#include "ed/isotime.h"
#include "ed/keyfile.h"
#include "ed/suggest.h"
#include "store_int.h"

#include "delta.h"

#define ED_APPLICATION_ID 1162105393 /* 'EDr1', set by 001-store.sql */
#define BUSY_TIMEOUT_MS 10000

/* Generated from schema/NNN-*.sql by tools/embed_sql.py. */
struct ed_migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct ed_migration ed_migrations[];
extern const size_t ed_nmigrations;

struct ed_store {
	sqlite3 *db;
	char *path;
	double checked_at; /* when quick_check last passed (ed_now_s()); 0: never */
	sqlite3_stmt *content_q; /* ed_store_content()'s, prepared once */
	/*
	 * A finished writer's pending-items buffers, for the next snapshot of
	 * this store (a server storing pushes, an ingest of many documents):
	 * megabytes that are not faulted in again for every document. Freed by
	 * ed_store_release_memory().
	 */
	void *spare_pend;
	struct ed_buf spare_arena;
};

sqlite3_stmt **ed_store_content_stmt(struct ed_store *st)
{
	return &st->content_q;
}

int ed_store_schema_version(void)
{
	return (int)ed_nmigrations;
}

void ed_store_global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

sqlite3 *ed_store_db(struct ed_store *st)
{
	return st->db;
}

void ed_store_release_memory(struct ed_store *st)
{
	if (!st)
		return;
	sqlite3_db_release_memory(st->db);
	free(st->spare_pend);
	st->spare_pend = NULL;
	ed_buf_release(&st->spare_arena);
}

const char *ed_store_path(const struct ed_store *st)
{
	return st->path;
}

static bool harden(sqlite3 *db);

/* True when path can be written and its folder too (for the -wal and -shm files). */
static bool can_write(const char *path)
{
	if (access(path, W_OK) != 0)
		return false;
	const char *slash = strrchr(path, '/');
	if (!slash)
		return access(".", W_OK) == 0;
	if (slash == path)
		return access("/", W_OK) == 0;
	char *dir = strndup(path, (size_t)(slash - path));
	bool ok = dir && access(dir, W_OK) == 0;
	free(dir);
	return ok;
}

/*
 * A reader's URI: "file:" + path, '?', '#' and '%' escaped, "?mode=ro", and
 * "&immutable=1" when nothing beside the store can be written (a read-only
 * medium, a user who may only read): SQLite then takes no locks and makes no
 * -shm, so an auditor can read a copied store. A committed WAL left beside
 * it would be ignored: such a store is opened without immutable and must be
 * checkpointed first. sqlite3_free() it; NULL when out of memory.
 */
static char *reader_uri(const char *path)
{
	struct ed_buf u = ED_BUF_INIT;
	struct ed_buf wal = ED_BUF_INIT;
	struct stat sb;
	bool immutable = false;
	if (!can_write(path)) {
		immutable = ed_buf_addf(&wal, "%s-wal", path) == 0 &&
			    (stat(wal.p, &sb) != 0 || sb.st_size == 0);
	}
	ed_buf_release(&wal);
	int r = ed_buf_adds(&u, path[0] == '/' ? "file://" : "file:");
	for (const char *p = path; *p && !r; p++)
		r = *p == '?' || *p == '#' || *p == '%' ? ed_buf_addf(&u, "%%%02X", (unsigned char)*p)
							 : ed_buf_addc(&u, *p);
	if (!r)
		r = ed_buf_adds(&u, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
	char *out = r ? NULL : sqlite3_mprintf("%s", u.p);
	ed_buf_release(&u);
	return out;
}

/* Opens path read-only through reader_uri(). An SQLite result code; *db as sqlite3_open_v2. */
static int open_read_only(const char *path, sqlite3 **db)
{
	char *uri = reader_uri(path);
	if (!uri) {
		*db = NULL;
		return SQLITE_NOMEM;
	}
	int r = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
				NULL);
	sqlite3_free(uri);
	return r;
}

sqlite3 *ed_store_open_reader(const char *path)
{
	sqlite3 *db = NULL;
	if (open_read_only(path, &db) != SQLITE_OK) {
		sqlite3_close_v2(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (!harden(db)) {
		sqlite3_close_v2(db);
		return NULL;
	}
	return db;
}

enum ed_code ed_store_fail(struct ed_store *st, const char *what, struct ed_err *err)
{
	int xrc = sqlite3_extended_errcode(st->db);
	if ((xrc & 0xff) == SQLITE_NOTADB)
		return ed_err_set(err, ED_STORE, "store %s: not an SQLite database", st->path);
	if ((xrc & 0xff) == SQLITE_CORRUPT)
		return ed_err_set(err, ED_STORE,
				  "store %s: the database is corrupt (%s) while %s. Restore the store "
				  "from a backup, or save what is readable with 'sqlite3 %s .recover "
				  "| sqlite3 NEW.db' and check it before use",
				  st->path, sqlite3_errmsg(st->db), what, st->path);
	if ((xrc & 0xff) == SQLITE_FULL)
		return ed_err_set(err, ED_STORE, "store %s: disk full while %s", st->path, what);
	/*
	 * SQLite reports EFBIG as a write error, and its errno may be gone by now:
	 * under a file size limit, a failed write is most likely that limit.
	 */
	struct rlimit fsz;
	if ((xrc == SQLITE_IOERR_WRITE || sqlite3_system_errno(st->db) == EFBIG) &&
	    getrlimit(RLIMIT_FSIZE, &fsz) == 0 && fsz.rlim_cur != RLIM_INFINITY)
		return ed_err_set(err, ED_STORE,
				  "store %s: a write failed while %s: file size limit reached "
				  "('ulimit -f' allows %llu bytes) or disk full",
				  st->path, what, (unsigned long long)fsz.rlim_cur);
	return ed_err_set(err, ED_STORE, "store %s: %s: %s", st->path, what,
			  sqlite3_errmsg(st->db));
}

static enum ed_code exec(struct ed_store *st, const char *sql, const char *what,
			 struct ed_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, what, err);
	return ED_OK;
}

enum ed_code ed_store_query_int(struct ed_store *st, const char *sql, int64_t *out,
				const char *what, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, what, err);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (r == SQLITE_DONE)
		*out = 0;
	else
		rc = ed_store_fail(st, what, err);
	sqlite3_finalize(s);
	return rc;
}

/* For migration 7: ed_item_state(fingerprint, ftype, mode, owner, grp, target, error, attrs,
 * size). */
static void sql_item_state(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	(void)argc;
	struct ed_state_cols c = {
		.fp = sqlite3_value_bytes(v[0]) == ED_FP_LEN ? sqlite3_value_blob(v[0]) : NULL,
		.ftype = (const char *)sqlite3_value_text(v[1]),
		.mode = sqlite3_value_int(v[2]),
		.owner = (const char *)sqlite3_value_text(v[3]),
		.group = (const char *)sqlite3_value_text(v[4]),
		.target = (const char *)sqlite3_value_text(v[5]),
		.error = (const char *)sqlite3_value_text(v[6]),
		.attrs = (const char *)sqlite3_value_text(v[7]),
		.has_size = sqlite3_value_type(v[8]) != SQLITE_NULL,
		.size = sqlite3_value_int64(v[8]),
	};
	uint8_t state[ED_STATE_LEN];
	ed_item_state(&c, state);
	sqlite3_result_blob(ctx, state, ED_STATE_LEN, SQLITE_TRANSIENT);
}

/*
 * What no store connection may do, whoever wrote the file: change the schema
 * behind SQLite's back (DEFENSIVE), run functions with side effects from a
 * view, trigger or default (trusted_schema off), or load an extension.
 */
static bool harden(sqlite3 *db)
{
	int on = -1;
	return sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on) == SQLITE_OK && on == 1 &&
	       sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on) == SQLITE_OK &&
	       on == 0 &&
	       sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, &on) == SQLITE_OK &&
	       on == 0;
}

/* ed_item_state() for migration 7: DIRECTONLY, so no view or trigger can call it. */
static int add_item_state(sqlite3 *db)
{
	return sqlite3_create_function(db, "ed_item_state", 9,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
				       sql_item_state, NULL, NULL);
}

/*
 * The schema migrations 1..version make, in a fresh in-memory database: what
 * a store at that version must hold, object for object. NULL on failure.
 */
static sqlite3 *expected_schema(int version)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    !harden(db) || add_item_state(db) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < ed_nmigrations; i++)
		if (ed_migrations[i].version <= version &&
		    sqlite3_exec(db, ed_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	return db;
fail:
	sqlite3_close_v2(db);
	return NULL;
}

/* Writes name into out (cap bytes), bytes outside printable ASCII as '?', cut with "...". */
static void printable_name(const unsigned char *name, char *out, size_t cap)
{
	size_t n = 0;
	for (; name && *name && n + 4 < cap; name++)
		out[n++] = *name >= 0x20 && *name < 0x7f ? (char)*name : '?';
	if (name && *name)
		out[n++] = '.', out[n++] = '.', out[n++] = '.';
	out[n] = '\0';
}

#define SCHEMA_ROWS "SELECT type, name, tbl_name, sql FROM main.sqlite_schema"
#define SCHEMA_FIND \
	"SELECT sql IS ?4 FROM main.sqlite_schema WHERE type = ?1 AND name = ?2 AND tbl_name = ?3"

/*
 * Looks up every object of from in to (same type, name, table and SQL text).
 * The first one missing or different sets err: as unexpected when from is the
 * store, as missing when from is the expected schema.
 */
static enum ed_code schema_subset(struct ed_store *st, sqlite3 *from, sqlite3 *to,
				  bool from_store, struct ed_err *err)
{
	sqlite3_stmt *rows = NULL, *find = NULL;
	enum ed_code rc = ED_OK;
	char name[80];
	if (sqlite3_prepare_v2(from, SCHEMA_ROWS, -1, &rows, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(to, SCHEMA_FIND, -1, &find, NULL) != SQLITE_OK)
		goto fail;
	int r;
	while ((r = sqlite3_step(rows)) == SQLITE_ROW) {
		const unsigned char *type = sqlite3_column_text(rows, 0);
		const unsigned char *obj = sqlite3_column_text(rows, 1);
		/* ANALYZE's statistics are data the planner reads, not code. */
		if (from_store && type && obj && strcmp((const char *)type, "table") == 0 &&
		    (strcmp((const char *)obj, "sqlite_stat1") == 0 ||
		     strcmp((const char *)obj, "sqlite_stat4") == 0))
			continue;
		sqlite3_reset(find);
		for (int c = 0; c < 4; c++)
			if (sqlite3_bind_value(find, c + 1, sqlite3_column_value(rows, c)) != SQLITE_OK)
				goto fail;
		int f = sqlite3_step(find);
		if (f == SQLITE_ROW && sqlite3_column_int(find, 0) == 1)
			continue;
		if (f != SQLITE_ROW && f != SQLITE_DONE)
			goto fail;
		printable_name(obj, name, sizeof(name));
		const char *t = type ? (const char *)type : "object";
		if (f == SQLITE_ROW)
			rc = ed_err_set(err, ED_STORE,
					"store %s: %s '%s' differs from the one envdrift creates: "
					"refusing to use this store",
					st->path, t, name);
		else if (from_store)
			rc = ed_err_set(err, ED_STORE,
					"store %s: unexpected %s '%s' (not created by envdrift): "
					"refusing to use this store",
					st->path, t, name);
		else
			rc = ed_err_set(err, ED_STORE,
					"store %s: %s '%s' is missing: refusing to use this store",
					st->path, t, name);
		goto out;
	}
	if (r != SQLITE_DONE)
		goto fail;
	goto out;
fail:
	rc = ed_store_fail(st, "reading the schema", err);
out:
	sqlite3_finalize(rows);
	sqlite3_finalize(find);
	return rc;
}

/*
 * A store is data, not code: its schema must be exactly what this binary's
 * migrations up to version make, so that no trigger, view or index of
 * someone else's runs or lies to us. Checked before anything is written.
 */
static enum ed_code check_schema(struct ed_store *st, int version, struct ed_err *err)
{
	sqlite3 *want = expected_schema(version);
	if (!want)
		return ed_err_set(err, ED_NOMEM, "store %s: cannot build the expected schema",
				  st->path);
	enum ed_code rc = schema_subset(st, st->db, want, true, err);
	if (!rc)
		rc = schema_subset(st, want, st->db, false, err);
	sqlite3_close_v2(want);
	return rc;
}

static enum ed_code migrate(struct ed_store *st, int from, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	for (size_t i = 0; i < ed_nmigrations; i++) {
		const struct ed_migration *m = &ed_migrations[i];
		if (m->version <= from)
			continue;
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", m->version);
		if ((rc = exec(st, "BEGIN IMMEDIATE", "starting a migration", err)))
			return rc;
		if (sqlite3_exec(st->db, m->sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
			struct ed_err e2;
			ed_store_fail(st, "applying migration", &e2);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return ed_err_set(err, ED_STORE, "%s (%s)", e2.msg, m->name);
		}
		if ((rc = exec(st, "COMMIT", "committing a migration", err))) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return ED_OK;
}

enum ed_code ed_store_share(const char *path, const char *group, struct ed_err *err)
{
	struct group gr, *g = NULL;
	char buf[4096];
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &g) != 0 || !g)
		return ed_err_set(err, ED_USAGE, "--group %s: no such group", group);
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s%s", path, suffixes[i]) >= (int)sizeof(p))
			return ed_err_set(err, ED_USAGE, "store %s: path too long", path);
		if (chown(p, (uid_t)-1, g->gr_gid) != 0 || chmod(p, 0640) != 0) {
			if (i > 0 && errno == ENOENT)
				continue;
			return ed_err_set(err, ED_IO, "store %s: cannot give group %s read access: %s",
					  p, group, strerror(errno));
		}
	}
	return ED_OK;
}

void ed_store_output_mode(const char *path, mode_t *mode, gid_t *gid)
{
	struct stat sb;
	*mode = 0600;
	*gid = (gid_t)-1;
	if (path && stat(path, &sb) == 0 && (sb.st_mode & S_IRGRP)) {
		*mode = 0640;
		*gid = sb.st_gid;
	}
}

enum ed_code ed_store_open(const char *path, enum ed_store_mode mode, int *migrated_from,
			   struct ed_store **out, struct ed_err *err)
{
	struct ed_store *st = NULL;
	enum ed_code rc = ED_OK;
	struct stat sb;
	int64_t app = 0, ver = 0, ntables = 0;

	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || mode != ED_STORE_CREATE)
			return ed_err_set(err, errno == ENOENT ? ED_NOTFOUND : ED_IO,
					  "store %s: %s%s", path, strerror(errno),
					  errno == ENOENT ? " (create it with 'envdrift init')" : "");
		/*
		 * A new store is private, as AIDE's database is: SQLite would
		 * make it 0644, and its -wal and -shm take its mode.
		 */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return ed_err_set(err, ED_IO, "store %s: cannot create: %s", path,
					  strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (!S_ISREG(sb.st_mode)) {
		return ed_err_set(err, ED_STORE, "store %s: not a regular file", path);
	}

	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	int flags = mode == ED_STORE_WRITE ? SQLITE_OPEN_READWRITE
					   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int orc = mode == ED_STORE_READ
			  ? open_read_only(path, &st->db)
			  : sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (orc != SQLITE_OK) {
		rc = st->db ? ed_store_fail(st, "opening", err)
			    : ed_err_set(err, ED_NOMEM, "store %s: out of memory", path);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (!harden(st->db)) {
		rc = ed_store_fail(st, "configuring", err);
		goto out;
	}

	/* A writer that cannot read the header has written nothing: it says so. */
	const char *what = mode == ED_STORE_READ ? "reading the store header"
						 : "reading the store header; no snapshot was written";
	if ((rc = ed_store_query_int(st, "PRAGMA application_id", &app, what, err)) ||
	    (rc = ed_store_query_int(st, "PRAGMA user_version", &ver, what, err)) ||
	    (rc = ed_store_query_int(st, "SELECT count(*) FROM sqlite_schema", &ntables, what, err)))
		goto out;
	if (app != ED_APPLICATION_ID && (app != 0 || ver != 0 || ntables != 0)) {
		rc = ed_err_set(err, ED_STORE,
				"store %s: an SQLite database, but not an envdrift store", path);
		goto out;
	}
	if (ver > (int64_t)ed_nmigrations) {
		rc = ed_err_set(err, ED_STORE,
				"store %s: written by a newer envdrift (store version %lld, this "
				"binary knows up to %zu); upgrade envdrift",
				path, (long long)ver, ed_nmigrations);
		goto out;
	}
	if (mode != ED_STORE_CREATE && ver < (int64_t)ed_nmigrations) {
		rc = ed_err_set(err, ED_STORE,
				ver == 0 ? "store %s: not initialised (run 'envdrift init')"
					 : "store %s: at store version %lld; run 'envdrift init' to "
					   "migrate it to %zu",
				path, (long long)ver, ed_nmigrations);
		goto out;
	}
	if (ntables != 0 && (rc = check_schema(st, (int)ver, err)))
		goto out;
	/* Before the first table: 'prune' can then give freed pages back to the disk. */
	if (mode == ED_STORE_CREATE && ntables == 0 &&
	    (rc = exec(st, "PRAGMA auto_vacuum = INCREMENTAL", "configuring", err)))
		goto out;
	if (mode != ED_STORE_READ) {
		/* FULL: a snapshot reported as stored survives a power cut too. */
		if ((rc = exec(st, "PRAGMA journal_mode = WAL", "switching to WAL", err)) ||
		    (rc = exec(st, "PRAGMA synchronous = FULL", "configuring", err)))
			goto out;
	}
	if ((rc = exec(st, "PRAGMA foreign_keys = ON", "configuring", err)))
		goto out;
	if (mode == ED_STORE_CREATE && add_item_state(st->db) != SQLITE_OK) {
		rc = ed_store_fail(st, "configuring", err);
		goto out;
	}
	if (mode == ED_STORE_CREATE && (rc = migrate(st, (int)ver, err)))
		goto out;
	if (migrated_from)
		*migrated_from = (int)ver;
	*out = st;
	st = NULL;
out:
	ed_store_close(st);
	return rc;
}

enum ed_code ed_store_read_begin(struct ed_store *st, struct ed_err *err)
{
	return exec(st, "BEGIN", "starting to read", err);
}

void ed_store_read_end(struct ed_store *st)
{
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

void ed_store_close(struct ed_store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->content_q);
	free(st->spare_pend);
	ed_buf_release(&st->spare_arena);
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

/*
 * Makes the key file at path when there is nothing there: random bytes into
 * a temp file, fsync, link, so that a crash never leaves a short key behind,
 * and another init that wins the race keeps its key. What is there already,
 * whatever it is, is left for ed_keyfile_read() to judge.
 */
static enum ed_code create_key(const char *path, struct ed_err *err)
{
	struct stat sb;
	if (lstat(path, &sb) == 0 || errno != ENOENT)
		return ED_OK;
	uint8_t key[ED_KEY_LEN];
	struct ed_buf tmp = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	if (getrandom(key, ED_KEY_LEN, 0) != ED_KEY_LEN) {
		rc = ed_err_set(err, ED_IO, "key %s: no random bytes: %s", path, strerror(errno));
		goto out;
	}
	if (ed_buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid())) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	int wfd = open(tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = wfd >= 0 && write(wfd, key, ED_KEY_LEN) == ED_KEY_LEN && fsync(wfd) == 0;
	if (wfd >= 0 && close(wfd) != 0)
		ok = false;
	if (ok && link(tmp.p, path) != 0 && errno != EEXIST)
		ok = false;
	int e = errno;
	unlink(tmp.p);
	if (!ok)
		rc = ed_err_set(err, ED_IO, "key %s: cannot create: %s", path, strerror(e));
out:
	explicit_bzero(key, sizeof(key));
	ed_buf_release(&tmp);
	return rc;
}

enum ed_code ed_store_key(const char *store_path, bool create, uint8_t key[ED_KEY_LEN],
			  struct ed_err *err)
{
	struct ed_buf kp = ED_BUF_INIT;
	struct ed_err e;
	enum ed_code rc = ED_OK;
	if (ed_buf_addf(&kp, "%s.key", store_path))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	if (create && (rc = create_key(kp.p, err)))
		goto out;
	/* The same checks as a copy of it given to collect --out --key. */
	if ((rc = ed_keyfile_read(kp.p, key, &e)))
		ed_err_set(err, rc, "%s%s", e.msg,
			   rc == ED_NOTFOUND ? " (run 'envdrift init' to create it)" : "");
out:
	ed_buf_release(&kp);
	return rc;
}

/* --- one snapshot --- */

struct ed_snapwriter {
	struct ed_store *st;
	struct ed_sink sink;
	sqlite3_stmt *ins;
	sqlite3_stmt *warn;
	sqlite3_stmt *content;
	sqlite3_stmt *content_none;
	unsigned char *zbuf; /* compression buffer, grown as needed */
	size_t zcap;
	/*
	 * Items wait here and go in sorted by (kind, key): SQLite takes rows in
	 * key order two to four times faster than in random order.
	 */
	struct pending *pend;
	size_t npend;
	struct ed_buf arena; /* the strings of pend, by offset */
	int64_t id;
	int64_t items;
	int64_t warnings;
	struct ed_delta_writer *delta; /* writing a delta snapshot */
	int64_t base;                  /* its base */
	int64_t rows;                  /* item rows written */
	double busy;                   /* seconds in emit and commit */
	bool failed; /* a warning could not be stored: fail at commit */
	struct ed_err warn_err;
};

static enum ed_code bind_text(sqlite3_stmt *s, int i, const char *v)
{
	/* SQLITE_TRANSIENT: SQLite copies the bytes, ours may change right after. */
	int r = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
	return r == SQLITE_OK ? ED_OK : ED_STORE;
}

#define PEND_MAX 16384
#define ARENA_MAX (8u * 1024 * 1024) /* bytes of the pending items' strings */
#define NO_STR SIZE_MAX

struct pending {
	struct ed_item it;            /* strings are offsets into arena, in the fields below */
	size_t kind, key, value, owner, group, target, error, attrs;
};

/*
 * Binds without a copy: flush_pending() keeps the item's strings (in the
 * arena) and its state in place until the row is stored, then clears the
 * bindings before the arena is reused.
 */
static enum ed_code bind_static(sqlite3_stmt *s, int i, const char *v)
{
	int r = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
	return r == SQLITE_OK ? ED_OK : ED_STORE;
}

/* Inserts one item now, with its state; its strings must stay put until the step is done. */
static enum ed_code insert_item(struct ed_snapwriter *w, const struct ed_item *it,
				const uint8_t state[ED_STATE_LEN], bool added, struct ed_err *err)
{
	sqlite3_stmt *s = w->ins;
	bool file = it->ftype != ED_FT_NONE;
	int r = SQLITE_OK;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	r |= sqlite3_bind_int64(s, 1, w->id);
	r |= bind_static(s, 2, it->kind);
	r |= sqlite3_bind_text(s, 3, it->key, (int)it->key_len, SQLITE_STATIC);
	r |= sqlite3_bind_blob(s, 4, it->fp.b, ED_FP_LEN, SQLITE_STATIC);
	r |= bind_static(s, 5, it->value);
	r |= bind_static(s, 6, ed_ftype_name(it->ftype));
	if (file) {
		r |= sqlite3_bind_int(s, 7, (int)it->mode);
		r |= bind_static(s, 8, it->owner);
		r |= bind_static(s, 9, it->group);
		r |= bind_static(s, 10, it->target);
		r |= sqlite3_bind_int64(s, 11, it->size);
		r |= sqlite3_bind_int64(s, 12, it->mtime_ns);
		r |= sqlite3_bind_int64(s, 13, it->ctime_ns);
		r |= sqlite3_bind_int64(s, 14, (sqlite3_int64)it->ino);
		r |= sqlite3_bind_int64(s, 15, (sqlite3_int64)it->dev);
	}
	r |= bind_static(s, 16, it->error);
	r |= bind_static(s, 17, it->attrs);
	r |= sqlite3_bind_blob(s, 18, state, ED_STATE_LEN, SQLITE_STATIC);
	if (r != SQLITE_OK || it->key_len > INT32_MAX)
		return ed_store_fail(w->st, "storing an item", err);
	r = sqlite3_step(s);
	if (r != SQLITE_DONE)
		return ed_store_fail(w->st, "storing an item", err);
	/*
	 * INSERT OR IGNORE: overlapping --path trees yield the same item twice.
	 * A delta counts only keys new to the snapshot: it starts from the
	 * previous snapshot's count.
	 */
	w->rows += sqlite3_changes(w->st->db);
	if (added)
		w->items += sqlite3_changes(w->st->db);
	return ED_OK;
}

static const char *arena_str(const struct ed_snapwriter *w, size_t off)
{
	return off == NO_STR ? NULL : w->arena.p + off;
}

static const struct ed_snapwriter *sort_writer; /* qsort has no context argument */

static int cmp_pending(const void *x, const void *y)
{
	const struct pending *a = x, *b = y;
	const struct ed_snapwriter *w = sort_writer;
	int c = strcmp(arena_str(w, a->kind), arena_str(w, b->kind));
	if (c)
		return c;
	size_t n = a->it.key_len < b->it.key_len ? a->it.key_len : b->it.key_len;
	c = memcmp(arena_str(w, a->key), arena_str(w, b->key), n);
	return c ? c : (a->it.key_len > b->it.key_len) - (a->it.key_len < b->it.key_len);
}

/* Inserts the waiting items in key order; the time it takes counts as the store's. */
static enum ed_code flush_pending(struct ed_snapwriter *w, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	double t0 = ed_now_s();
	sort_writer = w;
	/* Often in order already (an exported document, a folder's entries): then no sort. */
	bool sorted = true;
	for (size_t i = 1; i < w->npend && sorted; i++)
		sorted = cmp_pending(&w->pend[i - 1], &w->pend[i]) <= 0;
	if (!sorted) /* a delta may have none, and no buffer */
		qsort(w->pend, w->npend, sizeof(*w->pend), cmp_pending);
	sort_writer = NULL;
	for (size_t i = 0; i < w->npend && !rc; i++) {
		struct pending *p = &w->pend[i];
		struct ed_item it = p->it;
		it.kind = arena_str(w, p->kind);
		it.key = arena_str(w, p->key);
		it.value = arena_str(w, p->value);
		it.owner = arena_str(w, p->owner);
		it.group = arena_str(w, p->group);
		it.target = arena_str(w, p->target);
		it.error = arena_str(w, p->error);
		it.attrs = arena_str(w, p->attrs);
		uint8_t state[ED_STATE_LEN];
		ed_item_state_of(&it, state);
		bool write = true, added = true;
		if (w->delta && (rc = ed_delta_item(w->delta, &it, state, &write, &added, err)))
			break;
		if (write)
			rc = insert_item(w, &it, state, added, err);
	}
	if (w->ins)
		sqlite3_clear_bindings(w->ins); /* nothing may point into the arena past here */
	w->busy += ed_now_s() - t0;
	w->npend = 0;
	ed_buf_reset(&w->arena);
	return rc;
}

/* Copies s (len bytes, or up to its NUL) into the arena; its offset, or NO_STR for NULL. */
static bool arena_add(struct ed_snapwriter *w, const char *s, size_t len, size_t *off)
{
	if (!s) {
		*off = NO_STR;
		return true;
	}
	*off = w->arena.len;
	return ed_buf_add(&w->arena, s, len) == 0 && ed_buf_addc(&w->arena, '\0') == 0;
}


static enum ed_code writer_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct ed_snapwriter *w = sink->ctx;
	if (it->delta != ED_DELTA_ITEM) {
		if (!w->delta)
			return ed_err_set(err, ED_USAGE, "%s %s: a delta item for a full snapshot",
					  it->kind, it->key);
		if (it->delta == ED_DELTA_SAME)
			return ED_OK;
		int64_t removed = 0;
		double t0 = ed_now_s();
		enum ed_code rc = ed_delta_gone(w->delta, it, &removed, err);
		w->busy += ed_now_s() - t0;
		w->items -= removed;
		w->rows += removed;
		return rc;
	}
	if (!w->pend) {
		if (w->st->spare_pend) {
			w->pend = w->st->spare_pend;
			w->st->spare_pend = NULL;
		} else if (!(w->pend = malloc(PEND_MAX * sizeof(*w->pend)))) {
			return ed_err_set(err, ED_NOMEM, "out of memory");
		}
	}
	struct pending *p = &w->pend[w->npend];
	p->it = *it;
	bool ok = arena_add(w, it->kind, strlen(it->kind), &p->kind) &&
		  arena_add(w, it->key, it->key_len, &p->key) &&
		  arena_add(w, it->value, it->value ? strlen(it->value) : 0, &p->value) &&
		  arena_add(w, it->owner, it->owner ? strlen(it->owner) : 0, &p->owner) &&
		  arena_add(w, it->group, it->group ? strlen(it->group) : 0, &p->group) &&
		  arena_add(w, it->target, it->target ? strlen(it->target) : 0, &p->target) &&
		  arena_add(w, it->error, it->error ? strlen(it->error) : 0, &p->error) &&
		  arena_add(w, it->attrs, it->attrs ? strlen(it->attrs) : 0, &p->attrs);
	if (!ok)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	w->npend++;
	if (w->npend == PEND_MAX || w->arena.len > ARENA_MAX)
		return flush_pending(w, err);
	return ED_OK;
}

static void writer_warn(struct ed_sink *sink, const char *msg)
{
	struct ed_snapwriter *w = sink->ctx;
	ed_note(msg);
	sqlite3_stmt *s = w->warn;
	sqlite3_reset(s);
	w->warnings++;
	if (sqlite3_bind_int64(s, 1, w->id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, w->warnings) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, msg, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE) {
		if (!w->failed)
			ed_store_fail(w->st, "storing a warning", &w->warn_err);
		w->failed = true;
	}
}

/* Keeps a file's text once per fingerprint, zlib-compressed. */
static enum ed_code writer_content(struct ed_sink *sink, const struct ed_fp *fp, const char *data,
				   size_t len, struct ed_err *err)
{
	struct ed_snapwriter *w = sink->ctx;
	if (!data) {
		/* Considered, not kept. */
		sqlite3_stmt *s = w->content_none;
		sqlite3_reset(s);
		if (sqlite3_bind_blob(s, 1, fp->b, ED_FP_LEN, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(s) != SQLITE_DONE)
			return ed_store_fail(w->st, "storing kept content", err);
		sqlite3_reset(s);
		return ED_OK;
	}
	uLongf zlen = compressBound((uLong)len);
	if (len > INT32_MAX / 2)
		return ED_OK; /* far beyond any keep limit: not kept */
	if (zlen > w->zcap) {
		unsigned char *nz = realloc(w->zbuf, zlen);
		if (!nz)
			return ed_err_set(err, ED_NOMEM, "out of memory compressing kept content");
		w->zbuf = nz;
		w->zcap = zlen;
	}
	if (compress2(w->zbuf, &zlen, (const Bytef *)data, (uLong)len, 6) != Z_OK)
		return ed_err_set(err, ED_NOMEM, "zlib failed to compress kept content");
	sqlite3_stmt *s = w->content;
	sqlite3_reset(s);
	if (sqlite3_bind_blob(s, 1, fp->b, ED_FP_LEN, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)len) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 3, w->zbuf, (int)zlen, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		return ed_store_fail(w->st, "storing kept content", err);
	sqlite3_reset(s);
	return ED_OK;
}

/* Marks 'running' rows whose collector process on this machine is gone. */
static enum ed_code reap_abandoned(struct ed_store *st, const char *me, struct ed_err *err)
{
	sqlite3_stmt *q = NULL, *u = NULL;
	enum ed_code rc = ED_OK;
	char now[ED_ISOTIME_SIZE];
	ed_isotime_now(now);
	if (sqlite3_prepare_v2(st->db,
			       "SELECT id, collector_pid FROM snapshots "
			       "WHERE status = 'running' AND collector_host = ?",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "UPDATE snapshots SET status = 'abandoned', finished_at = ? "
			       "WHERE id = ? AND status = 'running'",
			       -1, &u, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "looking for abandoned snapshots", err);
		goto out;
	}
	sqlite3_bind_text(q, 1, me, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		pid_t pid = (pid_t)sqlite3_column_int64(q, 1);
		/* Our own pid on a 'running' row is a dead collector's, reused. */
		bool alive = pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH);
		if (alive)
			continue;
		sqlite3_reset(u);
		sqlite3_bind_text(u, 1, now, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, sqlite3_column_int64(q, 0));
		if (sqlite3_step(u) != SQLITE_DONE) {
			rc = ed_store_fail(st, "marking an abandoned snapshot", err);
			goto out;
		}
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "looking for abandoned snapshots", err);
out:
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	return rc;
}

/* Stores up to this size get a full PRAGMA quick_check before a snapshot. */
#define QUICK_CHECK_MAX_BYTES (128 << 20)
/* ... at most this often per open store (serve, an ingest of many documents). */
#define QUICK_CHECK_EVERY_S 600.0

/*
 * A damaged store is refused, not extended: a snapshot written on top of
 * broken pages (a delta on a base it can no longer read) only buries the
 * damage. Opening it has refused a file shorter than the pages its header
 * counts (SQLite checks that); here a short last page (which reads as zeros,
 * and which quick_check may find fine), then, for a store up to
 * QUICK_CHECK_MAX_BYTES, PRAGMA quick_check, which reads every page and checks
 * the b-trees (not the indexes against their tables). It costs about 0.7 s per
 * 100 MB with a warm cache and ten times that cold, so a larger store leaves
 * it to `sqlite3 STORE 'PRAGMA quick_check'` (docs/SECURITY.md); its damaged
 * pages are still refused when a read meets them. A store open for long, or
 * taking many snapshots in a row, is checked once per QUICK_CHECK_EVERY_S:
 * before each of a hundred pushed documents it was most of their cost.
 * Before the write transaction, so that other collectors do not wait on it.
 */
static enum ed_code check_not_corrupt(struct ed_store *st, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	char first[160] = "";
	int r, bad = 0;
	int64_t page = 0;
	struct stat sb;
	if ((rc = ed_store_query_int(st, "PRAGMA page_size", &page, "reading the store header", err)))
		return rc;
	if (page <= 0 || stat(st->path, &sb) != 0)
		return ED_OK;
	if (sb.st_size % page != 0) {
		snprintf(first, sizeof(first), "%lld bytes is not a whole number of %lld-byte pages",
			 (long long)sb.st_size, (long long)page);
		bad++;
		goto report;
	}
	if (sb.st_size > QUICK_CHECK_MAX_BYTES ||
	    (st->checked_at > 0 && ed_now_s() - st->checked_at < QUICK_CHECK_EVERY_S))
		return ED_OK;
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		if (v && strcmp(v, "ok") == 0)
			continue;
		if (!bad++)
			printable_name((const unsigned char *)(v ? v : "unknown damage"), first,
				       sizeof(first));
	}
	if (r != SQLITE_DONE) {
		int x = sqlite3_extended_errcode(st->db) & 0xff;
		if (x != SQLITE_CORRUPT && x != SQLITE_NOTADB)
			goto fail;
		printable_name((const unsigned char *)sqlite3_errmsg(st->db), first, sizeof(first));
		bad++;
	}
report:
	if (bad)
		rc = ed_err_set(err, ED_STORE,
				"store %s: the database is corrupt (%s); no snapshot was written. "
				"Restore the store from a backup, or save what is readable with "
				"'sqlite3 %s .recover | sqlite3 NEW.db' and check it before use",
				st->path, first, st->path);
	else if (s)
		st->checked_at = ed_now_s();
	sqlite3_finalize(s);
	return rc;
fail:
	rc = ed_store_fail(st, "checking the store before writing", err);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_snapshot_begin(struct ed_store *st, const char *env, const char *host,
			       const char *role, const char *root, struct ed_snapwriter **out,
			       struct ed_err *err)
{
	struct ed_snapwriter *w = calloc(1, sizeof(*w));
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	char now[ED_ISOTIME_SIZE], me[256] = "";
	if (!w)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	w->st = st;
	w->sink.emit = writer_emit;
	w->sink.warn = writer_warn;
	w->sink.ctx = w;
	w->sink.content = writer_content;
	w->arena = st->spare_arena; /* reset, its block kept */
	st->spare_arena = (struct ed_buf)ED_BUF_INIT;
	ed_isotime_now(now);
	gethostname(me, sizeof(me) - 1);

	if ((rc = check_not_corrupt(st, err)) ||
	    (rc = exec(st, "BEGIN IMMEDIATE", "starting a snapshot", err)))
		goto fail;
	if ((rc = reap_abandoned(st, me, err)))
		goto rollback;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO snapshots (env, host, started_at, status, root, "
			       "collector_host, collector_pid, role) "
			       "VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "starting a snapshot", err);
		goto rollback;
	}
	sqlite3_bind_text(s, 1, env, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
	bind_text(s, 4, root);
	sqlite3_bind_text(s, 5, me, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)getpid());
	sqlite3_bind_text(s, 7, role ? role : "", -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = ed_store_fail(st, "starting a snapshot", err);
		goto rollback;
	}
	w->id = sqlite3_last_insert_rowid(st->db);
	if ((rc = exec(st, "COMMIT", "starting a snapshot", err)))
		goto rollback;
	/* The items and the final status go into one transaction. */
	if ((rc = exec(st, "BEGIN IMMEDIATE", "starting a snapshot", err)))
		goto fail_marked;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT OR IGNORE INTO items (snapshot_id, kind, key, fingerprint, "
			       "value, ftype, mode, owner, grp, target, size, mtime_ns, ctime_ns, "
			       "ino, dev, error, attrs, state) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &w->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "INSERT INTO warnings (snapshot_id, seq, message) VALUES (?, ?, ?)",
			       -1, &w->warn, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "INSERT OR IGNORE INTO contents (fingerprint, size, encoding, data) "
			       "VALUES (?, ?, 'zlib', ?)",
			       -1, &w->content, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "INSERT OR IGNORE INTO contents (fingerprint, size, encoding, data) "
			       "VALUES (?, 0, 'none', X'')",
			       -1, &w->content_none, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "starting a snapshot", err);
		goto fail_marked;
	}
	sqlite3_finalize(s);
	*out = w;
	return ED_OK;

rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	goto fail;
fail_marked:
	sqlite3_finalize(s);
	s = NULL;
	ed_snapshot_abort(w);
	return rc;
fail:
	sqlite3_finalize(s);
	free(w);
	return rc;
}

struct ed_sink *ed_snapshot_sink(struct ed_snapwriter *w)
{
	return &w->sink;
}

int64_t ed_snapshot_id(const struct ed_snapwriter *w)
{
	return w->id;
}

/* ed_snapshot_plan(); listing: a document's items, all of them, on any previous signature. */
static enum ed_code plan(struct ed_snapwriter *w, const char *sig, int64_t prev, bool listing,
			 bool *delta, struct ed_err *err)
{
	struct ed_store *st = w->st;
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	int64_t prev_base = 0, prev_items = 0, own = 0;
	bool same = false;
	*delta = false;
	if (sqlite3_prepare_v2(st->db, "UPDATE snapshots SET collect_sig = ? WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_text(s, 1, sig, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, w->id) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (!prev)
		return ED_OK;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT collect_sig = ?2 OR ?3, base_id, item_count, "
			       "CASE WHEN base_id IS NULL THEN 0 "
			       "ELSE (SELECT count(*) FROM items WHERE snapshot_id = ?1) END "
			       "FROM snapshots WHERE id = ?1 AND status = 'complete'",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, prev) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, sig, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(s, 3, listing) != SQLITE_OK)
		goto fail;
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		same = sqlite3_column_int(s, 0) == 1;
		prev_base = sqlite3_column_int64(s, 1);
		prev_items = sqlite3_column_int64(s, 2);
		own = sqlite3_column_int64(s, 3);
	} else if (r != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	/*
	 * A delta on a delta is a delta on the same base, carrying the previous
	 * changes along: once they are half the items, a full snapshot is cheaper
	 * to read than base and delta together.
	 */
	if (!same || (prev_base && 2 * own > prev_items))
		return ED_OK;
	int64_t base = prev_base ? prev_base : prev;
	if (sqlite3_prepare_v2(st->db, "UPDATE snapshots SET base_id = ? WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, base) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, w->id) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	if ((rc = ed_delta_open(st->db, st->path, w->id, prev, prev_base, listing, &w->delta,
				err)))
		return rc;
	w->items = prev_items;
	w->base = base;
	*delta = true;
	return ED_OK;
fail:
	rc = ed_store_fail(st, "planning the snapshot", err);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_snapshot_plan(struct ed_snapwriter *w, const char *sig, int64_t prev,
			      bool *delta, struct ed_err *err)
{
	return plan(w, sig, prev, false, delta, err);
}

enum ed_code ed_snapshot_plan_listing(struct ed_snapwriter *w, bool *delta, struct ed_err *err)
{
	struct ed_store *st = w->st;
	sqlite3_stmt *s = NULL;
	int64_t prev = 0;
	/* The host's previous complete snapshot, in the writer's own transaction. */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT coalesce(max(p.id), 0) FROM snapshots AS p, snapshots AS me "
			       "WHERE me.id = ?1 AND p.env = me.env AND p.host = me.host AND "
			       "p.status = 'complete' AND p.id < me.id",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, w->id) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		enum ed_code rc = ed_store_fail(st, "planning the snapshot", err);
		sqlite3_finalize(s);
		return rc;
	}
	prev = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return plan(w, ED_SNAPSHOT_SIG_LISTING, prev, true, delta, err);
}

enum ed_code ed_snapshot_role_base(struct ed_snapwriter *w, int64_t *base, int64_t *items,
				  struct ed_err *err)
{
	struct ed_store *st = w->st;
	sqlite3_stmt *s = NULL;
	*base = *items = 0;
	/*
	 * In the writer's own transaction: nothing can come between the choice
	 * and the delta written on it. The host's own previous snapshot wins.
	 */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT b.id, b.item_count FROM snapshots AS me, snapshots AS b "
			       "WHERE me.id = ?1 AND NOT EXISTS (SELECT 1 FROM snapshots AS p "
			       "WHERE p.env = me.env AND p.host = me.host AND "
			       "p.status = 'complete' AND p.id < me.id) AND b.env = me.env AND "
			       "b.role = me.role AND b.host <> me.host AND b.status = 'complete' AND "
			       "b.base_id IS NULL AND b.id < me.id ORDER BY b.id DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, w->id) != SQLITE_OK)
		goto fail;
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		*base = sqlite3_column_int64(s, 0);
		*items = sqlite3_column_int64(s, 1);
	} else if (r != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_finalize(s);
	return ED_OK;
fail:;
	enum ed_code rc = ed_store_fail(st, "looking for a base of the host's role", err);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_snapshot_copy_unchanged(struct ed_snapwriter *w, const struct ed_fp *digest,
					bool *done, struct ed_err *err)
{
	static const char *const copy[] = {
		"INSERT INTO items (snapshot_id, " ITEM_COLS ") SELECT ?1, " ITEM_COLS
		" FROM items WHERE snapshot_id = ?2",
		"INSERT INTO warnings (snapshot_id, seq, message) SELECT ?1, seq, message "
		"FROM warnings WHERE snapshot_id = ?2",
	};
	struct ed_store *st = w->st;
	sqlite3_stmt *s = NULL;
	*done = false;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT p.id, p.base_id, p.item_count, p.warning_count, "
			       "p.doc_digest = ?2, CASE WHEN p.base_id IS NULL THEN 0 "
			       "ELSE (SELECT count(*) FROM items WHERE snapshot_id = p.id) END "
			       "FROM snapshots AS p, snapshots AS me WHERE me.id = ?1 AND "
			       "p.env = me.env AND p.host = me.host AND p.status = 'complete' AND "
			       "p.id < me.id ORDER BY p.id DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, w->id) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, digest->b, sizeof(digest->b), SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	int r = sqlite3_step(s);
	if (r == SQLITE_DONE || (r == SQLITE_ROW && sqlite3_column_int(s, 4) != 1)) {
		sqlite3_finalize(s);
		return ED_OK;
	}
	if (r != SQLITE_ROW)
		goto fail;
	int64_t prev = sqlite3_column_int64(s, 0), prev_base = sqlite3_column_int64(s, 1);
	int64_t items = sqlite3_column_int64(s, 2), warnings = sqlite3_column_int64(s, 3);
	int64_t own = sqlite3_column_int64(s, 5);
	sqlite3_finalize(s);
	s = NULL;
	if (prev_base && 2 * own > items) /* as ed_snapshot_plan_listing() would: write it full */
		return ED_OK;
	int64_t base = prev_base ? prev_base : prev, rows = 0;
	if (sqlite3_prepare_v2(st->db, "UPDATE snapshots SET base_id = ?1 WHERE id = ?2", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, base) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, w->id) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
		if (i == 0 && !prev_base)
			continue; /* a delta on a full snapshot with nothing of its own */
		sqlite3_finalize(s);
		if (sqlite3_prepare_v2(st->db, copy[i], -1, &s, NULL) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 1, w->id) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 2, prev) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		if (i == 0)
			rows = sqlite3_changes(st->db);
	}
	sqlite3_finalize(s);
	w->items = items;
	w->warnings = warnings;
	w->base = base;
	w->rows = rows;
	*done = true;
	return ED_OK;
fail:;
	enum ed_code rc = ed_store_fail(st, "storing an unchanged document", err);
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_snapshot_plan_listing_on(struct ed_snapwriter *w, int64_t base, bool *delta,
					 struct ed_err *err)
{
	return plan(w, ED_SNAPSHOT_SIG_LISTING, base, true, delta, err);
}

static void writer_free(struct ed_snapwriter *w)
{
	ed_delta_close(w->delta);
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->warn);
	sqlite3_finalize(w->content);
	sqlite3_finalize(w->content_none);
	free(w->zbuf);
	/* The buffers go to the store's next writer, unless it has some already. */
	if (!w->st->spare_pend) {
		w->st->spare_pend = w->pend;
		w->pend = NULL;
	}
	if (!w->st->spare_arena.p) {
		ed_buf_reset(&w->arena);
		w->st->spare_arena = w->arena;
		w->arena = (struct ed_buf)ED_BUF_INIT;
	}
	free(w->pend);
	ed_buf_release(&w->arena);
	free(w);
}

enum ed_code ed_snapshot_commit(struct ed_snapwriter *w, int64_t *items, int64_t *warnings,
				struct ed_err *err)
{
	struct ed_snapshot_info info;
	enum ed_code rc = ed_snapshot_commit_info(w, &info, err);
	if (!rc && items)
		*items = info.items;
	if (!rc && warnings)
		*warnings = info.warnings;
	return rc;
}

enum ed_code ed_snapshot_commit_info(struct ed_snapwriter *w, struct ed_snapshot_info *info,
				     struct ed_err *err)
{
	struct ed_store *st = w->st;
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	char now[ED_ISOTIME_SIZE];
	ed_isotime_now(now);
	memset(info, 0, sizeof(*info));
	if (w->failed) {
		*err = w->warn_err;
		rc = w->warn_err.code;
		goto abort;
	}
	if ((rc = flush_pending(w, err)))
		goto abort;
	double t0 = ed_now_s(); /* the store's time from here on: flush_pending() counts its own */
	if (w->delta) {
		int64_t removed = 0;
		if ((rc = ed_delta_finish(w->delta, &removed, &w->rows, err)))
			goto abort;
		w->items -= removed;
	}
	if (sqlite3_prepare_v2(st->db,
			       "UPDATE snapshots SET status = 'complete', finished_at = ?, "
			       "item_count = ?, warning_count = ? WHERE id = ? AND status = 'running'",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "finishing the snapshot", err);
		goto abort;
	}
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, w->items);
	sqlite3_bind_int64(s, 3, w->warnings);
	sqlite3_bind_int64(s, 4, w->id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = ed_store_fail(st, "finishing the snapshot", err);
		goto abort;
	}
	if (sqlite3_changes(st->db) != 1) {
		rc = ed_err_set(err, ED_STORE,
				"store %s: snapshot @%lld is no longer 'running' (marked abandoned "
				"by another collection?)",
				st->path, (long long)w->id);
		goto abort;
	}
	sqlite3_finalize(s);
	s = NULL;
	if ((rc = exec(st, "COMMIT", "committing the snapshot", err)))
		goto abort;
	info->items = w->items;
	info->warnings = w->warnings;
	info->rows = w->rows;
	info->base = w->base;
	info->store_s = w->busy + (ed_now_s() - t0);
	writer_free(w);
	return ED_OK;
abort:
	sqlite3_finalize(s);
	ed_snapshot_abort(w);
	return rc;
}

void ed_snapshot_abort(struct ed_snapwriter *w)
{
	if (!w)
		return;
	struct ed_store *st = w->st;
	ed_delta_close(w->delta);
	w->delta = NULL;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->warn);
	sqlite3_finalize(w->content);
	sqlite3_finalize(w->content_none);
	free(w->zbuf);
	free(w->pend);
	ed_buf_release(&w->arena);
	w->ins = w->warn = w->content = w->content_none = NULL;
	w->zbuf = NULL;
	w->pend = NULL;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_stmt *s = NULL;
	char now[ED_ISOTIME_SIZE];
	ed_isotime_now(now);
	/* Best effort: if this fails too, the row stays 'running' and is reaped later. */
	if (sqlite3_prepare_v2(st->db,
			       "UPDATE snapshots SET status = 'failed', finished_at = ? "
			       "WHERE id = ? AND status = 'running'",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, w->id);
		sqlite3_step(s);
	}
	sqlite3_finalize(s);
	free(w);
}

/* --- resolving names --- */

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

int ed_items_prepare(sqlite3 *db, const char *before, const char *cols, const char *where,
		     const char *after, int64_t id, int64_t base, sqlite3_stmt **out)
{
	const char *and = where ? " AND " : "", *w = where ? where : "";
	char *sql = sqlite3_mprintf(
		"%sSELECT %s FROM items WHERE snapshot_id = ?1 AND state IS NOT " ED_TOMBSTONE_SQL
		"%s%s UNION ALL SELECT %s FROM items AS b WHERE b.snapshot_id = ?2%s%s"
		" AND NOT EXISTS (SELECT 1 FROM items AS d WHERE d.snapshot_id = ?1"
		" AND d.kind = b.kind AND d.key = b.key) ORDER BY kind, key%s",
		before ? before : "", cols, and, w, cols, and, w, after ? after : "");
	*out = NULL;
	if (!sql)
		return SQLITE_NOMEM;
	int r = sqlite3_prepare_v2(db, sql, -1, out, NULL);
	sqlite3_free(sql);
	if (r == SQLITE_OK)
		ed_items_bind(*out, id, base);
	return r;
}

void ed_items_bind(sqlite3_stmt *s, int64_t id, int64_t base)
{
	sqlite3_bind_int64(s, 1, id);
	if (base)
		sqlite3_bind_int64(s, 2, base);
	else
		sqlite3_bind_null(s, 2);
}

#define SNAPREF_COLS \
	"id, env, host, role, started_at, finished_at, item_count, warning_count, base_id, " \
	"collect_sig"

static void snapref_fill(struct ed_snapref *out, sqlite3_stmt *s)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	copy_col(out->env, sizeof(out->env), s, 1);
	copy_col(out->host, sizeof(out->host), s, 2);
	copy_col(out->role, sizeof(out->role), s, 3);
	copy_col(out->started_at, sizeof(out->started_at), s, 4);
	copy_col(out->finished_at, sizeof(out->finished_at), s, 5);
	out->items = sqlite3_column_int64(s, 6);
	out->warnings = sqlite3_column_int64(s, 7);
	out->base = sqlite3_column_int64(s, 8);
	copy_col(out->sig, sizeof(out->sig), s, 9);
}

bool ed_snaprefs_settings_differ(const struct ed_snapref *refs, size_t nrefs,
				 const struct ed_snapref *cands, size_t ncands,
				 const struct ed_snapref **a, const struct ed_snapref **b)
{
	for (size_t i = 0; i < nrefs; i++)
		for (size_t j = 0; j < ncands; j++)
			if (strlen(refs[i].sig) == 64 && strlen(cands[j].sig) == 64 &&
			    memcmp(refs[i].sig, cands[j].sig, 32) != 0) {
				*a = &refs[i];
				*b = &cands[j];
				return true;
			}
	return false;
}

static enum ed_code resolve_id(struct ed_store *st, int64_t id, const char *spec,
			       struct ed_snapref *out, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " SNAPREF_COLS ", status FROM snapshots WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return ed_store_fail(st, "finding a snapshot", err);
	sqlite3_bind_int64(s, 1, id);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(s, 10);
		if (!status || strcmp(status, "complete") != 0)
			rc = ed_err_set(err, ED_NOTFOUND, "snapshot %s in store %s is %s, not complete",
					spec, st->path, status ? status : "of unknown status");
		else
			snapref_fill(out, s);
	} else if (r == SQLITE_DONE) {
		rc = ed_err_set(err, ED_NOTFOUND, "store %s has no snapshot %s", st->path, spec);
	} else {
		rc = ed_store_fail(st, "finding a snapshot", err);
	}
	sqlite3_finalize(s);
	return rc;
}

enum ed_code ed_store_query_rows(struct ed_store *st, const char *sql, const char *a,
				const char *b, size_t size, void (*fill)(void *row, sqlite3_stmt *s),
				const char *what, void **out, size_t *n, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	char *v = NULL;
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, what, err);
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char *nv = realloc(v, ncap * size);
			if (!nv) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		fill(v + cnt++ * size, s);
	}
	if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, what, err);
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	sqlite3_finalize(s);
	return rc;
}

static void snapref_row(void *row, sqlite3_stmt *s)
{
	snapref_fill(row, s);
}

/* Runs sql (text parameters ?1 = a, ?2 = b) selecting SNAPREF_COLS into a malloc'd array. */
/* At most this many environments are named in a message; the closest is looked for among all. */
#define ENV_HINT_MAX 20

enum ed_code ed_store_env_hint(struct ed_store *st, const char *env, struct ed_buf *out,
			       struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	struct ed_buf names = ED_BUF_INIT;
	const char *close = NULL;
	size_t best = SIZE_MAX, n = 0;
	enum ed_code rc = ED_OK;
	char *close_copy = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT DISTINCT env FROM latest_v ORDER BY env", -1, &s,
			       NULL) != SQLITE_OK)
		return ed_store_fail(st, "listing the environments", err);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *e = (const char *)sqlite3_column_text(s, 0);
		if (!e)
			continue;
		if (n < ENV_HINT_MAX && ed_buf_addf(&names, "%s%s", n ? ", " : "", e))
			goto nomem;
		n++;
		const char *one[] = {e};
		if (env && ed_suggest(env, one, 1)) {
			size_t d = ed_suggest_distance(env, e);
			if (d < best) {
				free(close_copy);
				if (!(close_copy = strdup(e)))
					goto nomem;
				close = close_copy;
				best = d;
			}
		}
	}
	if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "listing the environments", err);
		goto out;
	}
	if (n == 0 ? ed_buf_adds(out, "no environment has one yet")
		   : ed_buf_addf(out, "known environment%s: %s%s", n == 1 ? "" : "s",
				 ed_buf_str(&names), n > ENV_HINT_MAX ? ", ..." : "") ||
			     (close && ed_buf_addf(out, " (did you mean '%s'?)", close)))
		goto nomem;
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory");
out:
	sqlite3_finalize(s);
	ed_buf_release(&names);
	free(close_copy);
	return rc;
}

/* ED_NOTFOUND: env has no complete snapshot, naming the environments that have one. */
static enum ed_code env_not_found(struct ed_store *st, const char *env, struct ed_err *err)
{
	struct ed_buf hint = ED_BUF_INIT;
	enum ed_code rc = ed_store_env_hint(st, env, &hint, err);
	if (!rc)
		rc = ed_err_set(err, ED_NOTFOUND,
				"environment '%s' has no complete snapshot in store %s; %s", env,
				st->path, ed_buf_str(&hint));
	ed_buf_release(&hint);
	return rc;
}

static enum ed_code query_snaprefs(struct ed_store *st, const char *sql, const char *a,
				   const char *b, struct ed_snapref **out, size_t *n,
				   struct ed_err *err)
{
	void *v = NULL;
	enum ed_code rc = ed_store_query_rows(st, sql, a, b, sizeof(**out), snapref_row,
					      "finding snapshots", &v, n, err);
	*out = v;
	return rc;
}

enum ed_code ed_store_resolve_all(struct ed_store *st, const char *spec, struct ed_snapref **out,
				  size_t *n, struct ed_err *err)
{
	*out = NULL;
	*n = 0;
	if (spec[0] == '@') {
		struct ed_snapref *v = malloc(sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		enum ed_code rc = ed_store_resolve(st, spec, v, err);
		if (rc) {
			free(v);
			return rc;
		}
		*out = v;
		*n = 1;
		return ED_OK;
	}
	enum ed_code rc = query_snaprefs(st,
					 "SELECT " SNAPREF_COLS " FROM snapshots WHERE id IN "
					 "(SELECT snapshot_id FROM latest_v WHERE env = ?1) "
					 "ORDER BY role, host",
					 spec, NULL, out, n, err);
	if (!rc && *n == 0)
		rc = env_not_found(st, spec, err);
	return rc;
}

enum ed_code ed_store_snapshots_before(struct ed_store *st, const char *env, const char *before,
				       struct ed_snapref **out, size_t *n, struct ed_err *err)
{
	return query_snaprefs(st,
			      "SELECT " SNAPREF_COLS " FROM snapshots AS s "
			      "WHERE s.env = ?1 AND s.status = 'complete' AND s.id = coalesce("
			      "(SELECT max(t.id) FROM snapshots AS t WHERE t.env = s.env "
			      "AND t.host = s.host AND t.status = 'complete' AND t.finished_at <= ?2), "
			      "(SELECT min(t.id) FROM snapshots AS t WHERE t.env = s.env "
			      "AND t.host = s.host AND t.status = 'complete' AND t.finished_at > ?2)) "
			      "ORDER BY role, host",
			      env, before, out, n, err);
}

enum ed_code ed_store_snapshots_of_last_report(struct ed_store *st, const char *env,
					       struct ed_snapref **out, size_t *n,
					       struct ed_err *err)
{
	return query_snaprefs(
		st,
		"SELECT " SNAPREF_COLS " FROM snapshots WHERE env = ?1 AND status = 'complete' "
		"AND id IN (SELECT j.value FROM runs AS r, json_each(r.reference_snapshots) AS j "
		"WHERE r.id = (SELECT max(id) FROM runs WHERE command = 'report' "
		"AND (reference_env = ?1 OR candidate_env = ?1)) "
		"UNION SELECT j.value FROM runs AS r, json_each(r.candidate_snapshots) AS j "
		"WHERE r.id = (SELECT max(id) FROM runs WHERE command = 'report' "
		"AND (reference_env = ?1 OR candidate_env = ?1))) "
		"ORDER BY role, host",
		env, NULL, out, n, err);
}

enum ed_code ed_store_resolve(struct ed_store *st, const char *spec, struct ed_snapref *out,
			      struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	struct ed_buf hosts = ED_BUF_INIT;
	memset(out, 0, sizeof(*out));
	if (spec[0] == '@') {
		char *end;
		errno = 0;
		long long id = strtoll(spec + 1, &end, 10);
		if (!spec[1] || *end || errno || id <= 0)
			return ed_err_set(err, ED_USAGE, "'%s' is not a snapshot id (write @ID, e.g. @12)",
					  spec);
		return resolve_id(st, id, spec, out, err);
	}
	if (sqlite3_prepare_v2(st->db,
			       "SELECT snapshot_id, host FROM latest_v WHERE env = ? ORDER BY host",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "finding an environment", err);
	sqlite3_bind_text(s, 1, spec, -1, SQLITE_STATIC);
	int r, n = 0;
	int64_t id = 0;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		const char *h = (const char *)sqlite3_column_text(s, 1);
		if (n < 5)
			ed_buf_addf(&hosts, "%s%s", n ? ", " : "", h ? h : "");
		n++;
	}
	if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "finding an environment", err);
		goto out;
	}
	if (n == 0) {
		rc = env_not_found(st, spec, err);
	} else if (n > 1) {
		rc = ed_err_set(err, ED_UNSUPPORTED,
				"environment '%s' has %d hosts (%s%s); comparing fleets is not "
				"supported yet: name one snapshot as @ID (see 'envdrift snapshots "
				"--env %s')",
				spec, n, ed_buf_str(&hosts), n > 5 ? ", ..." : "", spec);
	} else {
		rc = resolve_id(st, id, spec, out, err);
	}
out:
	sqlite3_finalize(s);
	ed_buf_release(&hosts);
	return rc;
}

/* --- listing --- */

enum ed_code ed_store_list_snapshots(struct ed_store *st, const char *env,
				     enum ed_code (*each)(void *ctx, const struct ed_snapshot_row *r,
							  struct ed_err *err),
				     void *ctx, struct ed_err *err)
{
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT v.id, v.env, v.host, v.started_at, v.finished_at, v.status, "
			       "v.items, s.warning_count FROM snapshots_v AS v "
			       "JOIN snapshots AS s ON s.id = v.id "
			       "WHERE ?1 IS NULL OR v.env = ?1 ORDER BY v.id",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "listing snapshots", err);
	if (env)
		sqlite3_bind_text(s, 1, env, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ed_snapshot_row row = {
			.id = sqlite3_column_int64(s, 0),
			.env = (const char *)sqlite3_column_text(s, 1),
			.host = (const char *)sqlite3_column_text(s, 2),
			.started_at = (const char *)sqlite3_column_text(s, 3),
			.finished_at = (const char *)sqlite3_column_text(s, 4),
			.status = (const char *)sqlite3_column_text(s, 5),
			.items = sqlite3_column_int64(s, 6),
			.warnings = sqlite3_column_int64(s, 7),
		};
		if ((rc = each(ctx, &row, err)))
			goto out;
	}
	if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "listing snapshots", err);
out:
	sqlite3_finalize(s);
	return rc;
}
