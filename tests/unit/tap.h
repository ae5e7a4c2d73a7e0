/* SPDX-License-Identifier: MIT */
/* A minimal TAP producer for unit tests (meson: protocol 'tap'). */
#ifndef ED_TAP_H
#define ED_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int tap_n;
static int tap_failed;

#define ok(cond, ...)                                                          \
	do {                                                                   \
		int ok_c_ = !!(cond);                                           \
		printf("%s %d - ", ok_c_ ? "ok" : "not ok", ++tap_n);          \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		if (!ok_c_) {                                                  \
			tap_failed++;                                          \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                              \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *is_g_ = (got), *is_w_ = (want);                    \
		int is_c_ = is_g_ && is_w_ ? strcmp(is_g_, is_w_) == 0 : is_g_ == is_w_; \
		ok(is_c_, __VA_ARGS__);                                        \
		if (!is_c_)                                                    \
			printf("#   got:  '%s'\n#   want: '%s'\n", is_g_ ? is_g_ : "(null)", \
			       is_w_ ? is_w_ : "(null)");                      \
	} while (0)

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long is_g_ = (long long)(got), is_w_ = (long long)(want);   \
		ok(is_g_ == is_w_, __VA_ARGS__);                               \
		if (is_g_ != is_w_)                                            \
			printf("#   got:  %lld\n#   want: %lld\n", is_g_, is_w_); \
	} while (0)

/*
 * A fresh folder "$TMPDIR/NAME.XXXXXX" (TMPDIR default /tmp; the suite sets it
 * to a folder of its own, which the leftovers test finds empty at the end)
 * written into buf; NULL (and buf "") when it cannot be made.
 */
static inline char *tap_tmpdir(char *buf, size_t n, const char *name)
{
	const char *t = getenv("TMPDIR");
	if (!t || !*t)
		t = "/tmp";
	mkdir(t, 0755); /* the suite's folder, the first time */
	if ((size_t)snprintf(buf, n, "%s/%s.XXXXXX", t, name) >= n || !mkdtemp(buf)) {
		buf[0] = '\0'; /* nothing made: nothing to remove */
		return NULL;
	}
	return buf;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
