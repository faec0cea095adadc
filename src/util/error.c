/* error.c - recording failures in the project's one error type. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void record(struct dm_error *err, enum dm_code code, int errnum,
                   const char *fmt, va_list ap)
{
    if (!err || err->code != DM_OK)
        return;
    err->code = code;
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (errnum && n >= 0 && (size_t)n < sizeof(err->msg))
        snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
                 strerror(errnum));
}

enum dm_code dm_fail(struct dm_error *err, enum dm_code code, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

enum dm_code dm_fail_errno(struct dm_error *err, enum dm_code code, int errnum,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(err, code, errnum, fmt, ap);
    va_end(ap);
    return code;
}

void dm_error_clear(struct dm_error *err)
{
    if (!err)
        return;
    err->code = DM_OK;
    err->msg[0] = '\0';
}

const char *dm_code_name(enum dm_code code)
{
    switch (code) {
    case DM_OK:
        return "ok";
    case DM_ERR_GENERIC:
        return "error";
    case DM_ERR_USAGE:
        return "usage";
    case DM_ERR_IO:
        return "io";
    case DM_ERR_NOT_DUCKDB:
        return "not_duckdb";
    case DM_ERR_TRUNCATED:
        return "truncated";
    case DM_ERR_CHECKSUM:
        return "checksum";
    case DM_ERR_UNSUPPORTED:
        return "unsupported";
    case DM_ERR_ENGINE:
        return "engine";
    case DM_ERR_NOMEM:
        return "nomem";
    case DM_ERR_PROTOCOL:
        return "protocol";
    case DM_ERR_SQL:
        return "sql";
    case DM_ERR_INTERNAL:
        return "internal";
    case DM_ERR_VERIFY:
        return "verify";
    case DM_ERR_INCOMPLETE:
        return "incomplete";
    case DM_ERR_NETWORK:
        return "network";
    case DM_ERR_AUTH:
        return "auth";
    case DM_ERR_NOT_FOUND:
        return "not_found";
    case DM_ERR_BAD_KEY:
        return "bad_key";
    case DM_ERR_RESOURCE:
        return "resource";
    case DM_ERR_DAMAGED:
        return "damaged";
    case DM_ERR_REMOTE:
        return "remote";
    }
    return "unknown";
}

enum dm_code dm_duckdb_error_class(const char *msg)
{
    static const char *const resource[] = {
        "Out of Memory Error", "No space left on device",
        "Disk quota exceeded", "could not allocate block",
        "failed to allocate",
    };
    for (size_t i = 0; msg && i < sizeof(resource) / sizeof(*resource); i++)
        if (strstr(msg, resource[i]))
            return DM_ERR_RESOURCE;
    return DM_ERR_SQL;
}
