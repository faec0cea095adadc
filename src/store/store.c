/*
 * store.c - what every backend shares: key rules, locations, and local
 * files that appear atomically (see store.h).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"

void dm_object_release(struct dm_object *o)
{
    if (!o)
        return;
    free(o->key);
    free(o->etag);
    memset(o, 0, sizeof(*o));
}

void dm_store_close(struct dm_store *s)
{
    if (s)
        s->ops->close(s);
}

static enum dm_code check_name(const char *key, size_t len, bool prefix,
                               struct dm_error *err)
{
    const char *what = prefix ? "prefix" : "key";
    if (strlen(key) != len)
        return dm_fail(err, DM_ERR_BAD_KEY, "%s '%s' holds a NUL byte", what,
                       key);
    if (len == 0 && !prefix)
        return dm_fail(err, DM_ERR_BAD_KEY, "empty key");
    if (len > 1024)
        return dm_fail(err, DM_ERR_BAD_KEY, "%s longer than 1024 bytes", what);
    if (key[0] == '/')
        return dm_fail(err, DM_ERR_BAD_KEY, "%s '%s' is absolute", what, key);
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return dm_fail(err, DM_ERR_BAD_KEY,
                           "%s '%.64s...' holds a control character", what,
                           key);
    const char *c = key;
    while (*c) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return dm_fail(err, DM_ERR_BAD_KEY,
                           "%s '%s' has a '%.*s' component", what, key, (int)n,
                           c);
        if (n == 0)
            return dm_fail(err, DM_ERR_BAD_KEY,
                           "%s '%s' has an empty component", what, key);
        if (!slash)
            break;
        c = slash + 1;
        if (!*c && !prefix)
            return dm_fail(err, DM_ERR_BAD_KEY, "key '%s' ends with '/'", key);
    }
    return DM_OK;
}

enum dm_code dm_key_check(const char *key, size_t len, struct dm_error *err)
{
    return check_name(key, len, false, err);
}

enum dm_code dm_prefix_check(const char *prefix, struct dm_error *err)
{
    return check_name(prefix, strlen(prefix), true, err);
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

enum dm_code dm_open_upload(const char *path, int *fd, uint64_t *size,
                            struct dm_error *err)
{
    struct stat st;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return dm_fail_errno(err,
                             errno == ENOENT ? DM_ERR_NOT_FOUND : DM_ERR_IO,
                             errno, "cannot open '%s'", path);
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return dm_fail(err, DM_ERR_IO, "'%s' is not a file", path);
    }
    *size = (uint64_t)st.st_size;
    return DM_OK;
}

enum dm_code dm_location_parse(const char *text, struct dm_location *loc,
                               struct dm_error *err)
{
    memset(loc, 0, sizeof(*loc));
    if (strncmp(text, "s3://", 5) == 0) {
        const char *b = text + 5, *slash = strchr(b, '/');
        size_t blen = slash ? (size_t)(slash - b) : strlen(b);
        if (blen < 3 || blen > 63)
            return dm_fail(err, DM_ERR_USAGE,
                           "'%s': a bucket name has 3 to 63 characters", text);
        for (size_t i = 0; i < blen; i++)
            if (!((b[i] >= 'a' && b[i] <= 'z') ||
                  (b[i] >= '0' && b[i] <= '9') || b[i] == '-' || b[i] == '.'))
                return dm_fail(err, DM_ERR_USAGE,
                               "'%s': bad character in the bucket name", text);
        loc->kind = DM_LOC_S3;
        loc->bucket = strndup(b, blen);
        loc->key = strdup(slash ? slash + 1 : "");
    } else if (strncmp(text, "efs:", 4) == 0) {
        loc->kind = DM_LOC_EFS;
        loc->key = strdup(text + 4);
    } else {
        if (!*text)
            return dm_fail(err, DM_ERR_USAGE, "empty path");
        loc->kind = DM_LOC_PATH;
        loc->key = strdup(text);
    }
    if (!loc->key || (loc->kind == DM_LOC_S3 && !loc->bucket)) {
        dm_location_release(loc);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    return DM_OK;
}

void dm_location_release(struct dm_location *loc)
{
    if (!loc)
        return;
    free(loc->bucket);
    free(loc->key);
    memset(loc, 0, sizeof(*loc));
}

enum dm_code dm_location_store(const struct dm_location *loc, bool as_dest,
                               struct dm_store **out, struct dm_error *err)
{
    *out = NULL;
    switch (loc->kind) {
    case DM_LOC_S3:
        return dm_store_open_s3(loc->bucket, out, err);
    case DM_LOC_EFS: {
        const char *root = getenv(as_dest ? "MIGRATE_DST" : "MIGRATE_SRC");
        if (!root || !*root)
            root = as_dest ? DM_EFS_DST_DEFAULT : DM_EFS_SRC_DEFAULT;
        return dm_store_open_local(root, out, err);
    }
    case DM_LOC_PATH:
        break;
    }
    return dm_fail(err, DM_ERR_INTERNAL, "a local path is not a store");
}

enum dm_code dm_atomic_openat(int dirfd, const char *name,
                              struct dm_atomic_file *f, struct dm_error *err)
{
    f->dirfd = dirfd;
    f->fd = -1;
    f->name = strdup(name);
    f->tmp = NULL;
    if (!f->name)
        goto nomem;
    for (int i = 0; i < 100; i++) {
        free(f->tmp);
        /* dot-prefixed so that listings and globs of *.duckdb skip it */
        f->tmp = dm_fmt(".%s.duckmig-%08lx", name,
                        (unsigned long)(random() ^ getpid()) & 0xffffffffUL);
        if (!f->tmp)
            goto nomem;
        f->fd = openat(dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       0644);
        if (f->fd >= 0)
            return DM_OK;
        if (errno != EEXIST) {
            int e = errno;
            enum dm_code rc = dm_fail_errno(
                err, DM_ERR_IO, e, "cannot create a temporary file beside '%s'",
                name);
            free(f->tmp);
            free(f->name);
            f->tmp = f->name = NULL;
            return rc;
        }
    }
    free(f->tmp);
    free(f->name);
    f->tmp = f->name = NULL;
    return dm_fail(err, DM_ERR_IO, "no free temporary name beside '%s'", name);
