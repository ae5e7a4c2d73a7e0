/* SPDX-License-Identifier: MIT */
/* Unit tests for common/clock.c: ed_now_ms() reads the monotonic clock in milliseconds. */
#include <time.h>

#include "ed/clock.h"
#include "tap.h"

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
	/* The same clock: not the wall clock (ms since 1970), not seconds, not microseconds. */
	long long before = monotonic_ms(), now = ed_now_ms(), after = monotonic_ms();
	ok(before <= now && now <= after, "reads CLOCK_MONOTONIC in ms (%lld <= %lld <= %lld)", before,
	   now, after);

	/* Never goes back, over many readings. */
	long long prev = ed_now_ms(), back = 0;
	for (int i = 0; i < 200000; i++) {
		long long t = ed_now_ms();
		if (t < prev)
			back++;
		prev = t;
	}
	is_int(back, 0, "200000 readings never go back");

	/* A sleep of 120 ms shows as at least 120 ms (and not as seconds). */
	long long t0 = ed_now_ms();
	struct timespec nap = {0, 120 * 1000000L};
	while (nanosleep(&nap, &nap) != 0)
		;
	long long took = ed_now_ms() - t0;
	ok(took >= 120, "a 120 ms sleep takes at least 120 ms (%lld)", took);
	ok(took < 60000, "and is counted in ms, not finer (%lld)", took);
	return tap_done();
}
