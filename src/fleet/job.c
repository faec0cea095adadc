/* job.c - one fleet job (see job.h). */
#define _XOPEN_SOURCE 700
#include "fleet/job.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "header/header.h"
#include "migrate/migrate.h"
#include "catalog/source.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"
#include "verify/verify.h"

bool dm_code_permanent(enum dm_code code)
{
    switch (code) {
    case DM_ERR_USAGE:
    case DM_ERR_NOT_DUCKDB:
    case DM_ERR_TRUNCATED:
    case DM_ERR_CHECKSUM:
    case DM_ERR_DAMAGED:
    case DM_ERR_UNSUPPORTED:
    case DM_ERR_ENGINE:
    case DM_ERR_SQL:
    case DM_ERR_INTERNAL:
    case DM_ERR_VERIFY:
    case DM_ERR_NOT_FOUND:
    case DM_ERR_BAD_KEY:
    case DM_ERR_REMOTE:
        return true;
    default: /* network, I/O (a disk briefly full), memory, a dead worker,
                credentials (they rotate) */
        return false;
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum dm_code dm_datastore_open(enum dm_datastore ds, const char *bucket,
                               bool as_dest, struct dm_store **out,
                               struct dm_error *err)
{
    struct dm_location loc = {ds == DM_DS_S3 ? DM_LOC_S3 : DM_LOC_EFS,
                              (char *)bucket, (char *)""};
    return dm_location_store(&loc, as_dest, out, err);
}

static void set_version(char *out, size_t cap, uint64_t storage)
{
    /* the header tells the storage version, which several releases
     * share: name the range ("0.8.0-0.8.1") */
    const char *const *r = dm_storage_releases(storage);
    size_t n = 0;
    while (r && r[n])
        n++;
    if (n == 1)
        snprintf(out, cap, "%s", r[0]);
    else if (n > 1)
        snprintf(out, cap, "%s-%s", r[0], r[n - 1]);
    else
        snprintf(out, cap, "storage %llu", (unsigned long long)storage);
}

/* Messages name the local copy; the ledger and the dead-letter queue
 * want the source's own name: replace the one with the other. */
static void rename_in_msg(struct dm_error *err, const char *local,
                          const char *uri)
{
    char *at = strstr(err->msg, local);
    if (!at || !uri)
        return;
    char buf[DM_ERROR_MSG_MAX];
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - err->msg), err->msg, uri,
             at + strlen(local));
    snprintf(err->msg, sizeof(err->msg), "%s", buf);
}

static enum dm_code fail(struct dm_job_outcome *out, enum dm_code code,
                         const struct dm_error *err)
{
    out->code = code;
    out->permanent = dm_code_permanent(code);
    out->status = code == DM_ERR_UNSUPPORTED || code == DM_ERR_ENGINE
                      ? "skipped"
                      : "failed";
    snprintf(out->error, sizeof(out->error), "%s", err->msg);
    return code;
}

/* Does the destination already hold this source, migrated and verified? */
static bool already_done(struct dm_store *dst, const struct dm_job_spec *job,
                         const char *src_path, const char *check_path,
                         uint64_t target_storage, struct dm_job_outcome *out)
{
    struct dm_object obj = {0};
    struct dm_error err = DM_ERROR_INIT;
    struct dm_header_info h;
    struct dm_report r = {0, 0, NULL, 0, 0, 0, 0};
    bool done = false;
    if (dst->ops->stat(dst, job->dst_key, &obj, &err))
        return false; /* not there (or not readable): do the work */
    dm_object_release(&obj);
    if (dst->ops->get(dst, job->dst_key, check_path, &obj, NULL, &err) ||
        dm_header_read_file(check_path, &h, NULL, &err) ||
        h.storage_version != target_storage)
        goto out;
    /* done means it verifies whole: nothing missing, different, not
     * carried or computing differently */
    if (dm_verify_files(src_path, check_path, NULL, &r, &err) == DM_OK &&
        !dm_report_mismatch(&r) && !dm_report_incomplete(&r)) {
        done = true;
        out->dst_size = obj.size;
        set_version(out->dst_version, sizeof(out->dst_version),
                    h.storage_version);
        out->verification = dm_report_json(&r);
    }
out:
    dm_report_release(&r);
    dm_object_release(&obj);
    unlink(check_path);
    return done;
}

