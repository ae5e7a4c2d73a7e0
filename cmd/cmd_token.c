/* SPDX-License-Identifier: MIT */
/* envdrift token add/list/revoke: who may read the API of 'envdrift serve', and push to it. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "ed/buf.h"
#include "ed/store.h"
#include "ed/token.h"

static const struct ed_cmd_help help = {
	.name = "token",
	.usage = "token add NAME --role read|push|admin [--env ENV]...\n"
		 "token list\n"
		 "token revoke NAME",
	.intro = "The tokens of 'envdrift serve'. 'add' prints a fresh random token once, on "
		 "standard output (32 random bytes, base64url): the store keeps only its "
		 "HMAC-SHA256 with the store's key, so it cannot be shown again. A client sends it "
		 "as 'Authorization: Bearer TOKEN'. Roles: read (the JSON API and /metrics), push "
		 "(POST /api/v1/snapshots), admin (both). --env limits a push token to the "
		 "snapshots of those environments: a staging agent's token cannot push production. "
		 "'list' shows every token's name, role, environments, creation and revocation "
		 "times, never the token. 'revoke' refuses a token from the next request on; "
		 "names are never reused.\n"
		 "On a loopback address, 'serve' lets anyone read until the store holds a read (or "
		 "admin) token; on any other address it needs one to start. Pushes always need a "
		 "push or admin token.",
	.outro = "Exit status: 0 done, 2 error (no such token, a name taken, no store or key).",
};

/* Whether s may name a token or an environment: printable ASCII, no blank, not too long. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ED_TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

static int token_add(struct ed_cli *cli, const char *name, const char *role_name,
		     const struct ed_opt_list *envs)
{
	enum ed_token_role role;
	if (!role_name)
		return ed_cli_usage_error("token", "add %s: --role read|push|admin is required", name);
	if (!ed_token_role_parse(role_name, &role))
		return ed_cli_usage_error("token", "--role %s: expected read, push or admin",
					  role_name);
	for (size_t i = 0; i < envs->n; i++)
		if (!plain_name(envs->items[i]))
			return ed_cli_usage_error("token", "--env: '%s' is not an environment name",
						  envs->items[i]);
	if (envs->n && role == ED_TOKEN_READ)
		return ed_cli_usage_error("token", "--env limits what a token may push: a read "
						   "token pushes nothing");
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	uint8_t key[ED_KEY_LEN], mac[ED_FP_LEN];
	char token[ED_TOKEN_TEXT_LEN + 1];
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
	    ed_store_key(cli->db, false, key, &err) || ed_token_new(token, &err) ||
	    ed_token_mac(key, token, strlen(token), mac, &err) ||
	    ed_store_token_add(st, name, role, envs->items, envs->n, mac, &err)) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	printf("%s\n", token);
	if (ed_cli_flush_stdout(&err))
		return ed_cli_fail(&err);
	ed_say("added %s token '%s'; it is shown only this once", role_name, name);
	return ED_EXIT_OK;
}

static int token_list(struct ed_cli *cli)
{
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	struct ed_token *v = NULL;
	size_t n = 0;
	if (ed_store_open(cli->db, ED_STORE_READ, NULL, &st, &err) ||
	    ed_store_tokens(st, &v, &n, &err)) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	for (size_t i = 0; i < n; i++) {
		struct ed_buf envs = ED_BUF_INIT;
		for (size_t j = 0; j < v[i].nenvs; j++)
			ed_buf_addf(&envs, "%s%s", j ? "," : "", v[i].envs[j]);
		ed_term_printf(stdout, "%-20s %-6s %-20s created %s%s%s\n", v[i].name,
			       ed_token_role_name(v[i].role), v[i].nenvs ? envs.p : "*",
			       v[i].created_at, v[i].revoked_at[0] ? " revoked " : "",
			       v[i].revoked_at);
		ed_buf_release(&envs);
	}
	ed_tokens_free(v, n);
	if (ed_cli_flush_stdout(&err))
		return ed_cli_fail(&err);
	return ED_EXIT_OK;
}

static int token_revoke(struct ed_cli *cli, const char *name)
{
	struct ed_err err = {0};
	struct ed_store *st = NULL;
	if (ed_store_open(cli->db, ED_STORE_WRITE, NULL, &st, &err) ||
	    ed_store_token_revoke(st, name, &err)) {
		ed_store_close(st);
		return ed_cli_fail(&err);
	}
	ed_store_close(st);
	ed_say("revoked token '%s'", name);
	return ED_EXIT_OK;
}

int ed_cmd_token(int argc, char **argv, struct ed_cli *cli)
{
	const char *role = NULL;
	struct ed_opt_list envs = {0};
	const struct ed_opt opts[] = {
		ED_OPT_CHOICE_(0, "role", "ROLE", &role, "read push admin",
			       "add: read (the API, /metrics), push (POST /api/v1/snapshots) or "
			       "admin (both)"),
		ED_OPT_LIST_(0, "env", "ENV", &envs,
			     "add: the token may push snapshots of ENV only (repeatable; default: "
			     "any environment)"),
		ED_OPT_END_(),
	};
	int nargs = 0;
	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, &nargs));
	if (status >= 0)
		goto out;
	const char *verb = nargs ? argv[1] : "";
	if (strcmp(verb, "add") == 0 && nargs == 2) {
		if (!plain_name(argv[2]))
			status = ed_cli_usage_error("token", "'%s' is not a token name (printable "
							     "ASCII, no blanks, at most %d bytes)",
						    argv[2], ED_TOKEN_NAME_MAX);
		else
			status = token_add(cli, argv[2], role, &envs);
	} else if ((role || envs.n) && strcmp(verb, "add") != 0) {
		status = ed_cli_usage_error("token", "--role and --env go with 'token add'");
	} else if (strcmp(verb, "list") == 0 && nargs == 1) {
		status = token_list(cli);
	} else if (strcmp(verb, "revoke") == 0 && nargs == 2) {
		status = token_revoke(cli, argv[2]);
	} else {
		status = ed_cli_usage_error("token", "expected 'add NAME --role ROLE', 'list' or "
						     "'revoke NAME'");
	}
out:
	ed_opt_list_release(&envs);
	return status;
}
