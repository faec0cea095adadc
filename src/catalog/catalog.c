/* catalog.c - read a database's schema objects through an engine worker,
 * as facts (see catalog.h). */
#include "catalog/catalog.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/sqltext.h"
#include "header/header.h"
#include "util/log.h"
#include "util/str.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static enum dm_code query(struct dm_engine *e, struct dm_rows **rows,
                          struct dm_error *err, const char *f, ...)
    __attribute__((format(printf, 4, 5)));
static enum dm_code query(struct dm_engine *e, struct dm_rows **rows,
                          struct dm_error *err, const char *f, ...)
{
    va_list ap;
    char *sql = NULL;
    va_start(ap, f);
    int n = vasprintf(&sql, f, ap);
    va_end(ap);
    if (n < 0)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = dm_engine_query(e, sql, rows, err);
    free(sql);
    return rc;
}

static bool truthy(const char *s)
{
    return s && (strcmp(s, "true") == 0 || strcmp(s, "YES") == 0 ||
                 strcmp(s, "1") == 0);
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool in_rows(const struct dm_rows *r, const char *s)
{
    for (size_t i = 0; r && i < r->nrows; i++)
        if (same(dm_rows_get(r, i, 0), s))
            return true;
    return false;
}

static bool push_str(char ***v, size_t *n, const char *s)
{
    char *copy = s ? strdup(s) : NULL;
    char **p = copy ? realloc(*v, (*n + 1) * sizeof(char *)) : NULL;
    if (!p) {
        free(copy);
        return false;
    }
    *v = p;
    (*v)[(*n)++] = copy;
    return true;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Record why an object cannot be built; the first reason wins. */
static void set_problem(char **problem, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_problem(char **problem, const char *fmt, ...)
{
    if (*problem)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(problem, fmt, ap) < 0)
        *problem = NULL;
    va_end(ap);
}

enum dm_code dm_catalog_builtin_macros(struct dm_engine *e,
                                       struct dm_rows **out,
                                       struct dm_error *err)
{
    return query(e, out, err,
                 "SELECT DISTINCT function_name FROM duckdb_functions() "
                 "WHERE function_type IN ('macro', 'table_macro')");
}

enum dm_code dm_catalog_seal(struct dm_engine *e, bool lock,
                             struct dm_error *err)
{
    int major = 0, minor = 0, patch = 0;
    dm_release_parse(dm_engine_release(e), &major, &minor, &patch);
    enum dm_code rc =
        dm_engine_exec(e, "SET enable_external_access = false", err);
    /* lock_configuration is 0.8+; 0.8 also refuses SET search_path once
     * locked, which the writer needs to create objects in their schema */
    if (!rc && lock && major >= 1)
        rc = dm_engine_exec(e, "SET lock_configuration = true", err);
    return rc;
}

enum dm_code dm_catalog_open(const char *release, const char *path, bool seal,
                             struct dm_engine **e, struct dm_rows **builtin,
                             struct dm_error *err)
{
    enum dm_code rc = dm_engine_start(release, e, err);
    if (!rc)
        rc = dm_engine_open(*e, ":memory:", 0, NULL, 0, err);
    if (!rc)
        rc = dm_catalog_builtin_macros(*e, builtin, err);
    /* a reader's buffer pool would otherwise keep every block it has
     * scanned, up to DuckDB's default of 80% of the machine's memory;
     * a small pool costs little, since scans read each block once (a
     * 0.6/0.7 range re-reads the table's start, from the OS's cache).
     * DUCKMIG_READER_MEMORY_LIMIT is set as the file opens, and a value
     * DuckDB refuses is an error. The default is set after the open: a
     * 1.x WAL is replayed into memory as the file opens, and a default
     * must not refuse a file (0.6-0.8 WALs are replayed in a copy,
     * source.h). DuckDB keeps its own limit when the replayed rows hold
     * more than the default. */
    const char *limit = getenv("DUCKMIG_READER_MEMORY_LIMIT");
    bool explicit_limit = limit && *limit;
    struct dm_setting set = {"memory_limit", limit};
    if (!rc)
        rc = dm_engine_open(*e, path, DM_OPEN_READ_ONLY, &set,
                            explicit_limit ? 1 : 0, err);
    if (!rc && !explicit_limit) {
        struct dm_error serr = DM_ERROR_INIT;
        if (dm_engine_exec(*e,
                           "SET memory_limit = '" DM_READER_MEMORY_LIMIT "'",
                           &serr) != DM_OK)
            dm_info("migrate",
                    "%s: the reader keeps DuckDB's memory limit, not %s: %s",
                    path, DM_READER_MEMORY_LIMIT, serr.msg);
    }
    /* the reader's queries, and the views and macros verification runs,
     * read this file and nothing else */
    if (!rc && seal)
        rc = dm_catalog_seal(*e, false, err);
    return rc;
}

/* A filter that keeps 1.x catalog functions to the open file. */
static const char *db_filter(const struct dm_catalog *cat)
{
    return cat->legacy ? "" : " AND database_name = current_database()";
}

static enum dm_code read_schemas(struct dm_engine *e, struct dm_catalog *cat,
                                 struct dm_error *err)
{
    struct dm_rows *r = NULL;
    enum dm_code rc =
        query(e, &r, err,
              "SELECT schema_name FROM duckdb_schemas() WHERE NOT internal "
              "AND schema_name <> 'main'%s ORDER BY schema_name",
              db_filter(cat));
    if (rc)
        return rc;
    cat->schemas = calloc(r->nrows ? r->nrows : 1, sizeof(char *));
    if (!cat->schemas)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++)
        if (dm_rows_get(r, i, 0))
            cat->schemas[cat->nschemas++] = strdup(dm_rows_get(r, i, 0));
    dm_rows_free(r);
    return rc;
}

/* ---- types -------------------------------------------------------------- */

/* The tree of the first column of sql's result (SELECT ... LIMIT 0). */
static int grab_schema(void *ctx, const struct dm_scan_schema *schema)
{
    struct dm_type_node **out = ctx;
    if (*out)
        return 0;
    /* re-encode to copy the trees out of the engine's buffer */
    struct dm_wbuf b = DM_WBUF_INIT;
    dm_wbuf_u32(&b, (uint32_t)schema->ncols);
    for (size_t i = 0; i < schema->ncols; i++)
        dm_type_write(&b, &schema->types[i]);
    struct dm_wcur c;
    dm_wcur_init(&c, &b);
    uint32_t n = dm_wcur_u32(&c);
    struct dm_type_node *t = calloc(n ? n : 1, sizeof(*t));
    for (uint32_t i = 0; t && i < n; i++)
        dm_type_read(&c, &t[i]);
    dm_wbuf_release(&b);
    *out = t;
    return 0;
}

/* The type trees of sql's columns (ncols of them), or NULL. */
static struct dm_type_node *result_types(struct dm_engine *e, const char *sql)
{
    struct dm_type_node *types = NULL;
    struct dm_error ignored = DM_ERROR_INIT;
    if (dm_engine_scan(e, sql, 0, grab_schema, &types, NULL, &ignored) !=
        DM_OK) {
        dm_debug("catalog", "%s: %s", sql, ignored.msg);
    }
    return types;
}

static void release_types(struct dm_type_node *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        dm_type_release(&t[i]);
    free(t);
}

/*
 * Reading a release's rendering of a type ("STRUCT(odd field INTEGER, m
 * mood)[]") in step with its tree: the tree says what the type is; the
 * rendering only tells which user type (ENUM or alias) stands where.
 * When the two fall out of step, the rest is built from the tree alone.
 */
struct tparse {
    const char *text; /* NULL: no rendering to follow */
    size_t p;
    bool ok;
    const struct dm_catalog *cat;
    const char *schema; /* the table's schema: its types come first */
    bool unresolved;    /* an ENUM whose type could not be told */
};

static bool lit(struct tparse *tp, const char *s)
{
    size_t n = strlen(s);
    if (!tp->ok || !tp->text || strncmp(tp->text + tp->p, s, n) != 0) {
        tp->ok = false;
        return false;
    }
    tp->p += n;
    return true;
}

/* A name at the cursor, bare or quoted: exactly want. */
static bool name_is(struct tparse *tp, const char *want)
{
    if (!tp->ok || !tp->text)
        return false;
    size_t n = strlen(want);
    if (strncmp(tp->text + tp->p, want, n) == 0 && tp->text[tp->p + n] == ' ') {
        tp->p += n;
        return true;
    }
    char *q = dm_sql_ident(want);
    bool hit = q && strncmp(tp->text + tp->p, q, strlen(q)) == 0;
    if (hit)
        tp->p += strlen(q);
    free(q);
    return hit;
}

/* An identifier (bare or quoted, maybe schema-qualified) at the cursor. */
static bool read_name(struct tparse *tp, char **schema, char **name)
{
    struct dm_lexer lx;
    *schema = *name = NULL;
    if (!tp->ok || !tp->text)
        return false;
    dm_lex_init(&lx, tp->text);
    lx.pos = tp->p;
    struct dm_tok t = dm_lex_next(&lx);
    if (t.start != tp->p)
        return false;
    char *first = dm_tok_ident(tp->text, &t);
    if (!first)
        return false;
    size_t after = lx.pos;
    struct dm_tok dot = dm_lex_next(&lx);
    if (dot.start == after && dm_tok_is(tp->text, &dot, ".")) {
        struct dm_tok t2 = dm_lex_next(&lx);
        char *second =
            t2.start == dot.start + 1 ? dm_tok_ident(tp->text, &t2) : NULL;
        if (second) {
            *schema = first;
            *name = second;
            tp->p = lx.pos;
            return true;
        }
    }
    *name = first;
    tp->p = after;
    return true;
}

static const struct dm_cat_type *find_type(const struct dm_catalog *cat,
                                           const char *schema, const char *name,
                                           const char *prefer, bool is_enum)
{
    const struct dm_cat_type *hit = NULL;
    size_t hits = 0;
    if (!cat)
        return NULL;
    for (size_t i = 0; i < cat->ntypes; i++) {
        const struct dm_cat_type *t = &cat->types[i];
        bool enum_type = same(t->kind, "ENUM");
        if (!same(t->name, name) || enum_type != is_enum ||
            (schema && !same(t->schema, schema)))
            continue;
        if (same(t->schema, prefer))
            return t;
        hit = t;
        hits++;
    }
    if (hits == 1)
        return hit;
    for (size_t i = 0; hits > 1 && i < cat->ntypes; i++)
        if (same(cat->types[i].name, name) &&
            same(cat->types[i].schema, "main") &&
            same(cat->types[i].kind, is_enum ? "ENUM" : cat->types[i].kind))
            return &cat->types[i];
    return NULL;
}

/*
 * How a column of a table in schema names user type ty: bare (quoted)
 * when the type is in the table's schema, or in main and the table's
 * schema has none of that name, since 0.6-0.8 refuse a qualified type
 * name and resolve a bare one through the search path duckmig sets to
 * (schema, main) when it creates the table; qualified otherwise, which
 * only 1.x takes.
 */
static char *type_name_sql(const struct dm_catalog *cat,
                           const struct dm_cat_type *ty, const char *schema)
{
    bool bare = same(ty->schema, schema);
    if (!bare && same(ty->schema, "main")) {
        bare = true;
        for (size_t i = 0; i < cat->ntypes; i++)
            if (same(cat->types[i].schema, schema) &&
                same(cat->types[i].name, ty->name))
                bare = false;
    }
    return bare ? dm_sql_ident(ty->name)
                : dm_sql_qualified(ty->schema, ty->name);
}

static void add_labels(struct dm_sbuf *b, char **labels, size_t n)
{
    dm_sbuf_add(b, "ENUM(");
    for (size_t i = 0; i < n; i++) {
        if (i)
            dm_sbuf_add(b, ", ");
        dm_sbuf_add_owned(b, dm_sql_literal(labels[i] ? labels[i] : ""));
    }
    dm_sbuf_add(b, ")");
}

static const char *scalar_sql(const struct dm_type_node *t)
{
    switch (t->type) {
    case DM_T_TIMESTAMP_TZ:
        return "TIMESTAMP WITH TIME ZONE";
    case DM_T_TIME_TZ:
        return "TIME WITH TIME ZONE";
    default:
        return dm_type_name(t->type);
    }
}

/* The scalar's rendering at the cursor: up to ',', ')' or '[' outside
 * quotes and parentheses. */
static char *scalar_run(struct tparse *tp)
{
    if (!tp->ok || !tp->text)
        return NULL;
    size_t b = tp->p, i = b;
    int depth = 0;
    while (tp->text[i]) {
        char c = tp->text[i];
        if (c == '"') {
            i++;
            while (tp->text[i] &&
                   !(tp->text[i] == '"' && tp->text[i + 1] != '"'))
                i += tp->text[i] == '"' ? 2 : 1;
            if (tp->text[i])
                i++;
            continue;
        }
        if (c == '(')
            depth++;
        else if (c == ')' && depth-- == 0)
            break;
        else if ((c == ',' || c == '[') && depth == 0)
            break;
        i++;
    }
    tp->p = i;
    return strndup(tp->text + b, i - b);
}

static void build_type(struct tparse *tp, const struct dm_type_node *t,
                       struct dm_sbuf *sql, struct dm_sbuf *key);

static void build_members(struct tparse *tp, const struct dm_type_node *t,
                          struct dm_sbuf *sql, struct dm_sbuf *key)
{
    bool is_union = t->type == DM_T_UNION;
    uint32_t first = is_union ? 1 : 0;
    dm_sbuf_add(sql, is_union ? "UNION(" : "STRUCT(");
    dm_sbuf_add(key, is_union ? "UNION(" : "STRUCT(");
    lit(tp, is_union ? "UNION(" : "STRUCT(");
    for (uint32_t i = first; i < t->nchildren; i++) {
        const char *name = t->names[i] ? t->names[i] : "";
        if (i > first) {
            dm_sbuf_add(sql, ", ");
            dm_sbuf_add(key, ", ");
            lit(tp, ", ");
        }
        dm_sbuf_add_owned(sql, dm_sql_ident(name));
        dm_sbuf_add(sql, " ");
        dm_sbuf_add_owned(key, dm_sql_ident(name));
        dm_sbuf_add(key, " ");
        /* 0.6 writes STRUCT(odd field INTEGER) and UNION(INTEGER): the
         * member's name is optional in what is followed */
        size_t at = tp->p;
        if (tp->ok && name_is(tp, name) && tp->text[tp->p] == ' ')
            tp->p++;
        else if (tp->ok)
            tp->p = at;
        build_type(tp, &t->children[i], sql, key);
    }
    dm_sbuf_add(sql, ")");
    dm_sbuf_add(key, ")");
    lit(tp, ")");
}

/*
 * 0.6 and 0.7 write a column of an alias by the alias's name ("li" for
 * INTEGER[]): a name at the cursor, followed by the end of this type,
 * that names an alias standing for exactly this tree.
 */
static const struct dm_cat_type *alias_here(struct tparse *tp,
                                            const struct dm_type_node *t)
{
    if (!tp->ok || !tp->text || !tp->cat)
        return NULL;
    struct tparse peek = *tp;
    char *schema = NULL, *name = NULL;
    const struct dm_cat_type *alias = NULL;
    if (read_name(&peek, &schema, &name)) {
        char c = peek.text[peek.p];
        if (c == '\0' || c == ',' || c == ')' || c == '[')
            alias = find_type(tp->cat, schema, name, tp->schema, false);
    }
    free(schema);
    free(name);
    if (!alias || !alias->type_key)
        return NULL;
    struct dm_sbuf s = DM_SBUF_INIT, k = DM_SBUF_INIT;
    struct tparse bare = {NULL, 0, false, tp->cat, tp->schema, false};
    build_type(&bare, t, &s, &k);
    char *key = dm_sbuf_take(&k);
    dm_sbuf_release(&s);
    bool same_tree = key && strcmp(key, alias->type_key) == 0;
    free(key);
    if (!same_tree)
        return NULL;
    tp->p = peek.p;
    return alias;
}

static void build_type(struct tparse *tp, const struct dm_type_node *t,
                       struct dm_sbuf *sql, struct dm_sbuf *key)
{
    const struct dm_cat_type *alias =
        t->type == DM_T_ENUM ? NULL : alias_here(tp, t);
    if (alias) {
        struct tparse bare = {NULL, 0, false, tp->cat, tp->schema, false};
        struct dm_sbuf ignored = DM_SBUF_INIT;
        build_type(&bare, t, &ignored, key);
        dm_sbuf_release(&ignored);
        dm_sbuf_add_owned(sql, type_name_sql(tp->cat, alias, tp->schema));
        return;
    }
    switch (t->type) {
    case DM_T_LIST:
        build_type(tp, &t->children[0], sql, key);
        dm_sbuf_add(sql, "[]");
        dm_sbuf_add(key, "[]");
        lit(tp, "[]");
        return;
    case DM_T_MAP: {
        const struct dm_type_node *kv = &t->children[0];
        dm_sbuf_add(sql, "MAP(");
        dm_sbuf_add(key, "MAP(");
        lit(tp, "MAP(");
        build_type(tp, &kv->children[0], sql, key);
        dm_sbuf_add(sql, ", ");
        dm_sbuf_add(key, ", ");
        lit(tp, ", ");
        build_type(tp, &kv->children[1], sql, key);
        dm_sbuf_add(sql, ")");
        dm_sbuf_add(key, ")");
        lit(tp, ")");
        return;
    }
    case DM_T_STRUCT:
    case DM_T_UNION:
        build_members(tp, t, sql, key);
        return;
    case DM_T_DECIMAL: {
        char *run = scalar_run(tp);
        free(run);
        dm_sbuf_addf(sql, "DECIMAL(%u,%u)", t->dec_width, t->dec_scale);
        dm_sbuf_addf(key, "DECIMAL(%u,%u)", t->dec_width, t->dec_scale);
        return;
    }
    case DM_T_ENUM: {
        if (tp->ok && tp->text && strncmp(tp->text + tp->p, "ENUM(", 5) == 0) {
            /* 1.x spells an ENUM out: its labels are the type */
            struct dm_lexer lx;
            char **labels = NULL;
            size_t n = 0;
            dm_lex_init(&lx, tp->text);
            lx.pos = tp->p + 4;
            struct dm_tok open = dm_lex_next(&lx);
            char **parts = NULL;
            size_t nparts = 0, end = 0;
            bool good =
                dm_sql_paren_list(tp->text, &open, &parts, &nparts, &end);
            for (size_t i = 0; good && i < nparts; i++) {
                size_t len = strlen(parts[i]);
                good = len >= 2 && parts[i][0] == '\'' &&
                       parts[i][len - 1] == '\'';
                if (good) {
                    char *label = malloc(len);
                    size_t o = 0;
                    for (size_t k = 1; label && k + 1 < len; k++) {
                        label[o++] = parts[i][k];
                        if (parts[i][k] == '\'')
                            k++;
                    }
                    if (label)
                        label[o] = '\0';
                    good = label && push_str(&labels, &n, label);
                    free(label);
                }
            }
            dm_sql_parts_free(parts, nparts);
            if (good) {
                tp->p = end;
                add_labels(sql, labels, n);
                add_labels(key, labels, n);
            } else {
                tp->ok = false;
                tp->unresolved = true;
                dm_sbuf_add(key, "ENUM(?)");
            }
            free_strs(labels, n);
            return;
        }
        char *schema = NULL, *name = NULL;
        const struct dm_cat_type *ty = NULL;
        if (read_name(tp, &schema, &name))
            ty = find_type(tp->cat, schema, name, tp->schema, true);
        else
            tp->ok = false;
        free(schema);
        free(name);
        if (!ty) {
            tp->unresolved = true;
            dm_sbuf_add(key, "ENUM(?)");
            return;
        }
        dm_sbuf_add_owned(sql, type_name_sql(tp->cat, ty, tp->schema));
        add_labels(key, ty->labels, ty->nlabels);
        return;
    }
    default:
        break;
    }
    /* a scalar: a built-in type, or an alias of one (0.6, 0.7 name
     * aliases where a column uses them; JSON is an alias of VARCHAR) */
    char *run = scalar_run(tp);
    const struct dm_cat_type *named = NULL;
    bool json = run && strcmp(run, "JSON") == 0 &&
                (t->type == DM_T_VARCHAR || t->type == DM_T_JSON);
    /* 0.6-0.8's C API calls TIMESTAMPTZ and TIMETZ plain TIMESTAMP and
     * TIME: the rendering says which */
    struct dm_type_node tz = *t;
    if (run && t->type == DM_T_TIMESTAMP &&
        (strcmp(run, "TIMESTAMP WITH TIME ZONE") == 0 ||
         strcmp(run, "TIMESTAMPTZ") == 0))
        tz.type = DM_T_TIMESTAMP_TZ;
    if (run && t->type == DM_T_TIME &&
        (strcmp(run, "TIME WITH TIME ZONE") == 0 || strcmp(run, "TIMETZ") == 0))
        tz.type = DM_T_TIME_TZ;
    t = &tz;
    if (run && !json) {
        struct tparse sub = {run, 0, true, tp->cat, tp->schema, false};
        char *schema = NULL, *name = NULL;
        if (read_name(&sub, &schema, &name) && !run[sub.p])
            named = find_type(tp->cat, schema, name, tp->schema, false);
        free(schema);
        free(name);
    }
    free(run);
    if (named)
        dm_sbuf_add_owned(sql, type_name_sql(tp->cat, named, tp->schema));
    else
        dm_sbuf_add(sql, json ? "JSON" : scalar_sql(t));
    dm_sbuf_add(key, json ? "JSON" : scalar_sql(t));
}

void dm_catalog_type(const struct dm_catalog *cat, const char *schema,
                     const struct dm_type_node *tree, const char *rendered,
                     char **sql, char **key)
{
    struct dm_sbuf s = DM_SBUF_INIT, k = DM_SBUF_INIT;
    struct tparse tp = {rendered, 0, rendered != NULL, cat, schema, false};
    build_type(&tp, tree, &s, &k);
    if (tp.ok && rendered && rendered[tp.p])
        tp.ok = false;
    if (!tp.ok && rendered)
        dm_debug("catalog", "type '%s' read from its tree alone", rendered);
    *sql = dm_sbuf_take(&s);
    *key = dm_sbuf_take(&k);
    if (tp.unresolved) {
        free(*sql);
        *sql = NULL;
    }
}

/*
 * The name to CAST to a user type with: 0.6-0.8 take no qualified type
 * name, so the search path is set to the type's schema first (and reset
 * by type_ref_done).
 */
static char *type_ref(struct dm_engine *e, const struct dm_catalog *cat,
                      const struct dm_cat_type *t)
{
    if (!cat->legacy)
        return dm_sql_qualified(t->schema, t->name);
    char *id = dm_sql_ident(t->schema);
    char *lit = id ? dm_sql_literal(id) : NULL;
    char *set = lit ? dm_fmt("SET search_path = %s", lit) : NULL;
    struct dm_error ignored = DM_ERROR_INIT;
    if (set)
        dm_engine_exec_one(e, set, &ignored);
    free(set);
    free(lit);
    free(id);
    return dm_sql_ident(t->name);
}

static void type_ref_done(struct dm_engine *e, const struct dm_catalog *cat)
{
    struct dm_error ignored = DM_ERROR_INIT;
    if (cat->legacy)
        dm_engine_exec_one(e, "SET search_path = ''", &ignored);
}

static enum dm_code read_types(struct dm_engine *e, struct dm_catalog *cat,
                               struct dm_error *err)
{
    struct dm_rows *r = NULL;
    enum dm_code rc =
        query(e, &r, err,
              "SELECT schema_name, type_name, logical_type FROM duckdb_types() "
              "WHERE NOT internal%s ORDER BY schema_name, type_name",
              db_filter(cat));
    if (rc)
        return rc;
    cat->types = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->types));
    if (!cat->types)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        struct dm_cat_type *t = &cat->types[cat->ntypes++];
        t->schema = dup_or_null(dm_rows_get(r, i, 0));
        t->name = dup_or_null(dm_rows_get(r, i, 1));
        t->kind = dup_or_null(dm_rows_get(r, i, 2));
    }
    dm_rows_free(r);
    /* labels of ENUMs first: an alias may be of a type holding one */
    for (size_t i = 0; !rc && i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        if (!t->schema || !t->name || !same(t->kind, "ENUM"))
            continue;
        struct dm_rows *labels = NULL;
        char *ref = type_ref(e, cat, t);
        if (!ref) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        rc = query(e, &labels, err,
                   "SELECT CAST(unnest(enum_range(CAST(NULL AS %s))) AS "
                   "VARCHAR)",
                   ref);
        free(ref);
        type_ref_done(e, cat);
        if (rc)
            break;
        t->labels = calloc(labels->nrows ? labels->nrows : 1, sizeof(char *));
        for (size_t k = 0; t->labels && k < labels->nrows; k++)
            t->labels[t->nlabels++] = dup_or_null(dm_rows_get(labels, k, 0));
        dm_rows_free(labels);
    }
    for (size_t i = 0; !rc && i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        if (!t->schema || !t->name || same(t->kind, "ENUM"))
            continue;
        char *ref = type_ref(e, cat, t);
        char *sql = ref ? dm_fmt("SELECT CAST(NULL AS %s) LIMIT 0", ref) : NULL;
        struct dm_type_node *tree = sql ? result_types(e, sql) : NULL;
        type_ref_done(e, cat);
        if (tree) /* an alias's own rendering is its kind: the tree decides */
            dm_catalog_type(cat, t->schema, tree, NULL, &t->type_sql,
                            &t->type_key);
        release_types(tree, 1);
        free(sql);
        free(ref);
    }
    return rc;
}

