/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the tokens of 'envdrift serve' (ed/token.h) and the store's
 * paged reads for its API (ed/browse.h): a prefix whose last bytes are 0xff,
 * keyset paging that visits every item once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ed/browse.h"
#include "ed/store.h"
#include "ed/token.h"
#include "tap.h"

static char dir[256];

static enum ed_code emit(struct ed_snapwriter *w, const char *key, size_t len)
{
	struct ed_item it = {.kind = "file", .key = key, .key_len = len, .value = "v"};
	struct ed_err err;
	ed_fp_of(key, len, &it.fp);
	struct ed_sink *s = ed_snapshot_sink(w);
	return s->emit(s, &it, &err);
}

/* The keys of a page, one after another with '|' between, and the last one. */
struct page {
	char keys[512];
	char last_kind[32];
	char last_key[64];
	size_t last_len;
	int n;
};

static enum ed_code on_item(void *ctx, const struct ed_browse_item *it, struct ed_err *err)
{
	(void)err;
	struct page *p = ctx;
	size_t k = strlen(p->keys);
	snprintf(p->keys + k, sizeof(p->keys) - k, "%s%.*s", p->n ? "|" : "", (int)it->key_len,
		 it->key);
	snprintf(p->last_kind, sizeof(p->last_kind), "%s", it->kind);
	memcpy(p->last_key, it->key, it->key_len);
	p->last_len = it->key_len;
	p->n++;
	return ED_OK;
}

