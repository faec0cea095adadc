/*
 * test_text.c - outside text made safe to show (util/text.h), and the
 * private folders that do not outlive their owner (util/tmpdir.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/str.h"
#include "util/text.h"
#include "util/tmpdir.h"

static void utf8(void **state)
{
    (void)state;
    assert_true(dm_utf8_valid(""));
    assert_true(dm_utf8_valid("tracker-\xc3\xbc.duckdb"));
    assert_true(dm_utf8_valid("\xf0\x9f\xa6\x86")); /* U+1F986 */
    const char *bad[] = {"\xff", "a\xc3", "\xc0\xaf" /* overlong '/' */,
                         "\xed\xa0\x80" /* a surrogate */,
                         "\xf4\x90\x80\x80" /* above U+10FFFF */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_false(dm_utf8_valid(bad[i]));
    char *s = dm_utf8_lossy("a\xff"
                            "b\xc3");
    assert_string_equal(s, "a\xef\xbf\xbd"
                           "b\xef\xbf\xbd");
    free(s);
}

static void escape(void **state)
{
    (void)state;
    const struct {
        const char *in, *out;
    } cases[] = {
        {"plain name.duckdb", "plain name.duckdb"},
        {"a\nb\tc", "a\\nb\\tc"},
        {"\x1b]0;owned\x07", "\\x1b]0;owned\\x07"},
        {"del\x7f", "del\\x7f"},
        {"csi\xc2\x9b"
         "31m",
         "csi\\xc2\\x9b31m"}, /* C1, UTF-8 encoded */
        {"bad\xff", "bad\\xff"},
        {"\xc3\xbc ok", "\xc3\xbc ok"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *e = dm_escape(cases[i].in);
        assert_string_equal(e, cases[i].out);
        assert_true(dm_utf8_valid(e));
        free(e);
    }
}

static void json_names(void **state)
{
    (void)state;
    json_t *o = json_object();
    assert_true(dm_json_set_name(o, "key", "good.duckdb"));
    assert_null(json_object_get(o, "invalid_utf8"));
    assert_false(dm_json_set_name(o, "key", "bad\xff.duckdb"));
    assert_string_equal(json_string_value(json_object_get(o, "key")),
                        "bad\xef\xbf\xbd.duckdb");
    assert_string_equal(json_string_value(json_object_get(o, "key_escaped")),
                        "bad\\xff.duckdb");
    assert_true(json_is_true(json_object_get(o, "invalid_utf8")));
    char *s = json_dumps(o, JSON_COMPACT);
    assert_non_null(s); /* the whole object still prints */
    free(s);
    json_decref(o);
}

static void tmpdirs(void **state)
{
    (void)state;
    char parent[] = "/tmp/dm-test-tmpdir-XXXXXX";
    assert_non_null(mkdtemp(parent));
    char *live = NULL, *dead = NULL;
    int live_lock = -1, dead_lock = -1;
    assert_int_equal(dm_tmpdir_create(parent, "job-", &live, &live_lock, NULL),
                     DM_OK);
    assert_int_equal(dm_tmpdir_create(parent, "job-", &dead, &dead_lock, NULL),
                     DM_OK);
    assert_string_not_equal(live, dead);
    char *inside = dm_fmt("%s/partial.duckdb", dead);
    FILE *f = fopen(inside, "w");
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);
    /* its owner gone (its lock closed): the sweep takes it, not the live
     * one, nor a folder of another prefix */
    close(dead_lock);
    char *other = dm_fmt("%s/keep-me", parent);
    assert_int_equal(mkdir(other, 0755), 0);
    assert_int_equal(dm_tmpdir_sweep(parent, "job-"), 1);
    struct stat st;
    assert_int_equal(stat(live, &st), 0);
    assert_int_not_equal(stat(dead, &st), 0);
    assert_int_equal(stat(other, &st), 0);
    dm_tmpdir_remove(live, live_lock);
    assert_int_not_equal(stat(live, &st), 0);
    rmdir(other);
    assert_int_equal(rmdir(parent), 0); /* nothing else was left */
    free(other);
    free(inside);
    free(live);
    free(dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8),
        cmocka_unit_test(escape),
        cmocka_unit_test(json_names),
        cmocka_unit_test(tmpdirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
