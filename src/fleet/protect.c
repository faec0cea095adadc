/* protect.c - ECS task scale-in protection (see protect.h). */
#include "fleet/protect.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/request.h"
#include "util/settings.h"
#include "util/str.h"

struct dm_protect {
    CURL *curl;
    char *url;
    int minutes;
};

enum dm_code dm_protect_open(struct dm_protect **out, struct dm_error *err)
{
    *out = NULL;
    const char *agent = dm_setting(DM_SET_ECS_AGENT_URI);
    if (!agent || !*agent)
        return DM_OK;
    /* 1 to 2880, ECS's range: util/env.c */
    uint64_t minutes = dm_setting_u64(DM_SET_PROTECTION_MINUTES);
    dm_aws_global_init();
    struct dm_protect *p = calloc(1, sizeof(*p));
    if (!p)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    p->minutes = (int)minutes;
    p->url = dm_fmt("%s/task-protection/v1/state", agent);
    p->curl = curl_easy_init();
    if (!p->url || !p->curl) {
        dm_protect_close(p);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    *out = p;
    return DM_OK;
}

int dm_protect_minutes(const struct dm_protect *p)
{
    return p ? p->minutes : 0;
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    struct dm_sbuf *b = ud;
    /* an answer is a few hundred bytes; more is not read, not an error */
    if (b->len < 65536)
        dm_sbuf_addn(b, data, size * n);
    return size * n;
}

enum dm_code dm_protect_set(struct dm_protect *p, bool on, struct dm_error *err)
{
    if (!p)
        return DM_OK;
    char body[96];
    if (on)
        snprintf(body, sizeof(body),
                 "{\"ProtectionEnabled\":true,\"ExpiresInMinutes\":%d}",
                 p->minutes);
    else
        snprintf(body, sizeof(body), "{\"ProtectionEnabled\":false}");
    struct dm_sbuf answer = DM_SBUF_INIT;
    struct curl_slist *headers =
        curl_slist_append(NULL, "Content-Type: application/json");
    json_t *j = NULL;
    char *text = NULL;
    enum dm_code rc = DM_OK;
    long status = 0;
    CURL *c = p->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    /* the consumer's main thread makes this call: heartbeats wait */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = dm_fail(err, DM_ERR_NETWORK, "task protection %s: %s: %s",
                     on ? "on" : "off", p->url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    text = dm_sbuf_take(&answer);
    j = text ? json_loads(text, 0, NULL) : NULL;
    /* the agent answers {"protection": {...}}, or {"failure": {...}} /
     * {"error": {...}} with the ECS API's reason */
    json_t *bad = json_object_get(j, "failure");
    if (!bad)
        bad = json_object_get(j, "error");
    if (status < 200 || status > 299 || bad) {
        const char *why = json_string_value(json_object_get(bad, "Reason"));
        if (!why)
            why = json_string_value(json_object_get(bad, "Message"));
        if (!why)
            why = json_string_value(json_object_get(bad, "Code"));
        rc = dm_fail(err, status >= 500 ? DM_ERR_NETWORK : DM_ERR_REMOTE,
                     "task protection %s: HTTP %ld%s%s", on ? "on" : "off",
                     status, why ? ": " : "", why ? why : "");
    }
out:
    json_decref(j);
    curl_slist_free_all(headers);
    dm_sbuf_release(&answer);
    free(text);
    return rc;
}

void dm_protect_close(struct dm_protect *p)
{
    if (!p)
        return;
    if (p->curl)
        curl_easy_cleanup(p->curl);
    free(p->url);
    free(p);
}
