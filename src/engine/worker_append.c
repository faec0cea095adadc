/*
 * worker_append.c - table data into a DuckDB release: APPEND feeds the
 * encoded chunks (vec.h) the parent sends to appenders.
 *
 * One appender is single-threaded, and appending (building row groups,
 * compressing them as they fill) is most of a migration's work. So rows
 * go to lanes: each lane is a connection on its own thread that appends
 * whole segments of rows (row groups, DuckDB's unit of storage) in its
 * own transaction, and the segments are committed in order. The table
 * gets its rows in the order they were sent, in full row groups, with as
 * many appenders at work as there are lanes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/worker_int.h"
#include "util/threads.h"

/* rows per DuckDB row group, the same in every release duckmig loads */
#define ROW_GROUP_ROWS 122880
/* a segment: the rows one lane appends and commits at a time */
#define SEGMENT_ROWS (2 * ROW_GROUP_ROWS)
/* encoded bytes waiting for one lane before the reader of frames waits */
#define LANE_QUEUE_BYTES (48u << 20)
#define MAX_LANES        DM_MAX_THREADS

/* 0.x TIMETZ (plain micros, UTC) -> 1.x packed (micros << 24 | offset) */
static uint64_t pack_timetz(uint64_t micros)
{
    return (micros << 24) | 57599; /* 57599 - offset, offset 0 */
}

static bool decode_vector(struct worker *w, struct dm_wcur *c, dm_ddb_vector v,
                          const struct dm_type_node *src,
                          const struct dm_type_node *dst, uint64_t count)
{
    const struct dm_duckdb_api *a = &w->api;
    const uint8_t *all = dm_wcur_take(c, 1);
    if (!all)
        return false;
    if (!*all) {
        const uint8_t *bits = dm_wcur_take(c, (count + 7) / 8);
        if (!bits)
            return false;
        a->vector_ensure_validity_writable(v);
        uint64_t *validity = a->vector_get_validity(v);
        for (uint64_t r = 0; r < count; r++)
            if (!((bits[r / 8] >> (r % 8)) & 1))
                a->validity_set_row_invalid(validity, r);
    }

    switch (dm_type_phys(dst)) {
    case DM_P_FIXED: {
        const uint8_t *p = dm_wcur_take(c, count * src->width);
        if (!p)
            return false;
        uint8_t *data = a->vector_get_data(v);
        if (dst->type == DM_T_TIME_TZ && (dst->flags & DM_TF_PACKED_TZ) &&
            !(src->flags & DM_TF_PACKED_TZ)) {
            for (uint64_t r = 0; r < count; r++) {
                uint64_t micros;
                memcpy(&micros, p + r * 8, 8);
                uint64_t packed = pack_timetz(micros);
                memcpy(data + r * 8, &packed, 8);
            }
        } else {
            memcpy(data, p, count * src->width);
        }
        return true;
    }
    case DM_P_STRING: {
        /* 1.5's assign checks UTF-8 and stores NULL where it is not;
         * its appender checks again when it flushes, and refuses (tried:
         * the flush fails), so one check is enough, and a bad string is
         * an error, not a NULL */
        void (*assign)(dm_ddb_vector, dm_idx_t, const char *, dm_idx_t) =
            a->unsafe_vector_assign_string_element_len
                ? a->unsafe_vector_assign_string_element_len
                : a->vector_assign_string_element_len;
        for (uint64_t r = 0; r < count; r++) {
            uint32_t len = dm_wcur_u32(c);
            const uint8_t *p = dm_wcur_take(c, len);
            if (!p)
                return false;
            /* NULL rows carry length 0 and are masked by the validity */
            assign(v, r, (const char *)p, len);
        }
        return true;
    }
    case DM_P_LIST: {
        const uint8_t *entries = dm_wcur_take(c, count * 16);
        uint64_t child_count = dm_wcur_u64(c);
        if (!entries || c->bad || !a->list_vector_reserve)
            return false;
        if (a->list_vector_reserve(v, child_count) != DM_DDB_SUCCESS ||
            a->list_vector_set_size(v, child_count) != DM_DDB_SUCCESS)
            return false;
        memcpy(a->vector_get_data(v), entries, count * 16);
        return decode_vector(w, c, a->list_vector_get_child(v),
                             &src->children[0], &dst->children[0], child_count);
    }
    case DM_P_ARRAY:
        /* the sizes agree (dm_type_compatible); DuckDB's array child
         * holds size slots for each of a chunk's rows */
        if (!a->array_vector_get_child)
            return false;
        return decode_vector(w, c, a->array_vector_get_child(v),
                             &src->children[0], &dst->children[0],
                             count * dst->array_size);
    case DM_P_STRUCT:
        for (uint32_t i = 0; i < dst->nchildren; i++)
            if (!decode_vector(w, c, a->struct_vector_get_child(v, i),
                               &src->children[i], &dst->children[i], count))
                return false;
        return true;
    default:
        return false;
    }
}

