/* SPDX-License-Identifier: MIT */
/*
 * The tokens of 'envdrift serve' (envdrift token add/list/revoke): a token
 * is 32 random bytes written base64url; the store holds only its HMAC with
 * the store's key, its name, its role and the environments it may push.
 */
#ifndef ED_TOKEN_H
#define ED_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"
#include "ed/hash.h"
#include "ed/store.h"

/* Characters of a token: 32 bytes in unpadded base64url. */
#define ED_TOKEN_TEXT_LEN 43
/* The longest token name and environment name a token row holds. */
#define ED_TOKEN_NAME_MAX 128

enum ed_token_role {
	ED_TOKEN_READ,  /* reads the API */
	ED_TOKEN_PUSH,  /* pushes snapshots (of its environments, when limited) */
	ED_TOKEN_ADMIN, /* both */
};

/* "read", "push", "admin". */
const char *ed_token_role_name(enum ed_token_role r);
/* The role called name; false when there is none. */
bool ed_token_role_parse(const char *name, enum ed_token_role *out);

/* One token as the store holds it. Release with ed_tokens_free(). */
struct ed_token {
	char *name;
	enum ed_token_role role;
	char **envs;           /* the environments it may push; NULL (nenvs 0): any */
	size_t nenvs;
	uint8_t mac[ED_FP_LEN]; /* HMAC-SHA256 of the token with the store's key, truncated */
	char created_at[40];
	char revoked_at[40];   /* "" while it is valid */
};

/*
 * A fresh token: 32 bytes of getrandom(), base64url without padding, and a
 * NUL into out. ED_IO when no random bytes are available.
 */
enum ed_code ed_token_new(char out[ED_TOKEN_TEXT_LEN + 1], struct ed_err *err);

/* The MAC the store keeps of token (len bytes) under key. ED_NOMEM/ED_IO if libcrypto fails. */
enum ed_code ed_token_mac(const uint8_t key[ED_KEY_LEN], const char *token, size_t len,
			  uint8_t mac[ED_FP_LEN], struct ed_err *err);

/*
 * Records a token called name with role, the environments it may push
 * (nenvs of them; none: any) and its MAC. ED_USAGE when a token of that name
 * exists (revoked or not: names are never reused). Needs a store opened for
 * writing.
 */
enum ed_code ed_store_token_add(struct ed_store *st, const char *name, enum ed_token_role role,
				const char *const *envs, size_t nenvs, const uint8_t mac[ED_FP_LEN],
				struct ed_err *err);

/* Marks the token name revoked now. ED_NOTFOUND when there is none; revoking twice is ED_OK. */
enum ed_code ed_store_token_revoke(struct ed_store *st, const char *name, struct ed_err *err);

/*
 * Every token, revoked ones too, by name. *out is malloc'd (free it with
 * ed_tokens_free(); NULL when *n is 0). A few rows: read them per request.
 */
enum ed_code ed_store_tokens(struct ed_store *st, struct ed_token **out, size_t *n,
			     struct ed_err *err);
void ed_tokens_free(struct ed_token *v, size_t n);

#endif