static int64_t to_i64(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static enum dm_code read_sequences(struct dm_engine *e, struct dm_catalog *cat,
                                   struct dm_error *err)
{
    struct dm_rows *r = NULL;
    /* Before 0.9 the counter (the next value) is in the START clause of
     * sql (start_value is stale while a WAL is replayed); 1.x keeps the
     * original start and the last value returned. */
    const char *next =
        cat->legacy
            ? "coalesce(TRY_CAST(regexp_extract(sql, ' START (-?[0-9]+)', 1) "
              "AS BIGINT), start_value)"
            : "coalesce(last_value + increment_by, start_value)";
    enum dm_code rc =
        query(e, &r, err,
              "SELECT schema_name, sequence_name, %s, increment_by, "
              "min_value, max_value, cycle FROM duckdb_sequences() WHERE NOT "
              "temporary%s ORDER BY schema_name, sequence_name",
              next, db_filter(cat));
    if (rc)
        return rc;
    cat->sequences = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->sequences));
    if (!cat->sequences)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        struct dm_cat_sequence *s = &cat->sequences[cat->nsequences++];
        s->schema = dup_or_null(dm_rows_get(r, i, 0));
        s->name = dup_or_null(dm_rows_get(r, i, 1));
        s->next = to_i64(dm_rows_get(r, i, 2));
        s->increment = to_i64(dm_rows_get(r, i, 3));
        s->min = to_i64(dm_rows_get(r, i, 4));
        s->max = to_i64(dm_rows_get(r, i, 5));
        s->cycle = truthy(dm_rows_get(r, i, 6));
    }
    dm_rows_free(r);
    return rc;
}

