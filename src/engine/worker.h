/* worker.h - entry point of the engine worker process (see worker.c). */
#ifndef DM_ENGINE_WORKER_H
#define DM_ENGINE_WORKER_H

/* argv: RELEASE LIBRARY-PATH; the channel is fd 3. Returns exit status. */
int dm_engine_worker_main(int argc, char **argv);

#endif
