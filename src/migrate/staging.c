/*
 * staging.c - the destination's temporary home: a folder beside DST
 * holding the new file under DST's own name (the catalog name views may
 * mention), renamed over DST only once it is verified.
 *
 * A migration owns its folder through a lock held for its whole life
 * (util/tmpdir.h): a folder whose lock nobody holds belongs to a duckmig
 * that died (killed, out of memory), and the next migration into the
 * same folder removes it. One migration writes one DST at a time: a
 * lock file beside DST, held from the start to the rename; and without
 * --force the rename refuses to replace a DST that appeared meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrate/migrate_int.h"
#include "util/settings.h"
#include "util/file.h"
#include "util/log.h"
#include "util/str.h"
#include "util/tmpdir.h"

#define STAGING_PREFIX ".duckmig-"

/* The DST locks beside dir that nobody holds: their holder died. */
static void sweep_locks(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, STAGING_PREFIX, sizeof(STAGING_PREFIX) - 1) !=
                0 ||
            n < 5 || strcmp(e->d_name + n - 5, ".lock") != 0)
            continue;
        int fd = openat(dirfd(d), e->d_name,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
}

/*
 * Take the lock that lets one migration write DST: a file beside it,
 * flock'ed; waited for at most $DUCKMIG_LOCK_WAIT seconds (default 600),
 * said in the log. The lock file is removed when released, so whoever
 * took it checks that it is still the file at that name.
 */
static enum dm_code lock_dst(struct staging *s, const char *dir,
                             const char *base, struct dm_error *err)
{
    long limit = (long)dm_setting_u64(DM_SET_LOCK_WAIT);
    if (snprintf(s->lock_path, sizeof(s->lock_path),
                 "%s/" STAGING_PREFIX "%s.lock", dir,
                 base) >= (int)sizeof(s->lock_path))
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", base);
    for (long waited_ms = 0;; waited_ms += 100) {
        int fd =
            open(s->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat dst;
        if (fd < 0 && errno == ENOENT && stat(dir, &dst) != 0 &&
            errno == ENOENT)
            return dm_fail(err, DM_ERR_USAGE,
                           "the destination's folder '%s' does not exist "
                           "(create it first)",
                           dir);
        if (fd < 0)
            return dm_fail_errno(err, DM_ERR_IO, errno,
                                 "cannot create a lock file in '%s'", dir);
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            struct stat a, b;
            if (fstat(fd, &a) == 0 && stat(s->lock_path, &b) == 0 &&
                a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
                s->lock_fd = fd;
                return DM_OK;
            }
            close(fd); /* released and removed meanwhile: again */
            continue;
        }
        close(fd);
        if (waited_ms == 0)
            dm_info("migrate",
                    "waiting for another duckmig writing %s/%s (the lock %s, "
                    "at most %ld s)",
                    dir, base, s->lock_path, limit);
        if (waited_ms >= limit * 1000)
            return dm_fail(err, DM_ERR_IO,
                           "another duckmig has been writing %s/%s for %ld s "
                           "(DUCKMIG_LOCK_WAIT sets the limit)",
                           dir, base, limit);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

enum dm_code staging_create(struct staging *s, const char *dst,
                            struct dm_error *err)
{
    char a[PATH_MAX], b[PATH_MAX];
    memset(s, 0, sizeof(*s));
    s->lock_fd = s->dir_lock_fd = -1;
    snprintf(a, sizeof(a), "%s", dst);
    snprintf(b, sizeof(b), "%s", dst);
    const char *dir = dirname(a), *base = basename(b);
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "/") == 0 ||
        strlen(base) > NAME_MAX - sizeof(STAGING_PREFIX) - 8)
        return dm_fail(err, DM_ERR_USAGE, "'%s' is not a file name", dst);
    if (snprintf(s->dir, sizeof(s->dir), "%s/" STAGING_PREFIX "XXXXXX", dir) >=
            (int)sizeof(s->dir) ||
        snprintf(s->final, sizeof(s->final), "%s", dst) >=
            (int)sizeof(s->final)) {
        s->dir[0] = '\0';
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", dst);
    }
    /* publishing renames onto DST, which must not be a device */
    if (!dm_replaceable_at(AT_FDCWD, dst)) {
        s->dir[0] = '\0';
        return dm_fail(err, DM_ERR_USAGE,
                       "'%s' is not a regular file: duckmig writes only files",
                       dst);
    }
    enum dm_code rc = lock_dst(s, dir, base, err);
    if (rc) {
        s->dir[0] = '\0';
        return rc;
    }
    /* the staging folders and DST locks of migrations that died */
    dm_tmpdir_sweep(dir, STAGING_PREFIX);
    sweep_locks(dir);
    char *made = NULL;
    rc = dm_tmpdir_create(dir, STAGING_PREFIX, &made, &s->dir_lock_fd, err);
    if (rc) {
        s->dir[0] = '\0';
        staging_remove(s);
        return rc;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", made);
    free(made);
    snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, base);
    snprintf(s->stem, sizeof(s->stem), "%s", base);
    char *dot = strchr(s->stem, '.');
    if (dot && dot != s->stem)
        *dot = '\0';
    return DM_OK;
}

void staging_remove(struct staging *s)
{
    if (s->dir[0])
        dm_tmpdir_remove(s->dir, s->dir_lock_fd);
    else if (s->dir_lock_fd >= 0)
        close(s->dir_lock_fd);
    s->dir[0] = '\0';
    s->dir_lock_fd = -1;
    if (s->lock_fd >= 0) {
        unlink(s->lock_path);
        close(s->lock_fd);
    }
    s->lock_fd = -1;
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

enum dm_code staging_publish(struct staging *s, bool replace,
                             struct dm_error *err)
{
    char wal[sizeof(s->path) + 8], a[PATH_MAX];
    snprintf(wal, sizeof(wal), "%s.wal", s->path);
    if (access(wal, F_OK) == 0)
        return dm_fail(err, DM_ERR_INTERNAL,
                       "the new file still has a WAL; not publishing it");
    enum dm_code rc = fsync_path(s->path, O_RDONLY, err);
    if (rc)
        return rc;
    int moved = replace ? rename(s->path, s->final)
                        : renameat2(AT_FDCWD, s->path, AT_FDCWD, s->final,
                                    RENAME_NOREPLACE);
    if (moved != 0 && errno == EEXIST)
        return dm_fail(err, DM_ERR_USAGE,
                       "%s appeared while it was migrated; use --force to "
                       "replace it",
                       s->final);
    if (moved != 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot move '%s' to '%s'",
                             s->path, s->final);
    snprintf(a, sizeof(a), "%s", s->final);
    return fsync_path(dirname(a), O_RDONLY | O_DIRECTORY, err);
}
