/*
 * worker_data.c - table data out of a DuckDB release, as encoded vectors
 * (vec.h): SCAN reads a query's result chunk by chunk (worker_append.c
 * is the way in; worker_print.c reads the same way for PRINT, and
 * worker_types.c describes the columns). This is where DuckDB's vector
 * memory is touched, so it runs only in the worker.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/vec.h"
#include "engine/worker_int.h"
#include "release/release.h"
#include "util/str.h"

/* duckdb_string_t (16 bytes): u32 length, then 12 inlined bytes, or a
 * 4-byte prefix and a pointer at offset 8 */
union ddb_string {
    struct {
        uint32_t length;
        char prefix[4];
        const char *ptr;
    } pointer;
    struct {
        uint32_t length;
        char inlined[12];
    } inlined;
};

/* ---- encoding (SCAN) ------------------------------------------------- */

static void encode_validity(struct dm_wbuf *b, const uint64_t *validity,
                            uint64_t count)
{
    uint8_t all = 1;
    if (validity) {
        for (uint64_t i = 0; i < (count + 63) / 64 && all; i++) {
            uint64_t want = (i + 1) * 64 <= count
                                ? UINT64_MAX
                                : (UINT64_C(1) << (count % 64)) - 1;
            if ((validity[i] & want) != want)
                all = 0;
        }
    }
    dm_wbuf_bytes(b, &all, 1);
    if (!all) /* little-endian words are already LSB-first bytes */
        dm_wbuf_bytes(b, validity, (count + 7) / 8);
}

static bool row_valid(const uint64_t *validity, uint64_t row)
{
    return !validity || (validity[row / 64] >> (row % 64)) & 1;
}

static void encode_vector(struct worker *w, struct dm_wbuf *b, dm_ddb_vector v,
                          const struct dm_type_node *t, uint64_t count);

/* list_entry_t of every release: offset, length */
struct list_entry {
    uint64_t offset, length;
};

/*
 * A 0.6 MAP (STRUCT(key LIST, value LIST)) as the LIST of STRUCT(key,
 * value) that t describes. The two lists are built together, so their
 * entries agree row for row; a MAP where they do not is refused (the
 * chunk is marked bad) rather than paired wrongly.
 */
static void encode_map_of_lists(struct worker *w, struct dm_wbuf *b,
                                dm_ddb_vector v, const struct dm_type_node *t,
                                uint64_t count)
{
    const struct dm_duckdb_api *a = &w->api;
    const uint64_t *validity = a->vector_get_validity(v);
    dm_ddb_vector keys = a->struct_vector_get_child(v, 0);
    dm_ddb_vector values = a->struct_vector_get_child(v, 1);
    const struct list_entry *ke = a->vector_get_data(keys);
    const struct list_entry *ve = a->vector_get_data(values);
    uint64_t nkeys = a->list_vector_get_size(keys);
    for (uint64_t r = 0; r < count; r++)
        if (row_valid(validity, r) &&
            (ke[r].offset != ve[r].offset || ke[r].length != ve[r].length)) {
            b->oom = true; /* not encodable: the caller reports it */
            return;
        }
    if (nkeys != a->list_vector_get_size(values)) {
        b->oom = true;
        return;
    }
    encode_validity(b, validity, count);
    for (uint64_t r = 0; r < count; r++) {
        struct list_entry e = {0, 0};
        if (row_valid(validity, r))
            e = ke[r];
        dm_wbuf_bytes(b, &e, sizeof(e));
    }
    dm_wbuf_u64(b, nkeys);
    /* STRUCT(key, value): always valid, then its two children */
    encode_validity(b, NULL, nkeys);
    const struct dm_type_node *kv = &t->children[0];
    encode_vector(w, b, a->list_vector_get_child(keys), &kv->children[0],
                  nkeys);
    encode_vector(w, b, a->list_vector_get_child(values), &kv->children[1],
                  nkeys);
}

