/*
 * preflight.c - the checks of `duckmig doctor`, also run at the start of
 * consume, batch and publish (see preflight.h). Each check opens its own
 * connection and closes it: the command that follows connects again,
 * which costs a login, and keeps the checks from leaving state behind.
 */
#include "fleet/preflight.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/registry.h"
#include "fleet/job.h"
#include "fleet/publisher.h"
#include "ledger/ledger.h"
#include "queue/rabbit.h"
#include "release/release.h"
#include "secrets/secrets.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"
#include "util/text.h"
#include "util/tmpdir.h"
#include "util/settings.h"

/* The oldest target: what migrate accepts as a source (0.6, storage 39). */
#define OLDEST_TARGET_STORAGE 39

static struct dm_check *add(struct dm_preflight *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A new check, OK until said otherwise; NULL only when out of memory. */
static struct dm_check *add(struct dm_preflight *p, const char *fmt, ...)
{
    struct dm_check *c = realloc(p->checks, (p->n + 1) * sizeof(*c));
    if (!c) {
        if (!p->first)
            p->first = DM_ERR_NOMEM;
        return NULL;
    }
    p->checks = c;
    c = &p->checks[p->n++];
    memset(c, 0, sizeof(*c));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof(c->name), fmt, ap);
    va_end(ap);
    return c;
}

static void fail(struct dm_preflight *p, struct dm_check *c,
                 const struct dm_error *err, const char *fix, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct dm_preflight *p, struct dm_check *c,
                 const struct dm_error *err, const char *fix, ...)
{
    c->status = DM_CHECK_FAIL;
    c->code = err->code ? err->code : DM_ERR_GENERIC;
    snprintf(c->detail, sizeof(c->detail), "%s", err->msg);
    va_list ap;
    va_start(ap, fix);
    vsnprintf(c->fix, sizeof(c->fix), fix, ap);
    va_end(ap);
    if (!p->first)
        p->first = c->code;
}

static void skip(struct dm_check *c, const char *why)
{
    c->status = DM_CHECK_SKIP;
    snprintf(c->detail, sizeof(c->detail), "%s", why);
}

/* A secret's name as it may be shown: inline JSON holds the values */
static const char *shown_name(const char *name)
{
    return name[0] == '{' ? "(inline JSON)" : name;
}

/* ---- engine ---- */

static void check_engine(const char *spec, struct dm_preflight *p)
{
    struct dm_check *c = add(p, "engine");
    if (!c)
        return;
    struct dm_error err = DM_ERROR_INIT;
    char rel[DM_RELEASE_MAX], lib[PATH_MAX];
    uint64_t storage = 0;
    if (dm_release_normalize(spec, rel, &err) ||
        dm_target_storage(rel, NULL, &storage, &err)) {
        fail(p, c, &err,
             "set DUCKDB_MIGRATE_VERSION (or --to) to a release such as "
             "0.8.1, v0.8.1, duckdb0.8.1, 1.5.6 or latest");
        return;
    }
    if (storage < OLDEST_TARGET_STORAGE) {
        dm_fail(&err, DM_ERR_UNSUPPORTED,
                "target DuckDB %s is older than 0.6, which duckmig does "
                "not migrate to",
                rel);
        fail(p, c, &err, "pick a target of 0.6.1 or newer (the seed's: 0.8.1)");
        return;
    }
    if (dm_engine_library(rel, lib, sizeof(lib), &err)) {
        fail(p, c, &err,
             "install it: scripts/get-duckdb %s (engines folder %s; "
             "DUCKMIG_ENGINES)",
             rel, dm_engines_dir());
        return;
    }
    /* installed is not enough: the library must load and open a database
     * in a worker, as every job's will */
    struct dm_engine *e = NULL;
    enum dm_code rc = dm_engine_start(rel, &e, &err);
    if (!rc)
        rc = dm_engine_open(e, ":memory:", 0, NULL, 0, &err);
    if (!rc)
        rc = dm_engine_exec(e, "SELECT 42", &err);
    dm_engine_stop(e);
    if (rc) {
        fail(p, c, &err, "install it again: scripts/get-duckdb %s", rel);
        return;
    }
    snprintf(c->detail, sizeof(c->detail),
             "target DuckDB %s opens a database in a worker (%.900s)", rel,
             lib);
}

