/* ast.c - stored SQL parsed, checked and rendered by DuckDB (see ast.h). */
#include "catalog/ast.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/sqltext.h"
#include "engine/registry.h"
#include "release/release.h"
#include "util/log.h"
#include "util/str.h"

struct dm_ast {
    struct dm_engine *e;
    struct dm_engine *own; /* a parser of another release, when e has none */
    json_t *select_stmt;   /* the statement of "SELECT 1", a template */
    char nulls_first[24];  /* how this release spells NULLS FIRST */
};

bool dm_ast_release_ok(const char *release)
{
    int major, minor, patch;
    return dm_release_parse(release, &major, &minor, &patch) &&
           !dm_release_before(release, 0, 8);
}

/* ---- JSON that jansson can hold ---------------------------------------
 * DuckDB writes numbers jansson refuses (UBIGINT halves of a HUGEINT,
 * Infinity, NaN) and reals jansson would round. Every number that is not
 * a small integer is kept as its text, in an object whose key DuckDB's
 * serializer never writes, and written back as it was.
 */
#define RAW_KEY "duckmig:raw"

static bool small_int(const char *s, size_t n)
{
    size_t i = s[0] == '-';
    if (n - i == 0 || n - i > 18)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E';
}

static json_t *load_raw(const char *text)
{
    size_t n = strlen(text), cap = n + 64, o = 0;
    char *buf = malloc(cap);
    json_t *out = NULL;
    if (!buf)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t tok = 0;
        if (text[i] == '"') { /* a string, copied as it is */
            size_t j = i + 1;
            while (j < n && text[j] != '"')
                j += text[j] == '\\' ? 2 : 1;
            tok = (j < n ? j + 1 : n) - i;
        } else if (strncmp(text + i, "-Infinity", 9) == 0) {
            tok = 9;
        } else if (strncmp(text + i, "Infinity", 8) == 0) {
            tok = 8;
        } else if (strncmp(text + i, "NaN", 3) == 0) {
            tok = 3;
        } else if (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
            while (i + tok < n && number_char(text[i + tok]))
                tok++;
        }
        bool wrap = tok && text[i] != '"' && !small_int(text + i, tok);
        if (!tok)
            tok = 1;
        size_t need = o + tok + sizeof(RAW_KEY) + 16;
        if (need > cap) {
            cap = need * 2;
            char *p = realloc(buf, cap);
            if (!p)
                goto out;
            buf = p;
        }
        if (wrap)
            o +=
                (size_t)snprintf(buf + o, cap - o, "{\"" RAW_KEY "\":\"%.*s\"}",
                                 (int)tok, text + i);
        else {
            memcpy(buf + o, text + i, tok);
            o += tok;
        }
        i += tok;
    }
    buf[o] = '\0';
    json_error_t jerr;
    out = json_loads(buf, JSON_ALLOW_NUL, &jerr);
out:
    free(buf);
    return out;
}

