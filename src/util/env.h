/*
 * env.h - the numbers duckmig reads from its environment.
 *
 * Every numeric variable is listed once, with the values it may take, in
 * env.c. main() checks them all before any command runs, so that a
 * mistyped DUCKMIG_THREADS=eight is refused at start-up with the name of
 * the variable, not taken as 0 (atoi) or silently as the default deep
 * inside a migration.
 */
#ifndef DM_UTIL_ENV_H
#define DM_UTIL_ENV_H

#include <stdint.h>

#include "util/error.h"

/* DM_ERR_USAGE for the first listed variable that is set, not empty and
 * not a whole number in its range. */
enum dm_code dm_env_check(struct dm_error *err);

/*
 * The value of the listed variable name, or def when it is unset or
 * empty. A value dm_env_check would refuse gives def too (main refused it
 * already; a unit test does not call main). A name that is not listed is
 * a bug in duckmig: it aborts.
 */
uint64_t dm_env_u64(const char *name, uint64_t def);

#endif
