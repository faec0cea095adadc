/*
 * types.c - a column's type, read from its tree and the release's
 * rendering of it (catalog.h, dm_catalog_type), and the file's user
 * types: ENUMs with their labels, aliases with the type they stand for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "catalog/sqltext.h"
#include "util/log.h"
#include "util/str.h"

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
struct dm_type_node *cat_result_types(struct dm_engine *e, const char *sql)
{
    struct dm_type_node *types = NULL;
    struct dm_error ignored = DM_ERROR_INIT;
    if (dm_engine_scan(e, sql, 0, grab_schema, &types, NULL, &ignored) !=
        DM_OK) {
        dm_debug("catalog", "%s: %s", sql, ignored.msg);
    }
    return types;
}

void cat_release_types(struct dm_type_node *t, size_t n)
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
        bool enum_type = cat_same(t->kind, "ENUM");
        if (!cat_same(t->name, name) || enum_type != is_enum ||
            (schema && !cat_same(t->schema, schema)))
            continue;
        if (cat_same(t->schema, prefer))
            return t;
        hit = t;
        hits++;
    }
    if (hits == 1)
        return hit;
    for (size_t i = 0; hits > 1 && i < cat->ntypes; i++)
        if (cat_same(cat->types[i].name, name) &&
            cat_same(cat->types[i].schema, "main") &&
            cat_same(cat->types[i].kind, is_enum ? "ENUM" : cat->types[i].kind))
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
    bool bare = cat_same(ty->schema, schema);
    if (!bare && cat_same(ty->schema, "main")) {
        bare = true;
        for (size_t i = 0; i < cat->ntypes; i++)
            if (cat_same(cat->types[i].schema, schema) &&
                cat_same(cat->types[i].name, ty->name))
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

/* MAP(K, V), from the tree's LIST of STRUCT(key, value). */
static void build_map(struct tparse *tp, const struct dm_type_node *t,
                      struct dm_sbuf *sql, struct dm_sbuf *key)
{
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
}

/* The text of a quoted label ('it''s': it's), malloc'd; NULL when part
 * is not quoted, or out of memory. */
static char *unquote_label(const char *part)
{
    size_t len = strlen(part);
    if (len < 2 || part[0] != '\'' || part[len - 1] != '\'')
        return NULL;
    char *label = malloc(len);
    size_t o = 0;
    for (size_t k = 1; label && k + 1 < len; k++) {
        label[o++] = part[k];
        if (part[k] == '\'')
            k++;
    }
    if (label)
        label[o] = '\0';
    return label;
}

/* 1.x spells an ENUM out, ENUM('a', ...) at the cursor: its labels are
 * the type. */
