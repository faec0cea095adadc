/*
 * test_engine.c - the engine layer against the real DuckDB releases:
 * two releases live at once in one duckmig process (each in its worker),
 * results stream in batches, errors and worker deaths are reported, and
 * 1.x's fixed-size ARRAYs and TIME_NS go from a reader to a writer.
 * Needs the engines installed (tests/run checks); this binary doubles as
 * its own engine worker, as duckmig does.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "engine/worker.h"

static char dir[] = "/tmp/dm-engine-XXXXXX";

static void start(const char *release, struct dm_engine **e)
{
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = dm_engine_start(release, e, &err);
    if (rc)
        fail_msg("start %s: %s", release, err.msg);
}

static void exec_ok(struct dm_engine *e, const char *sql)
{
    struct dm_error err = DM_ERROR_INIT;
    if (dm_engine_exec(e, sql, &err))
        fail_msg("%s: %s", sql, err.msg);
}

static void two_releases_at_once(void **state)
{
    (void)state;
    struct dm_engine *old = NULL, *new = NULL;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_rows *rows = NULL;
    start("0.6.1", &old);
    start("1.5.6", &new);
    assert_string_equal(dm_engine_library_version(old), "v0.6.1");
    assert_string_equal(dm_engine_library_version(new), "v1.5.6");
    assert_int_equal(dm_engine_open(old, ":memory:", 0, NULL, 0, &err), DM_OK);
    assert_int_equal(dm_engine_open(new, ":memory:", 0, NULL, 0, &err), DM_OK);

    /* each answers from its own library, interleaved */
    assert_int_equal(dm_engine_query(old, "SELECT version() AS v", &rows, &err),
                     DM_OK);
    assert_string_equal(dm_rows_get(rows, 0, 0), "v0.6.1");
    assert_string_equal(rows->names[0], "v");
    dm_rows_free(rows);
    assert_int_equal(dm_engine_query(new, "SELECT version()", &rows, &err),
                     DM_OK);
    assert_string_equal(dm_rows_get(rows, 0, 0), "v1.5.6");
    dm_rows_free(rows);
    dm_engine_stop(old);
    dm_engine_stop(new);
}

static void nulls_and_strings(void **state)
{
    (void)state;
    static const char *const releases[] = {"0.6.1", "0.7.1", "0.8.1", "1.5.6"};
    for (size_t i = 0; i < 4; i++) {
        struct dm_engine *e = NULL;
        struct dm_error err = DM_ERROR_INIT;
        struct dm_rows *rows = NULL;
        start(releases[i], &e);
        assert_int_equal(dm_engine_open(e, ":memory:", 0, NULL, 0, &err),
                         DM_OK);
        assert_int_equal(
            dm_engine_query(e,
                            "SELECT NULL AS n, '' AS empty, 'a\tb' AS t, "
                            "42::BIGINT AS i",
                            &rows, &err),
            DM_OK);
        assert_int_equal(rows->ncols, 4);
        assert_int_equal(rows->nrows, 1);
        assert_null(dm_rows_get(rows, 0, 0));
        assert_string_equal(dm_rows_get(rows, 0, 1), "");
        assert_string_equal(dm_rows_get(rows, 0, 2), "a\tb");
        assert_string_equal(dm_rows_get(rows, 0, 3), "42");
        assert_string_equal(rows->names[3], "i");
        dm_rows_free(rows);
        dm_engine_stop(e);
    }
}

struct counter {
    size_t rows;
    size_t batches;
    size_t stop_after;
    long long sum;
};

static int count_rows(void *ctx, size_t ncols, char *const *names, size_t nrows,
                      char *const *cells)
{
    struct counter *c = ctx;
    (void)names;
    assert_int_equal(ncols, 1);
    for (size_t r = 0; r < nrows; r++)
        c->sum += atoll(cells[r]);
    c->rows += nrows;
    c->batches++;
    return c->stop_after && c->batches >= c->stop_after ? DM_ERR_GENERIC : 0;
}

