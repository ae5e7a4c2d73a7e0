/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ed_version_cmp(). Input "MANAGER\0A\0B"; a MANAGER that is not
 * one of ours runs A and B through every manager. Aborts when the order is not
 * antisymmetric (cmp(a, b) == -cmp(b, a), same ok) or not reflexive (a valid
 * version equals itself), or when a result is outside -1..1.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const managers[] = {"dpkg", "rpm", "apk", "pypi", "npm"};

static void check(const char *m, const char *a, const char *b)
{
	bool ok_ab, ok_ba, ok_aa, ok_bb;
	int ab = ed_version_cmp(m, a, b, &ok_ab);
	int ba = ed_version_cmp(m, b, a, &ok_ba);
	int aa = ed_version_cmp(m, a, a, &ok_aa);
	int bb = ed_version_cmp(m, b, b, &ok_bb);

	if (ab < -1 || ab > 1 || ok_ab != ok_ba || ab != -ba)
		abort();
	if ((!ok_ab && ab != 0) || aa != 0 || bb != 0)
		abort();
	/* Both valid on their own exactly when the pair is. */
	if (ok_ab != (ok_aa && ok_bb))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Three NUL-terminated parts; missing ones are empty. */
	char *buf = malloc(size + 3);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	const char *m = buf;
	const char *a = m + strlen(m) + 1;
	if (a > buf + size)
		a = buf + size + 1;
	const char *b = a + strlen(a) + 1;
	if (b > buf + size + 2)
		b = buf + size + 2;

	bool known = false;
	for (size_t i = 0; i < sizeof(managers) / sizeof(managers[0]); i++)
		known |= strcmp(m, managers[i]) == 0;
	if (known) {
		check(m, a, b);
	} else {
		for (size_t i = 0; i < sizeof(managers) / sizeof(managers[0]); i++)
			check(managers[i], a, b);
	}
	free(buf);
	return 0;
}
