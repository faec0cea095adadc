/*
 * wire.h - the framed protocol between duckmig and its engine workers.
 *
 * A frame is: u32 payload length (little-endian), u8 type, payload. The
 * payload is a sequence of fields: u32, u64, and strings (u32 length, then
 * bytes; length 0xffffffff encodes SQL NULL). Frames are built in a
 * dm_wbuf and read back with a dm_wcur that records the first overrun, so
 * a malformed frame is detected once, at the end, not at every field.
 *
 * Conversation (P = parent, W = worker):
 *   W: READY(library_version)                    once, after dlopen
 *   P: OPEN(flags, path, n, {key, value}*)  W: OK | ERROR(code, msg)
 *   P: QUERY(sql)   W: COLUMNS(n, name*) ROWS(nrows, ncols, cell*)*
 *                      DONE(rows_changed)  | ERROR(code, msg)
 *   P: STMT(sql)    W: as QUERY, or ERROR when sql is not exactly one
 *                      statement (as DuckDB's own parser splits it)
 *   P: SCAN(sql, flags, last_rowid, batch_rows, batch_bytes)
 *                        W: SCHEMA(n, {name, type}*)
 *                           DONE(rows, n, {fingerprint}*) | ERROR
 *   P: PRINT(n, sql*)    W: DONE(rows, n, {fingerprint}*) | ERROR
 *   P: APPEND(schema, table, n, {column, type}*)  W: OK | ERROR
 *                           then DONE(rows) | ERROR when the rows stop
 *   P: QUIT                                      worker exits 0
 * Table rows do not pass through the parent: it hands a reader's SCAN
 * (flag 1) and a writer's APPEND the two ends of a socket of their own
 * (SCM_RIGHTS, with the frame), and the reader sends CHUNK* END on it
 * straight to the writer. Either side closes its end when it stops, so
 * the other one learns of a failure or a death at once.
 */
#ifndef DM_ENGINE_WIRE_H
#define DM_ENGINE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum dm_wire_type {
    DM_W_READY = 1,
    DM_W_OPEN = 2,
    DM_W_OK = 3,
    DM_W_ERROR = 4,
    DM_W_QUERY = 5,
    DM_W_COLUMNS = 6,
    DM_W_ROWS = 7,
    DM_W_DONE = 8,
    DM_W_QUIT = 9,
    DM_W_SCAN = 10,     /* P: sql, flags (1: send chunks to the socket
                           SCAN brings, 2: fingerprint),
                           last rowid, rows and bytes per range */
    DM_W_SCHEMA = 11,   /* W: n, n x (name, type tree) */
    DM_W_CHUNK = 12,    /* reader to writer: count, ncols, vectors (vec.h) */
    DM_W_APPEND = 13,   /* P: schema, table, n, n x (column, type tree) */
    DM_W_END = 14,      /* reader to writer: no more chunks */
    DM_W_PRINT = 15,    /* P: n, n x sql: fingerprints of column groups */
    DM_W_STMT = 16,     /* P: sql, answered as QUERY: exactly one statement */
    DM_W_FORK = 17,     /* to a zygote (zygote.h): library, with the worker's
                           socket; OK(pid) | ERROR, later DONE(wait status);
                           QUIT from the client kills the worker */
    DM_W_BUILTINS = 18, /* P: the release's own macro names, answered as
                           QUERY (a zygote's workers know them already) */
};

#define DM_WIRE_NULL_LEN 0xffffffffu
/* SCAN's last_rowid when sql is to be run as it is, not in ranges */
#define DM_SCAN_WHOLE_TABLE UINT64_MAX
/* A frame larger than this is a protocol error, not a reason to OOM. */
#define DM_WIRE_MAX_FRAME (256u << 20)