static char *dump_raw(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    static const char open[] = "{\"" RAW_KEY "\":\"";
    size_t n = strlen(text), o = 0;
    char *out = malloc(n + 1);
    if (!out) {
        free(text);
        return NULL;
    }
    for (size_t i = 0; i < n;) {
        if (text[i] == '"') {
            size_t j = i + 1;
            while (j < n && text[j] != '"')
                j += text[j] == '\\' ? 2 : 1;
            j = j < n ? j + 1 : n;
            memcpy(out + o, text + i, j - i);
            o += j - i;
            i = j;
        } else if (strncmp(text + i, open, sizeof(open) - 1) == 0) {
            i += sizeof(open) - 1;
            while (i < n && text[i] != '"')
                out[o++] = text[i++];
            i += 2; /* the closing "} */
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    free(text);
    return out;
}

/* ---- talking to the parser -------------------------------------------- */

/* One cell of "SELECT fn(literal)". */
static enum dm_code call1(struct dm_ast *a, const char *fn, const char *arg,
                          char **out, struct dm_error *err)
{
    struct dm_rows *rows = NULL;
    char *lit = dm_sql_literal(arg);
    char *sql = lit ? dm_fmt("SELECT %s(%s)", fn, lit) : NULL;
    enum dm_code rc = sql ? dm_engine_query(a->e, sql, &rows, err)
                          : dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (!rc) {
        const char *cell = dm_rows_get(rows, 0, 0);
        *out = cell ? strdup(cell) : NULL;
        if (!*out)
            rc = dm_fail(err, DM_ERR_SQL, "%s returned nothing", fn);
    }
    dm_rows_free(rows);
    free(sql);
    free(lit);
    return rc;
}

/* json_serialize_sql(text): the statements array, or DuckDB's reason. */
static enum dm_code serialize(struct dm_ast *a, const char *text,
                              json_t **stmts, struct dm_error *err)
{
    char *out = NULL;
    *stmts = NULL;
    enum dm_code rc = call1(a, "json_serialize_sql", text, &out, err);
    if (rc)
        return rc;
    json_t *doc = load_raw(out);
    free(out);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return dm_fail(err, DM_ERR_SQL,
                       "DuckDB %s's parse of a definition could not be read",
                       dm_engine_release(a->e));
    }
    if (json_is_true(json_object_get(doc, "error"))) {
        const char *why =
            json_string_value(json_object_get(doc, "error_message"));
        char line[512];
        snprintf(line, sizeof(line), "%s", why ? why : "it does not parse");
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        json_decref(doc);
        return dm_fail(err, DM_ERR_SQL, "%s", line);
    }
    *stmts = json_incref(json_object_get(doc, "statements"));
    json_decref(doc);
    if (!json_is_array(*stmts)) {
        json_decref(*stmts);
        *stmts = NULL;
        return dm_fail(err, DM_ERR_SQL, "no statements in DuckDB's parse");
    }
    return DM_OK;
}

const char *dm_ast_release(const struct dm_ast *a)
{
    return dm_engine_release(a->e);
}

/* A parser on e: its template statement and spelling of NULLS FIRST. */
static enum dm_code open_on(struct dm_engine *e, struct dm_ast **out,
                            struct dm_error *err)
{
    json_t *stmts = NULL;
    *out = NULL;
    if (!dm_ast_release_ok(dm_engine_release(e)))
        return dm_fail(err, DM_ERR_ENGINE,
                       "DuckDB %s cannot parse SQL into a tree (0.8 or later "
                       "can)",
                       dm_engine_release(e));
    struct dm_ast *a = calloc(1, sizeof(*a));
    if (!a)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    a->e = e;
    enum dm_code rc =
        serialize(a, "SELECT 1 ORDER BY 1 NULLS FIRST", &stmts, err);
    if (rc)
        goto fail;
    json_t *stmt = json_array_get(stmts, 0);
    json_t *node = json_object_get(stmt, "node");
    json_t *mods = json_object_get(node, "modifiers");
    json_t *order =
        json_array_get(json_object_get(json_array_get(mods, 0), "orders"), 0);
    const char *nf = json_string_value(json_object_get(order, "null_order"));
    if (!nf || !json_is_array(mods)) {
        rc = dm_fail(err, DM_ERR_ENGINE,
                     "DuckDB %s's parse tree is not one duckmig knows",
                     dm_engine_release(e));
        goto fail;
    }
    snprintf(a->nulls_first, sizeof(a->nulls_first), "%s", nf);
    json_array_clear(mods);
    a->select_stmt = json_incref(stmt);
    json_decref(stmts);
    *out = a;
    return DM_OK;
fail:
    json_decref(stmts);
    free(a);
    return rc;
}

enum dm_code dm_ast_open(struct dm_engine *e, struct dm_ast **out,
                         struct dm_error *err)
{
    struct dm_error first = DM_ERROR_INIT;
    enum dm_code rc = open_on(e, out, &first);
    if (rc != DM_ERR_ENGINE && rc != DM_ERR_SQL)
        return rc ? dm_fail(err, rc, "%s", first.msg) : DM_OK;
    /* a release without json_serialize_sql (before 0.8, or a build
     * without its JSON extension): the newest installed one that has it
     * parses, in a worker of its own that opens no file */
    char rel[8][DM_RELEASE_MAX];
    size_t n = dm_engines_installed(rel, 8);
    for (size_t i = 0; i < n; i++) {
        struct dm_engine *own = NULL;
        struct dm_error e2 = DM_ERROR_INIT;
        if (!dm_ast_release_ok(rel[i]) ||
            strcmp(rel[i], dm_engine_release(e)) == 0)
            continue;
        rc = dm_engine_start(rel[i], &own, &e2);
        if (!rc)
            rc = dm_engine_open(own, ":memory:", 0, NULL, 0, &e2);
        if (!rc)
            rc = dm_catalog_seal(own, true, &e2);
        if (!rc)
            rc = open_on(own, out, &e2);
        if (!rc) {
            (*out)->own = own;
            dm_info("catalog",
                    "DuckDB %s cannot parse definitions (%s): DuckDB %s "
                    "does",
                    dm_engine_release(e), first.msg, rel[i]);
            return DM_OK;
        }
        dm_engine_stop(own);
    }
    return dm_fail(err, DM_ERR_ENGINE,
                   "no installed DuckDB release can parse the definitions "
                   "(DuckDB %s: %s)",
                   dm_engine_release(e), first.msg);
}

void dm_ast_close(struct dm_ast *a)
{
    if (!a)
        return;
    json_decref(a->select_stmt);
    dm_engine_stop(a->own);
    free(a);
}

void dm_ast_free(json_t *tree)
{
    json_decref(tree);
}

/* ---- checking the shape of a parse ------------------------------------ */

static bool is_query_node(const json_t *node)
{
    static const char *const kinds[] = {"SELECT_NODE", "SET_OPERATION_NODE",
                                        "RECURSIVE_CTE_NODE", "CTE_NODE"};
    const char *type = json_string_value(json_object_get(node, "type"));
    for (size_t i = 0; type && i < sizeof(kinds) / sizeof(*kinds); i++)
        if (strcmp(type, kinds[i]) == 0)
            return true;
    return false;
}

enum dm_code dm_ast_query(struct dm_ast *a, const char *text, json_t **node,
                          struct dm_error *err)
{
    json_t *stmts = NULL;
    *node = NULL;
    enum dm_code rc = serialize(a, text, &stmts, err);
    if (rc)
        return rc;
    json_t *n = json_object_get(json_array_get(stmts, 0), "node");
    if (json_array_size(stmts) != 1)
        rc = dm_fail(err, DM_ERR_SQL, "it holds %zu statements, not one query",
                     json_array_size(stmts));
    else if (!is_query_node(n))
        rc = dm_fail(err, DM_ERR_SQL, "it is not a query");
    else
        *node = json_incref(n);
    json_decref(stmts);
    return rc;
}

/* Is v nothing: null, false, "", an empty array or object? */
static bool empty(const json_t *v)
{
    return !v || json_is_null(v) || json_is_false(v) ||
           (json_is_string(v) && !*json_string_value(v)) ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* A SELECT of one item and nothing else: the item's expression, or NULL */
static json_t *lone_item(json_t *node)
{
    const char *key;
    json_t *v;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type || strcmp(type, "SELECT_NODE") != 0)
        return NULL;
    json_object_foreach(node, key, v)
    {
        if (strcmp(key, "type") == 0 || strcmp(key, "select_list") == 0)
            continue;
        if (strcmp(key, "from_table") == 0) {
            const char *ft = json_string_value(json_object_get(v, "type"));
            if (!ft || strcmp(ft, "EMPTY") != 0)
                return NULL;
        } else if (strcmp(key, "cte_map") == 0) {
            if (!empty(json_object_get(v, "map")))
                return NULL;
        } else if (strcmp(key, "aggregate_handling") == 0) {
            const char *h = json_string_value(v);
            if (!h || strcmp(h, "STANDARD_HANDLING") != 0)
                return NULL;
        } else if (!empty(v)) {
            return NULL;
        }
    }
    json_t *list = json_object_get(node, "select_list");
    json_t *item = json_array_get(list, 0);
    const char *cls = json_string_value(json_object_get(item, "class"));
    if (json_array_size(list) != 1 || !empty(json_object_get(item, "alias")) ||
        !cls || strcmp(cls, "STAR") == 0)
        return NULL;
    return item;
}

enum dm_code dm_ast_expr(struct dm_ast *a, const char *text, json_t **expr,
                         struct dm_error *err)
{
    json_t *node = NULL;
    *expr = NULL;
    char *sql = dm_fmt("SELECT %s", text);
    if (!sql)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = dm_ast_query(a, sql, &node, err);
    free(sql);
    if (rc)
        return rc;
    json_t *item = lone_item(node);
    if (item)
        *expr = json_incref(item);
    else
        rc = dm_fail(err, DM_ERR_SQL, "it is not one expression");
    json_decref(node);
    return rc;
}

/* ---- rendering -------------------------------------------------------- */

static enum dm_code deserialize(struct dm_ast *a, json_t *node, char **sql,
                                struct dm_error *err)
{
    json_t *stmt = json_deep_copy(a->select_stmt);
    json_t *doc =
        stmt ? json_pack("{s:b, s:[o]}", "error", 0, "statements", stmt) : NULL;
    char *text = NULL;
    enum dm_code rc = DM_OK;
    if (!doc || json_object_set(stmt, "node", node) != 0 ||
        !(text = dump_raw(doc)))
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    else
        rc = call1(a, "json_deserialize_sql", text, sql, err);
    free(text);
    json_decref(doc);
    return rc;
}

static bool same_tree(json_t *x, json_t *y)
{
    char *a = dm_ast_canon(x), *b = dm_ast_canon(y);
    bool same = a && b && strcmp(a, b) == 0;
    free(a);
    free(b);
    return same;
}

enum dm_code dm_ast_render_query(struct dm_ast *a, json_t *node, char **sql,
                                 struct dm_error *err)
{
    json_t *back = NULL;
    *sql = NULL;
    enum dm_code rc = deserialize(a, node, sql, err);
    if (!rc)
        rc = dm_ast_query(a, *sql, &back, err);
    if (!rc && !same_tree(node, back))
        rc = dm_fail(err, DM_ERR_SQL,
                     "DuckDB %s does not render it back as it parsed it",
                     dm_engine_release(a->e));
    json_decref(back);
    if (rc) {
        free(*sql);
        *sql = NULL;
    }
    return rc;
}

enum dm_code dm_ast_render_expr(struct dm_ast *a, json_t *expr, char **sql,
                                struct dm_error *err)
{
    json_t *node = json_deep_copy(json_object_get(a->select_stmt, "node"));
    json_t *back = NULL;
    char *text = NULL;
    *sql = NULL;
    enum dm_code rc = DM_OK;
    if (!node ||
        json_object_set_new(node, "select_list", json_pack("[O]", expr)) != 0) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = deserialize(a, node, &text, err);
    if (rc)
        goto out;
    if (strncmp(text, "SELECT ", 7) != 0) {
        rc = dm_fail(err, DM_ERR_SQL, "DuckDB %s rendered '%.40s'",
                     dm_engine_release(a->e), text);
        goto out;
    }
    *sql = strdup(text + 7);
    if (!*sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dm_ast_expr(a, *sql, &back, err);
    if (!rc && !same_tree(expr, back))
        rc = dm_fail(err, DM_ERR_SQL,
                     "DuckDB %s does not render it back as it parsed it",
                     dm_engine_release(a->e));
out:
    if (rc) {
        free(*sql);
        *sql = NULL;
    }
    json_decref(back);
    json_decref(node);
    free(text);
    return rc;
}

enum dm_code dm_ast_checked_query(struct dm_ast *a, const char *text,
                                  char **sql, struct dm_error *err)
{
    json_t *node = NULL;
    enum dm_code rc = dm_ast_query(a, text, &node, err);
    if (!rc)
        rc = dm_ast_render_query(a, node, sql, err);
    json_decref(node);
    return rc;
}

enum dm_code dm_ast_checked_expr(struct dm_ast *a, const char *text, char **sql,
                                 struct dm_error *err)
{
    json_t *expr = NULL;
    enum dm_code rc = dm_ast_expr(a, text, &expr, err);
    if (!rc)
        rc = dm_ast_render_expr(a, expr, sql, err);
    json_decref(expr);
    return rc;
}

/* ---- walking trees ---------------------------------------------------- */

typedef void (*visit_fn)(json_t *obj, void *ctx);

static void walk(json_t *v, visit_fn fn, void *ctx)
{
    if (json_is_object(v)) {
        fn(v, ctx);
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child) walk(child, fn, ctx);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) walk(child, fn, ctx);
    }
}

