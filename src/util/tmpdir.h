/*
 * tmpdir.h - private working folders that do not outlive their owner.
 *
 * A folder PARENT/PREFIXxxxxxx holds a lock file, ".lock", flock'ed by
 * its owner for as long as the owner keeps lockfd open, so for as long
 * as the owner lives: the kernel releases the lock of a process that is
 * killed, whatever kills it. A folder whose lock can be taken therefore
 * belongs to nobody, and dm_tmpdir_sweep removes it. A lock, not a pid:
 * a pid that the system gave again to another process cannot keep a
 * dead folder, nor lose a live one.
 *
 * A folder is born locked: it is made under a hidden name (".PREFIX..."),
 * its lock taken, and only then renamed to its own name, so a sweep
 * never sees a new folder before its lock. A hidden folder whose lock is
 * free is removed once it is a minute old (its maker died in between);
 * a folder with no lock file at all (made by a duckmig before this one)
 * once it is a day old.
 *
 * Used for `batch`'s download folder, each job's folder (made and removed
 * by the process that runs the job, `consume` or `batch`, even when it
 * had to kill the job), and `cp`'s store-to-store copy.
 */
#ifndef DM_UTIL_TMPDIR_H
#define DM_UTIL_TMPDIR_H

#include <stddef.h>

#include "util/error.h"

/* Make PARENT/PREFIXxxxxxx (PARENT itself too when missing: one level),
 * locked. *dir (malloc'd) is its path; *lockfd holds the lock
 * (close-on-exec: a child does not keep it). */
enum dm_code dm_tmpdir_create(const char *parent, const char *prefix,
                              char **dir, int *lockfd, struct dm_error *err);

/* Remove dir and everything in it, then release its lock (lockfd < 0:
 * no lock to release). Safe on a folder that is already gone. */
void dm_tmpdir_remove(const char *dir, int lockfd);

/* Remove the folders PARENT/PREFIX* that no living process holds (see
 * above); how many were removed. Each is named in an info log line. */
size_t dm_tmpdir_sweep(const char *parent, const char *prefix);

/* rm -rf path, without following symlinks. */
void dm_rm_tree(const char *path);

#endif
