/* verify.c - compare two catalogs, both ways, by what their definitions
 * say (see verify.h). What they compute is compared in computed.c. */
#include "verify/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/scan.h"
#include "catalog/source.h"
#include "catalog/sqltext.h"
#include "engine/registry.h"
#include "header/header.h"
#include "util/str.h"
#include "util/settings.h"

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool skipped(const struct dm_verify_opts *o, const char *kind,
                    const char *schema, const char *name)
{
    return o && o->skip &&
           dm_report_has(o->skip, kind, schema, name, DM_ITEM_NOT_CARRIED);
}

/* ---- stored SQL, made comparable -------------------------------------- */

enum piece { PIECE_EXPR, PIECE_QUERY, PIECE_GENERATED };

/*
 * What a stored piece means, as a canonical string: parsed by ast, given
 * the meaning from_release gave it (NULL: the destination's own), 0.6's
 * main.main names read as main. Text that does not parse compares as
 * text.
 */
static char *canon(struct dm_ast *ast, const char *text, enum piece kind,
                   const char *from_release, const char *macro)
{
    struct json_t *tree = NULL;
    struct dm_error e = DM_ERROR_INIT;
    if (!text)
        return NULL;
    enum dm_code rc = kind == PIECE_QUERY ? dm_ast_query(ast, text, &tree, &e)
                                          : dm_ast_expr(ast, text, &tree, &e);
    if (rc)
        return dm_fmt("text:%s", text);
    if (macro)
        dm_ast_unmangle_macro(tree, macro);
    if (from_release)
        dm_ast_keep_meaning(ast, tree, from_release);
    dm_ast_drop_main_catalog(tree);
    if (kind == PIECE_GENERATED) {
        struct json_t *inner = dm_ast_uncast(tree);
        dm_ast_free(tree);
        tree = inner;
    }
    char *out = dm_ast_canon(tree);
    dm_ast_free(tree);
    return out;
}

/* Do two pieces mean the same thing? */
static bool same_piece(struct dm_ast *ast, const char *a, const char *b,
                       enum piece kind, const char *from, const char *macro_a,
                       const char *macro_b)
{
    if (!a || !b)
        return !a && !b;
    char *x = canon(ast, a, kind, from, macro_a);
    char *y = canon(ast, b, kind, NULL, macro_b);
    bool eq = x && y && strcmp(x, y) == 0;
    free(x);
    free(y);
    return eq;
}

/* ---- schemas, types, sequences ----------------------------------------- */

static void compare_schemas(const struct dm_catalog *src,
                            const struct dm_catalog *dst,
                            const struct dm_verify_opts *o, struct dm_report *r)
{
    for (size_t i = 0; i < src->nschemas; i++) {
        bool found = false;
        for (size_t k = 0; k < dst->nschemas && !found; k++)
            found = same(src->schemas[i], dst->schemas[k]);
        if (!found && skipped(o, "schema", "", src->schemas[i]))
            continue;
        dm_report_add(r, "schema", "", src->schemas[i],
                      found ? DM_ITEM_OK : DM_ITEM_MISSING, "%s",
                      found ? "present" : "not in the destination");
    }
    for (size_t k = 0; k < dst->nschemas; k++) {
        bool found = false;
        for (size_t i = 0; i < src->nschemas && !found; i++)
            found = same(src->schemas[i], dst->schemas[k]);
        if (!found)
            dm_report_add(r, "schema", "", dst->schemas[k], DM_ITEM_EXTRA,
                          "only in the destination");
    }
}

static const struct dm_cat_type *find_type(const struct dm_catalog *c,
                                           const char *schema, const char *name)
{
    for (size_t k = 0; k < c->ntypes; k++)
        if (same(schema, c->types[k].schema) && same(name, c->types[k].name))
            return &c->types[k];
    return NULL;
}

