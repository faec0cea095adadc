/*
 * migrate.c - `duckmig migrate SRC DST`: rewrite one file with the target
 * release, verify it, and only then put it at DST.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "fleet/outcome.h"
#include "migrate/migrate.h"
#include "util/error.h"
#include "util/str.h"

const char cmd_migrate_usage[] =
    "usage: duckmig migrate [--to RELEASE] [--storage-version V] [--force]\n"
    "                       [--view-rows N] [--ignore-wal-errors] [--json]\n"
    "                       [--report FILE] [--verbose] SRC DST\n"
    "\n"
    "Rewrite SRC (a DuckDB file of 0.6.1, 0.7.1, 0.8.1 or anything 1.5.6\n"
    "opens) as DST for the target release, verify DST against SRC (every\n"
    "object both ways, what views and macros compute, and an\n"
    "order-independent fingerprint of every column), and move it into\n"
    "place only when verification passed. SRC and its WAL are\n"
    "never written: a 0.6-0.8 file with a WAL is read from a copy beside\n"
    "DST, in which its release replays the WAL (opened read-only, those\n"
    "releases skip the rows of a large insert the WAL holds).\n"
    "\n"
    "  --to RELEASE          0.8.1 / v0.8.1 / duckdb0.8.1, or 1.5.6 / latest;\n"
    "                        default $DUCKDB_MIGRATE_VERSION, else 0.8.1\n"
    "  --storage-version V   for 1.x targets: v1.0.0 ... v1.5.0 (default:\n"
    "                        what 1.5.6 writes by default, storage 64)\n"
    "  --force               migrate even when SRC is already at the target\n"
    "                        format; replace an existing DST\n"
    "  --view-rows N         fingerprint views of at most N rows (default\n"
    "                        1000000, $DUCKMIG_VIEW_ROWS); larger ones are\n"
    "                        compared by their columns\n"
    "  --ignore-wal-errors   when SRC's WAL cannot be replayed by its\n"
    "                        release, migrate the file without it (named\n"
    "                        in the report, exit 14); default: stop with\n"
    "                        exit 21, nothing written\n"
    "  --json                print the result and report as JSON\n"
    "                        (docs/json.md)\n"
    "  --report FILE         write that JSON document to FILE at the end,\n"
    "                        whole or not at all\n"
    "  --verbose             list every object, not only problems\n"
    "\n"
    "Exit status: 0 migrated (or already at target: nothing written);\n"
    "14 written, but some objects could not be carried, or compute\n"
    "differently in the target release (each named in the report with the\n"
    "reason); 13 verification failed, nothing written; 21 SRC or its WAL\n"
    "cannot be read whole; 20 DuckDB ran out of memory or disk (nothing\n"
    "written: retry with more); 7 unsupported\n"
    "(older than 0.6, newer than the target, encrypted); 8 no engine.\n";

static enum dm_status file_status(enum dm_migrate_status s)
{
    switch (s) {
    case DM_MIG_MIGRATED:
        return DM_STATUS_MIGRATED;
    case DM_MIG_ALREADY:
        return DM_STATUS_ALREADY_AT_TARGET;
    case DM_MIG_INCOMPLETE:
        return DM_STATUS_INCOMPLETE;
    case DM_MIG_FAILED:
        return DM_STATUS_FAILED;
    }
    return DM_STATUS_FAILED;
}

/* The file's outcome in the JSON contract (docs/json.md), with the
 * target asked for and where the time went. */
static json_t *outcome_json(const struct dm_migrate_opts *o,
                            const struct dm_migrate_result *r, enum dm_code rc,
                            const struct dm_error *err)
{
    enum dm_code code = rc;
    if (!rc && r->status == DM_MIG_INCOMPLETE)
        code = DM_ERR_INCOMPLETE;
    json_t *report = dm_report_json(&r->report);
    struct dm_file_outcome f = {
        "migrate",      o->src,
        o->dst,         rc ? DM_STATUS_FAILED : file_status(r->status),
        code,           rc ? err->msg : NULL,
        r->src_storage, rc ? 0 : r->dst_storage,
        r->src_size,    r->dst_size,
        r->seconds,     report};
    json_t *j = dm_file_outcome_json(&f);
    json_decref(report);
    if (!j)
        return NULL;
    json_object_set_new(j, "target_release", json_string(r->dst_release));
    json_object_set_new(j, "target_storage",
                        json_integer((json_int_t)r->dst_storage));
    json_object_set_new(j, "timings",
                        json_pack("{s:f, s:f, s:f, s:f}", "schema", r->t_schema,
                                  "data", r->t_data, "indexes", r->t_indexes,
                                  "verify", r->t_verify));
    return j;
}

int cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"storage-version", required_argument, NULL, 's'},
        {"force", no_argument, NULL, 'f'},
        {"view-rows", required_argument, NULL, 'r'},
        {"ignore-wal-errors", no_argument, NULL, 'W'},
        {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"report", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dm_migrate_opts o = {NULL, NULL, NULL, NULL, false, 0, false};
    bool json = false, verbose = false;
    const char *report_path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "t:s:fr:WjvR:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            o.to = optarg;
            break;
        case 's':
            o.storage_version = optarg;
            break;
        case 'f':
            o.force = true;
            break;
        case 'W':
            o.ignore_wal = true;
            break;
        case 'r':
            if (!dm_parse_u64(optarg, &o.view_rows) || !o.view_rows) {
                fprintf(stderr,
                        "duckmig: migrate: --view-rows takes a "
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
        case 'R':
            report_path = optarg;
            break;
        case 'h':
            fputs(cmd_migrate_usage, stdout);
            return 0;
        default:
            fputs(cmd_migrate_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    if (argc - optind != 2) {
        fputs(cmd_migrate_usage, stderr);
        return DM_ERR_USAGE;
    }
    o.src = argv[optind];
    o.dst = argv[optind + 1];

    struct dm_migrate_result r;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = dm_migrate(&o, &r, &err);
    json_t *doc = json || report_path ? outcome_json(&o, &r, rc, &err) : NULL;
    struct dm_error out_err = DM_ERROR_INIT;
    enum dm_code out_rc = DM_OK;
    if ((json || report_path) && !doc)
        out_rc = dm_fail(&out_err, DM_ERR_NOMEM, "out of memory");
    if (json) {
        if (doc)
            out_rc = dm_json_print(doc, &out_err);
    } else if (!rc && r.status == DM_MIG_ALREADY) {
        printf("%s: already at target (storage %llu, DuckDB %s); nothing "
               "written\n",
               o.src, (unsigned long long)r.src_storage, r.dst_release);
    } else if (!rc) {
        printf("%s -> %s: %s, DuckDB %s (storage %llu) -> %s (storage "
               "%llu), %zu tables, %llu rows, %.2f s\n",
               o.src, o.dst, dm_status_name(file_status(r.status)),
               r.src_release, (unsigned long long)r.src_storage, r.dst_release,
               (unsigned long long)r.dst_storage, r.report.tables,
               (unsigned long long)r.report.rows, r.seconds);
        dm_report_print(&r.report, stdout, verbose);
    } else if (r.report.nitems) {
        dm_report_print(&r.report, stderr, verbose);
    }
    if (rc)
        fprintf(stderr, "duckmig: migrate: %s\n", err.msg);
    if (!rc && r.status == DM_MIG_INCOMPLETE) {
        fprintf(stderr,
                "duckmig: migrate: %s written, but %zu objects were not "
                "carried over and %zu compute differently (see the "
                "report)\n",
                o.dst, dm_report_count(&r.report, DM_ITEM_NOT_CARRIED),
                dm_report_count(&r.report, DM_ITEM_CHANGED));
        rc = DM_ERR_INCOMPLETE;
    }
    if (doc && report_path)
        out_rc = dm_json_write_report(report_path, doc, &out_err);
    json_decref(doc);
    if (out_rc) {
        fprintf(stderr, "duckmig: migrate: %s\n", out_err.msg);
        if (!rc)
            rc = out_rc;
    }
    dm_report_release(&r.report);
    return rc;
}
