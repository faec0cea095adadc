/*
 * worker.c - the engine worker: one process, one DuckDB release.
 *
 * Started by dm_engine_start() as `duckmig __engine RELEASE LIBRARY` with
 * its end of a socketpair on fd 3. It loads exactly one libduckdb, answers
 * READY, then serves OPEN / QUERY / QUIT frames (wire.h) until QUIT or
 * EOF. Rows are sent in batches so that the parent never has to hold a
 * whole result set it does not want.
 */
#include "engine/worker.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "engine/api.h"
#include "engine/wire.h"
#include "util/str.h"
#include "engine/worker_int.h"
#include "header/header.h"

#define WORKER_FD       3
#define ROWS_PER_FRAME  1024
#define BYTES_PER_FRAME (4u << 20)

enum dm_code worker_send_error(struct worker *w, enum dm_code code,
                               const char *msg)
{
    struct dm_error err = DM_ERROR_INIT;
    /* DuckDB says "SQL" for a full disk or memory too: that is a
     * resource failure, which a retry with more can fix */
    if (code == DM_ERR_SQL)
        code = dm_duckdb_error_class(msg);
    dm_wbuf_begin(&w->out, DM_W_ERROR);
    dm_wbuf_u32(&w->out, (uint32_t)code);
    dm_wbuf_str(&w->out, msg);
    return dm_wire_send(w->fd, &w->out, &err);
}

static enum dm_code send_simple(struct worker *w, enum dm_wire_type type)
{
    struct dm_error err = DM_ERROR_INIT;
    dm_wbuf_begin(&w->out, type);
    return dm_wire_send(w->fd, &w->out, &err);
}

static void close_db(struct worker *w)
{
    if (w->con)
        w->api.disconnect(&w->con);
    if (w->db)
        w->api.close(&w->db);
    w->con = NULL;
    w->db = NULL;
}

static enum dm_code handle_open(struct worker *w, struct dm_wcur *c)
{
    enum dm_code rc = DM_OK;
    dm_ddb_config cfg = NULL;
    char *path = NULL, *key = NULL, *val = NULL, *open_err = NULL;
    char msg[DM_ERROR_MSG_MAX];

    close_db(w);
    uint32_t flags = dm_wcur_u32(c);
    path = dm_wcur_str(c, NULL);
    uint32_t nopts = dm_wcur_u32(c);
    if (c->bad || !path)
        return worker_send_error(w, DM_ERR_PROTOCOL, "malformed OPEN frame");

    if (w->api.create_config(&cfg) != DM_DDB_SUCCESS) {
        rc = worker_send_error(w, DM_ERR_ENGINE, "duckdb_create_config failed");
        goto out;
    }
    if ((flags & DM_OPEN_READ_ONLY) &&
        w->api.set_config(cfg, "access_mode", "READ_ONLY") != DM_DDB_SUCCESS) {
        rc = worker_send_error(w, DM_ERR_ENGINE, "cannot set access_mode");
        goto out;
    }
    for (uint32_t i = 0; i < nopts; i++) {
        key = dm_wcur_str(c, NULL);
        val = dm_wcur_str(c, NULL);
        if (c->bad || !key || !val) {
            rc = worker_send_error(w, DM_ERR_PROTOCOL, "malformed OPEN option");
            goto out;
        }
        if (w->api.set_config(cfg, key, val) != DM_DDB_SUCCESS) {
            snprintf(msg, sizeof(msg), "unknown or invalid setting %s=%s", key,
                     val);
            rc = worker_send_error(w, DM_ERR_ENGINE, msg);
            goto out;
        }
        free(key);
        free(val);
        key = val = NULL;
    }
    const char *target = strcmp(path, ":memory:") == 0 ? NULL : path;
    /* 0.6-0.8 report a WAL they cannot replay only on stderr, and open
     * the file without its rows: catch what the open prints */
    int saved = -1;
    FILE *said = (flags & DM_OPEN_WAL_CHECK) ? tmpfile() : NULL;
    if (said) {
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        if (saved < 0 || dup2(fileno(said), STDERR_FILENO) < 0) {
            if (saved >= 0)
                close(saved);
            saved = -1;
        }
    }
    int opened = w->api.open_ext(target, &w->db, cfg, &open_err);
    char replay[1024] = "";
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        char line[1024];
        rewind(said);
        while (fgets(line, sizeof(line), said)) {
            fputs(line, stderr); /* still said, as before */
            if (!replay[0] && strstr(line, "WAL playback"))
                snprintf(replay, sizeof(replay), "%s", line);
        }
        char *nl = strchr(replay, '\n');
        if (nl)
            *nl = '\0';
    }
    if (said)
        fclose(said);
    if (opened == DM_DDB_SUCCESS && replay[0]) {
        w->api.close(&w->db);
        w->db = NULL;
        rc = worker_send_error(w, DM_ERR_DAMAGED, replay);
        goto out;
    }
    if (opened != DM_DDB_SUCCESS) {
        snprintf(msg, sizeof(msg), "%s",
                 open_err ? open_err : "duckdb_open_ext failed");
        w->db = NULL;
        rc = worker_send_error(w, DM_ERR_SQL, msg);
        goto out;
    }
    if (w->api.connect(w->db, &w->con) != DM_DDB_SUCCESS) {
        close_db(w);
        rc = worker_send_error(w, DM_ERR_ENGINE, "duckdb_connect failed");
        goto out;
    }
    rc = send_simple(w, DM_W_OK);
