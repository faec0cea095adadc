/*
 * health.h - the consumer's heartbeat file, for a container health check.
 *
 * The consumer's main thread touches the file (DUCKMIG_HEARTBEAT_FILE,
 * default /tmp/duckmig-heartbeat) each time round its loop, which never
 * waits more than a second while all is well; `duckmig health` says
 * unhealthy when the file is older than --max-age. A consumer stuck in a
 * call that never returns (a dead peer the library waits on forever)
 * stops touching it, and the orchestrator replaces the task.
 */
#ifndef DM_FLEET_HEALTH_H
#define DM_FLEET_HEALTH_H

#include "util/error.h"

/* DUCKMIG_HEARTBEAT_FILE, or the default. */
const char *dm_heartbeat_path(void);

/* Set the file's time to now, making it when missing. */
enum dm_code dm_heartbeat_touch(const char *path, struct dm_error *err);

/* Seconds since the file was last touched (DM_ERR_NOT_FOUND: none). */
enum dm_code dm_heartbeat_age(const char *path, double *age,
                              struct dm_error *err);

#endif
