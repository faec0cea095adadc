/*
 * test_metrics.c - the consumer's counters (metrics/metrics.h): the
 * Prometheus text (families, labels escaped, counters that add up) and
 * the EMF lines (JSON with the _aws directive, summaries that carry each
 * period's increase once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "metrics/metrics.h"
#include "util/settings.h"

static void prometheus(void **state)
{
    (void)state;
    dm_metrics_reset();
    dm_metrics_queue("q");
    char *t = dm_metrics_prometheus();
    assert_non_null(strstr(t, "# HELP duckmig_files_total "));
    assert_non_null(strstr(t, "# TYPE duckmig_files_total counter\n"));
    assert_non_null(strstr(t, "duckmig_bytes_total{queue=\"q\"} 0\n"));
    assert_null(strstr(t, "duckmig_files_total{"));
    free(t);
    dm_metrics_job("q", DM_STATUS_MIGRATED, NULL, 1000, 1.5);
    dm_metrics_job("q", DM_STATUS_MIGRATED, NULL, 24, 0.5);
    dm_metrics_job("q", DM_STATUS_FAILED, "verify", 7, 2);
    /* a label value is outside text: \, " and newline are escaped */
    dm_metrics_job("a\"b\\c\nd", DM_STATUS_FAILED, "not_duckdb", 0, 0);
    dm_metrics_count(DM_METRIC_PROTECTION_FAILURES, "q");
    dm_metrics_count(DM_METRIC_CONNECT_FAILURES, "q");
    dm_metrics_running(1);
    t = dm_metrics_prometheus();
    const char *want[] = {
        "duckmig_files_total{queue=\"q\",status=\"migrated\"} 2\n",
        "duckmig_files_total{queue=\"q\",status=\"failed\"} 1\n",
        "duckmig_bytes_total{queue=\"q\"} 1031\n",
        "duckmig_job_seconds_total{queue=\"q\"} 4\n",
        "duckmig_failures_total{queue=\"q\",reason=\"verify\"} 1\n",
        "duckmig_failures_total{queue=\"a\\\"b\\\\c\\nd\",reason=\"not_"
        "duckdb\"} "
        "1\n",
        "duckmig_task_protection_failures_total 1\n",
        "duckmig_broker_connect_failures_total{queue=\"q\"} 1\n",
        "duckmig_jobs_running 1\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
        if (!strstr(t, want[i]))
            fail_msg("missing: %s\nin:\n%s", want[i], t);
    free(t);
    dm_metrics_running(-1);
    dm_metrics_reset();
}

/* The EMF lines written to a memory stream, parsed. */
static json_t *lines(char *buf)
{
    json_t *all = json_array();
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        json_error_t e;
        json_t *j = json_loads(l, 0, &e);
        if (!j)
            fail_msg("not JSON: %s (%s)", l, e.text);
        json_array_append_new(all, j);
    }
    return all;
}

static void emf(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    setenv("DUCKMIG_METRICS", "emf", 1);
    setenv("DUCKMIG_METRICS_NAMESPACE", "ns", 1);
    assert_int_equal(dm_settings_load(NULL), DM_OK);
    dm_metrics_init(out);
    assert_true(dm_metrics_emf_enabled());
    dm_metrics_reset();
    dm_metrics_queue("q");
    dm_metrics_job("q", DM_STATUS_MIGRATED, NULL, 100, 1);
    dm_metrics_job("q", DM_STATUS_FAILED, "verify", 5, 2);
    dm_metrics_emf_summary();
    dm_metrics_emf_summary(); /* nothing new: zeros */
    fclose(out);
    json_t *l = lines(buf);
    assert_int_equal(json_array_size(l), 4);
    json_t *job = json_array_get(l, 1);
    json_t *d = json_array_get(
        json_object_get(json_object_get(job, "_aws"), "CloudWatchMetrics"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "Namespace")),
                        "ns");
    char *dims = json_dumps(json_object_get(d, "Dimensions"), JSON_COMPACT);
    assert_string_equal(dims,
                        "[[\"Queue\",\"Status\"],[\"Queue\",\"Reason\"]]");
    free(dims);
    assert_string_equal(json_string_value(json_object_get(job, "Reason")),
                        "verify");
    assert_int_equal(json_integer_value(json_object_get(job, "Failures")), 1);
    json_t *s1 = json_array_get(l, 2), *s2 = json_array_get(l, 3);
    assert_int_equal(json_integer_value(json_object_get(s1, "Files")), 2);
    assert_int_equal(json_integer_value(json_object_get(s1, "Bytes")), 105);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(s1, "FailuresByReason"), "verify")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(s2, "Files")), 0);
    assert_int_equal(json_integer_value(json_object_get(s2, "Failures")), 0);
    json_decref(l);
    free(buf);
    /* the settings table refuses what is neither none nor emf */
    setenv("DUCKMIG_METRICS", "bogus", 1);
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_settings_load(&err), DM_ERR_USAGE);
    assert_string_equal(err.msg, "DUCKMIG_METRICS=bogus: not one of none, emf");
    unsetenv("DUCKMIG_METRICS");
    assert_int_equal(dm_settings_load(NULL), DM_OK);
    dm_metrics_init(stdout);
    assert_false(dm_metrics_emf_enabled());
    dm_metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prometheus),
        cmocka_unit_test(emf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
