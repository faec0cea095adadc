/*
 * sts.c - credentials for a role through STS AssumeRoleWithWebIdentity
 * (sources.h), as on EKS with IAM roles for service accounts: the token
 * file (re-read at every fetch: the kubelet rotates it) is the proof, so
 * the request is not signed. A form POST to STS; the answer is XML,
 * parsed with libxml2 (already used for S3's answers).
 */
#include "aws/sources.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "aws/xml.h"
#include "util/str.h"

/* The text of n's child element name (xmlFree it); NULL when absent. */
static xmlChar *child_text(xmlNode *n, const char *name)
{
    xmlNode *c = dm_xml_child(n, name);
    return c ? xmlNodeGetContent(c) : NULL;
}

static void wipe_xml(xmlChar *s)
{
    if (s) {
        memset(s, 0, strlen((const char *)s));
        xmlFree(s);
    }
}

/* Clear every text of a tree (libxml2 bounds its depth to 256). */
static void wipe_tree(xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->content)
            memset(n->content, 0, strlen((const char *)n->content));
        wipe_tree(n->children);
    }
}

/* An <ErrorResponse><Error><Code>/<Message>, for the message. */
static enum dm_code sts_refusal(const struct dm_creds_answer *ans,
                                const char *role, struct dm_error *err)
{
    xmlDoc *doc = dm_xml_parse(ans->body, ans->len);
    xmlNode *e = dm_xml_child(doc ? xmlDocGetRootElement(doc) : NULL, "Error");
    xmlChar *code = child_text(e, "Code"), *msg = child_text(e, "Message");
    /* IDPCommunicationError: the identity provider did not answer STS;
     * the SDKs try again */
    bool again =
        ans->status >= 500 ||
        (code && (!strcmp((const char *)code, "IDPCommunicationError") ||
                  !strcmp((const char *)code, "Throttling")));
    enum dm_code rc = dm_fail(
        err, again ? DM_ERR_NETWORK : DM_ERR_AUTH,
        "web identity: STS AssumeRoleWithWebIdentity for role '%s' answered "
        "HTTP %ld%s%s%s%s",
        role, ans->status, code ? " " : "", code ? (const char *)code : "",
        msg ? ": " : "", msg ? (const char *)msg : "");
    xmlFree(code);
    xmlFree(msg);
    xmlFreeDoc(doc);
    return rc;
}

enum dm_code dm_sts_web_identity(const struct dm_web_identity *wi,
                                 struct dm_aws_creds *out, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    enum dm_code rc = DM_OK;
    struct dm_error e = DM_ERROR_INIT;
    struct dm_creds_answer ans = {0};
    struct curl_slist *hdrs = NULL;
    char *token = NULL, *etoken = NULL, *erole = NULL, *ename = NULL;
    char *body = NULL, *url = NULL;
    xmlDoc *doc = NULL;
    xmlChar *akid = NULL, *secret = NULL, *session = NULL, *exp = NULL;

    rc = dm_creds_read_token(wi->token_file, "web identity", &token, err);
    if (rc)
        goto out;
    etoken = dm_aws_uri_encode(token, false);
    erole = dm_aws_uri_encode(wi->role_arn, false);
    ename = dm_aws_uri_encode(wi->session_name, false);
    body = etoken && erole && ename
               ? dm_fmt("Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                        "&RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s",
                        erole, ename, etoken)
               : NULL;
    url = dm_fmt("%s/", wi->endpoint);
    hdrs = curl_slist_append(NULL,
                             "Content-Type: application/x-www-form-urlencoded");
    struct curl_slist *h = hdrs ? curl_slist_append(hdrs, "Accept: */*") : NULL;
    if (!body || !url || !h) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    hdrs = h;
    struct dm_creds_http rq = {"POST", url, hdrs, body, 10000, false};
    rc = dm_creds_http(&rq, &ans, &e);
    if (rc) {
        dm_fail(err, rc, "web identity: STS at %s: %s", wi->endpoint, e.msg);
        goto out;
    }
    if (ans.status != 200) {
        rc = sts_refusal(&ans, wi->role_arn, err);
        goto out;
    }
    doc = dm_xml_parse(ans.body, ans.len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNode *creds = dm_xml_child(
        dm_xml_child(root, "AssumeRoleWithWebIdentityResult"), "Credentials");
    akid = child_text(creds, "AccessKeyId");
    secret = child_text(creds, "SecretAccessKey");
    session = child_text(creds, "SessionToken");
    exp = child_text(creds, "Expiration");
    if (!akid || !secret || !*akid || !*secret) {
        rc = dm_fail(err, DM_ERR_AUTH,
                     "web identity: STS answered 200 without "
                     "Credentials/AccessKeyId and SecretAccessKey");
        goto out;
    }
    rc = dm_creds_set(out, (const char *)akid, (const char *)secret,
                      session && *session ? (const char *)session : NULL,
                      exp ? dm_creds_parse_time((const char *)exp) : 0, err);
out:
    xmlFree(exp);
    wipe_xml(session);
    wipe_xml(secret);
    xmlFree(akid);
    if (doc) {
        /* the document holds the keys too; libxml2 has no wiping free */
        wipe_tree(doc->children);
        xmlFreeDoc(doc);
    }
    dm_creds_answer_release(&ans);
    curl_slist_free_all(hdrs);
    free(url);
    dm_creds_wipe_free(body);
    dm_creds_wipe_free(ename);
    dm_creds_wipe_free(erole);
    dm_creds_wipe_free(etoken);
    dm_creds_wipe_free(token);
    return rc;
}
