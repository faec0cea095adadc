/*
 * export.c - what 0.6-0.8 keep of a macro only in EXPORT DATABASE's
 * schema.sql: the defaults of its parameters and a table macro's query.
 * The source release's own EXPORT is run for its schema.sql only; the
 * text is read as data (catalog.h, dm_catalog_add_export), never run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/sqltext.h"
#include "util/log.h"
#include "util/str.h"

/* What 0.6-0.8 EXPORT names a table's data file, so we can point it at
 * /dev/null: [schema_]table, lower case, [^a-z0-9] -> '_'. A miss only
 * costs disk in the folder. */
static void export_file_name(const char *schema, const char *table, char *out,
                             size_t n)
{
    char raw[1024];
    if (strcmp(schema, "main") == 0)
        snprintf(raw, sizeof(raw), "%s", table);
    else
        snprintf(raw, sizeof(raw), "%s_%s", schema, table);
    size_t o = 0;
    for (size_t i = 0; raw[i] && o + 5 < n; i++) {
        char ch = raw[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        /* EXPORT keeps a-z only: digits too become '_' */
        out[o++] = (ch >= 'a' && ch <= 'z') ? ch : '_';
    }
    snprintf(out + o, n - o, ".csv");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t len;
    if (!f)
        return NULL;
    char *buf = dm_slurp(f, &len);
    fclose(f);
    return buf;
}

/*
 * Wait for this process's turn to EXPORT: an exclusive flock on a file
 * every duckmig on the machine shares. The wait is bounded (a stuck
 * holder must not stop every migration of a file with macros) and said.
 * Returns the descriptor to close when done, or -1 when no lock file can
 * be had (go on without it); DM_ERR_IO in *rc when the wait timed out.
 */
static int export_turn_take(enum dm_code *rc, struct dm_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/duckmig-export.lock",
             dm_env_or("TMPDIR", "/tmp"));
    long limit = strtol(dm_env_or("DUCKMIG_EXPORT_WAIT", "600"), NULL, 10);
    *rc = DM_OK;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0)
        return -1;
    for (long waited_ms = 0;; waited_ms += 100) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            close(fd);
            return -1;
        }
        if (waited_ms == 0)
            dm_info("migrate",
                    "waiting for another migration's EXPORT DATABASE to end "
                    "(the lock %s, at most %ld s)",
                    path, limit);
        if (waited_ms >= limit * 1000) {
            close(fd);
            *rc = dm_fail(err, DM_ERR_IO,
                          "another process has held %s for %ld s: no "
                          "EXPORT DATABASE could run to read this file's "
                          "macros (DUCKMIG_EXPORT_WAIT sets the limit)",
                          path, limit);
            return -1;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Remove the files and links directly in dir (EXPORT writes no folders). */
static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            unlinkat(dirfd(d), e->d_name, 0) != 0)
            dm_debug("migrate", "cannot remove %s/%s", dir, e->d_name);
    closedir(d);
}

enum dm_code dm_catalog_export_macros(struct dm_engine *reader,
                                      struct dm_catalog *cat,
                                      const char *parent, struct dm_error *err)
{
    char dir[PATH_MAX + 16], file[PATH_MAX + 1100];
    char name[1024];
    enum dm_code rc = DM_OK;
    char *schema_sql = NULL, *sql = NULL, *lit = NULL;

    snprintf(dir, sizeof(dir), "%s/export", parent);
    if (mkdir(dir, 0700) != 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'", dir);
    for (size_t i = 0; i < cat->ntables; i++) {
        export_file_name(cat->tables[i].schema, cat->tables[i].name, name,
                         sizeof(name));
        snprintf(file, sizeof(file), "%s/%s", dir, name);
        if (symlink("/dev/null", file) != 0 && errno != EEXIST)
            dm_debug("migrate", "cannot link %s to /dev/null", file);
    }
    lit = dm_sql_literal(dir);
    sql = lit ? dm_fmt("EXPORT DATABASE %s", lit) : NULL;
    if (!sql) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* DuckDB write-locks each file it exports to, /dev/null included, so
     * two migrations exporting at once (batch --jobs) would refuse each
     * other: exports take turns */
    int turn = export_turn_take(&rc, err);
    if (rc)
        goto out;
    struct dm_error xerr = DM_ERROR_INIT;
    rc = dm_engine_exec_one(reader, sql, &xerr);
    if (turn >= 0)
        close(turn);
    if (rc == DM_ERR_SQL) {
        /* EXPORT refused (a table whose file name is too long, say): the
         * macros cannot be read, the rest of the file still can */
        char line[300];
        snprintf(line, sizeof(line), "%.299s", xerr.msg);
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        for (size_t i = 0; i < cat->nmacros; i++)
            if (!cat->macros[i].problem)
                cat->macros[i].problem =
                    dm_fmt("0.6-0.8 keep its definition only in EXPORT "
                           "DATABASE, which failed: %s",
                           line);
        rc = DM_OK;
        goto out;
    }
    if (rc) {
        dm_fail(err, rc, "%s", xerr.msg);
        goto out;
    }
    snprintf(file, sizeof(file), "%s/schema.sql", dir);
    schema_sql = slurp(file);
    if (!schema_sql) {
        rc = dm_fail_errno(err, DM_ERR_IO, errno, "cannot read '%s'", file);
        goto out;
    }
    dm_catalog_add_export(cat, schema_sql);
out:
    /* the folder (a migration's staging folder) must hold only the new
     * file when it is published:
     * everything EXPORT wrote goes, whatever name it chose */
    remove_files(dir);
    rmdir(dir);
    free(schema_sql);
    free(sql);
    free(lit);
    return rc;
}