static void streams_in_batches(void **state)
{
    (void)state;
    struct dm_engine *e = NULL;
    struct dm_error err = DM_ERROR_INIT;
    struct counter c = {0, 0, 0, 0};
    start("0.6.1", &e);
    assert_int_equal(dm_engine_open(e, ":memory:", 0, NULL, 0, &err), DM_OK);
    assert_int_equal(dm_engine_query_each(e, "SELECT range FROM range(100000)",
                                          count_rows, &c, &err),
                     DM_OK);
    assert_int_equal(c.rows, 100000);
    assert_true(c.batches > 1);
    assert_true(c.sum == 4999950000LL);

    /* a callback that stops early: the rest is drained, the engine lives */
    struct counter s = {0, 0, 2, 0};
    assert_int_equal(dm_engine_query_each(e, "SELECT range FROM range(100000)",
                                          count_rows, &s, &err),
                     DM_ERR_GENERIC);
    assert_int_equal(s.batches, 2);
    struct dm_rows *rows = NULL;
    assert_int_equal(dm_engine_query(e, "SELECT 7", &rows, &err), DM_OK);
    assert_string_equal(dm_rows_get(rows, 0, 0), "7");
    dm_rows_free(rows);
    dm_engine_stop(e);
}

/* The reader sent its schema: start the writer's APPEND on its end. */
struct relay {
    struct dm_engine *writer;
    int reader_end, writer_end;
    bool appending;
    struct dm_type_node *types; /* a copy of what the reader described */
    struct dm_error err;
};

static int begin_append(void *ctx, const struct dm_scan_schema *schema)
{
    struct relay *rl = ctx;
    close(rl->reader_end);
    rl->reader_end = -1;
    struct dm_wbuf b = DM_WBUF_INIT;
    for (size_t i = 0; i < schema->ncols; i++)
        dm_type_write(&b, &schema->types[i]);
    struct dm_wcur c;
    dm_wcur_init(&c, &b);
    rl->types = calloc(schema->ncols, sizeof(*rl->types));
    for (size_t i = 0; rl->types && i < schema->ncols; i++)
        dm_type_read(&c, &rl->types[i]);
    dm_wbuf_release(&b);
    enum dm_code rc = dm_engine_append_begin(
        rl->writer, "main", "t", schema->ncols, schema->names, schema->types,
        rl->writer_end, &rl->err);
    close(rl->writer_end);
    rl->writer_end = -1;
    rl->appending = rc == DM_OK;
    return rc;
}

static char *one_value(struct dm_engine *e, const char *sql)
{
    struct dm_error err = DM_ERROR_INIT;
    struct dm_rows *rows = NULL;
    if (dm_engine_query(e, sql, &rows, &err))
        fail_msg("%s: %s", sql, err.msg);
    assert_int_equal(rows->nrows, 1);
    const char *v = dm_rows_get(rows, 0, 0);
    char *out = strdup(v ? v : "NULL");
    dm_rows_free(rows);
    return out;
}

#define ARRAY_TABLE                                                            \
    "CREATE TABLE t(id INTEGER, a INTEGER[3], b TIME_NS, "                     \
    "c STRUCT(x INTEGER[2])[], d VARCHAR[2], e INTEGER[3][])"

/*
 * 1.x's fixed-size ARRAYs (alone, in a STRUCT in a LIST, of VARCHAR, in a
 * LIST) and TIME_NS travel from a 1.5.6 reader to a 1.5.6 writer as
 * vectors, over more chunks than one (each with NULL rows, NULL elements,
 * strings too long to inline): the writer holds the same values, and the
 * fingerprints of both sides agree.
 */
