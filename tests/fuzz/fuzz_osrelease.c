/* SPDX-License-Identifier: MIT */
/* Fuzz target: the os-release(5) parser (also used for /etc/default/locale). */
#include <stdint.h>
#include <string.h>

#include "ed/system.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink_warn(struct ed_sink *s, const char *msg)
{
	(void)s;
	volatile size_t n = strlen(msg);
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_sink sink = {.warn = sink_warn};
	struct ed_sysvars vars = {0};
	struct ed_err err;
	ed_system_parse_env(ed_str_of((const char *)data, size), "os-release", &sink, &vars, &err);
	/* Every value is NUL-terminated, len bytes long, and holds no NUL. */
	volatile size_t sum = 0;
	for (size_t i = 0; i < vars.n; i++) {
		sum += strlen(vars.v[i].name);
		if (strlen(vars.v[i].value) != vars.v[i].len)
			__builtin_trap();
		for (size_t j = 0; j < i; j++)
			if (strcmp(vars.v[i].name, vars.v[j].name) == 0)
				__builtin_trap(); /* names are unique */
	}
	(void)sum;
	ed_system_vars_release(&vars);
	return 0;
}
