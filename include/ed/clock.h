/* SPDX-License-Identifier: MIT */
/* The monotonic clock, for deadlines and durations (never for dates). */
#ifndef ED_CLOCK_H
#define ED_CLOCK_H

/*
 * Milliseconds on CLOCK_MONOTONIC: they never go back, whatever is done to
 * the wall clock, and mean nothing but as a difference of two readings.
 */
long long ed_now_ms(void);

/* The same clock in seconds, to the nanosecond: for durations shown or added up. */
double ed_now_s(void);

#endif
