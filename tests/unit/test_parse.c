/*
 * test_parse.c - the checked number parsers (util/str.h); the numbers
 * of the environment are test_settings.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/str.h"

static void unsigned_numbers(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(dm_parse_u64("0", &v));
    assert_int_equal(v, 0);
    assert_true(dm_parse_u64("18446744073709551615", &v));
    assert_true(v == UINT64_MAX);
    /* what atoi or strtoull would have taken as some number */
    const char *bad[] = {NULL, "",    " 1",   "+1",  "-1",
                         "1 ", "12x", "0x10", "abc", "18446744073709551616",
                         "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        v = 7;
        assert_false(dm_parse_u64(bad[i], &v));
        assert_int_equal(v, 7); /* untouched */
    }
    assert_true(dm_parse_u64_in("65535", 1, 65535, &v));
    assert_int_equal(v, 65535);
    assert_false(dm_parse_u64_in("65536", 1, 65535, &v));
    assert_false(dm_parse_u64_in("0", 1, 65535, &v));
    assert_int_equal(v, 65535);
    assert_false(dm_parse_u64_in("port", 1, 65535, &v));
}

static void signed_numbers(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_true(dm_parse_i64_in("-42", INT64_MIN, INT64_MAX, &v));
    assert_int_equal(v, -42);
    assert_true(
        dm_parse_i64_in("-9223372036854775808", INT64_MIN, INT64_MAX, &v));
    assert_true(v == INT64_MIN);
    assert_true(
        dm_parse_i64_in("9223372036854775807", INT64_MIN, INT64_MAX, &v));
    assert_true(v == INT64_MAX);
    const char *bad[] = {NULL,
                         "",
                         "-",
                         "--1",
                         "+1",
                         " 1",
                         "1x",
                         "9223372036854775808",
                         "-9223372036854775809"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        v = 7;
        assert_false(dm_parse_i64_in(bad[i], INT64_MIN, INT64_MAX, &v));
        assert_int_equal(v, 7);
    }
    assert_false(dm_parse_i64_in("-1", 0, 10, &v));
    assert_false(dm_parse_i64_in("11", 0, 10, &v));
    assert_true(dm_parse_i64_in("10", 0, 10, &v));
    assert_int_equal(v, 10);
}

static void sizes(void **state)
{
    (void)state;
    uint64_t b = 7;
    assert_true(dm_parse_size("20.2GB", &b)); /* 0.8's memory_limit */
    assert_true(b == 20200000000ull);
    assert_true(dm_parse_size("18.6 GiB", &b)); /* 1.x's */
    assert_true(b == (uint64_t)(18.6 * 1073741824.0));
    assert_true(dm_parse_size("1500000000B", &b));
    assert_true(b == 1500000000ull);
    assert_true(dm_parse_size("512.0mb", &b));
    assert_true(b == 512000000ull);
    assert_true(dm_parse_size("123 bytes", &b));
    assert_int_equal(b, 123);
    const char *bad[] = {NULL,     "",     "GB",   "-1GB",  "1.5",
                         "1.5 XB", "1GB ", " 1GB", "1e30GB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        b = 7;
        assert_false(dm_parse_size(bad[i], &b));
        assert_int_equal(b, 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unsigned_numbers),
        cmocka_unit_test(signed_numbers),
        cmocka_unit_test(sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