/*
 * Fetch key's WAL (key + ".wal"), if the store has one, to path + ".wal":
 * it holds rows the file does not, and travels with it.
 */
static enum dm_code get_wal(struct dm_store *src, const char *key,
                            const char *path, struct dm_error *err)
{
    struct dm_object obj = {0};
    char *wal_key = dm_fmt("%s.wal", key), *wal_path = dm_fmt("%s.wal", path);
    enum dm_code rc = DM_OK;
    if (!wal_key || !wal_path) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* a get of a missing key fails with NOT_FOUND before it writes */
    rc = src->ops->get(src, wal_key, wal_path, &obj, NULL, err);
    dm_object_release(&obj);
    if (rc == DM_ERR_NOT_FOUND) {
        dm_error_clear(err);
        rc = DM_OK;
    }
out:
    free(wal_path);
    free(wal_key);
    return rc;
}

enum dm_code dm_job_run(const struct dm_job_spec *job,
                        const char *download_root, const char *target,
                        struct dm_job_outcome *out)
{
    struct dm_error err = DM_ERROR_INIT;
    struct dm_store *src = NULL, *dst = NULL;
    char *dir = NULL, *in = NULL, *outp = NULL, *check = NULL;
    struct dm_migrate_result res;
    struct dm_source replayed = {{0}, {0}, {0}};
    bool have_res = false;
    double t0 = now_s();
    enum dm_code rc = DM_OK;
    memset(out, 0, sizeof(*out));
    memset(&res, 0, sizeof(res));

    rc = dm_datastore_open(job->src, job->src_bucket, false, &src, &err);
    if (!rc)
        rc = dm_datastore_open(job->dst, job->dst_bucket, true, &dst, &err);
    if (rc)
        goto fail;
    if (mkdir(download_root, 0755) != 0 && errno != EEXIST) {
        rc = dm_fail_errno(&err, DM_ERR_IO, errno, "cannot create '%s'",
                           download_root);
        goto fail;
    }
    dir = dm_fmt("%s/job-XXXXXX", download_root);
    if (!dir || !mkdtemp(dir)) {
        rc = dm_fail_errno(&err, DM_ERR_IO, errno,
                           "cannot create a job folder in '%s'", download_root);
        free(dir);
        dir = NULL;
        goto fail;
    }
    const char *name = dm_base_name(job->src_key);
    in = dm_fmt("%s/in-%s", dir, name);
    outp = dm_fmt("%s/%s", dir, dm_base_name(job->dst_key));
    check = dm_fmt("%s/check-%s", dir, name);
    if (!in || !outp || !check) {
        rc = dm_fail(&err, DM_ERR_NOMEM, "out of memory");
        goto fail;
    }

    struct dm_object got = {0};
    rc = src->ops->get(src, job->src_key, in, &got, NULL, &err);
    out->src_size = got.size;
    dm_object_release(&got);
    if (!rc)
        rc = get_wal(src, job->src_key, in, &err);
    if (rc)
        goto fail;
    struct dm_header_info h;
    rc = dm_header_read_file(in, &h, NULL, &err);
    if (rc)
        goto fail;
    set_version(out->src_version, sizeof(out->src_version), h.storage_version);

    char release[DM_RELEASE_MAX];
    uint64_t target_storage = 0;
    rc = dm_release_normalize(target, release, &err);
    if (!rc)
        rc = dm_target_storage(release, NULL, &target_storage, &err);
    if (rc)
        goto fail;
    if (already_done(dst, job, in, check, target_storage, out)) {
        out->status = "already_done";
        goto done;
    }

