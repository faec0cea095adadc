/*
 * batch.c - the fleet on one machine, behind `duckmig batch SRC DST`,
 * without a broker, a database or a cloud account. Every *.duckdb under
 * SRC (a local tree, efs:PREFIX or s3://bucket/prefix) is migrated into
 * the same place under DST (a local tree, efs:PREFIX or
 * s3://bucket/prefix) by N jobs at a time, each the consumer's own job
 * (`duckmig __job`, in a child process): download, migrate, verify,
 * upload. A second run skips what is done: a destination that verifies
 * against its source is "already_done", and nothing is rewritten.
 *
 * Locations are folders: a prefix takes whole path segments. SRC and DST
 * must not overlap (the same folder, or one inside the other, symlinks
 * resolved), or the new files would land over or among the originals:
 * that is refused, unless --in-place asks to migrate each file where it
 * is, keeping the original beside it (fleet/job.c has the steps).
 *
 * Everything temporary lives in one folder under $TMPDIR, with a folder
 * per job inside; batch removes each job's folder when the job ends
 * (also a job it killed), and its own at the end, also after SIGINT or
 * SIGTERM (the jobs are stopped first). A batch killed outright leaves
 * its folder unlocked, and the next batch removes it (util/tmpdir.h).
 */
#include "fleet/batch.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/zygote.h"
#include "fleet/jobzygote.h"
#include "fleet/message.h"
#include "fleet/outcome.h"
#include "fleet/plan.h"
#include "fleet/preflight.h"
#include "fleet/runner.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"
#include "util/text.h"
#include "util/tmpdir.h"
#include "util/settings.h"

#define MAX_JOBS DM_BATCH_MAX_JOBS

struct item {
    char *src_key, *dst_key;
    char *tracker; /* the folder that holds the file ({site}/{tracker}/) */
    uint64_t size;
    char *body;   /* NULL: not run (skipped when listed, or batch stopped) */
    bool settled; /* outcome holds what became of the file */
    struct dm_job_outcome outcome;
};

struct batch {
    struct item *items;
    size_t n, cap;
    const char *src_prefix, *dst_prefix;
    const char *backup_suffix; /* --in-place */
    const char *download;
    struct dm_location src, dst;
    size_t next, finished, failed;
    uint64_t bytes_total, bytes_done;
    pthread_mutex_t lock;
    pthread_mutex_t out_lock; /* stderr, and progress (after lock) */
    char progress[160];       /* the progress line, "" before the first */
    bool tty, json;
    const char *src_arg, *dst_arg;
    const char *report_path; /* --report */
    struct timespec start;
    /* the jobs running now, by worker, for a stop (under lock) */
    struct dm_job_run *running[MAX_JOBS];
    size_t slots;  /* workers started, each with its slot in running */
    size_t active; /* workers not done yet */
};

static volatile sig_atomic_t stop_signal;
/* the tree was listed before the stop (dm_batch_exit_if_stopped) */
static bool listed;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static struct item *new_item(struct batch *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        struct item *it = realloc(b->items, cap * sizeof(*it));
        if (!it)
            return NULL;
        b->items = it;
        b->cap = cap;
    }
    struct item *it = &b->items[b->n];
    memset(it, 0, sizeof(*it));
    return it;
}

/* An item that is listed but not run: skipped, with the reason. */
static void skip_item(struct item *it, enum dm_code code, const char *why)
{
    it->outcome.status = DM_STATUS_SKIPPED;
    it->settled = true;
    it->outcome.code = code;
    it->outcome.permanent = true;
    snprintf(it->outcome.error, sizeof(it->outcome.error), "%s", why);
    dm_warn("batch", "%s: skipped: %s", it->src_key, why);
}

