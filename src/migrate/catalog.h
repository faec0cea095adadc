/*
 * catalog.h - what a database file holds, read through an engine worker.
 *
 * The same reading serves migration (build the target's DDL from it) and
 * verification (compare source and destination). It asks DuckDB's own
 * catalog functions (duckdb_tables(), duckdb_columns(), ...) and never
 * trusts EXPORT DATABASE's schema.sql, whose bugs in 0.6-0.8 are listed in
 * docs/migration.md. Releases before 0.9 ("legacy") and 1.x differ in what
 * those functions return; the differences are handled here.
 */
#ifndef DM_MIGRATE_CATALOG_H
#define DM_MIGRATE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "util/error.h"

struct dm_cat_column {
    char *name;
    char *type;     /* as the release renders it */
    char *type_sql; /* how to write it in DDL (struct names quoted) */
    bool not_null;
    bool generated; /* GENERATED ALWAYS AS: computed, not stored */
};

/* A table-level or column-level constraint, in a comparable form. */
struct dm_cat_constraint {
    char kind;     /* 'P' primary key, 'U' unique, 'F' foreign key, 'C' check */
    char *columns; /* "a,b" (for C: empty) */
    char *target;  /* F: "table(a,b)" */
};

struct dm_cat_table {
    char *schema;
    char *name;
    char *sql; /* the release's CREATE TABLE */
    size_t ncols;
    struct dm_cat_column *cols;
    size_t nitems;
    char **items; /* top-level items of the CREATE TABLE's column list */
    size_t ncons;
    struct dm_cat_constraint *cons;
};

struct dm_cat_type {
    char *schema;
    char *name;
    char *kind; /* ENUM, ... */
    size_t nlabels;
    char **labels;
};

struct dm_cat_sequence {
    char *schema;
    char *name;
    int64_t next; /* the value nextval() will return */
    int64_t increment, min, max;
    bool cycle;
};

/* views, macros and indexes: named SQL objects */
struct dm_cat_object {
    char *schema;
    char *name;
    char *table; /* indexes: the table; macros: "macro" / "table_macro" */
    char *sql;   /* may be NULL when the release does not keep it */
    bool unique; /* indexes */
};

struct dm_catalog {
    bool legacy; /* read with a release before 0.9 */
    char release[24];
    size_t nschemas;
    char **schemas; /* user schemas (not main) */
    size_t ntypes;
    struct dm_cat_type *types;
    size_t nsequences;
    struct dm_cat_sequence *sequences;
    size_t ntables;
    struct dm_cat_table *tables;
    size_t nviews;
    struct dm_cat_object *views;
    size_t nmacros;
    struct dm_cat_object *macros;
    size_t nindexes;
    struct dm_cat_object *indexes;
};

/*
 * Read the catalog of the database open in e. builtin_macros (may be
 * NULL) lists macro names a blank database of the same release already
 * has; legacy releases do not mark them internal.
 */
enum dm_code dm_catalog_read(struct dm_engine *e,
                             const struct dm_rows *builtin_macros,
                             struct dm_catalog *cat, struct dm_error *err);

/* The reader's DuckDB memory_limit unless $DUCKMIG_READER_MEMORY_LIMIT
 * says otherwise: it bounds the cache of scanned blocks. */
#define DM_READER_MEMORY_LIMIT "128MB"

/*
 * Start release's engine and open path read-only, after listing the
 * macros a blank database of that release has (for dm_catalog_read).
 * On failure *e may be set and must still be stopped.
 */
enum dm_code dm_catalog_open(const char *release, const char *path,
                             struct dm_engine **e, struct dm_rows **builtin,
                             struct dm_error *err);

/* The macros a blank database of e's release has (e must be open). */
enum dm_code dm_catalog_builtin_macros(struct dm_engine *e,
                                       struct dm_rows **out,
                                       struct dm_error *err);

void dm_catalog_release(struct dm_catalog *cat);

const struct dm_cat_table *dm_catalog_find_table(const struct dm_catalog *c,
                                                 const char *schema,
                                                 const char *name);

/* Split "CREATE TABLE x(a INT, b INT, PRIMARY KEY(a))" into its items. */
bool dm_sql_table_items(const char *sql, char ***items, size_t *n);

/* Append "ident" with " doubled to out (a malloc'd string, grows). */
char *dm_sql_ident(const char *s);
/* 'literal' with ' doubled. */
char *dm_sql_literal(const char *s);

#endif
