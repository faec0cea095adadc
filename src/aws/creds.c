/* creds.c - the AWS credentials chain (see creds.h). */
#include "aws/creds.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"
#include "util/log.h"
#include "util/str.h"

/* botocore's advisory refresh window */
#define REFRESH_BEFORE_S (15 * 60)
#define FETCH_ATTEMPTS   3

struct dm_aws_provider {
    pthread_mutex_t lock;
    bool from_env;
    char *url;        /* container endpoint */
    char *token;      /* AWS_CONTAINER_AUTHORIZATION_TOKEN */
    char *token_file; /* ..._TOKEN_FILE, read at every fetch (it rotates) */
    struct dm_aws_creds cached;
    bool valid;
    unsigned fetches;
};

const char *dm_aws_region(void)
{
    const char *r = getenv("AWS_REGION");
    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    return r && *r ? r : "us-east-1";
}

void dm_aws_creds_release(struct dm_aws_creds *c)
{
    if (!c)
        return;
    if (c->secret_access_key) {
        memset(c->secret_access_key, 0, strlen(c->secret_access_key));
        free(c->secret_access_key);
    }
    free(c->access_key_id);
    free(c->session_token);
    memset(c, 0, sizeof(*c));
}

static enum dm_code creds_copy(const struct dm_aws_creds *from,
                               struct dm_aws_creds *to, struct dm_error *err)
{
    memset(to, 0, sizeof(*to));
    to->access_key_id = strdup(from->access_key_id);
    to->secret_access_key = strdup(from->secret_access_key);
    to->session_token =
        from->session_token ? strdup(from->session_token) : NULL;
    to->expiration = from->expiration;
    if (!to->access_key_id || !to->secret_access_key ||
        (from->session_token && !to->session_token)) {
        dm_aws_creds_release(to);
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    }
    return DM_OK;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

enum dm_code dm_aws_provider_new(struct dm_aws_provider **out,
                                 struct dm_error *err)
{
    *out = NULL;
    struct dm_aws_provider *p = calloc(1, sizeof(*p));
    if (!p)
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    pthread_mutex_init(&p->lock, NULL);
    const char *akid = env("AWS_ACCESS_KEY_ID");
    const char *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    enum dm_code rc = DM_OK;
    if (akid && secret) {
        struct dm_aws_creds c = {(char *)akid, (char *)secret,
                                 (char *)env("AWS_SESSION_TOKEN"), 0};
        rc = creds_copy(&c, &p->cached, err);
        p->from_env = true;
        p->valid = rc == DM_OK;
    } else if (rel || full) {
        p->url =
            rel ? dm_fmt("%s%s", "http://169.254.170.2", rel) : strdup(full);
        const char *t = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        const char *tf = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        p->token = t ? strdup(t) : NULL;
        p->token_file = tf ? strdup(tf) : NULL;
        if (!p->url)
            rc = dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    } else {
        rc = dm_fail(err, DM_ERR_AUTH,
                     "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY, or run where "
                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set");
    }
    if (rc) {
        dm_aws_provider_free(p);
        return rc;
    }
    *out = p;
    return DM_OK;
}

void dm_aws_provider_free(struct dm_aws_provider *p)
{
    if (!p)
        return;
    dm_aws_creds_release(&p->cached);
    if (p->token)
        memset(p->token, 0, strlen(p->token));
    free(p->token);
    free(p->token_file);
    free(p->url);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct membuf {
    char *data;
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    struct membuf *b = ud;
    size_t add = size * n;
    if (b->len + add > 1 << 20)
        return 0; /* no credentials document is a megabyte */
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, ptr, add);
    b->len += add;
    d[b->len] = '\0';
    b->data = d;
    return add;
}

static char *read_token_file(const char *path)
{
    /* never waits on a FIFO */
    int fd = dm_open_regular(AT_FDCWD, path, O_RDONLY, NULL);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return strdup(buf);
}

/* "2016-02-25T06:03:31Z" -> time_t; 0 when it does not parse */
static time_t parse_iso8601(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return 0;
    return timegm(&tm);
}

/* One fetch from the container endpoint into p->cached. Lock held. */
static enum dm_code fetch_once(struct dm_aws_provider *p, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    struct membuf body = {NULL, 0};
    struct curl_slist *hdrs = NULL;
    char *token = p->token_file ? read_token_file(p->token_file)
                  : p->token    ? strdup(p->token)
                                : NULL;
    char *auth = NULL;
    json_t *doc = NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        rc = dm_fail(err, DM_ERR_NOMEM, "credentials: curl_easy_init failed");
        goto out;
    }
    if (token) {
        auth = dm_fmt("%s%s", "Authorization: ", token);
        hdrs = auth ? curl_slist_append(NULL, auth) : NULL;
    }
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        rc = dm_fail(err, DM_ERR_NETWORK, "credentials endpoint: %s",
                     curl_easy_strerror(cc));
        goto out;
    }
    if (status != 200) {
        rc = dm_fail(err, status >= 500 ? DM_ERR_NETWORK : DM_ERR_AUTH,
                     "credentials endpoint answered HTTP %ld", status);
        goto out;
    }
    doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
    const char *akid = json_string_value(json_object_get(doc, "AccessKeyId"));
    const char *secret =
        json_string_value(json_object_get(doc, "SecretAccessKey"));
    const char *tok = json_string_value(json_object_get(doc, "Token"));
    const char *exp = json_string_value(json_object_get(doc, "Expiration"));
    if (!akid || !secret) {
        rc = dm_fail(err, DM_ERR_AUTH,
                     "credentials endpoint: no AccessKeyId/SecretAccessKey "
                     "in its answer");
        goto out;
    }
    struct dm_aws_creds fresh = {(char *)akid, (char *)secret, (char *)tok,
                                 exp ? parse_iso8601(exp) : 0};
    struct dm_aws_creds copy;
    rc = creds_copy(&fresh, &copy, err);
    if (rc)
        goto out;
    dm_aws_creds_release(&p->cached);
    p->cached = copy;
    p->valid = true;
    p->fetches++;
    dm_debug("credentials", "fetched from the container endpoint (%u)",
             p->fetches);
out:
    json_decref(doc);
    if (body.data) {
        memset(body.data, 0, body.len);
        free(body.data);
    }
    curl_slist_free_all(hdrs);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (c)
        curl_easy_cleanup(c);
    return rc;
}