static void encode_vector(struct worker *w, struct dm_wbuf *b, dm_ddb_vector v,
                          const struct dm_type_node *t, uint64_t count)
{
    const struct dm_duckdb_api *a = &w->api;
    if (t->flags & DM_TF_MAP_OF_LISTS) {
        encode_map_of_lists(w, b, v, t, count);
        return;
    }
    const uint64_t *validity = a->vector_get_validity(v);
    encode_validity(b, validity, count);
    const uint8_t *data = a->vector_get_data(v);

    switch (dm_type_phys(t)) {
    case DM_P_FIXED:
        dm_wbuf_bytes(b, data, count * t->width);
        return;
    case DM_P_STRING: {
        const union ddb_string *s = (const void *)data;
        for (uint64_t r = 0; r < count; r++) {
            if (!row_valid(validity, r)) {
                dm_wbuf_u32(b, 0);
                continue;
            }
            uint32_t len = s[r].inlined.length;
            dm_wbuf_u32(b, len);
            dm_wbuf_bytes(
                b, len <= 12 ? s[r].inlined.inlined : s[r].pointer.ptr, len);
        }
        return;
    }
    case DM_P_LIST: {
        dm_wbuf_bytes(b, data, count * 16);
        uint64_t child_count = a->list_vector_get_size(v);
        dm_wbuf_u64(b, child_count);
        encode_vector(w, b, a->list_vector_get_child(v), &t->children[0],
                      child_count);
        return;
    }
    case DM_P_ARRAY:
        /* describe gave a size only where the array API is there */
        encode_vector(w, b, a->array_vector_get_child(v), &t->children[0],
                      count * t->array_size);
        return;
    case DM_P_STRUCT:
        for (uint32_t i = 0; i < t->nchildren; i++)
            encode_vector(w, b, a->struct_vector_get_child(v, i),
                          &t->children[i], count);
        return;
    default:
        return;
    }
}

/* Whether the loaded release can stream a result (0.8+). */
static bool can_stream(const struct worker *w)
{
    const struct dm_duckdb_api *a = &w->api;
    return a->pending_prepared_streaming &&
           (a->fetch_chunk || a->stream_fetch_chunk);
}

/*
 * 0.8 streams a LIST wrong (release/release.h). A materialized result is
 * copied into a ColumnDataCollection through each vector's unified
 * format, so its chunks hold the values: 0.8 reads a result with a LIST
 * that way. The vector type is not in the C API, so the one sign is the
 * result's type.
 */
static bool streams_lists_wrong(const struct worker *w)
{
    return dm_release_streams_lists_wrong(w->major, w->minor);
}

/* Whether a column of res is, or holds, a LIST or MAP. */
static bool result_has_list(struct worker *w, struct dm_ddb_result *res)
{
    const struct dm_duckdb_api *a = &w->api;
    bool found = false;
    dm_idx_t n = a->column_count(res);
    for (dm_idx_t i = 0; i < n && !found; i++) {
        struct dm_type_node t;
        memset(&t, 0, sizeof(t));
        dm_ddb_ltype lt = a->column_logical_type(res, i);
        /* a type that cannot be described fails the scan's own describe */
        if (lt && worker_describe(w, lt, &t, 0))
            found = dm_type_has_list(&t);
        if (lt)
            a->destroy_logical_type(&lt);
        dm_type_release(&t);
    }
    return found;
}

static bool query_materialized(struct worker *w, dm_ddb_connection con,
                               const char *sql, struct dm_ddb_result *res,
                               char *msg, size_t msg_size)
{
    const struct dm_duckdb_api *a = &w->api;
    if (a->query(con, sql, res) == DM_DDB_SUCCESS)
        return true;
    const char *m = a->result_error(res);
    snprintf(msg, msg_size, "%s", m ? m : "query failed");
    return false;
}

/*
 * Start a query's result on con: streaming where the release can (0.8+)
 * and may_stream, so that memory stays bounded by a chunk, else
 * materialized (0.6, 0.7, a range, a 0.8 result with a LIST). On
 * failure, the message is in msg.
 */
