/*
 * job.c - one fleet job (see job.h), and its in-place form.
 *
 * A job never writes over its own source: when the destination is the
 * source (the same S3 object, or the same file, device and inode, under
 * both EFS roots) it is refused, unless the message asks for the
 * in-place form ("backup_suffix", from `batch --in-place`). Then, with
 * K the file, W = K.wal, and the backups B = K + suffix and WB = W +
 * suffix, the steps and what a kill at each leaves are:
 *
 *   1. No B: download K (and W). B there: an earlier run stopped after
 *      step 4, and B (and WB) is the original: download those, and
 *      check that K (and W, when there) are still the same bytes. When
 *      K is not, step 6 was done: already_done if K verifies against B,
 *      else refused (K changed after it was migrated; nothing touched).
 *   2. Migrate and verify, in the job's folder.
 *      Killed in 1-2: nothing in the store has changed.
 *   3. WB = the downloaded W (an atomic put), when K has a WAL.
 *      Killed: WB whole or absent, no B: a rerun starts again at 1.
 *   4. B = the downloaded K (an atomic put, its size checked).
 *      Killed after: K, W, WB, B: a rerun finds B, K == B, W == WB, and
 *      goes on from 2 with B as the source.
 *   5. W removed: the new file must never meet the old WAL (DuckDB
 *      would replay it into the new file). Killed after: K without W,
 *      B and WB: the rerun goes on as after 4.
 *   6. K = the new file (an atomic put). Killed after: a rerun finds K
 *      not B, verifying against B: already_done.
 *
 * A file already at the target without a WAL is left as it is, and no
 * backup is made (already_at_target). Backups are never removed.
 */
#define _XOPEN_SOURCE 700
#include "fleet/job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "header/header.h"
#include "migrate/migrate.h"
#include "catalog/source.h"
#include "fleet/outcome.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"
#include "util/text.h"
#include "verify/verify.h"
#include "util/settings.h"

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
    case DM_ERR_INCOMPLETE:
    case DM_ERR_NOT_FOUND:
    case DM_ERR_BAD_KEY:
    case DM_ERR_REMOTE:
        return true;
    default: /* network, I/O (a disk briefly full), memory, a dead worker,
                credentials (they rotate) */
        return false;
    }
}

/*
 * An incomplete file (objects not carried, or computing differently) is
 * not shipped as done unless every such item is of a class that
 * DUCKMIG_ACCEPT_INCOMPLETE (a comma-separated list) accepts:
 *   all        everything
 *   external   views and macros that read files outside the database
 *   changed    definitions that compute differently in the target
 *   KIND       items of that report kind: view, macro, index, constraint,
 *              type, sequence, table, data, computed, wal
 * Returns DM_OK when accepted; else DM_ERR_INCOMPLETE with the items
 * that are not, or DM_ERR_USAGE for a class it does not know.
 */
static const char *const accept_classes[] = {
    "all",  "external", "changed", "view", "macro",    "index", "constraint",
    "type", "sequence", "table",   "data", "computed", "wal",
};

static bool item_accepted(const struct dm_report_item *it, const char *cls)
{
    if (strcmp(cls, "all") == 0 || strcmp(cls, it->kind) == 0)
        return true;
    if (strcmp(cls, "external") == 0)
        return it->detail &&
               strstr(it->detail, "reads files outside the database");
    return strcmp(cls, "changed") == 0 && it->status == DM_ITEM_CHANGED;
}

