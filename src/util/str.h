/* str.h - small string helpers the C library lacks. */
#ifndef DM_UTIL_STR_H
#define DM_UTIL_STR_H

/* printf into a new malloc'd string; NULL when out of memory. */
char *dm_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
