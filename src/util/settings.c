/* settings.c - the table of environment variables (see settings.h). */
#include "util/settings.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/text.h"

enum kind {
    TEXT,   /* any text */
    NUMBER, /* a whole number from min to max */
    CHOICE, /* one of choices ("a, b, c") */
};

struct setting {
    const char *name;
    const char *def; /* NULL: none (or computed where used: doc says) */
    enum kind kind;
    uint64_t min, max;
    const char *choices;
    bool secret; /* printed as "(set)", never its value */
    const char *doc;
};

#define TXT(n, d, doc)                                                         \
    {                                                                          \
        n, d, TEXT, 0, 0, NULL, false, doc                                     \
    }
#define SECRET(n, d, doc)                                                      \
    {                                                                          \
        n, d, TEXT, 0, 0, NULL, true, doc                                      \
    }
#define NUM(n, d, lo, hi, doc)                                                 \
    {                                                                          \
        n, d, NUMBER, lo, hi, NULL, false, doc                                 \
    }
#define ONE_OF(n, d, c, doc)                                                   \
    {                                                                          \
        n, d, CHOICE, 0, 0, c, false, doc                                      \
    }
#define FLAG(n, d, doc) ONE_OF(n, d, "0, 1", doc)

static const struct setting table[DM_SET_COUNT] = {
    [DM_SET_SOURCE_BUCKET] =
        TXT("SOURCE_BUCKET", "perform-dev-raw",
            "publish: the S3 bucket of the sources; consume: when set, its "
            "start-up checks read it (messages name their buckets)"),
    [DM_SET_DESTINATION_BUCKET] =
        TXT("DESTINATION_BUCKET", "perform-dev-raw",
            "publish: the S3 bucket the messages send files to; consume: when "
            "set, its start-up checks write a probe object to it"),
    [DM_SET_SOURCE_DATASTORE] =
        ONE_OF("SOURCE_DATASTORE", "s3", "s3, efs",
               "publish and doctor: where the sources are (--from)"),
    [DM_SET_DESTINATION_DATASTORE] =
        ONE_OF("DESTINATION_DATASTORE", "s3", "s3, efs",
               "publish: where the migrated files go (--to)"),
    [DM_SET_DB_SECRET] = SECRET(
        "DB_SECRET", "perform_database_dev",
        "the PostgreSQL secret (goal table, ledger): a Secrets Manager id, a "
        "file, or inline JSON; consume keeps a ledger only when it is set"),
    [DM_SET_RABBIT_SECRET] =
        SECRET("RABBIT_SECRET", "perform_rabbitmq_dev",
               "the RabbitMQ secret: a Secrets Manager id, a file, or inline "
               "JSON"),
    [DM_SET_QUEUE_NAME] = TXT("QUEUE_NAME", "migrate_duckdb_release",
                              "consume and dlq: the queue to take jobs from"),
    [DM_SET_QUEUE_SMALL] =
        TXT("QUEUE_SMALL", "migrate_duckdb_release",
            "publish: the queue of files smaller than BIG_FILE_THRESHOLD"),
    [DM_SET_QUEUE_BIG] =
        TXT("QUEUE_BIG", "migrate_duckdb_release_big",
            "publish: the queue of files of BIG_FILE_THRESHOLD or more"),
    [DM_SET_GOAL_QUERY] =
        TXT("GOAL_QUERY", DM_GOAL_QUERY_DEFAULT,
            "publish: the query that names the trackers (tracker id, site id)"),
    [DM_SET_BIG_FILE_THRESHOLD] =
        NUM("BIG_FILE_THRESHOLD", "1610612736", 1, UINT64_MAX,
            "publish: bytes from which a file goes to QUEUE_BIG (1.5 GiB)"),
    [DM_SET_MIGRATE_VERSION] =
        TXT("DUCKDB_MIGRATE_VERSION", "duckdb0.8.1",
            "the target release: 0.8.1, v0.8.1, duckdb0.8.1, 1.5.6 or latest "
            "(migrate --to, batch --to)"),
    [DM_SET_MIGRATE_SRC] = TXT("MIGRATE_SRC", DM_EFS_SRC_DEFAULT,
                               "the EFS root that efs: sources are under"),
    [DM_SET_MIGRATE_DST] = TXT("MIGRATE_DST", DM_EFS_DST_DEFAULT,
                               "the EFS root that efs: destinations are under"),
    [DM_SET_BATCH_DOWNLOAD] =
        TXT("BATCH_DOWNLOAD", "/batch_download",
            "consume: where each job's folder (download, staging) is made"),
    [DM_SET_RABBIT_HEARTBEAT] =
        NUM("RABBIT_HEARTBEAT", "30", 1, 65535,
            "seconds: the AMQP heartbeat asked of the broker"),

    [DM_SET_LOG_LEVEL] =
        ONE_OF("LOG_LEVEL", "info", "debug, info, warn, warning, error",
               "the least severe log line written"),
    [DM_SET_LOG_FORMAT] =
        ONE_OF("LOG_FORMAT", "text", "text, json",
               "log lines for people (text) or one JSON object a line"),
    [DM_SET_TMPDIR] = TXT("TMPDIR", "/tmp",
                          "where temporary folders are made (WAL replays, "
                          "batch's jobs, verification copies)"),
    [DM_SET_ENGINES] = TXT("DUCKMIG_ENGINES", NULL,
                           "the engines folder (RELEASE/libduckdb.so); unset: "
                           "../lib/duckmig/engines beside the duckmig binary"),
    [DM_SET_KEEP_ENGINES] =
        FLAG("DUCKMIG_KEEP_ENGINES", "1",
             "batch and consume fork engines from a zygote per release; 0 "
             "spawns each one (docs/engines.md)"),
    [DM_SET_ZYGOTE_DIR] =
        TXT("DUCKMIG_ZYGOTE_DIR", NULL,
            "set by batch and consume for their jobs: where the zygotes' "
            "sockets are"),

    [DM_SET_THREADS] =
        NUM("DUCKMIG_THREADS", NULL, 1, 1024,
            "the writer's append lanes and the verifier's column groups; "
            "unset: the number of CPUs (at most 64)"),
    [DM_SET_MEMORY_LIMIT] =
        TXT("DUCKMIG_MEMORY_LIMIT", NULL,
            "DuckDB's memory_limit for the writer (e.g. 4GB); unset: "
            "DuckDB's own; the index phase is given what its "
            "rows need (docs/migration.md sizes both)"),
    [DM_SET_READER_MEMORY_LIMIT] =
        TXT("DUCKMIG_READER_MEMORY_LIMIT", "128MB",
            "DuckDB's memory_limit for the engines that read files (kept off "
            "when a replayed WAL holds more)"),
    [DM_SET_INDEXES] =
        ONE_OF("DUCKMIG_INDEXES", "after", "after, before",
               "build indexes after the rows are in (faster) or before them"),
    [DM_SET_BATCH_BYTES] =
        NUM("DUCKMIG_BATCH_BYTES", "134217728", 1, UINT64_MAX,
            "encoded bytes a 0.6/0.7 table is read in at a time (bounds the "
            "reader's memory)"),
    [DM_SET_BATCH_ROWS] =
        NUM("DUCKMIG_BATCH_ROWS", "0", 0, UINT64_MAX,
            "rows a 0.6/0.7 table is read in at a time instead; 0: by "
            "DUCKMIG_BATCH_BYTES"),
    [DM_SET_VIEW_ROWS] = NUM("DUCKMIG_VIEW_ROWS", "1000000", 1, UINT64_MAX,
                             "rows of a view fingerprinted by verification"),
    [DM_SET_REUSE_BELOW] =
        NUM("DUCKMIG_REUSE_BELOW", "268435456", 0, UINT64_MAX,
            "bytes: a smaller source keeps its engine processes from one "
            "phase to the next (each phase opens its own database)"),
    [DM_SET_LOCK_WAIT] =
        NUM("DUCKMIG_LOCK_WAIT", "600", 0, 7 * 86400,
            "seconds a migrate waits for another one writing the same "
            "destination"),
    [DM_SET_PROGRESS_SECONDS] =
        NUM("DUCKMIG_PROGRESS_SECONDS", "30", 0, 86400,
            "seconds between progress lines of a migrate whose stderr is not "
            "a terminal"),
    [DM_SET_IGNORE_WAL_ERRORS] =
        FLAG("DUCKMIG_IGNORE_WAL_ERRORS", "0",
             "1: migrate a file whose WAL its release cannot replay without "
             "it, named in the report (--ignore-wal-errors)"),
    [DM_SET_ACCEPT_INCOMPLETE] =
        TXT("DUCKMIG_ACCEPT_INCOMPLETE", NULL,
            "which incomplete files batch and consume ship: a comma-separated "
            "list of all, external, changed or report kinds; unset: none "
            "(docs/fleet.md)"),

    [DM_SET_MAX_ATTEMPTS] =
        NUM("DUCKMIG_MAX_ATTEMPTS", "5", 1, 1000,
            "consume: attempts of a job before it is dead-lettered"),
    [DM_SET_STOP_TIMEOUT] =
        NUM("DUCKMIG_STOP_TIMEOUT", "100", 0, 86400,
            "consume: seconds a running job may finish after SIGTERM"),
    [DM_SET_CONNECT_ATTEMPTS] =
        NUM("DUCKMIG_CONNECT_ATTEMPTS", "10", 1, 1000000,
            "consume: broker connections that may fail in a row before it "
            "exits 15"),
    [DM_SET_RETRY_BASE_MS] =
        NUM("DUCKMIG_RETRY_BASE_MS", "1000", 0, 60000,
            "ms: the first wait before a broker reconnect, doubling; a "
            "ledger write waits half of it, an S3 or AWS request a tenth"),
    [DM_SET_SECRET_TTL] =
        NUM("DUCKMIG_SECRET_TTL", "3600", 1, 366 * 86400,
            "seconds a secret is cached (refreshed between half and all of "
            "it)"),
    [DM_SET_HEARTBEAT_FILE] =
        TXT("DUCKMIG_HEARTBEAT_FILE", DM_HEARTBEAT_DEFAULT,
            "consume touches it every second; duckmig health reads it"),
    [DM_SET_METRICS] =
        ONE_OF("DUCKMIG_METRICS", "none", "none, emf",
               "emf: CloudWatch embedded-metric lines (batch, consume)"),
    [DM_SET_METRICS_NAMESPACE] = TXT("DUCKMIG_METRICS_NAMESPACE", "duckmig",
                                     "the CloudWatch namespace of EMF lines"),
    [DM_SET_METRICS_INTERVAL] = NUM("DUCKMIG_METRICS_INTERVAL", "60", 1, 86400,
                                    "seconds between EMF summary lines"),
    [DM_SET_METRICS_PORT] =
        TXT("DUCKMIG_METRICS_PORT", NULL,
            "consume: the port of its Prometheus endpoint (--metrics-port); "
            "unset: none"),
    [DM_SET_METRICS_ADDRESS] =
        TXT("DUCKMIG_METRICS_ADDRESS", "0.0.0.0",
            "consume: the address its Prometheus endpoint listens on"),
    [DM_SET_ECS_AGENT_URI] =
        TXT("ECS_AGENT_URI", NULL,
            "set by ECS: where a consumer asks for scale-in protection"),
    [DM_SET_PROTECTION_MINUTES] =
        NUM("DUCKMIG_PROTECTION_MINUTES", "120", 1, 2880,
            "consume: minutes of ECS scale-in protection asked for a job, "
            "renewed while it runs"),

    [DM_SET_S3_CONCURRENCY] =
        NUM("DUCKMIG_S3_CONCURRENCY", "4", 1, 1024,
            "parts of one S3 transfer at a time (at most 64)"),
    [DM_SET_S3_PART_SIZE] =
        NUM("DUCKMIG_S3_PART_SIZE", "8388608", 1, UINT64_MAX,
            "bytes of a multipart upload's part (at "
            "least 5 MiB, S3's minimum)"),
    [DM_SET_S3_ALLOW_SMALL_PARTS] =
        FLAG("DUCKMIG_S3_ALLOW_SMALL_PARTS", "0",
             "1: parts smaller than 5 MiB (test servers only)"),
    [DM_SET_S3_MULTIPART_THRESHOLD] =
        NUM("DUCKMIG_S3_MULTIPART_THRESHOLD", "67108864", 1, UINT64_MAX,
            "bytes from which an upload is multipart"),
    [DM_SET_S3_ATTEMPTS] = NUM("DUCKMIG_S3_ATTEMPTS", "5", 1, 1000,
                               "tries of an S3 request that failed "
                               "transiently"),
    [DM_SET_S3_STALL_SECONDS] =
        NUM("DUCKMIG_S3_STALL_SECONDS", "60", 1, 86400,
            "seconds without a byte before an S3 transfer is retried"),
    [DM_SET_S3_LIST_PAGE] =
        NUM("DUCKMIG_S3_LIST_PAGE", NULL, 1, 1000,
            "keys a listing asks for a page; unset: S3's own (1000)"),

    [DM_SET_AWS_REGION] =
        TXT("AWS_REGION", NULL,
            "the AWS region; then AWS_DEFAULT_REGION, the profile's, "
            "us-east-1"),
    [DM_SET_AWS_DEFAULT_REGION] =
        TXT("AWS_DEFAULT_REGION", NULL, "the AWS region, after AWS_REGION"),
    [DM_SET_AWS_ACCESS_KEY_ID] =
        TXT("AWS_ACCESS_KEY_ID", NULL, "static credentials: the key id"),
    [DM_SET_AWS_SECRET_ACCESS_KEY] = SECRET(
        "AWS_SECRET_ACCESS_KEY", NULL, "static credentials: the secret key"),
    [DM_SET_AWS_SESSION_TOKEN] =
        SECRET("AWS_SESSION_TOKEN", NULL,
               "static credentials: the session token, if any"),
    [DM_SET_AWS_PROFILE] =
        TXT("AWS_PROFILE", NULL,
            "the profile of the shared files; then AWS_DEFAULT_PROFILE, "
            "default"),
    [DM_SET_AWS_DEFAULT_PROFILE] =
        TXT("AWS_DEFAULT_PROFILE", NULL, "the profile, after AWS_PROFILE"),
    [DM_SET_AWS_SHARED_CREDENTIALS_FILE] =
        TXT("AWS_SHARED_CREDENTIALS_FILE", NULL,
            "the shared credentials file; unset: ~/.aws/credentials"),
    [DM_SET_AWS_CONFIG_FILE] = TXT("AWS_CONFIG_FILE", NULL,
                                   "the shared config file; unset: "
                                   "~/.aws/config"),
    [DM_SET_HOME] = TXT("HOME", NULL,
                        "where ~/.aws is; unset: the password database's "
                        "home"),
    [DM_SET_AWS_ROLE_ARN] =
        TXT("AWS_ROLE_ARN", NULL,
            "web identity: the role to assume (with the token file)"),
    [DM_SET_AWS_ROLE_SESSION_NAME] =
        TXT("AWS_ROLE_SESSION_NAME", NULL, "web identity: the session's name"),
    [DM_SET_AWS_WEB_IDENTITY_TOKEN_FILE] =
        TXT("AWS_WEB_IDENTITY_TOKEN_FILE", NULL,
            "web identity: the file that holds the token"),
    [DM_SET_AWS_CONTAINER_CREDENTIALS_RELATIVE_URI] =
        TXT("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", NULL,
            "set by ECS: the task role's credentials endpoint"),
    [DM_SET_AWS_CONTAINER_CREDENTIALS_FULL_URI] =
        TXT("AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL,
            "a container credentials endpoint (loopback or ECS/EKS)"),
    [DM_SET_AWS_CONTAINER_AUTHORIZATION_TOKEN] =
        SECRET("AWS_CONTAINER_AUTHORIZATION_TOKEN", NULL,
               "the Authorization header for the container endpoint"),
    [DM_SET_AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE] =
        TXT("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL,
            "a file that holds that header (read at each fetch)"),
    [DM_SET_AWS_EC2_METADATA_DISABLED] =
        TXT("AWS_EC2_METADATA_DISABLED", NULL,
            "true: never ask EC2 instance metadata for credentials"),
    [DM_SET_AWS_EC2_METADATA_SERVICE_ENDPOINT] =
        TXT("AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL,
            "instance metadata's address; unset: http://169.254.169.254"),
    [DM_SET_AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE] =
        TXT("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", NULL,
            "IPv4 or IPv6: which default address instance metadata has"),
    [DM_SET_AWS_METADATA_SERVICE_TIMEOUT] =
        TXT("AWS_METADATA_SERVICE_TIMEOUT", NULL,
            "seconds an instance metadata request may take (1)"),
    [DM_SET_AWS_METADATA_SERVICE_NUM_ATTEMPTS] =
        TXT("AWS_METADATA_SERVICE_NUM_ATTEMPTS", NULL,
            "tries of an instance metadata request"),
    [DM_SET_AWS_ENDPOINT_URL] =
        TXT("AWS_ENDPOINT_URL", NULL,
            "one endpoint for every AWS service (MinIO, a test server)"),
    [DM_SET_AWS_ENDPOINT_URL_S3] =
        TXT("AWS_ENDPOINT_URL_S3", NULL,
            "S3's endpoint (path-style requests), before AWS_ENDPOINT_URL"),
    [DM_SET_AWS_ENDPOINT_URL_STS] =
        TXT("AWS_ENDPOINT_URL_STS", NULL,
            "STS's endpoint, before AWS_STS_ENDPOINT and AWS_ENDPOINT_URL"),
    [DM_SET_AWS_STS_ENDPOINT] =
        TXT("AWS_STS_ENDPOINT", NULL, "STS's endpoint (older name)"),
    [DM_SET_AWS_ENDPOINT_URL_SECRETS_MANAGER] =
        TXT("AWS_ENDPOINT_URL_SECRETS_MANAGER", NULL,
            "Secrets Manager's endpoint, before AWS_ENDPOINT_URL"),

    [DM_SET_TRACE_ENGINE] =
        FLAG("DUCKMIG_TRACE_ENGINE", "0",
             "1: print every statement sent to an engine, with its time"),
    [DM_SET_ENGINE_PROGRAM] =
        TXT("DUCKMIG_ENGINE_PROGRAM", NULL,
            "testing: the program started as engine worker and zygote; "
            "unset: this duckmig (the sanitizer suite gives the fleet tests' "
            "workers the release build)"),
    [DM_SET_ENGINE_FAULT] =
        TXT("DUCKMIG_ENGINE_FAULT", NULL,
            "testing: PREFIX|MESSAGE fails a statement that starts with "
            "PREFIX as if DuckDB had said MESSAGE"),
    [DM_SET_STORE_FAULT] =
        TXT("DUCKMIG_STORE_FAULT", NULL,
            "testing: OP:KEY-SUBSTRING:CODE fails a store call on purpose "
            "(docs/storage.md)"),
};

