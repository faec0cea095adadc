/*
 * inspect.c - `duckmig inspect [--json] FILE...`: what a DuckDB file is,
 * read from its header alone (no engine is loaded, so it works on files
 * of releases we have no engine for, and on a thousand files a second).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "engine/registry.h"
#include "fleet/outcome.h"
#include "header/header.h"
#include "store/store.h"
#include "util/error.h"
#include "util/str.h"
#include "util/text.h"

const char cmd_inspect_usage[] =
    "usage: duckmig inspect [--json] FILE...\n"
    "       (FILE: a path, efs:KEY or s3://bucket/key; a prefix ending\n"
    "       with '/' inspects every *.duckdb under it)\n"
    "\n"
    "Read each FILE's DuckDB header (without loading DuckDB) and report its\n"
    "storage version, the releases that write it, the library that created\n"
    "it (0.9+), encryption, the active database header, header checksums,\n"
    "whether a .wal sits beside it, and which installed engine opens it.\n"
    "In a store, only the headers are read (one ranged GET on S3).\n"
    "\n"
    "  --json   one JSON object per file, one per line (docs/json.md)\n"
    "\n"
    "Exit status: 0 when every file was read; otherwise the code of the\n"
    "first failure (3 missing/unreadable, 4 not DuckDB, 5 truncated,\n"
    "6 bad header checksum).\n";

struct file_report {
    const char *path;
    uint64_t size;
    struct dm_header_info info;
    bool wal;
    uint64_t wal_size;
    bool has_engine;
    char engine[DM_RELEASE_MAX];
};

static json_t *releases_json(uint64_t v)
{
    json_t *arr = json_array();
    const char *const *r = dm_storage_releases(v);
    for (; arr && r && *r; r++)
        json_array_append_new(arr, json_string(*r));
    return arr;
}

static int print_json(const struct file_report *f)
{
    const struct dm_header_info *h = &f->info;
    json_t *o = dm_json_document("inspect");
    if (!o)
        return DM_ERR_NOMEM;
    /* a path that is not UTF-8 is shown with U+FFFD and marked; jansson
     * would refuse it, and the object would lose it */
    dm_json_set_name(o, "path", f->path);
    json_object_set_new(o, "size", json_integer((json_int_t)f->size));
    json_object_set_new(o, "storage_version",
                        json_integer((json_int_t)h->storage_version));
    json_object_set_new(o, "main_header_version",
                        json_integer((json_int_t)h->main_version));
    json_object_set_new(o, "serialization_version",
                        h->serialization
                            ? json_integer((json_int_t)h->serialization)
                            : json_null());
    json_object_set_new(o, "releases", releases_json(h->storage_version));
    json_object_set_new(o, "library_version",
                        h->has_library && h->library_version[0]
                            ? json_string(h->library_version)
                            : json_null());
    json_object_set_new(o, "library_hash",
                        h->has_library && h->library_hash[0]
                            ? json_string(h->library_hash)
                            : json_null());
    json_object_set_new(o, "encrypted", json_boolean(h->encrypted));
    json_object_set_new(o, "wal", json_boolean(f->wal));
    json_object_set_new(o, "checksum_ok",
                        json_boolean(dm_header_checksums_ok(h)));
    if (h->active >= 0) {
        const struct dm_db_header *d = &h->db[h->active];
        json_t *a = json_pack("{s:i, s:I, s:I, s:I}", "index", h->active + 1,
                              "iteration", (json_int_t)d->iteration,
                              "block_count", (json_int_t)d->block_count,
                              "block_size", (json_int_t)d->block_alloc_size);
        json_object_set_new(o, "active_header", a ? a : json_null());
    } else {
        json_object_set_new(o, "active_header", json_null());
    }
    json_object_set_new(o, "engine",
                        f->has_engine ? json_string(f->engine) : json_null());
    enum dm_code rc = dm_json_print(o, NULL);
    json_decref(o);
    return rc;
}

