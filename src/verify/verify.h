/*
 * verify.h - prove that a destination holds what its source holds.
 *
 * Catalogs are compared object by object (schemas, types with their
 * labels, sequences with their next value, tables with columns, types,
 * NOT NULL, generated columns and constraints, views, macros, indexes),
 * and data table by table: the row count and an order-independent
 * fingerprint of every stored column, computed from the values' physical
 * form (engine/vec.h) so that the same value hashes alike whichever
 * release holds it.
 */
#ifndef DM_VERIFY_VERIFY_H
#define DM_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "migrate/catalog.h"
#include "migrate/report.h"
#include "util/error.h"

/* The SELECT list of t's stored (non-generated) columns: "a", "b". */
char *dm_stored_columns_sql(const struct dm_cat_table *t);

/* Default encoded bytes per range ($DUCKMIG_BATCH_BYTES). */
#define DM_SCAN_BATCH_BYTES (128u << 20)

/*
 * Read t's stored columns through e (see dm_engine_scan for flags, fn and
 * print; with DM_SCAN_CHUNKS the rows go to peer, a writer's socket). A
 * release that cannot stream (0.6, 0.7) would hold the whole table in
 * memory, so it is read in ranges (dm_engine_scan_ranges) of about
 * $DUCKMIG_BATCH_BYTES encoded bytes, or $DUCKMIG_BATCH_ROWS rows when
 * that is set; two ranges are in memory at a time.
 */
enum dm_code dm_scan_table(struct dm_engine *e, const struct dm_cat_table *t,
                           unsigned flags, int peer, dm_scan_fn fn, void *ctx,
                           struct dm_table_print *print, struct dm_error *err);

/* Fingerprint table t of the database open in e. */
enum dm_code dm_table_fingerprint(struct dm_engine *e,
                                  const struct dm_cat_table *t,
                                  struct dm_table_print *out,
                                  struct dm_error *err);

/*
 * Compare catalogs into r. skip (may be NULL) holds items a migration
 * already reported as not carried: they are not reported again as missing.
 */
void dm_verify_catalog(const struct dm_catalog *src,
                       const struct dm_catalog *dst,
                       const struct dm_report *skip, struct dm_report *r);

/* Compare one table's data prints into r. */
void dm_verify_table_data(const struct dm_cat_table *t,
                          const struct dm_table_print *src,
                          const struct dm_table_print *dst,
                          struct dm_report *r);

/*
 * Verify dst against src end to end: start the engines each file needs,
 * read both catalogs, fingerprint every table on both sides.
 */
enum dm_code dm_verify_files(const char *src, const char *dst,
                             struct dm_report *r, struct dm_error *err);

#endif
