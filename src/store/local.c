/*
 * local.c - the store backend for a local folder or an EFS mount.
 *
 * Keys resolve under the root with openat2(RESOLVE_BENEATH): a "..", an
 * absolute path or a symlink that leads out of the root is refused by the
 * kernel itself, even when somebody swaps a folder for a symlink between
 * our check and our open. Writes go through dm_atomic_file: a temporary
 * name, fsync, rename, fsync of the folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store/store.h"
#include "util/file.h"
#include "util/str.h"

struct local_store {
    struct dm_store base;
    int rootfd;
};

static int open_beneath(int dirfd, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static enum dm_code open_error(const struct local_store *ls, const char *key,
                               int e, struct dm_error *err)
{
    if (e == EXDEV || e == ELOOP)
        return dm_fail(err, DM_ERR_BAD_KEY, "'%s' leads out of %s", key,
                       ls->base.name);
    if (e == ENOENT)
        return dm_fail(err, DM_ERR_NOT_FOUND, "no '%s' in %s", key,
                       ls->base.name);
    return dm_fail_errno(err, DM_ERR_IO, e, "cannot open '%s' in %s", key,
                         ls->base.name);
}

/* Open a key for reading: a regular file beneath the root. Non-blocking
 * until fstat says so: a FIFO under a key must not hang a job. */
static enum dm_code open_key(struct local_store *ls, const char *key, int *fd,
                             struct stat *st, struct dm_error *err)
{
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    if (rc)
        return rc;
    *fd = dm_regular_fd(open_beneath(ls->rootfd, key, O_RDONLY | O_NONBLOCK),
                        O_RDONLY, st);
    if (*fd < 0 && errno == ENODEV)
        return dm_fail(err, DM_ERR_NOT_FOUND, "'%s' in %s is not a file", key,
                       ls->base.name);
    if (*fd < 0)
        return open_error(ls, key, errno, err);
    return DM_OK;
}

/* Copy in into f and commit it; on any failure f is aborted. */
static enum dm_code copy_commit(int in, struct dm_atomic_file *f,
                                const char *what, struct dm_progress *progress,
                                struct dm_error *err)
{
    enum dm_code rc = dm_copy_fd(in, f->fd, what, progress, err);
    if (rc) {
        dm_atomic_abort(f);
        return rc;
    }
    return dm_atomic_commit(f, err);
}

static enum dm_code local_stat(struct dm_store *s, const char *key,
                               struct dm_object *out, struct dm_error *err)
{
    struct local_store *ls = (struct local_store *)s;
    int fd = -1;
    struct stat st;
    memset(out, 0, sizeof(*out));
    enum dm_code rc = open_key(ls, key, &fd, &st, err);
    if (rc)
        return rc;
    close(fd);
    out->key = strdup(key);
    out->size = (uint64_t)st.st_size;
    out->dev = (uint64_t)st.st_dev;
    out->ino = (uint64_t)st.st_ino;
    return out->key ? DM_OK : dm_fail(err, DM_ERR_NOMEM, "out of memory");
}

static enum dm_code local_get(struct dm_store *s, const char *key,
                              const char *path, struct dm_object *got,
                              struct dm_progress *progress,
                              struct dm_error *err)
{
    struct local_store *ls = (struct local_store *)s;
    int fd = -1;
    struct stat st;
    struct dm_atomic_file f = {-1, -1, NULL, NULL};
    if (got)
        memset(got, 0, sizeof(*got));
    enum dm_code rc = open_key(ls, key, &fd, &st, err);
    if (rc)
        return rc;
    if (progress)
        progress->total = (uint64_t)st.st_size;
    rc = dm_atomic_open(path, &f, err);
    if (!rc)
        rc = copy_commit(fd, &f, path, progress, err);
    if (!rc && got) {
        got->key = strdup(key);
        got->size = (uint64_t)st.st_size;
        got->dev = (uint64_t)st.st_dev;
        got->ino = (uint64_t)st.st_ino;
    }
    close(fd);
    return rc;
}

