/*
 * source.h - a source file made safe to read: a file with a WAL beside
 * it is read from a replayed copy, and a WAL its release cannot replay
 * stops the migration instead of being skipped.
 *
 * 0.6-0.8, opened read-only, do not replay a WAL whose transaction wrote
 * its rows into the file as it went (any large insert): the rows are
 * silently missing (0.7.1, 0.8.1, and 0.6.1 for some files), or the
 * open fails with "Could not write file" (0.6.1). Opened read-write they
 * replay it and checkpoint. A WAL they cannot replay (damaged, cut
 * short) they only mention on stderr, then open the file without it.
 * 1.x replays a WAL read-only, but one it cannot replay it skips
 * silently; opened read-write and checkpointed, such a WAL stays. So the
 * file and its WAL are copied, under the file's own name (the catalog
 * name views may mention), into a folder of their own; the copy is
 * opened read-write by the source's release, checkpointed, and checked:
 * DM_ERR_DAMAGED when the WAL was not replayed, unless the caller
 * ignores it (then the copy is read without it, and wal_ignored says
 * why). SRC and its WAL are never opened for writing. A file without a
 * WAL needs nothing and is read where it is.
 *
 *   struct dm_source s;
 *   dm_source_prepare(src, "0.6.1", dst_folder, false, &s, &err);
 *   ... read s.path ...
 *   dm_source_remove(&s);
 */
#ifndef DM_CATALOG_SOURCE_H
#define DM_CATALOG_SOURCE_H

#include <limits.h>
#include <stdbool.h>

#include "util/error.h"

struct dm_source {
    char path[PATH_MAX]; /* what to read: SRC itself, or the replayed copy */
    char dir[PATH_MAX];  /* the copy's folder; "" when SRC is read */
    /* the reason a WAL that could not be replayed was ignored; "" */
    char wal_ignored[DM_ERROR_MSG_MAX];
};

/*
 * Fill s for src, read by release: when src has a WAL, copy both into a
 * new folder under parent (NULL: $TMPDIR, else /tmp), replay and
 * checkpoint the copy there. A WAL that cannot be replayed fails with
 * DM_ERR_DAMAGED, or with ignore_wal is left out and named in
 * s->wal_ignored. On failure nothing is left behind.
 */
enum dm_code dm_source_prepare(const char *src, const char *release,
                               const char *parent, bool ignore_wal,
                               struct dm_source *s, struct dm_error *err);

/* Copy the regular file from (never waiting on a FIFO) to a new file to
 * (a clone where the filesystem can). */
enum dm_code dm_file_copy(const char *from, const char *to,
                          struct dm_error *err);

/* Remove the copy, if any. Safe to call twice, and on a zeroed s. */
void dm_source_remove(struct dm_source *s);

/*
 * Remove a folder duckmig made for one DuckDB file: the file at path, its
 * .wal and .tmp, then the folder dir (which must then be empty); clears
 * dir. Nothing is done when dir is "".
 */
void dm_db_folder_remove(char *dir, const char *path);

#endif
