/*
 * ledger.c - `duckmig ledger init`: create the ledger table, once, as a
 * role that may create tables. The commands that run the fleet never
 * create anything: their role needs only SELECT, INSERT and UPDATE on
 * the table, which --grant gives.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "ledger/ledger.h"
#include "util/str.h"
#include "util/text.h"
#include "util/settings.h"

const char cmd_ledger_usage[] =
    "usage: duckmig ledger init [--grant ROLE]\n"
    "\n"
    "Create the table duckmig_ledger on the database of DB_SECRET (default\n"
    "perform_database_dev) when it is not there; run it once, as a role\n"
    "that may create tables. publish, consume and status create nothing.\n"
    "\n"
    "  --grant ROLE   also GRANT SELECT, INSERT, UPDATE ON duckmig_ledger\n"
    "                 TO ROLE: all that the publisher's and the consumers'\n"
    "                 role needs on it (docs/fleet.md)\n";

int cmd_ledger(int argc, char **argv)
{
    static const struct option opts[] = {
        {"grant", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *grant = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "g:h", opts, NULL)) != -1) {
        if (c == 'g') {
            grant = optarg;
        } else if (c == 'h') {
            fputs(cmd_ledger_usage, stdout);
            return 0;
        } else {
            fputs(cmd_ledger_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind + 1 != argc || strcmp(argv[optind], "init") != 0) {
        fputs(cmd_ledger_usage, stderr);
        return DM_ERR_USAGE;
    }
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc =
        dm_ledger_setup(dm_setting(DM_SET_DB_SECRET), grant, &err);
    if (rc) {
        fputs("duckmig: ledger init: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    } else {
        fprintf(stderr, "duckmig: ledger init: duckmig_ledger is there%s%s\n",
                grant ? "; SELECT, INSERT, UPDATE granted to " : "",
                grant ? grant : "");
    }
    return rc;
}
