/*
 * test_catalog.c - reading the SQL old releases keep as data: the lexer
 * (nested comments, quotes, dollar quoting), lists and statements found
 * by it, the macros EXPORT writes (found by name, refused when their
 * text appears twice), column types read in step with their trees (1.x's
 * T[n] ARRAYs too), and the report that migrate and verify fill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "catalog/report.h"
#include "catalog/sqltext.h"
#include "engine/vec.h"

/* The texts of every token of s, joined by '|'. */
static char *tokens(const char *s)
{
    static char out[4096];
    struct dm_lexer lx;
    size_t o = 0;
    dm_lex_init(&lx, s);
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END)
            break;
        if (t.kind == DM_TOK_BAD) {
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%sBAD",
                                  o ? "|" : "");
            break;
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s", o ? "|" : "",
                              (int)t.len, s + t.start);
    }
    out[o] = '\0';
    return out;
}

static void lexer(void **state)
{
    (void)state;
    /* DuckDB nests block comments: the payload is inside the comment */
    assert_string_equal(
        tokens("CREATE VIEW /* /* */ x AS SELECT 1; COPY x -- */ v AS "
               "SELECT 2"),
        "CREATE|VIEW|v|AS|SELECT|2");
    assert_string_equal(tokens("a -- c ; d\nb"), "a|b");
    assert_string_equal(tokens("'it''s;' \"a\"\"b;\" c"),
                        "'it''s;'|\"a\"\"b;\"|c");
    /* E'' strings take backslash escapes; plain ones do not */
    assert_string_equal(tokens("E'a\\'b;' 'c\\' d"), "E'a\\'b;'|'c\\'|d");
    assert_string_equal(tokens("$$a;b$$ $t$x$$y$t$ $1"),
                        "$$a;b$$|$t$x$$y$t$|$1");
    assert_string_equal(tokens("x:=1 a::INT b||c d<>e"),
                        "x|:=|1|a|::|INT|b||||c|d|<>|e");
    /* an operator stops where a comment starts */
    assert_string_equal(tokens("a+-- c\nb */"), "a|+|b|*/");
    assert_string_equal(tokens("a /* open"), "a|BAD");
    assert_string_equal(tokens("'open"), "BAD");

    struct dm_lexer lx;
    const char *q = "\"we\"\"ird\" plain";
    dm_lex_init(&lx, q);
    struct dm_tok t = dm_lex_next(&lx);
    char *id = dm_tok_ident(q, &t);
    assert_string_equal(id, "we\"ird");
    free(id);
    t = dm_lex_next(&lx);
    assert_true(dm_tok_is_word(q, &t, "PLAIN"));
}

static void lists_and_statements(void **state)
{
    (void)state;
    const char *s = "f((a + 1), \"b,c\", 'x)', [1, 2]) tail";
    struct dm_lexer lx;
    dm_lex_init(&lx, s);
    dm_lex_next(&lx);
    struct dm_tok open = dm_lex_next(&lx);
    char **parts;
    size_t n, end;
    assert_true(dm_sql_paren_list(s, &open, &parts, &n, &end));
    assert_int_equal(n, 4);
    assert_string_equal(parts[0], "(a + 1)");
    assert_string_equal(parts[1], "\"b,c\"");
    assert_string_equal(parts[2], "'x)'");
    assert_string_equal(parts[3], "[1, 2]");
    assert_string_equal(s + end, " tail");
    dm_sql_parts_free(parts, n);

    /* the first items of a list whose tail the lexer cannot follow (a
     * FOREIGN KEY's table rendered bare, holding "--"): gen seed 39 */
    const char *t = "(a INTEGER, \"b\" BOOLEAN GENERATED ALWAYS AS((a IS "
                    "NULL)), FOREIGN KEY (a) REFERENCES ]; x --(\"k\"))";
    dm_lex_init(&lx, t);
    open = dm_lex_next(&lx);
    assert_false(dm_sql_paren_list(t, &open, &parts, &n, &end));
    assert_true(dm_sql_paren_items(t, &open, 2, &parts, &n, &end));
    assert_int_equal(n, 2);
    assert_string_equal(parts[1],
                        "\"b\" BOOLEAN GENERATED ALWAYS AS((a IS NULL))");
    dm_sql_parts_free(parts, n);
    assert_false(dm_sql_paren_items(t, &open, 4, &parts, &n, &end));

    char **stmts;
    assert_true(
        dm_sql_split("SELECT ';'; -- a;\nSELECT 2 /* ; */;;", &stmts, &n));
    assert_int_equal(n, 2);
    assert_string_equal(stmts[0], "SELECT ';'");
    assert_string_equal(stmts[1], "-- a;\nSELECT 2 /* ; */");
    dm_sql_parts_free(stmts, n);
    assert_false(dm_sql_split("SELECT 'a;", &stmts, &n));
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
    s = dm_sql_qualified("a\"b", "c");
    assert_string_equal(s, "\"a\"\"b\".\"c\"");
    free(s);
}

