/*
 * metrics.h - the counters of a consumer (or a batch), and two ways out:
 * CloudWatch embedded-metric-format (EMF) JSON lines, which CloudWatch
 * Logs turns into metrics with no agent and no API call from the task,
 * and a Prometheus text endpoint (format 0.0.4) for whoever scrapes.
 *
 * The counters are process-wide and thread-safe (batch records from its
 * worker threads, the endpoint reads from its own thread). Series are
 * keyed by queue (the consumer's QUEUE_NAME, or "batch") and one label:
 * the outcome status for files, the reason (dm_code_name) for failures.
 *
 * EMF (DUCKMIG_METRICS=emf): one line per job, with dimensions
 * [Queue, Status] (and [Queue, Reason] for a failure), and a summary
 * line per queue every DUCKMIG_METRICS_INTERVAL seconds (and at exit)
 * with dimension [Queue] carrying what happened in that period: each
 * job is counted once per dimension set, never twice in one metric.
 */
#ifndef DM_METRICS_H
#define DM_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/error.h"
#include "util/status.h"

/* Counters other than the per-job ones (dm_metrics_job). */
enum dm_metric {
    DM_METRIC_PROTECTION_FAILURES, /* task-protection calls that failed */
    DM_METRIC_CONNECT_FAILURES,    /* broker connection attempts failed */
};

/*
 * Read DUCKMIG_METRICS ("emf", or unset/"none"), DUCKMIG_METRICS_NAMESPACE
 * (default "duckmig") and DUCKMIG_METRICS_INTERVAL (seconds between EMF
 * summaries, default 60). EMF lines go to emf_out (consume: stdout;
 * batch: stderr, its stdout being the report).
 */
void dm_metrics_init(FILE *emf_out);
bool dm_metrics_emf_enabled(void);
/* Seconds between EMF summaries. */
long dm_metrics_interval(void);

/* Make queue's series exist (zero) before its first job, so that the
 * endpoint and the summaries show it from the start. */
void dm_metrics_queue(const char *queue);

/*
 * One finished job: its status (migrated, failed, ...), the reason of a
 * failure (NULL when it did not fail), the source's bytes and the job's
 * seconds. Writes the job's EMF line when EMF is on.
 */
void dm_metrics_job(const char *queue, enum dm_status status,
                    const char *reason, uint64_t bytes, double seconds);

void dm_metrics_count(enum dm_metric m, const char *queue);

/* Jobs running now (a gauge). */
void dm_metrics_running(int delta);

/* The EMF summary lines for the period since the last one. */
void dm_metrics_emf_summary(void);

/* Every series in Prometheus text format 0.0.4; NULL when out of memory. */
char *dm_metrics_prometheus(void);

/* Forget every series (at exit, and between tests). */
void dm_metrics_reset(void);

/*
 * The endpoint: a thread serving GET /metrics (HTTP/1.0, one request per
 * connection) on address:port. Fails when it cannot listen there.
 */
struct dm_metrics_server;
enum dm_code dm_metrics_serve(const char *address, int port,
                              struct dm_metrics_server **out,
                              struct dm_error *err);
void dm_metrics_server_stop(struct dm_metrics_server *s);

#endif
