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
#include "release/release.h"
#include "util/file.h"
#include "util/log.h"
#include "util/settings.h"

/* Does path have a non-empty WAL beside it? */
static bool has_wal(const char *path)
{
    char wal[PATH_MAX + 8];
    struct stat st;
    snprintf(wal, sizeof(wal), "%s.wal", path);
    return stat(wal, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

enum dm_code dm_file_copy(const char *from, const char *to,
                          struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    /* non-blocking until it is known to be a regular file: a FIFO must
     * not hang the copy */
    int in = open(from, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (in < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot open '%s'", from);
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return dm_fail(err, DM_ERR_IO, "'%s' is not a regular file", from);
    }
    fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
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

/* Open path read-write with release (checking the WAL's replay where
 * the release only prints its failure) and checkpoint. */
static enum dm_code replay(const char *release, const char *path, bool check,
                           struct dm_error *err)
{
    struct dm_engine *e = NULL;
    enum dm_code rc = dm_engine_start(release, &e, err);
    if (!rc)
        rc = dm_engine_open(e, path, check ? DM_OPEN_WAL_CHECK : 0, NULL, 0,
                            err);
    if (!rc)
        rc = dm_engine_exec_one(e, "CHECKPOINT", err);
    dm_engine_stop(e);
    e = NULL;
    /* 0.6-0.8 write some catalogs they cannot read back (a DEFAULT of
     * a table of schema s calling nextval of a main sequence): what the
     * replay wrote must open again, in a fresh engine */
    if (!rc) {
        struct dm_error oerr = DM_ERROR_INIT;
        enum dm_code orc = dm_engine_start(release, &e, &oerr);
        if (!orc)
            orc = dm_engine_open(e, path, DM_OPEN_READ_ONLY, NULL, 0, &oerr);
        dm_engine_stop(e);
        if (orc == DM_ERR_SQL)
            rc = dm_fail(err, DM_ERR_DAMAGED,
                         "DuckDB %s replayed the WAL into a copy and "
                         "checkpointed it, then cannot open that copy (%s): "
                         "the file reads only with its WAL pending, a DuckDB "
                         "bug",
                         release, oerr.msg);
        else if (orc)
            rc = dm_fail(err, orc, "%s", oerr.msg);
    }
    return rc;
}

enum dm_code dm_source_prepare(const char *src, const char *release,
                               const char *parent, bool ignore_wal,
                               struct dm_source *s, struct dm_error *err)
{
    enum dm_code rc = DM_OK;
    memset(s, 0, sizeof(*s));
    if (snprintf(s->path, sizeof(s->path), "%s", src) >= (int)sizeof(s->path))
        return dm_fail(err, DM_ERR_USAGE, "'%s' is too long", src);
    int major, minor, patch;
    if (!dm_release_parse(release, &major, &minor, &patch) || !has_wal(src))
        return DM_OK;
    bool legacy = dm_release_legacy(release);

    if (!parent)
        parent = dm_setting(DM_SET_TMPDIR);
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
            "%s has a WAL: a copy is replayed and checkpointed by DuckDB %s "
            "in %s",
            src, release, s->dir);
    rc = dm_file_copy(src, copy, err);
    if (!rc)
        rc = dm_file_copy(wal, copy_wal, err);
    if (rc)
        goto out;
    struct dm_error rerr = DM_ERROR_INIT;
    enum dm_code replayed = replay(release, copy, legacy, &rerr);
    /* 1.x keeps a WAL it could not replay, even through a CHECKPOINT */
    if (!replayed && !legacy && has_wal(copy))
        replayed = dm_fail(&rerr, DM_ERR_DAMAGED,
                           "DuckDB %s did not replay it (it is damaged, cut "
                           "short, or not this file's)",
                           release);
    if (replayed == DM_ERR_DAMAGED) {
        if (!ignore_wal) {
            rc = dm_fail(err, DM_ERR_DAMAGED,
                         "the WAL of '%s' cannot be replayed: %s; nothing "
                         "was written (--ignore-wal-errors reads the file "
                         "without it)",
                         src, rerr.msg);
            goto out;
        }
        snprintf(s->wal_ignored, sizeof(s->wal_ignored),
                 "its WAL was not replayed (ignored as asked): %.900s",
                 rerr.msg);
        dm_warn("migrate", "%s: %s", src, s->wal_ignored);
        unlink(copy_wal);
        dm_error_clear(&rerr);
        replayed = replay(release, copy, false, &rerr);
    }
    if (replayed) {
        char why[DM_ERROR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", rerr.msg);
        rc = dm_fail(err, replayed, "replaying the WAL of '%s': %s", src, why);
    }
out:
    if (rc)
        dm_source_remove(s);
    return rc;
}
