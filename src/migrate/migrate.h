/*
 * migrate.h - rewrite a DuckDB file with another release, and prove it.
 *
 * Files older than 0.9 (storage < 64) are read by their own release in a
 * reader worker; the target release runs in a writer worker. The plan is
 * built from the source catalog (catalog.h): schemas, ENUM types,
 * sequences at their next value, then tables, macros and views in
 * dependency order (each retried until no more can be created), then the
 * data, streamed chunk by chunk from reader to writer, then indexes.
 * Files of 0.9 and later are copied by the target release alone (ATTACH +
 * COPY FROM DATABASE, which builds indexes after the data from 1.2 on).
 *
 * The destination is built in a temporary folder beside DST under DST's
 * file name (the catalog name views may mention), verified with a fresh
 * engine, and renamed into place only when verification passed. SRC and
 * its WAL are only ever opened read-only.
 */
#ifndef DM_MIGRATE_MIGRATE_H
#define DM_MIGRATE_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/registry.h"
#include "catalog/report.h"
#include "util/error.h"

struct dm_migrate_opts {
    const char *src;
    const char *dst;
    const char *to;              /* release; NULL: $DUCKDB_MIGRATE_VERSION,
                                    else the seed's 0.8.1 */
    const char *storage_version; /* 1.x targets: "v1.0.0" ... "v1.5.0" */
    bool force;                  /* migrate even when already at target;
                                    replace an existing DST */
    uint64_t view_rows;          /* verification's budget per view (0:
                                    the default, verify.h) */
    bool ignore_wal;             /* read SRC without a WAL its release
                                    cannot replay (named in the report) */
};

enum dm_migrate_status {
    DM_MIG_FAILED = 0,
    DM_MIG_MIGRATED,
    DM_MIG_ALREADY,    /* nothing written */
    DM_MIG_INCOMPLETE, /* written; some objects not carried (see report) */
};

struct dm_migrate_result {
    enum dm_migrate_status status;
    char src_release[DM_RELEASE_MAX];
    char dst_release[DM_RELEASE_MAX];
    uint64_t src_storage;
    uint64_t dst_storage;
    uint64_t src_size, dst_size;
    double seconds;
    /* where the time went: catalog + DDL, rows, indexes, verification */
    double t_schema, t_data, t_indexes, t_verify;
    struct dm_report report;
};

struct dm_header_info;
/*
 * Can a file whose headers are info (named name in messages) be migrated
 * to dst_release (storage dst_storage)? Refuses a bad checksum,
 * encryption, a release older than 0.6 or newer than the target, and a
 * version no installed engine opens; src_release receives that engine.
 * What migrate checks first, and what `batch --dry-run` predicts with.
 */
enum dm_code dm_migrate_check_source(const struct dm_header_info *info,
                                     const char *dst_release,
                                     uint64_t dst_storage, const char *name,
                                     char src_release[DM_RELEASE_MAX],
                                     struct dm_error *err);

enum dm_code dm_migrate(const struct dm_migrate_opts *o,
                        struct dm_migrate_result *res, struct dm_error *err);

#endif
