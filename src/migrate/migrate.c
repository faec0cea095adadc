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
#include "release/release.h"
#include "util/clock.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"
#include "util/threads.h"
#include "verify/verify.h"

#define OLDEST_SUPPORTED 39 /* 0.6 */

/*
 * Open (or create) path in the target's engine w with the writer's
 * settings: the storage version asked for, limit as memory_limit unless
 * NULL (DuckDB's own syntax, "1GB"), threads
 * (0: DuckDB's default); external access off, and (1.x) the
 * configuration locked, so that nothing built from the source's
 * definitions can reach another file. w's parser (ddl.h) comes with it.
 */
static enum dm_code writer_open(struct dm_engine *w, const char *path,
                                const char *storage_version, size_t threads,
                                const char *limit, struct dm_ast **ast,
                                struct dm_error *err)
{
    struct dm_setting set[4];
    char nthreads[24];
    size_t nset = 0;
    if (storage_version)
        set[nset++] = (struct dm_setting){"storage_compatibility_version",
                                          storage_version};
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
 * reopens the file from disk to build the indexes, unless
 * index_where_loaded, and again, read-only, to verify it; docs/engines.md
 * says why that verification is still independent). A larger one gets a fresh
 * process per step, so that no step's memory is held through the next.
 * $DUCKMIG_REUSE_BELOW sets the size, in bytes (256 MiB by default).
 */
static bool reuse_engines(uint64_t src_size)
{
    return src_size < dm_setting_u64(DM_SET_REUSE_BELOW);
}

/*
 * A file under a sixteenth of that (16 MiB by default) has its indexes
 * built by the database that loaded its rows: its rows' blocks are few,
 * and a checkpoint and an open are a large part of a small file's time.
 */
static bool index_where_loaded(uint64_t src_size)
{
    return src_size < dm_setting_u64(DM_SET_REUSE_BELOW) / 16;
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

/* Open the source in its own release and read its catalog (builtin: the
 * macros a blank database of that release has, see catalog.h). */
static enum dm_code source_catalog_read(const char *release, const char *path,
                                        struct dm_engine **reader,
                                        struct dm_rows **builtin,
                                        struct dm_catalog *src,
                                        struct dm_error *err)
{
    enum dm_code rc =
        dm_catalog_open(release, path, true, reader, builtin, err);
    if (!rc)
        rc = dm_catalog_read(*reader, *builtin, src, err);
    return rc;
}

/*
 * One 0.6-0.8 migration's state, shared by its phases: the source's
 * reader and the target's writer, both catalogs, what the target created
 * and the rows' fingerprints taken while they were copied.
 */
struct legacy {
    const struct dm_migrate_opts *o;
    struct dm_migrate_result *res;
    const struct staging *st;
    struct dm_engine *reader, *writer;
    struct dm_ast *ast;
    struct dm_rows *builtin, *tbuiltin;
    struct dm_catalog src, dst;
    bool have_src, have_dst;
    struct dm_ddl ddl;
    struct plan plan;
    struct dm_table_print *prints; /* per source table */
    bool reuse;                    /* reuse_engines() */
    bool index_where_loaded;       /* index_where_loaded() */
    bool indexes_first;            /* DUCKMIG_INDEXES=before */
    bool computed;                 /* the source defines computed values */
    struct progress pg;
};

/*
 * Read the source's catalog (and its macros, which 0.6-0.8 keep only in
 * EXPORT), then create its objects in the writer: with DUCKMIG_INDEXES=
 * before, the indexes too.
 */
static enum dm_code legacy_schema(struct legacy *l, struct dm_error *err)
{
    const struct dm_migrate_opts *o = l->o;
    struct dm_migrate_result *res = l->res;
    enum dm_code rc = source_catalog_read(res->src_release, o->src, &l->reader,
                                          &l->builtin, &l->src, err);
    l->have_src = !rc;
    if (!rc && l->src.nmacros)
        rc = dm_catalog_export_macros(res->src_release, o->src, &l->src,
                                      l->st->dir, err);
    if (rc)
        return rc;
    /* the writer's append lanes are its parallelism while rows load: its
     * own task threads would only spin waiting for their work */
    rc = dm_engine_start(res->dst_release, &l->writer, err);
    if (!rc)
        rc = writer_open(l->writer, l->st->path, o->storage_version, 1,
                         dm_setting(DM_SET_MEMORY_LIMIT), &l->ast, err);
    if (rc)
        return rc;
    l->ddl = (struct dm_ddl){l->ast, res->src_release, &l->src,
                             res->dst_release, &res->report};
    rc =
        schema_create(l->writer, &l->ddl, &l->src, &l->plan, &res->report, err);
    if (!rc && l->indexes_first)
        rc = create_indexes(l->writer, &l->ddl, &l->src, &res->report, err);
    return rc;
}

/*
 * Copy every created table's rows, fingerprinting them into l->prints,
 * in creation order: a referenced table before its referrers. A table
 * that was not created is reported as such.
 */
static enum dm_code legacy_data(struct legacy *l, struct dm_error *err)
{
    const struct dm_catalog *src = &l->src;
    l->prints = calloc(src->ntables ? src->ntables : 1, sizeof(*l->prints));
    if (!l->prints)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < src->ntables; i++)
        if (!l->plan.created[i])
            dm_report_add(&l->res->report, "data", src->tables[i].schema,
                          src->tables[i].name, DM_ITEM_NOT_CARRIED,
                          "its table was not created");
    progress_start(&l->pg, l->o->src, l->plan.ncreated);
    l->pg.rows_known = true;
    for (size_t k = 0; k < l->plan.ncreated; k++) {
        size_t i = l->plan.order[k];
        char step[160];
        snprintf(step, sizeof(step), "copying %s.%s", src->tables[i].schema,
                 src->tables[i].name);
        progress_note(&l->pg, step);
        enum dm_code rc = copy_table(l->reader, l->writer, &src->tables[i],
                                     &l->prints[i], err);
        if (rc)
            return rc;
        l->pg.tables++;
        l->pg.rows += l->prints[i].rows;
    }
    return DM_OK;
}

