/* ledger.c - the migration ledger in PostgreSQL (see ledger.h). */
#include "ledger/ledger.h"

#include <assert.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"
#include "util/text.h"

struct dm_ledger {
    PGconn *conn;
};

/* libpq prints NOTICEs ("already exists, skipping") on stderr: debug */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    dm_debug("ledger", "%.*s", (int)strcspn(message, "\n"), message);
}

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS duckmig_ledger ("
    " source text NOT NULL,"
    " destination text NOT NULL,"
    " tracker text,"
    " queue text,"
    " status text NOT NULL,"
    " attempts integer NOT NULL DEFAULT 0,"
    " src_version text,"
    " dst_version text,"
    " src_size bigint,"
    " dst_size bigint,"
    " error text,"
    " verification jsonb,"
    " seconds double precision,"
    " queued_at timestamptz,"
    " started_at timestamptz,"
    " finished_at timestamptz,"
    " updated_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (source, destination))";

static enum dm_code connect_once(json_t *secret, PGconn **out,
                                 bool *auth_failed, struct dm_error *err)
{
    char port[16] = "";
    json_t *p = json_object_get(secret, "port");
    if (json_is_integer(p))
        snprintf(port, sizeof(port), "%lld", (long long)json_integer_value(p));
    else if (json_is_string(p))
        snprintf(port, sizeof(port), "%s", json_string_value(p));
    const char *keys[10], *vals[10];
    int n = 0;
#define KV(k, v)                                                               \
    do {                                                                       \
        const char *v_ = (v);                                                  \
        if (v_ && *v_) {                                                       \
            keys[n] = (k);                                                     \
            vals[n++] = v_;                                                    \
        }                                                                      \
    } while (0)
    KV("host", json_string_value(json_object_get(secret, "host")));
    KV("port", port);
    KV("user", json_string_value(json_object_get(secret, "username")));
    KV("password", json_string_value(json_object_get(secret, "password")));
    KV("dbname", json_string_value(json_object_get(secret, "dbname")));
    KV("sslmode", json_string_value(json_object_get(secret, "sslmode")));
    KV("connect_timeout", "10");
    KV("application_name", "duckmig");
#undef KV
    keys[n] = vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(c) != CONNECTION_OK) {
        const char *msg = c ? PQerrorMessage(c) : "out of memory";
        *auth_failed = msg && (strstr(msg, "password authentication failed") ||
                               strstr(msg, "28P01"));
        /* libpq's message names host and user, never the password */
        char line[300];
        snprintf(line, sizeof(line), "%s", msg ? msg : "");
        line[strcspn(line, "\n")] = '\0';
        enum dm_code rc =
            dm_fail(err, *auth_failed ? DM_ERR_AUTH : DM_ERR_NETWORK,
                    "PostgreSQL: %s", line);
        PQfinish(c);
        return rc;
    }
    PQsetNoticeProcessor(c, on_notice, NULL);
    *out = c;
    return DM_OK;
}

/* An integer or count(*) column PostgreSQL returned: its text is a whole
 * number in range, so anything else is a broken invariant, not input. */
static long long int_at(PGresult *res, int row, int col)
{
    int64_t v = 0;
    bool ok =
        dm_parse_i64_in(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v);
    assert(ok);
    (void)ok; /* NDEBUG */
    return (long long)v;
}

static enum dm_code exec_ok(PGconn *c, PGresult *res, const char *what,
                            struct dm_error *err)
{
    ExecStatusType st = PQresultStatus(res);
    enum dm_code rc = DM_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char line[300];
        snprintf(line, sizeof(line), "%s", PQerrorMessage(c));
        line[strcspn(line, "\n")] = '\0';
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* a table nobody made: say who makes it (42P01 undefined_table) */
        bool absent = state && strcmp(state, "42P01") == 0 &&
                      strstr(line, "duckmig_ledger");
        rc = dm_fail(err,
                     state && strncmp(state, "08", 2) == 0 ? DM_ERR_NETWORK
                                                           : DM_ERR_SQL,
                     "PostgreSQL: %s: %s%s", what, line,
                     absent ? " (run `duckmig ledger init` once, as an "
                              "admin role: docs/fleet.md)"
                            : "");
    }
    return rc;
}

