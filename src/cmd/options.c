/*
 * options.c - option parsing shared by the commands that take only
 * --json and --help (cmd.h). Not in main.c: the unit tests link every
 * command but not main.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "util/error.h"

int dm_cmd_json_option(int argc, char **argv, const char *usage, bool *json)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j') {
            *json = true;
        } else if (c == 'h') {
            fputs(usage, stdout);
            return -1;
        } else {
            fputs(usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    return 0;
}