bool scan_start_result(struct worker *w, dm_ddb_connection con, const char *sql,
                       bool may_stream, struct dm_ddb_result *res,
                       bool *streaming, char *msg, size_t msg_size)
{
    const struct dm_duckdb_api *a = &w->api;
    *streaming = false;
    if (!may_stream || !can_stream(w))
        return query_materialized(w, con, sql, res, msg, msg_size);
    dm_ddb_prepared prep = NULL;
    dm_ddb_pending pending = NULL;
    bool ok = false;
    if (a->prepare(con, sql, &prep) != DM_DDB_SUCCESS) {
        const char *m = a->prepare_error(prep);
        snprintf(msg, msg_size, "%s", m ? m : "prepare failed");
    } else if (a->pending_prepared_streaming(prep, &pending) !=
               DM_DDB_SUCCESS) {
        const char *m = a->pending_error(pending);
        snprintf(msg, msg_size, "%s", m ? m : "query failed");
    } else if (a->execute_pending(pending, res) != DM_DDB_SUCCESS) {
        const char *m = a->result_error(res);
        snprintf(msg, msg_size, "%s", m ? m : "query failed");
    } else {
        *streaming = ok = true;
    }
    if (pending)
        a->destroy_pending(&pending);
    if (prep)
        a->destroy_prepare(&prep);
    if (ok && streams_lists_wrong(w) && result_has_list(w, res)) {
        /* nothing was fetched: the query starts again, materialized */
        a->destroy_result(res);
        memset(res, 0, sizeof(*res));
        *streaming = false;
        return query_materialized(w, con, sql, res, msg, msg_size);
    }
    return ok;
}

static dm_ddb_chunk next_chunk(struct worker *w, struct dm_ddb_result *res,
                               bool streaming, dm_idx_t index)
{
    const struct dm_duckdb_api *a = &w->api;
    if (!streaming)
        return a->result_get_chunk(*res, index);
    return a->fetch_chunk ? a->fetch_chunk(*res) : a->stream_fetch_chunk(*res);
}

/*
 * A 0.6/0.7 result is materialized whole (and a 0.8 one with a LIST,
 * see streams_lists_wrong), so a table is read in ranges.
 * Those releases do not push a rowid filter into the scan: a range of
 * rowids costs a scan of the whole table. A range of LIMIT n OFFSET k
 * ends the scan at its last row instead, so it costs a scan of the rows
 * up to its end, and a table's ranges cost about half as much. The scan
 * runs on one thread, so OFFSET counts rows in storage order by
 * construction (the same order a rowid range would give). Ranges are as
 * large as the memory budget allows, and the next range is read on a
 * second connection, on its own thread, while this one is sent: the
 * writer never waits for a range to be materialized.
 */
struct range_read {
    struct worker *w;
    dm_ddb_connection con;
    char *sql;
    struct dm_ddb_result res;
    bool have_res, running;
    char failure[DM_ERROR_MSG_MAX]; /* "" when the query succeeded */
    pthread_t thread;
};

static void *range_read_run(void *arg)
{
    struct range_read *rr = arg;
    bool streaming; /* never: a range is materialized */
    rr->failure[0] = '\0';
    scan_start_result(rr->w, rr->con, rr->sql, false, &rr->res, &streaming,
                      rr->failure, sizeof(rr->failure));
    rr->have_res = true;
    return NULL;
}

/* Join a running read, if any; its result stays in rr. */
static void range_read_join(struct range_read *rr)
{
    if (rr->running)
        pthread_join(rr->thread, NULL);
    rr->running = false;
}

static void range_read_reset(struct range_read *rr)
{
    range_read_join(rr);
    if (rr->have_res)
        rr->w->api.destroy_result(&rr->res);
    rr->have_res = false;
    free(rr->sql);
    rr->sql = NULL;
}

/* Start reading rows [first, first + n) of the scan's query on rr's
 * connection. */
