/*
 * export.c - what 0.6-0.8 keep of a macro only in EXPORT DATABASE's
 * schema.sql: the defaults of its parameters and a table macro's query.
 *
 * The source release's own EXPORT runs on a copy of the file from which
 * duckmig has dropped every table and every type that is not an ENUM:
 * an EXPORT of the file itself would format every row as CSV (minutes
 * for a big file), fail on a table whose name makes too long a file
 * name, and fail on a type alias with an INTERNAL error that leaves the
 * database unusable (0.6-0.8 export ENUM types only). The copy is made
 * in the caller's folder, opened by an engine of its own, and removed;
 * the schema.sql it writes is read as data (catalog.h,
 * dm_catalog_add_export), never run.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/source.h"
#include "catalog/sqltext.h"
#include "util/log.h"
#include "util/str.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t len;
    if (!f)
        return NULL;
    char *buf = dm_slurp(f, &len);
    fclose(f);
    return buf;
}

/* Remove the files directly in dir, then dir (EXPORT writes no folders;
 * DuckDB leaves a .wal beside the copy). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                unlinkat(dirfd(d), e->d_name, 0) != 0)
                dm_debug("catalog", "cannot remove %s/%s", dir, e->d_name);
        closedir(d);
    }
    rmdir(dir);
}

/* Every macro gets why its definition cannot be read. */
static void macros_unread(struct dm_catalog *cat, const char *why)
{
    char line[300];
    snprintf(line, sizeof(line), "%.299s", why);
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    for (size_t i = 0; i < cat->nmacros; i++)
        if (!cat->macros[i].problem)
            cat->macros[i].problem =
                dm_fmt("0.6-0.8 keep its definition only in EXPORT DATABASE, "
                       "which failed: %s",
                       line);
}

/*
 * Drop from the copy open in e every table, then every type but the
 * ENUMs, each by name, CASCADE, retried while any goes (a table others
 * reference goes after them). What cannot be dropped stays: EXPORT then
 * writes its rows into the private folder.
 */
static void drop_all(struct dm_engine *e, const struct dm_catalog *cat)
{
    size_t n = cat->ntables + cat->ntypes;
    bool *gone = calloc(n ? n : 1, sizeof(bool));
    for (bool progress = gone != NULL; progress;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            const char *kind, *schema, *name;
            if (gone[i])
                continue;
            if (i < cat->ntables) {
                kind = "TABLE";
                schema = cat->tables[i].schema;
                name = cat->tables[i].name;
            } else {
                const struct dm_cat_type *t = &cat->types[i - cat->ntables];
                if (t->kind && strcmp(t->kind, "ENUM") == 0) {
                    gone[i] = true;
                    continue;
                }
                kind = "TYPE";
                schema = t->schema;
                name = t->name;
            }
            /* 0.6-0.8 take no qualified type name: a type is dropped
             * through the search path, set to its schema */
            struct dm_error ignored = DM_ERROR_INIT;
            bool type = strcmp(kind, "TYPE") == 0;
            char *sch = dm_sql_ident(schema);
            char *path = sch ? dm_sql_literal(sch) : NULL;
            char *set = path ? dm_fmt("SET search_path = %s", path) : NULL;
            char *q =
                type ? dm_sql_ident(name) : dm_sql_qualified(schema, name);
            char *sql = q ? dm_fmt("DROP %s %s CASCADE", kind, q) : NULL;
            if (sql &&
                (!type ||
                 (set && dm_engine_exec_one(e, set, &ignored) == DM_OK)) &&
                dm_engine_exec_one(e, sql, &ignored) == DM_OK)
                gone[i] = progress = true;
            else
                dm_debug("catalog", "EXPORT's copy: %s: %s", sql ? sql : "?",
                         ignored.msg);
            if (type)
                dm_engine_exec_one(e, "SET search_path = ''", &ignored);
            free(sql);
            free(q);
            free(set);
            free(path);
            free(sch);
        }
    }
    free(gone);
}

enum dm_code dm_catalog_export_macros(const char *release, const char *path,
                                      struct dm_catalog *cat,
                                      const char *parent, struct dm_error *err)
{
    char dir[PATH_MAX + 16], copy[PATH_MAX + 32], out[PATH_MAX + 32];
    char file[PATH_MAX + 64];
    struct dm_engine *e = NULL;
    struct dm_error xerr = DM_ERROR_INIT;
    char *schema_sql = NULL, *sql = NULL, *lit = NULL;
    enum dm_code rc = DM_OK;

    if (snprintf(dir, sizeof(dir), "%s/export-XXXXXX", parent) >=
        (int)sizeof(dir))
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", parent);
    if (!mkdtemp(dir))
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'", dir);
    snprintf(copy, sizeof(copy), "%s/copy.duckdb", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    rc = dm_file_copy(path, copy, err);
    if (rc)
        goto out;
    lit = dm_sql_literal(out);
    sql = lit ? dm_fmt("EXPORT DATABASE %s", lit) : NULL;
    if (!sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dm_engine_start(release, &e, err);
    if (!rc)
        rc = dm_engine_open(e, copy, 0, NULL, 0, err);
    if (rc)
        goto out;
    drop_all(e, cat);
    rc = dm_engine_exec_one(e, sql, &xerr);
    if (rc == DM_ERR_SQL) {
        /* EXPORT refused even so: the macros cannot be read, the rest of
         * the file still can */
        macros_unread(cat, xerr.msg);
        rc = DM_OK;
        goto out;
    }
    if (rc) {
        dm_fail(err, rc, "%s", xerr.msg);
        goto out;
    }
    snprintf(file, sizeof(file), "%s/schema.sql", out);
    schema_sql = slurp(file);
    if (!schema_sql) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot read '%s'", file);
        goto out;
    }
    dm_catalog_add_export(cat, schema_sql);
out:
    dm_engine_stop(e);
    /* the folder (a migration's staging folder) must hold only the new
     * file when it is published: everything EXPORT wrote goes */
    remove_dir(out);
    remove_dir(dir);
    free(schema_sql);
    free(sql);
    free(lit);
    return rc;
}
