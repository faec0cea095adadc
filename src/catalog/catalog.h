/*
 * catalog.h - what a database file holds, read through an engine worker,
 * as facts a statement can be built from.
 *
 * The same reading serves migration (the target's DDL is built from it,
 * catalog/ddl.h) and verification (source and destination compared). It
 * asks DuckDB's own catalog functions (duckdb_tables(), duckdb_columns(),
 * duckdb_constraints(), ...) and keeps what they answer as separate
 * facts: names, column types (from the type tree of a scan, with the
 * names of user types), NOT NULL, the columns of each key, the table and
 * columns a foreign key references. The SQL the file keeps (a view's
 * query, a DEFAULT, a CHECK, an index's expressions, a macro's body) is
 * kept as untrusted text: it reaches a statement only through
 * catalog/ast.h. Releases before 0.9 ("legacy") and 1.x differ in what
 * their catalog functions return; the differences are handled here.
 */
#ifndef DM_CATALOG_CATALOG_H
#define DM_CATALOG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "util/error.h"

struct dm_cat_column {
    char *name;
    char *type;     /* as the release renders it */
    char *type_sql; /* the type in DDL, built from its tree (may be NULL) */
    char *type_key; /* the type, comparable across releases */
    bool not_null;
    bool generated;     /* GENERATED ALWAYS AS: computed, not stored */
    char *default_text; /* DEFAULT, as stored (untrusted); NULL: none */
    char *gen_text;     /* the generated expression, as stored */
};

/* A PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK constraint. */
struct dm_cat_constraint {
    char kind; /* 'P', 'U', 'F', 'C' */
    size_t ncols;
    char **cols;     /* P, U, F: the constraint's columns, in order;
                      * C: the columns it reads */
    char *ref_table; /* F: the referenced table (in the same schema) */
    size_t nref;
    char **ref_cols; /* F: the referenced columns */
    char *expr;      /* C: the expression, as stored (untrusted) */
};

struct dm_cat_table {
    char *schema;
    char *name;
    char *sql; /* the release's CREATE TABLE (read, never run) */
    size_t ncols;
    struct dm_cat_column *cols;
    size_t ncons;
    struct dm_cat_constraint *cons;
    char *problem; /* why its DDL cannot be built; NULL when it can */
};

struct dm_cat_type {
    char *schema;
    char *name;
    char *kind; /* ENUM, or the kind of type an alias stands for */
    size_t nlabels;
    char **labels;
    char *type_sql; /* an alias: the type it stands for, in DDL */
    char *type_key; /* an alias: comparable across releases */
    char *problem;  /* why it cannot be built; NULL when it can */
};

struct dm_cat_sequence {
    char *schema;
    char *name;
    int64_t next; /* the value nextval() will return */
    int64_t increment, min, max;
    bool cycle;
};

/* views, macros and indexes: objects whose definition is stored SQL */
struct dm_cat_object {
    char *schema;
    char *name;
    char *table;      /* indexes: the table */
    char *sql;        /* as stored (untrusted); may be NULL */
    bool unique;      /* indexes */
    bool table_macro; /* macros: a table macro */
    char *body;       /* view: its query; macro: its body (untrusted) */
    size_t nparts;
    char **parts;      /* index: expressions; view: column aliases;
                        * macro: parameter names */
    char **defaults;   /* macro: per parameter, its default or NULL */
    bool has_defaults; /* macro: defaults known (read from EXPORT) */
    char *where;       /* index: the predicate of a partial index */
    size_t ncols;      /* view: its output columns */
    char **col_names;
    char **col_types;
    char *problem; /* why its definition cannot be read */
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

/*
 * What 0.6-0.8 keep of a macro only in EXPORT DATABASE's schema.sql: the
 * defaults of its parameters and a table macro's query. schema_sql is
 * that file; each macro's statement is found by its catalog name and
 * split by the lexer (catalog/sqltext.h), and its pieces are kept as
 * untrusted text. A macro whose statement is missing, or appears twice,
 * gets a problem instead.
 */
void dm_catalog_add_export(struct dm_catalog *cat, const char *schema_sql);

/*
 * Run the source release's EXPORT DATABASE on a copy of path (in a new
 * folder under parent, removed after) from which every table and type
 * alias is dropped first, and hand its schema.sql to
 * dm_catalog_add_export. An EXPORT that fails names every macro it could
 * not give (their problem) and is no failure: the rest of the file
 * migrates. release is path's.
 */
enum dm_code dm_catalog_export_macros(const char *release, const char *path,
                                      struct dm_catalog *cat,
                                      const char *parent, struct dm_error *err);

/* The reader's DuckDB memory_limit unless $DUCKMIG_READER_MEMORY_LIMIT
 * says otherwise: it bounds the cache of scanned blocks. */
#define DM_READER_MEMORY_LIMIT "128MB"

/*
 * Start release's engine and open path read-only, after listing the
 * macros a blank database of that release has (for dm_catalog_read;
 * 0.6-0.8 only, *builtin is NULL for 1.x, which marks them internal).
 * With seal, external access is off once the file is open, so that
 * nothing a file holds (a view run by verification) can read or write
 * other files; a reader that must still EXPORT seals itself after. On
 * failure *e may be set and must still be stopped.
 */
enum dm_code dm_catalog_open(const char *release, const char *path, bool seal,
                             struct dm_engine **e, struct dm_rows **builtin,
                             struct dm_error *err);

/*
 * The same, in an engine already started (of the file's release): the
 * database it had open is closed first, so what is read comes from disk,
 * not from what that database held.
 */
enum dm_code dm_catalog_reopen(struct dm_engine *e, const char *path, bool seal,
                               struct dm_rows **builtin, struct dm_error *err);

/* Turn external access off in e (and lock its configuration where the
 * release allows it and lock is true). */
enum dm_code dm_catalog_seal(struct dm_engine *e, bool lock,
                             struct dm_error *err);

void dm_catalog_release(struct dm_catalog *cat);

const struct dm_cat_table *dm_catalog_find_table(const struct dm_catalog *c,
                                                 const char *schema,
                                                 const char *name);

/* The SELECT list of t's stored (non-generated) columns: "a", "b". */
char *dm_stored_columns_sql(const struct dm_cat_table *t);

/*
 * The type of a column, read from the tree of a scan and the release's
 * rendering of it (which names the user types, 0.6-0.8): *sql is its DDL
 * (NULL when a user type cannot be told), *key a rendering comparable
 * across releases (ENUMs spelled with their labels).
 */
struct dm_type_node;
void dm_catalog_type(const struct dm_catalog *cat, const char *schema,
                     const struct dm_type_node *tree, const char *rendered,
                     char **sql, char **key);

/*
 * The schema of an ENUM type, other than schema, that a rendering names
 * (0.6-0.8 render a column's type by the names of its user types); NULL
 * when it names none but schema's own.
 */
const char *dm_catalog_type_elsewhere(const struct dm_catalog *cat,
                                      const char *schema, const char *rendered);

#endif