nomem:
    free(f->tmp);
    free(f->name);
    f->tmp = f->name = NULL;
    return dm_fail(err, DM_ERR_NOMEM, "out of memory");
}

enum dm_code dm_atomic_open(const char *path, struct dm_atomic_file *f,
                            struct dm_error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = ".", *base = copy;
    if (slash) {
        *slash = '\0';
        dir = slash == copy ? "/" : copy;
        base = slash + 1;
    }
    enum dm_code rc = DM_OK;
    if (!*base) {
        rc =
            dm_fail(err, DM_ERR_USAGE, "'%s' names a folder, not a file", path);
        goto out;
    }
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot open folder '%s'",
                           dir);
        goto out;
    }
    rc = dm_atomic_openat(dirfd, base, f, err);
    if (rc)
        close(dirfd);
out:
    free(copy);
    return rc;
}

enum dm_code dm_atomic_commit(struct dm_atomic_file *f, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    if (fsync(f->fd) != 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", f->name);
        goto fail;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", f->name);
        goto fail;
    }
    f->fd = -1;
    if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) != 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot rename into '%s'",
                           f->name);
        goto fail;
    }
    free(f->tmp);
    f->tmp = NULL;
    /* the rename is durable only once the folder is */
    if (fsync(f->dirfd) != 0 && errno != EINVAL)
        rc = dm_fail_errno(err, DM_ERR_IO, errno,
                           "cannot sync the folder of '%s'", f->name);
    close(f->dirfd);
    f->dirfd = -1;
    free(f->name);
    f->name = NULL;
    return rc;
fail:
    dm_atomic_abort(f);
    return rc;
}

void dm_atomic_abort(struct dm_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp && f->dirfd >= 0)
        unlinkat(f->dirfd, f->tmp, 0);
    if (f->dirfd >= 0)
        close(f->dirfd);
    f->dirfd = -1;
    free(f->tmp);
    free(f->name);
    f->tmp = f->name = NULL;
}
