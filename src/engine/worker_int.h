/*
 * worker_int.h - state shared by the engine worker's request handlers
 * (worker.c: open/query/quit; worker_data.c: scan/append of table data).
 */
#ifndef DM_ENGINE_WORKER_INT_H
#define DM_ENGINE_WORKER_INT_H

#include "engine/api.h"
#include "engine/wire.h"

struct worker {
    struct dm_duckdb_api api;
    dm_ddb_database db;
    dm_ddb_connection con;
    struct dm_wbuf out;
    int fd;
    int major, minor; /* the loaded release, for its type numbering */
};

enum dm_code worker_send_error(struct worker *w, enum dm_code code,
                               const char *msg);

/* SCAN(sql): SCHEMA, CHUNK*, DONE | ERROR */
enum dm_code worker_handle_scan(struct worker *w, struct dm_wcur *c);

/*
 * APPEND(schema, table, n, n x (column, type tree)): OK | ERROR, then the
 * parent sends CHUNK* and END, answered by DONE(rows) | ERROR.
 */
enum dm_code worker_handle_append(struct worker *w, struct dm_wcur *c);

#endif