static void arrays_and_time_ns_between_workers(void **state)
{
    (void)state;
    struct dm_engine *reader = NULL, *writer = NULL;
    struct dm_error err = DM_ERROR_INIT;
    start("1.5.6", &reader);
    start("1.5.6", &writer);
    assert_int_equal(dm_engine_open(reader, ":memory:", 0, NULL, 0, &err),
                     DM_OK);
    assert_int_equal(dm_engine_open(writer, ":memory:", 0, NULL, 0, &err),
                     DM_OK);
    exec_ok(reader, ARRAY_TABLE);
    exec_ok(writer, ARRAY_TABLE);
    exec_ok(reader, "INSERT INTO t SELECT i, "
                    "CASE WHEN i % 7 = 0 THEN NULL ELSE [i, NULL, -i] END, "
                    "CASE WHEN i % 5 = 0 THEN NULL ELSE ('00:' || "
                    "lpad((i % 60)::VARCHAR, 2, '0') || ':07.' || "
                    "lpad(i::VARCHAR, 9, '0'))::TIME_NS END, "
                    "CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN [] ELSE "
                    "[{'x': [i, i + 1]}, NULL, {'x': NULL}] END, "
                    "CASE WHEN i % 3 = 0 THEN NULL ELSE "
                    "['a string too long to inline ' || i, NULL] END, "
                    "CASE WHEN i % 6 = 0 THEN NULL ELSE "
                    "[[i, i, NULL], NULL, [1, 2, 3]] END "
                    "FROM range(5000) r(i)");

    int ends[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends),
                     0);
    struct relay rl = {writer, ends[0], ends[1], false, NULL, DM_ERROR_INIT};
    struct dm_scan_ranges whole = {DM_SCAN_WHOLE_TABLE, 0, 0, rl.reader_end};
    struct dm_table_print sent;
    memset(&sent, 0, sizeof(sent));
    const char *cols = "SELECT id, a, b, c, d, e FROM t";
    enum dm_code rc = dm_engine_scan_ranges(reader, cols, &whole,
                                            DM_SCAN_CHUNKS | DM_SCAN_PRINT,
                                            begin_append, &rl, &sent, &err);
    if (rc)
        fail_msg("scan: %s", err.msg);
    assert_true(rl.appending);
    uint64_t rows = 0;
    if (dm_engine_append_end(writer, &rows, &rl.err))
        fail_msg("append: %s", rl.err.msg);
    assert_int_equal(rows, 5000);
    assert_int_equal(sent.rows, 5000);

    /* the trees the reader described */
    assert_non_null(rl.types);
    assert_int_equal(rl.types[1].type, DM_T_ARRAY);
    assert_int_equal(rl.types[1].array_size, 3);
    assert_int_equal(rl.types[1].children[0].type, DM_T_INTEGER);
    assert_int_equal(rl.types[2].type, DM_T_TIME_NS);
    assert_int_equal(rl.types[2].width, 8);
    assert_int_equal(rl.types[3].children[0].children[0].array_size, 2);
    assert_int_equal(rl.types[5].children[0].type, DM_T_ARRAY);
    for (size_t i = 0; i < 6; i++)
        dm_type_release(&rl.types[i]);
    free(rl.types);

    /* the values, as each side's DuckDB renders them */
    const char *digest =
        "SELECT md5(string_agg(concat_ws('|', id, coalesce(a::VARCHAR, '-'), "
        "coalesce(b::VARCHAR, '-'), coalesce(c::VARCHAR, '-'), "
        "coalesce(d::VARCHAR, '-'), coalesce(e::VARCHAR, '-')), ';' "
        "ORDER BY id)) FROM t";
    char *want = one_value(reader, digest), *got = one_value(writer, digest);
    assert_string_equal(got, want);
    free(want);
    free(got);
    got = one_value(writer, "SELECT concat_ws('|', a[3], b, c[1].x[2], "
                            "d[1], e[1][2], e[3][3]) FROM t WHERE id = 4999");
    assert_string_equal(got, "-4999|00:19:07.000004999|5000|a string too "
                             "long to inline 4999|4999|3");
    free(got);
    got = one_value(writer, "SELECT count(*) FILTER (WHERE a IS NULL) || ',' "
                            "|| count(*) FILTER (WHERE b IS NULL) FROM t");
    assert_string_equal(got, "715,1000");
    free(got);

    /* the writer's fingerprints are the reader's, NULL rows counted */
    struct dm_table_print kept;
    memset(&kept, 0, sizeof(kept));
    char *sqls[] = {(char *)cols};
    if (dm_engine_print(writer, sqls, 1, &kept, &err))
        fail_msg("print: %s", err.msg);
    assert_int_equal(kept.rows, 5000);
    assert_int_equal(kept.ncols, 6);
    assert_int_equal(sent.cols[1].nulls, 715);
    for (size_t i = 0; i < 6; i++) {
        assert_true(kept.cols[i].sum == sent.cols[i].sum);
        assert_true(kept.cols[i].xor_ == sent.cols[i].xor_);
        assert_int_equal(kept.cols[i].nulls, sent.cols[i].nulls);
    }
    /* ... and see a change in one element of one array */
    exec_ok(writer, "UPDATE t SET a = [4999, 0, -4999] WHERE id = 4999");
    dm_table_print_release(&kept);
    memset(&kept, 0, sizeof(kept));
    if (dm_engine_print(writer, sqls, 1, &kept, &err))
        fail_msg("print: %s", err.msg);
    assert_false(kept.cols[1].sum == sent.cols[1].sum);
    assert_true(kept.cols[2].sum == sent.cols[2].sum);
    dm_table_print_release(&kept);
    dm_table_print_release(&sent);
    dm_engine_stop(reader);
    dm_engine_stop(writer);
}

