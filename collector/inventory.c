/* SPDX-License-Identifier: MIT */
/* Inventories: environments, hosts and how to reach them, from an INI file (common/ini.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/ini.h"
#include "ed/inventory.h"
#include "ed/source.h"

/* The parse under way. */
struct parse {
	struct ed_ini ini;       /* the reader: origin, the current line, the first error */
	struct ed_inventory *inv;
	int unreadable;          /* the first line libinih cannot read, or 0 */
	char long_line[64];      /* the message for a line longer than ED_INVENTORY_MAX_LINE */
};

/* Records the first error as "ORIGIN:LINE: message"; returns 0 for libinih. */
#define fail(ps, ...) ed_ini_fail(&(ps)->ini, ED_PARSE, __VA_ARGS__)

static int nomem(struct parse *ps)
{
	return ed_ini_fail(&ps->ini, ED_NOMEM, "out of memory");
}

static bool set(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst != NULL;
}

static struct ed_inventory_env *env_of(struct ed_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nenvs; i++)
		if (strcmp(inv->envs[i].name, name) == 0)
			return &inv->envs[i];
	struct ed_inventory_env *v = realloc(inv->envs, (inv->nenvs + 1) * sizeof(*v));
	if (!v)
		return NULL;
	inv->envs = v;
	memset(&v[inv->nenvs], 0, sizeof(*v));
	if (!(v[inv->nenvs].name = strdup(name)))
		return NULL;
	return &v[inv->nenvs++];
}

/* collect --remote's words. */
static bool remote_mode_ok(struct parse *ps, const char *v)
{
	if (strcmp(v, "auto") == 0 || strcmp(v, "never") == 0 || strcmp(v, "always") == 0)
		return true;
	fail(ps, "remote '%s': expected auto, never or always", v);
	return false;
}

/* "host=10.0.0.1 port=22 user=deploy role=web profile=/p.ini" into h. */
static int parse_host(struct parse *ps, struct ed_inventory_host *h, const char *value)
{
	char *copy = strdup(value), *save = NULL;
	if (!copy)
		return nomem(ps);
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok || !eq[1]) {
			fail(ps, "'%s' is not NAME=VALUE (host=, port=, user=, role=, profile=)", tok);
			break;
		}
		*eq = '\0';
		const char *v = eq + 1;
		char **dst = strcmp(tok, "host") == 0	      ? &h->addr
			     : strcmp(tok, "port") == 0	      ? &h->port
			     : strcmp(tok, "user") == 0	      ? &h->user
			     : strcmp(tok, "role") == 0	      ? &h->role
			     : strcmp(tok, "profile") == 0     ? &h->profile
			     : strcmp(tok, "known_hosts") == 0 ? &h->known_hosts
			     : strcmp(tok, "identity") == 0    ? &h->identity
			     : strcmp(tok, "remote") == 0      ? &h->remote
			     : strcmp(tok, "remote_command") == 0 ? &h->remote_command
							       : NULL;
		if (!dst) {
			fail(ps, "unknown host setting '%s' (host, port, user, role, profile, known_hosts, "
				 "identity, remote, remote_command)", tok);
			break;
		}
		if (strcmp(tok, "remote") == 0 && !remote_mode_ok(ps, v))
			break;
		if (strcmp(tok, "port") == 0 && strspn(v, "0123456789") != strlen(v)) {
			fail(ps, "port '%s' is not a number", v);
			break;
		}
		if (!set(dst, v)) {
			nomem(ps);
			break;
		}
	}
	free(copy);
	if (!ps->ini.rc && !h->addr)
		fail(ps, "host '%s' has no host=ADDRESS", h->name);
	return !ps->ini.rc;
}

/* libinih's handler: one NAME = VALUE line (ps->ini.cur), a setting or a host. */
static int on_line(struct ed_ini *ini, const char *section, const char *name, const char *value)
{
	struct parse *ps = ini->ctx;
	struct ed_inventory *inv = ps->inv;
	if (!*section)
		return fail(ps, "'%s' is outside any [environment] section", name);
	struct ed_inventory_env *e = env_of(inv, section);
	if (!e)
		return nomem(ps);
	char **reserved = strcmp(name, "profile") == 0	   ? &e->profile
			  : strcmp(name, "user") == 0	   ? &e->user
			  : strcmp(name, "port") == 0	   ? &e->port
			  : strcmp(name, "known_hosts") == 0 ? &e->known_hosts
			  : strcmp(name, "identity") == 0	   ? &e->identity
			  : strcmp(name, "remote") == 0	   ? &e->remote
			  : strcmp(name, "remote_command") == 0 ? &e->remote_command
							   : NULL;
	if (reserved == &e->remote && !remote_mode_ok(ps, value))
		return 0;
	if (reserved)
		return set(reserved, value) ? 1 : nomem(ps);
	for (size_t i = 0; i < inv->nhosts; i++)
		if (strcmp(inv->hosts[i].env, section) == 0 && strcmp(inv->hosts[i].name, name) == 0)
			return fail(ps, "host '%s' is listed twice in its environment", name);
	struct ed_inventory_host *v = realloc(inv->hosts, (inv->nhosts + 1) * sizeof(*v));
	if (!v)
		return nomem(ps);
	inv->hosts = v;
	struct ed_inventory_host *h = &v[inv->nhosts++];
	memset(h, 0, sizeof(*h));
	if (!(h->env = strdup(section)) || !(h->name = strdup(name)))
		return nomem(ps);
	return parse_host(ps, h, value);
}

