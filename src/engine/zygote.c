/*
 * zygote.c - engines kept loaded across files (see zygote.h).
 *
 * Why: a spawned worker is an exec of duckmig (its forty-odd shared
 * libraries) and a dlopen of a 25-70 MB libduckdb, whose relocations are
 * most of the cost: 70-130 ms each (bench/engine-start.sh), twice or more
 * per file, when a small tracker file's whole migration is a few hundred
 * ms. A fork of a process that has done both costs about a millisecond,
 * and its relocated pages are shared copy-on-write by every worker.
 *
 * Why a fresh process per file rather than one worker serving file after
 * file: nothing of one file's database (its buffers, a catalog the
 * release caches, a crash half-way) can reach the next, and the
 * verifier's worker shares no state with the writer's, exactly as with a
 * spawned worker (docs/engines.md). The zygote opens no database: DuckDB
 * starts its threads when a database opens, and a process with threads
 * must not fork. It checks that it has none before it serves.
 *
 * Protocol, one connection per worker, framed as wire.h: the client sends
 * FORK(library) with its end of a socketpair; the zygote forks, the child
 * serves that socket as fd 3 (worker.c), and the zygote answers OK(pid).
 * The connection stays open for the worker's life: when the worker ends,
 * the zygote reaps it and sends DONE(wait status), what waitpid would
 * have told the client. A QUIT from the client, or the client's end
 * closing (the client died), makes the zygote kill the worker, as the
 * parent-death signal does for a spawned one.
 */
#include "engine/zygote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/api.h"
#include "engine/registry.h"
#include "engine/wire.h"
#include "engine/worker.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/tmpdir.h"
#include "util/settings.h"

extern char **environ;

#define ZYGOTES_MAX 16

struct dm_zygotes {
    char *dir;
    int lockfd;
    size_t n;
    pid_t pid[ZYGOTES_MAX];
};

static bool socket_path(const char *dir, const char *release,
                        struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", dir,
                     release);
    return n > 0 && (size_t)n < sizeof(sa->sun_path);
}

/* ---- the starter's side ---- */

enum dm_code dm_zygotes_start(const char *parent, struct dm_zygotes **out,
                              struct dm_error *err)
{
    char rel[ZYGOTES_MAX][DM_RELEASE_MAX];
    char exe[PATH_MAX];
    enum dm_code rc = DM_OK;

    *out = NULL;
    if (dm_setting_u64(DM_SET_KEEP_ENGINES) == 0)
        return DM_OK;
    if (!dm_engine_program(exe, sizeof(exe)))
        return DM_OK; /* spawned workers will say what is wrong */
    struct dm_zygotes *z = calloc(1, sizeof(*z));
    if (!z)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    z->lockfd = -1;
    /* the sockets of zygotes whose owner was killed go first */
    dm_tmpdir_sweep(parent, "duckmig-engines-");
    rc = dm_tmpdir_create(parent, "duckmig-engines-", &z->dir, &z->lockfd, err);
    if (rc)
        goto fail;

