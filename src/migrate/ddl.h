/*
 * ddl.h - the target's statements, built by duckmig from a source's
 * catalog facts.
 *
 * Every name goes through dm_sql_ident(); every piece of SQL the source
 * file kept (a DEFAULT, CHECK or generated expression, an index's
 * expressions, a view's query, a macro's defaults and body) goes through
 * the target's own parser (catalog/ast.h): checked to be exactly one
 * expression or one query, given the meaning the source release gave it
 * (ast.h, dm_ast_keep_meaning), and put in as DuckDB's rendering of that
 * parse. Nothing is taken from a file as a statement.
 */
#ifndef DM_MIGRATE_DDL_H
#define DM_MIGRATE_DDL_H

#include "catalog/ast.h"
#include "catalog/catalog.h"
#include "catalog/report.h"
#include "util/error.h"

struct dm_ddl {
    struct dm_ast *ast;               /* the target's parser */
    const char *from_release;         /* the source's release */
    const struct dm_catalog *catalog; /* the source's */
    const char *to_release;           /* the target's */
    /* where a part a target cannot hold is named when the rest of its
     * object is built without it (may be NULL) */
    struct dm_report *report;
};

/*
 * Each builder returns DM_OK and the statement in *sql, or an error whose
 * message says why the object cannot be built (its problem, or DuckDB's
 * reason for refusing a piece). *changes (may be NULL) gets what was
 * rewritten to keep the old meaning (enum dm_ast_changes).
 */
enum dm_code dm_ddl_schema(const char *schema, char **sql,
                           struct dm_error *err);
enum dm_code dm_ddl_type(const struct dm_cat_type *t, char **sql,
                         struct dm_error *err);
enum dm_code dm_ddl_sequence(const struct dm_cat_sequence *q, char **sql,
                             struct dm_error *err);
enum dm_code dm_ddl_table(const struct dm_ddl *d, const struct dm_cat_table *t,
                          char **sql, unsigned *changes, struct dm_error *err);
/* drop_main: read 0.6's main.main.x as main.x */
enum dm_code dm_ddl_view(const struct dm_ddl *d, const struct dm_cat_object *v,
                         bool drop_main, char **sql, unsigned *changes,
                         struct dm_error *err);
enum dm_code dm_ddl_macro(const struct dm_ddl *d, const struct dm_cat_object *m,
                          char **sql, unsigned *changes, struct dm_error *err);
enum dm_code dm_ddl_index(const struct dm_ddl *d, const struct dm_cat_object *x,
                          char **sql, unsigned *changes, struct dm_error *err);

/* SET search_path = '"schema",main': unqualified names inside a
 * definition resolve as they did in the source. */
char *dm_ddl_search_path(const char *schema);

#endif
