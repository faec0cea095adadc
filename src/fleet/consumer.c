/*
 * consumer.c - the seed's consumer, behind `duckmig consume` (ECS
 * services migrate-duck-small and migrate-duck-big): one message at a
 * time.
 *
 * The main thread owns the RabbitMQ connection and never stops calling
 * into rabbitmq-c, so heartbeats flow while a migration runs for an hour
 * (the library is not thread-safe and sends heartbeats only inside its
 * calls). A job runs on a worker thread, which runs it in a child process
 * (`duckmig __job`): a crash or a kill of the job cannot take the
 * consumer with it, and SIGTERM can stop it for good within Fargate's
 * stop timeout.
 *
 * Before any message is taken, the settings are checked (the target's
 * engine, the broker and queue, the ledger and its grants, the stores
 * the environment names): a mistake stops the consumer at once.
 *
 * Outcomes: done (migrated, already at target, already done, incomplete)
 * is acked; a permanent failure goes to QUEUE.dead with its reason; a
 * transient one is published again with its attempt count (dead-lettered
 * after DUCKMIG_MAX_ATTEMPTS), then acked. Each only once the ledger has
 * the outcome: a write that still fails after a few tries puts the
 * message back on the queue and stops the consumer. A lost connection
 * kills the running job (its message returns to the queue by itself) and
 * reconnects with backoff.
 *
 * Each job works in its own folder under BATCH_DOWNLOAD, made and removed
 * by the worker thread around the job (fleet/runner.h), also when the
 * job had to be killed (lost connection, stop timeout, consumer_timeout);
 * the folders of a consumer that was itself killed are removed by the
 * next one to start.
 */
#include "fleet/consumer.h"

#include <errno.h>
#include <fcntl.h>
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

#include "engine/zygote.h"
#include "fleet/jobzygote.h"
#include "fleet/health.h"
#include "fleet/job.h"
#include "fleet/message.h"
#include "fleet/preflight.h"
#include "fleet/protect.h"
#include "fleet/runner.h"
#include "ledger/ledger.h"
#include "metrics/metrics.h"
#include "queue/rabbit.h"
#include "secrets/secrets.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"
#include "util/text.h"
#include "util/tmpdir.h"

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
    /* written once the job ended: the main thread's wait on the broker
     * ends at once instead of at its next timeout */
    int wake[2];
};

static void *job_thread(void *arg)
{
    struct running_job *j = arg;
    dm_job_run_child(&j->run);
    atomic_store(&j->done, true);
    ssize_t w = write(j->wake[1], "", 1);
    (void)w; /* unwritten: the wait's timeout notices done instead */
    return NULL;
}

static void job_free(struct running_job *j)
{
    if (!j)
        return;
    for (int i = 0; i < 2; i++)
        if (j->wake[i] >= 0)
            close(j->wake[i]);
    free(j->run.output);
    free(j);
}

static void job_kill(struct running_job *j)
{
    dm_job_run_kill(&j->run, 5000);
    pthread_join(j->thread, NULL);
}

/* ---- the consumer ---- */

struct consumer {
    const char *queue, *dead, *rabbit_secret, *db_secret;
    const char *download; /* BATCH_DOWNLOAD: the jobs' folders */
    int max_attempts;
    struct dm_secrets *secrets;
    struct dm_rabbit *rabbit;
    struct dm_ledger *ledger;
    struct dm_protect *protect; /* NULL outside ECS */
    const char *heartbeat;      /* DUCKMIG_HEARTBEAT_FILE */
    time_t last_beat;
    bool beat_failed; /* said once, not every second */
    /* the ledger refused a write for good: the message went back to the
     * queue, and the consumer stops with this code */
    enum dm_code stop_code;
};

/* Touch the heartbeat file, at most once a second: every loop that waits
 * on the broker calls this, so that `duckmig health` sees a consumer
 * that is alive, and a stale file means one that is stuck. */
static void beat(struct consumer *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (c->last_beat && now.tv_sec == c->last_beat)
        return;
    c->last_beat = now.tv_sec;
    struct dm_error e = DM_ERROR_INIT;
    if (dm_heartbeat_touch(c->heartbeat, &e) != DM_OK && !c->beat_failed) {
        dm_warn("consume", "heartbeat: %s; `duckmig health` will fail", e.msg);
        c->beat_failed = true;
    } else if (!e.code) {
        c->beat_failed = false;
    }
}