    /* no stdin or stdout: a zygote and its workers must not hold the
     * pipe a batch's --json output goes to; stderr stays, for the
     * release's own complaints */
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = dm_fail(err, DM_ERR_NOMEM, "posix_spawn_file_actions_init");
        goto fail;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    size_t n = dm_engines_installed(rel, ZYGOTES_MAX);
    for (size_t i = 0; i < n; i++) {
        char library[PATH_MAX];
        struct dm_error lerr = DM_ERROR_INIT;
        struct sockaddr_un sa;
        if (dm_engine_library(rel[i], library, sizeof(library), &lerr) ||
            !socket_path(z->dir, rel[i], &sa))
            continue;
        char *argv[] = {exe,     (char *)"__zygote", rel[i],
                        library, sa.sun_path,        NULL};
        pid_t pid;
        if (posix_spawn(&pid, exe, &fa, NULL, argv, environ) == 0)
            z->pid[z->n++] = pid;
    }
    posix_spawn_file_actions_destroy(&fa);
    /* Wait until they listen, so that the first files use them too; one
     * that is slow or fails is only a worker spawned the usual way. */
    double deadline = dm_clock_now() + 5;
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_un sa;
        struct stat st;
        if (!socket_path(z->dir, rel[i], &sa))
            continue;
        while (stat(sa.sun_path, &st) != 0 && dm_clock_now() < deadline) {
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    rc = dm_setting_override(DM_SET_ZYGOTE_DIR, z->dir, err);
    if (rc)
        goto fail;
    dm_debug("engine", "%zu zygotes in %s", z->n, z->dir);
    *out = z;
    return DM_OK;
fail:
    dm_zygotes_stop(z);
    return rc;
}

void dm_zygotes_stop(struct dm_zygotes *z)
{
    if (!z)
        return;
    dm_setting_override(DM_SET_ZYGOTE_DIR, NULL, NULL);
    for (size_t i = 0; i < z->n; i++)
        kill(z->pid[i], SIGTERM);
    for (size_t i = 0; i < z->n; i++)
        while (waitpid(z->pid[i], NULL, 0) < 0 && errno == EINTR)
            ;
    if (z->dir)
        dm_tmpdir_remove(z->dir, z->lockfd);
    free(z->dir);
    free(z);
}

/* ---- the client's side ---- */

bool dm_zygote_fork(const char *release, const char *library, int *fd,
                    pid_t *pid, int *conn)
{
    struct dm_wbuf buf = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    struct sockaddr_un sa;
    int c = -1, sv[2] = {-1, -1};
    bool ok = false;

    const char *dir = dm_setting(DM_SET_ZYGOTE_DIR);
    if (!dir || !socket_path(dir, release, &sa))
        return false;
    c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0)
        goto out;
    if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        goto out;
    dm_wbuf_begin(&buf, DM_W_FORK);
    dm_wbuf_str(&buf, library);
    if (dm_wire_send_fd(c, &buf, sv[1], &err))
        goto out;
    close(sv[1]);
    sv[1] = -1;
    enum dm_wire_type type;
    if (dm_wire_recv(c, &buf, &type, &err) || type != DM_W_OK)
        goto out;
    struct dm_wcur cur;
    dm_wcur_init(&cur, &buf);
    uint32_t got = dm_wcur_u32(&cur);
    if (cur.bad || got == 0)
        goto out;
    *pid = (pid_t)got;
    *fd = sv[0];
    *conn = c;
    sv[0] = c = -1;
    ok = true;
out:
    if (!ok)
        dm_debug("engine", "no DuckDB %s zygote (%s): spawning a worker",
                 release, err.msg[0] ? err.msg : strerror(errno));
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (c >= 0)
        close(c);
    dm_wbuf_release(&buf);
    return ok;
}