/* mkdir of one folder, through its parent opened beneath the root, so
 * that a symlinked parent cannot make us create folders elsewhere */
static enum dm_code mkdir_beneath(struct local_store *ls, char *path,
                                  struct dm_error *err)
{
    char *last = strrchr(path, '/');
    if (last)
        *last = '\0';
    int parent =
        open_beneath(ls->rootfd, last ? path : ".", O_RDONLY | O_DIRECTORY);
    int e = errno;
    if (last)
        *last = '/';
    if (parent < 0)
        return open_error(ls, path, e, err);
    int mk = mkdirat(parent, last ? last + 1 : path, 0755);
    e = errno;
    close(parent);
    if (mk != 0 && e != EEXIST)
        return dm_fail_errno(err, DM_ERR_IO, e,
                             "cannot create folder '%s' in %s", path,
                             ls->base.name);
    return DM_OK;
}

/* mkdir -p of key's folder beneath the root; an fd on it in *dirfd. */
static enum dm_code make_parent(struct local_store *ls, const char *key,
                                int *dirfd, const char **base,
                                struct dm_error *err)
{
    const char *slash = strrchr(key, '/');
    *base = slash ? slash + 1 : key;
    char *dir = slash ? strndup(key, (size_t)(slash - key)) : strdup(".");
    if (!dir)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = DM_OK;
    for (size_t i = 0; slash; i++) {
        if (dir[i] != '/' && dir[i] != '\0')
            continue;
        char saved = dir[i];
        dir[i] = '\0';
        rc = mkdir_beneath(ls, dir, err);
        dir[i] = saved;
        if (rc || saved == '\0')
            break;
    }
    if (!rc) {
        *dirfd = open_beneath(ls->rootfd, dir, O_RDONLY | O_DIRECTORY);
        if (*dirfd < 0)
            rc = open_error(ls, key, errno, err);
    }
    free(dir);
    return rc;
}

static enum dm_code local_put(struct dm_store *s, const char *path,
                              const char *key, struct dm_object *put,
                              struct dm_progress *progress,
                              struct dm_error *err)
{
    struct local_store *ls = (struct local_store *)s;
    struct dm_atomic_file f = {-1, -1, NULL, NULL};
    int dirfd = -1, in = -1;
    const char *base;
    uint64_t size = 0;
    if (put)
        memset(put, 0, sizeof(*put));
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    if (!rc)
        rc = dm_open_upload(path, &in, &size, err);
    if (rc)
        return rc;
    if (progress)
        progress->total = size;
    rc = make_parent(ls, key, &dirfd, &base, err);
    if (rc)
        goto out;
    rc = dm_atomic_openat(dirfd, base, &f, err);
    if (rc)
        goto out;
    dirfd = -1; /* f owns it now */
    rc = copy_commit(in, &f, key, progress, err);
    if (!rc && put) {
        put->key = strdup(key);
        put->size = size;
    }
out:
    if (dirfd >= 0)
        close(dirfd);
    close(in);
    return rc;
}

struct key_list {
    struct dm_object *items;
    size_t n, cap;
};

static int cmp_object(const void *a, const void *b)
{
    return strcmp(((const struct dm_object *)a)->key,
                  ((const struct dm_object *)b)->key);
}

/* Add key (which out now owns) to out: an object, or an entry the store
 * will not serve when problem is not NULL. */
static enum dm_code add_entry(struct key_list *out, char *key,
                              const struct stat *st, const char *problem,
                              struct dm_error *err)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        struct dm_object *items = realloc(out->items, cap * sizeof(*items));
        if (!items) {
            free(key);
            return dm_fail(err, DM_ERR_NOMEM, "out of memory");
        }
        out->items = items;
        out->cap = cap;
    }
    out->items[out->n++] = (struct dm_object){
        key,
        problem ? 0 : (uint64_t)st->st_size,
        NULL,
        problem ? 0 : (uint64_t)st->st_dev,
        problem ? 0 : (uint64_t)st->st_ino,
        problem,
    };
    return DM_OK;
}

