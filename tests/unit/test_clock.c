/* SPDX-License-Identifier: MIT */
/* Unit tests for common/clock.c: ed_now_ms() and ed_now_s() read the monotonic clock. */
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

	/* ed_now_s(): the same clock, in seconds with a fraction. */
	long long ms0 = ed_now_ms();
	double s = ed_now_s();
	long long ms1 = ed_now_ms();
	ok(s * 1000 >= (double)ms0 && s * 1000 < (double)ms1 + 1,
	   "ed_now_s() reads the same clock in seconds (%lld <= %.3f ms <= %lld)", ms0, s * 1000,
	   ms1);
	double s0 = ed_now_s();
	nap = (struct timespec){0, 20 * 1000000L};
	while (nanosleep(&nap, &nap) != 0)
		;
	double ds = ed_now_s() - s0;
	ok(ds >= 0.020 && ds < 60, "a 20 ms sleep shows as at least 0.020 s (%.6f)", ds);
	return tap_done();
}
