/* threads.h - how many threads one migration may keep busy. */
#ifndef DM_UTIL_THREADS_H
#define DM_UTIL_THREADS_H

#include <stddef.h>

#define DM_MAX_THREADS 16

/*
 * Threads for one job's appends (engine lanes) and fingerprints (column
 * groups): $DUCKMIG_THREADS, else the processors online, at most
 * DM_MAX_THREADS.
 */
size_t dm_thread_count(void);

#endif
