/*
 * verify.h - prove that a destination holds what its source holds, and
 * nothing else.
 *
 * Catalogs are compared both ways, object by object: an object only in
 * the destination is a difference like one only in the source. Schemas,
 * types with their labels, sequences with their next value, tables with
 * their columns, types, NOT NULL, DEFAULTs, generated columns and every
 * constraint (key columns exactly, the table and columns a foreign key
 * references, CHECK expressions), views, macros and indexes. Stored SQL
 * is compared by what DuckDB parses it to (catalog/ast.h), after giving
 * the source's SQL the meaning its release gave it.
 *
 * Then what definitions compute: each view's columns and an
 * order-independent fingerprint of its rows (up to a budget), each scalar
 * and table macro called on probe arguments, the values of generated
 * columns; and for every table its row count and a fingerprint of every
 * stored column, computed from the values' physical form (engine/vec.h)
 * so that the same value hashes alike whichever release holds it.
 */
#ifndef DM_VERIFY_VERIFY_H
#define DM_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/ast.h"
#include "catalog/catalog.h"
#include "catalog/report.h"
#include "engine/engine.h"
#include "util/error.h"

struct dm_verify_opts {
    uint64_t view_rows; /* 0: DUCKMIG_VIEW_ROWS */
    /* items a migration already reported as not carried: not reported
     * again as missing (may be NULL) */
    const struct dm_report *skip;
};

/*
 * Compare catalogs into r, both ways. ast parses the stored SQL of both
 * sides (one parser for both, so that they compare).
 */
void dm_verify_catalog(struct dm_ast *ast, const struct dm_catalog *src,
                       const struct dm_catalog *dst,
                       const struct dm_verify_opts *o, struct dm_report *r);

/*
 * Compare what views, macros and generated columns compute: es has the
 * source open, ed the destination (both read-only).
 */
enum dm_code dm_verify_computed(struct dm_engine *es, struct dm_engine *ed,
                                const struct dm_catalog *src,
                                const struct dm_catalog *dst,
                                const struct dm_verify_opts *o,
                                struct dm_report *r, struct dm_error *err);

/* Does src hold a view, a macro or a generated column? */
bool dm_verify_has_computed(const struct dm_catalog *src);

/* Compare one table's data prints into r. */
void dm_verify_table_data(const struct dm_cat_table *t,
                          const struct dm_table_print *src,
                          const struct dm_table_print *dst,
                          struct dm_report *r);

/*
 * Verify dst against src end to end: start the engines each file needs,
 * read both catalogs, compare them, what they compute and every table's
 * data.
 */
enum dm_code dm_verify_files(const char *src, const char *dst,
                             const struct dm_verify_opts *o,
                             struct dm_report *r, struct dm_error *err);

/*
 * Open path read-only with the release that reads it, fingerprint every
 * table and read every object (a file already at the target is accepted
 * only so): DM_ERR_DAMAGED names what could not be read.
 */
enum dm_code dm_verify_readable(const char *path, bool ignore_wal,
                                struct dm_report *r, struct dm_error *err);

#endif
