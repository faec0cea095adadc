/*
 * batch.c - `duckmig batch SRC DST`: the fleet on one machine, without a
 * broker, a database or a cloud account. Every *.duckdb under SRC (a
 * local tree, efs:PREFIX or s3://bucket/prefix) is migrated into the same
 * place under DST (a local tree, efs:PREFIX or s3://bucket/prefix) by N
 * jobs at a time, each the consumer's own job (`duckmig __job`, in a
 * child process): download, migrate, verify, upload, clean up. A second
 * run skips what is done: a destination that verifies against its source
 * is "already_done", and nothing is rewritten.
 */
#include <errno.h>
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
#include "fleet/message.h"
#include "fleet/runner.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"

const char cmd_batch_usage[] =
    "usage: duckmig batch [--to RELEASE] [--jobs N] [--ignore-wal-errors]\n"
    "                     [--json] SRC DST\n"
    "\n"
    "Migrate every *.duckdb file (*.new.duckdb included) under SRC into the\n"
    "same place under DST, N files at a time (default: the number of CPUs),\n"
    "each verified before it is written. SRC and DST are local folders,\n"
    "efs:PREFIX (MIGRATE_SRC / MIGRATE_DST) or s3://bucket/prefix.\n"
    "Files already migrated and verified are skipped, so an interrupted\n"
    "run can be started again.\n"
    "\n"
    "  --to RELEASE   target (default $DUCKDB_MIGRATE_VERSION, else 0.8.1)\n"
    "  --jobs N       files at a time\n"
    "  --ignore-wal-errors  migrate a file whose WAL its release cannot\n"
    "                 replay without it (named in its report, incomplete);\n"
    "                 default: that file fails (DUCKMIG_IGNORE_WAL_ERRORS=1\n"
    "                 does the same for consume)\n"
    "  --json         a JSON summary on stdout (per file: versions, sizes,\n"
    "                 time, verification, error)\n"
    "\n"
    "A progress line on a terminal, a log line per file otherwise.\n"
    "Exit status: 0 when every file is done, 1 when any failed.\n";

struct item {
    char *src_key, *dst_key;
    char *tracker; /* the folder that holds the file ({site}/{tracker}/) */
    uint64_t size;
    char *body;
    struct dm_job_outcome outcome;
};

struct batch {
    struct item *items;
    size_t n, cap;
    const char *src_prefix, *dst_prefix;
    struct dm_location src, dst;
    size_t next, finished, failed;
    uint64_t bytes_total, bytes_done;
    pthread_mutex_t lock;
    bool tty, json;
    struct timespec start;
};

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int collect(const struct dm_object *o, void *ud)
{
    struct batch *b = ud;
    size_t n = strlen(o->key);
    if (n < 7 || strcmp(o->key + n - 7, ".duckdb") != 0)
        return 0;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        struct item *it = realloc(b->items, cap * sizeof(*it));
        if (!it)
            return 1;
        b->items = it;
        b->cap = cap;
    }
    struct item *it = &b->items[b->n];
    memset(it, 0, sizeof(*it));
    it->src_key = strdup(o->key);
    /* the same place under DST: the key without SRC's prefix */
    const char *rel = o->key + strlen(b->src_prefix);
    it->dst_key = dm_fmt("%s%s", b->dst_prefix, rel);
    it->size = o->size;
    const char *end = strrchr(o->key, '/'), *start = end;
    while (start && start > o->key && start[-1] != '/')
        start--;
    it->tracker = end && end > start ? strndup(start, (size_t)(end - start))
                                     : strdup("-");
    if (!it->src_key || !it->dst_key || !it->tracker) {
        free(it->tracker);
        free(it->src_key);
        free(it->dst_key);
        return 1;
    }
    b->bytes_total += o->size;
    b->n++;
    return 0;
}

