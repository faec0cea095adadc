/* source.c - a 0.6-0.8 source with a WAL, read from a replayed copy (see
 * source.h). */
#include "catalog/source.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "header/header.h"
#include "store/store.h"
#include "util/log.h"

/* Does path have a non-empty WAL beside it? */
static bool has_wal(const char *path)
{
    char wal[PATH_MAX + 8];
    struct stat st;
    snprintf(wal, sizeof(wal), "%s.wal", path);
    return stat(wal, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Copy the regular file from to a new file to. */
static enum dm_code copy_file(const char *from, const char *to,
                              struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot open '%s'", from);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'", to);
        goto out;
    }
    rc = dm_copy_fd(in, out, to, NULL, err);
    if (close(out) != 0 && !rc)
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot write '%s'", to);
out:
    close(in);
    return rc;
}

void dm_db_folder_remove(char *dir, const char *path)
{
    if (!dir[0])
        return;
    static const char *const suffixes[] = {"", ".wal", ".tmp"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[PATH_MAX + NAME_MAX + 16];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
    dir[0] = '\0';
}

void dm_source_remove(struct dm_source *s)
{
    dm_db_folder_remove(s->dir, s->path);
}

enum dm_code dm_source_prepare(const char *src, const char *release,
                               const char *parent, struct dm_source *s,
                               struct dm_error *err)
{
    int major, minor, patch;
    struct dm_engine *e = NULL;
    enum dm_code rc = DM_OK;
    memset(s, 0, sizeof(*s));
    if (snprintf(s->path, sizeof(s->path), "%s", src) >= (int)sizeof(s->path))
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", src);
    if (!dm_release_parse(release, &major, &minor, &patch) || major > 0 ||
        minor >= 9 || !has_wal(src))
        return DM_OK;

    if (!parent) {
        parent = getenv("TMPDIR");
        if (!parent || !*parent)
            parent = "/tmp";
    }
    char name[PATH_MAX], copy[PATH_MAX], wal[PATH_MAX + 8], copy_wal[PATH_MAX];
    snprintf(name, sizeof(name), "%s", src);
    const char *base = basename(name);
    if (snprintf(s->dir, sizeof(s->dir), "%s/.duckmig-src-XXXXXX", parent) >=
        (int)sizeof(s->dir)) {
        s->dir[0] = '\0';
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", parent);
    }
    if (!mkdtemp(s->dir)) {
        int errnum = errno;
        s->dir[0] = '\0';
        return dm_fail_errno(err, DM_ERR_IO, errnum,
                             "cannot create a folder in '%s' for a copy of "
                             "'%s' and its WAL",
                             parent, src);
    }
    if (snprintf(copy, sizeof(copy), "%s/%s", s->dir, base) >=
            (int)sizeof(copy) ||
        snprintf(copy_wal, sizeof(copy_wal), "%s.wal", copy) >=
            (int)sizeof(copy_wal)) {
        rc = dm_fail(err, DM_ERR_USAGE, "'%s' is too long", src);
        goto out;
    }
    snprintf(wal, sizeof(wal), "%s.wal", src);
    snprintf(s->path, sizeof(s->path), "%s", copy);
    dm_info("migrate",
            "%s has a WAL: DuckDB %s replays it only when the file is opened "
            "for writing, so a copy is replayed in %s",
            src, release, s->dir);
    rc = copy_file(src, copy, err);
    if (!rc)
        rc = copy_file(wal, copy_wal, err);
    if (!rc)
        rc = dm_engine_start(release, &e, err);
    if (!rc)
        rc = dm_engine_open(e, copy, 0, NULL, 0, err);
    if (!rc)
        rc = dm_engine_exec(e, "CHECKPOINT", err);
    if (rc && err->code == rc && !strstr(err->msg, src)) {
        char why[DM_ERROR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err->msg);
        dm_fail(err, rc, "replaying the WAL of '%s': %s", src, why);
    }
out:
    dm_engine_stop(e);
    if (rc)
        dm_source_remove(s);
    return rc;
}
