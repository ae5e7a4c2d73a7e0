/* SPDX-License-Identifier: MIT */
/* Fingerprints: XXH3-128 of content, and HMAC-SHA256 (truncated) for secrets. */
#ifndef ED_HASH_H
#define ED_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/err.h"

#define ED_FP_LEN 16
#define ED_KEY_LEN 32

/* A 16-byte fingerprint, big-endian XXH3-128 (high 64 bits first). */
struct ed_fp {
	uint8_t b[ED_FP_LEN];
};

/* Streaming XXH3-128; the state lives in an opaque heap object. */
struct ed_hasher;
struct ed_hasher *ed_hasher_new(void);
void ed_hasher_update(struct ed_hasher *h, const void *data, size_t len);
void ed_hasher_final(struct ed_hasher *h, struct ed_fp *out);
void ed_hasher_free(struct ed_hasher *h);

/* One-shot XXH3-128 of data. */
void ed_fp_of(const void *data, size_t len, struct ed_fp *out);

/*
 * The digest called algo by libcrypto ("md5", "sha1", "sha256", "sha384",
 * "sha512") of data as lower-case hex and a NUL in out (outsz bytes, at least
 * 129), as a package manager records what it shipped. Returns false when the
 * algorithm is unknown or libcrypto fails.
 */
bool ed_digest_hex(const char *algo, const void *data, size_t len, char *out, size_t outsz);

/* Writes 32 lower-case hex digits and a NUL into out (33 bytes). */
void ed_fp_hex(const struct ed_fp *fp, char out[2 * ED_FP_LEN + 1]);

/*
 * Keyed fingerprint of a secret: HMAC-SHA256(key, data) truncated to 16 bytes.
 * Returns ED_OK, or ED_NOMEM/ED_IO if libcrypto fails.
 */
enum ed_code ed_fp_keyed(const uint8_t key[ED_KEY_LEN], const void *data, size_t len,
			 struct ed_fp *out, struct ed_err *err);

/* Streaming keyed fingerprint (HMAC-SHA256 truncated to 16 bytes), for secret files. */
struct ed_mac;
/* NULL when libcrypto cannot set up HMAC-SHA256 or memory runs out. */
struct ed_mac *ed_mac_new(const uint8_t key[ED_KEY_LEN]);
/* Returns false if libcrypto failed; ed_mac_final then fails too. */
bool ed_mac_update(struct ed_mac *m, const void *data, size_t len);
enum ed_code ed_mac_final(struct ed_mac *m, struct ed_fp *out, struct ed_err *err);
void ed_mac_free(struct ed_mac *m);
/*
 * Starts m again with the same key, after ed_mac_final(): the key's
 * schedule is kept, so a MAC of many short texts costs their hashing only.
 * Returns false if libcrypto failed.
 */
bool ed_mac_reset(struct ed_mac *m);

#endif
