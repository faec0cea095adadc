/*
 * test_settings.c - the one table of environment variables
 * (util/settings.h): every row is whole and its default is a value the
 * row allows; the environment is read once and checked; an override
 * wins, is checked the same way, and is what a job's child is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/settings.h"

/* What dm_settings_print prints, in a new string. */
static char *printed(bool markdown)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    dm_settings_print(out, markdown);
    fclose(out);
    /* a copy: GCC takes text for a pointer into this frame, which
     * open_memstream was given the address of */
    char *copy = strdup(text);
    free(text);
    assert_non_null(copy);
    return copy;
}

static void table_is_whole(void **state)
{
    (void)state;
    assert_int_equal(dm_settings_load(NULL), DM_OK);
    char *md = printed(true);
    for (int i = 0; i < DM_SET_COUNT; i++) {
        enum dm_setting_id id = (enum dm_setting_id)i;
        const char *name = dm_setting_name(id);
        assert_non_null(name);
        assert_string_not_equal(name, "?");
        /* names are unique: find gives this row back */
        enum dm_setting_id back = DM_SET_COUNT;
        assert_true(dm_setting_find(name, &back));
        assert_int_equal(back, id);
        /* a default is a value the row itself allows */
        const char *def = dm_setting(id);
        if (def && !getenv(name)) {
            struct dm_error err = DM_ERROR_INIT;
            assert_int_equal(dm_setting_override(id, def, &err), DM_OK);
            assert_int_equal(dm_setting_override(id, NULL, &err), DM_OK);
        }
        /* every row is in the docs' table, with a line that says why */
        char row[128];
        snprintf(row, sizeof(row), "| `%s` |", name);
        const char *at = strstr(md, row);
        assert_non_null(at);
        const char *eol = strchr(at, '\n');
        assert_non_null(eol);
        assert_true(eol - at > (long)strlen(row) + 20);
    }
    free(md);
    enum dm_setting_id none;
    assert_false(dm_setting_find("DUCKMIG_NO_SUCH", &none));
}

static void environment_read_once(void **state)
{
    (void)state;
    struct dm_error err = DM_ERROR_INIT;
    unsetenv("DUCKMIG_THREADS");
    setenv("QUEUE_NAME", "", 1); /* empty is unset */
    assert_int_equal(dm_settings_load(&err), DM_OK);
    assert_false(dm_setting_given(DM_SET_THREADS));
    assert_false(dm_setting_given(DM_SET_QUEUE_NAME));
    assert_string_equal(dm_setting(DM_SET_QUEUE_NAME),
                        "migrate_duckdb_release");
    assert_null(dm_setting(DM_SET_MEMORY_LIMIT));

    setenv("DUCKMIG_THREADS", "8", 1);
    setenv("QUEUE_NAME", "mine", 1);
    /* read once: a change after the load is not seen until the next */
    assert_false(dm_setting_given(DM_SET_THREADS));
    assert_int_equal(dm_settings_load(&err), DM_OK);
    assert_int_equal(dm_setting_u64(DM_SET_THREADS), 8);
    assert_string_equal(dm_setting(DM_SET_QUEUE_NAME), "mine");
    unsetenv("QUEUE_NAME");

    /* atoi took these as 0 or 8 */
    const char *bad[] = {"eight", "8x", "0", "-8", "1025", " 8"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        setenv("DUCKMIG_THREADS", bad[i], 1);
        dm_error_clear(&err);
        assert_int_equal(dm_settings_load(&err), DM_ERR_USAGE);
        assert_non_null(strstr(err.msg, "DUCKMIG_THREADS="));
        assert_non_null(strstr(err.msg, "from 1 to 1024"));
        /* past the refusal (a unit test), the default */
        assert_false(dm_setting_given(DM_SET_THREADS));
    }
    unsetenv("DUCKMIG_THREADS");

    setenv("DUCKMIG_STOP_TIMEOUT", "0", 1); /* 0 is a value here */
    dm_error_clear(&err);
    assert_int_equal(dm_settings_load(&err), DM_OK);
    assert_int_equal(dm_setting_u64(DM_SET_STOP_TIMEOUT), 0);
    unsetenv("DUCKMIG_STOP_TIMEOUT");
    assert_int_equal(dm_settings_load(&err), DM_OK);
    assert_int_equal(dm_setting_u64(DM_SET_STOP_TIMEOUT), 100);

    setenv("LOG_FORMAT", "xml", 1);
    assert_int_equal(dm_settings_load(&err), DM_ERR_USAGE);
    assert_string_equal(err.msg, "LOG_FORMAT=xml: not one of text, json");
    unsetenv("LOG_FORMAT");
    assert_int_equal(dm_settings_load(NULL), DM_OK);
}

struct seen {
    char text[512];
};

static void collect(const char *name, const char *value, void *ud)
{
    struct seen *s = ud;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s=%s;", name, value);
}

static void overrides(void **state)
{
    (void)state;
    struct dm_error err = DM_ERROR_INIT;
    setenv("DUCKDB_MIGRATE_VERSION", "0.8.1", 1);
    assert_int_equal(dm_settings_load(&err), DM_OK);
    assert_int_equal(
        dm_setting_override(DM_SET_MIGRATE_VERSION, "latest", &err), DM_OK);
    assert_string_equal(dm_setting(DM_SET_MIGRATE_VERSION), "latest");
    assert_int_equal(dm_setting_override(DM_SET_MIGRATE_DST, "/d", &err),
                     DM_OK);
    /* checked as the environment is */
    assert_int_equal(dm_setting_override(DM_SET_KEEP_ENGINES, "2", &err),
                     DM_ERR_USAGE);
    assert_string_equal(err.msg, "DUCKMIG_KEEP_ENGINES=2: not one of 0, 1");
    /* what a job's child is given: the overrides, in the table's order */
    struct seen s = {""};
    dm_settings_each_override(collect, &s);
    assert_string_equal(s.text,
                        "DUCKDB_MIGRATE_VERSION=latest;MIGRATE_DST=/d;");
    /* removed, the environment's value is back */
    assert_int_equal(dm_setting_override(DM_SET_MIGRATE_VERSION, NULL, &err),
                     DM_OK);
    assert_string_equal(dm_setting(DM_SET_MIGRATE_VERSION), "0.8.1");
    /* a load starts again from the environment alone */
    assert_int_equal(dm_settings_load(&err), DM_OK);
    s.text[0] = '\0';
    dm_settings_each_override(collect, &s);
    assert_string_equal(s.text, "");
    unsetenv("DUCKDB_MIGRATE_VERSION");
    assert_int_equal(dm_settings_load(&err), DM_OK);
}

static void secrets_are_not_printed(void **state)
{
    (void)state;
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI", 1);
    setenv("RABBIT_SECRET", "{\"password\": \"hunter2\"}", 1);
    assert_int_equal(dm_settings_load(NULL), DM_OK);
    char *text = printed(false);
    assert_null(strstr(text, "wJalrXUtnFEMI"));
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "AWS_SECRET_ACCESS_KEY"));
    /* a default that is no secret is shown */
    assert_non_null(strstr(text, "migrate_duckdb_release"));
    free(text);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("RABBIT_SECRET");
    assert_int_equal(dm_settings_load(NULL), DM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_whole),
        cmocka_unit_test(environment_read_once),
        cmocka_unit_test(overrides),
        cmocka_unit_test(secrets_are_not_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
