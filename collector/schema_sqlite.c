/* SPDX-License-Identifier: MIT */
/*
 * The SQLite schema collector: opens a database read-only and emits one item
 * per table, column, index, view and trigger, each fingerprinted by its
 * normalised definition. A table's item leaves its columns out, so adding a
 * column shows up as one new column item and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include "data_impl.h"
#include "ed/collect.h"

/* One item waiting to be emitted; all of them are sorted by key first. */
struct def {
	char *key;    /* "sqlite:LABEL/TYPE/OBJECT", malloc'd */
	char *value;  /* the definition, secret literals masked, malloc'd */
	struct ed_fp fp; /* XXH3 of value; keyed, of the unmasked definition, when masked */
	bool masked;  /* a literal of value was masked */
};

struct defs {
	struct def *v;
	size_t n;
	size_t cap;
	const struct ed_secrets *sec; /* the key and the secret patterns; borrowed */
};

/* One top-level part of a normalised CREATE TABLE body. */
struct coldef {
	char *name;      /* unquoted column name, malloc'd; NULL for a table constraint */
	const char *def; /* what follows the name (borrowed from the normalised sql) */
	size_t deflen;
};

struct table_split {
	struct coldef *cols;
	size_t n;
	struct ed_buf table; /* "CREATE TABLE name(<constraints>) <options>" */
};

static void defs_release(struct defs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].key);
		free(d->v[i].value);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* Takes key and value (both malloc'd) into d; frees them on failure. */
static enum ed_code defs_push(struct defs *d, char *key, char *value, const struct ed_fp *fp,
			      bool masked, struct ed_err *err)
{
	if (!key || !value)
		goto nomem;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct def *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			goto nomem;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].key = key;
	d->v[d->n].value = value;
	d->v[d->n].fp = *fp;
	d->v[d->n].masked = masked;
	d->n++;
	return ED_OK;
nomem:
	free(key);
	free(value);
	return ed_err_set(err, ED_NOMEM, "out of memory");
}

/*
 * Adds the item "sqlite:LABEL/TYPE/OBJECT[.SUB]" with value[0..len), its
 * secret literals masked (SUB, a column, names what a DEFAULT is the value of).
 */
static enum ed_code defs_add(struct defs *d, const char *label, const char *type,
			     const char *object, const char *sub, const char *value, size_t len,
			     struct ed_err *err)
{
	struct ed_buf key = ED_BUF_INIT, masked = ED_BUF_INIT;
	struct ed_fp fp;
	size_t nmasked = 0;
	enum ed_code rc;
	if (ed_buf_addf(&key, "sqlite:%s/%s/%s%s%s", label, type, object, sub ? "." : "",
			sub ? sub : "") ||
	    ed_sql_mask_literals(d->sec, ED_SQL_SQLITE, sub, value, len, &masked, &nmasked) ||
	    ed_buf_add(&masked, "", 0)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto fail;
	}
	if (nmasked) {
		/* The stored text never holds the secret; the keyed fingerprint shows its change. */
		if ((rc = ed_fp_keyed(d->sec->key, value, len, &fp, err)))
			goto fail;
	} else {
		ed_fp_of(masked.p, masked.len, &fp);
	}
	return defs_push(d, ed_buf_detach(&key), ed_buf_detach(&masked), &fp, nmasked > 0, err);
fail:
	ed_buf_release(&key);
	ed_buf_release(&masked);
	return rc;
}

static int def_cmp(const void *a, const void *b)
{
	const struct def *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	/* Equal keys (dots in names) are ordered by value: the same one is kept everywhere. */
	return c ? c : strcmp(x->value, y->value);
}

/* Largest database copied from a remote host to read its schema. */
#define REMOTE_DB_MAX ((int64_t)1 << 30)

/*
 * Copies path (and its -wal file, if any) from a source without local paths
 * (SSH) into a private temporary folder; dir receives the folder, local the
 * copy's path. The caller removes both.
 */
