/*
 * s3.c - the store backend for an S3 bucket (AWS or any S3-compatible
 * server), on aws/request.c.
 *
 * Downloads: HEAD for the size and ETag, then one GET, or parallel ranged
 * GETs for large objects, every one with If-Match on the ETag so that an
 * object replaced mid-way fails instead of mixing two versions; the bytes
 * land in a temporary file renamed into place at the end. Uploads are
 * in s3_upload.c. Transient failures are retried with backoff and jitter.
 *
 * Tuning (environment): DUCKMIG_S3_CONCURRENCY (4), DUCKMIG_S3_PART_SIZE
 * (8 MiB; the part size is max(this, size/10000)), DUCKMIG_S3_MULTIPART_
 * THRESHOLD (64 MiB), DUCKMIG_S3_ATTEMPTS (5), DUCKMIG_S3_STALL_SECONDS (60).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/request.h"
#include "aws/xml.h"
#include "store/s3_int.h"
#include "store/store.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"

#define MIB (1024ull * 1024ull)

/* A 404 said as the object it was for. */
static enum dm_code name_missing(const struct s3_store *s, const char *key,
                                 enum dm_code rc, struct dm_error *err)
{
    if (rc != DM_ERR_NOT_FOUND)
        return rc;
    dm_error_clear(err);
    return dm_fail(err, DM_ERR_NOT_FOUND, "no object s3://%s/%s", s->bucket,
                   key);
}

/* ---- XML answers ---- */

/* The text of n's child element name, malloc'd; NULL when absent. */
char *s3_child_text(xmlNode *n, const char *name)
{
    xmlNode *c = dm_xml_child(n, name);
    if (!c)
        return NULL;
    xmlChar *t = xmlNodeGetContent(c);
    char *s = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return s;
}