/* ---- tables ------------------------------------------------------------- */

/*
 * The generated columns' expressions, which 0.6-0.8 keep only in the
 * table's SQL: the items of CREATE TABLE t(...) follow the columns in
 * order, and a generated one reads "name TYPE GENERATED ALWAYS AS(expr)".
 */
static void read_generated(struct dm_cat_table *t)
{
    struct dm_lexer lx;
    char **items = NULL;
    size_t nitems = 0, end = 0;
    bool any = false;
    /* does the SQL say GENERATED anywhere outside quotes at all? */
    dm_lex_init(&lx, t->sql);
    for (struct dm_tok k = dm_lex_next(&lx);
         k.kind != DM_TOK_END && k.kind != DM_TOK_BAD; k = dm_lex_next(&lx))
        any |= dm_tok_is_word(t->sql, &k, "GENERATED");
    if (!any)
        return;
    dm_lex_init(&lx, t->sql);
    struct dm_tok open;
    do
        open = dm_lex_next(&lx);
    while (open.kind != DM_TOK_END && open.kind != DM_TOK_BAD &&
           !dm_tok_is(t->sql, &open, "("));
    if (!dm_sql_paren_list(t->sql, &open, &items, &nitems, &end) ||
        nitems < t->ncols) {
        set_problem(&t->problem, "its generated columns cannot be read");
        goto out;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const char *it = items[i];
        struct dm_lexer il;
        dm_lex_init(&il, it);
        struct dm_tok a = dm_lex_next(&il), b, c;
        while (a.kind != DM_TOK_END && a.kind != DM_TOK_BAD &&
               !dm_tok_is_word(it, &a, "GENERATED"))
            a = dm_lex_next(&il);
        if (a.kind != DM_TOK_WORD)
            continue;
        b = dm_lex_next(&il);
        c = dm_lex_next(&il);
        struct dm_tok paren = dm_lex_next(&il);
        char **inner = NULL;
        size_t ninner = 0, close = 0;
        if (!dm_tok_is_word(it, &b, "ALWAYS") ||
            !dm_tok_is_word(it, &c, "AS") ||
            !dm_sql_paren_list(it, &paren, &inner, &ninner, &close) ||
            ninner != 1) {
            dm_sql_parts_free(inner, ninner);
            set_problem(&t->problem,
                        "the expression of column \"%s\" cannot be read",
                        t->cols[i].name);
            continue;
        }
        t->cols[i].generated = true;
        t->cols[i].gen_text = inner[0];
        inner[0] = NULL;
        dm_sql_parts_free(inner, ninner);
        free(t->cols[i].default_text);
        t->cols[i].default_text = NULL;
    }
out:
    dm_sql_parts_free(items, nitems);
}

