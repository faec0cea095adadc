/*
 * creds.h - AWS credentials, found as the AWS SDKs find them.
 *
 * The chain, first match wins (docs/storage.md, "Credentials"):
 * 1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *    AWS_SESSION_TOKEN;
 * 2. web identity (EKS): AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN
 *    (AWS_ROLE_SESSION_NAME), through STS AssumeRoleWithWebIdentity;
 * 3. the shared files: the profile AWS_PROFILE names, else "default", in
 *    ~/.aws/credentials then ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
 *    AWS_CONFIG_FILE);
 * 4. the ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on
 *    169.254.170.2, or _FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN or
 *    _TOKEN_FILE);
 * 5. the EC2 instance role through IMDSv2, unless
 *    AWS_EC2_METADATA_DISABLED=true.
 * A source that is configured but broken (a profile asked for and absent,
 * a token file that cannot be read) is an error that names it, not a
 * skip. Temporary credentials are fetched again 15 minutes before their
 * Expiration, like botocore, and a failed refresh keeps the old ones while
 * they are still valid. One provider is shared by every thread of a
 * process; dm_aws_creds_get hands out a private copy.
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

/* The region: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's
 * region in the shared files (read once), then us-east-1. */
const char *dm_aws_region(void);

#endif
