/* SPDX-License-Identifier: MIT */
/* The tokens of 'envdrift serve': made here, stored as an HMAC, listed, revoked. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ed/base64.h"
#include "ed/isotime.h"
#include "ed/token.h"
#include "store_int.h"

static const char *const role_names[] = {"read", "push", "admin"};

const char *ed_token_role_name(enum ed_token_role r)
{
	return (unsigned)r < 3 ? role_names[r] : "?";
}

bool ed_token_role_parse(const char *name, enum ed_token_role *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum ed_token_role)i;
			return true;
		}
	return false;
}

enum ed_code ed_token_new(char out[ED_TOKEN_TEXT_LEN + 1], struct ed_err *err)
{
	uint8_t raw[32];
	char b64[ED_BASE64_LEN(32) + 1];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return ed_err_set(err, ED_IO, "no random bytes for a token: %s", strerror(errno));
	size_t n = ed_base64_encode(b64, raw, sizeof(raw), false);
	for (size_t i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	memcpy(out, b64, ED_TOKEN_TEXT_LEN);
	out[ED_TOKEN_TEXT_LEN] = '\0';
	return ED_OK;
}

enum ed_code ed_token_mac(const uint8_t key[ED_KEY_LEN], const char *token, size_t len,
			  uint8_t mac[ED_FP_LEN], struct ed_err *err)
{
	struct ed_fp fp;
	enum ed_code rc = ed_fp_keyed(key, token, len, &fp, err);
	if (!rc)
		memcpy(mac, fp.b, ED_FP_LEN);
	return rc;
}

enum ed_code ed_store_token_add(struct ed_store *st, const char *name, enum ed_token_role role,
				const char *const *envs, size_t nenvs, const uint8_t mac[ED_FP_LEN],
				struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL;
	char *envs_json = NULL;
	enum ed_code rc = ED_OK;
	char now[ED_ISOTIME_SIZE];
	ed_isotime_now(now);
	if (nenvs) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < nenvs; i++)
			if (json_array_append_new(a, json_string(envs[i])) != 0) {
				json_decref(a);
				a = NULL;
			}
		envs_json = a ? json_dumps(a, JSON_COMPACT) : NULL;
		json_decref(a);
		if (!envs_json)
			return ed_err_set(err, ED_USAGE, "--env: not valid UTF-8, or out of memory");
	}
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO tokens (name, role, envs, mac, created_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "adding a token", err);
		goto out;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ed_token_role_name(role), -1, SQLITE_STATIC);
	if (envs_json)
		sqlite3_bind_text(s, 3, envs_json, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, mac, ED_FP_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
	int r = sqlite3_step(s);
	if (r == SQLITE_CONSTRAINT_UNIQUE)
		rc = ed_err_set(err, ED_USAGE,
				"a token called '%s' exists already (names are not reused: pick "
				"another)",
				name);
	else if (r != SQLITE_DONE)
		rc = ed_store_fail(st, "adding a token", err);
out:
	sqlite3_finalize(s);
	free(envs_json);
	return rc;
}

enum ed_code ed_store_token_revoke(struct ed_store *st, const char *name, struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL;
	enum ed_code rc = ED_OK;
	char now[ED_ISOTIME_SIZE];
	ed_isotime_now(now);
	if (sqlite3_prepare_v2(db,
			       "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE name = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "revoking a token", err);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = ed_store_fail(st, "revoking a token", err);
	else if (sqlite3_changes(db) == 0)
		rc = ed_err_set(err, ED_NOTFOUND, "no token called '%s' ('envdrift token list')",
				name);
	sqlite3_finalize(s);
	return rc;
}

void ed_tokens_free(struct ed_token *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		for (size_t j = 0; j < v[i].nenvs; j++)
			free(v[i].envs[j]);
		free(v[i].envs);
	}
	free(v);
}

/* Fills t from the row of s (name, role, envs, mac, created_at, revoked_at); false: no memory. */
static bool token_fill(struct ed_token *t, sqlite3_stmt *s)
{
	const char *name = (const char *)sqlite3_column_text(s, 0);
	const char *role = (const char *)sqlite3_column_text(s, 1);
	const char *envs = (const char *)sqlite3_column_text(s, 2);
	const void *mac = sqlite3_column_blob(s, 3);
	const char *created = (const char *)sqlite3_column_text(s, 4);
	const char *revoked = (const char *)sqlite3_column_text(s, 5);
	if (!(t->name = strdup(name ? name : "")))
		return false;
	if (!role || !ed_token_role_parse(role, &t->role))
		t->role = ED_TOKEN_READ;
	if (mac && sqlite3_column_bytes(s, 3) == ED_FP_LEN)
		memcpy(t->mac, mac, ED_FP_LEN);
	snprintf(t->created_at, sizeof(t->created_at), "%s", created ? created : "");
	snprintf(t->revoked_at, sizeof(t->revoked_at), "%s", revoked ? revoked : "");
	if (!envs)
		return true;
	json_t *a = json_loads(envs, 0, NULL);
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	if (n && !(t->envs = calloc(n, sizeof(*t->envs)))) {
		json_decref(a);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const char *e = json_string_value(json_array_get(a, i));
		if (!(t->envs[t->nenvs] = strdup(e ? e : ""))) {
			json_decref(a);
			return false;
		}
		t->nenvs++;
	}
	json_decref(a);
	if (!n) { /* a limit that reads as no environment allows none, never any */
		if (!(t->envs = calloc(1, sizeof(*t->envs))) || !(t->envs[0] = strdup("")))
			return false;
		t->nenvs = 1;
	}
	return true;
}

enum ed_code ed_store_tokens(struct ed_store *st, struct ed_token **out, size_t *n,
			     struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	sqlite3_stmt *s = NULL;
	struct ed_token *v = NULL;
	size_t nv = 0, cap = 0;
	enum ed_code rc = ED_OK;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT name, role, envs, mac, created_at, revoked_at FROM tokens "
			       "ORDER BY name",
			       -1, &s, NULL) != SQLITE_OK)
		return ed_store_fail(st, "reading the tokens", err);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (nv == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct ed_token *nvp = realloc(v, ncap * sizeof(*v));
			if (!nvp) {
				rc = ed_err_set(err, ED_NOMEM, "out of memory reading the tokens");
				goto out;
			}
			v = nvp;
			cap = ncap;
		}
		memset(&v[nv], 0, sizeof(v[nv]));
		bool ok = token_fill(&v[nv], s);
		nv++;
		if (!ok) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory reading the tokens");
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		rc = ed_store_fail(st, "reading the tokens", err);
		goto out;
	}
	*out = v;
	*n = nv;
	v = NULL;
	nv = 0;
out:
	sqlite3_finalize(s);
	ed_tokens_free(v, nv);
	return rc;
}
