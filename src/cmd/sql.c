/*
 * sql.c - `duckmig sql`: run SQL against a database file with a chosen
 * DuckDB release, through an engine worker. The tool's way to build
 * sample and test files with the old releases (there is no old CLI to
 * lean on), and a handy way to look inside a file of any release.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "header/header.h"
#include "util/error.h"

const char cmd_sql_usage[] =
    "usage: duckmig sql [--engine RELEASE] [--read-only] [--set NAME=VALUE]\n"
    "                   [--no-header] DATABASE SQL...\n"
    "\n"
    "Open DATABASE (a file, created if missing, or :memory:) with DuckDB\n"
    "RELEASE in a worker process and run each SQL argument in turn ('-'\n"
    "reads SQL from standard input). Rows are printed tab-separated with a\n"
    "header line; NULL prints as \\N, and tab, newline and backslash are\n"
    "escaped as \\t, \\n and \\\\. An argument may hold several statements:\n"
    "they run one by one, stop at the first error, and the last one's rows\n"
    "are printed.\n";

#define MAX_SETTINGS 16

static void put_cell(const char *s)
{
    if (!s) {
        fputs("\\N", stdout);
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '\t':
            fputs("\\t", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        case '\\':
            fputs("\\\\", stdout);
            break;
        default:
            putchar(*s);
        }
    }
}

struct printer {
    bool want_header; /* --no-header not given */
    bool header;      /* still to print for the current statement */
};

static int print_batch(void *ctx, size_t ncols, char *const *names,
                       size_t nrows, char *const *cells)
{
    struct printer *p = ctx;
    if (p->header && ncols) {
        for (size_t c = 0; c < ncols; c++) {
            if (c)
                putchar('\t');
            put_cell(names[c] ? names[c] : "");
        }
        putchar('\n');
        p->header = false;
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            if (c)
                putchar('\t');
            put_cell(cells[r * ncols + c]);
        }
        putchar('\n');
    }
    return 0;
}

static char *read_stdin(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) {
            if (ferror(stdin))
                break;
            buf[len] = '\0';
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* Choose the engine: --engine, else the one that opens the file. */
static int pick_engine(const char *spec, const char *db,
                       char release[DM_RELEASE_MAX], struct dm_error *err)
{
    if (spec)
        return dm_release_normalize(spec, release, err);
    if (strcmp(db, ":memory:") == 0 || access(db, F_OK) != 0)
        return dm_fail(err, DM_ERR_USAGE,
                       "'%s' does not exist: say which release creates it "
                       "with --engine",
                       db);
    struct dm_header_info info;
    int rc = dm_header_read_file(db, &info, NULL, err);
    if (rc)
        return rc;
    if (!dm_engine_for_storage(info.storage_version, release))
        return dm_fail(err, DM_ERR_ENGINE,
                       "%s: no installed engine opens storage version %llu", db,
                       (unsigned long long)info.storage_version);
    return DM_OK;
}

int cmd_sql(int argc, char **argv)
{
    static const struct option opts[] = {
        {"engine", required_argument, NULL, 'e'},
        {"read-only", no_argument, NULL, 'r'},
        {"set", required_argument, NULL, 's'},
        {"no-header", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dm_setting settings[MAX_SETTINGS];
    char *setting_copies[MAX_SETTINGS];
    size_t nsettings = 0;
    const char *engine_spec = NULL;
    unsigned flags = 0;
    struct printer pr = {true, true};
    struct dm_error err = DM_ERROR_INIT;
    struct dm_engine *e = NULL;
    char release[DM_RELEASE_MAX];
    int rc = DM_OK, c;

    while ((c = getopt_long(argc, argv, "e:rs:Hh", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            engine_spec = optarg;
            break;
        case 'r':
            flags |= DM_OPEN_READ_ONLY;
            break;
        case 'H':
            pr.want_header = false;
            break;
        case 's': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || nsettings == MAX_SETTINGS) {
                fprintf(stderr,
                        "duckmig: sql: bad --set '%s' (NAME=VALUE, "
                        "at most %d)\n",
                        optarg, MAX_SETTINGS);
                rc = DM_ERR_USAGE;
                goto out;
            }
            char *copy = strdup(optarg);
            if (!copy) {
                rc = DM_ERR_NOMEM;
                goto out;
            }
            copy[eq - optarg] = '\0';
            setting_copies[nsettings] = copy;
            settings[nsettings].name = copy;
            settings[nsettings].value = copy + (eq - optarg) + 1;
            nsettings++;
            break;
        }
        case 'h':
            fputs(cmd_sql_usage, stdout);
            goto out;
        default:
            fputs(cmd_sql_usage, stderr);
            rc = DM_ERR_USAGE;
            goto out;
        }
    }
    if (argc - optind < 2) {
        fputs(cmd_sql_usage, stderr);
        rc = DM_ERR_USAGE;
        goto out;
    }
    const char *db = argv[optind];
    rc = pick_engine(engine_spec, db, release, &err);
    if (!rc)
        rc = dm_engine_start(release, &e, &err);
    if (!rc)
        rc = dm_engine_open(e, db, flags, settings, nsettings, &err);
    for (int i = optind + 1; !rc && i < argc; i++) {
        char *from_stdin = NULL;
        const char *sql = argv[i];
        if (strcmp(sql, "-") == 0) {
            sql = from_stdin = read_stdin();
            if (!sql) {
                rc = dm_fail_errno(&err, DM_ERR_IO, errno,
                                   "cannot read SQL from standard input");
                break;
            }
        }
        pr.header = pr.want_header;
        rc = dm_engine_query_each(e, sql, print_batch, &pr, &err);
        free(from_stdin);
    }
    if (rc && err.code)
        fprintf(stderr, "duckmig: sql: %s\n", err.msg);
out:
    dm_engine_stop(e);
    for (size_t i = 0; i < nsettings; i++)
        free(setting_copies[i]);
    return rc;
}
