/* SPDX-License-Identifier: MIT */
/* XXH3-128 fingerprints (the AVX2 dispatcher where the CPU has it) and keyed HMAC fingerprints. */
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <xxh_x86dispatch.h>

#include "ed/hash.h"

struct ed_hasher {
	XXH3_state_t *st;
};

static void fp_from(XXH128_hash_t h, struct ed_fp *out)
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, h);
	for (int i = 0; i < ED_FP_LEN; i++)
		out->b[i] = c.digest[i];
}

struct ed_hasher *ed_hasher_new(void)
{
	struct ed_hasher *h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	h->st = XXH3_createState();
	if (!h->st) {
		free(h);
		return NULL;
	}
	XXH3_128bits_reset(h->st);
	return h;
}

void ed_hasher_update(struct ed_hasher *h, const void *data, size_t len)
{
	XXH3_128bits_update_dispatch(h->st, data, len);
}

void ed_hasher_final(struct ed_hasher *h, struct ed_fp *out)
{
	fp_from(XXH3_128bits_digest(h->st), out);
	XXH3_128bits_reset(h->st);
}

void ed_hasher_free(struct ed_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->st);
	free(h);
}

void ed_fp_of(const void *data, size_t len, struct ed_fp *out)
{
	fp_from(XXH3_128bits_dispatch(data, len), out);
}

static bool digest_hex(const EVP_MD *md, const void *data, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!md || !EVP_Digest(data, len, d, &n, md, NULL) || 2 * (size_t)n + 1 > outsz)
		return false;
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
	return true;
}

bool ed_digest_hex(const char *algo, const void *data, size_t len, char *out, size_t outsz)
{
	return digest_hex(EVP_get_digestbyname(algo), data, len, out, outsz);
}

void ed_fp_hex(const struct ed_fp *fp, char out[2 * ED_FP_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < ED_FP_LEN; i++) {
		out[2 * i] = hex[fp->b[i] >> 4];
		out[2 * i + 1] = hex[fp->b[i] & 15];
	}
	out[2 * ED_FP_LEN] = '\0';
}

enum ed_code ed_fp_keyed(const uint8_t key[ED_KEY_LEN], const void *data, size_t len,
			 struct ed_fp *out, struct ed_err *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	if (!HMAC(EVP_sha256(), key, ED_KEY_LEN, data, len, mac, &maclen) || maclen < ED_FP_LEN)
		return ed_err_set(err, ED_IO, "HMAC-SHA256 failed in libcrypto");
	for (int i = 0; i < ED_FP_LEN; i++)
		out->b[i] = mac[i];
	return ED_OK;
}

struct ed_mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	bool failed;
};

struct ed_mac *ed_mac_new(const uint8_t key[ED_KEY_LEN])
{
	struct ed_mac *m = calloc(1, sizeof(*m));
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!m)
		return NULL;
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = m->mac ? EVP_MAC_CTX_new(m->mac) : NULL;
	if (!m->ctx || !EVP_MAC_init(m->ctx, key, ED_KEY_LEN, params)) {
		ed_mac_free(m);
		return NULL;
	}
	return m;
}

bool ed_mac_update(struct ed_mac *m, const void *data, size_t len)
{
	if (!m->failed && !EVP_MAC_update(m->ctx, data, len))
		m->failed = true;
	return !m->failed;
}

enum ed_code ed_mac_final(struct ed_mac *m, struct ed_fp *out, struct ed_err *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t len = 0;
	if (m->failed || !EVP_MAC_final(m->ctx, mac, &len, sizeof(mac)) || len < ED_FP_LEN)
		return ed_err_set(err, ED_IO, "HMAC-SHA256 failed in libcrypto");
	for (int i = 0; i < ED_FP_LEN; i++)
		out->b[i] = mac[i];
	return ED_OK;
}

bool ed_mac_reset(struct ed_mac *m)
{
	/* No key: HMAC starts over from the key state it keeps. */
	m->failed = !EVP_MAC_init(m->ctx, NULL, 0, NULL);
	return !m->failed;
}

void ed_mac_free(struct ed_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	free(m);
}