static bool range_read_start(struct range_read *rr, const char *base,
                             uint64_t first, uint64_t n)
{
    range_read_reset(rr);
    memset(&rr->res, 0, sizeof(rr->res));
    if (asprintf(&rr->sql, "%s LIMIT %llu OFFSET %llu", base,
                 (unsigned long long)n, (unsigned long long)first) < 0) {
        rr->sql = NULL;
        return false;
    }
    if (pthread_create(&rr->thread, NULL, range_read_run, rr) != 0)
        return false;
    rr->running = true;
    return true;
}

/* Report a failure of this SCAN to the parent (ERROR frame). */
enum dm_code scan_fail(struct worker *w, struct scan_out *so, enum dm_code code,
                       const char *msg)
{
    so->failed = true;
    if (!so->quiet)
        return worker_send_error(w, code, msg);
    so->code = code;
    snprintf(so->error, sizeof(so->error), "%s", msg);
    return DM_OK;
}

/* Describe res's columns into so->types. */
enum dm_code scan_describe_result(struct worker *w, struct dm_ddb_result *res,
                                  struct scan_out *so)
{
    const struct dm_duckdb_api *a = &w->api;
    char msg[DM_ERROR_MSG_MAX];
    so->ncols = a->column_count(res);
    so->types = calloc(so->ncols ? so->ncols : 1, sizeof(*so->types));
    if (!so->types)
        return scan_fail(w, so, DM_ERR_NOMEM, "out of memory");
    for (dm_idx_t i = 0; i < so->ncols; i++) {
        dm_ddb_ltype lt = a->column_logical_type(res, i);
        bool ok = lt && worker_describe(w, lt, &so->types[i], 0);
        if (lt)
            a->destroy_logical_type(&lt);
        if (!ok) {
            snprintf(msg, sizeof(msg),
                     "column \"%s\" has a type (%s) duckmig cannot copy "
                     "from DuckDB %d.%d",
                     a->column_name(res, i), dm_type_name(so->types[i].type),
                     w->major, w->minor);
            return scan_fail(w, so, DM_ERR_UNSUPPORTED, msg);
        }
    }
    return DM_OK;
}

static enum dm_code send_schema(struct worker *w, struct dm_ddb_result *res,
                                struct scan_out *so)
{
    const struct dm_duckdb_api *a = &w->api;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = scan_describe_result(w, res, so);
    if (rc || so->failed)
        return rc;
    dm_wbuf_begin(&w->out, DM_W_SCHEMA);
    dm_wbuf_u32(&w->out, (uint32_t)so->ncols);
    for (dm_idx_t i = 0; i < so->ncols; i++) {
        dm_wbuf_str(&w->out, a->column_name(res, i));
        dm_type_write(&w->out, &so->types[i]);
    }
    return dm_wire_send(w->fd, &w->out, &err);
}

/* Encode (and with DM_SCAN_CHUNKS send) every chunk of res. */
enum dm_code scan_send_chunks(struct worker *w, struct dm_ddb_result *res,
                              bool streaming, struct scan_out *so)
{
    const struct dm_duckdb_api *a = &w->api;
    struct dm_error err = DM_ERROR_INIT;
    dm_idx_t nchunks = streaming ? 0 : a->result_chunk_count(*res);
    for (dm_idx_t ci = 0; streaming || ci < nchunks; ci++) {
        dm_ddb_chunk chunk = next_chunk(w, res, streaming, ci);
        if (!chunk)
            break;
        uint64_t count = a->chunk_get_size(chunk);
        if (count == 0) {
            a->destroy_data_chunk(&chunk);
            continue;
        }
        dm_wbuf_begin(so->buf, DM_W_CHUNK);
        dm_wbuf_u32(so->buf, (uint32_t)count);
        dm_wbuf_u32(so->buf, (uint32_t)so->ncols);
        for (dm_idx_t col = 0; col < so->ncols; col++)
            encode_vector(w, so->buf, a->chunk_get_vector(chunk, col),
                          &so->types[col], count);
        a->destroy_data_chunk(&chunk);
        if (so->buf->oom)
            return scan_fail(w, so, DM_ERR_NOMEM,
                             "a chunk could not be encoded (out of memory, or "
                             "a MAP whose keys and values disagree)");
        so->rows += count;
        so->bytes += so->buf->len;
        /* hash here, where the data is: the rows go to a writer, not to
         * the parent */
        if ((so->flags & DM_SCAN_PRINT) &&
            !dm_table_print_chunk(&so->print, so->ncols, so->types,
                                  so->buf->data + 5, so->buf->len - 5))
            return scan_fail(w, so, DM_ERR_INTERNAL,
                             "cannot fingerprint a chunk");
        if (so->flags & DM_SCAN_CHUNKS) {
            if (dm_wire_send(so->peer, so->buf, &err))
                return scan_fail(w, so, DM_ERR_ENGINE,
                                 "the writer stopped taking rows");
        }
    }
    if (streaming && a->result_error(res))
        return scan_fail(w, so, DM_ERR_SQL, a->result_error(res));
    return DM_OK;
}