/*
 * 0.8's memory_limit counts an ART index build at about 450-500 bytes a
 * row of a BIGINT key (docs/migration.md), several times what the build
 * really holds (54 bytes a row once built, 138 at its resident peak): a
 * limit sized for the rows, DuckDB's default (80% of the machine) on a
 * task sized for the index included, refuses the index of a big tracker
 * file. The index phase's limit is raised, when it is lower, to cover
 * INDEX_BYTES_PER_ROW for every row of every index (an index stays in
 * memory until the file is checkpointed), with room for wider keys; what
 * bounds the build then is the task's memory, and a worker killed for it
 * is a transient failure with nothing written.
 */
#define INDEX_BYTES_PER_ROW 1024u
#define INDEX_MEMORY_BASE   (256u << 20)
/*
 * 1.x counts its ART build too, and does not spill enough of it: 8M rows
 * of a BIGINT key need between 160 and 200 MB of memory_limit (one
 * thread), and the 36M rows of a 1.5 GiB tracker fail under 512MB. Its
 * configuration is locked once the file is open (writer_open), so the
 * index phase's database opens with the limit it needs: 96 bytes a row
 * of every index, four times the BIGINT figure, for wider keys.
 */
#define INDEX_BYTES_PER_ROW_1X 96u

/* The rows of every index's table: what an index phase builds. */
static uint64_t index_rows(const struct legacy *l)
{
    uint64_t rows = 0;
    for (size_t x = 0; l->prints && x < l->src.nindexes; x++) {
        const struct dm_cat_object *ix = &l->src.indexes[x];
        const struct dm_cat_table *t =
            dm_catalog_find_table(&l->src, ix->schema, ix->table);
        if (t)
            rows += l->prints[t - l->src.tables].rows;
    }
    return rows;
}

static uint64_t index_need(uint64_t rows, unsigned bytes_per_row)
{
    return INDEX_MEMORY_BASE + rows * bytes_per_row;
}

static void index_memory_note(uint64_t need, uint64_t rows)
{
    dm_info("migrate", "index phase: memory_limit %llu MB for %llu rows",
            (unsigned long long)(need / 1000000), (unsigned long long)rows);
}

/*
 * The memory_limit a 1.x index phase's database opens with: the setting,
 * raised to index_need when the setting is lower. Unset, DuckDB's own
 * (80% of the machine) stays. buf holds a raised one.
 */
static const char *index_open_limit(const struct legacy *l, char *buf,
                                    size_t size)
{
    const char *set = dm_setting(DM_SET_MEMORY_LIMIT);
    uint64_t have, rows = index_rows(l);
    if (dm_release_legacy(l->res->dst_release) || !set || !rows ||
        !dm_parse_size(set, &have))
        return set;
    uint64_t need = index_need(rows, INDEX_BYTES_PER_ROW_1X);
    if (have >= need)
        return set;
    snprintf(buf, size, "%lluB", (unsigned long long)need);
    index_memory_note(need, rows);
    return buf;
}

