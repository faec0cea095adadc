/*
 * s3_int.h - what the S3 store's files share: the store itself, one call
 * with its retries, and work split in parts over a few threads (s3.c);
 * uploads are in s3_upload.c.
 */
#ifndef DM_STORE_S3_INT_H
#define DM_STORE_S3_INT_H

#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "aws/request.h"
#include "store/store.h"

struct s3_store {
    struct dm_store base;
    char *bucket;
    char *base_url;
    char *host;
    char *path_prefix; /* "/bucket" for path-style addressing, else "" */
    const char *region;
    struct dm_aws_provider *creds;
    unsigned concurrency;
    uint64_t part_size;
    uint64_t threshold;
    int attempts;
    long stall;
};

/* The text of n's child element name, malloc'd; NULL when absent. */
char *s3_child_text(xmlNode *n, const char *name);

/* key's path in the bucket, URI-encoded, malloc'd. */
char *s3_object_path(const struct s3_store *s, const char *key);

/* rq, initialized for method on path (and query) of the store. */
void s3_request_for(const struct s3_store *s, struct dm_aws_request *rq,
                    const char *method, const char *path, const char *query);

/*
 * Send rq until it succeeds, fails for good, or has made attempts tries.
 * what names the operation in messages ("GET s3://b/k"). complete: a 200
 * whose body is an <Error> is a failure (CompleteMultipartUpload).
 */
enum dm_code s3_call_tries(struct s3_store *s, CURL *curl,
                           const struct dm_aws_request *rq,
                           struct dm_aws_response *resp, const char *what,
                           bool complete, int attempts, struct dm_error *err);

/* s3_call_tries with the store's DUCKMIG_S3_ATTEMPTS. */
enum dm_code s3_call(struct s3_store *s, CURL *curl,
                     const struct dm_aws_request *rq,
                     struct dm_aws_response *resp, const char *what,
                     bool complete, struct dm_error *err);

/* HEAD: key's size and ETag into out. */
enum dm_code s3_head(struct s3_store *s, CURL *curl, const char *key,
                     struct dm_object *out, struct dm_error *err);

/* Work split in numbered parts, done by a few threads with a CURL each. */
struct parts {
    struct s3_store *s;
    const char *key;
    const char *path;      /* encoded object path */
    const char *upload_id; /* uploads */
    const char *etag;      /* downloads: If-Match */
    int fd;
    uint64_t size, part_size;
    unsigned nparts;
    unsigned char (*md5)[16]; /* uploads: per part */
    struct dm_progress *progress;
    enum dm_code (*one)(struct parts *p, CURL *curl, unsigned i,
                        struct dm_error *err);
    pthread_mutex_t lock;
    unsigned next;
    enum dm_code rc;
    struct dm_error err;
};

/* Do p's parts on up to the store's concurrency of threads; the first
 * failure stops the rest and is the answer. */
enum dm_code s3_run_parts(struct parts *p, struct dm_error *err);

/* Where part i starts in the object, and its length (the last may be
 * shorter). */
void s3_part_span(const struct parts *p, unsigned i, uint64_t *off,
                  uint64_t *len);

/* ---- s3_upload.c ---- */

/* The store's put: one PUT below the multipart threshold, else a
 * multipart upload (aborted on any failure). */
enum dm_code s3_put(struct dm_store *st, const char *local, const char *key,
                    struct dm_object *put, struct dm_progress *progress,
                    struct dm_error *err);

#endif