static enum dm_code incomplete_accepted(const struct dm_report *r,
                                        const char *accept,
                                        struct dm_error *err)
{
    char *list = strdup(accept ? accept : "");
    char *classes[32];
    size_t ncls = 0;
    enum dm_code rc = DM_OK;
    struct dm_sbuf named = DM_SBUF_INIT;
    size_t left = 0;
    if (!list)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    for (char *save = NULL, *c = strtok_r(list, ", ", &save); c;
         c = strtok_r(NULL, ", ", &save)) {
        bool known = false;
        for (size_t k = 0; k < sizeof(accept_classes) / sizeof(char *); k++)
            known |= strcmp(c, accept_classes[k]) == 0;
        if (!known || ncls == sizeof(classes) / sizeof(*classes)) {
            rc = dm_fail(err, DM_ERR_USAGE,
                         "DUCKMIG_ACCEPT_INCOMPLETE: unknown class '%s' "
                         "(all, external, changed, or a report kind: "
                         "view, macro, index, constraint, type, sequence, "
                         "table, data, computed, wal)",
                         c);
            goto out;
        }
        classes[ncls++] = c;
    }
    for (size_t i = 0; i < r->nitems; i++) {
        const struct dm_report_item *it = &r->items[i];
        if (it->status != DM_ITEM_NOT_CARRIED && it->status != DM_ITEM_CHANGED)
            continue;
        bool ok = false;
        for (size_t k = 0; !ok && k < ncls; k++)
            ok = item_accepted(it, classes[k]);
        if (ok)
            continue;
        if (left++ < 5)
            dm_sbuf_addf(&named, "%s%s %s %s (%s)", left > 1 ? "; " : "",
                         it->kind, it->name, dm_item_status_name(it->status),
                         it->detail ? it->detail : "");
    }
    if (left) {
        char *text = dm_sbuf_take(&named);
        rc = dm_fail(err, DM_ERR_INCOMPLETE,
                     "incomplete, not shipped: %zu item(s) not carried or "
                     "computing differently: %s%s (DUCKMIG_ACCEPT_INCOMPLETE "
                     "names the classes a fleet accepts)",
                     left, text ? text : "?", left > 5 ? "; ..." : "");
        free(text);
    }
out:
    dm_sbuf_release(&named);
    free(list);
    return rc;
}

enum dm_code dm_job_accept_check(const char *accept, struct dm_error *err)
{
    struct dm_report none = {0, 0, NULL, 0, 0, 0, 0};
    return incomplete_accepted(&none, accept, err);
}

enum dm_code dm_datastore_open(enum dm_datastore ds, const char *bucket,
                               bool as_dest, struct dm_store **out,
                               struct dm_error *err)
{
    struct dm_location loc = {ds == DM_DS_S3 ? DM_LOC_S3 : DM_LOC_EFS,
                              (char *)bucket, (char *)""};
    return dm_location_store(&loc, as_dest, out, err);
}

static void set_version(char *out, size_t cap, uint64_t *storage_out,
                        uint64_t storage)
{
    *storage_out = storage;
    dm_storage_release_name(storage, out, cap);
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
                      ? DM_STATUS_SKIPPED
                      : DM_STATUS_FAILED;
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
    if (dm_store_stat(dst, job->dst_key, &obj, &err))
        return false; /* not there (or not readable): do the work */
    dm_object_release(&obj);
    if (dm_store_get(dst, job->dst_key, check_path, &obj, NULL, &err) ||
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
                    &out->dst_storage, h.storage_version);
        out->verification = dm_report_json(&r);
    }
out:
    dm_report_release(&r);
    dm_object_release(&obj);
    unlink(check_path);
    return done;
}

/*
 * Fetch a source's WAL, wal_key, if the store has one, to path + ".wal":
 * it holds rows the file does not, and travels with it. *have says
 * whether there was one.
 */
static enum dm_code get_wal(struct dm_store *src, const char *wal_key,
                            const char *path, bool *have, struct dm_error *err)
{
    struct dm_object obj = {0};
    char *wal_path = dm_fmt("%s.wal", path);
    enum dm_code rc = DM_OK;
    *have = false;
    if (!wal_path)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    /* a get of a missing key fails with NOT_FOUND before it writes */
    rc = dm_store_get(src, wal_key, wal_path, &obj, NULL, err);
    dm_object_release(&obj);
    *have = rc == DM_OK;
    if (rc == DM_ERR_NOT_FOUND) {
        dm_error_clear(err);
        rc = DM_OK;
    }
    free(wal_path);
    return rc;
}

/* Would writing the destination replace the source itself? S3: the same
 * bucket and key; EFS: the same file (device and inode) under both
 * roots. A source that cannot be looked at fails here, as its download
 * would. */
static enum dm_code same_object(const struct dm_job_spec *job,
                                struct dm_store *src, struct dm_store *dst,
                                bool *same, struct dm_error *err)
{
    *same = false;
    if (job->src != job->dst)
        return DM_OK;
    if (job->src == DM_DS_S3) {
        *same = strcmp(job->src_bucket, job->dst_bucket) == 0 &&
                strcmp(job->src_key, job->dst_key) == 0;
        return DM_OK;
    }
    struct dm_object a = {0}, b = {0};
    struct dm_error e = DM_ERROR_INIT;
    enum dm_code rc = dm_store_stat(src, job->src_key, &a, err);
    if (!rc && dm_store_stat(dst, job->dst_key, &b, &e) == DM_OK)
        *same = a.dev == b.dev && a.ino == b.ino;
    dm_object_release(&a);
    dm_object_release(&b);
    return rc;
}

