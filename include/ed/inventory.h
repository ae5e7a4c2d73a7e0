/* SPDX-License-Identifier: MIT */
/*
 * Inventories: the environments of a fleet, their hosts and how to reach
 * them over SSH, in an INI file close to Ansible's (docs/inventory.md). The
 * parser takes bytes, never a path.
 */
#ifndef ED_INVENTORY_H
#define ED_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/ini.h"

/*
 * The longest inventory line accepted, in bytes, not counting its "\n" or
 * "\r\n": libinih would cut a longer line silently.
 */
#define ED_INVENTORY_MAX_LINE ED_INI_MAX_LINE

/* One host. Strings are owned; NULL when neither the host nor its environment sets them. */
struct ed_inventory_host {
	char *env;         /* its section */
	char *name;        /* its name in the store */
	char *addr;        /* host=, required */
	char *user;
	char *port;        /* digits */
	char *role;
	char *profile;
	char *known_hosts;
	char *identity;
	char *remote;         /* auto, never or always (collect --remote) */
	char *remote_command; /* the envdrift program on the host (collect --remote-command) */
};

/* The settings of one environment (the reserved names of its section); owned. */
struct ed_inventory_env {
	char *name;
	char *profile, *user, *port, *known_hosts, *identity, *remote, *remote_command;
};

struct ed_inventory {
	struct ed_inventory_host *hosts; /* in file order */
	size_t nhosts;
	struct ed_inventory_env *envs;   /* in order of first appearance */
	size_t nenvs;
};

/*
 * Parses an inventory (text, read from origin, which names it in messages)
 * into inv, which must be zeroed: every host with its environment's settings
 * where it sets none of its own. Read with ed_ini_parse() (ed/ini.h), without
 * continuation lines. Returns ED_OK; ED_PARSE with "ORIGIN:LINE: problem"
 * for a line longer than ED_INVENTORY_MAX_LINE, a NUL byte, a control
 * character, invalid UTF-8, an indented line, a name outside any section, a
 * host listed twice in its environment, a host setting that is not
 * NAME=VALUE, unknown, or a port that is not a number, or a host without
 * host=; these stop the reading, and the first one wins. A line libinih
 * cannot parse (no '=', a header without ']') is reported only when no
 * such error comes after it. ED_PARSE "inventory ORIGIN lists no host";
 * ED_NOMEM ("ORIGIN:LINE: out of memory" while reading a line). Release inv
 * with ed_inventory_release(), also after an error.
 */
enum ed_code ed_inventory_parse(struct ed_str text, const char *origin, struct ed_inventory *inv,
				struct ed_err *err);

/* Frees everything inv owns and zeroes it. */
void ed_inventory_release(struct ed_inventory *inv);

/* Does inv have a section named env? */
bool ed_inventory_has_env(const struct ed_inventory *inv, const char *env);

/*
 * Parses text as ed_inventory_parse() does and returns the names of the hosts
 * env lists, in file order: *names is a malloc'd array of *n malloc'd names
 * the caller frees with ed_names_free(); NULL and 0 after an error.
 */
enum ed_code ed_inventory_hosts(struct ed_str text, const char *origin, const char *env,
				char ***names, size_t *n, struct ed_err *err);

#endif
