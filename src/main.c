/*
 * main.c - duckmig's entry point and subcommand dispatch.
 *
 * Process-wide setup happens here once: logging, SIGPIPE ignored (a dead
 * engine worker or peer must surface as an error, not kill us), SIGXFSZ
 * ignored (a file size limit must fail a write with EFBIG, so that the
 * temporary file is removed, instead of killing us mid-write), and the
 * hidden `__engine` entry that turns this process into an engine worker
 * (and `__job`, a consumer's job process).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "engine/registry.h"
#include "engine/worker.h"
#include "engine/zygote.h"
#include "fleet/jobzygote.h"
#include "fleet/runner.h"
#include "util/error.h"
#include "util/log.h"
#include "util/settings.h"

/* build/version.h: `git describe` when the Makefile built us */
#if defined(__has_include)
#if __has_include("version.h")
#include "version.h"
#endif
#endif
#ifndef DUCKMIG_VERSION
#define DUCKMIG_VERSION "0.1.0-dev"
#endif

/* The releases duckmig migrates between (scripts/get-duckdb's default). */
static const char *const supported_engines[] = {"0.6.1", "0.7.1", "0.8.1",
                                                DM_RELEASE_LATEST};
#define N_SUPPORTED (sizeof(supported_engines) / sizeof(*supported_engines))

static const struct dm_command commands[] = {
    {"inspect", cmd_inspect,
     "read files' DuckDB version from their header, without DuckDB",
     cmd_inspect_usage},
    {"migrate", cmd_migrate,
     "rewrite a file for another DuckDB release, verified", cmd_migrate_usage},
    {"verify", cmd_verify, "prove that a migrated file holds its source",
     cmd_verify_usage},
    {"cp", cmd_cp, "copy a file between local, efs: and s3:// locations",
     cmd_cp_usage},
    {"ls", cmd_ls, "list the files under an s3://, efs: or local location",
     cmd_ls_usage},
    {"batch", cmd_batch,
     "migrate a whole tree of files on this machine, N at a time",
     cmd_batch_usage},
    {"doctor", cmd_doctor,
     "check engine, broker, database, stores and secrets before a run",
     cmd_doctor_usage},
    {"ledger", cmd_ledger, "create the ledger table (ledger init), once",
     cmd_ledger_usage},
    {"publish", cmd_publish,
     "queue one message per tracker file from the goal table",
     cmd_publish_usage},
    {"consume", cmd_consume, "migrate the files of a queue, one at a time",
     cmd_consume_usage},
    {"dlq", cmd_dlq, "list or requeue dead-lettered messages", cmd_dlq_usage},
    {"health", cmd_health, "exit 0 when the consumer's heartbeat is fresh",
     cmd_health_usage},
    {"settings", cmd_settings,
     "every environment variable: its value, default and purpose",
     cmd_settings_usage},
    {"status", cmd_status, "counts, throughput, ETA and failures of a run",
     cmd_status_usage},
    {"engines", cmd_engines, "list the installed DuckDB engines",
     cmd_engines_usage},
    {"sql", cmd_sql, "run SQL on a database with a chosen DuckDB release",
     cmd_sql_usage},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct dm_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void dm_cmd_usage(const char *name, FILE *out)
{
    const struct dm_command *c = find_command(name);
    if (c)
        fputs(c->usage, out);
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: duckmig <command> [options] [args]\n\n"
                 "Migrate DuckDB database files between DuckDB releases.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'duckmig <command> --help' tells more about a command.\n"
                 "Environment: LOG_LEVEL=debug|info|warn|error, "
                 "LOG_FORMAT=json, DUCKMIG_ENGINES=<dir>.\n");
}

/* --version: the build, and which engines are installed where. */
static void print_version(void)
{
    char rel[32][DM_RELEASE_MAX];
    size_t n = dm_engines_installed(rel, 32);
    printf("duckmig %s\n", DUCKMIG_VERSION);
    printf("engines in %s:\n", dm_engines_dir());
    for (size_t i = 0; i < N_SUPPORTED; i++) {
        bool have = false;
        for (size_t k = 0; k < n && !have; k++)
            have = strcmp(rel[k], supported_engines[i]) == 0;
        if (have)
            printf("  %-8s installed\n", supported_engines[i]);
        else
            printf("  %-8s not installed (scripts/get-duckdb %s)\n",
                   supported_engines[i], supported_engines[i]);
    }
    for (size_t k = 0; k < n; k++) {
        bool known = false;
        for (size_t i = 0; i < N_SUPPORTED && !known; i++)
            known = strcmp(rel[k], supported_engines[i]) == 0;
        if (!known)
            printf("  %-8s installed (not one duckmig is tested with)\n",
                   rel[k]);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__engine") == 0)
        return dm_engine_worker_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "__zygote") == 0)
        return dm_engine_zygote_main(argc - 1, argv + 1);

    struct dm_error err = DM_ERROR_INIT;
    /* the environment is read once, here: a value the settings table
     * does not allow is refused before any command has done something
     * with it (util/settings.h) */
    if (dm_settings_load(&err) || dm_log_init(&err)) {
        fprintf(stderr, "duckmig: %s\n", err.msg);
        return err.code;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "__job") == 0)
        return dm_job_child_main(argc - 1, argv + 1);
    /* after the settings and the signals, as for __job: its children
     * are jobs */
    if (argc >= 2 && strcmp(argv[1], "__jobzygote") == 0)
        return dm_job_zygote_main(argc - 1, argv + 1);

    if (argc < 2) {
        print_help(stderr);
        return DM_ERR_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "-h") == 0) {
        if (argc >= 3 && find_command(argv[2])) {
            dm_cmd_usage(argv[2], stdout);
            return 0;
        }
        if (argc >= 3) {
            fprintf(stderr,
                    "duckmig: help: '%s' is not a command; see 'duckmig "
                    "help'\n",
                    argv[2]);
            return DM_ERR_USAGE;
        }
        print_help(stdout);
        return 0;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        print_version();
        return 0;
    }
    const struct dm_command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "duckmig: '%s' is not a command; see 'duckmig help'\n",
                name);
        return DM_ERR_USAGE;
    }
    int rc = c->run(argc - 1, argv + 1);
    /* Output that never reached the disk is a failure (git's run_builtin). */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "duckmig: %s: cannot write output\n", name);
        return rc ? rc : DM_ERR_IO;
    }
    return rc;
}
