/*
 * status.h - what became of one file: the one list of the statuses that
 * commands print (--json, docs/json.md), the ledger keeps and metrics
 * count. A status travels as this enum inside duckmig and as its name
 * everywhere else (JSON, the ledger's rows, a job child's answer to its
 * parent), so the names below are part of the interface: never rename
 * one.
 */
#ifndef DM_UTIL_STATUS_H
#define DM_UTIL_STATUS_H

#include <stdbool.h>

enum dm_status {
    DM_STATUS_FAILED = 0, /* the zero value: nothing said otherwise */
    DM_STATUS_MIGRATED,
    DM_STATUS_ALREADY_AT_TARGET, /* taken as it is: nothing to migrate */
    DM_STATUS_ALREADY_DONE,      /* the destination holds it, verified */
    DM_STATUS_INCOMPLETE,        /* written; some objects not carried */
    DM_STATUS_SKIPPED,           /* not a file duckmig migrates */
    /* the ledger's rows */
    DM_STATUS_QUEUED,   /* published, not started */
    DM_STATUS_RUNNING,  /* a consumer started it */
    DM_STATUS_REQUEUED, /* failed, to be tried again */
    /* `verify` of two files */
    DM_STATUS_MATCH,
    DM_STATUS_CHANGED, /* matches, but computes differently (named) */
    DM_STATUS_DIFFERENT,
};
#define DM_STATUS_COUNT (DM_STATUS_DIFFERENT + 1)

/* Its name: "migrated", "already_at_target", ... */
const char *dm_status_name(enum dm_status s);

/* The status called name; false when there is none. */
bool dm_status_parse(const char *name, enum dm_status *out);

/* A file in this status needs nothing more: migrated, already at the
 * target or done, incomplete (and let through), matching or changed. */
bool dm_status_done(enum dm_status s);

#endif
