/*
 * test_catalog.c - reading the SQL old releases keep in their catalogs:
 * splitting CREATE TABLE into items, quoting identifiers and literals,
 * and the report that migrate and verify fill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/catalog.h"
#include "migrate/report.h"

static void free_items(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

static void table_items(void **state)
{
    (void)state;
    char **items;
    size_t n;
    const char *sql =
        "CREATE TABLE \"my schema\".\"T (x)\"(id INTEGER PRIMARY KEY "
        "DEFAULT(nextval('\"my schema\".seq')), s STRUCT(odd field INTEGER, "
        "b VARCHAR), note VARCHAR DEFAULT('a, b) c'), g INTEGER GENERATED "
        "ALWAYS AS(CAST((id * 2) AS INTEGER)), CHECK((id > 0)), FOREIGN KEY "
        "(id) REFERENCES p(a));";
    assert_true(dm_sql_table_items(sql, &items, &n));
    assert_int_equal(n, 6);
    assert_string_equal(
        items[0],
        "id INTEGER PRIMARY KEY DEFAULT(nextval('\"my schema\".seq'))");
    assert_string_equal(items[1], "s STRUCT(odd field INTEGER, b VARCHAR)");
    assert_string_equal(items[2], "note VARCHAR DEFAULT('a, b) c')");
    assert_string_equal(items[4], "CHECK((id > 0))");
    assert_string_equal(items[5], "FOREIGN KEY (id) REFERENCES p(a)");
    free_items(items, n);

    assert_false(dm_sql_table_items("CREATE TABLE t", &items, &n));
    assert_false(dm_sql_table_items("CREATE TABLE t(a INT", &items, &n));
}

static void quoting(void **state)
{
    (void)state;
    char *s = dm_sql_ident("we\"ird name");
    assert_string_equal(s, "\"we\"\"ird name\"");
    free(s);
    s = dm_sql_literal("it's");
    assert_string_equal(s, "'it''s'");
    free(s);
    s = dm_sql_literal("");
    assert_string_equal(s, "''");
    free(s);
}

static void report(void **state)
{
    (void)state;
    struct dm_report r;
    memset(&r, 0, sizeof(r));
    dm_report_add(&r, "table", "main", "t", DM_ITEM_OK, "%d columns", 3);
    dm_report_add(&r, "view", "main", "v", DM_ITEM_NOT_CARRIED, "IO Error: %s",
                  "No files found");
    assert_false(dm_report_mismatch(&r));
    assert_int_equal(dm_report_count(&r, DM_ITEM_NOT_CARRIED), 1);
    assert_string_equal(r.items[1].name, "main.v");
    assert_string_equal(r.items[1].detail, "IO Error: No files found");
    dm_report_add(&r, "data", "s", "t", DM_ITEM_MISMATCH, "differs");
    assert_true(dm_report_mismatch(&r));
    assert_string_equal(dm_item_status_name(DM_ITEM_MISSING), "missing");
    dm_report_release(&r);
    assert_int_equal(r.nitems, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_items),
        cmocka_unit_test(quoting),
        cmocka_unit_test(report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
