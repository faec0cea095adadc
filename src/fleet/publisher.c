/*
 * publisher.c - the seed's publisher (`duckmig publish`). Reads the trackers
 * to migrate from the PostgreSQL goal table, lists each tracker's
 * *.duckdb and *.new.duckdb files at the source, and queues one message
 * per file, in the seed's shape for the two datastores, on the small or
 * the big queue by size. Every publish is confirmed by the broker; one
 * that is not is retried on a new connection, and the command fails
 * loudly if it never is. Each queued file gets a ledger row. Before
 * anything, the dependencies are checked (fleet/preflight.h): the broker
 * and its vhost, the database, GOAL_QUERY, the ledger's grants, the
 * source; --dry-run runs the same checks and writes nothing anywhere.
 *
 * What the goal table and the listings give is checked before it becomes
 * a message: a tracker or site that is NULL, empty, '.', '..', holds a
 * '/' or a control character, or is not UTF-8, skips its row; a file
 * whose name is not UTF-8 (a message is JSON) or makes a key the
 * consumer would refuse is skipped. Each is said, the others are
 * published, and the exit status is 1.
 */
#include "fleet/publisher.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/request.h"
#include "aws/sigv4.h"
#include "fleet/job.h"
#include "fleet/message.h"
#include "fleet/outcome.h"
#include "fleet/preflight.h"
#include "ledger/ledger.h"
#include "queue/rabbit.h"
#include "secrets/secrets.h"
#include "store/store.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"
#include "util/text.h"

struct publisher {
    enum dm_datastore from, to;
    const char *src_bucket, *dst_bucket;
    const char *queue_small, *queue_big;
    uint64_t big;
    bool dry_run;
    struct dm_secrets *secrets;
    const char *rabbit_secret;
    struct dm_rabbit *rabbit;
    struct dm_ledger *ledger;
    unsigned long published, small, bigs;
    unsigned long bad_rows, bad_files; /* skipped, each said */
};

struct tracker_ctx {
    struct publisher *p;
    const char *tracker, *site;
    enum dm_code rc;
    struct dm_error *err;
};

static enum dm_code connect_rabbit(struct publisher *p, struct dm_error *err)
{
    enum dm_code rc =
        dm_rabbit_connect_secret(p->secrets, p->rabbit_secret, &p->rabbit, err);
    if (!rc)
        rc = dm_rabbit_declare(p->rabbit, p->queue_small, err);
    if (!rc)
        rc = dm_rabbit_declare(p->rabbit, p->queue_big, err);
    if (rc && p->rabbit) {
        dm_rabbit_close(p->rabbit);
        p->rabbit = NULL;
    }
    return rc;
}

/* Publish with confirm; on a network failure reconnect and try again. */
static enum dm_code publish_confirmed(struct publisher *p, const char *queue,
                                      const char *body, const char *id,
                                      struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    for (int attempt = 1; attempt <= 6; attempt++) {
        dm_error_clear(err);
        if (!p->rabbit)
            rc = connect_rabbit(p, err);
        if (!p->rabbit && rc != DM_ERR_NETWORK)
            return rc;
        if (p->rabbit) {
            rc = dm_rabbit_publish(p->rabbit, queue, body, strlen(body), id,
                                   NULL, NULL, 0, err);
            if (!rc)
                return DM_OK;
            dm_rabbit_close(p->rabbit);
            p->rabbit = NULL;
        }
        if (attempt == 6)
            break; /* the caller says the last failure */
        dm_warn("publish", "%s; attempt %d of 6 next", err->msg, attempt + 1);
        dm_aws_backoff(attempt + 2);
    }
    return rc;
}

/* Skip one listed file, saying why; the others go on. */
static int skip_file(struct tracker_ctx *t, const char *key, const char *why)
{
    t->p->bad_files++;
    dm_warn("publish", "tracker %s: %s: skipped: %s", t->tracker, key, why);
    return 0;
}

/* Why a goal-table value (NULL for an SQL NULL) cannot be one path
 * segment of a key; NULL when it can be. */
