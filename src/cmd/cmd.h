/*
 * cmd.h - the subcommand table.
 *
 * Each subcommand lives in src/cmd/<name>.c and exports cmd_<name>(), which
 * receives argv with argv[0] set to the subcommand's name and returns the
 * process exit status (an enum dm_code). main.c owns the table, `help`,
 * `--version` and the checks common to every command.
 */
#ifndef DM_CMD_H
#define DM_CMD_H

#include <stdbool.h>
#include <stdio.h>

struct dm_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `duckmig help` */
    const char *usage;   /* full text for `duckmig CMD --help` */
};

int cmd_inspect(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_engines(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_consume(int argc, char **argv);
int cmd_dlq(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_settings(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_ledger(int argc, char **argv);

extern const char cmd_inspect_usage[];
extern const char cmd_sql_usage[];
extern const char cmd_engines_usage[];
extern const char cmd_migrate_usage[];
extern const char cmd_verify_usage[];
extern const char cmd_cp_usage[];
extern const char cmd_ls_usage[];
extern const char cmd_publish_usage[];
extern const char cmd_consume_usage[];
extern const char cmd_dlq_usage[];
extern const char cmd_status_usage[];
extern const char cmd_batch_usage[];
extern const char cmd_health_usage[];
extern const char cmd_settings_usage[];
extern const char cmd_doctor_usage[];
extern const char cmd_ledger_usage[];

/*
 * Options of a command that takes only --json and --help: 0 to go on
 * (optind at the operands), -1 after printing usage for --help (exit 0),
 * DM_ERR_USAGE after printing it for a mistake.
 */
int dm_cmd_json_option(int argc, char **argv, const char *usage, bool *json);

/* Print cmd's usage to out (stdout for --help, stderr for mistakes). */
void dm_cmd_usage(const char *name, FILE *out);

#endif
