/*
 * source.h - a source file made safe to read: a 0.6-0.8 file with a WAL
 * beside it is read from a replayed copy.
 *
 * Those releases, opened read-only, do not replay a WAL whose transaction
 * wrote its rows into the file as it went (any large insert): the rows
 * are silently missing (0.7.1, 0.8.1, and 0.6.1 for some files), or the
 * open fails with "Could not write file" (0.6.1). Opened read-write they
 * replay it and checkpoint. So the file and its WAL are copied, under the
 * file's own name (the catalog name views may mention), into a folder of
 * their own, and the copy is opened read-write by the source's release;
 * SRC and its WAL are never opened for writing. 1.x replays its WAL
 * read-only, and a file without a WAL needs nothing: both are read where
 * they are.
 *
 *   struct dm_source s;
 *   dm_source_prepare(src, "0.6.1", dst_folder, &s, &err);
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
};

/*
 * Fill s for src, written by release: when release is before 0.9 and
 * src has a WAL, copy both into a new folder under parent (NULL: $TMPDIR,
 * else /tmp), replay and checkpoint the copy there. On failure nothing is
 * left behind.
 */
enum dm_code dm_source_prepare(const char *src, const char *release,
                               const char *parent, struct dm_source *s,
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
