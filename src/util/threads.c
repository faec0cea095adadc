/* threads.c - how many threads one migration may keep busy. */
#include "util/threads.h"

#include <stdlib.h>
#include <unistd.h>

size_t dm_thread_count(void)
{
    const char *env = getenv("DUCKMIG_THREADS");
    long n = env && *env ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > DM_MAX_THREADS ? DM_MAX_THREADS : (size_t)n;
}
