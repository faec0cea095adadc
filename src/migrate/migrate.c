/* migrate.c - the two routes of a migration, and the whole of one (see
 * migrate.h). */
#include "migrate/migrate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/ast.h"
#include "catalog/catalog.h"
#include "catalog/scan.h"
#include "catalog/source.h"
#include "catalog/sqltext.h"
#include "engine/engine.h"
#include "header/header.h"
#include "migrate/migrate_int.h"
#include "util/clock.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"
#include "util/threads.h"
#include "verify/verify.h"

#define OLDEST_SUPPORTED 39 /* 0.6 */

/*
 * Open (or create) path in the target's engine w with the writer's
 * settings: the storage version asked for, a memory limit when
 * DUCKMIG_MEMORY_LIMIT gives one (DuckDB's own syntax, "1GB"), threads
 * (0: DuckDB's default); external access off, and (1.x) the
 * configuration locked, so that nothing built from the source's
 * definitions can reach another file. w's parser (ddl.h) comes with it.
 */
static enum dm_code writer_open(struct dm_engine *w, const char *path,
                                const char *storage_version, size_t threads,
                                struct dm_ast **ast, struct dm_error *err)
{
    struct dm_setting set[4];
    char nthreads[24];
    size_t nset = 0;
    if (storage_version)
        set[nset++] = (struct dm_setting){"storage_compatibility_version",
                                          storage_version};
    const char *limit = dm_setting(DM_SET_MEMORY_LIMIT);
    if (limit)
        set[nset++] = (struct dm_setting){"memory_limit", limit};
    if (threads) {
        snprintf(nthreads, sizeof(nthreads), "%zu", threads);
        set[nset++] = (struct dm_setting){"threads", nthreads};
    }
    set[nset++] = (struct dm_setting){"enable_external_access", "false"};
    dm_ast_close(*ast);
    *ast = NULL;
    enum dm_code rc = dm_engine_open(w, path, 0, set, nset, err);
    if (!rc)
        rc = dm_catalog_seal(w, true, err);
    if (!rc)
        rc = dm_ast_open(w, ast, err);
    return rc;
}

/* Reopen src (or its replayed copy) for the verification of what its
 * definitions compute: the reader that copied the rows was stopped. */
static enum dm_code reader_again(const char *release, const char *src,
                                 struct dm_engine **e, struct dm_error *err)
{
    struct dm_rows *builtin = NULL;
    enum dm_code rc = dm_catalog_open(release, src, true, e, &builtin, err);
    dm_rows_free(builtin);
    return rc;
}

/*
 * A file this small is migrated by two engine processes, each used for
 * every step of its side (a fresh database handle per step: the writer
 * reopens the file from disk to build the indexes and again, read-only,
 * to verify it; docs/engines.md says why that verification is still
 * independent). A larger one gets a fresh process per step, so that no
 * step's memory is held through the next. $DUCKMIG_REUSE_BELOW sets the
 * size, in bytes (256 MiB by default).
 */
static bool reuse_engines(uint64_t src_size)
{
    return src_size < dm_setting_u64(DM_SET_REUSE_BELOW);
}

/* Restart e (a fresh process of the same release) unless reuse. */
static enum dm_code fresh_engine(struct dm_engine **e, bool reuse,
                                 struct dm_error *err)
{
    if (reuse)
        return DM_OK;
    char release[DM_RELEASE_MAX];
    snprintf(release, sizeof(release), "%s", dm_engine_release(*e));
    dm_engine_stop(*e);
    *e = NULL;
    return dm_engine_start(release, e, err);
}

/*
 * 0.6-0.8 files: the source release reads, the target writes; the
 * target's objects are built by ddl.c from the catalog, rows stream from
 * reader to writer, indexes are built after the rows, and the file on
 * disk is verified through a database handle of its own.
 */
static enum dm_code migrate_legacy(const struct dm_migrate_opts *o,
                                   struct dm_migrate_result *res,
                                   const struct staging *st,
                                   struct dm_error *err)
{
    double t0 = dm_clock_now();
    struct dm_engine *reader = NULL, *writer = NULL;
    struct dm_ast *ast = NULL;
    struct dm_rows *builtin = NULL, *tbuiltin = NULL;
    struct dm_catalog src, dst;
    bool have_src = false, have_dst = false;
    struct plan plan;
    struct dm_table_print *prints = NULL;
    struct dm_report *r = &res->report;
    bool reuse = reuse_engines(res->src_size);
    struct progress pg;
    enum dm_code rc;
    memset(&plan, 0, sizeof(plan));
    memset(&pg, 0, sizeof(pg));

