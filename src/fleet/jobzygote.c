/*
 * jobzygote.c - jobs forked from a job zygote (see jobzygote.h).
 *
 * Why: an exec of duckmig for every job costs ~32 ms of CPU in the
 * dynamic loader alone (libcurl's tree ~17 ms, libpq's ~16 ms), about
 * 15% of a small file's. A fork of a process that has loaded them costs
 * well under a millisecond.
 *
 * Why a fresh exec, and not a fork of batch or consume: those hold
 * threads (a fork copies one, with the others' locks held), the broker's
 * and the ledger's connections, the metrics server's socket, the batch's
 * state. The job zygote is exec'd with their environment and nothing
 * else (it closes every descriptor above stderr too), so that its
 * children are what an exec'd job would be: the environment it read at
 * start is the one a job exec'd later would read (batch and consume
 * change none; what they set travels in the job's stdin as setting
 * overrides, runner.c).
 *
 * The server loop, the protocol (FORK with descriptors, OK(pid),
 * DONE(wait status)) and the reaping are the engine zygote's
 * (engine/zygote.c), with a kind whose children lead their own process
 * group and take three descriptors: the job's stdin, stdout and stderr.
 */
#include "fleet/jobzygote.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "engine/wire.h"
#include "fleet/runner.h"
#include "util/log.h"
#include "util/settings.h"

/* the job zygote's socket, job.sock beside the engine zygotes' RELEASE.sock
 * (no release is named "job") */
#define JOB_ZYGOTE "job"

void dm_job_zygote_start(struct dm_zygotes *z)
{
    if (!z)
        return;
    if (dm_zygotes_add(z, "__jobzygote", JOB_ZYGOTE))
        dm_debug("job", "a job zygote forks the jobs");
    else
        dm_debug("job", "the job zygote did not start: jobs are exec'd");
}

/* A FORK names the job's folder. */
static bool job_accepts(void *ud, const struct dm_wbuf *frame)
{
    (void)ud;
    struct dm_wcur cur;
    dm_wcur_init(&cur, frame);
    char *dir = dm_wcur_str(&cur, NULL);
    bool ok = dir != NULL && !cur.bad;
    free(dir);
    return ok;
}

/* The job zygote: its pid, and the memory of its command line. */
struct job_zygote {
    pid_t pid;
    char *args;
    size_t room;
};

/*
 * The job's command line as an exec'd job's, `duckmig __job DIR`, over
 * the zygote's own (`... __jobzygote SOCKET`), so that ps and pgrep -f
 * (the tests, an operator) find a job the same way either way. Kept as
 * it is when DIR does not fit (the socket's path is usually longer).
 */
static void job_title(const struct job_zygote *jz, const char *dir)
{
    int n = snprintf(jz->args, jz->room, "duckmig%c__job%c%s", 0, 0, dir);
    if (n < 0 || (size_t)n >= jz->room)
        return;
    memset(jz->args + n, 0, jz->room - (size_t)n);
}

/* In the forked child: `duckmig __job DIR` on the descriptors passed. */
static void become_job(void *ud, const struct dm_wbuf *frame, int *fds)
{
    const struct job_zygote *jz = ud;
    pid_t zygote = jz->pid;
    /* dies with the zygote, which dies with its batch or consumer: the
     * parent-death signal an exec'd job has from its runner */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != zygote)
        _exit(1);
    for (int i = 0; i < 3; i++)
        if (dup2(fds[i], i) != i)
            _exit(1);
    for (int i = 0; i < 3; i++)
        if (fds[i] > 2)
            close(fds[i]);
    struct dm_wcur cur;
    dm_wcur_init(&cur, frame);
    char *dir = dm_wcur_str(&cur, NULL);
    if (dir)
        job_title(jz, dir);
    char *argv[] = {(char *)"__job", dir, NULL};
    int status = dm_job_child_main(2, argv);
    free(dir);
    /* exit, not _exit: stdout holds the outcome until it is flushed */
    exit(status);
}

int dm_job_zygote_main(int argc, char **argv)
{
    /* lives no longer than the batch or consumer that started it */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (argc != 2) {
        fprintf(stderr, "usage: duckmig __jobzygote SOCKET\n");
        return 2;
    }
    /* nothing of its starter's (a descriptor it failed to mark
     * close-on-exec) may reach a job */
    close_range(3, ~0U, 0);
    /* main's argv[0] to the end of SOCKET: one block of memory */
    struct job_zygote jz = {
        getpid(), program_invocation_name,
        (size_t)(argv[1] + strlen(argv[1]) + 1 - program_invocation_name)};
    struct dm_zygote_kind kind = {.name = "job zygote",
                                  .nfds = 3,
                                  .own_group = true,
                                  .accepts = job_accepts,
                                  .become = become_job,
                                  .ud = &jz};
    return dm_zygote_serve(argv[1], &kind);
}

bool dm_job_zygote_fork(const char *dir, const int fds[3], pid_t *pid,
                        int *conn)
{
    struct dm_wbuf buf = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    bool ok = false;

    /* unset: zygotes are off (DUCKMIG_KEEP_ENGINES=0), nothing to say */
    if (!dm_setting(DM_SET_ZYGOTE_DIR))
        return false;
    dm_wbuf_begin(&buf, DM_W_FORK);
    dm_wbuf_str(&buf, dir);
    ok = dm_zygote_request(JOB_ZYGOTE, &buf, fds, 3, pid, conn, &err);
    if (ok)
        dm_debug("job", "job %d forked by the job zygote", (int)*pid);
    else
        dm_debug("job", "no job zygote (%s): exec'ing the job", err.msg);
    dm_wbuf_release(&buf);
    return ok;
}
