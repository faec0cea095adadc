/*
 * creds.h - AWS credentials, as the SDKs find them on ECS Fargate.
 *
 * The chain: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), then the container credentials endpoint
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2, or
 * AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN
 * or _TOKEN_FILE). Endpoint credentials expire: they are fetched again 15
 * minutes before their Expiration, like botocore, and a failed refresh
 * keeps the old ones while they are still valid. One provider is shared by
 * every thread of a process; dm_aws_creds_get hands out a private copy.
 */
#ifndef DM_AWS_CREDS_H
#define DM_AWS_CREDS_H

#include <time.h>

#include "util/error.h"

struct dm_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    time_t expiration;   /* 0: does not expire */
};

struct dm_aws_provider;

/* Find the first source of the chain; an error when there is none. */
enum dm_code dm_aws_provider_new(struct dm_aws_provider **out,
                                 struct dm_error *err);
void dm_aws_provider_free(struct dm_aws_provider *p);

/* Valid credentials now (a copy: release it with dm_aws_creds_release). */
enum dm_code dm_aws_creds_get(struct dm_aws_provider *p,
                              struct dm_aws_creds *out, struct dm_error *err);

/* The server said ExpiredToken: fetch again on the next get. */
void dm_aws_provider_invalidate(struct dm_aws_provider *p);

void dm_aws_creds_release(struct dm_aws_creds *c);

/* The region: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1. */
const char *dm_aws_region(void);

#endif
