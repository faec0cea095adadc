/*
 * creds.c - the AWS credentials chain (see creds.h): which source to use,
 * a cache, and when to fetch again. The sources themselves are in
 * profile.c (shared files), ecs.c, imds.c and sts.c.
 */
#include "aws/creds.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws/profile.h"
#include "aws/sources.h"
#include "util/log.h"
#include "util/str.h"
#include "util/settings.h"

/* botocore's advisory refresh window */
#define REFRESH_BEFORE_S (15 * 60)
#define FETCH_ATTEMPTS   3

enum source {
    SRC_STATIC, /* the environment or a profile: never fetched again */
    SRC_WEB_IDENTITY,
    SRC_ECS,
    SRC_IMDS,
};

struct dm_aws_provider {
    pthread_mutex_t lock;
    enum source src;
    char *what; /* the source, for logs and messages */
    struct dm_web_identity wi;
    struct dm_ecs_source ecs;
    char *imds_url;
    long imds_timeout_ms;
    int imds_attempts; /* 0: one until it answered once, then 3 */
    char *tried;       /* what the chain found empty before IMDS */
    struct dm_aws_creds cached;
    bool valid;
    unsigned fetches;
};

/* A region is a hostname label: anything else in a file is not one. */
static bool region_ok(const char *r)
{
    size_t n = strlen(r);
    if (!n || n > 63)
        return false;
    for (; *r; r++)
        if (!islower((unsigned char)*r) && !isdigit((unsigned char)*r) &&
            *r != '-')
            return false;
    return true;
}

static char profile_region[64];
static pthread_once_t region_once = PTHREAD_ONCE_INIT;

static void find_profile_region(void)
{
    bool asked;
    const char *name = dm_aws_profile_name(&asked);
    char *cred = dm_aws_credentials_path(), *conf = dm_aws_config_path();
    char *r = cred && conf ? dm_aws_profile_region(name, cred, conf) : NULL;
    if (r && region_ok(r)) {
        snprintf(profile_region, sizeof(profile_region), "%s", r);
        dm_debug("credentials", "region %s from profile '%s'", r, name);
    } else if (r) {
        dm_warn("credentials", "profile '%s': region '%s' is not a region",
                name, r);
    }
    free(r);
    free(conf);
    free(cred);
}

const char *dm_aws_region(void)
{
    const char *r = dm_setting(DM_SET_AWS_REGION);
    if (!r)
        r = dm_setting(DM_SET_AWS_DEFAULT_REGION);
    if (r)
        return r;
    /* read once: every request asks */
    pthread_once(&region_once, find_profile_region);
    return profile_region[0] ? profile_region : "us-east-1";
}

void dm_aws_creds_release(struct dm_aws_creds *c)
{
    if (!c)
        return;
    dm_creds_wipe_free(c->secret_access_key);
    dm_creds_wipe_free(c->session_token);
    free(c->access_key_id);
    memset(c, 0, sizeof(*c));
}

/* An endpoint URL from the environment, without a trailing '/'. */
static char *endpoint_url(const char *v)
{
    size_t n = strlen(v);
    while (n && v[n - 1] == '/')
        n--;
    return strndup(v, n);
}

static enum dm_code use_web_identity(struct dm_aws_provider *p,
                                     const char *token_file,
                                     struct dm_error *err)
{
    const char *role = dm_setting(DM_SET_AWS_ROLE_ARN);
    if (!role)
        return dm_fail(err, DM_ERR_AUTH,
                       "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set "
                       "but AWS_ROLE_ARN is not");
    /* the SDKs' standard variable first, then the older one, then the
     * global override, then the regional endpoint */
    const char *ep = dm_setting(DM_SET_AWS_ENDPOINT_URL_STS);
    if (!ep)
        ep = dm_setting(DM_SET_AWS_STS_ENDPOINT);
    if (!ep)
        ep = dm_setting(DM_SET_AWS_ENDPOINT_URL);
    const char *name = dm_setting(DM_SET_AWS_ROLE_SESSION_NAME);
    p->src = SRC_WEB_IDENTITY;
    p->wi.token_file = strdup(token_file);
    p->wi.role_arn = strdup(role);
    p->wi.session_name =
        name ? strdup(name) : dm_fmt("duckmig-%lld", (long long)time(NULL));
    p->wi.endpoint =
        ep ? endpoint_url(ep)
           : dm_fmt("https://sts.%s.amazonaws.com", dm_aws_region());
    p->what = dm_fmt("web identity (role %s)", role);
    if (!p->wi.token_file || !p->wi.role_arn || !p->wi.session_name ||
        !p->wi.endpoint || !p->what)
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    return DM_OK;
}

