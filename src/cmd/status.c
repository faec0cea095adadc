/*
 * status.c - `duckmig status`: the fleet run from its ledger: files by
 * status, throughput, an ETA, and the failures.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "ledger/ledger.h"
#include "secrets/secrets.h"
#include "util/settings.h"

const char cmd_status_usage[] =
    "usage: duckmig status [--json]\n"
    "\n"
    "Read the ledger (duckmig_ledger, on the database of DB_SECRET) and\n"
    "print how many files are in each status, the throughput of the last\n"
    "hour, an ETA for the files queued or running, and the latest\n"
    "failures with their reasons.\n";

int cmd_status(int argc, char **argv)
{
    bool json = false;
    int r = dm_cmd_json_option(argc, argv, cmd_status_usage, &json);
    if (r)
        return r < 0 ? 0 : r;
    if (optind != argc) {
        fputs(cmd_status_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_error err = DM_ERROR_INIT;
    struct dm_secrets *secrets = NULL;
    struct dm_ledger *ledger = NULL;
    const char *db = dm_setting(DM_SET_DB_SECRET);
    enum dm_code rc = dm_secrets_new(&secrets, &err);
    if (!rc)
        rc = dm_ledger_open(secrets, db, &ledger, &err);
    if (!rc)
        rc = dm_ledger_report(ledger, stdout, json, &err);
    if (rc)
        fprintf(stderr, "duckmig: status: %s\n", err.msg);
    dm_ledger_close(ledger);
    dm_secrets_free(secrets);
    return rc;
}
