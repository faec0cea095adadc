/*
 * cp.c - `duckmig cp SRC DST` and `duckmig ls LOCATION`: the storage layer
 * alone, to move tracker files by hand and to try credentials and
 * endpoints before a fleet run. A location is a local path, efs:KEY or
 * s3://bucket/key (src/store/store.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "fleet/outcome.h"
#include "store/store.h"
#include "util/str.h"
#include "util/text.h"
#include "util/tmpdir.h"
#include "util/settings.h"

const char cmd_cp_usage[] =
    "usage: duckmig cp [--json] SRC DST\n"
    "\n"
    "Copy one file between a local path, efs:KEY and s3://bucket/key.\n"
    "efs:KEY is read under MIGRATE_SRC and written under MIGRATE_DST\n"
    "(defaults " DM_EFS_SRC_DEFAULT " and " DM_EFS_DST_DEFAULT ").\n"
    "A DST that ends with '/' (or is a folder) gets SRC's file name.\n"
    "The destination appears whole or not at all.\n"
    "\n"
    "S3: AWS_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (path-style),\n"
    "credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/\n"
    "AWS_SESSION_TOKEN or the ECS container endpoint. Tuning:\n"
    "DUCKMIG_S3_CONCURRENCY, DUCKMIG_S3_PART_SIZE,\n"
    "DUCKMIG_S3_MULTIPART_THRESHOLD, DUCKMIG_S3_ATTEMPTS.\n"
    "\n"
    "Exit status: 0 when copied; 3 I/O, 15 network (after retries),\n"
    "16 credentials refused, 17 not found, 18 a key outside its root,\n"
    "19 refused by the server.\n";

const char cmd_ls_usage[] =
    "usage: duckmig ls [--json] LOCATION\n"
    "\n"
    "List the files under LOCATION (s3://bucket/prefix, efs:prefix, or a\n"
    "local folder), in key order: size and key, one per line; --json gives\n"
    "one object per line with key, size and etag.\n"
    "\n"
    "Control characters in keys are shown as \\n, \\t or \\xNN. In JSON, a\n"
    "key that is not UTF-8 has U+FFFD for its bad bytes, \"invalid_utf8\":\n"
    "true and \"key_escaped\" (the \\xNN form). What the store will not\n"
    "serve (a symlink out of the root, a FIFO) is named on stderr.\n";

/* A progress line on a terminal for transfers worth watching. */
struct progress_view {
    struct dm_progress *p;
    const char *label;
    atomic_bool done;
    pthread_t tid;
    bool running;
};

static void progress_print(const struct progress_view *v,
                           const struct timespec *start)
{
    struct timespec now;
    uint64_t total = v->p->total, done = atomic_load(&v->p->done);
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - start->tv_sec) +
                  (double)(now.tv_nsec - start->tv_nsec) / 1e9;
    fprintf(stderr, "\r%s: %7.1f / %.1f MiB %3d%% %7.1f MiB/s ", v->label,
            (double)done / 1048576.0, (double)total / 1048576.0,
            (int)(100.0 * (double)done / (double)total),
            secs > 0 ? (double)done / 1048576.0 / secs : 0.0);
}

static void *progress_thread(void *arg)
{
    struct progress_view *v = arg;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!atomic_load(&v->done)) {
        usleep(200000);
        if (v->p->total >= (8u << 20) && !atomic_load(&v->done))
            progress_print(v, &start);
    }
    /* the last state, even for a transfer shorter than one tick */
    if (v->p->total >= (8u << 20)) {
        progress_print(v, &start);
        fputc('\n', stderr);
    }
    return NULL;
}

static void progress_start(struct progress_view *v, struct dm_progress *p,
                           const char *label)
{
    v->p = p;
    v->label = label;
    atomic_store(&v->done, false);
    v->running =
        isatty(2) && pthread_create(&v->tid, NULL, progress_thread, v) == 0;
}

static void progress_stop(struct progress_view *v)
{
    atomic_store(&v->done, true);
    if (v->running)
        pthread_join(v->tid, NULL);
}

/* DST "" or ".../" (or a local folder) takes SRC's file name. */
static char *resolve_dst(const struct dm_location *src,
                         const struct dm_location *dst)
{
    struct stat st;
    size_t n = strlen(dst->key);
    bool folder = n == 0 || dst->key[n - 1] == '/' ||
                  (dst->kind == DM_LOC_PATH && stat(dst->key, &st) == 0 &&
                   S_ISDIR(st.st_mode));
    if (!folder)
        return strdup(dst->key);
    return dm_fmt("%s%s%s", dst->key, n && dst->key[n - 1] != '/' ? "/" : "",
                  dm_base_name(src->key));
}

