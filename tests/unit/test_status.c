/*
 * test_status.c - the one table of file statuses (util/status.h): every
 * status has its own name, that name reads back as the same status, and
 * the names that scripts and the ledger already hold stay what they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/status.h"

static void names_read_back(void **state)
{
    (void)state;
    for (int s = 0; s < DM_STATUS_COUNT; s++) {
        const char *name = dm_status_name((enum dm_status)s);
        assert_non_null(name);
        enum dm_status back = DM_STATUS_COUNT;
        assert_true(dm_status_parse(name, &back));
        assert_int_equal(back, s);
        for (int t = 0; t < s; t++)
            assert_string_not_equal(name, dm_status_name((enum dm_status)t));
    }
    enum dm_status untouched = DM_STATUS_MIGRATED;
    assert_false(dm_status_parse("Migrated", &untouched));
    assert_false(dm_status_parse("", &untouched));
    assert_false(dm_status_parse(NULL, &untouched));
    assert_int_equal(untouched, DM_STATUS_MIGRATED);
    /* out of range is named as a failure, never read past the table */
    assert_string_equal(dm_status_name((enum dm_status)99), "failed");
}

static void names_are_the_contract(void **state)
{
    (void)state;
    /* docs/json.md and the ledger's rows hold these */
    assert_string_equal(dm_status_name(DM_STATUS_MIGRATED), "migrated");
    assert_string_equal(dm_status_name(DM_STATUS_ALREADY_AT_TARGET),
                        "already_at_target");
    assert_string_equal(dm_status_name(DM_STATUS_ALREADY_DONE), "already_done");
    assert_string_equal(dm_status_name(DM_STATUS_INCOMPLETE), "incomplete");
    assert_string_equal(dm_status_name(DM_STATUS_SKIPPED), "skipped");
    assert_string_equal(dm_status_name(DM_STATUS_FAILED), "failed");
    assert_string_equal(dm_status_name(DM_STATUS_REQUEUED), "requeued");
    assert_string_equal(dm_status_name(DM_STATUS_RUNNING), "running");
    assert_string_equal(dm_status_name(DM_STATUS_QUEUED), "queued");
}

static void what_is_done(void **state)
{
    (void)state;
    assert_true(dm_status_done(DM_STATUS_MIGRATED));
    assert_true(dm_status_done(DM_STATUS_ALREADY_DONE));
    assert_true(dm_status_done(DM_STATUS_INCOMPLETE));
    assert_true(dm_status_done(DM_STATUS_MATCH));
    assert_false(dm_status_done(DM_STATUS_FAILED));
    assert_false(dm_status_done(DM_STATUS_SKIPPED));
    assert_false(dm_status_done(DM_STATUS_REQUEUED));
    assert_false(dm_status_done(DM_STATUS_RUNNING));
    assert_false(dm_status_done(DM_STATUS_DIFFERENT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_read_back),
        cmocka_unit_test(names_are_the_contract),
        cmocka_unit_test(what_is_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
