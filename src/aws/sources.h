/*
 * sources.h - the sources of temporary AWS credentials, one fetch each:
 * the ECS container endpoint (ecs.c), EC2 instance metadata IMDSv2
 * (imds.c) and STS AssumeRoleWithWebIdentity (sts.c), and the few HTTP
 * helpers they share (credhttp.c). creds.c picks the source and decides
 * when to fetch again; these only fetch.
 *
 * Each fetch fills a fresh struct dm_aws_creds or fails with a message
 * that names its source. DM_ERR_NETWORK means "worth another attempt"
 * (no answer, a 5xx); anything else is final.
 */
#ifndef DM_AWS_SOURCES_H
#define DM_AWS_SOURCES_H

#include <curl/curl.h>
#include <stdbool.h>
#include <time.h>

#include "aws/creds.h"
#include "util/error.h"

/* ---- credhttp.c ---- */

struct dm_creds_http {
    const char *method; /* GET, PUT, POST */
    const char *url;
    struct curl_slist *headers;
    const char *body; /* NULL: none */
    long timeout_ms;  /* connect and whole exchange */
    bool no_proxy;    /* link-local endpoints are never behind a proxy */
};

struct dm_creds_answer {
    long status;
    char *body; /* always NUL-terminated when status != 0 */
    size_t len;
};

/* One exchange. DM_ERR_NETWORK (message: curl's reason) when no answer
 * came; any status is DM_OK. */
enum dm_code dm_creds_http(const struct dm_creds_http *rq,
                           struct dm_creds_answer *ans, struct dm_error *err);

/* Wipe (it may hold keys) and free the body. */
void dm_creds_answer_release(struct dm_creds_answer *ans);

/* "2016-02-25T06:03:31Z" -> time_t; 0 when it does not parse. */
time_t dm_creds_parse_time(const char *s);

/* A small token file, whole, without its trailing newline; read at every
 * fetch because it rotates. DM_ERR_AUTH naming what when unreadable. */
enum dm_code dm_creds_read_token(const char *path, const char *what, char **out,
                                 struct dm_error *err);

/* out = copies of the strings (token may be NULL). */
enum dm_code dm_creds_set(struct dm_aws_creds *out, const char *akid,
                          const char *secret, const char *token,
                          time_t expiration, struct dm_error *err);

/* Free a string that held a secret, wiping it first. */
void dm_creds_wipe_free(char *s);

/* ---- ecs.c ---- */

struct dm_ecs_source {
    char *url;        /* the full endpoint URL */
    char *token;      /* AWS_CONTAINER_AUTHORIZATION_TOKEN */
    char *token_file; /* ..._TOKEN_FILE, read at every fetch (it rotates) */
};

enum dm_code dm_ecs_fetch(const struct dm_ecs_source *src,
                          struct dm_aws_creds *out, struct dm_error *err);

/* ---- imds.c ---- */

/* endpoint: "http://169.254.169.254" (no trailing '/') */
enum dm_code dm_imds_fetch(const char *endpoint, long timeout_ms,
                           struct dm_aws_creds *out, struct dm_error *err);

/* ---- sts.c ---- */

struct dm_web_identity {
    char *endpoint; /* STS base URL, no trailing '/' */
    char *role_arn;
    char *session_name;
    char *token_file;
};

enum dm_code dm_sts_web_identity(const struct dm_web_identity *wi,
                                 struct dm_aws_creds *out,
                                 struct dm_error *err);

#endif
