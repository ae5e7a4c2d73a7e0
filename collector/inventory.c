/* SPDX-License-Identifier: MIT */
/* Inventories: environments, hosts and how to reach them, from an INI file (libinih). */
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "ed/inventory.h"
#include "ed/source.h"

/* The parse under way. */
struct parse {
	struct ed_inventory *inv;
	int *key_lines;     /* line number of each NAME = VALUE line, in order */
	size_t nkeys;
	size_t calls;       /* handler calls so far */
	const char *origin;
	char err[512];      /* the first problem, "ORIGIN:LINE: ..." */
};

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

static int inv_fail(struct parse *ps, int line, const char *fmt, const char *a)
{
	if (!ps->err[0]) {
		int n = snprintf(ps->err, sizeof(ps->err), "%s:%d: ", ps->origin, line);
		if (n > 0 && (size_t)n < sizeof(ps->err))
			snprintf(ps->err + n, sizeof(ps->err) - (size_t)n, fmt, a);
	}
	return 0;
}

/* "host=10.0.0.1 port=22 user=deploy role=web profile=/p.ini" into h. */
static int parse_host(struct parse *ps, struct ed_inventory_host *h, const char *value, int line)
{
	char *copy = strdup(value), *save = NULL;
	if (!copy)
		return inv_fail(ps, line, "out of memory%s", "");
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok || !eq[1]) {
			inv_fail(ps, line, "'%s' is not NAME=VALUE (host=, port=, user=, role=, profile=)", tok);
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
							       : NULL;
		if (!dst) {
			inv_fail(ps, line, "unknown host setting '%s' (host, port, user, role, profile, known_hosts, identity)", tok);
			break;
		}
		if (strcmp(tok, "port") == 0 && strspn(v, "0123456789") != strlen(v)) {
			inv_fail(ps, line, "port '%s' is not a number", v);
			break;
		}
		if (!set(dst, v)) {
			inv_fail(ps, line, "out of memory%s", "");
			break;
		}
	}
	free(copy);
	if (!ps->err[0] && !h->addr)
		inv_fail(ps, line, "host '%s' has no host=ADDRESS", h->name);
	return ps->err[0] ? 0 : 1;
}

/*
 * libinih (as Debian builds it) does not pass line numbers to the handler:
 * the pre-scan recorded the line of every NAME = VALUE line, and the handler
 * is called once per such line, in order (continuation lines are refused).
 */
static int on_line(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	struct ed_inventory *inv = ps->inv;
	int line = ps->calls < ps->nkeys ? ps->key_lines[ps->calls] : 0;
	ps->calls++;
	if (ps->err[0])
		return 0;
	if (!*section)
		return inv_fail(ps, line, "'%s' is outside any [environment] section", name);
	struct ed_inventory_env *e = env_of(inv, section);
	if (!e)
		return inv_fail(ps, line, "out of memory%s", "");
	char **reserved = strcmp(name, "profile") == 0	   ? &e->profile
			  : strcmp(name, "user") == 0	   ? &e->user
			  : strcmp(name, "port") == 0	   ? &e->port
			  : strcmp(name, "known_hosts") == 0 ? &e->known_hosts
			  : strcmp(name, "identity") == 0	   ? &e->identity
							   : NULL;
	if (reserved)
		return set(reserved, value) ? 1 : inv_fail(ps, line, "out of memory%s", "");
	for (size_t i = 0; i < inv->nhosts; i++)
		if (strcmp(inv->hosts[i].env, section) == 0 && strcmp(inv->hosts[i].name, name) == 0)
			return inv_fail(ps, line, "host '%s' is listed twice in its environment", name);
	struct ed_inventory_host *v = realloc(inv->hosts, (inv->nhosts + 1) * sizeof(*v));
	if (!v)
		return inv_fail(ps, line, "out of memory%s", "");
	inv->hosts = v;
	struct ed_inventory_host *h = &v[inv->nhosts++];
	memset(h, 0, sizeof(*h));
	if (!(h->env = strdup(section)) || !(h->name = strdup(name)))
		return inv_fail(ps, line, "out of memory%s", "");
	return parse_host(ps, h, value, line);
}