static enum ed_code copy_remote(struct ed_source *src, const char *path, char dir[64],
				struct ed_buf *local, struct ed_err *err)
{
	snprintf(dir, 64, "/tmp/envdrift-db-XXXXXX");
	if (!mkdtemp(dir))
		return ed_err_set(err, ED_IO, "%s: cannot make a temporary folder: %s", path,
				  strerror(errno));
	const char *suffix[2] = {"", "-wal"};
	for (int k = 0; k < 2; k++) {
		struct ed_buf from = ED_BUF_INIT, to = ED_BUF_INIT;
		struct ed_stat st;
		struct ed_file *f = NULL;
		struct ed_err serr = {0};
		enum ed_code rc = ED_OK;
		FILE *out = NULL;
		char chunk[65536];
		if (ed_buf_addf(&from, "%s%s", path, suffix[k]) ||
		    ed_buf_addf(&to, "%s/db%s", dir, suffix[k])) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto next;
		}
		if (src->ops->stat(src, from.p, &st, &serr)) {
			if (k == 1 && serr.code == ED_NOTFOUND)
				goto next; /* no WAL: nothing more to copy */
			rc = ed_err_set(err, serr.code, "%s", serr.msg);
			goto next;
		}
		if (st.type != ED_FT_REG) {
			rc = ed_err_set(err, ED_IO, "%s: not a regular file", from.p);
			goto next;
		}
		if (st.size > REMOTE_DB_MAX) {
			rc = ed_err_set(err, ED_TOOBIG,
					"%s: %lld bytes; a database over 1 GiB is not copied from a remote "
					"host (collect it on the host with 'collect --out')",
					from.p, (long long)st.size);
			goto next;
		}
		if ((rc = src->ops->open(src, from.p, &f, err)))
			goto next;
		if (!(out = fopen(to.p, "wb"))) {
			rc = ed_err_set(err, ED_IO, "%s: %s", to.p, strerror(errno));
			goto next;
		}
		int64_t total = 0;
		for (;;) {
			size_t got = 0;
			if ((rc = src->ops->read(f, chunk, sizeof(chunk), &got, err)) || !got)
				break;
			total += (int64_t)got;
			if (total > REMOTE_DB_MAX || fwrite(chunk, 1, got, out) != got) {
				rc = ed_err_set(err, ED_IO, "%s: copy failed", from.p);
				break;
			}
		}
	next:
		if (out && fclose(out) != 0 && !rc)
			rc = ed_err_set(err, ED_IO, "%s: copy failed", from.p);
		if (f)
			src->ops->close(f);
		if (!rc && k == 0 && ed_buf_add(local, to.p, to.len))
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
		ed_buf_release(&from);
		ed_buf_release(&to);
		if (rc)
			return rc;
	}
	return ED_OK;
}

static void remove_copy(const char *dir)
{
	static const char *const names[] = {"db", "db-wal", "db-shm", "db-journal"};
	char p[128];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/*
 * True when the database at local is in WAL mode (header bytes 18-19, the
 * read and write versions, are 2) or has a WAL beside it: SQLite would make
 * -wal and -shm files next to it even on a read-only connection.
 */
static bool needs_wal(const char *local)
{
	unsigned char h[20];
	struct stat sb;
	struct ed_buf wal = ED_BUF_INIT;
	bool yes = false;
	int fd = open(local, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		yes = read(fd, h, sizeof(h)) == (ssize_t)sizeof(h) && (h[18] == 2 || h[19] == 2);
		close(fd);
	}
	if (!yes && ed_buf_addf(&wal, "%s-wal", local) == 0)
		yes = lstat(wal.p, &sb) == 0;
	ed_buf_release(&wal);
	return yes;
}

/* Turns an SQLite failure into an error naming path; the message is copied at once. */
static enum ed_code db_fail(sqlite3 *db, const char *path, int code, struct ed_err *err)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
	switch (code & 0xff) {
	case SQLITE_NOTADB:
		return ed_err_set(err, ED_PARSE, "%s: not an SQLite database", path);
	case SQLITE_CORRUPT:
		return ed_err_set(err, ED_PARSE, "%s: corrupt database: %s", path, msg);
	case SQLITE_NOMEM:
		return ed_err_set(err, ED_NOMEM, "%s: out of memory", path);
	case SQLITE_CANTOPEN:
		return ed_err_set(err, ED_IO, "%s: cannot open: %s", path, msg);
	default:
		return ed_err_set(err, ED_IO, "%s: %s", path, msg);
	}
}

