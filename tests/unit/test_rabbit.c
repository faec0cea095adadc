/*
 * test_rabbit.c - RABBIT_SECRET's port: a number or a string of digits
 * from 1 to 65535; anything else is refused with the value named, never
 * turned into the default port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue/rabbit.h"

static enum dm_code parse(const char *text, struct dm_rabbit_config *cfg,
                          struct dm_error *err)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    enum dm_code rc = dm_rabbit_config_from_json(j, cfg, err);
    json_decref(j);
    return rc;
}

static void good_ports(void **state)
{
    (void)state;
    static const struct {
        const char *secret;
        int port;
        bool tls;
    } cases[] = {
        {"{\"host\":\"h\"}", 5672, false},
        {"{\"host\":\"h\",\"port\":null}", 5672, false},
        {"{\"host\":\"h\",\"tls\":true}", 5671, true},
        {"{\"host\":\"h\",\"port\":5673}", 5673, false},
        {"{\"host\":\"h\",\"port\":\"5673\"}", 5673, false},
        {"{\"host\":\"h\",\"port\":\"5671\"}", 5671, true},
        {"{\"host\":\"h\",\"port\":65535}", 65535, false},
        {"{\"url\":\"amqp://u:p@h:5999/v\"}", 5999, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dm_rabbit_config cfg;
        struct dm_error err = DM_ERROR_INIT;
        assert_int_equal(parse(cases[i].secret, &cfg, &err), DM_OK);
        assert_int_equal(cfg.port, cases[i].port);
        assert_int_equal(cfg.tls, cases[i].tls);
        dm_rabbit_config_release(&cfg);
    }
}

static void bad_ports(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{\"host\":\"h\",\"port\":\"abc\"}", "{\"host\":\"h\",\"port\":\"\"}",
        "{\"host\":\"h\",\"port\":\"56x\"}", "{\"host\":\"h\",\"port\":\"-1\"}",
        "{\"host\":\"h\",\"port\":0}",       "{\"host\":\"h\",\"port\":70000}",
        "{\"host\":\"h\",\"port\":5672.5}",  "{\"host\":\"h\",\"port\":true}",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dm_rabbit_config cfg;
        struct dm_error err = DM_ERROR_INIT;
        assert_int_equal(parse(cases[i], &cfg, &err), DM_ERR_USAGE);
        assert_non_null(strstr(err.msg, "is not a port number"));
        /* released on failure: nothing for the caller to free */
        assert_null(cfg.host);
    }
    struct dm_rabbit_config cfg;
    struct dm_error err = DM_ERROR_INIT;
    parse("{\"host\":\"h\",\"port\":\"abc\"}", &cfg, &err);
    assert_non_null(strstr(err.msg, "\"port\" (\"abc\")"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_ports),
        cmocka_unit_test(bad_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
