/*
 * ast.h - stored SQL parsed by DuckDB itself, checked, and rendered back.
 *
 * A view's query, a macro's body, a DEFAULT, CHECK, generated-column or
 * index expression is text taken from a source file: untrusted. Before
 * duckmig puts such a piece into a statement, a DuckDB release parses it
 * (json_serialize_sql, 0.8+) and duckmig checks the parse: exactly one
 * SELECT statement for a query; for an expression, exactly one select
 * item with no FROM, WHERE, alias or anything else. The piece that goes
 * into the statement is then DuckDB's own rendering of that parse
 * (json_deserialize_sql), and it must parse back to the same tree. So
 * what runs is exactly the tree that was checked, whatever quotes,
 * comments or semicolons the stored text held.
 *
 * The same parses make definitions comparable across releases
 * (dm_ast_canon), and carry the meaning of SQL whose semantics changed
 * between releases (dm_ast_keep_meaning; docs/migration.md lists them).
 *
 *   struct dm_ast *a;
 *   dm_ast_open(engine, &a, &err);      engine: 0.8 or later, open
 *   dm_ast_expr(a, "x + 1", &tree, &err);
 *   dm_ast_render_expr(a, tree, &sql, &err);      "(x + 1)"
 *   dm_ast_close(a);
 */
#ifndef DM_CATALOG_AST_H
#define DM_CATALOG_AST_H

#include <stdbool.h>

#include "engine/engine.h"
#include "util/error.h"

struct json_t;
struct dm_ast;

/* Can release parse and render SQL as JSON (0.8 and later)? */
bool dm_ast_release_ok(const char *release);

/*
 * A parser on e (open), which it does not own; when e's release cannot
 * parse into a tree (before 0.8, or built without JSON), the newest
 * installed release that can does, in a worker of its own (no file).
 */
enum dm_code dm_ast_open(struct dm_engine *e, struct dm_ast **out,
                         struct dm_error *err);
void dm_ast_close(struct dm_ast *a);
const char *dm_ast_release(const struct dm_ast *a);

/* Parse text as exactly one query (a SELECT, set operation or CTE);
 * *node gets the query node. DM_ERR_SQL with DuckDB's reason otherwise. */
enum dm_code dm_ast_query(struct dm_ast *a, const char *text,
                          struct json_t **node, struct dm_error *err);
/* Parse text as exactly one expression. */
enum dm_code dm_ast_expr(struct dm_ast *a, const char *text,
                         struct json_t **expr, struct dm_error *err);

/* DuckDB's rendering of a query node or an expression, checked to parse
 * back to the same tree. */
enum dm_code dm_ast_render_query(struct dm_ast *a, struct json_t *node,
                                 char **sql, struct dm_error *err);
enum dm_code dm_ast_render_expr(struct dm_ast *a, struct json_t *expr,
                                char **sql, struct dm_error *err);

/* Parse, then render: the checked form of a stored piece. */
enum dm_code dm_ast_checked_query(struct dm_ast *a, const char *text,
                                  char **sql, struct dm_error *err);
enum dm_code dm_ast_checked_expr(struct dm_ast *a, const char *text, char **sql,
                                 struct dm_error *err);

/*
 * A canonical string of a tree, for comparing definitions: positions
 * dropped, keys sorted, and spellings that mean the same thing in every
 * release brought to one (a built-in function called as main.f or f).
 */
char *dm_ast_canon(struct json_t *tree);

/* What dm_ast_keep_meaning changed (bits). */
enum dm_ast_changes {
    DM_AST_INT_DIVISION = 1 << 0, /* '/' written as '//' */
    DM_AST_NULLS_FIRST = 1 << 1,  /* ORDER BY given its old NULLS FIRST */
    DM_AST_ZERO_DIVISOR = 1 << 2, /* x / NULLIF(y, 0), x % NULLIF(y, 0) */
};

/*
 * Keep the meaning SQL written for DuckDB from_release had, in the
 * parser's release (docs/migration.md has the table): before 0.8, '/'
 * divided integers as integers (now '//', which also gives what '/' gave
 * for every other numeric type) and NULLs sorted first, in ORDER BY,
 * window and aggregate orders and list_sort (now last); before 1.1, a
 * floating-point division or modulo by zero gave NULL (now inf or NaN).
 * Returns what it changed.
 */
unsigned dm_ast_keep_meaning(struct dm_ast *a, struct json_t *tree,
                             const char *from_release);
/* A short description of changes, e.g. "'/' kept as '//'". */
const char *dm_ast_changes_text(unsigned changes, char *buf, size_t n);

/*
 * 0.6-0.8 duckdb_functions() render a macro's parameters as
 * "0_macro_parameters<name>".p: bring them back to p.
 */
void dm_ast_unmangle_macro(struct json_t *tree, const char *macro_name);
/* main.main.t (0.6's three-part name for the default database) -> main.t;
 * returns how many names it changed. */
unsigned dm_ast_drop_main_catalog(struct json_t *tree);

/* The expression inside any CASTs (not TRY_CASTs) at the top of tree:
 * a generated column's expression is stored cast to the column's type by
 * some releases and not by others. Returns a new reference. */
struct json_t *dm_ast_uncast(struct json_t *tree);

/* json_decref, for callers that do not include jansson. */
void dm_ast_free(struct json_t *tree);

#endif