/* ---- secrets ---- */

static json_t *check_secret(struct dm_secrets *secrets, const char *env,
                            const char *name, struct dm_preflight *p)
{
    struct dm_check *c = add(p, "secret %s", env);
    if (!c)
        return NULL;
    json_t *v = NULL;
    struct dm_error err = DM_ERROR_INIT;
    if (dm_secret_get(secrets, name, &v, &err)) {
        if (err.code == DM_ERR_NOT_FOUND)
            fail(p, c, &err,
                 "set %s to a Secrets Manager id that exists, a file path "
                 "(starting with / or .) or inline JSON",
                 env);
        else if (err.code == DM_ERR_AUTH)
            fail(p, c, &err,
                 "give this role secretsmanager:GetSecretValue on %s's "
                 "secret (and kms:Decrypt on its key), or check the AWS "
                 "credentials",
                 env);
        else if (err.code == DM_ERR_NETWORK)
            fail(p, c, &err,
                 "check AWS_REGION (or AWS_ENDPOINT_URL_SECRETS_MANAGER) "
                 "and that this machine reaches Secrets Manager, for %s",
                 env);
        else
            fail(p, c, &err,
                 "make %s's value a JSON object (docs/fleet.md, Secrets)", env);
        return NULL;
    }
    snprintf(c->detail, sizeof(c->detail), "%s resolves", shown_name(name));
    return v;
}

/* ---- broker ---- */

static void check_broker(const struct dm_preflight_opts *o,
                         struct dm_secrets *secrets, struct dm_preflight *p)
{
    json_t *secret =
        check_secret(secrets, "RABBIT_SECRET", o->rabbit_secret, p);
    struct dm_check *c = add(p, "broker");
    struct dm_rabbit_config cfg;
    struct dm_rabbit *r = NULL;
    struct dm_error err = DM_ERROR_INIT;
    memset(&cfg, 0, sizeof(cfg));
    if (!c)
        goto out;
    if (!secret) {
        skip(c, "RABBIT_SECRET did not resolve");
        goto out;
    }
    if (dm_rabbit_config_from_json(secret, &cfg, &err)) {
        fail(p, c, &err,
             "RABBIT_SECRET holds {\"host\", \"port\", \"username\", "
             "\"password\", \"vhost\", \"tls\"?} or {\"url\": "
             "\"amqps://user:pass@host:5671/vhost\"}");
        goto out;
    }
    if (dm_rabbit_connect(&cfg, &r, &err)) {
        bool tls = strstr(err.msg, "SSL") || strstr(err.msg, "TLS") ||
                   strstr(err.msg, "CA ");
        const char *fix =
            err.code == DM_ERR_NOT_FOUND
                ? "set \"vhost\" in RABBIT_SECRET to a vhost the broker has "
                  "(rabbitmqctl list_vhosts), or add it there"
            : tls ? "check \"tls\", \"cacert\" and \"port\" in "
                    "RABBIT_SECRET (5671 speaks TLS, 5672 does not); the "
                    "certificate must name the host"
            : err.code == DM_ERR_AUTH
                ? "check \"username\" and \"password\" in RABBIT_SECRET, "
                  "and the user's permissions on the vhost (rabbitmqctl "
                  "list_permissions -p VHOST)"
                : "check \"host\" and \"port\" in RABBIT_SECRET, that the "
                  "broker runs, and that this machine reaches it "
                  "(security groups)";
        if (o->broker_may_be_down && err.code == DM_ERR_NETWORK && !tls) {
            snprintf(c->detail, sizeof(c->detail),
                     "not reachable now (%.700s): the queue and its "
                     "checks wait for the connection",
                     err.msg);
            c->status = DM_CHECK_SKIP;
            goto out;
        }
        fail(p, c, &err, "%s", fix);
        goto out;
    }
    snprintf(c->detail, sizeof(c->detail),
             "logged in as '%s' on vhost '%s' at %s:%d (%s)", cfg.username,
             cfg.vhost, cfg.host, cfg.port, cfg.tls ? "amqps" : "amqp");
    for (size_t i = 0; i < 3 && o->queues[i]; i++) {
        const char *q = o->queues[i];
        struct dm_check *qc = add(p, "queue %s", q);
        bool exists = false;
        uint32_t messages = 0, consumers = 0;
        dm_error_clear(&err);
        if (!qc)
            break;
        if (dm_rabbit_queue_check(r, q, &exists, &messages, &consumers, &err)) {
            fail(p, qc, &err, "check the broker's log for why");
            break; /* the connection is in doubt */
        }
        if (exists) {
            snprintf(qc->detail, sizeof(qc->detail),
                     "present: %u ready, %u consumers", messages, consumers);
        } else if (o->queues_required) {
            dm_fail(&err, DM_ERR_NOT_FOUND,
                    "queue '%s' does not exist on vhost '%s'", q, cfg.vhost);
            fail(p, qc, &err,
                 "check QUEUE_NAME (rabbitmqctl list_queues -p %s); the "
                 "queues are declared by `duckmig publish`, run it first",
                 cfg.vhost);
        } else {
            snprintf(qc->detail, sizeof(qc->detail),
                     "absent; publish declares it");
        }
    }
out:
    dm_rabbit_close(r);
    dm_rabbit_config_release(&cfg);
    json_decref(secret);
}

