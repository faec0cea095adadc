/*
 * test_store.c - key rules and location parsing shared by every backend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

static void keys(void **state)
{
    (void)state;
    const char *good[] = {"a", "51/9324670152232801/VolumeCases.duckdb",
                          "x/.hidden", "a b/c+d=e%f/ü.duckdb", "a..b/c...d"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_int_equal(dm_key_check(good[i], strlen(good[i]), NULL), DM_OK);
    const char *bad[] = {"",     "/etc/passwd", "..",    "a/../b",
                         "a/..", "./a",         "a/./b", "a//b",
                         "a/",   "a\nb",        "a\tb",  "a\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct dm_error err = DM_ERROR_INIT;
        assert_int_equal(dm_key_check(bad[i], strlen(bad[i]), &err),
                         DM_ERR_BAD_KEY);
        assert_true(err.msg[0] != '\0');
    }
    /* a NUL inside a key received with its length (JSON can carry one) */
    assert_int_equal(dm_key_check("a\0/../b", 7, NULL), DM_ERR_BAD_KEY);
    char longkey[1100];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(dm_key_check(longkey, strlen(longkey), NULL),
                     DM_ERR_BAD_KEY);
    /* prefixes may be empty or end with '/' */
    assert_int_equal(dm_prefix_check("", NULL), DM_OK);
    assert_int_equal(dm_prefix_check("51/", NULL), DM_OK);
    assert_int_equal(dm_prefix_check("51/93", NULL), DM_OK);
    assert_int_equal(dm_prefix_check("../", NULL), DM_ERR_BAD_KEY);
}

static void locations(void **state)
{
    (void)state;
    struct dm_location loc;
    assert_int_equal(dm_location_parse("s3://my-bucket/a/b.duckdb", &loc, NULL),
                     DM_OK);
    assert_int_equal(loc.kind, DM_LOC_S3);
    assert_string_equal(loc.bucket, "my-bucket");
    assert_string_equal(loc.key, "a/b.duckdb");
    dm_location_release(&loc);

    assert_int_equal(dm_location_parse("s3://my-bucket", &loc, NULL), DM_OK);
    assert_string_equal(loc.key, "");
    dm_location_release(&loc);

    assert_int_equal(dm_location_parse("efs:51/x.duckdb", &loc, NULL), DM_OK);
    assert_int_equal(loc.kind, DM_LOC_EFS);
    assert_string_equal(loc.key, "51/x.duckdb");
    dm_location_release(&loc);

    assert_int_equal(dm_location_parse("./x.duckdb", &loc, NULL), DM_OK);
    assert_int_equal(loc.kind, DM_LOC_PATH);
    dm_location_release(&loc);

    const char *bad[] = {"s3://", "s3://ab/x", "s3://Upper/x", "s3://a_b/x",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(dm_location_parse(bad[i], &loc, NULL), DM_ERR_USAGE);
        dm_location_release(&loc);
    }
}

/* batch's locations are folders of whole segments, checked like keys */
static void folders(void **state)
{
    (void)state;
    const struct {
        const char *text, *prefix;
        enum dm_code rc;
    } cases[] = {
        {"s3://bucket", "", DM_OK},
        {"s3://bucket/", "", DM_OK},
        {"s3://bucket/run1", "run1/", DM_OK},
        {"s3://bucket/run1//", "run1/", DM_OK},
        {"efs:a/b", "a/b/", DM_OK},
        {"efs:", "", DM_OK},
        {"efs:../x", NULL, DM_ERR_BAD_KEY},
        {"efs:a//b", NULL, DM_ERR_BAD_KEY},
        {"s3://bucket/a/./b", NULL, DM_ERR_BAD_KEY},
        {"./any/../path", "", DM_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct dm_location loc;
        char *prefix = NULL;
        assert_int_equal(dm_location_parse(cases[i].text, &loc, NULL), DM_OK);
        assert_int_equal(dm_location_folder(&loc, &prefix, NULL), cases[i].rc);
        if (cases[i].prefix)
            assert_string_equal(prefix, cases[i].prefix);
        free(prefix);
        dm_location_release(&loc);
    }
    /* overlap is by whole folders */
    assert_true(dm_folders_overlap("s3://b/run1/", "s3://b/run1/"));
    assert_true(dm_folders_overlap("s3://b/run1/", "s3://b/run1/out/"));
    assert_true(dm_folders_overlap("s3://b/", "s3://b/x/"));
    assert_false(dm_folders_overlap("s3://b/run1/", "s3://b/run10/"));
    assert_false(dm_folders_overlap("s3://b/run1/", "s3://c/run1/"));
    assert_false(dm_folders_overlap("/t/a/", "/t/ab/"));

    /* a path that does not exist yet resolves lexically below the part
     * that does */
    struct dm_location loc;
    char *where = NULL;
    assert_int_equal(
        dm_location_parse("/no-such-dir-dm/x/../y/./z", &loc, NULL), DM_OK);
    assert_int_equal(dm_location_resolve(&loc, true, &where, NULL), DM_OK);
    assert_string_equal(where, "/no-such-dir-dm/y/z/");
    free(where);
    dm_location_release(&loc);
    assert_int_equal(dm_location_parse("s3://bkt/p", &loc, NULL), DM_OK);
    assert_int_equal(dm_location_resolve(&loc, true, &where, NULL), DM_OK);
    assert_string_equal(where, "s3://bkt/p/");
    free(where);
    dm_location_release(&loc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys),
        cmocka_unit_test(locations),
        cmocka_unit_test(folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
