/* threads.c - how many threads one migration may keep busy. */
#include "util/threads.h"

#include <stdint.h>
#include <unistd.h>

#include "util/settings.h"

size_t dm_thread_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t n = dm_setting_given(DM_SET_THREADS)
                     ? dm_setting_u64(DM_SET_THREADS)
                 : cpus < 1 ? 1
                            : (uint64_t)cpus;
    return n > DM_MAX_THREADS ? DM_MAX_THREADS : (size_t)n;
}
