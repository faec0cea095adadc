/*
 * migrate_int.h - the parts of a migration, shared by the files of
 * src/migrate/ only: the destination's temporary home (staging.c), the
 * macros 0.6-0.8 keep only in EXPORT (export.c), the target's objects
 * built and created in dependency order (schema.c), and a table's rows
 * streamed from reader to writer (copy.c).
 */
#ifndef DM_MIGRATE_MIGRATE_INT_H
#define DM_MIGRATE_MIGRATE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "catalog/report.h"
#include "engine/engine.h"
#include "migrate/ddl.h"
#include "util/error.h"

/* ---- staging.c ---------------------------------------------------------- */

struct staging {
    char dir[PATH_MAX];                 /* DST's folder/.duckmig-XXXXXX */
    char path[PATH_MAX + NAME_MAX + 2]; /* dir/<DST's file name> */
    char final[PATH_MAX];
    char stem[NAME_MAX + 1]; /* catalog name: file name without extension */
    char lock_path[PATH_MAX + NAME_MAX + 16]; /* the lock beside DST */
    int lock_fd;     /* held: this migration writes DST */
    int dir_lock_fd; /* held: this migration owns dir */
};

/*
 * Take DST's lock (waiting for another migration of it, within a limit),
 * remove the staging folders of dead migrations beside it, and make one.
 */
enum dm_code staging_create(struct staging *s, const char *dst,
                            struct dm_error *err);
/* fsync the file, rename it to DST (over it only when replace; a DST
 * that appeared meanwhile is refused otherwise), fsync DST's folder. */
enum dm_code staging_publish(struct staging *s, bool replace,
                             struct dm_error *err);
/* Remove the staging folder and what is in it; release DST's lock. */
void staging_remove(struct staging *s);

/* ---- schema.c ----------------------------------------------------------- */

/* The source's objects, as the target created them. */
struct plan {
    size_t ntables;
    bool *created; /* per source table: it exists in the target */
    size_t *order; /* tables in the order they were created */
    size_t ncreated;
};

/*
 * Create the source's schemas, types, sequences, then tables, macros and
 * views in dependency order (each kind retried until no more can be
 * created), in the writer. What cannot be built or is refused goes in
 * the report, named with the reason; changes made to keep the old
 * meaning are noted there too.
 */
enum dm_code schema_create(struct dm_engine *writer, const struct dm_ddl *d,
                           const struct dm_catalog *src, struct plan *plan,
                           struct dm_report *r, struct dm_error *err);
/* Indexes last; a resource failure (memory, disk) fails the migration,
 * for a retry: a file is never shipped without an index it could hold. */
enum dm_code create_indexes(struct dm_engine *writer, const struct dm_ddl *d,
                            const struct dm_catalog *src, struct dm_report *r,
                            struct dm_error *err);
void plan_release(struct plan *plan);

/* ---- copy.c ------------------------------------------------------------- */

/*
 * Copy one table's rows from reader to writer, fingerprinting them on the
 * reader's side into print.
 */
enum dm_code copy_table(struct dm_engine *reader, struct dm_engine *writer,
                        const struct dm_cat_table *t,
                        struct dm_table_print *print, struct dm_error *err);

/* What a long migration is doing (progress.c). */
struct progress {
    const char *name; /* the source, as the log names it */
    size_t tables, tables_total;
    uint64_t rows;
    bool rows_known;    /* 1.x sources copy in DuckDB: rows not counted */
    double every, last; /* seconds between log lines; the last one */
    bool tty, drawn;
};

void progress_start(struct progress *p, const char *name, size_t tables);
/* Say where the migration is (step: "copying main.t", "verifying"). */
void progress_note(struct progress *p, const char *step);
/* Clear the terminal's line, before the result is printed. */
void progress_end(struct progress *p);

#endif
