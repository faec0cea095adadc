/* catalog.c - read a database's schema objects through an engine worker,
 * as facts (see catalog.h). */
#include "catalog/catalog.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "catalog/sqltext.h"
#include "release/release.h"
#include "util/log.h"
#include "util/str.h"
#include "util/settings.h"

char *cat_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

enum dm_code cat_query(struct dm_engine *e, struct dm_rows **rows,
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

bool cat_truthy(const char *s)
{
    return s && (strcmp(s, "true") == 0 || strcmp(s, "YES") == 0 ||
                 strcmp(s, "1") == 0);
}

bool cat_same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

bool cat_in_rows(const struct dm_rows *r, const char *s)
{
    for (size_t i = 0; r && i < r->nrows; i++)
        if (cat_same(dm_rows_get(r, i, 0), s))
            return true;
    return false;
}

bool cat_push_str(char ***v, size_t *n, const char *s)
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

void cat_free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Record why an object cannot be built; the first reason wins. */
void cat_problem(char **problem, const char *fmt, ...)
{
    if (*problem)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(problem, fmt, ap) < 0)
        *problem = NULL;
    va_end(ap);
}

enum dm_code dm_catalog_seal(struct dm_engine *e, bool lock,
                             struct dm_error *err)
{
    enum dm_code rc =
        dm_engine_exec(e, "SET enable_external_access = false", err);
    /* lock_configuration is 0.8+; 0.8 also refuses SET search_path once
     * locked, which the writer needs to create objects in their schema */
    if (!rc && lock && !dm_release_before(dm_engine_release(e), 1, 0))
        rc = dm_engine_exec(e, "SET lock_configuration = true", err);
    return rc;
}

enum dm_code dm_catalog_open(const char *release, const char *path, bool seal,
                             struct dm_engine **e, struct dm_rows **builtin,
                             struct dm_error *err)
{
    enum dm_code rc = dm_engine_start(release, e, err);
    if (!rc)
        rc = dm_catalog_reopen(*e, path, seal, builtin, err);
    return rc;
}

enum dm_code dm_catalog_reopen(struct dm_engine *e, const char *path, bool seal,
                               struct dm_rows **builtin, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    /* 1.x marks its own macros internal; 0.6-0.8 list them with a file's */
    *builtin = NULL;
    if (dm_release_legacy(dm_engine_release(e)))
        rc = dm_engine_builtin_macros(e, builtin, err);
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
    const char *limit = dm_setting(DM_SET_READER_MEMORY_LIMIT);
    bool explicit_limit = dm_setting_given(DM_SET_READER_MEMORY_LIMIT);
    struct dm_setting set = {"memory_limit", limit};
    if (!rc)
        rc = dm_engine_open(e, path, DM_OPEN_READ_ONLY, &set,
                            explicit_limit ? 1 : 0, err);
    if (!rc && !explicit_limit) {
        struct dm_error serr = DM_ERROR_INIT;
        if (dm_engine_exec(e, "SET memory_limit = '" DM_READER_MEMORY_LIMIT "'",
                           &serr) != DM_OK)
            dm_info("migrate",
                    "%s: the reader keeps DuckDB's memory limit, not %s: %s",
                    path, DM_READER_MEMORY_LIMIT, serr.msg);
    }
    /* the reader's queries, and the views and macros verification runs,
     * read this file and nothing else */
    if (!rc && seal)
        rc = dm_catalog_seal(e, false, err);
    return rc;
}

const char *cat_db_filter(const struct dm_catalog *cat)
{
    return cat->legacy ? "" : " AND database_name = current_database()";
}

