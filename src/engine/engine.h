/*
 * engine.h - talk to one DuckDB release running in a worker process.
 *
 * Two DuckDB releases cannot share an address space, so every release runs
 * in a process of its own (`duckmig __engine`, worker.c) and this module
 * is the parent's handle on it. A migration holds two handles: a reader
 * on the source's release and a writer on the target's.
 *
 *   struct dm_engine *e;
 *   dm_engine_start("0.6.1", &e, &err);         spawn + dlopen
 *   dm_engine_open(e, path, DM_OPEN_READ_ONLY, NULL, 0, &err);
 *   dm_engine_query(e, "SELECT ...", &rows, &err);   small results
 *   dm_engine_query_each(e, sql, fn, ctx, &err);     streamed, per batch
 *   dm_engine_stop(e);                           QUIT, reap, free
 *
 * A worker that dies is reported as DM_ERR_PROTOCOL naming the release and
 * the signal; the handle is then dead and only dm_engine_stop() is valid.
 */
#ifndef DM_ENGINE_ENGINE_H
#define DM_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/vec.h"
#include "engine/wire.h"
#include "util/error.h"

struct dm_engine;

/* A materialized result: cells[r * ncols + c], NULL for SQL NULL. */
struct dm_rows {
    size_t ncols;
    size_t nrows;
    char **names;
    char **cells;
    uint64_t rows_changed;
};

void dm_rows_free(struct dm_rows *rows);
/* The cell at (row, col), or NULL for SQL NULL / out of range. */
const char *dm_rows_get(const struct dm_rows *rows, size_t row, size_t col);

/*
 * Called once per batch of rows: cells holds nrows * ncols values, row
 * major, NULL for SQL NULL. Return non-zero to stop; the value is returned
 * from dm_engine_query_each (after the worker's result is drained).
 */
typedef int (*dm_rows_fn)(void *ctx, size_t ncols, char *const *names,
                          size_t nrows, char *const *cells);

struct dm_setting {
    const char *name;
    const char *value;
};

/*
 * Spawn a worker for release ("0.6.1"); the engine must be installed. The
 * worker is killed when the thread that started it ends (the kernel's
 * parent-death signal), so start it on a thread that outlives its use.
 */
enum dm_code dm_engine_start(const char *release, struct dm_engine **out,
                             struct dm_error *err);

const char *dm_engine_release(const struct dm_engine *e);
/* Does the release stream results (0.8+), or materialize them (0.6, 0.7)? */
bool dm_engine_streams(const struct dm_engine *e);
/* Does it stream a LIST wrong (0.8: its worker materializes a result
 * with a LIST instead, so a table with one is best read in ranges)? */
bool dm_engine_streams_lists_wrong(const struct dm_engine *e);

/* The worker's process id, for logs and for tests that kill it. */
int dm_engine_pid(const struct dm_engine *e);
/* What the library says of itself, e.g. "v0.6.1". */
const char *dm_engine_library_version(const struct dm_engine *e);

/*
 * Open (or create) a database file; ":memory:" for none. flags from
 * enum dm_open_flags; settings are DuckDB config options set before open.
 */
enum dm_code dm_engine_open(struct dm_engine *e, const char *path,
                            unsigned flags, const struct dm_setting *settings,
                            size_t nsettings, struct dm_error *err);

enum dm_code dm_engine_query(struct dm_engine *e, const char *sql,
                             struct dm_rows **out, struct dm_error *err);
enum dm_code dm_engine_query_each(struct dm_engine *e, const char *sql,
                                  dm_rows_fn fn, void *ctx,
                                  struct dm_error *err);
/* Run statements, discarding any rows. */
enum dm_code dm_engine_exec(struct dm_engine *e, const char *sql,
                            struct dm_error *err);
/*
 * Run sql only if the release's own parser reads it as exactly one
 * statement (several are refused before any runs): how duckmig runs
 * every statement it builds, so that nothing a name or a stored
 * definition holds can add a statement of its own.
 */
enum dm_code dm_engine_exec_one(struct dm_engine *e, const char *sql,
                                struct dm_error *err);
