/*
 * zygote.h - engines kept loaded across files (see zygote.c): one process
 * per release that has loaded its libduckdb once and forks a fresh worker
 * for each dm_engine_start() of a batch or a consumer.
 */
#ifndef DM_ENGINE_ZYGOTE_H
#define DM_ENGINE_ZYGOTE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct dm_zygotes;

/*
 * Start a zygote for every installed release, with its socket in a
 * private folder under parent, wait (briefly) until they listen, and set
 * DUCKMIG_ZYGOTE_DIR for this process and the jobs it starts.
 * *out is NULL when they are turned off. A zygote that does not come up
 * costs nothing but its speed: dm_engine_start() then spawns a worker.
 */
enum dm_code dm_zygotes_start(const char *parent, struct dm_zygotes **out,
                              struct dm_error *err);
/* Stop them (workers already forked finish their files) and unset the
 * variable. NULL is fine. */
void dm_zygotes_stop(struct dm_zygotes *z);

/* `duckmig __zygote RELEASE LIBRARY SOCKET`; returns the exit status. */
int dm_engine_zygote_main(int argc, char **argv);

/*
 * A worker for release from its zygote, if one is listening: *fd is the
 * worker's socket (it answers READY as a spawned one does), *pid its
 * process, *conn the connection that reports its end. false: none, start
 * one the usual way.
 */
bool dm_zygote_fork(const char *release, const char *library, int *fd,
                    pid_t *pid, int *conn);

/*
 * The end of a worker from a zygote: wait up to timeout_ms for it (after
 * killing it first when kill_first), then kill it and wait for good. Sets
 * *status as waitpid would; false when the zygote could not say (it is
 * gone). Closes *conn and sets it to -1.
 */
bool dm_zygote_reap(int *conn, bool kill_first, int timeout_ms, int *status);

#endif