enum dm_code dm_ledger_open(struct dm_secrets *secrets, const char *secret_name,
                            struct dm_ledger **out, struct dm_error *err)
{
    *out = NULL;
    PGconn *c = NULL;
    enum dm_code rc = DM_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *secret = NULL;
        bool auth_failed = false;
        dm_error_clear(err);
        rc = dm_secret_get(secrets, secret_name, &secret, err);
        if (rc)
            return rc;
        rc = connect_once(secret, &c, &auth_failed, err);
        json_decref(secret);
        if (!rc || !auth_failed)
            break;
        /* the password may have been rotated: fetch it again, once */
        dm_secret_invalidate(secrets, secret_name);
    }
    if (rc)
        return rc;
    /* no CREATE here: the runtime role may not have it, and a table made
     * by whichever command ran first would belong to that role
     * (dm_ledger_init, `duckmig ledger init`, makes it once) */
    struct dm_ledger *l = calloc(1, sizeof(*l));
    if (!l) {
        PQfinish(c);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    l->conn = c;
    *out = l;
    return DM_OK;
}

void dm_ledger_close(struct dm_ledger *l)
{
    if (!l)
        return;
    PQfinish(l->conn);
    free(l);
}

struct pg_conn *dm_ledger_conn(struct dm_ledger *l)
{
    return l->conn;
}

static enum dm_code run(struct dm_ledger *l, const char *sql, int n,
                        const char *const *params, const char *what,
                        struct dm_error *err)
{
    /* a connection the server or the network dropped is made again here,
     * so that the caller's retry of a write can succeed */
    if (PQstatus(l->conn) != CONNECTION_OK) {
        PQreset(l->conn);
        if (PQstatus(l->conn) != CONNECTION_OK) {
            char line[300];
            snprintf(line, sizeof(line), "%s", PQerrorMessage(l->conn));
            line[strcspn(line, "\n")] = '\0';
            return dm_fail(err, DM_ERR_NETWORK, "PostgreSQL: %s: %s", what,
                           line);
        }
    }
    PGresult *res = PQexecParams(l->conn, sql, n, NULL, params, NULL, NULL, 0);
    enum dm_code rc = exec_ok(l->conn, res, what, err);
    PQclear(res);
    return rc;
}

enum dm_code dm_ledger_queued(struct dm_ledger *l, const char *source,
                              const char *destination, const char *tracker,
                              const char *queue, uint64_t size,
                              struct dm_error *err)
{
    char sz[32];
    snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
    const char *p[5] = {source, destination, tracker, queue, sz};
    /* a file already migrated stays so; anything else is queued again
     * (the statuses' names: util/status.c) */
    return run(l,
               "INSERT INTO duckmig_ledger (source, destination, tracker, "
               "queue, src_size, status, queued_at) "
               "VALUES ($1, $2, $3, $4, $5, 'queued', now()) "
               "ON CONFLICT (source, destination) DO UPDATE SET "
               "queue = EXCLUDED.queue, src_size = EXCLUDED.src_size, "
               "status = CASE WHEN duckmig_ledger.status IN ('migrated', "
               "'already_at_target', 'already_done') THEN "
               "duckmig_ledger.status ELSE 'queued' END, "
               "queued_at = now(), updated_at = now()",
               5, p, "record queued", err);
}

