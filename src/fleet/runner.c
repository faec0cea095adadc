/* runner.c - a job in a child process (see runner.h). */
#include "fleet/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/zygote.h"
#include "fleet/jobzygote.h"
#include "util/log.h"
#include "util/settings.h"
#include "util/str.h"
#include "util/tmpdir.h"

/* The outcome of a job that could not start, as the child would print it. */
static char *not_started(const struct dm_error *err)
{
    struct dm_job_outcome o;
    memset(&o, 0, sizeof(o));
    o.status = DM_STATUS_FAILED;
    o.code = err->code;
    o.permanent = dm_code_permanent(err->code);
    snprintf(o.error, sizeof(o.error), "%s", err->msg);
    json_t *j = dm_job_outcome_json(&o);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* A value as JSON: a string, or {"hex": "..."} for one that is not
 * UTF-8 (a local folder's name may hold any byte but '/' and NUL). */
static json_t *value_json(const char *value)
{
    json_t *s = json_string(value);
    if (s)
        return s;
    size_t n = strlen(value);
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return NULL;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)value[i]);
    json_t *o = json_pack("{s:s}", "hex", hex);
    free(hex);
    return o;
}

/* The bytes value_json(v) stood for, in a new string; NULL when j is
 * neither form. */
static char *value_from_json(json_t *j)
{
    if (json_is_string(j))
        return strdup(json_string_value(j));
    const char *hex = json_string_value(json_object_get(j, "hex"));
    if (!hex || strlen(hex) % 2)
        return NULL;
    size_t n = strlen(hex);
    char *v = malloc(n / 2 + 1);
    for (size_t i = 0; v && i < n / 2; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1 || b == 0) {
            free(v);
            return NULL;
        }
        v[i] = (char)b;
    }
    if (v)
        v[n / 2] = '\0';
    return v;
}

struct overrides {
    json_t *obj;
    bool failed;
};

static void add_override(const char *name, const char *value, void *ud)
{
    struct overrides *o = ud;
    if (json_object_set_new(o->obj, name, value_json(value)) != 0)
        o->failed = true;
}

/*
 * What the child reads on its stdin: {"settings": {NAME: VALUE, ...},
 * "message": "..."}. The settings are this process's overrides (an
 * option such as batch --to, a local folder as the EFS root, where the
 * zygotes listen): the environment the child inherits does not hold
 * them. The message goes as a string, so that its bytes reach the
 * child's parser as they came.
 */
static char *child_input(const struct dm_job_run *r, struct dm_error *err)
{
    json_t *settings = json_object();
    json_t *doc = json_object();
    json_t *msg = json_stringn(r->body, r->len);
    char *s = NULL;
    if (!settings || !doc) {
        dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!msg) {
        dm_fail(err, DM_ERR_USAGE, "the message is not UTF-8 text");
        goto out;
    }
    struct overrides ov = {settings, false};
    dm_settings_each_override(add_override, &ov);
    if (ov.failed) {
        dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    json_object_set_new(doc, "settings", settings);
    json_object_set_new(doc, "message", msg);
    settings = msg = NULL;
    s = json_dumps(doc, JSON_COMPACT);
    if (!s)
        dm_fail(err, DM_ERR_NOMEM, "out of memory");
out:
    json_decref(msg);
    json_decref(doc);
    json_decref(settings);
    return s;
}

/* The child's side of child_input: the overrides applied, the message
 * returned (a new buffer, its length in *len). */
static char *read_input(const char *in, size_t in_len, size_t *len,
                        struct dm_error *err)
{
    json_error_t jerr;
    char *body = NULL;
    json_t *doc = json_loadb(in, in_len, 0, &jerr);
    json_t *msg = json_object_get(doc, "message");
    json_t *settings = json_object_get(doc, "settings");
    if (!json_is_string(msg) || (settings && !json_is_object(settings))) {
        dm_fail(err, DM_ERR_PROTOCOL,
                "a job's input is {\"settings\": {...}, \"message\": "
                "\"...\"}");
        goto out;
    }
    const char *name;
    json_t *value;
    json_object_foreach(settings, name, value)
    {
        enum dm_setting_id id;
        char *v = value_from_json(value);
        if (!dm_setting_find(name, &id) || !v) {
            free(v);
            dm_fail(err, DM_ERR_PROTOCOL, "a job's input: no setting %s", name);
            goto out;
        }
        enum dm_code orc = dm_setting_override(id, v, err);
        free(v);
        if (orc)
            goto out;
    }
    *len = json_string_length(msg);
    body = malloc(*len + 1);
    if (!body) {
        dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(body, json_string_value(msg), *len + 1);
out:
    json_decref(doc);
    return body;
}

/* The child's stderr, relayed a whole line at a time. */
struct log_relay {
    char line[4096];
    size_t len;
};

static void relay_flush(struct dm_job_run *r, struct log_relay *l)
{
    if (!l->len)
        return;
    if (l->line[l->len - 1] != '\n')
        l->line[l->len++] = '\n';
    l->line[l->len] = '\0';
    r->on_log(l->line, r->log_ud);
    l->len = 0;
}

static void relay(struct dm_job_run *r, struct log_relay *l, const char *buf,
                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        l->line[l->len++] = buf[i];
        /* room for a '\n' and the NUL that relay_flush may add */
        if (buf[i] == '\n' || l->len == sizeof(l->line) - 2)
            relay_flush(r, l);
    }
}

/* Read the child's stdout into mem, and its stderr (errfd, or -1) line
 * by line to r->on_log, until both end. */
static void read_child(struct dm_job_run *r, int outfd, int errfd, FILE *mem)
{
    struct log_relay l;
    struct pollfd fds[2] = {{outfd, POLLIN, 0}, {errfd, POLLIN, 0}};
    char buf[4096];
    l.len = 0;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                fds[i].fd = -1; /* poll skips it from now on */
                continue;
            }
            if (i == 0)
                fwrite(buf, 1, (size_t)n, mem);
            else
                relay(r, &l, buf, (size_t)n);
        }
    }
    if (errfd >= 0)
        relay_flush(r, &l);
}

