/*
 * s3.c - the store backend for an S3 bucket (AWS or any S3-compatible
 * server), on aws/request.c.
 *
 * Downloads: HEAD for the size and ETag, then one GET, or parallel ranged
 * GETs for large objects, every one with If-Match on the ETag so that an
 * object replaced mid-way fails instead of mixing two versions; the bytes
 * land in a temporary file renamed into place at the end. Uploads: one PUT
 * below the multipart threshold, else CreateMultipartUpload, parts in
 * parallel, CompleteMultipartUpload (whose 200 may hide an <Error>), and
 * AbortMultipartUpload on any failure. Every body goes with Content-MD5,
 * and every ETag that is an MD5 is checked against ours. Transient
 * failures are retried with backoff and jitter.
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
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws/request.h"
#include "aws/xml.h"
#include "store/store.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/str.h"

#define MIB (1024ull * 1024ull)

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
static char *child_text(xmlNode *n, const char *name)
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
        *code = child_text(root, "Code");
        *message = child_text(root, "Message");
    }
    xmlFreeDoc(doc);
    return is_error;
}

/* ---- one call, with retries ---- */

static char *object_path(const struct s3_store *s, const char *key)
{
    char *enc = dm_aws_uri_encode(key, true);
    char *p = enc ? dm_fmt("%s/%s", s->path_prefix, enc) : NULL;
    free(enc);
    return p;
}

