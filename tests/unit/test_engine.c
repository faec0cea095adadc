/*
 * test_engine.c - the engine layer against the real DuckDB releases:
 * two releases live at once in one duckmig process (each in its worker),
 * results stream in batches, errors and worker deaths are reported.
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
        cmocka_unit_test(sql_errors_and_read_only),
        cmocka_unit_test(wrong_release_cannot_open),
        cmocka_unit_test(worker_death_is_reported),
        cmocka_unit_test(missing_engine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