static int collect(const struct dm_object *o, void *ud)
{
    struct batch *b = ud;
    if (stop_signal)
        return 1;
    size_t n = strlen(o->key);
    if (n < 7 || strcmp(o->key + n - 7, ".duckdb") != 0) {
        if (o->problem) /* a folder not entered, say, may hold files */
            dm_warn("batch", "%s: %s: skipped", o->key, o->problem);
        return 0;
    }
    struct item *it = new_item(b);
    if (!it)
        return 1;
    it->src_key = strdup(o->key);
    /* the same place under DST: the key without SRC's prefix */
    const char *rel = o->key + strlen(b->src_prefix);
    it->dst_key = dm_fmt("%s%s", b->dst_prefix, rel);
    it->size = o->problem ? 0 : o->size;
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
    b->n++;
    /* what no job can take is said here, per file, and the run goes on */
    struct dm_error err = DM_ERROR_INIT;
    if (o->problem)
        skip_item(it, DM_ERR_NOT_FOUND, o->problem);
    else if (!dm_utf8_valid(o->key))
        skip_item(it, DM_ERR_BAD_KEY,
                  "the name is not UTF-8, and a job's message (JSON) "
                  "cannot carry it");
    else if (dm_key_check(it->src_key, strlen(it->src_key), &err) ||
             dm_key_check(it->dst_key, strlen(it->dst_key), &err))
        skip_item(it, err.code, err.msg);
    else
        b->bytes_total += o->size;
    return 0;
}

/*
 * stderr, shared by batch's threads and its jobs' relayed lines. On a
 * terminal the progress line stays the last one: a log line clears it,
 * is printed, and the progress line is drawn again below it.
 */
static void draw(struct batch *b, const char *line)
{
    pthread_mutex_lock(&b->out_lock);
    if (b->tty)
        fputs("\r\033[K", stderr);
    if (line)
        fputs(line, stderr);
    if (b->tty)
        fputs(b->progress, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&b->out_lock);
}

/* The log's sink (util/log.h) and the jobs' stderr (fleet/runner.h). */
static void log_line(const char *line, void *ud)
{
    draw(ud, line);
}

/* Redraw the progress line with the counts; under b->lock. */
static void progress_line(struct batch *b)
{
    double secs = since(&b->start);
    double rate = secs > 0 ? (double)b->bytes_done / secs : 0;
    double eta = rate > 0 ? (double)(b->bytes_total - b->bytes_done) / rate : 0;
    pthread_mutex_lock(&b->out_lock);
    snprintf(b->progress, sizeof(b->progress),
             "batch: %zu/%zu files, %zu failed, %.1f/%.1f MiB, ETA %.0f s",
             b->finished, b->n, b->failed, (double)b->bytes_done / 1048576.0,
             (double)b->bytes_total / 1048576.0, eta);
    pthread_mutex_unlock(&b->out_lock);
    draw(b, NULL);
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    pthread_mutex_lock(&b->lock);
    size_t slot = b->slots++;
    pthread_mutex_unlock(&b->lock);
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next;
        while (i < b->n && !b->items[i].body)
            i++; /* skipped when listed */
        b->next = i + 1;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n || stop_signal)
            break;
        struct item *it = &b->items[i];
        struct dm_job_run run;
        memset(&run, 0, sizeof(run));
        run.body = it->body;
        run.len = strlen(it->body);
        run.download_root = b->download;
        run.on_log = log_line;
        run.log_ud = b;
        pthread_mutex_lock(&b->lock);
        b->running[slot] = &run;
        pthread_mutex_unlock(&b->lock);
        dm_job_run_child(&run);
        pthread_mutex_lock(&b->lock);
        b->running[slot] = NULL;
        pthread_mutex_unlock(&b->lock);
        dm_job_run_outcome(&run, &it->outcome);
        it->settled = true;
        free(run.output);
        pthread_mutex_lock(&b->lock);
        b->finished++;
        b->bytes_done += it->size;
        bool bad = !dm_status_done(it->outcome.status);
        dm_metrics_job("batch", it->outcome.status,
                       bad ? dm_code_name(it->outcome.code) : NULL, it->size,
                       it->outcome.seconds);
        if (bad)
            b->failed++;
        if (bad)
            dm_warn("batch", "%s: %s: %s", it->src_key,
                    dm_status_name(it->outcome.status), it->outcome.error);
        else
            dm_info("batch", "%s: %s (%s -> %s) in %.1f s", it->src_key,
                    dm_status_name(it->outcome.status), it->outcome.src_version,
                    it->outcome.dst_version, it->outcome.seconds);
        if (b->tty)
            progress_line(b);
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_lock(&b->lock);
    b->active--;
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/*
 * Wait for the workers; on SIGINT or SIGTERM kill the running jobs (each
 * worker's runner then removes the job's folder) and let the workers
 * stop. Kills are sent again every tick: a job that was starting when
 * the signal came is killed at the next.
 */
