/*
 * protect.h - ECS task scale-in protection around a job.
 *
 * A service that scales in picks tasks to stop; a task in the middle of
 * an hour-long migration would lose the hour (the job goes back to the
 * queue when stopped, and starts again elsewhere). The ECS agent's
 * endpoint ($ECS_AGENT_URI/task-protection/v1/state) marks the task as
 * protected while a job runs, for ExpiresInMinutes; the consumer renews
 * it when a job outlives half of that, and clears it after the job.
 *
 * Only when ECS_AGENT_URI is set (ECS sets it in every task). A failed
 * call is the caller's to log and count: protection is an optimisation,
 * never a reason to stop migrating.
 */
#ifndef DM_FLEET_PROTECT_H
#define DM_FLEET_PROTECT_H

#include <stdbool.h>

#include "util/error.h"

struct dm_protect;

/* *out NULL (and DM_OK) when ECS_AGENT_URI is unset or empty. Minutes:
 * DUCKMIG_PROTECTION_MINUTES (default 120, ECS's own; 1-2880). */
enum dm_code dm_protect_open(struct dm_protect **out, struct dm_error *err);

/* Minutes a protection lasts. */
int dm_protect_minutes(const struct dm_protect *p);

/* PUT {"ProtectionEnabled":on[,"ExpiresInMinutes":N]}. */
enum dm_code dm_protect_set(struct dm_protect *p, bool on,
                            struct dm_error *err);

void dm_protect_close(struct dm_protect *p);

#endif