/* Do local files a and b hold the same bytes? */
static enum dm_code files_equal(const char *a, const char *b, bool *equal,
                                struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    enum { CHUNK = 1 << 16 };
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    char *ba = malloc(CHUNK), *bb = malloc(CHUNK);
    *equal = false;
    if (!ba || !bb) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!fa || !fb) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot compare '%s'",
                           fa ? b : a);
        goto out;
    }
    for (;;) {
        size_t na = fread(ba, 1, CHUNK, fa), nb = fread(bb, 1, CHUNK, fb);
        if (ferror(fa) || ferror(fb)) {
            rc = dm_fail(err, DM_ERR_IO, "cannot compare '%s' and '%s'", a, b);
            goto out;
        }
        if (na != nb || memcmp(ba, bb, na) != 0)
            goto out;
        if (na == 0)
            break;
    }
    *equal = true;
out:
    free(ba);
    free(bb);
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return rc;
}

/* Does key in s hold the bytes of the local file path? Fetched to tmp
 * (then removed) only when the sizes agree. DM_ERR_NOT_FOUND when key is
 * not there. */
static enum dm_code same_bytes(struct dm_store *s, const char *key,
                               const char *path, const char *tmp, bool *same,
                               struct dm_error *err)
{
    struct dm_object o = {0};
    struct stat st;
    *same = false;
    enum dm_code rc = dm_store_stat(s, key, &o, err);
    if (!rc && stat(path, &st) != 0)
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot read '%s'", path);
    if (!rc && o.size == (uint64_t)st.st_size) {
        dm_object_release(&o);
        rc = dm_store_get(s, key, tmp, &o, NULL, err);
        if (!rc)
            rc = files_equal(path, tmp, same, err);
        unlink(tmp);
    }
    dm_object_release(&o);
    return rc;
}

/* The names of the in-place form (see the top of this file). */
struct in_place {
    char *backup;     /* B = K + suffix */
    char *wal;        /* W = K.wal */
    char *wal_backup; /* WB = W + suffix */
    bool have_backup; /* B was there: an earlier run got past step 4 */
};

static void in_place_release(struct in_place *ip)
{
    free(ip->backup);
    free(ip->wal);
    free(ip->wal_backup);
    memset(ip, 0, sizeof(*ip));
}

/* Step 1 when B is there: are K and W still the original (B and WB, in
 * the job's folder as in and in.wal)? *replaced: K is not (step 6 was
 * done, or K changed since). Refused: a W that is not WB. */
static enum dm_code check_original(struct dm_store *st,
                                   const struct dm_job_spec *job,
                                   const struct in_place *ip, const char *in,
                                   bool have_wal, const char *tmp,
                                   bool *replaced, struct dm_error *err)
{
    bool same = false;
    enum dm_code rc = same_bytes(st, job->dst_key, in, tmp, &same, err);
    *replaced = !same;
    if (rc || !same)
        return rc;
    /* W may be gone (step 5), or still WB; anything else is newer than
     * the backup, and removing it would lose its rows */
    char *in_wal = dm_fmt("%s.wal", in);
    if (!in_wal)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (have_wal) {
        rc = same_bytes(st, ip->wal, in_wal, tmp, &same, err);
    } else {
        struct dm_object o = {0};
        rc = dm_store_stat(st, ip->wal, &o, err);
        dm_object_release(&o);
        same = false;
    }
    free(in_wal);
    if (rc == DM_ERR_NOT_FOUND) {
        dm_error_clear(err);
        return DM_OK;
    }
    if (!rc && !same)
        rc = dm_fail(err, DM_ERR_USAGE,
                     "%s has a WAL that its backup %s does not have: it was "
                     "written to after the backup was made, and is left as "
                     "it is",
                     job->dst_key, have_wal ? ip->wal_backup : ip->backup);
    return rc;
}

