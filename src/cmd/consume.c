/*
 * consume.c - `duckmig consume`: the seed's consumer (ECS services
 * migrate-duck-small and migrate-duck-big), one message at a time.
 *
 * The main thread owns the RabbitMQ connection and never stops calling
 * into rabbitmq-c, so heartbeats flow while a migration runs for an hour
 * (the library is not thread-safe and sends heartbeats only inside its
 * calls). A job runs on a worker thread, which runs it in a child process
 * (`duckmig __job`): a crash or a kill of the job cannot take the
 * consumer with it, and SIGTERM can stop it for good within Fargate's
 * stop timeout.
 *
 * Outcomes: done (migrated, already at target, already done, incomplete)
 * is acked; a permanent failure goes to QUEUE.dead with its reason; a
 * transient one is published again with its attempt count (dead-lettered
 * after DUCKMIG_MAX_ATTEMPTS), then acked. A lost connection kills the
 * running job (its message returns to the queue by itself) and reconnects
 * with backoff.
 *
 * Each job works in its own folder under BATCH_DOWNLOAD, made and removed
 * by the worker thread around the job (fleet/runner.h), also when the
 * job had to be killed (lost connection, stop timeout, consumer_timeout);
 * the folders of a consumer that was itself killed are removed by the
 * next one to start.
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/request.h"
#include "cmd/cmd.h"
#include "fleet/job.h"
#include "fleet/message.h"
#include "fleet/runner.h"
#include "ledger/ledger.h"
#include "queue/rabbit.h"
#include "secrets/secrets.h"
#include "util/log.h"
#include "util/str.h"
#include "util/text.h"
#include "util/tmpdir.h"

const char cmd_consume_usage[] =
    "usage: duckmig consume [--max-messages N]\n"
    "\n"
    "Take messages from QUEUE_NAME (default migrate_duckdb_release) one at\n"
    "a time (prefetch 1, manual ack): download to BATCH_DOWNLOAD (default\n"
    "/batch_download), read the version, migrate to DUCKDB_MIGRATE_VERSION\n"
    "(default duckdb0.8.1), verify, upload, clean up, ack.\n"
    "\n"
    "Environment: RABBIT_SECRET (perform_rabbitmq_dev), DB_SECRET (the\n"
    "ledger; without it results are only logged), MIGRATE_SRC, MIGRATE_DST,\n"
    "DUCKMIG_MAX_ATTEMPTS (5), DUCKMIG_STOP_TIMEOUT (seconds a job may\n"
    "still run after SIGTERM; 100, under Fargate's 120).\n"
    "SIGTERM: take no new message, let the current job finish within the\n"
    "stop timeout or put it back on the queue, exit 0.\n";

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- the job, in a child process, watched by a worker thread ---- */

struct running_job {
    struct dm_job_run run;
    pthread_t thread;
    atomic_bool done;
};

static void *job_thread(void *arg)
{
    struct running_job *j = arg;
    dm_job_run_child(&j->run);
    atomic_store(&j->done, true);
    return NULL;
}

static void job_kill(struct running_job *j)
{
    dm_job_run_kill(&j->run, 5000);
    pthread_join(j->thread, NULL);
}

/* `duckmig __job [DIR]`: the message on stdin, the outcome JSON on
 * stdout; DIR is the job's folder, made (and removed) by the runner.
 * Without it (by hand), a folder of its own under BATCH_DOWNLOAD. */
int cmd_job(int argc, char **argv)
{
    size_t len = 0;
    char *body = dm_slurp(stdin, &len);
    char *own = NULL;
    int lockfd = -1;
    struct dm_job_spec job;
    struct dm_job_outcome o;
    struct dm_error err = DM_ERROR_INIT;
    memset(&o, 0, sizeof(o));
    enum dm_code rc = dm_job_parse(body ? body : "", len, &job, &err);
    bool parsed = rc == DM_OK;
    if (!rc && argc < 2)
        rc = dm_tmpdir_create(dm_env_or("BATCH_DOWNLOAD", "/batch_download"),
                              "job-", &own, &lockfd, &err);
    if (!rc) {
        dm_job_run(&job, argc >= 2 ? argv[1] : own,
                   dm_env_or("DUCKDB_MIGRATE_VERSION", "duckdb0.8.1"), &o);
        dm_tmpdir_remove(own, lockfd);
        free(own);
    }
    if (parsed)
        dm_job_release(&job);
    if (rc) {
        o.status = "failed";
        o.permanent = dm_code_permanent(err.code);
        o.code = err.code;
        snprintf(o.error, sizeof(o.error), "%s", err.msg);
    }
    json_t *j = dm_job_outcome_json(&o);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
    dm_job_outcome_release(&o);
    free(body);
    return 0;
}

