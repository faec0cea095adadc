/* file.c - opening a user's path that must be a regular file (file.h). */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int dm_regular_fd(int fd, int flags, struct stat *st)
{
    struct stat own;
    if (fd < 0)
        return -1;
    if (!st)
        st = &own;
    if (fstat(fd, st) != 0)
        goto fail;
    if (!S_ISREG(st->st_mode)) {
        errno = ENODEV;
        goto fail;
    }
    if (!(flags & O_NONBLOCK)) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
            goto fail;
    }
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int dm_open_regular(int dirfd, const char *path, int flags, struct stat *st)
{
    return dm_regular_fd(openat(dirfd, path, flags | O_NONBLOCK | O_CLOEXEC),
                         flags, st);
}