static enum dm_code read_schemas(struct dm_engine *e, struct dm_catalog *cat,
                                 struct dm_error *err)
{
    struct dm_rows *r = NULL;
    enum dm_code rc =
        cat_query(e, &r, err,
                  "SELECT schema_name FROM duckdb_schemas() WHERE NOT internal "
                  "AND schema_name <> 'main'%s ORDER BY schema_name",
                  cat_db_filter(cat));
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

/* A BIGINT DuckDB returned (NULL: 0); false when it is not one. */
static bool to_i64(const char *s, int64_t *out)
{
    *out = 0;
    return !s || dm_parse_i64_in(s, INT64_MIN, INT64_MAX, out);
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
    enum dm_code rc = cat_query(
        e, &r, err,
        "SELECT schema_name, sequence_name, %s, increment_by, "
        "min_value, max_value, cycle FROM duckdb_sequences() WHERE NOT "
        "temporary%s ORDER BY schema_name, sequence_name",
        next, cat_db_filter(cat));
    if (rc)
        return rc;
    cat->sequences = calloc(r->nrows ? r->nrows : 1, sizeof(*cat->sequences));
    if (!cat->sequences)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        struct dm_cat_sequence *s = &cat->sequences[cat->nsequences++];
        s->schema = cat_dup(dm_rows_get(r, i, 0));
        s->name = cat_dup(dm_rows_get(r, i, 1));
        if (!to_i64(dm_rows_get(r, i, 2), &s->next) ||
            !to_i64(dm_rows_get(r, i, 3), &s->increment) ||
            !to_i64(dm_rows_get(r, i, 4), &s->min) ||
            !to_i64(dm_rows_get(r, i, 5), &s->max))
            rc = dm_fail(err, DM_ERR_PROTOCOL,
                         "sequence %s.%s: a value that is not a number",
                         dm_rows_get(r, i, 0), dm_rows_get(r, i, 1));
        s->cycle = cat_truthy(dm_rows_get(r, i, 6));
    }
    dm_rows_free(r);
    return rc;
}

/* ---- tables ------------------------------------------------------------- */

/* "[0, 2]" -> {0, 2} */
static bool parse_indexes(const char *s, size_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s || *s != '[')
        return false;
    for (s++; *s && *s != ']';) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || errno)
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
        if (!cat_same(u->schema, t->schema))
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
                dup = cat_same(hit_k->cols[c], key->cols[c]);
            if (!dup) {
                hit_t = u;
                hit_k = key;
                hits++;
            }
        }
    }
    if (hits != 1) {
        cat_problem(&t->problem,
                    "cannot tell which key its foreign key (%s) references",
                    hits ? "several match" : "none matches");
        return;
    }
    fk->ref_table = strdup(hit_t->name);
    for (size_t c = 0; c < hit_k->ncols; c++)
        cat_push_str(&fk->ref_cols, &fk->nref, hit_k->cols[c]);
}

