/*
 * log.c - human or JSON log lines on stderr. A message often carries a
 * name from outside (a key, a file name, a server's answer): human lines
 * escape its control characters (util/text.h), and JSON lines replace
 * what is not UTF-8, which jansson would refuse, losing the line.
 */
#include "util/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/text.h"

enum dm_log_level dm_log_threshold = DM_LOG_INFO;
static bool log_json;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int dm_log_parse_level(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return DM_LOG_WARN;
    return -1;
}

void dm_log_init(void)
{
    int lvl = dm_log_parse_level(getenv("LOG_LEVEL"));
    if (lvl >= 0)
        dm_log_threshold = (enum dm_log_level)lvl;
    const char *fmt = getenv("LOG_FORMAT");
    log_json = fmt && strcmp(fmt, "json") == 0;
}

static void emit_json(enum dm_log_level level, const char *component,
                      const char *msg)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));

    json_t *obj = json_pack("{s:s, s:s, s:s, s:o, s:i}", "ts", ts, "level",
                            level_names[level], "component", component, "msg",
                            dm_json_text(msg, NULL), "pid", (int)getpid());
    char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (line)
        fprintf(stderr, "%s\n", line);
    free(line);
    json_decref(obj);
}

void dm_log_emit(enum dm_log_level level, const char *component,
                 const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (log_json) {
        emit_json(level, component, msg);
        return;
    }
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};
    char *safe = dm_escape(msg);
    fprintf(stderr, "duckmig: %s%s: %s\n", prefix[level], component,
            safe ? safe : "(out of memory)");
    free(safe);
}