/* "[0, 2]" -> {0, 2} */
static bool parse_indexes(const char *s, size_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s || *s != '[')
        return false;
    for (s++; *s && *s != ']';) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0)
            return false;
        size_t *p = realloc(*out, (*n + 1) * sizeof(size_t));
        if (!p)
            return false;
        *out = p;
        (*out)[(*n)++] = (size_t)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return *s == ']';
}

static struct dm_cat_constraint *new_constraint(struct dm_cat_table *t,
                                                char kind)
{
    struct dm_cat_constraint *p =
        realloc(t->cons, (t->ncons + 1) * sizeof(*t->cons));
    if (!p)
        return NULL;
    t->cons = p;
    memset(&t->cons[t->ncons], 0, sizeof(*t->cons));
    t->cons[t->ncons].kind = kind;
    return &t->cons[t->ncons++];
}

/* Does text at *p hold name, bare or quoted? Advances *p. */
static bool at_name(const char *text, size_t *p, const char *name)
{
    size_t n = strlen(name);
    char *q = dm_sql_ident(name);
    bool hit = false;
    if (q && strncmp(text + *p, q, strlen(q)) == 0) {
        *p += strlen(q);
        hit = true;
    } else if (strncmp(text + *p, name, n) == 0) {
        *p += n;
        hit = true;
    }
    free(q);
    return hit;
}

static bool at_list(const char *text, size_t *p, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) {
            if (text[*p] != ',')
                return false;
            ++*p;
            while (text[*p] == ' ')
                ++*p;
        }
        if (!at_name(text, p, names[i]))
            return false;
    }
    return true;
}

/*
 * Does "FOREIGN KEY (a) REFERENCES s.t(k)" (0.6-1.5 write the names
 * bare or quoted, the schema maybe) reference table `to` and
 * its columns refs?
 */
