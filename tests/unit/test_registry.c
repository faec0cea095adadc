/*
 * test_registry.c - release spellings, the engines folder, picking an
 * engine for a storage version, loading a library that is not DuckDB,
 * and the error and log helpers everything else relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/api.h"
#include "engine/registry.h"
#include "util/error.h"
#include "util/log.h"
#include "util/settings.h"

static char folder[] = "/tmp/dm-engines-XXXXXX";

static void touch_engine(const char *release)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", folder, release);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/libduckdb.so", folder, release);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(folder))
        return -1;
    setenv("DUCKMIG_ENGINES", folder, 1);
    dm_settings_load(NULL);
    touch_engine("0.6.1");
    touch_engine("0.8.1");
    touch_engine("1.1.3");
    touch_engine("1.5.6");
    touch_engine("1.10.0"); /* a release we know nothing about */
    char junk[256];
    snprintf(junk, sizeof(junk), "%s/not-a-release", folder);
    mkdir(junk, 0755);
    snprintf(junk, sizeof(junk), "%s/0.7.1", folder); /* no library inside */
    mkdir(junk, 0755);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", folder);
    return system(cmd) == 0 ? 0 : -1;
}

static void normalize(void **state)
{
    (void)state;
    char out[DM_RELEASE_MAX];
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_release_normalize("duckdb0.8.1", out, &err), DM_OK);
    assert_string_equal(out, "0.8.1");
    assert_int_equal(dm_release_normalize("v0.8.1", out, &err), DM_OK);
    assert_string_equal(out, "0.8.1");
    assert_int_equal(dm_release_normalize("latest", out, &err), DM_OK);
    assert_string_equal(out, DM_RELEASE_LATEST);
    assert_int_equal(dm_release_normalize("0.8", out, &err), DM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "'0.8'"));
}

static void installed_newest_first(void **state)
{
    (void)state;
    char rel[8][DM_RELEASE_MAX];
    assert_string_equal(dm_engines_dir(), folder);
    size_t n = dm_engines_installed(rel, 8);
    assert_int_equal(n, 5);
    assert_string_equal(rel[0], "1.10.0");
    assert_string_equal(rel[1], "1.5.6");
    assert_string_equal(rel[2], "1.1.3");
    assert_string_equal(rel[3], "0.8.1");
    assert_string_equal(rel[4], "0.6.1");
    assert_int_equal(dm_engines_installed(rel, 2), 2);
}

static void pick_for_storage(void **state)
{
    (void)state;
    char out[DM_RELEASE_MAX];
    assert_true(dm_engine_for_storage(39, out));
    assert_string_equal(out, "0.6.1");
    assert_true(dm_engine_for_storage(51, out));
    assert_string_equal(out, "0.8.1");
    assert_false(dm_engine_for_storage(43, out)); /* 0.7.1 has no library */
    assert_false(dm_engine_for_storage(38, out));
    assert_true(dm_engine_for_storage(64, out));
    assert_string_equal(out, "1.5.6"); /* newest that is known to read it */
    assert_true(dm_engine_for_storage(68, out));
    assert_string_equal(out, "1.5.6");
    assert_false(dm_engine_for_storage(69, out));
}

static void library_path(void **state)
{
    (void)state;
    char path[512];
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_engine_library("0.6.1", path, sizeof(path), &err),
                     DM_OK);
    assert_non_null(strstr(path, "/0.6.1/libduckdb.so"));
    assert_int_equal(dm_engine_library("0.7.1", path, sizeof(path), &err),
                     DM_ERR_ENGINE);
    assert_non_null(strstr(err.msg, "get-duckdb 0.7.1"));
}

static void api_load_rejects_non_duckdb(void **state)
{
    (void)state;
    struct dm_duckdb_api api;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_duckdb_api_load("libm.so.6", &api, &err),
                     DM_ERR_ENGINE);
    assert_non_null(strstr(err.msg, "duckdb_open_ext"));
    assert_null(api.handle);
    dm_error_clear(&err);
    assert_int_equal(
        dm_duckdb_api_load("/nonexistent/libduckdb.so", &api, &err),
        DM_ERR_ENGINE);
    assert_non_null(strstr(err.msg, "/nonexistent/libduckdb.so"));
    dm_duckdb_api_unload(&api); /* safe on a zeroed table */
}

static void first_error_wins(void **state)
{
    (void)state;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_fail(&err, DM_ERR_IO, "first %d", 1), DM_ERR_IO);
    assert_int_equal(dm_fail(&err, DM_ERR_SQL, "second"), DM_ERR_SQL);
    assert_int_equal(err.code, DM_ERR_IO);
    assert_string_equal(err.msg, "first 1");
    dm_error_clear(&err);
    dm_fail_errno(&err, DM_ERR_IO, 2, "open 'x'");
    assert_string_equal(err.msg, "open 'x': No such file or directory");
    assert_string_equal(dm_code_name(DM_ERR_CHECKSUM), "checksum");
    assert_int_equal(dm_fail(NULL, DM_ERR_USAGE, "ignored"), DM_ERR_USAGE);
}

static void log_levels(void **state)
{
    (void)state;
    assert_int_equal(dm_log_parse_level("debug"), DM_LOG_DEBUG);
    assert_int_equal(dm_log_parse_level("warning"), DM_LOG_WARN);
    assert_int_equal(dm_log_parse_level("loud"), -1);
    assert_int_equal(dm_log_parse_level(NULL), -1);
    setenv("LOG_LEVEL", "error", 1);
    dm_settings_load(NULL);
    dm_log_init(NULL);
    assert_int_equal(dm_log_threshold, DM_LOG_ERROR);
    unsetenv("LOG_LEVEL");
    dm_settings_load(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize),
        cmocka_unit_test(installed_newest_first),
        cmocka_unit_test(pick_for_storage),
        cmocka_unit_test(library_path),
        cmocka_unit_test(api_load_rejects_non_duckdb),
        cmocka_unit_test(first_error_wins),
        cmocka_unit_test(log_levels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