static void progress_line(struct batch *b)
{
    double secs = since(&b->start);
    double rate = secs > 0 ? (double)b->bytes_done / secs : 0;
    double eta = rate > 0 ? (double)(b->bytes_total - b->bytes_done) / rate : 0;
    fprintf(stderr,
            "\rbatch: %zu/%zu files, %zu failed, %.1f/%.1f MiB, ETA %.0f s   ",
            b->finished, b->n, b->failed, (double)b->bytes_done / 1048576.0,
            (double)b->bytes_total / 1048576.0, eta);
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next++;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n)
            break;
        struct item *it = &b->items[i];
        struct dm_job_run run;
        memset(&run, 0, sizeof(run));
        run.body = it->body;
        run.len = strlen(it->body);
        dm_job_run_child(&run);
        dm_job_run_outcome(&run, &it->outcome);
        free(run.output);
        pthread_mutex_lock(&b->lock);
        b->finished++;
        b->bytes_done += it->size;
        bool bad = strcmp(it->outcome.status, "failed") == 0 ||
                   strcmp(it->outcome.status, "skipped") == 0;
        if (bad)
            b->failed++;
        if (b->tty) {
            progress_line(b);
        } else if (bad) {
            dm_warn("batch", "%s: %s: %s", it->src_key, it->outcome.status,
                    it->outcome.error);
        } else {
            dm_info("batch", "%s: %s (%s -> %s) in %.1f s", it->src_key,
                    it->outcome.status, it->outcome.src_version,
                    it->outcome.dst_version, it->outcome.seconds);
        }
        pthread_mutex_unlock(&b->lock);
    }
    return NULL;
}

/* A location as the job's datastore: a local folder becomes the EFS root
 * of the child (MIGRATE_SRC or MIGRATE_DST), with an empty prefix. */
static enum dm_code as_datastore(struct dm_location *loc, const char *root_env,
                                 const char **prefix, struct dm_error *err)
{
    *prefix = loc->key;
    if (loc->kind != DM_LOC_PATH)
        return DM_OK;
    struct stat st;
    bool is_dst = strcmp(root_env, "MIGRATE_DST") == 0;
    if (is_dst && mkdir(loc->key, 0755) != 0 && errno != EEXIST)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'",
                             loc->key);
    if (stat(loc->key, &st) != 0 || !S_ISDIR(st.st_mode))
        return dm_fail(err, is_dst ? DM_ERR_IO : DM_ERR_NOT_FOUND,
                       "'%s' is not a folder", loc->key);
    setenv(root_env, loc->key, 1);
    loc->kind = DM_LOC_EFS;
    *prefix = "";
    return DM_OK;
}