/* Quote an identifier for SQL: "a""b". */
static void put_ident(struct dm_wbuf *b, const char *s)
{
    dm_wbuf_bytes(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            dm_wbuf_bytes(b, "\"", 1);
        dm_wbuf_bytes(b, s, 1);
    }
    dm_wbuf_bytes(b, "\"", 1);
}

/* One lane's appender and the types it converts between. */
struct appending {
    dm_ddb_appender app;
    dm_ddb_chunk chunk;
    dm_ddb_ltype *ltypes;
    const struct dm_type_node *src; /* shared by the lanes */
    struct dm_type_node *dst;
    size_t ncols;
    uint64_t rows;
};

static void appending_release(struct worker *w, struct appending *ap)
{
    const struct dm_duckdb_api *a = &w->api;
    if (ap->chunk)
        a->destroy_data_chunk(&ap->chunk);
    for (size_t i = 0; ap->ltypes && i < ap->ncols; i++)
        if (ap->ltypes[i])
            a->destroy_logical_type(&ap->ltypes[i]);
    free(ap->ltypes);
    if (ap->app)
        a->appender_destroy(&ap->app);
    worker_release_types(ap->dst, ap->ncols);
    memset(ap, 0, sizeof(*ap));
}

/*
 * Look up the target columns' logical types on con, check them against
 * src, and make an appender. On failure, error says why.
 */
