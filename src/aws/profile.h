/*
 * profile.h - the AWS shared files: ~/.aws/credentials and ~/.aws/config.
 *
 * A small INI reader (the subset the AWS SDKs agree on) and, on top of it,
 * the lookup of one profile's static keys and region. The credentials file
 * names a profile "[name]"; the config file "[profile name]", except the
 * default profile, which is "[default]" there too. Paths come from
 * AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE (a leading "~/" is the
 * home folder), the profile from AWS_PROFILE, else "default".
 */
#ifndef DM_AWS_PROFILE_H
#define DM_AWS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/creds.h"
#include "util/error.h"

/*
 * A parsed INI file. Rules (those of botocore's files, minus its rarely
 * used ':' separator):
 * - "[name]" starts a section; the name is trimmed and runs of blanks in
 *   it become one space ("[profile   x]" is "profile x");
 * - "key = value", the key trimmed and compared without case, the value
 *   trimmed; an empty value is no value; the last one wins;
 * - a line that starts with '#' or ';' is a comment, and so is the rest of
 *   a line from a '#' or ';' that follows a blank (no secret key holds
 *   " #");
 * - an indented line after a key continues that key (the config file's
 *   nested "s3 =" settings): it is skipped, never read as a key;
 * - anything else (a key before any section, "[x" without ']', a line
 *   without '=') is an error naming the file and line.
 */
struct dm_ini;

/* Parse text (len bytes; NUL bytes are refused). name is for messages. */
enum dm_code dm_ini_parse(const char *text, size_t len, const char *name,
                          struct dm_ini **out, struct dm_error *err);

/* Read and parse a file; *out is NULL (and DM_OK) when it does not exist. */
enum dm_code dm_ini_load(const char *path, struct dm_ini **out,
                         struct dm_error *err);

bool dm_ini_has_section(const struct dm_ini *ini, const char *section);

/* The value of key in section; NULL when absent or empty. */
const char *dm_ini_get(const struct dm_ini *ini, const char *section,
                       const char *key);

void dm_ini_free(struct dm_ini *ini);

/* The shared files' paths, malloc'd (NULL only when out of memory). */
char *dm_aws_credentials_path(void);
char *dm_aws_config_path(void);

/* The profile in use: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else
 * "default"; *asked says whether somebody named it. */
const char *dm_aws_profile_name(bool *asked);

/*
 * The static keys of profile name, from the credentials file, else the
 * config file (the first that has aws_access_key_id wins, as in botocore).
 * DM_OK with out->access_key_id NULL when no file has the profile, or it
 * holds no credential setting at all, and asked is false: the chain goes
 * on. An error (DM_ERR_AUTH) when the profile was asked for and is not
 * there or has no keys, has a key without its secret, or uses what duckmig
 * does not implement (role_arn, credential_process, SSO); and when a file
 * cannot be read or parsed. *where describes the source ("profile 'x' in
 * /root/.aws/credentials") when keys were found.
 */
enum dm_code dm_aws_profile_creds(const char *name, bool asked,
                                  const char *cred_path,
                                  const char *config_path,
                                  struct dm_aws_creds *out, char **where,
                                  struct dm_error *err);

/* The profile's region from the config file, else from the credentials
 * file (botocore reads both), malloc'd; NULL when there is none, or a file
 * cannot be read or parsed (the credentials lookup reports that). */
char *dm_aws_profile_region(const char *name, const char *cred_path,
                            const char *config_path);

#endif
