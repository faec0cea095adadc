/* catalog.c - read a database's schema objects through an engine worker. */
#include "migrate/catalog.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header/header.h"
#include "util/log.h"
#include "util/str.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* s between two q, every q inside doubled: the SQL way of quoting */
static char *quote_with(const char *s, char q)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == q;
    char *out = malloc(n + extra + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = q;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == q)
            *p++ = q;
        *p++ = s[i];
    }
    *p++ = q;
    *p = '\0';
    return out;
}

char *dm_sql_ident(const char *s)
{
    return quote_with(s, '"');
}

char *dm_sql_literal(const char *s)
{
    return quote_with(s, '\'');
}

/* Skip a quoted run starting at s[i] (a ' or "); returns the index after. */
static size_t skip_quoted(const char *s, size_t i)
{
    char q = s[i++];
    while (s[i]) {
        if (s[i] == q) {
            if (s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return i;
}

bool dm_sql_table_items(const char *sql, char ***items, size_t *n)
{
    size_t i = 0, cap = 0, count = 0;
    char **out = NULL;
    *items = NULL;
    *n = 0;
    while (sql[i] && sql[i] != '(') {
        if (sql[i] == '"' || sql[i] == '\'')
            i = skip_quoted(sql, i);
        else
            i++;
    }
    if (sql[i] != '(')
        return false;
    size_t start = ++i;
    int depth = 0;
    for (;;) {
        char ch = sql[i];
        if (!ch)
            goto bad;
        if (ch == '"' || ch == '\'') {
            i = skip_quoted(sql, i);
            continue;
        }
        if (ch == '(')
            depth++;
        if ((ch == ',' && depth == 0) || (ch == ')' && depth == 0)) {
            size_t b = start, e = i;
            while (b < e && isspace((unsigned char)sql[b]))
                b++;
            while (e > b && isspace((unsigned char)sql[e - 1]))
                e--;
            if (count == cap) {
                cap = cap ? cap * 2 : 16;
                char **p = realloc(out, cap * sizeof(char *));
                if (!p)
                    goto bad;
                out = p;
            }
            out[count] = strndup(sql + b, e - b);
            if (!out[count])
                goto bad;
            count++;
            start = i + 1;
            if (ch == ')')
                break;
        } else if (ch == ')') {
            depth--;
        }
        i++;
    }
    *items = out;
    *n = count;
    return true;
bad:
    for (size_t k = 0; k < count; k++)
        free(out[k]);
    free(out);
    return false;
}

/* The identifier at the start of s (quoted or bare); *len gets its length
 * in s. Returns a malloc'd unquoted name. */
static char *leading_ident(const char *s, size_t *len)
{
    if (*s == '"') {
        size_t end = skip_quoted(s, 0);
        char *name = malloc(end + 1);
        if (!name)
            return NULL;
        size_t o = 0;
        for (size_t i = 1; i + 1 < end; i++) {
            name[o++] = s[i];
            if (s[i] == '"')
                i++;
        }
        name[o] = '\0';
        *len = end;
        return name;
    }
    size_t i = 0;
    while (s[i] && !isspace((unsigned char)s[i]) && s[i] != '(' &&
           s[i] != ',' && s[i] != ')')
        i++;
    *len = i;
    return strndup(s, i);
}

/* "a, "b c"" -> "a,b c" : a comparable list of column names */
static char *ident_list(const char *s)
{
    size_t cap = strlen(s) + 1, o = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        size_t len;
        char *id = leading_ident(s, &len);
        if (!id || len == 0) {
            free(id);
            break;
        }
        size_t idl = strlen(id);
        if (o + idl + 2 > cap) {
            free(id);
            break;
        }
        if (o)
            out[o++] = ',';
        memcpy(out + o, id, idl);
        o += idl;
        free(id);
        s += len;
    }
    out[o] = '\0';
    return out;
}

/* The text inside the parentheses that start at s[0] == '('. */
static char *paren_body(const char *s)
{
    if (*s != '(')
        return NULL;
    int depth = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '"' || s[i] == '\'') {
            i = skip_quoted(s, i) - 1;
            continue;
        }
        if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth == 0)
            return strndup(s + 1, i - 1);
    }
    return NULL;
}

