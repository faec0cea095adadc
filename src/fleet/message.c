/* message.c - the seed's job messages (see message.h). */
#include "fleet/message.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/str.h"

const char *dm_datastore_name(enum dm_datastore ds)
{
    return ds == DM_DS_S3 ? "s3" : "efs";
}

void dm_job_release(struct dm_job_spec *job)
{
    if (!job)
        return;
    free(job->src_bucket);
    free(job->src_key);
    free(job->dst_bucket);
    free(job->dst_key);
    free(job->tracker);
    free(job->backup_suffix);
    memset(job, 0, sizeof(*job));
}

static enum dm_code datastore(json_t *msg, const char *field,
                              enum dm_datastore *ds, struct dm_error *err)
{
    json_t *v = json_object_get(msg, field);
    const char *s = json_string_value(v);
    if (!v)
        return dm_fail(err, DM_ERR_USAGE, "message: no \"%s\"", field);
    if (s && strcmp(s, "s3") == 0)
        *ds = DM_DS_S3;
    else if (s && strcmp(s, "efs") == 0)
        *ds = DM_DS_EFS;
    else
        return dm_fail(err, DM_ERR_USAGE,
                       "message: unknown %s '%.64s' (s3 or efs)", field,
                       s ? s : "(not a string)");
    return DM_OK;
}

/* A string field, copied; keys are checked against the store's rules
 * with their JSON length, so an embedded NUL cannot hide a "..". */
static enum dm_code field(json_t *msg, const char *name, bool is_key,
                          char **out, struct dm_error *err)
{
    json_t *v = json_object_get(msg, name);
    if (!v)
        return dm_fail(err, DM_ERR_USAGE, "message: no \"%s\"", name);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return dm_fail(err, DM_ERR_USAGE,
                       "message: \"%s\" is not a non-empty string", name);
    if (is_key) {
        enum dm_code rc =
            dm_key_check(json_string_value(v), json_string_length(v), err);
        if (rc)
            return rc;
    }
    *out = strndup(json_string_value(v), json_string_length(v));
    return *out ? DM_OK : dm_fail(err, DM_ERR_NOMEM, "out of memory");
}

enum dm_code dm_job_parse(const char *body, size_t len, struct dm_job_spec *job,
                          struct dm_error *err)
{
    memset(job, 0, sizeof(*job));
    json_error_t jerr;
    json_t *msg =
        json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    enum dm_code rc = DM_OK;
    if (!msg || !json_is_object(msg)) {
        rc = dm_fail(err, DM_ERR_USAGE, "message: invalid JSON: %s",
                     msg ? "not an object" : jerr.text);
        goto out;
    }
    rc = datastore(msg, "source_datastore", &job->src, err);
    if (!rc)
        rc = datastore(msg, "destination_datastore", &job->dst, err);
    if (rc)
        goto out;
    if (job->src == DM_DS_S3) {
        rc = field(msg, "source_bucket", false, &job->src_bucket, err);
        if (!rc)
            rc = field(msg, "source_key", true, &job->src_key, err);
        if (!rc)
            rc = field(msg, "tracker-id", false, &job->tracker, err);
    } else {
        rc = field(msg, "key", true, &job->src_key, err);
    }
    if (rc)
        goto out;
    if (job->dst == DM_DS_S3) {
        rc = field(msg, "destination_bucket", false, &job->dst_bucket, err);
        if (!rc)
            rc = field(msg, "dest_key", true, &job->dst_key, err);
    } else {
        /* the EFS destination is "key": the source's own key for EFS to
         * EFS (unless a "dest_key" says otherwise), the S3 to EFS
         * message's "key" otherwise */
        bool own = job->src == DM_DS_EFS && json_object_get(msg, "dest_key");
        rc = field(msg, own ? "dest_key" : "key", true, &job->dst_key, err);
    }
    if (!rc && json_object_get(msg, "backup_suffix")) {
        rc = field(msg, "backup_suffix", false, &job->backup_suffix, err);
        if (!rc)
            rc = dm_backup_suffix_check(job->backup_suffix, err);
    }
    if (!rc && !job->tracker &&
        json_is_string(json_object_get(msg, "tracker-id")))
        job->tracker =
            strdup(json_string_value(json_object_get(msg, "tracker-id")));
out:
    json_decref(msg);
    if (rc)
        dm_job_release(job);
    return rc;
}

/* o[name] = value; json_string refuses what is not UTF-8, and a message
 * without its key is no message: *ok goes false then. */
static void set_str(json_t *o, const char *name, const char *value, bool *ok)
{
    json_t *v = json_string(value ? value : "");
    if (!v || json_object_set_new(o, name, v) != 0)
        *ok = false;
}

char *dm_job_format(const struct dm_job_spec *job)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    if (!ok)
        return NULL;
    set_str(o, "source_datastore", dm_datastore_name(job->src), &ok);
    set_str(o, "destination_datastore", dm_datastore_name(job->dst), &ok);
    if (job->src == DM_DS_S3)
        set_str(o, "source_bucket", job->src_bucket, &ok);
    if (job->dst == DM_DS_S3)
        set_str(o, "destination_bucket", job->dst_bucket, &ok);
    if (job->src == DM_DS_S3 && job->tracker)
        set_str(o, "tracker-id", job->tracker, &ok);
    if (job->src == DM_DS_S3)
        set_str(o, "source_key", job->src_key, &ok);
    if (job->src == DM_DS_EFS)
        set_str(o, "key", job->src_key, &ok);
    else if (job->dst == DM_DS_EFS)
        set_str(o, "key", job->dst_key, &ok);
    if (job->dst == DM_DS_S3 ||
        (job->src == DM_DS_EFS && strcmp(job->src_key, job->dst_key) != 0))
        set_str(o, "dest_key", job->dst_key, &ok);
    if (job->backup_suffix)
        set_str(o, "backup_suffix", job->backup_suffix, &ok);
    char *s = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

enum dm_code dm_backup_suffix_check(const char *suffix, struct dm_error *err)
{
    size_t n = strlen(suffix);
    if (n == 0 || strchr(suffix, '/'))
        return dm_fail(err, DM_ERR_USAGE,
                       "backup suffix '%s': not empty, and no '/'", suffix);
    for (const unsigned char *p = (const unsigned char *)suffix; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return dm_fail(err, DM_ERR_USAGE,
                           "backup suffix: a control character");
    if ((n >= 7 && strcmp(suffix + n - 7, ".duckdb") == 0) ||
        (n >= 4 && strcmp(suffix + n - 4, ".wal") == 0))
        return dm_fail(err, DM_ERR_USAGE,
                       "backup suffix '%s' ends like a database or a WAL: a "
                       "rerun would take the backups for files to migrate",
                       suffix);
    return DM_OK;
}

char *dm_job_source_uri(const struct dm_job_spec *job)
{
    return job->src == DM_DS_S3
               ? dm_fmt("s3://%s/%s", job->src_bucket, job->src_key)
               : dm_fmt("efs:%s", job->src_key);
}

char *dm_job_dest_uri(const struct dm_job_spec *job)
{
    return job->dst == DM_DS_S3
               ? dm_fmt("s3://%s/%s", job->dst_bucket, job->dst_key)
               : dm_fmt("efs:%s", job->dst_key);
}
