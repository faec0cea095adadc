/* client.c - the parent's side of an engine worker (see engine.h). */
#include "engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/registry.h"
#include "engine/zygote.h"
#include "header/header.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/settings.h"

extern char **environ;

struct dm_engine {
    pid_t pid;
    int fd;
    /* a worker forked by a zygote (zygote.h): not our child, its end is
     * told on this connection; -1 for a worker we spawned */
    int zconn;
    bool dead;
    char release[DM_RELEASE_MAX];
    char *library_version;
    struct dm_wbuf buf;
};

const char *dm_engine_release(const struct dm_engine *e)
{
    return e->release;
}

bool dm_engine_streams(const struct dm_engine *e)
{
    int major = 0, minor = 0, patch = 0;
    dm_release_parse(e->release, &major, &minor, &patch);
    return major > 0 || minor >= 8;
}

bool dm_engine_streams_lists_wrong(const struct dm_engine *e)
{
    int major = 0, minor = 0, patch = 0;
    dm_release_parse(e->release, &major, &minor, &patch);
    return dm_release_streams_lists_wrong(major, minor);
}

int dm_engine_pid(const struct dm_engine *e)
{
    return (int)e->pid;
}

const char *dm_engine_library_version(const struct dm_engine *e)
{
    return e->library_version ? e->library_version : "";
}

void dm_rows_free(struct dm_rows *rows)
{
    if (!rows)
        return;
    for (size_t i = 0; i < rows->ncols; i++)
        free(rows->names ? rows->names[i] : NULL);
    for (size_t i = 0; rows->cells && i < rows->ncols * rows->nrows; i++)
        free(rows->cells[i]);
    free(rows->names);
    free(rows->cells);
    free(rows);
}

const char *dm_rows_get(const struct dm_rows *rows, size_t row, size_t col)
{
    if (!rows || row >= rows->nrows || col >= rows->ncols)
        return NULL;
    return rows->cells[row * rows->ncols + col];
}

/* Reap the worker and describe how it ended. */
static enum dm_code worker_died(struct dm_engine *e, struct dm_error *err)
{
    int status = 0;
    e->dead = true;
    bool reaped = false;
    if (e->zconn >= 0)
        reaped = dm_zygote_reap(&e->zconn, false, 10000, &status);
    else
        reaped = e->pid > 0 && waitpid(e->pid, &status, 0) == e->pid;
    if (reaped) {
        e->pid = -1;
        if (WIFSIGNALED(status))
            return dm_fail(err, DM_ERR_PROTOCOL,
                           "DuckDB %s worker died (signal %d: %s)", e->release,
                           WTERMSIG(status), strsignal(WTERMSIG(status)));
        return dm_fail(err, DM_ERR_PROTOCOL,
                       "DuckDB %s worker exited with status %d", e->release,
                       WEXITSTATUS(status));
    }
    return dm_fail(err, DM_ERR_PROTOCOL, "DuckDB %s worker vanished",
                   e->release);
}

static enum dm_code recv_frame(struct dm_engine *e, enum dm_wire_type *type,
                               struct dm_error *err)
{
    struct dm_error rerr = DM_ERROR_INIT;
    if (e->dead)
        return dm_fail(err, DM_ERR_PROTOCOL, "DuckDB %s worker is gone",
                       e->release);
    if (dm_wire_recv(e->fd, &e->buf, type, &rerr))
        return worker_died(e, err);
    return DM_OK;
}

/* Send e->buf, with the descriptor pass (>= 0) along. */
static enum dm_code send_frame_fd(struct dm_engine *e, int pass,
                                  struct dm_error *err)
{
    struct dm_error serr = DM_ERROR_INIT;
    if (e->dead)
        return dm_fail(err, DM_ERR_PROTOCOL, "DuckDB %s worker is gone",
                       e->release);
    enum dm_code rc = dm_wire_send_fd(e->fd, &e->buf, pass, &serr);
    if (rc == DM_ERR_PROTOCOL)
        return worker_died(e, err);
    if (rc)
        return dm_fail(err, rc, "%s", serr.msg);
    return DM_OK;
}

