/* verify.c - compare two catalogs and two tables' data (see verify.h). */
#include "verify/verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"
#include "header/header.h"
#include "migrate/source.h"
#include "util/str.h"
#include "util/threads.h"

/*
 * The SELECT list of t's stored columns, or with group non-NULL of those
 * k-th stored columns whose group[k] is g: "a", "b".
 */
static char *columns_sql(const struct dm_cat_table *t, const size_t *group,
                         size_t g)
{
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0, k = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        if (group && group[k++] != g)
            continue;
        char *id = dm_sql_ident(t->cols[i].name);
        if (!id)
            goto oom;
        size_t need = len + strlen(id) + 3;
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            char *p = realloc(out, cap);
            if (!p) {
                free(id);
                goto oom;
            }
            out = p;
        }
        len += (size_t)sprintf(out + len, "%s%s", len ? ", " : "", id);
        free(id);
    }
    return out;
oom:
    free(out);
    return NULL;
}

char *dm_stored_columns_sql(const struct dm_cat_table *t)
{
    return columns_sql(t, NULL, 0);
}

/* a positive integer from the environment, else dflt */
static uint64_t env_size(const char *name, uint64_t dflt)
{
    const char *env = getenv(name);
    long long v = env ? atoll(env) : 0;
    return v > 0 ? (uint64_t)v : dflt;
}

/* A column's share of the work of fingerprinting it, roughly. */
static unsigned column_weight(const char *type)
{
    static const char *const heavy[] = {"VARCHAR", "BLOB",  "[",    "STRUCT",
                                        "MAP",     "UNION", "JSON", "BIT"};
    for (size_t i = 0; type && i < sizeof(heavy) / sizeof(*heavy); i++)
        if (strstr(type, heavy[i]))
            return 4;
    return 1;
}

/*
 * Fingerprint t's stored columns in column groups, one worker thread
 * each (a release that streams: each group is one pass over its columns
 * only), and put the fingerprints back in column order.
 */