/* Steps 3-5: keep the original beside K, and take the old WAL away. */
static enum dm_code keep_original(struct dm_store *st,
                                  const struct in_place *ip, const char *in,
                                  bool have_wal, uint64_t src_size,
                                  struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    struct dm_object put = {0};
    if (!ip->have_backup) {
        if (have_wal) {
            char *in_wal = dm_fmt("%s.wal", in);
            rc = in_wal
                     ? dm_store_put(st, in_wal, ip->wal_backup, &put, NULL, err)
                     : dm_fail(err, DM_ERR_NOMEM, "out of memory");
            dm_object_release(&put);
            free(in_wal);
            if (rc)
                return rc;
        }
        rc = dm_store_put(st, in, ip->backup, &put, NULL, err);
        if (!rc && put.size != src_size)
            rc = dm_fail(err, DM_ERR_IO,
                         "the backup %s has %llu bytes, the original %llu",
                         ip->backup, (unsigned long long)put.size,
                         (unsigned long long)src_size);
        dm_object_release(&put);
        if (rc)
            return rc;
    }
    return dm_store_remove(st, ip->wal, err);
}

/* One job's state through its steps (dm_job_run). */
struct job {
    const struct dm_job_spec *spec;
    const char *dir;
    struct dm_job_outcome *out;
    bool in_place;
    struct dm_store *src, *dst;
    char *in;      /* the download */
    char *outp;    /* the migrated file */
    char *check;   /* a destination fetched to compare with */
    char *wal_key; /* the source's WAL */
    struct in_place ip;
    bool have_wal;
    char release[DM_RELEASE_MAX];
    uint64_t target_storage;
    struct dm_migrate_result res;
    bool have_res;
    struct dm_source replayed;
};

/* Step 1: the stores, and a destination that is (or, in place, is not)
 * the source refused. */
static enum dm_code open_stores(struct job *j, struct dm_error *err)
{
    const struct dm_job_spec *job = j->spec;
    bool same = false;
    enum dm_code rc =
        dm_datastore_open(job->src, job->src_bucket, false, &j->src, err);
    if (!rc)
        rc = dm_datastore_open(job->dst, job->dst_bucket, true, &j->dst, err);
    if (!rc)
        rc = same_object(job, j->src, j->dst, &same, err);
    if (rc)
        return rc;
    if (same && !j->in_place) {
        char *uri = dm_job_dest_uri(job);
        rc = dm_fail(err, DM_ERR_USAGE,
                     "the destination %s is the source itself, and an "
                     "original is never replaced (batch --in-place keeps "
                     "it beside the new file)",
                     uri ? uri : job->dst_key);
        free(uri);
        return rc;
    }
    if (j->in_place && !same)
        return dm_fail(err, DM_ERR_USAGE,
                       "in place: the destination %s is not the source",
                       job->dst_key);
    return DM_OK;
}

/* The job's files in its folder, the keys of the in-place form, and the
 * names log lines use for them. */
static enum dm_code name_files(struct job *j, struct dm_error *err)
{
    const struct dm_job_spec *job = j->spec;
    const char *name = dm_base_name(job->src_key);
    j->in = dm_fmt("%s/in-%s", j->dir, name);
    j->outp = dm_fmt("%s/%s", j->dir, dm_base_name(job->dst_key));
    j->check = dm_fmt("%s/check-%s", j->dir, name);
    if (j->in_place) {
        j->ip.backup = dm_fmt("%s%s", job->src_key, job->backup_suffix);
        j->ip.wal = dm_fmt("%s.wal", job->src_key);
        j->ip.wal_backup = dm_fmt("%s.wal%s", job->src_key, job->backup_suffix);
    }
    j->wal_key = dm_fmt("%s.wal", job->src_key);
    if (!j->in || !j->outp || !j->check || !j->wal_key ||
        (j->in_place && (!j->ip.backup || !j->ip.wal || !j->ip.wal_backup)))
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    /* log lines name the files as their owner knows them, never the
     * job's temporary copies */
    char *src_uri = dm_job_source_uri(job), *dst_uri = dm_job_dest_uri(job);
    dm_log_alias(j->in, src_uri);
    dm_log_alias(j->outp, dst_uri);
    dm_log_alias(j->check, dst_uri);
    dm_log_alias(j->dir, "(the job's folder)");
    free(dst_uri);
    free(src_uri);
    return DM_OK;
}

/* Step 2: the source (K, or in place after a stopped run, its backup B)
 * and its WAL downloaded, its version read from the header. */
