/*
 * copy.c - a table's rows from the reader to the writer, over a socket of
 * their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catalog/scan.h"
#include "catalog/sqltext.h"
#include "migrate/migrate_int.h"
#include "util/log.h"
#include "util/str.h"

/*
 * A table's rows go from the reader to the writer over a socket of their
 * own, without passing through duckmig: the reader fingerprints them as
 * it sends them, and duckmig only starts the two ends and collects what
 * each reports.
 */
struct relay {
    struct dm_engine *writer;
    const char *into_schema, *into_table; /* the table or its stage */
    int reader_end, writer_end; /* duckmig's copies, until handed over */
    bool appending;             /* the writer took APPEND */
    struct dm_error err;
};

/* The reader has its end and has sent the schema: start the writer. */
static int begin_append(void *ctx, const struct dm_scan_schema *schema)
{
    struct relay *rl = ctx;
    /* only the workers may hold the socket's ends, so that either one
     * sees the other stop */
    close(rl->reader_end);
    rl->reader_end = -1;
    char **names = malloc((schema->ncols ? schema->ncols : 1) * sizeof(char *));
    enum dm_code rc = DM_ERR_NOMEM;
    if (names) {
        for (size_t i = 0; i < schema->ncols; i++)
            names[i] = schema->names[i];
        rc = dm_engine_append_begin(rl->writer, rl->into_schema, rl->into_table,
                                    schema->ncols, names, schema->types,
                                    rl->writer_end, &rl->err);
        free(names);
    } else {
        dm_fail(&rl->err, rc, "out of memory");
    }
    close(rl->writer_end);
    rl->writer_end = -1;
    rl->appending = rc == DM_OK;
    return rc;
}

static bool has_generated(const struct dm_cat_table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].generated)
            return true;
    return false;
}

#define STAGE_TABLE "__duckmig_stage"

/*
 * Copy one table's rows from reader to writer. The appender of 0.8 wants
 * generated columns too, so a table that has them is filled through a
 * stage table of its stored columns, then INSERT ... SELECT.
 */
enum dm_code copy_table(struct dm_engine *reader, struct dm_engine *writer,
                        const struct dm_cat_table *t,
                        struct dm_table_print *print, struct dm_error *err)
{
    struct relay rl;
    memset(&rl, 0, sizeof(rl));
    rl.writer = writer;
    rl.into_schema = t->schema;
    rl.into_table = t->name;
    rl.reader_end = rl.writer_end = -1;
    bool stage = has_generated(t);
    char *cols = dm_stored_columns_sql(t);
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *sql =
        cols && s && n ? dm_fmt("SELECT %s FROM %s.%s", cols, s, n) : NULL;
    char *mk = NULL, *fill = NULL, *drop = NULL;
    enum dm_code rc = DM_OK;
    uint64_t rows = 0;
    if (!sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (stage) {
        mk = dm_fmt("CREATE TABLE main.%s AS %s LIMIT 0", STAGE_TABLE, sql);
        fill = dm_fmt("INSERT INTO %s.%s (%s) SELECT * FROM main.%s", s, n,
                      cols, STAGE_TABLE);
        drop = dm_fmt("DROP TABLE main.%s", STAGE_TABLE);
        if (!mk || !fill || !drop) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        rc = dm_engine_exec_one(writer, mk, err);
        if (rc)
            goto out;
        rl.into_schema = "main";
        rl.into_table = STAGE_TABLE;
    }
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        rc = dm_fail_errno(err, DM_ERR_ENGINE, errno, "socketpair");
        goto out;
    }
    rl.reader_end = ends[0];
    rl.writer_end = ends[1];
    struct dm_error serr = DM_ERROR_INIT;
    rc = dm_scan_table(reader, t, DM_SCAN_CHUNKS | DM_SCAN_PRINT, rl.reader_end,
                       begin_append, &rl, print, &serr);
    /* the writer answers once the reader's rows stop, whatever stopped
     * them; each side says what went wrong on its own side */
    enum dm_code wrc = DM_OK;
    if (rl.appending)
        wrc = dm_engine_append_end(writer, &rows, &rl.err);
    if (rc || wrc) {
        /* a side that only saw the other stop (DM_ERR_ENGINE) is not the
         * cause; the other side's reason is */
        if (rl.err.code && (!serr.code || serr.code == DM_ERR_ENGINE))
            rc = dm_fail(err, rl.err.code, "writing %s.%s: %s", t->schema,
                         t->name, rl.err.msg);
        else if (!rl.err.code || rl.err.code == DM_ERR_ENGINE)
            rc = dm_fail(err, rc, "copying %s.%s: %s", t->schema, t->name,
                         serr.msg);
        else
            rc = dm_fail(err, serr.code, "copying %s.%s: %s; the writer: %s",
                         t->schema, t->name, serr.msg, rl.err.msg);
        goto out;
    }
    if (stage) {
        rc = dm_engine_exec_one(writer, fill, err);
        if (!rc)
            rc = dm_engine_exec_one(writer, drop, err);
        if (rc)
            goto out;
    }
    if (rows != print->rows)
        rc = dm_fail(err, DM_ERR_INTERNAL,
                     "%s.%s: %llu rows read but %llu appended", t->schema,
                     t->name, (unsigned long long)print->rows,
                     (unsigned long long)rows);
    dm_debug("migrate", "%s.%s: %llu rows", t->schema, t->name,
             (unsigned long long)rows);
out:
    if (rl.reader_end >= 0)
        close(rl.reader_end);
    if (rl.writer_end >= 0)
        close(rl.writer_end);
    free(drop);
    free(fill);
    free(mk);
    free(sql);
    free(cols);
    free(s);
    free(n);
    return rc;
}