/* Why a symlink at key cannot be listed as a file; NULL when it leads to
 * a regular file beneath the root (then *st describes that file). O_PATH:
 * the target is looked at, not opened, so a FIFO cannot hang us. */
static const char *symlink_problem(struct local_store *ls, const char *key,
                                   struct stat *st)
{
    int fd = open_beneath(ls->rootfd, key, O_PATH);
    if (fd < 0)
        return errno == EXDEV || errno == ELOOP
                   ? "a symlink that leads out of the root"
               : errno == ENOENT ? "a symlink to nothing"
                                 : "a symlink that cannot be followed";
    int rc = fstat(fd, st);
    close(fd);
    if (rc != 0)
        return "a symlink that cannot be followed";
    if (S_ISDIR(st->st_mode))
        return "a symlink to a folder (not entered)";
    return NULL;
}

/* Walk dirfd (key prefix rel) depth first; folders reached through a
 * symlink are not entered, files behind one only when they stay beneath.
 * What is skipped is listed too, with the reason (dm_object.problem), so
 * that a caller can say so. */
static enum dm_code walk(struct local_store *ls, int folder, const char *rel,
                         const char *prefix, struct key_list *out,
                         struct dm_error *err)
{
    DIR *d = fdopendir(folder);
    if (!d) {
        close(folder);
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot list '%s'", rel);
    }
    enum dm_code rc = DM_OK;
    struct dirent *e;
    size_t pl = strlen(prefix);
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ., .., hidden files and our temporaries */
        char *key = dm_fmt("%s%s", rel, e->d_name);
        if (!key) {
            rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
            break;
        }
        struct stat st;
        const char *problem = NULL;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            free(key);
            continue; /* gone meanwhile */
        }
        size_t kl = strlen(key);
        if (S_ISDIR(st.st_mode)) {
            /* enter only folders that can hold a key with the prefix */
            if (strncmp(key, prefix, kl < pl ? kl : pl) == 0) {
                int sub =
                    openat(dirfd(d), e->d_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                char *subrel = dm_fmt("%s/", key);
                if (sub >= 0 && subrel) {
                    rc = walk(ls, sub, subrel, prefix, out, err);
                } else if (sub >= 0) {
                    close(sub);
                    rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
                } else if (subrel && strncmp(subrel, prefix, pl) == 0) {
                    rc = add_entry(out, subrel, &st,
                                   "a folder that cannot be read", err);
                    subrel = NULL;
                }
                free(subrel);
            }
            free(key);
            continue;
        }
        if (strncmp(key, prefix, pl) != 0) {
            free(key);
            continue;
        }
        if (S_ISLNK(st.st_mode))
            problem = symlink_problem(ls, key, &st);
        if (!problem && !S_ISREG(st.st_mode))
            problem = "not a regular file (a FIFO, a socket or a device)";
        rc = add_entry(out, key, &st, problem, err);
    }
    closedir(d);
    return rc;
}

static enum dm_code local_list(struct dm_store *s, const char *prefix,
                               dm_list_fn fn, void *ud, struct dm_error *err)
{
    struct local_store *ls = (struct local_store *)s;
    struct key_list list = {NULL, 0, 0};
    enum dm_code rc = dm_prefix_check(prefix, err);
    if (rc)
        return rc;
    /* start at the deepest folder the prefix names in full */
    const char *slash = strrchr(prefix, '/');
    char *rel =
        slash ? strndup(prefix, (size_t)(slash - prefix + 1)) : strdup("");
    if (!rel)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    int start =
        open_beneath(ls->rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY);
    if (start < 0) {
        if (errno != ENOENT)
            rc = open_error(ls, rel, errno, err);
        goto out;
    }
    rc = walk(ls, start, rel, prefix, &list, err);
    if (rc)
        goto out;
    if (list.n) /* qsort's array may not be NULL, even empty (UBSan) */
        qsort(list.items, list.n, sizeof(*list.items), cmp_object);
    for (size_t i = 0; i < list.n; i++)
        if (fn(&list.items[i], ud))
            break;
out:
    for (size_t i = 0; i < list.n; i++)
        dm_object_release(&list.items[i]);
    free(list.items);
    free(rel);
    return rc;
}