static bool fk_text_is(const char *text, const struct dm_cat_constraint *fk,
                       const char *schema, const char *to, char **refs,
                       size_t nrefs)
{
    size_t p = 0;
    static const char head[] = "FOREIGN KEY (";
    if (!text || strncmp(text, head, sizeof(head) - 1) != 0)
        return false;
    p = sizeof(head) - 1;
    if (!at_list(text, &p, fk->cols, fk->ncols))
        return false;
    static const char mid[] = ") REFERENCES ";
    if (strncmp(text + p, mid, sizeof(mid) - 1) != 0)
        return false;
    p += sizeof(mid) - 1;
    size_t at = p;
    /* the schema is written outside main, and inside it when the
     * statement that made the key named it */
    if (!(at_name(text, &p, schema) && text[p] == '.' &&
          (++p, at_name(text, &p, to)) && text[p] == '(')) {
        p = at;
        if (!at_name(text, &p, to) || text[p] != '(')
            return false;
    }
    p++;
    if (!at_list(text, &p, refs, nrefs) || text[p] != ')')
        return false;
    return text[p + 1] == '\0';
}

/* Find, among the keys of the tables in t's schema, the one a legacy
 * foreign key's text names. */
static void resolve_fk(const struct dm_catalog *cat, struct dm_cat_table *t,
                       struct dm_cat_constraint *fk, const char *text)
{
    const struct dm_cat_table *hit_t = NULL;
    const struct dm_cat_constraint *hit_k = NULL;
    size_t hits = 0;
    for (size_t i = 0; i < cat->ntables; i++) {
        const struct dm_cat_table *u = &cat->tables[i];
        if (!same(u->schema, t->schema))
            continue;
        for (size_t k = 0; k < u->ncons; k++) {
            const struct dm_cat_constraint *key = &u->cons[k];
            if ((key->kind != 'P' && key->kind != 'U') ||
                key->ncols != fk->ncols ||
                !fk_text_is(text, fk, t->schema, u->name, key->cols,
                            key->ncols))
                continue;
            bool dup = hit_t == u && hit_k && hit_k->ncols == key->ncols;
            for (size_t c = 0; dup && c < key->ncols; c++)
                dup = same(hit_k->cols[c], key->cols[c]);
            if (!dup) {
                hit_t = u;
                hit_k = key;
                hits++;
            }
        }
    }
    if (hits != 1) {
        set_problem(&t->problem,
                    "cannot tell which key its foreign key (%s) references",
                    hits ? "several match" : "none matches");
        return;
    }
    fk->ref_table = strdup(hit_t->name);
    for (size_t c = 0; c < hit_k->ncols; c++)
        push_str(&fk->ref_cols, &fk->nref, hit_k->cols[c]);
}

static enum dm_code read_constraints(struct dm_engine *e,
                                     struct dm_catalog *cat,
                                     struct dm_error *err)
{
    struct dm_rows *r = NULL, *refs = NULL;
    /* SELECT * crashes 0.6.1 and 0.8.1 here: only these columns */
    enum dm_code rc = query(
        e, &r, err,
        "SELECT schema_name, table_name, constraint_type, "
        "CAST(constraint_column_indexes AS VARCHAR), expression, "
        "constraint_text%s FROM duckdb_constraints() WHERE constraint_type "
        "IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK')%s ORDER BY "
        "schema_name, table_name, constraint_index",
        cat->legacy ? ", NULL" : ", referenced_table", db_filter(cat));
    /* 1.x names the referenced columns; one row per name, in order */
    if (!rc && !cat->legacy)
        rc = query(e, &refs, err,
                   "SELECT schema_name, table_name, constraint_index, "
                   "unnest(referenced_column_names) FROM duckdb_constraints() "
                   "WHERE constraint_type = 'FOREIGN KEY'%s",
                   db_filter(cat));
    if (rc)
        goto out;
    /* keys first: a legacy foreign key is matched against them */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->nrows; i++) {
            const char *type = dm_rows_get(r, i, 2);
            bool fk = same(type, "FOREIGN KEY");
            if ((pass == 0) == fk)
                continue;
            struct dm_cat_table *t = NULL;
            for (size_t k = 0; k < cat->ntables && !t; k++)
                if (same(cat->tables[k].schema, dm_rows_get(r, i, 0)) &&
                    same(cat->tables[k].name, dm_rows_get(r, i, 1)))
                    t = &cat->tables[k];
            if (!t)
                continue;
            char kind = same(type, "PRIMARY KEY") ? 'P'
                        : same(type, "UNIQUE")    ? 'U'
                        : fk                      ? 'F'
                                                  : 'C';
            struct dm_cat_constraint *c = new_constraint(t, kind);
            if (!c) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                goto out;
            }
            if (kind == 'C') {
                c->expr = dup_or_null(dm_rows_get(r, i, 4));
                if (!c->expr)
                    set_problem(&t->problem, "a CHECK keeps no expression");
                continue;
            }
            size_t *idx = NULL, n = 0;
            bool good = parse_indexes(dm_rows_get(r, i, 3), &idx, &n) && n;
            for (size_t k = 0; good && k < n; k++)
                good = idx[k] < t->ncols &&
                       push_str(&c->cols, &c->ncols, t->cols[idx[k]].name);
            free(idx);
            if (!good) {
                set_problem(&t->problem, "the columns of a %s cannot be read",
                            type);
                continue;
            }
            if (!fk)
                continue;
            if (cat->legacy) {
                resolve_fk(cat, t, c, dm_rows_get(r, i, 5));
                continue;
            }
            c->ref_table = dup_or_null(dm_rows_get(r, i, 6));
            /* the constraint_index of this row, to find its names */
            size_t seen = 0;
            for (size_t k = 0; k < i; k++)
                seen += same(dm_rows_get(r, k, 0), t->schema) &&
                        same(dm_rows_get(r, k, 1), t->name) &&
                        same(dm_rows_get(r, k, 2), "FOREIGN KEY");
            /* refs rows are grouped by constraint; take the seen-th group
             * of this table */
            const char *group = NULL;
            size_t groups = 0;
            for (size_t k = 0; refs && k < refs->nrows; k++) {
                if (!same(dm_rows_get(refs, k, 0), t->schema) ||
                    !same(dm_rows_get(refs, k, 1), t->name))
                    continue;
                const char *ci = dm_rows_get(refs, k, 2);
                if (!group || !same(group, ci)) {
                    group = ci;
                    groups++;
                }
                if (groups == seen + 1)
                    push_str(&c->ref_cols, &c->nref, dm_rows_get(refs, k, 3));
            }
            if (!c->ref_table || !c->nref)
                set_problem(&t->problem,
                            "the key a foreign key references cannot be read");
        }
    }
out:
    dm_rows_free(refs);
    dm_rows_free(r);
    return rc;
}

