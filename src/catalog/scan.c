/* scan.c - a table's rows read through its engine, and fingerprinted
 * (see scan.h). */
#include "catalog/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog_int.h"
#include "catalog/sqltext.h"
#include "engine/vec.h"
#include "util/settings.h"
#include "util/str.h"
#include "util/threads.h"

/*
 * The SELECT list of t's stored columns, or with group non-NULL of those
 * k-th stored columns whose group[k] is g: "a", "b".
 */
static char *columns_sql(const struct dm_cat_table *t, const size_t *group,
                         size_t g)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    bool first = true;
    for (size_t i = 0, k = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        if (group && group[k++] != g)
            continue;
        if (!first)
            dm_sbuf_add(&b, ", ");
        dm_sbuf_add_owned(&b, dm_sql_ident(t->cols[i].name));
        first = false;
    }
    return dm_sbuf_take(&b);
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
        /* a bug of duckmig's, not a dead worker */
        rc =
            dm_fail(err, DM_ERR_INTERNAL,
                    "fingerprints of %zu columns, not %zu", got.ncols, nstored);
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

/*
 * Whether the release streams the columns of sql (SELECT cols FROM t,
 * ncols of them) right: 0.8 does not stream a LIST right, and its worker
 * materializes such a result (worker_data.c, streams_lists_wrong), so
 * such a table is read in ranges, as in 0.6/0.7. The types are the
 * scan's own, so a type alias hides no list.
 */
static bool streams_columns(struct dm_engine *e, const char *sql, size_t ncols)
{
    if (!dm_engine_streams(e))
        return false;
    if (!dm_engine_streams_lists_wrong(e) || ncols == 0)
        return true;
    char *head = dm_fmt("%s LIMIT 0", sql);
    struct dm_type_node *types = head ? cat_result_types(e, head) : NULL;
    /* not known: ranges, which read any table right */
    bool lists = !types;
    for (size_t i = 0; types && i < ncols && !lists; i++)
        lists = dm_type_has_list(&types[i]);
    cat_release_types(types, ncols);
    free(head);
    return !lists;
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
    struct dm_scan_ranges ranges = {DM_SCAN_WHOLE_TABLE,
                                    dm_setting_u64(DM_SET_BATCH_ROWS),
                                    dm_setting_u64(DM_SET_BATCH_BYTES), peer};
    if (print)
        memset(print, 0, sizeof(*print));
    if (!cols || !s || !n) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t ngroups = dm_thread_count(), nstored = 0;
    for (size_t i = 0; i < t->ncols; i++)
        nstored += !t->cols[i].generated;
    sql = dm_fmt("SELECT %s FROM %s.%s", *cols ? cols : "NULL", s, n);
    if (!sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    bool streams = streams_columns(e, sql, *cols ? nstored : 0);
    if (flags == DM_SCAN_PRINT && !fn && print && streams && ngroups > 1 &&
        nstored > 1) {
        rc = print_in_groups(e, t, nstored,
                             ngroups < nstored ? ngroups : nstored, print, err);
        goto out;
    }
    /* a column named rowid shadows the pseudo-column, and max(rowid) is
     * then the column's (a decimal, a struct's ''): such a table is read
     * whole (gen seeds 36 and 3108) */
    bool rowid_column = false;
    for (size_t i = 0; i < t->ncols; i++)
        rowid_column |= strcasecmp(t->cols[i].name, "rowid") == 0;
    if (!streams && !rowid_column) {
        char *last = dm_fmt("SELECT max(rowid) FROM %s.%s", s, n);
        rc = last ? dm_engine_query(e, last, &r, err)
                  : dm_fail(err, DM_ERR_NOMEM, "out of memory");
        free(last);
        if (rc)
            goto out;
        const char *m = dm_rows_get(r, 0, 0);
        /* NULL: an empty table, read whole; '' (a release that prints an
         * empty value), the same */
        if (m && *m && !dm_parse_u64(m, &ranges.last_rowid)) {
            rc = dm_fail(err, DM_ERR_PROTOCOL, "%s.%s: max(rowid) is '%s'", s,
                         n, m);
            goto out;
        }
    }
    rc = dm_engine_scan_ranges(e, sql, &ranges, flags, fn, ctx, print, err);
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