/* "file:" URI for a local path: '?', '#' and '%' would otherwise be read as URI syntax. */
static int build_uri(const char *local, struct ed_buf *uri)
{
	/* "file://" + an absolute path keeps a leading "//" from reading as an authority. */
	if (ed_buf_adds(uri, local[0] == '/' ? "file://" : "file:"))
		return -1;
	for (const char *p = local; *p; p++) {
		int rc;
		if (*p == '?' || *p == '#' || *p == '%')
			rc = ed_buf_addf(uri, "%%%02X", (unsigned char)*p);
		else
			rc = ed_buf_addc(uri, *p);
		if (rc)
			return -1;
	}
	return ed_buf_adds(uri, "?mode=ro");
}

/* Index past the quoted token at s[i] ('...' or "..." with doubled quotes), or 0. */
static size_t skip_quoted(const char *s, size_t n, size_t i)
{
	char q = s[i];
	for (size_t j = i + 1; j < n; j++) {
		if (s[j] != q)
			continue;
		if (j + 1 < n && s[j + 1] == q) {
			j++;
			continue;
		}
		return j + 1;
	}
	return 0;
}

static bool starts_with_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && memcmp(s, w, k) == 0 && (n == k || s[k] == ' ' || s[k] == '(');
}

static bool is_table_constraint(const char *s, size_t n)
{
	return starts_with_word(s, n, "CONSTRAINT") || starts_with_word(s, n, "PRIMARY") ||
	       starts_with_word(s, n, "UNIQUE") || starts_with_word(s, n, "CHECK") ||
	       starts_with_word(s, n, "FOREIGN");
}

static void split_release(struct table_split *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->cols[i].name);
	free(ts->cols);
	ed_buf_release(&ts->table);
	ts->cols = NULL;
	ts->n = 0;
}

/*
 * Reads the column name at the start of part s[0..n): bare, "quoted" or
 * 'quoted' (both with doubled quotes). Returns the malloc'd name and sets
 * *rest past it, or NULL when the part does not start with a name.
 */
static char *part_name(const char *s, size_t n, size_t *rest)
{
	if (n == 0)
		return NULL;
	if (s[0] == '"' || s[0] == '\'') {
		size_t end = skip_quoted(s, n, 0);
		if (!end)
			return NULL;
		char *name = malloc(end);
		if (!name)
			return NULL;
		size_t k = 0;
		for (size_t j = 1; j + 1 < end; j++) {
			if (s[j] == s[0])
				j++;
			name[k++] = s[j];
		}
		name[k] = '\0';
		*rest = end;
		return name;
	}
	size_t end = 0;
	while (end < n && s[end] != ' ' && s[end] != '(' && s[end] != '\'' && s[end] != '"')
		end++;
	if (end == 0)
		return NULL;
	*rest = end;
	return ed_strndup(s, end);
}

/*
 * Splits a normalised "CREATE TABLE name(part, part, ...) options" into its
 * parts and builds the table definition without the column definitions.
 * Returns ED_OK, ED_PARSE when the text has no such shape, or ED_NOMEM.
 */
