/*
 * outcome.h - the one JSON contract of every command's --json and
 * --report (docs/json.md): each document and each file's outcome carries
 * "schema_version" (DM_JSON_SCHEMA_VERSION) and the command that made
 * it, and a file's outcome has the same keys whether migrate, batch,
 * verify or consume made it, so that one script reads them all. A key is
 * never renamed or given another meaning without a new schema_version.
 */
#ifndef DM_FLEET_OUTCOME_H
#define DM_FLEET_OUTCOME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/status.h"

#define DM_JSON_SCHEMA_VERSION 1

/* One file's outcome (docs/json.md, "A file's outcome"). */
struct dm_file_outcome {
    const char *command;     /* "migrate", "batch", "verify", "consume" */
    const char *source;      /* a path, key or URI; may be NULL */
    const char *destination; /* may be NULL */
    enum dm_status status;
    enum dm_code code;
    const char *error;                            /* NULL or "" when none */
    uint64_t source_storage, destination_storage; /* 0: not known */
    uint64_t source_size, destination_size;
    double seconds;
    json_t *report; /* borrowed; NULL: null */
};

/* {"schema_version": 1, "command": command}: the start of a document. */
json_t *dm_json_document(const char *command);

/* A file's outcome as its JSON object (a new reference; NULL on OOM). */
json_t *dm_file_outcome_json(const struct dm_file_outcome *o);

/* The releases that write a storage version, as one name: "0.8.1", a
 * range "0.8.0-0.8.1", or "storage N" for a version duckmig does not
 * know. */
void dm_storage_release_name(uint64_t storage, char *out, size_t cap);

/* Print doc on stdout as one compact line. */
enum dm_code dm_json_print(json_t *doc, struct dm_error *err);

/* --report FILE: doc written to path whole or not at all (a temporary
 * file beside it, fsync'd, renamed into place). */
enum dm_code dm_json_write_report(const char *path, json_t *doc,
                                  struct dm_error *err);

#endif
