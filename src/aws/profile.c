/* profile.c - the AWS shared credentials and config files (profile.h). */
#include "aws/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"
#include "util/str.h"
#include "util/settings.h"

/* The shared files are small; a bigger one is not a credentials file. */
#define INI_MAX_BYTES (1u << 20)

struct ini_entry {
    char *section, *key, *value;
};

struct dm_ini {
    struct ini_entry *e;
    size_t n, cap;
    char **sections;
    size_t nsections, capsections;
};

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void dm_ini_free(struct dm_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->n; i++) {
        free(ini->e[i].section);
        free(ini->e[i].key);
        wipe_free(ini->e[i].value); /* secret keys live here */
    }
    free(ini->e);
    for (size_t i = 0; i < ini->nsections; i++)
        free(ini->sections[i]);
    free(ini->sections);
    free(ini);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* [s, e) without blanks at either end */
static void trim(const char **s, const char **e)
{
    while (*s < *e && blank(**s))
        (*s)++;
    while (*e > *s && blank((*e)[-1]))
        (*e)--;
}

/* Cut a comment that starts after a blank: "x = y  # note" -> "x = y" */
static const char *comment_end(const char *s, const char *e)
{
    for (const char *p = s + 1; p < e; p++)
        if ((*p == '#' || *p == ';') && blank(p[-1]))
            return p;
    return e;
}

/* A section name with blank runs made one space. */
static char *section_name(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; p < e; p++) {
        if (blank(*p)) {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static enum dm_code add_section(struct dm_ini *ini, char *name,
                                struct dm_error *err)
{
    if (ini->nsections == ini->capsections) {
        size_t cap = ini->capsections ? ini->capsections * 2 : 8;
        char **s = realloc(ini->sections, cap * sizeof(*s));
        if (!s) {
            free(name);
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
        }
        ini->sections = s;
        ini->capsections = cap;
    }
    ini->sections[ini->nsections++] = name;
    return DM_OK;
}

/* [s, e) as a string; text need not be NUL-terminated, so no strndup */
static char *dup_range(const char *s, const char *e)
{
    char *d = malloc((size_t)(e - s) + 1);
    if (d) {
        memcpy(d, s, (size_t)(e - s));
        d[e - s] = '\0';
    }
    return d;
}

static enum dm_code add_entry(struct dm_ini *ini, const char *section,
                              const char *ks, const char *ke, const char *vs,
                              const char *ve, struct dm_error *err)
{
    if (ini->n == ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 16;
        struct ini_entry *e = realloc(ini->e, cap * sizeof(*e));
        if (!e)
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
        ini->e = e;
        ini->cap = cap;
    }
    struct ini_entry *x = &ini->e[ini->n];
    x->section = strdup(section);
    x->key = dup_range(ks, ke);
    x->value = dup_range(vs, ve);
    if (!x->section || !x->key || !x->value) {
        free(x->section);
        free(x->key);
        wipe_free(x->value);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    ini->n++;
    return DM_OK;
}

enum dm_code dm_ini_parse(const char *text, size_t len, const char *name,
                          struct dm_ini **out, struct dm_error *err)
{
    *out = NULL;
    if (memchr(text, '\0', len))
        return dm_fail(err, DM_ERR_AUTH, "%s: a NUL byte: not an INI file",
                       name);
    struct dm_ini *ini = calloc(1, sizeof(*ini));
    if (!ini)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = DM_OK;
    const char *section = NULL; /* the last of ini->sections */
    bool in_value = false;      /* an indented line continues a key */
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a BOM, as Windows editors write */
    for (unsigned line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        bool indented = s < e && blank(*s);
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (indented && in_value)
            continue;
        if (*s == '[') {
            const char *close = memchr(s, ']', (size_t)(e - s));
            const char *after = close ? close + 1 : e;
            const char *rest_end = comment_end(after - 1, e);
            const char *rs = after, *re = rest_end;
            trim(&rs, &re);
            if (!close || rs != re) {
                rc = dm_fail(err, DM_ERR_AUTH,
                             "%s:%u: a section header is '[name]'", name, line);
                goto out;
            }
            const char *ns = s + 1, *ne = close;
            trim(&ns, &ne);
            char *sec = section_name(ns, ne);
            if (!sec) {
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                goto out;
            }
            rc = add_section(ini, sec, err);
            if (rc)
                goto out;
            section = sec;
            in_value = false;
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq || eq == s) {
            rc = dm_fail(err, DM_ERR_AUTH, "%s:%u: not 'key = value'", name,
                         line);
            goto out;
        }
        if (!section) {
            rc = dm_fail(err, DM_ERR_AUTH,
                         "%s:%u: a setting before any [section]", name, line);
            goto out;
        }
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        ve = comment_end(vs - 1, ve);
        trim(&vs, &ve);
        rc = add_entry(ini, section, ks, ke, vs, ve, err);
        if (rc)
            goto out;
        in_value = true;
    }
out:
    if (rc) {
        dm_ini_free(ini);
        return rc;
    }
    *out = ini;
    return DM_OK;
}

enum dm_code dm_ini_load(const char *path, struct dm_ini **out,
                         struct dm_error *err)
{
    *out = NULL;
    enum dm_code rc = DM_OK;
    char *text = NULL;
    size_t len = 0, cap = 0;
    struct stat st;
    /* never waits on a FIFO named like a credentials file */
    int fd = dm_open_regular(AT_FDCWD, path, O_RDONLY, &st);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return DM_OK;
        return dm_fail_errno(err, DM_ERR_AUTH, errno, "cannot read '%s'", path);
    }
    if (st.st_size > INI_MAX_BYTES) {
        rc = dm_fail(err, DM_ERR_AUTH, "'%s': larger than %u bytes", path,
                     INI_MAX_BYTES);
        goto out;
    }
    /* one buffer of the file's size, wiped after: it holds secret keys */
    cap = (size_t)st.st_size + 1;
    text = malloc(cap);
    if (!text) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = dm_fail_errno(err, DM_ERR_AUTH, errno, "cannot read '%s'",
                               path);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap) { /* it grew while we read: read it again later */
            rc = dm_fail(err, DM_ERR_AUTH, "'%s' changed while read", path);
            goto out;
        }
    }
    text[len] = '\0';
    rc = dm_ini_parse(text, len, path, out, err);
out:
    if (text) {
        memset(text, 0, cap);
        free(text);
    }
    close(fd);
    return rc;
}