enum dm_code dm_ledger_started(struct dm_ledger *l, const char *source,
                               const char *destination, const char *queue,
                               int attempt, struct dm_error *err)
{
    char a[16];
    snprintf(a, sizeof(a), "%d", attempt);
    const char *p[4] = {source, destination, queue, a};
    return run(l,
               "INSERT INTO duckmig_ledger (source, destination, queue, "
               "status, attempts, started_at) "
               "VALUES ($1, $2, $3, 'running', $4, now()) "
               "ON CONFLICT (source, destination) DO UPDATE SET "
               "status = 'running', attempts = GREATEST("
               "duckmig_ledger.attempts, $4::integer), queue = $3, "
               "started_at = now(), updated_at = now()",
               4, p, "record started", err);
}

enum dm_code dm_ledger_attempts(struct dm_ledger *l, const char *source,
                                const char *destination, int *attempts,
                                struct dm_error *err)
{
    const char *p[2] = {source, destination};
    PGresult *res = PQexecParams(l->conn,
                                 "SELECT attempts FROM duckmig_ledger WHERE "
                                 "source = $1 AND destination = $2",
                                 2, NULL, p, NULL, NULL, 0);
    enum dm_code rc = exec_ok(l->conn, res, "read attempts", err);
    *attempts = !rc && PQntuples(res) == 1 ? (int)int_at(res, 0, 0) : 0;
    PQclear(res);
    return rc;
}

enum dm_code dm_ledger_finished(struct dm_ledger *l,
                                const struct dm_ledger_result *r,
                                struct dm_error *err)
{
    char ss[32], ds[32], at[16], secs[32];
    snprintf(ss, sizeof(ss), "%llu", (unsigned long long)r->src_size);
    snprintf(ds, sizeof(ds), "%llu", (unsigned long long)r->dst_size);
    snprintf(at, sizeof(at), "%d", r->attempts);
    snprintf(secs, sizeof(secs), "%.3f", r->seconds);
    /* PostgreSQL refuses text that is not UTF-8, and an error message
     * cut at its buffer's end may stop inside a sequence: the result
     * would be lost for one broken byte */
    char *error = r->error ? dm_utf8_lossy(r->error) : NULL;
    const char *p[13] = {r->source,
                         r->destination,
                         r->tracker,
                         r->queue,
                         dm_status_name(r->status),
                         r->src_version,
                         r->dst_version,
                         ss,
                         r->dst_size ? ds : NULL,
                         at,
                         error ? error : r->error,
                         r->verification,
                         secs};
    enum dm_code rc =
        run(l,
            "INSERT INTO duckmig_ledger (source, destination, tracker, queue, "
            "status, src_version, dst_version, src_size, dst_size, attempts, "
            "error, verification, seconds, finished_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, "
            "$13, now()) "
            "ON CONFLICT (source, destination) DO UPDATE SET "
            "tracker = COALESCE(EXCLUDED.tracker, duckmig_ledger.tracker), "
            "queue = EXCLUDED.queue, status = EXCLUDED.status, "
            "src_version = EXCLUDED.src_version, dst_version = "
            "EXCLUDED.dst_version, src_size = EXCLUDED.src_size, dst_size = "
            "EXCLUDED.dst_size, attempts = GREATEST(duckmig_ledger.attempts, "
            "EXCLUDED.attempts), error = EXCLUDED.error, verification = "
            "EXCLUDED.verification, seconds = EXCLUDED.seconds, finished_at = "
            "now(), updated_at = now()",
            13, p, "record result", err);
    free(error);
    return rc;
}