/* ---- the consumer ---- */

struct consumer {
    const char *queue, *dead, *rabbit_secret, *db_secret;
    const char *download; /* BATCH_DOWNLOAD: the jobs' folders */
    int max_attempts;
    struct dm_secrets *secrets;
    struct dm_rabbit *rabbit;
    struct dm_ledger *ledger;
};

static void ledger_note(struct consumer *c, const struct dm_job_spec *job,
                        const char *src, const char *dst, int attempts,
                        const struct dm_job_outcome *o, const char *status)
{
    if (!c->ledger)
        return;
    char *verification =
        o->verification ? json_dumps(o->verification, JSON_COMPACT) : NULL;
    struct dm_ledger_result r = {src,
                                 dst,
                                 job ? job->tracker : NULL,
                                 c->queue,
                                 status,
                                 o->src_version[0] ? o->src_version : NULL,
                                 o->dst_version[0] ? o->dst_version : NULL,
                                 o->src_size,
                                 o->dst_size,
                                 attempts,
                                 o->error[0] ? o->error : NULL,
                                 verification,
                                 o->seconds};
    struct dm_error err = DM_ERROR_INIT;
    if (dm_ledger_finished(c->ledger, &r, &err))
        dm_warn("consume", "ledger: %s", err.msg);
    free(verification);
}

/* Dead-letter d with reason (to QUEUE.dead), then ack it. */
static enum dm_code dead_letter(struct consumer *c, const struct dm_delivery *d,
                                const char *reason, int attempts,
                                struct dm_error *err)
{
    dm_warn("consume", "dead-lettered to %s: %s", c->dead, reason);
    enum dm_code rc =
        dm_rabbit_publish(c->rabbit, c->dead, d->body, d->len, d->message_id,
                          reason, c->queue, attempts, err);
    return rc ? rc : dm_rabbit_ack(c->rabbit, d->tag, err);
}

/* Decide what the outcome means for the message, and do it. */
static enum dm_code settle(struct consumer *c, const struct dm_delivery *d,
                           const struct dm_job_spec *job,
                           const struct dm_job_outcome *o, const char *src,
                           const char *dst, struct dm_error *err)
{
    int attempts = d->attempts + 1;
    bool ok =
        strcmp(o->status, "failed") != 0 && strcmp(o->status, "skipped") != 0;
    /* the outcome in the keys of --json (docs/json.md) */
    json_t *oj = dm_job_outcome_json(o);
    if (oj) {
        dm_json_set_name(oj, "source", src);
        dm_json_set_name(oj, "destination", dst);
    }
    dm_log_outcome(ok ? DM_LOG_INFO : DM_LOG_WARN, "consume", oj,
                   "%s -> %s: %s in %.1f s%s%s", src, dst, o->status,
                   o->seconds, ok ? "" : ": ", ok ? "" : o->error);
    json_decref(oj);
    if (ok) {
        ledger_note(c, job, src, dst, attempts, o, o->status);
        return dm_rabbit_ack(c->rabbit, d->tag, err);
    }
    if (o->permanent || attempts >= c->max_attempts) {
        char *reason =
            dm_fmt("%s%s (%s)", o->permanent ? "" : "gave up: ", o->error,
                   dm_code_name(o->code));
        ledger_note(c, job, src, dst, attempts, o, o->status);
        enum dm_code rc =
            dead_letter(c, d, reason ? reason : o->error, attempts, err);
        free(reason);
        return rc;
    }
    /* transient: back off (serving heartbeats), then back on the queue
     * with one more attempt counted */
    dm_warn("consume", "%s: %s; attempt %d of %d later", src, o->error,
            attempts + 1, c->max_attempts);
    ledger_note(c, job, src, dst, attempts, o, "requeued");
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    long wait_ms = 1000L << (attempts < 6 ? attempts : 6);
    const char *base = getenv("DUCKMIG_RETRY_BASE_MS");
    if (base && *base)
        wait_ms = atol(base) << (attempts < 6 ? attempts : 6);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - until.tv_sec) * 1000 +
                       (now.tv_nsec - until.tv_nsec) / 1000000;
        if (elapsed >= wait_ms || stop_requested)
            break;
        struct dm_delivery none;
        enum dm_code rc = dm_rabbit_next(c->rabbit, 200, &none, err);
        dm_delivery_release(&none);
        if (rc)
            return rc;
    }
    enum dm_code rc =
        dm_rabbit_publish(c->rabbit, c->queue, d->body, d->len, d->message_id,
                          o->error, NULL, attempts, err);
    return rc ? rc : dm_rabbit_ack(c->rabbit, d->tag, err);
}

