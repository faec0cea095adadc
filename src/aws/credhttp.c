/*
 * credhttp.c - what the credential sources share (sources.h): one small
 * HTTP exchange over libcurl into memory, token files, Expiration times.
 * Credential answers hold secret keys: every buffer is wiped before it is
 * freed.
 */
#include "aws/sources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"

/* No credentials document, role list or token is this big. */
#define ANSWER_MAX (1u << 20)
#define TOKEN_MAX  16384

void dm_creds_wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    struct dm_creds_answer *a = ud;
    size_t add = size * n;
    if (a->len + add > ANSWER_MAX)
        return 0;
    /* grow by hand, so that no copy of a key is left in freed memory */
    char *d = malloc(a->len + add + 1);
    if (!d)
        return 0;
    if (a->body) {
        memcpy(d, a->body, a->len);
        memset(a->body, 0, a->len);
        free(a->body);
    }
    memcpy(d + a->len, ptr, add);
    a->len += add;
    d[a->len] = '\0';
    a->body = d;
    return add;
}

void dm_creds_answer_release(struct dm_creds_answer *ans)
{
    if (ans->body) {
        memset(ans->body, 0, ans->len);
        free(ans->body);
    }
    memset(ans, 0, sizeof(*ans));
}

enum dm_code dm_creds_http(const struct dm_creds_http *rq,
                           struct dm_creds_answer *ans, struct dm_error *err)
{
    memset(ans, 0, sizeof(*ans));
    CURL *c = curl_easy_init();
    if (!c)
        return dm_fail(err, DM_ERR_NOMEM, "curl_easy_init failed");
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
    if (rq->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(rq->body));
    }
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ans);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* a redirect could carry the token elsewhere */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (rq->no_proxy)
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    CURLcode cc = curl_easy_perform(c);
    enum dm_code rc = DM_OK;
    if (cc != CURLE_OK) {
        rc = dm_fail(err, DM_ERR_NETWORK, "%s", curl_easy_strerror(cc));
        dm_creds_answer_release(ans);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ans->status);
        if (!ans->body && !(ans->body = calloc(1, 1))) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            dm_creds_answer_release(ans);
        }
    }
    curl_easy_cleanup(c);
    return rc;
}

time_t dm_creds_parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return 0;
    return timegm(&tm);
}

enum dm_code dm_creds_read_token(const char *path, const char *what, char **out,
                                 struct dm_error *err)
{
    *out = NULL;
    char buf[TOKEN_MAX + 1];
    size_t n = 0;
    enum dm_code rc = DM_OK;
    /* never waits on a FIFO */
    int fd = dm_open_regular(AT_FDCWD, path, O_RDONLY, NULL);
    if (fd < 0)
        return dm_fail_errno(err, DM_ERR_AUTH, errno,
                             "%s: cannot read the token file '%s'", what, path);
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = dm_fail_errno(err, DM_ERR_AUTH, errno,
                               "%s: cannot read the token file '%s'", what,
                               path);
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof(buf) - 1) {
            rc = dm_fail(err, DM_ERR_AUTH,
                         "%s: the token file '%s' is larger than %u bytes",
                         what, path, TOKEN_MAX);
            goto out;
        }
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (!n || memchr(buf, '\0', n)) {
        rc = dm_fail(err, DM_ERR_AUTH, "%s: the token file '%s' is %s", what,
                     path, n ? "not text" : "empty");
        goto out;
    }
    *out = strdup(buf);
    if (!*out)
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
out:
    memset(buf, 0, sizeof(buf));
    close(fd);
    return rc;
}

enum dm_code dm_creds_set(struct dm_aws_creds *out, const char *akid,
                          const char *secret, const char *token,
                          time_t expiration, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    out->access_key_id = strdup(akid);
    out->secret_access_key = strdup(secret);
    out->session_token = token ? strdup(token) : NULL;
    out->expiration = expiration;
    if (!out->access_key_id || !out->secret_access_key ||
        (token && !out->session_token)) {
        dm_aws_creds_release(out);
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    }
    return DM_OK;
}
