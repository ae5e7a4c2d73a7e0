/* SPDX-License-Identifier: MIT */
/* XXH3-128 fingerprints (the AVX2 dispatcher where the CPU has it) and keyed HMAC fingerprints. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * Streaming HMAC-SHA256 (RFC 2104) built on two SHA-256 states that have
 * absorbed the key's inner and outer pads once: each message starts from a
 * copy of the inner one. EVP_MAC re-initialised per message cost about
 * twice as much, which showed with one HMAC per database row.
 */
struct ed_mac {
	EVP_MD *md;
	EVP_MD_CTX *in, *out; /* SHA-256 after key ^ ipad, after key ^ opad */
	EVP_MD_CTX *work;
	bool failed;
};

enum { HMAC_BLOCK = 64 }; /* SHA-256's block; ED_KEY_LEN fits in it */

struct ed_mac *ed_mac_new(const uint8_t key[ED_KEY_LEN])
{
	struct ed_mac *m = calloc(1, sizeof(*m));
	unsigned char ipad[HMAC_BLOCK], opad[HMAC_BLOCK];
	if (!m)
		return NULL;
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < ED_KEY_LEN; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	bool ok = (m->md = EVP_MD_fetch(NULL, "SHA256", NULL)) && (m->in = EVP_MD_CTX_new()) &&
		  (m->out = EVP_MD_CTX_new()) && (m->work = EVP_MD_CTX_new()) &&
		  EVP_DigestInit_ex(m->in, m->md, NULL) &&
		  EVP_DigestUpdate(m->in, ipad, sizeof(ipad)) &&
		  EVP_DigestInit_ex(m->out, m->md, NULL) &&
		  EVP_DigestUpdate(m->out, opad, sizeof(opad)) && EVP_MD_CTX_copy_ex(m->work, m->in);
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	if (!ok) {
		ed_mac_free(m);
		return NULL;
	}
	return m;
}

bool ed_mac_update(struct ed_mac *m, const void *data, size_t len)
{
	if (!m->failed && !EVP_DigestUpdate(m->work, data, len))
		m->failed = true;
	return !m->failed;
}

enum ed_code ed_mac_final(struct ed_mac *m, struct ed_fp *out, struct ed_err *err)
{
	unsigned char inner[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
	unsigned int ilen = 0, len = 0;
	if (m->failed || !EVP_DigestFinal_ex(m->work, inner, &ilen) ||
	    !EVP_MD_CTX_copy_ex(m->work, m->out) || !EVP_DigestUpdate(m->work, inner, ilen) ||
	    !EVP_DigestFinal_ex(m->work, mac, &len) || len < ED_FP_LEN) {
		m->failed = true;
		return ed_err_set(err, ED_IO, "HMAC-SHA256 failed in libcrypto");
	}
	for (int i = 0; i < ED_FP_LEN; i++)
		out->b[i] = mac[i];
	return ED_OK;
}

bool ed_mac_reset(struct ed_mac *m)
{
	/* From the inner pad's state: the key is not needed again. */
	m->failed = !EVP_MD_CTX_copy_ex(m->work, m->in);
	return !m->failed;
}

void ed_mac_free(struct ed_mac *m)
{
	if (!m)
		return;
	EVP_MD_CTX_free(m->in);
	EVP_MD_CTX_free(m->out);
	EVP_MD_CTX_free(m->work);
	EVP_MD_free(m->md);
	free(m);
}
