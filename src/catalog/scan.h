/*
 * scan.h - a table's rows, read through the engine that holds them: the
 * migration's copy (rows to a writer's socket) and the fingerprints that
 * verification compares.
 */
#ifndef DM_CATALOG_SCAN_H
#define DM_CATALOG_SCAN_H

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "util/error.h"

/*
 * Read t's stored columns through e (see dm_engine_scan for flags, fn and
 * print; with DM_SCAN_CHUNKS the rows go to peer, a writer's socket). A
 * release that cannot stream (0.6, 0.7; 0.8 a table with a LIST, which
 * it streams wrong) would hold the whole table in memory, so it is read
 * in ranges (dm_engine_scan_ranges) of about
 * $DUCKMIG_BATCH_BYTES encoded bytes, or $DUCKMIG_BATCH_ROWS rows when
 * that is set; two ranges are in memory at a time.
 */
enum dm_code dm_scan_table(struct dm_engine *e, const struct dm_cat_table *t,
                           unsigned flags, int peer, dm_scan_fn fn, void *ctx,
                           struct dm_table_print *print, struct dm_error *err);

/* Fingerprint table t of the database open in e: every stored column, in
 * column groups on threads where the release streams. An empty table
 * prints empty columns. */
enum dm_code dm_table_fingerprint(struct dm_engine *e,
                                  const struct dm_cat_table *t,
                                  struct dm_table_print *out,
                                  struct dm_error *err);

#endif