bool dm_ini_has_section(const struct dm_ini *ini, const char *section)
{
    for (size_t i = 0; ini && i < ini->nsections; i++)
        if (strcmp(ini->sections[i], section) == 0)
            return true;
    return false;
}

const char *dm_ini_get(const struct dm_ini *ini, const char *section,
                       const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; ini && i < ini->n; i++)
        if (strcmp(ini->e[i].section, section) == 0 &&
            strcasecmp(ini->e[i].key, key) == 0)
            v = ini->e[i].value; /* the last one wins */
    return v && *v ? v : NULL;
}

/* ---- the shared files ---- */

static char *home_path(const char *rest)
{
    const char *home = dm_setting(DM_SET_HOME);
    char buf[4096];
    struct passwd pw, *found = NULL;
    if ((!home || !*home) &&
        getpwuid_r(getuid(), &pw, buf, sizeof(buf), &found) == 0 && found)
        home = found->pw_dir;
    return dm_fmt("%s/%s", home && *home ? home : "", rest);
}

static char *shared_path(enum dm_setting_id var, const char *def)
{
    const char *v = dm_setting(var);
    if (!v || !*v)
        return home_path(def);
    if (strncmp(v, "~/", 2) == 0)
        return home_path(v + 2);
    return strdup(v);
}

char *dm_aws_credentials_path(void)
{
    return shared_path(DM_SET_AWS_SHARED_CREDENTIALS_FILE, ".aws/credentials");
}

char *dm_aws_config_path(void)
{
    return shared_path(DM_SET_AWS_CONFIG_FILE, ".aws/config");
}

const char *dm_aws_profile_name(bool *asked)
{
    const char *n = dm_setting(DM_SET_AWS_PROFILE);
    if (!n)
        n = dm_setting(DM_SET_AWS_DEFAULT_PROFILE);
    *asked = n && *n;
    return *asked ? n : "default";
}

/* The section that holds profile name in the config file, or NULL. */
static const char *config_section(const struct dm_ini *ini, const char *name,
                                  char **owned)
{
    *owned = dm_fmt("profile %s", name);
    if (*owned && dm_ini_has_section(ini, *owned))
        return *owned;
    if (strcmp(name, "default") == 0 && dm_ini_has_section(ini, "default"))
        return "default";
    return NULL;
}

/* Settings that make a profile a source duckmig does not implement. */
static const char *const unsupported[] = {
    "role_arn",      "credential_process",      "sso_session",
    "sso_start_url", "web_identity_token_file",
};

