/*
 * schema.c - the source's objects created in the target, in dependency
 * order, from statements built by ddl.c.
 *
 * The old catalogs keep no dependency graph, so tables, macros and views
 * go into one pool and each is retried until no more can be created: a
 * view reading a view that sorts after it, a macro a view or a table
 * macro uses, a foreign key's target. Every statement runs alone
 * (dm_engine_exec_one), after a SET search_path to its schema so that
 * unqualified names inside a definition resolve as they did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/migrate_int.h"
#include "util/log.h"
#include "util/str.h"

/* The first line of a reason: DuckDB's messages run on with context. */
static void first_line(const char *why, char *out, size_t n)
{
    snprintf(out, n, "%s", why ? why : "");
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
}

static void not_carried(struct dm_report *r, const char *kind,
                        const char *schema, const char *name, const char *why)
{
    char line[600];
    first_line(why, line, sizeof(line));
    /* a view over parquet or CSV files: the writer reads no other file */
    if (strstr(line, "Permission Error") &&
        (strstr(line, "disabled through configuration") ||
         strstr(line, "disabled by configuration"))) {
        dm_report_add(r, kind, schema, name, DM_ITEM_NOT_CARRIED,
                      "it reads files outside the database, and duckmig "
                      "builds a file with external access off (%s)",
                      line);
        dm_warn("migrate",
                "%s %s.%s not carried over: it reads files "
                "outside the database",
                kind, schema, name);
        return;
    }
    dm_report_add(r, kind, schema, name, DM_ITEM_NOT_CARRIED, "%s", line);
    dm_warn("migrate", "%s %s.%s not carried over: %s", kind, schema, name,
            line);
}

/*
 * Run sql in schema's search path; DuckDB's reason in err. 0.8 reads a
 * search path naming a schema with a '"' wrongly and refuses it: the
 * statement then runs with main's (every name duckmig writes is
 * qualified; what a definition leaves unqualified is checked by verify).
 */
static enum dm_code exec_in(struct dm_engine *w, const char *schema,
                            const char *sql, struct dm_error *err)
{
    struct dm_error perr = DM_ERROR_INIT;
    char *path = dm_ddl_search_path(schema);
    if (!path)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = dm_engine_exec_one(w, path, &perr);
    free(path);
    if (rc == DM_ERR_SQL)
        rc = dm_engine_exec_one(w, "SET search_path = 'main'", &perr);
    if (rc)
        return dm_fail(err, rc, "%s", perr.msg);
    return dm_engine_exec_one(w, sql, err);
}

static void note_changes(struct dm_report *r, const char *kind,
                         const char *schema, const char *name, unsigned changes,
                         const char *from)
{
    char what[256];
    if (!changes)
        return;
    dm_report_add(r, "meaning", schema, name, DM_ITEM_OK,
                  "%s written for DuckDB %s: %s", kind, from,
                  dm_ast_changes_text(changes, what, sizeof(what)));
}

enum pool_kind { POOL_TABLE, POOL_MACRO, POOL_VIEW };

struct pending {
    enum pool_kind kind;
    const void *obj; /* the catalog's table or object */
    const char *schema, *name;
    char *sql;   /* built; NULL until then */
    char *error; /* the last reason it could not be created */
    unsigned changes;
    bool done, failed_build, drop_main;
};

static const char *kind_name(enum pool_kind k)
{
    return k == POOL_TABLE ? "table" : k == POOL_MACRO ? "macro" : "view";
}

static void build(const struct dm_ddl *d, struct pending *p)
{
    struct dm_error e = DM_ERROR_INIT;
    enum dm_code rc;
    free(p->sql);
    p->sql = NULL;
    p->changes = 0;
    if (p->kind == POOL_TABLE)
        rc = dm_ddl_table(d, p->obj, &p->sql, &p->changes, &e);
    else if (p->kind == POOL_MACRO)
        rc = dm_ddl_macro(d, p->obj, &p->sql, &p->changes, &e);
    else
        rc = dm_ddl_view(d, p->obj, p->drop_main, &p->sql, &p->changes, &e);
    if (rc) {
        free(p->error);
        p->error = strdup(e.msg);
        p->failed_build = true;
    }
}

void plan_release(struct plan *plan)
{
    free(plan->created);
    free(plan->order);
    memset(plan, 0, sizeof(*plan));
}

static enum dm_code run_pool(struct dm_engine *w, const struct dm_ddl *d,
                             struct pending *p, size_t n, struct plan *plan,
                             struct dm_report *r, struct dm_error *fail)
{
    for (size_t i = 0; i < n; i++)
        build(d, &p[i]);
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (p[i].done || p[i].failed_build)
                continue;
            struct dm_error err = DM_ERROR_INIT;
            if (exec_in(w, p[i].schema, p[i].sql, &err) != DM_OK &&
                p[i].kind == POOL_VIEW && !p[i].drop_main &&
                strstr(err.msg, "Catalog \"main\" does not exist")) {
                /* 0.6 had no catalogs: main.main.t meant schema main */
                p[i].drop_main = true;
                build(d, &p[i]);
                dm_error_clear(&err);
                if (!p[i].failed_build)
                    exec_in(w, p[i].schema, p[i].sql, &err);
            }
            if (p[i].failed_build)
                continue;
            if (err.code != DM_OK && err.code != DM_ERR_SQL &&
                err.code != DM_ERR_UNSUPPORTED)
                return dm_fail(fail, err.code, "creating %s %s.%s: %s",
                               kind_name(p[i].kind), p[i].schema, p[i].name,
                               err.msg);
            if (err.code == DM_OK) {
                p[i].done = progress = true;
                if (p[i].kind == POOL_TABLE)
                    plan->order[plan->ncreated++] = i;
            } else {
                free(p[i].error);
                p[i].error = strdup(err.msg);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i].done)
            note_changes(r, kind_name(p[i].kind), p[i].schema, p[i].name,
                         p[i].changes, d->from_release);
        else
            not_carried(r, kind_name(p[i].kind), p[i].schema, p[i].name,
                        p[i].error ? p[i].error
                                   : "its definition could not be read");
    }
    return DM_OK;
}