static enum dm_code read_tables(struct dm_engine *e, struct dm_catalog *cat,
                                struct dm_error *err)
{
    struct dm_rows *r = NULL, *cols = NULL;
    enum dm_code rc =
        query(e, &r, err,
              "SELECT schema_name, table_name, sql FROM duckdb_tables() WHERE "
              "NOT temporary AND NOT internal%s ORDER BY schema_name, "
              "table_name",
              db_filter(cat));
    if (!rc)
        rc = query(e, &cols, err,
                   "SELECT schema_name, table_name, column_name, data_type, "
                   "CAST(is_nullable AS VARCHAR), column_default FROM "
                   "duckdb_columns() WHERE NOT internal%s ORDER BY "
                   "schema_name, table_name, column_index",
                   db_filter(cat));
    if (rc)
        goto out;
    cat->tables = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->tables));
    if (!cat->tables) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t from = 0; /* columns are sorted like the tables */
    for (size_t i = 0; i < r->nrows; i++) {
        struct dm_cat_table *t = &cat->tables[cat->ntables++];
        t->schema = dup_or_null(dm_rows_get(r, i, 0));
        t->name = dup_or_null(dm_rows_get(r, i, 1));
        t->sql = dup_or_null(dm_rows_get(r, i, 2));
        if (!t->schema || !t->name) {
            rc = dm_fail(err, DM_ERR_UNSUPPORTED,
                         "a table of the file has no name");
            goto out;
        }
        size_t n = 0, first = cols->nrows;
        for (size_t k = from; k < cols->nrows; k++)
            if (same(dm_rows_get(cols, k, 0), t->schema) &&
                same(dm_rows_get(cols, k, 1), t->name)) {
                if (first == cols->nrows)
                    first = k;
                n++;
            }
        if (first == cols->nrows)
            for (size_t k = 0; k < cols->nrows; k++)
                if (same(dm_rows_get(cols, k, 0), t->schema) &&
                    same(dm_rows_get(cols, k, 1), t->name)) {
                    first = k;
                    break;
                }
        t->cols = calloc(n ? n : 1, sizeof(*t->cols));
        if (!t->cols) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = first; k < cols->nrows && t->ncols < n; k++) {
            if (!same(dm_rows_get(cols, k, 0), t->schema) ||
                !same(dm_rows_get(cols, k, 1), t->name))
                continue;
            struct dm_cat_column *c = &t->cols[t->ncols++];
            c->name = dup_or_null(dm_rows_get(cols, k, 2));
            c->type = dup_or_null(dm_rows_get(cols, k, 3));
            c->not_null = !truthy(dm_rows_get(cols, k, 4));
            c->default_text = dup_or_null(dm_rows_get(cols, k, 5));
            if (!c->name || !c->type) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                goto out;
            }
            from = k + 1;
        }
        if (t->sql)
            read_generated(t);
        else
            set_problem(&t->problem, "the release keeps no SQL for it");
        /* the columns' types, from the tree of a scan */
        char *q = dm_sql_qualified(t->schema, t->name);
        char *sql = q ? dm_fmt("SELECT * FROM %s LIMIT 0", q) : NULL;
        struct dm_type_node *trees = sql ? result_types(e, sql) : NULL;
        free(sql);
        free(q);
        for (size_t k = 0; k < t->ncols; k++) {
            struct dm_cat_column *c = &t->cols[k];
            if (!trees) {
                c->type_key = strdup(c->type);
                continue;
            }
            dm_catalog_type(cat, t->schema, &trees[k], c->type, &c->type_sql,
                            &c->type_key);
            if (!c->type_sql)
                set_problem(&t->problem,
                            "the type of column \"%s\" (%s) cannot be told",
                            c->name, c->type);
        }
        if (!trees)
            set_problem(&t->problem, "its columns cannot be read");
        release_types(trees, t->ncols);
    }
    rc = read_constraints(e, cat, err);
out:
    dm_rows_free(cols);
    dm_rows_free(r);
    return rc;
}

/* ---- views, indexes, macros -------------------------------------------- */

/* Skip "a.b.c" (each part bare or quoted) at the lexer; false if absent. */
static bool skip_qualified(const char *text, struct dm_lexer *lx,
                           struct dm_tok *next)
{
    struct dm_tok t = dm_lex_next(lx);
    if (t.kind != DM_TOK_WORD && t.kind != DM_TOK_QIDENT)
        return false;
    for (;;) {
        *next = dm_lex_next(lx);
        if (!dm_tok_is(text, next, "."))
            return true;
        t = dm_lex_next(lx);
        if (t.kind != DM_TOK_WORD && t.kind != DM_TOK_QIDENT)
            return false;
    }
}

/* The text from offset to the end, without a last ';' and blanks. */
static char *rest_of(const char *text, size_t offset)
{
    struct dm_lexer lx;
    size_t end = offset, last_semi = SIZE_MAX;
    dm_lex_init(&lx, text);
    lx.pos = offset;
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END)
            break;
        if (t.kind == DM_TOK_BAD)
            return NULL;
        if (dm_tok_is(text, &t, ";"))
            last_semi = t.start;
        else
            last_semi = SIZE_MAX;
        end = t.start + t.len;
    }
    /* keep a trailing comment out: the body ends at its last token */
    if (last_semi != SIZE_MAX)
        end = last_semi;
    while (offset < end && (text[offset] == ' ' || text[offset] == '\n' ||
                            text[offset] == '\t' || text[offset] == '\r'))
        offset++;
    return strndup(text + offset, end - offset);
}

/* CREATE [OR REPLACE] [TEMP] VIEW [IF NOT EXISTS] name [(a, b)] AS query */
static void read_view_sql(struct dm_cat_object *v)
{
    struct dm_lexer lx;
    const char *s = v->sql;
    dm_lex_init(&lx, s);
    struct dm_tok t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "CREATE"))
        goto bad;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "OR")) {
        t = dm_lex_next(&lx);
        if (!dm_tok_is_word(s, &t, "REPLACE"))
            goto bad;
        t = dm_lex_next(&lx);
    }
    if (dm_tok_is_word(s, &t, "TEMP") || dm_tok_is_word(s, &t, "TEMPORARY"))
        goto bad;
    if (!dm_tok_is_word(s, &t, "VIEW"))
        goto bad;
    size_t at = lx.pos;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "IF")) {
        struct dm_tok n = dm_lex_next(&lx), x = dm_lex_next(&lx);
        if (!dm_tok_is_word(s, &n, "NOT") || !dm_tok_is_word(s, &x, "EXISTS"))
            goto bad;
    } else {
        lx.pos = at;
    }
    if (!skip_qualified(s, &lx, &t))
        goto bad;
    if (dm_tok_is(s, &t, "(")) {
        char **parts = NULL;
        size_t n = 0, end = 0;
        if (!dm_sql_paren_list(s, &t, &parts, &n, &end))
            goto bad;
        for (size_t i = 0; i < n; i++) {
            struct dm_lexer one;
            dm_lex_init(&one, parts[i]);
            struct dm_tok a = dm_lex_next(&one), b = dm_lex_next(&one);
            char *name =
                b.kind == DM_TOK_END ? dm_tok_ident(parts[i], &a) : NULL;
            bool good = name && push_str(&v->parts, &v->nparts, name);
            free(name);
            if (!good) {
                dm_sql_parts_free(parts, n);
                goto bad;
            }
        }
        dm_sql_parts_free(parts, n);
        lx.pos = end;
        t = dm_lex_next(&lx);
    }
    if (!dm_tok_is_word(s, &t, "AS"))
        goto bad;
    v->body = rest_of(s, lx.pos);
    if (v->body && *v->body)
        return;
bad:
    set_problem(&v->problem, "its definition cannot be read");
}

/* CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON t [USING m] (e, ...)
 * [WHERE p] */
static void read_index_sql(struct dm_cat_object *x)
{
    struct dm_lexer lx;
    const char *s = x->sql;
    dm_lex_init(&lx, s);
    struct dm_tok t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "CREATE"))
        goto bad;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "UNIQUE"))
        t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "INDEX"))
        goto bad;
    size_t at = lx.pos;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "IF")) {
        struct dm_tok n = dm_lex_next(&lx), e = dm_lex_next(&lx);
        if (!dm_tok_is_word(s, &n, "NOT") || !dm_tok_is_word(s, &e, "EXISTS"))
            goto bad;
    } else {
        lx.pos = at;
    }
    t = dm_lex_next(&lx); /* the index's name */
    if (t.kind != DM_TOK_WORD && t.kind != DM_TOK_QIDENT)
        goto bad;
    t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "ON") || !skip_qualified(s, &lx, &t))
        goto bad;
    if (dm_tok_is_word(s, &t, "USING")) {
        struct dm_tok m = dm_lex_next(&lx);
        if (m.kind != DM_TOK_WORD && m.kind != DM_TOK_QIDENT)
            goto bad;
        t = dm_lex_next(&lx);
    }
    size_t end = 0;
    if (!dm_sql_paren_list(s, &t, &x->parts, &x->nparts, &end) ||
        x->nparts == 0)
        goto bad;
    lx.pos = end;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "WHERE")) {
        x->where = rest_of(s, lx.pos);
        return;
    }
    if (t.kind == DM_TOK_END || dm_tok_is(s, &t, ";"))
        return;
bad:
    set_problem(&x->problem, "its definition cannot be read");
}