out:
    if (open_err)
        w->api.free(open_err);
    free(val);
    free(key);
    if (cfg)
        w->api.destroy_config(&cfg);
    free(path);
    return rc;
}

/*
 * Split a script into statements on ';' outside quotes and comments: 0.6
 * has no duckdb_extract_statements, and its duckdb_query reports only the
 * first statement's error.
 */
static char **split_sql(const char *sql, size_t *n)
{
    size_t cap = 8, count = 0, start = 0, i = 0;
    char **out = malloc(cap * sizeof(char *));
    while (out) {
        char c = sql[i];
        if (c == '\'' || c == '"') {
            i++;
            while (sql[i] && !(sql[i] == c && sql[i + 1] != c))
                i += sql[i] == c ? 2 : 1;
            if (sql[i])
                i++;
            continue;
        }
        if (c == '-' && sql[i + 1] == '-') {
            while (sql[i] && sql[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && sql[i + 1] == '*') {
            const char *e = strstr(sql + i + 2, "*/");
            i = e ? (size_t)(e - sql) + 2 : strlen(sql);
            continue;
        }
        if (c == ';' || c == '\0') {
            size_t b = start;
            while (b < i && (sql[b] == ' ' || sql[b] == '\n' ||
                             sql[b] == '\t' || sql[b] == '\r'))
                b++;
            if (b < i) {
                if (count == cap) {
                    char **p = realloc(out, 2 * cap * sizeof(char *));
                    if (!p)
                        break;
                    out = p;
                    cap *= 2;
                }
                out[count++] = strndup(sql + b, i - b);
            }
            if (c == '\0') {
                *n = count;
                return out;
            }
            start = i + 1;
        }
        i++;
    }
    for (size_t k = 0; out && k < count; k++)
        free(out[k]);
    free(out);
    *n = 0;
    return NULL;
}

/*
 * Run every statement of sql, stopping at the first error; res holds the
 * last statement's result. Returns NULL or the error message (which lives
 * until res is destroyed, or in *owned).
 */
static const char *run_script(struct worker *w, const char *sql,
                              struct dm_ddb_result *res, char **owned)
{
    const struct dm_duckdb_api *a = &w->api;
    const char *msg = NULL;
    *owned = NULL;
    memset(res, 0, sizeof(*res));
    if (a->extract_statements && a->prepare_extracted_statement) {
        dm_ddb_extracted stmts = NULL;
        dm_idx_t n = a->extract_statements(w->con, sql, &stmts);
        if (n == 0) {
            const char *e = a->extract_statements_error(stmts);
            *owned = strdup(e ? e : "no statement to run");
        }
        for (dm_idx_t i = 0; i < n && !*owned; i++) {
            dm_ddb_prepared prep = NULL;
            if (a->prepare_extracted_statement(w->con, stmts, i, &prep) !=
                DM_DDB_SUCCESS) {
                const char *e = a->prepare_error(prep);
                *owned = strdup(e ? e : "prepare failed");
            } else {
                a->destroy_result(res);
                memset(res, 0, sizeof(*res));
                if (a->execute_prepared(prep, res) != DM_DDB_SUCCESS) {
                    const char *e = a->result_error(res);
                    *owned = strdup(e ? e : "statement failed");
                }
            }
            a->destroy_prepare(&prep);
        }
        a->destroy_extracted(&stmts);
        return *owned ? *owned : NULL;
    }
    size_t n = 0;
    char **parts = split_sql(sql, &n);
    if (!parts)
        return *owned = strdup("out of memory");
    if (n == 0 && a->query(w->con, sql, res) != DM_DDB_SUCCESS)
        msg = a->result_error(res);
    for (size_t i = 0; i < n && !msg; i++) {
        a->destroy_result(res);
        memset(res, 0, sizeof(*res));
        if (a->query(w->con, parts[i], res) != DM_DDB_SUCCESS) {
            msg = a->result_error(res);
            if (!msg)
                msg = "statement failed";
        }
    }
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
    return msg;
}

static enum dm_code flush_rows(struct worker *w, uint32_t nrows, uint32_t ncols,
                               struct dm_wbuf *cells)
{
    struct dm_error err = DM_ERROR_INIT;
    dm_wbuf_begin(&w->out, DM_W_ROWS);
    dm_wbuf_u32(&w->out, nrows);
    dm_wbuf_u32(&w->out, ncols);
    dm_wbuf_bytes(&w->out, cells->data, cells->len);
    cells->len = 0;
    return dm_wire_send(w->fd, &w->out, &err);
}

/*
 * Run sql, which must be exactly one statement as the release's own
 * parser splits it (0.6 has no duckdb_extract_statements: its
 * duckdb_prepare refuses several statements). NULL or the error.
 */
static const char *run_one(struct worker *w, const char *sql,
                           struct dm_ddb_result *res, char **owned)
{
    const struct dm_duckdb_api *a = &w->api;
    dm_ddb_prepared prep = NULL;
    *owned = NULL;
    memset(res, 0, sizeof(*res));
    if (a->extract_statements && a->prepare_extracted_statement) {
        dm_ddb_extracted stmts = NULL;
        dm_idx_t n = a->extract_statements(w->con, sql, &stmts);
        if (n == 0) {
            const char *e = a->extract_statements_error(stmts);
            *owned = strdup(e ? e : "no statement to run");
        } else if (n != 1) {
            *owned = dm_fmt("%llu statements where duckmig runs exactly one",
                            (unsigned long long)n);
        } else if (a->prepare_extracted_statement(w->con, stmts, 0, &prep) !=
                   DM_DDB_SUCCESS) {
            const char *e = a->prepare_error(prep);
            *owned = strdup(e ? e : "prepare failed");
        }
        a->destroy_extracted(&stmts);
    } else if (a->prepare(w->con, sql, &prep) != DM_DDB_SUCCESS) {
        const char *e = a->prepare_error(prep);
        *owned = strdup(e ? e : "prepare failed");
    }
    if (!*owned && a->execute_prepared(prep, res) != DM_DDB_SUCCESS) {
        const char *e = a->result_error(res);
        *owned = strdup(e ? e : "statement failed");
    }
    if (prep)
        a->destroy_prepare(&prep);
    if (*owned)
        return *owned;
    return NULL;
}

/*
 * The release's own macros (0.6-0.8 list them beside a file's, in main):
 * the names a fresh in-memory database has. Asking costs an in-memory
 * open and a scan of every function, 15-25 ms per engine and file; a
 * zygote asks once (dm_engine_worker_learn_builtins) and its workers
 * inherit the answer. NUL-separated names.
 */
static char *builtin_names;
static size_t builtin_len;
static bool builtin_known;

#define BUILTIN_MACROS_SQL                                                     \
    "SELECT DISTINCT function_name FROM duckdb_functions() WHERE "             \
    "function_type IN ('macro', 'table_macro') ORDER BY function_name"

static const char *learn_builtins(const struct dm_duckdb_api *a)
{
    dm_ddb_database db = NULL;
    dm_ddb_connection con = NULL;
    struct dm_ddb_result res;
    struct dm_wbuf names = DM_WBUF_INIT;
    const char *failure = NULL;

    memset(&res, 0, sizeof(res));
    char *open_err = NULL;
    if (a->open_ext(NULL, &db, NULL, &open_err) != DM_DDB_SUCCESS) {
        if (open_err)
            a->free(open_err);
        return "cannot open an in-memory database";
    }
    if (a->connect(db, &con) != DM_DDB_SUCCESS) {
        failure = "cannot connect to an in-memory database";
        goto out;
    }
    if (a->query(con, BUILTIN_MACROS_SQL, &res) != DM_DDB_SUCCESS) {
        failure = "cannot list the release's macros";
        goto out;
    }
    for (dm_idx_t r = 0; r < a->row_count(&res); r++) {
        char *v = a->value_varchar(&res, 0, r);
        if (v) {
            dm_wbuf_bytes(&names, v, strlen(v) + 1);
            a->free(v);
        }
    }
    if (names.oom) {
        failure = "out of memory";
        goto out;
    }
    free(builtin_names);
    builtin_names = (char *)names.data;
    builtin_len = names.len;
    names.data = NULL;
    builtin_known = true;
out:
    a->destroy_result(&res);
    dm_wbuf_release(&names);
    if (con)
        a->disconnect(&con);
    a->close(&db);
    return failure;
}

bool dm_engine_worker_learn_builtins(const struct dm_duckdb_api *api)
{
    return learn_builtins(api) == NULL;
}

const char *dm_engine_worker_builtins(size_t *len)
{
    *len = builtin_len;
    return builtin_known ? builtin_names : NULL;
}

void dm_engine_worker_set_builtins(char *names, size_t len)
{
    free(builtin_names);
    builtin_names = names;
    builtin_len = len;
    builtin_known = true;
}

static enum dm_code handle_builtins(struct worker *w)
{
    struct dm_wbuf cells = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc;

    if (!builtin_known) {
        const char *failure = learn_builtins(&w->api);
        if (failure)
            return worker_send_error(w, DM_ERR_ENGINE, failure);
    }
    dm_wbuf_begin(&w->out, DM_W_COLUMNS);
    dm_wbuf_u32(&w->out, 1);
    dm_wbuf_str(&w->out, "function_name");
    rc = dm_wire_send(w->fd, &w->out, &err);
    uint32_t batch = 0;
    for (size_t at = 0; !rc && at < builtin_len;) {
        const char *name = builtin_names + at;
        at += strlen(name) + 1;
        dm_wbuf_str(&cells, name);
        if (++batch == ROWS_PER_FRAME || at >= builtin_len) {
            rc = cells.oom ? worker_send_error(w, DM_ERR_NOMEM, "out of memory")
                           : flush_rows(w, batch, 1, &cells);
            batch = 0;
        }
    }
    if (!rc) {
        dm_wbuf_begin(&w->out, DM_W_DONE);
        dm_wbuf_u64(&w->out, 0);
        rc = dm_wire_send(w->fd, &w->out, &err);
    }
    dm_wbuf_release(&cells);
    return rc;
}

static enum dm_code handle_query(struct worker *w, struct dm_wcur *c, bool one)
{
    struct dm_ddb_result res;
    struct dm_wbuf cells = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = DM_OK;

    char *sql = dm_wcur_str(c, NULL);
    if (c->bad || !sql)
        return worker_send_error(w, DM_ERR_PROTOCOL, "malformed QUERY frame");
    if (!w->con) {
        free(sql);
        return worker_send_error(w, DM_ERR_USAGE, "no database is open");
    }

    char *owned = NULL;
    const char *failure =
        one ? run_one(w, sql, &res, &owned) : run_script(w, sql, &res, &owned);
    if (failure) {
        rc = worker_send_error(w, DM_ERR_SQL, failure);
        free(owned);
        goto out;
    }

    dm_idx_t ncols = w->api.column_count(&res);
    dm_idx_t nrows = w->api.row_count(&res);
    dm_wbuf_begin(&w->out, DM_W_COLUMNS);
    dm_wbuf_u32(&w->out, (uint32_t)ncols);
    for (dm_idx_t i = 0; i < ncols; i++)
        dm_wbuf_str(&w->out, w->api.column_name(&res, i));
    rc = dm_wire_send(w->fd, &w->out, &err);
    if (rc)
        goto out;

    uint32_t batch = 0;
    for (dm_idx_t r = 0; r < nrows; r++) {
        for (dm_idx_t col = 0; col < ncols; col++) {
            if (w->api.value_is_null(&res, col, r)) {
                dm_wbuf_str(&cells, NULL);
                continue;
            }
            char *v = w->api.value_varchar(&res, col, r);
            dm_wbuf_str(&cells, v ? v : "");
            if (v)
                w->api.free(v);
        }
        batch++;
        if (cells.oom) {
            rc = worker_send_error(w, DM_ERR_NOMEM, "result row too large");
            goto out;
        }
        if (batch == ROWS_PER_FRAME || cells.len >= BYTES_PER_FRAME) {
            rc = flush_rows(w, batch, (uint32_t)ncols, &cells);
            if (rc)
                goto out;
            batch = 0;
        }
    }
    if (batch) {
        rc = flush_rows(w, batch, (uint32_t)ncols, &cells);
        if (rc)
            goto out;
    }
    dm_wbuf_begin(&w->out, DM_W_DONE);
    dm_wbuf_u64(&w->out, w->api.rows_changed(&res));
    rc = dm_wire_send(w->fd, &w->out, &err);
out:
    w->api.destroy_result(&res);
    dm_wbuf_release(&cells);
    free(sql);
    return rc;
}

/*
 * DuckDB allocates and frees blocks of 256 KiB (and a 0.6/0.7 result's
 * chunks) at a high rate. With glibc's adaptive defaults much of what is
 * freed goes back to the kernel (an unmapped chunk, or the top of a heap
 * past a trim threshold of a few hundred KiB), and the next allocation
 * faults fresh, zeroed pages in again. Fixed thresholds keep freed memory
 * for the next allocation. Measured on the 10M-row bench file to 1.5.6,
 * in paired runs: about 1 CPU-s less in the reader and 1.5 in the writer,
 * most of it kernel time, and a data phase of 7.8-7.9 s instead of
 * 9.3-10.9 s; the peak RSS did not rise (a worker lives for one
 * migration, and what it keeps is at most what it used at its peak).
 */
static void keep_freed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest: 32 MiB */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

void dm_engine_worker_prepare(void)
{
    /* a peer that stops reading (a failed writer) is an error to report,
     * not a reason to die */
    signal(SIGPIPE, SIG_IGN);
    keep_freed_memory();
}

int dm_engine_worker_serve(const struct dm_duckdb_api *api, const char *release)
{
    /* top, ps and perf tell the engines of a batch apart by this name */
    char comm[16];
    snprintf(comm, sizeof(comm), "duckdb-%s", release);
    prctl(PR_SET_NAME, comm);

    struct worker w;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_wbuf in = DM_WBUF_INIT;
    enum dm_wire_type type;
    int status = 1, patch;

    memset(&w, 0, sizeof(w));
    w.fd = WORKER_FD;
    w.passed = -1;
    w.api = *api;
    dm_release_parse(release, &w.major, &w.minor, &patch);
    dm_wbuf_begin(&w.out, DM_W_READY);
    dm_wbuf_str(&w.out,
                w.api.library_version ? w.api.library_version() : release);
    if (dm_wire_send(w.fd, &w.out, &err))
        goto out;

    for (;;) {
        struct dm_wcur c;
        dm_error_clear(&err);
        if (w.passed >= 0)
            close(w.passed); /* brought by a frame that did not take it */
        w.passed = -1;
        if (dm_wire_recv_fd(w.fd, &in, &type, &w.passed, &err))
            break; /* parent gone: nothing left to serve */
        dm_wcur_init(&c, &in);
        enum dm_code rc;
        if (type == DM_W_QUIT) {
            status = 0;
            break;
        } else if (type == DM_W_OPEN) {
            rc = handle_open(&w, &c);
        } else if (type == DM_W_QUERY || type == DM_W_STMT) {
            rc = handle_query(&w, &c, type == DM_W_STMT);
        } else if (type == DM_W_SCAN) {
            rc = worker_handle_scan(&w, &c);
        } else if (type == DM_W_PRINT) {
            rc = worker_handle_print(&w, &c);
        } else if (type == DM_W_APPEND) {
            rc = worker_handle_append(&w, &c);
        } else if (type == DM_W_BUILTINS) {
            rc = handle_builtins(&w);
        } else {
            rc =
                worker_send_error(&w, DM_ERR_PROTOCOL, "unexpected frame type");
        }
        if (rc)
            break;
    }
out:
    if (w.passed >= 0)
        close(w.passed);
    close_db(&w);
    dm_wbuf_release(&in);
    dm_wbuf_release(&w.out);
    return status;
}

int dm_engine_worker_main(int argc, char **argv)
{
    struct dm_duckdb_api api;
    struct dm_error err = DM_ERROR_INIT;
    int major, minor, patch, status = 1;

    memset(&api, 0, sizeof(api));
    /* a worker dies with the process that started it, even one killed
     * with SIGKILL: rows flow from worker to worker without passing
     * through it, so a worker in the middle of a table would otherwise
     * go on to the table's end. (The kernel sends this when the thread
     * that started the worker ends: engines are started and stopped on
     * one thread, dm_engine_start's caller.) If the parent died before
     * this line, the first frame read finds its socket closed. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dm_engine_worker_prepare();
    if (argc != 3 || !dm_release_parse(argv[1], &major, &minor, &patch)) {
        fprintf(stderr, "usage: duckmig __engine RELEASE LIBRARY\n");
        return 2;
    }
    if (dm_duckdb_api_load(argv[2], &api, &err)) {
        struct dm_wbuf out = DM_WBUF_INIT;
        struct dm_error ignored = DM_ERROR_INIT;
        dm_wbuf_begin(&out, DM_W_ERROR);
        dm_wbuf_u32(&out, (uint32_t)err.code);
        dm_wbuf_str(&out, err.msg);
        dm_wire_send(WORKER_FD, &out, &ignored);
        dm_wbuf_release(&out);
        return status;
    }
    status = dm_engine_worker_serve(&api, argv[1]);
    dm_duckdb_api_unload(&api);
    return status;
}
