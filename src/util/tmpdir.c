/* tmpdir.c - private working folders, locked by their owner (tmpdir.h). */
#define _XOPEN_SOURCE 700
#include "util/tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"

#define LOCK_NAME  ".lock"
#define HIDDEN_AGE 60    /* s: a maker dies between mkdtemp and rename */
#define LEGACY_AGE 86400 /* s: folders of a duckmig without locks */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void dm_rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void dm_tmpdir_remove(const char *dir, int lockfd)
{
    /* the lock is released last, so that no sweep starts on the folder
     * while it is half removed */
    if (dir)
        dm_rm_tree(dir);
    if (lockfd >= 0)
        close(lockfd);
}

enum dm_code dm_tmpdir_create(const char *parent, const char *prefix,
                              char **dir, int *lockfd, struct dm_error *err)
{
    *dir = NULL;
    *lockfd = -1;
    if (mkdir(parent, 0755) != 0 && errno != EEXIST)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'",
                             parent);
    for (int attempt = 0; attempt < 100; attempt++) {
        char *hidden = dm_fmt("%s/.%sXXXXXX", parent, prefix);
        char *lock = NULL, *final = NULL;
        int fd = -1;
        enum dm_code rc = DM_OK;
        if (!hidden)
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
        if (!mkdtemp(hidden)) {
            rc = dm_fail_errno(err, DM_ERR_IO, errno,
                               "cannot create a folder in '%s'", parent);
            free(hidden);
            return rc;
        }
        lock = dm_fmt("%s/" LOCK_NAME, hidden);
        final = dm_fmt("%s/%s%s", parent, prefix, hidden + strlen(hidden) - 6);
        if (!lock || !final) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            goto fail;
        }
        fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
            rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot lock '%s'", lock);
            goto fail;
        }
        /* RENAME_NOREPLACE: another folder may have this name already;
         * NFS does not know the flag, and there a plain rename refuses a
         * folder that is not empty (every one of ours holds its lock) */
        int moved =
            renameat2(AT_FDCWD, hidden, AT_FDCWD, final, RENAME_NOREPLACE);
        if (moved != 0 && errno == EINVAL)
            moved = rename(hidden, final);
        if (moved == 0) {
            free(lock);
            free(hidden);
            *dir = final;
            *lockfd = fd;
            return DM_OK;
        }
        if (errno != EEXIST && errno != ENOTEMPTY) {
            rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot rename '%s'",
                               hidden);
            goto fail;
        }
    fail:
        dm_tmpdir_remove(hidden, fd);
        free(final);
        free(lock);
        free(hidden);
        if (rc)
            return rc;
    }
    return dm_fail(err, DM_ERR_IO, "no free folder name in '%s'", parent);
}

size_t dm_tmpdir_sweep(const char *parent, const char *prefix)
{
    DIR *d = opendir(parent);
    size_t removed = 0, plen = strlen(prefix);
    struct dirent *e;
    if (!d)
        return 0;
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        bool hidden =
            e->d_name[0] == '.' && strncmp(e->d_name + 1, prefix, plen) == 0;
        if (!hidden && strncmp(e->d_name, prefix, plen) != 0)
            continue;
        char *path = dm_fmt("%s/%s", parent, e->d_name);
        char *lock = path ? dm_fmt("%s/" LOCK_NAME, path) : NULL;
        struct stat st;
        if (!lock || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(lock);
            free(path);
            continue;
        }
        double age = difftime(now, st.st_mtime);
        int fd = open(lock, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        bool dead;
        if (fd >= 0)
            dead = flock(fd, LOCK_EX | LOCK_NB) == 0 &&
                   (!hidden || age > HIDDEN_AGE);
        else
            dead = errno == ENOENT && age > (hidden ? HIDDEN_AGE : LEGACY_AGE);
        if (dead) {
            dm_info("cleanup",
                    "removing %s, left by a duckmig that stopped before it "
                    "was done",
                    path);
            dm_rm_tree(path); /* still holding its lock */
            removed++;
        }
        if (fd >= 0)
            close(fd);
        free(lock);
        free(path);
    }
    closedir(d);
    return removed;
}
