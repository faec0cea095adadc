/*
 * release.c - what duckmig knows of DuckDB releases (see release.h): the
 * storage version each writes, what each reads, how a release is spelled.
 */
#include "release/release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the version table ------------------------------------------------ */

struct storage_entry {
    uint64_t version;
    const char *const releases[20];
};

/* docs/file-format.md: storage_info.cpp at every tag, and version_map.json */
static const struct storage_entry storage_table[] = {
    {1, {"0.1.x", "0.2.0", "0.2.1", NULL}},
    {4, {"0.2.2", NULL}},
    {6, {"0.2.3", NULL}},
    {11, {"0.2.4", NULL}},
    {13, {"0.2.5", NULL}},
    {15, {"0.2.6", NULL}},
    {17, {"0.2.7", NULL}},
    {18, {"0.2.8", NULL}},
    {21, {"0.2.9", NULL}},
    {25, {"0.3.0", NULL}},
    {27, {"0.3.1", NULL}},
    {31, {"0.3.2", NULL}},
    {33, {"0.3.3", "0.3.4", "0.3.5", "0.4.0", NULL}},
    {38, {"0.5.0", "0.5.1", NULL}},
    {39, {"0.6.0", "0.6.1", NULL}},
    {43, {"0.7.0", "0.7.1", NULL}},
    {51, {"0.8.0", "0.8.1", NULL}},
    /* 1.2-1.5 still write 64 for new files unless STORAGE_VERSION says so */
    {64,
     {"0.9.0", "0.9.1", "0.9.2", "0.10.0", "0.10.1", "0.10.2", "0.10.3",
      "1.0.0", "1.1.0", "1.1.1", "1.1.2", "1.1.3", "1.2.x", "1.3.x", "1.4.x",
      "1.5.x", NULL}},
    {65, {"1.2.x", NULL}},
    {66, {"1.3.x", NULL}},
    {67, {"1.4.x", NULL}},
    {68, {"1.5.x", NULL}},
    {69, {"2.0.x", NULL}},
};

#define N_STORAGE (sizeof(storage_table) / sizeof(storage_table[0]))

const char *const *dm_storage_releases(uint64_t v)
{
    for (size_t i = 0; i < N_STORAGE; i++)
        if (storage_table[i].version == v)
            return storage_table[i].releases;
    return NULL;
}

uint64_t dm_storage_from_serialization(uint64_t ser)
{
    /* 1.2=4 ... 1.5=7, 2.0=8 (storage_info.cpp SER table) */
    if (ser >= 4 && ser <= 8)
        return 61 + ser;
    return 0;
}

bool dm_release_parse(const char *s, int *major, int *minor, int *patch)
{
    if (!s)
        return false;
    if (strncmp(s, "duckdb", 6) == 0)
        s += 6;
    if (*s == 'v')
        s++;
    int a, b, c, n = 0;
    if (sscanf(s, "%d.%d.%d%n", &a, &b, &c, &n) != 3 || s[n] != '\0')
        return false;
    if (a < 0 || b < 0 || c < 0)
        return false;
    *major = a;
    *minor = b;
    *patch = c;
    return true;
}

int dm_release_cmp(const char *a, const char *b)
{
    int a1 = 0, a2 = 0, a3 = 0, b1 = 0, b2 = 0, b3 = 0;
    dm_release_parse(a, &a1, &a2, &a3);
    dm_release_parse(b, &b1, &b2, &b3);
    if (a1 != b1)
        return a1 < b1 ? -1 : 1;
    if (a2 != b2)
        return a2 < b2 ? -1 : 1;
    if (a3 != b3)
        return a3 < b3 ? -1 : 1;
    return 0;
}

/* Before 0.9 each release reads exactly the version it writes. */
static uint64_t legacy_storage_of(int major, int minor, int patch)
{
    char name[32];
    snprintf(name, sizeof(name), "%d.%d.%d", major, minor, patch);
    for (size_t i = 0; i < N_STORAGE; i++) {
        if (storage_table[i].version >= DM_STORAGE_V0_9)
            break;
        for (const char *const *r = storage_table[i].releases; *r; r++)
            if (strcmp(*r, name) == 0)
                return storage_table[i].version;
    }
    return 0;
}