static enum dm_code local_remove(struct dm_store *s, const char *key,
                                 struct dm_error *err)
{
    struct local_store *ls = (struct local_store *)s;
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    if (rc)
        return rc;
    const char *slash = strrchr(key, '/');
    char *dir = slash ? strndup(key, (size_t)(slash - key)) : strdup(".");
    if (!dir)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    /* through the parent opened beneath the root, like every open */
    int dirfd = open_beneath(ls->rootfd, dir, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0) {
        if (errno != ENOENT)
            rc = open_error(ls, key, errno, err);
        goto out;
    }
    if (unlinkat(dirfd, slash ? slash + 1 : key, 0) != 0) {
        if (errno != ENOENT)
            rc = dm_fail_errno(err, DM_ERR_IO, errno,
                               "cannot remove '%s' in %s", key, ls->base.name);
    } else if (fsync(dirfd) != 0 && errno != EINVAL) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno,
                           "cannot sync the folder of '%s' in %s", key,
                           ls->base.name);
    }
    close(dirfd);
out:
    free(dir);
    return rc;
}

static void local_close(struct dm_store *s)
{
    struct local_store *ls = (struct local_store *)s;
    if (ls->rootfd >= 0)
        close(ls->rootfd);
    free(ls->base.name);
    free(ls);
}

static enum dm_code local_read_range(struct dm_store *s, const char *key,
                                     uint64_t off, void *buf, size_t len,
                                     size_t *got, struct dm_error *err)
{
    struct local_store *ls = (struct local_store *)s;
    int fd = -1;
    struct stat st;
    *got = 0;
    enum dm_code rc = open_key(ls, key, &fd, &st, err);
    if (rc)
        return rc;
    while (*got < len) {
        ssize_t n =
            pread(fd, (char *)buf + *got, len - *got, (off_t)(off + *got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot read '%s' in %s",
                               key, ls->base.name);
            break;
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    close(fd);
    return rc;
}

static const struct dm_store_ops local_ops = {
    "efs",      local_stat,   local_get,   local_put,
    local_list, local_remove, local_close, local_read_range,
};

enum dm_code dm_store_open_local(const char *root, struct dm_store **out,
                                 struct dm_error *err)
{
    *out = NULL;
    struct local_store *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    ls->base.ops = &local_ops;
    ls->base.name = strdup(root);
    ls->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ls->rootfd < 0) {
        enum dm_code rc =
            dm_fail_errno(err, errno == ENOENT ? DM_ERR_NOT_FOUND : DM_ERR_IO,
                          errno, "cannot open the root folder '%s'", root);
        local_close(&ls->base);
        return rc;
    }
    /* openat2 arrived in Linux 5.6; without it the root is not enforced */
    int probe = open_beneath(ls->rootfd, ".", O_RDONLY | O_DIRECTORY);
    if (probe < 0) {
        enum dm_code rc = dm_fail_errno(err, DM_ERR_UNSUPPORTED, errno,
                                        "openat2 (Linux 5.6+) is needed to "
                                        "keep keys inside '%s'",
                                        root);
        local_close(&ls->base);
        return rc;
    }
    close(probe);
    if (!ls->base.name) {
        local_close(&ls->base);
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    }
    *out = &ls->base;
    return DM_OK;
}
