/*
 * computed.c - what definitions compute, compared: each view's columns
 * and rows, each macro called on probe arguments, the values of generated
 * columns and of DEFAULTs (see verify.h).
 *
 * Rows are compared by an order-independent fingerprint (engine/vec.h).
 * FLOAT and DOUBLE columns of a view are fingerprinted at 12 significant
 * digits: an aggregate sums in whatever order its threads finish, and
 * the last bits of such a sum differ from run to run and release to
 * release. A query whose source result differs between two runs (random,
 * now, an unordered LIMIT) is reported as such, with its columns
 * compared and its rows not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/sqltext.h"
#include "util/settings.h"
#include "util/str.h"
#include "verify/verify.h"

/* One query's outcome on one side: its columns and fingerprint, or the
 * reason it did not run. */
struct outcome {
    bool failed;
    char error[DM_ERROR_MSG_MAX];
    size_t ncols;
    char *types; /* the column types, comparable ("INTEGER, VARCHAR") */
    struct dm_table_print print;
    bool over_budget;
};

static void outcome_release(struct outcome *o)
{
    free(o->types);
    dm_table_print_release(&o->print);
    memset(o, 0, sizeof(*o));
}

static int keep_types(void *ctx, const struct dm_scan_schema *schema)
{
    struct outcome *o = ctx;
    struct dm_sbuf b = DM_SBUF_INIT;
    for (size_t i = 0; i < schema->ncols; i++) {
        char *sql = NULL, *key = NULL;
        /* no catalog: ENUMs compare by tree, labels are the catalog's */
        dm_catalog_type(NULL, NULL, &schema->types[i], NULL, &sql, &key);
        if (i)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add(&b, key ? key : "?");
        free(sql);
        free(key);
    }
    free(o->types);
    o->types = dm_sbuf_take(&b);
    /* 0.6-0.8's C API calls TIMETZ and TIMESTAMPTZ plain TIME and
     * TIMESTAMP: the types compare without the zone (the values, hashed
     * in one form, still tell a zone apart) */
    static const char *const zoned[] = {" WITH TIME ZONE"};
    for (char *z; o->types && (z = strstr(o->types, zoned[0]));)
        memmove(z, z + strlen(zoned[0]), strlen(z + strlen(zoned[0])) + 1);
    o->ncols = schema->ncols;
    return 0;
}

static uint64_t view_rows(const struct dm_verify_opts *o)
{
    if (o && o->view_rows)
        return o->view_rows;
    return dm_setting_u64(DM_SET_VIEW_ROWS);
}

/*
 * Run sql on e: no more than budget rows are fingerprinted (a count of
 * at most budget + 1 rows first, when budget is set).
 */
static void run(struct dm_engine *e, const char *sql, uint64_t budget,
                struct outcome *out)
{
    struct dm_error err = DM_ERROR_INIT;
    memset(out, 0, sizeof(*out));
    if (budget) {
        struct dm_rows *rows = NULL;
        char *count = dm_fmt("SELECT count(*) FROM (SELECT 1 FROM (%s) AS q "
                             "LIMIT %llu) AS c",
                             sql, (unsigned long long)budget + 1);
        enum dm_code rc = count ? dm_engine_query_one(e, count, &rows, &err)
                                : dm_fail(&err, DM_ERR_NOMEM, "out of memory");
        free(count);
        if (!rc) {
            const char *n = dm_rows_get(rows, 0, 0);
            uint64_t rows_seen;
            out->over_budget =
                n && dm_parse_u64(n, &rows_seen) && rows_seen > budget;
        }
        dm_rows_free(rows);
        if (rc) {
            out->failed = true;
            snprintf(out->error, sizeof(out->error), "%s", err.msg);
            return;
        }
    }
    /* an over-budget result is described only: LIMIT 0 */
    char *q = out->over_budget ? dm_fmt("SELECT * FROM (%s) AS q LIMIT 0", sql)
                               : strdup(sql);
    if (!q || dm_engine_scan(e, q, DM_SCAN_PRINT, keep_types, out, &out->print,
                             &err) != DM_OK) {
        out->failed = true;
        snprintf(out->error, sizeof(out->error), "%s",
                 q ? err.msg : "out of memory");
        char *nl = strchr(out->error, '\n');
        if (nl)
            *nl = '\0';
    }
    free(q);
}

/* Did the query return nothing but NULLs (or no rows)? */
static bool all_null(const struct outcome *o)
{
    for (size_t i = 0; i < o->print.ncols; i++)
        if (o->print.cols[i].nulls != o->print.rows)
            return false;
    return !o->over_budget;
}

