/*
 * health.c - `duckmig health`: the container health check. Healthy when
 * the consumer's heartbeat file (fleet/health.h) was touched within
 * --max-age seconds. Exit 0 healthy, 1 not (stale or missing): Docker's
 * HEALTHCHECK and ECS's healthCheck read only zero and non-zero, and
 * Docker reserves 2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "fleet/health.h"
#include "util/error.h"
#include "util/str.h"
#include "util/settings.h"

#define DEFAULT_MAX_AGE 120

const char cmd_health_usage[] =
    "usage: duckmig health [--max-age SECONDS] [--file PATH]\n"
    "\n"
    "Exit 0 when the consumer's heartbeat file (PATH, default\n"
    "$DUCKMIG_HEARTBEAT_FILE or " DM_HEARTBEAT_DEFAULT ") was touched\n"
    "within SECONDS (default 120), 1 when it is older or missing. A\n"
    "running `duckmig consume` touches it at least once a second.\n";

int cmd_health(int argc, char **argv)
{
    static const struct option opts[] = {
        {"max-age", required_argument, NULL, 'a'},
        {"file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = dm_heartbeat_path();
    uint64_t max_age = DEFAULT_MAX_AGE;
    int ch;
    while ((ch = getopt_long(argc, argv, "a:f:h", opts, NULL)) != -1) {
        if (ch == 'a' && dm_parse_u64(optarg, &max_age) && max_age > 0) {
            continue;
        } else if (ch == 'f') {
            path = optarg;
        } else if (ch == 'h') {
            fputs(cmd_health_usage, stdout);
            return 0;
        } else {
            fputs(cmd_health_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind != argc) {
        fputs(cmd_health_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_error err = DM_ERROR_INIT;
    double age = 0;
    if (dm_heartbeat_age(path, &age, &err) != DM_OK) {
        printf("unhealthy: %s (is `duckmig consume` running?)\n", err.msg);
        return DM_ERR_GENERIC;
    }
    if (age > (double)max_age) {
        printf("unhealthy: heartbeat '%s' is %.0f s old (more than %llu)\n",
               path, age, (unsigned long long)max_age);
        return DM_ERR_GENERIC;
    }
    printf("healthy: heartbeat %.0f s old\n", age < 0 ? 0 : age);
    return DM_OK;
}
