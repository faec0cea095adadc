/*
 * message.h - the four job messages (docs/fleet.md, "Messages"), read
 * and written. One message names one file: where it is, where its migration
 * goes.
 *
 *   S3 -> S3:   source_datastore, destination_datastore, source_bucket,
 *               destination_bucket, tracker-id, source_key, dest_key
 *   EFS -> EFS: source_datastore, destination_datastore, key
 *   S3 -> EFS:  source_datastore, destination_datastore, source_bucket,
 *               tracker-id, source_key, key
 *   EFS -> S3:  source_datastore, destination_datastore, key,
 *               destination_bucket, dest_key
 *
 * EFS keys resolve under MIGRATE_SRC (reading) and MIGRATE_DST (writing).
 * Parsing refuses, with a reason fit for the dead-letter queue: invalid
 * JSON, an unknown datastore, a missing field, a key that leaves its root.
 *
 * Two optional fields, which the seed's shapes do not have and which the
 * publisher never writes (`batch` does):
 *   dest_key       EFS -> EFS: the destination's key, when it is not the
 *                  source's ("key"); batch into another prefix
 *   backup_suffix  migrate the file where it is, keeping the original
 *                  beside it under key + suffix (batch --in-place; the
 *                  job's steps are in job.c); without it a job refuses a
 *                  destination that is its source
 */
#ifndef DM_FLEET_MESSAGE_H
#define DM_FLEET_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

enum dm_datastore { DM_DS_S3, DM_DS_EFS };

struct dm_job_spec {
    enum dm_datastore src, dst;
    char *src_bucket; /* S3 sources */
    char *src_key;
    char *dst_bucket; /* S3 destinations */
    char *dst_key;
    char *tracker;       /* may be NULL (EFS messages carry none) */
    char *backup_suffix; /* in place, keeping the original; usually NULL */
};

/* A suffix fit for backups: not empty, no '/' or control character, and
 * not ending with ".duckdb" or ".wal", so that no listing of *.duckdb (a
 * rerun of batch, a publish) takes a backup for a database. */
enum dm_code dm_backup_suffix_check(const char *suffix, struct dm_error *err);

enum dm_code dm_job_parse(const char *body, size_t len, struct dm_job_spec *job,
                          struct dm_error *err);

/* The message for job, in the seed's shape for its two datastores. */
char *dm_job_format(const struct dm_job_spec *job);

/* "s3://bucket/key" or "efs:key", for logs and the ledger. */
char *dm_job_source_uri(const struct dm_job_spec *job);
char *dm_job_dest_uri(const struct dm_job_spec *job);

void dm_job_release(struct dm_job_spec *job);

const char *dm_datastore_name(enum dm_datastore ds);

#endif
