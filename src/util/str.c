/* str.c - small string helpers (see str.h). */
#include "util/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *dm_env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
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