/* ---- database ---- */

static void check_database(const struct dm_preflight_opts *o,
                           struct dm_secrets *secrets, struct dm_preflight *p)
{
    json_t *secret = check_secret(secrets, "DB_SECRET", o->db_secret, p);
    struct dm_check *c = add(p, "database");
    struct dm_ledger *l = NULL;
    struct dm_error err = DM_ERROR_INIT;
    if (!c)
        goto out;
    if (!secret) {
        skip(c, "DB_SECRET did not resolve");
        goto out;
    }
    if (dm_ledger_open(secrets, o->db_secret, &l, &err)) {
        fail(p, c, &err, "%s",
             err.code == DM_ERR_AUTH
                 ? "check \"username\" and \"password\" in DB_SECRET"
                 : "check \"host\", \"port\", \"dbname\" and \"sslmode\" in "
                   "DB_SECRET, that the database runs, and that this "
                   "machine reaches it (security groups)");
        goto out;
    }
    PGconn *pg = dm_ledger_conn(l);
    snprintf(c->detail, sizeof(c->detail),
             "connected as '%s' to database '%s' at %s:%s", PQuser(pg),
             PQdb(pg), PQhost(pg), PQport(pg));
    char fix[512];
    if (o->goal_query) {
        struct dm_check *g = add(p, "goal query");
        if (g && dm_ledger_check_goal(l, o->goal_query, fix, sizeof(fix), &err))
            fail(p, g, &err, "%s", fix);
        else if (g)
            snprintf(g->detail, sizeof(g->detail),
                     "GOAL_QUERY runs and returns tracker id and site");
        dm_error_clear(&err);
    }
    if (o->ledger) {
        struct dm_check *lc = add(p, "ledger");
        if (lc && dm_ledger_check_table(l, fix, sizeof(fix), &err))
            fail(p, lc, &err, "%s", fix);
        else if (lc)
            snprintf(lc->detail, sizeof(lc->detail),
                     "duckmig_ledger: SELECT, INSERT, UPDATE granted to '%s'",
                     PQuser(pg));
    }
out:
    dm_ledger_close(l);
    json_decref(secret);
}

/* ---- stores ---- */

struct first_object {
    char *key;
};

static int take_first(const struct dm_object *obj, void *ud)
{
    struct first_object *f = ud;
    if (obj->problem)
        return 0;
    f->key = strdup(obj->key);
    return 1;
}

