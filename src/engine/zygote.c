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
 * the zygote sends DONE(wait status), what waitpid would have told the
 * client, and reaps it once the client closes its end. A QUIT from the
 * client, or the client's end closing before (the client died), makes
 * the zygote kill the worker, as the parent-death signal does for a
 * spawned one.
 *
 * The server loop (dm_zygote_serve) is the same for every kind of
 * zygote: the job zygote (fleet/jobzygote.c) serves it with a kind of its
 * own, whose children are jobs and take three descriptors.
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
    pid_t pid[ZYGOTES_MAX + 1]; /* a release's each, and dm_zygotes_add's */
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

/* Start program with argv as one of z's zygotes. No stdin or stdout: a
 * zygote and its children must not hold the pipe a batch's --json output
 * goes to; stderr stays, for the release's own complaints. */
static void spawn_zygote(struct dm_zygotes *z, const char *program,
                         char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    if (z->n >= sizeof(z->pid) / sizeof(z->pid[0]) ||
        posix_spawn_file_actions_init(&fa) != 0)
        return;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, program, &fa, NULL, argv, environ) == 0)
        z->pid[z->n++] = pid;
    posix_spawn_file_actions_destroy(&fa);
}

/* Wait (until deadline) for a zygote to listen at path, so that the first
 * files use it too; one that is slow or fails only costs speed. */