static bool str_is(const json_t *obj, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && strcmp(s, want) == 0;
}

static void canon_visit(json_t *obj, void *ctx)
{
    (void)ctx;
    json_object_del(obj, "query_location");
    /* renderers qualify built-in functions (main.list_value) */
    if (str_is(obj, "class", "FUNCTION") && str_is(obj, "schema", "main"))
        json_object_set_new(obj, "schema", json_string(""));
}

char *dm_ast_canon(json_t *tree)
{
    json_t *copy = json_deep_copy(tree);
    if (!copy)
        return NULL;
    walk(copy, canon_visit, NULL);
    char *text =
        json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(copy);
    return text;
}

/* What changed between the releases, from the source's point of view. */
struct meaning {
    struct dm_ast *a;
    bool int_division; /* source before 0.8: '/' of integers was '//' */
    bool nulls_first;  /* source before 0.8: NULLs sorted first */
    bool zero_is_null; /* source before 1.1, target 1.1+: x / 0, x % 0
                        * of floating point gave NULL, now inf / NaN */
    unsigned changes;
};

static bool is_operator(const json_t *obj, const char *op)
{
    return str_is(obj, "class", "FUNCTION") &&
           str_is(obj, "function_name", op) &&
           json_is_true(json_object_get(obj, "is_operator"));
}