static enum dm_code send_frame(struct dm_engine *e, struct dm_error *err)
{
    return send_frame_fd(e, -1, err);
}

/* Decode an ERROR frame already in e->buf into err. */
static enum dm_code error_frame(struct dm_engine *e, struct dm_error *err)
{
    struct dm_wcur c;
    dm_wcur_init(&c, &e->buf);
    uint32_t code = dm_wcur_u32(&c);
    char *msg = dm_wcur_str(&c, NULL);
    if (c.bad || code == DM_OK || code > DM_ERR_LAST)
        code = DM_ERR_PROTOCOL;
    enum dm_code rc = dm_fail(err, (enum dm_code)code, "%s",
                              msg ? msg : "malformed error from worker");
    free(msg);
    return rc;
}

/*
 * DUCKMIG_TRACE_ENGINE=1: every query to stderr with its time, to see
 * where a migration's time goes (a small file's is mostly statements).
 */
static bool tracing(void)
{
    static int on = -1;
    if (on < 0) {
        on = dm_setting_u64(DM_SET_TRACE_ENGINE) == 1;
    }
    return on;
}

/* When tracing, the start of what trace() will time; else nothing. */
static double trace_start(void)
{
    return tracing() ? dm_clock_now() : 0;
}

static void trace(const struct dm_engine *e, double t0, const char *sql)
{
    size_t n = strcspn(sql, "\n");
    fprintf(stderr, "duckmig: trace: %s[%d] %7.2f ms %.*s%s\n", e->release,
            (int)e->pid, (dm_clock_now() - t0) * 1e3, (int)(n > 160 ? 160 : n),
            sql, n > 160 || sql[n] ? " ..." : "");
}

static enum dm_code spawn_worker(struct dm_engine *e, const char *library,
                                 struct dm_error *err)
{
    int sv[2] = {-1, -1};
    enum dm_code rc = DM_OK;
    posix_spawn_file_actions_t fa;
    bool fa_ready = false;
    char exe[PATH_MAX];

    if (dm_zygote_fork(e->release, library, &e->fd, &e->pid, &e->zconn))
        return DM_OK;
    if (!dm_engine_program(exe, sizeof(exe)))
        return dm_fail_errno(err, DM_ERR_ENGINE, errno,
                             "cannot find the duckmig executable");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return dm_fail_errno(err, DM_ERR_ENGINE, errno, "socketpair");
    /* dup2(3, 3) would keep FD_CLOEXEC: move the child's end off fd 3. */
    if (sv[1] == 3) {
        int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
        if (moved < 0) {
            rc = dm_fail_errno(err, DM_ERR_ENGINE, errno, "fcntl");
            goto out;
        }
        close(sv[1]);
        sv[1] = moved;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = dm_fail(err, DM_ERR_NOMEM, "posix_spawn_file_actions_init");
        goto out;
    }
    fa_ready = true;
    if (posix_spawn_file_actions_adddup2(&fa, sv[1], 3) != 0) {
        rc = dm_fail(err, DM_ERR_NOMEM, "posix_spawn_file_actions_adddup2");
        goto out;
    }
    char *argv[] = {exe, (char *)"__engine", e->release, (char *)library, NULL};
    int serr = posix_spawn(&e->pid, exe, &fa, NULL, argv, environ);
    if (serr != 0) {
        e->pid = -1;
        rc = dm_fail_errno(err, DM_ERR_ENGINE, serr,
                           "cannot start the DuckDB %s worker", e->release);
        goto out;
    }
    e->fd = sv[0];
    sv[0] = -1;
out:
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return rc;
}

enum dm_code dm_engine_start(const char *release, struct dm_engine **out,
                             struct dm_error *err)
{
    char library[PATH_MAX];
    enum dm_wire_type type;
    enum dm_code rc;

    *out = NULL;
    rc = dm_engine_library(release, library, sizeof(library), err);
    if (rc)
        return rc;
    struct dm_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    e->pid = -1;
    e->fd = -1;
    e->zconn = -1;
    snprintf(e->release, sizeof(e->release), "%s", release);

