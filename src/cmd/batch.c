/*
 * batch.c - `duckmig batch`: its options. The run itself (listing, the
 * jobs' threads, the progress line, the summary) and its --dry-run plan
 * are fleet/batch.c and fleet/plan.c, so that this file is only what a
 * person types.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "fleet/batch.h"
#include "util/settings.h"
#include "util/str.h"
#include "util/text.h"

#define DEFAULT_BACKUP_SUFFIX ".orig"

const char cmd_batch_usage[] =
    "usage: duckmig batch [--to RELEASE] [--jobs N] [--ignore-wal-errors]\n"
    "                     [--json] [--report FILE] [--dry-run] SRC DST\n"
    "       duckmig batch --in-place [--backup-suffix S] [...] SRC\n"
    "\n"
    "Migrate every *.duckdb file (*.new.duckdb included) under SRC into the\n"
    "same place under DST, N files at a time (default: the number of CPUs),\n"
    "each verified before it is written. SRC and DST are local folders,\n"
    "efs:PREFIX (MIGRATE_SRC / MIGRATE_DST) or s3://bucket/prefix; a prefix\n"
    "is a folder (s3://b/run1 holds run1/..., not run10/...).\n"
    "Files already migrated and verified are skipped, so an interrupted\n"
    "run can be started again.\n"
    "\n"
    "SRC and DST must not overlap (the same folder, or one inside the\n"
    "other, symlinks resolved): an original is never overwritten. To\n"
    "migrate files where they are, use --in-place: each original is kept,\n"
    "byte for byte, beside its new file as FILE" DEFAULT_BACKUP_SUFFIX
    " (its WAL as\n"
    "FILE.wal" DEFAULT_BACKUP_SUFFIX "); a run stopped at any point is "
    "finished by\n"
    "running it again.\n"
    "\n"
    "  --to RELEASE   target (default $DUCKDB_MIGRATE_VERSION, else 0.8.1)\n"
    "  --jobs N       files at a time\n"
    "  --in-place     migrate in place (DST, when given, must be SRC)\n"
    "  --backup-suffix S  the originals' suffix (default " DEFAULT_BACKUP_SUFFIX
    "; not\n"
    "                 ending with .duckdb or .wal)\n"
    "  --ignore-wal-errors  migrate a file whose WAL its release cannot\n"
    "                 replay without it (named in its report, incomplete);\n"
    "                 default: that file fails (DUCKMIG_IGNORE_WAL_ERRORS=1\n"
    "                 does the same for consume)\n"
    "  --json         a JSON summary on stdout (per file: versions, sizes,\n"
    "                 time, verification, error; docs/json.md)\n"
    "  --report FILE  write that JSON document to FILE at the end (whole or\n"
    "                 not at all)\n"
    "  --dry-run      write nothing anywhere; read each file's header only\n"
    "                 (a ranged GET on S3) and print the plan: files and\n"
    "                 bytes per source version, what would be skipped or\n"
    "                 copied as it is and why, and the disk one task needs\n"
    "                 (2 x largest file + largest WAL + largest file with a\n"
    "                 WAL); exit 1 when any file would be skipped\n"
    "\n"
    "A progress line on a terminal, a log line per file otherwise. A name\n"
    "that cannot be migrated (not UTF-8, a control character, a symlink\n"
    "out of SRC, a FIFO) is skipped and said. SIGINT or SIGTERM stops the\n"
    "jobs and removes every temporary file.\n"
    "Exit status: 0 when every file is done, 1 when any failed or was\n"
    "skipped, 2 when SRC and DST overlap, 18 for a prefix with '..'.\n";

int cmd_batch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"jobs", required_argument, NULL, 'j'},
        {"json", no_argument, NULL, 'J'},
        {"ignore-wal-errors", no_argument, NULL, 'W'},
        {"in-place", no_argument, NULL, 'i'},
        {"backup-suffix", required_argument, NULL, 'S'},
        {"dry-run", no_argument, NULL, 'n'},
        {"report", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dm_batch_opts b;
    memset(&b, 0, sizeof(b));
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    const char *suffix = NULL;
    bool in_place = false;
    uint64_t n_jobs = 0;
    int c;
    while ((c = getopt_long(argc, argv, "t:j:JWiS:nR:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            b.to = optarg;
            break;
        case 'j':
            if (!dm_parse_u64(optarg, &n_jobs) || n_jobs < 1 ||
                n_jobs > DM_BATCH_MAX_JOBS) {
                fprintf(stderr,
                        "duckmig: batch: --jobs takes a number of files at "
                        "a time from 1 to %d, not '",
                        DM_BATCH_MAX_JOBS);
                dm_fputs_escaped(optarg, stderr);
                fputs("'\n", stderr);
                return DM_ERR_USAGE;
            }
            jobs = (long)n_jobs;
            break;
        case 'n':
            b.dry_run = true;
            break;
        case 'R':
            b.report_path = optarg;
            break;
        case 'J':
            b.json = true;
            break;
        case 'W':
            dm_setting_override(DM_SET_IGNORE_WAL_ERRORS, "1", NULL);
            break;
        case 'i':
            in_place = true;
            break;
        case 'S':
            suffix = optarg;
            break;
        case 'h':
            fputs(cmd_batch_usage, stdout);
            return 0;
        default:
            fputs(cmd_batch_usage, stderr);
            return DM_ERR_USAGE;
        }
    }
    int operands = argc - optind;
    const char *mistake =
        operands < 1                 ? "SRC is missing"
        : operands > 2               ? "too many operands (SRC DST)"
        : operands == 1 && !in_place ? "DST is missing (or --in-place)"
        : suffix && !in_place        ? "--backup-suffix goes with --in-place"
                                     : NULL;
    if (mistake) {
        fprintf(stderr, "duckmig: batch: %s\n", mistake);
        fputs(cmd_batch_usage, stderr);
        return DM_ERR_USAGE;
    }
    /* the default, the CPU count, within what batch runs */
    jobs = jobs < 1 ? 1 : jobs > DM_BATCH_MAX_JOBS ? DM_BATCH_MAX_JOBS : jobs;
    b.jobs = jobs;
    b.src = argv[optind];
    b.dst = operands == 2 ? argv[optind + 1] : b.src;
    if (in_place)
        b.backup_suffix = suffix ? suffix : DEFAULT_BACKUP_SUFFIX;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_code rc = dm_batch_run(&b, &err);
    /* DM_ERR_GENERIC: files failed or were skipped, each said already */
    if (rc && rc != DM_ERR_GENERIC) {
        fputs("duckmig: batch: ", stderr);
        dm_fputs_escaped(err.msg, stderr);
        fputc('\n', stderr);
    }
    dm_batch_exit_if_stopped();
    return rc;
}
