/*
 * plan.h - `batch --dry-run`: what a batch would do, from headers alone,
 * before anything is downloaded or written (pg_upgrade's --check).
 *
 * Every *.duckdb under SRC is listed, and only its first DM_HEADER_SIZE
 * bytes are read (a ranged GET on S3, through the store's read_range):
 * the header gives the storage version, and with the listing's size it
 * tells a foreign or truncated file. Each file gets the action a batch
 * would take (migrate, already_at_target, destination_exists, resume,
 * skipped) and why; the plan counts files and bytes per source version
 * and says how much disk one task needs. Nothing is written anywhere:
 * no folder is made, no temporary file, not even under $TMPDIR.
 */
#ifndef DM_FLEET_PLAN_H
#define DM_FLEET_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"
#include "util/error.h"

struct dm_plan_opts {
    const char *src_arg, *dst_arg;       /* as the user wrote them */
    const struct dm_location *src, *dst; /* parsed, not yet datastores */
    const char *src_prefix, *dst_prefix; /* dm_location_folder's */
    const char *target;                  /* --to; NULL: the default */
    const char *backup_suffix;           /* --in-place; else NULL */
    long jobs;
};

/*
 * Make the plan as a JSON document (docs/json.md, "batch --dry-run") in
 * *doc; *would_skip says whether any file would be skipped. A file that
 * cannot be read is in the plan (skipped, with the reason); only a
 * listing that fails, or a bad target, fails the plan.
 */
enum dm_code dm_plan_make(const struct dm_plan_opts *o, json_t **doc,
                          bool *would_skip, struct dm_error *err);

/* The plan for a person: counts, versions, disk, and every file that
 * would not simply be migrated, with the reason. */
void dm_plan_print(json_t *doc, FILE *out);

#endif
