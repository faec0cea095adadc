/*
 * engines.c - `duckmig engines`: which DuckDB releases are installed, what
 * each one reads, and (with --load) proof that each loads in a worker.
 */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "header/header.h"
#include "util/error.h"

const char cmd_engines_usage[] =
    "usage: duckmig engines [--load]\n"
    "\n"
    "List the DuckDB engines installed in the engines folder\n"
    "($DUCKMIG_ENGINES, else ./engines beside the binary), newest first,\n"
    "with the storage versions each one opens.\n"
    "\n"
    "  --load   start each engine in a worker and print the version the\n"
    "           library reports; fail if any does not load\n";

int cmd_engines(int argc, char **argv)
{
    static const struct option opts[] = {
        {"load", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool load = false;
    int c, status = 0;
    while ((c = getopt_long(argc, argv, "lh", opts, NULL)) != -1) {
        if (c == 'l') {
            load = true;
        } else if (c == 'h') {
            fputs(cmd_engines_usage, stdout);
            return 0;
        } else {
            fputs(cmd_engines_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    char rel[32][DM_RELEASE_MAX];
    size_t n = dm_engines_installed(rel, 32);
    printf("engines folder: %s\n", dm_engines_dir());
    if (n == 0) {
        fprintf(stderr, "duckmig: engines: none installed (run "
                        "scripts/get-duckdb)\n");
        return DM_ERR_ENGINE;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t lo, hi;
        printf("%-8s", rel[i]);
        if (dm_release_storage_range(rel[i], &lo, &hi)) {
            if (lo == hi)
                printf("  reads storage %llu", (unsigned long long)lo);
            else
                printf("  reads storage %llu-%llu", (unsigned long long)lo,
                       (unsigned long long)hi);
        } else {
            printf("  reads an unknown range");
        }
        if (load) {
            struct dm_error err = DM_ERROR_INIT;
            struct dm_engine *e = NULL;
            if (dm_engine_start(rel[i], &e, &err)) {
                printf("  FAILED: %s", err.msg);
                status = err.code;
            } else {
                printf("  loads as %s", dm_engine_library_version(e));
            }
            dm_engine_stop(e);
        }
        printf("\n");
    }
    return status;
}