static bool same_print(const struct dm_table_print *a,
                       const struct dm_table_print *b)
{
    if (a->rows != b->rows || a->ncols != b->ncols)
        return false;
    for (size_t i = 0; i < a->ncols; i++)
        if (a->cols[i].nulls != b->cols[i].nulls ||
            a->cols[i].sum != b->cols[i].sum ||
            a->cols[i].xor_ != b->cols[i].xor_)
            return false;
    return true;
}

/*
 * Compare sql_s on the source with sql_d on the destination into r as
 * kind schema.name. The source runs twice when the results differ: a
 * query that differs from itself is not compared by rows. A difference
 * in what a definition computes, when the definitions were found alike,
 * is CHANGED (the target release computes it differently), else MISMATCH.
 */
static void compare_query(struct dm_engine *es, struct dm_engine *ed,
                          const char *sql_s, const char *sql_d, uint64_t budget,
                          const char *kind, const char *schema,
                          const char *name, bool defs_alike,
                          struct dm_report *r, const char *what)
{
    struct outcome a, b, again;
    run(es, sql_s, budget, &a);
    run(ed, sql_d, budget, &b);
    enum dm_item_status differs =
        defs_alike ? DM_ITEM_CHANGED : DM_ITEM_MISMATCH;
    const char *dst_release = dm_engine_release(ed);
    if (a.failed && b.failed) {
        dm_report_add(r, kind, schema, name, DM_ITEM_OK,
                      "%s runs on neither side (source: %s)", what, a.error);
    } else if (a.failed || b.failed) {
        dm_report_add(r, kind, schema, name, differs, "%s runs %s (%s)", what,
                      a.failed ? "in the destination only"
                               : "in the source only",
                      a.failed ? a.error : b.error);
    } else if ((!a.types || !b.types || strcmp(a.types, b.types) != 0) &&
               !(all_null(&a) && all_null(&b))) {
        /* (a NULL is a NULL: releases type an untyped NULL differently) */
        dm_report_add(r, kind, schema, name, differs,
                      "%s returns %s in DuckDB %s, %s in the source", what,
                      b.types ? b.types : "?", dst_release,
                      a.types ? a.types : "?");
    } else if (a.over_budget || b.over_budget) {
        dm_report_add(r, kind, schema, name, DM_ITEM_OK,
                      "%s: same columns; more than %llu rows, not compared",
                      what, (unsigned long long)budget);
    } else if (same_print(&a.print, &b.print) ||
               (all_null(&a) && all_null(&b) && a.print.rows == b.print.rows)) {
        dm_report_add(r, kind, schema, name, DM_ITEM_OK,
                      "%s: same columns, same %llu rows", what,
                      (unsigned long long)a.print.rows);
    } else {
        run(es, sql_s, budget, &again);
        if (!again.failed && !same_print(&a.print, &again.print))
            dm_report_add(r, kind, schema, name, DM_ITEM_OK,
                          "%s: same columns; its rows differ from run to run "
                          "in the source, not compared",
                          what);
        else
            dm_report_add(r, kind, schema, name, differs,
                          "%s returns other values in DuckDB %s (%llu rows, "
                          "source %llu)",
                          what, dst_release, (unsigned long long)b.print.rows,
                          (unsigned long long)a.print.rows);
        outcome_release(&again);
    }
    outcome_release(&a);
    outcome_release(&b);
}

static bool is_float(const char *type)
{
    return type && (strcmp(type, "DOUBLE") == 0 || strcmp(type, "FLOAT") == 0 ||
                    strcmp(type, "REAL") == 0);
}

/* SELECT the view's columns, floats at 12 significant digits. */
static char *view_select(const struct dm_cat_object *v)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    bool floats = false;
    for (size_t i = 0; i < v->ncols; i++)
        floats |= is_float(v->col_types[i]);
    for (size_t i = 0; floats && i < v->ncols; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(v->col_names[i], v->col_names[k]) == 0)
                floats = false; /* a name twice: SELECT * it is */
    dm_sbuf_add(&b, "SELECT ");
    if (!floats)
        dm_sbuf_add(&b, "*");
    for (size_t i = 0; floats && i < v->ncols; i++) {
        char *id = dm_sql_ident(v->col_names[i]);
        if (i)
            dm_sbuf_add(&b, ", ");
        if (is_float(v->col_types[i]))
            dm_sbuf_addf(&b, "printf('%%.12g', %s) AS %s", id ? id : "",
                         id ? id : "");
        else
            dm_sbuf_add(&b, id);
        free(id);
    }
    dm_sbuf_add(&b, " FROM ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(v->schema, v->name));
    return dm_sbuf_take(&b);
}