static bool fresh_enough(const struct dm_aws_provider *p, time_t now)
{
    return p->valid && (p->cached.expiration == 0 ||
                        now < p->cached.expiration - REFRESH_BEFORE_S);
}

enum dm_code dm_aws_creds_get(struct dm_aws_provider *p,
                              struct dm_aws_creds *out, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    enum dm_code rc = DM_OK;
    time_t now = time(NULL);
    if (!p->from_env && !fresh_enough(p, now)) {
        struct dm_error ferr = DM_ERROR_INIT;
        for (int i = 0; i < FETCH_ATTEMPTS; i++) {
            dm_error_clear(&ferr);
            rc = fetch_once(p, &ferr);
            if (rc != DM_ERR_NETWORK)
                break;
            usleep(200000u << i);
        }
        if (rc && p->valid && now < p->cached.expiration) {
            dm_warn("credentials",
                    "refresh failed, keeping the current "
                    "ones until they expire: %s",
                    ferr.msg);
            rc = DM_OK;
        } else if (rc) {
            dm_fail(err, rc, "%s", ferr.msg);
        }
    }
    if (!rc)
        rc = creds_copy(&p->cached, out, err);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void dm_aws_provider_invalidate(struct dm_aws_provider *p)
{
    pthread_mutex_lock(&p->lock);
    if (!p->from_env)
        p->valid = false;
    pthread_mutex_unlock(&p->lock);
}
