/* SPDX-License-Identifier: MIT */
/*
 * The inventory parser (collector/inventory.c): the example of
 * docs/inventory.md, environment settings a host inherits, the host names of
 * one environment, and every refused line with its ORIGIN:LINE message.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/inventory.h"
#include "ed/source.h"
#include "tap.h"

static const char example[] =
	"; /etc/envdrift/inventory.ini\n"
	"[production]\n"
	"user = envdrift\n"
	"identity = /etc/envdrift/id_ed25519\n"
	"known_hosts = /etc/envdrift/known_hosts\n"
	"profile = /etc/envdrift/profiles/web.ini\n"
	"web-1 = host=10.0.0.11 role=web\n"
	"web-2 = host=10.0.0.12 role=web\n"
	"db-1 = host=10.0.0.21 role=db profile=/etc/envdrift/profiles/db.ini\n"
	"\n"
	"[staging]\n"
	"user = envdrift\n"
	"web-1 = host=10.1.0.11 role=web\n"
	"db-1 = host=10.1.0.21 port=2222 user=root role=db\n";

static void test_example(void)
{
	struct ed_inventory inv = {0};
	struct ed_err err = {0};
	is_int(ed_inventory_parse(ed_str_of(example, strlen(example)), "inv.ini", &inv, &err), ED_OK,
	       "the example parses");
	is_int(inv.nhosts, 5, "  five hosts");
	is_int(inv.nenvs, 2, "  two environments");
	if (inv.nhosts == 5) {
		const struct ed_inventory_host *w1 = &inv.hosts[0], *d1 = &inv.hosts[2],
					       *s2 = &inv.hosts[4];
		is_str(w1->env, "production", "  in file order: production first");
		is_str(w1->addr, "10.0.0.11", "  host= is the address");
		is_str(w1->role, "web", "  role=");
		is_str(w1->user, "envdrift", "  the environment's user, inherited");
		is_str(w1->profile, "/etc/envdrift/profiles/web.ini", "  and its profile");
		is_str(d1->profile, "/etc/envdrift/profiles/db.ini", "  a host's own profile wins");
		ok(w1->port == NULL, "  no port: none");
		is_str(s2->port, "2222", "  port=");
		is_str(s2->user, "root", "  a host's own user wins");
		ok(s2->identity == NULL, "  staging sets no identity");
	}
	ok(ed_inventory_has_env(&inv, "staging") && !ed_inventory_has_env(&inv, "qa"),
	   "has_env: staging, not qa");
	ed_inventory_release(&inv);
	ok(inv.nhosts == 0 && inv.hosts == NULL, "a released inventory is empty");

	char **names = NULL;
	size_t n = 0;
	is_int(ed_inventory_hosts(ed_str_of(example, strlen(example)), "inv.ini", "staging", &names,
				  &n, &err),
	       ED_OK, "hosts of staging");
	is_int(n, 2, "  two");
	if (n == 2) {
		is_str(names[0], "web-1", "  web-1");
		is_str(names[1], "db-1", "  db-1");
	}
	ed_names_free(names, n);

	/* Not NUL-terminated: the parser reads len bytes only. */
	char *cut = malloc(strlen(example));
	if (cut) {
		memcpy(cut, example, strlen(example));
		size_t len = (size_t)(strstr(example, "\n\n") - example) + 1;
		inv = (struct ed_inventory){0};
		is_int(ed_inventory_parse(ed_str_of(cut, len), "cut.ini", &inv, &err), ED_OK,
		       "the first len bytes only");
		is_int(inv.nhosts, 3, "  production's three hosts");
		ed_inventory_release(&inv);
		free(cut);
	}
}