/* 0.6-0.8: the index phase's limit, raised in the open database. */
static enum dm_code index_memory(struct legacy *l, struct dm_error *err)
{
    if (!dm_release_legacy(l->res->dst_release))
        return DM_OK; /* index_open_limit */
    uint64_t rows = index_rows(l);
    if (!rows)
        return DM_OK;
    uint64_t need = index_need(rows, INDEX_BYTES_PER_ROW), now = 0;
    struct dm_rows *r = NULL;
    enum dm_code rc = dm_engine_query_one(
        l->writer, "SELECT current_setting('memory_limit')", &r, err);
    if (rc)
        return rc;
    bool known = dm_parse_size(dm_rows_get(r, 0, 0), &now);
    dm_rows_free(r);
    if (known && now >= need)
        return DM_OK;
    char sql[64];
    snprintf(sql, sizeof(sql), "SET memory_limit = '%lluB'",
             (unsigned long long)need);
    index_memory_note(need, rows);
    return dm_engine_exec_one(l->writer, sql, err);
}

/*
 * Build the indexes, unless they came before the rows (the caller's
 * checkpoint ends the phase).
 * The source is read by now: its engine's memory is not held through the
 * index build (a small file's reader stays, for verification).
 */
static enum dm_code legacy_indexes(struct legacy *l, struct dm_error *err)
{
    enum dm_code rc;
    l->computed = dm_verify_has_computed(&l->src);
    if (!l->reuse || !l->computed) {
        dm_engine_stop(l->reader);
        l->reader = NULL;
    }
    progress_note(&l->pg, "building indexes");
    if (!l->indexes_first) {
        /* A fresh database builds the indexes (a fresh process, unless
         * the file is small): the one that loaded the rows holds their
         * blocks in memory, and an index build (in memory in 0.8) on top
         * of them would raise the peak by the table's size. A very small
         * file's are built where its rows were loaded (a checkpoint and
         * an open saved, one checkpoint writes rows and indexes), unless
         * a 1.x limit must be raised, which takes a new open. */
        rc = DM_OK;
        char raised[32];
        const char *limit = index_open_limit(l, raised, sizeof(raised));
        if (!l->index_where_loaded || limit == raised) {
            rc = dm_engine_exec_one(l->writer, "CHECKPOINT", err);
            if (!rc)
                rc = fresh_engine(&l->writer, l->reuse, err);
            if (!rc)
                rc = writer_open(l->writer, l->st->path, l->o->storage_version,
                                 0, limit, &l->ast, err);
        }
        if (!rc)
            rc = index_memory(l, err);
        if (rc)
            return rc;
        l->ddl.ast = l->ast;
        return create_indexes(l->writer, &l->ddl, &l->src, &l->res->report,
                              err);
    }
    return DM_OK;
}

/* Each created table's rows, as the file on disk holds them, against the
 * fingerprints taken while they were copied. */
static enum dm_code legacy_verify_rows(struct legacy *l, struct dm_error *err)
{
    for (size_t i = 0; i < l->src.ntables; i++) {
        const struct dm_cat_table *t = &l->src.tables[i];
        const struct dm_cat_table *u =
            dm_catalog_find_table(&l->dst, t->schema, t->name);
        if (!u || !l->plan.created[i])
            continue;
        struct dm_table_print p;
        enum dm_code rc = dm_table_fingerprint(l->writer, u, &p, err);
        if (!rc)
            dm_verify_table_data(t, &l->prints[i], &p, &l->res->report);
        dm_table_print_release(&p);
        if (rc)
            return rc;
    }
    return DM_OK;
}

/*
 * Verify what is on disk, read afresh, read-only: the catalog, every
 * table's rows, and what the source's definitions compute.
 */
static enum dm_code legacy_verify(struct legacy *l, struct dm_error *err)
{
    struct dm_report *r = &l->res->report;
    progress_note(&l->pg, "verifying");
    dm_ast_close(l->ast);
    l->ast = NULL;
    enum dm_code rc = fresh_engine(&l->writer, l->reuse, err);
    if (!rc)
        rc = dm_catalog_reopen(l->writer, l->st->path, true, &l->tbuiltin, err);
    if (!rc)
        rc = dm_catalog_read(l->writer, l->tbuiltin, &l->dst, err);
    l->have_dst = !rc;
    if (!rc)
        rc = dm_ast_open(l->writer, &l->ast, err);
    if (rc)
        return rc;
    struct dm_verify_opts vo = {l->o->view_rows, r};
    dm_verify_catalog(l->ast, &l->src, &l->dst, &vo, r);
    rc = legacy_verify_rows(l, err);
    if (rc || !l->computed)
        return rc;
    if (!l->reader)
        rc = reader_again(l->res->src_release, l->o->src, &l->reader, err);
    if (!rc)
        rc = dm_verify_computed(l->reader, l->writer, &l->src, &l->dst, &vo, r,
                                err);
    return rc;
}

