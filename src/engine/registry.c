/* registry.c - locate installed engines and pick one for a file. */
#include "engine/registry.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "header/header.h"
#include "util/settings.h"

static char engines_dir[PATH_MAX + 64];

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *dm_engines_dir(void)
{
    const char *env = dm_setting(DM_SET_ENGINES);
    if (env) {
        snprintf(engines_dir, sizeof(engines_dir), "%s", env);
        return engines_dir;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(engines_dir, sizeof(engines_dir), "engines");
        return engines_dir;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(engines_dir, sizeof(engines_dir), "%s/../lib/duckmig/engines",
             exe);
    if (!is_dir(engines_dir))
        snprintf(engines_dir, sizeof(engines_dir), "%s/engines", exe);
    return engines_dir;
}

enum dm_code dm_engine_library(const char *release, char *path, size_t n,
                               struct dm_error *err)
{
    const char *dir = dm_engines_dir();
    snprintf(path, n, "%s/%s/libduckdb.so", dir, release);
    if (access(path, R_OK) != 0)
        return dm_fail(err, DM_ERR_ENGINE,
                       "DuckDB %s is not installed in %s (run "
                       "scripts/get-duckdb %s)",
                       release, dir, release);
    return DM_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    return dm_release_cmp((const char *)b, (const char *)a);
}

size_t dm_engines_installed(char out[][DM_RELEASE_MAX], size_t max)
{
    const char *dir = dm_engines_dir();
    DIR *d = opendir(dir);
    size_t count = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < max) {
        int a, b, c;
        char lib[PATH_MAX];
        if (!dm_release_parse(e->d_name, &a, &b, &c))
            continue;
        int n =
            snprintf(lib, sizeof(lib), "%s/%s/libduckdb.so", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(lib) || access(lib, R_OK) != 0)
            continue;
        snprintf(out[count++], DM_RELEASE_MAX, "%d.%d.%d", a, b, c);
    }
    closedir(d);
    qsort(out, count, DM_RELEASE_MAX, cmp_desc);
    return count;
}

bool dm_engine_for_storage(uint64_t v, char out[DM_RELEASE_MAX])
{
    char rel[32][DM_RELEASE_MAX];
    size_t n = dm_engines_installed(rel, 32);
    for (size_t i = 0; i < n; i++) {
        if (dm_release_can_read(rel[i], v)) {
            memcpy(out, rel[i], DM_RELEASE_MAX);
            return true;
        }
    }
    return false;
}

bool dm_engine_program(char *exe, size_t cap)
{
    const char *program = dm_setting(DM_SET_ENGINE_PROGRAM);
    if (program) {
        int n = snprintf(exe, cap, "%s", program);
        return n > 0 && (size_t)n < cap;
    }
    ssize_t n = readlink("/proc/self/exe", exe, cap - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    return true;
}