    struct dm_migrate_opts mo = {
        in,
        outp,
        release,
        NULL,
        false,
        0,
        strcmp(dm_env_or("DUCKMIG_IGNORE_WAL_ERRORS", "0"), "1") == 0};
    rc = dm_migrate(&mo, &res, &err);
    have_res = true;
    if (rc && res.status != DM_MIG_INCOMPLETE)
        goto fail;
    out->verification = dm_report_json(&res.report);
    const char *upload = outp;
    if (res.status == DM_MIG_ALREADY) {
        /* the seed: at the target already, so the file goes as it is
         * (replayed.path is the file itself); with a WAL, a copy that
         * holds the WAL's rows goes instead */
        rc =
            dm_source_prepare(in, res.src_release, dir, false, &replayed, &err);
        if (rc)
            goto fail;
        upload = replayed.path;
        out->status = "already_at_target";
        snprintf(out->dst_version, sizeof(out->dst_version), "%s",
                 out->src_version);
    } else {
        out->status =
            res.status == DM_MIG_INCOMPLETE ? "incomplete" : "migrated";
        set_version(out->dst_version, sizeof(out->dst_version),
                    res.dst_storage);
        if (res.status == DM_MIG_INCOMPLETE)
            snprintf(out->error, sizeof(out->error), "%s", err.msg);
    }
    dm_error_clear(&err);
    struct dm_object put = {0};
    rc = dst->ops->put(dst, upload, job->dst_key, &put, NULL, &err);
    out->dst_size = put.size;
    dm_object_release(&put);
    if (rc)
        goto fail;
    goto done;
fail:
    if (in) {
        char *uri = dm_job_source_uri(job);
        rename_in_msg(&err, in, uri);
        free(uri);
    }
    fail(out, rc, &err);
    json_decref(out->verification);
    out->verification = NULL;
done:
    dm_source_remove(&replayed);
    if (have_res)
        dm_report_release(&res.report);
    if (dir)
        rm_rf(dir);
    free(check);
    free(outp);
    free(in);
    free(dir);
    dm_store_close(dst);
    dm_store_close(src);
    out->seconds = now_s() - t0;
    return out->code;
}

json_t *dm_job_outcome_json(const struct dm_job_outcome *o)
{
    json_t *j = json_pack(
        "{s:s, s:b, s:s, s:s, s:s, s:I, s:I, s:f}", "status",
        o->status ? o->status : "failed", "permanent", o->permanent, "code",
        dm_code_name(o->code), "src_version", o->src_version, "dst_version",
        o->dst_version, "src_size", (json_int_t)o->src_size, "dst_size",
        (json_int_t)o->dst_size, "seconds", o->seconds);
    if (j && o->error[0])
        json_object_set_new(j, "error", json_string(o->error));
    if (j && o->verification)
        json_object_set(j, "verification", o->verification);
    return j;
}

static const char *const statuses[] = {
    "migrated",   "already_at_target", "already_done",
    "incomplete", "skipped",           "failed",
};

enum dm_code dm_job_outcome_parse(json_t *j, struct dm_job_outcome *o)
{
    memset(o, 0, sizeof(*o));
    const char *st = json_string_value(json_object_get(j, "status"));
    for (size_t i = 0; st && i < sizeof(statuses) / sizeof(*statuses); i++)
        if (strcmp(st, statuses[i]) == 0)
            o->status = statuses[i];
    if (!o->status)
        return DM_ERR_PROTOCOL;
    o->permanent = json_is_true(json_object_get(j, "permanent"));
    const char *code = json_string_value(json_object_get(j, "code"));
    for (int c = 0; code && c <= DM_ERR_REMOTE; c++)
        if (strcmp(dm_code_name((enum dm_code)c), code) == 0)
            o->code = (enum dm_code)c;
    snprintf(o->src_version, sizeof(o->src_version), "%s",
             json_string_value(json_object_get(j, "src_version"))
                 ? json_string_value(json_object_get(j, "src_version"))
                 : "");
    snprintf(o->dst_version, sizeof(o->dst_version), "%s",
             json_string_value(json_object_get(j, "dst_version"))
                 ? json_string_value(json_object_get(j, "dst_version"))
                 : "");
    o->src_size = (uint64_t)json_integer_value(json_object_get(j, "src_size"));
    o->dst_size = (uint64_t)json_integer_value(json_object_get(j, "dst_size"));
    o->seconds = json_real_value(json_object_get(j, "seconds"));
    const char *e = json_string_value(json_object_get(j, "error"));
    if (e)
        snprintf(o->error, sizeof(o->error), "%s", e);
    json_t *v = json_object_get(j, "verification");
    o->verification = v ? json_incref(v) : NULL;
    return DM_OK;
}

void dm_job_outcome_release(struct dm_job_outcome *o)
{
    json_decref(o->verification);
    o->verification = NULL;
}
