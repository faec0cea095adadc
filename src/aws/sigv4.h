/*
 * sigv4.h - AWS Signature Version 4, on OpenSSL.
 *
 * Our own signer rather than libcurl's CURLOPT_AWS_SIGV4: curl 7.88 signs
 * paths and queries verbatim and skips headers S3 requires (x-amz-date
 * with a session token, x-amz-content-sha256; docs/storage.md), so the
 * caller would have to produce the canonical form anyway. Here the caller hands
 * over the pieces, already encoded by dm_aws_uri_encode and dm_sigv4_query, and
 * gets back the Authorization header. Nothing here does I/O; the unit tests
 * check it against AWS's published examples.
 */
#ifndef DM_AWS_SIGV4_H
#define DM_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/error.h"

struct dm_http_header {
    const char *name; /* any case; signed lowercased */
    const char *value;
};

struct dm_query_param {
    const char *name; /* raw, encoded by dm_sigv4_query */
    const char *value;
};

struct dm_sigv4_request {
    const char *method;
    const char *path;  /* URI-encoded, starts with '/' */
    const char *query; /* canonical (dm_sigv4_query), "" when none */
    const struct dm_http_header *headers; /* every header to sign, host too */
    size_t nheaders;
    const char *payload_hash; /* hex sha256 or "UNSIGNED-PAYLOAD" */
};

struct dm_sigv4_scope {
    const char *region;
    const char *service;  /* "s3", "secretsmanager" */
    const char *amz_date; /* YYYYMMDDTHHMMSSZ, as sent in x-amz-date */
};

/* The hex sha256 of the empty string: the payload hash of a bodiless call. */
extern const char dm_sha256_empty[];

/*
 * AWS's UriEncode: A-Z a-z 0-9 - _ . ~ stay, everything else becomes %XX in
 * upper case; '/' stays when keep_slash (S3 object paths). Malloc'd string.
 */
char *dm_aws_uri_encode(const char *s, bool keep_slash);

/* "name=value&..." with names and values encoded, sorted by name (then
 * value). A NULL value is written "name=": S3 wants "?uploads=". */
char *dm_sigv4_query(const struct dm_query_param *params, size_t n);

/* The canonical request, for tests and for debugging a 403. */
char *dm_sigv4_canonical_request(const struct dm_sigv4_request *req);

/*
 * The Authorization header's value for req, signed with the given key.
 * The secret never leaves this function, not even in an error message.
 */
enum dm_code dm_sigv4_sign(const struct dm_sigv4_request *req,
                           const struct dm_sigv4_scope *scope,
                           const char *access_key_id,
                           const char *secret_access_key, char **authorization,
                           struct dm_error *err);

/* t as x-amz-date wants it: 20150830T123600Z (UTC). */
void dm_amz_date(time_t t, char out[17]);

/* Digests as text: lower-case hex, and base64 for Content-MD5. */
void dm_sha256_hex(const void *data, size_t len, char out[65]);
void dm_hex(const unsigned char *bytes, size_t n, char *out);
void dm_base64(const unsigned char *bytes, size_t n, char *out, size_t cap);

#endif
