/*
 * consume.c - `duckmig consume`: its options. The consumer itself (the
 * broker loop, retries and dead letters, the ledger, heartbeat, metrics,
 * scale-in protection) is fleet/consumer.c, so that this file is only
 * what a person or a task definition types.
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "fleet/consumer.h"
#include "fleet/health.h"
#include "util/settings.h"
#include "util/str.h"
#include "util/text.h"

const char cmd_consume_usage[] =
    "usage: duckmig consume [--max-messages N] [--metrics-port N]\n"
    "                       [--metrics-address ADDR]\n"
    "\n"
    "Take messages from QUEUE_NAME (default migrate_duckdb_release) one at\n"
    "a time (prefetch 1, manual ack): download to BATCH_DOWNLOAD (default\n"
    "/batch_download), read the version, migrate to DUCKDB_MIGRATE_VERSION\n"
    "(default duckdb0.8.1), verify, upload, clean up, ack.\n"
    "\n"
    "Environment: RABBIT_SECRET (perform_rabbitmq_dev), DB_SECRET (the\n"
    "ledger; without it results are only logged), MIGRATE_SRC, MIGRATE_DST,\n"
    "DUCKMIG_MAX_ATTEMPTS (5), DUCKMIG_STOP_TIMEOUT (seconds a job may\n"
    "still run after SIGTERM; 100, under Fargate's 120),\n"
    "DUCKMIG_CONNECT_ATTEMPTS (10: connections to the broker that may fail\n"
    "in a row before consume exits 15, for its task to be restarted),\n"
    "DUCKMIG_HEARTBEAT_FILE (" DM_HEARTBEAT_DEFAULT ", touched every second\n"
    "for `duckmig health`), DUCKMIG_METRICS=emf (CloudWatch EMF lines on\n"
    "stdout), ECS_AGENT_URI (set by ECS: task scale-in protection while a\n"
    "job runs, DUCKMIG_PROTECTION_MINUTES at a time, default 120).\n"
    "  --metrics-port N     Prometheus text on http://ADDR:N/metrics\n"
    "                       (also DUCKMIG_METRICS_PORT)\n"
    "  --metrics-address A  where it listens (default 0.0.0.0; also\n"
    "                       DUCKMIG_METRICS_ADDRESS)\n"
    "SIGTERM: take no new message, let the current job finish within the\n"
    "stop timeout or put it back on the queue, exit 0.\n";

int cmd_consume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"max-messages", required_argument, NULL, 'm'},
        {"metrics-port", required_argument, NULL, 'p'},
        {"metrics-address", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long max_messages = -1;
    const char *metrics_port = dm_setting(DM_SET_METRICS_PORT);
    const char *metrics_addr = dm_setting(DM_SET_METRICS_ADDRESS);
    int ch;
    while ((ch = getopt_long(argc, argv, "m:p:a:h", opts, NULL)) != -1) {
        if (ch == 'm') {
            uint64_t n;
            if (!dm_parse_u64_in(optarg, 0, LONG_MAX, &n)) {
                fprintf(stderr,
                        "duckmig: consume: --max-messages '%s': not a whole "
                        "number\n",
                        optarg);
                return DM_ERR_USAGE;
            }
            max_messages = (long)n;
        } else if (ch == 'p') {
            metrics_port = optarg;
        } else if (ch == 'a') {
            metrics_addr = optarg;
        } else if (ch == 'h') {
            fputs(cmd_consume_usage, stdout);
            return 0;
        } else {
            fputs(cmd_consume_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    uint64_t port = 0;
    if (optind != argc ||
        (metrics_port && *metrics_port &&
         (!dm_parse_u64(metrics_port, &port) || port < 1 || port > 65535))) {
        fputs(cmd_consume_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_consumer_opts o = {max_messages, (int)port, metrics_addr};
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = dm_consumer_run(&o, &err);
    if (rc) {
        fputs("duckmig: consume: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    return rc;
}