/* Scale-in protection on or off; a failure is said and counted, and the
 * job goes on (protect.h). */
static void protect(struct consumer *c, bool on)
{
    struct dm_error e = DM_ERROR_INIT;
    if (c->protect && dm_protect_set(c->protect, on, &e) != DM_OK) {
        dm_warn("consume", "%s", e.msg);
        dm_metrics_count(DM_METRIC_PROTECTION_FAILURES, c->queue);
    }
}

#define LEDGER_TRIES 5

/* Wait wait_ms, answering the broker (heartbeats) meanwhile; a SIGTERM
 * ends the wait early. DM_ERR_NETWORK: the connection is gone. */
static enum dm_code wait_serving(struct consumer *c, long wait_ms,
                                 struct dm_error *err)
{
    struct timespec from;
    clock_gettime(CLOCK_MONOTONIC, &from);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - from.tv_sec) * 1000 +
                       (now.tv_nsec - from.tv_nsec) / 1000000;
        if (elapsed >= wait_ms || stop_requested)
            return DM_OK;
        beat(c);
        struct dm_delivery none;
        enum dm_code rc = dm_rabbit_next(c->rabbit, 200, &none, err);
        dm_delivery_release(&none);
        if (rc)
            return rc;
    }
}

/*
 * One ledger write (started when r->status is running), tried LEDGER_TRIES
 * times with a doubling wait between (a dropped connection is made again
 * by the ledger): an outcome that never reaches the ledger must not be
 * acked, so the caller gives the message back when this fails.
 */
static enum dm_code ledger_write(struct consumer *c,
                                 const struct dm_ledger_result *r,
                                 struct dm_error *err)
{
    /* half of a broker reconnect's: 500 ms by default */
    long wait_ms = (long)dm_setting_u64(DM_SET_RETRY_BASE_MS) / 2;
    enum dm_code rc = DM_OK;
    for (int try = 1; try <= LEDGER_TRIES; try++) {
        dm_error_clear(err);
        rc = r->status != DM_STATUS_RUNNING
                 ? dm_ledger_finished(c->ledger, r, err)
                 : dm_ledger_started(c->ledger, r->source, r->destination,
                                     r->queue, r->attempts, err);
        if (!rc || try == LEDGER_TRIES)
            break;
        dm_warn("consume", "ledger: %s; try %d of %d in %ld ms", err->msg,
                try + 1, LEDGER_TRIES, wait_ms);
        struct dm_error werr = DM_ERROR_INIT;
        if (wait_serving(c, wait_ms, &werr))
            break; /* the broker is gone too: the message comes back */
        wait_ms *= 2;
    }
    return rc;
}

/* The ledger would not take the outcome: put the message back on the
 * queue (another consumer, or this one restarted, finds the work done
 * and records it) and stop, instead of acking what is not recorded. */
static enum dm_code give_back(struct consumer *c, const struct dm_delivery *d,
                              const char *src, struct dm_error *err)
{
    dm_errlog("consume",
              "%s: the ledger refused the outcome after %d tries (%s); the "
              "message goes back to the queue, and this consumer stops",
              src, LEDGER_TRIES, err->msg);
    c->stop_code = err->code ? err->code : DM_ERR_GENERIC;
    struct dm_error rerr = DM_ERROR_INIT;
    if (dm_rabbit_requeue(c->rabbit, d->tag, &rerr))
        dm_warn("consume",
                "requeue: %s (the broker gives it back when "
                "the connection closes)",
                rerr.msg);
    return c->stop_code;
}

