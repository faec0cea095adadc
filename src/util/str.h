/* str.h - small string helpers the C library lacks. */
#ifndef DM_UTIL_STR_H
#define DM_UTIL_STR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* printf into a new malloc'd string; NULL when out of memory. */
char *dm_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The part of a path or key after its last '/'. */
const char *dm_base_name(const char *path);

/* All of f, NUL-terminated, in a new buffer (its length in *len);
 * NULL when out of memory. */
char *dm_slurp(FILE *f, size_t *len);

/*
 * The checked number parsers: every number read from a user, the
 * environment, a message, a file or a server goes through one of these,
 * never atoi or a bare strtol (atoi("abc") is 0, and "12x" is 12).
 *
 * A whole decimal number (no sign, space, junk or overflow): false else,
 * *out untouched.
 */
bool dm_parse_u64(const char *s, uint64_t *out);

/* The same, and from min to max. */
bool dm_parse_u64_in(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A size as DuckDB writes one ("20.2GB", "512.0 MiB", "1500000000B",
 * "123 bytes"): a decimal number, then B or bytes, KB, MB, GB, TB
 * (powers of 1000) or KiB, MiB, GiB, TiB (of 1024), any case. False
 * for anything else.
 */
bool dm_parse_size(const char *s, uint64_t *bytes);

/* A whole decimal number with an optional '-', from min to max. */
bool dm_parse_i64_in(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Write s to f with control characters escaped (\n, \t, \xNN), so that
 * text taken from a file or a message cannot drive a terminal; C1
 * controls and bytes that are not UTF-8 too (util/text.h).
 */
void dm_fputs_safe(const char *s, FILE *f);

/*
 * A growing string. An append that fails marks the buffer; dm_sbuf_take
 * then returns NULL, so a builder checks once, at the end.
 */
struct dm_sbuf {
    char *s;
    size_t len, cap;
    int oom;
};

#define DM_SBUF_INIT                                                           \
    {                                                                          \
        NULL, 0, 0, 0                                                          \
    }

void dm_sbuf_add(struct dm_sbuf *b, const char *s);
void dm_sbuf_addn(struct dm_sbuf *b, const char *s, size_t n);
void dm_sbuf_addf(struct dm_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s through a quoting function (dm_sql_ident, ...); s NULL: oom. */
void dm_sbuf_add_owned(struct dm_sbuf *b, char *s);
/* The string (the caller frees it), or NULL when an append failed. */
char *dm_sbuf_take(struct dm_sbuf *b);
void dm_sbuf_release(struct dm_sbuf *b);

#endif
