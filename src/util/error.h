/*
 * error.h - the one error type of duckmig.
 *
 * Every fallible function returns an enum dm_code (DM_OK is 0) and, when
 * given a struct dm_error, fills it with a one-line message that names the
 * object that failed. The code doubles as the process exit status, so the
 * numbers below are part of the interface: never renumber them.
 *
 *     struct dm_error err = DM_ERROR_INIT;
 *     if (dm_header_read_file(path, &info, &err))
 *         fprintf(stderr, "duckmig: %s\n", err.msg);
 */
#ifndef DM_ERROR_H
#define DM_ERROR_H

#include <stddef.h>

enum dm_code {
    DM_OK = 0,
    DM_ERR_GENERIC = 1,     /* something failed; see the message */
    DM_ERR_USAGE = 2,       /* bad command line */
    DM_ERR_IO = 3,          /* open/read/write/rename failed */
    DM_ERR_NOT_DUCKDB = 4,  /* no DUCK magic: a foreign file */
    DM_ERR_TRUNCATED = 5,   /* shorter than the headers it must hold */
    DM_ERR_CHECKSUM = 6,    /* a header checksum does not match */
    DM_ERR_UNSUPPORTED = 7, /* version or feature we cannot handle */
    DM_ERR_ENGINE = 8,      /* no engine, or the engine failed to load */
    DM_ERR_NOMEM = 9,       /* allocation failed */
    DM_ERR_PROTOCOL = 10,   /* engine worker spoke nonsense or died */
    DM_ERR_SQL = 11,        /* DuckDB rejected a statement */
    DM_ERR_INTERNAL = 12,   /* a broken invariant: a bug in duckmig */
    DM_ERR_VERIFY = 13,     /* destination differs from source: not kept */
    DM_ERR_INCOMPLETE = 14, /* written, but some objects were not carried */
    DM_ERR_NETWORK = 15,    /* transient: connection, timeout, 5xx, throttled */
    DM_ERR_AUTH = 16,       /* credentials missing or refused (401/403) */
    DM_ERR_NOT_FOUND = 17,  /* no such object, key or bucket */
    DM_ERR_BAD_KEY = 18,    /* a key that leaves its root: "..", "/x", NUL */
    DM_ERR_REMOTE = 19,     /* the server refused the request (other 4xx) */
    /* DuckDB ran out of memory or disk: transient, for a retry with more
     * (or on the big queue), never an incomplete file */
    DM_ERR_RESOURCE = 20,
    /* a file or its WAL that its own release cannot read whole */
    DM_ERR_DAMAGED = 21,
};
#define DM_ERR_LAST DM_ERR_DAMAGED

/*
 * The class of a DuckDB error message: DM_ERR_RESOURCE for out of
 * memory or disk, DM_ERR_SQL for anything else DuckDB refused.
 */
enum dm_code dm_duckdb_error_class(const char *msg);

#define DM_ERROR_MSG_MAX 1024

struct dm_error {
    enum dm_code code;
    char msg[DM_ERROR_MSG_MAX];
};

#define DM_ERROR_INIT                                                          \
    {                                                                          \
        DM_OK,                                                                 \
        {                                                                      \
            0                                                                  \
        }                                                                      \
    }

/*
 * Record a failure in err (which may be NULL) and return code, so that
 * `return dm_fail(err, DM_ERR_IO, "cannot open '%s'", p);` reads naturally.
 * A second failure does not overwrite the first: the root cause wins.
 */
enum dm_code dm_fail(struct dm_error *err, enum dm_code code, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

/* Like dm_fail, but appends ": strerror(errnum)". */
enum dm_code dm_fail_errno(struct dm_error *err, enum dm_code code, int errnum,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Forget a recorded failure, e.g. after it was handled. */
void dm_error_clear(struct dm_error *err);

/* A short fixed name for a code ("io", "checksum", ...), for JSON output. */
const char *dm_code_name(enum dm_code code);

#endif
