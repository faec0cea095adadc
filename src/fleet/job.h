/*
 * job.h - one fleet job, the seed's consumer steps for one message:
 * download the source into the job's own folder, read its version from
 * the header, skip what is already done, migrate (or take the file as it
 * is when it is already at the target), upload the result to the
 * destination. The folder is made and removed by whoever runs the job
 * (fleet/runner.h), also when the job is killed.
 *
 * Redelivery is safe: when the destination already holds a file at the
 * target's storage version that verifies against the source (catalog and
 * every column's fingerprint), the job reports "already_done" and writes
 * nothing. Destinations are only ever written whole (store.h), and never
 * over their own source, except in the in-place form, which keeps the
 * original beside the new file (job.c says how, step by step).
 */
#ifndef DM_FLEET_JOB_H
#define DM_FLEET_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "fleet/message.h"
#include "util/error.h"
#include "util/status.h"

struct dm_job_outcome {
    enum dm_status status;
    bool permanent; /* a failure that no retry can fix: dead-letter it */
    enum dm_code code;
    char error[DM_ERROR_MSG_MAX];
    char src_version[32], dst_version[32];
    uint64_t src_storage, dst_storage; /* 0: not known */
    uint64_t src_size, dst_size;
    double seconds;
    json_t *verification; /* the report's summary, or NULL */
};

/* Run job in dir, an empty folder of its own that the caller made and
 * removes; target as migrate's --to. Always fills out; the return value
 * is out->code. */
enum dm_code dm_job_run(const struct dm_job_spec *job, const char *dir,
                        const char *target, struct dm_job_outcome *out);

/* The outcome in the JSON contract (fleet/outcome.h), command
 * "consume", without source and destination, which the caller sets; it
 * is also what a job process prints for its parent. */
json_t *dm_job_outcome_json(const struct dm_job_outcome *o);
enum dm_code dm_job_outcome_parse(json_t *j, struct dm_job_outcome *o);
void dm_job_outcome_release(struct dm_job_outcome *o);

struct dm_store;
/* The store behind a message's datastore: an S3 bucket, or the EFS root
 * (MIGRATE_DST when as_dest, else MIGRATE_SRC). */
enum dm_code dm_datastore_open(enum dm_datastore ds, const char *bucket,
                               bool as_dest, struct dm_store **out,
                               struct dm_error *err);

/* Is accept (DUCKMIG_ACCEPT_INCOMPLETE: classes of incomplete results
 * that are shipped, docs/fleet.md) a list duckmig knows? DM_ERR_USAGE
 * naming the class it does not. */
enum dm_code dm_job_accept_check(const char *accept, struct dm_error *err);

/* Failures that retrying cannot fix (bad message, bad file, unsupported,
 * verification mismatch, ...). */
bool dm_code_permanent(enum dm_code code);

#endif