    double t0 = trace_start();
    rc = spawn_worker(e, library, err);
    if (rc)
        goto fail;
    rc = recv_frame(e, &type, err);
    if (rc)
        goto fail;
    if (type == DM_W_ERROR) {
        rc = error_frame(e, err);
        goto fail;
    }
    struct dm_wcur c;
    dm_wcur_init(&c, &e->buf);
    e->library_version = dm_wcur_str(&c, NULL);
    if (type != DM_W_READY || c.bad) {
        rc = dm_fail(err, DM_ERR_PROTOCOL, "DuckDB %s worker did not say READY",
                     release);
        goto fail;
    }
    dm_debug("engine", "started DuckDB %s (%s) as pid %d%s", release,
             dm_engine_library_version(e), (int)e->pid,
             e->zconn >= 0 ? ", forked by its zygote" : "");
    if (tracing())
        trace(e, t0, e->zconn >= 0 ? "(forked)" : "(spawned)");
    *out = e;
    return DM_OK;
fail:
    dm_engine_stop(e);
    return rc;
}

enum dm_code dm_engine_open(struct dm_engine *e, const char *path,
                            unsigned flags, const struct dm_setting *settings,
                            size_t nsettings, struct dm_error *err)
{
    enum dm_wire_type type;
    enum dm_code rc;
    double t0 = trace_start();

    dm_wbuf_begin(&e->buf, DM_W_OPEN);
    dm_wbuf_u32(&e->buf, flags);
    dm_wbuf_str(&e->buf, path);
    dm_wbuf_u32(&e->buf, (uint32_t)nsettings);
    for (size_t i = 0; i < nsettings; i++) {
        dm_wbuf_str(&e->buf, settings[i].name);
        dm_wbuf_str(&e->buf, settings[i].value);
    }
    rc = send_frame(e, err);
    if (rc)
        return rc;
    rc = recv_frame(e, &type, err);
    if (rc)
        return rc;
    if (type == DM_W_ERROR) {
        struct dm_error oerr = DM_ERROR_INIT;
        rc = error_frame(e, &oerr);
        return dm_fail(err, rc, "DuckDB %s cannot open '%s': %s", e->release,
                       path, oerr.msg);
    }
    if (type != DM_W_OK)
        return dm_fail(err, DM_ERR_PROTOCOL, "unexpected reply to OPEN");
    if (tracing())
        trace(e, t0, path);
    return DM_OK;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/*
 * Decode a COLUMNS or ROWS payload into an array of n strings; returns
 * NULL (and sets *bad) on a malformed frame or OOM.
 */
static char **decode_strings(struct dm_wcur *c, size_t n, bool *bad)
{
    char **v = calloc(n ? n : 1, sizeof(char *));
    if (!v) {
        *bad = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        bool is_null;
        v[i] = dm_wcur_str(c, &is_null);
        if (c->bad) {
            free_strings(v, n);
            *bad = true;
            return NULL;
        }
    }
    return v;
}

static enum dm_code query_frames(struct dm_engine *e, enum dm_wire_type kind,
                                 const char *sql, dm_rows_fn fn, void *ctx,
                                 struct dm_error *err);

enum dm_code dm_engine_query_each(struct dm_engine *e, const char *sql,
                                  dm_rows_fn fn, void *ctx,
                                  struct dm_error *err)
{
    return query_frames(e, DM_W_QUERY, sql, fn, ctx, err);
}

static enum dm_code query_frames_untraced(struct dm_engine *e,
                                          enum dm_wire_type kind,
                                          const char *sql, dm_rows_fn fn,
                                          void *ctx, struct dm_error *err);

/*
 * DUCKMIG_ENGINE_FAULT='PREFIX|MESSAGE': a statement that starts with
 * PREFIX fails as if the engine had said MESSAGE, classed as the worker
 * classes what DuckDB says (an "Out of Memory Error" is a resource
 * failure). The one seam for what cannot be made to happen on demand: a
 * release running out of memory while it builds an index, say
 * (migrate-faults.t). Unset, it costs one lookup per process.
 */
static bool injected_fault(const char *sql, struct dm_error *err,
                           enum dm_code *rc)
{
    static int parsed = 0;
    static char prefix[256], message[512];
    if (!parsed) {
        const char *v = dm_setting(DM_SET_ENGINE_FAULT);
        const char *bar = v ? strchr(v, '|') : NULL;
        parsed = bar && bar > v ? 1 : -1;
        if (parsed > 0) {
            snprintf(prefix, sizeof(prefix), "%.*s", (int)(bar - v), v);
            snprintf(message, sizeof(message), "%s", bar + 1);
        }
    }
    if (parsed < 0 || strncmp(sql, prefix, strlen(prefix)) != 0)
        return false;
    *rc = dm_fail(err, dm_duckdb_error_class(message), "%s", message);
    return true;
}

static enum dm_code query_frames(struct dm_engine *e, enum dm_wire_type kind,
                                 const char *sql, dm_rows_fn fn, void *ctx,
                                 struct dm_error *err)
{
    enum dm_code injected;
    if (injected_fault(sql, err, &injected))
        return injected;
    double t0 = trace_start();
    enum dm_code rc = query_frames_untraced(e, kind, sql, fn, ctx, err);
    if (tracing())
        trace(e, t0, sql);
    return rc;
}

static enum dm_code query_frames_untraced(struct dm_engine *e,
                                          enum dm_wire_type kind,
                                          const char *sql, dm_rows_fn fn,
                                          void *ctx, struct dm_error *err)
{
    enum dm_wire_type type;
    enum dm_code rc;
    char **names = NULL;
    size_t ncols = 0;
    int stop = 0;

    dm_wbuf_begin(&e->buf, kind);
    dm_wbuf_str(&e->buf, sql);
    rc = send_frame(e, err);
    if (rc)
        return rc;

    for (;;) {
        rc = recv_frame(e, &type, err);
        if (rc)
            goto out;
        struct dm_wcur c;
        bool bad = false;
        dm_wcur_init(&c, &e->buf);
        if (type == DM_W_ERROR) {
            rc = error_frame(e, err);
            goto out;
        } else if (type == DM_W_COLUMNS) {
            free_strings(names, ncols);
            ncols = dm_wcur_u32(&c);
            names = c.bad ? NULL : decode_strings(&c, ncols, &bad);
            if (!names)
                ncols = 0;
        } else if (type == DM_W_ROWS) {
            uint32_t nrows = dm_wcur_u32(&c);
            uint32_t fcols = dm_wcur_u32(&c);
            if (c.bad || fcols != ncols) {
                bad = true;
            } else {
                size_t n = (size_t)nrows * ncols;
                char **cells = decode_strings(&c, n, &bad);
                if (cells && !stop && fn)
                    stop = fn(ctx, ncols, names, nrows, cells);
                free_strings(cells, n);
            }
        } else if (type == DM_W_DONE) {
            break;
        } else {
            bad = true;
        }
        if (bad || c.bad) {
            rc = dm_fail(err, DM_ERR_PROTOCOL,
                         "malformed frame from the DuckDB %s worker",
                         e->release);
            goto out;
        }
    }
    if (stop)
        rc = (enum dm_code)stop;
out:
    free_strings(names, ncols);
    return rc;
}

struct collect {
    struct dm_rows *rows;
    size_t cap;
    bool oom;
};

static int collect_batch(void *ctx, size_t ncols, char *const *names,
                         size_t nrows, char *const *cells)
{
    struct collect *co = ctx;
    struct dm_rows *r = co->rows;
    if (!r->names) {
        r->names = calloc(ncols ? ncols : 1, sizeof(char *));
        if (!r->names)
            goto oom;
        r->ncols = ncols;
        for (size_t i = 0; i < ncols; i++)
            if (names[i] && !(r->names[i] = strdup(names[i])))
                goto oom;
    }
    size_t need = (r->nrows + nrows) * ncols;
    if (need > co->cap) {
        size_t cap = co->cap ? co->cap : 64;
        while (cap < need)
            cap *= 2;
        char **p = realloc(r->cells, cap * sizeof(char *));
        if (!p)
            goto oom;
        r->cells = p;
        co->cap = cap;
    }
    for (size_t i = 0; i < nrows * ncols; i++) {
        char *v = NULL;
        if (cells[i] && !(v = strdup(cells[i]))) {
            /* keep the rows consistent so dm_rows_free() sees all cells */
            for (size_t j = i; j < nrows * ncols; j++)
                r->cells[r->nrows * ncols + j] = NULL;
            r->nrows += nrows;
            goto oom;
        }
        r->cells[r->nrows * ncols + i] = v;
    }
    r->nrows += nrows;
    return 0;
oom:
    co->oom = true;
    return DM_ERR_NOMEM;
}

static enum dm_code query_rows(struct dm_engine *e, enum dm_wire_type kind,
                               const char *sql, struct dm_rows **out,
                               struct dm_error *err)
{
    struct collect co = {calloc(1, sizeof(struct dm_rows)), 0, false};
    *out = NULL;
    if (!co.rows)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = query_frames(e, kind, sql, collect_batch, &co, err);
    if (co.oom)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory reading a result");
    if (rc) {
        dm_rows_free(co.rows);
        return rc;
    }
    *out = co.rows;
    return DM_OK;
}

enum dm_code dm_engine_query(struct dm_engine *e, const char *sql,
                             struct dm_rows **out, struct dm_error *err)
{
    return query_rows(e, DM_W_QUERY, sql, out, err);
}

enum dm_code dm_engine_builtin_macros(struct dm_engine *e, struct dm_rows **out,
                                      struct dm_error *err)
{
    return query_rows(e, DM_W_BUILTINS, "", out, err);
}

enum dm_code dm_engine_query_one(struct dm_engine *e, const char *sql,
                                 struct dm_rows **out, struct dm_error *err)
{
    return query_rows(e, DM_W_STMT, sql, out, err);
}

enum dm_code dm_engine_exec(struct dm_engine *e, const char *sql,
                            struct dm_error *err)
{
    return dm_engine_query_each(e, sql, NULL, NULL, err);
}

enum dm_code dm_engine_exec_one(struct dm_engine *e, const char *sql,
                                struct dm_error *err)
{
    return query_frames(e, DM_W_STMT, sql, NULL, NULL, err);
}

void dm_scan_schema_release(struct dm_scan_schema *s)
{
    for (size_t i = 0; i < s->ncols; i++) {
        if (s->names)
            free(s->names[i]);
        if (s->types)
            dm_type_release(&s->types[i]);
    }
    free(s->names);
    free(s->types);
    memset(s, 0, sizeof(*s));
}

static bool read_schema(struct dm_wcur *c, struct dm_scan_schema *s)
{
    uint32_t n = dm_wcur_u32(c);
    if (c->bad || n > DM_MAX_COLUMNS)
        return false;
    s->names = calloc(n ? n : 1, sizeof(char *));
    s->types = calloc(n ? n : 1, sizeof(*s->types));
    if (!s->names || !s->types)
        return false;
    s->ncols = n;
    for (uint32_t i = 0; i < n; i++) {
        s->names[i] = dm_wcur_str(c, NULL);
        if (c->bad || !dm_type_read(c, &s->types[i]))
            return false;
    }
    return true;
}

/* A worker busy sending a result cannot hear QUIT: end it. */
static void kill_worker(struct dm_engine *e)
{
    int status;
    if (e->zconn >= 0) {
        dm_zygote_reap(&e->zconn, true, 0, &status);
        e->pid = -1;
    } else if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        e->pid = -1;
    }
    e->dead = true;
}

