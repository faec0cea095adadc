/*
 * batch.h - the fleet on one machine (`duckmig batch`): every *.duckdb
 * under SRC migrated into the same place under DST by N jobs at a time,
 * each the consumer's own job in a child process, with no broker, no
 * database and no cloud account. Here so that the command is only its
 * options; the rules for SRC and DST are fleet/batch.c's header comment.
 */
#ifndef DM_FLEET_BATCH_H
#define DM_FLEET_BATCH_H

#include <stdbool.h>

#include "util/error.h"

#define DM_BATCH_MAX_JOBS 256 /* --jobs at most */

struct dm_batch_opts {
    const char *src, *dst;     /* as typed; in place, dst is src */
    const char *to;            /* --to; NULL: DUCKDB_MIGRATE_VERSION */
    long jobs;                 /* files at a time, 1 to DM_BATCH_MAX_JOBS */
    const char *backup_suffix; /* --in-place: the originals' suffix; NULL
                                * for a batch from SRC into DST */
    bool json;                 /* the summary as JSON on stdout */
    const char *report_path;   /* --report; or NULL */
    bool dry_run;              /* the plan only (fleet/plan.h) */
};

/*
 * Check, list, run the jobs, print the summary (or the plan). DM_OK when
 * every file is done; DM_ERR_GENERIC when any failed or was skipped (each
 * said already); else the failure, in err.
 */
enum dm_code dm_batch_run(const struct dm_batch_opts *o, struct dm_error *err);

/* After dm_batch_run, and its error said: when SIGINT or SIGTERM stopped
 * the batch, end the process by that signal, so that the shell learns
 * what stopped it; else return. */
void dm_batch_exit_if_stopped(void);

#endif
