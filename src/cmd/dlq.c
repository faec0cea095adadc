/*
 * dlq.c - `duckmig dlq list|requeue`: what the consumers dead-lettered,
 * with their reasons, and sending it back once the cause is fixed.
 * Messages are read with basic.get and manual acks: those not requeued
 * return to the dead-letter queue when the connection closes.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "fleet/outcome.h"
#include "queue/rabbit.h"
#include "secrets/secrets.h"
#include "util/str.h"
#include "util/text.h"
#include "util/settings.h"

const char cmd_dlq_usage[] =
    "usage: duckmig dlq list [--json] [--queue Q]\n"
    "       duckmig dlq requeue [--queue Q] (--all | ID...)\n"
    "\n"
    "List the messages in Q.dead (Q: QUEUE_NAME, default\n"
    "migrate_duckdb_release) with their id, attempts and reason, or send\n"
    "them back to the queue they came from with their attempts reset.\n"
    "RABBIT_SECRET names the broker.\n";

int cmd_dlq(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"queue", required_argument, NULL, 'q'},
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, all = false;
    const char *queue = dm_setting(DM_SET_QUEUE_NAME);
    int c;
    while ((c = getopt_long(argc, argv, "jq:ah", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'q':
            queue = optarg;
            break;
        case 'a':
            all = true;
            break;
        case 'h':
            fputs(cmd_dlq_usage, stdout);
            return 0;
        default:
            fputs(cmd_dlq_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(cmd_dlq_usage, stderr);
        return DM_ERR_USAGE;
    }
    const char *action = argv[optind++];
    bool list = strcmp(action, "list") == 0;
    if ((!list && strcmp(action, "requeue") != 0) ||
        (list && (all || optind != argc)) ||
        (!list && all == (optind < argc))) {
        fputs(cmd_dlq_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_error err = DM_ERROR_INIT;
    struct dm_secrets *secrets = NULL;
    struct dm_rabbit *r = NULL;
    char *dead = dm_fmt("%s.dead", queue);
    unsigned long seen = 0, moved = 0;
    enum dm_code status = DM_OK;
    /* which of the ids asked for were found: one that was not is an
     * error, not a silent "0 requeued" */
    bool *found = calloc((size_t)argc, sizeof(*found));
    enum dm_code rc = dead && found
                          ? dm_secrets_new(&secrets, &err)
                          : dm_fail(&err, DM_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = dm_rabbit_connect_secret(secrets, dm_setting(DM_SET_RABBIT_SECRET),
                                      &r, &err);
    if (!rc)
        rc = dm_rabbit_declare(r, queue, &err);
    while (!rc) {
        struct dm_delivery d;
        rc = dm_rabbit_get(r, dead, &d, &err);
        if (rc || !d.body) {
            dm_delivery_release(&d);
            break;
        }
        seen++;
        const char *id = d.message_id ? d.message_id : "";
        if (list && json) {
            /* headers and bodies are anybody's bytes: what is not UTF-8
             * is replaced, so that no entry is lost */
            json_t *o = json_object();
            json_object_set_new(o, "id", dm_json_text(id, NULL));
            if (d.from_queue)
                json_object_set_new(o, "queue",
                                    dm_json_text(d.from_queue, NULL));
            if (d.reason)
                dm_json_set_name(o, "reason", d.reason);
            json_object_set_new(o, "attempts", json_integer(d.attempts));
            json_t *m = json_loadb(d.body, d.len, 0, NULL);
            if (m) {
                json_object_set_new(o, "message", m);
            } else {
                char *raw = strndup(d.body, d.len);
                if (raw)
                    dm_json_set_name(o, "body", raw);
                free(raw);
            }
            dm_json_print(o, NULL);
            json_decref(o);
        } else if (list) {
            /* escaped: a reason or a body must not drive the terminal */
            char *body = strndup(d.body, d.len);
            dm_fputs_escaped(*id ? id : "(no id)", stdout);
            printf("  attempts %d  ", d.attempts);
            dm_fputs_escaped(d.reason ? d.reason : "(no reason recorded)",
                             stdout);
            fputs("\n    ", stdout);
            dm_fputs_escaped(body ? body : "(out of memory)", stdout);
            fputc('\n', stdout);
            free(body);
        } else {
            bool want = all;
            for (int i = optind; i < argc; i++)
                if (strcmp(argv[i], id) == 0)
                    want = found[i] = true;
            if (want) {
                const char *to = d.from_queue ? d.from_queue : queue;
                rc = dm_rabbit_publish(r, to, d.body, d.len, d.message_id, NULL,
                                       NULL, 0, &err);
                if (!rc)
                    rc = dm_rabbit_ack(r, d.tag, &err);
                if (!rc) {
                    moved++;
                    fputs("requeued ", stdout);
                    dm_fputs_escaped(*id ? id : "(no id)", stdout);
                    fputs(" to ", stdout);
                    dm_fputs_escaped(to, stdout);
                    fputc('\n', stdout);
                }
            }
        }
        dm_delivery_release(&d);
    }
    if (!rc && !list)
        fprintf(stderr, "duckmig: dlq: %lu of %lu messages requeued\n", moved,
                seen);
    for (int i = optind; !rc && !list && !all && i < argc; i++)
        if (!found[i]) {
            fputs("duckmig: dlq: no message with id '", stderr);
            dm_fputs_escaped(argv[i], stderr);
            fprintf(stderr, "' in %s\n", dead);
            status = DM_ERR_NOT_FOUND;
        } else if (!rc && !json)
            fprintf(stderr, "duckmig: dlq: %lu messages in %s\n", seen, dead);
    if (rc) {
        fputs("duckmig: dlq: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    dm_rabbit_close(r); /* what was not requeued returns to Q.dead */
    dm_secrets_free(secrets);
    free(found);
    free(dead);
    return rc ? rc : status;
}