static struct dm_cat_object macro(const char *name, bool table, size_t n,
                                  const char *const *params)
{
    struct dm_cat_object m;
    memset(&m, 0, sizeof(m));
    m.schema = strdup("main");
    m.name = strdup(name);
    m.table_macro = table;
    m.nparts = n;
    m.parts = calloc(n ? n : 1, sizeof(char *));
    m.defaults = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        m.parts[i] = strdup(params[i]);
    return m;
}

static void export_macros(void **state)
{
    (void)state;
    static const char *const xy[] = {"x", "y"}, *const n1[] = {"n"};
    struct dm_cat_object ms[4];
    ms[0] = macro("times", false, 2, xy);
    ms[1] = macro("tm", true, 1, n1);
    ms[2] = macro("m", false, 2, xy);
    ms[3] = macro("tm", false, 1, n1); /* a scalar macro named like tm */
    struct dm_catalog cat;
    memset(&cat, 0, sizeof(cat));
    cat.macros = ms;
    cat.nmacros = 4;
    /* EXPORT leaves ENUM labels unescaped; one label holds a fake macro
     * statement for m, so m is ambiguous and refused */
    const char *schema_sql =
        "CREATE TYPE mood AS ENUM ( 'it's ok', '\n"
        "CREATE MACRO main.m(x, y) AS 1; COPY (SELECT 1) TO 'x';\n"
        "');\n\n"
        "CREATE MACRO main.times(x, y := (2 + 3)) AS ((x * y));\n"
        "CREATE MACRO main.tm(n) AS TABLE (SELECT * FROM big WHERE (k < n));\n"
        "CREATE MACRO main.tm(n) AS ((n + 1));\n"
        "CREATE MACRO main.m(x, y) AS ((x - y));\n";
    dm_catalog_add_export(&cat, schema_sql);
    assert_null(ms[0].problem);
    assert_true(ms[0].has_defaults);
    assert_null(ms[0].defaults[0]);
    assert_string_equal(ms[0].defaults[1], "(2 + 3)");
    assert_string_equal(ms[0].sql, "((x * y))");
    assert_null(ms[1].problem);
    assert_string_equal(ms[1].body, "(SELECT * FROM big WHERE (k < n))");
    assert_non_null(ms[2].problem);
    assert_false(ms[2].has_defaults);
    assert_null(ms[3].problem);
    assert_string_equal(ms[3].sql, "((n + 1))");
    cat.macros = NULL;
    cat.nmacros = 0;
    for (size_t i = 0; i < 4; i++) {
        struct dm_catalog one;
        memset(&one, 0, sizeof(one));
        one.macros = malloc(sizeof(*one.macros));
        one.macros[0] = ms[i];
        one.nmacros = 1;
        dm_catalog_release(&one);
    }
}

/* A tree node of one type; children set by the caller. */
static struct dm_type_node node(enum dm_type t)
{
    struct dm_type_node n;
    memset(&n, 0, sizeof(n));
    n.type = t;
    n.width = dm_type_fixed_width(t);
    return n;
}