/* An <Error> document's Code and Message, when body is one. */
static bool s3_error(const struct dm_aws_response *resp, char **code,
                     char **message)
{
    *code = *message = NULL;
    xmlDoc *doc = dm_xml_parse(resp->body, resp->body_len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    bool is_error = root && strcmp((const char *)root->name, "Error") == 0;
    if (is_error) {
        *code = s3_child_text(root, "Code");
        *message = s3_child_text(root, "Message");
    }
    xmlFreeDoc(doc);
    return is_error;
}

/* ---- one call, with retries ---- */

char *s3_object_path(const struct s3_store *s, const char *key)
{
    char *enc = dm_aws_uri_encode(key, true);
    char *p = enc ? dm_fmt("%s/%s", s->path_prefix, enc) : NULL;
    free(enc);
    return p;
}

void s3_request_for(const struct s3_store *s, struct dm_aws_request *rq,
                    const char *method, const char *path, const char *query)
{
    dm_aws_request_init(rq);
    rq->method = method;
    rq->base_url = s->base_url;
    rq->host = s->host;
    rq->path = path;
    rq->query = query ? query : "";
    rq->service = "s3";
    rq->region = s->region;
    rq->s3 = true;
    rq->stall_seconds = s->stall;
}

/*
 * Send rq until it succeeds, fails for good, or has made attempts tries.
 * what names the operation in messages ("GET s3://b/k"). complete: a 200
 * whose body is an <Error> is a failure (CompleteMultipartUpload).
 */
enum dm_code s3_call_tries(struct s3_store *s, CURL *curl,
                           const struct dm_aws_request *rq,
                           struct dm_aws_response *resp, const char *what,
                           bool complete, int attempts, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    bool refreshed = false;
    for (int attempt = 1;; attempt++) {
        struct dm_error e = DM_ERROR_INIT;
        char *code = NULL, *message = NULL;
        dm_aws_response_release(resp);
        rc = dm_aws_send(curl, s->creds, rq, resp, &e);
        bool retry = false;
        if (rc == DM_ERR_NETWORK) {
            retry = true;
        } else if (rc) {
            return dm_fail(err, rc, "%s: %s", what, e.msg);
        } else if (resp->status >= 200 && resp->status < 300 &&
                   !(complete && s3_error(resp, &code, &message))) {
            return DM_OK;
        } else {
            if (!code)
                s3_error(resp, &code, &message);
            retry = dm_aws_retryable_status(resp->status) ||
                    (code && (strcmp(code, "SlowDown") == 0 ||
                              strcmp(code, "InternalError") == 0 ||
                              strcmp(code, "RequestTimeout") == 0));
            if (code && strcmp(code, "ExpiredToken") == 0 && !refreshed) {
                dm_aws_provider_invalidate(s->creds);
                refreshed = true;
                retry = true;
            }
            if (code && message)
                dm_fail(&e, DM_ERR_REMOTE, "HTTP %ld %s: %s", resp->status,
                        code, message);
            else if (code)
                dm_fail(&e, DM_ERR_REMOTE, "HTTP %ld %s", resp->status, code);
            else
                dm_fail(&e, DM_ERR_REMOTE, "HTTP %ld", resp->status);
            rc = resp->status == 401 || resp->status == 403 ? DM_ERR_AUTH
                 : resp->status == 404                      ? DM_ERR_NOT_FOUND
                 : retry                                    ? DM_ERR_NETWORK
                                                            : DM_ERR_REMOTE;
        }
        free(code);
        free(message);
        if (!retry)
            return dm_fail(err, rc, "%s: %s", what, e.msg);
        if (attempt >= attempts)
            return dm_fail(err, DM_ERR_NETWORK,
                           "%s: gave up after %d attempts: %s", what, attempt,
                           e.msg);
        dm_warn("s3", "%s: %s; attempt %d of %d", what, e.msg, attempt + 1,
                attempts);
        dm_aws_backoff(attempt);
    }
}

/* s3_call_tries with the store's DUCKMIG_S3_ATTEMPTS. */
enum dm_code s3_call(struct s3_store *s, CURL *curl,
                     const struct dm_aws_request *rq,
                     struct dm_aws_response *resp, const char *what,
                     bool complete, struct dm_error *err)
{
    return s3_call_tries(s, curl, rq, resp, what, complete, s->attempts, err);
}

/* ---- stat / get ---- */

enum dm_code s3_head(struct s3_store *s, CURL *curl, const char *key,
                     struct dm_object *out, struct dm_error *err)
{
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    char *path = rc ? NULL : s3_object_path(s, key);
    char *what = dm_fmt("HEAD s3://%s/%s", s->bucket, key);
    memset(out, 0, sizeof(*out));
    if (rc)
        goto out;
    if (!path || !what) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    s3_request_for(s, &rq, "HEAD", path, NULL);
    rc = s3_call(s, curl, &rq, &resp, what, false, err);
    rc = name_missing(s, key, rc, err);
    if (rc)
        goto out;
    out->key = strdup(key);
    out->size = resp.content_length;
    out->etag = resp.etag ? strdup(resp.etag) : NULL;
    if (!out->key || (resp.etag && !out->etag)) {
        dm_object_release(out);
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
out:
    dm_aws_response_release(&resp);
    free(what);
    free(path);
    return rc;
}

static enum dm_code s3_stat(struct dm_store *st, const char *key,
                            struct dm_object *out, struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    CURL *curl = curl_easy_init();
    if (!curl)
        return dm_fail(err, DM_ERR_NOMEM, "curl_easy_init failed");
    enum dm_code rc = s3_head(s, curl, key, out, err);
    curl_easy_cleanup(curl);
    return rc;
}

static void *parts_worker(void *arg)
{
    struct parts *p = arg;
    CURL *curl = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool stop = p->rc != DM_OK || p->next >= p->nparts || !curl;
        unsigned i = p->next++;
        if (!curl && p->rc == DM_OK)
            p->rc = dm_fail(&p->err, DM_ERR_NOMEM, "curl_easy_init failed");
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        struct dm_error e = DM_ERROR_INIT;
        enum dm_code rc = p->one(p, curl, i, &e);
        if (rc) {
            pthread_mutex_lock(&p->lock);
            if (p->rc == DM_OK) {
                p->rc = rc;
                p->err = e;
            }
            pthread_mutex_unlock(&p->lock);
        }
    }
    if (curl)
        curl_easy_cleanup(curl);
    return NULL;
}

enum dm_code s3_run_parts(struct parts *p, struct dm_error *err)
{
    unsigned n = p->s->concurrency < p->nparts ? p->s->concurrency : p->nparts;
    pthread_t tid[64];
    unsigned started = 0;
    pthread_mutex_init(&p->lock, NULL);
    p->next = 0;
    p->rc = DM_OK;
    dm_error_clear(&p->err);
    for (; started < n && started < 64; started++)
        if (pthread_create(&tid[started], NULL, parts_worker, p) != 0)
            break;
    if (started == 0)
        parts_worker(p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&p->lock);
    if (p->rc)
        return dm_fail(err, p->rc, "%s", p->err.msg);
    return DM_OK;
}

void s3_part_span(const struct parts *p, unsigned i, uint64_t *off,
                  uint64_t *len)
{
    *off = (uint64_t)i * p->part_size;
    *len = p->size - *off < p->part_size ? p->size - *off : p->part_size;
}

static enum dm_code get_range(struct parts *p, CURL *curl, unsigned i,
                              struct dm_error *err)
{
    uint64_t off, len;
    s3_part_span(p, i, &off, &len);
    char range[64];
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    struct dm_http_header h[2] = {{"range", range}, {"if-match", p->etag}};
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    char *what = dm_fmt("GET s3://%s/%s (%s)", p->s->bucket, p->key, range);
    if (!what)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    s3_request_for(p->s, &rq, "GET", p->path, NULL);
    rq.headers = h;
    rq.nheaders = p->etag ? 2 : 1;
    rq.out_fd = p->fd;
    rq.out_off = off;
    rq.progress = p->progress;
    enum dm_code rc = s3_call(p->s, curl, &rq, &resp, what, false, err);
    if (!rc && resp.written != len)
        rc = dm_fail(err, DM_ERR_NETWORK, "%s: got %llu bytes, wanted %llu",
                     what, (unsigned long long)resp.written,
                     (unsigned long long)len);
    else if (rc == DM_ERR_REMOTE && resp.status == 412)
        rc = dm_fail(err, DM_ERR_REMOTE,
                     "s3://%s/%s changed during the download", p->s->bucket,
                     p->key);
    dm_aws_response_release(&resp);
    free(what);
    return rc;
}

static enum dm_code s3_get(struct dm_store *st, const char *key,
                           const char *local, struct dm_object *got,
                           struct dm_progress *progress, struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    struct dm_object head = {0};
    struct dm_atomic_file f = {-1, -1, NULL, NULL};
    bool opened = false;
    char *path = NULL;
    CURL *curl = curl_easy_init();
    enum dm_code rc = DM_OK;
    if (got)
        memset(got, 0, sizeof(*got));
    if (!curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "curl_easy_init failed");
        goto out;
    }
    rc = s3_head(s, curl, key, &head, err);
    if (rc)
        goto out;
    if (progress)
        progress->total = head.size;
    path = s3_object_path(s, key);
    if (!path) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dm_atomic_open(local, &f, err);
    if (rc)
        goto out;
    opened = true;
    /* claim the space first: a full disk fails now, not at 90% */
    int fa = head.size ? posix_fallocate(f.fd, 0, (off_t)head.size) : 0;
    if (fa != 0 && fa != EOPNOTSUPP && fa != EINVAL) {
        rc = dm_fail_errno(err, DM_ERR_IO, fa, "no room for '%s' (%llu bytes)",
                           local, (unsigned long long)head.size);
        goto out;
    }
    uint64_t part = s->part_size;
    struct parts p = {.s = s,
                      .key = key,
                      .path = path,
                      .etag = head.etag,
                      .fd = f.fd,
                      .size = head.size,
                      .part_size = part,
                      .progress = progress,
                      .one = get_range};
    p.nparts = head.size ? (unsigned)((head.size + part - 1) / part) : 0;
    if (head.size < s->threshold || p.nparts < 2) {
        /* one GET; the part size is the whole object */
        p.part_size = head.size ? head.size : 1;
        p.nparts = 1;
        if (head.size == 0) {
            struct dm_aws_request rq;
            struct dm_aws_response resp = {0};
            s3_request_for(s, &rq, "GET", path, NULL);
            rq.out_fd = f.fd;
            rc = s3_call(s, curl, &rq, &resp, "GET", false, err);
            if (!rc && resp.written != 0)
                rc = dm_fail(err, DM_ERR_REMOTE,
                             "s3://%s/%s: HEAD said 0 bytes, GET sent %llu",
                             s->bucket, key, (unsigned long long)resp.written);
            dm_aws_response_release(&resp);
        } else {
            rc = get_range(&p, curl, 0, err);
        }
    } else {
        rc = s3_run_parts(&p, err);
    }
    if (rc)
        goto out;
    if (ftruncate(f.fd, (off_t)head.size) != 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", local);
        goto out;
    }
    opened = false;
    rc = dm_atomic_commit(&f, err);
    if (!rc && got) {
        *got = head;
        memset(&head, 0, sizeof(head));
    }
out:
    if (opened)
        dm_atomic_abort(&f);
    free(path);
    dm_object_release(&head);
    if (curl)
        curl_easy_cleanup(curl);
    return rc;
}

