/*
 * log.h - leveled logging for the CLI and the services.
 *
 * Human lines ("duckmig: warning: engine: ...") by default; one JSON object
 * per line when LOG_FORMAT=json, for CloudWatch and friends. LOG_LEVEL is
 * one of debug, info, warn, error (default info). The DM_LOG macro checks
 * the level before evaluating its arguments, so debug logging in a hot path
 * costs one comparison when it is off.
 *
 * Logs go to stderr; stdout belongs to command output. Never pass a secret
 * to these functions.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include "util/error.h"

enum dm_log_level {
    DM_LOG_DEBUG = 0,
    DM_LOG_INFO = 1,
    DM_LOG_WARN = 2,
    DM_LOG_ERROR = 3,
};

extern enum dm_log_level dm_log_threshold;

/* Read LOG_LEVEL and LOG_FORMAT from the environment. Call once, early.
 * DM_ERR_USAGE names a value that is neither unset, empty nor known
 * (what was understood is applied all the same). */
enum dm_code dm_log_init(struct dm_error *err);

/* Parse "debug"/"info"/"warn"/"error"; returns -1 for anything else. */
int dm_log_parse_level(const char *s);

/*
 * Send whole lines (each ending with '\n') to fn instead of stderr, NULL
 * for stderr again: batch draws its progress line below them. Set it
 * before other threads log.
 */
typedef void (*dm_log_sink_fn)(const char *line, void *ud);
void dm_log_set_sink(dm_log_sink_fn fn, void *ud);

/*
 * Write `to` wherever `from` appears in a message: a job names its
 * source's key, not the temporary copy it works on. Aliases apply in the
 * order given (at most 8); set them before other threads log.
 */
void dm_log_alias(const char *from, const char *to);
void dm_log_alias_clear(void);

void dm_log_emit(enum dm_log_level level, const char *component,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A line about a file's outcome: with LOG_FORMAT=json, the outcome
 * (fleet/outcome.h's object) rides along as "outcome", so that a log
 * collector reads the same keys as --json. */
struct json_t;
void dm_log_outcome(enum dm_log_level level, const char *component,
                    struct json_t *outcome, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define DM_LOG(level, component, ...)                                          \
    do {                                                                       \
        if ((level) >= dm_log_threshold)                                       \
            dm_log_emit((level), (component), __VA_ARGS__);                    \
    } while (0)

#define dm_debug(comp, ...)  DM_LOG(DM_LOG_DEBUG, comp, __VA_ARGS__)
#define dm_info(comp, ...)   DM_LOG(DM_LOG_INFO, comp, __VA_ARGS__)
#define dm_warn(comp, ...)   DM_LOG(DM_LOG_WARN, comp, __VA_ARGS__)
#define dm_errlog(comp, ...) DM_LOG(DM_LOG_ERROR, comp, __VA_ARGS__)

#endif
