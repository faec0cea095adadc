/*
 * registry.h - where engines live and which one opens which file.
 *
 * Engines are installed by scripts/get-duckdb as
 * <engines>/<release>/libduckdb.so, where <engines> is $DUCKMIG_ENGINES,
 * else <dir of the duckmig binary>/engines, else
 * <dir of the binary>/../lib/duckmig/engines (an installed layout).
 */
#ifndef DM_ENGINE_REGISTRY_H
#define DM_ENGINE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "release/release.h"
#include "util/error.h"

/* The engines folder in use (static storage). */
const char *dm_engines_dir(void);

/*
 * The program started as an engine worker or a zygote, in exe: this
 * duckmig, or DUCKMIG_ENGINE_PROGRAM (testing: the sanitizer suite runs
 * the fleet tests' workers from the release build). False when neither
 * can be named.
 */
bool dm_engine_program(char *exe, size_t cap);

/* Path of release's libduckdb.so; DM_ERR_ENGINE if it is not installed. */
enum dm_code dm_engine_library(const char *release, char *path, size_t n,
                               struct dm_error *err);

/*
 * The installed releases, newest first, into out[max]. Returns how many
 * were found (at most max).
 */
size_t dm_engines_installed(char out[][DM_RELEASE_MAX], size_t max);

/*
 * The installed release that opens storage version v: for a file older
 * than 0.9 the release of exactly that version, otherwise the newest one
 * whose range covers v. Returns false when none is installed.
 */
bool dm_engine_for_storage(uint64_t v, char out[DM_RELEASE_MAX]);

#endif