static bool add_constraint(struct dm_cat_table *t, char kind, char *columns,
                           char *target)
{
    struct dm_cat_constraint *p =
        realloc(t->cons, (t->ncons + 1) * sizeof(*t->cons));
    if (!p) {
        free(columns);
        free(target);
        return false;
    }
    t->cons = p;
    t->cons[t->ncons].kind = kind;
    t->cons[t->ncons].columns = columns ? columns : strdup("");
    t->cons[t->ncons].target = target;
    t->ncons++;
    return true;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Find the table-level constraints among items (after the columns). */
static bool parse_constraints(struct dm_cat_table *t)
{
    for (size_t i = 0; i < t->nitems; i++) {
        const char *it = t->items[i];
        bool ok = true;
        if (starts_with(it, "PRIMARY KEY")) {
            char *b = paren_body(strchr(it, '('));
            ok = add_constraint(t, 'P', b ? ident_list(b) : NULL, NULL);
            free(b);
        } else if (starts_with(it, "UNIQUE")) {
            char *b = paren_body(strchr(it, '('));
            ok = add_constraint(t, 'U', b ? ident_list(b) : NULL, NULL);
            free(b);
        } else if (starts_with(it, "FOREIGN KEY")) {
            char *b = paren_body(strchr(it, '('));
            const char *ref = strstr(it, "REFERENCES ");
            char *target = NULL;
            if (ref) {
                size_t len;
                char *tn = leading_ident(ref + 11, &len);
                char *rb = tn ? paren_body(strchr(ref + 11 + len, '(')) : NULL;
                char *rl = rb ? ident_list(rb) : NULL;
                target = dm_fmt("%s(%s)", tn ? tn : "", rl ? rl : "");
                free(tn);
                free(rb);
                free(rl);
            }
            ok = add_constraint(t, 'F', b ? ident_list(b) : NULL, target);
            free(b);
        } else if (starts_with(it, "CHECK")) {
            ok = add_constraint(t, 'C', NULL, NULL);
        } else {
            /* a column: column-level PRIMARY KEY / UNIQUE */
            size_t len;
            char *name = leading_ident(it, &len);
            if (!name)
                return false;
            if (strstr(it + len, " PRIMARY KEY"))
                ok = add_constraint(t, 'P', strdup(name), NULL);
            else if (strstr(it + len, " UNIQUE"))
                ok = add_constraint(t, 'U', strdup(name), NULL);
            free(name);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- reading ---------------------------------------------------------- */

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

static bool in_rows(const struct dm_rows *r, const char *s)
{
    for (size_t i = 0; r && i < r->nrows; i++)
        if (dm_rows_get(r, i, 0) && strcmp(dm_rows_get(r, i, 0), s) == 0)
            return true;
    return false;
}

enum dm_code dm_catalog_builtin_macros(struct dm_engine *e,
                                       struct dm_rows **out,
                                       struct dm_error *err)
{
    return query(e, out, err,
                 "SELECT DISTINCT function_name FROM duckdb_functions() "
                 "WHERE function_type IN ('macro', 'table_macro')");
}

enum dm_code dm_catalog_open(const char *release, const char *path,
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
    return rc;
}

/* 1.x lists every attached database: keep the one we opened */
static const char *db_filter(const struct dm_catalog *cat)
{
    return cat->legacy ? "" : " AND database_name = current_database()";
}

static enum dm_code read_schemas(struct dm_engine *e, struct dm_catalog *cat,
                                 struct dm_error *err)
{
    struct dm_rows *r = NULL;
    enum dm_code rc = query(e, &r, err,
                            "SELECT schema_name FROM duckdb_schemas() WHERE "
                            "NOT internal AND schema_name NOT IN ('main', "
                            "'temp', 'information_schema', 'pg_catalog')%s "
                            "ORDER BY schema_name",
                            db_filter(cat));
    if (rc)
        return rc;
    cat->schemas = calloc(r->nrows ? r->nrows : 1, sizeof(char *));
    if (!cat->schemas)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++)
        cat->schemas[cat->nschemas++] = dup_or_null(dm_rows_get(r, i, 0));
    dm_rows_free(r);
    return rc;
}

/* How to name a user type in a cast: legacy types live in main only. */
static char *type_ref(const struct dm_catalog *cat, const char *schema,
                      const char *name)
{
    char *n = dm_sql_ident(name);
    if (cat->legacy && strcmp(schema, "main") == 0)
        return n;
    char *s = dm_sql_ident(schema);
    char *out = s && n ? dm_fmt("%s.%s", s, n) : NULL;
    free(s);
    free(n);
    return out;
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
        if (!t->schema || !t->name || !t->kind || strcmp(t->kind, "ENUM") != 0)
            continue;
        struct dm_rows *labels = NULL;
        char *ref = type_ref(cat, t->schema, t->name);
        if (!ref) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        rc = query(e, &labels, err,
                   "SELECT CAST(unnest(enum_range(CAST(NULL AS %s))) AS "
                   "VARCHAR)",
                   ref);
        free(ref);
        if (rc)
            break;
        t->labels = calloc(labels->nrows ? labels->nrows : 1, sizeof(char *));
        for (size_t k = 0; t->labels && k < labels->nrows; k++)
            t->labels[t->nlabels++] = dup_or_null(dm_rows_get(labels, k, 0));
        dm_rows_free(labels);
    }
    dm_rows_free(r);
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

/* Render a type tree as DDL, quoting member names (0.6 did not). */
static char *type_sql(const struct dm_type_node *t)
{
    switch (t->type) {
    case DM_T_DECIMAL:
        return dm_fmt("DECIMAL(%u,%u)", t->dec_width, t->dec_scale);
    case DM_T_LIST: {
        char *c = type_sql(&t->children[0]);
        char *s = c ? dm_fmt("%s[]", c) : NULL;
        free(c);
        return s;
    }
    case DM_T_MAP: {
        const struct dm_type_node *kv = &t->children[0];
        char *k = type_sql(&kv->children[0]);
        char *v = type_sql(&kv->children[1]);
        char *s = k && v ? dm_fmt("MAP(%s, %s)", k, v) : NULL;
        free(k);
        free(v);
        return s;
    }
    case DM_T_STRUCT:
    case DM_T_UNION: {
        char *s = strdup(t->type == DM_T_STRUCT ? "STRUCT(" : "UNION(");
        uint32_t first = t->type == DM_T_UNION ? 1 : 0;
        for (uint32_t i = first; s && i < t->nchildren; i++) {
            char *n = dm_sql_ident(t->names[i] ? t->names[i] : "");
            char *c = type_sql(&t->children[i]);
            char *next =
                n && c ? dm_fmt("%s%s%s %s", s, i > first ? ", " : "", n, c)
                       : NULL;
            free(n);
            free(c);
            free(s);
            s = next;
        }
        char *out = s ? dm_fmt("%s)", s) : NULL;
        free(s);
        return out;
    }
    case DM_T_TIMESTAMP_TZ:
        return strdup("TIMESTAMP WITH TIME ZONE");
    case DM_T_TIME_TZ:
        return strdup("TIME WITH TIME ZONE");
    case DM_T_JSON:
        return strdup("JSON");
    case DM_T_ENUM:
        return NULL; /* the name is lost in the tree */
    default:
        return strdup(dm_type_name(t->type));
    }
}

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

/* 0.6 writes STRUCT(odd field INTEGER): render nested types ourselves. */
static void fix_nested_types(struct dm_engine *e, struct dm_catalog *cat,
                             struct dm_cat_table *t)
{
    bool nested = false;
    for (size_t i = 0; i < t->ncols; i++)
        if (strstr(t->cols[i].type, "STRUCT(") ||
            strstr(t->cols[i].type, "MAP(") ||
            strstr(t->cols[i].type, "UNION("))
            nested = true;
    /* 0.6 leaves STRUCT member names unquoted, 0.7-0.8 UNION's */
    if (!nested || !cat->legacy)
        return;
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *sql = s && n ? dm_fmt("SELECT * FROM %s.%s LIMIT 0", s, n) : NULL;
    struct dm_type_node *types = NULL;
    struct dm_error ignored = DM_ERROR_INIT;
    if (sql)
        dm_engine_scan(e, sql, 0, grab_schema, &types, NULL, &ignored);
    for (size_t i = 0; types && i < t->ncols; i++) {
        if (!strchr(t->cols[i].type, '('))
            continue;
        char *r = type_sql(&types[i]);
        if (r) {
            free(t->cols[i].type_sql);
            t->cols[i].type_sql = r;
        }
    }
    for (size_t i = 0; types && i < t->ncols; i++)
        dm_type_release(&types[i]);
    free(types);
    free(sql);
    free(s);
    free(n);
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
                   "CAST(is_nullable AS VARCHAR) FROM duckdb_columns() WHERE "
                   "NOT internal%s ORDER BY schema_name, table_name, "
                   "column_index",
                   db_filter(cat));
    if (rc)
        goto out;
    cat->tables = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->tables));
    if (!cat->tables) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        struct dm_cat_table *t = &cat->tables[cat->ntables++];
        t->schema = dup_or_null(dm_rows_get(r, i, 0));
        t->name = dup_or_null(dm_rows_get(r, i, 1));
        t->sql = dup_or_null(dm_rows_get(r, i, 2));
        if (!t->schema || !t->name || !t->sql ||
            !dm_sql_table_items(t->sql, &t->items, &t->nitems)) {
            rc = dm_fail(err, DM_ERR_UNSUPPORTED,
                         "cannot read the definition of table %s.%s",
                         t->schema ? t->schema : "?", t->name ? t->name : "?");
            goto out;
        }
        size_t n = 0;
        for (size_t k = 0; k < cols->nrows; k++)
            if (strcmp(dm_rows_get(cols, k, 0), t->schema) == 0 &&
                strcmp(dm_rows_get(cols, k, 1), t->name) == 0)
                n++;
        t->cols = calloc(n ? n : 1, sizeof(*t->cols));
        if (!t->cols) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < cols->nrows; k++) {
            if (strcmp(dm_rows_get(cols, k, 0), t->schema) != 0 ||
                strcmp(dm_rows_get(cols, k, 1), t->name) != 0)
                continue;
            struct dm_cat_column *c = &t->cols[t->ncols];
            c->name = dup_or_null(dm_rows_get(cols, k, 2));
            c->type = dup_or_null(dm_rows_get(cols, k, 3));
            c->type_sql = dup_or_null(c->type);
            c->not_null = !truthy(dm_rows_get(cols, k, 4));
            /* items list the columns first, in order */
            if (t->ncols < t->nitems)
                c->generated =
                    strstr(t->items[t->ncols], " GENERATED ALWAYS AS") != NULL;
            t->ncols++;
        }
        if (!parse_constraints(t)) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        fix_nested_types(e, cat, t);
    }
