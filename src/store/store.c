/*
 * store.c - what every backend shares: key rules, locations, and local
 * files that appear atomically (see store.h).
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "util/str.h"
#include "util/settings.h"

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

/* A fault of DUCKMIG_STORE_FAULT (store.h) that applies to this call:
 * its code, or DM_OK. */
static enum dm_code injected_fault(const char *op, const char *key,
                                   struct dm_error *err)
{
    static const char *const ops[] = {"stat",   "get",        "put", "list",
                                      "remove", "read_range", "*"};
    const char *spec = dm_setting(DM_SET_STORE_FAULT);
    if (!spec || !*spec)
        return DM_OK;
    const char *colon = strchr(spec, ':'), *last = strrchr(spec, ':');
    size_t oplen = colon ? (size_t)(colon - spec) : 0;
    bool known = false;
    for (size_t i = 0; colon && i < sizeof(ops) / sizeof(ops[0]); i++)
        known |= strlen(ops[i]) == oplen && !strncmp(spec, ops[i], oplen);
    /* the code: a number of util/error.h or its name */
    uint64_t n = 0;
    enum dm_code code = DM_OK;
    if (known && last != colon && dm_parse_u64(last + 1, &n))
        code = n <= DM_ERR_LAST ? (enum dm_code)n : DM_OK;
    for (int c = 1; known && last != colon && !code && c <= DM_ERR_LAST; c++)
        if (!strcmp(last + 1, dm_code_name((enum dm_code)c)))
            code = (enum dm_code)c;
    if (!code)
        return dm_fail(err, DM_ERR_USAGE,
                       "DUCKMIG_STORE_FAULT=%s: not OP:KEY-SUBSTRING:CODE "
                       "(OP stat, get, put, list, remove, read_range or *; "
                       "CODE 1-%d or its name)",
                       spec, DM_ERR_LAST);
    bool hit = ((oplen == 1 && spec[0] == '*') ||
                (strlen(op) == oplen && !strncmp(spec, op, oplen))) &&
               memmem(key, strlen(key), colon + 1, (size_t)(last - colon - 1));
    if (!hit)
        return DM_OK;
    return dm_fail(err, code, "%s '%s': fault injected by DUCKMIG_STORE_FAULT",
                   op, key);
}

/* Before a call: its start time (only when it will be traced: the
 * clock costs nothing when debug is off) and the injected fault. */
static enum dm_code call_begin(const char *op, const char *key, double *t0,
                               struct dm_error *err)
{
    *t0 = dm_log_threshold <= DM_LOG_DEBUG ? dm_clock_now() : 0;
    return injected_fault(op, key, err);
}

/* After a call, injected or not: its trace line. */
static enum dm_code call_end(const struct dm_store *s, const char *op,
                             const char *key, double t0, enum dm_code rc)
{
    dm_debug("store", "%s %s '%s' in %s: %s, %.0f ms", op, s->ops->scheme, key,
             s->name, dm_code_name(rc), (dm_clock_now() - t0) * 1e3);
    return rc;
}

enum dm_code dm_store_stat(struct dm_store *s, const char *key,
                           struct dm_object *out, struct dm_error *err)
{
    double t0;
    enum dm_code rc = call_begin("stat", key, &t0, err);
    if (!rc)
        rc = s->ops->stat(s, key, out, err);
    return call_end(s, "stat", key, t0, rc);
}

enum dm_code dm_store_get(struct dm_store *s, const char *key, const char *path,
                          struct dm_object *got, struct dm_progress *progress,
                          struct dm_error *err)
{
    double t0;
    enum dm_code rc = call_begin("get", key, &t0, err);
    if (!rc)
        rc = s->ops->get(s, key, path, got, progress, err);
    return call_end(s, "get", key, t0, rc);
}

enum dm_code dm_store_put(struct dm_store *s, const char *path, const char *key,
                          struct dm_object *put, struct dm_progress *progress,
                          struct dm_error *err)
{
    double t0;
    enum dm_code rc = call_begin("put", key, &t0, err);
    if (!rc)
        rc = s->ops->put(s, path, key, put, progress, err);
    return call_end(s, "put", key, t0, rc);
}

enum dm_code dm_store_list(struct dm_store *s, const char *prefix,
                           dm_list_fn fn, void *ud, struct dm_error *err)
{
    double t0;
    enum dm_code rc = call_begin("list", prefix, &t0, err);
    if (!rc)
        rc = s->ops->list(s, prefix, fn, ud, err);
    return call_end(s, "list", prefix, t0, rc);
}

enum dm_code dm_store_remove(struct dm_store *s, const char *key,
                             struct dm_error *err)
{
    double t0;
    enum dm_code rc = call_begin("remove", key, &t0, err);
    if (!rc)
        rc = s->ops->remove(s, key, err);
    return call_end(s, "remove", key, t0, rc);
}