enum dm_scan_flags {
    /* send the rows, as CHUNK frames (vec.h) then END, to the peer socket
     * of dm_scan_ranges: a writer's (dm_engine_append_begin), so that
     * they go from reader to writer without passing through duckmig */
    DM_SCAN_CHUNKS = 1 << 0,
    DM_SCAN_PRINT = 1 << 1, /* fingerprint them in the worker */
};

enum dm_open_flags {
    DM_OPEN_READ_ONLY = 1 << 0,
    /* fail (DM_ERR_DAMAGED) when the release reports that it could not
     * replay the file's WAL: 0.6-0.8 only print it, and open anyway */
    DM_OPEN_WAL_CHECK = 1 << 1,
};

struct dm_wbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool oom; /* an append failed; the frame must not be sent */
};

#define DM_WBUF_INIT                                                           \
    {                                                                          \
        NULL, 0, 0, false                                                      \
    }

void dm_wbuf_release(struct dm_wbuf *b);
/* Start a frame of the given type; clears the buffer. */
void dm_wbuf_begin(struct dm_wbuf *b, enum dm_wire_type type);
void dm_wbuf_u32(struct dm_wbuf *b, uint32_t v);
void dm_wbuf_u64(struct dm_wbuf *b, uint64_t v);
/* s may be NULL (encoded as SQL NULL). */
void dm_wbuf_str(struct dm_wbuf *b, const char *s);
void dm_wbuf_bytes(struct dm_wbuf *b, const void *p, size_t n);

/* Patch the length and write the whole frame to fd. */
enum dm_code dm_wire_send(int fd, struct dm_wbuf *b, struct dm_error *err);
/* The same, with the descriptor pass (>= 0) sent along (SCM_RIGHTS): the
 * receiver gets its own copy, and the caller still owns pass. */
enum dm_code dm_wire_send_fd(int fd, struct dm_wbuf *b, int pass,
                             struct dm_error *err);
/* The same with npass (<= DM_WIRE_MAX_FDS) descriptors: a job zygote's
 * client passes the job's stdin, stdout and stderr (fleet/jobzygote.c). */
#define DM_WIRE_MAX_FDS 4
enum dm_code dm_wire_send_fds(int fd, struct dm_wbuf *b, const int *pass,
                              size_t npass, struct dm_error *err);

/*
 * Read one frame into b (payload only, len set); *type gets its type.
 * EOF before a frame starts returns DM_ERR_PROTOCOL with "closed".
 */
enum dm_code dm_wire_recv(int fd, struct dm_wbuf *b, enum dm_wire_type *type,
                          struct dm_error *err);
/*
 * dm_wire_recv on a socket, where a frame may bring a descriptor: when
 * *passed is -1 it receives it (close-on-exec), else it is closed. A
 * descriptor that comes with a frame of dm_wire_recv is closed too.
 */
enum dm_code dm_wire_recv_fd(int fd, struct dm_wbuf *b, enum dm_wire_type *type,
                             int *passed, struct dm_error *err);
/* The same for up to max descriptors, into the places of passed[] that
 * are -1, in the order sent. */
enum dm_code dm_wire_recv_fds(int fd, struct dm_wbuf *b,
                              enum dm_wire_type *type, int *passed, size_t max,
                              struct dm_error *err);

struct dm_wcur {
    const uint8_t *p;
    size_t left;
    bool bad; /* a read ran past the end */
};

void dm_wcur_init(struct dm_wcur *c, const struct dm_wbuf *b);
/* The next n bytes, or NULL (and c->bad) when fewer are left. */
const uint8_t *dm_wcur_take(struct dm_wcur *c, uint64_t n);
uint32_t dm_wcur_u32(struct dm_wcur *c);
uint64_t dm_wcur_u64(struct dm_wcur *c);
/*
 * A string field: returns a malloc()ed NUL-terminated copy, or NULL for
 * SQL NULL; *is_null tells the two NULLs apart (may be NULL). On overrun
 * or OOM c->bad is set.
 */
char *dm_wcur_str(struct dm_wcur *c, bool *is_null);

#endif