/* DONE of a SCAN: u64 rows, u32 n, n x (rows, nulls, sum, xor) */
static bool read_done(struct dm_wcur *c, struct dm_table_print *print)
{
    uint64_t rows = dm_wcur_u64(c);
    uint32_t n = dm_wcur_u32(c);
    if (c->bad || n > DM_MAX_COLUMNS)
        return false;
    if (!print)
        return true;
    print->rows = rows;
    print->ncols = n;
    print->cols = calloc(n ? n : 1, sizeof(*print->cols));
    if (!print->cols)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        print->cols[i].rows = dm_wcur_u64(c);
        print->cols[i].nulls = dm_wcur_u64(c);
        print->cols[i].sum = dm_wcur_u64(c);
        print->cols[i].xor_ = dm_wcur_u64(c);
    }
    return !c->bad;
}

enum dm_code dm_engine_scan(struct dm_engine *e, const char *sql,
                            unsigned flags, dm_scan_fn fn, void *ctx,
                            struct dm_table_print *print, struct dm_error *err)
{
    struct dm_scan_ranges whole = {DM_SCAN_WHOLE_TABLE, 0, 0, -1};
    return dm_engine_scan_ranges(e, sql, &whole, flags, fn, ctx, print, err);
}

static enum dm_code scan_ranges(struct dm_engine *e, const char *sql,
                                const struct dm_scan_ranges *ranges,
                                unsigned flags, dm_scan_fn fn, void *ctx,
                                struct dm_table_print *print,
                                struct dm_error *err);