static void types(void **state)
{
    (void)state;
    static char sad[] = "sad", its[] = "it's", smain[] = "main", ss[] = "s",
                mood[] = "mood", years[] = "years", kind[] = "ENUM";
    char *labels[] = {sad, its};
    struct dm_cat_type ty[2];
    memset(ty, 0, sizeof(ty));
    ty[0] =
        (struct dm_cat_type){smain, mood, kind, 2, labels, NULL, NULL, NULL};
    ty[1] = (struct dm_cat_type){ss, years, kind, 2, labels, NULL, NULL, NULL};
    struct dm_catalog cat;
    memset(&cat, 0, sizeof(cat));
    cat.types = ty;
    cat.ntypes = 2;

    /* STRUCT("odd field" INTEGER, m mood)[] as 0.6 writes it */
    struct dm_type_node kids[2] = {node(DM_T_INTEGER), node(DM_T_ENUM)};
    kids[1].width = 1;
    static char odd[] = "odd field", m[] = "m";
    char *names[] = {odd, m};
    struct dm_type_node st = node(DM_T_STRUCT);
    st.nchildren = 2;
    st.children = kids;
    st.names = names;
    struct dm_type_node list = node(DM_T_LIST);
    list.nchildren = 1;
    list.children = &st;
    char *sql, *key;
    dm_catalog_type(&cat, "main", &list, "STRUCT(odd field INTEGER, m mood)[]",
                    &sql, &key);
    assert_string_equal(sql, "STRUCT(\"odd field\" INTEGER, \"m\" \"mood\")[]");
    assert_string_equal(key, "STRUCT(\"odd field\" INTEGER, \"m\" ENUM('sad', "
                             "'it''s'))[]");
    free(sql);
    free(key);
    /* 1.x spells the ENUM out: same key */
    dm_catalog_type(&cat, "main", &list,
                    "STRUCT(\"odd field\" INTEGER, m ENUM('sad', "
                    "'it''s'))[]",
                    &sql, &key);
    assert_string_equal(key, "STRUCT(\"odd field\" INTEGER, \"m\" ENUM('sad', "
                             "'it''s'))[]");
    free(sql);
    free(key);
    /* a keyword-named ENUM of another schema, quoted by 0.6 */
    dm_catalog_type(&cat, "s", &kids[1], "\"years\"", &sql, &key);
    assert_string_equal(sql, "\"years\"");
    free(sql);
    free(key);
    dm_catalog_type(&cat, "main", &kids[1], "\"years\"", &sql, &key);
    assert_string_equal(sql, "\"s\".\"years\"");
    free(sql);
    free(key);
    /* an ENUM no type explains: no DDL */
    dm_catalog_type(&cat, "main", &kids[1], "weather", &sql, &key);
    assert_null(sql);
    assert_string_equal(key, "ENUM(?)");
    free(key);
    /* 0.6 writes UNION members without names */
    struct dm_type_node u = node(DM_T_UNION);
    struct dm_type_node uk[3] = {node(DM_T_UTINYINT), node(DM_T_INTEGER),
                                 node(DM_T_VARCHAR)};
    static char none[] = "", nm[] = "n m", us[] = "s";
    char *un[] = {none, nm, us};
    u.nchildren = 3;
    u.children = uk;
    u.names = un;
    dm_catalog_type(&cat, "main", &u, "UNION(INTEGER, VARCHAR)", &sql, &key);
    assert_string_equal(sql, "UNION(\"n m\" INTEGER, \"s\" VARCHAR)");
    free(sql);
    free(key);

    /* 1.x's fixed-size ARRAYs are T[n], nested either way, and TIME_NS
     * is its own type: STRUCT(x INTEGER[2])[] and mood[][3] */
    struct dm_type_node elem = node(DM_T_INTEGER);
    struct dm_type_node arr = node(DM_T_ARRAY);
    arr.array_size = 2;
    arr.nchildren = 1;
    arr.children = &elem;
    static char x[] = "x";
    char *xn[] = {x};
    struct dm_type_node sx = node(DM_T_STRUCT);
    sx.nchildren = 1;
    sx.children = &arr;
    sx.names = xn;
    struct dm_type_node lsx = node(DM_T_LIST);
    lsx.nchildren = 1;
    lsx.children = &sx;
    dm_catalog_type(&cat, "main", &lsx, "STRUCT(x INTEGER[2])[]", &sql, &key);
    assert_string_equal(sql, "STRUCT(\"x\" INTEGER[2])[]");
    assert_string_equal(key, "STRUCT(\"x\" INTEGER[2])[]");
    free(sql);
    free(key);
    struct dm_type_node lm = node(DM_T_LIST);
    lm.nchildren = 1;
    lm.children = &kids[1];
    struct dm_type_node alm = node(DM_T_ARRAY);
    alm.array_size = 3;
    alm.nchildren = 1;
    alm.children = &lm;
    dm_catalog_type(&cat, "main", &alm, "ENUM('sad', 'it''s')[][3]", &sql,
                    &key);
    assert_string_equal(sql, "ENUM('sad', 'it''s')[][3]");
    assert_string_equal(key, "ENUM('sad', 'it''s')[][3]");
    free(sql);
    free(key);
    /* from the tree alone (no rendering), the size is still there */
    dm_catalog_type(&cat, "main", &arr, NULL, &sql, &key);
    assert_string_equal(sql, "INTEGER[2]");
    free(sql);
    free(key);
    struct dm_type_node ns = node(DM_T_TIME_NS);
    dm_catalog_type(&cat, "main", &ns, "TIME_NS", &sql, &key);
    assert_string_equal(sql, "TIME_NS");
    assert_string_equal(key, "TIME_NS");
    free(sql);
    free(key);
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
    assert_true(dm_report_incomplete(&r));
    assert_int_equal(dm_report_count(&r, DM_ITEM_NOT_CARRIED), 1);
    assert_string_equal(r.items[1].name, "main.v");
    assert_string_equal(r.items[1].detail, "IO Error: No files found");
    assert_true(dm_report_has(&r, "view", "main", "v", DM_ITEM_NOT_CARRIED));
    assert_false(dm_report_has(&r, "view", "main", "w", DM_ITEM_NOT_CARRIED));
    dm_report_add(&r, "data", "s", "t", DM_ITEM_MISMATCH, "differs");
    assert_true(dm_report_mismatch(&r));
    assert_string_equal(dm_item_status_name(DM_ITEM_MISSING), "missing");
    assert_string_equal(dm_item_status_name(DM_ITEM_CHANGED), "changed");
    dm_report_release(&r);
    assert_int_equal(r.nitems, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lexer),   cmocka_unit_test(lists_and_statements),
        cmocka_unit_test(quoting), cmocka_unit_test(export_macros),
        cmocka_unit_test(types),   cmocka_unit_test(report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