static void print_human(const struct file_report *f)
{
    const struct dm_header_info *h = &f->info;
    dm_fputs_escaped(f->path, stdout);
    fputc('\n', stdout);
    printf("  storage version  %llu", (unsigned long long)h->storage_version);
    const char *const *r = dm_storage_releases(h->storage_version);
    if (r) {
        printf(" (written by DuckDB");
        for (const char *sep = " "; *r; r++, sep = ", ")
            printf("%s%s", sep, *r);
        printf(")");
    } else {
        printf(" (not a version duckmig knows)");
    }
    printf("\n");
    if (h->main_version != h->storage_version)
        printf("  main header      %llu\n",
               (unsigned long long)h->main_version);
    if (h->serialization)
        printf("  serialization    %llu\n",
               (unsigned long long)h->serialization);
    if (h->has_library && h->library_version[0])
        printf("  created by       %s (%s)\n", h->library_version,
               h->library_hash);
    else
        printf("  created by       unknown (headers before 0.9 do not say)\n");
    printf("  encrypted        %s\n", h->encrypted ? "yes" : "no");
    if (h->active >= 0) {
        const struct dm_db_header *d = &h->db[h->active];
        printf("  active header    %d (iteration %llu, %llu blocks of %llu "
               "bytes)\n",
               h->active + 1, (unsigned long long)d->iteration,
               (unsigned long long)d->block_count,
               (unsigned long long)d->block_alloc_size);
    } else {
        printf("  active header    unreadable (encrypted)\n");
    }
    printf("  checksums        %s\n",
           dm_header_checksums_ok(h) ? "ok" : "MISMATCH");
    if (f->wal) {
        fputs("  wal              ", stdout);
        dm_fputs_escaped(f->path, stdout);
        printf(".wal (%llu bytes)\n", (unsigned long long)f->wal_size);
    } else
        printf("  wal              none\n");
    if (f->has_engine)
        printf("  engine           %s\n", f->engine);
    else if (h->encrypted)
        printf("  engine           none (duckmig does not migrate encrypted "
               "files)\n");
    else
        printf("  engine           none installed can open it\n");
}

/* A file in a store: its headers from one ranged read (a ranged GET on
 * S3), its size and WAL from the store; nothing is downloaded. */
static enum dm_code read_stored(struct dm_store *st, const char *key,
                                struct file_report *f, struct dm_error *err)
{
    struct dm_object obj = {0}, wal = {0};
    uint8_t buf[DM_HEADER_SIZE];
    size_t got = 0;
    char *wal_key = NULL;
    struct dm_error perr = DM_ERROR_INIT;
    enum dm_code rc = dm_store_stat(st, key, &obj, err);
    if (!rc)
        rc = dm_store_read_range(st, key, 0, buf, sizeof(buf), &got, err);
    if (rc)
        goto out;
    f->size = obj.size;
    rc = dm_header_parse(buf, got, &f->info, &perr);
    if (rc) {
        dm_fail(err, rc, "%s: %s", f->path, perr.msg);
        goto out;
    }
    rc = dm_header_check_size(&f->info, obj.size, f->path, err);
    if (rc)
        goto out;
    wal_key = dm_fmt("%s.wal", key);
    if (!wal_key) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* a WAL that cannot be looked at is reported as none */
    if (dm_store_stat(st, wal_key, &wal, NULL) == DM_OK) {
        f->wal = true;
        f->wal_size = wal.size;
    }
out:
    free(wal_key);
    dm_object_release(&wal);
    dm_object_release(&obj);
    return rc;
}

/* A local file: its headers, and a .wal beside it. */
static enum dm_code read_local(struct file_report *f, struct dm_error *err)
{
    struct stat st;
    char walpath[4096];
    enum dm_code rc = dm_header_read_file(f->path, &f->info, &f->size, err);
    if (rc)
        return rc;
    snprintf(walpath, sizeof(walpath), "%s.wal", f->path);
    if (stat(walpath, &st) == 0) {
        f->wal = true;
        f->wal_size = (uint64_t)st.st_size;
    }
    return DM_OK;
}

/* Inspect one file, name as the user sees it; key in st, or a local
 * path when st is NULL. */