enum dm_code dm_engine_scan_ranges(struct dm_engine *e, const char *sql,
                                   const struct dm_scan_ranges *ranges,
                                   unsigned flags, dm_scan_fn fn, void *ctx,
                                   struct dm_table_print *print,
                                   struct dm_error *err)
{
    double t0 = trace_start();
    enum dm_code rc = scan_ranges(e, sql, ranges, flags, fn, ctx, print, err);
    if (tracing())
        trace(e, t0, sql);
    return rc;
}

static enum dm_code scan_ranges(struct dm_engine *e, const char *sql,
                                const struct dm_scan_ranges *ranges,
                                unsigned flags, dm_scan_fn fn, void *ctx,
                                struct dm_table_print *print,
                                struct dm_error *err)
{
    if ((flags & DM_SCAN_CHUNKS) && ranges->peer < 0)
        return dm_fail(err, DM_ERR_INTERNAL, "a scan's rows need a writer");
    struct dm_scan_schema schema = {0, NULL, NULL};
    enum dm_wire_type type;
    enum dm_code rc;
    bool have_schema = false;

    if (print)
        memset(print, 0, sizeof(*print));
    dm_wbuf_begin(&e->buf, DM_W_SCAN);
    dm_wbuf_str(&e->buf, sql);
    dm_wbuf_u32(&e->buf, flags);
    dm_wbuf_u64(&e->buf, ranges->last_rowid);
    dm_wbuf_u64(&e->buf, ranges->rows);
    dm_wbuf_u64(&e->buf, ranges->bytes);
    rc = send_frame_fd(e, flags & DM_SCAN_CHUNKS ? ranges->peer : -1, err);
    if (rc)
        return rc;
    for (;;) {
        rc = recv_frame(e, &type, err);
        if (rc)
            break;
        struct dm_wcur c;
        dm_wcur_init(&c, &e->buf);
        int stop = 0;
        if (type == DM_W_ERROR) {
            rc = error_frame(e, err);
            break;
        } else if (type == DM_W_SCHEMA && !have_schema) {
            if (!read_schema(&c, &schema)) {
                rc = dm_fail(err, DM_ERR_PROTOCOL,
                             "malformed SCHEMA from DuckDB %s", e->release);
                kill_worker(e);
                break;
            }
            have_schema = true;
            stop = fn ? fn(ctx, &schema) : 0;
        } else if (type == DM_W_DONE) {
            if (!read_done(&c, print))
                rc = dm_fail(err, DM_ERR_PROTOCOL,
                             "malformed DONE from DuckDB %s", e->release);
            break;
        } else {
            rc = dm_fail(err, DM_ERR_PROTOCOL,
                         "unexpected frame from DuckDB %s", e->release);
            kill_worker(e);
            break;
        }
        if (stop) {
            rc = (enum dm_code)stop;
            kill_worker(e);
            break;
        }
    }
    dm_scan_schema_release(&schema);
    return rc;
}

