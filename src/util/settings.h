/*
 * settings.h - every environment variable duckmig reads, in one table
 * (settings.c): its name, its default, the values it may take, and the
 * line of documentation that `duckmig settings` prints and
 * docs/settings.md holds (a test keeps the two the same).
 *
 * The environment is read once, by dm_settings_load() at start-up, which
 * refuses a value the table does not allow (exit 2, with the variable's
 * name) before any command has done something with it. After that, code
 * asks the table, never getenv(): a default is written once, here, and a
 * command-line option that stands for a variable (batch --to, for
 * DUCKDB_MIGRATE_VERSION) overrides it in the table, not in the
 * environment. A job's child process gets the overrides of its parent in
 * its stdin JSON (fleet/runner.c), so nothing is passed through setenv.
 */
#ifndef DM_UTIL_SETTINGS_H
#define DM_UTIL_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/error.h"

/* Defaults that usage texts print too. */
#define DM_EFS_SRC_DEFAULT   "/mnt/efs/perform-dev-goal/"
#define DM_EFS_DST_DEFAULT   "/mnt/efs/perform-dev-goal-dst/"
#define DM_HEARTBEAT_DEFAULT "/tmp/duckmig-heartbeat"
#define DM_GOAL_QUERY_DEFAULT                                                  \
    "SELECT tracker_id::text, site_id::text FROM goal ORDER BY tracker_id"

/* One for each row of the table, in its order (settings.c). */
enum dm_setting_id {
    /* the seed's fleet */
    DM_SET_SOURCE_BUCKET,
    DM_SET_DESTINATION_BUCKET,
    DM_SET_SOURCE_DATASTORE,
    DM_SET_DESTINATION_DATASTORE,
    DM_SET_DB_SECRET,
    DM_SET_RABBIT_SECRET,
    DM_SET_QUEUE_NAME,
    DM_SET_QUEUE_SMALL,
    DM_SET_QUEUE_BIG,
    DM_SET_GOAL_QUERY,
    DM_SET_BIG_FILE_THRESHOLD,
    DM_SET_MIGRATE_VERSION,
    DM_SET_MIGRATE_SRC,
    DM_SET_MIGRATE_DST,
    DM_SET_BATCH_DOWNLOAD,
    DM_SET_RABBIT_HEARTBEAT,
    /* logging, files, engines */
    DM_SET_LOG_LEVEL,
    DM_SET_LOG_FORMAT,
    DM_SET_TMPDIR,
    DM_SET_ENGINES,
    DM_SET_KEEP_ENGINES,
    DM_SET_ZYGOTE_DIR,
    /* migration */
    DM_SET_THREADS,
    DM_SET_MEMORY_LIMIT,
    DM_SET_READER_MEMORY_LIMIT,
    DM_SET_INDEXES,
    DM_SET_BATCH_BYTES,
    DM_SET_BATCH_ROWS,
    DM_SET_VIEW_ROWS,
    DM_SET_REUSE_BELOW,
    DM_SET_LOCK_WAIT,
    DM_SET_PROGRESS_SECONDS,
    DM_SET_IGNORE_WAL_ERRORS,
    DM_SET_ACCEPT_INCOMPLETE,
    /* the consumer's service */
    DM_SET_MAX_ATTEMPTS,
    DM_SET_STOP_TIMEOUT,
    DM_SET_CONNECT_ATTEMPTS,
    DM_SET_RETRY_BASE_MS,
    DM_SET_SECRET_TTL,
    DM_SET_HEARTBEAT_FILE,
    DM_SET_METRICS,
    DM_SET_METRICS_NAMESPACE,
    DM_SET_METRICS_INTERVAL,
    DM_SET_METRICS_PORT,
    DM_SET_METRICS_ADDRESS,
    DM_SET_ECS_AGENT_URI,
    DM_SET_PROTECTION_MINUTES,
    /* S3 */
    DM_SET_S3_CONCURRENCY,
    DM_SET_S3_PART_SIZE,
    DM_SET_S3_ALLOW_SMALL_PARTS,
    DM_SET_S3_MULTIPART_THRESHOLD,
    DM_SET_S3_ATTEMPTS,
    DM_SET_S3_STALL_SECONDS,
    DM_SET_S3_LIST_PAGE,
    /* AWS: the names and meanings of the AWS SDKs */
    DM_SET_AWS_REGION,
    DM_SET_AWS_DEFAULT_REGION,
    DM_SET_AWS_ACCESS_KEY_ID,
    DM_SET_AWS_SECRET_ACCESS_KEY,
    DM_SET_AWS_SESSION_TOKEN,
    DM_SET_AWS_PROFILE,
    DM_SET_AWS_DEFAULT_PROFILE,
    DM_SET_AWS_SHARED_CREDENTIALS_FILE,
    DM_SET_AWS_CONFIG_FILE,
    DM_SET_HOME,
    DM_SET_AWS_ROLE_ARN,
    DM_SET_AWS_ROLE_SESSION_NAME,
    DM_SET_AWS_WEB_IDENTITY_TOKEN_FILE,
    DM_SET_AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
    DM_SET_AWS_CONTAINER_CREDENTIALS_FULL_URI,
    DM_SET_AWS_CONTAINER_AUTHORIZATION_TOKEN,
    DM_SET_AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
    DM_SET_AWS_EC2_METADATA_DISABLED,
    DM_SET_AWS_EC2_METADATA_SERVICE_ENDPOINT,
    DM_SET_AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
    DM_SET_AWS_METADATA_SERVICE_TIMEOUT,
    DM_SET_AWS_METADATA_SERVICE_NUM_ATTEMPTS,
    DM_SET_AWS_ENDPOINT_URL,
    DM_SET_AWS_ENDPOINT_URL_S3,
    DM_SET_AWS_ENDPOINT_URL_STS,
    DM_SET_AWS_STS_ENDPOINT,
    DM_SET_AWS_ENDPOINT_URL_SECRETS_MANAGER,
    /* testing and tracing */
    DM_SET_TRACE_ENGINE,
    DM_SET_ENGINE_PROGRAM,
    DM_SET_ENGINE_FAULT,
    DM_SET_STORE_FAULT,
    DM_SET_COUNT
};