/* What the phases left, in the reverse order of its making. */
static void legacy_release(struct legacy *l)
{
    progress_end(&l->pg);
    for (size_t i = 0; l->prints && i < l->src.ntables; i++)
        dm_table_print_release(&l->prints[i]);
    free(l->prints);
    plan_release(&l->plan);
    if (l->have_dst)
        dm_catalog_release(&l->dst);
    if (l->have_src)
        dm_catalog_release(&l->src);
    dm_rows_free(l->tbuiltin);
    dm_rows_free(l->builtin);
    dm_ast_close(l->ast);
    dm_engine_stop(l->writer);
    dm_engine_stop(l->reader);
}

/*
 * 0.6-0.8 files: the source release reads, the target writes; the
 * target's objects are built by ddl.c from the catalog, rows stream from
 * reader to writer, indexes are built after the rows, and the file on
 * disk is verified through a database handle of its own. Each phase is
 * timed into res.
 */
static enum dm_code migrate_legacy(const struct dm_migrate_opts *o,
                                   struct dm_migrate_result *res,
                                   const struct staging *st,
                                   struct dm_error *err)
{
    double t0 = dm_clock_now();
    struct legacy l;
    memset(&l, 0, sizeof(l));
    l.o = o;
    l.res = res;
    l.st = st;
    l.reuse = reuse_engines(res->src_size);
    l.index_where_loaded = index_where_loaded(res->src_size);
    /* DUCKMIG_INDEXES=before builds them before the rows (bench/migrate.sh
     * measures both; after is faster on both targets) */
    l.indexes_first = strcmp(dm_setting(DM_SET_INDEXES), "before") == 0;

