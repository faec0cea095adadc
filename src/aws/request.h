/*
 * request.h - one signed HTTP request to an AWS service, over libcurl.
 *
 * S3 and Secrets Manager both go through here: it adds x-amz-date, the
 * session token and the payload hash, signs with sigv4.c, streams the body
 * from memory or from a range of a file, and streams a successful answer's
 * body into a range of a file (or memory). It makes exactly one attempt;
 * the caller knows which answers deserve another (dm_aws_backoff sleeps
 * between them).
 */
#ifndef DM_AWS_REQUEST_H
#define DM_AWS_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "aws/creds.h"
#include "aws/sigv4.h"
#include "util/progress.h"

struct dm_aws_request {
    const char *method;
    const char *base_url; /* "https://host[:port]", no trailing '/' */
    const char *host;     /* the Host header: host[:port] */
    const char *path;     /* URI-encoded */
    const char *query;    /* canonical (dm_sigv4_query), "" when none */
    const char *service;
    const char *region;
    const struct dm_http_header *headers; /* more headers, signed too */
    size_t nheaders;
    const char *payload_hash; /* NULL: sha256 of a memory body, or
                                 UNSIGNED-PAYLOAD for a file body */
    bool s3;                  /* send x-amz-content-sha256 */
    /* the body: memory when body is set, else a file range when body_fd
     * >= 0, else none */
    const char *body;
    size_t body_len;
    int body_fd;
    uint64_t body_off, body_size;
    bool send_body; /* also send an empty body (PUT/POST with length 0) */
    /* a 2xx answer's body goes to out_fd at out_off when out_fd >= 0 */
    int out_fd;
    uint64_t out_off;
    struct dm_progress *progress;
    long stall_seconds; /* abort when nothing moves for this long */
};

struct dm_aws_response {
    long status;
    char *body; /* error bodies, and 2xx bodies without out_fd */
    size_t body_len;
    char *etag;
    uint64_t content_length;
    bool has_length;
    uint64_t written; /* bytes that went to out_fd */
};

/* Build a request with the defaults above (no body, no out file). */
void dm_aws_request_init(struct dm_aws_request *rq);

/*
 * Send rq once. DM_OK means an HTTP answer arrived, whatever its status
 * (see resp->status); DM_ERR_NETWORK means none did (connection refused or
 * reset, timeout, stall).
 */
enum dm_code dm_aws_send(CURL *curl, struct dm_aws_provider *creds,
                         const struct dm_aws_request *rq,
                         struct dm_aws_response *resp, struct dm_error *err);

void dm_aws_response_release(struct dm_aws_response *resp);

/* Statuses worth another attempt: 408, 429, 500, 502, 503, 504. */
bool dm_aws_retryable_status(long status);

/* Sleep before attempt (1-based): full jitter over 100 ms * 2^attempt,
 * capped at 10 s (DUCKMIG_RETRY_BASE_MS changes the base). */
void dm_aws_backoff(int attempt);

/* scheme://host[:port] of url split into the base URL and the Host
 * header's value; malloc'd strings. */
enum dm_code dm_aws_split_endpoint(const char *url, char **base, char **host,
                                   struct dm_error *err);

/* Initialise libcurl once per process (thread-safe). */
void dm_aws_global_init(void);

#endif