static void sql_errors_and_read_only(void **state)
{
    (void)state;
    struct dm_engine *e = NULL;
    struct dm_error err = DM_ERROR_INIT;
    char path[256];
    snprintf(path, sizeof(path), "%s/ro.duckdb", dir);
    start("0.8.1", &e);

    /* no database yet */
    assert_int_equal(dm_engine_exec(e, "SELECT 1", &err), DM_ERR_USAGE);
    dm_error_clear(&err);

    assert_int_equal(dm_engine_open(e, path, 0, NULL, 0, &err), DM_OK);
    exec_ok(e, "CREATE TABLE t(i INTEGER); INSERT INTO t VALUES (1), (2)");
    assert_int_equal(dm_engine_exec(e, "SELEC oops", &err), DM_ERR_SQL);
    assert_non_null(strstr(err.msg, "syntax error"));
    dm_error_clear(&err);

    /* reopen read-only: reads work, writes are refused */
    assert_int_equal(dm_engine_open(e, path, DM_OPEN_READ_ONLY, NULL, 0, &err),
                     DM_OK);
    struct dm_rows *rows = NULL;
    assert_int_equal(dm_engine_query(e, "SELECT sum(i) FROM t", &rows, &err),
                     DM_OK);
    assert_string_equal(dm_rows_get(rows, 0, 0), "3");
    dm_rows_free(rows);
    assert_int_equal(dm_engine_exec(e, "INSERT INTO t VALUES (3)", &err),
                     DM_ERR_SQL);
    assert_non_null(strstr(err.msg, "read-only"));
    dm_error_clear(&err);

    /* a bad setting is named */
    struct dm_setting bad = {"no_such_setting", "1"};
    assert_int_not_equal(dm_engine_open(e, ":memory:", 0, &bad, 1, &err),
                         DM_OK);
    assert_non_null(strstr(err.msg, "no_such_setting"));
    dm_engine_stop(e);
}

static void wrong_release_cannot_open(void **state)
{
    (void)state;
    struct dm_engine *e = NULL;
    struct dm_error err = DM_ERROR_INIT;
    char path[256];
    snprintf(path, sizeof(path), "%s/v39.duckdb", dir);
    start("0.6.1", &e);
    assert_int_equal(dm_engine_open(e, path, 0, NULL, 0, &err), DM_OK);
    exec_ok(e, "CREATE TABLE t AS SELECT 1 AS i");
    dm_engine_stop(e);

    start("0.7.1", &e);
    assert_int_equal(dm_engine_open(e, path, DM_OPEN_READ_ONLY, NULL, 0, &err),
                     DM_ERR_SQL);
    assert_non_null(strstr(err.msg, "0.7.1"));
    assert_non_null(strstr(err.msg, path));
    dm_engine_stop(e);
}

static void worker_death_is_reported(void **state)
{
    (void)state;
    struct dm_engine *e = NULL;
    struct dm_error err = DM_ERROR_INIT;
    start("1.5.6", &e);
    assert_int_equal(dm_engine_open(e, ":memory:", 0, NULL, 0, &err), DM_OK);
    assert_true(dm_engine_pid(e) > 0);
    assert_int_equal(kill(dm_engine_pid(e), SIGKILL), 0);
    assert_int_equal(dm_engine_exec(e, "SELECT 1", &err), DM_ERR_PROTOCOL);
    assert_non_null(strstr(err.msg, "1.5.6 worker died (signal 9"));
    dm_error_clear(&err);
    assert_int_equal(dm_engine_exec(e, "SELECT 1", &err), DM_ERR_PROTOCOL);
    assert_non_null(strstr(err.msg, "gone"));
    dm_engine_stop(e);
}

static void missing_engine(void **state)
{
    (void)state;
    struct dm_engine *e = NULL;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_engine_start("0.5.1", &e, &err), DM_ERR_ENGINE);
    assert_null(e);
    assert_non_null(strstr(err.msg, "0.5.1 is not installed"));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__engine") == 0)
        return dm_engine_worker_main(argc - 1, argv + 1);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_releases_at_once),
        cmocka_unit_test(nulls_and_strings),
        cmocka_unit_test(streams_in_batches),
        cmocka_unit_test(arrays_and_time_ns_between_workers),
        cmocka_unit_test(sql_errors_and_read_only),
        cmocka_unit_test(wrong_release_cannot_open),
        cmocka_unit_test(worker_death_is_reported),
        cmocka_unit_test(missing_engine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
