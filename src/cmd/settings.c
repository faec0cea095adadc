/*
 * settings.c - `duckmig settings`: every environment variable duckmig
 * reads (util/settings.h), with the value this process would use and
 * where it comes from; --markdown prints the table of docs/settings.md.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "util/error.h"
#include "util/settings.h"

const char cmd_settings_usage[] =
    "usage: duckmig settings [--markdown]\n"
    "\n"
    "List every environment variable duckmig reads, with the value it\n"
    "would use now and where that comes from (environment, default or\n"
    "unset; secrets are shown as (set)). A value a variable does not allow\n"
    "stops every command at its start (exit 2), naming it.\n"
    "\n"
    "  --markdown   the table of names, defaults, values and what each is\n"
    "               for (docs/settings.md)\n";

int cmd_settings(int argc, char **argv)
{
    static const struct option opts[] = {
        {"markdown", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool markdown = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "mh", opts, NULL)) != -1) {
        if (ch == 'm') {
            markdown = true;
        } else if (ch == 'h') {
            fputs(cmd_settings_usage, stdout);
            return 0;
        } else {
            fputs(cmd_settings_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (optind != argc) {
        fputs(cmd_settings_usage, stderr);
        return DM_ERR_USAGE;
    }
    dm_settings_print(stdout, markdown);
    return DM_OK;
}