/* One delivery, start to end. DM_ERR_NETWORK: the connection is gone. */
static enum dm_code handle(struct consumer *c, struct dm_delivery *d,
                           long stop_timeout, struct dm_error *err)
{
    struct dm_job_spec job;
    struct dm_error perr = DM_ERROR_INIT;
    struct running_job *j = NULL;
    enum dm_code rc = DM_OK;
    if (dm_job_parse(d->body, d->len, &job, &perr) != DM_OK) {
        /* poison: no job to run, nothing to record but the reason */
        return dead_letter(c, d, perr.msg, d->attempts + 1, err);
    }
    char *src = dm_job_source_uri(&job), *dst = dm_job_dest_uri(&job);
    /* A message the broker gave back (a consumer died, or the channel was
     * closed by consumer_timeout) carries no new attempt count: take the
     * ledger's, so that a job that never finishes cannot loop forever. */
    int recorded = 0;
    if (d->redelivered && c->ledger &&
        dm_ledger_attempts(c->ledger, src, dst, &recorded, err) == DM_OK &&
        recorded > d->attempts)
        d->attempts = recorded;
    dm_error_clear(err);
    if (d->redelivered && d->attempts >= c->max_attempts) {
        char *reason = dm_fmt("redelivered after %d attempts that never "
                              "finished (consumer killed, or the broker's "
                              "consumer_timeout: docs/fleet.md)",
                              d->attempts);
        rc = dead_letter(c, d, reason ? reason : "redelivered too often",
                         d->attempts, err);
        free(reason);
        goto out;
    }
    if (c->ledger && dm_ledger_started(c->ledger, src, dst, c->queue,
                                       d->attempts + 1, err)) {
        dm_warn("consume", "ledger: %s", err->msg);
        dm_error_clear(err);
    }
    dm_info("consume", "%s -> %s: started (attempt %d)", src, dst,
            d->attempts + 1);

    j = calloc(1, sizeof(*j));
    if (!j) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    j->run.body = d->body;
    j->run.len = d->len;
    j->run.download_root = c->download;
    if (pthread_create(&j->thread, NULL, job_thread, j) != 0) {
        free(j);
        j = NULL;
        rc = dm_fail(err, DM_ERR_GENERIC, "cannot start a worker thread");
        goto out;
    }
    time_t stop_at = 0;
    while (!atomic_load(&j->done)) {
        /* short waits: the job's end is noticed here, and every file
         * would otherwise pay half the wait (bench/fleet.sh) */
        struct dm_delivery none;
        rc = dm_rabbit_next(c->rabbit, 50, &none, err);
        dm_delivery_release(&none);
        if (rc) {
            /* the message comes back to the queue by itself */
            dm_warn("consume",
                    "%s: connection lost during the job (%s); "
                    "stopping it",
                    src, err->msg);
            job_kill(j);
            goto out;
        }
        if (stop_requested && !stop_at) {
            struct dm_error e = DM_ERROR_INIT;
            dm_rabbit_cancel(c->rabbit, &e);
            stop_at = time(NULL) + stop_timeout;
            dm_info("consume", "SIGTERM: finishing %s within %ld s", src,
                    stop_timeout);
        }
        if (stop_at && time(NULL) >= stop_at) {
            job_kill(j);
            dm_info("consume", "%s: not finished in time, back to the queue",
                    src);
            rc = dm_rabbit_requeue(c->rabbit, d->tag, err);
            goto out;
        }
    }
    pthread_join(j->thread, NULL);
    struct dm_job_outcome o;
    dm_job_run_outcome(&j->run, &o);
    rc = settle(c, d, &job, &o, src, dst, err);
    dm_job_outcome_release(&o);
out:
    if (j) {
        free(j->run.output);
        free(j);
    }
    free(src);
    free(dst);
    dm_job_release(&job);
    return rc;
}