static const struct dm_cat_object *find(const struct dm_cat_object *v, size_t n,
                                        const struct dm_cat_object *a,
                                        bool macro)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(v[k].schema, a->schema) == 0 &&
            strcmp(v[k].name, a->name) == 0 &&
            (!macro || v[k].table_macro == a->table_macro))
            return &v[k];
    return NULL;
}

/* The argument lists macros are called with: integers (and a zero, for
 * division), decimals, strings, NULLs, small integers. */
static char *probe_args(size_t n, int set)
{
    static const char *const ints[] = {"7", "2", "3", "5", "11", "13"};
    static const char *const small[] = {"3", "-1", "4", "1"};
    static const char *const reals[] = {"2.5", "-1.5", "0.25", "4.0"};
    static const char *const texts[] = {"'a'", "'b c'", "''", "'x'"};
    struct dm_sbuf b = DM_SBUF_INIT;
    dm_sbuf_add(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i)
            dm_sbuf_add(&b, ", ");
        switch (set) {
        case 0:
            dm_sbuf_add(&b, ints[i % 6]);
            break;
        case 1:
            dm_sbuf_add(&b, i % 2 ? "0" : "9");
            break;
        case 2:
            dm_sbuf_add(&b, reals[i % 4]);
            break;
        case 3:
            dm_sbuf_add(&b, texts[i % 4]);
            break;
        case 4:
            dm_sbuf_add(&b, "NULL");
            break;
        default:
            dm_sbuf_add(&b, small[i % 4]);
            break;
        }
    }
    return dm_sbuf_take(&b);
}

#define PROBE_SETS 6

static void probe_macro(struct dm_engine *es, struct dm_engine *ed,
                        const struct dm_cat_object *m, uint64_t budget,
                        bool defs_alike, struct dm_report *r)
{
    char *fn = dm_sql_qualified(m->schema, m->name);
    struct dm_report probes = {0, 0, NULL, 0, 0, 0, 0};
    /* every arity from all parameters down to none: what a call with
     * fewer arguments returns depends on the defaults */
    for (size_t k = m->nparts + 1; fn && k-- > 0;) {
        for (int set = 0; set < PROBE_SETS; set++) {
            char *args = probe_args(k, set);
            char *sql = args ? (m->table_macro
                                    ? dm_fmt("SELECT * FROM %s(%s)", fn, args)
                                    : dm_fmt("SELECT %s(%s) AS v", fn, args))
                             : NULL;
            char what[256];
            snprintf(what, sizeof(what), "called with (%s)", args ? args : "");
            if (sql)
                compare_query(es, ed, sql, sql, m->table_macro ? budget : 0,
                              "computed", m->schema, m->name, defs_alike,
                              &probes, what);
            free(sql);
            free(args);
        }
    }
    /* One item per macro. A call that runs on one side only says more
     * about how the releases call macros and cast arguments (1.x takes a
     * default positionally, 0.10 stopped comparing numbers with strings)
     * than about the macro: it differs only when no call runs on both
     * sides. A call whose values differ is a difference. */
    size_t agreed = 0, one_sided = 0, neither = 0;
    const struct dm_report_item *bad = NULL, *first_one_sided = NULL;
    for (size_t i = 0; i < probes.nitems; i++) {
        const struct dm_report_item *it = &probes.items[i];
        bool one = strstr(it->detail, " runs in the ") != NULL;
        if (it->status == DM_ITEM_OK) {
            if (strstr(it->detail, "runs on neither side"))
                neither++;
            else
                agreed++;
        } else if (one) {
            one_sided++;
            if (!first_one_sided)
                first_one_sided = it;
        } else if (!bad) {
            bad = it;
        }
    }
    if (!bad && !agreed && first_one_sided)
        bad = first_one_sided;
    if (bad)
        dm_report_add(r, "computed", m->schema, m->name, bad->status, "%s %s",
                      m->table_macro ? "table macro" : "macro", bad->detail);
    else
        dm_report_add(r, "computed", m->schema, m->name, DM_ITEM_OK,
                      "%s: %zu calls return the same; %zu run on one side "
                      "only, %zu on neither",
                      m->table_macro ? "table macro" : "macro", agreed,
                      one_sided, neither);
    dm_report_release(&probes);
    free(fn);
}

static bool has_generated(const struct dm_cat_table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].generated)
            return true;
    return false;
}

