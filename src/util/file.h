/*
 * file.h - opening a path somebody else named, which must be a regular
 * file. open(2) of a FIFO waits for a writer, forever, and a device may
 * do anything; so the open is non-blocking until fstat says the
 * descriptor is a regular file, and only then made blocking again.
 * And the copy of one open file into another, for the stores and for
 * the copies of a source.
 */
#ifndef DM_UTIL_FILE_H
#define DM_UTIL_FILE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "util/error.h"
#include "util/progress.h"

/*
 * openat(dirfd, path, flags | O_NONBLOCK | O_CLOEXEC), then
 * dm_regular_fd. -1 with errno set on failure; ENODEV means "there is
 * something at path, but not a regular file".
 */
int dm_open_regular(int dirfd, const char *path, int flags, struct stat *st);

/*
 * fd, just opened with O_NONBLOCK: when it is a regular file, fill *st
 * (may be NULL), clear O_NONBLOCK unless flags asks for it, and return
 * fd; otherwise close it and return -1 (errno ENODEV when it is not a
 * regular file).
 */
int dm_regular_fd(int fd, int flags, struct stat *st);

/*
 * Whether an output written beside path (relative to dirfd) and renamed
 * onto it may replace what is there: nothing, a regular file, or a
 * symbolic link (rename replaces the link, not its target). Not a
 * device, FIFO, socket or folder: `--report /dev/null` run as root put a
 * regular file in place of /dev/null, for every process on the machine.
 * A path that cannot be looked at is left to the write to report.
 */
bool dm_replaceable_at(int dirfd, const char *path);

/*
 * Copy in to out from their current offsets (copy_file_range, which a
 * filesystem may turn into a clone; read/write where it cannot), adding
 * what was copied to progress (may be NULL). what names the copy in errors.
 */
enum dm_code dm_copy_fd(int in, int out, const char *what,
                        struct dm_progress *progress, struct dm_error *err);

#endif
