/* health.c - the heartbeat file (see health.h). */
#include "fleet/health.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/str.h"
#include "util/settings.h"

const char *dm_heartbeat_path(void)
{
    return dm_setting(DM_SET_HEARTBEAT_FILE);
}

enum dm_code dm_heartbeat_touch(const char *path, struct dm_error *err)
{
    /* a time update, not a write: nothing to flush, nothing to fill */
    if (utimensat(AT_FDCWD, path, NULL, 0) == 0)
        return DM_OK;
    if (errno != ENOENT)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot touch '%s'", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return dm_fail_errno(err, DM_ERR_IO, errno, "cannot create '%s'", path);
    close(fd);
    return DM_OK;
}

enum dm_code dm_heartbeat_age(const char *path, double *age,
                              struct dm_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return dm_fail_errno(err,
                             errno == ENOENT ? DM_ERR_NOT_FOUND : DM_ERR_IO,
                             errno, "heartbeat file '%s'", path);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    *age = (double)(now.tv_sec - st.st_mtim.tv_sec) +
           (double)(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
    return DM_OK;
}