static bool read_status(int conn, int timeout_ms, int *status, bool *gone)
{
    struct pollfd p = {.fd = conn, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return false;
    struct dm_wbuf buf = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_wire_type type;
    bool ok = false;
    if (dm_wire_recv(conn, &buf, &type, &err) == DM_OK && type == DM_W_DONE) {
        struct dm_wcur cur;
        dm_wcur_init(&cur, &buf);
        uint32_t st = dm_wcur_u32(&cur);
        if (!cur.bad) {
            *status = (int)st;
            ok = true;
        }
    }
    if (!ok)
        *gone = true;
    dm_wbuf_release(&buf);
    return ok;
}

bool dm_zygote_reap(int *conn, bool kill_first, int timeout_ms, int *status)
{
    struct dm_wbuf buf = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    bool gone = false, ok = false;

    if (*conn < 0)
        return false;
    if (!kill_first)
        ok = read_status(*conn, timeout_ms, status, &gone);
    if (!ok && !gone) {
        dm_wbuf_begin(&buf, DM_W_QUIT);
        if (dm_wire_send(*conn, &buf, &err) == DM_OK)
            ok = read_status(*conn, -1, status, &gone);
    }
    dm_wbuf_release(&buf);
    close(*conn);
    *conn = -1;
    return ok;
}

/* ---- the zygote ---- */

struct child {
    pid_t pid;
    int conn;    /* -1 once its DONE is sent */
    bool killed; /* SIGKILL sent: the client asked, or left */
};

static size_t count_threads(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa;
    char tmp[sizeof(sa.sun_path)];
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    /* bound under a temporary name and renamed: a client never finds a
     * socket that does not listen yet */
    int n = snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    if (n <= 0 || (size_t)n >= sizeof(tmp))
        return -1;
    memcpy(sa.sun_path, tmp, (size_t)n + 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    unlink(tmp);
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(s, 64) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        close(s);
        return -1;
    }
    return s;
}

/*
 * The release's own macro names, learnt in a child (which may open a
 * database: it exits after) and kept for every worker this zygote forks.
 * A zygote that cannot learn them still serves: its workers ask.
 */
static void learn_builtins(const struct dm_duckdb_api *api)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        size_t len = 0;
        const char *names = NULL;
        if (dm_engine_worker_learn_builtins(api))
            names = dm_engine_worker_builtins(&len);
        for (size_t at = 0; names && at < len;) {
            ssize_t w = write(p[1], names + at, len - at);
            if (w <= 0)
                _exit(1);
            at += (size_t)w;
        }
        _exit(names ? 0 : 1);
    }
    close(p[1]);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = pid > 0;
    while (ok) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(p[0], buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(p[0]);
    int st = 0;
    if (pid > 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    if (ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 && len > 0)
        dm_engine_worker_set_builtins(buf, len);
    else
        free(buf);
}

/* In the forked child: become a worker on the socket passed. */
static void become_worker(int passed, int keep_out[], size_t nkeep,
                          const sigset_t *mask, const struct dm_duckdb_api *api,
                          const char *release)
{
    for (size_t i = 0; i < nkeep; i++)
        if (keep_out[i] >= 0)
            close(keep_out[i]);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (passed != 3) {
        if (dup2(passed, 3) != 3)
            _exit(1);
        close(passed);
    } else {
        fcntl(3, F_SETFD, 0);
    }
    int status = dm_engine_worker_serve(api, release);
    /* Its database is closed and its answers sent: what exit() would add
     * is DuckDB's static destructors and the loader's teardown, a few ms
     * of every worker of every file. Under AddressSanitizer, exit(), so
     * that its leak check runs. */
    fflush(NULL);
#ifdef __SANITIZE_ADDRESS__
    exit(status);
#else
    _exit(status);
#endif
}

/* FORK on conn: fork a worker for the socket it brings; its pid, or -1. */
static pid_t fork_worker(int conn, const char *library, int listener, int sfd,
                         struct child *kids, size_t nkids, const sigset_t *mask,
                         const struct dm_duckdb_api *api, const char *release)
{
    struct dm_wbuf in = DM_WBUF_INIT, out = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_wire_type type;
    int passed = -1;
    pid_t pid = -1;

    if (dm_wire_recv_fd(conn, &in, &type, &passed, &err) || type != DM_W_FORK ||
        passed < 0)
        goto out;
    struct dm_wcur cur;
    dm_wcur_init(&cur, &in);
    char *want = dm_wcur_str(&cur, NULL);
    bool same = want && strcmp(want, library) == 0;
    free(want);
    if (!same) {
        /* a client that looks for another library: let it spawn one */
        dm_wbuf_begin(&out, DM_W_ERROR);
        dm_wbuf_u32(&out, DM_ERR_ENGINE);
        dm_wbuf_str(&out, "this zygote loaded another library");
        dm_wire_send(conn, &out, &err);
        goto out;
    }
    pid = fork();
    if (pid == 0) {
        int close_fds[3] = {listener, sfd, conn};
        for (size_t i = 0; i < nkids; i++)
            if (kids[i].conn >= 0)
                close(kids[i].conn);
        become_worker(passed, close_fds, 3, mask, api, release);
    }
    if (pid > 0) {
        dm_wbuf_begin(&out, DM_W_OK);
        dm_wbuf_u32(&out, (uint32_t)pid);
        if (dm_wire_send(conn, &out, &err)) {
            kill(pid, SIGKILL); /* the client is gone already */
        }
    }
out:
    if (passed >= 0)
        close(passed);
    dm_wbuf_release(&in);
    dm_wbuf_release(&out);
    return pid;
}

int dm_engine_zygote_main(int argc, char **argv)
{
    struct dm_duckdb_api api;
    struct dm_error err = DM_ERROR_INIT;
    struct child *kids = NULL;
    size_t nkids = 0, cap = 0;
    struct pollfd *polls = NULL;
    int listener = -1, sfd = -1, status = 1, major, minor, patch;
    sigset_t old, chld;

    memset(&api, 0, sizeof(api));
    /* a zygote lives no longer than the batch or consumer that started
     * it; the workers it forked finish their files */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (argc != 4 || !dm_release_parse(argv[1], &major, &minor, &patch)) {
        fprintf(stderr, "usage: duckmig __zygote RELEASE LIBRARY SOCKET\n");
        return 2;
    }
    dm_engine_worker_prepare();
    if (dm_duckdb_api_load(argv[2], &api, &err)) {
        fprintf(stderr, "duckmig: zygote %s: %s\n", argv[1], err.msg);
        return 1;
    }
    if (count_threads() != 1) {
        fprintf(stderr,
                "duckmig: zygote %s: the library started threads; "
                "workers will be spawned\n",
                argv[1]);
        goto out;
    }
    learn_builtins(&api);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    listener = listen_on(argv[3]);
    if (sfd < 0 || listener < 0) {
        fprintf(stderr, "duckmig: zygote %s: cannot listen on %s: %s\n",
                argv[1], argv[3], strerror(errno));
        goto out;
    }
    for (;;) {
        size_t np = 2 + nkids;
        struct pollfd *np_ = realloc(polls, np * sizeof(*polls));
        if (!np_)
            goto out;
        polls = np_;
        polls[0] = (struct pollfd){.fd = listener, .events = POLLIN};
        polls[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
        for (size_t i = 0; i < nkids; i++)
            polls[2 + i] = (struct pollfd){
                .fd = kids[i].killed ? -1 : kids[i].conn, .events = POLLIN};
        if (poll(polls, np, -1) < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        /* a client asked to end its worker, or left */
        for (size_t i = 0; i < nkids; i++)
            if (polls[2 + i].revents && !kids[i].killed) {
                kill(kids[i].pid, SIGKILL);
                kids[i].killed = true;
            }
        if (polls[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) > 0)
                ;
            int wst;
            pid_t pid;
            while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
                for (size_t i = 0; i < nkids; i++) {
                    if (kids[i].pid != pid)
                        continue;
                    struct dm_wbuf out = DM_WBUF_INIT;
                    struct dm_error ignored = DM_ERROR_INIT;
                    dm_wbuf_begin(&out, DM_W_DONE);
                    dm_wbuf_u32(&out, (uint32_t)wst);
                    dm_wire_send(kids[i].conn, &out, &ignored);
                    dm_wbuf_release(&out);
                    close(kids[i].conn);
                    kids[i] = kids[--nkids];
                    break;
                }
            }
        }
        if (polls[0].revents) {
            int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (conn < 0)
                continue;
            if (nkids == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                struct child *nk = realloc(kids, ncap * sizeof(*kids));
                if (!nk) {
                    close(conn);
                    continue;
                }
                kids = nk;
                cap = ncap;
            }
            pid_t pid = fork_worker(conn, argv[2], listener, sfd, kids, nkids,
                                    &old, &api, argv[1]);
            if (pid > 0)
                kids[nkids++] = (struct child){pid, conn, false};
            else
                close(conn);
        }
    }
out:
    status = 1;
    if (listener >= 0) {
        unlink(argv[3]);
        close(listener);
    }
    if (sfd >= 0)
        close(sfd);
    for (size_t i = 0; i < nkids; i++)
        close(kids[i].conn);
    free(kids);
    free(polls);
    dm_duckdb_api_unload(&api);
    return status;
}