enum dm_code dm_ledger_report(struct dm_ledger *l, FILE *out, bool json,
                              struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    json_t *doc = json_object(), *counts = json_object(),
           *failures = json_array();
    PGresult *res =
        PQexec(l->conn, "SELECT status, count(*) FROM "
                        "duckmig_ledger GROUP BY status ORDER BY 1");
    rc = exec_ok(l->conn, res, "status counts", err);
    long long total = 0, pending = 0;
    for (int i = 0; !rc && i < PQntuples(res); i++) {
        long long n = int_at(res, i, 1);
        const char *st = PQgetvalue(res, i, 0);
        json_object_set_new(counts, st, json_integer(n));
        total += n;
        enum dm_status s;
        if (dm_status_parse(st, &s) &&
            (s == DM_STATUS_QUEUED || s == DM_STATUS_RUNNING ||
             s == DM_STATUS_REQUEUED))
            pending += n;
    }
    PQclear(res);
    if (rc)
        goto out;
    res = PQexec(l->conn,
                 "SELECT count(*), COALESCE(sum(src_size), 0), "
                 "EXTRACT(EPOCH FROM (max(finished_at) - min(started_at))) "
                 "FROM duckmig_ledger WHERE finished_at > now() - interval "
                 "'1 hour' AND started_at IS NOT NULL");
    rc = exec_ok(l->conn, res, "throughput", err);
    double per_hour_files = 0, rate = 0, bytes = 0;
    if (!rc && PQntuples(res) == 1) {
        per_hour_files = atof(PQgetvalue(res, 0, 0));
        bytes = atof(PQgetvalue(res, 0, 1));
        double span = atof(PQgetvalue(res, 0, 2));
        rate = span > 0 ? per_hour_files / span : 0;
    }
    PQclear(res);
    if (rc)
        goto out;
    res = PQexec(l->conn, "SELECT source, destination, status, "
                          "COALESCE(error, ''), attempts FROM duckmig_ledger "
                          "WHERE status IN ('failed', 'skipped', 'incomplete')"
                          " ORDER BY updated_at DESC LIMIT 50");
    rc = exec_ok(l->conn, res, "failures", err);
    for (int i = 0; !rc && i < PQntuples(res); i++)
        json_array_append_new(failures,
                              json_pack("{s:s, s:s, s:s, s:s, s:i}", "source",
                                        PQgetvalue(res, i, 0), "destination",
                                        PQgetvalue(res, i, 1), "status",
                                        PQgetvalue(res, i, 2), "error",
                                        PQgetvalue(res, i, 3), "attempts",
                                        (int)int_at(res, i, 4)));
    PQclear(res);
    if (rc)
        goto out;
    double eta = rate > 0 ? (double)pending / rate : -1;
    json_object_set_new(doc, "total", json_integer(total));
    json_object_set_new(doc, "counts", counts);
    counts = NULL;
    json_object_set_new(doc, "finished_last_hour",
                        json_integer((json_int_t)per_hour_files));
    json_object_set_new(doc, "files_per_second", json_real(rate));
    json_object_set_new(doc, "bytes_last_hour",
                        json_integer((json_int_t)bytes));
    json_object_set_new(doc, "pending", json_integer(pending));
    json_object_set_new(doc, "eta_seconds",
                        eta >= 0 ? json_integer((json_int_t)eta) : json_null());
    json_object_set_new(doc, "failures", failures);
    failures = NULL;
    if (json) {
        char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            fprintf(out, "%s\n", s);
        free(s);
        goto out;
    }
    fprintf(out, "files: %lld\n", total);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "counts"), k, v)
        fprintf(out, "  %-18s %lld\n", k, (long long)json_integer_value(v));
    fprintf(
        out,
        "throughput: %.0f files in the last hour (%.2f files/s, %.1f MiB)\n",
        per_hour_files, rate, bytes / 1048576.0);
    if (eta >= 0)
        fprintf(out, "pending: %lld, ETA %.0f s\n", pending, eta);
    else
        fprintf(
            out,
            "pending: %lld, ETA unknown (nothing finished in the last hour)\n",
            pending);
    size_t i;
    /* names and reasons come from files and servers: escaped */
    json_array_foreach(json_object_get(doc, "failures"), i, v)
    {
        fprintf(out, "  %s ", json_string_value(json_object_get(v, "status")));
        dm_fputs_escaped(json_string_value(json_object_get(v, "source")), out);
        fputs(" -> ", out);
        dm_fputs_escaped(json_string_value(json_object_get(v, "destination")),
                         out);
        fprintf(out, " (attempts %d): ",
                (int)json_integer_value(json_object_get(v, "attempts")));
        dm_fputs_escaped(json_string_value(json_object_get(v, "error")), out);
        fputc('\n', out);
    }
