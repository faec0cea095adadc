/* secrets.c - secrets by name, cached (see secrets.h). */
#include "secrets/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/request.h"
#include "util/settings.h"
#include "util/log.h"
#include "util/file.h"
#include "util/str.h"

#define MAX_ENTRIES 16

struct entry {
    char *name;
    json_t *value;
    time_t next_refresh;
};

struct dm_secrets {
    pthread_mutex_t lock;
    struct entry entries[MAX_ENTRIES];
    size_t n;
    struct dm_aws_provider *creds; /* created on first use */
    long ttl;
};

enum dm_code dm_secrets_new(struct dm_secrets **out, struct dm_error *err)
{
    struct dm_secrets *s = calloc(1, sizeof(*s));
    if (!s)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->ttl = (long)dm_setting_u64(DM_SET_SECRET_TTL);
    *out = s;
    return DM_OK;
}

void dm_secrets_free(struct dm_secrets *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].name);
        json_decref(s->entries[i].value);
    }
    dm_aws_provider_free(s->creds);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static enum dm_code parse_value(const char *text, size_t len, const char *name,
                                json_t **out, struct dm_error *err)
{
    json_t *v = json_loadb(text, len, 0, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        /* never quote the text: it is the secret */
        return dm_fail(err, DM_ERR_USAGE, "secret '%s' is not a JSON object",
                       name);
    }
    *out = v;
    return DM_OK;
}

static enum dm_code from_file(const char *name, json_t **out,
                              struct dm_error *err)
{
    /* never waits on a FIFO: a regular file, or a clear failure */
    int fd = dm_open_regular(AT_FDCWD, name, O_RDONLY, NULL);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return dm_fail_errno(err, DM_ERR_NOT_FOUND, e,
                             "cannot read secret file '%s'", name);
    }
    size_t len = 0;
    char *buf = dm_slurp(f, &len);
    fclose(f);
    if (!buf)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = parse_value(buf, len, name, out, err);
    memset(buf, 0, len);
    free(buf);
    return rc;
}

