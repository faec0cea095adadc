/*
 * verify.c - `duckmig verify SRC DST`: does DST hold everything SRC holds?
 * Each file is read by the release that opens it, read-only (a 0.6-0.8
 * file with a WAL: a replayed copy of it in $TMPDIR, see migrate/source.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmd/cmd.h"
#include "fleet/outcome.h"
#include "header/header.h"
#include "util/str.h"
#include "verify/verify.h"

const char cmd_verify_usage[] =
    "usage: duckmig verify [--view-rows N] [--json] [--verbose] SRC DST\n"
    "\n"
    "Compare DST with SRC, both ways (an object only in DST is a\n"
    "difference too): schemas, tables (columns, types, NOT NULL, DEFAULTs,\n"
    "generated columns, every constraint with its columns), ENUM types and\n"
    "their labels, type aliases, sequences and their next value, views,\n"
    "macros and indexes, their stored SQL compared by what DuckDB parses\n"
    "it to; then what they compute: each view's columns and rows (views of\n"
    "more than N rows, default 1000000, by their columns only), each macro\n"
    "called on probe arguments, generated columns' values; and for every\n"
    "table the row count and an order-independent fingerprint of every\n"
    "column, computed from values so that it is the same across releases.\n"
    "\n"
    "Exit status: 0 when DST matches; 13 when it does not; 14 when the\n"
    "definitions match but some compute differently in DST's release (a\n"
    "behaviour DuckDB changed; named in the report).\n";

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"view-rows", required_argument, NULL, 'r'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, verbose = false;
    struct dm_verify_opts vo = {0, NULL};
    int c;
    while ((c = getopt_long(argc, argv, "jr:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (!dm_parse_u64(optarg, &vo.view_rows) || !vo.view_rows) {
                fprintf(stderr,
                        "duckmig: verify: --view-rows takes a "
                        "positive number, not '%s'\n",
                        optarg);
                return DM_ERR_USAGE;
            }
            break;
        case 'j':
            json = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            fputs(cmd_verify_usage, stdout);
            return 0;
        default:
            fputs(cmd_verify_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (argc - optind != 2) {
        fputs(cmd_verify_usage, stderr);
        return DM_ERR_USAGE;
    }
    const char *src = argv[optind], *dst = argv[optind + 1];
    struct dm_report r = {0, 0, NULL, 0, 0, 0, 0};
    struct dm_error err = DM_ERROR_INIT;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum dm_code rc = dm_verify_files(src, dst, &vo, &r, &err);
    bool match = !rc && !dm_report_mismatch(&r);
    bool changed = match && dm_report_count(&r, DM_ITEM_CHANGED);
    if (json) {
        /* the outcome's versions and sizes come from the headers alone,
         * which verification has just read whole */
        struct dm_header_info hs, hd;
        uint64_t ss = 0, ds = 0;
        bool have_s = dm_header_read_file(src, &hs, &ss, NULL) == DM_OK;
        bool have_d = dm_header_read_file(dst, &hd, &ds, NULL) == DM_OK;
        json_t *report = dm_report_json(&r);
        struct dm_file_outcome f = {"verify",
                                    src,
                                    dst,
                                    rc        ? DM_STATUS_FAILED
                                    : !match  ? DM_STATUS_DIFFERENT
                                    : changed ? DM_STATUS_CHANGED
                                              : DM_STATUS_MATCH,
                                    rc        ? rc
                                    : !match  ? DM_ERR_VERIFY
                                    : changed ? DM_ERR_INCOMPLETE
                                              : DM_OK,
                                    rc ? err.msg : NULL,
                                    have_s ? hs.storage_version : 0,
                                    have_d ? hd.storage_version : 0,
                                    ss,
                                    ds,
                                    since(&t0),
                                    report};
        json_t *j = dm_file_outcome_json(&f);
        json_decref(report);
        struct dm_error perr = DM_ERROR_INIT;
        if (!j || dm_json_print(j, &perr))
            fprintf(stderr, "duckmig: verify: out of memory\n");
        json_decref(j);
    } else if (!rc) {
        printf("%s vs %s: %s (%zu tables, %llu rows)\n", src, dst,
               changed ? "match, but some compute differently"
               : match ? "match"
                       : "DIFFERENT",
               r.tables, (unsigned long long)r.rows);
        dm_report_print(&r, stdout, verbose);
    }
    if (rc)
        fprintf(stderr, "duckmig: verify: %s\n", err.msg);
    else if (!match)
        rc = DM_ERR_VERIFY;
    else if (changed)
        rc = DM_ERR_INCOMPLETE;
    dm_report_release(&r);
    return rc;
}