static const char *store_fix(const struct dm_preflight_store *s,
                             enum dm_code code)
{
    if (s->ds == DM_DS_EFS)
        return code == DM_ERR_NOT_FOUND
                   ? "mount the EFS file system there, or set MIGRATE_SRC / "
                     "MIGRATE_DST (or the location given) to where it is"
                   : "give this user read and write permission on the "
                     "folder (the task's uid, the EFS access point)";
    switch (code) {
    case DM_ERR_NOT_FOUND:
        return "check the bucket's name (SOURCE_BUCKET, DESTINATION_BUCKET, "
               "or the location given) and AWS_REGION";
    case DM_ERR_AUTH:
        return "check the AWS credentials, and that the role may "
               "s3:ListBucket and s3:GetObject on a source, s3:PutObject "
               "and s3:DeleteObject on a destination";
    case DM_ERR_NETWORK:
        return "check AWS_REGION / AWS_ENDPOINT_URL_S3 and that this "
               "machine reaches S3 (a VPC endpoint, security groups)";
    default:
        return "see the error above";
    }
}

/* Write a probe object under a name of duckmig's own, then delete it. */
static enum dm_code probe_write(struct dm_store *st, const char *prefix,
                                char *key_out, size_t keyn,
                                struct dm_error *err)
{
    char local[PATH_MAX], host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    for (char *h = host; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
              (*h >= '0' && *h <= '9') || *h == '-' || *h == '.'))
            *h = '_';
    snprintf(local, sizeof(local), "%s/duckmig-probe-XXXXXX",
             dm_setting(DM_SET_TMPDIR));
    snprintf(key_out, keyn, "%s.duckmig-probe-%s-%ld", prefix, host,
             (long)getpid());
    int fd = mkstemp(local);
    if (fd < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno,
                             "cannot make a local probe file in '%s'",
                             dm_setting(DM_SET_TMPDIR));
    static const char text[] = "written by duckmig doctor, then deleted\n";
    enum dm_code rc = DM_OK;
    if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", local);
    close(fd);
    struct dm_object put;
    memset(&put, 0, sizeof(put));
    if (!rc)
        rc = dm_store_put(st, local, key_out, &put, NULL, err);
    dm_object_release(&put);
    unlink(local);
    if (!rc)
        rc = dm_store_remove(st, key_out, err);
    return rc;
}

static void check_store(const struct dm_preflight_store *s, bool no_write,
                        struct dm_preflight *p)
{
    struct dm_check *c = add(p, "%s", s->label);
    struct dm_store *st = NULL;
    struct first_object first = {NULL};
    struct dm_error err = DM_ERROR_INIT;
    if (!c)
        return;
    if (s->skip) {
        skip(c, s->skip);
        return;
    }
    enum dm_code rc = dm_datastore_open(s->ds, s->bucket, s->write, &st, &err);
    if (rc) {
        fail(p, c, &err, "%s", store_fix(s, err.code));
        return;
    }
    char where[400];
    size_t nl = strlen(st->name);
    if (s->ds == DM_DS_S3)
        snprintf(where, sizeof(where), "s3://%.100s/%.250s", s->bucket,
                 s->prefix);
    else
        snprintf(where, sizeof(where), "%.200s%s%.150s", st->name,
                 nl && st->name[nl - 1] == '/' ? "" : "/", s->prefix);
    if (s->write) {
        char key[PATH_MAX];
        if (no_write) {
            skip(c, "a dry run writes nothing");
            snprintf(c->detail, sizeof(c->detail),
                     "%s: not written (a dry run writes nothing)", where);
        } else if (probe_write(st, s->prefix, key, sizeof(key), &err)) {
            fail(p, c, &err, "%s", store_fix(s, err.code));
        } else {
            snprintf(c->detail, sizeof(c->detail),
                     "%s takes a write and a delete (%.500s)", where, key);
        }
        goto out;
    }
    rc = dm_store_list(st, s->prefix, take_first, &first, &err);
    if (!rc && first.key) {
        /* a listing proves ListBucket; a HEAD of one object proves that
         * objects can be read (GetObject) */
        struct dm_object o;
        memset(&o, 0, sizeof(o));
        rc = dm_store_stat(st, first.key, &o, &err);
        dm_object_release(&o);
    }
    if (rc) {
        fail(p, c, &err, "%s", store_fix(s, err.code));
        goto out;
    }
    snprintf(c->detail, sizeof(c->detail), "%s lists and reads%s", where,
             first.key ? "" : " (nothing under it yet)");
out:
    free(first.key);
    dm_store_close(st);
}