static const char *segment_problem(const char *v)
{
    if (!v)
        return "NULL";
    if (!*v)
        return "empty";
    if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
        return "'.' or '..'";
    if (strchr(v, '/'))
        return "more than one path segment (a '/')";
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return "holding a control character";
    if (!dm_utf8_valid(v))
        return "not UTF-8";
    return NULL;
}

static int on_file(const struct dm_object *o, void *ud)
{
    struct tracker_ctx *t = ud;
    struct publisher *p = t->p;
    const char *file = dm_base_name(o->key);
    size_t n = strlen(file);
    if (n < 7 || strcmp(file + n - 7, ".duckdb") != 0)
        return 0; /* *.duckdb and *.new.duckdb only */
    if (o->problem)
        return skip_file(t, o->key, o->problem);
    if (!dm_utf8_valid(o->key))
        return skip_file(t, o->key,
                         "the name is not UTF-8, and a message (JSON) cannot "
                         "carry it");
    struct dm_job_spec job = {p->from, p->to, NULL, NULL,
                              NULL,    NULL,  NULL, NULL};
    job.src_bucket = p->from == DM_DS_S3 ? (char *)p->src_bucket : NULL;
    job.src_key = (char *)o->key;
    job.dst_bucket = p->to == DM_DS_S3 ? (char *)p->dst_bucket : NULL;
    job.tracker = (char *)t->tracker;
    char *dst_key = p->to == DM_DS_S3
                        ? dm_fmt("%s/%s/%s", t->site, t->tracker, file)
                        : dm_fmt("%s/%s", t->tracker, file);
    job.dst_key = dst_key;
    /* the consumer's own rules for keys, here, so that it is not the
     * consumer that finds a newline or a '..' */
    struct dm_error kerr = DM_ERROR_INIT;
    if (dst_key && (dm_key_check(o->key, strlen(o->key), &kerr) ||
                    dm_key_check(dst_key, strlen(dst_key), &kerr))) {
        free(dst_key);
        return skip_file(t, o->key, kerr.msg);
    }
    char *body = dst_key ? dm_job_format(&job) : NULL;
    char *src_uri = dm_job_source_uri(&job), *dst_uri = dm_job_dest_uri(&job);
    char id[65];
    const char *queue = o->size >= p->big ? p->queue_big : p->queue_small;
    if (!body || !src_uri || !dst_uri) {
        t->rc = dm_fail(t->err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    dm_sha256_hex(body, strlen(body), id);
    id[32] = '\0';
    if (p->dry_run) {
        json_t *line = json_pack("{s:s, s:I, s:o}", "queue", queue, "size",
                                 (json_int_t)o->size, "message",
                                 json_loads(body, 0, NULL));
        dm_json_print(line, NULL);
        json_decref(line);
    } else {
        t->rc = dm_ledger_queued(p->ledger, src_uri, dst_uri, t->tracker, queue,
                                 o->size, t->err);
        if (!t->rc)
            t->rc = publish_confirmed(p, queue, body, id, t->err);
        if (!t->rc)
            dm_info("publish", "%s -> %s: %s", src_uri, queue, dst_uri);
    }
    if (!t->rc) {
        p->published++;
        if (queue == p->queue_big)
            p->bigs++;
        else
            p->small++;
    }
out:
    free(src_uri);
    free(dst_uri);
    free(body);
    free(dst_key);
    return t->rc != DM_OK;
}

/* --raw: every line of stdin, as it is, confirmed */
static enum dm_code publish_raw(struct publisher *p, const char *queue,
                                struct dm_error *err)
{
    p->queue_small = p->queue_big = queue;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    /* the topology first: with no line at all, --raw declares the queue
     * (and its dead-letter queue), which consumers check at start */
    enum dm_code rc = p->rabbit ? DM_OK : connect_rabbit(p, err);
    while (!rc && (n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        rc = publish_confirmed(p, queue, line, NULL, err);
        if (!rc)
            p->published++;
    }
    free(line);
    if (!rc)
        fprintf(stderr, "duckmig: publish: %lu raw messages to %s\n",
                p->published, queue);
    return rc;
}

enum dm_code dm_publisher_run(const struct dm_publisher_opts *o,
                              struct dm_error *err)
{
    struct publisher p;
    memset(&p, 0, sizeof(p));
    enum dm_code rc = DM_OK;
    p.from = o->from;
    p.to = o->to;
    p.big = o->big;
    p.dry_run = o->dry_run;
    p.src_bucket = dm_setting(DM_SET_SOURCE_BUCKET);
    p.dst_bucket = dm_setting(DM_SET_DESTINATION_BUCKET);
    p.queue_small = dm_setting(DM_SET_QUEUE_SMALL);
    p.queue_big = dm_setting(DM_SET_QUEUE_BIG);
    p.rabbit_secret = dm_setting(DM_SET_RABBIT_SECRET);
    const char *goal_query = dm_setting(DM_SET_GOAL_QUERY);
    struct dm_store *src = NULL;
    struct dm_goal goal = {NULL, 0};
    enum dm_code return_code = DM_OK; /* 1 when something was skipped */

    rc = dm_secrets_new(&p.secrets, err);
    if (!rc) {
        /* every dependency, before anything is read or queued; a dry run
         * writes nothing, not even a probe (fleet/preflight.h) */
        struct dm_preflight_opts checks;
        dm_preflight_publish_opts(&checks, p.from, p.dry_run);
        checks.secrets = p.secrets;
        if (o->raw) { /* no database, no listing: the broker only */
            checks.queues[0] = o->raw;
            checks.queues[1] = NULL;
            checks.db_secret = NULL;
            checks.nstores = 0;
        }
        rc = dm_preflight_command(&checks, "publish");
        if (rc) {
            dm_fail(err, rc, "nothing published: a check failed (above)");
            goto out;
        }
    }
    if (!rc && o->raw) {
        rc = publish_raw(&p, o->raw, err);
        goto out;
    }
    if (!rc)
        rc = dm_ledger_open(p.secrets, dm_setting(DM_SET_DB_SECRET), &p.ledger,
                            err);
    if (!rc)
        rc = dm_ledger_goal(p.ledger, goal_query, &goal, err);
    if (rc)
        goto out;
    rc = dm_datastore_open(p.from, p.src_bucket, false, &src, err);
    if (rc)
        goto out;
    if (!p.dry_run) {
        rc = connect_rabbit(&p, err);
        if (rc)
            goto out;
    }
    for (size_t i = 0; !rc && i < goal.n; i++) {
        const char *tracker = goal.rows[i].tracker;
        const char *site = goal.rows[i].site;
        const char *why = segment_problem(tracker), *what = "tracker";
        if (!why && p.to == DM_DS_S3) { /* the site is in S3 keys only */
            why = segment_problem(site);
            what = "site";
        }
        if (why) {
            p.bad_rows++;
            dm_warn("publish",
                    "GOAL_QUERY row %zu (tracker '%s', site '%s'): the %s is "
                    "%s; skipped",
                    i + 1, tracker ? tracker : "NULL", site ? site : "NULL",
                    what, why);
            continue;
        }
        char *prefix = p.from == DM_DS_S3
                           ? dm_fmt("tracker-migration/%s/", tracker)
                           : dm_fmt("%s/", tracker);
        struct tracker_ctx t = {&p, tracker, site, DM_OK, err};
        if (!prefix) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        rc = dm_store_list(src, prefix, on_file, &t, err);
        if (!rc)
            rc = t.rc;
        free(prefix);
    }
    if (!rc)
        fprintf(stderr,
                "duckmig: publish: %lu messages (%lu to %s, %lu to %s)%s\n",
                p.published, p.small, p.queue_small, p.bigs, p.queue_big,
                p.dry_run ? " (dry run: nothing queued)" : "");
    if (!rc && (p.bad_rows || p.bad_files)) {
        fprintf(stderr,
                "duckmig: publish: skipped %lu goal rows and %lu files, each "
                "named above\n",
                p.bad_rows, p.bad_files);
        dm_error_clear(err); /* not a failure: said, and no more */
        return_code = DM_ERR_GENERIC;
    }
out:
    dm_goal_release(&goal);
    dm_store_close(src);
    dm_rabbit_close(p.rabbit);
    dm_ledger_close(p.ledger);
    dm_secrets_free(p.secrets);
    return rc ? rc : return_code;
}
