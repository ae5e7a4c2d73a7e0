/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL schema collector: one catalog query run through psql on the
 * host, its JSON answer turned into schema items, and connection strings
 * made safe to print.
 */
#ifndef ED_PGSCHEMA_H
#define ED_PGSCHEMA_H

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/item.h"
#include "ed/rowsample.h"
#include "ed/source.h"

struct ed_secrets;

/* Most bytes psql may print, and how long it may take. */
#define ED_PG_OUTPUT_MAX (256u * 1024 * 1024)
#define ED_PG_TIMEOUT_MS 120000

/* The "format" member of the catalog document the query returns. */
#define ED_PG_CATALOG_FORMAT "envdrift.pg_catalog/1"

/*
 * Runs `psql -X -q -A -t -v ON_ERROR_STOP=1 -d CONNINFO -c SETTINGS -c QUERY`
 * through src->ops->run (no shell; output capped at ED_PG_OUTPUT_MAX, killed
 * after ED_PG_TIMEOUT_MS) and passes its output to ed_pg_catalog_parse().
 * conninfo is anything psql's -d takes: "host=H port=P dbname=D user=U", a
 * postgresql:// URI, or a bare database name. The server must be PostgreSQL
 * 12 or later; the query runs in one read-only transaction. Errors name "postgres:LABEL"
 * and the conninfo with any password removed (see ed_pg_conninfo_redact):
 * ED_NOTFOUND when psql is not installed on the host, ED_IO when psql fails
 * (with psql's own message, also redacted) or times out, ED_TOOBIG, ED_PARSE,
 * ED_NOMEM, or the sink's error. A password in conninfo is used but earns a
 * warning: it shows in the host's process list while psql runs. sec (the
 * store's key and the secret patterns) is borrowed, as ed_pg_catalog_parse
 * takes it.
 */
enum ed_code ed_schema_postgres_collect(struct ed_source *src, const char *label,
					const char *conninfo, const struct ed_secrets *sec,
					struct ed_sink *sink, struct ed_err *err);

/*
 * ed_schema_postgres_collect(), and then the data shape of the same database
 * (items of kind "data", ed/datashape.h) read by the same psql in the same
 * read-only transaction: one program started and one connection instead of
 * two, and the shape's query finds the catalog caches the first one warmed.
 * Per table (kinds r and p, outside pg_catalog, information_schema and
 * extensions) its rows (pg_class.reltuples, or n_live_tup before the first
 * ANALYZE; count(*) when exact_count) and pg_total_relation_size; per column
 * what pg_stats holds of null_frac, n_distinct, avg_width and correlation.
 * Never a value: the query names those columns only (no most_common_vals,
 * most_common_freqs, histogram_bounds). A table without statistics is
 * recorded with "stats":"missing" and a warning naming it; nothing is written
 * to the database (no ANALYZE). psql is killed after twice ED_PG_TIMEOUT_MS
 * (each statement has its own timeout). The shape's document follows an RS
 * byte (0x1e, as in RFC 7464's JSON text sequences), which neither document
 * holds raw. Errors as ed_schema_postgres_collect()'s, and ED_PARSE for an
 * answer without the data-shape document or that is not the expected one.
 */
enum ed_code ed_schema_postgres_collect_shape(struct ed_source *src, const char *label,
					      const char *conninfo, const struct ed_secrets *sec,
					      bool exact_count, struct ed_sink *sink,
					      struct ed_err *err);

/*
 * Runs query through psql on the host as ed_schema_postgres_collect() runs
 * the catalog query (read-only transaction, output capped, killed after
 * ED_PG_TIMEOUT_MS, the password of conninfo redacted from every message),
 * appending what psql printed to out. warn_password: warn when conninfo
 * holds a password. Errors as ed_schema_postgres_collect()'s.
 */
enum ed_code ed_pg_run(struct ed_source *src, const char *label, const char *conninfo,
		       const char *query, bool warn_password, struct ed_sink *sink,
		       struct ed_buf *out, struct ed_err *err);

/*
 * Runs query (a COPY ... TO STDOUT) through psql as ed_pg_run() does, in a
 * read-only transaction without a statement timeout, but hands psql's output
 * to fn chunk by chunk as it arrives (src->ops->stream): nothing is kept.
 * ED_PG_TIMEOUT_MS bounds each silence. *status receives psql's exit status:
 * a non-zero one (a missing table, a permission denied) returns ED_OK with
 * psql's words, the password redacted, in err->msg. ED_UNSUPPORTED for a
 * source that cannot stream; fn's errors; the others as ed_pg_run()'s.
 */
enum ed_code ed_pg_stream(struct ed_source *src, const char *label, const char *conninfo,
			  const char *query, struct ed_sink *sink, ed_source_out_fn fn, void *ctx,
			  int *status, struct ed_err *err);