static bool prepare_append(struct worker *w, dm_ddb_connection con,
                           struct appending *ap, const char *schema,
                           const char *table, char **columns, char *error,
                           size_t error_size)
{
    const struct dm_duckdb_api *a = &w->api;
    struct dm_ddb_result res;
    struct dm_wbuf sql = DM_WBUF_INIT;
    bool ok = false;

    dm_wbuf_bytes(&sql, "SELECT ", 7);
    for (size_t i = 0; i < ap->ncols; i++) {
        if (i)
            dm_wbuf_bytes(&sql, ", ", 2);
        put_ident(&sql, columns[i]);
    }
    dm_wbuf_bytes(&sql, " FROM ", 6);
    put_ident(&sql, schema);
    dm_wbuf_bytes(&sql, ".", 1);
    put_ident(&sql, table);
    dm_wbuf_bytes(&sql, " LIMIT 0", 9); /* with the NUL */
    memset(&res, 0, sizeof(res));
    if (sql.oom ||
        a->query(con, (const char *)sql.data, &res) != DM_DDB_SUCCESS) {
        snprintf(error, error_size, "%s",
                 sql.oom ? "out of memory" : a->result_error(&res));
        goto out;
    }
    ap->ltypes = calloc(ap->ncols, sizeof(*ap->ltypes));
    ap->dst = calloc(ap->ncols, sizeof(*ap->dst));
    if (!ap->ltypes || !ap->dst) {
        snprintf(error, error_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ap->ncols; i++) {
        char why[256];
        ap->ltypes[i] = a->column_logical_type(&res, i);
        if (!ap->ltypes[i] ||
            !worker_describe(w, ap->ltypes[i], &ap->dst[i], 0)) {
            snprintf(error, error_size,
                     "column \"%s\": DuckDB %d.%d type %s is not supported",
                     columns[i], w->major, w->minor,
                     dm_type_name(ap->dst[i].type));
            goto out;
        }
        if (!dm_type_compatible(&ap->src[i], &ap->dst[i], why, sizeof(why))) {
            snprintf(error, error_size, "column \"%s\": %s", columns[i], why);
            goto out;
        }
    }
    ap->chunk = a->create_data_chunk(ap->ltypes, ap->ncols);
    if (!ap->chunk) {
        snprintf(error, error_size, "cannot create a data chunk");
        goto out;
    }
    if (a->appender_create(con, schema, table, &ap->app) != DM_DDB_SUCCESS) {
        const char *m = ap->app ? a->appender_error(ap->app) : NULL;
        snprintf(error, error_size, "cannot append to %s.%s: %s", schema, table,
                 m ? m : "appender failed");
        goto out;
    }
    ok = true;
out:
    a->destroy_result(&res);
    dm_wbuf_release(&sql);
    return ok;
}

/* Decode one CHUNK payload into ap's chunk and append it. */
static bool append_chunk(struct worker *w, struct appending *ap,
                         struct dm_wcur *c, char *error, size_t error_size)
{
    const struct dm_duckdb_api *a = &w->api;
    uint32_t count = dm_wcur_u32(c);
    uint32_t ncols = dm_wcur_u32(c);
    if (c->bad || ncols != ap->ncols || count > DM_VECTOR_SIZE) {
        snprintf(error, error_size, "malformed data chunk");
        return false;
    }
    a->chunk_reset(ap->chunk);
    for (uint32_t i = 0; i < ncols; i++) {
        if (!decode_vector(w, c, a->chunk_get_vector(ap->chunk, i), &ap->src[i],
                           &ap->dst[i], count)) {
            snprintf(error, error_size, "malformed data for column %u", i + 1);
            return false;
        }
    }
    a->chunk_set_size(ap->chunk, count);
    if (a->append_data_chunk(ap->app, ap->chunk) != DM_DDB_SUCCESS) {
        const char *m = a->appender_error(ap->app);
        snprintf(error, error_size, "%s", m && *m ? m : "append failed");
        return false;
    }
    ap->rows += count;
    return true;
}

/* ---- lanes ------------------------------------------------------------ */

/* A frame waiting for a lane, or (buf.len == 0) the end of a segment. */
struct lane_item {
    struct dm_wbuf buf;
};

struct lanes;

struct lane {
    struct lanes *all;
    size_t index;
    dm_ddb_connection con; /* the worker's own for lane 0 */
    struct appending ap;
    pthread_t thread;
    bool started;
    struct lane_item *queue; /* a ring */
    size_t qcap, qhead, qlen, qbytes;
};

struct lanes {
    struct worker *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lane lane[MAX_LANES];
    size_t n;
    uint64_t committed; /* segments committed, in order */
    uint64_t rows;      /* rows appended, summed by lanes_close */
    bool closed;        /* the last frame is queued */
    bool failed;
    char error[DM_ERROR_MSG_MAX];
    struct dm_wbuf spare[2 * MAX_LANES]; /* emptied buffers, for reuse */
    size_t nspare;
};

/* Record the first failure and wake everyone. */
static void lanes_fail(struct lanes *ls, const char *msg)
{
    pthread_mutex_lock(&ls->mu);
    if (!ls->failed)
        snprintf(ls->error, sizeof(ls->error), "%s", msg);
    ls->failed = true;
    pthread_cond_broadcast(&ls->cv);
    pthread_mutex_unlock(&ls->mu);
}

static bool lanes_failed(struct lanes *ls)
{
    pthread_mutex_lock(&ls->mu);
    bool failed = ls->failed;
    pthread_mutex_unlock(&ls->mu);
    return failed;
}

static bool lane_exec(struct lane *l, const char *sql)
{
    const struct dm_duckdb_api *a = &l->all->w->api;
    struct dm_ddb_result res;
    memset(&res, 0, sizeof(res));
    bool ok = a->query(l->con, sql, &res) == DM_DDB_SUCCESS;
    if (!ok) {
        const char *m = a->result_error(&res);
        lanes_fail(l->all, m ? m : sql);
    }
    a->destroy_result(&res);
    return ok;
}

/* End segment seg: flush, wait for the segments before it, commit. */
static bool lane_commit(struct lane *l, uint64_t seg)
{
    struct lanes *ls = l->all;
    const struct dm_duckdb_api *a = &ls->w->api;
    if (a->appender_flush(l->ap.app) != DM_DDB_SUCCESS) {
        const char *m = a->appender_error(l->ap.app);
        lanes_fail(ls, m && *m ? m : "the appender could not flush its rows");
        return false;
    }
    pthread_mutex_lock(&ls->mu);
    while (ls->committed != seg && !ls->failed)
        pthread_cond_wait(&ls->cv, &ls->mu);
    bool failed = ls->failed;
    pthread_mutex_unlock(&ls->mu);
    if (failed || !lane_exec(l, "COMMIT"))
        return false;
    pthread_mutex_lock(&ls->mu);
    ls->committed++;
    pthread_cond_broadcast(&ls->cv);
    pthread_mutex_unlock(&ls->mu);
    return true;
}

static void *lane_run(void *arg)
{
    struct lane *l = arg;
    struct lanes *ls = l->all;
    uint64_t seg = l->index; /* lane i commits segments i, i + n, ... */
    char error[DM_ERROR_MSG_MAX];
    bool in_tx = lane_exec(l, "BEGIN TRANSACTION");

    for (;;) {
        pthread_mutex_lock(&ls->mu);
        while (!l->qlen && !ls->closed && !ls->failed)
            pthread_cond_wait(&ls->cv, &ls->mu);
        if (ls->failed || !l->qlen) {
            pthread_mutex_unlock(&ls->mu);
            break;
        }
        struct lane_item item = l->queue[l->qhead];
        l->qhead = (l->qhead + 1) % l->qcap;
        l->qlen--;
        l->qbytes -= item.buf.len;
        pthread_cond_broadcast(&ls->cv); /* the queue has room */
        pthread_mutex_unlock(&ls->mu);

        bool ok;
        if (item.buf.len == 0) {
            /* a failed COMMIT leaves the transaction to the ROLLBACK below */
            ok = lane_commit(l, seg);
            if (ok) {
                seg += ls->n;
                in_tx = ok = lane_exec(l, "BEGIN TRANSACTION");
            }
        } else {
            struct dm_wcur c;
            dm_wcur_init(&c, &item.buf);
            ok = append_chunk(ls->w, &l->ap, &c, error, sizeof(error));
            if (!ok) {
                lanes_fail(ls, error);
            }
        }
        pthread_mutex_lock(&ls->mu);
        if (item.buf.data && ls->nspare < 2 * MAX_LANES) {
            item.buf.len = 0;
            ls->spare[ls->nspare++] = item.buf;
        } else {
            dm_wbuf_release(&item.buf);
        }
        pthread_mutex_unlock(&ls->mu);
        if (!ok)
            break;
    }
    if (in_tx) {
        /* the transaction holds no rows (every segment was committed), or
         * the copy failed: either way nothing of it is to be kept */
        struct dm_ddb_result res;
        memset(&res, 0, sizeof(res));
        ls->w->api.query(l->con, "ROLLBACK", &res);
        ls->w->api.destroy_result(&res);
    }
    return NULL;
}

/*
 * Queue for lane i a frame, which it takes (buf then holds a spare buffer
 * for the next one), or with buf NULL the end of a segment.
 */
static void lanes_push(struct lanes *ls, size_t i, struct dm_wbuf *buf)
{
    struct lane *l = &ls->lane[i];
    size_t len = buf ? buf->len : 0;
    pthread_mutex_lock(&ls->mu);
    while (!ls->failed && l->qlen &&
           (l->qlen == l->qcap || l->qbytes + len > LANE_QUEUE_BYTES))
        pthread_cond_wait(&ls->cv, &ls->mu);
    if (ls->failed) { /* the rest of the stream is only drained */
        pthread_mutex_unlock(&ls->mu);
        return;
    }
    struct lane_item *item = &l->queue[(l->qhead + l->qlen) % l->qcap];
    memset(item, 0, sizeof(*item));
    if (buf) {
        item->buf = *buf;
        memset(buf, 0, sizeof(*buf));
        if (ls->nspare) /* already grown to a frame's size */
            *buf = ls->spare[--ls->nspare];
    }
    l->qlen++;
    l->qbytes += len;
    pthread_cond_broadcast(&ls->cv);
    pthread_mutex_unlock(&ls->mu);
}

/*
 * Open n lanes on schema.table: lane 0 on the worker's connection, the
 * others on new ones, each with its appender. On failure, error says why.
 */
static bool lanes_open(struct lanes *ls, struct worker *w, const char *schema,
                       const char *table, char **columns, size_t ncols,
                       const struct dm_type_node *src)
{
    const struct dm_duckdb_api *a = &w->api;
    ls->w = w;
    /* before 0.9 a commit writes its rows to the WAL in full, and with a
     * transaction always open on another lane the automatic checkpoint
     * that empties the WAL never runs: the WAL would grow to the table's
     * size (measured: 874 MB beside a 376 MB file, and slower), so those
     * releases append on one lane */
    ls->n = w->major == 0 && w->minor < 9 ? 1 : dm_thread_count();
    pthread_mutex_init(&ls->mu, NULL);
    pthread_cond_init(&ls->cv, NULL);
    for (size_t i = 0; i < ls->n; i++) {
        struct lane *l = &ls->lane[i];
        l->all = ls;
        l->index = i;
        l->ap.ncols = ncols;
        l->ap.src = src;
        l->qcap = 1024;
        l->queue = calloc(l->qcap, sizeof(*l->queue));
        if (!l->queue) {
            snprintf(ls->error, sizeof(ls->error), "out of memory");
            return false;
        }
        if (i == 0) {
            l->con = w->con;
        } else if (a->connect(w->db, &l->con) != DM_DDB_SUCCESS) {
            l->con = NULL;
            snprintf(ls->error, sizeof(ls->error), "duckdb_connect failed");
            return false;
        }
        if (!prepare_append(w, l->con, &l->ap, schema, table, columns,
                            ls->error, sizeof(ls->error)))
            return false;
    }
    for (size_t i = 0; i < ls->n; i++) {
        struct lane *l = &ls->lane[i];
        if (pthread_create(&l->thread, NULL, lane_run, l) != 0) {
            lanes_fail(ls, "cannot start an append thread");
            return false;
        }
        l->started = true;
    }
    return true;
}

/* Let the lanes finish what is queued, join them, release everything. */
static void lanes_close(struct lanes *ls)
{
    const struct dm_duckdb_api *a = &ls->w->api;
    pthread_mutex_lock(&ls->mu);
    ls->closed = true;
    pthread_cond_broadcast(&ls->cv);
    pthread_mutex_unlock(&ls->mu);
    for (size_t i = 0; i < ls->n; i++) {
        struct lane *l = &ls->lane[i];
        if (l->started)
            pthread_join(l->thread, NULL);
        for (size_t k = 0; k < l->qlen; k++)
            dm_wbuf_release(&l->queue[(l->qhead + k) % l->qcap].buf);
        free(l->queue);
        ls->rows += l->ap.rows;
        appending_release(ls->w, &l->ap);
        if (i > 0 && l->con)
            a->disconnect(&l->con);
    }
    for (size_t i = 0; i < ls->nspare; i++)
        dm_wbuf_release(&ls->spare[i]);
    pthread_cond_destroy(&ls->cv);
    pthread_mutex_destroy(&ls->mu);
}

/*
 * APPEND(schema, table, n, n x (column, type)), bringing a socket whose
 * other end is the reader's: OK | ERROR; then the reader sends CHUNK* END
 * on that socket (the rows never pass through the parent), and the
 * parent gets DONE(rows) | ERROR. Chunks are handed to the lanes a
 * segment at a time. The socket is closed as soon as the rows stop:
 * after a failure, that tells the reader to stop sending.
 */
enum dm_code worker_handle_append(struct worker *w, struct dm_wcur *c)
{
    int peer = w->passed;
    w->passed = -1;
    struct lanes *ls = NULL;
    struct dm_type_node *src = NULL;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_wbuf in = DM_WBUF_INIT;
    enum dm_wire_type type;
    enum dm_code rc = DM_OK;
    char **columns = NULL;
    size_t ncols = 0;
    bool opened = false;

    char *schema = dm_wcur_str(c, NULL);
    char *table = dm_wcur_str(c, NULL);
    ncols = dm_wcur_u32(c);
    if (!c->bad && ncols && ncols <= DM_MAX_COLUMNS) {
        columns = calloc(ncols, sizeof(char *));
        src = calloc(ncols, sizeof(*src));
    }
    for (size_t i = 0; columns && src && i < ncols && !c->bad; i++) {
        columns[i] = dm_wcur_str(c, NULL);
        if (!columns[i] || !dm_type_read(c, &src[i]))
            c->bad = true;
    }
    if (c->bad || !schema || !table || !columns || !src || peer < 0) {
        rc = worker_send_error(w, DM_ERR_PROTOCOL, "malformed APPEND");
        goto out;
    }
    if (!w->con) {
        rc = worker_send_error(w, DM_ERR_USAGE, "no database is open");
        goto out;
    }
    ls = calloc(1, sizeof(*ls));
    if (!ls) {
        rc = worker_send_error(w, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    opened = true;
    if (!lanes_open(ls, w, schema, table, columns, ncols, src)) {
        rc = worker_send_error(w, DM_ERR_SQL, ls->error);
        goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_OK);
    rc = dm_wire_send(w->fd, &w->out, &err);
    if (rc)
        goto out;

    uint64_t seg = 0, seg_rows = 0;
    bool reader_stopped = false;
    for (;;) {
        if (dm_wire_recv(peer, &in, &type, &err)) {
            /* the reader failed or died, and tells the parent why */
            reader_stopped = !lanes_failed(ls);
            lanes_fail(ls, "the reader stopped sending rows");
            break;
        }
        if (type == DM_W_END)
            break;
        if (type != DM_W_CHUNK || in.len < 4) {
            lanes_fail(ls, "unexpected frame from the reader");
            break;
        }
        if (lanes_failed(ls))
            break;
        uint32_t count = (uint32_t)in.data[0] | (uint32_t)in.data[1] << 8 |
                         (uint32_t)in.data[2] << 16 |
                         (uint32_t)in.data[3] << 24;
        lanes_push(ls, seg % ls->n, &in);
        seg_rows += count;
        if (seg_rows >= SEGMENT_ROWS) {
            lanes_push(ls, seg % ls->n, NULL);
            seg++;
            seg_rows = 0;
        }
    }
    if (seg_rows)
        lanes_push(ls, seg % ls->n, NULL);
    close(peer); /* before the lanes finish: a reader still sending after
                  * a failure learns of it at once */
    peer = -1;
    lanes_close(ls);
    opened = false;
    if (ls->failed) {
        rc = worker_send_error(w, reader_stopped ? DM_ERR_ENGINE : DM_ERR_SQL,
                               ls->error);
        goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_DONE);
    dm_wbuf_u64(&w->out, ls->rows);
    rc = dm_wire_send(w->fd, &w->out, &err);
out:
    if (peer >= 0)
        close(peer);
    if (opened)
        lanes_close(ls);
    free(ls);
    worker_release_types(src, ncols);
    for (size_t i = 0; columns && i < ncols; i++)
        free(columns[i]);
    free(columns);
    free(table);
    free(schema);
    dm_wbuf_release(&in);
    return rc;
}