    rc =
        dm_catalog_open(res->src_release, o->src, true, &reader, &builtin, err);
    if (!rc)
        rc = dm_catalog_read(reader, builtin, &src, err);
    have_src = !rc;
    if (!rc && src.nmacros)
        rc = dm_catalog_export_macros(res->src_release, o->src, &src, st->dir,
                                      err);
    if (rc)
        goto out;

    /* DUCKMIG_INDEXES=before builds them before the rows (bench/migrate.sh
     * measures both; after is faster on both targets) */
    bool indexes_first = strcmp(dm_setting(DM_SET_INDEXES), "before") == 0;
    /* the writer's append lanes are its parallelism while rows load: its
     * own task threads would only spin waiting for their work */
    rc = dm_engine_start(res->dst_release, &writer, err);
    if (!rc)
        rc = writer_open(writer, st->path, o->storage_version, 1, &ast, err);
    if (rc)
        goto out;
    struct dm_ddl ddl = {ast, res->src_release, &src, res->dst_release, r};
    rc = schema_create(writer, &ddl, &src, &plan, r, err);
    if (!rc && indexes_first)
        rc = create_indexes(writer, &ddl, &src, r, err);
    if (rc)
        goto out;
    double t1 = dm_clock_now();
    res->t_schema = t1 - t0;

    prints = calloc(src.ntables ? src.ntables : 1, sizeof(*prints));
    if (!prints) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < src.ntables; i++)
        if (!plan.created[i])
            dm_report_add(r, "data", src.tables[i].schema, src.tables[i].name,
                          DM_ITEM_NOT_CARRIED, "its table was not created");
    /* load in creation order: a referenced table before its referrers */
    progress_start(&pg, o->src, plan.ncreated);
    pg.rows_known = true;
    for (size_t k = 0; k < plan.ncreated; k++) {
        size_t i = plan.order[k];
        char step[160];
        snprintf(step, sizeof(step), "copying %s.%s", src.tables[i].schema,
                 src.tables[i].name);
        progress_note(&pg, step);
        rc = copy_table(reader, writer, &src.tables[i], &prints[i], err);
        if (rc)
            goto out;
        pg.tables++;
        pg.rows += prints[i].rows;
    }
    double t2 = dm_clock_now();
    res->t_data = t2 - t1;
    /* the source is read: its engine's memory is not held through the
     * index build (a small file's reader stays, for verification) */
    bool computed = dm_verify_has_computed(&src);
    if (!reuse || !computed) {
        dm_engine_stop(reader);
        reader = NULL;
    }
    progress_note(&pg, "building indexes");
    if (!indexes_first) {
        /* a fresh database builds the indexes (a fresh process, unless
         * the file is small): the one that loaded the rows holds their
         * blocks in memory, and an index build (in memory in 0.8) on top
         * of them would raise the peak by the table's size */
        rc = dm_engine_exec_one(writer, "CHECKPOINT", err);
        if (!rc)
            rc = fresh_engine(&writer, reuse, err);
        if (!rc)
            rc =
                writer_open(writer, st->path, o->storage_version, 0, &ast, err);
        if (rc)
            goto out;
        ddl.ast = ast;
        rc = create_indexes(writer, &ddl, &src, r, err);
        if (rc)
            goto out;
    }
    rc = dm_engine_exec_one(writer, "CHECKPOINT", err);
    res->t_indexes = dm_clock_now() - t2;
    if (rc)
        goto out;

    /* verify what is on disk, read afresh, read-only */
    progress_note(&pg, "verifying");
    double t3 = dm_clock_now();
    dm_ast_close(ast);
    ast = NULL;
    rc = fresh_engine(&writer, reuse, err);
    if (!rc)
        rc = dm_catalog_reopen(writer, st->path, true, &tbuiltin, err);
    if (!rc)
        rc = dm_catalog_read(writer, tbuiltin, &dst, err);
    have_dst = !rc;
    if (!rc)
        rc = dm_ast_open(writer, &ast, err);
    if (rc)
        goto out;
    struct dm_verify_opts vo = {o->view_rows, r};
    dm_verify_catalog(ast, &src, &dst, &vo, r);
    for (size_t i = 0; i < src.ntables; i++) {
        const struct dm_cat_table *t = &src.tables[i];
        const struct dm_cat_table *u =
            dm_catalog_find_table(&dst, t->schema, t->name);
        if (!u || !plan.created[i])
            continue;
        struct dm_table_print p;
        rc = dm_table_fingerprint(writer, u, &p, err);
        if (!rc)
            dm_verify_table_data(t, &prints[i], &p, r);
        dm_table_print_release(&p);
        if (rc)
            goto out;
    }
    if (computed) {
        if (!reader)
            rc = reader_again(res->src_release, o->src, &reader, err);
        if (!rc)
            rc = dm_verify_computed(reader, writer, &src, &dst, &vo, r, err);
        if (rc)
            goto out;
    }
    res->t_verify = dm_clock_now() - t3;