/* A node of this release's tree for sql's one select item, or NULL. */
static json_t *template_of(struct dm_ast *a, const char *sql)
{
    json_t *expr = NULL;
    struct dm_error ignored = DM_ERROR_INIT;
    if (dm_ast_expr(a, sql, &expr, &ignored) != DM_OK)
        return NULL;
    json_object_del(expr, "query_location");
    return expr;
}

/* right -> NULLIF(right, 0) */
static void nullif_zero(struct meaning *m, json_t *obj)
{
    json_t *kids = json_object_get(obj, "children");
    json_t *right = json_array_get(kids, 1);
    if (!right || json_array_size(kids) != 2)
        return;
    json_t *f = template_of(m->a, "nullif(NULL, 0)");
    json_t *args = json_object_get(f, "children");
    if (f && json_array_size(args) == 2 &&
        json_array_set(args, 0, right) == 0 &&
        json_array_set_new(kids, 1, f) == 0) {
        m->changes |= DM_AST_ZERO_DIVISOR;
        return;
    }
    json_decref(f);
}

/* list_sort(l[, order]) sorted NULLs as ORDER BY did: say so */
static void sort_nulls(struct meaning *m, json_t *obj)
{
    const char *fn = json_string_value(json_object_get(obj, "function_name"));
    json_t *kids = json_object_get(obj, "children");
    size_t n = json_array_size(kids);
    bool reverse = fn && (strcmp(fn, "list_reverse_sort") == 0 ||
                          strcmp(fn, "array_reverse_sort") == 0);
    bool sort =
        fn && (strcmp(fn, "list_sort") == 0 || strcmp(fn, "array_sort") == 0);
    if (!str_is(obj, "class", "FUNCTION") ||
        !empty(json_object_get(obj, "schema")))
        return;
    /* the parser writes list(x ORDER BY x) as list_sort(list(x),
     * 'ORDER_DEFAULT', 'ORDER_DEFAULT') */
    json_t *value = json_object_get(json_array_get(kids, 2), "value");
    if (sort && n == 3 && str_is(value, "value", "ORDER_DEFAULT")) {
        json_object_set_new(value, "value", json_string("NULLS FIRST"));
        m->changes |= DM_AST_NULLS_FIRST;
        return;
    }
    if (!((sort && (n == 1 || n == 2)) || (reverse && n == 1)))
        return;
    if (sort && n == 1)
        json_array_append_new(kids, template_of(m->a, "'ASC'"));
    json_array_append_new(kids, template_of(m->a, "'NULLS FIRST'"));
    m->changes |= DM_AST_NULLS_FIRST;
}