static enum ed_code split_table(const char *s, size_t n, struct table_split *ts)
{
	size_t open = 0, close = 0, depth = 0, part = 0;
	bool in_list = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\'' || c == '"') {
			size_t end = skip_quoted(s, n, i);
			if (!end)
				return ED_PARSE;
			i = end - 1;
		} else if (c == '(') {
			if (depth++ == 0 && !in_list) {
				in_list = true;
				open = i;
				part = i + 1;
			}
		} else if (c == ')' || (c == ',' && depth == 1)) {
			if (c == ')' && (depth == 0 || --depth > 0))
				continue;
			if (!in_list)
				continue;
			struct coldef *v = realloc(ts->cols, (ts->n + 1) * sizeof(*v));
			if (!v)
				return ED_NOMEM;
			ts->cols = v;
			struct coldef *cd = &ts->cols[ts->n++];
			memset(cd, 0, sizeof(*cd));
			size_t a = part, b = i;
			while (a < b && s[a] == ' ')
				a++;
			while (b > a && s[b - 1] == ' ')
				b--;
			if (is_table_constraint(s + a, b - a)) {
				cd->def = s + a;
				cd->deflen = b - a;
			} else {
				size_t rest = 0;
				cd->name = part_name(s + a, b - a, &rest);
				if (!cd->name)
					return ED_PARSE; /* or out of memory: the caller falls back either way */
				while (a + rest < b && s[a + rest] == ' ')
					rest++;
				cd->def = s + a + rest;
				cd->deflen = b - a - rest;
			}
			part = i + 1;
			if (c == ')') {
				close = i;
				break;
			}
		}
	}
	if (!in_list || !close)
		return ED_PARSE;

	struct ed_buf *t = &ts->table;
	bool first = true;
	if (ed_buf_add(t, s, open) || ed_buf_addc(t, '('))
		return ED_NOMEM;
	for (size_t i = 0; i < ts->n; i++) {
		if (ts->cols[i].name)
			continue;
		if ((!first && ed_buf_adds(t, ", ")) ||
		    ed_buf_add(t, ts->cols[i].def, ts->cols[i].deflen))
			return ED_NOMEM;
		first = false;
	}
	if (ed_buf_addc(t, ')') || ed_buf_add(t, s + close + 1, n - close - 1))
		return ED_NOMEM;
	return ED_OK;
}

/* A column description from PRAGMA table_xinfo, when the CREATE TABLE text gave none. */
static int describe_column(sqlite3_stmt *col, struct ed_buf *out)
{
	const char *type = (const char *)sqlite3_column_text(col, 1);
	const char *dflt = (const char *)sqlite3_column_text(col, 3);
	int rc = 0;
	if (type && *type)
		rc |= ed_buf_adds(out, type);
	if (sqlite3_column_int(col, 2))
		rc |= ed_buf_adds(out, out->len ? " NOT NULL" : "NOT NULL");
	if (dflt)
		rc |= ed_buf_addf(out, "%sDEFAULT %s", out->len ? " " : "", dflt);
	if (sqlite3_column_int(col, 4))
		rc |= ed_buf_adds(out, out->len ? " PRIMARY KEY" : "PRIMARY KEY");
	return rc ? -1 : 0;
}

/* Emits the columns of table name, taking their text from ts when it has them. */
static enum ed_code add_columns(sqlite3 *db, sqlite3_stmt *col, const char *path,
				const char *label, const char *name, const struct table_split *ts,
				struct defs *d, struct ed_err *err)
{
	struct ed_buf desc = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	int src;
	sqlite3_reset(col);
	/* SQLITE_TRANSIENT: SQLite copies the name, which lives only as long as the row. */
	if ((src = sqlite3_bind_text(col, 1, name, -1, SQLITE_TRANSIENT)) != SQLITE_OK) {
		rc = db_fail(db, path, src, err);
		goto out;
	}
	while ((src = sqlite3_step(col)) == SQLITE_ROW) {
		const char *cname = (const char *)sqlite3_column_text(col, 0);
		const struct coldef *cd = NULL;
		if (!cname)
			continue;
		for (size_t i = 0; ts && i < ts->n && !cd; i++)
			if (ts->cols[i].name && sqlite3_stricmp(ts->cols[i].name, cname) == 0)
				cd = &ts->cols[i];
		if (cd) {
			rc = defs_add(d, label, "column", name, cname, cd->def, cd->deflen, err);
		} else {
			ed_buf_reset(&desc);
			if (describe_column(col, &desc)) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
				goto out;
			}
			rc = defs_add(d, label, "column", name, cname, ed_buf_str(&desc), desc.len,
				      err);
		}
		if (rc)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = db_fail(db, path, src, err);
out:
	sqlite3_reset(col);
	sqlite3_clear_bindings(col);
	ed_buf_release(&desc);
	return rc;
}