static enum dm_code ledger_note(struct consumer *c,
                                const struct dm_job_spec *job, const char *src,
                                const char *dst, int attempts,
                                const struct dm_job_outcome *o,
                                enum dm_status status, struct dm_error *err)
{
    if (!c->ledger)
        return DM_OK;
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
    enum dm_code rc = ledger_write(c, &r, err);
    free(verification);
    return rc;
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
    bool ok = dm_status_done(o->status);
    dm_metrics_job(c->queue, o->status, ok ? NULL : dm_code_name(o->code),
                   o->src_size, o->seconds);
    /* the outcome in the keys of --json (docs/json.md) */
    json_t *oj = dm_job_outcome_json(o);
    if (oj) {
        dm_json_set_name(oj, "source", src);
        dm_json_set_name(oj, "destination", dst);
    }
    dm_log_outcome(ok ? DM_LOG_INFO : DM_LOG_WARN, "consume", oj,
                   "%s -> %s: %s in %.1f s%s%s", src, dst,
                   dm_status_name(o->status), o->seconds, ok ? "" : ": ",
                   ok ? "" : o->error);
    json_decref(oj);
    if (ok) {
        if (ledger_note(c, job, src, dst, attempts, o, o->status, err))
            return give_back(c, d, src, err);
        return dm_rabbit_ack(c->rabbit, d->tag, err);
    }
    if (ledger_note(c, job, src, dst, attempts, o,
                    o->permanent || attempts >= c->max_attempts
                        ? o->status
                        : DM_STATUS_REQUEUED,
                    err))
        return give_back(c, d, src, err);
    if (o->permanent || attempts >= c->max_attempts) {
        char *reason =
            dm_fmt("%s%s (%s)", o->permanent ? "" : "gave up: ", o->error,
                   dm_code_name(o->code));
        enum dm_code rc =
            dead_letter(c, d, reason ? reason : o->error, attempts, err);
        free(reason);
        return rc;
    }
    /* transient: back off (serving heartbeats), then back on the queue
     * with one more attempt counted */
    dm_warn("consume", "%s: %s; attempt %d of %d later", src, o->error,
            attempts + 1, c->max_attempts);
    long wait_ms = (long)dm_setting_u64(DM_SET_RETRY_BASE_MS)
                   << (attempts < 6 ? attempts : 6);
    enum dm_code rc = wait_serving(c, wait_ms, err);
    if (rc)
        return rc;
    rc = dm_rabbit_publish(c->rabbit, c->queue, d->body, d->len, d->message_id,
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
    bool protected = false;
    enum dm_code rc = DM_OK;
    if (dm_job_parse(d->body, d->len, &job, &perr) != DM_OK) {
        /* poison: no job to run, nothing to record but the reason */
        dm_metrics_job(c->queue, DM_STATUS_FAILED, "bad_message", 0, 0);
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
        dm_metrics_job(c->queue, DM_STATUS_FAILED, "redelivered", 0, 0);
        rc = dead_letter(c, d, reason ? reason : "redelivered too often",
                         d->attempts, err);
        free(reason);
        goto out;
    }
    /* a job is about to run: scale-in must not pick this task now */
    protect(c, true);
    protected = true;
    struct timespec renew_at;
    clock_gettime(CLOCK_MONOTONIC, &renew_at);
    renew_at.tv_sec += (time_t)dm_protect_minutes(c->protect) * 30;
    if (c->ledger) {
        struct dm_ledger_result started = {
            src,  dst,  NULL, c->queue, DM_STATUS_RUNNING,
            NULL, NULL, 0,    0,        d->attempts + 1,
            NULL, NULL, 0};
        if (ledger_write(c, &started, err)) {
            rc = give_back(c, d, src, err);
            goto out;
        }
    }
    dm_info("consume", "%s -> %s: started (attempt %d)", src, dst,
            d->attempts + 1);

    j = calloc(1, sizeof(*j));
    if (!j) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    j->wake[0] = j->wake[1] = -1;
    j->run.body = d->body;
    j->run.len = d->len;
    j->run.download_root = c->download;
    /* close-on-exec: the job's process must not hold it */
    if (pipe2(j->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = dm_fail_errno(err, DM_ERR_GENERIC, errno,
                           "cannot start a job: pipe");
        goto out;
    }
    if (pthread_create(&j->thread, NULL, job_thread, j) != 0) {
        rc = dm_fail(err, DM_ERR_GENERIC, "cannot start a worker thread");
        goto out;
    }
    dm_metrics_running(1);
    time_t stop_at = 0;
    while (!atomic_load(&j->done)) {
        beat(c);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (c->protect && now.tv_sec >= renew_at.tv_sec) {
            /* a job longer than half the protection: extend it */
            protect(c, true);
            renew_at.tv_sec = now.tv_sec + dm_protect_minutes(c->protect) * 30;
        }
        /* the job's end wakes this wait at once (a timeout here cost
         * every file half of it); the timeout bounds how late a SIGTERM
         * that reached the job's thread, or a renewal, is seen */
        struct dm_delivery none;
        rc = dm_rabbit_next_or_wake(c->rabbit, 100, j->wake[0], &none, err);
        dm_delivery_release(&none);
        if (rc) {
            /* the message comes back to the queue by itself */
            dm_warn("consume",
                    "%s: connection lost during the job (%s); "
                    "stopping it",
                    src, err->msg);
            job_kill(j);
            dm_metrics_running(-1);
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
            dm_metrics_running(-1);
            rc = dm_rabbit_requeue(c->rabbit, d->tag, err);
            goto out;
        }
    }
    pthread_join(j->thread, NULL);
    dm_metrics_running(-1);
    struct dm_job_outcome o;
    dm_job_run_outcome(&j->run, &o);
    rc = settle(c, d, &job, &o, src, dst, err);
    dm_job_outcome_release(&o);
out:
    /* after the message is settled: the task may go now */
    if (protected)
        protect(c, false);
    job_free(j);
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

/* How long to wait before connection attempt n+1 after n failed in a
 * row: doubling from DUCKMIG_RETRY_BASE_MS (default 1 s) up to 30 of
 * those, half of it drawn at random so that a fleet whose broker came
 * back does not reconnect all at once. */
static long reconnect_delay_ms(int failed)
{
    /* at most 60000 (util/env.c); 0 would never wait */
    long base = (long)dm_setting_u64(DM_SET_RETRY_BASE_MS);
    if (base < 1)
        base = 1;
    long cap = 30 * base, d = base << (failed < 10 ? failed - 1 : 9);
    if (d > cap)
        d = cap;
    return d / 2 + (long)((double)(d / 2) * ((double)rand() / RAND_MAX));
}

/* Sleep ms, still touching the heartbeat; a stop cuts it short. */
static void wait_beating(struct consumer *c, long ms)
{
    for (long waited = 0; waited < ms && !stop_requested; waited += 100) {
        beat(c);
        struct timespec tick = {0, (ms - waited < 100 ? ms - waited : 100) *
                                       1000000L};
        nanosleep(&tick, NULL);
    }
}

/*
 * (Re)connect to the broker. A broker that is gone is tried again a
 * bounded number of times, each said, then the consumer exits non-zero,
 * so that the orchestrator restarts the task and the failure shows where
 * people look: *again when another try follows (after a wait).
 */
static enum dm_code reconnect(struct consumer *c, int *failures, bool *again,
                              struct dm_error *err)
{
    int attempts = (int)dm_setting_u64(DM_SET_CONNECT_ATTEMPTS);
    *again = false;
    dm_error_clear(err);
    enum dm_code rc = connect_consumer(c, err);
    if (rc != DM_ERR_NETWORK) {
        if (!rc) {
            *failures = 0;
            dm_info("consume", "connected, waiting for messages on %s",
                    c->queue);
        }
        return rc;
    }
    (*failures)++;
    dm_metrics_count(DM_METRIC_CONNECT_FAILURES, c->queue);
    if (*failures >= attempts) {
        dm_errlog("consume",
                  "broker unreachable: attempt %d of %d failed (%s); "
                  "giving up",
                  *failures, attempts, err->msg);
        return rc;
    }
    long delay = reconnect_delay_ms(*failures);
    dm_warn("consume",
            "broker unreachable: attempt %d of %d failed (%s); next "
            "attempt in %.1f s",
            *failures, attempts, err->msg, (double)delay / 1000.0);
    wait_beating(c, delay);
    *again = true;
    return rc;
}

/* Take messages one at a time until told to stop, max_messages are
 * handled (< 0: no limit), or something fails that reconnecting cannot
 * mend. */
static enum dm_code consume_messages(struct consumer *c, long max_messages,
                                     struct dm_error *err)
{
    long stop_timeout = (long)dm_setting_u64(DM_SET_STOP_TIMEOUT);
    long handled = 0;
    int failures = 0;
    enum dm_code rc = DM_OK;
    time_t summary_at = time(NULL) + dm_metrics_interval();
    while (!stop_requested && (max_messages < 0 || handled < max_messages)) {
        beat(c);
        if (dm_metrics_emf_enabled() && time(NULL) >= summary_at) {
            dm_metrics_emf_summary();
            summary_at = time(NULL) + dm_metrics_interval();
        }
        if (!c->rabbit) {
            bool again;
            rc = reconnect(c, &failures, &again, err);
            if (again)
                continue;
            if (rc)
                return rc;
        }
        struct dm_delivery d;
        rc = dm_rabbit_next(c->rabbit, 1000, &d, err);
        if (!rc && d.body) {
            rc = handle(c, &d, stop_timeout, err);
            handled++;
        }
        dm_delivery_release(&d);
        if (c->stop_code)
            return c->stop_code;
        if (rc == DM_ERR_NETWORK) {
            dm_warn("consume", "%s; reconnecting", err->msg);
            dm_rabbit_close(c->rabbit);
            c->rabbit = NULL;
        } else if (rc) {
            return rc;
        }
    }
    dm_info("consume", "stopping after %ld messages", handled);
    return DM_OK;
}

enum dm_code dm_consumer_run(const struct dm_consumer_opts *o,
                             struct dm_error *err)
{
    struct dm_zygotes *zygotes = NULL;
    struct consumer c;
    memset(&c, 0, sizeof(c));
    c.queue = dm_setting(DM_SET_QUEUE_NAME);
    c.rabbit_secret = dm_setting(DM_SET_RABBIT_SECRET);
    /* without it, outcomes are only logged */
    c.db_secret = dm_setting_given_value(DM_SET_DB_SECRET);
    c.download = dm_setting(DM_SET_BATCH_DOWNLOAD);
    c.heartbeat = dm_heartbeat_path();
    /* the ranges: util/settings.c */
    c.max_attempts = (int)dm_setting_u64(DM_SET_MAX_ATTEMPTS);
    char *dead = dm_fmt("%s.dead", c.queue);
    c.dead = dead;
    struct dm_metrics_server *server = NULL;
    enum dm_code rc = dm_secrets_new(&c.secrets, err);
    if (!rc && !dead)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    dm_metrics_init(stdout);
    if (!rc)
        rc = dm_protect_open(&c.protect, err);
    if (rc)
        goto out;
    dm_metrics_queue(c.queue);
    if (o->metrics_port) {
        rc =
            dm_metrics_serve(o->metrics_address, o->metrics_port, &server, err);
        if (rc)
            goto out;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    beat(&c);
    /* a setting that cannot work is said now, before a message is
     * taken, not by dead-lettering every one (fleet/preflight.h) */
    struct dm_preflight_opts checks;
    dm_preflight_consume_opts(&checks);
    checks.secrets = c.secrets;
    /* a broker that is down (restarting) is waited for below, a bounded
     * number of times; one that answers wrongly stops us now */
    checks.broker_may_be_down = true;
    rc = dm_preflight_command(&checks, "consume");
    if (rc) {
        dm_fail(err, rc,
                "not started: a check failed (above); nothing "
                "was taken from %s",
                c.queue);
        goto out;
    }
    if (c.db_secret && *c.db_secret) {
        rc = dm_ledger_open(c.secrets, c.db_secret, &c.ledger, err);
        if (rc)
            goto out;
    }
    /* the folders of jobs whose consumer was killed (several consumers
     * may share BATCH_DOWNLOAD: a folder goes only when nobody holds
     * its lock) */
    dm_tmpdir_sweep(c.download, "job-");
    /* every job's engines are forked from these (engine/zygote.h); their
     * sockets in $TMPDIR, not in BATCH_DOWNLOAD, which holds job folders
     * only */
    rc = dm_zygotes_start(dm_setting(DM_SET_TMPDIR), &zygotes, err);
    /* and the job processes from this one (fleet/jobzygote.h) */
    if (!rc)
        dm_job_zygote_start(zygotes);
    if (rc)
        goto out;
    dm_info("consume", "consuming %s (target %s)", c.queue,
            dm_setting(DM_SET_MIGRATE_VERSION));
    rc = consume_messages(&c, o->max_messages, err);
out:
    /* what the last period saw, before the counters go */
    dm_metrics_emf_summary();
    dm_zygotes_stop(zygotes);
    dm_rabbit_close(c.rabbit);
    dm_ledger_close(c.ledger);
    dm_metrics_server_stop(server);
    dm_metrics_reset();
    dm_protect_close(c.protect);
    dm_secrets_free(c.secrets);
    free(dead);
    return rc;
}