out:
    progress_end(&pg);
    for (size_t i = 0; prints && i < src.ntables; i++)
        dm_table_print_release(&prints[i]);
    free(prints);
    plan_release(&plan);
    if (have_dst)
        dm_catalog_release(&dst);
    if (have_src)
        dm_catalog_release(&src);
    dm_rows_free(tbuiltin);
    dm_rows_free(builtin);
    dm_ast_close(ast);
    dm_engine_stop(writer);
    dm_engine_stop(reader);
    return rc;
}

/* INSERT INTO "stem".s.t (cols) SELECT cols FROM __duckmig_src.s.t */
static char *insert_from_source(const char *alias, const struct dm_cat_table *t)
{
    char *cols = dm_stored_columns_sql(t);
    char *s = dm_sql_ident(t->schema), *n = dm_sql_ident(t->name);
    char *out = cols && s && n
                    ? dm_fmt("INSERT INTO %s.%s.%s (%s) SELECT %s FROM "
                             "__duckmig_src.%s.%s",
                             alias, s, n, cols, cols, s, n)
                    : NULL;
    free(cols);
    free(s);
    free(n);
    return out;
}

/*
 * 0.9+ files: the target release alone copies the schema (COPY FROM
 * DATABASE ... (SCHEMA): DuckDB copies its own parsed objects, no text)
 * and then the data table by table, retried until every referenced table
 * is loaded before its referrers (1.5's own DATA copy does not order
 * tables by foreign keys). Both files are attached before external
 * access is turned off.
 */
static enum dm_code migrate_modern(const struct dm_migrate_opts *o,
                                   struct dm_migrate_result *res,
                                   const struct staging *st,
                                   struct dm_error *err)
{
    struct dm_engine *w = NULL, *reader = NULL;
    struct dm_rows *builtin = NULL;
    struct dm_catalog src;
    bool have_src = false;
    char **inserts = NULL;
    bool *done = NULL;
    char *src_lit = dm_sql_literal(o->src), *dst_lit = dm_sql_literal(st->path);
    char *alias = dm_sql_ident(st->stem);
    char *sv = o->storage_version ? dm_sql_literal(o->storage_version) : NULL;
    char *attach_src = NULL, *attach_dst = NULL, *copy = NULL;
    char *checkpoint = NULL, *detach = NULL;
    struct progress pg;
    enum dm_code rc = DM_OK;

    memset(&pg, 0, sizeof(pg));
    if (!src_lit || !dst_lit || !alias || (o->storage_version && !sv)) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc =
        dm_catalog_open(res->src_release, o->src, true, &reader, &builtin, err);
    if (!rc)
        rc = dm_catalog_read(reader, builtin, &src, err);
    have_src = !rc;
    dm_engine_stop(reader);
    reader = NULL;
    if (rc)
        goto out;