static int inspect_one(struct dm_store *st, const char *key, const char *name,
                       bool json)
{
    struct file_report f;
    struct dm_error err = DM_ERROR_INIT;

    memset(&f, 0, sizeof(f));
    f.path = name;
    enum dm_code rc =
        st ? read_stored(st, key, &f, &err) : read_local(&f, &err);
    if (rc) {
        fputs("duckmig: inspect: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
        return rc;
    }
    if (!f.info.encrypted)
        f.has_engine = dm_engine_for_storage(f.info.storage_version, f.engine);

    if (json)
        rc = print_json(&f);
    else
        print_human(&f);
    if (rc)
        return rc;
    if (!dm_header_checksums_ok(&f.info)) {
        fputs("duckmig: inspect: ", stderr);
        dm_fputs_escaped(name, stderr);
        fputs(": header checksum mismatch\n", stderr);
        return DM_ERR_CHECKSUM;
    }
    return DM_OK;
}

/* What a listing under a prefix inspects: every *.duckdb. */
struct prefix_walk {
    struct dm_store *st;
    const char *scheme; /* "s3://bucket/" or "efs:" */
    bool json;
    int status;
    size_t files;
};

static int inspect_listed(const struct dm_object *o, void *ud)
{
    struct prefix_walk *w = ud;
    size_t n = strlen(o->key);
    if (n < 7 || strcmp(o->key + n - 7, ".duckdb") != 0)
        return 0;
    w->files++;
    char *name = dm_fmt("%s%s", w->scheme, o->key);
    int rc = name ? inspect_one(w->st, o->key, name, w->json) : DM_ERR_NOMEM;
    free(name);
    if (rc && !w->status)
        w->status = rc;
    return 0;
}

/* s3://bucket/key, efs:KEY, or a prefix of either (empty, or ending with
 * '/'): every *.duckdb under it. */
static int inspect_stored(const char *arg, bool json)
{
    struct dm_location loc = {DM_LOC_PATH, NULL, NULL};
    struct dm_store *st = NULL;
    struct dm_error err = DM_ERROR_INIT;
    char *scheme = NULL;
    enum dm_code rc = dm_location_parse(arg, &loc, &err);
    if (!rc)
        rc = dm_location_store(&loc, false, &st, &err);
    if (rc)
        goto out;
    size_t n = strlen(loc.key);
    if (n && loc.key[n - 1] != '/') {
        rc = inspect_one(st, loc.key, arg, json);
        goto out;
    }
    scheme =
        loc.kind == DM_LOC_S3 ? dm_fmt("s3://%s/", loc.bucket) : strdup("efs:");
    if (!scheme) {
        rc = dm_fail(&err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct prefix_walk w = {st, scheme, json, 0, 0};
    rc = dm_prefix_check(loc.key, &err);
    if (!rc)
        rc = dm_store_list(st, loc.key, inspect_listed, &w, &err);
    if (!rc && w.files == 0)
        rc = dm_fail(&err, DM_ERR_NOT_FOUND, "no *.duckdb file under %s", arg);
    if (!rc)
        rc = w.status;
out:
    if (rc && err.code) {
        fputs("duckmig: inspect: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    free(scheme);
    dm_store_close(st);
    dm_location_release(&loc);
    return rc;
}

static bool is_stored(const char *arg)
{
    return strncmp(arg, "s3://", 5) == 0 || strncmp(arg, "efs:", 4) == 0;
}

int cmd_inspect(int argc, char **argv)
{
    bool json = false;
    int r = dm_cmd_json_option(argc, argv, cmd_inspect_usage, &json);
    if (r)
        return r < 0 ? 0 : r;
    if (optind >= argc) {
        fputs(cmd_inspect_usage, stderr);
        return DM_ERR_USAGE;
    }
    int status = 0;
    for (int i = optind; i < argc; i++) {
        int rc = is_stored(argv[i]) ? inspect_stored(argv[i], json)
                                    : inspect_one(NULL, NULL, argv[i], json);
        if (rc && !status)
            status = rc;
    }
    return status;
}
