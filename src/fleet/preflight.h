/*
 * preflight.h - what a command needs, checked before it takes any work:
 * `duckmig doctor`, and the start of `consume`, `batch` and `publish`.
 *
 * A misconfiguration found at start-up costs one line; found by the
 * first message, it dead-letters the whole queue. Each check names what
 * it checked, and a failure says what is wrong and how to fix it. The
 * checks write nothing but a probe object (to prove that a destination
 * takes writes), and not even that when asked not to (a dry run).
 *
 * Checks, each run only when the options ask for it:
 *   engine        the target release is one duckmig migrates to, and its
 *                 engine is installed and opens a database in a worker
 *   secret NAME   the secret resolves (RABBIT_SECRET, DB_SECRET)
 *   broker        RabbitMQ takes the login on the vhost; each queue is
 *                 there (a passive declare, which creates nothing)
 *   database      PostgreSQL takes the login; GOAL_QUERY runs; the
 *                 ledger table exists with SELECT, INSERT, UPDATE granted
 *   source        the source store lists and reads (a HEAD of one object)
 *   destination   the destination store takes a probe object, then its
 *                 delete, under a name of duckmig's own
 *   download      BATCH_DOWNLOAD takes a job folder
 */
#ifndef DM_FLEET_PREFLIGHT_H
#define DM_FLEET_PREFLIGHT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fleet/message.h"
#include "util/error.h"

enum dm_check_status { DM_CHECK_OK, DM_CHECK_SKIP, DM_CHECK_FAIL };

struct dm_check {
    char name[48];
    enum dm_check_status status;
    enum dm_code code; /* DM_OK unless failed */
    char detail[DM_ERROR_MSG_MAX];
    char fix[512]; /* failed: the remedy */
};

/* A store to check: read (list, then a HEAD of the first object) or,
 * for a destination, write (a probe object put, then deleted). */
struct dm_preflight_store {
    const char *label;    /* "source", "destination", ... */
    bool write;           /* a destination: MIGRATE_DST for EFS */
    enum dm_datastore ds; /* S3: bucket; EFS: MIGRATE_SRC or MIGRATE_DST */
    const char *bucket;
    const char *prefix; /* "" or ending with '/': where to look or probe */
    const char *skip;   /* not NULL: not checked, and why */
};

#define DM_PREFLIGHT_STORES 4

struct dm_preflight_opts {
    const char *release;        /* the target; NULL: no engine check */
    struct dm_secrets *secrets; /* NULL: the checks make their own */
    const char *rabbit_secret;  /* NULL: no broker check */
    const char *queues[3];      /* NULL-terminated when fewer */
    bool queues_required;       /* false: an absent queue is fine (publish
                                 * declares it), and said */
    /* a broker that does not answer now is no failure: the caller keeps
     * trying (consume's bounded reconnect); what answers wrongly (login,
     * vhost, TLS, a missing queue) still is */
    bool broker_may_be_down;
    const char *db_secret;  /* NULL: no database check */
    const char *goal_query; /* NULL: not checked */
    bool ledger;            /* the ledger table and its grants */
    struct dm_preflight_store stores[DM_PREFLIGHT_STORES];
    size_t nstores;
    const char *download; /* NULL: not checked */
    bool no_write;        /* a dry run: no probe object, no folder */
};

struct dm_preflight {
    struct dm_check *checks;
    size_t n;
    enum dm_code first; /* the first failure's code, DM_OK when none */
};

/* The options `consume` runs with, from its environment (QUEUE_NAME,
 * RABBIT_SECRET, DB_SECRET, DUCKDB_MIGRATE_VERSION, SOURCE_DATASTORE,
 * DESTINATION_DATASTORE, SOURCE_BUCKET, DESTINATION_BUCKET,
 * BATCH_DOWNLOAD); and those of `publish` (QUEUE_SMALL, QUEUE_BIG,
 * GOAL_QUERY, ...) for the datastores from and to. */
void dm_preflight_consume_opts(struct dm_preflight_opts *o);
void dm_preflight_publish_opts(struct dm_preflight_opts *o,
                               enum dm_datastore from, bool dry_run);

/* The options of `batch`: the target (NULL: DUCKDB_MIGRATE_VERSION, else
 * 0.8.1), SRC read and DST written, each an S3 bucket or an EFS root
 * (MIGRATE_SRC, MIGRATE_DST) with a folder prefix; no broker, no
 * database. */
void dm_preflight_batch_opts(struct dm_preflight_opts *o, const char *release,
                             enum dm_datastore src, const char *src_bucket,
                             const char *src_prefix, enum dm_datastore dst,
                             const char *dst_bucket, const char *dst_prefix);

/* `duckmig doctor`: what the fleet needs (both sides; a queue that is
 * not there yet is fine, publish declares it), or exactly what consume or
 * publish checks at its start. */
enum dm_preflight_for {
    DM_PREFLIGHT_FLEET,
    DM_PREFLIGHT_CONSUME,
    DM_PREFLIGHT_PUBLISH,
};
void dm_preflight_fleet_opts(struct dm_preflight_opts *o,
                             enum dm_datastore from);

/* Run the checks for `what` and print them (text or JSON) on out; the
 * first failure's code, DM_OK when none failed. */
enum dm_code dm_doctor(enum dm_preflight_for what, enum dm_datastore from,
                       bool json, FILE *out);

/* Run the checks o asks for; p->first is the exit status. Every check is
 * run (a failure does not hide the next), except those that need what
 * failed (no broker login: no queue check). */
enum dm_code dm_preflight_run(const struct dm_preflight_opts *o,
                              struct dm_preflight *p);
void dm_preflight_release(struct dm_preflight *p);

/* One line per check ("ok", "skip", "FAIL"), failures with their fix. */
void dm_preflight_print(const struct dm_preflight *p, FILE *out);
/* {"ok": bool, "exit": N, "checks": [{name, status, code, detail, fix}]} */
json_t *dm_preflight_json(const struct dm_preflight *p);

/*
 * For a command's start: run the checks, log what passed, print each
 * failure on stderr as "duckmig: CMD: CHECK: what is wrong; fix: how",
 * and return the first failure's code (DM_OK when all passed).
 */
enum dm_code dm_preflight_command(const struct dm_preflight_opts *o,
                                  const char *cmd);

#endif