    attach_src = dm_fmt("ATTACH %s AS __duckmig_src (READ_ONLY)", src_lit);
    attach_dst =
        sv ? dm_fmt("ATTACH %s AS %s (STORAGE_VERSION %s)", dst_lit, alias, sv)
           : dm_fmt("ATTACH %s AS %s", dst_lit, alias);
    copy = dm_fmt("COPY FROM DATABASE __duckmig_src TO %s (SCHEMA)", alias);
    checkpoint = dm_fmt("CHECKPOINT %s", alias);
    detach = dm_fmt("DETACH %s", alias);
    inserts = calloc(src.ntables ? src.ntables : 1, sizeof(char *));
    done = calloc(src.ntables ? src.ntables : 1, sizeof(bool));
    if (!attach_src || !attach_dst || !copy || !checkpoint || !detach ||
        !inserts || !done) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dm_engine_start(res->dst_release, &w, err);
    if (!rc)
        rc = dm_engine_open(w, ":memory:", 0, NULL, 0, err);
    if (!rc)
        rc = dm_engine_exec_one(w, attach_src, err);
    if (!rc)
        rc = dm_engine_exec_one(w, attach_dst, err);
    if (!rc)
        rc = dm_catalog_seal(w, true, err);
    if (!rc)
        rc = dm_engine_exec_one(w, copy, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < src.ntables; i++)
        inserts[i] = insert_from_source(alias, &src.tables[i]);
    progress_start(&pg, o->src, src.ntables);
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < src.ntables; i++) {
            struct dm_error e = DM_ERROR_INIT;
            if (done[i] || !inserts[i])
                continue;
            char step[160];
            snprintf(step, sizeof(step), "copying %s.%s", src.tables[i].schema,
                     src.tables[i].name);
            progress_note(&pg, step);
            if (dm_engine_exec_one(w, inserts[i], &e) == DM_OK) {
                done[i] = progress = true;
                pg.tables++;
            }
        }
    }
    for (size_t i = 0; i < src.ntables; i++) {
        struct dm_error e = DM_ERROR_INIT;
        if (done[i])
            continue;
        if (inserts[i])
            dm_engine_exec_one(w, inserts[i], &e);
        dm_report_add(&res->report, "data", src.tables[i].schema,
                      src.tables[i].name, DM_ITEM_NOT_CARRIED, "%s",
                      inserts[i] ? e.msg : "out of memory");
    }
    rc = dm_engine_exec_one(w, "DETACH __duckmig_src", err);
    if (!rc)
        rc = dm_engine_exec_one(w, checkpoint, err);
    if (!rc)
        rc = dm_engine_exec_one(w, detach, err);
    dm_engine_stop(w);
    w = NULL;
    if (!rc) {
        struct dm_verify_opts vo = {o->view_rows, &res->report};
        progress_note(&pg, "verifying");
        rc = dm_verify_files(o->src, st->path, &vo, &res->report, err);
    }
out:
    progress_end(&pg);
    dm_engine_stop(w);
    for (size_t i = 0; inserts && have_src && i < src.ntables; i++)
        free(inserts[i]);
    free(inserts);
    free(done);
    if (have_src)
        dm_catalog_release(&src);
    dm_rows_free(builtin);
    dm_engine_stop(reader);
    free(detach);
    free(checkpoint);
    free(copy);
    free(attach_dst);
    free(attach_src);
    free(sv);
    free(alias);
    free(dst_lit);
    free(src_lit);
    return rc;
}

enum dm_code dm_migrate_check_source(const struct dm_header_info *info,
                                     const char *dst_release,
                                     uint64_t dst_storage, const char *name,
                                     char src_release[DM_RELEASE_MAX],
                                     struct dm_error *err)
{
    if (!dm_header_checksums_ok(info))
        return dm_fail(err, DM_ERR_CHECKSUM, "%s: header checksum mismatch",
                       name);
    if (info->encrypted)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "%s is encrypted; duckmig does not migrate encrypted "
                       "files",
                       name);
    if (info->storage_version < OLDEST_SUPPORTED) {
        const char *const *rel = dm_storage_releases(info->storage_version);
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "%s: storage version %llu (DuckDB %s) is older than "
                       "0.6, which duckmig does not support",
                       name, (unsigned long long)info->storage_version,
                       rel ? rel[0] : "unknown");
    }
    if (info->storage_version > dst_storage)
        return dm_fail(err, DM_ERR_UNSUPPORTED,
                       "%s: storage version %llu is newer than what DuckDB "
                       "%s writes (%llu); duckmig does not downgrade",
                       name, (unsigned long long)info->storage_version,
                       dst_release, (unsigned long long)dst_storage);
    if (!dm_engine_for_storage(info->storage_version, src_release))
        return dm_fail(err, DM_ERR_ENGINE,
                       "%s: no installed engine opens storage version %llu",
                       name, (unsigned long long)info->storage_version);
    return DM_OK;
}

