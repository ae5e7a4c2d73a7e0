/* SPDX-License-Identifier: MIT */
/* Kept content read back: the one zlib decoder, and the lookup by fingerprint. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store_int.h"

enum ed_code ed_store_inflate(const void *z, size_t zlen, int64_t size, size_t max, char **out)
{
	*out = NULL;
	if (size < 0)
		return ED_STORE;
	if ((uint64_t)size > max)
		return ED_TOOBIG;
	char *buf = malloc((size_t)size + 1);
	if (!buf)
		return ED_NOMEM;
	uLongf n = (uLongf)size;
	int r = uncompress((Bytef *)buf, &n, z ? z : (const void *)"", (uLong)zlen);
	if (r != Z_OK || n != (uLongf)size) {
		free(buf);
		return r == Z_MEM_ERROR ? ED_NOMEM : ED_STORE;
	}
	buf[size] = '\0';
	*out = buf;
	return ED_OK;
}

enum ed_code ed_store_content(struct ed_store *st, const struct ed_fp *fp, size_t max, bool *kept,
			      char **text, size_t *len, struct ed_err *err)
{
	/* Prepared once: a report reads the kept texts of every changed file. */
	sqlite3_stmt **sp = ed_store_content_stmt(st), *s = *sp;
	enum ed_code rc = ED_OK;
	char hex[2 * ED_FP_LEN + 1];
	*kept = false;
	*text = NULL;
	*len = 0;
	ed_fp_hex(fp, hex);
	int r = s ? SQLITE_OK
		  : sqlite3_prepare_v3(ed_store_db(st),
				       "SELECT encoding, size, data FROM contents WHERE fingerprint = ?",
				       -1, SQLITE_PREPARE_PERSISTENT, sp, NULL);
	s = *sp;
	if (r == SQLITE_OK)
		r = sqlite3_bind_blob(s, 1, fp->b, ED_FP_LEN, SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_step(s);
	if (r == SQLITE_DONE)
		goto out; /* never asked for */
	if (r != SQLITE_ROW) {
		rc = r == SQLITE_NOMEM ? ed_err_set(err, ED_NOMEM, "out of memory")
				       : ed_store_fail(st, "reading kept content", err);
		goto out;
	}
	const char *enc = (const char *)sqlite3_column_text(s, 0);
	sqlite3_int64 size = sqlite3_column_int64(s, 1);
	const void *data = sqlite3_column_blob(s, 2);
	size_t zlen = (size_t)sqlite3_column_bytes(s, 2);
	if (!enc) {
		rc = sqlite3_errcode(ed_store_db(st)) == SQLITE_NOMEM
			     ? ed_err_set(err, ED_NOMEM, "out of memory")
			     : ed_err_set(err, ED_STORE, "store %s: kept content %s has no encoding",
					  ed_store_path(st), hex);
		goto out;
	}
	if (strcmp(enc, "zlib") != 0)
		goto out; /* 'none': considered, not kept */
	rc = ed_store_inflate(data, zlen, size, max, text);
	if (rc == ED_OK) {
		*kept = true;
		*len = (size_t)size;
	} else if (rc == ED_NOMEM) {
		ed_err_set(err, rc, "out of memory reading kept content %s", hex);
	} else if (rc == ED_TOOBIG) {
		ed_err_set(err, rc, "store %s: kept content %s holds %lld bytes, more than %zu",
			   ed_store_path(st), hex, (long long)size, max);
	} else {
		ed_err_set(err, rc, "store %s: kept content %s cannot be read (%s, %lld bytes)",
			   ed_store_path(st), hex, enc, (long long)size);
	}
out:
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return rc;
}