/* What the environment held at load (a copy), and the overrides. */
static char *from_env[DM_SET_COUNT];
static char *overridden[DM_SET_COUNT];
static bool loaded;

static bool is_choice(const struct setting *s, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = s->choices; *c;) {
        size_t len = strcspn(c, ",");
        if (len == n && strncmp(c, v, n) == 0)
            return true;
        c += len;
        c += strspn(c, ", ");
    }
    return false;
}

static enum dm_code check(enum dm_setting_id id, const char *v,
                          struct dm_error *err)
{
    const struct setting *s = &table[id];
    uint64_t n;
    if (s->kind == NUMBER && !dm_parse_u64_in(v, s->min, s->max, &n))
        return dm_fail(
            err, DM_ERR_USAGE, "%s=%.64s: not a whole number from %llu to %llu",
            s->name, v, (unsigned long long)s->min, (unsigned long long)s->max);
    if (s->kind == CHOICE && !is_choice(s, v))
        return dm_fail(err, DM_ERR_USAGE, "%s=%.64s: not one of %s", s->name, v,
                       s->choices);
    return DM_OK;
}

enum dm_code dm_settings_load(struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    loaded = true;
    for (size_t i = 0; i < DM_SET_COUNT; i++) {
        free(from_env[i]);
        free(overridden[i]);
        from_env[i] = overridden[i] = NULL;
        const char *v = getenv(table[i].name);
        if (!v || !*v)
            continue;
        /* a value refused stays out: past a refusal (a unit test), the
         * default holds */
        enum dm_code bad = check((enum dm_setting_id)i, v, rc ? NULL : err);
        if (bad) {
            if (!rc)
                rc = bad;
            continue;
        }
        from_env[i] = strdup(v);
        if (!from_env[i] && !rc)
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    return rc;
}

/* Code that runs before main() loads (an engine worker, a unit test)
 * reads the environment as it is then. */
static void ensure_loaded(void)
{
    if (!loaded)
        dm_settings_load(NULL);
}

const char *dm_setting(enum dm_setting_id id)
{
    ensure_loaded();
    if ((unsigned)id >= DM_SET_COUNT)
        abort(); /* a bug in duckmig */
    if (overridden[id])
        return overridden[id];
    return from_env[id] ? from_env[id] : table[id].def;
}

bool dm_setting_given(enum dm_setting_id id)
{
    ensure_loaded();
    return (unsigned)id < DM_SET_COUNT && (overridden[id] || from_env[id]);
}

const char *dm_setting_given_value(enum dm_setting_id id)
{
    return dm_setting_given(id) ? dm_setting(id) : NULL;
}

uint64_t dm_setting_u64(enum dm_setting_id id)
{
    const char *v = dm_setting(id);
    uint64_t n = 0;
    if (table[id].kind == TEXT) {
        fprintf(stderr, "duckmig: bug: %s is not a number (settings.c)\n",
                table[id].name);
        abort();
    }
    return v && dm_parse_u64(v, &n) ? n : 0;
}

const char *dm_setting_name(enum dm_setting_id id)
{
    return (unsigned)id < DM_SET_COUNT ? table[id].name : "?";
}

bool dm_setting_find(const char *name, enum dm_setting_id *out)
{
    for (size_t i = 0; name && i < DM_SET_COUNT; i++)
        if (strcmp(table[i].name, name) == 0) {
            *out = (enum dm_setting_id)i;
            return true;
        }
    return false;
}

enum dm_code dm_setting_override(enum dm_setting_id id, const char *value,
                                 struct dm_error *err)
{
    ensure_loaded();
    if ((unsigned)id >= DM_SET_COUNT)
        return dm_fail(err, DM_ERR_INTERNAL, "no such setting");
    char *copy = NULL;
    if (value) {
        enum dm_code rc = check(id, value, err);
        if (rc)
            return rc;
        if (!(copy = strdup(value)))
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    free(overridden[id]);
    overridden[id] = copy;
    return DM_OK;
}

void dm_settings_each_override(void (*fn)(const char *name, const char *value,
                                          void *ud),
                               void *ud)
{
    for (size_t i = 0; i < DM_SET_COUNT; i++)
        if (overridden[i])
            fn(table[i].name, overridden[i], ud);
}

/* Text in a cell of a Markdown table, where '|' would end the cell. */
static void cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static void print_markdown(FILE *out)
{
    fputs("| variable | default | values | what it is for |\n"
          "|---|---|---|---|\n",
          out);
    for (size_t i = 0; i < DM_SET_COUNT; i++) {
        const struct setting *s = &table[i];
        fprintf(out, "| `%s` | ", s->name);
        if (s->def) {
            fputc('`', out);
            cell(out, s->def);
            fputc('`', out);
        }
        fputs(" | ", out);
        if (s->kind == NUMBER && s->max == UINT64_MAX)
            fprintf(out, "%llu or more", (unsigned long long)s->min);
        else if (s->kind == NUMBER)
            fprintf(out, "%llu to %llu", (unsigned long long)s->min,
                    (unsigned long long)s->max);
        else if (s->kind == CHOICE)
            fputs(s->choices, out);
        else
            fputs("text", out);
        fputs(" | ", out);
        cell(out, s->doc);
        fputs(" |\n", out);
    }
}

void dm_settings_print(FILE *out, bool markdown)
{
    ensure_loaded();
    if (markdown) {
        print_markdown(out);
        return;
    }
    for (size_t i = 0; i < DM_SET_COUNT; i++) {
        const struct setting *s = &table[i];
        const char *v = dm_setting((enum dm_setting_id)i);
        const char *from = overridden[i] ? "option"
                           : from_env[i] ? "environment"
                           : v           ? "default"
                                         : "unset";
        fprintf(out, "%-40s %-11s ", s->name, from);
        if (!v)
            fputs("-", out);
        else if (s->secret && (overridden[i] || from_env[i]))
            fputs("(set)", out);
        else
            dm_fputs_escaped(v, out);
        fputc('\n', out);
    }
}
