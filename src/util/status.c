/* status.c - the names of file statuses (see status.h). */
#include "util/status.h"

#include <stddef.h>
#include <string.h>

static const char *const names[DM_STATUS_COUNT] = {
    [DM_STATUS_FAILED] = "failed",
    [DM_STATUS_MIGRATED] = "migrated",
    [DM_STATUS_ALREADY_AT_TARGET] = "already_at_target",
    [DM_STATUS_ALREADY_DONE] = "already_done",
    [DM_STATUS_INCOMPLETE] = "incomplete",
    [DM_STATUS_SKIPPED] = "skipped",
    [DM_STATUS_QUEUED] = "queued",
    [DM_STATUS_RUNNING] = "running",
    [DM_STATUS_REQUEUED] = "requeued",
    [DM_STATUS_MATCH] = "match",
    [DM_STATUS_CHANGED] = "changed",
    [DM_STATUS_DIFFERENT] = "different",
};

const char *dm_status_name(enum dm_status s)
{
    return (unsigned)s < DM_STATUS_COUNT ? names[s] : "failed";
}

bool dm_status_parse(const char *name, enum dm_status *out)
{
    for (size_t i = 0; name && i < DM_STATUS_COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum dm_status)i;
            return true;
        }
    return false;
}

bool dm_status_done(enum dm_status s)
{
    switch (s) {
    case DM_STATUS_MIGRATED:
    case DM_STATUS_ALREADY_AT_TARGET:
    case DM_STATUS_ALREADY_DONE:
    case DM_STATUS_INCOMPLETE:
    case DM_STATUS_MATCH:
    case DM_STATUS_CHANGED:
        return true;
    default:
        return false;
    }
}