static enum dm_code read_constraints(struct dm_engine *e,
                                     struct dm_catalog *cat,
                                     struct dm_error *err)
{
    struct dm_rows *r = NULL, *refs = NULL;
    /* SELECT * crashes 0.6.1 and 0.8.1 here: only these columns */
    enum dm_code rc = cat_query(
        e, &r, err,
        "SELECT schema_name, table_name, constraint_type, "
        "CAST(constraint_column_indexes AS VARCHAR), expression, "
        "constraint_text%s FROM duckdb_constraints() WHERE constraint_type "
        "IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK')%s ORDER BY "
        "schema_name, table_name, constraint_index",
        cat->legacy ? ", NULL" : ", referenced_table", cat_db_filter(cat));
    /* 1.x names the referenced columns; one row per name, in order */
    if (!rc && !cat->legacy)
        rc = cat_query(
            e, &refs, err,
            "SELECT schema_name, table_name, constraint_index, "
            "unnest(referenced_column_names) FROM duckdb_constraints() "
            "WHERE constraint_type = 'FOREIGN KEY'%s",
            cat_db_filter(cat));
    if (rc)
        goto out;
    /* keys first: a legacy foreign key is matched against them */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->nrows; i++) {
            const char *type = dm_rows_get(r, i, 2);
            bool fk = cat_same(type, "FOREIGN KEY");
            if ((pass == 0) == fk)
                continue;
            struct dm_cat_table *t = NULL;
            for (size_t k = 0; k < cat->ntables && !t; k++)
                if (cat_same(cat->tables[k].schema, dm_rows_get(r, i, 0)) &&
                    cat_same(cat->tables[k].name, dm_rows_get(r, i, 1)))
                    t = &cat->tables[k];
            if (!t)
                continue;
            char kind = cat_same(type, "PRIMARY KEY") ? 'P'
                        : cat_same(type, "UNIQUE")    ? 'U'
                        : fk                          ? 'F'
                                                      : 'C';
            struct dm_cat_constraint *c = new_constraint(t, kind);
            if (!c) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                goto out;
            }
            if (kind == 'C') {
                c->expr = cat_dup(dm_rows_get(r, i, 4));
                if (!c->expr)
                    cat_problem(&t->problem, "a CHECK keeps no expression");
                /* the columns it reads, for what a target cannot hold */
                size_t *idx = NULL, n = 0;
                if (parse_indexes(dm_rows_get(r, i, 3), &idx, &n))
                    for (size_t k = 0; k < n; k++)
                        if (idx[k] < t->ncols)
                            cat_push_str(&c->cols, &c->ncols,
                                         t->cols[idx[k]].name);
                free(idx);
                continue;
            }
            size_t *idx = NULL, n = 0;
            bool good = parse_indexes(dm_rows_get(r, i, 3), &idx, &n) && n;
            for (size_t k = 0; good && k < n; k++)
                good = idx[k] < t->ncols &&
                       cat_push_str(&c->cols, &c->ncols, t->cols[idx[k]].name);
            free(idx);
            if (!good) {
                cat_problem(&t->problem, "the columns of a %s cannot be read",
                            type);
                continue;
            }
            if (!fk)
                continue;
            if (cat->legacy) {
                resolve_fk(cat, t, c, dm_rows_get(r, i, 5));
                continue;
            }
            c->ref_table = cat_dup(dm_rows_get(r, i, 6));
            /* the constraint_index of this row, to find its names */
            size_t seen = 0;
            for (size_t k = 0; k < i; k++)
                seen += cat_same(dm_rows_get(r, k, 0), t->schema) &&
                        cat_same(dm_rows_get(r, k, 1), t->name) &&
                        cat_same(dm_rows_get(r, k, 2), "FOREIGN KEY");
            /* refs rows are grouped by constraint; take the seen-th group
             * of this table */
            const char *group = NULL;
            size_t groups = 0;
            for (size_t k = 0; refs && k < refs->nrows; k++) {
                if (!cat_same(dm_rows_get(refs, k, 0), t->schema) ||
                    !cat_same(dm_rows_get(refs, k, 1), t->name))
                    continue;
                const char *ci = dm_rows_get(refs, k, 2);
                if (!group || !cat_same(group, ci)) {
                    group = ci;
                    groups++;
                }
                if (groups == seen + 1)
                    cat_push_str(&c->ref_cols, &c->nref,
                                 dm_rows_get(refs, k, 3));
            }
            if (!c->ref_table || !c->nref)
                cat_problem(&t->problem,
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
    enum dm_code rc = cat_query(
        e, &r, err,
        "SELECT schema_name, table_name, sql FROM duckdb_tables() WHERE "
        "NOT temporary AND NOT internal%s ORDER BY schema_name, "
        "table_name",
        cat_db_filter(cat));
    if (!rc)
        rc =
            cat_query(e, &cols, err,
                      "SELECT schema_name, table_name, column_name, data_type, "
                      "CAST(is_nullable AS VARCHAR), column_default FROM "
                      "duckdb_columns() WHERE NOT internal%s ORDER BY "
                      "schema_name, table_name, column_index",
                      cat_db_filter(cat));
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
        t->schema = cat_dup(dm_rows_get(r, i, 0));
        t->name = cat_dup(dm_rows_get(r, i, 1));
        t->sql = cat_dup(dm_rows_get(r, i, 2));
        if (!t->schema || !t->name) {
            rc = dm_fail(err, DM_ERR_UNSUPPORTED,
                         "a table of the file has no name");
            goto out;
        }
        size_t n = 0, first = cols->nrows;
        for (size_t k = from; k < cols->nrows; k++)
            if (cat_same(dm_rows_get(cols, k, 0), t->schema) &&
                cat_same(dm_rows_get(cols, k, 1), t->name)) {
                if (first == cols->nrows)
                    first = k;
                n++;
            }
        if (first == cols->nrows)
            for (size_t k = 0; k < cols->nrows; k++)
                if (cat_same(dm_rows_get(cols, k, 0), t->schema) &&
                    cat_same(dm_rows_get(cols, k, 1), t->name)) {
                    first = k;
                    break;
                }
        t->cols = calloc(n ? n : 1, sizeof(*t->cols));
        if (!t->cols) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = first; k < cols->nrows && t->ncols < n; k++) {
            if (!cat_same(dm_rows_get(cols, k, 0), t->schema) ||
                !cat_same(dm_rows_get(cols, k, 1), t->name))
                continue;
            struct dm_cat_column *c = &t->cols[t->ncols++];
            c->name = cat_dup(dm_rows_get(cols, k, 2));
            c->type = cat_dup(dm_rows_get(cols, k, 3));
            c->not_null = !cat_truthy(dm_rows_get(cols, k, 4));
            c->default_text = cat_dup(dm_rows_get(cols, k, 5));
            if (!c->name || !c->type) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                goto out;
            }
            from = k + 1;
        }
        if (t->sql)
            cat_read_generated(t);
        else
            cat_problem(&t->problem, "the release keeps no SQL for it");
        /* the columns' types, from the tree of a scan */
        char *q = dm_sql_qualified(t->schema, t->name);
        char *sql = q ? dm_fmt("SELECT * FROM %s LIMIT 0", q) : NULL;
        struct dm_type_node *trees = sql ? cat_result_types(e, sql) : NULL;
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
                cat_problem(&t->problem,
                            "the type of column \"%s\" (%s) cannot be told",
                            c->name, c->type);
        }
        if (!trees)
            cat_problem(&t->problem, "its columns cannot be read");
        cat_release_types(trees, t->ncols);
    }
    rc = read_constraints(e, cat, err);
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
        if (skip && cat_in_rows(skip, dm_rows_get(r, i, 1)))
            continue;
        struct dm_cat_object *o = &(*out)[(*n)++];
        o->schema = cat_dup(dm_rows_get(r, i, 0));
        o->name = cat_dup(dm_rows_get(r, i, 1));
        o->table = cat_dup(dm_rows_get(r, i, 2));
        o->sql = r->ncols > 3 ? cat_dup(dm_rows_get(r, i, 3)) : NULL;
        o->unique = r->ncols > 4 && cat_truthy(dm_rows_get(r, i, 4));
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
             cat_db_filter(cat));
    enum dm_code rc =
        read_objects(e, sql, &cat->views, &cat->nviews, NULL, err);
    if (!rc)
        rc = cat_query(e, &cols, err,
                       "SELECT schema_name, table_name, column_name, data_type "
                       "FROM duckdb_columns() WHERE NOT internal%s ORDER BY "
                       "schema_name, table_name, column_index",
                       cat_db_filter(cat));
    for (size_t i = 0; !rc && i < cat->nviews; i++) {
        struct dm_cat_object *v = &cat->views[i];
        if (v->sql)
            cat_read_view_sql(v);
        else
            cat_problem(&v->problem, "the release keeps no SQL for it");
        for (size_t k = 0; k < cols->nrows && !rc; k++) {
            if (!cat_same(dm_rows_get(cols, k, 0), v->schema) ||
                !cat_same(dm_rows_get(cols, k, 1), v->name))
                continue;
            const char *type = dm_rows_get(cols, k, 3);
            size_t nt = v->ncols;
            if (!cat_push_str(&v->col_types, &nt, type ? type : "") ||
                !cat_push_str(&v->col_names, &v->ncols,
                              dm_rows_get(cols, k, 2)))
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
             cat_db_filter(cat));
    enum dm_code rc =
        read_objects(e, sql, &cat->indexes, &cat->nindexes, NULL, err);
    for (size_t i = 0; !rc && i < cat->nindexes; i++) {
        struct dm_cat_object *x = &cat->indexes[i];
        if (x->sql)
            cat_read_index_sql(x);
        else
            cat_problem(&x->problem, "the source keeps no SQL for it");
    }
    return rc;
}

