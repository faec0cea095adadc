/*
 * release.h - what duckmig knows of DuckDB releases: the storage version
 * each writes (docs/file-format.md), what each reads, how a release is
 * spelled, and what a target writes. One place, asked at the edge: a
 * release given by a user is normalized once (dm_release_normalize) and
 * travels as "0.8.1" from there.
 */
#ifndef DM_RELEASE_RELEASE_H
#define DM_RELEASE_RELEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define DM_RELEASE_MAX 24
/* What `latest` means: the newest release duckmig is tested with. */
#define DM_RELEASE_LATEST "1.5.6"
/* First storage version that 1.x engines open; also the 0.9 format. */
#define DM_STORAGE_V0_9 64

/*
 * Parse "0.8.1", "v0.8.1" or "duckdb0.8.1" into major/minor/patch.
 * Returns false for anything else.
 */
bool dm_release_parse(const char *s, int *major, int *minor, int *patch);

/*
 * Normalize a release spelling ("duckdb0.8.1", "v0.8.1", "0.8.1",
 * "latest") into out ("0.8.1"). DM_ERR_USAGE for anything else.
 */
enum dm_code dm_release_normalize(const char *spec, char out[DM_RELEASE_MAX],
                                  struct dm_error *err);

/* Compare two release strings; <0, 0, >0 like strcmp. */
int dm_release_cmp(const char *a, const char *b);

/* Is release older than major.minor? (false for a spelling it is not) */
bool dm_release_before(const char *release, int major, int minor);
/* A release before 0.9: it reads only its own storage version, and its
 * catalog functions answer in their own ways (catalog.h). */
bool dm_release_legacy(const char *release);
/*
 * Does release major.minor stream a LIST wrong? 0.8's streaming C API
 * hands out a LIST whose child is stored as one constant (a list of
 * equal values) as if it were flat: past the first element,
 * duckdb_vector_get_data holds whatever memory follows ([7, 7] read as
 * [7, 32685]; gen seed 3108). The worker materializes such a result
 * (engine/worker_data.c), and a table with a LIST is read in ranges
 * (catalog/scan.c): both ask here. 0.6 and 0.7 materialize every result;
 * 1.x streams lists right.
 */
bool dm_release_streams_lists_wrong(int major, int minor);

/*
 * The releases that write storage version v, NULL-terminated, or NULL when
 * v is not a known version.
 */
const char *const *dm_storage_releases(uint64_t v);

/* Map a 1.2+ serialization (compat) version to the storage version. */
uint64_t dm_storage_from_serialization(uint64_t ser);

/*
 * The storage versions release r reads: [*lo, *hi]. Before 0.10 a release
 * reads only its own version. Returns false for an unknown release.
 */
bool dm_release_storage_range(const char *release, uint64_t *lo, uint64_t *hi);

bool dm_release_can_read(const char *release, uint64_t storage_version);

/*
 * The storage version a target writes: release + --storage-version
 * ("v1.0.0" ... "v1.5.0", 1.x only; NULL: what 1.2-1.5 write by default).
 * DM_ERR_USAGE for a combination that does not exist.
 */
enum dm_code dm_target_storage(const char *release, const char *storage_opt,
                               uint64_t *storage, struct dm_error *err);

#endif