void dm_job_run_child(struct dm_job_run *r)
{
    char *out = NULL, *dir = NULL, *input = NULL;
    size_t len = 0;
    FILE *mem = NULL;
    int in[2] = {-1, -1}, res[2] = {-1, -1}, errp[2] = {-1, -1}, lockfd = -1;
    int conn = -1; /* to the job zygote that forked the job */
    pid_t pid = -1;
    r->status = -1;
    if (r->download_root) {
        struct dm_error err = DM_ERROR_INIT;
        if (dm_tmpdir_create(r->download_root, "job-", &dir, &lockfd, &err)) {
            r->output = not_started(&err);
            return;
        }
    }
    struct dm_error ierr = DM_ERROR_INIT;
    input = child_input(r, &ierr);
    if (!input) {
        dm_tmpdir_remove(dir, lockfd);
        free(dir);
        r->output = not_started(&ierr);
        return;
    }
    size_t input_len = strlen(input);
    mem = open_memstream(&out, &len);
    if (!mem || pipe2(in, O_CLOEXEC) != 0 || pipe2(res, O_CLOEXEC) != 0 ||
        (r->on_log && pipe2(errp, O_CLOEXEC) != 0))
        goto done;
    /* forked by the job zygote when there is one: what follows is the
     * same either way, but for who reaps it */
    int fds[3] = {in[0], res[1], errp[1] >= 0 ? errp[1] : 2};
    if (!dir || !dm_job_zygote_fork(dir, fds, &pid, &conn)) {
        pid_t parent = getpid();
        pid = fork();
        if (pid == 0) {
            /* dies with its parent, even one killed with SIGKILL */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            setpgid(0, 0);
            dup2(in[0], 0);
            dup2(res[1], 1);
            if (errp[1] >= 0)
                dup2(errp[1], 2);
            execl("/proc/self/exe", "duckmig", "__job", dir, (char *)NULL);
            _exit(127);
        }
    }
    close(in[0]);
    close(res[1]);
    in[0] = res[1] = -1;
    if (errp[1] >= 0)
        close(errp[1]);
    errp[1] = -1;
    if (pid < 0)
        goto done;
    atomic_store(&r->pid, pid);
    for (size_t off = 0; off < input_len;) {
        ssize_t w = write(in[1], input + off, input_len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(in[1]);
    in[1] = -1;
    read_child(r, res[0], errp[0], mem);
    /*
     * Wait for the end without reaping, so that the pid stays the job's
     * while it is forgotten: a kill from another thread (dm_job_run_kill
     * signals the pid and its group directly, whichever process forked
     * it) can then never reach a process that got the pid again. A job
     * from the job zygote is its child, not ours: the zygote tells its
     * end (DONE, what waitpid says) and keeps it unreaped until we close
     * the connection (engine/zygote.c).
     */
    if (conn >= 0) {
        if (!dm_zygote_done(conn, &r->status)) {
            /* the zygote died, and its parent-death signal killed the
             * job unless it had ended: how, nobody can say */
            dm_warn("job", "the job zygote is gone: job %d's end is unknown",
                    (int)pid);
            r->status = -1;
        }
        atomic_store(&r->pid, 0);
        close(conn);
        conn = -1;
        goto done;
    }
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR)
        ;
    atomic_store(&r->pid, 0);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
        ;
done:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (res[i] >= 0)
            close(res[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    if (mem)
        fclose(mem);
    r->output = out;
    free(input);
    /* the job's files go with it, also when it was killed mid-way */
    dm_tmpdir_remove(dir, lockfd);
    free(dir);
}

void dm_job_run_kill(struct dm_job_run *r, int grace_ms)
{
    pid_t pid = atomic_load(&r->pid);
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    for (int waited = 0; waited < grace_ms; waited += 100) {
        if (atomic_load(&r->pid) != pid)
            break; /* ended, and reaped by dm_job_run_child */
        usleep(100000);
    }
    /* the job's engine workers, which may outlive it by a moment */
    kill(-pid, SIGKILL);
    if (atomic_load(&r->pid) == pid)
        kill(pid, SIGKILL);
}

void dm_job_run_outcome(const struct dm_job_run *r, struct dm_job_outcome *o)
{
    json_t *j = r->output ? json_loads(r->output, 0, NULL) : NULL;
    if (!j || dm_job_outcome_parse(j, o) != DM_OK) {
        memset(o, 0, sizeof(*o));
        o->status = DM_STATUS_FAILED;
        o->code = DM_ERR_PROTOCOL;
        snprintf(o->error, sizeof(o->error),
                 "the job process ended without an outcome (%s %d)",
                 r->status >= 0 && WIFSIGNALED(r->status) ? "signal" : "status",
                 r->status < 0            ? -1
                 : WIFSIGNALED(r->status) ? WTERMSIG(r->status)
                                          : WEXITSTATUS(r->status));
    }
    json_decref(j);
}

/* `duckmig __job [DIR]` (main.c): the message on stdin, the outcome JSON on
 * stdout; DIR is the job's folder, made (and removed) by the runner.
 * Without it (by hand), a folder of its own under BATCH_DOWNLOAD. */
int dm_job_child_main(int argc, char **argv)
{
    size_t in_len = 0, len = 0;
    char *input = dm_slurp(stdin, &in_len);
    char *body = NULL;
    char *own = NULL;
    int lockfd = -1;
    struct dm_job_spec job;
    struct dm_job_outcome o;
    struct dm_error err = DM_ERROR_INIT;
    memset(&o, 0, sizeof(o));
    enum dm_code rc = DM_OK;
    body = input ? read_input(input, in_len, &len, &err) : NULL;
    if (!input)
        rc = dm_fail(&err, DM_ERR_NOMEM, "out of memory");
    else if (!body)
        rc = err.code;
    if (!rc)
        rc = dm_job_parse(body, len, &job, &err);
    bool parsed = rc == DM_OK;
    if (!rc && argc < 2)
        rc = dm_tmpdir_create(dm_setting(DM_SET_BATCH_DOWNLOAD), "job-", &own,
                              &lockfd, &err);
    if (!rc) {
        dm_job_run(&job, argc >= 2 ? argv[1] : own,
                   dm_setting(DM_SET_MIGRATE_VERSION), &o);
        dm_tmpdir_remove(own, lockfd);
        free(own);
    }
    if (parsed)
        dm_job_release(&job);
    if (rc) {
        o.status = DM_STATUS_FAILED;
        o.permanent = dm_code_permanent(err.code);
        o.code = err.code;
        snprintf(o.error, sizeof(o.error), "%s", err.msg);
    }
    json_t *j = dm_job_outcome_json(&o);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
    dm_job_outcome_release(&o);
    free(body);
    free(input);
    return 0;
}
