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

#include "util/str.h"
#include "util/settings.h"
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

enum dm_code dm_log_init(struct dm_error *err)
{
    /* the settings table refused, at load, a value that is not
     * understood: a service told LOG_FORMAT=JSON must not log lines its
     * collector cannot read */
    const char *level = dm_setting(DM_SET_LOG_LEVEL);
    int lvl = dm_log_parse_level(level);
    if (lvl < 0)
        return dm_fail(err, DM_ERR_USAGE, "LOG_LEVEL=%s: not a level", level);
    dm_log_threshold = (enum dm_log_level)lvl;
    log_json = strcmp(dm_setting(DM_SET_LOG_FORMAT), "json") == 0;
    return DM_OK;
}

/* Where lines go instead of stderr (dm_log_set_sink). */
static dm_log_sink_fn sink;
static void *sink_ud;

void dm_log_set_sink(dm_log_sink_fn fn, void *ud)
{
    sink = fn;
    sink_ud = ud;
}

/* Names replaced in messages (dm_log_alias), in the order given. */
#define MAX_ALIASES 8
static struct {
    char *from, *to;
} aliases[MAX_ALIASES];
static size_t naliases;

void dm_log_alias(const char *from, const char *to)
{
    if (!from || !*from || !to || naliases == MAX_ALIASES)
        return;
    aliases[naliases].from = strdup(from);
    aliases[naliases].to = strdup(to);
    if (!aliases[naliases].from || !aliases[naliases].to) {
        free(aliases[naliases].from);
        free(aliases[naliases].to);
        return;
    }
    naliases++;
}

void dm_log_alias_clear(void)
{
    for (size_t i = 0; i < naliases; i++) {
        free(aliases[i].from);
        free(aliases[i].to);
    }
    naliases = 0;
}

/* Append text to out (len used of cap), cutting at cap. */
static void append(char *out, size_t cap, size_t *len, const char *text,
                   size_t n)
{
    size_t room = cap - 1 - *len;
    if (n > room)
        n = room;
    memcpy(out + *len, text, n);
    *len += n;
    out[*len] = '\0';
}

/* msg with every alias replaced, into out (cut at cap). */
static void apply_aliases(const char *msg, char *out, size_t cap)
{
    char a[4096];
    snprintf(a, sizeof(a), "%s", msg);
    for (size_t i = 0; i < naliases; i++) {
        size_t len = 0, flen = strlen(aliases[i].from);
        const char *p = a, *hit;
        out[0] = '\0';
        while ((hit = strstr(p, aliases[i].from))) {
            append(out, cap, &len, p, (size_t)(hit - p));
            append(out, cap, &len, aliases[i].to, strlen(aliases[i].to));
            p = hit + flen;
        }
        append(out, cap, &len, p, strlen(p));
        snprintf(a, sizeof(a), "%s", out);
    }
    snprintf(out, cap, "%s", a);
}

static void put_line(const char *line)
{
    if (sink)
        sink(line, sink_ud);
    else
        fputs(line, stderr);
}

static void emit_json(enum dm_log_level level, const char *component,
                      const char *msg, json_t *outcome)
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
    if (obj && outcome)
        json_object_set(obj, "outcome", outcome);
    char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    char *nl = line ? dm_fmt("%s\n", line) : NULL;
    if (nl)
        put_line(nl);
    free(nl);
    free(line);
    json_decref(obj);
}

static void emit(enum dm_log_level level, const char *component,
                 json_t *outcome, const char *fmt, va_list ap)
{
    char raw[4096], msg[4096];
    vsnprintf(raw, sizeof(raw), fmt, ap);
    apply_aliases(raw, msg, sizeof(msg));

    if (log_json) {
        emit_json(level, component, msg, outcome);
        return;
    }
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};
    char *safe = dm_escape(msg);
    char *line = dm_fmt("duckmig: %s%s: %s\n", prefix[level], component,
                        safe ? safe : "(out of memory)");
    if (line)
        put_line(line);
    free(line);
    free(safe);
}

void dm_log_emit(enum dm_log_level level, const char *component,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, component, NULL, fmt, ap);
    va_end(ap);
}

void dm_log_outcome(enum dm_log_level level, const char *component,
                    json_t *outcome, const char *fmt, ...)
{
    if (level < dm_log_threshold)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(level, component, outcome, fmt, ap);
    va_end(ap);
}