static enum dm_code copy(const struct dm_location *src,
                         const struct dm_location *dst, const char *dst_key,
                         struct dm_object *result, struct dm_progress *progress,
                         struct dm_error *err)
{
    struct dm_store *from = NULL, *to = NULL;
    char *tmp = NULL, *tmpdir = NULL;
    int tmplock = -1;
    enum dm_code rc = DM_OK;
    if (src->kind != DM_LOC_PATH) {
        rc = dm_location_store(src, false, &from, err);
        if (rc)
            goto out;
    }
    if (dst->kind != DM_LOC_PATH) {
        rc = dm_location_store(dst, true, &to, err);
        if (rc)
            goto out;
    }
    if (!from && !to) {
        /* path to path: a local store at DST's folder does it atomically */
        char *dir = strdup(dst_key);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (!dir) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (slash)
            slash[slash == dir ? 1 : 0] = '\0';
        rc = dm_store_open_local(slash ? dir : ".", &to, err);
        free(dir);
        if (!rc)
            rc = dm_store_put(to, src->key, dm_base_name(dst_key), result,
                              progress, err);
    } else if (!from) {
        rc = dm_store_put(to, src->key, dst_key, result, progress, err);
    } else if (!to) {
        rc = dm_store_get(from, src->key, dst_key, result, progress, err);
    } else {
        /* store to store crosses a local temporary file, in a folder of
         * its own: a cp killed mid-way leaves it unlocked, and the next
         * cp removes it */
        const char *parent = dm_setting(DM_SET_TMPDIR);
        dm_tmpdir_sweep(parent, "duckmig-cp-");
        rc = dm_tmpdir_create(parent, "duckmig-cp-", &tmpdir, &tmplock, err);
        if (rc)
            goto out;
        tmp = dm_fmt("%s/%s", tmpdir, dm_base_name(src->key));
        if (!tmp) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        struct dm_object mid = {0};
        rc = dm_store_get(from, src->key, tmp, &mid, progress, err);
        dm_object_release(&mid);
        if (!rc) {
            atomic_store(&progress->done, 0);
            rc = dm_store_put(to, tmp, dst_key, result, progress, err);
        }
    }
out:
    dm_tmpdir_remove(tmpdir, tmplock);
    free(tmpdir);
    free(tmp);
    dm_store_close(to);
    dm_store_close(from);
    return rc;
}

int cmd_cp(int argc, char **argv)
{
    bool json = false;
    int r = dm_cmd_json_option(argc, argv, cmd_cp_usage, &json);
    if (r)
        return r < 0 ? 0 : r;
    if (argc - optind != 2) {
        fputs(cmd_cp_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_location src, dst;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_object result = {0};
    struct dm_progress progress = {0, 0};
    struct progress_view view;
    char *dst_key = NULL;
    bool have_dst = false;
    enum dm_code rc = dm_location_parse(argv[optind], &src, &err);
    if (rc)
        goto out;
    rc = dm_location_parse(argv[optind + 1], &dst, &err);
    if (rc) {
        dm_location_release(&src);
        goto out;
    }
    have_dst = true;
    dst_key = resolve_dst(&src, &dst);
    if (!dst_key) {
        rc = dm_fail(&err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    progress_start(&view, &progress, "cp");
    rc = copy(&src, &dst, dst_key, &result, &progress, &err);
    progress_stop(&view);
    if (!rc && json) {
        json_t *o = json_object();
        dm_json_set_name(o, "src", argv[optind]);
        dm_json_set_name(o, "dst", argv[optind + 1]);
        json_object_set_new(o, "size", json_integer((json_int_t)result.size));
        if (result.etag)
            json_object_set_new(o, "etag", dm_json_text(result.etag, NULL));
        dm_json_print(o, NULL);
        json_decref(o);
    } else if (!rc) {
        dm_fputs_escaped(argv[optind], stdout);
        fputs(" -> ", stdout);
        dm_fputs_escaped(argv[optind + 1], stdout);
        printf(": %llu bytes", (unsigned long long)result.size);
        if (result.etag) {
            fputs(", ETag ", stdout);
            dm_fputs_escaped(result.etag, stdout);
        }
        fputc('\n', stdout);
    }
out:
    if (rc) {
        fputs("duckmig: cp: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    dm_object_release(&result);
    free(dst_key);
    if (have_dst) {
        dm_location_release(&dst);
        dm_location_release(&src);
    }
    return rc;
}

struct ls_state {
    bool json;
    unsigned long count;
};

static int print_object(const struct dm_object *o, void *ud)
{
    struct ls_state *st = ud;
    if (o->problem) {
        /* not a file the store serves: said, not listed */
        fputs("duckmig: ls: skipped ", stderr);
        dm_fputs_escaped(o->key, stderr);
        fprintf(stderr, ": %s\n", o->problem);
        return 0;
    }
    st->count++;
    if (!st->json) {
        /* a key is anybody's text: escaped, so that it cannot drive the
         * terminal */
        printf("%12llu  ", (unsigned long long)o->size);
        dm_fputs_escaped(o->key, stdout);
        fputc('\n', stdout);
        return 0;
    }
    /* a key that is not UTF-8 is listed with U+FFFD, marked, and its
     * escaped form ("key_escaped"); jansson would refuse it whole */
    json_t *j = json_object();
    if (!j)
        return 1;
    dm_json_set_name(j, "key", o->key);
    json_object_set_new(j, "size", json_integer((json_int_t)o->size));
    if (o->etag)
        json_object_set_new(j, "etag", dm_json_text(o->etag, NULL));
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
    return 0;
}

int cmd_ls(int argc, char **argv)
{
    bool json = false;
    int r = dm_cmd_json_option(argc, argv, cmd_ls_usage, &json);
    if (r)
        return r < 0 ? 0 : r;
    if (argc - optind != 1) {
        fputs(cmd_ls_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_location loc;
    struct dm_error err = DM_ERROR_INIT;
    struct dm_store *store = NULL;
    struct ls_state st = {json, 0};
    enum dm_code rc = dm_location_parse(argv[optind], &loc, &err);
    if (rc)
        goto out;
    if (loc.kind == DM_LOC_PATH) {
        rc = dm_store_open_local(loc.key, &store, &err);
        if (!rc)
            rc = dm_store_list(store, "", print_object, &st, &err);
    } else {
        rc = dm_location_store(&loc, false, &store, &err);
        if (!rc)
            rc = dm_store_list(store, loc.key, print_object, &st, &err);
    }
    dm_store_close(store);
    dm_location_release(&loc);
out:
    if (rc) {
        fputs("duckmig: ls: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    return rc;
}