static void supervise(struct batch *b, pthread_t *tid, long started)
{
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t active = b->active;
        if (stop_signal)
            for (size_t i = 0; i < MAX_JOBS; i++)
                if (b->running[i])
                    dm_job_run_kill(b->running[i], 0);
        pthread_mutex_unlock(&b->lock);
        if (active == 0)
            break;
        struct timespec tick = {0, 50 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    for (long i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

/* A location as the job's datastore: a local folder becomes the EFS root
 * of the jobs (MIGRATE_SRC or MIGRATE_DST), with an empty prefix. */
static enum dm_code as_datastore(struct dm_location *loc,
                                 enum dm_setting_id root, struct dm_error *err)
{
    if (loc->kind != DM_LOC_PATH)
        return DM_OK;
    struct stat st;
    bool is_dst = root == DM_SET_MIGRATE_DST;
    if (is_dst && mkdir(loc->key, 0755) != 0 && errno != EEXIST)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'",
                             loc->key);
    if (stat(loc->key, &st) != 0 || !S_ISDIR(st.st_mode))
        return dm_fail(err, is_dst ? DM_ERR_IO : DM_ERR_NOT_FOUND,
                       "'%s' is not a folder", loc->key);
    enum dm_code rc = dm_setting_override(root, loc->key, err);
    if (rc)
        return rc;
    loc->kind = DM_LOC_EFS;
    free(loc->key);
    loc->key = strdup("");
    return loc->key ? DM_OK : dm_fail(err, DM_ERR_NOMEM, "out of memory");
}

/*
 * SRC and DST as folders, checked against each other before anything is
 * written: overlapping is refused, unless in place, where they must be
 * one folder.
 */
static enum dm_code check_places(struct batch *b, const char *src_arg,
                                 const char *dst_arg, struct dm_error *err)
{
    char *src = NULL, *dst = NULL;
    bool in_place = b->backup_suffix != NULL;
    enum dm_code rc = dm_location_resolve(&b->src, false, &src, err);
    /* in place, an efs: DST is SRC's own folder, under MIGRATE_SRC */
    if (!rc)
        rc = dm_location_resolve(&b->dst, !in_place, &dst, err);
    if (rc)
        goto out;
    bool overlap = dm_folders_overlap(src, dst);
    if (in_place && strcmp(src, dst) != 0) {
        rc = dm_fail(err, DM_ERR_USAGE,
                     "--in-place migrates SRC where it is, and DST '%s' (%s) "
                     "is not SRC '%s' (%s)",
                     dst_arg, dst, src_arg, src);
    } else if (!in_place && overlap) {
        rc = dm_fail(err, DM_ERR_USAGE,
                     "SRC '%s' and DST '%s' overlap (%s and %s): the new files "
                     "would be written %s the originals. Choose a DST outside "
                     "SRC, or migrate in place with --in-place, which keeps "
                     "each original beside its new file",
                     src_arg, dst_arg, src, dst,
                     strcmp(src, dst) == 0 ? "over" : "among");
    }
out:
    free(src);
    free(dst);
    return rc;
}

/* The statuses a batch's file can end in, in the order of its summary. */
static const enum dm_status batch_statuses[] = {
    DM_STATUS_MIGRATED,   DM_STATUS_ALREADY_AT_TARGET, DM_STATUS_ALREADY_DONE,
    DM_STATUS_INCOMPLETE, DM_STATUS_SKIPPED,           DM_STATUS_FAILED};
#define N_STATUS (sizeof(batch_statuses) / sizeof(*batch_statuses))

/* The summary as the JSON document of --json and --report
 * (docs/json.md): counts, and each file's outcome. */
static json_t *summary_json(struct batch *b, const size_t *by_status,
                            double secs)
{
    json_t *sum = dm_json_document("batch");
    json_t *results = json_array();
    json_t *counts = json_object();
    if (!sum || !results || !counts) {
        json_decref(sum);
        json_decref(results);
        json_decref(counts);
        return NULL;
    }
    dm_json_set_name(sum, "source", b->src_arg);
    dm_json_set_name(sum, "destination", b->dst_arg);
    json_object_set_new(sum, "files", json_integer((json_int_t)b->n));
    json_object_set_new(sum, "failed", json_integer((json_int_t)b->failed));
    json_object_set_new(sum, "seconds", json_real(secs));
    json_object_set_new(sum, "files_per_second",
                        json_real(secs > 0 ? (double)b->n / secs : 0.0));
    for (size_t k = 0; k < N_STATUS; k++)
        json_object_set_new(counts, dm_status_name(batch_statuses[k]),
                            json_integer((json_int_t)by_status[k]));
    json_object_set_new(sum, "counts", counts);
    json_object_set_new(sum, "bytes", json_integer((json_int_t)b->bytes_total));
    if (b->backup_suffix)
        json_object_set_new(sum, "backup_suffix",
                            json_string(b->backup_suffix));
    if (stop_signal)
        json_object_set_new(sum, "stopped_by",
                            json_string(strsignal(stop_signal)));
    for (size_t i = 0; i < b->n; i++) {
        json_t *o = dm_job_outcome_json(&b->items[i].outcome);
        if (!o)
            continue;
        json_object_set_new(o, "command", json_string("batch"));
        /* a name that is not UTF-8 is shown with U+FFFD and marked, never
         * dropped with the whole output */
        dm_json_set_name(o, "source", b->items[i].src_key);
        dm_json_set_name(o, "destination", b->items[i].dst_key);
        json_array_append_new(results, o);
    }
    json_object_set_new(sum, "results", results);
    return sum;
}

/* Print the summary: JSON, or a line of counts and a line per file; and
 * write it to --report's file. */
static enum dm_code report(struct batch *b, struct dm_error *err)
{
    double secs = since(&b->start);
    size_t by_status[N_STATUS] = {0};
    enum dm_code rc = DM_OK;
    for (size_t i = 0; i < b->n; i++)
        for (size_t k = 0; k < N_STATUS; k++)
            if (b->items[i].outcome.status == batch_statuses[k])
                by_status[k]++;
    json_t *sum =
        b->json || b->report_path ? summary_json(b, by_status, secs) : NULL;
    if ((b->json || b->report_path) && !sum)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (b->json) {
        rc = dm_json_print(sum, err);
    } else {
        printf("%zu files in %.1f s:", b->n, secs);
        for (size_t k = 0; k < N_STATUS; k++)
            if (by_status[k])
                printf(" %zu %s", by_status[k],
                       dm_status_name(batch_statuses[k]));
        printf("\n");
        for (size_t i = 0; i < b->n; i++) {
            struct dm_job_outcome *o = &b->items[i].outcome;
            char *src = dm_escape(b->items[i].src_key);
            char *dst = dm_escape(b->items[i].dst_key);
            char *why = dm_escape(o->error);
            printf("  %-17s %s -> %s (%s -> %s, %.1f s)%s%s\n",
                   dm_status_name(o->status), src ? src : "?", dst ? dst : "?",
                   o->src_version, o->dst_version, o->seconds,
                   o->error[0] ? ": " : "", o->error[0] && why ? why : "");
            free(why);
            free(dst);
            free(src);
        }
    }
    if (!rc && b->report_path)
        rc = dm_json_write_report(b->report_path, sum, err);
    json_decref(sum);
    return rc;
}

/* --dry-run: the plan, from headers alone; nothing is written. */
static enum dm_code dry_run(struct batch *b, const char *to, long jobs,
                            struct dm_error *err)
{
    struct dm_plan_opts po = {b->src_arg, b->dst_arg,       &b->src,
                              &b->dst,    b->src_prefix,    b->dst_prefix,
                              to,         b->backup_suffix, jobs};
    json_t *doc = NULL;
    bool would_skip = false;
    enum dm_code rc = dm_plan_make(&po, &doc, &would_skip, err);
    if (rc)
        return rc;
    if (b->json)
        rc = dm_json_print(doc, err);
    else
        dm_plan_print(doc, stdout);
    if (!rc && b->report_path)
        rc = dm_json_write_report(b->report_path, doc, err);
    json_decref(doc);
    if (!rc && would_skip)
        rc = DM_ERR_GENERIC;
    return rc;
}

/* SRC and DST parsed, where they lie checked against each other, and
 * their folders' prefixes (owned by the caller: *src_prefix, *dst_prefix). */
static enum dm_code places(struct batch *b, char **src_prefix,
                           char **dst_prefix, struct dm_error *err)
{
    enum dm_code rc = dm_location_parse(b->src_arg, &b->src, err);
    if (!rc)
        rc = dm_location_parse(b->dst_arg, &b->dst, err);
    /* where SRC and DST lie decides before anything is written */
    if (!rc)
        rc = check_places(b, b->src_arg, b->dst_arg, err);
    /* a local folder's prefix is "", before and after as_datastore */
    if (!rc)
        rc = dm_location_folder(&b->src, src_prefix, err);
    if (!rc)
        rc = dm_location_folder(&b->dst, dst_prefix, err);
    b->src_prefix = *src_prefix;
    b->dst_prefix = *dst_prefix;
    return rc;
}

/* What the jobs are told through their settings: local folders as their
 * EFS roots, the target; then the checks that a run needs, said once,
 * before the tree is listed, not once per file. */
static enum dm_code prepare_jobs(struct batch *b, const char *to,
                                 struct dm_error *err)
{
    enum dm_code rc = as_datastore(&b->src, DM_SET_MIGRATE_SRC, err);
    if (!rc)
        rc = as_datastore(&b->dst, DM_SET_MIGRATE_DST, err);
    if (!rc && b->backup_suffix && b->dst.kind == DM_LOC_EFS)
        rc = dm_setting_override(DM_SET_MIGRATE_DST, dm_efs_root(false), err);
    if (!rc && to)
        rc = dm_setting_override(DM_SET_MIGRATE_VERSION, to, err);
    if (rc)
        return rc;
    struct dm_preflight_opts checks;
    dm_preflight_batch_opts(&checks, NULL,
                            b->src.kind == DM_LOC_S3 ? DM_DS_S3 : DM_DS_EFS,
                            b->src.bucket, b->src_prefix,
                            b->dst.kind == DM_LOC_S3 ? DM_DS_S3 : DM_DS_EFS,
                            b->dst.bucket, b->dst_prefix);
    rc = dm_preflight_command(&checks, "batch");
    if (rc)
        return dm_fail(err, rc, "nothing done: a check failed (above)");
    return DM_OK;
}

/* Each listed file's message; a file skipped when listed is counted. */
static enum dm_code format_jobs(struct batch *b, struct dm_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->settled) { /* skipped when listed */
            b->finished++;
            b->failed++;
            continue;
        }
        struct dm_job_spec job = {
            b->src.kind == DM_LOC_S3 ? DM_DS_S3 : DM_DS_EFS,
            b->dst.kind == DM_LOC_S3 ? DM_DS_S3 : DM_DS_EFS,
            b->src.bucket,
            it->src_key,
            b->dst.bucket,
            it->dst_key,
            it->tracker,
            (char *)b->backup_suffix};
        it->body = dm_job_format(&job);
        if (!it->body)
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    return DM_OK;
}

/* The job threads, jobs at a time, until every file ran or a signal
 * stopped the batch; then what never started is failed as such. */
static void run_jobs(struct batch *b, long jobs)
{
    pthread_mutex_init(&b->lock, NULL);
    b->tty = !b->json && isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &b->start);
    /* from here, every line goes through draw(), which keeps the
     * progress line below the log lines */
    dm_log_set_sink(log_line, b);
    dm_info("batch", "%zu files, %.1f MiB, %ld at a time", b->n,
            (double)b->bytes_total / 1048576.0, jobs);
    pthread_t tid[MAX_JOBS];
    long started = 0;
    /* counted before they start, so that supervise cannot find
     * none active before the first one runs */
    for (; started < jobs && (size_t)started < b->n; started++) {
        pthread_mutex_lock(&b->lock);
        b->active++;
        pthread_mutex_unlock(&b->lock);
        if (pthread_create(&tid[started], NULL, worker, b) != 0) {
            pthread_mutex_lock(&b->lock);
            b->active--;
            pthread_mutex_unlock(&b->lock);
            break;
        }
    }
    if (started == 0 && b->n) {
        b->active = 1;
        worker(b);
    } else {
        supervise(b, tid, started);
    }
    dm_log_set_sink(NULL, NULL);
    if (b->tty)
        fputc('\n', stderr);
    pthread_mutex_destroy(&b->lock);
    for (size_t i = 0; i < b->n; i++)
        if (!b->items[i].settled) {
            /* never started: the batch was stopped first */
            b->items[i].settled = true;
            b->items[i].outcome.status = DM_STATUS_FAILED;
            b->items[i].outcome.code = DM_ERR_GENERIC;
            snprintf(b->items[i].outcome.error,
                     sizeof(b->items[i].outcome.error),
                     "not run: the batch was stopped");
            b->failed++;
        }
}