static enum dm_code print_groups(struct dm_engine *e, char *const *sqls,
                                 size_t n, struct dm_table_print *print,
                                 struct dm_error *err);

enum dm_code dm_engine_print(struct dm_engine *e, char *const *sqls, size_t n,
                             struct dm_table_print *print, struct dm_error *err)
{
    double t0 = trace_start();
    enum dm_code rc = print_groups(e, sqls, n, print, err);
    if (tracing())
        trace(e, t0, n ? sqls[0] : "(print)");
    return rc;
}

static enum dm_code print_groups(struct dm_engine *e, char *const *sqls,
                                 size_t n, struct dm_table_print *print,
                                 struct dm_error *err)
{
    enum dm_wire_type type;
    memset(print, 0, sizeof(*print));
    dm_wbuf_begin(&e->buf, DM_W_PRINT);
    dm_wbuf_u32(&e->buf, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        dm_wbuf_str(&e->buf, sqls[i]);
    enum dm_code rc = send_frame(e, err);
    if (!rc)
        rc = recv_frame(e, &type, err);
    if (rc)
        return rc;
    struct dm_wcur c;
    dm_wcur_init(&c, &e->buf);
    if (type == DM_W_ERROR)
        return error_frame(e, err);
    if (type != DM_W_DONE || !read_done(&c, print)) {
        dm_table_print_release(print);
        kill_worker(e);
        return dm_fail(err, DM_ERR_PROTOCOL,
                       "unexpected answer to PRINT from DuckDB %s", e->release);
    }
    return DM_OK;
}

enum dm_code dm_engine_append_begin(struct dm_engine *e, const char *schema,
                                    const char *table, size_t ncols,
                                    char *const *columns,
                                    const struct dm_type_node *types, int peer,
                                    struct dm_error *err)
{
    enum dm_wire_type type;
    dm_wbuf_begin(&e->buf, DM_W_APPEND);
    dm_wbuf_str(&e->buf, schema);
    dm_wbuf_str(&e->buf, table);
    dm_wbuf_u32(&e->buf, (uint32_t)ncols);
    for (size_t i = 0; i < ncols; i++) {
        dm_wbuf_str(&e->buf, columns[i]);
        dm_type_write(&e->buf, &types[i]);
    }
    enum dm_code rc = send_frame_fd(e, peer, err);
    if (!rc)
        rc = recv_frame(e, &type, err);
    if (rc)
        return rc;
    if (type == DM_W_ERROR)
        return error_frame(e, err);
    if (type != DM_W_OK)
        return dm_fail(err, DM_ERR_PROTOCOL, "unexpected reply to APPEND");
    return DM_OK;
}

enum dm_code dm_engine_append_end(struct dm_engine *e, uint64_t *rows,
                                  struct dm_error *err)
{
    enum dm_wire_type type;
    enum dm_code rc = recv_frame(e, &type, err);
    if (rc)
        return rc;
    if (type == DM_W_ERROR)
        return error_frame(e, err);
    struct dm_wcur c;
    dm_wcur_init(&c, &e->buf);
    uint64_t n = dm_wcur_u64(&c);
    if (type != DM_W_DONE || c.bad)
        return dm_fail(err, DM_ERR_PROTOCOL,
                       "unexpected answer to APPEND's rows");
    if (rows)
        *rows = n;
    return DM_OK;
}

void dm_engine_stop(struct dm_engine *e)
{
    if (!e)
        return;
    if (!e->dead && e->fd >= 0) {
        struct dm_error ignored = DM_ERROR_INIT;
        dm_wbuf_begin(&e->buf, DM_W_QUIT);
        dm_wire_send(e->fd, &e->buf, &ignored);
    }
    if (e->fd >= 0)
        close(e->fd);
    if (e->zconn >= 0) {
        /* Closing the database checkpoints; give it time, then insist. */
        int status;
        dm_zygote_reap(&e->zconn, false, 60000, &status);
    } else if (e->pid > 0) {
        /* Closing the database checkpoints; give it time, then insist.
         * Most workers end within a few ms of QUIT: look often at first. */
        for (int i = 0; i < 6100; i++) {
            pid_t r = waitpid(e->pid, NULL, WNOHANG);
            if (r == e->pid || (r < 0 && errno != EINTR))
                goto reaped;
            struct timespec ts = {0, (i < 100 ? 1 : 10) * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        dm_warn("engine", "DuckDB %s worker did not quit; killing it",
                e->release);
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
    }
reaped:
    free(e->library_version);
    dm_wbuf_release(&e->buf);
    free(e);
}