static enum dm_code use_ecs(struct dm_aws_provider *p, const char *rel,
                            const char *full, struct dm_error *err)
{
    const char *t = dm_setting(DM_SET_AWS_CONTAINER_AUTHORIZATION_TOKEN);
    const char *tf = dm_setting(DM_SET_AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE);
    p->src = SRC_ECS;
    p->ecs.url =
        rel ? dm_fmt("%s%s", "http://169.254.170.2", rel) : strdup(full);
    p->ecs.token = t ? strdup(t) : NULL;
    p->ecs.token_file = tf ? strdup(tf) : NULL;
    p->what = strdup("the container credentials endpoint");
    if (!p->ecs.url || (t && !p->ecs.token) || (tf && !p->ecs.token_file) ||
        !p->what)
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    return DM_OK;
}

static enum dm_code use_imds(struct dm_aws_provider *p, const char *tried,
                             struct dm_error *err)
{
    const char *ep = dm_setting(DM_SET_AWS_EC2_METADATA_SERVICE_ENDPOINT);
    const char *mode =
        dm_setting(DM_SET_AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE);
    const char *t = dm_setting(DM_SET_AWS_METADATA_SERVICE_TIMEOUT);
    const char *a = dm_setting(DM_SET_AWS_METADATA_SERVICE_NUM_ATTEMPTS);
    uint64_t v;
    p->src = SRC_IMDS;
    /* the SDKs' default: one second, once; not on EC2, nothing answers */
    p->imds_timeout_ms =
        t && dm_parse_u64(t, &v) && v > 0 && v <= 60 ? (long)v * 1000 : 1000;
    p->imds_attempts =
        a && dm_parse_u64(a, &v) && v > 0 && v <= 10 ? (int)v : 0;
    if (ep)
        p->imds_url = endpoint_url(ep);
    else if (mode && strcasecmp(mode, "IPv6") == 0)
        p->imds_url = strdup("http://[fd00:ec2::254]");
    else
        p->imds_url = strdup("http://169.254.169.254");
    p->what = strdup("EC2 instance metadata");
    p->tried = strdup(tried);
    if (!p->imds_url || !p->what || !p->tried)
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    return DM_OK;
}

/* Follow the chain, in the SDKs' order, to the first source that is
 * there; a source that is there but broken is an error, not a skip. */
