/*
 * publish.c - `duckmig publish`: its options. The publisher itself
 * (goal table, listings, messages, confirms, the ledger's "queued" rows)
 * is fleet/publisher.c, so that this file is only what a person types.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "fleet/publisher.h"
#include "util/settings.h"
#include "util/str.h"
#include "util/text.h"

const char cmd_publish_usage[] =
    "usage: duckmig publish [--from s3|efs] [--to s3|efs] [--dry-run]\n"
    "                       [--big-threshold BYTES]\n"
    "\n"
    "Queue one message per tracker file. Trackers come from GOAL_QUERY on\n"
    "the database of DB_SECRET (default query: " DM_GOAL_QUERY_DEFAULT ";\n"
    "it must return tracker id and site). Files are listed under\n"
    "tracker-migration/{tracker}/ in SOURCE_BUCKET (S3) or {tracker}/\n"
    "under MIGRATE_SRC (EFS); S3 destinations get {site}/{tracker}/{file}\n"
    "in DESTINATION_BUCKET, EFS destinations {tracker}/{file} under\n"
    "MIGRATE_DST. Files below the threshold (1.5 GiB;\n"
    "BIG_FILE_THRESHOLD) go to migrate_duckdb_release, the others to\n"
    "migrate_duckdb_release_big (QUEUE_SMALL, QUEUE_BIG).\n"
    "\n"
    "  --from, --to   datastores (default s3 and s3; SOURCE_DATASTORE,\n"
    "                 DESTINATION_DATASTORE)\n"
    "  --dry-run      print {\"queue\":..., \"message\":...} lines instead;\n"
    "                 writes nothing anywhere (no ledger row, no message)\n"
    "  --raw QUEUE    publish each line of standard input as it is to\n"
    "                 QUEUE (hand-written or repaired messages); no database;\n"
    "                 QUEUE and QUEUE.dead are declared first, so that no\n"
    "                 input at all only declares them\n"
    "\n"
    "Environment (the seed's): SOURCE_BUCKET, DESTINATION_BUCKET (both\n"
    "perform-dev-raw), DB_SECRET (perform_database_dev), RABBIT_SECRET\n"
    "(perform_rabbitmq_dev). A secret is a Secrets Manager id, a file\n"
    "path or inline JSON.\n";

static int parse_ds(const char *s, enum dm_datastore *ds)
{
    if (strcmp(s, "s3") == 0)
        *ds = DM_DS_S3;
    else if (strcmp(s, "efs") == 0)
        *ds = DM_DS_EFS;
    else
        return -1;
    return 0;
}

int cmd_publish(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"dry-run", no_argument, NULL, 'n'},
        {"big-threshold", required_argument, NULL, 'b'},
        {"raw", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dm_publisher_opts p;
    memset(&p, 0, sizeof(p));
    parse_ds(dm_setting(DM_SET_SOURCE_DATASTORE), &p.from);
    parse_ds(dm_setting(DM_SET_DESTINATION_DATASTORE), &p.to);
    p.big = dm_setting_u64(DM_SET_BIG_FILE_THRESHOLD);
    int c;
    while ((c = getopt_long(argc, argv, "f:t:nb:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
        case 't':
            if (parse_ds(optarg, c == 'f' ? &p.from : &p.to) != 0) {
                fprintf(stderr, "duckmig: publish: '%s': s3 or efs\n", optarg);
                return DM_ERR_USAGE;
            }
            break;
        case 'n':
            p.dry_run = true;
            break;
        case 'b':
            if (!dm_parse_u64_in(optarg, 1, UINT64_MAX, &p.big)) {
                fprintf(stderr,
                        "duckmig: publish: --big-threshold '%s': not a "
                        "number of bytes from 1\n",
                        optarg);
                return DM_ERR_USAGE;
            }
            break;
        case 'r':
            p.raw = optarg;
            break;
        case 'h':
            fputs(cmd_publish_usage, stdout);
            return 0;
        default:
            fputs(cmd_publish_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind != argc) {
        fputs(cmd_publish_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = dm_publisher_run(&p, &err);
    /* DM_ERR_GENERIC alone: some rows or files were skipped, each said */
    if (rc && err.code) {
        fputs("duckmig: publish: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    return rc;
}
