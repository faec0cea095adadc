/*
 * staging.c - the destination's temporary home: a folder beside DST
 * holding the new file under DST's own name (the catalog name views may
 * mention), renamed over DST only once it is verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/source.h"
#include "migrate/migrate_int.h"

enum dm_code staging_create(struct staging *s, const char *dst,
                            struct dm_error *err)
{
    char a[PATH_MAX], b[PATH_MAX];
    snprintf(a, sizeof(a), "%s", dst);
    snprintf(b, sizeof(b), "%s", dst);
    const char *dir = dirname(a), *base = basename(b);
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "/") == 0 ||
        strlen(base) > NAME_MAX)
        return dm_fail(err, DM_ERR_USAGE, "'%s' is not a file name", dst);
    if (snprintf(s->dir, sizeof(s->dir), "%s/.duckmig-XXXXXX", dir) >=
            (int)sizeof(s->dir) ||
        snprintf(s->final, sizeof(s->final), "%s", dst) >=
            (int)sizeof(s->final))
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", dst);
    if (!mkdtemp(s->dir)) {
        int e = errno;
        s->dir[0] = '\0';
        return dm_fail_errno(err, DM_ERR_IO, e,
                             "cannot create a temporary folder in '%s'", dir);
    }
    snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, base);
    snprintf(s->stem, sizeof(s->stem), "%s", base);
    char *dot = strchr(s->stem, '.');
    if (dot && dot != s->stem)
        *dot = '\0';
    return DM_OK;
}

/* Remove the staging folder and whatever is in it (no subfolders). */
void staging_remove(struct staging *s)
{
    dm_db_folder_remove(s->dir, s->path);
}

static enum dm_code fsync_path(const char *path, int flags,
                               struct dm_error *err)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot open '%s'", path);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return dm_fail_errno(err, DM_ERR_IO, e, "cannot sync '%s'", path);
    return DM_OK;
}

/* fsync the file, rename it over DST, fsync DST's folder. */
enum dm_code staging_publish(struct staging *s, struct dm_error *err)
{
    char wal[sizeof(s->path) + 8], a[PATH_MAX];
    snprintf(wal, sizeof(wal), "%s.wal", s->path);
    if (access(wal, F_OK) == 0)
        return dm_fail(err, DM_ERR_INTERNAL,
                       "the new file still has a WAL; not publishing it");
    enum dm_code rc = fsync_path(s->path, O_RDONLY, err);
    if (rc)
        return rc;
    if (rename(s->path, s->final) != 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot move '%s' to '%s'",
                             s->path, s->final);
    snprintf(a, sizeof(a), "%s", s->final);
    rc = fsync_path(dirname(a), O_RDONLY | O_DIRECTORY, err);
    rmdir(s->dir);
    s->dir[0] = '\0';
    return rc;
}