/* ---- list ---- */

/* Decode %XX (and '+', as S3 writes spaces) in place; false on a bad %. */
static bool url_decode(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%') {
            unsigned v;
            if (!isxdigit((unsigned char)p[1]) ||
                !isxdigit((unsigned char)p[2]) || sscanf(p + 1, "%2x", &v) != 1)
                return false;
            *o++ = (char)v;
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return true;
}

static enum dm_code s3_list(struct dm_store *st, const char *prefix,
                            dm_list_fn fn, void *ud, struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    char *token = NULL, *query = NULL, *path = NULL, *what = NULL;
    struct dm_aws_response resp = {0};
    xmlDoc *doc = NULL;
    bool stop = false;
    CURL *curl = curl_easy_init();
    enum dm_code rc = dm_prefix_check(prefix, err);
    if (rc)
        goto out;
    /* the bucket itself: "/bucket" path-style, "/" virtual-hosted */
    path = strdup(*s->path_prefix ? s->path_prefix : "/");
    what = dm_fmt("ListObjectsV2 s3://%s/%s", s->bucket, prefix);
    if (!curl || !path || !what) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *max_keys = dm_setting(DM_SET_S3_LIST_PAGE);
    do {
        /* encoding-type=url: keys come back URL-encoded, so that any byte
         * a key may hold survives the XML */
        struct dm_query_param q[5] = {
            {"encoding-type", "url"},
            {"list-type", "2"},
            {"prefix", prefix},
            {"max-keys", max_keys && *max_keys ? max_keys : "1000"},
            {"continuation-token", token},
        };
        free(query);
        query = dm_sigv4_query(q, token ? 5 : 4);
        if (!query) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
        struct dm_aws_request rq;
        s3_request_for(s, &rq, "GET", path, query);
        rc = s3_call(s, curl, &rq, &resp, what, false, err);
        if (rc)
            goto out;
        doc = dm_xml_parse(resp.body, resp.body_len);
        xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (!root) {
            rc = dm_fail(err, DM_ERR_REMOTE, "%s: the answer is not XML", what);
            goto out;
        }
        /* only a server that says it encoded the keys did */
        char *encoding = s3_child_text(root, "EncodingType");
        bool url_keys = encoding && strcmp(encoding, "url") == 0;
        free(encoding);
        for (xmlNode *c = root->children; c && !stop; c = c->next) {
            if (c->type != XML_ELEMENT_NODE ||
                strcmp((const char *)c->name, "Contents") != 0)
                continue;
            char *size = s3_child_text(c, "Size");
            struct dm_object o = {0};
            o.key = s3_child_text(c, "Key");
            /* a listing whose size is not a number is not to be trusted
             * with what is copied by it */
            bool sized = !size || dm_parse_u64(size, &o.size);
            o.etag = s3_child_text(c, "ETag");
            free(size);
            if (!sized || (o.key && url_keys && !url_decode(o.key))) {
                rc = dm_fail(err, DM_ERR_REMOTE, "%s: %s", what,
                             sized ? "a badly encoded key"
                                   : "an object's Size is not a number");
                dm_object_release(&o);
                goto out;
            }
            if (o.key)
                stop = fn(&o, ud) != 0;
            dm_object_release(&o);
        }
        char *truncated = s3_child_text(root, "IsTruncated");
        free(token);
        token = truncated && strcmp(truncated, "true") == 0
                    ? s3_child_text(root, "NextContinuationToken")
                    : NULL;
        free(truncated);
        xmlFreeDoc(doc);
        doc = NULL;
    } while (token && !stop);
out:
    xmlFreeDoc(doc);
    dm_aws_response_release(&resp);
    free(token);
    free(query);
    free(what);
    free(path);
    if (curl)
        curl_easy_cleanup(curl);
    return rc;
}

