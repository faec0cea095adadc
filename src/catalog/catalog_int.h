/*
 * catalog_int.h - what the files of src/catalog/ that read a catalog
 * share: small helpers (catalog.c), the column types and user types
 * (types.c) and the stored SQL cut into pieces (stored.c).
 */
#ifndef DM_CATALOG_CATALOG_INT_H
#define DM_CATALOG_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "util/error.h"

/* ---- catalog.c ---------------------------------------------------------- */

char *cat_dup(const char *s); /* strdup, NULL for NULL */
/* A query built with printf, its rows in *rows. */
enum dm_code cat_query(struct dm_engine *e, struct dm_rows **rows,
                       struct dm_error *err, const char *f, ...)
    __attribute__((format(printf, 4, 5)));
bool cat_truthy(const char *s);
bool cat_same(const char *a, const char *b); /* both set and equal */
bool cat_in_rows(const struct dm_rows *r, const char *s);
bool cat_push_str(char ***v, size_t *n, const char *s);
void cat_free_strs(char **v, size_t n);
/* " AND database_name = current_database()" for 1.x catalogs: their
 * catalog functions list every attached database */
const char *cat_db_filter(const struct dm_catalog *cat);
/* Record why an object cannot be built; the first reason wins. */
void cat_problem(char **problem, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- types.c ------------------------------------------------------------ */

/* The type trees of sql's columns (SELECT ... LIMIT 0), or NULL. */
struct dm_type_node *cat_result_types(struct dm_engine *e, const char *sql);
void cat_release_types(struct dm_type_node *t, size_t n);
/* The file's user types: ENUMs with their labels, aliases. */
enum dm_code cat_read_types(struct dm_engine *e, struct dm_catalog *cat,
                            struct dm_error *err);

/* ---- stored.c ----------------------------------------------------------- */

/* 0.6-0.8 keep a generated column's expression only in the table's SQL */
void cat_read_generated(struct dm_cat_table *t);
/* CREATE VIEW name [(a, b)] AS query: the aliases and the query */
void cat_read_view_sql(struct dm_cat_object *v);
/* CREATE [UNIQUE] INDEX name ON t (e, ...) [WHERE p]: the expressions */
void cat_read_index_sql(struct dm_cat_object *x);

#endif
