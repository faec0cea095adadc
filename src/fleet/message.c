/* message.c - the seed's job messages (see message.h). */
#include "fleet/message.h"

#include <jansson.h>
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
         * EFS, the S3 to EFS message's "key" otherwise */
        rc = field(msg, "key", true, &job->dst_key, err);
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

char *dm_job_format(const struct dm_job_spec *job)
{
    json_t *o = json_object();
    json_object_set_new(o, "source_datastore",
                        json_string(dm_datastore_name(job->src)));
    json_object_set_new(o, "destination_datastore",
                        json_string(dm_datastore_name(job->dst)));
    if (job->src == DM_DS_S3)
        json_object_set_new(o, "source_bucket", json_string(job->src_bucket));
    if (job->dst == DM_DS_S3)
        json_object_set_new(o, "destination_bucket",
                            json_string(job->dst_bucket));
    if (job->src == DM_DS_S3 && job->tracker)
        json_object_set_new(o, "tracker-id", json_string(job->tracker));
    if (job->src == DM_DS_S3)
        json_object_set_new(o, "source_key", json_string(job->src_key));
    if (job->src == DM_DS_EFS)
        json_object_set_new(o, "key", json_string(job->src_key));
    else if (job->dst == DM_DS_EFS)
        json_object_set_new(o, "key", json_string(job->dst_key));
    if (job->dst == DM_DS_S3)
        json_object_set_new(o, "dest_key", json_string(job->dst_key));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
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
