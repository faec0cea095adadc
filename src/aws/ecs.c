/*
 * ecs.c - credentials from the ECS container endpoint (sources.h): one GET
 * of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2, or of
 * _FULL_URI with the authorization token, answering JSON.
 */
#include "aws/sources.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

enum dm_code dm_ecs_fetch(const struct dm_ecs_source *src,
                          struct dm_aws_creds *out, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    enum dm_code rc = DM_OK;
    struct dm_creds_answer ans = {0};
    struct curl_slist *hdrs = NULL;
    struct dm_error e = DM_ERROR_INIT;
    char *token = NULL, *auth = NULL;
    json_t *doc = NULL;
    if (src->token_file) {
        rc = dm_creds_read_token(src->token_file, "credentials endpoint",
                                 &token, err);
        if (rc)
            goto out;
    } else if (src->token && !(token = strdup(src->token))) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (token) {
        auth = dm_fmt("Authorization: %s", token);
        struct curl_slist *h = auth ? curl_slist_append(NULL, auth) : NULL;
        if (!h) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        hdrs = h;
    }
    struct dm_creds_http rq = {"GET", src->url, hdrs, NULL, 5000, false};
    rc = dm_creds_http(&rq, &ans, &e);
    if (rc) {
        dm_fail(err, rc, "credentials endpoint: %s", e.msg);
        goto out;
    }
    if (ans.status != 200) {
        rc = dm_fail(err, ans.status >= 500 ? DM_ERR_NETWORK : DM_ERR_AUTH,
                     "credentials endpoint answered HTTP %ld", ans.status);
        goto out;
    }
    doc = json_loadb(ans.body, ans.len, 0, NULL);
    const char *akid = json_string_value(json_object_get(doc, "AccessKeyId"));
    const char *secret =
        json_string_value(json_object_get(doc, "SecretAccessKey"));
    const char *tok = json_string_value(json_object_get(doc, "Token"));
    const char *exp = json_string_value(json_object_get(doc, "Expiration"));
    if (!akid || !secret || !*akid || !*secret) {
        rc = dm_fail(err, DM_ERR_AUTH,
                     "credentials endpoint: no AccessKeyId/SecretAccessKey "
                     "in its answer");
        goto out;
    }
    rc = dm_creds_set(out, akid, secret, tok,
                      exp ? dm_creds_parse_time(exp) : 0, err);
out:
    json_decref(doc);
    dm_creds_answer_release(&ans);
    curl_slist_free_all(hdrs);
    dm_creds_wipe_free(auth);
    dm_creds_wipe_free(token);
    return rc;
}
