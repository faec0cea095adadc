/* request.c - one signed request to AWS over libcurl (see request.h). */
#include "aws/request.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/settings.h"
#include "util/str.h"

#define MAX_MEMORY_BODY (16u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void dm_aws_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

void dm_aws_request_init(struct dm_aws_request *rq)
{
    memset(rq, 0, sizeof(*rq));
    rq->method = "GET";
    rq->query = "";
    rq->body_fd = -1;
    rq->out_fd = -1;
    rq->stall_seconds = 60;
}

void dm_aws_response_release(struct dm_aws_response *resp)
{
    free(resp->body);
    free(resp->etag);
    memset(resp, 0, sizeof(*resp));
}

bool dm_aws_retryable_status(long status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 ||
           status == 503 || status == 504;
}

void dm_aws_backoff(int attempt)
{
    /* a tenth of a broker reconnect's: 100 ms by default */
    long base = (long)dm_setting_u64(DM_SET_RETRY_BASE_MS) / 10;
    long cap = 10000, ceiling = base;
    for (int i = 0; i < attempt && ceiling < cap; i++)
        ceiling *= 2;
    if (ceiling > cap)
        ceiling = cap;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^
                    (unsigned)(uintptr_t)&attempt;
    long ms = ceiling > 0 ? (long)(rand_r(&seed) % (ceiling + 1)) : 0;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

enum dm_code dm_aws_split_endpoint(const char *url, char **base, char **host,
                                   struct dm_error *err)
{
    *base = *host = NULL;
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL;
    enum dm_code rc = DM_OK;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        rc = dm_fail(err, DM_ERR_USAGE, "'%s' is not an endpoint URL", url);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = dm_fail(err, DM_ERR_USAGE, "'%s': endpoints are http or https",
                     url);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    *host = port ? dm_fmt("%s:%s", h, port) : strdup(h);
    *base = dm_fmt("%s://%s", scheme, *host ? *host : "");
    if (!*host || !*base) {
        free(*host);
        free(*base);
        *base = *host = NULL;
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

struct transfer {
    CURL *curl;
    const struct dm_aws_request *rq;
    struct dm_aws_response *resp;
    uint64_t sent;
    int write_errno;
    bool too_big;
};

static size_t read_body(char *buf, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    const struct dm_aws_request *rq = t->rq;
    size_t want = size * n;
    uint64_t total = rq->body ? rq->body_len : rq->body_size;
    if (t->sent >= total)
        return 0;
    if (want > total - t->sent)
        want = (size_t)(total - t->sent);
    if (rq->body) {
        memcpy(buf, rq->body + t->sent, want);
    } else {
        ssize_t r =
            pread(rq->body_fd, buf, want, (off_t)(rq->body_off + t->sent));
        if (r <= 0)
            return CURL_READFUNC_ABORT;
        want = (size_t)r;
    }
    t->sent += want;
    if (rq->progress)
        atomic_fetch_add(&rq->progress->done, want);
    return want;
}

static size_t write_body(char *ptr, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    struct dm_aws_response *resp = t->resp;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300 && t->rq->out_fd >= 0) {
        for (size_t off = 0; off < len;) {
            ssize_t w = pwrite(t->rq->out_fd, ptr + off, len - off,
                               (off_t)(t->rq->out_off + resp->written + off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                t->write_errno = errno;
                return 0;
            }
            off += (size_t)w;
        }
        resp->written += len;
        if (t->rq->progress)
            atomic_fetch_add(&t->rq->progress->done, len);
        return len;
    }
    if (resp->body_len + len > MAX_MEMORY_BODY) {
        t->too_big = true;
        return 0;
    }
    char *b = realloc(resp->body, resp->body_len + len + 1);
    if (!b)
        return 0;
    memcpy(b + resp->body_len, ptr, len);
    resp->body_len += len;
    b[resp->body_len] = '\0';
    resp->body = b;
    return len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    struct dm_aws_response *resp = t->resp;
    size_t len = size * n;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new answer (after a 100 Continue): forget the last one's */
        free(resp->etag);
        resp->etag = NULL;
        resp->has_length = false;
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    size_t nl = (size_t)(colon - buf);
    const char *v = colon + 1, *end = buf + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (nl == 4 && strncasecmp(buf, "etag", 4) == 0) {
        free(resp->etag);
        resp->etag = strndup(v, (size_t)(end - v));
    } else if (nl == 14 && strncasecmp(buf, "content-length", 14) == 0) {
        char tmp[32];
        size_t vl = (size_t)(end - v) < sizeof(tmp) - 1 ? (size_t)(end - v)
                                                        : sizeof(tmp) - 1;
        memcpy(tmp, v, vl);
        tmp[vl] = '\0';
        /* a length that is not a number is as good as none */
        resp->has_length = dm_parse_u64(tmp, &resp->content_length);
    }
    return len;
}

/* The payload's hash, as signed: the caller's, a memory body's SHA-256
 * (written into buf), UNSIGNED-PAYLOAD for a file body, or the empty
 * body's. */
static const char *payload_hash(const struct dm_aws_request *rq, char buf[65])
{
    if (rq->payload_hash)
        return rq->payload_hash;
    if (rq->body) {
        dm_sha256_hex(rq->body, rq->body_len, buf);
        return buf;
    }
    return rq->body_fd >= 0 ? "UNSIGNED-PAYLOAD" : dm_sha256_empty;
}

/*
 * The request's headers (host, x-amz-date, S3's payload hash, the
 * session token, then the caller's) into *h (malloc'd, *n of them), and
 * their SigV4 signature, the Authorization value, into *auth.
 */
static enum dm_code sign_headers(const struct dm_aws_request *rq,
                                 const struct dm_aws_creds *creds,
                                 const char *amz_date, const char *payload,
                                 struct dm_http_header **h, size_t *n,
                                 char **auth, struct dm_error *err)
{
    struct dm_http_header *all = calloc(rq->nheaders + 4, sizeof(*all));
    size_t k = 0;
    *h = all;
    *n = 0;
    if (!all)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    all[k++] = (struct dm_http_header){"host", rq->host};
    all[k++] = (struct dm_http_header){"x-amz-date", amz_date};
    if (rq->s3)
        all[k++] = (struct dm_http_header){"x-amz-content-sha256", payload};
    if (creds->session_token)
        all[k++] = (struct dm_http_header){"x-amz-security-token",
                                           creds->session_token};
    for (size_t i = 0; i < rq->nheaders; i++)
        all[k++] = rq->headers[i];
    *n = k;
    struct dm_sigv4_request sreq = {rq->method, rq->path, rq->query,
                                    all,        k,        payload};
    struct dm_sigv4_scope scope = {rq->region, rq->service, amz_date};
    return dm_sigv4_sign(&sreq, &scope, creds->access_key_id,
                         creds->secret_access_key, auth, err);
}

/* The signed headers as curl sends them, appended to *list (which the
 * caller frees, also on failure), with Authorization last. */
static enum dm_code curl_headers(const struct dm_http_header *h, size_t n,
                                 const char *auth, struct curl_slist **list,
                                 struct dm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char *line = dm_fmt("%s: %s", h[i].name, h[i].value);
        struct curl_slist *l = line ? curl_slist_append(*list, line) : NULL;
        free(line);
        if (!l)
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
        *list = l;
    }
    char *line = dm_fmt("Authorization: %s", auth);
    struct curl_slist *l = line ? curl_slist_append(*list, line) : NULL;
    free(line);
    /* no "Expect: 100-continue": a round trip per part for nothing */
    l = l ? curl_slist_append(l, "Expect:") : NULL;
    if (!l)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    *list = l;
    return DM_OK;
}

/* Set curl (reset first) up to send rq to url with the headers in list;
 * the answer lands through t. */
static void transfer_setup(CURL *curl, const struct dm_aws_request *rq,
                           const char *url, struct curl_slist *list,
                           struct transfer *t)
{
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, rq->stall_seconds);
    /* big buffers: a 1 GiB object in 16 KiB writes is 65536 syscalls */
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
    bool has_body = rq->body || rq->body_fd >= 0 || rq->send_body;
    if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl, CURLOPT_READDATA, t);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)(rq->body ? rq->body_len : rq->body_size));
        if (strcmp(rq->method, "PUT") != 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
    }
}

