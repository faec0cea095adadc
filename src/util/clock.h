/* clock.h - the one monotonic clock that durations and deadlines read. */
#ifndef DM_UTIL_CLOCK_H
#define DM_UTIL_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
double dm_clock_now(void);

#endif
