/*
 * jobzygote.h - job processes forked from a job zygote (see jobzygote.c)
 * instead of exec'd: `duckmig __jobzygote SOCKET`, started once by batch
 * or consume beside the engine zygotes (engine/zygote.h), forks a child
 * per job that runs what `duckmig __job DIR` runs, with the runner's
 * stdin, stdout and stderr.
 */
#ifndef DM_FLEET_JOBZYGOTE_H
#define DM_FLEET_JOBZYGOTE_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/zygote.h"

/* Start the job zygote among z's (NULL: zygotes are off, and so is it).
 * One that does not come up costs only speed: jobs are exec'd. */
void dm_job_zygote_start(struct dm_zygotes *z);

/* `duckmig __jobzygote SOCKET` (main.c); returns the exit status. */
int dm_job_zygote_main(int argc, char **argv);

/*
 * A job for folder dir, forked by the job zygote with fds as its stdin,
 * stdout and stderr: *pid leads its own process group, *conn reports its
 * end (dm_zygote_done; the pid stays the job's until conn is closed).
 * false: no job zygote, said at debug level; exec the job instead.
 */
bool dm_job_zygote_fork(const char *dir, const int fds[3], pid_t *pid,
                        int *conn);

#endif