out:
    json_decref(counts);
    json_decref(failures);
    json_decref(doc);
    return rc;
}

enum dm_code dm_ledger_init(struct dm_ledger *l, const char *grant_role,
                            struct dm_error *err)
{
    PGresult *res = PQexec(l->conn, schema_sql);
    enum dm_code rc = exec_ok(l->conn, res, "create duckmig_ledger", err);
    PQclear(res);
    if (rc || !grant_role)
        return rc;
    /* a role name is an identifier: quoted by libpq, never pasted */
    char *role = PQescapeIdentifier(l->conn, grant_role, strlen(grant_role));
    if (!role)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    char *sql =
        dm_fmt("GRANT SELECT, INSERT, UPDATE ON duckmig_ledger TO %s", role);
    PQfreemem(role);
    if (!sql)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    res = PQexec(l->conn, sql);
    rc = exec_ok(l->conn, res, "grant on duckmig_ledger", err);
    PQclear(res);
    free(sql);
    return rc;
}

enum dm_code dm_ledger_setup(const char *secret_name, const char *grant_role,
                             struct dm_error *err)
{
    struct dm_secrets *secrets = NULL;
    struct dm_ledger *l = NULL;
    enum dm_code rc = dm_secrets_new(&secrets, err);
    if (!rc)
        rc = dm_ledger_open(secrets, secret_name, &l, err);
    if (!rc)
        rc = dm_ledger_init(l, grant_role, err);
    dm_ledger_close(l);
    dm_secrets_free(secrets);
    return rc;
}