static void meaning_visit(json_t *obj, void *ctx)
{
    struct meaning *m = ctx;
    if (m->int_division && is_operator(obj, "/")) {
        json_object_set_new(obj, "function_name", json_string("//"));
        m->changes |= DM_AST_INT_DIVISION;
    } else if (m->zero_is_null && is_operator(obj, "/")) {
        nullif_zero(m, obj);
    }
    if (m->zero_is_null && is_operator(obj, "%"))
        nullif_zero(m, obj);
    if (m->nulls_first && str_is(obj, "null_order", "ORDER_DEFAULT")) {
        json_object_set_new(obj, "null_order", json_string(m->a->nulls_first));
        m->changes |= DM_AST_NULLS_FIRST;
    }
    if (m->nulls_first)
        sort_nulls(m, obj);
}

unsigned dm_ast_keep_meaning(struct dm_ast *a, json_t *tree,
                             const char *from_release)
{
    const char *to = dm_engine_release(a->e);
    int major, minor, patch;
    if (!dm_release_parse(from_release, &major, &minor, &patch))
        return 0;
    bool before_08 = dm_release_before(from_release, 0, 8);
    bool zero =
        dm_release_before(from_release, 1, 1) && !dm_release_before(to, 1, 1);
    struct meaning m = {a, before_08, before_08, zero, 0};
    walk(tree, meaning_visit, &m);
    return m.changes;
}