static enum dm_code choose(struct dm_aws_provider *p, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    char *cred = NULL, *conf = NULL, *tried = NULL;

    /* 1. the environment */
    const char *akid = dm_setting(DM_SET_AWS_ACCESS_KEY_ID);
    const char *secret = dm_setting(DM_SET_AWS_SECRET_ACCESS_KEY);
    if (akid && secret) {
        p->src = SRC_STATIC;
        p->what = strdup("the environment");
        rc = dm_creds_set(&p->cached, akid, secret,
                          dm_setting(DM_SET_AWS_SESSION_TOKEN), 0, err);
        if (!rc && !p->what)
            rc = dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
        p->valid = rc == DM_OK;
        goto out;
    }
    if (akid || secret) {
        rc = dm_fail(err, DM_ERR_AUTH, "environment: %s is set but %s is not",
                     akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                     akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        goto out;
    }

    /* 2. web identity (EKS) */
    const char *token_file = dm_setting(DM_SET_AWS_WEB_IDENTITY_TOKEN_FILE);
    if (token_file) {
        rc = use_web_identity(p, token_file, err);
        goto out;
    }

    /* 3. the shared files */
    bool asked;
    const char *profile = dm_aws_profile_name(&asked);
    cred = dm_aws_credentials_path();
    conf = dm_aws_config_path();
    if (!cred || !conf) {
        rc = dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
        goto out;
    }
    rc = dm_aws_profile_creds(profile, asked, cred, conf, &p->cached, &p->what,
                              err);
    if (rc || p->cached.access_key_id) {
        p->src = SRC_STATIC;
        p->valid = rc == DM_OK;
        goto out;
    }

    /* 4. the ECS container endpoint */
    const char *rel = dm_setting(DM_SET_AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
    const char *full = dm_setting(DM_SET_AWS_CONTAINER_CREDENTIALS_FULL_URI);
    if (rel || full) {
        rc = use_ecs(p, rel, full, err);
        goto out;
    }

    /* 5. EC2 instance metadata */
    tried = dm_fmt("none in the environment (AWS_ACCESS_KEY_ID), no web "
                   "identity (AWS_WEB_IDENTITY_TOKEN_FILE), no keys for "
                   "profile '%s' in %s or %s, no container endpoint "
                   "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)",
                   profile, cred, conf);
    if (!tried) {
        rc = dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
        goto out;
    }
    const char *off = dm_setting(DM_SET_AWS_EC2_METADATA_DISABLED);
    if (off && strcasecmp(off, "true") == 0) {
        rc = dm_fail(err, DM_ERR_AUTH,
                     "no AWS credentials: %s, and EC2 instance metadata is "
                     "off (AWS_EC2_METADATA_DISABLED)",
                     tried);
        goto out;
    }
    rc = use_imds(p, tried, err);
out:
    free(tried);
    free(conf);
    free(cred);
    return rc;
}

enum dm_code dm_aws_provider_new(struct dm_aws_provider **out,
                                 struct dm_error *err)
{
    *out = NULL;
    struct dm_aws_provider *p = calloc(1, sizeof(*p));
    if (!p)
        return dm_fail(err, DM_ERR_NOMEM, "credentials: out of memory");
    pthread_mutex_init(&p->lock, NULL);
    enum dm_code rc = choose(p, err);
    if (rc) {
        dm_aws_provider_free(p);
        return rc;
    }
    dm_debug("credentials", "from %s", p->what);
    *out = p;
    return DM_OK;
}

void dm_aws_provider_free(struct dm_aws_provider *p)
{
    if (!p)
        return;
    dm_aws_creds_release(&p->cached);
    free(p->wi.endpoint);
    free(p->wi.role_arn);
    free(p->wi.session_name);
    free(p->wi.token_file);
    free(p->ecs.url);
    dm_creds_wipe_free(p->ecs.token);
    free(p->ecs.token_file);
    free(p->imds_url);
    free(p->tried);
    free(p->what);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static enum dm_code fetch_once(struct dm_aws_provider *p,
                               struct dm_aws_creds *fresh, struct dm_error *err)
{
    switch (p->src) {
    case SRC_WEB_IDENTITY:
        return dm_sts_web_identity(&p->wi, fresh, err);
    case SRC_ECS:
        return dm_ecs_fetch(&p->ecs, fresh, err);
    case SRC_IMDS:
        return dm_imds_fetch(p->imds_url, p->imds_timeout_ms, fresh, err);
    case SRC_STATIC:
        break;
    }
    return dm_fail(err, DM_ERR_INTERNAL, "credentials: nothing to fetch");
}

/* Fetch with retries into p->cached. Lock held. */
static enum dm_code fetch(struct dm_aws_provider *p, struct dm_error *err)
{
    int attempts = FETCH_ATTEMPTS;
    if (p->src == SRC_IMDS)
        /* an instance whose metadata never answered is most likely not
         * an instance: do not make every command off EC2 wait for it */
        attempts = p->imds_attempts ? p->imds_attempts
                   : p->fetches     ? FETCH_ATTEMPTS
                                    : 1;
    enum dm_code rc = DM_OK;
    struct dm_aws_creds fresh;
    for (int i = 0; i < attempts; i++) {
        dm_error_clear(err);
        rc = fetch_once(p, &fresh, err);
        if (rc != DM_ERR_NETWORK || i + 1 == attempts)
            break;
        usleep(200000u << i);
    }
    if (rc)
        return rc;
    dm_aws_creds_release(&p->cached);
    p->cached = fresh;
    p->valid = true;
    p->fetches++;
    dm_debug("credentials", "fetched from %s (%u)", p->what, p->fetches);
    return DM_OK;
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
    if (p->src != SRC_STATIC && !fresh_enough(p, now)) {
        struct dm_error ferr = DM_ERROR_INIT;
        rc = fetch(p, &ferr);
        if (rc && p->valid && now < p->cached.expiration) {
            dm_warn("credentials",
                    "refresh failed, keeping the current "
                    "ones until they expire: %s",
                    ferr.msg);
            rc = DM_OK;
        } else if (rc && p->src == SRC_IMDS && !p->fetches) {
            /* the last resort never answered: there are no credentials */
            rc = dm_fail(err, DM_ERR_AUTH, "no AWS credentials: %s; %s",
                         p->tried, ferr.msg);
        } else if (rc) {
            dm_fail(err, rc, "%s", ferr.msg);
        }
    }
    if (!rc)
        rc = dm_creds_set(out, p->cached.access_key_id,
                          p->cached.secret_access_key, p->cached.session_token,
                          p->cached.expiration, err);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void dm_aws_provider_invalidate(struct dm_aws_provider *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->src != SRC_STATIC)
        p->valid = false;
    pthread_mutex_unlock(&p->lock);
}