/*
 * Encoded bytes per row of a few rows of base, to size the ranges: they
 * are encoded as SCAN would send them, into a scratch buffer, unsent.
 */
static uint64_t probe_row_bytes(struct worker *w, const char *base,
                                const struct scan_out *so)
{
    struct dm_ddb_result res;
    struct dm_wbuf scratch = DM_WBUF_INIT;
    struct scan_out probe = {.types = so->types,
                             .ncols = so->ncols,
                             .buf = &scratch,
                             .peer = -1,
                             .quiet = true};
    bool streaming;
    char msg[DM_ERROR_MSG_MAX], *sql = NULL;
    memset(&res, 0, sizeof(res));
    if (asprintf(&sql, "%s LIMIT %d", base, 4 * DM_VECTOR_SIZE) < 0)
        return 0;
    if (scan_start_result(w, w->con, sql, false, &res, &streaming, msg,
                          sizeof(msg)) &&
        w->api.column_count(&res) == so->ncols)
        scan_send_chunks(w, &res, streaming, &probe);
    w->api.destroy_result(&res);
    dm_wbuf_release(&scratch);
    free(sql);
    return probe.rows && !probe.failed ? probe.bytes / probe.rows + 1 : 0;
}

/* the first range of a table sized by bytes is the budget / RAMP */
#define RAMP 16

/* Rows per range: whole vectors, so that every chunk but a table's last
 * is full and the writer's segments end on row group boundaries. */
static uint64_t range_rows(uint64_t budget, uint64_t row_bytes)
{
    uint64_t n = budget / (row_bytes ? row_bytes : 1) / DM_VECTOR_SIZE;
    return (n ? n : 1) * DM_VECTOR_SIZE;
}

enum dm_code scan_send_done(struct worker *w, const struct scan_out *so)
{
    struct dm_error err = DM_ERROR_INIT;
    dm_wbuf_begin(&w->out, DM_W_DONE);
    dm_wbuf_u64(&w->out, so->rows);
    /* no rows: no chunk made the prints, and every column prints empty */
    size_t n = so->print.cols                ? so->print.ncols
               : (so->flags & DM_SCAN_PRINT) ? so->ncols
                                             : 0;
    dm_wbuf_u32(&w->out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        struct dm_fingerprint none = {0, 0, 0, 0};
        const struct dm_fingerprint *f =
            so->print.cols ? &so->print.cols[i] : &none;
        dm_wbuf_u64(&w->out, f->rows);
        dm_wbuf_u64(&w->out, f->nulls);
        dm_wbuf_u64(&w->out, f->sum);
        dm_wbuf_u64(&w->out, f->xor_);
    }
    return dm_wire_send(w->fd, &w->out, &err);
}

/* Run a statement whose result does not matter; false when it failed. */
static bool exec_quietly(struct worker *w, const char *sql)
{
    struct dm_ddb_result res;
    memset(&res, 0, sizeof(res));
    bool ok = w->api.query(w->con, sql, &res) == DM_DDB_SUCCESS;
    w->api.destroy_result(&res);
    return ok;
}