/* Refuses what libinih would read otherwise than meant; records the line of each NAME = VALUE. */
static enum ed_code check_lines(struct parse *ps, const char *text, struct ed_err *err)
{
	int line = 1;
	for (const char *p = text; *p; line++) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		/* libinih would cut longer lines silently: refuse them instead. */
		if (n > ED_INVENTORY_MAX_LINE)
			return ed_err_set(err, ED_PARSE, "%s:%d: line longer than %d bytes", ps->origin,
					  line, ED_INVENTORY_MAX_LINE);
		size_t lead = strspn(p, " \t");
		char c = lead < n ? p[lead] : '\0';
		if (c && lead && c != ';' && c != '#')
			return ed_err_set(err, ED_PARSE, "%s:%d: indented line: write one host per line",
					  ps->origin, line);
		if (c && c != ';' && c != '#' && c != '[') {
			int *v = realloc(ps->key_lines, (ps->nkeys + 1) * sizeof(*v));
			if (!v)
				return ed_err_set(err, ED_NOMEM, "out of memory");
			ps->key_lines = v;
			v[ps->nkeys++] = line;
		}
		p = eol ? eol + 1 : p + strlen(p);
	}
	return ED_OK;
}

enum ed_code ed_inventory_parse(struct ed_str text, const char *origin, struct ed_inventory *inv,
				struct ed_err *err)
{
	struct parse ps = {.inv = inv, .origin = origin};
	struct ed_buf copy = ED_BUF_INIT; /* NUL-terminated, for libinih */
	enum ed_code rc = ED_OK;
	if (ed_buf_add(&copy, text.p, text.len)) {
		rc = ed_err_set(err, ED_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = check_lines(&ps, ed_buf_str(&copy), err)))
		goto out;
	int r = ini_parse_string(ed_buf_str(&copy), on_line, &ps);
	if (ps.err[0])
		rc = ed_err_set(err, ED_PARSE, "%s", ps.err);
	else if (r != 0)
		rc = ed_err_set(err, ED_PARSE, "%s:%d: not 'NAME = VALUE' nor '[environment]'", origin, r);
	else if (inv->nhosts == 0)
		rc = ed_err_set(err, ED_PARSE, "inventory %s lists no host", origin);
	/* Environment settings apply to hosts that do not set their own. */
	for (size_t i = 0; !rc && i < inv->nhosts; i++) {
		struct ed_inventory_host *h = &inv->hosts[i];
		struct ed_inventory_env *e = env_of(inv, h->env);
		if (!e) {
			rc = ed_err_set(err, ED_NOMEM, "out of memory");
			break;
		}
		char **own[] = {&h->profile, &h->user, &h->port, &h->known_hosts, &h->identity};
		char *const env[] = {e->profile, e->user, e->port, e->known_hosts, e->identity};
		for (size_t k = 0; k < 5; k++)
			if (!*own[k] && env[k] && !set(own[k], env[k]))
				rc = ed_err_set(err, ED_NOMEM, "out of memory");
	}
out:
	free(ps.key_lines);
	ed_buf_release(&copy);
	return rc;
}

void ed_inventory_release(struct ed_inventory *inv)
{
	for (size_t i = 0; i < inv->nhosts; i++) {
		struct ed_inventory_host *h = &inv->hosts[i];
		free(h->env), free(h->name), free(h->addr), free(h->user), free(h->port);
		free(h->role), free(h->profile), free(h->known_hosts), free(h->identity);
	}
	free(inv->hosts);
	for (size_t i = 0; i < inv->nenvs; i++) {
		struct ed_inventory_env *e = &inv->envs[i];
		free(e->name), free(e->profile), free(e->user), free(e->port);
		free(e->known_hosts), free(e->identity);
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