/*
 * Look at one file's section. DM_OK and out filled when it has keys; DM_OK
 * and nothing when it has no credential setting at all.
 */
static enum dm_code section_creds(const struct dm_ini *ini, const char *sec,
                                  const char *name, const char *path,
                                  struct dm_aws_creds *out,
                                  struct dm_error *err)
{
    const char *akid = dm_ini_get(ini, sec, "aws_access_key_id");
    const char *secret = dm_ini_get(ini, sec, "aws_secret_access_key");
    const char *token = dm_ini_get(ini, sec, "aws_session_token");
    if (akid && !secret)
        return dm_fail(err, DM_ERR_AUTH,
                       "profile '%s' in %s has aws_access_key_id but no "
                       "aws_secret_access_key",
                       name, path);
    if (secret && !akid)
        return dm_fail(err, DM_ERR_AUTH,
                       "profile '%s' in %s has aws_secret_access_key but no "
                       "aws_access_key_id",
                       name, path);
    if (akid) {
        out->access_key_id = strdup(akid);
        out->secret_access_key = strdup(secret);
        out->session_token = token ? strdup(token) : NULL;
        out->expiration = 0;
        if (!out->access_key_id || !out->secret_access_key ||
            (token && !out->session_token)) {
            dm_aws_creds_release(out);
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
        }
        return DM_OK;
    }
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++)
        if (dm_ini_get(ini, sec, unsupported[i]))
            return dm_fail(err, DM_ERR_AUTH,
                           "profile '%s' in %s uses %s, which duckmig does "
                           "not implement: give the profile static keys, or "
                           "use AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN, the "
                           "container endpoint or an instance role",
                           name, path, unsupported[i]);
    return DM_OK;
}

enum dm_code dm_aws_profile_creds(const char *name, bool asked,
                                  const char *cred_path,
                                  const char *config_path,
                                  struct dm_aws_creds *out, char **where,
                                  struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    *where = NULL;
    struct dm_ini *cred = NULL, *conf = NULL;
    char *owned = NULL;
    bool found = false;
    enum dm_code rc = dm_ini_load(cred_path, &cred, err);
    if (rc)
        goto out;
    if (dm_ini_has_section(cred, name)) {
        found = true;
        rc = section_creds(cred, name, name, cred_path, out, err);
        if (rc || out->access_key_id) {
            if (!rc &&
                !(*where = dm_fmt("profile '%s' in %s", name, cred_path)))
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    rc = dm_ini_load(config_path, &conf, err);
    if (rc)
        goto out;
    const char *sec = conf ? config_section(conf, name, &owned) : NULL;
    if (sec) {
        found = true;
        rc = section_creds(conf, sec, name, config_path, out, err);
        if (rc || out->access_key_id) {
            if (!rc &&
                !(*where = dm_fmt("profile '%s' in %s", name, config_path)))
                rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (!asked)
        goto out; /* the default profile is optional: the chain goes on */
    if (!found)
        rc = dm_fail(err, DM_ERR_AUTH,
                     "profile '%s' (AWS_PROFILE) not found in %s%s or %s%s",
                     name, cred_path, cred ? "" : " (no such file)",
                     config_path, conf ? "" : " (no such file)");
    else
        rc = dm_fail(err, DM_ERR_AUTH,
                     "profile '%s' (AWS_PROFILE) has no aws_access_key_id "
                     "in %s or %s",
                     name, cred_path, config_path);
out:
    if (rc) {
        dm_aws_creds_release(out);
        free(*where);
        *where = NULL;
    }
    free(owned);
    dm_ini_free(conf);
    dm_ini_free(cred);
    return rc;
}

char *dm_aws_profile_region(const char *name, const char *cred_path,
                            const char *config_path)
{
    struct dm_ini *cred = NULL, *conf = NULL;
    char *owned = NULL, *region = NULL;
    if (dm_ini_load(config_path, &conf, NULL))
        goto out;
    const char *sec = conf ? config_section(conf, name, &owned) : NULL;
    const char *r = sec ? dm_ini_get(conf, sec, "region") : NULL;
    if (!r) {
        if (dm_ini_load(cred_path, &cred, NULL))
            goto out;
        r = dm_ini_get(cred, name, "region");
    }
    region = r ? strdup(r) : NULL;
out:
    free(owned);
    dm_ini_free(conf);
    dm_ini_free(cred);
    return region;
}