/*
 * Fingerprints the rows of each sensitive entry (ed/profile.h's
 * "SCHEMA.TABLE(COLUMN,...)") of the database: COPY (SELECT the columns)
 * TO STDOUT through ed_pg_stream(), each row's values decoded from COPY's
 * text format, fingerprinted with key (ed/rowsample.h) and wiped at once.
 * Emits one item of kind "rows" per entry, key
 * "postgres:LABEL/rows/SCHEMA.TABLE(COLUMNS)" (ed_rows_value_format()). A
 * table psql cannot read (missing, permission denied) is a warning naming
 * it; the others are collected. ED_PARSE for output that is not COPY text
 * with the entry's columns; ED_NOMEM; the source's and the sink's errors.
 */
enum ed_code ed_rows_postgres_collect(struct ed_source *src, const char *label,
				      const char *conninfo, const char *const *entries,
				      size_t nentries, const uint8_t *key, struct ed_sink *sink,
				      struct ed_err *err);

/*
 * A streaming decoder of COPY's text format (rows of tab-separated fields
 * ending in a newline; \N a NULL; backslash escapes \b \f \n \r \t \v \\,
 * \digits (octal) and \xHH): chunks in any sizes, one callback per row with
 * its fields decoded. The row's bytes are wiped once the callback returns.
 */
struct ed_copy_reader {
	size_t ncols;      /* fields each row must have */
	enum ed_code (*row)(void *ctx, const struct ed_rowval *vals, size_t n,
			    struct ed_err *err);
	void *ctx;
	struct ed_buf line; /* the row being read (wiped after each row) */
	struct ed_rowval *vals;
	uint64_t rows;      /* rows handed over */
};
/* Fills r; vals room for ncols. ED_NOMEM. Release with ed_copy_release(). */
enum ed_code ed_copy_init(struct ed_copy_reader *r, size_t ncols,
			  enum ed_code (*row)(void *ctx, const struct ed_rowval *vals, size_t n,
					      struct ed_err *err),
			  void *ctx, struct ed_err *err);
/* Takes a chunk; rows complete in it are handed to row(). ED_PARSE, ED_NOMEM, row()'s. */
enum ed_code ed_copy_feed(struct ed_copy_reader *r, const char *data, size_t len,
			  struct ed_err *err);
/* The end of the output: ED_PARSE when a row is unfinished. */
enum ed_code ed_copy_finish(struct ed_copy_reader *r, struct ed_err *err);
void ed_copy_release(struct ed_copy_reader *r);

/*
 * Appends the data-shape query to q (ED_NOMEM): its answer is an RS byte
 * (0x1e) and one envdrift.pg_datashape/1 document.
 */
enum ed_code ed_pg_datashape_query(bool exact_count, struct ed_buf *q, struct ed_err *err);

/* Parses the document of the data-shape query and emits its items (for tests and fuzzing). */
enum ed_code ed_pg_datashape_parse(struct ed_str json, const char *label, struct ed_sink *sink,
				   struct ed_err *err);

/*
 * Parses the catalog document (the JSON text psql printed, json.len bytes,
 * trailing whitespace allowed) and emits one schema item per object, sorted
 * by key, keyed "postgres:LABEL/TYPE/OBJECT":
 *   schema/S  table/S.T  column/S.T.C  constraint/S.T.NAME  index/S.NAME
 *   view/S.V  sequence/S.NAME  function/S.NAME(IDENTITY ARGS)
 *   trigger/S.T.NAME  enum/S.NAME  extension/NAME
 * Each value is the object's definition with whitespace outside quotes
 * collapsed; the fingerprint is XXH3-128 of the value. A table's value leaves
 * its columns out (column order is no difference); a function's value holds
 * "BODY hmac:HEX", the keyed fingerprint (sec->key) of its body, instead of
 * the body. A definition with a secret string literal (ed_sql_mask_literals:
 * a column's DEFAULT under a secret name, a token in a view...) is stored
 * masked, attrs ED_ATTRS_MASKED, its fingerprint keyed over the unmasked
 * text. Two objects with one key (dots in names) are a warning; the second
 * is skipped. Anything that is not a complete, well-typed document is
 * ED_PARSE naming "postgres:LABEL" and the offending member, and nothing is
 * emitted. sec and sec->key are required (ED_USAGE). Other errors: ED_NOMEM,
 * or the sink's. Borrows json and sec; keeps nothing after it returns.
 */
enum ed_code ed_pg_catalog_parse(struct ed_str json, const char *label,
				 const struct ed_secrets *sec, struct ed_sink *sink,
				 struct ed_err *err);

/*
 * Appends conninfo to out without its password: key=value strings lose any
 * password=... pair, URIs the ":password" of their user part and any
 * password= parameter; a dbname that is itself a connection string is
 * redacted too. Text that does not parse as a connection string is replaced
 * from that point on by "...". Returns 0, or -1 when memory runs out (out is
 * then unchanged).
 */
int ed_pg_conninfo_redact(const char *conninfo, struct ed_buf *out);

/*
 * Appends the database name conninfo selects to out: its dbname (a URI's
 * path), or the whole string when it is a bare name. ED_NOTFOUND when it
 * names none (psql would then use the user name), ED_PARSE when it does not
 * parse, ED_NOMEM. For the default label of --schema postgres:CONNINFO.
 */
enum ed_code ed_pg_conninfo_dbname(const char *conninfo, struct ed_buf *out,
				   struct ed_err *err);

#endif