/*
 * Create one object; what the target refuses is reported not carried.
 * Running out of memory or disk (or a dead worker) is no property of the
 * object: it fails the migration, for a retry.
 */
static enum dm_code exec_report(struct dm_engine *w, const char *schema,
                                enum dm_code built_rc, const char *sql,
                                const struct dm_error *build_err,
                                const char *kind, const char *name,
                                struct dm_report *r, struct dm_error *err)
{
    struct dm_error e = DM_ERROR_INIT;
    if (built_rc) {
        not_carried(r, kind, schema, name, build_err->msg);
        return DM_OK;
    }
    enum dm_code rc = dm_engine_exec_one(w, sql, &e);
    if (rc == DM_ERR_SQL || rc == DM_ERR_UNSUPPORTED) {
        not_carried(r, kind, schema, name, e.msg);
        return DM_OK;
    }
    if (rc)
        return dm_fail(err, rc, "creating %s %s.%s: %s", kind, schema, name,
                       e.msg);
    return DM_OK;
}

enum dm_code schema_create(struct dm_engine *writer, const struct dm_ddl *d,
                           const struct dm_catalog *src, struct plan *plan,
                           struct dm_report *r, struct dm_error *err)
{
    memset(plan, 0, sizeof(*plan));
    plan->ntables = src->ntables;
    plan->created = calloc(src->ntables ? src->ntables : 1, sizeof(bool));
    plan->order = calloc(src->ntables ? src->ntables : 1, sizeof(size_t));
    size_t n = src->nmacros + src->ntables + src->nviews;
    struct pending *pool = calloc(n ? n : 1, sizeof(*pool));
    if (!plan->created || !plan->order || !pool) {
        free(pool);
        plan_release(plan);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    enum dm_code rc = DM_OK;
    for (size_t i = 0; i < src->nschemas; i++) {
        struct dm_error be = DM_ERROR_INIT;
        char *sql = NULL;
        rc = dm_ddl_schema(src->schemas[i], &sql, &be);
        rc = exec_report(writer, "", rc, sql, &be, "schema", src->schemas[i], r,
                         err);
        free(sql);
        if (rc)
            goto fail;
    }
    /* ENUMs before aliases, which may hold one */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < src->ntypes; i++) {
            const struct dm_cat_type *t = &src->types[i];
            bool is_enum = t->kind && strcmp(t->kind, "ENUM") == 0;
            if (is_enum != (pass == 0))
                continue;
            struct dm_error be = DM_ERROR_INIT;
            char *sql = NULL;
            rc = dm_ddl_type(t, &sql, &be);
            rc = exec_report(writer, t->schema, rc, sql, &be, "type", t->name,
                             r, err);
            free(sql);
            if (rc)
                goto fail;
        }
    for (size_t i = 0; i < src->nsequences; i++) {
        const struct dm_cat_sequence *q = &src->sequences[i];
        struct dm_error be = DM_ERROR_INIT;
        char *sql = NULL;
        rc = dm_ddl_sequence(q, &sql, &be);
        rc = exec_report(writer, q->schema, rc, sql, &be, "sequence", q->name,
                         r, err);
        free(sql);
        if (rc)
            goto fail;
    }
    /* tables first in the pool: the order they are created in is the
     * order rows are loaded in (a referenced table before its referrers) */
    size_t k = 0;
    for (size_t i = 0; i < src->ntables; i++, k++)
        pool[k] = (struct pending){.kind = POOL_TABLE,
                                   .obj = &src->tables[i],
                                   .schema = src->tables[i].schema,
                                   .name = src->tables[i].name};
    for (size_t i = 0; i < src->nmacros; i++, k++)
        pool[k] = (struct pending){.kind = POOL_MACRO,
                                   .obj = &src->macros[i],
                                   .schema = src->macros[i].schema,
                                   .name = src->macros[i].name};
    for (size_t i = 0; i < src->nviews; i++, k++)
        pool[k] = (struct pending){.kind = POOL_VIEW,
                                   .obj = &src->views[i],
                                   .schema = src->views[i].schema,
                                   .name = src->views[i].name};
    rc = run_pool(writer, d, pool, n, plan, r, err);
    for (size_t i = 0; i < src->ntables; i++)
        plan->created[i] = pool[i].done;
fail:
    for (size_t i = 0; i < n; i++) {
        free(pool[i].sql);
        free(pool[i].error);
    }
    free(pool);
    return rc;
}

enum dm_code create_indexes(struct dm_engine *writer, const struct dm_ddl *d,
                            const struct dm_catalog *src, struct dm_report *r,
                            struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    for (size_t i = 0; !rc && i < src->nindexes; i++) {
        const struct dm_cat_object *x = &src->indexes[i];
        struct dm_error be = DM_ERROR_INIT;
        char *sql = NULL;
        unsigned changes = 0;
        rc = dm_ddl_index(d, x, &sql, &changes, &be);
        rc = exec_report(writer, x->schema, rc, sql, &be, "index", x->name, r,
                         err);
        note_changes(r, "index", x->schema, x->name, changes, d->from_release);
        free(sql);
    }
    return rc;
}