/* Would libinih read line l (a section header or a pair, not indented) without complaint? */
static bool readable(const struct ed_ini_line *l)
{
	if (l->kind == ED_INI_SECTION) {
		size_t e = 1 + ed_ini_find(l->p + 1, l->len - 1, "]");
		return e < l->len && l->p[e] == ']';
	}
	size_t e = ed_ini_find(l->p, l->len, "=:");
	return e < l->len && (l->p[e] == '=' || l->p[e] == ':');
}

/*
 * Refuses indented lines: an inventory has no continuation lines. A line
 * libinih cannot read (a header without ']', a line without '=') is kept
 * from it and reported once the whole file is read, unless a host fails
 * first: what a broken header leaves outside any section is the clearer
 * message (ed_inventory_parse() has always worked so).
 */
static bool check_line(struct ed_ini *ini, const struct ed_ini_line *l, const char **feed)
{
	struct parse *ps = ini->ctx;
	if (l->kind == ED_INI_BLANK)
		return true;
	if (l->indented)
		return fail(ps, "indented line: write one host per line");
	if (readable(l))
		return true;
	if (!ps->unreadable)
		ps->unreadable = l->lineno;
	*feed = ""; /* a blank line: libinih keeps its section, as after a broken header */
	return true;
}

enum ed_code ed_inventory_parse(struct ed_str text, const char *origin, struct ed_inventory *inv,
				struct ed_err *err)
{
	struct parse ps = {.inv = inv};
	snprintf(ps.long_line, sizeof(ps.long_line), "line longer than %d bytes",
		 ED_INVENTORY_MAX_LINE);
	ps.ini.origin = origin;
	ps.ini.check = check_line;
	ps.ini.pair = on_line;
	ps.ini.ctx = &ps;
	ps.ini.no_continuations = true;
	ps.ini.long_line = ps.long_line;
	if (!ed_ini_parse(&ps.ini, text, err) && ps.unreadable)
		ed_ini_fail_at(&ps.ini, ps.unreadable, ED_PARSE,
			       "not 'NAME = VALUE' nor '[environment]'");
	enum ed_code rc = ps.ini.rc;
	if (!rc && inv->nhosts == 0)
		rc = ed_err_set(err, ED_PARSE, "inventory %s lists no host", origin);
	/* Environment settings apply to hosts that do not set their own. */
	for (size_t i = 0; !rc && i < inv->nhosts; i++) {
		struct ed_inventory_host *h = &inv->hosts[i];
		struct ed_inventory_env *e = env_of(inv, h->env);
		if (!e) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		char **own[] = {&h->profile, &h->user, &h->port, &h->known_hosts, &h->identity,
				&h->remote, &h->remote_command};
		char *const env[] = {e->profile, e->user, e->port, e->known_hosts, e->identity,
				     e->remote, e->remote_command};
		for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
			if (!*own[k] && env[k] && !set(own[k], env[k]))
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
	}
	return rc;
}

void ed_inventory_release(struct ed_inventory *inv)
{
	for (size_t i = 0; i < inv->nhosts; i++) {
		struct ed_inventory_host *h = &inv->hosts[i];
		free(h->env), free(h->name), free(h->addr), free(h->user), free(h->port);
		free(h->role), free(h->profile), free(h->known_hosts), free(h->identity);
		free(h->remote), free(h->remote_command);
	}
	free(inv->hosts);
	for (size_t i = 0; i < inv->nenvs; i++) {
		struct ed_inventory_env *e = &inv->envs[i];
		free(e->name), free(e->profile), free(e->user), free(e->port);
		free(e->known_hosts), free(e->identity), free(e->remote), free(e->remote_command);
	}
	free(inv->envs);
	*inv = (struct ed_inventory){0};
}

bool ed_inventory_has_env(const struct ed_inventory *inv, const char *env)
{
	for (size_t i = 0; i < inv->nenvs; i++)
		if (strcmp(inv->envs[i].name, env) == 0)
			return true;
	return false;
}

enum ed_code ed_inventory_hosts(struct ed_str text, const char *origin, const char *env,
				char ***names, size_t *n, struct ed_err *err)
{
	struct ed_inventory inv = {0};
	enum ed_code rc = ed_inventory_parse(text, origin, &inv, err);
	*names = NULL;
	*n = 0;
	for (size_t i = 0; !rc && i < inv.nhosts; i++) {
		if (strcmp(inv.hosts[i].env, env) != 0)
			continue;
		char **v = realloc(*names, (*n + 1) * sizeof(*v));
		if (v)
			*names = v;
		if (!v || !(v[*n] = strdup(inv.hosts[i].name))) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	if (rc) {
		ed_names_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	ed_inventory_release(&inv);
	return rc;
}
