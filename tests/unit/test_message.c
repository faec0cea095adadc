/*
 * test_message.c - the seed's four message shapes, read and written back
 * byte for byte, and the messages a consumer must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fleet/message.h"

/* the seed's examples (../shared/SEED.md), compacted */
static const char *const seed[] = {
    "{\"source_datastore\":\"s3\",\"destination_datastore\":\"s3\","
    "\"source_bucket\":\"perform-dev-raw\",\"destination_bucket\":\"perform-"
    "dev-atomicduck\",\"tracker-id\":\"9324670152232788\",\"source_key\":"
    "\"tracker-migration/9324670152232788/VolumeCases-9324670152232788."
    "duckdb\",\"dest_key\":\"56/9324670152232788/VolumeCases-"
    "9324670152232788.duckdb\"}",
    "{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\",\"key\":"
    "\"325929995912186/DistributionNewPODs-325929995912186.duckdb\"}",
    "{\"source_datastore\":\"s3\",\"destination_datastore\":\"efs\","
    "\"source_bucket\":\"perform-dev-raw\",\"tracker-id\":\"9324670152232788\","
    "\"source_key\":\"tracker-migration/9324670152232788/VolumeCases-"
    "9324670152232788.duckdb\",\"key\":\"9324670152232788/VolumeCases-"
    "9324670152232788.duckdb\"}",
    "{\"source_datastore\":\"efs\",\"destination_datastore\":\"s3\","
    "\"destination_bucket\":\"perform-dev-raw\",\"key\":\"325929995912186/"
    "DistributionNewPODs-325929995912186.duckdb\",\"dest_key\":"
    "\"325929995912186/DistributionNewPODs-325929995912186.duckdb\"}",
};

static void four_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        struct dm_job_spec job;
        struct dm_error err = DM_ERROR_INIT;
        assert_int_equal(dm_job_parse(seed[i], strlen(seed[i]), &job, &err),
                         DM_OK);
        char *back = dm_job_format(&job);
        assert_string_equal(back, seed[i]);
        free(back);
        dm_job_release(&job);
    }
    struct dm_job_spec job;
    assert_int_equal(dm_job_parse(seed[2], strlen(seed[2]), &job, NULL), DM_OK);
    assert_int_equal(job.src, DM_DS_S3);
    assert_int_equal(job.dst, DM_DS_EFS);
    assert_string_equal(job.tracker, "9324670152232788");
    char *src = dm_job_source_uri(&job), *dst = dm_job_dest_uri(&job);
    assert_string_equal(src, "s3://perform-dev-raw/tracker-migration/"
                             "9324670152232788/VolumeCases-9324670152232788."
                             "duckdb");
    assert_string_equal(dst,
                        "efs:9324670152232788/VolumeCases-9324670152232788."
                        "duckdb");
    free(src);
    free(dst);
    dm_job_release(&job);
}

static void refused(void **state)
{
    (void)state;
    struct {
        const char *msg;
        enum dm_code code;
        const char *says;
    } cases[] = {
        {"not json", DM_ERR_USAGE, "invalid JSON"},
        {"[1]", DM_ERR_USAGE, "not an object"},
        {"{\"source_datastore\":\"ftp\",\"destination_datastore\":\"s3\"}",
         DM_ERR_USAGE, "unknown source_datastore 'ftp'"},
        {"{\"source_datastore\":\"efs\"}", DM_ERR_USAGE,
         "no \"destination_datastore\""},
        {"{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\"}",
         DM_ERR_USAGE, "no \"key\""},
        {"{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\","
         "\"key\":7}",
         DM_ERR_USAGE, "not a non-empty string"},
        {"{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\","
         "\"key\":\"../../etc/passwd\"}",
         DM_ERR_BAD_KEY, "'..'"},
        {"{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\","
         "\"key\":\"/etc/passwd\"}",
         DM_ERR_BAD_KEY, "absolute"},
        {"{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\","
         "\"key\":\"a\\u0000/../../b\"}",
         DM_ERR_BAD_KEY, "NUL"},
        {"{\"source_datastore\":\"s3\",\"destination_datastore\":\"s3\","
         "\"source_bucket\":\"b\",\"source_key\":\"k\",\"tracker-id\":\"1\","
         "\"destination_bucket\":\"d\"}",
         DM_ERR_USAGE, "no \"dest_key\""},
        {"{\"source_datastore\":\"s3\",\"source_datastore\":\"efs\"}",
         DM_ERR_USAGE, "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct dm_job_spec job;
        struct dm_error err = DM_ERROR_INIT;
        assert_int_equal(
            dm_job_parse(cases[i].msg, strlen(cases[i].msg), &job, &err),
            cases[i].code);
        if (!strstr(err.msg, cases[i].says))
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].msg, err.msg,
                     cases[i].says);
    }
}

/* the two fields batch adds: a destination key for EFS to EFS, and the
 * in-place form's backup suffix */
static void batch_fields(void **state)
{
    (void)state;
    char src[] = "run1/a.duckdb", dst[] = "out/a.duckdb", suffix[] = ".orig";
    char bad[] = "bad\xff.duckdb";
    struct dm_job_spec job;
    memset(&job, 0, sizeof(job));
    job.src = job.dst = DM_DS_EFS;
    job.src_key = src;
    job.dst_key = dst;
    char *s = dm_job_format(&job);
    assert_string_equal(s, "{\"source_datastore\":\"efs\",\"destination_"
                           "datastore\":\"efs\",\"key\":\"run1/a.duckdb\","
                           "\"dest_key\":\"out/a.duckdb\"}");
    struct dm_job_spec back;
    assert_int_equal(dm_job_parse(s, strlen(s), &back, NULL), DM_OK);
    assert_string_equal(back.src_key, "run1/a.duckdb");
    assert_string_equal(back.dst_key, "out/a.duckdb");
    assert_null(back.backup_suffix);
    dm_job_release(&back);
    free(s);

    job.dst_key = src;
    job.backup_suffix = suffix;
    s = dm_job_format(&job);
    assert_string_equal(s, "{\"source_datastore\":\"efs\",\"destination_"
                           "datastore\":\"efs\",\"key\":\"run1/a.duckdb\","
                           "\"backup_suffix\":\".orig\"}");
    assert_int_equal(dm_job_parse(s, strlen(s), &back, NULL), DM_OK);
    assert_string_equal(back.dst_key, "run1/a.duckdb");
    assert_string_equal(back.backup_suffix, ".orig");
    dm_job_release(&back);
    free(s);

    /* a name that is not UTF-8 makes no message (its key would go
     * missing) */
    job.src_key = job.dst_key = bad;
    assert_null(dm_job_format(&job));

    const char *refused[] = {"",     "a/b", ".duckdb", ".bak.duckdb",
                             ".wal", "x\n"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
        assert_int_equal(dm_backup_suffix_check(refused[i], NULL),
                         DM_ERR_USAGE);
    assert_int_equal(dm_backup_suffix_check(".orig", NULL), DM_OK);
    const char *msg = "{\"source_datastore\":\"efs\",\"destination_"
                      "datastore\":\"efs\",\"key\":\"a.duckdb\","
                      "\"backup_suffix\":\"x.duckdb\"}";
    assert_int_equal(dm_job_parse(msg, strlen(msg), &back, NULL), DM_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_shapes),
        cmocka_unit_test(refused),
        cmocka_unit_test(batch_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