/*
 * Read every variable of the table from the environment (again, when
 * called again: a unit test that changed one) and check it: a number in
 * its range, one of its choices. DM_ERR_USAGE names the first that is
 * not. Overrides are dropped.
 */
enum dm_code dm_settings_load(struct dm_error *err);

/* The value: an override, else the environment's (not empty), else the
 * default; NULL when none of them. */
const char *dm_setting(enum dm_setting_id id);

/* Was it given: overridden, or set and not empty in the environment? */
bool dm_setting_given(enum dm_setting_id id);

/* The value when it was given, else NULL (not the default): for a
 * setting whose absence means something (DB_SECRET to a consumer). */
const char *dm_setting_given_value(enum dm_setting_id id);

/* A number's value (a flag's is 0 or 1); 0 when it has none. */
uint64_t dm_setting_u64(enum dm_setting_id id);

/* Its variable's name, e.g. "QUEUE_NAME". */
const char *dm_setting_name(enum dm_setting_id id);

/* The setting called name; false when the table has none. */
bool dm_setting_find(const char *name, enum dm_setting_id *out);

/*
 * Set it for this process and the jobs it starts (not for the engines:
 * they read nothing): what an option that stands for the variable does.
 * The value is checked as the environment's is; NULL removes an
 * override.
 */
enum dm_code dm_setting_override(enum dm_setting_id id, const char *value,
                                 struct dm_error *err);

/* Call fn for every override, in the table's order (a job's stdin JSON
 * carries them to its child). */
void dm_settings_each_override(void (*fn)(const char *name, const char *value,
                                          void *ud),
                               void *ud);

/* `duckmig settings`: each variable with its value and where it comes
 * from; with markdown, the table of docs/settings.md (names, defaults,
 * what each is for) instead. */
void dm_settings_print(FILE *out, bool markdown);

#endif