/*
 * Normalises one object's sql into out. A statement our tokenizer cannot read
 * is kept as it is, with a warning: the object is still compared.
 */
static enum ed_code normalize_or_raw(const char *sql, const char *path, const char *type,
				     const char *name, struct ed_buf *out, struct ed_sink *sink,
				     bool *normalised, struct ed_err *err)
{
	struct ed_err nerr = {ED_OK, ""};
	enum ed_code rc = ed_sql_normalize(ed_str_of(sql, strlen(sql)), out, &nerr);
	*normalised = rc == ED_OK;
	if (rc == ED_NOMEM || rc == ED_TOOBIG)
		return ed_err_set(err, rc, "%s: %s %s: %s", path, type, name, nerr.msg);
	if (rc) {
		ed_sink_warn(sink, "%s: %s %s: cannot normalise its sql, compared as written: %s",
			     path, type, name, nerr.msg);
		ed_buf_reset(out);
		if (ed_buf_adds(out, sql))
			return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	return ED_OK;
}

/* Reads sqlite_schema into d. */
static enum ed_code read_schema(sqlite3 *db, const char *path, const char *label,
				struct ed_sink *sink, struct defs *d, struct ed_err *err)
{
	static const char q_schema[] =
		"SELECT type, name, sql FROM sqlite_schema"
		" WHERE type IN ('table', 'index', 'view', 'trigger')"
		" AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
		" ORDER BY type, name";
	static const char q_cols[] =
		"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1)";
	sqlite3_stmt *st = NULL, *col = NULL;
	struct ed_buf norm = ED_BUF_INIT;
	struct table_split ts = {NULL, 0, ED_BUF_INIT};
	enum ed_code rc = ED_OK;
	int src;

	if ((src = sqlite3_prepare_v2(db, q_schema, -1, &st, NULL)) != SQLITE_OK ||
	    (src = sqlite3_prepare_v2(db, q_cols, -1, &col, NULL)) != SQLITE_OK) {
		rc = db_fail(db, path, src, err);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sql = (const char *)sqlite3_column_text(st, 2);
		bool normalised;
		if (!type || !name || !sql)
			continue; /* internal indexes have no sql */
		ed_buf_reset(&norm);
		if ((rc = normalize_or_raw(sql, path, type, name, &norm, sink, &normalised, err)))
			goto out;
		if (strcmp(type, "table") != 0) {
			rc = defs_add(d, label, type, name, NULL, ed_buf_str(&norm), norm.len, err);
			if (rc)
				goto out;
			continue;
		}
		/* A virtual table's columns belong to its module: its sql is the whole story. */
		if (normalised && strncmp(ed_buf_str(&norm), "CREATE VIRTUAL TABLE ", 21) == 0) {
			rc = defs_add(d, label, "table", name, NULL, norm.p, norm.len, err);
			if (rc)
				goto out;
			continue;
		}
		split_release(&ts);
		enum ed_code sr = normalised ? split_table(norm.p, norm.len, &ts) : ED_PARSE;
		if (sr == ED_NOMEM) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			goto out;
		}
		if (sr) {
			if (normalised)
				ed_sink_warn(sink, "%s: table %s: cannot find its column list, "
					     "the table is compared whole", path, name);
			split_release(&ts);
			rc = defs_add(d, label, "table", name, NULL, ed_buf_str(&norm), norm.len, err);
		} else {
			rc = defs_add(d, label, "table", name, NULL, ts.table.p, ts.table.len, err);
		}
		if (rc)
			goto out;
		if ((rc = add_columns(db, col, path, label, name, sr ? NULL : &ts, d, err)))
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = db_fail(db, path, src, err);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(col);
	split_release(&ts);
	ed_buf_release(&norm);
	return rc;
}

enum ed_code ed_schema_sqlite_collect(struct ed_source *src, const char *label,
				      const char *path, const struct ed_secrets *sec,
				      struct ed_sink *sink, struct ed_err *err)
{
	return ed_schema_sqlite_collect_data(src, label, path, sec, 0, NULL, sink, err);
}

enum ed_code ed_schema_sqlite_collect_data(struct ed_source *src, const char *label,
					   const char *path, const struct ed_secrets *sec,
					   uint64_t sample_rows, const struct ed_strlist *sensitive,
					   struct ed_sink *sink, struct ed_err *err)
{
	struct ed_buf local = ED_BUF_INIT, uri = ED_BUF_INIT;
	struct defs d = {NULL, 0, 0, sec};
	sqlite3 *db = NULL;
	struct stat sb;
	enum ed_code rc;
	int src_rc;
	char copy_dir[64] = "";
	bool copied = false;

	if (!src || !label || !path || !sink)
		return ed_err_set(err, ED_USAGE, "sqlite schema: missing source, label, path or sink");
	if (!sec || !sec->key)
		return ed_err_set(err, ED_USAGE, "%s: no secret key to fingerprint secret literals",
				  path);
	rc = src->ops->local_path(src, path, &local, err);
	if (rc == ED_UNSUPPORTED) {
		/* A remote host: read a private copy of the database (and its WAL). */
		ed_buf_reset(&local);
		rc = copy_remote(src, path, copy_dir, &local, err);
		copied = copy_dir[0] != '\0';
	}
	if (rc)
		goto out;
	/* SQLite would block opening a FIFO, and read a device: only regular files. */
	if (stat(local.p, &sb)) {
		int e = errno;
		rc = ed_err_set(err, e == ENOENT ? ED_NOTFOUND : ED_IO, "%s: %s", path, strerror(e));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = ed_err_set(err, ED_IO, "%s: not a regular file", path);
		goto out;
	}
	/*
	 * Never modify the inspected tree: a WAL database is read from a private
	 * copy, as from a remote host.
	 */
	if (!copied && needs_wal(local.p)) {
		ed_buf_reset(&local);
		rc = copy_remote(src, path, copy_dir, &local, err);
		copied = copy_dir[0] != '\0';
		if (rc)
			goto out;
	}
	if (build_uri(local.p, &uri)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	/* A private copy may need its WAL replayed: opened read-write, it is ours. */
	src_rc = sqlite3_open_v2(copied ? local.p : uri.p, &db,
				 copied ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
				 NULL);
	if (src_rc != SQLITE_OK) {
		rc = db_fail(db, path, src_rc, err);
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	/* The schema comes from another host: trust nothing in it. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);

	if ((rc = read_schema(db, path, label, sink, &d, err)))
		goto out;

	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), def_cmp);
	for (size_t i = 0; i < d.n; i++) {
		if (i > 0 && strcmp(d.v[i].key, d.v[i - 1].key) == 0) {
			/* Only possible with dots in names: "a.b"+"c" and "a"+"b.c". */
			ed_sink_warn(sink, "%s: two objects share the key %s; the second is skipped",
				     path, d.v[i].key);
			continue;
		}
		struct ed_item it;
		memset(&it, 0, sizeof(it));
		it.kind = ED_KIND_SCHEMA;
		it.key = d.v[i].key;
		it.key_len = strlen(d.v[i].key);
		it.value = d.v[i].value;
		it.fp = d.v[i].fp;
		it.attrs = d.v[i].masked ? ED_ATTRS_MASKED : NULL;
		it.ftype = ED_FT_NONE;
		if ((rc = sink->emit(sink, &it, err)))
			goto out;
	}
	if (sample_rows)
		rc = ed_data_sqlite_collect(db, path, label, sample_rows, sink, err);
	if (!rc && sensitive && sensitive->n)
		rc = ed_rows_sqlite_collect(db, path, label, (const char *const *)sensitive->v,
					    sensitive->n, sec ? sec->key : NULL, sink, err);
out:
	/* sqlite3_close_v2 accepts NULL and a handle whose open failed. */
	sqlite3_close_v2(db);
	if (copy_dir[0])
		remove_copy(copy_dir);
	defs_release(&d);
	ed_buf_release(&uri);
	ed_buf_release(&local);
	return rc;
}
