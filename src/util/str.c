/* str.c - small string helpers (see str.h). */
#include "util/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "util/text.h"

char *dm_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

const char *dm_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *dm_slurp(FILE *f, size_t *len)
{
    char *buf = NULL, chunk[4096];
    size_t n;
    *len = 0;
    FILE *mem = open_memstream(&buf, len);
    if (!mem)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, mem);
    if (fclose(mem) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void dm_sbuf_addn(struct dm_sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void dm_sbuf_add(struct dm_sbuf *b, const char *s)
{
    if (!s) {
        b->oom = 1;
        return;
    }
    dm_sbuf_addn(b, s, strlen(s));
}

void dm_sbuf_addf(struct dm_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    dm_sbuf_add_owned(b, s);
}

void dm_sbuf_add_owned(struct dm_sbuf *b, char *s)
{
    dm_sbuf_add(b, s);
    free(s);
}

char *dm_sbuf_take(struct dm_sbuf *b)
{
    char *s = NULL;
    if (!b->oom)
        s = b->s ? b->s : strdup("");
    else
        free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return s;
}

void dm_sbuf_release(struct dm_sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void dm_fputs_safe(const char *s, FILE *f)
{
    /* one escaping rule for every terminal output (text.h), C1 controls
     * and bytes that are not UTF-8 included */
    if (s)
        dm_fputs_escaped(s, f);
}

bool dm_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool dm_parse_u64_in(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    if (!dm_parse_u64(s, &v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool dm_parse_i64_in(const char *s, int64_t min, int64_t max, int64_t *out)
{
    /* strtoll alone takes leading space and a '+' */
    const char *digits = s && *s == '-' ? s + 1 : s;
    if (!digits || *digits < '0' || *digits > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = (int64_t)v;
    return true;
}

bool dm_parse_size(const char *s, uint64_t *bytes)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {
        {"b", 1},
        {"bytes", 1},
        {"kb", 1e3},
        {"mb", 1e6},
        {"gb", 1e9},
        {"tb", 1e12},
        {"kib", 1024.0},
        {"mib", 1048576.0},
        {"gib", 1073741824.0},
        {"tib", 1099511627776.0},
    };
    if (!s || !(*s >= '0' && *s <= '9'))
        return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return false;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
        if (strcasecmp(end, units[i].unit) == 0) {
            double b = v * units[i].scale;
            if (!(b >= 0 && b < 1.8e19))
                return false;
            *bytes = (uint64_t)b;
            return true;
        }
    return false;
}