bool dm_release_storage_range(const char *release, uint64_t *lo, uint64_t *hi)
{
    int major, minor, patch;
    if (!dm_release_parse(release, &major, &minor, &patch))
        return false;
    if (major == 0 && minor < 9) {
        uint64_t v = legacy_storage_of(major, minor, patch);
        if (!v)
            return false;
        *lo = *hi = v;
        return true;
    }
    *lo = DM_STORAGE_V0_9;
    if (major == 0 || (major == 1 && minor <= 1)) {
        *hi = DM_STORAGE_V0_9; /* 0.9 - 1.1 read 64 only */
        return true;
    }
    if (major == 1 && minor <= 5) {
        *hi = 63 + (uint64_t)minor; /* 1.2 reads up to 65 ... 1.5 up to 68 */
        return true;
    }
    if (major == 2 && minor == 0) {
        *hi = 69;
        return true;
    }
    return false; /* a release we know nothing about */
}

bool dm_release_can_read(const char *release, uint64_t storage_version)
{
    uint64_t lo, hi;
    if (!dm_release_storage_range(release, &lo, &hi))
        return false;
    return storage_version >= lo && storage_version <= hi;
}

enum dm_code dm_release_normalize(const char *spec, char out[DM_RELEASE_MAX],
                                  struct dm_error *err)
{
    int a, b, c;
    if (spec && strcmp(spec, "latest") == 0)
        spec = DM_RELEASE_LATEST;
    if (!dm_release_parse(spec, &a, &b, &c))
        return dm_fail(err, DM_ERR_USAGE,
                       "'%s' is not a DuckDB release (want e.g. 0.8.1, "
                       "v0.8.1, duckdb0.8.1 or latest)",
                       spec ? spec : "");
    snprintf(out, DM_RELEASE_MAX, "%d.%d.%d", a, b, c);
    return DM_OK;
}

enum dm_code dm_target_storage(const char *release, const char *opt,
                               uint64_t *storage, struct dm_error *err)
{
    uint64_t lo, hi;
    int major, minor, patch;
    if (!dm_release_storage_range(release, &lo, &hi) ||
        !dm_release_parse(release, &major, &minor, &patch))
        return dm_fail(err, DM_ERR_USAGE, "DuckDB %s is not a known release",
                       release);
    if (lo == hi) { /* before 0.9: one format */
        if (opt)
            return dm_fail(err, DM_ERR_USAGE,
                           "--storage-version needs a 1.x target, not %s",
                           release);
        *storage = lo;
        return DM_OK;
    }
    if (!opt) { /* what 1.2-1.5 write by default */
        *storage = DM_STORAGE_V0_9;
        return DM_OK;
    }
    int a, b, c;
    if (!dm_release_parse(opt, &a, &b, &c) || a != 1 || b > 5 || c != 0)
        return dm_fail(err, DM_ERR_USAGE,
                       "--storage-version takes v1.0.0 ... v1.5.0, not '%s'",
                       opt);
    uint64_t v = b <= 1 ? DM_STORAGE_V0_9 : 63 + (uint64_t)b;
    if (v > hi)
        return dm_fail(err, DM_ERR_USAGE, "DuckDB %s cannot write %s", release,
                       opt);
    *storage = v;
    return DM_OK;
}

bool dm_release_before(const char *release, int major, int minor)
{
    int a, b, c;
    if (!dm_release_parse(release, &a, &b, &c))
        return false;
    return a < major || (a == major && b < minor);
}

bool dm_release_legacy(const char *release)
{
    return dm_release_before(release, 0, 9);
}

bool dm_release_streams_lists_wrong(int major, int minor)
{
    return major == 0 && minor == 8;
}