    enum dm_code rc = legacy_schema(&l, err);
    if (rc)
        goto out;
    double t1 = dm_clock_now();
    res->t_schema = t1 - t0;
    rc = legacy_data(&l, err);
    if (rc)
        goto out;
    double t2 = dm_clock_now();
    res->t_data = t2 - t1;
    rc = legacy_indexes(&l, err);
    if (rc)
        goto out;
    rc = dm_engine_exec_one(l.writer, "CHECKPOINT", err);
    res->t_indexes = dm_clock_now() - t2;
    if (rc)
        goto out;
    double t3 = dm_clock_now();
    rc = legacy_verify(&l, err);
    if (rc)
        goto out;
    res->t_verify = dm_clock_now() - t3;
out:
    legacy_release(&l);
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

/* The statements of one 0.9+ migration, built before anything runs. */
struct modern_sql {
    char *src_lit, *dst_lit; /* the two files' paths, as SQL literals */
    char *alias;             /* the target's catalog name, quoted */
    char *sv;                /* the storage version asked for, or NULL */
    char *attach_src, *attach_dst, *copy, *checkpoint, *detach;
};

static void modern_sql_release(struct modern_sql *q)
{
    free(q->detach);
    free(q->checkpoint);
    free(q->copy);
    free(q->attach_dst);
    free(q->attach_src);
    free(q->sv);
    free(q->alias);
    free(q->dst_lit);
    free(q->src_lit);
}

static enum dm_code modern_sql_build(const struct dm_migrate_opts *o,
                                     const struct staging *st,
                                     struct modern_sql *q, struct dm_error *err)
{
    memset(q, 0, sizeof(*q));
    q->src_lit = dm_sql_literal(o->src);
    q->dst_lit = dm_sql_literal(st->path);
    q->alias = dm_sql_ident(st->stem);
    q->sv = o->storage_version ? dm_sql_literal(o->storage_version) : NULL;
    if (!q->src_lit || !q->dst_lit || !q->alias ||
        (o->storage_version && !q->sv))
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    q->attach_src =
        dm_fmt("ATTACH %s AS __duckmig_src (READ_ONLY)", q->src_lit);
    q->attach_dst = q->sv ? dm_fmt("ATTACH %s AS %s (STORAGE_VERSION %s)",
                                   q->dst_lit, q->alias, q->sv)
                          : dm_fmt("ATTACH %s AS %s", q->dst_lit, q->alias);
    q->copy =
        dm_fmt("COPY FROM DATABASE __duckmig_src TO %s (SCHEMA)", q->alias);
    q->checkpoint = dm_fmt("CHECKPOINT %s", q->alias);
    q->detach = dm_fmt("DETACH %s", q->alias);
    if (!q->attach_src || !q->attach_dst || !q->copy || !q->checkpoint ||
        !q->detach)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    return DM_OK;
}

/*
 * Start the target's engine on a database of its own, attach both files,
 * lock its configuration and copy the source's schema into the target.
 */
static enum dm_code modern_schema(const char *dst_release,
                                  const struct modern_sql *q,
                                  struct dm_engine **w, struct dm_error *err)
{
    enum dm_code rc = dm_engine_start(dst_release, w, err);
    if (!rc)
        rc = dm_engine_open(*w, ":memory:", 0, NULL, 0, err);
    if (!rc)
        rc = dm_engine_exec_one(*w, q->attach_src, err);
    if (!rc)
        rc = dm_engine_exec_one(*w, q->attach_dst, err);
    if (!rc)
        rc = dm_catalog_seal(*w, true, err);
    if (!rc)
        rc = dm_engine_exec_one(*w, q->copy, err);
    return rc;
}

/*
 * Copy every table's rows, retrying the ones that failed while another
 * one loaded (a referrer before its referenced table); what never loads
 * is reported with the engine's last word on it.
 */
static enum dm_code modern_data(struct dm_engine *w, const char *alias,
                                const struct dm_catalog *src, const char *name,
                                struct progress *pg, struct dm_report *r,
                                struct dm_error *err)
{
    char **inserts = calloc(src->ntables ? src->ntables : 1, sizeof(char *));
    bool *done = calloc(src->ntables ? src->ntables : 1, sizeof(bool));
    enum dm_code rc = DM_OK;
    if (!inserts || !done) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < src->ntables; i++)
        inserts[i] = insert_from_source(alias, &src->tables[i]);
    progress_start(pg, name, src->ntables);
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < src->ntables; i++) {
            struct dm_error e = DM_ERROR_INIT;
            if (done[i] || !inserts[i])
                continue;
            char step[160];
            snprintf(step, sizeof(step), "copying %s.%s", src->tables[i].schema,
                     src->tables[i].name);
            progress_note(pg, step);
            if (dm_engine_exec_one(w, inserts[i], &e) == DM_OK) {
                done[i] = progress = true;
                pg->tables++;
            }
        }
    }
    for (size_t i = 0; i < src->ntables; i++) {
        struct dm_error e = DM_ERROR_INIT;
        if (done[i])
            continue;
        if (inserts[i])
            dm_engine_exec_one(w, inserts[i], &e);
        dm_report_add(r, "data", src->tables[i].schema, src->tables[i].name,
                      DM_ITEM_NOT_CARRIED, "%s",
                      inserts[i] ? e.msg : "out of memory");
    }
out:
    for (size_t i = 0; inserts && i < src->ntables; i++)
        free(inserts[i]);
    free(done);
    free(inserts);
    return rc;
}

/* Detach the source, then checkpoint and detach the target: its file is
 * complete on disk. */
static enum dm_code modern_finish(struct dm_engine *w,
                                  const struct modern_sql *q,
                                  struct dm_error *err)
{
    enum dm_code rc = dm_engine_exec_one(w, "DETACH __duckmig_src", err);
    if (!rc)
        rc = dm_engine_exec_one(w, q->checkpoint, err);
    if (!rc)
        rc = dm_engine_exec_one(w, q->detach, err);
    return rc;
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
    struct modern_sql q;
    struct progress pg;

    memset(&pg, 0, sizeof(pg));
    enum dm_code rc = modern_sql_build(o, st, &q, err);
    if (rc)
        goto out;
    rc = source_catalog_read(res->src_release, o->src, &reader, &builtin, &src,
                             err);
    have_src = !rc;
    dm_engine_stop(reader);
    reader = NULL;
    if (rc)
        goto out;
    rc = modern_schema(res->dst_release, &q, &w, err);
    if (!rc)
        rc = modern_data(w, q.alias, &src, o->src, &pg, &res->report, err);
    if (!rc)
        rc = modern_finish(w, &q, err);
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
    if (have_src)
        dm_catalog_release(&src);
    dm_rows_free(builtin);
    dm_engine_stop(reader);
    modern_sql_release(&q);
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
