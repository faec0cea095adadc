/* env.c - the numbers duckmig reads from its environment (see env.h). */
#include "util/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

/* Every numeric variable and the values it may take; docs name the
 * defaults, which stay where each is used. */
static const struct {
    const char *name;
    uint64_t min, max;
} vars[] = {
    /* clamped to DM_MAX_THREADS where used */
    {"DUCKMIG_THREADS", 1, 1024},
    {"DUCKMIG_RETRY_BASE_MS", 0, 60000},
    {"DUCKMIG_METRICS_INTERVAL", 1, 86400},
    {"DUCKMIG_SECRET_TTL", 1, 366 * 86400},
    {"DUCKMIG_LOCK_WAIT", 0, 7 * 86400},
    {"DUCKMIG_MAX_ATTEMPTS", 1, 1000},
    {"DUCKMIG_CONNECT_ATTEMPTS", 1, 1000000},
    {"DUCKMIG_STOP_TIMEOUT", 0, 86400},
    /* ECS's range */
    {"DUCKMIG_PROTECTION_MINUTES", 1, 2880},
    {"DUCKMIG_REUSE_BELOW", 0, UINT64_MAX},
    {"DUCKMIG_VIEW_ROWS", 1, UINT64_MAX},
    {"DUCKMIG_BATCH_ROWS", 0, UINT64_MAX},
    {"DUCKMIG_BATCH_BYTES", 1, UINT64_MAX},
    /* S3's max-keys: at most 1000 */
    {"DUCKMIG_S3_LIST_PAGE", 1, 1000},
    {"DUCKMIG_S3_CONCURRENCY", 1, 1024},
    {"DUCKMIG_S3_PART_SIZE", 1, UINT64_MAX},
    {"DUCKMIG_S3_MULTIPART_THRESHOLD", 1, UINT64_MAX},
    {"DUCKMIG_S3_ATTEMPTS", 1, 1000},
    {"DUCKMIG_S3_STALL_SECONDS", 1, 86400},
    /* AMQP's heartbeat is 16 bits */
    {"RABBIT_HEARTBEAT", 1, 65535},
    {"BIG_FILE_THRESHOLD", 1, UINT64_MAX},
};
#define N_VARS (sizeof(vars) / sizeof(*vars))

/* The value of vars[i]: false when it is unset, empty or refused. */
static bool value_of(size_t i, uint64_t *out, bool *set)
{
    const char *v = getenv(vars[i].name);
    *set = v && *v;
    return *set && dm_parse_u64_in(v, vars[i].min, vars[i].max, out);
}

enum dm_code dm_env_check(struct dm_error *err)
{
    for (size_t i = 0; i < N_VARS; i++) {
        uint64_t v;
        bool set;
        if (!value_of(i, &v, &set) && set)
            return dm_fail(err, DM_ERR_USAGE,
                           "%s=%.64s: not a whole number from %llu to %llu",
                           vars[i].name, getenv(vars[i].name),
                           (unsigned long long)vars[i].min,
                           (unsigned long long)vars[i].max);
    }
    return DM_OK;
}

uint64_t dm_env_u64(const char *name, uint64_t def)
{
    for (size_t i = 0; i < N_VARS; i++) {
        uint64_t v;
        bool set;
        if (strcmp(vars[i].name, name) == 0)
            return value_of(i, &v, &set) ? v : def;
    }
    fprintf(stderr, "duckmig: bug: %s is not a listed number (env.c)\n", name);
    abort();
}