static enum dm_code read_objects(struct dm_engine *e, const char *sql,
                                 struct dm_cat_object **out, size_t *n,
                                 const struct dm_rows *skip,
                                 struct dm_error *err)
{
    struct dm_rows *r = NULL;
    enum dm_code rc = dm_engine_query(e, sql, &r, err);
    if (rc)
        return rc;
    *out = calloc(r->nrows ? r->nrows : 1, sizeof(**out));
    if (!*out)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        if (skip && in_rows(skip, dm_rows_get(r, i, 1)))
            continue;
        struct dm_cat_object *o = &(*out)[(*n)++];
        o->schema = dup_or_null(dm_rows_get(r, i, 0));
        o->name = dup_or_null(dm_rows_get(r, i, 1));
        o->table = dup_or_null(dm_rows_get(r, i, 2));
        o->sql = r->ncols > 3 ? dup_or_null(dm_rows_get(r, i, 3)) : NULL;
        o->unique = r->ncols > 4 && truthy(dm_rows_get(r, i, 4));
        if (!o->schema || !o->name)
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    dm_rows_free(r);
    return rc;
}

static enum dm_code read_views(struct dm_engine *e, struct dm_catalog *cat,
                               struct dm_error *err)
{
    char sql[512];
    struct dm_rows *cols = NULL;
    snprintf(sql, sizeof(sql),
             "SELECT schema_name, view_name, NULL, sql FROM duckdb_views() "
             "WHERE NOT internal AND NOT temporary%s ORDER BY schema_name, "
             "view_name",
             db_filter(cat));
    enum dm_code rc =
        read_objects(e, sql, &cat->views, &cat->nviews, NULL, err);
    if (!rc)
        rc = query(e, &cols, err,
                   "SELECT schema_name, table_name, column_name, data_type "
                   "FROM duckdb_columns() WHERE NOT internal%s ORDER BY "
                   "schema_name, table_name, column_index",
                   db_filter(cat));
    for (size_t i = 0; !rc && i < cat->nviews; i++) {
        struct dm_cat_object *v = &cat->views[i];
        if (v->sql)
            read_view_sql(v);
        else
            set_problem(&v->problem, "the release keeps no SQL for it");
        for (size_t k = 0; k < cols->nrows && !rc; k++) {
            if (!same(dm_rows_get(cols, k, 0), v->schema) ||
                !same(dm_rows_get(cols, k, 1), v->name))
                continue;
            const char *type = dm_rows_get(cols, k, 3);
            size_t nt = v->ncols;
            if (!push_str(&v->col_types, &nt, type ? type : "") ||
                !push_str(&v->col_names, &v->ncols, dm_rows_get(cols, k, 2)))
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        }
    }
    dm_rows_free(cols);
    return rc;
}

static enum dm_code read_indexes(struct dm_engine *e, struct dm_catalog *cat,
                                 struct dm_error *err)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT schema_name, index_name, table_name, sql, "
             "CAST(is_unique AS VARCHAR) FROM duckdb_indexes() WHERE "
             "true%s ORDER BY schema_name, index_name",
             db_filter(cat));
    enum dm_code rc =
        read_objects(e, sql, &cat->indexes, &cat->nindexes, NULL, err);
    for (size_t i = 0; !rc && i < cat->nindexes; i++) {
        struct dm_cat_object *x = &cat->indexes[i];
        if (x->sql)
            read_index_sql(x);
        else
            set_problem(&x->problem, "the source keeps no SQL for it");
    }
    return rc;
}

static enum dm_code read_macros(struct dm_engine *e,
                                const struct dm_rows *builtin,
                                struct dm_catalog *cat, struct dm_error *err)
{
    struct dm_rows *r = NULL, *params = NULL;
    const char *where = cat->legacy ? ""
                                    : " AND NOT internal AND "
                                      "database_name = "
                                      "current_database()";
    enum dm_code rc = query(
        e, &r, err,
        "SELECT schema_name, function_name, function_type, macro_definition, "
        "array_length(parameters) FROM duckdb_functions() WHERE function_type "
        "IN ('macro', 'table_macro')%s ORDER BY schema_name, function_name, "
        "function_type",
        where);
    if (!rc)
        rc = query(e, &params, err,
                   "SELECT schema_name, function_name, function_type, "
                   "unnest(parameters) FROM duckdb_functions() WHERE "
                   "function_type IN ('macro', 'table_macro')%s",
                   where);
    if (rc)
        goto out;
    cat->macros = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->macros));
    if (!cat->macros) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    bool *used = calloc(params->nrows ? params->nrows : 1, sizeof(bool));
    if (!used) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const char *schema = dm_rows_get(r, i, 0);
        const char *name = dm_rows_get(r, i, 1);
        const char *type = dm_rows_get(r, i, 2);
        if (cat->legacy && builtin && in_rows(builtin, name))
            continue;
        struct dm_cat_object *m = &cat->macros[cat->nmacros++];
        m->schema = dup_or_null(schema);
        m->name = dup_or_null(name);
        m->table_macro = same(type, "table_macro");
        /* 0.6-0.8 keep no body for a table macro (NULL here) */
        m->body = dup_or_null(dm_rows_get(r, i, 3));
        if (!m->schema || !m->name) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        /* its parameters: the first unused rows that name it (unnest
         * keeps a list's order; overloads (1.x) come one after another) */
        size_t want = (size_t)to_i64(dm_rows_get(r, i, 4));
        for (size_t k = 0; k < params->nrows && m->nparts < want; k++) {
            if (used[k] || !same(dm_rows_get(params, k, 0), schema) ||
                !same(dm_rows_get(params, k, 1), name) ||
                !same(dm_rows_get(params, k, 2), type))
                continue;
            used[k] = true;
            if (!push_str(&m->parts, &m->nparts, dm_rows_get(params, k, 3))) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (rc)
            break;
        if (m->nparts != want)
            set_problem(&m->problem, "its parameters cannot be read");
        m->defaults = calloc(m->nparts ? m->nparts : 1, sizeof(char *));
        if (!m->defaults) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        if (!m->table_macro && !m->body)
            set_problem(&m->problem, "the release keeps no body for it");
    }
    free(used);
out:
    dm_rows_free(params);
    dm_rows_free(r);
    return rc;
}

enum dm_code dm_catalog_read(struct dm_engine *e,
                             const struct dm_rows *builtin_macros,
                             struct dm_catalog *cat, struct dm_error *err)
{
    int major = 0, minor = 0, patch = 0;
    memset(cat, 0, sizeof(*cat));
    snprintf(cat->release, sizeof(cat->release), "%s", dm_engine_release(e));
    dm_release_parse(cat->release, &major, &minor, &patch);
    cat->legacy = major == 0 && minor < 9;

    enum dm_code rc = read_schemas(e, cat, err);
    if (!rc)
        rc = read_types(e, cat, err);
    if (!rc)
        rc = read_sequences(e, cat, err);
    if (!rc)
        rc = read_tables(e, cat, err);
    if (!rc)
        rc = read_views(e, cat, err);
    if (!rc)
        rc = read_indexes(e, cat, err);
    if (!rc)
        rc = read_macros(e, builtin_macros, cat, err);
    if (rc)
        dm_catalog_release(cat);
    return rc;
}

/* ---- macros from EXPORT's schema.sql ----------------------------------- */

/*
 * The text from offset up to the ';' that ends the statement (outside
 * quotes, comments and brackets), trimmed; NULL when there is none.
 */
static char *until_semicolon(const char *text, size_t offset)
{
    struct dm_lexer lx;
    int depth = 0;
    dm_lex_init(&lx, text);
    lx.pos = offset;
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END || t.kind == DM_TOK_BAD)
            return NULL;
        if (dm_tok_is(text, &t, "(") || dm_tok_is(text, &t, "[") ||
            dm_tok_is(text, &t, "{"))
            depth++;
        else if (dm_tok_is(text, &t, ")") || dm_tok_is(text, &t, "]") ||
                 dm_tok_is(text, &t, "}"))
            depth--;
        else if (depth == 0 && dm_tok_is(text, &t, ";")) {
            size_t b = offset, e = t.start;
            while (b < e && (text[b] == ' ' || text[b] == '\n'))
                b++;
            while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n'))
                e--;
            return strndup(text + b, e - b);
        }
        if (depth < 0)
            return NULL;
    }
}