/* DuckDB's task threads (0 when they cannot be read). */
static unsigned long get_threads(struct worker *w)
{
    const struct dm_duckdb_api *a = &w->api;
    struct dm_ddb_result res;
    unsigned long n = 0;
    memset(&res, 0, sizeof(res));
    if (a->query(w->con, "SELECT current_setting('threads')", &res) ==
        DM_DDB_SUCCESS) {
        char *v = a->value_varchar(&res, 0, 0);
        uint64_t u;
        n = v && dm_parse_u64_in(v, 0, ULONG_MAX, &u) ? (unsigned long)u : 0;
        a->free(v);
    }
    a->destroy_result(&res);
    return n;
}

static bool set_threads(struct worker *w, unsigned long n)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "SET threads TO %lu", n);
    return exec_quietly(w, sql);
}

/*
 * The ranges of base, which has at most last + 1 rows (its table's last
 * rowid): sized by batch_rows when non-zero, else by batch_bytes over the
 * bytes per row seen so far; two in memory at a time, the one being sent
 * and the one being read. A range shorter than asked for is the last.
 */
static enum dm_code scan_ranges(struct worker *w, const char *base,
                                uint64_t last, uint64_t batch_rows,
                                uint64_t batch_bytes, struct scan_out *so)
{
    const struct dm_duckdb_api *a = &w->api;
    /* a thread writes into the range_read it was started with, so the
     * two are swapped by pointer, never by value */
    struct range_read reads[2];
    struct range_read *cur = &reads[0], *next = &reads[1];
    enum dm_code rc = DM_OK;
    memset(reads, 0, sizeof(reads));
    cur->w = next->w = w;
    cur->con = w->con;
    unsigned long threads = get_threads(w);
    if (!threads || !set_threads(w, 1))
        return scan_fail(w, so, DM_ERR_ENGINE,
                         "cannot read a table on one thread");
    if (a->connect(w->db, &next->con) != DM_DDB_SUCCESS) {
        rc = scan_fail(w, so, DM_ERR_ENGINE, "duckdb_connect failed");
        goto out;
    }

    /* the schema, and a first estimate of the row size, from a few rows */
    struct dm_ddb_result head;
    memset(&head, 0, sizeof(head));
    char *head_sql = NULL;
    if (asprintf(&head_sql, "%s LIMIT 0", base) < 0) {
        rc = scan_fail(w, so, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    bool streaming;
    char msg[DM_ERROR_MSG_MAX];
    if (!scan_start_result(w, w->con, head_sql, false, &head, &streaming, msg,
                           sizeof(msg)))
        rc = scan_fail(w, so, DM_ERR_SQL, msg);
    else
        rc = send_schema(w, &head, so);
    a->destroy_result(&head);
    free(head_sql);
    if (rc || so->failed)
        goto out;
    uint64_t row_bytes = batch_rows ? 0 : probe_row_bytes(w, base, so);
    /* sized by bytes, the ranges start small and double up to the
     * budget: the writer waits for the first range to be read whole, and
     * a small one costs it little (about 0.8 s with one core idle on the
     * bench file, for a first range of 128 MiB) */
    uint64_t first = 0, step = batch_rows
                                   ? batch_rows
                                   : range_rows(batch_bytes / RAMP, row_bytes);
    if (!range_read_start(cur, base, first, step)) {
        rc = scan_fail(w, so, DM_ERR_NOMEM, "cannot start a read");
        goto out;
    }
    for (;;) {
        range_read_join(cur);
        if (cur->failure[0]) {
            rc = scan_fail(w, so, DM_ERR_SQL, cur->failure);
            goto out;
        }
        if (a->column_count(&cur->res) != so->ncols) {
            rc = scan_fail(w, so, DM_ERR_INTERNAL, "a range changed shape");
            goto out;
        }
        uint64_t next_first = first + step;
        if (a->row_count(&cur->res) == step && next_first > first &&
            next_first <= last) {
            if (!batch_rows && so->rows)
                row_bytes = so->bytes / so->rows + 1;
            uint64_t full = range_rows(batch_bytes, row_bytes);
            step = batch_rows ? batch_rows : step < full / 2 ? 2 * step : full;
            if (!range_read_start(next, base, next_first, step)) {
                rc = scan_fail(w, so, DM_ERR_NOMEM, "cannot start a read");
                goto out;
            }
        }
        rc = scan_send_chunks(w, &cur->res, false, so);
        if (rc || so->failed || !next->running)
            goto out;
        range_read_reset(cur);
        struct range_read *sent = cur;
        cur = next;
        next = sent;
        first = next_first;
    }
out:
    range_read_reset(&reads[0]);
    range_read_reset(&reads[1]);
    if (reads[1].con)
        a->disconnect(&reads[1].con); /* reads[0] has the worker's own */
    if (!set_threads(w, threads) && !rc && !so->failed)
        rc = scan_fail(w, so, DM_ERR_ENGINE, "cannot restore DuckDB's threads");
    return rc;
}

/*
 * SCAN(sql, flags, last_rowid, batch_rows, batch_bytes): one result, or
 * with last_rowid != DM_SCAN_WHOLE_TABLE on a release that cannot stream
 * (or, 0.8, cannot stream a LIST right), the rowid ranges of sql (a
 * SELECT ... FROM table without WHERE).
 */
enum dm_code worker_handle_scan(struct worker *w, struct dm_wcur *c)
{
    bool streaming = false;
    const struct dm_duckdb_api *a = &w->api;
    struct dm_ddb_result res;
    struct scan_out so;
    enum dm_code rc = DM_OK;

    memset(&so, 0, sizeof(so));
    memset(&res, 0, sizeof(res));
    so.buf = &w->out;
    char *sql = dm_wcur_str(c, NULL);
    so.flags = dm_wcur_u32(c);
    uint64_t last = dm_wcur_u64(c);
    uint64_t batch_rows = dm_wcur_u64(c);
    uint64_t batch_bytes = dm_wcur_u64(c);
    /* the writer's end is closed whatever happens: without END before
     * it, the writer knows the rows stopped short */
    so.peer = w->passed;
    w->passed = -1;
    if (c->bad || !sql || ((so.flags & DM_SCAN_CHUNKS) && so.peer < 0)) {
        rc = scan_fail(w, &so, DM_ERR_PROTOCOL, "malformed SCAN");
        goto out;
    }
    if (!w->con) {
        rc = scan_fail(w, &so, DM_ERR_USAGE, "no database is open");
        goto out;
    }
    /* 0.8 is sent a last rowid only for a table with a LIST */
    if (last != DM_SCAN_WHOLE_TABLE &&
        (!can_stream(w) || streams_lists_wrong(w))) {
        rc = scan_ranges(w, sql, last, batch_rows, batch_bytes, &so);
    } else {
        char msg[DM_ERROR_MSG_MAX];
        if (!scan_start_result(w, w->con, sql, true, &res, &streaming, msg,
                               sizeof(msg))) {
            rc = scan_fail(w, &so, DM_ERR_SQL, msg);
            goto out;
        }
        rc = send_schema(w, &res, &so);
        if (!rc && !so.failed)
            rc = scan_send_chunks(w, &res, streaming, &so);
    }
    if (!rc && !so.failed && (so.flags & DM_SCAN_CHUNKS)) {
        struct dm_error err = DM_ERROR_INIT;
        dm_wbuf_begin(&w->out, DM_W_END);
        if (dm_wire_send(so.peer, &w->out, &err))
            rc = scan_fail(w, &so, DM_ERR_ENGINE,
                           "the writer stopped taking rows");
    }
    if (!rc && !so.failed)
        rc = scan_send_done(w, &so);
out:
    if (so.peer >= 0)
        close(so.peer);
    dm_table_print_release(&so.print);
    worker_release_types(so.types, so.ncols);
    a->destroy_result(&res);
    free(sql);
    return rc;
}
