/*
 * runner.h - one job in a child process (`duckmig __job`): the message and
 * this process's setting overrides (util/settings.h) on its stdin, as
 * one JSON document, the outcome JSON on its stdout. The child dies with its
 * parent (PR_SET_PDEATHSIG) and leads its own process group, so that a
 * job and its engine workers can be stopped together. Used by `consume`
 * (one job at a time, watched by a thread) and `batch` (N at a time).
 * The child is forked by the job zygote when there is one
 * (fleet/jobzygote.h), else exec'd; the same holds either way, the
 * parent-death chain passing through the zygote.
 *
 * The job's folder (its download, the migration's staging, the WAL) is
 * made here, before the child starts, and removed here once the child is
 * gone, however it ended: finished, failed, or killed by
 * dm_job_run_kill. The folder's lock (util/tmpdir.h) is held by this
 * process, so a folder left by a runner that was itself killed is swept
 * by the next `consume` or `batch` that starts.
 */
#ifndef DM_FLEET_RUNNER_H
#define DM_FLEET_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "fleet/job.h"

struct dm_job_run {
    const char *body; /* the message */
    size_t len;
    const char *download_root; /* where the job's folder is made */
    /* the child while it runs (for dm_job_run_kill); 0 once it ended */
    _Atomic pid_t pid;
    char *output; /* its stdout */
    int status;   /* its waitpid status; -1 when it never ran */
    /* NULL: the child's stderr is ours. Else its lines come here, each
     * whole with its '\n' (cut at 4 KiB), so that batch can draw its
     * progress line below them instead of among them. */
    void (*on_log)(const char *line, void *ud);
    void *log_ud;
};

/* Run the job to its end (blocking). */
void dm_job_run_child(struct dm_job_run *r);

/* SIGTERM the job's process group, SIGKILL after grace_ms. */
void dm_job_run_kill(struct dm_job_run *r, int grace_ms);

/* The outcome the child printed, or a failed one that says how it died. */
void dm_job_run_outcome(const struct dm_job_run *r, struct dm_job_outcome *o);

/* The child's side: `duckmig __job [DIR]`, dispatched by main.c like
 * `__engine`. {"settings": {NAME: VALUE}, "message": "..."} on stdin,
 * the outcome JSON on stdout (a job that failed says so there); the exit
 * status is always 0. */
int dm_job_child_main(int argc, char **argv);

#endif
