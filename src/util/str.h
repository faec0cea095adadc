/* str.h - small string helpers the C library lacks. */
#ifndef DM_UTIL_STR_H
#define DM_UTIL_STR_H

#include <stdio.h>

/* printf into a new malloc'd string; NULL when out of memory. */
char *dm_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The part of a path or key after its last '/'. */
const char *dm_base_name(const char *path);

/* getenv(name), or def when it is unset or empty. */
const char *dm_env_or(const char *name, const char *def);

/* All of f, NUL-terminated, in a new buffer (its length in *len);
 * NULL when out of memory. */
char *dm_slurp(FILE *f, size_t *len);

#endif
