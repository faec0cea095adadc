/* sigv4.c - AWS Signature Version 4 (see sigv4.h). */
#include "aws/sigv4.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char dm_sha256_empty[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void dm_hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void dm_base64(const unsigned char *bytes, size_t n, char *out, size_t cap)
{
    if (cap < 4 * ((n + 2) / 3) + 1) {
        if (cap)
            out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, bytes, (int)n);
}

void dm_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    dm_hex(md, 32, out);
}

void dm_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

char *dm_aws_uri_encode(const char *s, bool keep_slash)
{
    size_t size = 3 * strlen(s) + 1;
    char *out = malloc(size), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/'))
            *o++ = (char)*p;
        else
            o += snprintf(o, size - (size_t)(o - out), "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

struct encoded_param {
    char *name, *value;
};

static int cmp_param(const void *a, const void *b)
{
    const struct encoded_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

char *dm_sigv4_query(const struct dm_query_param *params, size_t n)
{
    struct encoded_param *enc = calloc(n ? n : 1, sizeof(*enc));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    bool ok = enc != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        enc[i].name = dm_aws_uri_encode(params[i].name, false);
        enc[i].value =
            dm_aws_uri_encode(params[i].value ? params[i].value : "", false);
        ok = enc[i].name && enc[i].value;
    }
    if (ok) {
        qsort(enc, n, sizeof(*enc), cmp_param);
        f = open_memstream(&buf, &len);
        ok = f != NULL;
    }
    for (size_t i = 0; ok && i < n; i++)
        fprintf(f, "%s%s=%s", i ? "&" : "", enc[i].name, enc[i].value);
    if (f && fclose(f) != 0)
        ok = false;
    for (size_t i = 0; enc && i < n; i++) {
        free(enc[i].name);
        free(enc[i].value);
    }
    free(enc);
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

struct canon_header {
    char *name;  /* lowercased */
    char *value; /* trimmed, runs of spaces folded */
};

static int cmp_header(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static char *trim_fold(const char *s)
{
    char *d = malloc(strlen(s) + 1), *o = d;
    if (!d)
        return NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    bool space = false;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t') {
            space = true;
            continue;
        }
        if (space && o != d)
            *o++ = ' ';
        space = false;
        *o++ = *s;
    }
    *o = '\0';
    return d;
}

/* Writes the canonical headers block (with its trailing blank line) and
 * the signed-headers list into two memstreams. */
static bool canonical_headers(const struct dm_sigv4_request *req, FILE *block,
                              FILE *names)
{
    size_t n = req->nheaders;
    struct canon_header *h = calloc(n ? n : 1, sizeof(*h));
    bool ok = h != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        h[i].name = lower_dup(req->headers[i].name);
        h[i].value = trim_fold(req->headers[i].value);
        ok = h[i].name && h[i].value;
    }
    if (ok) {
        /* a stable sort keeps repeated headers in the order given, which
         * is the order their values are joined in */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && cmp_header(&h[j - 1], &h[j]) > 0; j--) {
                struct canon_header t = h[j];
                h[j] = h[j - 1];
                h[j - 1] = t;
            }
        for (size_t i = 0; i < n; i++) {
            bool repeat = i > 0 && strcmp(h[i - 1].name, h[i].name) == 0;
            if (repeat) {
                fprintf(block, ",%s", h[i].value);
                continue;
            }
            if (i > 0)
                fputc('\n', block);
            fprintf(block, "%s:%s", h[i].name, h[i].value);
            fprintf(names, "%s%s", i ? ";" : "", h[i].name);
        }
        fputc('\n', block);
    }
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
    return ok;
}

/* The canonical request and the signed-headers list. */
static bool canonical(const struct dm_sigv4_request *req, char **request,
                      char **signed_names)
{
    char *block = NULL, *names = NULL;
    size_t blen = 0, nlen = 0;
    FILE *fb = open_memstream(&block, &blen);
    FILE *fn = open_memstream(&names, &nlen);
    bool ok = fb && fn && canonical_headers(req, fb, fn);
    if (fb && fclose(fb) != 0)
        ok = false;
    if (fn && fclose(fn) != 0)
        ok = false;
    *request = NULL;
    if (ok)
        ok = asprintf(request, "%s\n%s\n%s\n%s\n%s\n%s", req->method, req->path,
                      req->query ? req->query : "", block, names,
                      req->payload_hash) >= 0;
    free(block);
    if (!ok) {
        free(names);
        *request = NULL;
        return false;
    }
    *signed_names = names;
    return true;
}

char *dm_sigv4_canonical_request(const struct dm_sigv4_request *req)
{
    char *request = NULL, *names = NULL;
    if (!canonical(req, &request, &names))
        return NULL;
    free(names);
    return request;
}

static void hmac(const void *key, size_t keylen, const char *msg,
                 unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
         strlen(msg), out, &len);
}

enum dm_code dm_sigv4_sign(const struct dm_sigv4_request *req,
                           const struct dm_sigv4_scope *scope,
                           const char *access_key_id,
                           const char *secret_access_key, char **authorization,
                           struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    char *request = NULL, *names = NULL, *to_sign = NULL, *secret = NULL;
    char date[9], hash[65], sig[65];
    unsigned char k[32], tmp[32];
    *authorization = NULL;

    if (!scope->amz_date || strlen(scope->amz_date) != 16) {
        rc = dm_fail(err, DM_ERR_INTERNAL, "sigv4: bad x-amz-date");
        goto out;
    }
    memcpy(date, scope->amz_date, 8);
    date[8] = '\0';
    if (!canonical(req, &request, &names)) {
        rc = dm_fail(err, DM_ERR_NOMEM, "sigv4: out of memory");
        goto out;
    }
    dm_sha256_hex(request, strlen(request), hash);
    if (asprintf(&to_sign, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                 scope->amz_date, date, scope->region, scope->service,
                 hash) < 0 ||
        asprintf(&secret, "AWS4%s", secret_access_key) < 0) {
        to_sign = secret = NULL;
        rc = dm_fail(err, DM_ERR_NOMEM, "sigv4: out of memory");
        goto out;
    }
    hmac(secret, strlen(secret), date, k);
    hmac(k, 32, scope->region, tmp);
    hmac(tmp, 32, scope->service, k);
    hmac(k, 32, "aws4_request", tmp);
    hmac(tmp, 32, to_sign, k);
    dm_hex(k, 32, sig);
    if (asprintf(authorization,
                 "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                 "SignedHeaders=%s, Signature=%s",
                 access_key_id, date, scope->region, scope->service, names,
                 sig) < 0) {
        *authorization = NULL;
        rc = dm_fail(err, DM_ERR_NOMEM, "sigv4: out of memory");
    }
out:
    if (secret) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(tmp, sizeof(tmp));
    free(to_sign);
    free(names);
    free(request);
    return rc;
}
