/* ddl.c - the target's statements, built from catalog facts (see ddl.h). */
#include "migrate/ddl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/sqltext.h"
#include "release/release.h"
#include "util/str.h"

static enum dm_code built(struct dm_sbuf *b, char **sql, struct dm_error *err)
{
    *sql = dm_sbuf_take(b);
    return *sql ? DM_OK : dm_fail(err, DM_ERR_NOMEM, "out of memory");
}

enum dm_code dm_ddl_schema(const char *schema, char **sql, struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    dm_sbuf_add(&b, "CREATE SCHEMA ");
    dm_sbuf_add_owned(&b, dm_sql_ident(schema));
    return built(&b, sql, err);
}

enum dm_code dm_ddl_type(const struct dm_cat_type *t, char **sql,
                         struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    bool is_enum = t->kind && strcmp(t->kind, "ENUM") == 0;
    *sql = NULL;
    if (t->problem)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s", t->problem);
    if (!is_enum && !t->type_sql)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "the type it stands for cannot be read");
    dm_sbuf_add(&b, "CREATE TYPE ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(t->schema, t->name));
    dm_sbuf_add(&b, " AS ");
    if (!is_enum) {
        dm_sbuf_add(&b, t->type_sql);
        return built(&b, sql, err);
    }
    dm_sbuf_add(&b, "ENUM (");
    for (size_t i = 0; i < t->nlabels; i++) {
        if (i)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add_owned(&b, dm_sql_literal(t->labels[i] ? t->labels[i] : ""));
    }
    dm_sbuf_add(&b, ")");
    return built(&b, sql, err);
}