static enum dm_code download(struct job *j, struct dm_error *err)
{
    const char *src_key = j->spec->src_key, *src_wal = j->wal_key;
    enum dm_code rc;
    if (j->in_place) {
        struct dm_object b = {0};
        rc = dm_store_stat(j->src, j->ip.backup, &b, err);
        dm_object_release(&b);
        j->ip.have_backup = rc == DM_OK;
        if (rc == DM_ERR_NOT_FOUND) {
            dm_error_clear(err);
            rc = DM_OK;
        }
        if (rc)
            return rc;
        if (j->ip.have_backup) {
            src_key = j->ip.backup;
            src_wal = j->ip.wal_backup;
        }
    }
    struct dm_object got = {0};
    rc = dm_store_get(j->src, src_key, j->in, &got, NULL, err);
    j->out->src_size = got.size;
    dm_object_release(&got);
    if (!rc)
        rc = get_wal(j->src, src_wal, j->in, &j->have_wal, err);
    if (rc)
        return rc;
    struct dm_header_info h;
    rc = dm_header_read_file(j->in, &h, NULL, err);
    if (rc)
        return rc;
    set_version(j->out->src_version, sizeof(j->out->src_version),
                &j->out->src_storage, h.storage_version);
    return DM_OK;
}

/* Step 3: is the work done already (a redelivery)? *done then, with the
 * outcome set. In place, K is the original until the upload: nothing to
 * skip, but a K that is neither it nor its migration is refused. */
static enum dm_code skip_done(struct job *j, const char *target, bool *done,
                              struct dm_error *err)
{
    const struct dm_job_spec *job = j->spec;
    *done = false;
    enum dm_code rc = dm_release_normalize(target, j->release, err);
    if (!rc)
        rc = dm_target_storage(j->release, NULL, &j->target_storage, err);
    if (rc)
        return rc;
    bool replaced = !j->in_place;
    if (j->ip.have_backup) {
        rc = check_original(j->dst, job, &j->ip, j->in, j->have_wal, j->check,
                            &replaced, err);
        if (rc)
            return rc;
    }
    if (replaced &&
        already_done(j->dst, job, j->in, j->check, j->target_storage, j->out)) {
        j->out->status = DM_STATUS_ALREADY_DONE;
        *done = true;
        return DM_OK;
    }
    if (replaced && j->in_place)
        return dm_fail(err, DM_ERR_USAGE,
                       "%s is neither its backup %s nor that file migrated "
                       "to %s and verified: it changed after an earlier run, "
                       "and is left as it is (move %s away to migrate %s as "
                       "it is now)",
                       job->dst_key, j->ip.backup, j->release, j->ip.backup,
                       job->dst_key);
    return DM_OK;
}

/* Step 4: migrate and verify; *upload is the file to send, NULL when
 * there is nothing to send (in place, a file already at the target). */
static enum dm_code migrate(struct job *j, const char **upload,
                            struct dm_error *err)
{
    struct dm_job_outcome *out = j->out;
    struct dm_migrate_opts mo = {
        j->in,
        j->outp,
        j->release,
        NULL,
        false,
        0,
        strcmp(dm_setting(DM_SET_IGNORE_WAL_ERRORS), "1") == 0};
    *upload = NULL;
    enum dm_code rc = dm_migrate(&mo, &j->res, err);
    j->have_res = true;
    if (rc && j->res.status != DM_MIG_INCOMPLETE)
        return rc;
    out->verification = dm_report_json(&j->res.report);
    if (j->res.status == DM_MIG_ALREADY) {
        /* the seed: at the target already, so the file goes as it is
         * (replayed.path is the file itself); with a WAL, a copy that
         * holds the WAL's rows goes instead */
        rc = dm_source_prepare(j->in, j->res.src_release, j->dir, false,
                               &j->replayed, err);
        if (rc)
            return rc;
        out->status = DM_STATUS_ALREADY_AT_TARGET;
        snprintf(out->dst_version, sizeof(out->dst_version), "%s",
                 out->src_version);
        out->dst_storage = out->src_storage;
        /* in place, such a file is already what it should be */
        if (!(j->in_place && !j->have_wal && !j->ip.have_backup))
            *upload = j->replayed.path;
        return DM_OK;
    }
    out->status = j->res.status == DM_MIG_INCOMPLETE ? DM_STATUS_INCOMPLETE
                                                     : DM_STATUS_MIGRATED;
    set_version(out->dst_version, sizeof(out->dst_version), &out->dst_storage,
                j->res.dst_storage);
    if (j->res.status == DM_MIG_INCOMPLETE) {
        snprintf(out->error, sizeof(out->error), "%s", err->msg);
        dm_error_clear(err);
        rc = incomplete_accepted(&j->res.report,
                                 dm_setting(DM_SET_ACCEPT_INCOMPLETE), err);
        if (rc)
            return rc;
    }
    *upload = j->outp;
    return DM_OK;
}