/*
 * The names of the release's own macros (what a blank database lists in
 * duckdb_functions()), one column; no database need be open. A worker
 * forked by a zygote knows them already (zygote.c).
 */
enum dm_code dm_engine_builtin_macros(struct dm_engine *e, struct dm_rows **out,
                                      struct dm_error *err);

enum dm_code dm_engine_query_one(struct dm_engine *e, const char *sql,
                                 struct dm_rows **out, struct dm_error *err);

/* The columns of a SCAN: names and canonical type trees. */
struct dm_scan_schema {
    size_t ncols;
    char **names;
    struct dm_type_node *types;
};

/*
 * Called with the schema once, before any row is sent. Return non-zero to
 * abort: the worker is then killed, since it cannot be stopped
 * mid-result, and the handle is dead.
 */
typedef int (*dm_scan_fn)(void *ctx, const struct dm_scan_schema *schema);

/* SCAN's flags (enum dm_scan_flags) are in wire.h: both sides use them. */

/*
 * Run a query in the worker; fn (may be NULL) gets the schema. With
 * DM_SCAN_PRINT the worker fingerprints every column of what it read
 * (hashing where the data already is) and print (may be NULL otherwise)
 * receives row count and fingerprints. DM_SCAN_CHUNKS needs a peer, so
 * it is for dm_engine_scan_ranges.
 */
enum dm_code dm_engine_scan(struct dm_engine *e, const char *sql,
                            unsigned flags, dm_scan_fn fn, void *ctx,
                            struct dm_table_print *print, struct dm_error *err);

/*
 * How a release that cannot stream (0.6, 0.7) reads a table: in ranges
 * (LIMIT/OFFSET, on one thread) of `rows` rows each, or when rows is 0 of
 * about `bytes` of encoded data each (the worker sizes them from the rows
 * it has seen); the table has at most last_rowid + 1 rows.
 */
struct dm_scan_ranges {
    uint64_t last_rowid;
    uint64_t rows, bytes;
    int peer; /* with DM_SCAN_CHUNKS: where the rows go (the worker gets
               * its own copy of the socket; the caller closes this one) */
};

/*
 * dm_engine_scan of sql ("SELECT ... FROM table", no WHERE, LIMIT or
 * ORDER BY) in ranges; the worker reads the next range while it sends
 * one, and the caller sees one result. A release that streams runs sql
 * whole.
 */
enum dm_code dm_engine_scan_ranges(struct dm_engine *e, const char *sql,
                                   const struct dm_scan_ranges *ranges,
                                   unsigned flags, dm_scan_fn fn, void *ctx,
                                   struct dm_table_print *print,
                                   struct dm_error *err);

/*
 * Fingerprint the results of n queries at once, each on its own thread of
 * the worker (column groups of one table: they must agree on the row
 * count); print gets their columns in query order.
 */
enum dm_code dm_engine_print(struct dm_engine *e, char *const *sqls, size_t n,
                             struct dm_table_print *print,
                             struct dm_error *err);

/*
 * Append a reader's rows to schema.table: begin names the columns (the
 * table's stored, non-generated columns, in order) and their source
 * types, and hands the writer peer, a socket whose other end goes to the
 * reader's scan (DM_SCAN_CHUNKS); the worker checks the columns fit the
 * table. The rows then flow from reader to writer, side by side, without
 * passing through duckmig; end waits for the writer and reports the rows
 * appended or the first failure (the reader reports its own).
 */
enum dm_code dm_engine_append_begin(struct dm_engine *e, const char *schema,
                                    const char *table, size_t ncols,
                                    char *const *columns,
                                    const struct dm_type_node *types, int peer,
                                    struct dm_error *err);
enum dm_code dm_engine_append_end(struct dm_engine *e, uint64_t *rows,
                                  struct dm_error *err);

void dm_scan_schema_release(struct dm_scan_schema *s);

/* Ask the worker to quit, reap it (killing it if it hangs), free e. */
void dm_engine_stop(struct dm_engine *e);

#endif