out:
    dm_rows_free(cols);
    dm_rows_free(r);
    return rc;
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
    }
    dm_rows_free(r);
    return rc;
}

enum dm_code dm_catalog_read(struct dm_engine *e,
                             const struct dm_rows *builtin_macros,
                             struct dm_catalog *cat, struct dm_error *err)
{
    int major = 0, minor = 0, patch = 0;
    char sql[512];
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
    if (!rc) {
        snprintf(sql, sizeof(sql),
                 "SELECT schema_name, view_name, NULL, sql FROM duckdb_views() "
                 "WHERE NOT internal AND NOT temporary%s ORDER BY "
                 "schema_name, view_name",
                 db_filter(cat));
        rc = read_objects(e, sql, &cat->views, &cat->nviews, NULL, err);
    }
    if (!rc) {
        snprintf(sql, sizeof(sql),
                 "SELECT schema_name, index_name, table_name, sql, "
                 "CAST(is_unique AS VARCHAR) FROM duckdb_indexes() WHERE "
                 "true%s ORDER BY schema_name, index_name",
                 db_filter(cat));
        rc = read_objects(e, sql, &cat->indexes, &cat->nindexes, NULL, err);
    }
    if (!rc) {
        snprintf(sql, sizeof(sql),
                 "SELECT DISTINCT schema_name, function_name, function_type "
                 "FROM duckdb_functions() WHERE function_type IN ('macro', "
                 "'table_macro')%s ORDER BY schema_name, function_name",
                 cat->legacy ? ""
                             : " AND NOT internal AND database_name = "
                               "current_database()");
        rc = read_objects(e, sql, &cat->macros, &cat->nmacros,
                          cat->legacy ? builtin_macros : NULL, err);
    }
    if (rc)
        dm_catalog_release(cat);
    return rc;
}

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

static void release_objects(struct dm_cat_object *o, size_t n)
{
    for (size_t i = 0; o && i < n; i++) {
        free(o[i].schema);
        free(o[i].name);
        free(o[i].table);
        free(o[i].sql);
    }
    free(o);
}

void dm_catalog_release(struct dm_catalog *cat)
{
    for (size_t i = 0; i < cat->nschemas; i++)
        free(cat->schemas[i]);
    free(cat->schemas);
    for (size_t i = 0; i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        for (size_t k = 0; k < t->nlabels; k++)
            free(t->labels[k]);
        free(t->labels);
        free(t->schema);
        free(t->name);
        free(t->kind);
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
        }
        free(t->cols);
        for (size_t k = 0; k < t->nitems; k++)
            free(t->items[k]);
        free(t->items);
        for (size_t k = 0; k < t->ncons; k++) {
            free(t->cons[k].columns);
            free(t->cons[k].target);
        }
        free(t->cons);
        free(t->schema);
        free(t->name);
        free(t->sql);
    }
    free(cat->tables);
    release_objects(cat->views, cat->nviews);
    release_objects(cat->macros, cat->nmacros);
    release_objects(cat->indexes, cat->nindexes);
    memset(cat, 0, sizeof(*cat));
}
