/*
 * secrets.h - secrets by name, cached like Python's SecretCache.
 *
 * A name (DB_SECRET, RABBIT_SECRET) is one of:
 *   - inline JSON, when it starts with '{' (local runs, tests);
 *   - a file path, when it starts with '/' or '.' (a mounted secret);
 *   - an AWS Secrets Manager secret id (name or ARN): GetSecretValue over
 *     SigV4 (src/aws), endpoint AWS_ENDPOINT_URL_SECRETS_MANAGER, then
 *     AWS_ENDPOINT_URL, then secretsmanager.REGION.amazonaws.com.
 * Values are JSON objects. Secrets Manager values are refreshed after a
 * TTL drawn in [ttl/2, ttl] (DUCKMIG_SECRET_TTL seconds, default 3600); a
 * refresh that fails keeps the last good value; dm_secret_invalidate
 * forces a refresh, for when a password was refused (rotation). Values
 * never reach a log or an error message.
 */
#ifndef DM_SECRETS_H
#define DM_SECRETS_H

#include <jansson.h>

#include "util/error.h"

struct dm_secrets;

enum dm_code dm_secrets_new(struct dm_secrets **out, struct dm_error *err);
void dm_secrets_free(struct dm_secrets *s);

/* The secret's JSON object (a new reference: json_decref it). */
enum dm_code dm_secret_get(struct dm_secrets *s, const char *name,
                           json_t **value, struct dm_error *err);

void dm_secret_invalidate(struct dm_secrets *s, const char *name);

#endif