enum dm_code dm_batch_run(const struct dm_batch_opts *o, struct dm_error *err)
{
    struct batch b;
    memset(&b, 0, sizeof(b));
    struct dm_zygotes *zygotes = NULL;
    const char *to = o->to;
    long jobs = o->jobs;
    b.report_path = o->report_path;
    b.json = o->json;
    pthread_mutex_init(&b.out_lock, NULL); /* destroyed at out */
    const char *src_arg = o->src, *dst_arg = o->dst;
    bool in_place = o->backup_suffix != NULL;
    b.src_arg = src_arg;
    b.dst_arg = dst_arg;
    struct dm_store *src = NULL;
    char *src_prefix = NULL, *dst_prefix = NULL, *download = NULL;
    int download_lock = -1;
    enum dm_code rc = DM_OK;
    listed = false;
    if (in_place) {
        b.backup_suffix = o->backup_suffix;
        rc = dm_backup_suffix_check(b.backup_suffix, err);
    }
    /* EMF lines (DUCKMIG_METRICS=emf) on stderr: stdout is the report */
    dm_metrics_init(stderr);
    if (!rc)
        rc = places(&b, &src_prefix, &dst_prefix, err);
    if (!rc && o->dry_run) {
        /* before anything below makes a folder or sets a root */
        rc = dry_run(&b, to, jobs, err);
        goto out;
    }
    if (!rc)
        rc = prepare_jobs(&b, to, err);
    if (rc)
        goto out;

