/* worker.h - entry points of the engine worker process (see worker.c). */
#ifndef DM_ENGINE_WORKER_H
#define DM_ENGINE_WORKER_H

#include "engine/api.h"

/* argv: RELEASE LIBRARY-PATH; the channel is fd 3. Returns exit status. */
int dm_engine_worker_main(int argc, char **argv);

/* What a worker process sets before it loads a release (signals, malloc
 * thresholds): a zygote sets it once, for every worker it forks. */
void dm_engine_worker_prepare(void);

/* Answer READY on fd 3 and serve frames until QUIT or EOF, with api
 * already loaded (by this process, or by the zygote it was forked from).
 * Returns the exit status. */
int dm_engine_worker_serve(const struct dm_duckdb_api *api,
                           const char *release);

/*
 * The release's own macro names, asked once of a fresh in-memory
 * database. A zygote must not open a database itself (threads): it asks
 * in a child, then hands the answer (NUL-separated names, malloc'd) to
 * set_builtins, and every worker it forks inherits it.
 */
bool dm_engine_worker_learn_builtins(const struct dm_duckdb_api *api);
const char *dm_engine_worker_builtins(size_t *len);
void dm_engine_worker_set_builtins(char *names, size_t len);

#endif
