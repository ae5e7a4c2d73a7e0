/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the policy parser (on top of the default, through libinih),
 * then the judgement of a small drift and the must-differ hook with the
 * result, and the date check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *kind, *key;
	enum ed_change change;
	unsigned fields;
	const char *ref, *cand;
	bool secret;
} entries[] = {
	{"file", "/etc/hostname", ED_CHANGED, ED_F_CONTENT, NULL, NULL, false},
	{"file", "/etc/nginx/nginx.conf", ED_CHANGED, ED_F_CONTENT | ED_F_MODE, NULL, NULL, false},
	{"file", "/etc/motd", ED_ADDED, 0, NULL, NULL, false},
	{"file", "/etc/ssh/ssh_host_ed25519_key", ED_CHANGED, 0, NULL, NULL, true},
	{"config", "/etc/app.json#/db/host", ED_CHANGED, 0, NULL, NULL, false},
	{"config", "/etc/app.json#/db/password", ED_REMOVED, 0, NULL, NULL, true},
	{"package", "dpkg:openssl:amd64", ED_CHANGED, ED_F_VERSION, "3.0.15-1", "3.0.11-1", false},
	{"package", "pypi:requests", ED_CHANGED, ED_F_VERSION, "2.31.0", "2.32.0", false},
	{"package", "npm:/srv/app/node_modules/x", ED_CHANGED, ED_F_VERSION, "1.0.0", "1.0.0", false},
	{"schema", "sqlite:app/table/users", ED_CHANGED, ED_F_DEFINITION, "a", "b", false},
	{"system", "kernel/release", ED_CHANGED, ED_F_VALUE | ED_F_ERROR, "6.1", NULL, false},
};
#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void judge(const struct ed_policy *p)
{
	struct ed_drift d = {0};
	struct ed_err err;
	d.v = calloc(NENTRIES, sizeof(*d.v));
	if (!d.v)
		return;
	for (size_t i = 0; i < NENTRIES; i++, d.n++) {
		struct ed_drift_entry *e = &d.v[i];
		e->kind = dup(entries[i].kind);
		e->key = dup(entries[i].key);
		e->key_len = strlen(entries[i].key);
		e->change = entries[i].change;
		e->fields = entries[i].fields;
		e->severity = "block";
		e->ref.present = e->change != ED_ADDED;
		e->cand.present = e->change != ED_REMOVED;
		e->ref.value = dup(entries[i].ref);
		e->cand.value = dup(entries[i].cand);
		if (entries[i].secret)
			e->ref.attrs = dup("{\"secret\":true}");
		(void)ed_policy_must_differ(p, e->kind, e->key, e->key_len, entries[i].secret);
	}
	(void)ed_policy_must_differ_plain(p);
	if (ed_policy_apply(p, "2026-06-30", &d, &err) == ED_OK) {
		volatile size_t sum = d.blocking + d.warnings + d.infos + d.ignored;
		for (size_t i = 0; i < d.n; i++)
			sum += strlen(d.v[i].rule) + strlen(d.v[i].severity) +
			       (d.v[i].reason ? strlen(d.v[i].reason) : 0);
		for (size_t i = 0; i < d.nexpired; i++)
			sum += strlen(d.expired[i].text) + strlen(d.expired[i].expires) +
			       strlen(d.expired[i].reason);
		(void)sum;
	}
	ed_drift_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_policy p = {0}, c = {0};
	struct ed_err err;
	if (ed_policy_default(&p, &err))
		return 0;
	if (ed_policy_parse(ed_str_of((const char *)data, size), "fuzz.ini", &p, &err) == ED_OK) {
		judge(&p);
		if (ed_policy_copy(&c, &p, &err) == ED_OK)
			judge(&c);
		ed_policy_release(&c);
	}
	ed_policy_release(&p);

	/* The same bytes as a date (up to the first NUL). */
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
		(void)ed_policy_date_valid(s);
		free(s);
	}
	return 0;
}
