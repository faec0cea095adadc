/*
 * zygote.h - engines kept loaded across files (see zygote.c): one process
 * per release that has loaded its libduckdb once and forks a fresh worker
 * for each dm_engine_start() of a batch or a consumer.
 */
#ifndef DM_ENGINE_ZYGOTE_H
#define DM_ENGINE_ZYGOTE_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/wire.h"
#include "util/error.h"

struct dm_zygotes;

/*
 * Start a zygote for every installed release, with its socket in a
 * private folder under parent, wait (briefly) until they listen, and set
 * DUCKMIG_ZYGOTE_DIR for this process and the jobs it starts.
 * *out is NULL when they are turned off. A zygote that does not come up
 * costs nothing but its speed: dm_engine_start() then spawns a worker.
 */
enum dm_code dm_zygotes_start(const char *parent, struct dm_zygotes **out,
                              struct dm_error *err);
/* Stop them (workers already forked finish their files) and unset the
 * variable. NULL is fine. */
void dm_zygotes_stop(struct dm_zygotes *z);

/*
 * Start one more zygote of another kind beside the engines' (the job
 * zygote, fleet/jobzygote.h): `duckmig VERB SOCKET` (this program, not
 * dm_engine_program's), its socket NAME.sock
 * in their folder, stopped with them; waits until it listens. false: it
 * did not come up (or z is NULL: zygotes are off); its clients fall back.
 */
bool dm_zygotes_add(struct dm_zygotes *z, const char *verb, const char *name);

/* `duckmig __zygote RELEASE LIBRARY SOCKET`; returns the exit status. */
int dm_engine_zygote_main(int argc, char **argv);

/*
 * What a zygote forks its children for: engine workers (here) or jobs
 * (fleet/jobzygote.c). The server loop, the protocol and the reaping are
 * the same for every kind.
 */
struct dm_zygote_kind {
    const char *name; /* in messages: "zygote 0.8.1", "job zygote" */
    size_t nfds;      /* descriptors a FORK brings (1..DM_WIRE_MAX_FDS) */
    bool own_group;   /* each child leads its own process group */
    /* may this zygote serve that FORK frame? false: ERROR, and the
     * client starts its child the usual way */
    bool (*accepts)(void *ud, const struct dm_wbuf *frame);
    /* in the forked child, with the server's descriptors closed and its
     * signal mask as it came: become the child and exit; fds are the
     * nfds passed (close-on-exec) */
    void (*become)(void *ud, const struct dm_wbuf *frame, int *fds);
    void *ud;
};

/* Serve FORKs on a new socket at path until killed; checks first that
 * this process has one thread. Returns the exit status. */
int dm_zygote_serve(const char *path, const struct dm_zygote_kind *kind);

/*
 * A child from the zygote whose socket is NAME.sock under
 * DUCKMIG_ZYGOTE_DIR: frame (a FORK, reused for the answer) goes with
 * fds; *pid is the child, *conn the connection that reports its end
 * (dm_zygote_done, dm_zygote_reap). false: none, with err saying why.
 */
bool dm_zygote_request(const char *name, struct dm_wbuf *frame, const int *fds,
                       size_t nfds, pid_t *pid, int *conn,
                       struct dm_error *err);

/* Wait for the DONE on conn: *status as waitpid would set it. The child
 * stays unreaped, its pid still its own, until conn is closed. false:
 * the zygote is gone. */
bool dm_zygote_done(int conn, int *status);

/*
 * A worker for release from its zygote, if one is listening: *fd is the
 * worker's socket (it answers READY as a spawned one does), *pid its
 * process, *conn the connection that reports its end. false: none, start
 * one the usual way.
 */
bool dm_zygote_fork(const char *release, const char *library, int *fd,
                    pid_t *pid, int *conn);

/*
 * The end of a worker from a zygote: wait up to timeout_ms for it (after
 * killing it first when kill_first), then kill it and wait for good. Sets
 * *status as waitpid would; false when the zygote could not say (it is
 * gone). Closes *conn and sets it to -1.
 */
bool dm_zygote_reap(int *conn, bool kill_first, int timeout_ms, int *status);

#endif