static void test_refused(void)
{
	char longl[300];
	snprintf(longl, sizeof(longl), "[p]\nw = host=%0198d\n", 0);
	static const struct {
		const char *text, *want;
	} fixed[] = {
		{"[production]\nweb-9 = host=127.0.0.1 colour=blue\n",
		 "i.ini:2: unknown host setting 'colour' (host, port, user, role, profile, known_hosts, identity, remote, remote_command)"},
		{"[production]\nweb-9 = port=22\n", "i.ini:2: host 'web-9' has no host=ADDRESS"},
		{"[p]\nw = host=a port=2x\n", "i.ini:2: port '2x' is not a number"},
		{"[p]\nw = host=a user=\n", "i.ini:2: 'user=' is not NAME=VALUE (host=, port=, user=, role=, profile=)"},
		{"w = host=a\n", "i.ini:1: 'w' is outside any [environment] section"},
		{"[p]\n  w = host=a\n", "i.ini:2: indented line: write one host per line"},
		{"[p]\nw = host=a\n; c\nw = host=b\n", "i.ini:4: host 'w' is listed twice in its environment"},
		{"[p\nw = host=a\n", "i.ini:2: 'w' is outside any [environment] section"},
		{"[p]\nw\n", "i.ini:2: not 'NAME = VALUE' nor '[environment]'"},
		{"[p]\nuser = u\n", "inventory i.ini lists no host"},
		{"", "inventory i.ini lists no host"},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + 1; i++) {
		const char *text = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i].text : longl;
		const char *want = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i].want
									: "i.ini:2: line longer than 197 bytes";
		struct ed_inventory inv = {0};
		struct ed_err err = {0};
		is_int(ed_inventory_parse(ed_str_of(text, strlen(text)), "i.ini", &inv, &err), ED_PARSE,
		       "refused: %s", want);
		is_str(err.msg, want, "  the message");
		ed_inventory_release(&inv);

		char **names = (char **)1;
		size_t n = 1;
		ok(ed_inventory_hosts(ed_str_of(text, strlen(text)), "i.ini", "p", &names, &n, &err) ==
			       ED_PARSE &&
		       names == NULL && n == 0,
		   "  hosts: the same error, no names");
	}
}

/*
 * What the common INI reader refuses in every hand-written file (NUL bytes,
 * control characters, invalid UTF-8), which inventories once let through,
 * and what it still accepts.
 */
static void test_bytes(void)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen(text) */
		const char *want;
	} bad[] = {
		/* Once the rest of the line and the file were dropped, and "w" read as host "a". */
		{"[p]\nw = host=a\0b\nx = host=c\n", 28, "i.ini:2: NUL byte"},
		{"[p]\nw = host=a\n\0", 16, "i.ini:3: NUL byte"},
		{"[p]\nw = host=a\x01\n", 0, "i.ini:2: control character 0x01 in column 11"},
		{"[p]\nw = host=a\x1b[0m\n", 0, "i.ini:2: control character 0x1b in column 11"},
		{"[p]\nw = host=a\rrole=x\n", 0, "i.ini:2: control character 0x0d in column 11"},
		{"[p]\nw = host=a role=\x7f\n", 0, "i.ini:2: control character 0x7f in column 17"},
		{"[p]\nw = host=caf\xe9\n", 0, "i.ini:2: invalid UTF-8"},
		{"[p\xff]\nw = host=a\n", 0, "i.ini:1: invalid UTF-8"},
		{"[p]\nw = host=\xed\xa0\x80\n", 0, "i.ini:2: invalid UTF-8"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		struct ed_inventory inv = {0};
		struct ed_err err = {0};
		is_int(ed_inventory_parse(ed_str_of(bad[i].text, len), "i.ini", &inv, &err), ED_PARSE,
		       "refused: %s", bad[i].want);
		is_str(err.msg, bad[i].want, "  the message");
		ed_inventory_release(&inv);
	}

	static const char ok_text[] = "\xef\xbb\xbf[p]\r\nw\xc3\xa9 = host=a\trole=caf\xc3\xa9\r\n";
	struct ed_inventory inv = {0};
	struct ed_err err = {0};
	is_int(ed_inventory_parse(ed_str_of(ok_text, strlen(ok_text)), "i.ini", &inv, &err), ED_OK,
	       "a byte order mark, CRLF, tabs and UTF-8 pass");
	is_int(inv.nhosts, 1, "  one host");
	if (inv.nhosts == 1) {
		is_str(inv.hosts[0].name, "w\xc3\xa9", "  the host's UTF-8 name");
		is_str(inv.hosts[0].role, "caf\xc3\xa9", "  its UTF-8 role, the tab a separator");
	}
	ed_inventory_release(&inv);

	/* Every line is numbered as read, also after a line libinih cannot parse. */
	static const char after[] = "[p]\nw\nx = host=a colour=z\n";
	inv = (struct ed_inventory){0};
	is_int(ed_inventory_parse(ed_str_of(after, strlen(after)), "i.ini", &inv, &err), ED_PARSE,
	       "a host's error after a line without '='");
	is_str(err.msg,
	       "i.ini:3: unknown host setting 'colour' (host, port, user, role, profile, "
	       "known_hosts, identity, remote, remote_command)",
	       "  names the host's own line");
	ed_inventory_release(&inv);
}

int main(void)
{
	test_example();
	test_refused();
	test_bytes();
	return tap_done();
}
