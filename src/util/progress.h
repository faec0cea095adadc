/*
 * progress.h - bytes moved so far, counted by a transfer (a store's get
 * or put, an S3 request) and read by a progress display on another
 * thread. Its own header so that the layers that count (aws, store) and
 * the ones that show (cmd) need nothing else of each other.
 */
#ifndef DM_UTIL_PROGRESS_H
#define DM_UTIL_PROGRESS_H

#include <stdatomic.h>
#include <stdint.h>

struct dm_progress {
    _Atomic uint64_t done;
    uint64_t total;
};

#endif