/* Step 5: in place, the original kept as its backup first; then the
 * file, written whole at the destination. */
static enum dm_code upload_result(struct job *j, const char *upload,
                                  struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    if (j->in_place) {
        rc = keep_original(j->dst, &j->ip, j->in, j->have_wal, j->out->src_size,
                           err);
        if (rc)
            return rc;
    }
    struct dm_object put = {0};
    rc = dm_store_put(j->dst, upload, j->spec->dst_key, &put, NULL, err);
    j->out->dst_size = put.size;
    dm_object_release(&put);
    return rc;
}

enum dm_code dm_job_run(const struct dm_job_spec *job, const char *dir,
                        const char *target, struct dm_job_outcome *out)
{
    struct dm_error err = DM_ERROR_INIT;
    struct job j;
    bool done = false;
    const char *upload = NULL;
    double t0 = dm_clock_now();
    memset(&j, 0, sizeof(j));
    memset(out, 0, sizeof(*out));
    j.spec = job;
    j.dir = dir;
    j.out = out;
    j.in_place = job->backup_suffix != NULL;

    enum dm_code rc = open_stores(&j, &err);
    if (!rc)
        rc = name_files(&j, &err);
    if (!rc)
        rc = download(&j, &err);
    if (!rc)
        rc = skip_done(&j, target, &done, &err);
    if (!rc && !done)
        rc = migrate(&j, &upload, &err);
    if (!rc && !done && upload) {
        dm_error_clear(&err);
        rc = upload_result(&j, upload, &err);
    }
    if (rc) {
        if (j.in) {
            char *uri = dm_job_source_uri(job);
            rename_in_msg(&err, j.in, uri);
            free(uri);
        }
        fail(out, rc, &err);
        /* an incomplete file refused keeps its report: it names what the
         * target could not hold */
        if (rc != DM_ERR_INCOMPLETE) {
            json_decref(out->verification);
            out->verification = NULL;
        }
    }
    dm_source_remove(&j.replayed);
    if (j.have_res)
        dm_report_release(&j.res.report);
    dm_log_alias_clear();
    in_place_release(&j.ip);
    free(j.wal_key);
    free(j.check);
    free(j.outp);
    free(j.in);
    dm_store_close(j.dst);
    dm_store_close(j.src);
    out->seconds = dm_clock_now() - t0;
    return out->code;
}

json_t *dm_job_outcome_json(const struct dm_job_outcome *o)
{
    struct dm_file_outcome f = {
        "consume",   NULL,        NULL,           o->status,
        o->code,     o->error,    o->src_storage, o->dst_storage,
        o->src_size, o->dst_size, o->seconds,     o->verification};
    json_t *j = dm_file_outcome_json(&f);
    if (j)
        json_object_set_new(j, "permanent", json_boolean(o->permanent));
    return j;
}

static uint64_t get_u64(json_t *j, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(j, key));
}

enum dm_code dm_job_outcome_parse(json_t *j, struct dm_job_outcome *o)
{
    memset(o, 0, sizeof(*o));
    if (!dm_status_parse(json_string_value(json_object_get(j, "status")),
                         &o->status))
        return DM_ERR_PROTOCOL;
    o->permanent = json_is_true(json_object_get(j, "permanent"));
    const char *code = json_string_value(json_object_get(j, "code"));
    for (int c = 0; code && c <= DM_ERR_LAST; c++)
        if (strcmp(dm_code_name((enum dm_code)c), code) == 0)
            o->code = (enum dm_code)c;
    o->src_storage = get_u64(j, "source_storage");
    o->dst_storage = get_u64(j, "destination_storage");
    if (o->src_storage)
        dm_storage_release_name(o->src_storage, o->src_version,
                                sizeof(o->src_version));
    if (o->dst_storage)
        dm_storage_release_name(o->dst_storage, o->dst_version,
                                sizeof(o->dst_version));
    o->src_size = get_u64(j, "source_size");
    o->dst_size = get_u64(j, "destination_size");
    o->seconds = json_real_value(json_object_get(j, "seconds"));
    const char *e = json_string_value(json_object_get(j, "error"));
    if (e)
        snprintf(o->error, sizeof(o->error), "%s", e);
    json_t *v = json_object_get(j, "report");
    o->verification = v && !json_is_null(v) ? json_incref(v) : NULL;
    return DM_OK;
}

void dm_job_outcome_release(struct dm_job_outcome *o)
{
    json_decref(o->verification);
    o->verification = NULL;
}
