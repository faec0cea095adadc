/*
 * text.h - names and messages from outside (file names, object keys,
 * dead-letter reasons, server answers) made safe to show.
 *
 * On a terminal or in a log line, control characters, C1 controls (which
 * some terminals obey even UTF-8 encoded) and bytes that are not UTF-8
 * are written as \n, \t or \xNN: a name cannot move the cursor, retitle
 * the window or hide a line. In JSON, a string that is not UTF-8 would
 * make jansson refuse it, and with it the whole object: such bytes become
 * U+FFFD, and the entry says so (dm_json_set_name).
 */
#ifndef DM_UTIL_TEXT_H
#define DM_UTIL_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Is s (NUL-terminated) well-formed UTF-8? */
bool dm_utf8_valid(const char *s);

/* s escaped for a terminal (see above), in a new string; NULL when out of
 * memory. NULL s gives "(null)". */
char *dm_escape(const char *s);

/* dm_escape straight to f. */
void dm_fputs_escaped(const char *s, FILE *f);

/* s with every byte that is not UTF-8 replaced by U+FFFD, in a new
 * string; NULL when out of memory. */
char *dm_utf8_lossy(const char *s);

/* s as a JSON string, never NULL for a non-NULL s (barring memory):
 * bytes that are not UTF-8 become U+FFFD, and *lossy (may be NULL) says
 * whether any did. */
json_t *dm_json_text(const char *s, bool *lossy);

/*
 * obj[field] = s as dm_json_text makes it. When s is not UTF-8, the entry
 * also gets field + "_escaped" (s as dm_escape writes it, which names the
 * file exactly) and "invalid_utf8": true. Returns whether s was UTF-8.
 */
bool dm_json_set_name(json_t *obj, const char *field, const char *s);

#endif