/* What a finished transfer (cc) comes to: the progress it counted is
 * taken back where its bytes did not land, and a failure is said. */
static enum dm_code transfer_result(const struct dm_aws_request *rq,
                                    const struct dm_aws_response *resp,
                                    const struct transfer *t, CURLcode cc,
                                    struct dm_error *err)
{
    if (rq->progress && t->sent && (cc != CURLE_OK || resp->status >= 300))
        atomic_fetch_sub(&rq->progress->done, t->sent);
    if (rq->progress && resp->written && cc != CURLE_OK)
        atomic_fetch_sub(&rq->progress->done, resp->written);
    if (t->write_errno)
        return dm_fail_errno(err, DM_ERR_IO, t->write_errno,
                             "cannot write the download");
    if (t->too_big)
        return dm_fail(err, DM_ERR_REMOTE, "%s %s: answer larger than %u MiB",
                       rq->method, rq->path, MAX_MEMORY_BODY >> 20);
    if (cc != CURLE_OK)
        return dm_fail(err, DM_ERR_NETWORK, "%s %s%s: %s", rq->method,
                       rq->base_url, rq->path, curl_easy_strerror(cc));
    return DM_OK;
}

enum dm_code dm_aws_send(CURL *curl, struct dm_aws_provider *provider,
                         const struct dm_aws_request *rq,
                         struct dm_aws_response *resp, struct dm_error *err)
{
    struct dm_aws_creds creds = {NULL, NULL, NULL, 0};
    struct curl_slist *list = NULL;
    struct dm_http_header *h = NULL;
    size_t n = 0;
    char *auth = NULL, *url = NULL;
    char amz_date[17], body_hash[65];
    memset(resp, 0, sizeof(*resp));

    enum dm_code rc = dm_aws_creds_get(provider, &creds, err);
    if (rc)
        goto out;
    dm_amz_date(time(NULL), amz_date);
    const char *payload = payload_hash(rq, body_hash);
    rc = sign_headers(rq, &creds, amz_date, payload, &h, &n, &auth, err);
    if (!rc)
        rc = curl_headers(h, n, auth, &list, err);
    if (rc)
        goto out;
    url = dm_fmt("%s%s%s%s", rq->base_url, rq->path, *rq->query ? "?" : "",
                 rq->query);
    if (!url) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }

    struct transfer t = {curl, rq, resp, 0, 0, false};
    transfer_setup(curl, rq, url, list, &t);
    CURLcode cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    rc = transfer_result(rq, resp, &t, cc, err);
out:
    free(url);
    free(auth);
    free(h);
    curl_slist_free_all(list);
    dm_aws_creds_release(&creds);
    return rc;
}