enum dm_code dm_store_read_range(struct dm_store *s, const char *key,
                                 uint64_t off, void *buf, size_t len,
                                 size_t *got, struct dm_error *err)
{
    double t0;
    enum dm_code rc = call_begin("read_range", key, &t0, err);
    if (!rc)
        rc = s->ops->read_range(s, key, off, buf, len, got, err);
    return call_end(s, "read_range", key, t0, rc);
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

enum dm_code dm_open_upload(const char *path, int *fd, uint64_t *size,
                            struct dm_error *err)
{
    struct stat st;
    /* a FIFO given as the file to send must not hang cp or a job */
    *fd = dm_open_regular(AT_FDCWD, path, O_RDONLY, &st);
    if (*fd < 0 && errno == ENODEV)
        return dm_fail(err, DM_ERR_IO, "'%s' is not a file", path);
    if (*fd < 0)
        return dm_fail_errno(err,
                             errno == ENOENT ? DM_ERR_NOT_FOUND : DM_ERR_IO,
                             errno, "cannot open '%s'", path);
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
    case DM_LOC_EFS:
        return dm_store_open_local(dm_efs_root(as_dest), out, err);
    case DM_LOC_PATH:
        break;
    }
    return dm_fail(err, DM_ERR_INTERNAL, "a local path is not a store");
}

const char *dm_efs_root(bool as_dest)
{
    return dm_setting(as_dest ? DM_SET_MIGRATE_DST : DM_SET_MIGRATE_SRC);
}

enum dm_code dm_location_folder(const struct dm_location *loc, char **prefix,
                                struct dm_error *err)
{
    *prefix = NULL;
    const char *key = loc->kind == DM_LOC_PATH ? "" : loc->key;
    size_t n = strlen(key);
    while (n > 0 && key[n - 1] == '/')
        n--; /* "pfx/" and "pfx" name the same folder */
    char *p = n ? dm_fmt("%.*s/", (int)n, key) : strdup("");
    if (!p)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = dm_prefix_check(p, err);
    if (rc) {
        free(p);
        return rc;
    }
    *prefix = p;
    return DM_OK;
}

/*
 * path made absolute, the symlinks of its longest existing part resolved
 * by realpath, the rest (which does not exist yet) appended with "." and
 * ".." taken lexically; with a '/' at the end.
 */
static char *resolve_path(const char *path)
{
    char cwd[PATH_MAX];
    char *cur = path[0] == '/'             ? strdup(path)
                : getcwd(cwd, sizeof(cwd)) ? dm_fmt("%s/%s", cwd, path)
                                           : NULL;
    char *real = NULL, *rest = NULL, *out = NULL;
    if (!cur)
        return NULL;
    size_t restlen = strlen(cur);
    rest = calloc(1, restlen + 2);
    if (!rest)
        goto done;
    /* walk up until a part exists; what was cut off is rest */
    for (;;) {
        real = realpath(cur, NULL);
        if (real)
            break;
        char *slash = strrchr(cur, '/');
        if (!slash || (errno != ENOENT && errno != ENOTDIR))
            goto done;
        /* rest = last component + "/" + rest */
        size_t cl = strlen(slash + 1), rl = strlen(rest);
        memmove(rest + cl + 1, rest, rl + 1);
        memcpy(rest, slash + 1, cl);
        rest[cl] = '/';
        if (slash == cur)
            slash[1] = '\0'; /* "/" always exists */
        else
            *slash = '\0';
    }
    struct dm_sbuf b = DM_SBUF_INIT;
    dm_sbuf_add(&b, strcmp(real, "/") == 0 ? "" : real);
    for (char *c = rest, *next; *c; c = next) {
        next = strchr(c, '/');
        next = next ? next + 1 : c + strlen(c);
        size_t n = (size_t)(next - c) - (next[-1] == '/');
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            char *slash = b.s ? strrchr(b.s, '/') : NULL;
            if (slash) {
                *slash = '\0';
                b.len = (size_t)(slash - b.s);
            }
            continue;
        }
        dm_sbuf_add(&b, "/");
        dm_sbuf_addn(&b, c, n);
    }
    dm_sbuf_add(&b, "/");
    out = dm_sbuf_take(&b);
done:
    free(real);
    free(rest);
    free(cur);
    return out;
}

enum dm_code dm_location_resolve(const struct dm_location *loc, bool as_dest,
                                 char **where, struct dm_error *err)
{
    char *prefix = NULL, *path = NULL;
    *where = NULL;
    enum dm_code rc = dm_location_folder(loc, &prefix, err);
    if (rc)
        return rc;
    if (loc->kind == DM_LOC_S3) {
        *where = dm_fmt("s3://%s/%s", loc->bucket, prefix);
    } else {
        path = loc->kind == DM_LOC_PATH
                   ? strdup(loc->key)
                   : dm_fmt("%s/%s", dm_efs_root(as_dest), prefix);
        *where = path ? resolve_path(path) : NULL;
    }
    if (!*where)
        rc = dm_fail_errno(err, errno == ENOMEM ? DM_ERR_NOMEM : DM_ERR_IO,
                           errno, "cannot resolve the folder of '%s'",
                           loc->kind == DM_LOC_PATH ? loc->key : prefix);
    free(path);
    free(prefix);
    return rc;
}