static enum dm_code s3_remove(struct dm_store *st, const char *key,
                              struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    char *path = rc ? NULL : s3_object_path(s, key);
    char *what = dm_fmt("DELETE s3://%s/%s", s->bucket, key);
    CURL *curl = curl_easy_init();
    if (rc)
        goto out;
    if (!path || !what || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    s3_request_for(s, &rq, "DELETE", path, NULL);
    rc = s3_call(s, curl, &rq, &resp, what, false, err);
    if (rc == DM_ERR_NOT_FOUND) {
        /* S3 answers 204 for a missing key; some servers 404 */
        dm_error_clear(err);
        rc = DM_OK;
    }
out:
    dm_aws_response_release(&resp);
    if (curl)
        curl_easy_cleanup(curl);
    free(what);
    free(path);
    return rc;
}

static void s3_close(struct dm_store *st)
{
    struct s3_store *s = (struct s3_store *)st;
    dm_aws_provider_free(s->creds);
    free(s->bucket);
    free(s->base_url);
    free(s->host);
    free(s->path_prefix);
    free(s->base.name);
    free(s);
}

/* One ranged GET into memory: a header's worth, never a whole object
 * (the response body is kept in memory, which request.c bounds). */
static enum dm_code s3_read_range(struct dm_store *st, const char *key,
                                  uint64_t off, void *buf, size_t len,
                                  size_t *got, struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    char range[64];
    char *path = NULL, *what = NULL;
    CURL *curl = NULL;
    *got = 0;
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    if (rc || len == 0)
        return rc;
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    struct dm_http_header h[1] = {{"range", range}};
    path = s3_object_path(s, key);
    what = dm_fmt("GET s3://%s/%s (%s)", s->bucket, key, range);
    curl = curl_easy_init();
    if (!path || !what || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    s3_request_for(s, &rq, "GET", path, NULL);
    rq.headers = h;
    rq.nheaders = 1;
    rc = s3_call(s, curl, &rq, &resp, what, false, err);
    if (rc == DM_ERR_REMOTE && resp.status == 416) {
        /* the range starts past the end (an empty object): no bytes */
        dm_error_clear(err);
        rc = DM_OK;
        goto out;
    }
    rc = name_missing(s, key, rc, err);
    if (rc)
        goto out;
    /* a server that ignores Range answers 200 with the whole object:
     * take its first bytes */
    size_t n = resp.body_len < len ? resp.body_len : len;
    if (n)
        memcpy(buf, resp.body, n);
    *got = n;
out:
    dm_aws_response_release(&resp);
    if (curl)
        curl_easy_cleanup(curl);
    free(what);
    free(path);
    return rc;
}

static const struct dm_store_ops s3_ops = {
    "s3", s3_stat, s3_get, s3_put, s3_list, s3_remove, s3_close, s3_read_range,
};

enum dm_code dm_store_open_s3(const char *bucket, struct dm_store **out,
                              struct dm_error *err)
{
    *out = NULL;
    dm_aws_global_init();
    struct s3_store *s = calloc(1, sizeof(*s));
    if (!s)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    s->base.ops = &s3_ops;
    s->region = dm_aws_region();
    s->concurrency = (unsigned)dm_setting_u64(DM_SET_S3_CONCURRENCY);
    if (s->concurrency > 64)
        s->concurrency = 64;
    s->part_size = dm_setting_u64(DM_SET_S3_PART_SIZE);
    if (s->part_size < 5 * MIB && !dm_setting_u64(DM_SET_S3_ALLOW_SMALL_PARTS))
        s->part_size = 5 * MIB; /* S3's minimum for all but the last part */
    s->threshold = dm_setting_u64(DM_SET_S3_MULTIPART_THRESHOLD);
    s->attempts = (int)dm_setting_u64(DM_SET_S3_ATTEMPTS);
    s->stall = (long)dm_setting_u64(DM_SET_S3_STALL_SECONDS);
    s->bucket = strdup(bucket);
    s->base.name = dm_fmt("s3://%s", bucket);
    enum dm_code rc = DM_OK;
    const char *endpoint = dm_setting(DM_SET_AWS_ENDPOINT_URL_S3);
    if (!endpoint)
        endpoint = dm_setting(DM_SET_AWS_ENDPOINT_URL);
    if (endpoint) {
        /* custom endpoints (MinIO, s3rver, ...) want path-style */
        rc = dm_aws_split_endpoint(endpoint, &s->base_url, &s->host, err);
        s->path_prefix = dm_aws_uri_encode(bucket, false);
        if (s->path_prefix) {
            char *p = dm_fmt("/%s", s->path_prefix);
            free(s->path_prefix);
            s->path_prefix = p;
        }
    } else if (strchr(bucket, '.')) {
        /* dotted names break TLS under virtual hosting */
        s->host = dm_fmt("s3.%s.amazonaws.com", s->region);
        s->base_url = dm_fmt("https://s3.%s.amazonaws.com", s->region);
        s->path_prefix = dm_fmt("/%s", bucket);
    } else {
        s->host = dm_fmt("%s.s3.%s.amazonaws.com", bucket, s->region);
        s->base_url = dm_fmt("https://%s", s->host ? s->host : "");
        s->path_prefix = strdup("");
    }
    if (!rc && (!s->bucket || !s->base.name || !s->host || !s->base_url ||
                !s->path_prefix))
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = dm_aws_provider_new(&s->creds, err);
    if (rc) {
        s3_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return DM_OK;
}