enum dm_code dm_migrate(const struct dm_migrate_opts *o,
                        struct dm_migrate_result *res, struct dm_error *err)
{
    struct dm_header_info info;
    struct staging st;
    struct stat sst, dst_st;
    enum dm_code rc;
    double t0 = dm_clock_now();

    memset(res, 0, sizeof(*res));
    memset(&st, 0, sizeof(st));
    st.lock_fd = st.dir_lock_fd = -1;
    const char *to = o->to ? o->to : dm_setting(DM_SET_MIGRATE_VERSION);
    rc = dm_release_normalize(to, res->dst_release, err);
    if (!rc)
        rc = dm_target_storage(res->dst_release, o->storage_version,
                               &res->dst_storage, err);
    if (rc)
        return rc;

    rc = dm_header_read_file(o->src, &info, &res->src_size, err);
    if (rc)
        return rc;
    res->src_storage = info.storage_version;
    rc = dm_migrate_check_source(&info, res->dst_release, res->dst_storage,
                                 o->src, res->src_release, err);
    if (rc)
        return rc;
    char lib[PATH_MAX];
    rc = dm_engine_library(res->dst_release, lib, sizeof(lib), err);
    if (rc)
        return rc;
    if (info.storage_version == res->dst_storage && !o->force) {
        /* a good header says nothing of the blocks: the file is accepted
         * as it is only once its release has read every table whole */
        rc = dm_verify_readable(o->src, o->ignore_wal, &res->report, err);
        res->seconds = dm_clock_now() - t0;
        if (rc)
            return rc;
        res->status = DM_MIG_ALREADY;
        return DM_OK;
    }
    if (stat(o->src, &sst) == 0 && stat(o->dst, &dst_st) == 0) {
        if (sst.st_dev == dst_st.st_dev && sst.st_ino == dst_st.st_ino)
            return dm_fail(err, DM_ERR_USAGE,
                           "source and destination are the same file");
        if (!o->force)
            return dm_fail(err, DM_ERR_USAGE,
                           "%s exists; use --force to replace it", o->dst);
    }

    rc = staging_create(&st, o->dst, err);
    if (rc)
        return rc;
    /* another migration may have written DST while this one waited */
    if (!o->force && stat(o->dst, &dst_st) == 0) {
        staging_remove(&st);
        return dm_fail(err, DM_ERR_USAGE,
                       "%s exists; use --force to replace it", o->dst);
    }
    dm_info("migrate", "%s: storage %llu -> DuckDB %s (storage %llu)", o->src,
            (unsigned long long)info.storage_version, res->dst_release,
            (unsigned long long)res->dst_storage);
    /* a WAL beside SRC is replayed in a copy, and one that cannot be
     * replayed stops here unless ignored (source.h) */
    struct dm_source source;
    struct dm_migrate_opts from_copy = *o;
    rc = dm_source_prepare(o->src, res->src_release, st.dir, o->ignore_wal,
                           &source, err);
    from_copy.src = source.path;
    if (!rc && source.wal_ignored[0])
        dm_report_add(&res->report, "wal", "", dm_base_name(o->src),
                      DM_ITEM_NOT_CARRIED, "%s", source.wal_ignored);
    if (!rc && info.storage_version < DM_STORAGE_V0_9)
        rc = migrate_legacy(&from_copy, res, &st, err);
    else if (!rc)
        rc = migrate_modern(&from_copy, res, &st, err);
    dm_source_remove(&source);
    if (!rc && dm_report_mismatch(&res->report))
        rc = dm_fail(err, DM_ERR_VERIFY,
                     "verification of %s failed; nothing was written", o->dst);
    if (!rc) {
        struct stat nst;
        if (stat(st.path, &nst) == 0)
            res->dst_size = (uint64_t)nst.st_size;
        rc = staging_publish(&st, o->force, err);
    }
    staging_remove(&st);
    res->seconds = dm_clock_now() - t0;
    if (rc)
        return rc;
    res->status = dm_report_incomplete(&res->report) ? DM_MIG_INCOMPLETE
                                                     : DM_MIG_MIGRATED;
    return DM_OK;
}
