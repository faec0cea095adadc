/*
 * worker_int.h - state shared by the engine worker's request handlers
 * (worker.c: open/query/quit; worker_data.c: scan; worker_append.c:
 * append of table data).
 */
#ifndef DM_ENGINE_WORKER_INT_H
#define DM_ENGINE_WORKER_INT_H

#include "engine/api.h"
#include "engine/vec.h"
#include "engine/wire.h"

struct worker {
    struct dm_duckdb_api api;
    dm_ddb_database db;
    dm_ddb_connection con;
    struct dm_wbuf out;
    int fd;
    /* a descriptor the frame being handled brought (-1: none); a handler
     * that keeps it sets this to -1 */
    int passed;
    int major, minor; /* the loaded release, for its type numbering */
};

/* DuckDB's vector size, the same in every release duckmig loads */
#define DM_VECTOR_SIZE 2048

enum dm_code worker_send_error(struct worker *w, enum dm_code code,
                               const char *msg);

/* Describe a logical type of the loaded release as a canonical type tree. */
bool worker_describe(struct worker *w, dm_ddb_ltype lt, struct dm_type_node *n,
                     int depth);
void worker_release_types(struct dm_type_node *types, size_t n);

/* SCAN(sql, ...): SCHEMA, CHUNK*, DONE | ERROR */
enum dm_code worker_handle_scan(struct worker *w, struct dm_wcur *c);

/* PRINT(n, sql*): DONE(rows, fingerprints) | ERROR */
enum dm_code worker_handle_print(struct worker *w, struct dm_wcur *c);

/*
 * APPEND(schema, table, n, n x (column, type tree)): OK | ERROR, then the
 * parent sends CHUNK* and END, answered by DONE(rows) | ERROR.
 */
enum dm_code worker_handle_append(struct worker *w, struct dm_wcur *c);

#endif
