/*
 * doctor.c - `duckmig doctor`: check, before any work is taken, what the
 * fleet needs (fleet/preflight.h): the target's engine, the broker, its
 * vhost and queues, the database and its grants, the stores, the
 * secrets. consume, publish and batch run the same checks at their start.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "fleet/preflight.h"
#include "util/str.h"
#include "util/settings.h"

const char cmd_doctor_usage[] =
    "usage: duckmig doctor [--for fleet|consume|publish] [--from s3|efs]\n"
    "                      [--json]\n"
    "\n"
    "Check what a fleet run needs, and say for each failure what is wrong\n"
    "and how to fix it:\n"
    "  engine       DUCKDB_MIGRATE_VERSION is a release duckmig migrates\n"
    "               to, and its engine opens a database in a worker\n"
    "  secrets      RABBIT_SECRET and DB_SECRET resolve\n"
    "  broker       the login and vhost; the queues (a passive declare)\n"
    "  database     the login; GOAL_QUERY runs; duckmig_ledger exists with\n"
    "               SELECT, INSERT, UPDATE granted (`duckmig ledger init`)\n"
    "  stores       a source lists and reads; a destination takes a probe\n"
    "               object (.duckmig-probe-HOST-PID, deleted at once)\n"
    "  download     BATCH_DOWNLOAD takes a job folder\n"
    "\n"
    "  --for fleet    both sides (default): a queue not there yet is fine\n"
    "                 (publish declares it); stores named by SOURCE_BUCKET\n"
    "                 or MIGRATE_SRC (by --from), DESTINATION_BUCKET,\n"
    "                 MIGRATE_DST\n"
    "  --for consume  exactly what `consume` checks at its start: QUEUE_NAME\n"
    "                 must exist; DB_SECRET only when set\n"
    "  --for publish  exactly what `publish` checks at its start\n"
    "  --from s3|efs  the publisher's source (default SOURCE_DATASTORE, s3)\n"
    "  --json         {\"ok\", \"exit\", \"checks\": [{\"name\", \"status\",\n"
    "                 \"detail\", \"fix\", \"code\", \"exit\"}]}\n"
    "\n"
    "Exit status: 0 when every check passed (skipped ones say why), else\n"
    "the first failure's code (src/util/error.h: 2 a bad setting, 7 an\n"
    "unsupported target, 8 no engine, 15 unreachable, 16 refused, 17 not\n"
    "found, ...).\n";

int cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"for", required_argument, NULL, 'f'},
        {"from", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum dm_preflight_for what = DM_PREFLIGHT_FLEET;
    const char *from = dm_setting(DM_SET_SOURCE_DATASTORE);
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:s:jh", opts, NULL)) != -1) {
        if (c == 'f' && strcmp(optarg, "fleet") == 0) {
            what = DM_PREFLIGHT_FLEET;
        } else if (c == 'f' && strcmp(optarg, "consume") == 0) {
            what = DM_PREFLIGHT_CONSUME;
        } else if (c == 'f' && strcmp(optarg, "publish") == 0) {
            what = DM_PREFLIGHT_PUBLISH;
        } else if (c == 's') {
            from = optarg;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'h') {
            fputs(cmd_doctor_usage, stdout);
            return 0;
        } else {
            if (c == 'f')
                fprintf(stderr,
                        "duckmig: doctor: --for '%s': fleet, "
                        "consume or publish\n",
                        optarg);
            fputs(cmd_doctor_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind != argc ||
        (strcmp(from, "s3") != 0 && strcmp(from, "efs") != 0)) {
        fputs(cmd_doctor_usage, stderr);
        return DM_ERR_USAGE;
    }
    return dm_doctor(what, strcmp(from, "efs") == 0 ? DM_DS_EFS : DM_DS_S3,
                     json, stdout);
}