static void check_download(const char *dir, struct dm_preflight *p)
{
    struct dm_check *c = add(p, "download");
    if (!c)
        return;
    char *made = NULL;
    int lockfd = -1;
    struct dm_error err = DM_ERROR_INIT;
    if (dm_tmpdir_create(dir, "doctor-", &made, &lockfd, &err)) {
        fail(p, c, &err,
             "set BATCH_DOWNLOAD to a folder this user may write, on a "
             "volume with room for the largest file, twice");
        return;
    }
    dm_tmpdir_remove(made, lockfd);
    free(made);
    snprintf(c->detail, sizeof(c->detail), "%s takes a job folder", dir);
}

/* ---- the whole ---- */

enum dm_code dm_preflight_run(const struct dm_preflight_opts *o,
                              struct dm_preflight *p)
{
    memset(p, 0, sizeof(*p));
    struct dm_secrets *own = NULL, *secrets = o->secrets;
    struct dm_error err = DM_ERROR_INIT;
    if (!secrets && (o->rabbit_secret || o->db_secret)) {
        if (dm_secrets_new(&own, &err)) {
            struct dm_check *c = add(p, "secrets");
            if (c)
                fail(p, c, &err, "see the error");
            return p->first;
        }
        secrets = own;
    }
    if (o->release)
        check_engine(o->release, p);
    const char *accept = dm_setting(DM_SET_ACCEPT_INCOMPLETE);
    if (o->release && accept) {
        struct dm_check *c = add(p, "accept incomplete");
        if (c && dm_job_accept_check(accept, &err))
            fail(p, c, &err,
                 "list only all, external, changed or report kinds, "
                 "comma-separated");
        else if (c)
            snprintf(c->detail, sizeof(c->detail),
                     "incomplete results of these classes are shipped: %.900s",
                     accept);
    }
    if (o->rabbit_secret)
        check_broker(o, secrets, p);
    if (o->db_secret) {
        check_database(o, secrets, p);
    } else if (o->ledger) {
        struct dm_check *c = add(p, "database");
        if (c)
            skip(c, "DB_SECRET not set: outcomes are only logged");
    }
    for (size_t i = 0; i < o->nstores && i < DM_PREFLIGHT_STORES; i++)
        check_store(&o->stores[i], o->no_write, p);
    if (o->download && !o->no_write)
        check_download(o->download, p);
    dm_secrets_free(own);
    return p->first;
}

void dm_preflight_release(struct dm_preflight *p)
{
    free(p->checks);
    memset(p, 0, sizeof(*p));
}

static const char *status_word(enum dm_check_status s)
{
    return s == DM_CHECK_OK ? "ok" : s == DM_CHECK_SKIP ? "skip" : "FAIL";
}

void dm_preflight_print(const struct dm_preflight *p, FILE *out)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct dm_check *c = &p->checks[i];
        fprintf(out, "%-4s  %s: ", status_word(c->status), c->name);
        /* details quote servers and secrets' names: escaped */
        dm_fputs_escaped(c->detail, out);
        if (c->status == DM_CHECK_FAIL) {
            fputs("; fix: ", out);
            dm_fputs_escaped(c->fix, out);
        }
        fputc('\n', out);
    }
}