/*
 * 0.6-0.8 write "CREATE MACRO schema.name(p, q := default) AS body;" and
 * "... AS TABLE query;", the schema and name bare, each at the start of a
 * line. Read the pieces of the statement whose '(' is at text[at]: 1 when
 * it is m's, 0 when it is the other kind of macro (a scalar and a table
 * macro may share a name), -1 when it cannot be read.
 */
static int read_macro_stmt(const char *text, size_t at, struct dm_cat_object *m,
                           char **body, char ***names, char ***defaults,
                           size_t *n)
{
    struct dm_lexer lx;
    char **parts = NULL;
    size_t nparts = 0, end = 0;
    *body = NULL;
    *names = *defaults = NULL;
    *n = 0;
    dm_lex_init(&lx, text);
    lx.pos = at;
    struct dm_tok open = dm_lex_next(&lx);
    if (open.start != at ||
        !dm_sql_paren_list(text, &open, &parts, &nparts, &end))
        return -1;
    *names = calloc(nparts ? nparts : 1, sizeof(char *));
    *defaults = calloc(nparts ? nparts : 1, sizeof(char *));
    bool good = *names && *defaults;
    for (size_t i = 0; good && i < nparts; i++) {
        struct dm_lexer pl;
        dm_lex_init(&pl, parts[i]);
        struct dm_tok name = dm_lex_next(&pl), next = dm_lex_next(&pl);
        (*names)[i] = dm_tok_ident(parts[i], &name);
        good = (*names)[i] != NULL;
        if (good && dm_tok_is(parts[i], &next, ":=")) {
            const char *d = parts[i] + pl.pos;
            while (*d == ' ')
                d++;
            (*defaults)[i] = strdup(d);
            good = (*defaults)[i] != NULL;
        } else if (good) {
            good = next.kind == DM_TOK_END;
        }
        (*n)++;
    }
    dm_sql_parts_free(parts, nparts);
    lx.pos = end;
    struct dm_tok as = dm_lex_next(&lx);
    good = good && dm_tok_is_word(text, &as, "AS");
    size_t after = lx.pos;
    struct dm_tok table = dm_lex_next(&lx);
    bool is_table = dm_tok_is_word(text, &table, "TABLE");
    if (good && is_table != m->table_macro)
        return 0;
    if (good)
        *body = until_semicolon(text, is_table ? lx.pos : after);
    return good && *body && **body ? 1 : -1;
}

void dm_catalog_add_export(struct dm_catalog *cat, const char *schema_sql)
{
    for (size_t i = 0; i < cat->nmacros; i++) {
        struct dm_cat_object *m = &cat->macros[i];
        char *prefix = dm_fmt("CREATE MACRO %s.%s(", m->schema, m->name);
        size_t found = 0, pl = prefix ? strlen(prefix) : 0;
        char *body = NULL, **names = NULL, **defaults = NULL;
        size_t n = 0;
        /* EXPORT leaves some text unescaped (ENUM labels, schema names),
         * so the file cannot be split as a whole: a macro's statement is
         * read from where its name starts a line, to its ';'. A second
         * place that reads so (inside a label, say) makes it ambiguous,
         * and the macro is refused, never guessed. */
        for (size_t at = 0; prefix && schema_sql[at]; at++) {
            if ((at && schema_sql[at - 1] != '\n') ||
                strncmp(schema_sql + at, prefix, pl) != 0)
                continue;
            char *b = NULL, **nm = NULL, **df = NULL;
            size_t nn = 0;
            int got =
                read_macro_stmt(schema_sql, at + pl - 1, m, &b, &nm, &df, &nn);
            bool good = got == 1;
            /* the other kind of macro of the same name has its own */
            if (got == 0) {
                free(b);
                free_strs(nm, nn);
                free_strs(df, nn);
                continue;
            }
            found++;
            free(body);
            free_strs(names, n);
            free_strs(defaults, n);
            body = b;
            names = nm;
            defaults = df;
            n = nn;
            if (!good) {
                free(body);
                body = NULL;
            }
        }
        /* another macro whose schema.name reads the same ("a.b"."c" and
         * "a"."b.c") would be found too */
        for (size_t k = 0; prefix && k < cat->nmacros; k++) {
            char *other =
                k == i ? NULL
                       : dm_fmt("CREATE MACRO %s.%s(", cat->macros[k].schema,
                                cat->macros[k].name);
            if (other && strcmp(other, prefix) == 0 &&
                cat->macros[k].table_macro == m->table_macro)
                found += 2;
            free(other);
        }
        bool params_match = body && n == m->nparts;
        for (size_t k = 0; params_match && k < n; k++)
            params_match = same(names[k], m->parts[k]);
        if (found != 1 || !params_match) {
            set_problem(&m->problem,
                        found == 0
                            ? "EXPORT DATABASE does not write its definition"
                        : found > 1 ? "its definition cannot be told from "
                                      "other text in EXPORT DATABASE"
                                    : "its definition in EXPORT DATABASE "
                                      "cannot be read");
        } else {
            free_strs(m->defaults, m->nparts);
            m->defaults = defaults;
            defaults = NULL;
            m->has_defaults = true;
            if (m->table_macro) {
                free(m->body);
                m->body = body;
            } else {
                /* the catalog's body stays; EXPORT's is a second reading
                 * of the same tree, compared by ddl.c */
                free(m->sql);
                m->sql = body;
            }
            body = NULL;
        }
        free(body);
        free_strs(names, n);
        free_strs(defaults, n);
        free(prefix);
    }
}

/* ---- lookups and release ----------------------------------------------- */

const struct dm_cat_table *dm_catalog_find_table(const struct dm_catalog *c,
                                                 const char *schema,
                                                 const char *name)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (strcmp(c->tables[i].schema, schema) == 0 &&
            strcmp(c->tables[i].name, name) == 0)
            return &c->tables[i];
    return NULL;
}

char *dm_stored_columns_sql(const struct dm_cat_table *t)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    bool first = true;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        if (!first)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add_owned(&b, dm_sql_ident(t->cols[i].name));
        first = false;
    }
    return dm_sbuf_take(&b);
}

static void release_objects(struct dm_cat_object *o, size_t n)
{
    for (size_t i = 0; o && i < n; i++) {
        free(o[i].schema);
        free(o[i].name);
        free(o[i].table);
        free(o[i].sql);
        free(o[i].body);
        if (o[i].defaults)
            free_strs(o[i].defaults, o[i].nparts);
        free_strs(o[i].parts, o[i].nparts);
        free(o[i].where);
        free_strs(o[i].col_names, o[i].ncols);
        free_strs(o[i].col_types, o[i].ncols);
        free(o[i].problem);
    }
    free(o);
}

void dm_catalog_release(struct dm_catalog *cat)
{
    free_strs(cat->schemas, cat->nschemas);
    for (size_t i = 0; i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        free_strs(t->labels, t->nlabels);
        free(t->schema);
        free(t->name);
        free(t->kind);
        free(t->type_sql);
        free(t->type_key);
    }
    free(cat->types);
    for (size_t i = 0; i < cat->nsequences; i++) {
        free(cat->sequences[i].schema);
        free(cat->sequences[i].name);
    }
    free(cat->sequences);
    for (size_t i = 0; i < cat->ntables; i++) {
        struct dm_cat_table *t = &cat->tables[i];
        for (size_t k = 0; k < t->ncols; k++) {
            free(t->cols[k].name);
            free(t->cols[k].type);
            free(t->cols[k].type_sql);
            free(t->cols[k].type_key);
            free(t->cols[k].default_text);
            free(t->cols[k].gen_text);
        }
        free(t->cols);
        for (size_t k = 0; k < t->ncons; k++) {
            free_strs(t->cons[k].cols, t->cons[k].ncols);
            free(t->cons[k].ref_table);
            free_strs(t->cons[k].ref_cols, t->cons[k].nref);
            free(t->cons[k].expr);
        }
        free(t->cons);
        free(t->schema);
        free(t->name);
        free(t->sql);
        free(t->problem);
    }
    free(cat->tables);
    release_objects(cat->views, cat->nviews);
    release_objects(cat->macros, cat->nmacros);
    release_objects(cat->indexes, cat->nindexes);
    memset(cat, 0, sizeof(*cat));
}