static enum dm_code print_in_groups(struct dm_engine *e,
                                    const struct dm_cat_table *t,
                                    size_t nstored, size_t ngroups,
                                    struct dm_table_print *print,
                                    struct dm_error *err)
{
    size_t *group = calloc(nstored ? nstored : 1, sizeof(*group));
    size_t *order = calloc(nstored ? nstored : 1, sizeof(*order));
    unsigned load[DM_MAX_THREADS] = {0};
    char *sqls[DM_MAX_THREADS] = {0};
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    struct dm_table_print got;
    enum dm_code rc = DM_OK;
    memset(&got, 0, sizeof(got));
    if (!group || !order || !s || !n) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* the heaviest columns first, each to the least loaded group */
    static const unsigned weights[] = {4, 1};
    for (size_t wi = 0; wi < 2; wi++)
        for (size_t i = 0, k = 0; i < t->ncols; i++) {
            unsigned w = weights[wi];
            if (t->cols[i].generated)
                continue;
            if (column_weight(t->cols[i].type) == w) {
                size_t g = 0;
                for (size_t j = 1; j < ngroups; j++)
                    if (load[j] < load[g])
                        g = j;
                group[k] = g;
                load[g] += w;
            }
            k++;
        }
    /* a SELECT per group; order[] is where each result column goes */
    size_t at = 0;
    for (size_t g = 0; g < ngroups; g++) {
        for (size_t k = 0; k < nstored; k++)
            if (group[k] == g)
                order[at++] = k;
        char *list = columns_sql(t, group, g);
        sqls[g] = list ? dm_fmt("SELECT %s FROM %s.%s", list, s, n) : NULL;
        free(list);
        if (!sqls[g]) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    rc = dm_engine_print(e, sqls, ngroups, &got, err);
    if (rc)
        goto out;
    if (got.ncols != nstored) {
        rc = dm_fail(err, DM_ERR_PROTOCOL,
                     "fingerprints of %zu columns, "
                     "not %zu",
                     got.ncols, nstored);
        goto out;
    }
    *print = got;
    print->cols = calloc(nstored ? nstored : 1, sizeof(*print->cols));
    if (!print->cols) {
        memset(print, 0, sizeof(*print));
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nstored; i++)
        print->cols[order[i]] = got.cols[i];
out:
    dm_table_print_release(&got);
    for (size_t g = 0; g < ngroups; g++)
        free(sqls[g]);
    free(s);
    free(n);
    free(order);
    free(group);
    return rc;
}

enum dm_code dm_scan_table(struct dm_engine *e, const struct dm_cat_table *t,
                           unsigned flags, int peer, dm_scan_fn fn, void *ctx,
                           struct dm_table_print *print, struct dm_error *err)
{
    char *cols = dm_stored_columns_sql(t);
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *sql = NULL;
    struct dm_rows *r = NULL;
    enum dm_code rc = DM_OK;
    struct dm_scan_ranges ranges = {
        DM_SCAN_WHOLE_TABLE, env_size("DUCKMIG_BATCH_ROWS", 0),
        env_size("DUCKMIG_BATCH_BYTES", DM_SCAN_BATCH_BYTES), peer};
    if (print)
        memset(print, 0, sizeof(*print));
    if (!cols || !s || !n) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t ngroups = dm_thread_count(), nstored = 0;
    for (size_t i = 0; i < t->ncols; i++)
        nstored += !t->cols[i].generated;
    if (flags == DM_SCAN_PRINT && !fn && print && dm_engine_streams(e) &&
        ngroups > 1 && nstored > 1) {
        rc = print_in_groups(e, t, nstored,
                             ngroups < nstored ? ngroups : nstored, print, err);
        goto out;
    }
    if (!dm_engine_streams(e)) {
        sql = dm_fmt("SELECT max(rowid) FROM %s.%s", s, n);
        rc = sql ? dm_engine_query(e, sql, &r, err)
                 : dm_fail(err, DM_ERR_NOMEM, "out of memory");
        free(sql);
        sql = NULL;
        if (rc)
            goto out;
        const char *m = dm_rows_get(r, 0, 0);
        if (m) /* NULL: an empty table, read whole */
            ranges.last_rowid = strtoull(m, NULL, 10);
    }
    sql = dm_fmt("SELECT %s FROM %s.%s", *cols ? cols : "NULL", s, n);
    rc =
        sql ? dm_engine_scan_ranges(e, sql, &ranges, flags, fn, ctx, print, err)
            : dm_fail(err, DM_ERR_NOMEM, "out of memory");
out:
    dm_rows_free(r);
    free(sql);
    free(cols);
    free(s);
    free(n);
    return rc;
}

enum dm_code dm_table_fingerprint(struct dm_engine *e,
                                  const struct dm_cat_table *t,
                                  struct dm_table_print *out,
                                  struct dm_error *err)
{
    enum dm_code rc =
        dm_scan_table(e, t, DM_SCAN_PRINT, -1, NULL, NULL, out, err);
    if (rc && !err->code)
        dm_fail(err, rc, "cannot read table %s.%s", t->schema, t->name);
    return rc;
}

/* ---- catalog comparison ----------------------------------------------- */

static bool skipped(const struct dm_report *skip, const char *kind,
                    const char *schema, const char *name)
{
    char full[1024];
    snprintf(full, sizeof(full), "%s.%s", schema, name);
    for (size_t i = 0; skip && i < skip->nitems; i++)
        if (skip->items[i].status == DM_ITEM_NOT_CARRIED &&
            strcmp(skip->items[i].kind, kind) == 0 &&
            strcmp(skip->items[i].name, full) == 0)
            return true;
    return false;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A user ENUM's name, rendered as 1.x renders the column: ENUM('a', ..). */
static char *enum_spelled_out(const struct dm_catalog *cat, const char *type)
{
    for (size_t i = 0; i < cat->ntypes; i++) {
        const struct dm_cat_type *t = &cat->types[i];
        if (!t->name || strcmp(t->name, type) != 0 || !t->kind ||
            strcmp(t->kind, "ENUM") != 0)
            continue;
        size_t cap = 16;
        for (size_t k = 0; k < t->nlabels; k++)
            cap += 2 * strlen(t->labels[k] ? t->labels[k] : "") + 4;
        char *out = malloc(cap);
        if (!out)
            return NULL;
        size_t o = (size_t)sprintf(out, "ENUM(");
        for (size_t k = 0; k < t->nlabels; k++) {
            char *lit = dm_sql_literal(t->labels[k] ? t->labels[k] : "");
            if (!lit)
                break;
            o += (size_t)sprintf(out + o, "%s%s", k ? ", " : "", lit);
            free(lit);
        }
        sprintf(out + o, ")");
        return out;
    }
    return NULL;
}

/* Type names as releases render them: drop quotes, fold case/space. */
static void norm_type(const struct dm_catalog *cat, const char *type, char *out,
                      size_t n)
{
    char *spelled = enum_spelled_out(cat, type);
    const char *in = spelled ? spelled : type;
    size_t o = 0;
    for (; *in && o + 1 < n; in++) {
        if (*in == '"' || *in == ' ')
            continue;
        out[o++] = (char)toupper((unsigned char)*in);
    }
    out[o] = '\0';
    free(spelled);
}

static void compare_tables(const struct dm_catalog *src,
                           const struct dm_catalog *dst,
                           const struct dm_report *skip, struct dm_report *r)
{
    for (size_t i = 0; i < src->ntables; i++) {
        const struct dm_cat_table *a = &src->tables[i];
        if (skipped(skip, "table", a->schema, a->name))
            continue;
        const struct dm_cat_table *b =
            dm_catalog_find_table(dst, a->schema, a->name);
        if (!b) {
            dm_report_add(r, "table", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
            continue;
        }
        char why[512] = "";
        if (a->ncols != b->ncols)
            snprintf(why, sizeof(why), "%zu columns, destination has %zu",
                     a->ncols, b->ncols);
        for (size_t c = 0; !why[0] && c < a->ncols; c++) {
            const struct dm_cat_column *x = &a->cols[c], *y = &b->cols[c];
            char tx[1024], ty[1024];
            norm_type(src, x->type, tx, sizeof(tx));
            norm_type(dst, y->type, ty, sizeof(ty));
            if (strcmp(x->name, y->name) != 0)
                snprintf(why, sizeof(why), "column %zu is \"%s\", not \"%s\"",
                         c + 1, y->name, x->name);
            else if (strcmp(tx, ty) != 0)
                snprintf(why, sizeof(why), "column \"%s\" is %s, not %s",
                         x->name, y->type, x->type);
            else if (x->not_null != y->not_null)
                snprintf(why, sizeof(why), "column \"%s\" NOT NULL differs",
                         x->name);
            else if (x->generated != y->generated)
                snprintf(why, sizeof(why),
                         "column \"%s\" generated-ness differs", x->name);
        }
        if (why[0])
            dm_report_add(r, "table", a->schema, a->name, DM_ITEM_MISMATCH,
                          "%s", why);
        else
            dm_report_add(r, "table", a->schema, a->name, DM_ITEM_OK,
                          "%zu columns", a->ncols);

        /* constraints: each of the source's must be in the destination */
        size_t checks_a = 0, checks_b = 0;
        for (size_t k = 0; k < b->ncons; k++)
            checks_b += b->cons[k].kind == 'C';
        for (size_t k = 0; k < a->ncons; k++) {
            const struct dm_cat_constraint *ca = &a->cons[k];
            if (ca->kind == 'C') {
                checks_a++;
                continue;
            }
            bool found = false;
            for (size_t m = 0; m < b->ncons && !found; m++)
                found = b->cons[m].kind == ca->kind &&
                        same(b->cons[m].columns, ca->columns) &&
                        same(b->cons[m].target, ca->target);
            const char *what = ca->kind == 'P'   ? "PRIMARY KEY"
                               : ca->kind == 'U' ? "UNIQUE"
                                                 : "FOREIGN KEY";
            char name[512];
            snprintf(name, sizeof(name), "%s %s(%s)", a->name, what,
                     ca->columns);
            dm_report_add(r, "constraint", a->schema, name,
                          found ? DM_ITEM_OK : DM_ITEM_MISSING, "%s%s%s", what,
                          ca->target ? " -> " : "",
                          ca->target ? ca->target : "");
            if (ca->kind == 'P' || ca->kind == 'U') {
                r->indexes_expected++;
                r->indexes_present += found;
            }
        }
        if (checks_a) {
            char name[512];
            snprintf(name, sizeof(name), "%s CHECK", a->name);
            dm_report_add(r, "constraint", a->schema, name,
                          checks_a == checks_b ? DM_ITEM_OK : DM_ITEM_MISSING,
                          "%zu CHECK constraints, destination has %zu",
                          checks_a, checks_b);
        }
    }
}

static void compare_objects(const char *kind, const struct dm_cat_object *a,
                            size_t na, const struct dm_cat_object *b, size_t nb,
                            const struct dm_report *skip, struct dm_report *r)
{
    bool index = strcmp(kind, "index") == 0;
    for (size_t i = 0; i < na; i++) {
        if (skipped(skip, kind, a[i].schema, a[i].name))
            continue;
        const struct dm_cat_object *hit = NULL;
        for (size_t k = 0; k < nb && !hit; k++)
            if (same(a[i].schema, b[k].schema) && same(a[i].name, b[k].name))
                hit = &b[k];
        if (index)
            r->indexes_expected++;
        if (!hit) {
            dm_report_add(r, kind, a[i].schema, a[i].name, DM_ITEM_MISSING,
                          "not in the destination");
        } else if (index && (!same(hit->table, a[i].table) ||
                             hit->unique != a[i].unique)) {
            dm_report_add(r, kind, a[i].schema, a[i].name, DM_ITEM_MISMATCH,
                          "on %s%s, source: on %s%s", hit->table,
                          hit->unique ? " (unique)" : "", a[i].table,
                          a[i].unique ? " (unique)" : "");
        } else {
            if (index)
                r->indexes_present++;
            dm_report_add(r, kind, a[i].schema, a[i].name, DM_ITEM_OK, "%s",
                          index ? (a[i].unique ? "unique index" : "index")
                                : "present");
        }
    }
}

void dm_verify_catalog(const struct dm_catalog *src,
                       const struct dm_catalog *dst,
                       const struct dm_report *skip, struct dm_report *r)
{
    for (size_t i = 0; i < src->nschemas; i++) {
        bool found = false;
        for (size_t k = 0; k < dst->nschemas && !found; k++)
            found = strcmp(src->schemas[i], dst->schemas[k]) == 0;
        dm_report_add(r, "schema", "", src->schemas[i],
                      found ? DM_ITEM_OK : DM_ITEM_MISSING, "%s",
                      found ? "present" : "not in the destination");
    }
    for (size_t i = 0; i < src->ntypes; i++) {
        const struct dm_cat_type *a = &src->types[i], *b = NULL;
        for (size_t k = 0; k < dst->ntypes && !b; k++)
            if (same(a->schema, dst->types[k].schema) &&
                same(a->name, dst->types[k].name))
                b = &dst->types[k];
        bool labels = b && a->nlabels == b->nlabels && same(a->kind, b->kind);
        for (size_t k = 0; labels && k < a->nlabels; k++)
            labels = same(a->labels[k], b->labels[k]);
        dm_report_add(r, "type", a->schema, a->name,
                      !b       ? DM_ITEM_MISSING
                      : labels ? DM_ITEM_OK
                               : DM_ITEM_MISMATCH,
                      "%s with %zu labels%s", a->kind, a->nlabels,
                      b && !labels ? ": labels differ" : "");
    }
    for (size_t i = 0; i < src->nsequences; i++) {
        const struct dm_cat_sequence *a = &src->sequences[i], *b = NULL;
        for (size_t k = 0; k < dst->nsequences && !b; k++)
            if (same(a->schema, dst->sequences[k].schema) &&
                same(a->name, dst->sequences[k].name))
                b = &dst->sequences[k];
        if (!b) {
            dm_report_add(r, "sequence", a->schema, a->name, DM_ITEM_MISSING,
                          "not in the destination");
        } else if (a->next != b->next || a->increment != b->increment ||
                   a->min != b->min || a->max != b->max ||
                   a->cycle != b->cycle) {
            dm_report_add(r, "sequence", a->schema, a->name, DM_ITEM_MISMATCH,
                          "next value %lld, destination %lld",
                          (long long)a->next, (long long)b->next);
        } else {
            dm_report_add(r, "sequence", a->schema, a->name, DM_ITEM_OK,
                          "next value %lld", (long long)a->next);
        }
    }
    compare_tables(src, dst, skip, r);
    compare_objects("macro", src->macros, src->nmacros, dst->macros,
                    dst->nmacros, skip, r);
    compare_objects("view", src->views, src->nviews, dst->views, dst->nviews,
                    skip, r);
    compare_objects("index", src->indexes, src->nindexes, dst->indexes,
                    dst->nindexes, skip, r);
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
    /* no rows: no chunk was seen, so neither side has column prints */
    if (src->rows == 0) {
        dm_report_add(r, "data", t->schema, t->name, DM_ITEM_OK, "0 rows");
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

/* Start the engine that opens path and open it read-only (a 0.6-0.8 file
 * with a WAL: a replayed copy of it, in source). */
static enum dm_code open_side(const char *path, struct dm_source *source,
                              struct dm_engine **e, struct dm_rows **builtin,
                              struct dm_error *err)
{
    struct dm_header_info info;
    char release[DM_RELEASE_MAX];
    enum dm_code rc = dm_header_read_file(path, &info, NULL, err);
    if (rc)
        return rc;
    if (info.encrypted)
        return dm_fail(err, DM_ERR_UNSUPPORTED, "%s is encrypted", path);
    if (!dm_engine_for_storage(info.storage_version, release))
        return dm_fail(err, DM_ERR_ENGINE,
                       "%s: no installed engine opens storage version %llu",
                       path, (unsigned long long)info.storage_version);
    rc = dm_source_prepare(path, release, NULL, source, err);
    if (rc)
        return rc;
    return dm_catalog_open(release, source->path, e, builtin, err);
}

enum dm_code dm_verify_files(const char *src, const char *dst,
                             struct dm_report *r, struct dm_error *err)
{
    struct dm_engine *es = NULL, *ed = NULL;
    struct dm_rows *bs = NULL, *bd = NULL;
    struct dm_catalog cs, cd;
    struct dm_source ss, sd;
    bool have_cs = false, have_cd = false;
    memset(&ss, 0, sizeof(ss));
    memset(&sd, 0, sizeof(sd));
    enum dm_code rc = open_side(src, &ss, &es, &bs, err);
    if (!rc)
        rc = open_side(dst, &sd, &ed, &bd, err);
    if (!rc)
        rc = dm_catalog_read(es, bs, &cs, err);
    have_cs = !rc;
    if (!rc)
        rc = dm_catalog_read(ed, bd, &cd, err);
    have_cd = !rc;
    if (rc)
        goto out;
    dm_verify_catalog(&cs, &cd, NULL, r);
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
out:
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