/* A macro's row of read_macros' query, and where it stands in the order
 * the catalog keeps: schema, name, type, then the scan (1.x overloads). */
struct macro_key {
    const char *schema, *name, *type;
    size_t row;
};

static int cmp_null_last(const char *a, const char *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    return strcmp(a, b);
}

static int macro_key_cmp(const void *pa, const void *pb)
{
    const struct macro_key *a = pa, *b = pb;
    int c = cmp_null_last(a->schema, b->schema);
    if (!c)
        c = cmp_null_last(a->name, b->name);
    if (!c)
        c = cmp_null_last(a->type, b->type);
    if (!c)
        c = (a->row > b->row) - (a->row < b->row);
    return c;
}

/* Fill m from its row i of r and the parameter rows that follow it. */
static enum dm_code read_macro(const struct dm_rows *r, size_t i,
                               struct dm_cat_object *m, struct dm_error *err)
{
    m->schema = cat_dup(dm_rows_get(r, i, 0));
    m->name = cat_dup(dm_rows_get(r, i, 1));
    m->table_macro = cat_same(dm_rows_get(r, i, 2), "table_macro");
    /* 0.6-0.8 keep no body for a table macro (NULL here) */
    m->body = cat_dup(dm_rows_get(r, i, 3));
    if (!m->schema || !m->name)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    int64_t count;
    /* a count that is not one: no number of them is right */
    size_t want = to_i64(dm_rows_get(r, i, 4), &count) && count >= 0
                      ? (size_t)count
                      : SIZE_MAX;
    for (size_t k = i + 1; k < r->nrows && dm_rows_get(r, k, 5); k++)
        if (!cat_push_str(&m->parts, &m->nparts, dm_rows_get(r, k, 5)))
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (m->nparts != want)
        cat_problem(&m->problem, "its parameters cannot be read");
    m->defaults = calloc(m->nparts ? m->nparts : 1, sizeof(char *));
    if (!m->defaults)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (!m->table_macro && !m->body)
        cat_problem(&m->problem, "the release keeps no body for it");
    return DM_OK;
}