static enum dm_code endpoint(char **base, char **host, struct dm_error *err)
{
    const char *url = dm_setting(DM_SET_AWS_ENDPOINT_URL_SECRETS_MANAGER);
    if (!url)
        url = dm_setting(DM_SET_AWS_ENDPOINT_URL);
    if (url)
        return dm_aws_split_endpoint(url, base, host, err);
    *host = dm_fmt("secretsmanager.%s.amazonaws.com", dm_aws_region());
    *base = *host ? dm_fmt("https://%s", *host) : NULL;
    if (!*host || !*base) {
        free(*host);
        free(*base);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    return DM_OK;
}

/* GetSecretValue, with retries on throttling and 5xx. Lock held. */
static enum dm_code fetch(struct dm_secrets *s, const char *name, json_t **out,
                          struct dm_error *err)
{
    char *base = NULL, *host = NULL, *body = NULL;
    struct dm_aws_response resp = {0};
    json_t *doc = NULL;
    CURL *curl = NULL;
    enum dm_code rc = DM_OK;
    dm_aws_global_init();
    if (!s->creds) {
        rc = dm_aws_provider_new(&s->creds, err);
        if (rc)
            return rc;
    }
    rc = endpoint(&base, &host, err);
    if (rc)
        goto out;
    json_t *req = json_pack("{s:s}", "SecretId", name);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    curl = curl_easy_init();
    if (!body || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct dm_http_header h[2] = {
        {"content-type", "application/x-amz-json-1.1"},
        {"x-amz-target", "secretsmanager.GetSecretValue"},
    };
    struct dm_aws_request rq;
    dm_aws_request_init(&rq);
    rq.method = "POST";
    rq.base_url = base;
    rq.host = host;
    rq.path = "/";
    rq.service = "secretsmanager";
    rq.region = dm_aws_region();
    rq.headers = h;
    rq.nheaders = 2;
    rq.body = body;
    rq.body_len = strlen(body);
    rq.stall_seconds = 30;
    for (int attempt = 1;; attempt++) {
        struct dm_error e = DM_ERROR_INIT;
        dm_aws_response_release(&resp);
        rc = dm_aws_send(curl, s->creds, &rq, &resp, &e);
        const char *type = NULL;
        json_decref(doc);
        doc = NULL;
        if (!rc) {
            doc =
                json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
            type = json_string_value(json_object_get(doc, "__type"));
        }
        if (!rc && resp.status == 200)
            break;
        bool retry = rc == DM_ERR_NETWORK ||
                     (!rc && (resp.status >= 500 ||
                              (type && strstr(type, "Throttling"))));
        if (!rc)
            rc = resp.status == 400 && type &&
                         strstr(type, "ResourceNotFoundException")
                     ? DM_ERR_NOT_FOUND
                 : resp.status == 403 || resp.status == 401 ||
                         (type && strstr(type, "AccessDenied"))
                     ? DM_ERR_AUTH
                 : retry ? DM_ERR_NETWORK
                         : DM_ERR_REMOTE;
        if (!retry || attempt >= 4) {
            if (e.msg[0])
                dm_fail(err, rc, "secret '%s': %s", name, e.msg);
            else
                dm_fail(err, rc, "secret '%s': HTTP %ld %s", name, resp.status,
                        type ? type : "");
            goto out;
        }
        dm_aws_backoff(attempt);
    }
    const char *str = json_string_value(json_object_get(doc, "SecretString"));
    if (!str) {
        rc = dm_fail(err, DM_ERR_UNSUPPORTED,
                     "secret '%s' has no SecretString (binary secrets are "
                     "not supported)",
                     name);
        goto out;
    }
    rc = parse_value(str, strlen(str), name, out, err);
out:
    if (resp.body)
        memset(resp.body, 0, resp.body_len);
    dm_aws_response_release(&resp);
    json_decref(doc);
    if (curl)
        curl_easy_cleanup(curl);
    free(body);
    free(base);
    free(host);
    return rc;
}

static struct entry *find(struct dm_secrets *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->entries[i].name, name) == 0)
            return &s->entries[i];
    return NULL;
}

enum dm_code dm_secret_get(struct dm_secrets *s, const char *name,
                           json_t **value, struct dm_error *err)
{
    *value = NULL;
    if (!name || !*name)
        return dm_fail(err, DM_ERR_USAGE, "empty secret name");
    if (name[0] == '{')
        return parse_value(name, strlen(name), "(inline)", value, err);
    if (name[0] == '/' || name[0] == '.')
        return from_file(name, value, err);

    pthread_mutex_lock(&s->lock);
    enum dm_code rc = DM_OK;
    time_t now = time(NULL);
    struct entry *e = find(s, name);
    if (!e || now >= e->next_refresh) {
        json_t *fresh = NULL;
        struct dm_error ferr = DM_ERROR_INIT;
        rc = fetch(s, name, &fresh, &ferr);
        if (rc && e && e->value) {
            dm_warn("secrets",
                    "refreshing '%s' failed, keeping the last "
                    "good value: %s",
                    name, ferr.msg);
            e->next_refresh = now + 30; /* try again soon */
            rc = DM_OK;
        } else if (rc) {
            dm_fail(err, rc, "%s", ferr.msg);
        } else {
            if (!e && s->n < MAX_ENTRIES) {
                e = &s->entries[s->n++];
                e->name = strdup(name);
            }
            if (e) {
                json_decref(e->value);
                e->value = fresh;
                unsigned seed = (unsigned)now ^ (unsigned)getpid();
                long half = s->ttl / 2;
                e->next_refresh =
                    now + half + (half ? rand_r(&seed) % (half + 1) : 0);
            } else {
                *value = fresh; /* cache full: serve uncached */
            }
        }
    }
    if (!rc && !*value && e)
        *value = json_incref(e->value);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void dm_secret_invalidate(struct dm_secrets *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, name);
    if (e)
        e->next_refresh = 0;
    pthread_mutex_unlock(&s->lock);
}