json_t *dm_preflight_json(const struct dm_preflight *p)
{
    json_t *checks = json_array();
    for (size_t i = 0; checks && i < p->n; i++) {
        const struct dm_check *c = &p->checks[i];
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:s?}", "name", c->name, "status",
                      c->status == DM_CHECK_OK     ? "ok"
                      : c->status == DM_CHECK_SKIP ? "skipped"
                                                   : "failed",
                      "detail", c->detail, "fix",
                      c->status == DM_CHECK_FAIL ? c->fix : NULL);
        if (j && c->status == DM_CHECK_FAIL) {
            json_object_set_new(j, "code", json_string(dm_code_name(c->code)));
            json_object_set_new(j, "exit", json_integer(c->code));
        }
        json_array_append_new(checks, j);
    }
    return json_pack("{s:i, s:b, s:i, s:o}", "schema_version", 1, "ok",
                     p->first == DM_OK, "exit", (int)p->first, "checks",
                     checks);
}

enum dm_code dm_preflight_command(const struct dm_preflight_opts *o,
                                  const char *cmd)
{
    struct dm_preflight p;
    enum dm_code rc = dm_preflight_run(o, &p);
    char passed[256] = "";
    for (size_t i = 0; i < p.n; i++) {
        const struct dm_check *c = &p.checks[i];
        if (c->status == DM_CHECK_OK) {
            dm_debug(cmd, "check %s: %s", c->name, c->detail);
            size_t at = strlen(passed);
            snprintf(passed + at, sizeof(passed) - at, "%s%s", at ? ", " : "",
                     c->name);
        } else if (c->status == DM_CHECK_SKIP) {
            dm_debug(cmd, "check %s skipped: %s", c->name, c->detail);
        }
        if (c->status != DM_CHECK_FAIL)
            continue;
        fprintf(stderr, "duckmig: %s: %s: ", cmd, c->name);
        dm_fputs_escaped(c->detail, stderr);
        fputs("; fix: ", stderr);
        dm_fputs_escaped(c->fix, stderr);
        fputc('\n', stderr);
    }
    if (rc == DM_ERR_NOMEM && !p.n)
        fprintf(stderr, "duckmig: %s: out of memory\n", cmd);
    else if (!rc)
        dm_info(cmd, "checks passed: %s (duckmig doctor tells more)", passed);
    dm_preflight_release(&p);
    return rc;
}

/* ---- what each command needs ---- */

void dm_preflight_consume_opts(struct dm_preflight_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->release = dm_setting(DM_SET_MIGRATE_VERSION);
    o->rabbit_secret = dm_setting(DM_SET_RABBIT_SECRET);
    o->queues[0] = dm_setting(DM_SET_QUEUE_NAME);
    o->queues_required = true;
    o->db_secret = dm_setting_given_value(DM_SET_DB_SECRET);
    o->ledger = true;
    o->download = dm_setting(DM_SET_BATCH_DOWNLOAD);
    /* messages name their own buckets: a consumer checks the stores its
     * environment names, and says which it could not */
    struct dm_preflight_store *s = o->stores;
    s[0] = (struct dm_preflight_store){
        "source S3",
        false,
        DM_DS_S3,
        dm_setting_given_value(DM_SET_SOURCE_BUCKET),
        "tracker-migration/",
        NULL};
    if (!dm_setting_given_value(DM_SET_SOURCE_BUCKET))
        s[0].skip = "SOURCE_BUCKET not set (messages name their bucket)";
    s[1] = (struct dm_preflight_store){"source EFS", false, DM_DS_EFS,
                                       NULL,         "",    NULL};
    if (!dm_setting_given_value(DM_SET_MIGRATE_SRC))
        s[1].skip = "MIGRATE_SRC not set";
    s[2] = (struct dm_preflight_store){
        "destination S3",
        true,
        DM_DS_S3,
        dm_setting_given_value(DM_SET_DESTINATION_BUCKET),
        "",
        NULL};
    if (!dm_setting_given_value(DM_SET_DESTINATION_BUCKET))
        s[2].skip = "DESTINATION_BUCKET not set (messages name their bucket)";
    s[3] = (struct dm_preflight_store){
        "destination EFS", true, DM_DS_EFS, NULL, "", NULL};
    if (!dm_setting_given_value(DM_SET_MIGRATE_DST))
        s[3].skip = "MIGRATE_DST not set";
    o->nstores = 4;
}