/*
 * The macros, from one scan of duckdb_functions(): every function of the
 * release, 5-20 ms a scan, the most expensive query of a catalog read.
 * Each macro comes as its own row (parameter NULL) followed by a row per
 * parameter, in order: unnest keeps a list's elements in order and
 * together, and the scan is not parallel. A parameter is a name, never
 * NULL; rows that do not add up to the macro's count of parameters make
 * the macro a problem, never another macro's parameters.
 */
static enum dm_code read_macros(struct dm_engine *e,
                                const struct dm_rows *builtin,
                                struct dm_catalog *cat, struct dm_error *err)
{
    struct dm_rows *r = NULL;
    struct macro_key *keys = NULL;
    size_t nkeys = 0;
    const char *where = cat->legacy ? ""
                                    : " AND NOT internal AND "
                                      "database_name = "
                                      "current_database()";
    enum dm_code rc = cat_query(
        e, &r, err,
        "SELECT schema_name, function_name, function_type, macro_definition, "
        "array_length(parameters), unnest(list_concat([NULL::VARCHAR], "
        "parameters)) FROM duckdb_functions() WHERE function_type IN "
        "('macro', 'table_macro')%s",
        where);
    if (rc)
        goto out;
    keys = calloc(r->nrows ? r->nrows : 1, sizeof(*keys));
    if (!keys) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const char *name = dm_rows_get(r, i, 1);
        if (dm_rows_get(r, i, 5) ||
            (cat->legacy && builtin && cat_in_rows(builtin, name)))
            continue;
        keys[nkeys++] = (struct macro_key){dm_rows_get(r, i, 0), name,
                                           dm_rows_get(r, i, 2), i};
    }
    qsort(keys, nkeys, sizeof(*keys), macro_key_cmp);
    cat->macros = calloc(nkeys ? nkeys : 1, sizeof(*cat->macros));
    if (!cat->macros) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < nkeys && !rc; j++)
        rc = read_macro(r, keys[j].row, &cat->macros[cat->nmacros++], err);
out:
    free(keys);
    dm_rows_free(r);
    return rc;
}

enum dm_code dm_catalog_read(struct dm_engine *e,
                             const struct dm_rows *builtin_macros,
                             struct dm_catalog *cat, struct dm_error *err)
{
    memset(cat, 0, sizeof(*cat));
    snprintf(cat->release, sizeof(cat->release), "%s", dm_engine_release(e));
    cat->legacy = dm_release_legacy(cat->release);

    enum dm_code rc = read_schemas(e, cat, err);
    if (!rc)
        rc = cat_read_types(e, cat, err);
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
            cat_free_strs(o[i].defaults, o[i].nparts);
        cat_free_strs(o[i].parts, o[i].nparts);
        free(o[i].where);
        cat_free_strs(o[i].col_names, o[i].ncols);
        cat_free_strs(o[i].col_types, o[i].ncols);
        free(o[i].problem);
    }
    free(o);
}

void dm_catalog_release(struct dm_catalog *cat)
{
    cat_free_strs(cat->schemas, cat->nschemas);
    for (size_t i = 0; i < cat->ntypes; i++) {
        struct dm_cat_type *t = &cat->types[i];
        cat_free_strs(t->labels, t->nlabels);
        free(t->schema);
        free(t->name);
        free(t->kind);
        free(t->type_sql);
        free(t->type_key);
        free(t->problem);
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
            cat_free_strs(t->cons[k].cols, t->cons[k].ncols);
            free(t->cons[k].ref_table);
            cat_free_strs(t->cons[k].ref_cols, t->cons[k].nref);
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