int cmd_batch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"jobs", required_argument, NULL, 'j'},
        {"json", no_argument, NULL, 'J'},
        {"ignore-wal-errors", no_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct batch b;
    memset(&b, 0, sizeof(b));
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    const char *to = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "t:j:JWh", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            to = optarg;
            break;
        case 'j':
            jobs = atol(optarg);
            break;
        case 'J':
            b.json = true;
            break;
        case 'W':
            setenv("DUCKMIG_IGNORE_WAL_ERRORS", "1", 1);
            break;
        case 'h':
            fputs(cmd_batch_usage, stdout);
            return 0;
        default:
            fputs(cmd_batch_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (argc - optind != 2 || jobs < 1 || jobs > 256) {
        fputs(cmd_batch_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_error err = DM_ERROR_INIT;
    struct dm_store *src = NULL;
    enum dm_code rc = dm_location_parse(argv[optind], &b.src, &err);
    if (!rc)
        rc = dm_location_parse(argv[optind + 1], &b.dst, &err);
    if (!rc)
        rc = as_datastore(&b.src, "MIGRATE_SRC", &b.src_prefix, &err);
    if (!rc)
        rc = as_datastore(&b.dst, "MIGRATE_DST", &b.dst_prefix, &err);
    if (rc)
        goto out;
    if (to)
        setenv("DUCKDB_MIGRATE_VERSION", to, 1);
    /* the jobs' downloads: a private folder, removed at the end */
    const char *tmp = getenv("TMPDIR");
    char *download =
        dm_fmt("%s/duckmig-batch-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!download || !mkdtemp(download)) {
        rc = dm_fail(&err, DM_ERR_IO, "cannot create a download folder");
        free(download);
        goto out;
    }
    setenv("BATCH_DOWNLOAD", download, 1);

    rc = dm_location_store(&b.src, false, &src, &err);
    if (!rc)
        rc = src->ops->list(src, b.src_prefix, collect, &b, &err);
    for (size_t i = 0; !rc && i < b.n; i++) {
        struct dm_job_spec job = {
            b.src.kind == DM_LOC_S3 ? DM_DS_S3 : DM_DS_EFS,
            b.dst.kind == DM_LOC_S3 ? DM_DS_S3 : DM_DS_EFS,
            b.src.bucket,
            b.items[i].src_key,
            b.dst.bucket,
            b.items[i].dst_key,
            b.items[i].tracker};
        b.items[i].body = dm_job_format(&job);
        if (!b.items[i].body)
            rc = dm_fail(&err, DM_ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        pthread_mutex_init(&b.lock, NULL);
        b.tty = !b.json && isatty(2);
        clock_gettime(CLOCK_MONOTONIC, &b.start);
        dm_info("batch", "%zu files, %.1f MiB, %ld at a time", b.n,
                (double)b.bytes_total / 1048576.0, jobs);
        pthread_t tid[256];
        long started = 0;
        for (; started < jobs && (size_t)started < b.n; started++)
            if (pthread_create(&tid[started], NULL, worker, &b) != 0)
                break;
        if (started == 0 && b.n)
            worker(&b);
        for (long i = 0; i < started; i++)
            pthread_join(tid[i], NULL);
        if (b.tty)
            fputc('\n', stderr);
        pthread_mutex_destroy(&b.lock);
    }
    rmdir(download);
    free(download);
    if (rc)
        goto out;

    double secs = since(&b.start);
    json_t *results = json_array();
    size_t by_status[6] = {0};
    static const char *const names[] = {"migrated",     "already_at_target",
                                        "already_done", "incomplete",
                                        "skipped",      "failed"};
    for (size_t i = 0; i < b.n; i++) {
        json_t *o = dm_job_outcome_json(&b.items[i].outcome);
        json_object_set_new(o, "source", json_string(b.items[i].src_key));
        json_object_set_new(o, "destination", json_string(b.items[i].dst_key));
        json_array_append_new(results, o);
        for (size_t k = 0; k < 6; k++)
            if (strcmp(b.items[i].outcome.status, names[k]) == 0)
                by_status[k]++;
    }
    if (b.json) {
        json_t *sum =
            json_pack("{s:I, s:I, s:f, s:f}", "files", (json_int_t)b.n,
                      "failed", (json_int_t)b.failed, "seconds", secs,
                      "files_per_second", secs > 0 ? b.n / secs : 0.0);
        json_t *counts = json_object();
        for (size_t k = 0; k < 6; k++)
            json_object_set_new(counts, names[k],
                                json_integer((json_int_t)by_status[k]));
        json_object_set_new(sum, "counts", counts);
        json_object_set_new(sum, "bytes",
                            json_integer((json_int_t)b.bytes_total));
        json_object_set(sum, "results", results);
        char *s = json_dumps(sum, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(sum);
    } else {
        printf("%zu files in %.1f s:", b.n, secs);
        for (size_t k = 0; k < 6; k++)
            if (by_status[k])
                printf(" %zu %s", by_status[k], names[k]);
        printf("\n");
        for (size_t i = 0; i < b.n; i++) {
            struct dm_job_outcome *o = &b.items[i].outcome;
            printf("  %-17s %s -> %s (%s -> %s, %.1f s)%s%s\n", o->status,
                   b.items[i].src_key, b.items[i].dst_key, o->src_version,
                   o->dst_version, o->seconds, o->error[0] ? ": " : "",
                   o->error);
        }
    }
    json_decref(results);
    if (b.failed)
        rc = DM_ERR_GENERIC;
out:
    if (rc && rc != DM_ERR_GENERIC)
        fprintf(stderr, "duckmig: batch: %s\n", err.msg);
    for (size_t i = 0; i < b.n; i++) {
        free(b.items[i].src_key);
        free(b.items[i].dst_key);
        free(b.items[i].body);
        free(b.items[i].tracker);
        dm_job_outcome_release(&b.items[i].outcome);
    }
    free(b.items);
    dm_store_close(src);
    dm_location_release(&b.dst);
    dm_location_release(&b.src);
    return rc;
}