void dm_preflight_publish_opts(struct dm_preflight_opts *o,
                               enum dm_datastore from, bool dry_run)
{
    memset(o, 0, sizeof(*o));
    o->rabbit_secret = dm_setting(DM_SET_RABBIT_SECRET);
    o->queues[0] = dm_setting(DM_SET_QUEUE_SMALL);
    o->queues[1] = dm_setting(DM_SET_QUEUE_BIG);
    o->db_secret = dm_setting(DM_SET_DB_SECRET);
    /* the publisher's default, which these checks must run as it does */
    o->goal_query = dm_setting(DM_SET_GOAL_QUERY);
    o->ledger = true;
    o->no_write = dry_run;
    o->stores[0] = (struct dm_preflight_store){
        "source",
        false,
        from,
        from == DM_DS_S3 ? dm_setting(DM_SET_SOURCE_BUCKET) : NULL,
        from == DM_DS_S3 ? "tracker-migration/" : "",
        NULL};
    o->nstores = 1;
}

void dm_preflight_batch_opts(struct dm_preflight_opts *o, const char *release,
                             enum dm_datastore src, const char *src_bucket,
                             const char *src_prefix, enum dm_datastore dst,
                             const char *dst_bucket, const char *dst_prefix)
{
    memset(o, 0, sizeof(*o));
    o->release = release ? release : dm_setting(DM_SET_MIGRATE_VERSION);
    o->stores[0] = (struct dm_preflight_store){"source",   false,      src,
                                               src_bucket, src_prefix, NULL};
    o->stores[1] = (struct dm_preflight_store){"destination", true,       dst,
                                               dst_bucket,    dst_prefix, NULL};
    o->nstores = 2;
}

void dm_preflight_fleet_opts(struct dm_preflight_opts *o,
                             enum dm_datastore from)
{
    struct dm_preflight_opts pub;
    dm_preflight_publish_opts(&pub, from, false);
    dm_preflight_consume_opts(o);
    /* the publisher's side: its queues (not there before the first
     * publish), its database and goal query, its source */
    o->queues[0] = pub.queues[0];
    o->queues[1] = pub.queues[1];
    const char *own = dm_setting_given_value(DM_SET_QUEUE_NAME);
    if (own && strcmp(own, pub.queues[0]) != 0 &&
        strcmp(own, pub.queues[1]) != 0)
        o->queues[2] = own;
    o->queues_required = false;
    o->db_secret = pub.db_secret;
    o->goal_query = pub.goal_query;
    if (from == DM_DS_S3) {
        o->stores[0].bucket = pub.stores[0].bucket;
        o->stores[0].skip = NULL;
    } else {
        o->stores[1].skip = NULL;
    }
    /* the machine doctor runs on is seldom a consumer's */
    if (!dm_setting_given_value(DM_SET_BATCH_DOWNLOAD))
        o->download = NULL;
}

enum dm_code dm_doctor(enum dm_preflight_for what, enum dm_datastore from,
                       bool json, FILE *out)
{
    struct dm_preflight_opts o;
    if (what == DM_PREFLIGHT_CONSUME)
        dm_preflight_consume_opts(&o);
    else if (what == DM_PREFLIGHT_PUBLISH)
        dm_preflight_publish_opts(&o, from, false);
    else
        dm_preflight_fleet_opts(&o, from);
    struct dm_preflight p;
    enum dm_code rc = dm_preflight_run(&o, &p);
    if (json) {
        json_t *j = dm_preflight_json(&p);
        char *text =
            j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            fprintf(out, "%s\n", text);
        else if (!rc)
            rc = DM_ERR_NOMEM;
        free(text);
        json_decref(j);
    } else {
        dm_preflight_print(&p, out);
        size_t failed = 0;
        for (size_t i = 0; i < p.n; i++)
            failed += p.checks[i].status == DM_CHECK_FAIL;
        if (failed)
            fprintf(out, "%zu check%s failed (exit %d)\n", failed,
                    failed == 1 ? "" : "s", (int)rc);
        else
            fprintf(out, "all checks passed\n");
    }
    dm_preflight_release(&p);
    return rc;
}
