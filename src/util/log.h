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

enum dm_log_level {
    DM_LOG_DEBUG = 0,
    DM_LOG_INFO = 1,
    DM_LOG_WARN = 2,
    DM_LOG_ERROR = 3,
};

extern enum dm_log_level dm_log_threshold;

/* Read LOG_LEVEL and LOG_FORMAT from the environment. Call once, early. */
void dm_log_init(void);

/* Parse "debug"/"info"/"warn"/"error"; returns -1 for anything else. */
int dm_log_parse_level(const char *s);

void dm_log_emit(enum dm_log_level level, const char *component,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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
