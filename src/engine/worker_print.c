/*
 * worker_print.c - PRINT: the fingerprints of a table's rows, read where
 * the data is, in the worker. A wide table's columns come in groups,
 * each read on a connection and thread of its own, and the groups'
 * fingerprints are answered together, in query order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vec.h"
#include "engine/worker_int.h"

#define MAX_PRINT_PARTS 16

/* One column group: its query, connection, thread and what it read. */
struct print_part {
    struct worker *w;
    dm_ddb_connection con;
    char *sql;
    struct scan_out so;
    struct dm_wbuf buf;
    pthread_t thread;
    bool started;
};

static void *print_part_run(void *arg)
{
    struct print_part *p = arg;
    const struct dm_duckdb_api *a = &p->w->api;
    struct dm_ddb_result res;
    bool streaming = false;
    char msg[DM_ERROR_MSG_MAX];
    memset(&res, 0, sizeof(res));
    if (!scan_start_result(p->w, p->con, p->sql, true, &res, &streaming, msg,
                           sizeof(msg)))
        scan_fail(p->w, &p->so, DM_ERR_SQL, msg);
    else if (scan_describe_result(p->w, &res, &p->so) == DM_OK && !p->so.failed)
        scan_send_chunks(p->w, &res, streaming, &p->so);
    a->destroy_result(&res);
    return NULL;
}

/* The n queries of the request into parts; false when one is missing. */
static bool print_parts_read(struct worker *w, struct dm_wcur *c,
                             struct print_part *parts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        struct print_part *p = &parts[i];
        p->w = w;
        p->sql = dm_wcur_str(c, NULL);
        p->so.quiet = true;
        p->so.flags = DM_SCAN_PRINT;
        p->so.peer = -1;
        p->so.buf = &p->buf;
        if (!p->sql)
            c->bad = true;
    }
    return !c->bad;
}

/* Run every part at once: the first on the worker's connection and
 * thread, the others on their own; a part that cannot start fails. */
static void print_parts_run(struct worker *w, struct print_part *parts,
                            uint32_t n)
{
    const struct dm_duckdb_api *a = &w->api;
    for (uint32_t i = 0; i < n; i++) {
        struct print_part *p = &parts[i];
        if (i == 0) {
            p->con = w->con;
            continue;
        }
        if (a->connect(w->db, &p->con) != DM_DDB_SUCCESS) {
            p->con = NULL;
            scan_fail(w, &p->so, DM_ERR_ENGINE, "duckdb_connect failed");
            continue;
        }
        p->started = pthread_create(&p->thread, NULL, print_part_run, p) == 0;
        if (!p->started)
            scan_fail(w, &p->so, DM_ERR_INTERNAL, "cannot start a thread");
    }
    print_part_run(&parts[0]);
    for (uint32_t i = 0; i < n; i++)
        if (parts[i].started)
            pthread_join(parts[i].thread, NULL);
}

/* The parts' fingerprints, in query order, into all, and DONE; or the
 * first part's failure, or rows that differ between parts, as ERROR. */
static enum dm_code print_parts_answer(struct worker *w,
                                       const struct print_part *parts,
                                       uint32_t n, struct scan_out *all)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct print_part *p = &parts[i];
        if (p->so.failed)
            return scan_fail(w, all, p->so.code, p->so.error);
        if (p->so.rows != parts[0].so.rows)
            return scan_fail(w, all, DM_ERR_INTERNAL,
                             "column groups of one table differ in rows");
        /* a part that saw no rows has no prints: its columns print empty */
        all->print.ncols +=
            p->so.print.cols ? p->so.print.ncols : (size_t)p->so.ncols;
    }
    all->rows = parts[0].so.rows;
    all->print.rows = all->rows;
    all->print.cols = calloc(all->print.ncols ? all->print.ncols : 1,
                             sizeof(*all->print.cols));
    if (!all->print.cols)
        return scan_fail(w, all, DM_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct scan_out *so = &parts[i].so;
        if (!so->print.cols) {
            k += (size_t)so->ncols; /* calloc'd: empty prints */
            continue;
        }
        for (size_t j = 0; j < so->print.ncols; j++)
            all->print.cols[k++] = so->print.cols[j];
    }
    return scan_send_done(w, all);
}

/*
 * PRINT(n, n x sql): run the n queries (column groups of one table) at
 * once, each on its own connection and thread, and answer one DONE with
 * their fingerprints in query order, or ERROR.
 */
enum dm_code worker_handle_print(struct worker *w, struct dm_wcur *c)
{
    const struct dm_duckdb_api *a = &w->api;
    struct print_part *parts = NULL;
    struct scan_out all;
    enum dm_code rc = DM_OK;
    memset(&all, 0, sizeof(all));
    all.buf = &w->out;
    uint32_t n = dm_wcur_u32(c);
    if (c->bad || n == 0 || n > MAX_PRINT_PARTS)
        return worker_send_error(w, DM_ERR_PROTOCOL, "malformed PRINT");
    if (!w->con)
        return worker_send_error(w, DM_ERR_USAGE, "no database is open");
    parts = calloc(n, sizeof(*parts));
    if (!parts)
        return worker_send_error(w, DM_ERR_NOMEM, "out of memory");
    if (!print_parts_read(w, c, parts, n)) {
        rc = scan_fail(w, &all, DM_ERR_PROTOCOL, "malformed PRINT");
        goto out;
    }
    print_parts_run(w, parts, n);
    rc = print_parts_answer(w, parts, n, &all);
out:
    for (uint32_t i = 0; i < n; i++) {
        struct print_part *p = &parts[i];
        dm_table_print_release(&p->so.print);
        worker_release_types(p->so.types, p->so.ncols);
        dm_wbuf_release(&p->buf);
        free(p->sql);
        if (i > 0 && p->con)
            a->disconnect(&p->con);
    }
    free(parts);
    dm_table_print_release(&all.print);
    return rc;
}