const char *dm_ast_changes_text(unsigned changes, char *buf, size_t n)
{
    if (changes & DM_AST_ZERO_DIVISOR) {
        char rest[200];
        dm_ast_changes_text(changes & ~(unsigned)DM_AST_ZERO_DIVISOR, rest,
                            sizeof(rest));
        snprintf(buf, n, "%s%sa divisor of 0 kept giving NULL (NULLIF)", rest,
                 rest[0] ? ", " : "");
        return buf;
    }
    snprintf(
        buf, n, "%s%s%s",
        changes & DM_AST_INT_DIVISION ? "'/' of the old release kept as '//'"
                                      : "",
        (changes & DM_AST_INT_DIVISION) && (changes & DM_AST_NULLS_FIRST) ? ", "
                                                                          : "",
        changes & DM_AST_NULLS_FIRST
            ? "ORDER BY kept with the old default NULLS FIRST"
            : "");
    return buf;
}

static void unmangle_visit(json_t *obj, void *ctx)
{
    const char *prefix = ctx;
    json_t *names = json_object_get(obj, "column_names");
    if (!str_is(obj, "class", "COLUMN_REF") || json_array_size(names) != 2)
        return;
    const char *first = json_string_value(json_array_get(names, 0));
    if (first && strcmp(first, prefix) == 0)
        json_array_remove(names, 0);
}

void dm_ast_unmangle_macro(json_t *tree, const char *macro_name)
{
    char *prefix = dm_fmt("0_macro_parameters%s", macro_name);
    if (prefix)
        walk(tree, unmangle_visit, prefix);
    free(prefix);
}

static void main_visit(json_t *obj, void *ctx)
{
    unsigned *n = ctx;
    if (str_is(obj, "type", "BASE_TABLE") &&
        str_is(obj, "catalog_name", "main") &&
        str_is(obj, "schema_name", "main")) {
        json_object_set_new(obj, "catalog_name", json_string(""));
        (*n)++;
    }
    json_t *names = json_object_get(obj, "column_names");
    if (str_is(obj, "class", "COLUMN_REF") && json_array_size(names) == 4) {
        const char *a = json_string_value(json_array_get(names, 0));
        const char *b = json_string_value(json_array_get(names, 1));
        if (a && b && strcmp(a, "main") == 0 && strcmp(b, "main") == 0) {
            json_array_remove(names, 0);
            (*n)++;
        }
    }
}

unsigned dm_ast_drop_main_catalog(json_t *tree)
{
    unsigned n = 0;
    walk(tree, main_visit, &n);
    return n;
}

json_t *dm_ast_uncast(json_t *tree)
{
    while (str_is(tree, "class", "CAST") &&
           !json_is_true(json_object_get(tree, "try_cast")) &&
           json_object_get(tree, "child"))
        tree = json_object_get(tree, "child");
    return json_incref(tree);
}
