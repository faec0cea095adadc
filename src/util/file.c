/* file.c - opening a user's path that must be a regular file, and
 * copying one descriptor's bytes to another (file.h). */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

bool dm_replaceable_at(int dirfd, const char *path)
{
    struct stat st;
    /* what cannot be looked at (no such path, a file where a folder
     * should be, no permission) is no device to keep: the write that
     * follows fails with its own, clearer error */
    if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return true;
    return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode);
}

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

enum dm_code dm_copy_fd(int in, int out, const char *what,
                        struct dm_progress *progress, struct dm_error *err)
{
    bool plain = false;
    char buf[1 << 15];
    for (;;) {
        ssize_t n;
        if (!plain) {
            n = copy_file_range(in, NULL, out, NULL, 1 << 24, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS ||
                          errno == EINVAL || errno == EOPNOTSUPP)) {
                plain = true;
                continue;
            }
        } else {
            n = read(in, buf, sizeof(buf));
            if (n > 0) {
                for (ssize_t off = 0; off < n;) {
                    ssize_t w = write(out, buf + off, (size_t)(n - off));
                    if (w < 0) {
                        if (errno == EINTR)
                            continue;
                        return dm_fail_errno(err, DM_ERR_IO, errno,
                                             "cannot write '%s'", what);
                    }
                    off += w;
                }
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return dm_fail_errno(err, DM_ERR_IO, errno, "cannot copy '%s'",
                                 what);
        }
        if (n == 0)
            return DM_OK;
        if (progress)
            atomic_fetch_add(&progress->done, (uint64_t)n);
    }
}
