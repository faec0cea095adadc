/*
 * worker_int.h - state shared by the engine worker's request handlers
 * (worker.c: open/query/quit; worker_data.c: scan; worker_print.c:
 * fingerprints; worker_append.c: append of table data; worker_types.c:
 * type trees).
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

/* ---- worker_data.c: what SCAN and PRINT share ---- */

/* What one SCAN is sending: the columns and what was sent so far. */
struct scan_out {
    struct dm_type_node *types;
    dm_idx_t ncols;
    uint32_t flags;
    struct dm_table_print print;
    uint64_t rows, bytes;
    struct dm_wbuf *buf; /* where chunks are encoded: w->out, or a thread's */
    int peer;            /* where they are sent: the writer's socket */
    bool failed;         /* an ERROR frame was sent: no DONE follows */
    /* on a thread of PRINT, failures are kept here instead of sent */
    bool quiet;
    enum dm_code code;
    char error[DM_ERROR_MSG_MAX];
};

/* Report a failure of this SCAN to the parent (ERROR frame), or keep it
 * in so when so->quiet. */
enum dm_code scan_fail(struct worker *w, struct scan_out *so, enum dm_code code,
                       const char *msg);

/* Start a query's result on con, streaming where the release can (and
 * reads it right) and may_stream; on failure, the message is in msg. */
bool scan_start_result(struct worker *w, dm_ddb_connection con, const char *sql,
                       bool may_stream, struct dm_ddb_result *res,
                       bool *streaming, char *msg, size_t msg_size);

/* Describe res's columns into so->types. */
enum dm_code scan_describe_result(struct worker *w, struct dm_ddb_result *res,
                                  struct scan_out *so);

/* Encode (and with DM_SCAN_CHUNKS send) every chunk of res. */
enum dm_code scan_send_chunks(struct worker *w, struct dm_ddb_result *res,
                              bool streaming, struct scan_out *so);

/* DONE(rows, fingerprints), from w->out. */
enum dm_code scan_send_done(struct worker *w, const struct scan_out *so);

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