int main(void)
{
	struct ed_store *st = NULL;
	struct ed_err err = {0};
	uint8_t key[ED_KEY_LEN], mac[ED_FP_LEN], mac2[ED_FP_LEN];
	char t1[ED_TOKEN_TEXT_LEN + 1], t2[ED_TOKEN_TEXT_LEN + 1];

	if (!tap_tmpdir(dir, sizeof(dir), "ed-token"))
		return 1;
	char db[512];
	snprintf(db, sizeof(db), "%s/t.db", dir);
	ok(ed_store_open(db, ED_STORE_CREATE, NULL, &st, &err) == ED_OK &&
		   ed_store_key(db, true, key, &err) == ED_OK,
	   "a new store and its key");

	ok(ed_token_new(t1, &err) == ED_OK && ed_token_new(t2, &err) == ED_OK, "two new tokens");
	ok(strlen(t1) == ED_TOKEN_TEXT_LEN && strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ED_TOKEN_TEXT_LEN,
	   "43 characters of base64url");
	ok(strcmp(t1, t2) != 0, "each one new");
	ok(ed_token_mac(key, t1, strlen(t1), mac, &err) == ED_OK &&
		   ed_token_mac(key, t1, strlen(t1), mac2, &err) == ED_OK &&
		   memcmp(mac, mac2, ED_FP_LEN) == 0,
	   "the MAC of a token is the same each time");
	ed_token_mac(key, t2, strlen(t2), mac2, &err);
	ok(memcmp(mac, mac2, ED_FP_LEN) != 0, "and another token's differs");

	const char *envs[] = {"staging", "qa"};
	ok(ed_store_token_add(st, "agent", ED_TOKEN_PUSH, envs, 2, mac, &err) == ED_OK,
	   "add a push token limited to two environments");
	ok(ed_store_token_add(st, "reader", ED_TOKEN_READ, NULL, 0, mac2, &err) == ED_OK,
	   "add a read token");
	ok(ed_store_token_add(st, "agent", ED_TOKEN_READ, NULL, 0, mac2, &err) == ED_USAGE &&
		   strstr(err.msg, "agent"),
	   "a second token of the same name is refused, naming it");
	ok(ed_store_token_revoke(st, "nosuch", &err) == ED_NOTFOUND, "revoking an unknown name");
	ok(ed_store_token_revoke(st, "reader", &err) == ED_OK, "revoke the read token");
	ok(ed_store_token_revoke(st, "reader", &err) == ED_OK, "  twice is harmless");

	struct ed_token *v = NULL;
	size_t n = 0;
	ok(ed_store_tokens(st, &v, &n, &err) == ED_OK && n == 2, "list the tokens");
	if (n == 2) {
		is_str(v[0].name, "agent", "  by name");
		ok(v[0].role == ED_TOKEN_PUSH && v[0].nenvs == 2 && strcmp(v[0].envs[0], "staging") == 0 &&
			   strcmp(v[0].envs[1], "qa") == 0,
		   "  the push token's role and environments");
		ok(memcmp(v[0].mac, mac, ED_FP_LEN) == 0 && !v[0].revoked_at[0] && v[0].created_at[0],
		   "  its MAC, creation time, not revoked");
		ok(v[1].role == ED_TOKEN_READ && v[1].nenvs == 0 && v[1].revoked_at[0],
		   "  the read token: any environment, revoked");
	}
	ed_tokens_free(v, n);

	/* --- browsing items --- */
	struct ed_snapwriter *w = NULL;
	static const char *const keys[] = {"/a", "/b\xff", "/b\xff\xff", "/b\xff/x", "/c", "/d"};
	int e = ed_snapshot_begin(st, "production", "h", "", NULL, &w, &err);
	for (size_t i = 0; !e && i < sizeof(keys) / sizeof(keys[0]); i++)
		e = emit(w, keys[i], strlen(keys[i]));
	int64_t items = 0;
	ok(!e && ed_snapshot_commit(w, &items, NULL, &err) == ED_OK && items == 6,
	   "a snapshot of six items");
	struct page p = {0};
	struct ed_item_filter f = {.prefix = "/b\xff", .prefix_len = 3};
	ok(ed_store_browse_items(st, 1, &f, on_item, &p, &err) == ED_OK && p.n == 3,
	   "prefix /b\\xff: three items, the upper bound past its 0xff");
	memset(&p, 0, sizeof(p));
	f = (struct ed_item_filter){.prefix = "/b", .prefix_len = 2, .kind = "file"};
	ok(ed_store_browse_items(st, 1, &f, on_item, &p, &err) == ED_OK && p.n == 3,
	   "prefix /b with kind file: three items");
	memset(&p, 0, sizeof(p));
	f = (struct ed_item_filter){.kind = "package"};
	ok(ed_store_browse_items(st, 1, &f, on_item, &p, &err) == ED_OK && p.n == 0,
	   "kind package: none");

	/* Pages of two: every item once, in order. */
	char all[512] = "";
	int pages = 0;
	char after_key[64];
	size_t after_len = 0;
	char after_kind[32] = "";
	for (;;) {
		memset(&p, 0, sizeof(p));
		f = (struct ed_item_filter){.limit = 2};
		if (after_kind[0]) {
			f.after_kind = after_kind;
			f.after_key = after_key;
			f.after_key_len = after_len;
		}
		if (ed_store_browse_items(st, 1, &f, on_item, &p, &err) != ED_OK || p.n == 0)
			break;
		pages++;
		size_t k = strlen(all);
		int wrote = snprintf(all + k, sizeof(all) - k, "%s%s", k ? "|" : "", p.keys);
		if (wrote < 0 || (size_t)wrote >= sizeof(all) - k)
			break;
		memcpy(after_kind, p.last_kind, sizeof(after_kind));
		memcpy(after_key, p.last_key, p.last_len);
		after_len = p.last_len;
	}
	is_int(pages, 3, "keyset pages of two: three pages");
	is_str(all, "/a|/b\xff|/b\xff/x|/b\xff\xff|/c|/d", "  every item once, in key order");
	ok(ed_store_browse_items(st, 99, &f, on_item, &p, &err) == ED_NOTFOUND,
	   "the items of an unknown snapshot: not found");

	ed_store_close(st);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return tap_done();
}