static char *generated_select(const struct dm_cat_table *t)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    bool first = true;
    dm_sbuf_add(&b, "SELECT ");
    for (size_t i = 0; i < t->ncols; i++) {
        if (!t->cols[i].generated)
            continue;
        if (!first)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add_owned(&b, dm_sql_ident(t->cols[i].name));
        first = false;
    }
    dm_sbuf_add(&b, " FROM ");
    dm_sbuf_add_owned(&b, dm_sql_qualified(t->schema, t->name));
    return dm_sbuf_take(&b);
}

bool dm_verify_has_computed(const struct dm_catalog *src)
{
    for (size_t i = 0; i < src->ntables; i++) {
        const struct dm_cat_table *t = &src->tables[i];
        if (has_generated(t))
            return true;
        for (size_t c = 0; c < t->ncols; c++)
            if (t->cols[c].default_text)
                return true;
    }
    return src->nviews || src->nmacros;
}

enum dm_code dm_verify_computed(struct dm_engine *es, struct dm_engine *ed,
                                const struct dm_catalog *src,
                                const struct dm_catalog *dst,
                                const struct dm_verify_opts *o,
                                struct dm_report *r, struct dm_error *err)
{
    uint64_t budget = view_rows(o);
    (void)err;
    for (size_t i = 0; i < src->nviews; i++) {
        const struct dm_cat_object *a = &src->views[i];
        const struct dm_cat_object *b = find(dst->views, dst->nviews, a, false);
        if (!b)
            continue;
        bool alike = dm_report_has(r, "view", a->schema, a->name, DM_ITEM_OK);
        char *sa = view_select(a), *sb = view_select(b);
        if (sa && sb)
            compare_query(es, ed, sa, sb, budget, "computed", a->schema,
                          a->name, alike, r, "view");
        free(sa);
        free(sb);
    }
    for (size_t i = 0; i < src->nmacros; i++) {
        const struct dm_cat_object *a = &src->macros[i];
        if (!find(dst->macros, dst->nmacros, a, true))
            continue;
        bool alike = dm_report_has(r, "macro", a->schema, a->name, DM_ITEM_OK);
        probe_macro(es, ed, a, budget, alike, r);
    }
    /* a DEFAULT's value: the same text can give another value in another
     * release (a TIMETZ literal's offset, a TIMESTAMP_S literal rounded);
     * run in sealed, read-only engines, one statement */
    for (size_t i = 0; i < src->ntables; i++) {
        const struct dm_cat_table *t = &src->tables[i];
        const struct dm_cat_table *u =
            dm_catalog_find_table(dst, t->schema, t->name);
        if (!u || u->ncols != t->ncols)
            continue;
        bool alike = dm_report_has(r, "table", t->schema, t->name, DM_ITEM_OK);
        for (size_t c = 0; c < t->ncols; c++) {
            const struct dm_cat_column *a = &t->cols[c], *b = &u->cols[c];
            if (!a->default_text || !b->default_text || a->generated)
                continue;
            char *sa = dm_fmt("SELECT (%s) AS v", a->default_text);
            char *sb = dm_fmt("SELECT (%s) AS v", b->default_text);
            /* the name quoted as SQL, so that one holding '"' reads back */
            char *qname = dm_sql_ident(a->name);
            char what[600];
            snprintf(what, sizeof(what), "the DEFAULT of column %s",
                     qname ? qname : "?");
            free(qname);
            struct dm_report one = {0, 0, NULL, 0, 0, 0, 0};
            if (sa && sb)
                compare_query(es, ed, sa, sb, 0, "computed", t->schema, t->name,
                              alike, &one, what);
            /* only a difference is worth an item: tables have many; and
             * a DEFAULT that runs on one side only (nextval, refused by
             * 1.x in a read-only file) is not compared */
            for (size_t k = 0; k < one.nitems; k++)
                if (one.items[k].status != DM_ITEM_OK &&
                    !strstr(one.items[k].detail, " runs in the "))
                    dm_report_add(r, "computed", t->schema, t->name,
                                  one.items[k].status, "%s",
                                  one.items[k].detail);
            dm_report_release(&one);
            free(sa);
            free(sb);
        }
    }
    for (size_t i = 0; i < src->ntables; i++) {
        const struct dm_cat_table *t = &src->tables[i];
        if (!has_generated(t) ||
            !dm_catalog_find_table(dst, t->schema, t->name))
            continue;
        bool alike = dm_report_has(r, "table", t->schema, t->name, DM_ITEM_OK);
        char *sql = generated_select(t);
        if (sql)
            compare_query(es, ed, sql, sql, 0, "computed", t->schema, t->name,
                          alike, r, "its generated columns");
        free(sql);
    }
    return DM_OK;
}