bool dm_folders_overlap(const char *a, const char *b)
{
    /* both end with '/': a prefix of the string is one of whole folders */
    size_t la = strlen(a), lb = strlen(b);
    return strncmp(a, b, la < lb ? la : lb) == 0;
}

/*
 * Temporary files of ours beside name whose writer is gone (killed in
 * the middle of a put): a writer holds a flock on its temporary file
 * from its birth to its rename, so one whose lock is free is nobody's.
 * An empty one may be a writer's between its create and its lock (where
 * O_TMPFILE is missing): left alone until it is a minute old.
 */
static void sweep_temps(int dirfd, const char *name)
{
    char *prefix = dm_fmt(".%s.duckmig-", name);
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    if (!d || !prefix) {
        if (d)
            closedir(d);
        free(prefix);
        return;
    }
    size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, plen) != 0 ||
            strlen(e->d_name) != plen + 8)
            continue;
        int t = openat(dirfd, e->d_name,
                       O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (t >= 0 && fstat(t, &st) == 0 && S_ISREG(st.st_mode) &&
            flock(t, LOCK_EX | LOCK_NB) == 0 &&
            (st.st_size > 0 || time(NULL) - st.st_mtime > 60))
            unlinkat(dirfd, e->d_name, 0);
        if (t >= 0)
            close(t);
    }
    closedir(d);
    free(prefix);
}

/* A name for the next temporary file: dot-prefixed, so that listings and
 * globs of *.duckdb skip it. */
static char *temp_name(const char *name)
{
    return dm_fmt(".%s.duckmig-%08lx", name,
                  (unsigned long)(random() ^ getpid()) & 0xffffffffUL);
}

/*
 * The temporary file, born locked where the kernel can: an unnamed file
 * (O_TMPFILE), locked, then linked under its name, so no sweep ever sees
 * it unlocked. -1 when the filesystem cannot (NFS): the caller creates
 * it by name, then locks it.
 */
static int open_locked_unnamed(int dirfd, char **tmp, const char *name)
{
    int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        for (int i = 0; i < 100; i++) {
            free(*tmp);
            *tmp = temp_name(name);
            if (!*tmp)
                break;
            if (linkat(AT_FDCWD, proc, dirfd, *tmp, AT_SYMLINK_FOLLOW) == 0)
                return fd;
            if (errno != EEXIST)
                break;
        }
    }
    close(fd);
    return -1;
}

enum dm_code dm_atomic_openat(int dirfd, const char *name,
                              struct dm_atomic_file *f, struct dm_error *err)
{
    f->dirfd = dirfd;
    f->fd = -1;
    f->name = NULL;
    f->tmp = NULL;
    /* the rename at commit would replace a device with the new file */
    if (!dm_replaceable_at(dirfd, name))
        return dm_fail(err, DM_ERR_USAGE,
                       "'%s' is not a regular file: duckmig writes only files",
                       name);
    f->name = strdup(name);
    if (!f->name)
        goto nomem;
    sweep_temps(dirfd, name);
    f->fd = open_locked_unnamed(dirfd, &f->tmp, name);
    if (f->fd >= 0)
        return DM_OK;
    for (int i = 0; i < 100; i++) {
        free(f->tmp);
        f->tmp = temp_name(name);
        if (!f->tmp)
            goto nomem;
        f->fd = openat(dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       0644);
        if (f->fd >= 0) {
            /* held to the rename: a sweep takes only unlocked files */
            flock(f->fd, LOCK_EX | LOCK_NB);
            return DM_OK;
        }
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
    /* said here with the whole path; dm_atomic_openat checks it too */
    if (!dm_replaceable_at(AT_FDCWD, path)) {
        rc = dm_fail(err, DM_ERR_USAGE,
                     "'%s' is not a regular file: duckmig writes only files",
                     path);
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
    /* the lock goes with the last descriptor: a duplicate keeps it over
     * the rename, so that no sweep takes the file between the two */
    int lock = dup(f->fd);
    if (close(f->fd) != 0) {
        f->fd = lock;
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", f->name);
        goto fail;
    }
    f->fd = lock;
    if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) != 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot rename into '%s'",
                           f->name);
        goto fail;
    }
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
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
    /* removed while still locked, like the sweep would */
    if (f->tmp && f->dirfd >= 0)
        unlinkat(f->dirfd, f->tmp, 0);
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->dirfd >= 0)
        close(f->dirfd);
    f->dirfd = -1;
    free(f->tmp);
    free(f->name);
    f->tmp = f->name = NULL;
}