static enum dm_code connect_consumer(struct consumer *c, struct dm_error *err)
{
    enum dm_code rc =
        dm_rabbit_connect_secret(c->secrets, c->rabbit_secret, &c->rabbit, err);
    if (!rc)
        rc = dm_rabbit_declare(c->rabbit, c->queue, err);
    if (!rc)
        rc = dm_rabbit_consume(c->rabbit, c->queue, err);
    if (rc && c->rabbit) {
        dm_rabbit_close(c->rabbit);
        c->rabbit = NULL;
    }
    return rc;
}

int cmd_consume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"max-messages", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long max_messages = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        if (ch == 'm') {
            max_messages = atol(optarg);
        } else if (ch == 'h') {
            fputs(cmd_consume_usage, stdout);
            return 0;
        } else {
            fputs(cmd_consume_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind != argc) {
        fputs(cmd_consume_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct consumer c;
    memset(&c, 0, sizeof(c));
    c.queue = dm_env_or("QUEUE_NAME", "migrate_duckdb_release");
    c.rabbit_secret = dm_env_or("RABBIT_SECRET", "perform_rabbitmq_dev");
    c.db_secret = getenv("DB_SECRET");
    c.download = dm_env_or("BATCH_DOWNLOAD", "/batch_download");
    c.max_attempts = atoi(dm_env_or("DUCKMIG_MAX_ATTEMPTS", "5"));
    if (c.max_attempts < 1)
        c.max_attempts = 1;
    long stop_timeout = atol(dm_env_or("DUCKMIG_STOP_TIMEOUT", "100"));
    char *dead = dm_fmt("%s.dead", c.queue);
    c.dead = dead;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = dm_secrets_new(&c.secrets, &err);
    if (rc || !dead)
        goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (c.db_secret && *c.db_secret) {
        rc = dm_ledger_open(c.secrets, c.db_secret, &c.ledger, &err);
        if (rc)
            goto out;
    }
    /* the folders of jobs whose consumer was killed (several consumers
     * may share BATCH_DOWNLOAD: a folder goes only when nobody holds
     * its lock) */
    dm_tmpdir_sweep(c.download, "job-");
    dm_info("consume", "consuming %s (target %s)", c.queue,
            dm_env_or("DUCKDB_MIGRATE_VERSION", "duckdb0.8.1"));
    long handled = 0;
    int failures = 0;
    while (!stop_requested && (max_messages < 0 || handled < max_messages)) {
        if (!c.rabbit) {
            dm_error_clear(&err);
            rc = connect_consumer(&c, &err);
            if (rc == DM_ERR_NETWORK) {
                /* broker gone: back off, try again, forever */
                dm_warn("consume", "%s; reconnecting", err.msg);
                dm_aws_backoff(failures < 7 ? ++failures : failures);
                continue;
            }
            if (rc)
                goto out;
            failures = 0;
            dm_info("consume", "connected, waiting for messages on %s",
                    c.queue);
        }
        struct dm_delivery d;
        rc = dm_rabbit_next(c.rabbit, 1000, &d, &err);
        if (!rc && d.body) {
            rc = handle(&c, &d, stop_timeout, &err);
            handled++;
        }
        dm_delivery_release(&d);
        if (rc == DM_ERR_NETWORK) {
            dm_warn("consume", "%s; reconnecting", err.msg);
            dm_rabbit_close(c.rabbit);
            c.rabbit = NULL;
            rc = DM_OK;
        } else if (rc) {
            goto out;
        }
    }
    rc = DM_OK;
    dm_info("consume", "stopping after %ld messages", handled);
out:
    if (rc) {
        fputs("duckmig: consume: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    dm_rabbit_close(c.rabbit);
    dm_ledger_close(c.ledger);
    dm_secrets_free(c.secrets);
    free(dead);
    return rc;
}