static void build_enum_spelled(struct tparse *tp, struct dm_sbuf *sql,
                               struct dm_sbuf *key)
{
    struct dm_lexer lx;
    char **labels = NULL;
    size_t n = 0;
    dm_lex_init(&lx, tp->text);
    lx.pos = tp->p + 4;
    struct dm_tok open = dm_lex_next(&lx);
    char **parts = NULL;
    size_t nparts = 0, end = 0;
    bool good = dm_sql_paren_list(tp->text, &open, &parts, &nparts, &end);
    for (size_t i = 0; good && i < nparts; i++) {
        char *label = unquote_label(parts[i]);
        good = label && cat_push_str(&labels, &n, label);
        free(label);
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
    cat_free_strs(labels, n);
}

/* An ENUM, spelled out (1.x) or by the name of its type (0.x), whose
 * labels are its key. */
static void build_enum(struct tparse *tp, struct dm_sbuf *sql,
                       struct dm_sbuf *key)
{
    if (tp->ok && tp->text && strncmp(tp->text + tp->p, "ENUM(", 5) == 0) {
        build_enum_spelled(tp, sql, key);
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
}

/* A scalar: a built-in type, or an alias of one (0.6, 0.7 name aliases
 * where a column uses them; JSON is an alias of VARCHAR). */
static void build_scalar(struct tparse *tp, const struct dm_type_node *t,
                         struct dm_sbuf *sql, struct dm_sbuf *key)
{
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
    case DM_T_ARRAY: {
        /* T[n]: 1.x renders it so, and takes it back so */
        char size[16];
        snprintf(size, sizeof(size), "[%u]", t->array_size);
        build_type(tp, &t->children[0], sql, key);
        dm_sbuf_add(sql, size);
        dm_sbuf_add(key, size);
        lit(tp, size);
        return;
    }
    case DM_T_MAP:
        build_map(tp, t, sql, key);
        return;
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
    case DM_T_ENUM:
        build_enum(tp, sql, key);
        return;
    default:
        build_scalar(tp, t, sql, key);
        return;
    }
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

enum dm_code cat_read_types(struct dm_engine *e, struct dm_catalog *cat,
                            struct dm_error *err)
{
    struct dm_rows *r = NULL;
    enum dm_code rc = cat_query(
        e, &r, err,
        "SELECT schema_name, type_name, logical_type FROM duckdb_types() "
        "WHERE NOT internal%s ORDER BY schema_name, type_name",
        cat_db_filter(cat));
    if (rc)
        return rc;
    cat->types = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->types));
    if (!cat->types)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        struct dm_cat_type *t = &cat->types[cat->ntypes++];
        t->schema = cat_dup(dm_rows_get(r, i, 0));
        t->name = cat_dup(dm_rows_get(r, i, 1));
        t->kind = cat_dup(dm_rows_get(r, i, 2));
    }
    dm_rows_free(r);
    /* labels of ENUMs first: an alias may be of a type holding one */
    for (size_t i = 0; !rc && i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        if (!t->schema || !t->name || !cat_same(t->kind, "ENUM"))
            continue;
        struct dm_rows *labels = NULL;
        char *ref = type_ref(e, cat, t);
        if (!ref) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        struct dm_error lerr = DM_ERROR_INIT;
        rc = cat_query(e, &labels, &lerr,
                       "SELECT CAST(unnest(enum_range(CAST(NULL AS %s))) AS "
                       "VARCHAR)",
                       ref);
        free(ref);
        type_ref_done(e, cat);
        if (rc == DM_ERR_SQL) {
            /* 0.6-0.8 name a type through the search path, which they
             * cannot set to a schema whose name holds a '"' */
            cat_problem(&t->problem, "its labels cannot be read: %s", lerr.msg);
            rc = DM_OK;
            continue;
        }
        if (rc) {
            dm_fail(err, rc, "%s", lerr.msg);
            break;
        }
        t->labels = calloc(labels->nrows ? labels->nrows : 1, sizeof(char *));
        for (size_t k = 0; t->labels && k < labels->nrows; k++)
            t->labels[t->nlabels++] = cat_dup(dm_rows_get(labels, k, 0));
        dm_rows_free(labels);
    }
    for (size_t i = 0; !rc && i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        if (!t->schema || !t->name || cat_same(t->kind, "ENUM"))
            continue;
        char *ref = type_ref(e, cat, t);
        char *sql = ref ? dm_fmt("SELECT CAST(NULL AS %s) LIMIT 0", ref) : NULL;
        struct dm_type_node *tree = sql ? cat_result_types(e, sql) : NULL;
        type_ref_done(e, cat);
        if (tree) /* an alias's own rendering is its kind: the tree decides */
            dm_catalog_type(cat, t->schema, tree, NULL, &t->type_sql,
                            &t->type_key);
        cat_release_types(tree, 1);
        free(sql);
        free(ref);
    }
    return rc;
}

const char *dm_catalog_type_elsewhere(const struct dm_catalog *cat,
                                      const char *schema, const char *rendered)
{
    struct dm_lexer lx;
    if (!rendered)
        return NULL;
    dm_lex_init(&lx, rendered);
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END || t.kind == DM_TOK_BAD)
            return NULL;
        char *name = dm_tok_ident(rendered, &t);
        if (!name)
            continue;
        const char *other = NULL;
        bool here = false;
        for (size_t i = 0; i < cat->ntypes; i++) {
            const struct dm_cat_type *ty = &cat->types[i];
            if (!cat_same(ty->name, name) || !cat_same(ty->kind, "ENUM"))
                continue;
            if (cat_same(ty->schema, schema))
                here = true;
            else
                other = ty->schema;
        }
        free(name);
        if (other && !here)
            return other;
    }
}