/* One row, one column, as text into out ("" for none or NULL). */
static enum dm_code query_value(struct dm_ledger *l, const char *sql, int n,
                                const char *const *params, const char *what,
                                char *out, size_t outn, struct dm_error *err)
{
    PGresult *res = PQexecParams(l->conn, sql, n, NULL, params, NULL, NULL, 0);
    enum dm_code rc = exec_ok(l->conn, res, what, err);
    out[0] = '\0';
    if (!rc && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        snprintf(out, outn, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

enum dm_code dm_ledger_check_table(struct dm_ledger *l, char *fix, size_t fixn,
                                   struct dm_error *err)
{
    char user[128], v[16];
    enum dm_code rc = query_value(l, "SELECT current_user", 0, NULL,
                                  "current_user", user, sizeof(user), err);
    if (!rc)
        rc = query_value(l, "SELECT to_regclass('duckmig_ledger') IS NOT NULL",
                         0, NULL, "find duckmig_ledger", v, sizeof(v), err);
    if (rc)
        return rc;
    if (strcmp(v, "t") != 0) {
        snprintf(fix, fixn,
                 "run `duckmig ledger init --grant %s` once, as a role that "
                 "may create tables (docs/fleet.md)",
                 user);
        return dm_fail(err, DM_ERR_NOT_FOUND,
                       "the table duckmig_ledger does not exist (the search "
                       "path of role '%s')",
                       user);
    }
    /* what the runtime writes: INSERT ... ON CONFLICT DO UPDATE reads the
     * row it updates, so SELECT is needed beside INSERT and UPDATE */
    static const char *const privs[] = {"SELECT", "INSERT", "UPDATE"};
    char missing[64] = "";
    for (size_t i = 0; i < sizeof(privs) / sizeof(privs[0]); i++) {
        const char *p[1] = {privs[i]};
        rc = query_value(l, "SELECT has_table_privilege('duckmig_ledger', $1)",
                         1, p, "privileges on duckmig_ledger", v, sizeof(v),
                         err);
        if (rc)
            return rc;
        if (strcmp(v, "t") != 0)
            snprintf(missing + strlen(missing),
                     sizeof(missing) - strlen(missing), "%s%s",
                     missing[0] ? ", " : "", privs[i]);
    }
    if (missing[0]) {
        snprintf(fix, fixn,
                 "as the table's owner: GRANT SELECT, INSERT, UPDATE ON "
                 "duckmig_ledger TO %s (or `duckmig ledger init --grant %s`)",
                 user, user);
        return dm_fail(err, DM_ERR_AUTH, "role '%s' lacks %s on duckmig_ledger",
                       user, missing);
    }
    /* every column the runtime writes, in a table another program (or an
     * older duckmig) may have made */
    PGresult *res = PQexec(
        l->conn, "SELECT source, destination, tracker, queue, status, "
                 "attempts, src_version, dst_version, src_size, dst_size, "
                 "error, verification, seconds, queued_at, started_at, "
                 "finished_at, updated_at FROM duckmig_ledger LIMIT 0");
    rc = exec_ok(l->conn, res, "read duckmig_ledger", err);
    PQclear(res);
    if (rc)
        snprintf(fix, fixn,
                 "the table is not duckmig's ledger: rename it, then run "
                 "`duckmig ledger init`");
    return rc;
}

enum dm_code dm_ledger_goal(struct dm_ledger *l, const char *query,
                            struct dm_goal *out, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    memset(out, 0, sizeof(*out));
    PGresult *res = PQexec(l->conn, query);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 2) {
        char line[300];
        snprintf(line, sizeof(line), "%s",
                 PQresultStatus(res) == PGRES_TUPLES_OK
                     ? "it must return tracker id and site"
                     : PQerrorMessage(l->conn));
        line[strcspn(line, "\n")] = '\0';
        rc = dm_fail(err, DM_ERR_SQL, "GOAL_QUERY: %s", line);
        goto out;
    }
    size_t n = (size_t)PQntuples(res);
    out->rows = n ? calloc(n, sizeof(*out->rows)) : NULL;
    if (n && !out->rows) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        struct dm_goal_row *r = &out->rows[out->n++];
        for (int col = 0; col < 2; col++) {
            char **v = col == 0 ? &r->tracker : &r->site;
            if (PQgetisnull(res, i, col))
                continue;
            *v = strdup(PQgetvalue(res, i, col));
            if (!*v) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
    }
out:
    PQclear(res);
    if (rc)
        dm_goal_release(out);
    return rc;
}

void dm_goal_release(struct dm_goal *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->rows[i].tracker);
        free(g->rows[i].site);
    }
    free(g->rows);
    g->rows = NULL;
    g->n = 0;
}

enum dm_code dm_ledger_check_goal(struct dm_ledger *l, const char *query,
                                  char *fix, size_t fixn, struct dm_error *err)
{
    /* the query as publish runs it, but with no row returned, in a
     * read-only transaction: its tables, columns and grants are checked
     * and nothing can be written */
    size_t n = strlen(query);
    while (n && (query[n - 1] == ';' || query[n - 1] == ' ' ||
                 query[n - 1] == '\n' || query[n - 1] == '\t'))
        n--;
    char *sql = dm_fmt("SELECT * FROM (%.*s) AS duckmig_goal_check LIMIT 0",
                       (int)n, query);
    if (!sql)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    PGresult *res = PQexec(l->conn, "BEGIN READ ONLY");
    enum dm_code rc = exec_ok(l->conn, res, "begin", err);
    PQclear(res);
    if (!rc) {
        res = PQexec(l->conn, sql);
        rc = exec_ok(l->conn, res, "GOAL_QUERY", err);
        if (!rc && PQnfields(res) < 2)
            rc = dm_fail(err, DM_ERR_SQL,
                         "GOAL_QUERY returns %d column(s), not tracker id "
                         "and site",
                         PQnfields(res));
        PQclear(res);
        res = PQexec(l->conn, "ROLLBACK");
        PQclear(res);
    }
    if (rc)
        snprintf(fix, fixn,
                 "GRANT SELECT on the goal table to this role, or fix "
                 "GOAL_QUERY (it must return tracker id and site)");
    free(sql);
    return rc;
}