static void compare_types(const struct dm_catalog *src,
                          const struct dm_catalog *dst,
                          const struct dm_verify_opts *o, struct dm_report *r)
{
    for (size_t i = 0; i < src->ntypes; i++) {
        const struct dm_cat_type *a = &src->types[i];
        const struct dm_cat_type *b = find_type(dst, a->schema, a->name);
        if (!b && skipped(o, "type", a->schema, a->name))
            continue;
        bool labels = b && a->nlabels == b->nlabels && same(a->kind, b->kind);
        for (size_t k = 0; labels && k < a->nlabels; k++)
            labels = same(a->labels[k], b->labels[k]);
        bool alias = b && same(a->type_key, b->type_key);
        if (!b)
            dm_report_add(r, "type", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
        else if (!labels || !alias)
            dm_report_add(r, "type", a->schema, a->name, DM_ITEM_MISMATCH,
                          "%s%s, destination: %s%s", a->kind,
                          a->type_key ? a->type_key : "", b->kind,
                          !labels       ? " with other labels"
                          : b->type_key ? b->type_key
                                        : "");
        else if (same(a->kind, "ENUM"))
            dm_report_add(r, "type", a->schema, a->name, DM_ITEM_OK,
                          "ENUM with %zu labels", a->nlabels);
        else
            dm_report_add(r, "type", a->schema, a->name, DM_ITEM_OK,
                          "alias of %s", a->type_key ? a->type_key : "?");
    }
    for (size_t k = 0; k < dst->ntypes; k++)
        if (!find_type(src, dst->types[k].schema, dst->types[k].name))
            dm_report_add(r, "type", dst->types[k].schema, dst->types[k].name,
                          DM_ITEM_EXTRA, "only in the destination");
}

static const struct dm_cat_sequence *
find_sequence(const struct dm_catalog *c, const char *schema, const char *name)
{
    for (size_t k = 0; k < c->nsequences; k++)
        if (same(schema, c->sequences[k].schema) &&
            same(name, c->sequences[k].name))
            return &c->sequences[k];
    return NULL;
}

static void compare_sequences(const struct dm_catalog *src,
                              const struct dm_catalog *dst,
                              const struct dm_verify_opts *o,
                              struct dm_report *r)
{
    for (size_t i = 0; i < src->nsequences; i++) {
        const struct dm_cat_sequence *a = &src->sequences[i];
        const struct dm_cat_sequence *b =
            find_sequence(dst, a->schema, a->name);
        if (!b && skipped(o, "sequence", a->schema, a->name))
            continue;
        if (!b)
            dm_report_add(r, "sequence", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
        else if (a->next != b->next || a->increment != b->increment ||
                 a->min != b->min || a->max != b->max || a->cycle != b->cycle)
            dm_report_add(r, "sequence", a->schema, a->name, DM_ITEM_MISMATCH,
                          "next value %lld, destination %lld",
                          (long long)a->next, (long long)b->next);
        else
            dm_report_add(r, "sequence", a->schema, a->name, DM_ITEM_OK,
                          "next value %lld", (long long)a->next);
    }
    for (size_t k = 0; k < dst->nsequences; k++)
        if (!find_sequence(src, dst->sequences[k].schema,
                           dst->sequences[k].name))
            dm_report_add(r, "sequence", dst->sequences[k].schema,
                          dst->sequences[k].name, DM_ITEM_EXTRA,
                          "only in the destination");
}

/* ---- tables ------------------------------------------------------------- */

static void add_list(struct dm_sbuf *b, char **names, size_t n)
{
    dm_sbuf_add(b, "(");
    for (size_t i = 0; i < n; i++) {
        if (i)
            dm_sbuf_add(b, ", ");
        dm_sbuf_add_owned(b, dm_sql_ident(names[i]));
    }
    dm_sbuf_add(b, ")");
}

/* A constraint as a comparable string (a CHECK by what it parses to) and
 * as a name for the report. */
static char *constraint_key(struct dm_ast *ast,
                            const struct dm_cat_constraint *c, const char *from,
                            bool label)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    switch (c->kind) {
    case 'P':
    case 'U':
        dm_sbuf_add(&b, c->kind == 'P' ? "PRIMARY KEY " : "UNIQUE ");
        add_list(&b, c->cols, c->ncols);
        break;
    case 'F':
        dm_sbuf_add(&b, "FOREIGN KEY ");
        add_list(&b, c->cols, c->ncols);
        dm_sbuf_add(&b, " REFERENCES ");
        dm_sbuf_add_owned(&b, dm_sql_ident(c->ref_table ? c->ref_table : ""));
        add_list(&b, c->ref_cols, c->nref);
        break;
    default:
        dm_sbuf_add(&b, "CHECK ");
        if (label)
            dm_sbuf_add(&b, c->expr ? c->expr : "?");
        else
            dm_sbuf_add_owned(&b, canon(ast, c->expr, PIECE_EXPR, from, NULL));
    }
    return dm_sbuf_take(&b);
}

static void
compare_constraints(struct dm_ast *ast, const struct dm_catalog *src,
                    const struct dm_cat_table *a, const struct dm_cat_table *b,
                    const struct dm_verify_opts *o, struct dm_report *r)
{
    bool *used = calloc(b->ncons ? b->ncons : 1, sizeof(bool));
    char **bkeys = calloc(b->ncons ? b->ncons : 1, sizeof(char *));
    if (!used || !bkeys)
        goto out;
    for (size_t k = 0; k < b->ncons; k++)
        bkeys[k] = constraint_key(ast, &b->cons[k], NULL, false);
    for (size_t i = 0; i < a->ncons; i++) {
        const struct dm_cat_constraint *c = &a->cons[i];
        char *key = constraint_key(ast, c, src->release, false);
        char *label = constraint_key(ast, c, NULL, true);
        char named[1024];
        snprintf(named, sizeof(named), "%s %s", a->name, label ? label : "?");
        if (skipped(o, "constraint", a->schema, named)) {
            free(key);
            free(label);
            continue;
        }
        bool found = false;
        for (size_t k = 0; key && k < b->ncons && !found; k++)
            if (!used[k] && bkeys[k] && strcmp(key, bkeys[k]) == 0)
                found = used[k] = true;
        char name[1024];
        snprintf(name, sizeof(name), "%s %s", a->name, label ? label : "?");
        dm_report_add(r, "constraint", a->schema, name,
                      found ? DM_ITEM_OK : DM_ITEM_MISSING, "%s",
                      found ? "present" : "not in the destination");
        if (c->kind == 'P' || c->kind == 'U') {
            r->indexes_expected++;
            r->indexes_present += found;
        }
        free(key);
        free(label);
    }
    for (size_t k = 0; k < b->ncons; k++) {
        if (used[k])
            continue;
        char *label = constraint_key(ast, &b->cons[k], NULL, true);
        char name[1024];
        snprintf(name, sizeof(name), "%s %s", b->name, label ? label : "?");
        dm_report_add(r, "constraint", b->schema, name, DM_ITEM_EXTRA,
                      "only in the destination");
        free(label);
    }
out:
    for (size_t k = 0; bkeys && k < b->ncons; k++)
        free(bkeys[k]);
    free(bkeys);
    free(used);
}

static void compare_tables(struct dm_ast *ast, const struct dm_catalog *src,
                           const struct dm_catalog *dst,
                           const struct dm_verify_opts *o, struct dm_report *r)
{
    for (size_t i = 0; i < src->ntables; i++) {
        const struct dm_cat_table *a = &src->tables[i];
        const struct dm_cat_table *b =
            dm_catalog_find_table(dst, a->schema, a->name);
        if (!b && skipped(o, "table", a->schema, a->name))
            continue;
        if (!b) {
            dm_report_add(r, "table", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
            continue;
        }
        char why[1024] = "";
        if (a->ncols != b->ncols)
            snprintf(why, sizeof(why), "%zu columns, destination has %zu",
                     a->ncols, b->ncols);
        for (size_t c = 0; !why[0] && c < a->ncols; c++) {
            const struct dm_cat_column *x = &a->cols[c], *y = &b->cols[c];
            if (!same(x->name, y->name))
                snprintf(why, sizeof(why), "column %zu is \"%s\", not \"%s\"",
                         c + 1, y->name, x->name);
            else if (!same(x->type_key, y->type_key))
                snprintf(why, sizeof(why), "column \"%s\" is %s, not %s",
                         x->name, y->type_key, x->type_key);
            else if (x->not_null != y->not_null)
                snprintf(why, sizeof(why), "column \"%s\" NOT NULL differs",
                         x->name);
            else if (x->generated != y->generated)
                snprintf(why, sizeof(why),
                         "column \"%s\" generated-ness differs", x->name);
            else if (!same_piece(ast, x->default_text, y->default_text,
                                 PIECE_EXPR, src->release, NULL, NULL))
                snprintf(why, sizeof(why),
                         "the DEFAULT of column \"%s\" is %s, not %s", x->name,
                         y->default_text ? y->default_text : "none",
                         x->default_text ? x->default_text : "none");
            else if (!same_piece(ast, x->gen_text, y->gen_text, PIECE_GENERATED,
                                 src->release, NULL, NULL))
                snprintf(why, sizeof(why),
                         "column \"%s\" is generated as %s, not %s", x->name,
                         y->gen_text ? y->gen_text : "nothing",
                         x->gen_text ? x->gen_text : "nothing");
        }
        if (why[0])
            dm_report_add(r, "table", a->schema, a->name, DM_ITEM_MISMATCH,
                          "%s", why);
        else
            dm_report_add(r, "table", a->schema, a->name, DM_ITEM_OK,
                          "%zu columns", a->ncols);
        compare_constraints(ast, src, a, b, o, r);
    }
    for (size_t k = 0; k < dst->ntables; k++)
        if (!dm_catalog_find_table(src, dst->tables[k].schema,
                                   dst->tables[k].name))
            dm_report_add(r, "table", dst->tables[k].schema,
                          dst->tables[k].name, DM_ITEM_EXTRA,
                          "only in the destination");
}

/* ---- views, macros, indexes ------------------------------------------- */

static const struct dm_cat_object *find_object(const struct dm_cat_object *v,
                                               size_t n, const char *schema,
                                               const char *name, int macro)
{
    for (size_t k = 0; k < n; k++)
        if (same(schema, v[k].schema) && same(name, v[k].name) &&
            (macro < 0 || v[k].table_macro == (macro == 1)))
            return &v[k];
    return NULL;
}

static bool same_names(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!same(a[i], b[i]))
            return false;
    return true;
}

static void compare_views(struct dm_ast *ast, const struct dm_catalog *src,
                          const struct dm_catalog *dst,
                          const struct dm_verify_opts *o, struct dm_report *r)
{
    for (size_t i = 0; i < src->nviews; i++) {
        const struct dm_cat_object *a = &src->views[i];
        const struct dm_cat_object *b =
            find_object(dst->views, dst->nviews, a->schema, a->name, -1);
        if (!b && skipped(o, "view", a->schema, a->name))
            continue;
        if (!b) {
            dm_report_add(r, "view", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
        } else if (!same_names(a->col_names, a->ncols, b->col_names,
                               b->ncols)) {
            dm_report_add(r, "view", a->schema, a->name, DM_ITEM_MISMATCH,
                          "its columns differ (%zu, destination %zu)", a->ncols,
                          b->ncols);
        } else if (!same_piece(ast, a->body, b->body, PIECE_QUERY, src->release,
                               NULL, NULL)) {
            dm_report_add(r, "view", a->schema, a->name, DM_ITEM_MISMATCH,
                          "its query differs");
        } else {
            dm_report_add(r, "view", a->schema, a->name, DM_ITEM_OK,
                          "same query, %zu columns", a->ncols);
        }
    }
    for (size_t k = 0; k < dst->nviews; k++)
        if (!find_object(src->views, src->nviews, dst->views[k].schema,
                         dst->views[k].name, -1))
            dm_report_add(r, "view", dst->views[k].schema, dst->views[k].name,
                          DM_ITEM_EXTRA, "only in the destination");
}

static void compare_macros(struct dm_ast *ast, const struct dm_catalog *src,
                           const struct dm_catalog *dst,
                           const struct dm_verify_opts *o, struct dm_report *r)
{
    for (size_t i = 0; i < src->nmacros; i++) {
        const struct dm_cat_object *a = &src->macros[i];
        const struct dm_cat_object *b = find_object(
            dst->macros, dst->nmacros, a->schema, a->name, a->table_macro);
        const char *kind = a->table_macro ? "table macro" : "macro";
        if (!b && skipped(o, "macro", a->schema, a->name))
            continue;
        if (!b) {
            dm_report_add(r, "macro", a->schema, a->name, DM_ITEM_MISSING,
                          "%s not in the destination", kind);
            continue;
        }
        enum piece p = a->table_macro ? PIECE_QUERY : PIECE_EXPR;
        /* 0.6-0.8 keep no table macro's query outside EXPORT: what it
         * returns is compared by probes (computed.c) */
        bool body = !a->body || !b->body ||
                    same_piece(ast, a->body, b->body, p, src->release, a->name,
                               b->name);
        if (!same_names(a->parts, a->nparts, b->parts, b->nparts))
            dm_report_add(r, "macro", a->schema, a->name, DM_ITEM_MISMATCH,
                          "its parameters differ");
        else if (!body)
            dm_report_add(r, "macro", a->schema, a->name, DM_ITEM_MISMATCH,
                          "its body differs");
        else
            dm_report_add(r, "macro", a->schema, a->name, DM_ITEM_OK,
                          "%s, %zu parameters%s", kind, a->nparts,
                          a->body && b->body ? ", same body" : "");
    }
    for (size_t k = 0; k < dst->nmacros; k++) {
        const struct dm_cat_object *b = &dst->macros[k];
        if (!find_object(src->macros, src->nmacros, b->schema, b->name,
                         b->table_macro))
            dm_report_add(r, "macro", b->schema, b->name, DM_ITEM_EXTRA,
                          "%s only in the destination",
                          b->table_macro ? "table macro" : "macro");
    }
}

static bool same_index(struct dm_ast *ast, const struct dm_catalog *src,
                       const struct dm_cat_object *a,
                       const struct dm_cat_object *b)
{
    if (!same(a->table, b->table) || a->unique != b->unique ||
        a->nparts != b->nparts || !a->where != !b->where)
        return false;
    for (size_t i = 0; i < a->nparts; i++)
        if (!same_piece(ast, a->parts[i], b->parts[i], PIECE_EXPR, src->release,
                        NULL, NULL))
            return false;
    return !a->where || same_piece(ast, a->where, b->where, PIECE_EXPR,
                                   src->release, NULL, NULL);
}

static void compare_indexes(struct dm_ast *ast, const struct dm_catalog *src,
                            const struct dm_catalog *dst,
                            const struct dm_verify_opts *o, struct dm_report *r)
{
    for (size_t i = 0; i < src->nindexes; i++) {
        const struct dm_cat_object *a = &src->indexes[i];
        const struct dm_cat_object *b =
            find_object(dst->indexes, dst->nindexes, a->schema, a->name, -1);
        if (!b && skipped(o, "index", a->schema, a->name))
            continue;
        r->indexes_expected++;
        if (!b) {
            dm_report_add(r, "index", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
        } else if (!same_index(ast, src, a, b)) {
            dm_report_add(r, "index", a->schema, a->name, DM_ITEM_MISMATCH,
                          "on %s%s, source: on %s%s (or other expressions)",
                          b->table, b->unique ? " (unique)" : "", a->table,
                          a->unique ? " (unique)" : "");
        } else {
            r->indexes_present++;
            dm_report_add(r, "index", a->schema, a->name, DM_ITEM_OK, "%s",
                          a->unique ? "unique index" : "index");
        }
    }
    for (size_t k = 0; k < dst->nindexes; k++)
        if (!find_object(src->indexes, src->nindexes, dst->indexes[k].schema,
                         dst->indexes[k].name, -1))
            dm_report_add(r, "index", dst->indexes[k].schema,
                          dst->indexes[k].name, DM_ITEM_EXTRA,
                          "only in the destination");
}

void dm_verify_catalog(struct dm_ast *ast, const struct dm_catalog *src,
                       const struct dm_catalog *dst,
                       const struct dm_verify_opts *o, struct dm_report *r)
{
    compare_schemas(src, dst, o, r);
    compare_types(src, dst, o, r);
    compare_sequences(src, dst, o, r);
    compare_tables(ast, src, dst, o, r);
    compare_macros(ast, src, dst, o, r);
    compare_views(ast, src, dst, o, r);
    compare_indexes(ast, src, dst, o, r);
}

void dm_verify_table_data(const struct dm_cat_table *t,
                          const struct dm_table_print *src,
                          const struct dm_table_print *dst, struct dm_report *r)
{
    r->tables++;
    r->rows += src->rows;
    if (src->rows != dst->rows) {
        dm_report_add(r, "data", t->schema, t->name, DM_ITEM_MISMATCH,
                      "%llu rows, destination has %llu",
                      (unsigned long long)src->rows,
                      (unsigned long long)dst->rows);
        return;
    }
    size_t nstored = 0;
    for (size_t i = 0; i < t->ncols; i++)
        nstored += !t->cols[i].generated;
    if (src->ncols != nstored || dst->ncols != nstored) {
        dm_report_add(r, "data", t->schema, t->name, DM_ITEM_MISMATCH,
                      "%zu stored columns, fingerprinted %zu in the source "
                      "and %zu in the destination",
                      nstored, src->ncols, dst->ncols);
        return;
    }
    size_t stored = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        const struct dm_fingerprint *a = &src->cols[stored];
        const struct dm_fingerprint *b = &dst->cols[stored];
        stored++;
        if (a->nulls != b->nulls || a->sum != b->sum || a->xor_ != b->xor_) {
            dm_report_add(r, "data", t->schema, t->name, DM_ITEM_MISMATCH,
                          "column \"%s\" differs (%llu/%llu NULLs)",
                          t->cols[i].name, (unsigned long long)a->nulls,
                          (unsigned long long)b->nulls);
            return;
        }
    }
    dm_report_add(r, "data", t->schema, t->name, DM_ITEM_OK,
                  "%llu rows, %zu columns fingerprinted",
                  (unsigned long long)src->rows, stored);
}

/* ---- whole files -------------------------------------------------------- */

/* Start the engine that opens path and open it read-only (a 0.6-0.8 file
 * with a WAL: a replayed copy of it, in source). */
static enum dm_code open_side(const char *path, bool ignore_wal, bool seal,
                              struct dm_source *source, struct dm_engine **e,
                              struct dm_rows **builtin, struct dm_error *err)
{
    struct dm_header_info info;
    char release[DM_RELEASE_MAX];
    enum dm_code rc = dm_header_read_file(path, &info, NULL, err);
    if (rc)
        return rc;
    if (!dm_header_checksums_ok(&info))
        return dm_fail(err, DM_ERR_CHECKSUM, "%s: header checksum mismatch",
                       path);
    if (info.encrypted)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s is encrypted", path);
    if (!dm_engine_for_storage(info.storage_version, release))
        return dm_fail(err, DM_ERR_ENGINE,
                       "%s: no installed engine opens storage version %llu",
                       path, (unsigned long long)info.storage_version);
    rc = dm_source_prepare(path, release, NULL, ignore_wal, source, err);
    if (rc)
        return rc;
    return dm_catalog_open(release, source->path, seal, e, builtin, err);
}

enum dm_code dm_verify_files(const char *src, const char *dst,
                             const struct dm_verify_opts *o,
                             struct dm_report *r, struct dm_error *err)
{
    struct dm_engine *es = NULL, *ed = NULL;
    struct dm_rows *bs = NULL, *bd = NULL;
    struct dm_ast *ast = NULL;
    struct dm_catalog cs, cd;
    struct dm_source ss, sd;
    bool have_cs = false, have_cd = false;
    memset(&ss, 0, sizeof(ss));
    memset(&sd, 0, sizeof(sd));
    enum dm_code rc = open_side(src, false, true, &ss, &es, &bs, err);
    if (!rc)
        rc = open_side(dst, false, true, &sd, &ed, &bd, err);
    if (!rc)
        rc = dm_catalog_read(es, bs, &cs, err);
    have_cs = !rc;
    if (!rc && cs.legacy && cs.nmacros) {
        char *tmp =
            dm_fmt("%s/duckmig-verify-XXXXXX", dm_setting(DM_SET_TMPDIR));
        if (!tmp || !mkdtemp(tmp)) {
            rc = dm_fail(err, DM_ERR_IO,
                         "cannot create a folder for the "
                         "source's EXPORT");
        } else {
            /* 0.6-0.8 keep a table macro's query and the defaults only
             * in EXPORT */
            rc = dm_catalog_export_macros(cs.release, ss.path, &cs, tmp, err);
            rmdir(tmp);
        }
        free(tmp);
    }
    if (!rc)
        rc = dm_catalog_read(ed, bd, &cd, err);
    have_cd = !rc;
    if (!rc)
        rc = dm_ast_open(ed, &ast, err);
    if (rc)
        goto out;
    dm_verify_catalog(ast, &cs, &cd, o, r);
    for (size_t i = 0; !rc && i < cs.ntables; i++) {
        const struct dm_cat_table *t = &cs.tables[i];
        const struct dm_cat_table *u =
            dm_catalog_find_table(&cd, t->schema, t->name);
        if (!u)
            continue;
        struct dm_table_print a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        rc = dm_table_fingerprint(es, t, &a, err);
        if (!rc)
            rc = dm_table_fingerprint(ed, u, &b, err);
        if (!rc)
            dm_verify_table_data(t, &a, &b, r);
        dm_table_print_release(&a);
        dm_table_print_release(&b);
    }
    if (!rc)
        rc = dm_verify_computed(es, ed, &cs, &cd, o, r, err);
out:
    dm_ast_close(ast);
    if (have_cd)
        dm_catalog_release(&cd);
    if (have_cs)
        dm_catalog_release(&cs);
    dm_rows_free(bd);
    dm_rows_free(bs);
    dm_engine_stop(ed);
    dm_engine_stop(es);
    dm_source_remove(&sd);
    dm_source_remove(&ss);
    return rc;
}

enum dm_code dm_verify_readable(const char *path, bool ignore_wal,
                                struct dm_report *r, struct dm_error *err)
{
    struct dm_engine *e = NULL;
    struct dm_rows *builtin = NULL;
    struct dm_catalog cat;
    struct dm_source s;
    bool have = false;
    memset(&s, 0, sizeof(s));
    enum dm_code rc = open_side(path, ignore_wal, true, &s, &e, &builtin, err);
    if (!rc)
        rc = dm_catalog_read(e, builtin, &cat, err);
    have = !rc;
    for (size_t i = 0; !rc && i < cat.ntables; i++) {
        struct dm_table_print p;
        memset(&p, 0, sizeof(p));
        rc = dm_table_fingerprint(e, &cat.tables[i], &p, err);
        if (!rc) {
            r->tables++;
            r->rows += p.rows;
            dm_report_add(r, "data", cat.tables[i].schema, cat.tables[i].name,
                          DM_ITEM_OK, "%llu rows read",
                          (unsigned long long)p.rows);
        }
        dm_table_print_release(&p);
    }
    if (rc && err->code && err->code != DM_ERR_DAMAGED &&
        err->code != DM_ERR_NOMEM && err->code != DM_ERR_RESOURCE &&
        err->code != DM_ERR_IO) {
        /* a file that does not read whole is damaged, whatever DuckDB
         * called it: a permanent failure, never a retry */
        char why[DM_ERROR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err->msg);
        dm_error_clear(err);
        rc = dm_fail(err, DM_ERR_DAMAGED, "%s cannot be read whole: %s", path,
                     why);
    }
    if (have)
        dm_catalog_release(&cat);
    dm_rows_free(builtin);
    dm_engine_stop(e);
    dm_source_remove(&s);
    return rc;
}