enum dm_code dm_ddl_sequence(const struct dm_cat_sequence *q, char **sql,
                             struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    dm_sbuf_add(&b, "CREATE SEQUENCE ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(q->schema, q->name));
    dm_sbuf_addf(&b,
                 " INCREMENT BY %lld MINVALUE %lld MAXVALUE %lld START %lld %s",
                 (long long)q->increment, (long long)q->min, (long long)q->max,
                 (long long)q->next, q->cycle ? "CYCLE" : "NO CYCLE");
    return built(&b, sql, err);
}

char *dm_ddl_search_path(const char *schema)
{
    char *id = dm_sql_ident(schema);
    char *path = id ? dm_fmt("%s,main", id) : NULL;
    char *lit = path ? dm_sql_literal(path) : NULL;
    char *out = lit ? dm_fmt("SET search_path = %s", lit) : NULL;
    free(lit);
    free(path);
    free(id);
    return out;
}

/* A stored expression, checked and rendered by the target (ast.h). */
static enum dm_code expr_piece(const struct dm_ddl *d, const char *text,
                               const char *what, struct dm_sbuf *b,
                               unsigned *changes, struct dm_error *err)
{
    struct json_t *tree = NULL;
    char *sql = NULL;
    struct dm_error e = DM_ERROR_INIT;
    enum dm_code rc = dm_ast_expr(d->ast, text, &tree, &e);
    if (!rc) {
        unsigned c = dm_ast_keep_meaning(d->ast, tree, d->from_release);
        if (changes)
            *changes |= c;
        rc = dm_ast_render_expr(d->ast, tree, &sql, &e);
    }
    dm_ast_free(tree);
    if (rc)
        return dm_fail(err, rc, "%s: %s", what, e.msg);
    dm_sbuf_add(b, "(");
    dm_sbuf_add(b, sql);
    dm_sbuf_add(b, ")");
    free(sql);
    return DM_OK;
}

static void add_names(struct dm_sbuf *b, char **names, size_t n)
{
    dm_sbuf_add(b, "(");
    for (size_t i = 0; i < n; i++) {
        if (i)
            dm_sbuf_add(b, ", ");
        dm_sbuf_add_owned(b, dm_sql_ident(names[i]));
    }
    dm_sbuf_add(b, ")");
}

/*
 * 0.8 writes a table or view of one schema that uses an ENUM of another,
 * and then cannot open the file ("Could not find ENUM in the Catalog to
 * deserialize"): such an object is refused up front.
 */
static enum dm_code other_schema_type(const struct dm_ddl *d,
                                      const char *schema, char **types,
                                      size_t n, struct dm_error *err)
{
    if (!d->catalog || !d->to_release ||
        !dm_release_before(d->to_release, 0, 9))
        return DM_OK;
    for (size_t i = 0; i < n; i++) {
        const char *other =
            dm_catalog_type_elsewhere(d->catalog, schema, types[i]);
        if (other)
            return dm_fail(err, DM_ERR_UNSUPPORTED,
                           "it uses an ENUM of schema %s, and DuckDB %s "
                           "cannot reopen a file where an object of one "
                           "schema uses an ENUM of another",
                           other, d->to_release);
    }
    return DM_OK;
}

/* Is c's type a user type (an ENUM, or an alias such as CREATE TYPE d AS
 * DECIMAL(12,3))? */
static bool user_typed(const struct dm_ddl *d, const struct dm_cat_column *c)
{
    if (c->type_key && strstr(c->type_key, "ENUM("))
        return true;
    for (size_t i = 0; d->catalog && c->type && i < d->catalog->ntypes; i++)
        if (strcmp(c->type, d->catalog->types[i].name) == 0)
            return true;
    return false;
}

/*
 * 0.8 fails every insert into a table with a CHECK that reads a column
 * of a user type, an ENUM or an alias ("Vector::Reference used on vector
 * of different type"): to 0.8 such a CHECK is left out and named, so
 * that the table and its rows are still carried (gen seeds 49, 76, 140).
 */
static bool check_refused(const struct dm_ddl *d, const struct dm_cat_table *t,
                          const struct dm_cat_constraint *k)
{
    if (!d->to_release || !dm_release_before(d->to_release, 0, 9))
        return false;
    for (size_t i = 0; i < k->ncols; i++)
        for (size_t c = 0; c < t->ncols; c++)
            if (strcmp(t->cols[c].name, k->cols[i]) == 0 &&
                user_typed(d, &t->cols[c])) {
                if (d->report) {
                    char *name = dm_fmt("%s CHECK %s", t->name, k->expr);
                    if (name)
                        dm_report_add(d->report, "constraint", t->schema, name,
                                      DM_ITEM_NOT_CARRIED,
                                      "it reads a column of a user type, and "
                                      "DuckDB %s fails every insert into a "
                                      "table "
                                      "with such a CHECK; the table is "
                                      "carried without it",
                                      d->to_release);
                    free(name);
                }
                return true;
            }
    return false;
}

enum dm_code dm_ddl_table(const struct dm_ddl *d, const struct dm_cat_table *t,
                          char **sql, unsigned *changes, struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    enum dm_code rc = DM_OK;
    *sql = NULL;
    if (t->problem)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s", t->problem);
    char **types = calloc(t->ncols ? t->ncols : 1, sizeof(char *));
    if (!types)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->ncols; i++)
        types[i] = t->cols[i].type;
    rc = other_schema_type(d, t->schema, types, t->ncols, err);
    free(types);
    if (rc)
        return rc;
    dm_sbuf_add(&b, "CREATE TABLE ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(t->schema, t->name));
    dm_sbuf_add(&b, " (");
    for (size_t i = 0; !rc && i < t->ncols; i++) {
        const struct dm_cat_column *c = &t->cols[i];
        char what[600];
        if (i)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add_owned(&b, dm_sql_ident(c->name));
        dm_sbuf_add(&b, " ");
        dm_sbuf_add(&b, c->type_sql);
        if (c->generated) {
            snprintf(what, sizeof(what), "the expression of column \"%s\"",
                     c->name);
            dm_sbuf_add(&b, " GENERATED ALWAYS AS ");
            rc = expr_piece(d, c->gen_text, what, &b, changes, err);
            dm_sbuf_add(&b, " VIRTUAL");
        }
        if (c->not_null)
            dm_sbuf_add(&b, " NOT NULL");
        if (!rc && c->default_text && !c->generated) {
            snprintf(what, sizeof(what), "the DEFAULT of column \"%s\"",
                     c->name);
            dm_sbuf_add(&b, " DEFAULT ");
            rc = expr_piece(d, c->default_text, what, &b, changes, err);
        }
    }
    for (size_t i = 0; !rc && i < t->ncons; i++) {
        const struct dm_cat_constraint *k = &t->cons[i];
        dm_sbuf_add(&b, ", ");
        switch (k->kind) {
        case 'P':
        case 'U':
            dm_sbuf_add(&b, k->kind == 'P' ? "PRIMARY KEY " : "UNIQUE ");
            add_names(&b, k->cols, k->ncols);
            break;
        case 'F':
            dm_sbuf_add(&b, "FOREIGN KEY ");
            add_names(&b, k->cols, k->ncols);
            dm_sbuf_add(&b, " REFERENCES ");
            dm_sbuf_add_owned(&b, dm_sql_qualified(t->schema, k->ref_table));
            dm_sbuf_add(&b, " ");
            add_names(&b, k->ref_cols, k->nref);
            break;
        default:
            if (check_refused(d, t, k)) {
                b.len -= 2; /* the ", " before it */
                b.s[b.len] = '\0';
                break;
            }
            dm_sbuf_add(&b, "CHECK ");
            rc = expr_piece(d, k->expr, "a CHECK", &b, changes, err);
        }
    }
    dm_sbuf_add(&b, ")");
    if (rc) {
        dm_sbuf_release(&b);
        return rc;
    }
    return built(&b, sql, err);
}

/* A stored query, checked, given its old meaning and rendered. */
static enum dm_code query_piece(const struct dm_ddl *d, const char *text,
                                bool drop_main, struct dm_sbuf *b,
                                unsigned *changes, struct dm_error *err)
{
    struct json_t *tree = NULL;
    char *sql = NULL;
    enum dm_code rc = dm_ast_query(d->ast, text, &tree, err);
    if (!rc) {
        unsigned c = dm_ast_keep_meaning(d->ast, tree, d->from_release);
        if (changes)
            *changes |= c;
        if (drop_main)
            dm_ast_drop_main_catalog(tree);
        rc = dm_ast_render_query(d->ast, tree, &sql, err);
    }
    dm_ast_free(tree);
    if (!rc)
        dm_sbuf_add(b, sql);
    free(sql);
    return rc;
}

enum dm_code dm_ddl_view(const struct dm_ddl *d, const struct dm_cat_object *v,
                         bool drop_main, char **sql, unsigned *changes,
                         struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    *sql = NULL;
    if (v->problem)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s", v->problem);
    enum dm_code orc =
        other_schema_type(d, v->schema, v->col_types, v->ncols, err);
    if (orc)
        return orc;
    dm_sbuf_add(&b, "CREATE VIEW ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(v->schema, v->name));
    if (v->nparts) {
        dm_sbuf_add(&b, " ");
        add_names(&b, v->parts, v->nparts);
    }
    dm_sbuf_add(&b, " AS ");
    enum dm_code rc = query_piece(d, v->body, drop_main, &b, changes, err);
    if (rc) {
        dm_sbuf_release(&b);
        return rc;
    }
    return built(&b, sql, err);
}

enum dm_code dm_ddl_macro(const struct dm_ddl *d, const struct dm_cat_object *m,
                          char **sql, unsigned *changes, struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    enum dm_code rc = DM_OK;
    *sql = NULL;
    if (m->problem)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s", m->problem);
    if (!m->has_defaults)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "the defaults of its parameters cannot be read");
    dm_sbuf_add(&b, "CREATE MACRO ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(m->schema, m->name));
    dm_sbuf_add(&b, "(");
    for (size_t i = 0; !rc && i < m->nparts; i++) {
        if (i)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add_owned(&b, dm_sql_ident(m->parts[i]));
        if (m->defaults[i]) {
            char what[600];
            snprintf(what, sizeof(what), "the default of parameter \"%s\"",
                     m->parts[i]);
            dm_sbuf_add(&b, " := ");
            rc = expr_piece(d, m->defaults[i], what, &b, changes, err);
        }
    }
    dm_sbuf_add(&b, ") AS ");
    if (!rc && m->table_macro) {
        dm_sbuf_add(&b, "TABLE ");
        rc = query_piece(d, m->body, false, &b, changes, err);
    } else if (!rc) {
        /* the catalog's body (duckdb_functions(), parameters written as
         * "0_macro_parameters<name>".p) must be the body EXPORT wrote */
        struct json_t *tree = NULL, *other = NULL;
        char *body = NULL;
        rc = dm_ast_expr(d->ast, m->body, &tree, err);
        if (!rc && m->sql)
            rc = dm_ast_expr(d->ast, m->sql, &other, err);
        if (!rc) {
            dm_ast_unmangle_macro(tree, m->name);
            char *x = dm_ast_canon(tree);
            char *y = other ? dm_ast_canon(other) : NULL;
            if (x && y && strcmp(x, y) != 0)
                rc = dm_fail(err, DM_ERR_UNSUPPORTED,
                             "its body in the catalog and in EXPORT DATABASE "
                             "differ");
            free(x);
            free(y);
        }
        if (!rc) {
            unsigned c = dm_ast_keep_meaning(d->ast, tree, d->from_release);
            if (changes)
                *changes |= c;
            rc = dm_ast_render_expr(d->ast, tree, &body, err);
        }
        if (!rc) {
            dm_sbuf_add(&b, "(");
            dm_sbuf_add(&b, body);
            dm_sbuf_add(&b, ")");
        }
        free(body);
        dm_ast_free(other);
        dm_ast_free(tree);
    }
    if (rc) {
        dm_sbuf_release(&b);
        return rc;
    }
    return built(&b, sql, err);
}

enum dm_code dm_ddl_index(const struct dm_ddl *d, const struct dm_cat_object *x,
                          char **sql, unsigned *changes, struct dm_error *err)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    enum dm_code rc = DM_OK;
    *sql = NULL;
    if (x->problem)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s", x->problem);
    if (x->where)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "a partial index (WHERE): DuckDB %s has none",
                       dm_ast_release(d->ast));
    dm_sbuf_add(&b, x->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    dm_sbuf_add_owned(&b, dm_sql_ident(x->name));
    dm_sbuf_add(&b, " ON ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(x->schema, x->table));
    dm_sbuf_add(&b, " (");
    for (size_t i = 0; !rc && i < x->nparts; i++) {
        if (i)
            dm_sbuf_add(&b, ", ");
        rc = expr_piece(d, x->parts[i], "an expression", &b, changes, err);
    }
    dm_sbuf_add(&b, ")");
    if (rc) {
        dm_sbuf_release(&b);
        return rc;
    }
    return built(&b, sql, err);
}