static void request_for(const struct s3_store *s, struct dm_aws_request *rq,
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
static enum dm_code s3_call_tries(struct s3_store *s, CURL *curl,
                                  const struct dm_aws_request *rq,
                                  struct dm_aws_response *resp,
                                  const char *what, bool complete, int attempts,
                                  struct dm_error *err)
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
static enum dm_code s3_call(struct s3_store *s, CURL *curl,
                            const struct dm_aws_request *rq,
                            struct dm_aws_response *resp, const char *what,
                            bool complete, struct dm_error *err)
{
    return s3_call_tries(s, curl, rq, resp, what, complete, s->attempts, err);
}

/* ---- checksums ---- */

/* MD5 of a file range: raw bytes into md (16). */
static enum dm_code md5_range(int fd, uint64_t off, uint64_t len,
                              unsigned char md[16], struct dm_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = malloc(1 << 20);
    enum dm_code rc = DM_OK;
    if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    while (len > 0) {
        size_t want = len < (1 << 20) ? (size_t)len : (1 << 20);
        ssize_t r = pread(fd, buf, want, (off_t)off);
        if (r <= 0) {
            rc = dm_fail_errno(err, DM_ERR_IO, r < 0 ? errno : EIO,
                               "cannot read the file to upload");
            goto out;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    unsigned int mdlen = 16;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
out:
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Does an ETag ("\"hex\"") say the server got the bytes whose MD5 is md? */
static bool etag_matches(const char *etag, const unsigned char md[16])
{
    char hex[33];
    dm_hex(md, 16, hex);
    if (!etag)
        return false;
    size_t n = strlen(etag);
    if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
        etag++;
        n -= 2;
    }
    return n == 32 && strncasecmp(etag, hex, 32) == 0;
}

/* ---- stat / get ---- */

static enum dm_code s3_head(struct s3_store *s, CURL *curl, const char *key,
                            struct dm_object *out, struct dm_error *err)
{
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    char *path = rc ? NULL : object_path(s, key);
    char *what = dm_fmt("HEAD s3://%s/%s", s->bucket, key);
    memset(out, 0, sizeof(*out));
    if (rc)
        goto out;
    if (!path || !what) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    request_for(s, &rq, "HEAD", path, NULL);
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

static enum dm_code run_parts(struct parts *p, struct dm_error *err)
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

static enum dm_code get_range(struct parts *p, CURL *curl, unsigned i,
                              struct dm_error *err)
{
    uint64_t off = (uint64_t)i * p->part_size;
    uint64_t len = p->size - off < p->part_size ? p->size - off : p->part_size;
    char range[64];
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    struct dm_http_header h[2] = {{"range", range}, {"if-match", p->etag}};
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    char *what = dm_fmt("GET s3://%s/%s (%s)", p->s->bucket, p->key, range);
    if (!what)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    request_for(p->s, &rq, "GET", p->path, NULL);
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
    path = object_path(s, key);
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
            request_for(s, &rq, "GET", path, NULL);
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
        rc = run_parts(&p, err);
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

/* ---- put ---- */

/*
 * PUT len bytes of fd from off (query "" for a whole object, the part's
 * for a part) with their Content-MD5, and check that the ETag is that MD5.
 * The MD5 goes to md; the ETag to *etag when etag is not NULL.
 */
static enum dm_code put_range(struct s3_store *s, CURL *curl, const char *path,
                              const char *query, int fd, uint64_t off,
                              uint64_t len, const char *what,
                              struct dm_progress *progress,
                              unsigned char md[16], char **etag,
                              struct dm_error *err)
{
    char md5b64[32];
    enum dm_code rc = md5_range(fd, off, len, md, err);
    if (rc)
        return rc;
    dm_base64(md, 16, md5b64, sizeof(md5b64));
    struct dm_http_header h[1] = {{"content-md5", md5b64}};
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    request_for(s, &rq, "PUT", path, query);
    rq.headers = h;
    rq.nheaders = 1;
    rq.body_fd = fd;
    rq.body_off = off;
    rq.body_size = len;
    rq.send_body = true;
    rq.progress = progress;
    rc = s3_call(s, curl, &rq, &resp, what, false, err);
    if (!rc && !etag_matches(resp.etag, md))
        rc = dm_fail(err, DM_ERR_REMOTE,
                     "%s: the server's ETag %s is not the MD5 of what we sent",
                     what, resp.etag ? resp.etag : "(none)");
    if (!rc && etag) {
        *etag = resp.etag;
        resp.etag = NULL;
    }
    dm_aws_response_release(&resp);
    return rc;
}

static enum dm_code put_part(struct parts *p, CURL *curl, unsigned i,
                             struct dm_error *err)
{
    uint64_t off = (uint64_t)i * p->part_size;
    uint64_t len = p->size - off < p->part_size ? p->size - off : p->part_size;
    char num[16];
    snprintf(num, sizeof(num), "%u", i + 1);
    struct dm_query_param q[2] = {{"partNumber", num},
                                  {"uploadId", p->upload_id}};
    char *query = dm_sigv4_query(q, 2);
    char *what = dm_fmt("PUT s3://%s/%s (part %u of %u)", p->s->bucket, p->key,
                        i + 1, p->nparts);
    enum dm_code rc =
        query && what ? put_range(p->s, curl, p->path, query, p->fd, off, len,
                                  what, p->progress, p->md5[i], NULL, err)
                      : dm_fail(err, DM_ERR_NOMEM, "out of memory");
    free(what);
    free(query);
    return rc;
}

static enum dm_code put_single(struct s3_store *s, CURL *curl, int fd,
                               uint64_t size, const char *path, const char *key,
                               char **etag, struct dm_progress *progress,
                               struct dm_error *err)
{
    unsigned char md[16];
    char *what = dm_fmt("PUT s3://%s/%s", s->bucket, key);
    if (!what)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = put_range(s, curl, path, NULL, fd, 0, size, what,
                                progress, md, etag, err);
    free(what);
    return rc;
}

static void abort_upload(struct s3_store *s, CURL *curl, const char *path,
                         const char *key, const char *upload_id)
{
    struct dm_query_param q[1] = {{"uploadId", upload_id}};
    char *query = dm_sigv4_query(q, 1);
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    struct dm_error e = DM_ERROR_INIT;
    if (!query)
        return;
    request_for(s, &rq, "DELETE", path, query);
    /* a cleanup on a failure path: one retry, not the full budget */
    enum dm_code rc = s3_call_tries(s, curl, &rq, &resp, "AbortMultipartUpload",
                                    false, 2, &e);
    if (rc)
        dm_warn("s3",
                "s3://%s/%s: the unfinished upload %s was not aborted (%s); "
                "a lifecycle rule AbortIncompleteMultipartUpload removes it",
                s->bucket, key, upload_id, e.msg);
    dm_aws_response_release(&resp);
    free(query);
}

static enum dm_code put_multipart(struct s3_store *s, CURL *curl, int fd,
                                  uint64_t size, const char *path,
                                  const char *key, char **etag,
                                  struct dm_progress *progress,
                                  struct dm_error *err)
{
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    struct dm_query_param q[1] = {{"uploads", NULL}};
    char *query = dm_sigv4_query(q, 1), *upload_id = NULL, *xml = NULL;
    char *what = dm_fmt("s3://%s/%s", s->bucket, key);
    xmlDoc *doc = NULL;
    size_t xml_len = 0;
    FILE *mem = NULL;
    uint64_t part = s->part_size;
    if (part < (size + 9999) / 10000)
        part = (size + 9999) / 10000;
    unsigned nparts = (unsigned)((size + part - 1) / part);
    unsigned char(*md5)[16] = calloc(nparts, 16);
    enum dm_code rc = DM_OK;
    if (!query || !what || !md5) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }

    request_for(s, &rq, "POST", path, query);
    rq.send_body = true;
    rc = s3_call(s, curl, &rq, &resp, "CreateMultipartUpload", false, err);
    if (rc)
        goto out;
    doc = dm_xml_parse(resp.body, resp.body_len);
    upload_id = doc ? child_text(xmlDocGetRootElement(doc), "UploadId") : NULL;
    xmlFreeDoc(doc);
    doc = NULL;
    if (!upload_id) {
        rc = dm_fail(err, DM_ERR_REMOTE,
                     "%s: CreateMultipartUpload answered without an UploadId",
                     what);
        goto out;
    }
    dm_debug("s3", "%s: upload %s, %u parts of %llu bytes", what, upload_id,
             nparts, (unsigned long long)part);

    struct parts p = {.s = s,
                      .key = key,
                      .path = path,
                      .upload_id = upload_id,
                      .fd = fd,
                      .size = size,
                      .part_size = part,
                      .nparts = nparts,
                      .md5 = md5,
                      .progress = progress,
                      .one = put_part};
    rc = run_parts(&p, err);
    if (rc)
        goto fail;

    mem = open_memstream(&xml, &xml_len);
    if (!mem) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* the whole object's ETag is the MD5 of the parts' MD5s, "-N" */
    EVP_MD_CTX *all = EVP_MD_CTX_new();
    unsigned char whole[16];
    unsigned int wl = 16;
    EVP_DigestInit_ex(all, EVP_md5(), NULL);
    fputs("<CompleteMultipartUpload>", mem);
    for (unsigned i = 0; i < nparts; i++) {
        char hex[33];
        dm_hex(md5[i], 16, hex);
        EVP_DigestUpdate(all, md5[i], 16);
        fprintf(mem,
                "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
                i + 1, hex);
    }
    fputs("</CompleteMultipartUpload>", mem);
    EVP_DigestFinal_ex(all, whole, &wl);
    EVP_MD_CTX_free(all);
    if (fclose(mem) != 0) {
        mem = NULL;
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    mem = NULL;
    free(query);
    struct dm_query_param cq[1] = {{"uploadId", upload_id}};
    query = dm_sigv4_query(cq, 1);
    if (!query) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    struct dm_http_header h[1] = {{"content-type", "application/xml"}};
    request_for(s, &rq, "POST", path, query);
    rq.headers = h;
    rq.nheaders = 1;
    rq.body = xml;
    rq.body_len = xml_len;
    rc = s3_call(s, curl, &rq, &resp, "CompleteMultipartUpload", true, err);
    if (rc)
        goto fail;
    doc = dm_xml_parse(resp.body, resp.body_len);
    char *final = doc ? child_text(xmlDocGetRootElement(doc), "ETag") : NULL;
    char want[48], hex[33];
    dm_hex(whole, 16, hex);
    snprintf(want, sizeof(want), "\"%s-%u\"", hex, nparts);
    /* AWS (and MinIO) name a multipart object by the MD5 of its parts'
     * MD5s; servers that do not are checked by the size alone */
    bool aws_style = final && strchr(final, '-');
    if (aws_style && strcasecmp(final, want) != 0) {
        rc = dm_fail(err, DM_ERR_REMOTE,
                     "%s: the completed object's ETag %s is not %s", what,
                     final, want);
        free(final);
        goto out; /* complete: nothing left to abort */
    }
    struct dm_object head = {0};
    if (!aws_style) {
        rc = s3_head(s, curl, key, &head, err);
        if (!rc && head.size != size)
            rc = dm_fail(err, DM_ERR_REMOTE,
                         "%s: the completed object holds %llu bytes, not %llu",
                         what, (unsigned long long)head.size,
                         (unsigned long long)size);
        dm_object_release(&head);
        if (rc) {
            free(final);
            goto out;
        }
    }
    *etag = final ? final : strdup(want);
    goto out;
fail:
    abort_upload(s, curl, path, key, upload_id);
out:
    if (mem)
        fclose(mem);
    xmlFreeDoc(doc);
    dm_aws_response_release(&resp);
    free(md5);
    free(xml);
    free(upload_id);
    free(what);
    free(query);
    return rc;
}

static enum dm_code s3_put(struct dm_store *st, const char *local,
                           const char *key, struct dm_object *put,
                           struct dm_progress *progress, struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    char *path = NULL, *etag = NULL;
    CURL *curl = NULL;
    int fd = -1;
    uint64_t size = 0;
    if (put)
        memset(put, 0, sizeof(*put));
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    if (!rc)
        rc = dm_open_upload(local, &fd, &size, err);
    if (rc)
        return rc;
    if (progress)
        progress->total = size;
    path = object_path(s, key);
    curl = curl_easy_init();
    if (!path || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (size < s->threshold)
        rc = put_single(s, curl, fd, size, path, key, &etag, progress, err);
    else
        rc = put_multipart(s, curl, fd, size, path, key, &etag, progress, err);
    if (!rc && put) {
        put->key = strdup(key);
        put->size = size;
        put->etag = etag;
        etag = NULL;
    }
out:
    free(etag);
    if (curl)
        curl_easy_cleanup(curl);
    free(path);
    close(fd);
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
        request_for(s, &rq, "GET", path, query);
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
        char *encoding = child_text(root, "EncodingType");
        bool url_keys = encoding && strcmp(encoding, "url") == 0;
        free(encoding);
        for (xmlNode *c = root->children; c && !stop; c = c->next) {
            if (c->type != XML_ELEMENT_NODE ||
                strcmp((const char *)c->name, "Contents") != 0)
                continue;
            char *size = child_text(c, "Size");
            struct dm_object o = {0};
            o.key = child_text(c, "Key");
            /* a listing whose size is not a number is not to be trusted
             * with what is copied by it */
            bool sized = !size || dm_parse_u64(size, &o.size);
            o.etag = child_text(c, "ETag");
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
        char *truncated = child_text(root, "IsTruncated");
        free(token);
        token = truncated && strcmp(truncated, "true") == 0
                    ? child_text(root, "NextContinuationToken")
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
    char *path = rc ? NULL : object_path(s, key);
    char *what = dm_fmt("DELETE s3://%s/%s", s->bucket, key);
    CURL *curl = curl_easy_init();
    if (rc)
        goto out;
    if (!path || !what || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    request_for(s, &rq, "DELETE", path, NULL);
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
    path = object_path(s, key);
    what = dm_fmt("GET s3://%s/%s (%s)", s->bucket, key, range);
    curl = curl_easy_init();
    if (!path || !what || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    request_for(s, &rq, "GET", path, NULL);
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