static bool wait_listening(const char *path, double deadline)
{
    struct stat st;
    while (stat(path, &st) != 0) {
        if (dm_clock_now() >= deadline)
            return false;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

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
        spawn_zygote(z, exe, argv);
    }
    double deadline = dm_clock_now() + 5;
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_un sa;
        if (socket_path(z->dir, rel[i], &sa))
            wait_listening(sa.sun_path, deadline);
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

bool dm_zygotes_add(struct dm_zygotes *z, const char *verb, const char *name)
{
    char exe[PATH_MAX];
    struct sockaddr_un sa;
    /* this very program, as an exec of /proc/self/exe would be (not
     * dm_engine_program's, which may be another build of duckmig), under
     * its own name: its children show it (fleet/jobzygote.c) */
    ssize_t n = z ? readlink("/proc/self/exe", exe, sizeof(exe) - 1) : -1;
    if (n <= 0 || !socket_path(z->dir, name, &sa))
        return false;
    exe[n] = '\0';
    char *argv[] = {exe, (char *)verb, sa.sun_path, NULL};
    size_t before = z->n;
    /* /proc/self/exe: the file, even if a rebuild replaced the path */
    spawn_zygote(z, "/proc/self/exe", argv);
    return z->n > before && wait_listening(sa.sun_path, dm_clock_now() + 5);
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

bool dm_zygote_request(const char *name, struct dm_wbuf *frame, const int *fds,
                       size_t nfds, pid_t *pid, int *conn, struct dm_error *err)
{
    struct sockaddr_un sa;
    int c = -1;
    bool ok = false;

    const char *dir = dm_setting(DM_SET_ZYGOTE_DIR);
    if (!dir) {
        dm_fail(err, DM_ERR_ENGINE, "no zygotes (DUCKMIG_ZYGOTE_DIR unset)");
        return false;
    }
    if (!socket_path(dir, name, &sa)) {
        dm_fail(err, DM_ERR_ENGINE, "its socket's path is too long");
        return false;
    }
    c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        dm_fail_errno(err, DM_ERR_ENGINE, errno, "cannot reach %s",
                      sa.sun_path);
        goto out;
    }
    if (dm_wire_send_fds(c, frame, fds, nfds, err))
        goto out;
    enum dm_wire_type type;
    if (dm_wire_recv(c, frame, &type, err))
        goto out;
    struct dm_wcur cur;
    dm_wcur_init(&cur, frame);
    uint32_t got = dm_wcur_u32(&cur);
    if (type != DM_W_OK || cur.bad || got == 0) {
        dm_fail(err, DM_ERR_ENGINE, "the zygote refused");
        goto out;
    }
    *pid = (pid_t)got;
    *conn = c;
    c = -1;
    ok = true;
out:
    if (c >= 0)
        close(c);
    return ok;
}

bool dm_zygote_fork(const char *release, const char *library, int *fd,
                    pid_t *pid, int *conn)
{
    struct dm_wbuf buf = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    int sv[2] = {-1, -1};
    bool ok = false;

    if (!dm_setting(DM_SET_ZYGOTE_DIR))
        return false;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        dm_fail_errno(&err, DM_ERR_ENGINE, errno, "socketpair");
        goto out;
    }
    dm_wbuf_begin(&buf, DM_W_FORK);
    dm_wbuf_str(&buf, library);
    if (!dm_zygote_request(release, &buf, &sv[1], 1, pid, conn, &err))
        goto out;
    *fd = sv[0];
    sv[0] = -1;
    ok = true;
out:
    if (!ok)
        dm_debug("engine", "no DuckDB %s zygote (%s): spawning a worker",
                 release, err.msg);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
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

bool dm_zygote_done(int conn, int *status)
{
    bool gone = false;
    return read_status(conn, -1, status, &gone);
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

/*
 * A child stays unreaped (a zombie) after its DONE until the client
 * closes the connection or writes on it: its pid, and its process group
 * for a kind whose children lead one, cannot be given to another process
 * while the client may still signal it (a job runner kills a job's group
 * by pid, fleet/runner.c), as a parent that waits with WNOWAIT keeps it.
 */
struct child {
    pid_t pid;
    int conn;
    bool killed; /* SIGKILL sent: the client asked, or left */
    bool ended;  /* DONE sent; reaped when the client speaks */
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

/* The engine kind's state: the release loaded and its library's path. */
struct engine_kind {
    const struct dm_duckdb_api *api;
    const char *release, *library;
};

/* A FORK for another library is refused: the client spawns its worker. */
static bool engine_accepts(void *ud, const struct dm_wbuf *frame)
{
    struct engine_kind *k = ud;
    struct dm_wcur cur;
    dm_wcur_init(&cur, frame);
    char *want = dm_wcur_str(&cur, NULL);
    bool same = want && strcmp(want, k->library) == 0;
    free(want);
    return same;
}

/* In the forked child: become a worker on the socket passed. */
static void become_worker(void *ud, const struct dm_wbuf *frame, int *fds)
{
    struct engine_kind *k = ud;
    int passed = fds[0];
    (void)frame;
    if (passed != 3) {
        if (dup2(passed, 3) != 3)
            _exit(1);
        close(passed);
    } else {
        fcntl(3, F_SETFD, 0);
    }
    int status = dm_engine_worker_serve(k->api, k->release);
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

/* What the server loop knows of a zygote's children. */
struct server {
    const struct dm_zygote_kind *kind;
    int listener, sfd;
    sigset_t old; /* the mask a child gets back */
    struct child *kids;
    size_t nkids, cap;
    /* here, not in a local of the loop: a child's exit under
     * AddressSanitizer checks for leaks, and finds what it can reach */
    struct pollfd *polls;
};

/* FORK on conn: fork a child for the descriptors it brings; its pid, or
 * -1. */
static pid_t fork_child(struct server *sv, int conn)
{
    const struct dm_zygote_kind *kind = sv->kind;
    struct dm_wbuf in = DM_WBUF_INIT, out = DM_WBUF_INIT;
    struct dm_error err = DM_ERROR_INIT;
    enum dm_wire_type type;
    int passed[DM_WIRE_MAX_FDS];
    pid_t pid = -1;

    for (size_t i = 0; i < DM_WIRE_MAX_FDS; i++)
        passed[i] = -1;
    if (dm_wire_recv_fds(conn, &in, &type, passed, kind->nfds, &err) ||
        type != DM_W_FORK || passed[kind->nfds - 1] < 0)
        goto out;
    if (!kind->accepts(kind->ud, &in)) {
        /* a client that wants what this zygote has not loaded: it
         * starts its child the usual way */
        dm_wbuf_begin(&out, DM_W_ERROR);
        dm_wbuf_u32(&out, DM_ERR_ENGINE);
        dm_wbuf_str(&out, "this zygote cannot serve that");
        dm_wire_send(conn, &out, &err);
        goto out;
    }
    pid = fork();
    if (pid == 0) {
        close(sv->listener);
        close(sv->sfd);
        close(conn);
        for (size_t i = 0; i < sv->nkids; i++)
            close(sv->kids[i].conn);
        if (kind->own_group)
            setpgid(0, 0);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &sv->old, NULL);
        kind->become(kind->ud, &in, passed);
        _exit(1);
    }
    if (pid > 0) {
        /* here too: the client may signal the group as soon as it has
         * the pid */
        if (kind->own_group)
            setpgid(pid, pid);
        dm_wbuf_begin(&out, DM_W_OK);
        dm_wbuf_u32(&out, (uint32_t)pid);
        if (dm_wire_send(conn, &out, &err)) {
            kill(pid, SIGKILL); /* the client is gone already */
        }
    }
out:
    for (size_t i = 0; i < DM_WIRE_MAX_FDS; i++)
        if (passed[i] >= 0)
            close(passed[i]);
    dm_wbuf_release(&in);
    dm_wbuf_release(&out);
    return pid;
}

/* A child's end as waitpid would put it, from waitid's siginfo. */
static int wait_status(const siginfo_t *si)
{
    if (si->si_code == CLD_EXITED)
        return (si->si_status & 0xff) << 8;
    return (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

/* SIGCHLD: tell the clients of the children that ended, leaving them
 * unreaped (see struct child). */
static void children_ended(struct server *sv)
{
    struct signalfd_siginfo ssi;
    while (read(sv->sfd, &ssi, sizeof(ssi)) > 0)
        ;
    for (size_t i = 0; i < sv->nkids; i++) {
        struct child *k = &sv->kids[i];
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        if (k->ended ||
            waitid(P_PID, (id_t)k->pid, &si, WEXITED | WNOHANG | WNOWAIT) !=
                0 ||
            si.si_pid != k->pid)
            continue;
        struct dm_wbuf out = DM_WBUF_INIT;
        struct dm_error ignored = DM_ERROR_INIT;
        dm_wbuf_begin(&out, DM_W_DONE);
        dm_wbuf_u32(&out, (uint32_t)wait_status(&si));
        dm_wire_send(k->conn, &out, &ignored);
        dm_wbuf_release(&out);
        k->ended = true;
    }
}

/* Something on a child's connection: the client asked for its end
 * (QUIT), left, or, once told DONE, is through with the pid. */
static void client_spoke(struct server *sv, size_t i)
{
    struct child *k = &sv->kids[i];
    if (!k->ended) {
        if (sv->kind->own_group)
            kill(-k->pid, SIGKILL);
        kill(k->pid, SIGKILL);
        k->killed = true;
        return;
    }
    while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(k->conn);
    sv->kids[i] = sv->kids[--sv->nkids];
}

int dm_zygote_serve(const char *socket_path_, const struct dm_zygote_kind *kind)
{
    struct server sv = {.kind = kind, .listener = -1, .sfd = -1};
    sigset_t chld;

    if (kind->nfds < 1 || kind->nfds > DM_WIRE_MAX_FDS)
        return 2;
    /* a process with threads must not fork: what it serves would run
     * with the other threads' locks held and their state half-made */
    if (count_threads() != 1) {
        fprintf(stderr, "duckmig: %s: more than one thread; not serving\n",
                kind->name);
        return 1;
    }
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &sv.old);
    sv.sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    sv.listener = listen_on(socket_path_);
    if (sv.sfd < 0 || sv.listener < 0) {
        fprintf(stderr, "duckmig: %s: cannot listen on %s: %s\n", kind->name,
                socket_path_, strerror(errno));
        goto out;
    }
    for (;;) {
        size_t np = 2 + sv.nkids;
        struct pollfd *np_ = realloc(sv.polls, np * sizeof(*sv.polls));
        if (!np_)
            goto out;
        sv.polls = np_;
        struct pollfd *polls = sv.polls;
        polls[0] = (struct pollfd){.fd = sv.listener, .events = POLLIN};
        polls[1] = (struct pollfd){.fd = sv.sfd, .events = POLLIN};
        for (size_t i = 0; i < sv.nkids; i++)
            polls[2 + i] = (struct pollfd){
                .fd = sv.kids[i].killed && !sv.kids[i].ended ? -1
                                                             : sv.kids[i].conn,
                .events = POLLIN};
        if (poll(polls, np, -1) < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        /* backwards: client_spoke may move the last child into i */
        for (size_t i = sv.nkids; i-- > 0;)
            if (polls[2 + i].revents && polls[2 + i].fd >= 0)
                client_spoke(&sv, i);
        if (polls[1].revents)
            children_ended(&sv);
        if (polls[0].revents) {
            int conn = accept4(sv.listener, NULL, NULL, SOCK_CLOEXEC);
            if (conn < 0)
                continue;
            if (sv.nkids == sv.cap) {
                size_t ncap = sv.cap ? sv.cap * 2 : 8;
                struct child *nk = realloc(sv.kids, ncap * sizeof(*sv.kids));
                if (!nk) {
                    close(conn);
                    continue;
                }
                sv.kids = nk;
                sv.cap = ncap;
            }
            pid_t pid = fork_child(&sv, conn);
            if (pid > 0)
                sv.kids[sv.nkids++] = (struct child){pid, conn, false, false};
            else
                close(conn);
        }
    }
out:
    if (sv.listener >= 0) {
        unlink(socket_path_);
        close(sv.listener);
    }
    if (sv.sfd >= 0)
        close(sv.sfd);
    for (size_t i = 0; i < sv.nkids; i++)
        close(sv.kids[i].conn);
    free(sv.kids);
    free(sv.polls);
    return 1;
}

int dm_engine_zygote_main(int argc, char **argv)
{
    struct dm_duckdb_api api;
    struct dm_error err = DM_ERROR_INIT;
    int major, minor, patch;

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
    if (count_threads() == 1)
        learn_builtins(&api);
    char name[64];
    snprintf(name, sizeof(name), "zygote %s", argv[1]);
    struct engine_kind ek = {&api, argv[1], argv[2]};
    struct dm_zygote_kind kind = {.name = name,
                                  .nfds = 1,
                                  .own_group = false,
                                  .accepts = engine_accepts,
                                  .become = become_worker,
                                  .ud = &ek};
    int status = dm_zygote_serve(argv[3], &kind);
    dm_duckdb_api_unload(&api);
    return status;
}