    /* stopped, batch stops its jobs and removes what they left */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* the jobs' folders: one private folder, removed at the end; those
     * of batches that were killed go first */
    const char *tmp = dm_setting(DM_SET_TMPDIR);
    dm_tmpdir_sweep(tmp, "duckmig-batch-");
    rc =
        dm_tmpdir_create(tmp, "duckmig-batch-", &download, &download_lock, err);
    if (rc)
        goto out;
    b.download = download;
    /* every job's engines are forked from these (engine/zygote.h) */
    rc = dm_zygotes_start(download, &zygotes, err);
    /* and the job processes from this one (fleet/jobzygote.h) */
    if (!rc)
        dm_job_zygote_start(zygotes);
    if (!rc)
        rc = dm_location_store(&b.src, false, &src, err);
    if (!rc)
        rc = dm_store_list(src, b.src_prefix, collect, &b, err);
    listed = !rc;
    if (!rc)
        rc = format_jobs(&b, err);
    if (rc)
        goto out;
    run_jobs(&b, jobs);
    rc = report(&b, err);
    dm_metrics_emf_summary();
    if (!rc && b.failed)
        rc = DM_ERR_GENERIC;
out:
    dm_metrics_reset();
    dm_zygotes_stop(zygotes);
    dm_tmpdir_remove(download, download_lock);
    free(download);
    for (size_t i = 0; i < b.n; i++) {
        free(b.items[i].src_key);
        free(b.items[i].dst_key);
        free(b.items[i].body);
        free(b.items[i].tracker);
        dm_job_outcome_release(&b.items[i].outcome);
    }
    free(b.items);
    pthread_mutex_destroy(&b.out_lock);
    free(src_prefix);
    free(dst_prefix);
    dm_store_close(src);
    dm_location_release(&b.dst);
    dm_location_release(&b.src);
    return rc;
}

void dm_batch_exit_if_stopped(void)
{
    if (!stop_signal)
        return;
    /* the shell learns that batch was stopped, and by what */
    if (!listed)
        dm_warn("batch", "stopped by %s", strsignal(stop_signal));
    fflush(stdout);
    signal(stop_signal, SIG_DFL);
    raise(stop_signal);
}
