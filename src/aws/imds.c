/*
 * imds.c - credentials of the EC2 instance role through IMDSv2 (sources.h):
 * PUT /latest/api/token for a session token, then, with it, GET
 * /latest/meta-data/iam/security-credentials/ for the role's name and
 * .../<role> for its keys. Only v2: an instance that requires tokens (the
 * default on new ones) refuses v1, and v2 cannot be reached through a
 * server-side request forgery that only makes GETs.
 */
#include "aws/sources.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

#define CREDS_PATH "/latest/meta-data/iam/security-credentials/"

/* A role name as IAM allows it: nothing that could leave the path. */
static bool role_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("+=,.@_-", *s)))
            return false;
    return true;
}

/* One GET or PUT; a refusal is DM_ERR_AUTH naming step, a 5xx is
 * DM_ERR_NETWORK. */
static enum dm_code call(const char *method, const char *url,
                         struct curl_slist *hdrs, long timeout_ms,
                         const char *step, struct dm_creds_answer *ans,
                         struct dm_error *err)
{
    struct dm_error e = DM_ERROR_INIT;
    struct dm_creds_http rq = {
        method,     url, hdrs, strcmp(method, "PUT") == 0 ? "" : NULL,
        timeout_ms, true};
    enum dm_code rc = dm_creds_http(&rq, ans, &e);
    if (rc)
        return dm_fail(err, rc, "%s: %s", step, e.msg);
    if (ans->status == 200)
        return DM_OK;
    rc = ans->status >= 500 ? DM_ERR_NETWORK : DM_ERR_AUTH;
    if (ans->status == 404 && strcmp(step, "role list") == 0)
        dm_fail(err, rc,
                "no IAM role is attached to this instance (%s: "
                "HTTP 404)",
                step);
    else
        dm_fail(err, rc, "%s answered HTTP %ld", step, ans->status);
    dm_creds_answer_release(ans);
    return rc;
}

enum dm_code dm_imds_fetch(const char *endpoint, long timeout_ms,
                           struct dm_aws_creds *out, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    enum dm_code rc = DM_OK;
    struct dm_error e = DM_ERROR_INIT;
    struct dm_creds_answer ans = {0};
    struct curl_slist *put_hdrs = NULL, *hdrs = NULL;
    char *url = NULL, *token_hdr = NULL, *role = NULL;
    json_t *doc = NULL;

    /* 1. the session token, good for 6 hours (the SDKs' value) */
    put_hdrs =
        curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    url = dm_fmt("%s/latest/api/token", endpoint);
    if (!put_hdrs || !url) {
        rc = dm_fail(&e, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = call("PUT", url, put_hdrs, timeout_ms, "token request", &ans, &e);
    if (rc)
        goto out;
    size_t n = ans.len;
    while (n && (ans.body[n - 1] == '\n' || ans.body[n - 1] == '\r'))
        n--;
    if (!n || memchr(ans.body, '\n', n) || memchr(ans.body, '\r', n)) {
        rc = dm_fail(&e, DM_ERR_AUTH, "token request: not a token");
        goto out;
    }
    token_hdr = dm_fmt("X-aws-ec2-metadata-token: %.*s", (int)n, ans.body);
    dm_creds_answer_release(&ans);
    hdrs = token_hdr ? curl_slist_append(NULL, token_hdr) : NULL;
    if (!hdrs) {
        rc = dm_fail(&e, DM_ERR_NOMEM, "out of memory");
        goto out;
    }

    /* 2. the role's name: the first line of the list */
    free(url);
    url = dm_fmt("%s" CREDS_PATH, endpoint);
    if (!url) {
        rc = dm_fail(&e, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = call("GET", url, hdrs, timeout_ms, "role list", &ans, &e);
    if (rc)
        goto out;
    role = strndup(ans.body, strcspn(ans.body, "\r\n"));
    dm_creds_answer_release(&ans);
    if (!role) {
        rc = dm_fail(&e, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!role_name_ok(role)) {
        rc = dm_fail(&e, DM_ERR_AUTH,
                     *role ? "role list: not a role name"
                           : "no IAM role is attached to this instance");
        goto out;
    }

    /* 3. the role's credentials */
    free(url);
    url = dm_fmt("%s" CREDS_PATH "%s", endpoint, role);
    if (!url) {
        rc = dm_fail(&e, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = call("GET", url, hdrs, timeout_ms, "role credentials", &ans, &e);
    if (rc)
        goto out;
    doc = json_loadb(ans.body, ans.len, 0, NULL);
    const char *code = json_string_value(json_object_get(doc, "Code"));
    const char *akid = json_string_value(json_object_get(doc, "AccessKeyId"));
    const char *secret =
        json_string_value(json_object_get(doc, "SecretAccessKey"));
    const char *tok = json_string_value(json_object_get(doc, "Token"));
    const char *exp = json_string_value(json_object_get(doc, "Expiration"));
    if (code && strcmp(code, "Success") != 0) {
        rc = dm_fail(&e, DM_ERR_AUTH, "role '%s': Code %s", role, code);
        goto out;
    }
    if (!akid || !secret || !*akid || !*secret) {
        rc = dm_fail(&e, DM_ERR_AUTH,
                     "role '%s': no AccessKeyId/SecretAccessKey in the answer",
                     role);
        goto out;
    }
    rc = dm_creds_set(out, akid, secret, tok,
                      exp ? dm_creds_parse_time(exp) : 0, &e);
out:
    if (rc)
        dm_fail(err, rc, "EC2 instance metadata (%s): %s", endpoint, e.msg);
    json_decref(doc);
    dm_creds_answer_release(&ans);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(put_hdrs);
    dm_creds_wipe_free(token_hdr);
    free(role);
    free(url);
    return rc;
}
